/** The default of --request-timeout: long enough for a loaded API server, short enough to notice a dead one. */
export const DEFAULT_REQUEST_TIMEOUT_MS = 30_000;

/**
 * parseRequestTimeout reads kubectl's --request-timeout: `30s`, `2m`, `1h`, `500ms`, a bare number
 * of seconds, or 0 for none; undefined when it is none of these. Kept apart from request-bound.ts
 * so that reading the flag does not load the Kubernetes client.
 */
export function parseRequestTimeout(value: unknown): number | undefined {
  if (value === undefined) return DEFAULT_REQUEST_TIMEOUT_MS;
  const m = /^(\d+(?:\.\d+)?)(ms|s|m|h)?$/.exec(String(value));
  if (!m) return undefined;
  const n = Number(m[1]) * ({ ms: 1, s: 1000, m: 60_000, h: 3_600_000 } as const)[(m[2] ?? 's') as 'ms' | 's' | 'm' | 'h'];
  // setTimeout holds at most 2^31-1 ms (24.8 days).
  return n <= 2 ** 31 - 1 ? Math.round(n) : undefined;
}
