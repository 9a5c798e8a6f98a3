/**
 * `kubectl datapath trace` against a lab that breaks on purpose (test/lab/api/faults.ts), each
 * fault the way a real cluster fails. For each: the trace ends within its --timeout, prints the
 * report of what was seen with a status per probe and one line per failure saying what happened
 * and what to do, exits 3 (partial) or 1 (nothing usable), and leaves nothing on the lab (no probe
 * pod, no process in a node's or pod's netns, no TRACE rule, no pidfile).
 */
import { spawnSync } from 'node:child_process';
import type { HopReport } from '../../src/core/model/report.js';
import { useApiLab, type Lab } from './api-lab.js';
import { describeAsRoot } from './require-root.js';
import { runTrial, type Trial, type TrialResult } from './trial.js';

const TIMEOUT_S = 20;

function statuses(report: HopReport | undefined): Record<string, string> {
  if (!report) throw new Error('no report was printed');
  return Object.fromEntries(report.inputs.map((i) => [i.name, i.status]));
}

function statusAt(report: HopReport | undefined, point: string): string | undefined {
  return report?.inputs.find((i) => i.point === point)?.status;
}

function agents(l: Lab): string[] {
  const r = spawnSync('kubectl', ['--kubeconfig', l.kubeconfig, 'get', 'pods', '-n', 'kube-system', '-l', 'k8s-app=cilium', '-o', 'jsonpath={range .items[*]}{.metadata.name} {.spec.nodeName}{"\\n"}{end}'], { encoding: 'utf8' });
  return r.stdout.trim().split('\n').sort();
}

/** The trial, and what every fault must give: an end within the bound, a report (or one error line), nothing left. */
async function trial(l: Lab, t: Omit<Trial, 'timeoutS'>): Promise<TrialResult> {
  const r = await runTrial(l, { ...t, timeoutS: TIMEOUT_S });
  expect(r.struck).toBe(true);
  expect(r.err).not.toMatch(/THROWN|this is a bug|^\s+at /m);
  // The stop, teardown and deletion after the bound retry a failing API server for 10 s at most.
  expect(r.elapsedMs).toBeLessThan((TIMEOUT_S + 12) * 1000);
  expect(r.left).toEqual([]);
  return r;
}

const wait = (ms: number) => new Promise((r) => setTimeout(r, ms));

