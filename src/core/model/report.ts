/**
 * HopReport: the product. A stable contract (schemaVersion 1): fields may be added, none renamed
 * or removed. Renderers (table, wide, json, yaml, mermaid) only read it.
 */
export interface HopReport {
  schemaVersion: 1;
  inputs: ReportInput[];
  endpoints: ReportEndpoint[];
  flows: ReportFlow[];
  warnings: string[];
  /** What the agents' status inputs say about the datapath; absent when no status input said anything. */
  cluster?: ReportCluster;
}

/** The datapath settings a `cilium status` states; a field is absent when no status input states it. */
export interface ReportCluster {
  ciliumVersion?: string;
  /** Inter-node routing (`Routing: Network: Tunnel|Native`, agents 1.16+). */
  routingMode?: 'tunnel' | 'native';
  /** vxlan or geneve, when routing is tunnel. */
  tunnelProtocol?: string;
  /** Strict|Probe|Partial|Disabled (before 1.14), True|False (1.14+). */
  kubeProxyReplacement?: string;
  /** BPF (bpf_redirect_peer/neigh) or Legacy (local delivery by bpf_redirect, the rest through the stack). */
  hostRouting?: 'BPF' | 'Legacy';
  masquerading?: string;
  /** The status inputs these come from (`file on node`). */
  sources: string[];
}

/** One observed stream: a file given to `analyze`, or one probe of a live trace. */
export interface ReportInput {
  name: string;
  tool: string;
  /** Point id (`pod:ns/pod/if`, `host:node/if`, `cilium:node/ep`, `kernel:node`, `iptables:node`) or '' when unknown. */
  point: string;
  node: string;
  /** Non-empty lines (text) or records (pcap). */
  lines: number;
  understood: number;
  notUnderstood: number;
  /** ok | empty | failed: <reason> | partial: <reason> | unknown-format | skipped: <reason> */
  status: string;
  /** A few of the lines not understood, with line numbers and reasons, so a user can see what was skipped. */
  notUnderstoodSamples?: { line: number; text: string; reason: string }[];
}

export interface ReportEndpoint {
  /** `namespace/name` when known. */
  pod: string;
  node: string;
  id: number | null;
  identity: number | null;
  ips: string[];
  /** Host-side veth (lxc...). */
  interface: string | null;
  ifindex: number | null;
  mac?: string | null;
  hostMac?: string | null;
  /** What of this endpoint was inferred from captures (no endpoint data said it), each with its evidence; absent when nothing was. */
  inferred?: string[];
  /** The endpoint's Debug option, when its agent showed it: off, `cilium monitor -v` prints no DEBUG lines for it. */
  datapathDebug?: boolean;
}

/**
 * How the packet travelled, step by step. redirect-peer: bpf_redirect_peer() into the pod's netns
 * (BPF host routing); redirect: bpf_redirect() to the destination lxc (Cilium's local delivery
 * without BPF host routing); redirect-neigh: bpf_redirect_neigh() to the underlay; host-stack:
 * routed by the node's network stack (ip_forward, netfilter FORWARD, a route lookup).
 */
export type PathStep = 'redirect-peer' | 'redirect' | 'redirect-neigh' | 'host-stack' | 'overlay' | 'native-routing' | 'unknown';
export type Verdict = 'delivered' | 'dropped' | 'lost' | 'unknown';
/**
 * What became of a packet, or of a flow's packets: delivered to the destination; refused by the
 * destination host (a SYN answered by RST, ICMP port unreachable, no socket); dropped (with
 * reason and point); lost (never reached a watching destination and no tool reported a drop);
 * unknown (nothing watched the destination).
 */
export type Outcome = 'delivered' | 'refused' | 'dropped' | 'lost' | 'unknown';

export interface ReportFlow {
  /** Address with the pod in parentheses when known: `10.0.1.135 (default/same)`. */
  src: string;
  dst: string;
  srcIp: string;
  dstIp: string;
  protocol: string;
  direction: 'request' | 'reply';
  /** Node of the source and of the destination when known. */
  srcNode: string | null;
  dstNode: string | null;
  path: PathStep[];
  verdict: Verdict;
  dropReason: string | null;
  dropPoint: string | null;
  /** Points that saw at least one packet of this flow, in path order. */
  seenAt: string[];
  /** Points that were observed (a probe ran there and worked) and did not see this flow. */
  notSeenAt: string[];
  /** Points on the expected path that nothing observed (no probe, or the probe failed). */
  notObserved: string[];
  packets: ReportPacket[];
  /** Packets of this flow beyond the detail limit, counted only. */
  morePackets: number;
  /**
   * Hops of tools that cannot tell this flow's packets apart (monitor without a packet dump, pwru
   * skbs) beyond those attached to a packet by order: they belong to the flow, not to a packet, and
   * are not counted as packets. Absent when there are none.
   */
  flowHops?: ReportHop[];
  /** Such hops beyond the detail limit (or saying nothing about the path), counted only; absent when none. */
  moreFlowHops?: number;
  conclusions: string[];
  /** The evidence each path step and the verdict rest on. */
  evidence: ReportEvidence[];
  /** The sending and the receiving end as fields, so JSON users need not parse `src`/`dst`. */
  source?: ReportFlowEnd;
  destination?: ReportFlowEnd;
  /** Address translations this flow went through (service DNAT, SNAT, reverse NAT), in order. */
  translations?: ReportTranslation[];
  /** The tunnel the flow crossed, when an observation names it. */
  tunnel?: ReportTunnel;
  /**
   * What became of the flow's packets, judged per packet first: the most serious outcome of
   * any shown packet (dropped, refused, lost, then delivered; unknown only when none is known).
   * `verdict` stays for older readers.
   */
  outcome?: Outcome;
  /** The outcome in words, per packet: `2 of 3 delivered; 1 dropped at X (reason)`. */
  outcomeReason?: string | null;
  /** Why the flow was dropped, as far as the evidence tells (policy-explain.ts); absent unless verdict is dropped. */
  dropExplanation?: ReportDropExplanation;
}

