/**
 * The lab's cluster as data: which nodes and pods exist, their addresses, names, endpoint IDs
 * and identities. Pure (no I/O), so `up`, `down` and the tests agree on every name. What only
 * the kernel decides (ifindexes, MACs) is filled in by build.ts after the links exist.
 */
import { createHash } from 'node:crypto';
import { containerId, identityLabels, stableUid } from '../api/objects.js';

/**
 * Host routing as Cilium configures it (see kernel/bpf/datapath.bpf.c): `bpf` = BPF host routing;
 * `legacy` = legacy host routing, Cilium's default without endpoint routes (same-node pods still
 * delivered by a BPF redirect to the destination lxc); `legacy-endpoint-routes` = legacy host
 * routing with enable-endpoint-routes (same-node pods forwarded by the stack).
 */
export type DatapathMode = 'legacy' | 'legacy-endpoint-routes' | 'bpf';
export const DATAPATH_MODES: readonly DatapathMode[] = ['legacy', 'legacy-endpoint-routes', 'bpf'];
export type TunnelMode = 'vxlan' | 'disabled';

export interface PlannedPod {
  namespace: string;
  name: string;
  uid: string;
  node: string;
  hostNetwork: boolean;
  /** Pod IP (the node IP for hostNetwork pods). */
  ip: string;
  netns?: string;
  lxcName?: string;
  endpointId?: number;
  identity?: number;
  labels: Record<string, string>;
  image: string;
  containers: string[];
  /** What the pod's image serves (started in its netns by `lab up`, emulated/pod-servers.ts). */
  serves?: PodServes;
}

/** Ports a pod's application listens on. */
export interface PodServes {
  tcp: number[];
  udp: number[];
}

export interface PlannedNode {
  name: string;
  netns: string;
  ip: string;
  underlayIf: string;
  podCidr: string;
  routerIp: string;
  /** Endpoint ID of the node's host endpoint (reserved:host). */
  hostEndpointId: number;
}

export interface Topology {
  /** Instance name: '' for the lab of `npm run lab`, a short id for a test's own lab. */
  instance: string;
  nodes: PlannedNode[];
  pods: PlannedPod[];
}

/** Every lab network namespace starts with this, so `down` finds leftovers without state. */
export const NETNS_PREFIX = 'dplab-';
export const UNDERLAY_IF = 'ens33';
export const VXLAN_IF = 'cilium_vxlan';
export const VXLAN_PORT = 8472;
/** Reserved identities (Cilium pkg/identity/numericidentity.go). */
export const RESERVED_IDENTITIES: Record<number, string> = {
  0: 'unknown',
  1: 'host',
  2: 'world',
  3: 'unmanaged',
  4: 'health',
  5: 'init',
  6: 'remote-node',
  7: 'kube-apiserver',
  8: 'ingress',
};
export const ID_HOST = 1;
export const ID_REMOTE_NODE = 6;

const NETSHOOT = 'nicolaka/netshoot:v0.13';
const NGINX = 'docker.io/library/nginx:1.27';

/** The netns-name stem of an instance: `dplab-` or `dplab-<instance>-`. */
export function instancePrefix(instance: string): string {
  return instance === '' ? NETNS_PREFIX : `${NETNS_PREFIX}${instance}-`;
}

/** Whether a netns belongs to an instance (the default instance owns `dplab-bpf<N>...` only). */
export function netnsOfInstance(name: string, instance: string): boolean {
  if (instance === '') return /^dplab-bpf\d+(-|$)/.test(name);
  return name.startsWith(instancePrefix(instance));
}

/** Cilium names the host side of a pod's veth `lxc` + 11 hex chars of a hash of the container. */
export function lxcName(podUid: string): string {
  return `lxc${createHash('sha256').update(containerId(podUid, 'eth0')).digest('hex').slice(0, 11)}`;
}

interface PodSpec {
  namespace: string;
  name: string;
  node: number;
  hostOctet?: number;
  endpointId?: number;
  labels: Record<string, string>;
  image: string;
  containers: string[];
  hostNetwork?: boolean;
  serves?: PodServes;
}

