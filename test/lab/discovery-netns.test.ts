import { spawnSync } from 'node:child_process';
import { findPodNetns, parseNetnsLinks } from '../../src/core/parse/ip-netns.js';
import { netnsLinksArgv } from '../../src/probes/discovery.js';
import { describeAsRoot } from './require-root.js';

/**
 * The discovery script on a node whose runtime names no netns (cri-dockerd: no /run/netns entry,
 * only a process in each pod's netns). A sandbox of its own (mount, PID and network namespaces,
 * nothing of it visible outside, no address anywhere) stands for the node: an empty /run/netns,
 * its own /proc, so /proc/1/root/run/netns is that same empty directory, and a "pod": a process
 * in a netns of its own whose eth0 is the peer of the node's `lxctest`.
 */
const NODE_SETUP = [
  'set -e',
  'mkdir -p /run/netns && mount -t tmpfs dptest-netns /run/netns',
  'unshare --net sleep 30 & pod=$!',
  'for i in 1 2 3 4 5 6 7 8 9 10; do [ "$(readlink /proc/$pod/ns/net)" != "$(readlink /proc/self/ns/net)" ] && break; sleep 0.05; done',
  'ip link add lxctest type veth peer name eth0 netns "$pod"',
  'echo "node: $(ip -o link show dev lxctest)"',
  'echo "pod: /proc/$pod/ns/net $(nsenter --net=/proc/$pod/ns/net ip -o link show dev eth0)"',
  'echo ---',
  '"$@"',
  'kill "$pod"',
].join('\n');

function onNodeWithoutNamedNetns(): { stdout: string; stderr: string; status: number | null } {
  const r = spawnSync('unshare', ['--mount', '--pid', '--fork', '--mount-proc', '--net', 'sh', '-c', NODE_SETUP, 'node', ...netnsLinksArgv()], { encoding: 'utf8', timeout: 20_000 });
  return { stdout: r.stdout ?? '', stderr: r.stderr ?? '', status: r.status };
}

describeAsRoot('pod netns discovery on a node whose runtime names no netns', () => {
  it('finds the pod by the process in its netns, and not the node own netns', () => {
    const r = onNodeWithoutNamedNetns();
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    const [head, output] = r.stdout.split('---\n');
    const lxcIfindex = Number(/^node: (\d+): lxctest@/m.exec(head)?.[1]);
    const pod = /^pod: (\S+) .*link\/ether ([0-9a-f:]{17}) /m.exec(head);
    expect(Number.isInteger(lxcIfindex)).toBe(true);
    expect(pod).not.toBeNull();
    const links = parseNetnsLinks(output);
    // One netns besides the node's own: the pod's, named by its process.
    expect(links.map((l) => l.netns)).toEqual([pod![1]]);
    expect(findPodNetns(links, lxcIfindex, pod![2])).toEqual({ netns: pod![1] });
  });
});
