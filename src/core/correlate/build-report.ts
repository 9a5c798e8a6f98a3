import type { HopReport, ReportCluster, PathStep, ReportEndpoint, ReportEvidence, ReportFlow, ReportFlowEnd, ReportHop, ReportInput, ReportPacket, ReportTunnel } from '../model/report.js';
import type { TunnelInfo } from './flow-key.js';
import { applyTranslations, findSamePacketTranslations, natRuleTranslations, noteMismatchedReplies, noteUnresolvedNatRules } from './translations.js';
import { noteServiceTableTranslations } from './service-table.js';
import type { Timestamp } from '../model/packet.js';
import { ciliumPoint, hostPoint, iptablesPoint, kernelPoint, parsePoint } from '../points.js';
import { hintKey, type FlowAccumulator, type FlowTranslation, type FlowRecord, type HopRecord, type PointHint, type StreamInfo } from './accumulator.js';
import { classifyFlow, podPointOf, type FlowFacts, type SeenAt } from './classify.js';
import { flowOutcome, packetVerdicts, type VerdictPacket } from './packet-verdicts.js';
import { nameIcmpErrors, nameTimeExceeded } from './icmp-errors.js';
import { checksumNote } from './checksums.js';
import { readKernelPath } from './kernel-path.js';
import { clusterOf, type StatusInput } from './cluster.js';
import type { LbState } from '../model/lb-state.js';
import { alignClocks, guardDelta } from './clocks.js';
import { auditNote, explainDrop, type PolicyInputs } from './policy-explain.js';
import { windowCovers, type CaptureWindow } from './capture-windows.js';

/** What the report builder needs besides the flows: inputs as they ended, and what we know of endpoints. */
export interface ReportContext {
  streams: StreamInfo[];
  inputs: ReportInput[];
  endpoints: ReportEndpoint[];
  warnings: string[];
  /** The agents' `cilium status` outputs among the inputs. */
  statuses?: StatusInput[];
  /** The agents' service, bpf lb, ct and nat tables among the inputs (model/lb-state.ts), per node when known. */
  lbStates?: { name: string; node?: string; state: LbState }[];
  /** Policy objects among the inputs and the identities' labels, for explaining drops (policy-explain.ts). */
  policies?: PolicyInputs;
}

/** buildReport turns accumulated flows into the HopReport, with path rules applied per direction. */
export function buildReport(acc: FlowAccumulator, ctx: ReportContext): HopReport {
  const resolver = new PointResolver(ctx);
  acc.foldConntrackOnly();
  acc.foldTunnelSkbs();
  const { cluster, warnings } = clusterOf(ctx.statuses ?? []);
  ctx.warnings.push(...warnings);
  findSamePacketTranslations(acc, (w, s) => resolver.resolve(w, s));
  natRuleTranslations(acc);
  noteServiceTableTranslations(acc, ctx.lbStates ?? [], (w, s) => resolver.resolve(w, s));
  applyTranslations(acc, (w, s) => resolver.resolve(w, s));
  noteMismatchedReplies(acc, (w, s) => resolver.resolve(w, s));
  noteUnresolvedNatRules(acc);
  const clocks = alignClocks(acc.flows.values(), (s) => ctx.streams[s]?.name ?? `input ${s}`);
  resolver.shifts = clocks.shifts;
  ctx.warnings.push(...clocks.warnings);
  const records = [...acc.flows.values()];
  resolver.noteSharedIfaces(records);
  resolver.noteCapturedPoints(records);
  resolver.noteCaptureWindows(acc.captureWindows);
  const cilium = showsCilium(ctx, records);
  const flows: ReportFlow[] = [];
  const pairs = orderFlows(records, acc);
  for (const { flow, direction } of pairs) {
    // A flow between one address and port and itself (loopback) is its own reverse: it has none.
    const reverse = reverseOf(acc, flow);
    flows.push(buildFlow(flow, reverse === flow ? undefined : reverse, direction, resolver, ctx, cluster, cilium));
  }
  nameIcmpErrors(flows);
  nameTimeExceeded(flows);
  for (const f of flows) {
    const note = checksumNote(f);
    if (note) f.conclusions.push(note);
  }
  ctx.warnings.push(...debugOffNotes(ctx.endpoints, resolver.nodesWithTool('monitor')));
  return { schemaVersion: 1, inputs: ctx.inputs, endpoints: ctx.endpoints, flows, warnings: ctx.warnings, ...(cluster ? { cluster } : {}) };
}

/**
 * `cilium monitor -v` prints DEBUG lines (conntrack lookups, local delivery) only from endpoints
 * whose Debug option is on (pkg/option specDebug compiles DEBUG into their programs; off by
 * default): where the endpoint data says it is off on a monitored node, their absence is no
 * evidence, and the report says so instead of letting "not seen" stand.
 */
function debugOffNotes(endpoints: readonly ReportEndpoint[], monitorNodes: Set<string>): string[] {
  const out: string[] = [];
  for (const node of [...monitorNodes].sort()) {
    const shown = endpoints.filter((e) => e.node === node && e.datapathDebug !== undefined);
    if (!shown.length || shown.some((e) => e.datapathDebug)) continue;
    out.push(
      `cilium monitor on ${node}: datapath debug is off (endpoint option Debug Disabled on ${shown.map((e) => e.pod || e.id).join(', ')}), so monitor -v could print no DEBUG lines (conntrack lookups, local delivery): the report has no such evidence from them, which says nothing about the packets`,
    );
  }
  return out;
}

