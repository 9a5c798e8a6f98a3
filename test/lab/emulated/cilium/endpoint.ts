/**
 * `cilium-dbg endpoint list` and `endpoint get` for one lab node: the node's pods plus its host
 * endpoint, as the agent's models.Endpoint (api/v1/models) with the lab's real endpoint IDs,
 * identities, lxc names, ifindexes and MACs. Shapes follow real output of the same release
 * family (fixtures/real/cilium-endpoint); fields newer releases added are left out for older ones.
 */
import { containerId, stableUid } from '../../api/objects.js';
import { ID_HOST, securityLabels } from '../../kernel/topology.js';
import type { LabPod } from '../../state.js';
import type { NodeContext } from '../lab-context.js';
import { tabwrite } from '../go-tabwriter.js';
import { CliError } from './cli-error.js';
import { goJson } from './monitor-format.js';
import { atLeast } from './version.js';
import { endpointPolicyStatus, enforcementColumns } from './policy.js';

type Json = Record<string, unknown>;

const ms = (iso: string): string => iso.replace(/\.\d+Z$/, 'Z').replace(/Z$/, '.000Z');

function options(debug: boolean, aggregation: string): Json {
  return {
    ConntrackAccounting: 'Disabled',
    Debug: debug ? 'Enabled' : 'Disabled',
    DebugLB: 'Disabled',
    DebugPolicy: 'Disabled',
    DropNotification: 'Enabled',
    MonitorAggregationLevel: aggregation[0].toUpperCase() + aggregation.slice(1),
    PolicyAccounting: 'Enabled',
    PolicyAuditMode: 'Disabled',
    PolicyVerdictNotification: 'Enabled',
    SourceIPVerification: 'Enabled',
    TraceNotification: 'Enabled',
  };
}

function controller(name: string, createdAt: string, interval?: string, successCount = 1): Json {
  const configuration: Json = { 'error-retry': true };
  if (interval) configuration.interval = interval;
  return {
    configuration,
    name,
    status: { 'last-failure-timestamp': '0001-01-01T00:00:00.000Z', 'last-success-timestamp': ms(createdAt), 'success-count': successCount },
    uuid: stableUid('controller', name, createdAt),
  };
}

/** One endpoint as models.Endpoint JSON. */
function endpointModel(ctx: NodeContext, ep: { id: number; identity: number; labels: string[]; pod?: LabPod }): Json {
  const version = ctx.state.ciliumVersion;
  const createdAt = ctx.state.createdAt;
  const opts = options(ctx.kernel.datapathDebug === true, ctx.kernel.monitorAggregation);
  const recovery = { configuration: { 'error-retry': true, 'error-retry-base': '2s', interval: '1s' }, name: `endpoint-${ep.id}-regeneration-recovery`, status: { 'last-failure-timestamp': '0001-01-01T00:00:00.000Z', 'last-success-timestamp': '0001-01-01T00:00:00.000Z' }, uuid: stableUid('controller', `recovery-${ep.id}`, createdAt) };
  const pod = ep.pod;
  const controllers: Json[] = [recovery];
  let external: Json;
  let networking: Json;
  if (pod?.lxc) {
    const cid = containerId(pod.uid, pod.containers[0] ?? 'main');
    controllers.push(
      controller(`resolve-labels-${pod.namespace}/${pod.name}`, createdAt),
      controller(`sync-policymap-${ep.id}`, createdAt, '15m0s'),
      controller(`sync-to-k8s-ciliumendpoint (${ep.id})`, createdAt, '10s'),
    );
    external = atLeast(version, 1, 15)
      ? { 'cni-attachment-id': `${cid}:eth0`, 'container-id': cid, 'k8s-namespace': pod.namespace, 'k8s-pod-name': pod.name, 'pod-name': `${pod.namespace}/${pod.name}` }
      : { 'container-id': cid, 'k8s-namespace': pod.namespace, 'k8s-pod-name': pod.name, 'pod-name': `${pod.namespace}/${pod.name}` };
    const address: Json = { ipv4: pod.ip };
    if (atLeast(version, 1, 14)) address['ipv4-pool-name'] = 'default';
    networking = { addressing: [address] };
    if (atLeast(version, 1, 15)) networking['container-interface-name'] = 'eth0';
    Object.assign(networking, { 'host-mac': pod.lxc.mac, 'interface-index': pod.lxc.ifindex, 'interface-name': pod.lxc.name, mac: pod.mac });
  } else {
    controllers.push(controller(`resolve-labels-/`, createdAt), controller(`sync-policymap-${ep.id}`, createdAt, '15m0s'));
    external = { 'container-name': 'cilium-host', 'pod-name': '/' };
    const k = ctx.kernel.nodes[ctx.node.name];
    networking = { addressing: [{}], 'host-mac': ctx.node.ciliumHostMac, 'interface-index': k.ciliumHostIfindex, 'interface-name': 'cilium_host', mac: ctx.node.ciliumHostMac };
  }
  return {
    id: ep.id,
    spec: { 'label-configuration': {}, options: opts },
    status: {
      controllers,
      'external-identifiers': external,
      health: { bpf: 'OK', connected: true, overallHealth: 'OK', policy: 'OK' },
      identity: { id: ep.identity, labels: ep.labels },
      labels: { realized: {}, 'security-relevant': ep.labels },
      log: [{ code: 'OK', message: 'Successfully regenerated endpoint program (Reason: Initial build)', state: 'ready', timestamp: createdAt.replace(/\.\d+Z$/, 'Z') }],
      networking,
      policy: endpointPolicyStatus(ctx, ep.id, ep.identity),
      realized: { 'label-configuration': {}, options: opts },
      state: 'ready',
    },
  };
}

