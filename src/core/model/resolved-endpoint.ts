/**
 * What resolving a pod finds: its endpoint as the report shows it, plus the node's Cilium agent
 * (pod, CLI name, version) and routing mode. Filled by src/app/resolve.ts; read by renderers.
 */
import type { ReportEndpoint } from './report.js';
import type { CiliumStatus } from './status.js';


/** AgentCli: the agent's command-line tool: `cilium-dbg` from 1.15, `cilium` before (1.15+ images keep `cilium` as a link). */
export type AgentCli = 'cilium-dbg' | 'cilium';

/** NodeRouting: how the node's Cilium moves packets, as its agent status says. */
export interface NodeRouting {
  /** BPF: bpf_redirect_peer/neigh between pods; Legacy: through the host stack. */
  hostRouting: 'BPF' | 'Legacy' | 'unknown';
  network: 'Tunnel' | 'Native' | 'unknown';
  tunnelProtocol?: string;
  kubeProxyReplacement?: string;
  /** Where the answer came from (`status -o json`, `status` text), or why there is none. */
  source: string;
}

/** AgentInfo: the Cilium agent of one node, as a pod to exec into plus what it told us. */
export interface AgentInfo {
  node: string;
  namespace: string;
  name: string;
  container: string;
  cli: AgentCli;
  /** Agent version (`1.16.5`) when its status or `version` says. */
  version?: string;
  routing: NodeRouting;
  status?: CiliumStatus;
}

/** ResolvedEndpoint: a pod's report endpoint plus the agent, routing and Cilium state behind it. */
export interface ResolvedEndpoint extends ReportEndpoint {
  namespace: string;
  name: string;
  hostNetwork: boolean;
  containers: string[];
  agent: AgentInfo;
  labels: string[];
  state?: string;
  /** The endpoint's MonitorAggregationLevel (None, Low, Medium, Maximum) when the agent shows it. */
  monitorAggregation?: string;
  /**
   * The endpoint's Debug option (pkg/option specDebug, compiled as DEBUG into its BPF programs):
   * without it the datapath prints no `cilium monitor -v` DEBUG lines. Off by default.
   */
  datapathDebug?: boolean;
  /** Where the endpoint came from; host-network pods have none of their own. */
  endpointSource: 'cilium-endpoint' | 'agent-endpoint-list' | 'host-network';
}
