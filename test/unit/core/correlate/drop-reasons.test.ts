import { reportOfFixtures } from '../../../helpers/fixture-report.js';

describe('a monitor drop keeps its numbers and names them where Cilium gives them a meaning', () => {
  it('cilium#26128 (1.15.7): `drop (FIB lookup failed, 8)` is DROP_NO_FIB 169 with bpf_fib_lookup result 8, FRAG_NEEDED', () => {
    const report = reportOfFixtures('test/fixtures', [{ file: 'cilium-monitor/gh-cilium-issue26128-v1.15.7-drop-fib-lookup-failed-nodeport-wg0.txt', tool: 'monitor', node: 'n1' }], []);
    const reason = 'FIB lookup failed (code 169, extended error 8: BPF_FIB_LKUP_RET_FRAG_NEEDED: the packet is larger than the route MTU)';
    expect(report.flows.map((f) => ({ flow: `${f.protocol} ${f.srcIp} > ${f.dstIp}`, verdict: f.verdict, dropReason: f.dropReason, dropPoint: f.dropPoint, outcome: f.outcome, outcomeReason: f.outcomeReason, first: f.conclusions[0] }))).toEqual([
      {
        flow: 'tcp 172.20.24.10 > 172.20.24.11',
        verdict: 'dropped',
        dropReason: reason,
        dropPoint: 'cilium:n1',
        outcome: 'dropped',
        outcomeReason: `dropped at cilium:n1 (${reason})`,
        first: `Dropped at cilium:n1: ${reason}.`,
      },
    ]);
  });
});
