/**
 * What `cilium monitor` prints about a captured packet, for the bytes the lab's datapath
 * captured: the one-line connection summary (GetConnectionSummary) and, with -vv, gopacket's
 * LayerString of each decoded layer (Ethernet, IPv4, ICMPv4, TCP, UDP) followed by the
 * decoder's complaint about the layer it cannot decode. Formats follow cilium's
 * pkg/monitor/dissect.go and gopacket's layers package.
 */

interface Eth {
  src: string;
  dst: string;
  type: number;
}
interface Ip4 {
  ihl: number;
  tos: number;
  length: number;
  id: number;
  flags: number;
  fragOffset: number;
  ttl: number;
  protocol: number;
  checksum: number;
  src: string;
  dst: string;
}

/** A decoded packet: the layers gopacket's DecodingLayerParser would produce. */
export interface Decoded {
  data: Uint8Array;
  eth?: Eth;
  ip?: Ip4;
  icmp?: { type: number; code: number; checksum: number; id: number; seq: number; payload: number };
  tcp?: { sport: number; dport: number; seq: number; ack: number; dataOffset: number; flags: number; window: number; checksum: number; urgent: number; options: Uint8Array; payload: number };
  udp?: { sport: number; dport: number; length: number; checksum: number; payload: number };
  /** Bytes after the last decoded layer (gopacket's Payload). */
  ethPayload: number;
  ipPayload: number;
}

const mac = (b: Uint8Array, o: number): string => [...b.subarray(o, o + 6)].map((x) => x.toString(16).padStart(2, '0')).join(':');
const ip4 = (b: Uint8Array, o: number): string => `${b[o]}.${b[o + 1]}.${b[o + 2]}.${b[o + 3]}`;
const u16 = (b: Uint8Array, o: number): number => (b[o] << 8) | b[o + 1];
const u32 = (b: Uint8Array, o: number): number => ((b[o] << 24) >>> 0) + (b[o + 1] << 16) + (b[o + 2] << 8) + b[o + 3];

/** Decodes Ethernet/IPv4/L4 from captured bytes (truncated captures decode as far as they go). */
export function decode(data: Uint8Array): Decoded {
  const d: Decoded = { data, ethPayload: Math.max(0, data.length - 14), ipPayload: 0 };
  if (data.length < 14) return d;
  d.eth = { dst: mac(data, 0), src: mac(data, 6), type: u16(data, 12) };
  if (d.eth.type !== 0x0800 || data.length < 34) return d;
  const ihl = data[14] & 0xf;
  const length = u16(data, 16);
  const fl = u16(data, 20);
  d.ip = {
    ihl, tos: data[15], length, id: u16(data, 18), flags: fl >> 13, fragOffset: fl & 0x1fff, ttl: data[22],
    protocol: data[23], checksum: u16(data, 24), src: ip4(data, 26), dst: ip4(data, 30),
  };
  const l4 = 14 + ihl * 4;
  const end = Math.min(data.length, 14 + length);
  d.ipPayload = Math.max(0, end - l4);
  if (d.ip.protocol === 1 && end - l4 >= 8) {
    d.icmp = { type: data[l4], code: data[l4 + 1], checksum: u16(data, l4 + 2), id: u16(data, l4 + 4), seq: u16(data, l4 + 6), payload: end - l4 - 8 };
  } else if (d.ip.protocol === 17 && end - l4 >= 8) {
    d.udp = { sport: u16(data, l4), dport: u16(data, l4 + 2), length: u16(data, l4 + 4), checksum: u16(data, l4 + 6), payload: end - l4 - 8 };
  } else if (d.ip.protocol === 6 && end - l4 >= 20) {
    const dataOffset = data[l4 + 12] >> 4;
    d.tcp = {
      sport: u16(data, l4), dport: u16(data, l4 + 2), seq: u32(data, l4 + 4), ack: u32(data, l4 + 8), dataOffset,
      flags: ((data[l4 + 12] & 1) << 8) | data[l4 + 13], window: u16(data, l4 + 14), checksum: u16(data, l4 + 16), urgent: u16(data, l4 + 18),
      options: data.subarray(l4 + 20, Math.min(end, l4 + dataOffset * 4)), payload: Math.max(0, end - l4 - dataOffset * 4),
    };
  }
  return d;
}

