/**
 * Writes classic pcap and pcapng files from packets taken out of the real captures, in the
 * variants no tool on the build machine writes: big-endian files, simple packet blocks, custom
 * blocks, several sections, binary timestamp resolutions, timestamp offsets.
 */

/** One packet to write: the captured bytes, the length on the wire, the time in ns since the epoch. */
export interface BuiltPacket {
  frame: Uint8Array;
  wireLength: number;
  ns: bigint;
}

class Writer {
  private readonly bytes: number[] = [];
  constructor(private readonly little: boolean) {}

  u8(v: number): this {
    this.bytes.push(v & 0xff);
    return this;
  }

  u16(v: number): this {
    return this.little ? this.u8(v).u8(v >> 8) : this.u8(v >> 8).u8(v);
  }

  u32(v: number): this {
    return this.little ? this.u16(v & 0xffff).u16(v >>> 16) : this.u16(v >>> 16).u16(v & 0xffff);
  }

  u64(v: bigint): this {
    const hi = Number((v >> 32n) & 0xffffffffn);
    const lo = Number(v & 0xffffffffn);
    return this.little ? this.u32(lo).u32(hi) : this.u32(hi).u32(lo);
  }

  raw(b: Uint8Array): this {
    for (const x of b) this.bytes.push(x);
    return this;
  }

  pad4(): this {
    while (this.bytes.length % 4 !== 0) this.bytes.push(0);
    return this;
  }

  get length(): number {
    return this.bytes.length;
  }

  done(): Uint8Array {
    return Uint8Array.from(this.bytes);
  }
}

/** A classic pcap file in either byte order, with µs or ns timestamps. */
export function buildPcap(packets: BuiltPacket[], o: { little: boolean; nano: boolean; linkType: number; snaplen?: number }): Uint8Array {
  const w = new Writer(o.little);
  w.u32(o.nano ? 0xa1b23c4d : 0xa1b2c3d4).u16(2).u16(4).u32(0).u32(0).u32(o.snaplen ?? 262144).u32(o.linkType);
  for (const p of packets) {
    const seconds = p.ns / 1_000_000_000n;
    const rest = p.ns % 1_000_000_000n;
    w.u32(Number(seconds)).u32(Number(o.nano ? rest : rest / 1000n)).u32(p.frame.length).u32(p.wireLength).raw(p.frame);
  }
  return w.done();
}

/** A pcapng interface description. `tsresol` is the raw if_tsresol byte (bit 7 = power of 2). */
export interface NgInterface {
  linkType: number;
  name?: string;
  tsresol?: number;
  tsoffsetSeconds?: bigint;
  snaplen?: number;
}

export type NgBlock =
  | { kind: 'epb'; iface: number; packet: BuiltPacket; comment?: string }
  | { kind: 'spb'; packet: BuiltPacket }
  | { kind: 'custom'; payload: Uint8Array }
  | { kind: 'isb'; iface: number };

export interface NgSection {
  little: boolean;
  interfaces: NgInterface[];
  blocks: NgBlock[];
}

function block(little: boolean, type: number, body: (w: Writer) => void): Uint8Array {
  const inner = new Writer(little);
  body(inner);
  inner.pad4();
  const content = inner.done();
  const total = content.length + 12;
  return new Writer(little).u32(type).u32(total).raw(content).u32(total).done();
}

function option(w: Writer, code: number, value: Uint8Array): void {
  w.u16(code).u16(value.length).raw(value).pad4();
}

function ticks(ns: bigint, tsresol: number): bigint {
  if (tsresol & 0x80) return (ns << BigInt(tsresol & 0x7f)) / 1_000_000_000n;
  const units = 10n ** BigInt(tsresol);
  return (ns * units) / 1_000_000_000n;
}

/** A pcapng stream of one or more sections (each with its own byte order and interfaces). */
export function buildPcapng(sections: NgSection[]): Uint8Array {
  const out = new Writer(true);
  const text = new TextEncoder();
  for (const s of sections) {
    const le = s.little;
    out.raw(block(le, 0x0a0d0d0a, (w) => {
      w.u32(0x1a2b3c4d).u16(1).u16(0).u64(0xffffffffffffffffn);
      option(w, 4, text.encode('pcap-builder (kubectl-datapath tests)'));
      w.u32(0);
    }));
    for (const i of s.interfaces) {
      out.raw(block(le, 1, (w) => {
        w.u16(i.linkType).u16(0).u32(i.snaplen ?? 262144);
        if (i.name !== undefined) option(w, 2, text.encode(i.name));
        if (i.tsresol !== undefined) option(w, 9, Uint8Array.of(i.tsresol));
        if (i.tsoffsetSeconds !== undefined) option(w, 14, new Writer(le).u64(i.tsoffsetSeconds).done());
        w.u32(0);
      }));
    }
    for (const b of s.blocks) {
      if (b.kind === 'epb') {
        const iface = s.interfaces[b.iface];
        const t = iface === undefined ? 0n : ticks(b.packet.ns - (iface.tsoffsetSeconds ?? 0n) * 1_000_000_000n, iface.tsresol ?? 6);
        out.raw(block(le, 6, (w) => {
          w.u32(b.iface).u32(Number(t >> 32n)).u32(Number(t & 0xffffffffn)).u32(b.packet.frame.length).u32(b.packet.wireLength).raw(b.packet.frame).pad4();
          if (b.comment !== undefined) {
            option(w, 1, text.encode(b.comment));
            w.u32(0);
          }
        }));
      } else if (b.kind === 'spb') {
        out.raw(block(le, 3, (w) => w.u32(b.packet.wireLength).raw(b.packet.frame)));
      } else if (b.kind === 'custom') {
        // Custom block (copiable), private enterprise number 32473 (the documentation PEN).
        out.raw(block(le, 0x00000bad, (w) => w.u32(32473).raw(b.payload)));
      } else {
        out.raw(block(le, 5, (w) => w.u32(b.iface).u32(0).u32(0)));
      }
    }
  }
  return out.done();
}
