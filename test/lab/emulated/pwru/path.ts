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

function nf(ctx: PathContext, netns: number): string[] {
  return ctx.hasNetfilter(netns) ? ['nf_hook_slow'] : [];
}

/** ip_rcv up to the routing decision, in the netns the packet is in. */
function ipReceive(ctx: PathContext, netns: number): string[] {
  return ['ip_rcv', 'ip_rcv_core', ...nf(ctx, netns), 'ip_rcv_finish', 'ip_rcv_finish_core', 'ip_route_input_noref', 'ip_route_input_slow', 'fib_validate_source'];
}

function localDeliver(ctx: PathContext, netns: number, t: Tuple): string[] {
  const l4 = t.proto === 1 ? ['icmp_rcv', ...(t.icmpType === 8 ? ['icmp_echo'] : [])] : t.proto === 17 ? ['udp_rcv', '__udp4_lib_rcv', 'udp_unicast_rcv_skb', 'udp_queue_rcv_skb', 'udp_queue_rcv_one_skb'] : t.proto === 6 ? ['tcp_v4_rcv'] : [];
  return ['ip_local_deliver', ...nf(ctx, netns), 'ip_local_deliver_finish', 'ip_protocol_deliver_rcu', ...l4];
}

function outputTail(ctx: PathContext, netns: number): string[] {
  return ['ip_output', ...nf(ctx, netns), 'ip_finish_output', '__ip_finish_output', 'ip_finish_output2'];
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
        if (e.proto === 0x0806) at('arp_xmit', me);
        else if (t.l3proto === 0x0800) {
          const noDev = { ...l3, ifindex: 0, ifname: '', proto: 0 };
          for (const f of [t.proto === 6 ? '__ip_queue_xmit' : 'ip_send_skb', 'ip_local_out', '__ip_local_out']) at(f, noDev);
          for (const f of nf(ctx, e.netns)) at(f, { ...noDev, proto: 0x0800 });
          for (const f of outputTail(ctx, e.netns)) at(f, l3);
        }
      }
      const egress = findVerdict(verdicts, e.cpu, e.ifindex, prev?.ts ?? e.ts - 1e6, e.ts, true);
      at('__dev_queue_xmit', me, egress ? egress.ts - 1 : e.ts);
      if (egress) at('tcf_classify', me, egress.ts);
      for (const f of ['netdev_core_pick_tx', 'validate_xmit_skb', 'netif_skb_features', 'passthru_features_check', 'skb_network_protocol', 'validate_xmit_xfrm']) at(f, me);
      break;
    }
    case SKB.DEV_START_XMIT: {
      at('dev_hard_start_xmit', me, e.ts);
      const kind = ctx.deviceKind(e.ifname);
      if (kind === 'veth') for (const f of ['veth_xmit', '__dev_forward_skb', '__dev_forward_skb2', 'skb_scrub_packet']) at(f, me);
      if (kind === 'vxlan') {
        for (const f of ['vxlan_xmit', 'vxlan_xmit_one']) at(f, me);
        // From here the skb carries the outer headers the next hop (the underlay) shows.
        const outer = next ? metaOf(next, { len: Math.max(0, next.len - 14) }) : me;
        for (const f of ['udp_tunnel_xmit_skb', 'iptunnel_xmit', 'ip_local_out', '__ip_local_out', ...nf(ctx, outer.netns), ...outputTail(ctx, outer.netns)]) at(f, outer);
      }
      break;
    }
    case SKB.NETIF_RX: {
      if (prev?.kind === SKB.DEV_START_XMIT || prev?.kind === SKB.DEV_XMIT) at('eth_type_trans', me);
      at('__netif_rx', me);
      at('netif_rx_internal', me, e.ts);
      at('enqueue_to_backlog', me);
      break;
    }
    case SKB.NETIF_RECEIVE: {
      at('__netif_receive_skb', me);
      at('__netif_receive_skb_one_core', me, e.ts);
      const ingress = e.netns === ctx.nodeNetns ? findVerdict(verdicts, e.cpu, e.ifindex, e.ts, next?.ts ?? e.ts + 1e6, false) : undefined;
      if (ingress) at('tcf_classify', me, ingress.ts);
      const action = ingress?.action ?? ACTION.OK;
      // A redirect is printed only when the skb's next real event agrees with it (REDIRECT_AGREES).
      if (action === ACTION.REDIRECT_PEER) {
        if (ingress && redirectAgrees(ingress, e, next, ctx)) {
          // Another round of __netif_receive_skb_core, now as the peer (the pod's eth0).
          const peer = metaOf(next as SkbEvent, { len: e.len });
          at('skb_do_redirect', me);
          at('skb_scrub_packet', peer);
          for (const f of [...ipReceive(ctx, peer.netns), ...localDeliver(ctx, peer.netns, t)]) at(f, peer);
        }
      } else if (action === ACTION.REDIRECT || action === ACTION.REDIRECT_NEIGH) {
        if (ingress && redirectAgrees(ingress, e, next, ctx)) {
          at('skb_do_redirect', me);
          if (action === ACTION.REDIRECT_NEIGH) at('neigh_resolve_output', metaOf(next as SkbEvent));
        }
      } else if (action === ACTION.OK && next !== undefined && next.netns === e.netns) {
        // Forwarded: a route lookup of that netns for these addresses between the receive and the
        // transmit on another device (FIB_LOOKUP_IMPLIES); without the lookup nothing is implied.
        const lookup = next.kind === SKB.DEV_QUEUE && next.ifindex !== e.ifindex ? ctx.routeLookup(e.netns, e.cpu, t.saddr, t.daddr, e.ts, next.ts) : undefined;
        if (lookup) {
          for (const f of ipReceive(ctx, e.netns)) at(f, me, f === 'ip_route_input_slow' ? lookup.ts : undefined);
          at('ip_forward', me);
          for (const f of nf(ctx, e.netns)) at(f, me);
          at('ip_forward_finish', me);
          const out = metaOf(next, { len: Math.max(0, next.len - 14) });
          for (const f of outputTail(ctx, e.netns)) at(f, out);
        } else if (next.kind === SKB.NETIF_RECEIVE && t.proto === 17 && t.dport === 8472) {
          for (const f of [...ipReceive(ctx, e.netns), ...localDeliver(ctx, e.netns, t), 'vxlan_rcv', 'gro_cells_receive']) at(f, me);
        } else if (next.kind === SKB.CONSUME || next.kind === SKB.COPY_DATAGRAM) {
          for (const f of [...ipReceive(ctx, e.netns), ...localDeliver(ctx, e.netns, t)]) at(f, me);
        } else if (next.kind === SKB.KFREE && t.l3proto === 0x0800) {
          // The reason says how far the skb got: NO_SOCKET is raised by the transport layer
          // after local delivery (icmp_rcv -> ping_rcv when a raw socket took a clone, udp_rcv
          // with no listener), so the receive path up to it ran; any other reason: ip_rcv only.
          const reason = ctx.dropReasons[String(next.arg)] ?? '';
          const delivered = /NO_SOCKET$/.test(reason);
          for (const f of delivered ? [...ipReceive(ctx, e.netns), ...localDeliver(ctx, e.netns, t)] : ['ip_rcv', 'ip_rcv_core']) at(f, me);
        }
      }
      break;
    }
    case SKB.KFREE: {
      const reason = ctx.dropReasons[String(e.arg)];
      at(reason ? `sk_skb_reason_drop(${reason})` : `sk_skb_reason_drop (${e.arg})`, me, e.ts);
      for (const f of ['skb_release_head_state', 'skb_release_data', 'kfree_skbmem']) at(f, me);
      out[out.length - 1].endsLife = true;
      break;
    }
    case SKB.CONSUME: {
      at('consume_skb', me, e.ts);
      for (const f of ['skb_release_head_state', 'skb_release_data', 'skb_free_head', 'kfree_skbmem']) at(f, me);
      out[out.length - 1].endsLife = true;
      break;
    }
    case SKB.COPY_DATAGRAM:
      at('skb_copy_datagram_iter', me, e.ts);
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
