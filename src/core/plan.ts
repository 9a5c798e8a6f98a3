import { hostPoint, iptablesPoint, kernelPoint, podPoint } from './points.js';

/**
 * The live trace's plan: which probe observes which point, on which node, and from where it
 * runs. Pure: everything it needs (resolved pods, what the probe pods found on each node) comes
 * in as data. Commands (argv, readiness, stop) are the probes' business (src/probes).
 */

/** ProbeTool: the tools `--probes` chooses from. */
export type ProbeTool = 'tcpdump' | 'monitor' | 'pwru' | 'iptables' | 'hubble';

export const PROBE_TOOLS: readonly ProbeTool[] = ['tcpdump', 'monitor', 'pwru', 'iptables', 'hubble'];
export const DEFAULT_PROBES: readonly ProbeTool[] = ['tcpdump', 'monitor', 'pwru', 'hubble'];

/** Traffic: what the trace sends from SRC to DST (`none`: observe what flows anyway). */
export type Traffic = { kind: 'icmp' } | { kind: 'tcp'; port: number } | { kind: 'udp'; port: number } | { kind: 'none' };

/** ProbePodRole: the two helper pods a node may get: captures (tcpdump, nsenter, ip) and pwru. */
export type ProbePodRole = 'capture' | 'pwru';

/** TraceTarget: one end of the trace (SRC or DST), as resolution found it. */
export interface TraceTarget {
  namespace: string;
  name: string;
  node: string;
  /** The address traffic uses (the pod's first IP of the family both ends share). */
  ip: string;
  hostNetwork: boolean;
  /** Container names, first one first: exec goes there unless said otherwise. */
  containers: string[];
  /** Agent-local endpoint id; null for hostNetwork pods or when the endpoint was not found. */
  endpointId: number | null;
  /** Host-side veth and its ifindex, the pod-side MAC: they identify the pod's netns on the node. */
  lxc?: string;
  lxcIfindex?: number;
  mac?: string;
}

/** PodHandle: a pod the trace can exec into. */
export interface PodHandle {
  namespace: string;
  name: string;
  container?: string;
}

/** TraceNode: one involved node and what is known of it once its probe pods run. */
export interface TraceNode {
  name: string;
  internalIp?: string;
  /** The cilium agent pod (container cilium-agent) and its CLI name (cilium-dbg, or cilium before 1.15). */
  agent?: PodHandle & { cli: string };
  /** Why there is no agent, when there is none. */
  agentProblem?: string;
  /** Probe pods by role; a missing role has its reason in probePodProblems. */
  probePods: Partial<Record<ProbePodRole, PodHandle>>;
  probePodProblems: Partial<Record<ProbePodRole, string>>;
  /** The netns of each pod on this node, by `ns/name`: a path the capture pod can enter, or a name under /run/netns. */
  netnsOfPod: Record<string, string>;
  /** Why a pod's netns was not found, by `ns/name`. */
  netnsProblems?: Record<string, string>;
  /** The tunnel device (cilium_vxlan, cilium_geneve) when the node has one. */
  tunnelDevice?: string;
  /** The device the node reaches the other node through (the underlay NIC). */
  underlay?: string;
}

/** ProbePlace: where a probe's command runs. */
export type ProbePlace =
  | { kind: 'probe-pod'; node: string; role: ProbePodRole }
  | { kind: 'agent'; node: string }
  | { kind: 'app-pod'; namespace: string; name: string; container?: string };

/** PlannedProbe: one probe the trace starts. */
export interface PlannedProbe {
  /** Unique within the run, usable as a file name: `tcpdump-pod-default-same-eth0`. */
  id: string;
  tool: ProbeTool;
  /** Point id of what it observes (`cilium:NODE`, `kernel:NODE`, `iptables:NODE` for node-wide tools). */
  point: string;
  node: string;
  place: ProbePlace;
  /** tcpdump: the interface, and the named netns to enter first (pod side, from the node). */
  iface?: string;
  netns?: string;
  /** pcap-filter words, one argv word each. */
  filter: string[];
  /** monitor: endpoint ids of this node to relate to (empty: every event of the node). */
  endpoints?: number[];
  /** iptables: the two addresses whose packets get a TRACE rule (both directions); hubble: the addresses its flows are filtered to. */
  addresses?: [string, string];
  /** Why the probe runs where it does when that is a fallback, for the report. */
  note?: string;
}

