import type { FlowRef } from '../core/correlate/flow-key.js';
import type { HopReport, ReportFlow, ReportHop } from '../core/model/report.js';
import { flowTitle, verdictText } from './flow-title.js';
import { sanitizeTerminalText } from './sanitize.js';

/** Tools whose words a captured frame carries as comments: they saw the packet without capturing it. */
const NOTED_TOOLS = new Set(['monitor', 'pwru', 'iptables']);

const TOOL_NAMES: Record<string, string> = { monitor: 'cilium monitor', pwru: 'pwru', iptables: 'iptables trace' };

/** PacketNotes finds what the report says about one captured frame. */
export interface PacketNotes {
  /** Comments for a frame of flow `ref` (undefined: the frame has no flow, e.g. not IP or ARP). */
  notesFor(ref: FlowRef | undefined): string[];
}

/**
 * packetNotes indexes a report for pcapng comments: per frame, the verdict and path of its flow,
 * then every cilium monitor, pwru and iptables hop the report put on that very packet (marked
 * when they were attached by flow and order only). Packets beyond --max-packets have no hops in
 * the report; their frames say so instead of borrowing another packet's words.
 */
export function packetNotes(report: HopReport): PacketNotes {
  const byAddresses = new Map<string, ReportFlow[]>();
  for (const flow of report.flows) {
    const key = addressKey(flow.protocol, flow.srcIp, flow.dstIp);
    const list = byAddresses.get(key);
    if (list) list.push(flow);
    else byAddresses.set(key, [flow]);
  }
  const cache = new Map<string, string[]>();
  return {
    notesFor(ref) {
      if (!ref) return [];
      const cacheKey = `${ref.key}|${ref.packetKey ?? ''}`;
      let notes = cache.get(cacheKey);
      if (!notes) {
        notes = buildNotes(byAddresses.get(addressKey(ref.proto, ref.src, ref.dst)) ?? [], ref.packetKey, ref.role);
        cache.set(cacheKey, notes);
      }
      return notes;
    },
  };
}

function addressKey(proto: string, src: string, dst: string): string {
  return `${proto} ${src} > ${dst}`;
}

function buildNotes(candidates: ReportFlow[], packetKey: string | undefined, role: 'request' | 'reply' | undefined): string[] {
  // Report flows carry no ports: among flows of the same addresses the packet key decides, then
  // the direction the packet states (a flow whose two ends are one address has two report flows).
  let matching = packetKey === undefined ? candidates : candidates.filter((f) => f.packets.some((p) => p.key === packetKey));
  if (matching.length > 1 && role) matching = matching.filter((f) => f.direction === role);
  if (matching.length === 0 && candidates.length === 1) matching = candidates;
  const flow = matching.length === 1 ? matching[0] : undefined;
  if (!flow) return [];
  const notes = [`datapath: ${flowTitle(flow)}: ${verdictText(flow)}; path ${flow.path.length > 0 ? flow.path.join(' -> ') : 'unknown'}`];
  const packet = packetKey === undefined ? undefined : flow.packets.find((p) => p.key === packetKey);
  if (packet) {
    for (const hop of packet.hops) if (NOTED_TOOLS.has(hop.tool)) notes.push(hopNote(hop));
  } else if (packetKey !== undefined && flow.morePackets > 0) {
    notes.push(`datapath: this packet is beyond the ${flow.packets.length} shown in detail for its flow (--max-packets), so its monitor and pwru words are not kept`);
  }
  return notes.map(sanitizeTerminalText);
}

function hopNote(hop: ReportHop): string {
  const by = hop.match === 'flow' ? ' (matched by flow and order, not by packet)' : '';
  return `${TOOL_NAMES[hop.tool] ?? hop.tool} at ${hop.point}${by}: ${hop.detail}`;
}
