import type { HubbleEndpoint, HubbleEvent } from '../model/event.js';
import type { Timestamp } from '../model/packet.js';
import {
  VERDICTS, flowPacket, nameParts, nodeName, readFlowType, readHost, readIdentity, readSummary, splitTraceId,
} from './hubble-fields.js';

/*
 * `hubble observe` text, laid out by WriteProtoFlow of hubble's printer (cilium/hubble
 * pkg/printer/printer.go, cilium/cilium hubble/pkg/printer/printer.go):
 *   compact (the default): `TIME[ [NODE]]: SRC[ (ID)] ARROW DST[ (ID)] TYPE VERDICT (SUMMARY)`; the
 *     identity columns came with hubble PR #745 (2022); ARROW is `->`, `<-` (is_reply: the printer
 *     swapped the ends, so the packet went from the right to the left) or `<>` (unknown).
 *   table: a tabwriter (padding 3) under `TIMESTAMP [NODE] SOURCE DESTINATION TYPE VERDICT SUMMARY`.
 *   dict: `  TIMESTAMP: ...` ... `    SUMMARY: ...` blocks between `------------` lines.
 * TIME is Go's time.StampMilli (`Jan _2 15:04:05.000`, UTC) unless --time-format chose an RFC 3339 one.
 */

/** Where a time column ends and what it said. */
interface ReadTime {
  time?: Timestamp;
  date?: string;
  end: number;
}

