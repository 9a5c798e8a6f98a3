import { rankPoint } from '../core/correlate/build-report.js';
import type { ReportEndpoint, ReportFlow, ReportHop, ReportPacket } from '../core/model/report.js';
import { formatDelta } from './format-delta.js';
import { escapeHtml as esc, escapeLines, shorten } from './html-escape.js';
import { describeValue, toolClass } from './html-values.js';

/** How a lane's point took part in the flow: it saw it, watched and saw nothing, or nothing watched it. */
export type LaneState = 'seen' | 'not-seen' | 'not-observed';

/** A lane of the swimlane: one observation point, in path order. */
export interface Lane {
  point: string;
  state: LaneState;
  /** The node the point is on, when the point or the report's endpoints say. */
  node: string | null;
  /** The flow was dropped here. */
  drop: boolean;
  /** Why, when it was dropped here and the report says. */
  dropReason: string | null;
  /** What the flow's translations[] say happened here (added to the report by later versions). */
  translations: { tag: string; text: string }[];
}

const GUTTER = 160;
const LANE_W = 120;
/** A lane nothing watched holds no mark: it is drawn narrower, so the lanes that did see stay in view. */
const UNOBSERVED_W = 90;
const NODE_BAND = 24;
const HEAD_H = 66;
const ROW_H = 66;
const MARK = 10;
const SAME_LANE_STEP = 34;
const LABEL_CHARS = 19;

/** The translation point of Cilium's socket load balancer (a hook, not an observation point). */
const SOCKET_LB = 'socket-lb';

/** laneLayout puts the flow's points in path order and says what each one saw. */
export function laneLayout(flow: ReportFlow, endpoints: ReportEndpoint[]): Lane[] {
  const src = endpoints.find((e) => e.ips.includes(flow.srcIp));
  const dst = endpoints.find((e) => e.ips.includes(flow.dstIp));
  const hopPoints = [...flow.packets.flatMap((p) => p.hops), ...(flow.flowHops ?? [])].map((h) => h.point);
  // A translation at a named hook (socket-lb) that no lane watches gets a lane, so it shows where it happened.
  const translationPoints = flowTranslations(flow).flatMap((t) => (t.point === null ? [] : [t.point]));
  const all = [...flow.seenAt, ...hopPoints, ...flow.notSeenAt, ...flow.notObserved, ...(flow.dropPoint ? [flow.dropPoint] : []), ...translationPoints];
  const points = [...new Set(all)].filter((p) => p !== '');
  const firstSeen = new Map(points.map((p, i) => [p, i]));
  // rankPoint is the order the report's own lists use; ties keep the order the report gave. The
  // socket LB translates in connect(), before the packet exists: its lane comes first.
  const rank = (p: string) => (p === SOCKET_LB ? -1 : rankPoint(p, src, dst));
  points.sort((a, b) => rank(a) - rank(b) || firstSeen.get(a)! - firstSeen.get(b)!);
  const seen = new Set([...flow.seenAt, ...hopPoints, ...translationPoints]);
  const notSeen = new Set(flow.notSeenAt);
  const translations = translationsByPoint(flow);
  return points.map((point) => ({
    point,
    state: seen.has(point) ? 'seen' : notSeen.has(point) ? 'not-seen' : 'not-observed',
    node: nodeOf(point, endpoints),
    drop: flow.verdict === 'dropped' && point === flow.dropPoint,
    dropReason: flow.verdict === 'dropped' && point === flow.dropPoint ? flow.dropReason : null,
    translations: translations.get(point) ?? [],
  }));
}

