import { renderJson } from '../../../src/render/json.js';
import { expectGolden } from '../../helpers/golden.js';
import { goldenPath, loadSeedLikeReport } from './seed-like-report.js';

// The fixture's top-level keys (and its first hop's) are deliberately out of the contract's order.
const REPORT_KEYS = ['schemaVersion', 'inputs', 'endpoints', 'flows', 'warnings'];
const HOP_KEYS = ['point', 'tool', 'time', 'deltaUs', 'detail', 'match', 'facts'];

describe('renderJson', () => {
  it('matches the golden report', () => {
    expectGolden(renderJson(loadSeedLikeReport(), { color: false }), goldenPath('json.txt'));
  });

  it('round-trips: parsing the output gives the report back', () => {
    const report = loadSeedLikeReport();
    expect(JSON.parse(renderJson(report, { color: false }))).toEqual(report);
  });

  it('writes keys in the contract order whatever order the report was built in, schemaVersion first', () => {
    const report = loadSeedLikeReport();
    expect(Object.keys(report)[0]).not.toBe('schemaVersion');
    const out = renderJson(report, { color: false });
    expect(out.startsWith('{\n  "schemaVersion": 1,\n')).toBe(true);
    const parsed = JSON.parse(out);
    expect(Object.keys(parsed)).toEqual(REPORT_KEYS);
    expect(Object.keys(parsed.flows[0].packets[0].hops[0])).toEqual(HOP_KEYS);
    expect(Object.keys(parsed.flows[0])).toEqual([
      'src', 'dst', 'srcIp', 'dstIp', 'protocol', 'direction', 'srcNode', 'dstNode', 'path', 'verdict', 'dropReason',
      'dropPoint', 'seenAt', 'notSeenAt', 'notObserved', 'packets', 'morePackets', 'conclusions', 'evidence',
    ]);
    expect(Object.keys(parsed.inputs[4])).toEqual(['name', 'tool', 'point', 'node', 'lines', 'understood', 'notUnderstood', 'status', 'notUnderstoodSamples']);
    expect(Object.keys(parsed.inputs[4].notUnderstoodSamples[0])).toEqual(['line', 'text', 'reason']);
    expect(Object.keys(parsed.endpoints[0])).toEqual(['pod', 'node', 'id', 'identity', 'ips', 'interface', 'ifindex', 'mac', 'hostMac']);
  });

  it('sorts the free-form facts map, keeps unknown keys after known ones and drops undefined values', () => {
    const report = loadSeedLikeReport();
    const hop = report.flows[0].packets[0].hops[4];
    (hop as unknown as Record<string, unknown>).zeta = 'added at run time';
    (hop as unknown as Record<string, unknown>).alpha = 1;
    report.endpoints[0].mac = undefined;
    const parsed = JSON.parse(renderJson(report, { color: false }));
    const out = parsed.flows[0].packets[0].hops[4];
    expect(Object.keys(out)).toEqual([...HOP_KEYS, 'alpha', 'zeta']);
    expect(Object.keys(out.facts)).toEqual(['ctState', 'dstIdentity', 'ipId', 'srcIdentity', 'ttl']);
    expect(Object.keys(parsed.endpoints[0])).not.toContain('mac');
  });

  it('keeps remote strings exactly, control characters escaped by JSON itself', () => {
    const out = renderJson(loadSeedLikeReport(), { color: false });
    expect(out).not.toContain('\x1b');
    expect(out).toContain('\\u001b[31mping\\r');
  });
});
