import type { CookedInfo, EncapInfo, IpInfo, L4Info, Packet } from '../model/packet.js';
import { etherTypeName, ipProtoName } from './protocol-names.js';
import { afterUint, readHex4, readUint } from './tcpdump-scan.js';
import { carriesPorts, classifyWord, decodeTransport, portNumber, Word } from './tcpdump-transport.js';

/** IP header fields tcpdump -v prints in parentheses (IPv4: on the line before the addresses). */
export interface IpHeader {
  version: 4 | 6;
  ttl?: number;
  id?: number;
  tos?: number;
  flags?: string;
  proto?: string;
  length?: number;
  /** `bad cksum 4b31 (->4a31)!`: the IPv4 header checksum tcpdump found wrong. */
  badChecksum?: string;
}

/**
 * What the next line must bring to finish a packet. `depth` counts `inner` hops from the packet
 * the expectation was made for (0 = that packet itself) to the packet the next line fills.
 * - addresses: -v printed an IPv4 header and puts `src > dst: ...` on the next line.
 * - inner: a tunnel header whose inner packet tcpdump prints on the next line (VXLAN, OTV, -v Geneve/GRE).
 */
export type Expectation =
  | { kind: 'addresses'; depth: number; header: IpHeader }
  | { kind: 'inner'; depth: number };

/** The outcome of decoding packet text into a (fresh, caller-owned) Packet. */
export interface Fill {
  /** What each nesting level decoded from this text carries, in tcpdump's words, outermost first. */
  notes: string[];
  expect?: Expectation;
  /** True when the text carried -v header detail, so indented detail lines may follow. */
  verbose: boolean;
  /** SLL2 interface name (`-i any` on newer tcpdump). */
  ifname?: string;
}

/** A decode failure: the reason, kept short for the report. */
export type Failure = string;

