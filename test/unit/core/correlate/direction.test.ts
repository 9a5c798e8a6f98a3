import { analyzeFixtures } from './analyze-fixture.js';

/**
 * Request or reply follows the protocol, not the order of the lines: TCP SYN vs SYN-ACK, ICMP
 * echo vs its answers (errors included), a DNS answer from port 53, conntrack's verdict (`state
 * reply`). A capture that starts with replies still gets them right.
 */
const ends = (f: { protocol: string; srcIp: string; dstIp: string; direction: string; source?: { port?: number }; destination?: { port?: number } }) =>
  [f.protocol, `${f.srcIp}:${f.source?.port ?? ''}`, `${f.dstIp}:${f.destination?.port ?? ''}`, f.direction];

describe('direction from the protocol', () => {
  it('a monitor transcript that starts with a DNS answer (from port 53, conntrack state reply): a reply with no request', async () => {
    const report = await analyzeFixtures(['test/fixtures/cilium-monitor/docs-v1.8-debugging-dns-related-to.txt']);
    expect(report.flows.map(ends)).toEqual([
      ['udp', '10.63.240.10:53', '10.60.0.182:42132', 'reply'],
      ['tcp', '10.60.0.182:41510', '104.198.14.52:80', 'request'],
      ['tcp', '104.198.14.52:80', '10.60.0.182:41510', 'reply'],
    ]);
  });

  it('a SYN-ACK whose SYN went to another address is a reply, and the client RST to it a request of that connection', async () => {
    const report = await analyzeFixtures(['test/fixtures/tcpdump/gh-cilium-issue5239-2018-v-clusterip-syn-reply-from-wrong-service-ip.txt']);
    expect(report.flows.map(ends)).toEqual([
      ['tcp', '10.2.2.139:48582', '172.18.0.50:80', 'request'],
      ['tcp', '10.2.2.139:48582', '172.18.0.146:9200', 'request'],
      ['tcp', '172.18.0.146:9200', '10.2.2.139:48582', 'reply'],
    ]);
  });

  it('an ICMP port unreachable answers the UDP packet: a reply, never a request (real tcpdump capture made here)', async () => {
    const report = await analyzeFixtures(['test/fixtures/pcap/tcp-udp.pcap']);
    expect(report.flows.filter((f) => f.protocol === 'icmp').map(ends)).toEqual([['icmp', '10.99.0.2:', '10.99.0.1:', 'reply']]);
  });

  it('an answer never comes first: the client\'s RST to a SYN-ACK it did not expect (cilium#5239) is not delivered because that SYN-ACK "was seen", since the SYN-ACK came before it; the SYN-ACK it resets (RST seq = the SYN-ACK\'s ack) reached the client and was refused', async () => {
    const report = await analyzeFixtures(['test/fixtures/tcpdump/gh-cilium-issue5239-2018-v-clusterip-syn-reply-from-wrong-service-ip.txt']);
    expect(report.flows.map((f) => [...ends(f), f.packets.map((p) => p.key), f.verdict, f.outcome, f.outcomeReason, f.evidence.filter((e) => e.claim === 'delivered')])).toEqual([
      ['tcp', '10.2.2.139:48582', '172.18.0.50:80', 'request', ['tcp [S] seq 4272068330'], 'unknown', 'unknown', null, []],
      ['tcp', '10.2.2.139:48582', '172.18.0.146:9200', 'request', ['tcp [R] seq 4272068331'], 'unknown', 'unknown', null, []],
      ['tcp', '172.18.0.146:9200', '10.2.2.139:48582', 'reply', ['tcp [S.] seq 4098393398 ack 4272068331'], 'delivered', 'refused',
        'refused: answered by RST from its receiver, whose TCP had no connection waiting for this SYN-ACK', []],
    ]);
  });
});
