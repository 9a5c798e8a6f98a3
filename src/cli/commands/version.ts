import { ciliumVersionInfo, ciliumVersionLine, type CiliumVersionInfo } from '../../app/cilium-version.js';
import { DatapathError, EXIT } from '../../core/errors.js';
import { requestTimeoutMs } from '../program.js';
import type { IOStreams } from '../io.js';
import { VERSION } from '../version.js';

/** How long `version` waits for the cluster: it must stay quick when the cluster is away. */
const CLUSTER_TIMEOUT_MS = 5000;

/**
 * runVersion prints the plugin version and, when a kubeconfig leads to a cluster, the Cilium
 * version its agents run (from their image tags). Without a cluster it says why on stderr and
 * still exits 0: the plugin version is the answer asked for.
 */
export async function runVersion(opts: Record<string, unknown>, io: IOStreams): Promise<number> {
  let cilium: CiliumVersionInfo | undefined;
  let clusterNote: string | undefined;
  if (opts.client !== true) {
    try {
      // Loaded only here: `version --client` and `--help` never load the Kubernetes client.
      const { quickReads } = await import('../../adapters/kube/quick-reads.js');
      // --request-timeout when given (0: no limit, which version still bounds by its own 5 s).
      const timeoutMs = opts.requestTimeout === undefined ? CLUSTER_TIMEOUT_MS : requestTimeoutMs(opts) || CLUSTER_TIMEOUT_MS;
      const reads = quickReads({ kubeconfig: opts.kubeconfig as string | undefined, context: opts.context as string | undefined }, io.env, timeoutMs);
      cilium = ciliumVersionInfo(await reads.agentImages());
    } catch (err) {
      if (!(err instanceof DatapathError) || err.exitCode === EXIT.usage) throw err;
      clusterNote = `cilium version unknown: ${err.message}`;
    }
  }
  const format = opts.output as string;
  if (format === 'json' || format === 'yaml') {
    const doc = { plugin: VERSION, cilium: cilium ?? null, ...(clusterNote ? { clusterError: clusterNote } : {}) };
    if (format === 'json') io.out.write(`${JSON.stringify(doc, null, 2)}\n`);
    else io.out.write((await import('yaml')).stringify(doc));
  } else {
    io.out.write(`kubectl-datapath ${VERSION}\n`);
    if (cilium) io.out.write(`${ciliumVersionLine(cilium)}\n`);
  }
  if (clusterNote) io.err.write(`${clusterNote}\n`);
  return EXIT.ok;
}
