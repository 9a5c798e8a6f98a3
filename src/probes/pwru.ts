import { END_OF_SKB } from '../core/correlate/accumulator.js';
import { RULE_FUNCS } from '../core/correlate/kernel-path.js';
import type { PlannedProbe } from '../core/plan.js';
import { textProbeCommand, type CommandContext, type ProbeCommand } from './probe-command.js';

/** pwru logs `Listening for events..` on stderr once every kprobe is attached (which can take seconds). */
export const PWRU_READY = 'Listening for events';
export const PWRU_MAX_BYTES = 64 * 1024 * 1024;

/** `--pwru-functions`: the functions the report reads (default), or every function that takes an skb (what pwru probes by itself). */
export type PwruFunctions = 'rules' | 'all';
export const PWRU_FUNCTION_CHOICES: readonly PwruFunctions[] = ['rules', 'all'];

/**
 * The kernel functions the report's rules read of pwru's lines: every function a path rule looks
 * at (kernel-path.ts RULE_FUNCS: redirects, receive, forward and local delivery, device and
 * tunnel transmit, neighbour output, netfilter hooks, route lookups, drop points) and the ones
 * that end an skb's life (accumulator.ts END_OF_SKB: the next skb at that address is another
 * packet). pwru attaches one probe per function, about 2 ms each, and a kernel has well over a
 * thousand that take an skb: attaching only these makes pwru ready in a fraction of the time,
 * and the report concludes the same (test/lab/pwru-functions.test.ts). Functions that take no skb
 * (fib_table_lookup) match nothing and cost nothing.
 */
export const PWRU_RULE_FUNCTIONS: readonly string[] = [...new Set([...RULE_FUNCS, ...END_OF_SKB])].sort();

/**
 * pwru's `--filter-func` for the rule functions: pwru keeps a function when the expression's
 * leftmost match is its whole name (internal/pwru/utils.go GetFuncs), so the alternation is
 * anchored at both ends, where a prefix (ip_output, ip_output2) cannot shadow a longer name.
 */
export function pwruFunctionFilter(): string {
  return `^(${PWRU_RULE_FUNCTIONS.join('|')})$`;
}

/**
 * pwruArgv: the flags the pwru parser's column layout depends on are given explicitly (their
 * defaults changed in v1.0.8). `--filter-track-skb` keeps following a packet after VXLAN
 * encapsulation or NAT changes its addresses (its kfree_skbmem probe is attached whatever
 * `--filter-func` says); the pcap filter is one argv word per token.
 */
export function pwruArgv(maxLines: number, filter: readonly string[], functions: PwruFunctions = 'rules'): string[] {
  const only = functions === 'rules' ? ['--filter-func', pwruFunctionFilter()] : [];
  return ['pwru', '--output-meta', '--output-tuple', '--filter-track-skb', ...only, '--output-limit-lines', String(maxLines), ...filter];
}

/** pwruCommand: pwru on one node, in that node's pwru pod. */
export function pwruCommand(probe: PlannedProbe, ctx: CommandContext): ProbeCommand | undefined {
  const argv = pwruArgv(ctx.pwruMaxLines, probe.filter, ctx.pwruFunctions);
  return textProbeCommand(probe, ctx, { argv, ready: PWRU_READY, format: 'pwru', maxBytes: PWRU_MAX_BYTES });
}
