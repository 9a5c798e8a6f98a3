import { readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { hubbleParser, type HubbleContext } from '../../../src/core/parse/hubble.js';
import type { HubbleEvent } from '../../../src/core/model/event.js';
import type { ParseResult } from '../../../src/core/parse/result.js';
import { detectFormat } from '../../../src/core/analyze/detect.js';
import { readFixture } from '../../helpers/fixtures.js';
import { expectGolden } from '../../helpers/golden.js';
import { resultRows, rowsJson, runParser } from '../../helpers/run-parser.js';

const FIXTURES = fileURLToPath(new URL('../../fixtures/hubble/', import.meta.url));
const GOLDEN = fileURLToPath(new URL('../../golden/hubble/', import.meta.url));

function run(lines: string[], start?: HubbleContext): ParseResult<HubbleEvent>[] {
  return runParser(hubbleParser, lines, start).results;
}

function lastEvent(lines: string[]): HubbleEvent {
  const r = run(lines).at(-1)!;
  if (r.kind !== 'event') throw new Error(`expected an event, got ${JSON.stringify(r)}`);
  return r.event;
}

/*
 * Lines laid out as hubble's printer writes them (cilium/cilium hubble/pkg/printer/printer.go
 * WriteProtoFlow; cilium/hubble pkg/printer/printer.go before the move): compact is
 * `TIME[ [NODE]]: SRC (ID) ARROW DST (ID) TYPE VERDICT (SUMMARY)`, time.StampMilli, UTC.
 */
describe('hubble compact text', () => {
  it('reads a forwarded trace with identities; `->` keeps the ends', () => {
    expect(lastEvent(['Mar 14 16:53:02.772: default/client2:49558 (ID:52749) -> default/server:80 (ID:7156) to-network FORWARDED (TCP Flags: SYN)'])).toEqual({
      tool: 'hubble', kind: 'trace', obsPoint: 'to-network', verdict: 'FORWARDED', isReply: false,
      time: { clock: 'time-of-day', us: (16 * 3600 + 53 * 60 + 2) * 1e6 + 772000 }, date: 'Mar 14',
      src: { name: 'default/client2', namespace: 'default', pod: 'client2', port: 49558, identity: 52749 },
      dst: { name: 'default/server', namespace: 'default', pod: 'server', port: 80, identity: 7156 },
      summary: 'TCP Flags: SYN',
      packet: { l4: { proto: 'tcp', srcPort: 49558, dstPort: 80, tcpFlags: 'S' } },
    });
  });

  it('`<-` is a reply the printer turned around: the packet went from the right end to the left one', () => {
    const e = lastEvent(['Aug  9 22:59:35.908: default/curl-pod:38926 (ID:31109) <- default/webpod-697b545f57-zjp55:80 (ID:9214) to-network FORWARDED (TCP Flags: SYN, ACK)']);
    expect([e.src.name, e.src.port, e.dst.name, e.dst.port, e.isReply, e.packet?.l4?.tcpFlags, e.date]).toEqual(
      ['default/webpod-697b545f57-zjp55', 80, 'default/curl-pod', 38926, true, 'S.', 'Aug 9']);
  });

  it('with --print-node-name the node follows the time in brackets; a cluster prefix is dropped', () => {
    const e = lastEvent(['Jul 25 13:21:15.569 [kind-kind/kind-worker]: 10.244.1.60:44916 (ID:1234) -> 10.244.1.5:80 (ID:5678) to-endpoint FORWARDED (TCP Flags: ACK, PSH)']);
    expect([e.node, e.packet]).toEqual(['kind-worker', {
      ip: { version: 4, src: '10.244.1.60', dst: '10.244.1.5', proto: 'tcp' },
      l4: { proto: 'tcp', srcPort: 44916, dstPort: 80, tcpFlags: 'P.' },
    }]);
  });

  it('reads policy verdicts, drops with reasons of several words, reserved identities and ICMP summaries', () => {
    const [pv, drop, nat] = run([
      'Mar 14 16:53:02.773: default/client2:49558 (ID:52749) <> default/server:80 (ID:7156) policy-verdict:none INGRESS DENIED (TCP Flags: SYN)',
      'Mar 14 16:53:02.773: default/client2:49558 (ID:52749) <> default/server:80 (ID:7156) Policy denied DROPPED (TCP Flags: SYN)',
      'Nov 18 16:45:34.703: 192.168.252.12 (host) <> 192.168.252.11 (remote-node) Unsupported protocol for NAT masquerade DROPPED (ICMPv4 TimeExceeded(TTLExceeded))',
    ]).map((r) => (r.kind === 'event' ? r.event : undefined));
    expect([pv?.kind, pv?.policyMatch, pv?.direction, pv?.verdict, pv?.isReply]).toEqual(['policy-verdict', 'none', 'ingress', 'DENIED', undefined]);
    expect([drop?.kind, drop?.dropReason, drop?.verdict]).toEqual(['drop', 'Policy denied', 'DROPPED']);
    expect([nat?.dropReason, nat?.src, nat?.dst, nat?.packet]).toEqual([
      'Unsupported protocol for NAT masquerade',
      { ip: '192.168.252.12', identity: 1, identityName: 'host' },
      { ip: '192.168.252.11', identity: 6, identityName: 'remote-node' },
      { ip: { version: 4, src: '192.168.252.12', dst: '192.168.252.11', proto: 'icmp' }, l4: { proto: 'icmp', icmpType: 'time-exceeded' } },
    ]);
  });

  it('before hubble PR #745: no identities, an allowed policy verdict printed as its match type', () => {
    const e = lastEvent(['Jun 10 12:50:15.555: default/cronjob-1623329400-8mg2z:43006 -> default/deployment-85c67465d6-tfgcp:8087 L3-Only FORWARDED (TCP Flags: SYN)']);
    expect([e.kind, e.policyMatch, e.src.identity, e.dst.port]).toEqual(['policy-verdict', 'L3-Only', undefined, 8087]);
  });

  it('socket-LB translation points, the service shown by name, IPv6 with brackets, the IP trace id', () => {
    const [pre, v6] = run([
      'Jan 13 13:47:20.932: default/mediabot (ID:5618) <> default/nginx-service:80 (world) pre-xlate-fwd TRACED (TCP)',
      '2024-03-14T16:53:01.240123456Z: [fd00:10:244::6321]:50584 (ID:63530) -> [fd00:10:244:1::7c58]:80 (ID:7156) to-endpoint FORWARDED (IP Trace ID: 77; TCP Flags: ACK)',
    ]).map((r) => (r.kind === 'event' ? r.event : undefined));
    expect([pre?.kind, pre?.xlatePoint, pre?.verdict, pre?.dst]).toEqual(['trace-sock', 'pre-xlate-fwd', 'TRACED', { name: 'default/nginx-service', namespace: 'default', pod: 'nginx-service', port: 80, identity: 2, identityName: 'world' }]);
    expect([v6?.time, v6?.ipTraceId, v6?.summary, v6?.packet?.ip]).toEqual([
      { clock: 'wall', us: Date.UTC(2024, 2, 14, 16, 53, 1) * 1000 + 240123 }, '77', 'TCP Flags: ACK',
      { version: 6, src: 'fd00:10:244::6321', dst: 'fd00:10:244:1::7c58', proto: 'tcp' },
    ]);
  });

  it('relay notices are meta, agent and debug events ignored, other lines counted with a reason', () => {
    expect(run([
      'Aug  9 22:59:28.481 [hubble-relay-5b48c999f9-mcd7l]: 1 nodes are unavailable: k8s-w0',
      'Jan 13 13:47:20.932: POLICY_UPDATED (labels: [k8s:io.cilium.k8s.policy.name=x], revision: 2, count: 1)',
      'Jan 13 13:47:20.932: default/x (ID: 5) DBG_GENERIC MARK: 0x0 CPU: 01 (Generic debug message)',
      'Jan 13 13:47:20.932: something else entirely',
      'hello',
    ])).toEqual([
      { kind: 'meta', meta: { note: '[hubble-relay-5b48c999f9-mcd7l] 1 nodes are unavailable: k8s-w0' } },
      { kind: 'ignored', reason: 'hubble agent event' },
      { kind: 'ignored', reason: 'hubble debug event' },
      { kind: 'unparsed', reason: 'hubble line without SRC ARROW DST TYPE VERDICT (SUMMARY)' },
      { kind: 'unparsed', reason: 'not a hubble observe line' },
    ]);
  });
});

describe('hubble table and dict text', () => {
  it('-o table: cells three spaces apart under the header, with the NODE column', () => {
    const r = run([
      'TIMESTAMP             NODE          SOURCE                   DESTINATION          TYPE          VERDICT     SUMMARY',
      'Aug  9 22:59:35.907   k8s-w1        default/curl-pod:38926   10.0.2.15:80         to-endpoint   FORWARDED   TCP Flags: SYN',
    ]);
    expect(r[0]).toEqual({ kind: 'meta', meta: { note: 'hubble table columns' } });
    const e = (r[1] as { event: HubbleEvent }).event;
    expect([e.node, e.src.name, e.dst.ip, e.obsPoint, e.verdict, e.isReply]).toEqual(['k8s-w1', 'default/curl-pod', '10.0.2.15', 'to-endpoint', 'FORWARDED', undefined]);
  });

  it('-o dict: the SUMMARY line closes the block with the event', () => {
    const r = run([
      '  TIMESTAMP: Aug  9 22:59:35.907',
      '     SOURCE: 10.0.1.5:38926',
      'DESTINATION: 10.0.2.15:80',
      '       TYPE: Policy denied',
      '    VERDICT: DROPPED',
      '    SUMMARY: TCP Flags: SYN',
      '------------',
    ]);
    expect(r.map((x) => x.kind)).toEqual(['meta', 'meta', 'meta', 'meta', 'meta', 'event', 'ignored']);
    const e = (r[5] as { event: HubbleEvent }).event;
    expect([e.kind, e.dropReason, e.packet?.ip?.src, e.packet?.l4?.dstPort]).toEqual(['drop', 'Policy denied', '10.0.1.5', 80]);
  });
});

describe('hubble JSON', () => {
  const flow = {
    time: '2023-08-21T12:12:18.510175415Z', verdict: 'DROPPED', drop_reason: 133,
    IP: { source: '10.244.1.60', destination: '10.244.1.5', ipVersion: 'IPv4' },
    l4: { TCP: { source_port: 44916, destination_port: 80, flags: { SYN: true } } },
    source: { ID: 12, identity: 5678, namespace: 'default', pod_name: 'xwing' },
    destination: { identity: 2, labels: ['reserved:world'] },
    event_type: { type: 1, sub_type: 133 }, drop_reason_desc: 'POLICY_DENIED', traffic_direction: 'EGRESS',
    node_name: 'kind-kind/kind-worker', is_reply: false, Summary: 'TCP Flags: SYN',
    trace_context: { parent: { trace_id: '4bf92f3577b34da6a3ce929d0e0e4736' } },
  };
  const expected: HubbleEvent = {
    tool: 'hubble', kind: 'drop', verdict: 'DROPPED', dropReason: 'Policy denied', dropReasonDesc: 'POLICY_DENIED', dropCode: 133,
    time: { clock: 'wall', us: Date.UTC(2023, 7, 21, 12, 12, 18) * 1000 + 510175 }, node: 'kind-worker', direction: 'egress', isReply: false,
    src: { endpointId: 12, identity: 5678, namespace: 'default', pod: 'xwing', name: 'default/xwing', ip: '10.244.1.60', port: 44916 },
    dst: { identity: 2, identityName: 'world', labels: ['reserved:world'], ip: '10.244.1.5', port: 80 },
    summary: 'TCP Flags: SYN', traceId: '4bf92f3577b34da6a3ce929d0e0e4736',
    packet: { ip: { version: 4, src: '10.244.1.60', dst: '10.244.1.5', proto: 'tcp' }, l4: { proto: 'tcp', srcPort: 44916, dstPort: 80, tcpFlags: 'S' } },
  };

  it('-o jsonpb (GetFlowsResponse) and the bare flow of -o json give the same event', () => {
    expect(lastEvent([JSON.stringify({ flow, node_name: flow.node_name, time: flow.time })])).toEqual(expected);
    expect(lastEvent([JSON.stringify(flow)])).toEqual(expected);
  });

  it('a trace event without trace_observation_point takes it from event_type.sub_type (api.TraceToNetwork = 11)', () => {
    const e = lastEvent([JSON.stringify({ flow: { verdict: 'FORWARDED', event_type: { type: 4, sub_type: 11 }, IP: { source: '1.1.1.1', destination: '2.2.2.2' }, l4: { ICMPv4: { type: 8 } } } })]);
    expect([e.kind, e.obsPoint, e.summary, e.packet?.l4]).toEqual(['trace', 'to-network', 'ICMPv4 echo-request', { proto: 'icmp', icmpType: 'echo-request' }]);
  });

  it('node status and lost events are meta; other objects and broken JSON are counted with a reason', () => {
    expect(run([
      '{"node_status":{"state_change":"NODE_UNAVAILABLE","node_names":["k8s-w0"]},"node_name":"relay"}',
      '{"lost_events":{"source":"PERF_EVENT_RING_BUFFER","num_events_lost":3}}',
      '{"agent_event":{"type":"POLICY_UPDATED"}}',
      '{"skb":"0xffff"}',
      '{"flow": ',
    ])).toEqual([
      { kind: 'meta', meta: { note: 'Hubble node status NODE_UNAVAILABLE: k8s-w0' } },
      { kind: 'meta', meta: { note: 'Hubble lost 3 events (PERF_EVENT_RING_BUFFER)' } },
      { kind: 'ignored', reason: 'hubble agent or debug event' },
      { kind: 'unparsed', reason: 'JSON object is neither a Hubble flow nor a GetFlowsResponse' },
      { kind: 'unparsed', reason: 'invalid JSON' },
    ]);
  });
});

describe('hubble fixtures (../shared/fixtures/real/hubble)', () => {
  const files = readdirSync(FIXTURES).filter((f) => f.endsWith('.txt')).sort();
  it('has every fixture', () => expect(files.length).toBe(8));
  for (const file of files) {
    it(`${file}: every line understood, golden parse`, () => {
      const { body, bodyStartLine } = readFixture(FIXTURES + file);
      const results = run(body);
      expect(results.filter((r) => r.kind === 'unparsed')).toEqual([]);
      expectGolden(rowsJson(resultRows(results, bodyStartLine)), `${GOLDEN}${file.replace(/\.txt$/, '')}.events.json`);
    });
  }
});

describe('analyze tells Hubble output from the other tools', () => {
  it.each([
    ['compact', 'Jan 13 13:47:20.932: default/mediabot (ID:5618) <> default/nginx-service:80 (world) pre-xlate-fwd TRACED (TCP)'],
    ['compact before #745, with the node', 'Jun 10 12:50:15.555 [k8s-w1]: 10.8.14.163:43006 <> default/deployment:8087 Policy denied DROPPED (TCP Flags: SYN)'],
    ['relay notice', 'Aug  9 22:59:28.481 [hubble-relay-5b48c999f9-mcd7l]: 1 nodes are unavailable: k8s-w0'],
    ['table', 'TIMESTAMP             SOURCE                   DESTINATION          TYPE          VERDICT     SUMMARY'],
    ['jsonpb', '{"flow":{"time":"2023-08-21T12:12:13.517394084Z","verdict":"DROPPED"},"node_name":"kind-worker"}'],
    ['bare flow', '{"time":"2023-08-21T12:12:13.517394084Z","verdict":"FORWARDED","IP":{"source":"1.1.1.1"}}'],
  ])('%s', (_name, line) => {
    expect(detectFormat(new TextEncoder().encode(line), [line])).toBe('hubble');
  });

  it('monitor, tcpdump, pwru JSON and an iptables kernel log line stay theirs', () => {
    const cases: [string, string][] = [
      ['-> endpoint 3663 flow 0x0 , identity 31009->37483 state new ifindex lxcda6f5295b4b7 orig-ip 10.0.1.135: 10.0.1.135 -> 10.0.1.180 EchoRequest', 'monitor'],
      ['12:00:00.000001 IP 10.0.1.5.40000 > 10.0.2.7.80: Flags [S], seq 1, win 1, length 0', 'tcpdump'],
      ['{"skb":"0xffff9afcb4519b00","func":"ip_rcv"}', 'pwru'],
      ['Dec  7 10:00:00 node1 kernel: [ 1.0] TRACE: raw:PREROUTING:policy:2 IN=eth0 OUT= SRC=1.1.1.1 DST=2.2.2.2', 'iptables'],
    ];
    expect(cases.map(([line]) => detectFormat(new TextEncoder().encode(line), [line]))).toEqual(cases.map(([, f]) => f));
  });
});
