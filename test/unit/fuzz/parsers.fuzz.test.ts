import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { detectFormat, type InputFormat } from '../../../src/core/analyze/detect.js';
import { parseDataInput, streamParserFor } from '../../../src/core/analyze/formats.js';
import { readPrompt } from '../../../src/core/analyze/prompt.js';
import { parseTraceMeta } from '../../../src/core/analyze/trace-meta.js';
import { formatTime } from '../../../src/core/correlate/build-report.js';
import { parsePoint } from '../../../src/core/points.js';
import { parseCiliumEndpointObjects, parseEndpointGetJson, parseEndpointListTable } from '../../../src/core/parse/cilium-endpoint.js';
import { splitMonitorRecords } from '../../../src/core/parse/cilium-monitor-split.js';
import { parseCiliumStatusJson, parseCiliumStatusText } from '../../../src/core/parse/cilium-status.js';
import { parseEthtoolOutput } from '../../../src/core/parse/ethtool.js';
import { parseLinkNames, parseNetnsLinks, parseRouteDev } from '../../../src/core/parse/ip-netns.js';
import { createPcapStream } from '../../../src/core/parse/pcap.js';
import { createPwruContext } from '../../../src/core/parse/pwru.js';
import type { ParseResult } from '../../../src/core/parse/result.js';
import { createTcpdumpContext } from '../../../src/core/parse/tcpdump.js';
import { splitProvenance } from '../../helpers/fixtures.js';
import { k8sPolicyInput } from '../../../src/app/k8s-objects.js';

/**
 * Parsers never throw (issue 12): any string in, a result out. Three kinds of input, because
 * random strings alone almost never reach the deep branches of a parser:
 * - any text (full Unicode, control characters, lone surrogates);
 * - real lines from test/fixtures with characters inserted, deleted or replaced, and cut anywhere;
 * - lines stitched from tokens of real lines (the grammar's words in orders no tool prints), some
 *   repeated many times (the shapes that made parsers recurse per token or scan quadratically).
 * The pathological inputs issue 12 measured are named cases at the end. fast-check prints the
 * seed and the shrunk input of a failure; FC_SEED=<n> replays a run.
 *
 * Time is not asserted here (the brief: speed is checked by `npm run bench`, which measures one
 * line of 1 MB against 1 MB of ordinary lines per format); a parser that turned quadratic again
 * would still show here as a test running for minutes on the repeated-token inputs.
 */

const FIXTURES = join(import.meta.dirname, '../../fixtures');
const RUNS = Number(process.env.FC_RUNS ?? 300);
const SEED = process.env.FC_SEED === undefined ? {} : { seed: Number(process.env.FC_SEED) };
const params = { numRuns: RUNS, ...SEED };

function fixtureLines(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(join(FIXTURES, dir)).sort()) {
    if (!name.endsWith('.txt') && !name.endsWith('.json')) continue;
    out.push(...splitProvenance(readFileSync(join(FIXTURES, dir, name), 'utf8')).body.filter((l) => l.trim() !== ''));
  }
  return out;
}

function fixtureTexts(dir: string): string[] {
  return readdirSync(join(FIXTURES, dir)).sort().filter((n) => n.endsWith('.txt')).map((n) => splitProvenance(readFileSync(join(FIXTURES, dir, n), 'utf8')).body.join('\n'));
}

const SEED_LINES = fixtureLines('seed');
const LINES = {
  tcpdump: [...fixtureLines('tcpdump'), ...SEED_LINES.filter((l) => /^\d\d:/.test(l))],
  monitor: [...fixtureLines('cilium-monitor'), ...SEED_LINES.filter((l) => l.startsWith('CPU ') || l.startsWith('-> '))],
  pwru: [...fixtureLines('pwru'), ...SEED_LINES.filter((l) => l.startsWith('0x'))],
  iptables: fixtureLines('iptables-trace'),
};

/** Any text: full Unicode with lone surrogates, plus the characters terminals and parsers care about. */
const anyText = fc.oneof(
  fc.string({ unit: 'binary', maxLength: 300 }),
  fc.string({ unit: fc.constantFrom('\r', '\t', ' ', '^', 'C', '\u0000', '\u001b', '\u202e', ':', '>', '(', ')', '[', ']', '{', '}', '"', '=', ',', '.', '0', 'x', 'f'), maxLength: 300 }),
);

