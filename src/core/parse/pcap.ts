import type { CaptureEvent } from '../model/event.js';
import type { Packet } from '../model/packet.js';
import { decodeFrameInto, linkTypeName } from './frame.js';
import type { StreamMeta } from './result.js';

/**
 * What one unit of a pcap/pcapng stream meant:
 * - event:    a packet record, decoded.
 * - meta:     a file header, pcapng section header or interface description.
 * - unparsed: one record that could not be used (a packet on an undeclared interface); the stream goes on.
 * - error:    the stream cannot be read further (not a capture, a corrupt length); nothing follows it.
 * `offset` is the byte offset of the unit in the stream.
 */
export type PcapRecord =
  | { kind: 'event'; event: CaptureEvent; offset: number }
  | { kind: 'meta'; meta: StreamMeta; offset: number }
  | { kind: 'unparsed'; reason: string; offset: number }
  | { kind: 'error'; reason: string; offset: number };

/** How a pcap/pcapng stream ended. */
export interface PcapStreamEnd {
  format?: 'pcap' | 'pcapng';
  bytes: number;
  packets: number;
  /** pcapng blocks read and deliberately not turned into records: statistics, name resolution, secrets, custom. */
  skippedBlocks: number;
  /** Why the stream is unreadable or incomplete (a truncated record at the end); undefined when it is whole. */
  error?: string;
}

/** A pcap/pcapng decoder fed arbitrary chunks, as `tcpdump -w - -U` output arrives. */
export interface PcapStream {
  /**
   * Decodes what `chunk` completes. Frames of records that lie inside one chunk are views into
   * that chunk (not copies), so a caller must not reuse the chunk's buffer afterwards.
   */
  push(chunk: Uint8Array): PcapRecord[];
  /** Says whether the stream stopped on a record boundary, and if not, where and why. */
  end(): PcapStreamEnd;
}

/** createPcapStream: a decoder for one classic pcap or pcapng stream (both byte orders, µs/ns). */
export function createPcapStream(): PcapStream {
  return new PcapDecoder();
}

/** decodePcap: a whole capture file at once. */
export function decodePcap(bytes: Uint8Array): { records: PcapRecord[]; end: PcapStreamEnd } {
  const stream = createPcapStream();
  const records = stream.push(bytes);
  return { records, end: stream.end() };
}

const NOT_A_CAPTURE = 'not a pcap or pcapng file';
const PCAP_HEADER = 24;
const PCAP_RECORD_HEADER = 16;
const PCAPNG_SHB = 0x0a0d0d0a;
/** Larger than any record libpcap writes (its maximum snaplen is 262144); a bigger length means garbage. */
const MAX_PCAP_RECORD = 262144;
const MAX_PCAPNG_BLOCK = 16 * 1024 * 1024;
/** The widest wall time a Date holds (8.64e15 ms either side of 1970), in µs; NaN fails the test too. */
const MAX_WALL_US = 8.64e18;

const START = 0;
const PCAP = 1;
const PCAPNG = 2;
const FAILED = 3;

/** A pcapng interface (IDB): link type, name and timestamp units. */
interface Interface {
  linkType: number;
  name?: string;
  snaplen: number;
  /** Timestamp units per second (if_tsresol: 10^6 unless the IDB says otherwise). */
  unitsPerSecond: number;
  /** if_tsoffset in microseconds. */
  offsetUs: number;
}

function read32(b: Uint8Array, o: number, little: boolean): number {
  return little
    ? (b[o] | (b[o + 1] << 8) | (b[o + 2] << 16) | (b[o + 3] << 24)) >>> 0
    : ((b[o] << 24) | (b[o + 1] << 16) | (b[o + 2] << 8) | b[o + 3]) >>> 0;
}

function read16(b: Uint8Array, o: number, little: boolean): number {
  return little ? b[o] | (b[o + 1] << 8) : (b[o] << 8) | b[o + 1];
}

/**
 * Whole microseconds plus a sub-µs fraction. Near 1.7e15 a double steps by 0.25 µs, so the sum may
 * round up to the next microsecond; it is then held just below it, keeping Math.floor(us) exact.
 */
function withFraction(wholeUs: number, fractionUs: number): number {
  const us = wholeUs + fractionUs;
  return us < wholeUs + 1 ? us : wholeUs + 1 - 2 ** (Math.floor(Math.log2(wholeUs + 1)) - 52);
}

