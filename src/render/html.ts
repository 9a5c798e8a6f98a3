import { createHash } from 'node:crypto';
import type { HopReport, ReportCluster, ReportEndpoint, ReportFlow, ReportFlowEnd, ReportHop, ReportInput } from '../core/model/report.js';
import { flowNodes, verdictText } from './flow-title.js';
import { formatDelta } from './format-delta.js';
import { HTML_SCRIPT, HTML_STYLE, SVG_DEFS } from './html-assets.js';
import { escapeHtml as esc } from './html-escape.js';
import { flowHopId, flowTranslations, hopId, laneLayout, OUTCOME_ICON, outcomeClass, swimlaneSvg } from './html-swimlane.js';
import { describeValue, DRAWN_TOOLS, extraFields, toolClass } from './html-values.js';
import type { RenderOptions } from './renderer.js';
import { sanitizeReport } from './sanitize.js';

const REPORT_FIELDS = ['schemaVersion', 'inputs', 'endpoints', 'flows', 'warnings'] as const;
const FLOW_FIELDS = [
  'src', 'dst', 'srcIp', 'dstIp', 'protocol', 'direction', 'srcNode', 'dstNode', 'path', 'verdict', 'dropReason', 'dropPoint',
  'seenAt', 'notSeenAt', 'notObserved', 'packets', 'morePackets', 'conclusions', 'evidence', 'translations', 'outcome', 'outcomeReason', 'source', 'destination',
  'flowHops', 'moreFlowHops', 'tunnel',
] as const;
const HOP_FIELDS = ['point', 'tool', 'time', 'deltaUs', 'detail', 'match', 'facts'] as const;


/** What each path step means, for the reader who does not know Cilium's datapath by heart. */
const PATH_WORDS: Record<string, string> = {
  'redirect-peer': 'bpf_redirect_peer(): from the source lxc straight into the destination pod, no host stack',
  redirect: "bpf_redirect(): a BPF program sent it to the destination's lxc, not routed by the host stack",
  'redirect-neigh': 'bpf_redirect_neigh(): from BPF to the output device, neighbour resolved by the kernel',
  'host-stack': 'routed by the host network stack (legacy host routing)',
  overlay: 'encapsulated across the tunnel (VXLAN/Geneve) to the other node',
  'native-routing': 'routed natively between nodes, no encapsulation',
  unknown: 'the evidence does not decide the path',
};

function sha256(text: string): string {
  return `'sha256-${createHash('sha256').update(text, 'utf8').digest('base64')}'`;
}

/**
 * renderHtml writes the report as one self-contained page (`-o html`): a legend, a list of the
 * flows, then per flow its verdict, a swimlane diagram (SVG) and the conclusions and evidence
 * beside it, every hop as text under it; then inputs, endpoints and warnings. No request leaves
 * the page: style and script are inline and the Content-Security-Policy allows only those two
 * (by hash), so even a string that slipped past escaping could not load or run anything.
 */
export function renderHtml(report: HopReport, _opts: RenderOptions): string {
  const safe = sanitizeReport(report);
  const csp = `default-src 'none'; style-src ${sha256(HTML_STYLE)}; script-src ${sha256(HTML_SCRIPT)}; base-uri 'none'; form-action 'none'`;
  const tools = [...new Set(safe.flows.flatMap((f) => [...f.packets.flatMap((p) => p.hops), ...(f.flowHops ?? [])].map((h) => h.tool)))];
  const body = [
    header(safe),
    SVG_DEFS,
    safe.flows.length > 0 ? legend(tools) : '',
    flowIndex(safe.flows),
    ...safe.flows.map((flow, i) => flowSection(flow, i, safe.endpoints)),
    inputsSection(safe.inputs),
    endpointsSection(safe.endpoints),
    warningsSection(safe.warnings),
  ];
  return [
    '<!DOCTYPE html>',
    '<html lang="en"><head><meta charset="utf-8">',
    `<meta http-equiv="Content-Security-Policy" content="${csp}">`,
    '<meta name="viewport" content="width=device-width, initial-scale=1">',
    '<meta name="color-scheme" content="light dark">',
    `<title>${esc(pageTitle(safe))}</title>`,
    `<style>${HTML_STYLE}</style>`,
    '</head><body>',
    ...body.filter((s) => s !== ''),
    `<script>${HTML_SCRIPT}</script>`,
    '</body></html>',
    '',
  ].join('\n');
}

