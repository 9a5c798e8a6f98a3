import { spawnSync } from 'node:child_process';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { loadKubeConfig } from '../src/adapters/kube/config.js';
import { createKubePort } from '../src/adapters/kube/kube-port.js';
import type { KubePort } from '../src/app/ports.js';
import { DEFAULT_PROBE_IMAGE, DEFAULT_PWRU_IMAGE, probePodSpec } from '../src/app/probe-pods.js';
import { imageSlug } from '../test/lab/api/images.js';
import { LabBench, labBenchUnavailable, median, mustSucceed, type Run } from './lab-harness.js';

/**
 * Live-trace benchmark on the lab (`tsx bench/lab.ts`, also the end of `npm run bench`), as
 * root: brings up a lab of its own (BPF, VXLAN, own directory and namespace prefix), installs the
 * plugin as a krew bundle found by kubectl's plugin discovery, and measures in the same run,
 * alternating the commands so machine load hits them alike, medians of RUNS each:
 *  (a) from the trace's start until its `all N probes ready` (the plugin's --debug timing line),
 *      cross-node with the default probes against a single probe (`--probes monitor`, same node:
 *      one cilium monitor in one agent, no probe pod); target ratio <= 1.5, as probes start in
 *      parallel;
 *  (b) the wall time of `kubectl datapath trace same cni-6vf5d --count 1` against
 *      `kubectl exec same -- ping -c 1 10.0.1.180`; target ratio <= 3.
 * It also prints a lone pwru probe (the slowest to attach) for comparison, where a trace's time
 * goes (from the same --debug lines), and what the lab's emulation costs: its cilium-dbg and
 * pwru are TypeScript programs (run as JavaScript bundles made at lab up), CPU-bound at start-up
 * where the real ones are Go binaries, and the floor under any trace here (the plugin's start
 * through kubectl, its Kubernetes client, a probe pod's start, one agent command). The
 * lab goes down at the end, on error and on Ctrl-C. Without root (or the lab's tools) it says
 * so and exits 0.
 */
const RUNS = Number(process.env.BENCH_LAB_RUNS ?? 5);
const READY_TARGET = 1.5;
const WALL_TARGET = 3;
const CROSS = ['datapath', 'trace', 'same', 'cni-x7k2m', '--count', '1'];
const SINGLE = ['datapath', 'trace', 'same', 'cni-6vf5d', '--count', '1', '--probes', 'monitor'];
const PWRU_ONLY = ['datapath', 'trace', 'same', 'cni-6vf5d', '--count', '1', '--probes', 'pwru'];
const TRACE = ['datapath', 'trace', 'same', 'cni-6vf5d', '--count', '1'];
const PING = ['exec', 'same', '--', 'ping', '-c', '1', '10.0.1.180'];
/** The floor of any trace: the plugin through kubectl's plugin discovery, then with its Kubernetes client and one failed pod read. */
const VERSION = ['datapath', 'version', '--client'];
const MISSING = ['datapath', 'trace', 'no-such-pod', 'no-such-pod-either', '--count', '1'];

/** One trace's --debug milestones, in seconds from the trace's start. */
interface Timeline {
  wallS: number;
  probes: number;
  allReadyS: number;
  /** The probes in the order they became ready. */
  readyOrder: string[];
  /** How long the probes listened for late events after the traffic (until they were quiet), by the plugin's own line. */
  graceS: number;
  marks: Map<string, number>;
}

/** The milestones printed in the profile, by the start of their --debug line. */
const MILESTONES: [label: string, starts: string][] = [
  ['resolved', 'resolved '],
  ['probe pods running', 'probe pods running'],
  ['netns discovered', 'pod netns, tunnel'],
  ['first probe ready', '\u0000first'],
  ['all probes ready', '\u0000all'],
  ['traffic sent', 'traffic sent'],
  ['probes quiet', 'probes '],
  ['probes stopped', '\u0000stopped'],
  ['probe pods deleted', '\u0000deleted'],
];

