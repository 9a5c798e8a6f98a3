import { cpSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { analyze } from '../../src/app/analyze.js';
import { fileCatalog } from '../../src/adapters/files.js';
import { renderers } from '../../src/render/index.js';
import { expectGolden } from '../helpers/golden.js';

/**
 * The seed (fixtures/seed: a real same-node ping on a Cilium 1.11 cluster with BPF host routing)
 * must come out as bpf_redirect_peer in both directions, with the evidence of every tool.
 */
const SEED = resolve('test/fixtures/seed');
// The seed files the analyzer reads; the raw monitor file (records joined, author remarks) and pwru -h are left out.
const INPUTS = [
  'tcpdump-same-eth0.txt', 'tcpdump-same-lxc.txt', 'tcpdump-cni-eth0.txt', 'tcpdump-cni-lxc.txt',
  'cilium-monitor-v.txt', 'pwru-v0.0.2-src-same.txt', 'pwru-v0.0.2-src-cni.txt',
  'cilium-endpoint-list.txt', 'ethtool-same-eth0.txt', 'ethtool-cni-eth0.txt',
];

async function seedReport() {
  const dir = mkdtempSync(join(tmpdir(), 'seed-'));
  try {
    for (const f of INPUTS) cpSync(join(SEED, f), join(dir, f));
    const report = await analyze({ paths: [dir], points: [], endpointFiles: [], maxPackets: 10 }, fileCatalog);
    // Temp dir names differ per run: report inputs by file name.
    for (const i of report.inputs) i.name = i.name.slice(dir.length + 1);
    report.warnings = report.warnings.map((w) => w.split(dir + '/').join(''));
    return report;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

describe('analyze on the seed captures', () => {
  it('has every input it reads', () => {
    const present = readdirSync(SEED);
    for (const f of INPUTS) expect(present).toContain(f);
  });

  it('concludes bpf_redirect_peer in both directions, with the evidence of each tool', async () => {
    const report = await seedReport();
    const icmp = report.flows.filter((f) => f.protocol === 'icmp');
    expect(icmp.map((f) => [f.srcIp, f.dstIp, f.direction])).toEqual([
      ['10.0.1.135', '10.0.1.180', 'request'],
      ['10.0.1.180', '10.0.1.135', 'reply'],
    ]);
    const [req, rep] = icmp;
    expect(req.path).toEqual(['redirect-peer']);
    expect(rep.path).toEqual(['redirect-peer']);
    expect(req.verdict).toBe('delivered');
    expect(rep.verdict).toBe('delivered');
    expect(req.seenAt).toEqual(expect.arrayContaining(['pod:default/same/eth0', 'host:bpf1/lxcda6f5295b4b7', 'pod:default/cni-6vf5d/eth0']));
    expect(req.seenAt).not.toContain('host:bpf1/lxcf9d0a91de5fb');
    expect(req.notSeenAt).toContain('host:bpf1/lxcf9d0a91de5fb');
    expect(rep.seenAt).toEqual(expect.arrayContaining(['pod:default/cni-6vf5d/eth0', 'host:bpf1/lxcf9d0a91de5fb', 'pod:default/same/eth0']));
    expect(rep.notSeenAt).toContain('host:bpf1/lxcda6f5295b4b7');
    const because = req.evidence.find((e) => e.claim === 'redirect-peer')!.because.join('\n');
    expect(because).toMatch(/lxcf9d0a91de5fb was capturing .* did not see this request/);
    expect(because).toMatch(/pwru on bpf1 .*skb_do_redirect then ip_rcv .*no ip_forward/);
    expect(because).toMatch(/endpoint 2836 attempted local delivery to endpoint 3663/);
    const endpoints = Object.fromEntries(report.endpoints.map((e) => [e.pod, e]));
    expect(endpoints['default/same']).toMatchObject({ node: 'bpf1', id: 2836, identity: 31009, ips: ['10.0.1.135'], interface: 'lxcda6f5295b4b7', ifindex: 28 });
    expect(endpoints['default/cni-6vf5d']).toMatchObject({ node: 'bpf1', id: 3663, identity: 37483, ips: ['10.0.1.180'], interface: 'lxcf9d0a91de5fb', ifindex: 24 });
  });

  it('renders as the golden table, json, mermaid and wide', async () => {
    const report = await seedReport();
    expectGolden(renderers.table(report, { color: false, width: 120 }), 'test/golden/analyze/seed.table.txt');
    expectGolden(renderers.json(report, { color: false }), 'test/golden/analyze/seed.json');
    expectGolden(renderers.mermaid(report, { color: false }), 'test/golden/analyze/seed.mermaid.md');
    expectGolden(renderers.wide(report, { color: false, width: 120 }), 'test/golden/analyze/seed.wide.txt');
  });
});
