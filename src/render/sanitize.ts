import type { HopReport } from '../core/model/report.js';

// C0 and C1 controls, DEL, and the Unicode bidi controls that can reorder what a terminal shows
// (Trojan Source, CVE-2021-42574). ESC (0x1b) and the 8-bit CSI (0x9b) are among them.
const UNSAFE = /[\u0000-\u001f\u007f-\u009f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/;
const UNSAFE_ALL = new RegExp(UNSAFE.source, 'g');

const NAMED: Record<string, string> = { '\x1b': '\\x1b', '\r': '\\r', '\n': '\\n', '\t': ' ' };

function escapeChar(c: string): string {
  const named = NAMED[c];
  if (named !== undefined) return named;
  const code = c.charCodeAt(0);
  return code < 0x100 ? `\\x${code.toString(16).padStart(2, '0')}` : `\\u${code.toString(16).padStart(4, '0')}`;
}

/**
 * sanitizeTerminalText makes a remote-originated string harmless on a terminal: escape sequences
 * and other control characters become visible text (`\x1b`, `\r`, `\x07`, `\u202e`), so a pod name,
 * process name or captured line cannot move the cursor, recolour or rewrite what the user sees
 * (hubble's printer/terminal.go does the same). Tabs become a space so columns stay aligned.
 */
export function sanitizeTerminalText(text: string): string {
  return UNSAFE.test(text) ? text.replace(UNSAFE_ALL, escapeChar) : text;
}

function sanitizeValue(value: unknown): unknown {
  if (typeof value === 'string') return sanitizeTerminalText(value);
  if (Array.isArray(value)) return value.map(sanitizeValue);
  if (value !== null && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [key, inner] of Object.entries(value)) out[sanitizeTerminalText(key)] = sanitizeValue(inner);
    return out;
  }
  return value;
}

/**
 * sanitizeReport returns a copy of the report with every string (and every facts key) passed
 * through sanitizeTerminalText. Text renderers start from it, so no field can slip through.
 */
export function sanitizeReport(report: HopReport): HopReport {
  return sanitizeValue(report) as HopReport;
}

/**
 * C1 controls, DEL and the bidi controls that JSON.stringify and YAML leave raw (they escape C0
 * only). Written as \uXXXX escapes, they read back as the same data and cannot act on a terminal.
 */
const UNESCAPED_BY_SERIALIZERS = /[\u007f-\u009f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/g;

/** hasSerializerUnsafe: a string a data serializer would leave with a raw C1, DEL or bidi control. */
export function hasSerializerUnsafe(text: string): boolean {
  UNESCAPED_BY_SERIALIZERS.lastIndex = 0;
  return UNESCAPED_BY_SERIALIZERS.test(text);
}

/**
 * escapeSerialized writes those characters of JSON (or double-quoted YAML) text as \uXXXX; valid
 * wherever they stand inside a quoted string, which is the only place a serializer puts them.
 */
export function escapeSerialized(text: string): string {
  return text.replace(UNESCAPED_BY_SERIALIZERS, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}
