import { EndpointResolver, type ResolvedEndpoint } from '../../app/resolve.js';
import { DatapathError, EXIT } from '../../core/errors.js';
import { renderEndpoints } from '../../render/endpoints.js';
import { connectCluster, tableOrDataFormat } from '../cluster.js';
import { useColor, type IOStreams } from '../io.js';
import { parsePodArg } from '../pod-arg.js';

/** runEndpoints: pods -> resolve each (agent lookups shared per node) -> table/json/yaml. Returns the exit code. */
export async function runEndpoints(pods: string[], opts: Record<string, unknown>, io: IOStreams, signal: AbortSignal): Promise<number> {
  const args = pods.map(parsePodArg);
  const format = tableOrDataFormat(opts.output, 'endpoints');
  const cluster = connectCluster(opts, opts.agentNamespace as string | undefined, signal);
  const resolver = new EndpointResolver(cluster.kube, cluster.exec, { signal });
  const started = performance.now();
  const settled = await Promise.allSettled(args.map((a) => resolver.resolve({ namespace: a.namespace ?? cluster.config.namespace, name: a.name })));
  if (opts.debug) io.err.write(`resolved ${args.length} pods in ${Math.round(performance.now() - started)} ms\n`);

  const found: ResolvedEndpoint[] = [];
  const errors: DatapathError[] = [];
  for (const s of settled) {
    if (s.status === 'fulfilled') found.push(s.value);
    else if (s.reason instanceof DatapathError) errors.push(s.reason);
    else throw s.reason;
  }
  // JSON and YAML always print a document, so scripts can parse even a partial answer.
  if (found.length > 0 || format === 'json' || format === 'yaml') io.out.write(renderEndpoints(found, format, useColor(opts.color as string, io)));
  for (const e of errors) io.err.write(`error: ${e.message}\n`);
  if (signal.aborted) return EXIT.interrupted;
  if (errors.length === 0) return EXIT.ok;
  if (found.length > 0) return EXIT.partial;
  return errors.every((e) => e.exitCode === errors[0].exitCode) ? errors[0].exitCode : EXIT.error;
}
