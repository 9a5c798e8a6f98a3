import { chmodSync, cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { analyze, type AnalyzeRequest } from '../../../src/app/analyze.js';
import { fileCatalog } from '../../../src/adapters/files.js';

const SEED = 'test/fixtures/seed';
let dir: string;

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'analyze-inputs-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

function req(paths: string[], extra: Partial<AnalyzeRequest> = {}): AnalyzeRequest {
  return { paths, points: [], endpointFiles: [], maxPackets: 10, ...extra };
}

function statusOf(report: Awaited<ReturnType<typeof analyze>>, suffix: string): string {
  const input = report.inputs.find((i) => i.name.endsWith(suffix));
  if (!input) throw new Error(`no input ${suffix} in ${report.inputs.map((i) => i.name).join(', ')}`);
  return input.status;
}

describe('analyze with bad inputs: one clear line each, the others still analysed', () => {
  it('reports a missing file, an empty file, an unknown format, binary junk and a truncated pcap', async () => {
    const good = join(dir, 'same-eth0.txt');
    cpSync(join(SEED, 'tcpdump-same-eth0.txt'), good);
    writeFileSync(join(dir, 'empty.txt'), '');
    writeFileSync(join(dir, 'notes.txt'), 'just some prose\nthat is not the output of any tool\n');
    writeFileSync(join(dir, 'junk.bin'), Uint8Array.from({ length: 300 }, (_, i) => (i * 37) % 256));
    const pcap = readFileSync('test/fixtures/pcap/ping-arp.pcap');
    writeFileSync(join(dir, 'cut.pcap'), pcap.subarray(0, pcap.length - 7));
    const report = await analyze(req([dir, join(dir, 'missing.txt')]), fileCatalog);

    expect(statusOf(report, 'same-eth0.txt')).toBe('ok');
    expect(statusOf(report, 'missing.txt')).toMatch(/^failed: .*missing\.txt does not exist: check the path$/);
    expect(statusOf(report, 'empty.txt')).toMatch(/^empty: .*empty\.txt has no content$/);
    expect(statusOf(report, 'notes.txt')).toMatch(/^unknown-format: .*not output of a tool analyze reads/);
    expect(statusOf(report, 'junk.bin')).toMatch(/^unknown-format: .*binary but not a pcap or pcapng file$/);
    expect(statusOf(report, 'cut.pcap')).toMatch(/^partial: .*truncated/);
    for (const i of report.inputs) expect(i.status).not.toContain('\n');
    // The good capture is still analysed, and every bad input is a warning.
    expect(report.flows.some((f) => f.protocol === 'icmp' && f.srcIp === '10.0.1.135')).toBe(true);
    expect(report.warnings.filter((w) => /missing|empty|notes|junk|cut\.pcap/.test(w))).toHaveLength(5);
  });

  it('passes over the report.html a trace --save wrote in the directory, but reads one given by name', async () => {
    cpSync(join(SEED, 'tcpdump-same-eth0.txt'), join(dir, 'same-eth0.txt'));
    writeFileSync(join(dir, 'report.html'), '<!DOCTYPE html>\n<html lang="en"><head></head></html>\n');
    const report = await analyze(req([dir]), fileCatalog);
    expect(report.inputs.map((i) => [i.name.slice(dir.length + 1), i.status])).toEqual([['same-eth0.txt', 'ok']]);
    const named = await analyze(req([join(dir, 'report.html')]), fileCatalog);
    expect(named.inputs.map((i) => i.status.split(':')[0])).toEqual(['unknown-format']);
  });

  it('reports an unreadable file', async () => {
    if (process.getuid?.() === 0) {
      // root reads anything: a directory given as a file is the unreadable case root still meets.
      const report = await analyze(req([join(dir)]), fileCatalog);
      expect(report.inputs[0].status).toMatch(/is a directory with no files in it/);
      return;
    }
    const f = join(dir, 'secret.txt');
    writeFileSync(f, 'x\n');
    chmodSync(f, 0);
    const report = await analyze(req([f]), fileCatalog);
    expect(report.inputs[0].status).toMatch(/permission denied/);
  });

  it('counts lines it did not understand and shows samples with line numbers', async () => {
    const f = join(dir, 'mixed.txt');
    writeFileSync(f, [readFileSync(join(SEED, 'tcpdump-same-eth0.txt'), 'utf8').trimEnd(), 'this line is a remark someone typed', ''].join('\n'));
    const report = await analyze(req([f]), fileCatalog);
    const input = report.inputs[0];
    expect(input.notUnderstood).toBe(1);
    expect(input.understood).toBe(input.lines - 1);
    expect(input.notUnderstoodSamples).toEqual([expect.objectContaining({ text: 'this line is a remark someone typed' })]);
  });

  it('reads monitor records a pasted transcript joined on one line one by one (the raw seed notes)', async () => {
    const report = await analyze(req([join(SEED, 'cilium-monitor-v-raw.txt')], { node: 'bpf1' }), fileCatalog);
    const input = report.inputs[0];
    // Lines 1, 4, 7, 13 and 15 carry the author's remarks; line 19 joins three whole records.
    expect(input.notUnderstoodSamples!.map((s) => s.line)).toEqual([1, 4, 7, 13, 15]);
    expect(input.notUnderstood).toBe(5);
    expect(input.understood).toBe(input.lines - 5);
    expect(input.notUnderstoodSamples![2].reason).toBe('one of 3 records joined on the line: DEBUG message not understood');
    // With the joined lines read, the notes show both directions.
    expect(report.flows.map((f) => `${f.src} > ${f.dst}`).sort()).toEqual(['10.0.1.135 > 10.0.1.180', '10.0.1.180 > 10.0.1.135']);
  });

  it('keeps N packets per flow in detail and counts the rest', async () => {
    const lines = ['listening on eth0, link-type EN10MB (Ethernet), snapshot length 262144 bytes'];
    for (let seq = 0; seq < 25; seq++) {
      lines.push(`09:06:46.${String(100000 + seq).padStart(6, '0')} IP 10.0.1.135 > 10.0.1.180: ICMP echo request, id 7, seq ${seq}, length 64`);
    }
    const f = join(dir, 'many.txt');
    writeFileSync(f, lines.join('\n') + '\n');
    const report = await analyze(req([f], { maxPackets: 4, points: [{ point: 'pod:default/same/eth0', file: f }] }), fileCatalog);
    const flow = report.flows.find((x) => x.protocol === 'icmp')!;
    expect(flow.packets).toHaveLength(4);
    expect(flow.morePackets).toBe(21);
    expect(report.inputs[0].point).toBe('pod:default/same/eth0');
  });

  it('says so when --point is not a point id', async () => {
    const f = join(dir, 'same.txt');
    cpSync(join(SEED, 'tcpdump-same-lxc.txt'), f);
    const report = await analyze(req([f], { points: [{ point: 'lxc123', file: f }] }), fileCatalog);
    expect(report.warnings.join('\n')).toMatch(/--point lxc123=.*: lxc123 is not a point id/);
  });
});
