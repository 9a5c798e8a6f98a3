/**
 * The explanation of a policy drop in a live trace names the policy: trace lists the lab API's
 * CiliumNetworkPolicies, CiliumClusterwideNetworkPolicies and NetworkPolicies (applied with the
 * real kubectl), matches them against the endpoints' labels the agent gave, and says which rule
 * denied (a deny section) or which selected the endpoint with no rule allowing the peer (default
 * deny). BPF host routing, VXLAN, same node.
 */
import { fileURLToPath } from 'node:url';
import type { HopReport, ReportFlow } from '../../src/core/model/report.js';
import { cli, kubectl, settle, useApiLab } from './api-lab.js';
import { describeAsRoot } from './require-root.js';

const POLICIES = fileURLToPath(new URL('./policies/', import.meta.url));

describeAsRoot('a policy drop names its policy (live trace, bpf host routing, VXLAN)', () => {
  const lab = useApiLab('vxlan');
  const trace = async (more: string[] = []) => {
    const r = await cli(['trace', 'same', 'cni-6vf5d', '--kubeconfig', lab().kubeconfig, '-o', 'json', '--count', '1', ...more]);
    return { code: r.code, err: r.err, report: JSON.parse(r.out) as HopReport };
  };
  const request = (report: HopReport): ReportFlow => {
    const flows = report.flows.filter((f) => f.direction === 'request' && f.source?.pod === 'same' && f.protocol === 'icmp');
    if (flows.length !== 1) throw new Error(`${flows.length} request flows from same`);
    return flows[0];
  };
  const apply = async (file: string) => {
    kubectl(lab(), ['apply', '-f', `${POLICIES}${file}`]);
    await settle();
  };

  afterEach(() => {
    const left = kubectl(lab(), ['get', 'cnp,ccnp,netpol', '-A', '-o', 'name']);
    if (left !== '') kubectl(lab(), ['delete', 'cnp,ccnp,netpol', '--all', '-A']);
    expect(left).toBe('');
  });

  it('default deny: selected by the CNP whose ingress allows nothing; --expect dropped exits 0, --expect delivered 6', async () => {
    await apply('ingress-default-deny-cni.yaml');
    const { code, report } = await trace(['--expect', 'dropped']);
    expect(code).toBe(0);
    const why = request(report).dropExplanation!;
    expect([why.summary, why.policies, why.unknown]).toEqual([
      'Denied by policy at the ingress of default/cni-6vf5d: Policy denied (code 133); default deny: selected by CiliumNetworkPolicy default/cni-ingress-default-deny and no rule allows identity 31009 (k8s:run=same) on ICMP.',
      [{ policy: 'CiliumNetworkPolicy default/cni-ingress-default-deny', effect: 'selects' }],
      [],
    ]);
    const wrong = await trace(['--expect', 'delivered']);
    expect(wrong.code).toBe(6);
    kubectl(lab(), ['delete', '-f', `${POLICIES}ingress-default-deny-cni.yaml`]);
  }, 180_000);

  it('tcp:80 to web, allowed only from app=cni by a NetworkPolicy: its retransmitted SYNs are one connection, counted', async () => {
    await apply('netpol-web-tcp80-from-cni.yaml');
    const r = await cli(['trace', 'same', 'web', '--kubeconfig', lab().kubeconfig, '-o', 'json', '--count', '1', '--traffic', 'tcp:80']);
    const report = JSON.parse(r.out) as HopReport;
    const requests = report.flows.filter((f) => f.direction === 'request' && f.source?.pod === 'same' && f.destination?.pod === 'web');
    expect(requests.map((f) => [f.protocol, f.verdict, f.packets.map((p) => p.key.replace(/\d+$/, 'N'))])).toEqual([['tcp', 'dropped', ['tcp [S] seq N']]]);
    // How often nc's kernel sent the SYN depends on its timeout: read from the capture at the source.
    const sends = requests[0].packets[0].hops.filter((h) => h.point === 'pod:default/same/eth0').length;
    expect(sends).toBeGreaterThan(1);
    const why = requests[0].dropExplanation!;
    expect([why.summary, why.verdicts, why.policies, why.unknown]).toEqual([
      `Denied by policy at the ingress of default/web: Policy denied (code 133); default deny: selected by NetworkPolicy default/web-tcp80-from-cni and no rule allows identity 31009 (k8s:run=same) on port 80/TCP. The SYN was sent ${sends} times: retransmissions of one connection, counted here, not new flows.`,
      // Both the monitor and the lab's Hubble (policy verdict events, since 89b125a) saw each SYN denied.
      [`Hubble: policy-verdict:none INGRESS DROPPED (${sends} times)`, `cilium monitor: endpoint 2401 ingress denied (match none), remote identity 31009 (${sends} times)`],
      [{ policy: 'NetworkPolicy default/web-tcp80-from-cni', effect: 'selects' }],
      [],
    ]);
    kubectl(lab(), ['delete', '-f', `${POLICIES}netpol-web-tcp80-from-cni.yaml`]);
  }, 180_000);

  it('a clusterwide deny rule is named, and wins over the CNP that allows same', async () => {
    await apply('allow-same-to-cni.yaml');
    await apply('deny-same-to-cni-clusterwide.yaml');
    const why = request((await trace()).report).dropExplanation!;
    expect([why.summary, why.policies, why.unknown]).toEqual([
      'Denied by policy at the ingress of default/cni-6vf5d: Policy denied by denylist (code 181); CiliumClusterwideNetworkPolicy deny-same-to-cni ingressDeny[0] denies identity 31009 (k8s:run=same) on ICMP (a deny rule wins over any allow).',
      [
        { policy: 'CiliumNetworkPolicy default/cni-allow-from-same', effect: 'allows', detail: 'ingress[0]' },
        { policy: 'CiliumClusterwideNetworkPolicy deny-same-to-cni', effect: 'denies', detail: 'ingressDeny[0]' },
      ],
      [],
    ]);
    kubectl(lab(), ['delete', '-f', `${POLICIES}deny-same-to-cni-clusterwide.yaml`, '-f', `${POLICIES}allow-same-to-cni.yaml`]);
  }, 180_000);
});
