import { stringify } from 'yaml';
import { worstLevel, type CheckLevel, type DoctorCheck } from '../core/model/doctor.js';
import { paint, type AnsiStyle } from './ansi.js';
import { layoutColumns } from './columns.js';
import { sanitizeTerminalText } from './sanitize.js';

const STYLE: Record<CheckLevel, AnsiStyle> = { pass: 'green', warn: 'yellow', fail: 'red' };

/** doctorDocument: `doctor -o json|yaml`: the checks and the overall result. */
export function doctorDocument(checks: readonly DoctorCheck[]): { schemaVersion: 1; result: CheckLevel; checks: DoctorCheck[] } {
  return { schemaVersion: 1, result: worstLevel(checks), checks: checks.map((c) => ({ check: c.check, scope: c.scope, level: c.level, detail: c.detail })) };
}

/** renderDoctor prints one line per check (level, check, scope, what was found and what to do) and a summary line. */
export function renderDoctor(checks: readonly DoctorCheck[], format: 'table' | 'wide' | 'json' | 'yaml', color: boolean): string {
  if (format === 'json') return JSON.stringify(doctorDocument(checks), null, 2) + '\n';
  if (format === 'yaml') return stringify(doctorDocument(checks), { version: '1.1', lineWidth: 0 });
  const rows = checks.map((c) => ({ cells: [paint(c.level.toUpperCase(), STYLE[c.level], color), c.check, sanitizeTerminalText(c.scope), sanitizeTerminalText(c.detail)] }));
  const count = (level: CheckLevel): number => checks.filter((c) => c.level === level).length;
  const [fails, warns] = [count('fail'), count('warn')];
  const summary =
    fails > 0
      ? paint(`${fails} ${fails === 1 ? 'check' : 'checks'} failed: a trace would not run as planned`, 'red', color)
      : warns > 0
        ? paint(`no failures, ${warns} ${warns === 1 ? 'warning' : 'warnings'}: a trace runs, with the gaps above`, 'yellow', color)
        : paint('all checks passed', 'green', color);
  return [...layoutColumns(rows, { indent: 0, gap: 2, minWidths: [] }), summary].join('\n') + '\n';
}
