import type { PwruEvent } from '../model/event.js';
import type { Packet } from '../model/packet.js';
import {
  isClockTime, isDropFunc, isMac, isSkbAddress, isTuple, parseCb, parseClockTime, parseEthertype, parseIface,
  parseProcess, parseTupleText, tupleIsIpPacket, tupleToPacket, withTunnel,
} from './pwru-fields.js';

/** One column named by pwru's header line. */
export type PwruColumn =
  | 'time' | 'skb' | 'cpu' | 'process' | 'func' | 'timestamp' | 'netns' | 'mark' | 'iface' | 'proto'
  | 'mtu' | 'len' | 'cb' | 'netnsName' | 'tuple' | 'caller' | 'tunnel' | 'unknown';

const COLUMN_TITLE: Record<PwruColumn, string> = {
  time: 'TIME', skb: 'SKB', cpu: 'CPU', process: 'PROCESS', func: 'FUNC', timestamp: 'TIMESTAMP', netns: 'NETNS',
  mark: 'MARK', iface: 'IFACE', proto: 'PROTO', mtu: 'MTU', len: 'LEN', cb: 'cb', netnsName: 'NETNS NAME',
  tuple: 'TUPLE', caller: 'CALLER', tunnel: 'TUNNEL', unknown: 'unknown',
};

/**
 * A header's columns, grouped once into runs: stretches of columns whose values repeat from one line
 * to the next along an skb's path (SKB CPU PROCESS; NETNS .. LEN; TUPLE). A run whose raw text
 * equals the previous line's is copied instead of decoded.
 */
export interface PwruLayout {
  readonly columns: readonly PwruColumn[];
  /** For each column, its run (-1: the column changes every line, like FUNC or TIMESTAMP). */
  readonly runOf: readonly number[];
  /** For each run, the index of its last column. */
  readonly runEnd: readonly number[];
  readonly hasMetaColumns: boolean;
  readonly hasTupleColumn: boolean;
  readonly hasTunnelColumn: boolean;
}

// Which group a repeating column belongs to: who runs the skb, where it is, what it carries. They
// change independently (the iface and length change along the path, the process rarely).
const GROUP: Partial<Record<PwruColumn, number>> = {
  skb: 1, cpu: 1, process: 1, netns: 2, mark: 2, iface: 2, proto: 2, mtu: 2, len: 2, cb: 2, netnsName: 2, tuple: 3,
};

/** makeLayout groups a header's columns into runs. */
export function makeLayout(columns: readonly PwruColumn[]): PwruLayout {
  const runOf: number[] = [];
  const runEnd: number[] = [];
  for (let k = 0; k < columns.length; k++) {
    const group = GROUP[columns[k]];
    if (group === undefined) {
      runOf.push(-1);
    } else if (k > 0 && runOf[k - 1] >= 0 && GROUP[columns[k - 1]] === group) {
      runOf.push(runOf[k - 1]);
      runEnd[runOf[k - 1]] = k;
    } else {
      runOf.push(runEnd.length);
      runEnd.push(k);
    }
  }
  return {
    columns, runOf, runEnd,
    hasMetaColumns: columns.includes('netns'),
    hasTupleColumn: columns.includes('tuple'),
    hasTunnelColumn: columns.includes('tunnel'),
  };
}

/**
 * The previous event line's raw run texts and trailing text (what follows the last column: old
 * builds' `key=value` meta and tuple, skb metadata, TUNNEL), and the event decoded from them.
 * Events of one stream therefore share Packet objects: treat parsed events as read-only.
 */
export interface PwruRepeats {
  readonly runs: readonly string[];
  readonly trailing: string;
  readonly event: PwruEvent;
}

/** What one event line gave besides the event. */
export interface PwruLineRead {
  event: PwruEvent;
  /** TIMESTAMP digits seen: how many (the clock guess needs it) and the value in µs. */
  timestampDigits: number;
  timestampUs: number;
  /** The TUNNEL column is due but the line ended: it follows the stack or the dumps. */
  tunnelPending: boolean;
  repeats: PwruRepeats;
}

