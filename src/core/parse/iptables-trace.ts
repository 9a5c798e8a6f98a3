import type { IptablesEvent } from '../model/event.js';
import type { EthernetInfo, IpInfo, L4Info, Packet, Timestamp } from '../model/packet.js';
import type { LineParser, Parsed, ParseResult } from './result.js';
import { etherTypeName, icmpTypeName, ipProtoName, tcpFlagString } from './protocol-names.js';
import { transcriptNoise } from './transcript-noise.js';

/**
 * iptables / nftables trace records in the three shapes Linux prints them:
 *
 * - kernel log `TRACE:` lines (iptables-legacy `-j TRACE` with nf_log), bare or wrapped by dmesg
 *   (`[12345.678901]`, `dmesg -T` `[Thu Apr 23 21:55:11 2020]`), syslog/journal (`Feb 13 15:33:24
 *   host kernel: [873912.017189] TRACE: ...`) or ISO-stamped syslog;
 * - `xtables-monitor --trace` (iptables-nft): `PACKET: <family> <id> IN=...` lines and
 *   ` TRACE: <family> <id> table:chain:rule:0xHANDLE:VERDICT  <rule>` lines. Since iptables 1.8.7
 *   the PACKET line comes first; older versions print it after the rule line it belongs to;
 * - `nft monitor trace`: `trace id <id> <family> <table> <chain> packet: ...`, then `rule ...
 *   (verdict X)`, `verdict X` (end of chain) and `policy X` lines.
 *
 * One event per rule/policy/return record. PACKET / `packet:` lines are meta: the packet they
 * describe is kept in the context under its trace id and attached to that id's records.
 */
export interface IptablesContext {
  /** Packets announced per trace id, newest first, at most MAX_TRACKED_TRACES. */
  readonly packets: readonly TracePacket[];
  /** xtables-monitor layout, learnt from its first PACKET/TRACE line: true when PACKET comes first (1.8.7+). */
  readonly packetFirst?: boolean;
  /** Old xtables-monitor layout only: the last rule event, which the next PACKET line completes. */
  readonly awaitingPacket?: IptablesEvent;
}

interface TracePacket {
  readonly id: string;
  readonly packet?: Packet;
  readonly inIface?: string;
  readonly outIface?: string;
}

/** Trace ids interleave only when packets cross the rules concurrently; a few dozen is plenty. */
const MAX_TRACKED_TRACES = 32;

const INITIAL: IptablesContext = { packets: [] };

const KERNEL_TRACE_HEAD = /^TRACE: ([^:\s]+):([^:\s]+):(rule|policy|return):(\d+)(?:[ \t]|$)/;
const XTABLES_TRACE = /^ ?TRACE: (\d+) ([0-9a-f]{8}) ([^:\s]+):([^:\s]+):(rule|policy|return):(.*)$/;
const XTABLES_RULE_REST = /^0x([0-9a-f]+):(\S*)\s*(.*)$/;
const XTABLES_PACKET = /^PACKET: (\d+) ([0-9a-f]{8}) (.*)$/;
const NFT_HEAD = /^trace id ([0-9a-f]+) (\S+) (\S+) (\S+) (.*)$/;
const NFT_UNKNOWN_RULE = /^unknown rule handle (\d+) \(verdict (.+)\)$/;

/** Lines that are clearly some other log record: dmesg, syslog/journal, ISO-stamped syslog, dmesg -x. */
const OTHER_LOG_LINE =
  /^(?:<\d+>)?\[[^\]]*\]|^[A-Z][a-z]{2} [ \d]?\d \d\d:\d\d:\d\d \S+ [^\s:]+:|^\d{4}-\d\d-\d\dT\S+ \S+ [^\s:]+:|^kern\s*:/;

const DIGITS = /^\d+$/;
const QUOTES = /"/g;
const PARENS = /[()]/g;
const FLAG_NAME_SEPARATOR = /[\s|,]+/;
const DMESG_MONOTONIC = /^(\d+)\.(\d+)$/;
const DMESG_CTIME = /^[A-Z][a-z]{2} [A-Z][a-z]{2} +\d+ (\d\d):(\d\d):(\d\d) \d{4}$/;
const SYSLOG_TIME = /^[A-Z][a-z]{2} [ \d]?\d (\d\d):(\d\d):(\d\d) /;
const ISO_TIME = /^(\d{4})-(\d\d)-(\d\d)T(\d\d):(\d\d):(\d\d)(?:\.(\d{1,9}))?(Z|[+-]\d\d:?\d\d)/;

