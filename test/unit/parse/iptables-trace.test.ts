import { readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import { iptablesTraceParser, parseIptablesTraceLine, type IptablesContext } from '../../../src/core/parse/iptables-trace.js';
import type { IptablesEvent } from '../../../src/core/model/event.js';
import type { ParseResult } from '../../../src/core/parse/result.js';
import { readFixture } from '../../helpers/fixtures.js';
import { expectGolden } from '../../helpers/golden.js';

const FIXTURES = fileURLToPath(new URL('../../fixtures/iptables-trace/', import.meta.url));
const GOLDEN = fileURLToPath(new URL('../../golden/iptables-trace/', import.meta.url));

function run(lines: string[]): { results: ParseResult<IptablesEvent>[]; ctx: IptablesContext } {
  let ctx = iptablesTraceParser.initial();
  const results: ParseResult<IptablesEvent>[] = [];
  for (const line of lines) {
    const out = parseIptablesTraceLine(line, ctx);
    results.push(out.result);
    ctx = out.ctx;
  }
  return { results, ctx };
}

function events(lines: string[]): IptablesEvent[] {
  return run(lines).results.flatMap((r) => (r.kind === 'event' || r.kind === 'amend' ? [r.event] : []));
}

function only(line: string): IptablesEvent {
  const r = parseIptablesTraceLine(line).result;
  if (r.kind !== 'event') throw new Error(`expected an event, got ${JSON.stringify(r)}`);
  return r.event;
}

// The record part of a real line (kernel-log-libvirt-nat-forward-trace.txt, line 1).
const LIBVIRT_RECORD =
  'TRACE: raw:PREROUTING:policy:3 IN=virbr0 OUT= MAC=52:54:00:da:ec:4f:52:54:00:a4:5e:56:08:00 SRC=192.168.122.17 DST=10.44.32.217 LEN=60 TOS=0x00 PREC=0x00 TTL=64 ID=14247 DF PROTO=TCP SPT=42954 DPT=3128 SEQ=3127975600 ACK=0 WINDOW=29200 RES=0x00 SYN URGP=0 OPT (020405B40402080A10B629170000000001030307)';

describe('kernel log TRACE lines', () => {
  const libvirtPacket = {
    eth: { dst: '52:54:00:da:ec:4f', src: '52:54:00:a4:5e:56', type: 'ipv4' },
    ip: { version: 4, src: '192.168.122.17', dst: '10.44.32.217', ttl: 64, id: 14247, proto: 'tcp', length: 60, tos: 0, flags: 'DF' },
    l4: { proto: 'tcp', srcPort: 42954, dstPort: 3128, tcpFlags: 'S', tcpSeq: 3127975600 },
    length: 60,
  };

  it('reads table, chain, kind, rule number, interfaces and the packet', () => {
    expect(only(LIBVIRT_RECORD)).toEqual({
      tool: 'iptables', table: 'raw', chain: 'PREROUTING', kind: 'policy', ruleNum: 3, inIface: 'virbr0',
      packet: libvirtPacket,
      summary: 'raw:PREROUTING:policy:3 IN=virbr0 OUT= TCP 192.168.122.17.42954 > 10.44.32.217.3128 [S]',
    });
  });

  // The same record in each wrapping a kernel log reader puts around it.
  it.each([
    ['bare (dmesg -t)', '', undefined],
    ['dmesg', '[5121056.357116] ', { clock: 'monotonic', us: 5121056357116 }],
    ['dmesg, short fraction', '[  123.5] ', { clock: 'monotonic', us: 123500000 }],
    ['dmesg -T', '[Thu Apr 23 21:55:11 2020] ', { clock: 'time-of-day', us: 78911000000 }],
    ['syslog with uptime', 'Feb 13 15:33:24 stop kernel: [873912.017189] ', { clock: 'monotonic', us: 873912017189 }],
    ['journalctl -k', 'Feb 13 15:33:24 stop kernel: ', { clock: 'time-of-day', us: 56_004_000_000 }],
    ['rsyslog ISO stamp', '2024-03-21T09:00:55.123456+01:00 node1 kernel: ', { clock: 'wall', us: 1711008055123456 }],
    ['/dev/kmsg priority', '<4>[  123.000001] ', { clock: 'monotonic', us: 123000001 }],
  ])('%s', (_name, prefix, time) => {
    const e = only(prefix + LIBVIRT_RECORD);
    expect(e.time).toEqual(time);
    expect(e.packet).toEqual(libvirtPacket);
    expect(e.table).toBe('raw');
  });

  it('keeps the TAB the dmesg fixture has before CODE=0 out of the way', () => {
    const e = only('[Thu Apr 23 21:55:11 2020] TRACE: raw:OUTPUT:policy:2 IN= OUT=wlp3s0 SRC=192.168.10.70 DST=1.1.1.1 LEN=84 TOS=0x00 PREC=0x00 TTL=64 ID=31519 DF PROTO=ICMP TYPE=8 \tCODE=0 ID=11 SEQ=1 UID=1000 GID=100 ');
    expect(e.outIface).toBe('wlp3s0');
    expect(e.inIface).toBeUndefined();
    expect(e.packet?.ip?.id).toBe(31519);
    expect(e.packet?.l4).toEqual({ proto: 'icmp', icmpType: 'echo-request', icmpId: 11, icmpSeq: 1 });
  });

  it('writes TCP flags in tcpdump notation and keeps the ack number only with the ACK flag', () => {
    const psh = only(LIBVIRT_RECORD.replace('RES=0x00 SYN', 'RES=0x00 ACK PSH').replace('ACK=0', 'ACK=77'));
    expect(psh.packet?.l4).toMatchObject({ tcpFlags: 'P.', tcpAck: 77 });
    const synAck = only(LIBVIRT_RECORD.replace('RES=0x00 SYN', 'RES=0x00 ACK SYN'));
    expect(synAck.packet?.l4?.tcpFlags).toBe('S.');
    expect(only(LIBVIRT_RECORD).packet?.l4?.tcpAck).toBeUndefined();
    const none = only(LIBVIRT_RECORD.replace('RES=0x00 SYN', 'RES=0x00'));
    expect(none.packet?.l4?.tcpFlags).toBe('none');
  });

  // Laid out with nf_log_ipv6's format (net/ipv6/netfilter/nf_log_ipv6.c: LEN is the total length).
  it('IPv6: HOPLIMIT, ICMPv6 echo, payload length', () => {
    const e = only('TRACE: filter:INPUT:rule:1 IN=eth0 OUT= MAC=aa:bb:cc:dd:ee:ff:11:22:33:44:55:66:86:dd SRC=fd00::1 DST=fd00::2 LEN=104 TC=0 HOPLIMIT=64 FLOWLBL=414717 PROTO=ICMPv6 TYPE=128 CODE=0 ID=7 SEQ=3 ');
    expect(e.packet).toEqual({
      eth: { dst: 'aa:bb:cc:dd:ee:ff', src: '11:22:33:44:55:66', type: 'ipv6' },
      ip: { version: 6, src: 'fd00::1', dst: 'fd00::2', ttl: 64, proto: 'icmp6', length: 64 },
      l4: { proto: 'icmp6', icmpType: 'echo-request', icmpId: 7, icmpSeq: 3 },
      length: 104,
    });
  });

  // nf_log quotes the offending packet of an ICMP error in brackets; it is not this packet's data.
  it('UDP length, and stops at the packet an ICMP error quotes', () => {
    const udp = only('TRACE: nat:OUTPUT:rule:4 IN= OUT=eth0 SRC=10.0.0.5 DST=10.96.0.10 LEN=71 TOS=0x00 PREC=0x00 TTL=64 ID=3 PROTO=UDP SPT=40000 DPT=53 LEN=51 ');
    expect(udp.packet?.l4).toEqual({ proto: 'udp', srcPort: 40000, dstPort: 53, payloadLength: 43 });
    expect(udp.packet?.ip?.length).toBe(71);
    const err = only('TRACE: filter:INPUT:rule:2 IN=eth0 OUT= SRC=10.0.0.9 DST=10.0.0.5 LEN=99 TOS=0x00 PREC=0xC0 TTL=64 ID=1 PROTO=ICMP TYPE=3 CODE=3 [SRC=10.0.0.5 DST=10.0.0.9 LEN=71 TOS=0x00 PREC=0x00 TTL=64 ID=3 PROTO=UDP SPT=40000 DPT=53 LEN=51 ] ');
    expect(err.packet?.ip).toMatchObject({ src: '10.0.0.9', dst: '10.0.0.5', id: 1, length: 99 });
    expect(err.packet?.l4).toEqual({ proto: 'icmp', icmpType: 'unreachable' });
  });

  it('says why a TRACE: line without table:chain:kind:N is not understood', () => {
    expect(parseIptablesTraceLine('[ 1.0] TRACE: something else').result).toEqual({
      kind: 'unparsed', reason: 'TRACE: without table:chain:rule|policy|return:N',
    });
  });
});

describe('xtables-monitor --trace', () => {
  // From xtables-monitor-docker0-icmp-forward-masquerade.txt.
  const packetLine = 'PACKET: 2 2e1c3e85 IN=docker0 OUT=ens160 MACSRC=2:42:ac:11:0:2 MACDST=2:42:e6:97:7c:13 MACPROTO=0800 SRC=172.17.0.2 DST=52.142.124.215 LEN=84 TOS=0x0 TTL=63 ID=33480DF ';
  const ruleLine = ' TRACE: 2 2e1c3e85 filter:FORWARD:rule:0x4b:JUMP:DOCKER-ISOLATION-STAGE-1  -4 -t filter -A FORWARD -j DOCKER-ISOLATION-STAGE-1';
  const packet = {
    eth: { src: '02:42:ac:11:00:02', dst: '02:42:e6:97:7c:13', type: 'ipv4' },
    ip: { version: 4, src: '172.17.0.2', dst: '52.142.124.215', ttl: 63, id: 33480, length: 84, tos: 0, flags: 'DF' },
    length: 84,
  };

  it('links PACKET and TRACE lines by trace id (1.8.7+: PACKET first)', () => {
    const { results } = run([packetLine, ruleLine, ' TRACE: 2 2e1c3e85 filter:DOCKER-USER:return:', ' TRACE: 2 2e1c3e85 raw:PREROUTING:policy:ACCEPT ']);
    expect(results[0].kind).toBe('meta');
    expect(results[1]).toEqual({
      kind: 'event',
      event: {
        tool: 'iptables', table: 'filter', chain: 'FORWARD', kind: 'rule', family: 'ip', traceId: '2e1c3e85',
        ruleHandle: 0x4b, verdict: 'jump DOCKER-ISOLATION-STAGE-1', rule: '-4 -t filter -A FORWARD -j DOCKER-ISOLATION-STAGE-1',
        inIface: 'docker0', outIface: 'ens160', packet,
        summary: 'filter:FORWARD:rule:0x4b:JUMP:DOCKER-ISOLATION-STAGE-1  -4 -t filter -A FORWARD -j DOCKER-ISOLATION-STAGE-1',
      },
    });
    expect(results[2]).toMatchObject({ kind: 'event', event: { kind: 'return', chain: 'DOCKER-USER', packet } });
    expect(results[3]).toMatchObject({ kind: 'event', event: { kind: 'policy', verdict: 'accept' } });
  });

  it('a trace id seen without its PACKET line gives an event without a packet', () => {
    expect(only(ruleLine).packet).toBeUndefined();
  });

  // Before iptables 1.8.7 (xtables-monitor.c trace_cb: rule line, then trace_print_packet), the
  // PACKET line follows the rule line it describes; it completes that event.
  it('older layout: PACKET after the rule line amends that rule event', () => {
    const { results } = run([
      ' TRACE: 2 0000a1b2 raw:PREROUTING:rule:0x3:CONTINUE -4 -t raw -A PREROUTING -p tcp -j TRACE',
      'PACKET: 2 0000a1b2 IN=eth0 SRC=10.0.0.1 DST=10.0.0.2 LEN=60 TOS=0x0 TTL=64 ID=1DF SPORT=40000 DPORT=80 SYN ',
      ' TRACE: 2 0000a1b2 raw:PREROUTING:policy:ACCEPT ',
    ]);
    expect(results[0]).toMatchObject({ kind: 'event', event: { ruleHandle: 3, verdict: 'continue' } });
    expect(results[0].kind === 'event' && results[0].event.packet).toBe(undefined);
    expect(results[1]).toMatchObject({
      kind: 'amend',
      event: { ruleHandle: 3, inIface: 'eth0', packet: { ip: { src: '10.0.0.1', id: 1, flags: 'DF', proto: 'tcp' }, l4: { proto: 'tcp', srcPort: 40000, dstPort: 80, tcpFlags: 'S' } } },
    });
    expect(results[2]).toMatchObject({ kind: 'event', event: { kind: 'policy', packet: { ip: { src: '10.0.0.1' } } } });
  });

  it('ruleset events and NEWGEN lines are ignored', () => {
    expect(run([' EVENT: -4 -t filter -A FORWARD -j ACCEPT', 'NEWGEN: GENID=7 PID=1 NAME=iptables-nft']).results.map((r) => r.kind)).toEqual(['ignored', 'ignored']);
  });
});

describe('nft monitor trace', () => {
  // From nft-monitor-trace-nftrace-kube-nodeports.txt.
  const packetLine =
    'trace id 8974f599 ip filter INPUT packet: iif "eth0" ether saddr 02:42:c0:a8:08:04 ether daddr 02:42:c0:a8:08:03 ip saddr 192.168.8.4 ip daddr 192.168.8.3 ip dscp cs0 ip ecn not-ect ip ttl 64 ip id 51749 ip length 141 tcp sport 6443 tcp dport 43062 tcp flags == 0x18 tcp window 2321';

  it('rule, verdict (end of chain) and policy lines, with the packet of their trace id', () => {
    const evs = events([
      packetLine,
      'trace id 8974f599 ip filter INPUT rule  counter packets 5220005 bytes 2163351087 jump KUBE-NODEPORTS (verdict jump KUBE-NODEPORTS)',
      'trace id 8974f599 ip filter KUBE-NODEPORTS verdict continue',
      'trace id 8974f599 ip filter INPUT policy accept',
    ]);
    expect(evs[0]).toEqual({
      tool: 'iptables', table: 'filter', chain: 'INPUT', family: 'ip', traceId: '8974f599', kind: 'rule',
      rule: 'counter packets 5220005 bytes 2163351087 jump KUBE-NODEPORTS', verdict: 'jump KUBE-NODEPORTS', inIface: 'eth0',
      packet: {
        eth: { src: '02:42:c0:a8:08:04', dst: '02:42:c0:a8:08:03' },
        ip: { version: 4, src: '192.168.8.4', dst: '192.168.8.3', ttl: 64, id: 51749, length: 141, proto: 'tcp' },
        l4: { proto: 'tcp', srcPort: 6443, dstPort: 43062, tcpFlags: 'P.' },
        length: 141,
      },
      summary: 'ip filter INPUT rule  counter packets 5220005 bytes 2163351087 jump KUBE-NODEPORTS (verdict jump KUBE-NODEPORTS)',
    });
    expect(evs.map((e) => [e.kind, e.chain, e.verdict])).toEqual([
      ['rule', 'INPUT', 'jump KUBE-NODEPORTS'],
      ['return', 'KUBE-NODEPORTS', 'continue'],
      ['policy', 'INPUT', 'accept'],
    ]);
  });

  // Shapes from nftables src/trace.c (trace_print_rule, trace_print_policy with meta mark, trace_print_ct).
  it('unknown rule handle, a mark after the policy, conntrack lines, ICMP and named TCP flags', () => {
    const { results } = run([
      'trace id 9c01f8aa ip filter forward conntrack: ct direction original ct state new ct id 2286139680',
      'trace id 9c01f8aa ip filter forward packet: iif "eth0" oif "eth1" ip saddr 10.0.1.135 ip daddr 10.0.1.180 ip ttl 63 ip id 4532 ip protocol icmp ip length 84 icmp type echo-request icmp code net-unreachable icmp id 20480 icmp sequence 0',
      'trace id 9c01f8aa ip filter forward unknown rule handle 12 (verdict accept)',
      'trace id 9c01f8aa ip filter forward policy drop meta mark 0x00000001',
      'trace id 0000beef ip6 filter input packet: iif "lo" ip6 saddr ::1 ip6 daddr ::1 ip6 nexthdr tcp ip6 hoplimit 64 tcp sport 1234 tcp dport 80 tcp flags == syn | ack',
      'trace id 0000beef ip6 filter input policy accept',
    ]);
    expect(results[0]).toEqual({ kind: 'meta', meta: { note: 'nft trace 9c01f8aa conntrack: ct direction original ct state new ct id 2286139680' } });
    expect(results[2]).toMatchObject({
      kind: 'event',
      event: {
        kind: 'rule', ruleHandle: 12, verdict: 'accept', inIface: 'eth0', outIface: 'eth1',
        packet: { ip: { src: '10.0.1.135', proto: 'icmp', ttl: 63 }, l4: { proto: 'icmp', icmpType: 'echo-request', icmpId: 20480, icmpSeq: 0 } },
      },
    });
    expect(results[3]).toMatchObject({ kind: 'event', event: { kind: 'policy', verdict: 'drop' } });
    expect(results[5]).toMatchObject({
      kind: 'event',
      event: { family: 'ip6', packet: { ip: { version: 6, src: '::1', proto: 'tcp', ttl: 64 }, l4: { tcpFlags: 'S.', dstPort: 80 } } },
    });
  });
});

describe('lines that are not trace records', () => {
  it.each([
    ['', 'ignored'],
    ['[5121056.400000] br0: port 2(veth1) entered forwarding state', 'ignored'],
    ['Feb 13 15:33:25 stop systemd[1]: Started Session 4 of user root.', 'ignored'],
    ['root@bpf1:~# dmesg -w | grep TRACE', 'ignored'],
    ['...', 'unparsed'],
    ['hello world', 'unparsed'],
  ])('%j -> %s', (line, kind) => {
    expect(parseIptablesTraceLine(line).result.kind).toBe(kind);
  });
});

describe('context', () => {
  it('is never mutated, and is returned unchanged by lines that do not touch it', () => {
    const deepFreeze = (o: unknown): void => {
      if (typeof o === 'object' && o !== null && !Object.isFrozen(o)) {
        Object.freeze(o);
        for (const v of Object.values(o)) deepFreeze(v);
      }
    };
    let ctx = iptablesTraceParser.initial();
    const lines = readFixture(join(FIXTURES, 'xtables-monitor-docker0-icmp-forward-masquerade.txt')).body;
    for (const line of lines) {
      deepFreeze(ctx);
      const out = parseIptablesTraceLine(line, ctx);
      if (!line.startsWith('PACKET:')) expect(out.ctx).toBe(ctx);
      ctx = out.ctx;
    }
    expect(ctx.packets.map((p) => p.id)).toEqual(['5d0e7204', '2e1c3e85', '119c5605']);
  });
});

describe('real outputs (golden)', () => {
  const files = readdirSync(FIXTURES).filter((f) => f.endsWith('.txt'));

  it('has the fixtures', () => {
    expect(files.length).toBe(5);
  });

  it.each(files)('%s', (file) => {
    const { header, body, bodyStartLine } = readFixture(join(FIXTURES, file));
    const { results } = run(body);
    const out = results.map((result, k) => ({ line: bodyStartLine + k, result }));
    expectGolden(JSON.stringify(out, null, 2) + '\n', join(GOLDEN, file.replace(/\.txt$/, '.events.json')));
    // Only lines the fixture's own notes name may go unparsed.
    const notes = header.filter((h) => h.startsWith('# note:')).join(' ');
    for (const [k, r] of results.entries()) {
      if (r.kind === 'unparsed') expect(notes).toContain(`'${body[k].trim()}'`);
    }
    expect(results.some((r) => r.kind === 'event')).toBe(true);
  });
});
