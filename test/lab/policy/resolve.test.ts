/**
 * The emulated agent's policy computation: default deny per selected direction, allow rules as a
 * union, deny wins, namespaces confine selectors, NetworkPolicy's peers and ports, CIDR identities.
 */
import { policyFile, resolvePolicy, type PolicyEndpoint, type PolicyObject } from './resolve.js';

const EPS: PolicyEndpoint[] = [
  { node: 'bpf1', epId: 2836, identity: 31009, namespace: 'default', name: 'same', ip: '10.0.1.135', labels: { run: 'same' } },
  { node: 'bpf1', epId: 3663, identity: 37483, namespace: 'default', name: 'cni-6vf5d', ip: '10.0.1.180', labels: { app: 'cni' } },
  { node: 'bpf2', epId: 1187, identity: 37483, namespace: 'default', name: 'cni-x7k2m', ip: '10.0.2.41', labels: { app: 'cni' } },
  { node: 'bpf2', epId: 2401, identity: 12187, namespace: 'default', name: 'web', ip: '10.0.2.87', labels: { run: 'web' } },
  { node: 'bpf2', epId: 900, identity: 50000, namespace: 'other', name: 'x', ip: '10.0.2.9', labels: { run: 'same' } },
];
const NS = { default: { 'kubernetes.io/metadata.name': 'default' }, other: { 'kubernetes.io/metadata.name': 'other', team: 'blue' } };
const cnp = (name: string, spec: unknown, namespace = 'default'): PolicyObject => ({ kind: 'CiliumNetworkPolicy', namespace, name, spec });
const entriesOf = (policies: PolicyObject[], epId: number) => {
  const ep = resolvePolicy({ policies, endpoints: EPS, namespaceLabels: NS }).endpoints.find((e) => e.epId === epId)!;
  return { ingress: ep.ingressEnforced, egress: ep.egressEnforced, entries: ep.entries.map((e) => `${e.direction} ${e.identity} ${e.proto}/${e.port} ${e.deny ? 'deny' : 'allow'} #${e.cookie}`) };
};

describe('policy resolution (emulated agent)', () => {
  it('without policy every direction is allow-all', () => {
    expect(entriesOf([], 3663)).toEqual({ ingress: false, egress: false, entries: ['egress 0 0/0 allow #0', 'ingress 0 0/0 allow #0'] });
  });

  it('an empty ingress rule turns default deny on and allows nothing', () => {
    expect(entriesOf([cnp('deny', { endpointSelector: { matchLabels: { app: 'cni' } }, ingress: [{}] })], 3663)).toEqual({
      ingress: true, egress: false, entries: ['egress 0 0/0 allow #0'],
    });
  });

  it('allow rules are a union over identities and ports; peers of another namespace are not selected by a namespaced policy', () => {
    const a = cnp('a', { endpointSelector: { matchLabels: { app: 'cni' } }, ingress: [{ fromEndpoints: [{ matchLabels: { run: 'same' } }] }] });
    const b = cnp('b', { endpointSelector: { matchLabels: { app: 'cni' } }, ingress: [{ toPorts: [{ ports: [{ port: '80', protocol: 'TCP' }] }] }] });
    expect(entriesOf([a, b], 1187)).toEqual({ ingress: true, egress: false, entries: ['egress 0 0/0 allow #0', 'ingress 0 6/80 allow #2', 'ingress 31009 0/0 allow #1'] });
  });

  it('a deny covering an allow replaces it, whichever policy holds it (clusterwide deny over namespaced allow)', () => {
    const allow = cnp('allow', { endpointSelector: { matchLabels: { app: 'cni' } }, ingress: [{ fromEndpoints: [{ matchLabels: { run: 'same' } }], toPorts: [{ ports: [{ port: '80', protocol: 'TCP' }] }] }] });
    const deny: PolicyObject = { kind: 'CiliumClusterwideNetworkPolicy', name: 'deny', spec: { endpointSelector: { matchLabels: { app: 'cni' } }, ingressDeny: [{ fromEndpoints: [{ matchLabels: { run: 'same' } }] }] } };
    // Clusterwide: run=same in every namespace (31009 and 50000); the allow of 31009/TCP 80 becomes the deny's
    // (rules are numbered clusterwide policies first, then by namespace and name).
    expect(entriesOf([allow, deny], 3663).entries).toEqual(['egress 0 0/0 allow #0', 'ingress 31009 0/0 deny #1', 'ingress 31009 6/80 deny #1', 'ingress 50000 0/0 deny #1']);
  });

  it('reads NetworkPolicy peers: podSelector in the policy namespace, namespaceSelector by namespace labels, TCP by default', () => {
    const np: PolicyObject = {
      kind: 'NetworkPolicy', namespace: 'default', name: 'np',
      spec: { podSelector: { matchLabels: { run: 'web' } }, ingress: [{ from: [{ podSelector: { matchLabels: { app: 'cni' } } }, { namespaceSelector: { matchLabels: { team: 'blue' } } }], ports: [{ port: 8080 }] }] },
    };
    expect(entriesOf([np], 2401)).toEqual({ ingress: true, egress: false, entries: ['egress 0 0/0 allow #0', 'ingress 37483 6/8080 allow #1', 'ingress 50000 6/8080 allow #1'] });
  });

  it('numbers CIDR identities and selects them with except, never a pod identity', () => {
    const p = cnp('cidr', { endpointSelector: { matchLabels: { run: 'same' } }, egressDeny: [{ toCIDRSet: [{ cidr: '192.168.0.0/16', except: ['192.168.2.0/24'] }] }], egress: [{ toCIDR: ['0.0.0.0/0'] }] });
    const r = resolvePolicy({ policies: [p], endpoints: EPS, namespaceLabels: NS });
    expect(r.cidrIdentities).toEqual([{ prefix: '192.168.0.0/16', identity: 16777217 }, { prefix: '192.168.2.0/24', identity: 16777218 }]);
    // egress is rule #1, egressDeny #2; the excepted /24 stays allowed by 0.0.0.0/0.
    expect(entriesOf([p], 2836).entries).toEqual(['egress 2 0/0 allow #1', 'egress 16777217 0/0 deny #2', 'egress 16777218 0/0 allow #1', 'ingress 0 0/0 allow #0']);
  });

  it('writes the node file lab-agent loads: the verdict filter of enforced directions, then the entries', () => {
    const r = resolvePolicy({ policies: [cnp('deny', { endpointSelector: { matchLabels: { app: 'cni' } }, ingress: [{}] })], endpoints: EPS, namespaceLabels: NS });
    expect(policyFile(r, 'bpf1')).toBe(
      ['entry 2836 0 egress 0 0 allow 0', 'entry 2836 0 ingress 0 0 allow 0', 'filter 3663 2', 'entry 3663 0 egress 0 0 allow 0', ''].join('\n'),
    );
  });
});
