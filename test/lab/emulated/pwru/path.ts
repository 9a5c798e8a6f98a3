/**
 * The kernel functions pwru would print for one skb, rebuilt from what the kernel really
 * reported: skbtrace's tracepoint hits (real skb address, CPU, task, netns, device, headers,
 * timestamps) and the lab datapath's own verdicts (tc program, action, target). Observed
 * points are printed as the function that contains them; the functions between two observed
 * points are the ones the kernel necessarily runs on that path (ip_forward only when the packet
 * really left by another device of the same netns, skb_do_redirect only when the tc program
 * really redirected, ...). Each line says whether it was observed or inferred.
 */
import { ACTION, PROG, type DatapathEvent } from '../datapath-events.js';
import { SKB, tupleOf, type SkbEvent, type Tuple } from './skb-event.js';

/** One line of pwru output before formatting. */
export interface FuncLine {
  skb: string;
  cpu: number;
  pid: number;
  comm: string;
  func: string;
  /** Kernel monotonic ns. */
  ts: number;
  netns: number;
  mark: number;
  ifindex: number;
  ifname: string;
  proto: number;
  mtu: number;
  len: number;
  tuple: Tuple;
  /** The event whose packet the line describes (for filtering). */
  packet: SkbEvent;
  observed: boolean;
  /** The skb's last line on this node (kfree_skbmem, or its hand-off to the wire): its address is free for another packet. */
  endsLife?: boolean;
}

/** What the reconstruction needs to know about the lab around the packets. */
export interface PathContext {
  /** The node's netns inode (where the tc programs run). */
  nodeNetns: number;
  /** Whether a netns has netfilter hooks (iptables rules), so nf_hook_slow runs there. */
  hasNetfilter(netns: number): boolean;
  /** Kind of device by name. */
  deviceKind(ifname: string): 'veth' | 'vxlan' | 'other';
  /** Whether the event hands the skb to the wire (the node's underlay device), where its life on this node ends. */
  handsToWire(e: SkbEvent): boolean;
  /** Drop reason names by value (enum skb_drop_reason of the running kernel). */
  dropReasons: Record<string, string>;
  /** The netns inode of the pod whose host-side lxc has this ifindex (where bpf_redirect_peer lands). */
  peerNetns(lxcIfindex: number): number | undefined;
  /** The route lookup (fib_table_lookup) of a netns for these addresses, on that CPU, within (after, before). */
  routeLookup(netns: number, cpu: number, saddr: string, daddr: string, after: number, before: number): SkbEvent | undefined;
}

type Meta = Pick<FuncLine, 'netns' | 'mark' | 'ifindex' | 'ifname' | 'proto' | 'mtu' | 'len' | 'tuple' | 'packet'>;

function metaOf(e: SkbEvent, overrides: Partial<Meta> = {}): Meta {
  return { netns: e.netns, mark: e.mark, ifindex: e.ifindex, ifname: e.ifname, proto: e.proto, mtu: e.mtu, len: e.len, tuple: tupleOf(e), packet: e, ...overrides };
}

interface Draft {
  func: string;
  meta: Meta;
  anchor?: number;
  observed: boolean;
  endsLife?: boolean;
}

const INGRESS_PROGS = new Set<number>([PROG.FROM_CONTAINER, PROG.FROM_NETDEV, PROG.FROM_OVERLAY]);
const EGRESS_PROGS = new Set<number>([PROG.TO_CONTAINER, PROG.TO_OVERLAY]);

/** The lab datapath's verdict for an skb at a tc hook: same CPU and device, within (after, before). */
export function findVerdict(verdicts: DatapathEvent[], cpu: number, ifindex: number, after: number, before: number, egress: boolean): DatapathEvent | undefined {
  return verdicts.find((v) => v.cpu === cpu && v.hookIfindex === ifindex && v.ts > after && v.ts < before && (egress ? EGRESS_PROGS : INGRESS_PROGS).has(v.prog));
}

/**
 * THE table of what the emulation prints (mirrored row for row by the lab README's table): for
 * each real event (a tracepoint of lab-skbtrace, or the lab datapath's tc verdict) and, where it
 * matters, the skb's next real event, the kernel functions pwru would show. `observed` is the
 * function that contains the tracepoint (printed at the event's real time); the others are the
 * functions the kernel necessarily runs around it on that path (printed between their observed
 * neighbours). `nf_hook_slow?` is printed only in a netns with netfilter rules.
 */
