// Jest for `npm run mutate`: the suites that exercise the report's rules without root or a lab.
import base from './jest.config.js';

export default { ...base, testMatch: ['<rootDir>/test/unit/**/*.test.ts', '<rootDir>/test/golden/**/*.test.ts'] };
