/**
 * describeUnless is `describe` for tests that need something of the machine (root, a program):
 * when `reason` says what is missing, a local run skips them and prints why; with CI=true the skip
 * becomes a failing test, since .ci/run provides everything and a skip there would hide a broken setup.
 */
export function describeUnless(reason: string | undefined, name: string, body: () => void, requirement: string): void {
  if (reason === undefined) {
    describe(name, body);
    return;
  }
  if (process.env.CI === 'true') {
    describe(name, () => {
      it(`${requirement} (required in CI)`, () => {
        throw new Error(`${reason}; CI=true forbids skipping these tests`);
      });
    });
    return;
  }
  process.stderr.write(`skipping "${name}": ${reason}\n`);
  describe.skip(name, body);
}
