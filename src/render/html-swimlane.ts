import { rankPoint } from '../core/correlate/build-report.js';
import type { ReportEndpoint, ReportFlow, ReportHop } from '../core/model/report.js';
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
  /** What the flow's translations[] say happened here (added to the report by later versions). */
  translations: { tag: string; text: string }[];
}

const GUTTER = 160;
const LANE_W = 124;
const NODE_BAND = 24;
const HEAD_H = 66;
const ROW_H = 66;
const MARK = 10;
const SAME_LANE_STEP = 34;
const LABEL_CHARS = 19;

/** laneLayout puts the flow's points in path order and says what each one saw. */
export function laneLayout(flow: ReportFlow, endpoints: ReportEndpoint[]): Lane[] {
  const src = endpoints.find((e) => e.ips.includes(flow.srcIp));
  const dst = endpoints.find((e) => e.ips.includes(flow.dstIp));
  const hopPoints = flow.packets.flatMap((p) => p.hops.map((h) => h.point));
  const all = [...flow.seenAt, ...hopPoints, ...flow.notSeenAt, ...flow.notObserved, ...(flow.dropPoint ? [flow.dropPoint] : [])];
  const points = [...new Set(all)].filter((p) => p !== '');
  const firstSeen = new Map(points.map((p, i) => [p, i]));
  // rankPoint is the order the report's own lists use; ties keep the order the report gave.
  points.sort((a, b) => rankPoint(a, src, dst) - rankPoint(b, src, dst) || firstSeen.get(a)! - firstSeen.get(b)!);
  const seen = new Set([...flow.seenAt, ...hopPoints]);
  const notSeen = new Set(flow.notSeenAt);
  const translations = translationsByPoint(flow);
  return points.map((point) => ({
    point,
    state: seen.has(point) ? 'seen' : notSeen.has(point) ? 'not-seen' : 'not-observed',
    node: nodeOf(point, endpoints),
    drop: flow.verdict === 'dropped' && point === flow.dropPoint,
    translations: translations.get(point) ?? [],
  }));
}

