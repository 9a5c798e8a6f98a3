import { spawnSync } from 'node:child_process';
import { describeUnless } from './describe-if.js';

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
  describeUnless(missing.length ? `${missing.join(', ')} not on PATH` : undefined, name, body, `has ${tools.join(', ')}`);
}
