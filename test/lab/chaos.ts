/**
 * `npm run chaos -- --trials N --seed S [--json]`: N traces on a lab of its own, each with a trace
 * kind (same or cross node, probes, traffic), a fault or Ctrl-C, and a moment (at once, once a
 * probe runs, during the traffic, after it), all drawn from the seed, so a run is reproduced by
 * its seed. After each trial: the exit code, a report where one is due, the end within the bound,
 * and nothing left on the lab. A fault that breaks the lab for good (pod-deleted, node-gone) is
 * followed by a new lab, whose datapath mode the seed also draws.
 * Exit codes: 0 every trial handled, 1 some not, 2 usage.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { FAULT_KINDS, type FaultKind, type FaultRequest } from './faults.js';
import { seededRandom } from '../helpers/seeded-random.js';
import { labDown, labUp } from './kernel/lab.js';
import { leftovers } from './leftovers.js';
import { MOMENTS, runTrial, type Moment, type TrialLab, type TrialResult } from './trial.js';

export interface ChaosFailure {
  trial: number;
  seed: number;
  fault: string;
  at: Moment;
  exit: number;
  left: string[];
  why: string[];
}

export interface ChaosSummary {
  trials: number;
  handled: number;
  /** Trials after which something was left on the lab. */
  leftovers: number;
  failures: ChaosFailure[];
}


const TIMEOUT_S = 20;
/** The stops and deletions after the bound retry a failing API server for 10 s at most. */
const CLEANUP_MARGIN_MS = 12_000;
const PAIRS = [['same', 'cni-6vf5d'], ['same', 'web'], ['cni-x7k2m', 'cni-6vf5d']];
const PROBES = ['tcpdump,monitor,pwru,hubble', 'tcpdump,monitor', 'monitor,iptables', 'tcpdump,monitor,pwru,iptables', 'tcpdump'];
const TRAFFIC = [['--count', '2'], ['--traffic', 'none', '--duration', '2'], ['--traffic', 'tcp:80', '--count', '1']];
/** Faults by weight (Ctrl-C the most common way a trace ends early; the lab breakers the rarest, each costs a new lab). */
const CHOICES: [FaultKind | 'ctrl-c', number][] = [
  ['ctrl-c', 3],
  ['exec-cut', 2],
  ['agent-gone', 2],
  ['api-5xx', 2],
  ['api-slow', 1],
  ['probe-pending', 1],
  ['tool-missing', 2],
  ['pod-deleted', 1],
  ['node-gone', 1],
];
const BREAKS_LAB = new Set(['pod-deleted', 'node-gone']);

interface Drawn {
  seed: number;
  args: string[];
  fault: FaultRequest | 'ctrl-c';
  label: string;
  at: Moment;
  /** How long after the trial the fault's effects last (its window, the agent's return). */
  settleMs: number;
}

function pick<T>(rand: () => number, list: readonly T[]): T {
  return list[Math.floor(rand() * list.length)];
}

/** One trial's choices, from its own seed. */
export function drawTrial(seed: number): Drawn {
  const rand = seededRandom(seed);
  const [src, dst] = pick(rand, PAIRS);
  const probes = pick(rand, PROBES);
  const traffic = [...pick(rand, TRAFFIC)];
  // TCP needs a listener: only web has one.
  const args = [src, dst === 'web' || !traffic.includes('tcp:80') ? dst : 'web', '--probes', probes, ...traffic];
  let total = CHOICES.reduce((n, [, w]) => n + w, 0) * rand();
  let kind: FaultKind | 'ctrl-c' = 'ctrl-c';
  for (const [k, w] of CHOICES) if ((total -= w) < 0) ((kind = k), (total = Infinity));
  const at = pick(rand, MOMENTS);
  const node = pick(rand, ['bpf1', 'bpf2']);
  const forMs = 1000 + Math.floor(rand() * 3000);
  if (kind === 'ctrl-c') return { seed, args, fault: 'ctrl-c', label: 'ctrl-c', at, settleMs: 0 };
  const fault: FaultRequest = { kind, node, forMs };
  if (kind === 'tool-missing') fault.tools = [pick(rand, ['tcpdump', 'pwru', 'nc', 'cilium-dbg', 'cilium-dbg,cilium'])].flatMap((t) => t.split(','));
  if (kind === 'api-slow') fault.delayMs = 500 + Math.floor(rand() * 1500);
  if (kind === 'pod-deleted') fault.pod = `default/${pick(rand, [args[0], args[1]])}`;
  const label = [kind, fault.node, fault.tools?.join('+'), fault.pod].filter(Boolean).join(' ');
  return { seed, args, fault, label, at, settleMs: kind === 'exec-cut' ? 0 : forMs + 500 };
}