function pageTitle(report: HopReport): string {
  const first = report.flows[0];
  return first ? `Hop report: ${first.src} -> ${first.dst}` : 'Hop report';
}

function verdictBadge(verdict: string, text = verdict): string {
  const v = outcomeClass(verdict);
  return `<span class="badge v-${v}">${OUTCOME_ICON[v]} ${esc(text)}</span>`;
}

function header(report: HopReport): string {
  const counts = new Map<string, number>();
  for (const f of report.flows) counts.set(f.verdict, (counts.get(f.verdict) ?? 0) + 1);
  const summary = [...counts].map(([v, n]) => verdictBadge(v, `${n} ${v}`)).join(' ');
  const extras = extraFields(report, [...REPORT_FIELDS, 'cluster']);
  const cluster = report.cluster ? clusterLine(report.cluster) : '';
  return [
    '<header>',
    '<h1>Hop report</h1>',
    `<p class="muted">kubectl-datapath · ${report.flows.length} ${report.flows.length === 1 ? 'flow' : 'flows'} · ${report.inputs.length} ${report.inputs.length === 1 ? 'input' : 'inputs'} ${summary}</p>`,
    cluster,
    extras.length > 0 ? keyValues(extras) : '',
    '</header>',
  ].join('\n');
}

/** The datapath settings the agents' status inputs state, in one line, with where they come from. */
function clusterLine(c: ReportCluster): string {
  const parts = [
    c.ciliumVersion ? `Cilium ${c.ciliumVersion}` : '',
    c.routingMode ? `routing ${c.routingMode}${c.tunnelProtocol ? ` (${c.tunnelProtocol})` : ''}` : '',
    c.hostRouting ? `host routing ${c.hostRouting}` : '',
    c.kubeProxyReplacement ? `kube-proxy replacement ${c.kubeProxyReplacement}` : '',
    c.masquerading ? `masquerading ${c.masquerading}` : '',
    ...extraFields(c, ['ciliumVersion', 'routingMode', 'tunnelProtocol', 'hostRouting', 'kubeProxyReplacement', 'masquerading', 'sources']).map(([k, v]) => `${k} ${describeValue(v)}`),
  ].filter((x) => x !== '');
  if (parts.length === 0) return '';
  const from = (c.sources ?? []).length > 0 ? ` <span class="muted">(from ${esc(c.sources.join(', '))})</span>` : '';
  return `<p class="cluster"><b>Cluster:</b> ${esc(parts.join(' · '))}${from}</p>`;
}

function keyValues(entries: [string, unknown][]): string {
  return `<dl class="kv">${entries.map(([k, v]) => `<dt>${esc(k)}</dt><dd>${esc(describeValue(v))}</dd>`).join('')}</dl>`;
}

/** The legend: each tool's shape (named as the report names the tools it stands for), then what lines, lanes and crosses mean. */
function legend(tools: string[]): string {
  const named = new Map<string, string[]>();
  for (const tool of tools) named.set(toolClass(tool), [...(named.get(toolClass(tool)) ?? []), tool]);
  const shown = [...DRAWN_TOOLS, 'other'].filter((t) => named.has(t));
  const mark = (tool: string, byFlow: boolean) =>
    `<svg width="22" height="22" viewBox="0 0 22 22" class="swimlane"><g class="hop ${tool} by-${byFlow ? 'flow' : 'packet'}"><use href="#k-${tool}" x="1" y="1" width="20" height="20"/></g></svg>`;
  const lane = (state: string) => `<svg width="34" height="18" viewBox="0 0 34 18" class="swimlane"><g class="lane ${state}"><rect class="lane-bg" x="1" y="1" width="32" height="16" rx="3"/></g></svg>`;
  const items = [
    ...shown.map((t) => `<span>${mark(t, false)} ${esc(named.get(t)!.join(' / '))}</span>`),
    `<span>${mark('tcpdump', true)} hollow, dashed: matched by flow and order only, not this very packet</span>`,
    `<span><svg width="22" height="22" viewBox="0 0 22 22" class="swimlane"><path class="drop-x" d="M4 4L18 18M18 4L4 18"/></svg> dropped here</span>`,
    `<span>${lane('seen')} lane that saw the flow</span>`,
    `<span>${lane('not-seen')} watched, saw nothing</span>`,
    `<span>${lane('not-observed')} not observed (no probe there)</span>`,
    '<span>times: since the packet\'s first hop on the same clock; "own clock": another node or a monotonic clock</span>',
  ];
  return `<div class="legend" aria-label="legend">${items.join('')}</div>`;
}