/** timeline reads the plugin's `debug: +S.SSS s TEXT` lines; throws when not every probe became ready. */
function timeline(r: Run, what: string): Timeline {
  const marks = new Map<string, number>();
  let probes = 0;
  let allReadyS: number | undefined;
  const readyOrder: string[] = [];
  let graceS = 0;
  for (const line of r.stderr.split('\n')) {
    const m = /^debug: \+(\d+\.\d+) s (.*)$/.exec(line);
    if (!m) continue;
    const t = Number(m[1]);
    const text = m[2];
    const grace = /^probes (?:quiet|not quiet yet) (\d+) ms after the traffic/.exec(text);
    if (grace) graceS = Number(grace[1]) / 1000;
    const all = /^all (\d+) probes ready$/.exec(text);
    if (all) {
      probes = Number(all[1]);
      allReadyS = t;
      marks.set('\u0000all', t);
    } else if (/^\S+ ready$/.test(text)) {
      if (!marks.has('\u0000first')) marks.set('\u0000first', t);
      readyOrder.push(text.slice(0, -' ready'.length));
    } else if (/^\d+ probes stopped$/.test(text)) marks.set('\u0000stopped', t);
    else if (/^\d+ probe pods deleted$/.test(text)) marks.set('\u0000deleted', t);
    for (const [, starts] of MILESTONES) if (text.startsWith(starts) && !marks.has(starts)) marks.set(starts, t);
  }
  if (allReadyS === undefined) {
    const why = r.stderr.split('\n').filter((l) => /probes ready|failed|warning|error/.test(l)).join('\n  ');
    throw new Error(`${what}: not every probe became ready (exit ${r.code}):\n  ${why || r.stderr.slice(-2000)}`);
  }
  return { wallS: r.ms / 1000, probes, allReadyS, readyOrder, graceS, marks };
}

function profile(label: string, runs: Timeline[]): string {
  const parts = MILESTONES.flatMap(([name, key]) => {
    const ts = runs.flatMap((t) => (t.marks.has(key) ? [t.marks.get(key)!] : []));
    return ts.length === runs.length ? [`${name} ${median(ts).toFixed(2)}`] : [];
  });
  const last = new Map<string, number>();
  for (const t of runs) {
    const id = t.readyOrder[t.readyOrder.length - 1];
    last.set(id, (last.get(id) ?? 0) + 1);
  }
  const [slowest, times] = [...last].sort((a, b) => b[1] - a[1])[0];
  return (
    `  where the time goes, ${label} (median s since the trace's start): ${parts.join(', ')}; process exit ${median(runs.map((t) => t.wallS)).toFixed(2)} (wall); ` +
    `ready last: ${slowest} (${times} of ${runs.length} runs); after the traffic the probes listened ${median(runs.map((t) => t.graceS)).toFixed(2)} s for late events (until quiet)`
  );
}

/**
 * The lab's emulated programs a trace starts before all its probes are ready: one `endpoint
 * get` per pod while resolving, then each monitor and pwru.
 */
function emulatedPrograms(t: Timeline): number {
  const tools = t.readyOrder.filter((id) => id.startsWith('monitor-') || id.startsWith('pwru-')).length;
  return 2 + tools;
}

/** Seconds from creating a capture probe pod (as a trace does) to seeing it Running; the pod is deleted after. */
async function probePodStartS(kube: KubePort, i: number): Promise<number> {
  const spec = probePodSpec({ node: 'bpf1', role: 'capture' }, 0, { namespace: 'default', probeImage: DEFAULT_PROBE_IMAGE, pwruImage: DEFAULT_PWRU_IMAGE, runId: `bench${i}`, timeoutS: 60 });
  const ref = { namespace: spec.namespace, name: spec.name };
  const started = performance.now();
  try {
    await kube.createPod(spec);
    await kube.waitForRunning(ref, 30_000);
    return (performance.now() - started) / 1000;
  } finally {
    await kube.deletePod(ref);
  }
}

