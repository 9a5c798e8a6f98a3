import type { Packet } from '../model/packet.js';

/**
 * FlowRef: the directional flow a packet belongs to. A flow is protocol + addresses (+ ports for
 * TCP/UDP/SCTP); ICMP ids and TCP sequence numbers tell packets apart INSIDE a flow, so tools that
 * watched different pings of the same pair (the seed) still meet in one flow.
 */
export interface FlowRef {
  proto: string;
  src: string;
  dst: string;
  srcPort?: number;
  dstPort?: number;
  /** Directional key: `icmp 10.0.1.135 > 10.0.1.180`. */
  key: string;
  /** Key of the opposite direction. */
  reverseKey: string;
  /** What the packet itself says about its direction, when it says anything. */
  role?: 'request' | 'reply';
  /** Identity of this packet inside the flow, when the tool shows enough to tell. */
  packetKey?: string;
  /**
   * The same identity as a lookup key: a number for ICMP id/seq and IPv4 ids (no string is built
   * per event), packetKey itself otherwise. Unique within one flow only.
   */
  packetId?: PacketId;
  /** A prefix of the packet key when the tool shows only part of it (monitor's CT tuple: ICMP id, no seq). */
  packetKeyPrefix?: string;
  /** The packet is encapsulated (VXLAN, Geneve, IPIP, ESP); the flow is the inner one. */
  encap?: string;
  /** Protocol and ports: with src and dst, what tells this flow apart (the per-event lookup key). */
  sub: string;
}

export type PacketId = number | string;

/** How an IpFlowRef's packet identity is spelled when its packetKey is asked for. */
const Identity = { None: 0, Icmp: 1, IpId: 2, Text: 3 } as const;
type Identity = (typeof Identity)[keyof typeof Identity];

/**
 * IpFlowRef builds its key strings only when asked: the accumulator finds flows by src, dst and
 * `sub`, and packets by packetId, without them; most events only need those lookups.
 */
class IpFlowRef implements FlowRef {
  role?: 'request' | 'reply';
  packetId?: PacketId;
  packetKeyPrefix?: string;
  private keys?: [string, string];
  private identity: Identity = Identity.None;
  private a = 0;
  private b = 0;
  private text?: string;

  constructor(
    readonly proto: string,
    readonly src: string,
    readonly dst: string,
    readonly srcPort: number | undefined,
    readonly dstPort: number | undefined,
    readonly sub: string,
    readonly encap: string | undefined,
  ) {}

  get key(): string {
    return (this.keys ??= this.makeKeys())[0];
  }

  get reverseKey(): string {
    return (this.keys ??= this.makeKeys())[1];
  }

  get packetKey(): string | undefined {
    switch (this.identity) {
      case Identity.Icmp:
        return `icmp id ${this.a} seq ${this.b}`;
      case Identity.IpId:
        return `${this.proto} ip-id ${this.a}`;
      case Identity.Text:
        return this.text;
      default:
        return undefined;
    }
  }

  /** ICMP echo id and sequence: one 32-bit number when both fit 16 bits, as the protocol says. */
  setIcmp(id: number, seq: number): void {
    this.identity = Identity.Icmp;
    this.a = id;
    this.b = seq;
    this.packetId = isU16(id) && isU16(seq) ? (id << 16) | seq : this.packetKey;
  }

  setIpId(id: number): void {
    this.identity = Identity.IpId;
    this.a = id;
    this.packetId = Number.isInteger(id) ? id : this.packetKey;
  }

  setText(key: string): void {
    this.identity = Identity.Text;
    this.text = key;
    this.packetId = key;
  }

  private makeKeys(): [string, string] {
    const a = this.srcPort !== undefined ? `${this.src}:${this.srcPort}` : this.src;
    const b = this.dstPort !== undefined ? `${this.dst}:${this.dstPort}` : this.dst;
    return [`${this.proto} ${a} > ${b}`, `${this.proto} ${b} > ${a}`];
  }
}

const PORTED = new Set(['tcp', 'udp', 'sctp']);