/**
 * readEventLine reads one event line by walking it with indexOf instead of splitting it, and copies
 * runs that repeat the previous line: pwru prints millions of these lines. Returns the event, or why
 * the line does not fit the layout.
 */
export function readEventLine(line: string, layout: PwruLayout, prev: PwruRepeats | undefined): PwruLineRead | string {
  const n = line.length;
  const columns = layout.columns;
  const e = newEvent();
  const runs: string[] = [];
  let timestampDigits = 0;
  let timestampUs = 0;
  let tupleCopied = false;
  let runStart = -1;
  let i = skipSpaces(line, 0);
  let k = 0;
  for (; k < columns.length; k++) {
    const col = columns[k];
    if (col === 'tunnel') break;
    const run = layout.runOf[k];
    if (run >= 0 && (k === 0 || layout.runOf[k - 1] !== run)) {
      const same = prev?.runs[run];
      const end = same === undefined ? -1 : i + same.length;
      if (end > i && (end === n || line.charCodeAt(end) === 32) && line.slice(i, end) === same) {
        tupleCopied = copyRun(e, prev!.event, columns, k, layout.runEnd[run]) || tupleCopied;
        runs[run] = same!;
        k = layout.runEnd[run];
        i = skipSpaces(line, end);
        continue;
      }
      runStart = i;
    }
    if (col === 'netnsName') {
      // Printed without a separator and left blank when the netns has no name: present only if the
      // next token is not what the following column expects.
      if (i < n) {
        const j = tokenEnd(line, i);
        const present = columns[k + 1] === 'tuple' ? !isTuple(line.slice(i, j)) : countTokens(line, i) > columns.length - k - 1;
        if (present) {
          e.netnsName = line.slice(i, j);
          i = skipSpaces(line, j);
        }
      }
      if (run >= 0 && layout.runEnd[run] === k) runs[run] = line.slice(runStart, i).trimEnd();
      continue;
    }
    if (i >= n) return `line ends before the ${COLUMN_TITLE[col]} column`;
    let j = tokenEnd(line, i);
    switch (col) {
      case 'skb': {
        const skb = line.slice(i, j);
        if (!isSkbAddress(skb)) return `SKB column is not an address: "${skb}"`;
        e.skb = skb;
        break;
      }
      case 'process': {
        if (line.charCodeAt(i) === 91 /* [ */) {
          // A bracketed comm may hold spaces (`[tmux: server]`).
          const close = line.indexOf(']', i);
          if (close < 0) return 'PROCESS column has no closing bracket';
          j = close + 1;
        }
        const p = parseProcess(line.slice(i, j));
        e.process = p.process;
        if (p.pid !== undefined) e.pid = p.pid;
        break;
      }
      case 'timestamp': {
        // Split so that stamps past 2^53 ns keep their integer microseconds exact.
        const digits = j - i;
        const hi = digits > 3 ? parseUint(line, i, j - 3) : 0;
        const lo = parseUint(line, digits > 3 ? j - 3 : i, j);
        if (hi < 0 || lo < 0) return `TIMESTAMP column is not a number: "${line.slice(i, j)}"`;
        timestampDigits = digits;
        timestampUs = hi + lo / 1000;
        break;
      }
      case 'func':
        j = readFunc(line, i, j, e);
        break;
      case 'caller': {
        const caller = line.slice(i, j);
        if (caller.includes('=') || isTuple(caller) || !/^[A-Za-z_.$]/.test(caller)) return `CALLER column is not a function: "${caller}"`;
        e.caller = caller;
        break;
      }
      case 'mark': {
        const v = parseHexRange(line, i, j);
        if (v < 0) return `MARK column is not hex: "${line.slice(i, j)}"`;
        e.mark = v;
        break;
      }
      case 'iface':
        readIface(line.slice(i, j), e);
        break;
      case 'proto': {
        const text = line.slice(i, j);
        const proto = text.startsWith('0x') ? parseEthertype(text) : undefined;
        if (proto === undefined) return `PROTO column is not an ethertype: "${text}"`;
        e.proto = proto;
        break;
      }
      case 'cpu':
      case 'netns':
      case 'mtu':
      case 'len': {
        const v = parseUint(line, i, j);
        if (v < 0) return `${COLUMN_TITLE[col]} column is not a number: "${line.slice(i, j)}"`;
        e[col] = v;
        break;
      }
      case 'tuple':
        if (!readTuple(line.slice(i, j), e)) return `TUPLE column is not a tuple: "${line.slice(i, j)}"`;
        break;
      case 'time': {
        const ts = parseClockTime(line.slice(i, j));
        if (ts === undefined) return `TIME column is not a time: "${line.slice(i, j)}"`;
        e.printedAt = ts;
        break;
      }
      case 'cb': {
        const cb = parseCb(line.slice(i, j));
        if (cb === undefined) return `cb column is not a list of words: "${line.slice(i, j)}"`;
        e.cb = cb;
        break;
      }
      default:
        break;
    }
    if (run >= 0 && layout.runEnd[run] === k) runs[run] = line.slice(runStart, j);
    i = skipSpaces(line, j);
  }

  let tunnelPending = false;
  const trailing = i < n ? line.slice(i) : '';
  if (prev !== undefined && trailing === prev.trailing) {
    copyTrailing(e, prev.event, layout, tupleCopied);
    tunnelPending = layout.hasTunnelColumn && trailing === '';
  } else if (layout.hasTunnelColumn) {
    i = readExtraFields(line, i, e);
    if (i >= n) {
      tunnelPending = true;
    } else {
      const end = readTunnel(line, i, e);
      if (end < 0) return `TUNNEL column is not a tuple: "${line.slice(i)}"`;
      if (skipSpaces(line, end) < n) return `unexpected text after the last column: "${line.slice(end).trim()}"`;
    }
  } else {
    const error = readTrailing(line, i, e, layout);
    if (error !== undefined) return error;
  }

  if (e.packet !== undefined && !tupleIsIpPacket(e.proto, e.packet)) e.packet = undefined;
  const repeats = prev !== undefined && trailing === prev.trailing && sameRuns(runs, prev.runs) ? prev : { runs, trailing, event: e };
  return { event: e, timestampDigits, timestampUs, tunnelPending, repeats };
}

