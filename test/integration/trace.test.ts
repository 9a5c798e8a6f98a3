import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileCatalog } from '../../src/adapters/files.js';
import { analyze } from '../../src/app/analyze.js';
import { trace, type TraceProgress, type TraceRequest, type TraceSave } from '../../src/app/trace.js';
import type { HopReport } from '../../src/core/model/report.js';
import { FAKE_CLIENT, FAKE_SERVER, FakeCluster, type FakeClusterOptions } from '../helpers/fakes.js';
import { k8sObjectItems } from '../../src/app/k8s-objects.js';
import { ForbiddenError } from '../../src/core/errors.js';


function cluster(extra: Partial<FakeClusterOptions> = {}): FakeCluster {
  return new FakeCluster({ pods: [FAKE_CLIENT, FAKE_SERVER], nodes: [{ name: 'n1', internalIp: '192.168.0.1' }], readyDelayMs: { pwru: 150, monitor: 40 }, ...extra });
}

function request(extra: Partial<TraceRequest> = {}): TraceRequest {
  return {
    src: { namespace: 'default', name: 'client' },
    dst: { namespace: 'default', name: 'server' },
    probes: ['tcpdump', 'monitor', 'pwru'],
    traffic: { kind: 'icmp' },
    count: 2,
    durationS: 1,
    timeoutS: 30,
    maxPackets: 10,
    probeNamespace: 'kube-system',
    probeImage: 'nicolaka/netshoot',
    pwruImage: 'cilium/pwru',
    runId: 'run1',
    readyTimeoutS: 5,
    graceMs: 30,
    ...extra,
  };
}

function recorder(): TraceProgress & { steps: string[]; warnings: string[] } {
  const steps: string[] = [];
  const warnings: string[] = [];
  return { steps, warnings, step: (t) => steps.push(t), warn: (l) => warnings.push(l) };
}

function status(report: HopReport, id: string): string {
  const input = report.inputs.find((i) => i.name === id || i.name.startsWith(`${id}.`));
  if (!input) throw new Error(`no input ${id}: ${report.inputs.map((i) => i.name).join(', ')}`);
  return input.status;
}

/** Nothing left behind: every launched remote command was killed or ended, every probe pod deleted. */
function expectNothingLeft(c: FakeCluster): void {
  expect(c.exec.leftRunning().map((p) => `${p.pod} ${p.argv.join(' ')}`)).toEqual([]);
  expect(c.kube.probePods().map((p) => p.name)).toEqual([]);
  for (const [pod, rules] of c.rules) expect([pod, [...rules]]).toEqual([pod, []]);
}

const ICMP_FLOW = { srcIp: '10.99.0.1', dstIp: '10.99.0.2', protocol: 'icmp' };

