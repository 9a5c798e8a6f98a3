import type { EndpointInfo } from '../model/endpoint.js';
import type { Tool } from '../model/event.js';
import type { LineParser, Parsed, ParseResult } from './result.js';
import { asNumber, asRecord, asString, asStringArray } from './json-value.js';
import { transcriptNoise } from './transcript-noise.js';
import type { UnparsedLine } from './unparsed-line.js';

/**
 * Cilium endpoint data in its three printed forms:
 * - `cilium endpoint list` / `cilium-dbg endpoint list` tables (cilium-dbg/cmd/endpoint_list.go:
 *   tabwriter columns, one label per line, continuation lines carry only the next label; saved
 *   copies may have lost the column alignment, so rows are read by tokens, not by position);
 * - `cilium-dbg endpoint get <id>` JSON (`[]models.Endpoint`; a single object from some callers);
 * - CiliumEndpoint (`kubectl get cep -o json`, a List or one object) and CiliumEndpointSlice objects.
 */

/** One row of `cilium endpoint list`, labels gathered from its continuation lines. */
export interface EndpointListRow {
  id: number;
  /** null for `<no label id>`. */
  identity: number | null;
  /** Enabled, Disabled, `Disabled (Audit)` or Unknown, as printed. */
  ingressEnforcement: string;
  egressEnforcement: string;
  labels: string[];
  ipv4?: string;
  ipv6?: string;
  status: string;
  /** 1-based line of the row's first line. */
  line: number;
}

export interface EndpointListResult {
  rows: EndpointListRow[];
  unparsed: UnparsedLine[];
}

/**
 * Context of endpointListParser. The table's rows are not ProbeEvents, so the line parser returns
 * only meta/ignored/unparsed results and accumulates the rows here; read them with
 * endpointListRows(ctx) after the last line. Rows are a persistent list (newest first) so a
 * continuation line replaces the newest row without copying the others.
 */
export interface EndpointListContext {
  readonly newest?: RowNode;
  readonly lineNo: number;
}

interface RowNode {
  readonly row: EndpointListRow;
  readonly older?: RowNode;
}

/**
 * The LineParser shape for a table: `LineParser`'s `tool` is typed by the ProbeEvent union, which
 * has no endpoint event, so this variant names its tool directly; `parse` is the same contract.
 */
export type TableLineParser<C> = Omit<LineParser<C, never>, 'tool'> & { tool: Extract<Tool, 'endpoint'> };

