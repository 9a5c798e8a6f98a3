import type { HubbleEvent } from '../model/event.js';
import type { LineParser, Parsed, ParseResult } from './result.js';
import { DICT_KEY, buildEvent, readCompactLine, readTableHeader, readTableRow, readTime, type CompactResult } from './hubble-text.js';
import { readHost } from './hubble-fields.js';
import { readJsonLine } from './hubble-json.js';
import { transcriptNoise } from './transcript-noise.js';

/**
 * Hubble flows, one line in, one result out: `hubble observe` compact (the default), table and
 * dict text, with or without --print-node-name, and JSON (`-o jsonpb`, `-o json`, the Hubble
 * exporter's file). The formats are told apart per line, so a saved transcript may mix them.
 */
export interface HubbleContext {
  /** `-o table` header seen: rows follow, with or without the NODE column. */
  table?: { node: boolean };
  /** `-o dict` block being read: the keys seen so far. */
  dict?: Record<string, string>;
}

export const hubbleParser: LineParser<HubbleContext, HubbleEvent> = {
  tool: 'hubble',
  initial: () => ({}),
  parse: parseHubbleLine,
};

export function parseHubbleLine(raw: string, ctx: HubbleContext): Parsed<HubbleContext, HubbleEvent> {
  const line = raw.endsWith('\r') ? raw.slice(0, -1) : raw;
  const first = line.charCodeAt(0);
  if (first === 123 /* { */) return { result: fromParts(readJsonLine(line)), ctx };
  if (line.trim() === '') return { result: { kind: 'ignored', reason: 'empty line' }, ctx };

  const dict = DICT_KEY.exec(line);
  if (dict && (ctx.dict || dict[1] === 'TIMESTAMP')) return dictLine(dict[1], dict[2], ctx);
  if (line === '------------') return { result: { kind: 'ignored', reason: 'dict separator' }, ctx: { ...ctx, dict: undefined } };

  const header = readTableHeader(line);
  if (header) return { result: { kind: 'meta', meta: { note: 'hubble table columns' } }, ctx: { ...ctx, table: header } };
  if (ctx.table) {
    const row = readTableRow(line, ctx.table.node);
    if (row.kind === 'event') return { result: row, ctx };
  }
  if (readTime(line)) return { result: fromParts(readCompactLine(line)), ctx };
  if (line.startsWith('EVENTS LOST: ')) return { result: fromParts(readCompactLine(line)), ctx };
  // kube-ps1 puts the context in parentheses before the prompt: `(⎈|ctx:ns) root@host:~# hubble observe`.
  const noise = transcriptNoise(line.startsWith('(') ? line.replace(/^\([^)]*\) /, '') : line);
  if (noise) return { result: { kind: 'ignored', reason: noise }, ctx };
  if (/^\$ /.test(line)) return { result: { kind: 'ignored', reason: 'shell prompt' }, ctx };
  if (line.trim() === '...') return { result: { kind: 'ignored', reason: 'elision mark' }, ctx };
  return { result: { kind: 'unparsed', reason: 'not a hubble observe line' }, ctx };
}

function fromParts(r: CompactResult): ParseResult<HubbleEvent> {
  switch (r.kind) {
    case 'event':
      return r;
    case 'meta':
      return { kind: 'meta', meta: { note: r.note } };
    default:
      return r;
  }
}

/** One `KEY: value` line of a dict block: the SUMMARY line, the last, gives the event. */
function dictLine(key: string, value: string, ctx: HubbleContext): Parsed<HubbleContext, HubbleEvent> {
  const fields = { ...(key === 'TIMESTAMP' ? {} : ctx.dict), [key]: value };
  if (key !== 'SUMMARY') return { result: { kind: 'meta', meta: { note: `hubble dict ${key.toLowerCase()}` } }, ctx: { ...ctx, dict: fields } };
  const t = readTime(fields.TIMESTAMP ?? '');
  const next = { ...ctx, dict: undefined };
  if (!t || fields.SOURCE === undefined || fields.DESTINATION === undefined || fields.VERDICT === undefined) {
    return { result: { kind: 'unparsed', reason: 'hubble dict block without TIMESTAMP, SOURCE, DESTINATION or VERDICT' }, ctx: next };
  }
  const event = buildEvent(t, fields.NODE, readHost(fields.SOURCE), readHost(fields.DESTINATION), fields.TYPE ?? '', fields.VERDICT, value, undefined);
  return { result: { kind: 'event', event }, ctx: next };
}
