import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import type { CaptureEvent } from '../../../src/core/model/event.js';
import type { Packet } from '../../../src/core/model/packet.js';
import { decodeFrame, LINKTYPE_ETHERNET, LINKTYPE_LOOP, LINKTYPE_NULL, LINKTYPE_RAW } from '../../../src/core/parse/frame.js';
import { createPcapStream, decodePcap, type PcapRecord, type PcapStreamEnd } from '../../../src/core/parse/pcap.js';
import { expectGolden } from '../../helpers/golden.js';
import { buildPcap, buildPcapng, type BuiltPacket } from '../../helpers/pcap-builder.js';
import { seededRandom } from '../../helpers/seeded-random.js';

const FIXTURES = fileURLToPath(new URL('../../fixtures/pcap/', import.meta.url));
const GOLDEN = fileURLToPath(new URL('../../golden/pcap/', import.meta.url));
const CAPTURES = readdirSync(FIXTURES).filter((f) => f.endsWith('.pcap') || f.endsWith('.pcapng')).sort();

function fixture(name: string): Uint8Array {
  return new Uint8Array(readFileSync(join(FIXTURES, name)));
}

function events(name: string): CaptureEvent[] {
  return decodePcap(fixture(name)).records.flatMap((r) => (r.kind === 'event' ? [r.event] : []));
}

/** The innermost packet of a tunnel (the packet itself when it carries none). */
function innermost(p: Packet): Packet {
  return p.inner === undefined ? p : innermost(p.inner);
}

/** Feeds `bytes` in the chunk sizes `sizes` yields, cycling, and collects records and the end. */
function feed(bytes: Uint8Array, nextSize: () => number): { records: PcapRecord[]; end: PcapStreamEnd } {
  const stream = createPcapStream();
  const records: PcapRecord[] = [];
  for (let at = 0; at < bytes.length; ) {
    const size = Math.max(1, nextSize());
    // A fresh copy per chunk, as a socket would deliver it.
    records.push(...stream.push(bytes.slice(at, at + size)));
    at += size;
  }
  return { records, end: stream.end() };
}

const random = seededRandom;

/** Records as golden JSON: the frame bytes are replaced by their length. */
function goldenJson(records: PcapRecord[], end: PcapStreamEnd): string {
  const rows = records.map((r) => {
    if (r.kind !== 'event') return r;
    const { frame, ...event } = r.event;
    return { kind: r.kind, offset: r.offset, event: { ...event, frameLength: frame?.length } };
  });
  return `${JSON.stringify({ records: rows, end }, null, 2)}\n`;
}

describe('pcap/pcapng fixtures against golden files', () => {
  test.each(CAPTURES)('%s', (name) => {
    const { records, end } = decodePcap(fixture(name));
    expect(end.error).toBeUndefined();
    expect(records.some((r) => r.kind === 'unparsed' || r.kind === 'error')).toBe(false);
    expectGolden(goldenJson(records, end), join(GOLDEN, `${name}.events.json`));
  });
});

