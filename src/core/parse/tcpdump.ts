import type { CaptureEvent } from '../model/event.js';
import type { Packet, Timestamp } from '../model/packet.js';
import type { LineParser, Parsed, StreamMeta } from './result.js';
import { decodeAddressed, decodeFrame, decodeLink, isEmptyPacket, MAX_TUNNEL_NESTING, type Expectation } from './tcpdump-packet.js';
import { readStamp, stampEnd, type TcpdumpStamp } from './tcpdump-time.js';
import { transcriptNoise } from './transcript-noise.js';
import { readPrompt } from '../analyze/prompt.js';

/** A packet whose next line may still add to it (tcpdump -v, tunnels). */
interface OpenPacket {
  event: CaptureEvent;
  /** What each nesting level carries (tcpdump's words), outermost first. */
  notes: string[];
  /** undefined: the packet is complete, but -v detail lines (quoted ICMP packet, payload) may follow. */
  expect?: Expectation;
}

/** Per-stream state of the tcpdump text parser. Never mutated: each change makes a new object. */
export interface TcpdumpContext {
  /** From `listening on IFACE`: stamped on every event. */
  iface?: string;
  linkType?: string;
  /**
   * How to read delta stamps, which look the same for -ttt (since the previous packet) and
   * -ttttt (since the first): the caller who knows the argv says which; -ttt by default.
   */
  deltaStamps: 'since-previous' | 'since-first';
  /** Running clock of -ttt stamps, in microseconds since the first packet. */
  relativeUs?: number;
  open?: OpenPacket;
  /**
   * -A: the lines after a packet are its payload as ASCII (print-ascii.c ascii_print), any text at
   * all, until the next packet line. Set for the rest of the stream by the first such line.
   */
  payload?: boolean;
  /** A packet line has been seen: -A payload can only follow one. */
  packets?: boolean;
  /**
   * A transcript's prompt ran this tcpdump inside a pod (`kubectl exec POD -- tcpdump -i eth0`): the
   * pod's point, which its `listening on eth0` names, since eth0 there is the pod's, not the node's.
   */
  execPoint?: { iface: string; point: string };
}

/** createTcpdumpContext makes the state for a new stream. */
export function createTcpdumpContext(deltaStamps: TcpdumpContext['deltaStamps'] = 'since-previous'): TcpdumpContext {
  return { deltaStamps };
}

type Result = Parsed<TcpdumpContext, CaptureEvent>;

const LISTENING = /^(?:tcpdump: )?listening on (\S+), link-type (\S+)/;
const READING = /^reading from file (.+), link-type (\S+)/;
const DATA_LINK = /^tcpdump: data link type (\S+)/;
const STATS = /^\d+ packets? (?:captured|received by filter|dropped by kernel|dropped by interface)$/;
/** -x/-X/-XX lines (`\t0x0010:  0a00 ...`), and the dump of an undecoded TLV inside a packet line (CDP). */
const HEX_DUMP = /^\t *0x[0-9a-f]{4}: /;
/** dropped privileges (tcpdump -Z, the default when run as root on most distributions). */
const DROPPED_PRIVS = /^dropped privs to \S+$/;

function ignored(reason: string, ctx: TcpdumpContext): Result {
  return { result: { kind: 'ignored', reason }, ctx };
}

function unparsed(reason: string, ctx: TcpdumpContext): Result {
  return { result: { kind: 'unparsed', reason }, ctx };
}

function meta(m: StreamMeta, ctx: TcpdumpContext): Result {
  return { result: { kind: 'meta', meta: m }, ctx };
}

function endpoint(host: string, port: number | undefined): string {
  return port === undefined ? host : `${host}.${port}`;
}

/**
 * The event summary: tcpdump's own text after the addresses (the report shows the addresses from
 * the packet), then each inner packet of a tunnel as `src > dst: text`.
 */
function summarize(notes: string[], packet: Packet): string {
  let s = notes[0];
  let p = packet.inner;
  for (let i = 1; i < notes.length; i++) {
    const ip = p?.ip;
    s += ip === undefined ? `: ${notes[i]}` : `: ${endpoint(ip.src, p?.l4?.srcPort)} > ${endpoint(ip.dst, p?.l4?.dstPort)}: ${notes[i]}`;
    p = p?.inner;
  }
  return s;
}

