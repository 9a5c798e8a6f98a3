/**
 * Where the emulated agent's policy lives on disk (EMULATED agent, real maps): `policy/<node>.policy`,
 * which that node's lab-agent loads into the BPF policy maps whenever it is replaced, and
 * `policy/state.json`, the resolved state the emulated `cilium-dbg policy get|selectors` and
 * `endpoint get` answer from. Both are replaced whole (write + rename), so a reader never sees
 * half a file.
 */
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { policyFile, resolvePolicy, type PolicyEndpoint, type PolicyObject, type ResolvedPolicy } from './resolve.js';

export interface PolicyState extends ResolvedPolicy {
  /** Cilium's policy repository revision: 1 with no policy, +1 per change. */
  revision: number;
  /** The policy objects as the agent received them (for `policy get`). */
  objects: PolicyObject[];
}

export function policyDir(labDir: string): string {
  return join(labDir, 'policy');
}

export function policyFilePath(labDir: string, node: string): string {
  return join(policyDir(labDir), `${node}.policy`);
}

export function policyStatePath(labDir: string): string {
  return join(policyDir(labDir), 'state.json');
}

function replace(path: string, text: string): void {
  writeFileSync(`${path}.tmp`, text);
  renameSync(`${path}.tmp`, path);
}

/** Resolves and writes the policy of every node; returns what it wrote. */
export function writePolicy(
  labDir: string,
  nodes: string[],
  input: { policies: PolicyObject[]; endpoints: PolicyEndpoint[]; namespaceLabels: Record<string, Record<string, string>> },
  revision: number,
): PolicyState {
  mkdirSync(policyDir(labDir), { recursive: true });
  const resolved = resolvePolicy(input);
  const state: PolicyState = { revision, objects: input.policies, ...resolved };
  // The state first: whoever sees a new map can already read what made it.
  replace(policyStatePath(labDir), JSON.stringify(state, null, 2) + '\n');
  for (const node of nodes) replace(policyFilePath(labDir, node), policyFile(resolved, node));
  return state;
}

/** The state the agent last wrote, or undefined when it wrote none. */
export function readPolicyState(labDir: string): PolicyState | undefined {
  try {
    return JSON.parse(readFileSync(policyStatePath(labDir), 'utf8')) as PolicyState;
  } catch {
    return undefined;
  }
}

/** The endpoints policy applies to: the pods with a Cilium endpoint (planned or in state.json). */
export function policyEndpoints(source: { pods: { namespace: string; name: string; node: string; ip: string; hostNetwork: boolean; endpointId?: number; identity?: number; labels: Record<string, string> }[] }): PolicyEndpoint[] {
  return source.pods.flatMap((p) =>
    p.hostNetwork || p.endpointId === undefined || p.identity === undefined
      ? []
      : [{ node: p.node, epId: p.endpointId, identity: p.identity, namespace: p.namespace, name: p.name, ip: p.ip, labels: p.labels }],
  );
}
