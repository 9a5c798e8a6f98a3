import type { Packet, Timestamp } from './packet.js';

/** The tools whose output we read. `pcap` is tcpdump -w output (binary), decoded by us. */
export type Tool =
  | 'tcpdump'
  | 'pcap'
  | 'monitor'
  | 'pwru'
  | 'iptables'
  | 'hubble'
  | 'endpoint'
  | 'status';

/** ProbeEvent: one thing one tool saw, normalised. Discriminated by `tool`. */
export type ProbeEvent = CaptureEvent | MonitorEvent | PwruEvent | IptablesEvent | HubbleEvent;

/** A packet seen by a capture (tcpdump text or a pcap record). */
export interface CaptureEvent {
  tool: 'tcpdump' | 'pcap';
  time?: Timestamp;
  /** Interface the capture ran on, when known (from `listening on`, SLL2, or the pcapng IDB). */
  iface?: string;
  packet: Packet;
  /** One-line human summary, as close to the tool's own words as possible. */
  summary: string;
  /** pcap only: the raw frame and its link type, for pcapng export. */
  frame?: Uint8Array;
  linkType?: number;
}

/** Cilium monitor observation points (pkg/monitor/api/types.go), plus legacy spellings normalised. */
export type MonitorObsPoint =
  | 'to-endpoint' | 'to-proxy' | 'to-host' | 'to-stack' | 'to-overlay' | 'to-network' | 'to-crypto'
  | 'from-endpoint' | 'from-proxy' | 'from-host' | 'from-stack' | 'from-overlay' | 'from-network' | 'from-crypto'
  | string;

/** One cilium monitor record (a trace, drop, policy verdict, debug line, L7 record, ...). */
export interface MonitorEvent {
  tool: 'monitor';
  /** What kind of monitor record this is. */
  type: 'trace' | 'drop' | 'policy-verdict' | 'debug' | 'capture' | 'l7' | 'trace-sock' | 'agent' | 'recorder';
  cpu?: number;
  mark?: string;
  /** The endpoint the event is about: `FROM n` in -v lines, `<- endpoint n` / `-> endpoint n` in traces. */
  endpoint?: number;
  /** Trace observation point. */
  obsPoint?: MonitorObsPoint;
  /** Drop reason text as printed ("Policy denied", "Invalid source ip", ...) and the numeric code when shown. */
  dropReason?: string;
  dropCode?: number;
  /** `file bpf_lxc.c:N` (newer agents) or the source line when printed. */
  dropFile?: string;
  dropLine?: number;
  /** Policy verdict: allowed | denied | audit | redirected, and the match type (L3-Only, L3-L4, all, ...). */
  verdict?: string;
  policyMatch?: string;
  policyDirection?: 'ingress' | 'egress';
  /** Security identities src->dst. */
  srcIdentity?: number;
  dstIdentity?: number;
  /** Conntrack state (new, established, reply, related) from trace lines or `CT verdict:`. */
  ctState?: string;
  /** The interface named in the trace line (`interface lxcXYZ`, `ifindex lxcXYZ`, `ifindex 17`). */
  iface?: string;
  ifindex?: number;
  origIp?: string;
  /** DEBUG line classification (ct-lookup, ct-verdict, ct-create, identity-mapped, local-delivery, ...). */
  debugKind?: string;
  /** `Attempting local delivery for container id N`: the destination endpoint. */
  deliveryTo?: number;
  /** `Successfully mapped addr=A to identity=N`. */
  mappedAddr?: string;
  mappedIdentity?: number;
  /** Bytes as printed (`98 bytes`). */
  bytes?: number;
  packet?: Packet;
  /**
   * Identity names as printed (`host`, `world`, `remote-node`, `ingress`, ...) when the agent
   * named a reserved identity; srcIdentity/dstIdentity then hold its number.
   */
  srcIdentityName?: string;
  dstIdentityName?: string;
  /** `to endpoint N` of -v traces and drops, the endpoint the packet is handed to. */
  dstEndpoint?: number;
  /** The extended error newer agents print after a drop reason (`Policy denied, -13`). */
  dropExtError?: number;
  /** Policy verdict `auth: <type>` (agents with mutual authentication). */
  policyAuth?: string;
  /**
   * Where the -v packet dump (gopacket layers or --hex bytes) stood: printed `before` its record
   * line (agents that buffered the record line but printed the dump directly) or `after` it.
   */
  dumpPosition?: 'before' | 'after';
  /** trace-sock: the socket-LB translation point and the socket's destination there. */
  sock?: MonitorSockTrace;
  /** L7 access-log record (`-> Request http from ...`). */
  l7?: MonitorL7Record;
  /** Agent notification kind (`Endpoint regenerated`, `Policy updated`, ...). */
  agentKind?: string;
  /** Other `name=value` details the record printed (DEBUG arguments, recorder fields), verbatim. */
  extraFields?: Record<string, string>;
  summary: string;
}