/** A real line with a few characters inserted, deleted or replaced, then possibly cut. */
function mutated(lines: readonly string[]): fc.Arbitrary<string> {
  const edit = fc.tuple(fc.nat(), fc.constantFrom('insert', 'delete', 'replace'), fc.string({ unit: 'binary', minLength: 1, maxLength: 4 }));
  return fc.tuple(fc.constantFrom(...lines), fc.array(edit, { maxLength: 4 }), fc.option(fc.nat())).map(([line, edits, cut]) => {
    let s = line;
    for (const [at, kind, text] of edits) {
      const i = s.length === 0 ? 0 : at % (s.length + 1);
      s = kind === 'insert' ? s.slice(0, i) + text + s.slice(i) : kind === 'delete' ? s.slice(0, i) + s.slice(i + text.length) : s.slice(0, i) + text + s.slice(i + text.length);
    }
    return cut === null ? s : s.slice(0, cut % (s.length + 1));
  });
}

/** Lines stitched from the words of real lines, some words repeated up to a few thousand times. */
function stitched(lines: readonly string[]): fc.Arbitrary<string> {
  const words = [...new Set(lines.flatMap((l) => l.split(/(?<=[ ,:=])/)))].filter((w) => w.length > 0);
  const piece = fc.oneof(
    { weight: 5, arbitrary: fc.constantFrom(...words) },
    { weight: 1, arbitrary: fc.tuple(fc.constantFrom(...words), fc.integer({ min: 2, max: 3000 })).map(([w, n]) => w.repeat(n)) },
  );
  return fc.array(piece, { minLength: 1, maxLength: 40 }).map((ps) => ps.join(''));
}

function lineOf(lines: readonly string[]): fc.Arbitrary<string> {
  return fc.oneof(anyText, mutated(lines), stitched(lines), fc.constantFrom(...lines));
}

const KINDS = new Set<ParseResult['kind']>(['event', 'amend', 'meta', 'ignored', 'unparsed']);

/** Checks one parse result: a known kind, an event of the parser's own tool, a reason where one is due. */
function checkResult(result: ParseResult, tools: readonly string[]): void {
  expect(KINDS.has(result.kind)).toBe(true);
  if (result.kind === 'event' || result.kind === 'amend') expect(tools).toContain(result.event.tool);
  if (result.kind === 'unparsed' || result.kind === 'ignored') expect(typeof result.reason).toBe('string');
  // A time the report cannot print would fail the whole report later.
  if (result.kind === 'event' || result.kind === 'amend') {
    const time = 'time' in result.event ? result.event.time : undefined;
    if (time) expect(() => formatTime(time)).not.toThrow();
  }
}

describe('line parsers: any sequence of lines in, one result per line out, never a throw', () => {
  const streams: { format: InputFormat; tools: string[]; initial: () => unknown[] }[] = [
    { format: 'tcpdump', tools: ['tcpdump'], initial: () => [createTcpdumpContext('since-previous'), createTcpdumpContext('since-first')] },
    { format: 'monitor', tools: ['monitor'], initial: () => [streamParserFor('monitor').initial()] },
    { format: 'pwru', tools: ['pwru'], initial: () => (['current', 'relative', 'absolute', 'none'] as const).map((timestamp) => createPwruContext({ timestamp })).concat([createPwruContext()]) },
    { format: 'iptables', tools: ['iptables'], initial: () => [streamParserFor('iptables').initial()] },
  ];
  for (const s of streams) {
    it(`${s.format}: threads its context through mutated, stitched and arbitrary lines without mutating it`, () => {
      const parser = streamParserFor(s.format);
      const lines = LINES[s.format as keyof typeof LINES];
      fc.assert(
        fc.property(fc.array(lineOf(lines), { minLength: 1, maxLength: 12 }), fc.nat(), (input, which) => {
          const starts = s.initial();
          let ctx = starts[which % starts.length];
          for (const line of input) {
            const before = JSON.stringify(ctx);
            const { result, ctx: next } = parser.parse(line, ctx);
            checkResult(result, s.tools);
            // Pure: the context given is left as it was (a stream can be replayed).
            expect(JSON.stringify(ctx)).toBe(before);
            ctx = next;
          }
          for (const piece of parser.split?.(input[0]) ?? []) checkResult(parser.parse(piece, ctx).result, s.tools);
        }),
        params,
      );
    });
  }

  it('splitMonitorRecords gives back the text it was given, cut into records', () => {
    fc.assert(
      fc.property(lineOf(LINES.monitor), (line) => {
        const pieces = splitMonitorRecords(line);
        expect(pieces.length).toBeGreaterThan(0);
        expect(pieces.join(' ').length).toBeLessThanOrEqual(line.length);
      }),
      params,
    );
  });
});

