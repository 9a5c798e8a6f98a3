/**
 * Builds the lab's kernel side out of network namespaces: two nodes joined by an underlay veth
 * (`ens33` on both ends), per node a `cilium_host`/`cilium_net` pair holding the router address
 * and optionally `cilium_vxlan`, and per pod a netns whose `eth0` is paired with a host-side
 * `lxc…` veth, /32 addresses and routes as Cilium sets them. Nothing is added to the machine's
 * own network namespace.
 */
import { ipBatch, inNetns, LabError, run } from './run.js';
import { networkedPods, VXLAN_IF, VXLAN_PORT, type PlannedNode, type PlannedPod, type Topology, type TunnelMode } from './topology.js';

interface IpLink {
  ifindex: number;
  ifname: string;
  address?: string;
}

/** What the kernel chose while building: ifindexes and MACs. */
export interface NetworkFacts {
  nodes: Map<string, { underlayMac: string; underlayIfindex: number; ciliumHostMac: string; ciliumHostIfindex: number; vxlanIfindex?: number; netnsInode: number }>;
  pods: Map<string, { mac: string; lxcIfindex: number; lxcMac: string; netnsInode: number }>;
}

/** Names of all lab netns currently present. */
export function listNetns(): string[] {
  const out = run('ip', ['-j', 'netns', 'list']).trim();
  if (out === '') return [];
  return (JSON.parse(out) as { name: string }[]).map((n) => n.name);
}

function sysctls(netns: string, settings: Record<string, string>): void {
  inNetns(netns, ['sysctl', '-q', '-w', ...Object.entries(settings).map(([k, v]) => `${k}=${v}`)]);
}

function links(netns: string): IpLink[] {
  return JSON.parse(run('ip', ['-j', '-n', netns, 'link', 'show'])) as IpLink[];
}

function linkNamed(netns: string, name: string): IpLink {
  const l = links(netns).find((x) => x.ifname === name);
  if (!l) throw new LabError(`link ${name} missing in netns ${netns}`);
  return l;
}

function netnsInode(netns: string): number {
  return Number(run('stat', ['-L', '-c', '%i', `/run/netns/${netns}`]).trim());
}

/** Routes of a node: its pods by endpoint route, the other nodes' pod CIDRs by underlay or tunnel. */
function nodeLines(node: PlannedNode, others: PlannedNode[], pods: PlannedPod[], tunnel: TunnelMode, peerNetns: string | undefined): string[] {
  const prefixLen = 24;
  const lines = ['link set lo up'];
  if (peerNetns !== undefined) lines.push(`link add ${node.underlayIf} type veth peer name ${node.underlayIf} netns ${peerNetns}`);
  lines.push(
    `addr add ${node.ip}/${prefixLen} dev ${node.underlayIf}`,
    `link set ${node.underlayIf} up`,
    'link add cilium_host type veth peer name cilium_net',
    `addr add ${node.routerIp}/32 dev cilium_host`,
    'link set cilium_net up',
    'link set cilium_host up',
  );
  if (tunnel === 'vxlan') {
    lines.push(`link add ${VXLAN_IF} type vxlan external dstport ${VXLAN_PORT}`, `link set ${VXLAN_IF} arp off`, `link set ${VXLAN_IF} up`);
  }
  for (const pod of pods) {
    lines.push(
      `link add ${pod.lxcName} type veth peer name eth0 netns ${pod.netns}`,
      `link set ${pod.lxcName} up`,
      // Endpoint routes: the host stack reaches each local pod through its lxc.
      `route add ${pod.ip}/32 dev ${pod.lxcName} scope link`,
    );
  }
  for (const other of others) {
    if (tunnel === 'vxlan') lines.push(`route add ${other.podCidr} dev ${VXLAN_IF} mtu 1450`);
    else lines.push(`route add ${other.podCidr} via ${other.ip} dev ${node.underlayIf}`);
  }
  return lines;
}

function podLines(pod: PlannedPod, node: PlannedNode, tunnel: TunnelMode): string[] {
  const mtu = tunnel === 'vxlan' ? ' mtu 1450' : '';
  return [
    'link set lo up',
    'link set eth0 up',
    `addr add ${pod.ip}/32 dev eth0`,
    `route add ${node.routerIp}/32 dev eth0 scope link`,
    `route add default via ${node.routerIp} dev eth0${mtu}`,
  ];
}

/**
 * The iptables rules Cilium's agent installs on a node (its CILIUM_* chains and their feeder
 * rules), so the node's netfilter looks like a Cilium node's: a TRACE rule shows the packet
 * walking filter/FORWARD -> CILIUM_FORWARD when the host stack forwards it.
 */
