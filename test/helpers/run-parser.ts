import type { ProbeEvent } from '../../src/core/model/event.js';
import type { LineParser, ParseResult } from '../../src/core/parse/result.js';

/** runParser feeds lines through a line parser the way a stream would, threading its context. */
export function runParser<C, E extends ProbeEvent>(
  parser: LineParser<C, E>,
  lines: readonly string[],
  start: C = parser.initial(),
): { results: ParseResult<E>[]; ctx: C } {
  let ctx = start;
  const results: ParseResult<E>[] = [];
  for (const line of lines) {
    const out = parser.parse(line, ctx);
    results.push(out.result);
    ctx = out.ctx;
  }
  return { results, ctx };
}

/** One golden row: a parse result with the fixture line number it came from. */
export interface ResultRow<E extends ProbeEvent> {
  line: number;
  kind: ParseResult['kind'];
  event?: E;
  meta?: unknown;
  reason?: string;
}

/** resultRows numbers parse results from `firstLine` (a fixture's bodyStartLine) for a golden file. */
export function resultRows<E extends ProbeEvent>(results: readonly ParseResult<E>[], firstLine: number): ResultRow<E>[] {
  return results.map((r, i): ResultRow<E> => {
    const line = firstLine + i;
    switch (r.kind) {
      case 'event':
      case 'amend':
        return { line, kind: r.kind, event: r.event };
      case 'meta':
        return { line, kind: r.kind, meta: r.meta };
      default:
        return { line, kind: r.kind, reason: r.reason };
    }
  });
}

/**
 * rowsJson writes rows one JSON object a line, so a golden diff shows the lines that changed, with
 * object keys sorted, so the order a parser happens to fill fields in does not matter.
 */
export function rowsJson(rows: readonly unknown[]): string {
  return `[\n${rows.map((r) => JSON.stringify(r, sortedKeys)).join(',\n')}\n]\n`;
}

function sortedKeys(_key: string, value: unknown): unknown {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return value;
  return Object.fromEntries(Object.entries(value).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}
