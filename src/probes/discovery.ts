/**
 * Commands the trace runs in a node's capture pod before planning its probes: the network
 * namespaces of that node's pods (with their eth0 peer ifindex and MAC), the node's links, and
 * the device it reaches the other node through. Argv only.
 */

/**
 * The probe pod sees the node's named netns in /run/netns when that is mounted from the host;
 * otherwise, with hostPID (and CAP_SYS_PTRACE), through the host's init: /proc/1/root/run/netns.
 * The script is constant (no input in it): it prints `netns: PATH` and that netns's eth0 as one
 * `ip -o` line, for every netns of the first directory that has any.
 */
const LIST_NETNS_ETH0 = [
  'd=/run/netns',
  '[ -n "$(ls -A "$d" 2>/dev/null)" ] || d=/proc/1/root/run/netns',
  'for n in "$d"/*; do [ -e "$n" ] || continue; echo "netns: $n"; nsenter --net="$n" ip -o link show dev eth0 2>/dev/null; done',
  'exit 0',
].join('; ');

/** netnsLinksArgv: eth0 of every named netns of the node, under a `netns: PATH` header each. */
export function netnsLinksArgv(): string[] {
  return ['sh', '-c', LIST_NETNS_ETH0];
}

/** netnsPath: the path nsenter enters, for a netns found by netnsLinksArgv (a path) or named under /run/netns. */
export function netnsPath(netns: string): string {
  return netns.startsWith('/') ? netns : `/run/netns/${netns}`;
}

/** nodeLinksArgv: the node's own links (is there a cilium_vxlan, cilium_geneve?). */
export function nodeLinksArgv(): string[] {
  return ['ip', '-o', 'link', 'show'];
}

/** routeGetArgv: the route to the other node's address (`... dev eth0 src ...`). */
export function routeGetArgv(ip: string): string[] {
  return ['ip', '-o', 'route', 'get', ip];
}
