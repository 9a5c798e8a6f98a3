/**
 * Ports: what the use cases need from the outside world. Adapters implement them (files, the
 * Kubernetes API, exec); tests implement them in memory.
 */
import type { DatapathError } from '../core/errors.js';

/** InputSource: one input to analyze, readable as bytes (pcap) or lines (text). */
export interface InputSource {
  /** The name the user gave (path), used in the report. */
  name: string;
  /** Up to `max` bytes from the start. */
  head(max: number): Promise<Uint8Array>;
  /** The whole input as chunks, in order. */
  chunks(): AsyncIterable<Uint8Array>;
}

/** InputProblem: an input that could not be opened at all (missing, unreadable, a directory of nothing). */
export interface InputProblem {
  name: string;
  message: string;
}

export interface InputCatalog {
  /** Expands files and directories into sources (directories: their files, sorted by name). */
  open(paths: string[]): Promise<{ sources: InputSource[]; problems: InputProblem[] }>;
}

/** PodRef: a pod by namespace and name. */
export interface PodRef {
  namespace: string;
  name: string;
}

/** PodInfo: what the trace needs of a pod. */
export interface PodInfo extends PodRef {
  uid: string;
  node: string;
  ips: string[];
  hostNetwork: boolean;
  phase: string;
  containers: { name: string; image: string }[];
  labels: Record<string, string>;
}

/** ServiceInfo: what a trace to a Service needs of it (v1 Service). */
export interface ServiceInfo extends PodRef {
  type: string;
  /** spec.clusterIPs (the first is spec.clusterIP); empty for a headless Service. */
  clusterIPs: string[];
  ports: { name?: string; port: number; protocol: string; targetPort?: number | string; nodePort?: number }[];
}

/** ServiceBackendInfo: one ready address of a Service's EndpointSlices, with its port by name. */
export interface ServiceBackendInfo {
  ip: string;
  /** Port per EndpointSlice port name ('' for an unnamed port). */
  ports: Record<string, number>;
  node?: string;
  /** The pod behind the address (targetRef), when it is one. */
  pod?: PodRef;
}

/** NodeInfo: what the trace and doctor need of a node. */
export interface NodeInfo {
  name: string;
  internalIp?: string;
  kernelVersion?: string;
  osImage?: string;
  containerRuntime?: string;
}

/** ProbePodSpec: a short-lived privileged helper pod on one node (captures, pwru, iptables). */
export interface ProbePodSpec {
  namespace: string;
  name: string;
  node: string;
  image: string;
  labels: Record<string, string>;
  /** Backstop: the cluster kills the pod after this even if we vanish. */
  activeDeadlineSeconds: number;
  /** Linux capabilities added to the container (no full `privileged` unless needed). */
  capabilities: string[];
  privileged: boolean;
  /** Container command; default: sleep until the deadline, so the pod ends by itself. */
  command?: string[];
  /** Container name; default `probe`. */
  container?: string;
  /** Host network and PID namespaces; both default to true (captures on node interfaces, entering pod netns by pid). */
  hostNetwork?: boolean;
  hostPID?: boolean;
}

/** The network policy resources a trace reads to explain a policy drop (group, version, kind of each). */
export const POLICY_RESOURCES = {
  ciliumnetworkpolicies: { group: 'cilium.io', version: 'v2', kind: 'CiliumNetworkPolicy' },
  ciliumclusterwidenetworkpolicies: { group: 'cilium.io', version: 'v2', kind: 'CiliumClusterwideNetworkPolicy' },
  networkpolicies: { group: 'networking.k8s.io', version: 'v1', kind: 'NetworkPolicy' },
} as const;
export type PolicyResource = keyof typeof POLICY_RESOURCES;

/** AGENT_CONTAINER: the agent container of the cilium DaemonSet, where `cilium-dbg` runs. */
export const AGENT_CONTAINER = 'cilium-agent';

