import { readdirSync, statSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { TraceSave } from '../app/trace.js';
import { UsageError } from '../core/errors.js';

/**
 * checkSaveDir refuses, before the trace starts, a --save DIR that is a file or already holds
 * files (a trace never writes over an existing file without --force: an earlier run's outputs are
 * someone's evidence).
 */
export function checkSaveDir(dir: string, force: boolean): void {
  let entries: string[];
  try {
    if (!statSync(dir).isDirectory()) throw new UsageError(`--save ${JSON.stringify(dir)} is not a directory: give a new or empty directory`);
    entries = readdirSync(dir);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw err instanceof UsageError ? err : new UsageError(`--save ${JSON.stringify(dir)}: ${(err as Error).message}`);
  }
  if (entries.length > 0 && !force) {
    throw new UsageError(`--save ${JSON.stringify(dir)} already holds ${entries.length} file${entries.length === 1 ? '' : 's'} (${entries.slice(0, 3).join(', ')}${entries.length > 3 ? ', ...' : ''}): give a new or empty directory, or add --force to replace them`);
  }
}

/** saveDir: `trace --save DIR` writes each raw output and run.json there (the directory is created; an existing file is kept unless `force`). */
export function saveDir(dir: string, force = false): TraceSave {
  let made: Promise<unknown> | undefined;
  return {
    where: dir,
    async write(name, chunks) {
      made ??= mkdir(dir, { recursive: true });
      await made;
      await writeFile(join(dir, name), chunks, { flag: force ? 'w' : 'wx' });
    },
  };
}
