import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { analyzeFixtures } from './analyze-fixture.js';

/**
 * analyze of every fixture alone gives no flow whose conclusion contradicts its own evidence in the
 * classes these rules own: tunnel packets are never a flow with an unknown path, a named tunnel is
 * crossed, a SYN is a request and a SYN-ACK a reply, a translation changes something, and every
 * report meets docs/report.schema.json.
 */
function files(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? files(path) : [path];
  });
}

const INPUTS = files('test/fixtures').filter((f) => /\.(txt|pcap|pcapng|json|yaml)$/.test(f) && !f.startsWith('test/fixtures/report/')).sort();
const validate = new Ajv2020({ allErrors: true, strict: true, allowUnionTypes: true }).compile(JSON.parse(readFileSync('docs/report.schema.json', 'utf8')));
const TUNNEL_PORTS = new Set([8472, 4789, 6081]);

describe('every fixture analyzed alone', () => {
  it('finds the fixtures', () => {
    expect(INPUTS.length).toBeGreaterThan(100);
  });

  it.each(INPUTS)('%s', async (path) => {
    const report = await analyzeFixtures([path]);
    const wrong: string[] = [];
    for (const f of report.flows) {
      const name = `${f.protocol} ${f.srcIp}:${f.source?.port ?? ''} > ${f.dstIp}:${f.destination?.port ?? ''}`;
      if (f.protocol === 'udp' && TUNNEL_PORTS.has(f.destination?.port ?? -1) && !f.path.includes('overlay')) wrong.push(`${name}: tunnel packets with path ${f.path.join(',')}`);
      if (f.tunnel && !f.path.includes('overlay')) wrong.push(`${name}: names a tunnel, path ${f.path.join(',')}`);
      const keys = f.packets.map((p) => p.key);
      if (keys.some((k) => k.startsWith('tcp [S] ')) && !keys.some((k) => k.startsWith('tcp [S.] ')) && f.direction !== 'request') wrong.push(`${name}: a SYN flow as ${f.direction}`);
      if (keys.some((k) => k.startsWith('tcp [S.] ')) && !keys.some((k) => k.startsWith('tcp [S] ')) && f.direction !== 'reply') wrong.push(`${name}: a SYN-ACK flow as ${f.direction}`);
      for (const t of f.translations ?? []) if (t.from === t.to) wrong.push(`${name}: translation ${t.kind} changes nothing (${t.from})`);
    }
    if (!validate(JSON.parse(JSON.stringify(report)))) wrong.push(`schema: ${JSON.stringify(validate.errors)}`);
    expect(wrong).toEqual([]);
  }, 60_000);
});
