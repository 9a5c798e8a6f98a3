/**
 * Network policy objects through the lab API with the real kubectl: apply (create, then patch),
 * get with the CRD/NetworkPolicy columns, -o json with the server's defaults, delete; and the
 * emulated agent's policy files following every change.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describeAsRoot } from '../require-root.js';
import { policyFilePath, readPolicyState } from '../policy/agent-files.js';
import { until, useRunningLab } from './fake-lab.js';

const POLICIES = fileURLToPath(new URL('../policies/', import.meta.url));

describeAsRoot('policy objects with real kubectl', () => {
  const t = useRunningLab();
  const file = (name: string): string => join(POLICIES, name);
  const enforcement = (epId: number) => {
    const ep = readPolicyState(t.lab.state.dir)?.endpoints.find((e) => e.epId === epId);
    return ep && { ingress: ep.ingressEnforced, egress: ep.egressEnforced, rules: ep.ingressRules.length + ep.egressRules.length };
  };

  it('applies, gets, re-applies and deletes a CiliumNetworkPolicy, and the agent follows each change', async () => {
    const created = await t.kubectl(['apply', '-f', file('allow-same-to-cni.yaml')]);
    expect(created.stderr).toBe('');
    expect(created.stdout).toBe('ciliumnetworkpolicy.cilium.io/cni-allow-from-same created\n');
    const table = await t.kubectl(['get', 'cnp']);
    expect(table.stdout.split('\n')[0].split(/\s+/)).toEqual(['NAME', 'AGE', 'VALID']);
    expect(table.stdout.split('\n')[1]).toMatch(/^cni-allow-from-same\s+\d+s\s+True$/);
    await until('cni ingress enforced', () => (enforcement(3663)?.ingress ? true : undefined));
    expect(enforcement(3663)).toEqual({ ingress: true, egress: false, rules: 1 });
    expect(enforcement(2836)).toEqual({ ingress: false, egress: false, rules: 0 });
    // same (31009) is allowed at cni's ingress, L3 only; cni's egress is allow-all.
    const map = readFileSync(policyFilePath(t.lab.state.dir, 'bpf1'), 'utf8');
    expect(map.split('\n').filter((l) => l.startsWith('entry 3663') || l.startsWith('filter 3663'))).toEqual([
      'filter 3663 2',
      'entry 3663 0 egress 0 0 allow 0',
      'entry 3663 31009 ingress 0 0 allow 1',
    ]);

    const unchanged = await t.kubectl(['apply', '-f', file('allow-same-to-cni.yaml')]);
    expect(unchanged.stdout).toBe('ciliumnetworkpolicy.cilium.io/cni-allow-from-same unchanged\n');
    const edited = readFileSync(file('allow-same-to-cni.yaml'), 'utf8').replace('run: same', 'run: other');
    const configured = await t.kubectl(['apply', '-f', '-'], edited);
    expect(configured.stderr).toBe('');
    expect(configured.stdout).toBe('ciliumnetworkpolicy.cilium.io/cni-allow-from-same configured\n');
    const json = JSON.parse((await t.kubectl(['get', 'cnp', 'cni-allow-from-same', '-o', 'json'])).stdout);
    expect(json.spec.ingress).toEqual([{ fromEndpoints: [{ matchLabels: { run: 'other' } }] }]);
    expect(json.metadata.generation).toBe(2);
    expect(json.status.conditions[0]).toMatchObject({ type: 'Valid', status: 'True' });
    await until('the allow of same gone', () => (readFileSync(policyFilePath(t.lab.state.dir, 'bpf1'), 'utf8').includes('3663 31009') ? undefined : true));

    const deleted = await t.kubectl(['delete', '-f', file('allow-same-to-cni.yaml')]);
    expect(deleted.stdout).toBe('ciliumnetworkpolicy.cilium.io "cni-allow-from-same" deleted\n');
    await until('cni ingress no longer enforced', () => (enforcement(3663)?.ingress === false ? true : undefined));
    expect((await t.kubectl(['get', 'cnp'])).stderr).toBe('No resources found in default namespace.\n');
  });

  it('serves clusterwide policies and NetworkPolicies with their short names and defaults', async () => {
    expect((await t.kubectl(['apply', '-f', file('deny-same-to-cni-clusterwide.yaml')])).stdout).toBe(
      'ciliumclusterwidenetworkpolicy.cilium.io/deny-same-to-cni created\n',
    );
    expect((await t.kubectl(['apply', '-f', file('netpol-cni-ingress-deny.yaml')])).stdout).toBe('networkpolicy.networking.k8s.io/cni-only-from-cni created\n');
    const ccnp = await t.kubectl(['get', 'ccnp', '-o', 'name']);
    expect(ccnp.stdout).toBe('ciliumclusterwidenetworkpolicy.cilium.io/deny-same-to-cni\n');
    const np = await t.kubectl(['get', 'netpol']);
    expect(np.stdout.split('\n')[1]).toMatch(/^cni-only-from-cni\s+app=cni\s+\d+s$/);
    const npJson = JSON.parse((await t.kubectl(['get', 'netpol', 'cni-only-from-cni', '-o', 'json'])).stdout);
    expect(npJson.spec.policyTypes).toEqual(['Ingress']);
    await until('the deny in the map', () => (readFileSync(policyFilePath(t.lab.state.dir, 'bpf1'), 'utf8').includes('entry 3663 31009 ingress 0 0 deny') ? true : undefined));
    expect((await t.kubectl(['delete', 'ccnp', 'deny-same-to-cni'])).code).toBe(0);
    expect((await t.kubectl(['delete', 'netpol', 'cni-only-from-cni'])).code).toBe(0);
    await until('cni ingress no longer enforced', () => (enforcement(3663)?.ingress === false ? true : undefined));
  });

  it('refuses a CiliumNetworkPolicy without an endpointSelector in one line', async () => {
    const bad = await t.kubectl(['apply', '-f', '-'], 'apiVersion: cilium.io/v2\nkind: CiliumNetworkPolicy\nmetadata:\n  name: bad\nspec:\n  ingress:\n  - {}\n');
    expect(bad.code).toBe(1);
    expect(bad.stderr).toBe('The CiliumNetworkPolicy "bad" is invalid: spec.endpointSelector: Required value: endpointSelector or nodeSelector\n');
  });
});
