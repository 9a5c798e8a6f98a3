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

/*
 * Survivors left alive, by the code they mutate (npm run mutate, classify.ts; the score is in
 * README's mutation-testing section). "Equivalent": no input can tell the mutant from the code.
 * "No fixture": a real rule that no real or lab-captured fixture exercises; a test would need a
 * capture we do not have, and we do not make one up.
 *
 * Node of a piece of evidence (`node: dstNode ?? '?'`, `p?.node ?? '?'`, `p.node ?? '?'`, the
 * overlay's `node: '?'`), mutated to '' or another string: equivalent. The node only filters
 * evidence in onNode()/deliveryOn() when both ends' nodes are known (crossNode); the fallback is
 * taken only when a node is unknown, and then nothing filters by node.
 *
 * viaLxc's `f.flow.ref.proto !== 'arp'` (to true, or 'arp' to ''): equivalent. ARP flows get no
 * path (the path block is skipped for ARP) and their sentence is arpSentence(), which reads no viaLxc.
 *
 * Encapsulated sightings, `s.point !== srcPod && s.point !== dstPod` (to true): no fixture. A pod
 * that itself captures tunnel packets (a pod running VXLAN) would otherwise count as Cilium's overlay.
 *
 * Host points, `s.point === srcLxc || s.point === dstLxc` (to false): equivalent for Cilium, whose
 * host-side veths are all named lxc*, which the native-routing test skips anyway (/^lxc|^cilium_/);
 * no fixture: another CNI's veth (cali*, veth*) on a cross-node flow.
 *
 * Native routing, `crossNode && !/^lxc|^cilium_/...` (to true, or ||) and its regex anchors:
 * equivalent. `native` is read only on the cross-node path and by the reverse-overlay inference,
 * which runs only when the nodes are not known to be one (then a host capture on the underlay with
 * the pod addresses is evidence of native routing either way); no interface has lxc or cilium_
 * anywhere but at its start.
 *
 * pwru on the destination side, `onDst = !crossNode || node === dstNode` (to true): no fixture. On a
 * cross-node flow the source node's pwru shows skb_do_redirect then neighbour output or a tunnel
 * transmit, which no redirect-peer/redirect rule accepts; a source-side redirect into a pod would
 * need a flow misattributed to the wrong node. (To `crossNode`: killed by pwru-redirect-netns.test.ts,
 * the seed's flow with nodes unknown.)
 *
 * The peer rule's guard, `path.redirect && path.rcvAfterRedirect && !path.forward && onDst` (parts
 * to true, && to ||): `redirect`/`rcvAfterRedirect` are equivalent (rcvNetns and
 * localDeliverAfterRedirectRcv are set only after a receive that follows a redirect); `!forward`:
 * no fixture (an ingress redirect whose receive is then forwarded: the host-stack evidence would
 * still decide the path, but the "Evidence disagrees" sentence would appear).
 *
 * `else if (path.routedLookup)` (to false) and its sentence: no fixture. fib_table_lookup without
 * ip_forward appears only when pwru's function filter leaves ip_forward out; every pwru fixture that
 * routed a packet shows ip_forward, which decides first.
 *
 * The redirect device check, `!device || !dstIface || device === dstIface` (to true, `!device` to
 * `device`): no fixture. A bpf_redirect() to a device that is not the destination's lxc (cilium_host,
 * another pod's lxc) on the destination node; the lab redirects only to the destination lxc. (The
 * other mutants of this line are killed by classify-mutants' legacy pwru alone.) Its sentence's
 * `device ?? 'a device'`: no fixture (a transmit after the redirect from a pwru that printed no
 * device: v0.0.x output with no --output-meta that redirects to a device's egress).
 *
 * The tunnel functions' `.join(', ')` (to ''): no fixture. Every pwru fixture shows one tunnel
 * function per skb among vxlan_xmit/geneve_xmit/udp_tunnel_xmit_skb/_rcv.
 *
 * pwru's IFACE on a tunnel device, `else if (!sameNode)` (to true): equivalent. On one node the
 * path comes from deliveryOn(), which reads no overlay evidence, and no sentence cites it.
 *
 * The monitor's `from-stack`, `from-overlay`, `from-network` tags (to false or ''): no fixture.
 * `<- stack` appears once among the public monitor outputs (an IPv6 neighbour advertisement, no
 * flow between pods), `<- overlay` and `<- network` never; the lab's monitor prints neither.
 * The monitor's `m.tool === 'hubble' ? 'Hubble'` (to false or ''): no fixture; no Hubble output
 * among the fixtures gives a flow a stack, overlay, network or local-delivery fact, so no evidence
 * line names Hubble for one. (`m.endpoint !== undefined` and the local-delivery block: killed by the
 * seed's golden report, in the mutation tests since this was measured.)
  *
 * The outer-packets overlay sentence (`uniq(...).join(', ')`, `between the nodes ...`): the words of
 * one evidence line; every outer-only fixture is seen at one point, with no outer addresses.
 *
 * The reverse-direction overlay inference (`!sameNode && overlay.length === 0 && native.length ===
 * 0` and its loop, to false/{}/...): no fixture. It needs a flow whose nodes are not known to be one,
 * seen nowhere inside the tunnel, whose other direction was; every cross-node fixture sees both
 * directions in the tunnel or on the underlay.
 *
 * iptables evidence per node (`f.nodeOfStream(s) === node` to true): no fixture with TRACE records
 * of one flow on two nodes.
 *
 * Evidence by node on cross-node flows (onNode's filter, deliveryOn's dst-side `on` and `nodeStack`
 * filters, `deliveryOn(dstNode, true)` to false, the '?' node): no fixture. In every cross-node set
 * each kind of evidence comes from one node only (neighbour output on the source, redirects on the
 * destination), so filtering by node changes nothing; a flow hairpinned through both nodes' stacks
 * would need it.
 *
 * `cite`'s `if (xs.length)` (to true): equivalent. Every call site passes a non-empty list.
 *
 * The source node's host stack on a cross-node flow (`if (srcStack.length)` to false): no fixture.
 * Legacy host routing with native routing hands cross-node traffic to the stack on the source
 * node; the lab's cross-node sets are BPF host routing (native) and legacy with VXLAN (to-overlay).
 *
 * `nodeRedirect.length ||` (to false): killed by the legacy pwru alone above (the redirect from
 * pwru with no lxc capture and no monitor).
 *
 * `receiverDrops = drops.filter((d) => d.afterDelivery)` (to all drops): no fixture with a drop
 * before delivery on a flow a capture showed delivered.
 */
