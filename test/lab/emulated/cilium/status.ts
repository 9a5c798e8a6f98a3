/**
 * `cilium-dbg status [-o json]` for one lab node: a models.StatusResponse built from the lab's
 * real datapath mode (host routing BPF or Legacy, native routing or VXLAN tunnel, attach mode
 * tc), its node and pod addresses and the emulated version, printed the way
 * pkg/client.FormatStatusResponse prints it (tabwriter 2/0/3) for that release family:
 * `Host Routing:` before 1.14, `Routing: Network: ... Host: ...` from 1.14.
 */
import { createHash } from 'node:crypto';
import { cpus } from 'node:os';
import type { NodeContext } from '../lab-context.js';
import { tabwrite } from '../go-tabwriter.js';
import { CliError } from './cli-error.js';
import { goJson } from './monitor-format.js';
import { atLeast, versionString } from './version.js';

type Json = Record<string, unknown>;

const K8S_APIS_OLD = [
  'cilium/v2::CiliumClusterwideNetworkPolicy', 'cilium/v2::CiliumEndpoint', 'cilium/v2::CiliumNetworkPolicy', 'cilium/v2::CiliumNode',
  'core/v1::Namespace', 'core/v1::Node', 'core/v1::Pods', 'core/v1::Service', 'discovery/v1::EndpointSlice', 'networking.k8s.io/v1::NetworkPolicy',
];
const K8S_APIS_NEW = [
  'EndpointSliceOrEndpoint', 'cilium/v2::CiliumClusterwideNetworkPolicy', 'cilium/v2::CiliumEndpoint', 'cilium/v2::CiliumLocalRedirectPolicy',
  'cilium/v2::CiliumNetworkPolicy', 'cilium/v2::CiliumNode', 'cilium/v2alpha1::CiliumCIDRGroup', 'core/v1::Namespace', 'core/v1::Pods',
  'core/v1::Service', 'networking.k8s.io/v1::NetworkPolicy',
];
const K8S_VERSION = '1.32 (v1.32.4) [linux/amd64]';

const hash = (s: string): string => createHash('sha256').update(s).digest('hex');