/** Drops the open packet from the context (a copy only when there was one). */
function closed(ctx: TcpdumpContext): TcpdumpContext {
  if (ctx.open === undefined) return ctx;
  const { open: _open, ...rest } = ctx;
  return rest;
}

/** Turns a stamp into the event's Timestamp, advancing the -ttt running clock in the context. */
function stampTime(stamp: TcpdumpStamp, ctx: TcpdumpContext): Timestamp {
  if (stamp.clock !== 'delta') return stamp;
  if (ctx.deltaStamps === 'since-first') return { clock: 'relative', us: stamp.us };
  return { clock: 'relative', us: (ctx.relativeUs ?? 0) + stamp.us };
}

/** A packet line (timestamped, or untimestamped with -t): a new event, or why not. */
function packetLine(line: string, from: number, time: Timestamp | undefined, ctx: TcpdumpContext): Result | string {
  const packet: Packet = {};
  const fill = decodeFrame(packet, line, from);
  if (typeof fill === 'string') return fill;
  const event: CaptureEvent = { tool: 'tcpdump', packet, summary: fill.notes.length === 1 ? fill.notes[0] : summarize(fill.notes, packet) };
  if (time) event.time = time;
  const iface = fill.ifname ?? ctx.iface;
  if (iface !== undefined) event.iface = iface;
  const base = ctx.packets === true ? ctx : { ...ctx, packets: true };
  const next = fill.expect || fill.verbose ? { ...base, open: { event, notes: fill.notes, expect: fill.expect } } : closed(base);
  return { result: { kind: 'event', event }, ctx: next };
}

/**
 * -A: a line that is not a packet may be the payload of the previous one. The first payload line
 * of a packet shows its IP header as ASCII, non-printable bytes as `.`: it starts with 0x45 `E`
 * (IPv4) or a backquote (IPv6, 0x60), or, for a frame without IP (ARP, STP, LLDP), is mostly dots.
 * Once a stream has shown such a line it is a -A stream: every later line that is not a packet is
 * payload, whatever its text.
 */
function payloadLine(line: string, ctx: TcpdumpContext): Result | undefined {
  if (ctx.payload) return ignored('payload of the previous packet (-A)', ctx);
  if (ctx.packets !== true) return undefined;
  const c = line.charCodeAt(0);
  if (c !== 69 && c !== 96 && !mostlyDots(line)) return undefined;
  return ignored('payload of the previous packet (-A)', { ...closed(ctx), payload: true });
}

/** Mostly `.`, and longer than an author's `...` elision (which would otherwise start -A mode). */
function mostlyDots(line: string): boolean {
  if (line.length < 6) return false;
  let dots = 0;
  for (let i = 0; i < line.length; i++) if (line.charCodeAt(i) === 46) dots++;
  return dots * 2 >= line.length;
}

function packetAt(root: Packet, depth: number): Packet {
  let p = root;
  for (let i = 0; i < depth; i++) p = p.inner ?? {};
  return p;
}

/** Copies `root` down to `depth` levels, where `value` takes the place of the old packet. */
function replaceAt(root: Packet, depth: number, value: Packet): Packet {
  if (depth === 0) return value;
  return { ...root, inner: replaceAt(root.inner ?? {}, depth - 1, value) };
}

/**
 * Folds a continuation line into the open packet: the -v addresses, or a tunnel's inner packet.
 * The previous event is copied along the changed path, never mutated: the caller may keep it.
 */
