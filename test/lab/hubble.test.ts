/**
 * The hubble probe end to end against the lab: the real CLI runs `hubble status` and `hubble
 * observe --follow -o jsonpb` by exec in each node's agent pod, where the lab's EMULATED hubble
 * (test/lab/emulated/hubble.ts) prints flows from the same kernel datapath records as the emulated
 * monitor, with its own timestamps. The path is not proven by Hubble's lines: the report with the
 * hubble probe must conclude what the report without it concludes, and add timed Hubble hops.
 */
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { HopReport, ReportFlow, ReportHop } from '../../src/core/model/report.js';
import { cli, useApiLab } from './api-lab.js';
import { emulatedBundle } from './emulated/bundle.js';
import { describeAsRoot } from './require-root.js';

const hubbleHops = (f: ReportFlow): ReportHop[] => [...f.packets.flatMap((p) => p.hops), ...(f.flowHops ?? [])].filter((h) => h.tool === 'hubble');
const conclusion = (f: ReportFlow) => ({ flow: `${f.protocol} ${f.srcIp} -> ${f.dstIp} ${f.direction}`, path: f.path, verdict: f.verdict, dropReason: f.dropReason });

describeAsRoot('the hubble probe against the lab (native routing, BPF host routing)', () => {
  const lab = useApiLab('disabled');

  async function trace(dst: string, probes: string, traffic: string): Promise<HopReport> {
    const r = await cli(['trace', 'same', dst, '--kubeconfig', lab().kubeconfig, '-o', 'json', '--count', '1', '--traffic', traffic, '--probes', probes]);
    expect([r.code, r.code === 0 ? '' : r.err]).toEqual([0, '']);
    return JSON.parse(r.out) as HopReport;
  }

  it.each([
    ['same node, ICMP', 'cni-6vf5d', 'icmp'],
    ['cross node, ICMP', 'web', 'icmp'],
  ])('%s: the same path and verdicts with and without Hubble, and Hubble hops timed on their node\'s clock', async (_name, dst, traffic) => {
    // observe starts 1 s back (--since): a second of quiet keeps the previous trace's pings out of it.
    await new Promise((r) => setTimeout(r, 1500));
    const withHubble = await trace(dst, 'tcpdump,monitor,pwru,hubble', traffic);
    const without = await trace(dst, 'tcpdump,monitor,pwru', traffic);
    const nodes = dst === 'web' ? ['bpf1', 'bpf2'] : ['bpf1'];
    expect(withHubble.inputs.filter((i) => i.tool === 'hubble').map((i) => [i.point, i.status])).toEqual(nodes.map((n) => [`cilium:${n}`, 'ok']));
    const traced = (r: HopReport) => r.flows.filter((f) => f.protocol === traffic).map(conclusion);
    expect(traced(withHubble)).toEqual(traced(without));
    expect(traced(withHubble).map((c) => c.verdict)).toEqual(traced(withHubble).map(() => 'delivered'));

    const request = withHubble.flows.find((f) => f.direction === 'request' && f.srcIp === lab().state.pods.find((p) => p.name === 'same')!.ip)!;
    const hops = hubbleHops(request);
    expect(hops.length).toBeGreaterThan(0);
    // Every Hubble hop has its own time, on the wall clock.
    expect(hops.filter((h) => h.time === null || !/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$/.test(h.time))).toEqual([]);
    // The destination node's Hubble sees its endpoint receive it: to-endpoint at the destination's endpoint.
    const dstPod = lab().state.pods.find((p) => p.name === dst)!;
    expect(hops.map((h) => h.point)).toContain(`cilium:${dstPod.node}/${dstPod.endpointId}`);
    // Hubble shows no ICMP id: each Hubble hop joins the captured ping nearest in time on its node's clock,
    // timed against the captures of the source node; the other node's clock gives no delta.
    const [ping] = request.packets;
    const onSrcNode = ping.hops.filter((h) => h.tool === 'hubble' && h.point.startsWith('cilium:bpf1'));
    expect(onSrcNode.length).toBeGreaterThan(0);
    expect(onSrcNode.filter((h) => typeof h.deltaUs !== 'number' || Math.abs(h.deltaUs) > 100_000)).toEqual([]);
    const elsewhere = ping.hops.filter((h) => h.tool === 'hubble' && !h.point.startsWith('cilium:bpf1'));
    expect(elsewhere.map((h) => h.deltaUs)).toEqual(elsewhere.map(() => null));
  }, 180_000);

  it('with the lab\'s Hubble off, the emulated CLI fails as the real one without a socket', () => {
    const l = lab();
    const dir = mkdtempSync(join(tmpdir(), 'hubble-off-'));
    try {
      copyFileSync(join(l.dir, 'state.json'), join(dir, 'state.json'));
      const kernel = JSON.parse(readFileSync(join(l.dir, 'kernel.json'), 'utf8')) as Record<string, unknown>;
      writeFileSync(join(dir, 'kernel.json'), JSON.stringify({ ...kernel, hubble: false }));
      const r = spawnSync(process.execPath, [emulatedBundle(l.dir, 'hubble'), 'status'], { env: { ...process.env, LAB_STATE: join(dir, 'state.json'), LAB_NODE: 'bpf1' }, encoding: 'utf8' });
      expect([r.status, r.stdout]).toEqual([1, '']);
      expect(r.stderr).toMatch(/^Error: failed to connect to 'unix:\/\/\/var\/run\/cilium\/hubble\.sock': /);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
