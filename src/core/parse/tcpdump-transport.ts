import type { IpInfo, L4Info, Packet } from '../model/packet.js';
import { ipProtoName } from './protocol-names.js';
import { afterUint, readUint } from './tcpdump-scan.js';

/**
 * Well-known service names tcpdump prints instead of port numbers without -nn (from /etc/services).
 * Only the ones seen in cluster traffic: an unknown name leaves the port undefined, never guessed.
 */
const SERVICE_PORTS: Record<string, number> = {
  ftp: 21, ssh: 22, telnet: 23, smtp: 25, domain: 53, bootps: 67, bootpc: 68, http: 80, kerberos: 88,
  sunrpc: 111, ntp: 123, snmp: 161, bgp: 179, ldap: 389, https: 443, 'microsoft-ds': 445, isakmp: 500,
  syslog: 514, ldaps: 636, nfs: 2049, 'etcd-client': 2379, 'etcd-server': 2380, mysql: 3306,
  'ipsec-nat-t': 4500, postgresql: 5432, mdns: 5353, geneve: 6081, 'http-alt': 8080, webcache: 8080,
};


/** Reads `<literal><digits>` at `at`, or -1 when the text is not that. */
function numberAfter(text: string, at: number, literal: string): number {
  return text.startsWith(literal, at) ? readUint(text, at + literal.length) : -1;
}

/** portNumber reads the port tcpdump printed in text[from, to): a number or a service name it knows. */
export function portNumber(text: string, from: number, to: number): number | undefined {
  if (from >= to) return undefined;
  const v = readUint(text, from);
  if (afterUint() === to) return v <= 65535 ? v : undefined;
  return afterUint() === from ? SERVICE_PORTS[text.slice(from, to)] : undefined;
}

/** ICMPv6 type names tcpdump prints, normalised like the ICMPv4 ones. */
const ICMP6_TYPES: Record<string, string> = {
  'echo request': 'echo-request',
  'echo reply': 'echo-reply',
  'destination unreachable': 'unreachable',
  'time exceeded': 'time-exceeded',
  'time exceeded in-transit': 'time-exceeded',
  'packet too big': 'packet-too-big',
  'parameter problem': 'parameter-problem',
  'neighbor solicitation': 'neighbor-solicitation',
  'neighbor advertisement': 'neighbor-advertisement',
  'router solicitation': 'router-solicitation',
  'router advertisement': 'router-advertisement',
  redirect: 'redirect',
};

/** The number after the first `length ` from `at`, or -1. */
function lengthField(text: string, at: number): number {
  const i = text.indexOf('length ', at);
  return i < 0 ? -1 : readUint(text, i + 7);
}

/** Reads `echo request, id N, seq N[, length N]` at `at` into l4; false when it is not an echo. */
function readEcho(text: string, at: number, l4: L4Info): boolean {
  // `echo re` then `quest, id ` or `ply, id `: the eighth letter tells them apart.
  if (text.charCodeAt(at) !== 101 || !text.startsWith('echo re', at)) return false;
  const q = text.charCodeAt(at + 7);
  let i: number;
  if (q === 113 && text.startsWith('quest, id ', at + 7)) i = at + 17;
  else if (q === 112 && text.startsWith('ply, id ', at + 7)) i = at + 15;
  else return false;
  const id = readUint(text, i);
  const seq = numberAfter(text, afterUint(), ', seq ');
  if (id < 0 || seq < 0) return false;
  l4.icmpType = i === at + 17 ? 'echo-request' : 'echo-reply';
  l4.icmpId = id;
  l4.icmpSeq = seq;
  const len = numberAfter(text, afterUint(), ', length ');
  if (len >= 0) l4.payloadLength = len;
  return true;
}

/** `ICMP <text>` at `at`; false when the line was cut before the `length` tcpdump always prints. */
function decodeIcmp(p: Packet, text: string, at: number): boolean {
  const l4: L4Info = { proto: 'icmp' };
  const body = at + 5;
  if (!readEcho(text, body, l4)) {
    if (text.includes('unreachable', body)) l4.icmpType = 'unreachable';
    else if (text.includes('time exceeded', body)) l4.icmpType = 'time-exceeded';
    else if (text.startsWith('redirect', body)) l4.icmpType = 'redirect';
    const len = lengthField(text, body);
    if (len >= 0) l4.payloadLength = len;
  }
  p.l4 = l4;
  return l4.payloadLength !== undefined;
}

/** `ICMP6, <type>, <details>` at `at`. */
function decodeIcmp6(p: Packet, text: string, at: number): void {
  const body = at + 7;
  const comma = text.indexOf(',', body);
  const name = comma < 0 ? text.slice(body) : text.slice(body, comma);
  const l4: L4Info = { proto: 'icmp6', icmpType: ICMP6_TYPES[name] ?? name.replace(/ /g, '-') };
  if (!readEcho(text, body, l4)) {
    const len = lengthField(text, body);
    if (len >= 0) l4.payloadLength = len;
  }
  p.l4 = l4;
}