/** SkippedProbe: a probe the trace could not run, and why (the report marks its point). */
export interface SkippedProbe {
  id: string;
  tool: ProbeTool;
  point: string;
  node: string;
  reason: string;
}

export interface TracePlan {
  probes: PlannedProbe[];
  skipped: SkippedProbe[];
}

/** ProbePodNeed: a helper pod the plan needs on a node. */
export interface ProbePodNeed {
  node: string;
  role: ProbePodRole;
}

/** planProbePods: the helper pods a trace needs: captures on every involved node for tcpdump, pwru's own. */
export function planProbePods(src: TraceTarget, dst: TraceTarget, probes: readonly ProbeTool[]): ProbePodNeed[] {
  const nodes = involvedNodes(src, dst);
  const out: ProbePodNeed[] = [];
  for (const node of nodes) {
    if (probes.includes('tcpdump')) out.push({ node, role: 'capture' });
    if (probes.includes('pwru')) out.push({ node, role: 'pwru' });
  }
  return out;
}

/** involvedNodes: SRC's node, then DST's when it is another. */
export function involvedNodes(src: TraceTarget, dst: TraceTarget): string[] {
  return src.node === dst.node ? [src.node] : [src.node, dst.node];
}

/**
 * planTrace decides every probe of a trace from SRC to DST. With `frontend` (a Service's address
 * that DST is a backend of) the captures and pwru also take the packets to and from the frontend,
 * which is all SRC's own points see before the load balancer translates them.
 */
export function planTrace(src: TraceTarget, dst: TraceTarget, nodes: readonly TraceNode[], probes: readonly ProbeTool[], frontend?: string): TracePlan {
  const plan: TracePlan = { probes: [], skipped: [] };
  const nodeOf = new Map(nodes.map((n) => [n.name, n]));
  const hostsFilter = frontend === undefined ? ['host', src.ip, 'and', 'host', dst.ip] : ['host', src.ip, 'and', '(', 'host', dst.ip, 'or', 'host', frontend, ')'];
  const crossNode = src.node !== dst.node;
  const ends = sameTarget(src, dst) ? [src] : [src, dst];

  if (probes.includes('tcpdump')) {
    for (const end of ends) planPodCaptures(plan, end, nodeOf.get(end.node), hostsFilter);
    if (crossNode) {
      for (const name of involvedNodes(src, dst)) planNodeCaptures(plan, nodeOf.get(name), name, src, dst, hostsFilter, nodeOf);
    }
  }
  for (const name of involvedNodes(src, dst)) {
    const node = nodeOf.get(name);
    if (probes.includes('monitor')) planMonitor(plan, node, name, ends);
    if (probes.includes('hubble')) planHubble(plan, node, name, ends);
    if (probes.includes('pwru')) planPwru(plan, node, name, hostsFilter);
    if (probes.includes('iptables')) planIptables(plan, node, name, src, dst);
  }
  return plan;
}

function sameTarget(a: TraceTarget, b: TraceTarget): boolean {
  return a.namespace === b.namespace && a.name === b.name;
}

function planPodCaptures(plan: TracePlan, end: TraceTarget, node: TraceNode | undefined, filter: string[]): void {
  const podKey = `${end.namespace}/${end.name}`;
  const eth0 = podPoint(end.namespace, end.name, 'eth0');
  const eth0Id = probeId('tcpdump', 'pod', end.namespace, end.name, 'eth0');
  if (end.hostNetwork) {
    plan.skipped.push({ id: eth0Id, tool: 'tcpdump', point: eth0, node: end.node, reason: `${podKey} uses the host network: it has no eth0 of its own` });
  } else {
    const capture = node?.probePods.capture;
    const netns = node?.netnsOfPod[podKey];
    if (capture && netns) {
      plan.probes.push({ id: eth0Id, tool: 'tcpdump', point: eth0, node: end.node, place: { kind: 'probe-pod', node: end.node, role: 'capture' }, iface: 'eth0', netns, filter });
    } else {
      // The pod's own image may carry tcpdump; if it does not, the probe fails with 127 and says so.
      const why = capture ? node?.netnsProblems?.[podKey] ?? `no netns of ${podKey} was found on ${end.node}` : node?.probePodProblems.capture ?? `no probe pod on ${end.node}`;
      plan.probes.push({
        id: eth0Id,
        tool: 'tcpdump',
        point: eth0,
        node: end.node,
        place: { kind: 'app-pod', namespace: end.namespace, name: end.name, container: end.containers[0] },
        iface: 'eth0',
        filter,
        note: `captured by exec into ${podKey} (${why})`,
      });
    }
  }

  if (end.hostNetwork) return;
  if (!end.lxc) {
    const id = probeId('tcpdump', 'host', end.node, `${end.name}-lxc`);
    plan.skipped.push({ id, tool: 'tcpdump', point: hostPoint(end.node, `lxc-of-${end.name}`), node: end.node, reason: `the host-side interface of ${podKey} is not known (its Cilium endpoint was not resolved)` });
    return;
  }
  const lxcPoint = hostPoint(end.node, end.lxc);
  const lxcId = probeId('tcpdump', 'host', end.node, end.lxc);
  if (!node?.probePods.capture) {
    plan.skipped.push({ id: lxcId, tool: 'tcpdump', point: lxcPoint, node: end.node, reason: node?.probePodProblems.capture ?? `no probe pod on ${end.node}` });
    return;
  }
  plan.probes.push({ id: lxcId, tool: 'tcpdump', point: lxcPoint, node: end.node, place: { kind: 'probe-pod', node: end.node, role: 'capture' }, iface: end.lxc, filter });
}

