import { execFileSync } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { addNoteSegment, flipFuse, NODE_SEA_FUSE } from './elf-note.js';

/**
 * buildSingleExecutable turns a CommonJS bundle into one executable that needs no Node.js on the
 * user's machine (Node 20 single executable application): the blob comes from
 * `node --experimental-sea-config` of this very node binary (a blob only runs in the binary that
 * made it), with V8's code cache so the 6 MB script is not compiled at every start, and is put
 * into a copy of that binary as an ELF note (elf-note.ts). Linux ELF only: this machine's node.
 */
export function buildSingleExecutable(bundle: string, outFile: string, nodeBinary = process.execPath): { bytes: number } {
  if (process.platform !== 'linux') throw new Error(`a single executable is built on Linux only (this is ${process.platform})`);
  const work = mkdtempSync(join(tmpdir(), 'datapath-sea-'));
  try {
    const blob = join(work, 'sea-prep.blob');
    const config = join(work, 'sea-config.json');
    writeFileSync(config, JSON.stringify({ main: bundle, output: blob, disableExperimentalSEAWarning: true, useCodeCache: true }));
    execFileSync(nodeBinary, ['--experimental-sea-config', config], { stdio: ['ignore', 'ignore', 'pipe'] });
    const exe = addNoteSegment(new Uint8Array(readFileSync(nodeBinary)), 'NODE_SEA_BLOB', new Uint8Array(readFileSync(blob)));
    flipFuse(exe, NODE_SEA_FUSE);
    writeFileSync(outFile, exe);
    chmodSync(outFile, 0o755);
    return { bytes: exe.length };
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}
