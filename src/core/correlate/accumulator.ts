import type { CaptureEvent, HubbleEvent, IptablesEvent, MonitorEvent, ProbeEvent, PwruEvent, Tool } from '../model/event.js';
import type { Packet, Timestamp } from '../model/packet.js';
import { flowOf, outerKey, outerOnlyKey, tunnelOf, type FlowRef, type PacketId, type TunnelInfo } from './flow-key.js';
import { hubbleFacts, hubblePacket, hubbleTag, hubbleWords, sameHubblePacket } from './hubble-hops.js';
import { ciliumPoint } from '../points.js';
import { RULE_FUNCS, type KernelStep } from './kernel-path.js';
import { windowClock, type CaptureWindow } from './capture-windows.js';

/** StreamInfo: one input as the accumulator sees it. Points may be resolved later (see resolvePoint). */
export interface StreamInfo {
  index: number;
  name: string;
  tool: Tool;
  /** Point id when known from the content or --point (captures); node-level tools leave it unset. */
  point?: string;
  node?: string;
  /** Events the stream delivered (packets, for a capture). */
  events?: number;
  /** A live trace's capture that watched all of the traffic (run.json): silent there means not there, also with no packet at all. */
  watchedTraffic?: boolean;
}

/** Where a hop was seen, before endpoint IDs and nodes are known for certain. */
export type PointHint =
  | { kind: 'fixed'; point: string }
  | { kind: 'iface'; iface: string }
  | { kind: 'endpoint'; endpoint: number }
  | { kind: 'kernel' }
  | { kind: 'iptables' }
  /** A monitor record that names no endpoint (`-> overlay`, `-> network`): the node's agent. */
  | { kind: 'agent' }
  | { kind: 'unknown' };

export interface HopRecord {
  stream: number;
  tool: Tool;
  where: PointHint;
  time?: Timestamp;
  detail: string;
  facts: Record<string, string | number>;
  /** Arrival order over all inputs: orders hops the clocks cannot. */
  seq: number;
  /** pwru: the kernel functions of one skb, in order (capped). */
  funcs?: string[];
  funcsDropped?: number;
  match: 'packet' | 'flow';
  /** The tool reported this packet dropped here; afterDelivery: by the receiving stack, after ip_local_deliver. */
  drop?: { reason: string; afterDelivery?: boolean };
  /** Part of the packet key (ICMP id without seq): attach to the packet that has it, when there is one. */
  keyHint?: string;
  /** The node whose clock stamped `time`, when the event itself names it (Hubble's node_name). */
  node?: string;
}

export interface PacketRecord {
  key: string;
  hops: HopRecord[];
  firstSeq: number;
}

/** Evidence kept per flow for every packet, not only the detailed ones: it stays small. */
export interface FlowEvidence {
  /** Point hints (serialised) that saw the flow, with counts. */
  seen: Map<string, { where: PointHint; stream: number; count: number; encap?: string }>;
  /** monitor facts: `local-delivery:<ep>`, `to-endpoint:<ep>`, `to-stack`, `to-overlay`, `to-network`, ... with the endpoint that said it. */
  monitor: Map<string, { endpoint?: number; stream: number; text: string; tool?: 'hubble'; node?: string }>;
  /**
   * pwru, one entry per skb, first few skbs kept: every function a path rule reads (RULE_FUNCS,
   * with netns and device), however long the skb's list; read with readKernelPath when the report is built.
   */
  kernel: { stream: number; skb: string; steps: KernelStep[] }[];
  /** Per `table:chain`, in the order the packet crossed them, with the interfaces the hook saw. */
  iptables: Map<string, { stream: number; text: string; in?: string; out?: string }>;
  /** The last terminal netfilter verdict (accept, drop, reject, queue) a trace printed for this flow. */
  iptablesFinal?: { chain: string; verdict: string; stream: number };
  /** A trace with ids (xtables-monitor, nft monitor trace): nf_tables traces only chains that exist, one by one. */
  iptablesNft?: boolean;
  /** The same trace id went on in another flow: a hook translated the packet's addresses (`src > dst` of that flow). */
  iptablesContinuedAs?: string;
  /** afterDelivery: the skb had already reached ip_local_deliver, so the drop is the receiver's, not the path's. */
  drops: { stream: number; where: PointHint; reason: string; detail: string; afterDelivery?: boolean }[];
  /** Policy-verdict and drop records of monitor and Hubble, first few kept: what policy-explain.ts reads. Absent when none. */
  policy?: PolicyRecord[];
}

/** One policy verdict or drop record of a flow, as its tool gave it, and where it was seen. */
export interface PolicyRecord {
  stream: number;
  where: PointHint;
  event: MonitorEvent | HubbleEvent;
}

const POLICY_RECORDS_KEPT = 8;

/** notePolicy keeps a flow's policy-verdict and drop records (rare lines: no cost on the hot path). */
function notePolicy(flow: FlowRecord, stream: number, where: PointHint, event: MonitorEvent | HubbleEvent): void {
  const list = (flow.evidence.policy ??= []);
  if (list.length < POLICY_RECORDS_KEPT) list.push({ stream, where, event });
}

export interface FlowRecord {
  ref: FlowRef;
  key: string;
  role?: 'request' | 'reply';
  firstSeq: number;
  /** By the packet's identity in the flow (FlowRef.packetId); PacketRecord.key spells it. */
  packets: Map<PacketId, PacketRecord>;
  /** Hops of tools that cannot tell packets apart, per stream, in order: attached by flow and order at the end. */
  unkeyed: Map<number, HopRecord[]>;
  extraPackets: number;
  extraUnkeyed: number;
  evidence: FlowEvidence;
  /** The tunnel a packet of this flow was seen in (the first one named). */
  tunnel?: TunnelInfo;
  /** The flow is a tunnel's outer packets whose inner packet no tool decoded. */
  outerOnly?: boolean;
  /** Only conntrack lookups named this flow so far: no packet of it was seen (see foldConntrackOnly). */
  ctOnly?: boolean;
  /** The direction conntrack gave its packets (CT verdict, trace `state`): weaker than the packet's own. */
  ctRole?: 'request' | 'reply';
  /** Conclusions about this flow found across flows (a reply from the wrong address). */
  notes?: string[];
  /** The reverse NAT index a conntrack entry of this flow carried (`CT entry found ... revnat=N`, non-zero). */
  ctRevnat?: number;
  /** A netfilter NAT rule a trace of this flow matched (its target, the address it names, its text). */
  natRule?: { target: 'DNAT' | 'SNAT' | 'MASQUERADE'; to?: string; chain: string; text: string; verdict?: string; stream?: number };
  /** The key of the other direction when a translation paired them and their tuples are not each other's reverse (applyTranslations). */
  pairKey?: string;
  /** Address translations applied to this flow (applyTranslations), in the order seen. */
  translations?: FlowTranslation[];
  /** The addresses the packets had after translation, where they differ (the delivered-to end). */
  translatedSrc?: string;
  translatedDst?: string;
}

/** One translation as the report shows it: what changed where, and the observation it rests on. */
export interface FlowTranslation {
  point: string;
  kind: 'dnat' | 'snat' | 'revnat' | 'masquerade';
  from: string;
  to: string;
  evidence: string;
}

/**
 * A translation an observation showed: the packet had the tuple `before`, then `after`. The
 * socket LB rewrites a socket's destination before any packet exists, so its tuples have no
 * source (`sock`): they match flows by destination.
 */
export interface TranslationRecord {
  kind: FlowTranslation['kind'];
  before: FlowRef;
  after: FlowRef;
  /** Where it happened: a point hint resolved later, or a named hook (`socket-lb`). */
  where: PointHint | string;
  stream: number;
  evidence: string;
  sock?: boolean;
  /** The reverse NAT index the service lookup created for the connection (monitor DEBUG). */
  revnat?: number;
}

interface MonitorGroup {
  flow: FlowRecord;
  hop: HopRecord;
  /** The ref that gave the group its packet identity, if any did. */
  packet?: FlowRef;
  /** False when the group's hop was only counted: its words and facts would never be shown. */
  kept: boolean;
  /** A trace record joined the group: the agent prints one per packet and point, so a second one is another packet. */
  traced?: boolean;
  /** The group began with a conntrack lookup of the service tuple (TUPLE_F_SERVICE): its tuple. */
  serviceTuple?: FlowRef;
  serviceMark?: string;
  /** The reverse NAT index the service lookup's `Conntrack create` gave the connection. */
  serviceRevnat?: number;
}

/** The flows from one source address: listed while few, then by `dst sub`. */
interface FlowsFrom {
  list: FlowRecord[];
  byDstSub?: Map<string, FlowRecord>;
}

const FLOWS_LISTED_PER_SOURCE = 8;

interface PwruGroup {
  flow: FlowRecord;
  /** Undefined when the skb was only counted: nothing of it is shown. */
  hop?: HopRecord;
  /** The skb's functions, kept for its hop (the first MAX_FUNCS, for people). */
  funcs?: string[];
  /** The skb's rule functions, kept when it is evidence of the flow's path. */
  steps?: KernelStep[];
  /** The skb reached ip_local_deliver / ip6_input: a later drop is the receiver's. */
  delivered: boolean;
  src: string;
  dst: string;
  /** The function of the skb's last line: the one after which its tuple changed, when it did. */
  lastFunc?: string;
}

