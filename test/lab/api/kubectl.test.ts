/**
 * The real kubectl (gcloud's dispatcher running its built-in 1.32) against the lab API server, over
 * verified TLS, with exec running for real in namespaces this test builds.
 */
import { spawn } from 'node:child_process';
import { describeAsRoot } from '../require-root.js';
import { dead, findLabProcess, until, useRunningLab, type Run } from './fake-lab.js';

/** Rows of `kubectl get` output as column-name -> cell maps (columns are separated by 2+ spaces). */
function rows(output: string): Record<string, string>[] {
  const [header, ...lines] = output.trimEnd().split('\n');
  const starts = [0, ...[...header.matchAll(/ {2,}(?=\S)/g)].map((m) => (m.index ?? 0) + m[0].length)];
  const names = starts.map((s, i) => header.slice(s, starts[i + 1]).trim());
  return lines.map((line) => Object.fromEntries(names.map((n, i) => [n, line.slice(starts[i], starts[i + 1]).trim()])));
}

describeAsRoot('lab API server with real kubectl', () => {
  const t = useRunningLab();
  const run = (args: string[], input?: string): Promise<Run> => t.kubectl(args, input);

  it('gets the nodes with their addresses and versions', async () => {
    const r = await run(['get', 'nodes', '-o', 'wide']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const nodes = rows(r.stdout);
    expect(nodes.map((n) => [n.NAME, n.STATUS, n.ROLES, n.VERSION, n['INTERNAL-IP']])).toEqual([
      ['bpf1', 'Ready', 'control-plane', 'v1.32.4', '192.168.2.61'],
      ['bpf2', 'Ready', '<none>', 'v1.32.4', '192.168.2.62'],
    ]);
    expect(nodes[0]['CONTAINER-RUNTIME']).toBe('containerd://1.7.24');
    expect(nodes[0].AGE).toBe('19h');
  });

  it('lists pods of all namespaces with the IP and NODE columns right', async () => {
    const r = await run(['get', 'pods', '-A', '-o', 'wide']);
    expect(r.code).toBe(0);
    const pods = rows(r.stdout);
    const byName = new Map(pods.map((p) => [p.NAME, p]));
    expect(byName.get('same')).toMatchObject({ NAMESPACE: 'default', READY: '1/1', STATUS: 'Running', IP: '10.0.1.135', NODE: 'bpf1' });
    expect(byName.get('cni-6vf5d')).toMatchObject({ NAMESPACE: 'default', IP: '10.0.1.180', NODE: 'bpf1' });
    const agents = pods.filter((p) => p.NAMESPACE === 'kube-system' && p.NAME.startsWith('cilium-'));
    expect(agents.map((a) => [a.IP, a.NODE]).sort()).toEqual([
      ['192.168.2.61', 'bpf1'],
      ['192.168.2.62', 'bpf2'],
    ]);
  });

  it('selects the agent of a node by label and field selectors', async () => {
    const r = await run(['-n', 'kube-system', 'get', 'pods', '-l', 'k8s-app=cilium', '--field-selector', 'spec.nodeName=bpf2', '-o', 'name']);
    expect(r.code).toBe(0);
    expect(r.stdout.trim().split('\n')).toHaveLength(1);
    const bad = await run(['get', 'pods', '--field-selector', 'status.hostIP=1.2.3.4']);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain('field label not supported: status.hostIP');
  });

  it('gets CiliumEndpoints by short name with the CRD printer columns', async () => {
    const r = await run(['get', 'cep']);
    expect(r.code).toBe(0);
    expect(rows(r.stdout)).toEqual([
      { NAME: 'cni-6vf5d', 'SECURITY IDENTITY': '37483', 'ENDPOINT STATE': 'ready', IPV4: '10.0.1.180', IPV6: '' },
      { NAME: 'same', 'SECURITY IDENTITY': '31009', 'ENDPOINT STATE': 'ready', IPV4: '10.0.1.135', IPV6: '' },
    ]);
    const json = await run(['get', 'ciliumendpoint', 'same', '-o', 'json']);
    expect(JSON.parse(json.stdout).status).toMatchObject({ id: 2836, identity: { id: 31009 }, networking: { addressing: [{ ipv4: '10.0.1.135' }], node: '192.168.2.61' } });
  });

  it('execs ping from one pod namespace to the other (exit 0)', async () => {
    const r = await run(['exec', 'same', '--', 'ping', '-c', '1', '-W', '2', '10.0.1.180']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('1 packets transmitted, 1 received');
  });

  it('passes a non-zero exit code through', async () => {
    const r = await run(['exec', 'same', '--', 'sh', '-c', 'echo out; echo err >&2; exit 3']);
    expect(r.code).toBe(3);
    expect(r.stdout).toBe('out\n');
    expect(r.stderr).toBe('err\ncommand terminated with exit code 3\n');
  });

  it('fails a command the image lacks like a container runtime (127, executable file not found)', async () => {
    const direct = await run(['exec', 'cni-6vf5d', '--', 'tcpdump', '-c', '1']);
    expect(direct.code).toBe(127);
    expect(direct.stderr).toContain('exec: "tcpdump": executable file not found in $PATH');
    expect(direct.stderr).toContain('command terminated with exit code 127');
    const viaShell = await run(['exec', 'cni-6vf5d', '--', 'sh', '-c', 'ping -c 1 10.0.1.135']);
    expect(viaShell.code).toBe(127);
    expect(viaShell.stderr).toContain('ping: not found');
  });

  it('feeds stdin (-i) and ends it with the v5 close signal', async () => {
    const r = await run(['exec', '-i', 'same', '--', 'sh', '-c', 'cat; echo done'], 'line one\nline two\n');
    expect(r.code).toBe(0);
    expect(r.stdout).toBe('line one\nline two\ndone\n');
  });

  it('runs agent-pod commands in the node namespace with the agent image', async () => {
    const agent = (await run(['-n', 'kube-system', 'get', 'pods', '-l', 'k8s-app=cilium', '--field-selector', 'spec.nodeName=bpf1', '-o', 'name'])).stdout.trim();
    const r = await run(['-n', 'kube-system', 'exec', agent, '--', 'sh', '-c', 'ip -o -4 addr show eth0; command -v cilium-dbg; command -v cilium; command -v tcpdump || echo no tcpdump; ip netns list; echo "$LAB_NODE"']);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('inet 192.168.2.61/24');
    expect(r.stdout).toMatch(/\/cilium-dbg\n.*\/cilium\n/);
    expect(r.stdout).toContain('no tcpdump');
    // Cilium's agent container mounts no /run/netns: its view of it is empty.
    expect(r.stdout).not.toContain(t.lab.netns.same);
    expect(r.stdout.trim().endsWith('bpf1')).toBe(true);
  });

  it('serves the agent log', async () => {
    const agent = (await run(['-n', 'kube-system', 'get', 'pods', '-l', 'k8s-app=cilium', '--field-selector', 'spec.nodeName=bpf2', '-o', 'name'])).stdout.trim();
    const r = await run(['-n', 'kube-system', 'logs', agent, '--tail', '1']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^time="[^"]+" level=info msg="Daemon initialization completed" .*\n$/);
  });

  it('creates a hostNetwork probe pod, execs in its node namespace, and deletes it killing its execs', async () => {
    // As the plugin's capture pod (src/app/probe-pods.ts): hostNetwork, hostPID, NET_ADMIN, NET_RAW,
    // SYS_ADMIN (setns) and SYS_PTRACE (the node init's root), no volume.
    const overrides = JSON.stringify({
      apiVersion: 'v1',
      spec: { hostNetwork: true, hostPID: true, nodeName: 'bpf1', containers: [{ name: 'probe', image: 'nicolaka/netshoot:v0.13', command: ['sleep', '3600'], securityContext: { capabilities: { add: ['NET_ADMIN', 'NET_RAW', 'SYS_ADMIN', 'SYS_PTRACE'] } } }] },
    });
    const created = await run(['run', 'probe', '--image=nicolaka/netshoot:v0.13', '--restart=Never', `--overrides=${overrides}`]);
    expect(created.stdout).toBe('pod/probe created\n');
    const ready = await run(['wait', '--for=condition=Ready', 'pod/probe', '--timeout=10s']);
    expect(ready.code).toBe(0);

    // Confined as its spec asks: no volume, so the container's /run/netns is empty; hostPID, so
    // /proc/1 is the node's init and its /run/netns holds the node's pods (not bpf2's); the
    // capabilities a runtime gives by default plus those the spec adds, no more.
    const view = await run(['exec', 'probe', '--', 'sh', '-c', `ls -A /run/netns; echo ---; ls /proc/1/root/run/netns; echo ---; nsenter --net=/proc/1/root/run/netns/${t.lab.netns.cni} ip -o -4 addr show eth0; grep CapBnd /proc/self/status`]);
    expect(view.code).toBe(0);
    const [own, nodes, rest] = view.stdout.split('---\n');
    expect(own).toBe('');
    expect(nodes.trim().split('\n').sort()).toEqual([t.lab.netns.cni, t.lab.netns.same].sort());
    expect(rest).toContain('inet 10.0.1.180/24');
    // CHOWN DAC_OVERRIDE FOWNER FSETID KILL SETGID SETUID SETPCAP NET_BIND_SERVICE NET_RAW SYS_CHROOT MKNOD AUDIT_WRITE SETFCAP
    // + NET_ADMIN SYS_PTRACE SYS_ADMIN
    expect(rest).toMatch(/CapBnd:\s+00000000a82c35fb\n/);
    // A pod whose spec mounts the host's /run/netns sees the node's pods there.
    const withVolume = JSON.stringify({
      apiVersion: 'v1',
      spec: {
        hostNetwork: true, nodeName: 'bpf1', volumes: [{ name: 'netns', hostPath: { path: '/run/netns' } }],
        containers: [{ name: 'probe2', image: 'nicolaka/netshoot:v0.13', command: ['sleep', '3600'], volumeMounts: [{ name: 'netns', mountPath: '/run/netns' }], securityContext: { capabilities: { add: ['NET_ADMIN'] } } }],
      },
    });
    expect((await run(['run', 'probe2', '--image=nicolaka/netshoot:v0.13', '--restart=Never', `--overrides=${withVolume}`])).code).toBe(0);
    expect((await run(['wait', '--for=condition=Ready', 'pod/probe2', '--timeout=10s'])).code).toBe(0);
    const mounted = await run(['exec', 'probe2', '--', 'sh', '-c', 'ls /run/netns; echo ---; ls -A /proc/1/root/run/netns; tr "\\0" " " < /proc/1/cmdline; echo; grep CapBnd /proc/self/status']);
    const [named, init] = mounted.stdout.split('---\n');
    expect(named.trim().split('\n').sort()).toEqual([t.lab.netns.cni, t.lab.netns.same].sort());
    // No hostPID: PID 1 is the container's own init, whose /run/netns is the image's (empty).
    expect(init).toBe('sleep infinity \nCapBnd:\t00000000a80435fb\n');
    expect((await run(['delete', 'pod', 'probe2'])).code).toBe(0);

    // A long exec, then the pod's deletion: its process must die and kubectl exec must end.
    const execChild = spawn('/usr/bin/kubectl', ['exec', 'probe', '--', 'sleep', '300'], {
      env: { ...process.env, KUBECONFIG: t.api.kubeconfig, KUBECACHEDIR: t.cacheDir },
      stdio: 'ignore',
    });
    const execEnded = new Promise<number | null>((resolve) => execChild.on('close', resolve));
    const sleeper = await until('the exec\'d sleep', () => findLabProcess(t.lab.statePath, ['sleep', '300']));

    const deleted = await run(['delete', 'pod', 'probe']);
    expect(deleted.stdout).toBe('pod "probe" deleted\n');
    // SIGKILL went out before the DELETE answered; the kernel needs a moment to reap.
    await until('the sleep to die', () => (dead(sleeper) ? true : undefined), 1000);
    expect(await execEnded).toBe(137);
    const gone = await run(['get', 'pod', 'probe']);
    expect(gone.stderr).toBe('Error from server (NotFound): pods "probe" not found\n');
  }, 30_000);

  it('refuses exec to the token without rights, with a 403 kubectl prints as Forbidden', async () => {
    const r = await run(['--context', 'lab-noexec', 'exec', 'same', '--', 'true']);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(
      'Error from server (Forbidden): pods "same" is forbidden: User "lab-noexec" cannot create resource "pods/exec" in API group "" in the namespace "default"',
    );
    const list = await run(['--context', 'lab-noexec', 'get', 'pods', '-o', 'name']);
    expect(list.code).toBe(0);
    const create = await run(['--context', 'lab-noexec', 'run', 'x', '--image=busybox']);
    expect(create.stderr).toContain('pods is forbidden: User "lab-noexec" cannot create resource "pods" in API group "" in the namespace "default"');
  });

  it('answers kubectl auth can-i from the same RBAC model (protobuf SelfSubjectAccessReview)', async () => {
    expect(await run(['--context', 'lab-noexec', 'auth', 'can-i', 'create', 'pods/exec'])).toMatchObject({ code: 1, stdout: 'no\n' });
    expect(await run(['--context', 'lab-noexec', 'auth', 'can-i', 'list', 'ciliumendpoints.cilium.io'])).toMatchObject({ code: 0, stdout: 'yes\n' });
    expect(await run(['auth', 'can-i', 'create', 'pods/exec', '-n', 'kube-system'])).toMatchObject({ code: 0, stdout: 'yes\n' });
  });

  it('rejects a bad token with 401', async () => {
    const r = await run(['--token', 'not-a-lab-token', 'get', 'pods']);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('error: You must be logged in to the server (Unauthorized)');
  });
});
