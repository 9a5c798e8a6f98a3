import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { analyzeFixtures } from './analyze-fixture.js';
import type { ReportFlow } from '../../../../src/core/model/report.js';

/**
 * A flow keeps its identity across address translation: the report shows one flow with what was
 * translated, where and by which evidence (translations[]), and the reply translated back.
 */
const view = (f: ReportFlow) => ({
  flow: `${f.protocol} ${f.srcIp}:${f.source?.port ?? ''} -> ${f.dstIp}:${f.destination?.port ?? ''}`,
  direction: f.direction,
  translations: f.translations,
});

describe('address translation', () => {
  it('socket LB records alone (trace-sock pre/post-xlate, fwd and rev): the socket\'s flow to the ClusterIP, DNAT to the backend, and the backend\'s answer translated back', async () => {
    const report = await analyzeFixtures(['test/fixtures/cilium-monitor/docs-v1.13-kubeproxy-free-trace-sock-four-xlate-records.txt']);
    expect(report.flows.map(view)).toEqual([
      {
        flow: 'tcp ?: -> 10.96.128.44:80', direction: 'request',
        translations: [{ point: 'socket-lb', kind: 'dnat', from: '10.96.128.44:80', to: '10.244.1.246:80', evidence: 'cilium monitor trace-sock: [pre-xlate-fwd] 10.96.128.44:80 -> [post-xlate-fwd] 10.244.1.246:80 (socket cookie 7123674, cgroup 479586): the socket LB connected the socket to the backend' }],
      },
      {
        flow: 'tcp 10.244.1.246:80 -> ?:', direction: 'reply',
        translations: [{ point: 'socket-lb', kind: 'revnat', from: '10.244.1.246:80', to: '10.96.128.44:80', evidence: 'cilium monitor trace-sock: [pre-xlate-rev] 10.244.1.246:80 -> [post-xlate-rev] 10.96.128.44:80 (socket cookie 7123674, cgroup 479586): replies reach the socket as from the service' }],
      },
    ]);
    // No packet ever carries the ClusterIP: the side to watch is the backend's.
    expect(report.flows[0].conclusions.filter((c) => /Not enough evidence/.test(c))).toEqual([
      'Not enough evidence to say whether the request was delivered: nothing watched the side of 10.244.1.246:80, the backend the socket LB connected it to instead of 10.96.128.44:80, or it stayed silent.',
    ]);
  });

  it('socket LB with the packets: the wire carries only the backend; its flow and its reply carry the ClusterIP as their translation, no flow to the ClusterIP', async () => {
    const report = await analyzeFixtures(['test/fixtures/cilium-monitor/blog-zh-socklb-trace-sock-network-v1.18.txt']);
    expect(report.flows.map(view)).toEqual([
      {
        flow: 'tcp 10.244.1.56:56944 -> 10.244.2.148:80', direction: 'request',
        translations: [{ point: 'socket-lb', kind: 'dnat', from: '10.96.211.254:80', to: '10.244.2.148:80', evidence: 'cilium monitor trace-sock: [pre-xlate-fwd] 10.96.211.254:80 -> [post-xlate-fwd] 10.244.2.148:80 (socket cookie 72480, cgroup 16761): the socket LB connected the socket to the backend' }],
      },
      {
        flow: 'tcp 10.244.2.148:80 -> 10.244.1.56:56944', direction: 'reply',
        translations: [{ point: 'socket-lb', kind: 'revnat', from: '10.244.2.148:80', to: '10.96.211.254:80', evidence: 'cilium monitor trace-sock: [pre-xlate-rev] 10.244.2.148:80 -> [post-xlate-rev] 10.96.211.254:80 (socket cookie 72480, cgroup 16761): replies reach the socket as from the service' }],
      },
    ]);
  });

  it('monitor DEBUG of a NodePort: the service tuple\'s conntrack lookup (flags 4) and the backend\'s are one packet, DNATed; the backend\'s stale conntrack entry (revnat 22, the service created 8) means the reply is not translated back to the NodePort', async () => {
    const report = await analyzeFixtures(['test/fixtures/cilium-monitor/gh-cilium-issue10983-2020-v-debug-slave-service-lookup-revnat-reply.txt']);
    const dnat = 'cilium monitor DEBUG: conntrack lookup of the service tuple 172.29.2.21:32532 (flags 4, TUPLE_F_SERVICE), then the same packet (CPU 1, MARK 0x6a60e2e6) looked up as 10.42.1.254:3306';
    expect(report.flows.map(view)).toEqual([
      {
        flow: 'tcp 172.29.50.224:33632 -> 172.29.2.21:32532', direction: 'request',
        translations: [{ point: 'cilium:?', kind: 'dnat', from: '172.29.2.21:32532', to: '10.42.1.254:3306', evidence: dnat }],
      },
      { flow: 'tcp 10.42.1.254:3306 -> 172.29.50.224:33632', direction: 'reply', translations: undefined },
    ]);
    const stale = "The service lookup created this connection with reverse NAT index 8, but its conntrack entry carries 22: a stale entry of another service; the reply is translated back with that service's address (reverse NAT 22), not 172.29.2.21:32532 the client connected to.";
    expect(report.flows.map((f) => f.conclusions.slice(2))).toEqual([
      ['Translated at cilium:?: destination translated (DNAT) 172.29.2.21:32532 -> 10.42.1.254:3306.', stale],
      [stale],
    ]);
  });

  it('pwru --output-tuple: one skb DNATed twice (ClusterIP -> 10.244.0.2 -> 10.244.0.4) is one flow with both translations, dropped where the kernel freed it', async () => {
    // The mail client wrapped every pwru record over two lines; joined back here, nothing else changed.
    const lines = readFileSync('test/fixtures/pwru/lkml-netfilter-2024-ojea-output-tuple-dnat-twice-otherhost.txt', 'utf8').split('\n');
    const joined: string[] = [];
    for (let i = 0; i < lines.length; i++) {
      if (/^\d\d:\d\d:\d\d\.\d+ 0x/.test(lines[i]) && /^\d+\.\d+\.\d+\.\d+:\d+->/.test(lines[i + 1] ?? '')) joined.push(`${lines[i]} ${lines[++i]}`);
      else joined.push(lines[i]);
    }
    const dir = mkdtempSync(join(tmpdir(), 'nat-'));
    try {
      const file = join(dir, 'pwru-dnat-twice.txt');
      writeFileSync(file, joined.join('\n'));
      const report = await analyzeFixtures([file]);
      expect(report.flows.map((f) => ({ ...view(f), verdict: f.verdict, dropReason: f.dropReason }))).toEqual([
        {
          flow: 'udp 10.244.0.3:39492 -> 10.96.0.10:53', direction: 'request', verdict: 'dropped', dropReason: 'SKB_DROP_REASON_OTHERHOST',
          translations: [
            { point: 'kernel:?', kind: 'dnat', from: '10.96.0.10:53', to: '10.244.0.2:53', evidence: 'pwru: skb 0xffff97ff83662280 changed its destination from 10.96.0.10:53 to 10.244.0.2:53 after inet_proto_csum_replace4' },
            { point: 'kernel:?', kind: 'dnat', from: '10.244.0.2:53', to: '10.244.0.4:53', evidence: 'pwru: skb 0xffff97ff83662280 changed its destination from 10.244.0.2:53 to 10.244.0.4:53 after inet_proto_csum_replace4' },
          ],
        },
      ]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('netfilter trace of a masqueraded ping (xtables-monitor): the answer to the node address and its de-masqueraded copy are one reply flow; the request is masqueraded to that address', async () => {
    const report = await analyzeFixtures(['test/fixtures/iptables-trace/xtables-monitor-docker0-icmp-forward-masquerade.txt']);
    expect(report.flows.map(view)).toEqual([
      {
        flow: 'ip 172.17.0.2: -> 52.142.124.215:', direction: 'request',
        translations: [{ point: 'iptables:?', kind: 'masquerade', from: '172.17.0.2', to: '192.168.91.132', evidence: 'its reply came back to 192.168.91.132 and was translated back to 172.17.0.2 (rule -4 -t nat -A POSTROUTING -s 172.17.0.0/16 ! -o docker0 -j MASQUERADE, nat:POSTROUTING)' }],
      },
      {
        flow: 'ip 52.142.124.215: -> 172.17.0.2:', direction: 'reply',
        translations: [{ point: 'iptables:?', kind: 'revnat', from: '192.168.91.132', to: '172.17.0.2', evidence: 'netfilter trace 5d0e7204: the packet 52.142.124.215 > 192.168.91.132 went on as 52.142.124.215 > 172.17.0.2 in filter:FORWARD, no NAT rule matched: conntrack translated an established connection back' }],
      },
    ]);
  });

  it('a SYN-ACK from another service IP than the SYN went to (2018, wrong reverse NAT): its ack proves it answers that SYN, and both flows say the source was not translated back', async () => {
    const report = await analyzeFixtures(['test/fixtures/tcpdump/gh-cilium-issue5239-2018-v-clusterip-syn-reply-from-wrong-service-ip.txt']);
    const at = 'unknown:test/fixtures/tcpdump/gh-cilium-issue5239-2018-v-clusterip-syn-reply-from-wrong-service-ip.txt';
    const proof = "its SYN-ACK acknowledges 4272068331, the SYN's sequence number + 1";
    expect(report.flows.map((f) => [`${f.srcIp}:${f.source?.port} -> ${f.dstIp}:${f.destination?.port}`, f.direction, f.conclusions.filter((c) => /translated back/.test(c))])).toEqual([
      ['10.2.2.139:48582 -> 172.18.0.50:80', 'request', [`The answer came back from 172.18.0.146:9200, not from 172.18.0.50:80 where the request was sent (${proof}): at ${at} its source had not been translated back to 172.18.0.50:80 (a missing or wrong reverse NAT), so the requester cannot match it.`]],
      ['10.2.2.139:48582 -> 172.18.0.146:9200', 'request', []],
      ['172.18.0.146:9200 -> 10.2.2.139:48582', 'reply', [`This answers the request to 172.18.0.50:80 (${proof}) but comes from 172.18.0.146:9200: at ${at} its source had not been translated back (a missing or wrong reverse NAT).`]],
    ]);
  });

  it('an answer from another address with only the ports to tie it (cilium#2492, v1.0 monitor): each packet handed to its endpoint is delivered; no reverse NAT is claimed without evidence of a translation, and what would decide it is said', async () => {
    const report = await analyzeFixtures(['test/fixtures/cilium-monitor/gh-cilium-issue2492-2018-v1.0-forward-at-to-endpoint.txt']);
    const decide = "cilium service list or cilium bpf lb list (is 172.201.220.101:9092 a service frontend?), or the request's TCP seq beside the answer's ack, would decide it";
    expect(report.flows.map((f) => [`${f.srcIp}:${f.source?.port} -> ${f.dstIp}:${f.destination?.port}`, f.direction, f.verdict, f.evidence.find((e) => e.claim === 'delivered')?.because, f.conclusions.filter((c) => /came back|may answer/.test(c))])).toEqual([
      ['172.201.10.7:37958 -> 172.201.220.101:9092', 'request', 'delivered', ['cilium monitor: to-endpoint 20914 (the endpoint of 172.201.220.101)'],
        [`An answer to 172.201.10.7:37958 came back from 172.18.0.169:9092, not from 172.201.220.101:9092 where the request was sent (it went to the same address and port 172.201.10.7:37958; seen at cilium:?/44396). Unknown whether a translation was involved: if 172.201.220.101:9092 is a service address, its reverse NAT is missing or wrong; ${decide}.`]],
      ['172.18.0.169:9092 -> 172.201.10.7:37958', 'reply', 'delivered', ['cilium monitor: to-endpoint 44396 (the endpoint of 172.201.10.7)'],
        [`This may answer the request to 172.201.220.101:9092 (it went to the same address and port 172.201.10.7:37958) but comes from 172.18.0.169:9092. Unknown whether a reverse NAT was missed: ${decide}.`]],
    ]);
  });

  it('the same SYN (IPv4 id and seq) captured on both sides of a DNAT (real tcpdump and iptables, captured here): one packet with both hops, DNAT between the points, and the RST translated back', async () => {
    const report = await analyzeFixtures(['test/fixtures/nat-two-points/router-rt0-client-side.txt', 'test/fixtures/nat-two-points/router-rt1-server-side.txt']);
    const point = 'between host:?/rt0 and host:?/rt1';
    expect(report.flows.map((f) => ({ ...view(f), packets: f.packets.map((p) => [p.key, p.hops.map((h) => `${h.point} ${h.deltaUs}`)]) }))).toEqual([
      {
        flow: 'tcp 10.210.1.10:53926 -> 10.210.9.9:80', direction: 'request',
        translations: [{ point, kind: 'dnat', from: '10.210.9.9:80', to: '10.210.2.20:8080', evidence: 'the same packet (tcp [S] seq 2577491157, IPv4 id 32448) was captured at host:?/rt0 to 10.210.9.9:80, then at host:?/rt1 to 10.210.2.20:8080' }],
        packets: [['tcp [S] seq 2577491157', ['host:?/rt0 0', 'host:?/rt1 174']]],
      },
      {
        flow: 'tcp 10.210.9.9:80 -> 10.210.1.10:53926', direction: 'reply',
        // The RST itself was captured on both sides: its reverse NAT is that observation, in the reply's direction.
        translations: [{ point: 'between host:?/rt1 and host:?/rt0', kind: 'revnat', from: '10.210.2.20:8080', to: '10.210.9.9:80', evidence: 'the same packet (tcp [R.] seq 0 ack 2577491158, IPv4 id 0) was captured at host:?/rt1 from 10.210.2.20:8080, then at host:?/rt0 from 10.210.9.9:80' }],
        packets: [['tcp [R.] seq 0 ack 2577491158', ['host:?/rt1 0', 'host:?/rt0 8']]],
      },
    ]);
  });
});