/** flowTranslations says each of the flow's address translations in words, with the point it happened at. */
export function flowTranslations(flow: ReportFlow): { point: string | null; tag: string; text: string }[] {
  return (flow.translations ?? []).map((t) => {
    if (t === null || typeof t !== 'object') return { point: null, tag: 'translated', text: describeValue(t) };
    const kind = typeof t.kind === 'string' && t.kind.length > 0 ? t.kind.toUpperCase() : 'translated';
    const change = t.from !== undefined || t.to !== undefined ? `${t.from ?? '?'} → ${t.to ?? '?'}` : '';
    const text = [`${kind}${change ? ` ${change}` : ''}`, t.evidence ? `(${t.evidence})` : ''].filter((x) => x !== '').join(' ');
    return { point: typeof t.point === 'string' && t.point !== '' ? t.point : null, tag: kind, text };
  });
}

function translationsByPoint(flow: ReportFlow): Map<string, Lane['translations']> {
  const out = new Map<string, Lane['translations']>();
  for (const t of flowTranslations(flow)) {
    if (t.point === null) continue;
    out.set(t.point, [...(out.get(t.point) ?? []), { tag: t.tag, text: t.text }]);
  }
  return out;
}

/** The node of a point: named in it (`host:bpf1/eth0`), or the node of the pod it names. */
function nodeOf(point: string, endpoints: ReportEndpoint[]): string | null {
  const [kind, rest = ''] = splitOnce(point, ':');
  if (kind === 'pod') {
    const [ns, pod] = rest.split('/');
    return endpoints.find((e) => e.pod === `${ns}/${pod}`)?.node || null;
  }
  // `?` is how a point says its node is not known.
  if (['host', 'cilium', 'kernel', 'iptables', 'hubble'].includes(kind)) return [rest.split('/')[0]].find((n) => n !== '' && n !== '?') ?? null;
  return null;
}

function splitOnce(text: string, sep: string): [string, string?] {
  const at = text.indexOf(sep);
  return at < 0 ? [text] : [text.slice(0, at), text.slice(at + 1)];
}

/** Two header lines for a point: what it is (`pod default/same`, `host bpf1`), then which (`eth0`). */
export function pointLines(point: string): [string, string] {
  const [kind, rest] = splitOnce(point, ':');
  if (rest === undefined) return ['', point];
  const slash = rest.lastIndexOf('/');
  if (slash < 0) return [kind, rest];
  const where = rest.slice(0, slash);
  const which = rest.slice(slash + 1);
  if (kind === 'cilium') return [`cilium ${where}`, `endpoint ${which}`];
  // A pod's name says more than its namespace: the namespace goes when both do not fit.
  if (kind === 'pod') return [`pod ${where.length <= LABEL_CHARS - 4 ? where : where.slice(where.indexOf('/') + 1)}`, which];
  return [`${kind} ${where}`, which];
}

/** hopId names a hop's row in the hop table; the diagram's marks point at it. */
export function hopId(flowIndex: number, packetIndex: number, hopIndex: number): string {
  return `f${flowIndex}-p${packetIndex}-h${hopIndex}`;
}

/** flowHopId names the row of one of the flow's hops that no packet took (flowHops). */
export function flowHopId(flowIndex: number, hopIndex: number): string {
  return `f${flowIndex}-x-h${hopIndex}`;
}

/** What the mark says under itself: the delta on the packet's clock, or why there is none. */
export function hopTimeLabel(hop: ReportHop): string {
  const delta = formatDelta(hop.deltaUs);
  if (delta !== '') return delta;
  if (hop.deltaNote) return 'no delta';
  return hop.time === null ? 'untimed' : 'own clock';
}

/** A mark's tooltip: which tool, where and when; what the tool said is in the hop table, shown under the diagram on hover or click. */
function hopTooltip(hop: ReportHop, dropHere: boolean): string {
  const lines = [`${hop.tool} at ${hop.point}${hop.match === 'flow' ? ', matched by flow and order only' : ''}`, `time: ${hop.time ?? 'none'}`];
  if (hop.deltaNote) lines.push(`no delta: ${hop.deltaNote}`);
  if (dropHere) lines.push('the flow was dropped here');
  return escapeLines(lines);
}

