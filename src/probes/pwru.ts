import type { PlannedProbe } from '../core/plan.js';
import { textProbeCommand, type CommandContext, type ProbeCommand } from './probe-command.js';

/** pwru logs `Listening for events..` on stderr once every kprobe is attached (which can take seconds). */
export const PWRU_READY = 'Listening for events';
export const PWRU_MAX_BYTES = 64 * 1024 * 1024;

/**
 * pwruArgv: the flags the pwru parser's column layout depends on are given explicitly (their
 * defaults changed in v1.0.8). `--filter-track-skb` keeps following a packet after VXLAN
 * encapsulation or NAT changes its addresses; the pcap filter is one argv word per token.
 */
export function pwruArgv(maxLines: number, filter: readonly string[]): string[] {
  return ['pwru', '--output-meta', '--output-tuple', '--filter-track-skb', '--output-limit-lines', String(maxLines), ...filter];
}

/** pwruCommand: pwru on one node, in that node's pwru pod. */
export function pwruCommand(probe: PlannedProbe, ctx: CommandContext): ProbeCommand | undefined {
  return textProbeCommand(probe, ctx, { argv: pwruArgv(ctx.pwruMaxLines, probe.filter), ready: PWRU_READY, format: 'pwru', maxBytes: PWRU_MAX_BYTES });
}