/** parseIptablesTraceLine: one kernel-log, xtables-monitor or nft monitor trace line. Never throws. */
export function parseIptablesTraceLine(line: string, ctx: IptablesContext = INITIAL): Parsed<IptablesContext, IptablesEvent> {
  const text = line.charCodeAt(line.length - 1) === 13 ? line.slice(0, -1) : line;
  if (isBlank(text)) return { result: IGNORED_BLANK, ctx };
  const first = text.charCodeAt(0);
  if (first === 116 /* t */ && text.startsWith('trace id ')) return parseNftLine(text, ctx);
  if (first === 80 /* P */ && text.startsWith('PACKET: ')) return parseXtablesPacket(text, ctx);
  if (text.startsWith(' TRACE: ') || (first === 84 /* T */ && XTABLES_TRACE.test(text))) return parseXtablesTrace(text, ctx);
  if (text.startsWith(' EVENT: ') || text.startsWith('NEWGEN: ')) return { result: IGNORED_RULESET_EVENT, ctx };
  const at = text.indexOf('TRACE: ');
  if (at >= 0) return { result: parseKernelTrace(text, at), ctx };
  const noise = transcriptNoise(text);
  if (noise !== undefined) return { result: { kind: 'ignored', reason: noise }, ctx };
  if (OTHER_LOG_LINE.test(text)) return { result: IGNORED_OTHER_LOG, ctx };
  return { result: UNPARSED_NOT_TRACE, ctx };
}

/** iptablesTraceParser: the LineParser for kernel TRACE, xtables-monitor --trace and nft monitor trace output. */
export const iptablesTraceParser: LineParser<IptablesContext, IptablesEvent> = {
  tool: 'iptables',
  initial: () => INITIAL,
  parse: parseIptablesTraceLine,
};

const IGNORED_BLANK: ParseResult<IptablesEvent> = { kind: 'ignored', reason: 'blank line' };
const IGNORED_RULESET_EVENT: ParseResult<IptablesEvent> = { kind: 'ignored', reason: 'xtables-monitor ruleset event, not a trace' };
const IGNORED_OTHER_LOG: ParseResult<IptablesEvent> = { kind: 'ignored', reason: 'log line that is not a TRACE record' };
const UNPARSED_NOT_TRACE: ParseResult<IptablesEvent> = {
  kind: 'unparsed',
  reason: 'not a kernel TRACE, xtables-monitor or nft monitor trace line',
};

// ---- kernel log -------------------------------------------------------------------------------

function parseKernelTrace(text: string, at: number): ParseResult<IptablesEvent> {
  const record = text.slice(at);
  const head = KERNEL_TRACE_HEAD.exec(record);
  if (head === null) return { kind: 'unparsed', reason: 'TRACE: without table:chain:rule|policy|return:N' };
  const fields = decodeLogFields(record, head[0].length);
  const event: IptablesEvent = {
    tool: 'iptables',
    table: head[1],
    chain: head[2],
    kind: head[3],
    ruleNum: Number(head[4]),
    summary: '',
  };
  if (fields.inIface !== undefined) event.inIface = fields.inIface;
  if (fields.outIface !== undefined) event.outIface = fields.outIface;
  const time = at > 0 ? stampFromLogPrefix(text.slice(0, at)) : undefined;
  if (time !== undefined) event.time = time;
  if (fields.packet !== undefined) event.packet = fields.packet;
  event.summary = `${head[1]}:${head[2]}:${head[3]}:${head[4]} IN=${fields.inIface ?? ''} OUT=${fields.outIface ?? ''}${describePacket(fields.packet)}`;
  return { kind: 'event', event };
}

/**
 * The time in a kernel log line's prefix. A dmesg `[seconds.micro]` stamp wins over a syslog
 * clock: it has microseconds, and it is printk's clock (local_clock), which runs with the
 * monotonic clock pwru prints closely enough to order events on one node.
 */
