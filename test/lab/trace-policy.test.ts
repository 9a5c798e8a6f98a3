/**
 * `kubectl datapath trace` of traffic the lab's network policy drops, for real: the policy is
 * applied with the real kubectl through the lab API server, the emulated agent loads it into the
 * BPF policy map within a second, the tc programs drop the packet, and the report says where,
 * why and who enforced it; the policy deleted, the same trace is delivered. BPF host routing,
 * VXLAN: same node and across the tunnel.
 */
import { fileURLToPath } from 'node:url';
import type { HopReport, ReportFlow } from '../../src/core/model/report.js';
import { cli, kubectl, settle, useApiLab } from './api-lab.js';
import { describeAsRoot } from './require-root.js';

const POLICIES = fileURLToPath(new URL('./policies/', import.meta.url));

describeAsRoot('trace of policy drops (bpf host routing, VXLAN)', () => {
  const lab = useApiLab('vxlan');
  const trace = async (src: string, dst: string, more: string[] = []) => {
    const r = await cli(['trace', src, dst, '--kubeconfig', lab().kubeconfig, '-o', 'json', '--count', '1', ...more]);
    return { code: r.code, err: r.err, report: JSON.parse(r.out) as HopReport };
  };
  const request = (report: HopReport, src: string): ReportFlow => {
    const flows = report.flows.filter((f) => f.direction === 'request' && f.source?.pod === src && f.protocol === 'icmp');
    if (flows.length !== 1) throw new Error(`${flows.length} request flows from ${src}`);
    return flows[0];
  };

  /** The conclusion about a flow, whole: what a test of a drop (or of its fix) asserts. */
  const conclusion = (f: ReportFlow) => ({
    verdict: f.verdict,
    outcome: f.outcome,
    path: f.path,
    dropPoint: f.dropPoint,
    dropReason: f.dropReason,
    explanation: f.dropExplanation && {
      reason: f.dropExplanation.reason,
      code: f.dropExplanation.code,
      byPolicy: f.dropExplanation.byPolicy,
      dropPoint: f.dropExplanation.dropPoint,
      direction: f.dropExplanation.direction,
      enforcedBy: f.dropExplanation.enforcedBy,
      identities: [f.dropExplanation.source.identity, f.dropExplanation.destination.identity],
      verdicts: f.dropExplanation.verdicts,
      policies: f.dropExplanation.policies,
      summary: f.dropExplanation.summary,
    },
  });
  const apply = async (file: string) => {
    kubectl(lab(), ['apply', '-f', `${POLICIES}${file}`]);
    await settle();
  };
  const remove = async (file: string) => {
    kubectl(lab(), ['delete', '-f', `${POLICIES}${file}`]);
    await settle();
  };
  const delivered = (path: string[]) => ({ verdict: 'delivered', outcome: 'delivered', path, dropPoint: null, dropReason: null, explanation: undefined });
  const CNI_LOCAL = { endpointId: 3663, pod: 'default/cni-6vf5d', node: 'bpf1', identity: 37483 };
  const CNI_REMOTE = { endpointId: 1187, pod: 'default/cni-x7k2m', node: 'bpf2', identity: 37483 };
  const SAME = { endpointId: 2836, pod: 'default/same', node: 'bpf1', identity: 31009 };

  afterEach(() => {
    // Nothing left behind: every test deletes what it applied (a failed one is cleaned up here).
    const left = kubectl(lab(), ['get', 'cnp,ccnp,netpol', '-A', '-o', 'name']);
    if (left !== '') kubectl(lab(), ['delete', 'cnp,ccnp,netpol', '--all', '-A']);
    expect(left).toBe('');
  });

  it.each([
    // Same node, BPF host routing: the destination's policy runs in the source lxc's tc hook
    // (before bpf_redirect_peer), so the drop is reported there and the packet took no path.
    ['same node', 'cni-6vf5d', ['unknown'], ['redirect-peer'], 'cilium:bpf1/2836', CNI_LOCAL],
    ['cross node (VXLAN)', 'cni-x7k2m', ['overlay'], ['overlay', 'redirect-peer'], 'cilium:bpf2', CNI_REMOTE],
  ])('ingress default deny, %s: dropped by the destination endpoint at ingress (133); deleted, delivered', async (_kind, dst, path, fixedPath, point, enforcer) => {
    await apply('ingress-default-deny-cni.yaml');
    const dropped = await trace('same', dst);
    expect(dropped.code).toBe(0);
    expect(conclusion(request(dropped.report, 'same'))).toEqual({
      verdict: 'dropped', outcome: 'dropped', path, dropPoint: point, dropReason: 'Policy denied',
      explanation: {
        reason: 'Policy denied', code: 133, byPolicy: true, dropPoint: point, direction: 'ingress', enforcedBy: enforcer, identities: [31009, 37483],
        verdicts: ['Hubble: policy-verdict:none INGRESS DROPPED', `cilium monitor: endpoint ${enforcer.endpointId} ingress denied (match none), remote identity 31009`],
        policies: [{ policy: 'CiliumNetworkPolicy default/cni-ingress-default-deny', effect: 'selects' }],
        summary: `Denied by policy at the ingress of ${enforcer.pod}: Policy denied (code 133); default deny: selected by CiliumNetworkPolicy default/cni-ingress-default-deny and no rule allows identity 31009 (k8s:run=same) on ICMP.`,
      },
    });
    await remove('ingress-default-deny-cni.yaml');
    const after = await trace('same', dst);
    expect(conclusion(request(after.report, 'same'))).toEqual(delivered(fixedPath));
  }, 180_000);

  it.each([
    ['cross node (VXLAN)', 'cni-x7k2m', ['overlay', 'redirect-peer']],
    ['same node', 'cni-6vf5d', ['redirect-peer']],
  ])('egress default deny, %s: dropped by the source endpoint at egress, in its own lxc hook; deleted, delivered', async (_kind, dst, fixedPath) => {
    await apply('egress-default-deny-same.yaml');
    const dropped = await trace('same', dst);
    expect(conclusion(request(dropped.report, 'same'))).toEqual({
      verdict: 'dropped', outcome: 'dropped', path: ['unknown'], dropPoint: 'cilium:bpf1/2836', dropReason: 'Policy denied',
      explanation: {
        reason: 'Policy denied', code: 133, byPolicy: true, dropPoint: 'cilium:bpf1/2836', direction: 'egress', enforcedBy: SAME, identities: [31009, 37483],
        verdicts: ['Hubble: policy-verdict:none EGRESS DROPPED', 'cilium monitor: endpoint 2836 egress denied (match none), remote identity 37483'],
        policies: [{ policy: 'CiliumNetworkPolicy default/same-egress-default-deny', effect: 'selects' }],
        summary: 'Denied by policy at the egress of default/same: Policy denied (code 133); default deny: selected by CiliumNetworkPolicy default/same-egress-default-deny and no rule allows identity 37483 (k8s:app=cni) on ICMP.',
      },
    });
    await remove('egress-default-deny-same.yaml');
    expect(conclusion(request((await trace('same', dst)).report, 'same'))).toEqual(delivered(fixedPath));
  }, 180_000);

  it.each([
    ['same node', 'cni-6vf5d', ['unknown'], ['redirect-peer'], 'cilium:bpf1/2836', CNI_LOCAL],
    ['cross node (VXLAN)', 'cni-x7k2m', ['overlay'], ['overlay', 'redirect-peer'], 'cilium:bpf2', CNI_REMOTE],
  ])('a clusterwide deny rule wins over an allow (181, by denylist), %s; deleted, the allow delivers', async (_kind, dst, path, fixedPath, point, enforcer) => {
    await apply('allow-same-to-cni.yaml');
    await apply('deny-same-to-cni-clusterwide.yaml');
    const dropped = await trace('same', dst);
    expect(conclusion(request(dropped.report, 'same'))).toEqual({
      verdict: 'dropped', outcome: 'dropped', path, dropPoint: point, dropReason: 'Policy denied by denylist',
      explanation: {
        reason: 'Policy denied by denylist', code: 181, byPolicy: true, dropPoint: point, direction: 'ingress', enforcedBy: enforcer, identities: [31009, 37483],
        verdicts: ['Hubble: policy-verdict:L3-Only INGRESS DROPPED', `cilium monitor: endpoint ${enforcer.endpointId} ingress denied (match L3-Only), remote identity 31009`],
        policies: [
          { policy: 'CiliumNetworkPolicy default/cni-allow-from-same', effect: 'allows', detail: 'ingress[0]' },
          { policy: 'CiliumClusterwideNetworkPolicy deny-same-to-cni', effect: 'denies', detail: 'ingressDeny[0]' },
        ],
        summary: `Denied by policy at the ingress of ${enforcer.pod}: Policy denied by denylist (code 181); CiliumClusterwideNetworkPolicy deny-same-to-cni ingressDeny[0] denies identity 31009 (k8s:run=same) on ICMP (a deny rule wins over any allow).`,
      },
    });
    await remove('deny-same-to-cni-clusterwide.yaml');
    expect(conclusion(request((await trace('same', dst)).report, 'same'))).toEqual(delivered(fixedPath));
    await remove('allow-same-to-cni.yaml');
  }, 180_000);

  it.each([
    ['cross node (VXLAN)', 'same', ['overlay'], ['overlay', 'redirect-peer'], 'cilium:bpf2', 31009, 'k8s:run=same'],
    ['same node', 'cni-x7k2m', ['unknown'], ['redirect-peer'], 'cilium:bpf2/1187', 37483, 'k8s:app=cni'],
  ])('NetworkPolicy, L4, %s: tcp:80 allowed and delivered, udp:53 dropped at the ingress of web; deleted, udp:53 delivered', async (_kind, src, path, fixedPath, point, srcIdentity, srcLabel) => {
    const WEB = { endpointId: 2401, pod: 'default/web', node: 'bpf2', identity: 12187 };
    const l4 = async (traffic: string) => {
      const r = await cli(['trace', src, 'web', '--kubeconfig', lab().kubeconfig, '-o', 'json', '--count', '1', '--traffic', traffic]);
      const report = JSON.parse(r.out) as HopReport;
      const proto = traffic.split(':')[0];
      const flows = report.flows.filter((f) => f.direction === 'request' && f.source?.pod === src && f.protocol === proto);
      if (flows.length !== 1) throw new Error(`${flows.length} ${proto} request flows from ${src}`);
      return flows[0];
    };
    await apply('netpol-web-tcp80-only.yaml');
    expect(conclusion(await l4('tcp:80'))).toEqual(delivered(fixedPath));
    expect(conclusion(await l4('udp:53'))).toEqual({
      verdict: 'dropped', outcome: 'dropped', path, dropPoint: point, dropReason: 'Policy denied',
      explanation: {
        reason: 'Policy denied', code: 133, byPolicy: true, dropPoint: point, direction: 'ingress', enforcedBy: WEB, identities: [srcIdentity, 12187],
        verdicts: ['Hubble: policy-verdict:none INGRESS DROPPED', `cilium monitor: endpoint 2401 ingress denied (match none), remote identity ${srcIdentity}`],
        policies: [{ policy: 'NetworkPolicy default/web-tcp80-only', effect: 'selects' }],
        summary: `Denied by policy at the ingress of default/web: Policy denied (code 133); default deny: selected by NetworkPolicy default/web-tcp80-only and no rule allows identity ${srcIdentity} (${srcLabel}) on port 53/UDP.`,
      },
    });
    await remove('netpol-web-tcp80-only.yaml');
    expect(conclusion(await l4('udp:53'))).toEqual(delivered(fixedPath));
  }, 240_000);
});
