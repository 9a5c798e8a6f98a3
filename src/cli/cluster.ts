import { createExecPort } from '../adapters/kube/exec.js';
import { createKubePort } from '../adapters/kube/kube-port.js';
import { loadKubeConfig, type LoadedKubeConfig } from '../adapters/kube/config.js';
import type { ExecPort, KubePort } from '../app/ports.js';
import { UsageError } from '../core/errors.js';
import { requestTimeoutMs } from './program.js';

/** Cluster: the ports of the chosen kubeconfig context, and what was chosen. */
export interface Cluster {
  config: LoadedKubeConfig;
  kube: KubePort;
  exec: ExecPort;
}

/**
 * connectCluster loads the kubeconfig from the kubectl flags and builds the ports (no request is
 * made yet). Every API request is bounded by --request-timeout and ended by the command's signal.
 */
export function connectCluster(opts: Record<string, unknown>, agentNamespace?: string, signal?: AbortSignal): Cluster {
  const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);
  const timeoutMs = requestTimeoutMs(opts);
  const config = loadKubeConfig({ kubeconfig: str(opts.kubeconfig), context: str(opts.context), namespace: str(opts.namespace) });
  return { config, kube: createKubePort(config.kc, { namespace: config.namespace, agentNamespace, bound: { timeoutMs, signal } }), exec: createExecPort(config.kc) };
}

/** tableOrDataFormat: `-o` for commands that print a table or data (mermaid is for hop reports). */
export function tableOrDataFormat(output: unknown, command: string): 'table' | 'wide' | 'json' | 'yaml' {
  if (output === 'table' || output === 'wide' || output === 'json' || output === 'yaml') return output;
  throw new UsageError(`${command} prints -o table, wide, json or yaml, not ${String(output)}`);
}
