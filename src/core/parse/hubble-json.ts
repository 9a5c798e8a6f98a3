import type { HubbleEndpoint, HubbleEvent } from '../model/event.js';
import type { L4Info } from '../model/packet.js';
import { dropReasonName } from './cilium-drop-reasons.js';
import { RESERVED_IDENTITIES, flowPacket, nodeName, splitTraceId } from './hubble-fields.js';
import { asNumber, asRecord, asString, asStringArray } from './json-value.js';
import { icmpTypeName } from './protocol-names.js';
import { tcpFlagsToTcpdump } from './pwru-fields.js';

/*
 * Hubble flows as JSON, one object a line: `hubble observe -o jsonpb` writes the GetFlowsResponse
 * (`{"flow":{...},"node_name":...,"time":...}`), `-o json` in hubble before 0.8 (later
 * `json-legacy`) the bare Flow; the Hubble exporter writes the GetFlowsResponse too. Field names
 * are the proto's (protojson with proto names, enums as their names): cilium/cilium
 * api/v1/flow/flow.proto and api/v1/observer/observer.proto.
 */

export type JsonResult =
  | { kind: 'event'; event: HubbleEvent }
  | { kind: 'meta'; note: string }
  | { kind: 'ignored'; reason: string }
  | { kind: 'unparsed'; reason: string };

/** pkg/monitor/api MessageType numbers (CiliumEventType.type). */
const EVENT_KINDS: Record<number, HubbleEvent['kind']> = { 1: 'drop', 3: 'capture', 4: 'trace', 5: 'policy-verdict', 7: 'trace-sock', 129: 'l7' };
/** api Trace* observation points by CiliumEventType.sub_type of a trace event. */
const TRACE_SUBTYPES = [
  'to-endpoint', 'to-proxy', 'to-host', 'to-stack', 'to-overlay', 'from-endpoint', 'from-proxy', 'from-host',
  'from-stack', 'from-overlay', 'from-network', 'to-network', 'to-crypto', 'from-crypto',
];
/** api.PolicyMatchType strings by policy_match_type. */
const POLICY_MATCH = ['none', 'L3-Only', 'L3-L4', 'L4-Only', 'all', 'L3-Proto', 'Proto-Only'];
const XLATE_POINTS: Record<string, string> = {
  SOCK_XLATE_POINT_PRE_DIRECTION_FWD: 'pre-xlate-fwd', SOCK_XLATE_POINT_POST_DIRECTION_FWD: 'post-xlate-fwd',
  SOCK_XLATE_POINT_PRE_DIRECTION_REV: 'pre-xlate-rev', SOCK_XLATE_POINT_POST_DIRECTION_REV: 'post-xlate-rev',
};
/** flow.proto Verdict numbers, for encoders that wrote enums as numbers. */
const VERDICT_NAMES = ['VERDICT_UNKNOWN', 'FORWARDED', 'DROPPED', 'ERROR', 'AUDIT', 'REDIRECTED', 'TRACED', 'TRANSLATED'];

/** readJsonLine: one JSON line of flows; never throws. */
export function readJsonLine(line: string): JsonResult {
  let raw: unknown;
  try {
    raw = JSON.parse(line);
  } catch {
    return { kind: 'unparsed', reason: 'invalid JSON' };
  }
  const o = asRecord(raw);
  if (!o) return { kind: 'unparsed', reason: 'JSON line is not an object' };
  const wrapped = asRecord(o.flow);
  if (wrapped) return { kind: 'event', event: readFlow(wrapped, asString(o.node_name)) };
  if (asRecord(o.node_status)) {
    const s = asRecord(o.node_status)!;
    return { kind: 'meta', note: `Hubble node status ${asString(s.state_change) ?? '?'}: ${(asStringArray(s.node_names) ?? []).join(', ')}` };
  }
  if (asRecord(o.lost_events)) {
    const l = asRecord(o.lost_events)!;
    return { kind: 'meta', note: `Hubble lost ${asNumber(l.num_events_lost) ?? '?'} events (${asString(l.source) ?? 'unknown source'})` };
  }
  if (asRecord(o.agent_event) || asRecord(o.debug_event)) return { kind: 'ignored', reason: 'hubble agent or debug event' };
  if ('verdict' in o || 'IP' in o || 'event_type' in o || 'l4' in o) return { kind: 'event', event: readFlow(o, undefined) };
  return { kind: 'unparsed', reason: 'JSON object is neither a Hubble flow nor a GetFlowsResponse' };
}

