import { readFileSync } from 'node:fs';
import { addNoteSegment, flipFuse, NODE_SEA_FUSE, programHeaders } from '../../../krew/elf-note.js';

/** The node binary running this test: the one a single executable is made from. */
const node = new Uint8Array(readFileSync(process.execPath));
const PT_LOAD = 1;
const PT_NOTE = 4;
const PT_PHDR = 6;

describe('adding the single-executable blob to the node binary as an ELF note', () => {
  const blob = new TextEncoder().encode('the blob, 27 bytes of it :)');
  const out = addNoteSegment(node, 'NODE_SEA_BLOB', blob);
  const before = programHeaders(node);
  const after = programHeaders(out);

  it('keeps every byte of the original file and appends one segment', () => {
    // Compared as buffers: jest's deep equality would walk 100 MB element by element.
    expect(Buffer.compare(out.subarray(64, node.length), node.subarray(64))).toBe(0);
    expect(after).toHaveLength(before.length + 2);
  });

  it('maps the moved program header table at bias + offset, where PT_PHDR says it is', () => {
    const phdr = after.find((h) => h.type === PT_PHDR)!;
    const firstLoad = before.filter((h) => h.type === PT_LOAD).reduce((a, b) => (b.vaddr < a.vaddr ? b : a));
    const view = new DataView(out.buffer, out.byteOffset);
    expect(phdr.offset).toBe(view.getBigUint64(0x20, true));
    expect(phdr.vaddr - phdr.offset).toBe(firstLoad.vaddr - firstLoad.offset);
    const newLoad = after.filter((h) => h.type === PT_LOAD).at(-1)!;
    expect(newLoad.offset).toBe(phdr.offset);
    expect(newLoad.filesz).toBeGreaterThan(phdr.filesz);
    // Loads stay in address order, the new one past every other segment in memory.
    const loads = after.filter((h) => h.type === PT_LOAD);
    for (let i = 1; i < loads.length; i++) expect(loads[i].vaddr >= loads[i - 1].vaddr + loads[i - 1].memsz).toBe(true);
  });

  it('holds the note Node looks for: name NODE_SEA_BLOB, the blob as its description', () => {
    const note = after.filter((h) => h.type === PT_NOTE).at(-1)!;
    const at = Number(note.offset);
    const view = new DataView(out.buffer, out.byteOffset);
    expect(view.getUint32(at, true)).toBe('NODE_SEA_BLOB'.length + 1);
    expect(view.getUint32(at + 4, true)).toBe(blob.length);
    expect(new TextDecoder().decode(out.subarray(at + 12, at + 12 + 13))).toBe('NODE_SEA_BLOB');
    expect(Buffer.compare(out.subarray(at + 28, at + 28 + blob.length), blob)).toBe(0);
  });

  it('flips the fuse once and refuses a binary that was already injected', () => {
    const copy = out.slice();
    flipFuse(copy, NODE_SEA_FUSE);
    expect(Buffer.from(copy).indexOf(`${NODE_SEA_FUSE}:1`)).toBeGreaterThan(0);
    expect(() => flipFuse(copy, NODE_SEA_FUSE)).toThrow(/found it 0 times \(already injected\?\)/);
    expect(() => programHeaders(new TextEncoder().encode('#!/bin/sh\n'))).toThrow('not an ELF file');
  });
});
