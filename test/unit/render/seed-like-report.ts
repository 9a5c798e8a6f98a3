import { readFileSync } from 'node:fs';
import type { HopReport } from '../../../src/core/model/report.js';

/** The hand-built report every renderer test starts from (see test/fixtures/report/). */
export const SEED_LIKE_REPORT_PATH = 'test/fixtures/report/seed-like-report.json';

/** loadSeedLikeReport returns a fresh copy, so a test may mutate it. */
export function loadSeedLikeReport(): HopReport {
  return JSON.parse(readFileSync(SEED_LIKE_REPORT_PATH, 'utf8')) as HopReport;
}

/** goldenPath names a renderer's golden output file. */
export function goldenPath(name: string): string {
  return `test/golden/render/${name}`;
}
