import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { analyzeFixtures, conclusionOf } from './analyze-fixture.js';

/**
 * A live trace's captures that watched all of its traffic (ready before it was sent, stopped after
 * the quiet window: run.json `watchedTraffic`) are silent where a packet did not pass, also when
 * they saw no packet at all. Lab set (real pcap; monitor and pwru emulated from the kernel's
 * events): a CiliumNetworkPolicy selects cni-6vf5d for ingress and allows nothing, so with BPF host
 * routing the ping dies in the destination's policy step at the source lxc's tc ingress
 * (bpf_lxc.c), before bpf_redirect_peer: the destination's lxc and pod captures ran and saw nothing.
 * Without the flag a capture is known to be watching only between its first and last packet, and
 * one with no packet not at all: those points are then 'not observed', and where the drop stopped
 * the packet is not known.
 */
const SET = 'test/fixtures/lab-paths/bpf-same-node-policy-drop';

async function request(dir: string) {
  const report = await analyzeFixtures([dir]);
  const flows = report.flows.filter((f) => f.protocol === 'icmp');
  return flows.map((f) => {
    const { evidence: _evidence, ...conclusion } = conclusionOf(f);
    return { ...conclusion, outcome: f.outcome, stoppedBetween: [f.dropExplanation?.lastSeenAt, f.dropExplanation?.firstMissedAt] };
  });
}

const common = {
  flow: 'icmp 10.0.1.135 (default/same) -> 10.0.1.180 (default/cni-6vf5d) request',
  path: ['unknown'],
  verdict: 'dropped',
  dropReason: 'Policy denied',
  dropPoint: 'cilium:bpf1/3663',
  seenAt: ['pod:default/same/eth0', 'host:bpf1/lxc9405b84e01c', 'kernel:bpf1', 'cilium:bpf1/3663'],
  outcome: 'dropped',
};
const denied = 'Denied by policy at the ingress of default/cni-6vf5d: Policy denied (code 133); default deny: selected by CiliumNetworkPolicy default/cni-ingress-default-deny and no rule allows identity 31009 (k8s:run=same) on ICMP.';

describe('captures that watched all of a live trace', () => {
  it('a policy drop before the redirect: the destination lxc and pod were watching and did not see it', async () => {
    expect(await request(SET)).toEqual([
      {
        ...common,
        notSeenAt: ['host:bpf1/lxcc1d3437e5e2', 'pod:default/cni-6vf5d/eth0'],
        notObserved: [],
        conclusions: ['Dropped at cilium:bpf1/3663: Policy denied.', 'Path unknown: the request went no further than cilium:bpf1/3663, where it was dropped.', denied],
        stoppedBetween: ['host:bpf1/lxc9405b84e01c', 'host:bpf1/lxcc1d3437e5e2'],
      },
    ]);
  });

  it('the same captures without the flag: captures with no packet say nothing, so where the drop stopped the packet is not known', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'watched-traffic-'));
    try {
      cpSync(SET, dir, { recursive: true });
      const run = join(dir, 'run.json');
      writeFileSync(run, readFileSync(run, 'utf8').replace(/,\s*"watchedTraffic": true/g, ''));
      expect(await request(dir)).toEqual([
        {
          ...common,
          notSeenAt: [],
          notObserved: ['host:bpf1/lxcc1d3437e5e2', 'pod:default/cni-6vf5d/eth0'],
          conclusions: ['Dropped at cilium:bpf1/3663: Policy denied.', 'Path unknown: the request went no further than cilium:bpf1/3663, where it was dropped.', denied],
          stoppedBetween: ['host:bpf1/lxc9405b84e01c', null],
        },
      ]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