function stampFromLogPrefix(prefix: string): Timestamp | undefined {
  const fast = dmesgStamp(prefix);
  if (fast !== undefined) return fast;
  const open = prefix.lastIndexOf('[');
  const close = open >= 0 ? prefix.indexOf(']', open) : -1;
  if (close > open) {
    const inner = prefix.slice(open + 1, close).trim();
    const mono = DMESG_MONOTONIC.exec(inner);
    if (mono !== null) return { clock: 'monotonic', us: Number(mono[1]) * 1e6 + fractionToMicros(mono[2]) };
    const ctime = DMESG_CTIME.exec(inner);
    if (ctime !== null) return timeOfDay(ctime[1], ctime[2], ctime[3]);
  }
  const iso = ISO_TIME.exec(prefix);
  if (iso !== null) return isoWallClock(iso);
  const syslog = SYSLOG_TIME.exec(prefix);
  if (syslog !== null) return timeOfDay(syslog[1], syslog[2], syslog[3]);
  return undefined;
}

function fractionToMicros(digits: string): number {
  return Number((digits + '000000').slice(0, 6));
}

/** The common case without regexes or slices: the prefix is exactly `[  seconds.fraction] `. */
function dmesgStamp(prefix: string): Timestamp | undefined {
  const n = prefix.length;
  if (prefix.charCodeAt(0) !== 91 || prefix.charCodeAt(n - 2) !== 93) return undefined;
  let i = 1;
  while (i < n && prefix.charCodeAt(i) === 32) i++;
  let seconds = 0;
  const start = i;
  for (let c = prefix.charCodeAt(i); c >= 48 && c <= 57; c = prefix.charCodeAt(++i)) seconds = seconds * 10 + (c - 48);
  if (i === start || prefix.charCodeAt(i) !== 46) return undefined;
  let micros = 0;
  let scale = 100000;
  for (let c = prefix.charCodeAt(++i); c >= 48 && c <= 57; c = prefix.charCodeAt(++i)) {
    micros += (c - 48) * scale;
    scale = Math.floor(scale / 10);
  }
  if (i !== n - 2) return undefined;
  return { clock: 'monotonic', us: seconds * 1e6 + micros };
}

function timeOfDay(h: string, m: string, s: string): Timestamp {
  return { clock: 'time-of-day', us: ((Number(h) * 60 + Number(m)) * 60 + Number(s)) * 1e6 };
}

function isoWallClock(m: RegExpExecArray): Timestamp {
  const utcMs = Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]), Number(m[4]), Number(m[5]), Number(m[6]));
  let offsetMin = 0;
  if (m[8] !== 'Z') {
    const sign = m[8].charCodeAt(0) === 45 ? -1 : 1;
    const digits = m[8].slice(1).replace(':', '');
    offsetMin = sign * (Number(digits.slice(0, 2)) * 60 + Number(digits.slice(2, 4)));
  }
  return { clock: 'wall', us: (utcMs - offsetMin * 60000) * 1000 + (m[7] === undefined ? 0 : fractionToMicros(m[7])) };
}

// ---- KEY=value packet fields (kernel nf_log and xtables-monitor PACKET lines) ------------------

interface LogFields {
  inIface?: string;
  outIface?: string;
  packet?: Packet;
}

const TCP_FLAG_BITS: Record<string, number> = { FIN: 0x01, SYN: 0x02, RST: 0x04, PSH: 0x08, ACK: 0x10, URG: 0x20, ECE: 0x40, CWR: 0x80 };

/**
 * Decodes nf_log's `KEY=value` packet description (also xtables-monitor's PACKET line, which uses
 * SPORT/DPORT, glues IP flags to the ID value and prints no PROTO). Before PROTO=, ID/LEN are the
 * IP header's; after it they are the ICMP id and UDP length. Stops at `[`, where nf_log quotes the
 * packet an ICMP error carries.
 */
