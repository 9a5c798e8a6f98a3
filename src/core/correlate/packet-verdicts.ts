import type { Outcome } from '../model/report.js';

/** One hop of a shown packet, as the verdict rules read it. */
export interface VerdictHop {
  point: string;
  tool: string;
  match: 'packet' | 'flow';
  detail: string;
  drop?: { reason: string; afterDelivery?: boolean };
}

export interface VerdictPacket {
  key: string;
  hops: VerdictHop[];
  /** False when the destination's capture ran, but not while this packet passed (capture-windows.ts). */
  dstPodWatching?: boolean;
}

/** What the rules know of the flow around its packets. */
export interface VerdictContext {
  proto: string;
  /** Only a request is answered: a reply's opposite direction is the request it answers. */
  direction: 'request' | 'reply';
  /** The destination's own capture point (its eth0), and whether that capture ran and saw packets. */
  dstPod?: string;
  dstPodCapturing: boolean;
  /** The destination endpoint's monitor point (`cilium:node/id`): its to-endpoint says delivered. */
  dstEndpoint?: string;
  /** Packet keys of the opposite direction (the answers). */
  reverseKeys: readonly string[];
  /** TCP acknowledgment numbers the opposite direction's captures printed, with the point that printed each. */
  reverseAcks?: readonly { ack: number; point: string }[];
  /** Drops reported for the flow, whatever packet they were (pwru without identity, monitor without a dump). */
  flowDrops: readonly { reason: string; point: string }[];
}

export interface PacketVerdict {
  outcome: Outcome;
  /** Why, in words; null for a plain delivery seen at the destination. */
  reason: string | null;
  /** Where it was dropped, for outcome dropped. */
  point: string | null;
  /** The drop reason as the tool gave it, for outcome dropped (reason may add how it was tied to the packet). */
  dropReason?: string;
  /**
   * False for a packet only other tools saw (an iptables trace id, a monitor record) in a flow
   * whose packets captures saw: it may be one of those under another name, so the flow's sum
   * leaves it out rather than count a packet twice.
   */
  counted: boolean;
}

/**
 * TCP answers of the opposite direction, by the SYN they answer: a SYN-ACK or RST acks the
 * SYN's sequence + 1. tcpdump prints a RST's ack relative when it saw the connection's SYN
 * (`ack 1`), so an RST with no SYN-ACK at all refuses every SYN of the flow (one 4-tuple).
 */
interface TcpAnswers {
  synAcked: Set<number>;
  rstAcked: Set<number>;
  /** Sequence numbers of the RSTs: a reset of an unexpected segment takes its seq from that segment's ack (RFC 9293, 3.10.7). */
  rstSeqs: Set<number>;
  anySynAck: boolean;
  anyRst: boolean;
}

const PORTED = new Set(['tcp', 'udp', 'sctp']);

const TCP_KEY = /^tcp \[([^\]]*)\] seq (\d+)(?: ack (\d+))?/;

function tcpAnswers(keys: readonly string[]): TcpAnswers {
  const a: TcpAnswers = { synAcked: new Set(), rstAcked: new Set(), rstSeqs: new Set(), anySynAck: false, anyRst: false };
  for (const k of keys) {
    const m = TCP_KEY.exec(k);
    if (!m) continue;
    const flags = m[1];
    const ack = m[3] !== undefined ? Number(m[3]) : undefined;
    if (flags.includes('R')) {
      a.anyRst = true;
      a.rstSeqs.add(Number(m[2]));
      if (ack !== undefined) a.rstAcked.add(ack - 1);
    } else if (flags.includes('S') && flags.includes('.')) {
      a.anySynAck = true;
      if (ack !== undefined) a.synAcked.add(ack - 1);
    }
  }
  return a;
}

/**
 * packetVerdicts decides each shown packet's outcome from its own hops first. A drop is pinned to
 * a packet only when the tool identified the packet (match 'packet'); a drop attached by flow and
 * order never overrides what the destination saw of that packet.
 */
export function packetVerdicts(packets: readonly VerdictPacket[], ctx: VerdictContext): PacketVerdict[] {
  const reverse = new Set(ctx.reverseKeys);
  const tcp = ctx.proto === 'tcp' ? tcpAnswers(ctx.reverseKeys) : undefined;
  const captured = packets.map((p) => p.hops.some(isCapture));
  const anyCaptured = captured.some(Boolean);
  return packets.map((p, i) => ({ ...packetVerdict(p, ctx, reverse, tcp, captured[i]), counted: captured[i] || !anyCaptured }));
}

function isCapture(h: VerdictHop): boolean {
  return h.tool === 'tcpdump' || h.tool === 'pcap';
}

