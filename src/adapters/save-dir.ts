import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { TraceSave } from '../app/trace.js';

/** saveDir: `trace --save DIR` writes each raw output and run.json there (the directory is created). */
export function saveDir(dir: string): TraceSave {
  let made: Promise<unknown> | undefined;
  return {
    where: dir,
    async write(name, chunks) {
      made ??= mkdir(dir, { recursive: true });
      await made;
      await writeFile(join(dir, name), chunks);
    },
  };
}