const MAX_FUNCS = 64;
/** Rule functions kept per evidence skb: a bound against a looping skb, far above a real path (~20). */
const MAX_RULE_STEPS = 512;
/** A packet key that repeats (ICMP seq wrap, retransmissions) must not grow a packet without bound. */
const MAX_HOPS_PER_PACKET = 64;
/**
 * skbs kept as path evidence per flow and per pwru stream (node): the sending node's skbs must not
 * use up what the receiving node's pwru says about the same packets.
 */
const KERNEL_EVIDENCE_KEPT = 4;

/**
 * FlowAccumulator: events in, flows out. Memory is bounded by the number of flows: per flow it
 * keeps the first `maxPackets` packets in detail and counts the rest.
 */
export class FlowAccumulator {
  readonly flows = new Map<string, FlowRecord>();
  private seq = 0;
  /** Open monitor record groups by stream, CPU and endpoint (a numeric key: this runs per line). */
  private readonly monitorGroups = new Map<number, MonitorGroup>();
  private readonly latestGroupOfEndpoint = new Map<number, MonitorGroup>();
  /** Open pwru skb groups, per stream then by skb address (no key strings built per line). */
  private readonly pwruGroups = new Map<number, Map<string, PwruGroup>>();
  /** ARP requests seen: sender MAC -> sender IP, to name the asker of a reply. */
  private readonly arpAskers = new Map<string, string>();
  private readonly askerOfMac = (mac: string) => this.arpAskers.get(mac);

  constructor(private readonly maxPackets: number) {}

  add(stream: StreamInfo, event: ProbeEvent): void {
    stream.events = (stream.events ?? 0) + 1;
    switch (event.tool) {
      case 'tcpdump':
      case 'pcap':
        this.addCapture(stream, event);
        return;
      case 'monitor':
        this.addMonitor(stream, event);
        return;
      case 'pwru':
        this.addPwru(stream, event);
        return;
      case 'iptables':
        this.addIptables(stream, event);
        return;
      case 'hubble':
        this.addHubble(stream, event);
        return;
    }
  }

  /** A stream ended: close its open pwru and monitor groups so new streams start clean. */
  endStream(stream: StreamInfo): void {
    for (const [k, g] of this.monitorGroups) if (g.hop.stream === stream.index) this.monitorGroups.delete(k);
    for (const [k, g] of this.latestGroupOfEndpoint) if (g.hop.stream === stream.index) this.latestGroupOfEndpoint.delete(k);
    this.pwruGroups.delete(stream.index);
    this.lastHubble.delete(stream.index);
    // A translation whose connection sent nothing Hubble showed is still a fact: shown under the socket's own flow.
    for (const [k, x] of this.hubbleXlates) {
      if (x.hop.stream !== stream.index) continue;
      this.hubbleXlates.delete(k);
      const ref = flowOf(x.packet);
      if (ref) this.place(this.flowFor(ref), undefined, stream.index, x.hop);
    }
  }

  private addCapture(stream: StreamInfo, event: CaptureEvent): void {
    const arp = event.packet.arp;
    if (arp?.op === 'request' && arp.senderIp && event.packet.eth && this.arpAskers.size < 4096) this.arpAskers.set(event.packet.eth.src, arp.senderIp);
    const iface = event.packet.cooked?.ifname || event.iface;
    const where = stream.point ? this.fixedWhere(stream) : this.streamWhere(stream, iface);
    if (event.time) this.noteWindow(where, stream.index, event.time);
    const ref = flowOf(event.packet, this.askerOfMac);
    if (!ref) return;
    if (ref.encap || event.packet.l4?.proto === 'udp') {
      if (this.addTunnelPacket(stream, where, event, ref)) return;
    }
    const flow = this.flowFor(ref);
    // A capture names the VNI where pwru may not: the richer description wins.
    if (ref.encap && flow.tunnel?.vni === undefined) flow.tunnel = tunnelOf(event.packet) ?? flow.tunnel;
    this.noteSeen(flow, where, stream.index, ref.encap);
    // Words and facts are only worth building for hops the report will show.
    const packetId = ref.packetId;
    if (packetId !== undefined) {
      const packet = flow.packets.get(packetId);
      if (packet ? packet.hops.length >= MAX_HOPS_PER_PACKET : flow.packets.size >= this.maxPackets) {
        if (!packet) flow.extraPackets++;
        return;
      }
      const hop = this.hop(stream, where, event.time, captureDetail(event, ref), captureFacts(event.packet, ref));
      if (packet) packet.hops.push(hop);
      else flow.packets.set(packetId, { key: ref.packetKey!, hops: [hop], firstSeq: hop.seq });
      return;
    }
    if (this.keeps(flow, undefined, stream.index)) {
      this.place(flow, undefined, stream.index, this.hop(stream, where, event.time, captureDetail(event, ref), captureFacts(event.packet, ref)));
    } else {
      this.place(flow, undefined, stream.index, undefined);
    }
  }

  /** When each capture point was capturing (capture-windows.ts), by its hint. */
  readonly captureWindows = new Map<PointHint, CaptureWindow>();

  private noteWindow(where: PointHint, stream: number, t: Timestamp): void {
    const w = this.captureWindows.get(where);
    if (!w) {
      if (windowClock(t.clock)) this.captureWindows.set(where, { stream, clock: t.clock, first: t.us, last: t.us });
    } else if (w.clock === t.clock) w.last = t.us;
  }

  /** Address translations observed, applied to the flows once all input is read (applyTranslations). */
  readonly translations: TranslationRecord[] = [];
  /** trace-sock `pre-xlate-*` records waiting for their `post-xlate-*`, by socket cookie and direction. */
  private readonly sockPending = new Map<string, MonitorEvent>();

  private noteTranslation(t: TranslationRecord): void {
    if (this.translations.length >= MAX_TRANSLATIONS) return;
    const same = this.translations.find((x) => x.kind === t.kind && x.before.key === t.before.key && x.after.key === t.after.key);
    if (!same) this.translations.push(t);
  }

  /**
   * Cilium's service load balancing seen in DEBUG records: a conntrack lookup of the service tuple
   * (flags with TUPLE_F_SERVICE = 4, bpf/lib/common.h; lb4_local() in bpf/lib/lb.h looks the
   * frontend up in CT_SERVICE scope), then, for the same packet (CPU, MARK and endpoint of one
   * record group), a lookup of a tuple with the same source and another destination: lb4_xlate()
   * rewrote the destination to the backend in between (DNAT).
   */
  private noteServiceTranslation(stream: StreamInfo, where: PointHint, event: MonitorEvent, service: FlowRef, backend: FlowRef, revnat: number | undefined): void {
    if (service.src !== backend.src || service.srcPort !== backend.srcPort || service.proto !== backend.proto) return;
    if (service.dst === backend.dst && service.dstPort === backend.dstPort) return;
    const mark = event.mark ? `, MARK ${event.mark}` : '';
    this.noteTranslation({
      kind: 'dnat', before: service, after: backend, where, stream: stream.index, revnat,
      evidence: `cilium monitor DEBUG: conntrack lookup of the service tuple ${endText(service.dst, service.dstPort)} (flags 4, TUPLE_F_SERVICE), then the same packet (CPU ${event.cpu ?? '?'}${mark}) looked up as ${endText(backend.dst, backend.dstPort)}`,
    });
  }

  /**
   * Socket-LB records (`cilium monitor -t trace-sock`): bpf_sock.c rewrites a socket's destination
   * at connect()/sendmsg() (__sock4_xlate_fwd: pre-xlate-fwd -> post-xlate-fwd) and the source of
   * what it receives back (__sock4_xlate_rev: pre-xlate-rev -> post-xlate-rev), before any packet
   * exists: on the wire only the backend is seen.
   */
  private addSockTrace(stream: StreamInfo, event: MonitorEvent): void {
    const sock = event.sock!;
    const dir = sock.xlatePoint.endsWith('-rev') ? 'rev' : 'fwd';
    const key = `${stream.index}|${sock.cookie}|${dir}`;
    if (sock.xlatePoint.startsWith('pre-')) {
      if (this.sockPending.size < 4096 || this.sockPending.has(key)) this.sockPending.set(key, event);
      return;
    }
    const pre = this.sockPending.get(key)?.sock;
    this.sockPending.delete(key);
    if (!pre || (pre.dstIp === sock.dstIp && pre.dstPort === sock.dstPort)) return;
    const proto = sock.proto.toLowerCase();
    const a = flowOf({ ip: { version: pre.dstIp.includes(':') ? 6 : 4, src: '?', dst: pre.dstIp }, l4: { proto, dstPort: pre.dstPort } });
    const b = flowOf({ ip: { version: sock.dstIp.includes(':') ? 6 : 4, src: '?', dst: sock.dstIp }, l4: { proto, dstPort: sock.dstPort } });
    if (!a || !b) return;
    const cookie = `socket cookie ${sock.cookie}, cgroup ${sock.cgroupId}`;
    this.noteTranslation(dir === 'fwd'
      ? { kind: 'dnat', before: a, after: b, where: 'socket-lb', stream: stream.index, sock: true, evidence: `cilium monitor trace-sock: [pre-xlate-fwd] ${endText(pre.dstIp, pre.dstPort)} -> [post-xlate-fwd] ${endText(sock.dstIp, sock.dstPort)} (${cookie}): the socket LB connected the socket to the backend` }
      // Reverse: the peer the socket received from (the backend) is shown to it as the service.
      : { kind: 'revnat', before: a, after: b, where: 'socket-lb', stream: stream.index, sock: true, evidence: `cilium monitor trace-sock: [pre-xlate-rev] ${endText(pre.dstIp, pre.dstPort)} -> [post-xlate-rev] ${endText(sock.dstIp, sock.dstPort)} (${cookie}): replies reach the socket as from the service` });
  }