const TCP_ACK_WORDS = /^TCP \[[^\]]*\](?: seq \d+)? ack (\d+)/;

/** The ack numbers a flow's captured TCP segments carried (pure ACKs too, which no key names), where each was captured. */
function tcpAcksOf(flow: FlowRecord, r: PointResolver): { ack: number; point: string }[] {
  const out: { ack: number; point: string }[] = [];
  const hops = [...[...flow.packets.values()].flatMap((p) => p.hops), ...[...flow.unkeyed.values()].flat()];
  for (const h of hops) {
    if (h.tool !== 'tcpdump' && h.tool !== 'pcap') continue;
    const m = TCP_ACK_WORDS.exec(h.detail);
    if (m && out.length < 4096) out.push({ ack: Number(m[1]), point: r.resolve(h.where, h.stream) });
  }
  return out;
}

/** The other direction of a flow: by its reverse tuple, or for a translated flow the one its translation paired it with. */
function reverseOf(acc: FlowAccumulator, flow: FlowRecord): FlowRecord | undefined {
  return acc.flows.get(flow.ref.reverseKey) ?? (flow.pairKey !== undefined ? acc.flows.get(flow.pairKey) : undefined);
}

/** Request before its reply; IP flows in order of first appearance, ARP last. */
function orderFlows(records: FlowRecord[], acc: FlowAccumulator): { flow: FlowRecord; direction: 'request' | 'reply' }[] {
  const done = new Set<string>();
  const out: { flow: FlowRecord; direction: 'request' | 'reply' }[] = [];
  const sorted = [...records].sort((a, b) => Number(a.ref.proto === 'arp') - Number(b.ref.proto === 'arp') || a.firstSeq - b.firstSeq);
  for (const f of sorted) {
    if (done.has(f.key)) continue;
    const found = reverseOf(acc, f);
    const rev = found === f ? undefined : found;
    let request = f;
    let reply = rev;
    // The packet's own protocol decides (SYN, echo, DNS port); conntrack's verdict when it is silent.
    const role = f.role ?? (rev?.role ? undefined : f.ctRole);
    const revRole = rev ? rev.role ?? (f.role ? undefined : rev.ctRole) : undefined;
    if (rev && (role === 'reply' || (role === undefined && revRole === 'request'))) {
      request = rev;
      reply = f;
    }
    if (!rev && role === 'reply') {
      out.push({ flow: f, direction: 'reply' });
      done.add(f.key);
      continue;
    }
    out.push({ flow: request, direction: 'request' });
    done.add(request.key);
    if (reply) {
      out.push({ flow: reply, direction: 'reply' });
      done.add(reply.key);
    }
  }
  return out;
}

/**
 * Whether the reverse flow can be an answer to this one. An answer comes after its question: where
 * one capture (one input, whose lines are in time order) holds packets of both and every reverse
 * packet there came before this flow's first, the reverse is what this flow answered (a client's
 * RST to a SYN-ACK it did not expect), so seeing it says nothing about this flow's delivery.
 */
function reverseCanAnswer(flow: FlowRecord, reverse: FlowRecord | undefined): boolean {
  if (!reverse) return false;
  if (reverse.extraPackets > 0) return true; // later reverse packets were only counted
  const first = new Map<number, number>();
  for (const p of flow.packets.values()) for (const h of p.hops) if (h.match === 'packet') first.set(h.stream, Math.min(first.get(h.stream) ?? Infinity, h.seq));
  let shared = false;
  for (const p of reverse.packets.values()) {
    for (const h of p.hops) {
      const start = first.get(h.stream);
      if (start === undefined || h.match !== 'packet') continue;
      shared = true;
      if (h.seq > start) return true;
    }
  }
  return !shared;
}

