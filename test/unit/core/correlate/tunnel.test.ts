import type { ReportFlow } from '../../../../src/core/model/report.js';
import { analyzeFixtures } from './analyze-fixture.js';

/** The points of every hop of a flow, packet by packet: where each packet was seen. */
function hopPoints(flow: ReportFlow): string[][] {
  return flow.packets.map((p) => p.hops.map((h) => `${h.point} ${h.tool}: ${h.detail}`));
}

/**
 * Any tunnel evidence makes the path `overlay`, and names the tunnel: an underlay capture of the
 * flow's packet inside VXLAN (UDP 4789/8472) or Geneve (6081), pwru's tunnel tuple or an skb on a
 * tunnel device. The outer packets belong to the inner flow they carry, never to a flow of their own.
 */
describe('tunnel evidence', () => {
  it('an underlay tcpdump of VXLAN (vni 4711): both directions overlay, the outer packet without its inner one filed under the inner flow', async () => {
    const report = await analyzeFixtures(['test/fixtures/tcpdump/ovs-vxlan-vvv-hostname-no-cksum.txt']);
    expect(report.flows.map((f) => [f.protocol, f.srcIp, f.dstIp, f.direction, f.path, f.tunnel])).toEqual([
      ['icmp', '192.168.99.10', '192.168.99.11', 'request', ['overlay'], { protocol: 'vxlan', vni: 4711, outer: 'dt-1 > 192.168.77.26', evidence: 'host:?/eth1 saw it inside vxlan vni 4711 dt-1 > 192.168.77.26' }],
      ['icmp', '192.168.99.11', '192.168.99.10', 'reply', ['overlay'], { protocol: 'vxlan', vni: 4711, outer: '192.168.77.26 > dt-1', evidence: 'host:?/eth1 saw it inside vxlan vni 4711 192.168.77.26 > dt-1' }],
    ]);
    // The capture's third packet (192.168.77.26.41722 > dt-1.4789, its inner packet cut off) is
    // the reply's tunnel: same outer flow, same outer source port (VXLAN hashes the inner flow into it).
    expect(hopPoints(report.flows[1])).toEqual([
      ['host:?/eth1 tcpdump: ICMP echo reply id 11 seq 160, ttl 64 (in vxlan vni 4711 192.168.77.26 > dt-1)'],
      ['host:?/eth1 tcpdump: outer vxlan vni 4711 192.168.77.26 > dt-1 packet, its inner packet not decoded'],
    ]);
    expect(report.flows[0].conclusions[1]).toBe(
      'Path overlay: the request crossed between nodes inside the vxlan (VNI 4711) tunnel (host:?/eth1 saw it inside vxlan vni 4711 dt-1 > 192.168.77.26); which nodes it joined is unknown without endpoint data.',
    );
  });

  it('an outer VXLAN packet whose inner flow was never decoded stays the tunnel\'s, path overlay, not unknown', async () => {
    const report = await analyzeFixtures(['test/fixtures/tcpdump/gh-tcpdump-issue611-vlan-vxlan-enn-grep.txt']);
    const outer = report.flows.find((f) => f.protocol === 'udp')!;
    expect([outer.srcIp, outer.dstIp, outer.path, outer.tunnel, outer.conclusions[1]]).toEqual([
      '10.53.32.14', '10.53.32.18', ['overlay'],
      { protocol: 'vxlan', vni: 72, outer: '10.53.32.14 > 10.53.32.18', evidence: 'host:?/bond0 saw vxlan (VNI 72) packets between the nodes 10.53.32.14 > 10.53.32.18' },
      'Path overlay: these are the outer packets of the vxlan (VNI 72) tunnel between the nodes 10.53.32.14 > 10.53.32.18; the packet inside was not decoded, so which pods it joins is unknown (capture on the tunnel device, or with a larger snaplen to see it).',
    ]);
    const inner = report.flows.find((f) => f.protocol === 'icmp')!;
    expect([inner.srcIp, inner.dstIp, inner.path, inner.tunnel?.vni]).toEqual(['10.56.1.9', '10.56.1.1', ['overlay'], 72]);
    // The VLAN-tagged TCP beside them was never in a tunnel: its path stays unknown.
    expect(report.flows.filter((f) => f.protocol === 'tcp').map((f) => f.path)).toEqual([['unknown'], ['unknown']]);
  });

  it('a pcap of Geneve (UDP 6081, vni 7) names the protocol and VNI', async () => {
    const report = await analyzeFixtures(['test/fixtures/pcap/geneve.pcap']);
    const echo = report.flows.find((f) => f.srcIp === '10.94.0.1')!;
    expect([echo.path, echo.tunnel]).toEqual([['overlay'], { protocol: 'geneve', vni: 7, outer: '10.99.0.1 > 10.99.0.2', evidence: expect.stringMatching(/ saw it inside geneve vni 7 10\.99\.0\.1 > 10\.99\.0\.2$/) }]);
  });

  it('pwru --output-tunnel: the skb\'s tunnel tuple says overlay, VXLAN between the nodes', async () => {
    const report = await analyzeFixtures(['test/fixtures/pwru/gh-pwru-pr494-2025-output-tunnel-vxlan.txt']);
    expect(report.flows.map((f) => [f.protocol, f.srcIp, f.dstIp, f.path, f.tunnel])).toEqual([
      ['tcp', '10.244.1.205', '10.244.3.122', ['overlay'], { protocol: 'vxlan', outer: '172.18.0.5 > 172.18.0.2', evidence: 'kernel:? saw it inside vxlan 172.18.0.5 > 172.18.0.2' }],
    ]);
  });

  it('pwru on the tunnel device (vxlan0, freed under vxlan_xmit): overlay, protocol not named by the evidence', async () => {
    const report = await analyzeFixtures(['test/fixtures/pwru/notes-ja-vxlan-lwt-output-caller.txt']);
    expect(report.flows.map((f) => [f.srcIp, f.dstIp, f.path, f.tunnel, f.evidence.find((e) => e.claim === 'overlay')])).toEqual([
      ['10.0.0.1', '10.0.0.2', ['overlay'], undefined, { claim: 'overlay', because: ['pwru on ? (skb 0xffff9f0c9c08ff00): on the tunnel device vxlan0'] }],
    ]);
  });

  it('no tunnel evidence, no overlay: a plain ping capture stays unknown', async () => {
    // tcpdump of ping-arp.pcap (no tunnel) stays unknown: tunnel rules need tunnel evidence.
    const report = await analyzeFixtures(['test/fixtures/pcap/ping-arp.pcap']);
    expect(report.flows.filter((f) => f.protocol === 'icmp').map((f) => [f.path, f.tunnel])).toEqual([[['unknown'], undefined], [['unknown'], undefined]]);
  });

  it('pwru sees one skb encapsulated (vxlan_xmit) and decapsulated (vxlan_rcv): its outer UDP 8472 tuple is the ping\'s tunnel hop, not a flow of its own (lab set: real captures, pwru from real kernel events)', async () => {
    const report = await analyzeFixtures(['test/fixtures/lab-paths/legacy-vxlan-cross-node']);
    expect(report.flows.map((f) => [f.protocol, f.srcIp, f.dstIp, f.direction, f.path, f.tunnel?.protocol, f.tunnel?.vni])).toEqual([
      ['icmp', '10.0.1.135', '10.0.2.41', 'request', ['overlay', 'redirect'], 'vxlan', 31009],
      ['icmp', '10.0.2.41', '10.0.1.135', 'reply', ['overlay', 'redirect'], 'vxlan', expect.any(Number)],
    ]);
  });
});

