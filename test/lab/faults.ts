/**
 * `npm run lab -- fault KIND [--node bpf1|bpf2] [--for MS] [--tool T,...] [--pod NS/NAME] [--delay MS]`:
 * breaks a running lab on purpose, the way a real cluster fails (the kinds and what each does:
 * test/lab/api/faults.ts, which plays them inside the API server). Writes the fault to the lab's
 * faults.json, signals the API server, and returns once the server has acted on it.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { FAULT_KINDS, FAULTS_ACTED_FILE, FAULTS_FILE, type Fault, type FaultFile, type FaultKind } from './api/faults.js';
import { isAgentPod } from './api/objects.js';
import { labPaths } from './kernel/paths.js';
import type { LabState } from './state.js';

export { FAULT_KINDS, type FaultKind };

export interface FaultRequest {
  kind: FaultKind;
  node?: string;
  /** How long the fault lasts (api-5xx, api-slow, probe-pending, tool-missing; agent-gone: until the agent is back). */
  forMs?: number;
  tools?: string[];
  pod?: string;
  delayMs?: number;
}

/** The default window of a fault that has one. */
export const DEFAULT_FOR_MS = 10_000;
/** tool-missing without --tool: the capture tool of the probe image. */
const DEFAULT_TOOLS = ['tcpdump'];
export const TOOLS = ['tcpdump', 'nc', 'pwru', 'cilium-dbg', 'cilium'];

/** The fault as the server reads it, with defaults filled in from the lab's state. */
export function faultOf(state: LabState, req: FaultRequest, now = Date.now()): Fault {
  const node = req.node ?? state.nodes[0]?.name;
  if (!state.nodes.some((n) => n.name === node)) throw new Error(`--node must be one of ${state.nodes.map((n) => n.name).join(', ')}, not ${node}`);
  const fault: Fault = { id: randomBytes(4).toString('hex'), kind: req.kind, node, from: now, until: now + (req.forMs ?? DEFAULT_FOR_MS) };
  if (req.kind === 'tool-missing') fault.tools = req.tools ?? DEFAULT_TOOLS;
  if (req.kind === 'api-slow') fault.delayMs = req.delayMs ?? 2000;
  if (req.kind === 'pod-deleted') fault.pod = req.pod ?? defaultPod(state, node);
  // exec-cut acts on every node unless told; node-gone and agent-gone on one.
  if (req.kind === 'exec-cut' && req.node === undefined) delete fault.node;
  return fault;
}

function defaultPod(state: LabState, node: string | undefined): string {
  const pod = state.pods.find((p) => p.node === node && !p.hostNetwork && !isAgentPod(p));
  if (!pod) throw new Error(`no pod on ${node} to delete`);
  return `${pod.namespace}/${pod.name}`;
}

/** Plays a fault on the lab in `dir`; resolves once its API server has acted on it. */
export async function injectFault(dir: string, req: FaultRequest): Promise<Fault> {
  const paths = labPaths(dir);
  if (!existsSync(paths.state)) throw new Error(`no lab is up in ${dir}`);
  const state = JSON.parse(readFileSync(paths.state, 'utf8')) as LabState;
  if (!state.api) throw new Error('the lab has no API server (up without --no-api)');
  const fault = faultOf(state, req);
  const file = join(dir, FAULTS_FILE);
  const current: FaultFile = existsSync(file) ? (JSON.parse(readFileSync(file, 'utf8')) as FaultFile) : { faults: [] };
  current.faults = [...current.faults.filter((f) => f.until > Date.now() || f.kind === 'node-gone'), fault];
  writeFileSync(`${file}.tmp`, JSON.stringify(current, null, 2));
  renameSync(`${file}.tmp`, file);
  process.kill(state.api.pid, 'SIGUSR2');
  const acted = join(dir, FAULTS_ACTED_FILE);
  for (let i = 0; i < 100; i++) {
    if (existsSync(acted) && readFileSync(acted, 'utf8').includes(`"${fault.id}"`)) return fault;
    await new Promise((r) => setTimeout(r, 30));
  }
  throw new Error(`the API server (pid ${state.api.pid}) did not act on the fault within 3 s`);
}
