/**
 * Commands the trace runs in a node's capture pod before planning its probes: the network
 * namespaces of that node's pods (with their eth0 peer ifindex and MAC), the node's links, and
 * the device it reaches the other node through. Argv only.
 */

/**
 * The probe pod sees the node's named netns in /run/netns when that is mounted from the host;
 * otherwise, with hostPID (and CAP_SYS_PTRACE), through the host's init: /proc/1/root/run/netns.
 * Runtimes that name no netns at all (cri-dockerd) leave the processes: one per network namespace
 * other than the node's own, found by `ls -l /proc/[0-9]*\/ns/net` in one exec (not a readlink per
 * process: nodes run thousands). The script is constant (no input in it): it prints `netns: PATH`
 * and that netns's eth0 as one `ip -o` line, for every netns it found.
 */
const LIST_NETNS_ETH0 = [
  'd=/run/netns',
  '[ -n "$(ls -A "$d" 2>/dev/null)" ] || d=/proc/1/root/run/netns',
  'if [ -n "$(ls -A "$d" 2>/dev/null)" ]; then',
  '  for n in "$d"/*; do [ -e "$n" ] || continue; echo "netns: $n"; nsenter --net="$n" ip -o link show dev eth0 2>/dev/null; done',
  'else',
  '  self=$(readlink /proc/self/ns/net)',
  '  ls -l /proc/[0-9]*/ns/net 2>/dev/null | awk -v self="$self" \'{ ns = $NF; if (ns != self && !(ns in seen)) { seen[ns] = 1; print $(NF - 2) } }\' |',
  '    while read -r p; do echo "netns: $p"; nsenter --net="$p" ip -o link show dev eth0 2>/dev/null; done',
  'fi',
  'exit 0',
].join('\n');

/** netnsLinksArgv: eth0 of every pod netns of the node, under a `netns: PATH` header each. */
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
