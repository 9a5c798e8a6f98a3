import { readFileSync } from 'node:fs';

/**
 * splitProvenance separates a real-output fixture's provenance header (lines up to and including
 * `# ---`) from the verbatim tool output. Files without a header (the seed captures) have an empty one.
 */
export function splitProvenance(text: string): { header: string[]; body: string[]; bodyStartLine: number } {
  const lines = text.split('\n');
  if (lines.length > 0 && lines[lines.length - 1] === '') lines.pop();
  const end = lines.indexOf('# ---');
  if (!lines[0]?.startsWith('# source:') || end < 0) return { header: [], body: lines, bodyStartLine: 1 };
  return { header: lines.slice(0, end + 1), body: lines.slice(end + 1), bodyStartLine: end + 2 };
}

/** readFixture reads a fixture file and splits off its provenance header. */
export function readFixture(path: string): { header: string[]; body: string[]; bodyStartLine: number } {
  return splitProvenance(readFileSync(path, 'utf8'));
}
