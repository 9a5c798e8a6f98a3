import { analyzeFixtures } from './analyze-fixture.js';
import { readFixture } from '../../../helpers/fixtures.js';
import { parsePolicyGet, ruleOf } from '../../../../src/core/parse/cilium-policy.js';
import { cidrContains, ruleSelects, sectionMatches, selectorMatches } from '../../../../src/core/correlate/policy-match.js';
import { parseK8sPolicies } from '../../../../src/core/parse/k8s-policy.js';
import { k8sObjectItems } from '../../../../src/app/k8s-objects.js';
import { reportOfFixtures } from '../../../helpers/fixture-report.js';
import { readFileSync } from 'node:fs';

const MONITOR = 'test/fixtures/cilium-monitor/';
const HUBBLE = 'test/fixtures/hubble/';
const NO_POLICIES = 'which policy decided: no policy objects among the inputs (give `kubectl get cnp,ccnp,netpol -A -o yaml` or `cilium-dbg policy get` to analyze)';

async function explanations(files: string[]) {
  const report = await analyzeFixtures(files);
  return report.flows.filter((f) => f.dropExplanation).map((f) => ({ flow: `${f.protocol} ${f.src} -> ${f.dst}`, why: f.dropExplanation, last: f.conclusions.at(-1) }));
}

