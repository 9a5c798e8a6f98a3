import { readFileSync } from 'node:fs';
import { detectFormat } from '../../../src/core/analyze/detect.js';
import { parseK8sPolicies } from '../../../src/core/parse/k8s-policy.js';
import { k8sObjectItems, k8sPolicyInput } from '../../../src/app/k8s-objects.js';
import { readFixture } from '../../helpers/fixtures.js';

const DIR = 'test/fixtures/k8s-policy/';
const CNP_LIST = `${DIR}gh-cilium-issue17734-2022-kubectl-get-cnp-o-yaml-list.txt`;
const CNP_MANIFEST = `${DIR}danehans-ciliumcon-2024-cnp-demo-allow-client-to-server-80.txt`;
const NP = `${DIR}gh-kubernetes-pr112385-2022-kubectl-create-networkpolicy-podselector-dry-run-o-yaml.txt`;

function detect(path: string): string {
  const text = readFileSync(path, 'utf8');
  return detectFormat(Buffer.from(text), text.split('\n'));
}

const POLICY1 = {
  kind: 'CiliumNetworkPolicy', name: 'policy1', namespace: 'default',
  // Cilium limits a namespaced policy's selectors to its namespace (ParseToCiliumRule).
  selector: { 'any:label2': 'value2', 'k8s:io.kubernetes.pod.namespace': 'default' },
  ingress: [{ endpoints: [{ 'any:label1': 'value1', 'k8s:io.kubernetes.pod.namespace': 'default' }], cidrs: [], entities: [], fqdns: [], ports: [{ port: '80', protocol: 'TCP' }], l7: [] }],
  egress: [], ingressDeny: [], egressDeny: [], labels: [],
};

describe('network policy objects (kubectl get cnp,ccnp,netpol -o yaml|json, manifests)', () => {
  it('each fixture is detected as policy objects, YAML and the same objects as JSON (not as CiliumEndpoint JSON)', () => {
    expect([detect(CNP_LIST), detect(CNP_MANIFEST), detect(NP)]).toEqual(['k8s-policy', 'k8s-policy', 'k8s-policy']);
    const json = JSON.stringify(k8sObjectItems(readFixture(CNP_LIST).body.join('\n')).items.map((i) => i.value));
    const asList = `{"apiVersion":"v1","kind":"List","items":${json}}`;
    expect(detectFormat(Buffer.from(asList), [asList])).toBe('k8s-policy');
    expect(parseK8sPolicies(k8sObjectItems(asList).items).rules).toEqual([POLICY1]);
  });

  it('cilium#17734 `kubectl get cnp -o yaml`: the List item, its line, every line understood (the prompt is not YAML)', () => {
    const text = readFileSync(CNP_LIST, 'utf8');
    const { items, error } = k8sObjectItems(text);
    expect([error, items.map((i) => i.line)]).toEqual([undefined, [9]]); // '- apiVersion: cilium.io/v2', after the 5 header lines
    expect(parseK8sPolicies(items)).toEqual({ rules: [POLICY1], unparsed: [] });
    const input = k8sPolicyInput(text);
    expect([input.lines, input.understood, input.unparsed, input.error]).toEqual([45, 45, [], undefined]);
  });

  it('the CiliumCon demo manifest: no namespace in it, so whether it selects a pod stays unknown (kubectl applies it where the context says)', () => {
    const r = parseK8sPolicies(k8sObjectItems(readFileSync(CNP_MANIFEST, 'utf8')).items);
    expect(r).toEqual({
      rules: [{
        kind: 'CiliumNetworkPolicy', name: 'demo',
        selector: { app: 'server' },
        ingress: [{ endpoints: [{ app: 'client' }], cidrs: [], entities: [], fqdns: [], ports: [{ port: '80', protocol: 'TCP' }], l7: [] }],
        egress: [], ingressDeny: [], egressDeny: [], labels: [],
        unsupported: ['endpointSelector: no namespace in the object'],
      }],
      unparsed: [],
    });
  });

  it('a NetworkPolicy with policyTypes Ingress and Egress and no rule: default deny both ways for app=nginx', () => {
    const r = parseK8sPolicies(k8sObjectItems(readFileSync(NP, 'utf8')).items);
    expect(r.rules).toEqual([{
      kind: 'NetworkPolicy', name: 'podselector',
      selector: { app: 'nginx' },
      ingress: [], egress: [], ingressDeny: [], egressDeny: [], labels: [],
      directions: ['ingress', 'egress'],
      unsupported: ['endpointSelector: no namespace in the object'],
    }]);
  });

  it('objects that are not policies, and text that is not YAML, are counted with their line and why; nothing throws', () => {
    const items = k8sObjectItems('apiVersion: v1\nkind: List\nitems:\n- kind: Pod\n  metadata:\n    name: web\n- 42\n').items;
    expect(parseK8sPolicies(items).unparsed).toEqual([
      { line: 4, text: 'Pod web', reason: 'not a network policy object (kind Pod)' },
      { line: 7, text: '(no kind) (no name)', reason: 'not a network policy object (kind missing)' },
    ]);
    expect(k8sPolicyInput('kind: NetworkPolicy\n  bad: [\n').error).toMatch(/^not YAML or JSON: /);
    expect(parseK8sPolicies([{ line: 1, value: { kind: 'CiliumNetworkPolicy', metadata: { name: 'x', namespace: 'n' } } }]).unparsed).toEqual([
      { line: 1, text: 'CiliumNetworkPolicy x', reason: 'no spec or specs' },
    ]);
  });
});
