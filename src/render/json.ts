import type { HopReport } from '../core/model/report.js';
import { orderReport } from './key-order.js';
import type { RenderOptions } from './renderer.js';
import { escapeSerialized } from './sanitize.js';

/** renderJson prints the report as JSON (`-o json`) in the contract's key order, schemaVersion first. */
export function renderJson(report: HopReport, _opts: RenderOptions): string {
  // Same data, but no raw C1, DEL or bidi control reaches a terminal (JSON.stringify escapes C0 only).
  return escapeSerialized(JSON.stringify(orderReport(report), null, 2)) + '\n';
}