export const IMPLIED_BY = {
  /** net_dev_queue as an skb's first event: a socket (or the kernel's ICMP reply) built it here. */
  socketOutput: { before: ['ip_send_skb', 'ip_local_out', '__ip_local_out', 'nf_hook_slow?'], tcpFirst: '__ip_queue_xmit', arp: 'arp_xmit' },
  /** net_dev_queue. */
  devQueue: { observed: '__dev_queue_xmit', after: ['netdev_core_pick_tx', 'validate_xmit_skb', 'netif_skb_features', 'passthru_features_check', 'skb_network_protocol', 'validate_xmit_xfrm'] },
  /** net_dev_start_xmit; then by the device's kind. */
  devStartXmit: { observed: 'dev_hard_start_xmit', veth: ['veth_xmit', '__dev_forward_skb', '__dev_forward_skb2', 'skb_scrub_packet'], vxlan: ['vxlan_xmit', 'vxlan_xmit_one'], vxlanOuter: ['udp_tunnel_xmit_skb', 'iptunnel_xmit', 'ip_local_out', '__ip_local_out', 'nf_hook_slow?'] },
  /** netif_rx (eth_type_trans first when a transmit handed it over). */
  netifRx: { afterXmit: 'eth_type_trans', before: ['__netif_rx'], observed: 'netif_rx_internal', after: ['enqueue_to_backlog'] },
  /** netif_receive_skb. */
  netifReceive: { before: ['__netif_receive_skb'], observed: '__netif_receive_skb_one_core' },
  /** The tc program's verdict at that device. */
  tcVerdict: { observed: 'tcf_classify' },
  /** Verdict bpf_redirect_peer, the next event in the target pod's netns: then, as the peer, `inPeer`, ipReceive and localDeliver there. */
  redirectPeer: ['skb_do_redirect'],
  inPeer: ['skb_scrub_packet'],
  /** Verdict bpf_redirect / bpf_redirect_neigh, the next event net_dev_queue on the target. */
  redirect: ['skb_do_redirect'],
  redirectNeigh: ['skb_do_redirect', 'neigh_resolve_output'],
  /** fib_table_lookup (no skb): the route lookup, observed inside ipReceive. */
  fibLookup: { observed: 'ip_route_input_slow' },
  /** ip_rcv up to the routing decision. */
  ipReceive: ['ip_rcv', 'ip_rcv_core', 'nf_hook_slow?', 'ip_rcv_finish', 'ip_rcv_finish_core', 'ip_route_input_noref', 'ip_route_input_slow', 'fib_validate_source'],
  /** Verdict OK, next net_dev_queue on another device of that netns, and a fib_table_lookup there for these addresses between the two: ipReceive, then these, then ipOutput. */
  forward: ['ip_forward', 'nf_hook_slow?', 'ip_forward_finish'],
  ipOutput: ['ip_output', 'nf_hook_slow?', 'ip_finish_output', '__ip_finish_output', 'ip_finish_output2'],
  /** Next consume_skb / skb_copy_datagram_iovec, or kfree_skb with NO_SOCKET: ipReceive, then these and the L4 receive. */
  localDeliver: ['ip_local_deliver', 'nf_hook_slow?', 'ip_local_deliver_finish', 'ip_protocol_deliver_rcu'],
  l4: { icmp: ['icmp_rcv'], icmpEcho: ['icmp_echo'], udp: ['udp_rcv', '__udp4_lib_rcv', 'udp_unicast_rcv_skb', 'udp_queue_rcv_skb', 'udp_queue_rcv_one_skb'], tcp: ['tcp_v4_rcv'] },
  /** Next a receive of the UDP 8472 it carried: ipReceive + localDeliver + these. */
  vxlanReceive: ['vxlan_rcv', 'gro_cells_receive'],
  /** Next kfree_skb with any other reason: the receive got no further than these. */
  earlyDrop: ['ip_rcv', 'ip_rcv_core'],
  /** kfree_skb (the kernel's reason name), consume_skb, skb_copy_datagram_iovec. */
  kfree: { observed: 'sk_skb_reason_drop', after: ['skb_release_head_state', 'skb_release_data', 'kfree_skbmem'] },
  consume: { observed: 'consume_skb', after: ['skb_release_head_state', 'skb_release_data', 'skb_free_head', 'kfree_skbmem'] },
  copyDatagram: { observed: 'skb_copy_datagram_iter' },
} as const;

