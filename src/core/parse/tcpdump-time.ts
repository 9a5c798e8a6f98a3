import type { Timestamp } from '../model/packet.js';

/**
 * A timestamp read at the start of a tcpdump line. `delta` stamps (-ttt, -ttttt) still need the
 * stream's running clock to become a Timestamp; the others are one already.
 */
export type TcpdumpStamp = Timestamp | { clock: 'delta'; us: number };

const ZERO = 48;

function isDigit(c: number): boolean {
  return c >= ZERO && c <= ZERO + 9;
}

/** Two digits at `at` as a number, or -1. */
function twoDigits(line: string, at: number): number {
  const a = line.charCodeAt(at) - ZERO;
  const b = line.charCodeAt(at + 1) - ZERO;
  return a >= 0 && a <= 9 && b >= 0 && b <= 9 ? a * 10 + b : -1;
}

// Where the last fraction/clock read ended: a scratch slot instead of a tuple per call.
let readEnd = 0;

/** stampEnd: where the packet text starts after the stamp readStamp returned last. */
export function stampEnd(): number {
  return readEnd + 1;
}

/** The fraction after the dot as microseconds: 6 digits normally, 9 with --nano (truncated). */
function fraction(line: string, at: number): number {
  let i = at;
  let us = 0;
  while (isDigit(line.charCodeAt(i))) {
    if (i - at < 6) us = us * 10 + (line.charCodeAt(i) - ZERO);
    i++;
  }
  if (i === at) return -1;
  for (let k = i - at; k < 6; k++) us *= 10;
  readEnd = i;
  return us;
}

/** HH:MM:SS.ffffff at `at` as microseconds, or -1; sets readEnd. */
function clockTime(line: string, at: number): number {
  if (line.charCodeAt(at + 2) !== 58 || line.charCodeAt(at + 5) !== 58 || line.charCodeAt(at + 8) !== 46) return -1;
  const h = twoDigits(line, at);
  const m = twoDigits(line, at + 3);
  const s = twoDigits(line, at + 6);
  if (h < 0 || m < 0 || s < 0) return -1;
  const f = fraction(line, at + 9);
  if (f < 0) return -1;
  return ((h * 60 + m) * 60 + s) * 1_000_000 + f;
}

/**
 * readStamp recognises every stamp tcpdump prints at the start of a packet line:
 * `HH:MM:SS.ffffff` (default, time of day), `-tt` epoch seconds, `-tttt` date and time (read as
 * time of day: tcpdump prints local time without a zone, so it cannot become an epoch honestly),
 * and `-ttt`/`-ttttt` deltas (` 00:00:00.001013`, `-` when time went backwards).
 * The stamp must be followed by a space; returns undefined when the line does not start with one,
 * else the stamp, the packet text starting at stampEnd().
 */
export function readStamp(line: string): TcpdumpStamp | undefined {
  const c0 = line.charCodeAt(0);
  if (c0 === 32 || c0 === 45) {
    const us = clockTime(line, 1);
    if (us < 0 || line.charCodeAt(readEnd) !== 32) return undefined;
    return { clock: 'delta', us: c0 === 45 ? -us : us };
  }
  if (!isDigit(c0)) return undefined;
  if (line.charCodeAt(2) === 58) {
    const us = clockTime(line, 0);
    if (us < 0 || line.charCodeAt(readEnd) !== 32) return undefined;
    return { clock: 'time-of-day', us };
  }
  if (line.charCodeAt(4) === 45 && line.charCodeAt(7) === 45 && line.charCodeAt(10) === 32) {
    if (twoDigits(line, 0) < 0 || twoDigits(line, 2) < 0 || twoDigits(line, 5) < 0 || twoDigits(line, 8) < 0) return undefined;
    const us = clockTime(line, 11);
    if (us < 0 || line.charCodeAt(readEnd) !== 32) return undefined;
    return { clock: 'time-of-day', us };
  }
  let i = 0;
  let sec = 0;
  while (isDigit(line.charCodeAt(i))) sec = sec * 10 + (line.charCodeAt(i++) - ZERO);
  // Epoch seconds have 9-10 digits today; fewer would be a count ("4 packets captured").
  if (i < 9 || line.charCodeAt(i) !== 46) return undefined;
  const f = fraction(line, i + 1);
  if (f < 0 || line.charCodeAt(readEnd) !== 32) return undefined;
  return { clock: 'wall', us: sec * 1_000_000 + f };
}