/** CPU seconds (user + system) of one run of the emulated `cilium-dbg version`, as the lab's exec starts it (the image's wrapper). */
function emulatedCliCpuS(labDir: string, agentImage: string): number {
  const wrapper = join(labDir, 'images', imageSlug(agentImage), 'bin', 'cilium-dbg');
  const r = spawnSync('bash', ['-c', 'TIMEFORMAT="%U %S"; time "$0" version >/dev/null', wrapper], {
    encoding: 'utf8',
    env: { ...process.env, LAB_STATE: join(labDir, 'state.json'), LAB_NODE: 'bpf1' },
  });
  const [user, sys] = r.stderr.trim().split('\n').pop()!.split(' ').map(Number);
  if (r.status !== 0 || !Number.isFinite(user + sys)) throw new Error(`the emulated cilium-dbg did not run: ${r.stderr}`);
  return user + sys;
}

const verdict = (ratio: number, target: number) => `ratio ${ratio.toFixed(2)} (target <= ${target}) ${ratio <= target ? 'OK' : 'MISSED'}`;

async function measure(bench: LabBench): Promise<void> {
  const lab = await bench.lab({});
  const { kubectl, dir, upS: labS, state } = lab;

  // Warm-up, unmeasured: kubectl's discovery cache, the file cache, the lab's first execs.
  mustSucceed(await kubectl(PING), 'kubectl exec ping');
  mustSucceed(await kubectl([...TRACE, '--debug']), 'warm-up trace');

  // What one agent command costs here: a plain exec, and the lab's emulated cilium-dbg (a
  // TypeScript program bundled to JavaScript at lab up, where the real one is a Go binary).
  const agent = state.pods.find((p) => p.namespace === 'kube-system' && p.node === 'bpf1')!;
  const agentPod = agent.name;
  const inAgent = (argv: string[]) => ['exec', '-n', 'kube-system', agentPod, '-c', 'cilium-agent', '--', ...argv];
  const plainExec: number[] = [];
  const emulatedExec: number[] = [];
  const cpu: number[] = [];
  const cross: Timeline[] = [];
  const single: Timeline[] = [];
  const pwruOnly: Timeline[] = [];
  const traces: Timeline[] = [];
  const pings: number[] = [];
  const versions: number[] = [];
  const missingPod: number[] = [];
  const podStarts: number[] = [];
  const kube = createKubePort(loadKubeConfig({ kubeconfig: lab.env.KUBECONFIG }).kc, { namespace: 'default' });
  for (let i = 0; i < RUNS; i++) {
    cross.push(timeline(mustSucceed(await kubectl([...CROSS, '--debug']), 'cross-node trace'), 'cross-node trace'));
    single.push(timeline(mustSucceed(await kubectl([...SINGLE, '--debug']), 'single-probe trace'), 'single-probe trace'));
    pwruOnly.push(timeline(mustSucceed(await kubectl([...PWRU_ONLY, '--debug']), 'pwru-only trace'), 'pwru-only trace'));
    pings.push(mustSucceed(await kubectl(PING), 'kubectl exec ping').ms / 1000);
    // --debug only adds stderr lines; the timed command is the one users type plus it.
    traces.push(timeline(mustSucceed(await kubectl([...TRACE, '--debug']), 'trace'), 'trace'));
    plainExec.push(mustSucceed(await kubectl(inAgent(['true'])), 'exec true').ms / 1000);
    emulatedExec.push(mustSucceed(await kubectl(inAgent(['cilium-dbg', 'version'])), 'exec cilium-dbg version').ms / 1000);
    cpu.push(emulatedCliCpuS(dir, agent.image));
    versions.push((await kubectl(VERSION)).ms / 1000);
    const missing = await kubectl(MISSING);
    if (!/not found/.test(missing.stderr)) throw new Error(`trace of a missing pod: ${missing.stderr}`);
    missingPod.push(missing.ms / 1000);
    podStarts.push(await probePodStartS(kube, i));
  }
  const left = (await kubectl(['get', 'pods', '-A', '-l', 'app.kubernetes.io/managed-by=kubectl-datapath', '-o', 'name'])).stdout.trim();

  const crossReady = median(cross.map((t) => t.allReadyS));
  const singleReady = median(single.map((t) => t.allReadyS));
  const ping = median(pings);
  const wall = median(traces.map((t) => t.wallS));
  console.log(`live trace benchmark (lab: BPF host routing, VXLAN, 2 nodes, up in ${labS.toFixed(1)} s; the plugin as a krew bundle through kubectl's plugin discovery; median of ${RUNS} alternating runs)`);
  console.log(`  all probes ready, one probe (same -> cni-6vf5d --probes monitor: ${single[0].probes} probe, no probe pod): ${singleReady.toFixed(2)} s`);
  console.log(`  all probes ready, cross-node (same -> cni-x7k2m, default probes: ${cross[0].probes} probes on 2 nodes): ${crossReady.toFixed(2)} s, ${verdict(crossReady / singleReady, READY_TARGET)}`);
  const pwruReady = median(pwruOnly.map((t) => t.allReadyS));
  console.log(`  for comparison, one pwru probe (same -> cni-6vf5d --probes pwru: ${pwruOnly[0].probes} probe and its pod): ${pwruReady.toFixed(2)} s; cross-node over it: ${(crossReady / pwruReady).toFixed(2)}`);
  console.log(`  kubectl exec same -- ping -c 1 10.0.1.180:        ${ping.toFixed(2)} s`);
  console.log(`  kubectl datapath trace same cni-6vf5d --count 1: ${wall.toFixed(2)} s, ${verdict(wall / ping, WALL_TARGET)}`);
  console.log(profile('cross-node', cross));
  console.log(profile('one probe', single));
  console.log(profile('one pwru probe', pwruOnly));
  console.log(profile('same node', traces));
  const cpuS = median(cpu);
  const cpus = availableParallelism();
  const floor = (t: Timeline) => `${emulatedPrograms(t)} (>= ${((emulatedPrograms(t) * cpuS) / cpus).toFixed(2)} s on ${cpus} CPUs)`;
  console.log(`  one agent command: kubectl exec ... -- true ${median(plainExec).toFixed(2)} s, -- cilium-dbg version ${median(emulatedExec).toFixed(2)} s`);
  console.log(
    `  EMULATED start-up: the lab's cilium-dbg and pwru run as Node.js bundles, ${cpuS.toFixed(2)} CPU-s each (cilium-dbg version); ` +
      `before all probes are ready a cross-node trace starts ${floor(cross[0])}, the one-probe trace ${floor(single[0])}, the same-node trace ${floor(traces[0])} of them (endpoint get per pod, each monitor and pwru)`,
  );
  const floorParts: [string, number][] = [
    ['kubectl datapath version --client', median(versions)],
    ['plus the Kubernetes client and one pod read (trace of two missing pods)', median(missingPod)],
    ['a probe pod from create to Running', median(podStarts)],
    ['one agent command (cilium-dbg version)', median(emulatedExec)],
  ];
  console.log(`  floor: ${floorParts.map(([what, sec]) => `${what} ${sec.toFixed(2)} s`).join('; ')}; over the ping: ${floorParts.map(([, sec]) => (sec / ping).toFixed(1)).join(', ')}`);
  if (left) console.log(`  LEFT BEHIND: probe pods after the runs: ${left.split('\n').join(', ')}`);
}

async function main(): Promise<number> {
  const reason = labBenchUnavailable();
  if (reason) {
    console.log(`live trace benchmark skipped: ${reason}`);
    return 0;
  }
  const bench = new LabBench();
  try {
    await measure(bench);
    return 0;
  } catch (err) {
    console.error(`live trace benchmark failed: ${(err as Error).message}`);
    return 1;
  } finally {
    await bench.close();
  }
}

process.exitCode = await main();