function flowIndex(flows: ReportFlow[]): string {
  if (flows.length === 0) return '<p class="v-unknown">No flows in this report.</p>';
  const rows = flows.map((f, i) => {
    const nodes = flowNodes(f);
    return `<tr><td><a href="#f${i}">${i + 1}</a></td><td>${verdictBadge(f.verdict)}</td><td>${esc(f.protocol.toUpperCase())}</td><td><a href="#f${i}">${esc(f.src)} → ${esc(f.dst)}</a></td><td>${esc(f.direction)}</td><td>${esc(nodes || '-')}</td><td>${pathChips(f)}</td></tr>`;
  });
  return `<nav><h2>Flows</h2><table class="index"><thead><tr><th>#</th><th>verdict</th><th>proto</th><th>from → to</th><th>direction</th><th>nodes</th><th>path</th></tr></thead><tbody>${rows.join('')}</tbody></table></nav>`;
}

function pathChips(flow: ReportFlow): string {
  if (flow.path.length === 0) return '<span class="chip" title="the evidence does not decide the path">unknown</span>';
  return flow.path.map((step) => `<span class="chip" title="${esc(PATH_WORDS[step] ?? step)}">${esc(step)}</span>`).join('→');
}

function flowSection(flow: ReportFlow, index: number, endpoints: ReportEndpoint[]): string {
  const lanes = laneLayout(flow, endpoints);
  const loose = flow as unknown as Record<string, unknown>;
  const nodes = flowNodes(flow);
  const facts: string[] = [`<b>verdict:</b> ${esc(verdictText(flow))}`];
  if (loose.outcome !== undefined && loose.outcome !== null) {
    const reason = typeof loose.outcomeReason === 'string' && loose.outcomeReason !== '' ? ` ${esc(loose.outcomeReason)}` : '';
    facts.push(`<b>outcome:</b> ${outcomeText(loose.outcome)}${reason}`);
  }
  facts.push(`<b>path:</b> ${pathChips(flow)}${flow.path.length > 0 ? ` <span class="muted">${esc(flow.path.map((s) => PATH_WORDS[s] ?? s).join('; then '))}</span>` : ''}`);
  if (flow.tunnel) {
    const t = flow.tunnel;
    facts.push(`<b>tunnel:</b> ${esc([t.protocol, t.vni !== undefined ? `VNI ${t.vni}` : '', t.outer ?? ''].filter((x) => x !== '').join(' · '))} <span class="muted">(${esc(t.evidence)})</span>`);
  }
  const ends = ([['from', flow.source], ['to', flow.destination]] as const).filter(([, end]) => end).map(([word, end]) => `<b>${word}:</b> ${esc(endText(end!))}`);
  return [
    `<section class="flow v-${outcomeClass(flow.verdict)}" id="f${index}">`,
    `<h2>${verdictBadge(flow.verdict)} ${esc(flow.protocol.toUpperCase())} ${esc(flow.src)} → ${esc(flow.dst)} <span class="muted">${esc(flow.direction)}${nodes ? ` · ${esc(nodes)}` : ''}</span></h2>`,
    `<p class="facts-line">${facts.join(' &nbsp; ')}</p>`,
    ends.length > 0 ? `<p class="facts-line">${ends.join(' &nbsp; ')}</p>` : '',
    '<div class="flow-body">',
    `<div class="diagram"><div class="scroll">${swimlaneSvg(flow, index, lanes)}</div>`,
    '<div class="hop-detail" aria-live="polite"></div></div>',
    `<div class="words">${flowWords(flow)}</div>`,
    '</div>',
    hopTable(flow, index),
    '</section>',
  ].join('\n');
}