function sameRuns(a: readonly string[], b: readonly string[]): boolean {
  if (a.length !== b.length) return false;
  for (let r = 0; r < a.length; r++) if (a[r] !== b[r]) return false;
  return true;
}

/** Copies the decoded values of columns from..to (one run) from the previous event; true if it held the tuple. */
function copyRun(e: PwruEvent, p: PwruEvent, columns: readonly PwruColumn[], from: number, to: number): boolean {
  let tuple = false;
  for (let k = from; k <= to; k++) {
    switch (columns[k]) {
      case 'skb': e.skb = p.skb; break;
      case 'cpu': e.cpu = p.cpu; break;
      case 'process': e.process = p.process; e.pid = p.pid; break;
      case 'netns': e.netns = p.netns; break;
      case 'mark': e.mark = p.mark; break;
      case 'iface': e.iface = p.iface; e.ifindex = p.ifindex; break;
      case 'proto': e.proto = p.proto; break;
      case 'mtu': e.mtu = p.mtu; break;
      case 'len': e.len = p.len; break;
      case 'cb': e.cb = p.cb; break;
      case 'netnsName': e.netnsName = p.netnsName; break;
      case 'tuple':
        // The previous packet may carry its TUNNEL inner packet; keep only what the tuple says.
        e.packet = p.packet?.inner === undefined ? p.packet : stripTunnel(p.packet);
        tuple = true;
        break;
      default: break;
    }
  }
  return tuple;
}

