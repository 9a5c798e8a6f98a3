import type { MonitorEvent } from '../model/event.js';
import type { L4Info, Packet } from '../model/packet.js';
import { dropReasonCode, dropReasonName } from './cilium-drop-reasons.js';
import { parseDebugMessage } from './cilium-monitor-debug.js';
import { type PacketDump, isDumpLine, stepDump } from './cilium-monitor-dump.js';
import { BPF_FILES, cpuOf, packetOfSummary, readMonitorJson } from './cilium-monitor-json.js';
import { asNumber, asRecord, asString, asStringArray } from './json-value.js';
import { joinedRecords } from './cilium-monitor-split.js';
import { digitsValue, parseConnectionSummary } from './cilium-monitor-summary.js';
import { LINKTYPE_ETHERNET, decodeFrame } from './frame.js';
import type { LineParser, Parsed, ParseResult } from './result.js';
import { transcriptNoise } from './transcript-noise.js';

/**
 * cilium monitor / cilium-dbg monitor text output, agents 1.0 to 1.19: trace, drop, policy-verdict,
 * DEBUG, capture, L7, trace-sock, agent and recorder records, in the info form
 * (`-> endpoint 745 flow 0x.. identity 1->4 state established ifindex lxc_health orig-ip ..: <packet>`)
 * and the -v/-vv form (`CPU 02: MARK 0x0 FROM 3663 to-endpoint: 98 bytes (98 captured), ...`), plus
 * the packet dump -v prints with a record.
 *
 * Conventions: `endpoint 0`, `ifindex 0` and `orig-ip 0.0.0.0` mean "none" in monitor's output and
 * are left out of the event; identity 0 is the reserved "unknown" identity and is kept. `summary`
 * is the line itself.
 *
 * Where a -v dump stands depends on the agent (pkg/monitor/datapath_trace.go, datapath_drop.go):
 * for a while the trace and drop line went through a bufio.Writer flushed after Dissect had printed
 * the dump straight to stdout, so the dump stands BEFORE its line (the seed, 1.11.1). Older agents
 * (1.0's --hex), current ones (Dissect writes to the same buffer), debug captures and the recorder
 * print it after. Both happen in one stream, so the parser decides per record: dump lines right
 * after a record that can carry one and has none amend it; otherwise they are held in the context
 * and given to the record line that follows, and dropped if another line comes first.
 */

/** Per-stream state: the record the next line may complete, or a dump waiting for its record. */
export interface MonitorContext {
  readonly open?: OpenRecord;
  readonly held?: PacketDump;
}

interface OpenRecord {
  readonly event: MonitorEvent;
  /** What may still follow: the record's packet dump, or the `Conntrack lookup 2/2` half. */
  readonly awaits: 'dump' | 'ct-lookup-2';
  readonly dump?: PacketDump;
  /** `Conntrack lookup 1/2`: the tuple's ports, which wait for the 2/2 line's protocol. */
  readonly ports?: readonly [number, number];
}

type Result = Parsed<MonitorContext, MonitorEvent>;

const EMPTY: MonitorContext = Object.freeze({});

const FORWARD_INFO = /^-> forward \(([^)]+)\), at ([^,]+), to endpoint (\d+), identity (\S+?)->(\S+?): (.*)$/;
const XX_FORWARD = /^xx forward \(([^)]+)\) to endpoint (\d+), identity (\S+?)->(\S+?): (.*)$/;
const DROP_INFO =
  /^xx drop \((.+?)\) (?:flow (0x[0-9a-f]+) )?to endpoint (\d+), (?:ifindex (\d+), )?(?:file (\S+?)(?::| line )(\d+), )?(?: ?\[ ip-trace-id = (\d+) \])?(?:, )?identity (\S+?)->(\S+?): (.*)$/;
const CAPTURE_INFO = /^(?:-> proxy port (\d+)|-> ([^\s:]+)|<- load-balancer ([^\s:]+)|== (v4->v6|v6->v4) (\d+)): (.*)$/;
const L7 =
  /^(<-|->|\?\?) (Request|Response) (\S+) (from|to) (\d+) \((.*?)\) (to|from) (\d+) \((.*?)\), identity (\S+?)->(\S+?), verdict (\S+)(?: (.*))?$/;
