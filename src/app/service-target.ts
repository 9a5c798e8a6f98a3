import { DatapathError, EXIT, UsageError } from '../core/errors.js';
import { bounded } from '../probes/probe-command.js';
import type { ExecPort, KubePort, PodRef, ServiceBackendInfo, ServiceInfo } from './ports.js';
import type { MemoryFile } from './memory-inputs.js';

/** What `trace SRC svc/NAME[:PORT]` (or `SRC IP:PORT` of a ClusterIP) names. */
export type ServiceArg = { kind: 'service'; namespace?: string; name: string; port?: string } | { kind: 'address'; ip: string; port: number };

/** A trace to a Service: the frontend the traffic goes to and the backend pod whose node is captured. */
export interface ServiceTarget {
  service: PodRef;
  frontend: { ip: string; port: number; protocol: 'tcp' | 'udp' };
  /** The backend pod the trace captures at (its node, netns, lxc), and its port. */
  backend: PodRef;
  backendPort: number;
  /** Every ready backend, `ip:port` (pod), for messages. */
  backends: string[];
}

const SERVICE_ARG = /^(?:svc|service|services)\/(?:([a-z0-9][-a-z0-9]*)\/)?([a-z0-9][-a-z0-9.]*)(?::([A-Za-z0-9-]+))?$/;
const ADDRESS_ARG = /^(\d{1,3}(?:\.\d{1,3}){3}):(\d{1,5})$/;

/** parseServiceArg: `svc/NAME`, `svc/NS/NAME`, `svc/NAME:PORT` (number or name), `IP:PORT`; undefined for a pod. */
export function parseServiceArg(arg: string): ServiceArg | undefined {
  const s = SERVICE_ARG.exec(arg);
  if (s) return { kind: 'service', ...(s[1] !== undefined && { namespace: s[1] }), name: s[2], ...(s[3] !== undefined && { port: s[3] }) };
  const a = ADDRESS_ARG.exec(arg);
  if (a && Number(a[2]) >= 1 && Number(a[2]) <= 65535) return { kind: 'address', ip: a[1], port: Number(a[2]) };
  if (/^(svc|service|services)\//.test(arg)) throw new UsageError(`${arg}: expected svc/NAME, svc/NAMESPACE/NAME or svc/NAME:PORT`);
  return undefined;
}

/**
 * resolveServiceTarget: the Service (by name, or by its ClusterIP), its port (the one named, else
 * its only or first port), its ready backends from the EndpointSlices, and the backend to capture
 * at: `--backend POD`, else the first by pod name. A headless Service, a port it lacks and a
 * Service without backends are one-line errors.
 */
export async function resolveServiceTarget(kube: KubePort, arg: ServiceArg, namespace: string, backendName?: string): Promise<ServiceTarget> {
  const svc = arg.kind === 'service' ? await kube.getService({ namespace: arg.namespace ?? namespace, name: arg.name }) : await serviceOfAddress(kube, arg.ip);
  const where = `service ${svc.namespace}/${svc.name}`;
  const ip = svc.clusterIPs[0];
  if (ip === undefined) throw new DatapathError(`${where} is headless (no ClusterIP): Cilium does not load-balance it; trace one of its pods instead`, EXIT.error);
  const wanted = arg.kind === 'service' ? arg.port : String(arg.port);
  const port = wanted === undefined ? svc.ports[0] : svc.ports.find((p) => String(p.port) === wanted || p.name === wanted);
  if (!port) throw new UsageError(`${where} has no port ${wanted ?? ''} (its ports: ${svc.ports.map(describePort).join(', ') || 'none'})`);
  const protocol = port.protocol.toLowerCase();
  if (protocol !== 'tcp' && protocol !== 'udp') throw new UsageError(`${where} port ${describePort(port)}: only TCP and UDP can be traced`);
  const backends = (await kube.listServiceBackends(svc)).filter((b) => b.pod !== undefined).sort((a, b) => (a.pod?.name ?? '').localeCompare(b.pod?.name ?? ''));
  const backendPortOf = (b: ServiceBackendInfo): number => b.ports[port.name ?? ''] ?? (typeof port.targetPort === 'number' ? port.targetPort : port.port);
  const described = backends.map((b) => `${b.ip}:${backendPortOf(b)} (${b.pod?.namespace}/${b.pod?.name})`);
  if (backends.length === 0) {
    throw new DatapathError(`${where} has no ready backends (its EndpointSlices list none): Cilium's load balancer drops its traffic ("Service backend not found"); check the Service's selector and its pods`, EXIT.error);
  }
  const chosen = backendName === undefined ? backends[0] : backends.find((b) => b.pod?.name === backendName || `${b.pod?.namespace}/${b.pod?.name}` === backendName);
  if (!chosen?.pod) throw new UsageError(`--backend ${backendName}: not a backend of ${where} (its backends: ${described.join(', ')})`);
  return {
    service: { namespace: svc.namespace, name: svc.name },
    frontend: { ip, port: port.port, protocol },
    backend: chosen.pod,
    backendPort: backendPortOf(chosen),
    backends: described,
  };
}

function describePort(p: ServiceInfo['ports'][number]): string {
  return `${p.name ? `${p.name} ` : ''}${p.port}/${p.protocol}`;
}

/** The Service whose ClusterIP is ip (trace SRC IP:PORT). */
async function serviceOfAddress(kube: KubePort, ip: string): Promise<ServiceInfo> {
  const match = (await kube.listServices(undefined)).find((s) => s.clusterIPs.includes(ip));
  if (!match) throw new UsageError(`${ip} is no Service's ClusterIP: give a pod, svc/NAME, or a ClusterIP:PORT`);
  return match;
}

/**
 * serviceTableOf: the agent's `service list` on a node, at the time of the traffic: what its
 * datapath load-balances to (the API may say otherwise: a stale agent). Undefined when the agent
 * could not answer; the trace goes on without it.
 */
export async function serviceTableOf(exec: ExecPort, agent: { pod: PodRef; container: string; cli: string }, node: string, signal: AbortSignal): Promise<{ file?: MemoryFile; problem?: string }> {
  const r = await exec.exec({ pod: agent.pod, container: agent.container, argv: bounded(10, [agent.cli, 'service', 'list']), collect: true, signal });
  if (r.exitCode !== 0) return { problem: `the agent on ${node} did not list its services (${agent.cli} service list: exit ${r.exitCode ?? r.error ?? 'unknown'}): the report cannot check the translation against its service table` };
  return { file: { name: `service-list-${node}.txt`, chunks: [new TextEncoder().encode(r.stdout)] } };
}
