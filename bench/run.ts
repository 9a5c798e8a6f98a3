import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { REPO_ROOT } from '../krew/bundle.js';
import { generateMixedLog } from './generate.js';
import { measureLongLines, printLongLines } from './long-lines.js';
import { measureStart, printStart } from './start.js';

/**
 * npm run bench: analyze throughput against a split-only baseline measured in the same run, peak
 * RSS at 1M lines, and how peak RSS grows from 1M to 4M lines of the same flows; then the
 * start-up bench, then the live trace bench on the lab (bench/lab.ts; it says why when it skips).
 */
interface ChildResult {
  ms: number;
  lines: number;
  maxRssKB: number;
  understood?: number;
  flows?: number;
}

function runChild(script: string, dir: string, ...args: string[]): ChildResult {
  const out = execFileSync(process.execPath, [join(import.meta.dirname, script), dir, ...args], { encoding: 'utf8', maxBuffer: 1 << 24 });
  return JSON.parse(out.trim().split('\n').pop()!) as ChildResult;
}

function best(script: string, dir: string, runs: number, ...args: string[]): ChildResult {
  let b: ChildResult | undefined;
  for (let i = 0; i < runs; i++) {
    const r = runChild(script, dir, ...args);
    if (!b || r.ms < b.ms) b = r;
  }
  return b!;
}

async function main(): Promise<void> {
  const root = mkdtempSync(join(tmpdir(), 'datapath-bench-'));
  try {
    const oneM = join(root, '1m');
    const fourM = join(root, '4m');
    await generateMixedLog(oneM, 1_000_000);
    await generateMixedLog(fourM, 4_000_000);
    const base = best('child-split.js', oneM, 3, 'readline');
    const fastest = best('child-split.js', oneM, 3, 'indexof');
    const a1 = best('child-analyze.js', oneM, 3);
    const a4 = runChild('child-analyze.js', fourM);
    const ratio = base.ms / a1.ms;
    const rss1 = a1.maxRssKB / 1024;
    const rss4 = a4.maxRssKB / 1024;
    const fmt = (n: number) => Math.round(n).toLocaleString('en-US');
    console.log('analyze benchmark (1,000,000-line mixed log: tcpdump -pne 40%, cilium monitor -v 30%, pwru 30%)');
    console.log(`  baseline split-only (node:readline): ${fmt(base.lines / (base.ms / 1000))} lines/s (${base.ms.toFixed(0)} ms)`);
    console.log(`  fastest split (indexOf on chunks):  ${fmt(fastest.lines / (fastest.ms / 1000))} lines/s (${fastest.ms.toFixed(0)} ms)`);
    console.log(`  analyze:             ${fmt(a1.lines / (a1.ms / 1000))} lines/s (${a1.ms.toFixed(0)} ms, ${a1.understood} understood, ${a1.flows} flows)`);
    console.log(`  throughput ratio analyze/baseline: ${ratio.toFixed(2)} (target >= 0.30) ${ratio >= 0.3 ? 'OK' : 'MISSED'}; against the fastest split: ${(fastest.ms / a1.ms).toFixed(2)}`);
    console.log(`  peak RSS at 1M lines: ${rss1.toFixed(0)} MB (target <= 300 MB) ${rss1 <= 300 ? 'OK' : 'MISSED'}`);
    console.log(`  peak RSS at 4M lines: ${rss4.toFixed(0)} MB; ratio 4M/1M: ${(rss4 / rss1).toFixed(2)} (target <= 1.3) ${rss4 / rss1 <= 1.3 ? 'OK' : 'MISSED'}`);
    printStart(await measureStart());
    printLongLines(await measureLongLines());
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
  // The lab's API server and emulated tools run from their TypeScript sources, so the lab bench
  // runs under tsx's loader from the checkout, not from dist/.
  const loader = pathToFileURL(join(REPO_ROOT, 'node_modules/tsx/dist/loader.mjs')).href;
  const lab = spawnSync(process.execPath, ['--import', loader, join(REPO_ROOT, 'bench/lab.ts')], { stdio: 'inherit', cwd: REPO_ROOT });
  if (lab.status !== 0) process.exitCode = 1;
}
void main();