/** Copies what the previous line's identical trailing text decoded into. */
function copyTrailing(e: PwruEvent, p: PwruEvent, layout: PwruLayout, tupleCopied: boolean): void {
  e.extraFields = p.extraFields;
  if (!layout.hasMetaColumns) {
    e.netns = p.netns;
    e.mark = p.mark;
    e.iface = p.iface;
    e.ifindex = p.ifindex;
    e.proto = p.proto;
    e.mtu = p.mtu;
    e.len = p.len;
  }
  if (!layout.hasTupleColumn) e.packet = p.packet;
  else if (layout.hasTunnelColumn && p.packet?.inner !== undefined) {
    e.packet = tupleCopied ? p.packet : withTunnel(e.packet, p.packet.inner);
  }
}

/**
 * newEvent: every field present from the start, so all events share one object shape and V8 keeps
 * them in-object instead of growing a property store field by field (a third of the parse time).
 * Fields pwru did not print stay undefined, which JSON and the model treat as absent.
 */
function newEvent(): PwruEvent {
  return {
    tool: 'pwru', skb: '', func: '', caller: undefined, cpu: undefined, process: undefined, pid: undefined,
    time: undefined, printedAt: undefined, netns: undefined, netnsName: undefined, mark: undefined, iface: undefined,
    ifindex: undefined, proto: undefined, mtu: undefined, len: undefined, cb: undefined, packet: undefined,
    dropReason: undefined, dropCode: undefined, extraFields: undefined, stack: undefined, skbDump: undefined,
    shinfoDump: undefined, summary: '',
  };
}

function skipSpaces(line: string, i: number): number {
  while (line.charCodeAt(i) === 32) i++;
  return i;
}

function tokenEnd(line: string, i: number): number {
  const j = line.indexOf(' ', i);
  return j < 0 ? line.length : j;
}

function countTokens(line: string, i: number): number {
  let count = 0;
  while (i < line.length) {
    count++;
    i = skipSpaces(line, tokenEnd(line, i));
  }
  return count;
}

/** Decimal digits in [i, j) as a number, or -1. */
function parseUint(line: string, i: number, j: number): number {
  if (i >= j) return -1;
  let v = 0;
  for (; i < j; i++) {
    const d = line.charCodeAt(i) - 48;
    if (d < 0 || d > 9) return -1;
    v = v * 10 + d;
  }
  return v;
}

/** Hex digits in [i, j), with or without 0x, as a number, or -1. */
function parseHexRange(line: string, i: number, j: number): number {
  if (j - i > 2 && line.charCodeAt(i) === 48 && line.charCodeAt(i + 1) === 120) i += 2;
  if (i >= j) return -1;
  let v = 0;
  for (; i < j; i++) {
    const c = line.charCodeAt(i) | 0x20;
    const d = c >= 48 && c <= 57 ? c - 48 : c >= 97 && c <= 102 ? c - 87 : -1;
    if (d < 0) return -1;
    v = v * 16 + d;
  }
  return v;
}

/** readFunc: FUNC, split from its drop reason; returns where the column ends. */
function readFunc(line: string, i: number, j: number, e: PwruEvent): number {
  if (!line.startsWith('kfree_skb_reason', i) && !line.startsWith('sk_skb_reason_drop', i)) {
    e.func = line.slice(i, j);
    return j;
  }
  const open = line.indexOf('(', i);
  if (open > 0 && open < j && line.charCodeAt(j - 1) === 41 /* ) */ && isDropFunc(line.slice(i, open))) {
    e.func = line.slice(i, open);
    e.dropReason = line.slice(open + 1, j - 1);
    return j;
  }
  e.func = line.slice(i, j);
  // An unnamed reason is printed after a space: `kfree_skb_reason (5)`.
  const at = skipSpaces(line, j);
  if (isDropFunc(e.func) && line.charCodeAt(at) === 40 /* ( */) {
    const close = line.indexOf(')', at);
    const code = close > 0 ? parseUint(line, at + 1, close) : -1;
    if (code >= 0) {
      e.dropCode = code;
      return close + 1;
    }
  }
  return j;
}