function buildFlow(
  flow: FlowRecord,
  reverse: FlowRecord | undefined,
  direction: 'request' | 'reply',
  r: PointResolver,
  ctx: ReportContext,
  cluster: ReportCluster | undefined,
  cilium: boolean,
): ReportFlow {
  // A translated flow is delivered to (or answered from) the address after translation.
  const srcEp = r.endpointByIp(flow.translatedSrc ?? flow.ref.src) ?? r.endpointByIp(flow.ref.src);
  const dstEp = r.endpointByIp(flow.translatedDst ?? flow.ref.dst) ?? r.endpointByIp(flow.ref.dst);
  const { packets, flowHops, counted, views, times } = buildPackets(flow, r, srcEp, dstEp);
  const seen = collectSeen(flow, r);
  const reverseSeen = reverse ? collectSeen(reverse, r) : [];
  const facts: FlowFacts = {
    flow,
    direction,
    srcEp,
    dstEp,
    seen,
    reverseSeen,
    reverseAnswers: reverseCanAnswer(flow, reverse),
    observed: r.observedPoints(),
    capturing: new Map(),
    monitorNodes: new Set([...r.nodesWithTool('monitor'), ...r.nodesWithTool('hubble')]),
    pwruNodes: r.nodesWithTool('pwru'),
    iptablesNodes: r.nodesWithTool('iptables'),
    nodeOfStream: (s) => r.nodeOfStream(s),
    nodeOfEndpointId: (ep, s) => r.nodeOfEndpoint(ep, s),
    describePod: (ep) => (ep?.pod ? ep.pod : undefined),
    streamName: (s) => ctx.streams[s]?.name ?? `input ${s}`,
    resolve: (w, s) => r.resolve(w, s),
    tunnel: flow.tunnel ?? reverse?.tunnel,
    cluster,
    cilium,
  };
  // A point that captured packets, but none while this flow's packets passed, was not watching them.
  const allCapturing = r.capturingPoints();
  const flowTimes = times.flat();
  for (const [point, n] of allCapturing) {
    if (r.watchingAt(point, flowTimes) !== false) facts.capturing.set(point, n);
    else (facts.notWatching ??= new Map()).set(point, r.windowText(point));
  }
  const dstPod = podPointOf(dstEp, facts);
  if (dstPod) views.forEach((v, i) => r.watchingAt(dstPod, times[i]) === false && (v.dstPodWatching = false));
  if (facts.notWatching) facts.flowSpan = spanText(flowTimes);
  const verdicts = packetVerdicts(views, {
    proto: flow.ref.proto,
    direction,
    dstPod,
    dstPodCapturing: !!dstPod && allCapturing.has(dstPod),
    dstEndpoint: dstEp?.node && dstEp.id != null ? ciliumPoint(dstEp.node, dstEp.id) : undefined,
    reverseKeys: reverse ? [...reverse.packets.values()].map((p) => p.key) : [],
    ...(flow.ref.proto === 'tcp' && reverse ? { reverseAcks: tcpAcksOf(reverse, r) } : {}),
    flowDrops: flow.evidence.drops.filter((d) => !d.afterDelivery).map((d) => ({ reason: d.reason, point: r.resolve(d.where, d.stream) })),
  });
  verdicts.forEach((v, i) => {
    packets[i].outcome = v.outcome;
    packets[i].outcomeReason = v.reason;
    if (v.outcome === 'dropped') packets[i].dropPoint = v.point;
  });
  facts.packetOutcome = flowOutcome(verdicts, flow.extraPackets);
  facts.packetVerdicts = verdicts;
  const verdictAndPath = classifyFlow(facts);
  const rank = memoRank(srcEp, dstEp);
  const out: ReportFlow = {
    src: label(flow.ref.src, srcEp),
    dst: label(flow.ref.dst, dstEp),
    srcIp: flow.ref.src,
    dstIp: flow.ref.dst,
    protocol: flow.ref.proto,
    direction,
    srcNode: srcEp?.node || null,
    dstNode: dstEp?.node || null,
    path: verdictAndPath.path,
    verdict: verdictAndPath.verdict,
    dropReason: verdictAndPath.dropReason,
    dropPoint: verdictAndPath.dropPoint,
    seenAt: uniq(seen.map((s) => s.point)).sort((a, b) => rank(a) - rank(b)),
    notSeenAt: verdictAndPath.notSeenAt.sort((a, b) => rank(a) - rank(b)),
    notObserved: verdictAndPath.notObserved.sort((a, b) => rank(a) - rank(b)),
    packets,
    morePackets: flow.extraPackets,
    ...(flowHops.length ? { flowHops } : {}),
    ...(flow.extraUnkeyed + counted ? { moreFlowHops: flow.extraUnkeyed + counted } : {}),
    conclusions: [...verdictAndPath.conclusions, ...translationSentences(flow), ...(flow.notes ?? [])],
    evidence: flow.translations?.length
      ? [...verdictAndPath.evidence, { claim: 'translated', because: flow.translations.map((t) => t.evidence) }]
      : verdictAndPath.evidence,
    ...(flow.translations?.length ? { translations: flow.translations } : {}),
    outcome: verdictAndPath.outcome,
    outcomeReason: verdictAndPath.outcomeReason,
    ...flowEnds(flow, srcEp, dstEp),
    ...tunnelOfFlow(verdictAndPath.path, verdictAndPath.evidence, flow.tunnel ?? reverse?.tunnel),
  };
  const why = explainDrop(out, flow, { endpoints: ctx.endpoints, policies: ctx.policies ?? {}, rank });
  if (why) {
    out.dropExplanation = why;
    // A drop by any other cause is already said in the first conclusion; a policy's needs the why.
    if (why.byPolicy) out.conclusions.push(why.summary);
  }
  const audit = auditNote(flow);
  if (audit) out.conclusions.push(audit);
  return out;
}

const TRANSLATION_WORDS: Record<FlowTranslation['kind'], string> = {
  dnat: 'destination translated (DNAT)',
  snat: 'source translated (SNAT)',
  masquerade: 'source masqueraded to the node address',
  revnat: 'translated back (reverse NAT)',
};

/** One sentence per translation: what changed, where. */
function translationSentences(flow: FlowRecord): string[] {
  return (flow.translations ?? []).map((t) => `Translated ${t.point.startsWith('between ') ? t.point : `at ${t.point}`}: ${TRANSLATION_WORDS[t.kind]} ${t.from} -> ${t.to}.`);
}