  /** Outer flows (`src:sport>dst:dport`) of tunnel packets seen with their inner packet -> that inner flow. */
  private readonly innerOfOuter = new Map<string, FlowRecord>();

  /**
   * The outer packets of a tunnel belong to the inner flow they carry, never to a flow of their
   * own: an encapsulated packet files its outer flow under its inner one; a tunnel packet whose
   * inner packet was not decoded joins the inner flow of the same outer flow, when one was seen
   * (true: it was filed). Otherwise it stays a flow of outer packets, marked as such.
   */
  private addTunnelPacket(stream: StreamInfo, where: PointHint, event: CaptureEvent, ref: FlowRef): boolean {
    if (ref.encap) {
      const outer = outerKey(event.packet);
      if (outer && this.innerOfOuter.size < 4096 && !this.innerOfOuter.has(outer)) this.innerOfOuter.set(outer, this.flowFor(ref));
      return false;
    }
    const key = outerOnlyKey(event.packet);
    if (!key) return false;
    const inner = this.innerOfOuter.get(key);
    const tunnel = tunnelOf(event.packet)!;
    if (!inner) {
      const flow = this.flowFor(ref);
      flow.outerOnly = true;
      flow.tunnel ??= tunnel;
      return false;
    }
    const encap = `${tunnel.kind}${tunnel.vni !== undefined ? ` vni ${tunnel.vni}` : ''}${tunnel.outer ? ` ${tunnel.outer}` : ''}`;
    this.noteSeen(inner, where, stream.index, encap);
    const words = `${event.packet.cooked ? `${event.packet.cooked.direction} ` : ''}outer ${encap} packet, its inner packet not decoded`;
    // A packet of its own under the inner flow (which inner packet it carried is unknown), told
    // apart by its outer IPv4 id when the capture shows one.
    const id = event.packet.ip?.id;
    const packetKey = `${tunnel.kind} outer packet ${id !== undefined ? `ip-id ${id}` : `#${this.seq}`}`;
    const identity = { packetId: packetKey, packetKey } as FlowRef;
    const hop = this.keeps(inner, packetKey, stream.index) ? this.hop(stream, where, event.time, words, { encap }) : undefined;
    this.place(inner, identity, stream.index, hop);
    return true;
  }

  private readonly fixedWheres = new Map<number, PointHint>();
  private readonly endpointWheres = new Map<number, PointHint>();
  private readonly streamWheres = new Map<number, Map<string, PointHint>>();
  private readonly kernelWheres = new Map<number, PointHint>();

  /** One PointHint object per stream with a fixed point, so seen-keys can be cached by identity. */
  private fixedWhere(stream: StreamInfo): PointHint {
    const w = this.fixedWheres.get(stream.index);
    if (w && !(w.kind === 'fixed' && w.point !== stream.point)) return w;
    return this.remember(this.fixedWheres, stream.index, stream.index, { kind: 'fixed', point: stream.point! });
  }

  /** One PointHint object per capture stream and interface (or none), for the same reason. */
  private streamWhere(stream: StreamInfo, iface: string | undefined): PointHint {
    let byIface = this.streamWheres.get(stream.index);
    if (!byIface) this.streamWheres.set(stream.index, (byIface = new Map()));
    const w = byIface.get(iface ?? '');
    if (w) return w;
    const made: PointHint = iface ? { kind: 'iface', iface } : { kind: 'unknown' };
    return this.remember(byIface.size < 4096 ? byIface : undefined, iface ?? '', stream.index, made);
  }

  /** One kernel hint per pwru stream, for the same reason: pwru starts a group per skb. */
  private kernelWhere(stream: StreamInfo): PointHint {
    return this.kernelWheres.get(stream.index) ?? this.remember(this.kernelWheres, stream.index, stream.index, { kind: 'kernel' });
  }

  /** One PointHint object per stream and endpoint, for the same reason: monitor names one per line. */
  private endpointWhere(stream: StreamInfo, endpoint: number): PointHint {
    const k = stream.index * 65537 + endpoint;
    return this.endpointWheres.get(k) ?? this.remember(this.endpointWheres, k, stream.index, { kind: 'endpoint', endpoint });
  }

  /** Files a new hint under `key` (when there is a cache) and its seen-key, made once here. */
  private remember<K>(cache: Map<K, PointHint> | undefined, key: K, stream: number, w: PointHint): PointHint {
    cache?.set(key, w);
    this.seenKeys.set(w, `${stream}|${hintKey(w)}`);
    return w;
  }

  private addMonitor(stream: StreamInfo, event: MonitorEvent): void {
    if (event.sock) {
      this.addSockTrace(stream, event);
      return;
    }
    const groupKey = ((stream.index * 4097 + (event.cpu ?? -1) + 1) * 65537) + (event.endpoint ?? -1) + 1;
    const where: PointHint = event.endpoint !== undefined ? this.endpointWhere(stream, event.endpoint) : stream.point ? this.fixedWhere(stream) : { kind: 'agent' };
    const ref = event.packet ? flowOf(event.packet) : undefined;
    let group = this.monitorGroups.get(groupKey);
    if (!group && event.cpu === undefined && event.endpoint !== undefined) {
      // Trace lines without `-v` carry no CPU: they close the endpoint's latest group on any CPU.
      group = this.latestGroupOfEndpoint.get(stream.index * 65537 + event.endpoint);
    }
    if (group?.traced && event.type === 'trace') group = undefined;

    if (event.type === 'debug' && event.debugKind === 'ct-lookup' && ref) {
      // A conntrack lookup starts a new record group for this endpoint and CPU. Its tuple is not a
      // packet: it joins the flow it or its reverse names, and makes one only when neither exists.
      const flow = this.conntrackFlow(ref);
      const hop = this.hop(stream, where, undefined, '', {});
      const previous = group;
      group = { flow, hop, packet: packetOf(ref), kept: false };
      if (isServiceLookup(event)) {
        group.serviceTuple = ref;
        group.serviceMark = event.mark;
      } else if (previous?.serviceTuple && previous.serviceMark === event.mark) this.noteServiceTranslation(stream, where, event, previous.serviceTuple, ref, previous.serviceRevnat);
      this.monitorGroups.set(groupKey, group);
      if (event.endpoint !== undefined) this.latestGroupOfEndpoint.set(stream.index * 65537 + event.endpoint, group);
      this.noteSeen(flow, where, stream.index, undefined);
      hop.keyHint = ref.packetKeyPrefix;
      group.kept = this.place(flow, group.packet, stream.index, hop);
      return;
    }

    if (!ref && group) {
      // DEBUG lines without a tuple continue the group of their endpoint and CPU.
      if (event.ctState !== undefined) noteCtRole(group.flow, event.ctState);
      noteRevnat(group, event);
      if (group.kept) {
        appendDetail(group.hop, monitorWords(event));
        mergeMonitorFacts(group.hop, monitorFacts(event, group.flow.ref));
      }
      this.noteMonitor(group.flow, event, stream.index);
      if (event.type === 'drop') {
        this.noteDrop(group.flow, stream.index, where, monitorDropReason(event), event.summary, false, group.kept ? group.hop : undefined);
        notePolicy(group.flow, stream.index, where, event);
      }
      return;
    }
    if (!ref) return;

    const flow = this.flowFor(ref);
    if (event.ctState !== undefined) noteCtRole(flow, event.ctState);
    if (group && group.flow === flow && (group.packet === undefined || ref.packetId === undefined || group.packet.packetId === ref.packetId)) {
      if (group.kept) {
        appendDetail(group.hop, monitorWords(event));
        mergeMonitorFacts(group.hop, monitorFacts(event));
      }
      if (!group.packet && ref.packetId !== undefined) {
        this.rekey(flow, group, ref, stream.index);
      }
    } else if (this.keeps(flow, ref.packetId, stream.index)) {
      const hop = this.hop(stream, where, undefined, monitorWords(event), monitorFacts(event));
      group = { flow, hop, packet: packetOf(ref), kept: true };
      this.monitorGroups.set(groupKey, group);
      this.place(flow, group.packet, stream.index, hop);
    } else {
      const hop = this.hop(stream, where, undefined, '', {});
      group = { flow, hop, packet: packetOf(ref), kept: false };
      this.monitorGroups.set(groupKey, group);
      this.place(flow, group.packet, stream.index, undefined);
    }
    if (event.type === 'trace') group.traced = true;
    this.noteSeen(flow, where, stream.index, ref.encap);
    this.noteMonitor(flow, event, stream.index);
    if (event.type === 'drop') this.noteDrop(flow, stream.index, where, monitorDropReason(event), event.summary, false, group.kept ? group.hop : undefined);
    if (event.type === 'drop' || event.type === 'policy-verdict') notePolicy(flow, stream.index, where, event);
  }

