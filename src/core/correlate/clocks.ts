import type { FlowRecord, HopRecord } from './accumulator.js';

/** Time zones are whole multiples of 15 minutes away from UTC (and from each other). */
const ZONE_STEP_US = 15 * 60 * 1e6;
const DAY_US = 24 * 3600 * 1e6;
/** How far the same packet's times at two points may be from a whole zone step: a few ms of path. */
const ZONE_TOLERANCE_US = 10_000;
const DIFFS_PER_PAIR = 32;
const PACKETS_LOOKED_AT = 4096;
/** A hop of one packet later than this after the first is not the same packet's (a retransmission reusing its identity) or not the same clock. */
export const MAX_PACKET_DELTA_US = 1e6;

/**
 * alignClocks finds capture streams whose clocks differ from another's by a whole time-zone offset:
 * the same packets (same identity in the same flow) seen at both, the times apart by a multiple of
 * 15 minutes within a few ms. Such a stream's times are shifted onto the other's (a capture printed
 * in another zone, e.g. a container without the host's TZ), with a warning naming the offset.
 * Time-of-day clocks compare modulo one day. Returns the shift (µs to add) per stream.
 */
export function alignClocks(flows: Iterable<FlowRecord>, streamName: (stream: number) => string): { shifts: Map<number, number>; warnings: string[] } {
  const diffs = new Map<string, { a: number; b: number; values: number[] }>();
  let looked = 0;
  for (const flow of flows) {
    for (const packet of flow.packets.values()) {
      if (looked++ >= PACKETS_LOOKED_AT) break;
      const first = new Map<number, HopRecord>();
      for (const h of packet.hops) {
        if (!h.time || (h.tool !== 'tcpdump' && h.tool !== 'pcap') || (h.time.clock !== 'wall' && h.time.clock !== 'time-of-day')) continue;
        if (!first.has(h.stream)) first.set(h.stream, h);
      }
      const hops = [...first.values()].sort((x, y) => x.stream - y.stream);
      for (let i = 0; i < hops.length; i++) {
        for (let j = i + 1; j < hops.length; j++) {
          const a = hops[i];
          const b = hops[j];
          if (a.time!.clock !== b.time!.clock) continue;
          const key = `${a.stream}>${b.stream}`;
          let pair = diffs.get(key);
          if (!pair) diffs.set(key, (pair = { a: a.stream, b: b.stream, values: [] }));
          let d = b.time!.us - a.time!.us;
          if (a.time!.clock === 'time-of-day') d = ((((d + DAY_US / 2) % DAY_US) + DAY_US) % DAY_US) - DAY_US / 2;
          if (pair.values.length < DIFFS_PER_PAIR) pair.values.push(d);
        }
      }
    }
  }
  // Pairs apart by a whole zone step, then shifts by walking from the lowest stream of each group.
  const edges = new Map<number, { to: number; us: number; residual: number }[]>();
  for (const { a, b, values } of diffs.values()) {
    const sorted = [...values].sort((x, y) => x - y);
    const median = sorted[Math.floor(sorted.length / 2)];
    const steps = Math.round(median / ZONE_STEP_US);
    if (steps === 0) continue;
    const offset = steps * ZONE_STEP_US;
    const close = values.filter((v) => Math.abs(v - offset) <= ZONE_TOLERANCE_US);
    if (close.length * 2 < values.length) continue;
    const residual = Math.max(...close.map((v) => Math.abs(v - offset)));
    (edges.get(a) ?? edges.set(a, []).get(a)!).push({ to: b, us: offset, residual });
    (edges.get(b) ?? edges.set(b, []).get(b)!).push({ to: a, us: -offset, residual });
  }
  const shifts = new Map<number, number>();
  const warnings: string[] = [];
  for (const start of [...edges.keys()].sort((x, y) => x - y)) {
    if (shifts.has(start)) continue;
    shifts.set(start, 0);
    const queue = [start];
    while (queue.length) {
      const at = queue.shift()!;
      for (const e of edges.get(at) ?? []) {
        if (shifts.has(e.to)) continue;
        // e.to runs e.us ahead of `at`: its times move back by that, onto `at`'s clock.
        shifts.set(e.to, shifts.get(at)! - e.us);
        queue.push(e.to);
        warnings.push(
          `${streamName(e.to)} runs ${zoneOffset(e.us)} ${e.us > 0 ? 'ahead of' : 'behind'} ${streamName(at)}: the same packets at both are that far apart within ${(e.residual / 1000).toFixed(3)} ms, a time-zone offset, not a delay; its times were aligned to ${streamName(at)}'s for the deltas`,
        );
      }
    }
  }
  for (const [s, us] of shifts) if (us === 0) shifts.delete(s);
  return { shifts, warnings };
}

function zoneOffset(us: number): string {
  const minutes = Math.round(Math.abs(us) / 60e6);
  return `${Math.floor(minutes / 60)}h${String(minutes % 60).padStart(2, '0')}m`;
}

/**
 * guardDelta: a delta between hops of one packet that cannot be one packet's travel (negative, or
 * longer than MAX_PACKET_DELTA_US) is not printed; the reason is.
 */
export function guardDelta(deltaUs: number): { deltaUs: number | null; note?: string } {
  if (deltaUs < 0) return { deltaUs: null, note: `${(deltaUs / 1000).toFixed(3)} ms before the first hop on this clock: the clocks or the capture order disagree, so no delta is shown` };
  if (deltaUs > MAX_PACKET_DELTA_US) return { deltaUs: null, note: `${(deltaUs / 1e6).toFixed(3)} s after the first hop on this clock: too long for one packet's way (another packet with the same identity, e.g. a retransmission, or clocks that disagree), so no delta is shown` };
  return { deltaUs };
}