const IPV4_HEADER = /^\(tos 0x([0-9a-f]+)(?:,[^,]*)?, ttl (\d+), id (\d+), offset \d+, flags \[([^\]]*)\], proto (\S+) \((\d+)\), length (\d+)/;
const TTL = /ttl (\d+)/;
const REAL_LENGTH = /real length (\d+), presumed/;
const ID = /\bid (\d+)/;
const PROTO = /proto (\S+) \((\d+)\)/;
const LENGTH = /length:? (\d+)/;
const IPV6_HEADER = /hlim (\d+), next-header (\S+) \((\d+)\),? payload length: (\d+)/;
const IPV6_CLASS = /class 0x([0-9a-f]+)/;
const VLAN_TAG = /vlan (\d+), p \d+(?:, DEI)?, ethertype (\S+?)(?: \((0x[0-9a-f]{4})\))?, /y;
const VXLAN = /VXLAN, flags \[[^\]]*\] \(0x[0-9a-f]+\), vni (\d+)/y;
const OTV = /OTV, flags \[[^\]]*\] \(0x[0-9a-f]+\), overlay \d+, instance (\d+)/y;
const GENEVE = /Geneve, Flags \[[^\]]*\], vni 0x([0-9a-f]+)/y;
const GRE = /GREv\d[^:]*?, length \d+/y;
const ESP = /ESP\(spi=0x([0-9a-f]+),seq=0x[0-9a-f]+\)/y;
const ARP_REQUEST = /Request who-has (\S+)(?: \([^)]+\))? tell ([^,\s]+)/y;
const ARP_REPLY = /Reply (\S+) is-at ([^,\s]+)/y;
const IFINDEX = /ifindex (\d+) /y;
const ARP_LENGTHS = 'Ethernet (len 6), IPv4 (len 4), ';
const TRAILING_LENGTH = /, length \d+(?: \(|$)/;

/** Runs a sticky regex at `at`. */
function execAt(re: RegExp, text: string, at: number): RegExpExecArray | null {
  re.lastIndex = at;
  return re.exec(text);
}

/** IP protocol names as tcpdump -v prints them, in the model's spelling. */
const PROTO_NAMES: Record<string, string> = {
  ICMP: 'icmp', ICMPv6: 'icmp6', TCP: 'tcp', UDP: 'udp', ESP: 'esp', IPIP: 'ipip', GRE: 'gre', SCTP: 'sctp',
};

/** Ethertype names tcpdump printed without their code before 4.99 (`ethertype IPv4, `). */
const ETHER_NAMES: Record<string, string> = { IPv4: 'ipv4', IPv6: 'ipv6', ARP: 'arp', '802.1Q': 'vlan', '802.1Q-QinQ': 'qinq' };

/** The model's ethertype name from tcpdump's `NAME (0xNNNN)`, the code deciding when printed. */
function etherType(name: string, code: string | undefined): string {
  return code !== undefined ? etherTypeName(code.slice(2)) : ETHER_NAMES[name] ?? name.toLowerCase();
}

/** etherTypeName for a code read as a number, without building its hex string for the usual ones. */
function etherTypeOfCode(code: number): string {
  switch (code) {
    case 0x0800: return 'ipv4';
    case 0x86dd: return 'ipv6';
    case 0x0806: return 'arp';
    case 0x8100: return 'vlan';
    case 0x88a8: return 'qinq';
    default: return etherTypeName(code.toString(16));
  }
}

// Frame fields read by readFrameFields: the frame length and where the payload starts.
let frameLength = 0;
let payloadAt = 0;

/**
 * Reads `ethertype NAME (0xNNNN), length N: ` (or, -e on 802.3, `802.3, length N: `) at `at` and
 * returns the model's ethertype, leaving the length in frameLength and the payload at payloadAt;
 * undefined when the text is not that (a line cut short).
 */
function readFrameFields(text: string, at: number): string | undefined {
  let type: string;
  let i: number;
  if (text.startsWith('ethertype ', at)) {
    const open = text.indexOf(' (0x', at + 10);
    const code = open < 0 ? -1 : readHex4(text, open + 4);
    if (code < 0 || text.charCodeAt(open + 8) !== 41) return undefined;
    type = etherTypeOfCode(code);
    i = open + 9;
  } else {
    i = text.indexOf(', length ', at);
    if (i <= at) return undefined;
    type = text.slice(at, i).toLowerCase();
  }
  if (!text.startsWith(', length ', i)) return undefined;
  const len = readUint(text, i + 9);
  const end = afterUint();
  if (len < 0 || text.charCodeAt(end) !== 58 || text.charCodeAt(end + 1) !== 32) return undefined;
  frameLength = len;
  payloadAt = end + 2;
  return type;
}

function protoName(name: string, num: string): string {
  return PROTO_NAMES[name] ?? ipProtoName(Number(num));
}

function isHex(c: number): boolean {
  return (c >= 48 && c <= 57) || (c >= 97 && c <= 102) || (c >= 65 && c <= 70);
}

/** True when text[at..] is a MAC address followed by ` > ` (the -e Ethernet header). */
function startsWithMacPair(text: string, at: number): boolean {
  for (let k = 2; k < 17; k += 3) if (text.charCodeAt(at + k) !== 58) return false;
  return isHex(text.charCodeAt(at)) && isHex(text.charCodeAt(at + 16)) && text.startsWith(' > ', at + 17);
}

/** isEmptyPacket: nothing decoded yet (a -v IPv4 header waiting for its addresses). */
export function isEmptyPacket(p: Packet): boolean {
  for (const _ in p) return false;
  return true;
}

/** Index just after the `)` that closes the `(` at `open`, or -1. */
function closeParen(text: string, open: number): number {
  let depth = 0;
  for (let i = open; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 40) depth++;
    else if (c === 41 && --depth === 0) return i + 1;
  }
  return -1;
}

/** tcpdump's `flags [DF]` / `[+]` (more fragments) / `[none]` in the model's DF / MF spelling. */
function ipFlags(text: string): string | undefined {
  const df = text.includes('DF');
  const mf = text.includes('+');
  return df && mf ? 'DF,MF' : df ? 'DF' : mf ? 'MF' : undefined;
}

/** Reads `(tos 0x0, ttl 64, id 4532, offset 0, flags [DF], proto ICMP (1), length 84)`. */
function ipv4Header(header: string): IpHeader {
  const m = IPV4_HEADER.exec(header);
  if (m) {
    const h: IpHeader = { version: 4, ttl: Number(m[2]), id: Number(m[3]), tos: parseInt(m[1], 16), proto: protoName(m[5], m[6]), length: Number(m[7]) };
    const flags = ipFlags(m[4]);
    if (flags) h.flags = flags;
    // BIG TCP / TSO: the header said 0, tcpdump printed the length it presumed in its place or after it.
    const real = header.includes('presumed ') ? REAL_LENGTH.exec(header) : null;
    if (real) h.length = Number(real[1]);
    return h;
  }
  // Unusual field order or extra fields (options, bad cksum): read what is there.
  const h: IpHeader = { version: 4 };
  const bad = header.includes('bad cksum') ? /bad cksum [0-9a-f]+ \(->[0-9a-f]+\)!?/.exec(header) : null;
  if (bad) h.badChecksum = bad[0];
  const ttl = TTL.exec(header);
  if (ttl) h.ttl = Number(ttl[1]);
  const id = ID.exec(header);
  if (id) h.id = Number(id[1]);
  const proto = PROTO.exec(header);
  if (proto) h.proto = protoName(proto[1], proto[2]);
  const len = LENGTH.exec(header);
  if (len) h.length = Number(len[1]);
  return h;
}