const CILIUM_IPTABLES = `*filter
:INPUT ACCEPT [0:0]
:FORWARD ACCEPT [0:0]
:OUTPUT ACCEPT [0:0]
:CILIUM_FORWARD - [0:0]
:CILIUM_INPUT - [0:0]
:CILIUM_OUTPUT - [0:0]
-A INPUT -m comment --comment "cilium-feeder: CILIUM_INPUT" -j CILIUM_INPUT
-A FORWARD -m comment --comment "cilium-feeder: CILIUM_FORWARD" -j CILIUM_FORWARD
-A OUTPUT -m comment --comment "cilium-feeder: CILIUM_OUTPUT" -j CILIUM_OUTPUT
-A CILIUM_FORWARD -o cilium_host -m comment --comment "cilium: any->cluster on cilium_host forward accept" -j ACCEPT
-A CILIUM_FORWARD -i cilium_host -m comment --comment "cilium: cluster->any on cilium_host forward accept (nodeport)" -j ACCEPT
-A CILIUM_FORWARD -i lxc+ -m comment --comment "cilium: cluster->any on lxc+ forward accept" -j ACCEPT
-A CILIUM_FORWARD -i cilium_net -m comment --comment "cilium: cluster->any on cilium_net forward accept (nodeport)" -j ACCEPT
-A CILIUM_FORWARD -o lxc+ -m comment --comment "cilium: any->cluster on lxc+ forward accept" -j ACCEPT
-A CILIUM_INPUT -m mark --mark 0x200/0xf00 -m comment --comment "cilium: ACCEPT for proxy traffic" -j ACCEPT
-A CILIUM_OUTPUT -m mark --mark 0xa00/0xfffffeff -m comment --comment "cilium: ACCEPT for proxy return traffic" -j ACCEPT
-A CILIUM_OUTPUT -m mark ! --mark 0xe00/0xf00 -m mark ! --mark 0xd00/0xf00 -m mark ! --mark 0xa00/0xe00 -m mark ! --mark 0x800/0xe00 -m mark ! --mark 0xf00/0xf00 -m comment --comment "cilium: host->any mark as from host" -j MARK --set-xmark 0xc00/0xf00
COMMIT
`;

const NODE_SYSCTLS = {
  'net.ipv4.ip_forward': '1',
  'net.ipv4.conf.all.rp_filter': '0',
  'net.ipv4.conf.default.rp_filter': '0',
  // The seed's captures show IPv4 only; IPv6 link-local chatter would only add noise.
  'net.ipv6.conf.all.disable_ipv6': '1',
  'net.ipv6.conf.default.disable_ipv6': '1',
};
const POD_SYSCTLS = {
  'net.ipv4.conf.all.rp_filter': '0',
  'net.ipv4.conf.default.rp_filter': '0',
  'net.ipv6.conf.all.disable_ipv6': '1',
  'net.ipv6.conf.default.disable_ipv6': '1',
};

/** Creates every namespace, link, address and route of the topology; returns what the kernel chose. */
export function buildNetwork(topology: Topology, tunnel: TunnelMode): NetworkFacts {
  const pods = networkedPods(topology);
  const allNetns = [...topology.nodes.map((n) => n.netns), ...pods.map((p) => p.netns as string)];
  const present = new Set(listNetns());
  const clash = allNetns.filter((n) => present.has(n));
  if (clash.length > 0) throw new LabError(`network namespaces already exist: ${clash.join(', ')} (run down first)`);

  ipBatch(undefined, allNetns.map((n) => `netns add ${n}`));
  for (const node of topology.nodes) sysctls(node.netns, NODE_SYSCTLS);
  for (const pod of pods) sysctls(pod.netns as string, POD_SYSCTLS);

  const [first, ...rest] = topology.nodes;
  if (rest.length !== 1) throw new LabError('the lab has exactly two nodes');
  for (const node of topology.nodes) {
    const others = topology.nodes.filter((n) => n !== node);
    ipBatch(node.netns, nodeLines(node, others, networkedPods(topology, node.name), tunnel, node === first ? rest[0].netns : undefined));
  }
  for (const pod of pods) {
    const node = topology.nodes.find((n) => n.name === pod.node) as PlannedNode;
    ipBatch(pod.netns, podLines(pod, node, tunnel));
  }
  for (const node of topology.nodes) inNetns(node.netns, ['iptables-restore'], CILIUM_IPTABLES);
  return readFacts(topology, tunnel);
}

function readFacts(topology: Topology, tunnel: TunnelMode): NetworkFacts {
  const facts: NetworkFacts = { nodes: new Map(), pods: new Map() };
  for (const node of topology.nodes) {
    const ls = links(node.netns);
    const find = (name: string): IpLink => {
      const l = ls.find((x) => x.ifname === name);
      if (!l) throw new LabError(`link ${name} missing in netns ${node.netns}`);
      return l;
    };
    const underlay = find(node.underlayIf);
    const ciliumHost = find('cilium_host');
    facts.nodes.set(node.name, {
      underlayMac: underlay.address ?? '',
      underlayIfindex: underlay.ifindex,
      ciliumHostMac: ciliumHost.address ?? '',
      ciliumHostIfindex: ciliumHost.ifindex,
      vxlanIfindex: tunnel === 'vxlan' ? find(VXLAN_IF).ifindex : undefined,
      netnsInode: netnsInode(node.netns),
    });
    for (const pod of networkedPods(topology, node.name)) {
      const lxc = find(pod.lxcName as string);
      const eth0 = linkNamed(pod.netns as string, 'eth0');
      facts.pods.set(pod.uid, { mac: eth0.address ?? '', lxcIfindex: lxc.ifindex, lxcMac: lxc.address ?? '', netnsInode: netnsInode(pod.netns as string) });
    }
  }
  return facts;
}
