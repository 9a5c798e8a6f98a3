import { parseCepTable } from '../../../src/core/parse/cilium-endpoint-table.js';
import { detectFormat } from '../../../src/core/analyze/detect.js';
import { parseDataInput } from '../../../src/core/analyze/formats.js';

/*
 * No public transcript of `kubectl get cep` was found. These tables are laid out as kubectl prints
 * a CRD's additionalPrinterColumns (left-aligned under upper-cased headers, three spaces between
 * columns), with the columns of cilium pkg/k8s/apis/cilium.io/v2/types.go (+kubebuilder:printcolumn
 * on CiliumEndpoint: Security Identity; Ingress Enforcement, Egress Enforcement, Visibility Policy
 * at priority 1, i.e. -o wide; Endpoint State; IPv4; IPv6) and the values of the
 * wcni-kind-v1.15 CiliumEndpoint fixture.
 */
const ALL_NAMESPACES = [
  'root@kind-control-plane:/# kubectl get cep -A',
  'NAMESPACE            NAME                                      SECURITY IDENTITY   ENDPOINT STATE         IPV4           IPV6',
  'default              client-7b8c9d7f5b-xv2lq                   11876               ready                  10.244.1.76    ',
  'kube-system          coredns-5d78c9869d-4tr7b                  9523                ready                  10.244.0.166   fd00:10:244::1f',
  'local-path-storage   local-path-provisioner-6bc4bddd6b-9wq8s   41222               waiting-for-identity   <none>         ',
];

describe('kubectl get cep (default table)', () => {
  it('-A: namespace, pod, identity, state and addresses per row; <none> and blank cells are absent', () => {
    const r = parseCepTable(ALL_NAMESPACES);
    expect(r.unparsed).toEqual([]);
    expect(r.endpoints).toEqual([
      { id: null, identity: 11876, pod: { namespace: 'default', name: 'client-7b8c9d7f5b-xv2lq' }, ips: ['10.244.1.76'], labels: [], state: 'ready', source: 'cilium-endpoint' },
      { id: null, identity: 9523, pod: { namespace: 'kube-system', name: 'coredns-5d78c9869d-4tr7b' }, ips: ['10.244.0.166', 'fd00:10:244::1f'], labels: [], state: 'ready', source: 'cilium-endpoint' },
      { id: null, identity: 41222, pod: { namespace: 'local-path-storage', name: 'local-path-provisioner-6bc4bddd6b-9wq8s' }, ips: [], labels: [], state: 'waiting-for-identity', source: 'cilium-endpoint' },
    ]);
  });

  it('without -A the namespace comes from the prompt`s -n, and without one the pod is not claimed', () => {
    const rows = [
      'NAME                       SECURITY IDENTITY   ENDPOINT STATE   IPV4          IPV6',
      'coredns-5d78c9869d-4tr7b   9523                ready            10.244.0.166   ',
    ];
    expect(parseCepTable(['$ kubectl get cep -n kube-system', ...rows]).endpoints[0].pod).toEqual({ namespace: 'kube-system', name: 'coredns-5d78c9869d-4tr7b' });
    const bare = parseCepTable(rows).endpoints[0];
    expect(bare.pod).toBeUndefined();
    expect([bare.identity, bare.ips]).toEqual([9523, ['10.244.0.166']]);
  });

  it('-o wide: the enforcement and visibility columns are skipped, the rest read by header', () => {
    const r = parseCepTable([
      'NAME                       SECURITY IDENTITY   INGRESS ENFORCEMENT   EGRESS ENFORCEMENT   VISIBILITY POLICY   ENDPOINT STATE   IPV4           IPV6',
      'coredns-5d78c9869d-4tr7b   9523                false                 false                                    ready            10.244.0.166   ',
    ]);
    expect(r.endpoints.map((e) => [e.identity, e.state, e.ips])).toEqual([[9523, 'ready', ['10.244.0.166']]]);
  });

  it('a line that is no row is not understood, with why', () => {
    const r = parseCepTable([ALL_NAMESPACES[1], 'error: the server does not have a resource type "cep"']);
    expect(r.unparsed.map((u) => u.line)).toEqual([2]);
  });

  it('is detected and read by analyze as endpoint data', () => {
    const text = ALL_NAMESPACES.join('\n');
    expect(detectFormat(Buffer.from(text), ALL_NAMESPACES)).toBe('cep-table');
    const data = parseDataInput('cep-table', text);
    expect([data.understood, data.unparsed, data.endpoints?.length]).toEqual([5, [], 3]);
  });
});
