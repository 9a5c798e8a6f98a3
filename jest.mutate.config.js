// Jest for `npm run mutate`: the unit tests of the correlate rules only (test/unit/core/correlate),
// which analyse the public fixtures they need through the real parsers. The golden and other
// suites also reach these rules, but they analyse every fixture: 10-20 s per mutant instead of a
// few. The environment stops a mutant's run at its first failing test (see bail-environment.cjs).
import { fileURLToPath } from 'node:url';
import base from './jest.config.js';

export default {
  ...base,
  testMatch: ['<rootDir>/test/mutate/correlate.mutate.test.ts'],
  testEnvironment: fileURLToPath(new URL('./test/mutate/bail-environment.cjs', import.meta.url)),
};
