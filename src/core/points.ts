/**
 * Observation point ids, as the report names them:
 * `pod:<ns>/<pod>/<if>`, `host:<node>/<if>`, `cilium:<node>/<endpoint id>`, `kernel:<node>`, `iptables:<node>`.
 */
export type PointKind = 'pod' | 'host' | 'cilium' | 'kernel' | 'iptables';

export interface PointRef {
  kind: PointKind;
  node?: string;
  namespace?: string;
  pod?: string;
  iface?: string;
  endpoint?: number;
}

export function podPoint(namespace: string, pod: string, iface = 'eth0'): string {
  return `pod:${namespace}/${pod}/${iface}`;
}

export function hostPoint(node: string, iface: string): string {
  return `host:${node}/${iface}`;
}

export function ciliumPoint(node: string, endpoint: number | string): string {
  return `cilium:${node}/${endpoint}`;
}

export function kernelPoint(node: string): string {
  return `kernel:${node}`;
}

export function iptablesPoint(node: string): string {
  return `iptables:${node}`;
}

const POINT_RE = /^(pod|host|cilium|kernel|iptables):(.*)$/;

/** parsePoint reads a point id; undefined when it is not one (so `--point` can say so). */
export function parsePoint(id: string): PointRef | undefined {
  const m = POINT_RE.exec(id);
  if (!m) return undefined;
  const kind = m[1] as PointKind;
  const parts = m[2].split('/');
  switch (kind) {
    case 'pod':
      if (parts.length !== 3 || parts.some((p) => p === '')) return undefined;
      return { kind, namespace: parts[0], pod: parts[1], iface: parts[2] };
    case 'host':
      if (parts.length !== 2 || parts.some((p) => p === '')) return undefined;
      return { kind, node: parts[0], iface: parts[1] };
    case 'cilium': {
      if (parts.length === 1 && parts[0] !== '') return { kind, node: parts[0] };
      if (parts.length !== 2 || !/^\d+$/.test(parts[1])) return undefined;
      return { kind, node: parts[0], endpoint: Number(parts[1]) };
    }
    default:
      if (parts.length !== 1 || parts[0] === '') return undefined;
      return { kind, node: parts[0] };
  }
}
