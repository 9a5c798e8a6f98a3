import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { HopReport } from '../../src/core/model/report.js';
import { renderHtml } from '../../src/render/html.js';
import { withChromium, type BrowserPage } from '../helpers/chromium.js';
import { describeWithTools } from '../helpers/require-tools.js';
import { runMain } from '../helpers/run-main.js';

const run = (args: string[]) => runMain(args);

const SEED = 'test/fixtures/seed';
const SEED_INPUTS = [
  'tcpdump-same-eth0.txt', 'tcpdump-same-lxc.txt', 'tcpdump-cni-eth0.txt', 'tcpdump-cni-lxc.txt', 'cilium-monitor-v.txt',
  'pwru-v0.0.2-src-same.txt', 'pwru-v0.0.2-src-cni.txt', 'cilium-endpoint-list.txt', 'ethtool-same-eth0.txt', 'ethtool-cni-eth0.txt',
].map((f) => join(SEED, f));

/** The largest report our fixtures make: every public capture, monitor and pwru transcript at once. */
function largestInputs(): string[] {
  const dir = (d: string, re: RegExp) => readdirSync(d).filter((f) => re.test(f)).map((f) => join(d, f));
  return [...dir('test/fixtures/pcap', /\.pcap(ng)?$/), ...dir('test/fixtures/cilium-monitor', /\.txt$/), ...dir('test/fixtures/pwru', /\.txt$/)];
}

