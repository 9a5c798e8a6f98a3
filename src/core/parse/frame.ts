import type { CookedInfo, EthernetInfo, IpInfo, L4Info, Packet } from '../model/packet.js';
import { etherTypeName, icmpTypeName, ipProtoName, tcpFlagString } from './protocol-names.js';

/*
 * One captured frame -> Packet + the text tcpdump -nn -e would print after the outer link-layer
 * header. Every read is bounds-checked against the captured length: a frame cut by the snaplen
 * decodes as far as it goes and ends its text with tcpdump's `[|proto]` mark. No exceptions, no
 * DataView: this runs once per packet of captures with millions of packets.
 */

/** Link-layer header types (LINKTYPE_* of the pcap and pcapng specifications) the decoder reads. */
export const LINKTYPE_NULL = 0;
export const LINKTYPE_ETHERNET = 1;
export const LINKTYPE_RAW = 101;
export const LINKTYPE_LOOP = 108;
export const LINKTYPE_LINUX_SLL = 113;
export const LINKTYPE_IPV4 = 228;
export const LINKTYPE_IPV6 = 229;
export const LINKTYPE_LINUX_SLL2 = 276;

const LINKTYPE_NAMES: Record<number, string> = {
  0: 'NULL', 1: 'EN10MB', 12: 'RAW', 14: 'RAW', 101: 'RAW', 108: 'LOOP', 113: 'LINUX_SLL', 228: 'IPV4', 229: 'IPV6', 276: 'LINUX_SLL2',
};

/** linkTypeName: the name tcpdump prints for a link type (EN10MB, LINUX_SLL2, RAW), else LINKTYPE_<n>. */
export function linkTypeName(linkType: number): string {
  return LINKTYPE_NAMES[linkType] ?? `LINKTYPE_${linkType}`;
}

/** decodeFrame: the headers of one captured frame as a Packet (never throws; a cut frame gives what it has). */
export function decodeFrame(linkType: number, bytes: Uint8Array, wireLength: number = bytes.length): Packet {
  const packet: Packet = {};
  decodeFrameInto(packet, linkType, bytes, wireLength);
  return packet;
}

/**
 * decodeFrameInto fills `packet` from one frame and returns the tcpdump-style summary
 * (`10.0.1.135 > 10.0.1.180: ICMP echo request, id 20480, seq 0, length 64`). `wireLength` is the
 * frame's length on the wire (pcap orig_len), which the captured `bytes` may fall short of.
 */
export function decodeFrameInto(packet: Packet, linkType: number, bytes: Uint8Array, wireLength: number): string {
  packet.length = wireLength;
  const end = bytes.length;
  switch (linkType) {
    case LINKTYPE_ETHERNET:
      return ethernet(packet, bytes, 0, end, wireLength, false);
    case LINKTYPE_LINUX_SLL:
      return sll(packet, bytes, end, wireLength);
    case LINKTYPE_LINUX_SLL2:
      return sll2(packet, bytes, end, wireLength);
    case LINKTYPE_RAW:
    case 12:
    case 14:
    case LINKTYPE_IPV4:
    case LINKTYPE_IPV6:
      return ipAny(packet, bytes, 0, end);
    case LINKTYPE_NULL:
    case LINKTYPE_LOOP:
      return loopback(packet, bytes, end, linkType === LINKTYPE_LOOP);
    default:
      return `unsupported link type ${linkType}, length ${wireLength}`;
  }
}

// ---- byte helpers --------------------------------------------------------------------------

const HEX: string[] = [];
const DEC: string[] = [];
for (let i = 0; i < 256; i++) {
  HEX.push(i.toString(16).padStart(2, '0'));
  DEC.push(String(i));
}

function u16(b: Uint8Array, o: number): number {
  return (b[o] << 8) | b[o + 1];
}

function u32(b: Uint8Array, o: number): number {
  return b[o] * 0x1000000 + ((b[o + 1] << 16) | (b[o + 2] << 8) | b[o + 3]);
}

/**
 * Address text, memoised: a capture holds few distinct addresses, and building the string is most
 * of the cost of a small packet. Direct-mapped by a hash of the address bytes and checked against
 * them, so a hit allocates nothing; a colliding address simply replaces the slot.
 */
class AddressTexts {
  private readonly keys: Uint8Array;
  private readonly texts: (string | undefined)[];

