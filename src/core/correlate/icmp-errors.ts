import type { ReportFlow } from '../model/report.js';
import { flowOutcome } from './packet-verdicts.js';

/** An ICMP error a capture showed, read from its words: what it answers and why. */
export interface IcmpError {
  kind: 'port-unreachable' | 'protocol-unreachable' | 'host-unreachable' | 'net-unreachable' | 'fragmentation-needed' | 'prohibited';
  /** The destination of the packet it answers (tcpdump quotes it). */
  quotedDst: string;
  quotedProto?: string;
  quotedPort?: number;
  mtu?: number;
  words: string;
}

/**
 * readIcmpError reads tcpdump's wording of an ICMP error (print-icmp.c): `10.0.2.20 udp port 5000
 * unreachable`, `10.0.2.20 protocol 132 unreachable`, `host 10.0.2.20 unreachable`, `10.0.2.20
 * unreachable - need to frag (mtu 1000)`, `host 10.0.2.20 unreachable - admin prohibited filter`.
 */
export function readIcmpError(detail: string): IcmpError | undefined {
  let m = /ICMP (\S+) (tcp|udp|sctp) port (\S+) unreachable/.exec(detail);
  if (m) {
    const port = Number(m[3]);
    return { kind: 'port-unreachable', quotedDst: m[1], quotedProto: m[2], quotedPort: Number.isInteger(port) ? port : undefined, words: `ICMP port unreachable (${m[2]} port ${m[3]})` };
  }
  m = /ICMP (\S+) unreachable - need to frag(?: \(mtu (\d+)\))?/.exec(detail);
  if (m) return { kind: 'fragmentation-needed', quotedDst: m[1], mtu: m[2] ? Number(m[2]) : undefined, words: `ICMP fragmentation needed${m[2] ? ` (mtu ${m[2]})` : ''}` };
  m = /ICMP (?:host |net )?(\S+) unreachable - admin prohibited/.exec(detail);
  if (m) return { kind: 'prohibited', quotedDst: m[1], words: 'ICMP destination unreachable, administratively prohibited (a filter rejected it)' };
  m = /ICMP (\S+) protocol (\d+) unreachable/.exec(detail);
  if (m) return { kind: 'protocol-unreachable', quotedDst: m[1], words: `ICMP protocol unreachable (protocol ${m[2]})` };
  m = /ICMP (host|net) (\S+) unreachable/.exec(detail);
  if (m) return { kind: m[1] === 'host' ? 'host-unreachable' : 'net-unreachable', quotedDst: m[2], words: `ICMP ${m[1]} unreachable` };
  return undefined;
}

/**
 * nameIcmpErrors ties each ICMP error to the flow it answers (from the error's receiver to the
 * address it quotes) and says so on both. A port or protocol unreachable from the destination
 * means the packet got there and was refused; fragmentation needed means a router on the way
 * could not forward it with its DF bit set.
 */
export function nameIcmpErrors(flows: ReportFlow[]): void {
  for (const icmp of flows) {
    if (icmp.protocol !== 'icmp' && icmp.protocol !== 'icmp6') continue;
    const err = firstError(icmp);
    if (!err) continue;
    const target = flows.find(
      (f) =>
        f !== icmp &&
        f.srcIp === icmp.dstIp &&
        f.dstIp === err.quotedDst &&
        (err.quotedProto === undefined || f.protocol === err.quotedProto) &&
        (err.quotedPort === undefined || f.destination?.port === undefined || f.destination.port === err.quotedPort),
    );
    const answered = target ? `${target.protocol} ${target.src} -> ${target.dst}${err.quotedPort !== undefined ? ` port ${err.quotedPort}` : ''}` : `a packet from ${icmp.dst} to ${err.quotedDst}`;
    icmp.conclusions.push(`${err.words} from ${icmp.srcIp}: the answer to ${answered}.`);
    if (!target) continue;
    const from = icmp.srcIp === err.quotedDst ? 'the destination' : icmp.srcIp;
    if (err.kind === 'port-unreachable' || err.kind === 'protocol-unreachable') {
      const reason = `answered by ${err.words} from ${from} (nothing listens there${err.quotedPort !== undefined ? ` on ${err.quotedProto} port ${err.quotedPort}` : ''})`;
      if (refuse(target, reason)) target.conclusions[0] = `Refused: the ${target.direction} reached ${target.dst}'s host and was ${reason}.`;
    } else {
      const why = err.kind === 'fragmentation-needed' ? `too big for the path: ${icmp.srcIp} answered ${err.words} and did not forward it (DF set)` : `${icmp.srcIp} answered ${err.words}`;
      if (target.outcome !== 'delivered' && target.outcome !== 'refused') {
        target.conclusions[0] = `Dropped at ${icmp.srcIp}: ${why}.`;
        target.outcome = 'dropped';
        target.outcomeReason = `dropped at ${icmp.srcIp} (${why})`;
        target.verdict = 'dropped';
        target.dropReason = why;
        target.dropPoint = target.dropPoint ?? icmp.srcIp;
        for (const p of target.packets) {
          if (p.outcome === 'unknown' || p.outcome === 'lost' || p.outcome === undefined) {
            p.outcome = 'dropped';
            p.outcomeReason = why;
            p.dropPoint = icmp.srcIp;
          }
        }
      } else {
        target.conclusions.push(`Some packet of it was answered by ${err.words} from ${icmp.srcIp}: ${why}.`);
      }
    }
  }
}