const VERDICT_HEAD = /^Policy verdict log: flow (0x[0-9a-f]+)(?:, PolicyName ([^,]+),)? local EP ID (\d+), remote ID (\S+?), /;
const TRACE_VERBOSE = /^([a-z-]+|\d+): (\d+) bytes(?: \((\d+) captured\))?, (.*)$/;
/** ~1.3 printed `, to ifindex N` after the reason (gh-cilium-issue6305). */
const DROP_VERBOSE = /^(\d+) bytes, reason (.+?)(?:, to ifindex (\d+))?(?:(?:, )?identity (\S+?)->(\S+?))?(?:, to endpoint (\d+))?$/;
const FORWARD_VERBOSE = /^(\d+) bytes, at ([^,]+), reason ([^,]+), to ifindex (\d+)(?:, identity (\S+?)->(\S+?))?(?:, to endpoint (\d+))?$/;
const PACKET_DROPPED = /^Packet dropped (\d+) \((.+?)\) (\d+) bytes ifindex=(\d+)(?: (\S+?)->(\S+?))?$/;
const PACKET_FORWARDED = /^Packet forwarded (\d+) \(([^)]+)\) (\d+) bytes ifindex=(\d+)(?: (\S+?)->(\S+?))?(?: to lxc (\d+))?$/;
const CAPTURE_VERBOSE = /^(\d+) bytes,? (.+)$/;
const TRACE_SOCK = /^\[([a-z-]+)\] cgroup_id: (\d+) sock_cookie: (\d+), dst \[([^\]]+)\]:(\d+) (\S+)$/;
const LOST = /^Lost (\d+) events$/;
const LISTENING = /^Listening for events on \d+ CPUs with \d+x\d+ of shared memory$/;
const AGENT_NOTICE = /^>> ([^:]+): (.*)$/;
const RECORDER = /^Recorder capture: dir:(\w+) rule:(\d+) ts:(\d+) caplen:(\d+) len:(\d+)$/;
const AGENT_LOG = /^(?:time=(?:"[^"]*"|\S+) )?level=[a-z]+ msg=/;
const SEPARATOR = /^-{4,}$/;
/** What the monitor client prints when Ctrl-C stops it (cilium-dbg monitor, cmd/monitor.go). */
const INTERRUPTED = 'Received an interrupt, disconnecting from monitor...';

/** Reserved identities as monitor names them (pkg/identity/numericidentity.go; `cluster` was 3 before `unmanaged`). */
const RESERVED_IDENTITIES: ReadonlyMap<string, number> = new Map([
  ['unknown', 0], ['host', 1], ['world', 2], ['cluster', 3], ['unmanaged', 3], ['health', 4],
  ['init', 5], ['remote-node', 6], ['kube-apiserver', 7], ['ingress', 8], ['world-ipv4', 9],
  ['world-ipv6', 10],
]);

const BLANK: ParseResult<MonitorEvent> = { kind: 'ignored', reason: 'blank line' };
const READY: ParseResult<MonitorEvent> = { kind: 'meta', meta: { ready: true } };

/** parseMonitorLine reads one line of monitor text output; it never throws. */
export function parseMonitorLine(raw: string, ctx: MonitorContext = EMPTY): Result {
  const parsed = parseLine(trimEnd(raw), ctx);
  if (parsed.result.kind === 'unparsed' && joinedRecords(raw)) {
    return { result: { kind: 'unparsed', reason: 'several monitor records on one line (see splitMonitorRecords)' }, ctx: EMPTY };
  }
  return parsed;
}

function parseLine(line: string, ctx: MonitorContext): Result {
  if (line === '') return { result: BLANK, ctx };
  switch (line.charCodeAt(0)) {
    case 0x2d /* - */:
      if (line.startsWith('-> ')) return arrowLine(line);
      if (SEPARATOR.test(line)) return ignored('record separator', ctx, true);
      break;
    case 0x3c /* < */:
      if (line.startsWith('<- ')) return arrowLine(line);
      break;
    case 0x5e /* ^ */:
    case 0x3f /* ? */:
    case 0x3d /* = */:
      return arrowLine(line);
    case 0x43 /* C */:
      if (line.startsWith('CPU ')) return cpuLine(line, ctx);
      break;
    case 0x78 /* x */:
      if (line.startsWith('xx drop (')) return dropInfo(line);
      if (line.startsWith('xx forward (')) return forwardXx(line);
      break;
    case 0x50 /* P */:
      if (line.startsWith('Policy verdict log: ')) return policyVerdict(line);
      if (line === 'Press Ctrl-C to quit') return { result: READY, ctx: EMPTY };
      break;
    case 0x4c /* L */:
      if (LISTENING.test(line)) return { result: { kind: 'meta', meta: { ready: true, note: line } }, ctx: EMPTY };
      break;
    case 0x3e /* > */: {
      const m = AGENT_NOTICE.exec(line);
      if (m) return plain({ tool: 'monitor', type: 'agent', agentKind: m[1], summary: line });
      break;
    }
    case 0x52 /* R */:
      if (line.startsWith('Recorder capture: ')) return recorder(line);
      break;
    case 0x6c /* l */:
    case 0x74 /* t */:
      if (AGENT_LOG.test(line)) return ignored('agent log line', ctx);
      break;
    case 0x7b /* { */:
      return jsonLine(line, ctx);
  }
  if (line === INTERRUPTED) return ignored('monitor stopped by Ctrl-C', EMPTY, true);
  if (isDumpLine(line)) return dumpLine(line, ctx);
  const noise = transcriptNoise(line);
  if (noise) return ignored(noise, ctx);
  return unparsed('not a cilium monitor line');
}

/** monitorParser is the LineParser for cilium monitor text output. */
export const monitorParser: LineParser<MonitorContext, MonitorEvent> = {
  tool: 'monitor',
  initial: () => EMPTY,
  parse: parseMonitorLine,
};

// ---- results and context -------------------------------------------------------------------

/**
 * A recognised line that says nothing about packets. It keeps a record open for its dump (the agent
 * logs `Initializing dissection cache...` from inside the first dump), except a separator, which
 * -vv prints before each record.
 */
function ignored(reason: string, ctx: MonitorContext, endsRecord = false): Result {
  return { result: { kind: 'ignored', reason }, ctx: endsRecord ? EMPTY : ctx };
}

function unparsed(reason: string): Result {
  return { result: { kind: 'unparsed', reason }, ctx: EMPTY };
}

/** An event no later line can complete. */
function plain(event: MonitorEvent): Result {
  return { result: { kind: 'event', event }, ctx: EMPTY };
}

/** An event that may own a -v packet dump: take a held one, or wait for one that follows. */
function withPacketDump(event: MonitorEvent, ctx: MonitorContext, dumpMayFollow: boolean): Result {
  if (ctx.held) return plain(attachDump(event, ctx.held.packet, 'before'));
  return { result: { kind: 'event', event }, ctx: dumpMayFollow ? { open: { event, awaits: 'dump' } } : EMPTY };
}

/** A copy of `event` with the dumped packet (the record line's byte count is the packet's length). */
function attachDump(event: MonitorEvent, dumped: Packet, position: 'before' | 'after'): MonitorEvent {
  const packet: Packet = Object.assign({}, dumped);
  if (event.bytes !== undefined) packet.length = event.bytes;
  const out: MonitorEvent = Object.assign({}, event);
  out.packet = packet;
  out.dumpPosition = position;
  return out;
}

function dumpLine(line: string, ctx: MonitorContext): Result {
  const open = ctx.open;
  if (open && open.awaits === 'dump') {
    const step = stepDump(open.dump, line, decodeHexFrame);
    if (step.kind === 'error') return unparsed(step.reason);
    if (step.kind === 'continue' || open.dump === undefined) {
      const event = attachDump(open.event, step.dump.packet, 'after');
      return { result: { kind: 'amend', event }, ctx: { open: { event, awaits: 'dump', dump: step.dump } } };
    }
  }
  const step = stepDump(ctx.held, line, decodeHexFrame);
  if (step.kind === 'error') return unparsed(step.reason);
  return { result: { kind: 'ignored', reason: 'packet dump held for the record line that follows it' }, ctx: { held: step.dump } };
}

/** --hex dumps the frame from its Ethernet header; the record line gives the real length. */
function decodeHexFrame(bytes: Uint8Array): Packet {
  const packet = decodeFrame(LINKTYPE_ETHERNET, bytes);
  delete packet.length;
  return packet;
}

// ---- info-form lines starting with an arrow ----------------------------------------------------

function arrowLine(line: string): Result {
  const trace = traceInfo(line);
  if (trace) return 'error' in trace ? unparsed(trace.error) : plain(trace);
  let m = L7.exec(line);
  if (m) return l7(line, m);
  m = FORWARD_INFO.exec(line);
  if (m) {
    const packet = parseConnectionSummary(m[6]);
    if ('error' in packet) return unparsed(packet.error);
    const dst = Number(m[3]);
    return plain({
      tool: 'monitor', type: 'trace', obsPoint: legacyObsPoint(m[2]), ctState: legacyReason(m[1]),
      ...endpointFields(dst), ...identities(m[4], m[5]), packet, summary: line,
    });
  }
  m = CAPTURE_INFO.exec(line);
  if (m) return captureInfo(line, m);
  return unparsed('arrow line not understood');
}

/**
 * `-> endpoint 745 flow 0x.. [, ]identity A->B[ [ ip-trace-id = N ]] state S ifindex X[ orig-ip IP]: <packet>`
 * (with `encrypted` before `flow` for IPsec/WireGuard). Scanned by hand: this is the line a long
 * capture is made of. Undefined when the line is not a trace at all.
 */
function traceInfo(line: string): MonitorEvent | { error: string } | undefined {
  const flowAt = line.indexOf(' flow 0x', 3);
  if (flowAt < 0) return undefined;
  let where = line.slice(3, flowAt);
  let encrypted = false;
  if (where.endsWith(' encrypted') || where.endsWith(' encrypted ')) {
    encrypted = true;
    where = where.slice(0, where.lastIndexOf(' encrypted'));
  }
  const obs = traceObsPoint(line.charCodeAt(0), where);
  if (obs === undefined) return undefined;
  const markEnd = line.indexOf(' ', flowAt + 6);
  if (markEnd < 0) return TRACE_ERROR;
  let p = markEnd + 1;
  if (line.startsWith(', ', p)) p += 2;
  if (!line.startsWith('identity ', p)) return TRACE_ERROR;
  p += 9;
  const idEnd = line.indexOf(' ', p);
  const arrow = line.indexOf('->', p);
  if (idEnd < 0 || arrow < 0 || arrow > idEnd) return TRACE_ERROR;
  const event: MonitorEvent = { tool: 'monitor', type: 'trace', obsPoint: obs, summary: line };
  if (where.startsWith('endpoint ')) event.endpoint = Number(where.slice(9));
  event.mark = line.slice(flowAt + 6, markEnd);
  setIdentities(event, line.slice(p, arrow), line.slice(arrow + 2, idEnd));
  p = idEnd;
  let traceId: string | undefined;
  if (line.startsWith(' [ ip-trace-id = ', p)) {
    const close = line.indexOf(' ]', p + 17);
    if (close < 0) return TRACE_ERROR;
    traceId = line.slice(p + 17, close);
    p = close + 2;
  }
  if (!line.startsWith(' state ', p)) return TRACE_ERROR;
  const stateEnd = line.indexOf(' ', p + 7);
  if (stateEnd < 0) return TRACE_ERROR;
  event.ctState = line.slice(p + 7, stateEnd);
  p = stateEnd;
  if (!line.startsWith(' ifindex ', p)) return TRACE_ERROR;
  p += 9;
  const colon = line.indexOf(': ', p);
  if (colon < 0) return TRACE_ERROR;
  const orig = line.indexOf(' orig-ip ', p);
  const ifEnd = orig >= 0 && orig < colon ? orig : colon;
  const ifText = line.slice(p, ifEnd);
  if (ifText === '' || ifText.includes(' ')) return TRACE_ERROR;
  setIface(event, ifText);
  if (ifEnd === orig) {
    const ip = line.slice(orig + 9, colon);
    if (ip.includes(' ')) return TRACE_ERROR;
    setOrigIp(event, ip);
  }
  const packet = parseConnectionSummary(line.slice(colon + 2));
  if ('error' in packet) return packet;
  event.packet = packet;
  if (where.startsWith('proxy port ')) event.extraFields = { 'proxy-port': where.slice(11) };
  if (encrypted) addExtra(event, 'encrypted', 'true');
  if (traceId !== undefined) addExtra(event, 'ip-trace-id', traceId);
  return event;
}

const TRACE_ERROR = { error: 'trace line not understood' };

/** The observation point of `-> endpoint 12`, `<- stack`, `^^ conntrack new`, ...; undefined if it is none. */
function traceObsPoint(arrow: number, where: string): string | undefined {
  // The line starts with `->`, `<-` or `^^` (dispatch looked at the first character only).
  if (arrow === 0x5e /* ^ */) return where === 'conntrack new' ? 'create-ct' : where === 'conntrack active' ? 'active-ct' : undefined;
  const to = arrow === 0x2d; /* - */
  if (!to && arrow !== 0x3c /* < */) return undefined;
  switch (where) {
    case 'stack':
      return to ? 'to-stack' : 'from-stack';
    case 'host':
      return to ? 'to-host' : 'from-host';
    case 'host from':
      return 'to-host';
    case 'overlay':
      return to ? 'to-overlay' : 'from-overlay';
    case 'network':
      return to ? 'to-network' : 'from-network';
    case 'crypto':
      return to ? 'to-crypto' : 'from-crypto';
    case 'proxy':
      return to ? 'to-proxy' : 'from-proxy';
    case 'unknown trace':
      return 'unknown';
  }
  if (where.startsWith('endpoint ') && digitsValue(where, 9, where.length) >= 0) return to ? 'to-endpoint' : 'from-endpoint';
  if (to && where.startsWith('proxy port ') && digitsValue(where, 11, where.length) >= 0) return 'to-proxy';
  return undefined;
}

function captureInfo(line: string, m: RegExpExecArray): Result {
  const packet = parseConnectionSummary(m[6]);
  if ('error' in packet) return unparsed(packet.error);
  const event: MonitorEvent = { tool: 'monitor', type: 'capture', packet, summary: line };
  if (m[1] !== undefined) {
    event.debugKind = 'proxy-post';
    event.extraFields = { 'proxy-port': m[1] };
  } else if (m[2] !== undefined) {
    event.debugKind = 'delivery';
    setIface(event, m[2]);
  } else if (m[3] !== undefined) {
    event.debugKind = 'from-lb';
    setIface(event, m[3]);
  } else {
    event.debugKind = m[4] === 'v4->v6' ? 'after-nat46' : 'after-nat64';
    event.extraFields = { arg: m[5] };
  }
  return plain(event);
}

function l7(line: string, m: RegExpExecArray): Result {
  const request = m[2] === 'Request';
  if (m[4] === m[7] || (request && m[4] !== 'from')) return unparsed('L7 record not understood');
  // Responses print "to <requester> from <responder>" (logrecord.go); agents of 2018 printed
  // "from <responder> to <requester>": the requester is the endpoint after `to` either way.
  const swapped = !request && m[4] === 'from';
  const srcEndpoint = Number(swapped ? m[8] : m[5]);
  const dstEndpoint = Number(swapped ? m[5] : m[8]);
  const ingress = m[1] === '<-';
  const local = ingress ? dstEndpoint || srcEndpoint : srcEndpoint || dstEndpoint;
  const event: MonitorEvent = { tool: 'monitor', type: 'l7', summary: line };
  if (local) event.endpoint = local;
  if (m[1] !== '??') event.policyDirection = ingress ? 'ingress' : 'egress';
  setIdentities(event, m[10], m[11]);
  event.verdict = m[12].toLowerCase();
  event.l7 = { kind: request ? 'request' : 'response', proto: m[3], srcEndpoint, dstEndpoint, srcLabels: labels(swapped ? m[9] : m[6]), dstLabels: labels(swapped ? m[6] : m[9]) };
  if (m[13] !== undefined) event.l7.detail = m[13];
  return plain(event);
}

function labels(text: string): string[] {
  const inner = text.startsWith('[') && text.endsWith(']') ? text.slice(1, -1) : text;
  return inner === '' ? [] : inner.split(' ');
}

// ---- drops, pre-1.0 forwards, policy verdicts ----------------------------------------------------

function dropInfo(line: string): Result {
  const m = DROP_INFO.exec(line);
  if (!m) return unparsed('drop line not understood');
  const packet = parseConnectionSummary(m[10]);
  if ('error' in packet) return unparsed(packet.error);
  // Fields are set one by one: conditional spreads cost several times more in V8.
  const event: MonitorEvent = Object.assign({ tool: 'monitor', type: 'drop', summary: line } as MonitorEvent, dropReason(m[1]));
  if (m[2]) event.mark = m[2];
  const dst = Number(m[3]);
  if (dst) {
    event.endpoint = dst;
    event.dstEndpoint = dst;
  }
  if (m[4] && m[4] !== '0') event.ifindex = Number(m[4]);
  if (m[5]) {
    event.dropFile = m[5];
    event.dropLine = Number(m[6]);
  }
  setIdentities(event, m[8], m[9]);
  event.packet = packet;
  if (m[7]) event.extraFields = { 'ip-trace-id': m[7] };
  return plain(event);
}

/** `(Policy denied)`, `(Policy denied, -13)`, `(153)`, `(153, 0)`: name, code and extended error. */
function dropReason(text: string): Pick<MonitorEvent, 'dropReason' | 'dropCode' | 'dropExtError'> {
  let reason = text;
  let ext: number | undefined;
  const comma = text.lastIndexOf(', ');
  if (comma > 0 && /^-?\d+$/.test(text.slice(comma + 2))) {
    const head = text.slice(0, comma);
    if (/^\d+$/.test(head) || dropReasonCode(head) !== undefined) {
      reason = head;
      ext = Number(text.slice(comma + 2));
    }
  }
  const out: Pick<MonitorEvent, 'dropReason' | 'dropCode' | 'dropExtError'> = {};
  if (/^\d+$/.test(reason)) {
    out.dropCode = Number(reason);
    out.dropReason = dropReasonName(out.dropCode) ?? reason;
  } else {
    out.dropReason = reason;
    const code = dropReasonCode(reason);
    if (code !== undefined) out.dropCode = code;
  }
  // `(119, 0)`: the agent could not name the code and printed both numbers; keep both.
  if (ext !== undefined && (ext !== 0 || /^\d+$/.test(reason))) out.dropExtError = ext;
  return out;
}

function forwardXx(line: string): Result {
  const m = XX_FORWARD.exec(line);
  if (!m) return unparsed('forward line not understood');
  const packet = parseConnectionSummary(m[5]);
  if ('error' in packet) return unparsed(packet.error);
  return plain({
    tool: 'monitor', type: 'trace', obsPoint: legacyObsPoint(m[1]),
    ...endpointFields(Number(m[2])), ...identities(m[3], m[4]), packet, summary: line,
  });
}

/**
 * Policy verdicts of every era: `... remote ID 31028, dst port 80, proto 6, ingress true, action allow,
 * match L3-L4, <packet>` (1.8), `..., proto 6, egress, action audit, match none, <packet>` (1.9+),
 * `..., action allow, auth: disabled, match all, <packet>` (1.14+).
 */
function policyVerdict(line: string): Result {
  const head = VERDICT_HEAD.exec(line);
  if (!head) return unparsed('policy verdict not understood');
  let rest = line.slice(head[0].length);
  /** The next `, `-separated field when it is `name` or starts with `name `; the packet summary is last. */
  const take = (name: string): string | undefined => {
    const end = rest.indexOf(', ');
    if (end < 0) return undefined;
    const segment = rest.slice(0, end);
    if (segment !== name && !segment.startsWith(`${name} `)) return undefined;
    rest = rest.slice(end + 2);
    return segment.slice(name.length + 1);
  };
  const dstPort = take('dst port');
  const proto = take('proto');
  let direction: 'ingress' | 'egress' | undefined;
  const ingress = take('ingress');
  if (ingress === '' || ingress === 'true') direction = 'ingress';
  else if (ingress === 'false' || take('egress') === '') direction = 'egress';
  const action = take('action');
  const auth = take('auth:');
  const match = take('match');
  if (direction === undefined || action === undefined || match === undefined) return unparsed('policy verdict fields not understood');
  let packet = parseConnectionSummary(rest);
  // Cilium joins address and port with net.JoinHostPort (pkg/monitor/dissect.go), never a space; the
  // v1.8 policy docs print `10.0.0.112 :59824 -> ...`. Every field before it decoded, so the stray
  // space is a copy artifact: read the tuple without it rather than lose a recognisable verdict.
  if ('error' in packet && SPACE_BEFORE_PORT.test(rest)) packet = parseConnectionSummary(rest.replace(SPACE_BEFORE_PORT, '$1$2'));
  if ('error' in packet) return unparsed(packet.error);
  const local = Number(head[3]);
  const event: MonitorEvent = { tool: 'monitor', type: 'policy-verdict', mark: head[1], summary: line };
  if (local) event.endpoint = local;
  event.verdict = VERDICTS.get(action) ?? action;
  event.policyMatch = match;
  event.policyDirection = direction;
  // The remote identity is the source of ingress traffic and the destination of egress traffic.
  if (direction === 'ingress') setSrcIdentity(event, head[4]);
  else setDstIdentity(event, head[4]);
  if (auth !== undefined) event.policyAuth = auth;
  event.packet = packet;
  if (head[2] !== undefined) addExtra(event, 'PolicyName', head[2]);
  if (dstPort !== undefined) addExtra(event, 'dst port', dstPort);
  if (proto !== undefined) addExtra(event, 'proto', proto);
  return plain(event);
}

const SPACE_BEFORE_PORT = /^([0-9a-f.:\[\]]+) (:\d+ -> )/;

const VERDICTS: ReadonlyMap<string, string> = new Map([['allow', 'allowed'], ['deny', 'denied'], ['redirect', 'redirected'], ['audit', 'audit']]);

// ---- CPU-prefixed lines: -v records, trace-sock, lost events ------------------------------------

function cpuLine(line: string, ctx: MonitorContext): Result {
  const colon = line.indexOf(': ', 4);
  const cpu = digitsValue(line, 4, colon);
  if (cpu < 0) return unparsed('CPU line not understood');
  if (line.startsWith('MARK 0x', colon + 2)) return markLine(line, cpu, colon + 2, ctx);
  const rest = line.slice(colon + 2);
  let m = TRACE_SOCK.exec(rest);
  if (m) {
    return plain({
      tool: 'monitor', type: 'trace-sock', cpu,
      sock: { xlatePoint: m[1], cgroupId: m[2], cookie: m[3], dstIp: m[4], dstPort: Number(m[5]), proto: m[6] },
      summary: line,
    });
  }
  m = LOST.exec(rest);
  if (m) return { result: { kind: 'meta', meta: { note: line } }, ctx: EMPTY };
  if (rest.startsWith('Unknown event: ')) return { result: { kind: 'meta', meta: { note: line } }, ctx: EMPTY };
  return unparsed('CPU line not understood');
}

/**
 * `CPU 02: MARK 0x0[ [ IP-TRACE-ID = N ]] FROM 2836 <record>`: the -v records. The event is made
 * here with the fields every one of them has; the record readers fill in the rest (it is fresh, so
 * they set fields on it instead of copying it).
 */
function markLine(line: string, cpu: number, at: number, ctx: MonitorContext): Result {
  const markEnd = line.indexOf(' ', at + 5);
  if (markEnd < 0) return unparsed('-v record not understood');
  const event: Head = { tool: 'monitor', type: 'debug', cpu, mark: line.slice(at + 5, markEnd), summary: line };
  let p = markEnd;
  if (line.startsWith(' [ IP-TRACE-ID = ', p)) {
    const close = line.indexOf(' ]', p + 17);
    if (close < 0) return unparsed('-v record not understood');
    event.extraFields = { 'ip-trace-id': line.slice(p + 17, close) };
    p = close + 2;
  }
  if (!line.startsWith(' FROM ', p)) return unparsed('-v record not understood');
  const fromEnd = line.indexOf(' ', p + 6);
  const from = digitsValue(line, p + 6, fromEnd);
  if (from < 0) return unparsed('-v record not understood');
  if (from !== 0) event.endpoint = from;
  return markRecord(line.slice(fromEnd + 1), event, ctx);
}

/** A -v record's event with the fields of its `CPU NN: MARK 0x.. FROM N` head; `type` is set by the reader. */
type Head = MonitorEvent;


function markRecord(body: string, head: Head, ctx: MonitorContext): Result {
  if (body.startsWith('DEBUG: ')) return debugRecord(body.slice(7), head, ctx);
  if (body.startsWith('DROP: ')) return dropVerbose(body.slice(6), head, ctx);
  if (body.startsWith('FORWARD: ')) return forwardVerbose(body.slice(9), head, ctx);
  if (body.startsWith('Packet dropped ')) return packetDropped(body, head, ctx);
  if (body.startsWith('Packet forwarded ')) return packetForwarded(body, head, ctx);
  const m = TRACE_VERBOSE.exec(body);
  if (m) return traceVerbose(m, head, ctx);
  return unparsed('-v record not understood');
}

function traceVerbose(m: RegExpExecArray, head: Head, ctx: MonitorContext): Result {
  const event = head;
  event.type = 'trace';
  event.obsPoint = m[1];
  event.bytes = Number(m[2]);
  const captured = m[3] !== undefined ? Number(m[3]) : undefined;
  let extra: Record<string, string> | undefined;
  const fields = m[4];
  for (let from = 0; from <= fields.length; ) {
    const comma = fields.indexOf(', ', from);
    const to = comma < 0 ? fields.length : comma;
    const segment = fields.slice(from, to);
    from = comma < 0 ? fields.length + 1 : comma + 2;
    if (segment === '') continue; // `interface X, , identity` — an empty separator some agents print
    if (segment.startsWith('state ')) event.ctState = segment.slice(6);
    else if (segment.startsWith('interface ')) setIface(event, segment.slice(10));
    else if (segment.startsWith('identity ')) {
      const arrow = segment.indexOf('->', 9);
      if (arrow < 0) return unparsed('-v trace identity not understood');
      setIdentities(event, segment.slice(9, arrow), segment.slice(arrow + 2));
    } else if (segment.startsWith('orig-ip ')) setOrigIp(event, segment.slice(8));
    else if (segment.startsWith('to endpoint ') && digitsValue(segment, 12, segment.length) >= 0) {
      const n = digitsValue(segment, 12, segment.length);
      if (n) event.dstEndpoint = n;
    } else if (segment.startsWith('to proxy-port ') && digitsValue(segment, 14, segment.length) >= 0) (extra ??= {})['proxy-port'] = segment.slice(14);
    else if (segment === 'IN' || segment === 'OUT' || segment === 'RELATED') (extra ??= {})['ct-flags'] = segment;
    else return unparsed(`-v trace field not understood: ${segment}`);
  }
  if (event.ctState === undefined) return unparsed('-v trace without state');
  if (captured !== undefined) (extra ??= {}).captured = m[3];
  if (extra) event.extraFields = event.extraFields ? Object.assign(event.extraFields, extra) : extra;
  return withPacketDump(event, ctx, captured === undefined ? event.bytes! > 0 : captured > 0);
}

function dropVerbose(body: string, head: Head, ctx: MonitorContext): Result {
  const m = DROP_VERBOSE.exec(body);
  if (!m) return unparsed('-v drop not understood');
  head.type = 'drop';
  const event = Object.assign(head, dropReason(m[2]), verbosePacketFields(m[1], m[3], m[4], m[5], m[6]));
  return withPacketDump(event, ctx, m[1] !== '0');
}

/** Pre-1.0: `FORWARD: 98 bytes, at To endpoint, reason Policy, to ifindex 12, identity A->B, to endpoint N`. */
function forwardVerbose(body: string, head: Head, ctx: MonitorContext): Result {
  const m = FORWARD_VERBOSE.exec(body);
  if (!m) return unparsed('-v forward not understood');
  head.type = 'trace';
  head.obsPoint = legacyObsPoint(m[2]);
  head.ctState = legacyReason(m[3]);
  const event = Object.assign(head, verbosePacketFields(m[1], m[4], m[5], m[6], m[7]));
  return withPacketDump(event, ctx, m[1] !== '0');
}

/** 1.0: `Packet dropped 131 (Invalid destination mac) 70 bytes ifindex=0 284->0`. */
function packetDropped(body: string, head: Head, ctx: MonitorContext): Result {
  const m = PACKET_DROPPED.exec(body);
  if (!m) return unparsed('-v drop not understood');
  head.type = 'drop';
  head.dropReason = m[2];
  head.dropCode = Number(m[1]);
  const event = Object.assign(head, verbosePacketFields(m[3], m[4], m[5], m[6]));
  return withPacketDump(event, ctx, m[3] !== '0');
}

/** 1.0: `Packet forwarded 0 (To endpoint) 98 bytes ifindex=12 261->259 to lxc 20914`. */
function packetForwarded(body: string, head: Head, ctx: MonitorContext): Result {
  const m = PACKET_FORWARDED.exec(body);
  if (!m) return unparsed('-v forward not understood');
  head.type = 'trace';
  head.obsPoint = legacyObsPoint(m[2]);
  const event = Object.assign(head, verbosePacketFields(m[3], m[4], m[5], m[6], m[7]));
  return withPacketDump(event, ctx, m[3] !== '0');
}

/** What -v drop and forward records share: bytes, an ifindex, identities, the endpoint handed to. */
function verbosePacketFields(bytes: string, ifindex?: string, src?: string, dst?: string, to?: string): Partial<MonitorEvent> {
  const out: Partial<MonitorEvent> = { bytes: Number(bytes) };
  if (ifindex !== undefined && ifindex !== '0') out.ifindex = Number(ifindex);
  if (src !== undefined && dst !== undefined) Object.assign(out, identities(src, dst));
  if (to !== undefined && to !== '0') out.dstEndpoint = Number(to);
  return out;
}

const CAPTURE_KINDS: ReadonlyArray<readonly [RegExp, string, 'ifindex' | 'proxy-port']> = [
  [/^Delivery to ifindex (\d+)$/, 'delivery', 'ifindex'],
  [/^Incoming packet to load balancer on ifindex (\d+)$/, 'from-lb', 'ifindex'],
  [/^Packet after nat46 ifindex (\d+)$/, 'after-nat46', 'ifindex'],
  [/^Packet after nat64 ifindex (\d+)$/, 'after-nat64', 'ifindex'],
  [/^Packet to proxy port (\d+) \(Pre\)$/, 'proxy-pre', 'proxy-port'],
  [/^Packet to proxy port (\d+) \(Post\)$/, 'proxy-post', 'proxy-port'],
  [/^Packet going into snat engine on ifindex (\d+)$/, 'snat-pre', 'ifindex'],
  [/^Packet coming from snat engine on ifindex (\d+)$/, 'snat-post', 'ifindex'],
  [/^Incoming packet from container ifindex (\d+)$/, 'from-lxc', 'ifindex'],
];

function debugRecord(message: string, head: Head, ctx: MonitorContext): Result {
  const c = message.charCodeAt(0);
  const capture = c >= 48 && c <= 57 ? CAPTURE_VERBOSE.exec(message) : null;
  if (capture) return debugCapture(capture, head, ctx);
  const debug = parseDebugMessage(message);
  if (!debug) return unparsed('DEBUG message not understood');
  const event = head;
  event.debugKind = debug.kind;
  const args = debug.args;
  if (hasKeys(args)) event.extraFields = event.extraFields ? Object.assign(event.extraFields, args) : args;
  switch (debug.kind) {
    case 'local-delivery':
      event.deliveryTo = Number(args.container);
      event.srcIdentity = Number(args.seclabel);
      break;
    case 'identity-mapped':
      event.mappedAddr = args.addr;
      event.mappedIdentity = Number(args.identity);
      break;
    case 'ct-verdict':
      event.ctState = CT_STATES.get(args.verdict) ?? args.verdict;
      break;
    case 'ct-create':
      event.srcIdentity = Number(args['src-identity']);
      break;
    case 'inherit-identity':
      event.srcIdentity = Number(args.identity);
      break;
    case 'ct-lookup':
      return ctLookupFirstHalf(event, args.src, args.dst);
    case 'ct-lookup-2':
      return ctLookupSecondHalf(event, args, ctx);
  }
  return plain(event);
}

/** Adds a name=value to a fresh event's extraFields (the event is not shared yet, so it is set in place). */
function addExtra(event: MonitorEvent, name: string, value: string): void {
  if (event.extraFields) event.extraFields[name] = value;
  else event.extraFields = { [name]: value };
}

function hasKeys(o: object): boolean {
  for (const _ in o) return true;
  return false;
}

const CT_STATES: ReadonlyMap<string, string> = new Map([
  ['New', 'new'], ['Established', 'established'], ['Reply', 'reply'], ['Related', 'related'],
  ['Reopened', 'reopened'],
]);

/**
 * `Conntrack lookup 1/2: src=10.0.1.135:22016 dst=10.0.1.180:0`: the addresses; the ports wait for
 * the protocol in the 2/2 line. IPv6 lookups print only the last 32 bits of each address
 * (`[::a:b]`), which is not an address, so they give no packet.
 */
function ctLookupFirstHalf(event: MonitorEvent, src: string, dst: string): Result {
  const s = src.lastIndexOf(':');
  const d = dst.lastIndexOf(':');
  const sport = digitsValue(src, s + 1, src.length);
  const dport = digitsValue(dst, d + 1, dst.length);
  const srcIp = src.slice(0, s);
  const dstIp = dst.slice(0, d);
  if (s < 0 || d < 0 || sport < 0 || dport < 0 || srcIp.includes(':') || dstIp.includes(':')) return plain(event);
  event.packet = { ip: { version: 4, src: srcIp, dst: dstIp } };
  return { result: { kind: 'event', event }, ctx: { open: { event, awaits: 'ct-lookup-2', ports: [sport, dport] } } };
}

const NEXTHDR: ReadonlyMap<string, string> = new Map([['1', 'icmp'], ['6', 'tcp'], ['17', 'udp'], ['58', 'icmp6'], ['132', 'sctp']]);

/**
 * `Conntrack lookup 2/2: nexthdr=1 flags=1` completes the 1/2 line of the same CPU, mark and
 * endpoint. For ICMP the CT tuple carries the echo identifier in a port: the source port of a
 * request's lookup, the destination port of a reply's (seed: 22016 both ways, ICMPv4 Id=22016).
 * The ports stay as printed and icmpId is filled from the one that is set.
 */
function ctLookupSecondHalf(event: MonitorEvent, args: Record<string, string>, ctx: MonitorContext): Result {
  const proto = NEXTHDR.get(args.nexthdr) ?? args.nexthdr;
  const first = ctx.open;
  if (first && first.awaits === 'ct-lookup-2' && first.event.cpu === event.cpu && first.event.mark === event.mark && first.event.endpoint === event.endpoint) {
    const prev = first.event;
    // Object.assign, not spreads: merging two spreads is several times slower in V8.
    const merged: MonitorEvent = Object.assign({}, prev);
    merged.extraFields = Object.assign({}, prev.extraFields, args);
    const ip = prev.packet?.ip;
    if (ip && first.ports) {
      const [sport, dport] = first.ports;
      const l4: L4Info = { proto, srcPort: sport, dstPort: dport };
      const icmpId = proto === 'icmp' || proto === 'icmp6' ? (sport && !dport ? sport : dport && !sport ? dport : 0) : 0;
      if (icmpId) l4.icmpId = icmpId;
      merged.packet = { ip: { version: ip.version, src: ip.src, dst: ip.dst, proto }, l4 };
    }
    return { result: { kind: 'amend', event: merged }, ctx: EMPTY };
  }
  return plain({ ...event, debugKind: 'ct-lookup', packet: { l4: { proto } } });
}

function debugCapture(m: RegExpExecArray, head: Head, ctx: MonitorContext): Result {
  const bytes = Number(m[1]);
  const text = m[2];
  const event = head;
  event.type = 'capture';
  event.bytes = bytes;
  event.debugKind = 'other';
  for (const [re, kind, arg] of CAPTURE_KINDS) {
    const k = re.exec(text);
    if (!k) continue;
    event.debugKind = kind;
    if (arg === 'ifindex') {
      if (k[1] !== '0') event.ifindex = Number(k[1]);
    } else addExtra(event, 'proxy-port', k[1]);
    break;
  }
  if (event.debugKind === 'other') addExtra(event, 'message', text);
  return withPacketDump(event, ctx, bytes > 0);
}

// ---- -j / --json records ----------------------------------------------------------------------

/** One `cilium monitor -j` line (see cilium-monitor-json.ts for the fields of each record type). */
function jsonLine(line: string, ctx: MonitorContext): Result {
  const record = readMonitorJson(line);
  if (typeof record === 'string') return unparsed(record);
  const type = asString(record.type);
  const head: MonitorEvent = { tool: 'monitor', type: 'trace', summary: line };
  const cpu = cpuOf(record.cpu);
  if (cpu !== undefined) head.cpu = cpu;
  const mark = asString(record.mark);
  if (mark !== undefined) head.mark = mark;
  const source = asNumber(record.source);
  if (source) head.endpoint = source;
  switch (type) {
    case 'trace':
    case 'drop': {
      const packet = packetOfSummary(record.summary, decodeHexFrame);
      if (typeof packet === 'string') return unparsed(packet);
      if (type === 'trace') {
        const obs = asString(record.observationPoint);
        if (obs === undefined) return unparsed('monitor JSON trace without observationPoint');
        head.obsPoint = obs;
        const state = asString(record.state);
        if (state) head.ctState = state;
        const ifname = asString(record.ifindex);
        if (ifname) setIface(head, ifname);
      } else {
        const reason = asString(record.reason);
        if (reason === undefined) return unparsed('monitor JSON drop without reason');
        head.type = 'drop';
        Object.assign(head, dropReason(reason));
        const ext = asNumber(record.ExtError);
        if (ext) head.dropExtError = ext;
        const file = asNumber(record.File);
        const lineNo = asNumber(record.Line);
        if (file) {
          head.dropFile = BPF_FILES.get(file) ?? `unknown(${file})`;
          if (lineNo !== undefined) head.dropLine = lineNo;
        }
        const ifindex = asNumber(record.Ifindex);
        if (ifindex) head.ifindex = ifindex;
      }
      const bytes = asNumber(record.bytes);
      if (bytes !== undefined) head.bytes = bytes;
      const src = asNumber(record.srcLabel);
      const dst = asNumber(record.dstLabel);
      if (src !== undefined) head.srcIdentity = src;
      if (dst !== undefined) head.dstIdentity = dst;
      const to = asNumber(record.dstID);
      if (to) head.dstEndpoint = to;
      if (packet) {
        if (bytes !== undefined) packet.length = bytes;
        head.packet = packet;
      }
      return plain(head);
    }
    case 'debug': {
      const message = asString(record.message);
      if (message === undefined) return unparsed('monitor JSON debug without message');
      head.type = 'debug';
      return debugRecord(message, head, ctx);
    }
    case 'capture': {
      const message = asString(record.message);
      const bytes = asNumber(record.bytes);
      if (message === undefined || bytes === undefined) return unparsed('monitor JSON capture not understood');
      const result = debugRecord(`${bytes} bytes, ${message}`, head, EMPTY);
      const summary = asString(record.summary);
      if (result.result.kind !== 'event' || summary === undefined) return plain(head);
      const packet = parseConnectionSummary(summary);
      if ('error' in packet) return unparsed(packet.error);
      packet.length = bytes;
      const event = Object.assign({}, result.result.event, { packet });
      return plain(event);
    }
    case 'logRecord':
      return jsonL7(record, head);
    case 'agent':
      head.type = 'agent';
      head.agentKind = asString(record.subtype) ?? asString(record.agentKind) ?? 'agent';
      return plain(head);
    case 'debug_capture_error':
      return { result: { kind: 'meta', meta: { note: line } }, ctx: EMPTY };
  }
  return unparsed(`monitor JSON record type not understood: ${type}`);
}

/** A logRecord (L7 access log) in JSON: the fields of the text L7 record. */
function jsonL7(record: Record<string, unknown>, event: MonitorEvent): Result {
  const flowType = asString(record.flowType);
  const proto = asString(record.l7Proto);
  const srcEndpoint = asNumber(record.srcEpID);
  const dstEndpoint = asNumber(record.dstEpID);
  if ((flowType !== 'Request' && flowType !== 'Response') || proto === undefined || srcEndpoint === undefined || dstEndpoint === undefined) {
    return unparsed('monitor JSON logRecord not understood');
  }
  event.type = 'l7';
  const obs = asString(record.observationPoint);
  const ingress = obs === 'Ingress';
  if (obs === 'Ingress' || obs === 'Egress') event.policyDirection = ingress ? 'ingress' : 'egress';
  const local = ingress ? dstEndpoint || srcEndpoint : srcEndpoint || dstEndpoint;
  if (local) event.endpoint = local;
  const src = asNumber(record.srcIdentity);
  const dst = asNumber(record.dstIdentity);
  if (src !== undefined) event.srcIdentity = src;
  if (dst !== undefined) event.dstIdentity = dst;
  const verdict = asString(record.verdict);
  if (verdict) event.verdict = verdict.toLowerCase();
  event.l7 = {
    kind: flowType === 'Request' ? 'request' : 'response', proto, srcEndpoint, dstEndpoint,
    srcLabels: asStringArray(record.srcEpLabels) ?? [], dstLabels: asStringArray(record.dstEpLabels) ?? [],
  };
  const dns = asRecord(record.dns);
  const query = asString(dns?.query);
  if (query !== undefined) event.l7.detail = `DNS Query: ${query}`;
  const http = asRecord(record.http);
  if (http) {
    const method = asString(http.Method) ?? asString(http.method);
    const url = asString(http.URL) ?? asString(asRecord(http.URL)?.Path);
    const code = asNumber(http.Code) ?? asNumber(http.code);
    if (method) event.l7.detail = `${method} ${url ?? ''}${code !== undefined ? ` => ${code}` : ''}`;
  }
  return plain(event);
}

function recorder(line: string): Result {
  const m = RECORDER.exec(line);
  if (!m) return unparsed('recorder record not understood');
  const event: MonitorEvent = {
    tool: 'monitor', type: 'recorder', bytes: Number(m[5]),
    extraFields: { dir: m[1], rule: m[2], ts: m[3], caplen: m[4] }, summary: line,
  };
  // The recorder prints its line first and the dump after it.
  return { result: { kind: 'event', event }, ctx: Number(m[4]) > 0 ? { open: { event, awaits: 'dump' } } : EMPTY };
}

// ---- shared field readers ---------------------------------------------------------------------

type IdentityFields = Pick<MonitorEvent, 'srcIdentity' | 'dstIdentity' | 'srcIdentityName' | 'dstIdentityName'>;

function identities(src: string, dst: string): IdentityFields {
  const out: IdentityFields = {};
  setIdentities(out, src, dst);
  return out;
}

/** Sets the identities `A->B` names: numbers, or reserved names with their numbers. */
function setIdentities(event: IdentityFields, src: string, dst: string): void {
  setSrcIdentity(event, src);
  setDstIdentity(event, dst);
}

function setSrcIdentity(event: IdentityFields, token: string): void {
  const n = digitsValue(token, 0, token.length);
  if (n >= 0) event.srcIdentity = n;
  else {
    const id = RESERVED_IDENTITIES.get(token);
    if (id !== undefined) event.srcIdentity = id;
    event.srcIdentityName = token;
  }
}

function setDstIdentity(event: IdentityFields, token: string): void {
  const n = digitsValue(token, 0, token.length);
  if (n >= 0) event.dstIdentity = n;
  else {
    const id = RESERVED_IDENTITIES.get(token);
    if (id !== undefined) event.dstIdentity = id;
    event.dstIdentityName = token;
  }
}

/** `ifindex lxc_health` names the interface; `ifindex 17` numbers it (the agent could not name it). */
function setIface(event: MonitorEvent, text: string): void {
  const n = digitsValue(text, 0, text.length);
  if (n < 0) event.iface = text;
  else if (n !== 0) event.ifindex = n;
}

function setOrigIp(event: MonitorEvent, text: string): void {
  if (text !== '0.0.0.0' && text !== '::' && text !== '<nil>') event.origIp = text;
}

function endpointFields(id: number): Pick<MonitorEvent, 'endpoint' | 'dstEndpoint'> {
  return id ? { endpoint: id, dstEndpoint: id } : {};
}

/** Pre-1.0 observation point names (`To endpoint`) to the current ones (`to-endpoint`). */
function legacyObsPoint(name: string): string {
  return /^\d+$/.test(name) ? name : name.toLowerCase().replace(/ /g, '-');
}

/** Pre-1.0 forward reasons to CT states. */
function legacyReason(reason: string): string {
  switch (reason) {
    case 'Policy':
      return 'new';
    case 'Established connection':
      return 'established';
    case 'Reply connection':
      return 'reply';
    case 'Related connection':
      return 'related';
    default:
      return reason;
  }
}

function trimEnd(line: string): string {
  const last = line.charCodeAt(line.length - 1);
  return last === 0x20 || last === 0x0d || last === 0x09 ? line.trimEnd() : line;
}