describe('facts the captures are about', () => {
  test('ping-arp: ARP resolution, then echo request/reply pairs with one id and rising seq', () => {
    const ev = events('ping-arp.pcap');
    expect(ev.map((e) => e.packet.arp?.op ?? e.packet.l4?.icmpType)).toEqual(['request', 'reply', 'echo-request', 'echo-reply', 'echo-request', 'echo-reply']);
    expect(ev[0].packet.arp).toEqual({ op: 'request', targetIp: '10.99.0.2', senderIp: '10.99.0.1' });
    expect(ev[0].packet.eth).toEqual({ src: '02:00:00:00:00:0a', dst: 'ff:ff:ff:ff:ff:ff', type: 'arp' });
    expect(ev[1].packet.arp).toEqual({ op: 'reply', targetIp: '10.99.0.2', senderIp: '10.99.0.2', mac: '02:00:00:00:00:0b' });
    const req = ev[2].packet;
    expect(req.ip).toMatchObject({ version: 4, src: '10.99.0.1', dst: '10.99.0.2', ttl: 64, proto: 'icmp', length: 84, flags: 'DF' });
    expect(req.length).toBe(98);
    expect(ev[2].linkType).toBe(1);
    expect(ev[2].frame?.length).toBe(98);
    expect(new Set(ev.slice(2).map((e) => e.packet.l4?.icmpId)).size).toBe(1);
    expect(ev.slice(2).map((e) => e.packet.l4?.icmpSeq)).toEqual([1, 1, 2, 2]);
    expect(ev[2].time?.clock).toBe('wall');
  });

  test('ping-nano: the sub-microsecond part survives as a fraction', () => {
    const nano = events('ping-nano.pcap');
    const fractions = nano.map((e) => e.time!.us % 1);
    expect(fractions.some((f) => f !== 0)).toBe(true);
    // pcapng with if_tsresol 9 (editcap's copy of the same file) gives the same times.
    expect(events('ping-nano.pcapng').map((e) => e.time)).toEqual(nano.map((e) => e.time));
  });

  test('tcp-udp: the handshake is S / S. / . with matching sequence numbers; refused connect is S / R.', () => {
    const ev = events('tcp-udp.pcap');
    const conn = ev.filter((e) => e.packet.l4?.srcPort === 40100 || e.packet.l4?.dstPort === 40100).map((e) => e.packet.l4!);
    expect(conn.map((l4) => l4.tcpFlags)).toEqual(['S', 'S.', '.', 'P.', '.', 'P.', '.', 'F.', 'F.', '.']);
    const [syn, synAck, ack] = conn;
    expect(synAck.tcpAck).toBe((syn.tcpSeq! + 1) >>> 0);
    expect(ack.tcpAck).toBe((synAck.tcpSeq! + 1) >>> 0);
    expect(syn.tcpAck).toBeUndefined();
    expect(conn[3].payloadLength).toBe(5);
    const refused = ev.filter((e) => e.packet.l4?.srcPort === 40101 || e.packet.l4?.dstPort === 40101).map((e) => e.packet.l4?.tcpFlags);
    expect(refused).toEqual(['S', 'R.']);
    const udp = ev.filter((e) => e.packet.l4?.proto === 'udp').map((e) => [e.packet.l4?.srcPort, e.packet.l4?.dstPort, e.packet.l4?.payloadLength]);
    expect(udp).toEqual([[40102, 9999, 4], [9999, 40102, 4], [40102, 5000, 4]]);
    const last = ev.at(-1)!;
    expect(last.packet.l4?.icmpType).toBe('unreachable');
    expect(last.summary).toBe('10.99.0.2 > 10.99.0.1: ICMP 10.99.0.2 udp port 5000 unreachable, length 40');
  });

  test('truncated-snaplen40: frames cut by the snaplen decode as far as they go', () => {
    const [echo, , syn] = events('truncated-snaplen40.pcap');
    expect(echo.frame?.length).toBe(40);
    expect(echo.packet.length).toBe(98);
    expect(echo.packet.ip).toMatchObject({ src: '10.99.0.1', dst: '10.99.0.2', length: 84 });
    expect(echo.packet.l4).toMatchObject({ proto: 'icmp', icmpType: 'echo-request' });
    expect(echo.packet.l4?.icmpId).toEqual(expect.any(Number));
    expect(echo.packet.l4?.icmpSeq).toBeUndefined();
    expect(echo.summary).toBe('10.99.0.1 > 10.99.0.2:  [|icmp]');
    expect(syn.packet.l4).toEqual({ proto: 'tcp', srcPort: expect.any(Number), dstPort: 8081 });
  });

  test('sll and sll2: packet types become directions; SLL2 keeps the ifindex, not a name', () => {
    for (const name of ['sll.pcap', 'sll2.pcap']) {
      const ev = events(name);
      const dir = (pred: (e: CaptureEvent) => boolean) => ev.filter(pred).map((e) => e.packet.cooked?.direction);
      expect(dir((e) => e.packet.arp?.op === 'request')).toEqual(['B']);
      expect(dir((e) => e.packet.arp?.op === 'reply')).toEqual(['Out']);
      expect(dir((e) => e.packet.ip?.dst === '10.99.0.2' && e.packet.l4?.icmpType === 'echo-request')).toEqual(['In']);
      expect(dir((e) => e.packet.ip?.src === '10.99.0.2' && e.packet.l4?.icmpType === 'echo-reply')).toEqual(['Out']);
      expect(dir((e) => e.packet.ip?.dst === 'ff02::1')).toEqual(['M']);
      expect(dir((e) => e.packet.ip?.dst === '10.99.0.3')).toEqual(['P']);
      expect(ev.every((e) => e.packet.eth === undefined && e.packet.cooked?.ifname === undefined)).toBe(true);
      expect(ev[0].packet.cooked?.src).toBe('02:00:00:00:00:0a');
      const ifindexes = new Set(ev.map((e) => e.packet.cooked?.ifindex));
      if (name === 'sll2.pcap') {
        expect(ifindexes.size).toBe(1);
        expect([...ifindexes][0]).toBeGreaterThan(0);
      } else expect([...ifindexes]).toEqual([undefined]);
    }
  });

  test('vxlan-8472: Cilium port, VNI 42, inner ARP and ICMP between the VXLAN devices', () => {
    const ev = events('vxlan-8472.pcap');
    expect(ev.map((e) => e.packet.encap)).toEqual(ev.map(() => ({ kind: 'vxlan', vni: 42 })));
    expect(ev.every((e) => e.packet.l4?.proto === 'udp' && e.packet.l4.dstPort === 8472)).toBe(true);
    const icmp = ev.filter((e) => e.packet.inner?.l4?.proto === 'icmp').map((e) => e.packet.inner!);
    expect(icmp.map((p) => [p.ip?.src, p.ip?.dst, p.l4?.icmpType])).toEqual([
      ['10.98.0.1', '10.98.0.2', 'echo-request'], ['10.98.0.2', '10.98.0.1', 'echo-reply'],
      ['10.98.0.1', '10.98.0.2', 'echo-request'], ['10.98.0.2', '10.98.0.1', 'echo-reply'],
    ]);
    expect(icmp[0].eth).toEqual({ src: '02:00:00:00:42:01', dst: '02:00:00:00:42:02', type: 'ipv4' });
    expect(ev[0].packet.inner?.arp).toEqual({ op: 'request', targetIp: '10.98.0.2', senderIp: '10.98.0.1' });
    expect(ev[0].packet.ip).toMatchObject({ src: '10.99.0.1', dst: '10.99.0.2' });
  });

  test('vxlan-4789 and geneve: VNI and inner packet', () => {
    expect(new Set(events('vxlan-4789.pcap').map((e) => e.packet.encap?.vni))).toEqual(new Set([4242]));
    const geneve = events('geneve.pcap').filter((e) => e.packet.encap !== undefined);
    expect(geneve).toHaveLength(2);
    for (const [i, e] of geneve.entries()) {
      expect(e.packet.encap).toEqual({ kind: 'geneve', vni: 7 });
      expect(e.packet.inner?.eth).toEqual({ src: '02:00:00:00:07:0a', dst: '02:00:00:00:07:0b', type: 'ipv4' });
      expect(e.packet.inner?.ip).toMatchObject({ src: '10.94.0.1', dst: '10.94.0.2' });
      expect(e.packet.inner?.l4).toMatchObject({ icmpType: 'echo-request', icmpId: 0x66, icmpSeq: i + 1 });
    }
    // The first carries an 8-byte option the decoder must skip.
    expect(geneve[0].summary).toContain('options [8 bytes]: 02:00:00:00:07:0a > 02:00:00:00:07:0b');
  });

  test('vlan-qinq: 802.1Q and 802.1ad tags, outermost first', () => {
    const ev = events('vlan-qinq.pcap');
    expect(ev.map((e) => e.packet.eth?.vlans)).toEqual([[10], [10], [100, 10], [20]]);
    expect(ev.map((e) => e.packet.eth?.type)).toEqual(['vlan', 'vlan', 'qinq', 'vlan']);
    expect(ev[0].packet.arp).toMatchObject({ op: 'request', targetIp: '10.96.0.2' });
    expect(ev[2].packet.ip).toMatchObject({ src: '10.96.0.1', dst: '10.96.0.2' });
    expect(ev[2].packet.l4).toMatchObject({ icmpType: 'echo-request', icmpId: 0x77, icmpSeq: 2 });
  });

  test('ipip-esp: IP-in-IP inner packet and ESP SPI', () => {
    const ev = events('ipip-esp.pcap');
    const ipip = ev.find((e) => e.packet.encap?.kind === 'ipip')!;
    expect(ipip.packet.ip?.proto).toBe('ipip');
    expect(ipip.packet.inner?.ip).toMatchObject({ src: '10.93.0.1', dst: '10.93.0.2', proto: 'icmp' });
    expect(ipip.packet.inner?.l4).toMatchObject({ icmpType: 'echo-request', icmpId: 0x55, icmpSeq: 1 });
    const esp = ev.filter((e) => e.packet.ip?.proto === 'esp');
    expect(esp.map((e) => e.packet.encap)).toEqual([{ kind: 'esp', spi: 0x12345678 }, { kind: 'esp', spi: 0x12345678 }]);
    expect(esp[1].summary).toBe('10.99.0.1 > 10.99.0.2: ESP(spi=0x12345678,seq=0x2), length 48');
  });

  test('ipv6: extension headers skipped; RS, RA, NS, NA and echo recognised', () => {
    const ev = events('ipv6.pcap');
    const types = new Set(ev.map((e) => e.packet.l4?.icmpType));
    for (const t of ['router-solicitation', 'router-advertisement', 'neighbor-solicitation', 'neighbor-advertisement', 'echo-request', 'echo-reply']) expect(types).toContain(t);
    expect(ev.every((e) => e.packet.ip?.version === 6 && e.packet.ip.proto === 'icmp6')).toBe(true);
    const mld = ev.find((e) => e.summary.includes('HBH'))!;
    expect(mld.packet.ip?.dst).toBe('ff02::16');
    const echo = ev.find((e) => e.packet.l4?.icmpType === 'echo-request')!;
    expect(echo.packet.ip).toMatchObject({ src: 'fd00:99::1', dst: 'fd00:99::2', ttl: 64, length: 64 });
    expect(echo.packet.l4?.icmpSeq).toBe(1);
  });

  test('raw-tun: link type RAW has no link layer', () => {
    const ev = events('raw-tun.pcap');
    expect(ev.map((e) => [e.linkType, e.packet.eth, e.packet.l4?.icmpType])).toEqual([
      [101, undefined, 'echo-request'], [101, undefined, 'echo-reply'], [101, undefined, 'echo-request'], [101, undefined, 'echo-reply'],
    ]);
  });

  test('pcapng: interface names from the IDB, same packets as the pcap it was converted from', () => {
    const two = events('dumpcap-two-ifaces.pcapng');
    expect(new Set(two.map((e) => e.iface))).toEqual(new Set(['veth-b', 'lo']));
    expect(two.filter((e) => e.iface === 'lo').every((e) => e.packet.ip?.src === '127.0.0.1')).toBe(true);
    const strip = (e: CaptureEvent) => ({ ...e, iface: undefined });
    expect(events('ping-arp.pcapng').map(strip)).toEqual(events('ping-arp.pcap').map(strip));
    const extra = decodePcap(fixture('tcp-udp-extra-blocks.pcapng'));
    expect(extra.end.skippedBlocks).toBe(2); // the decryption secrets and name resolution blocks
    expect(extra.records.flatMap((r) => (r.kind === 'event' ? [r.event] : [])).map(strip)).toEqual(events('tcp-udp.pcap').map(strip));
  });
});