function packetVerdict(p: VerdictPacket, ctx: VerdictContext, reverse: Set<string>, tcp: TcpAnswers | undefined, captured: boolean): Omit<PacketVerdict, 'counted'> {
  const pinned = p.hops.find((h) => h.drop && h.match === 'packet' && !h.drop.afterDelivery);
  if (pinned) return { outcome: 'dropped', reason: pinned.drop!.reason, point: pinned.point, dropReason: pinned.drop!.reason };

  const syn = tcp ? TCP_KEY.exec(p.key) : null;
  const synSeq = syn && syn[1] === 'S' ? Number(syn[2]) : undefined;
  if (synSeq !== undefined && tcp && (tcp.rstAcked.has(synSeq) || (tcp.anyRst && !tcp.anySynAck))) {
    // The destination's TCP answered: it got there, and nothing listened on the port.
    return { outcome: 'refused', reason: 'answered by RST (nothing listens on the port, or a firewall rejects it)', point: null };
  }
  // A SYN-ACK reset by its receiver with the SYN-ACK's own ack as the RST's seq: it reached that
  // TCP, which had no connection waiting for it (its SYN went elsewhere, or was never sent).
  const synAck = tcp && syn && syn[1] === 'S.' && syn[3] !== undefined ? Number(syn[3]) : undefined;
  if (synAck !== undefined && tcp!.rstSeqs.has(synAck)) {
    return { outcome: 'refused', reason: 'answered by RST from its receiver, whose TCP had no connection waiting for this SYN-ACK', point: null };
  }
  // No socket for a request to a port: nothing listens there. ICMP echo replies end the same way
  // once the ping socket has its copy, so only ported protocols' requests count.
  const receiverDrop = ctx.direction === 'request' && PORTED.has(ctx.proto) ? p.hops.find((h) => h.drop?.afterDelivery) : undefined;
  if (receiverDrop && /NO_SOCKET/.test(receiverDrop.drop!.reason)) {
    return { outcome: 'refused', reason: `freed by the receiving stack with ${receiverDrop.drop!.reason} at ${receiverDrop.point} (no socket wanted it)`, point: null };
  }

  const atDst = !!ctx.dstPod && p.hops.some((h) => h.point === ctx.dstPod);
  const toEndpoint = !!ctx.dstEndpoint && p.hops.some((h) => h.tool === 'monitor' && h.match === 'packet' && h.point === ctx.dstEndpoint && h.detail.includes('to-endpoint'));
  const answered = ctx.direction === 'request' && answerSeen(p.key, ctx, reverse, synSeq, tcp);
  // Both directions: the requester's TCP acknowledges what it receives as the responder's does.
  const acked = !answered && ackedAtSamePoint(p, ctx);
  if (atDst || toEndpoint || answered || acked) {
    const how = atDst ? null : toEndpoint ? `cilium monitor: to-endpoint at ${ctx.dstEndpoint}` : answered ? 'its answer was seen' : "acknowledged by its receiver's TCP (an ack beyond its sequence number)";
    return { outcome: 'delivered', reason: how, point: null };
  }

  // A drop the tool could not tie to a packet goes only to a packet the destination did not get.
  const byFlow = p.hops.find((h) => h.drop && h.match === 'flow' && !h.drop.afterDelivery);
  const flowDrop = byFlow ? { reason: byFlow.drop!.reason, point: byFlow.point } : ctx.flowDrops[0];
  if (flowDrop) return { outcome: 'dropped', reason: `${flowDrop.reason} (by flow: the tool did not identify the packet)`, point: flowDrop.point, dropReason: flowDrop.reason };

  // A capture is silent about a packet only while it ran: before its first packet or after its last, it says nothing.
  const dstWatching = !!ctx.dstPod && ctx.dstPodCapturing && p.dstPodWatching !== false;
  if (synSeq !== undefined) {
    const sends = maxSendsAtOnePoint(p);
    if (sends > 1) {
      return { outcome: 'lost', reason: `was sent ${sends} times (the SYN retransmitted) and never answered${dstWatching ? `, nor seen at ${ctx.dstPod}` : ''}, and no tool reported a drop`, point: null };
    }
  }
  // Only a packet a capture saw has the identity the destination's capture would show it by.
  if (dstWatching && captured) {
    return { outcome: 'lost', reason: `never reached ${ctx.dstPod}, which was capturing, and no tool reported a drop`, point: null };
  }
  if (!captured) {
    return { outcome: 'unknown', reason: `seen only by ${[...new Set(p.hops.map((h) => h.tool))].join(', ')}, which do not show the packet the way a capture does`, point: null };
  }
  if (ctx.dstPod && ctx.dstPodCapturing && p.dstPodWatching === false) {
    return { outcome: 'unknown', reason: `${ctx.dstPod}'s capture was not running when it passed (it captured before or after), so its silence says nothing`, point: null };
  }
  return { outcome: 'unknown', reason: ctx.dstPod ? `nothing watched ${ctx.dstPod} see it or not` : 'nothing watched the destination', point: null };
}