describe('trace end to end on a fake cluster replaying real outputs', () => {
  it('starts every probe where it belongs, sends traffic only after all are ready, and reports what each saw', async () => {
    const c = cluster();
    const progress = recorder();
    const out = await trace(request(), { kube: c.kube, exec: c.exec, resolve: c.resolve }, progress, new AbortController().signal);

    expect(out.partial).toBe(false);
    expect(out.interrupted).toBe(false);
    const names = out.report.inputs.map((i) => `${i.name} ${i.point} ${i.status}`).sort();
    expect(names).toEqual([
      'monitor-n1.txt cilium:n1 ok',
      'pwru-n1.txt kernel:n1 ok',
      'tcpdump-host-n1-lxcda6f5295b4b7.pcap host:n1/lxcda6f5295b4b7 ok',
      'tcpdump-host-n1-lxcf9d0a91de5fb.pcap host:n1/lxcf9d0a91de5fb ok',
      'tcpdump-pod-default-client-eth0.pcap pod:default/client/eth0 ok',
      'tcpdump-pod-default-server-eth0.pcap pod:default/server/eth0 ok',
    ]);

    // Readiness gating: the traffic started after the last probe said it was ready.
    expect(c.readyAt).toHaveLength(6);
    expect(c.trafficAt).toHaveLength(1);
    expect(c.trafficAt[0].at).toBeGreaterThan(Math.max(...c.readyAt.map((r) => r.at)));
    expect(c.trafficAt[0]).toMatchObject({ pod: 'default/client', argv: ['ping', '-n', '-c', '2', '-i', '0.2', '-W', '1', '10.99.0.2'] });
    expect(progress.steps).toContain('ready 6/6');
    expect(progress.warnings).toEqual([]);

    // Pod-side captures entered the pod's netns found by its lxc ifindex and MAC; monitor related to this node's ids.
    const launched = c.exec.calls.filter((x) => x.argv[0] === 'sh' && x.argv[2].includes('exec "$@"'));
    const clientEth0 = launched.find((x) => x.argv.includes('--net=/run/netns/cni-1111'));
    expect(clientEth0?.pod).toMatch(/^kube-system\/datapath-run1-capture-/);
    const monitor = launched.find((x) => x.argv.includes('monitor'))!;
    expect(monitor.pod).toBe('kube-system/cilium-n1');
    expect(monitor.argv.slice(4)).toEqual(['timeout', '60', 'cilium-dbg', 'monitor', '-v', '--related-to', '2836', '--related-to', '3663']);

    const flow = out.report.flows.find((f) => f.srcIp === ICMP_FLOW.srcIp && f.dstIp === ICMP_FLOW.dstIp && f.direction === 'request')!;
    expect(flow).toBeDefined();
    expect(flow.src).toBe('10.99.0.1 (default/client)');
    expect(flow.seenAt).toEqual(expect.arrayContaining(['pod:default/client/eth0', 'host:n1/lxcda6f5295b4b7', 'host:n1/lxcf9d0a91de5fb', 'pod:default/server/eth0']));
    expect(flow.packets[0].hops.filter((h) => h.tool === 'pcap')).toHaveLength(4);
    // monitor and pwru outputs (the seed's ping between other pods) were parsed through the same path.
    expect(out.report.inputs.find((i) => i.name === 'monitor-n1.txt')!.understood).toBeGreaterThan(20);
    expect(out.report.inputs.find((i) => i.name === 'pwru-n1.txt')!.understood).toBeGreaterThan(20);
    expect(out.report.flows.some((f) => f.srcIp === '10.0.1.135' && f.seenAt.some((p) => p.startsWith('cilium:n1')))).toBe(true);

    expectNothingLeft(c);
    expect(c.kube.created.map((s) => [s.node, s.labels['kubectl-datapath/role'], s.activeDeadlineSeconds])).toEqual([
      ['n1', 'capture', 150],
      ['n1', 'pwru', 150],
    ]);
    // One stop command per container, naming the pidfiles of all its probes (the 4 captures in one).
    const stops = c.exec.calls.filter((x) => x.argv[0] === 'sh' && x.argv[2].includes('kill -TERM') && !x.argv[2].includes('for f in'));
    expect(stops.map((x) => [x.pod.replace(/-[a-z0-9]+$/, ''), x.argv.length - 3]).sort()).toEqual([
      ['kube-system/cilium', 1],
      ['kube-system/datapath-run1-capture', 4],
      ['kube-system/datapath-run1-pwru', 1],
    ]);
  });

  it('marks a probe that fails and keeps the others', async () => {
    const c = cluster({ failing: { pwru: { exitCode: 1, stderr: '2026/11/25 10:00:00 failed to load BTF spec: no such file or directory\n' } } });
    const out = await trace(request(), { kube: c.kube, exec: c.exec, resolve: c.resolve }, recorder(), new AbortController().signal);
    expect(out.partial).toBe(true);
    expect(status(out.report, 'pwru-n1')).toBe('failed: ended before it was ready: exit 1 in kube-system/datapath-run1-pwru-1 (probe): 2026/11/25 10:00:00 failed to load BTF spec: no such file or directory');
    expect(status(out.report, 'monitor-n1')).toBe('ok');
    expect(status(out.report, 'tcpdump-pod-default-server-eth0')).toBe('ok');
    expect(c.trafficAt).toHaveLength(1);
    const flow = out.report.flows.find((f) => f.srcIp === ICMP_FLOW.srcIp && f.direction === 'request')!;
    expect(flow.notObserved).toContain('kernel:n1');
    expectNothingLeft(c);
  });

  it('Ctrl-C while probes start: stops every started probe, deletes the probe pods, no traffic, partial report', async () => {
    const c = cluster({ readyDelayMs: { pwru: 2000 } });
    const abort = new AbortController();
    c.exec.onLaunch = (_pod, argv) => {
      if (argv[0] === 'pwru') setTimeout(() => abort.abort(), 50);
    };
    const out = await trace(request(), { kube: c.kube, exec: c.exec, resolve: c.resolve }, recorder(), abort.signal);
    expect(out.interrupted).toBe(true);
    expect(out.partial).toBe(true);
    expect(c.trafficAt).toEqual([]);
    expect(status(out.report, 'pwru-n1')).toBe('failed: stopped before it was ready');
    // Every long-running command got its stop command: one per container, naming its pidfile.
    const stops = c.exec.calls.filter((x) => x.argv[0] === 'sh' && x.argv[2].includes('kill -TERM') && !x.argv[2].includes('for f in'));
    const launched = c.exec.calls.filter((x) => x.argv[0] === 'sh' && x.argv[2].includes('exec "$@"'));
    expect(launched).toHaveLength(6);
    expect(stops.flatMap((x) => x.argv.slice(3)).sort()).toEqual(launched.map((x) => x.argv[3]).sort());
    expectNothingLeft(c);
    expect(out.report.warnings).toContain('interrupted (Ctrl-C): the report holds what was collected until then');
  });

  it('Ctrl-C during the traffic: the report keeps what was captured, nothing is left behind', async () => {
    const c = cluster();
    const abort = new AbortController();
    c.exec.on((pod, a) => pod === 'default/client' && a[0] === 'ping', async () => {
      c.trafficAt.push({ pod: 'default/client', argv: ['ping'], at: performance.now() });
      c.trafficSent();
      setTimeout(() => abort.abort(), 30);
      await new Promise((r) => setTimeout(r, 5000).unref());
      return { exitCode: 0 };
    });
    const started = Date.now();
    const out = await trace(request(), { kube: c.kube, exec: c.exec, resolve: c.resolve }, recorder(), abort.signal);
    expect(Date.now() - started).toBeLessThan(4000);
    expect(out.interrupted).toBe(true);
    const flow = out.report.flows.find((f) => f.srcIp === ICMP_FLOW.srcIp && f.direction === 'request');
    expect(flow?.seenAt).toContain('pod:default/server/eth0');
    expectNothingLeft(c);
  });

  it('forbidden probe pods: one warning, monitor-only trace, the missing points marked', async () => {
    const c = cluster();
    c.kube.forbidPods = 'pods "datapath-run1-capture-0" is forbidden: violates PodSecurity "baseline:latest": host namespaces (hostNetwork=true, hostPID=true)';
    const progress = recorder();
    const out = await trace(request(), { kube: c.kube, exec: c.exec, resolve: c.resolve }, progress, new AbortController().signal);
    expect(progress.warnings).toHaveLength(1);
    expect(progress.warnings[0]).toMatch(/^probe pods are not allowed in kube-system \(pods "datapath-run1-capture-0" is forbidden: violates PodSecurity .*\): tracing without them, with cilium monitor, tcpdump in the pods whose image has it$/);
    expect(status(out.report, 'monitor-n1')).toBe('ok');
    expect(status(out.report, 'pwru-n1')).toBe('skipped: probe pods are forbidden in kube-system');
    expect(status(out.report, 'tcpdump-host-n1-lxcda6f5295b4b7')).toBe('skipped: probe pods are forbidden in kube-system');
    expect(status(out.report, 'tcpdump-pod-default-client-eth0')).toBe('failed: ended before it was ready: tcpdump is not in the image of default/client (app)');
    expect(out.partial).toBe(true);
    // The client has ping: traffic went out by exec into it.
    expect(c.trafficAt.map((t) => t.pod)).toEqual(['default/client']);
    expect(c.kube.created).toEqual([]);
    expectNothingLeft(c);
  });

  it('iptables TRACE: rules inserted with the run comment, read by xtables-monitor, always removed', async () => {
    const c = cluster();
    let seenRules: string[] = [];
    c.exec.onLaunch = (_pod, argv) => {
      if (argv[0] === 'xtables-monitor') seenRules = [...(c.rules.get('kube-system/cilium-n1') ?? [])];
    };
    const out = await trace(request({ probes: ['monitor', 'iptables'] }), { kube: c.kube, exec: c.exec, resolve: c.resolve }, recorder(), new AbortController().signal);
    expect(seenRules.sort()).toEqual([
      'OUTPUT -s 10.99.0.1 -d 10.99.0.2 -m comment --comment datapath-run1 -j TRACE',
      'OUTPUT -s 10.99.0.2 -d 10.99.0.1 -m comment --comment datapath-run1 -j TRACE',
      'PREROUTING -s 10.99.0.1 -d 10.99.0.2 -m comment --comment datapath-run1 -j TRACE',
      'PREROUTING -s 10.99.0.2 -d 10.99.0.1 -m comment --comment datapath-run1 -j TRACE',
    ]);
    expect(status(out.report, 'iptables-n1')).toBe('ok');
    expect(out.report.inputs.find((i) => i.name === 'iptables-n1.txt')!.understood).toBeGreaterThan(5);
    expect(c.kube.created).toEqual([]);
    expectNothingLeft(c);
  });

  it('cross-node: tunnel and underlay captures on both nodes, each monitor related to its own node\'s endpoint', async () => {
    const c = new FakeCluster({
      pods: [FAKE_CLIENT, { ...FAKE_SERVER, node: 'n2' }],
      nodes: [
        { name: 'n1', internalIp: '192.168.0.1', tunnel: true, underlay: 'ens5' },
        { name: 'n2', internalIp: '192.168.0.2', tunnel: true, underlay: 'ens5' },
      ],
    });
    const out = await trace(request(), { kube: c.kube, exec: c.exec, resolve: c.resolve }, recorder(), new AbortController().signal);
    const points = out.report.inputs.map((i) => i.point).sort();
    expect(points).toEqual([
      'cilium:n1', 'cilium:n2',
      'host:n1/cilium_vxlan', 'host:n1/ens5', 'host:n1/lxcda6f5295b4b7',
      'host:n2/cilium_vxlan', 'host:n2/ens5', 'host:n2/lxcf9d0a91de5fb',
      'kernel:n1', 'kernel:n2',
      'pod:default/client/eth0', 'pod:default/server/eth0',
    ]);
    expect(out.report.inputs.every((i) => i.status === 'ok')).toBe(true);
    const monitors = c.exec.calls.filter((x) => x.argv.includes('monitor')).map((x) => [x.pod, x.argv.slice(x.argv.indexOf('monitor') + 1).join(' ')]);
    expect(monitors.sort()).toEqual([
      ['kube-system/cilium-n1', '-v --related-to 2836'],
      ['kube-system/cilium-n2', '-v --related-to 3663'],
    ]);
    const underlay = c.exec.calls.find((x) => x.argv.includes('ens5') && x.pod.includes('capture-0'))!;
    expect(underlay.argv.slice(underlay.argv.lastIndexOf('-c') + 2)).toEqual([
      '(', 'host', '10.99.0.1', 'and', 'host', '10.99.0.2', ')', 'or', '(', 'udp', 'and', 'host', '192.168.0.1', 'and', 'host', '192.168.0.2', 'and',
      '(', '(', 'udp[42:4]', '=', '0x0a630001', 'and', 'udp[46:4]', '=', '0x0a630002', ')', 'or', '(', 'udp[42:4]', '=', '0x0a630002', 'and', 'udp[46:4]', '=', '0x0a630001', ')', ')', ')',
    ]);
    expectNothingLeft(c);
  });

  it('--timeout ends an observation that would last longer, with a partial report', async () => {
    const c = cluster();
    const started = Date.now();
    const out = await trace(request({ traffic: { kind: 'none' }, durationS: 60, timeoutS: 1 }), { kube: c.kube, exec: c.exec, resolve: c.resolve }, recorder(), new AbortController().signal);
    expect(Date.now() - started).toBeLessThan(5000);
    expect(out.timedOut).toBe(true);
    expect(out.partial).toBe(true);
    expect(out.report.warnings).toContain('the trace reached its --timeout of 1 s: the report holds what was collected until then');
    expectNothingLeft(c);
  });

  it('SRC without ping: the traffic comes from its node, entering its netns', async () => {
    const c = new FakeCluster({ pods: [{ ...FAKE_CLIENT, tools: [] }, FAKE_SERVER], nodes: [{ name: 'n1', internalIp: '192.168.0.1' }] });
    const out = await trace(request({ probes: ['tcpdump'] }), { kube: c.kube, exec: c.exec, resolve: c.resolve }, recorder(), new AbortController().signal);
    expect(c.trafficAt).toHaveLength(1);
    expect(c.trafficAt[0].pod).toMatch(/^kube-system\/datapath-run1-capture-/);
    expect(c.trafficAt[0].argv.slice(0, 3)).toEqual(['nsenter', '--net=/run/netns/cni-1111', 'ping']);
    expect(out.partial).toBe(false);
  });

  it('says so in one line when SRC has no way to send', async () => {
    const c = new FakeCluster({ pods: [{ ...FAKE_CLIENT, tools: [] }, FAKE_SERVER], nodes: [{ name: 'n1', internalIp: '192.168.0.1' }] });
    const progress = recorder();
    const out = await trace(request({ probes: ['monitor'] }), { kube: c.kube, exec: c.exec, resolve: c.resolve }, progress, new AbortController().signal);
    expect(progress.warnings).toEqual([
      'could not send icmp from default/client: ping is not in the image of default/client (app), and it cannot be sent from its node either (no probe pod on n1); use --traffic none and make the traffic yourself',
    ]);
    expect(out.partial).toBe(true);
  });
});

