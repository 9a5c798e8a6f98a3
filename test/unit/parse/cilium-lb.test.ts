import { readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import { parseLbState, servicesByFrontend } from '../../../src/core/parse/cilium-lb.js';
import { detectFormat } from '../../../src/core/analyze/detect.js';
import { readFixture } from '../../helpers/fixtures.js';
import { expectGolden } from '../../helpers/golden.js';
import { analyzeFiles } from '../../helpers/analyze-files.js';

const FIXTURES = fileURLToPath(new URL('../../fixtures/', import.meta.url));
const GOLDEN = fileURLToPath(new URL('../../golden/cilium-lb/', import.meta.url));
const FILES = ['cilium-bpf', 'cilium-service'].flatMap((d) => readdirSync(join(FIXTURES, d)).filter((f) => f.endsWith('.txt')).sort().map((f) => join(d, f)));

function parse(file: string) {
  return parseLbState(readFixture(join(FIXTURES, file)).body);
}

describe('service, bpf lb, ct and nat tables (real fixtures)', () => {
  it('holds the seven round-2 fixtures', () => {
    expect(FILES).toHaveLength(7);
  });

  // Every note names only prompts as not tool output, and prompts are recognised: nothing stays unread.
  it.each(FILES)('%s: detected, every line understood, pinned by its golden file', (file) => {
    const { body } = readFixture(join(FIXTURES, file));
    expect(detectFormat(Buffer.from(body.join('\n')), body)).toBe('lb-state');
    const r = parse(file);
    expect(r.unparsed).toEqual([]);
    expectGolden(`${JSON.stringify(r.state, null, 2)}\n`, join(GOLDEN, `${file.replace(/\//g, '--').replace(/\.txt$/, '')}.json`));
  });

  it('service list: a ClusterIP maps to its backends per protocol, with their state', () => {
    const state = parse('cilium-service/gh-cilium-pr44301-2026-cilium-dbg-service-list-proto-suffix-kind.txt').state;
    expect(servicesByFrontend(state, '10.96.0.10', 53).map((s) => [s.id, s.frontend.proto, s.type, s.backends.map((b) => `${b.ip}:${b.port}/${b.proto} ${b.state}`)])).toEqual([
      [2, 'tcp', 'ClusterIP', ['10.244.1.69:53/tcp active', '10.244.1.109:53/tcp active']],
      [3, 'udp', 'ClusterIP', ['10.244.1.69:53/udp active', '10.244.1.109:53/udp active']],
    ]);
  });

  it('frontends without backends are kept, with none (their traffic has nowhere to go)', () => {
    const list = parse('cilium-service/imroc-tke-2026-v1.18.6-service-list-frontends-without-backends.txt').state.services;
    const lb = parse('cilium-bpf/imroc-tke-2026-v1.18.6-bpf-lb-list-lb-nodeport-clusterip-no-backend.txt').state.services;
    expect(list.map((s) => [s.type, s.frontend.ip, s.frontend.port, s.backends.length])).toEqual([['NodePort', '0.0.0.0', 30965, 0], ['LoadBalancer', '10.15.1.8', 443, 0], ['ClusterIP', '192.168.60.179', 443, 0]]);
    expect(lb.map((s) => [s.type, s.frontend.ip, s.revNatId, s.backends.length, s.flags])).toEqual([
      ['LoadBalancer', '10.15.1.8', 14, 0, ['LoadBalancer']], ['NodePort', '0.0.0.0', 12, 0, ['NodePort', 'non-routable']], ['ClusterIP', '192.168.60.179', 15, 0, ['ClusterIP', 'non-routable']],
    ]);
  });

  it('bpf lb list: slot 0 gives the revnat id, flags and L7 proxy port; backends keep their slot; the old layout its weight', () => {
    const s = parse('cilium-bpf/gh-cilium-pr31503-2024-cilium-dbg-bpf-lb-list-revnat-slot-flags-l7lb.txt').state.services;
    expect(s.find((x) => x.frontend.ip === '10.96.155.44')).toEqual({
      frontend: { ip: '10.96.155.44', port: 80 }, revNatId: 14, type: 'ClusterIP', flags: ['ClusterIP', 'non-routable'],
      backends: [{ ip: '10.244.1.211', port: 80, revNatId: 14, slot: 1 }], source: 'bpf-lb-list',
    });
    expect(s.find((x) => x.frontend.port === 32646)).toMatchObject({ type: 'NodePort', l7ProxyPort: 15735, backends: [] });
    const old = parse('cilium-bpf/gh-cilium-issue3905-2018-bpf-lb-list-old-format-slot0-backends.txt').state.services;
    expect(servicesByFrontend({ services: old, conntrack: [], nat: [] }, '10.96.0.10', 53)[0].backends).toEqual([{ ip: '10.10.1.51', port: 53, weight: 2 }]);
  });

  it('bpf ct list: tuple, direction, RevNAT, source identity per entry; an empty run gives none', () => {
    const ct = parse('cilium-bpf/gh-notes-2023-kind-bpf-ct-list-global-D-udp53-before-after.txt').state.conntrack;
    expect(ct).toHaveLength(18);
    expect(ct[0]).toMatchObject({ proto: 'udp', direction: 'OUT', src: { ip: '10.242.1.23', port: 47126 }, dst: { ip: '10.242.0.87', port: 53 }, srcIdentity: 35631 });
    expect(ct[0].revNatId).toBeUndefined();
  });

  it('bpf nat list: NAT46x64 entries with the side they rewrite and the address they rewrite to', () => {
    const nat = parse('cilium-bpf/blog-2025-nat46x64-gateway-bpf-nat-list-ipv6-xlate-src-dst.txt').state.nat;
    expect(nat.map((n) => [n.direction, `${n.src.ip}:${n.src.port}`, `${n.dst.ip}:${n.dst.port}`, n.xlate, `${n.to.ip}:${n.to.port}`])).toEqual([
      ['IN', '64:ff9b::8c52:7104:80', '192.168.64.2:33388', 'dst', '2001:db8:dead:beef::2:33388'],
      ['OUT', '2001:db8:dead:beef::2:33388', '64:ff9b::8c52:7204:80', 'src', '192.168.64.2:33388'],
    ]);
  });

  it('a line that is none of these tables is not understood', () => {
    const r = parseLbState(['ID   Frontend   Service Type   Backend', '1    not-an-address   ClusterIP', 'Error: cannot get services list']);
    expect(r.unparsed.map((u) => u.line)).toEqual([2, 3]);
  });

  it('analyze reads such a file as an input of its own and counts its lines', async () => {
    const report = await analyzeFiles(join(FIXTURES, 'cilium-service/gh-cilium-pr44301-2026-cilium-dbg-service-list-proto-suffix-kind.txt'));
    expect(report.inputs.map((i) => [i.tool, i.status, i.notUnderstood])).toEqual([['lb-state', 'ok', 0]]);
  });
});
