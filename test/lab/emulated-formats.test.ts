/**
 * The emulated agent CLI and pwru print what real releases print: their formatters, fed the
 * facts behind real outputs (fixtures/real, the seed), reproduce those outputs. Pure, no root.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { readFixture } from '../helpers/fixtures.js';
import { tabwrite } from './emulated/go-tabwriter.js';
import { formatStatus } from './emulated/cilium/status.js';
import { formatEvent, type MonitorFormatOptions } from './emulated/cilium/monitor-format.js';
import { endpointGet, endpointList } from './emulated/cilium/endpoint.js';
import type { DatapathEvent } from './emulated/datapath-events.js';
import type { NodeContext } from './emulated/lab-context.js';
import { PwruPrinter } from './emulated/pwru/output.js';
import { compileFilter } from './emulated/pwru/pcap-filter.js';
import { skbLines, type FuncLine, type PathContext } from './emulated/pwru/path.js';
import { SKB, tupleOf, type SkbEvent } from './emulated/pwru/skb-event.js';

const fixture = (p: string): string => fileURLToPath(new URL(`../fixtures/${p}`, import.meta.url));
const ip = (s: string): number => s.split('.').reduce((acc, o, i) => acc + Number(o) * 256 ** i, 0);

describe('Go tabwriter', () => {
  it('lays out cilium-dbg endpoint list exactly like the real table', () => {
    const eps: [number, number, string[], string][] = [
      [33, 24121, ['k8s:io.cilium.k8s.namespace.labels.kubernetes.io/metadata.name=kube-system', 'k8s:io.cilium.k8s.policy.cluster=default', 'k8s:io.cilium.k8s.policy.serviceaccount=coredns', 'k8s:io.kubernetes.pod.namespace=kube-system', 'k8s:k8s-app=kube-dns'], '10.0.0.220'],
      [274, 17157, ['k8s:app.kubernetes.io/name=hubble-relay', 'k8s:app.kubernetes.io/part-of=cilium', 'k8s:io.cilium.k8s.namespace.labels.kubernetes.io/metadata.name=kube-system', 'k8s:io.cilium.k8s.policy.cluster=default', 'k8s:io.cilium.k8s.policy.serviceaccount=hubble-relay', 'k8s:io.kubernetes.pod.namespace=kube-system', 'k8s:k8s-app=hubble-relay'], '10.0.0.43'],
      [342, 1, ['k8s:k8slens-edit-resource-version=v1', 'k8s:node-role.kubernetes.io/control-plane', 'k8s:node.kubernetes.io/exclude-from-external-load-balancers', 'reserved:host'], ''],
      [398, 64642, ['k8s:io.cilium.k8s.namespace.labels.kubernetes.io/metadata.name=default', 'k8s:io.cilium.k8s.policy.cluster=default', 'k8s:io.cilium.k8s.policy.serviceaccount=default', 'k8s:io.kubernetes.pod.namespace=default'], '10.0.0.236'],
      [2838, 4, ['reserved:health'], '10.0.0.203'],
    ];
    let t = 'ENDPOINT\tPOLICY (ingress)\tPOLICY (egress)\tIDENTITY\tLABELS (source:key[=value])\tIPv6\tIPv4\tSTATUS\t\n\tENFORCEMENT\tENFORCEMENT\t\t\t\t\t\n';
    for (const [id, identity, labels, addr] of eps) {
      labels.forEach((l, i) => (t += i === 0 ? `${id}\tDisabled\tDisabled\t${identity}\t${l}\t\t${addr}\tready\t\n` : `\t\t\t\t${l}\t\t\t\t\n`));
    }
    const real = readFixture(fixture('cilium-endpoint/debuginfo-2025-endpoint-list-table.txt')).body.join('\n') + '\n';
    expect(tabwrite(t, 5, 3)).toBe(real);
  });
});

describe('emulated cilium-dbg status', () => {
  it('prints a 1.16 agent status byte for byte like the real one, given the same facts', () => {
    const sr = {
      'attach-mode': 'tcx',
      cilium: { msg: '1.16.5 (v1.16.5-ad688277)', state: 'Ok' },
      cluster: { ciliumHealth: { state: 'Ok' } },
      'cni-chaining': { mode: 'none' },
      'cni-file': { msg: 'successfully wrote CNI configuration file to /host/etc/cni/net.d/05-cilium.conflist', state: 'Ok' },
      controllers: new Array(130).fill({}),
      'datapath-mode': 'veth',
      encryption: { mode: 'Disabled' },
      'host-firewall': { mode: 'Disabled' },
      hubble: { state: 'Ok', observer: { 'current-flows': 4095, 'max-flows': 4095, 'seen-flows': 5610, uptime: 100e9 }, metrics: { state: 'Ok' } },
      'identity-range': { 'max-identity': 131071, 'min-identity': 65536 },
      ipam: { status: 'IPv4: 21/254 allocated from 10.69.3.0/24, ' },
      'ipv4-big-tcp': {},
      'ipv6-big-tcp': {},
      'kube-proxy-replacement': { deviceList: [{ ip: ['10.10.0.83', 'fe80::be24:11ff:fe20:cc1f'], name: 'eth0' }], directRoutingDevice: 'eth0', mode: 'True' },
      kubernetes: {
        'k8s-api-versions': ['EndpointSliceOrEndpoint', 'cilium/v2::CiliumClusterwideNetworkPolicy', 'cilium/v2::CiliumEndpoint', 'cilium/v2::CiliumLocalRedirectPolicy', 'cilium/v2::CiliumNetworkPolicy', 'cilium/v2::CiliumNode', 'cilium/v2alpha1::CiliumCIDRGroup', 'core/v1::Namespace', 'core/v1::Pods', 'core/v1::Service', 'networking.k8s.io/v1::NetworkPolicy'],
        msg: '1.32 (v1.32.0) [linux/amd64]',
        state: 'Ok',
      },
      kvstore: { msg: 'Disabled', state: 'Ok' },
      masquerading: { mode: 'IPTables' },
      nodeMonitor: { cpus: 10, npages: 64, pagesize: 4096 },
      proxy: { 'envoy-deployment-mode': 'embedded', ip: '10.69.3.39', 'port-range': '10000-20000', 'total-redirects': 0 },
      routing: { 'inter-host-routing-mode': 'Native', 'intra-host-routing-mode': 'Legacy' },
      srv6: {},
    };
    const real = readFixture(fixture('cilium-status/blog-podman-v1.16.5-agent-status.txt')).body.slice(1).join('\n') + '\n';
    expect(formatStatus(sr, '1.16.5', { clusterHealth: '3/3 reachable\t(2024-12-23T23:27:27Z)', modulesOk: 105 })).toBe(real);
  });
});

/** The seed's request as the destination pod received it (fixtures/seed/cilium-monitor-v.txt). */
function seedRequestBytes(): string {
  const eth = 'fe55fa02eee5' + 'd2f1294bbd9d' + '0800';
  const ipHdr = '4500' + '0054' + '11b4' + '4000' + '3f01' + '12bb' + '0a000187' + '0a0001b4';
  const icmp = '0800' + 'e5d3' + '5600' + '0000' + '00'.repeat(56);
  return eth + ipHdr + icmp;
}

