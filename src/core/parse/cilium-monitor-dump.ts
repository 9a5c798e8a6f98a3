import type { EthernetInfo, IpInfo, L4Info, Packet } from '../model/packet.js';
import { etherTypeName, icmpTypeName } from './cilium-monitor-summary.js';
import { tcpFlagString } from './protocol-names.js';

/**
 * The packet dump cilium monitor prints with a -v/-vv record (pkg/monitor/dissect.go Dissect):
 * one gopacket `LayerString` line per decoded layer (`IPv4\t{Contents=[..20..] ... TTL=63 ...}`,
 * the tab often pasted as a space), then `Failed to decode layer: ...` / `Packet has been
 * truncated` / `Unknown layer`; or, with --hex, Go `hex.Dump` lines of the raw frame.
 * A dump is read line by line into a growing Packet.
 */

/** A dump read so far. */
export interface PacketDump {
  readonly packet: Packet;
  /** Depth of the last layer line (link 0, vlan 1, network 2, transport 3, app 4, trailer 9). */
  readonly rank: number;
  /** --hex: the bytes so far and the offset the next line must carry. */
  readonly hex?: readonly number[];
  readonly nextOffset?: number;
}

/** What one dump line does to the dump in progress. */
export type DumpStep =
  | { kind: 'continue'; dump: PacketDump }
  | { kind: 'start'; dump: PacketDump }
  | { kind: 'error'; reason: string };

const LAYER = /^(Ethernet|Dot1Q|ARP|IPv4|IPv6|TCP|UDP|SCTP|ICMPv4|ICMPv6|DNS)[ \t]+\{(.*)\}$/;
const TRAILER = /^ *(?:Failed to decode layer: .+|Packet has been truncated|Unknown layer)$/;
const HEX = /^([0-9a-f]{8})  [0-9a-f]{2} /;

const RANK: ReadonlyMap<string, number> = new Map([
  ['Ethernet', 0], ['Dot1Q', 1], ['ARP', 2], ['IPv4', 2], ['IPv6', 2], ['TCP', 3], ['UDP', 3],
  ['SCTP', 3], ['ICMPv4', 3], ['ICMPv6', 3], ['DNS', 4],
]);
const TRAILER_RANK = 9;

/** isDumpLine tells whether a line belongs to a -v packet dump (a cheap test; the read can still fail). */
export function isDumpLine(line: string): boolean {
  return LAYER.test(line) || TRAILER.test(line) || HEX.test(line);
}

/**
 * stepDump folds one dump line into `dump` (the dump in progress, if any). It says `start` when the
 * line cannot continue that dump (a layer no deeper than the last one, hex offset 0), so it begins
 * the dump of another record.
 */
export function stepDump(dump: PacketDump | undefined, line: string, decodeHex: (bytes: Uint8Array) => Packet): DumpStep {
  const layer = LAYER.exec(line);
  if (layer) {
    const rank = RANK.get(layer[1]) ?? TRAILER_RANK;
    const fresh = !dump || dump.hex !== undefined || rank <= dump.rank;
    const base = fresh ? {} : dump.packet;
    const packet = addLayer(base, layer[1], layer[2]);
    if (!packet) return { kind: 'error', reason: `${layer[1]} layer fields not understood` };
    return { kind: fresh ? 'start' : 'continue', dump: { packet, rank } };
  }
  if (TRAILER.test(line)) {
    if (dump && dump.hex === undefined) return { kind: 'continue', dump: { packet: dump.packet, rank: TRAILER_RANK } };
    return { kind: 'start', dump: { packet: {}, rank: TRAILER_RANK } };
  }
  const hex = HEX.exec(line);
  if (hex) {
    const bytes = hexBytes(line);
    if (!bytes) return { kind: 'error', reason: 'hex dump line not understood' };
    const offset = parseInt(hex[1], 16);
    const fresh = offset === 0;
    if (!fresh && (!dump || dump.nextOffset !== offset)) {
      return { kind: 'error', reason: `hex dump line at offset ${hex[1]} does not continue a dump` };
    }
    const all = fresh ? bytes : [...(dump?.hex ?? []), ...bytes];
    const packet = decodeHex(Uint8Array.from(all));
    return { kind: fresh ? 'start' : 'continue', dump: { packet, rank: TRAILER_RANK, hex: all, nextOffset: offset + bytes.length } };
  }
  return { kind: 'error', reason: 'not a packet dump line' };
}

/** Bytes of a Go hex.Dump line: `00000010  00 00 ... 3a ff  fe 80 ...  |....:..........E|`. */
function hexBytes(line: string): number[] | undefined {
  if (line.length < 62 || line.charCodeAt(60) !== 0x7c || !line.endsWith('|')) return undefined;
  const out: number[] = [];
  for (const tok of line.slice(10, 59).split(' ')) {
    if (tok === '') continue;
    if (!/^[0-9a-f]{2}$/.test(tok)) return undefined;
    out.push(parseInt(tok, 16));
  }
  return out.length > 0 && out.length <= 16 ? out : undefined;
}

/** A `Key=value` of a LayerString body; values have no spaces except in fields we do not read. */
function field(body: string, key: string): string | undefined {
  let start: number;
  if (body.startsWith(`${key}=`)) start = key.length + 1;
  else {
    const at = body.indexOf(` ${key}=`);
    if (at < 0) return undefined;
    start = at + key.length + 2;
  }
  const end = body.indexOf(' ', start);
  return end < 0 ? body.slice(start) : body.slice(start, end);
}

