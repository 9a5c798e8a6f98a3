/**
 * A comment header saved above a tool's output: `#` lines from the top of the file that end with a
 * `# ---` line (`# source: ...`, `# tool-version: ...`, `# command: ...`, `# note: ...`, `# ---`),
 * the way transcripts are filed with their provenance. It describes the output; it is no line of
 * the tool's. Only a block closed by `# ---` counts: `#` lines that are not closed so (a root
 * prompt `# tcpdump -i eth0`, a comment in the output) stay the input's own lines, understood or not.
 */
const HEADER_END = /^#\s*-{3,}\s*$/;
/** A header is a few lines: a longer run of `#` lines without its end is the input's own. */
const MAX_HEADER_LINES = 64;

export class CommentHeader {
  /** Lines held while it is not yet known whether they are a header; undefined once decided. */
  private held: string[] | undefined = [];
  /** Lines of the header found (its `# ---` included); 0 when there was none. */
  lines = 0;

  /** Whether the header (or its absence) is known: then every further line is the input's own. */
  get decided(): boolean {
    return this.held === undefined;
  }

  /** Takes the next line: `pass` gets every line that is not the header's, in order. */
  push(line: string, pass: (line: string) => void): void {
    const held = this.held;
    if (!held) return pass(line);
    const t = line.trim();
    if (t === '' || t.startsWith('#')) {
      if (t.startsWith('#') && HEADER_END.test(t)) {
        // Blank lines before the header are no lines of anything either.
        this.lines = held.length + 1;
        this.held = undefined;
        return;
      }
      held.push(line);
      if (held.length <= MAX_HEADER_LINES) return;
    }
    this.release(pass);
    if (held.length <= MAX_HEADER_LINES) pass(line);
  }

  /** The input ended: lines still held were no header. */
  end(pass: (line: string) => void): void {
    this.release(pass);
  }

  private release(pass: (line: string) => void): void {
    const held = this.held;
    this.held = undefined;
    for (const l of held ?? []) pass(l);
  }
}

/** The text without its comment header: the header's lines left empty, so line numbers stay the file's. */
export function blankCommentHeader(text: string): string {
  const header = new CommentHeader();
  let at = 0;
  let lineNo = 0;
  while (at < text.length && header.lines === 0 && lineNo <= MAX_HEADER_LINES + 1) {
    const nl = text.indexOf('\n', at);
    const end = nl < 0 ? text.length : nl;
    header.push(text.slice(at, end), () => undefined);
    lineNo++;
    at = end + 1;
  }
  if (header.lines === 0) return text;
  return '\n'.repeat(lineNo) + text.slice(Math.min(at, text.length));
}