function decodeLogFields(s: string, from: number): LogFields {
  const out: LogFields = {};
  let eth: EthernetInfo | undefined;
  let macSrc: string | undefined;
  let macDst: string | undefined;
  let macType: string | undefined;
  let src: string | undefined;
  let dst: string | undefined;
  let ipLen: number | undefined;
  let ttl: number | undefined;
  let ipId: number | undefined;
  let tos: number | undefined;
  let ipFlags: string | undefined;
  let proto: string | undefined;
  let afterProto = false;
  let srcPort: number | undefined;
  let dstPort: number | undefined;
  let seq: number | undefined;
  let ack: number | undefined;
  let tcpBits = 0;
  let icmpType: number | undefined;
  let icmpId: number | undefined;
  let udpLen: number | undefined;
  // A scan instead of split(): these lines run to 300 characters and 30 fields, most of them ignored.
  const n = s.length;
  let i = from;
  while (i < n) {
    let c = s.charCodeAt(i);
    if (c === 32 || c === 9) {
      i++;
      continue;
    }
    if (c === 91 /* [ */) break;
    let end = i;
    let eq = -1;
    while (end < n) {
      c = s.charCodeAt(end);
      if (c === 32 || c === 9) break;
      if (c === 61 /* = */ && eq < 0) eq = end;
      end++;
    }
    if (eq < 0) {
      const t = s.slice(i, end);
      const bit = TCP_FLAG_BITS[t];
      if (bit !== undefined) tcpBits |= bit;
      else if (t === 'DF' || t === 'MF') ipFlags = ipFlags === undefined ? t : `${ipFlags},${t}`;
      i = end;
      continue;
    }
    const v = eq + 1;
    switch (eq - i) {
      case 2:
        if (s.startsWith('IN', i)) { if (v < end) out.inIface = s.slice(v, end); }
        else if (s.startsWith('ID', i)) {
          if (afterProto) icmpId = intAt(s, v, end);
          else {
            // xtables-monitor prints `ID=33480DF`: the flags follow the number without a space.
            let d = v;
            while (d < end && isDigit(s.charCodeAt(d))) d++;
            ipId = intAt(s, v, d);
            if (s.startsWith('DF', d) || s.startsWith('MF', d)) ipFlags = s.slice(d, d + 2);
          }
        }
        break;
      case 3:
        if (s.startsWith('OUT', i)) { if (v < end) out.outIface = s.slice(v, end); }
        else if (s.startsWith('MAC', i)) eth = ethernetFromLogMac(s, v, end);
        else if (s.startsWith('SRC', i)) src = s.slice(v, end);
        else if (s.startsWith('DST', i)) dst = s.slice(v, end);
        else if (s.startsWith('LEN', i)) { if (afterProto) udpLen = intAt(s, v, end); else ipLen = intAt(s, v, end); }
        else if (s.startsWith('TOS', i)) tos = Number.parseInt(s.slice(v, end), 16);
        else if (s.startsWith('TTL', i)) ttl = intAt(s, v, end);
        else if (s.startsWith('SPT', i)) srcPort = intAt(s, v, end);
        else if (s.startsWith('DPT', i)) dstPort = intAt(s, v, end);
        else if (s.startsWith('SEQ', i)) seq = intAt(s, v, end);
        else if (s.startsWith('ACK', i)) ack = intAt(s, v, end);
        break;
      case 4:
        if (s.startsWith('TYPE', i)) icmpType = intAt(s, v, end);
        break;
      case 5:
        if (s.startsWith('PROTO', i)) { proto = protoName(s.slice(v, end)); afterProto = true; }
        else if (s.startsWith('SPORT', i)) srcPort = intAt(s, v, end);
        else if (s.startsWith('DPORT', i)) dstPort = intAt(s, v, end);
        break;
      case 6:
        if (s.startsWith('MACSRC', i)) macSrc = padMac(s.slice(v, end));
        else if (s.startsWith('MACDST', i)) macDst = padMac(s.slice(v, end));
        break;
      case 8:
        if (s.startsWith('HOPLIMIT', i)) ttl = intAt(s, v, end);
        else if (s.startsWith('MACPROTO', i)) macType = etherTypeName(s.slice(v, end));
        break;
      default:
        break;
    }
    i = end;
  }
  if (eth === undefined && macSrc !== undefined && macDst !== undefined) {
    eth = { src: macSrc, dst: macDst };
    if (macType !== undefined) eth.type = macType;
  }
  // xtables-monitor prints no protocol: TCP shows flags, the other port-carrying protocols do not.
  if (proto === undefined && srcPort !== undefined) proto = tcpBits !== 0 ? 'tcp' : 'udp';
  if (src === undefined || dst === undefined) {
    if (eth !== undefined) out.packet = { eth };
    return out;
  }
  const v6 = src.includes(':');
  const ip: IpInfo = { version: v6 ? 6 : 4, src, dst };
  if (ttl !== undefined) ip.ttl = ttl;
  if (ipId !== undefined) ip.id = ipId;
  if (proto !== undefined) ip.proto = proto;
  // nf_log prints the IPv6 total length; the model keeps the payload length, as tcpdump prints it.
  if (ipLen !== undefined) ip.length = v6 ? ipLen - 40 : ipLen;
  if (tos !== undefined && !Number.isNaN(tos)) ip.tos = tos;
  if (ipFlags !== undefined) ip.flags = ipFlags;
  const packet: Packet = { ip };
  if (eth !== undefined) packet.eth = eth;
  if (ipLen !== undefined) packet.length = ipLen;
  let l4: L4Info | undefined;
  if (proto === 'tcp') {
    l4 = { proto, tcpFlags: tcpFlagString(tcpBits) };
    if (seq !== undefined) l4.tcpSeq = seq;
    // nf_log prints ACK=<ack_seq> even without the ACK flag; tcpdump shows it only with the flag.
    if (ack !== undefined && (tcpBits & 0x10) !== 0) l4.tcpAck = ack;
  } else if (proto === 'udp' || proto === 'udplite' || proto === 'sctp') {
    l4 = { proto };
    if (udpLen !== undefined && proto !== 'sctp') l4.payloadLength = udpLen - 8;
  } else if ((proto === 'icmp' || proto === 'icmp6') && icmpType !== undefined) {
    l4 = { proto, icmpType: icmpTypeName(proto, icmpType) };
    if (icmpId !== undefined) l4.icmpId = icmpId;
    if (seq !== undefined) l4.icmpSeq = seq;
  }
  if (l4 !== undefined) {
    if (srcPort !== undefined) l4.srcPort = srcPort;
    if (dstPort !== undefined) l4.dstPort = dstPort;
    packet.l4 = l4;
  }
  out.packet = packet;
  return out;
}

