import { parseEthtoolOutput, type LinkInfo } from './ethtool.js';

/**
 * Output of the node-side discovery commands (src/probes/discovery.ts): each netns's eth0, `ip -o
 * link show`, `ip -o route get ADDR`. `ip -o` folds a link's lines into one with `\` separators;
 * they are unfolded and read by the ip link parser.
 */

/** NetnsLink: a netns (a name or a path) and its eth0. */
export interface NetnsLink {
  netns: string;
  link: LinkInfo;
}

const NETNS_HEADER = /^netns: (\S+)$/;

/** unfold: one `ip -o` line back into the lines `ip` prints without -o. */
function unfold(line: string): string[] {
  return line.split(/\\\s+/).map((l) => l.trim());
}

/**
 * parseNetnsLinks reads `netns: NAME-OR-PATH` headers each followed by `ip -o link show dev eth0`
 * (as `ip -all netns exec` prints them, and the probes' discovery script); a netns without eth0
 * has a header only.
 */
export function parseNetnsLinks(text: string): NetnsLink[] {
  const out: NetnsLink[] = [];
  let netns: string | undefined;
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line === '') continue;
    const header = NETNS_HEADER.exec(line);
    if (header) {
      netns = header[1];
      continue;
    }
    if (netns === undefined) continue;
    for (const link of parseEthtoolOutput(unfold(line)).links) out.push({ netns, link });
  }
  return out;
}

/**
 * findPodNetns: the netns whose eth0 is the peer of the pod's lxc (its peer ifindex is the lxc's
 * ifindex) and, when the endpoint's MAC is known, has that MAC: ifindexes repeat across nodes,
 * a MAC and an ifindex together do not.
 */
export function findPodNetns(links: readonly NetnsLink[], lxcIfindex: number | undefined, mac: string | undefined): { netns?: string; problem?: string } {
  if (lxcIfindex === undefined) return { problem: 'the ifindex of its host-side interface is not known' };
  const byPeer = links.filter((l) => l.link.peerIfindex === lxcIfindex);
  const wanted = mac?.toLowerCase();
  const matching = wanted ? byPeer.filter((l) => l.link.mac === wanted) : byPeer;
  if (matching.length === 1) return { netns: matching[0].netns };
  if (matching.length > 1) return { problem: `${matching.length} network namespaces have an eth0 paired with ifindex ${lxcIfindex}${wanted ? ` and MAC ${wanted}` : ''}` };
  if (links.length === 0) return { problem: 'no pod network namespace is visible on the node (none named in /run/netns or, through hostPID, /proc/1/root/run/netns, and no process in one)' };
  if (byPeer.length > 0) return { problem: `the eth0 paired with ifindex ${lxcIfindex} has MAC ${byPeer[0].link.mac ?? 'unknown'}, not the endpoint's ${wanted}` };
  return { problem: `no network namespace has an eth0 paired with ifindex ${lxcIfindex}` };
}

/** parseLinkNames reads `ip -o link show`: the interface names, without `@peer`. */
export function parseLinkNames(text: string): string[] {
  const names: string[] = [];
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line === '') continue;
    for (const link of parseEthtoolOutput(unfold(line)).links) names.push(link.name);
  }
  return names;
}

const ROUTE_DEV = /(?:^|\s)dev\s+(\S+)/;

/** parseRouteDev reads `ip -o route get ADDR`: the device the route goes out of. */
export function parseRouteDev(text: string): string | undefined {
  for (const line of text.split('\n')) {
    const m = ROUTE_DEV.exec(line);
    if (m) return m[1];
  }
  return undefined;
}

/** TUNNEL_DEVICES: the devices Cilium's tunnel modes create. */
export const TUNNEL_DEVICES = ['cilium_vxlan', 'cilium_geneve'] as const;

/** tunnelDeviceOf: the Cilium tunnel device among a node's links, if any. */
export function tunnelDeviceOf(names: readonly string[]): string | undefined {
  return TUNNEL_DEVICES.find((d) => names.includes(d));
}