  private addPwru(stream: StreamInfo, event: PwruEvent): void {
    let groups = this.pwruGroups.get(stream.index);
    if (!groups) this.pwruGroups.set(stream.index, (groups = new Map()));
    let group = groups.get(event.skb);
    // pwru repeats the tuple on every line of an skb: derive the flow once per skb, and again only
    // when the addresses change (the kernel reused the skb for another packet).
    const ip = innermostIp(event.packet);
    let changedFrom: PwruGroup | undefined;
    if (group && ip && (ip.src !== group.src || ip.dst !== group.dst)) {
      changedFrom = group;
      group = undefined;
    }
    let ref: FlowRef | undefined;
    if (!group) {
      ref = event.packet ? flowOf(event.packet) : undefined;
      if (!ref) return;
      if (changedFrom) {
        // One skb seen inside and then outside a tunnel (encapsulated by vxlan_xmit, or
        // decapsulated by vxlan_rcv): the outer tuple is the inner flow's tunnel hop.
        const inner = this.tunnelSkbInner(changedFrom.flow.ref, ref, event.packet!, changedFrom.flow);
        if (inner) {
          group = changedFrom;
          group.src = ref.src;
          group.dst = ref.dst;
          // What the underlay does with the outer packet (its route, neighbour output) is not
          // the inner packet's path: the path rules stop reading this skb here.
          group.steps = undefined;
        } else this.notePwruTranslation(stream, event, changedFrom, ref);
      }
    }
    if (!group) {
      ref = ref!;
      const flow = this.flowFor(ref);
      if (ref.encap && !flow.tunnel) flow.tunnel = tunnelOf(event.packet!);
      const where = this.kernelWhere(stream);
      const kept = this.keeps(flow, undefined, stream.index);
      const evidence = flow.evidence.kernel.length < KERNEL_EVIDENCE_KEPT || keptFromStream(flow.evidence.kernel, stream.index) < KERNEL_EVIDENCE_KEPT;
      // A counted skb needs no hop and, unless it is evidence, no list of functions.
      const hop = kept ? this.hop(stream, where, event.time, '', { skb: event.skb }) : undefined;
      if (!hop) this.seq++;
      const funcs = kept ? [] : undefined;
      if (hop) hop.funcs = funcs;
      const steps: KernelStep[] | undefined = evidence ? [] : undefined;
      if (steps) flow.evidence.kernel.push({ stream: stream.index, skb: event.skb, steps });
      group = { flow, hop, funcs, steps, delivered: false, src: ref.src, dst: ref.dst };
      groups.set(event.skb, group);
      this.noteSeen(flow, where, stream.index, ref.encap);
      this.place(flow, undefined, stream.index, hop);
    }
    const func = event.func;
    const funcs = group.funcs;
    if (funcs) {
      if (funcs.length < MAX_FUNCS) funcs.push(func);
      else if (group.hop) group.hop.funcsDropped = (group.hop.funcsDropped ?? 0) + 1;
    }
    const steps = group.steps;
    if (steps && steps.length < MAX_RULE_STEPS && RULE_FUNCS.has(func)) {
      const last = steps[steps.length - 1];
      if (!last || last.func !== func || last.netns !== event.netns || last.iface !== event.iface || last.ifindex !== event.ifindex) {
        steps.push({ func, netns: event.netns, iface: event.iface, ifindex: event.ifindex });
      }
    }
    if (!group.delivered && (func === 'ip_local_deliver' || func === 'ip6_input')) group.delivered = true;
    const hop = group.hop;
    if (hop) {
      if (event.iface && hop.facts.iface === undefined) hop.facts.iface = event.iface;
      if (event.netns !== undefined && hop.facts.netns === undefined) hop.facts.netns = event.netns;
    }
    if (event.dropReason && !BENIGN_DROP.has(event.dropReason)) {
      this.noteDrop(group.flow, stream.index, { kind: 'kernel' }, event.dropReason, `${func}(${event.dropReason})`, group.delivered, group.hop);
    }
    group.lastFunc = func;
    if (endsSkb(event.func)) groups.delete(event.skb);
  }

  /** Outer tunnel flows an skb showed around its inner flow: merged into the inner flow once all input is read. */
  readonly tunnelLinks: { outerKey: string; inner: FlowRecord }[] = [];

  /**
   * An skb whose tuple changed between a tunnel's outer packet (UDP to a tunnel port, no inner
   * decoded) and a packet that is not one: the inner flow, which gets the tunnel; the outer
   * flow, if the skb made one, is linked for merging. Undefined when no tunnel is involved.
   */
  private tunnelSkbInner(before: FlowRef, after: FlowRef, packet: Packet, beforeFlow: FlowRecord): FlowRecord | undefined {
    const afterTunnel = outerOnlyKey(packet) !== undefined;
    const beforeTunnel = beforeFlow.outerOnly === true || (before.proto === 'udp' && before.dstPort !== undefined && [8472, 4789, 6081].includes(before.dstPort));
    if (afterTunnel === beforeTunnel) return undefined;
    if (afterTunnel) {
      // Encapsulated: the skb stays with its inner flow.
      beforeFlow.tunnel ??= tunnelOf(packet);
      if (this.tunnelLinks.length < 4096) this.tunnelLinks.push({ outerKey: after.key, inner: beforeFlow });
      return beforeFlow;
    }
    // Decapsulated: the skb's flow so far was the outer one; the inner flow takes it over.
    const inner = this.flowFor(after);
    inner.tunnel ??= beforeFlow.tunnel ?? { kind: before.dstPort === 6081 ? 'geneve' : 'vxlan', outer: `${before.src} > ${before.dst}` };
    if (this.tunnelLinks.length < 4096) this.tunnelLinks.push({ outerKey: before.key, inner });
    return undefined;
  }

  /** Folds the outer tunnel flows pwru showed into their inner flows (see tunnelSkbInner). */
  foldTunnelSkbs(): void {
    for (const { outerKey, inner } of this.tunnelLinks) {
      const outer = this.flows.get(outerKey);
      if (!outer || outer === inner || !this.flows.has(inner.key)) continue;
      mergeFlowInto(outer, inner);
      this.dropFlow(outer);
    }
  }

  /**
   * One skb, not yet freed, whose tuple changed with one end kept: the kernel translated it
   * (netfilter nf_nat_manip_pkt, or a BPF program's NAT) — DNAT when the destination changed,
   * SNAT when the source did. Both ends changing is another packet in a reused skb.
   */
  private notePwruTranslation(stream: StreamInfo, event: PwruEvent, before: PwruGroup, after: FlowRef): void {
    const ref = before.flow.ref;
    if (ref.proto !== after.proto) return;
    // Copied to a socket, the packet's journey ended (the skb is freed after it): what that address holds next is another packet.
    if (before.lastFunc === 'skb_copy_datagram_iter') return;
    const kind = ref.src === after.src && ref.srcPort === after.srcPort ? 'dnat' : ref.dst === after.dst && ref.dstPort === after.dstPort ? 'snat' : undefined;
    if (!kind) return;
    const changed = kind === 'dnat' ? `${endText(ref.dst, ref.dstPort)} to ${endText(after.dst, after.dstPort)}` : `${endText(ref.src, ref.srcPort)} to ${endText(after.src, after.srcPort)}`;
    this.noteTranslation({
      kind, before: ref, after, where: this.kernelWhere(stream), stream: stream.index,
      evidence: `pwru: skb ${event.skb} changed its ${kind === 'dnat' ? 'destination' : 'source'} from ${changed}${before.lastFunc ? ` after ${before.lastFunc}` : ''}`,
    });
  }

