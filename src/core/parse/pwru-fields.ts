import type { PwruEvent } from '../model/event.js';
import type { Packet, L4Info, Timestamp } from '../model/packet.js';

/*
 * Decoders for the single fields pwru prints, shared by its text and JSON forms. Formats were read
 * from cilium/pwru internal/pwru/output.go at every tag v0.0.1 .. v1.0.12 (mirror head 70b1b60).
 */

const SKB_ADDRESS = /^0x[0-9a-f]+$/;
const DIGITS = /^\d+$/;
const HEX = /^(?:0x)?[0-9a-f]+$/i;
/** `10.0.1.135:0->10.0.1.180:0(icmp)`, `[fe80::1]:0->[ff02::2]:0(icmp6)`, `:0->:0()`, `...(tcp:SYN|ACK)`. */
const TUPLE = /^(\[[0-9a-fA-F:.]*\]|[0-9.]*):(\d+)->(\[[0-9a-fA-F:.]*\]|[0-9.]*):(\d+)\(([a-z0-9]*)(?::([A-Z|]*))?\)$/;
const MAC = /^[0-9a-f]{2}(?::[0-9a-f]{2}){5}$/i;
const TIME_OF_DAY = /^(\d\d):(\d\d):(\d\d)\.(\d{3})$/;
const DATE_TIME = /^(\d{4})-(\d\d)-(\d\d)T(\d\d):(\d\d):(\d\d)\.(\d{3})$/;
const IFINDEX_NAME = /^(\d+)\((.*)\)$/;
const NAME_IFINDEX = /^(.+):(\d+)$/;
const PID_COLON = /^(.*):\(?(\d+)\)?$/;
const PID_PAREN = /^(.*?):?\((\d+)\)$/;
const DROP_FUNC = /^(kfree_skb_reason|sk_skb_reason_drop)\(([A-Z0-9_]+)\)$/;

/** isSkbAddress: the SKB column, `0xffff9afcb4519b00`. */
export function isSkbAddress(token: string): boolean {
  return SKB_ADDRESS.test(token);
}

/** isTuple: a token shaped like pwru's L3/L4 tuple. */
export function isTuple(token: string): boolean {
  return token.charCodeAt(token.length - 1) === 41 /* ) */ && token.includes('->');
}

/** isMac: `52:2e:36:8d:11:23`, as the tunnel column of PR #494 prints inner MACs. */
export function isMac(token: string): boolean {
  return MAC.test(token);
}

/** isClockTime: the TIME column of --timestamp=absolute (`15:04:05.000`, or dated since 2026-02). */
export function isClockTime(token: string): boolean {
  return TIME_OF_DAY.test(token) || DATE_TIME.test(token);
}

/**
 * parseClockTime decodes the TIME column. The undated form is local time of day; the dated form is
 * local time without a zone, read as UTC because the cilium/pwru image (busybox) has no zoneinfo.
 */
export function parseClockTime(token: string): Timestamp | undefined {
  let m = TIME_OF_DAY.exec(token);
  if (m) {
    const seconds = Number(m[1]) * 3600 + Number(m[2]) * 60 + Number(m[3]);
    return { clock: 'time-of-day', us: seconds * 1_000_000 + Number(m[4]) * 1000 };
  }
  m = DATE_TIME.exec(token);
  if (m) {
    const ms = Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]), Number(m[4]), Number(m[5]), Number(m[6]), Number(m[7]));
    return { clock: 'wall', us: ms * 1000 };
  }
  return undefined;
}

/** nsToUs converts a decimal nanosecond count to microseconds without losing the integer part past 2^53 ns. */
export function nsToUs(ns: string): number {
  if (ns.length <= 3) return Number(ns) / 1000;
  return Number(ns.slice(0, -3)) + Number(ns.slice(-3)) / 1000;
}

/**
 * parseProcess splits pwru's PROCESS column into name and pid. Forms by version: `[comm]` (<= v1.0.3,
 * comm may hold spaces or `kworker/0:1`), `[comm(pid)]` (v1.0.4-5), `[path:pid]` / `[<empty>:(pid)]`
 * (v1.0.6), `path:pid` cut to 16 chars with a leading `~` (v1.0.7+).
 */
export function parseProcess(text: string): { process: string; pid?: number } {
  if (text.charCodeAt(0) === 91 /* [ */ && text.charCodeAt(text.length - 1) === 93 /* ] */) {
    const inner = text.slice(1, -1);
    const paren = PID_PAREN.exec(inner);
    if (paren) return { process: paren[1], pid: Number(paren[2]) };
    const colon = PID_COLON.exec(inner);
    // A bracketed `a:1` is ambiguous with a comm like `kworker/0:1`; v1.0.6 printed paths, so only a
    // path, `<empty>`, or a name that keeps a colon of its own (`irq/..:queue_7:458`) carries a pid.
    if (colon && (colon[1].startsWith('/') || colon[1] === '<empty>' || colon[1].includes(':'))) {
      return { process: colon[1], pid: Number(colon[2]) };
    }
    return { process: inner };
  }
  const colon = PID_COLON.exec(text);
  if (colon) return { process: colon[1], pid: Number(colon[2]) };
  return { process: text };
}

