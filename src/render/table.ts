import type { HopReport, ReportEndpoint, ReportFlow, ReportHop, ReportInput, ReportPacket, ReportPolicyMatch, Verdict } from '../core/model/report.js';
import { clusterWords } from '../core/correlate/cluster.js';
import { paint, type AnsiStyle } from './ansi.js';
import { layoutColumns, type ColumnRow } from './columns.js';
import { flowTitle, verdictText } from './flow-title.js';
import { formatDelta } from './format-delta.js';
import type { RenderOptions } from './renderer.js';
import { sanitizeReport } from './sanitize.js';
import { wrapToken, wrapText } from './wrap-text.js';

/** Detail level of the text report: `table` or `wide` (adds hop facts, MACs, every unparsed sample). */
export type TextDetail = 'table' | 'wide';

const DEFAULT_WIDTH = 120;
const MIN_WIDTH = 60;
const GAP = 2;
const HOP_INDENT = 4;
const MIN_DETAIL_WIDTH = 30;

const VERDICT_STYLE: Record<Verdict, AnsiStyle> = { delivered: 'green', dropped: 'red', lost: 'yellow', unknown: 'yellow' };

interface TextContext {
  color: boolean;
  width: number;
  wide: boolean;
  /** Column widths of every hop table, shared so all packets of the report line up. */
  hopColumns: { delta: number; point: number; tool: number; detail: number };
}

/** renderTable prints the report for people (`-o table`): inputs, endpoints, one block per flow, warnings. */
export function renderTable(report: HopReport, opts: RenderOptions): string {
  return renderText(report, opts, 'table');
}

/** renderText lays out the text report at the given detail level; `-o table` and `-o wide` share it. */
export function renderText(report: HopReport, opts: RenderOptions, detail: TextDetail): string {
  const safe = sanitizeReport(report);
  const width = Math.max(MIN_WIDTH, opts.width ?? DEFAULT_WIDTH);
  const ctx: TextContext = { color: opts.color, width, wide: detail === 'wide', hopColumns: hopColumns(safe.flows, width) };
  const sections: string[][] = [];
  if (safe.cluster) sections.push([heading('Cluster', ctx), ...bullet(`${clusterWords(safe.cluster)} (cilium status: ${safe.cluster.sources.join(', ')})`, 2, ctx)]);
  if (safe.inputs.length > 0) sections.push(inputsSection(safe.inputs, ctx));
  if (safe.endpoints.length > 0) sections.push(endpointsSection(safe.endpoints, ctx));
  if (safe.flows.length === 0) sections.push([paint('No flows in this report.', 'yellow', ctx.color)]);
  for (const flow of safe.flows) sections.push(flowSection(flow, ctx));
  if (safe.warnings.length > 0) sections.push(warningsSection(safe.warnings, ctx));
  return sections.map((lines) => lines.join('\n')).join('\n\n') + '\n';
}

function heading(text: string, ctx: TextContext): string {
  return paint(text, 'bold', ctx.color);
}

/** Wraps `text` to the width left after `indent`, indenting continuation lines by `hang` more. */
function paragraph(text: string, indent: number, hang: number, ctx: TextContext, style?: AnsiStyle): string[] {
  const pad = ' '.repeat(indent);
  return wrapText(text, ctx.width - indent - hang).map((line, i) => {
    const painted = style === undefined ? line : paint(line, style, ctx.color);
    return (i === 0 ? pad : pad + ' '.repeat(hang)) + painted;
  });
}

/** A bullet item: `- text`, continuation lines aligned under the text. */
function bullet(text: string, indent: number, ctx: TextContext, style?: AnsiStyle): string[] {
  const lines = paragraph(text, indent + 2, 0, ctx, style);
  return lines.map((line, i) => (i === 0 ? ' '.repeat(indent) + '- ' + line.slice(indent + 2) : line));
}

function statusStyle(word: string): AnsiStyle | undefined {
  if (word === 'ok') return undefined;
  return word === 'failed' ? 'red' : 'yellow';
}

function linesUnderstood(input: ReportInput): string {
  const unit = /\.pcap(ng)?$/i.test(input.name) ? 'records' : 'lines';
  if (input.lines === 0) return `no ${unit}`;
  return `${input.understood}/${input.lines} ${unit} understood`;
}