describe('a drop explained: where, why in Cilium words, direction, enforcing endpoint, identities, policies', () => {
  it('Hubble policy verdict (CiliumCon 2024 demo): ingress of default/server denied client2 by default deny (match none)', async () => {
    const [denied] = await explanations([`${HUBBLE}danehans-ciliumcon-2024-ipv6-only-policy-verdict-ingress-denied-dropped.txt`]);
    const summary = 'Denied by policy at the ingress of default/server: Policy denied (code 133); identity 52749 (labels unknown) on port 80/TCP; which policy: unknown.';
    expect(denied).toEqual({
      flow: 'tcp default/client2 -> default/server',
      why: {
        summary,
        reason: 'Policy denied',
        code: 133,
        byPolicy: true,
        dropPoint: 'cilium:?',
        lastSeenAt: 'cilium:?',
        firstMissedAt: null,
        direction: 'ingress',
        enforcedBy: { pod: 'default/server', identity: 7156 },
        source: { ip: 'default/client2', port: 49558, pod: 'default/client2', identity: 52749 },
        destination: { ip: 'default/server', port: 80, pod: 'default/server', identity: 7156 },
        verdicts: ['Hubble: policy-verdict:none INGRESS DENIED'],
        unknown: [NO_POLICIES],
      },
      last: summary,
    });
  });

  it('monitor policy verdict + denylist drop (2026 lab notes): egress of endpoint 1870, a deny rule matched, to CIDR identities', async () => {
    const found = await explanations([`${MONITOR}gh-notes-2026-policy-verdict-redirect-l4only-deny-denylist-cidr-identity.txt`]);
    const one = (dst: string, port: number, identity: number) => ({
      flow: `tcp 10.244.5.5 -> ${dst}`,
      why: {
        summary: `Denied by policy at the egress of endpoint 1870: Policy denied by denylist (code 181); a deny rule matched; identity ${identity} (labels unknown) on port 80/TCP; which policy: unknown.`,
        reason: 'Policy denied by denylist',
        code: 181,
        byPolicy: true,
        dropPoint: 'cilium:?',
        lastSeenAt: 'cilium:?',
        firstMissedAt: null,
        direction: 'egress',
        enforcedBy: { endpointId: 1870, identity: 25917 },
        source: { ip: '10.244.5.5', port, identity: 25917 },
        destination: { ip: dst, port: 80, identity },
        verdicts: [`cilium monitor: endpoint 1870 egress denied (match L3-Only), remote identity ${identity}`],
        unknown: [NO_POLICIES],
      },
      last: `Denied by policy at the egress of endpoint 1870: Policy denied by denylist (code 181); a deny rule matched; identity ${identity} (labels unknown) on port 80/TCP; which policy: unknown.`,
    });
    expect(found).toEqual([one('169.254.169.254', 52676, 16777218), one('100.100.100.200', 57304, 16777217)]);
  });

  it('monitor drop alone (docs, 1.0-1.2 format): `to endpoint 25729` is an ingress drop at that endpoint (bpf_lxc drop_for_direction)', async () => {
    const found = await explanations([`${MONITOR}docs-troubleshooting-drop-policy-denied.txt`]);
    const ingress = found.filter((f) => f.why?.byPolicy);
    expect(ingress.map((f) => [f.flow, f.why?.direction, f.why?.enforcedBy, f.why?.source.identity, f.why?.summary])).toEqual([
      ['icmp6 fd02::c0a8:210b:0:bf00 -> fd02::c0a8:210b:0:6481', 'ingress', { endpointId: 25729, identity: 264 }, 261,
        'Denied by policy at the ingress of endpoint 25729: Policy denied (code 133); identity 261 (labels unknown) on ICMP6; which policy: unknown.'],
      ['icmp 10.11.13.37 -> 10.11.101.61', 'ingress', { endpointId: 25729, identity: 264 }, 261,
        'Denied by policy at the ingress of endpoint 25729: Policy denied (code 133); identity 261 (labels unknown) on ICMP; which policy: unknown.'],
    ]);
    // The invalid-MAC drop is no policy's: explained, but not added to the conclusions a second time.
    const mac = found.find((f) => !f.why?.byPolicy)!;
    expect([mac.why?.summary, mac.why?.direction, mac.last]).toEqual([
      'Dropped at cilium:?: Invalid destination mac (code 131); not a policy decision.', 'unknown',
      'Path unknown: the request went no further than cilium:?, where it was dropped.',
    ]);
  });

  it('monitor drop alone (cilium#5496, 1.2.1): `to endpoint 0` is the sender\'s egress; identity 5 is reserved init', async () => {
    const found = await explanations([`${MONITOR}gh-cilium-issue5496-v1.2.1-drop-unknown-l3-target-policy-denied-l3-ipv6-nd.txt`]);
    expect(found.filter((f) => f.why?.byPolicy).map((f) => f.why)).toEqual([{
      summary: 'Denied by policy at the egress of the source endpoint: Policy denied (L3) (code 133); identity 7479 (labels unknown) on port 53/UDP; which policy: unknown.',
      reason: 'Policy denied (L3)',
      code: 133,
      byPolicy: true,
      dropPoint: 'cilium:?',
      lastSeenAt: 'cilium:?',
      firstMissedAt: null,
      direction: 'egress',
      enforcedBy: { identity: 5 },
      source: { ip: '10.2.1.205', port: 38631, identity: 5, identityName: 'init', labels: ['reserved:init'] },
      destination: { ip: '10.2.2.169', port: 53, identity: 7479 },
      verdicts: [],
      unknown: [NO_POLICIES],
    }]);
  });

  it('Hubble exporter JSON masked to verdict and reason: the direction is unknown, and it says what would tell', async () => {
    const found = await explanations([`${HUBBLE}docs-v1.15-exporter-json-dropped-invalid-source-ip-ipv6-policy-denied.txt`]);
    const xwing = found.find((f) => f.why?.byPolicy)!;
    expect(xwing.why).toEqual({
      summary: 'Denied by policy at cilium:kind-worker (direction unknown): Policy denied (code 133); port 80/TCP; which policy: unknown.',
      reason: 'Policy denied',
      code: 133,
      byPolicy: true,
      dropPoint: 'cilium:kind-worker',
      lastSeenAt: 'cilium:kind-worker',
      firstMissedAt: null,
      direction: 'unknown',
      source: { ip: '10.244.1.60', port: 44916, pod: 'default/xwing' },
      destination: { ip: '10.244.1.5', port: 80, pod: 'default/deathstar-7848d6c4d5-th9v2' },
      verdicts: [],
      unknown: ['the direction: no policy-verdict record and no drop record that names it (run `cilium monitor -t policy-verdict` or Hubble with the drop)', NO_POLICIES],
    });
  });

  it('a delivered flow gets no explanation (policy verdicts allow, cilium-cli#367)', async () => {
    expect(await explanations([`${MONITOR}gh-cilium-cli-issue367-policy-verdict-match-all.txt`])).toEqual([]);
  });
});