function readIface(text: string, e: PwruEvent): void {
  const f = parseIface(text);
  if (f.iface !== undefined) e.iface = f.iface;
  if (f.ifindex !== undefined) e.ifindex = f.ifindex;
}

function readTuple(text: string, e: PwruEvent): boolean {
  const tuple = parseTupleText(text);
  if (tuple === undefined) return false;
  const packet = tupleToPacket(tuple);
  if (packet !== undefined) e.packet = packet;
  return true;
}

function stripTunnel(packet: Packet): Packet {
  const { encap: _encap, inner: _inner, ...outer } = packet;
  return outer;
}

const LEGACY_META_KEYS = new Set(['netns', 'mark', 'ifindex', 'iface', 'proto', 'mtu', 'len']);

/** After the last column: `key=value` meta and the tuple of layouts before v1.0.7, skb metadata after. */
function readTrailing(line: string, i: number, e: PwruEvent, layout: PwruLayout): string | undefined {
  const n = line.length;
  let tupleSeen = false;
  while (i < n) {
    const j = tokenEnd(line, i);
    const eq = line.indexOf('=', i);
    if (eq > i && eq < j) {
      const key = line.slice(i, eq);
      if (!layout.hasMetaColumns && LEGACY_META_KEYS.has(key)) {
        const error = readLegacyMeta(line, key, eq + 1, j, e);
        if (error !== undefined) return error;
      } else {
        (e.extraFields ??= {})[key] = line.slice(eq + 1, j);
      }
    } else if (!layout.hasTupleColumn && !tupleSeen && line.charCodeAt(j - 1) === 41 /* ) */) {
      if (!readTuple(line.slice(i, j), e)) return `not a tuple: "${line.slice(i, j)}"`;
      tupleSeen = true;
    } else {
      return `unexpected text after the last column: "${line.slice(i)}"`;
    }
    i = skipSpaces(line, j);
  }
  return undefined;
}

function readLegacyMeta(line: string, key: string, i: number, j: number, e: PwruEvent): string | undefined {
  switch (key) {
    case 'netns':
    case 'mtu':
    case 'len':
    case 'ifindex': {
      const v = parseUint(line, i, j);
      if (v < 0) return `${key}= is not a number: "${line.slice(i, j)}"`;
      if (key === 'netns') e.netns = v;
      else if (key === 'mtu') e.mtu = v;
      else if (key === 'len') e.len = v;
      else e.ifindex = v;
      return undefined;
    }
    case 'mark': {
      const v = parseHexRange(line, i, j);
      if (v < 0) return `mark= is not hex: "${line.slice(i, j)}"`;
      e.mark = v;
      return undefined;
    }
    case 'iface':
      readIface(line.slice(i, j), e);
      return undefined;
    case 'proto': {
      const proto = parseEthertype(line.slice(i, j));
      if (proto === undefined) return `proto= is not an ethertype: "${line.slice(i, j)}"`;
      e.proto = proto;
      return undefined;
    }
  }
  return undefined;
}

/** --output-skb-metadata prints ` name=value` pairs after FUNC/CALLER and before TUNNEL. */
function readExtraFields(line: string, i: number, e: PwruEvent): number {
  while (i < line.length) {
    const j = tokenEnd(line, i);
    const eq = line.indexOf('=', i);
    if (eq <= i || eq >= j) break;
    (e.extraFields ??= {})[line.slice(i, eq)] = line.slice(eq + 1, j);
    i = skipSpaces(line, j);
  }
  return i;
}

/**
 * readTunnel reads the TUNNEL value at i into e.packet: the inner tuple (`:0->:0()` when the skb is
 * not encapsulated), preceded in the PR #494 build by the inner MACs `aa:.. -> bb:..`. Returns the
 * index after it, or -1.
 */
