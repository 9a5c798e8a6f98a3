import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import { parsePolicyGet } from '../../../src/core/parse/cilium-policy.js';
import { detectFormat } from '../../../src/core/analyze/detect.js';
import { readFixture } from '../../helpers/fixtures.js';
import { expectGolden } from '../../helpers/golden.js';

const FIXTURE = fileURLToPath(new URL('../../fixtures/cilium-policy/docs-v1.13-policy-troubleshooting-endpoint-get-derived-from-policy-get-json-revision.txt', import.meta.url));
const GOLDEN = fileURLToPath(new URL('../../golden/cilium-policy/docs-v1.13-policy-troubleshooting-endpoint-get-derived-from-policy-get-json-revision.json', import.meta.url));

describe('cilium policy get (docs v1.13 fixture)', () => {
  const { body, bodyStartLine } = readFixture(FIXTURE);

  it('is detected as policy output', () => {
    expect(detectFormat(Buffer.from(body.join('\n')), body)).toBe('policy-get');
  });

  it('the rule: selector, L3 peer, L4 port and the L7 kind, its k8s name and namespace, the revision; golden pinned', () => {
    const r = parsePolicyGet(body);
    expectGolden(`${JSON.stringify(r, null, 2)}\n`, GOLDEN);
    expect(r.state.revision).toBe(217);
    expect(r.state.rules).toEqual([{
      name: 'rule1', namespace: 'default',
      selector: { 'any:class': 'deathstar', 'any:org': 'empire', 'k8s:io.kubernetes.pod.namespace': 'default' },
      ingress: [{ endpoints: [{ 'any:org': 'empire', 'k8s:io.kubernetes.pod.namespace': 'default' }], cidrs: [], entities: [], fqdns: [], ports: [{ port: '80', protocol: 'TCP' }], l7: ['http'] }],
      egress: [], ingressDeny: [], egressDeny: [],
      labels: ['k8s:io.cilium.k8s.policy.name=rule1', 'k8s:io.cilium.k8s.policy.namespace=default'],
    }]);
  });

  it('only the line its note names as the shell echo stays not understood (the command line is a prompt)', () => {
    const r = parsePolicyGet(body);
    expect(r.unparsed.map((u) => [u.line + bodyStartLine - 1, u.text.slice(0, 7)])).toEqual([[bodyStartLine + 1, 'Labels:']]);
  });

  it('an array cut before its end is not understood, with why', () => {
    const r = parsePolicyGet(['[', '  {', '    "endpointSelector": {}']);
    expect(r.unparsed).toEqual([{ line: 1, text: '[', reason: 'policy JSON array without its end' }]);
  });
});
