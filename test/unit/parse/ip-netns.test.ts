import { findPodNetns, parseLinkNames, parseNetnsLinks, parseRouteDev, tunnelDeviceOf } from '../../../src/core/parse/ip-netns.js';
import { readFixture } from '../../helpers/fixtures.js';

const DIR = 'test/fixtures/ip';
const text = (name: string) => readFixture(`${DIR}/${name}`).body.join('\n');

describe('node discovery outputs (real ip 6.1 output)', () => {
  const links = parseNetnsLinks(text('netns-eth0-links.txt'));

  it('reads every named netns with its eth0 peer ifindex and MAC; a netns without eth0 gives nothing', () => {
    expect(links.map((l) => [l.netns.replace(/^dpfx-\d+-/, ''), l.link.name, l.link.ifindex, l.link.peerIfindex, l.link.mac])).toEqual([
      ['pod2', 'eth0', 2, 3, '0a:58:0a:f4:01:b4'],
      ['pod1', 'eth0', 2, 2, '0a:58:0a:f4:01:87'],
    ]);
  });

  it.each([
    { name: 'ifindex and MAC agree', ifindex: 2, mac: '0A:58:0A:F4:01:87', netns: 'pod1' },
    { name: 'ifindex alone when the MAC is unknown', ifindex: 3, mac: undefined, netns: 'pod2' },
    { name: 'an ifindex with another MAC (a pod of another node)', ifindex: 2, mac: '0a:58:0a:f4:01:b4', problem: 'the eth0 paired with ifindex 2 has MAC 0a:58:0a:f4:01:87, not the endpoint\'s 0a:58:0a:f4:01:b4' },
    { name: 'no eth0 paired with the ifindex', ifindex: 9, mac: undefined, problem: 'no network namespace has an eth0 paired with ifindex 9' },
    { name: 'no ifindex', ifindex: undefined, mac: undefined, problem: 'the ifindex of its host-side interface is not known' },
  ])('findPodNetns: $name', ({ ifindex, mac, netns, problem }) => {
    const r = findPodNetns(links, ifindex, mac);
    expect(r.netns?.replace(/^dpfx-\d+-/, '')).toBe(netns);
    expect(r.problem).toBe(problem);
  });

  it('the probes\' discovery script prints the same, with paths nsenter can enter', () => {
    const found = parseNetnsLinks(text('netns-eth0-discovery.txt'));
    expect(found.map((l) => [l.netns.replace(/dpfx-\d+-/, ''), l.link.peerIfindex, l.link.mac])).toEqual([
      ['/run/netns/pod1', 2, '0a:58:0a:f4:01:87'],
      ['/run/netns/pod2', 3, '0a:58:0a:f4:01:b4'],
    ]);
    expect(findPodNetns(found, 3, '0a:58:0a:f4:01:b4').netns).toMatch(/^\/run\/netns\/dpfx-\d+-pod2$/);
  });

  it('says when no named netns is visible at all (the probe pod lacks the host /run/netns)', () => {
    expect(findPodNetns([], 2, undefined).problem).toMatch(/no pod network namespace is visible on the node \(none named in \/run\/netns or, through hostPID, \/proc\/1\/root\/run\/netns, and no process in one\)/);
  });

  it('node links: names without @peer, and the tunnel device among them', () => {
    const names = parseLinkNames(text('node-links.txt'));
    expect(names).toEqual(['lo', 'lxc8f2a1b3c4d5e', 'lxc0b9e8d7c6f5a', 'ens5', 'cilium_vxlan']);
    expect(tunnelDeviceOf(names)).toBe('cilium_vxlan');
    expect(tunnelDeviceOf(['lo', 'eth0'])).toBeUndefined();
  });

  it('route get: the device towards the other node', () => {
    expect(parseRouteDev(text('route-get.txt'))).toBe('ens5');
    expect(parseRouteDev('RTNETLINK answers: Network is unreachable')).toBeUndefined();
  });
});
