import { sanitizeTerminalText } from './sanitize.js';

const HTML_SPECIAL = /[&<>"']/g;
const HTML_ENTITIES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

/**
 * escapeHtml makes a string from a report (remote tools, user files) inert in HTML text, in a
 * quoted attribute and in inline SVG alike: the five markup characters become entities (so no
 * tag, attribute, entity, comment or `<![CDATA[` can start, and `]]>` is plain text), and control
 * and bidi characters become visible escapes first, as on a terminal (`\x1b`, `\u202e`), so a
 * name cannot reorder or hide what the reader sees.
 */
export function escapeHtml(value: string | number): string {
  return sanitizeTerminalText(String(value)).replace(HTML_SPECIAL, (c) => HTML_ENTITIES[c]);
}

/** escapeLines escapes each line and joins them with real newlines (a tooltip's line breaks). */
export function escapeLines(lines: string[]): string {
  return lines.map(escapeHtml).join('\n');
}

/** shorten cuts text longer than `max` characters in its middle, where ids differ least. */
export function shorten(text: string, max: number): string {
  if (text.length <= max) return text;
  const head = Math.ceil((max - 1) / 2);
  return text.slice(0, head) + '…' + text.slice(text.length - (max - 1 - head));
}
