import type { PathStep, ReportCluster, ReportEvidence } from '../model/report.js';
import type { CiliumStatus } from '../model/status.js';

/** One `cilium status` input: which file, which node it was taken on (when known), what it said. */
export interface StatusInput {
  name: string;
  node?: string;
  status: CiliumStatus;
}

/**
 * clusterOf reduces the agents' status outputs to what decides how a packet travels: the Cilium
 * version, the routing mode and tunnel protocol, kube-proxy replacement and host routing. A field
 * no status states is absent (unknown), never guessed; agents that disagree are named in a warning
 * and the first one is kept.
 */
export function clusterOf(inputs: StatusInput[]): { cluster?: ReportCluster; warnings: string[] } {
  const warnings: string[] = [];
  const cluster: ReportCluster = { sources: [] };
  const from = new Map<keyof ReportCluster, string>();
  const take = <K extends Exclude<keyof ReportCluster, 'sources'>>(key: K, value: ReportCluster[K] | undefined, source: string, label: string) => {
    if (value === undefined) return;
    const had = cluster[key];
    if (had === undefined) {
      cluster[key] = value;
      from.set(key, source);
    } else if (had !== value) {
      warnings.push(`the agents' status disagree on ${label}: ${had} (${from.get(key)}) and ${value} (${source}); the report uses ${had}`);
    }
  };
  for (const input of inputs) {
    const s = input.status;
    const source = input.node ? `${input.name} on ${input.node}` : input.name;
    const before = JSON.stringify(cluster);
    take('ciliumVersion', s.version, source, 'the Cilium version');
    take('routingMode', s.routingNetwork === 'Tunnel' ? 'tunnel' : s.routingNetwork === 'Native' ? 'native' : undefined, source, 'the routing mode');
    take('tunnelProtocol', s.tunnelProtocol?.toLowerCase(), source, 'the tunnel protocol');
    take('kubeProxyReplacement', s.kubeProxyReplacement?.mode, source, 'kube-proxy replacement');
    take('hostRouting', s.hostRouting, source, 'host routing');
    take('masquerading', s.masquerading?.mode, source, 'masquerading');
    if (JSON.stringify(cluster) !== before || inputs.length === 1) cluster.sources.push(source);
  }
  const known = Object.keys(cluster).some((k) => k !== 'sources');
  return known ? { cluster, warnings } : { warnings };
}

/** clusterWords: the header line, and the evidence phrase `cilium status (file): ...`. */
export function clusterWords(c: ReportCluster): string {
  const parts: string[] = [];
  if (c.ciliumVersion) parts.push(`Cilium ${c.ciliumVersion}`);
  if (c.routingMode) parts.push(`routing ${c.routingMode}${c.tunnelProtocol ? ` (${c.tunnelProtocol})` : ''}`);
  else if (c.tunnelProtocol) parts.push(`tunnel protocol ${c.tunnelProtocol}`);
  if (c.hostRouting) parts.push(`host routing ${c.hostRouting}`);
  if (c.kubeProxyReplacement) parts.push(`kube-proxy replacement ${c.kubeProxyReplacement}`);
  if (c.masquerading) parts.push(`masquerading ${c.masquerading}`);
  return parts.join(', ');
}

/**
 * statusNotes adds what the agents' status says to the evidence of the path steps it agrees with
 * (marked as configuration, not an observation of the packet), and returns a conclusion where it
 * disagrees with the observed path or where the path is unknown (then it says what the
 * configuration implies and that nothing here shows it). How the settings route: Cilium's
 * bpf_lxc local delivery (bpf/lib/l3.h redirect_ep: the peer with BPF host routing, the lxc
 * without), `-> stack` to other nodes in legacy host routing, encapsulation in tunnel mode.
 */
export function statusNotes(c: ReportCluster, path: PathStep[], evidence: ReportEvidence[], crossNode: boolean, sameNode: boolean): string[] {
  const said = `cilium status (${c.sources.join(', ')})`;
  const agree = (step: PathStep, what: string) => evidence.find((e) => e.claim === step)?.because.push(`${said}: ${what} (the agent's configuration, not an observation of this packet)`);
  const tunnel = `routing tunnel${c.tunnelProtocol ? ` (${c.tunnelProtocol})` : ''}`;
  if (c.hostRouting === 'BPF') agree('redirect-peer', 'host routing BPF, whose delivery to local pods is bpf_redirect_peer()');
  if (c.hostRouting === 'Legacy') {
    agree('redirect', 'host routing Legacy, whose delivery to local pods is bpf_redirect() to the lxc');
    if (crossNode) agree('host-stack', 'host routing Legacy, which hands traffic for other nodes to the host stack');
  }
  if (c.routingMode === 'tunnel') agree('overlay', tunnel);
  if (c.routingMode === 'native') agree('native-routing', 'routing native');

  const notes: string[] = [];
  const disagree = (setting: string, observed: string) => notes.push(`The agent's status says ${setting}, yet the evidence shows ${observed}: check that the status comes from this node and this time.`);
  if (sameNode && c.hostRouting === 'BPF' && (path.includes('redirect') || path.includes('host-stack'))) disagree('host routing BPF', `path ${path.join(' -> ')}`);
  if (c.hostRouting === 'Legacy' && path.includes('redirect-peer')) disagree('host routing Legacy', 'bpf_redirect_peer()');
  if (crossNode && c.routingMode === 'native' && path.includes('overlay')) disagree('routing native', 'a tunnel');
  if (crossNode && c.routingMode === 'tunnel' && path.includes('native-routing')) disagree(tunnel, 'unencapsulated pod addresses on the underlay');
  if (path.length === 1 && path[0] === 'unknown') {
    const expect: string[] = [];
    if (sameNode && c.hostRouting) expect.push(c.hostRouting === 'BPF' ? 'same-node delivery by bpf_redirect_peer()' : 'same-node delivery by bpf_redirect() to the destination lxc');
    if (crossNode && c.routingMode) expect.push(c.routingMode === 'tunnel' ? `the ${c.tunnelProtocol ?? 'tunnel'} tunnel between the nodes` : 'native routing between the nodes');
    if (expect.length) notes.push(`The agent's status (${clusterWords(c)}) implies ${expect.join(' and ')}, but no observation here shows this flow's path, so it stays unknown.`);
  }
  return notes;
}