/** Marks the flow refused unless a drop was reported; true when it did. */
function refuse(f: ReportFlow, reason: string): boolean {
  if (f.outcome === 'dropped') return false;
  f.outcome = 'refused';
  f.outcomeReason = reason;
  for (const p of f.packets) {
    if (p.outcome !== 'dropped') {
      p.outcome = 'refused';
      p.outcomeReason = reason;
    }
  }
  return true;
}

function firstError(f: ReportFlow): IcmpError | undefined {
  for (const p of f.packets) for (const h of p.hops) {
    const e = readIcmpError(h.detail);
    if (e) return e;
  }
  for (const h of f.flowHops ?? []) {
    const e = readIcmpError(h.detail);
    if (e) return e;
  }
  return undefined;
}

/** How long after a packet a time-exceeded may come back and still be its answer: a round trip to a router. */
const TIME_EXCEEDED_WITHIN_US = 1e6;

/**
 * nameTimeExceeded ties an ICMP time exceeded (in transit) to the packet whose TTL ran out. A
 * router that decrements a packet's TTL to zero discards it and sends time exceeded to its source
 * (RFC 792; RFC 4443 for ICMPv6, hop limit), so that packet went no further than that router.
 * tcpdump without -v does not print the packet the error quotes: the packet is the sender's last
 * one seen at the same point, less than a round trip before the error, that nothing shows delivered.
 */
export function nameTimeExceeded(flows: ReportFlow[]): void {
  for (const icmp of flows) {
    if (icmp.protocol !== 'icmp' && icmp.protocol !== 'icmp6') continue;
    const errs = [...icmp.packets.flatMap((p) => p.hops), ...(icmp.flowHops ?? [])].filter((h) => /time exceeded/.test(h.detail) && !/reassembly/.test(h.detail) && h.time);
    for (const err of errs) {
      const at = usOfTime(err.time!);
      let best: { flow: ReportFlow; packet: ReportFlow['packets'][number]; gap: number } | undefined;
      for (const f of flows) {
        if (f === icmp || f.srcIp !== icmp.dstIp || f.direction !== 'request') continue;
        for (const packet of f.packets) {
          if (packet.outcome === 'delivered' || packet.outcome === 'refused') continue;
          for (const h of packet.hops) {
            if (h.point !== err.point || !h.time) continue;
            const gap = at - usOfTime(h.time);
            if (gap >= 0 && gap <= TIME_EXCEEDED_WITHIN_US && (!best || gap < best.gap)) best = { flow: f, packet, gap };
          }
        }
      }
      if (!best) continue;
      const why = `its ${icmp.protocol === 'icmp6' ? 'hop limit' : 'TTL'} ran out at ${icmp.srcIp}, which answered ICMP time exceeded in-transit (seen at ${err.point} ${(best.gap / 1000).toFixed(3)} ms after it)`;
      if (best.packet.outcome === 'dropped') continue;
      best.packet.outcome = 'dropped';
      best.packet.outcomeReason = why;
      best.packet.dropPoint = icmp.srcIp;
      const dropped = best.flow.evidence.find((e) => e.claim === 'dropped');
      if (dropped) dropped.because.push(why);
      else best.flow.evidence.push({ claim: 'dropped', because: [why] });
      icmp.conclusions.push(`ICMP time exceeded from ${icmp.srcIp}: the answer to ${best.flow.protocol} ${best.flow.src} -> ${best.flow.dst} (${best.packet.key}), whose ${icmp.protocol === 'icmp6' ? 'hop limit' : 'TTL'} ran out there.`);
      resumPackets(best.flow);
    }
  }
}

/** The flow's outcome again from its packets' after one of them changed (packet-verdicts.ts flowOutcome). */
function resumPackets(f: ReportFlow): void {
  const sum = flowOutcome(f.packets.map((p) => ({ outcome: p.outcome ?? 'unknown', reason: p.outcomeReason ?? null, point: p.dropPoint ?? null, counted: true })), f.morePackets);
  if (!sum) return;
  const was = f.outcome;
  f.outcome = sum.outcome;
  f.outcomeReason = sum.summary;
  // As classify.ts sums a flow's packets: the most severe outcome is the verdict, a refusal a delivery.
  if (sum.outcome !== 'unknown') f.verdict = sum.outcome === 'refused' ? 'delivered' : sum.outcome;
  const dropped = f.packets.find((p) => p.outcome === 'dropped');
  if (dropped) {
    f.dropPoint = dropped.dropPoint ?? null;
    f.dropReason = dropped.outcomeReason ?? null;
  }
  const i = f.conclusions.findIndex((c) => c.startsWith('Per packet: ') || (was !== sum.outcome && /^(Delivered|Lost|Not enough evidence)/.test(c)));
  const words = `Per packet: ${sum.summary}.`;
  if (i >= 0) f.conclusions[i] = words;
  else f.conclusions.unshift(words);
}

/** µs of a hop's printed time (`HH:MM:SS.ffffff` or ISO UTC with µs), on its own clock. */
function usOfTime(t: string): number {
  const tod = /^(\d\d):(\d\d):(\d\d)\.(\d{6})$/.exec(t);
  if (tod) return ((Number(tod[1]) * 60 + Number(tod[2])) * 60 + Number(tod[3])) * 1e6 + Number(tod[4]);
  const iso = /^(.*T\d\d:\d\d:\d\d)\.(\d{6})Z$/.exec(t);
  if (iso) return Date.parse(`${iso[1]}Z`) * 1000 + Number(iso[2]);
  return NaN;
}
