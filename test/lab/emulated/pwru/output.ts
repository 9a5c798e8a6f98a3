/**
 * pwru v1.0.9's text and JSON output (internal/pwru/output.go at tag v1.0.9): the header, one
 * line per function with SKB, CPU, PROCESS, optional TIMESTAMP, the meta columns (NETNS,
 * MARK/x, IFACE, PROTO, MTU, LEN), the tuple padded to the widest seen so far, and FUNC.
 */
import { readlinkSync } from 'node:fs';
import type { FuncLine } from './path.js';

export interface OutputOptions {
  timestamp: 'none' | 'current' | 'relative' | 'absolute';
  meta: boolean;
  tuple: boolean;
}

function center(s: string, width: number): string {
  if (s.length >= width) return s;
  const left = Math.floor((width - s.length) / 2);
  return ' '.repeat(left) + s + ' '.repeat(width - s.length - left);
}

/** pwru's getExecName: "<exe path>:<pid>", cut to its last 16 characters behind "~". */
export function execName(pid: number, exe: (pid: number) => string | undefined = exePath): string {
  const path = exe(pid);
  if (path === undefined) return `<empty>:${pid}`;
  let name = `${path}:${pid}`;
  if (name.length > 16) name = `~${name.slice(name.length - 15)}`;
  return name;
}

function exePath(pid: number): string | undefined {
  if (pid <= 0) return undefined;
  try {
    return readlinkSync(`/proc/${pid}/exe`);
  } catch {
    return undefined;
  }
}

/** pwru's getIfaceName: "name:ifindex" (cut to 16 with "~"), or the bare ifindex. */
export function ifaceName(name: string, ifindex: number): string {
  if (name === '') return String(ifindex);
  let s = `${name}:${ifindex}`;
  if (s.length > 16) s = `~${s.slice(s.length - 15)}`;
  return s;
}

const PROTO_NAMES: Record<number, string> = { 6: 'tcp', 17: 'udp', 1: 'icmp', 58: 'icmp6' };

export function tupleText(line: FuncLine): string {
  const t = line.tuple;
  return `${t.saddr}:${t.sport}->${t.daddr}:${t.dport}(${PROTO_NAMES[t.proto] ?? ''})`;
}

function absoluteNow(): string {
  const d = new Date();
  const p = (n: number, w = 2): string => String(n).padStart(w, '0');
  return `${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}.${p(d.getMilliseconds(), 3)}`;
}

/** Formats lines as pwru prints them; keeps the state pwru keeps between lines. */
export class PwruPrinter {
  private maxTuple = 0;
  private readonly lastSeen = new Map<string, number>();
  private readonly names = new Map<number, string>();

  constructor(private readonly o: OutputOptions) {}

  /** Records a task's executable as skbtrace read it when the event was drained. */
  remember(pid: number, exe: string | undefined): void {
    if (exe !== undefined) this.names.set(pid, execName(pid, () => exe));
  }

  header(): string {
    let h = '';
    if (this.o.timestamp === 'absolute') h += `${'TIME'.padEnd(12)} `;
    h += `${'SKB'.padEnd(18)} ${'CPU'.padEnd(3)} ${'PROCESS'.padEnd(16)}`;
    if (this.o.timestamp !== 'none') h += ` ${'TIMESTAMP'.padEnd(16)}`;
    if (this.o.meta) h += ` ${'NETNS'.padEnd(10)} ${'MARK/x'.padEnd(8)} ${center('IFACE', 16).padStart(16)} ${'PROTO'.padEnd(6)} ${'MTU'.padEnd(5)} ${'LEN'.padEnd(5)}`;
    if (this.o.tuple) h += ' TUPLE';
    return `${h} FUNC`;
  }

  private time(line: FuncLine): number {
    if (this.o.timestamp !== 'relative') return line.ts;
    const last = this.lastSeen.get(line.skb);
    return last === undefined ? 0 : line.ts - last;
  }

  line(line: FuncLine): string {
    let s = '';
    if (this.o.timestamp === 'absolute') s += `${absoluteNow().padEnd(12)} `;
    const proc = this.names.get(line.pid) ?? execName(line.pid);
    s += `${line.skb.padEnd(18)} ${String(line.cpu).padEnd(3)} ${proc.padEnd(16)}`;
    if (this.o.timestamp !== 'none') s += ` ${String(this.time(line)).padEnd(16)}`;
    this.lastSeen.set(line.skb, line.ts);
    if (this.o.meta) {
      const proto = `0x${line.proto.toString(16).padStart(4, '0')}`;
      s += ` ${String(line.netns).padEnd(10)} ${line.mark.toString(16).padEnd(8)} ${center(ifaceName(line.ifname, line.ifindex), 16).padStart(16)} ${proto} ${String(line.mtu).padEnd(5)} ${String(line.len).padEnd(5)}`;
    }
    if (this.o.tuple) {
      const t = tupleText(line);
      this.maxTuple = Math.max(this.maxTuple, t.length);
      s += ` ${t.padEnd(this.maxTuple)}`;
    }
    return `${s} ${line.func}`;
  }

  /** pwru --output-json: one object per line, zero values omitted (Go's omitempty). */
  json(line: FuncLine): string {
    const d: Record<string, unknown> = { skb: line.skb };
    if (line.cpu) d.cpu = line.cpu;
    d.process = this.names.get(line.pid) ?? execName(line.pid);
    d.func = line.func;
    if (this.o.timestamp === 'current') d.time = line.ts;
    else if (this.o.timestamp === 'relative') d.time = this.time(line);
    else if (this.o.timestamp === 'absolute') d.time = absoluteNow();
    this.lastSeen.set(line.skb, line.ts);
    if (this.o.meta) {
      if (line.netns) d.netns = line.netns;
      if (line.mark) d.mark = line.mark;
      d.iface = ifaceName(line.ifname, line.ifindex);
      if (line.proto) d.proto = line.proto;
      if (line.mtu) d.mtu = line.mtu;
      if (line.len) d.len = line.len;
    }
    if (this.o.tuple) {
      const t = line.tuple;
      const tuple: Record<string, unknown> = {};
      if (t.saddr) tuple.saddr = t.saddr;
      if (t.daddr) tuple.daddr = t.daddr;
      if (t.sport) tuple.sport = t.sport;
      if (t.dport) tuple.dport = t.dport;
      if (t.proto) tuple.proto = t.proto;
      d.tuple = tuple;
    }
    return JSON.stringify(d);
  }
}
