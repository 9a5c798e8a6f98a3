import type { HopReport } from '../core/model/report.js';
import { orderReport } from './key-order.js';
import type { RenderOptions } from './renderer.js';

/** renderJson prints the report as JSON (`-o json`) in the contract's key order, schemaVersion first. */
export function renderJson(report: HopReport, _opts: RenderOptions): string {
  return JSON.stringify(orderReport(report), null, 2) + '\n';
}