/** The tunnel named in the report when the path crossed one and an observation named its protocol. */
function tunnelOfFlow(path: PathStep[], evidence: ReportEvidence[], tunnel: TunnelInfo | undefined): { tunnel?: ReportTunnel } {
  if (!tunnel || !path.includes('overlay')) return {};
  const out: ReportTunnel = { protocol: tunnel.kind, evidence: evidence.find((e) => e.claim === 'overlay')?.because[0] ?? '' };
  if (tunnel.vni !== undefined) out.vni = tunnel.vni;
  if (tunnel.outer) out.outer = tunnel.outer;
  return { tunnel: out };
}

/** Reserved identity 2 is `world` (pkg/identity/numericidentity.go ReservedIdentityWorld): outside the cluster. */
const WORLD_IDENTITY = 2;

/** The flow's two ends as fields: endpoint data first, then what monitor records said of identities. */
function flowEnds(flow: FlowRecord, srcEp: ReportEndpoint | undefined, dstEp: ReportEndpoint | undefined): { source: ReportFlowEnd; destination: ReportFlowEnd } {
  let srcIdentity: number | undefined;
  let dstIdentity: number | undefined;
  const look = (facts: Record<string, string | number>) => {
    const pair = typeof facts.identity === 'string' ? /^(\d+)->(\d+)$/.exec(facts.identity) : null;
    if (pair) {
      srcIdentity ??= Number(pair[1]);
      dstIdentity ??= Number(pair[2]);
    }
    if (typeof facts.srcIdentity === 'number') srcIdentity ??= facts.srcIdentity;
    if (typeof facts.dstIdentity === 'number') dstIdentity ??= facts.dstIdentity;
  };
  for (const p of flow.packets.values()) for (const h of p.hops) look(h.facts);
  for (const list of flow.unkeyed.values()) for (const h of list) look(h.facts);
  return {
    source: flowEnd(flow.ref.src, flow.ref.srcPort, srcEp, srcIdentity),
    destination: flowEnd(flow.ref.dst, flow.ref.dstPort, dstEp, dstIdentity),
  };
}

function flowEnd(ip: string, port: number | undefined, ep: ReportEndpoint | undefined, seenIdentity: number | undefined): ReportFlowEnd {
  const end: ReportFlowEnd = {};
  if (ip && ip !== '?') end.ip = ip;
  if (port !== undefined) end.port = port;
  if (ep?.pod) {
    const slash = ep.pod.indexOf('/');
    if (slash > 0) {
      end.namespace = ep.pod.slice(0, slash);
      end.pod = ep.pod.slice(slash + 1);
    } else end.pod = ep.pod;
  }
  if (ep?.node) end.node = ep.node;
  const identity = ep?.identity ?? seenIdentity;
  if (identity != null) end.identity = identity;
  if (ep?.id != null) end.endpointId = ep.id;
  if (ep?.interface) end.interface = ep.interface;
  if (!ep && identity === WORLD_IDENTITY) end.external = true;
  return end;
}

const CILIUM_DEVICE = /^(lxc|cilium_)/;

/**
 * Whether any input shows Cilium: its devices (an lxc, cilium_host/net/vxlan/geneve) as a capture
 * point or an interface a packet was seen on, monitor or Hubble output, its endpoint or status data.
 * Without any, the report speaks of veths and tc BPF programs, not of Cilium's mechanisms.
 */
function showsCilium(ctx: ReportContext, flows: FlowRecord[]): boolean {
  if (ctx.streams.some((s) => s.tool === 'monitor' || s.tool === 'hubble' || s.tool === 'endpoint' || s.tool === 'status')) return true;
  if (ctx.inputs.some((i) => i.tool === 'endpoint' || i.tool === 'status') || (ctx.statuses?.length ?? 0) > 0) return true;
  if (ctx.endpoints.some((e) => e.id !== null || e.identity !== null || CILIUM_DEVICE.test(e.interface ?? ''))) return true;
  const device = (point: string | undefined) => !!point && CILIUM_DEVICE.test(parsePoint(point)?.iface ?? '');
  if (ctx.streams.some((s) => device(s.point))) return true;
  return flows.some((f) => [...f.evidence.seen.values()].some((x) => x.where.kind === 'iface' ? CILIUM_DEVICE.test(x.where.iface) : x.where.kind === 'fixed' && device(x.where.point)));
}

function label(ip: string, ep: ReportEndpoint | undefined): string {
  return ep?.pod ? `${ip} (${ep.pod})` : ip;
}

function uniq<T>(xs: T[]): T[] {
  return [...new Set(xs)];
}

function collectSeen(flow: FlowRecord, r: PointResolver): SeenAt[] {
  const out: SeenAt[] = [];
  for (const s of flow.evidence.seen.values()) {
    out.push({ point: r.resolve(s.where, s.stream), stream: s.stream, count: s.count, encap: s.encap });
  }
  return out;
}

/** memoRank: rankPoint for one flow, remembered per point (sorting calls it many times). */
function memoRank(srcEp: ReportEndpoint | undefined, dstEp: ReportEndpoint | undefined): (point: string) => number {
  const memo = new Map<string, number>();
  return (point) => {
    let r = memo.get(point);
    if (r === undefined) memo.set(point, (r = rankPoint(point, srcEp, dstEp)));
    return r;
  };
}