  private addIptables(stream: StreamInfo, event: IptablesEvent): void {
    if (!event.packet) return;
    const ref = flowOf(event.packet);
    if (!ref) return;
    const flow = this.flowFor(ref);
    const where: PointHint = { kind: 'iptables' };
    const chain = `${event.table ?? '?'}:${event.chain ?? '?'}`;
    if (!flow.evidence.iptables.has(chain)) flow.evidence.iptables.set(chain, { stream: stream.index, text: event.summary, in: event.inIface || undefined, out: event.outIface || undefined });
    this.noteSeen(flow, where, stream.index, ref.encap);
    const verdict = event.verdict?.toUpperCase();
    if (verdict && TERMINAL_VERDICTS.has(verdict)) flow.evidence.iptablesFinal = { chain, verdict: verdict.toLowerCase(), stream: stream.index };
    const facts: Record<string, string | number> = { chain };
    if (event.inIface) facts.in = event.inIface;
    if (event.outIface) facts.out = event.outIface;
    // The lines of one trace id are one packet (xtables-monitor `TRACE: <family> <id>`, nft `trace id <id>`),
    // also where the packet shows nothing else to tell it apart (TCP without a sequence number).
    if (event.rule) noteNatRule(flow, event, chain, stream.index);
    if (event.traceId !== undefined) {
      flow.evidence.iptablesNft = true;
      this.followTrace(event.traceId, flow, stream, chain);
    }
    // nf_tables derives a trace id from the skb (nft_trace_init), so a later packet of the
    // connection in a reused skb gets the same id: with its IPv4 id, the id names one packet.
    const ipId = event.packet.ip?.version === 4 ? event.packet.ip.id : undefined;
    const traced = event.traceId !== undefined ? `${event.traceId}${ipId !== undefined ? ` ip-id ${ipId}` : ''}` : undefined;
    const identity = packetOf(ref) ?? (traced !== undefined ? { packetId: `trace ${traced}`, packetKey: `trace id ${traced}` } : undefined);
    const hop = this.hop(stream, where, event.time, event.summary, facts);
    if (verdict === 'DROP' || verdict === 'REJECT') this.noteDrop(flow, stream.index, where, `iptables ${chain} ${verdict}`, event.summary, false, hop);
    this.place(flow, identity, stream.index, hop);
  }

  /** The flow each trace id was first seen in (bounded: ids are per packet). */
  private readonly traceFlows = new Map<string, FlowRecord>();

  private followTrace(traceId: string, flow: FlowRecord, stream: StreamInfo, chain: string): void {
    const first = this.traceFlows.get(traceId);
    if (!first) {
      if (this.traceFlows.size < 4096) this.traceFlows.set(traceId, flow);
    } else if (first !== flow) {
      if (!first.evidence.iptablesContinuedAs) this.noteTraceTranslation(traceId, first, flow, stream, chain);
      first.evidence.iptablesContinuedAs ??= `${flow.ref.src} > ${flow.ref.dst}`;
    }
  }

  /**
   * One netfilter trace id (one packet) in two flows with one end kept: netfilter's NAT rewrote
   * it. A DNAT/SNAT/MASQUERADE rule the trace matched names the kind; without one, conntrack
   * translated an established connection back (the nat table is only traversed by a
   * connection's first packet: nf_nat_inet_fn applies the stored mapping to the rest).
   */
  private noteTraceTranslation(traceId: string, first: FlowRecord, then: FlowRecord, stream: StreamInfo, chain: string): void {
    const a = first.ref;
    const b = then.ref;
    if (a.proto !== b.proto) return;
    const dstChanged = a.src === b.src && a.srcPort === b.srcPort;
    const srcChanged = a.dst === b.dst && a.dstPort === b.dstPort;
    if (dstChanged === srcChanged) return;
    const rule = first.natRule;
    const kind: FlowTranslation['kind'] = dstChanged
      ? rule?.target === 'DNAT' ? 'dnat' : 'revnat'
      : rule?.target === 'MASQUERADE' ? 'masquerade' : rule?.target === 'SNAT' ? 'snat' : 'revnat';
    const how = rule && kind !== 'revnat' ? `, rule ${rule.text}` : ', no NAT rule matched: conntrack translated an established connection back';
    this.noteTranslation({
      kind, before: a, after: b, where: { kind: 'iptables' }, stream: stream.index,
      evidence: `netfilter trace ${traceId}: the packet ${a.src} > ${a.dst} went on as ${b.src} > ${b.dst} in ${chain}${how}`,
    });
  }

  /** The latest Hubble hop per stream: the events of one packet at one point (policy verdict, then drop or delivery) share it. */
  private readonly lastHubble = new Map<number, { flow: FlowRecord; hop: HopRecord; event: HubbleEvent }>();
  private readonly hubbleWheres = new Map<string, PointHint>();

  /** Socket-LB translations Hubble saw (pre-xlate-fwd then post-xlate-fwd), waiting for the connection's first packet. */
  private readonly hubbleXlates = new Map<string, { packet: Packet; hop: HopRecord }>();
  private readonly lastPreXlate = new Map<number, HubbleEvent>();

  private addHubble(stream: StreamInfo, event: HubbleEvent): void {
    const packet = hubblePacket(event);
    if (!packet) return;
    if (event.kind === 'trace-sock') {
      this.noteHubbleXlate(stream, event, packet);
      return;
    }
    const ref = flowOf(packet);
    if (!ref) return;
    // is_reply is Hubble's conntrack telling the direction: the flow's role when its flags do not.
    if (!ref.role && event.isReply !== undefined) ref.role = event.isReply ? 'reply' : 'request';
    const flow = this.flowFor(ref);
    if (event.ctState !== undefined) noteCtRole(flow, event.ctState);
    const where = this.hubbleWhere(stream, event);
    this.noteSeen(flow, where, stream.index, undefined);
    const xlate = this.hubbleXlates.size ? this.hubbleXlates.get(xlateKey(packet)) : undefined;
    if (xlate) {
      // The socket was connected to the service and the kernel sent to the backend: the packets carry the backend.
      this.hubbleXlates.delete(xlateKey(packet));
      this.place(flow, undefined, xlate.hop.stream, xlate.hop);
    }
    const tag = hubbleTag(event);
    const endpoint = event.obsPoint === 'to-endpoint' || event.direction === 'ingress' ? event.dst.endpointId : event.src.endpointId ?? event.dst.endpointId;
    const said = { endpoint, stream: stream.index, text: event.summary, tool: 'hubble' as const, node: event.node };
    if (tag && !flow.evidence.monitor.has(tag)) flow.evidence.monitor.set(tag, said);
    // Delivered to the flow's own destination, whether or not the endpoint list names its id.
    if (tag?.startsWith('to-endpoint:') && !flow.evidence.monitor.has('to-endpoint:dst')) flow.evidence.monitor.set('to-endpoint:dst', said);
    const dropped = event.kind === 'drop' || (event.kind === 'policy-verdict' && event.verdict === 'DENIED');
    if (dropped) {
      this.noteDrop(flow, stream.index, where, event.dropReason ?? 'Policy denied', `Hubble: ${hubbleWords(event)} (${event.summary})`);
    }
    if (dropped || event.kind === 'policy-verdict') notePolicy(flow, stream.index, where, event);
    const words = hubbleWords(event);
    const last = this.lastHubble.get(stream.index);
    if (last && last.flow === flow && last.hop.where === where && sameHubblePacket(last.event, event)) {
      if (dropped && !last.hop.drop) last.hop.drop = { reason: event.dropReason ?? 'Policy denied' };
      appendDetail(last.hop, words);
      Object.assign(last.hop.facts, hubbleFacts(event));
      last.event = event;
      return;
    }
    const hop = this.keeps(flow, undefined, stream.index) ? this.hop(stream, where, event.time, words, hubbleFacts(event)) : undefined;
    if (hop) {
      hop.node = event.node ?? stream.node;
      if (dropped) hop.drop = { reason: event.dropReason ?? 'Policy denied' };
      const l4 = packet!.l4;
      // Hubble shows no TCP sequence or ICMP id: its hop goes to the packet whose flags or ICMP type it shares.
      if (l4?.tcpFlags) hop.keyHint = `tcp [${l4.tcpFlags}] seq `;
      this.lastHubble.set(stream.index, { flow, hop, event });
    } else this.seq++;
    this.place(flow, undefined, stream.index, hop);
  }

  /**
   * Socket LB (bpf_sock.c) translates at connect(): Hubble's pre-xlate-fwd names the service the
   * socket asked for, post-xlate-fwd the backend it got. No packet carries the service address, so
   * the pair becomes one hop of the backend connection's flow, when its first packet comes.
   */
  private noteHubbleXlate(stream: StreamInfo, event: HubbleEvent, packet: Packet): void {
    if (event.xlatePoint === 'pre-xlate-fwd') {
      this.lastPreXlate.set(stream.index, event);
      return;
    }
    if (event.xlatePoint !== 'post-xlate-fwd') return;
    const pre = this.lastPreXlate.get(stream.index);
    this.lastPreXlate.delete(stream.index);
    const end = (e: HubbleEvent['dst']) => `${e.ip ?? e.name ?? '?'}${e.port !== undefined ? `:${e.port}` : ''}`;
    const service = pre && (pre.src.ip ?? pre.src.name) === (event.src.ip ?? event.src.name) ? end(pre.dst) : undefined;
    const words = `socket LB: ${service ?? 'a service'} -> ${end(event.dst)} (${service ? 'pre-xlate-fwd TRACED, ' : ''}post-xlate-fwd ${event.verdict})`;
    const facts = hubbleFacts(event);
    if (service) facts.service = service;
    const hop = this.hop(stream, this.hubbleWhere(stream, event), pre?.time ?? event.time, words, facts);
    hop.node = event.node ?? stream.node;
    if (this.hubbleXlates.size < 4096) this.hubbleXlates.set(xlateKey(packet), { packet, hop });
  }

