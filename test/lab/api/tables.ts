/**
 * Server-side printing (meta.k8s.io/v1 Table), which `kubectl get` asks for: the columns of
 * kubernetes' pkg/printers/internalversion for pods, nodes and namespaces, and the CRD printer
 * columns of CiliumEndpoint.
 */
import type { KubeObject } from './objects.js';
import type { Resource } from './store.js';

interface Column {
  name: string;
  type: string;
  format: string;
  description: string;
  priority: number;
}

type Cell = string | number | boolean | null;

function column(name: string, description: string, priority = 0, type = 'string', format = ''): Column {
  return { name, type, format, description, priority };
}

/** apimachinery's duration.HumanDuration, as printed in AGE columns. */
export function humanDuration(ms: number): string {
  const seconds = Math.floor(ms / 1000);
  if (seconds < -1) return '<invalid>';
  if (seconds < 0) return '0s';
  if (seconds < 120) return `${seconds}s`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 10) return seconds % 60 === 0 ? `${minutes}m` : `${minutes}m${seconds % 60}s`;
  if (minutes < 180) return `${minutes}m`;
  const hours = Math.floor(minutes / 60);
  if (hours < 8) return minutes % 60 === 0 ? `${hours}h` : `${hours}h${minutes % 60}m`;
  if (hours < 48) return `${hours}h`;
  if (hours < 24 * 8) return hours % 24 === 0 ? `${Math.floor(hours / 24)}d` : `${Math.floor(hours / 24)}d${hours % 24}h`;
  if (hours < 24 * 365 * 2) return `${Math.floor(hours / 24)}d`;
  if (hours < 24 * 365 * 8) {
    const days = Math.floor(hours / 24) % 365;
    return days === 0 ? `${Math.floor(hours / 24 / 365)}y` : `${Math.floor(hours / 24 / 365)}y${days}d`;
  }
  return `${Math.floor(hours / 24 / 365)}y`;
}

function age(obj: KubeObject): string {
  return humanDuration(Date.now() - Date.parse(obj.metadata.creationTimestamp));
}

const NAME = column('Name', 'Name must be unique within a namespace.', 0, 'string', 'name');
const AGE = column('Age', 'CreationTimestamp is a timestamp representing the server time when this object was created.');

/** The STATUS cell of a pod as kubectl shows it (reason, waiting reason, Terminating). */
function podStatus(pod: KubeObject): string {
  if (pod.metadata.deletionTimestamp) return 'Terminating';
  let reason: string = pod.status?.reason ?? pod.status?.phase ?? 'Unknown';
  for (const s of (pod.status?.containerStatuses ?? []) as { state?: { waiting?: { reason?: string }; terminated?: { reason?: string } } }[]) {
    if (s.state?.waiting?.reason) reason = s.state.waiting.reason;
    else if (s.state?.terminated?.reason && !pod.status?.reason) reason = s.state.terminated.reason;
  }
  return reason;
}

function podRow(pod: KubeObject): Cell[] {
  const statuses = (pod.status?.containerStatuses ?? []) as { ready?: boolean; restartCount?: number }[];
  const ready = statuses.filter((s) => s.ready).length;
  const restarts = statuses.reduce((n, s) => n + (s.restartCount ?? 0), 0);
  return [
    pod.metadata.name,
    `${ready}/${(pod.spec?.containers ?? []).length}`,
    podStatus(pod),
    restarts,
    age(pod),
    pod.status?.podIP ?? '<none>',
    pod.spec?.nodeName ?? '<none>',
    pod.status?.nominatedNodeName ?? '<none>',
    '<none>',
  ];
}

function nodeRow(node: KubeObject): Cell[] {
  const ready = (node.status?.conditions ?? []).find((c: { type: string }) => c.type === 'Ready')?.status === 'True';
  const roles = Object.keys(node.metadata.labels ?? {})
    .filter((k) => k.startsWith('node-role.kubernetes.io/'))
    .map((k) => k.slice('node-role.kubernetes.io/'.length))
    .sort();
  const address = (type: string): string =>
    (node.status?.addresses ?? []).find((a: { type: string }) => a.type === type)?.address ?? '<none>';
  const info = node.status?.nodeInfo ?? {};
  return [
    node.metadata.name,
    ready ? 'Ready' : 'NotReady',
    roles.length > 0 ? roles.join(',') : '<none>',
    age(node),
    info.kubeletVersion ?? '',
    address('InternalIP'),
    address('ExternalIP'),
    info.osImage ?? '<unknown>',
    info.kernelVersion ?? '<unknown>',
    info.containerRuntimeVersion ?? '<unknown>',
  ];
}