/** Identities per security-relevant label set; the seed's pods keep the seed's numbers. */
const IDENTITIES: Record<string, number> = { 'run=same': 31009, 'app=cni': 37483, 'run=web': 12187 };

const PODS: PodSpec[] = [
  { namespace: 'default', name: 'same', node: 1, hostOctet: 135, endpointId: 2836, labels: { run: 'same' }, image: NETSHOOT, containers: ['same'] },
  { namespace: 'default', name: 'cni-6vf5d', node: 1, hostOctet: 180, endpointId: 3663, labels: { app: 'cni' }, image: NETSHOOT, containers: ['cni'] },
  { namespace: 'default', name: 'cni-x7k2m', node: 2, hostOctet: 41, endpointId: 1187, labels: { app: 'cni' }, image: NETSHOOT, containers: ['cni'] },
  { namespace: 'default', name: 'web', node: 2, hostOctet: 87, endpointId: 2401, labels: { run: 'web' }, image: NGINX, containers: ['web'], serves: { tcp: [80], udp: [53] } },
  {
    namespace: 'kube-system', name: 'cilium-dqnsk', node: 1, hostNetwork: true,
    labels: { 'k8s-app': 'cilium', 'app.kubernetes.io/name': 'cilium-agent', 'app.kubernetes.io/part-of': 'cilium' },
    image: 'cilium', containers: ['cilium-agent'],
  },
  {
    namespace: 'kube-system', name: 'cilium-7h2xm', node: 2, hostNetwork: true,
    labels: { 'k8s-app': 'cilium', 'app.kubernetes.io/name': 'cilium-agent', 'app.kubernetes.io/part-of': 'cilium' },
    image: 'cilium', containers: ['cilium-agent'],
  },
];

/** The identity of a pod's security-relevant labels (the lab has no other label sources). */
function identityOf(labels: Record<string, string>): number {
  const key = Object.entries(labels).map(([k, v]) => `${k}=${v}`).sort().join(',');
  const known = IDENTITIES[key];
  if (known !== undefined) return known;
  return 256 + (createHash('sha256').update(key).digest().readUInt16BE(0) % 60000);
}

/** The lab's cluster: nodes bpf1 and bpf2 and the pods of the seed plus a few more. */
export function planTopology(instance: string, ciliumVersion: string): Topology {
  const prefix = instancePrefix(instance);
  const nodes: PlannedNode[] = [1, 2].map((n) => ({
    name: `bpf${n}`,
    netns: `${prefix}bpf${n}`,
    ip: `192.168.2.${60 + n}`,
    underlayIf: UNDERLAY_IF,
    podCidr: `10.0.${n}.0/24`,
    routerIp: n === 1 ? '10.0.1.159' : '10.0.2.212',
    hostEndpointId: n === 1 ? 342 : 1024,
  }));
  const pods = PODS.map((spec): PlannedPod => {
    const node = nodes[spec.node - 1];
    const uid = stableUid('pod', instance, spec.namespace, spec.name);
    const image = spec.image === 'cilium' ? `quay.io/cilium/cilium:v${ciliumVersion}` : spec.image;
    if (spec.hostNetwork) {
      return { namespace: spec.namespace, name: spec.name, uid, node: node.name, hostNetwork: true, ip: node.ip, labels: spec.labels, image, containers: spec.containers };
    }
    return {
      namespace: spec.namespace,
      name: spec.name,
      uid,
      node: node.name,
      hostNetwork: false,
      ip: `10.0.${spec.node}.${spec.hostOctet}`,
      netns: `${node.netns}-${spec.name}`,
      lxcName: lxcName(uid),
      endpointId: spec.endpointId,
      identity: identityOf(spec.labels),
      labels: spec.labels,
      image,
      containers: spec.containers,
      serves: spec.serves,
    };
  });
  return { instance, nodes, pods };
}

/** The pods whose network the lab builds (hostNetwork pods share their node's). */
export function networkedPods(topology: Topology, node?: string): PlannedPod[] {
  return topology.pods.filter((p) => !p.hostNetwork && (node === undefined || p.node === node));
}

/** Identity labels as the agent derives them: the same derivation the API server's CiliumEndpoints use. */
export const securityLabels = identityLabels;
