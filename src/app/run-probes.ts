import { NotFoundError, UnavailableError } from '../core/errors.js';
import { commandName, mergeStops, type ProbeCommand } from '../probes/probe-command.js';
import type { PodHandle } from '../core/plan.js';
import type { ExecPort, ExecRequest, ExecResult } from './ports.js';

/** How long the short commands (setup, stop, teardown) may take. */
const SHORT_COMMAND_MS = 15_000;
/** After the stop command, how long the probe's own exec may take to end before its stream is closed. */
const END_GRACE_MS = 3_000;
/** stderr kept per probe: enough for readiness lines and the error that ended it. */
const STDERR_KEPT = 64 * 1024;
/** Readiness markers are looked for in this many leading bytes of text stdout. */
const READY_SCAN_BYTES = 64 * 1024;
/** A stop or teardown the API server could not take now (5xx, reset) is tried again for this long. */
const CLEANUP_RETRY_MS = 10_000;

/** ProbeRun: one probe on the cluster, from start to stop, and everything it printed. */
export interface ProbeRun {
  command: ProbeCommand;
  state: 'starting' | 'ready' | 'failed' | 'ended';
  /** Why it failed (setup, exit before ready, not ready in time), one line. */
  failure?: string;
  /** The long-running exec was issued: a stop command is owed. */
  launched: boolean;
  stdout: Uint8Array[];
  stdoutBytes: number;
  /** Output past maxBytes was dropped. */
  truncated: boolean;
  stderr: string;
  /** performance.now() of its last output (stdout or stderr), 0 before any: when it went quiet. */
  lastOutputAt: number;
  /** The stop command was sent before the command ended by itself. */
  stopRequested: boolean;
  result?: ExecResult;
  /** Resolves true when ready, false when it failed first. */
  ready: Promise<boolean>;
  /** Resolves when the long-running command has ended (or never started). */
  ended: Promise<void>;
  /** Closes the exec stream. */
  cancel: AbortController;
  /** Problems of the stop and teardown commands, for the report's warnings. */
  cleanupProblems: string[];
}

/** startProbe runs the probe's setup, then its long-running command, and watches for readiness. */
export function startProbe(exec: ExecPort, command: ProbeCommand, readyTimeoutMs: number): ProbeRun {
  const run: ProbeRun = {
    command,
    state: 'starting',
    launched: false,
    stdout: [],
    stdoutBytes: 0,
    truncated: false,
    stderr: '',
    lastOutputAt: 0,
    stopRequested: false,
    cancel: new AbortController(),
    cleanupProblems: [],
    ready: Promise.resolve(false),
    ended: Promise.resolve(),
  };
  let settleReady: (ok: boolean) => void = () => undefined;
  run.ready = new Promise<boolean>((resolve) => (settleReady = resolve));
  const becomeReady = (): void => {
    if (run.state !== 'starting') return;
    run.state = 'ready';
    settleReady(true);
  };
  const fail = (why: string): void => {
    if (run.state !== 'starting') return;
    run.state = 'failed';
    run.failure = why;
    settleReady(false);
  };
  run.ended = (async () => {
    for (const argv of command.setup) {
      if (run.cancel.signal.aborted) return fail('interrupted before it started');
      const r = await exec.exec({ pod: command.target, container: command.target.container, argv, collect: true, signal: AbortSignal.any([run.cancel.signal, AbortSignal.timeout(SHORT_COMMAND_MS)]) });
      if (r.exitCode !== 0) return fail(`${argv[0]} failed before the probe started: ${describeExit(r)}`);
    }
    if (run.cancel.signal.aborted) return fail('interrupted before it started');
    const marker = command.ready.kind === 'marker' ? command.ready.text : undefined;
    const textOut = command.output === 'text';
    let scanned = '';
    let timer: NodeJS.Timeout | undefined;
    if (command.ready.kind === 'settle') timer = setTimeout(becomeReady, command.ready.ms);
    const readyTimer = setTimeout(() => fail(`not ready after ${Math.round(readyTimeoutMs / 1000)} s${lastLine(run.stderr) ? `: ${lastLine(run.stderr)}` : ''}`), readyTimeoutMs);
    const decoder = new TextDecoder();
    run.launched = true;
    const pending = exec.exec({
      pod: command.target,
      container: command.target.container,
      argv: command.argv,
      signal: run.cancel.signal,
      onStdout: (chunk) => {
        run.lastOutputAt = performance.now();
        if (run.stdoutBytes + chunk.length > command.maxBytes) {
          run.truncated = true;
          return;
        }
        // The exec adapter may reuse its buffer: keep a copy.
        run.stdout.push(chunk.slice());
        run.stdoutBytes += chunk.length;
        if (marker && textOut && run.state === 'starting' && scanned.length < READY_SCAN_BYTES) {
          scanned += decoder.decode(chunk, { stream: true });
          if (scanned.includes(marker)) becomeReady();
        }
      },
      onStderr: (chunk) => {
        run.lastOutputAt = performance.now();
        if (run.stderr.length < STDERR_KEPT) run.stderr += new TextDecoder().decode(chunk);
        if (marker && run.state === 'starting' && run.stderr.includes(marker)) becomeReady();
      },
    });
    try {
      run.result = await pending;
    } finally {
      clearTimeout(timer);
      clearTimeout(readyTimer);
    }
    // A long-running command's stderr was kept on the run, not in its result: its last line says why it ended.
    if (run.state === 'starting') fail(run.stopRequested || run.result.canceled ? 'stopped before it was ready' : `ended before it was ready: ${describeExit(run.result.commandNotFound || run.result.exitCode === 127 ? run.result : { ...run.result, stderr: run.result.stderr || run.stderr })}`);
    else if (run.state === 'ready') run.state = 'ended';
  })().catch((err: unknown) => fail(`could not run: ${(err as Error)?.message ?? String(err)}`));
  return run;
}

