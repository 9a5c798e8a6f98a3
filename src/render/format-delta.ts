/**
 * formatDelta renders microseconds since a packet's first hop for people: `+0µs`, `+4µs`,
 * `+1.2ms`, `+350ms`, `+2.05s`; '' when the hop is on another clock (deltaUs null).
 */
export function formatDelta(deltaUs: number | null): string {
  if (deltaUs === null || !Number.isFinite(deltaUs)) return '';
  const sign = deltaUs < 0 ? '-' : '+';
  const us = Math.abs(deltaUs);
  if (us < 999.5) return `${sign}${Math.round(us)}µs`;
  const ms = us / 1000;
  if (ms < 99.95) return `${sign}${ms.toFixed(1)}ms`;
  if (ms < 999.5) return `${sign}${Math.round(ms)}ms`;
  const s = ms / 1000;
  return `${sign}${s < 9.995 ? s.toFixed(2) : s.toFixed(1)}s`;
}
