import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import { hostSideLink, parseEthtoolOutput } from '../../../src/core/parse/ethtool.js';
import { readFixture } from '../../helpers/fixtures.js';
import { expectGolden } from '../../helpers/golden.js';

const FIXTURES = fileURLToPath(new URL('../../fixtures/seed/', import.meta.url));
const GOLDEN = fileURLToPath(new URL('../../golden/ethtool/', import.meta.url));

describe('ethtool -S and ip link (seed)', () => {
  it.each([
    ['ethtool-same-eth0.txt', 28, { ifindex: 28, name: 'lxcda6f5295b4b7', peerIfindex: 27, mac: '0e:fc:49:5b:00:dd', linkNetnsId: 4 }],
    ['ethtool-cni-eth0.txt', 24, { ifindex: 24, name: 'lxcf9d0a91de5fb', peerIfindex: 23, mac: 'd2:f1:29:4b:bd:9d', linkNetnsId: 0 }],
  ])('%s: peer_ifindex %d names the host-side lxc', (file, peer, link) => {
    const r = parseEthtoolOutput(readFixture(join(FIXTURES, file)).body);
    expect(r).toEqual({ peerIfindex: peer, links: [link], unparsed: [] });
    expect(hostSideLink(r)).toEqual(link);
    expectGolden(JSON.stringify(r, null, 2) + '\n', join(GOLDEN, file.replace(/\.txt$/, '.json')));
  });
});

// Lines as ethtool (indented statistics) and iproute2 `ip link` / `ip addr` print them.
describe('line shapes', () => {
  it('indented statistics, loopback, a peer named instead of numbered, ip addr details', () => {
    const r = parseEthtoolOutput([
      'NIC statistics:',
      '     peer_ifindex: 9',
      '     rx_queue_0_xdp_packets: 0',
      '1: lo: <LOOPBACK,UP,LOWER_UP> mtu 65536 qdisc noqueue state UNKNOWN mode DEFAULT group default qlen 1000',
      '    link/loopback 00:00:00:00:00:00 brd 00:00:00:00:00:00',
      '4: cilium_host@cilium_net: <BROADCAST,MULTICAST,NOARP,UP,LOWER_UP> mtu 1500 qdisc noqueue state UP',
      '    link/ether 8A:2A:C0:92:10:72 brd ff:ff:ff:ff:ff:ff',
      '    inet 10.0.1.159/32 scope global cilium_host',
      '       valid_lft forever preferred_lft forever',
      '9: lxc12345@if8: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 1500 qdisc noqueue state UP',
      '    link/ether 11:22:33:44:55:66 brd ff:ff:ff:ff:ff:ff link-netns cni-1234',
      'Cannot get stats strings information: Operation not supported',
    ]);
    expect(r.peerIfindex).toBe(9);
    expect(r.links).toEqual([
      { ifindex: 1, name: 'lo', mac: '00:00:00:00:00:00' },
      { ifindex: 4, name: 'cilium_host', mac: '8a:2a:c0:92:10:72' },
      { ifindex: 9, name: 'lxc12345', peerIfindex: 8, mac: '11:22:33:44:55:66' },
    ]);
    expect(hostSideLink(r)?.name).toBe('lxc12345');
    expect(r.unparsed).toEqual([{ line: 12, text: 'Cannot get stats strings information: Operation not supported', reason: 'not an ethtool statistic nor an ip link line' }]);
  });

  it('no peer_ifindex, no host-side link', () => {
    expect(hostSideLink(parseEthtoolOutput(['28: lxcda6f5295b4b7@if27: <BROADCAST> mtu 1500']))).toBeUndefined();
  });
});