  /** A Hubble event's point: the endpoint on the node that saw it, when the flow names both. */
  private hubbleWhere(stream: StreamInfo, event: HubbleEvent): PointHint {
    const endpoint = event.obsPoint === 'to-endpoint' || event.direction === 'ingress' ? event.dst.endpointId : event.src.endpointId;
    const node = event.node ?? stream.node;
    if (node === undefined && endpoint !== undefined) return this.endpointWhere(stream, endpoint);
    if (node === undefined && stream.point) return this.fixedWhere(stream);
    if (node === undefined) {
      const agent = this.hubbleWheres.get(`agent|${stream.index}`);
      return agent ?? this.remember(this.hubbleWheres, `agent|${stream.index}`, stream.index, { kind: 'agent' });
    }
    const point = endpoint !== undefined ? ciliumPoint(node, endpoint) : `cilium:${node}`;
    const known = this.hubbleWheres.get(point);
    if (known) return known;
    return this.remember(this.hubbleWheres.size < 4096 ? this.hubbleWheres : undefined, point, stream.index, { kind: 'fixed', point });
  }

  /**
   * Flows by src, then a short list of the flows from it, compared by dst and sub: found per
   * event without building a key string, and with one string hashed, not three. A source with
   * many flows gets a second map instead of a longer list.
   */
  private readonly flowIndex = new Map<string, FlowsFrom>();

  private flowFor(ref: FlowRef): FlowRecord {
    let from = this.flowIndex.get(ref.src);
    if (!from) this.flowIndex.set(ref.src, (from = { list: [] }));
    let flow: FlowRecord | undefined;
    if (from.byDstSub) flow = from.byDstSub.get(`${ref.dst} ${ref.sub}`);
    else {
      for (const f of from.list) {
        if (f.ref.dst === ref.dst && f.ref.sub === ref.sub) {
          flow = f;
          break;
        }
      }
    }
    if (!flow) {
      flow = {
        ref,
        key: ref.key,
        role: ref.role,
        firstSeq: this.seq,
        packets: new Map(),
        unkeyed: new Map(),
        extraPackets: 0,
        extraUnkeyed: 0,
        evidence: { seen: new Map(), monitor: new Map(), kernel: [], iptables: new Map(), drops: [] },
      };
      if (from.byDstSub) from.byDstSub.set(`${ref.dst} ${ref.sub}`, flow);
      else if (from.list.push(flow) > FLOWS_LISTED_PER_SOURCE) {
        from.byDstSub = new Map(from.list.map((f) => [`${f.ref.dst} ${f.ref.sub}`, f]));
        from.list = [];
      }
      this.flows.set(flow.key, flow);
    } else {
      if (!flow.role && ref.role) flow.role = ref.role;
      if (flow.ctOnly) flow.ctOnly = false;
    }
    return flow;
  }

  /** An existing flow with this ref's addresses, protocol and ports, without making one. */
  private findFlow(ref: FlowRef): FlowRecord | undefined {
    const from = this.flowIndex.get(ref.src);
    if (!from) return undefined;
    if (from.byDstSub) return from.byDstSub.get(`${ref.dst} ${ref.sub}`);
    return from.list.find((f) => f.ref.dst === ref.dst && f.ref.sub === ref.sub);
  }

  /**
   * The flow a conntrack tuple names, marked conntrack-only when no packet made it: Cilium prints
   * a lookup's tuple in either orientation (bpf/lib/conntrack.h `__ct_lookup4` looks the reverse
   * tuple up first and then ipv4_ct_tuple_reverse()s it; its struct names the fields for the
   * reply direction), so which flow it belongs to is decided once all input is read, with the
   * CT verdict that follows the lookup (foldConntrackOnly).
   */
  private conntrackFlow(ref: FlowRef): FlowRecord {
    const found = this.findFlow(ref);
    if (found) return found;
    const flow = this.flowFor(ref);
    flow.ctOnly = true;
    return flow;
  }

  /**
   * After all input: a conntrack-only flow whose reverse was seen as packets is that flow's
   * tuple printed the other way round, unless conntrack itself placed its packet in the other
   * direction of the connection than the seen flow's; its hops and evidence move there, so no
   * phantom reverse flow is reported.
   */
  foldConntrackOnly(): void {
    for (const flow of [...this.flows.values()]) {
      if (!flow.ctOnly) continue;
      const reverse = this.flows.get(flow.ref.reverseKey);
      if (!reverse || reverse.ctOnly) continue;
      const reverseRole = reverse.role ?? reverse.ctRole;
      if (flow.ctRole && reverseRole && flow.ctRole !== reverseRole) continue;
      mergeFlowInto(flow, reverse);
      this.dropFlow(flow);
    }
  }

  /** Forgets a flow whose hops and evidence moved to another (mergeFlowInto). */
  dropFlow(flow: FlowRecord): void {
    this.flows.delete(flow.key);
    const from = this.flowIndex.get(flow.ref.src);
    if (from) {
      if (from.byDstSub) from.byDstSub.delete(`${flow.ref.dst} ${flow.ref.sub}`);
      else from.list = from.list.filter((f) => f !== flow);
    }
  }

  /** The flow of a ref, made when missing (a translation whose original tuple no packet showed). */
  flowOfRef(ref: FlowRef): FlowRecord {
    return this.flowFor(ref);
  }

  private hop(stream: StreamInfo, where: PointHint, time: Timestamp | undefined, detail: string, facts: Record<string, string | number>): HopRecord {
    return { stream: stream.index, tool: stream.tool, where, time, detail, facts, seq: this.seq++, match: 'packet' };
  }

  /** keeps says whether `place` would keep a hop for this packet (detail) or only count it. */
  private keeps(flow: FlowRecord, packetId: PacketId | undefined, stream: number): boolean {
    if (packetId === undefined) return (flow.unkeyed.get(stream)?.length ?? 0) < this.maxPackets;
    const packet = flow.packets.get(packetId);
    return packet ? packet.hops.length < MAX_HOPS_PER_PACKET : flow.packets.size < this.maxPackets;
  }

  /**
   * place files a hop under its packet, or counts it when the flow already has enough detail;
   * true when the hop was kept.
   */
  private place(flow: FlowRecord, identity: Pick<FlowRef, 'packetId' | 'packetKey'> | undefined, stream: number, hop: HopRecord | undefined): boolean {
    if (identity === undefined) {
      let list = flow.unkeyed.get(stream);
      if (!list) flow.unkeyed.set(stream, (list = []));
      if (hop && list.length < this.maxPackets) {
        hop.match = 'flow';
        list.push(hop);
        return true;
      }
      flow.extraUnkeyed++;
      return false;
    }
    const packetId = identity.packetId!;
    let packet = flow.packets.get(packetId);
    if (!packet) {
      if (!hop || flow.packets.size >= this.maxPackets) {
        flow.extraPackets++;
        return false;
      }
      packet = { key: identity.packetKey!, hops: [], firstSeq: hop.seq };
      flow.packets.set(packetId, packet);
    }
    if (hop && packet.hops.length < MAX_HOPS_PER_PACKET) {
      packet.hops.push(hop);
      return true;
    }
    return false;
  }

  /**
   * A monitor group learnt its packet identity late (the layer dump follows the DEBUG lines). A
   * group that was only counted stays counted: it has no words to show.
   */
  private rekey(flow: FlowRecord, group: MonitorGroup, identity: FlowRef, stream: number): void {
    group.packet = identity;
    if (!group.kept) {
      // Counted as a hop by flow until now: it is a packet of its own beyond the detail kept.
      if (!flow.packets.has(identity.packetId!)) {
        flow.extraUnkeyed--;
        flow.extraPackets++;
      }
      return;
    }
    const list = flow.unkeyed.get(stream)!;
    list.splice(list.indexOf(group.hop), 1);
    group.hop.match = 'packet';
    group.kept = this.place(flow, identity, stream, group.hop);
  }

  /** Seen-keys of the hints made once per stream (fixedWhere, endpointWhere). */
  private readonly seenKeys = new WeakMap<PointHint, string>();

  private noteSeen(flow: FlowRecord, where: PointHint, stream: number, encap: string | undefined): void {
    const k = this.seenKeys.get(where) ?? `${stream}|${hintKey(where)}`;
    const seen = flow.evidence.seen.get(k);
    if (seen) {
      seen.count++;
      if (encap && !seen.encap) seen.encap = encap;
    } else {
      flow.evidence.seen.set(k, { where, stream, count: 1, encap });
    }
  }

  private noteMonitor(flow: FlowRecord, event: MonitorEvent, stream: number): void {
    const tag = monitorTag(event);
    if (tag && !flow.evidence.monitor.has(tag)) flow.evidence.monitor.set(tag, { endpoint: event.endpoint, stream, text: event.summary });
    // A to-endpoint record of this flow's own packet is its hand-over to the endpoint that owns the
    // packet's destination: Cilium finds that endpoint by the destination address
    // (lookup_ip4_endpoint in bpf_lxc.c / bpf_host.c) and emits TRACE_TO_LXC as it delivers, after
    // the ingress policy passed. So it is delivery also where no endpoint list names the id.
    if (tag?.startsWith('to-endpoint:') && !flow.evidence.monitor.has('to-endpoint:dst')) flow.evidence.monitor.set('to-endpoint:dst', { endpoint: event.endpoint, stream, text: event.summary });
  }

