import type { ProbeEvent } from '../model/event.js';

/**
 * ParseResult: what one line meant. Parsers never throw; every line gets exactly one result.
 * - event:    a new observation.
 * - amend:    this line completes the previous event of the same stream (tcpdump -v second
 *             line, a gopacket layer dump after a monitor record, an --output-stack frame);
 *             `event` is the previous event with this line folded in and replaces it.
 * - meta:     a line that tells us about the stream, not about a packet
 *             (`listening on lxc12, link-type EN10MB`, pwru's column header, monitor's
 *             `Listening for events on 4 CPUs`). Counted as understood.
 * - ignored:  recognised and deliberately dropped (progress bars, agent log lines, capture
 *             summaries like `4 packets captured`). Counted as understood.
 * - unparsed: not understood; counted and shown in the report with the reason.
 */
export type ParseResult<E extends ProbeEvent = ProbeEvent> =
  | { kind: 'event'; event: E }
  | { kind: 'amend'; event: E }
  | { kind: 'meta'; meta: StreamMeta }
  | { kind: 'ignored'; reason: string }
  | { kind: 'unparsed'; reason: string };

/** Facts about a stream learnt from its own lines. */
export interface StreamMeta {
  /** tcpdump `listening on IFACE`. */
  iface?: string;
  /** tcpdump link type name (EN10MB, LINUX_SLL, LINUX_SLL2, RAW). */
  linkType?: string;
  /** The tool says it is ready (tcpdump listening, pwru/monitor "Listening for events"). */
  ready?: boolean;
  /** Tool version when the stream shows it. */
  version?: string;
  /** Free text of what the meta line said, for the report. */
  note?: string;
}

/**
 * A line parser with a per-stream context. `parse` returns the result and the context to use for
 * the next line; it must not mutate the context it was given (so a parser stays a pure function
 * and a stream can be replayed).
 */
export interface LineParser<C, E extends ProbeEvent = ProbeEvent> {
  tool: E['tool'];
  initial: () => C;
  parse: (line: string, ctx: C) => Parsed<C, E>;
}

export interface Parsed<C, E extends ProbeEvent = ProbeEvent> {
  result: ParseResult<E>;
  ctx: C;
}
