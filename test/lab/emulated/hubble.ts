/**
 * EMULATED `hubble` CLI of the datapath lab, as the Cilium agent image ships it (talking to the
 * node's own Hubble socket). Not the real binary: `status` and `observe` for the node in LAB_NODE,
 * from the same datapath records the emulated `cilium-dbg monitor` prints (trace and drop
 * notifications, under the same monitor aggregation), each turned into the flow Hubble's parser
 * makes of it (cilium/cilium pkg/hubble/parser/threefour) and printed as `-o jsonpb`
 * (GetFlowsResponse, proto field names: api/v1/flow/flow.proto) or `-o compact` (hubble's printer,
 * hubble/pkg/printer). Its timestamps are its own: the record's kernel time (bpf_ktime_get_ns,
 * CLOCK_MONOTONIC) on the wall clock, as Hubble stamps a flow with the event's time.
 * With the lab's Hubble off (`lab up --hubble off`) it fails as the real CLI does without a socket.
 */
import { dirname } from 'node:path';
import { followEvents, type DatapathEvent } from './datapath-events.js';
import { decode } from './cilium/dissect.js';
import { securityLabels } from '../kernel/topology.js';
import { emittedUnder } from './cilium/monitor.js';
import { DROP_REASONS } from './cilium/monitor-format.js';
import { CliError } from './cilium/cli-error.js';
import { nodeContext, runEmulated, type NodeContext } from './lab-context.js';
import { labPaths } from '../kernel/paths.js';

const SOCKET = 'unix:///var/run/cilium/hubble.sock';
const POINTS: Record<number, string> = {
  0: 'TO_ENDPOINT', 1: 'TO_PROXY', 2: 'TO_HOST', 3: 'TO_STACK', 4: 'TO_OVERLAY', 5: 'FROM_ENDPOINT', 6: 'FROM_PROXY',
  7: 'FROM_HOST', 8: 'FROM_STACK', 9: 'FROM_OVERLAY', 10: 'FROM_NETWORK', 11: 'TO_NETWORK',
};
const TRACE_REASONS: Record<number, string> = { 0: 'NEW', 1: 'ESTABLISHED', 2: 'REPLY', 3: 'RELATED', 4: 'REOPENED' };
/** flow.proto DropReason names of the codes the lab datapath reports. */
const DROP_DESC: Record<number, string> = { 133: 'POLICY_DENIED', 158: 'NO_SERVICE', 160: 'NO_TUNNEL_OR_ENCAPSULATION_ENDPOINT', 181: 'POLICY_DENY', 196: 'TTL_EXCEEDED' };
const RESERVED: Record<number, string> = { 1: 'reserved:host', 2: 'reserved:world', 6: 'reserved:remote-node' };
const FLAG_NAMES: [number, string][] = [[0x01, 'FIN'], [0x02, 'SYN'], [0x04, 'RST'], [0x08, 'PSH'], [0x10, 'ACK'], [0x20, 'URG']];
const ICMP_NAMES: Record<number, string> = { 0: 'EchoReply', 3: 'DestinationUnreachable', 8: 'EchoRequest', 11: 'TimeExceeded' };

interface ObserveOptions {
  follow: boolean;
  sinceS: number;
  output: 'jsonpb' | 'compact';
  ips: string[];
}

function parseDuration(v: string): number {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m|h)$/.exec(v);
  if (!m) throw new CliError(`invalid argument "${v}" for "--since" flag: time: invalid duration "${v}"`);
  return Number(m[1]) * ({ ms: 0.001, s: 1, m: 60, h: 3600 } as Record<string, number>)[m[2]];
}