/**
 * stopProbes ends probes for sure: the stop commands kill the remote processes (closing the exec
 * stream alone leaves them running, kubernetes/kubernetes#89031), one exec per container when
 * its probes are stopped by pidfile; then each stream is closed, then each probe's teardown
 * commands run whatever happened before. Never throws.
 */
export async function stopProbes(exec: ExecPort, runs: readonly ProbeRun[], nodePod?: (node: string) => PodHandle | undefined): Promise<void> {
  const byContainer = new Map<string, ProbeRun[]>();
  for (const run of runs) {
    if (stopOwed(run) === undefined) continue;
    const { namespace, name, container } = run.command.target;
    const key = `${namespace}/${name}/${container ?? ''}`;
    const group = byContainer.get(key);
    if (group) group.push(run);
    else byContainer.set(key, [run]);
  }
  const batches: { batch: ProbeRun[]; argv: string[] }[] = [];
  for (const group of byContainer.values()) {
    const merged = group.length > 1 ? mergeStops(group.map((r) => r.command.stop)) : undefined;
    if (merged) batches.push({ batch: group, argv: merged });
    else for (const run of group) batches.push({ batch: [run], argv: run.command.stop });
  }
  await Promise.all(batches.map(({ batch, argv }) => requestStop(exec, batch, argv)));
  await Promise.all(runs.map((run) => closeAndTearDown(exec, run, nodePod)));
}

/**
 * What the stop command still has to end: the process, when the command has not reported its end
 * (or its stream was cut without an exit status: the command goes on in the container); only the
 * pidfile, when the command ended by itself after its wrapper wrote it (a stale pidfile could
 * later name another process); nothing when it never started.
 */
function stopOwed(run: ProbeRun): 'process' | 'pidfile' | undefined {
  if (!run.launched) return undefined;
  if (!run.result || run.result.streamLost) return 'process';
  return run.result.exitCode !== null ? 'pidfile' : undefined;
}

