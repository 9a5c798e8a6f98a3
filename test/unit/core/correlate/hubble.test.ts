import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { analyzeFixtures, conclusionOf } from './analyze-fixture.js';

/**
 * Hubble flows as evidence, on the public Hubble transcripts (test/fixtures/hubble, from
 * ../shared/fixtures/real/hubble): verdicts, drop reasons, delivery by to-endpoint, socket-LB
 * translations, relay gaps; and Hubble hops joining a capture's packet, timed against it.
 */
const HUBBLE = 'test/fixtures/hubble/';
const PATH_UNKNOWN = (dir: string) => `Path unknown: no probe saw enough of the ${dir} to tell how it travelled; capture the lxc of both pods and run pwru or cilium monitor on the node.`;

describe('analyze reads Hubble output', () => {
  it('policy denied (IPv6 demo, text): the denied client is dropped by policy, the allowed one delivered', async () => {
    const report = await analyzeFixtures([`${HUBBLE}danehans-ciliumcon-2024-ipv6-only-policy-verdict-ingress-denied-dropped.txt`]);
    const denied = report.flows.find((f) => f.src === 'default/client2')!;
    expect(conclusionOf(denied)).toEqual({
      flow: 'tcp default/client2 -> default/server request',
      path: ['unknown'],
      verdict: 'dropped',
      dropReason: 'Policy denied',
      dropPoint: 'cilium:?',
      seenAt: ['cilium:?'],
      notSeenAt: [],
      notObserved: [],
      conclusions: [
        'Dropped at cilium:?: Policy denied.',
        'Path unknown: the request went no further than cilium:?, where it was dropped.',
        // The verdict record names the direction; no endpoint data names the labels, no policy object the rule.
        'Denied by policy at the ingress of default/server: Policy denied (code 133); identity 52749 (labels unknown) on port 80/TCP; which policy: unknown.',
      ],
      evidence: [{ claim: 'dropped', because: ['Hubble: policy-verdict:none INGRESS DENIED (TCP Flags: SYN)', 'Hubble: Policy denied DROPPED (TCP Flags: SYN)'] }],
    });
    // The policy verdict and the drop it caused are one hop; the SYN leaving the client's node another.
    const hops = [...denied.packets.flatMap((p) => p.hops), ...(denied.flowHops ?? [])].map((h) => [h.tool, h.detail, h.time]);
    expect(hops).toEqual([
      ['hubble', 'to-network FORWARDED', '16:53:02.772000'],
      ['hubble', 'policy-verdict:none INGRESS DENIED; Policy denied DROPPED', '16:53:02.773000'],
    ]);
    const allowed = report.flows.find((f) => f.src === 'default/client')!;
    expect([allowed.verdict, allowed.evidence]).toEqual(['delivered', [{ claim: 'delivered', because: ['Hubble: to-endpoint FORWARDED to default/server', 'the reply was seen (cilium:?)'] }]]);
  });

  it('exporter JSON: drops with their reasons at the node that saw them; JSON pods become endpoints', async () => {
    const report = await analyzeFixtures([`${HUBBLE}docs-v1.15-exporter-json-dropped-invalid-source-ip-ipv6-policy-denied.txt`]);
    expect(report.flows.map((f) => [f.protocol, f.src, f.dst, f.verdict, f.dropReason, f.dropPoint, f.evidence])).toEqual([
      ['icmp6', 'fe80::64d8:8aff:fe72:fc14', 'ff02::2', 'dropped', 'Invalid source ip', 'cilium:kind-worker',
        [{ claim: 'dropped', because: ['Hubble: Invalid source ip DROPPED (ICMPv6 router-solicitation)'] }]],
      ['tcp', '10.244.1.60 (default/xwing)', '10.244.1.5 (default/deathstar-7848d6c4d5-th9v2)', 'dropped', 'Policy denied', 'cilium:kind-worker',
        [{ claim: 'dropped', because: ['Hubble: Policy denied DROPPED (TCP Flags: SYN)'] }]],
    ]);
  });

  it('a relay that lost a node: SYNs that left without an answer stay unknown, and the gap is a warning', async () => {
    const report = await analyzeFixtures([`${HUBBLE}kkamji-2025-native-routing-relay-node-unavailable-syn-no-reply.txt`]);
    const toW0 = report.flows.filter((f) => f.dst === 'default/webpod-697b545f57-9lpt4');
    expect(toW0.map(conclusionOf)).toEqual([1, 2].map(() => ({
      flow: 'tcp default/curl-pod -> default/webpod-697b545f57-9lpt4 request',
      path: ['unknown'],
      verdict: 'unknown',
      dropReason: null,
      dropPoint: null,
      seenAt: ['cilium:?'],
      notSeenAt: [],
      notObserved: [],
      conclusions: [
        "Not enough evidence to say whether the request was delivered: nothing watched default/webpod-697b545f57-9lpt4's side, or it stayed silent.",
        PATH_UNKNOWN('request'),
      ],
      evidence: [],
    })));
    // Each kept its socket-LB translation from the ClusterIP.
    expect(toW0.map((f) => f.flowHops?.[0]?.detail)).toEqual([1, 2].map(() => 'socket LB: 10.96.54.60:80 -> default/webpod-697b545f57-9lpt4:80 (pre-xlate-fwd TRACED, post-xlate-fwd TRANSLATED)'));
    const toW1 = report.flows.filter((f) => f.dst === 'default/webpod-697b545f57-zjp55' || f.src === 'default/webpod-697b545f57-zjp55');
    expect(toW1.map((f) => [f.direction, f.verdict])).toEqual([['request', 'delivered'], ['reply', 'delivered']]);
    expect(report.warnings).toContain(`${HUBBLE}kkamji-2025-native-routing-relay-node-unavailable-syn-no-reply.txt: Hubble did not see everything: [hubble-relay-5b48c999f9-mcd7l] 1 nodes are unavailable: k8s-w0; a flow missing from its output may have gone unobserved there`);
  });

  it('socket-LB translation alone (docs 1.13): the service and its backend shown under the connection to the backend', async () => {
    const report = await analyzeFixtures([`${HUBBLE}docs-v1.13-kubeproxy-free-socklb-xlate-traced-translated.txt`]);
    expect(report.flows.map((f) => [f.src, f.dst, f.verdict, f.flowHops?.map((h) => [h.tool, h.detail, h.facts?.service])])).toEqual([
      ['default/mediabot', 'default/nginx', 'unknown', [['hubble', 'socket LB: default/nginx-service:80 -> default/nginx:80 (pre-xlate-fwd TRACED, post-xlate-fwd TRANSLATED)', 'default/nginx-service:80']]],
    ]);
  });

  it('a non-policy drop reason between reserved identities (NAT masquerade of ICMP time exceeded)', async () => {
    const report = await analyzeFixtures([`${HUBBLE}gh-cilium-issue29250-2023-dropped-unsupported-protocol-nat-masquerade-icmp-time-exceeded.txt`]);
    expect(report.flows.map((f) => [f.protocol, f.src, f.dst, f.verdict, f.dropReason])).toEqual([
      ['icmp', '192.168.252.12', '192.168.252.11', 'dropped', 'Unsupported protocol for NAT masquerade'],
      ['icmp', '192.168.252.14', '192.168.252.10', 'dropped', 'Unsupported protocol for NAT masquerade'],
    ]);
  });

  it('is_reply decides the direction Hubble JSON gives no flags for (a PSH,ACK reply from the apiserver)', async () => {
    const report = await analyzeFixtures([`${HUBBLE}imroc-tke-2026-v1.19.1-exporter-json-to-endpoint-reply-to-network.txt`]);
    expect(report.flows.map((f) => [f.src, f.direction, f.verdict])).toEqual([
      ['169.254.128.9', 'reply', 'delivered'],
      ['10.10.21.241', 'request', 'unknown'],
      ['10.10.21.241', 'request', 'unknown'],
    ]);
  });
});

