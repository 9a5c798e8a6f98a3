/**
 * EndpointInfo: one Cilium endpoint as the agent (`cilium-dbg endpoint list/get`) or the API
 * server (CiliumEndpoint, CiliumEndpointSlice) describes it. Each source knows a different part,
 * so everything a source may not print is optional, and `source` says where the record came from.
 */
export interface EndpointInfo {
  /** Agent-local endpoint id (the one `endpoint get` and `monitor --related-to` take); null for a CiliumEndpointSlice entry, which does not carry it. */
  id: number | null;
  /** Security identity; null when the agent printed `<no label id>`. */
  identity: number | null;
  pod?: { namespace: string; name: string };
  /** Endpoint addresses, IPv4 before IPv6 as the agent lists them. */
  ips: string[];
  /** Host-side interface (lxc..., lxc_health, cilium_host). */
  interface?: string;
  ifindex?: number;
  /** Interface name inside the pod (newer agents: `container-interface-name`, usually eth0). */
  podInterface?: string;
  /** Pod-side MAC and host-side MAC, lower case. */
  mac?: string;
  hostMac?: string;
  /** Node name, when the source names the node (none of the parsers here do; resolvers fill it). */
  node?: string;
  /** Node IP from the CRD's `status.networking.node` (the CRD gives an address, not a name). */
  nodeIp?: string;
  /** Security-relevant labels, `source:key[=value]`. */
  labels: string[];
  /** Endpoint state (ready, waiting-for-identity, regenerating, ...). */
  state?: string;
  /** The endpoint's MonitorAggregationLevel option (None, Low, Medium, Maximum) when the agent shows it. */
  monitorAggregation?: string;
  /**
   * The endpoint's Debug option (pkg/option specDebug, compiled as DEBUG into its BPF programs):
   * without it the datapath prints no `cilium monitor -v` DEBUG lines. Off by default.
   */
  datapathDebug?: boolean;
  /**
   * The endpoint's PolicyAuditMode option: on, its policy verdicts say audit and nothing it would
   * deny is dropped (pkg/option PolicyAuditMode; Helm policyAuditMode).
   */
  policyAuditMode?: boolean;
  source: 'endpoint-list' | 'endpoint-get' | 'cilium-endpoint' | 'cilium-endpoint-slice';
}