export function parseObserveArgs(args: string[]): ObserveOptions {
  const o: ObserveOptions = { follow: false, sinceS: 0, output: 'compact', ips: [] };
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    const value = (): string => {
      const v = args[++i];
      if (v === undefined) throw new CliError(`flag needs an argument: ${a}`);
      return v;
    };
    if (a === '-f' || a === '--follow') o.follow = true;
    else if (a === '--since') o.sinceS = parseDuration(value());
    else if (a === '-o' || a === '--output') {
      const v = value();
      if (v !== 'jsonpb' && v !== 'compact') throw new CliError(`invalid output format: ${v} (the lab's hubble prints jsonpb and compact)`);
      o.output = v;
    } else if (a === '--ip') o.ips.push(value());
    else throw new CliError(`unknown flag: ${a}`);
  }
  return o;
}

/** The endpoint object Hubble attaches to an address: the pod's, with its endpoint id when local. */
function endpointOf(ctx: NodeContext, ip: string, identity: number): Record<string, unknown> {
  const pod = ctx.state.pods.find((p) => p.ip === ip && !p.hostNetwork);
  const out: Record<string, unknown> = {};
  if (pod?.endpointId !== undefined && pod.node === ctx.node.name) out.ID = pod.endpointId;
  if (identity) out.identity = identity;
  if (pod) {
    out.namespace = pod.namespace;
    // Hubble attaches the identity's labels (namespace, cluster, service account included), as the agent's endpoint list shows them.
    out.labels = securityLabels(pod);
    out.pod_name = pod.name;
  } else if (RESERVED[identity]) out.labels = [RESERVED[identity]];
  return out;
}

/** Hubble's policy match names (flow.proto PolicyMatchType, as its printer shows them). */
const POLICY_MATCH: Record<number, string> = { 0: 'none', 1: 'L3-Only', 2: 'L3-L4', 3: 'L4-Only', 4: 'all', 5: 'L3-Proto', 6: 'Proto-Only' };

/**
 * The flow Hubble's threefour parser makes of a trace, drop or policy verdict record; undefined for
 * others. A verdict (policy.h's record: sub 1 allow / 2 deny, arg3 the direction, reason the match)
 * is event type 5, FORWARDED or DROPPED with POLICY_DENIED, its remote identity on the side the
 * direction says (the source of ingress traffic, the destination of egress traffic).
 */