/** A row's functions in a netns: `nf_hook_slow?` only where netfilter has rules. */
function inNetns(ctx: PathContext, netns: number, funcs: readonly string[]): string[] {
  return funcs.flatMap((f) => (f === 'nf_hook_slow?' ? (ctx.hasNetfilter(netns) ? ['nf_hook_slow'] : []) : [f]));
}

function nf(ctx: PathContext, netns: number): string[] {
  return inNetns(ctx, netns, ['nf_hook_slow?']);
}

/** ip_rcv up to the routing decision, in the netns the packet is in. */
function ipReceive(ctx: PathContext, netns: number): string[] {
  return inNetns(ctx, netns, IMPLIED_BY.ipReceive);
}

function localDeliver(ctx: PathContext, netns: number, t: Tuple): string[] {
  const { l4 } = IMPLIED_BY;
  const byProto = t.proto === 1 ? [...l4.icmp, ...(t.icmpType === 8 ? l4.icmpEcho : [])] : t.proto === 17 ? l4.udp : t.proto === 6 ? l4.tcp : [];
  return [...inNetns(ctx, netns, IMPLIED_BY.localDeliver), ...byProto];
}

function outputTail(ctx: PathContext, netns: number): string[] {
  return inNetns(ctx, netns, IMPLIED_BY.ipOutput);
}

/**
 * Whether the skb's next real event confirms a tc program's redirect: after bpf_redirect_peer()
 * the skb is next seen in the destination pod's netns (the receive continues there as its eth0:
 * __netif_receive_skb_core's another_round fires no second tracepoint, so its consumption, copy
 * to a socket or free is that event); after bpf_redirect()/bpf_redirect_neigh() it is next queued
 * for transmission on the target device of the same netns (net_dev_queue).
 */
export function redirectAgrees(v: DatapathEvent, e: SkbEvent, next: SkbEvent | undefined, ctx: PathContext): boolean {
  if (next === undefined) return false;
  if (v.action === ACTION.REDIRECT_PEER) {
    const podNetns = ctx.peerNetns(v.target);
    return podNetns !== undefined && next.netns === podNetns;
  }
  return next.kind === SKB.DEV_QUEUE && next.netns === e.netns && next.ifindex === v.target;
}