/**
 * swimlaneSvg draws one flow: a lane per observation point in path order (grouped under their
 * node), a row per packet, each hop a mark at its lane with its tool's shape and name and its time
 * on the packet's clock, arrows from hop to hop (dashed where a tool matched by flow only), the
 * lanes that watched and saw nothing hatched, those nobody watched dotted, the drop point crossed,
 * and translations tagged on the lane they happened at.
 */
export function swimlaneSvg(flow: ReportFlow, flowIndex: number, lanes: Lane[]): string {
  const nodeBand = lanes.some((l) => l.node !== null) ? NODE_BAND : 0;
  const top = nodeBand + HEAD_H;
  const flowHops = flow.flowHops ?? [];
  const packetRows = flow.packets.length === 0 && flowHops.length === 0 ? 1 : flow.packets.length;
  const rows = packetRows + (flowHops.length > 0 ? 1 : 0) + (flow.morePackets > 0 ? 1 : 0);
  const laneLeft = laneEdges(lanes);
  const width = laneLeft[lanes.length] + 8;
  const height = top + rows * ROW_H + 6;
  const laneX = new Map(lanes.map((l, i) => [l.point, (laneLeft[i] + laneLeft[i + 1]) / 2]));
  const out: string[] = [];
  out.push(`<svg class="swimlane" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" role="group" aria-labelledby="f${flowIndex}-svgt">`);
  out.push(`<title id="f${flowIndex}-svgt">Swimlane of flow ${flowIndex + 1}: ${lanes.length} observation points, ${flow.packets.length} packets</title>`);
  out.push(...nodeBands(lanes, laneLeft, nodeBand));
  lanes.forEach((lane, i) => out.push(...laneColumn(lane, laneLeft[i], laneLeft[i + 1] - laneLeft[i], nodeBand, height)));
  const rules = Array.from({ length: rows + 1 }, (_, r) => `M4 ${top + r * ROW_H}H${width - 4}`);
  out.push(`<path class="row-rule" d="${rules.join('')}"/>`);
  if (flow.packets.length === 0 && flowHops.length === 0) {
    out.push(`<text class="row-key" x="8" y="${top + ROW_H / 2 + 4}">no packet of this flow was seen</text>`);
  }
  flow.packets.forEach((packet, p) => {
    const y = top + p * ROW_H + ROW_H / 2 + 4;
    const fate = packetOutcome(packet);
    const extra = packetExtras(packet as unknown as Record<string, unknown>);
    const hopCount = `${packet.hops.length} ${packet.hops.length === 1 ? 'hop' : 'hops'}`;
    const sub = fate ? `${OUTCOME_ICON[fate.outcome] ?? '?'} ${fate.outcome}${fate.reason ? `: ${fate.reason}` : ''}` : extra || hopCount;
    out.push(`<g class="row-label"><title>${escapeLines([`packet ${packet.key}`, hopCount, ...(fate ? [sub, ...(fate.dropPoint ? [`dropped at ${fate.dropPoint}`] : [])] : []), ...(extra ? [extra] : [])])}</title>`);
    out.push(`<text class="row-key" x="8" y="${y - 6}">${esc(shorten(packet.key, 22))}</text>`);
    out.push(`<text class="row-sub${fate ? ` o-${outcomeClass(fate.outcome)}` : ''}" x="8" y="${y + 10}">${esc(shorten(sub, 26))}</text></g>`);
    // A packet that says what became of it is crossed where it says; otherwise the flow's drop point is.
    const dropAt = fate ? (fate.outcome === 'dropped' ? fate.dropPoint ?? flow.dropPoint : null) : flow.verdict === 'dropped' ? flow.dropPoint : null;
    const drop = dropAt ? packet.hops.map((h) => h.point).lastIndexOf(dropAt) : -1;
    out.push(...rowMarks(packet.hops, (h) => hopId(flowIndex, p, h), y, laneX, { arrows: true, drop }));
  });
  if (flowHops.length > 0) {
    // Hops no packet took (monitor records without a dump, pwru skbs): the flow's, not one packet's journey, so no arrows.
    const y = top + flow.packets.length * ROW_H + ROW_H / 2 + 4;
    const more = flow.moreFlowHops ?? 0;
    out.push(`<g class="row-label"><title>hops of tools that cannot tell this flow's packets apart: they belong to the flow, not to one packet${more > 0 ? `\n${esc(more)} more counted only` : ''}</title>`);
    out.push(`<text class="row-key" x="8" y="${y - 6}">by flow, no packet</text>`);
    out.push(`<text class="row-sub" x="8" y="${y + 10}">${flowHops.length} ${flowHops.length === 1 ? 'hop' : 'hops'}${more > 0 ? ` (+${esc(more)} counted)` : ''}</text></g>`);
    out.push(...rowMarks(flowHops, (h) => flowHopId(flowIndex, h), y, laneX, { arrows: false, drop: -1 }));
  }
  if (flow.morePackets > 0) {
    const y = top + (flow.packets.length + (flowHops.length > 0 ? 1 : 0)) * ROW_H + ROW_H / 2 + 4;
    out.push(`<text class="row-sub" x="8" y="${y}">… and ${esc(flow.morePackets)} more ${flow.morePackets === 1 ? 'packet' : 'packets'} of this flow, counted only (--max-packets)</text>`);
  }
  out.push('</svg>');
  return out.join('');
}

