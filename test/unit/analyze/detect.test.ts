import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import { detectFormat, type InputFormat } from '../../../src/core/analyze/detect.js';
import { readFixture } from '../../helpers/fixtures.js';

const FIXTURES = fileURLToPath(new URL('../../fixtures/', import.meta.url));

function detect(lines: string[]): InputFormat {
  return detectFormat(Buffer.from(lines.join('\n')), lines);
}

function bodies(dir: string): Array<[string, string[]]> {
  return readdirSync(join(FIXTURES, dir)).filter((f) => f.endsWith('.txt')).sort().map((f) => [f, readFixture(join(FIXTURES, dir, f)).body]);
}

/** Fixtures whose body is no output of the tool their folder names, each with why (from its header). */
const NOT_THE_TOOL: Record<string, string> = {
  // "no monitor output at all (a cgroup path and the next heading of the doc page)"
  'docs-v1.13-trace-sock.txt': 'unknown',
};

describe('every real fixture is detected as its tool from its own lines', () => {
  it.each([
    ...bodies('tcpdump').map(([f, b]) => ['tcpdump', f, b] as const),
    ...bodies('tcpdump-forms').map(([f, b]) => ['tcpdump', f, b] as const),
    ...bodies('cilium-monitor').map(([f, b]) => [NOT_THE_TOOL[f] ?? 'monitor', f, b] as const),
    ...bodies('pwru').map(([f, b]) => ['pwru', f, b] as const),
    ...bodies('iptables-trace').map(([f, b]) => ['iptables', f, b] as const),
  ])('%s: %s', (format, _file, body) => {
    expect(detect(body)).toBe(format);
  });
});

describe('tcpdump text without a `listening on` / `reading from` line', () => {
  // The forms printed by the real tcpdump (test/fixtures/tcpdump-forms), their first line removed.
  it.each(bodies('tcpdump-forms'))('%s', (_file, body) => {
    const packets = body.filter((l) => !l.startsWith('reading from file '));
    expect(packets.length).toBe(body.length - 1);
    expect(detect(packets)).toBe('tcpdump');
  });

  it('a few -t packet lines alone', () => {
    expect(detect(['IP 10.0.1.10 > 10.0.2.20: ICMP echo request, id 4660, seq 1, length 40', 'IP 10.0.2.20 > 10.0.1.10: ICMP echo reply, id 4660, seq 1, length 40'])).toBe('tcpdump');
  });

  it('pwru --timestamp=absolute lines are not taken for tcpdump stamps', () => {
    expect(detect(['21:44:13.066 0xffff97ff83662280 0   <empty>:3552     2007043994686 nf_checksum'])).toBe('pwru');
  });
});

describe('a JSON document saved with a `#` provenance header before it (the corpus header)', () => {
  it.each([
    ['cilium-endpoint', 'debuginfo-2025-endpoint-get-33-coredns.txt', 'endpoint-json'],
    ['cilium-endpoint', 'wcni-kind-v1.15-ciliumendpoint-crd-json.txt', 'cep-json'],
  ] as const)('%s/%s: detected and read as if the header were not there', async (dir, file, format) => {
    const { parseDataInput } = await import('../../../src/core/analyze/formats.js');
    const whole = readFileSync(join(FIXTURES, dir, file), 'utf8');
    const lines = whole.split('\n');
    expect(detectFormat(Buffer.from(whole), lines)).toBe(format);
    const body = readFixture(join(FIXTURES, dir, file)).body.join('\n');
    const withHeader = parseDataInput(format, whole);
    expect(withHeader.error).toBeUndefined();
    expect(withHeader.endpoints).toEqual(parseDataInput(format, body).endpoints);
    expect(withHeader.endpoints!.length).toBeGreaterThan(0);
  });

  it('the coredns endpoint, whole', async () => {
    const { parseDataInput } = await import('../../../src/core/analyze/formats.js');
    const whole = readFileSync(join(FIXTURES, 'cilium-endpoint', 'debuginfo-2025-endpoint-get-33-coredns.txt'), 'utf8');
    const [ep] = parseDataInput('endpoint-json', whole).endpoints!;
    expect([ep.id, ep.identity, ep.pod, ep.ips, ep.interface, ep.ifindex]).toEqual([33, 24121, { namespace: 'kube-system', name: 'coredns-54558b56c7-zth5g' }, ['10.0.0.220'], 'lxcf9e134da9662', 94]);
  });
});