/** trace-sock record: `[pre-xlate-fwd] cgroup_id: N sock_cookie: N, dst [IP]:PORT tcp`. */
export interface MonitorSockTrace {
  xlatePoint: string;
  /** cgroup id and socket cookie are 64-bit: kept as decimal strings. */
  cgroupId: string;
  cookie: string;
  dstIp: string;
  dstPort: number;
  proto: string;
}

/** L7 access-log record as monitor prints it. Endpoint ids are the agent's; 0 means not local. */
export interface MonitorL7Record {
  kind: 'request' | 'response';
  /** http, dns, kafka, or the proxy's own protocol name. */
  proto: string;
  /** The requester and the responder, also for responses. */
  srcEndpoint: number;
  dstEndpoint: number;
  srcLabels: string[];
  dstLabels: string[];
  /** What follows the verdict: `GET http://... => 200`, `DNS Query: cilium.io. A`, ... */
  detail?: string;
}

/** One pwru event: one kernel function seen for one skb. */
export interface PwruEvent {
  tool: 'pwru';
  /** skb address as printed (0xffff...), the key that links one skb's events. */
  skb: string;
  func: string;
  /** Caller function with --output-caller. */
  caller?: string;
  cpu?: number;
  process?: string;
  pid?: number;
  time?: Timestamp;
  netns?: number;
  mark?: number;
  iface?: string;
  ifindex?: number;
  proto?: string; // ethertype as printed, 0x0800
  mtu?: number;
  len?: number;
  packet?: Packet;
  /** Drop reason with kfree_skb_reason / sk_skb_reason_drop (e.g. SKB_DROP_REASON_NO_SOCKET). */
  dropReason?: string;
  /** --output-stack: the frames below this event, innermost first. */
  stack?: string[];
  /** --output-skb: the struct dump, verbatim. */
  skbDump?: string;
  /** --output-skb-shared-info: the struct skb_shared_info dump, verbatim. */
  shinfoDump?: string;
  /**
   * --timestamp=absolute: the TIME column, stamped by pwru in userspace when it printed the event
   * (later than the kernel saw it). `time` keeps the kernel's TIMESTAMP when the line has both.
   */
  printedAt?: Timestamp;
  /** Drop reason as a number when pwru could not name it (`kfree_skb_reason (5)`). */
  dropCode?: number;
  /** --output-netns-names: the name of the netns under /run/netns. */
  netnsName?: string;
  /** --output-skb-cb / --filter-trace-tc: the five __sk_buff->cb[] words. */
  cb?: number[];
  /** Other `name=value` fields pwru printed (--output-skb-metadata, `pkt_type=` of old builds), verbatim. */
  extraFields?: Record<string, string>;
  summary: string;
}

