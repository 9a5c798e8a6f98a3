/** What `doctor` found: one check per line, each pass, warn or fail. */

export type CheckLevel = 'pass' | 'warn' | 'fail';

/** DoctorCheck: one line of the doctor's answer. */
export interface DoctorCheck {
  /** rbac, api, agents, cilium, routing, monitor, kernel, pod-security. */
  check: string;
  /** What it is about: a node, a namespace, a permission. */
  scope: string;
  level: CheckLevel;
  /** What was found and, unless it passed, what to do. */
  detail: string;
}

/** worstLevel: the worst level among the checks. */
export function worstLevel(checks: readonly DoctorCheck[]): CheckLevel {
  return checks.some((c) => c.level === 'fail') ? 'fail' : checks.some((c) => c.level === 'warn') ? 'warn' : 'pass';
}