export function readTunnel(line: string, i: number, e: PwruEvent): number {
  const tokens = line.slice(i).trim().split(/ +/);
  let t = 0;
  let eth: { src: string; dst: string } | undefined;
  if (tokens.length >= 4 && isMac(tokens[0]) && tokens[1] === '->' && isMac(tokens[2])) {
    eth = { src: tokens[0].toLowerCase(), dst: tokens[2].toLowerCase() };
    t = 3;
  }
  const tuple = parseTupleText(tokens[t] ?? '');
  if (tuple === undefined) return -1;
  const end = line.indexOf(tokens[t], i) + tokens[t].length;
  const inner = tupleToPacket(tuple);
  if (inner === undefined && eth === undefined) return end;
  const innerPacket: Packet = inner ?? {};
  if (eth !== undefined) innerPacket.eth = eth;
  e.packet = withTunnel(e.packet, innerPacket);
  return end;
}

/**
 * inferColumns tells the layout from the line itself when no header was seen (a log cut mid-stream).
 * Works for: v0.0.1-4 (`SKB [PROCESS] FUNC TIMESTAMP ...`), v0.0.5-v1.0.6 (`SKB CPU [PROCESS] FUNC
 * [TIMESTAMP] ...`, with or without TIME), v1.0.7+ without NETNS NAME and cb (`SKB CPU PROCESS
 * [TIMESTAMP] [meta] [TUPLE] FUNC [CALLER] [TUNNEL]`). Not for the unmerged PR #35 build (CPU after FUNC).
 */
export function inferColumns(line: string): PwruColumn[] | undefined {
  const t = line.trim().split(/ +/);
  const cols: PwruColumn[] = [];
  let i = 0;
  if (t.length > 0 && isClockTime(t[0])) {
    cols.push('time');
    i++;
  }
  if (i >= t.length || !isSkbAddress(t[i])) return undefined;
  cols.push('skb');
  i++;
  if (i >= t.length) return undefined;
  if (t[i].charCodeAt(0) === 91 /* [ */) {
    cols.push('process', 'func', 'timestamp');
    return cols;
  }
  if (!/^\d+$/.test(t[i]) || i + 1 >= t.length) return undefined;
  cols.push('cpu', 'process');
  i++;
  if (t[i].charCodeAt(0) === 91) {
    // Bracketed PROCESS: the layout before v1.0.7, FUNC right after it.
    while (i < t.length && t[i].charCodeAt(t[i].length - 1) !== 93) i++;
    i++;
    cols.push('func');
    if (i < t.length && isDropFunc(t[i]) && /^\(\d+\)$/.test(t[i + 1] ?? '')) i++;
    i++;
    if (i < t.length && /^\d+$/.test(t[i])) cols.push('timestamp');
    return cols;
  }
  i++;
  let proto = -1;
  for (let j = i + 3; j < t.length; j++) {
    if (/^0x[0-9a-f]{4}$/.test(t[j]) && /^\d+$/.test(t[j - 3])) {
      proto = j;
      break;
    }
  }
  if (proto >= 0) {
    if (proto - 3 > i) cols.push('timestamp');
    cols.push('netns', 'mark', 'iface', 'proto', 'mtu', 'len');
    i = proto + 3;
  } else if (i < t.length && /^\d+$/.test(t[i])) {
    cols.push('timestamp');
    i++;
  }
  if (i < t.length && isTuple(t[i])) {
    cols.push('tuple');
    i++;
  }
  cols.push('func');
  if (i < t.length && isDropFunc(t[i]) && /^\(\d+\)$/.test(t[i + 1] ?? '')) i++;
  i++;
  if (i < t.length && !t[i].includes('=') && !isTuple(t[i]) && !isMac(t[i])) {
    cols.push('caller');
    i++;
  }
  for (let j = i; j < t.length; j++) {
    if (isTuple(t[j])) {
      cols.push('tunnel');
      break;
    }
  }
  return cols;
}
