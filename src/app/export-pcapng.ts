import { flowOf } from '../core/correlate/flow-key.js';
import type { CaptureEvent } from '../core/model/event.js';
import type { HopReport } from '../core/model/report.js';
import { createPcapStream } from '../core/parse/pcap.js';
import { hostPoint, parsePoint } from '../core/points.js';
import { packetNotes, type PacketNotes } from '../render/packet-notes.js';
import { microsToNanos, pcapngInterfaceBlock, pcapngPacketBlock, pcapngSectionHeader } from '../render/pcapng.js';
import type { InputSource } from './ports.js';

/** A capture input to export, with what analyze decided about it. */
export interface CaptureInput {
  source: InputSource;
  /** Point id of the whole input ('' when the content and --point did not name one). */
  point: string;
  node: string;
}

/** ByteSink: where the pcapng bytes go, in order. */
export interface ByteSink {
  write(chunk: Uint8Array): Promise<void>;
  close(): Promise<void>;
}

/** What the export wrote, per interface, so the CLI can say it and tests can check it. */
export interface PcapngExportSummary {
  interfaces: { name: string; linkType: number; packets: number }[];
  packets: number;
  /** Frames that carry at least one comment beyond their flow's verdict (monitor, pwru, iptables words). */
  packetsWithToolNotes: number;
  /** Inputs that could not be read to the end, one line each. */
  problems: string[];
}

interface Frame {
  event: CaptureEvent;
  /** Merge order: microseconds since the epoch; frames without a stamp keep their input's order. */
  us: number;
  input: number;
}

/** Frames of one capture input, decoded lazily, one chunk at a time. */
async function* framesOf(input: CaptureInput, index: number, problems: string[]): AsyncGenerator<Frame> {
  const dec = createPcapStream();
  let lastUs = 0;
  try {
    for await (const chunk of input.source.chunks()) {
      // The decoder hands out views into the chunk: it must not be reused, and createReadStream never does.
      for (const r of dec.push(chunk)) {
        if (r.kind !== 'event' || !r.event.frame) continue;
        const us = r.event.time?.us ?? lastUs;
        lastUs = us;
        yield { event: r.event, us, input: index };
      }
    }
  } catch (err) {
    problems.push(`${input.source.name}: could not be read to the end: ${(err as Error).message}`);
    return;
  }
  const end = dec.end();
  if (end.error) problems.push(`${input.source.name}: ${end.error}`);
}

/**
 * exportPcapng writes every frame of the capture inputs into one pcapng stream: one interface per
 * observation point and link type (named by the point id, as the report names it), frames merged
 * in time order across inputs, nanosecond stamps, and per-frame comments with what the report's
 * other tools said about that packet. Memory stays bounded: one pending frame per input.
 */
export async function exportPcapng(report: HopReport, inputs: CaptureInput[], sink: ByteSink, application: string): Promise<PcapngExportSummary> {
  const notes = packetNotes(report);
  const problems: string[] = [];
  const summary: PcapngExportSummary = { interfaces: [], packets: 0, packetsWithToolNotes: 0, problems };
  const interfaceIds = new Map<string, number>();
  const arpAskers = new Map<string, string>();
  const askerOfMac = (mac: string) => arpAskers.get(mac);

  await sink.write(pcapngSectionHeader({ application, comment: 'written by kubectl datapath: one interface per observation point, comments from cilium monitor and pwru' }));
  const streams = inputs.map((input, i) => framesOf(input, i, problems));
  const heads: (Frame | undefined)[] = [];
  for (const s of streams) heads.push((await s.next()).value as Frame | undefined);

  for (;;) {
    let next = -1;
    for (let i = 0; i < heads.length; i++) {
      const h = heads[i];
      if (h && (next < 0 || h.us < heads[next]!.us)) next = i;
    }
    if (next < 0) break;
    const frame = heads[next]!;
    const input = inputs[frame.input];
    const name = pointOf(input, frame.event);
    const linkType = frame.event.linkType ?? 1;
    const ifaceKey = `${name}|${linkType}`;
    let id = interfaceIds.get(ifaceKey);
    if (id === undefined) {
      id = summary.interfaces.length;
      interfaceIds.set(ifaceKey, id);
      summary.interfaces.push({ name, linkType, packets: 0 });
      await sink.write(pcapngInterfaceBlock({ name, linkType, description: `${input.source.name}${input.node ? ` on ${input.node}` : ''}` }));
    }
    await sink.write(packetBlock(frame.event, id, notes, arpAskers, askerOfMac, summary));
    summary.interfaces[id].packets++;
    summary.packets++;
    heads[next] = (await streams[next].next()).value as Frame | undefined;
  }
  await sink.close();
  return summary;
}

function packetBlock(
  event: CaptureEvent,
  interfaceId: number,
  notes: PacketNotes,
  arpAskers: Map<string, string>,
  askerOfMac: (mac: string) => string | undefined,
  summary: PcapngExportSummary,
): Uint8Array {
  const arp = event.packet.arp;
  // The same bookkeeping as the correlator, so an ARP reply lands in the flow the report named.
  if (arp?.op === 'request' && arp.senderIp && event.packet.eth && arpAskers.size < 4096) arpAskers.set(event.packet.eth.src, arp.senderIp);
  const comments = [...notes.notesFor(flowOf(event.packet, askerOfMac))];
  if (comments.length > 1) summary.packetsWithToolNotes++;
  if (!event.time) comments.unshift('datapath: the input gave this frame no timestamp');
  const data = event.frame!;
  return pcapngPacketBlock({
    interfaceId,
    timestampNs: event.time ? microsToNanos(event.time.us) : 0n,
    data,
    originalLength: event.packet.length ?? data.length,
    comments,
  });
}

/** The point a frame was seen at, named the way the report names it (see the correlator's point hints). */
function pointOf(input: CaptureInput, event: CaptureEvent): string {
  if (input.point) return input.point;
  const iface = event.packet.cooked?.ifname ?? event.iface;
  if (iface) return parsePoint(iface) ? iface : hostPoint(input.node || '?', iface);
  return `unknown:${input.source.name}`;
}