const ICMP_TYPES: Record<number, string> = {
  0: 'EchoReply', 3: 'DestinationUnreachable', 4: 'SourceQuench', 5: 'Redirect', 8: 'EchoRequest', 9: 'RouterAdvertisement',
  10: 'RouterSolicitation', 11: 'TimeExceeded', 12: 'ParameterProblem', 13: 'TimestampRequest', 14: 'TimestampReply',
};
const ICMP_CODES: Record<number, Record<number, string>> = {
  3: { 0: 'Net', 1: 'Host', 2: 'Protocol', 3: 'Port', 4: 'FragmentationNeeded', 5: 'SourceRoutingFailed', 13: 'CommAdminProhibited' },
  11: { 0: 'TTLExceeded', 1: 'FragmentReassemblyTimeExceeded' },
};

/** gopacket's ICMPv4TypeCode.String(). */
export function icmpTypeCode(type: number, code: number): string {
  const t = ICMP_TYPES[type];
  if (t === undefined) return `${type}(${code})`;
  const codes = ICMP_CODES[type];
  if (codes === undefined) return t;
  return `${t}(${codes[code] ?? `Code: ${code}`})`;
}

/** TCP flags as cilium's getTCPInfo lists them. */
function tcpInfo(flags: number): string {
  const names: string[] = [];
  if (flags & 0x02) names.push('SYN');
  if (flags & 0x10) names.push('ACK');
  if (flags & 0x04) names.push('RST');
  if (flags & 0x01) names.push('FIN');
  return names.join(', ');
}

const ETHER_TYPES: Record<number, string> = { 0x0800: 'IPv4', 0x0806: 'ARP', 0x86dd: 'IPv6', 0x8100: 'Dot1Q' };

/** cilium's GetConnectionSummary: "src -> dst EchoRequest", "a:p -> b:q tcp SYN", ... */
export function connectionSummary(d: Decoded): string {
  if (d.ip && d.icmp) return `${d.ip.src} -> ${d.ip.dst} ${icmpTypeCode(d.icmp.type, d.icmp.code)}`;
  if (d.ip && d.tcp) return `${d.ip.src}:${d.tcp.sport} -> ${d.ip.dst}:${d.tcp.dport} tcp ${tcpInfo(d.tcp.flags)}`;
  if (d.ip && d.udp) return `${d.ip.src}:${d.udp.sport} -> ${d.ip.dst}:${d.udp.dport} udp`;
  if (d.ip) return `${d.ip.src} -> ${d.ip.dst}`;
  if (d.eth) return `${d.eth.src} -> ${d.eth.dst} ${ETHER_TYPES[d.eth.type] ?? `UnknownEthernetType(${d.eth.type})`}`;
  return '[unknown]';
}

const IP_PROTOCOLS: Record<number, string> = { 1: 'ICMPv4', 6: 'TCP', 17: 'UDP', 47: 'GRE', 50: 'ESP', 58: 'ICMPv6' };

function ipFlags(flags: number): string {
  const s: string[] = [];
  if (flags & 4) s.push('Evil');
  if (flags & 2) s.push('DF');
  if (flags & 1) s.push('MF');
  return s.join('|');
}

/** gopacket port names (layers/ports.go) for the ports the lab's traffic uses. */
const TCP_PORTS: Record<number, string> = { 22: 'ssh', 53: 'domain', 80: 'http', 443: 'https', 8080: 'http-alt' };
const UDP_PORTS: Record<number, string> = { 53: 'domain', 67: 'bootps', 68: 'bootpc', 123: 'ntp', 4789: 'vxlan', 6081: 'geneve' };
const port = (p: number, names: Record<number, string>): string => (names[p] ? `${p}(${names[p]})` : String(p));

function tcpOptions(opts: Uint8Array): string {
  const out: string[] = [];
  const names: Record<number, string> = { 0: 'EndList', 1: 'NOP', 2: 'MSS', 3: 'WindowScale', 4: 'SACKPermitted', 5: 'SACK', 8: 'Timestamps' };
  for (let i = 0; i < opts.length; ) {
    const kind = opts[i];
    const len = kind <= 1 ? 1 : Math.max(2, opts[i + 1] ?? 2);
    const body = opts.subarray(i + 2, i + len);
    const name = names[kind] ?? `Unknown(${kind})`;
    let value = '';
    if (kind === 2 && body.length === 2) value = `${u16(body, 0)} `;
    else if (kind === 3 && body.length === 1) value = `${body[0]} `;
    else if (kind === 8 && body.length === 8) value = `${u32(body, 0)}/${u32(body, 4)} `;
    const hex = kind <= 1 ? '' : `0x${[...body].map((x) => x.toString(16).padStart(2, '0')).join('')}`;
    out.push(`TCPOption(${name}:${value}${hex})`);
    i += len;
  }
  return out.join(', ');
}

