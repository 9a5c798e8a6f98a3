// Jest's node environment that stops a mutant's run at its first failing test.
// Stryker's jest runner cannot bail (it sets `bail: false`: jest does not support bail through its
// programmatic API), so every killed mutant would still run every test that covers it; for the
// correlate rules that is most of the suite, 10-20 s per mutant. One failing test is all Stryker
// needs to call a mutant killed, so once a test fails under the active mutant, the rest of that
// mutant's tests and describe blocks (with their beforeAll) are skipped.
// Outside a mutant run (the dry run, plain jest) nothing is skipped.
// The state is module-level: Stryker runs jest in band, and Node's require cache gives every test
// file of one run the same instance of this module.
const { TestEnvironment: NodeEnvironment } = require('jest-environment-node');

const bail = { mutant: undefined, failed: false };

function mutantFailedAlready() {
  const active = process.env.__STRYKER_ACTIVE_MUTANT__;
  if (active === undefined) return false;
  if (bail.mutant !== active) {
    bail.mutant = active;
    bail.failed = false;
  }
  return bail.failed;
}

class BailPerMutantEnvironment extends NodeEnvironment {
  async handleTestEvent(event) {
    if (event.name === 'run_describe_start' && mutantFailedAlready()) event.describeBlock.mode = 'skip';
    if (event.name === 'test_start' && mutantFailedAlready()) event.test.mode = 'skip';
    if ((event.name === 'test_fn_failure' || event.name === 'hook_failure') && process.env.__STRYKER_ACTIVE_MUTANT__ !== undefined) {
      mutantFailedAlready();
      bail.failed = true;
    }
  }
}

module.exports = BailPerMutantEnvironment;