function readFlow(f: Record<string, unknown>, responseNode: string | undefined): HubbleEvent {
  const verdict = enumName(f.verdict, VERDICT_NAMES) ?? 'VERDICT_UNKNOWN';
  const eventType = asRecord(f.event_type);
  const typeNum = asNumber(eventType?.type);
  const subType = asNumber(eventType?.sub_type);
  const src = endpoint(asRecord(f.source));
  const dst = endpoint(asRecord(f.destination));
  const ip = asRecord(f.IP);
  const srcIp = asString(ip?.source);
  const dstIp = asString(ip?.destination);
  if (srcIp) src.ip = srcIp;
  if (dstIp) dst.ip = dstIp;
  const l4 = layer4(asRecord(f.l4), src, dst);
  const svcSrc = service(asRecord(f.source_service));
  const svcDst = service(asRecord(f.destination_service));
  if (svcSrc) src.service = svcSrc;
  if (svcDst) dst.service = svcDst;

  let kind: HubbleEvent['kind'] = (typeNum !== undefined ? EVENT_KINDS[typeNum] : undefined) ?? 'unknown';
  if (kind === 'unknown') {
    // Masked exporter output may lack event_type: a verdict or an L7 record still says which.
    if (asRecord(f.l7)) kind = 'l7';
    else if (verdict === 'DROPPED') kind = 'drop';
    else if (f.trace_observation_point !== undefined) kind = 'trace';
  }
  const raw = asString(f.Summary) ?? asString(f.summary) ?? '';
  const { summary, ipTraceId } = splitTraceId(raw);
  const event: HubbleEvent = { tool: 'hubble', kind, verdict, src, dst, summary };

  const time = asString(f.time);
  if (time !== undefined) {
    const us = rfc3339Us(time);
    if (us !== undefined) event.time = { clock: 'wall', us };
  }
  const node = asString(f.node_name) ?? responseNode;
  if (node) event.node = nodeName(node);

  const point = asString(f.trace_observation_point);
  if (point && point !== 'UNKNOWN_POINT') event.obsPoint = point.toLowerCase().replace(/_/g, '-');
  else if (kind === 'trace' && subType !== undefined && TRACE_SUBTYPES[subType]) event.obsPoint = TRACE_SUBTYPES[subType];

  if (kind === 'drop' || verdict === 'DROPPED' || verdict === 'ERROR') {
    const code = asNumber(f.drop_reason_desc) ?? (kind === 'drop' ? subType : undefined) ?? asNumber(f.drop_reason);
    const desc = asString(f.drop_reason_desc);
    if (desc && desc !== 'DROP_REASON_UNKNOWN') event.dropReasonDesc = desc;
    if (code !== undefined && code > 0) {
      event.dropCode = code;
      const text = dropReasonName(code);
      if (text) event.dropReason = text;
    }
    if (event.dropReason === undefined && desc && desc !== 'DROP_REASON_UNKNOWN') event.dropReason = descWords(desc);
  }
  if (kind === 'policy-verdict') {
    const match = asNumber(f.policy_match_type);
    event.policyMatch = match !== undefined ? POLICY_MATCH[match] ?? String(match) : 'none';
  }
  const direction = asString(f.traffic_direction);
  if (direction === 'INGRESS' || direction === 'EGRESS') event.direction = direction === 'INGRESS' ? 'ingress' : 'egress';
  const xlate = asString(f.sock_xlate_point);
  if (xlate && XLATE_POINTS[xlate]) event.xlatePoint = XLATE_POINTS[xlate];
  if (typeof f.is_reply === 'boolean') event.isReply = f.is_reply;
  const reason = asString(f.trace_reason);
  if (reason && reason !== 'TRACE_REASON_UNKNOWN') event.ctState = reason.toLowerCase();
  const iface = asRecord(f.interface);
  if (iface) {
    const name = asString(iface.name);
    const index = asNumber(iface.index);
    if (name) event.iface = name;
    if (index !== undefined) event.ifindex = index;
  }
  const traceId = asString(asRecord(asRecord(f.trace_context)?.parent)?.trace_id);
  if (traceId) event.traceId = traceId;
  const ipTrace = asRecord(f.ip_trace_id)?.trace_id;
  if (typeof ipTrace === 'number' || typeof ipTrace === 'string') event.ipTraceId = String(ipTrace);
  else if (ipTraceId) event.ipTraceId = ipTraceId;

  const packet = flowPacket(src, dst, kind === 'l7' ? undefined : l4);
  const eth = asRecord(f.ethernet);
  if (packet && eth && asString(eth.source) && asString(eth.destination)) {
    packet.eth = { src: asString(eth.source)!.toLowerCase(), dst: asString(eth.destination)!.toLowerCase() };
  }
  if (packet) event.packet = packet;
  if (event.summary === '') event.summary = describe(event, l4);
  return event;
}