/** Icons of the outcome words, shared with the page's badges: a shape besides the colour. */
export const OUTCOME_ICON: Record<string, string> = { delivered: '✓', dropped: '✗', refused: '⊘', lost: '⧗', unknown: '?' };

/** The class of an outcome or verdict word; words this renderer does not know read as unknown. */
export function outcomeClass(word: string): string {
  return Object.hasOwn(OUTCOME_ICON, word) ? word : 'unknown';
}

/** What a packet says became of it (per-packet outcomes, added to the report by later versions), or undefined. */
function packetOutcome(packet: ReportPacket): { outcome: string; reason: string | null; dropPoint: string | null } | undefined {
  const p = packet as ReportPacket & { outcome?: unknown; outcomeReason?: unknown; dropPoint?: unknown };
  if (typeof p.outcome !== 'string') return undefined;
  return { outcome: p.outcome, reason: typeof p.outcomeReason === 'string' ? p.outcomeReason : null, dropPoint: typeof p.dropPoint === 'string' ? p.dropPoint : null };
}

function packetExtras(packet: Record<string, unknown>): string {
  const { key: _k, hops: _h, outcome: _o, outcomeReason: _r, dropPoint: _d, ...rest } = packet;
  return Object.keys(rest).length === 0 ? '' : describeValue(rest);
}

/** The left edge of each lane, and after the last one the right edge of the diagram's lanes. */
function laneEdges(lanes: Lane[]): number[] {
  const edges = [GUTTER];
  for (const lane of lanes) edges.push(edges[edges.length - 1] + (lane.state === 'not-observed' ? UNOBSERVED_W : LANE_W));
  if (lanes.length === 0) edges.push(GUTTER + LANE_W);
  return edges;
}

function nodeBands(lanes: Lane[], laneLeft: number[], band: number): string[] {
  if (band === 0) return [];
  const out: string[] = [];
  let start = 0;
  for (let i = 1; i <= lanes.length; i++) {
    if (i < lanes.length && lanes[i].node === lanes[start].node) continue;
    const node = lanes[start].node;
    const x = laneLeft[start] + 3;
    const w = laneLeft[i] - laneLeft[start] - 6;
    out.push(`<g class="node-band${node === null ? ' node-unknown' : ''}"><rect x="${x}" y="2" width="${w}" height="${band - 6}" rx="4"/>`);
    // Times restart at a node's first hop: each node's capture clock is its own.
    const clock = start > 0 && node !== null && lanes[0].node !== null ? ' · own clock' : '';
    const name = node === null ? 'node unknown' : `node ${esc(shorten(node, Math.floor(w / 7) - 5 - clock.length))}${clock}`;
    out.push(`<text x="${x + w / 2}" y="${band - 9}">${name}</text></g>`);
    start = i;
  }
  return out;
}