/** The agent's status of this node as models.StatusResponse (keys in the Go struct's order). */
export function statusResponse(ctx: NodeContext): Json {
  const { state, node } = ctx;
  const v = state.ciliumVersion;
  const modern = atLeast(v, 1, 14);
  const bpf = state.mode === 'bpf';
  const endpoints = ctx.pods.filter((p) => p.endpointId !== undefined);
  const allocations: Record<string, string> = { [node.routerIp]: 'router' };
  for (const p of endpoints) allocations[p.ip] = `${p.namespace}/${p.name}`;
  const nControllers = 18 + 4 * endpoints.length;
  const createdAt = state.createdAt;
  const sr: Json = {};
  if (atLeast(v, 1, 16)) sr['attach-mode'] = 'tc';
  sr['bandwidth-manager'] = {};
  sr.cilium = { msg: versionString(v, hash), state: 'Ok' };
  sr['clock-source'] = { mode: 'ktime' };
  sr.cluster = {
    ciliumHealth: { state: 'Ok' },
    nodes: state.nodes.map((n) => ({ name: `default/${n.name}`, 'primary-address': { ipv4: { enabled: true, ip: n.ip } } })),
  };
  if (modern) sr['cni-chaining'] = { mode: 'none' };
  if (atLeast(v, 1, 15)) sr['cni-file'] = { msg: 'successfully wrote CNI configuration file to /host/etc/cni/net.d/05-cilium.conflist', state: 'Ok' };
  sr.controllers = Array.from({ length: nControllers }, (_, i) => ({
    configuration: { 'error-retry': true, interval: '1m0s' },
    name: i < endpoints.length ? `sync-policymap-${endpoints[i].endpointId}` : `controller-${i}`,
    status: { 'last-failure-timestamp': '0001-01-01T00:00:00.000Z', 'last-success-timestamp': createdAt, 'success-count': 1 },
  }));
  if (atLeast(v, 1, 16)) sr['datapath-mode'] = 'veth';
  sr.encryption = { mode: 'Disabled' };
  sr['host-firewall'] = { mode: 'Disabled' };
  if (!modern) sr['host-routing'] = { mode: bpf ? 'BPF' : 'Legacy' };
  // As the agent reports its Hubble server (`lab up --hubble on|off`); the numbers are the emulated hubble's own.
  sr.hubble = ctx.kernel.hubble === false ? { state: 'Disabled' } : { state: 'Ok', observer: { 'current-flows': 4095, 'max-flows': 4095, 'seen-flows': 12000, uptime: 1e12 } };
  if (modern) sr['identity-range'] = { 'max-identity': 65535, 'min-identity': 256 };
  sr.ipam = { allocations, ipv4: Object.keys(allocations), status: `IPv4: ${Object.keys(allocations).length}/254 allocated from ${node.podCidr}, ` };
  if (atLeast(v, 1, 13)) {
    sr['ipv4-big-tcp'] = {};
    sr['ipv6-big-tcp'] = {};
  }
  sr['kube-proxy-replacement'] = {
    deviceList: [{ ip: [node.ip], name: node.underlayIf }],
    devices: [node.underlayIf],
    directRoutingDevice: node.underlayIf,
    mode: modern ? 'True' : 'Strict',
  };
  sr.kubernetes = { 'k8s-api-versions': modern ? K8S_APIS_NEW : K8S_APIS_OLD, msg: K8S_VERSION, state: 'Ok' };
  sr.kvstore = { msg: 'Disabled', state: 'Ok' };
  sr.masquerading = bpf
    ? { enabled: true, enabledProtocols: { ipv4: true }, mode: 'BPF', 'snat-exclusion-cidr-v4': node.podCidr }
    : { enabled: true, enabledProtocols: { ipv4: true }, mode: 'IPTables', 'snat-exclusion-cidr-v4': node.podCidr };
  sr.nodeMonitor = { cpus: cpus().length, npages: 64, pagesize: 4096 };
  sr.proxy = { ...(modern ? { 'envoy-deployment-mode': 'embedded' } : {}), ip: node.routerIp, 'port-range': '10000-20000', 'total-redirects': 0 };
  if (modern) {
    sr.routing = {
      'inter-host-routing-mode': state.tunnel === 'vxlan' ? 'Tunnel' : 'Native',
      'intra-host-routing-mode': bpf ? 'BPF' : 'Legacy',
      ...(state.tunnel === 'vxlan' ? { 'tunnel-protocol': 'vxlan' } : {}),
    };
    sr.srv6 = {};
  }
  return sr;
}

/** What `status` prints after FormatStatusResponse: cluster health and, from 1.16, module health. */
export interface StatusTail {
  /** "2/2 reachable\t(2024-12-23T23:27:27Z)" */
  clusterHealth: string;
  modulesOk: number;
}

