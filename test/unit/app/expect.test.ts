import { expectationFailure, tracedVerdict } from '../../../src/app/expect.js';
import { analyzeFixtures } from '../core/correlate/analyze-fixture.js';

const xwing = { namespace: 'default', name: 'xwing' };
const deathstar = { namespace: 'default', name: 'deathstar-7848d6c4d5-th9v2' };

describe('trace --expect: the verdict of the request from SRC to DST', () => {
  it('Hubble exporter JSON (docs 1.15): xwing -> deathstar was dropped by policy; the other way there is no request', async () => {
    const report = await analyzeFixtures(['test/fixtures/hubble/docs-v1.15-exporter-json-dropped-invalid-source-ip-ipv6-policy-denied.txt']);
    const r = tracedVerdict(report, xwing, deathstar);
    expect([r.verdict, r.flows.map((f) => `${f.protocol} ${f.src} -> ${f.dst}`)]).toEqual(['dropped', ['tcp 10.244.1.60 (default/xwing) -> 10.244.1.5 (default/deathstar-7848d6c4d5-th9v2)']]);
    expect(expectationFailure(report, xwing, deathstar, 'dropped')).toBeUndefined();
    expect(expectationFailure(report, xwing, deathstar, 'delivered')).toBe(
      'expected delivered, the trace says dropped (tcp 10.244.1.60 (default/xwing) -> 10.244.1.5 (default/deathstar-7848d6c4d5-th9v2): dropped)',
    );
    expect(expectationFailure(report, deathstar, xwing, 'delivered')).toBe(
      'expected delivered, the trace says unknown (no request from default/deathstar-7848d6c4d5-th9v2 to default/xwing in the report)',
    );
  });

  it('one connection dropped among delivered ones makes the request dropped (CiliumCon demo: client delivered, client2 dropped)', async () => {
    const report = await analyzeFixtures(['test/fixtures/hubble/danehans-ciliumcon-2024-ipv6-only-policy-verdict-ingress-denied-dropped.txt']);
    // Hubble named the pods without addresses: the flow ends carry no pod fields, so nothing is matched by pod.
    expect(tracedVerdict(report, { namespace: 'default', name: 'client2' }, { namespace: 'default', name: 'server' }).verdict).toBe('unknown');
    const both = { ...report, flows: report.flows.map((f) => ({ ...f, source: { namespace: 'default', pod: 'client' }, destination: { namespace: 'default', pod: 'server' } })) };
    expect(tracedVerdict(both, { namespace: 'default', name: 'client' }, { namespace: 'default', name: 'server' }).verdict).toBe('dropped');
  });
});
