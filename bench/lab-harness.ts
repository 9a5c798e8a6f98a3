import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { bundleCliSingle, bundleCliSplit, REPO_ROOT } from '../krew/bundle.js';
import { buildSingleExecutable } from '../krew/sea.js';
import { cannotRunReason, labDown, labUp, type UpOptions } from '../test/lab/kernel/lab.js';
import type { LabState } from '../test/lab/state.js';

/**
 * What the lab benches share (bench/lab.ts, bench/trace-cloud.ts, bench/endpoints.ts): a lab of
 * their own (own directory and namespace prefix), the plugin installed as krew installs it and
 * found by kubectl's plugin discovery, commands timed by their wall clock, and the labs taken
 * down at the end, on error and on Ctrl-C.
 */
export interface Run {
  ms: number;
  stdout: string;
  stderr: string;
  code: number | null;
}

export function run(cmd: string, args: string[], env: NodeJS.ProcessEnv): Promise<Run> {
  return new Promise((resolve, reject) => {
    const start = process.hrtime.bigint();
    const child = spawn(cmd, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ ms: Number(process.hrtime.bigint() - start) / 1e6, stdout, stderr, code }));
  });
}

export function mustSucceed(r: Run, what: string): Run {
  if (r.code !== 0) throw new Error(`${what} exited ${r.code}:\n${r.stderr.slice(-3000)}`);
  return r;
}

export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
}

/** How the plugin is installed: the bundle (launcher + split modules, every platform but linux/amd64) or the linux/amd64 single executable. */
export type PluginForm = 'bundle' | 'single-executable';

export interface LabWithPlugin {
  state: LabState;
  dir: string;
  upS: number;
  /** Environment in which `kubectl` finds the plugin and the lab's kubeconfig. */
  env: NodeJS.ProcessEnv;
  kubectl(args: string[]): Promise<Run>;
}

/** Why the lab benches cannot run here, or undefined. */
export function labBenchUnavailable(): string | undefined {
  return cannotRunReason() ?? ((process.env.PATH ?? '').split(':').some((d) => d !== '' && existsSync(join(d, 'kubectl'))) ? undefined : 'kubectl is not on PATH');
}

/**
 * LabBench: a temporary root holding the plugin and the labs a bench brings up; `close` takes
 * them down (also on SIGINT/SIGTERM, then exits 130/143).
 */
export class LabBench {
  readonly root = mkdtempSync(join(tmpdir(), 'datapath-bench-lab-'));
  private readonly labs: { dir: string; instance: string }[] = [];
  private readonly bins = new Map<PluginForm, string>();
  private readonly onSignal = (sig: NodeJS.Signals): void => {
    void this.close().finally(() => process.exit(sig === 'SIGINT' ? 130 : 143));
  };

  constructor() {
    process.once('SIGINT', this.onSignal);
    process.once('SIGTERM', this.onSignal);
  }

  /** A directory holding the plugin as `kubectl-datapath`, built once per form. */
  async pluginBin(form: PluginForm): Promise<string> {
    const have = this.bins.get(form);
    if (have) return have;
    const bin = join(this.root, `bin-${form}`);
    mkdirSync(bin);
    if (form === 'bundle') {
      await bundleCliSplit(bin);
      copyFileSync(join(REPO_ROOT, 'krew/launcher.js'), join(bin, 'kubectl-datapath'));
    } else {
      const single = join(this.root, 'kubectl-datapath.cjs');
      await bundleCliSingle(single);
      buildSingleExecutable(single, join(bin, 'kubectl-datapath'));
    }
    this.bins.set(form, bin);
    return bin;
  }

  /** Brings up a lab (BPF, VXLAN unless told otherwise) with its API server, and the plugin on PATH. */
  async lab(options: Omit<UpOptions, 'dir' | 'instance' | 'api'>, form: PluginForm = 'bundle'): Promise<LabWithPlugin> {
    const bin = await this.pluginBin(form);
    const instance = `b${randomBytes(3).toString('hex')}`;
    const dir = join(this.root, `lab-${instance}`);
    const started = performance.now();
    this.labs.push({ dir, instance });
    const up = await labUp({ mode: 'bpf', tunnel: 'vxlan', ...options, dir, instance, api: true });
    if (!up.state.api) throw new Error(`the lab API server did not start: ${up.apiUnavailable}`);
    const home = join(this.root, `home-${instance}`);
    mkdirSync(home);
    const env = { PATH: `${bin}:${process.env.PATH ?? '/usr/bin:/bin'}`, HOME: home, KUBECONFIG: up.state.api.kubeconfig, KUBECACHEDIR: join(this.root, `kube-cache-${instance}`) };
    return { state: up.state, dir, upS: (performance.now() - started) / 1000, env, kubectl: (args) => run('kubectl', args, env) };
  }

  async close(): Promise<void> {
    process.off('SIGINT', this.onSignal);
    process.off('SIGTERM', this.onSignal);
    for (const t of this.labs.splice(0)) await labDown(t).catch((err: unknown) => console.error(`lab down failed: ${(err as Error).message}`));
    rmSync(this.root, { recursive: true, force: true });
  }
}

/**
 * runLabBench: a lab bench's main: says why it skips (exit 0), runs `measure` on its own LabBench,
 * writes the figures to BENCH_RESULT_FILE when set (bench/run.ts --json reads them), and takes
 * the labs down whatever happens. Returns the exit code.
 */
export async function runLabBench(what: string, measure: (bench: LabBench) => Promise<unknown>): Promise<number> {
  const reason = labBenchUnavailable();
  if (reason) {
    console.log(`${what} skipped: ${reason}`);
    return 0;
  }
  const bench = new LabBench();
  try {
    const result = await measure(bench);
    if (process.env.BENCH_RESULT_FILE) writeFileSync(process.env.BENCH_RESULT_FILE, JSON.stringify(result));
    return 0;
  } catch (err) {
    console.error(`${what} failed: ${(err as Error).message}`);
    return 1;
  } finally {
    await bench.close();
  }
}