/** nf_log's MAC= is the raw link header: destination, source, ethertype, two hex digits a byte. */
function ethernetFromLogMac(s: string, from: number, to: number): EthernetInfo | undefined {
  if (to - from !== 41) return undefined;
  return {
    dst: s.slice(from, from + 17).toLowerCase(),
    src: s.slice(from + 18, from + 35).toLowerCase(),
    type: etherTypeName(s.slice(from + 36, from + 38) + s.slice(from + 39, from + 41)),
  };
}

/** ether_ntoa prints `2:42:ac:11:0:2`; the model keeps two digits per byte. */
function padMac(value: string): string {
  return value
    .split(':')
    .map((b) => (b.length === 1 ? `0${b}` : b))
    .join(':')
    .toLowerCase();
}

const PROTO_NAMES: Record<string, string> = { TCP: 'tcp', UDP: 'udp', UDPLITE: 'udplite', ICMP: 'icmp', ICMPv6: 'icmp6', SCTP: 'sctp' };

/** nf_log prints PROTO=TCP/UDP/ICMP/... by name and other protocols by number. */
function protoName(value: string): string {
  return PROTO_NAMES[value] ?? (DIGITS.test(value) ? ipProtoName(Number(value)) : value.toLowerCase());
}

/** The decimal number in s[from, to), without slicing; undefined if there is none. */
function intAt(s: string, from: number, to: number): number | undefined {
  if (from >= to) return undefined;
  let n = 0;
  for (let k = from; k < to; k++) {
    const d = s.charCodeAt(k) - 48;
    if (d < 0 || d > 9) return k === from ? undefined : n;
    n = n * 10 + d;
  }
  return n;
}

function isBlank(s: string): boolean {
  for (let k = 0; k < s.length; k++) {
    const c = s.charCodeAt(k);
    if (c !== 32 && c !== 9) return false;
  }
  return true;
}

function isDigit(c: number): boolean {
  return c >= 48 && c <= 57;
}

// ---- xtables-monitor --trace ------------------------------------------------------------------

const XTABLES_FAMILIES: Record<string, string> = { '2': 'ip', '10': 'ip6', '3': 'arp', '7': 'bridge' };

function parseXtablesPacket(text: string, ctx: IptablesContext): Parsed<IptablesContext, IptablesEvent> {
  const m = XTABLES_PACKET.exec(text);
  if (m === null) return { result: { kind: 'unparsed', reason: 'PACKET: without family and trace id' }, ctx };
  const id = m[2];
  const fields = decodeLogFields(m[3], 0);
  const entry: TracePacket = { id, packet: fields.packet, inIface: fields.inIface, outIface: fields.outIface };
  const packets = remember(ctx.packets, entry);
  const pending = ctx.awaitingPacket;
  if (pending !== undefined && pending.traceId === id) {
    // Before iptables 1.8.7 the packet is printed after the rule line it belongs to.
    const event = withTracePacket({ ...pending }, entry);
    return { result: { kind: 'amend', event }, ctx: { packets, packetFirst: false } };
  }
  const packetFirst = ctx.packetFirst ?? true;
  return {
    result: { kind: 'meta', meta: { note: `xtables-monitor packet ${id}: ${m[3].trim()}` } },
    ctx: { packets, packetFirst },
  };
}

