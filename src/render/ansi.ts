/** AnsiStyle names the few SGR styles the text renderers use. */
export type AnsiStyle = 'bold' | 'dim' | 'red' | 'green' | 'yellow';

// Each style closes with its own reset (22: normal intensity, 39: default colour) rather than
// \x1b[0m, so a coloured word inside a bold line does not end the bold.
const CODES: Record<AnsiStyle, [string, string]> = {
  bold: ['\x1b[1m', '\x1b[22m'],
  dim: ['\x1b[2m', '\x1b[22m'],
  red: ['\x1b[31m', '\x1b[39m'],
  green: ['\x1b[32m', '\x1b[39m'],
  yellow: ['\x1b[33m', '\x1b[39m'],
};

/** paint wraps text in the style's ANSI codes when colour is on, and returns it unchanged otherwise. */
export function paint(text: string, style: AnsiStyle, color: boolean): string {
  if (!color || text === '') return text;
  const [on, off] = CODES[style];
  return on + text + off;
}
