/**
 * When a trace starts what, and what it says about it: probe pods are created while the pods'
 * endpoints are still being resolved, pwru and the agent probes (monitor, iptables) start as
 * soon as the endpoints are known (pwru once its pod runs too), the captures after their pod's
 * discovery; traffic still waits for every probe, and the milestones (each probe ready, all
 * ready, stopped, deleted) come out in order for `--debug`.
 */
import { PassThrough } from 'node:stream';
import { traceAndRender, readTraceFlags } from '../../src/cli/commands/trace.js';
import { trace, type ResolvePod, type TraceRequest } from '../../src/app/trace.js';
import type { PodRef, ProbePodSpec } from '../../src/app/ports.js';
import { DatapathError, NotFoundError } from '../../src/core/errors.js';
import { FAKE_CLIENT, FAKE_SERVER, FakeCluster, fixtureBody } from '../helpers/fakes.js';

/** Asking the agents takes longer than the pwru pod takes to run, not than the capture pod. */
const RESOLVE_MS = 100;
const POD_START_MS = { capture: 200, pwru: 40 };

interface Timed {
  c: FakeCluster;
  resolve: ResolvePod;
  /** performance.now() of: the last resolve's end, each probe pod's creation and its Running. */
  at: { resolved: number; created: number[]; running: Record<string, number> };
}

/** A cluster whose resolution takes RESOLVE_MS and whose probe pods take POD_START_MS to run, recording when. */
function timed(): Timed {
  const c = new FakeCluster({ pods: [FAKE_CLIENT, FAKE_SERVER], nodes: [{ name: 'n1', internalIp: '192.168.0.1' }], readyDelayMs: { pwru: 60, monitor: 40 } });
  const at: Timed['at'] = { resolved: 0, created: [], running: {} };
  const create = c.kube.createPod.bind(c.kube);
  c.kube.createPod = async (spec: ProbePodSpec) => {
    at.created.push(performance.now());
    return create(spec);
  };
  const wait = c.kube.waitForRunning.bind(c.kube);
  c.kube.waitForRunning = async (ref: PodRef) => {
    const role = ref.name.includes('-pwru-') ? 'pwru' : 'capture';
    await new Promise((r) => setTimeout(r, POD_START_MS[role]));
    at.running[role] = performance.now();
    return wait(ref);
  };
  const resolve: ResolvePod = async (ref) => {
    await new Promise((r) => setTimeout(r, RESOLVE_MS));
    const r = await c.resolve(ref);
    at.resolved = Math.max(at.resolved, performance.now());
    return r;
  };
  return { c, resolve, at };
}

/** What `trace client server --probes tcpdump,monitor,pwru,iptables --count 1` asks, with short waits. */
const REQUEST: TraceRequest = {
  ...readTraceFlags('default/client', 'default/server', { probes: 'tcpdump,monitor,pwru,iptables', traffic: 'icmp', count: '1', duration: '1', timeout: '30', maxPackets: '10' }),
  src: { namespace: 'default', name: 'client' },
  dst: { namespace: 'default', name: 'server' },
  probeNamespace: 'kube-system',
  runId: 'early1',
  readyTimeoutS: 5,
  graceMs: 20,
};