describe('Hubble hops join the packets of a capture', () => {
  it('the SYN a capture saw on node1 is timed against Hubble to-network 30 µs before it, on the same node clock, and the drop on node2', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'hubble-join-'));
    const cap = join(dir, 'eth0.txt');
    writeFileSync(cap, '1700000000.000100 IP 10.0.1.5.40000 > 10.0.2.7.80: Flags [S], seq 1000, win 64240, length 0\n');
    const flow = (node: string, extra: object) => JSON.stringify({
      flow: {
        IP: { source: '10.0.1.5', destination: '10.0.2.7', ipVersion: 'IPv4' },
        l4: { TCP: { source_port: 40000, destination_port: 80, flags: { SYN: true } } },
        source: { ID: 11, identity: 100, namespace: 'default', pod_name: 'a' }, destination: { identity: 200, namespace: 'default', pod_name: 'b' },
        node_name: node, is_reply: false, ...extra,
      },
      node_name: node,
    });
    const hub1 = join(dir, 'hubble-node1.json');
    writeFileSync(hub1, `${flow('node1', { time: '2023-11-14T22:13:20.000070Z', verdict: 'FORWARDED', event_type: { type: 4, sub_type: 11 }, trace_observation_point: 'TO_NETWORK' })}\n`);
    const hub2 = join(dir, 'hubble-node2.json');
    writeFileSync(hub2, `${flow('node2', { time: '2023-11-14T22:13:20.000400Z', verdict: 'DROPPED', event_type: { type: 1, sub_type: 133 }, drop_reason_desc: 'POLICY_DENIED', traffic_direction: 'INGRESS', source: { identity: 100, namespace: 'default', pod_name: 'a' }, destination: { ID: 22, identity: 200, namespace: 'default', pod_name: 'b' } })}\n`);
    const report = await analyzeFixtures([cap, hub1, hub2], { points: [{ point: 'host:node1/eth0', file: cap }] });
    expect(report.flows).toHaveLength(1);
    const [syn] = report.flows;
    expect(syn.packets.map((p) => [p.key, p.hops.map((h) => [h.point, h.tool, h.deltaUs, h.detail])])).toEqual([
      ['tcp [S] seq 1000', [
        ['cilium:node1/11', 'hubble', 0, 'to-network FORWARDED'],
        ['host:node1/eth0', 'tcpdump', 30, 'TCP [S] seq 1000'],
        // node2's clock is another clock: no delta against node1's capture.
        ['cilium:node2/22', 'hubble', null, 'Policy denied DROPPED'],
      ]],
    ]);
    expect([syn.verdict, syn.dropReason, syn.dropPoint, syn.srcNode, syn.dstNode]).toEqual(['dropped', 'Policy denied', 'cilium:node2/22', 'node1', 'node2']);
  });

  it('pings (no identity in Hubble): each Hubble hop goes to the captured ping nearest in time on its node clock', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'hubble-near-'));
    const cap = join(dir, 'eth0.txt');
    writeFileSync(cap, [
      '1700000000.000100 IP 10.0.1.5 > 10.0.2.7: ICMP echo request, id 7, seq 1, length 64',
      '1700000001.000100 IP 10.0.1.5 > 10.0.2.7: ICMP echo request, id 7, seq 2, length 64',
      '',
    ].join('\n'));
    const ping = (time: string) => JSON.stringify({ flow: {
      time, verdict: 'FORWARDED', IP: { source: '10.0.1.5', destination: '10.0.2.7', ipVersion: 'IPv4' }, l4: { ICMPv4: { type: 8 } },
      source: { ID: 11, identity: 100 }, destination: { identity: 200 }, node_name: 'node1', event_type: { type: 4, sub_type: 11 }, trace_observation_point: 'TO_NETWORK',
    }, node_name: 'node1' });
    const hub = join(dir, 'hubble.json');
    // Printed out of order: time, not order, decides.
    // to-network is stamped in bpf_host's tc egress, before the NIC's capture tap sees the packet.
    writeFileSync(hub, `${ping('2023-11-14T22:13:21.000050Z')}\n${ping('2023-11-14T22:13:20.000080Z')}\n`);
    const report = await analyzeFixtures([cap, hub], { points: [{ point: 'host:node1/eth0', file: cap }] });
    expect(report.flows[0].packets.map((p) => [p.key, p.hops.map((h) => [h.tool, h.deltaUs])])).toEqual([
      ['icmp id 7 seq 1', [['hubble', 0], ['tcpdump', 20]]],
      ['icmp id 7 seq 2', [['hubble', 0], ['tcpdump', 50]]],
    ]);
    expect(report.flows[0].flowHops).toBeUndefined();
  });
});
