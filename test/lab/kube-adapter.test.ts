/**
 * The cluster adapter (src/adapters/kube) against the lab API server: a real HTTPS API with
 * RBAC, watch, and exec whose commands really run in the lab's namespaces.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createKubePort } from '../../src/adapters/kube/kube-port.js';
import { createExecPort } from '../../src/adapters/kube/exec.js';
import { loadKubeConfig } from '../../src/adapters/kube/config.js';
import { AGENT_CONTAINER, type ExecPort, type KubePort, type ProbePodSpec } from '../../src/app/ports.js';
import { DatapathError, EXIT, ForbiddenError, NotFoundError } from '../../src/core/errors.js';
import { describeAsRoot } from './require-root.js';
import { dead, findLabProcess, until, useRunningLab } from './api/fake-lab.js';

function portsFor(kubeconfig: string, context: 'lab-admin' | 'lab-noexec'): { kube: KubePort; exec: ExecPort } {
  const loaded = loadKubeConfig({ kubeconfig, context });
  return { kube: createKubePort(loaded.kc, { namespace: loaded.namespace }), exec: createExecPort(loaded.kc) };
}

function probeSpec(name: string, extra: Partial<ProbePodSpec> = {}): ProbePodSpec {
  return {
    namespace: 'default',
    name,
    node: 'bpf1',
    image: 'nicolaka/netshoot:v0.13',
    labels: { 'app.kubernetes.io/managed-by': 'kubectl-datapath', 'kubectl-datapath/run': 'adapter-test' },
    activeDeadlineSeconds: 120,
    capabilities: ['NET_ADMIN', 'NET_RAW'],
    privileged: false,
    ...extra,
  };
}

async function failure(promise: Promise<unknown>): Promise<DatapathError> {
  const e = await promise.then(
    () => undefined,
    (x: unknown) => x,
  );
  if (!(e instanceof DatapathError)) throw new Error(`expected a DatapathError, got ${String(e)}`);
  return e;
}

describeAsRoot('cluster adapter against the lab API server', () => {
  const t = useRunningLab();
  let kube: KubePort;
  let exec: ExecPort;
  beforeAll(() => {
    ({ kube, exec } = portsFor(t.api.kubeconfig, 'lab-admin'));
  });

  it('reads a pod, lists pods by namespace and by field selector, and finds the agent of a node', async () => {
    const same = await kube.getPod({ namespace: 'default', name: 'same' });
    expect(same).toMatchObject({ namespace: 'default', name: 'same', node: 'bpf1', ips: ['10.0.1.135'], hostNetwork: false, phase: 'Running', labels: { run: 'same' } });
    expect(same.containers).toEqual([{ name: 'same', image: 'nicolaka/netshoot:v0.13' }]);
    expect(same.uid).toBe(t.lab.state.pods[0].uid);

    const names = (await kube.listPods('default', {})).map((p) => p.name).sort();
    expect(names).toEqual(['cni-6vf5d', 'same']);
    const byIp = await kube.listPods(undefined, { fieldSelector: 'status.podIP=10.0.1.180' });
    expect(byIp.map((p) => `${p.namespace}/${p.name}`)).toEqual(['default/cni-6vf5d']);

    const agent = await kube.findAgentPod('bpf1');
    expect(agent).toMatchObject({ namespace: 'kube-system', node: 'bpf1', phase: 'Running', hostNetwork: true });
    expect(agent.containers.map((c) => c.name)).toEqual([AGENT_CONTAINER]);
    expect((await kube.findAgentPod('bpf2')).name).not.toBe(agent.name);
    const none = await failure(kube.findAgentPod('nowhere'));
    expect(none).toBeInstanceOf(NotFoundError);
    expect(none.message).toBe('no Cilium agent pod on node nowhere (namespace kube-system, label k8s-app=cilium, container cilium-agent): is Cilium running there?');
  });

  it('reads nodes, CiliumEndpoints (undefined when a pod has none) and Pod Security labels', async () => {
    const node = await kube.getNode('bpf1');
    expect(node).toMatchObject({ name: 'bpf1', internalIp: '192.168.2.61', kernelVersion: t.lab.state.nodes[0].kernel });
    const cep = (await kube.getCiliumEndpoint({ namespace: 'default', name: 'same' })) as { status: { id: number; identity: { id: number } } };
    expect(cep.status.id).toBe(2836);
    expect(cep.status.identity.id).toBe(31009);
    const agent = await kube.findAgentPod('bpf1');
    expect(await kube.getCiliumEndpoint({ namespace: 'kube-system', name: agent.name })).toBeUndefined();
    // The lab's namespaces carry no pod-security label: no level is enforced.
    expect(await kube.podSecurityLevel('default')).toBeUndefined();
    const missing = await failure(kube.podSecurityLevel('no-such-ns'));
    expect(missing.message).toBe('namespace "no-such-ns" not found');
  });

  it('says a pod is missing in one line, exit code 4', async () => {
    const e = await failure(kube.getPod({ namespace: 'default', name: 'nope' }));
    expect(e).toBeInstanceOf(NotFoundError);
    expect(e.exitCode).toBe(EXIT.notFound);
    expect(e.message).toBe('pod default/nope not found');
  });

  it('creates a probe pod, waits until it runs, and deletes it (twice is fine)', async () => {
    const started = performance.now();
    const created = await kube.createPod(probeSpec('probe-adapter'));
    expect(created).toMatchObject({ name: 'probe-adapter', node: 'bpf1', phase: 'Pending', hostNetwork: true });
    const running = await kube.waitForRunning({ namespace: 'default', name: 'probe-adapter' }, 10_000);
    process.stderr.write(`probe pod created and Running in ${Math.round(performance.now() - started)} ms\n`);
    // From the watch event's raw JSON: the same view a read gives.
    expect(running).toEqual(await kube.getPod({ namespace: 'default', name: 'probe-adapter' }));
    expect(running).toMatchObject({ phase: 'Running', node: 'bpf1', hostNetwork: true, containers: [{ name: 'probe', image: expect.any(String) }] });
    const r = await exec.exec({ pod: running, container: 'probe', argv: ['ip', '-o', 'link', 'show', 'eth0'], collect: true });
    expect(r.exitCode).toBe(0);
    expect(r.stdout).toContain('eth0');
    await kube.deletePod({ namespace: 'default', name: 'probe-adapter' });
    await kube.deletePod({ namespace: 'default', name: 'probe-adapter' });
    expect((await failure(kube.getPod({ namespace: 'default', name: 'probe-adapter' }))).exitCode).toBe(EXIT.notFound);
    const again = await failure(kube.createPod(probeSpec('probe-adapter-dup')).then(() => kube.createPod(probeSpec('probe-adapter-dup'))));
    expect(again.message).toBe('cannot create pods in namespace "default": pods "probe-adapter-dup" already exists');
    await kube.deletePod({ namespace: 'default', name: 'probe-adapter-dup' });
  }, 20_000);

  it('gives up waiting with the reason the pod is stuck, and stops when canceled or deleted', async () => {
    // The lab runs API-created pods only with hostNetwork: this one stays Pending.
    await kube.createPod(probeSpec('probe-stuck', { hostNetwork: false }));
    const late = await failure(kube.waitForRunning({ namespace: 'default', name: 'probe-stuck' }, 700));
    expect(late.message).toMatch(/^pod default\/probe-stuck is not Running after 0\.7s \(Pending/);

    const abort = new AbortController();
    const waiting = failure(kube.waitForRunning({ namespace: 'default', name: 'probe-stuck' }, 10_000, abort.signal));
    setTimeout(() => abort.abort(), 200);
    const canceled = await waiting;
    expect(canceled.exitCode).toBe(EXIT.interrupted);

    // Watches that end (here after 1 s) are followed by a new list and watch until the time is up.
    const shortWatches = createKubePort(loadKubeConfig({ kubeconfig: t.api.kubeconfig }).kc, { namespace: 'default', watchTimeoutSeconds: 1 });
    const logBefore = readFileSync(join(t.lab.state.dir, 'api.log'), 'utf8').length;
    const relisted = await failure(shortWatches.waitForRunning({ namespace: 'default', name: 'probe-stuck' }, 2600));
    expect(relisted.message).toMatch(/^pod default\/probe-stuck is not Running after 2\.6s \(Pending/);
    const requests = readFileSync(join(t.lab.state.dir, 'api.log'), 'utf8').slice(logBefore).split('\n').filter((l) => l.includes('fieldSelector=metadata.name%3Dprobe-stuck'));
    expect(requests.filter((l) => !l.includes('watch=true')).length).toBeGreaterThanOrEqual(3);
    expect(requests.filter((l) => l.includes('watch=true') && l.includes('timeoutSeconds=1')).length).toBeGreaterThanOrEqual(2);

    const deleted = failure(kube.waitForRunning({ namespace: 'default', name: 'probe-stuck' }, 10_000));
    await new Promise((r) => setTimeout(r, 200));
    await kube.deletePod({ namespace: 'default', name: 'probe-stuck' });
    const gone = await deleted;
    expect(gone).toBeInstanceOf(NotFoundError);
    expect(gone.message).toMatch(/^pod default\/probe-stuck was deleted while we waited for it to run/);
  }, 20_000);

  it('execs argv and resolves after the command ended, with exit codes 0, 3 and 127', async () => {
    const chunks: string[] = [];
    const ok = await exec.exec({
      pod: { namespace: 'default', name: 'same' },
      container: 'same',
      argv: ['sh', '-c', 'echo one; sleep 0.2; echo two; echo err >&2'],
      collect: true,
      onStdout: (c) => chunks.push(Buffer.from(c).toString()),
    });
    expect({ exitCode: ok.exitCode, stdout: ok.stdout, stderr: ok.stderr, canceled: ok.canceled, error: ok.error }).toEqual({
      exitCode: 0,
      stdout: 'one\ntwo\n',
      stderr: 'err\n',
      canceled: false,
      error: undefined,
    });
    expect(chunks.join('')).toBe('one\ntwo\n');
    expect(ok.durationMs).toBeGreaterThanOrEqual(200);

    const three = await exec.exec({ pod: { namespace: 'default', name: 'same' }, container: 'same', argv: ['sh', '-c', 'exit 3'] });
    expect(three.exitCode).toBe(3);
    expect(three.commandNotFound).toBeUndefined();

    const missing = await exec.exec({ pod: { namespace: 'default', name: 'cni-6vf5d' }, container: 'cni', argv: ['tcpdump', '-i', 'eth0'], collect: true });
    expect(missing.exitCode).toBe(127);
    expect(missing.commandNotFound).toBe(true);
    expect(missing.stderr).toContain('"tcpdump": executable file not found in $PATH');
  });

  it('cancels: the socket closes, the result says canceled, and the remote process is gone', async () => {
    const pod = { namespace: 'default', name: 'same' };
    const abort = new AbortController();
    const running = exec.exec({ pod, container: 'same', argv: ['sleep', '31789'], signal: abort.signal });
    const pid = await until('the remote sleep', () => findLabProcess(t.lab.statePath, ['sleep', '31789']));
    const before = await exec.exec({ pod, container: 'same', argv: ['pgrep', '-x', '-f', 'sleep 31789'], collect: true });
    expect(before.exitCode).toBe(0);
    // pgrep in the container sees the container's own PID namespace: the pid there is the last of NSpid.
    const nsPid = /^NSpid:.*\s(\d+)$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1];
    expect(before.stdout.trim()).toBe(nsPid);
    const started = performance.now();
    abort.abort();
    const result = await running;
    process.stderr.write(`canceled exec resolved ${Math.round(performance.now() - started)} ms after abort\n`);
    expect(result).toMatchObject({ canceled: true, exitCode: null });
    await until('the sleep to die', () => (dead(pid) ? true : undefined));
    const after = await exec.exec({ pod, container: 'same', argv: ['pgrep', '-x', '-f', 'sleep 31789'] });
    expect(after.exitCode).toBe(1);
    // Canceled before it started: nothing runs at all.
    const early = await exec.exec({ pod, container: 'same', argv: ['sleep', '31790'], signal: AbortSignal.abort() });
    expect(early).toMatchObject({ canceled: true, exitCode: null });
  });

  it('reports a refused exec in one line naming pods/exec and the RBAC to add (403, exit 5)', async () => {
    const denied = portsFor(t.api.kubeconfig, 'lab-noexec');
    const r = await denied.exec.exec({ pod: { namespace: 'kube-system', name: (await kube.findAgentPod('bpf1')).name }, container: AGENT_CONTAINER, argv: ['cilium-dbg', 'version'] });
    expect(r.exitCode).toBeNull();
    expect(r.failure).toBeInstanceOf(ForbiddenError);
    expect(r.failure?.exitCode).toBe(EXIT.forbidden);
    expect(r.error).toBe(
      'forbidden: user "lab-noexec" may not create pods/exec in namespace "kube-system"; add {apiGroups: [""], resources: ["pods/exec"], verbs: ["create"]} to a Role in namespace "kube-system" (or a ClusterRole) bound to you (see docs/rbac.yaml)',
    );
    const create = await failure(denied.kube.createPod(probeSpec('probe-denied')));
    expect(create).toBeInstanceOf(ForbiddenError);
    expect(create.message).toMatch(/^forbidden: user "lab-noexec" may not create pods in namespace "default"; add \{apiGroups: \[""\], resources: \["pods"\], verbs: \["create"\]\}/);
    expect(await denied.kube.canI({ verb: 'create', resource: 'pods', subresource: 'exec', namespace: 'kube-system' })).toEqual({ allowed: false });
    expect((await kube.canI({ verb: 'create', resource: 'pods', subresource: 'exec', namespace: 'kube-system' })).allowed).toBe(true);
  });

  it('reports exec into a missing pod as not found (404, exit 4)', async () => {
    const r = await exec.exec({ pod: { namespace: 'default', name: 'nope' }, container: 'x', argv: ['true'] });
    expect(r.error).toBe('pod default/nope not found');
    expect(r.failure?.exitCode).toBe(EXIT.notFound);
  });

  it('says invalid credentials in one line (401)', async () => {
    const loaded = loadKubeConfig({ kubeconfig: t.api.kubeconfig });
    loaded.kc.users = loaded.kc.users.map((u) => ({ ...u, token: 'expired' }));
    const bad = createKubePort(loaded.kc, { namespace: 'default' });
    const e = await failure(bad.getPod({ namespace: 'default', name: 'same' }));
    expect(e.message).toBe(
      `the API server at https://127.0.0.1:${t.api.port} rejected our credentials (401 Unauthorized): the token or client certificate of the current context is invalid or expired; log in again or refresh the kubeconfig`,
    );
    const r = await createExecPort(loaded.kc).exec({ pod: { namespace: 'default', name: 'same' }, container: 'same', argv: ['true'] });
    expect(r.error).toBe(e.message);
  });
});
