import { createReadStream } from 'node:fs';
import { open, readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { InputCatalog, InputProblem, InputSource } from '../app/ports.js';

/** fileSource reads a file lazily: nothing is opened until the use case asks. */
export function fileSource(path: string): InputSource {
  return {
    name: path,
    async head(max: number): Promise<Uint8Array> {
      const fh = await open(path, 'r');
      try {
        const buf = new Uint8Array(max);
        const { bytesRead } = await fh.read(buf, 0, max, 0);
        return buf.subarray(0, bytesRead);
      } finally {
        await fh.close();
      }
    },
    chunks(): AsyncIterable<Uint8Array> {
      return createReadStream(path, { highWaterMark: 1 << 20 });
    },
  };
}

/** The page `trace --save DIR` writes beside the raw outputs: a report, not an input, so `analyze DIR` passes over it. */
export const SAVED_HTML_REPORT = 'report.html';

/** fileCatalog expands paths on the local file system; hidden files and the saved report.html in directories are skipped. */
export const fileCatalog: InputCatalog = {
  async open(paths: string[]) {
    const sources: InputSource[] = [];
    const problems: InputProblem[] = [];
    for (const p of paths) {
      let st;
      try {
        st = await stat(p);
      } catch (err) {
        problems.push({ name: p, message: describeFsError(err, p) });
        continue;
      }
      if (st.isDirectory()) {
        let names: string[];
        try {
          names = (await readdir(p)).filter((n) => !n.startsWith('.') && n !== SAVED_HTML_REPORT).sort();
        } catch (err) {
          problems.push({ name: p, message: describeFsError(err, p) });
          continue;
        }
        let any = false;
        for (const n of names) {
          const full = join(p, n);
          const s = await stat(full).catch(() => undefined);
          if (s?.isFile()) {
            sources.push(fileSource(full));
            any = true;
          }
        }
        if (!any) problems.push({ name: p, message: `${p} is a directory with no files in it: give files or a --save directory` });
      } else {
        sources.push(fileSource(p));
      }
    }
    return { sources, problems };
  },
};

function describeFsError(err: unknown, path: string): string {
  const code = (err as NodeJS.ErrnoException)?.code;
  if (code === 'ENOENT') return `${path} does not exist: check the path`;
  if (code === 'EACCES' || code === 'EPERM') return `${path} cannot be read (permission denied): check its permissions or run as its owner`;
  return `${path} cannot be read: ${(err as Error)?.message ?? String(err)}`;
}