describe('policy matching as Cilium decides it, on the star-wars rule and labels of the Cilium docs', () => {
  const rule = parsePolicyGet(readFixture('test/fixtures/cilium-policy/docs-v1.13-policy-troubleshooting-endpoint-get-derived-from-policy-get-json-revision.txt').body).state.rules[0];
  // Labels as the agent printed them in the docs' L7 records (docs-l7-http-verbose.txt, pr6371 DNS).
  const deathstar = ['k8s:io.cilium.k8s.policy.cluster=default', 'k8s:class=deathstar', 'k8s:org=empire', 'k8s:io.kubernetes.pod.namespace=default', 'k8s:io.cilium.k8s.policy.serviceaccount=default'];
  const tiefighter = ['k8s:class=tiefighter', 'k8s:io.cilium.k8s.policy.cluster=default', 'k8s:io.cilium.k8s.policy.serviceaccount=default', 'k8s:io.kubernetes.pod.namespace=default', 'k8s:org=empire'];
  const xwing = ['k8s:org=alliance', 'k8s:class=xwing', 'k8s:io.cilium.k8s.policy.cluster=default', 'k8s:io.cilium.k8s.policy.serviceaccount=default', 'k8s:io.kubernetes.pod.namespace=default'];
  const tcp80 = { protocol: 'tcp', port: 80 };

  it('rule1 selects the deathstar at ingress only, and not the xwing', () => {
    expect([ruleSelects(rule, 'ingress', deathstar), ruleSelects(rule, 'egress', deathstar), ruleSelects(rule, 'ingress', xwing), ruleSelects(rule, 'ingress', undefined)]).toEqual(['yes', 'no', 'no', 'unknown']);
  });

  it('its ingress section allows org=empire on 80/TCP: the tiefighter yes, the xwing no, another port no, unknown labels unknown', () => {
    const section = rule.ingress[0];
    expect([
      sectionMatches(section, { identity: 8876, labels: tiefighter }, tcp80),
      sectionMatches(section, { identity: 5229, labels: xwing }, tcp80),
      sectionMatches(section, { identity: 8876, labels: tiefighter }, { protocol: 'tcp', port: 443 }),
      sectionMatches(section, { identity: 8876, labels: tiefighter }, { protocol: 'udp', port: 80 }),
      sectionMatches(section, { identity: 8876 }, tcp80),
      sectionMatches(section, { identity: 2 }, tcp80),
    ]).toEqual(['yes', 'no', 'no', 'no', 'unknown', 'no']);
  });

  it('selector sources: `any:` matches every source, `k8s:` only k8s labels', () => {
    expect([
      selectorMatches({ 'any:org': 'empire' }, ['k8s:org=empire']),
      selectorMatches({ 'k8s:org': 'empire' }, ['container:org=empire']),
      selectorMatches({ org: 'empire' }, ['k8s:org=empire']),
      selectorMatches({}, undefined),
    ]).toEqual(['yes', 'no', 'yes', 'yes']);
  });

  it('matchExpressions: cilium#4217\'s rule (fromEndpoints namespace Exists, or reserved:host) and kubectl#17\'s In/NotIn selector', () => {
    const rule4217 = ruleOf({
      endpointSelector: {},
      ingress: [{ fromEndpoints: [{ matchExpressions: [{ key: 'k8s:io.kubernetes.pod.namespace', operator: 'Exists' }] }, { matchLabels: { 'reserved:host': '' } }] }],
    });
    const section = rule4217.ingress[0];
    expect([
      sectionMatches(section, { identity: 8876, labels: tiefighter }, tcp80),
      sectionMatches(section, { identity: 1 }, tcp80),
      sectionMatches(section, { identity: 2 }, tcp80),
      ruleSelects(rule4217, 'ingress', deathstar),
    ]).toEqual(['yes', 'yes', 'no', 'yes']);
    const inNotIn = [{ key: 'foo', operator: 'In', values: ['bar1', 'bar2'] }, { key: 'foo2', operator: 'NotIn', values: ['bar1', 'bar2'] }];
    expect([
      selectorMatches({ id: 'app1' }, ['k8s:id=app1', 'k8s:foo=bar2'], inNotIn),
      selectorMatches({ id: 'app1' }, ['k8s:id=app1', 'k8s:foo=bar2', 'k8s:foo2=bar1'], inNotIn),
      selectorMatches({ id: 'app1' }, ['k8s:id=app1', 'k8s:foo=bar3'], inNotIn),
      selectorMatches({}, ['k8s:foo=bar1'], [{ key: 'foo', operator: 'DoesNotExist', values: [] }]),
      selectorMatches({}, ['k8s:foo=bar1'], [{ key: 'foo', operator: 'Gt', values: ['1'] }]),
    ]).toEqual(['yes', 'no', 'no', 'no', 'unknown']);
  });

  it('CIDRs, v4 and v6, with the address at the edges', () => {
    expect([
      cidrContains('169.254.169.254/32', '169.254.169.254'),
      cidrContains('169.254.0.0/16', '169.254.169.254'),
      cidrContains('10.0.0.0/8', '11.0.0.1'),
      cidrContains('fd00:10:244::/48', 'fd00:10:244:1::7c58'),
      cidrContains('fd00:10:244::/64', 'fd00:10:244:1::7c58'),
      cidrContains('10.0.0.0/8', 'fd00::1'),
      cidrContains('0.0.0.0/0', '8.8.8.8'),
    ]).toEqual(['yes', 'yes', 'no', 'yes', 'no', 'no', 'yes']);
  });
});