/**
 * An answer to this very request was seen: the echo reply with its id and seq, the SYN-ACK of its
 * SYN; for ARP the reply to the question. Other protocols carry nothing that ties an answer to
 * one packet, so an answer proves nothing about a given packet.
 */
function answerSeen(key: string, ctx: VerdictContext, reverse: Set<string>, synSeq: number | undefined, tcp: TcpAnswers | undefined): boolean {
  if (ctx.proto === 'icmp' || ctx.proto === 'icmp6') return key.startsWith('icmp id ') && reverse.has(key);
  if (ctx.proto === 'arp') return ctx.reverseKeys.length > 0;
  return synSeq !== undefined && !!tcp?.synAcked.has(synSeq);
}

/** tcpdump numbers seq and ack relative to a base of its own (print-tcp.c): numbers this far apart are not on one base. */
const SAME_BASE = 1 << 20;

/**
 * A TCP segment carrying sequence space (data or FIN) is acknowledged by the receiver's cumulative
 * ACK: an ack greater than its first sequence number says the receiving TCP got that byte (RFC 9293
 * 3.4). Only numbers printed by the same capture compare (tcpdump makes them relative per capture):
 * an ack seen at a point that also saw this segment, close to its seq.
 */
function ackedAtSamePoint(p: VerdictPacket, ctx: VerdictContext): boolean {
  if (ctx.proto !== 'tcp' || !ctx.reverseAcks?.length) return false;
  const m = TCP_KEY.exec(p.key);
  if (!m || m[1].includes('S') || m[1].includes('R')) return false;
  const seq = Number(m[2]);
  const at = new Set(p.hops.filter((h) => (h.tool === 'tcpdump' || h.tool === 'pcap') && h.match === 'packet').map((h) => h.point));
  return ctx.reverseAcks.some((a) => at.has(a.point) && a.ack > seq && a.ack - seq < SAME_BASE);
}

/** How often one capture point saw this packet: a sender's retransmissions share its key. */
export function maxSendsAtOnePoint(p: Pick<VerdictPacket, 'hops'>): number {
  const counts = new Map<string, number>();
  let max = 0;
  for (const h of p.hops) {
    if ((h.tool !== 'tcpdump' && h.tool !== 'pcap') || h.match !== 'packet') continue;
    const n = (counts.get(h.point) ?? 0) + 1;
    counts.set(h.point, n);
    if (n > max) max = n;
  }
  return max;
}

/** The flow's outcome from its packets: a drop, refusal or loss is never hidden by the others. */
const SEVERITY: readonly Outcome[] = ['dropped', 'refused', 'lost', 'delivered', 'unknown'];

/** Words follow the count: `2 of 3 delivered; 1 dropped at X`. */
const TEXT_ORDER: readonly Outcome[] = ['delivered', 'dropped', 'refused', 'lost', 'unknown'];

export interface FlowOutcome {
  outcome: Outcome;
  /** `2 of 3 delivered; 1 dropped at X (reason)`, or null when there are no packets to count. */
  summary: string | null;
}

/** flowOutcome sums the packets up; `more` packets were only counted, not judged. */
export function flowOutcome(all: readonly PacketVerdict[], more: number): FlowOutcome | undefined {
  const verdicts = all.filter((v) => v.counted);
  if (verdicts.length === 0) return undefined;
  const outcome = SEVERITY.find((o) => verdicts.some((v) => v.outcome === o))!;
  const total = verdicts.length;
  const parts: string[] = [];
  for (const o of TEXT_ORDER) {
    const these = verdicts.filter((v) => v.outcome === o);
    if (!these.length) continue;
    // `2 of 3 delivered; 1 dropped at X (reason)`: the first group says of how many.
    const count = these.length === total ? (total > 1 ? `all ${total} ` : '') : parts.length === 0 ? `${these.length} of ${total} ` : `${these.length} `;
    if (o === 'dropped') {
      parts.push(`${count}dropped ${uniq(these.map((v) => `at ${v.point} (${v.reason})`)).join('; ')}`);
    } else if (o === 'delivered') {
      parts.push(`${count}delivered`);
    } else {
      const reasons = uniq(these.map((v) => v.reason).filter((r): r is string => !!r));
      parts.push(`${count}${o}${reasons.length ? `: ${reasons.join('; ')}` : ''}`);
    }
  }
  const tail = more > 0 ? ` (${more} more packet${more === 1 ? '' : 's'} only counted)` : '';
  return { outcome, summary: `${parts.join('; ')}${tail}` };
}

function uniq<T>(xs: T[]): T[] {
  return [...new Set(xs)];
}
