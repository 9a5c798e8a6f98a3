import { cleanup } from '../../src/app/cleanup.js';
import { probePodSpec } from '../../src/app/probe-pods.js';
import { startProbe } from '../../src/app/run-probes.js';
import { commandFor } from '../../src/probes/index.js';
import type { CommandContext } from '../../src/probes/probe-command.js';
import { FAKE_CLIENT, FAKE_SERVER, FakeCluster } from '../helpers/fakes.js';


/** What a run that died without its finally leaves: a probe pod, a monitor and an xtables-monitor running, TRACE rules in. */
async function crashedRun(c: FakeCluster, runId: string): Promise<void> {
  const spec = probePodSpec({ node: 'n1', role: 'capture' }, 0, { namespace: 'default', probeImage: 'i', pwruImage: 'p', runId, timeoutS: 60 });
  await c.kube.createPod(spec);
  const ctx: CommandContext = {
    runId,
    lifetimeS: 90,
    maxCapturePackets: 10,
    pwruMaxLines: 10,
    probePod: () => undefined,
    agent: () => ({ namespace: 'kube-system', name: 'cilium-n1', container: 'cilium-agent', cli: 'cilium-dbg' }),
  };
  const monitor = commandFor({ id: 'monitor-n1', tool: 'monitor', point: 'cilium:n1', node: 'n1', place: { kind: 'agent', node: 'n1' }, filter: [], endpoints: [2836] }, ctx)!;
  const ipt = commandFor({ id: 'iptables-n1', tool: 'iptables', point: 'iptables:n1', node: 'n1', place: { kind: 'agent', node: 'n1' }, filter: [], addresses: ['10.99.0.1', '10.99.0.2'] }, ctx)!;
  const runs = [startProbe(c.exec, monitor, 5000), startProbe(c.exec, ipt, 5000)];
  await Promise.all(runs.map((r) => r.ready));
}

describe('cleanup', () => {
  it('removes what crashed runs left (pods by label, processes by pidfile, TRACE rules by comment) and nothing else', async () => {
    const c = new FakeCluster({ pods: [FAKE_CLIENT, FAKE_SERVER], nodes: [{ name: 'n1', internalIp: '192.168.0.1' }] });
    await crashedRun(c, 'aaaa1111');
    await crashedRun(c, 'bbbb2222');
    c.rules.get('kube-system/cilium-n1')!.add('PREROUTING -p icmp -j TRACE');
    expect(c.exec.leftRunning()).toHaveLength(4);

    const only = await cleanup({ probeNamespace: 'default', agentNamespace: 'kube-system', runId: 'aaaa1111' }, c.kube, c.exec);
    expect(only.podsDeleted).toEqual(['default/datapath-aaaa1111-capture-0']);
    expect(only.processesKilled.sort()).toEqual([
      'kube-system/cilium-n1: /tmp/kubectl-datapath-aaaa1111-iptables-n1.pid',
      'kube-system/cilium-n1: /tmp/kubectl-datapath-aaaa1111-monitor-n1.pid',
    ]);
    expect(only.rulesRemoved).toHaveLength(4);
    expect(c.exec.leftRunning().map((p) => p.pidfile)).toEqual(['/tmp/kubectl-datapath-bbbb2222-monitor-n1.pid', '/tmp/kubectl-datapath-bbbb2222-iptables-n1.pid']);

    const all = await cleanup({ probeNamespace: 'default', agentNamespace: 'kube-system' }, c.kube, c.exec);
    expect(all.podsDeleted).toEqual(['default/datapath-bbbb2222-capture-0']);
    expect(all.processesKilled).toHaveLength(2);
    expect(all.rulesRemoved.every((r) => r.includes('datapath-bbbb2222'))).toBe(true);
    expect(all.problems).toEqual([]);
    expect(c.exec.leftRunning()).toEqual([]);
    expect(c.kube.probePods()).toEqual([]);
    // Someone else's TRACE rule stays.
    expect([...c.rules.get('kube-system/cilium-n1')!]).toEqual(['PREROUTING -p icmp -j TRACE']);

    const again = await cleanup({ probeNamespace: 'default', agentNamespace: 'kube-system' }, c.kube, c.exec);
    expect(again).toEqual({ podsDeleted: [], processesKilled: [], rulesRemoved: [], problems: [] });
  });
});