describe('the policies that select the enforcing endpoint, from policy objects among the inputs', () => {
  const policy1 = parseK8sPolicies(k8sObjectItems(readFileSync('test/fixtures/k8s-policy/gh-cilium-issue17734-2022-kubectl-get-cnp-o-yaml-list.txt', 'utf8')).items).rules;
  // The docs' drop: identity 261 -> 264 at the ingress of endpoint 25729. The labels of those two
  // identities are not in that fixture: these stand for endpoint data, to test the rule's logic.
  const labelled = (source: string[], rules = policy1, unreadable?: string[]) =>
    reportOfFixtures('test/fixtures', [{ file: 'cilium-monitor/docs-troubleshooting-drop-policy-denied.txt', tool: 'monitor', node: 'n1' }], [], 10, {
      rules,
      labels: new Map([[264, ['k8s:label2=value2', 'k8s:io.kubernetes.pod.namespace=default']], [261, source]]),
      ...(unreadable ? { unreadable } : {}),
    }).flows.find((f) => f.protocol === 'icmp')!.dropExplanation!;
  const client = ['k8s:label3=value3', 'k8s:io.kubernetes.pod.namespace=default'];

  it('default deny: policy1 selects endpoint 25729 at ingress and no rule allows identity 261 on ICMP', () => {
    const why = labelled(client);
    expect([why.summary, why.policies, why.unknown, why.source, why.enforcedBy]).toEqual([
      'Denied by policy at the ingress of endpoint 25729: Policy denied (code 133); default deny: selected by CiliumNetworkPolicy default/policy1 and no rule allows identity 261 (k8s:label3=value3) on ICMP.',
      [{ policy: 'CiliumNetworkPolicy default/policy1', effect: 'selects' }],
      [],
      { ip: '10.11.13.37', identity: 261, labels: client },
      { endpointId: 25729, identity: 264 },
    ]);
  });

  it('the allowed peer (label1) on another protocol than the rule\'s 80/TCP is still not allowed: the port decides', () => {
    const why = labelled(['k8s:label1=value1', 'k8s:io.kubernetes.pod.namespace=default']);
    expect(why.policies).toEqual([{ policy: 'CiliumNetworkPolicy default/policy1', effect: 'selects' }]);
  });

  it('a deny rule that covers the peer is named, and wins over the allow of another', () => {
    const deny = { ...policy1[0], name: 'deny-label3', ingress: [], ingressDeny: [{ endpoints: [{ 'any:label3': 'value3' }], cidrs: [], entities: [], fqdns: [], ports: [], l7: [] }] };
    const allowAll = { ...policy1[0], name: 'allow-all', ingress: [{ endpoints: [], cidrs: [], entities: ['all'], fqdns: [], ports: [], l7: [] }] };
    const why = labelled(client, [allowAll, deny]);
    expect([why.summary, why.policies]).toEqual([
      'Denied by policy at the ingress of endpoint 25729: Policy denied (code 133); CiliumNetworkPolicy default/deny-label3 ingressDeny[0] denies identity 261 (k8s:label3=value3) on ICMP (a deny rule wins over any allow).',
      [{ policy: 'CiliumNetworkPolicy default/allow-all', effect: 'allows', detail: 'ingress[0]' }, { policy: 'CiliumNetworkPolicy default/deny-label3', effect: 'denies', detail: 'ingressDeny[0]' }],
    ]);
  });

  it('`ingress: [{}]` allows nothing (Cilium\'s explicit default deny); no selecting policy read: says which could not be read', () => {
    const empty = { ...policy1[0], name: 'deny-all', ingress: [{ endpoints: [], cidrs: [], entities: [], fqdns: [], ports: [], l7: [] }] };
    expect(labelled(client, [empty]).policies).toEqual([{ policy: 'CiliumNetworkPolicy default/deny-all', effect: 'selects' }]);
    const other = { ...policy1[0], selector: { 'any:app': 'other' } };
    const why = labelled(client, [other], ['CiliumClusterwideNetworkPolicy: forbidden by RBAC']);
    expect([why.summary, why.policies, why.unknown]).toEqual([
      'Denied by policy at the ingress of endpoint 25729: Policy denied (code 133); no policy among the inputs selects this endpoint in ingress: the policy that did is not among them (not read: CiliumClusterwideNetworkPolicy: forbidden by RBAC).',
      [],
      ['policies not read: CiliumClusterwideNetworkPolicy: forbidden by RBAC'],
    ]);
  });

  it('the CiliumCon demo with its policy: which policy is unknown until endpoint data gives the labels, and it says so', async () => {
    const [denied] = await explanations([`${HUBBLE}danehans-ciliumcon-2024-ipv6-only-policy-verdict-ingress-denied-dropped.txt`, 'test/fixtures/k8s-policy/danehans-ciliumcon-2024-cnp-demo-allow-client-to-server-80.txt']);
    expect([denied.why?.summary, denied.why?.policies, denied.why?.unknown]).toEqual([
      'Denied by policy at the ingress of default/server: Policy denied (code 133); identity 52749 (labels unknown) on port 80/TCP; which policy: unknown (CiliumNetworkPolicy demo: whether it selects this endpoint: the endpoint labels are unknown).',
      [{ policy: 'CiliumNetworkPolicy demo', effect: 'unknown', detail: 'whether it selects this endpoint: the endpoint labels are unknown' }],
      [
        'which policies select default/server: its labels are unknown (give its endpoint data: `cilium-dbg endpoint list` or `kubectl get cep -A -o json`)',
        'whether a rule selects identity 52749: its labels are unknown (endpoint data or Hubble JSON give them)',
      ],
    ]);
  });
});

