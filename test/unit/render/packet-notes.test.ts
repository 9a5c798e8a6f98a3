import { cpSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { analyze } from '../../../src/app/analyze.js';
import { fileCatalog } from '../../../src/adapters/files.js';
import { streamParserFor } from '../../../src/core/analyze/formats.js';
import { flowOf } from '../../../src/core/correlate/flow-key.js';
import type { HopReport } from '../../../src/core/model/report.js';
import type { Packet } from '../../../src/core/model/packet.js';
import { packetNotes } from '../../../src/render/packet-notes.js';

const SEED = resolve('test/fixtures/seed');
const INPUTS = [
  'tcpdump-same-eth0.txt', 'tcpdump-same-lxc.txt', 'tcpdump-cni-eth0.txt', 'tcpdump-cni-lxc.txt',
  'cilium-monitor-v.txt', 'pwru-v0.0.2-src-same.txt', 'pwru-v0.0.2-src-cni.txt',
  'cilium-endpoint-list.txt', 'ethtool-same-eth0.txt', 'ethtool-cni-eth0.txt',
];

async function seedReport(maxPackets: number): Promise<HopReport> {
  const dir = mkdtempSync(join(tmpdir(), 'notes-'));
  try {
    for (const f of INPUTS) cpSync(join(SEED, f), join(dir, f));
    return await analyze({ paths: [dir], points: [], endpointFiles: [], maxPackets }, fileCatalog);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The packets tcpdump printed in one seed capture, in order (what a pcap of it would hold). */
function capturedPackets(file: string): Packet[] {
  const parser = streamParserFor('tcpdump');
  let ctx = parser.initial();
  const out: Packet[] = [];
  for (const line of readFileSync(join(SEED, file), 'utf8').split('\n')) {
    const r = parser.parse(line, ctx);
    ctx = r.ctx;
    if (r.result.kind === 'event' && (r.result.event.tool === 'tcpdump' || r.result.event.tool === 'pcap')) out.push(r.result.event.packet);
  }
  return out;
}

describe('packetNotes (pcapng comments)', () => {
  it('gives a captured echo request its flow verdict and what pwru said about it (monitor watched another ping)', async () => {
    const notes = packetNotes(await seedReport(10));
    const [request, reply] = capturedPackets('tcpdump-same-eth0.txt').filter((p) => p.l4?.icmpType);
    const forRequest = notes.notesFor(flowOf(request));
    expect(forRequest[0]).toBe('datapath: ICMP 10.0.1.135 (default/same) -> 10.0.1.180 (default/cni-6vf5d), request, bpf1: delivered; path redirect-peer');
    // pwru could not tell pings apart: its words are attached by flow and order, and say so.
    expect(forRequest).toContainEqual(expect.stringMatching(/^pwru at kernel:bpf1 \(matched by flow and order, not by packet\): .*skb_do_redirect -> ip_rcv/));
    expect(forRequest.filter((n) => n.startsWith('cilium monitor'))).toEqual([]);
    const forReply = notes.notesFor(flowOf(reply));
    expect(forReply[0]).toMatch(/^datapath: ICMP 10\.0\.1\.180 \(default\/cni-6vf5d\) -> 10\.0\.1\.135 \(default\/same\), reply, bpf1: delivered/);
  });

  it('puts the monitor words on the ping cilium monitor watched (id 22016), not on tcpdump\'s', async () => {
    const report = await seedReport(10);
    const notes = packetNotes(report);
    const monitored = report.flows[0].packets.find((p) => p.key === 'icmp id 22016 seq 0')!;
    expect(monitored).toBeDefined();
    const ref = { ...flowOf(capturedPackets('tcpdump-same-eth0.txt').find((p) => p.l4?.icmpType)!)!, packetKey: monitored.key };
    const words = notes.notesFor(ref).filter((n) => n.startsWith('cilium monitor'));
    expect(words).toEqual([
      'cilium monitor at cilium:bpf1/2836 (matched by flow and order, not by packet): CT new; 10.0.1.180 -> identity 37483; local delivery to endpoint 3663',
      'cilium monitor at cilium:bpf1/3663: CT new; to-endpoint 3663, identity 31009->37483, state new',
    ]);
  });

  it('says when a packet is beyond --max-packets instead of borrowing another packet\'s words', async () => {
    const report = await seedReport(1);
    const notes = packetNotes(report);
    const request = report.flows[0];
    expect(request.packets).toHaveLength(1);
    expect(request.morePackets).toBeGreaterThan(0);
    // The seed's two pings of this flow: tcpdump's (id 20480) and monitor's (id 22016); one is counted only.
    const counted = ['icmp id 20480 seq 0', 'icmp id 22016 seq 0'].find((k) => k !== request.packets[0].key)!;
    const ref = { ...flowOf(capturedPackets('tcpdump-same-eth0.txt').find((p) => p.l4?.icmpType === 'echo-request')!)!, packetKey: counted };
    const later = notes.notesFor(ref);
    expect(later).toHaveLength(2);
    expect(later[1]).toMatch(/beyond the 1 shown in detail for its flow \(--max-packets\)/);
  });

  it('has nothing to say about a frame without a flow or of a flow the report does not have', async () => {
    const notes = packetNotes(await seedReport(10));
    expect(notes.notesFor(undefined)).toEqual([]);
    expect(notes.notesFor(flowOf({ ip: { version: 4, src: '192.0.2.1', dst: '192.0.2.2' }, l4: { proto: 'udp', srcPort: 1, dstPort: 2 } }))).toEqual([]);
  });
});
