/**
 * `kubectl datapath endpoints` and `doctor` through the real CLI entry (src/cli/main.ts under
 * tsx), against the lab: a bpf-mode lab whose lxc veths, ifindexes and MACs are real kernel
 * devices, served by the lab API server; and a fake lab emulating Cilium 1.13 (CLI `cilium`
 * only, older status JSON) with monitor aggregation none.
 */
import { execFileSync, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { labDown, labUp, type UpResult } from './kernel/lab.js';
import { describeAsRoot } from './require-root.js';
import { useRunningLab, type FakeLab } from './api/fake-lab.js';
import type { KernelFacts } from './kernel/kernel-facts.js';
import type { ReportEndpoint } from '../../src/core/model/report.js';
import type { LabPod, LabState } from './state.js';

const REPO = join(dirname(new URL(import.meta.url).pathname), '..', '..');
const TSX = pathToFileURL(join(REPO, 'node_modules/tsx/dist/loader.mjs')).href;
const MAIN = join(REPO, 'src/cli/main.ts');

interface CliRun {
  code: number | null;
  stdout: string;
  stderr: string;
  ms: number;
}

/** Runs the plugin's CLI entry as a user would (argv after `kubectl datapath`). */
function datapath(args: string[], env: NodeJS.ProcessEnv = {}): Promise<CliRun> {
  const started = performance.now();
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', TSX, MAIN, ...args], { cwd: REPO, env: { ...process.env, NO_COLOR: '1', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr, ms: Math.round(performance.now() - started) }));
  });
}

interface Link {
  ifindex: number;
  address: string;
}

function link(netns: string, dev: string): Link {
  return (JSON.parse(execFileSync('ip', ['-n', netns, '-j', 'link', 'show', dev], { encoding: 'utf8' })) as Link[])[0];
}

/** An entry of `endpoints -o json`: the report's endpoint fields, then the agent and routing. */
interface EndpointJson extends ReportEndpoint {
  hostNetwork: boolean;
  source: string;
  monitorAggregation: string | null;
  agent: { pod: string; container: string; cli: string; version: string | null };
  routing: { hostRouting: string; network: string; source: string };
}

function pod(state: LabState, name: string): LabPod {
  const p = state.pods.find((x) => x.name === name);
  if (p === undefined) throw new Error(`no pod ${name} in the lab`);
  return p;
}