/**
 * A 64-bit timestamp (hi, lo) in `unitsPerSecond` as microseconds since the epoch, divided so
 * every intermediate stays an exact double; the sub-µs part of a nanosecond stamp becomes the fraction.
 */
function ticksToUs(hi: number, lo: number, unitsPerSecond: number): number {
  if (unitsPerSecond === 1e6) return hi * 4294967296 + lo;
  if (unitsPerSecond > 2 ** 36) return ((hi * 4294967296 + lo) / unitsPerSecond) * 1e6;
  // Long division of hi·2^32 + lo by the unit in 32 + 16 + 16 bit steps, each below 2^53.
  const q1 = Math.floor(hi / unitsPerSecond);
  const c2 = (hi - q1 * unitsPerSecond) * 65536 + (lo >>> 16);
  const q2 = Math.floor(c2 / unitsPerSecond);
  const c3 = (c2 - q2 * unitsPerSecond) * 65536 + (lo & 0xffff);
  const q3 = Math.floor(c3 / unitsPerSecond);
  const seconds = (q1 * 65536 + q2) * 65536 + q3;
  const micros = ((c3 - q3 * unitsPerSecond) * 1e6) / unitsPerSecond;
  const whole = Math.floor(micros);
  return withFraction(seconds * 1e6 + whole, micros - whole);
}

/** if_tsresol: bit 7 clear = negative power of 10, set = negative power of 2. */
function unitsPerSecond(tsresol: number): number {
  return tsresol & 0x80 ? 2 ** (tsresol & 0x7f) : 10 ** tsresol;
}

const UTF8 = new TextDecoder('utf-8', { fatal: false });

class PcapDecoder implements PcapStream {
  private state = START;
  private little = true;
  private nano = false;
  private linkType = 0;
  private snaplen = 0;
  private ifaces: Interface[] = [];
  private carry = new Uint8Array(256);
  private carryLen = 0;
  /** Stream offset of the next unit (the first carried byte, when there is a carry). */
  private offset = 0;
  private bytes = 0;
  private packets = 0;
  private skipped = 0;
  private format?: 'pcap' | 'pcapng';
  private error?: string;
  private out: PcapRecord[] = [];

  push(chunk: Uint8Array): PcapRecord[] {
    const out: PcapRecord[] = [];
    this.out = out;
    if (this.state === FAILED) return out;
    this.bytes += chunk.length;
    const n = chunk.length;
    let pos = 0;
    // First finish the unit the previous chunks started, growing the carry only as far as it needs.
    while (this.carryLen > 0) {
      const need = this.unitLength(this.carry, 0, this.carryLen);
      if (need < 0) return out;
      if (need > this.carryLen) {
        if (pos >= n) return out;
        const take = Math.min(need - this.carryLen, n - pos);
        this.append(chunk, pos, take);
        pos += take;
        continue;
      }
      this.carryLen = 0;
      this.consume(this.carry, 0, need, true);
    }
    // Then whole units straight from the chunk; the unfinished tail waits in the carry.
    while (pos < n && this.state !== FAILED) {
      const need = this.unitLength(chunk, pos, n - pos);
      if (need < 0) break;
      if (need > n - pos) {
        this.append(chunk, pos, n - pos);
        break;
      }
      this.consume(chunk, pos, need, false);
      pos += need;
    }
    return out;
  }

  end(): PcapStreamEnd {
    if (this.state !== FAILED && this.error === undefined) {
      if (this.state === START) {
        if (this.bytes === 0) this.error = `empty input (0 bytes): ${NOT_A_CAPTURE}`;
        else if (this.carryLen < 4) this.error = `${NOT_A_CAPTURE} (only ${this.carryLen} bytes)`;
        else this.error = `truncated ${this.format === 'pcapng' || read32(this.carry, 0, false) === PCAPNG_SHB ? 'pcapng section header' : 'pcap file header'} (${this.carryLen} of ${this.unitLength(this.carry, 0, this.carryLen)} bytes)`;
      } else if (this.carryLen > 0) {
        const need = this.unitLength(this.carry, 0, this.carryLen);
        const what = this.state === PCAP ? 'record' : 'block';
        this.error = `truncated ${what} at byte ${this.offset} (${this.carryLen} of ${need} bytes)`;
      }
    }
    const end: PcapStreamEnd = { bytes: this.bytes, packets: this.packets, skippedBlocks: this.skipped };
    if (this.format !== undefined) end.format = this.format;
    if (this.error !== undefined) end.error = this.error;
    return end;
  }

