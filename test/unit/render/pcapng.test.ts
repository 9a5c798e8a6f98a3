import { readFileSync } from 'node:fs';
import { decodePcap } from '../../../src/core/parse/pcap.js';
import type { CaptureEvent } from '../../../src/core/model/event.js';
import { encodePcapng, microsToNanos, pcapngPacketBlock } from '../../../src/render/pcapng.js';

/** Real frames: the ping-arp capture (Ethernet, µs) and the nanosecond ping capture. */
function frames(file: string): CaptureEvent[] {
  const { records } = decodePcap(new Uint8Array(readFileSync(`test/fixtures/pcap/${file}`)));
  return records.flatMap((r) => (r.kind === 'event' ? [r.event] : []));
}

/** The option list of a pcapng block as [code, utf-8 text] pairs (little-endian, after `bodyLength`). */
function options(block: Uint8Array, bodyLength: number): [number, string][] {
  const view = new DataView(block.buffer, block.byteOffset, block.byteLength);
  const out: [number, string][] = [];
  for (let at = 8 + ((bodyLength + 3) & ~3); at < block.length - 4; ) {
    const code = view.getUint16(at, true);
    const len = view.getUint16(at + 2, true);
    if (code === 0) break;
    out.push([code, new TextDecoder().decode(block.subarray(at + 4, at + 4 + len))]);
    at += 4 + ((len + 3) & ~3);
  }
  return out;
}

describe('pcapng writer', () => {
  it('writes frames our own decoder reads back: interface names, link types, bytes, wire lengths, stamps', () => {
    const eth = frames('ping-arp.pcap');
    const sll2 = frames('sll2.pcap');
    const file = encodePcapng(
      [{ name: 'pod:default/same/eth0', linkType: eth[0].linkType! }, { name: 'host:bpf1/any', linkType: sll2[0].linkType! }],
      [
        ...eth.map((e) => ({ interfaceId: 0, timestampNs: microsToNanos(e.time!.us), data: e.frame!, originalLength: e.packet.length! })),
        ...sll2.map((e) => ({ interfaceId: 1, timestampNs: microsToNanos(e.time!.us), data: e.frame!, originalLength: e.packet.length!, comments: ['seen'] })),
      ],
      { application: 'test' },
    );
    const { records, end } = decodePcap(file);
    expect(end.error).toBeUndefined();
    expect(end.format).toBe('pcapng');
    const metas = records.flatMap((r) => (r.kind === 'meta' && r.meta.iface ? [[r.meta.iface, r.meta.linkType]] : []));
    expect(metas).toEqual([
      ['pod:default/same/eth0', 'EN10MB'],
      ['host:bpf1/any', 'LINUX_SLL2'],
    ]);
    const back = records.flatMap((r) => (r.kind === 'event' ? [r.event] : []));
    expect(back).toHaveLength(eth.length + sll2.length);
    [...eth, ...sll2].forEach((orig, i) => {
      expect(back[i].frame).toEqual(orig.frame);
      expect(back[i].packet).toEqual(orig.packet);
      expect(back[i].summary).toBe(orig.summary);
      expect(Math.abs(back[i].time!.us - orig.time!.us)).toBeLessThan(0.001);
    });
    expect(back[0].iface).toBe('pod:default/same/eth0');
  });

  it('keeps nanosecond stamps to the precision the decoder carried them', () => {
    const nano = frames('ping-nano.pcap');
    const ns = nano.map((e) => microsToNanos(e.time!.us));
    // The file's stamps (tshark -r ping-nano.pcap -T fields -e frame.time_epoch) end in whole ns;
    // the double that carried them is exact to a quarter of a microsecond at today's epoch values.
    for (const n of ns) expect(n % 1000n).not.toBe(0n);
    expect(ns[1] - ns[0]).toBeGreaterThan(0n);
    expect(microsToNanos(1_795_623_092_832_060)).toBe(1_795_623_092_832_060_000n);
    expect(microsToNanos(1.5)).toBe(1500n);
  });

  it('lays an enhanced packet block out by the spec: 32-bit aligned, comments as opt_comment, lengths repeated', () => {
    const data = Uint8Array.of(1, 2, 3, 4, 5);
    const block = pcapngPacketBlock({ interfaceId: 3, timestampNs: 0x1_0000_0002n, data, originalLength: 60, comments: ['a', 'ünï', ''] });
    const view = new DataView(block.buffer);
    expect(block.length % 4).toBe(0);
    expect(view.getUint32(0, true)).toBe(6);
    expect(view.getUint32(4, true)).toBe(block.length);
    expect(view.getUint32(block.length - 4, true)).toBe(block.length);
    expect(view.getUint32(8, true)).toBe(3);
    expect([view.getUint32(12, true), view.getUint32(16, true)]).toEqual([1, 2]);
    expect([view.getUint32(20, true), view.getUint32(24, true)]).toEqual([5, 60]);
    expect(options(block, 20 + data.length)).toEqual([
      [1, 'a'],
      [1, 'ünï'],
    ]);
  });

  it('cuts a comment longer than an option can hold on a character boundary', () => {
    const long = 'é'.repeat(40000);
    const block = pcapngPacketBlock({ interfaceId: 0, timestampNs: 0n, data: new Uint8Array(4), originalLength: 4, comments: [long] });
    const [[code, text]] = options(block, 24);
    expect(code).toBe(1);
    expect(text).toBe('é'.repeat(32767));
  });
});