describe('agreement with tcpdump -tt -nn -e -S -r, packet for packet', () => {
  const probe = spawnSync('tcpdump', ['--version'], { encoding: 'utf8' });
  const haveTcpdump = probe.error === undefined && probe.status === 0;
  if (!haveTcpdump && process.env.CI !== 'true') {
    console.warn(`skipping the tcpdump cross-check: tcpdump cannot run here (${probe.error?.message ?? `exit ${probe.status}`})`);
  }
  const crossCheck = haveTcpdump || process.env.CI === 'true' ? test.each(CAPTURES) : test.skip.each(CAPTURES);

  /** tcpdump's packets: one per timestamped line, continuation lines (VXLAN's inner frame) joined to it. */
  function tcpdumpPackets(name: string): { us: number; text: string }[] {
    const run = spawnSync('tcpdump', ['-tt', '-nn', '-e', '-S', '-r', join(FIXTURES, name)], { encoding: 'utf8' });
    if (run.error !== undefined) throw run.error;
    expect(run.status).toBe(0);
    const packets: { us: number; text: string }[] = [];
    for (const line of run.stdout.split('\n')) {
      const m = /^(\d+)\.(\d{6}) (.*)$/.exec(line);
      if (m) packets.push({ us: Number(m[1]) * 1e6 + Number(m[2]), text: m[3] });
      else if (line !== '') packets[packets.length - 1].text += `\n${line}`;
    }
    return packets;
  }

  /** tcpdump's text after the outer link-layer header, in our spelling of the few things we print differently. */
  function networkText(text: string, e: CaptureEvent): string {
    let rest = text;
    if (e.linkType === LINKTYPE_RAW) rest = rest.replace(/^ip: /, '');
    else {
      const m = /^.*?, length (\d+): /.exec(rest);
      expect(m).not.toBeNull();
      expect(Number(m![1])).toBe(e.packet.length);
      rest = rest.slice(m![0].length);
    }
    // tcpdump names Cilium's VXLAN port 8472 OTV, and prints a VXLAN packet's inner frame on a new line.
    rest = rest.replace(/OTV, flags \[I\] \(0x08\), overlay 0, instance (\d+)/g, 'VXLAN, flags [I] (0x08), vni $1');
    return rest.replace(/(vni \d+)\n/g, '$1: ');
  }

  /** The addresses, protocol and ICMP id/seq tcpdump printed for the innermost packet. */
  function tcpdumpFacts(text: string): { src?: string; dst?: string; proto?: string; icmpId?: number; icmpSeq?: number } {
    const pairs = [...text.matchAll(/(\S+) > (\S+): /g)];
    const last = pairs.at(-1);
    const stripPort = (a: string) => (/^\d+\.\d+\.\d+\.\d+\.\d+$/.test(a) || (a.includes(':') && /\.\d+$/.test(a)) ? a.replace(/\.\d+$/, '') : a);
    const tail = last ? text.slice(last.index! + last[0].length) : text;
    const cut = tail.startsWith(' [|') ? tail.slice(3) : tail;
    const proto = /(^|: )(Request who-has|Reply \S+ is-at) /.test(text) ? 'arp'
      : cut.startsWith('ICMP6') || / ICMP6, /.test(cut) ? 'icmp6'
        : cut.startsWith('ICMP ') || cut.startsWith('icmp]') ? 'icmp'
          : cut.startsWith('Flags [') || cut.startsWith('tcp]') ? 'tcp'
            : cut.startsWith('UDP') ? 'udp'
              : cut.startsWith('ESP(') ? 'esp' : undefined;
    const echo = /id (\d+), seq (\d+)/.exec(tail);
    return {
      src: last ? stripPort(last[1]) : undefined,
      dst: last ? stripPort(last[2]) : undefined,
      proto,
      icmpId: echo ? Number(echo[1]) : undefined,
      icmpSeq: echo ? Number(echo[2]) : undefined,
    };
  }

  crossCheck('%s', (name) => {
    const ours = events(name);
    const theirs = tcpdumpPackets(name);
    expect(ours).toHaveLength(theirs.length);
    ours.forEach((e, i) => {
      const t = theirs[i];
      expect(Math.floor(e.time!.us)).toBe(t.us);
      if (e.packet.eth) expect(t.text.startsWith(`${e.packet.eth.src} > ${e.packet.eth.dst}, `)).toBe(true);
      if (e.packet.cooked) {
        expect(t.text).toMatch(new RegExp(`(^|\\s)${e.packet.cooked.direction}\\s`));
        if (e.packet.cooked.ifindex !== undefined) expect(t.text).toContain(`ifindex ${e.packet.cooked.ifindex} `);
      }
      const rest = networkText(t.text, e);
      // tcpdump decodes some applications further (`length 5: HTTP`); up to there the text is the same.
      if (rest !== e.summary) expect(rest.startsWith(`${e.summary}: `) ? e.summary : rest).toBe(e.summary);
      const facts = tcpdumpFacts(rest);
      const inner = innermost(e.packet);
      if (facts.proto === 'arp') expect(inner.arp).toBeDefined();
      else {
        expect([facts.src, facts.dst]).toEqual([inner.ip?.src, inner.ip?.dst]);
        expect(facts.proto).toBe(inner.ip?.proto);
      }
      // Where tcpdump prints no id/seq we have no seq either (a cut frame may still show its id).
      if (facts.icmpId !== undefined) expect([facts.icmpId, facts.icmpSeq]).toEqual([inner.l4?.icmpId, inner.l4?.icmpSeq]);
      else expect(inner.l4?.icmpSeq).toBeUndefined();
    });
  });

  const nanoCheck = haveTcpdump || process.env.CI === 'true' ? test : test.skip;
  nanoCheck('ping-nano: our fractional microseconds are tcpdump --nano nanoseconds / 1000', () => {
    const run = spawnSync('tcpdump', ['-tt', '--nano', '-nn', '-r', join(FIXTURES, 'ping-nano.pcap')], { encoding: 'utf8' });
    const stamps = run.stdout.trim().split('\n').map((l) => /^(\d+)\.(\d{9}) /.exec(l)!).map((m) => Number(m[1]) * 1e6 + Number(m[2]) / 1000);
    const ours = events('ping-nano.pcap').map((e) => e.time!.us);
    expect(ours).toHaveLength(stamps.length);
    ours.forEach((us, i) => expect(Math.abs(us - stamps[i])).toBeLessThan(0.5));
  });
});

