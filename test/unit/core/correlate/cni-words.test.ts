import { analyzeFixtures } from './analyze-fixture.js';

/**
 * Other CNIs: Cilium's mechanisms (the gateway ARP answered from the host side, bpf_redirect_peer by
 * its host routing, the lxc, cilium monitor) are named only when an input shows Cilium (an lxc or
 * cilium_* device, monitor records, endpoint or status data); otherwise the words are neutral.
 */
const words = (report: Awaited<ReturnType<typeof analyzeFixtures>>) => report.flows.map((f) => [`${f.protocol} ${f.srcIp} > ${f.dstIp}`, f.path, f.conclusions]);

describe('CNI-neutral words', () => {
  it('a ping between two plain network namespaces (test/fixtures/pcap, no Cilium): veths and ARP, no Cilium', async () => {
    const report = await analyzeFixtures(['test/fixtures/pcap/ping-arp.pcap']);
    const unknown = (dir: string) => `Path unknown: no probe saw enough of the ${dir} to tell how it travelled; capture the host side of both pods' veths and run pwru on the node.`;
    expect(words(report)).toEqual([
      ['icmp 10.99.0.1 > 10.99.0.2', ['unknown'], ['Delivered: the request reached 10.99.0.2 (the reply was seen (unknown:test/fixtures/pcap/ping-arp.pcap)).', unknown('request')]],
      ['icmp 10.99.0.2 > 10.99.0.1', ['unknown'], ["Not enough evidence to say whether the reply was delivered: nothing watched 10.99.0.1's side, or it stayed silent.", unknown('reply')]],
      ['arp 10.99.0.1 > 10.99.0.2', [], ['Delivered: the request reached 10.99.0.2 (the reply was seen (unknown:test/fixtures/pcap/ping-arp.pcap)).', 'ARP request from 10.99.0.1 for 10.99.0.2: the pod resolves a next hop on its link.']],
      ['arp 10.99.0.2 > 10.99.0.1', [], ["Not enough evidence to say whether the reply was delivered: nothing watched 10.99.0.1's side, or it stayed silent.", "ARP reply for 10.99.0.2: answered on the pod's link."]],
    ]);
  });

  it('the same kinds of packets with an lxc among the captures (the seed): Cilium is named', async () => {
    const report = await analyzeFixtures(['test/fixtures/seed/tcpdump-same-eth0.txt', 'test/fixtures/seed/tcpdump-same-lxc.txt']);
    expect(words(report)).toEqual([
      ['icmp 10.0.1.135 > 10.0.1.180', ['unknown'], [
        'Delivered: the request reached 10.0.1.180 (the reply was seen (pod:default/same/eth0)).',
        'Path unknown: no probe saw enough of the request to tell how it travelled; capture the lxc of both pods and run pwru or cilium monitor on the node.',
      ]],
      ['icmp 10.0.1.180 > 10.0.1.135', ['redirect-peer'], [
        'Delivered: the reply reached default/same (seen at pod:default/same/eth0).',
        "Path redirect-peer: the reply went from 10.0.1.180's lxc's tc ingress straight into default/same's eth0 without crossing lxcda6f5295b4b7 or the host stack: Cilium's BPF host routing delivered it with bpf_redirect_peer().",
      ]],
      ['arp 10.0.1.135 > 10.0.1.159', [], [
        'Delivered: the request reached 10.0.1.159 (the reply was seen (pod:default/same/eth0, host:bpf1/lxcda6f5295b4b7)).',
        'ARP request from 10.0.1.135 for 10.0.1.159: the pod resolves its gateway (Cilium routes every pod packet via the router address).',
      ]],
      ['arp 10.0.1.159 > 10.0.1.135', [], [
        'Delivered: the reply reached default/same (seen at pod:default/same/eth0).',
        "ARP reply for 10.0.1.159: answered on the pod's link; Cilium answers ARP for the pod's gateway from the host side.",
      ]],
    ]);
  });
});