/** Reads `(hlim 255, next-header ICMPv6 (58) payload length: 8)`. */
function ipv6Header(header: string): IpHeader {
  const h: IpHeader = { version: 6 };
  const m = IPV6_HEADER.exec(header);
  if (m) {
    h.ttl = Number(m[1]);
    h.proto = protoName(m[2], m[3]);
    h.length = Number(m[4]);
  }
  const cls = IPV6_CLASS.exec(header);
  if (cls) h.tos = parseInt(cls[1], 16);
  return h;
}

function ipInfo(version: 4 | 6, src: string, dst: string, header: IpHeader | undefined): IpInfo {
  const ip: IpInfo = { version, src, dst };
  if (header) {
    if (header.ttl !== undefined) ip.ttl = header.ttl;
    if (header.id !== undefined) ip.id = header.id;
    if (header.proto !== undefined) ip.proto = header.proto;
    if (header.length !== undefined) ip.length = header.length;
    if (header.tos !== undefined) ip.tos = header.tos;
    if (header.flags !== undefined) ip.flags = header.flags;
  }
  return ip;
}

// What scanEndpoint saw: the endpoint's end, its last dot, and whether it is an IPv4 literal.
let endpointEnd = 0;
let endpointLastDot = -1;
let endpointIsIpv4 = false;

/**
 * Scans an endpoint (`10.0.1.135.41626`, `fd00::1.80`, `dt-1`) from `from` up to `stop` (a space
 * or a colon-space), in one pass. False when the text ends first.
 */
function scanEndpoint(text: string, from: number, colonEnds: boolean): boolean {
  let dots = 0;
  let digitsOnly = true;
  let last = -1;
  let i = from;
  for (; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 46) {
      dots++;
      last = i;
    } else if (c === 32) break;
    else if (c < 48 || c > 57) {
      if (colonEnds && c === 58 && (i + 1 === text.length || text.charCodeAt(i + 1) === 32)) break;
      digitsOnly = false;
    }
  }
  endpointEnd = i;
  endpointLastDot = last;
  // Four decimal parts with no port: its dots are all its own.
  endpointIsIpv4 = digitsOnly && dots === 3;
  return i > from && i < text.length;
}

/** Where the host part ends: before `.port` when the transport carries ports (not for an IPv4 literal). */
function hostEnd(end: number, lastDot: number, isIpv4: boolean, ports: boolean): number {
  return !ports || lastDot < 0 || isIpv4 ? end : lastDot;
}

/** True when text[at..] starts with `a > b:` (no space inside `a`): addresses with no `IP` word. */
function bareAddresses(text: string, at: number): boolean {
  const sp = text.indexOf(' ', at);
  return sp > at && text.startsWith('> ', sp + 1) && text.indexOf(':', sp + 3) > 0;
}

/**
 * decodeAddressed fills `p` from `src > dst: <transport or tunnel>` at `at`, the part every IP
 * packet line shares. `header` is the -v header printed before it (same line for IPv6, the line
 * above for IPv4).
 */