  private append(src: Uint8Array, from: number, count: number): void {
    const size = this.carryLen + count;
    if (size > this.carry.length) {
      const grown = new Uint8Array(Math.max(size, this.carry.length * 2));
      grown.set(this.carry.subarray(0, this.carryLen));
      this.carry = grown;
    }
    this.carry.set(src.subarray(from, from + count), this.carryLen);
    this.carryLen = size;
  }

  private fail(reason: string, offset: number): -1 {
    this.state = FAILED;
    this.error = reason;
    this.carryLen = 0;
    this.out.push({ kind: 'error', reason, offset });
    return -1;
  }

  /**
   * The length of the unit at `at`: the whole record/block when its header is there, else the
   * header's length (so the caller gathers that first). -1 when the bytes cannot be a capture.
   */
  private unitLength(b: Uint8Array, at: number, avail: number): number {
    switch (this.state) {
      case PCAP: {
        if (avail < PCAP_RECORD_HEADER) return PCAP_RECORD_HEADER;
        const caplen = read32(b, at + 8, this.little);
        if (caplen > Math.max(this.snaplen, MAX_PCAP_RECORD)) {
          return this.fail(`corrupt record at byte ${this.offset}: captured length ${caplen} exceeds the snapshot length ${this.snaplen}`, this.offset);
        }
        return PCAP_RECORD_HEADER + caplen;
      }
      case PCAPNG:
        return this.blockLength(b, at, avail, this.little);
      case START: {
        if (avail < 4) return 4;
        const magic = read32(b, at, false);
        if (magic === 0xa1b2c3d4 || magic === 0xd4c3b2a1 || magic === 0xa1b23c4d || magic === 0x4d3cb2a1) return PCAP_HEADER;
        if (magic === PCAPNG_SHB) return this.blockLength(b, at, avail, true);
        return this.fail(`${NOT_A_CAPTURE} (starts with 0x${magic.toString(16).padStart(8, '0')})`, 0);
      }
      default:
        return -1;
    }
  }

  /** A pcapng block's total length; a section header's comes in its own byte order. */
  private blockLength(b: Uint8Array, at: number, avail: number, little: boolean): number {
    if (avail < 8) return 8;
    let order = little;
    if (read32(b, at, false) === PCAPNG_SHB) {
      if (avail < 12) return 12;
      const bom = read32(b, at + 8, false);
      if (bom !== 0x1a2b3c4d && bom !== 0x4d3c2b1a) {
        return this.fail(this.state === START ? `${NOT_A_CAPTURE} (bad pcapng byte-order magic)` : `corrupt section header at byte ${this.offset}`, this.offset);
      }
      order = bom === 0x4d3c2b1a;
    }
    const length = read32(b, at + 4, order);
    if (length < 12 || length % 4 !== 0 || length > MAX_PCAPNG_BLOCK) {
      return this.fail(`corrupt block at byte ${this.offset}: total length ${length}`, this.offset);
    }
    return length;
  }

  /** Turns one complete unit into records. Frames from the carry are copied: the carry is reused. */
  private consume(b: Uint8Array, at: number, length: number, fromCarry: boolean): void {
    const offset = this.offset;
    this.offset += length;
    if (this.state === PCAP) {
      const little = this.little;
      const seconds = read32(b, at, little);
      const fraction = read32(b, at + 4, little);
      const caplen = length - PCAP_RECORD_HEADER;
      const wire = read32(b, at + 12, little);
      const us = this.nano ? withFraction(seconds * 1e6 + Math.floor(fraction / 1000), (fraction % 1000) / 1000) : seconds * 1e6 + fraction;
      const start = at + PCAP_RECORD_HEADER;
      const frame = fromCarry ? b.slice(start, start + caplen) : b.subarray(start, start + caplen);
      this.emit(frame, this.linkType, wire, us, undefined, offset);
      return;
    }
    if (this.state === START && read32(b, at, false) !== PCAPNG_SHB) {
      this.fileHeader(b, at, offset);
      return;
    }
    this.block(b, at, length, fromCarry, offset);
  }