  private noteDrop(flow: FlowRecord, stream: number, where: PointHint, reason: string, detail: string, afterDelivery = false, hop?: HopRecord): void {
    if (hop && !hop.drop) hop.drop = afterDelivery ? { reason, afterDelivery } : { reason };
    if (flow.evidence.drops.length < 8) flow.evidence.drops.push({ stream, where, reason, detail, afterDelivery });
  }
}

const MAX_TRANSLATIONS = 256;

/** iptables `-j DNAT --to-destination A`, `-j SNAT --to-source A`, `-j MASQUERADE`; nft `dnat to A`, `snat to A`, `masquerade`. */
const NAT_RULE = /(?:-j (DNAT|SNAT|MASQUERADE)\b(?:.*?--to-(?:destination|source)[ =](\S+))?)|(?:\b(dnat|snat)(?: ip6?)? to (\S+))|(?:\b(masquerade)\b)/;

/** A NAT rule a trace line printed, kept on the flow once (the first: a connection's first packet meets it). */
function noteNatRule(flow: FlowRecord, event: IptablesEvent, chain: string, stream: number): void {
  if (flow.natRule || !event.rule || !chain.startsWith('nat:')) return;
  const m = NAT_RULE.exec(event.rule);
  if (!m) return;
  const target = (m[1] ?? m[3] ?? m[5]).toUpperCase() as 'DNAT' | 'SNAT' | 'MASQUERADE';
  const to = m[2] ?? m[4];
  flow.natRule = { target, ...(to ? { to } : {}), chain, text: event.rule, verdict: event.verdict, stream };
}

/** `10.96.0.10:53`, `[fd00::1]:53`, or the address alone without a port. */
export function endText(ip: string, port: number | undefined): string {
  if (port === undefined) return ip;
  return ip.includes(':') ? `[${ip}]:${port}` : `${ip}:${port}`;
}

/** A DEBUG conntrack lookup of a service tuple: `Conntrack lookup 2/2: ... flags=4` (TUPLE_F_SERVICE). */
function isServiceLookup(e: MonitorEvent): boolean {
  const flags = Number(e.extraFields?.flags);
  return Number.isInteger(flags) && (flags & 4) !== 0;
}

/** Conntrack's verdict on a packet, as a direction (bpf/lib/conntrack.h: CT_NEW and CT_ESTABLISHED match the forward tuple, CT_REPLY the reverse). */
const CT_ROLES: ReadonlyMap<string, 'request' | 'reply'> = new Map([['new', 'request'], ['established', 'request'], ['reply', 'reply']]);

/**
 * Reverse NAT indexes in DEBUG records: the one `Conntrack create` gives a service connection, and
 * the one an existing entry carries (`CT entry found` / `CT verdict`, non-zero). lb4_rev_nat()
 * (bpf/lib/lb.h) translates replies back with the frontend of the entry's rev_nat_index.
 */
function noteRevnat(group: MonitorGroup, event: MonitorEvent): void {
  const revnat = Number(event.extraFields?.revnat);
  if (!Number.isInteger(revnat) || revnat === 0) return;
  if (event.debugKind === 'ct-create' && group.serviceTuple) group.serviceRevnat ??= revnat;
  else if ((event.debugKind === 'ct-match' || event.debugKind === 'ct-verdict') && !group.serviceTuple) group.flow.ctRevnat ??= revnat;
}

function noteCtRole(flow: FlowRecord, ctState: string): void {
  if (!flow.ctRole) flow.ctRole = CT_ROLES.get(ctState);
}

/** Moves a flow's hops and evidence into the flow it really is (a phantom, or the other side of a translation). */
export function mergeFlowInto(from: FlowRecord, into: FlowRecord): void {
  for (const [id, p] of from.packets) {
    const there = into.packets.get(id);
    if (there) there.hops.push(...p.hops);
    else into.packets.set(id, p);
  }
  for (const [stream, hops] of from.unkeyed) {
    const list = into.unkeyed.get(stream);
    if (list) list.push(...hops);
    else into.unkeyed.set(stream, hops);
  }
  into.extraPackets += from.extraPackets;
  into.extraUnkeyed += from.extraUnkeyed;
  const ev = from.evidence;
  for (const [k, v] of ev.seen) {
    const seen = into.evidence.seen.get(k);
    if (seen) seen.count += v.count;
    else into.evidence.seen.set(k, v);
  }
  for (const [k, v] of ev.monitor) if (!into.evidence.monitor.has(k)) into.evidence.monitor.set(k, v);
  into.evidence.drops.push(...ev.drops);
  if (ev.policy) for (const r of ev.policy) notePolicy(into, r.stream, r.where, r.event);
  into.evidence.kernel.push(...ev.kernel);
  // Chains in the order the packet crossed them: the earlier flow's first.
  const chains = from.firstSeq < into.firstSeq ? [...ev.iptables, ...into.evidence.iptables] : [...into.evidence.iptables, ...ev.iptables];
  into.evidence.iptables = new Map();
  for (const [k, v] of chains) if (!into.evidence.iptables.has(k)) into.evidence.iptables.set(k, v);
  into.firstSeq = Math.min(into.firstSeq, from.firstSeq);
  if (!into.role && from.role) into.role = from.role;
  if (!into.ctRole && from.ctRole) into.ctRole = from.ctRole;
  if (!into.tunnel && from.tunnel) into.tunnel = from.tunnel;
  if (into.ctRevnat === undefined && from.ctRevnat !== undefined) into.ctRevnat = from.ctRevnat;
}

/** Client address and backend address and port: what a socket translation and its connection's packets share. */
function xlateKey(p: Packet): string {
  const ip = p.ip!;
  // A packet of the connection carries the client's port, which the socket's event did not print.
  return `${ip.src}>${ip.dst}:${p.l4?.dstPort ?? ''}`;
}

function keptFromStream(kernel: FlowEvidence['kernel'], stream: number): number {
  let n = 0;
  for (const k of kernel) if (k.stream === stream) n++;
  return n;
}

/** The ref as a packet identity, when it carries one (place and groups take refs without one as unkeyed). */
function packetOf(ref: FlowRef): FlowRef | undefined {
  return ref.packetId === undefined ? undefined : ref;
}

/** Netfilter verdicts that end a packet's way through a hook (not continue, return, jump or goto). */
const TERMINAL_VERDICTS = new Set(['ACCEPT', 'DROP', 'REJECT', 'QUEUE', 'STOLEN']);

/**
 * A monitor drop's reason with the numbers it came with: `drop (119, 0)` is how monitor prints a
 * code its own table does not name (pkg/monitor/api DropReasonExt: "%d, %d", reason, extended
 * error), so the numbers are all there is and both are kept; a named reason keeps its extended
 * error, named where Cilium gives it a meaning (FIB lookup failures carry BPF_FIB_LKUP_RET_*).
 */
function monitorDropReason(e: MonitorEvent): string {
  const name = e.dropReason ?? 'dropped';
  const ext = e.dropExtError;
  const unnamed = e.dropCode !== undefined && name === String(e.dropCode);
  if (unnamed) return `drop reason ${e.dropCode} (not named by this monitor or by kubectl-datapath)${ext !== undefined ? `, extended error ${ext}` : ''}`;
  if (ext === undefined) return name;
  const extName = e.dropCode === DROP_NO_FIB ? FIB_LOOKUP_RESULTS[ext] : undefined;
  return `${name} (${e.dropCode !== undefined ? `code ${e.dropCode}, ` : ''}extended error ${ext}${extName ? `: ${extName}` : ''})`;
}

/**
 * DROP_NO_FIB (bpf/lib/common.h): its extended error is the bpf_fib_lookup() result, `*ext_err = (__s8)ret;
 * return DROP_NO_FIB;` in cilium/cilium bpf/lib/fib.h; the values are include/uapi/linux/bpf.h's.
 */
const DROP_NO_FIB = 169;
const FIB_LOOKUP_RESULTS: Readonly<Record<number, string>> = {
  1: 'BPF_FIB_LKUP_RET_BLACKHOLE: the route is a blackhole',
  2: 'BPF_FIB_LKUP_RET_UNREACHABLE: the route is unreachable',
  3: 'BPF_FIB_LKUP_RET_PROHIBIT: the route is prohibited',
  4: 'BPF_FIB_LKUP_RET_NOT_FWDED: the packet is not forwarded (local destination)',
  5: 'BPF_FIB_LKUP_RET_FWD_DISABLED: forwarding is disabled on the interface',
  6: 'BPF_FIB_LKUP_RET_UNSUPP_LWT: the route needs an unsupported lightweight tunnel',
  7: 'BPF_FIB_LKUP_RET_NO_NEIGH: no neighbour entry for the next hop',
  8: 'BPF_FIB_LKUP_RET_FRAG_NEEDED: the packet is larger than the route MTU',
};

