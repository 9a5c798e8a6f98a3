import { spawnSync } from 'node:child_process';

/** Which of `tools` are not on PATH. */
export function missingTools(tools: string[]): string[] {
  return tools.filter((t) => spawnSync('sh', ['-c', `command -v "$1"`, 'sh', t], { encoding: 'utf8' }).status !== 0);
}

/**
 * describeWithTools is `describe` for tests that run real programs (tshark, kubectl): outside CI a
 * missing program skips them with a printed reason; with CI=true the skip becomes a failing test,
 * since .ci/run installs them and a skip there would hide a broken setup.
 */
export function describeWithTools(name: string, tools: string[], body: () => void): void {
  const missing = missingTools(tools);
  if (missing.length === 0) {
    describe(name, body);
    return;
  }
  const reason = `${missing.join(', ')} not on PATH`;
  if (process.env.CI === 'true') {
    describe(name, () => {
      it(`has ${tools.join(', ')} (required in CI)`, () => {
        throw new Error(`${reason}; CI=true forbids skipping these tests`);
      });
    });
    return;
  }
  process.stderr.write(`skipping "${name}": ${reason}\n`);
  describe.skip(name, body);
}