/** A jsonPath-ish read of a CRD printer column; missing values print as empty like kubectl does. */
function cepRow(cep: KubeObject): Cell[] {
  const s = cep.status ?? {};
  return [
    cep.metadata.name,
    s.identity?.id ?? null,
    s.policy?.ingress?.state ?? null,
    s.policy?.egress?.state ?? null,
    s['visibility-policy-status'] ?? null,
    s.state ?? null,
    s.networking?.addressing?.[0]?.ipv4 ?? null,
    s.networking?.addressing?.[0]?.ipv6 ?? null,
  ];
}

/** metav1.FormatLabelSelector: `<none>` for an empty selector, else `k=v,k2 in (a,b)`. */
function formatSelector(selector: { matchLabels?: Record<string, string>; matchExpressions?: { key: string; operator: string; values?: string[] }[] } | undefined): string {
  const parts = [
    ...Object.entries(selector?.matchLabels ?? {}).sort(([a], [b]) => a.localeCompare(b)).map(([k, v]) => `${k}=${v}`),
    ...(selector?.matchExpressions ?? []).map((e) =>
      e.operator === 'Exists' ? e.key : e.operator === 'DoesNotExist' ? `!${e.key}` : `${e.key} ${e.operator === 'In' ? 'in' : 'notin'} (${(e.values ?? []).join(',')})`,
    ),
  ];
  return parts.length === 0 ? '<none>' : parts.join(',');
}

/** The CRD printer columns of Cilium's policies: AGE and VALID (the Valid condition). */
const CILIUM_POLICY_TABLE = {
  columns: [NAME, column('Age', '', 0, 'date'), column('Valid', '')],
  row: (o: KubeObject): Cell[] => [o.metadata.name, age(o), (o.status?.conditions as { type: string; status: string }[] | undefined)?.find((c) => c.type === 'Valid')?.status ?? null],
};
/** kubectl's PORT(S) of a Service: `80/TCP,53/UDP` (and `:NODEPORT` when there is one). */
function servicePorts(svc: KubeObject): string {
  const ports = (svc.spec?.ports ?? []) as { port: number; protocol: string; nodePort?: number }[];
  return ports.length === 0 ? '<none>' : ports.map((p) => `${p.port}${p.nodePort ? `:${p.nodePort}` : ''}/${p.protocol}`).join(',');
}

function serviceRow(svc: KubeObject): Cell[] {
  const selector = Object.entries((svc.spec?.selector ?? {}) as Record<string, string>).map(([k, v]) => `${k}=${v}`).sort().join(',');
  return [svc.metadata.name, svc.spec?.type ?? 'ClusterIP', svc.spec?.clusterIP ?? '<none>', '<none>', servicePorts(svc), age(svc), selector || '<none>'];
}

/** pkg/printers: ports and addresses of a slice, `<unset>` when it has none, at most 3 addresses then `+ N more...`. */
function endpointSliceRow(slice: KubeObject): Cell[] {
  const s = slice as KubeObject & { addressType?: string; ports?: { port?: number }[] | null; endpoints?: { addresses: string[] }[] | null };
  const ports = (s.ports ?? []).map((p) => String(p.port ?? '')).join(',');
  const addresses = (s.endpoints ?? []).flatMap((e) => e.addresses);
  const shown = addresses.slice(0, 3).join(',') + (addresses.length > 3 ? ` + ${addresses.length - 3} more...` : '');
  return [slice.metadata.name, s.addressType ?? '', ports || '<unset>', shown || '<unset>', age(slice)];
}

