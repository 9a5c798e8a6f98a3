import { stringify } from 'yaml';
import type { ResolvedEndpoint } from '../core/model/resolved-endpoint.js';
import { paint } from './ansi.js';
import { layoutColumns } from './columns.js';
import { sanitizeTerminalText } from './sanitize.js';

/** EndpointsFormat: the outputs of `endpoints` (a table of pods, not a hop report). */
export type EndpointsFormat = 'table' | 'wide' | 'json' | 'yaml';

/** EndpointsDocument: `endpoints -o json|yaml`; each entry has the report's endpoint fields first. */
export interface EndpointsDocument {
  schemaVersion: 1;
  endpoints: Record<string, unknown>[];
}

/** endpointsDocument: resolved endpoints in a stable key order, the report's endpoint fields first. */
export function endpointsDocument(endpoints: readonly ResolvedEndpoint[]): EndpointsDocument {
  return {
    schemaVersion: 1,
    endpoints: endpoints.map((e) => ({
      pod: e.pod,
      node: e.node,
      id: e.id,
      identity: e.identity,
      ips: e.ips,
      interface: e.interface,
      ifindex: e.ifindex,
      mac: e.mac ?? null,
      hostMac: e.hostMac ?? null,
      hostNetwork: e.hostNetwork,
      state: e.state ?? null,
      monitorAggregation: e.monitorAggregation ?? null,
      labels: e.labels,
      source: e.endpointSource,
      agent: { pod: `${e.agent.namespace}/${e.agent.name}`, container: e.agent.container, cli: e.agent.cli, version: e.agent.version ?? null },
      routing: {
        hostRouting: e.agent.routing.hostRouting,
        network: e.agent.routing.network,
        tunnelProtocol: e.agent.routing.tunnelProtocol ?? null,
        kubeProxyReplacement: e.agent.routing.kubeProxyReplacement ?? null,
        source: e.agent.routing.source,
      },
    })),
  };
}

/** routingText: `BPF, native` / `Legacy, tunnel vxlan` / `unknown`. */
export function routingText(r: ResolvedEndpoint['agent']['routing']): string {
  if (r.hostRouting === 'unknown' && r.network === 'unknown') return 'unknown';
  const network = r.network === 'Tunnel' ? `tunnel${r.tunnelProtocol ? ` ${r.tunnelProtocol}` : ''}` : r.network === 'Native' ? 'native' : 'network unknown';
  return `${r.hostRouting}, ${network}`;
}

function cell(value: string | number | null | undefined): string {
  return value === null || value === undefined || value === '' ? '-' : sanitizeTerminalText(String(value));
}

/** renderEndpoints prints resolved endpoints as a kubectl-style table (wide adds IPs, CLI, version, KPR), JSON or YAML. */
export function renderEndpoints(endpoints: readonly ResolvedEndpoint[], format: EndpointsFormat, color: boolean): string {
  if (format === 'json') return JSON.stringify(endpointsDocument(endpoints), null, 2) + '\n';
  if (format === 'yaml') return stringify(endpointsDocument(endpoints), { version: '1.1', lineWidth: 0, aliasDuplicateObjects: false });
  const wide = format === 'wide';
  const head = ['POD', 'NODE', 'AGENT', 'ENDPOINT', 'IDENTITY', 'LXC', 'IFINDEX', 'POD MAC', 'HOST MAC', 'ROUTING'];
  if (wide) head.push('IPS', 'CLI', 'VERSION', 'KPR');
  const rows = [{ cells: head.map((h) => paint(h, 'dim', color)) }];
  for (const e of endpoints) {
    const cells = [e.pod, e.node, e.agent.name, e.hostNetwork ? 'host' : e.id, e.identity, e.interface, e.ifindex, e.mac, e.hostMac, routingText(e.agent.routing)].map(cell);
    if (wide) cells.push(cell(e.ips.join(',')), cell(e.agent.cli), cell(e.agent.version), cell(e.agent.routing.kubeProxyReplacement));
    rows.push({ cells });
  }
  return layoutColumns(rows, { indent: 0, gap: 3, minWidths: [] }).join('\n') + '\n';
}