export function flowOf(ctx: NodeContext, e: DatapathEvent, wallUs: number): Record<string, unknown> | undefined {
  if (e.kind !== 'trace' && e.kind !== 'drop' && e.kind !== 'policy-verdict') return undefined;
  if (e.kind === 'policy-verdict') {
    const local = ctx.pods.find((p) => p.endpointId === e.source)?.identity ?? 0;
    const ingress = e.arg3 === 1;
    const deny = e.sub === 2;
    const flow = flowOf(ctx, { ...e, kind: 'drop', sub: e.dstId || 133, dstId: 0, srcLabel: ingress ? e.srcLabel : local, dstLabel: ingress ? local : e.srcLabel }, wallUs);
    if (!flow) return undefined;
    flow.verdict = deny ? 'DROPPED' : 'FORWARDED';
    if (!deny) {
      delete flow.drop_reason;
      delete flow.drop_reason_desc;
    }
    flow.event_type = { type: 5 };
    flow.traffic_direction = ingress ? 'INGRESS' : 'EGRESS';
    flow.policy_match_type = e.reason;
    return flow;
  }
  const d = decode(Uint8Array.from(Buffer.from(e.data, 'hex')));
  if (!d.ip) return undefined;
  const flow: Record<string, unknown> = {
    time: new Date(Math.floor(wallUs / 1000)).toISOString().replace(/\.\d{3}Z$/, `.${String(Math.floor(wallUs % 1e6)).padStart(6, '0')}000Z`),
    verdict: e.kind === 'drop' ? 'DROPPED' : 'FORWARDED',
    ethernet: d.eth ? { source: d.eth.src, destination: d.eth.dst } : undefined,
    IP: { source: d.ip.src, destination: d.ip.dst, ipVersion: 'IPv4' },
  };
  if (d.tcp) {
    const flags = Object.fromEntries(FLAG_NAMES.filter(([bit]) => d.tcp!.flags & bit).map(([, n]) => [n, true]));
    flow.l4 = { TCP: { source_port: d.tcp.sport, destination_port: d.tcp.dport, flags } };
  } else if (d.udp) flow.l4 = { UDP: { source_port: d.udp.sport, destination_port: d.udp.dport } };
  else if (d.icmp) flow.l4 = { ICMPv4: { type: d.icmp.type, ...(d.icmp.code ? { code: d.icmp.code } : {}) } };
  flow.source = endpointOf(ctx, d.ip.src, e.srcLabel);
  flow.destination = endpointOf(ctx, d.ip.dst, e.dstLabel);
  flow.Type = 'L3_L4';
  flow.node_name = ctx.node.name;
  flow.event_type = { type: e.kind === 'drop' ? 1 : 4, sub_type: e.sub };
  if (e.kind === 'trace') {
    flow.trace_observation_point = POINTS[e.sub] ?? 'UNKNOWN_POINT';
    if (TRACE_REASONS[e.reason]) flow.trace_reason = TRACE_REASONS[e.reason];
    // Hubble knows the direction from the record's conntrack reason; without one it leaves is_reply out.
    if (e.reason === 0 || e.reason === 1 || e.reason === 2) flow.is_reply = e.reason === 2;
  } else {
    flow.drop_reason = e.sub;
    flow.drop_reason_desc = DROP_DESC[e.sub] ?? 'DROP_REASON_UNKNOWN';
  }
  if (e.ifindex) {
    const names = new Map<number, string>([[ctx.kernel.nodes[ctx.node.name].underlayIfindex, ctx.node.underlayIf]]);
    for (const p of ctx.pods) if (p.lxc) names.set(p.lxc.ifindex, p.lxc.name);
    flow.interface = { index: e.ifindex, ...(names.get(e.ifindex) ? { name: names.get(e.ifindex) } : {}) };
  }
  flow.Summary = d.tcp
    ? `TCP Flags: ${FLAG_NAMES.filter(([bit]) => d.tcp!.flags & bit).map(([, n]) => n).join(', ')}`
    : d.udp ? 'UDP' : d.icmp ? `ICMPv4 ${ICMP_NAMES[d.icmp.type] ?? `Type${d.icmp.type}`}` : 'IPv4';
  return JSON.parse(JSON.stringify(flow)) as Record<string, unknown>;
}

/** The compact line of hubble's printer for a flow (identities since hubble PR #745). */
export function compactLine(flow: Record<string, unknown>): string {
  const f = flow as { time: string; IP: { source: string; destination: string }; l4?: Record<string, { source_port?: number; destination_port?: number }>; source: Record<string, unknown>; destination: Record<string, unknown>; is_reply?: boolean; verdict: string; trace_observation_point?: string; drop_reason?: number; Summary: string; event_type?: { type: number }; traffic_direction?: string; policy_match_type?: number };
  const t = new Date(f.time);
  const stamp = `${t.toUTCString().slice(8, 11)} ${String(t.getUTCDate()).padStart(2, ' ')} ${t.toISOString().slice(11, 23)}`;
  const l4 = f.l4 ? Object.values(f.l4)[0] : undefined;
  const host = (ip: string, ep: Record<string, unknown>, port?: number) => `${ep.pod_name ? `${String(ep.namespace)}/${String(ep.pod_name)}` : ip}${port ? `:${port}` : ''}`;
  const id = (ep: Record<string, unknown>) => {
    const n = Number(ep.identity ?? 0);
    return n === 1 ? '(host)' : n === 2 ? '(world)' : n === 6 ? '(remote-node)' : `(ID:${n})`;
  };
  let src = `${host(f.IP.source, f.source, l4?.source_port)} ${id(f.source)}`;
  let dst = `${host(f.IP.destination, f.destination, l4?.destination_port)} ${id(f.destination)}`;
  let arrow = '<>';
  if (f.is_reply === false) arrow = '->';
  if (f.is_reply === true) [src, dst, arrow] = [dst, src, '<-'];
  if (f.event_type?.type === 5) {
    // The printer's policy verdict: type `policy-verdict:MATCH DIRECTION`, verdict ALLOWED/DENIED.
    return `${stamp}: ${src} ${arrow} ${dst} policy-verdict:${POLICY_MATCH[f.policy_match_type ?? 0] ?? 'none'} ${f.traffic_direction} ${f.verdict === 'DROPPED' ? 'DENIED' : 'ALLOWED'} (${f.Summary})`;
  }
  const type = f.trace_observation_point ? f.trace_observation_point.toLowerCase().replace(/_/g, '-') : DROP_REASONS[f.drop_reason ?? 0] ?? 'UNKNOWN';
  return `${stamp}: ${src} ${arrow} ${dst} ${type} ${f.verdict} (${f.Summary})`;
}

