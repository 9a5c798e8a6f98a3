import { transcriptNoise } from './transcript-noise.js';
import type { UnparsedLine } from './unparsed-line.js';

/**
 * `ethtool -S eth0` run in a pod (a veth reports `peer_ifindex: N`, the ifindex of its host-side
 * end) and `ip link` / `ip addr` on the node (`28: lxcda6f5295b4b7@if27: <...>`): together they
 * name the host-side lxc of a pod's eth0.
 */
export interface EthtoolResult {
  /** From `peer_ifindex: N`. */
  peerIfindex?: number;
  links: LinkInfo[];
  unparsed: UnparsedLine[];
}

export interface LinkInfo {
  ifindex: number;
  name: string;
  /** `name@ifN`: the peer's ifindex (in another netns); absent for `name@peername` or no peer. */
  peerIfindex?: number;
  /** From the `link/ether` line, lower case. */
  mac?: string;
  /** `link-netnsid N`: the peer's netns as this netns numbers it. */
  linkNetnsId?: number;
}

const PEER_IFINDEX = /^peer_ifindex:\s*(\d+)$/;
const STAT_LINE = /^[\w.-]+:\s*-?\d+$/;
const LINK_HEAD = /^(\d+):\s+([^\s:@]+)(?:@([^\s:]+))?:\s+<[^>]*>/;
const LINK_ETHER = /^link\/\S+\s+([0-9a-fA-F:]+)(?:\s+brd\s+\S+)?(?:\s+link-netnsid\s+(\d+))?/;
const PEER_BY_INDEX = /^if(\d+)$/;
const ADDRESS_DETAIL = /^(?:inet6?\s|valid_lft\s|altname\s|alias\s)/;

/** parseEthtoolOutput: ethtool -S statistics and/or ip link/addr output, as captured. */
export function parseEthtoolOutput(lines: string[]): EthtoolResult {
  const result: EthtoolResult = { links: [], unparsed: [] };
  let current: LinkInfo | undefined;
  for (let n = 0; n < lines.length; n++) {
    const raw = lines[n];
    const text = raw.trim();
    if (text === '' || text === 'NIC statistics:' || transcriptNoise(text) !== undefined) continue;
    const peer = PEER_IFINDEX.exec(text);
    if (peer !== null) {
      result.peerIfindex = Number(peer[1]);
      continue;
    }
    const head = LINK_HEAD.exec(text);
    if (head !== null) {
      current = { ifindex: Number(head[1]), name: head[2] };
      const peerIf = head[3] === undefined ? null : PEER_BY_INDEX.exec(head[3]);
      if (peerIf !== null) current.peerIfindex = Number(peerIf[1]);
      result.links.push(current);
      continue;
    }
    if (STAT_LINE.test(text)) continue;
    const ether = LINK_ETHER.exec(text);
    if (ether !== null && current !== undefined) {
      current.mac = ether[1].toLowerCase();
      if (ether[2] !== undefined) current.linkNetnsId = Number(ether[2]);
      continue;
    }
    if (ADDRESS_DETAIL.test(text) && current !== undefined) continue;
    result.unparsed.push({ line: n + 1, text: raw, reason: 'not an ethtool statistic nor an ip link line' });
  }
  return result;
}

/** hostSideLink: the link whose ifindex is the pod eth0's peer_ifindex, i.e. the pod's host-side veth. */
export function hostSideLink(result: EthtoolResult): LinkInfo | undefined {
  if (result.peerIfindex === undefined) return undefined;
  return result.links.find((l) => l.ifindex === result.peerIfindex);
}