/** Runs one stop command for probes of one container, then waits a little for them to end. */
async function requestStop(exec: ExecPort, batch: ProbeRun[], argv: string[]): Promise<void> {
  const { command } = batch[0];
  const running = batch.filter((run) => stopOwed(run) === 'process');
  for (const run of running) run.stopRequested = true;
  const r = await cleanupExec(exec, command, argv);
  // A deleted pod took its processes (and files) with it: nothing is left to stop.
  if (r.exitCode !== 0 && !(r.failure instanceof NotFoundError)) {
    for (const run of running) run.cleanupProblems.push(`${run.command.probe.id}: the stop command failed (${describeExit(r)}); the probe ends by its own timeout, or run kubectl datapath cleanup`);
  }
  await Promise.all(running.map((run) => waitAtMost(run.ended, END_GRACE_MS)));
  // A stop that came just after the start, before the wrapper wrote its pidfile, found nothing to
  // kill (seen under Ctrl-C in chaos trials): a command still running then is stopped once more.
  const still = running.filter((run) => !run.result);
  if (still.length === 0 || r.exitCode !== 0) return;
  await cleanupExec(exec, command, argv);
  await Promise.all(still.map((run) => waitAtMost(run.ended, END_GRACE_MS)));
}

/**
 * Closes the probe's stream and runs its teardown. What a teardown undoes (a TRACE rule) is the
 * node's, not its pod's: where that pod was deleted meanwhile (an agent pod replaced), it runs in
 * `nodePod`, another hostNetwork pod of the node that can (the capture pod: NET_ADMIN, iptables).
 */
async function closeAndTearDown(exec: ExecPort, run: ProbeRun, nodePod?: (node: string) => PodHandle | undefined): Promise<void> {
  const { command } = run;
  run.cancel.abort();
  await waitAtMost(run.ended, END_GRACE_MS);
  // One teardown that found the API server unable to reach the pod for the whole retry time is
  // enough: the next ones are tried once (a gone node would otherwise cost 10 s per command).
  let retry = true;
  for (const argv of command.teardown) {
    let r = await cleanupExec(exec, command, argv, retry);
    if (r.failure instanceof UnavailableError) retry = false;
    const other = r.failure instanceof NotFoundError ? nodePod?.(command.probe.node) : undefined;
    if (other) r = await cleanupExec(exec, { ...command, target: other }, argv);
    // What a teardown undoes lives on the node (a TRACE rule), not in the pod: a deleted pod does not take it along.
    if (r.exitCode !== 0) run.cleanupProblems.push(`${command.probe.id}: ${argv.join(' ')} failed (${describeExit(r)}): what it undoes stays on node ${command.probe.node}: run kubectl datapath cleanup`);
  }
}

/** cleanupExec runs a stop or teardown command, again while the API server cannot take it now (5xx, reset), for a bounded time. */
async function cleanupExec(exec: ExecPort, command: ProbeCommand, argv: string[], retry = true): Promise<ExecResult> {
  const req: ExecRequest = { pod: command.target, container: command.target.container, argv, collect: true };
  const attempt = () => exec.exec({ ...req, signal: AbortSignal.timeout(SHORT_COMMAND_MS) }).catch((err: unknown) => errorResult(command, argv, err));
  return retry ? whileUnavailable(attempt, (r) => r.failure) : attempt();
}

/**
 * whileUnavailable makes an attempt again, with growing pauses, as long as it fails with an
 * UnavailableError (the API server could not take it now) and CLEANUP_RETRY_MS is not over.
 */
export async function whileUnavailable<T>(attempt: () => Promise<T>, errorOf: (outcome: T) => unknown): Promise<T> {
  const end = performance.now() + CLEANUP_RETRY_MS;
  for (let pause = 250; ; pause *= 2) {
    const outcome = await attempt();
    if (!(errorOf(outcome) instanceof UnavailableError) || performance.now() + pause > end) return outcome;
    await sleep(pause);
  }
}

/** probeStatus: the report status of a probe that ran. */
export function probeStatus(run: ProbeRun): string {
  if (run.state === 'failed' || run.state === 'starting') return `failed: ${run.failure ?? 'it never became ready'}`;
  if (run.truncated) return `partial: output cut at ${run.command.maxBytes} bytes`;
  const r = run.result;
  if (r?.streamLost) return `partial: ${r.error}; what it printed until then is kept: run the trace again for the rest`;
  if (!r || run.stopRequested || r.canceled) return 'ok';
  if (r.exitCode === 0) return 'ok';
  if (r.exitCode === 124) return 'partial: its timeout ended it before the trace did';
  return `partial: ended early: ${describeExit(r)}`;
}