  constructor(
    private readonly width: number,
    private readonly format: (b: Uint8Array, o: number) => string,
  ) {
    this.keys = new Uint8Array(1024 * width);
    this.texts = new Array<string | undefined>(1024).fill(undefined);
  }

  of(b: Uint8Array, o: number): string {
    const width = this.width;
    let h = 0;
    for (let i = 0; i < width; i++) h = (Math.imul(h, 31) + b[o + i]) | 0;
    const slot = (h ^ (h >>> 10)) & 1023;
    const at = slot * width;
    const text = this.texts[slot];
    if (text !== undefined) {
      let i = 0;
      while (i < width && this.keys[at + i] === b[o + i]) i++;
      if (i === width) return text;
    }
    const fresh = this.format(b, o);
    for (let i = 0; i < width; i++) this.keys[at + i] = b[o + i];
    this.texts[slot] = fresh;
    return fresh;
  }
}

const MACS = new AddressTexts(6, (b, o) => `${HEX[b[o]]}:${HEX[b[o + 1]]}:${HEX[b[o + 2]]}:${HEX[b[o + 3]]}:${HEX[b[o + 4]]}:${HEX[b[o + 5]]}`);
const IPV4S = new AddressTexts(4, (b, o) => `${DEC[b[o]]}.${DEC[b[o + 1]]}.${DEC[b[o + 2]]}.${DEC[b[o + 3]]}`);
const IPV6S = new AddressTexts(16, (b, o) => ip6Text(b, o));

function mac(b: Uint8Array, o: number): string {
  return MACS.of(b, o);
}

function ip4(b: Uint8Array, o: number): string {
  return IPV4S.of(b, o);
}

function ip6(b: Uint8Array, o: number): string {
  return IPV6S.of(b, o);
}

/** IPv6 text as inet_ntop writes it (RFC 5952: longest run of two or more zero groups is `::`). */
function ip6Text(b: Uint8Array, o: number): string {
  let bestStart = -1;
  let bestLen = 0;
  let runStart = -1;
  for (let i = 0; i < 8; i++) {
    if (b[o + 2 * i] === 0 && b[o + 2 * i + 1] === 0) {
      if (runStart < 0) runStart = i;
      if (i - runStart + 1 > bestLen) {
        bestStart = runStart;
        bestLen = i - runStart + 1;
      }
    } else runStart = -1;
  }
  if (bestLen < 2) bestStart = -1;
  // ::a.b.c.d and ::ffff:a.b.c.d keep the IPv4 dotted form, as inet_ntop prints them.
  if (bestStart === 0 && (bestLen === 6 || (bestLen === 5 && b[o + 10] === 0xff && b[o + 11] === 0xff))) {
    return `::${bestLen === 5 ? 'ffff:' : ''}${ip4(b, o + 12)}`;
  }
  let s = '';
  for (let i = 0; i < 8; i++) {
    if (i === bestStart) {
      s += '::';
      i += bestLen - 1;
      continue;
    }
    if (s !== '' && !s.endsWith(':')) s += ':';
    s += u16(b, o + 2 * i).toString(16);
  }
  return s;
}

function hex4(n: number): string {
  return HEX[n >> 8] + HEX[n & 0xff];
}

const ETHER_NAMES: string[] = [];
const TCP_FLAGS: string[] = [];

/** The model's name for an ethertype (ipv4, vlan, 0x88cc), memoised. */
function etherName(type: number): string {
  return (ETHER_NAMES[type] ??= etherTypeName(hex4(type)));
}

// ---- link layers ---------------------------------------------------------------------------

/** tcpdump's ethertype words: `ethertype IPv4 (0x0800)`. */
const ETHERTYPE_WORDS: Record<number, string> = {
  0x0800: 'IPv4', 0x0806: 'ARP', 0x86dd: 'IPv6', 0x8100: '802.1Q', 0x88a8: '802.1Q-QinQ', 0x9100: '802.1Q-9100',
  0x8035: 'Reverse ARP', 0x88cc: 'LLDP', 0x8847: 'MPLS unicast', 0x8848: 'MPLS multicast', 0x6558: 'TEB',
};

function etherTypeText(type: number): string {
  return `ethertype ${ETHERTYPE_WORDS[type] ?? 'Unknown'} (0x${hex4(type)})`;
}