export function decodeAddressed(p: Packet, version: 4 | 6, text: string, at: number, header: IpHeader | undefined): Fill | Failure {
  if (!scanEndpoint(text, at, false) || !text.startsWith('> ', endpointEnd + 1)) return 'no "src > dst" in packet text';
  const gt = endpointEnd;
  const srcDot = endpointLastDot;
  const srcIsIpv4 = endpointIsIpv4;
  scanEndpoint(text, gt + 3, true);
  const colon = endpointEnd;
  if (text.charCodeAt(colon) !== 58) return 'addresses not followed by ":"';
  if (colon === gt + 3) return 'malformed "src > dst"';
  let rest = skipNotes(text, colon + 2);
  const word = classifyWord(text, rest);
  // Only text that starts like an address can be the inner addresses of IP-in-IP (with -e).
  const c0 = text.charCodeAt(rest);
  const nested = word === Word.Other && ((c0 >= 48 && c0 <= 57) || (c0 >= 97 && c0 <= 102) || c0 === 58) && bareAddresses(text, rest);
  const ports = !nested && carriesPorts(word);
  const srcEnd = hostEnd(gt, srcDot, srcIsIpv4, ports);
  const dstEnd = hostEnd(colon, endpointLastDot, endpointIsIpv4, ports);
  const ip = ipInfo(version, text.slice(at, srcEnd), text.slice(gt + 3, dstEnd), header);
  p.ip = ip;
  const badNote = badChecksumNote(text, colon + 2, rest);
  if (badNote) p.badChecksum = badNote;
  if (header?.badChecksum) p.badChecksum = `ip ${header.badChecksum}`;
  const verbose = header !== undefined;
  const srcPort = ports ? portNumber(text, srcEnd + 1, gt) : undefined;
  const dstPort = ports ? portNumber(text, dstEnd + 1, colon) : undefined;

  switch (word) {
    case Word.Esp: {
      const esp = execAt(ESP, text, rest);
      if (!esp) break;
      ip.proto ??= 'esp';
      p.encap = { kind: 'esp', spi: parseInt(esp[1], 16) };
      return { notes: [text.slice(rest)], verbose };
    }
    case Word.Gre: {
      const gre = execAt(GRE, text, rest);
      if (!gre) break;
      ip.proto ??= 'gre';
      return tunnel(p, { kind: 'gre' }, text, rest, rest + gre[0].length, true, verbose);
    }
    case Word.Ip:
    case Word.Ip6:
      ip.proto ??= word === Word.Ip6 ? ipProtoName(41) : 'ipip';
      return withInner(p, { kind: 'ipip' }, 'IPIP', text, rest, verbose);
    case Word.Header:
      // IP-in-IP with -e -v: the inner header follows without an `IP` word.
      ip.proto ??= 'ipip';
      return withInner(p, { kind: 'ipip' }, 'IPIP', text, rest, verbose);
    case Word.Vxlan:
    case Word.Otv:
    case Word.Geneve: {
      const m = execAt(word === Word.Vxlan ? VXLAN : word === Word.Otv ? OTV : GENEVE, text, rest);
      if (!m) break;
      ip.proto ??= 'udp';
      const l4: L4Info = { proto: 'udp' };
      if (srcPort !== undefined) l4.srcPort = srcPort;
      if (dstPort !== undefined) l4.dstPort = dstPort;
      p.l4 = l4;
      const geneve = word === Word.Geneve;
      const encap: EncapInfo = geneve ? { kind: 'geneve', vni: parseInt(m[1], 16) } : { kind: 'vxlan', vni: Number(m[1]) };
      return tunnel(p, encap, text, rest, rest + m[0].length, geneve, verbose);
    }
  }
  if (word === Word.Ext6) return decodeExtensions(p, ip, text, rest);
  if (nested) {
    // IP-in-IP with -e: the inner addresses follow without an `IP` word.
    ip.proto ??= 'ipip';
    return withInner(p, { kind: 'ipip' }, 'IPIP', text, rest, verbose);
  }
  const note = decodeTransport(p, ip, text, rest, word, srcPort, dstPort);
  if (note === null) return 'packet text cut short (no length)';
  return { notes: [note], verbose };
}

/**
 * Skips what tcpdump prints between `src > dst: ` and the protocol: spaces (`:  tcp 12 [bad hdr
 * length ...]`, `:  [|tcp]`) and checksum notes (`[no cksum] VXLAN`, `[udp sum ok] UDP`).
 */
function skipNotes(text: string, at: number): number {
  let rest = at;
  while (text.charCodeAt(rest) === 32) rest++;
  while (text.charCodeAt(rest) === 91 && text.charCodeAt(rest + 1) !== 124) {
    const close = text.indexOf('] ', rest);
    if (close < 0) break;
    rest = close + 2;
  }
  return rest;
}

/** IPv6 extension header words tcpdump prints before the upper protocol (print-ip6.c and its callees). */
const EXT6_WORDS = ['HBH', 'DSTOPT', 'RT6', 'srcrt', 'frag', 'AH', 'mobility'];
/** BIG TCP over IPv6: the payload length is 0 and the hop-by-hop jumbo option holds it (RFC 2675). */
const JUMBO = /HBH (?:\([^)]*\) )*\(jumbo: (\d+)\)/y;