/** The lines of one event of an skb, given its neighbours and the datapath's verdicts. */
function draftsFor(e: SkbEvent, prev: SkbEvent | undefined, next: SkbEvent | undefined, verdicts: DatapathEvent[], ctx: PathContext): Draft[] {
  const out: Draft[] = [];
  const at = (func: string, meta: Meta, anchor?: number): void => {
    out.push({ func, meta, anchor, observed: anchor !== undefined });
  };
  const me = metaOf(e);
  const t = me.tuple;
  switch (e.kind) {
    case SKB.DEV_QUEUE: {
      if (prev === undefined) {
        // The skb starts here: a socket (or the kernel's ICMP reply) built it in this netns.
        const l3 = metaOf(e, { len: Math.max(0, e.len - 14) });
        if (e.proto === 0x0806) at(IMPLIED_BY.socketOutput.arp, me);
        else if (t.l3proto === 0x0800) {
          const noDev = { ...l3, ifindex: 0, ifname: '', proto: 0 };
          const [first, ...rest] = IMPLIED_BY.socketOutput.before;
          for (const f of [t.proto === 6 ? IMPLIED_BY.socketOutput.tcpFirst : first, ...rest.filter((x) => x !== 'nf_hook_slow?')]) at(f, noDev);
          for (const f of nf(ctx, e.netns)) at(f, { ...noDev, proto: 0x0800 });
          for (const f of outputTail(ctx, e.netns)) at(f, l3);
        }
      }
      const egress = findVerdict(verdicts, e.cpu, e.ifindex, prev?.ts ?? e.ts - 1e6, e.ts, true);
      at(IMPLIED_BY.devQueue.observed, me, egress ? egress.ts - 1 : e.ts);
      if (egress) at(IMPLIED_BY.tcVerdict.observed, me, egress.ts);
      for (const f of IMPLIED_BY.devQueue.after) at(f, me);
      break;
    }
    case SKB.DEV_START_XMIT: {
      const x = IMPLIED_BY.devStartXmit;
      at(x.observed, me, e.ts);
      const kind = ctx.deviceKind(e.ifname);
      if (kind === 'veth') for (const f of x.veth) at(f, me);
      if (kind === 'vxlan') {
        for (const f of x.vxlan) at(f, me);
        // From here the skb carries the outer headers the next hop (the underlay) shows.
        const outer = next ? metaOf(next, { len: Math.max(0, next.len - 14) }) : me;
        for (const f of [...inNetns(ctx, outer.netns, x.vxlanOuter), ...outputTail(ctx, outer.netns)]) at(f, outer);
      }
      break;
    }
    case SKB.NETIF_RX: {
      const x = IMPLIED_BY.netifRx;
      if (prev?.kind === SKB.DEV_START_XMIT || prev?.kind === SKB.DEV_XMIT) at(x.afterXmit, me);
      for (const f of x.before) at(f, me);
      at(x.observed, me, e.ts);
      for (const f of x.after) at(f, me);
      break;
    }
    case SKB.NETIF_RECEIVE: {
      for (const f of IMPLIED_BY.netifReceive.before) at(f, me);
      at(IMPLIED_BY.netifReceive.observed, me, e.ts);
      const ingress = e.netns === ctx.nodeNetns ? findVerdict(verdicts, e.cpu, e.ifindex, e.ts, next?.ts ?? e.ts + 1e6, false) : undefined;
      if (ingress) at(IMPLIED_BY.tcVerdict.observed, me, ingress.ts);
      const action = ingress?.action ?? ACTION.OK;
      // A redirect is printed only when the skb's next real event agrees with it (REDIRECT_AGREES).
      if (action === ACTION.REDIRECT_PEER) {
        if (ingress && redirectAgrees(ingress, e, next, ctx)) {
          // Another round of __netif_receive_skb_core, now as the peer (the pod's eth0).
          const peer = metaOf(next as SkbEvent, { len: e.len });
          for (const f of IMPLIED_BY.redirectPeer) at(f, me);
          for (const f of IMPLIED_BY.inPeer) at(f, peer);
          for (const f of [...ipReceive(ctx, peer.netns), ...localDeliver(ctx, peer.netns, t)]) at(f, peer);
        }
      } else if (action === ACTION.REDIRECT || action === ACTION.REDIRECT_NEIGH) {
        if (ingress && redirectAgrees(ingress, e, next, ctx)) {
          const [redirect, ...neigh] = action === ACTION.REDIRECT_NEIGH ? IMPLIED_BY.redirectNeigh : IMPLIED_BY.redirect;
          at(redirect, me);
          for (const f of neigh) at(f, metaOf(next as SkbEvent));
        }
      } else if (action === ACTION.OK && next !== undefined && next.netns === e.netns) {
        // Forwarded: a route lookup of that netns for these addresses between the receive and the
        // transmit on another device (FIB_LOOKUP_IMPLIES); without the lookup nothing is implied.
        const lookup = next.kind === SKB.DEV_QUEUE && next.ifindex !== e.ifindex ? ctx.routeLookup(e.netns, e.cpu, t.saddr, t.daddr, e.ts, next.ts) : undefined;
        if (lookup) {
          for (const f of ipReceive(ctx, e.netns)) at(f, me, f === IMPLIED_BY.fibLookup.observed ? lookup.ts : undefined);
          for (const f of inNetns(ctx, e.netns, IMPLIED_BY.forward)) at(f, me);
          const out = metaOf(next, { len: Math.max(0, next.len - 14) });
          for (const f of outputTail(ctx, e.netns)) at(f, out);
        } else if (next.kind === SKB.NETIF_RECEIVE && t.proto === 17 && t.dport === 8472) {
          for (const f of [...ipReceive(ctx, e.netns), ...localDeliver(ctx, e.netns, t), ...IMPLIED_BY.vxlanReceive]) at(f, me);
        } else if (next.kind === SKB.CONSUME || next.kind === SKB.COPY_DATAGRAM) {
          for (const f of [...ipReceive(ctx, e.netns), ...localDeliver(ctx, e.netns, t)]) at(f, me);
        } else if (next.kind === SKB.KFREE && t.l3proto === 0x0800) {
          // The reason says how far the skb got: NO_SOCKET is raised by the transport layer
          // after local delivery (icmp_rcv -> ping_rcv when a raw socket took a clone, udp_rcv
          // with no listener), so the receive path up to it ran; any other reason: ip_rcv only.
          const reason = ctx.dropReasons[String(next.arg)] ?? '';
          const delivered = /NO_SOCKET$/.test(reason);
          for (const f of delivered ? [...ipReceive(ctx, e.netns), ...localDeliver(ctx, e.netns, t)] : IMPLIED_BY.earlyDrop) at(f, me);
        }
      }
      break;
    }
    case SKB.KFREE: {
      const reason = ctx.dropReasons[String(e.arg)];
      const x = IMPLIED_BY.kfree;
      at(reason ? `${x.observed}(${reason})` : `${x.observed} (${e.arg})`, me, e.ts);
      for (const f of x.after) at(f, me);
      out[out.length - 1].endsLife = true;
      break;
    }
    case SKB.CONSUME: {
      at(IMPLIED_BY.consume.observed, me, e.ts);
      for (const f of IMPLIED_BY.consume.after) at(f, me);
      out[out.length - 1].endsLife = true;
      break;
    }
    case SKB.COPY_DATAGRAM:
      at(IMPLIED_BY.copyDatagram.observed, me, e.ts);
      break;
    default:
      break; // net_dev_xmit: the driver returned; no function of its own
  }
  if (out.length > 0 && ctx.handsToWire(e)) out[out.length - 1].endsLife = true;
  return out;
}