/** `failed: pwru exited…` -> the status word for the column, the reason for a line of its own. */
function splitStatus(status: string): { word: string; reason: string } {
  const at = status.indexOf(': ');
  return at < 0 ? { word: status, reason: '' } : { word: status.slice(0, at), reason: status.slice(at + 2) };
}

function inputsSection(inputs: ReportInput[], ctx: TextContext): string[] {
  const indent = 2;
  const hintIndent = indent + 4;
  const rows: ColumnRow[] = [];
  const sentences: string[] = [];
  for (const input of inputs) {
    const { word, reason } = splitStatus(input.status);
    const style = statusStyle(word);
    const status = style ? paint(word, style, ctx.color) : word;
    const hints = [...(reason === '' ? [] : [{ text: reason, style }]), ...notUnderstoodHints(input, ctx.wide).map((text) => ({ text, style: 'dim' as const }))];
    const below = hints.flatMap((hint) => wrapText(hint.text, ctx.width - hintIndent).map((l) => ' '.repeat(hintIndent) + (hint.style ? paint(l, hint.style, ctx.color) : l)));
    const cells = [input.name, input.tool, input.point || '-', ...(ctx.wide ? [input.node || '-'] : []), status, linesUnderstood(input)];
    rows.push({ cells, below });
    const where = `${input.point || 'an unknown point'}${ctx.wide && input.node ? ` on ${input.node}` : ''}`;
    // Uncoloured: the wrap counts characters, and the reason line below carries the colour.
    sentences.push(...bullet(`${input.name}: ${input.tool} at ${where}, ${word}, ${linesUnderstood(input)}`, indent, ctx), ...below);
  }
  const table = layoutColumns(rows, { indent, gap: GAP, minWidths: [] });
  // Too wide for the terminal (long file names): one wrapped sentence per input instead.
  return [heading('Inputs', ctx), ...(fitsWidth(table, ctx) ? table : sentences)];
}

/** What a user needs to see about lines that were skipped: the first sample, or all of them with -o wide. */
function notUnderstoodHints(input: ReportInput, wide: boolean): string[] {
  if (input.notUnderstood <= 0) return [];
  const samples = input.notUnderstoodSamples ?? [];
  if (samples.length === 0) return [`${input.notUnderstood} ${input.notUnderstood === 1 ? 'line' : 'lines'} not understood (no sample kept)`];
  const shown = wide ? samples : samples.slice(0, 1);
  const hints = shown.map((s) => `line ${s.line} not understood (${s.reason}): "${s.text}"`);
  const more = input.notUnderstood - shown.length;
  if (more > 0) hints.push(`and ${more} more ${more === 1 ? 'line' : 'lines'} not understood${wide || samples.length <= 1 ? '' : ' (-o wide shows the samples kept)'}`);
  return hints;
}

function orDash(value: string | number | null | undefined): string {
  return value === null || value === undefined || value === '' ? '-' : String(value);
}

function endpointsSection(endpoints: ReportEndpoint[], ctx: TextContext): string[] {
  const head = ['POD', 'NODE', 'ENDPOINT', 'IDENTITY', 'IPS', 'LXC (IFINDEX)'];
  if (ctx.wide) head.push('MAC', 'HOST MAC');
  const rows: ColumnRow[] = [{ cells: head.map((h) => paint(h, 'dim', ctx.color)) }];
  for (const ep of endpoints) {
    const cells: (string | number | null | undefined)[] = [ep.pod, ep.node, ep.id, ep.identity, ep.ips.join('\n'), hostVeth(ep)];
    if (ctx.wide) cells.push(ep.mac, ep.hostMac);
    rows.push({ cells: cells.map(orDash) });
  }
  const table = layoutColumns(rows, { indent: 2, gap: GAP, minWidths: [] });
  // Too wide for the terminal: one wrapped sentence per endpoint instead.
  // What no endpoint data said, but captures showed: said so, with the evidence.
  const inferred = endpoints.flatMap((ep) => (ep.inferred ?? []).map((why) => `${ep.pod || ep.ips.join(', ')}: ${why}`));
  const notes = inferred.flatMap((text) => bullet(text, 2, ctx, 'dim'));
  return [heading('Endpoints', ctx), ...(fitsWidth(table, ctx) ? table : endpoints.flatMap((ep) => bullet(endpointSentence(ep, ctx.wide), 2, ctx))), ...notes];
}

