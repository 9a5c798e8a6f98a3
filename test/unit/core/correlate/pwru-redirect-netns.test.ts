import { copyFileSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { analyzeFixtures, conclusionOf } from './analyze-fixture.js';

/**
 * skb_do_redirect then ip_rcv with no transmit between them is an ingress redirect: bpf_redirect_peer()
 * into the pod's netns, or bpf_redirect(..., BPF_F_INGRESS) to a device of the node's own netns,
 * after which the node's stack receives it. Only the first is redirect-peer (issue 15). Where the
 * receive ran is pwru's NETNS column; without one (pwru v0.0.1-v0.0.4 print `ifindex=` alone), its
 * device: the destination lxc's ifindex is the node's netns.
 *
 * No capture we have shows an ingress redirect into the node's netns (Cilium does it for its proxy
 * and cilium_host, not on these paths), so the same-netns inputs below are real outputs with one
 * field altered, said at each: the rule must turn on that field alone.
 */

/** A temp directory holding `files` (name -> text). */
function dirWith(files: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), 'pwru-netns-'));
  for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text);
  return dir;
}

const LAB = 'test/fixtures/lab-paths/bpf-native-cross-node';
const LAB_SKB = '0xffff8881334f5b00';
const NODE_NETNS = '4026534054';
const POD_NETNS = '4026534387';

/**
 * The lab's pwru on bpf2 (lines from real tracepoint events, test/fixtures/lab-paths/README.md), with
 * the NETNS column of the request skb's lines after skb_do_redirect set from the pod's netns to the
 * node's: the same skb, as an ingress redirect to a device of the node would print it.
 */
function labPwruReceivedInNodeNetns(): string {
  let redirected = false;
  return readFileSync(join(LAB, 'pwru-bpf2.txt'), 'utf8').split('\n').map((line) => {
    if (!line.startsWith(LAB_SKB)) return line;
    const out = redirected ? line.replace(` ${POD_NETNS} `, ` ${NODE_NETNS} `) : line;
    if (/ skb_do_redirect$/.test(line)) redirected = true;
    return out;
  }).join('\n');
}

async function labRequest(pwru: string) {
  const dir = dirWith({ 'run.json': readFileSync(join(LAB, 'run.json'), 'utf8'), 'pwru-bpf2.txt': pwru });
  const report = await analyzeFixtures([dir]);
  return report.flows.filter((f) => f.protocol === 'icmp' && f.direction === 'request').map(conclusionOf);
}

/** What both versions of the lab's request conclude alike: pwru on bpf2 is the only probe. */
const labRequestAlike = {
  flow: 'icmp 10.0.1.135 (default/same) -> 10.0.2.41 (default/cni-x7k2m) request',
  verdict: 'delivered',
  dropReason: null,
  dropPoint: null,
  seenAt: ['kernel:bpf2'],
  notSeenAt: [],
  notObserved: [
    'pod:default/same/eth0', 'host:bpf1/lxcfcff18ae4c1', 'cilium:bpf1/2836', 'iptables:bpf1', 'kernel:bpf1', 'iptables:bpf2',
    'cilium:bpf2/1187', 'host:bpf2/lxc4898b9a06e7', 'pod:default/cni-x7k2m/eth0',
  ],
};
const labDelivered = 'Delivered: the request reached default/cni-x7k2m (the reply was seen (kernel:bpf2)).';
const labReplySeen = { claim: 'delivered', because: ['the reply was seen (kernel:bpf2)'] };

describe('pwru: skb_do_redirect then ip_rcv, by the netns column', () => {
  it("the receive in the pod's netns (the lab as captured) is bpf_redirect_peer", async () => {
    expect(await labRequest(readFileSync(join(LAB, 'pwru-bpf2.txt'), 'utf8'))).toEqual([{
      ...labRequestAlike,
      path: ['redirect-peer'],
      conclusions: [
        labDelivered,
        "Path redirect-peer: on bpf2 it was delivered into default/cni-x7k2m's eth0 with bpf_redirect_peer(), never crossing lxc4898b9a06e7.",
      ],
      evidence: [
        { claim: 'redirect-peer', because: [`pwru on bpf2 (skb ${LAB_SKB}): skb_do_redirect then ip_rcv in another netns with no device transmit in between, and no ip_forward`] },
        labReplySeen,
      ],
    }]);
  });

  it("the receive in the node's netns (netns column altered) is not: nothing else tells the path", async () => {
    const pwru = labPwruReceivedInNodeNetns();
    expect(pwru).not.toEqual(readFileSync(join(LAB, 'pwru-bpf2.txt'), 'utf8'));
    expect(await labRequest(pwru)).toEqual([{
      ...labRequestAlike,
      path: ['unknown'],
      conclusions: [
        labDelivered,
        'Path unknown: no probe saw enough of the request to tell how it travelled; capture the lxc of both pods and run pwru or cilium monitor on the node.',
      ],
      evidence: [labReplySeen],
    }]);
  });
});

const SEED = 'test/fixtures/seed';
/** The seed's ifindexes (its `ip link` and `ethtool -S eth0` in test/fixtures/seed): each pod's eth0 and its lxc. */
const SEED_IFINDEX = { sameEth0: 27, sameLxc: 28, cniEth0: 23, cniLxc: 24 };
const ON_SOURCE_LXC = new Set(['__dev_forward_skb', 'skb_scrub_packet', 'eth_type_trans', 'netif_rx', 'tcf_classify_ingress', 'skb_ensure_writable', 'skb_do_redirect']);

