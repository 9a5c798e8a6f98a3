import type { TraceNode, TraceTarget, Traffic } from '../core/plan.js';
import { describeTraffic, fromNetns, trafficCommand } from '../probes/traffic.js';
import type { ExecPort, ExecResult } from './ports.js';
import { describeExit } from './run-probes.js';

/** TrafficOutcome: what was sent, from where, and what the tool said. */
export interface TrafficOutcome {
  /** pod: exec into SRC; node: from SRC's node into its netns; undefined: nothing could be sent. */
  from?: 'pod' | 'node';
  argv: string[][];
  /** The tool's output (ping statistics, nc messages), for the run metadata. */
  output: string;
  /** Why traffic was not (fully) sent, one line. */
  problem?: string;
}

/**
 * sendTraffic makes the traffic from SRC's own netns: first with SRC's own tools (exec), and
 * when its image lacks them (127) or may not use them (ping without NET_RAW exits 2), from the
 * node's capture pod entering SRC's netns.
 */
export async function sendTraffic(exec: ExecPort, traffic: Traffic, count: number, src: TraceTarget, dst: TraceTarget, srcNode: TraceNode | undefined, signal: AbortSignal): Promise<TrafficOutcome> {
  const cmd = trafficCommand(traffic, dst.ip, count);
  if (!cmd) return { argv: [], output: '' };
  const budget = AbortSignal.any([signal, AbortSignal.timeout(cmd.budgetMs)]);
  const podKey = `${src.namespace}/${src.name}`;

  const inPod = await runAll(exec, { namespace: src.namespace, name: src.name, container: src.containers[0] }, cmd.runs, budget);
  if (inPod.usable) return { from: 'pod', argv: cmd.runs, output: inPod.output };

  const capture = srcNode?.probePods.capture;
  const netns = srcNode?.netnsOfPod[podKey];
  if (capture && netns && !signal.aborted) {
    const runs = cmd.runs.map((argv) => fromNetns(netns, argv));
    const fromNode = await runAll(exec, capture, runs, budget);
    if (fromNode.usable) return { from: 'node', argv: runs, output: fromNode.output };
    return { argv: runs, output: fromNode.output, problem: `could not send ${describeTraffic(traffic)} from ${podKey}: ${inPod.why}; from its node: ${fromNode.why}` };
  }
  const nodeWhy = !capture
    ? (srcNode?.probePodProblems.capture ?? `no probe pod on ${src.node}`)
    : (srcNode?.netnsProblems?.[podKey] ?? `the netns of ${podKey} is not known`);
  return {
    argv: cmd.runs,
    output: inPod.output,
    problem: `could not send ${describeTraffic(traffic)} from ${podKey}: ${inPod.why}, and it cannot be sent from its node either (${nodeWhy}); use --traffic none and make the traffic yourself`,
  };
}

/** runAll runs the commands in order; unusable when the first one shows the tool cannot run there. */
async function runAll(exec: ExecPort, pod: { namespace: string; name: string; container?: string }, runs: string[][], signal: AbortSignal): Promise<{ usable: boolean; output: string; why?: string }> {
  let output = '';
  for (const [i, argv] of runs.entries()) {
    if (signal.aborted) return { usable: i > 0, output, why: 'interrupted' };
    const r = await exec.exec({ pod, container: pod.container, argv, collect: true, signal });
    output += r.stdout + r.stderr;
    if (i === 0 && cannotRun(r)) return { usable: false, output, why: describeExit(r) };
  }
  return { usable: true, output };
}

/**
 * 127: not in the image; 2: ping's "other error" (no NET_RAW, bad address); an nc that is not
 * netcat-openbsd (busybox's refuses -N); an exec that never ran.
 */
function cannotRun(r: ExecResult): boolean {
  if (r.canceled) return false;
  const ncRefusedFlags = r.exitCode !== 0 && /\bnc: (?:invalid|unrecognized|illegal) option/.test(r.stderr);
  return r.commandNotFound === true || r.exitCode === 127 || r.exitCode === 126 || (r.argv.includes('ping') && r.exitCode === 2) || ncRefusedFlags || (r.exitCode === null && r.error !== undefined);
}
