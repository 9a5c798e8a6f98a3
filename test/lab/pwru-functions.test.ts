/**
 * pwru attached only to the functions the report reads (`--pwru-functions rules`, the default)
 * concludes what pwru attached to every skb function concludes (`--pwru-functions all`), live on
 * the lab's e2e scenarios: each host routing mode x tunnel, same node and cross node, a real
 * `kubectl datapath trace` of each. The pings differ from run to run (ids, skb addresses), so
 * what is compared is each flow's conclusion: path, verdict, outcome, drop point and tunnel, and
 * that pwru's evidence is part of both. The emulated pwru honours --filter-func as real pwru does
 * (fewer functions attached: its progress bar's count; only their lines printed).
 */
import type { HopReport } from '../../src/core/model/report.js';
import { PWRU_RULE_FUNCTIONS } from '../../src/probes/pwru.js';
import { cli, useApiLab } from './api-lab.js';
import { describeAsRoot } from './require-root.js';

function conclusions(report: HopReport) {
  return report.flows
    .filter((f) => f.protocol === 'icmp')
    .map((f) => ({ flow: `${f.src} > ${f.dst} ${f.direction}`, path: f.path, verdict: f.verdict, outcome: f.outcome, dropPoint: f.dropPoint ?? null, tunnel: f.tunnel ?? null }))
    .sort((a, b) => a.flow.localeCompare(b.flow));
}

for (const mode of ['bpf', 'legacy'] as const) {
  for (const tunnel of ['disabled', 'vxlan'] as const) {
    describeAsRoot(`pwru on the report's functions only: ${mode} host routing, tunnel ${tunnel}`, () => {
      const lab = useApiLab(tunnel, { mode, monitorAggregation: 'medium' });
      for (const dst of ['cni-6vf5d', 'cni-x7k2m']) {
        it(`${dst === 'cni-x7k2m' ? 'cross node' : 'same node'}: the same conclusions as with every function, pwru's evidence in both`, async () => {
          const traced = async (functions: 'rules' | 'all') => {
            const r = await cli(['trace', 'same', dst, '--kubeconfig', lab().kubeconfig, '-o', 'json', '--count', '1', '--probes', 'tcpdump,monitor,pwru', '--pwru-functions', functions]);
            expect(r.code).toBe(0);
            return JSON.parse(r.out) as HopReport;
          };
          const all = await traced('all');
          const rules = await traced('rules');
          expect(conclusions(rules)).toEqual(conclusions(all));
          expect(conclusions(all).map((c) => c.verdict)).toEqual(['delivered', 'delivered']);
          for (const report of [all, rules]) {
            expect(report.flows.filter((f) => f.protocol === 'icmp').every((f) => f.evidence.some((e) => e.because.some((b) => b.startsWith('pwru '))))).toBe(true);
          }
          // Only the rule functions' lines with the filter: no other function among its hops.
          const funcs = rules.flows.flatMap((f) => f.packets.flatMap((p) => p.hops.filter((h) => h.tool === 'pwru').flatMap((h) => h.detail.split(' -> ').map((w) => w.replace(/[ (].*$/, '')))));
          expect(funcs.length).toBeGreaterThan(0);
          expect(funcs.filter((f) => !PWRU_RULE_FUNCTIONS.includes(f))).toEqual([]);
        }, 180_000);
      }
    });
  }
}