function continuation(text: string, from: number, open: OpenPacket, expect: Expectation, ctx: TcpdumpContext): Result {
  const at = expect.depth;
  // Each continuation line may open one more tunnel level: bounded as within one line.
  if (at > MAX_TUNNEL_NESTING) return unparsed(`continuation line: tunnels nested deeper than ${MAX_TUNNEL_NESTING}`, closed(ctx));
  let p: Packet;
  let fill;
  if (expect.kind === 'addresses') {
    p = { ...packetAt(open.event.packet, at) };
    fill = decodeAddressed(p, expect.header.version, text, from, expect.header);
  } else {
    p = {};
    fill = decodeLink(p, text, from, true);
  }
  if (typeof fill === 'string') return unparsed(`continuation line: ${fill}`, closed(ctx));
  const packet = isEmptyPacket(p) ? open.event.packet : replaceAt(open.event.packet, at, p);
  const notes = open.notes.slice(0, at).concat(fill.notes);
  const event: CaptureEvent = { ...open.event, packet, summary: summarize(notes, packet) };
  const shifted = fill.expect ? { ...fill.expect, depth: fill.expect.depth + at } : undefined;
  // After a -v packet, indented detail lines (a quoted ICMP packet, HTTP lines) may follow.
  const next: TcpdumpContext = shifted || fill.verbose || expect.kind === 'addresses' ? { ...ctx, open: { event, notes, expect: shifted } } : closed(ctx);
  return { result: { kind: 'amend', event }, ctx: next };
}

/** Lines that start with whitespace: -v continuations, detail lines, hex dumps. */
function indentedLine(line: string, ctx: TcpdumpContext): Result {
  let at = 0;
  while (at < line.length && (line.charCodeAt(at) === 32 || line.charCodeAt(at) === 9)) at++;
  if (at === line.length) return ignored('blank line', ctx);
  if (HEX_DUMP.test(line)) return ignored('hex dump line (-x/-X)', ctx);
  if (ctx.payload) return ignored('payload of the previous packet (-A)', ctx);
  const open = ctx.open;
  if (open === undefined) return unparsed('indented line with no packet to continue', ctx);
  if (open.expect) return continuation(line, at, open, open.expect, ctx);
  return ignored('detail line of the previous packet (-v decode)', ctx);
}

/** Lines without a timestamp at column 0: banners, statistics, prompts, -t packets, tunnel inners. */
function unstampedLine(line: string, ctx: TcpdumpContext): Result {
  const c = line.charCodeAt(0);
  if (c === 116 || c === 108 || c === 114 || c === 100) {
    const listening = LISTENING.exec(line);
    if (listening) {
      const iface = ctx.execPoint?.iface === listening[1] ? ctx.execPoint.point : listening[1];
      const next = iface === ctx.iface && listening[2] === ctx.linkType ? closed(ctx) : { ...closed(ctx), iface, linkType: listening[2] };
      return meta({ iface, linkType: listening[2], ready: true }, next);
    }
    const reading = READING.exec(line);
    if (reading) return meta({ linkType: reading[2], note: `reading from file ${reading[1]}` }, { ...closed(ctx), linkType: reading[2] });
    if (c === 100 && DROPPED_PRIVS.test(line)) return ignored('tcpdump dropped its privileges (-Z)', ctx);
    if (line.startsWith('tcpdump: ')) {
      if (line.startsWith('tcpdump: verbose output suppressed')) return ignored('tcpdump banner', ctx);
      const dl = DATA_LINK.exec(line);
      if (dl) return meta({ linkType: dl[1] }, { ...ctx, linkType: dl[1] });
      return unparsed(`tcpdump message: ${line.slice(9, 89)}`, ctx);
    }
  } else if (c === 94 && line.startsWith('^C')) {
    // All the echoed ^C at once: one recursion per ^C overflowed the stack on a line of thousands.
    let at = 2;
    while (line.startsWith('^C', at)) at += 2;
    return at === line.length ? ignored('interrupt (^C) echoed by the terminal', ctx) : parseTcpdumpLine(line.slice(at), ctx);
  } else if (c === 87 && line.startsWith('Warning: interface names might be incorrect')) {
    return ignored('tcpdump warning', ctx);
  } else if (c >= 48 && c <= 57 && STATS.test(line)) {
    return ignored('capture statistics', closed(ctx));
  }
  const noise = transcriptNoise(line);
  if (noise !== undefined) return ignored(noise, withPrompt(line, closed(ctx)));
  const open = ctx.open;
  if (open?.expect?.kind === 'inner') {
    // VXLAN/OTV print the inner packet at column 0 on the next line, without a timestamp.
    const amended = continuation(line, 0, open, open.expect, ctx);
    if (amended.result.kind === 'amend') return amended;
  }
  const packet = packetLine(line, 0, undefined, ctx);
  if (typeof packet !== 'string') return packet;
  return payloadLine(line, ctx) ?? unparsed('not a tcpdump packet or status line', closed(ctx));
}

