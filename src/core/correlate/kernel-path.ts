/**
 * KernelPath: what a pwru function sequence says about the path of one skb. These are the
 * functions whose presence or order tells Cilium's datapath modes apart.
 */
export interface KernelPath {
  /** skb_do_redirect: a tc BPF program redirected the skb (bpf_redirect, _peer or _neigh). */
  redirect: boolean;
  /** ip_rcv/ipv6_rcv right after the redirect with no device transmit in between: bpf_redirect_peer. */
  rcvAfterRedirect: boolean;
  /** ip_forward / ip6_forward: the host stack routed the packet. */
  forward: boolean;
  /** bpf_out_neigh_v4/v6 or neigh output after a redirect: bpf_redirect_neigh. */
  neighAfterRedirect: boolean;
  /** vxlan_xmit, geneve_xmit, udp_tunnel_xmit_skb / vxlan_rcv, geneve_rcv: tunnel device. */
  tunnel: boolean;
  localDeliver: boolean;
  /** netfilter hooks ran (nf_hook_slow) after ip_rcv: the host's iptables saw it. */
  netfilterAfterRcv: boolean;
  drop: boolean;
  /** Significant functions, in order, consecutive repeats folded. */
  keyFuncs: string[];
  summary: string;
}

const SIGNIFICANT = new Set([
  '__ip_local_out', 'ip6_local_out', 'dev_queue_xmit', '__dev_queue_xmit', 'veth_xmit', '__dev_forward_skb', 'netif_rx',
  'tcf_classify_ingress', 'tcf_classify_egress', 'tcf_classify', 'skb_do_redirect', 'bpf_out_neigh_v4', 'bpf_out_neigh_v6',
  'ip_rcv', 'ipv6_rcv', 'ip_forward', 'ip6_forward', 'ip_local_deliver', 'ip6_input', 'vxlan_xmit', 'vxlan_rcv',
  'geneve_xmit', 'geneve_rcv', 'udp_tunnel_xmit_skb', 'kfree_skb_reason', 'sk_skb_reason_drop', 'ip_output', 'ip6_output',
]);
const RCV = new Set(['ip_rcv', 'ipv6_rcv']);
const TRANSMIT = new Set(['dev_queue_xmit', '__dev_queue_xmit', 'dev_hard_start_xmit', 'veth_xmit']);
const NEIGH = new Set(['bpf_out_neigh_v4', 'bpf_out_neigh_v6', 'neigh_output', 'neigh_resolve_output', 'ip_finish_output2']);
const TUNNEL = new Set(['vxlan_xmit', 'vxlan_rcv', 'geneve_xmit', 'geneve_rcv', 'udp_tunnel_xmit_skb', 'vxlan_xmit_one']);

/** readKernelPath reads a function sequence; it never fails (an empty list says nothing). */
export function readKernelPath(funcs: readonly string[]): KernelPath {
  let redirectAt = -1;
  let rcvAfterRedirect = false;
  let neighAfterRedirect = false;
  let transmittedSinceRedirect = false;
  let rcvAt = -1;
  let netfilterAfterRcv = false;
  let forward = false;
  let tunnel = false;
  let localDeliver = false;
  let drop = false;
  const keyFuncs: string[] = [];
  for (let i = 0; i < funcs.length; i++) {
    const f = funcs[i];
    if (f === 'skb_do_redirect') {
      redirectAt = i;
      transmittedSinceRedirect = false;
    } else if (redirectAt >= 0) {
      if (TRANSMIT.has(f)) transmittedSinceRedirect = true;
      if (RCV.has(f) && !transmittedSinceRedirect) rcvAfterRedirect = true;
      if (NEIGH.has(f)) neighAfterRedirect = true;
    }
    if (RCV.has(f)) rcvAt = i;
    if (f === 'nf_hook_slow' && rcvAt >= 0) netfilterAfterRcv = true;
    if (f === 'ip_forward' || f === 'ip6_forward') forward = true;
    if (TUNNEL.has(f)) tunnel = true;
    if (f === 'ip_local_deliver' || f === 'ip6_input') localDeliver = true;
    if (f === 'kfree_skb_reason' || f === 'sk_skb_reason_drop') drop = true;
    if (SIGNIFICANT.has(f) && keyFuncs[keyFuncs.length - 1] !== f) keyFuncs.push(f);
  }
  const redirect = redirectAt >= 0;
  const notes: string[] = [];
  if (redirect && !forward) notes.push('no ip_forward');
  const summary = keyFuncs.length ? `${keyFuncs.join(' -> ')}${notes.length ? ` (${notes.join(', ')})` : ''}` : '';
  return { redirect, rcvAfterRedirect, forward, neighAfterRedirect, tunnel, localDeliver, netfilterAfterRcv, drop, keyFuncs, summary };
}
