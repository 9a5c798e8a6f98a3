import { parse } from 'yaml';
import { renderJson } from '../../../src/render/json.js';
import { renderYaml } from '../../../src/render/yaml.js';
import { expectGolden } from '../../helpers/golden.js';
import { goldenPath, loadSeedLikeReport } from './seed-like-report.js';

/** Every key path of a value in document order, so two documents can be compared for order too. */
function keyPaths(value: unknown, prefix = ''): string[] {
  if (Array.isArray(value)) return value.flatMap((v, i) => keyPaths(v, `${prefix}[${i}]`));
  if (value !== null && typeof value === 'object') {
    return Object.entries(value).flatMap(([k, v]) => [`${prefix}.${k}`, ...keyPaths(v, `${prefix}.${k}`)]);
  }
  return [];
}

describe('renderYaml', () => {
  it('matches the golden report', () => {
    expectGolden(renderYaml(loadSeedLikeReport(), { color: false }), goldenPath('yaml.txt'));
  });

  it('parses back to the same data as -o json, in the same key order', () => {
    const report = loadSeedLikeReport();
    const fromYaml = parse(renderYaml(report, { color: false }));
    const fromJson = JSON.parse(renderJson(report, { color: false }));
    expect(fromYaml).toEqual(report);
    expect(keyPaths(fromYaml)).toEqual(keyPaths(fromJson));
    expect(renderYaml(report, { color: false }).startsWith('schemaVersion: 1\n')).toBe(true);
  });

  it('quotes strings a YAML 1.1 reader would take for booleans or numbers', () => {
    const report = loadSeedLikeReport();
    report.warnings = ['yes', 'no', 'on', '0777', '1e3', 'null'];
    const out = renderYaml(report, { color: false });
    expect(out).toContain('  - "yes"\n  - "no"\n  - "on"\n  - "0777"\n  - "1e3"\n  - "null"\n');
    expect(parse(out, { version: '1.1' }).warnings).toEqual(report.warnings);
  });

  it('writes no raw control character', () => {
    const out = renderYaml(loadSeedLikeReport(), { color: false });
    expect(out).not.toMatch(/[\x00-\x09\x0b-\x1f]/);
  });

  it('does not turn a shared array into an anchor and alias', () => {
    const report = loadSeedLikeReport();
    report.flows[1].notObserved = report.flows[0].notObserved;
    const out = renderYaml(report, { color: false });
    expect(out).not.toMatch(/[&*]a\d/);
  });
});
