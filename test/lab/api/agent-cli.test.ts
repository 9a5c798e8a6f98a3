/**
 * `kubectl -n kube-system exec <agent> -- cilium-dbg endpoint list`: the agent pod's image maps
 * cilium-dbg to the lab's emulated Cilium CLI, which answers for the exec's node. The fake lab
 * gets the kernel.json the emulated CLI reads, filled from the namespaces this test built.
 */
import { execFileSync } from 'node:child_process';
import { statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { KernelFacts } from '../kernel/kernel-facts.js';
import { describeAsRoot } from '../require-root.js';
import { useRunningLab, type FakeLab } from './fake-lab.js';

function ifindex(netns: string, dev: string): number {
  return (JSON.parse(execFileSync('ip', ['-n', netns, '-j', 'link', 'show', dev], { encoding: 'utf8' })) as { ifindex: number }[])[0].ifindex;
}

function kernelFacts(lab: FakeLab): KernelFacts {
  const inode = (ns: string) => statSync(`/run/netns/${ns}`).ino;
  const node = (ns: string, hostEndpointId: number) => ({
    hostEndpointId,
    underlayIfindex: ifindex(ns, 'eth0'),
    ciliumHostIfindex: ifindex(ns, 'lo'), // the fake lab has no cilium_host
    netnsInode: inode(ns),
    agentPid: 0,
  });
  return {
    instance: 'apitest',
    monitorAggregation: 'medium',
    nodes: { bpf1: node(lab.netns.bpf1, 1204), bpf2: node(lab.netns.bpf2, 871) },
    pods: { 'default/same': { netnsInode: inode(lab.netns.same) }, 'default/cni-6vf5d': { netnsInode: inode(lab.netns.cni) } },
  };
}

describeAsRoot('the Cilium agent CLI in agent pods', () => {
  const t = useRunningLab((lab) => writeFileSync(join(lab.state.dir, 'kernel.json'), JSON.stringify(kernelFacts(lab))));

  it('runs cilium-dbg endpoint list for the agent node', async () => {
    const agent = (await t.kubectl(['-n', 'kube-system', 'get', 'pods', '-l', 'k8s-app=cilium', '--field-selector', 'spec.nodeName=bpf1', '-o', 'name'])).stdout.trim();
    const r = await t.kubectl(['-n', 'kube-system', 'exec', agent, '--', 'cilium-dbg', 'endpoint', 'list']);
    expect({ code: r.code, stderr: r.stderr }).toEqual({ code: 0, stderr: '' });
    const ids = r.stdout.split('\n').flatMap((line) => /^(\d+)\s/.exec(line)?.[1] ?? []);
    expect(ids.sort()).toEqual(['1204', '2836', '3663']);
  }, 30_000);
});
