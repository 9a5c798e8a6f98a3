import { analyzeFixtures } from './analyze-fixture.js';

/**
 * Monitor trace records without the ICMP id (datapath debug off, aggregation none) are matched to
 * captured packets by flow and order, counted per observation point: one monitor stream holds the
 * `<- endpoint 2836` and `-> endpoint 3663` records of every ping in turn, and each point sees each
 * ping once. Counted per stream, ping 1's to-endpoint record went to ping 2. Lab set (real pcap,
 * emulated monitor from the kernel's events): test/fixtures/lab-paths/bpf-same-node-aggregation-none.
 */
describe('monitor records matched by order', () => {
  it("each ping's <- endpoint and -> endpoint records go with that ping, in both directions", async () => {
    const report = await analyzeFixtures(['test/fixtures/lab-paths/bpf-same-node-aggregation-none']);
    const monitorHops = report.flows
      .filter((f) => f.protocol === 'icmp')
      .map((f) => [f.direction, f.path, f.outcome, f.packets.map((p) => [p.key, p.hops.filter((h) => h.tool === 'monitor').map((h) => `${h.point} ${h.detail}`)]), (f.flowHops ?? []).filter((h) => h.tool === 'monitor').length]);
    expect(monitorHops).toEqual([
      ['request', ['redirect-peer'], 'delivered', [
        ['icmp id 6 seq 1', ['cilium:bpf1/2836 from-endpoint, identity 31009->0, state unknown', 'cilium:bpf1/3663 to-endpoint 3663, identity 31009->37483, state new']],
        ['icmp id 6 seq 2', ['cilium:bpf1/2836 from-endpoint, identity 31009->0, state unknown', 'cilium:bpf1/3663 to-endpoint 3663, identity 31009->37483, state established']],
      ], 0],
      ['reply', ['redirect-peer'], 'delivered', [
        ['icmp id 6 seq 1', ['cilium:bpf1/3663 from-endpoint, identity 37483->0, state unknown', 'cilium:bpf1/2836 to-endpoint 2836, identity 37483->31009, state reply']],
        ['icmp id 6 seq 2', ['cilium:bpf1/3663 from-endpoint, identity 37483->0, state unknown', 'cilium:bpf1/2836 to-endpoint 2836, identity 37483->31009, state reply']],
      ], 0],
    ]);
  });
});
