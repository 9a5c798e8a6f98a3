/**
 * Puts a Node single-executable blob into a copy of the node binary without postject: Node finds
 * the blob as an ELF note named NODE_SEA_BLOB in a PT_NOTE segment of the running executable
 * (postject-api.h walks the main program's program headers from dl_iterate_phdr), and only
 * looks once the sentinel fuse reads `:1`.
 *
 * The program header table has no room for the two headers this needs, so it moves: a copy with
 * the new PT_LOAD and PT_NOTE goes into a new segment appended at the end of the file, mapped at
 * `bias + fileOffset` (bias = vaddr - offset of the first PT_LOAD). At that address both ways
 * kernels compute AT_PHDR agree (older: first load address + e_phoff; 5.18+: the PT_LOAD that
 * contains e_phoff), and PT_PHDR is updated so ld.so computes the same load bias as before.
 */

const PT_LOAD = 1;
const PT_NOTE = 4;
const PT_PHDR = 6;
const PF_R = 4;
const PHDR_SIZE = 56;

/** The fuse Node 20 checks before it looks for a blob (src/node_sea.cc). */
export const NODE_SEA_FUSE = 'NODE_SEA_FUSE_fce680ab2cc467b6e072b8b5df1996b2';

interface ProgramHeader {
  type: number;
  flags: number;
  offset: bigint;
  vaddr: bigint;
  paddr: bigint;
  filesz: bigint;
  memsz: bigint;
  align: bigint;
}

function readHeader(view: DataView, at: number): ProgramHeader {
  return {
    type: view.getUint32(at, true),
    flags: view.getUint32(at + 4, true),
    offset: view.getBigUint64(at + 8, true),
    vaddr: view.getBigUint64(at + 16, true),
    paddr: view.getBigUint64(at + 24, true),
    filesz: view.getBigUint64(at + 32, true),
    memsz: view.getBigUint64(at + 40, true),
    align: view.getBigUint64(at + 48, true),
  };
}

function writeHeader(view: DataView, at: number, h: ProgramHeader): void {
  view.setUint32(at, h.type, true);
  view.setUint32(at + 4, h.flags, true);
  view.setBigUint64(at + 8, h.offset, true);
  view.setBigUint64(at + 16, h.vaddr, true);
  view.setBigUint64(at + 24, h.paddr, true);
  view.setBigUint64(at + 32, h.filesz, true);
  view.setBigUint64(at + 40, h.memsz, true);
  view.setBigUint64(at + 48, h.align, true);
}

function alignUp(n: bigint, to: bigint): bigint {
  return ((n + to - 1n) / to) * to;
}

/** The program headers of a 64-bit little-endian ELF executable; throws for anything else. */
export function programHeaders(elf: Uint8Array): ProgramHeader[] {
  const view = new DataView(elf.buffer, elf.byteOffset, elf.byteLength);
  if (elf.length < 64 || view.getUint32(0, false) !== 0x7f454c46) throw new Error('not an ELF file');
  if (elf[4] !== 2 || elf[5] !== 1) throw new Error('only 64-bit little-endian ELF executables are supported');
  const phoff = Number(view.getBigUint64(0x20, true));
  const phentsize = view.getUint16(0x36, true);
  const phnum = view.getUint16(0x38, true);
  if (phentsize !== PHDR_SIZE) throw new Error(`unexpected program header size ${phentsize}`);
  return Array.from({ length: phnum }, (_, i) => readHeader(view, phoff + i * PHDR_SIZE));
}

/** An ELF note: namesz, descsz, type, then name and desc each padded to 4 bytes. */
function note(name: string, desc: Uint8Array): Uint8Array {
  const nameBytes = new TextEncoder().encode(`${name}\0`);
  const nameLen = (nameBytes.length + 3) & ~3;
  const out = new Uint8Array(12 + nameLen + ((desc.length + 3) & ~3));
  const view = new DataView(out.buffer);
  view.setUint32(0, nameBytes.length, true);
  view.setUint32(4, desc.length, true);
  view.setUint32(8, 0, true);
  out.set(nameBytes, 12);
  out.set(desc, 12 + nameLen);
  return out;
}

/** addNoteSegment returns a copy of `elf` with a new loaded PT_NOTE segment holding note `name` = `desc`. */
export function addNoteSegment(elf: Uint8Array, name: string, desc: Uint8Array): Uint8Array {
  const headers = programHeaders(elf);
  const loads = headers.filter((h) => h.type === PT_LOAD);
  if (loads.length === 0) throw new Error('no PT_LOAD segment');
  const first = loads.reduce((a, b) => (b.vaddr < a.vaddr ? b : a));
  if (first.offset !== 0n) throw new Error('the first PT_LOAD does not map the ELF header');
  const page = loads.reduce((max, h) => (h.align > max ? h.align : max), 0x1000n);
  const bias = first.vaddr - first.offset;
  const endOfImage = loads.reduce((max, h) => (h.vaddr + h.memsz > max ? h.vaddr + h.memsz : max), 0n);
  // File offset of the new segment: past the file, and mapped past every existing segment.
  let offset = alignUp(BigInt(elf.length), page);
  if (bias + offset < alignUp(endOfImage, page)) offset = alignUp(endOfImage, page) - bias;

  const count = headers.length + 2;
  const tableSize = BigInt(count * PHDR_SIZE);
  const noteAt = alignUp(tableSize, 8n);
  const noteBytes = note(name, desc);
  const segmentSize = noteAt + BigInt(noteBytes.length);
  const vaddr = bias + offset;

  const load: ProgramHeader = { type: PT_LOAD, flags: PF_R, offset, vaddr, paddr: vaddr, filesz: segmentSize, memsz: segmentSize, align: page };
  const noteHeader: ProgramHeader = {
    type: PT_NOTE, flags: PF_R, offset: offset + noteAt, vaddr: vaddr + noteAt, paddr: vaddr + noteAt,
    filesz: BigInt(noteBytes.length), memsz: BigInt(noteBytes.length), align: 4n,
  };
  const table: ProgramHeader[] = [];
  const lastLoad = headers.lastIndexOf(loads.reduce((a, b) => (b.vaddr > a.vaddr ? b : a)));
  headers.forEach((h, i) => {
    table.push(h.type === PT_PHDR ? { ...h, offset, vaddr, paddr: vaddr, filesz: tableSize, memsz: tableSize } : h);
    // PT_LOAD entries must stay sorted by address: the new one, highest, follows the last.
    if (i === lastLoad) table.push(load);
  });
  table.push(noteHeader);

  const out = new Uint8Array(Number(offset + segmentSize));
  out.set(elf);
  const view = new DataView(out.buffer);
  table.forEach((h, i) => writeHeader(view, Number(offset) + i * PHDR_SIZE, h));
  out.set(noteBytes, Number(offset + noteAt));
  view.setBigUint64(0x20, offset, true);
  view.setUint16(0x38, count, true);
  return out;
}

/** flipFuse sets `<fuse>:0` to `<fuse>:1` in place; throws unless the fuse occurs exactly once. */
export function flipFuse(binary: Uint8Array, fuse: string): void {
  const needle = new TextEncoder().encode(`${fuse}:0`);
  const found: number[] = [];
  const text = Buffer.from(binary.buffer, binary.byteOffset, binary.byteLength);
  for (let at = text.indexOf(needle); at >= 0; at = text.indexOf(needle, at + 1)) found.push(at);
  if (found.length !== 1) throw new Error(`expected the fuse ${fuse}:0 once in the binary, found it ${found.length} times (already injected?)`);
  binary[found[0] + needle.length - 1] = '1'.charCodeAt(0);
}
