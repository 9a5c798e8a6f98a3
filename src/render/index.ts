import { renderHtml } from './html.js';
import { renderJson } from './json.js';
import { renderMermaid } from './mermaid.js';
import type { Renderer } from './renderer.js';
import { renderTable } from './table.js';
import { renderWide } from './wide.js';
import { renderYaml } from './yaml.js';

export type { RenderOptions, Renderer } from './renderer.js';

/** OutputFormat is a value of `-o`. */
export type OutputFormat = 'table' | 'wide' | 'json' | 'yaml' | 'mermaid' | 'html';

/** renderers maps each `-o` format to its renderer. */
export const renderers: Record<OutputFormat, Renderer> = {
  table: renderTable,
  wide: renderWide,
  json: renderJson,
  yaml: renderYaml,
  mermaid: renderMermaid,
  html: renderHtml,
};

/** outputFormats lists the `-o` values, for help text, completion and error messages. */
export const outputFormats = Object.keys(renderers) as OutputFormat[];

/** isOutputFormat tells whether a `-o` value names a renderer. */
export function isOutputFormat(value: string): value is OutputFormat {
  return Object.hasOwn(renderers, value);
}
