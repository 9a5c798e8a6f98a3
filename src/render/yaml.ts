import { Document, visit } from 'yaml';
import type { HopReport } from '../core/model/report.js';
import { orderReport } from './key-order.js';
import type { RenderOptions } from './renderer.js';
import { escapeSerialized, hasSerializerUnsafe } from './sanitize.js';

/** renderYaml prints the report as YAML (`-o yaml`): the same data and key order as `-o json`. */
export function renderYaml(report: HopReport, _opts: RenderOptions): string {
  const doc = new Document(orderReport(report), {
    // YAML 1.1 quoting ("yes", "no", "on", "0777" stay strings) so 1.1 readers such as
    // go-yaml v2 and PyYAML read the same values as 1.2 readers.
    version: '1.1',
    // No &anchors/*aliases when the report shares an array.
    aliasDuplicateObjects: false,
  });
  // A string holding a C1, DEL or bidi control is double-quoted, where the escape below is
  // valid YAML for the same character: no raw control reaches a terminal, the data is the same.
  visit(doc, {
    Scalar(_key, node) {
      if (typeof node.value === 'string' && hasSerializerUnsafe(node.value)) node.type = 'QUOTE_DOUBLE';
    },
  });
  // No folding of long strings.
  return escapeSerialized(doc.toString({ lineWidth: 0 }));
}
