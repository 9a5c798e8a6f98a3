/**
 * Running the host tools the lab is built with (ip, tc, sysctl, clang), with errors that say
 * which command failed and what it printed. Synchronous on purpose: `up` is a short, ordered
 * script and a failed step must stop it where it failed.
 */
import { execFileSync, spawnSync } from 'node:child_process';

/** A lab step failed; the message is one line a person can act on. */
export class LabError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'LabError';
  }
}

/** Runs a command, returns its stdout; throws LabError with its stderr on failure. */
export function run(cmd: string, args: string[], input?: string): string {
  try {
    return execFileSync(cmd, args, { input, encoding: 'utf8', stdio: ['pipe', 'pipe', 'pipe'], maxBuffer: 64 * 1024 * 1024 });
  } catch (err) {
    const e = err as { stderr?: string; message: string; code?: string };
    if (e.code === 'ENOENT') throw new LabError(`${cmd} is not installed`);
    const detail = (e.stderr ?? '').trim().split('\n').slice(-3).join(' | ') || e.message;
    throw new LabError(`${cmd} ${args.join(' ')}: ${detail}`);
  }
}

/** Like run, but a failure is returned rather than thrown (for cleanup steps). */
export function tryRun(cmd: string, args: string[], input?: string): { ok: boolean; stdout: string; stderr: string } {
  const r = spawnSync(cmd, args, { input, encoding: 'utf8' });
  return { ok: r.status === 0, stdout: r.stdout ?? '', stderr: r.stderr ?? '' };
}

/**
 * Runs `ip` commands in one process (`ip -batch`), inside a netns when given: dozens of links
 * and routes cost one fork instead of dozens.
 */
export function ipBatch(netns: string | undefined, lines: string[]): void {
  if (lines.length === 0) return;
  const args = netns === undefined ? ['-batch', '-'] : ['-n', netns, '-batch', '-'];
  run('ip', args, lines.join('\n') + '\n');
}

/** Runs argv inside a network namespace. */
export function inNetns(netns: string, argv: string[], input?: string): string {
  return run('ip', ['netns', 'exec', netns, ...argv], input);
}

/** Whether a program is on PATH. */
export function hasCommand(name: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${name}`], { encoding: 'utf8' }).status === 0;
}
