/**
 * @kubernetes/client-node 1.4 against the lab API server: typed lists with selectors, custom
 * objects, watch of a created probe pod through its whole life, exec with exit codes and stdin,
 * deadlines, RBAC denials, and the raw WebSocket protocol (v4, SPDY refusal) it relies on.
 */
import {
  ApiException,
  AuthorizationV1Api,
  CoreV1Api,
  CustomObjectsApi,
  Exec,
  KubeConfig,
  Watch,
  type V1Pod,
  type V1Status,
} from '@kubernetes/client-node';
import { readFileSync } from 'node:fs';
import { request } from 'node:https';
import { PassThrough, Readable } from 'node:stream';
import WebSocket from 'ws';
import type { LabApi } from '../state.js';
import { describeAsRoot } from '../require-root.js';
import { dead, findLabProcess, until, useRunningLab, type FakeLab } from './fake-lab.js';

interface ExecResult {
  status: V1Status;
  stdout: string;
  stderr: string;
}

function collect(stream: PassThrough): () => string {
  let text = '';
  stream.on('data', (c: Buffer) => (text += c.toString()));
  return () => text;
}

describeAsRoot('lab API server with @kubernetes/client-node 1.4', () => {
  let lab: FakeLab;
  let api: LabApi;
  let kc: KubeConfig;
  let core: CoreV1Api;

  function configFor(context: 'lab-admin' | 'lab-noexec'): KubeConfig {
    const k = new KubeConfig();
    k.loadFromFile(api.kubeconfig);
    k.setCurrentContext(context);
    return k;
  }

  /** Runs a command through client-node's Exec and resolves with the status it reports. */
  function execAndWait(pod: string, container: string, command: string[], stdin: Readable | null = null, namespace = 'default'): Promise<ExecResult> {
    const stdout = new PassThrough();
    const stderr = new PassThrough();
    const out = collect(stdout);
    const err = collect(stderr);
    return new Promise((resolve, reject) => {
      new Exec(kc)
        .exec(namespace, pod, container, command, stdout, stderr, stdin, false, (status) => {
          // Give the stream writes of the same message loop turn a moment to land.
          setImmediate(() => resolve({ status, stdout: out(), stderr: err() }));
        })
        .catch(reject);
    });
  }

  function exitCode(status: V1Status): number {
    if (status.status === 'Success') return 0;
    return Number(status.details?.causes?.find((c) => c.reason === 'ExitCode')?.message);
  }

  const findProcess = (argv: string[]): number | undefined => findLabProcess(lab.statePath, argv);

  /** Polls the pod until its phase is the one wanted; returns the pod. */
  async function phase(name: string, wanted: string): Promise<V1Pod> {
    let pod: V1Pod | undefined;
    for (let i = 0; i < 400; i++) {
      pod = await core.readNamespacedPod({ name, namespace: 'default' });
      if (pod.status?.phase === wanted) return pod;
      await new Promise((r) => setTimeout(r, 25));
    }
    throw new Error(`${name} never reached ${wanted} (last ${pod?.status?.phase})`);
  }

  const probePod = (name: string, extra: Partial<V1Pod['spec']> = {}): V1Pod => ({
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, labels: { 'app.kubernetes.io/managed-by': 'kubectl-datapath', 'kubectl-datapath/run': 'test' } },
    spec: {
      nodeName: 'bpf1',
      hostNetwork: true,
      hostPID: true,
      restartPolicy: 'Never',
      tolerations: [{ operator: 'Exists' }],
      containers: [
        {
          name: 'probe',
          image: 'nicolaka/netshoot:v0.13',
          command: ['sleep', '3600'],
          securityContext: { capabilities: { add: ['NET_ADMIN', 'NET_RAW', 'SYS_ADMIN', 'SYS_PTRACE', 'BPF', 'PERFMON'] } },
        },
      ],
      ...extra,
    },
  });

  const t = useRunningLab();
  beforeAll(() => {
    lab = t.lab;
    api = t.api;
    kc = configFor('lab-admin');
    core = kc.makeApiClient(CoreV1Api);
  });

  it('lists the agent of a node with label and field selectors', async () => {
    const list = await core.listNamespacedPod({ namespace: 'kube-system', labelSelector: 'k8s-app=cilium', fieldSelector: 'spec.nodeName=bpf1' });
    expect(list.items).toHaveLength(1);
    const agent = list.items[0];
    expect(agent.spec?.containers.map((c) => [c.name, c.image])).toEqual([['cilium-agent', 'quay.io/cilium/cilium:v1.16.5']]);
    expect(agent.spec?.hostNetwork).toBe(true);
    expect(agent.status?.podIP).toBe('192.168.2.61');
    expect(agent.metadata?.creationTimestamp).toBeInstanceOf(Date);
  });

  it('finds a pod by IP across namespaces, and the nodes with their addresses', async () => {
    const byIp = await core.listPodForAllNamespaces({ fieldSelector: 'status.podIP=10.0.1.180' });
    expect(byIp.items.map((p) => `${p.metadata?.namespace}/${p.metadata?.name}`)).toEqual(['default/cni-6vf5d']);
    const nodes = await core.listNode();
    expect(nodes.items.map((n) => [n.metadata?.name, n.status?.addresses?.find((a) => a.type === 'InternalIP')?.address, n.spec?.podCIDR])).toEqual([
      ['bpf1', '192.168.2.61', '10.0.1.0/24'],
      ['bpf2', '192.168.2.62', '10.0.2.0/24'],
    ]);
  });

  it('reads CiliumEndpoints as custom objects', async () => {
    const co = kc.makeApiClient(CustomObjectsApi);
    const cep = await co.getNamespacedCustomObject({ group: 'cilium.io', version: 'v2', namespace: 'default', plural: 'ciliumendpoints', name: 'same' });
    expect(cep.status).toMatchObject({ id: 2836, identity: { id: 31009 }, state: 'ready', networking: { addressing: [{ ipv4: '10.0.1.135' }], node: '192.168.2.61' } });
    const all = await co.listCustomObjectForAllNamespaces({ group: 'cilium.io', version: 'v2', plural: 'ciliumendpoints' });
    expect((all.items as { metadata: { name: string } }[]).map((i) => i.metadata.name)).toEqual(['cni-6vf5d', 'same']);
    const one = await co.listNamespacedCustomObject({ group: 'cilium.io', version: 'v2', namespace: 'default', plural: 'ciliumendpoints', fieldSelector: 'metadata.name=cni-6vf5d' });
    expect(one.items).toHaveLength(1);
  });

  it('execs with stdout and the exit code in the status callback', async () => {
    const ok = await execAndWait('same', 'same', ['sh', '-c', 'echo hi; echo oops >&2']);
    expect({ code: exitCode(ok.status), stdout: ok.stdout, stderr: ok.stderr }).toEqual({ code: 0, stdout: 'hi\n', stderr: 'oops\n' });
    const three = await execAndWait('same', 'same', ['sh', '-c', 'exit 3']);
    expect(three.status).toEqual({
      metadata: {},
      status: 'Failure',
      message: 'command terminated with non-zero exit code: command terminated with exit code 3',
      reason: 'NonZeroExitCode',
      details: { causes: [{ reason: 'ExitCode', message: '3' }] },
    });
    const ping = await execAndWait('same', 'same', ['ping', '-c', '1', '-W', '2', '10.0.1.180']);
    expect(exitCode(ping.status)).toBe(0);
  });

  it('sends stdin and closes it with the v5 CLOSE signal', async () => {
    const r = await execAndWait('same', 'same', ['sh', '-c', 'tr a-z A-Z; echo end'], Readable.from(['abc\n']));
    expect({ code: exitCode(r.status), stdout: r.stdout }).toEqual({ code: 0, stdout: 'ABC\nend\n' });
  });

  it('reports a command missing from the image as exit 127', async () => {
    const r = await execAndWait('cni-6vf5d', 'cni', ['tcpdump', '-i', 'eth0']);
    expect(exitCode(r.status)).toBe(127);
    expect(r.stderr).toBe('OCI runtime exec failed: exec failed: unable to start container process: exec: "tcpdump": executable file not found in $PATH: unknown\n');
  });

  it('watches a probe pod through ADDED (Pending), MODIFIED (Running) and DELETED, execing in its node namespace', async () => {
    const events: [string, string | undefined][] = [];
    const watch = new Watch(kc);
    const controller = await watch.watch(
      '/api/v1/namespaces/default/pods',
      { fieldSelector: 'metadata.name=probe-watch' },
      (type, obj: V1Pod) => events.push([type, obj.status?.phase]),
      () => undefined,
    );
    try {
      const created = await core.createNamespacedPod({ namespace: 'default', body: probePod('probe-watch', { activeDeadlineSeconds: 120 }) });
      expect(created.status?.phase).toBe('Pending');
      expect(created.spec?.containers[0].securityContext?.capabilities?.add).toContain('NET_ADMIN');
      await until('Running', () => (events.some(([, phase]) => phase === 'Running') ? true : undefined));

      // No volume: its /run/netns is empty; hostPID + SYS_PTRACE: the node init's holds the node's pods.
      const r = await execAndWait('probe-watch', 'probe', ['sh', '-c', `ls -A /run/netns; echo ---; ls /proc/1/root/run/netns; nsenter --net=/proc/1/root/run/netns/${lab.netns.same} ip -o -4 addr show eth0`]);
      expect(exitCode(r.status)).toBe(0);
      expect(r.stdout.startsWith('---\n')).toBe(true);
      expect(r.stdout).toContain(lab.netns.cni);
      expect(r.stdout).not.toContain(lab.netns.bpf1);
      expect(r.stdout).toContain('inet 10.0.1.135/24');

      await core.deleteNamespacedPod({ name: 'probe-watch', namespace: 'default', gracePeriodSeconds: 0 });
      await until('DELETED', () => (events.some(([type]) => type === 'DELETED') ? true : undefined));
    } finally {
      controller.abort();
    }
    expect(events.map(([type]) => type)).toEqual(['ADDED', 'MODIFIED', 'DELETED']);
    expect(events[0][1]).toBe('Pending');
    expect(events[1][1]).toBe('Running');
  });

  it('kills the pod exec processes when the pod is deleted', async () => {
    await core.createNamespacedPod({ namespace: 'default', body: probePod('probe-kill') });
    await phase('probe-kill', 'Running');
    const statuses: V1Status[] = [];
    await new Exec(kc).exec('default', 'probe-kill', 'probe', ['sh', '-c', 'sleep 310 & sleep 311'], new PassThrough(), new PassThrough(), null, false, (s) => statuses.push(s));
    const background = await until('the background sleep', () => findProcess(['sleep', '310']));
    const foreground = await until('the foreground sleep', () => findProcess(['sleep', '311']));
    await core.deleteNamespacedPod({ name: 'probe-kill', namespace: 'default' });
    // SIGKILL was sent before the DELETE answered; the kernel needs a moment to reap.
    await until('both sleeps to die', () => (dead(background) && dead(foreground) ? true : undefined), 1000);
    await until('the exec status', () => statuses[0]);
    expect(exitCode(statuses[0])).toBe(137);
  });

  it('fails a pod whose activeDeadlineSeconds passes, killing its processes', async () => {
    await core.createNamespacedPod({ namespace: 'default', body: probePod('probe-deadline', { activeDeadlineSeconds: 1 }) });
    await phase('probe-deadline', 'Running');
    const statuses: V1Status[] = [];
    await new Exec(kc).exec('default', 'probe-deadline', 'probe', ['sleep', '313'], new PassThrough(), new PassThrough(), null, false, (s) => statuses.push(s));
    const pid = await until('the sleep', () => findProcess(['sleep', '313']));
    const failed = await phase('probe-deadline', 'Failed');
    expect(failed.status).toMatchObject({ reason: 'DeadlineExceeded', message: 'Pod was active on the node longer than the specified deadline' });
    await until('the sleep to die', () => (dead(pid) ? true : undefined), 1000);
    await until('the exec status', () => statuses[0]);
    expect(exitCode(statuses[0])).toBe(137);
    const refused = await execAndWait('probe-deadline', 'probe', ['true']).catch((e: { message: string }) => e.message);
    expect(refused).toBe('Unexpected server response: 400');
    await core.deleteNamespacedPod({ name: 'probe-deadline', namespace: 'default' });
  }, 15_000);

  it('kills the command when the client closes the WebSocket early', async () => {
    const ws = await new Exec(kc).exec('default', 'same', 'same', ['sleep', '312'], new PassThrough(), new PassThrough(), null, false);
    const pid = await until('the sleep', () => findProcess(['sleep', '312']));
    ws.close();
    await until('the sleep to die', () => (dead(pid) ? true : undefined));
  });

  it('denies the token without rights: exec upgrade 403, create pod 403 with a Forbidden Status', async () => {
    const noexec = configFor('lab-noexec');
    await expect(
      new Exec(noexec).exec('default', 'same', 'same', ['true'], new PassThrough(), new PassThrough(), null, false),
    ).rejects.toMatchObject({ message: 'Unexpected server response: 403' });
    const denied = await noexec
      .makeApiClient(CoreV1Api)
      .createNamespacedPod({ namespace: 'default', body: probePod('nope') })
      .catch((e: unknown) => e);
    expect(denied).toBeInstanceOf(ApiException);
    const body = JSON.parse((denied as ApiException<string>).body);
    expect((denied as ApiException<string>).code).toBe(403);
    expect(body).toMatchObject({ kind: 'Status', reason: 'Forbidden', code: 403, details: { kind: 'pods' } });
    expect(body.message).toBe('pods is forbidden: User "lab-noexec" cannot create resource "pods" in API group "" in the namespace "default"');
  });

  it('answers SelfSubjectAccessReviews from the same rules', async () => {
    const review = (k: KubeConfig) =>
      k.makeApiClient(AuthorizationV1Api).createSelfSubjectAccessReview({
        body: { spec: { resourceAttributes: { namespace: 'kube-system', verb: 'create', resource: 'pods', subresource: 'exec' } } },
      });
    expect((await review(kc)).status?.allowed).toBe(true);
    expect((await review(configFor('lab-noexec'))).status?.allowed).toBe(false);
  });

  it('rejects an unknown token with 401', async () => {
    const bad = configFor('lab-admin');
    bad.users = bad.users.map((u) => ({ ...u, token: 'wrong' }));
    const e = await bad.makeApiClient(CoreV1Api).listNamespacedPod({ namespace: 'default' }).catch((x: unknown) => x);
    // client-node drops the body of a 401 and says "Unauthorized" itself.
    expect((e as ApiException<string>).code).toBe(401);
    expect((e as Error).message).toContain('Message: Unauthorized');
  });

  it('speaks v4 to a client that offers only v4: [1] first, output, status on channel 3, close 1000', async () => {
    const frames: number[][] = [];
    const url = `wss://127.0.0.1:${api.port}/api/v1/namespaces/default/pods/same/exec?command=sh&command=-c&command=printf%20x&stdout=true&stderr=true`;
    const ws = new WebSocket(url, ['v4.channel.k8s.io'], { ca: readFileSync(api.caFile), headers: { Authorization: `Bearer ${api.tokens.admin}` } });
    const closed = new Promise<number>((resolve) => ws.on('close', (code) => resolve(code)));
    ws.on('message', (data: Buffer, isBinary) => {
      expect(isBinary).toBe(true);
      frames.push([...data]);
    });
    expect(await closed).toBe(1000);
    expect(ws.protocol).toBe('v4.channel.k8s.io');
    expect(frames[0]).toEqual([1]);
    expect(frames[1]).toEqual([1, 'x'.charCodeAt(0)]);
    expect(Buffer.from(frames[2].slice(1)).toString()).toBe('{"metadata":{},"status":"Success"}');
    expect(frames[2][0]).toBe(3);
    expect(frames).toHaveLength(3);
  });

  it('refuses SPDY with 400', async () => {
    const code = await new Promise<number | undefined>((resolve, reject) => {
      const req = request({
        host: '127.0.0.1',
        port: api.port,
        method: 'POST',
        path: '/api/v1/namespaces/default/pods/same/exec?command=true&stdout=true',
        ca: readFileSync(api.caFile),
        headers: { Authorization: `Bearer ${api.tokens.admin}`, Connection: 'Upgrade', Upgrade: 'SPDY/3.1', 'X-Stream-Protocol-Version': 'v4.channel.k8s.io' },
      });
      req.on('response', (res) => resolve(res.statusCode));
      req.on('upgrade', () => reject(new Error('upgraded to SPDY')));
      req.on('error', reject);
      req.end();
    });
    expect(code).toBe(400);
  });
});
