import type { L4Info, Packet } from '../model/packet.js';
import { tcpFlagString } from './protocol-names.js';

/**
 * The packet summary cilium monitor prints after `: ` in trace, drop, policy-verdict and capture
 * lines (pkg/monitor/dissect.go GetConnectionSummary), in all its eras:
 * - `10.0.1.135 -> 10.0.1.180 EchoRequest` (ICMP, before ~1.14) / `... icmp EchoRequest` (after)
 * - `10.0.0.1:80 -> 10.0.0.2:4242 tcp SYN, ACK` (flags: only SYN, ACK, RST, FIN are printed)
 * - `[fd00::1]:53 -> [fd00::2]:4242 udp`, `... sctp`, `esp`, `... IPsecESP`
 * - `10.0.0.1 -> 10.0.0.2` (IP without a decoded L4), `aa:..:ff -> 11:..:66 ARP` (no IP)
 * - `<inner summary> [tunnel 192.168.0.1:8472 -> 192.168.0.2:8472 vxlan]` (overlay, newest agents)
 * - `[unknown]`, `[error]`: nothing decoded.
 */

const MAC = /^[0-9a-f]{2}(?::[0-9a-f]{2}){5}$/i;
const IPV6 = /^[0-9a-f:.]*:[0-9a-f:.]*$/i;
const IPV6_PORT = /^\[([0-9a-f:.]+)\]:(\d+)$/i;
/** gopacket TypeCode names: `EchoRequest`, `DestinationUnreachable(Port)`, `3(13)` for unnamed ones. */
const ICMP_CODE = /^[A-Z0-9][A-Za-z0-9]*(?:\([A-Za-z0-9]+\))?$/;
const TUNNEL = ' [tunnel ';

/** The summary could not be read, with why. */
export interface SummaryError {
  error: string;
}

/** parseConnectionSummary reads monitor's packet summary; [unknown]/[error] give an empty packet. */
export function parseConnectionSummary(text: string): Packet | SummaryError {
  if (text.charCodeAt(0) === 0x5b /* [ */ && (text === '[unknown]' || text === '[error]')) return {};
  const t = text.indexOf(TUNNEL);
  if (t >= 0 && text.endsWith(']')) {
    const outer = parseFlat(text.slice(t + TUNNEL.length, -1));
    if ('error' in outer) return outer;
    const inner = t === 0 ? {} : parseFlat(text.slice(0, t));
    if ('error' in inner) return inner;
    return { ...outer, inner };
  }
  return parseFlat(text);
}

// Hand-scanned rather than split into words: this runs for every trace line of a long capture.
function parseFlat(text: string): Packet | SummaryError {
  const arrow = text.indexOf(' -> ');
  if (arrow < 0) return text === 'esp' ? { l4: { proto: 'esp' } } : notUnderstood(text);
  const toStart = arrow + 4;
  const space = text.indexOf(' ', toStart);
  const from = text.slice(0, arrow);
  const to = space < 0 ? text.slice(toStart) : text.slice(toStart, space);
  const rest = space < 0 ? '' : text.slice(space + 1);
  if (from.length === 17 && MAC.test(from) && MAC.test(to)) {
    if (rest === '' || rest.includes(' ')) return notUnderstood(text);
    return { eth: { src: from.toLowerCase(), dst: to.toLowerCase(), type: etherTypeName(rest) } };
  }
  const src = endpoint(from);
  const dst = src && endpoint(to);
  if (!src || !dst) return notUnderstood(text);
  const version = src.addr.includes(':') ? 6 : 4;
  if (src.port === undefined && dst.port === undefined) {
    if (rest === '') return { ip: { version, src: src.addr, dst: dst.addr } };
    // Newer agents print `icmp <TypeCode>` for both families, older ones only the TypeCode.
    const code = rest.startsWith('icmp ') ? rest.slice(5) : rest;
    if (!ICMP_CODE.test(code)) return notUnderstood(text);
    const proto = version === 6 ? 'icmp6' : 'icmp';
    return { ip: { version, src: src.addr, dst: dst.addr, proto }, l4: { proto, icmpType: icmpTypeName(code) } };
  }
  if (src.port === undefined || dst.port === undefined || rest === '') return notUnderstood(text);
  const protoEnd = rest.indexOf(' ');
  const name = protoEnd < 0 ? rest : rest.slice(0, protoEnd);
  const proto = transportName(name);
  if (proto === undefined) return notUnderstood(text);
  const l4: L4Info = { proto, srcPort: src.port, dstPort: dst.port };
  if (protoEnd >= 0) {
    // Only TCP prints more: its flags (`tcp SYN, ACK`).
    const flags = proto === 'tcp' ? tcpFlagsFromWords(rest.slice(protoEnd + 1)) : undefined;
    if (flags === undefined) return notUnderstood(text);
    if (flags !== '') l4.tcpFlags = flags;
  }
  if (proto === 'vxlan' || proto === 'geneve') {
    l4.proto = 'udp';
    return { ip: { version, src: src.addr, dst: dst.addr, proto: 'udp' }, l4, encap: { kind: proto } };
  }
  return { ip: { version, src: src.addr, dst: dst.addr, proto }, l4 };
}

function notUnderstood(text: string): SummaryError {
  return { error: `packet summary not understood: ${text}` };
}

