import { isAscii } from 'node:buffer';

/**
 * A Latin-1 copy of bytes [start, end). Buffer's own latin1Slice (public on every Node release,
 * though not in the docs or the types) when there is one: toString('latin1', ...) checks its
 * arguments and looks up its encoding by name on each call, at one call per line about 7% of
 * analyze's time on the 1M-line bench.
 */
const latin1: (buf: Buffer, start: number, end: number) => string =
  typeof (Buffer.prototype as { latin1Slice?: unknown }).latin1Slice === 'function'
    ? (buf, start, end) => (buf as Buffer & { latin1Slice(start: number, end: number): string }).latin1Slice(start, end)
    : (buf, start, end) => buf.toString('latin1', start, end);

/**
 * LineSplitter cuts the byte chunks of a UTF-8 file into lines (without `\n` or a `\r` before it).
 * Tool output is nearly always ASCII: such a chunk is split on its bytes and each line copied out
 * as Latin-1 (the same text), which gives parsers flat strings of their own instead of slices of a
 * chunk-sized string. Any other chunk, and the chunk after one that ended inside a character,
 * goes through a streaming UTF-8 decoder, so the text is exactly what TextDecoder alone gives.
 */
export class LineSplitter {
  private readonly decoder = new TextDecoder();
  /** The decoder may hold the first bytes of a character cut by the chunk boundary. */
  private decoderHolds = false;
  /** The start of a line the next chunk ends. */
  private carry = '';
  /** The carried line passed maxLine: the rest of it is skipped up to its newline. */
  private carryOver = false;

  /**
   * maxLine bounds the memory one line can take: a line carried across chunks keeps its first
   * maxLine + 1 characters only (the caller sees it is too long by its length). Lines inside one
   * chunk are at most the chunk long.
   */
  constructor(private readonly maxLine = Infinity) {}

  push(chunk: Uint8Array, onLine: (line: string) => void): void {
    if (!this.decoderHolds && isAscii(chunk)) {
      this.pushAscii(Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength), onLine);
      return;
    }
    this.decoderHolds = chunk.byteLength > 0 && chunk[chunk.byteLength - 1] >= 0x80;
    this.pushText(this.decoder.decode(chunk, { stream: true }), onLine);
  }

  /** The last line when the file does not end with a newline (a cut character becomes U+FFFD). */
  end(onLine: (line: string) => void): void {
    this.decoderHolds = false;
    const tail = this.decoder.decode();
    const rest = this.carryOver ? this.carry : this.carry + tail;
    this.carry = '';
    this.carryOver = false;
    if (rest.length) onLine(rest);
  }

  /** Keeps the start of a line the next chunk ends, up to maxLine + 1 characters. */
  private keep(text: string): void {
    if (this.carryOver) return;
    this.carry += text;
    if (this.carry.length > this.maxLine) {
      this.carry = this.carry.slice(0, this.maxLine + 1);
      this.carryOver = true;
    }
  }

  /** The carried line ends at a newline: what to hand on, and a fresh carry. */
  private finish(ended: string): string {
    const line = this.carryOver ? this.carry : this.carry + ended;
    this.carry = '';
    this.carryOver = false;
    return line;
  }

  private pushAscii(buf: Buffer, onLine: (line: string) => void): void {
    let start = 0;
    let nl = buf.indexOf(10);
    if (nl >= 0 && this.carry.length) {
      onLine(withoutCr(this.finish(this.carryOver ? '' : latin1(buf, 0, nl))));
      start = nl + 1;
      nl = buf.indexOf(10, start);
    }
    while (nl >= 0) {
      onLine(latin1(buf, start, nl > start && buf[nl - 1] === 13 ? nl - 1 : nl));
      start = nl + 1;
      nl = buf.indexOf(10, start);
    }
    if (start < buf.length && !this.carryOver) this.keep(latin1(buf, start, buf.length));
  }

  private pushText(decoded: string, onLine: (line: string) => void): void {
    let text = decoded;
    let start = 0;
    let nl = text.indexOf('\n');
    if (this.carryOver) {
      if (nl < 0) return;
      onLine(withoutCr(this.finish('')));
      start = nl + 1;
      nl = text.indexOf('\n', start);
    } else {
      text = this.carry + decoded;
      nl = text.indexOf('\n');
    }
    while (nl >= 0) {
      onLine(text.slice(start, nl > start && text.charCodeAt(nl - 1) === 13 ? nl - 1 : nl));
      start = nl + 1;
      nl = text.indexOf('\n', start);
    }
    this.carry = '';
    this.keep(text.slice(start));
  }
}

function withoutCr(line: string): string {
  return line.charCodeAt(line.length - 1) === 13 ? line.slice(0, -1) : line;
}