function parseXtablesTrace(text: string, ctx: IptablesContext): Parsed<IptablesContext, IptablesEvent> {
  const m = XTABLES_TRACE.exec(text);
  if (m === null) return { result: { kind: 'unparsed', reason: 'xtables-monitor TRACE: without family, trace id and table:chain:kind' }, ctx };
  const [, familyNum, id, table, chain, kind, rest] = m;
  const event: IptablesEvent = { tool: 'iptables', table, chain, kind, family: XTABLES_FAMILIES[familyNum] ?? familyNum, traceId: id, summary: '' };
  if (kind === 'rule') {
    const r = XTABLES_RULE_REST.exec(rest);
    if (r === null) return { result: { kind: 'unparsed', reason: 'xtables-monitor rule trace without 0xHANDLE:VERDICT' }, ctx };
    event.ruleHandle = Number.parseInt(r[1], 16);
    if (r[2] !== '') event.verdict = xtablesVerdict(r[2]);
    const rule = r[3].trim();
    if (rule !== '') event.rule = rule;
  } else if (kind === 'policy') {
    const verdict = rest.trim();
    if (verdict !== '') event.verdict = xtablesVerdict(verdict);
  }
  const known = findTrace(ctx.packets, id);
  if (known !== undefined) withTracePacket(event, known);
  event.summary = text.slice(text.indexOf(id) + id.length).trim();
  const packetFirst = ctx.packetFirst ?? false;
  if (packetFirst) return { result: { kind: 'event', event }, ctx: ctx.packetFirst === undefined ? { ...ctx, packetFirst } : ctx };
  const awaitingPacket = kind === 'rule' ? event : undefined;
  return { result: { kind: 'event', event }, ctx: { packets: ctx.packets, packetFirst, awaitingPacket } };
}

/** xtables-monitor prints ACCEPT, DROP, CONTINUE, JUMP:CHAIN, GOTO:CHAIN; the model uses nft's words. */
function xtablesVerdict(v: string): string {
  const colon = v.indexOf(':');
  if (colon < 0) return v.toLowerCase();
  return `${v.slice(0, colon).toLowerCase()} ${v.slice(colon + 1)}`;
}

// ---- nft monitor trace ------------------------------------------------------------------------

function parseNftLine(text: string, ctx: IptablesContext): Parsed<IptablesContext, IptablesEvent> {
  const m = NFT_HEAD.exec(text);
  if (m === null) return { result: { kind: 'unparsed', reason: 'trace id line without family, table and chain' }, ctx };
  const [, id, family, table, chain, rest] = m;
  if (rest.startsWith('packet: ')) {
    const entry = decodeNftPacket(id, rest.slice(8));
    return {
      result: { kind: 'meta', meta: { note: `nft trace ${id} packet in ${family} ${table} ${chain}` } },
      ctx: { ...ctx, packets: remember(ctx.packets, entry) },
    };
  }
  if (rest.startsWith('conntrack: ')) {
    return { result: { kind: 'meta', meta: { note: `nft trace ${id} ${rest.trim()}` } }, ctx };
  }
  const event: IptablesEvent = { tool: 'iptables', table, chain, family, traceId: id, summary: text.slice(10 + id.length).trim() };
  if (rest.startsWith('rule ')) {
    const open = rest.lastIndexOf(' (verdict ');
    if (open < 0 || !rest.endsWith(')')) return { result: { kind: 'unparsed', reason: 'nft rule trace without (verdict ...)' }, ctx };
    event.kind = 'rule';
    event.rule = rest.slice(5, open).trim();
    event.verdict = rest.slice(open + 10, -1);
  } else if (rest.startsWith('unknown rule handle ')) {
    const u = NFT_UNKNOWN_RULE.exec(rest.trimEnd());
    if (u === null) return { result: { kind: 'unparsed', reason: 'nft unknown-rule trace without (verdict ...)' }, ctx };
    event.kind = 'rule';
    event.ruleHandle = Number(u[1]);
    event.verdict = u[2];
  } else if (rest.startsWith('policy ')) {
    event.kind = 'policy';
    event.verdict = beforeMark(rest.slice(7));
  } else if (rest.startsWith('verdict ')) {
    // NFT_TRACETYPE_RETURN: the end of a chain was reached.
    event.kind = 'return';
    event.verdict = beforeMark(rest.slice(8));
  } else {
    return { result: { kind: 'unparsed', reason: 'nft trace record of unknown kind' }, ctx };
  }
  const known = findTrace(ctx.packets, id);
  if (known !== undefined) withTracePacket(event, known);
  return { result: { kind: 'event', event }, ctx };
}