describe('policy audit mode in the report', () => {
  it('an audit verdict (docs 1.8, host firewall 1.10) says policy would have denied it and let it through; allowed ones say nothing', async () => {
    const notes = async (file: string) => (await analyzeFixtures([`${MONITOR}${file}`])).flows.map((f) => f.conclusions.filter((c) => c.startsWith('Policy audit mode')));
    expect(await notes('docs-v1.8-policy-verdict-audit.txt')).toEqual([
      ['Policy audit mode: cilium monitor: endpoint 232 ingress audit (match none), remote identity 31028: policy would have denied this without audit mode, and let it through; a trace with enforcement on would show the drop.'],
    ]);
    expect(await notes('docs-v1.10-host-firewall-policy-verdict-audit.txt')).toEqual([
      [],
      [],
      ['Policy audit mode: cilium monitor: endpoint 1687 ingress audit (match none), remote identity 2: policy would have denied this without audit mode, and let it through; a trace with enforcement on would show the drop.'],
    ]);
  });
});

describe('the table shows a policy drop\'s policies and what would decide the rest', () => {
  it('CiliumCon demo with its policy: one line per policy, one per unknown, under the evidence', async () => {
    const { renderers } = await import('../../../../src/render/index.js');
    const report = await analyzeFixtures([`${HUBBLE}danehans-ciliumcon-2024-ipv6-only-policy-verdict-ingress-denied-dropped.txt`, 'test/fixtures/k8s-policy/danehans-ciliumcon-2024-cnp-demo-allow-client-to-server-80.txt']);
    const text = renderers.table(report, { color: false, width: 200 });
    const block = text.slice(text.indexOf('  policy:\n'));
    expect(block.split('\n').slice(0, 4)).toEqual([
      '  policy:',
      '    - CiliumNetworkPolicy demo: unknown (whether it selects this endpoint: the endpoint labels are unknown)',
      '    - unknown: which policies select default/server: its labels are unknown (give its endpoint data: `cilium-dbg endpoint list` or `kubectl get cep -A -o json`)',
      '    - unknown: whether a rule selects identity 52749: its labels are unknown (endpoint data or Hubble JSON give them)',
    ]);
  });
});
