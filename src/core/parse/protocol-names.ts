/**
 * Protocol numbers as the model names them (Packet: `echo-request`, `ipv4`, `icmp6`, tcpdump's TCP
 * flag letters), for parsers that read numbers: kernel nf_log lines, xtables-monitor, nft.
 */

const ICMP4_TYPES: Record<number, string> = {
  0: 'echo-reply', 3: 'unreachable', 4: 'source-quench', 5: 'redirect', 8: 'echo-request',
  11: 'time-exceeded', 12: 'parameter-problem', 13: 'timestamp-request', 14: 'timestamp-reply',
};
const ICMP6_TYPES: Record<number, string> = {
  1: 'unreachable', 2: 'packet-too-big', 3: 'time-exceeded', 4: 'parameter-problem', 128: 'echo-request',
  129: 'echo-reply', 130: 'multicast-listener-query', 131: 'multicast-listener-report', 132: 'multicast-listener-done',
  133: 'router-solicitation', 134: 'router-advertisement', 135: 'neighbor-solicitation',
  136: 'neighbor-advertisement', 137: 'redirect', 143: 'multicast-listener-report-v2',
};

/** icmpTypeName: an ICMP / ICMPv6 type number in the model's words, or the number as a string. */
export function icmpTypeName(proto: 'icmp' | 'icmp6', type: number): string {
  return (proto === 'icmp' ? ICMP4_TYPES[type] : ICMP6_TYPES[type]) ?? String(type);
}

const ETHER_TYPES: Record<string, string> = { '0800': 'ipv4', '86dd': 'ipv6', '0806': 'arp', '8100': 'vlan', '88a8': 'qinq' };

/** etherTypeName: an ethertype in hex (`0800`, `86DD`) as the model names it, else `0xNNNN`. */
export function etherTypeName(hex: string): string {
  const known = ETHER_TYPES[hex];
  if (known !== undefined) return known;
  const key = hex.toLowerCase().padStart(4, '0');
  return ETHER_TYPES[key] ?? `0x${key}`;
}

const IP_PROTOS: Record<number, string> = { 1: 'icmp', 4: 'ipip', 6: 'tcp', 17: 'udp', 41: 'ipv6', 47: 'gre', 50: 'esp', 58: 'icmp6', 132: 'sctp' };

/** ipProtoName: an IP protocol number as the model names it, or the number as a string. */
export function ipProtoName(proto: number): string {
  return IP_PROTOS[proto] ?? String(proto);
}

/** tcpFlagString: TCP flag bits in tcpdump's letters and order (print-tcp.c tcp_flag_values: F S R P . U E W), `none` for 0. */
export function tcpFlagString(bits: number): string {
  if (bits === 0) return 'none';
  let s = '';
  if (bits & 0x01) s += 'F';
  if (bits & 0x02) s += 'S';
  if (bits & 0x04) s += 'R';
  if (bits & 0x08) s += 'P';
  if (bits & 0x10) s += '.';
  if (bits & 0x20) s += 'U';
  if (bits & 0x40) s += 'E';
  if (bits & 0x80) s += 'W';
  return s;
}
