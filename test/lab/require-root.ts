/**
 * Lab tests build network namespaces, veths and BPF programs, which needs root. Outside CI a
 * non-root run skips them with a printed reason; in CI (CI=true) a skip would hide a broken
 * setup, so the suite fails instead.
 */

import { describeUnless } from '../helpers/describe-if.js';

/** Why lab tests cannot run here, or undefined when they can. */
export function rootMissingReason(): string | undefined {
  const uid = typeof process.getuid === 'function' ? process.getuid() : -1;
  if (uid === 0) return undefined;
  return `lab tests need root for network namespaces (running as uid ${uid})`;
}

/**
 * describeAsRoot is `describe` for tests that need root: it runs them as root, skips them with a
 * printed reason otherwise, and turns that skip into a failing test when CI=true.
 */
export function describeAsRoot(name: string, body: () => void): void {
  describeUnless(rootMissingReason(), name, body, 'runs as root');
}
