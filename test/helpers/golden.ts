import { mkdirSync, readFileSync, writeFileSync, existsSync } from 'node:fs';
import { dirname } from 'node:path';

/**
 * expectGolden compares `actual` with the golden file at `path`. With UPDATE_GOLDEN=1 it rewrites
 * the file instead, so the change shows up in the diff and is reviewed like code.
 */
export function expectGolden(actual: string, path: string): void {
  if (process.env.UPDATE_GOLDEN === '1') {
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(path, actual);
    return;
  }
  if (!existsSync(path)) {
    throw new Error(`golden file ${path} does not exist: run with UPDATE_GOLDEN=1 to create it, then review it`);
  }
  expect(actual).toBe(readFileSync(path, 'utf8'));
}