/**
 * The seed's pwru (v0.0.2, a real same-node ping with BPF host routing) as `--output-meta` would
 * have printed it: pwru v0.0.2 adds ` mark=0x%x ifindex=%d proto=%x mtu=%d len=%d` after the
 * TIMESTAMP (cilium/pwru v0.0.2 internal/pwru/output.go) and no netns. The ifindexes are the
 * devices the skb was on (none at __ip_local_out; same's eth0 down to the veth; its lxc from
 * __dev_forward_skb to the redirect), and `received` for the receive after skb_do_redirect.
 */
function seedPwruWithIfindex(received: number): string {
  let redirected = false;
  return readFileSync(join(SEED, 'pwru-v0.0.2-src-same.txt'), 'utf8').split('\n').map((line) => {
    const m = /^(0x[0-9a-f]+ \[[^\]]*\] (\S+) \d+)( .*)$/.exec(line);
    if (!m) return line;
    const func = m[2];
    const ifindex = func === '__ip_local_out' ? 0 : redirected ? received : ON_SOURCE_LXC.has(func) ? SEED_IFINDEX.sameLxc : SEED_IFINDEX.sameEth0;
    if (func === 'skb_do_redirect') redirected = true;
    return `${m[1]} mark=0x0 ifindex=${ifindex} proto=800 mtu=1500 len=84${m[3]}`;
  }).join('\n');
}

/** The request's conclusion from that pwru, the endpoint list, both pods' captures and the destination's ethtool (which names its lxc and ifindex; the source's lxc stays unknown). */
async function seedRequest(pwru: string) {
  const files: Record<string, string> = { 'pwru-v0.0.2-src-same.txt': pwru };
  for (const name of ['cilium-endpoint-list.txt', 'tcpdump-same-eth0.txt', 'tcpdump-cni-eth0.txt', 'ethtool-cni-eth0.txt']) files[name] = readFileSync(join(SEED, name), 'utf8');
  const report = await analyzeFixtures([dirWith(files)]);
  return report.flows.filter((f) => f.protocol === 'icmp' && f.direction === 'request').map(conclusionOf);
}

/** What both versions of the seed's request conclude alike. */
const seedRequestAlike = {
  flow: 'icmp 10.0.1.135 (default/same) -> 10.0.1.180 (default/cni-6vf5d) request',
  verdict: 'delivered',
  dropReason: null,
  dropPoint: null,
  seenAt: ['pod:default/same/eth0', 'kernel:bpf1', 'pod:default/cni-6vf5d/eth0'],
  notSeenAt: [],
  notObserved: ['cilium:bpf1/2836', 'iptables:bpf1', 'cilium:bpf1/3663', 'host:bpf1/lxcf9d0a91de5fb'],
};
const seedDelivered = 'Delivered: the request reached default/cni-6vf5d (seen at pod:default/cni-6vf5d/eth0; the reply was seen (pod:default/cni-6vf5d/eth0, pod:default/same/eth0)).';
const seedSeen = { claim: 'delivered', because: ['seen at pod:default/cni-6vf5d/eth0', 'the reply was seen (pod:default/cni-6vf5d/eth0, pod:default/same/eth0)'] };

describe('pwru without a netns column: skb_do_redirect then ip_rcv, by the device of the receive', () => {
  it("on the destination pod's eth0 (what bpf_redirect_peer gives): local delivery of its address says redirect-peer", async () => {
    const pwru = seedPwruWithIfindex(SEED_IFINDEX.cniEth0);
    expect(pwru.split('\n')[6]).toBe('0xffff9afcb4519b00 [ping] __ip_local_out 82857431306974 mark=0x0 ifindex=0 proto=800 mtu=1500 len=84 10.0.1.135:0->10.0.1.180:0(icmp)');
    expect(await seedRequest(pwru)).toEqual([{
      ...seedRequestAlike,
      path: ['redirect-peer'],
      conclusions: [
        seedDelivered,
        "Path redirect-peer: the request went from default/same's lxc's tc ingress straight into default/cni-6vf5d's eth0 without crossing lxcf9d0a91de5fb or the host stack: Cilium's BPF host routing delivered it with bpf_redirect_peer().",
      ],
      evidence: [
        { claim: 'redirect-peer', because: ["pwru on bpf1 (skb 0xffff9afcb4519b00): skb_do_redirect then ip_rcv with no device transmit in between, and no ip_forward (pwru printed no netns: local delivery of default/cni-6vf5d's address after it)"] },
        seedSeen,
      ],
    }]);
  });

  it("on the destination lxc's ifindex (altered: an ingress redirect in the node's netns): not redirect-peer", async () => {
    expect(await seedRequest(seedPwruWithIfindex(SEED_IFINDEX.cniLxc))).toEqual([{
      ...seedRequestAlike,
      path: ['unknown'],
      conclusions: [
        seedDelivered,
        'Path unknown: no probe saw enough of the request to tell how it travelled; capture the lxc of both pods and run pwru or cilium monitor on the node.',
      ],
      evidence: [seedSeen],
    }]);
  });
});
