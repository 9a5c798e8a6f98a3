import { guardDelta } from '../../../../src/core/correlate/clocks.js';
import { analyzeFixtures } from './analyze-fixture.js';

/**
 * Clocks: captures of the same packets whose times differ by a whole time-zone offset are aligned,
 * with a warning naming the offset; no delta between hops of one packet is ever negative or longer
 * than one packet's way: such a delta is null, with the reason. The fixtures were captured here
 * with the real tcpdump (make-tz-captures.sh, make-syn-retransmit.sh): no public transcript shows them.
 */
const DIR = 'test/fixtures/clock-offset/';
const UTC = `${DIR}pod-eth0-utc.txt`;
const KOLKATA = `${DIR}host-lxc-kolkata.txt`;
const SYN = `${DIR}tcpdump-syn-retransmitted-same-seq.txt`;

const deltas = (report: Awaited<ReturnType<typeof analyzeFixtures>>) =>
  report.flows.map((f) => [f.srcIp, f.dstIp, f.packets.map((p) => [p.key, p.hops.map((h) => [h.point, h.deltaUs, h.deltaNote ?? null])])]);

describe('clocks', () => {
  it('two captures of the same pings, one printed in UTC and one in UTC+05:30: aligned, with a warning naming the offset', async () => {
    const report = await analyzeFixtures([KOLKATA, UTC], { node: 'node1', points: [{ point: 'pod:default/same/eth0', file: UTC }] });
    expect(report.warnings.filter((w) => w.includes('time-zone'))).toEqual([
      `${UTC} runs 5h30m behind ${KOLKATA}: the same packets at both are that far apart within 0.006 ms, a time-zone offset, not a delay; its times were aligned to ${KOLKATA}'s for the deltas`,
    ]);
    expect(deltas(report)).toEqual([
      ['10.0.1.135', '10.0.1.1', [
        ['icmp id 22639 seq 1', [['pod:default/same/eth0', 0, null], ['host:node1/lxc0a1b2c3d4e', 3, null]]],
        ['icmp id 22639 seq 2', [['pod:default/same/eth0', 0, null], ['host:node1/lxc0a1b2c3d4e', 6, null]]],
      ]],
      // Neither end is known to be the pod here: the one clock orders the reply's hops (the lxc saw it first).
      ['10.0.1.1', '10.0.1.135', [
        ['icmp id 22639 seq 1', [['host:node1/lxc0a1b2c3d4e', 0, null], ['pod:default/same/eth0', 1, null]]],
        ['icmp id 22639 seq 2', [['host:node1/lxc0a1b2c3d4e', 0, null], ['pod:default/same/eth0', 1, null]]],
      ]],
    ]);
  });

  it('a retransmitted SYN keeps its identity: the seconds between its copies are no delta of one packet', async () => {
    const report = await analyzeFixtures([SYN], { node: 'node1' });
    const late = (s: string) => `${s} s after the first hop on this clock: too long for one packet's way (another packet with the same identity, e.g. a retransmission, or clocks that disagree), so no delta is shown`;
    const at = 'host:node1/lxc5e6f7a8b9c0d';
    expect(deltas(report)).toEqual([
      ['10.0.2.10', '10.0.2.1', [['tcp [S] seq 3070241167', [[at, 0, null], [at, null, late('1.025')], [at, null, late('2.049')], [at, null, late('3.073')]]]]],
    ]);
  });

  it('a negative delta (hops in path order against one clock) is never printed: null, with the reason', () => {
    expect([guardDelta(-1), guardDelta(0), guardDelta(250), guardDelta(1e6), guardDelta(1e6 + 1).deltaUs]).toEqual([
      { deltaUs: null, note: '-0.001 ms before the first hop on this clock: the clocks or the capture order disagree, so no delta is shown' },
      { deltaUs: 0 },
      { deltaUs: 250 },
      { deltaUs: 1e6 },
      null,
    ]);
  });
});
