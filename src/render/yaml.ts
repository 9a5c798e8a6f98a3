import { stringify } from 'yaml';
import type { HopReport } from '../core/model/report.js';
import { orderReport } from './key-order.js';
import type { RenderOptions } from './renderer.js';

/** renderYaml prints the report as YAML (`-o yaml`): the same data and key order as `-o json`. */
export function renderYaml(report: HopReport, _opts: RenderOptions): string {
  return stringify(orderReport(report), {
    // YAML 1.1 quoting ("yes", "no", "on", "0777" stay strings) so 1.1 readers such as
    // go-yaml v2 and PyYAML read the same values as 1.2 readers.
    version: '1.1',
    // No folding of long strings, and no &anchors/*aliases when the report shares an array.
    lineWidth: 0,
    aliasDuplicateObjects: false,
  });
}
