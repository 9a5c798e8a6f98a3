/**
 * When a trace starts what, and what it says about it: probes in the Cilium agents start while
 * the probe pods are still being created, traffic still waits for every probe, and the
 * milestones (each probe ready, all ready, stopped, deleted) come out in order for `--debug`.
 */
import { PassThrough } from 'node:stream';
import { traceAndRender, readTraceFlags } from '../../src/cli/commands/trace.js';
import { trace, type TraceRequest } from '../../src/app/trace.js';
import type { PodRef } from '../../src/app/ports.js';
import { FAKE_CLIENT, FAKE_SERVER, FakeCluster } from '../helpers/fakes.js';

/** The capture pod is the slower to run here. */
const POD_START_MS = { capture: 150, pwru: 50 };

/** A cluster whose probe pods take POD_START_MS to run; records when each did. */
function slowPods(): { c: FakeCluster; runningAt: Record<string, number> } {
  const c = new FakeCluster({ pods: [FAKE_CLIENT, FAKE_SERVER], nodes: [{ name: 'n1', internalIp: '192.168.0.1' }], readyDelayMs: { pwru: 60, monitor: 40 } });
  const runningAt: Record<string, number> = {};
  const wait = c.kube.waitForRunning.bind(c.kube);
  c.kube.waitForRunning = async (ref: PodRef) => {
    const role = ref.name.includes('-pwru-') ? 'pwru' : 'capture';
    await new Promise((r) => setTimeout(r, POD_START_MS[role]));
    runningAt[role] = performance.now();
    return wait(ref);
  };
  return { c, runningAt };
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
  it('starts the agent probes (monitor, iptables) before the probe pods run, pwru once its pod runs, and traffic only after every probe is ready', async () => {
    const { c, runningAt } = slowPods();
    const steps: string[] = [];
    const debug: string[] = [];
    const out = await trace(REQUEST, { kube: c.kube, exec: c.exec, resolve: c.resolve }, { step: (t) => steps.push(t), warn: () => undefined, debug: (l) => debug.push(l) }, new AbortController().signal);

    expect(out.partial).toBe(false);
    expect(out.report.inputs.map((i) => i.status)).toEqual(Array(7).fill('ok'));
    const inAgent = c.exec.calls.filter((x) => x.pod === 'kube-system/cilium-n1' && x.argv[0] === 'sh' && x.argv[2].includes('exec "$@"'));
    expect(inAgent.map((x) => x.argv.find((a) => a === 'monitor' || a === 'xtables-monitor'))).toEqual(['monitor', 'xtables-monitor']);
    const firstPod = Math.min(runningAt.pwru, runningAt.capture);
    // Both launched (the iptables one after its TRACE rules went in) while the pods were starting.
    for (const call of inAgent) expect(call.at).toBeLessThan(firstPod);
    expect(c.readyAt.find((r) => r.tool === 'monitor')!.at).toBeLessThan(firstPod);
    // pwru did not wait for the slower capture pod; the captures and the discovery did.
    const launchedAt = (word: string) => c.exec.calls.find((x) => x.argv.includes(word))!.at;
    expect(launchedAt('pwru')).toBeGreaterThanOrEqual(runningAt.pwru);
    expect(launchedAt('pwru')).toBeLessThan(runningAt.capture);
    expect(launchedAt('tcpdump')).toBeGreaterThan(runningAt.capture);
    expect(c.exec.calls.find((x) => x.pod.includes('-capture-'))!.at).toBeGreaterThanOrEqual(runningAt.capture);
    expect(c.trafficAt[0].at).toBeGreaterThan(Math.max(...c.readyAt.map((r) => r.at)));

    expect(steps.slice(0, 4)).toEqual(['resolving default/client and default/server', 'starting 2 probes in the Cilium agents', 'creating 2 probe pods on 1 node', 'starting 4 more probes on 1 node']);
    // The readiness count is only shown against the total (no 'ready 1/2' while the pods start),
    // and the monitor, ready before the pods ran, is in the first count.
    const counts = steps.filter((s) => s.startsWith('ready ')).map((s) => Number(/^ready (\d)\/7$/.exec(s)![1]));
    expect(counts[0]).toBeGreaterThanOrEqual(1);
    expect(steps[4]).toBe(`ready ${counts[0]}/7`);
    expect(counts).toEqual([...counts].sort());
    expect(counts[counts.length - 1]).toBe(7);

    const milestones = debug.filter((l) => !/^\S+ ready$/.test(l));
    expect(milestones).toEqual([
      'resolved default/client on n1 and default/server on n1',
      'probe pods running: 2 of 2',
      'pod netns, tunnel and underlay devices discovered',
      'all 7 probes ready',
      'traffic sent; listening 20 ms more for late events',
      '7 probes stopped',
      '2 probe pods deleted',
    ]);
    expect(debug.filter((l) => /^\S+ ready$/.test(l)).sort()).toEqual(out.report.inputs.map((i) => `${i.name.replace(/\.(pcap|txt)$/, '')} ready`).sort());
    expect(debug.indexOf('all 7 probes ready')).toBe(debug.indexOf('traffic sent; listening 20 ms more for late events') - 1);
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
    const { c } = slowPods();
    const out = new PassThrough();
    const err = new PassThrough();
    let stdout = '';
    let stderr = '';
    out.on('data', (d: Buffer) => (stdout += d.toString()));
    err.on('data', (d: Buffer) => (stderr += d.toString()));
    const opts = { probes: 'tcpdump,monitor,pwru', traffic: 'icmp', count: '1', duration: '10', timeout: '60', maxPackets: '10', output: 'json', color: 'never', debug: true };
    const flags = { ...readTraceFlags('client', 'server', opts), runId: 'dbg1', graceMs: 20 };
    const code = await traceAndRender(flags, 'default', { kube: c.kube, exec: c.exec, resolve: c.resolve }, opts, { out, err, env: {} }, new AbortController().signal);

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
    expect(text.slice(-3)).toEqual(['collecting', '6 probes stopped', '2 probe pods deleted']);
  });

  it('prints nothing of it without --debug', async () => {
    const { c } = slowPods();
    const err = new PassThrough();
    let stderr = '';
    err.on('data', (d: Buffer) => (stderr += d.toString()));
    const opts = { probes: 'tcpdump', traffic: 'icmp', count: '1', duration: '10', timeout: '60', maxPackets: '10', output: 'json', color: 'never' };
    const code = await traceAndRender({ ...readTraceFlags('client', 'server', opts), runId: 'dbg2', graceMs: 20 }, 'default', { kube: c.kube, exec: c.exec, resolve: c.resolve }, opts, { out: new PassThrough(), err, env: {} }, new AbortController().signal);
    expect(code).toBe(0);
    expect(stderr).toBe('');
  });
});