/** Position of a point along a request from src to dst; lower comes first. */
export function rankPoint(point: string, srcEp: ReportEndpoint | undefined, dstEp: ReportEndpoint | undefined): number {
  const p = parsePoint(point);
  if (!p) return 50;
  const srcNode = srcEp?.node;
  const dstNode = dstEp?.node;
  const crossNode = !!srcNode && !!dstNode && srcNode !== dstNode;
  const onDstNode = crossNode && p.node === dstNode;
  const base = onDstNode ? 20 : 0;
  switch (p.kind) {
    case 'pod':
      if (dstEp?.pod === `${p.namespace}/${p.pod}`) return 40;
      if (srcEp?.pod === `${p.namespace}/${p.pod}`) return 0;
      // Another pod than the known source is the destination; where neither end is known, the pod
      // ranks with the host's other points, so one clock's times order them (a receiving pod first
      // would give negative deltas).
      if (srcEp?.pod) return 40;
      if (dstEp?.pod) return 0;
      return onDstNode ? 21 : 8;
    case 'host':
      if (srcEp?.interface && p.iface === srcEp.interface && (!srcNode || p.node === srcNode)) return 1;
      if (dstEp?.interface && p.iface === dstEp.interface && (!dstNode || p.node === dstNode)) return 39;
      if (p.iface === 'cilium_vxlan' || p.iface?.startsWith('vxlan') || p.iface?.startsWith('geneve')) return onDstNode ? 22 : 7;
      return onDstNode ? 21 : 8;
    case 'cilium':
      if (p.endpoint !== undefined && dstEp?.id === p.endpoint && (!dstNode || p.node === dstNode)) return 38;
      if (p.endpoint !== undefined && srcEp?.id === p.endpoint) return 2;
      return base + 3;
    case 'iptables':
      return base + 4;
    case 'kernel':
      return base + 5;
  }
}

function buildPackets(
  flow: FlowRecord,
  r: PointResolver,
  srcEp: ReportEndpoint | undefined,
  dstEp: ReportEndpoint | undefined,
): { packets: ReportPacket[]; flowHops: ReportHop[]; counted: number; views: VerdictPacket[]; times: PacketTime[][] } {
  const keyed = [...flow.packets.values()];
  const timedFirst = (hops: HopRecord[]) => {
    let best = Infinity;
    for (const h of hops) if (h.time && (h.tool === 'tcpdump' || h.tool === 'pcap')) best = Math.min(best, r.usOf(h)!);
    return best;
  };
  keyed.sort((a, b) => {
    const ta = timedFirst(a.hops);
    const tb = timedFirst(b.hops);
    if (ta !== tb) return ta === Infinity ? 1 : tb === Infinity ? -1 : ta - tb;
    return a.firstSeq - b.firstSeq;
  });
  const packets: { key: string; hops: HopRecord[] }[] = keyed.map((p) => ({ key: p.key, hops: [...p.hops] }));
  const keyedCount = packets.length;
  // Hops that cannot be tied to a packet belong to the flow: shown under it, never counted as packets.
  const flowLevel: HopRecord[] = [];
  let counted = 0;
  const streams = [...flow.unkeyed.keys()].sort((a, b) => a - b);
  for (const s of streams) {
    // pwru sees every skb of the flow, clones and leftovers included: next to captured packets, only
    // the skbs whose functions say something about the path are shown; alone, every skb is.
    const list = flow.unkeyed.get(s)!.filter((hop) => {
      if (!hop.funcs || keyedCount === 0 || readKernelPath(hop.funcs).keyFuncs.length > 0) return true;
      counted++;
      return false;
    });
    // Counted per observation point: each point sees each packet once (a stream of one monitor
    // holds the `<-` and `->` records of every packet, at two endpoints, in turn).
    const order = new Map<string, number>();
    // Hops that know the ICMP id but not the seq (monitor's CT tuple) go, in order, to the packets
    // with that id: the k-th such hop of a stream to the k-th ping of that session.
    const hintOrder = new Map<string, number>();
    list.forEach((hop) => {
      const near = hop.tool === 'hubble' ? nearestInTime(hop, packets, r) : undefined;
      if (near === 'none-near') {
        flowLevel.push(hop);
        return;
      }
      if (near) {
        near.hops.push(hop);
        return;
      }
      if (hop.keyHint) {
        const candidates = packets.filter((p) => p.key.startsWith(hop.keyHint!));
        if (candidates.length) {
          // Counted per observation point: each endpoint sees every ping of the session once.
          const counter = `${hop.keyHint}|${hintKey(hop.where)}`;
          const k = hintOrder.get(counter) ?? 0;
          hintOrder.set(counter, k + 1);
          candidates[Math.min(k, candidates.length - 1)].hops.push(hop);
          return;
        }
      }
      // A capture's line is a packet of its own: one it could not identify (a TCP ACK tcpdump prints
      // without seq) is none of the identified ones of its stream, so it stays with the flow.
      if (hop.tool === 'tcpdump' || hop.tool === 'pcap') {
        flowLevel.push(hop);
        return;
      }
      // The k-th hop of a stream at a point goes with the k-th captured packet (marked by flow); the rest stay with the flow.
      const at = hintKey(hop.where);
      const i = order.get(at) ?? 0;
      order.set(at, i + 1);
      if (i < keyedCount) packets[i].hops.push(hop);
      else flowLevel.push(hop);
    });
  }
  const rank = memoRank(srcEp, dstEp);
  const shown = packets.map((p) => ({ key: p.key, hops: reportHops(p.hops, r, rank, true) }));
  // What the verdict rules read of each shown packet: where each hop was, and whether it was a drop.
  const views: VerdictPacket[] = packets.map((p) => ({
    key: p.key,
    hops: p.hops.map((h) => ({ point: r.resolve(h.where, h.stream), tool: h.tool, match: h.match, detail: h.detail, drop: h.drop })),
  }));
  // When each packet was captured, aligned: what the capture windows are compared with.
  const times = packets.map((p) => p.hops.filter((h) => h.time && (h.tool === 'tcpdump' || h.tool === 'pcap')).map((h) => ({ clock: h.time!.clock, us: r.usOf(h)! })));
  return { packets: shown, flowHops: reportHops(flowLevel, r, rank, false), counted, views, times };
}