/** Index after the extension headers at `at` (`HBH (padn) `, `frag (0|1024) `, `RT6 (...) `, `AH(...): `). */
function skipExtensions(text: string, at: number): number {
  let i = at;
  for (;;) {
    const word = EXT6_WORDS.find((w) => text.startsWith(w, i));
    if (word === undefined) return i;
    let j = i + word.length;
    for (;;) {
      let k = j;
      while (text.charCodeAt(k) === 32) k++;
      if (text.charCodeAt(k) !== 40) break;
      const end = closeParen(text, k);
      if (end < 0) return i;
      j = end;
    }
    if (text.charCodeAt(j) === 58) j++;
    if (j < text.length && text.charCodeAt(j) !== 32) return i;
    while (text.charCodeAt(j) === 32) j++;
    i = j;
  }
}

/**
 * IPv6 with extension headers: `HBH 40001 > 443: Flags [S], ...`, `frag (0|1024) 40004 > 9000:
 * UDP, length 1536`, `HBH (rtalert: 0x0000) (padn) [icmp6 sum ok] ICMP6, ...`. The upper protocol
 * follows the headers, with its ports alone (the addresses were printed before them); a fragment
 * after the first holds no upper header at all.
 */
function decodeExtensions(p: Packet, ip: IpInfo, text: string, at: number): Fill | Failure {
  const upper = skipNotes(text, skipExtensions(text, at));
  const head = text.slice(at, upper);
  if (upper >= text.length) {
    // A fragment after the first: the upper protocol is not in it.
    delete ip.proto;
    return { notes: [text.slice(at)], verbose: true };
  }
  let srcPort: number | undefined;
  let dstPort: number | undefined;
  let rest = upper;
  const gt = text.indexOf(' > ', upper);
  const colon = gt < 0 ? -1 : text.indexOf(': ', gt + 3);
  if (colon > 0) {
    srcPort = portNumber(text, upper, gt);
    dstPort = portNumber(text, gt + 3, colon);
    if (srcPort !== undefined && dstPort !== undefined) rest = skipNotes(text, colon + 2);
    else srcPort = dstPort = undefined;
  }
  const note = decodeTransport(p, ip, text, rest, classifyWord(text, rest), srcPort, dstPort);
  if (note === null) return 'packet text cut short (no length)';
  // The -v header names the first next header (0 hop-by-hop, 44 fragment, ...): the packet's
  // protocol is the upper one, as the pcap decoder names it.
  if (p.l4) ip.proto = p.l4.proto;
  const jumbo = execAt(JUMBO, text, at);
  if (jumbo) ip.length = Number(jumbo[1]);
  return { notes: [rest === upper ? `${head}${note}` : `${text.slice(at, rest)}${note}`], verbose: true };
}

/**
 * A tunnel header from `at` to `after`: the inner packet follows on the same line (after `: `, or
 * a space when a log joined the lines) or, when nothing follows, on the next line. Geneve and GRE
 * may print more fields (`, proto TEB (0x6558)`) before their `: `.
 */
function tunnel(p: Packet, encap: EncapInfo, text: string, at: number, after: number, colonOnly: boolean, verbose: boolean): Fill | Failure {
  p.encap = encap;
  let inner = -1;
  if (colonOnly) {
    const colon = text.indexOf(': ', after);
    if (colon >= 0) inner = colon + 2;
  } else if (text.startsWith(': ', after)) inner = after + 2;
  else if (text.charCodeAt(after) === 32) inner = after + 1;
  if (inner < 0 || inner >= text.length) return { notes: [text.slice(at)], expect: { kind: 'inner', depth: 1 }, verbose };
  return withInner(p, encap, text.slice(at, inner - (text.charCodeAt(inner - 2) === 58 ? 2 : 1)), text, inner, verbose);
}

/**
 * Tunnels real traffic nests a few deep at most (VXLAN in IPsec in IP-in-IP); text nesting deeper
 * is not a packet, and decoding it recursed once per level (a stack overflow on a long line).
 */
export const MAX_TUNNEL_NESTING = 8;
let nesting = 0;

/** Decodes text[at..] as the inner packet of `p` and nests the result one level down. */
function withInner(p: Packet, encap: EncapInfo, note: string, text: string, at: number, verbose: boolean): Fill | Failure {
  p.encap = encap;
  if (nesting >= MAX_TUNNEL_NESTING) return `tunnels nested deeper than ${MAX_TUNNEL_NESTING}`;
  const inner: Packet = {};
  nesting++;
  let fill: Fill | Failure;
  try {
    fill = decodeLink(inner, text, at, true);
  } finally {
    nesting--;
  }
  if (typeof fill === 'string') return `inner packet: ${fill}`;
  // An inner -v IPv4 header alone leaves nothing to show until its addresses arrive.
  if (!isEmptyPacket(inner)) p.inner = inner;
  const out: Fill = { notes: [note, ...fill.notes], verbose: verbose || fill.verbose };
  if (fill.expect) out.expect = { ...fill.expect, depth: fill.expect.depth + 1 };
  return out;
}