describe('chunk boundaries', () => {
  test.each(CAPTURES)('%s: 1-byte chunks and random chunk sizes give the same records as one push', (name) => {
    const bytes = fixture(name);
    const whole = decodePcap(bytes);
    expect(feed(bytes, () => 1)).toEqual(whole);
    for (const seed of [1, 2, 3, 42]) {
      const r = random(seed);
      expect(feed(bytes, () => Math.floor(r() * 200))).toEqual(whole);
    }
    const r = random(7);
    expect(feed(bytes, () => Math.floor(r() * 5000))).toEqual(whole);
  });

  test('a record split across chunks is copied out of the carry, others are views of the chunk', () => {
    const bytes = fixture('ping-arp.pcap');
    const stream = createPcapStream();
    const first = stream.push(bytes.subarray(0, 100));
    const rest = bytes.slice(100);
    const second = stream.push(rest);
    expect(first.map((r) => r.kind)).toEqual(['meta', 'event']);
    const split = second[0].kind === 'event' ? second[0].event.frame! : undefined;
    expect(split?.buffer).not.toBe(rest.buffer);
    const whole = second[1].kind === 'event' ? second[1].event.frame! : undefined;
    expect(whole?.buffer).toBe(rest.buffer);
  });
});

describe('corrupt and odd input never throws and says what is wrong', () => {
  test('zero-length input', () => {
    const s = createPcapStream();
    expect(s.push(new Uint8Array(0))).toEqual([]);
    expect(s.end()).toEqual({ bytes: 0, packets: 0, skippedBlocks: 0, error: 'empty input (0 bytes): not a pcap or pcapng file' });
  });

  test('random junk', () => {
    const r = random(99);
    for (let n = 0; n < 50; n++) {
      const junk = Uint8Array.from({ length: 1 + Math.floor(r() * 3000) }, () => Math.floor(r() * 256));
      const { records, end } = decodePcap(junk);
      if (junk.length < 4) {
        expect(records).toEqual([]);
        expect(end.error).toMatch(/^not a pcap or pcapng file \(only \d bytes\)$/);
      } else {
        expect(records).toHaveLength(1);
        expect(records[0]).toMatchObject({ kind: 'error', offset: 0 });
        expect(end.error).toMatch(/^not a pcap or pcapng file \(starts with 0x[0-9a-f]{8}\)$/);
      }
    }
    expect(decodePcap(new TextEncoder().encode('12:00:00.000000 IP 10.0.0.1 > 10.0.0.2: ICMP echo request\n')).end.error).toBe('not a pcap or pcapng file (starts with 0x31323a30)');
  });

  test('truncated file headers', () => {
    expect(decodePcap(fixture('ping-arp.pcap').subarray(0, 10)).end.error).toBe('truncated pcap file header (10 of 24 bytes)');
    expect(decodePcap(fixture('ping-arp.pcapng').subarray(0, 10)).end.error).toBe('truncated pcapng section header (10 of 12 bytes)');
    expect(decodePcap(fixture('ping-arp.pcapng').subarray(0, 50)).end.error).toBe('truncated pcapng section header (50 of 108 bytes)');
  });

  test('a truncated last record keeps the whole ones before it', () => {
    const bytes = fixture('ping-arp.pcap');
    const cut = decodePcap(bytes.subarray(0, bytes.length - 5));
    expect(cut.records.filter((r) => r.kind === 'event')).toHaveLength(5);
    const lastOffset = decodePcap(bytes).records.at(-1)!.offset;
    expect(cut.end.error).toBe(`truncated record at byte ${lastOffset} (${bytes.length - 5 - lastOffset} of ${bytes.length - lastOffset} bytes)`);
    const ng = fixture('ping-arp.pcapng');
    const ngCut = decodePcap(ng.subarray(0, ng.length - 1));
    expect(ngCut.records.filter((r) => r.kind === 'event')).toHaveLength(5);
    expect(ngCut.end.error).toMatch(/^truncated block at byte \d+ \(131 of 132 bytes\)$/);
  });

  test('an impossible record length stops the stream with an error record', () => {
    const bytes = fixture('ping-arp.pcap').slice();
    new DataView(bytes.buffer).setUint32(24 + 8, 0x7fffffff, true);
    const { records, end } = decodePcap(bytes);
    expect(records.map((r) => r.kind)).toEqual(['meta', 'error']);
    expect(end.error).toBe('corrupt record at byte 24: captured length 2147483647 exceeds the snapshot length 262144');
    expect(createPcapStream().push(bytes).at(-1)).toMatchObject({ kind: 'error', offset: 24 });
  });

  test('a pcapng block whose trailing length disagrees, and a packet on an undeclared interface', () => {
    const ng = fixture('ping-arp.pcapng').slice();
    const view = new DataView(ng.buffer);
    const firstEpb = 108 + 20;
    view.setUint32(firstEpb + 8, 7, true); // interface 7 was never declared
    const undeclared = decodePcap(ng);
    expect(undeclared.records[2]).toEqual({ kind: 'unparsed', offset: firstEpb, reason: `packet block at byte ${firstEpb} names interface 7, which the section did not declare` });
    expect(undeclared.records.filter((r) => r.kind === 'event')).toHaveLength(5);
    view.setUint32(firstEpb + 72, 1, true); // the EPB's trailing total length
    expect(decodePcap(ng).end.error).toBe(`corrupt block at byte ${firstEpb}: its trailing length does not repeat 76`);
  });

  test('flipped bytes anywhere in real captures never make the decoder throw', () => {
    const r = random(5);
    for (const name of CAPTURES) {
      const original = fixture(name);
      for (let n = 0; n < 40; n++) {
        const bytes = original.slice();
        for (let k = 0; k < 1 + Math.floor(r() * 8); k++) bytes[Math.floor(r() * bytes.length)] = Math.floor(r() * 256);
        const { records, end } = decodePcap(bytes);
        expect(Array.isArray(records)).toBe(true);
        expect(typeof end.bytes).toBe('number');
        for (const rec of records) if (rec.kind === 'unparsed') expect(rec.reason).not.toMatch(/could not be decoded/);
      }
    }
  });

  test('every frame of every capture decodes at every cut length without throwing', () => {
    for (const name of CAPTURES) {
      for (const e of events(name)) {
        const frame = e.frame!;
        for (let len = 0; len <= frame.length; len++) {
          const p = decodeFrame(e.linkType!, frame.subarray(0, len), e.packet.length);
          expect(p.length).toBe(e.packet.length);
        }
        expect(decodeFrame(e.linkType!, frame, e.packet.length)).toEqual(e.packet);
      }
    }
  });
});

