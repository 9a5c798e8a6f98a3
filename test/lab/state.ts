/**
 * LabState: everything `lab up` built, written to `.lab/state.json`. It is the contract between
 * the kernel side (test/lab/kernel) that builds namespaces, links and BPF programs, the API
 * server (test/lab/api) that serves them as Kubernetes objects and runs exec in them, and the
 * emulated Cilium agent CLI / pwru (test/lab/emulated), which answer from these facts and from
 * packets the lab's kernel really handled.
 */
import type { LatencyProfileName } from './latency.js';

export interface LabState {
  version: 1;
  /** Absolute path of the .lab directory (state, certs, kubeconfig, pidfiles, BPF objects). */
  dir: string;
  /** Host routing (kernel/topology.ts DatapathMode). */
  mode: 'legacy' | 'legacy-endpoint-routes' | 'bpf';
  tunnel: 'vxlan' | 'disabled';
  /** Emulated Cilium version, e.g. "1.16.5" (>= 1.15: `cilium-dbg`; before: `cilium`). */
  ciliumVersion: string;
  createdAt: string;
  nodes: LabNode[];
  pods: LabPod[];
  api?: LabApi;
  /** The latency model (`up --latency`, test/lab/latency.ts); absent is `none`. */
  latency?: LatencyProfileName;
}

export interface LabNode {
  name: string; // bpf1, bpf2
  /** Network namespace holding the node's host side (ip netns name). */
  netns: string;
  /** Underlay address, e.g. 192.168.2.61, on `underlayIf`. */
  ip: string;
  underlayIf: string;
  underlayMac: string;
  podCidr: string; // 10.0.1.0/24
  routerIp: string; // cilium_host address, e.g. 10.0.1.159
  ciliumHostMac: string;
  /** Present in vxlan mode. */
  vxlanIf?: string;
  kernel: string;
}

export interface LabPod {
  namespace: string;
  name: string;
  uid: string;
  node: string;
  /** Pod network namespace (ip netns name); absent for hostNetwork pods (they use the node's). */
  netns?: string;
  hostNetwork: boolean;
  ip: string; // pod IP, or the node IP for hostNetwork pods
  /** Pod-side eth0 MAC (absent for hostNetwork pods). */
  mac?: string;
  /** Host-side veth, absent for hostNetwork pods. */
  lxc?: { name: string; ifindex: number; mac: string };
  /** Cilium endpoint (absent for hostNetwork pods). Endpoint IDs are per node. */
  endpointId?: number;
  identity?: number;
  labels: Record<string, string>;
  /**
   * What the pod's "image" contains: the commands exec may run (anything else fails the way a
   * container runtime fails: exit 127, `executable file not found in $PATH`).
   */
  image: string;
  containers: string[];
}

export interface LabApi {
  port: number;
  pid: number;
  kubeconfig: string;
  caFile: string;
  /** Tokens by role: admin can do everything; noexec lacks pods/exec and pod create. */
  tokens: Record<'admin' | 'noexec', string>;
}
