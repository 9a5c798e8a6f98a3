/**
 * doctor: what would stop or weaken a trace, checked before running one. RBAC through
 * SelfSubjectAccessReviews for every call a trace makes; per node the Cilium agent (version,
 * CLI name), host routing, monitor aggregation, kernel and BTF for pwru; the Pod Security level
 * of the namespace where probe pods go. Each check is one line: pass, warn or fail, and what to do.
 */
import { DatapathError } from '../core/errors.js';
import type { DoctorCheck } from '../core/model/doctor.js';
import { parseEndpointGetJson } from '../core/parse/cilium-endpoint.js';
import type { ExecPort, KubePort } from './ports.js';
import { EndpointResolver, type AgentInfo } from './resolve.js';

export interface DoctorRequest {
  /** Namespace of the pods to trace. */
  namespace: string;
  /** Namespace where the trace creates its probe pods. */
  probeNamespace: string;
  /** Namespace of the Cilium agents. */
  agentNamespace: string;
  /** Nodes whose agents to check; default: every agent's node, up to maxNodes. */
  nodes?: string[];
  maxNodes: number;
  signal?: AbortSignal;
}

/** Permission: one API call a trace (or `endpoints`) makes, and what breaks without it. */
export interface Permission {
  verb: string;
  resource: string;
  subresource?: string;
  group?: string;
  /** Where: the pods' namespace, the agents', the probe pods', or cluster-wide. */
  where: 'pods' | 'agents' | 'probes' | 'cluster';
  /** Without it the trace cannot run (fail) or loses part of its report (warn). */
  need: 'required' | 'optional';
  why: string;
}

/** PERMISSIONS: every call `trace` and `endpoints` make; docs/rbac.yaml grants exactly these. */
export const PERMISSIONS: readonly Permission[] = [
  { verb: 'get', resource: 'pods', where: 'pods', need: 'required', why: 'read the pods to trace' },
  { verb: 'list', resource: 'pods', where: 'pods', need: 'optional', why: 'find pods by IP' },
  { verb: 'get', resource: 'ciliumendpoints', group: 'cilium.io', where: 'pods', need: 'required', why: "read the pods' endpoint id and identity" },
  { verb: 'list', resource: 'ciliumendpoints', group: 'cilium.io', where: 'pods', need: 'optional', why: 'map endpoint ids to pods' },
  { verb: 'create', resource: 'pods', subresource: 'exec', where: 'pods', need: 'optional', why: 'capture inside pods whose image has tcpdump (else the probe pod enters their netns)' },
  { verb: 'get', resource: 'pods', subresource: 'exec', where: 'pods', need: 'optional', why: 'exec over WebSocket is authorised as get (the upgrade is an HTTP GET); Kubernetes 1.35 asks for create too' },
  { verb: 'list', resource: 'pods', where: 'agents', need: 'required', why: 'find the Cilium agent of a node' },
  { verb: 'create', resource: 'pods', subresource: 'exec', where: 'agents', need: 'required', why: 'run cilium-dbg endpoint/status/monitor in the agents' },
  { verb: 'get', resource: 'pods', subresource: 'exec', where: 'agents', need: 'required', why: 'exec over WebSocket is authorised as get (the upgrade is an HTTP GET); Kubernetes 1.35 asks for create too' },
  { verb: 'get', resource: 'nodes', where: 'cluster', need: 'optional', why: 'read node addresses and kernel versions' },
  { verb: 'get', resource: 'namespaces', where: 'cluster', need: 'optional', why: 'read the Pod Security level of the probe namespace' },
  { verb: 'list', resource: 'ciliumnetworkpolicies', group: 'cilium.io', where: 'cluster', need: 'optional', why: 'name the policies behind a policy drop' },
  { verb: 'list', resource: 'ciliumclusterwidenetworkpolicies', group: 'cilium.io', where: 'cluster', need: 'optional', why: 'name the policies behind a policy drop' },
  { verb: 'list', resource: 'networkpolicies', group: 'networking.k8s.io', where: 'cluster', need: 'optional', why: 'name the policies behind a policy drop' },
  { verb: 'create', resource: 'pods', where: 'probes', need: 'required', why: 'start the probe pods (tcpdump, pwru)' },
  { verb: 'get', resource: 'pods', where: 'probes', need: 'required', why: 'wait for the probe pods to run' },
  { verb: 'list', resource: 'pods', where: 'probes', need: 'required', why: 'wait for the probe pods to run; find what an interrupted run left (cleanup)' },
  { verb: 'watch', resource: 'pods', where: 'probes', need: 'required', why: 'wait for the probe pods to run' },
  { verb: 'delete', resource: 'pods', where: 'probes', need: 'required', why: 'remove the probe pods' },
  { verb: 'create', resource: 'pods', subresource: 'exec', where: 'probes', need: 'required', why: 'run tcpdump and pwru in the probe pods' },
  { verb: 'get', resource: 'pods', subresource: 'exec', where: 'probes', need: 'required', why: 'exec over WebSocket is authorised as get (the upgrade is an HTTP GET); Kubernetes 1.35 asks for create too' },
];

