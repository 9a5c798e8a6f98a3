import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { Ajv2020 } from 'ajv/dist/2020.js';

/**
 * docs/report.schema.json describes the whole report (schemaVersion 1). Every golden report the
 * renderers and analyze write (json, and yaml read back) must validate against it, so a field
 * added to the model without the schema, or a value outside its contract, fails here.
 */
const schema = JSON.parse(readFileSync('docs/report.schema.json', 'utf8'));
const ajv = new Ajv2020({ allErrors: true, strict: true, allowUnionTypes: true });
const validate = ajv.compile(schema);

function files(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? files(path) : [path];
  });
}

/** Golden files that hold a whole report: JSON or YAML whose top level has schemaVersion. */
function goldenReports(): { path: string; report: unknown }[] {
  const out: { path: string; report: unknown }[] = [];
  for (const path of [...files('test/golden'), ...files('test/fixtures/report')]) {
    const text = readFileSync(path, 'utf8');
    let value: unknown;
    try {
      value = /\.ya?ml$|yaml\.txt$/.test(path) ? parseYaml(text) : JSON.parse(text);
    } catch {
      continue;
    }
    if (value && typeof value === 'object' && !Array.isArray(value) && 'schemaVersion' in value) out.push({ path, report: value });
  }
  return out;
}

describe('docs/report.schema.json', () => {
  const reports = goldenReports();

  it('finds the golden reports (analyze json, render json and yaml)', () => {
    expect(reports.map((r) => r.path)).toEqual(expect.arrayContaining(['test/golden/analyze/seed.json', 'test/golden/render/json.txt', 'test/golden/render/yaml.txt']));
  });

  it.each(reports.map((r) => [r.path, r.report]))('validates %s', (_path, report) => {
    const ok = validate(report);
    expect(validate.errors ?? []).toEqual([]);
    expect(ok).toBe(true);
  });

  it('rejects a report that breaks the contract (a translation of an unknown kind, a flow without its ends typed)', () => {
    const report = structuredClone(reports.find((r) => r.path === 'test/golden/analyze/seed.json')!.report) as { flows: Record<string, unknown>[] };
    report.flows[0].translations = [{ point: 'socket-lb', kind: 'portmap', from: '10.96.0.1:80', to: '10.0.0.1:80', evidence: 'x' }];
    report.flows[0].source = { ip: 10 };
    expect(validate(report)).toBe(false);
    expect(validate.errors!.map((e) => e.instancePath).sort()).toEqual(['/flows/0/source/ip', '/flows/0/translations/0/kind']);
  });
});
