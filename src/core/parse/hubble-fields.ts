import type { HubbleEndpoint, HubbleEvent } from '../model/event.js';
import type { L4Info, Packet } from '../model/packet.js';
import { tcpFlagsToTcpdump } from './pwru-fields.js';

/*
 * What Hubble's text and JSON share: the words of the TYPE column, the SUMMARY column and the
 * endpoint names. Read from hubble's printer (cilium/hubble pkg/printer/printer.go up to v0.13,
 * then cilium/cilium hubble/pkg/printer/printer.go: GetFlowType, getVerdict, getSummary, Hostname)
 * and the flow proto (cilium/cilium api/v1/flow/flow.proto).
 */

/** Verdict words the printer writes: Verdict names, and ALLOWED/DENIED/AUDITED for policy-verdict events (getVerdict). */
export const VERDICTS: ReadonlySet<string> = new Set([
  'FORWARDED', 'DROPPED', 'ERROR', 'AUDIT', 'REDIRECTED', 'TRACED', 'TRANSLATED',
  'ALLOWED', 'DENIED', 'AUDITED', 'VERDICT_UNKNOWN',
]);

/** pkg/monitor/api TraceObservationPoint strings: `to-endpoint`, `from-network`, ... */
const OBS_POINT = /^(?:to|from)-(?:endpoint|proxy|host|stack|overlay|network|crypto|lxc)$/;
const XLATE_POINT = /^(?:pre|post)-xlate-(?:fwd|rev)$/;
/** api.PolicyMatchType strings, which hubble before PR #745 printed alone in the TYPE column of an allowed policy verdict. */
const POLICY_MATCH = /^(?:none|L3-Only|L3-L4|L4-Only|all|L3-Proto|Proto-Only|L7\/\w+)$/;

/** The fields the TYPE column tells, given the verdict printed after it. */
export type TypeFields = Pick<HubbleEvent, 'kind' | 'obsPoint' | 'dropReason' | 'policyMatch' | 'direction' | 'xlatePoint'>;

/**
 * readFlowType reads the TYPE column (GetFlowType): an observation point, `policy-verdict:MATCH
 * DIRECTION`, a socket translation point, an L7 type (`http-request`, `dns-response proxy`), a
 * debug capture point, or else a drop reason in monitor's words (`Policy denied`). Hubble before
 * PR #745 printed a policy verdict as its match type (`L3-Only`) when allowed and as the drop
 * reason when denied: such a denied verdict cannot be told from the drop itself.
 */
export function readFlowType(type: string, verdict: string): TypeFields {
  if (OBS_POINT.test(type)) return { kind: 'trace', obsPoint: type === 'to-lxc' ? 'to-endpoint' : type };
  if (XLATE_POINT.test(type)) return { kind: 'trace-sock', xlatePoint: type };
  const pv = /^policy-verdict:(\S+)(?: (INGRESS|EGRESS|TRAFFIC_DIRECTION_UNKNOWN))?$/.exec(type);
  if (pv) {
    const out: TypeFields = { kind: 'policy-verdict', policyMatch: pv[1] };
    if (pv[2] === 'INGRESS' || pv[2] === 'EGRESS') out.direction = pv[2] === 'INGRESS' ? 'ingress' : 'egress';
    return out;
  }
  if (POLICY_MATCH.test(type) && !isDropVerdict(verdict)) return { kind: 'policy-verdict', policyMatch: type };
  if (/^(?:http|dns|kafka|l7)-/.test(type)) return { kind: 'l7' };
  if (/^DBG_CAPTURE_/.test(type)) return { kind: 'capture' };
  if (type === 'UNKNOWN' || type === '') return { kind: 'unknown' };
  if (isDropVerdict(verdict)) return { kind: 'drop', dropReason: type };
  return { kind: 'unknown' };
}

export function isDropVerdict(verdict: string): boolean {
  return verdict === 'DROPPED' || verdict === 'ERROR' || verdict === 'DENIED';
}

/** gopacket's ICMP type names (`EchoRequest`, `TimeExceeded`) in the model's words. */
const ICMP_WORDS: Record<string, string> = {
  EchoRequest: 'echo-request', EchoReply: 'echo-reply', DestinationUnreachable: 'unreachable',
  TimeExceeded: 'time-exceeded', PacketTooBig: 'packet-too-big', ParameterProblem: 'parameter-problem',
  SourceQuench: 'source-quench', Redirect: 'redirect', RouterSolicitation: 'router-solicitation',
  RouterAdvertisement: 'router-advertisement', NeighborSolicitation: 'neighbor-solicitation',
  NeighborAdvertisement: 'neighbor-advertisement', TimestampRequest: 'timestamp-request', TimestampReply: 'timestamp-reply',
};

/** The summary without the `IP Trace ID: N; ` prefix (getSummary), and that id. */
export function splitTraceId(summary: string): { summary: string; ipTraceId?: string } {
  const m = /^IP Trace ID: (\d+); /.exec(summary);
  return m ? { summary: summary.slice(m[0].length), ipTraceId: m[1] } : { summary };
}

/**
 * readSummary: the L4 facts of the SUMMARY of an L3/L4 flow (the parser's summary: `TCP Flags: SYN,
 * ACK`, `UDP`, `ICMPv4 EchoRequest`, `ICMPv6 TimeExceeded(TTLExceeded)`); undefined for L7 lines.
 */
