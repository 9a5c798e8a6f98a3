/**
 * StepClock: the steps of one trace with their start and end, and which earlier step each one
 * waited for, so that `trace --debug` can print the critical path it observed: the chain of
 * steps, from the last back to the first, each of which could only start when the one before it
 * ended. A slow trace on a user's cluster then says which step was slow (a pull, a pod start,
 * pwru attaching, the agent's answer).
 */
export interface TimedStep {
  name: string;
  startMs: number;
  endMs?: number;
  /** The step this one waited for (of those it depends on, the one that ended last). */
  after?: string;
  /** What happened meanwhile, for people (e.g. `pulled docker.io/cilium/pwru:v1.0.9`). */
  notes: string[];
}

export class StepClock {
  private readonly t0: number;
  private readonly steps = new Map<string, TimedStep>();

  constructor(private readonly now: () => number = () => performance.now()) {
    this.t0 = now();
  }

  /** Starts a step now; `after` names the steps it waited for (unknown or unfinished ones are ignored). */
  start(name: string, after: readonly string[] = []): void {
    if (this.steps.has(name)) return;
    let last: TimedStep | undefined;
    for (const a of after) {
      const s = this.steps.get(a);
      if (s?.endMs !== undefined && (!last || s.endMs >= last.endMs!)) last = s;
    }
    this.steps.set(name, { name, startMs: this.now() - this.t0, after: last?.name, notes: [] });
  }

  end(name: string): void {
    const s = this.steps.get(name);
    if (s && s.endMs === undefined) s.endMs = this.now() - this.t0;
  }

  note(name: string, text: string): void {
    const s = this.steps.get(name);
    if (s && !s.notes.includes(text)) s.notes.push(text);
  }

  ended(name: string): boolean {
    return this.steps.get(name)?.endMs !== undefined;
  }

  /** The finished step among `names` that ended last. */
  lastEnded(names: readonly string[]): string | undefined {
    let last: TimedStep | undefined;
    for (const n of names) {
      const s = this.steps.get(n);
      if (s?.endMs !== undefined && (!last || s.endMs >= last.endMs!)) last = s;
    }
    return last?.name;
  }

  /** The chain of steps that ends with `last`, first step first. */
  criticalPath(last: string): TimedStep[] {
    const chain: TimedStep[] = [];
    const seen = new Set<string>();
    for (let s = this.steps.get(last); s && !seen.has(s.name); s = s.after ? this.steps.get(s.after) : undefined) {
      seen.add(s.name);
      chain.unshift(s);
    }
    return chain;
  }
}

/** One line per step of a critical path: `NAME +START..+END s (DURATION s; NOTES)`. */
export function describeCriticalPath(chain: readonly TimedStep[]): string[] {
  const s = (ms: number) => (ms / 1000).toFixed(3);
  return chain.map((step) => {
    const end = step.endMs ?? step.startMs;
    const notes = step.notes.length ? `; ${step.notes.join('; ')}` : '';
    return `${step.name} +${s(step.startMs)}..+${s(end)} s (${s(end - step.startMs)} s${notes})`;
  });
}
