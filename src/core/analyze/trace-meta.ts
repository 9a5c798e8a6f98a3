import type { EndpointInfo } from '../model/endpoint.js';
import { asNumber, asRecord, asString, asStringArray } from '../parse/json-value.js';

/**
 * run.json of a `trace --save DIR`: what the live trace knew that its raw outputs do not say
 * (which file observed which point on which node, the endpoints it resolved, probes that never
 * produced a file and why), so `analyze DIR` builds the same report.
 */
export interface TraceMeta {
  /** The marker detectFormat looks for, with the layout version. */
  kubectlDatapathRun: { version: 1; runId: string; startedAt?: string };
  src?: string;
  dst?: string;
  traffic?: string;
  nodes: TraceMetaNode[];
  endpoints: EndpointInfo[];
  inputs: TraceMetaInput[];
  /** The trace's own warnings (forbidden probe pods, traffic that could not be sent, ...). */
  warnings: string[];
  /** The network policy resources the trace listed (their objects are in policies.json) and those it could not (`resource: why`). */
  policies?: { read: string[]; notRead: string[] };
}

export interface TraceMetaNode {
  name: string;
  internalIp?: string;
  agent?: string;
  probePods?: string[];
}

export type TraceMetaFormat = 'pcap' | 'monitor' | 'pwru' | 'iptables' | 'hubble';

/** One probe of the run: its file (when it produced output), where it looked, and how it went. */
export interface TraceMetaInput {
  id: string;
  /** File name inside the save directory; absent when the probe never ran. */
  file?: string;
  tool: string;
  format: TraceMetaFormat;
  point: string;
  node: string;
  /** ok | failed: <why> | partial: <why> | skipped: <why> (the report's input status). */
  status: string;
  /** Where it ran (`pod kube-system/datapath-...`) and its argv, for people re-running it by hand. */
  place?: string;
  argv?: string[];
  note?: string;
  /** The tail of its stderr. */
  stderr?: string;
  /**
   * It was ready before the traffic was sent and ran until the trace stopped it: it watched all of
   * the traffic, so a packet of it that this point did not show did not pass there.
   */
  watchedTraffic?: boolean;
}

const FORMATS: readonly string[] = ['pcap', 'monitor', 'pwru', 'iptables', 'hubble'];
const SOURCES: readonly EndpointInfo['source'][] = ['endpoint-list', 'endpoint-get', 'cilium-endpoint', 'cilium-endpoint-slice'];

/** parseTraceMeta reads run.json; an error names what is wrong instead of throwing. */
export function parseTraceMeta(text: string): { meta?: TraceMeta; error?: string } {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    return { error: `run metadata is not JSON: ${(err as Error).message}` };
  }
  const top = asRecord(raw);
  const run = asRecord(top?.kubectlDatapathRun);
  if (!top || !run) return { error: 'run metadata has no kubectlDatapathRun object' };
  if (run.version !== 1) return { error: `run metadata version ${String(run.version)} is not one this plugin reads (1)` };
  const inputs: TraceMetaInput[] = [];
  for (const v of Array.isArray(top.inputs) ? top.inputs : []) {
    const r = asRecord(v);
    const id = asString(r?.id);
    const format = asString(r?.format);
    if (!r || !id || !format || !FORMATS.includes(format)) continue;
    inputs.push({
      id,
      file: asString(r.file),
      tool: asString(r.tool) ?? format,
      format: format as TraceMetaFormat,
      point: asString(r.point) ?? '',
      node: asString(r.node) ?? '',
      status: asString(r.status) ?? 'ok',
      place: asString(r.place),
      argv: asStringArray(r.argv),
      note: asString(r.note),
      stderr: asString(r.stderr),
      ...(r.watchedTraffic === true ? { watchedTraffic: true } : {}),
    });
  }
  const nodes: TraceMetaNode[] = [];
  for (const v of Array.isArray(top.nodes) ? top.nodes : []) {
    const r = asRecord(v);
    const name = asString(r?.name);
    if (r && name) nodes.push({ name, internalIp: asString(r.internalIp), agent: asString(r.agent), probePods: asStringArray(r.probePods) });
  }
  const endpoints: EndpointInfo[] = [];
  for (const v of Array.isArray(top.endpoints) ? top.endpoints : []) {
    const e = readEndpoint(v);
    if (e) endpoints.push(e);
  }
  return {
    meta: {
      kubectlDatapathRun: { version: 1, runId: asString(run.runId) ?? '', startedAt: asString(run.startedAt) },
      src: asString(top.src),
      dst: asString(top.dst),
      traffic: asString(top.traffic),
      nodes,
      endpoints,
      inputs,
      warnings: asStringArray(top.warnings) ?? [],
      ...policiesOf(asRecord(top.policies)),
    },
  };
}

function policiesOf(p: Record<string, unknown> | undefined): Pick<TraceMeta, 'policies'> {
  return p ? { policies: { read: asStringArray(p.read) ?? [], notRead: asStringArray(p.notRead) ?? [] } } : {};
}

function readEndpoint(v: unknown): EndpointInfo | undefined {
  const r = asRecord(v);
  if (!r) return undefined;
  const pod = asRecord(r.pod);
  const ns = asString(pod?.namespace);
  const name = asString(pod?.name);
  const id = asNumber(r.id);
  const identity = asNumber(r.identity);
  const out: EndpointInfo = {
    id: id ?? null,
    identity: identity ?? null,
    ips: asStringArray(r.ips) ?? [],
    labels: asStringArray(r.labels) ?? [],
    source: SOURCES.find((x) => x === r.source) ?? 'endpoint-get',
  };
  if (ns && name) out.pod = { namespace: ns, name };
  const iface = asString(r.interface);
  if (iface) out.interface = iface;
  const ifindex = asNumber(r.ifindex);
  if (ifindex !== undefined) out.ifindex = ifindex;
  const mac = asString(r.mac);
  if (mac) out.mac = mac;
  const hostMac = asString(r.hostMac);
  if (hostMac) out.hostMac = hostMac;
  const node = asString(r.node);
  if (node) out.node = node;
  if (out.ips.length === 0 && !out.pod) return undefined;
  return out;
}

/** TRACE_META_FILE: the metadata file's name in a save directory. */
export const TRACE_META_FILE = 'run.json';