/**
 * Timestamps for a run of lines: observed ones keep theirs, inferred ones are spread between
 * their observed neighbours (1 ns apart when there is no room), so the sequence is monotonic.
 */
function assignTimes(drafts: Draft[], start: number, end: number): number[] {
  const ts: (number | undefined)[] = drafts.map((d) => d.anchor);
  let last = start;
  for (let i = 0; i < ts.length; i++) {
    const a = ts[i];
    if (a !== undefined && a > last) last = a;
    else ts[i] = undefined;
  }
  const out: number[] = [];
  let i = 0;
  let prevT = start;
  while (i < ts.length) {
    if (ts[i] !== undefined) {
      prevT = ts[i] as number;
      out.push(prevT);
      i++;
      continue;
    }
    let j = i;
    while (j < ts.length && ts[j] === undefined) j++;
    const nextT = j < ts.length ? (ts[j] as number) : Math.max(end, prevT + (j - i + 1) * 200);
    const step = Math.max(1, Math.floor((nextT - prevT) / (j - i + 1)));
    for (let k = i; k < j; k++) out.push(prevT + step * (k - i + 1));
    prevT = out[out.length - 1];
    i = j;
  }
  return out;
}

/**
 * pwru's lines for the events of one skb (in time order). `after` is the skb's next event if it
 * is already known (so the last event's continuation can be decided), else undefined. The lines
 * keep the order the kernel runs them in; their times are monotonic across the whole skb.
 */
export function skbLines(events: SkbEvent[], prevBefore: SkbEvent | undefined, after: SkbEvent | undefined, verdicts: DatapathEvent[], ctx: PathContext): FuncLine[] {
  const drafts: { d: Draft; e: SkbEvent }[] = [];
  events.forEach((e, i) => {
    const before = i === 0 ? prevBefore : events[i - 1];
    // A freed skb's address is reused by the next allocation: that is a new packet. So is the
    // next skb at the address of one this node handed to the wire.
    const ended = before !== undefined && (before.kind === SKB.KFREE || before.kind === SKB.CONSUME || ctx.handsToWire(before));
    const prev = ended ? undefined : before;
    const next = i + 1 < events.length ? events[i + 1] : after;
    for (const d of draftsFor(e, prev, next, verdicts, ctx)) drafts.push({ d, e });
  });
  if (drafts.length === 0) return [];
  const first = events[0];
  const start = prevBefore !== undefined && prevBefore.ts < first.ts ? prevBefore.ts : first.ts - drafts.length * 300;
  const last = events[events.length - 1];
  const times = assignTimes(drafts.map((x) => x.d), start, after ? after.ts : last.ts + drafts.length * 200);
  return drafts.map(({ d, e }, k) => ({ skb: e.skb, cpu: e.cpu, pid: e.pid, comm: e.comm, func: d.func, ts: times[k], observed: d.observed, ...(d.endsLife ? { endsLife: true } : {}), ...d.meta }));
}