/** What makes a trial handled; the reasons it was not. */
export function judge(d: Drawn, r: TrialResult): string[] {
  const why: string[] = [];
  // A traced pod deleted before the trace found it does not exist: exit 4, one line.
  const allowed = d.fault === 'ctrl-c' && r.struck ? [130] : d.fault !== 'ctrl-c' && d.fault.kind === 'pod-deleted' ? [0, 1, 3, 4] : [0, 1, 3];
  if (!allowed.includes(r.exit)) why.push(`exit ${r.exit}, expected ${allowed.join(' or ')}`);
  if (/this is a bug|THROWN|^\s+at \S+ \(/m.test(r.err)) why.push(`a bug or stack trace on stderr: ${r.err.split('\n').find((l) => /bug|THROWN|at /.test(l))}`);
  if ([0, 3, 130].includes(r.exit) && !r.report) why.push('no report was printed');
  if ([1, 4].includes(r.exit) && !r.report && !/^error: [^\n]+\n$/.test(r.err.split('\n').filter((l) => !l.startsWith('warning: ')).join('\n'))) why.push('exit 1 without a report or one error line');
  if (r.elapsedMs > TIMEOUT_S * 1000 + CLEANUP_MARGIN_MS) why.push(`took ${r.elapsedMs} ms, over the ${TIMEOUT_S} s bound`);
  if (r.left.length) why.push(`left ${r.left.length} things`);
  return why;
}

async function newLab(rand: () => number): Promise<TrialLab & { instance: string }> {
  const dir = join(mkdtempSync(join(tmpdir(), 'dplab-chaos-')), 'lab');
  const instance = `c${Math.floor(rand() * 0xffffff).toString(16).padStart(6, '0')}`;
  const up = await labUp({ dir, instance, mode: pick(rand, ['bpf', 'legacy'] as const), tunnel: pick(rand, ['disabled', 'vxlan'] as const), api: true });
  if (!up.state.api) throw new Error(`the lab API server did not start: ${up.apiUnavailable}`);
  return { dir, instance, state: up.state, kubeconfig: up.state.api.kubeconfig };
}

async function dropLab(lab: { dir: string; instance: string } | undefined): Promise<void> {
  if (!lab) return;
  await labDown({ dir: lab.dir, instance: lab.instance });
  rmSync(dirname(lab.dir), { recursive: true, force: true });
}

/** Runs the trials; progress lines go to `log`. */
export async function chaos(trials: number, seed: number, log: (line: string) => void = () => undefined): Promise<ChaosSummary> {
  const rand = seededRandom(seed);
  const summary: ChaosSummary = { trials, handled: 0, leftovers: 0, failures: [] };
  let lab: (TrialLab & { instance: string }) | undefined;
  try {
    for (let i = 1; i <= trials; i++) {
      lab ??= await newLab(rand);
      const d = drawTrial(Math.floor(rand() * 2 ** 31));
      const r = await runTrial(lab, { args: d.args, timeoutS: TIMEOUT_S, fault: d.fault, at: d.at });
      const why = judge(d, r);
      if (r.left.length) summary.leftovers++;
      if (why.length === 0) summary.handled++;
      else summary.failures.push({ trial: i, seed: d.seed, fault: d.label, at: d.at, exit: r.exit, left: r.left, why });
      log(`trial ${i}/${trials} seed ${d.seed}: ${d.args.join(' ')} | ${d.label} at ${d.at}${r.struck ? '' : ' (not reached)'} -> exit ${r.exit} in ${r.elapsedMs} ms${why.length ? `: NOT HANDLED: ${why.join('; ')}` : ''}`);
      for (const thing of r.left) log(`  left: ${thing}`);
      // A broken lab, or one with leftovers (which would be counted again in every later trial): a new one.
      if ((d.fault !== 'ctrl-c' && BREAKS_LAB.has(d.fault.kind) && r.struck) || r.left.length) {
        await dropLab(lab);
        lab = undefined;
      } else {
        // The fault's window (and an agent's return) ends before the next trial; what is left then is this trial's.
        await new Promise((res) => setTimeout(res, d.settleMs));
        const late = leftovers(lab);
        if (late.length) {
          summary.leftovers++;
          log(`  left after the fault ended: ${late.join('; ')}`);
          await dropLab(lab);
          lab = undefined;
        }
      }
    }
  } finally {
    await dropLab(lab);
  }
  return summary;
}

function usage(message: string): never {
  process.stderr.write(`chaos: ${message}\nusage: npm run chaos -- --trials N --seed S [--json]\n`);
  process.exit(2);
}

async function main(argv: string[]): Promise<number> {
  let trials = 20;
  let seed = Date.now() % 2 ** 31;
  let json = false;
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i];
    const int = (): number => {
      const v = Number(argv[++i]);
      if (!Number.isInteger(v) || v < 0) usage(`${flag} needs a whole number`);
      return v;
    };
    if (flag === '--trials') trials = int();
    else if (flag === '--seed') seed = int();
    else if (flag === '--json') json = true;
    else usage(`unknown option ${flag}`);
  }
  process.stderr.write(`chaos: ${trials} trials, seed ${seed}\n`);
  const summary = await chaos(trials, seed, (line) => process.stderr.write(`${line}\n`));
  if (json) process.stdout.write(`${JSON.stringify({ trials: summary.trials, handled: summary.handled, leftovers: summary.leftovers, failures: summary.failures.map(({ why: _why, ...f }) => f) })}\n`);
  else process.stdout.write(`${summary.handled} of ${summary.trials} trials handled, ${summary.leftovers} with leftovers (seed ${seed})\n`);
  return summary.handled === summary.trials && summary.leftovers === 0 ? 0 : 1;
}

if (process.argv[1] && /chaos\.ts$/.test(process.argv[1])) {
  main(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (err: unknown) => {
      process.stderr.write(`chaos: ${(err as Error)?.stack ?? String(err)}\n`);
      process.exit(1);
    },
  );
}

export { FAULT_KINDS };
