/**
 * Commands the trace runs in a node's capture pod before planning its probes: the network
 * namespaces of that node's pods (with their eth0 peer ifindex and MAC), the node's links, and
 * the device it reaches the other node through. Argv only.
 */

/** netnsLinksArgv: eth0 of every named netns, one `ip -o` line each under a `netns: NAME` header. */
export function netnsLinksArgv(): string[] {
  return ['ip', '-all', 'netns', 'exec', 'ip', '-o', 'link', 'show', 'dev', 'eth0'];
}

/** nodeLinksArgv: the node's own links (is there a cilium_vxlan, cilium_geneve?). */
export function nodeLinksArgv(): string[] {
  return ['ip', '-o', 'link', 'show'];
}

/** routeGetArgv: the route to the other node's address (`... dev eth0 src ...`). */
export function routeGetArgv(ip: string): string[] {
  return ['ip', '-o', 'route', 'get', ip];
}
