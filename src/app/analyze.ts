import { detectFormat, type InputFormat } from '../core/analyze/detect.js';
import { k8sPolicyInput } from './k8s-objects.js';
import type { PolicyRuleFact } from '../core/model/policy.js';
import { Knowledge } from '../core/analyze/knowledge.js';
import { inferOwners, onPodLink, OwnerClues, type LinkCapture } from '../core/analyze/owner.js';
import { readPrompt, type CommandPlace } from '../core/analyze/prompt.js';
import { FlowAccumulator, type StreamInfo } from '../core/correlate/accumulator.js';
import { buildReport, type ReportContext } from '../core/correlate/build-report.js';
import type { StatusInput } from '../core/correlate/cluster.js';
import type { HubbleEvent, ProbeEvent, Tool } from '../core/model/event.js';
import type { ParseResult } from '../core/parse/result.js';
import type { HopReport, ReportInput } from '../core/model/report.js';
import { parsePoint, type PointRef } from '../core/points.js';
import { parseDataInput, streamParserFor, type StreamParser } from '../core/analyze/formats.js';
import { parseTraceMeta, type TraceMeta, type TraceMetaInput } from '../core/analyze/trace-meta.js';
import { createPcapStream } from '../core/parse/pcap.js';
import { LineSplitter } from './line-splitter.js';
import { CommentHeader, blankCommentHeader } from '../core/analyze/comment-header.js';
import type { InputCatalog, InputSource } from './ports.js';

/** AnalyzeRequest: what `kubectl datapath analyze` was asked. */
export interface AnalyzeRequest {
  paths: string[];
  /** --point POINT=FILE: names the observation point of a file whose content does not. */
  points: { point: string; file: string }[];
  /** --endpoints FILE: endpoint data (agent JSON, CEP JSON, endpoint list). */
  endpointFiles: string[];
  /** --node: the node of inputs that do not name one. */
  node?: string;
  /** Packets per flow kept in detail; the rest are counted. */
  maxPackets: number;
  /** Fires on Ctrl-C/SIGTERM: reading stops and the report covers what was read. */
  signal?: AbortSignal;
}

const HEAD_BYTES = 64 * 1024;
const HEAD_LINES = 200;
const DATA_MAX_BYTES = 32 * 1024 * 1024;
const SAMPLES_KEPT = 5;
/**
 * A line longer than this (1 Mi characters) is counted as not understood without being parsed: no
 * tool prints such a line, and memory stays bounded however long a hostile one is.
 */
export const MAX_LINE_CHARS = 1 << 20;

