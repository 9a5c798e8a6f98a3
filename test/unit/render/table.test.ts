import { renderTable } from '../../../src/render/table.js';
import { renderWide } from '../../../src/render/wide.js';
import { expectGolden } from '../../helpers/golden.js';
import { goldenPath, loadSeedLikeReport } from './seed-like-report.js';

const ESC = '\x1b';

describe('renderTable', () => {
  it('matches the golden report, colour off', () => {
    expectGolden(renderTable(loadSeedLikeReport(), { color: false }), goldenPath('table.txt'));
  });

  it('matches the golden report, colour on', () => {
    expectGolden(renderTable(loadSeedLikeReport(), { color: true }), goldenPath('table-color.txt'));
  });

  it('matches the golden report at 80 columns', () => {
    expectGolden(renderTable(loadSeedLikeReport(), { color: false, width: 80 }), goldenPath('table-80.txt'));
  });

  it('prints no escape code at all without colour, though remote strings carry ESC and CR', () => {
    const report = loadSeedLikeReport();
    expect(JSON.stringify(report)).toContain('\\u001b');
    for (const out of [renderTable(report, { color: false }), renderWide(report, { color: false })]) {
      expect(out).not.toContain(ESC);
      expect(out).not.toContain('\r');
      expect(out).toContain('\\x1b[31mping\\x1b[0m\\rpwru');
    }
  });

  it('with colour, emits only its own SGR codes: every ESC starts a colour the renderer chose', () => {
    const out = renderTable(loadSeedLikeReport(), { color: true });
    const codes = out.match(/\x1b\[[0-9;]*m/g) ?? [];
    expect(codes.length).toBeGreaterThan(0);
    expect(new Set(codes)).toEqual(new Set(['\x1b[1m', '\x1b[22m', '\x1b[2m', '\x1b[31m', '\x1b[32m', '\x1b[33m', '\x1b[39m']));
    expect(out.split(ESC).length - 1).toBe(codes.length);
    expect(out).toContain('\x1b[31mdropped\x1b[39m');
    expect(out).toContain('not seen: \x1b[33mhost:bpf1/lxcf9d0a91de5fb\x1b[39m');
  });

  it.each([120, 100, 80])('fits every line into %p columns, table and wide', (width) => {
    for (const render of [renderTable, renderWide]) {
      const lines = render(loadSeedLikeReport(), { color: false, width }).split('\n');
      expect(lines.filter((l) => l.length > width)).toEqual([]);
    }
  });

  it('wraps, never truncates: every word of every hop detail, conclusion and evidence is printed', () => {
    const report = loadSeedLikeReport();
    const out = renderTable(report, { color: false, width: 80 });
    expect(out).not.toContain('…');
    const words = report.flows.flatMap((f) => [
      ...f.packets.flatMap((p) => p.hops.flatMap((h) => [h.point, ...h.detail.split(' ')])),
      ...f.conclusions.flatMap((c) => c.split(' ')),
      ...f.evidence.flatMap((e) => e.because.flatMap((b) => b.split(' '))),
    ]);
    const flat = out.replace(/\s+/g, '');
    for (const word of words.filter((w) => !/[\x00-\x1f]/.test(w))) expect(flat).toContain(word.replace(/\s+/g, ''));
  });

  it('shows delta, point, tool and detail per hop, a blank delta when null and (by flow) for flow matches', () => {
    const out = renderTable(loadSeedLikeReport(), { color: false });
    expect(out).toMatch(/^ {4}\+4µs {4}host:bpf1\/lxcda6f5295b4b7 {3}tcpdump {2}same packet entering the host$/m);
    expect(out).toMatch(/^ {12}cilium:bpf1\/2836 {12}monitor {2}CT new; dst 10\.0\.1\.180 -> identity 37483; .*$/m);
    expect(out).toMatch(/3663 \(by flow\)$/m);
    expect(out).toContain('ICMP 10.0.1.135 (default/same) -> 10.0.1.180 (default/cni-6vf5d), request, bpf1');
    expect(out).toContain('TCP 10.0.1.135:41234 (default/same) -> 10.0.2.44:8080 (default/web-0), request, bpf1 -> bpf2');
    expect(out).toContain('  verdict: dropped at cilium:bpf2/1456 (Policy denied)');
    expect(out).toContain('  path: overlay -> redirect-peer');
  });

  it('says which lines of an input it did not understand, with the first sample', () => {
    const out = renderTable(loadSeedLikeReport(), { color: false });
    expect(out).toMatch(/cilium-monitor-v\.txt +monitor +cilium:bpf1 +ok +28\/30 lines understood/);
    expect(out).toContain('line 17 not understood (gopacket decode error, no packet fields in it): "Failed to decode layer');
    expect(out).not.toContain('line 29 not understood');
    expect(out).toMatch(/pwru@bpf2 +pwru +kernel:bpf2 +failed +no lines\n +pwru exited with code 1/);
  });

  it('says so when a report has no flows, and leaves out empty sections', () => {
    const report = loadSeedLikeReport();
    report.flows = [];
    report.warnings = [];
    const out = renderTable(report, { color: false });
    expect(out).toContain('No flows in this report.');
    expect(out).not.toContain('Warnings');
  });

  it('says so when a flow has no packet', () => {
    const report = loadSeedLikeReport();
    report.flows = [{ ...report.flows[3], packets: [], seenAt: [], verdict: 'lost', dropPoint: null, dropReason: null }];
    const out = renderTable(report, { color: false });
    expect(out).toContain('  no packet of this flow was seen');
    expect(out).toMatch(/bpf1 -> bpf2 +lost$/m);
  });
});

describe('renderWide', () => {
  it('matches the golden report', () => {
    expectGolden(renderWide(loadSeedLikeReport(), { color: false }), goldenPath('wide.txt'));
  });

  it('adds each hop facts and time, the MACs and every sample kept', () => {
    const out = renderWide(loadSeedLikeReport(), { color: false });
    expect(out).toContain('facts: time=09:06:46.016123, srcMac=7a:a2:51:7c:d4:40, dstMac=0e:fc:49:5b:00:dd, length=98');
    expect(out).toContain('ctState=new, ipId=4532, ttl=63, srcIdentity=31009, dstIdentity=37483');
    expect(out).toMatch(/default\/same +bpf1 +2836 +31009 +10\.0\.1\.135 +lxcda6f5295b4b7 \(28\) +7a:a2:51:7c:d4:40 +0e:fc:49:5b:00:dd/);
    const narrow = renderWide(loadSeedLikeReport(), { color: false, width: 80 });
    expect(narrow).toContain('  - default/locked-db on bpf2: endpoint -, identity -, IPs 10.0.2.77, lxc -,');
    expect(out).toContain('line 29 not understood');
    expect(renderTable(loadSeedLikeReport(), { color: false })).not.toContain('facts:');
  });
});
