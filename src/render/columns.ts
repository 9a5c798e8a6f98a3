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
export function layoutColumns(allRows: ColumnRow[], opts: { indent: number; gap: number; minWidths: number[] }): string[] {
  if (allRows.length === 0) return [];
  const { rows, overflow } = capCells(allRows);
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
  const offsets = columnOffsets(rows, opts);
  rows.forEach((row, r) => {
    const height = Math.max(1, ...row.cells.map((cell) => cell.split('\n').length));
    const rest = overflow[r].flatMap((more, c) => more.map((line) => ' '.repeat(offsets[c]) + line));
    out.push(...lines.slice(at, at + height), ...rest, ...(row.below ?? []));
    at += height;
  });
  return out;
}

/**
 * cli-table3 lays a cell out in time cubic in its lines (one cell of 80 lines: 47 s; an 8 kB
 * tcpdump line wraps to 130): the table gets the first MAX_CELL_LINES lines of a cell, and the
 * rest print under the row, in the cell's own column, so no text is lost.
 */
const MAX_CELL_LINES = 4;

function capCells(rows: ColumnRow[]): { rows: ColumnRow[]; overflow: string[][][] } {
  const overflow: string[][][] = [];
  const capped = rows.map((row) => {
    const more: string[][] = [];
    const cells = row.cells.map((cell, c) => {
      const lines = cell.split('\n');
      more[c] = lines.slice(MAX_CELL_LINES);
      return lines.length > MAX_CELL_LINES ? lines.slice(0, MAX_CELL_LINES).join('\n') : cell;
    });
    overflow.push(more);
    return { ...row, cells };
  });
  return { rows: capped, overflow };
}

/** Where each column starts, as cli-table3 lays them out: the widest line of each (colours not counted). */
function columnOffsets(rows: ColumnRow[], opts: { indent: number; gap: number; minWidths: number[] }): number[] {
  const widths: number[] = [...opts.minWidths];
  for (const row of rows) {
    row.cells.forEach((cell, c) => {
      for (const line of cell.split('\n')) widths[c] = Math.max(widths[c] ?? 0, visibleWidth(line));
    });
  }
  const offsets: number[] = [];
  let x = opts.indent;
  for (const w of widths) {
    offsets.push(x);
    x += w + opts.gap;
  }
  return offsets;
}

function visibleWidth(line: string): number {
  // eslint-disable-next-line no-control-regex
  return [...line.replace(/\x1b\[[0-9;]*m/g, '')].length;
}
