import Table from 'cli-table3';

/** ColumnRow is one row of layoutColumns: cells (already wrapped, may hold '\n') and lines printed under it as they are. */
export interface ColumnRow {
  cells: string[];
  below?: string[];
}

const NO_BORDER = {
  top: '', 'top-mid': '', 'top-left': '', 'top-right': '',
  bottom: '', 'bottom-mid': '', 'bottom-left': '', 'bottom-right': '',
  left: '', 'left-mid': '', mid: '', 'mid-mid': '', right: '', 'right-mid': '', middle: '',
};

/**
 * layoutColumns aligns rows into borderless columns (kubectl style) with cli-table3 and returns
 * the lines, trailing spaces trimmed. Cells must already be wrapped to fit: no column width is
 * imposed, because cli-table3 truncates (`…`) what exceeds one, and a report must not lose text.
 * `minWidths` keeps columns aligned across separate tables (one per packet).
 */
export function layoutColumns(rows: ColumnRow[], opts: { indent: number; gap: number; minWidths: number[] }): string[] {
  if (rows.length === 0) return [];
  const table = new Table({
    chars: { ...NO_BORDER, left: ' '.repeat(opts.indent), middle: ' '.repeat(opts.gap) },
    // cli-table3 colours heads red and borders grey by default (through @colors/colors, which
    // looks at the environment); the renderers colour text themselves, only when asked.
    style: { head: [], border: [], 'padding-left': 0, 'padding-right': 0 },
  });
  // A first row of blanks gives each column its minimum width; its line is dropped below.
  const columns = Math.max(opts.minWidths.length, ...rows.map((r) => r.cells.length));
  table.push(Array.from({ length: columns }, (_, i) => ' '.repeat(opts.minWidths[i] ?? 0)));
  for (const row of rows) table.push(row.cells);
  const lines = table.toString().split('\n').slice(1).map((line) => line.trimEnd());
  const out: string[] = [];
  let at = 0;
  for (const row of rows) {
    const height = Math.max(1, ...row.cells.map((cell) => cell.split('\n').length));
    out.push(...lines.slice(at, at + height), ...(row.below ?? []));
    at += height;
  }
  return out;
}
