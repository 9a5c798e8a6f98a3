/**
 * A lab with its API server for tests that run the real CLI against it (trace, then analyze of
 * what trace saved), and the CLI run in-process with its output collected.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { spawnSync } from 'node:child_process';
import { labDown, labUp, type UpOptions } from './kernel/lab.js';
import type { LabState } from './state.js';
import { runMain } from '../helpers/run-main.js';

/** A stream that keeps what was written to it. */
export interface Lab {
  dir: string;
  instance: string;
  state: LabState;
  kubeconfig: string;
}

/** Registers beforeAll/afterAll that bring a lab (BPF mode unless told) with its API server up and down. */
export function useApiLab(tunnel: 'vxlan' | 'disabled', more: Pick<UpOptions, 'mode' | 'monitorAggregation' | 'datapathDebug'> = {}): () => Lab {
  let lab: Lab | undefined;
  beforeAll(async () => {
    const dir = join(mkdtempSync(join(tmpdir(), 'dplab-trace-')), 'lab');
    const instance = `t${randomBytes(3).toString('hex')}`;
    const up = await labUp({ dir, instance, mode: 'bpf', tunnel, monitorAggregation: 'none', api: true, ...more });
    if (!up.state.api) throw new Error(`the lab API server did not start: ${up.apiUnavailable}`);
    lab = { dir, instance, state: up.state, kubeconfig: up.state.api.kubeconfig };
  }, 90_000);
  afterAll(async () => {
    if (!lab) return;
    await labDown({ dir: lab.dir, instance: lab.instance });
    rmSync(dirname(lab.dir), { recursive: true, force: true });
  }, 60_000);
  return () => {
    if (!lab) throw new Error('the lab did not come up');
    return lab;
  };
}

/** Runs the CLI in-process with an empty environment, as a user would with --kubeconfig. */
export function cli(args: string[]): Promise<{ code: number; out: string; err: string }> {
  return runMain(args);
}

/** The real kubectl against the lab's API server; throws with its stderr when it fails. */
export function kubectl(lab: Lab, args: string[]): string {
  const r = spawnSync('/usr/bin/kubectl', args, { encoding: 'utf8', env: { ...process.env, KUBECONFIG: lab.kubeconfig, KUBECACHEDIR: `${lab.dir}/kubecache` } });
  if (r.status !== 0) throw new Error(`kubectl ${args.join(' ')}: ${r.stderr}`);
  return r.stdout;
}

/** What the emulated agent needs to load a policy change into the maps: well within this. */
export const settle = (): Promise<void> => new Promise((r) => setTimeout(r, 1000));