describe('-o html through the CLI', () => {
  it('analyze -o html prints the page of the seed', async () => {
    const { code, out } = await run(['analyze', '-o', 'html', ...SEED_INPUTS]);
    expect(code).toBe(0);
    expect(out.startsWith('<!DOCTYPE html>\n<html lang="en">')).toBe(true);
    expect(out.match(/<section class="flow /g)).toHaveLength(6);
  }, 60_000);

  it('grows with the flows, not faster than the JSON, on the largest report the fixtures make', async () => {
    const { out: json } = await run(['analyze', '-o', 'json', ...largestInputs()]);
    const report = JSON.parse(json) as HopReport;
    const hops = report.flows.reduce((n, f) => n + (f.flowHops?.length ?? 0) + f.packets.reduce((m, p) => m + p.hops.length, 0), 0);
    // 123 flows and 245 hops when this was written (it grows with the fixtures): far more than one trace makes.
    expect(report.flows.length).toBeGreaterThan(80);
    expect(hops).toBeGreaterThan(150);
    const bytes = Buffer.byteLength(renderHtml(report, { color: false }));
    // The page grows with the flows, not faster than the JSON: about 4.3 KB a flow, 1.7 times the JSON.
    expect(bytes / report.flows.length).toBeLessThan(5_000);
    process.stdout.write(`largest report: ${report.flows.length} flows, ${hops} hops, json ${Buffer.byteLength(json)} bytes, html ${bytes} bytes\n`);
    expect(bytes / Buffer.byteLength(json)).toBeLessThan(2);
  }, 60_000);
});

/** What the page's DOM says about each flow's diagram, as laid out by the browser. */
interface DrawnFlow {
  id: string;
  lanes: { point: string; cls: string; left: number; right: number; texts: string[] }[];
  marks: { hop: string; cls: string; x: number; width: number; point: string; tool: string; texts: string[]; fill: string }[];
}

const READ_DIAGRAMS = `(() => [...document.querySelectorAll('section.flow')].map((sec) => ({
  id: sec.id,
  lanes: [...sec.querySelectorAll('g.lane')].map((g) => {
    const r = g.querySelector('rect.lane-bg').getBoundingClientRect();
    return { point: g.getAttribute('data-point'), cls: g.getAttribute('class'), left: r.left, right: r.right, texts: [...g.querySelectorAll('text')].map((t) => t.textContent) };
  }),
  marks: [...sec.querySelectorAll('g.hop')].map((g) => {
    const use = g.querySelector('use');
    const r = use.getBoundingClientRect();
    const row = document.getElementById(g.getAttribute('data-hop'));
    return { hop: g.getAttribute('data-hop'), cls: g.getAttribute('class'), x: r.left + r.width / 2, width: r.width, point: row.cells[3].textContent,
      tool: row.cells[4].textContent, texts: [...g.querySelectorAll('text')].map((t) => t.textContent), fill: getComputedStyle(use).fill };
  }),
})))()`;

/** Screenshots go to HTML_SCREENSHOT_DIR when set (to look at them), else to a temporary directory. */
const shots = process.env.HTML_SCREENSHOT_DIR ?? mkdtempSync(join(tmpdir(), 'html-shots-'));

async function openPage(page: BrowserPage, html: string, name: string): Promise<string> {
  const dir = mkdtempSync(join(tmpdir(), 'html-page-'));
  const file = join(dir, `${name}.html`);
  writeFileSync(file, html);
  const url = pathToFileURL(resolve(file)).href;
  await page.open(url);
  return url;
}

/** Chromium starts in seconds, but the machine's CPUs are shared. */
const BROWSER_TIMEOUT_MS = 180_000;

describeWithTools('the html report in headless Chromium, network off', ['chromium'], () => {
  mkdirSync(shots, { recursive: true });

  it('draws the seed: lanes, marks in their lanes, styles and script allowed, nothing requested, no console error', async () => {
    const { out: html } = await run(['analyze', '-o', 'html', ...SEED_INPUTS]);
    await withChromium(async (page) => {
      const url = await openPage(page, html, 'seed');
      const flows = await page.evaluate<DrawnFlow[]>(READ_DIAGRAMS);
      expect(flows.map((f) => f.id)).toEqual(['f0', 'f1', 'f2', 'f3', 'f4', 'f5']);
      const req = flows[0];
      expect(req.lanes.map((l) => [l.point, l.cls])).toEqual([
        ['pod:default/same/eth0', 'lane seen'],
        ['host:bpf1/lxcda6f5295b4b7', 'lane seen'],
        ['cilium:bpf1/2836', 'lane seen'],
        ['iptables:bpf1', 'lane not-observed'],
        ['kernel:bpf1', 'lane seen'],
        ['cilium:bpf1/3663', 'lane seen'],
        ['host:bpf1/lxcf9d0a91de5fb', 'lane not-seen'],
        ['pod:default/cni-6vf5d/eth0', 'lane seen'],
      ]);
      expect(req.marks.map((m) => [m.tool, m.cls, m.texts])).toEqual([
        ['tcpdump', 'hop tcpdump by-packet', ['tcpdump', '+0µs']],
        ['tcpdump', 'hop tcpdump by-packet', ['tcpdump', '+4µs']],
        ['pwru', 'hop pwru by-flow', ['pwru', 'own clock']],
        ['tcpdump', 'hop tcpdump by-packet', ['tcpdump', '+4µs']],
        ['monitor', 'hop monitor by-flow', ['monitor', 'untimed']],
        ['monitor', 'hop monitor by-packet', ['monitor', 'untimed']],
      ]);
      for (const flow of flows) {
        for (const mark of flow.marks) {
          // The shape was found (a <use> of a missing symbol has no size) and stands inside its point's lane.
          expect(mark.width).toBeGreaterThan(10);
          const lane = flow.lanes.find((l) => l.point === mark.point)!;
          expect([mark.hop, mark.x > lane.left && mark.x < lane.right]).toEqual([mark.hop, true]);
        }
      }
      // The inline style applied (its hash is in the policy): a packet mark has its tool's colour,
      // a mark matched by flow only is hollow.
      expect(req.marks[0].fill).toBe('rgb(0, 114, 178)');
      expect(req.marks[5].fill).toBe('rgb(201, 138, 0)');
      expect(req.marks[4].fill).toBe('rgb(255, 255, 255)');
      // The inline script ran: a click shows the hop's words under the diagram, Enter too.
      const shown = await page.evaluate<string[]>(`(() => {
        const out = [];
        document.querySelector('[data-hop="f0-p0-h2"]').dispatchEvent(new MouseEvent('click', { bubbles: true }));
        out.push(document.querySelector('#f0 .hop-detail').innerText);
        const mark = document.querySelector('[data-hop="f0-p1-h1"]');
        mark.focus();
        mark.dispatchEvent(new KeyboardEvent('keydown', { key: 'Enter', bubbles: true }));
        out.push(document.querySelector('#f0 .hop-detail').innerText);
        const first = document.querySelector('[data-hop="f0-p0-h0"]');
        first.dispatchEvent(new MouseEvent('mouseover', { bubbles: true }));
        out.push(document.querySelector('#f0 .hop-detail').innerText);
        first.dispatchEvent(new MouseEvent('mouseout', { bubbles: true }));
        out.push(document.querySelector('#f0 .hop-detail').innerText);
        return out;
      })()`);
      expect(shown[0]).toContain('pointkernel:bpf1');
      expect(shown[0]).toContain('what the tool said__ip_local_out -> ip_output -> dev_queue_xmit');
      expect(shown[0]).toContain('skb=0xffff9afcb4519b00');
      expect(shown[1]).toContain('what the tool saidCT new; to-endpoint 3663, identity 31009->37483, state new');
      // Pointing at a mark shows it; leaving it brings back the one kept by Enter.
      expect(shown[2]).toContain('pointpod:default/same/eth0');
      expect(shown[2]).toContain('what the tool saidICMP echo request id 20480 seq 0');
      expect(shown[3]).toBe(shown[1]);
      writeFileSync(join(shots, 'report-seed.png'), await page.screenshot());
      await page.colorScheme('dark');
      expect(await page.evaluate<string>('getComputedStyle(document.body).backgroundColor')).toBe('rgb(13, 17, 23)');
      writeFileSync(join(shots, 'report-seed-dark.png'), await page.screenshot());
      expect(page.log.requests.filter((r) => r !== url)).toEqual([]);
      expect(page.log.problems).toEqual([]);
      expect(page.log.dialogs).toEqual([]);
    });
  }, BROWSER_TIMEOUT_MS);

  it('marks the drop point of a cross-node flow, and draws the largest report without a console error', async () => {
    const like = readFileSync('test/fixtures/report/seed-like-report.json', 'utf8');
    const { out: json } = await run(['analyze', '-o', 'json', ...largestInputs()]);
    await withChromium(async (page) => {
      const url = await openPage(page, renderHtml(JSON.parse(like) as HopReport, { color: false }), 'seed-like');
      const flows = await page.evaluate<DrawnFlow[]>(READ_DIAGRAMS);
      expect(flows[3].lanes.filter((l) => l.cls.includes('drop')).map((l) => [l.point, l.texts])).toEqual([['cilium:bpf2/1456', ['cilium bpf2', 'endpoint 1456', '✗ dropped here', 'Policy denied']]]);
      expect(flows[3].marks.filter((m) => m.cls.includes('dropped')).map((m) => [m.point, m.texts])).toEqual([['cilium:bpf2/1456', ['monitor', 'dropped']]]);
      writeFileSync(join(shots, 'report-cross-node.png'), await page.screenshot());
      const bigUrl = await openPage(page, renderHtml(JSON.parse(json) as HopReport, { color: false }), 'largest');
      const big = await page.evaluate<DrawnFlow[]>(READ_DIAGRAMS);
      expect(big.length).toBeGreaterThan(80);
      for (const flow of big) for (const mark of flow.marks) expect(mark.width).toBeGreaterThan(10);
      expect(page.log.requests.filter((r) => r !== url && r !== bigUrl)).toEqual([]);
      expect(page.log.problems).toEqual([]);
    });
  }, BROWSER_TIMEOUT_MS);

  it('runs nothing of a hostile report and shows its strings as text', async () => {
    const report = JSON.parse(readFileSync('test/fixtures/report/seed-like-report.json', 'utf8')) as HopReport;
    const evil = '<script>alert(1)</script><img src=x onerror=alert(2)>"\'><svg onload=alert(3)>]]>\u202e';
    report.flows[0].src = evil;
    report.flows[0].conclusions = [evil];
    report.flows[0].packets[0].hops[0].detail = evil;
    report.flows[0].packets[0].hops[0].point = evil;
    report.warnings = [evil];
    await withChromium(async (page) => {
      const url = await openPage(page, renderHtml(report, { color: false }), 'hostile');
      const seen = await page.evaluate<{ scripts: number; imgs: number; text: string }>(
        `({ scripts: document.scripts.length, imgs: document.images.length, text: document.body.innerText })`);
      expect(seen.scripts).toBe(1);
      expect(seen.imgs).toBe(0);
      expect(seen.text).toContain('<script>alert(1)</script><img src=x onerror=alert(2)>"\'><svg onload=alert(3)>]]>\\u202e');
      expect(page.log.dialogs).toEqual([]);
      expect(page.log.requests.filter((r) => r !== url)).toEqual([]);
      expect(page.log.problems).toEqual([]);
    });
  });
});

afterAll(() => {
  if (!process.env.HTML_SCREENSHOT_DIR) rmSync(shots, { recursive: true, force: true });
});