/** flowTranslations reads the optional translations[] of a flow as one sentence each, with the point it happened at. */
export function flowTranslations(flow: ReportFlow): { point: string | null; tag: string; text: string }[] {
  const list = (flow as unknown as { translations?: unknown }).translations;
  if (!Array.isArray(list)) return [];
  return list.map((t) => {
    if (t === null || typeof t !== 'object') return { point: null, tag: 'translated', text: describeValue(t) };
    const record = t as Record<string, unknown>;
    const point = typeof record.point === 'string' ? record.point : typeof record.at === 'string' ? record.at : null;
    const { point: _p, at: _a, ...rest } = record;
    // The lane shows the kind of translation (DNAT, SNAT, rev-NAT) when the entry names one.
    const kind = [record.kind, record.type].find((v) => typeof v === 'string' && v !== '');
    return { point, tag: typeof kind === 'string' ? kind : 'translated', text: describeValue(rest) };
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
  if (['host', 'cilium', 'kernel', 'iptables', 'hubble'].includes(kind)) return rest.split('/')[0] || null;
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

/** What the mark says under itself: the delta on the packet's clock, or why there is none. */
export function hopTimeLabel(hop: ReportHop): string {
  const delta = formatDelta(hop.deltaUs);
  if (delta !== '') return delta;
  return hop.time === null ? 'untimed' : 'own clock';
}

function hopTooltip(hop: ReportHop, dropHere: boolean): string {
  const lines = [
    `${hop.tool} at ${hop.point}${hop.match === 'flow' ? ' (matched by flow and order, not this very packet)' : ''}`,
    `time: ${hop.time ?? 'none'}${hop.deltaUs !== null ? ` (${formatDelta(hop.deltaUs)} on this packet's clock)` : ''}`,
    hop.detail,
  ];
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
  const rows = Math.max(1, flow.packets.length) + (flow.morePackets > 0 ? 1 : 0);
  const width = GUTTER + Math.max(1, lanes.length) * LANE_W + 8;
  const height = top + rows * ROW_H + 6;
  const laneX = new Map(lanes.map((l, i) => [l.point, GUTTER + i * LANE_W + LANE_W / 2]));
  const out: string[] = [];
  out.push(`<svg class="swimlane" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" role="group" aria-labelledby="f${flowIndex}-svgt">`);
  out.push(`<title id="f${flowIndex}-svgt">Swimlane of flow ${flowIndex + 1}: ${lanes.length} observation points, ${flow.packets.length} packets</title>`);
  out.push(...nodeBands(lanes, nodeBand));
  lanes.forEach((lane, i) => out.push(...laneColumn(lane, GUTTER + i * LANE_W, nodeBand, height)));
  const rules = Array.from({ length: rows + 1 }, (_, r) => `M4 ${top + r * ROW_H}H${width - 4}`);
  out.push(`<path class="row-rule" d="${rules.join('')}"/>`);
  if (flow.packets.length === 0) {
    out.push(`<text class="row-key" x="8" y="${top + ROW_H / 2 + 4}">no packet of this flow was seen</text>`);
  }
  flow.packets.forEach((packet, p) => {
    const y = top + p * ROW_H + ROW_H / 2 + 4;
    const extra = packetExtras(packet as unknown as Record<string, unknown>);
    out.push(`<g class="row-label"><title>${escapeLines([`packet ${packet.key}`, ...(extra ? [extra] : [])])}</title>`);
    out.push(`<text class="row-key" x="8" y="${y - 6}">${esc(shorten(packet.key, 22))}</text>`);
    out.push(`<text class="row-sub" x="8" y="${y + 10}">${esc(shorten(extra || `${packet.hops.length} ${packet.hops.length === 1 ? 'hop' : 'hops'}`, 26))}</text></g>`);
    out.push(...packetMarks(flow, flowIndex, p, y, laneX));
  });
  if (flow.morePackets > 0) {
    const y = top + flow.packets.length * ROW_H + ROW_H / 2 + 4;
    out.push(`<text class="row-sub" x="8" y="${y}">… and ${flow.morePackets} more ${flow.morePackets === 1 ? 'packet' : 'packets'} of this flow, counted only (--max-packets)</text>`);
  }
  out.push('</svg>');
  return out.join('');
}

function packetExtras(packet: Record<string, unknown>): string {
  const { key: _k, hops: _h, ...rest } = packet;
  return Object.keys(rest).length === 0 ? '' : describeValue(rest);
}

function nodeBands(lanes: Lane[], band: number): string[] {
  if (band === 0) return [];
  const out: string[] = [];
  let start = 0;
  for (let i = 1; i <= lanes.length; i++) {
    if (i < lanes.length && lanes[i].node === lanes[start].node) continue;
    const node = lanes[start].node;
    const x = GUTTER + start * LANE_W + 3;
    const w = (i - start) * LANE_W - 6;
    out.push(`<g class="node-band${node === null ? ' node-unknown' : ''}"><rect x="${x}" y="2" width="${w}" height="${band - 6}" rx="4"/>`);
    out.push(`<text x="${x + w / 2}" y="${band - 9}">${node === null ? 'node unknown' : `node ${esc(shorten(node, Math.floor(w / 7) - 5))}`}</text></g>`);
    start = i;
  }
  return out;
}

const STATE_WORDS: Record<LaneState, string> = { seen: 'saw this flow', 'not-seen': 'watched, saw nothing', 'not-observed': 'not observed' };

function laneColumn(lane: Lane, x: number, y0: number, height: number): string[] {
  const [what, which] = pointLines(lane.point);
  const cx = x + LANE_W / 2;
  const cls = `lane ${lane.state}${lane.drop ? ' drop' : ''}`;
  const stateText = lane.drop ? '✗ dropped here' : lane.state === 'seen' ? '' : lane.state === 'not-seen' ? '▨ not seen' : '┈ not observed';
  const title = escapeLines([lane.point, STATE_WORDS[lane.state], ...(lane.drop ? ['the flow was dropped here'] : []), ...lane.translations.map((t) => `translated: ${t.text}`)]);
  const out = [`<g class="${cls}" data-point="${esc(lane.point)}"><title>${title}</title>`];
  out.push(`<rect class="lane-bg" x="${x + 3}" y="${y0}" width="${LANE_W - 6}" height="${height - y0 - 2}" rx="5"/>`);
  out.push(`<text class="lane-what" x="${cx}" y="${y0 + 17}">${esc(shorten(what, LABEL_CHARS))}</text>`);
  out.push(`<text class="lane-which" x="${cx}" y="${y0 + 33}">${esc(shorten(which, LABEL_CHARS - 2))}</text>`);
  if (stateText !== '') out.push(`<text class="lane-state" x="${cx}" y="${y0 + 50}">${stateText}</text>`);
  if (lane.translations.length > 0) {
    const tag = `⇄ ${shorten(lane.translations[0].tag, LABEL_CHARS - 4)}${lane.translations.length > 1 ? ` +${lane.translations.length - 1}` : ''}`;
    out.push(`<text class="lane-nat" x="${cx}" y="${y0 + (stateText === '' ? 50 : 62)}">${esc(tag)}</text>`);
  }
  out.push('</g>');
  return out;
}

function packetMarks(flow: ReportFlow, flowIndex: number, p: number, y: number, laneX: Map<string, number>): string[] {
  const hops = flow.packets[p].hops;
  // Hops at the same point sit side by side around the lane's centre.
  const perLane = new Map<string, number>();
  for (const h of hops) perLane.set(h.point, (perLane.get(h.point) ?? 0) + 1);
  const taken = new Map<string, number>();
  const xs = hops.map((h) => {
    const k = taken.get(h.point) ?? 0;
    taken.set(h.point, k + 1);
    return (laneX.get(h.point) ?? GUTTER / 2) + (k - ((perLane.get(h.point) ?? 1) - 1) / 2) * SAME_LANE_STEP;
  });
  const lastAtDrop = flow.verdict === 'dropped' ? hops.map((h) => h.point).lastIndexOf(flow.dropPoint ?? '') : -1;
  const arrows: string[] = [];
  const marks: string[] = [];
  hops.forEach((hop, i) => {
    const x = xs[i];
    if (i > 0) arrows.push(arrow(xs[i - 1], x, y, hop.match));
    const dropHere = i === lastAtDrop;
    const cls = `hop ${toolClass(hop.tool)} by-${hop.match === 'flow' ? 'flow' : 'packet'}${dropHere ? ' dropped' : ''}`;
    marks.push(`<g class="${cls}" data-hop="${hopId(flowIndex, p, i)}" tabindex="0" role="button"><title>${hopTooltip(hop, dropHere)}</title>`);
    marks.push(`<use href="#k-${toolClass(hop.tool)}" x="${x - MARK}" y="${y - MARK}" width="${2 * MARK}" height="${2 * MARK}"/>`);
    if (dropHere) marks.push(`<path class="drop-x" d="M${x - 12} ${y - 12}L${x + 12} ${y + 12}M${x + 12} ${y - 12}L${x - 12} ${y + 12}"/>`);
    marks.push(`<text class="tool" x="${x}" y="${y - 16}">${esc(shorten(hop.tool, 12))}</text>`);
    marks.push(`<text class="dt" x="${x}" y="${y + 24}">${dropHere ? 'dropped' : esc(hopTimeLabel(hop))}</text></g>`);
  });
  return [...arrows, ...marks];
}

/** An arrow from one mark to the next: straight forward, arched when the next hop is back or at the same place. */
function arrow(x1: number, x2: number, y: number, match: ReportHop['match']): string {
  const cls = `arrow by-${match === 'flow' ? 'flow' : 'packet'}`;
  if (x2 - x1 > 2 * MARK + 6) return `<path class="${cls}" d="M${x1 + MARK + 2} ${y}H${x2 - MARK - 4}" marker-end="url(#ah)"/>`;
  const lift = 30;
  return `<path class="${cls}" d="M${x1} ${y - MARK - 1}C${x1} ${y - lift} ${x2} ${y - lift} ${x2} ${y - MARK - 4}" marker-end="url(#ah)"/>`;
}
