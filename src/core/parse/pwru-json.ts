import type { PwruEvent } from '../model/event.js';
import type { Packet } from '../model/packet.js';
import {
  isSkbAddress, nsToUs, parseClockTime, parseIface, parseProcess, protoName, splitDropReason, tupleIsIpPacket, summarize,
  tupleToPacket, withTunnel, type TupleFields,
} from './pwru-fields.js';

/*
 * pwru --output-json (v1.0.6+): one object per line, keys from the jsonPrinter / jsonTuple structs of
 * cilium/pwru internal/pwru/output.go (read at 70b1b60, v1.0.6 and v1.0.10). Every field is
 * `omitempty`, so a zero CPU, mark or port is simply absent.
 */

/** parsePwruJson: one --output-json line; the clock of a numeric `time` is decided like the text column's. */
export function parsePwruJson(
  line: string,
  clock: 'monotonic' | 'relative' | undefined,
): { event: PwruEvent; clock: 'monotonic' | 'relative' | undefined } | { reason: string } {
  let raw: unknown;
  try {
    raw = JSON.parse(line);
  } catch {
    return { reason: 'invalid JSON' };
  }
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) return { reason: 'JSON line is not an object' };
  const o = raw as Record<string, unknown>;
  if (typeof o.skb !== 'string' || !isSkbAddress(o.skb)) return { reason: 'JSON object has no pwru "skb" address' };
  if (typeof o.func !== 'string' || o.func === '') return { reason: 'JSON object has no pwru "func"' };

  const f = splitDropReason(o.func);
  const event: PwruEvent = { tool: 'pwru', skb: o.skb, func: f.func, summary: '' };
  if (f.dropReason !== undefined) event.dropReason = f.dropReason;
  const code = /^(?:kfree_skb_reason|sk_skb_reason_drop) \((\d+)\)$/.exec(o.func);
  if (code) {
    event.func = o.func.slice(0, o.func.indexOf(' '));
    event.dropCode = Number(code[1]);
  }
  if (typeof o.caller_func === 'string') event.caller = o.caller_func;
  event.cpu = num(o.cpu) ?? 0;
  if (typeof o.process === 'string') {
    const p = parseProcess(o.process);
    event.process = p.process;
    if (p.pid !== undefined) event.pid = p.pid;
  }

  if (typeof o.time === 'number') {
    // JSON numbers lose nanoseconds past 2^53; read the digits from the text instead.
    const digits = /"time"\s*:\s*(\d+)/.exec(line)?.[1] ?? String(o.time);
    if (clock === undefined) clock = digits.length < 10 ? 'relative' : 'monotonic';
    event.time = { clock, us: nsToUs(digits) };
  } else if (typeof o.time === 'string') {
    const ts = parseClockTime(o.time);
    if (ts === undefined) return { reason: `"time" is not a pwru time: ${o.time}` };
    event.time = ts;
    event.printedAt = ts;
  }

  // With --output-meta the iface is never empty (an unknown device prints its ifindex), so its
  // presence tells an omitted zero from a field that was not requested.
  if (typeof o.iface === 'string') {
    const i = parseIface(o.iface);
    if (i.iface !== undefined) event.iface = i.iface;
    if (i.ifindex !== undefined) event.ifindex = i.ifindex;
    event.netns = num(o.netns) ?? 0;
    event.mark = num(o.mark) ?? 0;
    event.proto = '0x' + (num(o.proto) ?? 0).toString(16).padStart(4, '0');
    event.mtu = num(o.mtu) ?? 0;
    event.len = num(o.len) ?? 0;
  }
  if (typeof o.netns_name === 'string') event.netnsName = o.netns_name;
  if (Array.isArray(o.cb) && o.cb.every((w) => typeof w === 'number')) event.cb = o.cb as number[];

  const outer = jsonTuple(o.tuple);
  let packet: Packet | undefined = outer === undefined ? undefined : tupleToPacket(outer);
  const tunnel = jsonTuple(o.tunnel_tuple);
  const inner = tunnel === undefined ? undefined : tupleToPacket(tunnel);
  if (inner !== undefined) packet = withTunnel(packet, inner);
  if (packet !== undefined && tupleIsIpPacket(event.proto, packet)) event.packet = packet;

  if (typeof o.stack === 'string') {
    const frames = o.stack.split('\n').filter((s) => s !== '');
    if (frames.length > 0) event.stack = frames;
  }
  // Despite its name, `skb_metadata` holds the --output-skb struct dump, after a newline.
  if (typeof o.skb_metadata === 'string' && o.skb_metadata.trim() !== '') event.skbDump = o.skb_metadata.replace(/^\n/, '');
  if (typeof o.skb_shared_info === 'string' && o.skb_shared_info.trim() !== '') {
    event.shinfoDump = o.skb_shared_info.replace(/^\n/, '');
  }
  event.summary = summarize(event);
  return { event, clock };
}

function num(v: unknown): number | undefined {
  return typeof v === 'number' ? v : undefined;
}

function jsonTuple(v: unknown): TupleFields | undefined {
  if (typeof v !== 'object' || v === null) return undefined;
  const t = v as Record<string, unknown>;
  const proto = num(t.proto);
  return {
    src: typeof t.saddr === 'string' ? t.saddr : '',
    dst: typeof t.daddr === 'string' ? t.daddr : '',
    srcPort: num(t.sport) ?? 0,
    dstPort: num(t.dport) ?? 0,
    proto: proto === undefined ? '' : protoName(proto),
    flags: typeof t.flags === 'string' ? t.flags : undefined,
  };
}
