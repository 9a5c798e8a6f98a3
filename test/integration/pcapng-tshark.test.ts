import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { main } from '../../src/cli/main.js';
import type { HopReport } from '../../src/core/model/report.js';
import { describeWithTools } from '../helpers/require-tools.js';
import { TextSink } from '../helpers/run-main.js';

const PCAP = 'test/fixtures/pcap';

function tshark(args: string[]): string {
  return execFileSync('tshark', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

/** tshark's view of a file: one row of fields per frame. */
function fields(file: string, names: string[]): string[][] {
  const out = tshark(['-r', file, '-T', 'fields', '-E', 'separator=|', ...names.flatMap((n) => ['-e', n])]);
  return out.split('\n').filter((l) => l !== '').map((l) => l.split('|'));
}

function countBy(values: string[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const v of values) out[v] = (out[v] ?? 0) + 1;
  return out;
}

describeWithTools('analyze --pcapng, read back by the real tshark', ['tshark', 'capinfos'], () => {
  let dir: string;
  let file: string;
  let report: HopReport;
  let stderr: string;
  let code: number;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'pcapng-'));
    file = join(dir, 'out.pcapng');
    const out = new TextSink();
    const err = new TextSink();
    code = await main(
      [
        'analyze', '-o', 'json', '--pcapng', file,
        '--point', `pod:default/a/eth0=${PCAP}/ping-arp.pcap`,
        '--point', `host:node1/lxc-b=${PCAP}/tcp-udp.pcap`,
        '--point', `pod:default/b/eth0=${PCAP}/ping-nano.pcapng`,
        `${PCAP}/ping-arp.pcap`, `${PCAP}/tcp-udp.pcap`, `${PCAP}/ping-nano.pcapng`, `${PCAP}/sll2.pcap`, `${PCAP}/dumpcap-two-ifaces.pcapng`,
      ],
      { out, err, env: {} },
    );
    report = JSON.parse(out.text) as HopReport;
    stderr = err.text;
  });

  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('opens the file and lists one interface per observation point, named by its point id', () => {
    expect(code).toBe(0);
    const info = tshark(['-r', file, '-q', '-z', 'io,stat,0']);
    expect(info).toContain('IO Statistics');
    const capinfos = execFileSync('capinfos', ['-t', '-u', file], { encoding: 'utf8' });
    expect(capinfos).toMatch(/File type:\s+Wireshark\/\.\.\. - pcapng/);
    const names = [...new Set(fields(file, ['frame.interface_name']).map(([n]) => n))].sort();
    expect(names).toEqual(['host:?/lo', 'host:?/veth-b', 'host:node1/lxc-b', 'pod:default/a/eth0', 'pod:default/b/eth0', `unknown:${PCAP}/sll2.pcap`]);
    expect(stderr).toMatch(/^wrote .*out\.pcapng: \d+ packets on 6 interfaces: /m);
  });

  it('counts the packets per interface as the report counts the records of each input', () => {
    const perInterface = countBy(fields(file, ['frame.interface_name']).map(([n]) => n));
    const records = Object.fromEntries(report.inputs.map((i) => [i.name.slice(PCAP.length + 1), i.understood]));
    expect(perInterface['pod:default/a/eth0']).toBe(records['ping-arp.pcap']);
    expect(perInterface['host:node1/lxc-b']).toBe(records['tcp-udp.pcap']);
    expect(perInterface['pod:default/b/eth0']).toBe(records['ping-nano.pcapng']);
    expect(perInterface[`unknown:${PCAP}/sll2.pcap`]).toBe(records['sll2.pcap']);
    // A file without --point keeps its own interfaces (dumpcap's veth-b and lo), as the report does.
    const original = countBy(fields(`${PCAP}/dumpcap-two-ifaces.pcapng`, ['frame.interface_name']).map(([n]) => n));
    expect(perInterface['host:?/veth-b']).toBe(original['veth-b']);
    expect(perInterface['host:?/lo']).toBe(original.lo);
    expect(perInterface['host:?/veth-b'] + perInterface['host:?/lo']).toBe(records['dumpcap-two-ifaces.pcapng']);
  });

  it('keeps every frame (wire and captured length, the protocols tshark decodes in it) and its timestamp in nanoseconds', () => {
    const ours = fields(file, ['frame.interface_name', 'frame.time_epoch', 'frame.len', 'frame.cap_len', 'frame.protocols']);
    const tsresol = tshark(['-r', file, '-T', 'fields', '-e', 'frame.interface_id', '-c', '1']);
    expect(tsresol.trim()).toMatch(/^\d+$/);
    for (const [name, source] of [['pod:default/a/eth0', 'ping-arp.pcap'], ['pod:default/b/eth0', 'ping-nano.pcapng'], [`unknown:${PCAP}/sll2.pcap`, 'sll2.pcap']]) {
      const theirs = fields(`${PCAP}/${source}`, ['frame.time_epoch', 'frame.len', 'frame.cap_len', 'frame.protocols']);
      const mine = ours.filter((r) => r[0] === name).map((r) => r.slice(1));
      expect(mine.map((r) => r.slice(1))).toEqual(theirs.map((r) => r.slice(1)));
      // Microsecond captures come back exact; nanosecond ones within the 250 ns a double carries at today's epoch.
      mine.forEach((r, i) => expect(Math.abs(Number(r[0]) - Number(theirs[i][0]))).toBeLessThan(3e-7));
      if (source === 'ping-arp.pcap') expect(mine.map((r) => r[0])).toEqual(theirs.map((r) => r[0]));
    }
    const sll2 = fields(file, ['frame.interface_name', 'sll.pkttype']).filter((r) => r[0].endsWith('sll2.pcap'));
    expect(sll2.every((r) => r[1] !== '')).toBe(true);
    const stamps = ours.map((r) => Number(r[1]));
    expect(stamps).toEqual([...stamps].sort((a, b) => a - b));
  });

  it('comments each frame with its flow\'s verdict from the report', () => {
    const rows = fields(file, ['frame.interface_name', 'icmp.type', 'frame.comment']).filter((r) => r[0] === 'pod:default/a/eth0' && r[1] === '8');
    expect(rows.length).toBeGreaterThan(0);
    for (const r of rows) expect(r[2]).toBe('datapath: ICMP 10.99.0.1 (default/a) -> 10.99.0.2, request, node1 -> ?: delivered; path unknown');
  });
});

describe('analyze --pcapng without captures', () => {
  it('prints the report, says why no file was written, and exits 1', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'pcapng-'));
    try {
      const out = new TextSink();
      const err = new TextSink();
      const file = join(dir, 'x.pcapng');
      const code = await main(['analyze', '--pcapng', file, 'test/fixtures/seed/tcpdump-same-eth0.txt'], { out, err, env: {} });
      expect(code).toBe(1);
      expect(out.text).toContain('ICMP 10.0.1.135');
      expect(err.text).toBe(`error: --pcapng ${file}: no pcap or pcapng input to take frames from (tcpdump text has no frames: capture with tcpdump -w)\n`);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
