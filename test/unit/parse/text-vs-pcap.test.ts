import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import type { CaptureEvent } from '../../../src/core/model/event.js';
import type { Packet } from '../../../src/core/model/packet.js';
import { decodePcap } from '../../../src/core/parse/pcap.js';
import { tcpdumpParser } from '../../../src/core/parse/tcpdump.js';
import { runParser } from '../../helpers/run-parser.js';

/*
 * The same packets read both ways: the pcap decoder on the file, the text parser on what the real
 * tcpdump prints for that file. Their protocol names and the fields a flow is keyed on must be the
 * same, or one packet seen by a pcap probe and by a pasted tcpdump would make two flows.
 */
const FIXTURES = fileURLToPath(new URL('../../fixtures/', import.meta.url));
const FILES = [
  'pcap/ping-arp.pcap', 'pcap/tcp-udp.pcap', 'pcap/ipv6.pcap', 'pcap/sll.pcap', 'pcap/sll2.pcap', 'pcap/vxlan-8472.pcap',
  'pcap/vxlan-4789.pcap', 'pcap/geneve.pcap', 'pcap/ipip-esp.pcap', 'pcap/raw-tun.pcap', 'pcap/vlan-qinq.pcap',
  'pcap/truncated-snaplen40.pcap', 'tcpdump-forms/forms.pcap', 'tcpdump-forms/loopback.pcap',
];

const probe = spawnSync('tcpdump', ['--version'], { encoding: 'utf8' });
const haveTcpdump = probe.error === undefined && probe.status === 0;
if (!haveTcpdump && process.env.CI !== 'true') console.warn(`skipping text-vs-pcap: tcpdump cannot run here (${probe.error?.message ?? `exit ${probe.status}`})`);
const each = haveTcpdump || process.env.CI === 'true' ? test.each(FILES) : test.skip.each(FILES);

function textEvents(file: string, flags: string[]): CaptureEvent[] {
  const run = spawnSync('tcpdump', [...flags, '-r', join(FIXTURES, file)], { encoding: 'utf8', env: { ...process.env, TZ: 'UTC' }, maxBuffer: 1 << 26 });
  if (run.error) throw run.error;
  const lines = run.stdout.split('\n');
  if (lines.at(-1) === '') lines.pop();
  const { results } = runParser(tcpdumpParser, lines);
  expect(results.filter((r) => r.kind === 'unparsed')).toEqual([]);
  const out: CaptureEvent[] = [];
  for (const r of results) {
    if (r.kind === 'event') out.push(r.event);
    else if (r.kind === 'amend') out[out.length - 1] = r.event;
  }
  return out;
}

/** What a flow and a packet are told by, per nesting level: the names must agree between the two readers. */
function keyFacts(p: Packet | undefined): unknown[] {
  const levels: unknown[] = [];
  for (let q = p; q; q = q.inner) {
    levels.push({
      arp: q.arp?.op, version: q.ip?.version, src: q.ip?.src, dst: q.ip?.dst, proto: q.ip?.proto,
      l4: q.l4?.proto, sport: q.l4?.srcPort, dport: q.l4?.dstPort, icmpType: q.l4?.icmpType, icmpId: q.l4?.icmpId,
      flags: q.l4?.tcpFlags, encap: q.encap?.kind, vni: q.encap?.vni,
    });
  }
  return JSON.parse(JSON.stringify(levels)) as unknown[];
}

function nameFacts(levels: unknown[]): unknown[] {
  return (levels as Array<Record<string, unknown>>).map(({ version, src, dst, proto, l4, sport, dport }) => JSON.parse(JSON.stringify({ version, src, dst, proto, l4, sport, dport })));
}

/**
 * Where the two readers may differ, and why: the text of a later IPv6 fragment does not name its
 * upper protocol (tcpdump prints `frag (1024|520)` only) while the fragment header in the frame does.
 */
function textCannotTell(text: CaptureEvent): boolean {
  return /^frag \([^)]*\)$/.test(text.summary);
}

describe('the same packets, read from the pcap and from tcpdump -r text', () => {
  each('%s: -nn', (file) => {
    const pcap = decodePcap(new Uint8Array(readFileSync(join(FIXTURES, file)))).records.flatMap((r) => (r.kind === 'event' ? [r.event] : []));
    const text = textEvents(file, ['-nn']);
    expect(text.length).toBe(pcap.length);
    text.forEach((t, i) => {
      if (textCannotTell(t)) {
        expect([t.packet.ip?.src, t.packet.ip?.dst]).toEqual([pcap[i].packet.ip?.src, pcap[i].packet.ip?.dst]);
        return;
      }
      // tcpdump 4.99.3 prints BIG TCP over IPv4 as `IP bad-len 0`: the frame seen, nothing read.
      if (t.summary.endsWith('bad-len 0')) {
        expect(t.packet).toEqual({});
        expect(pcap[i].packet.l4?.proto).toBe('tcp');
        return;
      }
      // Headers tcpdump calls malformed: the pcap decoder may read more of them, never other names.
      const malformed = /bad-hlen|wrong link-layer|bad hdr length/.test(t.summary);
      const ours = keyFacts(pcap[i].packet);
      const theirs = keyFacts(t.packet);
      if (malformed) expect(theirs.length === 0 || ours.length > 0).toBe(true);
      // A frame cut inside its transport header (`[|icmp]`): the decoder reads the bytes that are
      // there (type, id), tcpdump prints none of them; names and addresses still agree.
      else if (t.summary.includes('[|')) expect(nameFacts(ours)).toEqual(nameFacts(theirs));
      else expect([i, t.summary, ours]).toEqual([i, t.summary, theirs]);
    });
  });

  each('%s: -nn -v (the -v header and its two-line records)', (file) => {
    const pcap = decodePcap(new Uint8Array(readFileSync(join(FIXTURES, file)))).records.flatMap((r) => (r.kind === 'event' ? [r.event] : []));
    const text = textEvents(file, ['-nn', '-v']);
    expect(text.length).toBe(pcap.length);
    text.forEach((t, i) => {
      if (textCannotTell(t.packet.ip ? { ...t, summary: t.summary.replace(/0x[0-9a-f]+:/, '') } : t) || /bad-len 0|bad-hlen|wrong link-layer|bad hdr length|truncated-ip/.test(t.summary)) return;
      const [ours] = keyFacts(pcap[i].packet) as Array<Record<string, unknown>>;
      const [theirs] = keyFacts(t.packet) as Array<Record<string, unknown>>;
      expect([i, t.summary, ours?.proto, ours?.l4, ours?.src]).toEqual([i, t.summary, theirs?.proto, theirs?.l4, theirs?.src]);
    });
  });
});
