import { analyzeFixtures, conclusionOf } from './analyze-fixture.js';

/**
 * Tests that kill mutants of src/core/correlate/classify.ts that survived `npm run mutate`, and,
 * below, why each other survivor is left alive. Each test asserts a whole conclusion from a real or
 * lab-captured fixture; the rule it pins is named in the test.
 */

async function requestOf(paths: string[]) {
  const report = await analyzeFixtures(paths);
  return report.flows.filter((f) => f.protocol === 'icmp' && f.direction === 'request').map(conclusionOf);
}

describe('classify: the pwru rules on one tool alone', () => {
  it("the seed's pwru alone (no netns, no endpoint data): a redirect into a receive that delivers locally is not redirect-peer when the local address is not known to be a pod's", async () => {
    // Local delivery after an ingress redirect proves bpf_redirect_peer only when it delivers the
    // destination pod's address; the node's own addresses are delivered locally in its netns too.
    expect(await requestOf(['test/fixtures/seed/pwru-v0.0.2-src-same.txt'])).toEqual([{
      flow: 'icmp 10.0.1.135 -> 10.0.1.180 request',
      path: ['unknown'],
      verdict: 'unknown',
      dropReason: null,
      dropPoint: null,
      seenAt: ['kernel:bpf1'],
      notSeenAt: [],
      notObserved: [],
      conclusions: [
        "Not enough evidence to say whether the request was delivered: nothing watched 10.0.1.180's side, or it stayed silent.",
        "Path unknown: no probe saw enough of the request to tell how it travelled; capture the host side of both pods' veths and run pwru on the node.",
      ],
      evidence: [],
    }]);
  });

  it("the lab's legacy same-node pwru alone (the destination's lxc unknown): skb_do_redirect then a transmit, no ip_forward, is bpf_redirect() to the destination", async () => {
    // With no endpoint data, the transmit device cannot be checked against the destination's lxc:
    // the redirect still says bpf_redirect() (the device check only rejects a known other device).
    expect(await requestOf(['test/fixtures/lab-paths/legacy-same-node/pwru-bpf1.txt'])).toEqual([{
      flow: 'icmp 10.0.1.135 -> 10.0.1.180 request',
      path: ['redirect'],
      verdict: 'delivered',
      dropReason: null,
      dropPoint: null,
      seenAt: ['kernel:?'],
      notSeenAt: [],
      notObserved: [],
      conclusions: [
        'Delivered: the request reached 10.0.1.180 (the reply was seen (kernel:?)).',
        "Path redirect: the request went from 10.0.1.135's host-side veth's tc ingress to 10.0.1.180's host-side veth by bpf_redirect() and from there into 10.0.1.180, never routed by the node's network stack (no ip_forward, no netfilter FORWARD): a tc BPF program redirected it.",
      ],
      evidence: [
        { claim: 'redirect', because: ['pwru on ? (skb 0xffff888238cffe00): skb_do_redirect then a transmit on lxca6b79db20db with no ip_forward: bpf_redirect() to the destination lxc'] },
        { claim: 'delivered', because: ['the reply was seen (kernel:?)'] },
      ],
    }]);
  });
});
