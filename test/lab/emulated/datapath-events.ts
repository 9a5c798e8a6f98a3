/**
 * The records lab-agent writes for every decision of the lab's tc datapath (one JSON line each,
 * .lab/events/<node>.jsonl), and a follower that yields the records appended after it starts,
 * as `cilium monitor` only shows what happens while it listens.
 */
import { closeSync, existsSync, openSync, readSync, statSync } from 'node:fs';

/** One datapath record; field meanings in test/lab/kernel/bpf/lab_event.h. */
export interface DatapathEvent {
  ts: number;
  kind: 'trace' | 'debug' | 'drop' | 'verdict' | 'policy-verdict';
  sub: number;
  source: number;
  dstId: number;
  cpu: number;
  hash: number;
  srcLabel: number;
  dstLabel: number;
  ifindex: number;
  reason: number;
  monitor: number;
  arg1: number;
  arg2: number;
  arg3: number;
  origIp: number;
  len: number;
  capLen: number;
  prog: number;
  hookIfindex: number;
  action: number;
  target: number;
  data: string;
}

/** Trace observation points (lab_event.h, numbered as Cilium's). */
export const OBS = { TO_LXC: 0, TO_STACK: 3, TO_OVERLAY: 4, FROM_LXC: 5, FROM_OVERLAY: 9, FROM_NETWORK: 10, TO_NETWORK: 11 } as const;
/** Debug messages (lab_event.h). */
export const DBG = {
  CT_LOOKUP4_1: 1, CT_LOOKUP4_2: 2, CT_MATCH: 3, CT_VERDICT: 4, CT_CREATED4: 5, IPID_MAP4: 6, LOCAL_DELIVERY: 7, ENCAP: 8, DECAP: 9,
  LB4_LOOKUP_FRONTEND: 20, LB4_LOOKUP_BACKEND_SLOT: 21, LB4_LOOKUP_BACKEND_SLOT_SUCCESS: 22, LB4_REVERSE_NAT_LOOKUP: 23, LB4_REVERSE_NAT: 24,
} as const;
/** Programs (lab_event.h). */
export const PROG = { FROM_CONTAINER: 1, TO_CONTAINER: 2, FROM_NETDEV: 3, FROM_OVERLAY: 4, TO_OVERLAY: 5 } as const;
/** Program verdicts (lab_event.h). */
export const ACTION = { OK: 1, REDIRECT_PEER: 2, REDIRECT: 3, REDIRECT_NEIGH: 4, DROP: 5 } as const;

/** An IPv4 address held in a u32 read natively (little-endian) from network-order bytes. */
export function ipFromNative(v: number): string {
  return `${v & 0xff}.${(v >>> 8) & 0xff}.${(v >>> 16) & 0xff}.${(v >>> 24) & 0xff}`;
}

/** The captured bytes of a record. */
export function eventBytes(e: DatapathEvent): Uint8Array {
  return Uint8Array.from(Buffer.from(e.data, 'hex'));
}

/** Parses one line of an events file; undefined for lines that are not datapath records. */
export function parseEventLine(line: string): DatapathEvent | undefined {
  if (!line.startsWith('{"ts"')) return undefined;
  try {
    return JSON.parse(line) as DatapathEvent;
  } catch {
    return undefined;
  }
}

/**
 * Follows a growing JSON-lines file from its current end (or from `fromStart`), calling onEvent
 * for each complete new line. Returns a stop function, which first reads what the file gained
 * since the last poll: the real tools get each event as the datapath emits it, so an event
 * written before the stop must not be lost to the polling interval.
 */
export function followEvents(path: string, onEvent: (e: DatapathEvent) => void, opts: { fromStart?: boolean; intervalMs?: number } = {}): () => void {
  let offset = !opts.fromStart && existsSync(path) ? statSync(path).size : 0;
  let rest = '';
  const buf = Buffer.alloc(1 << 20);
  const poll = (): void => {
    if (!existsSync(path)) return;
    const fd = openSync(path, 'r');
    try {
      for (;;) {
        const n = readSync(fd, buf, 0, buf.length, offset);
        if (n <= 0) break;
        offset += n;
        rest += buf.toString('utf8', 0, n);
        const lines = rest.split('\n');
        rest = lines.pop() ?? '';
        for (const line of lines) {
          const e = parseEventLine(line);
          if (e) onEvent(e);
        }
      }
    } finally {
      closeSync(fd);
    }
  };
  poll();
  const timer = setInterval(poll, opts.intervalMs ?? 50);
  return () => {
    clearInterval(timer);
    poll();
  };
}