function hostVeth(ep: ReportEndpoint): string | null {
  if (ep.ifindex === null) return ep.interface;
  return `${ep.interface ?? '?'} (${ep.ifindex})`;
}

function endpointSentence(ep: ReportEndpoint, wide: boolean): string {
  const facts = [
    `endpoint ${orDash(ep.id)}`,
    `identity ${orDash(ep.identity)}`,
    `IPs ${orDash(ep.ips.join(', '))}`,
    `lxc ${orDash(ep.interface)}`,
    `ifindex ${orDash(ep.ifindex)}`,
  ];
  if (wide) facts.push(`MAC ${orDash(ep.mac)}`, `host MAC ${orDash(ep.hostMac)}`);
  return `${orDash(ep.pod)} on ${orDash(ep.node)}: ${facts.join(', ')}`;
}

function fitsWidth(lines: string[], ctx: TextContext): boolean {
  return lines.every((line) => line.replace(/\x1b\[[0-9;]*m/g, '').length <= ctx.width);
}

function hopColumns(flows: ReportFlow[], width: number): TextContext['hopColumns'] {
  const hops = flows.flatMap((f) => [...f.packets.flatMap((p) => p.hops), ...(f.flowHops ?? [])]);
  const delta = Math.max(5, maxLength(hops.map((h) => formatDelta(h.deltaUs))));
  const tool = maxLength(hops.map((h) => h.tool));
  const available = width - HOP_INDENT - delta - tool - GAP * 3;
  // Points keep their width while the detail column keeps MIN_DETAIL_WIDTH; below that they wrap.
  const point = Math.min(maxLength(hops.map((h) => h.point)), Math.max(16, available - MIN_DETAIL_WIDTH));
  return { delta, point, tool, detail: Math.max(MIN_DETAIL_WIDTH, available - point) };
}

function flowSection(flow: ReportFlow, ctx: TextContext): string[] {
  const lines = titleLines(flow, ctx);
  const flowHops = flow.flowHops ?? [];
  if (flow.packets.length === 0 && flowHops.length === 0) lines.push(...paragraph('no packet of this flow was seen', 2, 2, ctx, 'yellow'));
  for (const packet of flow.packets) lines.push(...packetLines(packet, ctx));
  if (flow.morePackets > 0) {
    lines.push(`  ... and ${flow.morePackets} more ${flow.morePackets === 1 ? 'packet' : 'packets'} of this flow, not shown`);
  }
  if (flowHops.length > 0) lines.push(...hopLines(`  by flow (${flow.packets.length ? 'not tied to a packet above' : 'the tools could not tell its packets apart'})`, flowHops, ctx));
  if (flow.moreFlowHops) {
    lines.push(`  ... and ${flow.moreFlowHops} more ${flow.moreFlowHops === 1 ? 'hop' : 'hops'} by flow (records or skbs), not shown`);
  }
  if (flow.notSeenAt.length > 0) lines.push(...labelled('not seen', flow.notSeenAt.join(', '), ctx, 'yellow'));
  if (flow.notObserved.length > 0) lines.push(...labelled('not observed', flow.notObserved.join(', '), ctx, 'dim'));
  lines.push(...labelled('path', flow.path.length > 0 ? flow.path.join(' -> ') : 'unknown', ctx));
  lines.push(...labelled('verdict', verdictText(flow), ctx, VERDICT_STYLE[flow.verdict]));
  for (const conclusion of flow.conclusions) lines.push(...bullet(conclusion, 2, ctx));
  if (flow.evidence.length > 0) {
    lines.push('  evidence:');
    for (const ev of flow.evidence) {
      lines.push(...paragraph(ev.because.length > 0 ? `${ev.claim}: because` : `${ev.claim}: no evidence recorded`, 4, 2, ctx));
      for (const because of ev.because) lines.push(...bullet(because, 6, ctx));
    }
  }
  lines.push(...dropLines(flow, ctx));
  return lines;
}

/** What a policy that selects the enforcing endpoint in the drop's direction did to the packet. */
const EFFECT_WORDS: Record<ReportPolicyMatch['effect'], string> = {
  selects: 'selects the endpoint here, and none of its rules allows this packet',
  allows: 'allows it',
  denies: 'denies it',
  unknown: 'unknown',
};

/** A policy drop's policies and what the evidence lacks (the summary is among the conclusions). */
function dropLines(flow: ReportFlow, ctx: TextContext): string[] {
  const why = flow.dropExplanation;
  if (!why?.byPolicy || (!why.policies?.length && !why.unknown.length)) return [];
  const lines = ['  policy:'];
  for (const p of why.policies ?? []) lines.push(...bullet(`${p.policy}: ${EFFECT_WORDS[p.effect]}${p.detail ? ` (${p.detail})` : ''}`, 4, ctx));
  for (const u of why.unknown) lines.push(...bullet(`unknown: ${u}`, 4, ctx));
  return lines;
}

/** The flow's title with its verdict at the right edge; a title too long for one line wraps under itself. */
function titleLines(flow: ReportFlow, ctx: TextContext): string[] {
  const verdict = flow.verdict;
  const hang = 4;
  const [first, ...rest] = wrapText(flowTitle(flow), ctx.width - verdict.length - hang);
  const space = ' '.repeat(Math.max(hang, ctx.width - first.length - verdict.length));
  return [heading(first, ctx) + space + paint(verdict, VERDICT_STYLE[verdict], ctx.color), ...rest.map((line) => ' '.repeat(hang) + heading(line, ctx))];
}

/** `  label: text`, wrapped with continuation lines under the text. */
function labelled(label: string, text: string, ctx: TextContext, style?: AnsiStyle): string[] {
  const prefix = `  ${label}: `;
  const lines = wrapText(text, ctx.width - prefix.length);
  return lines.map((line, i) => (i === 0 ? prefix : ' '.repeat(prefix.length)) + (style ? paint(line, style, ctx.color) : line));
}

function packetLines(packet: ReportPacket, ctx: TextContext): string[] {
  return hopLines(`  packet ${packet.key}`, packet.hops, ctx);
}

function hopLines(title: string, hops: ReportHop[], ctx: TextContext): string[] {
  const cols = ctx.hopColumns;
  const rows: ColumnRow[] = hops.map((hop) => ({
    cells: [formatDelta(hop.deltaUs), wrapToken(hop.point, cols.point).join('\n'), hop.tool, hopDetail(hop, ctx)],
    below: ctx.wide ? factsLines(hop, ctx) : [],
  }));
  const minWidths = [cols.delta, cols.point, cols.tool, cols.detail];
  return [title, ...layoutColumns(rows, { indent: HOP_INDENT, gap: GAP, minWidths })];
}

/** The detail cell: what the tool said, and a `(by flow)` marker when it could not tell packets apart. */
function hopDetail(hop: ReportHop, ctx: TextContext): string {
  const width = ctx.hopColumns.detail;
  const lines = wrapText(hop.detail, width);
  if (hop.match === 'flow') {
    const marker = '(by flow)';
    const last = lines.length - 1;
    const painted = paint(marker, 'dim', ctx.color);
    if (lines[last] === '') lines[last] = painted;
    else if (lines[last].length + 1 + marker.length <= width) lines[last] += ' ' + painted;
    else lines.push(painted);
  }
  return lines.join('\n');
}

/** `-o wide`: the hop's time and facts (in the order the correlator gave them), on lines under its point. */
function factsLines(hop: ReportHop, ctx: TextContext): string[] {
  const entries = Object.entries(hop.facts ?? {});
  if (hop.deltaNote) entries.unshift(['no delta', hop.deltaNote]);
  if (hop.time !== null) entries.unshift(['time', hop.time]);
  if (entries.length === 0) return [];
  const cols = ctx.hopColumns;
  const label = 'facts: ';
  const indent = HOP_INDENT + cols.delta + GAP + 2;
  const width = ctx.width - indent - label.length;
  const text = entries.map(([k, v]) => `${k}=${v}`).join(', ');
  return wrapText(text, width).map((line, i) => ' '.repeat(indent) + (i === 0 ? label : ' '.repeat(label.length)) + paint(line, 'dim', ctx.color));
}

function warningsSection(warnings: string[], ctx: TextContext): string[] {
  return [heading('Warnings', ctx), ...warnings.flatMap((w) => bullet(w, 2, ctx, 'yellow'))];
}

function maxLength(values: string[]): number {
  return values.reduce((max, v) => Math.max(max, v.length), 0);
}