describe('variants built from the real packets', () => {
  const ping = events('ping-arp.pcap');
  const packets: BuiltPacket[] = ping.map((e) => ({ frame: e.frame!, wireLength: e.packet.length!, ns: BigInt(e.time!.us) * 1000n + 123n }));
  const plain = (list: CaptureEvent[]) => list.map((e) => ({ summary: e.summary, packet: e.packet, frame: e.frame, iface: e.iface }));

  test('classic pcap in both byte orders, µs and ns', () => {
    for (const little of [true, false]) {
      for (const nano of [false, true]) {
        const { records, end } = decodePcap(buildPcap(packets, { little, nano, linkType: 1 }));
        expect(end.error).toBeUndefined();
        expect(records[0]).toMatchObject({ kind: 'meta', meta: { linkType: 'EN10MB', note: expect.stringContaining(little ? 'little-endian' : 'big-endian') } });
        const ev = records.flatMap((r) => (r.kind === 'event' ? [r.event] : []));
        expect(plain(ev)).toEqual(plain(ping));
        expect(ev.map((e) => e.time!.us)).toEqual(ping.map((e) => e.time!.us + (nano ? 0.123 : 0)));
      }
    }
  });

  test('pcapng: both byte orders, two sections, SPB, custom and statistics blocks skipped', () => {
    for (const little of [true, false]) {
      const bytes = buildPcapng([
        {
          little,
          interfaces: [{ linkType: 1, name: 'lxc12345' }, { linkType: 1, name: 'eth0', tsresol: 9, tsoffsetSeconds: 3600n }],
          blocks: [
            { kind: 'epb', iface: 0, packet: packets[0], comment: 'a comment option' },
            { kind: 'custom', payload: Uint8Array.of(1, 2, 3, 4, 5) },
            { kind: 'epb', iface: 1, packet: packets[1] },
            { kind: 'isb', iface: 0 },
          ],
        },
        { little: !little, interfaces: [{ linkType: 1, name: 'cilium_vxlan', tsresol: 0x80 | 20 }], blocks: [{ kind: 'epb', iface: 0, packet: packets[2] }, { kind: 'spb', packet: packets[3] }] },
      ]);
      const { records, end } = decodePcap(bytes);
      expect(end).toEqual({ bytes: bytes.length, packets: 4, skippedBlocks: 2, format: 'pcapng' });
      const ev = records.flatMap((r) => (r.kind === 'event' ? [r.event] : []));
      expect(ev.map((e) => e.iface)).toEqual(['lxc12345', 'eth0', 'cilium_vxlan', 'cilium_vxlan']);
      expect(ev.map((e) => e.summary)).toEqual(ping.slice(0, 4).map((e) => e.summary));
      expect(ev[0].time!.us).toBe(ping[0].time!.us);
      expect(Math.abs(ev[1].time!.us - (ping[1].time!.us + 0.123))).toBeLessThan(0.5);
      // 2^-20 s units: within one unit (< 1 µs) of the original.
      expect(Math.abs(ev[2].time!.us - ping[2].time!.us)).toBeLessThan(1);
      expect(ev[3].time).toBeUndefined(); // simple packet blocks carry no timestamp
      expect(records.filter((r) => r.kind === 'meta').map((r) => (r.kind === 'meta' ? r.meta.iface : ''))).toEqual([undefined, 'lxc12345', 'eth0', undefined, 'cilium_vxlan']);
    }
  });

  test('NULL and LOOP link types: the IP packets of the RAW capture behind a BSD loopback header', () => {
    for (const e of events('raw-tun.pcap')) {
      const ip = e.frame!;
      for (const [linkType, header] of [
        [LINKTYPE_NULL, Uint8Array.of(2, 0, 0, 0)],
        [LINKTYPE_NULL, Uint8Array.of(0, 0, 0, 2)],
        [LINKTYPE_LOOP, Uint8Array.of(0, 0, 0, 2)],
      ] as const) {
        const frame = new Uint8Array(4 + ip.length);
        frame.set(header);
        frame.set(ip, 4);
        expect(decodeFrame(linkType, frame, frame.length)).toEqual({ ...e.packet, length: frame.length });
      }
    }
  });

  test('IPv6 addresses are written as inet_ntop writes them', () => {
    // Expected texts from glibc inet_ntop (Python's socket.inet_ntop on the build machine).
    const cases: [string, string][] = [
      ['2001:0db8:0000:0001:0000:0000:0000:0001', '2001:db8:0:1::1'],
      ['2001:0db8:0000:0000:0001:0000:0000:0001', '2001:db8::1:0:0:1'],
      ['0000:0000:0000:0000:0000:ffff:0a00:0001', '::ffff:10.0.0.1'],
      ['0000:0000:0000:0000:0000:0000:0000:0001', '::1'],
      ['0000:0000:0000:0000:0000:0000:0000:0000', '::'],
      ['fe80:0000:0000:0000:0001:0000:0000:0000', 'fe80::1:0:0:0'],
      ['0001:0000:0002:0000:0003:0000:0004:0000', '1:0:2:0:3:0:4:0'],
      ['0000:0000:0000:0000:0000:0000:0a00:0001', '::10.0.0.1'],
    ];
    for (const [full, text] of cases) {
      const header = new Uint8Array(40);
      header[0] = 0x60;
      header[6] = 59; // no next header
      full.split(':').forEach((group, i) => {
        header[8 + 2 * i] = parseInt(group.slice(0, 2), 16);
        header[9 + 2 * i] = parseInt(group.slice(2), 16);
      });
      expect(decodeFrame(LINKTYPE_RAW, header).ip?.src).toBe(text);
    }
  });

  test('an Ethernet frame with an unknown ethertype still names its addresses', () => {
    const frame = Uint8Array.of(1, 2, 3, 4, 5, 6, 0xa, 0xb, 0xc, 0xd, 0xe, 0xf, 0x88, 0xcc, 0, 0);
    expect(decodeFrame(LINKTYPE_ETHERNET, frame)).toEqual({ length: 16, eth: { src: '0a:0b:0c:0d:0e:0f', dst: '01:02:03:04:05:06', type: '0x88cc' } });
  });
});