/** The oldest kernel pwru supports (its README: 5.3 with BTF). */
const PWRU_MIN_KERNEL: [number, number] = [5, 3];
const BTF_PATH = '/sys/kernel/btf/vmlinux';

function namespaceOf(p: Permission, req: DoctorRequest): string | undefined {
  return p.where === 'pods' ? req.namespace : p.where === 'agents' ? req.agentNamespace : p.where === 'probes' ? req.probeNamespace : undefined;
}

function permissionText(p: Permission, namespace: string | undefined): string {
  const resource = `${p.group ? `${p.resource}.${p.group}` : p.resource}${p.subresource ? `/${p.subresource}` : ''}`;
  return `${p.verb} ${resource} ${namespace === undefined ? '(cluster)' : `in ${namespace}`}`;
}

async function rbacChecks(kube: KubePort, req: DoctorRequest): Promise<DoctorCheck[]> {
  // A permission needed for two reasons (list pods where pods and probes share a namespace) is
  // asked once; it is required if either reason requires it.
  const asks = new Map<string, { p: Permission; namespace: string | undefined; whys: string[]; required: boolean }>();
  for (const p of PERMISSIONS) {
    const namespace = namespaceOf(p, req);
    const text = permissionText(p, namespace);
    const ask = asks.get(text) ?? { p, namespace, whys: [], required: false };
    if (!ask.whys.includes(p.why)) ask.whys.push(p.why);
    ask.required ||= p.need === 'required';
    asks.set(text, ask);
  }
  const list = [...asks.entries()];
  const answers = await Promise.all(
    list.map(([, { p, namespace }]) => kube.canI({ verb: p.verb, resource: p.resource, subresource: p.subresource, group: p.group, namespace })),
  );
  return list.map(([text, { p, namespace, whys, required }], i): DoctorCheck => {
    const why = whys.join('; ');
    if (answers[i].allowed) return { check: 'rbac', scope: text, level: 'pass', detail: `allowed: ${why}` };
    const role = namespace === undefined ? 'ClusterRole' : 'Role';
    const rule = `{apiGroups: ["${p.group ?? ''}"], resources: ["${p.resource}${p.subresource ? `/${p.subresource}` : ''}"], verbs: ["${p.verb}"]}`;
    return { check: 'rbac', scope: text, level: required ? 'fail' : 'warn', detail: `denied: cannot ${why}; add ${rule} to a ${role} bound to you (docs/rbac.yaml)` };
  });
}

function kernelAtLeast(version: string, [major, minor]: [number, number]): boolean | undefined {
  const m = /^(\d+)\.(\d+)/.exec(version);
  if (m === null) return undefined;
  const [a, b] = [Number(m[1]), Number(m[2])];
  return a > major || (a === major && b >= minor);
}

/** The checks of one node's agent: Cilium and its CLI, routing, monitor aggregation, kernel and BTF. */
async function nodeChecks(kube: KubePort, resolver: EndpointResolver, node: string): Promise<DoctorCheck[]> {
  let agent: AgentInfo;
  try {
    agent = await resolver.agentOn(node);
  } catch (e) {
    if (!(e instanceof DatapathError)) throw e;
    return [{ check: 'cilium', scope: node, level: 'fail', detail: e.message }];
  }
  const out: DoctorCheck[] = [];
  const version = agent.version === undefined ? 'version unknown' : `Cilium ${agent.version}`;
  out.push({ check: 'cilium', scope: node, level: 'pass', detail: `${version}, agent ${agent.namespace}/${agent.name}, CLI ${agent.cli}` });
  out.push(routingCheck(agent));
  out.push(...(await monitorChecks(resolver, agent)));
  out.push(hubbleCheck(agent));
  out.push(await kernelCheck(kube, resolver, agent));
  return out;
}