/** parseIface: `eth0:353` (v1.0.7+, may start with `~` when cut), `4(br-x)` (v1.0.3-6), or a bare ifindex. */
export function parseIface(text: string): { iface?: string; ifindex?: number } {
  if (DIGITS.test(text)) return { ifindex: Number(text) };
  let m = NAME_IFINDEX.exec(text);
  if (m) return { iface: m[1], ifindex: Number(m[2]) };
  m = IFINDEX_NAME.exec(text);
  if (m) return { iface: m[2], ifindex: Number(m[1]) };
  return { iface: text };
}

/**
 * parseEthertype normalises PROTO to `0x0800`. `0x`-prefixed values are host order (v1.0.4+);
 * bare ones are the raw network-order field printed as a little-endian integer (`8`, `dd86`).
 */
export function parseEthertype(text: string): string | undefined {
  if (!HEX.test(text)) return undefined;
  let value: number;
  if (text.startsWith('0x')) {
    value = parseInt(text.slice(2), 16);
  } else {
    const raw = parseInt(text, 16);
    value = ((raw & 0xff) << 8) | (raw >> 8);
  }
  return '0x' + value.toString(16).padStart(4, '0');
}

/** parseHex: MARK/x and `mark=0x..`, with or without the 0x prefix. */
export function parseHex(text: string): number {
  return parseInt(text.startsWith('0x') ? text.slice(2) : text, 16);
}

/** parseCb: the `[0x00000000,...]` cb column. */
export function parseCb(text: string): number[] | undefined {
  if (text.charCodeAt(0) !== 91 || text.charCodeAt(text.length - 1) !== 93) return undefined;
  const words = text.slice(1, -1).split(',');
  const out: number[] = [];
  for (const w of words) {
    if (!HEX.test(w)) return undefined;
    out.push(parseHex(w.toLowerCase()));
  }
  return out;
}

/** splitDropReason: `kfree_skb_reason(SKB_DROP_REASON_IP_CSUM)` -> the function and the reason. */
export function splitDropReason(func: string): { func: string; dropReason?: string } {
  const m = DROP_FUNC.exec(func);
  return m ? { func: m[1], dropReason: m[2] } : { func };
}

/** isDropFunc: the functions whose reason pwru prints, as `name (N)` when it cannot name it. */
export function isDropFunc(func: string): boolean {
  return func === 'kfree_skb_reason' || func === 'sk_skb_reason_drop';
}

const TCP_FLAG_LETTERS: Record<string, string> = {
  FIN: 'F', SYN: 'S', RST: 'R', PSH: 'P', ACK: '.', URG: 'U', ECE: 'E', CWR: 'W',
};
// tcpdump prints flags in this order (print-tcp.c tcp_flag_values), the same bit order pwru names them.
const TCP_FLAG_ORDER = ['FIN', 'SYN', 'RST', 'PSH', 'ACK', 'URG', 'ECE', 'CWR'];

/** tcpFlagsToTcpdump: pwru's `SYN|ACK` in tcpdump's notation (`S.`), so captures and pwru compare. */
export function tcpFlagsToTcpdump(flags: string): string | undefined {
  const names = flags.split('|');
  let out = '';
  for (const name of TCP_FLAG_ORDER) if (names.includes(name)) out += TCP_FLAG_LETTERS[name];
  return out === '' ? undefined : out;
}

const L4_BY_NUMBER: Record<number, string> = { 1: 'icmp', 4: 'ipip', 6: 'tcp', 17: 'udp', 41: 'ipv6', 47: 'gre', 50: 'esp', 58: 'icmp6', 132: 'sctp' };

/** protoName: the IP protocol number of pwru's JSON tuple as a name, or the number as a string. */
export function protoName(proto: number): string {
  return L4_BY_NUMBER[proto] ?? String(proto);
}

const L4_PROTOS = new Set(['tcp', 'udp', 'icmp', 'icmp6', 'sctp']);

/** TupleFields: one tuple, whether it came from the text column or a JSON object. */
export interface TupleFields {
  src: string;
  dst: string;
  srcPort: number;
  dstPort: number;
  /** '' when pwru did not know the L4 protocol. */
  proto: string;
  flags?: string;
}

/** parseTupleText decodes the text tuple; undefined when the token is not one. */
export function parseTupleText(token: string): TupleFields | undefined {
  const m = TUPLE.exec(token);
  if (!m) return undefined;
  return { src: m[1], dst: m[3], srcPort: Number(m[2]), dstPort: Number(m[4]), proto: m[5], flags: m[6] };
}

/**
 * tupleToPacket builds the Packet a tuple describes; undefined for a non-IP skb (pwru prints
 * `:0->:0()`). Ports are kept only for port-carrying protocols: pwru prints 0 for ICMP.
 */