/** One end of a flow in words: `default/same 10.0.1.135:41234 on bpf1, identity 31009, endpoint 2836, lxc lxcda6…`. */
function endText(end: ReportFlowEnd): string {
  const address = end.ip === undefined ? '' : end.port === undefined ? end.ip : end.ip.includes(':') ? `[${end.ip}]:${end.port}` : `${end.ip}:${end.port}`;
  const who = [end.namespace && end.pod ? `${end.namespace}/${end.pod}` : end.pod ?? '', address, end.node ? `on ${end.node}` : ''].filter((x) => x !== '').join(' ');
  const more = [
    end.identity !== undefined ? `identity ${end.identity}` : '',
    end.endpointId !== undefined ? `endpoint ${end.endpointId}` : '',
    end.interface ? `lxc ${end.interface}` : '',
    end.external ? 'outside the cluster' : '',
  ].filter((x) => x !== '');
  const known = new Set(['ip', 'port', 'namespace', 'pod', 'node', 'identity', 'endpointId', 'interface', 'external']);
  const extra = extraFields(end, [...known]).map(([k, v]) => `${k} ${describeValue(v)}`);
  return [who, ...more, ...extra].filter((x) => x !== '').join(', ');
}

function outcomeText(outcome: unknown): string {
  if (typeof outcome === 'string') return verdictBadge(outcome);
  return esc(describeValue(outcome));
}

function flowWords(flow: ReportFlow): string {
  const out: string[] = ['<h3>Conclusions</h3>'];
  out.push(flow.conclusions.length > 0 ? `<ul>${flow.conclusions.map((c) => `<li>${esc(c)}</li>`).join('')}</ul>` : '<p class="muted">none</p>');
  const translations = flowTranslations(flow);
  if (translations.length > 0) {
    out.push('<h3>Translations</h3>', `<ul>${translations.map((t) => `<li>${t.point ? `<code>${esc(t.point)}</code>: ` : ''}${esc(t.text)}</li>`).join('')}</ul>`);
  }
  if (flow.evidence.length > 0) {
    out.push('<h3>Evidence</h3>');
    for (const ev of flow.evidence) {
      out.push(`<p><b>${esc(ev.claim)}</b>${ev.because.length > 0 ? ', because' : ': no evidence recorded'}</p>`);
      if (ev.because.length > 0) out.push(`<ul>${ev.because.map((b) => `<li>${esc(b)}</li>`).join('')}</ul>`);
    }
  }
  const where: string[] = [];
  if (flow.notSeenAt.length > 0) where.push(`<p><b>Watched, saw nothing:</b> ${flow.notSeenAt.map((p) => `<code>${esc(p)}</code>`).join(', ')}</p>`);
  if (flow.notObserved.length > 0) where.push(`<p><b>Not observed:</b> ${flow.notObserved.map((p) => `<code>${esc(p)}</code>`).join(', ')}</p>`);
  const extras = extraFields(flow, FLOW_FIELDS);
  if (extras.length > 0) where.push('<h3>More about this flow</h3>', keyValues(extras));
  return [...out, ...where].join('\n');
}

function hopRow(id: string, first: string, hop: ReportHop): string {
  const facts = Object.entries(hop.facts ?? {}).map(([k, v]) => `${k}=${v}`);
  for (const [k, v] of extraFields(hop, HOP_FIELDS)) facts.push(`${k}=${describeValue(v)}`);
  return (
    `<tr id="${id}"><td>${esc(first)}</td><td>${esc(formatDelta(hop.deltaUs))}</td><td>${esc(hop.time ?? '')}</td>` +
    `<td>${esc(hop.point)}</td><td class="${toolClass(hop.tool)}">${esc(hop.tool)}</td><td>${hop.match === 'flow' ? 'by flow' : 'packet'}</td>` +
    `<td class="detail">${esc(hop.detail)}</td><td class="facts">${esc(facts.join(', '))}</td></tr>`
  );
}

