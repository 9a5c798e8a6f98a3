import type { Command } from 'commander';
import { complete, formatCompletion, type CompletionSources } from '../complete.js';
import type { IOStreams } from '../io.js';

/** Completion must answer while the user waits at the prompt. */
const CLUSTER_TIMEOUT_MS = 3000;

/** Flags of the words typed so far that choose the cluster, read before the cluster is asked. */
function kubeFlags(words: string[]): { kubeconfig?: string; context?: string } {
  const flags: { kubeconfig?: string; context?: string } = {};
  for (let i = 0; i < words.length - 1; i++) {
    for (const name of ['kubeconfig', 'context'] as const) {
      if (words[i] === `--${name}`) flags[name] = words[i + 1];
      else if (words[i].startsWith(`--${name}=`)) flags[name] = words[i].slice(name.length + 3);
    }
  }
  return flags;
}

/**
 * Cluster names for completion through the kube adapter, loaded only when a pod, namespace or
 * context is being completed. Any failure (no kubeconfig, no answer in time, RBAC) offers nothing:
 * a completion must never print an error into the user's command line.
 */
function clusterSources(words: string[], io: IOStreams): CompletionSources {
  const flags = kubeFlags(words);
  const reads = async () => (await import('../../adapters/kube/quick-reads.js')).quickReads(flags, io.env, CLUSTER_TIMEOUT_MS);
  const quietly = async (f: () => Promise<string[]>): Promise<string[]> => {
    try {
      return await f();
    } catch {
      return [];
    }
  };
  return {
    pods: (namespace) => quietly(async () => {
      const r = await reads();
      return r.podNames(namespace ?? r.namespace);
    }),
    namespaces: () => quietly(async () => (await reads()).namespaceNames()),
    contexts: () => quietly(async () => (await import('../../adapters/kube/quick-reads.js')).contextNames(flags, io.env)),
  };
}

/** runComplete answers `kubectl-datapath __complete WORDS...` (Cobra's protocol) on stdout. */
export async function runComplete(program: Command, words: string[], withDescriptions: boolean, io: IOStreams): Promise<number> {
  const result = await complete(program, words, clusterSources(words, io));
  io.out.write(formatCompletion(result, withDescriptions));
  return 0;
}