/** A captured packet's time, aligned (PointResolver.usOf). */
interface PacketTime {
  clock: Timestamp['clock'];
  us: number;
}

/** `10:00:01.000001 to 10:00:03.000002` for the times of one clock (the first clock's). */
function spanText(times: readonly PacketTime[]): string {
  const on = times.filter((t) => t.clock === times[0]?.clock);
  if (!on.length) return 'no time';
  const us = on.map((t) => t.us);
  const [a, b] = [Math.min(...us), Math.max(...us)];
  const at = (x: number) => formatTime({ clock: on[0].clock, us: x });
  return a === b ? at(a) : `${at(a)} to ${at(b)}`;
}

/** Hubble's hops carry no packet identity but a time on their node's clock: within this, the captured packet nearest in time is theirs. */
const NEAREST_PACKET_US = 200_000;

/**
 * nearestInTime: the packet (among those the hop's key hint allows) with a hop on the same clock
 * nearest in time to this one, when one is within NEAREST_PACKET_US; `none-near` when packets were
 * timed on that clock but none near (the hop is another packet's, one no capture kept); undefined
 * when no packet was timed on that clock.
 */
function nearestInTime(hop: HopRecord, packets: { key: string; hops: HopRecord[] }[], r: PointResolver): { key: string; hops: HopRecord[] } | 'none-near' | undefined {
  const domain = r.clockDomain(hop);
  if (!domain || !hop.time) return undefined;
  let best: { key: string; hops: HopRecord[] } | undefined;
  let bestGap = NEAREST_PACKET_US;
  let comparable = false;
  for (const p of packets) {
    if (hop.keyHint && !p.key.startsWith(hop.keyHint)) continue;
    for (const h of p.hops) {
      if (h.tool === 'hubble' || !h.time || r.clockDomain(h) !== domain) continue;
      comparable = true;
      const gap = Math.abs(h.time.us - hop.time.us);
      if (gap <= bestGap) {
        bestGap = gap;
        best = p;
      }
    }
  }
  return best ?? (comparable ? 'none-near' : undefined);
}

/**
 * reportHops orders hops along the path and words them. Deltas only within one packet and one
 * clock: hops of the flow that are not one packet's get none.
 */
function reportHops(hops: HopRecord[], r: PointResolver, rank: (point: string) => number, samePacket: boolean): ReportHop[] {
  const placed = hops.map((h) => ({ h, point: r.resolve(h.where, h.stream), domain: r.clockDomain(h), us: r.usOf(h) }));
  placed.sort((a, b) => rank(a.point) - rank(b.point) || sameDomainTimeOrder(a, b) || a.h.seq - b.h.seq);
  const base = samePacket ? placed.find((x) => x.domain !== undefined) : undefined;
  return placed.map(({ h, point, domain, us }) => {
    // Every delta of the report is made here, and guarded: never negative, never longer than one packet's way.
    const delta = base && domain === base.domain && us !== undefined && base.us !== undefined ? guardDelta(round3(us - base.us)) : { deltaUs: null };
    let detail = h.funcs ? kernelDetail(h.funcs) : h.detail;
    // Outside a packet, an skb is named by its address: the one identity pwru gives it.
    if (!samePacket && h.funcs && h.facts.skb !== undefined) detail = `skb ${h.facts.skb}: ${detail}`;
    const hop: ReportHop = { point, tool: h.tool, time: h.time ? formatTime(h.time) : null, deltaUs: delta.deltaUs, detail, match: h.match };
    if (delta.note) hop.deltaNote = delta.note;
    const facts: Record<string, string | number> = { ...h.facts };
    if (h.funcs) facts.functions = h.funcs.join(' ') + (h.funcsDropped ? ` (+${h.funcsDropped} more)` : '');
    if (Object.keys(facts).length) hop.facts = facts;
    return hop;
  });
}

/** The functions of an skb that tell the path; an skb without any still says where it started and ended. */
function kernelDetail(funcs: string[]): string {
  const summary = readKernelPath(funcs).summary;
  if (summary || funcs.length === 0) return summary;
  return funcs.length === 1 ? funcs[0] : `${funcs[0]} -> ... -> ${funcs[funcs.length - 1]} (${funcs.length} functions)`;
}

