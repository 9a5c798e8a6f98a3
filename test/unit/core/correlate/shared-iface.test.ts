import { analyzeFixtures } from './analyze-fixture.js';

/**
 * Two inputs capturing an interface of the same name on unknown nodes (the client's and the
 * server's eth0, given without --node) are not known to be one point: each is named by its input,
 * so one packet seen by both is two points, not one point seeing it twice. One input alone keeps
 * host:?/eth0. Captured here (test/fixtures/sweep/make-sweep.sh).
 */
const CLIENT = 'test/fixtures/sweep/client-eth0-e.txt';
const SERVER = 'test/fixtures/sweep/server-eth0.txt';

const pingPoints = async (files: string[]) => {
  const report = await analyzeFixtures(files);
  const req = report.flows.find((f) => f.protocol === 'icmp' && f.srcIp === '10.99.1.2' && f.dstIp === '10.99.2.2')!;
  return { seenAt: req.seenAt, first: req.packets[0].hops.map((h) => [h.point, h.deltaUs]) };
};

describe('same interface name in two inputs on unknown nodes', () => {
  it('gives each input its own point', async () => {
    expect(await pingPoints([CLIENT, SERVER])).toEqual({
      seenAt: ['host:?client-eth0-e.txt/eth0', 'host:?server-eth0.txt/eth0'],
      first: [['host:?client-eth0-e.txt/eth0', 0], ['host:?server-eth0.txt/eth0', 29]],
    });
  });

  it('keeps host:?/eth0 for one input', async () => {
    expect(await pingPoints([CLIENT])).toEqual({ seenAt: ['host:?/eth0'], first: [['host:?/eth0', 0]] });
  });
});