describe('trace start-up order', () => {
  it('creates the probe pods while resolving, starts pwru and the agent probes once resolved, the captures after discovery; traffic only after every probe is ready', async () => {
    const { c, resolve, at } = timed();
    const steps: string[] = [];
    const debug: string[] = [];
    const out = await trace(REQUEST, { kube: c.kube, exec: c.exec, resolve }, { step: (t) => steps.push(t), warn: () => undefined, debug: (l) => debug.push(l) }, new AbortController().signal);

    expect(out.partial).toBe(false);
    expect(out.report.inputs.map((i) => i.status)).toEqual(Array(7).fill('ok'));
    expect(at.created).toHaveLength(2);
    for (const t of at.created) expect(t).toBeLessThan(at.resolved);
    const launchedAt = (word: string) => c.exec.calls.find((x) => x.argv.includes(word))!.at;
    // pwru, its pod running before the resolution ended, started with the agent probes right
    // after it, before the capture pod ran.
    expect(at.running.pwru).toBeLessThan(at.resolved);
    expect(launchedAt('pwru')).toBeGreaterThanOrEqual(at.resolved);
    expect(launchedAt('pwru')).toBeLessThan(at.running.capture);
    // The agent probes need the endpoint ids: right after the resolution, before the capture pod ran.
    const inAgent = c.exec.calls.filter((x) => x.pod === 'kube-system/cilium-n1' && x.argv[0] === 'sh' && x.argv[2].includes('exec "$@"'));
    expect(inAgent.map((x) => x.argv.find((a) => a === 'monitor' || a === 'xtables-monitor'))).toEqual(['monitor', 'xtables-monitor']);
    for (const call of inAgent) expect(call.at).toBeGreaterThanOrEqual(at.resolved);
    expect(inAgent[0].at).toBeLessThan(at.running.capture);
    // Discovery (the first command in the capture pod) and the captures waited for that pod.
    expect(c.exec.calls.find((x) => x.pod.includes('-capture-'))!.at).toBeGreaterThanOrEqual(at.running.capture);
    expect(launchedAt('tcpdump')).toBeGreaterThan(at.running.capture);
    expect(c.trafficAt[0].at).toBeGreaterThan(Math.max(...c.readyAt.map((r) => r.at)));

    // The captures start once their node's discovery is done, not when every probe pod runs.
    expect(steps.slice(0, 4)).toEqual(['resolving default/client and default/server', 'creating 2 probe pods on 1 node', 'starting 2 probes in the Cilium agents', 'starting 4 captures on n1']);
    // The readiness count is only shown against the total (no 'ready 1/3' while the capture pod
    // starts), and what was ready before is in the first count.
    const counts = steps.filter((s) => s.startsWith('ready ')).map((s) => Number(/^ready (\d)\/7$/.exec(s)![1]));
    expect(counts[0]).toBeGreaterThanOrEqual(1);
    expect(steps[4]).toBe(`ready ${counts[0]}/7`);
    expect(counts).toEqual([...counts].sort());
    expect(counts[counts.length - 1]).toBe(7);

    const milestones = debug.filter((l) => !/^\S+ ready$/.test(l) && !/^probe pod \w+ on n1 running$/.test(l) && !l.startsWith('critical path: '));
    const sent = 'traffic sent; listening for late events until the probes are quiet for 250 ms, at most 20 ms';
    expect(milestones).toEqual([
      'resolved default/client on n1 and default/server on n1',
      'probe pods running: 2 of 2',
      'pod netns, tunnel and underlay devices discovered',
      'all 7 probes ready',
      sent,
      expect.stringMatching(/^probes not quiet yet 2\d ms after the traffic \(the limit\): stopping them$/),
      '7 probes stopped',
      '2 probe pods deleted',
    ]);
    expect(debug.filter((l) => /^\S+ ready$/.test(l)).sort()).toEqual(out.report.inputs.map((i) => `${i.name.replace(/\.(pcap|txt)$/, '')} ready`).sort());
    expect(debug.indexOf('all 7 probes ready')).toBe(debug.indexOf(sent) - 1);
  });

  it('when a pod does not resolve, the probe pods created meanwhile are deleted and its error is the trace\'s', async () => {
    const { c, at } = timed();
    const gone = new NotFoundError('pod default/server not found');
    const resolve: ResolvePod = async (ref) => {
      await new Promise((r) => setTimeout(r, RESOLVE_MS));
      if (ref.name === 'server') throw gone;
      return c.resolve(ref);
    };
    await expect(trace(REQUEST, { kube: c.kube, exec: c.exec, resolve }, { step: () => undefined, warn: () => undefined }, new AbortController().signal)).rejects.toBe(gone);
    expect(at.created).toHaveLength(2);
    // The pwru pod ran before the failure; pwru never started (it waits for the endpoints); both pods deleted.
    expect(at.running.pwru).toBeDefined();
    expect(c.exec.calls.some((x) => x.argv.includes('pwru'))).toBe(false);
    expect(c.exec.leftRunning()).toEqual([]);
    expect(c.kube.probePods()).toEqual([]);
  });

  it('creates no probe pod before resolving when a pod has no node yet', async () => {
    const { c, at } = timed();
    const pending = c.kube.pods.get('default/server')!;
    c.kube.pods.set('default/server', { ...pending, node: '' });
    const resolve: ResolvePod = async (ref) => {
      if (ref.name === 'server') throw new DatapathError('pod default/server is not scheduled on a node yet (Pending)', 1);
      return c.resolve(ref);
    };
    await expect(trace(REQUEST, { kube: c.kube, exec: c.exec, resolve }, { step: () => undefined, warn: () => undefined }, new AbortController().signal)).rejects.toThrow('not scheduled');
    expect(at.created).toEqual([]);
  });

  it('says how many probes became ready when one failed', async () => {
    const c = new FakeCluster({ pods: [FAKE_CLIENT, FAKE_SERVER], nodes: [{ name: 'n1', internalIp: '192.168.0.1' }], failing: { monitor: { exitCode: 1, stderr: 'Error: cannot connect to the agent\n' } } });
    const debug: string[] = [];
    const out = await trace({ ...REQUEST, probes: ['tcpdump', 'monitor'] }, { kube: c.kube, exec: c.exec, resolve: c.resolve }, { step: () => undefined, warn: () => undefined, debug: (l) => debug.push(l) }, new AbortController().signal);
    expect(out.partial).toBe(true);
    expect(debug).toContain('4 of 5 probes ready');
    expect(debug.find((l) => l.startsWith('monitor-n1 failed: '))).toMatch(/cannot connect to the agent/);
    expect(debug.some((l) => l.startsWith('all '))).toBe(false);
  });
});