/**
 * Length of what tcpdump prints before the timestamp: `-#` packet numbers (`%5u  `, print.c
 * pretty_print_packet) and `--lengths` (`caplen N len N `); 0 when the line has neither.
 */
function prefixLength(line: string): number {
  let i = 0;
  while (line.charCodeAt(i) === 32) i++;
  let digits = i;
  while (digits < line.length) {
    const d = line.charCodeAt(digits);
    if (d < 48 || d > 57) break;
    digits++;
  }
  let at = 0;
  // `%5u` right-aligns in five columns: shorter numbers end at column 5, longer ones start at 0.
  if (digits > i && line.charCodeAt(digits) === 32 && line.charCodeAt(digits + 1) === 32 && (i > 0 ? digits === 5 : digits >= 5)) {
    at = digits + 2;
  } else if (i > 0) return 0;
  if (line.startsWith('caplen ', at)) {
    const m = LENGTHS.exec(line.slice(at, at + 40));
    if (m) at += m[0].length;
  }
  return at;
}

const LENGTHS = /^caplen \d+ len \d+ /;

/**
 * parseTcpdumpLine turns one line of tcpdump text output into a CaptureEvent, an amendment of the
 * previous one (-v second lines, tunnel inner packets), stream meta (`listening on`), an ignored
 * line (banners, statistics, prompts) or an unparsed line with the reason. Never throws.
 */
export function parseTcpdumpLine(line: string, ctx: TcpdumpContext): Result {
  if (line.length === 0) return ignored('blank line', ctx);
  // Output saved on Windows or through a pty may keep the carriage return (all of them at once:
  // one recursion per CR overflowed the stack on a line of thousands).
  if (line.charCodeAt(line.length - 1) === 13) {
    let end = line.length - 1;
    while (end > 0 && line.charCodeAt(end - 1) === 13) end--;
    return parseTcpdumpLine(line.slice(0, end), ctx);
  }
  const c = line.charCodeAt(0);
  const stamp = (c >= 48 && c <= 57) || c === 32 || c === 45 ? readStamp(line) : undefined;
  if (stamp === undefined && (c === 32 || c === 99 || (c >= 48 && c <= 57))) {
    const prefix = prefixLength(line);
    if (prefix > 0 && prefix < line.length) return parseTcpdumpLine(line.slice(prefix), ctx);
  }
  if (stamp) {
    const time = stampTime(stamp, ctx);
    const next = stamp.clock === 'delta' && ctx.deltaStamps === 'since-previous' ? { ...ctx, relativeUs: time.us } : ctx;
    const packet = packetLine(line, stampEnd(), time, next);
    return typeof packet === 'string' ? unparsed(`after the timestamp: ${packet}`, closed(ctx)) : packet;
  }
  if (c === 32 || c === 9) return indentedLine(line, ctx);
  return unstampedLine(line, ctx);
}

/** tcpdumpParser is the LineParser for tcpdump's text output (any of -e, -n, -v, -t*, -i any). */
export const tcpdumpParser: LineParser<TcpdumpContext, CaptureEvent> = {
  tool: 'tcpdump',
  initial: () => createTcpdumpContext(),
  parse: parseTcpdumpLine,
};

/** withPrompt: the context after a prompt line, which names the pod a `kubectl exec` tcpdump runs in. */
function withPrompt(line: string, ctx: TcpdumpContext): TcpdumpContext {
  const place = readPrompt(line);
  const pod = place?.pod !== undefined && place.program === 'tcpdump' ? place.point : undefined;
  if (pod === undefined) return ctx.execPoint === undefined ? ctx : { ...ctx, execPoint: undefined };
  return { ...ctx, execPoint: { iface: pod.slice(pod.lastIndexOf('/') + 1), point: pod } };
}