/**
 * An Ethernet frame at `off`. `withHeader` (inner frames of VXLAN/Geneve) prepends the link-layer
 * text tcpdump -e prints (`src > dst, ethertype IPv4 (0x0800), length 98: `); the outer frame's
 * header is in `packet.eth` instead.
 */
function ethernet(p: Packet, b: Uint8Array, off: number, end: number, wire: number, withHeader: boolean): string {
  if (end - off < 14) return '[|ether]';
  const type = u16(b, off + 12);
  const eth: EthernetInfo = { src: mac(b, off + 6), dst: mac(b, off), type: etherName(type) };
  p.eth = eth;
  const head = withHeader ? `${eth.src} > ${eth.dst}, ${etherTypeText(type)}, length ${wire}: ` : '';
  if (type <= 1500) return `${head}802.3, length ${type}`;
  return head + linkPayload(p, eth, type, b, off + 14, end, wire - 14);
}

/** The payload of a link layer by ethertype, through any 802.1Q/802.1ad tags (recorded in `eth.vlans`). */
function linkPayload(p: Packet, eth: EthernetInfo | undefined, type: number, b: Uint8Array, at: number, end: number, wire: number): string {
  switch (type) {
    case 0x0800:
    case 0x86dd:
      return ipAny(p, b, at, end);
    case 0x0806:
      return arp(p, b, at, end, wire);
    case 0x8100:
    case 0x88a8:
    case 0x9100: {
      if (end - at < 4) return '[|vlan]';
      const tci = u16(b, at);
      const next = u16(b, at + 2);
      if (eth !== undefined) (eth.vlans ??= []).push(tci & 0x0fff);
      const tag = `vlan ${tci & 0x0fff}, p ${tci >> 13}${tci & 0x1000 ? ', DEI' : ''}, ${etherTypeText(next)}, `;
      return tag + linkPayload(p, eth, next, b, at + 4, end, wire - 4);
    }
    default:
      return `${etherTypeText(type)}, length ${wire}`;
  }
}

/** SLL packet types (include/uapi/linux/if_packet.h PACKET_*) as tcpdump prints them. */
const SLL_DIRECTIONS = ['In', 'B', 'M', 'P', 'Out'];

function cookedInfo(pkttype: number, b: Uint8Array, addrAt: number, halen: number, protocol: number): CookedInfo {
  const cooked: CookedInfo = { direction: SLL_DIRECTIONS[pkttype] ?? String(pkttype) };
  if (halen === 6) cooked.src = mac(b, addrAt);
  cooked.type = etherName(protocol);
  return cooked;
}

/** Linux cooked v1 (`-i any`): packet type, link-layer source address, protocol. */
function sll(p: Packet, b: Uint8Array, end: number, wire: number): string {
  if (end < 16) return '[|sll]';
  const protocol = u16(b, 14);
  p.cooked = cookedInfo(u16(b, 0), b, 6, u16(b, 4), protocol);
  return linkPayload(p, undefined, protocol, b, 16, end, wire - 16);
}

/**
 * Linux cooked v2: SLL plus the interface index. The name is not in the frame (tcpdump guesses it
 * from its own namespace), so `ifname` stays unset and `ifindex` carries the fact.
 */
function sll2(p: Packet, b: Uint8Array, end: number, wire: number): string {
  if (end < 20) return '[|sll2]';
  const protocol = u16(b, 0);
  const cooked = cookedInfo(b[10], b, 12, b[11], protocol);
  cooked.ifindex = u32(b, 4);
  p.cooked = cooked;
  return linkPayload(p, undefined, protocol, b, 20, end, wire - 20);
}

/** BSD loopback: a 4-byte address family, host byte order for NULL (0), network order for LOOP (108). */
function loopback(p: Packet, b: Uint8Array, end: number, networkOrder: boolean): string {
  if (end < 4) return '[|null]';
  let family = networkOrder ? u32(b, 0) : (b[0] | (b[1] << 8) | (b[2] << 16) | (b[3] << 24)) >>> 0;
  // NULL is in the capturing host's byte order: a family above 0xffff was written big-endian.
  if (!networkOrder && family > 0xffff) family = u32(b, 0);
  // AF_INET is 2 everywhere; AF_INET6 is 10 (Linux), 24 (NetBSD/OpenBSD), 28 (FreeBSD), 30 (macOS).
  if (family === 2 || family === 10 || family === 24 || family === 28 || family === 30) return ipAny(p, b, 4, end);
  return `unknown address family ${family}`;
}