/** Drop reasons pwru prints for skbs freed normally. */
const BENIGN_DROP = new Set(['SKB_CONSUMED', 'SKB_DROP_REASON_NOT_SPECIFIED', 'NOT_SPECIFIED']);
/** The functions that end an skb's life: the next skb at its address is another packet (also in the pwru function filter, src/probes/pwru.ts). */
export const END_OF_SKB: ReadonlySet<string> = new Set(['kfree_skbmem', '__kfree_skb', 'kfree_skb_reason', 'sk_skb_reason_drop', 'consume_skb']);
const END_OF_SKB_LENGTHS = new Set([...END_OF_SKB].map((f) => f.length));

/** The skb's last function: checked by length first, as this runs for every pwru line. */
function endsSkb(func: string): boolean {
  return END_OF_SKB_LENGTHS.has(func.length) && END_OF_SKB.has(func);
}

export function hintKey(where: PointHint): string {
  switch (where.kind) {
    case 'fixed':
      return where.point;
    case 'iface':
      return `iface:${where.iface}`;
    case 'endpoint':
      return `ep:${where.endpoint}`;
    default:
      return where.kind;
  }
}

/** monitorTag: the one fact about the path a monitor record states, if any. */
function monitorTag(e: MonitorEvent): string | undefined {
  if (e.deliveryTo !== undefined) return endpointTag(LOCAL_DELIVERY_TAGS, 'local-delivery:', e.deliveryTo);
  switch (e.type) {
    case 'trace':
      if (!e.obsPoint) return undefined;
      return e.obsPoint === 'to-endpoint' && e.endpoint !== undefined ? endpointTag(TO_ENDPOINT_TAGS, 'to-endpoint:', e.endpoint) : e.obsPoint;
    case 'drop':
      return 'drop';
    case 'policy-verdict':
      return e.verdict ? `policy-${e.verdict}` : undefined;
    case 'debug':
      return e.debugKind === 'ct-verdict' && e.ctState ? CT_TAGS.get(e.ctState) ?? `ct-${e.ctState.toLowerCase()}` : undefined;
    default:
      return undefined;
  }
}

// Tags are built once per endpoint, not per record: monitor -v prints several records per packet.
const LOCAL_DELIVERY_TAGS = new Map<number, string>();
const TO_ENDPOINT_TAGS = new Map<number, string>();
const CT_TAGS: ReadonlyMap<string, string> = new Map(['new', 'established', 'reply', 'related', 'reopened'].map((s) => [s, `ct-${s}`]));

function endpointTag(cache: Map<number, string>, prefix: string, endpoint: number): string {
  let tag = cache.get(endpoint);
  if (tag === undefined) {
    tag = `${prefix}${endpoint}`;
    if (cache.size < 65536) cache.set(endpoint, tag);
  }
  return tag;
}

function monitorWords(e: MonitorEvent): string {
  switch (e.type) {
    case 'debug':
      switch (e.debugKind) {
        case 'ct-verdict':
          return e.ctState ? `CT ${e.ctState.toLowerCase()}` : '';
        case 'identity-mapped':
          return e.mappedAddr !== undefined ? `${e.mappedAddr} -> identity ${e.mappedIdentity}` : '';
        case 'local-delivery':
          return e.deliveryTo !== undefined ? `local delivery to endpoint ${e.deliveryTo}` : '';
        default:
          return '';
      }
    case 'trace': {
      const ids = e.srcIdentity !== undefined ? `, identity ${e.srcIdentity}->${e.dstIdentity}` : '';
      const st = e.ctState ? `, state ${e.ctState}` : '';
      const ep = e.obsPoint === 'to-endpoint' && e.endpoint !== undefined ? ` ${e.endpoint}` : '';
      return `${e.obsPoint ?? 'trace'}${ep}${ids}${st}`;
    }
    case 'drop':
      return `drop: ${e.dropReason ?? 'unknown reason'}${e.dropFile ? ` (${e.dropFile}${e.dropLine !== undefined ? `:${e.dropLine}` : ''})` : ''}`;
    case 'policy-verdict':
      return `policy ${e.verdict ?? 'verdict'}${e.policyMatch ? ` (match ${e.policyMatch})` : ''}`;
    default:
      return e.summary;
  }
}

/** monitorFacts: what -o wide shows of a monitor record (identities, CT state, MACs, TTL, IP ID). */
function monitorFacts(e: MonitorEvent, flow?: FlowRef): Record<string, string | number> {
  const f: Record<string, string | number> = {};
  if (e.srcIdentity !== undefined && e.dstIdentity !== undefined) f.identity = `${e.srcIdentity}->${e.dstIdentity}`;
  else if (e.srcIdentity !== undefined) f.srcIdentity = e.srcIdentity;
  else if (e.dstIdentity !== undefined) f.dstIdentity = e.dstIdentity;
  if (e.mappedIdentity !== undefined && e.mappedAddr !== undefined) {
    // DEBUG `Successfully mapped addr=A to identity=N`: whose identity it is, by the flow's ends.
    f[e.mappedAddr === flow?.dst ? 'dstIdentity' : e.mappedAddr === flow?.src ? 'srcIdentity' : `identity ${e.mappedAddr}`] = e.mappedIdentity;
  }
  if (e.ctState) f.ct = e.ctState.toLowerCase();
  if (e.deliveryTo !== undefined) f.deliveredTo = e.deliveryTo;
  if (e.verdict) f.policy = e.policyMatch ? `${e.verdict} (${e.policyMatch})` : e.verdict;
  const eth = e.packet?.eth;
  if (eth) f.mac = `${eth.src} > ${eth.dst}`;
  if (e.iface) f.iface = e.iface;
  if (e.packet?.ip?.ttl !== undefined) f.ttl = e.packet.ip.ttl;
  if (e.packet?.ip?.id !== undefined) f.ipId = e.packet.ip.id;
  return f;
}

/** Adds a record's facts to its group's hop; once the pair `identity=a->b` is known, its halves go. */
function mergeMonitorFacts(hop: HopRecord, facts: Record<string, string | number>): void {
  const f = Object.assign(hop.facts, facts);
  if (f.identity !== undefined) {
    delete f.srcIdentity;
    delete f.dstIdentity;
  }
}

function appendDetail(hop: HopRecord, words: string): void {
  if (!words) return;
  hop.detail = hop.detail ? `${hop.detail}; ${words}` : words;
}

function captureDetail(e: CaptureEvent, ref: FlowRef): string {
  const p = innermost(e.packet);
  const dir = e.packet.cooked ? `${e.packet.cooked.direction} ` : '';
  const l4 = p.l4;
  let what: string;
  if (p.arp) what = p.arp.op === 'reply' ? `ARP reply ${p.arp.targetIp} is-at ${p.arp.mac ?? '?'}` : `ARP who-has ${p.arp.targetIp} tell ${p.arp.senderIp ?? '?'}`;
  else if (l4?.icmpType && l4.icmpId === undefined && ICMP_ERROR_TEXT.test(e.summary)) what = icmpErrorText(e.summary);
  else if (l4?.icmpType) what = `${ref.proto === 'icmp6' ? 'ICMP6' : 'ICMP'} ${l4.icmpType.replace(/-/g, ' ')}${l4.icmpId !== undefined ? ` id ${l4.icmpId} seq ${l4.icmpSeq}` : ''}`;
  else if (l4?.tcpFlags !== undefined) what = `TCP [${l4.tcpFlags}]${l4.tcpSeq !== undefined ? ` seq ${l4.tcpSeq}` : ''}${l4.tcpAck !== undefined ? ` ack ${l4.tcpAck}` : ''}`;
  else what = e.summary;
  const ttl = p.ip?.ttl !== undefined ? `, ttl ${p.ip.ttl}` : '';
  const enc = ref.encap ? ` (in ${ref.encap})` : '';
  return `${dir}${what}${ttl}${enc}`;
}

/** An ICMP error as the capture words it (`ICMP 10.0.2.20 udp port 5000 unreachable`): what it quotes names the packet it answers. */
const ICMP_ERROR_TEXT = /^ICMP6?,? .*(unreachable|need to frag|too big|time exceeded|prohibited)/;

function icmpErrorText(summary: string): string {
  return summary.replace(/, length \d+$/, '');
}

function captureFacts(packet: Packet, ref: FlowRef): Record<string, string | number> {
  const f: Record<string, string | number> = {};
  const p = innermost(packet);
  const eth = p.eth ?? packet.eth;
  if (eth) f.mac = `${eth.src} > ${eth.dst}`;
  if (p.ip?.ttl !== undefined) f.ttl = p.ip.ttl;
  if (p.ip?.id !== undefined) f.ipId = p.ip.id;
  if (ref.encap) f.encap = ref.encap;
  if (packet.cooked) f.direction = packet.cooked.direction;
  const bad = p.badChecksum ?? packet.badChecksum;
  if (bad) f.checksum = bad;
  return f;
}

function innermostIp(p: Packet | undefined): Packet['ip'] {
  if (!p) return undefined;
  return innermost(p).ip;
}

function innermost(p: Packet): Packet {
  while (p.inner && (p.inner.ip || p.inner.arp)) p = p.inner;
  return p;
}