/** `policy accept meta mark 0x00000001`: the mark is printed after the verdict. */
function beforeMark(s: string): string {
  const mark = s.indexOf(' meta mark ');
  return (mark < 0 ? s : s.slice(0, mark)).trim();
}

const NFT_KEYWORDS = new Set([
  'iif', 'oif', 'ether', 'vlan', 'arp', 'ip', 'ip6', 'tcp', 'udp', 'udplite', 'icmp', 'icmpv6', 'sctp', 'dccp',
  'th', 'meta', 'ct', 'esp', 'ah', 'gre',
]);

const NFT_ICMP_TYPES: Record<string, string> = {
  'destination-unreachable': 'unreachable',
  'nd-neighbor-solicit': 'neighbor-solicitation',
  'nd-neighbor-advert': 'neighbor-advertisement',
  'nd-router-solicit': 'router-solicitation',
  'nd-router-advert': 'router-advertisement',
};

const NFT_TCP_FLAG_BITS: Record<string, number> = { fin: 0x01, syn: 0x02, rst: 0x04, psh: 0x08, ack: 0x10, urg: 0x20, ecn: 0x40, cwr: 0x80 };

/**
 * nft prints the packet as match expressions (`ip saddr 1.2.3.4 ip ttl 64 tcp dport 80 ...`).
 * A value runs until the next protocol keyword; `iif "eth0"` carries quotes.
 */
function decodeNftPacket(id: string, s: string): TracePacket {
  const tokens = s.trim().split(' ');
  const v: Record<string, string> = {};
  let i = 0;
  while (i < tokens.length) {
    const key = tokens[i];
    if (key === 'iif' || key === 'oif') {
      v[key] = (tokens[i + 1] ?? '').replace(QUOTES, '');
      i += 2;
      continue;
    }
    if (!NFT_KEYWORDS.has(key) || i + 2 >= tokens.length) {
      i++;
      continue;
    }
    const field = `${key} ${tokens[i + 1] ?? ''}`;
    let j = i + 2;
    let value = tokens[j] ?? '';
    j++;
    while (j < tokens.length && !NFT_KEYWORDS.has(tokens[j])) value += ` ${tokens[j++]}`;
    v[field] = value.startsWith('== ') ? value.slice(3) : value;
    i = j;
  }
  const entry: { id: string; packet?: Packet; inIface?: string; outIface?: string } = { id };
  if (v.iif !== undefined) entry.inIface = v.iif;
  if (v.oif !== undefined) entry.outIface = v.oif;
  const packet: Packet = {};
  if (v['ether saddr'] !== undefined && v['ether daddr'] !== undefined) {
    packet.eth = { src: v['ether saddr'].toLowerCase(), dst: v['ether daddr'].toLowerCase() };
    const type = v['ether type'];
    if (type !== undefined) packet.eth.type = type === 'ip' ? 'ipv4' : type === 'ip6' ? 'ipv6' : type;
  }
  const v6 = v['ip6 saddr'] !== undefined;
  const ipKey = v6 ? 'ip6' : 'ip';
  const src = v[`${ipKey} saddr`];
  const dst = v[`${ipKey} daddr`];
  if (src !== undefined && dst !== undefined) {
    const ip: IpInfo = { version: v6 ? 6 : 4, src, dst };
    const ttl = v6 ? v['ip6 hoplimit'] : v['ip ttl'];
    if (ttl !== undefined) ip.ttl = Number(ttl);
    if (!v6 && v['ip id'] !== undefined) ip.id = Number(v['ip id']);
    const len = v[`${ipKey} length`];
    if (len !== undefined) ip.length = Number(len);
    const proto = v6 ? v['ip6 nexthdr'] : v['ip protocol'];
    if (proto !== undefined) ip.proto = proto === 'ipv6-icmp' ? 'icmp6' : proto;
    packet.ip = ip;
    if (!v6 && len !== undefined) packet.length = Number(len);
  }
  const l4 = nftTransport(v);
  if (l4 !== undefined) {
    packet.l4 = l4;
    if (packet.ip !== undefined && packet.ip.proto === undefined) packet.ip.proto = l4.proto;
  }
  if (packet.eth !== undefined || packet.ip !== undefined) entry.packet = packet;
  return entry;
}

