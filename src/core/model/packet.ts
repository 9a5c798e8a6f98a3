/**
 * Packet: what one observation says about one packet, as far as the tool shows it.
 * tcpdump text, the pcap decoder, cilium monitor and pwru all fill the same shape, so the
 * correlator can compare them field by field. Every field is optional: a tool that does not
 * print a field leaves it undefined (never 0 or "").
 */
export interface Packet {
  /** Link layer, when the capture shows it (tcpdump -e, pcap Ethernet, monitor Ethernet layer). */
  eth?: EthernetInfo;
  /** `-i any` (Linux cooked SLL/SLL2): direction and, for SLL2, the interface name. */
  cooked?: CookedInfo;
  /** ARP instead of IP. */
  arp?: ArpInfo;
  ip?: IpInfo;
  l4?: L4Info;
  /**
   * Encapsulation carried by this packet (VXLAN, Geneve, IPIP, ESP). When present, `ip`/`l4`
   * describe the OUTER packet and `inner` the encapsulated one (if the tool decoded it).
   */
  encap?: EncapInfo;
  inner?: Packet;
  /** Total length as the tool printed it (frame length for captures, IP length otherwise). */
  length?: number;
  /**
   * A checksum the tool found wrong, in its words (tcpdump -v: `tcp cksum 0x5c1d (incorrect -> 0x6d81)`,
   * `ip bad cksum 4b31 (->4a31)!`, `bad udp cksum 0x1a2b -> 0x3c4d!`).
   */
  badChecksum?: string;
}

export interface EthernetInfo {
  src: string; // lower-case aa:bb:cc:dd:ee:ff
  dst: string;
  /** 802.1Q / 802.1ad tags, outermost first. */
  vlans?: number[];
  /** Ethertype name: ipv4, ipv6, arp, vlan, qinq, or 0xNNNN. */
  type?: string;
}

export interface CookedInfo {
  /** SLL packet type: In (to us), Out (sent by us), B (broadcast), M (multicast), P (other host). */
  direction: 'In' | 'Out' | 'B' | 'M' | 'P' | string;
  ifname?: string;
  /** SLL2 interface index (tcpdump -e prints `ifindex N`). */
  ifindex?: number;
  /** Link-layer source address: SLL carries only the sender's MAC, so it cannot fill `eth`. */
  src?: string;
  /** Protocol type as in EthernetInfo.type (ipv4, ipv6, arp, ...). */
  type?: string;
}

export interface ArpInfo {
  op: 'request' | 'reply' | string;
  /** For a request: the address asked for; for a reply: the address answered. */
  targetIp?: string;
  senderIp?: string;
  /** For a reply: the MAC it is at. */
  mac?: string;
}

export interface IpInfo {
  version: 4 | 6;
  src: string;
  dst: string;
  ttl?: number; // IPv4 TTL or IPv6 hop limit
  id?: number; // IPv4 identification
  /** Protocol name: icmp, icmp6, tcp, udp, esp, ipip, gre, sctp or the number as a string. */
  proto?: string;
  /** IP total length (v4) or payload length (v6), as printed/decoded. */
  length?: number;
  tos?: number;
  flags?: string; // DF, MF
}

export interface L4Info {
  proto: 'icmp' | 'icmp6' | 'tcp' | 'udp' | 'sctp' | string;
  srcPort?: number;
  dstPort?: number;
  /** ICMP: echo-request, echo-reply, unreachable, time-exceeded, neighbor-solicitation, ... */
  icmpType?: string;
  icmpId?: number;
  icmpSeq?: number;
  /** TCP flags in tcpdump's notation: S, S., ., P., F., R, ... */
  tcpFlags?: string;
  tcpSeq?: number;
  tcpAck?: number;
  /** Application summary when a tool decodes it (DNS query, HTTP request line). */
  app?: string;
  payloadLength?: number;
}

export interface EncapInfo {
  kind: 'vxlan' | 'geneve' | 'ipip' | 'esp' | 'gre' | 'wireguard' | string;
  vni?: number;
  spi?: number;
}

/** Timestamp of an observation: which clock it comes from decides how it may be compared. */
export interface Timestamp {
  /**
   * wall: microseconds since the Unix epoch (pcap, tcpdump -tt, pwru --timestamp=current).
   * time-of-day: microseconds since local midnight (tcpdump's default HH:MM:SS.ffffff).
   * monotonic: microseconds of the node's monotonic clock (pwru's TIMESTAMP column).
   * relative: microseconds since the tool's first event (pwru --timestamp=relative).
   */
  clock: 'wall' | 'time-of-day' | 'monotonic' | 'relative';
  us: number;
}
