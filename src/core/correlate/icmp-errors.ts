import type { ReportFlow } from '../model/report.js';

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
