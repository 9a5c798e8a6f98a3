#!/usr/bin/env bash
# The test command (npm test): type-check, then every jest suite, then one plain summary line
# ("N passed, N failed, N skipped") that CI and people can read without knowing jest.
set -uo pipefail
cd "$(dirname "$0")/.."
npx tsc -p tsconfig.json --noEmit || { echo "0 passed, 1 failed (type check)"; exit 1; }
out=$(mktemp)
NODE_OPTIONS=--experimental-vm-modules npx jest --runInBand --json --outputFile="$out" "$@"
rc=$?
node -e '
  const r = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"));
  const failedSuites = r.numFailedTestSuites - 0;
  console.log(`${r.numPassedTests} passed, ${r.numFailedTests + (r.numRuntimeErrorTestSuites || 0)} failed, ${r.numPendingTests + r.numTodoTests} skipped`);
' "$out" || echo "0 passed, 1 failed (no jest results)"
rm -f "$out"
exit $rc
