import type { FlowEvidence } from './accumulator.js';

/**
 * NetfilterWay: how a packet crossed a host's netfilter hooks, read from iptables/nft traces:
 * which chains, on which interfaces, and what that says about where the packet came from and went.
 * The hooks are the kernel's (net/ipv4/ip_input.c, ip_forward.c, ip_output.c): PREROUTING then the
 * routing decision, then INPUT (to the host itself) or FORWARD (routed through it); OUTPUT for what
 * the host sends itself; POSTROUTING for everything that leaves.
 */
export interface NetfilterWay {
  /**
   * local-out: sent by the host (OUTPUT; IN= empty); loopback: over lo; forward: routed through the
   * host (FORWARD); local-in: addressed to the host (INPUT); prerouting-only: traced in PREROUTING
   * and then nowhere.
   */
  kind: 'local-out' | 'loopback' | 'forward' | 'local-in' | 'prerouting-only' | 'other';
  /** `table:chain` in the order the packet crossed them. */
  chains: string[];
  in?: string;
  out?: string;
  final?: { chain: string; verdict: string };
  /** The packet went on, translated, as this flow (`src > dst`). */
  continuedAs?: string;
  /** Traced by nf_tables (xtables-monitor, nft monitor trace), where a hook without a chain prints nothing. */
  nft?: boolean;
}

/** readNetfilter reads a flow's traced chains; undefined when no trace saw the flow. */
export function readNetfilter(evidence: FlowEvidence, onStream?: (stream: number) => boolean): NetfilterWay | undefined {
  const chains: string[] = [];
  let inIf: string | undefined;
  let outIf: string | undefined;
  for (const [chain, e] of evidence.iptables) {
    if (onStream && !onStream(e.stream)) continue;
    chains.push(chain);
    inIf ??= e.in;
    outIf ??= e.out;
  }
  if (chains.length === 0) return undefined;
  const hooks = new Set(chains.map((c) => c.slice(c.lastIndexOf(':') + 1).toUpperCase()));
  let kind: NetfilterWay['kind'];
  if (inIf === 'lo' || outIf === 'lo') kind = 'loopback';
  else if (hooks.has('FORWARD')) kind = 'forward';
  else if (hooks.has('OUTPUT') || (!inIf && outIf && !hooks.has('PREROUTING') && !hooks.has('INPUT'))) kind = 'local-out';
  else if (hooks.has('INPUT')) kind = 'local-in';
  else if (hooks.size === 1 && hooks.has('PREROUTING')) kind = 'prerouting-only';
  else kind = 'other';
  const final = evidence.iptablesFinal && (!onStream || onStream(evidence.iptablesFinal.stream)) ? { chain: evidence.iptablesFinal.chain, verdict: evidence.iptablesFinal.verdict } : undefined;
  return { kind, chains, in: inIf, out: outIf, final, continuedAs: evidence.iptablesContinuedAs, ...(evidence.iptablesNft ? { nft: true } : {}) };
}

/** One line of evidence: the chains a node's trace showed, and the interfaces. */
export function netfilterEvidence(way: NetfilterWay, node: string): string {
  const ifaces = [way.in ? `in ${way.in}` : 'no input interface', way.out ? `out ${way.out}` : ''].filter(Boolean).join(', ');
  const final = way.final ? `; last verdict ${way.final.verdict} at ${way.final.chain}` : '';
  return `iptables TRACE on ${node}: ${way.chains.join(' -> ')} (${ifaces})${final}: the host's netfilter hooks ran`;
}

/** The path sentence for traffic the host sent, received or forwarded, by the chains it crossed. */
export function netfilterSentence(way: NetfilterWay, dir: string): string {
  const chains = way.chains.join(' -> ');
  const final = way.final ? ` The last verdict traced: ${way.final.verdict} at ${way.final.chain}.` : '';
  switch (way.kind) {
    case 'local-out':
      return `Path host-stack: the ${dir} was sent by the host itself (netfilter OUTPUT, no input interface), not by a pod, and left${way.out ? ` on ${way.out}` : ''}; chains crossed: ${chains}.${final}`;
    case 'loopback':
      return `Path host-stack: the ${dir} went over the host's loopback (lo) and never left the host; chains crossed: ${chains}.${final}`;
    case 'forward':
      return `Path host-stack: the ${dir} entered the host${way.in ? ` on ${way.in}` : ''}, was routed by its network stack (netfilter FORWARD) and left${way.out ? ` on ${way.out}` : ''}; chains crossed: ${chains}.${final}`;
    case 'local-in':
      return `Path host-stack: the ${dir} entered the host${way.in ? ` on ${way.in}` : ''} addressed to the host itself (netfilter INPUT), not forwarded; chains crossed: ${chains}.${final}`;
    case 'prerouting-only':
      if (way.continuedAs) {
        return `Path host-stack: the ${dir} entered the host${way.in ? ` on ${way.in}` : ''} and its addresses were translated in PREROUTING (${chains}): the same trace goes on as ${way.continuedAs}.`;
      }
      // nf_tables hooks only the chains that exist (iptables-nft adds a built-in chain when a rule
      // first needs it), so a trace of it says nothing of hooks without one; the legacy tables
      // register every chain of a table at once (xt_hook_ops_alloc), so there a missing hook is one not reached.
      if (way.nft) {
        return `Path host-stack: the ${dir} entered the host${way.in ? ` on ${way.in}` : ''} and was traced in PREROUTING (${chains}), and no later hook printed it: where it went after the routing decision is unknown, since nf_tables traces only chains that exist (iptables-nft creates one when a rule needs it); a chain in INPUT and FORWARD (or a capture on the way out) would decide whether it was discarded, delivered or forwarded.${final}`;
      }
      return `Path host-stack: the ${dir} entered the host${way.in ? ` on ${way.in}` : ''} and was traced in PREROUTING (${chains}) but reached neither INPUT nor FORWARD: the routing decision discarded it (no route, rp_filter, forwarding disabled), unless the trace was cut short.${final}`;
    default:
      return `Path host-stack: the host's netfilter saw the ${dir}${way.in ? ` coming in on ${way.in}` : ''}${way.out ? ` going out on ${way.out}` : ''}; chains crossed: ${chains}.${final}`;
  }
}