// ---- network layer -------------------------------------------------------------------------

/** An IP packet of either version, told apart by its version nibble. */
function ipAny(p: Packet, b: Uint8Array, off: number, end: number): string {
  if (end - off < 1) return '[|ip]';
  const version = b[off] >> 4;
  if (version === 4) return ipv4(p, b, off, end);
  if (version === 6) return ipv6(p, b, off, end);
  return `IP version ${version} unknown`;
}

function ipv4(p: Packet, b: Uint8Array, off: number, end: number): string {
  if (end - off < 20) return '[|ip]';
  const ihl = (b[off] & 0x0f) * 4;
  const total = u16(b, off + 2);
  const frag = u16(b, off + 6);
  const protocol = b[off + 9];
  const ip: IpInfo = {
    version: 4,
    src: ip4(b, off + 12),
    dst: ip4(b, off + 16),
    ttl: b[off + 8],
    id: u16(b, off + 4),
    proto: ipProtoName(protocol),
    length: total,
    tos: b[off + 1],
  };
  if (frag & 0x6000) ip.flags = frag & 0x4000 ? (frag & 0x2000 ? 'DF,MF' : 'DF') : 'MF';
  p.ip = ip;
  if (total === 0 && ihl >= 20 && end - off > ihl) {
    // BIG TCP (Linux >= 6.3) and TSO sends put 0 in the total length: the frame's length is the
    // packet's (tcpdump: `[was 0, presumed BIG TCP]` / `presumed TSO`, print-ip.c GUESS_TSO).
    const presumed = end - off;
    ip.length = presumed;
    return transport(p, ip, protocol, b, off + ihl, end, presumed - ihl);
  }
  if (ihl < 20 || total < ihl) return `${ip.src} > ${ip.dst}: bad IP header`;
  // A later fragment carries no transport header.
  if ((frag & 0x1fff) !== 0) return `${ip.src} > ${ip.dst}: ip-proto-${protocol}`;
  const start = off + ihl;
  const capEnd = Math.min(end, off + total);
  return transport(p, ip, protocol, b, start, capEnd, total - ihl);
}

/** IPv6 extension headers tcpdump names before the upper layer (`HBH ICMP6, ...`). */
const IPV6_EXTENSION_WORDS: Record<number, string> = { 0: 'HBH ', 60: 'DSTOPT ', 43: 'srcrt ', 44: 'frag ' };

function ipv6(p: Packet, b: Uint8Array, off: number, end: number): string {
  if (end - off < 40) return '[|ip6]';
  const payloadLength = u16(b, off + 4);
  const ip: IpInfo = {
    version: 6,
    src: ip6(b, off + 8),
    dst: ip6(b, off + 24),
    ttl: b[off + 7],
    length: payloadLength,
    tos: ((b[off] & 0x0f) << 4) | (b[off + 1] >> 4),
  };
  p.ip = ip;
  let next = b[off + 6];
  let at = off + 40;
  let left = payloadLength;
  if (payloadLength === 0 && next !== 59) {
    // BIG TCP over IPv6: payload length 0 and the length in a hop-by-hop jumbo option (RFC 2675,
    // type 0xC2), or, once the kernel stripped that header, nothing but the frame's own length.
    left = (next === 0 ? jumboLength(b, at, end) : undefined) ?? end - at;
    ip.length = left;
  }
  const capEnd = Math.min(end, at + left);
  let prefix = '';
  // Walk the extension headers to the upper-layer protocol (no transport after a later fragment).
  for (;;) {
    const word = IPV6_EXTENSION_WORDS[next];
    if (word === undefined && next !== 51) break;
    if (capEnd - at < 8) {
      ip.proto = ipProtoName(next);
      return `${ip.src} > ${ip.dst}: ${prefix}[|ip6]`;
    }
    const size = next === 44 ? 8 : next === 51 ? (b[at + 1] + 2) * 4 : (b[at + 1] + 1) * 8;
    if (next === 44 && (u16(b, at + 2) & 0xfff8) !== 0) {
      ip.proto = ipProtoName(b[at]);
      return `${ip.src} > ${ip.dst}: ${prefix}frag (offset ${u16(b, at + 2) & 0xfff8})`;
    }
    prefix += word ?? 'AH ';
    next = b[at];
    at += size;
    left -= size;
  }
  ip.proto = ipProtoName(next);
  return prefix === '' ? transport(p, ip, next, b, at, capEnd, left) : insertAfterAddresses(transport(p, ip, next, b, at, capEnd, left), prefix);
}