/** describeExit: one line for how a command ended. */
export function describeExit(r: ExecResult): string {
  const where = `${r.pod.namespace}/${r.pod.name}${r.container ? ` (${r.container})` : ''}`;
  const tail = lastLine(r.stderr);
  if (r.commandNotFound || r.exitCode === 127) {
    // Behind our wrapper, the message says which of sh, timeout or the tool is missing: the
    // runtime's when it could not start the command at all, the shell's when a program it ran was
    // not found. Without such a message, the tool the wrapper runs is the best guess.
    const named = missingProgram(tail);
    const tool = named ?? commandName(r.argv);
    return `${tool} is not in the image of ${where}${tool !== r.argv[0] && tail && !named ? `: ${tail}` : ''}`;
  }
  if (r.failure instanceof NotFoundError) return `${r.error}: it was deleted during the trace (an agent pod is replaced under a new name): run the trace again`;
  if (r.error) return r.error;
  if (r.canceled) return 'canceled';
  // 128+N: killed by signal N, as runtimes report it; the process did not end by itself.
  if (r.exitCode !== null && r.exitCode > 128 && r.exitCode < 160) {
    return `killed by signal ${r.exitCode - 128} (exit ${r.exitCode}) in ${where}: its pod was deleted or restarted, or the node killed it${tail ? `: ${tail}` : ''}`;
  }
  return `exit ${r.exitCode ?? 'unknown'} in ${where}${tail ? `: ${tail}` : ''}`;
}

/**
 * The program a "not found" message names: the container runtime's `exec: "X": executable file
 * not found in $PATH`, or a shell's `sh: 1: X: not found` / `bash: line 1: X: command not found`.
 */
function missingProgram(message: string): string | undefined {
  return /exec: "([^"]+)": executable file not found/.exec(message)?.[1] ?? /(?:^|: )([^\s:]+): (?:command )?not found$/.exec(message)?.[1];
}

/** lastLine: the last non-empty line of a text, trimmed and shortened. */
export function lastLine(text: string): string {
  const lines = text.split('\n').map((l) => l.trim()).filter((l) => l !== '');
  const last = lines[lines.length - 1] ?? '';
  return last.length > 200 ? `${last.slice(0, 200)}...` : last;
}

function errorResult(command: ProbeCommand, argv: string[], err: unknown): ExecResult {
  return { pod: command.target, container: command.target.container, argv, exitCode: null, stdout: '', stderr: '', durationMs: 0, canceled: false, error: (err as Error)?.message ?? String(err) };
}

/** waitAtMost: waits for a promise, but no longer than ms (and leaves no timer behind). */
export async function waitAtMost(p: Promise<unknown>, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([p, new Promise<void>((resolve) => (timer = setTimeout(resolve, ms)))]);
  clearTimeout(timer);
}

/**
 * untilQuiet waits until no probe has printed anything for quietMs (counted from the call at
 * the earliest), but no longer than maxMs; returns how long it waited. After the traffic this
 * catches what comes behind the last packet (a late reply, a FIN/ACK, a retransmission) while
 * it keeps coming, and ends the wait soon after it stops.
 */
export async function untilQuiet(runs: readonly ProbeRun[], quietMs: number, maxMs: number, signal?: AbortSignal): Promise<number> {
  const start = performance.now();
  const end = start + maxMs;
  for (;;) {
    const now = performance.now();
    const quietAt = runs.reduce((t, r) => Math.max(t, r.lastOutputAt), start) + quietMs;
    if (now >= quietAt || now >= end || signal?.aborted) return now - start;
    await sleep(Math.min(quietAt, end) - now, signal);
  }
}

/** sleep that an abort signal can end early. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const t = setTimeout(done, ms);
    function done(): void {
      clearTimeout(t);
      signal?.removeEventListener('abort', done);
      resolve();
    }
    signal?.addEventListener('abort', done, { once: true });
  });
}
