import { readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import { parse as parseYaml } from 'yaml';
import {
  ciliumEndpointsFromObject,
  endpointInfoFromListRow,
  endpointListParser,
  endpointListRows,
  parseCiliumEndpointObjects,
  parseEndpointGetJson,
  parseEndpointListLine,
  parseEndpointListTable,
} from '../../../src/core/parse/cilium-endpoint.js';
import { readFixture } from '../../helpers/fixtures.js';
import { expectGolden } from '../../helpers/golden.js';

const FIXTURES = fileURLToPath(new URL('../../fixtures/', import.meta.url));
const GOLDEN = fileURLToPath(new URL('../../golden/cilium-endpoint/', import.meta.url));

function fixture(path: string): { header: string[]; body: string[]; text: string } {
  const f = readFixture(join(FIXTURES, path));
  return { header: f.header, body: f.body, text: f.body.join('\n') };
}

describe('cilium endpoint list tables', () => {
  it('seed (Cilium 1.11, alignment lost): 2836 and 3663 with their wrapped labels', () => {
    const { rows, unparsed } = parseEndpointListTable(fixture('seed/cilium-endpoint-list.txt').body);
    expect(unparsed).toEqual([]);
    expect(rows).toEqual([
      {
        id: 2836, identity: 31009, ingressEnforcement: 'Disabled', egressEnforcement: 'Disabled', ipv4: '10.0.1.135', status: 'ready', line: 4,
        labels: [
          'k8s:io.cilium.k8s.namespace.labels.kubernetes.io/metadata.name=default',
          'k8s:io.cilium.k8s.policy.cluster=default',
          'k8s:io.cilium.k8s.policy.serviceaccount=default',
          'k8s:io.kubernetes.pod.namespace=default',
          'k8s:run=same',
        ],
      },
      {
        id: 3663, identity: 37483, ingressEnforcement: 'Disabled', egressEnforcement: 'Disabled', ipv4: '10.0.1.180', status: 'ready', line: 9,
        labels: [
          'k8s:app=cni',
          'k8s:io.cilium.k8s.namespace.labels.kubernetes.io/metadata.name=default',
          'k8s:io.cilium.k8s.policy.cluster=default',
          'k8s:io.cilium.k8s.policy.serviceaccount=default',
          'k8s:io.kubernetes.pod.namespace=default',
        ],
      },
    ]);
    expect(endpointInfoFromListRow(rows[0])).toMatchObject({ id: 2836, identity: 31009, ips: ['10.0.1.135'], state: 'ready', source: 'endpoint-list' });
  });

  it('2025 debuginfo table (aligned, empty IPv6 column, host endpoint without address)', () => {
    const { rows, unparsed } = parseEndpointListTable(fixture('cilium-endpoint/debuginfo-2025-endpoint-list-table.txt').body);
    expect(unparsed).toEqual([]);
    expect(rows.map((r) => [r.id, r.identity, r.ipv4, r.ipv6, r.labels.length, r.status])).toEqual([
      [33, 24121, '10.0.0.220', undefined, 5, 'ready'],
      [274, 17157, '10.0.0.43', undefined, 7, 'ready'],
      [342, 1, undefined, undefined, 4, 'ready'],
      [398, 64642, '10.0.0.236', undefined, 4, 'ready'],
      [2838, 4, '10.0.0.203', undefined, 1, 'ready'],
    ]);
    expect(rows[2].labels).toContain('reserved:host');
  });

  // Row shapes endpoint_list.go prints besides the common one (listEndpoint, endpointPolicyMode,
  // endpointAddressPair, endpointID, endpointLabels), laid out with single spaces.
  it.each([
    ['audit mode', '17 Disabled (Audit) Disabled (Audit) 1234 k8s:app=a 10.0.0.1 ready', { ingressEnforcement: 'Disabled (Audit)', egressEnforcement: 'Disabled (Audit)', identity: 1234, labels: ['k8s:app=a'], ipv4: '10.0.0.1' }],
    ['no identity yet', '18 Unknown Unknown <no label id> no labels f00d::a0b:0:0:8cdf 10.0.0.2 waiting-for-identity', { identity: null, labels: [], ipv6: 'f00d::a0b:0:0:8cdf', ipv4: '10.0.0.2', status: 'waiting-for-identity' }],
    ['no address', '19 Enabled Disabled 5 reserved:init No address No address not-ready', { ingressEnforcement: 'Enabled', labels: ['reserved:init'], status: 'not-ready' }],
    ['IPv6 only', '20 Disabled Enabled 6 k8s:app=b fd00::5 ready', { egressEnforcement: 'Enabled', ipv6: 'fd00::5', labels: ['k8s:app=b'] }],
  ])('%s', (_name, line, expected) => {
    const { rows, unparsed } = parseEndpointListTable([line]);
    expect(unparsed).toEqual([]);
    expect(rows[0]).toMatchObject(expected);
  });

  it('says why a line is not understood', () => {
    const { rows, unparsed } = parseEndpointListTable(['k8s:app=orphan', '21 Maybe Disabled 5 k8s:a=b ready', '22 Disabled Disabled 5 two labels 10.0.0.1 ready', 'some text here']);
    expect(rows).toEqual([]);
    expect(unparsed).toEqual([
      { line: 1, text: 'k8s:app=orphan', reason: 'label line before any endpoint row' },
      { line: 2, text: '21 Maybe Disabled 5 k8s:a=b ready', reason: 'no ingress enforcement after the endpoint id' },
      { line: 3, text: '22 Disabled Disabled 5 two labels 10.0.0.1 ready', reason: 'expected one label before the addresses, found 2 words' },
      { line: 4, text: 'some text here', reason: 'not an endpoint list row' },
    ]);
  });

  it('streams line by line without mutating the context, rows living in the context', () => {
    const lines = fixture('seed/cilium-endpoint-list.txt').body;
    let ctx = endpointListParser.initial();
    const kinds: string[] = [];
    for (const line of lines) {
      Object.freeze(ctx);
      const out = parseEndpointListLine(line, ctx);
      kinds.push(out.result.kind === 'meta' ? `meta:${out.result.meta.note}` : out.result.kind);
      ctx = out.ctx;
    }
    expect(endpointListParser.tool).toBe('endpoint');
    expect(kinds).toEqual([
      'ignored', 'meta:endpoint list header', 'meta:endpoint list header', 'meta:endpoint 2836',
      'meta:label of endpoint 2836', 'meta:label of endpoint 2836', 'meta:label of endpoint 2836', 'meta:label of endpoint 2836',
      'meta:endpoint 3663', 'meta:label of endpoint 3663', 'meta:label of endpoint 3663', 'meta:label of endpoint 3663', 'meta:label of endpoint 3663',
    ]);
    expect(endpointListRows(ctx)).toEqual(parseEndpointListTable(lines).rows);
  });
});

describe('cilium endpoint get JSON', () => {
  it('2025 coredns endpoint: interface, ifindex, MACs, pod, identity, aggregation, datapath debug off', () => {
    const r = parseEndpointGetJson(fixture('cilium-endpoint/debuginfo-2025-endpoint-get-33-coredns.txt').text);
    expect(r.error).toBeUndefined();
    expect(r.endpoints).toEqual([
      {
        id: 33, identity: 24121, ips: ['10.0.0.220'],
        labels: [
          'k8s:io.cilium.k8s.namespace.labels.kubernetes.io/metadata.name=kube-system',
          'k8s:io.cilium.k8s.policy.cluster=default',
          'k8s:io.cilium.k8s.policy.serviceaccount=coredns',
          'k8s:io.kubernetes.pod.namespace=kube-system',
          'k8s:k8s-app=kube-dns',
        ],
        pod: { namespace: 'kube-system', name: 'coredns-54558b56c7-zth5g' },
        state: 'ready', interface: 'lxcf9e134da9662', ifindex: 94, podInterface: 'eth0',
        mac: '86:28:9e:26:0f:a5', hostMac: '52:b7:d0:6a:ac:bd', monitorAggregation: 'Medium', datapathDebug: false, policyAuditMode: false, source: 'endpoint-get',
      },
    ]);
  });

  it('host endpoint (addressing [{}]) and health endpoint (pod-name "/") have no address / no pod', () => {
    const [host] = parseEndpointGetJson(fixture('cilium-endpoint/debuginfo-2025-endpoint-get-342-host.txt').text).endpoints;
    expect(host).toMatchObject({ id: 342, identity: 1, ips: [], interface: 'cilium_host', ifindex: 4, labels: expect.arrayContaining(['reserved:host']) });
    expect(host.pod).toBeUndefined();
    const [health] = parseEndpointGetJson(fixture('cilium-endpoint/debuginfo-2025-endpoint-get-2838-health.txt').text).endpoints;
    expect(health).toMatchObject({ id: 2838, identity: 4, ips: ['10.0.0.203'], interface: 'lxc_health', ifindex: 96, labels: ['reserved:health'] });
    expect(health.pod).toBeUndefined();
  });

  it('2019 docker-era endpoint: IPv4 and IPv6, container labels, no pod', () => {
    const r = parseEndpointGetJson(fixture('cilium-endpoint/test-fixture-2019-endpoint-get-docker-client.txt').text);
    expect(r.endpoints).toEqual([
      {
        id: 2669, identity: 62004, ips: ['10.11.212.174', 'f00d::a0b:0:0:8cdf'], labels: ['container:id.client'], state: 'ready',
        interface: 'lxca8e38e6f627e', ifindex: 250, mac: '7e:41:1b:fd:02:81', hostMac: '1a:c9:b9:4f:98:65', monitorAggregation: 'None', datapathDebug: true, source: 'endpoint-get',
      },
    ]);
  });

  it('a single object (older callers), kubectl notices before the JSON, and errors', () => {
    const text = fixture('cilium-endpoint/debuginfo-2025-endpoint-get-33-coredns.txt').text;
    const single = JSON.stringify((JSON.parse(text) as unknown[])[0]);
    expect(parseEndpointGetJson(single).endpoints).toEqual(parseEndpointGetJson(text).endpoints);
    expect(parseEndpointGetJson('Defaulted container "cilium-agent" out of: cilium-agent, config (init)\n' + text).endpoints[0].id).toBe(33);
    expect(parseEndpointGetJson('Error: cannot get endpoint 99: [GET /endpoint/{id}][404] getEndpointIdNotFound').error).toBe('not JSON: the output does not start with [ or {');
    expect(parseEndpointGetJson('[{"id": 1,').error).toMatch(/^not valid JSON: /);
    expect(parseEndpointGetJson(fixture('cilium-endpoint/wcni-kind-v1.15-ciliumendpoint-crd-json.txt').text).error).toMatch(/CiliumEndpoint object/);
  });
});

describe('CiliumEndpoint and CiliumEndpointSlice objects', () => {
  const cep = {
    id: 457, identity: 48861, ips: ['10.0.1.200'], nodeIp: '172.18.0.3', pod: { namespace: 'default', name: 'wluo-mvz4t' }, state: 'ready',
    labels: [
      'k8s:app=wluo',
      'k8s:io.cilium.k8s.namespace.labels.kubernetes.io/metadata.name=default',
      'k8s:io.cilium.k8s.policy.cluster=cilium-kpr',
      'k8s:io.cilium.k8s.policy.serviceaccount=default',
      'k8s:io.kubernetes.pod.namespace=default',
    ],
    source: 'cilium-endpoint',
  };

  it('one CiliumEndpoint (kubectl get cep NAME -o json)', () => {
    expect(parseCiliumEndpointObjects(fixture('cilium-endpoint/wcni-kind-v1.15-ciliumendpoint-crd-json.txt').text)).toEqual({ endpoints: [cep] });
  });

  it('a List (kubectl get cep -o json) gives one endpoint per item', () => {
    const item = JSON.parse(fixture('cilium-endpoint/wcni-kind-v1.15-ciliumendpoint-crd-json.txt').text) as unknown;
    const list = JSON.stringify({ apiVersion: 'v1', kind: 'List', items: [item, item], metadata: { resourceVersion: '' } });
    expect(parseCiliumEndpointObjects(list).endpoints).toEqual([cep, cep]);
  });

  it('CiliumEndpointSlice YAML is refused with the way out; decoded outside core it maps (id is the identity)', () => {
    const text = fixture('cilium-endpoint/wcni-kind-v1.15-ciliumendpointslice-yaml.txt').text;
    expect(parseCiliumEndpointObjects(text)).toEqual({ endpoints: [], error: 'CiliumEndpointSlice YAML not supported, use -o json' });
    const r = ciliumEndpointsFromObject(parseYaml(text));
    expect(r.error).toBeUndefined();
    expect(r.endpoints).toEqual([
      { id: null, identity: 6704, ips: ['10.0.1.241'], labels: [], pod: { namespace: 'default', name: 'wluo-k64rg' }, nodeIp: '172.18.0.3', source: 'cilium-endpoint-slice' },
      { id: null, identity: 6704, ips: ['10.0.2.211'], labels: [], pod: { namespace: 'default', name: 'wluo-x6wp4' }, nodeIp: '172.18.0.4', source: 'cilium-endpoint-slice' },
      { id: null, identity: 6704, ips: ['10.0.0.187'], labels: [], pod: { namespace: 'default', name: 'wluo-whztw' }, nodeIp: '172.18.0.2', source: 'cilium-endpoint-slice' },
    ]);
  });

  it('refuses agent JSON and other kinds', () => {
    expect(parseCiliumEndpointObjects(fixture('cilium-endpoint/debuginfo-2025-endpoint-get-33-coredns.txt').text).error).toBe('not a Kubernetes object');
    expect(parseCiliumEndpointObjects('{"kind":"Pod","status":{}}').error).toBe('item 0 is not a CiliumEndpoint (kind Pod)');
  });
});

describe('real outputs (golden)', () => {
  const cases: [string, (text: string, body: string[]) => unknown][] = [
    ['seed/cilium-endpoint-list.txt', (_t, body) => parseEndpointListTable(body)],
    ['cilium-endpoint/debuginfo-2025-endpoint-list-table.txt', (_t, body) => parseEndpointListTable(body)],
    ['cilium-endpoint/debuginfo-2025-endpoint-get-33-coredns.txt', (t) => parseEndpointGetJson(t)],
    ['cilium-endpoint/debuginfo-2025-endpoint-get-342-host.txt', (t) => parseEndpointGetJson(t)],
    ['cilium-endpoint/debuginfo-2025-endpoint-get-2838-health.txt', (t) => parseEndpointGetJson(t)],
    ['cilium-endpoint/test-fixture-2019-endpoint-get-docker-client.txt', (t) => parseEndpointGetJson(t)],
    ['cilium-endpoint/wcni-kind-v1.15-ciliumendpoint-crd-json.txt', (t) => parseCiliumEndpointObjects(t)],
    ['cilium-endpoint/wcni-kind-v1.15-ciliumendpointslice-yaml.txt', (t) => ciliumEndpointsFromObject(parseYaml(t))],
  ];

  it('covers every endpoint fixture', () => {
    const covered = cases.map(([path]) => path).filter((p) => p.startsWith('cilium-endpoint/'));
    expect(covered.sort()).toEqual(readdirSync(join(FIXTURES, 'cilium-endpoint')).map((f) => `cilium-endpoint/${f}`).sort());
  });

  it.each(cases)('%s', (path, parse) => {
    const { header, body, text } = fixture(path);
    const result = parse(text, body) as { unparsed?: { text: string }[]; error?: string };
    expectGolden(JSON.stringify(result, null, 2) + '\n', join(GOLDEN, path.replace(/^.*\//, '').replace(/\.txt$/, '.json')));
    expect(result.error).toBeUndefined();
    const notes = header.filter((h) => h.startsWith('# note:')).join(' ');
    for (const u of result.unparsed ?? []) expect(notes).toContain(`'${u.text.trim()}'`);
  });
});