  private fileHeader(b: Uint8Array, at: number, offset: number): void {
    const magic = read32(b, at, false);
    this.little = magic === 0xd4c3b2a1 || magic === 0x4d3cb2a1;
    this.nano = magic === 0xa1b23c4d || magic === 0x4d3cb2a1;
    const major = read16(b, at + 4, this.little);
    const minor = read16(b, at + 6, this.little);
    if (major !== 2) {
      this.fail(`unsupported pcap version ${major}.${minor}`, offset);
      return;
    }
    this.snaplen = read32(b, at + 16, this.little);
    // The upper bits of the link type field carry FCS information, not the type.
    this.linkType = read32(b, at + 20, this.little) & 0xffff;
    this.state = PCAP;
    this.format = 'pcap';
    const note = `pcap ${major}.${minor}, ${this.little ? 'little' : 'big'}-endian, ${this.nano ? 'nanosecond' : 'microsecond'} timestamps, snaplen ${this.snaplen}`;
    this.out.push({ kind: 'meta', meta: { linkType: linkTypeName(this.linkType), note }, offset });
  }

  private block(b: Uint8Array, at: number, length: number, fromCarry: boolean, offset: number): void {
    let little = this.little;
    const isSection = read32(b, at, false) === PCAPNG_SHB;
    if (isSection) little = read32(b, at + 8, false) === 0x4d3c2b1a;
    if (read32(b, at + length - 4, little) !== length) {
      this.fail(`corrupt block at byte ${offset}: its trailing length does not repeat ${length}`, offset);
      return;
    }
    if (isSection) {
      this.section(b, at, length, little, offset);
      return;
    }
    const type = read32(b, at, little);
    switch (type) {
      case 1:
        this.interfaceDescription(b, at, length, offset);
        return;
      case 6:
        this.packetBlock(b, at, length, fromCarry, offset, read32(b, at + 8, little), 12);
        return;
      case 2:
        // Obsolete packet block: a 16-bit interface id and a drops count where EPB has a 32-bit id.
        this.packetBlock(b, at, length, fromCarry, offset, read16(b, at + 8, little), 12);
        return;
      case 3:
        this.simplePacket(b, at, length, fromCarry, offset);
        return;
      default:
        this.skipped++;
    }
  }

  private section(b: Uint8Array, at: number, length: number, little: boolean, offset: number): void {
    const major = read16(b, at + 12, little);
    if (major !== 1) {
      this.fail(`unsupported pcapng version ${major}.${read16(b, at + 14, little)} at byte ${offset}`, offset);
      return;
    }
    this.little = little;
    this.ifaces = [];
    this.state = PCAPNG;
    this.format = 'pcapng';
    const meta: StreamMeta = { note: `pcapng section, ${little ? 'little' : 'big'}-endian` };
    // shb_userappl (4): the application that wrote the section.
    const app = this.stringOption(b, at + 24, at + length - 4, 4);
    if (app !== undefined) meta.version = app;
    this.out.push({ kind: 'meta', meta, offset });
  }

  private interfaceDescription(b: Uint8Array, at: number, length: number, offset: number): void {
    const little = this.little;
    const iface: Interface = { linkType: read16(b, at + 8, little), snaplen: read32(b, at + 12, little), unitsPerSecond: 1e6, offsetUs: 0 };
    for (let o = at + 16; o + 4 <= at + length - 4; ) {
      const code = read16(b, o, little);
      const len = read16(b, o + 2, little);
      if (code === 0 || o + 4 + len > at + length - 4) break;
      if (code === 2) iface.name = UTF8.decode(b.subarray(o + 4, o + 4 + len));
      else if (code === 9 && len >= 1) iface.unitsPerSecond = unitsPerSecond(b[o + 4]);
      else if (code === 14 && len >= 8) {
        const lo = read32(b, o + 4 + (little ? 0 : 4), little);
        const hi = read32(b, o + 4 + (little ? 4 : 0), little) | 0;
        iface.offsetUs = (hi * 4294967296 + lo) * 1e6;
      }
      o += 4 + ((len + 3) & ~3);
    }
    const id = this.ifaces.length;
    this.ifaces.push(iface);
    const meta: StreamMeta = { linkType: linkTypeName(iface.linkType), note: `pcapng interface ${id}${iface.name ? ` ${iface.name}` : ''}, snaplen ${iface.snaplen}` };
    if (iface.name !== undefined) meta.iface = iface.name;
    this.out.push({ kind: 'meta', meta, offset });
  }