describeAsRoot('endpoints and doctor on a bpf-mode lab with real lxc devices', () => {
  let up: UpResult | undefined;
  let dir = '';
  let instance = '';
  let kubeconfig = '';

  beforeAll(async () => {
    dir = join(mkdtempSync(join(tmpdir(), 'dplab-endpoints-')), 'lab');
    instance = `e${randomBytes(3).toString('hex')}`;
    up = await labUp({ dir, instance, mode: 'bpf', tunnel: 'disabled', monitorAggregation: 'medium', api: true });
    if (up.apiUnavailable !== undefined || up.state.api === undefined) throw new Error(`lab API server missing: ${up.apiUnavailable}`);
    kubeconfig = up.state.api.kubeconfig;
    process.stderr.write(`bpf lab with API up in ${up.timings.total} s\n`);
  }, 90_000);

  afterAll(async () => {
    if (dir !== '') {
      await labDown({ dir, instance }).catch(() => undefined);
      rmSync(dirname(dir), { recursive: true, force: true });
    }
  }, 30_000);

  it('endpoints -o json gives the real lxc, ifindex and MACs of each pod, and its node agent and routing', async () => {
    const state = (up as UpResult).state;
    const r = await datapath(['endpoints', 'same', 'default/cni-6vf5d', 'web', '-o', 'json', '--kubeconfig', kubeconfig]);
    process.stderr.write(`endpoints for 3 pods on 2 nodes through the CLI: ${r.ms} ms\n`);
    expect({ code: r.code, stderr: r.stderr }).toEqual({ code: 0, stderr: '' });
    const doc = JSON.parse(r.stdout) as { schemaVersion: number; endpoints: EndpointJson[] };
    expect(doc.schemaVersion).toBe(1);
    expect(doc.endpoints.map((e) => e.pod)).toEqual(['default/same', 'default/cni-6vf5d', 'default/web']);
    for (const e of doc.endpoints) {
      const p = pod(state, e.pod.split('/')[1]);
      const node = state.nodes.find((n) => n.name === p.node);
      const lxc = link(node!.netns, p.lxc!.name);
      const eth0 = link(p.netns!, 'eth0');
      expect(e).toMatchObject({
        node: p.node,
        id: p.endpointId,
        identity: p.identity,
        ips: [p.ip],
        interface: p.lxc!.name,
        ifindex: lxc.ifindex,
        mac: eth0.address,
        hostMac: lxc.address,
        hostNetwork: false,
        source: 'cilium-endpoint',
        monitorAggregation: 'Medium',
        agent: { container: 'cilium-agent', cli: 'cilium-dbg', version: '1.16.5' },
        routing: { hostRouting: 'BPF', network: 'Native', source: 'cilium-dbg status -o json' },
      });
      expect(e.agent.pod).toBe(`kube-system/${state.pods.find((a) => a.namespace === 'kube-system' && a.node === p.node)!.name}`);
    }
  }, 60_000);

  it('resolves in process: time per pod with a cold and a warm agent cache, against the cost of one exec', async () => {
    const { loadKubeConfig } = await import('../../src/adapters/kube/config.js');
    const { createKubePort } = await import('../../src/adapters/kube/kube-port.js');
    const { createExecPort } = await import('../../src/adapters/kube/exec.js');
    const { EndpointResolver } = await import('../../src/app/resolve.js');
    const loaded = loadKubeConfig({ kubeconfig });
    const kube = createKubePort(loaded.kc, { namespace: 'default' });
    const exec = createExecPort(loaded.kc);
    const resolver = new EndpointResolver(kube, exec);
    const time = async <T>(run: () => Promise<T>): Promise<[T, number]> => {
      const t0 = performance.now();
      const value = await run();
      return [value, Math.round(performance.now() - t0)];
    };
    const [cold, coldMs] = await time(() => resolver.resolve({ namespace: 'default', name: 'same' }));
    const [warm, warmMs] = await time(() => resolver.resolve({ namespace: 'default', name: 'cni-6vf5d' }));
    const agent = cold.agent;
    const [, trueMs] = await time(() => exec.exec({ pod: agent, container: agent.container, argv: ['true'] }));
    const [, cliMs] = await time(() => exec.exec({ pod: agent, container: agent.container, argv: ['cilium-dbg', 'version'] }));
    process.stderr.write(
      `resolve: first pod on a node ${coldMs} ms (agent lookup + status + endpoint get), next pod ${warmMs} ms; one exec of true ${trueMs} ms, of the emulated cilium-dbg ${cliMs} ms\n`,
    );
    expect(warm.agent).toBe(cold.agent);
    expect([cold.id, warm.id]).toEqual([2836, 3663]);
    expect(warmMs).toBeLessThan(coldMs);
  }, 60_000);

  it('endpoints prints a table; a host-network pod is shown as the host; missing pods fail with one line', async () => {
    const state = (up as UpResult).state;
    const agent = state.pods.find((a) => a.namespace === 'kube-system' && a.node === 'bpf1')!;
    const table = await datapath(['endpoints', 'same', `kube-system/${agent.name}`, '--kubeconfig', kubeconfig]);
    expect(table.code).toBe(0);
    const lines = table.stdout.trimEnd().split('\n');
    expect(lines[0].split(/\s{2,}/)).toEqual(['POD', 'NODE', 'AGENT', 'ENDPOINT', 'IDENTITY', 'LXC', 'IFINDEX', 'POD MAC', 'HOST MAC', 'ROUTING']);
    const same = pod(state, 'same');
    expect(lines[1].split(/\s{2,}/)).toEqual([
      'default/same',
      'bpf1',
      agent.name,
      '2836',
      '31009',
      same.lxc!.name,
      String(link(state.nodes[0].netns, same.lxc!.name).ifindex),
      link(same.netns!, 'eth0').address,
      link(state.nodes[0].netns, same.lxc!.name).address,
      'BPF, native',
    ]);
    expect(lines[2].split(/\s{2,}/)).toEqual([`kube-system/${agent.name}`, 'bpf1', agent.name, 'host', '-', '-', '-', '-', '-', 'BPF, native']);

    const missing = await datapath(['endpoints', 'same', 'nope', '--kubeconfig', kubeconfig]);
    expect(missing.code).toBe(3);
    expect(missing.stderr).toBe('error: pod default/nope not found\n');
    const onlyMissing = await datapath(['endpoints', 'nope', '-n', 'kube-system', '--kubeconfig', kubeconfig]);
    expect({ code: onlyMissing.code, stdout: onlyMissing.stdout, stderr: onlyMissing.stderr }).toEqual({ code: 4, stdout: '', stderr: 'error: pod kube-system/nope not found\n' });
    const bad = await datapath(['endpoints', 'a/b/c', '--kubeconfig', kubeconfig]);
    expect({ code: bad.code, stderr: bad.stderr }).toEqual({ code: 2, stderr: 'error: "a/b/c" is not a pod: expected NAME or NAMESPACE/NAME (lower-case letters, digits, \'-\' and \'.\')\n' });
  }, 60_000);

  it('says clearly when a pod has no CiliumEndpoint', async () => {
    const { loadKubeConfig } = await import('../../src/adapters/kube/config.js');
    const { createKubePort } = await import('../../src/adapters/kube/kube-port.js');
    const loaded = loadKubeConfig({ kubeconfig });
    const kube = createKubePort(loaded.kc, { namespace: 'default' });
    // The lab gives API-created pods no network of their own: Cilium does not manage this one.
    await kube.createPod({ namespace: 'default', name: 'unmanaged', node: 'bpf2', image: 'nicolaka/netshoot:v0.13', labels: {}, activeDeadlineSeconds: 120, capabilities: [], privileged: false, hostNetwork: false, hostPID: false });
    try {
      const r = await datapath(['endpoints', 'unmanaged', '--kubeconfig', kubeconfig]);
      const agent = (up as UpResult).state.pods.find((a) => a.namespace === 'kube-system' && a.node === 'bpf2')!;
      expect({ code: r.code, stderr: r.stderr }).toEqual({
        code: 4,
        stderr: `error: pod default/unmanaged has no CiliumEndpoint, and the agent kube-system/${agent.name} on node bpf2 lists no endpoint for it: is Cilium managing it? (pods started before Cilium keep an unmanaged network until restarted)\n`,
      });
    } finally {
      await kube.deletePod({ namespace: 'default', name: 'unmanaged' });
    }
  }, 60_000);

  it('doctor: every permission, Cilium and its CLI, routing, monitor aggregation, kernel and BTF, Pod Security; warnings exit 0', async () => {
    const r = await datapath(['doctor', '--kubeconfig', kubeconfig]);
    process.stderr.write(`doctor on 2 nodes through the CLI: ${r.ms} ms\n${r.stdout}`);
    expect({ code: r.code, stderr: r.stderr }).toEqual({ code: 0, stderr: '' });
    const lines = r.stdout.trimEnd().split('\n');
    const rows = lines.slice(0, -1).map((l) => l.split(/\s{2,}/));
    expect(rows.filter((c) => c[1] === 'rbac').every((c) => c[0] === 'PASS')).toBe(true);
    expect(rows.filter((c) => c[1] === 'rbac').map((c) => c[2])).toContain('create pods/exec in kube-system');
    const state = (up as UpResult).state;
    for (const node of ['bpf1', 'bpf2']) {
      const agent = state.pods.find((a) => a.namespace === 'kube-system' && a.node === node)!;
      const of = (check: string) => rows.find((c) => c[1] === check && c[2] === node);
      expect(of('cilium')).toEqual(['PASS', 'cilium', node, `Cilium 1.16.5, agent kube-system/${agent.name}, CLI cilium-dbg`]);
      expect(of('routing')?.slice(0, 3)).toEqual(['PASS', 'routing', node]);
      expect(of('routing')?.[3]).toMatch(/^host routing BPF .*, native routing, kube-proxy replacement True$/);
      expect(of('monitor')?.slice(0, 3)).toEqual(['WARN', 'monitor', node]);
      expect(of('monitor')?.[3]).toMatch(/^monitor aggregation Medium: per-packet monitor events will be missing/);
      expect(of('kernel')).toEqual(['PASS', 'kernel', node, `kernel ${state.nodes[0].kernel}, BTF /sys/kernel/btf/vmlinux present: pwru can run`]);
      // The check ran for real: this machine has BTF.
      expect(statSync('/sys/kernel/btf/vmlinux').isFile()).toBe(true);
    }
    expect(rows.find((c) => c[1] === 'pod-security')).toEqual(['PASS', 'pod-security', 'default', 'no Pod Security level enforced: hostNetwork/hostPID probe pods are admitted']);
    expect(lines[lines.length - 1]).toBe('no failures, 2 warnings: a trace runs, with the gaps above');
  }, 60_000);

  it('doctor with a token that may not exec or create pods: fails those checks and exits 1', async () => {
    const r = await datapath(['doctor', '--kubeconfig', kubeconfig, '--context', 'lab-noexec', '--node', 'bpf1', '-o', 'json']);
    expect(r.code).toBe(1);
    const doc = JSON.parse(r.stdout) as { result: string; checks: { check: string; scope: string; level: string; detail: string }[] };
    expect(doc.result).toBe('fail');
    const level = (check: string, scope: string) => doc.checks.find((c) => c.check === check && c.scope === scope)?.level;
    expect(level('rbac', 'get pods in default')).toBe('pass');
    expect(level('rbac', 'create pods/exec in kube-system')).toBe('fail');
    expect(level('rbac', 'create pods/exec in default')).toBe('fail');
    expect(level('rbac', 'create pods in default')).toBe('fail');
    const cilium = doc.checks.find((c) => c.check === 'cilium' && c.scope === 'bpf1');
    expect(cilium?.level).toBe('fail');
    expect(cilium?.detail).toBe(
      'forbidden: user "lab-noexec" may not create pods/exec in namespace "kube-system"; add {apiGroups: [""], resources: ["pods/exec"], verbs: ["create"]} to a Role in namespace "kube-system" (or a ClusterRole) bound to you (see docs/rbac.yaml)',
    );
  }, 60_000);
});