/** KubePort: the Kubernetes API, as the use cases need it. Errors are DatapathErrors with one-line messages. */
export interface KubePort {
  /** The namespace of the current context (or --namespace). */
  defaultNamespace(): string;
  getPod(ref: PodRef): Promise<PodInfo>;
  listPods(namespace: string | undefined, selectors: { labelSelector?: string; fieldSelector?: string }): Promise<PodInfo[]>;
  getNode(name: string): Promise<NodeInfo>;
  getService(ref: PodRef): Promise<ServiceInfo>;
  listServices(namespace: string | undefined): Promise<ServiceInfo[]>;
  /** The ready endpoints of a Service, from its EndpointSlices (label kubernetes.io/service-name). */
  listServiceBackends(ref: PodRef): Promise<ServiceBackendInfo[]>;
  /** The CiliumEndpoint (cilium.io/v2) of a pod, raw JSON; undefined when there is none. */
  getCiliumEndpoint(ref: PodRef): Promise<unknown | undefined>;
  /**
   * Every object of one network policy resource, in all namespaces, as the API serves it (raw
   * JSON, `apiVersion` and `kind` set on each); [] where the cluster does not serve the resource.
   * A ForbiddenError when RBAC refuses the list.
   */
  listPolicyObjects(resource: PolicyResource): Promise<unknown[]>;
  /** The Running cilium agent pod on a node (kube-system by default, label k8s-app=cilium, container AGENT_CONTAINER). */
  findAgentPod(node: string): Promise<PodInfo>;
  createPod(spec: ProbePodSpec): Promise<PodInfo>;
  /** The events about a pod (the scheduler's and the kubelet's: Scheduled, Pulling, Pulled, ...), oldest first; optional, for progress only. */
  podEvents?(ref: PodRef): Promise<{ reason: string; message: string }[]>;
  /** Resolves when the pod is Running; rejects when it fails, is deleted, or the time/signal runs out. */
  waitForRunning(ref: PodRef, timeoutMs: number, signal?: AbortSignal): Promise<PodInfo>;
  deletePod(ref: PodRef): Promise<void>;
  /** SelfSubjectAccessReview. */
  canI(check: { verb: string; resource: string; subresource?: string; namespace?: string; group?: string }): Promise<{ allowed: boolean; reason?: string }>;
  /** The Pod Security `enforce` level label of a namespace, when set. */
  podSecurityLevel(namespace: string): Promise<string | undefined>;
}

/** ExecRequest: run argv (never a shell string) in a pod's container. */
export interface ExecRequest {
  pod: PodRef;
  container?: string;
  argv: string[];
  /** Cancels the command: closes the stream and the remote process gets killed by the caller's stop argv too. */
  signal?: AbortSignal;
  onStdout?: (chunk: Uint8Array) => void;
  onStderr?: (chunk: Uint8Array) => void;
  /** Collect stdout/stderr into the result (for short commands); streams are still called. */
  collect?: boolean;
}

/** ExecResult: one shape for success and failure (execa/zx style); resolved once the command has ended. */
export interface ExecResult {
  pod: PodRef;
  container?: string;
  argv: string[];
  /** null when the command never ran or was canceled before it reported. */
  exitCode: number | null;
  stdout: string;
  stderr: string;
  durationMs: number;
  canceled: boolean;
  /** Why it failed when it failed without an exit code (connection, 403, 404 ...), one line. */
  error?: string;
  /** The same failure as a DatapathError with its exit code (forbidden, not found ...), when `error` is set. */
  failure?: DatapathError;
  /** argv[0] does not exist in the container (exit 127, or the runtime's "executable file not found"). */
  commandNotFound?: boolean;
  /**
   * The session was open and ended without an exit status (the API server restarted, the network
   * dropped): the command may still be running in the container (closing a stream does not end it).
   */
  streamLost?: boolean;
}

export interface ExecPort {
  exec(req: ExecRequest): Promise<ExecResult>;
}
