/**
 * pcapng blocks (IETF draft-ietf-opsawg-pcapng): a section header, one interface description per
 * observation point, one enhanced packet block per captured frame with its comments. Little-endian,
 * nanosecond timestamps (if_tsresol 9). Pure: Uint8Array in, Uint8Array out, so the writer can
 * stream blocks to a file as packets come and tests can read them back byte by byte.
 */

/** An interface of the file: one observation point and the link type of its frames. */
export interface PcapngInterface {
  /** if_name: the point id (`pod:default/same/eth0`). */
  name: string;
  /** LINKTYPE_* value of every frame on this interface (1 Ethernet, 113 SLL, 276 SLL2, 101 RAW ...). */
  linkType: number;
  /** if_description: where the frames came from, for people. */
  description?: string;
  /** Longest frame the interface may hold; 262144 (libpcap's maximum) when not given. */
  snaplen?: number;
}

/** One frame as it was captured. */
export interface PcapngPacket {
  /** Index of its interface in the order the interface blocks were written. */
  interfaceId: number;
  /** Nanoseconds since the Unix epoch. */
  timestampNs: bigint;
  /** The captured bytes (maybe cut by the capture's snaplen). */
  data: Uint8Array;
  /** Length of the frame on the wire. */
  originalLength: number;
  /** opt_comment options, one per string. */
  comments?: string[];
}

const SHB = 0x0a0d0d0a;
const IDB = 1;
const EPB = 6;
const BYTE_ORDER_MAGIC = 0x1a2b3c4d;
const OPT_END = 0;
const OPT_COMMENT = 1;
const SHB_USERAPPL = 4;
const IF_NAME = 2;
const IF_DESCRIPTION = 3;
const IF_TSRESOL = 9;
const DEFAULT_SNAPLEN = 262144;
/** An option value is at most 65535 bytes (16-bit length); longer comments are cut on a character. */
const MAX_OPTION = 65535;

const UTF8 = new TextEncoder();

type Option = { code: number; value: Uint8Array };

function stringOption(code: number, text: string): Option {
  let value = UTF8.encode(text);
  if (value.length > MAX_OPTION) {
    // Cut before a UTF-8 continuation byte so the value stays valid UTF-8.
    let end = MAX_OPTION;
    while (end > 0 && (value[end] & 0xc0) === 0x80) end--;
    value = value.subarray(0, end);
  }
  return { code, value };
}

function pad4(n: number): number {
  return (n + 3) & ~3;
}

function optionsLength(options: Option[]): number {
  if (options.length === 0) return 0;
  return options.reduce((sum, o) => sum + 4 + pad4(o.value.length), 0) + 4;
}

/** Writes options and opt_endofopt at `at`; returns the offset after them. */
function writeOptions(view: DataView, bytes: Uint8Array, at: number, options: Option[]): number {
  if (options.length === 0) return at;
  for (const o of options) {
    view.setUint16(at, o.code, true);
    view.setUint16(at + 2, o.value.length, true);
    bytes.set(o.value, at + 4);
    at += 4 + pad4(o.value.length);
  }
  view.setUint16(at, OPT_END, true);
  view.setUint16(at + 2, 0, true);
  return at + 4;
}

/** A block: type, total length, `body` bytes, options, total length again. */
function block(type: number, bodyLength: number, options: Option[], fill: (view: DataView, bytes: Uint8Array, at: number) => void): Uint8Array {
  const total = 12 + pad4(bodyLength) + optionsLength(options);
  const bytes = new Uint8Array(total);
  const view = new DataView(bytes.buffer);
  view.setUint32(0, type, true);
  view.setUint32(4, total, true);
  fill(view, bytes, 8);
  writeOptions(view, bytes, 8 + pad4(bodyLength), options);
  view.setUint32(total - 4, total, true);
  return bytes;
}

/** pcapngSectionHeader starts a file (section length unknown: -1, so the file can be streamed). */
export function pcapngSectionHeader(opts: { application?: string; comment?: string } = {}): Uint8Array {
  const options: Option[] = [];
  if (opts.comment) options.push(stringOption(OPT_COMMENT, opts.comment));
  if (opts.application) options.push(stringOption(SHB_USERAPPL, opts.application));
  return block(SHB, 16, options, (view, _bytes, at) => {
    view.setUint32(at, BYTE_ORDER_MAGIC, true);
    view.setUint16(at + 4, 1, true);
    view.setUint16(at + 6, 0, true);
    view.setUint32(at + 8, 0xffffffff, true);
    view.setUint32(at + 12, 0xffffffff, true);
  });
}

/** pcapngInterfaceBlock declares an interface: its name, link type and nanosecond timestamps. */
export function pcapngInterfaceBlock(iface: PcapngInterface): Uint8Array {
  const options: Option[] = [stringOption(IF_NAME, iface.name)];
  if (iface.description) options.push(stringOption(IF_DESCRIPTION, iface.description));
  options.push({ code: IF_TSRESOL, value: Uint8Array.of(9) });
  return block(IDB, 8, options, (view, _bytes, at) => {
    view.setUint16(at, iface.linkType, true);
    view.setUint16(at + 2, 0, true);
    view.setUint32(at + 4, iface.snaplen ?? DEFAULT_SNAPLEN, true);
  });
}

/** pcapngPacketBlock holds one frame, its nanosecond timestamp and its comments. */
export function pcapngPacketBlock(packet: PcapngPacket): Uint8Array {
  const options = (packet.comments ?? []).filter((c) => c !== '').map((c) => stringOption(OPT_COMMENT, c));
  const caplen = packet.data.length;
  const ts = packet.timestampNs < 0n ? 0n : packet.timestampNs;
  return block(EPB, 20 + caplen, options, (view, bytes, at) => {
    view.setUint32(at, packet.interfaceId, true);
    view.setUint32(at + 4, Number(ts >> 32n), true);
    view.setUint32(at + 8, Number(ts & 0xffffffffn), true);
    view.setUint32(at + 12, caplen, true);
    view.setUint32(at + 16, Math.max(packet.originalLength, caplen), true);
    bytes.set(packet.data, at + 20);
  });
}

/** encodePcapng builds a whole file in memory: section header, interfaces, packets. */
export function encodePcapng(interfaces: PcapngInterface[], packets: PcapngPacket[], section: { application?: string; comment?: string } = {}): Uint8Array {
  const blocks = [pcapngSectionHeader(section), ...interfaces.map(pcapngInterfaceBlock), ...packets.map(pcapngPacketBlock)];
  const out = new Uint8Array(blocks.reduce((n, b) => n + b.length, 0));
  let at = 0;
  for (const b of blocks) {
    out.set(b, at);
    at += b.length;
  }
  return out;
}

/**
 * microsToNanos turns a Timestamp's microseconds (with a sub-µs fraction from nanosecond
 * captures) into whole nanoseconds. The whole microseconds are converted exactly; the fraction is
 * as exact as the double that carried it (about 0.25 µs at today's epoch values).
 */
export function microsToNanos(us: number): bigint {
  const whole = Math.floor(us);
  const nanos = Math.min(999, Math.max(0, Math.round((us - whole) * 1000)));
  return BigInt(whole) * 1000n + BigInt(nanos);
}
