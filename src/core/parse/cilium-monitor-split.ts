/**
 * splitMonitorRecords cuts a physical line holding several cilium monitor records, as happens when
 * a terminal transcript pasted into notes loses line breaks (the seed: `... to endpoint 3663 CPU 02:
 * MARK 0x0 FROM 3663 DEBUG: ...`). It cuts only where a record start cannot be anything else:
 * before ` CPU NN: MARK 0x`, ` CPU NN: [` (trace-sock), ` CPU NN: Lost N` and before a gopacket
 * layer or `Failed to decode layer:` that follows the `}` of a previous layer. Info-form records
 * (`-> endpoint ...`) are not cut: their packet summaries contain ` -> ` too.
 */
export function splitMonitorRecords(line: string): string[] {
  if (!JOINED.test(line)) return [line];
  return line.split(CUT);
}

const LAYERS = '(?:Ethernet|Dot1Q|ARP|IPv4|IPv6|TCP|UDP|SCTP|ICMPv4|ICMPv6|DNS)[ \\t]\\{';
const CUT = new RegExp(` (?=CPU \\d+: (?:MARK 0x|\\[|Lost \\d))|(?<=\\}) (?=${LAYERS}|Failed to decode layer: )`);
const JOINED = new RegExp(`. CPU \\d+: (?:MARK 0x|\\[|Lost \\d)|\\} (?:${LAYERS}|Failed to decode layer: )`);

/** joinedRecords tells whether a line holds more than one monitor record (see splitMonitorRecords). */
export function joinedRecords(line: string): boolean {
  return JOINED.test(line);
}