/** flowOf derives the flow of the innermost decoded packet; undefined when the packet has no addresses. */
export function flowOf(packet: Packet, askerOfMac?: (mac: string) => string | undefined): FlowRef | undefined {
  let p = packet;
  let encap: string | undefined;
  while (p.inner && (p.inner.ip || p.inner.arp)) {
    encap = describeEncap(p);
    p = p.inner;
  }
  if (p.arp) return arpFlow(p, encap, askerOfMac);
  const ip = p.ip;
  if (!ip) return undefined;
  const proto = p.l4?.proto ?? ip.proto ?? 'ip';
  const l4 = p.l4;
  const ported = PORTED.has(proto);
  const srcPort = ported ? l4?.srcPort : undefined;
  const dstPort = ported ? l4?.dstPort : undefined;
  const sub = ported ? `${proto} ${srcPort ?? ''}>${dstPort ?? ''}` : proto;
  const ref = new IpFlowRef(proto, ip.src, ip.dst, srcPort, dstPort, sub, encap);
  if (proto === 'icmp' || proto === 'icmp6') {
    ref.role = icmpRole(l4?.icmpType);
    if (l4?.icmpId !== undefined && l4.icmpSeq !== undefined) ref.setIcmp(l4.icmpId, l4.icmpSeq);
    else if (l4?.icmpId !== undefined) ref.packetKeyPrefix = `icmp id ${l4.icmpId} seq `;
  } else if (proto === 'tcp') {
    const flags = l4?.tcpFlags;
    if (flags === 'S') ref.role = 'request';
    else if (flags === 'S.') ref.role = 'reply';
    else ref.role = serviceRole(srcPort, dstPort);
    if (flags !== undefined && l4?.tcpSeq !== undefined) {
      ref.setText(`tcp [${flags}] seq ${l4.tcpSeq}${l4.tcpAck !== undefined ? ` ack ${l4.tcpAck}` : ''}`);
    }
  } else {
    if (ported) ref.role = serviceRole(srcPort, dstPort);
    if (ip.id !== undefined && ip.version === 4) ref.setIpId(ip.id);
  }
  return ref;
}

function arpFlow(p: Packet, encap: string | undefined, askerOfMac?: (mac: string) => string | undefined): FlowRef | undefined {
  const arp = p.arp!;
  const asked = arp.targetIp;
  if (!asked) return undefined;
  if (arp.op === 'reply') {
    // tcpdump prints a reply without the asker's address: find it by the MAC the reply is sent to.
    // A decoded frame names the replier as sender (it is the answered address): not the asker.
    const named = arp.senderIp !== undefined && arp.senderIp !== asked ? arp.senderIp : undefined;
    const asker = named ?? (p.eth && askerOfMac ? askerOfMac(p.eth.dst) : undefined) ?? '?';
    return {
      proto: 'arp', src: asked, dst: asker, key: `arp ${asked} > ${asker}`, reverseKey: `arp ${asker} > ${asked}`, sub: 'arp',
      role: 'reply', ...packetIdentity(`arp reply ${asked} is-at ${arp.mac ?? '?'}`), encap,
    };
  }
  const asker = arp.senderIp ?? '?';
  return {
    proto: 'arp', src: asker, dst: asked, key: `arp ${asker} > ${asked}`, reverseKey: `arp ${asked} > ${asker}`, sub: 'arp',
    role: 'request', ...packetIdentity(`arp who-has ${asked} tell ${asker}`), encap,
  };
}

function packetIdentity(key: string): { packetKey: string; packetId: PacketId } {
  return { packetKey: key, packetId: key };
}

/**
 * A DNS exchange says its direction by the port: queries go to 53, answers come from it (UDP or
 * TCP). Other ports say nothing for certain (a client may bind any port).
 */
function serviceRole(srcPort: number | undefined, dstPort: number | undefined): 'request' | 'reply' | undefined {
  if (dstPort === 53 && srcPort !== 53) return 'request';
  if (srcPort === 53 && dstPort !== 53) return 'reply';
  return undefined;
}