function sameDomainTimeOrder(a: { domain?: string; us?: number }, b: { domain?: string; us?: number }): number {
  if (a.domain && a.domain === b.domain && a.us !== undefined && b.us !== undefined) return a.us - b.us;
  return 0;
}

function round3(x: number): number {
  return Math.round(x * 1000) / 1000;
}

/** formatTime shows a timestamp the way its clock allows: wall as UTC, time of day as printed. */
export function formatTime(t: Timestamp): string {
  switch (t.clock) {
    case 'wall':
      return new Date(Math.floor(t.us / 1000)).toISOString().replace(/\.\d{3}Z$/, `.${pad(Math.floor(t.us % 1e6), 6)}Z`);
    case 'time-of-day': {
      const total = Math.floor(t.us / 1e6);
      const h = Math.floor(total / 3600);
      const m = Math.floor((total % 3600) / 60);
      const s = total % 60;
      return `${pad(h, 2)}:${pad(m, 2)}:${pad(s, 2)}.${pad(Math.floor(t.us % 1e6), 6)}`;
    }
    case 'monotonic':
      return `${(t.us / 1e6).toFixed(6)}s monotonic`;
    case 'relative':
      return `+${(t.us / 1e6).toFixed(6)}s relative`;
  }
}

function pad(n: number, w: number): string {
  return String(n).padStart(w, '0');
}

/** PointResolver turns point hints into point ids once nodes and endpoints are known. */
class PointResolver {
  private readonly byIp = new Map<string, ReportEndpoint>();
  private readonly byPod = new Map<string, ReportEndpoint>();

  constructor(private readonly ctx: ReportContext) {
    for (const ep of ctx.endpoints) {
      for (const ip of ep.ips) if (!this.byIp.has(ip)) this.byIp.set(ip, ep);
      if (ep.pod) this.byPod.set(ep.pod, ep);
    }
  }

  endpointByIp(ip: string): ReportEndpoint | undefined {
    return this.byIp.get(ip);
  }

  nodeOfStream(stream: number): string {
    const s = this.ctx.streams[stream];
    if (s?.node) return s.node;
    const p = s?.point ? parsePoint(s.point) : undefined;
    if (p?.node) return p.node;
    if (p?.kind === 'pod') return this.byPod.get(`${p.namespace}/${p.pod}`)?.node || '?';
    return '?';
  }

  nodeOfEndpoint(endpoint: number, stream: number): string {
    const s = this.ctx.streams[stream];
    if (s?.node) return s.node;
    const matches = this.ctx.endpoints.filter((e) => e.id === endpoint && e.node);
    return matches.length === 1 ? matches[0].node : '?';
  }

  resolve(where: PointHint, stream: number): string {
    switch (where.kind) {
      case 'fixed':
        return where.point;
      case 'iface':
        if (parsePoint(where.iface)) return where.iface;
        return hostPoint(this.sharedIfaces.has(`${stream}|${where.iface}`) ? `?${this.inputLabel(stream)}` : this.nodeOfStream(stream), where.iface);
      case 'endpoint':
        return ciliumPoint(this.nodeOfEndpoint(where.endpoint, stream), where.endpoint);
      case 'kernel':
        return kernelPoint(this.nodeOfStream(stream));
      case 'iptables':
        return iptablesPoint(this.nodeOfStream(stream));
      case 'agent':
        return `cilium:${this.nodeOfStream(stream)}`;
      case 'unknown':
        return `unknown:${this.ctx.streams[stream]?.name ?? stream}`;
    }
  }

  /** Hops whose times can be subtracted share a domain: same node (one kernel clock), same clock kind. */
  /** Streams whose clock runs a time-zone offset away from another's, and the µs that align them (alignClocks). */
  shifts = new Map<number, number>();

  /** A hop's time on its domain's clock, aligned where its stream's clock was shifted. */
  usOf(h: HopRecord): number | undefined {
    return h.time ? h.time.us + (this.shifts.get(h.stream) ?? 0) : undefined;
  }

  clockDomain(h: HopRecord): string | undefined {
    if (!h.time) return undefined;
    return `${h.node ?? this.nodeOfStream(h.stream)}|${h.time.clock}`;
  }

  /** Points with a working probe, whatever it saw. */
  observedPoints(): Set<string> {
    const out = new Set<string>();
    this.ctx.streams.forEach((s, i) => {
      if (!this.healthy(i)) return;
      if (s.point) out.add(s.point);
      const node = this.nodeOfStream(i);
      if (s.tool === 'pwru') out.add(kernelPoint(node));
      if (s.tool === 'iptables') out.add(iptablesPoint(node));
      if (s.tool === 'monitor' || s.tool === 'hubble') out.add(`cilium:${node}`);
    });
    return out;
  }

  /** `stream|iface` of captures whose node is unknown and whose interface name another input's capture has too. */
  private sharedIfaces = new Set<string>();

