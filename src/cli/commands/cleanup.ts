import { cleanup } from '../../app/cleanup.js';
import { EXIT, UsageError } from '../../core/errors.js';
import { sanitizeTerminalText } from '../../render/sanitize.js';
import { connectCluster } from '../cluster.js';
import type { IOStreams } from '../io.js';

/** runCleanup: find and remove what interrupted traces left; one line per thing removed. */
export async function runCleanup(opts: Record<string, unknown>, io: IOStreams, signal: AbortSignal): Promise<number> {
  const runId = opts.run as string | undefined;
  if (runId !== undefined && !/^[a-z0-9]+$/.test(runId)) throw new UsageError(`--run ${runId}: a run id is lower-case letters and digits (see the labels of the probe pods)`);
  const format = String(opts.output);
  if (format !== 'table' && format !== 'json' && format !== 'yaml') throw new UsageError(`cleanup prints -o table, json or yaml, not ${format}`);
  const agentNamespace = (opts.agentNamespace as string | undefined) ?? 'kube-system';
  const cluster = connectCluster(opts, agentNamespace, signal);
  const result = await cleanup({ probeNamespace: (opts.probeNamespace as string | undefined) ?? cluster.config.namespace, agentNamespace, runId }, cluster.kube, cluster.exec, signal);
  if (format === 'json') io.out.write(`${JSON.stringify(result, null, 2)}\n`);
  else if (format === 'yaml') io.out.write((await import('yaml')).stringify(result));
  else {
    for (const p of result.podsDeleted) io.out.write(`deleted probe pod ${p}\n`);
    for (const p of result.processesKilled) io.out.write(`killed the process of ${sanitizeTerminalText(p)}\n`);
    for (const r of result.rulesRemoved) io.out.write(`removed TRACE rule ${sanitizeTerminalText(r)}\n`);
    if (result.podsDeleted.length + result.processesKilled.length + result.rulesRemoved.length === 0) io.err.write('nothing was left behind\n');
  }
  for (const p of result.problems) io.err.write(`error: ${sanitizeTerminalText(p)}\n`);
  if (signal.aborted) return EXIT.interrupted;
  return result.problems.length ? EXIT.error : EXIT.ok;
}