/**
 * cilium's Dissect(true, data): one gopacket LayerString per decoded layer, then the error
 * gopacket's DecodingLayerParser returns for the first layer it has no decoder for.
 */
export function dissectLines(d: Decoded): string[] {
  const lines: string[] = [];
  if (!d.eth) return lines;
  const ethType = ETHER_TYPES[d.eth.type] ?? `UnknownEthernetType(${d.eth.type})`;
  lines.push(`Ethernet\t{Contents=[..14..] Payload=[..${d.ethPayload}..] SrcMAC=${d.eth.src} DstMAC=${d.eth.dst} EthernetType=${ethType} Length=0}`);
  if (!d.ip) {
    lines.push(`  Failed to decode layer: No decoder for layer type ${d.eth.type === 0x0806 ? 'ARP' : ethType}`);
    return lines;
  }
  const ip = d.ip;
  lines.push(
    `IPv4\t{Contents=[..${ip.ihl * 4}..] Payload=[..${d.ipPayload}..] Version=4 IHL=${ip.ihl} TOS=${ip.tos} Length=${ip.length} Id=${ip.id} Flags=${ipFlags(ip.flags)} FragOffset=${ip.fragOffset} TTL=${ip.ttl} Protocol=${IP_PROTOCOLS[ip.protocol] ?? `UnknownIPProtocol(${ip.protocol})`} Checksum=${ip.checksum} SrcIP=${ip.src} DstIP=${ip.dst} Options=[] Padding=[]}`,
  );
  if (d.icmp) {
    const c = d.icmp;
    lines.push(`ICMPv4\t{Contents=[..8..] Payload=[..${c.payload}..] TypeCode=${icmpTypeCode(c.type, c.code)} Checksum=${c.checksum} Id=${c.id} Seq=${c.seq}}`);
    lines.push('  Failed to decode layer: No decoder for layer type Payload');
  } else if (d.udp) {
    const u = d.udp;
    lines.push(`UDP\t{Contents=[..8..] Payload=[..${u.payload}..] SrcPort=${port(u.sport, UDP_PORTS)} DstPort=${port(u.dport, UDP_PORTS)} Length=${u.length} Checksum=${u.checksum}}`);
    if (u.payload > 0) lines.push(`  Failed to decode layer: No decoder for layer type ${u.dport === 53 || u.sport === 53 ? 'DNS' : 'Payload'}`);
  } else if (d.tcp) {
    const t = d.tcp;
    const f = (bit: number): string => String((t.flags & bit) !== 0);
    lines.push(
      `TCP\t{Contents=[..${t.dataOffset * 4}..] Payload=[..${t.payload}..] SrcPort=${port(t.sport, TCP_PORTS)} DstPort=${port(t.dport, TCP_PORTS)} Seq=${t.seq} Ack=${t.ack} DataOffset=${t.dataOffset} FIN=${f(0x01)} SYN=${f(0x02)} RST=${f(0x04)} PSH=${f(0x08)} ACK=${f(0x10)} URG=${f(0x20)} ECE=${f(0x40)} CWR=${f(0x80)} NS=${f(0x100)} Window=${t.window} Checksum=${t.checksum} Urgent=${t.urgent} Options=[${tcpOptions(t.options)}] Padding=[]}`,
    );
    if (t.payload > 0) lines.push('  Failed to decode layer: No decoder for layer type Payload');
  } else {
    lines.push(`  Failed to decode layer: No decoder for layer type ${IP_PROTOCOLS[ip.protocol] ?? 'Payload'}`);
  }
  return lines;
}

/** cilium's DissectSummary, the `summary` object of `monitor -j` (keys in the Go struct's order). */
export function dissectSummary(d: Decoded): Record<string, unknown> {
  const layers = dissectLines(d).filter((l) => !l.startsWith('  '));
  const s: Record<string, unknown> = {};
  if (d.eth) s.ethernet = layers[0];
  if (d.ip) s.ipv4 = layers[1];
  if (d.tcp) s.tcp = layers[2];
  if (d.udp) s.udp = layers[2];
  if (d.icmp) s.icmpv4 = layers[2];
  if (d.eth) s.l2 = { src: d.eth.src, dst: d.eth.dst };
  if (d.ip) s.l3 = { src: d.ip.src, dst: d.ip.dst };
  if (d.tcp) s.l4 = { src: String(d.tcp.sport), dst: String(d.tcp.dport) };
  if (d.udp) s.l4 = { src: String(d.udp.sport), dst: String(d.udp.dport) };
  return s;
}
