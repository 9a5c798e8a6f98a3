/**
 * Kernel-side facts that LabState (the contract with the API server) does not carry but the
 * emulated agent CLI and pwru need: the lab instance, the monitor aggregation setting, host
 * endpoint IDs, ifindexes and netns inodes. Written next to state.json as kernel.json.
 */
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { LabState } from '../state.js';

export type MonitorAggregation = 'none' | 'low' | 'medium' | 'maximum';

export interface KernelFacts {
  instance: string;
  monitorAggregation: MonitorAggregation;
  /** The agent's Debug option: without it Cilium's datapath compiles its cilium_dbg() messages out (no DEBUG lines). */
  datapathDebug?: boolean;
  /** Hubble on the agents (`lab up --hubble on|off`, on by default as in Cilium's Helm chart): the emulated hubble CLI answers only then. */
  hubble?: boolean;
  nodes: Record<string, { hostEndpointId: number; underlayIfindex: number; ciliumHostIfindex: number; vxlanIfindex?: number; netnsInode: number; agentPid: number }>;
  /** By `namespace/name`. */
  pods: Record<string, { netnsInode: number }>;
}

/** kernel.json of the lab whose state.json is at statePath. */
export function kernelFactsPath(statePath: string): string {
  return join(dirname(statePath), 'kernel.json');
}

/** Reads a lab's state.json and kernel.json. */
export function readLab(statePath: string): { state: LabState; kernel: KernelFacts } {
  const state = JSON.parse(readFileSync(statePath, 'utf8')) as LabState;
  const kernel = JSON.parse(readFileSync(kernelFactsPath(statePath), 'utf8')) as KernelFacts;
  return { state, kernel };
}