const ENFORCEMENT = new Set(['Enabled', 'Disabled', 'Unknown']);
const IPV4 = /^\d{1,3}(?:\.\d{1,3}){3}$/;
const IPV6 = /^[0-9a-fA-F]*:[0-9a-fA-F]*:[0-9a-fA-F:.]*$/;
const HEADER_CONTINUATION = /^ENFORCEMENT\s+ENFORCEMENT$/;
const DIGITS = /^\d+$/;
const WHITESPACE = /\s+/;
const YAML_TOP_KEY = /^(?:apiVersion|kind|items|endpoints|metadata):/m;
const YAML_SLICE_KIND = /^kind: CiliumEndpointSlice\s*$/m;
const JSON_START = /^\s*[[{]/;

/** parseEndpointListLine: one line of an endpoint list table; rows accumulate in the context. */
export function parseEndpointListLine(line: string, ctx: EndpointListContext): Parsed<EndpointListContext, never> {
  const lineNo = ctx.lineNo + 1;
  const text = line.trim();
  const next: EndpointListContext = { newest: ctx.newest, lineNo };
  if (text === '') return { result: IGNORED_BLANK, ctx: next };
  if (text.startsWith('ENDPOINT') && text.includes('IDENTITY')) return { result: META_HEADER, ctx: next };
  if (HEADER_CONTINUATION.test(text)) return { result: META_HEADER, ctx: next };
  const noise = transcriptNoise(text);
  if (noise !== undefined) return { result: { kind: 'ignored', reason: noise }, ctx: next };
  const tokens = text.split(WHITESPACE);
  const first = tokens[0];
  if (tokens.length > 1 && DIGITS.test(first)) {
    const row = rowFromTokens(tokens, lineNo);
    if (typeof row === 'string') return { result: { kind: 'unparsed', reason: row }, ctx: next };
    return {
      result: { kind: 'meta', meta: { note: `endpoint ${row.id}` } },
      ctx: { newest: { row, older: ctx.newest }, lineNo },
    };
  }
  if (tokens.length === 1 && ctx.newest !== undefined) {
    const prev = ctx.newest.row;
    const row: EndpointListRow = { ...prev, labels: [...prev.labels, first] };
    return {
      result: { kind: 'meta', meta: { note: `label of endpoint ${row.id}` } },
      ctx: { newest: { row, older: ctx.newest.older }, lineNo },
    };
  }
  return {
    result: { kind: 'unparsed', reason: tokens.length === 1 ? 'label line before any endpoint row' : 'not an endpoint list row' },
    ctx: next,
  };
}

/** endpointListParser: line-level form of parseEndpointListTable, for streaming. */
export const endpointListParser: TableLineParser<EndpointListContext> = {
  tool: 'endpoint',
  initial: () => ({ lineNo: 0 }),
  parse: parseEndpointListLine,
};

/** endpointListRows: the rows accumulated in an endpointListParser context, in table order. */
export function endpointListRows(ctx: EndpointListContext): EndpointListRow[] {
  const rows: EndpointListRow[] = [];
  for (let node = ctx.newest; node !== undefined; node = node.older) rows.push(node.row);
  return rows.reverse();
}

/** parseEndpointListTable: a whole `cilium endpoint list` table. */
export function parseEndpointListTable(lines: string[]): EndpointListResult {
  let ctx = endpointListParser.initial();
  const unparsed: UnparsedLine[] = [];
  for (const line of lines) {
    const parsed = parseEndpointListLine(line, ctx);
    ctx = parsed.ctx;
    if (parsed.result.kind === 'unparsed') unparsed.push({ line: ctx.lineNo, text: line, reason: parsed.result.reason });
  }
  return { rows: endpointListRows(ctx), unparsed };
}

/** endpointInfoFromListRow: the EndpointInfo a list row gives (no interface, MACs or pod name). */
export function endpointInfoFromListRow(row: EndpointListRow): EndpointInfo {
  const info: EndpointInfo = { id: row.id, identity: row.identity, ips: [], labels: row.labels, state: row.status, source: 'endpoint-list' };
  if (row.ipv4 !== undefined) info.ips.push(row.ipv4);
  if (row.ipv6 !== undefined) info.ips.push(row.ipv6);
  return info;
}

const IGNORED_BLANK: ParseResult<never> = { kind: 'ignored', reason: 'blank line' };
const META_HEADER: ParseResult<never> = { kind: 'meta', meta: { note: 'endpoint list header' } };

/**
 * A first row line: `ID INGRESS EGRESS IDENTITY LABEL [IPv6] [IPv4] STATUS`, where enforcement may
 * be `Disabled (Audit)`, the identity `<no label id>`, the label `no labels`, the addresses
 * `No address No address` or `Unknown Unknown` (endpoint_list.go). Returns the reason on failure.
 */
function rowFromTokens(tokens: string[], line: number): EndpointListRow | string {
  let i = 1;
  const ingress = enforcementAt(tokens, i);
  if (ingress === undefined) return 'no ingress enforcement after the endpoint id';
  i += ingress.width;
  const egress = enforcementAt(tokens, i);
  if (egress === undefined) return 'no egress enforcement after the ingress enforcement';
  i += egress.width;
  let identity: number | null;
  if (DIGITS.test(tokens[i] ?? '')) {
    identity = Number(tokens[i]);
    i++;
  } else if (tokens[i] === '<no' && tokens[i + 1] === 'label' && tokens[i + 2] === 'id>') {
    identity = null;
    i += 3;
  } else {
    return 'no identity after the enforcement columns';
  }
  const rest = tokens.slice(i);
  const status = rest.pop();
  if (status === undefined) return 'row ends before the status column';
  const row: EndpointListRow = { id: Number(tokens[0]), identity, ingressEnforcement: ingress.value, egressEnforcement: egress.value, labels: [], status, line };
  if (endsWith(rest, ['No', 'address', 'No', 'address'])) rest.length -= 4;
  else if (endsWith(rest, ['Unknown', 'Unknown'])) rest.length -= 2;
  else {
    if (rest.length > 0 && IPV4.test(rest[rest.length - 1])) row.ipv4 = rest.pop();
    if (rest.length > 0 && IPV6.test(rest[rest.length - 1])) row.ipv6 = rest.pop();
  }
  if (endsWith(rest, ['no', 'labels']) && rest.length === 2) return row;
  if (rest.length > 1) return `expected one label before the addresses, found ${rest.length} words`;
  if (rest.length === 1) row.labels.push(rest[0]);
  return row;
}

function enforcementAt(tokens: string[], i: number): { value: string; width: number } | undefined {
  const word = tokens[i];
  if (word === undefined || !ENFORCEMENT.has(word)) return undefined;
  if (tokens[i + 1] === '(Audit)') return { value: `${word} (Audit)`, width: 2 };
  return { value: word, width: 1 };
}

function endsWith(tokens: string[], tail: string[]): boolean {
  if (tokens.length < tail.length) return false;
  const offset = tokens.length - tail.length;
  return tail.every((t, k) => tokens[offset + k] === t);
}

// ---- JSON: endpoint get, CiliumEndpoint, CiliumEndpointSlice ------------------------------------

export interface EndpointsResult {
  endpoints: EndpointInfo[];
  error?: string;
}

/** parseEndpointGetJson: `cilium endpoint get ID` / `cilium-dbg endpoint get -o json` output. */
export function parseEndpointGetJson(text: string): EndpointsResult {
  const parsed = parseJsonAfterNoise(text);
  if ('error' in parsed) return { endpoints: [], error: parsed.error };
  return endpointsFromAgentJson(parsed.value);
}

/** endpointsFromAgentJson: the same as parseEndpointGetJson, for an already decoded value. */
export function endpointsFromAgentJson(value: unknown): EndpointsResult {
  const items = Array.isArray(value) ? value : [value];
  const endpoints: EndpointInfo[] = [];
  for (const [k, item] of items.entries()) {
    const obj = asRecord(item);
    if (obj === undefined) return { endpoints, error: `element ${k} is not an object` };
    if (obj.kind === 'CiliumEndpoint' || obj.kind === 'CiliumEndpointSlice') {
      return { endpoints, error: `this is a ${String(obj.kind)} object, not agent endpoint JSON: read it with parseCiliumEndpointObjects` };
    }
    const id = asNumber(obj.id);
    const status = asRecord(obj.status);
    if (id === undefined || status === undefined) return { endpoints, error: `element ${k} has no numeric id and status object` };
    const info = endpointFromStatus(status, id, 'endpoint-get');
    const networking = asRecord(status.networking);
    if (networking !== undefined) {
      setString(info, 'interface', networking['interface-name']);
      setString(info, 'podInterface', networking['container-interface-name']);
      const ifindex = asNumber(networking['interface-index']);
      if (ifindex !== undefined) info.ifindex = ifindex;
      const mac = asString(networking.mac);
      if (mac !== undefined) info.mac = mac.toLowerCase();
      const hostMac = asString(networking['host-mac']);
      if (hostMac !== undefined) info.hostMac = hostMac.toLowerCase();
    }
    const level =
      asString(asRecord(asRecord(status.realized)?.options)?.MonitorAggregationLevel) ??
      asString(asRecord(asRecord(obj.spec)?.options)?.MonitorAggregationLevel);
    if (level !== undefined) info.monitorAggregation = level;
    const debug =
      asString(asRecord(asRecord(status.realized)?.options)?.Debug) ?? asString(asRecord(asRecord(obj.spec)?.options)?.Debug);
    if (debug !== undefined) info.datapathDebug = debug === 'Enabled';
    const audit =
      asString(asRecord(asRecord(status.realized)?.options)?.PolicyAuditMode) ?? asString(asRecord(asRecord(obj.spec)?.options)?.PolicyAuditMode);
    if (audit !== undefined) info.policyAuditMode = audit === 'Enabled';
    endpoints.push(info);
  }
  return { endpoints };
}

/**
 * parseCiliumEndpointObjects: `kubectl get cep -o json` (a List or one CiliumEndpoint) and
 * CiliumEndpointSlice JSON. YAML is recognised and refused: core has no YAML parser, and a
 * hand-written subset would be a second, weaker YAML implementation. Callers outside core that
 * hold YAML decode it with the `yaml` package and pass the value to ciliumEndpointsFromObject.
 */
export function parseCiliumEndpointObjects(text: string): EndpointsResult {
  const trimmed = text.trimStart();
  if (YAML_TOP_KEY.test(trimmed) && !JSON_START.test(trimmed)) {
    const what = YAML_SLICE_KIND.test(trimmed) ? 'CiliumEndpointSlice' : 'CiliumEndpoint';
    return { endpoints: [], error: `${what} YAML not supported, use -o json` };
  }
  const parsed = parseJsonAfterNoise(text);
  if ('error' in parsed) return { endpoints: [], error: parsed.error };
  return ciliumEndpointsFromObject(parsed.value);
}

/** ciliumEndpointsFromObject: CiliumEndpoint / CiliumEndpointSlice objects, or a List of them, already decoded. */
export function ciliumEndpointsFromObject(value: unknown): EndpointsResult {
  const obj = asRecord(value);
  if (obj === undefined) return { endpoints: [], error: 'not a Kubernetes object' };
  const items = Array.isArray(obj.items) ? obj.items : [obj];
  const endpoints: EndpointInfo[] = [];
  for (const [k, item] of items.entries()) {
    const o = asRecord(item);
    const kind = o === undefined ? undefined : asString(o.kind);
    if (o !== undefined && kind === 'CiliumEndpointSlice') {
      endpoints.push(...endpointsFromSlice(o));
      continue;
    }
    // Items of a List carry no kind when the server omits it; an object with status.id is a CEP.
    const status = o === undefined ? undefined : asRecord(o.status);
    if (o === undefined || (kind !== undefined && kind !== 'CiliumEndpoint') || status === undefined) {
      return { endpoints, error: `item ${k} is not a CiliumEndpoint (kind ${kind ?? 'missing'})` };
    }
    const info = endpointFromStatus(status, asNumber(status.id) ?? null, 'cilium-endpoint');
    const meta = asRecord(o.metadata);
    const namespace = asString(meta?.namespace);
    const name = asString(meta?.name);
    // A CiliumEndpoint is named after its pod, in the pod's namespace.
    if (namespace !== undefined && name !== undefined) info.pod = { namespace, name };
    setString(info, 'nodeIp', asRecord(status.networking)?.node);
    endpoints.push(info);
  }
  return { endpoints };
}

/** A CES lists endpoints by name; its `id` is the security identity, not the endpoint id. */
function endpointsFromSlice(slice: Record<string, unknown>): EndpointInfo[] {
  const namespace = asString(slice.namespace);
  const out: EndpointInfo[] = [];
  for (const item of Array.isArray(slice.endpoints) ? slice.endpoints : []) {
    const e = asRecord(item);
    if (e === undefined) continue;
    const networking = asRecord(e.networking);
    const info: EndpointInfo = { id: null, identity: asNumber(e.id) ?? null, ips: addresses(networking), labels: [], source: 'cilium-endpoint-slice' };
    const name = asString(e.name);
    if (namespace !== undefined && name !== undefined) info.pod = { namespace, name };
    setString(info, 'nodeIp', networking?.node);
    out.push(info);
  }
  return out;
}

/** The fields `endpoint get` and the CRD share (models.EndpointStatus / CiliumEndpoint status). */
function endpointFromStatus(status: Record<string, unknown>, id: number | null, source: EndpointInfo['source']): EndpointInfo {
  const identity = asRecord(status.identity);
  const labels = asStringArray(identity?.labels) ?? asStringArray(asRecord(status.labels)?.['security-relevant']) ?? [];
  const info: EndpointInfo = { id, identity: asNumber(identity?.id) ?? null, ips: addresses(asRecord(status.networking)), labels, source };
  setString(info, 'state', status.state);
  const pod = podFromIdentifiers(asRecord(status['external-identifiers']));
  if (pod !== undefined) info.pod = pod;
  return info;
}

/** k8s-namespace + k8s-pod-name, else pod-name `ns/name` (`/` when the endpoint is no pod). */
function podFromIdentifiers(ids: Record<string, unknown> | undefined): EndpointInfo['pod'] {
  if (ids === undefined) return undefined;
  const namespace = asString(ids['k8s-namespace']);
  const name = asString(ids['k8s-pod-name']);
  if (namespace !== undefined && name !== undefined && namespace !== '' && name !== '') return { namespace, name };
  const podName = asString(ids['pod-name']);
  const slash = podName?.indexOf('/') ?? -1;
  if (podName === undefined || slash <= 0 || slash === podName.length - 1) return undefined;
  return { namespace: podName.slice(0, slash), name: podName.slice(slash + 1) };
}

function addresses(networking: Record<string, unknown> | undefined): string[] {
  const ips: string[] = [];
  const list = networking?.addressing;
  if (!Array.isArray(list)) return ips;
  for (const a of list) {
    const pair = asRecord(a);
    const v4 = asString(pair?.ipv4);
    const v6 = asString(pair?.ipv6);
    if (v4 !== undefined && v4 !== '') ips.push(v4);
    if (v6 !== undefined && v6 !== '') ips.push(v6);
  }
  return ips;
}

/** JSON.parse after any transcript noise (prompt, `Defaulted container ...`) before the document. */
function parseJsonAfterNoise(text: string): { value: unknown } | { error: string } {
  const lines = text.split('\n');
  let start = 0;
  while (start < lines.length && (lines[start].trim() === '' || transcriptNoise(lines[start].trim()) !== undefined)) start++;
  const body = lines.slice(start).join('\n');
  if (!JSON_START.test(body)) return { error: 'not JSON: the output does not start with [ or {' };
  try {
    return { value: JSON.parse(body) as unknown };
  } catch (e) {
    return { error: `not valid JSON: ${(e as Error).message}` };
  }
}

function setString(info: EndpointInfo, key: 'interface' | 'podInterface' | 'nodeIp' | 'state', v: unknown): void {
  if (typeof v === 'string' && v !== '') info[key] = v;
}