  /** Enhanced (6) and obsolete (2) packet blocks: same layout after the interface id. */
  private packetBlock(b: Uint8Array, at: number, length: number, fromCarry: boolean, offset: number, ifaceId: number, tsAt: number): void {
    const little = this.little;
    const iface = this.ifaces[ifaceId];
    if (iface === undefined) {
      this.out.push({ kind: 'unparsed', reason: `packet block at byte ${offset} names interface ${ifaceId}, which the section did not declare`, offset });
      return;
    }
    const caplen = read32(b, at + tsAt + 8, little);
    const wire = read32(b, at + tsAt + 12, little);
    const start = at + tsAt + 16;
    if (start + caplen > at + length - 4) {
      this.out.push({ kind: 'unparsed', reason: `packet block at byte ${offset}: captured length ${caplen} does not fit in the block`, offset });
      return;
    }
    const us = ticksToUs(read32(b, at + tsAt, little), read32(b, at + tsAt + 4, little), iface.unitsPerSecond) + iface.offsetUs;
    const frame = fromCarry ? b.slice(start, start + caplen) : b.subarray(start, start + caplen);
    this.emit(frame, iface.linkType, wire, us, iface.name, offset);
  }

  /** Simple packet block: interface 0, no timestamp, captured length implied by the block and snaplen. */
  private simplePacket(b: Uint8Array, at: number, length: number, fromCarry: boolean, offset: number): void {
    const iface = this.ifaces[0];
    if (iface === undefined) {
      this.out.push({ kind: 'unparsed', reason: `simple packet block at byte ${offset} before any interface description`, offset });
      return;
    }
    const wire = read32(b, at + 8, this.little);
    let caplen = Math.min(wire, length - 16);
    if (iface.snaplen > 0) caplen = Math.min(caplen, iface.snaplen);
    const start = at + 12;
    const frame = fromCarry ? b.slice(start, start + caplen) : b.subarray(start, start + caplen);
    this.emit(frame, iface.linkType, wire, undefined, iface.name, offset);
  }

  /** The first string option `code` in an option list (pcapng options: code, length, value padded to 4). */
  private stringOption(b: Uint8Array, from: number, to: number, code: number): string | undefined {
    const little = this.little;
    for (let o = from; o + 4 <= to; ) {
      const c = read16(b, o, little);
      const len = read16(b, o + 2, little);
      if (c === 0 || o + 4 + len > to) return undefined;
      if (c === code) return UTF8.decode(b.subarray(o + 4, o + 4 + len));
      o += 4 + ((len + 3) & ~3);
    }
    return undefined;
  }

  private emit(frame: Uint8Array, linkType: number, wire: number, us: number | undefined, iface: string | undefined, offset: number): void {
    const packet: Packet = {};
    let summary: string;
    try {
      summary = decodeFrameInto(packet, linkType, frame, wire);
    } catch (err) {
      // decodeFrameInto checks every bound; this only turns a decoder bug into a visible record.
      this.out.push({ kind: 'unparsed', reason: `frame at byte ${offset} could not be decoded: ${(err as Error).message}`, offset });
      return;
    }
    if (packet.eth === undefined && packet.cooked === undefined && packet.ip === undefined && packet.arp === undefined) {
      // An unsupported link type, or a frame too short for its own link header: nothing was read.
      this.out.push({ kind: 'unparsed', reason: `frame at byte ${offset} not decoded: ${summary}`, offset });
      return;
    }
    const event: CaptureEvent = { tool: 'pcap', packet, summary, frame, linkType };
    // A time no clock can show (if_tsresol 2^0 with a high word of 0xffffffff, a huge if_tsoffset)
    // is not a time: the packet is kept without one.
    if (us !== undefined && Math.abs(us) <= MAX_WALL_US) event.time = { clock: 'wall', us };
    if (iface !== undefined) event.iface = iface;
    this.packets++;
    this.out.push({ kind: 'event', event, offset });
  }
}
