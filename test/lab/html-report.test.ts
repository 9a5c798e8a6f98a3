import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { HopReport } from '../../src/core/model/report.js';
import { withChromium } from '../helpers/chromium.js';
import { describeWithTools } from '../helpers/require-tools.js';
import { cli, useApiLab } from './api-lab.js';
import { describeAsRoot } from './require-root.js';

/** What the page's DOM says about one flow's diagram, as the browser laid it out. */
interface Drawn {
  bands: string[];
  lanes: { point: string; cls: string; left: number; right: number }[];
  rows: { hop: string; point: string; x: number; width: number }[][];
}

const READ_FLOW = (id: string) => `(() => {
  const sec = document.getElementById(${JSON.stringify(id)});
  const lanes = [...sec.querySelectorAll('g.lane')].map((g) => {
    const r = g.querySelector('rect.lane-bg').getBoundingClientRect();
    return { point: g.getAttribute('data-point'), cls: g.getAttribute('class'), left: r.left, right: r.right };
  });
  const rows = {};
  for (const g of sec.querySelectorAll('g.hop')) {
    const id = g.getAttribute('data-hop');
    const row = id.replace(/-h\\d+$/, '');
    const r = g.querySelector('use').getBoundingClientRect();
    (rows[row] = rows[row] || []).push({ hop: id, point: document.getElementById(id).cells[3].textContent, x: r.left + r.width / 2, width: r.width });
  }
  return { bands: [...sec.querySelectorAll('g.node-band text')].map((t) => t.textContent), lanes, rows: Object.values(rows) };
})()`;

/** Screenshots go to HTML_SCREENSHOT_DIR when set (to look at them), else nowhere. */
const shots = process.env.HTML_SCREENSHOT_DIR;

describeWithTools('the html report of a live cross-node trace, in headless Chromium', ['chromium'], () => {
  describeAsRoot('trace -o html --save against the lab: VXLAN tunnel between nodes', () => {
    const lab = useApiLab('vxlan');

    it('prints the page and saves the same one; the request crosses both nodes lane by lane, nothing requested', async () => {
      const l = lab();
      const save = join(mkdtempSync(join(dirname(l.dir), 'html-save-')), 'run');
      const r = await cli(['trace', 'same', 'web', '--kubeconfig', l.kubeconfig, '-o', 'html', '--save', save, '--probes', 'tcpdump,monitor', '--count', '2']);
      expect(r.code).toBe(0);
      const file = join(save, 'report.html');
      expect(readFileSync(file, 'utf8')).toBe(r.out);
      expect(r.err).toContain(`wrote ${file}: the report as a page to open in a browser`);
      // analyze DIR passes over the page: the same inputs as the live run, all ok.
      const again = await cli(['analyze', save, '-o', 'json']);
      expect(again.code).toBe(0);
      expect((JSON.parse(again.out) as HopReport).inputs.every((i) => !i.name.endsWith('report.html'))).toBe(true);

      await withChromium(async (page) => {
        const url = pathToFileURL(file).href;
        await page.open(url);
        const ids = await page.evaluate<string[]>(`[...document.querySelectorAll('section.flow')].map((s) => s.id + ' ' + s.querySelector('h2').textContent)`);
        const request = ids.find((t) => /ICMP .*\(default\/same\) → .*\(default\/web\) request/.test(t));
        expect(request).toBeDefined();
        const drawn = await page.evaluate<Drawn>(READ_FLOW(request!.split(' ')[0]));
        expect(drawn.bands).toEqual(['node bpf1', 'node bpf2 · own clock']);
        const points = drawn.lanes.map((l) => l.point);
        for (const p of ['pod:default/same/eth0', 'host:bpf1/cilium_vxlan', 'host:bpf1/ens33', 'host:bpf2/ens33', 'host:bpf2/cilium_vxlan', 'pod:default/web/eth0']) {
          expect(points).toContain(p);
        }
        // Path order: the source pod first, the underlay of bpf1 before bpf2's, the destination pod last.
        expect(points[0]).toBe('pod:default/same/eth0');
        expect(points.indexOf('host:bpf1/ens33')).toBeLessThan(points.indexOf('host:bpf2/ens33'));
        expect(points[points.length - 1]).toBe('pod:default/web/eth0');
        // Every mark stands in its lane; the first packet's tcpdump hops go left to right along the lanes.
        for (const row of drawn.rows) {
          for (const m of row) {
            const lane = drawn.lanes.find((l) => l.point === m.point)!;
            expect([m.hop, m.width > 10 && m.x > lane.left && m.x < lane.right]).toEqual([m.hop, true]);
          }
        }
        const first = drawn.rows[0];
        expect(first.map((m) => m.point)).toEqual(expect.arrayContaining(['pod:default/same/eth0', 'host:bpf1/ens33', 'host:bpf2/ens33', 'pod:default/web/eth0']));
        const captured = first.filter((m) => m.point.startsWith('pod:') || m.point.startsWith('host:'));
        expect(captured.map((m) => m.x)).toEqual([...captured.map((m) => m.x)].sort((a, b) => a - b));
        if (shots) {
          mkdirSync(shots, { recursive: true });
          writeFileSync(join(shots, 'report-lab-cross-node.png'), await page.screenshot());
        }
        expect(page.log.requests.filter((u) => u !== url)).toEqual([]);
        expect(page.log.problems).toEqual([]);
      });
      rmSync(dirname(save), { recursive: true, force: true });
    }, 180_000);
  });
});