function endpoint(e: Record<string, unknown> | undefined): HubbleEndpoint {
  const out: HubbleEndpoint = {};
  if (!e) return out;
  const id = asNumber(e.ID);
  const identity = asNumber(e.identity);
  const ns = asString(e.namespace);
  const pod = asString(e.pod_name);
  if (id !== undefined && id > 0) out.endpointId = id;
  if (identity !== undefined) {
    out.identity = identity;
    if (RESERVED_IDENTITIES[identity]) out.identityName = RESERVED_IDENTITIES[identity];
  }
  if (ns) out.namespace = ns;
  if (pod) {
    out.pod = pod;
    out.name = ns ? `${ns}/${pod}` : pod;
  }
  const labels = asStringArray(e.labels);
  if (labels?.length) out.labels = labels;
  if (out.identityName === undefined) {
    // Identities above the reserved range (CIDR, kube-apiserver with world) name themselves by label.
    const reserved = (labels ?? []).find((l) => l.startsWith('reserved:'));
    if (reserved) out.identityName = reserved.slice('reserved:'.length);
  }
  return out;
}

function service(s: Record<string, unknown> | undefined): string | undefined {
  const name = asString(s?.name);
  if (!name) return undefined;
  const ns = asString(s?.namespace);
  return ns ? `${ns}/${name}` : name;
}

const TCP_FLAG_NAMES = ['FIN', 'SYN', 'RST', 'PSH', 'ACK', 'URG', 'ECE', 'CWR'];
const FLAG_NAME: Record<string, string> = { F: 'FIN', S: 'SYN', R: 'RST', P: 'PSH', '.': 'ACK', U: 'URG', E: 'ECE', W: 'CWR' };

function layer4(l4: Record<string, unknown> | undefined, src: HubbleEndpoint, dst: HubbleEndpoint): L4Info | undefined {
  if (!l4) return undefined;
  for (const [key, proto] of [['TCP', 'tcp'], ['UDP', 'udp'], ['SCTP', 'sctp']] as const) {
    const p = asRecord(l4[key]);
    if (!p) continue;
    const out: L4Info = { proto };
    // Zero ports are omitted by protojson: a port that is absent is 0, which Hostname() does not print either.
    const sp = asNumber(p.source_port);
    const dp = asNumber(p.destination_port);
    if (sp) src.port = sp;
    if (dp) dst.port = dp;
    const flags = asRecord(p.flags);
    if (flags) {
      const names = TCP_FLAG_NAMES.filter((n) => flags[n] === true);
      const letters = tcpFlagsToTcpdump(names.join('|'));
      if (letters) out.tcpFlags = letters;
    }
    return out;
  }
  for (const [key, proto] of [['ICMPv4', 'icmp'], ['ICMPv6', 'icmp6']] as const) {
    const p = asRecord(l4[key]);
    if (!p) continue;
    return { proto, icmpType: icmpTypeName(proto, asNumber(p.type) ?? 0) };
  }
  return undefined;
}

function enumName(v: unknown, names: readonly string[]): string | undefined {
  if (typeof v === 'string') return v;
  if (typeof v === 'number') return names[v] ?? String(v);
  return undefined;
}

/** RFC 3339 with nanoseconds, in microseconds since the epoch (Date keeps only milliseconds). */
function rfc3339Us(s: string): number | undefined {
  const m = /^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})(?:\.(\d{1,9}))?(Z|[+-]\d{2}:\d{2})$/.exec(s);
  if (!m) return undefined;
  const ms = Date.parse(`${m[1]}${m[3]}`);
  if (Number.isNaN(ms)) return undefined;
  return ms * 1000 + (m[2] ? Math.floor(Number(m[2].padEnd(9, '0')) / 1000) : 0);
}

/** `POLICY_DENIED` as words, for a code the drop table does not know. */
function descWords(desc: string): string {
  const s = desc.toLowerCase().replace(/_/g, ' ');
  return s.charAt(0).toUpperCase() + s.slice(1);
}

/** A summary like the printer's for JSON without the deprecated Summary field. */
function describe(e: HubbleEvent, l4: L4Info | undefined): string {
  if (!l4) return e.kind === 'l7' ? 'L7' : '';
  if (l4.proto === 'tcp') return l4.tcpFlags ? `TCP Flags: ${[...l4.tcpFlags].map((c) => FLAG_NAME[c] ?? c).join(', ')}` : 'TCP';
  if (l4.proto === 'icmp' || l4.proto === 'icmp6') return `${l4.proto === 'icmp' ? 'ICMPv4' : 'ICMPv6'} ${l4.icmpType}`;
  return l4.proto.toUpperCase();
}
