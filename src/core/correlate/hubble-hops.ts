import type { HubbleEvent } from '../model/event.js';
import type { Packet } from '../model/packet.js';

/*
 * How a Hubble flow becomes a hop: its packet (names standing for addresses Hubble did not
 * print), its words, its facts, and the path fact it states in the vocabulary of cilium monitor's
 * evidence (to-stack, to-network, to-endpoint, ...): Hubble decodes the same datapath
 * notifications monitor prints (cilium/cilium pkg/hubble/parser/threefour), so they mean the same.
 */

/**
 * The packet to file the flow under. Hubble's text prints a pod's or service's name instead of its
 * address (`default/server:80`); the name then stands for the address, so the events of one
 * transcript still meet in one flow (they cannot meet a capture's, which has the address).
 */
export function hubblePacket(e: HubbleEvent): Packet | undefined {
  const p = e.packet;
  if (p?.ip) return p;
  const src = e.src.ip ?? e.src.name;
  const dst = e.dst.ip ?? e.dst.name;
  if (!src || !dst) return undefined;
  const proto = p?.l4?.proto;
  return { ...p, ip: { version: src.includes(':') || dst.includes(':') ? 6 : 4, src, dst, ...(proto ? { proto } : {}) } };
}

/** The path fact the event states, as monitor evidence names it; undefined when it states none. */
export function hubbleTag(e: HubbleEvent): string | undefined {
  switch (e.kind) {
    case 'trace':
      if (!e.obsPoint || e.verdict === 'DROPPED') return undefined;
      // to-endpoint hands the packet to the flow's own destination: `to-endpoint:dst` says so when no id was printed.
      if (e.obsPoint === 'to-endpoint') return `to-endpoint:${e.dst.endpointId ?? 'dst'}`;
      return e.obsPoint;
    case 'drop':
      return 'drop';
    case 'policy-verdict':
      return e.verdict === 'DENIED' || e.verdict === 'DROPPED' ? 'policy-denied' : e.verdict === 'AUDITED' || e.verdict === 'AUDIT' ? 'policy-audit' : 'policy-allowed';
    default:
      return undefined;
  }
}

/** The hop's words: Hubble's own TYPE and VERDICT columns, and a translation's other end. */
export function hubbleWords(e: HubbleEvent): string {
  switch (e.kind) {
    case 'trace':
      return `${e.obsPoint ?? 'trace'} ${e.verdict}`;
    case 'drop':
      return `${e.dropReason ?? e.dropReasonDesc ?? 'drop'} ${e.verdict}`;
    case 'policy-verdict':
      return `policy-verdict:${e.policyMatch ?? 'none'}${e.direction ? ` ${e.direction.toUpperCase()}` : ''} ${e.verdict}`;
    case 'trace-sock':
      return `${e.xlatePoint ?? 'sock'} ${e.verdict}`;
    default:
      return `${e.kind} ${e.verdict}${e.kind === 'l7' && e.summary ? ` ${e.summary}` : ''}`;
  }
}

/** What -o wide shows of a Hubble hop. */
export function hubbleFacts(e: HubbleEvent): Record<string, string | number> {
  const f: Record<string, string | number> = {};
  const si = e.src.identityName ?? e.src.identity;
  const di = e.dst.identityName ?? e.dst.identity;
  if (si !== undefined || di !== undefined) f.identity = `${si ?? '?'}->${di ?? '?'}`;
  if (e.ctState) f.ct = e.ctState;
  if (e.isReply !== undefined) f.isReply = String(e.isReply);
  if (e.iface) f.iface = e.iface;
  if (e.node) f.node = e.node;
  if (e.traceId) f.traceId = e.traceId;
  if (e.ipTraceId) f.ipTraceId = e.ipTraceId;
  if (e.xlatePoint) f.xlate = e.xlatePoint;
  if (e.dropReasonDesc) f.dropReason = e.dropReasonDesc;
  if (e.src.endpointId !== undefined) f.srcEndpoint = e.src.endpointId;
  if (e.dst.endpointId !== undefined) f.dstEndpoint = e.dst.endpointId;
  return f;
}

/**
 * Whether two consecutive events of one stream, flow and point are the same packet: the datapath
 * notifies a policy verdict and then the drop or the delivery of that packet within microseconds
 * (bpf_lxc.c: send_policy_verdict_notify before send_drop_notify or the redirect), and Hubble prints
 * no sequence number to tell packets apart. A verdict and what follows it: same summary, same node,
 * at most 1 ms apart.
 */
export function sameHubblePacket(a: HubbleEvent, b: HubbleEvent): boolean {
  if (a.kind !== 'policy-verdict' || b.kind === 'policy-verdict' || b.kind === 'trace-sock') return false;
  if (a.node !== b.node || a.summary !== b.summary) return false;
  if (!a.time || !b.time || a.time.clock !== b.time.clock) return false;
  return Math.abs(b.time.us - a.time.us) <= 1000;
}