/** analyze reads saved outputs, correlates them and returns the report. It never throws for bad inputs. */
export async function analyze(req: AnalyzeRequest, catalog: InputCatalog): Promise<HopReport> {
  const warnings: string[] = [];
  const { sources, problems } = await catalog.open([...req.paths, ...req.endpointFiles, ...req.points.map((p) => p.file).filter((f) => !req.paths.includes(f))]);
  const inputs: ReportInput[] = [];
  const streams: StreamInfo[] = [];
  const knowledge = new Knowledge();
  const acc = new FlowAccumulator(req.maxPackets);
  const statuses: StatusInput[] = [];
  const links: LinkCapture[] = [];
  const lbStates: NonNullable<ReportContext['lbStates']> = [];
  let policyRules: PolicyRuleFact[] | undefined;
  const notePolicies = (rules: PolicyRuleFact[]) => (policyRules ??= []).push(...rules);
  const pointOverride = new Map(req.points.map((p) => [p.file, p.point]));

  for (const p of problems) {
    streams.push({ index: streams.length, name: p.name, tool: 'tcpdump', point: undefined, node: undefined, events: 0 });
    inputs.push({ name: p.name, tool: 'unknown', point: '', node: '', lines: 0, understood: 0, notUnderstood: 0, status: `failed: ${p.message}` });
  }

  // Hosts named by prompts decide the default node when --node is not given.
  const heads: { source: InputSource; head: Uint8Array; lines: string[]; format: InputFormat; place?: CommandPlace; error?: string }[] = [];
  for (const source of dedupe(sources).map((s) => stopOnAbort(s, req.signal))) {
    try {
      const head = await source.head(HEAD_BYTES);
      const lines = headLines(head);
      const format = detectFormat(head, lines);
      const promptLine = lines.find((l) => readPrompt(l));
      heads.push({ source, head, lines, format, place: promptLine ? readPrompt(promptLine) : undefined });
    } catch (err) {
      heads.push({ source, head: new Uint8Array(), lines: [], format: 'unknown', error: (err as Error).message });
    }
  }
  const { metas, metaOf, broken } = await readTraceMetas(heads);
  // A run.json that cannot be read is an input that failed, not only a warning: the exit code says so.
  for (const b of broken) {
    streams.push({ index: streams.length, name: b.name, tool: 'tcpdump', point: undefined, node: undefined, events: 0 });
    inputs.push({ name: b.name, tool: 'trace-meta', point: '', node: '', lines: 0, understood: 0, notUnderstood: 0, status: `failed: ${b.message}` });
  }
  for (const meta of metas) knowledge.addEndpoints(meta.endpoints, undefined);
  const promptNodes = new Set(heads.map((h) => h.place?.node).filter((n): n is string => !!n));
  let defaultNode = req.node;
  if (!defaultNode && promptNodes.size === 1) {
    defaultNode = [...promptNodes][0];
    if (heads.some((h) => !h.place?.node && isEventFormat(h.format))) {
      warnings.push(`inputs that do not name their node were taken to be on ${defaultNode}, the only node their shell prompts name (use --node to say otherwise)`);
    }
  }

  for (const h of heads) {
    if (h.format === 'trace-meta') continue;
    const name = h.source.name;
    const probe = metaOf.get(baseName(name));
    // A probe of a live trace knows its tool even when it printed nothing or nothing recognisable.
    if (probe && !h.error && h.format !== 'pcap' && h.format !== 'pcapng') h.format = probe.format;
    const override = pointOverride.get(name) ?? [...pointOverride].find(([f]) => baseName(f) === baseName(name))?.[1];
    const input: ReportInput = { name, tool: toolOf(h.format), point: '', node: '', lines: 0, understood: 0, notUnderstood: 0, status: 'ok' };
    const stream: StreamInfo = { index: streams.length, name, tool: (toolOf(h.format) as Tool) ?? 'tcpdump', point: undefined, node: undefined, events: 0 };
    streams.push(stream);
    inputs.push(input);
    if (h.error) {
      input.status = `failed: ${name} cannot be read: ${h.error}`;
      continue;
    }
    if (h.head.length === 0) {
      if (probe) applyProbeMeta(probe, stream, input);
      else input.status = `empty: ${name} has no content`;
      continue;
    }
    if (h.format === 'binary' || h.format === 'unknown') {
      input.tool = 'unknown';
      input.status = h.format === 'binary'
        ? `unknown-format: ${name} is binary but not a pcap or pcapng file`
        : `unknown-format: ${name} is not output of a tool analyze reads (tcpdump, pcap, cilium monitor, Hubble, pwru, iptables trace, endpoint or status data)`;
      input.lines = countLines(h.lines);
      continue;
    }
    const place = h.place;
    if (probe && !override) {
      applyProbeMeta(probe, stream, input);
      await readEvents(h.source, h.format, stream, input, acc, knowledge, warnings, links);
      if (probe.status !== 'ok') input.status = probe.status;
      continue;
    }
    const overridePoint = override ? parsePoint(override) : undefined;
    if (override && !overridePoint) warnings.push(`--point ${override}=${name}: ${override} is not a point id (pod:NS/POD/IF, host:NODE/IF, cilium:NODE/EP, kernel:NODE, iptables:NODE)`);
    stream.point = overridePoint ? override : place?.point;
    stream.node = overridePoint?.node ?? place?.node ?? (place?.pod ? undefined : defaultNode);
    input.point = stream.point ?? '';
    if (place?.pod && !stream.node) stream.node = undefined;

    if (isEventFormat(h.format)) {
      await readEvents(h.source, h.format, stream, input, acc, knowledge, warnings, links);
      if ((stream.tool === 'monitor' || stream.tool === 'hubble') && !stream.point) input.point = stream.node ? `cilium:${stream.node}` : '';
      if (stream.tool === 'pwru' && !stream.point && stream.node) input.point = `kernel:${stream.node}`;
      if (stream.tool === 'iptables' && !stream.point && stream.node) input.point = `iptables:${stream.node}`;
    } else {
      await readData(h.source, h.format, stream, input, place, knowledge, warnings, defaultNode, statuses, lbStates, notePolicies);
    }
  }

  // Probes of a live trace that produced no file still say which point went unobserved, and why.
  const files = new Set(heads.map((h) => baseName(h.source.name)));
  for (const meta of metas) {
    for (const probe of meta.inputs) {
      if (probe.file && files.has(probe.file)) continue;
      const stream: StreamInfo = { index: streams.length, name: probe.id, tool: toolOfProbe(probe), point: undefined, node: undefined, events: 0 };
      const input: ReportInput = { name: probe.id, tool: stream.tool, point: '', node: '', lines: 0, understood: 0, notUnderstood: 0, status: 'ok' };
      applyProbeMeta(probe, stream, input);
      if (probe.status === 'ok') input.status = `failed: its output ${probe.file ?? ''} is missing`;
      streams.push(stream);
      inputs.push(input);
    }
    warnings.push(...meta.warnings);
  }

  inferOwners(links, knowledge);

  // Second look, once everything is read: nodes of streams that did not name one.
  for (let i = 0; i < streams.length; i++) {
    const s = streams[i];
    const input = inputs[i];
    if (!s.node) {
      const p = s.point ? parsePoint(s.point) : undefined;
      if (p?.kind === 'pod') {
        const ep = knowledge.endpoints().find((e) => e.pod === `${p.namespace}/${p.pod}`);
        if (ep?.node) s.node = ep.node;
      }
    }
    input.node = s.node ?? '';
    if (input.status === 'ok' && input.lines > 0 && input.understood === 0) {
      input.status = `unknown-format: no line of ${input.name} was understood as ${input.tool} output`;
    }
  }

  // A trace that listed the policies and found none read them all the same: no rule selects anything.
  if (metas.some((m) => m.policies?.read.length)) policyRules ??= [];
  const unreadable = metas.flatMap((m) => m.policies?.notRead ?? []);
  const policies = { ...(policyRules ? { rules: policyRules } : {}), ...(unreadable.length ? { unreadable } : {}), labels: knowledge.identityLabels() };
  const report = buildReport(acc, { streams, inputs, endpoints: knowledge.endpoints(), warnings, statuses, lbStates, policies });
  for (const input of inputs) {
    if (input.status.startsWith('failed') || input.status.startsWith('unknown-format') || input.status.startsWith('empty') || input.status.startsWith('partial')) {
      warnings.push(`${input.name}: ${input.status}`);
    }
  }
  if (req.signal?.aborted) warnings.push('interrupted: the report covers only what was read before Ctrl-C or SIGTERM');
  if (report.flows.length === 0) warnings.push('no flow was found in the inputs: check that they contain captures, monitor or pwru output of the same traffic');
  return report;
}

