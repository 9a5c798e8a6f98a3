/**
 * One skb seen by lab-skbtrace at a kernel tracepoint (test/lab/kernel/bpf/skbtrace.h), and the
 * packet facts pwru prints and filters on: the L3/L4 tuple read from the network header.
 */

/** Tracepoints skbtrace attaches to (enum skb_kind). */
export const SKB = { NETIF_RX: 1, NETIF_RECEIVE: 2, DEV_QUEUE: 3, DEV_START_XMIT: 4, DEV_XMIT: 5, KFREE: 6, CONSUME: 7, COPY_DATAGRAM: 8, FIB_LOOKUP: 9 } as const;

export interface SkbEvent {
  ts: number;
  skb: string;
  kind: number;
  arg: number;
  cpu: number;
  pid: number;
  comm: string;
  /** The task's executable when skbtrace could read it. */
  exe?: string;
  netns: number;
  ifindex: number;
  ifname: string;
  mtu: number;
  len: number;
  mark: number;
  /** skb->protocol in host order (0x0800 for IPv4). */
  proto: number;
  /** Bytes from the network header, hex. */
  l3: string;
}

/** The L3/L4 facts of a packet as pwru's tuple shows them. */
export interface Tuple {
  /** 0x0800 for IPv4, 0 when the skb carries no IPv4 header. */
  l3proto: number;
  saddr: string;
  daddr: string;
  sport: number;
  dport: number;
  /** IP protocol number (1 icmp, 6 tcp, 17 udp). */
  proto: number;
  /** ICMP type, when ICMP. */
  icmpType?: number;
}

const NO_TUPLE: Tuple = { l3proto: 0, saddr: '', daddr: '', sport: 0, dport: 0, proto: 0 };

/** The tuple of an skb event: IPv4 only, ports for TCP/UDP (pwru prints 0 ports for ICMP). */
export function tupleOf(e: SkbEvent): Tuple {
  const b = Buffer.from(e.l3, 'hex');
  if (b.length < 20 || b[0] >> 4 !== 4) return NO_TUPLE;
  const ihl = (b[0] & 0xf) * 4;
  const ip = (o: number): string => `${b[o]}.${b[o + 1]}.${b[o + 2]}.${b[o + 3]}`;
  const t: Tuple = { l3proto: 0x0800, saddr: ip(12), daddr: ip(16), sport: 0, dport: 0, proto: b[9] };
  if ((t.proto === 6 || t.proto === 17) && b.length >= ihl + 4) {
    t.sport = b.readUInt16BE(ihl);
    t.dport = b.readUInt16BE(ihl + 2);
  } else if (t.proto === 1 && b.length > ihl) {
    t.icmpType = b[ihl];
  }
  return t;
}

/** Parses one line of lab-skbtrace's output (undefined for its meta lines). */
export function parseSkbLine(line: string): SkbEvent | undefined {
  if (!line.startsWith('{"ts"')) return undefined;
  try {
    return JSON.parse(line) as SkbEvent;
  } catch {
    return undefined;
  }
}
