import { readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import { createPwruContext, parsePwruLine, pwruParser, type PwruContext } from '../../../src/core/parse/pwru.js';
import type { PwruEvent } from '../../../src/core/model/event.js';
import type { ParseResult } from '../../../src/core/parse/result.js';
import { detectFormat } from '../../../src/core/analyze/detect.js';
import { readFixture } from '../../helpers/fixtures.js';
import { expectGolden } from '../../helpers/golden.js';
import { resultRows, rowsJson, runParser, type ResultRow } from '../../helpers/run-parser.js';

const FIXTURES = fileURLToPath(new URL('../../fixtures/', import.meta.url));
const GOLDEN = fileURLToPath(new URL('../../golden/pwru/', import.meta.url));

function run(lines: string[], start?: PwruContext): { results: ParseResult<PwruEvent>[]; ctx: PwruContext } {
  return runParser(pwruParser, lines, start);
}

function lastEvent(lines: string[], start?: PwruContext): PwruEvent {
  const r = run(lines, start).results.at(-1)!;
  if (r.kind !== 'event' && r.kind !== 'amend') throw new Error(`expected an event, got ${JSON.stringify(r)}`);
  return r.event;
}

function lastResult(lines: string[], start?: PwruContext): ParseResult<PwruEvent> {
  return run(lines, start).results.at(-1)!;
}

/*
 * Line tables. Each line is laid out with the format strings of cilium/pwru internal/pwru/output.go
 * at the version named (widths included), read at the tags of the mirror whose head is 70b1b60.
 */
describe('pwru text layouts', () => {
  it('v0.0.2: SKB PROCESS FUNC TIMESTAMP, meta without netns, tuple (%18s %15s %24s %16d)', () => {
    const e = lastEvent([
      '               SKB         PROCESS                     FUNC        TIMESTAMP',
      '0xffff9afcb4519b00          [ping]                   ip_rcv   82857431461122 mark=0x0 ifindex=28 proto=8 mtu=1500 len=84 10.0.1.135:0->10.0.1.180:0(icmp)',
    ]);
    expect(e).toEqual({
      tool: 'pwru', skb: '0xffff9afcb4519b00', func: 'ip_rcv', process: 'ping',
      time: { clock: 'monotonic', us: 82857431461.122 },
      mark: 0, ifindex: 28, proto: '0x0800', mtu: 1500, len: 84,
      packet: { ip: { version: 4, src: '10.0.1.135', dst: '10.0.1.180', proto: 'icmp' }, l4: { proto: 'icmp' } },
      summary: 'ip_rcv',
    });
  });

  it('v0.0.3: netns= meta, IPv6 tuple, a comm with a colon is not a pid, relative stamp 0', () => {
    const { results, ctx } = run([
      '               SKB          PROCESS                     FUNC        TIMESTAMP',
      '0xffff9afcb4519b00    [kworker/0:1]                   ip_rcv                0 netns=4026531992 mark=0x0 ifindex=28 proto=dd86 mtu=1500 len=104 [fe80::1]:0->[ff02::2]:0(icmp6)',
    ]);
    expect(results[1]).toEqual({
      kind: 'event',
      event: {
        tool: 'pwru', skb: '0xffff9afcb4519b00', func: 'ip_rcv', process: 'kworker/0:1',
        time: { clock: 'relative', us: 0 },
        netns: 4026531992, mark: 0, ifindex: 28, proto: '0x86dd', mtu: 1500, len: 104,
        packet: { ip: { version: 6, src: 'fe80::1', dst: 'ff02::2', proto: 'icmp6' }, l4: { proto: 'icmp6' } },
        summary: 'ip_rcv',
      },
    });
    expect(ctx.timestampClock).toBe('relative');
  });

  it('v0.0.5-v0.0.8: CPU column, unnamed drop reason printed after a space', () => {
    const e = lastEvent([
      '               SKB    CPU          PROCESS                     FUNC        TIMESTAMP',
      '0xffff8ce13e987900      3     [sendpacket]     kfree_skb_reason (5)    4840296794062',
    ]);
    expect(e).toEqual({
      tool: 'pwru', skb: '0xffff8ce13e987900', func: 'kfree_skb_reason', dropCode: 5, cpu: 3, process: 'sendpacket',
      time: { clock: 'monotonic', us: 4840296794.062 }, summary: 'kfree_skb_reason (5)',
    });
  });

  it('v0.0.9-v1.0.6 --timestamp=absolute: TIME (time of day) before SKB, TIMESTAMP kept as the kernel clock', () => {
    const e = lastEvent([
      '        TIME                SKB    CPU          PROCESS                     FUNC        TIMESTAMP',
      '03:42:33.125 0xffff8ce13e987900      6     [sendpacket]              ip_rcv_core    4840296794062',
    ]);
    expect(e.printedAt).toEqual({ clock: 'time-of-day', us: (3 * 3600 + 42 * 60 + 33) * 1e6 + 125_000 });
    expect(e.time).toEqual({ clock: 'monotonic', us: 4840296794.062 });
    expect(e.func).toBe('ip_rcv_core');
  });

  it('v1.0.3: iface=IFINDEX(NAME), proto in network byte order, mark 0xd00', () => {
    const e = lastEvent([
      '               SKB    CPU          PROCESS                     FUNC',
      '0xffff90f72f43fae8      2             [nc]               __netif_rx netns=4026533589 mark=0xd00 iface=8(lxc12ab) proto=8 mtu=1500 len=60 10.244.1.165:34998->10.244.0.88:80(tcp)',
    ]);
    expect(e).toEqual({
      tool: 'pwru', skb: '0xffff90f72f43fae8', func: '__netif_rx', cpu: 2, process: 'nc',
      netns: 4026533589, mark: 0xd00, iface: 'lxc12ab', ifindex: 8, proto: '0x0800', mtu: 1500, len: 60,
      packet: {
        ip: { version: 4, src: '10.244.1.165', dst: '10.244.0.88', proto: 'tcp' },
        l4: { proto: 'tcp', srcPort: 34998, dstPort: 80 },
      },
      summary: '__netif_rx',
    });
  });

  it('v1.0.4-5: [comm(pid)] and host-order proto=0x0800', () => {
    const e = lastEvent([
      '               SKB    CPU          PROCESS                     FUNC',
      '0xffff90f72f43fae8      2       [nc(4242)]               __netif_rx netns=4026533589 mark=0xd00 iface=8 proto=0x0800 mtu=1500 len=60 10.244.1.165:34998->10.244.0.88:80(tcp)',
    ]);
    expect([e.process, e.pid, e.proto, e.ifindex, e.iface]).toEqual(['nc', 4242, '0x0800', 8, undefined]);
  });

  it('v1.0.6: [<empty>:(pid)]', () => {
    const e = lastEvent([
      '0xffff9f7898af0200     10    [<empty>:(0)]                   ip_rcv netns=4026531840 mark=0x0 iface=4(br-1534421c90dc) proto=0x0800 mtu=1500 len=11 172.18.0.3:40870->192.168.0.239:4000(udp)',
    ]);
    expect([e.process, e.pid, e.iface, e.ifindex, e.cpu]).toEqual(['<empty>', 0, 'br-1534421c90dc', 4, 10]);
  });

  describe('v1.0.7+ columns', () => {
    const header = 'SKB                CPU PROCESS          TIMESTAMP        NETNS      MARK/x        IFACE       PROTO  MTU   LEN   TUPLE FUNC';

    it('TIMESTAMP (current), MARK/x in bare hex, name:ifindex iface', () => {
      const e = lastEvent([
        header,
        '0xffff918922e634e8 3   ~bin/curl:659155 82857431306974   4026531840 d00       lxc1234abcd:28  0x0800 1500  84    10.0.1.135:0->10.0.1.180:0(icmp) ip_rcv',
      ]);
      expect(e).toEqual({
        tool: 'pwru', skb: '0xffff918922e634e8', func: 'ip_rcv', cpu: 3, process: '~bin/curl', pid: 659155,
        time: { clock: 'monotonic', us: 82857431306.974 },
        netns: 4026531840, mark: 0xd00, iface: 'lxc1234abcd', ifindex: 28, proto: '0x0800', mtu: 1500, len: 84,
        packet: { ip: { version: 4, src: '10.0.1.135', dst: '10.0.1.180', proto: 'icmp' }, l4: { proto: 'icmp' } },
        summary: 'ip_rcv',
      });
    });

    it('--timestamp=relative: 0 for the first event of an skb, then deltas; TCP flags in tcpdump notation', () => {
      const { results } = run([
        header,
        '0xffff918922e634e8 3   ~bin/curl:659155 0                4026531840 0               0         0x0000 0     60    10.103.80.168:55476->1.1.1.1:80(tcp:SYN) ip_local_out',
        '0xffff918922e634e8 3   ~bin/curl:659155 2302             4026531840 0               0         0x0000 0     60    10.103.80.168:55476->1.1.1.1:80(tcp:PSH|ACK) __ip_local_out',
      ]);
      const events = results.flatMap((r) => (r.kind === 'event' ? [r.event] : []));
      expect(events.map((e) => e.time)).toEqual([{ clock: 'relative', us: 0 }, { clock: 'relative', us: 2.302 }]);
      expect(events.map((e) => e.packet?.l4?.tcpFlags)).toEqual(['S', 'P.']);
      expect(events[0].ifindex).toBe(0);
      expect(events[0].iface).toBeUndefined();
    });

    it('a probe that knows its --timestamp flag is not second-guessed', () => {
      const e = lastEvent(
        [header, '0xffff918922e634e8 3   ~bin/curl:659155 2302             4026531840 0               0         0x0000 0     60    10.103.80.168:55476->1.1.1.1:80(tcp) ip_local_out'],
        createPwruContext({ timestamp: 'current' }),
      );
      expect(e.time).toEqual({ clock: 'monotonic', us: 2.302 });
    });

    it('--timestamp=absolute since 2026-02: dated TIME read as UTC, IPv6 tuple', () => {
      const e = lastEvent([
        'TIME                    SKB                CPU PROCESS          TIMESTAMP        TUPLE FUNC',
        '2026-03-01T10:11:12.345 0xffff918922e634e8 3   ping:1234        82857431306974   [fe80::1]:0->[fe80::2]:0(icmp6) icmp6_rcv',
      ]);
      expect(e.printedAt).toEqual({ clock: 'wall', us: Date.UTC(2026, 2, 1, 10, 11, 12, 345) * 1000 });
      expect(e.time).toEqual({ clock: 'monotonic', us: 82857431306.974 });
      expect(e.packet).toEqual({ ip: { version: 6, src: 'fe80::1', dst: 'fe80::2', proto: 'icmp6' }, l4: { proto: 'icmp6' } });
    });

    it('--filter-trace-tc: __sk_buff->cb[] column and a tc program as FUNC', () => {
      const e = lastEvent([
        'SKB                CPU PROCESS          NETNS      MARK/x        IFACE       PROTO  MTU   LEN   __sk_buff->cb[]                                          TUPLE FUNC',
        '0xffff92671be13d00 20  coredns:21719    4026531840 0        ~3bad1d0518aa:40 0x0800 1430  128   [0x00000000,0x00001E00,0x00000000,0x00000000,0x0000000A] 10.105.1.97:0->192.168.0.10:0(icmp) bpf_prog_f641265f228ac785_cil_from_container[bpf](tc)',
      ]);
      expect(e.cb).toEqual([0, 0x1e00, 0, 0, 10]);
      expect(e.func).toBe('bpf_prog_f641265f228ac785_cil_from_container[bpf](tc)');
      expect([e.iface, e.ifindex]).toEqual(['~3bad1d0518aa', 40]);
    });

    it('--output-netns-names: the name when /run/netns has one, nothing (blank) when not', () => {
      const { results } = run([
        'SKB                CPU PROCESS          NETNS      MARK/x        IFACE       PROTO  MTU   LEN     NETNS NAME    TUPLE FUNC',
        '0xffff92671be13d00 1   ping:77          4026532458 0             eth0:2      0x0800 1500  84        pod-a       10.0.0.1:0->10.0.0.2:0(icmp) ip_rcv',
        '0xffff92671be13d00 1   ping:77          4026531840 0             eth0:2      0x0800 1500  84                    10.0.0.1:0->10.0.0.2:0(icmp) ip_rcv',
      ]);
      const events = results.flatMap((r) => (r.kind === 'event' ? [r.event] : []));
      expect(events.map((e) => e.netnsName)).toEqual(['pod-a', undefined]);
      expect(events.map((e) => e.func)).toEqual(['ip_rcv', 'ip_rcv']);
    });

    it('--output-tunnel (v1.0.10+): inner tuple, Geneve by port; `:0->:0()` means not encapsulated', () => {
      const { results } = run([
        'SKB                CPU PROCESS          NETNS      MARK/x        IFACE       PROTO  MTU   LEN   TUPLE FUNC TUNNEL',
        '0xffff00011e41e900 7   <empty>:2287425  4026532646 0            eth0:359     0x0800 65536 90    172.18.0.2:53786->172.18.0.5:6081(udp) udp_queue_rcv_skb 10.244.3.122:8080->10.244.1.205:36739(tcp:SYN|ACK)',
        '0xffff00011e41e900 7   <empty>:2287425  4026532646 0            eth0:359     0x0800 65536 90    172.18.0.2:53786->172.18.0.5:80(tcp) ip_rcv :0->:0()',
      ]);
      const events = results.flatMap((r) => (r.kind === 'event' ? [r.event] : []));
      expect(events[0].packet).toEqual({
        ip: { version: 4, src: '172.18.0.2', dst: '172.18.0.5', proto: 'udp' },
        l4: { proto: 'udp', srcPort: 53786, dstPort: 6081 },
        encap: { kind: 'geneve' },
        inner: {
          ip: { version: 4, src: '10.244.3.122', dst: '10.244.1.205', proto: 'tcp' },
          l4: { proto: 'tcp', srcPort: 8080, dstPort: 36739, tcpFlags: 'S.' },
        },
      });
      expect(events[1].packet?.encap).toBeUndefined();
      expect(events[1].packet?.ip?.dst).toBe('172.18.0.5');
    });

    it('--output-skb-metadata: name=value pairs after FUNC', () => {
      const e = lastEvent([
        'SKB                CPU PROCESS          NETNS      MARK/x        IFACE       PROTO  MTU   LEN   TUPLE FUNC',
        '0xffff991f3ec49600 6   <empty>:0        4026531840 0            ens33:2      0x0800 65536 64    1.1.1.1:0->192.168.241.133:0(icmp) icmp_rcv hash=0 sw_hash=0 l4_hash=0',
      ]);
      expect(e.extraFields).toEqual({ hash: '0', sw_hash: '0', l4_hash: '0' });
      expect([e.process, e.pid]).toEqual(['<empty>', 0]);
    });
  });

  it('ignores the shell prompt that ran pwru in a saved transcript, as every parser does', () => {
    expect(lastResult(['root@bpf1:~# ./pwru --output-tuple'])).toEqual({ kind: 'ignored', reason: 'shell prompt' });
  });

  it('a line cut before FUNC waits for its rest on the next line (a wrapped record); with none, the next line is read alone', () => {
    const header = 'SKB                CPU PROCESS          NETNS      MARK/x        IFACE       PROTO  MTU   LEN   TUPLE FUNC';
    const cut = '0xffff991f3ec49600 6   <empty>:0        4026531840 0            ens33:2      0x0800 65536 64    1.1.1.1:0->192.168.241.133:0(icmp)';
    const joined = run([header, cut, 'icmp_rcv']).results;
    expect(joined.map((r) => r.kind)).toEqual(['meta', 'ignored', 'event']);
    expect(joined[2].kind === 'event' && joined[2].event).toMatchObject({ func: 'icmp_rcv', ifindex: 2, packet: { ip: { src: '1.1.1.1', dst: '192.168.241.133' } } });
    const alone = run([header, cut, 'the packet was dropped here']).results;
    expect(alone.map((r) => r.kind)).toEqual(['meta', 'ignored', 'unparsed']);
  });

  describe('invalid lines come out unparsed with a reason', () => {
    const header = 'SKB                CPU PROCESS          NETNS      MARK/x        IFACE       PROTO  MTU   LEN   TUPLE FUNC';
    it.each([
      ['PROTO that is not an ethertype', [header, '0xffff991f3ec49600 6   <empty>:0        4026531840 0            ens33:2      ipv4   65536 64    1.1.1.1:0->192.168.241.133:0(icmp) icmp_rcv'], /PROTO column/],
      ['a broken tuple', [header, '0xffff991f3ec49600 6   <empty>:0        4026531840 0            ens33:2      0x0800 65536 64    1.1.1.1->192.168.241.133(icmp) icmp_rcv'], /TUPLE column/],
      ['text after the last column', [header, '0xffff991f3ec49600 6   <empty>:0        4026531840 0            ens33:2      0x0800 65536 64    1.1.1.1:0->192.168.241.133:0(icmp) icmp_rcv <-- here'], /after the last column/],
      ['CPU that is not a number', ['               SKB    CPU          PROCESS                     FUNC', '0xffff8ce13e987900      x     [sendpacket]              ip_rcv_core'], /CPU column/],
      ['a bracket that never closes', ['               SKB    CPU          PROCESS                     FUNC', '0xffff8ce13e987900      6     [sendpacket ip_rcv_core'], /closing bracket/],
      ['no header and an unknown shape', ['0xffff8ce13e987900 nope'], /no header seen/],
      ['a stack frame with no event before it', ['sctp_init[sctp]'], /without an event/],
      ['prose', ['the packet was dropped here'], /not a pwru line/],
      ['an author elision', ['[...]'], /not a pwru line/],
    ])('%s', (_name, lines, reason) => {
      const r = lastResult(lines);
      expect(r.kind).toBe('unparsed');
      expect(r.kind === 'unparsed' && r.reason).toMatch(reason);
    });
  });
});

describe('pwru layouts without a header (log cut mid-stream), told by shape', () => {
  it.each([
    ['v0.0.1-4 SKB [PROCESS] FUNC TIMESTAMP', '0xffff8882262bf600    [ksoftirqd/1]             tcf_classify    4840296765444', { func: 'tcf_classify', process: 'ksoftirqd/1', time: { clock: 'monotonic', us: 4840296765.444 } }],
    ['v0.0.5-v1.0.6 SKB CPU [PROCESS] FUNC TUPLE', '0xffff936378692ce8 6 [curl]             nf_hook_slow 172.20.10.2:33918->1.1.1.1:4240(tcp)', { func: 'nf_hook_slow', cpu: 6, packet: { ip: { version: 4, src: '172.20.10.2', dst: '1.1.1.1', proto: 'tcp' }, l4: { proto: 'tcp', srcPort: 33918, dstPort: 4240 } } }],
    ['v0.0.5-v1.0.6 with TIMESTAMP and meta', '0xffff8ce13e987900      6 [sendpacket-orig]   kfree_skb_reason (2)    4840296794062 netns=4026531840 mark=0x0 ifindex=2 proto=8 mtu=1500 len=74', { func: 'kfree_skb_reason', dropCode: 2, time: { clock: 'monotonic', us: 4840296794.062 }, ifindex: 2, proto: '0x0800' }],
    ['v0.0.9-v1.0.6 with TIME', '03:42:33.125 0xffff8ce13e987900      6     [sendpacket]              ip_rcv_core    4840296794062', { func: 'ip_rcv_core', printedAt: { clock: 'time-of-day', us: 13353125000 } }],
    ['v1.0.7+ meta, tuple, drop reason and CALLER', '0xffff9f0c9c08ff00 11  <empty>:2158561  4026532686 0            vxlan0:2     0x0800 1500  98    10.0.0.1:0->10.0.0.2:0(icmp) kfree_skb_reason(SKB_DROP_REASON_NOT_SPECIFIED) vxlan_xmit[vxlan]', { func: 'kfree_skb_reason', dropReason: 'SKB_DROP_REASON_NOT_SPECIFIED', caller: 'vxlan_xmit[vxlan]', iface: 'vxlan0', ifindex: 2 }],
    ['v1.0.7+ TIMESTAMP before the meta', '0xffff918922e634e8 3   ~bin/curl:659155 82857431306974   4026531840 d00       lxc1234abcd:28  0x0800 1500  84    10.0.1.135:0->10.0.1.180:0(icmp) ip_rcv', { func: 'ip_rcv', mark: 0xd00, netns: 4026531840, time: { clock: 'monotonic', us: 82857431306.974 } }],
    ['v1.0.7+ without meta or tuple', '0xffff918922e634e8 3   ping:99          ip_rcv', { func: 'ip_rcv', process: 'ping', pid: 99 }],
    ['v1.0.10+ TUNNEL (PR #494 form with inner MACs)', '0xffff0000ea5d7ce8 7   <empty>:2287425  4026532458 0            eth0:353     0x0800 65536 90    172.18.0.5:54806->172.18.0.2:8472(udp) udp_queue_rcv_skb 52:2e:36:8d:11:23 -> ba:44:d8:6c:66:5a 10.244.1.205:36739->10.244.3.122:8080(tcp:SYN)', { func: 'udp_queue_rcv_skb', packet: { encap: { kind: 'vxlan' }, inner: { eth: { src: '52:2e:36:8d:11:23', dst: 'ba:44:d8:6c:66:5a' }, l4: { tcpFlags: 'S' } } } }],
  ])('%s', (_name, line, expected) => {
    expect(lastEvent([line])).toMatchObject(expected);
  });
});

describe('pwru streams', () => {
  it('a cut log whose lines change shape: each line is read with the layout that fits it', () => {
    const { results, ctx } = run([
      '0xffff9f0c9c08ff00 11  <empty>:2158561  4026532686 0            vxlan0:2     0x0800 1500  98    10.0.0.1:0->10.0.0.2:0(icmp) ip_rcv',
      '0xffff9f0c9c08ff00 11  <empty>:2158561  4026532686 0            vxlan0:2     0x0800 1500  98    10.0.0.1:0->10.0.0.2:0(icmp) kfree_skb_reason(SKB_DROP_REASON_NOT_SPECIFIED) vxlan_xmit[vxlan]',
      '0xffff9f0c9c08ff00 11  <empty>:2158561  4026532686 0            vxlan0:2     0x0800 1500  98    10.0.0.1:0->10.0.0.2:0(icmp) ip_rcv',
    ]);
    const events = results.flatMap((r) => (r.kind === 'event' ? [r.event] : []));
    expect(events.map((e) => [e.func, e.caller])).toEqual([['ip_rcv', undefined], ['kfree_skb_reason', 'vxlan_xmit[vxlan]'], ['ip_rcv', undefined]]);
    expect(ctx.layout).toBeUndefined();
  });

  it('repeated columns decode the same as fresh ones (values copied from the previous line)', () => {
    const header = 'SKB                CPU PROCESS          NETNS      MARK/x        IFACE       PROTO  MTU   LEN   TUPLE FUNC';
    const a = '0xffff918922e634e8 3   ~bin/curl:659155 4026531840 0          wlp0s20f3:2    0x0800 1500  60    10.103.80.168:55476->1.1.1.1:80(tcp) nf_hook_slow';
    const b = '0xffff918922e634e8 3   ~bin/curl:659155 4026531840 0          wlp0s20f3:2    0x0800 1500  60    10.103.80.168:55476->1.1.1.1:80(tcp) ip_output';
    const together = run([header, a, b]).results[2];
    const alone = run([header, b]).results[1];
    expect(together).toEqual(alone);
  });

  it('a new header starts over: layout, clock guess, last event', () => {
    const { ctx } = run([
      '               SKB    CPU          PROCESS                     FUNC        TIMESTAMP',
      '0xffff8ce13e987900      3     [sendpacket]              ip_rcv_core                0',
      'SKB                CPU PROCESS          FUNC',
    ]);
    expect(ctx.timestampClock).toBeUndefined();
    expect(ctx.last).toBeUndefined();
    expect(ctx.layout?.columns).toEqual(['skb', 'cpu', 'process', 'func']);
  });

  it('tolerates CRLF line ends', () => {
    expect(lastEvent(['0xffff936378692ce8 6 [curl]             nf_hook_slow 172.20.10.2:33918->1.1.1.1:4240(tcp)\r']).packet?.l4?.dstPort).toBe(4240);
  });
});

describe('--output-stack and --output-skb amend the event before them', () => {
  const header = 'SKB                CPU PROCESS          NETNS      MARK/x        IFACE       PROTO  MTU   LEN   TUPLE FUNC';
  const event = '0xffff92671be13d00 20  coredns:21719    4026531840 0        ~3bad1d0518aa:40 0x0800 1430  128   10.105.1.97:0->192.168.0.10:0(icmp) ip_rcv';

  it('stack frames (one symbol per line; before v1.0.5 kallsyms put a tab before [module])', () => {
    const { results } = run([header, event, 'ip_rcv', '__netif_receive_skb_one_core', 'vxlan_rcv\t[vxlan]', event]);
    expect(results.map((r) => r.kind)).toEqual(['meta', 'event', 'amend', 'amend', 'amend', 'event']);
    const amended = results[4];
    expect(amended.kind === 'amend' && amended.event.stack).toEqual(['ip_rcv', '__netif_receive_skb_one_core', 'vxlan_rcv[vxlan]']);
    expect(amended.kind === 'amend' && amended.event.func).toBe('ip_rcv');
    const next = results[5];
    expect(next.kind === 'event' && next.event.stack).toBeUndefined();
  });

  // bpf_snprintf_btf(..., flags 0) pretty-prints one field per line, one space of indent per level.
  it('a struct sk_buff dump, then a struct skb_shared_info dump', () => {
    const { results, ctx } = run([
      header, event,
      '(struct sk_buff){',
      ' (union){',
      '  .dev = (struct net_device *)0xffff8881003c2000,',
      ' },',
      ' .len = (unsigned int)128,',
      '}',
      '(struct skb_shared_info){',
      ' .gso_segs = (short unsigned int)1,',
      '}',
    ]);
    expect(results.slice(2).every((r) => r.kind === 'amend')).toBe(true);
    const last = results.at(-1)!;
    expect(last.kind === 'amend' && last.event.skbDump).toBe(
      '(struct sk_buff){\n (union){\n  .dev = (struct net_device *)0xffff8881003c2000,\n },\n .len = (unsigned int)128,\n}',
    );
    expect(last.kind === 'amend' && last.event.shinfoDump).toBe('(struct skb_shared_info){\n .gso_segs = (short unsigned int)1,\n}');
    expect(ctx.dump).toBeUndefined();
  });

  it('a dump cut by the per-CPU buffer ends at the next event line', () => {
    const { results } = run([header, event, '(struct sk_buff){', ' .len = (unsigned int)128,', event]);
    expect(results.map((r) => r.kind)).toEqual(['meta', 'event', 'amend', 'amend', 'event']);
  });

  describe('--output-tunnel is printed after the stack and the dumps', () => {
    const tunnelHeader = 'SKB                CPU PROCESS          NETNS      MARK/x        IFACE       PROTO  MTU   LEN   TUPLE FUNC TUNNEL';
    const outer = '0xffff00011e41e900 7   <empty>:2287425  4026532646 0            eth0:359     0x0800 65536 90    172.18.0.2:53786->172.18.0.5:8472(udp) udp_queue_rcv_skb';
    const inner = { ip: { version: 4, src: '10.244.3.122', dst: '10.244.1.205', proto: 'tcp' }, l4: { proto: 'tcp', srcPort: 8080, dstPort: 36739 } };

    it('on the closing brace line of the last dump', () => {
      const { results, ctx } = run([
        tunnelHeader, outer,
        '(struct sk_buff){', ' .len = (unsigned int)90,', '}',
        '(struct skb_shared_info){', ' .gso_segs = (short unsigned int)1,', '} 10.244.3.122:8080->10.244.1.205:36739(tcp)',
      ]);
      expect(results.map((r) => r.kind)).toEqual(['meta', 'event', 'amend', 'amend', 'amend', 'amend', 'amend', 'amend']);
      const last = results.at(-1)!;
      expect(last.kind === 'amend' && last.event.packet?.inner).toEqual(inner);
      expect(last.kind === 'amend' && last.event.shinfoDump).toBe('(struct skb_shared_info){\n .gso_segs = (short unsigned int)1,\n}');
      expect(ctx.awaitingTunnel).toBeUndefined();
    });

    it('on the last stack frame line', () => {
      const { results } = run([tunnelHeader, outer, 'udp_queue_rcv_skb', 'udp_unicast_rcv_skb 10.244.3.122:8080->10.244.1.205:36739(tcp)']);
      const last = results.at(-1)!;
      expect(last.kind).toBe('amend');
      expect(last.kind === 'amend' && last.event.stack).toEqual(['udp_queue_rcv_skb', 'udp_unicast_rcv_skb']);
      expect(last.kind === 'amend' && last.event.packet?.encap).toEqual({ kind: 'vxlan' });
    });

    it('but text after a closing brace is not accepted when no TUNNEL value is due', () => {
      const r = lastResult([header, event, '(struct sk_buff){', '} 10.244.3.122:8080->10.244.1.205:36739(tcp)']);
      expect(r).toEqual({ kind: 'unparsed', reason: 'unexpected text after the end of a struct dump' });
    });
  });
});

/*
 * pwru --output-json has no sample among the fixtures. These lines are built from the json tags of
 * the jsonPrinter and jsonTuple structs in cilium/pwru internal/pwru/output.go at commit
 * 70b1b60b (tag v1.0.12 + 4): skb, skb_shared_info, cpu, process, func, caller_func, time, netns,
 * netns_name, mark, iface, proto, mtu, len, cb, tuple{saddr,daddr,sport,dport,proto,flags},
 * tunnel_tuple, stack, skb_metadata; all omitempty. Values are the ones of the text fixtures.
 */
describe('pwru --output-json lines', () => {
  it('a full event; omitted cpu and mark are zeros, proto is host-order decimal', () => {
    const e = lastEvent([
      '{"skb":"0xffff9afcb4519b00","process":"ping:1234","func":"ip_rcv","time":82857431461122,"netns":4026531840,"iface":"lxcda6f5295b4b7:28","proto":2048,"mtu":1500,"len":84,"tuple":{"saddr":"10.0.1.135","daddr":"10.0.1.180","proto":1}}',
    ]);
    expect(e).toEqual({
      tool: 'pwru', skb: '0xffff9afcb4519b00', func: 'ip_rcv', cpu: 0, process: 'ping', pid: 1234,
      time: { clock: 'monotonic', us: 82857431461.122 },
      netns: 4026531840, mark: 0, iface: 'lxcda6f5295b4b7', ifindex: 28, proto: '0x0800', mtu: 1500, len: 84,
      packet: { ip: { version: 4, src: '10.0.1.135', dst: '10.0.1.180', proto: 'icmp' }, l4: { proto: 'icmp' } },
      summary: 'ip_rcv',
    });
  });

  it('drop reason, caller, TCP flags, IPv6 addresses in brackets', () => {
    const e = lastEvent([
      '{"skb":"0xffff936378692ce8","cpu":6,"process":"~bin/curl:659155","func":"kfree_skb_reason(SKB_DROP_REASON_NETFILTER_DROP)","caller_func":"nf_hook_slow","tuple":{"saddr":"[fd00:10:244::834b]","daddr":"[fd00:10:244:1::cf33]","sport":24589,"dport":80,"proto":6,"flags":"SYN"}}',
    ]);
    expect(e).toMatchObject({
      func: 'kfree_skb_reason', dropReason: 'SKB_DROP_REASON_NETFILTER_DROP', caller: 'nf_hook_slow', cpu: 6,
      packet: { ip: { version: 6, src: 'fd00:10:244::834b', dst: 'fd00:10:244:1::cf33', proto: 'tcp' }, l4: { srcPort: 24589, dstPort: 80, tcpFlags: 'S' } },
      summary: 'kfree_skb_reason(SKB_DROP_REASON_NETFILTER_DROP) from nf_hook_slow',
    });
    expect(e.iface).toBeUndefined();
  });

  it('tunnel_tuple, stack, skb_metadata (the skb dump), an ESP outer packet by number', () => {
    const e = lastEvent([
      '{"skb":"0xffff0000ea5d7ce8","cpu":7,"process":"<empty>:2287425","func":"udp_queue_rcv_skb","tuple":{"saddr":"172.18.0.5","daddr":"172.18.0.2","sport":54806,"dport":8472,"proto":17},"tunnel_tuple":{"saddr":"10.244.1.205","daddr":"10.244.3.122","sport":36739,"dport":8080,"proto":6},"stack":"\\nudp_queue_rcv_skb\\nudp_unicast_rcv_skb","skb_metadata":"\\n(struct sk_buff){\\n .len = (unsigned int)90,\\n}"}',
      '{"skb":"0xffff90f72f43fae8","cpu":2,"process":"nc:77","func":"validate_xmit_xfrm","tuple":{"saddr":"10.244.1.231","daddr":"10.244.0.243","proto":50}}',
    ]);
    expect(e.packet).toEqual({ ip: { version: 4, src: '10.244.1.231', dst: '10.244.0.243', proto: 'esp' } });
    const first = run([
      '{"skb":"0xffff0000ea5d7ce8","cpu":7,"process":"<empty>:2287425","func":"udp_queue_rcv_skb","tuple":{"saddr":"172.18.0.5","daddr":"172.18.0.2","sport":54806,"dport":8472,"proto":17},"tunnel_tuple":{"saddr":"10.244.1.205","daddr":"10.244.3.122","sport":36739,"dport":8080,"proto":6},"stack":"\\nudp_queue_rcv_skb\\nudp_unicast_rcv_skb","skb_metadata":"\\n(struct sk_buff){\\n .len = (unsigned int)90,\\n}"}',
    ]).results[0];
    expect(first.kind).toBe('event');
    if (first.kind !== 'event') return;
    expect(first.event.packet?.encap).toEqual({ kind: 'vxlan' });
    expect(first.event.packet?.inner?.l4).toEqual({ proto: 'tcp', srcPort: 36739, dstPort: 8080 });
    expect(first.event.stack).toEqual(['udp_queue_rcv_skb', 'udp_unicast_rcv_skb']);
    expect(first.event.skbDump).toBe('(struct sk_buff){\n .len = (unsigned int)90,\n}');
  });

  it('absolute time is a string; relative time decided like the text column', () => {
    const abs = lastEvent(['{"skb":"0xffff1","process":"ping:1","func":"ip_rcv","time":"2026-03-01T10:11:12.345"}']);
    expect(abs.time).toEqual({ clock: 'wall', us: Date.UTC(2026, 2, 1, 10, 11, 12, 345) * 1000 });
    const rel = run(['{"skb":"0xffff1","process":"ping:1","func":"ip_rcv"}', '{"skb":"0xffff1","process":"ping:1","func":"ip_output","time":2302}']);
    const r = rel.results[1];
    expect(r.kind === 'event' && r.event.time).toEqual({ clock: 'relative', us: 2.302 });
  });

  it('any key order (Go marshals struct order, other encoders and jq do not) and spaces after the colons give the same event', () => {
    const goOrder = '{"skb":"0xffff9afcb4519b00","process":"ping:1234","func":"ip_rcv","time":82857431461122,"netns":4026531840,"iface":"lxcda6f5295b4b7:28","proto":2048,"mtu":1500,"len":84,"tuple":{"saddr":"10.0.1.135","daddr":"10.0.1.180","proto":1}}';
    const shuffled = '{"tuple": {"proto": 1, "daddr": "10.0.1.180", "saddr": "10.0.1.135"}, "len": 84, "time": 82857431461122, "func": "ip_rcv", "iface": "lxcda6f5295b4b7:28", "mtu": 1500, "proto": 2048, "netns": 4026531840, "process": "ping:1234", "skb": "0xffff9afcb4519b00"}';
    expect(lastEvent([shuffled])).toEqual(lastEvent([goOrder]));
    expect(detectFormat(Buffer.from(shuffled), [shuffled])).toBe('pwru');
  });

  it('keeps every nanosecond of a stamp past 2^53', () => {
    const e = lastEvent(['{"skb":"0xffff1","func":"ip_rcv","time":9007199254740993123}']);
    expect(e.time).toEqual({ clock: 'monotonic', us: 9007199254740993 + 0.123 });
  });

  it.each([
    ['not JSON', '{"skb":', /invalid JSON/],
    ['no skb', '{"func":"ip_rcv"}', /no pwru "skb"/],
    ['no func', '{"skb":"0xffff1"}', /no pwru "func"/],
    ['an array', '[1]', /not a pwru line/],
  ])('%s is unparsed', (_name, line, reason) => {
    const r = lastResult([line]);
    expect(r.kind).toBe('unparsed');
    expect(r.kind === 'unparsed' && r.reason).toMatch(reason);
  });
});

describe('pwru log lines', () => {
  it.each([
    ['2022/01/22 12:18:01 Attaching kprobes...', 'ignored'],
    ['586 / 586 [-----------------------------------------] 100.00% 34 p/s', 'ignored'],
    ['2022/01/22 12:18:19 Attached (ignored 13)', 'ignored'],
    ['2026/01/30 12:00:00 INFO Detaching kprobes...', 'ignored'],
    ['^C2022/01/22 12:19:29 Received signal, exiting program..', 'ignored'],
    ['^C', 'ignored'],
    ['', 'ignored'],
  ])('%s -> %s', (line, kind) => {
    expect(lastResult([line]).kind).toBe(kind);
  });

  it('Listening for events.. is the ready signal (log and slog forms)', () => {
    for (const line of ['2022/01/22 12:18:19 Listening for events..', '2026/01/30 12:00:00 INFO Listening for events..']) {
      expect(lastResult([line])).toEqual({ kind: 'meta', meta: { ready: true, note: 'Listening for events..' } });
    }
  });

  it('warnings and failures are kept as notes for the report', () => {
    expect(lastResult(['2026/01/30 12:00:00 WARN Failed to close output error=EOF'])).toEqual({
      kind: 'meta', meta: { note: 'Failed to close output error=EOF' },
    });
    expect(lastResult(['pwru v1.0.12'])).toEqual({ kind: 'meta', meta: { version: 'v1.0.12', note: 'pwru v1.0.12' } });
  });

  it('returns the same context object for lines that change nothing', () => {
    const ctx = pwruParser.initial();
    expect(parsePwruLine('2022/01/22 12:18:01 Attaching kprobes...', ctx).ctx).toBe(ctx);
    expect(parsePwruLine('not pwru', ctx).ctx).toBe(ctx);
  });
});

/*
 * Golden files over every pwru fixture. Lines each fixture's `# note:` names as author remarks or
 * cuts are the only ones allowed to stay unparsed; they are listed per fixture here.
 */
const REAL = readdirSync(join(FIXTURES, 'pwru')).filter((f) => f.endsWith('.txt')).sort();
const UNPARSED_BY_NOTE: Record<string, number[]> = {
  // '[...]' elisions (lines 6 and 14) and the '<--- last occurrence before out of sight' remark (line 10).
  'gh-pwru-issue84-2022-nat-lost-skb-ksoftirqd.txt': [6, 10, 14],
  // Every record wrapped over two lines (the last one over three) by a mail client: joined. Not tool
  // output: the marker '--- snipped other skbs ---' (62), the record carrying the remark '  <<<<'
  // (80) and the remark's wrapped line 'DNATed twice' (81).
  'lkml-netfilter-2024-ojea-output-tuple-dnat-twice-otherhost.txt': [62, 80, 81],
};
const SEED: Record<string, { unparsed: number[] | 'all-but-prompt' }> = {
  // Line 1 is the shell prompt with the command, copied with the output into the notes: ignored.
  'pwru-v0.0.2-src-same.txt': { unparsed: [] },
  'pwru-v0.0.2-src-cni.txt': { unparsed: [] },
  // `pwru -h`: not trace output; nothing in it may pass for an event or a stack frame (the prompt is ignored).
  'pwru-v0.0.2-help.txt': { unparsed: 'all-but-prompt' },
};

function parseFixture(path: string): ResultRow<PwruEvent>[] {
  const { body, bodyStartLine } = readFixture(path);
  return resultRows(run(body).results, bodyStartLine);
}

describe('golden: real pwru fixtures', () => {
  it('finds all of them', () => {
    expect(REAL.length).toBe(17);
  });

  it.each(REAL)('%s', (name) => {
    const rows = parseFixture(join(FIXTURES, 'pwru', name));
    expectGolden(rowsJson(rows), join(GOLDEN, name.replace(/\.txt$/, '.events.json')));
    const unparsed = rows.filter((r) => r.kind === 'unparsed').map((r) => r.line);
    expect(unparsed).toEqual(UNPARSED_BY_NOTE[name] ?? []);
    expect(rows.some((r) => r.kind === 'event')).toBe(true);
  });
});

describe('golden: seed pwru v0.0.2 captures', () => {
  it.each(Object.keys(SEED))('%s', (name) => {
    const rows = parseFixture(join(FIXTURES, 'seed', name));
    expectGolden(rowsJson(rows), join(GOLDEN, 'seed-' + name.replace(/\.txt$/, '.events.json')));
    const unparsed = rows.filter((r) => r.kind === 'unparsed').map((r) => r.line);
    const want = SEED[name].unparsed;
    expect(unparsed).toEqual(want === 'all-but-prompt' ? rows.map((r) => r.line).filter((l) => l !== 1) : want);
  });

  // The path the seed's author traced by hand: out of the pod, tc ingress on the lxc, redirected
  // straight into the peer pod (skb_do_redirect, then ip_rcv with no ip_forward).
  const PATH = [
    '__ip_local_out', 'ip_output', 'nf_hook_slow', '__cgroup_bpf_run_filter_skb', 'neigh_resolve_output',
    '__neigh_event_send', 'eth_header', 'skb_push', 'dev_queue_xmit', 'netdev_core_pick_tx', 'netif_skb_features',
    'passthru_features_check', 'skb_network_protocol', 'validate_xmit_xfrm', 'dev_hard_start_xmit',
    'skb_clone_tx_timestamp', '__dev_forward_skb', 'skb_scrub_packet', 'eth_type_trans', 'netif_rx',
    'tcf_classify_ingress', 'skb_ensure_writable', 'skb_ensure_writable', 'skb_ensure_writable', 'skb_ensure_writable',
    'skb_do_redirect', 'ip_rcv', 'sock_wfree', 'ip_route_input_noref', 'ip_route_input_rcu', 'fib_validate_source',
    'ip_local_deliver',
  ];

  it.each([
    ['pwru-v0.0.2-src-same.txt', '0xffff9afcb4519b00', '10.0.1.135', '10.0.1.180'],
    ['pwru-v0.0.2-src-cni.txt', '0xffff9afcb4519400', '10.0.1.180', '10.0.1.135'],
  ])('%s: the whole function sequence of one skb, %s, %s -> %s icmp', (name, skb, src, dst) => {
    const events = parseFixture(join(FIXTURES, 'seed', name)).flatMap((r) => (r.event ? [r.event] : []));
    expect(events.map((e) => e.func)).toEqual(PATH);
    for (const e of events) {
      expect(e.skb).toBe(skb);
      expect(e.packet).toEqual({ ip: { version: 4, src, dst, proto: 'icmp' }, l4: { proto: 'icmp' } });
      expect(e.time?.clock).toBe('monotonic');
    }
    // Monotonic nanoseconds: strictly increasing along one skb's path.
    for (let i = 1; i < events.length; i++) expect(events[i].time!.us).toBeGreaterThan(events[i - 1].time!.us);
  });
});

describe('records wrapped over several lines (lkml-netfilter-2024-ojea fixture)', () => {
  it('one skb DNATed twice, then dropped as OTHERHOST: the tuples change along the skb, the last record joined from three lines', () => {
    const rows = parseFixture(join(FIXTURES, 'pwru', 'lkml-netfilter-2024-ojea-output-tuple-dnat-twice-otherhost.txt'));
    const events = rows.flatMap((r) => (r.event ? [r.event] : []));
    expect(new Set(events.map((e) => e.skb))).toEqual(new Set(['0xffff97ff83662280']));
    const dsts: string[] = [];
    for (const e of events) if (e.packet?.ip && dsts.at(-1) !== e.packet.ip.dst) dsts.push(e.packet.ip.dst);
    expect(dsts).toEqual(['10.96.0.10', '10.244.0.2', '10.244.0.4']);
    expect(events.at(-1)).toMatchObject({ func: 'kfree_skb_reason', dropReason: 'SKB_DROP_REASON_OTHERHOST', printedAt: { clock: 'time-of-day' } });
  });
});

describe('a tuple pwru printed for an skb that is not an IP packet is no packet (tupleIsIpPacket)', () => {
  const PR35 = join(FIXTURES, 'pwru', 'gh-pwru-pr35-2021-pkt-type-cpu-timestamp.txt');
  const packetsOf = (lines: string[]) =>
    run(lines).results.flatMap((r) => (r.kind === 'event' ? [[r.event.skb, r.event.proto, r.event.packet] as const] : []));

  it('pr35 fixture: proto=0 (skb->protocol unset) under an IPv6 tuple (a D-Bus path read as addresses) gives no packet; the UDP skb keeps its own', () => {
    expect(packetsOf(readFixture(PR35).body)).toEqual([
      ['0xffff8f25c1127500', '0x0800', { ip: { version: 4, src: '10.0.2.15', dst: '8.8.8.8', proto: 'udp' }, l4: { proto: 'udp', srcPort: 39917, dstPort: 53 } }],
      ['0xffff8f26ce799800', '0x0000', undefined],
      ['0xffff8f262df5b900', '0x0000', undefined],
    ]);
  });

  it('zheaoli fixture: proto=0x0000 with an IPv4 tuple is the local output path before __ip_local_out sets skb->protocol: kept', () => {
    const { body } = readFixture(join(FIXTURES, 'pwru', 'zheaoli-2024-v1.0.x-output-meta-iface-name.txt'));
    const unset = packetsOf(body).filter(([, proto]) => proto === '0x0000');
    expect(unset.map(([, , packet]) => packet)).toEqual([0, 1, 2].map(() => (
      { ip: { version: 4, src: '172.18.0.1', dst: '172.18.0.2', proto: 'udp' }, l4: { proto: 'udp', srcPort: 36794, dstPort: 4000 } })));
  });

  it('pr35 lines without their meta: IPv6 addresses outside every allocated block are no packet; allocated ones are', () => {
    // The fixture's lines 2-3 with ` netns=... len=N` cut out, as pwru prints them without --output-meta.
    const noMeta = readFixture(PR35).body.map((l) => l.replace(/ netns=.* len=\d+/, ''));
    expect(packetsOf(noMeta).map(([, , packet]) => packet?.ip?.src)).toEqual(['10.0.2.15', undefined, undefined]);
    const plausible = noMeta[2].replace('7923:0:9c00:0:101:6f00:2300:0', 'fd00:10:244::1').replace('2f6f:7267:2f66:7265:6564:6573:6b74:6f70', 'fe80::1');
    expect(packetsOf([noMeta[0], plausible])[0][2]).toEqual({ ip: { version: 6, src: 'fd00:10:244::1', dst: 'fe80::1' } });
  });

  it('a non-IP ethertype in proto= (ARP, 0x0806 printed little-endian as 608) says the tuple is not an IP packet', () => {
    // The fixture's UDP line with skb->protocol made ARP: the kernel's own word beats the bytes.
    const arp = readFixture(PR35).body.map((l) => l.replace(' proto=8 ', ' proto=608 '));
    expect(packetsOf(arp).map(([, proto, packet]) => [proto, packet])).toEqual([['0x0806', undefined], ['0x0000', undefined], ['0x0000', undefined]]);
  });
});