/**
 * stopOnAbort: once the signal fired, a source gives at most one more chunk (a pipe: what it had
 * already read) and stops, so the report covers what was read and reading ends at once.
 */
function stopOnAbort(source: InputSource, signal: AbortSignal | undefined): InputSource {
  if (!signal) return source;
  return {
    name: source.name,
    head: (max) => source.head(max),
    chunks: () => ({
      async *[Symbol.asyncIterator]() {
        for await (const chunk of source.chunks()) {
          yield chunk;
          if (signal.aborted) return;
        }
      },
    }),
  };
}

/** readTraceMetas reads the run metadata of `trace --save` directories among the inputs. */
async function readTraceMetas(heads: { source: InputSource; format: InputFormat }[]): Promise<{ metas: TraceMeta[]; metaOf: Map<string, TraceMetaInput>; broken: { name: string; message: string }[] }> {
  const metas: TraceMeta[] = [];
  const metaOf = new Map<string, TraceMetaInput>();
  const broken: { name: string; message: string }[] = [];
  for (const h of heads) {
    if (h.format !== 'trace-meta') continue;
    const parts: Uint8Array[] = [];
    let size = 0;
    try {
      for await (const chunk of h.source.chunks()) {
        parts.push(chunk);
        size += chunk.length;
        if (size > DATA_MAX_BYTES) throw new Error(`larger than ${DATA_MAX_BYTES >> 20} MiB`);
      }
    } catch (err) {
      broken.push({ name: h.source.name, message: `run metadata cannot be read: ${(err as Error).message}` });
      continue;
    }
    const { meta, error } = parseTraceMeta(new TextDecoder().decode(concat(parts, size)));
    if (!meta) {
      broken.push({ name: h.source.name, message: error ?? 'not run metadata' });
      continue;
    }
    metas.push(meta);
    for (const probe of meta.inputs) if (probe.file) metaOf.set(probe.file, probe);
  }
  return { metas, metaOf, broken };
}