/** ICMP errors answer the packet that caused them (RFC 792, RFC 4443): never a request. */
const ICMP_ERRORS = new Set(['unreachable', 'time-exceeded', 'parameter-problem', 'packet-too-big', 'source-quench', 'redirect']);

/** Whether an ICMP type asks or answers: echo first, as nearly every ICMP packet traced is one. */
function icmpRole(type: string | undefined): 'request' | 'reply' | undefined {
  if (type === 'echo-request') return 'request';
  if (type === 'echo-reply') return 'reply';
  if (type === undefined) return undefined;
  if (ICMP_ERRORS.has(type)) return 'reply';
  if (type.includes('request') || type.includes('solicitation')) return 'request';
  if (type.includes('reply') || type.includes('advertisement')) return 'reply';
  return undefined;
}

function isU16(n: number): boolean {
  return Number.isInteger(n) && n >= 0 && n <= 0xffff;
}

function describeEncap(p: Packet): string {
  const e = p.encap;
  const outer = p.ip ? ` ${p.ip.src} > ${p.ip.dst}` : '';
  if (!e) return `encapsulated${outer}`;
  const vni = e.vni !== undefined ? ` vni ${e.vni}` : e.spi !== undefined ? ` spi 0x${e.spi.toString(16)}` : '';
  return `${e.kind}${vni}${outer}`;
}

/** A tunnel as one packet shows it: the encapsulation and the outer (node to node) addresses. */
export interface TunnelInfo {
  kind: string;
  vni?: number;
  /** `10.99.0.1 > 10.99.0.2`, outer addresses as printed. */
  outer?: string;
}

/**
 * UDP ports of the tunnels Cilium uses: 8472 (VXLAN, the Linux default Cilium keeps), 4789 (IANA
 * VXLAN) and 6081 (Geneve) — pkg/defaults TunnelPortVXLAN/TunnelPortGeneve; tcpdump decodes 8472
 * as OTV, whose header VXLAN's equals.
 */
const TUNNEL_PORTS: ReadonlyMap<number, string> = new Map([[8472, 'vxlan'], [4789, 'vxlan'], [6081, 'geneve']]);

/** The outermost tunnel of a packet that carries one: decoded encapsulation, or UDP to a tunnel port. */
export function tunnelOf(packet: Packet): TunnelInfo | undefined {
  const e = packet.encap;
  const outer = packet.ip ? `${packet.ip.src} > ${packet.ip.dst}` : undefined;
  if (e) {
    const t: TunnelInfo = { kind: e.kind };
    if (e.vni !== undefined) t.vni = e.vni;
    if (outer) t.outer = outer;
    return t;
  }
  const l4 = packet.l4;
  if (l4?.proto !== 'udp' || l4.dstPort === undefined) return undefined;
  const kind = TUNNEL_PORTS.get(l4.dstPort);
  if (!kind) return undefined;
  return outer ? { kind, outer } : { kind };
}

/**
 * A tunnel packet whose inner packet the tool did not decode (tcpdump cut it, snaplen, or only the
 * UDP header shown): the key of its outer flow (addresses and the outer source port, which VXLAN
 * and Geneve derive from the inner flow's hash), to find the inner flow it carried.
 */
export function outerOnlyKey(packet: Packet): string | undefined {
  if (packet.inner && (packet.inner.ip || packet.inner.arp)) return undefined;
  if (!packet.encap && !(packet.l4?.proto === 'udp' && packet.l4.dstPort !== undefined && TUNNEL_PORTS.has(packet.l4.dstPort))) return undefined;
  return packet.ip ? outerKey(packet) : undefined;
}

/** The outer flow of an encapsulated packet: `src:sport>dst:dport`. */
export function outerKey(packet: Packet): string | undefined {
  const ip = packet.ip;
  if (!ip) return undefined;
  return `${ip.src}:${packet.l4?.srcPort ?? ''}>${ip.dst}:${packet.l4?.dstPort ?? ''}`;
}