describe('trace --debug', () => {
  it('prints every step and milestone on stderr with the seconds since the trace started, in order; stdout stays the report', async () => {
    const { c, resolve } = timed();
    const out = new PassThrough();
    const err = new PassThrough();
    let stdout = '';
    let stderr = '';
    out.on('data', (d: Buffer) => (stdout += d.toString()));
    err.on('data', (d: Buffer) => (stderr += d.toString()));
    const opts = { probes: 'tcpdump,monitor,pwru', traffic: 'icmp', count: '1', duration: '10', timeout: '60', maxPackets: '10', output: 'json', color: 'never', debug: true };
    const flags = { ...readTraceFlags('client', 'server', opts), runId: 'dbg1', graceMs: 20 };
    const code = await traceAndRender(flags, 'default', { kube: c.kube, exec: c.exec, resolve }, opts, { out, err, env: {} }, new AbortController().signal);

    expect(code).toBe(0);
    expect(JSON.parse(stdout).schemaVersion).toBe(1);
    const lines = stderr.trimEnd().split('\n');
    for (const l of lines) expect(l).toMatch(/^debug: \+\d+\.\d{3} s \S/);
    const at = lines.map((l) => Number(/\+(\S+) s/.exec(l)![1]));
    expect(at).toEqual([...at].sort((a, b) => a - b));
    const text = lines.map((l) => l.replace(/^debug: \+\S+ s /, ''));
    expect(text[0]).toBe('resolving default/client and default/server');
    expect(text).toContain('all 6 probes ready');
    // The pods took POD_START_MS to run: the milestone after them says so.
    expect(at[text.indexOf('probe pods running: 2 of 2')]).toBeGreaterThanOrEqual(POD_START_MS.capture / 1000 - 0.005);
    expect(at[text.indexOf('resolved default/client on n1 and default/server on n1')]).toBeGreaterThanOrEqual(RESOLVE_MS / 1000 - 0.005);
    const path = text.filter((t) => t.startsWith('critical path: '));
    expect(text.slice(-3 - path.length, -path.length)).toEqual(['collecting', '6 probes stopped', '2 probe pods deleted']);
    // The chain the trace waited on, each step with its start and end: the capture pod (slower
    // than resolving), its node's discovery, the last capture started after it (or, on a loaded
    // machine, pwru after its pod), then traffic, the quiet window, the collection and the report.
    const steps = path.map((t) => /^critical path: (.+) \+(\d+\.\d{3})\.\.\+(\d+\.\d{3}) s \((\d+\.\d{3}) s/.exec(t)!);
    const names = steps.map((m) => m[1].replace(/^(tcpdump|pwru)-\S+$/, '$1-*'));
    expect([
      ['pods read', 'probe pod capture on n1', 'discovery on n1', 'tcpdump-*', 'traffic', 'quiet window', 'probes stopped, pods deleted', 'report'],
      ['pods read', 'probe pod pwru on n1', 'pwru-*', 'traffic', 'quiet window', 'probes stopped, pods deleted', 'report'],
    ]).toContainEqual(names);
    if (names[1] === 'probe pod capture on n1') expect(Number(steps[1][4])).toBeGreaterThanOrEqual(POD_START_MS.capture / 1000 - 0.005);
    for (let i = 1; i < steps.length; i++) expect(Number(steps[i][2])).toBeGreaterThanOrEqual(Number(steps[i - 1][3]));
  });

  it('names the image a probe pod is pulling, from its events, in the progress line and on its step of the critical path', async () => {
    const { c, resolve } = timed();
    const IMAGE = 'docker.io/nicolaka/netshoot:v0.13';
    const wait = c.kube.waitForRunning.bind(c.kube);
    c.kube.waitForRunning = async (ref: PodRef) => {
      if (ref.name.includes('-capture-')) await new Promise((r) => setTimeout(r, 1200));
      return wait(ref);
    };
    (c.kube as { podEvents?: (ref: PodRef) => Promise<{ reason: string; message: string }[]> }).podEvents = async (ref) =>
      ref.name.includes('-capture-') ? [{ reason: 'Scheduled', message: `Successfully assigned default/${ref.name} to n1` }, { reason: 'Pulling', message: `Pulling image "${IMAGE}"` }] : [];
    const steps: string[] = [];
    const debug: string[] = [];
    await trace(REQUEST, { kube: c.kube, exec: c.exec, resolve }, { step: (t) => steps.push(t), warn: () => undefined, debug: (l) => debug.push(l) }, new AbortController().signal);
    expect(steps.filter((t) => t.startsWith('pulling'))).toEqual([`pulling ${IMAGE} on node n1`]);
    expect(debug.find((l) => l.startsWith('critical path: probe pod capture on n1'))).toMatch(new RegExp(`s; pulled ${IMAGE.replace(/[.]/g, '\\.')}\\)$`));
  });

  it('prints nothing of it without --debug', async () => {
    const { c } = timed();
    const err = new PassThrough();
    let stderr = '';
    err.on('data', (d: Buffer) => (stderr += d.toString()));
    const opts = { probes: 'tcpdump', traffic: 'icmp', count: '1', duration: '10', timeout: '60', maxPackets: '10', output: 'json', color: 'never' };
    const code = await traceAndRender({ ...readTraceFlags('client', 'server', opts), runId: 'dbg2', graceMs: 20 }, 'default', { kube: c.kube, exec: c.exec, resolve: c.resolve }, opts, { out: new PassThrough(), err, env: {} }, new AbortController().signal);
    expect(code).toBe(0);
    expect(stderr).toBe('');
  });
});

describe('after the traffic', () => {
  /** The trace of REQUEST on a fake cluster, the debug lines with when they came, and the files --save would write. */
  async function traced(c: FakeCluster, req: Partial<TraceRequest>) {
    const debug: { line: string; at: number }[] = [];
    const files = new Map<string, string>();
    const save = { where: 'memory', write: async (name: string, chunks: Uint8Array[]) => void files.set(name, Buffer.concat(chunks).toString('latin1')) };
    const out = await trace({ ...REQUEST, ...req }, { kube: c.kube, exec: c.exec, resolve: c.resolve, save }, { step: () => undefined, warn: () => undefined, debug: (line) => debug.push({ line, at: performance.now() }) }, new AbortController().signal);
    const at = (start: string) => debug.find((d) => d.line.startsWith(start))!.at;
    return { out, debug: debug.map((d) => d.line), files, listened: at('probes ') - at('traffic sent') };
  }

  it('stops the probes once their output has been quiet for quietMs, not after the whole grace', async () => {
    const c = new FakeCluster({ pods: [FAKE_CLIENT, FAKE_SERVER], nodes: [{ name: 'n1', internalIp: '192.168.0.1' }] });
    const { out, debug, listened } = await traced(c, { graceMs: 1500, quietMs: 100 });
    expect(out.partial).toBe(false);
    expect(debug).toContainEqual(expect.stringMatching(/^probes quiet \d+ ms after the traffic$/));
    expect(listened).toBeGreaterThanOrEqual(95);
    expect(listened).toBeLessThan(1000);
    expect(c.exec.leftRunning()).toEqual([]);
  });

  it('keeps listening while a probe keeps printing, and collects all of it', async () => {
    const c = new FakeCluster({ pods: [FAKE_CLIENT, FAKE_SERVER], nodes: [{ name: 'n1', internalIp: '192.168.0.1' }] });
    // A monitor whose events trickle in after the traffic, one line every 60 ms (less than quietMs apart).
    const lines = fixtureBody('test/fixtures/seed/cilium-monitor-v.txt');
    c.exec.on(
      (pod, a) => pod === 'kube-system/cilium-n1' && a[0] === 'cilium-dbg' && a[1] === 'monitor',
      async (p) => {
        p.stderr('Listening for events on 2 CPUs with 64x4096 of shared memory\nPress Ctrl-C to quit\n');
        await c.traffic;
        for (const line of lines) {
          await new Promise((r) => setTimeout(r, 60));
          p.stdout(`${line}\n`);
        }
        await p.killed;
      },
    );
    const { out, files, listened } = await traced(c, { graceMs: 5000, quietMs: 150 });
    expect(out.partial).toBe(false);
    expect(files.get('monitor-n1.txt')).toBe(`${lines.join('\n')}\n`);
    expect(listened).toBeGreaterThanOrEqual(60 * lines.length);
    expect(listened).toBeLessThan(60 * lines.length + 1000);
  });

  it('stops at the grace when the output never goes quiet', async () => {
    const c = new FakeCluster({ pods: [FAKE_CLIENT, FAKE_SERVER], nodes: [{ name: 'n1', internalIp: '192.168.0.1' }] });
    c.exec.on(
      (pod, a) => pod === 'kube-system/cilium-n1' && a[0] === 'cilium-dbg' && a[1] === 'monitor',
      async (p) => {
        p.stderr('Listening for events on 2 CPUs with 64x4096 of shared memory\nPress Ctrl-C to quit\n');
        const timer = setInterval(() => p.stdout('level=info msg="a busy node"\n'), 20);
        await p.killed;
        clearInterval(timer);
      },
    );
    const { debug, listened } = await traced(c, { graceMs: 300, quietMs: 100 });
    expect(debug).toContainEqual(expect.stringMatching(/^probes not quiet yet \d+ ms after the traffic \(the limit\): stopping them$/));
    expect(listened).toBeGreaterThanOrEqual(295);
    expect(listened).toBeLessThan(1000);
    expect(c.exec.leftRunning()).toEqual([]);
  });
});