/** The jumbo payload length in the hop-by-hop header at `at`, if it carries that option. */
function jumboLength(b: Uint8Array, at: number, end: number): number | undefined {
  if (end - at < 8) return undefined;
  const hdrEnd = Math.min(end, at + (b[at + 1] + 1) * 8);
  for (let o = at + 2; o < hdrEnd; ) {
    const type = b[o];
    if (type === 0) {
      o++;
      continue;
    }
    if (o + 1 >= hdrEnd) return undefined;
    const len = b[o + 1];
    if (type === 0xc2 && len === 4 && o + 6 <= hdrEnd) return u32(b, o + 2);
    o += 2 + len;
  }
  return undefined;
}

/** Puts an IPv6 extension-header note after the `src > dst: ` of a transport summary. */
function insertAfterAddresses(text: string, prefix: string): string {
  // Searched from ` > ` on: a source of `::` would otherwise match its own `: `.
  const colon = text.indexOf(': ', text.indexOf(' > ') + 3);
  return colon < 0 ? prefix + text : text.slice(0, colon + 2) + prefix + text.slice(colon + 2);
}

/**
 * The upper layer of an IP packet: `start..end` is its captured part, `length` its length by the
 * IP header (what tcpdump prints as `length N` for ICMP and ESP).
 */
function transport(p: Packet, ip: IpInfo, protocol: number, b: Uint8Array, start: number, end: number, length: number): string {
  switch (protocol) {
    case 1:
      return icmp(p, ip, b, start, end, length);
    case 58:
      return icmp6(p, ip, b, start, end, length);
    case 6:
      return tcp(p, ip, b, start, end, length);
    case 17:
      return udp(p, ip, b, start, end);
    case 4:
    case 41: {
      // IP in IP: the inner packet is the encapsulated one.
      p.encap = { kind: 'ipip' };
      const inner: Packet = {};
      p.inner = inner;
      return `${ip.src} > ${ip.dst}: ${ipAny(inner, b, start, end)}`;
    }
    case 50: {
      if (end - start < 8) return `${ip.src} > ${ip.dst}: ESP [|esp]`;
      const spi = u32(b, start);
      p.encap = { kind: 'esp', spi };
      return `${ip.src} > ${ip.dst}: ESP(spi=0x${spi.toString(16).padStart(8, '0')},seq=0x${u32(b, start + 4).toString(16)}), length ${length}`;
    }
    default:
      return `${ip.src} > ${ip.dst}: ip-proto-${protocol} ${length}`;
  }
}

// ---- transport layer -----------------------------------------------------------------------

/** Reads the port pair into `l4` and returns tcpdump's `src.port > dst.port: ` (undefined when cut before it). */
function portPair(l4: L4Info, ip: IpInfo, b: Uint8Array, at: number, end: number): string | undefined {
  if (end - at < 4) return undefined;
  l4.srcPort = u16(b, at);
  l4.dstPort = u16(b, at + 2);
  return `${ip.src}.${l4.srcPort} > ${ip.dst}.${l4.dstPort}: `;
}

function tcp(p: Packet, ip: IpInfo, b: Uint8Array, at: number, end: number, length: number): string {
  const l4: L4Info = { proto: 'tcp' };
  p.l4 = l4;
  const ends = portPair(l4, ip, b, at, end);
  if (ends === undefined) return `${ip.src} > ${ip.dst}:  [|tcp]`;
  if (end - at < 20) {
    if (end - at >= 8) l4.tcpSeq = u32(b, at + 4);
    return `${ends} [|tcp]`;
  }
  const seq = u32(b, at + 4);
  const ack = u32(b, at + 8);
  const headerLength = (b[at + 12] >> 4) * 4;
  const flags = b[at + 13];
  const dataLength = length - headerLength;
  l4.tcpFlags = TCP_FLAGS[flags] ??= tcpFlagString(flags);
  l4.tcpSeq = seq;
  if (flags & 0x10) l4.tcpAck = ack;
  l4.payloadLength = dataLength;
  let s = `${ends}Flags [${l4.tcpFlags}]`;
  if (dataLength > 0 || flags & 0x07) s += dataLength > 0 ? `, seq ${seq}:${(seq + dataLength) >>> 0}` : `, seq ${seq}`;
  if (flags & 0x10) s += `, ack ${ack}`;
  s += `, win ${u16(b, at + 14)}`;
  if (flags & 0x20) s += `, urg ${u16(b, at + 18)}`;
  if (headerLength > 20) {
    if (end - at < headerLength) return `${s}, options [|tcp]`;
    s += `, options [${tcpOptions(b, at + 20, at + headerLength)}]`;
  }
  return `${s}, length ${dataLength}`;
}

