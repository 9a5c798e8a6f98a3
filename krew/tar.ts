import { gzip } from 'node:zlib';
import { promisify } from 'node:util';

/** A file to put into an archive; a directory entry has a name ending in `/` and no data. */
export interface ArchiveFile {
  name: string;
  data: Uint8Array;
  /** Unix permission bits: 0o755 for executables and directories, 0o644 otherwise. */
  mode: number;
}

const BLOCK = 512;
const ENCODER = new TextEncoder();

function field(header: Uint8Array, at: number, length: number, text: string): void {
  const bytes = ENCODER.encode(text);
  if (bytes.length > length) throw new Error(`tar header field too long: ${text}`);
  header.set(bytes, at);
}

function octal(value: number, length: number): string {
  return `${value.toString(8).padStart(length - 1, '0')}\0`;
}

/**
 * ustarHeader: one POSIX ustar header. Owner root, mtime 0: the same inputs always give the same
 * bytes, so the sha256 in plugin.yaml changes only when a file does.
 */
function ustarHeader(file: ArchiveFile): Uint8Array {
  const header = new Uint8Array(BLOCK);
  field(header, 0, 100, file.name);
  field(header, 100, 8, octal(file.mode, 8));
  field(header, 108, 8, octal(0, 8));
  field(header, 116, 8, octal(0, 8));
  field(header, 124, 12, octal(file.data.length, 12));
  field(header, 136, 12, octal(0, 12));
  field(header, 148, 8, '        ');
  // Directories get entries of their own: older krew releases create no parent directories.
  field(header, 156, 1, file.name.endsWith('/') ? '5' : '0');
  field(header, 257, 6, 'ustar\0');
  field(header, 263, 2, '00');
  field(header, 265, 32, 'root');
  field(header, 297, 32, 'root');
  const sum = header.reduce((a, b) => a + b, 0);
  field(header, 148, 8, `${sum.toString(8).padStart(6, '0')}\0 `);
  return header;
}

/** tarGz packs files, in the order given, into a gzip-compressed ustar archive. */
export async function tarGz(files: ArchiveFile[], level = 6): Promise<Uint8Array> {
  const size = files.reduce((n, f) => n + BLOCK + Math.ceil(f.data.length / BLOCK) * BLOCK, 2 * BLOCK);
  const tar = new Uint8Array(size);
  let at = 0;
  for (const f of files) {
    tar.set(ustarHeader(f), at);
    tar.set(f.data, at + BLOCK);
    at += BLOCK + Math.ceil(f.data.length / BLOCK) * BLOCK;
  }
  return new Uint8Array(await promisify(gzip)(tar, { level }));
}