describe('trace --save, then analyze DIR', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'trace-save-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  function dirSave(path: string): TraceSave {
    mkdirSync(path, { recursive: true });
    return { where: path, write: async (name, chunks) => writeFileSync(join(path, name), Buffer.concat(chunks)) };
  }

  it('keeps every raw output and run.json, and analyze gives the same flows and statuses', async () => {
    const c = cluster({ failing: { pwru: { exitCode: 1, stderr: 'failed to load BTF\n' } } });
    const out = await trace(request({ probes: ['tcpdump', 'monitor', 'pwru', 'iptables'] }), { kube: c.kube, exec: c.exec, resolve: c.resolve, save: dirSave(dir) }, recorder(), new AbortController().signal);
    expect(readdirSync(dir).sort()).toEqual([
      'iptables-n1.txt',
      'monitor-n1.txt',
      'pwru-n1.txt',
      'run.json',
      'tcpdump-host-n1-lxcda6f5295b4b7.pcap',
      'tcpdump-host-n1-lxcf9d0a91de5fb.pcap',
      'tcpdump-pod-default-client-eth0.pcap',
      'tcpdump-pod-default-server-eth0.pcap',
    ]);
    const meta = JSON.parse(readFileSync(join(dir, 'run.json'), 'utf8'));
    expect(meta.kubectlDatapathRun.runId).toBe('run1');
    expect(meta.inputs.find((i: { id: string }) => i.id === 'monitor-n1').argv).toContain('cilium-dbg');

    const again = await analyze({ paths: [dir], points: [], endpointFiles: [], maxPackets: 10 }, fileCatalog);
    const strip = (r: HopReport) => ({
      inputs: r.inputs.map((i) => ({ ...i, name: i.name.replace(`${dir}/`, '') })),
      endpoints: r.endpoints,
      flows: r.flows,
      warnings: r.warnings.map((w) => w.replace(`${dir}/`, '')),
    });
    expect(strip(again)).toEqual(strip(out.report));
    expect(again.flows.length).toBeGreaterThan(2);
  });

  it('reads the network policies (cilium#17734\'s policy1) into policies.json; a 403 on one resource is one warning line and a named gap', async () => {
    const c = cluster();
    const { items } = k8sObjectItems(readFileSync('test/fixtures/k8s-policy/gh-cilium-issue17734-2022-kubectl-get-cnp-o-yaml-list.txt', 'utf8'));
    c.kube.policies.ciliumnetworkpolicies = items.map((i) => i.value);
    c.kube.policies.networkpolicies = new ForbiddenError('forbidden: User "dev" cannot list resource "networkpolicies" in API group "networking.k8s.io" at the cluster scope');
    const progress = recorder();
    const out = await trace(request({ probes: ['tcpdump', 'monitor'] }), { kube: c.kube, exec: c.exec, resolve: c.resolve, save: dirSave(dir) }, progress, new AbortController().signal);
    const warning = "network policies not read: listing networkpolicies.networking.k8s.io is forbidden by RBAC (docs/rbac.yaml grants list on them): a policy drop's explanation says which policies it could not read";
    expect(progress.warnings).toEqual([warning]);
    expect(out.partial).toBe(false);
    expect(out.report.inputs.find((i) => i.name === 'policies.json')).toEqual({ name: 'policies.json', tool: 'policy', point: '', node: '', lines: 62, understood: 62, notUnderstood: 0, status: 'ok' });
    expect(out.report.warnings).toContain(warning);
    expect(JSON.parse(readFileSync(join(dir, 'run.json'), 'utf8')).policies).toEqual({
      read: ['ciliumnetworkpolicies', 'ciliumclusterwidenetworkpolicies'],
      notRead: ['networkpolicies.networking.k8s.io: forbidden by RBAC'],
    });
    const again = await analyze({ paths: [dir], points: [], endpointFiles: [], maxPackets: 10 }, fileCatalog);
    expect(again.inputs.find((i) => i.name.endsWith('policies.json'))?.status).toBe('ok');
    expect(again.flows).toEqual(out.report.flows);
  });

  it('a monitor that was ready and saw nothing is observed, not missing', async () => {
    const c = cluster({ monitor: join(dir, 'empty-monitor.txt') });
    writeFileSync(join(dir, 'empty-monitor.txt'), '');
    const save = join(dir, 'save');
    const out = await trace(request({ probes: ['tcpdump', 'monitor'] }), { kube: c.kube, exec: c.exec, resolve: c.resolve, save: dirSave(save) }, recorder(), new AbortController().signal);
    expect(status(out.report, 'monitor-n1')).toBe('ok');
    const flow = out.report.flows.find((f) => f.srcIp === ICMP_FLOW.srcIp && f.direction === 'request')!;
    expect(flow.notObserved).not.toContain('cilium:n1');
    const again = await analyze({ paths: [save], points: [], endpointFiles: [], maxPackets: 10 }, fileCatalog);
    expect(again.inputs.find((i) => i.name.endsWith('monitor-n1.txt'))!.status).toBe('ok');
  });
});