/** TCP options in tcpdump's words: `mss 1460,sackOK,TS val 1 ecr 0,nop,wscale 7`. */
function tcpOptions(b: Uint8Array, at: number, end: number): string {
  let s = '';
  while (at < end) {
    const kind = b[at];
    if (s !== '') s += ',';
    if (kind === 0) return `${s}eol`;
    if (kind === 1) {
      s += 'nop';
      at++;
      continue;
    }
    const len = at + 1 < end ? b[at + 1] : 0;
    if (len < 2 || at + len > end) return `${s}[bad opt]`;
    if (kind === 2 && len === 4) s += `mss ${u16(b, at + 2)}`;
    else if (kind === 3 && len === 3) s += `wscale ${b[at + 2]}`;
    else if (kind === 4 && len === 2) s += 'sackOK';
    else if (kind === 8 && len === 10) s += `TS val ${u32(b, at + 2)} ecr ${u32(b, at + 6)}`;
    else if (kind === 5 && (len - 2) % 8 === 0) {
      s += `sack ${(len - 2) / 8} `;
      for (let i = at + 2; i < at + len; i += 8) s += `{${u32(b, i)}:${u32(b, i + 4)}}`;
    } else s += `unknown-${kind}`;
    at += len;
  }
  return s;
}

/** UDP ports that carry overlays: Cilium's VXLAN (8472), IANA VXLAN (4789), Geneve (6081). */
const VXLAN_PORTS = new Set([8472, 4789]);
const GENEVE_PORT = 6081;

function udp(p: Packet, ip: IpInfo, b: Uint8Array, at: number, end: number): string {
  const l4: L4Info = { proto: 'udp' };
  p.l4 = l4;
  const ends = portPair(l4, ip, b, at, end);
  if (ends === undefined) return `${ip.src} > ${ip.dst}:  [|udp]`;
  if (end - at < 8) return `${ends} [|udp]`;
  const udpLength = u16(b, at + 4);
  l4.payloadLength = udpLength - 8;
  const payload = at + 8;
  const payloadWire = udpLength - 8;
  const dstPort = u16(b, at + 2);
  if (VXLAN_PORTS.has(dstPort) && end - payload >= 8 && b[payload] & 0x08) {
    const vni = (b[payload + 4] << 16) | (b[payload + 5] << 8) | b[payload + 6];
    p.encap = { kind: 'vxlan', vni };
    const inner: Packet = {};
    p.inner = inner;
    const flags = b[payload];
    return `${ends}VXLAN, flags [I] (0x${HEX[flags]}), vni ${vni}: ${ethernet(inner, b, payload + 8, end, payloadWire - 8, true)}`;
  }
  if (dstPort === GENEVE_PORT && end - payload >= 8 && b[payload] >> 6 === 0) {
    return ends + geneve(p, b, payload, end, payloadWire);
  }
  return `${ends}UDP, length ${udpLength - 8}`;
}

/** Geneve (RFC 8926): options skipped, inner frame by protocol type (TEB = Ethernet). */
function geneve(p: Packet, b: Uint8Array, at: number, end: number, wire: number): string {
  const optionsLength = (b[at] & 0x3f) * 4;
  const flags = b[at + 1];
  const protocol = u16(b, at + 2);
  const vni = (b[at + 4] << 16) | (b[at + 5] << 8) | b[at + 6];
  p.encap = { kind: 'geneve', vni };
  const flagText = (flags & 0x80 ? 'O' : '') + (flags & 0x40 ? 'C' : '') || 'none';
  let s = `Geneve, Flags [${flagText}], vni 0x${vni.toString(16)}, proto ${ETHERTYPE_WORDS[protocol] ?? 'Unknown'} (0x${hex4(protocol)})`;
  if (optionsLength > 0) s += `, options [${optionsLength} bytes]`;
  const innerAt = at + 8 + optionsLength;
  if (innerAt > end) return `${s} [|geneve]`;
  const inner: Packet = {};
  p.inner = inner;
  const innerWire = wire - 8 - optionsLength;
  if (protocol === 0x6558) return `${s}: ${ethernet(inner, b, innerAt, end, innerWire, true)}`;
  return `${s}: ${linkPayload(inner, undefined, protocol, b, innerAt, end, innerWire)}`;
}