/** applyProbeMeta: point, node and status of a file a live trace probe wrote. */
function applyProbeMeta(probe: TraceMetaInput, stream: StreamInfo, input: ReportInput): void {
  const capture = probe.format === 'pcap';
  stream.point = capture ? probe.point : undefined;
  stream.node = probe.node || undefined;
  input.point = probe.point;
  input.node = probe.node;
  input.status = probe.status;
  if (capture && probe.watchedTraffic) stream.watchedTraffic = true;
}

function toolOfProbe(probe: TraceMetaInput): Tool {
  return probe.format;
}

function isEventFormat(f: InputFormat): boolean {
  return f === 'tcpdump' || f === 'pcap' || f === 'pcapng' || f === 'monitor' || f === 'pwru' || f === 'iptables' || f === 'hubble';
}

function toolOf(f: InputFormat): string {
  switch (f) {
    case 'pcap':
    case 'pcapng':
      return 'pcap';
    case 'endpoint-list':
    case 'endpoint-json':
    case 'cep-json':
    case 'cep-table':
      return 'endpoint';
    case 'status-text':
    case 'status-json':
      return 'status';
    case 'lb-state':
      return 'lb-state';
    case 'policy-get':
    case 'k8s-policy':
      return 'policy';
    default:
      return f;
  }
}

async function readEvents(
  source: InputSource,
  format: InputFormat,
  stream: StreamInfo,
  input: ReportInput,
  acc: FlowAccumulator,
  knowledge: Knowledge,
  warnings: string[],
  links: LinkCapture[],
): Promise<void> {
  const samples: { line: number; text: string; reason: string }[] = [];
  const lxcPoint = stream.point ? parsePoint(stream.point) : undefined;
  // Captures on a pod's link say whose it is (inferOwners reads them once every input is read).
  const clues = onPodLink(lxcPoint) ? new OwnerClues() : undefined;
  if (clues) {
    const pod = lxcPoint?.kind === 'pod' ? { namespace: lxcPoint.namespace!, name: lxcPoint.pod! } : undefined;
    links.push({ name: source.name, node: stream.node, pod, iface: pod ? undefined : lxcPoint!.iface, clues });
  }
  if (lxcPoint?.kind === 'host' && lxcPoint.iface?.startsWith('lxc') && lxcPoint.node) knowledge.noteIfaceNode(lxcPoint.iface, lxcPoint.node);

  // A transcript without one point of its own may hold several captures, each section naming its
  // interface (`listening on lxc...`, a `kubectl exec POD -- tcpdump` prompt): each is a link
  // capture like a file of its own.
  const sectionClues = clues ? undefined : new Map<string, OwnerClues | undefined>();
  const sectionClue = (iface: string): OwnerClues | undefined => {
    if (sectionClues!.has(iface)) return sectionClues!.get(iface);
    const at: PointRef | undefined = iface.includes(':') ? parsePoint(iface) : { kind: 'host', iface };
    let made: OwnerClues | undefined;
    if (sectionClues!.size < 64 && onPodLink(at)) {
      made = new OwnerClues();
      const pod = at?.kind === 'pod' ? { namespace: at.namespace!, name: at.pod! } : undefined;
      links.push({ name: source.name, node: stream.node, pod, iface: pod ? undefined : at!.iface, clues: made });
    }
    sectionClues!.set(iface, made);
    return made;
  };

  const emit = (e: ProbeEvent) => {
    acc.add(stream, e);
    if (clues && (e.tool === 'tcpdump' || e.tool === 'pcap')) clues.add(e.packet);
    else if (sectionClues && e.tool === 'tcpdump' && e.iface) sectionClue(e.iface)?.add(e.packet);
    if (e.tool === 'monitor' && e.obsPoint === 'to-endpoint' && e.endpoint !== undefined && e.iface?.startsWith('lxc')) knowledge.noteEndpointIface(e.endpoint, e.iface);
    if (e.tool === 'hubble') noteHubblePods(e, knowledge);
  };

  try {
    if (format === 'pcap' || format === 'pcapng') {
      const dec = createPcapStream();
      for await (const chunk of source.chunks()) {
        for (const r of dec.push(chunk)) {
          if (r.kind === 'meta') continue; // file and interface headers are not records
          input.lines++;
          if (r.kind === 'event') {
            input.understood++;
            emit(r.event);
          } else if (r.kind === 'error' || r.kind === 'unparsed') {
            input.notUnderstood++;
            if (samples.length < SAMPLES_KEPT) samples.push({ line: input.lines, text: '', reason: r.reason });
          }
        }
      }
      const end = dec.end();
      if (end.error) input.status = input.understood > 0 ? `partial: ${end.error}` : `failed: ${end.error}`;
    } else {
      const parser = streamParserFor(format);
      await feedLines(source, parser, input, samples, emit, format === 'hubble' ? (note) => noteHubbleGap(note, input.name, warnings) : undefined);
    }
  } catch (err) {
    input.status = `failed: ${source.name} could not be read to the end: ${(err as Error).message}`;
  }
  acc.endStream(stream);
  if (samples.length) input.notUnderstoodSamples = samples;
}

