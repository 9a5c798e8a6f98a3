import type { PwruEvent } from '../model/event.js';
import type { LineParser, Parsed, ParseResult } from './result.js';
import { isClockTime, summarize } from './pwru-fields.js';
import { parsePwruJson } from './pwru-json.js';
import { transcriptNoise } from './transcript-noise.js';
import {
  inferColumns, makeLayout, readEventLine, readTunnel, type PwruColumn, type PwruLayout, type PwruRepeats,
} from './pwru-event-line.js';

export type { PwruColumn, PwruLayout } from './pwru-event-line.js';

/*
 * pwru text output, every layout from v0.0.1 to v1.0.12 (read in cilium/pwru internal/pwru/output.go):
 *   v0.0.1-v0.0.4   SKB PROCESS FUNC TIMESTAMP, then ` mark=.. ifindex=.. proto=..` and the tuple
 *   v0.0.5-v1.0.6   [TIME] SKB CPU PROCESS FUNC [TIMESTAMP], then `netns=.. mark=.. ifindex|iface=..` and the tuple
 *   v1.0.7+         [TIME] SKB CPU PROCESS [TIMESTAMP] [NETNS MARK/x IFACE PROTO MTU LEN [cb]] [NETNS NAME]
 *                   [TUPLE] FUNC [CALLER] [name=value..] [TUNNEL]
 * After an event line come --output-stack frames (one symbol per line) and --output-skb /
 * --output-skb-shared-info struct dumps; both amend that event.
 */

/** What the TIMESTAMP column counts: kernel monotonic ns (`current`, v0.0.x default) or ns since the skb's previous event. */
export type PwruTimestampClock = 'monotonic' | 'relative';

/** Per-stream state of the pwru parser. Never mutated: each change makes a new object. */
export interface PwruContext {
  /** Columns of the last header line; undefined until one is seen (then layouts are told by shape). */
  readonly layout?: PwruLayout;
  /** The TIMESTAMP column's clock: given by the probe, or guessed from the first value after a header. */
  readonly timestampClock?: PwruTimestampClock;
  /** True when the probe set `timestampClock` from its own --timestamp flag: never guess then. */
  readonly clockGiven?: boolean;
  /** The last event, which stack frames and struct dumps amend. */
  readonly last?: PwruEvent;
  /** Inside an --output-skb (`skb`) or --output-skb-shared-info (`shinfo`) struct dump. */
  readonly dump?: 'skb' | 'shinfo';
  /** The last event's TUNNEL value is still to come: pwru prints it after the stack and the dumps. */
  readonly awaitingTunnel?: boolean;
  /** Without a header: the layout the last event line was read with, tried first on the next one. */
  readonly inferred?: PwruLayout;
  /** The last event line's repeating columns, to reuse their decoded values. */
  readonly repeats?: PwruRepeats;
  /**
   * The start of a record a mail client or a narrow terminal wrapped: an event line that ended
   * before its FUNC column, waiting for the line that carries the rest.
   */
  readonly wrapped?: string;
}

/**
 * createPwruContext: the context to start a stream with. A probe that passed `--timestamp` says so,
 * because the header reads `TIMESTAMP` for both `current` and `relative`.
 */
export function createPwruContext(options: { timestamp?: 'current' | 'relative' | 'absolute' | 'none' } = {}): PwruContext {
  if (options.timestamp === 'relative') return { timestampClock: 'relative', clockGiven: true };
  if (options.timestamp === 'current' || options.timestamp === 'absolute') return { timestampClock: 'monotonic', clockGiven: true };
  return {};
}

type Result = ParseResult<PwruEvent>;
type Out = Parsed<PwruContext, PwruEvent>;