/** One iptables/nftables trace record (kernel log TRACE:, xtables-monitor --trace, nft monitor trace). */
export interface IptablesEvent {
  tool: 'iptables';
  table?: string;
  chain?: string;
  /** `rule`, `policy`, `return` (kernel TRACE: `raw:PREROUTING:rule:2`). */
  kind?: string;
  ruleNum?: number;
  /** Rule text when the source prints it (xtables-monitor, nft). */
  rule?: string;
  /**
   * Verdict in nft's words, lower case: accept, drop, continue, return, `jump CHAIN`, `goto CHAIN`.
   * The kernel log's TRACE lines print none.
   */
  verdict?: string;
  /** Trace id (xtables-monitor, nft monitor trace): links a packet line to its rule/policy/return lines. */
  traceId?: string;
  /** nftables rule handle (xtables-monitor `rule:0x4`, nft `unknown rule handle 4`); not a rule position like ruleNum. */
  ruleHandle?: number;
  /** Table family as the tool names it: ip, ip6, inet, arp, bridge, netdev (nft and xtables-monitor only). */
  family?: string;
  inIface?: string;
  outIface?: string;
  time?: Timestamp;
  packet?: Packet;
  summary: string;
}

/**
 * One Hubble flow (`hubble observe` text or JSON, the Hubble exporter's JSON): an event of the
 * node's Cilium datapath as the agent's Hubble observer decoded it, with its own timestamp.
 */
export interface HubbleEvent {
  tool: 'hubble';
  /** JSON: the flow's time (wall clock of the node). Text: the time of day as printed (UTC, Go's AsTime). */
  time?: Timestamp;
  /** Text times carry month and day (`Mar 14`) but no year: kept as printed. */
  date?: string;
  /** The node that observed the flow (`node_name`, `--print-node-name`), cluster prefix removed. */
  node?: string;
  /** The Cilium event the flow comes from (event_type: trace 4, drop 1, policy verdict 5, trace-sock 7, L7 129). */
  kind: 'trace' | 'drop' | 'policy-verdict' | 'trace-sock' | 'l7' | 'capture' | 'unknown';
  obsPoint?: MonitorObsPoint;
  /** FORWARDED, DROPPED, ERROR, AUDIT, REDIRECTED, TRACED, TRANSLATED; text policy verdicts print ALLOWED, DENIED, AUDITED. */
  verdict: string;
  /** Drop reason in monitor's words (`Policy denied`), and the proto's name (`POLICY_DENIED`) when JSON gave it. */
  dropReason?: string;
  dropReasonDesc?: string;
  dropCode?: number;
  /** Policy verdict: match type (`L3-Only`, `none`, ...) and direction. */
  policyMatch?: string;
  direction?: 'ingress' | 'egress';
  /** trace-sock: pre-xlate-fwd, post-xlate-fwd, pre-xlate-rev, post-xlate-rev. */
  xlatePoint?: string;
  /** is_reply; undefined when Hubble did not know (`<>`). */
  isReply?: boolean;
  /** trace_reason in lower case: new, established, reply, related, reopened. */
  ctState?: string;
  src: HubbleEndpoint;
  dst: HubbleEndpoint;
  iface?: string;
  ifindex?: number;
  /** trace_context.parent.trace_id (W3C trace id) and the IP option trace id (`IP Trace ID: N;`). */
  traceId?: string;
  ipTraceId?: string;
  /** The SUMMARY column (`TCP Flags: SYN`, `ICMPv4 EchoRequest`, an L7 line), without the trace-id prefix. */
  summary: string;
  /** What the flow shows of the packet: `ip` only when Hubble printed both addresses. */
  packet?: Packet;
}

/** One end of a Hubble flow: the address or the name Hubble printed for it, and what it knows of it. */
export interface HubbleEndpoint {
  ip?: string;
  port?: number;
  /** `namespace/pod`, `namespace/service` or DNS names, as Hubble printed them instead of the address. */
  name?: string;
  /** Security identity and, for reserved identities, its name (`world`, `host`, `remote-node`). */
  identity?: number;
  identityName?: string;
  /** Cilium endpoint id (JSON `ID`): set for endpoints local to the observing node. */
  endpointId?: number;
  namespace?: string;
  pod?: string;
  /** JSON source_service / destination_service `namespace/name`. */
  service?: string;
  /** JSON `labels`: the identity's labels, `source:key=value` (what policy selectors match). */
  labels?: string[];
}
