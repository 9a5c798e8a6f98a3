import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { analyzeFixtures, conclusionOf } from './analyze-fixture.js';

/**
 * Which lxc is whose, without endpoint data: a capture on a pod's link shows its owner (the
 * address in every IP packet; the end that asked ARP from the MAC it sends from; the MAC the pod's
 * own capture shows it sending from). Then "watched and silent" works as with endpoint data, and
 * the report says what was inferred, with the evidence.
 */
const S = 'test/fixtures/seed/';
const CAPTURES = ['tcpdump-same-eth0.txt', 'tcpdump-same-lxc.txt', 'tcpdump-cni-eth0.txt', 'tcpdump-cni-lxc.txt'].map((f) => S + f);
const ENDPOINT_DATA = ['cilium-monitor-v.txt', 'pwru-v0.0.2-src-same.txt', 'pwru-v0.0.2-src-cni.txt', 'cilium-endpoint-list.txt', 'ethtool-same-eth0.txt', 'ethtool-cni-eth0.txt'].map((f) => S + f);
const ip = (f: { flow: string }) => f.flow.replace(/ \([^)]*\)/g, '');

describe('lxc ownership inferred from captures', () => {
  it('the seed captures alone: each lxc and pod gets its owner, and the silent lxc decides redirect-peer as with endpoint data', async () => {
    const report = await analyzeFixtures(CAPTURES);
    const [request, reply] = report.flows.map(conclusionOf);
    expect(request).toEqual({
      flow: 'icmp 10.0.1.135 (default/same) -> 10.0.1.180 (default/cni-6vf5d) request',
      path: ['redirect-peer'],
      verdict: 'delivered',
      dropReason: null,
      dropPoint: null,
      seenAt: ['pod:default/same/eth0', 'host:bpf1/lxcda6f5295b4b7', 'pod:default/cni-6vf5d/eth0'],
      notSeenAt: ['host:bpf1/lxcf9d0a91de5fb'],
      notObserved: ['iptables:bpf1', 'kernel:bpf1'],
      conclusions: [
        'Delivered: the request reached default/cni-6vf5d (seen at pod:default/cni-6vf5d/eth0; the reply was seen (pod:default/same/eth0, pod:default/cni-6vf5d/eth0, host:bpf1/lxcf9d0a91de5fb)).',
        "Path redirect-peer: the request went from lxcda6f5295b4b7's tc ingress straight into default/cni-6vf5d's eth0 without crossing lxcf9d0a91de5fb or the host stack: Cilium's BPF host routing delivered it with bpf_redirect_peer().",
      ],
      evidence: [
        {
          claim: 'redirect-peer',
          because: [
            "host:bpf1/lxcf9d0a91de5fb was capturing (3 packets) but did not see this request, while pod:default/cni-6vf5d/eth0 did (lxcf9d0a91de5fb's owner inferred from its capture: see Endpoints)",
          ],
        },
        { claim: 'delivered', because: ['seen at pod:default/cni-6vf5d/eth0', 'the reply was seen (pod:default/same/eth0, pod:default/cni-6vf5d/eth0, host:bpf1/lxcf9d0a91de5fb)'] },
      ],
    });
    expect([reply.path, reply.verdict, reply.notSeenAt]).toEqual([['redirect-peer'], 'delivered', ['host:bpf1/lxcda6f5295b4b7']]);
    // The same path, verdict and silent points as with the agent's endpoint data, ethtool, monitor and pwru.
    const full = (await analyzeFixtures([...CAPTURES, ...ENDPOINT_DATA])).flows.map(conclusionOf);
    const essence = (f: ReturnType<typeof conclusionOf>) => [ip(f), f.path, f.verdict, f.notSeenAt];
    expect([request, reply].map(essence)).toEqual(full.slice(0, 2).map(essence));
    expect(report.endpoints).toEqual([
      {
        pod: 'default/cni-6vf5d', node: 'bpf1', id: null, identity: null, ips: ['10.0.1.180'], interface: 'lxcf9d0a91de5fb', ifindex: null, mac: 'fe:55:fa:02:ee:e5', hostMac: 'd2:f1:29:4b:bd:9d',
        inferred: [
          'address 10.0.1.180 inferred from its capture tcpdump-cni-eth0.txt: 10.0.1.180 is one of the 2 addresses in every one of its 2 IP packets; it carried ARP who-has 10.0.1.159 tell 10.0.1.180 from fe:55:fa:02:ee:e5',
          "lxcf9d0a91de5fb inferred to be 10.0.1.180's host-side interface from its capture tcpdump-cni-lxc.txt: 10.0.1.180 is one of the 2 addresses in its only IP packet; it carried ARP who-has 10.0.1.159 tell 10.0.1.180 from fe:55:fa:02:ee:e5; 10.0.1.180 sent from fe:55:fa:02:ee:e5, the MAC default/cni-6vf5d's own capture shows it sending from",
        ],
      },
      {
        pod: 'default/same', node: 'bpf1', id: null, identity: null, ips: ['10.0.1.135'], interface: 'lxcda6f5295b4b7', ifindex: null, mac: '7a:a2:51:7c:d4:40', hostMac: '0e:fc:49:5b:00:dd',
        inferred: [
          'address 10.0.1.135 inferred from its capture tcpdump-same-eth0.txt: 10.0.1.135 is one of the 2 addresses in every one of its 2 IP packets; it carried ARP who-has 10.0.1.159 tell 10.0.1.135 from 7a:a2:51:7c:d4:40',
          "lxcda6f5295b4b7 inferred to be 10.0.1.135's host-side interface from its capture tcpdump-same-lxc.txt: 10.0.1.135 is one of the 2 addresses in its only IP packet; it carried ARP who-has 10.0.1.159 tell 10.0.1.135 from 7a:a2:51:7c:d4:40; 10.0.1.135 sent from 7a:a2:51:7c:d4:40, the MAC default/same's own capture shows it sending from",
        ],
      },
    ]);
  });

  it('without ARP on the lxc, the MAC pair also seen in the pod\'s own capture decides', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'owner-'));
    try {
      // The seed's lxc capture with its ARP lines left out (the rest verbatim).
      const lxc = join(dir, 'tcpdump-cni-lxc.txt');
      writeFileSync(lxc, readFileSync(`${S}tcpdump-cni-lxc.txt`, 'utf8').split('\n').filter((l) => !l.includes('ARP')).join('\n'));
      const report = await analyzeFixtures([`${S}tcpdump-cni-eth0.txt`, lxc, `${S}tcpdump-same-eth0.txt`]);
      expect(report.endpoints.find((e) => e.pod === 'default/cni-6vf5d')!.inferred).toEqual([
        'address 10.0.1.180 inferred from its capture tcpdump-cni-eth0.txt: 10.0.1.180 is one of the 2 addresses in every one of its 2 IP packets; it carried ARP who-has 10.0.1.159 tell 10.0.1.180 from fe:55:fa:02:ee:e5',
        "lxcf9d0a91de5fb inferred to be 10.0.1.180's host-side interface from its capture tcpdump-cni-lxc.txt: 10.0.1.180 is one of the 2 addresses in its only IP packet; 10.0.1.180 sent from fe:55:fa:02:ee:e5, the MAC default/cni-6vf5d's own capture shows it sending from",
      ]);
      expect(conclusionOf(report.flows[0]).notSeenAt).toEqual(['host:bpf1/lxcf9d0a91de5fb']);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('host-side captures alone: owners from ARP, the silent destination lxc is "not seen", and the path stays unknown', async () => {
    const report = await analyzeFixtures([`${S}tcpdump-same-lxc.txt`, `${S}tcpdump-cni-lxc.txt`]);
    expect(report.endpoints.map((e) => [e.pod, e.ips, e.interface, e.node])).toEqual([
      ['', ['10.0.1.135'], 'lxcda6f5295b4b7', 'bpf1'],
      ['', ['10.0.1.180'], 'lxcf9d0a91de5fb', 'bpf1'],
    ]);
    expect(report.flows.slice(0, 2).map((f) => [ip(conclusionOf(f)), f.path, f.verdict, f.notSeenAt])).toEqual([
      ['icmp 10.0.1.135 -> 10.0.1.180 request', ['unknown'], 'delivered', ['host:bpf1/lxcf9d0a91de5fb']],
      ['icmp 10.0.1.180 -> 10.0.1.135 reply', ['unknown'], 'unknown', ['host:bpf1/lxcda6f5295b4b7']],
    ]);
  });
});