const LOG_LINE = /^\d{4}\/\d\d\/\d\d \d\d:\d\d:\d\d (?:(DEBUG|INFO|WARN|ERROR) )?(.*)$/;
const PROGRESS_BAR = /^\d+ \/ \d+ \[/;
const VERSION_LINE = /^pwru (v?\d[\w.+-]*)$/;
const TROUBLE = /\b(?:fail|error)/i;
/** A --output-stack frame: a kernel symbol, maybe `[module]` (tab-separated before v1.0.5), maybe `+0x1a/0x40`. */
const STACK_FRAME = /^[A-Za-z_.$][\w.$]*(?:\t?\[[\w.-]+\])?(?:\+0x[0-9a-f]+(?:\/0x[0-9a-f]+)?)?$/;
const STRUCT_DUMP_START = /^\(struct (\w+)\)\{$/;

const HEADER_WORDS: Record<string, PwruColumn> = {
  TIME: 'time', SKB: 'skb', CPU: 'cpu', PROCESS: 'process', FUNC: 'func', TIMESTAMP: 'timestamp',
  NETNS: 'netns', MARK: 'mark', 'MARK/x': 'mark', IFACE: 'iface', PROTO: 'proto', MTU: 'mtu', LEN: 'len',
  '__sk_buff->cb[]': 'cb', TUPLE: 'tuple', CALLER: 'caller', TUNNEL: 'tunnel',
};

/** parsePwruLine: one line of pwru output (text or --output-json) in, one result and the next context out. */
export function parsePwruLine(rawLine: string, ctx: PwruContext): Out {
  const line = rawLine.charCodeAt(rawLine.length - 1) === 13 ? rawLine.slice(0, -1) : rawLine;
  if (ctx.wrapped !== undefined) return unwrapped(line, ctx, ctx.wrapped);
  const c = line.charCodeAt(0);

  if (ctx.dump !== undefined && ctx.last !== undefined) {
    // A dump cut by pwru's buffer has no closing brace; a right-aligned header may follow it.
    if (c === 32 /* space */ && !line.trimStart().startsWith('SKB ')) return amendDump(ctx, ctx.last, ctx.dump, line, false);
    if (c === 125 /* } */) return closeDump(ctx, ctx.last, ctx.dump, line);
  }
  if (c === 48 /* 0 */ && line.charCodeAt(1) === 120 /* x */) return eventLine(line, ctx);
  if (c === 123 /* { */) return jsonLine(line, ctx);
  if (c >= 48 && c <= 57) return digitLine(line, ctx);
  if (line.trim() === '') return same(ctx, { kind: 'ignored', reason: 'blank line' });
  if (c === 94 /* ^ */ && line.charCodeAt(1) === 67 /* C */) {
    // The terminal echoes ^C and the exit log line follows on the same line.
    const rest = line.slice(2);
    if (rest === '') return same(ctx, { kind: 'ignored', reason: 'interrupt (^C)' });
    return LOG_LINE.test(rest) ? logLine(rest, ctx) : unparsed(ctx, 'text after ^C is not a pwru log line');
  }
  if (c === 83 /* S */ || c === 84 /* T */ || c === 32) {
    const header = parseHeader(line);
    if (header) return headerLine(header, ctx);
  }
  if (c === 40 /* ( */ && ctx.last !== undefined) {
    const m = STRUCT_DUMP_START.exec(line);
    if (m) return amendDump(ctx, ctx.last, m[1] === 'skb_shared_info' ? 'shinfo' : 'skb', line, true);
  }
  if (ctx.last !== undefined && ctx.dump === undefined) {
    if (STACK_FRAME.test(line)) return amendStack(ctx, ctx.last, line, undefined);
    if (ctx.awaitingTunnel) {
      const space = line.indexOf(' ');
      if (space > 0 && STACK_FRAME.test(line.slice(0, space))) return amendStack(ctx, ctx.last, line.slice(0, space), line.slice(space));
    }
  }
  const version = VERSION_LINE.exec(line);
  if (version) return same(ctx, { kind: 'meta', meta: { version: version[1], note: line } });
  if (ctx.last === undefined && STACK_FRAME.test(line)) return unparsed(ctx, 'stack frame without an event before it');
  // Saved transcripts start with the prompt that ran pwru; every parser treats it the same way.
  const noise = transcriptNoise(line);
  if (noise) return same(ctx, { kind: 'ignored', reason: noise });
  return unparsed(ctx, 'not a pwru line');
}

/** pwruParser: the LineParser for pwru, text and --output-json. */
export const pwruParser: LineParser<PwruContext, PwruEvent> = {
  tool: 'pwru',
  initial: () => createPwruContext(),
  parse: parsePwruLine,
};

function same(ctx: PwruContext, result: Result): Out {
  return { result, ctx };
}

function unparsed(ctx: PwruContext, reason: string): Out {
  return { result: { kind: 'unparsed', reason }, ctx };
}

function digitLine(line: string, ctx: PwruContext): Out {
  if (LOG_LINE.test(line)) return logLine(line, ctx);
  // The progress bar ends with `p/s` and no newline, so the next log line may be glued to it.
  if (PROGRESS_BAR.test(line)) return same(ctx, { kind: 'ignored', reason: 'progress bar' });
  const space = line.indexOf(' ');
  if (space > 0 && isClockTime(line.slice(0, space))) return eventLine(line, ctx);
  return unparsed(ctx, 'not a pwru line');
}

function logLine(line: string, ctx: PwruContext): Out {
  const m = LOG_LINE.exec(line)!;
  const level = m[1];
  const message = m[2];
  if (message.startsWith('Listening for events')) return same(ctx, { kind: 'meta', meta: { ready: true, note: message } });
  if (level === 'WARN' || level === 'ERROR' || TROUBLE.test(message)) return same(ctx, { kind: 'meta', meta: { note: message } });
  return same(ctx, { kind: 'ignored', reason: 'pwru log line' });
}

function parseHeader(line: string): PwruColumn[] | undefined {
  const words = line.trim().split(/\s+/);
  if (words[0] !== 'SKB' && words[0] !== 'TIME') return undefined;
  if (!words.includes('FUNC') || !words.includes('SKB')) return undefined;
  const columns: PwruColumn[] = [];
  for (let i = 0; i < words.length; i++) {
    if (words[i] === 'NETNS' && words[i + 1] === 'NAME') {
      columns.push('netnsName');
      i++;
      continue;
    }
    columns.push(HEADER_WORDS[words[i]] ?? 'unknown');
  }
  return columns;
}

function headerLine(columns: PwruColumn[], ctx: PwruContext): Out {
  const layout = makeLayout(columns);
  const next: PwruContext = ctx.clockGiven ? { layout, timestampClock: ctx.timestampClock, clockGiven: true } : { layout };
  return { result: { kind: 'meta', meta: { note: `pwru columns: ${columns.join(' ')}` } }, ctx: next };
}

/** A stack frame; the last frame carries the TUNNEL value when one is due (`tail`). */
function amendStack(ctx: PwruContext, last: PwruEvent, line: string, tail: string | undefined): Out {
  const frame = line.includes('\t') ? line.replace('\t', '') : line;
  const event: PwruEvent = { ...last, stack: last.stack ? [...last.stack, frame] : [frame] };
  if (tail === undefined) return { result: { kind: 'amend', event }, ctx: { ...ctx, last: event } };
  if (!readTunnelTail(tail, event)) return unparsed(ctx, 'stack frame followed by text that is not a TUNNEL value');
  return { result: { kind: 'amend', event }, ctx: nextCtx(ctx, event, undefined) };
}

/** Reads a whole TUNNEL value (and nothing else) from `text` into `event.packet`. */
function readTunnelTail(text: string, event: PwruEvent): boolean {
  const trimmed = text.trim();
  return readTunnel(trimmed, 0, event) === trimmed.length;
}

function amendDump(ctx: PwruContext, last: PwruEvent, which: 'skb' | 'shinfo', line: string, start: boolean): Out {
  const event: PwruEvent = { ...last };
  if (which === 'skb') event.skbDump = start || last.skbDump === undefined ? line : last.skbDump + '\n' + line;
  else event.shinfoDump = start || last.shinfoDump === undefined ? line : last.shinfoDump + '\n' + line;
  return { result: { kind: 'amend', event }, ctx: { ...ctx, last: event, dump: which } };
}

function closeDump(ctx: PwruContext, last: PwruEvent, which: 'skb' | 'shinfo', line: string): Out {
  const event: PwruEvent = { ...last };
  const tail = line.length > 1 ? line.slice(1) : undefined;
  // --output-tunnel is printed after the dumps, so it lands on the closing brace's line.
  if (tail !== undefined && (!ctx.awaitingTunnel || !readTunnelTail(tail, event))) {
    return unparsed(ctx, 'unexpected text after the end of a struct dump');
  }
  if (which === 'skb') event.skbDump = (last.skbDump ?? '') + '\n}';
  else event.shinfoDump = (last.shinfoDump ?? '') + '\n}';
  const next = nextCtx(ctx, event, undefined);
  // Without a tail the TUNNEL value may still follow a later dump.
  return { result: { kind: 'amend', event }, ctx: tail !== undefined || !ctx.awaitingTunnel ? next : { ...next, awaitingTunnel: true } };
}

function jsonLine(line: string, ctx: PwruContext): Out {
  const r = parsePwruJson(line, ctx.timestampClock);
  if ('reason' in r) return unparsed(ctx, r.reason);
  return { result: { kind: 'event', event: r.event }, ctx: nextCtx(ctx, r.event, r.clock) };
}

function nextCtx(ctx: PwruContext, event: PwruEvent, clock: PwruTimestampClock | undefined): PwruContext {
  return {
    layout: ctx.layout,
    timestampClock: clock ?? ctx.timestampClock,
    clockGiven: ctx.clockGiven,
    last: event,
    inferred: ctx.inferred,
    repeats: ctx.repeats,
  };
}

/** The reason readEventLine gives for a line that stops before its function name. */
const CUT_BEFORE_FUNC = 'line ends before the FUNC column';

/**
 * A line after a wrapped record start: joined to it when together they make an event line (or
 * still end before FUNC: a record wrapped more than once); otherwise the start is dropped and the
 * line read on its own.
 */
function unwrapped(line: string, ctx: PwruContext, start: string): Out {
  const { wrapped: _wrapped, ...rest } = ctx;
  const c = line.charCodeAt(0);
  if (line.trim() !== '' && !(c === 48 && line.charCodeAt(1) === 120) && !(c >= 48 && c <= 57 && isClockTime(line.slice(0, line.indexOf(' '))))) {
    // An event, or the joined text held again when it still ends before FUNC.
    const joined = eventLine(`${start} ${line.trim()}`, rest);
    if (joined.result.kind !== 'unparsed') return joined;
  }
  return parsePwruLine(line, rest);
}

function wrappedStart(line: string, ctx: PwruContext): Out {
  return { result: { kind: 'ignored', reason: 'start of a record wrapped over the next line' }, ctx: { ...ctx, wrapped: line } };
}

function eventLine(line: string, ctx: PwruContext): Out {
  let layout = ctx.layout ?? ctx.inferred;
  let read = layout === undefined ? undefined : readEventLine(line, layout, ctx.repeats);
  if (ctx.layout === undefined && (read === undefined || typeof read === 'string')) {
    // A cut log without a header: the previous line's layout does not fit, tell this one by shape.
    const columns = inferColumns(line);
    if (columns === undefined) return unparsed(ctx, 'no header seen and the line matches no known pwru layout');
    layout = makeLayout(columns);
    read = readEventLine(line, layout, undefined);
  }
  if (read === CUT_BEFORE_FUNC && ctx.wrapped === undefined) return wrappedStart(line, ctx);
  if (read === undefined || typeof read === 'string') return unparsed(ctx, read ?? 'no layout');
  const event = read.event;
  let clock = ctx.timestampClock;
  if (read.timestampDigits > 0) {
    // Relative stamps start at 0 for each skb; a monotonic stamp is never below one second of uptime.
    if (clock === undefined) clock = read.timestampDigits < 10 ? 'relative' : 'monotonic';
    event.time = { clock, us: read.timestampUs };
  } else if (event.printedAt !== undefined) {
    event.time = event.printedAt;
  }
  event.summary = summarize(event);
  const next: PwruContext = {
    layout: ctx.layout,
    timestampClock: clock,
    clockGiven: ctx.clockGiven,
    last: event,
    inferred: ctx.layout === undefined ? layout : undefined,
    repeats: read.repeats,
  };
  return { result: { kind: 'event', event }, ctx: read.tunnelPending ? { ...next, awaitingTunnel: true } : next };
}