function routingCheck(agent: AgentInfo): DoctorCheck {
  const r = agent.routing;
  if (r.hostRouting === 'unknown') {
    return { check: 'routing', scope: agent.node, level: 'warn', detail: `host routing unknown (${r.source}): the report cannot tell bpf_redirect_peer from the host stack by mode, only by evidence` };
  }
  const network = r.network === 'Tunnel' ? `tunnel${r.tunnelProtocol ? ` (${r.tunnelProtocol})` : ''}` : r.network === 'Native' ? 'native routing' : 'inter-node routing unknown';
  // Legacy host routing still delivers same-node pod traffic in BPF: redirect_ep() ends in
  // ctx_redirect() to the destination lxc without ENABLE_HOST_ROUTING (bpf/lib/l3.h, later
  // local_delivery.h); only what bpf_lxc passes to the stack (other nodes, the host) is routed.
  const host =
    r.hostRouting === 'BPF'
      ? 'host routing BPF (pod traffic skips the host stack: bpf_redirect_peer into the pod, so the destination lxc sees nothing and iptables TRACE sees nothing)'
      : 'host routing Legacy (same-node pod traffic is still bpf_redirect()ed to the destination lxc, which sees it, with no ip_forward; traffic to other nodes and to the host crosses the host stack)';
  const kpr = r.kubeProxyReplacement === undefined ? '' : `, kube-proxy replacement ${r.kubeProxyReplacement}`;
  return { check: 'routing', scope: agent.node, level: 'pass', detail: `${host}, ${network}${kpr}` };
}

/** Hubble as the agent's status reports it: the trace's hubble probe (on by default) has flows to read only where it is Ok. */
function hubbleCheck(agent: AgentInfo): DoctorCheck {
  const state = agent.status?.hubble?.state;
  const scope = agent.node;
  if (state === undefined) return { check: 'hubble', scope, level: 'pass', detail: 'Hubble state unknown (the status does not show it): the trace\'s hubble probe finds out, and says so in one line if it is off' };
  if (state === 'Ok') return { check: 'hubble', scope, level: 'pass', detail: 'Hubble Ok: trace reads its flows (timed Cilium hops, verdicts and drop reasons) with the hubble probe' };
  return { check: 'hubble', scope, level: 'pass', detail: `Hubble ${state}${agent.status?.hubble?.detail ? ` (${agent.status.hubble.detail})` : ''}: the trace goes on without its flows (hubble.enabled=true in Helm turns it on)` };
}

/** Monitor aggregation and datapath debug, both endpoint options: one endpoint list answers both. */
async function monitorChecks(resolver: EndpointResolver, agent: AgentInfo): Promise<DoctorCheck[]> {
  const scope = agent.node;
  let level: string | undefined;
  let why = '';
  let debug: boolean[] = [];
  let audit: { id: number | null; on: boolean }[] = [];
  try {
    const r = await resolver.runInAgent(agent, [agent.cli, 'endpoint', 'list', '-o', 'json']);
    if (r.exitCode === 0) {
      const { endpoints, error } = parseEndpointGetJson(r.stdout);
      level = endpoints.find((e) => e.monitorAggregation !== undefined)?.monitorAggregation;
      debug = endpoints.flatMap((e) => (e.datapathDebug === undefined ? [] : [e.datapathDebug]));
      audit = endpoints.flatMap((e) => (e.policyAuditMode === undefined ? [] : [{ id: e.id, on: e.policyAuditMode }]));
      if (level === undefined) why = error ?? 'no endpoint shows MonitorAggregationLevel';
    } else {
      why = r.stderr.trim().split('\n', 1)[0] || `exit ${r.exitCode}`;
    }
  } catch (e) {
    if (!(e instanceof DatapathError)) throw e;
    why = e.message;
  }
  return [aggregationCheck(scope, level, why), debugCheck(scope, debug, why), auditCheck(scope, audit, why)];
}

