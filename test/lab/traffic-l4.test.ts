/**
 * `--traffic tcp:PORT` and `udp:PORT` against the lab, for real: nc (netcat-openbsd, in the
 * netshoot image as in the real one) in the source pod's netns, the `web` pod answering HTTP on
 * 80 and echoing UDP on 53 (emulated/pod-servers.ts, real sockets in its netns). Every packet of
 * the handshake, the data and the FINs is the kernel's; the report must make one request flow and
 * one reply flow per connection, the SYN-ACK and the answers in the reply flow of their SYN's
 * connection, each with its whole path and verdict. BPF host routing, native routing.
 */
import type { HopReport, ReportFlow } from '../../src/core/model/report.js';
import { cli, useApiLab } from './api-lab.js';
import { describeAsRoot } from './require-root.js';

const CROSS = ['redirect-neigh', 'native-routing', 'redirect-peer'];
const SAME = ['redirect-peer'];

/** The TCP flags of a packet key (`tcp [S.] seq 1 ack 2` -> `[S.]`). */
const flagsOf = (key: string): string => /\[[^\]]*\]/.exec(key)?.[0] ?? key;
const seqOf = (key: string, field: 'seq' | 'ack'): number => Number(new RegExp(`${field} (\\d+)`).exec(key)?.[1]);

function side(f: ReportFlow) {
  if (f.packets.length === 0) throw new Error(`a flow without packets: ${f.src}:${f.source?.port} > ${f.dst}:${f.destination?.port} ${JSON.stringify(f.flowHops?.map((h) => `${h.point} ${h.tool} ${h.detail}`))}`);
  return { path: f.path, verdict: f.verdict, outcome: f.outcome, flags: [...new Set(f.packets.map((p) => flagsOf(p.key)))].sort(), first: flagsOf(f.packets[0].key) };
}

/**
 * Per connection of the source pod (the client's port): its request flow and the reply flow whose
 * ports mirror it. Hubble's `--since 1s` can bring a flow of the previous test's trace along (only
 * Hubble saw it): not this source's.
 */
function connections(report: HopReport, protocol: 'tcp' | 'udp', srcPod: string) {
  const requests = report.flows.filter((f) => f.protocol === protocol && f.direction === 'request' && f.source?.pod === srcPod);
  return requests.map((req) => {
    const replies = report.flows.filter((f) => f.protocol === protocol && f.direction === 'reply' && f.srcIp === req.dstIp && f.source?.port === req.destination?.port && f.destination?.port === req.source?.port);
    if (replies.length !== 1) throw new Error(`${replies.length} reply flows for ${req.src}:${req.source?.port}`);
    return { request: req, reply: replies[0] };
  });
}

describeAsRoot('TCP and UDP traffic through the lab (bpf host routing, native routing)', () => {
  const lab = useApiLab('disabled');
  const trace = async (src: string, dst: string, traffic: string, count: number, more: string[] = []) => {
    const r = await cli(['trace', src, dst, '--kubeconfig', lab().kubeconfig, '-o', 'json', '--traffic', traffic, '--count', String(count), ...more]);
    return { code: r.code, err: r.err, report: JSON.parse(r.out) as HopReport };
  };

  it.each([
    ['cross node', 'same', 2, CROSS],
    ['same node', 'cni-x7k2m', 1, SAME],
  ])('tcp:80 %s: one request and one reply flow per connection, handshake, data and FINs both ways, delivered', async (_kind, src, count, path) => {
    const { code, report } = await trace(src, 'web', 'tcp:80', count);
    expect(code).toBe(0);
    const conns = connections(report, 'tcp', src);
    expect(conns.map((c) => ({ request: side(c.request), reply: side(c.reply) }))).toEqual(
      Array.from({ length: count }, () => ({
        request: { path, verdict: 'delivered', outcome: 'delivered', flags: ['[.]', '[F.]', '[P.]', '[S]'], first: '[S]' },
        reply: { path, verdict: 'delivered', outcome: 'delivered', flags: ['[.]', '[F.]', '[P.]', '[S.]'], first: '[S.]' },
      })),
    );
    // The SYN-ACK in each reply flow answers that connection's SYN (ack = the SYN's seq + 1).
    for (const c of conns) expect(seqOf(c.reply.packets[0].key, 'ack')).toBe(seqOf(c.request.packets[0].key, 'seq') + 1);
    expect(new Set(conns.map((c) => c.request.source?.port)).size).toBe(count);
  }, 120_000);

  it.each([
    ['cross node', 'same', CROSS],
    ['same node', 'cni-x7k2m', SAME],
  ])('udp:53 %s: the datagram and its echo, one flow each, delivered', async (_kind, src, path) => {
    const { code, report } = await trace(src, 'web', 'udp:53', 1);
    expect(code).toBe(0);
    const summary = (f: ReportFlow) => ({ path: f.path, verdict: f.verdict, outcome: f.outcome, packets: f.packets.length, ports: [f.source?.port === 53, f.destination?.port === 53] });
    expect(connections(report, 'udp', src).map((c) => ({ request: summary(c.request), reply: summary(c.reply) }))).toEqual([
      { request: { path, verdict: 'delivered', outcome: 'delivered', packets: 1, ports: [false, true] }, reply: { path, verdict: 'delivered', outcome: 'delivered', packets: 1, ports: [true, false] } },
    ]);
  }, 120_000);

  it('tcp to a port nothing listens on: the SYN is refused by the RST of the pod that got it', async () => {
    const { code, report } = await trace('same', 'web', 'tcp:81', 1);
    expect(code).toBe(0);
    expect(connections(report, 'tcp', 'same').map((c) => ({ request: { ...side(c.request), reason: c.request.outcomeReason }, reply: side(c.reply) }))).toEqual([
      {
        request: { path: CROSS, verdict: 'delivered', outcome: 'refused', flags: ['[S]'], first: '[S]', reason: 'refused: answered by RST (nothing listens on the port, or a firewall rejects it)' },
        reply: { path: CROSS, verdict: 'delivered', outcome: 'delivered', flags: ['[R.]'], first: '[R.]' },
      },
    ]);
  }, 120_000);

  it('traffic that cannot be sent (no nc in the nginx image, no capture pod to send it from) exits 3 and the report says why', async () => {
    const { code, report } = await trace('web', 'same', 'tcp:80', 1, ['--probes', 'monitor']);
    expect({ code, warning: report.warnings[0], flows: report.flows.length }).toEqual({
      code: 3,
      warning: 'could not send tcp:80 from default/web: nc is not in the image of default/web (web), and it cannot be sent from its node either (no probe pod on bpf2); use --traffic none and make the traffic yourself',
      flows: 0,
    });
  }, 120_000);
});
