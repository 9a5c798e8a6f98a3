import { readFileSync } from 'node:fs';
import type { HopReport } from '../../../src/core/model/report.js';
import { renderHtml } from '../../../src/render/html.js';
import { escapeHtml } from '../../../src/render/html-escape.js';
import { expectGolden } from '../../helpers/golden.js';
import { decode, flowSection, groups, readMarkup, texts, titleOf } from './html-markup.js';
import { goldenPath, loadSeedLikeReport } from './seed-like-report.js';

/** The real seed report, as analyze writes it (test/golden/analyze-seed.test.ts keeps it current). */
function seedReport(): HopReport {
  return JSON.parse(readFileSync('test/golden/analyze/seed.json', 'utf8')) as HopReport;
}

const render = (report: HopReport) => renderHtml(report, { color: false });

function lanes(html: string, flow: number): [string, string, string[]][] {
  return groups(html, flow, 'lane').map((g) => [g.attrs['data-point'], g.attrs.class, texts(g.inner)]);
}

function marks(html: string, flow: number): [string, string, string[]][] {
  return groups(html, flow, 'hop').map((g) => [g.attrs['data-hop'], g.attrs.class, texts(g.inner)]);
}

describe('renderHtml', () => {
  it('matches the golden page of the seed-like report', () => {
    expectGolden(render(loadSeedLikeReport()), goldenPath('html.txt'));
  });

  it('draws the seed request as lanes in path order, the silent lxc hatched and iptables unobserved', () => {
    expect(lanes(render(seedReport()), 0)).toEqual([
      ['pod:default/same/eth0', 'lane seen', ['pod default/same', 'eth0']],
      ['host:bpf1/lxcda6f5295b4b7', 'lane seen', ['host bpf1', 'lxcda6f5295b4b7']],
      ['cilium:bpf1/2836', 'lane seen', ['cilium bpf1', 'endpoint 2836']],
      ['iptables:bpf1', 'lane not-observed', ['iptables', 'bpf1', '┈ unobserved']],
      ['kernel:bpf1', 'lane seen', ['kernel', 'bpf1']],
      ['cilium:bpf1/3663', 'lane seen', ['cilium bpf1', 'endpoint 3663']],
      ['host:bpf1/lxcf9d0a91de5fb', 'lane not-seen', ['host bpf1', 'lxcf9d0a91de5fb', '▨ not seen']],
      ['pod:default/cni-6vf5d/eth0', 'lane seen', ['pod cni-6vf5d', 'eth0']],
    ]);
  });

  it('puts each hop of the seed request on its packet row, with tool, time and how it was matched', () => {
    const html = render(seedReport());
    expect(marks(html, 0)).toEqual([
      ['f0-p0-h0', 'hop tcpdump by-packet', ['tcpdump', '+0µs']],
      ['f0-p0-h1', 'hop tcpdump by-packet', ['tcpdump', '+4µs']],
      ['f0-p0-h2', 'hop pwru by-flow', ['pwru', 'own clock']],
      ['f0-p0-h3', 'hop tcpdump by-packet', ['tcpdump', '+4µs']],
      ['f0-p1-h0', 'hop monitor by-flow', ['monitor', 'untimed']],
      ['f0-p1-h1', 'hop monitor by-packet', ['monitor', 'untimed']],
    ]);
    // Each mark stands in its point's lane (x) and its packet's row (y).
    const section = flowSection(html, 0);
    const laneX = new Map([...section.matchAll(/data-point="([^"]*)"><title>[^<]*<\/title><rect class="lane-bg" x="(\d+)" [^>]*width="(\d+)"/g)].map((m) => [m[1], Number(m[2]) + Number(m[3]) / 2]));
    const at = groups(html, 0, 'hop').map((g) => {
      const m = /<use href="#k-\w+" x="([\d.]+)" y="([\d.]+)" width="(\d+)"/.exec(g.inner)!;
      return [Number(m[1]) + Number(m[3]) / 2, Number(m[2])];
    });
    const points = ['pod:default/same/eth0', 'host:bpf1/lxcda6f5295b4b7', 'kernel:bpf1', 'pod:default/cni-6vf5d/eth0', 'cilium:bpf1/2836', 'cilium:bpf1/3663'];
    expect(at.map(([x]) => x)).toEqual(points.map((p) => laneX.get(p)));
    expect(at.map(([, y]) => y)).toEqual([...Array(4).fill(at[0][1]), at[4][1], at[4][1]]);
    expect(at[4][1]).toBeGreaterThan(at[0][1]);
    // One arrow per hop after the first of each packet, dashed where the hop was matched by flow.
    expect([...section.matchAll(/<path class="arrow (by-\w+)"/g)].map((m) => m[1])).toEqual(['by-packet', 'by-flow', 'by-packet', 'by-packet']);
  });

  it('crosses the drop point of a dropped flow, on its lane and on the hop that said so', () => {
    const html = render(loadSeedLikeReport());
    const dropLanes = lanes(html, 3).filter(([, cls]) => cls.includes('drop'));
    expect(dropLanes).toEqual([['cilium:bpf2/1456', 'lane seen drop', ['cilium bpf2', 'endpoint 1456', '✗ dropped here', 'Policy denied']]]);
    const hops = groups(html, 3, 'hop');
    expect(hops.filter((g) => g.inner.includes('class="drop-x"')).map((g) => [g.attrs['data-hop'], g.attrs.class, texts(g.inner)])).toEqual([
      ['f3-p0-h5', 'hop monitor by-flow dropped', ['monitor', 'dropped']],
    ]);
    expect(titleOf(hops[5].inner)).toBe('monitor at cilium:bpf2/1456, matched by flow and order only\ntime: none\nthe flow was dropped here');
    expect(flowSection(html, 3)).toContain('<b>verdict:</b> dropped at cilium:bpf2/1456 (Policy denied)');
    // A delivered flow has no cross anywhere.
    expect(flowSection(html, 2)).not.toContain('drop-x');
  });

  it('groups the lanes of a cross-node flow under their nodes and counts the packets beyond the detail limit', () => {
    const html = render(loadSeedLikeReport());
    expect(groups(html, 2, 'node-band').map((g) => texts(g.inner))).toEqual([['node bpf1'], ['node bpf2 · own clock']]);
    expect(texts(flowSection(html, 2))).toContain('… and 3 more packets of this flow, counted only (--max-packets)');
  });

  it('gives the conclusions, the evidence and every hop as text beside the diagram', () => {
    const report = loadSeedLikeReport();
    const section = decode(flowSection(render(report), 3));
    for (const c of report.flows[3].conclusions) expect(section).toContain(`<li>${c}</li>`);
    for (const ev of report.flows[3].evidence) for (const b of ev.because) expect(section).toContain(`<li>${b}</li>`);
    const rows = [...flowSection(render(report), 3).matchAll(/<tr id="(f3-p\d+-h\d+)">/g)].map((m) => m[1]);
    expect(rows).toEqual(report.flows[3].packets.flatMap((p, i) => p.hops.map((_, h) => `f3-p${i}-h${h}`)));
    expect(section).toContain('<b>Watched, saw nothing:</b> <code>pod:default/locked-db/eth0</code>');
  });

  it('draws a flow no packet of which was seen as its lanes and one line saying so', () => {
    const report = loadSeedLikeReport();
    report.flows = [{ ...report.flows[3], packets: [], seenAt: [], verdict: 'lost', morePackets: 0 }];
    const html = render(report);
    expect(marks(html, 0)).toEqual([]);
    expect(lanes(html, 0).map(([p, cls]) => [p, cls])).toEqual([
      ['cilium:bpf2/1456', 'lane not-observed'],
      ['kernel:bpf2', 'lane not-observed'],
      ['pod:default/locked-db/eth0', 'lane not-seen'],
    ]);
    expect(texts(flowSection(html, 0))).toContain('no packet of this flow was seen');
  });

  it('says so when the report has no flow', () => {
    const report = loadSeedLikeReport();
    report.flows = [];
    expect(render(report)).toContain('<p class="v-unknown">No flows in this report.</p>');
  });

  it('shows the ends, the tunnel and the translations of a flow, each translation tagged on its lane', () => {
    const report = loadSeedLikeReport();
    const flow = report.flows[2];
    flow.source = { ip: '10.0.1.135', port: 41234, namespace: 'default', pod: 'same', node: 'bpf1', identity: 31009, endpointId: 2836, interface: 'lxcda6f5295b4b7' };
    flow.destination = { ip: '10.96.0.10', port: 8080, external: false };
    flow.tunnel = { protocol: 'vxlan', vni: 2, outer: '192.168.2.61 > 192.168.2.62', evidence: 'host:bpf1/eth0 (tcpdump)' };
    flow.translations = [{ point: 'cilium:bpf1/2836', kind: 'dnat', from: '10.96.0.10:8080', to: '10.0.2.44:8080', evidence: 'cilium monitor: service 10.96.0.10:8080' }];
    const html = render(report);
    const section = decode(flowSection(html, 2));
    expect(section).toContain('<b>from:</b> default/same 10.0.1.135:41234 on bpf1, identity 31009, endpoint 2836, lxc lxcda6f5295b4b7 \u00a0 <b>to:</b> 10.96.0.10:8080');
    expect(section).toContain('<b>tunnel:</b> vxlan · VNI 2 · 192.168.2.61 > 192.168.2.62 <span class="muted">(host:bpf1/eth0 (tcpdump))</span>');
    expect(section).toContain('<li><code>cilium:bpf1/2836</code>: DNAT 10.96.0.10:8080 → 10.0.2.44:8080 (cilium monitor: service 10.96.0.10:8080)</li>');
    const natLane = groups(html, 2, 'lane').find((g) => g.attrs['data-point'] === 'cilium:bpf1/2836')!;
    expect(texts(natLane.inner)).toEqual(['cilium bpf1', 'endpoint 2836', '⇄ DNAT']);
    expect(titleOf(natLane.inner)).toBe('cilium:bpf1/2836\nsaw this flow\ntranslated: DNAT 10.96.0.10:8080 → 10.0.2.44:8080 (cilium monitor: service 10.96.0.10:8080)');
    // Without them, none of it appears.
    expect(render(loadSeedLikeReport())).not.toMatch(/<b>(from|to|tunnel):|<h3>Translations|class="lane-nat"/);
  });

  it('gives a translation at the socket LB a lane of its own, first, since it happens in connect()', () => {
    const report = loadSeedLikeReport();
    report.flows[0].translations = [{ point: 'socket-lb', kind: 'dnat', from: '10.96.0.10:53', to: '10.0.1.180:53', evidence: 'cilium monitor trace-sock' }];
    const drawn = lanes(render(report), 0);
    expect(drawn[0]).toEqual(['socket-lb', 'lane seen', ['socket-lb', '⇄ DNAT']]);
    expect(drawn.slice(1).map(([p]) => p)).toEqual(lanes(render(loadSeedLikeReport()), 0).map(([p]) => p));
  });

  it('draws the hops no packet took on a row of their own, without arrows, at most two a lane and a count', () => {
    const report = loadSeedLikeReport();
    const flow = report.flows[0];
    const record = (n: number) => ({ point: 'cilium:bpf1/2836', tool: 'monitor', time: null, deltaUs: null, detail: `record ${n}`, match: 'flow' as const });
    // kernel:bpf9 is none of the flow's points yet: a hop there gets a lane of its own.
    flow.flowHops = [record(1), { ...record(2), point: 'kernel:bpf9', tool: 'pwru' }, record(3), record(4), record(5)];
    flow.moreFlowHops = 7;
    const html = render(report);
    const rowOf = (hop: string) => hop.replace(/-h\d+$/, '');
    expect(marks(html, 0).filter(([hop]) => rowOf(hop) === 'f0-x').map(([hop, cls]) => [hop, cls])).toEqual([
      ['f0-x-h0', 'hop monitor by-flow'],
      ['f0-x-h1', 'hop pwru by-flow'],
      ['f0-x-h2', 'hop monitor by-flow'],
    ]);
    const section = flowSection(html, 0);
    expect(lanes(html, 0).filter(([p]) => p === 'kernel:bpf9').map(([p, cls]) => [p, cls])).toEqual([['kernel:bpf9', 'lane seen']]);
    expect(section).toContain('>+2</text>');
    // Marks side by side share one label: how many, which tool, their time.
    expect(texts(section).filter((t) => /× |^untimed$/.test(t))).toEqual(expect.arrayContaining(['4× monitor', 'untimed']));
    expect(texts(groups(html, 0, 'hop').find((g) => g.attrs['data-hop'] === 'f0-x-h1')!.inner)).toEqual(['pwru', 'untimed']);
    expect(texts(groups(html, 0, 'hop').find((g) => g.attrs['data-hop'] === 'f0-x-h0')!.inner)).toEqual([]);
    expect(texts(groups(html, 0, 'row-label')[1].inner)).toEqual(['by flow, no packet', '5 hops (+7 counted)']);
    // Arrows only on the packet's row: 4 hops, 3 arrows.
    expect(section.match(/<path class="arrow /g)).toHaveLength(report.flows[0].packets[0].hops.length - 1);
    expect([...section.matchAll(/<tr id="(f0-x-h\d+)"><td>([^<]*)<\/td>/g)].map((m) => [m[1], m[2]])).toEqual([
      ['f0-x-h0', 'by flow, no packet'], ['f0-x-h1', ''], ['f0-x-h2', ''], ['f0-x-h3', ''], ['f0-x-h4', ''],
    ]);
    expect(section).toContain('<summary>Every hop as text (1 packet, 7 more flow hops, 5 flow hops)</summary>');
  });

  it('says what became of each packet when the report does, and crosses a packet where it says it was dropped', () => {
    const report = loadSeedLikeReport();
    type WithOutcome = { outcome?: string; outcomeReason?: string | null; dropPoint?: string | null };
    const [syn, ack] = report.flows[2].packets as (typeof report.flows[2]['packets'][0] & WithOutcome)[];
    Object.assign(syn, { outcome: 'dropped', outcomeReason: 'Policy denied', dropPoint: 'host:bpf1/eth0' });
    Object.assign(ack, { outcome: 'delivered', outcomeReason: null });
    // The dropped flow's one packet says it was delivered: no cross on it, whatever the flow says.
    Object.assign(report.flows[3].packets[0] as WithOutcome, { outcome: 'delivered' });
    Object.assign(report.flows[2] as WithOutcome & object, { outcome: 'dropped', outcomeReason: '1 of 2 dropped at host:bpf1/eth0 (Policy denied)' });
    const html = render(report);
    expect(groups(html, 2, 'row-label').slice(0, 2).map((g) => texts(g.inner))).toEqual([
      ['tcp S seq 3007214423', '✗ dropped: Policy denied'],
      ['tcp . ack 1 seq 1', '✓ delivered'],
    ]);
    expect(titleOf(groups(html, 2, 'row-label')[0].inner)).toBe('packet tcp S seq 3007214423\n9 hops\n✗ dropped: Policy denied\ndropped at host:bpf1/eth0');
    expect(groups(html, 2, 'hop').filter((g) => g.inner.includes('drop-x')).map((g) => g.attrs['data-hop'])).toEqual(['f2-p0-h4']);
    expect(report.flows[2].packets[0].hops[4].point).toBe('host:bpf1/eth0');
    expect(groups(html, 3, 'hop').filter((g) => g.inner.includes('drop-x'))).toEqual([]);
    expect(decode(flowSection(html, 2))).toContain('<b>outcome:</b> <span class="badge v-dropped">✗ dropped</span> 1 of 2 dropped at host:bpf1/eth0 (Policy denied)');
  });

  it('says why a hop has no delta, and what of an endpoint was inferred from captures', () => {
    const report = loadSeedLikeReport();
    Object.assign(report.flows[0].packets[0].hops[1], { deltaUs: null, deltaNote: 'negative (-3µs): the two captures disagree on time' });
    report.endpoints[0].inferred = ['interface lxcda6f5295b4b7: the capture on it shows 10.0.1.135 in every packet'];
    const html = render(report);
    const hop = groups(html, 0, 'hop')[1];
    expect(texts(hop.inner)).toEqual(['tcpdump', 'no delta']);
    expect(titleOf(hop.inner)).toBe('tcpdump at host:bpf1/lxcda6f5295b4b7\ntime: 09:06:46.016127\nno delta: negative (-3µs): the two captures disagree on time');
    expect(html).toContain('<th>inferred from captures</th>');
    expect(html).toContain('<td class="muted">interface lxcda6f5295b4b7: the capture on it shows 10.0.1.135 in every packet</td>');
    expect(render(loadSeedLikeReport())).not.toContain('inferred from captures');
  });

  it('says what the status inputs state about the cluster in the header', () => {
    const report = loadSeedLikeReport();
    report.cluster = { ciliumVersion: '1.16.3', routingMode: 'tunnel', tunnelProtocol: 'vxlan', hostRouting: 'BPF', kubeProxyReplacement: 'True', sources: ['status-bpf1.txt on bpf1'] };
    expect(decode(render(report))).toContain(
      '<p class="cluster"><b>Cluster:</b> Cilium 1.16.3 · routing tunnel (vxlan) · host routing BPF · kube-proxy replacement True <span class="muted">(from status-bpf1.txt on bpf1)</span></p>',
    );
    expect(render(loadSeedLikeReport())).not.toContain('<b>Cluster:</b>');
  });

  it('shows report fields it does not know yet in words', () => {
    const report = loadSeedLikeReport() as HopReport & Record<string, unknown>;
    report.capture = { name: 'lab', when: '2026-12-07' };
    const flow = report.flows[2] as unknown as Record<string, unknown>;
    flow.novel = { a: 1, b: ['x', 'y'] };
    (report.flows[2].packets[0] as unknown as Record<string, unknown>).mark = 'blue';
    const html = render(report);
    expect(decode(html)).toContain('<dt>capture</dt><dd>name=lab, when=2026-12-07</dd>');
    const section = decode(flowSection(html, 2));
    expect(section).toContain('<h3>More about this flow</h3>\n<dl class="kv"><dt>novel</dt><dd>a=1, b=(x; y)</dd></dl>');
    expect(texts(groups(html, 2, 'row-label')[0].inner)).toEqual(['tcp S seq 3007214423', 'mark=blue']);
    expect(render(loadSeedLikeReport())).not.toMatch(/<b>outcome:|<dt>capture|More about this flow/);
  });

  it('is one self-contained page: inline style and script allowed by hash, nothing to fetch', () => {
    const html = render(seedReport());
    const { tags } = readMarkup(html);
    const csp = tags.find((t) => t.name === 'meta' && t.attrs['http-equiv'] === 'Content-Security-Policy')!.attrs.content;
    expect(csp).toMatch(/^default-src 'none'; style-src 'sha256-[A-Za-z0-9+/=]+'; script-src 'sha256-[A-Za-z0-9+/=]+'; base-uri 'none'; form-action 'none'$/);
    // No attribute can fetch: the only references are fragment links inside the page.
    for (const t of tags) {
      for (const name of ['src', 'srcset', 'action', 'formaction', 'poster', 'background']) expect(t.attrs[name]).toBeUndefined();
      for (const name of ['href', 'xlink:href']) if (t.attrs[name] !== undefined) expect(t.attrs[name]).toMatch(/^#[\w-]+$/);
    }
    expect(tags.filter((t) => ['link', 'img', 'iframe', 'object', 'embed', 'image', 'foreignObject'].includes(t.name))).toEqual([]);
    expect(html).not.toMatch(/url\((?!#)|@import|https?:\/\//);
  });

  it('keeps the seed page small', () => {
    // The seed (2 ICMP + 4 ARP flows, 10 inputs) is a typical same-node trace.
    expect(Buffer.byteLength(render(seedReport()))).toBeLessThan(80_000);
  });
});

/** Strings a remote tool or a user file could put anywhere in a report. */
const HOSTILE = [
  '<script>alert(1)</script>',
  '"><img src=x onerror=alert(2)>',
  "' onmouseover='alert(3)",
  ']]><script>alert(4)</script><![CDATA[',
  '<!-- --><svg onload=alert(5)>',
  '&lt;b&gt;&amp;',
  'ctl\x1b[31m\x07\r\n\x00\x7f\x9b end',
  'bidi \u202egnp.exe\u202c \u2066x\u2069 \u200f',
  '</style></title></text></svg><a href="https://evil.example/">x</a>',
];

function hostileReport(): HopReport {
  const report = loadSeedLikeReport() as HopReport & Record<string, unknown>;
  let n = 0;
  const next = () => HOSTILE[n++ % HOSTILE.length];
  const spoil = (value: unknown): unknown => {
    if (typeof value === 'string') return `${value} ${next()}`;
    if (Array.isArray(value)) return value.map(spoil);
    if (value !== null && typeof value === 'object') {
      return Object.fromEntries(Object.entries(value).map(([k, v]) => [k === 'facts' ? k : k, spoil(v)]));
    }
    return value;
  };
  const spoiled = spoil(report) as HopReport & Record<string, unknown>;
  // Keys too: facts keys and fields this renderer does not know.
  spoiled.flows[0].packets[0].hops[0].facts = { [HOSTILE[0]]: HOSTILE[1], ok: HOSTILE[3] };
  spoiled[HOSTILE[4]] = { [HOSTILE[1]]: HOSTILE[0] };
  const flow = spoiled.flows[0] as unknown as Record<string, unknown>;
  flow.translations = [{ point: spoiled.flows[0].seenAt[1], [HOSTILE[2]]: HOSTILE[3] }];
  flow.outcome = HOSTILE[1];
  flow[HOSTILE[3]] = HOSTILE[8];
  // Numbers too, should a report ever carry a string where a number belongs.
  const asNumber = (s: string) => s as unknown as number;
  spoiled.flows[2].morePackets = asNumber(HOSTILE[1]);
  spoiled.flows[2].moreFlowHops = asNumber(HOSTILE[0]);
  spoiled.flows[2].flowHops = [spoiled.flows[2].packets[0].hops[0]];
  spoiled.inputs[0].understood = asNumber(HOSTILE[4]);
  spoiled.endpoints[0].ifindex = asNumber(HOSTILE[8]);
  spoiled.flows[0].packets[0].hops[0].deltaUs = asNumber(HOSTILE[0]);
  return spoiled;
}

describe('renderHtml with hostile strings in every field', () => {
  const html = render(hostileReport());

  it('writes no markup of theirs: every < opens one of our tags, with our attributes', () => {
    const { tags } = readMarkup(html);
    const names = new Set(tags.map((t) => t.name));
    expect([...names].sort()).toEqual(
      ['a', 'b', 'body', 'code', 'dd', 'details', 'div', 'dl', 'dt', 'g', 'h1', 'h2', 'h3', 'head', 'header', 'html', 'li', 'line', 'marker', 'meta', 'nav', 'p',
        'path', 'pattern', 'rect', 'script', 'section', 'span', 'style', 'summary', 'svg', 'symbol', 'table', 'tbody', 'td', 'text', 'th', 'thead', 'title', 'tr',
        'ul', 'use', 'circle', 'defs'].sort(),
    );
    const attrs = new Set(tags.flatMap((t) => Object.keys(t.attrs)));
    for (const a of attrs) expect(a).not.toMatch(/^on|^src$|^style$/);
    expect(tags.filter((t) => t.name === 'script')).toHaveLength(1);
    expect(tags.filter((t) => t.name === 'a').map((t) => t.attrs.href).every((h) => /^#f\d+$/.test(h))).toBe(true);
  });

  it('leaves no control or bidi character, and no ]]> or comment opener, in the page', () => {
    expect(html).not.toMatch(/[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/);
    expect(html).not.toContain(']]>');
    expect(html).not.toContain('<!--');
    expect(html).not.toContain('<![CDATA[');
  });

  it('shows their strings as text a reader can see', () => {
    const { text } = readMarkup(html);
    const shown = decode(text);
    expect(shown).toContain('<script>alert(1)</script>');
    expect(shown).toContain('"><img src=x onerror=alert(2)>');
    expect(shown).toContain(']]><script>alert(4)</script><![CDATA[');
    expect(shown).toContain('ctl\\x1b[31m\\x07\\r\\n\\x00\\x7f\\x9b end');
    expect(shown).toContain('bidi \\u202egnp.exe\\u202c \\u2066x\\u2069 \\u200f');
  });

  it('escapes for text and quoted attributes alike', () => {
    expect(escapeHtml(`<a href="x" title='y'>&amp;</a>`)).toBe('&lt;a href=&quot;x&quot; title=&#39;y&#39;&gt;&amp;amp;&lt;/a&gt;');
    expect(escapeHtml('a\u202eb\x1bc')).toBe('a\\u202eb\\x1bc');
    expect(escapeHtml(42)).toBe('42');
  });
});
