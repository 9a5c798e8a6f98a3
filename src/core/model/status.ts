/**
 * CiliumStatus: what `cilium-dbg status` (text or `-o json`) says about one node's agent, reduced to
 * what decides how a packet travels and what a trace can see. Every field is optional because
 * agents of different versions print different subsets; `fields` keeps every top-level line as
 * printed so nothing the agent said is lost.
 */
export interface CiliumStatus {
  /** Agent version as `1.11.1` (from `Cilium: Ok 1.11.1 (v1.11.1-76d34db)`). */
  version?: string;
  /** The build string in parentheses, e.g. `v1.11.1-76d34db`. */
  versionDetail?: string;
  /** `Cilium:` line / `cilium` object: agent state. */
  agent?: ComponentState;
  kubernetes?: ComponentState;
  kvstore?: ComponentState;
  kubeProxyReplacement?: KubeProxyReplacementStatus;
  /** Intra-host routing: BPF (bpf_redirect_peer/neigh) or Legacy (through the host stack). */
  hostRouting?: 'BPF' | 'Legacy';
  /** Inter-host routing, shown by newer agents only (`Routing: Network: ...`). */
  routingNetwork?: 'Tunnel' | 'Native';
  /** Tunnel protocol (vxlan, geneve) when routingNetwork is Tunnel. */
  tunnelProtocol?: string;
  /** `Attach Mode:` (TCX or Legacy TC) and `Device Mode:` (veth, netkit, netkit-l2). */
  attachMode?: string;
  deviceMode?: string;
  masquerading?: MasqueradingStatus;
  /**
   * Monitor aggregation level. No agent status layout prints it (pkg/client FormatStatusResponse,
   * StatusResponse model); it is an endpoint option, see EndpointInfo.monitorAggregation.
   */
  monitorAggregation?: string;
  nodeMonitor?: NodeMonitorStatus;
  /** `Cilium health daemon:` line / `cluster.ciliumHealth`. */
  healthDaemon?: ComponentState;
  /** `Cluster health: 2/2 reachable (...)`: text layout only (it comes from the health API, not the status model). */
  clusterHealth?: { reachable?: number; total?: number; detail: string };
  /** IPAM summary as printed (`IPv4: 6/254 allocated from 10.0.1.0/24`), or the old address-pool lines joined. */
  ipamSummary?: string;
  encryption?: { mode: string; detail?: string };
  hubble?: ComponentState;
  controllers?: { healthy: number; total: number };
  /** Every top-level `Key: value` line (text) or top-level key (JSON, stringified), as the agent gave it. */
  fields: Record<string, string>;
}

/** State word (Ok, Warning, Failure, Disabled) and the rest of the line. */
export interface ComponentState {
  state: string;
  detail?: string;
}

/** Strict|Probe|Partial|Disabled (agents before 1.14), True|False (1.14+). */
export type KubeProxyReplacementMode = 'Strict' | 'Probe' | 'Partial' | 'Disabled' | 'True' | 'False';

export interface KubeProxyReplacementStatus {
  mode: KubeProxyReplacementMode;
  devices: { name: string; ips: string[]; directRouting: boolean }[];
}

export interface MasqueradingStatus {
  /** BPF, IPTables, Enabled (protocols not reported) or Disabled. */
  mode: 'BPF' | 'IPTables' | 'Enabled' | 'Disabled';
  ipMasqAgent?: boolean;
  ipv4?: boolean;
  ipv6?: boolean;
  /** BPF mode: the devices and the SNAT exclusion CIDR. */
  devices?: string[];
  snatExclusionCidr?: string;
}

export interface NodeMonitorStatus {
  enabled: boolean;
  cpus?: number;
  lost?: number;
  unknown?: number;
}