describe('captures that share one input (a pasted transcript)', () => {
  it('the seed notes given whole: each section is a capture point of its own, owners are inferred per section, and the silent destination lxc makes the request redirect-peer as with four files', async () => {
    const report = await analyzeFixtures(['test/fixtures/seed/notes-whole-transcript.txt']);
    const request = report.flows.find((f) => f.protocol.toLowerCase() === 'icmp' && f.direction === 'request')!;
    expect({ flow: `${request.src} -> ${request.dst}`, seenAt: request.seenAt, notSeenAt: request.notSeenAt, path: request.path, verdict: request.verdict }).toEqual({
      flow: '10.0.1.135 (default/same) -> 10.0.1.180 (default/cni-6vf5d)',
      seenAt: ['pod:default/same/eth0', 'host:bpf1/lxcda6f5295b4b7', 'pod:default/cni-6vf5d/eth0'],
      notSeenAt: ['host:bpf1/lxcf9d0a91de5fb'],
      path: ['redirect-peer'],
      verdict: 'delivered',
    });
    expect(request.evidence.find((e) => e.claim === 'redirect-peer')?.because).toEqual([
      "host:bpf1/lxcf9d0a91de5fb was capturing (3 packets) but did not see this request, while pod:default/cni-6vf5d/eth0 did (lxcf9d0a91de5fb's owner inferred from its capture: see Endpoints)",
    ]);
  });
});