function kernelFacts(lab: FakeLab, aggregation: KernelFacts['monitorAggregation']): KernelFacts {
  const ifindex = (ns: string, dev: string) => link(ns, dev).ifindex;
  const inode = (ns: string) => statSync(`/run/netns/${ns}`).ino;
  const node = (ns: string, hostEndpointId: number) => ({ hostEndpointId, underlayIfindex: ifindex(ns, 'eth0'), ciliumHostIfindex: ifindex(ns, 'lo'), netnsInode: inode(ns), agentPid: 0 });
  return {
    instance: 'endpoints-113',
    monitorAggregation: aggregation,
    nodes: { bpf1: node(lab.netns.bpf1, 1204), bpf2: node(lab.netns.bpf2, 871) },
    pods: { 'default/same': { netnsInode: inode(lab.netns.same) }, 'default/cni-6vf5d': { netnsInode: inode(lab.netns.cni) } },
  };
}

describeAsRoot('endpoints and doctor on an emulated Cilium 1.13 (CLI named cilium)', () => {
  const t = useRunningLab((lab) => {
    lab.state.ciliumVersion = '1.13.10';
    writeFileSync(lab.statePath, `${JSON.stringify(lab.state, null, 2)}\n`);
    writeFileSync(join(lab.state.dir, 'kernel.json'), JSON.stringify(kernelFacts(lab, 'none')));
  });

  it('falls back to the cilium CLI, reads the older status shape, and sees aggregation none', async () => {
    const r = await datapath(['endpoints', 'same', '-o', 'json', '--kubeconfig', t.api.kubeconfig]);
    expect({ code: r.code, stderr: r.stderr }).toEqual({ code: 0, stderr: '' });
    const [e] = (JSON.parse(r.stdout) as { endpoints: EndpointJson[] }).endpoints;
    const same = t.lab.state.pods[0];
    expect(e).toMatchObject({
      pod: 'default/same',
      id: 2836,
      identity: 31009,
      interface: same.lxc!.name,
      ifindex: same.lxc!.ifindex,
      hostMac: same.lxc!.mac,
      mac: same.mac,
      monitorAggregation: 'None',
      agent: { cli: 'cilium', version: '1.13.10' },
      // 1.13 status JSON has host-routing.mode and no inter-host routing.
      routing: { hostRouting: 'BPF', network: 'unknown', source: 'cilium status -o json' },
    });
    const d = await datapath(['doctor', '--kubeconfig', t.api.kubeconfig, '--node', 'bpf2', '-o', 'json']);
    expect(d.code).toBe(0);
    const checks = (JSON.parse(d.stdout) as { checks: { check: string; level: string; detail: string }[] }).checks;
    expect(checks.find((c) => c.check === 'cilium')?.detail).toMatch(/^Cilium 1\.13\.10, agent kube-system\/cilium-\w+, CLI cilium$/);
    expect(checks.find((c) => c.check === 'monitor')).toMatchObject({ level: 'pass', detail: 'monitor aggregation None: cilium monitor reports every packet' });
    expect(checks.filter((c) => c.level !== 'pass')).toEqual([]);
  }, 60_000);
});
