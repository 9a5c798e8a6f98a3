import { runDoctor } from '../../app/doctor.js';
import { EXIT } from '../../core/errors.js';
import { worstLevel } from '../../core/model/doctor.js';
import { renderDoctor } from '../../render/doctor.js';
import { connectCluster, tableOrDataFormat } from '../cluster.js';
import { useColor, type IOStreams } from '../io.js';
import { positiveInt } from '../program.js';

/** runDoctorCommand: options -> checks -> one line each. Exit 0 unless a check failed (warnings alone pass). */
export async function runDoctorCommand(opts: Record<string, unknown>, io: IOStreams, signal: AbortSignal): Promise<number> {
  const format = tableOrDataFormat(opts.output, 'doctor');
  const maxNodes = positiveInt(opts.maxNodes, '--max-nodes');
  const agentNamespace = (opts.agentNamespace as string | undefined) ?? 'kube-system';
  const cluster = connectCluster(opts, agentNamespace, signal);
  const checks = await runDoctor(cluster.kube, cluster.exec, {
    namespace: cluster.config.namespace,
    probeNamespace: (opts.probeNamespace as string | undefined) ?? cluster.config.namespace,
    agentNamespace,
    nodes: opts.node as string[],
    maxNodes,
    signal,
  });
  io.out.write(renderDoctor(checks, format, useColor(opts.color as string, io)));
  if (signal.aborted) return EXIT.interrupted;
  return worstLevel(checks) === 'fail' ? EXIT.error : EXIT.ok;
}