/** The node's endpoints (pods with an endpoint and the host endpoint), sorted by ID. */
export function nodeEndpoints(ctx: NodeContext): Json[] {
  const eps: { id: number; identity: number; labels: string[]; pod?: LabPod }[] = ctx.pods
    .filter((p) => p.endpointId !== undefined)
    .map((p) => ({ id: p.endpointId as number, identity: p.identity ?? 0, labels: securityLabels(p), pod: p }));
  const hostLabels = ['reserved:host'];
  if (atLeast(ctx.state.ciliumVersion, 1, 15) && ctx.state.nodes[0]?.name === ctx.node.name) {
    hostLabels.unshift('k8s:node-role.kubernetes.io/control-plane', 'k8s:node.kubernetes.io/exclude-from-external-load-balancers');
  }
  eps.push({ id: ctx.kernel.nodes[ctx.node.name].hostEndpointId, identity: ID_HOST, labels: hostLabels });
  return eps.sort((a, b) => a.id - b.id).map((ep) => endpointModel(ctx, ep));
}

/** `endpoint list`: the text table (tabwriter 5/0/3), or JSON with -o json. */
export function endpointList(ctx: NodeContext, output: string | undefined): string {
  const eps = nodeEndpoints(ctx);
  if (output === 'json') return goJson(eps, '  ') + '\n';
  if (output !== undefined) throw new CliError(`Unable to parse output option: unrecognized output format: ${output}`);
  let t = 'ENDPOINT\tPOLICY (ingress)\tPOLICY (egress)\tIDENTITY\tLABELS (source:key[=value])\tIPv6\tIPv4\tSTATUS\t\n';
  t += '\tENFORCEMENT\tENFORCEMENT\t\t\t\t\t\n';
  for (const ep of eps) {
    const status = ep.status as Json;
    const labels = (status.labels as Json)['security-relevant'] as string[];
    const ipv4 = (((status.networking as Json).addressing as Json[])[0].ipv4 as string | undefined) ?? '';
    labels.forEach((label, i) => {
      const [ingress, egress] = enforcementColumns(ctx, ep.id as number);
      t += i === 0 ? `${ep.id}\t${ingress}\t${egress}\t${(status.identity as Json).id}\t${label}\t\t${ipv4}\t${status.state}\t\n` : `\t\t\t\t${label}\t\t\t\t\n`;
    });
  }
  return tabwrite(t, 5, 3);
}

/** `endpoint get <id>`: a JSON array with the endpoint (JSON is the only output). */
export function endpointGet(ctx: NodeContext, id: string, output: string | undefined): string {
  if (output !== undefined && output !== 'json') throw new CliError(`Unable to parse output option: unrecognized output format: ${output}`);
  const eps = nodeEndpoints(ctx);
  const podRef = /^pod-name:([^:/]+)[:/](.+)$/.exec(id);
  const ipRef = /^ipv4:(.+)$/.exec(id);
  const found = eps.find((ep) => {
    const status = ep.status as Json;
    const ext = status['external-identifiers'] as Json;
    if (podRef) return ext['pod-name'] === `${podRef[1]}/${podRef[2]}`;
    if (ipRef) return (((status.networking as Json).addressing as Json[])[0].ipv4 as string | undefined) === ipRef[1];
    return String(ep.id) === id;
  });
  if (!found) {
    if (!podRef && !ipRef && !/^\d+$/.test(id)) throw new CliError(`Cannot get endpoint ${id}: [GET /endpoint/{id}][400] getEndpointIdInvalid `);
    throw new CliError(`Cannot get endpoint ${id}: [GET /endpoint/{id}][404] getEndpointIdNotFound `);
  }
  return goJson([found], '  ') + '\n';
}