// ---- ICMP ----------------------------------------------------------------------------------

/** tcpdump's words for ICMP types it prints without details (print-icmp.c icmp2str). */
const ICMP_WORDS: Record<number, string> = {
  4: 'source quench', 9: 'router advertisement', 10: 'router solicitation', 12: 'parameter problem',
  13: 'time stamp request', 14: 'time stamp reply', 15: 'information request', 16: 'information reply',
  17: 'address mask request', 18: 'address mask reply',
};

function icmp(p: Packet, ip: IpInfo, b: Uint8Array, at: number, end: number, length: number): string {
  const l4: L4Info = { proto: 'icmp' };
  p.l4 = l4;
  const ends = `${ip.src} > ${ip.dst}: `;
  if (end - at < 4) return `${ends} [|icmp]`;
  const type = b[at];
  const code = b[at + 1];
  l4.icmpType = icmpTypeName('icmp', type);
  l4.payloadLength = length;
  let text: string;
  if (type === 0 || type === 8) {
    if (end - at >= 6) l4.icmpId = u16(b, at + 4);
    if (end - at < 8) return `${ends} [|icmp]`;
    l4.icmpSeq = u16(b, at + 6);
    text = `echo ${type === 8 ? 'request' : 'reply'}, id ${l4.icmpId}, seq ${l4.icmpSeq}`;
  } else if (type === 3) {
    const why = unreachable(b, at, end, code);
    if (why === undefined) return `${ends} [|icmp]`;
    text = why;
  } else if (type === 11) {
    text = code === 0 ? 'time exceeded in-transit' : 'ip reassembly time exceeded';
  } else if (type === 5) {
    text = end - at >= 8 ? `redirect to ${ip4(b, at + 4)}` : 'redirect';
  } else {
    text = ICMP_WORDS[type] ?? `type-#${type}`;
  }
  return `${ends}ICMP ${text}, length ${length}`;
}

/** An ICMP unreachable, from the quoted packet: `10.0.0.2 udp port 5000 unreachable`. */
function unreachable(b: Uint8Array, at: number, end: number, code: number): string | undefined {
  const q = at + 8;
  if (end - q < 20) return undefined;
  const qIhl = (b[q] & 0x0f) * 4;
  const qDst = ip4(b, q + 16);
  const qProto = b[q + 9];
  switch (code) {
    case 0:
      return `net ${qDst} unreachable`;
    case 1:
      return `host ${qDst} unreachable`;
    case 2:
      return `${qDst} protocol ${qProto} unreachable`;
    case 3: {
      if (end - (q + qIhl) < 4) return undefined;
      const port = u16(b, q + qIhl + 2);
      const name = qProto === 6 ? 'tcp' : qProto === 17 ? 'udp' : undefined;
      return name ? `${qDst} ${name} port ${port} unreachable` : `${qDst} protocol ${qProto} port ${port} unreachable`;
    }
    case 4: {
      const mtu = u16(b, at + 6);
      return mtu ? `${qDst} unreachable - need to frag (mtu ${mtu})` : `${qDst} unreachable - need to frag`;
    }
    case 5:
      return `${qDst} unreachable - source route failed`;
    case 13:
      return `${qDst} unreachable - admin prohibited filter`;
    default:
      return `${qDst} unreachable - #${code}`;
  }
}

/** tcpdump's words for ICMPv6 types (print-icmp6.c icmp6_type_values). */
const ICMP6_WORDS: Record<number, string> = {
  1: 'destination unreachable', 2: 'packet too big', 3: 'time exceeded in-transit', 4: 'parameter problem',
  128: 'echo request', 129: 'echo reply', 130: 'multicast listener query', 131: 'multicast listener report',
  132: 'multicast listener done', 133: 'router solicitation', 134: 'router advertisement',
  135: 'neighbor solicitation', 136: 'neighbor advertisement', 137: 'redirect', 143: 'multicast listener report v2',
};