const STATE_WORDS: Record<LaneState, string> = { seen: 'saw this flow', 'not-seen': 'watched, saw nothing', 'not-observed': 'not observed' };

function laneColumn(lane: Lane, x: number, laneW: number, y0: number, height: number): string[] {
  // Characters a label line may take: about 6.3 px each at the lanes' font sizes.
  const chars = Math.floor((laneW - 4) / 6.3);
  const [what, which] = pointLines(lane.point);
  const cx = x + laneW / 2;
  const cls = `lane ${lane.state}${lane.drop ? ' drop' : ''}`;
  const stateText = lane.drop ? '✗ dropped here' : lane.state === 'seen' ? '' : lane.state === 'not-seen' ? '▨ not seen' : '┈ unobserved';
  const title = escapeLines([lane.point, STATE_WORDS[lane.state], ...(lane.drop ? [`the flow was dropped here${lane.dropReason ? `: ${lane.dropReason}` : ''}`] : []), ...lane.translations.map((t) => `translated: ${t.text}`)]);
  const out = [`<g class="${cls}" data-point="${esc(lane.point)}"><title>${title}</title>`];
  out.push(`<rect class="lane-bg" x="${x + 3}" y="${y0}" width="${laneW - 6}" height="${height - y0 - 2}" rx="5"/>`);
  if (what !== '') out.push(`<text class="lane-what" x="${cx}" y="${y0 + 17}">${esc(shorten(what, chars))}</text>`);
  out.push(`<text class="lane-which" x="${cx}" y="${y0 + 33}">${esc(shorten(which, chars - 2))}</text>`);
  if (stateText !== '') out.push(`<text class="lane-state" x="${cx}" y="${y0 + 50}">${stateText}</text>`);
  if (lane.dropReason && lane.translations.length === 0) {
    out.push(`<text class="lane-state drop-reason" x="${cx}" y="${y0 + 62}">${esc(shorten(lane.dropReason, chars))}</text>`);
  }
  if (lane.translations.length > 0) {
    const tag = `⇄ ${shorten(lane.translations[0].tag, chars - 4)}${lane.translations.length > 1 ? ` +${lane.translations.length - 1}` : ''}`;
    out.push(`<text class="lane-nat" x="${cx}" y="${y0 + (stateText === '' ? 50 : 62)}">${esc(tag)}</text>`);
  }
  out.push('</g>');
  return out;
}

/** At most this many marks side by side in one lane of a row; the others are counted (`+N`). */
const MAX_MARKS_PER_LANE = 3;

/**
 * rowMarks draws one row's hops at their lanes (hops at the same point side by side around the
 * lane's centre, at most MAX_MARKS_PER_LANE, then a count), with arrows from hop to hop when the
 * row is one packet's journey, and the cross on hop `drop`.
 */
