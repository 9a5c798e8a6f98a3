/**
 * One trace against a lab with a fault (or Ctrl-C) played at a chosen moment, and what came of
 * it: exit code, stdout, stderr, the report, how long it took, and what it left on the lab. The
 * fault tests and `npm run chaos` run their trials through this.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { main } from '../../src/cli/main.js';
import type { HopReport } from '../../src/core/model/report.js';
import { injectFault, type FaultRequest } from './faults.js';
import { settledLeftovers } from './leftovers.js';
import type { LabState } from './state.js';
import { TextSink } from '../helpers/run-main.js';

/** When the fault strikes: at once, once a probe runs, while the traffic is sent, after it (the probes being stopped). */
export const MOMENTS = ['start', 'ready', 'traffic', 'collect'] as const;
export type Moment = (typeof MOMENTS)[number];

export interface TrialLab {
  dir: string;
  state: LabState;
  kubeconfig: string;
}

export interface Trial {
  /** The trace's arguments after `trace` (pods, probes, traffic, ...), without -o and --kubeconfig. */
  args: string[];
  timeoutS: number;
  fault?: FaultRequest | 'ctrl-c';
  at: Moment;
}

export interface TrialResult {
  exit: number;
  out: string;
  err: string;
  report?: HopReport;
  elapsedMs: number;
  /** Whether the fault was played before the trace ended. */
  struck: boolean;
  left: string[];
}

/** Command lines of the lab's processes (node and pod netns). */
function labProcesses(state: LabState): string[] {
  const spaces = [...state.nodes.map((n) => n.netns), ...state.pods.flatMap((p) => (p.netns ? [p.netns] : []))];
  const cmds: string[] = [];
  for (const netns of spaces) {
    for (const pid of spawnSync('ip', ['netns', 'pids', netns], { encoding: 'utf8' }).stdout.split('\n')) {
      if (!/^\d+$/.test(pid)) continue;
      try {
        cmds.push(readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').join(' '));
      } catch {
        // ended meanwhile
      }
    }
  }
  return cmds;
}

const PROBE_RUNS = /tcpdump -i .* -w - -U|monitor -v|hubble(?:\.mjs)? observe|--output-meta/;
const TRAFFIC = /(?:^|[ /])(?:ping|nc) -/;

/** Runs one trial: the trace in-process (as `main` runs it), the fault at its moment, then the leftover check. */
export async function runTrial(lab: TrialLab, trial: Trial): Promise<TrialResult> {
  const out = new TextSink();
  const err = new TextSink();
  let struck = false;
  let done = false;
  const strike = async (): Promise<void> => {
    if (struck || done) return;
    struck = true;
    // What a terminal's Ctrl-C does to the CLI: main's SIGINT handler runs.
    if (trial.fault === 'ctrl-c') process.emit('SIGINT');
    else if (trial.fault) await injectFault(lab.dir, trial.fault);
  };
  // Watches the lab's processes for the moment, every 50 ms, until the trace ends.
  let sawTraffic = false;
  const watcher = (async () => {
    if (!trial.fault) return;
    // After main has started (and set its SIGINT handler), before it has asked the cluster anything.
    if (trial.at === 'start') {
      await new Promise((r) => setImmediate(r));
      return strike();
    }
    while (!done && !struck) {
      const cmds = labProcesses(lab.state);
      const traffic = cmds.some((c) => TRAFFIC.test(c));
      if (trial.at === 'ready' && cmds.some((c) => PROBE_RUNS.test(c))) await strike();
      else if (trial.at === 'traffic' && traffic) await strike();
      else if (trial.at === 'collect' && sawTraffic && !traffic) await strike();
      sawTraffic ||= traffic;
      await new Promise((r) => setTimeout(r, 50));
    }
  })();
  const started = performance.now();
  const exit = await main(['trace', ...trial.args, '--kubeconfig', lab.kubeconfig, '-o', 'json', '--timeout', String(trial.timeoutS)], { out, err, env: {} });
  const elapsedMs = Math.round(performance.now() - started);
  done = true;
  await watcher.catch((e: unknown) => (err.text += `fault not played: ${(e as Error).message}\n`));
  let report: HopReport | undefined;
  try {
    report = out.text.trim() ? (JSON.parse(out.text) as HopReport) : undefined;
  } catch {
    report = undefined;
  }
  return { exit, out: out.text, err: err.text, report, elapsedMs, struck, left: await settledLeftovers(lab, 2000) };
}