/** Index of the next `, ` at bracket depth 0 (options [mss 1460,...] and flags [S.] hold no split). */
function nextField(text: string, from: number): number {
  let depth = 0;
  for (let i = from; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 91) depth++;
    else if (c === 93) depth--;
    else if (c === 44 && depth <= 0 && text.charCodeAt(i + 1) === 32) return i;
  }
  return -1;
}

/**
 * `Flags [S.], cksum ..., seq 1:81, ack 1, win 507, options [...], length 80: HTTP: GET / HTTP/1.1`.
 * Returns the summary: tcpdump's text without the `cksum` and `options` fields.
 */
function decodeTcp(p: Packet, text: string, at: number): string | null {
  const l4: L4Info = { proto: 'tcp' };
  let note = '';
  let runStart = at;
  let sawLength = false;
  let pos = at;
  while (pos < text.length) {
    const comma = nextField(text, pos);
    const end = comma < 0 ? text.length : comma;
    const c = text.charCodeAt(pos);
    if (c === 70 && text.startsWith('Flags [', pos)) {
      const close = text.indexOf(']', pos + 7);
      if (close > 0 && close < end) l4.tcpFlags = text.slice(pos + 7, close);
    } else if (c === 115 && text.startsWith('seq ', pos)) {
      const seq = readUint(text, pos + 4);
      if (seq >= 0) l4.tcpSeq = seq;
    } else if (c === 97 && text.startsWith('ack ', pos)) {
      const ack = readUint(text, pos + 4);
      if (ack >= 0) l4.tcpAck = ack;
    } else if (c === 108 && text.startsWith('length ', pos)) {
      const len = readUint(text, pos + 7);
      if (len >= 0) l4.payloadLength = len;
      sawLength = true;
      // `length N: <app>`: everything after the colon is the application decode, commas included.
      if (text.startsWith(': ', afterUint())) {
        l4.app = text.slice(afterUint() + 2);
        break;
      }
    } else if ((c === 111 && text.startsWith('options [', pos)) || (c === 99 && text.startsWith('cksum ', pos))) {
      // Options and checksums say nothing about which packet this is: left out of the summary; a
      // checksum tcpdump found wrong is kept on the packet.
      if (c === 99 && text.startsWith('(incorrect', text.indexOf(' ', pos + 6) + 1)) p.badChecksum = `tcp ${text.slice(pos, end)}`;
      if (pos > runStart) note = note === '' ? text.slice(runStart, pos - 2) : `${note}, ${text.slice(runStart, pos - 2)}`;
      runStart = comma < 0 ? text.length : comma + 2;
    }
    if (comma < 0) break;
    pos = comma + 2;
  }
  if (runStart < text.length) note = note === '' ? text.slice(runStart) : `${note}, ${text.slice(runStart)}`;
  p.l4 = l4;
  // tcpdump ends every TCP summary with `length N`: without it the line was cut.
  return sawLength ? note : null;
}

/**
 * What the text after `src > dst: ` starts with, read once from its first letters so that the
 * port split, the tunnel branches and the transport decode do not probe the same word again.
 */
export const Word = {
  Other: 0, Icmp: 1, Icmp6: 2, Ip: 3, Ip6: 4, Flags: 5, Udp: 6, Esp: 7, Gre: 8, Vxlan: 9, Otv: 10,
  Geneve: 11, Header: 12, QuietTcp: 13, Sctp: 14, NoPorts: 15, Ext6: 16, Truncated: 17,
} as const;
export type WordKind = (typeof Word)[keyof typeof Word];

/** classifyWord names the first word of a packet's transport text at `at`. */
export function classifyWord(text: string, at: number): WordKind {
  const c0 = text.charCodeAt(at);
  const c1 = text.charCodeAt(at + 1);
  switch (c0) {
    case 73: // I
      if (c1 === 67) {
        if (text.startsWith('MP ', at + 2)) return Word.Icmp;
        if (text.startsWith('MP6, ', at + 2)) return Word.Icmp6;
      } else if (c1 === 80) {
        const c2 = text.charCodeAt(at + 2);
        if (c2 === 32) return Word.Ip;
        if (c2 === 54 && text.charCodeAt(at + 3) === 32) return Word.Ip6;
      }
      return Word.Other;
    case 70: return text.startsWith('Flags [', at) ? Word.Flags : Word.Other;
    case 85: return text.startsWith('UDP, ', at) ? Word.Udp : Word.Other;
    case 69: return text.startsWith('ESP(', at) ? Word.Esp : Word.Other;
    case 71: return c1 === 82 ? (text.startsWith('REv', at + 1) ? Word.Gre : Word.Other) : text.startsWith('Geneve, ', at) ? Word.Geneve : Word.Other;
    case 86: return text.startsWith('VXLAN, ', at) ? Word.Vxlan : Word.Other;
    case 79: return text.startsWith('OTV, ', at) ? Word.Otv : Word.Other;
    case 40: return Word.Header; // `(tos ...`: an inner IPv4 header (IP-in-IP with -e -v)
    case 72: return text.startsWith('HBH', at) ? Word.Ext6 : Word.Other; // IPv6 extension headers
    case 68: return text.startsWith('DSTOPT', at) ? Word.Ext6 : Word.Other;
    case 82: return text.startsWith('RT6 ', at) ? Word.Ext6 : Word.Other;
    case 102: return text.startsWith('frag (', at) ? Word.Ext6 : Word.Other;
    case 65: return text.startsWith('AH(', at) ? Word.Ext6 : Word.Other;
    case 109: return text.startsWith('mobility', at) ? Word.Ext6 : Word.Other;
    case 91: return c1 === 124 ? Word.Truncated : Word.Other; // `[|tcp]`: tcpdump's truncation mark
    case 116: return text.startsWith('tcp ', at) ? Word.QuietTcp : Word.Other;
    case 115: return text.startsWith('sctp', at) ? Word.Sctp : text.startsWith('srcrt (', at) ? Word.Ext6 : Word.Other;
    case 105: return text.startsWith('igmp', at) || text.startsWith('ip-proto-', at) ? Word.NoPorts : Word.Other;
    default: return Word.Other;
  }
}