const STAMP = /^([A-Z][a-z]{2}) ([ \d]\d) (\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?/;
const RFC3339 = /^(\d{4}-\d{2}-\d{2})T(\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?(Z|[+-]\d{2}:\d{2})/;

/** readTime reads the time a line starts with (StampMilli/Micro/Nano or RFC 3339), or undefined. */
export function readTime(line: string): ReadTime | undefined {
  const s = STAMP.exec(line);
  if (s) {
    const us = ((Number(s[3]) * 60 + Number(s[4])) * 60 + Number(s[5])) * 1e6 + fractionUs(s[6]);
    return { time: { clock: 'time-of-day', us }, date: `${s[1]} ${s[2].trim()}`, end: s[0].length };
  }
  const r = RFC3339.exec(line);
  if (r) {
    const ms = Date.parse(`${r[1]}T${r[2]}:${r[3]}:${r[4]}${r[6]}`);
    if (Number.isNaN(ms)) return undefined;
    return { time: { clock: 'wall', us: ms * 1000 + fractionUs(r[5]) }, end: r[0].length };
  }
  if (line.startsWith('N/A')) return { end: 3 };
  return undefined;
}

function fractionUs(digits: string | undefined): number {
  if (!digits) return 0;
  return Math.floor(Number(digits.padEnd(9, '0')) / 1000);
}

/** What a compact line after its time and node said. */
export type CompactResult =
  | { kind: 'event'; event: HubbleEvent }
  | { kind: 'meta'; note: string }
  | { kind: 'ignored'; reason: string }
  | { kind: 'unparsed'; reason: string };

const VERDICT_ALT = [...VERDICTS].join('|');
/** SRC[ (ID)] ARROW DST[ (ID)] TYPE VERDICT (SUMMARY): hosts and identities hold no spaces. */
const COMPACT_FLOW = new RegExp(`^(\\S*)(?: \\(([^()\\s]+)\\))? (->|<-|<>) (\\S*)(?: \\(([^()\\s]+)\\))? (.*?) ?(${VERDICT_ALT}) \\((.*)\\)$`);
/** WriteProtoNodeStatusEvent: relay notices, printed on stderr with the relay's name as node. */
const NODE_STATUS = /^(?:\d+ nodes are unavailable: |Receiving flows from \d+ nodes: |\d+ nodes removed from cluster: |Error ".*" on \d+ nodes: |unknown node status event: )/;

/** readCompactLine reads a compact line: `TIME[ [NODE]]: ...`. */
export function readCompactLine(line: string): CompactResult {
  const t = readTime(line);
  if (!t) {
    if (line.startsWith('EVENTS LOST: ')) return { kind: 'meta', note: `Hubble lost events: ${line.slice(13)}` };
    return { kind: 'unparsed', reason: 'not a hubble observe line' };
  }
  let i = t.end;
  let node: string | undefined;
  if (line.startsWith(' [', i)) {
    const close = line.indexOf(']', i + 2);
    if (close < 0) return { kind: 'unparsed', reason: 'unclosed [node]' };
    node = line.slice(i + 2, close);
    i = close + 1;
  }
  if (!line.startsWith(': ', i)) return { kind: 'unparsed', reason: 'no ": " after the time' };
  const rest = line.slice(i + 2);
  if (NODE_STATUS.test(rest)) return { kind: 'meta', note: `${node ? `[${node}] ` : ''}${rest}` };
  const m = COMPACT_FLOW.exec(rest);
  if (!m) {
    // Agent events (`POLICY_UPDATED (labels: ...)`) and debug events (`... MARK: 0x.. CPU: 01 (...)`).
    if (/^[A-Z][A-Z0-9_]+ \(.*\)$/.test(rest)) return { kind: 'ignored', reason: 'hubble agent event' };
    if (/ MARK: (?:0x[0-9a-f]+|N\/A) CPU: (?:\d+|N\/A) \(.*\)$/.test(rest)) return { kind: 'ignored', reason: 'hubble debug event' };
    return { kind: 'unparsed', reason: 'hubble line without SRC ARROW DST TYPE VERDICT (SUMMARY)' };
  }
  const left = readHost(m[1]);
  if (m[2]) readIdentity(m[2], left);
  const right = readHost(m[4]);
  if (m[5]) readIdentity(m[5], right);
  const arrow = m[3];
  // The printer swaps the ends of a reply so that the client stays on the left.
  const [src, dst] = arrow === '<-' ? [right, left] : [left, right];
  const isReply = arrow === '<-' ? true : arrow === '->' ? false : undefined;
  const event = buildEvent(t, node, src, dst, m[6], m[7], m[8], isReply);
  return { kind: 'event', event };
}

/** buildEvent: the event of one text flow, from its columns. */
export function buildEvent(
  t: ReadTime,
  node: string | undefined,
  src: HubbleEndpoint,
  dst: HubbleEndpoint,
  type: string,
  verdict: string,
  rawSummary: string,
  isReply: boolean | undefined,
): HubbleEvent {
  nameParts(src);
  nameParts(dst);
  const { summary, ipTraceId } = splitTraceId(rawSummary);
  const event: HubbleEvent = { tool: 'hubble', ...readFlowType(type, verdict), verdict, src, dst, summary };
  if (t.time) event.time = t.time;
  if (t.date) event.date = t.date;
  if (node) event.node = nodeName(node);
  if (isReply !== undefined) event.isReply = isReply;
  if (ipTraceId) event.ipTraceId = ipTraceId;
  const packet = flowPacket(src, dst, event.kind === 'l7' ? undefined : readSummary(summary));
  if (packet) event.packet = packet;
  return event;
}

/** The table header, and whether it has the NODE column. */
export function readTableHeader(line: string): { node: boolean } | undefined {
  const m = /^TIMESTAMP\s{3,}(NODE\s{3,})?SOURCE\s{3,}DESTINATION\s{3,}TYPE\s{3,}VERDICT\s{3,}SUMMARY\s*$/.exec(line);
  return m ? { node: !!m[1] } : undefined;
}

/** readTableRow: one row of `-o table` (cells at least three spaces apart; no identities, no direction). */
export function readTableRow(line: string, withNode: boolean): CompactResult {
  const t = readTime(line);
  if (!t) return { kind: 'unparsed', reason: 'table row without a time' };
  const cells = line.slice(t.end).trim().split(/\s{3,}/);
  const want = withNode ? 6 : 5;
  if (cells.length === want - 1) cells.push('');
  if (cells.length !== want) return { kind: 'unparsed', reason: `table row with ${cells.length} cells, expected ${want}` };
  const node = withNode ? cells.shift() : undefined;
  const [src, dst, type, verdict, summary] = cells;
  if (!VERDICTS.has(verdict)) return { kind: 'unparsed', reason: `table row verdict "${verdict}" is not a Hubble verdict` };
  return { kind: 'event', event: buildEvent(t, node, readHost(src), readHost(dst), type, verdict, summary, undefined) };
}

/** The keys of a dict block (`-o dict`), right-aligned to the colon. */
export const DICT_KEY = /^\s*(TIMESTAMP|NODE|SOURCE|DESTINATION|TYPE|VERDICT|SUMMARY): ?(.*)$/;
