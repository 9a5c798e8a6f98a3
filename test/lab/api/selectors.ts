/**
 * labelSelector and fieldSelector query parameters with apimachinery's grammar: equality,
 * inequality, set-based (`in`, `notin`), existence (`key`, `!key`), comma = AND.
 */
import { badRequest } from './status.js';

export type Labels = Record<string, string>;

/** Splits on commas that are not inside parentheses ("a in (x,y),b" -> ["a in (x,y)", "b"]). */
function splitTopLevel(selector: string): string[] {
  const parts: string[] = [];
  let depth = 0;
  let start = 0;
  for (let i = 0; i < selector.length; i++) {
    const c = selector[i];
    if (c === '(') depth++;
    else if (c === ')') depth--;
    else if (c === ',' && depth === 0) {
      parts.push(selector.slice(start, i));
      start = i + 1;
    }
  }
  parts.push(selector.slice(start));
  return parts.map((p) => p.trim()).filter((p) => p !== '');
}

const SET_REQUIREMENT = /^([A-Za-z0-9_./-]+)\s+(in|notin)\s+\(([^()]*)\)$/;
const COMPARE_REQUIREMENT = /^([A-Za-z0-9_./-]+)\s*(==|=|!=|>|<)\s*([A-Za-z0-9_.-]*)$/;
const EXISTS_REQUIREMENT = /^(!?)\s*([A-Za-z0-9_./-]+)$/;

type Requirement = (labels: Labels) => boolean;

function parseRequirement(text: string): Requirement {
  const set = SET_REQUIREMENT.exec(text);
  if (set) {
    const [, key, op, list] = set;
    const values = new Set(list.split(',').map((v) => v.trim()).filter((v) => v !== ''));
    return op === 'in' ? (l) => key in l && values.has(l[key]) : (l) => !(key in l) || !values.has(l[key]);
  }
  const cmp = COMPARE_REQUIREMENT.exec(text);
  if (cmp) {
    const [, key, op, value] = cmp;
    if (op === '!=') return (l) => l[key] !== value;
    if (op === '>' || op === '<') {
      const bound = Number(value);
      if (!Number.isInteger(bound)) throw badRequest(`unable to parse requirement: for 'gt', 'lt' operators, the value must be an integer`);
      return (l) => key in l && /^-?\d+$/.test(l[key]) && (op === '>' ? Number(l[key]) > bound : Number(l[key]) < bound);
    }
    return (l) => l[key] === value;
  }
  const exists = EXISTS_REQUIREMENT.exec(text);
  if (exists) {
    const [, not, key] = exists;
    return not ? (l) => !(key in l) : (l) => key in l;
  }
  throw badRequest(`unable to parse requirement: found '${text}', expected: key, '!key', 'key=value', 'key!=value', 'key in (...)' or 'key notin (...)'`);
}

/** A predicate over an object's labels; an empty or absent selector matches everything. */
export function parseLabelSelector(selector: string | null | undefined): (labels: Labels | undefined) => boolean {
  if (!selector) return () => true;
  const requirements = splitTopLevel(selector).map(parseRequirement);
  return (labels) => requirements.every((r) => r(labels ?? {}));
}

/** Field values the apiserver indexes for a resource (pods: metadata.name, spec.nodeName, status.podIP...). */
export type FieldGetter = (obj: unknown) => Record<string, string>;

/**
 * A predicate over an object's selectable fields. A field the resource does not index is a 400
 * with kube-apiserver's wording, raised up front so an empty list reports it too.
 */
export function parseFieldSelector(
  selector: string | null | undefined,
  known: readonly string[],
  fields: FieldGetter,
  notSupported: (field: string) => Error,
): (obj: unknown) => boolean {
  if (!selector) return () => true;
  const terms = splitTopLevel(selector).map((term) => {
    const m = /^([A-Za-z0-9_.]+)\s*(==|=|!=)\s*(.*)$/.exec(term);
    if (!m) throw badRequest(`invalid selector: '${selector}'; can't understand '${term}'`);
    if (!known.includes(m[1])) throw notSupported(m[1]);
    return { field: m[1], negate: m[2] === '!=', value: m[3] };
  });
  return (obj) => {
    const values = fields(obj);
    return terms.every((t) => (values[t.field] === t.value) !== t.negate);
  };
}
