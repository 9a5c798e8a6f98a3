/**
 * `cilium monitor` text and JSON for the lab's datapath records, following cilium's
 * pkg/monitor (datapath_trace.go, datapath_debug.go, datapath_drop.go) and
 * pkg/monitor/format: INFO prints trace and drop summaries, -v (DEBUG) adds the DEBUG lines,
 * -vv (VERBOSE) prints each trace and drop as a separator, header and packet dissection,
 * -j prints one JSON object per record. Pure: one record in, its output lines out.
 */
import { ipFromNative, eventBytes, DBG, OBS, PROG, type DatapathEvent } from '../datapath-events.js';
import { RESERVED_IDENTITIES } from '../../kernel/topology.js';
import { connectionSummary, decode, dissectLines, dissectSummary } from './dissect.js';
import { atLeast } from './version.js';

export type Verbosity = 'info' | 'debug' | 'verbose' | 'json';

export interface MonitorFormatOptions {
  version: string;
  verbosity: Verbosity;
  numeric: boolean;
  hex: boolean;
  /** Interface names of this node by ifindex (what the agent's link cache knows). */
  ifnames: Map<number, string>;
}

const SEPARATOR = '------------------------------------------------------------------------------';

const OBS_NAMES: Record<number, string> = {
  0: 'to-endpoint', 1: 'to-proxy', 2: 'to-host', 3: 'to-stack', 4: 'to-overlay', 5: 'from-endpoint', 6: 'from-proxy',
  7: 'from-host', 8: 'from-stack', 9: 'from-overlay', 10: 'from-network', 11: 'to-network',
};
const REASONS: Record<number, string> = { 0: 'new', 1: 'established', 2: 'reply', 3: 'related', 4: 'reopened', 5: 'unknown' };
const CT_STATES: Record<number, string> = { 0: 'New', 1: 'Established', 2: 'Reply', 3: 'Related' };
/** Cilium's drop reasons (pkg/monitor/api/drop.go) the lab's datapath can report. */
export const DROP_REASONS: Record<number, string> = {
  133: 'Policy denied', 158: 'Service backend not found', 160: 'No tunnel/encapsulation endpoint (datapath BUG!)', 181: 'Policy denied by denylist', 196: 'TTL exceeded',
};
/** pkg/monitor/api: the policy verdict's match type names (POLICY_MATCH_* of bpf/lib/policy.h). */
const POLICY_MATCH: Record<number, string> = { 0: 'none', 1: 'L3-Only', 2: 'L3-L4', 3: 'L4-Only', 4: 'all', 5: 'L3-Proto', 6: 'Proto-Only' };
/** Cilium's BPF source file ids, by the lab program that stands for them. */
const PROG_FILES: Record<number, [number, string]> = {
  [PROG.FROM_CONTAINER]: [2, 'bpf_lxc.c'], [PROG.TO_CONTAINER]: [2, 'bpf_lxc.c'], [PROG.FROM_NETDEV]: [1, 'bpf_host.c'],
  [PROG.FROM_OVERLAY]: [3, 'bpf_overlay.c'], [PROG.TO_OVERLAY]: [3, 'bpf_overlay.c'],
};

/** Go's %#x. */
const hex = (v: number): string => (v === 0 ? '0x0' : `0x${(v >>> 0).toString(16)}`);

function identity(id: number, o: MonitorFormatOptions): string {
  if (o.numeric) return String(id);
  return RESERVED_IDENTITIES[id] ?? String(id);
}

function ifname(ifindex: number, o: MonitorFormatOptions): string {
  return o.ifnames.get(ifindex) ?? String(ifindex);
}

function traceSummary(e: DatapathEvent): string {
  switch (e.sub) {
    case OBS.TO_LXC:
      return `-> endpoint ${e.dstId}`;
    case OBS.TO_STACK:
      return '-> stack';
    case OBS.TO_OVERLAY:
      return '-> overlay';
    case OBS.TO_NETWORK:
      return '-> network';
    case OBS.FROM_LXC:
      return `<- endpoint ${e.source}`;
    case OBS.FROM_OVERLAY:
      return '<- overlay';
    case OBS.FROM_NETWORK:
      return '<- network';
    default:
      return 'unknown trace';
  }
}

/**
 * The packet bytes as the monitor decodes them: the perf sample carrying a notification is
 * padded to 8 bytes, so the slice after the header carries up to 7 bytes more than captured.
 */
function sampleData(e: DatapathEvent, headerLen: number): Uint8Array {
  const captured = eventBytes(e);
  const total = Math.ceil((4 + headerLen + captured.length) / 8) * 8;
  const out = new Uint8Array(total - 4 - headerLen);
  out.set(captured);
  return out;
}

