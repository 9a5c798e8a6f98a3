/**
 * The pcapng export with real words in it: a trace in the lab (real tcpdump captures in the pods
 * and on their lxc veths; cilium monitor and pwru emulated from the packets the lab's BPF datapath
 * handled) is saved with --save, `analyze DIR --pcapng` writes the file, and tshark reads it.
 */
import { execFileSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import type { HopReport } from '../../src/core/model/report.js';
import { cli, useApiLab } from './api-lab.js';
import { describeAsRoot } from './require-root.js';

function tsharkRows(file: string, fields: string[]): string[][] {
  const out = execFileSync('tshark', ['-r', file, '-T', 'fields', '-E', 'separator=|', ...fields.flatMap((f) => ['-e', f])], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  return out.split('\n').filter((l) => l !== '').map((l) => l.split('|'));
}

describeAsRoot('trace --save, then analyze --pcapng: frames with what monitor and pwru said', () => {
  // Datapath debug off (Cilium's default) and monitor aggregation none: the monitor prints a
  // `<- endpoint` and a `-> endpoint` trace record per ping, without the ICMP id and seq; each
  // goes with the ping that point saw in the same turn (counted per point, not per stream).
  const lab = useApiLab('disabled', { monitorAggregation: 'none' });

  it('writes one interface per capture point and comments each echo with its flow, monitor and pwru words', async () => {
    const l = lab();
    const save = join(dirname(l.dir), 'save-pcapng');
    const traced = await cli(['trace', 'same', 'cni-6vf5d', '--kubeconfig', l.kubeconfig, '-o', 'json', '--save', save, '--count', '2']);
    expect(traced.code).toBe(0);
    const file = join(dirname(l.dir), 'trace.pcapng');
    const analyzed = await cli(['analyze', save, '-o', 'json', '--pcapng', file]);
    expect(analyzed.code).toBe(0);
    const report = JSON.parse(analyzed.out) as HopReport;
    const captures = report.inputs.filter((i) => i.tool === 'pcap');
    expect(captures).toHaveLength(4);

    const rows = tsharkRows(file, ['frame.interface_name', 'icmp.type', 'icmp.seq', 'frame.comment']);
    const perInterface = new Map<string, number>();
    for (const [name] of rows) perInterface.set(name, (perInterface.get(name) ?? 0) + 1);
    expect([...perInterface.keys()].sort()).toEqual(captures.map((c) => c.point).sort());
    for (const c of captures) expect(perInterface.get(c.point)).toBe(c.understood);

    // Every echo request frame at the source pod names its flow, and carries the words of the
    // tools that saw that packet without capturing it.
    const requests = rows.filter(([name, type]) => name === 'pod:default/same/eth0' && type === '8');
    expect(requests.map((r) => r[2])).toEqual(['1', '2']);
    for (const [, , , comments] of requests) {
      expect(comments).toContain('datapath: ICMP 10.0.1.135 (default/same) -> 10.0.1.180 (default/cni-6vf5d), request, bpf1: delivered; path redirect-peer');
      expect(comments).toMatch(/cilium monitor at cilium:bpf1\/2836 \(matched by flow and order, not by packet\): from-endpoint, identity 31009->/);
      expect(comments).toMatch(/pwru at kernel:bpf1 \(matched by flow and order, not by packet\): __ip_local_out -> .* skb_do_redirect -> ip_rcv -> ip_local_deliver \(no ip_forward\)/);
    }
    // The `<- endpoint` and `-> endpoint` records of one ping are on that ping's frame, not split over two.
    for (const [, , , comments] of requests) {
      expect(comments).toMatch(/cilium monitor at cilium:bpf1\/3663 \(matched by flow and order, not by packet\): to-endpoint/);
    }
  }, 120_000);
});