function event(partial: Partial<DatapathEvent>): DatapathEvent {
  return {
    ts: 1, kind: 'trace', sub: 0, source: 0, dstId: 0, cpu: 2, hash: 0, srcLabel: 0, dstLabel: 0, ifindex: 0, reason: 0, monitor: 1,
    arg1: 0, arg2: 0, arg3: 0, origIp: 0, len: 98, capLen: 0, prog: 1, hookIfindex: 0, action: 0, target: 0, data: '', ...partial,
  };
}

describe('emulated cilium-dbg monitor', () => {
  const opts = (verbosity: MonitorFormatOptions['verbosity'], version = '1.11.1'): MonitorFormatOptions => ({ version, verbosity, numeric: false, hex: false, ifnames: new Map([[24, 'lxcf9d0a91de5fb']]) });
  const seed = readFileSync(fixture('seed/cilium-monitor-v.txt'), 'utf8').split('\n');

  it('prints the seed DEBUG lines for the datapath debug records', () => {
    const lines = [
      event({ kind: 'debug', sub: 1, source: 2836, arg1: ip('10.0.1.135'), arg2: ip('10.0.1.180'), arg3: (22016 << 16) | 0 }),
      event({ kind: 'debug', sub: 2, source: 2836, arg1: 1, arg2: 1 }),
      event({ kind: 'debug', sub: 4, source: 2836, arg1: 0 }),
      event({ kind: 'debug', sub: 6, source: 2836, arg1: ip('10.0.1.180'), arg2: 37483 }),
      event({ kind: 'debug', sub: 5, source: 2836, arg2: 31009 }),
      event({ kind: 'debug', sub: 7, source: 2836, arg1: 3663, arg2: 31009 }),
    ].flatMap((e) => formatEvent(e, opts('debug')));
    expect(lines).toEqual(seed.slice(0, 6));
  });

  it('prints the seed to-endpoint record (-vv) with its packet dissection above it, as 1.11 did', () => {
    const e = event({ sub: 0, source: 3663, dstId: 3663, srcLabel: 31009, dstLabel: 37483, ifindex: 24, reason: 0, origIp: ip('10.0.1.135'), capLen: 98, data: seedRequestBytes() });
    const [separator, ...lines] = formatEvent(e, opts('verbose'));
    expect(separator).toBe('-'.repeat(78));
    // The seed text lost its tabs and leading spaces; compare words.
    const words = (s: string): string => s.replace(/\s+/g, ' ').trim();
    expect(lines.map(words)).toEqual(seed.slice(10, 15).map(words));
    expect(lines[0]).toMatch(/^Ethernet\t\{/);
  });

  it('prints the one-line trace summary of 1.10+ (flow 0x.. , identity a->b)', () => {
    const e = event({ sub: 0, dstId: 3663, source: 3663, srcLabel: 31009, dstLabel: 37483, ifindex: 24, origIp: ip('10.0.1.135'), capLen: 98, data: seedRequestBytes() });
    expect(formatEvent(e, opts('info'))).toEqual(['-> endpoint 3663 flow 0x0 , identity 31009->37483 state new ifindex lxcf9d0a91de5fb orig-ip 10.0.1.135: 10.0.1.135 -> 10.0.1.180 EchoRequest']);
    expect(formatEvent(event({ kind: 'debug', sub: 1 }), opts('info'))).toEqual([]);
  });

  it('puts the header first from 1.17 on and prints -j records as Go marshals them', () => {
    const e = event({ sub: 0, dstId: 3663, source: 3663, srcLabel: 31009, dstLabel: 37483, ifindex: 24, origIp: ip('10.0.1.135'), capLen: 98, data: seedRequestBytes() });
    expect(formatEvent(e, opts('verbose', '1.18.0'))[1]).toMatch(/^CPU 02: MARK 0x0 FROM 3663 to-endpoint: 98 bytes \(98 captured\)/);
    const json = formatEvent(e, opts('json', '1.16.5'))[0];
    expect(json).toContain('"traceSummary":"-\\u003e endpoint 3663"');
    expect(JSON.parse(json)).toMatchObject({ cpu: 'CPU 02:', type: 'trace', ifindex: 'lxcf9d0a91de5fb', state: 'new', observationPoint: 'to-endpoint', srcLabel: 31009, dstLabel: 37483, dstID: 3663 });
  });
});

/** A lab node context without a running lab: what endpoint/status read. */
function context(version: string): NodeContext {
  const node = { name: 'bpf1', netns: 'dplab-bpf1', ip: '192.168.2.61', underlayIf: 'ens33', underlayMac: '02:00:00:00:00:01', podCidr: '10.0.1.0/24', routerIp: '10.0.1.159', ciliumHostMac: '0e:fc:49:5b:00:01', kernel: '6.18' };
  const pod = {
    namespace: 'default', name: 'same', uid: '11111111-2222-4333-a444-555555555555', node: 'bpf1', netns: 'dplab-bpf1-same', hostNetwork: false, ip: '10.0.1.135',
    mac: '7a:a2:51:7c:d4:40', lxc: { name: 'lxcda6f5295b4b7', ifindex: 28, mac: '0e:fc:49:5b:00:dd' }, endpointId: 2836, identity: 31009, labels: { run: 'same' }, image: 'nicolaka/netshoot:v0.13', containers: ['same'],
  };
  const state = { version: 1 as const, dir: '/x', mode: 'bpf' as const, tunnel: 'disabled' as const, ciliumVersion: version, createdAt: '2026-01-01T00:00:00.000Z', nodes: [node], pods: [pod] };
  const kernel = { instance: '', monitorAggregation: 'medium' as const, nodes: { bpf1: { hostEndpointId: 342, underlayIfindex: 2, ciliumHostIfindex: 4, netnsInode: 1, agentPid: 1 } }, pods: {} };
  return { statePath: '/x/state.json', state, kernel, node, pods: [pod] };
}

describe('emulated cilium-dbg endpoint', () => {
  it('lists the seed pod with its identity labels in the real table layout', () => {
    const out = endpointList(context('1.11.1'), undefined).split('\n');
    expect(out[0]).toBe('ENDPOINT   POLICY (ingress)   POLICY (egress)   IDENTITY   LABELS (source:key[=value])                                              IPv6   IPv4         STATUS   ');
    expect(out[3].replace(/\s+/g, ' ')).toBe('2836 Disabled Disabled 31009 k8s:io.cilium.k8s.namespace.labels.kubernetes.io/metadata.name=default 10.0.1.135 ready ');
    expect(out[7].trim()).toBe('k8s:run=same');
  });

  it('gets an endpoint as a JSON array with the lab facts, version-shaped', () => {
    const [ep] = JSON.parse(endpointGet(context('1.16.5'), '2836', undefined));
    expect(ep.status.networking).toEqual({
      addressing: [{ ipv4: '10.0.1.135', 'ipv4-pool-name': 'default' }], 'container-interface-name': 'eth0', 'host-mac': '0e:fc:49:5b:00:dd',
      'interface-index': 28, 'interface-name': 'lxcda6f5295b4b7', mac: '7a:a2:51:7c:d4:40',
    });
    expect(ep.status.identity.id).toBe(31009);
    const [old] = JSON.parse(endpointGet(context('1.11.1'), 'pod-name:default:same', 'json'));
    expect(old.status.networking['container-interface-name']).toBeUndefined();
    expect(old.status['external-identifiers']['cni-attachment-id']).toBeUndefined();
    expect(() => endpointGet(context('1.16.5'), '9999', undefined)).toThrow('Cannot get endpoint 9999: [GET /endpoint/{id}][404] getEndpointIdNotFound ');
  });
});

describe('emulated pwru', () => {
  const skbEvent = (kind: number, ts: number, netns: number, ifindex: number, ifname: string, extra: Partial<SkbEvent> = {}): SkbEvent => ({
    ts, skb: '0xffff888202d8bb00', kind, arg: 0, cpu: 0, pid: 4242, comm: 'ping', netns, ifindex, ifname, mtu: 1500, len: 84, mark: 0, proto: 0x0800,
    l3: '450000540000400040010000' + '0a000187' + '0a0001b4' + '0800000000000000', ...extra,
  });
  // The node's underlay is ifindex 3 of the node netns 100.
  const handsToWire = (e: SkbEvent): boolean => (e.kind === SKB.DEV_START_XMIT || e.kind === SKB.DEV_XMIT) && e.netns === 100 && e.ifindex === 3;
  const ctx: PathContext = { nodeNetns: 100, hasNetfilter: (n) => n === 100, deviceKind: (n) => (n === 'cilium_vxlan' ? 'vxlan' : 'veth'), handsToWire, dropReasons: { '2': 'SKB_DROP_REASON_NOT_SPECIFIED', '3': 'SKB_DROP_REASON_NO_SOCKET' }, peerNetns: (i) => (i === 6 ? 300 : undefined), routeLookup: () => undefined };
  // The node's route lookup for 10.0.1.135 -> 10.0.1.180 (fib_table_lookup, on the receiving CPU).
  const lookup = skbEvent(SKB.FIB_LOOKUP, 1500, 100, 6, 'lxc6b7daf1ea77', { skb: '0x0', l3: '450000000000000000010000' + '0a000187' + '0a0001b4' });
  const routed: PathContext = { ...ctx, routeLookup: (netns, cpu, s, d, after, before) => (netns === 100 && cpu === 0 && s === '10.0.1.135' && d === '10.0.1.180' && after < 1500 && before > 1500 ? lookup : undefined) };
  const verdict = (ts: number, action: number, hook: number, prog = 1): DatapathEvent => event({ kind: 'verdict', ts, cpu: 0, action, hookIfindex: hook, prog, target: 6 });
  // A request leaving pod `same` (netns 200), crossing its lxc (ifindex 5 in node netns 100).
  const events = [
    skbEvent(SKB.DEV_QUEUE, 1000, 200, 2, 'eth0', { len: 98 }),
    skbEvent(SKB.DEV_START_XMIT, 1100, 200, 2, 'eth0', { len: 98 }),
    skbEvent(SKB.NETIF_RX, 1200, 100, 5, 'lxcda6f5295b4b7'),
    skbEvent(SKB.NETIF_RECEIVE, 1300, 100, 5, 'lxcda6f5295b4b7'),
  ];
  const funcs = (lines: FuncLine[]): string[] => lines.map((l) => l.func);

  it('follows redirect_peer into the destination netns without ip_forward', () => {
    const consume = skbEvent(SKB.CONSUME, 2000, 300, 2, 'eth0');
    const f = funcs(skbLines(events, undefined, consume, [verdict(1400, 2, 5)], ctx));
    expect(f.slice(f.indexOf('tcf_classify'), f.indexOf('tcf_classify') + 4)).toEqual(['tcf_classify', 'skb_do_redirect', 'skb_scrub_packet', 'ip_rcv']);
    expect(f).not.toContain('ip_forward');
    expect(f.slice(0, 3)).toEqual(['ip_send_skb', 'ip_local_out', '__ip_local_out']);
  });

  it('prints a redirect only when the next real event agrees: redirect_peer lands in the target pod netns, bpf_redirect queues on the target', () => {
    const elsewhere = skbEvent(SKB.CONSUME, 2000, 400, 2, 'eth0');
    expect(funcs(skbLines(events, undefined, elsewhere, [verdict(1400, 2, 5)], ctx))).not.toContain('skb_do_redirect');
    expect(funcs(skbLines(events, undefined, undefined, [verdict(1400, 2, 5)], ctx))).not.toContain('skb_do_redirect');
    const onTarget = skbEvent(SKB.DEV_QUEUE, 2000, 100, 6, 'lxc6b7daf1ea77');
    const onOther = skbEvent(SKB.DEV_QUEUE, 2000, 100, 7, 'lxc0000000000a');
    const f = funcs(skbLines(events, undefined, onTarget, [verdict(1400, 3, 5)], ctx));
    expect(f.slice(f.indexOf('tcf_classify'))).toEqual(['tcf_classify', 'skb_do_redirect']);
    expect(funcs(skbLines(events, undefined, onOther, [verdict(1400, 3, 5)], ctx))).not.toContain('skb_do_redirect');
  });

  it('a free for NO_SOCKET after a receive implies local delivery; any other reason stops at ip_rcv', () => {
    const rx = [skbEvent(SKB.NETIF_RECEIVE, 1300, 300, 2, 'eth0')];
    const noSocket = funcs(skbLines(rx, undefined, skbEvent(SKB.KFREE, 2000, 300, 2, 'eth0', { arg: 3 }), [], ctx));
    expect(noSocket.slice(-3)).toEqual(['ip_protocol_deliver_rcu', 'icmp_rcv', 'icmp_echo']);
    const other = funcs(skbLines(rx, undefined, skbEvent(SKB.KFREE, 2000, 300, 2, 'eth0', { arg: 2 }), [], ctx));
    expect(other.slice(-2)).toEqual(['ip_rcv', 'ip_rcv_core']);
  });

  it('implies ip_forward only from an observed route lookup of that netns between the receive and the transmit', () => {
    const out = skbEvent(SKB.DEV_QUEUE, 2000, 100, 6, 'lxc6b7daf1ea77', { len: 98 });
    expect(funcs(skbLines(events, undefined, out, [verdict(1400, 1, 5)], ctx))).not.toContain('ip_forward');
    const lines = skbLines(events, undefined, out, [verdict(1400, 1, 5)], routed);
    expect(lines.find((l) => l.func === 'ip_route_input_slow')).toMatchObject({ observed: true, ts: 1500 });
    expect(funcs(lines)).toContain('ip_forward');
  });

  it('goes through ip_forward and the node netfilter when the program let the stack forward', () => {
    const out = skbEvent(SKB.DEV_QUEUE, 2000, 100, 6, 'lxc6b7daf1ea77', { len: 98 });
    const lines = skbLines(events, undefined, out, [verdict(1400, 1, 5)], routed);
    const f = funcs(lines);
    expect(f).toContain('ip_forward');
    expect(f.filter((x) => x === 'nf_hook_slow')).toHaveLength(3);
    expect(lines.map((l) => l.ts)).toEqual([...lines.map((l) => l.ts)].sort((a, b) => a - b));
    expect(lines.find((l) => l.func === 'tcf_classify')?.observed).toBe(true);
    expect(lines.find((l) => l.func === 'ip_forward')?.observed).toBe(false);
  });

  it('ends an skb life at kfree_skbmem and at its hand-off to the wire; the next skb at the address is a new packet', () => {
    const freed = skbLines([skbEvent(SKB.CONSUME, 2000, 300, 2, 'eth0')], events[3], undefined, [], ctx);
    expect(freed.filter((l) => l.endsLife).map((l) => l.func)).toEqual(['kfree_skbmem']);
    expect(freed[freed.length - 1].endsLife).toBe(true);
    const sent = [skbEvent(SKB.DEV_QUEUE, 1000, 100, 3, 'ens33'), skbEvent(SKB.DEV_START_XMIT, 1100, 100, 3, 'ens33'), skbEvent(SKB.DEV_XMIT, 1200, 100, 3, 'ens33')];
    const reused = skbEvent(SKB.DEV_QUEUE, 5000, 200, 2, 'eth0');
    const lines = skbLines([...sent, reused], undefined, undefined, [], ctx);
    const handOff = lines.findIndex((l) => l.endsLife);
    expect(lines[handOff].ifname).toBe('ens33');
    expect(lines.slice(0, handOff + 1).every((l) => sent.includes(l.packet))).toBe(true);
    expect(lines.slice(handOff + 1).every((l) => l.packet === reused)).toBe(true);
    expect(funcs(lines.slice(handOff + 1)).slice(0, 3)).toEqual(['ip_send_skb', 'ip_local_out', '__ip_local_out']);
    expect(lines.filter((l) => l.endsLife)).toHaveLength(1);
  });

  it('prints pwru v1.0.x columns exactly like a real line', () => {
    const printer = new PwruPrinter({ timestamp: 'none', meta: true, tuple: true });
    printer.remember(2387, 'ping');
    const e = skbEvent(SKB.DEV_QUEUE, 1, 4026531840, 0, '', { skb: '0xff1487b747f5fe00', pid: 2387, len: 92, proto: 0, mtu: 0, l3: '450000540000400040010000' + '0a82001e' + '08080808' + '0800000000000000' });
    const line: FuncLine = { skb: e.skb, cpu: 0, pid: 2387, comm: 'ping', func: 'ip_options_build', ts: 1, netns: e.netns, mark: 0, ifindex: 0, ifname: '', proto: 0, mtu: 0, len: 92, tuple: tupleOf(e), packet: e, observed: true };
    const real = readFixture(fixture('pwru/blog-ru-2025-docker-output-tuple-icmp.txt')).body;
    expect(printer.header()).toBe(real[3]);
    expect(printer.line(line)).toBe(real[4]);
  });

  it('filters with pcap expressions as pwru users write them', () => {
    const p = (proto: number, s: string, d: string, sport = 0, dport = 0) => ({ ethertype: 0x0800, tuple: { l3proto: 0x0800, saddr: s, daddr: d, sport, dport, proto } });
    expect(compileFilter('src host 10.0.1.135 and icmp')(p(1, '10.0.1.135', '10.0.1.180'))).toBe(true);
    expect(compileFilter('src host 10.0.1.135 and icmp')(p(1, '10.0.1.180', '10.0.1.135'))).toBe(false);
    expect(compileFilter('host 10.0.1.135 or 10.0.2.41')(p(1, '10.0.2.41', '10.0.2.87'))).toBe(true);
    expect(compileFilter('udp port 8472 or dst host 10.0.2.41')(p(17, '192.168.2.61', '192.168.2.62', 40000, 8472))).toBe(true);
    expect(compileFilter('net 10.0.2.0/24 and not icmp')(p(6, '10.0.2.41', '1.1.1.1', 1, 2))).toBe(true);
    expect(compileFilter('arp')({ ethertype: 0x0806, tuple: tupleOf(events[0] as SkbEvent) })).toBe(true);
  });
});