/** Go's encoding/json string escaping (HTML-safe: <, >, & as \u003c...). */
export function goJson(value: unknown, indent?: string): string {
  return JSON.stringify(value, null, indent).replace(/[<>&\u2028\u2029]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/** A 16-bit value the datapath gave in network order, as Go's byteorder.NetworkToHost16. */
const ntohs = (v: number): number => ((v & 0xff) << 8) | ((v >>> 8) & 0xff);

function debugMessage(e: DatapathEvent): string {
  switch (e.sub) {
    case DBG.CT_LOOKUP4_1:
      return `Conntrack lookup 1/2: src=${ipFromNative(e.arg1)}:${e.arg3 >>> 16} dst=${ipFromNative(e.arg2)}:${e.arg3 & 0xffff}`;
    case DBG.CT_LOOKUP4_2:
      return `Conntrack lookup 2/2: nexthdr=${e.arg1} flags=${e.arg2}`;
    case DBG.CT_MATCH:
      return `CT entry found lifetime=${e.arg1}, revnat=${e.arg2}`;
    case DBG.CT_VERDICT:
      return `CT verdict: ${CT_STATES[e.arg1] ?? String(e.arg1)}, revnat=${e.arg2}`;
    case DBG.CT_CREATED4:
      return `Conntrack create: proxy-port=${e.arg1 >>> 16} revnat=${e.arg1 & 0xffff} src-identity=${e.arg2} lb=${ipFromNative(e.arg3)}`;
    case DBG.IPID_MAP4:
      return `Successfully mapped addr=${ipFromNative(e.arg1)} to identity=${e.arg2}`;
    case DBG.LOCAL_DELIVERY:
      return `Attempting local delivery for container id ${e.arg1} from seclabel ${e.arg2}`;
    case DBG.ENCAP:
      return `Encapsulating to node ${e.arg1 >>> 0} (${hex(e.arg1)}) from seclabel ${e.arg2}`;
    case DBG.DECAP:
      return `Tunnel decap: id=${e.arg1} flowlabel=${(e.arg2 >>> 0).toString(16)}`;
    // The load balancer's messages, as pkg/monitor/datapath_debug.go prints them (ports and the
    // rev_nat index arrive in network order).
    case DBG.LB4_LOOKUP_FRONTEND:
      return `Frontend service lookup, addr=${ipFromNative(e.arg1)} key.dport=${ntohs(e.arg2)}`;
    case DBG.LB4_LOOKUP_BACKEND_SLOT:
      return `Service backend slot lookup: slot=${e.arg1}, dport=${ntohs(e.arg2)}`;
    case DBG.LB4_LOOKUP_BACKEND_SLOT_SUCCESS:
      return `Service backend slot lookup result: target=${ipFromNative(e.arg1)} port=${ntohs(e.arg2)}`;
    case DBG.LB4_REVERSE_NAT_LOOKUP:
      return `Reverse NAT lookup, index=${ntohs(e.arg1)}`;
    case DBG.LB4_REVERSE_NAT:
      return `Performing reverse NAT, address=${ipFromNative(e.arg1)} port=${ntohs(e.arg2)}`;
    default:
      return `Unknown message type=${e.sub} arg1=${e.arg1} arg2=${e.arg2}`;
  }
}

function cpuPrefix(e: DatapathEvent): string {
  return `CPU ${String(e.cpu).padStart(2, '0')}:`;
}

function formatTrace(e: DatapathEvent, o: MonitorFormatOptions): string[] {
  const data = sampleData(e, 48);
  const decoded = decode(data);
  const newIdentity = atLeast(o.version, 1, 10);
  if (o.verbosity === 'json') {
    const v: Record<string, unknown> = {
      cpu: cpuPrefix(e), type: 'trace', mark: hex(e.hash), ifindex: ifname(e.ifindex, o), state: REASONS[e.reason] ?? String(e.reason),
      observationPoint: OBS_NAMES[e.sub] ?? String(e.sub), traceSummary: traceSummary(e), source: e.source, bytes: e.len,
      srcLabel: e.srcLabel, dstLabel: e.dstLabel, dstID: e.dstId,
    };
    if (atLeast(o.version, 1, 18)) v.IpTraceID = 0;
    if (e.capLen > 0) v.summary = dissectSummary(decoded);
    return [goJson(v)];
  }
  const ids = newIdentity ? `, identity ${identity(e.srcLabel, o)}->${identity(e.dstLabel, o)}` : ` identity ${e.srcLabel}->${e.dstLabel}`;
  if (o.verbosity === 'info' || o.verbosity === 'debug') {
    // Since 1.10 the identities follow ", " (dumpIdentity), hence "flow 0x0 , identity".
    return [`${traceSummary(e)} flow ${hex(e.hash)} ${ids.trimStart()} state ${REASONS[e.reason] ?? e.reason} ifindex ${ifname(e.ifindex, o)} orig-ip ${ipFromNative(e.origIp)}: ${connectionSummary(decoded)}`];
  }
  let header = `${cpuPrefix(e)} MARK ${hex(e.hash)} FROM ${e.source} ${OBS_NAMES[e.sub] ?? e.sub}: ${e.len} bytes (${e.capLen} captured), state ${REASONS[e.reason] ?? e.reason}`;
  if (e.ifindex !== 0) header += `, interface ${ifname(e.ifindex, o)}`;
  if (e.srcLabel !== 0 || e.dstLabel !== 0) header += newIdentity ? `, ${ids}` : `,${ids}`;
  header += `, orig-ip ${ipFromNative(e.origIp)}`;
  header += e.dstId !== 0 ? `, to endpoint ${e.dstId}` : '';
  const body = o.hex ? hexDump(data) : dissectLines(decoded);
  // Before 1.17 the header went through a bufio.Writer flushed after the dissection, which
  // fmt.Println'd straight to stdout: the packet came out above its own header.
  return atLeast(o.version, 1, 17) ? [SEPARATOR, header, ...body] : [SEPARATOR, ...body, header];
}

function formatDrop(e: DatapathEvent, o: MonitorFormatOptions): string[] {
  const data = sampleData(e, 36);
  const decoded = decode(data);
  const reason = DROP_REASONS[e.sub] ?? String(e.sub);
  const [fileId, file] = PROG_FILES[e.prog] ?? [0, '<unknown-id-0>'];
  if (o.verbosity === 'json') {
    const v: Record<string, unknown> = {
      cpu: cpuPrefix(e), type: 'drop', mark: hex(e.hash), reason, source: e.source, bytes: e.len, srcLabel: e.srcLabel,
      dstLabel: e.dstLabel, dstID: e.dstId, Line: e.arg1, File: fileId, ExtError: 0, Ifindex: e.ifindex,
    };
    if (e.capLen > 0) v.summary = dissectSummary(decoded);
    return [goJson(v)];
  }
  const ids = `, identity ${identity(e.srcLabel, o)}->${identity(e.dstLabel, o)}`;
  if (o.verbosity === 'info' || o.verbosity === 'debug') {
    return [`xx drop (${reason}) flow ${hex(e.hash)} to endpoint ${e.dstId}, ifindex ${e.ifindex}, file ${file}:${e.arg1}, ${ids}: ${connectionSummary(decoded)}`];
  }
  let header = `${cpuPrefix(e)} MARK ${hex(e.hash)} FROM ${e.source} DROP: ${e.len} bytes, reason ${reason}`;
  if (e.srcLabel !== 0 || e.dstLabel !== 0) header += ids;
  header += e.dstId !== 0 ? `, to endpoint ${e.dstId}` : '';
  const body = o.hex ? hexDump(data) : dissectLines(decoded);
  return atLeast(o.version, 1, 17) ? [SEPARATOR, header, ...body] : [SEPARATOR, ...body, header];
}

/**
 * A policy verdict (pkg/monitor/datapath_policy.go DumpInfo, printed the same at every verbosity
 * and under -j): `proto P, ingress|egress` since 1.9 (before: `ingress true|false`), `auth: disabled`
 * since 1.14. The record's sub is the action (1 allow, 2 deny); see policy.h.
 */
function formatPolicyVerdict(e: DatapathEvent, o: MonitorFormatOptions): string[] {
  const data = sampleData(e, 32);
  const action = e.sub === 2 ? 'deny' : 'allow';
  const match = POLICY_MATCH[e.reason] ?? 'unknown';
  const ingress = e.arg3 === 1;
  const remote = identity(e.srcLabel, o);
  const head = `Policy verdict log: flow ${hex(e.hash)} local EP ID ${e.source}, remote ID ${remote}`;
  const fields = atLeast(o.version, 1, 9) ? `proto ${e.arg2}, ${ingress ? 'ingress' : 'egress'}` : `dst port ${e.arg1}, proto ${e.arg2}, ingress ${ingress}`;
  const auth = atLeast(o.version, 1, 14) ? ', auth: disabled' : '';
  return [`${head}, ${fields}, action ${action}${auth}, match ${match}, ${connectionSummary(decode(data))}`];
}

function formatDebug(e: DatapathEvent, o: MonitorFormatOptions): string[] {
  if (o.verbosity === 'info') return [];
  if (o.verbosity === 'json') return [`{"cpu":${JSON.stringify(cpuPrefix(e))},"type":"debug","message":${JSON.stringify(debugMessage(e))}}`];
  return [`${cpuPrefix(e)} MARK ${hex(e.hash)} FROM ${e.source} DEBUG: ${debugMessage(e)}`];
}

/** Go's encoding/hex Dump (the --hex body). */
export function hexDump(data: Uint8Array): string[] {
  const lines: string[] = [];
  for (let off = 0; off < data.length; off += 16) {
    const chunk = [...data.subarray(off, off + 16)];
    const bytes = chunk.map((b, i) => `${b.toString(16).padStart(2, '0')}${i === 7 ? '  ' : ' '}`).join('');
    const ascii = chunk.map((b) => (b >= 0x20 && b <= 0x7e ? String.fromCharCode(b) : '.')).join('');
    lines.push(`${off.toString(16).padStart(8, '0')}  ${bytes.padEnd(49, ' ')} |${ascii}|`);
  }
  return lines;
}

/** The lines `cilium monitor` prints for one datapath record (none for verdict records). */
export function formatEvent(e: DatapathEvent, o: MonitorFormatOptions): string[] {
  switch (e.kind) {
    case 'trace':
      return formatTrace(e, o);
    case 'drop':
      return formatDrop(e, o);
    case 'debug':
      return formatDebug(e, o);
    case 'policy-verdict':
      return formatPolicyVerdict(e, o);
    default:
      return [];
  }
}
