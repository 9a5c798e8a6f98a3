/**
 * KernelPath: what a pwru function sequence says about the path of one skb. These are the
 * functions whose presence or order tells Cilium's datapath modes apart.
 */
export interface KernelPath {
  /** skb_do_redirect: a tc BPF program redirected the skb (bpf_redirect, _peer or _neigh). */
  redirect: boolean;
  /** ip_rcv/ipv6_rcv right after the redirect with no device transmit in between: an ingress redirect (bpf_redirect_peer, or BPF_F_INGRESS). */
  rcvAfterRedirect: boolean;
  /**
   * Where that receive happened, against the redirect: 'other-netns' when pwru's netns column
   * changed (bpf_redirect_peer moves the skb into the pod's netns), 'same-netns' when it did not
   * (an ingress redirect to a device of the same namespace, e.g. the host's), undefined when pwru
   * printed no netns.
   */
  rcvNetns?: 'other-netns' | 'same-netns';
  /** The device of that receive (pwru's IFACE, or `ifindex=` alone in v0.0.1-v0.0.4), when printed: where it ran when no netns was. */
  rcvDevice?: { iface?: string; ifindex?: number };
  /** The receive after the redirect went on to local delivery (ip_local_deliver / ip6_input). */
  localDeliverAfterRedirectRcv: boolean;
  /** A device transmit right after the redirect (before any receive): bpf_redirect() to a device's egress. */
  transmitAfterRedirect: boolean;
  /** The device of that transmit when pwru printed it (e.g. the destination lxc). */
  redirectDevice?: string;
  /** A tunnel device transmitted the skb after the redirect: bpf_redirect() to cilium_vxlan/geneve, not to an lxc. */
  tunnelXmitAfterRedirect: boolean;
  /** ip_forward / ip6_forward: the host stack routed the packet. */
  forward: boolean;
  /** fib_table_lookup after a receive and not followed by local delivery: an input route lookup that forwarded it. */
  routedLookup: boolean;
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

/** One function of an skb with where pwru saw it (netns inode, device), when it printed them. */
export interface KernelStep {
  func: string;
  netns?: number;
  iface?: string;
  ifindex?: number;
}

const SIGNIFICANT = new Set([
  '__ip_local_out', 'ip6_local_out', 'dev_queue_xmit', '__dev_queue_xmit', 'veth_xmit', '__dev_forward_skb', 'netif_rx',
  'tcf_classify_ingress', 'tcf_classify_egress', 'tcf_classify', 'skb_do_redirect', 'bpf_out_neigh_v4', 'bpf_out_neigh_v6',
  'ip_rcv', 'ipv6_rcv', 'ip_forward', 'ip6_forward', 'ip_local_deliver', 'ip6_input', 'vxlan_xmit', 'vxlan_rcv',
  'geneve_xmit', 'geneve_rcv', 'udp_tunnel_xmit_skb', 'kfree_skb_reason', 'sk_skb_reason_drop', 'ip_output', 'ip6_output',
  'fib_table_lookup',
]);
const RCV = new Set(['ip_rcv', 'ipv6_rcv']);
const TRANSMIT = new Set(['dev_queue_xmit', '__dev_queue_xmit', 'dev_hard_start_xmit', 'veth_xmit']);
const NEIGH = new Set(['bpf_out_neigh_v4', 'bpf_out_neigh_v6', 'neigh_output', 'neigh_resolve_output', 'ip_finish_output2']);
const TUNNEL = new Set(['vxlan_xmit', 'vxlan_rcv', 'geneve_xmit', 'geneve_rcv', 'udp_tunnel_xmit_skb', 'vxlan_xmit_one']);
const TUNNEL_XMIT = new Set(['vxlan_xmit', 'geneve_xmit', 'udp_tunnel_xmit_skb', 'vxlan_xmit_one']);
const FORWARD = new Set(['ip_forward', 'ip6_forward']);
const LOCAL_DELIVER = new Set(['ip_local_deliver', 'ip6_input']);
const ROUTE_LOOKUP = new Set(['fib_table_lookup', 'fib6_table_lookup']);

/**
 * RULE_FUNCS: every function readKernelPath looks at. The accumulator keeps all of an skb's
 * functions in this set (with netns and device), however many others pwru printed around them
 * (a real pwru probes ~1,600 functions), so no rule misses the one that decides it.
 */
export const RULE_FUNCS: ReadonlySet<string> = new Set([
  ...SIGNIFICANT, ...RCV, ...TRANSMIT, ...NEIGH, ...TUNNEL, ...FORWARD, ...LOCAL_DELIVER, ...ROUTE_LOOKUP, 'nf_hook_slow',
]);

/** readKernelPath reads a function sequence; it never fails (an empty list says nothing). */
export function readKernelPath(steps: readonly (string | KernelStep)[]): KernelPath {
  let redirectAt = -1;
  let redirectNetns: number | undefined;
  let rcvAfterRedirect = false;
  let rcvNetns: KernelPath['rcvNetns'];
  let rcvDevice: KernelPath['rcvDevice'];
  let awaitingAfterRedirect = false;
  let redirectRcvAt = -1;
  let localDeliverAfterRedirectRcv = false;
  let transmitAfterRedirect = false;
  let redirectDevice: string | undefined;
  let neighAfterRedirect = false;
  let tunnelXmitAfterRedirect = false;
  let transmittedSinceRedirect = false;
  let rcvAt = -1;
  let lookupPending = false;
  let routedLookup = false;
  let netfilterAfterRcv = false;
  let forward = false;
  let tunnel = false;
  let localDeliver = false;
  let drop = false;
  const keyFuncs: string[] = [];
  for (let i = 0; i < steps.length; i++) {
    const s = steps[i];
    const f = typeof s === 'string' ? s : s.func;
    const netns = typeof s === 'string' ? undefined : s.netns;
    if (f === 'skb_do_redirect') {
      redirectAt = i;
      redirectNetns = netns;
      transmittedSinceRedirect = false;
      awaitingAfterRedirect = true;
    } else if (redirectAt >= 0) {
      if (TRANSMIT.has(f)) {
        transmittedSinceRedirect = true;
        if (awaitingAfterRedirect) {
          // bpf_redirect() to a device's egress: the next thing is that device's transmit.
          transmitAfterRedirect = true;
          redirectDevice = typeof s === 'string' ? undefined : s.iface;
          awaitingAfterRedirect = false;
        }
      }
      if (RCV.has(f) && !transmittedSinceRedirect) {
        rcvAfterRedirect = true;
        redirectRcvAt = i;
        if (netns !== undefined && redirectNetns !== undefined) rcvNetns = netns !== redirectNetns ? 'other-netns' : 'same-netns';
        if (typeof s !== 'string' && (s.iface !== undefined || s.ifindex !== undefined)) rcvDevice = { iface: s.iface, ifindex: s.ifindex };
        awaitingAfterRedirect = false;
      }
      if (NEIGH.has(f)) neighAfterRedirect = true;
      if (TUNNEL_XMIT.has(f)) tunnelXmitAfterRedirect = true;
    }
    if (RCV.has(f)) {
      rcvAt = i;
      lookupPending = false;
    }
    if (rcvAt >= 0 && ROUTE_LOOKUP.has(f)) lookupPending = true;
    if (lookupPending && (FORWARD.has(f) || TRANSMIT.has(f))) {
      routedLookup = true;
      lookupPending = false;
    }
    if (f === 'nf_hook_slow' && rcvAt >= 0) netfilterAfterRcv = true;
    if (FORWARD.has(f)) forward = true;
    if (TUNNEL.has(f)) tunnel = true;
    if (LOCAL_DELIVER.has(f)) {
      localDeliver = true;
      lookupPending = false;
      if (redirectRcvAt >= 0) localDeliverAfterRedirectRcv = true;
    }
    if (f === 'kfree_skb_reason' || f === 'sk_skb_reason_drop') drop = true;
    if (SIGNIFICANT.has(f) && keyFuncs[keyFuncs.length - 1] !== f) keyFuncs.push(f);
  }
  const redirect = redirectAt >= 0;
  const notes: string[] = [];
  if (redirect && !forward) notes.push('no ip_forward');
  const summary = keyFuncs.length ? `${keyFuncs.join(' -> ')}${notes.length ? ` (${notes.join(', ')})` : ''}` : '';
  return {
    redirect, rcvAfterRedirect, rcvNetns, rcvDevice, localDeliverAfterRedirectRcv, transmitAfterRedirect, redirectDevice, tunnelXmitAfterRedirect, forward, routedLookup,
    neighAfterRedirect, tunnel, localDeliver, netfilterAfterRcv, drop, keyFuncs, summary,
  };
}
