#!/usr/bin/env bash
# Mutation-test files in line ranges, one Stryker run per range, each adding to the incremental
# file (reports/stryker-incremental.json), so a run stopped early keeps what it finished.
# usage: bash test/mutate/run-chunks.sh src/core/correlate/classify.ts:1-150 src/core/correlate/classify.ts:151-260 ...
set -u
cd "$(dirname "$0")/../.."
for range in "$@"; do
  echo "=== $(date -u +%H:%M:%S) $range"
  npx stryker run --incremental --mutate "$range" || echo "=== stryker failed on $range"
done
echo "=== $(date -u +%H:%M:%S) done"
