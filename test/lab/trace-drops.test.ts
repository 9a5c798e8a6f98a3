/**
 * Drops a user meets that no policy makes, produced by the real kernel path and traced with
 * `kubectl datapath trace`: an iptables DROP rule in a node's FORWARD chain (legacy host routing,
 * where the node's stack forwards pod traffic between nodes). The rule is inserted in the node's
 * netns for the test and removed after it; the same trace is then delivered.
 */
import { spawnSync } from 'node:child_process';
import type { HopReport, ReportFlow } from '../../src/core/model/report.js';
import { cli, useApiLab } from './api-lab.js';
import { describeAsRoot } from './require-root.js';

describeAsRoot('trace of drops the kernel makes (legacy host routing, native routing)', () => {
  const lab = useApiLab('disabled', { mode: 'legacy' });
  const node = (name: string) => lab().state.nodes.find((n) => n.name === name)!.netns;
  const RULE = ['FORWARD', '-d', '10.0.2.41/32', '-p', 'icmp', '-m', 'comment', '--comment', 'dplab-test-drop', '-j', 'DROP'];
  const iptables = (netns: string, args: string[]) => {
    const r = spawnSync('ip', ['netns', 'exec', netns, 'iptables', '-w', ...args], { encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`iptables ${args.join(' ')}: ${r.stderr}`);
    return r.stdout;
  };
  const request = async (src: string, dst: string, more: string[] = []): Promise<ReportFlow> => {
    const r = await cli(['trace', src, dst, '--kubeconfig', lab().kubeconfig, '-o', 'json', '--count', '1', ...more]);
    const report = JSON.parse(r.out) as HopReport;
    const flows = report.flows.filter((f) => f.direction === 'request' && f.source?.pod === src && f.protocol === 'icmp');
    if (flows.length !== 1) throw new Error(`${flows.length} request flows from ${src}`);
    return flows[0];
  };

  afterEach(() => {
    // Nothing left behind: the test's rule is gone whatever happened.
    while (iptables(node('bpf2'), ['-S', 'FORWARD']).includes('dplab-test-drop')) iptables(node('bpf2'), ['-D', ...RULE]);
  });

  it('an iptables DROP in bpf2\'s FORWARD chain: dropped by the kernel on bpf2 after the underlay, NETFILTER_DROP, not a policy; removed, delivered', async () => {
    iptables(node('bpf2'), ['-I', RULE[0], '1', ...RULE.slice(1)]);
    const f = await request('same', 'cni-x7k2m');
    expect({
      verdict: f.verdict, outcome: f.outcome, path: f.path, dropPoint: f.dropPoint, dropReason: f.dropReason,
      explanation: f.dropExplanation && { reason: f.dropExplanation.reason, byPolicy: f.dropExplanation.byPolicy, dropPoint: f.dropExplanation.dropPoint, lastSeenAt: f.dropExplanation.lastSeenAt, direction: f.dropExplanation.direction, summary: f.dropExplanation.summary },
    }).toEqual({
      verdict: 'dropped', outcome: 'dropped', path: ['host-stack', 'native-routing'], dropPoint: 'kernel:bpf2', dropReason: 'SKB_DROP_REASON_NETFILTER_DROP',
      explanation: {
        reason: 'SKB_DROP_REASON_NETFILTER_DROP', byPolicy: false, dropPoint: 'kernel:bpf2', lastSeenAt: 'host:bpf2/ens33', direction: 'unknown',
        summary: 'Dropped at kernel:bpf2: SKB_DROP_REASON_NETFILTER_DROP; not a policy decision.',
      },
    });
    iptables(node('bpf2'), ['-D', ...RULE]);
    const after = await request('same', 'cni-x7k2m');
    expect({ verdict: after.verdict, outcome: after.outcome, path: after.path, dropPoint: after.dropPoint, dropReason: after.dropReason }).toEqual({
      verdict: 'delivered', outcome: 'delivered', path: ['host-stack', 'native-routing', 'host-stack'], dropPoint: null, dropReason: null,
    });
  }, 180_000);
});