/**
 * Policy audit mode (the endpoints' PolicyAuditMode option; Helm policyAuditMode): the datapath
 * still decides, but lets through what policy would deny, and the verdict says audit. A trace then
 * shows no policy drop where one would happen with enforcement.
 */
function auditCheck(scope: string, audit: { id: number | null; on: boolean }[], why: string): DoctorCheck {
  if (audit.length === 0) return { check: 'policy', scope, level: 'pass', detail: `policy audit mode unknown (${why || 'no endpoint shows its PolicyAuditMode option'})` };
  const on = audit.filter((a) => a.on);
  if (on.length === 0) return { check: 'policy', scope, level: 'pass', detail: `policy audit mode off (${audit.length} endpoints): policy denials are drops` };
  const ids = on.slice(0, 5).map((a) => a.id ?? '?').join(', ') + (on.length > 5 ? ', ...' : '');
  return {
    check: 'policy',
    scope,
    level: 'warn',
    detail: `policy audit mode on for ${on.length} of ${audit.length} endpoints (${ids}): nothing policy would deny is dropped, its verdicts say audit, so a trace shows no policy drop there; to enforce: ${'`'}cilium-dbg endpoint config <id> PolicyAuditMode=Disabled${'`'} (or policyAuditMode=false in Helm)`,
  };
}

function aggregationCheck(scope: string, level: string | undefined, why: string): DoctorCheck {
  if (level === undefined) {
    return { check: 'monitor', scope, level: 'warn', detail: `monitor aggregation unknown (${why}): if it is not none, cilium monitor will miss per-packet events` };
  }
  if (level.toLowerCase() === 'none') return { check: 'monitor', scope, level: 'pass', detail: 'monitor aggregation None: cilium monitor reports every packet' };
  return {
    check: 'monitor',
    scope,
    level: 'warn',
    detail: `monitor aggregation ${level}: per-packet monitor events will be missing (only connection starts, flag changes and drops); for full traces set bpf.monitorAggregation=none (Helm; cilium-config monitor-aggregation) and restart the agents`,
  };
}

/**
 * Datapath debug is the endpoints' Debug option (pkg/option specDebug: DEBUG compiled into their
 * programs), shown per endpoint by `endpoint list -o json`; off by default. Without it `cilium
 * monitor -v` prints no DEBUG lines, so the report does without conntrack and local-delivery lines.
 */
function debugCheck(scope: string, debug: boolean[], why: string): DoctorCheck {
  if (debug.length === 0) {
    return { check: 'debug', scope, level: 'pass', detail: `datapath debug unknown (${why || 'no endpoint shows its Debug option'}): if it is off (the default), cilium monitor -v prints no DEBUG lines and the report does without them` };
  }
  const on = debug.filter(Boolean).length;
  if (on === debug.length) return { check: 'debug', scope, level: 'pass', detail: `datapath debug on (${on} endpoints): cilium monitor -v prints DEBUG lines (conntrack lookups, local delivery)` };
  return {
    check: 'debug',
    scope,
    level: 'pass',
    detail: `datapath debug off on ${debug.length - on} of ${debug.length} endpoints (Cilium's default): cilium monitor -v prints no DEBUG lines for them and the report does without them; for that evidence: ${'`'}cilium-dbg endpoint config <id> Debug=Enabled${'`'} on the traced pods' endpoints (or debug.verbose=datapath in Helm), and back afterwards`,
  };
}