describe('what tcpdump 4.99.3 cannot print and the decoder must still read (test/fixtures/tcpdump-forms/forms.pcap)', () => {
  const forms = decodePcap(new Uint8Array(readFileSync(join(FIXTURES, '..', 'tcpdump-forms', 'forms.pcap')))).records.flatMap((r) => (r.kind === 'event' ? [r.event] : []));
  const byPort = (port: number) => forms.find((e) => e.packet.l4?.srcPort === port)!.packet;

  it('BIG TCP over IPv4: total length 0, the frame gives the length (Linux >= 6.3, tcpdump "presumed BIG TCP")', () => {
    const p = byPort(40006);
    expect(p.ip).toMatchObject({ version: 4, src: '10.0.1.10', dst: '10.0.2.20', proto: 'tcp', length: 70040 });
    expect(p.l4).toMatchObject({ proto: 'tcp', srcPort: 40006, dstPort: 5201, tcpSeq: 10000 });
  });

  it('BIG TCP over IPv6: payload length 0, the hop-by-hop jumbo option gives it, the TCP behind it is read', () => {
    const p = byPort(40007);
    expect(p.ip).toMatchObject({ version: 6, proto: 'tcp', length: 70028 });
    expect(p.l4).toMatchObject({ proto: 'tcp', srcPort: 40007, dstPort: 5201, tcpSeq: 20000 });
  });

  it('IPv6 extension headers: the upper protocol and ports behind hop-by-hop, routing, destination options, a first fragment', () => {
    expect([40001, 40002, 40003, 40004].map((port) => [byPort(port).ip?.proto, byPort(port).l4?.dstPort])).toEqual([['tcp', 443], ['udp', 53], ['tcp', 8080], ['udp', 9000]]);
  });
});