/**
 * carriesPorts tells whether the addresses before a transport word end in `.port`: needed for
 * host names and IPv6, where the last dot cannot be told from the address by its shape.
 */
export function carriesPorts(word: WordKind): boolean {
  return !(word === Word.Icmp || word === Word.Icmp6 || word === Word.Ip || word === Word.Ip6 || word === Word.Esp ||
    word === Word.Gre || word === Word.Header || word === Word.NoPorts || word === Word.Ext6);
}

/**
 * decodeTransport reads the transport part of a packet line at `at` (after `src > dst: ` and any
 * `[udp sum ok]`-style notes) into `p.l4` and `ip.proto`, and returns the summary text.
 * `srcPort`/`dstPort` are already split off the addresses; they tell DNS (53, 5353) from other UDP
 * decodes, which tcpdump prints without a `UDP` word. Null when the text was cut short.
 */
export function decodeTransport(p: Packet, ip: IpInfo, text: string, at: number, word: WordKind, srcPort?: number, dstPort?: number): string | null {
  let note: string | undefined;
  if (word === Word.Icmp) {
    if (!decodeIcmp(p, text, at)) return null;
  } else if (word === Word.Icmp6) {
    decodeIcmp6(p, text, at);
  } else if (word === Word.Flags) {
    const tcp = decodeTcp(p, text, at);
    if (tcp === null) return null;
    note = tcp;
  } else if (word === Word.Udp) {
    const len = lengthField(text, at);
    if (len < 0) return null;
    p.l4 = { proto: 'udp', payloadLength: len };
  } else if (word === Word.QuietTcp) {
    // -q: `tcp 18`; print-tcp.c also prints ` tcp N [bad hdr length 8 - too short, < 20]`.
    const len = readUint(text, at + 4);
    if (len >= 0 && afterUint() === text.length) p.l4 = { proto: 'tcp', payloadLength: len };
    else if (len >= 0 && text.startsWith(' [bad hdr length', afterUint())) p.l4 = { proto: 'tcp' };
  } else if (word === Word.Sctp) {
    p.l4 = { proto: 'sctp' };
  } else if (word === Word.Truncated) {
    // `[|tcp]`: the capture ended inside the header of the protocol named (nd_print_trunc).
    const close = text.indexOf(']', at);
    const proto = close < 0 ? '' : text.slice(at + 2, close);
    if (proto === 'tcp' || proto === 'udp' || proto === 'icmp' || proto === 'icmp6' || proto === 'sctp') p.l4 = { proto };
  } else if (word === Word.NoPorts && text.startsWith('ip-proto-', at)) {
    // A fragment after the first: no upper header, only its protocol number (print-ip.c).
    const num = readUint(text, at + 9);
    if (num >= 0) ip.proto = ipProtoName(num);
  }
  if (p.l4 === undefined && (srcPort !== undefined || dstPort !== undefined)) {
    // tcpdump prints an application decode with no `UDP` word for the ports it knows (DNS, NTP,
    // DHCP, ...); TCP always starts with `Flags [`, so a port pair with another text is UDP.
    const l4: L4Info = { proto: 'udp', app: at === 0 ? text : text.slice(at) };
    if (srcPort === 53 || dstPort === 53 || srcPort === 5353 || dstPort === 5353) {
      // DNS ends with the message size in parentheses: `4660+ A? example.com. (54)`.
      const open = text.lastIndexOf('(');
      const size = open < at ? -1 : readUint(text, open + 1);
      if (size >= 0 && text.charCodeAt(afterUint()) === 41) l4.payloadLength = size;
    }
    p.l4 = l4;
  }
  const l4 = p.l4;
  if (l4 !== undefined) {
    if (srcPort !== undefined) l4.srcPort = srcPort;
    if (dstPort !== undefined) l4.dstPort = dstPort;
    ip.proto ??= l4.proto;
  }
  return note ?? (at === 0 ? text : text.slice(at));
}