function hopTable(flow: ReportFlow, index: number): string {
  const flowHops = flow.flowHops ?? [];
  if (flow.packets.length === 0 && flowHops.length === 0) return '';
  const rows: string[] = [];
  flow.packets.forEach((packet, p) => packet.hops.forEach((hop, h) => rows.push(hopRow(hopId(index, p, h), h === 0 ? packet.key : '', hop))));
  flowHops.forEach((hop, h) => rows.push(hopRow(flowHopId(index, h), h === 0 ? 'by flow, no packet' : '', hop)));
  const counted = [
    flow.morePackets > 0 ? `${flow.morePackets} more counted only` : '',
    (flow.moreFlowHops ?? 0) > 0 ? `${flow.moreFlowHops} more flow ${flow.moreFlowHops === 1 ? 'hop' : 'hops'}` : '',
    flowHops.length > 0 ? `${flowHops.length} flow ${flowHops.length === 1 ? 'hop' : 'hops'}` : '',
  ].filter((x) => x !== '');
  const more = counted.length > 0 ? `, ${counted.join(', ')}` : '';
  const head = '<thead><tr><th>packet</th><th>delta</th><th>time</th><th>point</th><th>tool</th><th>match</th><th>what the tool said</th><th>facts</th></tr></thead>';
  return `<details class="hops"><summary>Every hop as text (${flow.packets.length} ${flow.packets.length === 1 ? 'packet' : 'packets'}${esc(more)})</summary><table class="hops">${head}<tbody>${rows.join('\n')}</tbody></table></details>`;
}

function inputsSection(inputs: ReportInput[]): string {
  if (inputs.length === 0) return '';
  const rows = inputs.map((i) => {
    const word = i.status.split(':')[0];
    const cls = word === 'ok' ? '' : word === 'failed' ? ' class="v-dropped"' : ' class="v-unknown"';
    const sample = i.notUnderstoodSamples?.[0];
    const skipped = i.notUnderstood > 0 ? `${i.notUnderstood} not understood${sample ? `, e.g. line ${sample.line} (${sample.reason}): ${sample.text}` : ''}` : '';
    return `<tr><td><code>${esc(i.name)}</code></td><td>${esc(i.tool)}</td><td><code>${esc(i.point || '-')}</code></td><td>${esc(i.node || '-')}</td><td${cls}>${esc(i.status)}</td><td>${esc(`${i.understood}/${i.lines}`)}</td><td class="muted">${esc(skipped)}</td></tr>`;
  });
  return `<section><h2>Inputs</h2><table><thead><tr><th>input</th><th>tool</th><th>point</th><th>node</th><th>status</th><th>understood</th><th>not understood</th></tr></thead><tbody>${rows.join('')}</tbody></table></section>`;
}

function endpointsSection(endpoints: ReportEndpoint[]): string {
  if (endpoints.length === 0) return '';
  const cell = (v: string | number | null | undefined) => esc(v === null || v === undefined || v === '' ? '-' : v);
  // What was inferred from captures rather than read from endpoint data, when anything was.
  const inferred = endpoints.some((e) => (e.inferred ?? []).length > 0);
  const rows = endpoints.map(
    (e) =>
      `<tr><td>${cell(e.pod)}</td><td>${cell(e.node)}</td><td>${cell(e.id)}</td><td>${cell(e.identity)}</td><td>${cell(e.ips.join(', '))}</td><td><code>${cell(e.interface)}</code>${e.ifindex !== null ? ` (${esc(e.ifindex)})` : ''}</td><td>${cell(e.mac)}</td><td>${cell(e.hostMac)}</td>` +
      `${inferred ? `<td class="muted">${esc((e.inferred ?? []).join('; '))}</td>` : ''}</tr>`,
  );
  return `<section><h2>Endpoints</h2><table><thead><tr><th>pod</th><th>node</th><th>endpoint</th><th>identity</th><th>IPs</th><th>lxc (ifindex)</th><th>MAC</th><th>host MAC</th>${inferred ? '<th>inferred from captures</th>' : ''}</tr></thead><tbody>${rows.join('')}</tbody></table></section>`;
}

function warningsSection(warnings: string[]): string {
  if (warnings.length === 0) return '';
  return `<section class="warn"><h2>Warnings</h2><ul>${warnings.map((w) => `<li>${esc(w)}</li>`).join('')}</ul></section>`;
}
