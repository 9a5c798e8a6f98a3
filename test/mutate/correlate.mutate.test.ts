// The tests of the correlate rules as one jest test file, for `npm run mutate`: the unit tests of
// test/unit/core/correlate and the seed's whole report (test/golden/analyze-seed.test.ts, the one
// golden that concludes from real captures; it alone pins the monitor's local-delivery evidence).
// Stryker runs every mutant through jest, which builds a fresh module registry for each test file:
// loading the parsers and rules once per file cost ~17 s per mutant, once in all ~1 s. Each
// imported file registers its describe/it blocks as it does on its own (none mocks a module or
// keeps state between files). `npx jest test/unit/core/correlate test/golden` runs them file by file.
import { readdirSync } from 'node:fs';

const dir = new URL('../unit/core/correlate/', import.meta.url);
const files = readdirSync(dir).filter((f) => f.endsWith('.test.ts')).sort();

it('finds the unit tests of the correlate rules', () => {
  expect(files.length).toBeGreaterThan(10);
});

for (const f of files) await import(new URL(f, dir).href);
await import('../golden/analyze-seed.test.js');