function rowMarks(hops: ReportHop[], idOf: (hop: number) => string, y: number, laneX: Map<string, number>, opts: { arrows: boolean; drop: number }): string[] {
  const perLane = new Map<string, number>();
  for (const h of hops) perLane.set(h.point, (perLane.get(h.point) ?? 0) + 1);
  // More hops than slots: the last slot says how many more there are.
  const shownIn = (point: string) => {
    const n = perLane.get(point) ?? 1;
    return n > MAX_MARKS_PER_LANE ? MAX_MARKS_PER_LANE - 1 : n;
  };
  const slotX = (point: string, k: number) => (laneX.get(point) ?? GUTTER / 2) + (k - (Math.min(MAX_MARKS_PER_LANE, perLane.get(point) ?? 1) - 1) / 2) * SAME_LANE_STEP;
  const taken = new Map<string, number>();
  const xs = hops.map((h) => {
    const k = taken.get(h.point) ?? 0;
    taken.set(h.point, k + 1);
    if (k >= shownIn(h.point)) return null;
    return slotX(h.point, k);
  });
  const arrows: string[] = [];
  const marks: string[] = [];
  let last: number | null = null;
  hops.forEach((hop, i) => {
    const x = xs[i];
    if (x === null) return;
    if (opts.arrows && last !== null) arrows.push(arrow(last, x, y, hop.match));
    last = x;
    const dropHere = i === opts.drop;
    const cls = `hop ${toolClass(hop.tool)} by-${hop.match === 'flow' ? 'flow' : 'packet'}${dropHere ? ' dropped' : ''}`;
    marks.push(`<g class="${cls}" data-hop="${idOf(i)}" tabindex="0" role="button"><title>${hopTooltip(hop, dropHere)}</title>`);
    marks.push(`<use href="#k-${toolClass(hop.tool)}" x="${x - MARK}" y="${y - MARK}" width="${2 * MARK}" height="${2 * MARK}"/>`);
    if (dropHere) marks.push(`<path class="drop-x" d="M${x - 12} ${y - 12}L${x + 12} ${y + 12}M${x + 12} ${y - 12}L${x - 12} ${y + 12}"/>`);
    // Marks side by side share their labels (below); a mark alone in its lane has its own.
    if ((perLane.get(hop.point) ?? 1) === 1) {
      marks.push(`<text class="tool" x="${x}" y="${y - 16}">${esc(shorten(hop.tool, 12))}</text>`);
      marks.push(`<text class="dt" x="${x}" y="${y + 24}">${dropHere ? 'dropped' : esc(hopTimeLabel(hop))}</text>`);
    }
    marks.push('</g>');
  });
  for (const [point, n] of perLane) {
    if (n === 1) continue;
    const group = hops.filter((h) => h.point === point);
    const cx = laneX.get(point) ?? GUTTER / 2;
    const tools = [...new Set(group.map((h) => h.tool))].join('/');
    const times = [...new Set(group.filter((h) => hops.indexOf(h) !== opts.drop).map(hopTimeLabel))];
    marks.push(`<text class="tool group" x="${cx}" y="${y - 16}">${esc(shorten(`${n}× ${tools}`, 18))}</text>`);
    const dropped = group.some((h) => hops.indexOf(h) === opts.drop);
    marks.push(`<text class="dt group${dropped ? ' dropped' : ''}" x="${cx}" y="${y + 24}">${esc(shorten(dropped ? 'dropped' : times.length === 1 ? times[0] : 'times differ', 18))}</text>`);
  }
  for (const [point, n] of perLane) {
    if (n <= MAX_MARKS_PER_LANE) continue;
    marks.push(`<text class="more-marks" x="${slotX(point, MAX_MARKS_PER_LANE - 1)}" y="${y + 4}">+${n - shownIn(point)}</text>`);
  }
  return [...arrows, ...marks];
}

/** An arrow from one mark to the next: straight forward, arched when the next hop is back or at the same place. */
function arrow(x1: number, x2: number, y: number, match: ReportHop['match']): string {
  const cls = `arrow by-${match === 'flow' ? 'flow' : 'packet'}`;
  if (x2 - x1 > 2 * MARK + 6) return `<path class="${cls}" d="M${x1 + MARK + 2} ${y}H${x2 - MARK - 4}" marker-end="url(#ah)"/>`;
  const lift = 30;
  return `<path class="${cls}" d="M${x1} ${y - MARK - 1}C${x1} ${y - lift} ${x2} ${y - lift} ${x2} ${y - MARK - 4}" marker-end="url(#ah)"/>`;
}