function planNodeCaptures(
  plan: TracePlan,
  node: TraceNode | undefined,
  name: string,
  src: TraceTarget,
  dst: TraceTarget,
  hostsFilter: string[],
  nodeOf: Map<string, TraceNode>,
): void {
  const capture = node?.probePods.capture;
  const problem = node?.probePodProblems.capture ?? `no probe pod on ${name}`;
  const place: ProbePlace = { kind: 'probe-pod', node: name, role: 'capture' };
  if (node?.tunnelDevice) {
    const point = hostPoint(name, node.tunnelDevice);
    const id = probeId('tcpdump', 'host', name, node.tunnelDevice);
    // The tunnel device shows decapsulated packets: the pod addresses themselves.
    if (capture) plan.probes.push({ id, tool: 'tcpdump', point, node: name, place, iface: node.tunnelDevice, filter: hostsFilter });
    else plan.skipped.push({ id, tool: 'tcpdump', point, node: name, reason: problem });
  }
  const underlayId = probeId('tcpdump', 'host', name, node?.underlay ?? 'underlay');
  if (!node?.underlay) {
    plan.skipped.push({ id: underlayId, tool: 'tcpdump', point: hostPoint(name, 'underlay'), node: name, reason: capture ? `the device ${name} reaches the other node through was not found` : problem });
    return;
  }
  const point = hostPoint(name, node.underlay);
  if (!capture) {
    plan.skipped.push({ id: underlayId, tool: 'tcpdump', point, node: name, reason: problem });
    return;
  }
  const peer = nodeOf.get(name === src.node ? dst.node : src.node);
  plan.probes.push({ id: underlayId, tool: 'tcpdump', point, node: name, place, iface: node.underlay, filter: underlayFilter(src.ip, dst.ip, node.internalIp, peer?.internalIp, node.tunnelDevice !== undefined) });
}

/**
 * underlayFilter: on the NIC, native routing shows the pod addresses; a tunnel shows them only
 * inside UDP. VXLAN and Geneve without options put the inner IPv4 source 42 bytes into the UDP
 * header (8 UDP + 8 VXLAN/Geneve + 14 Ethernet + 12), so the filter matches this pair only and
 * not every pod pair the two nodes tunnel.
 */
export function underlayFilter(a: string, b: string, nodeA?: string, nodeB?: string, tunnel = true): string[] {
  const direct = ['(', 'host', a, 'and', 'host', b, ')'];
  const ha = ipv4Hex(a);
  const hb = ipv4Hex(b);
  if (!tunnel || ha === undefined || hb === undefined) return direct;
  const outer = nodeA && nodeB ? ['and', 'host', nodeA, 'and', 'host', nodeB] : [];
  return [
    ...direct,
    'or',
    '(',
    'udp',
    ...outer,
    'and',
    '(',
    '(',
    'udp[42:4]', '=', ha, 'and', 'udp[46:4]', '=', hb,
    ')',
    'or',
    '(',
    'udp[42:4]', '=', hb, 'and', 'udp[46:4]', '=', ha,
    ')',
    ')',
    ')',
  ];
}

function ipv4Hex(ip: string): string | undefined {
  const parts = ip.split('.');
  if (parts.length !== 4) return undefined;
  let hex = '0x';
  for (const p of parts) {
    if (!/^\d{1,3}$/.test(p) || Number(p) > 255) return undefined;
    hex += Number(p).toString(16).padStart(2, '0');
  }
  return hex;
}

