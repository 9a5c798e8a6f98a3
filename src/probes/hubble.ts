import type { PlannedProbe } from '../core/plan.js';
import { textProbeCommand, type CommandContext, type ProbeCommand } from './probe-command.js';

/**
 * `hubble status` prints `Healthcheck (via unix:///var/run/cilium/hubble.sock): Ok` once the
 * node's Hubble server answered (cilium/cilium hubble/cmd/status): the probe is ready then.
 */
export const HUBBLE_READY = 'Healthcheck (via ';
export const HUBBLE_MAX_BYTES = 64 * 1024 * 1024;
/**
 * How far back `observe` starts: `--follow` alone prints only flows after its request reached the
 * server, which is after `status` answered; `--since` replays the moments between from Hubble's
 * ring buffer, so the traffic sent once the probe is ready cannot fall in that gap (milliseconds:
 * one exec of the CLI and a connect). Kept short: what the pods sent in that second before shows too.
 */
export const HUBBLE_SINCE = '1s';

/**
 * The agent image ships the hubble CLI, which talks to the node's own Hubble socket (its image sets
 * HUBBLE_SERVER to it). `status` first, on stderr: it answers at once when Hubble is on, and fails
 * with the CLI's own reason when it is off, so the probe ends before it is ready and the trace
 * goes on without it. The script is constant; the CLI and its flags are positional parameters.
 */
const STATUS_THEN_OBSERVE = '"$0" status >&2 && exec "$0" observe "$@"';

/** hubbleArgv: jsonpb flows (node_name, full timestamps), to and from the traced addresses. */
export function hubbleArgv(addresses: readonly string[] | undefined): string[] {
  const filter = [...new Set(addresses ?? [])].flatMap((ip) => ['--ip', ip]);
  return ['sh', '-c', STATUS_THEN_OBSERVE, 'hubble', '--follow', '--since', HUBBLE_SINCE, '-o', 'jsonpb', ...filter];
}

/**
 * hubbleOff: the one line a trace prints when the hubble probe ended before it was ready: the
 * node's Hubble did not answer `hubble status` (not enabled, or no CLI in the agent image).
 */
export function hubbleOff(node: string, failure: string | undefined): string {
  return `Hubble is off on ${node} (${failure ?? 'it did not answer'}): tracing without it`;
}

/** hubbleCommand: Hubble of one node, in that node's agent pod (container cilium-agent). */
export function hubbleCommand(probe: PlannedProbe, ctx: CommandContext): ProbeCommand | undefined {
  return textProbeCommand(probe, ctx, { argv: hubbleArgv(probe.addresses), ready: HUBBLE_READY, format: 'hubble', maxBytes: HUBBLE_MAX_BYTES });
}