export function tupleToPacket(t: TupleFields): Packet | undefined {
  if (t.src === '' && t.dst === '') return undefined;
  const v6 = t.src.charCodeAt(0) === 91 || t.dst.charCodeAt(0) === 91;
  const packet: Packet = {
    ip: {
      version: v6 ? 6 : 4,
      src: v6 ? stripBrackets(t.src) : t.src,
      dst: v6 ? stripBrackets(t.dst) : t.dst,
    },
  };
  if (t.proto === '') return packet;
  packet.ip!.proto = t.proto;
  if (!L4_PROTOS.has(t.proto)) return packet;
  const l4: L4Info = { proto: t.proto };
  if (t.proto === 'tcp' || t.proto === 'udp' || t.proto === 'sctp') {
    l4.srcPort = t.srcPort;
    l4.dstPort = t.dstPort;
  }
  if (t.flags) {
    const flags = tcpFlagsToTcpdump(t.flags);
    if (flags !== undefined) l4.tcpFlags = flags;
  }
  packet.l4 = l4;
  return packet;
}

/**
 * Ethertypes of skb->protocol under which the bytes at skb->network_header can be an IP header:
 * IPv4, IPv6, and a VLAN tag not taken off by hardware (the stack reads the IP header after it).
 * --output-json's `proto` may be the raw network-order field (0x0008 for IPv4), so both byte orders.
 */
const IP_CARRYING_ETHERTYPES = new Set(['0x0800', '0x86dd', '0x8100', '0x88a8', '0x0008', '0xdd86', '0x0081', '0xa888']);

/**
 * tupleIsIpPacket: whether the tuple pwru printed for an skb is an IP packet, or bytes of something
 * else read as one. pwru's BPF set_tuple() (bpf/kprobe_pwru.c) does not look at skb->protocol: it
 * reads the byte at skb->head + skb->network_header and decodes an IPv4 or IPv6 header whenever its
 * version nibble is 4 or 6 (early builds decoded any nibble other than 4 as IPv6), so an AF_UNIX or
 * netlink skb freed by kfree_skbmem, or an skb whose network header is not written yet, prints a
 * tuple of whatever bytes are there (PR #35's `[7923:0:9c00:..]->[2f6f:7267:2f66:..]` is the ASCII
 * of a D-Bus path). The evidence, strongest first:
 *  - skb->protocol (`proto=`/PROTO, with --output-meta) names a non-IP ethertype (ARP, LLDP, ...):
 *    the kernel itself says the skb is not IP.
 *  - skb->protocol is unset (0x0000) and the tuple is IPv6: on the output path ip6_xmit(),
 *    __ip6_make_skb() and ndisc_alloc_skb() set skb->protocol as they write the IPv6 header, so a
 *    real IPv6 header never sits under an unset protocol. An unset protocol with IPv4 is normal
 *    (ip_queue_xmit, ip_local_out: __ip_local_out() sets it just before the LOCAL_OUT hook), so
 *    those tuples are kept; an IPv4-looking non-IP skb cannot be told from them and stays a packet.
 *  - without --output-meta, an IPv6 address outside every allocated block (::/8 with ::1, mapped
 *    and 64:ff9b::, 100::/8, 2000::/3, fc00::/7, fe80::/10, ff00::/8) is not one a packet carries.
 */
export function tupleIsIpPacket(ethertype: string | undefined, packet: Packet): boolean {
  const ip = packet.ip;
  if (ip === undefined) return true;
  if (ethertype !== undefined && ethertype !== '0x0000') return IP_CARRYING_ETHERTYPES.has(ethertype);
  if (ip.version !== 6) return true;
  if (ethertype === '0x0000') return false;
  return isAllocatedIpv6(ip.src) && isAllocatedIpv6(ip.dst);
}

function isAllocatedIpv6(addr: string): boolean {
  if (addr.startsWith('::')) return true;
  const colon = addr.indexOf(':');
  const first = parseInt(addr.slice(0, colon < 0 ? addr.length : colon), 16);
  if (Number.isNaN(first)) return false;
  return first >> 8 <= 0x01 || (first & 0xe000) === 0x2000 || (first & 0xfe00) === 0xfc00
    || (first & 0xffc0) === 0xfe80 || first >> 8 === 0xff;
}

function stripBrackets(addr: string): string {
  return addr.charCodeAt(0) === 91 ? addr.slice(1, -1) : addr;
}

/**
 * withTunnel: the TUNNEL column is the packet inside the outer one (skb->inner_network_header).
 * pwru does not name the tunnel; the outer UDP port does (4789/8472 VXLAN, 6081 Geneve).
 */
export function withTunnel(outer: Packet | undefined, inner: Packet): Packet {
  const base: Packet = outer ? { ...outer } : {};
  const port = outer?.l4?.proto === 'udp' ? outer.l4.dstPort : undefined;
  const kind = port === 4789 || port === 8472 ? 'vxlan' : port === 6081 ? 'geneve' : 'unknown';
  base.encap = { kind };
  base.inner = inner;
  return base;
}

/** summarize: the function as pwru printed it (with its drop reason), and its caller. */
export function summarize(event: PwruEvent): string {
  let s = event.func;
  if (event.dropReason !== undefined) s += `(${event.dropReason})`;
  else if (event.dropCode !== undefined) s += ` (${event.dropCode})`;
  if (event.caller !== undefined) s += ` from ${event.caller}`;
  return s;
}