function planMonitor(plan: TracePlan, node: TraceNode | undefined, name: string, ends: TraceTarget[]): void {
  const id = probeId('monitor', name);
  const point = `cilium:${name}`;
  if (!node?.agent) {
    plan.skipped.push({ id, tool: 'monitor', point, node: name, reason: node?.agentProblem ?? `no cilium agent pod was found on ${name}` });
    return;
  }
  // Endpoint ids are per node: only this node's endpoints are related to here.
  const endpoints = ends.filter((e) => e.node === name && e.endpointId !== null).map((e) => e.endpointId!);
  const note = endpoints.length === 0 ? `no endpoint of the traced pods on ${name}: every event of the node is kept` : undefined;
  plan.probes.push({ id, tool: 'monitor', point, node: name, place: { kind: 'agent', node: name }, filter: [], endpoints: [...new Set(endpoints)], note });
}

/** Hubble on one node, in its agent pod: the flows to and from the traced pods' addresses. */
function planHubble(plan: TracePlan, node: TraceNode | undefined, name: string, ends: TraceTarget[]): void {
  const id = probeId('hubble', name);
  const point = `cilium:${name}`;
  if (!node?.agent) {
    plan.skipped.push({ id, tool: 'hubble', point, node: name, reason: node?.agentProblem ?? `no cilium agent pod was found on ${name}` });
    return;
  }
  const probe: PlannedProbe = { id, tool: 'hubble', point, node: name, place: { kind: 'agent', node: name }, filter: [] };
  const [a, b] = [ends[0].ip, ends[ends.length - 1].ip];
  if (a && b) probe.addresses = [a, b];
  else probe.note = 'an address of the traced pods is unknown: every flow of the node is kept';
  plan.probes.push(probe);
}

function planPwru(plan: TracePlan, node: TraceNode | undefined, name: string, filter: string[]): void {
  const id = probeId('pwru', name);
  const point = kernelPoint(name);
  if (!node?.probePods.pwru) {
    plan.skipped.push({ id, tool: 'pwru', point, node: name, reason: node?.probePodProblems.pwru ?? `no pwru pod on ${name}` });
    return;
  }
  plan.probes.push({ id, tool: 'pwru', point, node: name, place: { kind: 'probe-pod', node: name, role: 'pwru' }, filter });
}

function planIptables(plan: TracePlan, node: TraceNode | undefined, name: string, src: TraceTarget, dst: TraceTarget): void {
  const id = probeId('iptables', name);
  const point = iptablesPoint(name);
  // The agent pod has the node's network and the iptables of the backend Cilium itself uses.
  if (!node?.agent) {
    plan.skipped.push({ id, tool: 'iptables', point, node: name, reason: node?.agentProblem ?? `no cilium agent pod was found on ${name}` });
    return;
  }
  plan.probes.push({ id, tool: 'iptables', point, node: name, place: { kind: 'agent', node: name }, filter: [], addresses: [src.ip, dst.ip] });
}

/** probeId: a file-name-safe id from its parts. */
export function probeId(...parts: string[]): string {
  return parts.map((p) => p.replace(/[^A-Za-z0-9._-]+/g, '_')).join('-');
}

/** parseTraffic reads `--traffic icmp|tcp:PORT|udp:PORT|none`; undefined when it is none of them. */
export function parseTraffic(text: string): Traffic | undefined {
  if (text === 'icmp' || text === 'none') return { kind: text };
  const m = /^(tcp|udp):(\d{1,5})$/.exec(text);
  if (!m) return undefined;
  const port = Number(m[2]);
  if (port < 1 || port > 65535) return undefined;
  return { kind: m[1] as 'tcp' | 'udp', port };
}

/** parseProbeList reads `--probes tcpdump,monitor,...`. */
export function parseProbeList(text: string): { probes: ProbeTool[]; error?: string } {
  const words = text.split(',').map((w) => w.trim()).filter((w) => w !== '');
  const bad = words.filter((w) => !(PROBE_TOOLS as readonly string[]).includes(w));
  if (bad.length) return { probes: [], error: `unknown probe ${bad.join(', ')}: choose from ${PROBE_TOOLS.join(', ')}` };
  if (words.length === 0) return { probes: [], error: `no probe chosen: choose from ${PROBE_TOOLS.join(', ')}` };
  return { probes: [...new Set(words)] as ProbeTool[] };
}
