import type { Packet } from '../model/packet.js';
import { stepDump, type PacketDump } from './cilium-monitor-dump.js';
import { asRecord, asString } from './json-value.js';

/**
 * `cilium monitor -j` / `--json`: one compact JSON object per line. What each record type prints
 * (cilium pkg/monitor, the *Verbose structs and their json tags):
 * - drop (datapath_drop.go DropNotifyVerbose): cpu, type "drop", mark, reason (DropReasonExt: the
 *   name, then `, <ext>` when the extended error is set), source, bytes, srcLabel, dstLabel,
 *   dstID, Line, File (a number, api.BPFFileName), ExtError, Ifindex, summary.
 * - trace (datapath_trace.go TraceNotifyVerbose): cpu, type "trace", mark, ifindex (the
 *   interface's name), state, observationPoint, traceSummary, source, bytes, srcLabel, dstLabel,
 *   dstID, IpTraceID (newer agents), summary.
 * - debug (datapath_debug.go DebugMsg.getJSON): `{"cpu":"CPU 01:","type":"debug","message":"..."}`,
 *   the message exactly as the text DEBUG record prints it.
 * - capture (datapath_debug.go DebugCaptureVerbose): cpu, type "capture", mark, message, prefix,
 *   source, bytes, summary (the connection summary text).
 * - logRecord (logrecord.go LogRecordNotifyVerbose): type, observationPoint (Ingress/Egress),
 *   flowType (Request/Response), l7Proto, srcEpID, srcEpLabels, srcIdentity, dstEpID,
 *   dstEpLabels, dstIdentity, verdict, http/kafka/dns/l7.
 * - agent notifications (api AgentNotify) with type "agent".
 * Policy verdicts have no JSON form: format.go prints them with DumpInfo even under -j, so a -j
 * stream mixes `Policy verdict log:` text lines with JSON ones.
 * `summary` of drops and traces is a DissectSummary: gopacket LayerStrings per layer (ethernet,
 * ipv4, ipv6, tcp, udp, sctp, icmpv4, icmpv6), the same text as -v's packet dump, plus l2/l3/l4
 * flows.
 */

/** readMonitorJson: the record of one JSON line, or why it is not one. Never throws. */
export function readMonitorJson(line: string): Record<string, unknown> | string {
  if (!line.endsWith('}')) return 'monitor JSON cut short or pretty-printed (-j prints one object per line)';
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch {
    return 'monitor JSON not valid';
  }
  const record = asRecord(value);
  if (!record || asString(record.type) === undefined) return 'monitor JSON without a record type';
  return record;
}

/** The layers of a DissectSummary, outermost first, as dissect.go fills them. */
const LAYERS = ['ethernet', 'ipv4', 'ipv6', 'tcp', 'udp', 'sctp', 'icmpv4', 'icmpv6'] as const;

/**
 * packetOfSummary reads a DissectSummary object into a Packet with the -v dump reader (its layer
 * strings are the dump's lines); undefined when there is none, a string when a layer is not understood.
 */
export function packetOfSummary(summary: unknown, decodeHex: (bytes: Uint8Array) => Packet): Packet | undefined | string {
  const s = asRecord(summary);
  if (!s) return undefined;
  let dump: PacketDump | undefined;
  for (const key of LAYERS) {
    const layer = asString(s[key]);
    if (layer === undefined) continue;
    const step = stepDump(dump, layer, decodeHex);
    if (step.kind === 'error') return `${key} layer of the JSON summary: ${step.reason}`;
    dump = step.dump;
  }
  if (dump) return dump.packet;
  // Without layer strings, the flows alone still name the addresses.
  const l3 = asRecord(s.l3);
  const src = asString(l3?.src);
  const dst = asString(l3?.dst);
  if (!src || !dst) return {};
  return { ip: { version: src.includes(':') ? 6 : 4, src, dst } };
}

/** The `CPU 01:` prefix as a number. */
export function cpuOf(prefix: unknown): number | undefined {
  const m = /^CPU (\d+):?$/.exec(asString(prefix) ?? '');
  return m ? Number(m[1]) : undefined;
}

/**
 * BPF source files by the id drops carry (pkg/monitor/api/files.go, kept in sync with
 * bpf/lib/source_info.h; the table of current agents).
 */
export const BPF_FILES: ReadonlyMap<number, string> = new Map([
  [1, 'bpf_host.c'], [2, 'bpf_lxc.c'], [3, 'bpf_overlay.c'], [4, 'bpf_xdp.c'], [5, 'bpf_sock.c'], [7, 'bpf_wireguard.c'],
  [101, 'drop.h'], [102, 'srv6.h'], [103, 'icmp6.h'], [104, 'nodeport.h'], [105, 'lb.h'], [106, 'mcast.h'],
  [107, 'ipv4.h'], [108, 'conntrack.h'], [109, 'local_delivery.h'], [110, 'trace.h'], [111, 'encap.h'],
  [112, 'host_firewall.h'], [113, 'nodeport_egress.h'], [114, 'ipv6.h'], [115, 'classifiers.h'],
]);
