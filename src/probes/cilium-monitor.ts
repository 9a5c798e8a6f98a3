import type { PlannedProbe } from '../core/plan.js';
import { bounded, killByPidfileArgv, pidfilePath, targetOf, withPidfile, type CommandContext, type ProbeCommand } from './probe-command.js';

/** `Listening for events on 4 CPUs with 64x4096 of shared memory`, once the monitor is connected. */
export const MONITOR_READY = 'Listening for events';
/** monitor has no line limit of its own: this many bytes are kept, then it is stopped. */
export const MONITOR_MAX_BYTES = 64 * 1024 * 1024;

/**
 * monitorArgv: `-v` prints the DEBUG records (CT lookups, identity mapping, local delivery) and a
 * layer dump of each trace, which is what ties a monitor record to one packet. Endpoint ids are
 * the node's own: the same id means another pod on another node.
 */
export function monitorArgv(cli: string, endpoints: readonly number[]): string[] {
  return [cli, 'monitor', '-v', ...endpoints.flatMap((ep) => ['--related-to', String(ep)])];
}

/** monitorCommand: the monitor of one node, run in that node's agent pod. */
export function monitorCommand(probe: PlannedProbe, ctx: CommandContext): ProbeCommand | undefined {
  const agent = ctx.agent(probe.node);
  const target = targetOf(probe, ctx);
  if (!agent || !target) return undefined;
  const pidfile = pidfilePath(ctx.runId, probe.id);
  return {
    probe,
    target,
    setup: [],
    // The monitor retries forever when the agent socket closes: timeout is its only end.
    argv: withPidfile(pidfile, bounded(ctx.lifetimeS, monitorArgv(agent.cli, probe.endpoints ?? []))),
    ready: { kind: 'marker', text: MONITOR_READY },
    stop: killByPidfileArgv(pidfile),
    teardown: [],
    output: 'text',
    format: 'monitor',
    maxBytes: MONITOR_MAX_BYTES,
  };
}