const TABLES: Record<Resource, { columns: Column[]; row: (o: KubeObject) => Cell[] }> = {
  services: {
    columns: [
      NAME,
      column('Type', 'The type of the service.'),
      column('Cluster-IP', 'The cluster IP of the service.'),
      column('External-IP', 'The external IP of the service.'),
      column('Port(s)', 'The ports of the service.'),
      AGE,
      column('Selector', 'The selector of the service.', 1),
    ],
    row: serviceRow,
  },
  endpointslices: {
    columns: [
      NAME,
      column('AddressType', 'The type of address of the endpoints.'),
      column('Ports', 'The ports of the endpoints.'),
      column('Endpoints', 'The addresses of the endpoints.'),
      AGE,
    ],
    row: endpointSliceRow,
  },
  pods: {
    columns: [
      NAME,
      column('Ready', 'The aggregate readiness state of this pod for accepting traffic.'),
      column('Status', 'The aggregate status of the containers in this pod.'),
      column('Restarts', 'The number of times the containers in this pod have been restarted and when the last container in this pod has restarted.'),
      AGE,
      column('IP', 'IP address allocated to the pod. Routable at least within the cluster. Empty if not yet allocated.', 1),
      column('Node', "NodeName is a request to schedule this pod onto a specific node. If it is non-empty, the scheduler simply schedules this pod onto that node, assuming that it fits resource requirements.", 1),
      column('Nominated Node', 'nominatedNodeName is set only when this pod preempts other pods on the node.', 1),
      column('Readiness Gates', 'If specified, all readiness gates will be evaluated for pod readiness.', 1),
    ],
    row: podRow,
  },
  nodes: {
    columns: [
      NAME,
      column('Status', 'The status of the node'),
      column('Roles', 'The roles of the node'),
      AGE,
      column('Version', 'Kubelet Version reported by the node.'),
      column('Internal-IP', 'List of addresses reachable to the node. Queried from cloud provider, if available.', 1),
      column('External-IP', 'List of addresses reachable to the node. Queried from cloud provider, if available.', 1),
      column('OS-Image', 'OS Image reported by the node from /etc/os-release (e.g. Debian GNU/Linux 7 (wheezy)).', 1),
      column('Kernel-Version', "Kernel Version reported by the node from 'uname -r' (e.g. 3.16.0-0.bpo.4-amd64).", 1),
      column('Container-Runtime', 'ContainerRuntime Version reported by the node through runtime remote API (e.g. containerd://1.4.2).', 1),
    ],
    row: nodeRow,
  },
  namespaces: {
    columns: [NAME, column('Status', 'The status of the namespace'), AGE],
    row: (ns) => [ns.metadata.name, ns.status?.phase ?? 'Active', age(ns)],
  },
  events: {
    columns: [
      column('Last Seen', 'The time the event was last seen'),
      column('Type', 'Type of this event (Normal, Warning)'),
      column('Reason', 'This should be a short, machine understandable string that gives the reason for this event being generated.'),
      column('Object', 'The object this event is about'),
      column('Message', 'A human-readable description of the status of this operation.'),
    ],
    row: (e) => [
      humanDuration(Date.now() - Date.parse(e.lastTimestamp ?? e.metadata.creationTimestamp)),
      e.type ?? '',
      e.reason ?? '',
      `${(e.involvedObject?.kind ?? '').toLowerCase()}/${e.involvedObject?.name ?? ''}`,
      e.message ?? '',
    ],
  },
  ciliumendpoints: {
    columns: [
      NAME,
      column('Security Identity', 'Security Identity', 0, 'integer'),
      column('Ingress Enforcement', 'Ingress enforcement in the endpoint', 1),
      column('Egress Enforcement', 'Egress enforcement in the endpoint', 1),
      column('Visibility Policy', 'Status of visibility policy in the endpoint', 1),
      column('Endpoint State', 'Endpoint current state'),
      column('IPv4', 'Endpoint IPv4 address'),
      column('IPv6', 'Endpoint IPv6 address'),
    ],
    row: cepRow,
  },
  ciliumnetworkpolicies: CILIUM_POLICY_TABLE,
  ciliumclusterwidenetworkpolicies: CILIUM_POLICY_TABLE,
  networkpolicies: {
    columns: [NAME, column('Pod-Selector', "podSelector selects the pods to which this NetworkPolicy object applies."), AGE],
    row: (o) => [o.metadata.name, formatSelector(o.spec?.podSelector), age(o)],
  },
};

export type IncludeObject = 'None' | 'Metadata' | 'Object';

function rowObject(obj: KubeObject, include: IncludeObject): unknown {
  if (include === 'None') return undefined;
  if (include === 'Object') return obj;
  return { kind: 'PartialObjectMetadata', apiVersion: 'meta.k8s.io/v1', metadata: obj.metadata };
}

/** A Table of the objects; every row carries its object (kubectl needs it for -A and --sort-by). */
export function table(resource: Resource, objects: KubeObject[], resourceVersion: string, include: IncludeObject): Record<string, unknown> {
  const def = TABLES[resource];
  return {
    kind: 'Table',
    apiVersion: 'meta.k8s.io/v1',
    metadata: { resourceVersion },
    columnDefinitions: def.columns,
    rows: objects.map((o) => ({ cells: def.row(o), object: rowObject(o, include) })),
  };
}

/** Whether the Accept header asks for server-side printing. */
export function wantsTable(accept: string | undefined): boolean {
  return accept !== undefined && /as=Table/.test(accept);
}