const ICMP6_UNREACHABLE_WORDS = ['unreachable route', 'unreachable prohibited', 'unreachable scope', 'unreachable address', 'unreachable port'];

function icmp6(p: Packet, ip: IpInfo, b: Uint8Array, at: number, end: number, length: number): string {
  const l4: L4Info = { proto: 'icmp6' };
  p.l4 = l4;
  const ends = `${ip.src} > ${ip.dst}: `;
  if (end - at < 4) return `${ends} [|icmp6]`;
  const type = b[at];
  l4.icmpType = icmpTypeName('icmp6', type);
  l4.payloadLength = length;
  let s = `${ends}ICMP6, ${ICMP6_WORDS[type] ?? `unknown icmp6 type (${type})`}`;
  switch (type) {
    case 128:
    case 129:
      if (end - at >= 6) l4.icmpId = u16(b, at + 4);
      if (end - at < 8) return `${s} [|icmp6]`;
      l4.icmpSeq = u16(b, at + 6);
      s += `, id ${l4.icmpId}, seq ${l4.icmpSeq}`;
      break;
    case 135:
    case 136:
      if (end - at < 24) return `${s} [|icmp6]`;
      s += type === 135 ? `, who has ${ip6(b, at + 8)}` : `, tgt is ${ip6(b, at + 8)}`;
      break;
    case 143:
      if (end - at < 8) return `${s} [|icmp6]`;
      s += `, ${u16(b, at + 6)} group record(s)`;
      break;
    case 2:
      if (end - at < 8) return `${s} [|icmp6]`;
      s += `, mtu ${u32(b, at + 4)}`;
      break;
    case 1: {
      const code = b[at + 1];
      s += `, ${ICMP6_UNREACHABLE_WORDS[code] ?? `unknown unreach code (${code})`}`;
      if (end - at < 48) return `${s} [|icmp6]`;
      // Port unreachable names the quoted packet's port; the other codes its destination.
      s += code === 4 ? `, ${quotedPort6(b, at + 8, end)}` : ` ${ip6(b, at + 32)}`;
      break;
    }
  }
  return `${s}, length ${length}`;
}

/** The port a quoted IPv6 packet was sent to: `fd00::2 udp port 5000`. */
function quotedPort6(b: Uint8Array, q: number, end: number): string {
  const dst = ip6(b, q + 24);
  const next = b[q + 6];
  if (end - (q + 40) < 4) return dst;
  const port = u16(b, q + 42);
  return next === 6 ? `${dst} tcp port ${port}` : next === 17 ? `${dst} udp port ${port}` : `${dst} protocol ${next} port ${port} unreachable`;
}

// ---- ARP -----------------------------------------------------------------------------------

function arp(p: Packet, b: Uint8Array, at: number, end: number, wire: number): string {
  if (end - at < 8) return '[|arp]';
  const hlen = b[at + 4];
  const plen = b[at + 5];
  const op = u16(b, at + 6);
  // Only Ethernet/IPv4 ARP carries the addresses the model knows.
  if (u16(b, at) !== 1 || u16(b, at + 2) !== 0x0800 || hlen !== 6 || plen !== 4) return `ARP, op ${op}, length ${wire}`;
  if (end - at < 28) {
    p.arp = { op: op === 1 ? 'request' : op === 2 ? 'reply' : String(op) };
    return '[|arp]';
  }
  const senderMac = mac(b, at + 8);
  const senderIp = ip4(b, at + 14);
  const targetIp = ip4(b, at + 24);
  if (op === 1) {
    p.arp = { op: 'request', targetIp, senderIp };
    const asked = isZero(b, at + 18, 6) ? '' : ` (${mac(b, at + 18)})`;
    return `Request who-has ${targetIp}${asked} tell ${senderIp}, length ${wire}`;
  }
  if (op === 2) {
    p.arp = { op: 'reply', targetIp: senderIp, senderIp, mac: senderMac };
    return `Reply ${senderIp} is-at ${senderMac}, length ${wire}`;
  }
  p.arp = { op: String(op), targetIp, senderIp };
  return `ARP, op ${op}, length ${wire}`;
}

function isZero(b: Uint8Array, at: number, n: number): boolean {
  for (let i = at; i < at + n; i++) if (b[i] !== 0) return false;
  return true;
}