/**
 * A drop explained: where, why in Cilium's words, which direction and endpoint enforced it, who
 * the two identities are, and which policies select that endpoint there. A part the evidence does
 * not tell is absent (or `unknown`), and `unknown[]` says what would decide it.
 */
export interface ReportDropExplanation {
  /** The drop reason as Cilium names it (pkg/monitor/api/drop.go), and its code when known. */
  reason: string;
  code?: number;
  /** A policy decided the drop (Policy denied, Policy denied by denylist, Authentication required). */
  byPolicy: boolean;
  /** Where: the point that reported the drop, the last point that saw the packet, the first watching point that should have next. */
  dropPoint: string | null;
  lastSeenAt: string | null;
  firstMissedAt: string | null;
  direction: 'ingress' | 'egress' | 'unknown';
  /** The endpoint whose policy dropped it (the destination's for ingress, the source's for egress). */
  enforcedBy?: ReportPolicyEndpoint;
  source: ReportPolicyPeer;
  destination: ReportPolicyPeer;
  /** Policy-verdict records of the flow (monitor, Hubble), in words. */
  verdicts: string[];
  /** The policies that select the enforcing endpoint in that direction, with what each says of this packet; absent when no policy was among the inputs. */
  policies?: ReportPolicyMatch[];
  /** The explanation in one sentence. */
  summary: string;
  /** What the evidence lacks, and what would decide it. */
  unknown: string[];
}

export interface ReportPolicyEndpoint {
  endpointId?: number;
  pod?: string;
  node?: string;
  identity?: number;
}

export interface ReportPolicyPeer {
  ip?: string;
  port?: number;
  pod?: string;
  identity?: number;
  /** Reserved identity name (world, host, remote-node, ...). */
  identityName?: string;
  /** The identity's labels, `source:key=value`, when an input gave them. */
  labels?: string[];
}

export interface ReportPolicyMatch {
  /** `CiliumNetworkPolicy default/allow-web`, `NetworkPolicy ns/name`, `policy ns/name` (agent). */
  policy: string;
  /** selects: selects the endpoint, allows nothing for this packet; allows / denies: a section covers it; unknown: the evidence cannot tell. */
  effect: 'selects' | 'allows' | 'denies' | 'unknown';
  /** The section that allows or denies (`ingressDeny[0]`), or why the effect is unknown. */
  detail?: string;
}

/** One end of a flow; a field is absent when nothing observed says it. */
export interface ReportFlowEnd {
  ip?: string;
  port?: number;
  namespace?: string;
  pod?: string;
  node?: string;
  identity?: number;
  endpointId?: number;
  /** Host-side interface of the pod (its lxc) when known. */
  interface?: string;
  /** True when the address belongs to no known pod and an observation says it is outside the cluster (world). */
  external?: boolean;
}

/**
 * One address translation: what changed (`from` -> `to`, `ip:port`), where (a point id or a
 * named hook such as `socket-lb`), and the observation it rests on.
 */
export interface ReportTranslation {
  point: string;
  kind: 'dnat' | 'snat' | 'revnat' | 'masquerade';
  from: string;
  to: string;
  evidence: string;
}

/** The encapsulation a flow crossed the underlay in. */
export interface ReportTunnel {
  /** vxlan, geneve, or another encapsulation as the tool named it. */
  protocol: string;
  vni?: number;
  /** Outer addresses (node to node) when a capture showed them: `192.168.1.10 > 192.168.1.11`. */
  outer?: string;
  /** What named the tunnel. */
  evidence: string;
}

export interface ReportPacket {
  /** How this packet is told apart: `icmp id 20480 seq 0`, `tcp S seq 123`, `skb 0xffff...`. */
  key: string;
  hops: ReportHop[];
  /** What became of this packet, from its own hops (a drop counts only when the tool identified the packet). */
  outcome?: Outcome;
  /** Why, in words (the drop reason, the answer that refused it); null for a delivery seen at the destination. */
  outcomeReason?: string | null;
  /** Where it was dropped, for outcome dropped. */
  dropPoint?: string | null;
}

export interface ReportHop {
  point: string;
  tool: string;
  /** ISO-like time as the tool gave it (time of day, wall clock or monotonic), for people. */
  time: string | null;
  /** Microseconds since the first hop of this packet on the same clock (same node); null when not comparable. */
  deltaUs: number | null;
  /** Why deltaUs is null although the hop has a time on the packet's clock (a negative or implausible delta); absent otherwise. */
  deltaNote?: string;
  detail: string;
  /** packet: the tool identified this very packet; flow: attached by flow and order only. */
  match: 'packet' | 'flow';
  /** Extra facts for -o wide: MACs, TTL, IP ID, identities, CT state, kernel functions. */
  facts?: Record<string, string | number>;
}

export interface ReportEvidence {
  claim: string;
  /** Points and what they showed, in words. */
  because: string[];
}