  /**
   * Two inputs that capture an interface of the same name (eth0) on unknown nodes are not known to
   * be one point: each is named by its input (host:?client.txt/eth0) so the report does not show
   * two hosts' captures of one packet as one point seeing it twice.
   */
  noteSharedIfaces(records: readonly FlowRecord[]): void {
    const streamsOf = new Map<string, Set<number>>();
    for (const flow of records) {
      for (const s of flow.evidence.seen.values()) {
        if (s.where.kind !== 'iface' || parsePoint(s.where.iface) || this.nodeOfStream(s.stream) !== '?') continue;
        const tool = this.ctx.streams[s.stream]?.tool;
        if (tool !== 'tcpdump' && tool !== 'pcap') continue;
        const set = streamsOf.get(s.where.iface) ?? streamsOf.set(s.where.iface, new Set()).get(s.where.iface)!;
        set.add(s.stream);
      }
    }
    for (const [iface, streams] of streamsOf) if (streams.size > 1) for (const st of streams) this.sharedIfaces.add(`${st}|${iface}`);
  }

  private inputLabel(stream: number): string {
    const name = this.ctx.streams[stream]?.name ?? `input${stream}`;
    return name.slice(name.lastIndexOf('/') + 1).replace(/[/\s]/g, '_');
  }

  /** Packets each capture point saw, counted from the flows (noteCapturedPoints). */
  private capturedByPoint = new Map<string, number>();

  /**
   * One capture input can hold several points: a transcript whose shell prompts switch from
   * `tcpdump -i lxcA` to `kubectl exec B -- tcpdump -i eth0` names a point per section. Each such
   * point was capturing as much as a file of its own would be, so count what every point saw.
   */
  noteCapturedPoints(records: readonly FlowRecord[]): void {
    const out = new Map<string, number>();
    for (const flow of records) {
      for (const s of flow.evidence.seen.values()) {
        const tool = this.ctx.streams[s.stream]?.tool;
        if ((tool !== 'tcpdump' && tool !== 'pcap') || !this.healthy(s.stream)) continue;
        const point = this.resolve(s.where, s.stream);
        out.set(point, (out.get(point) ?? 0) + s.count);
      }
    }
    this.capturedByPoint = out;
  }

  /** When each capture point was capturing, aligned like its hops (capture-windows.ts). */
  private windows = new Map<string, CaptureWindow[]>();

  /** Points of a live trace's captures that watched all of its traffic (StreamInfo.watchedTraffic). */
  private get watchedTraffic(): Set<string> {
    this.watchedPoints ??= new Set(this.ctx.streams.flatMap((s, i) => (s.watchedTraffic && s.point && this.healthy(i) ? [s.point] : [])));
    return this.watchedPoints;
  }

  private watchedPoints: Set<string> | undefined;

  noteCaptureWindows(found: ReadonlyMap<PointHint, CaptureWindow>): void {
    for (const [where, w] of found) {
      if (!this.healthy(w.stream)) continue;
      const point = this.resolve(where, w.stream);
      const shift = this.shifts.get(w.stream) ?? 0;
      const list = this.windows.get(point) ?? this.windows.set(point, []).get(point)!;
      list.push({ ...w, first: w.first + shift, last: w.last + shift });
    }
  }

  /**
   * Whether a capture point was capturing at one of these times: false when its windows and the
   * times share a clock and none covers any; undefined when nothing can be compared (no times, or
   * other clocks), and then a capture that saw anything counts as watching, as it always did.
   */
  watchingAt(point: string, times: readonly PacketTime[]): boolean | undefined {
    // A live trace's capture ready before the traffic and stopped after it watched every packet of the run.
    if (this.watchedTraffic.has(point)) return true;
    let compared = false;
    for (const w of this.windows.get(point) ?? []) {
      for (const t of times) {
        const covers = windowCovers(w, t.clock, t.us);
        if (covers) return true;
        if (covers === false) compared = true;
      }
    }
    return compared ? false : undefined;
  }

  /** `from 10:00:01.000001 to 10:00:03.000002` for a point's capture windows. */
  windowText(point: string): string {
    return (this.windows.get(point) ?? []).map((w) => `from ${formatTime({ clock: w.clock, us: w.first })} to ${formatTime({ clock: w.clock, us: w.last })}`).join(' and ');
  }

  /**
   * Capture points whose silence means something, with the packets each saw: those that saw at
   * least one packet, and a live trace's captures that watched all of its traffic, which need not
   * have seen any (every packet dropped before reaching them).
   */
  capturingPoints(): Map<string, number> {
    const out = new Map<string, number>();
    this.ctx.streams.forEach((s, i) => {
      if ((s.tool === 'tcpdump' || s.tool === 'pcap') && s.point && this.healthy(i) && (s.events || s.watchedTraffic)) {
        out.set(s.point, (out.get(s.point) ?? 0) + (s.events ?? 0));
      }
    });
    // A point named only inside its input (not by the input as a whole) counts by its own packets.
    for (const [point, n] of this.capturedByPoint) if (!out.has(point)) out.set(point, n);
    return out;
  }

  nodesWithTool(tool: string): Set<string> {
    const out = new Set<string>();
    this.ctx.streams.forEach((s, i) => {
      if (s.tool === tool && this.healthy(i)) out.add(this.nodeOfStream(i));
    });
    return out;
  }

  private healthy(i: number): boolean {
    const st = this.ctx.inputs[i]?.status ?? '';
    return st === 'ok' || st.startsWith('partial');
  }
}