describe('block parsers: any text in, a result out, never a throw', () => {
  const dataTexts = {
    endpoint: fixtureTexts('cilium-endpoint'),
    status: fixtureTexts('cilium-status'),
    ip: fixtureTexts('ip'),
    policy: [...fixtureTexts('k8s-policy'), ...fixtureTexts('cilium-policy')],
    ethtool: SEED_LINES.length ? [readFileSync(join(FIXTURES, 'seed/ethtool-same-eth0.txt'), 'utf8')] : [],
  };
  const allTexts = Object.values(dataTexts).flat();
  const allLines = allTexts.flatMap((t) => t.split('\n')).filter((l) => l.trim() !== '');
  /** Whole texts of the data fixtures, mutated line by line, or arbitrary JSON values as text. */
  const dataText = fc.oneof(
    fc.constantFrom(...allTexts),
    fc.array(lineOf(allLines), { maxLength: 30 }).map((ls) => ls.join('\n')),
    fc.tuple(fc.constantFrom(...allTexts), fc.nat(), fc.string({ unit: 'binary', maxLength: 3 })).map(([t, at, s]) => t.slice(0, at % (t.length + 1)) + s + t.slice((at % (t.length + 1)) + s.length)),
    fc.jsonValue({ maxDepth: 6 }).map((v) => JSON.stringify(v)),
    fc.jsonValue({ maxDepth: 4 }).map((v) => JSON.stringify({ kind: 'List', apiVersion: 'cilium.io/v2', items: [v], 'kube-proxy-replacement': v, routing: v, kubectlDatapathRun: v, inputs: [v] })),
    fc.jsonValue({ maxDepth: 5 }).map((v) => JSON.stringify({ kind: 'List', items: [{ kind: 'CiliumNetworkPolicy', metadata: { name: 'p', namespace: 'n' }, spec: v, specs: [v] }, { kind: 'NetworkPolicy', metadata: v, spec: { podSelector: v, ingress: [v], egress: v, policyTypes: v } }] })),
    anyText,
  );
  const formats: InputFormat[] = ['endpoint-list', 'endpoint-json', 'cep-json', 'status-text', 'status-json', 'ethtool', 'kubectl-table', 'tcpdump', 'unknown'];

  it('parseDataInput of every data format, detectFormat, and the block parsers under it', () => {
    fc.assert(
      fc.property(dataText, (text) => {
        const lines = text.split('\n');
        for (const f of formats) {
          const r = parseDataInput(f, text);
          expect(r.understood + r.unparsed.length).toBeGreaterThanOrEqual(0);
          expect(r.understood).toBeLessThanOrEqual(r.lines);
        }
        parseEndpointListTable(lines);
        parseEndpointGetJson(text);
        parseCiliumEndpointObjects(text);
        parseCiliumStatusText(lines);
        parseCiliumStatusJson(text);
        parseEthtoolOutput(lines);
        parseNetnsLinks(text);
        parseLinkNames(text);
        parseRouteDev(text);
        parseTraceMeta(text);
        const policy = k8sPolicyInput(text);
        expect(policy.understood).toBeLessThanOrEqual(policy.lines);
        detectFormat(new TextEncoder().encode(text), lines);
        for (const l of lines.slice(0, 5)) {
          readPrompt(l);
          parsePoint(l);
        }
      }),
      params,
    );
  });
});

describe('pcap/pcapng decoder: any bytes in any chunks, records out, never a throw', () => {
  const captures = readdirSync(join(FIXTURES, 'pcap')).filter((n) => /\.pcap(ng)?$/.test(n)).sort().map((n) => new Uint8Array(readFileSync(join(FIXTURES, 'pcap', n))));
  /** A real capture with bytes overwritten (headers, lengths, options, timestamps), then cut. */
  const damaged = fc
    .tuple(fc.constantFrom(...captures), fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { maxLength: 12 }), fc.option(fc.nat()))
    .map(([bytes, edits, cut]) => {
      const b = bytes.slice();
      for (const [at, v] of edits) b[at % b.length] = v;
      return cut === null ? b : b.subarray(0, cut % (b.length + 1));
    });
  const bytes = fc.oneof(damaged, fc.uint8Array({ maxLength: 400 }), fc.uint8Array({ maxLength: 200 }).map((tail) => Uint8Array.from([0x0a, 0x0d, 0x0d, 0x0a, ...tail])));

  it('decodes damaged real captures fed in random chunks; every timestamp is one the report can print', () => {
    fc.assert(
      fc.property(bytes, fc.array(fc.integer({ min: 1, max: 512 }), { minLength: 1, maxLength: 6 }), (b, sizes) => {
        const stream = createPcapStream();
        let at = 0;
        for (let i = 0; at < b.length; i++) {
          const n = sizes[i % sizes.length];
          for (const r of stream.push(b.subarray(at, at + n))) {
            expect(['event', 'meta', 'unparsed', 'error']).toContain(r.kind);
            if (r.kind === 'event' && r.event.time) expect(() => formatTime(r.event.time!)).not.toThrow();
          }
          at += n;
        }
        const end = stream.end();
        expect(end.bytes).toBeLessThanOrEqual(b.length);
      }),
      { ...params, numRuns: Math.max(50, RUNS) },
    );
  });
});