function num(body: string, key: string): number | undefined {
  const v = field(body, key);
  if (v === undefined) return undefined;
  // Ports print with their service name: `DstPort=80(http)`.
  const n = parseInt(v, 10);
  return Number.isNaN(n) ? undefined : n;
}

function bool(body: string, key: string): boolean {
  return field(body, key) === 'true';
}

const IP_PROTOCOLS: ReadonlyMap<string, string> = new Map([
  ['ICMPv4', 'icmp'], ['ICMPv6', 'icmp6'], ['TCP', 'tcp'], ['UDP', 'udp'], ['SCTP', 'sctp'],
  ['ESP', 'esp'], ['IPv4', 'ipip'], ['GRE', 'gre'],
]);

/** A copy of `p` with one more layer's fields (fields set one by one: conditional spreads are slow in V8). */
function addLayer(p: Packet, name: string, body: string): Packet | undefined {
  const out: Packet = Object.assign({}, p);
  switch (name) {
    case 'Ethernet': {
      const src = field(body, 'SrcMAC');
      const dst = field(body, 'DstMAC');
      if (!src || !dst) return undefined;
      const eth: EthernetInfo = { src: src.toLowerCase(), dst: dst.toLowerCase() };
      const type = field(body, 'EthernetType');
      if (type) eth.type = etherTypeName(type);
      out.eth = eth;
      return out;
    }
    case 'IPv4':
    case 'IPv6': {
      const src = field(body, 'SrcIP');
      const dst = field(body, 'DstIP');
      if (!src || !dst) return undefined;
      const v4 = name === 'IPv4';
      const ip: IpInfo = { version: v4 ? 4 : 6, src, dst };
      setNum(ip, 'ttl', body, v4 ? 'TTL' : 'HopLimit');
      if (v4) setNum(ip, 'id', body, 'Id');
      const protoName = field(body, v4 ? 'Protocol' : 'NextHeader');
      if (protoName) ip.proto = IP_PROTOCOLS.get(protoName) ?? protoName.toLowerCase();
      setNum(ip, 'length', body, 'Length');
      setNum(ip, 'tos', body, v4 ? 'TOS' : 'TrafficClass');
      const flags = v4 ? field(body, 'Flags') : undefined;
      if (flags) ip.flags = flags;
      out.ip = ip;
      return out;
    }
    case 'TCP': {
      const ack = bool(body, 'ACK');
      const bits =
        (bool(body, 'FIN') ? 0x01 : 0) | (bool(body, 'SYN') ? 0x02 : 0) | (bool(body, 'RST') ? 0x04 : 0) | (bool(body, 'PSH') ? 0x08 : 0) |
        (ack ? 0x10 : 0) | (bool(body, 'URG') ? 0x20 : 0) | (bool(body, 'ECE') ? 0x40 : 0) | (bool(body, 'CWR') ? 0x80 : 0);
      const l4: L4Info = { proto: 'tcp' };
      setNum(l4, 'srcPort', body, 'SrcPort');
      setNum(l4, 'dstPort', body, 'DstPort');
      if (bits !== 0) l4.tcpFlags = tcpFlagString(bits);
      setNum(l4, 'tcpSeq', body, 'Seq');
      if (ack) setNum(l4, 'tcpAck', body, 'Ack');
      setPayloadLength(l4, body);
      out.l4 = l4;
      return out;
    }
    case 'UDP':
    case 'SCTP': {
      const l4: L4Info = { proto: name === 'UDP' ? 'udp' : 'sctp' };
      setNum(l4, 'srcPort', body, 'SrcPort');
      setNum(l4, 'dstPort', body, 'DstPort');
      setPayloadLength(l4, body);
      out.l4 = l4;
      return out;
    }
    case 'ICMPv4':
    case 'ICMPv6': {
      const v4 = name === 'ICMPv4';
      const l4: L4Info = { proto: v4 ? 'icmp' : 'icmp6' };
      const typeCode = field(body, 'TypeCode');
      if (typeCode) l4.icmpType = icmpTypeName(typeCode);
      if (v4) {
        setNum(l4, 'icmpId', body, 'Id');
        setNum(l4, 'icmpSeq', body, 'Seq');
      }
      out.l4 = l4;
      return out;
    }
    default:
      // Dot1Q, ARP and DNS layers: recognised, their fields are not needed by the report.
      return out;
  }
}

type NumericKeys<T> = { [K in keyof T]-?: T[K] extends number | undefined ? K : never }[keyof T];

/** Sets target[key] from a `Key=123` field when the layer printed it. */
function setNum<T extends object>(target: T, key: NumericKeys<T>, body: string, name: string): void {
  const n = num(body, name);
  if (n !== undefined) (target as Record<string, unknown>)[key as string] = n;
}

/** `Payload=[..56..]` is 56 bytes, `Payload=[]` none. */
function setPayloadLength(l4: L4Info, body: string): void {
  const v = field(body, 'Payload');
  if (v === '[]') l4.payloadLength = 0;
  else if (v !== undefined && v.startsWith('[..') && v.endsWith('..]')) {
    const n = Number(v.slice(3, -3));
    if (Number.isInteger(n)) l4.payloadLength = n;
  }
}
