import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { analyzeFixtures } from './analyze-fixture.js';

/**
 * Without a packet identity shared by both sides (tcpdump without -v prints no IPv4 id) and without
 * the monitor's DEBUG records (Cilium's default), the agent's service table is what ties a client's
 * connection to a ClusterIP to the one to its backend (service-table.ts). The tcpdump lines are
 * written here in tcpdump -n's format; the table is the lab's `cilium-dbg service list` (1.16 format,
 * test/lab/service-trace.test.ts).
 */
describe("the agent's service table ties a connection across the load balancer", () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'svc-table-'));
    writeFileSync(join(dir, 'client.txt'), [
      '12:00:00.000001 IP 10.0.1.135.41660 > 10.96.100.10.80: Flags [S], seq 1000, win 64240, length 0',
      '12:00:00.000300 IP 10.96.100.10.80 > 10.0.1.135.41660: Flags [S.], seq 2000, ack 1001, win 65160, length 0',
      '',
    ].join('\n'));
    writeFileSync(join(dir, 'backend.txt'), [
      '12:00:00.000100 IP 10.0.1.135.41660 > 10.0.2.87.80: Flags [S], seq 1000, win 64240, length 0',
      '12:00:00.000150 IP 10.0.2.87.80 > 10.0.1.135.41660: Flags [S.], seq 2000, ack 1001, win 65160, length 0',
      '',
    ].join('\n'));
    writeFileSync(join(dir, 'service-list.txt'), [
      'ID   Frontend              Service Type   Backend                          ',
      '1    10.96.100.10:80/TCP   ClusterIP      1 => 10.0.2.87:80/TCP (active)   ',
      '3    10.96.100.20:80/TCP   ClusterIP                                       ',
      '',
    ].join('\n'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  const run = (files: string[]) =>
    analyzeFixtures(files.map((f) => join(dir, f)), { points: [{ point: 'pod:default/same/eth0', file: join(dir, 'client.txt') }, { point: 'pod:default/web/eth0', file: join(dir, 'backend.txt') }] });

  it('a flow to a frontend and one from the same source port to its only backend are one connection, DNATed; its reply translated back', async () => {
    const report = await run(['client.txt', 'backend.txt', 'service-list.txt']);
    expect(report.flows.map((f) => ({ flow: `${f.protocol} ${f.srcIp}:${f.source?.port} -> ${f.dstIp}:${f.destination?.port}`, direction: f.direction, translations: f.translations }))).toEqual([
      {
        flow: 'tcp 10.0.1.135:41660 -> 10.96.100.10:80', direction: 'request',
        translations: [{
          point: 'between pod:default/same/eth0 and pod:default/web/eth0', kind: 'dnat', from: '10.96.100.10:80', to: '10.0.2.87:80',
          evidence: `the agent's service table (${join(dir, 'service-list.txt')}) lists 10.0.2.87:80 as a backend of 10.96.100.10:80; 10.0.1.135:41660 to 10.96.100.10:80 was seen at pod:default/same/eth0, and the same source port to 10.0.2.87:80 at pod:default/web/eth0`,
        }],
      },
      {
        flow: 'tcp 10.96.100.10:80 -> 10.0.1.135:41660', direction: 'reply',
        translations: [{
          point: 'between pod:default/same/eth0 and pod:default/web/eth0', kind: 'revnat', from: '10.0.2.87:80', to: '10.96.100.10:80',
          evidence: "reverse of the DNAT (10.96.100.10:80 -> 10.0.2.87:80): conntrack translates the reply's source back",
        }],
      },
    ]);
  });

  it('without the table the two connections stay apart: nothing says they are one', async () => {
    const report = await run(['client.txt', 'backend.txt']);
    expect(report.flows.map((f) => `${f.direction} ${f.srcIp} -> ${f.dstIp} ${(f.translations ?? []).length}`).sort()).toEqual([
      'reply 10.0.2.87 -> 10.0.1.135 0', 'reply 10.96.100.10 -> 10.0.1.135 0', 'request 10.0.1.135 -> 10.0.2.87 0', 'request 10.0.1.135 -> 10.96.100.10 0',
    ]);
  });
});
