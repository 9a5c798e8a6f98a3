// ts-jest in ESM mode: @kubernetes/client-node and ora are ESM-only. Type checking is done once
// by `tsc --noEmit` in `npm test`, so ts-jest only transpiles (isolatedModules) to stay fast.
export default {
  preset: 'ts-jest/presets/default-esm',
  testEnvironment: 'node',
  extensionsToTreatAsEsm: ['.ts'],
  moduleNameMapper: { '^(\\.{1,2}/.*)\\.js$': '$1' },
  transform: { '^.+\\.ts$': ['ts-jest', { useESM: true, isolatedModules: true }] },
  testMatch: ['<rootDir>/test/**/*.test.ts'],
  // Stryker's sandboxes (npm run mutate) hold a copy of the project: not modules of this one.
  modulePathIgnorePatterns: ['<rootDir>/.stryker-tmp'],
  testTimeout: 30000,
};
