import type { HopReport } from '../core/model/report.js';
import type { RenderOptions } from './renderer.js';
import { renderText } from './table.js';

/**
 * renderWide prints the table report with everything it leaves out (`-o wide`): each hop's facts
 * (MACs, TTL, IP ID, identities, CT state, kernel functions) on an indented line under it, the
 * inputs' nodes and every unparsed-line sample kept, and the endpoints' MACs.
 */
export function renderWide(report: HopReport, opts: RenderOptions): string {
  return renderText(report, opts, 'wide');
}