/** Monitor's transport words to the model's protocol names (a switch: Map lookups of fresh slices cost more). */
function transportName(word: string): string | undefined {
  switch (word) {
    case 'tcp':
    case 'udp':
    case 'sctp':
    case 'vxlan':
    case 'geneve':
      return word;
    case 'IPsecESP':
      return 'esp';
    case 'IPsecAH':
      return 'ah';
    default:
      return undefined;
  }
}

/**
 * tcpFlagsFromWords turns monitor's `SYN, ACK` into tcpdump's `S.` ('' for a flagless segment).
 * Monitor only ever prints SYN, ACK, RST and FIN, so a PSH+ACK segment shows as `.` here but `P.`
 * in tcpdump.
 */
function tcpFlagsFromWords(words: string): string | undefined {
  switch (words) {
    case 'ACK':
      return '.';
    case 'SYN':
      return 'S';
    case 'SYN, ACK':
      return 'S.';
    case 'ACK, FIN':
      return 'F.';
  }
  const cached = FLAG_WORDS.get(words);
  if (cached !== undefined || FLAG_WORDS.has(words)) return cached;
  let bits = 0;
  for (const w of words.split(', ')) {
    const bit = MONITOR_TCP_FLAGS.get(w);
    bits = bit === undefined || bits < 0 ? -1 : bits | bit;
  }
  const notation = bits < 0 ? undefined : tcpFlagString(bits);
  // Only well-formed flag lists are remembered, so a stream of odd lines cannot grow the cache.
  if (notation !== undefined) FLAG_WORDS.set(words, notation);
  return notation;
}

const FLAG_WORDS = new Map<string, string | undefined>([['', '']]);
const MONITOR_TCP_FLAGS: ReadonlyMap<string, number> = new Map([['FIN', 0x01], ['SYN', 0x02], ['RST', 0x04], ['ACK', 0x10]]);

interface Endpoint {
  addr: string;
  port?: number;
}

/** `10.0.0.1`, `10.0.0.1:80`, `fd00::1`, `[fd00::1]:80`; scanned by hand (this runs twice a line). */
function endpoint(word: string): Endpoint | undefined {
  if (word.charCodeAt(0) === 0x5b /* [ */) {
    const m = IPV6_PORT.exec(word);
    return m ? { addr: m[1], port: Number(m[2]) } : undefined;
  }
  const colon = word.indexOf(':');
  if (colon < 0) return isIpv4(word, 0, word.length) ? { addr: word } : undefined;
  if (word.indexOf(':', colon + 1) >= 0) return IPV6.test(word) ? { addr: word } : undefined;
  const port = digitsValue(word, colon + 1, word.length);
  return port >= 0 && isIpv4(word, 0, colon) ? { addr: word.slice(0, colon), port } : undefined;
}

/** Whether s[start, end) is a dotted quad (four groups of one to three digits). */
function isIpv4(s: string, start: number, end: number): boolean {
  let dots = 0;
  let run = 0;
  for (let i = start; i < end; i++) {
    const c = s.charCodeAt(i);
    if (c >= 0x30 && c <= 0x39) {
      if (++run > 3) return false;
    } else if (c === 0x2e && run > 0) {
      dots++;
      run = 0;
    } else return false;
  }
  return dots === 3 && run > 0;
}

/** The number s[start, end) spells in decimal digits (at most fifteen, so it stays exact), or -1. */
export function digitsValue(s: string, start: number, end: number): number {
  if (start >= end || end - start > 15) return -1;
  let n = 0;
  for (let i = start; i < end; i++) {
    const c = s.charCodeAt(i) - 0x30;
    if (c < 0 || c > 9) return -1;
    n = n * 10 + c;
  }
  return n;
}

/**
 * icmpTypeName maps gopacket's ICMP TypeCode names (`EchoRequest`, `DestinationUnreachable(Port)`,
 * `RouterSolicitation`) to the model's words (`echo-request`, `unreachable`, `router-solicitation`).
 */
export function icmpTypeName(typeCode: string): string {
  let name = ICMP_NAMES.get(typeCode);
  if (name === undefined) {
    name = icmpTypeWords(typeCode);
    if (ICMP_NAMES.size < 512) ICMP_NAMES.set(typeCode, name);
  }
  return name;
}

const ICMP_NAMES = new Map<string, string>();
const MLD_NAMES: Record<string, string> = {
  MLDv1MulticastListenerQuery: 'multicast-listener-query', MLDv1MulticastListenerReport: 'multicast-listener-report',
  MLDv1MulticastListenerDone: 'multicast-listener-done', MLDv2MulticastListenerReport: 'multicast-listener-report-v2',
};

function icmpTypeWords(typeCode: string): string {
  const paren = typeCode.indexOf('(');
  const type = paren >= 0 ? typeCode.slice(0, paren) : typeCode;
  if (type === 'DestinationUnreachable') return 'unreachable';
  // gopacket's MLD names (layers/icmp6.go), in the words tcpdump and the pcap decoder use.
  const mld = MLD_NAMES[type];
  if (mld !== undefined) return mld;
  return type.replace(/([a-z0-9])([A-Z])/g, '$1-$2').toLowerCase();
}

/** etherTypeName maps gopacket's EthernetType names to the model's (ipv4, ipv6, arp, vlan, qinq). */
export function etherTypeName(name: string): string {
  switch (name) {
    case 'IPv4':
      return 'ipv4';
    case 'IPv6':
      return 'ipv6';
    case 'ARP':
      return 'arp';
    case 'Dot1Q':
      return 'vlan';
    case 'QinQ':
      return 'qinq';
    default:
      return name;
  }
}