describeAsRoot('faults: a trace on a cluster that fails the way real ones do', () => {
  const lab = useApiLab('disabled');

  it('exec-cut: the streams the API server drops are reported cut, and their commands are stopped by pidfile all the same', async () => {
    const l = lab();
    const r = await trial(l, { args: ['same', 'cni-6vf5d', '--traffic', 'none', '--duration', '3'], fault: { kind: 'exec-cut' }, at: 'ready' });
    expect(r.exit).toBe(3);
    const s = statuses(r.report);
    const cut = Object.values(s).filter((x) => x !== 'ok');
    expect(cut.length).toBeGreaterThan(0);
    for (const x of cut) expect(x).toMatch(/^(failed: ended before it was ready|partial): the exec stream to \S+ was cut without an exit status \(WebSocket close 1006\): the API server restarted or the connection dropped/);
    // A cut stream says nothing about Hubble: the hubble probe is failed, not "off".
    expect(r.err).not.toContain('Hubble is off');
  }, 90_000);

  it('agent-gone: the agent\'s probes end with its pod, its TRACE rule is removed from another pod of the node; the new agent, under a new name, serves the next trace', async () => {
    const l = lab();
    const before = agents(l);
    // trial() asserts nothing is left: the iptables probe's rule on bpf2 outlives the agent pod that inserted it.
    const r = await trial(l, { args: ['same', 'web', '--count', '1', '--probes', 'tcpdump,monitor,hubble,iptables'], fault: { kind: 'agent-gone', node: 'bpf2', forMs: 2000 }, at: 'ready' });
    expect(r.exit).toBe(3);
    const s = statuses(r.report);
    // The fault comes at the first 'ready' line: bpf2's probes may be ready by then or not yet.
    for (const probe of ['monitor-bpf2.txt', 'hubble-bpf2.txt']) {
      expect(s[probe]).toMatch(/^(failed: ended before it was ready|partial: ended early): (killed by signal 9 \(exit 137\) in kube-system\/cilium-\w+ \(cilium-agent\): its pod was deleted or restarted|pod kube-system\/cilium-\w+ not found: it was deleted during the trace)/);
    }
    expect(s['monitor-bpf1.txt']).toBe('ok');
    await wait(2500);
    const after = agents(l);
    expect(after).toHaveLength(2);
    expect(after.find((a) => a.endsWith(' bpf1'))).toBe(before.find((a) => a.endsWith(' bpf1')));
    expect(after.find((a) => a.endsWith(' bpf2'))).not.toBe(before.find((a) => a.endsWith(' bpf2')));
    const again = await runTrial(l, { args: ['same', 'web', '--count', '1', '--probes', 'monitor'], timeoutS: TIMEOUT_S, at: 'start' });
    expect(again.exit).toBe(0);
    expect(statuses(again.report)).toEqual({ 'monitor-bpf1.txt': 'ok', 'monitor-bpf2.txt': 'ok' });
  }, 90_000);

  it('api-5xx from the start: one line naming the answer and what to do, exit 1, nothing created', async () => {
    const l = lab();
    const r = await trial(l, { args: ['same', 'cni-6vf5d'], fault: { kind: 'api-5xx', forMs: 1500 }, at: 'start' });
    expect(r.exit).toBe(1);
    expect(r.out).toBe('');
    expect(r.err).toMatch(/^error: the API server at https:\/\/127\.0\.0\.1:\d+ failed to get pods in namespace "default" \((503|500)\): .*; it is overloaded, restarting or cannot reach the node: try again in a moment\n$/);
    await wait(1600);
  }, 90_000);

  it('api-5xx once the probes run: their stops and the pod deletions are tried again until the server answers', async () => {
    const l = lab();
    const r = await trial(l, { args: ['same', 'cni-6vf5d', '--traffic', 'none', '--duration', '1', '--probes', 'tcpdump,monitor'], fault: { kind: 'api-5xx', forMs: 2500 }, at: 'ready' });
    expect([0, 3]).toContain(r.exit);
    expect(r.report).toBeDefined();
    await wait(2600);
  }, 90_000);

  it('api-slow: every answer 1 s late; the trace still ends within its bound', async () => {
    const l = lab();
    const r = await trial(l, { args: ['same', 'cni-6vf5d', '--probes', 'tcpdump,monitor'], fault: { kind: 'api-slow', delayMs: 1000, forMs: 6000 }, at: 'start' });
    expect([0, 3]).toContain(r.exit);
    expect(r.report).toBeDefined();
    await wait(6000);
  }, 90_000);

  it('probe-pending: the probe pods back off pulling their images; the probes in the agents go on, the rest say why and what to do', async () => {
    const l = lab();
    const r = await trial(l, { args: ['same', 'cni-6vf5d', '--probes', 'tcpdump,monitor,pwru'], fault: { kind: 'probe-pending', forMs: 8000 }, at: 'start' });
    expect(r.exit).toBe(3);
    const s = statuses(r.report);
    expect(s['monitor-bpf1.txt']).toBe('ok');
    const lxc = l.state.pods.find((p) => p.name === 'same')!.lxc!.name;
    expect(statusAt(r.report, `host:bpf1/${lxc}`)).toMatch(
      /^skipped: the capture pod default\/datapath-\w+-capture-\d did not start: pod default\/datapath-\w+-capture-\d cannot start container probe: .*ImagePullBackOff \(Back-off pulling image "docker\.io\/nicolaka\/netshoot:v0\.13"\).*: the node cannot pull docker\.io\/nicolaka\/netshoot:v0\.13; check the name and that the node reaches its registry, or give --probe-image$/,
    );
    expect(statusAt(r.report, 'kernel:bpf1')).toMatch(/^skipped: the pwru pod .* did not start: .*ImagePullBackOff .*, or give --pwru-image$/);
    await wait(8000);
  }, 90_000);

  it('tool-missing tcpdump: the captures say the image lacks it; with tcpdump the only probe, nothing is usable: exit 1', async () => {
    const l = lab();
    const r = await trial(l, { args: ['same', 'cni-6vf5d', '--probes', 'tcpdump'], fault: { kind: 'tool-missing', tools: ['tcpdump'], forMs: 8000 }, at: 'start' });
    expect(r.exit).toBe(1);
    const s = statuses(r.report);
    expect(Object.keys(s)).toHaveLength(4);
    for (const x of Object.values(s)) expect(x).toMatch(/^failed: ended before it was ready: tcpdump is not in the image of default\/datapath-\w+-capture-0 \(probe\)$/);
    await wait(8000);
  }, 90_000);

  it('tool-missing in the agent: without cilium-dbg the older name cilium serves (pre-1.15 images); without either, the agent probes say so', async () => {
    const l = lab();
    const r = await trial(l, { args: ['same', 'cni-6vf5d', '--probes', 'monitor'], fault: { kind: 'tool-missing', tools: ['cilium-dbg'], forMs: 5000 }, at: 'start' });
    expect(r.exit).toBe(0);
    expect(statuses(r.report)).toEqual({ 'monitor-bpf1.txt': 'ok' });
    await wait(5000);
    const none = await trial(l, { args: ['same', 'cni-6vf5d', '--probes', 'tcpdump,monitor'], fault: { kind: 'tool-missing', tools: ['cilium-dbg', 'cilium'], forMs: 8000 }, at: 'start' });
    expect(none.exit).toBe(3);
    expect(none.err).toMatch(/^warning: neither cilium-dbg nor cilium exists in kube-system\/cilium-\w+ \(container cilium-agent\): is it a Cilium agent\?\n/);
    expect(statuses(none.report)['monitor-bpf1']).toBe('skipped: neither cilium-dbg nor cilium exists in kube-system/cilium-dqnsk (container cilium-agent): is it a Cilium agent?');
    await wait(8000);
  }, 90_000);

  it('pod-deleted: the traced pod goes mid-trace; its captures end, one line says it was deleted', async () => {
    const l = lab();
    const r = await trial(l, { args: ['same', 'cni-6vf5d', '--traffic', 'none', '--duration', '3'], fault: { kind: 'pod-deleted', pod: 'default/cni-6vf5d' }, at: 'ready' });
    expect(r.exit).toBe(3);
    expect(r.report!.warnings).toContain('default/cni-6vf5d was deleted during the trace: the probes in its netns ended with it; trace pods that keep running');
    const lxc = l.state.pods.find((p) => p.name === 'cni-6vf5d')!.lxc!.name;
    expect(statusAt(r.report, `host:bpf1/${lxc}`)).toMatch(/^(failed: ended before it was ready|partial: ended early): exit 1 in default\/datapath-\w+-capture-0 \(probe\): .*No such device exists/);
  }, 90_000);

  it('node-gone: what ran on the node is gone, execs to it fail as a dead kubelet does; the other node\'s evidence is reported', async () => {
    const l = lab();
    // With the iptables probe: its teardowns on the gone node fail; trial() asserts the end within the bound all the same (chaos: 44-50 s before).
    const r = await trial(l, { args: ['same', 'web', '--traffic', 'none', '--duration', '3', '--probes', 'tcpdump,monitor,hubble,iptables'], fault: { kind: 'node-gone', node: 'bpf2' }, at: 'ready' });
    expect(r.exit).toBe(3);
    const s = statuses(r.report);
    expect(s['monitor-bpf1.txt']).toBe('ok');
    expect(s['monitor-bpf2.txt']).toMatch(/error dialing backend: dial tcp 192\.168\.2\.62:10250: connect: no route to host; it is overloaded, restarting or cannot reach the node: try again in a moment|cut without an exit status|killed by signal 9/);
  }, 90_000);
});