/**
 * tcpdump's own notes where it could not decode an IP header at all (print-ip.c, print-ip6.c,
 * print-ether.c): the frame was seen, its addresses are not known.
 */
const UNDECODED_IP = /^(?:bad-len \d+|bad-hlen \d+|IP6?, wrong link-layer encapsulation|\[\|ip6?\]|unknown ip \d+|truncated-ip6? \d+)/;
/** `truncated-ip - N bytes missing! ` (print-ip.c): the addresses still follow. */
const TRUNCATED_IP = /truncated-ip6? - \d+ bytes missing! ?/y;
/** Newer tcpdump marks an IPv4 total length of 0 it replaced with the frame's (TSO, BIG TCP on Linux >= 6.3). */
const PRESUMED_LENGTH = /\[(?:was 0|real length (\d+)), presumed (?:BIG TCP|TSO)\] ?/y;

/** The note of an IP packet tcpdump could not decode, as a packet seen without addresses; undefined when it is not one. */
function undecodedIp(text: string, at: number, word: string): Fill | undefined {
  const m = UNDECODED_IP.exec(at === 0 ? text : text.slice(at, at + 48));
  return m ? { notes: [`${word}${text.slice(at)}`], verbose: false } : undefined;
}

/** The packet at `at` is an IP packet of `version`: a -v header in parentheses, then the addresses. */
function decodeIp(p: Packet, version: 4 | 6, text: string, at: number): Fill | Failure {
  const c = text.charCodeAt(at);
  if (c === 98 || c === 91 || c === 73 || c === 117 || c === 116) {
    const undecoded = undecodedIp(text, at, c === 73 ? '' : version === 4 ? 'IP ' : 'IP6 ');
    if (undecoded) return undecoded;
    const cut = c === 116 ? execAt(TRUNCATED_IP, text, at) : null;
    if (cut) {
      const fill = decodeIp(p, version, text, at + cut[0].length);
      if (typeof fill !== 'string') fill.notes[0] = `${cut[0]}${fill.notes[0]}`;
      return fill;
    }
    const presumed = c === 91 ? execAt(PRESUMED_LENGTH, text, at) : null;
    if (presumed) {
      const fill = decodeIp(p, version, text, at + presumed[0].length);
      if (typeof fill !== 'string' && presumed[1] !== undefined && p.ip) p.ip.length = Number(presumed[1]);
      return fill;
    }
  }
  if (c !== 40) return decodeAddressed(p, version, text, at, undefined);
  const end = closeParen(text, at);
  if (end < 0) return 'unterminated IP header';
  const raw = text.slice(at, end);
  const header = version === 4 ? ipv4Header(raw) : ipv6Header(raw);
  let rest = end;
  while (text.charCodeAt(rest) === 32) rest++;
  if (rest >= text.length) return { notes: [raw], expect: { kind: 'addresses', depth: 0, header }, verbose: true };
  return decodeAddressed(p, version, text, rest, header);
}

/** `Request who-has A tell B, length 28` / `Reply A is-at M, length 28` (after `ARP, ` or -e's `length N: `). */
function decodeArp(p: Packet, text: string, at: number, word: boolean): Fill | Failure {
  const body = text.startsWith(ARP_LENGTHS, at) ? at + ARP_LENGTHS.length : at;
  // tcpdump ends every ARP line with `, length N`; without it the line was cut.
  if (!TRAILING_LENGTH.test(text)) return 'ARP text cut short (no length)';
  const note = word ? text.slice(at - 5) : `ARP, ${text.slice(at)}`;
  const req = execAt(ARP_REQUEST, text, body);
  if (req) {
    p.arp = { op: 'request', targetIp: req[1], senderIp: req[2] };
    return { notes: [note], verbose: false };
  }
  const rep = execAt(ARP_REPLY, text, body);
  if (rep) {
    p.arp = { op: 'reply', targetIp: rep[1], mac: rep[2] };
    return { notes: [note], verbose: false };
  }
  let end = body;
  while (end < text.length && text.charCodeAt(end) !== 32 && text.charCodeAt(end) !== 44) end++;
  if (end === body) return 'empty ARP';
  p.arp = { op: text.slice(body, end).toLowerCase() };
  return { notes: [note], verbose: false };
}

