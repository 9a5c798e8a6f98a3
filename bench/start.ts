import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { bundleCliSingle, bundleCliSplit, REPO_ROOT } from '../krew/bundle.js';
import { buildSingleExecutable } from '../krew/sea.js';

/**
 * Start-up time (`npm run bench:start`, also part of `npm run bench`): the wall time of
 * `kubectl-datapath version --client` as shipped, against `node -e 0` measured in the same run.
 * Runs alternate between the commands so machine load hits them alike; the median of each is
 * compared. Target: the bundle (launcher + split ES modules, what every platform but
 * linux/amd64 runs) at most 1.5 times `node -e 0`. The single executable is measured too.
 */
export interface StartTimes {
  runs: number;
  baselineMs: number;
  bundleMs: number;
  singleExecutableMs?: number;
}

function wallMs(cmd: string, args: string[]): number {
  const start = process.hrtime.bigint();
  const r = spawnSync(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  const ms = Number(process.hrtime.bigint() - start) / 1e6;
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} exited ${r.status}: ${r.stderr}`);
  return ms;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
}

/** measureStart builds the bundle (and, on Linux, the single executable) in a temp dir and times them. */
export async function measureStart(runs = 21, withSingleExecutable = process.platform === 'linux'): Promise<StartTimes> {
  const dir = mkdtempSync(join(tmpdir(), 'datapath-start-'));
  try {
    await bundleCliSplit(dir);
    const launcher = join(dir, 'kubectl-datapath');
    copyFileSync(join(REPO_ROOT, 'krew/launcher.js'), launcher);
    const commands: [string, string[]][] = [[process.execPath, ['-e', '0']], [launcher, ['version', '--client']]];
    if (withSingleExecutable) {
      const single = join(dir, 'kubectl-datapath.cjs');
      await bundleCliSingle(single);
      buildSingleExecutable(single, join(dir, 'single'));
      commands.push([join(dir, 'single'), ['version', '--client']]);
    }
    const times: number[][] = commands.map(() => []);
    for (const [cmd, args] of commands) wallMs(cmd, args); // warm the file cache
    for (let i = 0; i < runs; i++) commands.forEach(([cmd, args], j) => times[j].push(wallMs(cmd, args)));
    const [baselineMs, bundleMs, singleExecutableMs] = times.map(median);
    return { runs, baselineMs, bundleMs, singleExecutableMs };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** printStart reports the times and the ratio against the target; returns whether the target holds. */
export function printStart(t: StartTimes): boolean {
  const ratio = t.bundleMs / t.baselineMs;
  const ok = ratio <= 1.5;
  console.log(`start-up benchmark (median of ${t.runs} alternating runs)`);
  console.log(`  node -e 0:                                   ${t.baselineMs.toFixed(1)} ms`);
  console.log(`  kubectl-datapath version --client (bundle):  ${t.bundleMs.toFixed(1)} ms, ratio ${ratio.toFixed(2)} (target <= 1.5) ${ok ? 'OK' : 'MISSED'}`);
  if (t.singleExecutableMs !== undefined) {
    console.log(`  kubectl-datapath version --client (single executable): ${t.singleExecutableMs.toFixed(1)} ms, ratio ${(t.singleExecutableMs / t.baselineMs).toFixed(2)}`);
  }
  return ok;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  measureStart()
    .then((t) => {
      if (!printStart(t)) process.exitCode = 1;
    })
    .catch((err: unknown) => {
      console.error(`start-up benchmark failed: ${(err as Error).message}`);
      process.exitCode = 1;
    });
}