export function readSummary(summary: string): L4Info | undefined {
  const s = summary.replace(/; (?:SPIRE|TEST_ALWAYS_FAIL|[A-Z_]+)$/, '');
  const tcp = /^TCP(?: Flags: ([A-Z, ]+))?$/.exec(s);
  if (tcp) {
    const l4: L4Info = { proto: 'tcp' };
    if (tcp[1]) {
      const flags = tcpFlagsToTcpdump(tcp[1].split(', ').join('|'));
      if (flags !== undefined) l4.tcpFlags = flags;
    }
    return l4;
  }
  if (s === 'UDP') return { proto: 'udp' };
  if (s === 'SCTP') return { proto: 'sctp' };
  const icmp = /^ICMPv([46]) ([A-Za-z]+)(?:\(([^)]*)\))?/.exec(s);
  if (icmp) {
    const l4: L4Info = { proto: icmp[1] === '4' ? 'icmp' : 'icmp6' };
    const word = ICMP_WORDS[icmp[2]];
    l4.icmpType = word ?? icmp[2].replace(/([a-z])([A-Z])/g, '$1-$2').toLowerCase();
    return l4;
  }
  return undefined;
}

/**
 * readHost: one end as Hostname() prints it: `ns/pod:port`, `ns/svc`, `10.0.0.1:80`,
 * `[fd00::1]:80`, a bare address, DNS names (`a.example,b.example:443`), or a MAC for flows
 * without IP. The port is printed only when non-zero.
 */
export function readHost(token: string): HubbleEndpoint {
  const v6 = /^\[([0-9a-fA-F:.]+(?:%\w+)?)\]:(\d+)$/.exec(token);
  if (v6) return { ip: v6[1], port: Number(v6[2]) };
  if (isIpv6(token)) return { ip: token };
  const colon = token.lastIndexOf(':');
  let host = token;
  let port: number | undefined;
  if (colon > 0 && /^\d+$/.test(token.slice(colon + 1))) {
    host = token.slice(0, colon);
    port = Number(token.slice(colon + 1));
  }
  const out: HubbleEndpoint = isIpv4(host) ? { ip: host } : { name: host };
  if (port !== undefined) out.port = port;
  return out;
}

export function isIpv4(s: string): boolean {
  return /^\d{1,3}(?:\.\d{1,3}){3}$/.test(s);
}

export function isIpv6(s: string): boolean {
  return s.includes(':') && /^[0-9a-fA-F:]+(?:\d{1,3}(?:\.\d{1,3}){3})?$/.test(s) && !/^(?:[0-9a-fA-F]{2}:){5}[0-9a-fA-F]{2}$/.test(s);
}

/** Reserved identities by number (pkg/identity/numericidentity.go), as fmtIdentity prints them. */
export const RESERVED_IDENTITIES: Readonly<Record<number, string>> = {
  0: 'unknown', 1: 'host', 2: 'world', 3: 'unmanaged', 4: 'health', 5: 'init', 6: 'remote-node',
  7: 'kube-apiserver', 8: 'ingress', 9: 'world-ipv4', 10: 'world-ipv6',
};
const RESERVED_BY_NAME = new Map(Object.entries(RESERVED_IDENTITIES).map(([n, name]) => [name, Number(n)]));

/** readIdentity: `ID:1234` or a reserved identity's name, as printed between parentheses. */
export function readIdentity(text: string, into: HubbleEndpoint): void {
  const id = /^ID:(\d+)$/.exec(text);
  if (id) {
    into.identity = Number(id[1]);
    return;
  }
  into.identityName = text;
  const n = RESERVED_BY_NAME.get(text);
  if (n !== undefined) into.identity = n;
}

/** Splits `ns/pod` into namespace and pod when the name has exactly one slash. */
export function nameParts(into: HubbleEndpoint): void {
  const name = into.name;
  if (!name) return;
  const slash = name.indexOf('/');
  if (slash > 0 && slash === name.lastIndexOf('/') && !name.includes(',')) {
    into.namespace = name.slice(0, slash);
    into.pod = name.slice(slash + 1);
  }
}

/** The packet as far as the flow shows it: addresses only when Hubble gave both (names stand for pods). */
export function flowPacket(src: HubbleEndpoint, dst: HubbleEndpoint, l4: L4Info | undefined): Packet | undefined {
  if (l4) {
    if (src.port !== undefined && l4.proto !== 'icmp' && l4.proto !== 'icmp6') l4.srcPort = src.port;
    if (dst.port !== undefined && l4.proto !== 'icmp' && l4.proto !== 'icmp6') l4.dstPort = dst.port;
  }
  const packet: Packet = {};
  if (src.ip && dst.ip) packet.ip = { version: src.ip.includes(':') ? 6 : 4, src: src.ip, dst: dst.ip, ...(l4 ? { proto: l4.proto } : {}) };
  if (l4) packet.l4 = l4;
  return packet.ip || packet.l4 ? packet : undefined;
}

/** node_name without the cluster prefix Hubble adds with a cluster name (`kind-kind/kind-worker`). */
export function nodeName(name: string): string {
  const slash = name.lastIndexOf('/');
  return slash >= 0 ? name.slice(slash + 1) : name;
}
