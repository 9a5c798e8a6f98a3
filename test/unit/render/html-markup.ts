import { HTML_SCRIPT, HTML_STYLE } from '../../../src/render/html-assets.js';

/** A start tag of the page: its name and attributes, values as written (entities not decoded). */
export interface Tag {
  name: string;
  attrs: Record<string, string>;
}

const TAG = /<([a-zA-Z][\w:-]*)((?:\s+[a-zA-Z][\w:-]*(?:="[^"]*")?)*)\s*\/?>/y;
const ATTR = /\s+([a-zA-Z][\w:-]*)(?:="([^"]*)")?/g;

/**
 * readMarkup reads the page as a strict tokenizer would: it takes out the page's own style and
 * script (checked to be exactly the renderer's), then every `<` must open a well-formed start tag,
 * an end tag or the doctype. It throws on anything else, so a `<` that escaped escaping fails here.
 */
export function readMarkup(html: string): { tags: Tag[]; text: string } {
  const style = `<style>${HTML_STYLE}</style>`;
  const script = `<script>${HTML_SCRIPT}</script>`;
  if (html.split(style).length !== 2 || html.split(script).length !== 2) throw new Error('the page must hold its style and script once each, verbatim');
  const rest = html.replace(style, '<style></style>').replace(script, '<script></script>');
  const tags: Tag[] = [];
  let text = '';
  let i = 0;
  while (i < rest.length) {
    const lt = rest.indexOf('<', i);
    if (lt < 0) {
      text += rest.slice(i);
      break;
    }
    text += rest.slice(i, lt);
    if (rest.startsWith('<!DOCTYPE html>', lt)) {
      i = lt + '<!DOCTYPE html>'.length;
      continue;
    }
    const end = /^<\/([a-zA-Z][\w:-]*)>/.exec(rest.slice(lt, lt + 40));
    if (end) {
      i = lt + end[0].length;
      continue;
    }
    TAG.lastIndex = lt;
    const m = TAG.exec(rest);
    if (!m) throw new Error(`a < that opens no well-formed tag at ${lt}: ${JSON.stringify(rest.slice(lt, lt + 80))}`);
    const attrs: Record<string, string> = {};
    for (const a of m[2].matchAll(ATTR)) attrs[a[1]] = a[2] ?? '';
    tags.push({ name: m[1], attrs });
    i = TAG.lastIndex;
  }
  return { tags, text };
}

/** decode turns the five entities the renderer writes back into characters. */
export function decode(text: string): string {
  return text.replace(/&(amp|lt|gt|quot|#39|nbsp);/g, (_, e: string) => ({ amp: '&', lt: '<', gt: '>', quot: '"', '#39': "'", nbsp: '\u00a0' })[e]!);
}

/** The `<g>` elements of one flow's swimlane with the given class word, in document order. */
export function groups(html: string, flowIndex: number, classWord: string): { attrs: Record<string, string>; inner: string }[] {
  const section = flowSection(html, flowIndex);
  const svg = section.slice(section.indexOf('<svg class="swimlane"'), section.indexOf('</svg>') + 6);
  const out: { attrs: Record<string, string>; inner: string }[] = [];
  const re = /<g ([^>]*)>([\s\S]*?)<\/g>/g;
  for (const m of svg.matchAll(re)) {
    const attrs: Record<string, string> = {};
    for (const a of (' ' + m[1]).matchAll(ATTR)) attrs[a[1]] = a[2] ?? '';
    if ((attrs.class ?? '').split(' ').includes(classWord)) out.push({ attrs, inner: m[2] });
  }
  return out;
}

/** The HTML of one flow's section. */
export function flowSection(html: string, flowIndex: number): string {
  const start = html.indexOf(`id="f${flowIndex}">`);
  if (start < 0) throw new Error(`no flow ${flowIndex}`);
  return html.slice(start, html.indexOf('</section>', start));
}

/** The texts of the `<text>` elements in some markup, decoded. */
export function texts(markup: string): string[] {
  return [...markup.matchAll(/<text[^>]*>([^<]*)<\/text>/g)].map((m) => decode(m[1]));
}

/** The text of the `<title>` in some markup, decoded. */
export function titleOf(markup: string): string {
  return decode(/<title[^>]*>([^<]*)<\/title>/.exec(markup)?.[1] ?? '');
}
