/**
 * What the agent's own tables say about load balancing and translation on a node: service
 * frontends with their backends (`cilium service list`, `cilium bpf lb list`), conntrack entries
 * (`cilium bpf ct list`) and NAT entries (`cilium bpf nat list`). The correlation uses them to
 * tie a ClusterIP / NodePort frontend to its backends and reverse-NAT ids, and a CT or NAT entry
 * to the flow whose tuple it holds.
 */

/** An address and port as the table printed them (IPv6 without brackets). */
export interface L4Address {
  ip: string;
  port: number;
}

export interface ServiceBackend extends L4Address {
  /** `tcp`, `udp`, ... when the table prints a protocol suffix (`/TCP`). */
  proto?: string;
  /** service list: `active`, `terminating`, `quarantined`, `maintenance` (in parentheses). */
  state?: string;
  /** bpf lb list: the backend's slot (1..n) under its frontend. */
  slot?: number;
  /** bpf lb list: the reverse-NAT id printed with the backend. */
  revNatId?: number;
  /** Old bpf lb list: the weight-like number in parentheses after the backend. */
  weight?: number;
}

export interface ServiceFact {
  frontend: L4Address & { proto?: string };
  /** service list: the service ID. */
  id?: number;
  /** bpf lb list: the reverse-NAT id of the service (slot 0's). Replies from a backend are rewritten back to the frontend by it. */
  revNatId?: number;
  /** ClusterIP, NodePort, LoadBalancer, ExternalIPs, HostPort, LocalRedirect, ... */
  type?: string;
  /** bpf lb list flags of slot 0 (`ClusterIP`, `non-routable`, `InternalLocal`, `l7-load-balancer`, ...). */
  flags?: string[];
  /** bpf lb list: `(L7LB Proxy Port: N)`. */
  l7ProxyPort?: number;
  /** Backends in the table's order; empty when the service has none (its traffic cannot be delivered). */
  backends: ServiceBackend[];
  source: 'service-list' | 'bpf-lb-list';
}

/** One `cilium bpf ct list` entry: `TCP OUT 10.0.0.1:4242 -> 10.0.0.2:80 expires=... Flags=0x... RevNAT=3 ...`. */
export interface ConntrackFact {
  proto: string;
  /** IN, OUT, SVC (service entries), as printed. */
  direction: string;
  src: L4Address;
  dst: L4Address;
  /** RevNAT id when the entry carries one (0 = none). */
  revNatId?: number;
  flags?: string;
  srcIdentity?: number;
  ifindex?: number;
  /** Every `name=value` of the entry, verbatim. */
  fields: Record<string, string>;
}

/** One `cilium bpf nat list` entry: `TCP OUT a:p -> b:q XLATE_SRC c:r Created=... NeedsCT=...`. */
export interface NatFact {
  proto: string;
  direction: string;
  src: L4Address;
  dst: L4Address;
  /** Which side the entry rewrites, and to what. */
  xlate: 'src' | 'dst';
  to: L4Address;
  fields: Record<string, string>;
}

export interface LbState {
  services: ServiceFact[];
  conntrack: ConntrackFact[];
  nat: NatFact[];
}
