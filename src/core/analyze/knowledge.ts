import type { EndpointInfo } from '../model/endpoint.js';
import type { ReportEndpoint } from '../model/report.js';

interface PodFacts {
  node?: string;
  ip?: string;
  lxc?: string;
  ifindex?: number;
  mac?: string;
  /** What was inferred from captures rather than read from endpoint data, with its evidence. */
  inferred?: string[];
}

/** A host-side interface whose owner a capture on it showed (no endpoint data named it). */
interface IfaceOwner {
  node?: string;
  ip: string;
  mac?: string;
  hostMac?: string;
  because: string;
}

/**
 * Knowledge gathers what the inputs say about endpoints, each source knowing a part: the agent's
 * endpoint list gives id, identity and IP; a capture on a pod's eth0 gives the pod's IP; ethtool
 * gives the pod's lxc; monitor's to-endpoint lines give an endpoint's lxc; a capture on an lxc run
 * on a node gives the node. `endpoints()` joins them by IP, endpoint id and interface name.
 */
export class Knowledge {
  private readonly agentEndpoints: EndpointInfo[] = [];
  private readonly pods = new Map<string, PodFacts>();
  private readonly ifaceOfEndpoint = new Map<string, string>();
  private readonly nodeOfIface = new Map<string, string>();
  private readonly nodeOfEndpointKey = new Map<number, Set<string>>();
  private readonly ifaceOwners = new Map<string, IfaceOwner>();

  addEndpoints(infos: EndpointInfo[], node: string | undefined): void {
    for (const info of infos) {
      const copy = { ...info, node: info.node ?? node };
      const same = this.agentEndpoints.find((e) => e.id !== null && e.id === copy.id && (e.node ?? '') === (copy.node ?? ''));
      if (same) Object.assign(same, definedOnly(copy), { ips: same.ips.length ? same.ips : copy.ips, labels: same.labels.length ? same.labels : copy.labels });
      else this.agentEndpoints.push(copy);
      if (copy.id !== null && copy.node) {
        let s = this.nodeOfEndpointKey.get(copy.id);
        if (!s) this.nodeOfEndpointKey.set(copy.id, (s = new Set()));
        s.add(copy.node);
      }
    }
  }

  notePod(namespace: string, name: string, facts: PodFacts): void {
    const key = `${namespace}/${name}`;
    const cur = this.pods.get(key) ?? {};
    const inferred = [...(cur.inferred ?? []), ...(facts.inferred ?? [])];
    this.pods.set(key, { ...cur, ...definedOnly(facts), ...(inferred.length ? { inferred } : {}) });
  }

  /** A capture on a host-side interface showed whose it is (used only where endpoint data names no interface for that address). */
  noteIfaceOwner(iface: string, node: string | undefined, owner: Omit<IfaceOwner, 'node'>): void {
    if (!this.ifaceOwners.has(iface)) this.ifaceOwners.set(iface, { ...owner, node });
  }

  /** An lxc captured on a node: the endpoint behind it lives on that node. */
  noteIfaceNode(iface: string, node: string): void {
    if (!this.nodeOfIface.has(iface)) this.nodeOfIface.set(iface, node);
  }

  /** monitor: `to-endpoint ... interface lxcX ... to endpoint N`. */
  noteEndpointIface(endpoint: number, iface: string): void {
    if (!this.ifaceOfEndpoint.has(String(endpoint))) this.ifaceOfEndpoint.set(String(endpoint), iface);
  }

  /** The node of an endpoint id, when exactly one node has an endpoint with that id. */
  nodeOfEndpoint(id: number): string | undefined {
    const s = this.nodeOfEndpointKey.get(id);
    return s && s.size === 1 ? [...s][0] : undefined;
  }

  /** Nodes that any source named. */
  knownNodes(): string[] {
    const out = new Set<string>();
    for (const e of this.agentEndpoints) if (e.node) out.add(e.node);
    for (const n of this.nodeOfIface.values()) out.add(n);
    for (const p of this.pods.values()) if (p.node) out.add(p.node);
    return [...out].sort();
  }

  /** The labels of each identity the endpoint data named (what policy selectors match). */
  identityLabels(): Map<number, string[]> {
    const out = new Map<number, string[]>();
    for (const e of this.agentEndpoints) if (e.identity !== null && e.labels.length && !out.has(e.identity)) out.set(e.identity, e.labels);
    return out;
  }

  endpoints(): ReportEndpoint[] {
    const out: ReportEndpoint[] = this.agentEndpoints
      .filter((e) => e.ips.length > 0 || e.pod)
      .map((e) => {
        const iface = e.interface ?? (e.id !== null ? this.ifaceOfEndpoint.get(String(e.id)) : undefined);
        return {
          pod: e.pod ? `${e.pod.namespace}/${e.pod.name}` : '',
          node: e.node ?? (iface ? this.nodeOfIface.get(iface) : undefined) ?? '',
          id: e.id,
          identity: e.identity,
          ips: [...e.ips],
          interface: iface ?? null,
          ifindex: e.ifindex ?? null,
          mac: e.mac ?? null,
          hostMac: e.hostMac ?? null,
          ...(e.datapathDebug !== undefined ? { datapathDebug: e.datapathDebug } : {}),
        };
      });
    for (const [pod, f] of this.pods) {
      let ep = f.ip ? out.find((e) => e.ips.includes(f.ip!)) : undefined;
      if (!ep && f.lxc) ep = out.find((e) => e.interface === f.lxc);
      if (!ep) {
        if (!f.ip && !f.lxc) continue;
        ep = { pod, node: '', id: null, identity: null, ips: f.ip ? [f.ip] : [], interface: null, ifindex: null, mac: null, hostMac: null };
        out.push(ep);
      }
      if (!ep.pod) ep.pod = pod;
      if (!ep.interface && f.lxc) ep.interface = f.lxc;
      if (ep.ifindex === null && f.ifindex !== undefined) ep.ifindex = f.ifindex;
      if (!ep.mac && f.mac) ep.mac = f.mac;
      if (f.ip && !ep.ips.includes(f.ip)) ep.ips.push(f.ip);
      if (!ep.node) ep.node = f.node ?? (ep.interface ? this.nodeOfIface.get(ep.interface) : undefined) ?? '';
      if (f.inferred) ep.inferred = [...(ep.inferred ?? []), ...f.inferred];
    }
    for (const [iface, o] of this.ifaceOwners) {
      if (out.some((e) => e.interface === iface && (!o.node || !e.node || e.node === o.node))) continue;
      let ep = out.find((e) => e.ips.includes(o.ip) && (!o.node || !e.node || e.node === o.node));
      if (ep?.interface) continue; // endpoint data names another interface for this address: it wins
      if (!ep) {
        ep = { pod: '', node: o.node ?? '', id: null, identity: null, ips: [o.ip], interface: null, ifindex: null, mac: null, hostMac: null };
        out.push(ep);
      }
      ep.interface = iface;
      if (!ep.node && o.node) ep.node = o.node;
      if (!ep.mac && o.mac) ep.mac = o.mac;
      if (!ep.hostMac && o.hostMac) ep.hostMac = o.hostMac;
      ep.inferred = [...(ep.inferred ?? []), o.because];
    }
    return out.sort((a, b) => a.node.localeCompare(b.node) || a.pod.localeCompare(b.pod) || (a.id ?? 0) - (b.id ?? 0));
  }
}

function definedOnly<T extends object>(o: T): Partial<T> {
  const out: Partial<T> = {};
  for (const [k, v] of Object.entries(o)) if (v !== undefined) (out as Record<string, unknown>)[k] = v;
  return out;
}
