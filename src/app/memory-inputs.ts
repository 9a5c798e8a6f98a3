import type { InputCatalog, InputSource } from './ports.js';

/** MemoryFile: an output held in memory under the name it would have in a save directory. */
export interface MemoryFile {
  name: string;
  chunks: Uint8Array[];
}

/** memorySource: an InputSource over chunks already in memory. */
export function memorySource(file: MemoryFile): InputSource {
  return {
    name: file.name,
    async head(max: number): Promise<Uint8Array> {
      const out = new Uint8Array(Math.min(max, file.chunks.reduce((n, c) => n + c.length, 0)));
      let at = 0;
      for (const c of file.chunks) {
        if (at >= out.length) break;
        const part = c.subarray(0, out.length - at);
        out.set(part, at);
        at += part.length;
      }
      return out;
    },
    async *chunks(): AsyncIterable<Uint8Array> {
      yield* file.chunks;
    },
  };
}

/** memoryCatalog: the live trace's outputs as analyze's inputs, in the order a directory listing gives them. */
export function memoryCatalog(files: MemoryFile[]): InputCatalog {
  const byName = new Map(files.map((f) => [f.name, f]));
  return {
    async open(paths: string[]) {
      const sources: InputSource[] = [];
      const problems: { name: string; message: string }[] = [];
      for (const p of paths) {
        const f = byName.get(p);
        if (f) sources.push(memorySource(f));
        else problems.push({ name: p, message: `${p} was not kept` });
      }
      return { sources, problems };
    },
  };
}
