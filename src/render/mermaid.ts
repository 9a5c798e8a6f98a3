import type { HopReport, ReportFlow, ReportHop, ReportPacket } from '../core/model/report.js';
import { flowTitle, verdictText } from './flow-title.js';
import { formatDelta } from './format-delta.js';
import type { RenderOptions } from './renderer.js';
import { sanitizeReport } from './sanitize.js';
import { wrapText } from './wrap-text.js';

const LABEL_WIDTH = 48;
const NOTE_WIDTH = 72;
const BREAK = '<br/>';

// Characters that end a statement (`;`), start an entity code or a comment (`#`, `%%`), or are
// read as HTML (`<`, `>`, `&`) or string delimiters (`"`); mermaid's entity codes render them as
// themselves.
const MERMAID_ENTITIES: Record<string, string> = {
  ';': '#59;', '#': '#35;', '%': '#37;', '"': '#quot;', '<': '#lt;', '>': '#gt;', '&': '#amp;',
};
const MERMAID_SPECIAL = /[;#%"<>&]/g;

/** escapeMermaidText makes text safe inside a participant alias, message or note. */
export function escapeMermaidText(text: string): string {
  return text.replace(MERMAID_SPECIAL, (c) => MERMAID_ENTITIES[c]);
}

// Inline markdown (emphasis, code, links, HTML) and a trailing `#`, which would close the heading.
const MARKDOWN_SPECIAL = /[\\`*_[\]<#]/g;

function escapeMarkdown(text: string): string {
  return text.replace(MARKDOWN_SPECIAL, (c) => '\\' + c);
}

/** Escaped text wrapped into lines joined by mermaid's `<br/>`, which must itself stay unescaped. */
function wrapped(text: string, width: number): string {
  return wrapText(text, width).map(escapeMermaidText).join(BREAK);
}

/**
 * renderMermaid prints one sequence diagram per flow (`-o mermaid`), each under a `### title`
 * heading in a ```mermaid fence so GitHub renders it: the observation points are participants,
 * the hops of the first packet (and of up to two more that reached other points) are arrows with
 * their time deltas (dashed when attached by flow only, a cross where it was dropped), and notes
 * carry what was not seen, the path, the verdict and the conclusions.
 */
export function renderMermaid(report: HopReport, _opts: RenderOptions): string {
  const safe = sanitizeReport(report);
  if (safe.flows.length === 0) return '_No flows in this report._\n';
  return safe.flows.map(flowDiagram).join('\n');
}

function flowDiagram(flow: ReportFlow): string {
  const title = `${flowTitle(flow)}, ${flow.verdict}`;
  const lines = [`### ${escapeMarkdown(title)}`, '', '```mermaid', 'sequenceDiagram'];
  const points = participantPoints(flow);
  const alias = new Map(points.map((point, i) => [point, `P${i + 1}`]));
  for (const point of points) lines.push(`    participant ${alias.get(point)} as ${escapeMermaidText(point)}`);
  // When nothing saw the flow, its two ends carry the notes.
  if (points.length === 0) lines.push(`    participant S as ${escapeMermaidText(flow.src)}`, `    participant D as ${escapeMermaidText(flow.dst)}`);
  const first = points.length > 0 ? alias.get(points[0]) : 'S';
  const last = points.length > 0 ? alias.get(points[points.length - 1]) : 'D';
  const span = first === last ? `${first}` : `${first},${last}`;
  const note = (text: string) => lines.push(`    Note over ${span}: ${wrapped(text, NOTE_WIDTH)}`);

  const drawn = packetsToDraw(flow);
  if (drawn.length === 0) note('no packet of this flow was seen');
  drawn.forEach(({ packet, adds }, p) => {
    if (p === 0) {
      const more = flow.packets.length - 1 + flow.morePackets;
      note(packet.key === BY_FLOW && flow.packets.length === 0 ? 'hops by flow: the tools could not tell its packets apart' : `packet ${packet.key}${more > 0 ? ` (first of ${more + 1})` : ''}`);
    } else {
      note(`packet ${packet.key}, drawn too: it was seen at ${adds.join(', ')}, which the packets above were not`);
    }
    packet.hops.forEach((hop, i) => {
      const to = alias.get(hop.point);
      if (i === 0) {
        lines.push(`    Note over ${to}: ${hopLabel(hop)}`);
        return;
      }
      const from = alias.get(packet.hops[i - 1].point);
      const dropped = flow.verdict === 'dropped' && i === packet.hops.length - 1 && hop.point === flow.dropPoint;
      const arrow = (hop.match === 'flow' ? '--' : '-') + (dropped ? 'x' : '>>');
      lines.push(`    ${from}${arrow}${to}: ${hopLabel(hop)}`);
    });
  });
  if (flow.notSeenAt.length > 0) note(`not seen: ${flow.notSeenAt.join(', ')}`);
  if (flow.notObserved.length > 0) note(`not observed: ${flow.notObserved.join(', ')}`);
  note(`path: ${flow.path.length > 0 ? flow.path.join(' -> ') : 'unknown'}, verdict: ${verdictText(flow)}`);
  for (const conclusion of flow.conclusions) note(conclusion);
  lines.push('```', '');
  return lines.join('\n');
}

/** Packets drawn beyond the first, at most: a diagram is read at a glance. */
const MAX_DRAWN_PACKETS = 3;

/**
 * The packets a diagram draws: the first, then each later one that reaches a point the drawn
 * ones did not (the seed's monitor watched another ping than tcpdump: without its packet the
 * monitor points would stand in the diagram with no arrow).
 */
const BY_FLOW = '\0by flow';

function packetsToDraw(flow: ReportFlow): { packet: ReportPacket; adds: string[] }[] {
  const drawn: { packet: ReportPacket; adds: string[] }[] = [];
  const reached = new Set<string>();
  // A flow whose tools could not tell its packets apart is drawn from its hops by flow.
  const packets = flow.packets.length || !flow.flowHops?.length ? flow.packets : [{ key: BY_FLOW, hops: flow.flowHops }];
  for (const packet of packets) {
    const adds = [...new Set(packet.hops.map((h) => h.point))].filter((p) => !reached.has(p));
    if (drawn.length > 0 && adds.length === 0) continue;
    drawn.push({ packet, adds });
    for (const p of adds) reached.add(p);
    if (drawn.length === MAX_DRAWN_PACKETS) break;
  }
  return drawn;
}

/** Points in path order: those the flow was seen at, then any other point a drawn packet visited. */
function participantPoints(flow: ReportFlow): string[] {
  const points: string[] = [];
  const hops = packetsToDraw(flow).flatMap((d) => d.packet.hops);
  for (const point of [...flow.seenAt, ...hops.map((h) => h.point)]) if (!points.includes(point)) points.push(point);
  return points;
}

function hopLabel(hop: ReportHop): string {
  const head = [formatDelta(hop.deltaUs), hop.tool, hop.match === 'flow' ? '(by flow)' : ''].filter((s) => s !== '').join(' ');
  return escapeMermaidText(head) + BREAK + wrapped(hop.detail, LABEL_WIDTH);
}
