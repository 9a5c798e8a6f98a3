/** Narrowing readers for decoded JSON (`unknown`), so parsers of agent and API output never throw on a surprising shape. */

/** asRecord: the value as an object with string keys, or undefined for arrays, null and primitives. */
export function asRecord(v: unknown): Record<string, unknown> | undefined {
  return typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined;
}

/** asString: the value if it is a string. */
export function asString(v: unknown): string | undefined {
  return typeof v === 'string' ? v : undefined;
}

/** asNumber: the value if it is a finite number. */
export function asNumber(v: unknown): number | undefined {
  return typeof v === 'number' && Number.isFinite(v) ? v : undefined;
}

/** asStringArray: the strings of an array value (other elements dropped), or undefined if not an array. */
export function asStringArray(v: unknown): string[] | undefined {
  return Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : undefined;
}