/**
 * Kernel monotonic nanoseconds to wall-clock microseconds (process.hrtime is CLOCK_MONOTONIC too).
 * The wall clock is read with sub-millisecond precision: Date.now() truncates to the millisecond,
 * which put every Hubble hop up to 1 ms before the capture of the same packet.
 */
function wallUsOf(ts: number): number {
  const monoNowNs = Number(process.hrtime.bigint());
  const wallNowUs = (performance.timeOrigin + performance.now()) * 1000;
  return wallNowUs - (monoNowNs - ts) / 1000;
}

function runObserve(ctx: NodeContext, o: ObserveOptions): void {
  const aggregation = ctx.kernel.monitorAggregation;
  const cutoffNs = Number(process.hrtime.bigint()) - o.sinceS * 1e9;
  const emit = (e: DatapathEvent): void => {
    if (!emittedUnder(e, aggregation)) return;
    if (o.sinceS > 0 && e.ts < cutoffNs) return;
    const flow = flowOf(ctx, e, wallUsOf(e.ts));
    if (!flow) return;
    const ip = flow.IP as { source: string; destination: string };
    if (o.ips.length && !o.ips.includes(ip.source) && !o.ips.includes(ip.destination)) return;
    process.stdout.write(o.output === 'jsonpb' ? `${JSON.stringify({ flow, node_name: ctx.node.name, time: flow.time })}\n` : `${compactLine(flow)}\n`);
  };
  const stop = followEvents(labPaths(dirname(ctx.statePath)).eventsOf(ctx.node.name), emit, { fromStart: o.sinceS > 0 });
  if (!o.follow) {
    stop();
    return;
  }
  process.once('SIGTERM', () => {
    stop();
    process.stdout.write('', () => process.kill(process.pid, 'SIGTERM'));
  });
  process.on('SIGINT', () => {
    stop();
    process.exit(0);
  });
  process.stdout.on('error', () => process.exit(0));
}

function main(argv: string[]): number {
  const [command, ...rest] = argv;
  if (command === undefined || command === 'help' || command === '-h' || command === '--help') {
    process.stdout.write('Hubble is a utility to observe and inspect recent Cilium routed traffic in a cluster. (EMULATED by the datapath lab)\n\nUsage:\n  hubble [command]\n\nAvailable Commands:\n  observe     Observe flows of a Hubble server\n  status      Display status of Hubble server\n');
    return 0;
  }
  const ctx = nodeContext();
  if (ctx.kernel.hubble === false) {
    throw new CliError(`failed to connect to '${SOCKET}': context deadline exceeded: connection error: desc = "transport: error while dialing: dial unix /var/run/cilium/hubble.sock: connect: no such file or directory"`);
  }
  if (command === 'status') {
    process.stdout.write(`Healthcheck (via ${SOCKET}): Ok\nCurrent/Max Flows: 4,095/4,095 (100.00%)\nFlows/s: 12.00\n`);
    return 0;
  }
  if (command === 'observe') {
    runObserve(ctx, parseObserveArgs(rest));
    return -1;
  }
  throw new CliError(`unknown command "${command}" for "hubble"`);
}

runEmulated(main);
