import type { EndpointInfo } from '../model/endpoint.js';
import { transcriptNoise } from './transcript-noise.js';

/**
 * The default `kubectl get ciliumendpoints` (`get cep`) table. Its columns are the CRD's printer
 * columns (cilium pkg/k8s/apis/cilium.io/v2/types.go, +kubebuilder:printcolumn on CiliumEndpoint):
 * Security Identity (.status.identity.id), Endpoint State (.status.state), IPv4 and IPv6
 * (.status.networking.addressing[0]); with -o wide also Ingress Enforcement, Egress Enforcement
 * and Visibility Policy (priority 1). kubectl prints them upper-cased after NAME, with NAMESPACE
 * first under -A, left-aligned under their header, an absent value as `<none>` or nothing.
 */

export interface CepTableResult {
  endpoints: EndpointInfo[];
  unparsed: { line: number; text: string; reason: string }[];
}

const HEADER = /^(?:NAMESPACE\s+)?NAME\s+SECURITY IDENTITY\s/;
/** `kubectl get cep -n NS` / `--namespace=NS` in the prompt names the namespace of a table without the column. */
const NAMESPACE_FLAG = /(?:^|\s)(?:-n|--namespace)(?:=|\s+)(\S+)/;

/** isCepTableHeader: the header line of the table (detection). */
export function isCepTableHeader(line: string): boolean {
  return HEADER.test(line);
}

interface Column {
  name: string;
  start: number;
}

/** Header names are words joined by single spaces; columns are two or more spaces apart. */
function columnsOf(header: string): Column[] {
  const cols: Column[] = [];
  const re = /\S+(?: \S+)*/g;
  for (let m = re.exec(header); m; m = re.exec(header)) cols.push({ name: m[0], start: m.index });
  return cols;
}

function valueAt(row: string, cols: Column[], i: number): string {
  const end = i + 1 < cols.length ? cols[i + 1].start : row.length;
  const v = row.slice(cols[i].start, end).trim();
  return v === '<none>' ? '' : v;
}

/** parseCepTable reads the whole table; lines that are not rows of it are returned with a reason. */
export function parseCepTable(lines: readonly string[]): CepTableResult {
  const out: CepTableResult = { endpoints: [], unparsed: [] };
  let cols: Column[] | undefined;
  let namespace: string | undefined;
  lines.forEach((raw, i) => {
    const line = raw.replace(/\s+$/, '');
    if (line === '') return;
    if (HEADER.test(line)) {
      cols = columnsOf(line);
      return;
    }
    if (transcriptNoise(line) !== undefined) {
      if (line.includes(' cep') || line.includes('ciliumendpoint')) namespace = NAMESPACE_FLAG.exec(line)?.[1];
      return;
    }
    if (cols === undefined) {
      out.unparsed.push({ line: i + 1, text: raw, reason: 'a line before the table header' });
      return;
    }
    const info = rowOf(line, cols, namespace);
    if (typeof info === 'string') out.unparsed.push({ line: i + 1, text: raw, reason: info });
    else out.endpoints.push(info);
  });
  return out;
}

function rowOf(line: string, cols: Column[], promptNamespace: string | undefined): EndpointInfo | string {
  const get = (name: string): string | undefined => {
    const i = cols.findIndex((c) => c.name === name);
    return i < 0 ? undefined : valueAt(line, cols, i);
  };
  // Every value starts where its header does: a row that does not is no row of this table.
  for (const c of cols) {
    if (c.start > 0 && c.start < line.length && line.charCodeAt(c.start - 1) !== 32) return 'a row whose values are not under their headers';
  }
  const name = get('NAME');
  const identity = get('SECURITY IDENTITY');
  if (!name || name.includes(' ')) return 'a row without a NAME';
  if (identity !== undefined && identity !== '' && !/^\d+$/.test(identity)) return `SECURITY IDENTITY is not a number: ${identity}`;
  const info: EndpointInfo = { id: null, identity: identity ? Number(identity) : null, ips: [], labels: [], source: 'cilium-endpoint' };
  const namespace = get('NAMESPACE') ?? promptNamespace;
  // The CEP is named after its pod; without a namespace (no -A, no -n in a prompt) the pod is not known for sure.
  if (namespace) info.pod = { namespace, name };
  const state = get('ENDPOINT STATE');
  if (state) info.state = state;
  for (const ip of [get('IPV4'), get('IPV6')]) if (ip) info.ips.push(ip);
  return info;
}
