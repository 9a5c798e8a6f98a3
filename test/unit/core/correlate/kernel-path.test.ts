import { pwruParser } from '../../../../src/core/parse/pwru.js';
import type { PwruEvent } from '../../../../src/core/model/event.js';
import { readKernelPath, type KernelStep } from '../../../../src/core/correlate/kernel-path.js';
import { readFixture } from '../../../helpers/fixtures.js';
import { runParser } from '../../../helpers/run-parser.js';

/** The steps of each skb of a pwru fixture, in order, as the accumulator keeps them. */
function stepsBySkb(path: string): Map<string, KernelStep[]> {
  const { body } = readFixture(path);
  const { results } = runParser(pwruParser, body);
  const out = new Map<string, KernelStep[]>();
  for (const r of results) {
    if (r.kind !== 'event') continue;
    const e = r.event as PwruEvent;
    let steps = out.get(e.skb);
    if (!steps) out.set(e.skb, (steps = []));
    steps.push({ func: e.func, netns: e.netns, iface: e.iface });
  }
  return out;
}

describe('readKernelPath on real pwru output', () => {
  it('reads the seed (Cilium 1.11, BPF host routing) as a redirect into a receive that delivers locally, with no netns to tell where', () => {
    const skbs = stepsBySkb('test/fixtures/seed/pwru-v0.0.2-src-same.txt');
    expect([...skbs.keys()]).toEqual(['0xffff9afcb4519b00']);
    expect(readKernelPath(skbs.get('0xffff9afcb4519b00')!)).toEqual({
      redirect: true,
      rcvAfterRedirect: true,
      rcvNetns: undefined,
      localDeliverAfterRedirectRcv: true,
      transmitAfterRedirect: false,
      redirectDevice: undefined,
      tunnelXmitAfterRedirect: false,
      forward: false,
      routedLookup: false,
      neighAfterRedirect: false,
      tunnel: false,
      localDeliver: true,
      netfilterAfterRcv: false,
      drop: false,
      keyFuncs: ['__ip_local_out', 'ip_output', 'dev_queue_xmit', '__dev_forward_skb', 'netif_rx', 'tcf_classify_ingress', 'skb_do_redirect', 'ip_rcv', 'ip_local_deliver'],
      summary: '__ip_local_out -> ip_output -> dev_queue_xmit -> __dev_forward_skb -> netif_rx -> tcf_classify_ingress -> skb_do_redirect -> ip_rcv -> ip_local_deliver (no ip_forward)',
    });
  });
});

describe('readKernelPath on the lab pwru (lines from real tracepoint events)', () => {
  it('bpf_redirect_peer on the receiving node: the receive after skb_do_redirect is in another netns (the pod\'s)', () => {
    const skbs = stepsBySkb('test/fixtures/lab-paths/bpf-native-cross-node/pwru-bpf2.txt');
    const peer = [...skbs.values()].map((s) => readKernelPath(s)).find((p) => p.rcvAfterRedirect);
    expect(peer && { redirect: peer.redirect, rcvAfterRedirect: peer.rcvAfterRedirect, rcvNetns: peer.rcvNetns, transmitAfterRedirect: peer.transmitAfterRedirect, forward: peer.forward }).toEqual({
      redirect: true, rcvAfterRedirect: true, rcvNetns: 'other-netns', transmitAfterRedirect: false, forward: false,
    });
  });

  it('legacy local delivery: skb_do_redirect then a transmit on the destination lxc, in the node\'s netns, no ip_forward', () => {
    const skbs = stepsBySkb('test/fixtures/lab-paths/legacy-same-node/pwru-bpf1.txt');
    const redirected = [...skbs.values()].map((s) => readKernelPath(s)).filter((p) => p.transmitAfterRedirect);
    expect(redirected.map((p) => [p.redirectDevice, p.forward, p.routedLookup, p.rcvAfterRedirect])).toEqual([
      ['lxca6b79db20db', false, false, false],
      ['lxcf23a80dace7', false, false, false],
    ]);
  });
});
