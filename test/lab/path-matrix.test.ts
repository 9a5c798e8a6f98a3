/**
 * The whole path of a ping, for every host routing mode x tunnel x same/cross node, from a real
 * `kubectl datapath trace` against the lab with Cilium's defaults (monitor aggregation medium,
 * datapath debug off). The real captures decide: for each direction the test asserts which real
 * tcpdump points saw the packet (a destination lxc that stays silent is bpf_redirect_peer; one
 * that sees it is a redirect to the lxc or the stack) and what the real iptables TRACE rules saw
 * (netfilter ran only where the stack routed), then the plugin's path, whole (toEqual).
 */
import type { HopReport } from '../../src/core/model/report.js';
import { cli, useApiLab, type Lab } from './api-lab.js';
import { describeAsRoot } from './require-root.js';

type Mode = 'bpf' | 'legacy';
type Tunnel = 'disabled' | 'vxlan';
type Dir = 'request' | 'reply';

interface Case {
  dst: 'cni-6vf5d' | 'cni-x7k2m';
  /** The path per direction. */
  path: Record<Dir, string[]>;
  /** Which lxcs (by pod) saw each direction: the real evidence that separates the paths. */
  lxcs: Record<Dir, string[]>;
  /** Whether the node's netfilter traced the ping (iptables TRACE lines > 0). */
  netfilter: boolean;
}

const CASES: Record<Mode, Record<Tunnel, Case[]>> = {
  bpf: {
    disabled: [
      { dst: 'cni-6vf5d', path: { request: ['redirect-peer'], reply: ['redirect-peer'] }, lxcs: { request: ['same'], reply: ['cni-6vf5d'] }, netfilter: false },
      // The reply leaves bpf2 by bpf_redirect_neigh as the request left bpf1.
      { dst: 'cni-x7k2m', path: { request: ['redirect-neigh', 'native-routing', 'redirect-peer'], reply: ['redirect-neigh', 'native-routing', 'redirect-peer'] }, lxcs: { request: ['same'], reply: ['cni-x7k2m'] }, netfilter: false },
    ],
    vxlan: [
      { dst: 'cni-6vf5d', path: { request: ['redirect-peer'], reply: ['redirect-peer'] }, lxcs: { request: ['same'], reply: ['cni-6vf5d'] }, netfilter: false },
      { dst: 'cni-x7k2m', path: { request: ['overlay', 'redirect-peer'], reply: ['overlay', 'redirect-peer'] }, lxcs: { request: ['same'], reply: ['cni-x7k2m'] }, netfilter: false },
    ],
  },
  legacy: {
    disabled: [
      { dst: 'cni-6vf5d', path: { request: ['redirect'], reply: ['redirect'] }, lxcs: { request: ['same', 'cni-6vf5d'], reply: ['same', 'cni-6vf5d'] }, netfilter: false },
      // The request is routed by bpf2's stack too (TRACE fires there, its lxc sees it).
      { dst: 'cni-x7k2m', path: { request: ['host-stack', 'native-routing', 'host-stack'], reply: ['host-stack', 'native-routing', 'host-stack'] }, lxcs: { request: ['same', 'cni-x7k2m'], reply: ['same', 'cni-x7k2m'] }, netfilter: true },
    ],
    vxlan: [
      { dst: 'cni-6vf5d', path: { request: ['redirect'], reply: ['redirect'] }, lxcs: { request: ['same', 'cni-6vf5d'], reply: ['same', 'cni-6vf5d'] }, netfilter: false },
      // bpf_overlay redirects the request to cni-x7k2m's lxc as it does the reply to same's.
      { dst: 'cni-x7k2m', path: { request: ['overlay', 'redirect'], reply: ['overlay', 'redirect'] }, lxcs: { request: ['same', 'cni-x7k2m'], reply: ['same', 'cni-x7k2m'] }, netfilter: false },
    ],
  },
};

function icmpFlow(report: HopReport, dir: Dir) {
  const f = report.flows.find((x) => x.protocol === 'icmp' && x.direction === dir);
  if (!f) throw new Error(`no ${dir} flow: ${report.flows.map((x) => `${x.src} > ${x.dst}`).join(', ')}`);
  return f;
}

/** The real capture points (tcpdump) that saw a flow, sorted. */
function capturedAt(report: HopReport, dir: Dir): string[] {
  return icmpFlow(report, dir).seenAt.filter((p) => p.startsWith('pod:') || p.startsWith('host:')).sort();
}

function expectedCaptures(l: Lab, c: Case, dir: Dir, tunnel: Tunnel): string[] {
  const lxc = (pod: string) => `host:${l.state.pods.find((p) => p.name === pod)!.node}/${l.state.pods.find((p) => p.name === pod)!.lxc!.name}`;
  const cross = c.dst === 'cni-x7k2m';
  const wire = cross ? ['host:bpf1/ens33', 'host:bpf2/ens33', ...(tunnel === 'vxlan' ? ['host:bpf1/cilium_vxlan', 'host:bpf2/cilium_vxlan'] : [])] : [];
  return ['pod:default/same/eth0', `pod:default/${c.dst}/eth0`, ...c.lxcs[dir].map(lxc), ...wire].sort();
}

for (const mode of ['bpf', 'legacy'] as Mode[]) {
  for (const tunnel of ['disabled', 'vxlan'] as Tunnel[]) {
    describeAsRoot(`whole path: ${mode} host routing, tunnel ${tunnel}, aggregation medium, debug off`, () => {
      const lab = useApiLab(tunnel, { mode, monitorAggregation: 'medium' });
      const reports = new Map<string, HopReport>();
      const traced = async (dst: string): Promise<HopReport> => {
        if (!reports.has(dst)) {
          const r = await cli(['trace', 'same', dst, '--kubeconfig', lab().kubeconfig, '-o', 'json', '--count', '1', '--probes', 'tcpdump,monitor,pwru,iptables']);
          expect(r.code).toBe(0);
          reports.set(dst, JSON.parse(r.out) as HopReport);
        }
        return reports.get(dst)!;
      };
      for (const c of CASES[mode][tunnel]) {
        const kind = c.dst === 'cni-x7k2m' ? 'cross node' : 'same node';
        it(`${kind}: the real captures and netfilter TRACE show the datapath, every packet delivered`, async () => {
          const report = await traced(c.dst);
          for (const dir of ['request', 'reply'] as Dir[]) {
            expect({ dir, at: capturedAt(report, dir), verdict: icmpFlow(report, dir).verdict }).toEqual({ dir, at: expectedCaptures(lab(), c, dir, tunnel), verdict: 'delivered' });
          }
          const traces = report.inputs.filter((i) => i.point.startsWith('iptables:'));
          expect(traces.map((i) => i.status)).toEqual(traces.map(() => 'ok'));
          expect(traces.map((i) => (i.understood ?? 0) > 0)).toEqual(traces.map(() => c.netfilter));
          // Cilium's defaults: no DEBUG evidence could exist (datapath debug off).
          expect(report.flows.flatMap((f) => f.packets.flatMap((p) => p.hops)).some((h) => h.tool === 'monitor' && /DEBUG/.test(h.detail))).toBe(false);
        }, 120_000);
        for (const dir of ['request', 'reply'] as Dir[]) {
          const name = `${kind}: the ${dir}'s whole path is ${c.path[dir].join(' -> ')}`;
          const body = async () => {
            expect(icmpFlow(await traced(c.dst), dir).path).toEqual(c.path[dir]);
          };
          it(name, body, 120_000);
        }
      }
    });
  }
}
