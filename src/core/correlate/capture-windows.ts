import type { Timestamp } from '../model/packet.js';

/**
 * When a capture point was known to be capturing: from its first to its last packet, in the order
 * the capture wrote them (tcpdump and pcap write in time order, so a time-of-day capture that runs
 * past midnight still has its start first). A capture that saw packets was capturing only then: a
 * packet that passed before it started or after it stopped says nothing about its silence.
 */
export interface CaptureWindow {
  stream: number;
  clock: Timestamp['clock'];
  first: number;
  last: number;
}

/** Only these clocks say when something happened; `relative`/`monotonic` count from an unknown start. */
export function windowClock(clock: Timestamp['clock']): boolean {
  return clock === 'wall' || clock === 'time-of-day';
}

const DAY_US = 24 * 3600 * 1e6;
/**
 * Slack at both ends of a window: one packet's times at two points differ by µs on one node and
 * by the clock skew between nodes (ms under NTP); a capture that saw a packet within this of
 * another was running when that one passed (tcpdump starts listening before it prints anything).
 */
export const WINDOW_SLACK_US = 10_000;

/**
 * Whether the window covered time `us` on the same clock (both already aligned by alignClocks'
 * shift); undefined when the clocks cannot be compared. Time of day compares modulo one day.
 */
export function windowCovers(w: CaptureWindow, clock: Timestamp['clock'], us: number): boolean | undefined {
  if (clock !== w.clock || !windowClock(clock)) return undefined;
  if (clock === 'wall') return us >= w.first - WINDOW_SLACK_US && us <= w.last + WINDOW_SLACK_US;
  const mod = (x: number) => ((x % DAY_US) + DAY_US) % DAY_US;
  const span = mod(w.last - w.first);
  const after = mod(us - w.first);
  return after <= span + WINDOW_SLACK_US || after >= DAY_US - WINDOW_SLACK_US;
}