function nftTransport(v: Record<string, string>): L4Info | undefined {
  if (v['tcp sport'] !== undefined || v['tcp dport'] !== undefined) {
    const l4: L4Info = { proto: 'tcp' };
    if (v['tcp sport'] !== undefined) l4.srcPort = Number(v['tcp sport']);
    if (v['tcp dport'] !== undefined) l4.dstPort = Number(v['tcp dport']);
    if (v['tcp flags'] !== undefined) l4.tcpFlags = tcpFlagString(nftTcpFlagBits(v['tcp flags']));
    if (v['tcp sequence'] !== undefined) l4.tcpSeq = Number(v['tcp sequence']);
    if (v['tcp ackseq'] !== undefined) l4.tcpAck = Number(v['tcp ackseq']);
    return l4;
  }
  if (v['udp sport'] !== undefined || v['udp dport'] !== undefined) {
    const l4: L4Info = { proto: 'udp' };
    if (v['udp sport'] !== undefined) l4.srcPort = Number(v['udp sport']);
    if (v['udp dport'] !== undefined) l4.dstPort = Number(v['udp dport']);
    if (v['udp length'] !== undefined) l4.payloadLength = Number(v['udp length']) - 8;
    return l4;
  }
  const icmpKey = v['icmp type'] !== undefined ? 'icmp' : v['icmpv6 type'] !== undefined ? 'icmpv6' : undefined;
  if (icmpKey === undefined) return undefined;
  const type = v[`${icmpKey} type`];
  const l4: L4Info = { proto: icmpKey === 'icmp' ? 'icmp' : 'icmp6', icmpType: NFT_ICMP_TYPES[type] ?? type };
  if (v[`${icmpKey} id`] !== undefined) l4.icmpId = Number(v[`${icmpKey} id`]);
  if (v[`${icmpKey} sequence`] !== undefined) l4.icmpSeq = Number(v[`${icmpKey} sequence`]);
  return l4;
}

/** nft prints TCP flags as a number (`0x18`) or as names (`syn | ack`), depending on its version. */
function nftTcpFlagBits(value: string): number {
  const v = value.replace(PARENS, '').trim();
  if (v.startsWith('0x')) return Number.parseInt(v, 16);
  let bits = 0;
  for (const name of v.split(FLAG_NAME_SEPARATOR)) bits |= NFT_TCP_FLAG_BITS[name] ?? 0;
  return bits;
}

// ---- shared by the trace-id formats -----------------------------------------------------------

function remember(packets: readonly TracePacket[], entry: TracePacket): readonly TracePacket[] {
  const next: TracePacket[] = [entry];
  for (const p of packets) {
    if (next.length >= MAX_TRACKED_TRACES) break;
    if (p.id !== entry.id) next.push(p);
  }
  return next;
}

function findTrace(packets: readonly TracePacket[], id: string): TracePacket | undefined {
  for (const p of packets) if (p.id === id) return p;
  return undefined;
}

function withTracePacket(event: IptablesEvent, known: TracePacket): IptablesEvent {
  if (known.packet !== undefined) event.packet = known.packet;
  if (known.inIface !== undefined) event.inIface = known.inIface;
  if (known.outIface !== undefined) event.outIface = known.outIface;
  return event;
}

/** ` ICMP 10.0.1.135 > 10.0.1.180 echo-request id 20480 seq 0`, or '' without a packet. */
function describePacket(p: Packet | undefined): string {
  const ip = p?.ip;
  if (ip === undefined) return '';
  const l4 = p?.l4;
  if (l4 === undefined) return ` ${(ip.proto ?? 'ip').toUpperCase()} ${ip.src} > ${ip.dst}`;
  if (l4.icmpType !== undefined) {
    const idSeq = l4.icmpId !== undefined ? ` id ${l4.icmpId} seq ${l4.icmpSeq ?? '?'}` : '';
    return ` ${l4.proto.toUpperCase()} ${ip.src} > ${ip.dst} ${l4.icmpType}${idSeq}`;
  }
  const flags = l4.tcpFlags !== undefined ? ` [${l4.tcpFlags}]` : '';
  return ` ${l4.proto.toUpperCase()} ${ip.src}.${l4.srcPort ?? '?'} > ${ip.dst}.${l4.dstPort ?? '?'}${flags}`;
}
