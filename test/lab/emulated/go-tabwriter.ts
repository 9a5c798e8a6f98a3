/**
 * Go's text/tabwriter (AlignLeft, no flags), which Cilium's CLI prints its tables and status
 * through: cells are tab-terminated, a column's width is the widest cell of its block of
 * consecutive lines plus padding, and the last cell of a line is not aligned. Ported from the
 * algorithm (format/writeLines), so the emulated output has the real output's spacing.
 */

interface Cell {
  text: string;
  width: number;
}

export class GoTabWriter {
  private readonly lines: Cell[][] = [[]];
  private cell = '';
  private widths: number[] = [];
  private out = '';

  constructor(
    private readonly minwidth: number,
    private readonly padding: number,
  ) {}

  /** Writes text; like Go's Writer, a line without tabs flushes the block before it. */
  write(text: string): this {
    for (const ch of text) {
      if (ch === '\t') {
        this.terminateCell();
      } else if (ch === '\n') {
        const ncells = this.terminateCell();
        this.lines.push([]);
        if (ncells === 1) this.flushLines();
      } else {
        this.cell += ch;
      }
    }
    return this;
  }

  /** Formats everything written so far and returns the text. */
  flush(): string {
    if (this.cell.length > 0) this.terminateCell();
    this.flushLines();
    const out = this.out;
    this.out = '';
    return out;
  }

  private terminateCell(): number {
    const line = this.lines[this.lines.length - 1];
    line.push({ text: this.cell, width: [...this.cell].length });
    this.cell = '';
    return line.length;
  }

  private flushLines(): void {
    // The trailing empty line (after the last newline) carries no cell yet.
    const last = this.lines[this.lines.length - 1];
    const pending = last.length === 0 ? this.lines.length - 1 : this.lines.length;
    this.format(0, pending);
    this.lines.splice(0, pending);
    if (this.lines.length === 0) this.lines.push([]);
  }

  private format(line0: number, line1: number): void {
    const column = this.widths.length;
    for (let line = line0; line < line1; line++) {
      if (column >= this.lines[line].length - 1) continue;
      this.writeLines(line0, line);
      line0 = line;
      let width = this.minwidth;
      for (; line < line1; line++) {
        const cells = this.lines[line];
        if (column >= cells.length - 1) break;
        width = Math.max(width, cells[column].width + this.padding);
      }
      this.widths.push(width);
      this.format(line0, line);
      this.widths.pop();
      // Go's loop then skips the line that ended the block: it has too few cells to start one.
      line0 = line;
    }
    this.writeLines(line0, line1);
  }

  private writeLines(line0: number, line1: number): void {
    for (let i = line0; i < line1; i++) {
      const cells = this.lines[i];
      cells.forEach((c, j) => {
        this.out += c.text;
        if (j < this.widths.length) this.out += ' '.repeat(Math.max(0, this.widths[j] - c.width));
      });
      this.out += '\n';
    }
  }
}

/** Formats a whole text through a fresh tabwriter. */
export function tabwrite(text: string, minwidth: number, padding: number): string {
  return new GoTabWriter(minwidth, padding).write(text).flush();
}