/** Hubble said it missed flows (a relay without some nodes, lost events): what it did not show was not watched. */
function noteHubbleGap(note: string, name: string, warnings: string[]): void {
  if (!/nodes are unavailable|lost \d+ events|lost events|Error ".*" on \d+ nodes/.test(note)) return;
  const line = `${name}: Hubble did not see everything: ${note}; a flow missing from its output may have gone unobserved there`;
  if (warnings.length < 64 && !warnings.includes(line)) warnings.push(line);
}

/** A Hubble flow names its pods with their addresses; an endpoint with an id is local to the node that saw the flow. */
function noteHubblePods(e: HubbleEvent, knowledge: Knowledge): void {
  for (const end of [e.src, e.dst]) {
    if (end.namespace && end.pod && end.ip) knowledge.notePod(end.namespace, end.pod, { ip: end.ip, node: end.endpointId !== undefined ? e.node : undefined });
  }
}

/** feedLines splits chunks into lines and runs them through a parser, holding the last event for amends. */
async function feedLines(
  source: InputSource,
  parser: StreamParser,
  input: ReportInput,
  samples: { line: number; text: string; reason: string }[],
  emit: (e: ProbeEvent) => void,
  onMeta?: (note: string) => void,
): Promise<void> {
  let ctx = parser.initial();
  let pending: ProbeEvent | undefined;
  let lineNo = 0;
  /** Takes one parse result; false when it was not understood. */
  const take = (result: ParseResult<ProbeEvent>): boolean => {
    switch (result.kind) {
      case 'event':
        if (pending) emit(pending);
        pending = result.event;
        return true;
      case 'amend':
        pending = result.event;
        return true;
      case 'unparsed':
        return false;
      case 'meta':
        if (onMeta && result.meta.note) onMeta(result.meta.note);
        return true;
      default:
        return true;
    }
  };
  const onLine = (line: string) => {
    lineNo++;
    if (line.length === 0 || (line.length < 2 && line.trim() === '')) return;
    input.lines++;
    if (line.length > MAX_LINE_CHARS) {
      input.notUnderstood++;
      if (samples.length < SAMPLES_KEPT) samples.push({ line: lineNo, text: `${line.slice(0, 200)}...`, reason: `longer than ${MAX_LINE_CHARS} characters: not parsed` });
      return;
    }
    const before = ctx;
    const { result, ctx: next } = parser.parse(line, ctx);
    ctx = next;
    if (take(result)) {
      input.understood++;
      return;
    }
    if (line.trim() === '') {
      input.lines--;
      return;
    }
    let reason = result.kind === 'unparsed' ? result.reason : '';
    // Records a pasted transcript joined on one line are read one by one: the line counts as
    // understood when every record in it is.
    const pieces = parser.split?.(line);
    if (pieces && pieces.length > 1) {
      ctx = before;
      let all = true;
      for (const piece of pieces) {
        const read = parser.parse(piece, ctx);
        ctx = read.ctx;
        if (!take(read.result) && all) {
          all = false;
          reason = read.result.kind === 'unparsed' ? `one of ${pieces.length} records joined on the line: ${read.result.reason}` : reason;
        }
      }
      if (all) {
        input.understood++;
        return;
      }
    }
    input.notUnderstood++;
    if (samples.length < SAMPLES_KEPT) samples.push({ line: lineNo, text: line.length > 200 ? `${line.slice(0, 200)}...` : line, reason });
  };
  // A provenance header above the output (`# source: ...` to `# ---`) is no line of the tool's.
  const header = new CommentHeader();
  const headed = (line: string) => {
    header.push(line, onLine);
    if (header.lines && lineNo === 0) lineNo = header.lines;
  };
  const splitter = new LineSplitter(MAX_LINE_CHARS);
  for await (const chunk of source.chunks()) splitter.push(chunk, header.decided ? onLine : headed);
  splitter.end(header.decided ? onLine : headed);
  header.end(onLine);
  if (pending) emit(pending);
}