describe('the hostile inputs issue 12 measured: each gets a result', () => {
  const vxlan = '21:30:13.521574 70:79:90:59:e6:66 > 24:8a:07:55:44:6c, ethertype 802.1Q (0x8100), length 216: vlan 32, p 0, ethertype IPv4, 10.53.32.18.54198 > 10.53.32.14.4789: VXLAN, flags [I] (0x08), vni 72';
  const header = ' 10.53.32.18.54198 > 10.53.32.14.4789: VXLAN, flags [I] (0x08), vni 72';
  const cases: [string, InputFormat, string[]][] = [
    ['a line of 5,000 ^C', 'tcpdump', ['^C'.repeat(5000)]],
    ['a line with 10,000 trailing CRs', 'tcpdump', [vxlan + '\r'.repeat(10000)]],
    ['a monitor line with 10,000 trailing CRs', 'monitor', ['CPU 02: MARK 0x0 FROM 2836 DEBUG: CT verdict: New, revnat=0' + '\r'.repeat(10000)]],
    ['a VXLAN line nesting 1,400 tunnels (100 kB)', 'tcpdump', [vxlan + header.repeat(1400)]],
    ['a VXLAN header per continuation line, 2,000 lines', 'tcpdump', [vxlan, ...Array(2000).fill(header.trim())]],
    ['an IP-in-IP line nesting 10,000 times', 'tcpdump', [`21:30:13.521574 IP 1.2.3.4 > 1.2.3.5: ${'IP 1.2.3.4 > 1.2.3.5: '.repeat(10000)}ICMP echo request, id 1, seq 1, length 64`]],
    ['a pwru JSON line nested a million deep', 'pwru', [`{"skb":${'['.repeat(1_000_000)}`]],
    ['a monitor line of 100 kB joined records', 'monitor', ['CPU 02: MARK 0x0 FROM 2836 DEBUG: CT verdict: New, revnat=0 '.repeat(1700)]],
  ];
  it.each(cases)('%s', (_name, format, lines) => {
    const parser = streamParserFor(format);
    let ctx = parser.initial();
    for (const line of lines) {
      const out = parser.parse(line, ctx);
      checkResult(out.result, [format]);
      for (const piece of parser.split?.(line) ?? []) checkResult(parser.parse(piece, ctx).result, [format]);
      ctx = out.ctx;
    }
  });

  it('a line of nested tunnels past the limit is not understood, and says why', () => {
    const parser = streamParserFor('tcpdump');
    const out = parser.parse(vxlan + header.repeat(1400), parser.initial());
    expect(out.result).toEqual({ kind: 'unparsed', reason: 'after the timestamp: inner packet: inner packet: inner packet: inner packet: inner packet: inner packet: inner packet: inner packet: tunnels nested deeper than 8' });
  });

  it('echoed ^C and trailing CRs are taken off before the packet is read', () => {
    const parser = streamParserFor('tcpdump');
    const plain = parser.parse(vxlan, parser.initial()).result;
    expect(parser.parse(`${'^C'.repeat(5000)}${vxlan}${'\r'.repeat(10000)}`, parser.initial()).result).toEqual(plain);
    expect(parser.parse('^C'.repeat(5000), parser.initial()).result).toEqual({ kind: 'ignored', reason: 'interrupt (^C) echoed by the terminal' });
  });

  it.each([
    ['status JSON', 'status-json'],
    ['endpoint JSON', 'endpoint-json'],
    ['CiliumEndpoint list', 'cep-json'],
  ] as [string, InputFormat][])('%s nested a million deep is an error, not a stack overflow', (_name, format) => {
    const deep = `${'{"a":'.repeat(1_000_000)}1${'}'.repeat(1_000_000)}`;
    for (const text of [deep, `{"kube-proxy-replacement":${deep}}`, `{"kind":"List","apiVersion":"cilium.io/v2","items":[${deep}]}`]) {
      expect(() => parseDataInput(format, text)).not.toThrow();
    }
    expect(parseTraceMeta(`{"kubectlDatapathRun":${deep}}`).meta).toBeUndefined();
  });
});