/** The payload at `at` of a frame whose ethertype is known: VLAN tags first, then the protocol. */
function decodeEtherPayload(p: Packet, type: string, text: string, at: number, tags: number[] | undefined): Fill | Failure {
  let t = type;
  let rest = at;
  while ((t === 'vlan' || t === 'qinq') && text.startsWith('vlan ', rest)) {
    const m = execAt(VLAN_TAG, text, rest);
    if (!m) return 'unrecognised VLAN tag';
    if (tags) tags.push(Number(m[1]));
    t = etherType(m[2], m[3]);
    rest += m[0].length;
  }
  if (t === 'ipv4') return decodeIp(p, 4, text, text.startsWith('IP ', rest) ? rest + 3 : rest);
  if (t === 'ipv6') return decodeIp(p, 6, text, text.startsWith('IP6 ', rest) ? rest + 4 : rest);
  if (t === 'arp') return decodeArp(p, text, rest, false);
  // A frame of a protocol we do not model (LLDP, LACP, ...): still a packet observation, and
  // -v detail lines or a hex dump of its payload may follow.
  return { notes: [rest >= text.length ? `ethertype ${t}` : text.slice(rest)], verbose: true };
}

/** `aa:.. > bb:.., ethertype IPv4 (0x0800), length 98: <payload>` (tcpdump -e) at `at`. */
function decodeEthernet(p: Packet, text: string, at: number): Fill | Failure {
  const gt = at + 17;
  const comma = text.indexOf(', ', gt + 3);
  const type = comma < 0 ? undefined : readFrameFields(text, comma + 2);
  if (type === undefined) return 'malformed Ethernet header';
  p.eth = { src: text.slice(at, gt), dst: text.slice(gt + 3, comma), type };
  p.length = frameLength;
  const payload = payloadAt;
  if (type !== 'vlan' && type !== 'qinq') return decodeEtherPayload(p, type, text, payload, undefined);
  const tags: number[] = [];
  const fill = decodeEtherPayload(p, type, text, payload, tags);
  if (tags.length > 0) p.eth.vlans = tags;
  return fill;
}

/**
 * decodeLink decodes one packet's text at `at` from its first word: `IP `, `IP6 `, `ARP, `, an
 * Ethernet header (-e), `ip: ` (-e on raw IP). `bare` also accepts what only appears nested in a
 * tunnel: a -v header or addresses with no `IP` word.
 */
export function decodeLink(p: Packet, text: string, at: number, bare: boolean): Fill | Failure {
  const c = text.charCodeAt(at);
  if (c === 73) {
    if (text.startsWith('IP ', at)) return decodeIp(p, 4, text, at + 3);
    if (text.startsWith('IP6 ', at)) return decodeIp(p, 6, text, at + 4);
    const undecoded = undecodedIp(text, at, '');
    if (undecoded) return undecoded;
  } else if (c === 65) {
    if (text.startsWith('ARP, ', at)) return decodeArp(p, text, at + 5, true);
    if (text.startsWith('AF ', at)) return decodeNullLink(p, text, at);
  } else if (c === 105) {
    if (text.startsWith('ip: ', at)) return decodeIp(p, 4, text, at + 4);
    if (text.startsWith('ip6: ', at)) return decodeIp(p, 6, text, at + 5);
  } else if (startsWithMacPair(text, at)) {
    return decodeEthernet(p, text, at);
  }
  if (bare) {
    if (c === 40) return decodeIp(p, text.startsWith('(tos ', at) ? 4 : 6, text, at);
    if (bareAddresses(text, at)) {
      const sp = text.indexOf(' ', at);
      const colon = text.indexOf(':', at);
      return decodeAddressed(p, colon >= 0 && colon < sp ? 6 : 4, text, at, undefined);
    }
  }
  if (NON_IP_FRAME.test(at === 0 ? text : text.slice(at, at + 12))) {
    // A link-layer protocol we do not model: still a frame seen here. -v detail lines may follow.
    return { notes: [text.slice(at)], verbose: true };
  }
  return 'unrecognised packet text';
}

/**
 * Frames tcpdump prints without -e by their protocol's name (print-stp.c, print-lldp.c,
 * print-cdp.c, print-llc.c, print-loopback.c, print-slow.c, print-ether.c for unnamed ethertypes).
 */