async function readData(
  source: InputSource,
  format: InputFormat,
  stream: StreamInfo,
  input: ReportInput,
  place: CommandPlace | undefined,
  knowledge: Knowledge,
  warnings: string[],
  defaultNode: string | undefined,
  statuses: StatusInput[],
  lbStates: NonNullable<ReportContext['lbStates']>,
  notePolicies: (rules: PolicyRuleFact[]) => void,
): Promise<void> {
  const parts: Uint8Array[] = [];
  let size = 0;
  for await (const chunk of source.chunks()) {
    size += chunk.length;
    if (size > DATA_MAX_BYTES) {
      input.status = `failed: ${source.name} is larger than ${DATA_MAX_BYTES >> 20} MiB for ${format} data`;
      return;
    }
    parts.push(chunk);
  }
  const text = blankCommentHeader(new TextDecoder().decode(concat(parts, size)));
  const result = format === 'k8s-policy' ? k8sPolicyInput(text) : parseDataInput(format, text);
  input.lines = result.lines;
  input.understood = result.understood;
  input.notUnderstood = result.unparsed.length;
  if (result.unparsed.length) input.notUnderstoodSamples = result.unparsed.slice(0, SAMPLES_KEPT);
  if (result.error) input.status = `failed: ${result.error}`;
  const node = place?.node ?? stream.node ?? defaultNode;
  if (result.status) statuses.push({ name: source.name, node, status: result.status });
  if (result.lbState) lbStates.push({ name: source.name, node, state: result.lbState });
  if (result.policy) notePolicies(result.policy.rules);
  if (result.endpoints?.length) knowledge.addEndpoints(result.endpoints, format === 'cep-json' || format === 'cep-table' ? undefined : node);
  if (result.ethtool && place?.pod) {
    const link = result.ethtool.links.find((l) => l.ifindex === result.ethtool!.peerIfindex);
    if (link) {
      knowledge.notePod(place.pod.namespace, place.pod.name, { lxc: link.name, ifindex: link.ifindex });
      if (node && !place.pod) knowledge.noteIfaceNode(link.name, node);
    }
  }
  if (result.warning) warnings.push(`${source.name}: ${result.warning}`);
}

function concat(parts: Uint8Array[], size: number): Uint8Array {
  if (parts.length === 1) return parts[0];
  const out = new Uint8Array(size);
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

function headLines(head: Uint8Array): string[] {
  const text = new TextDecoder('utf-8', { fatal: false }).decode(head);
  const lines = text.split('\n', HEAD_LINES + 1);
  // The last line may be cut by the head's end; a first line longer than the head is still read for its start.
  if (head.length >= HEAD_BYTES && lines.length > 1) lines.pop();
  return lines.slice(0, HEAD_LINES).map((l) => l.replace(/\r$/, ''));
}

function countLines(lines: string[]): number {
  return lines.filter((l) => l.trim() !== '').length;
}

function baseName(p: string): string {
  const i = p.lastIndexOf('/');
  return i >= 0 ? p.slice(i + 1) : p;
}

function dedupe(sources: InputSource[]): InputSource[] {
  const seen = new Set<string>();
  return sources.filter((s) => (seen.has(s.name) ? false : (seen.add(s.name), true)));
}