describe('records the decoder cannot read count as not understood', () => {
  const ping = events('ping-arp.pcap')[2];
  const packet = (frame: Uint8Array): BuiltPacket => ({ frame, wireLength: frame.length, ns: 1_700_000_000_000_000_000n });

  it('an unsupported link type (USER0, 147)', () => {
    const file = buildPcap([packet(ping.frame!)], { little: true, nano: false, linkType: 147 });
    const records = decodePcap(file).records.filter((r) => r.kind !== 'meta');
    expect(records.map((r) => r.kind)).toEqual(['unparsed']);
    expect(records[0].kind === 'unparsed' && records[0].reason).toMatch(/not decoded: unsupported link type 147/);
  });

  it('an Ethernet record shorter than its own header', () => {
    const records = decodePcap(buildPcap([packet(ping.frame!.slice(0, 10))], { little: true, nano: false, linkType: LINKTYPE_ETHERNET })).records.filter((r) => r.kind !== 'meta');
    expect(records.map((r) => r.kind)).toEqual(['unparsed']);
  });

  it('the same frame on its own link type is an event', () => {
    const records = decodePcap(buildPcap([packet(ping.frame!)], { little: true, nano: false, linkType: LINKTYPE_ETHERNET })).records.filter((r) => r.kind !== 'meta');
    expect(records.map((r) => r.kind)).toEqual(['event']);
  });
});