const NON_IP_FRAME = /^(?:R?STP 802\.1|MSTP 802\.1|SPB 802\.1|LLDP, |CDPv\d, |LLC, |Loopback, |LACPv\d, |MARKERv\d, |OAMv\d, |EAPOL |IPX |PPPoE |ethertype \S+ \(0x[0-9a-f]{4}\))/;
/** DLT_NULL / DLT_LOOP with -e: `AF IPv4 (2), length 88: ` (print-null.c), then the addresses without `IP`. */
const NULL_LINK = /AF (\S+) \((\d+)\), length (\d+): /y;

function decodeNullLink(p: Packet, text: string, at: number): Fill | Failure {
  const m = execAt(NULL_LINK, text, at);
  if (!m) return 'unrecognised packet text';
  p.length = Number(m[3]);
  const rest = at + m[0].length;
  if (m[1] === 'IPv4') return decodeIp(p, 4, text, rest);
  if (m[1] === 'IPv6') return decodeIp(p, 6, text, rest);
  return { notes: [text.slice(at)], verbose: false };
}

/** Length of an SLL packet type word (In, Out, B, M, P) at `at` followed by a space, or 0. */
function directionAt(text: string, at: number): number {
  const c = text.charCodeAt(at);
  if ((c === 66 || c === 77 || c === 80) && text.charCodeAt(at + 1) === 32) return 1;
  if (c === 73 && text.charCodeAt(at + 1) === 110 && text.charCodeAt(at + 2) === 32) return 2;
  if (c === 79 && text.startsWith('ut ', at + 1)) return 3;
  return 0;
}

/**
 * decodeFrame decodes the text of a packet line from `at` (after its timestamp), including the
 * `-i any` prefixes: SLL `In`/`Out`/`B`/`M`/`P` (with -e followed by the sender's MAC) and SLL2
 * `ifname In` (with -e followed by `ifindex N` and the MAC).
 */
export function decodeFrame(p: Packet, line: string, at: number): Fill | Failure {
  let i = at;
  while (line.charCodeAt(i) === 32) i++;
  const dir = directionAt(line, i);
  if (dir > 0) return decodeCooked(p, { direction: line.slice(i, i + dir) }, line, i + dir + 1);
  const c = line.charCodeAt(i);
  // Packet words and MACs are never followed by a direction; anything else may be an SLL2 ifname.
  if (c !== 73 && c !== 65 && !startsWithMacPair(line, i)) {
    const sp = line.indexOf(' ', i);
    let next = sp;
    while (next > 0 && line.charCodeAt(next) === 32) next++;
    const dir2 = sp > i ? directionAt(line, next) : 0;
    if (dir2 > 0) {
      const ifname = line.slice(i, sp);
      let body = next + dir2;
      while (line.charCodeAt(body) === 32) body++;
      const fill = decodeCooked(p, { direction: line.slice(next, next + dir2), ifname }, line, body);
      if (typeof fill !== 'string') fill.ifname = ifname;
      return fill;
    }
  }
  return decodeLink(p, line, i, false);
}

/** An SLL/SLL2 line after its direction: `[ifindex N ]MAC ethertype X (0x..), length N: ...` or a plain packet. */
function decodeCooked(p: Packet, cooked: CookedInfo, text: string, at: number): Fill | Failure {
  p.cooked = cooked;
  let rest = at;
  const idx = text.startsWith('ifindex ', rest) ? execAt(IFINDEX, text, rest) : null;
  if (idx) {
    cooked.ifindex = Number(idx[1]);
    rest += idx[0].length;
  }
  // The sender's link address is absent on devices without one (tun, wireguard).
  const sp = text.indexOf(' ', rest);
  const fieldsAt = text.startsWith('ethertype ', rest) ? rest : sp > rest && text.startsWith('ethertype ', sp + 1) ? sp + 1 : -1;
  if (fieldsAt >= 0) {
    const type = readFrameFields(text, fieldsAt);
    if (type === undefined) return 'malformed cooked header';
    if (fieldsAt > rest) cooked.src = text.slice(rest, fieldsAt - 1);
    cooked.type = type;
    p.length = frameLength;
    return decodeEtherPayload(p, type, text, payloadAt, undefined);
  }
  return decodeLink(p, text, rest, false);
}

/** `[bad udp cksum 0x1a2b -> 0x3c4d!]` among the notes tcpdump -v puts before the protocol name. */
function badChecksumNote(text: string, from: number, to: number): string | undefined {
  if (to <= from) return undefined;
  const i = text.indexOf('[bad ', from);
  if (i < 0 || i >= to) return undefined;
  const close = text.indexOf(']', i);
  return close < 0 || close > to ? undefined : text.slice(i + 1, close);
}