async function kernelCheck(kube: KubePort, resolver: EndpointResolver, agent: AgentInfo): Promise<DoctorCheck> {
  const scope = agent.node;
  let kernel: string | undefined;
  let kernelWhy = '';
  try {
    kernel = (await kube.getNode(agent.node)).kernelVersion;
  } catch (e) {
    if (!(e instanceof DatapathError)) throw e;
    kernelWhy = e.message;
  }
  const kernelText = kernel === undefined ? `kernel unknown${kernelWhy ? ` (${kernelWhy})` : ''}` : `kernel ${kernel}`;
  let btf: boolean | undefined;
  let btfWhy = '';
  try {
    const r = await resolver.runInAgent(agent, ['ls', BTF_PATH]);
    if (r.commandNotFound) btfWhy = `no ls in ${agent.name}`;
    else btf = r.exitCode === 0;
  } catch (e) {
    if (!(e instanceof DatapathError)) throw e;
    btfWhy = e.message;
  }
  const oldKernel = kernel === undefined ? undefined : kernelAtLeast(kernel, PWRU_MIN_KERNEL) === false;
  if (oldKernel) return { check: 'kernel', scope, level: 'warn', detail: `${kernelText}: pwru needs Linux >= ${PWRU_MIN_KERNEL.join('.')}; the kernel hops will be missing (trace --probes without pwru)` };
  if (btf === false) {
    return { check: 'kernel', scope, level: 'warn', detail: `${kernelText}, no ${BTF_PATH}: pwru needs a kernel built with CONFIG_DEBUG_INFO_BTF; the kernel hops will be missing` };
  }
  if (btf === undefined) return { check: 'kernel', scope, level: 'warn', detail: `${kernelText}, BTF unknown (${btfWhy}): pwru may not start` };
  return { check: 'kernel', scope, level: kernel === undefined ? 'warn' : 'pass', detail: `${kernelText}, BTF ${BTF_PATH} present: pwru can run` };
}

async function podSecurityCheck(kube: KubePort, namespace: string): Promise<DoctorCheck> {
  const scope = namespace;
  let level: string | undefined;
  try {
    level = await kube.podSecurityLevel(namespace);
  } catch (e) {
    if (!(e instanceof DatapathError)) throw e;
    return { check: 'pod-security', scope, level: 'fail', detail: `${e.message}: probe pods go to --probe-namespace (default: the current namespace)` };
  }
  if (level === undefined || level === 'privileged') {
    return { check: 'pod-security', scope, level: 'pass', detail: `${level === undefined ? 'no Pod Security level enforced' : 'enforce=privileged'}: hostNetwork/hostPID probe pods are admitted` };
  }
  return {
    check: 'pod-security',
    scope,
    level: 'warn',
    detail: `enforce=${level} forbids hostNetwork/hostPID probe pods: use --probe-namespace with a privileged namespace, or label ${namespace} pod-security.kubernetes.io/enforce=privileged`,
  };
}

/** runDoctor runs every check; an unreachable or refusing API server ends it after one line. */
export async function runDoctor(kube: KubePort, exec: ExecPort, req: DoctorRequest): Promise<DoctorCheck[]> {
  const checks: DoctorCheck[] = [];
  try {
    checks.push(...(await rbacChecks(kube, req)));
  } catch (e) {
    if (!(e instanceof DatapathError)) throw e;
    return [{ check: 'api', scope: 'access review', level: 'fail', detail: e.message }];
  }

  let nodes = req.nodes;
  if (nodes === undefined || nodes.length === 0) {
    try {
      const agents = await kube.listPods(req.agentNamespace, { labelSelector: 'k8s-app=cilium' });
      const all = [...new Set(agents.map((a) => a.node).filter((n) => n !== ''))].sort();
      if (all.length === 0) {
        checks.push({ check: 'agents', scope: req.agentNamespace, level: 'fail', detail: `no Cilium agent pods (label k8s-app=cilium) in ${req.agentNamespace}: is Cilium installed there?` });
      } else if (all.length > req.maxNodes) {
        checks.push({ check: 'agents', scope: req.agentNamespace, level: 'warn', detail: `checking ${req.maxNodes} of ${all.length} nodes; pick others with --node NAME` });
      }
      nodes = all.slice(0, req.maxNodes);
    } catch (e) {
      if (!(e instanceof DatapathError)) throw e;
      checks.push({ check: 'agents', scope: req.agentNamespace, level: 'fail', detail: e.message });
      nodes = [];
    }
  }
  const resolver = new EndpointResolver(kube, exec, { signal: req.signal });
  const perNode = await Promise.all(nodes.map((node) => nodeChecks(kube, resolver, node)));
  checks.push(...perNode.flat());
  checks.push(await podSecurityCheck(kube, req.probeNamespace));
  return checks;
}
