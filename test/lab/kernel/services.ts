/**
 * The lab's Services as data: ClusterIP Services with a selector, their backends (the lab's
 * pods whose labels match, as the EndpointSlice controller would list them) and the numbering
 * Cilium's agent gives them (a service ID per frontend, which is also its rev_nat_index, and a
 * backend ID per backend address). Pure: `up` writes the agent's map lines from it, the API server
 * serves Service and EndpointSlice objects from it, the emulated `cilium-dbg service list` prints
 * it; all three agree because they compute the same thing from the same pods.
 */

export interface ServicePort {
  name: string;
  port: number;
  targetPort: number;
  protocol: 'TCP' | 'UDP';
}

export interface PlannedService {
  namespace: string;
  name: string;
  clusterIP: string;
  selector: Record<string, string>;
  ports: ServicePort[];
}

/** What a backend needs of a pod (LabPod and PlannedPod both have it). */
export interface BackendPod {
  namespace: string;
  name: string;
  node: string;
  ip: string;
  hostNetwork: boolean;
  labels: Record<string, string>;
}

/** One frontend (address, port, protocol) of a Service, as Cilium's service map holds it. */
export interface Frontend {
  service: PlannedService;
  port: ServicePort;
  /** Cilium's service ID, which is also the frontend's rev_nat_index. */
  id: number;
  backends: { id: number; pod: BackendPod; port: number }[];
}

/** In 10.96.0.0/12, the Service CIDR of kubeadm's default. */
export const SERVICES: PlannedService[] = [
  {
    namespace: 'default', name: 'web', clusterIP: '10.96.100.10', selector: { run: 'web' },
    ports: [{ name: 'http', port: 80, targetPort: 80, protocol: 'TCP' }, { name: 'dns', port: 53, targetPort: 53, protocol: 'UDP' }],
  },
  // A selector that matches no pod: a Service without backends.
  { namespace: 'default', name: 'nobackend', clusterIP: '10.96.100.20', selector: { app: 'nobackend' }, ports: [{ name: 'http', port: 80, targetPort: 80, protocol: 'TCP' }] },
];

export const PROTO_NUMBER: Record<ServicePort['protocol'], number> = { TCP: 6, UDP: 17 };

/** The pods a selector matches, in the order the pods are listed (namespace of the Service only). */
export function selectedPods(service: PlannedService, pods: BackendPod[]): BackendPod[] {
  return pods.filter((p) => p.namespace === service.namespace && !p.hostNetwork && Object.entries(service.selector).every(([k, v]) => p.labels[k] === v));
}

/** Every frontend with its ID and backends; IDs count from 1 in the order of SERVICES and their ports. */
export function frontends(pods: BackendPod[], services: PlannedService[] = SERVICES): Frontend[] {
  const out: Frontend[] = [];
  const backendIds = new Map<string, number>();
  for (const service of services) {
    for (const port of service.ports) {
      const backends = selectedPods(service, pods).map((pod) => {
        const key = `${pod.ip}:${port.targetPort}/${port.protocol}`;
        if (!backendIds.has(key)) backendIds.set(key, backendIds.size + 1);
        return { id: backendIds.get(key) as number, pod, port: port.targetPort };
      });
      out.push({ service, port, id: out.length + 1, backends });
    }
  }
  return out;
}

/** lab-agent's config lines for the service maps (kernel/bpf/lb_agent.h), the same on every node. */
export function serviceConfigLines(pods: BackendPod[]): string[] {
  return frontends(pods).flatMap((f) => {
    const head = `${f.service.clusterIP} ${f.port.port} ${PROTO_NUMBER[f.port.protocol]}`;
    return [
      `svc ${head} ${f.id} ${f.backends.length}`,
      ...f.backends.map((b, i) => `backend ${head} ${i + 1} ${b.id} ${b.pod.ip} ${b.port}`),
    ];
  });
}