/** pkg/client.FormatStatusResponse for the fields the lab sets, plus the status command's health lines. */
export function formatStatus(sr: Json, version: string, tail: StatusTail): string {
  const get = (k: string): Json => sr[k] as Json;
  const modern = atLeast(version, 1, 14);
  let w = `KVStore:\t${get('kvstore').state}\t${get('kvstore').msg}\n`;
  const k8s = get('kubernetes');
  w += `Kubernetes:\t${k8s.state}\t${k8s.msg}\n`;
  w += `Kubernetes APIs:\t["${[...(k8s['k8s-api-versions'] as string[])].sort().join('", "')}"]\n`;
  const kpr = get('kube-proxy-replacement');
  const devices = (kpr.deviceList as { ip: string[]; name: string }[])
    .map((d) => `${d.name}${modern ? '\t' : ' '}${d.ip.join(' ')}${d.name === kpr.directRoutingDevice ? ' (Direct Routing)' : ''}`)
    .join(', ');
  w += `KubeProxyReplacement:\t${kpr.mode}\t[${devices}]\n`;
  w += `Host firewall:\t${get('host-firewall').mode}\n`;
  if (sr.srv6) w += 'SRv6:\tDisabled\n';
  if (sr['cni-chaining']) w += `CNI Chaining:\t${get('cni-chaining').mode}\n`;
  if (sr['cni-file']) w += `CNI Config file:\t${get('cni-file').msg}\n`;
  w += `Cilium:\t${get('cilium').state}   ${get('cilium').msg}\n`;
  const nm = get('nodeMonitor');
  w += `NodeMonitor:\tListening for events on ${nm.cpus} CPUs with ${nm.npages}x${nm.pagesize} of shared memory\n`;
  w += `Cilium health daemon:\t${(get('cluster').ciliumHealth as Json).state}\t\n`;
  w += `IPAM:\t${get('ipam').status}\n`;
  if (modern) w += 'ClusterMesh:\t0/0 remote clusters ready, 0 global-services\n';
  if (sr['ipv4-big-tcp']) w += 'IPv4 BIG TCP:\tDisabled\nIPv6 BIG TCP:\tDisabled\n';
  w += 'BandwidthManager:\tDisabled\n';
  if (sr['host-routing']) w += `Host Routing:\t${get('host-routing').mode}\n`;
  if (sr.routing) {
    const r = get('routing');
    const network = r['inter-host-routing-mode'] === 'Tunnel' ? `Tunnel [${r['tunnel-protocol']}]` : String(r['inter-host-routing-mode']);
    w += `Routing:\tNetwork: ${network}\tHost: ${r['intra-host-routing-mode']}\n`;
  }
  if (sr['attach-mode']) w += `Attach Mode:\t${sr['attach-mode'] === 'tcx' ? 'TCX' : 'Legacy TC'}\n`;
  if (sr['datapath-mode']) w += `Device Mode:\t${sr['datapath-mode']}\n`;
  const m = get('masquerading');
  const masq = m.mode === 'BPF' ? `BPF\t[${(kpr.deviceList as { name: string }[]).map((d) => d.name).join(', ')}]\t${m['snat-exclusion-cidr-v4']}` : 'IPTables';
  w += `Masquerading:\t${masq} [IPv4: Enabled, IPv6: Disabled]\n`;
  const n = (sr.controllers as unknown[]).length;
  w += `Controller Status:\t${n}/${n} healthy\n`;
  const p = get('proxy');
  w += `Proxy Status:\tOK, ip ${p.ip}, ${p['total-redirects']} redirects active on ports ${p['port-range']}${p['envoy-deployment-mode'] ? `, Envoy: ${p['envoy-deployment-mode']}` : ''}\n`;
  if (sr['identity-range']) {
    const ir = get('identity-range');
    w += `Global Identity Range:\tmin ${ir['min-identity']}, max ${ir['max-identity']}\n`;
  }
  const hubble = get('hubble');
  const hubbleFields = [hubble.msg ? `${hubble.state} ${hubble.msg}` : String(hubble.state)];
  const observer = hubble.observer as { 'current-flows': number; 'max-flows': number; 'seen-flows': number; uptime: number } | undefined;
  if (observer) {
    const pct = ((observer['current-flows'] / observer['max-flows']) * 100).toFixed(2);
    hubbleFields.push(`Current/Max Flows: ${observer['current-flows']}/${observer['max-flows']} (${pct}%), Flows/s: ${(observer['seen-flows'] / (observer.uptime / 1e9)).toFixed(2)}`);
  }
  if (hubble.metrics) hubbleFields.push(`Metrics: ${(hubble.metrics as Json).state}`);
  w += `Hubble:\t${hubbleFields.join('\t')}\n`;
  w += `Encryption:\t${get('encryption').mode}\t\n`;
  w += `Cluster health:\t${tail.clusterHealth}\n`;
  if (atLeast(version, 1, 16)) w += `Modules Health:\tStopped(0) Degraded(0) OK(${tail.modulesOk})\n`;
  return tabwrite(w, 2, 3);
}

/** `status` / `status -o json` (and `--brief`). */
export function status(ctx: NodeContext, output: string | undefined, brief: boolean): string {
  const sr = statusResponse(ctx);
  if (brief) return 'OK\n';
  if (output === 'json') return goJson(sr, '  ') + '\n';
  if (output !== undefined) throw new CliError(`Unable to parse output option: unrecognized output format: ${output}`);
  const n = ctx.state.nodes.length;
  const controllers = (sr.controllers as unknown[]).length;
  return formatStatus(sr, ctx.state.ciliumVersion, { clusterHealth: `${n}/${n} reachable\t(${ctx.state.createdAt.replace(/\.\d+Z$/, 'Z')})`, modulesOk: 48 + controllers });
}
