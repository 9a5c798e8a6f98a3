import { readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import { monitorParser, parseMonitorLine, type MonitorContext } from '../../../src/core/parse/cilium-monitor.js';
import { splitMonitorRecords } from '../../../src/core/parse/cilium-monitor-split.js';
import { DEBUG_MESSAGE_PREFIXES, parseDebugMessage } from '../../../src/core/parse/cilium-monitor-debug.js';
import type { MonitorEvent } from '../../../src/core/model/event.js';
import type { ParseResult } from '../../../src/core/parse/result.js';
import { readFixture } from '../../helpers/fixtures.js';
import { expectGolden } from '../../helpers/golden.js';
import { resultRows, rowsJson, runParser } from '../../helpers/run-parser.js';

const FIXTURES = fileURLToPath(new URL('../../fixtures/', import.meta.url));
const GOLDEN = fileURLToPath(new URL('../../golden/cilium-monitor/', import.meta.url));

function run(lines: string[], start?: MonitorContext): { results: ParseResult<MonitorEvent>[]; ctx: MonitorContext } {
  return runParser(monitorParser, lines, start);
}

function eventOf(r: ParseResult<MonitorEvent>): MonitorEvent {
  if (r.kind !== 'event' && r.kind !== 'amend') throw new Error(`expected an event, got ${JSON.stringify(r)}`);
  return r.event;
}

function one(line: string): MonitorEvent {
  return eventOf(parseMonitorLine(line, monitorParser.initial()).result);
}

function reasonOf(line: string): string {
  const r = parseMonitorLine(line, monitorParser.initial()).result;
  if (r.kind !== 'unparsed') throw new Error(`expected unparsed, got ${JSON.stringify(r)}`);
  return r.reason;
}

// Lines below are taken from the fixtures or laid out with the format strings of
// cilium/cilium pkg/monitor/*.go of the era named.

describe('trace lines of every era', () => {
  it('1.8: `-> endpoint N flow 0x.. identity A->B state S ifindex NAME orig-ip IP: summary`', () => {
    const line = '-> endpoint 745 flow 0xbbe3d555 identity 1->4 state established ifindex lxc_health orig-ip 10.11.251.76: 10.11.251.76:57896 -> 10.11.166.21:4240 tcp ACK';
    expect(one(line)).toEqual({
      tool: 'monitor', type: 'trace', obsPoint: 'to-endpoint', endpoint: 745, mark: '0xbbe3d555',
      srcIdentity: 1, dstIdentity: 4, ctState: 'established', iface: 'lxc_health', origIp: '10.11.251.76',
      packet: {
        ip: { version: 4, src: '10.11.251.76', dst: '10.11.166.21', proto: 'tcp' },
        l4: { proto: 'tcp', srcPort: 57896, dstPort: 4240, tcpFlags: '.' },
      },
      summary: line,
    });
  });

  it('1.10+: `flow 0x.. , identity host->N` with named reserved identities; ifindex 0 and orig-ip 0.0.0.0 are left out', () => {
    const e = one('-> stack flow 0xe8858480 , identity 11803->host state reply ifindex 0 orig-ip 0.0.0.0: 10.0.1.184:8080 -> 172.26.50.201:56134 tcp SYN, ACK');
    expect(e).toMatchObject({ obsPoint: 'to-stack', srcIdentity: 11803, dstIdentity: 1, dstIdentityName: 'host', ctState: 'reply' });
    expect(e.packet?.l4).toEqual({ proto: 'tcp', srcPort: 8080, dstPort: 56134, tcpFlags: 'S.' });
    expect(e).not.toHaveProperty('ifindex');
    expect(e).not.toHaveProperty('origIp');
    expect(e).not.toHaveProperty('endpoint');
  });

  it.each([
    ['-> network flow 0xd67215a2 , identity 22196->60386 state new ifindex eth0 orig-ip 0.0.0.0: 10.244.1.56:56944 -> 10.244.2.148:80 tcp SYN', 'to-network'],
    ['<- host flow 0xbbe3d555 identity 1->0 state new ifindex 0 orig-ip 0.0.0.0: 10.11.251.76:57896 -> 10.11.166.21:4240 tcp ACK', 'from-host'],
    ['-> overlay flow 0x1 , identity 3->4 state new ifindex cilium_vxlan orig-ip 0.0.0.0: 10.0.0.1 -> 10.0.1.1 icmp EchoRequest', 'to-overlay'],
    ['<- overlay flow 0x1 , identity 3->4 state new ifindex cilium_vxlan orig-ip 0.0.0.0: 10.0.0.1 -> 10.0.1.1 icmp EchoRequest', 'from-overlay'],
    ['<- stack flow 0x1 , identity 3->4 state reply ifindex 0 orig-ip 0.0.0.0: 10.0.0.1:80 -> 10.0.1.1:3000 tcp ACK', 'from-stack'],
    ['-> host from flow 0x1 , identity 3->host state new ifindex cilium_host orig-ip 0.0.0.0: 10.0.0.1 -> 10.0.1.1 icmp EchoRequest', 'to-host'],
    ['<- network flow 0x1 , identity world->4 state new ifindex eth0 orig-ip 0.0.0.0: 1.1.1.1:443 -> 10.0.1.1:3000 tcp SYN, ACK', 'from-network'],
    ['-> crypto flow 0x1 , identity 3->4 state new ifindex 0 orig-ip 0.0.0.0: 10.0.0.1 -> 10.0.1.1 icmp EchoRequest', 'to-crypto'],
    ['-> proxy port 15001 flow 0x1 , identity 3->4 state new ifindex 0 orig-ip 0.0.0.0: 10.0.0.1:3000 -> 10.0.1.1:80 tcp SYN', 'to-proxy'],
  ])('%s -> %s', (line, obs) => {
    expect(one(line).obsPoint).toBe(obs);
  });

  it('2018: `<- endpoint N flow 0x.. identity A->0 state new ifindex 0: summary` (no orig-ip)', () => {
    const e = one('<- endpoint 42910 flow 0x6684bcc7 identity 23405->0 state new ifindex 0: 10.15.236.254 -> 8.8.8.8 EchoRequest');
    expect(e).toMatchObject({ obsPoint: 'from-endpoint', endpoint: 42910, srcIdentity: 23405, dstIdentity: 0, ctState: 'new' });
    expect(e.packet).toEqual({ ip: { version: 4, src: '10.15.236.254', dst: '8.8.8.8', proto: 'icmp' }, l4: { proto: 'icmp', icmpType: 'echo-request' } });
  });

  it('2018: an interface name right before the colon (`ifindex lxc2bde3: ...`)', () => {
    expect(one('-> endpoint 42910 flow 0x6684bcc7 identity 1->23405 state reply ifindex lxc2bde3: 8.8.8.8 -> 10.15.236.254 EchoReply').iface).toBe('lxc2bde3');
  });

  it('1.0 pre-release: `-> forward (<reason>), at To endpoint, to endpoint N, identity A->B: summary`', () => {
    expect(one('-> forward (Reply connection), at To endpoint, to endpoint 44396, identity 259->261: 172.18.0.169:9092 -> 172.201.10.7:37958 tcp SYN, ACK')).toMatchObject({
      type: 'trace', obsPoint: 'to-endpoint', ctState: 'reply', endpoint: 44396, dstEndpoint: 44396, srcIdentity: 259, dstIdentity: 261,
    });
  });

  it('oldest: `xx forward (To endpoint) to endpoint N, identity A->B: summary`', () => {
    expect(one('xx forward (To endpoint) to endpoint 20914, identity 261->259: 172.201.10.7:37958 -> 172.201.220.101:9092 tcp SYN')).toMatchObject({
      type: 'trace', obsPoint: 'to-endpoint', endpoint: 20914,
    });
  });

  it('newest: encrypted flows and an ip-trace-id', () => {
    const e = one('-> stack encrypted  flow 0x1a , identity 3->4 [ ip-trace-id = 77 ] state new ifindex 0 orig-ip 0.0.0.0: 10.0.0.1 -> 10.0.1.1 icmp EchoRequest');
    expect(e).toMatchObject({ obsPoint: 'to-stack', mark: '0x1a', extraFields: { encrypted: 'true', 'ip-trace-id': '77' } });
  });

  it('overlay summary: inner packet first, outer in `[tunnel ...]`', () => {
    const e = one('-> overlay flow 0x1 , identity 3->4 state new ifindex cilium_vxlan orig-ip 0.0.0.0: 10.0.0.1:3000 -> 10.0.1.1:80 tcp SYN [tunnel 192.168.0.1:55000 -> 192.168.0.2:8472 vxlan]');
    expect(e.packet).toEqual({
      ip: { version: 4, src: '192.168.0.1', dst: '192.168.0.2', proto: 'udp' },
      l4: { proto: 'udp', srcPort: 55000, dstPort: 8472 },
      encap: { kind: 'vxlan' },
      inner: { ip: { version: 4, src: '10.0.0.1', dst: '10.0.1.1', proto: 'tcp' }, l4: { proto: 'tcp', srcPort: 3000, dstPort: 80, tcpFlags: 'S' } },
    });
  });

  it('ten-digit identities (clustermesh) stay numbers', () => {
    expect(one('-> endpoint 7 flow 0x1 , identity 4278190080->16777217 state new ifindex lxc1 orig-ip 0.0.0.0: 10.0.0.1 -> 10.0.1.1')).toMatchObject({ srcIdentity: 4278190080, dstIdentity: 16777217 });
  });

  it('an identity name that is not a reserved one keeps its name and gets no number (even `constructor`)', () => {
    const e = one('-> stack flow 0x1 , identity constructor->toString state new ifindex 0 orig-ip 0.0.0.0: 10.0.0.1 -> 10.0.1.1');
    expect(e).toMatchObject({ srcIdentityName: 'constructor', dstIdentityName: 'toString' });
    expect(e).not.toHaveProperty('srcIdentity');
    expect(e).not.toHaveProperty('dstIdentity');
    expect(reasonOf('-> stack flow 0x1 , identity 1->2 state new ifindex 0 orig-ip 0.0.0.0: 10.0.0.1:1 -> 10.0.1.1:2 tcp toString')).toMatch(/packet summary/);
  });

  it('link-layer only and IPv6 summaries', () => {
    expect(one('<- endpoint 745 flow 0x6851276 identity 4->0 state new ifindex 0 orig-ip 0.0.0.0: 8e:3c:a3:67:cc:1e -> 16:f9:cd:dc:87:e5 ARP').packet).toEqual({
      eth: { src: '8e:3c:a3:67:cc:1e', dst: '16:f9:cd:dc:87:e5', type: 'arp' },
    });
    expect(one('-> endpoint 7 flow 0x1 , identity 3->4 state new ifindex lxc1 orig-ip ::: [fd00::1]:53 -> [fd00::2]:4242 udp').packet).toEqual({
      ip: { version: 6, src: 'fd00::1', dst: 'fd00::2', proto: 'udp' }, l4: { proto: 'udp', srcPort: 53, dstPort: 4242 },
    });
  });
});

describe('-v trace records and their packet dumps', () => {
  // The seed (1.11.1): the dump of a trace stands BEFORE its record line.
  const seedDump = [
    'Ethernet {Contents=[..14..] Payload=[..86..] SrcMAC=d2:f1:29:4b:bd:9d DstMAC=fe:55:fa:02:ee:e5 EthernetType=IPv4 Length=0}',
    'IPv4 {Contents=[..20..] Payload=[..64..] Version=4 IHL=5 TOS=0 Length=84 Id=4532 Flags=DF FragOffset=0 TTL=63 Protocol=ICMPv4 Checksum=4795 SrcIP=10.0.1.135 DstIP=10.0.1.180 Options=[] Padding=[]}',
    'ICMPv4 {Contents=[..8..] Payload=[..56..] TypeCode=EchoRequest Checksum=58835 Id=22016 Seq=0}',
    'Failed to decode layer: No decoder for layer type Payload',
  ];
  const seedRecord = 'CPU 02: MARK 0x0 FROM 3663 to-endpoint: 98 bytes (98 captured), state new, interface lxcf9d0a91de5fb, , identity 31009->37483, orig-ip 10.0.1.135, to endpoint 3663';
  const seedPacket = {
    eth: { src: 'd2:f1:29:4b:bd:9d', dst: 'fe:55:fa:02:ee:e5', type: 'ipv4' },
    ip: { version: 4, src: '10.0.1.135', dst: '10.0.1.180', ttl: 63, id: 4532, proto: 'icmp', length: 84, tos: 0, flags: 'DF' },
    l4: { proto: 'icmp', icmpType: 'echo-request', icmpId: 22016, icmpSeq: 0 },
    length: 98,
  };

  it('a dump printed before its record is held, then given to the record line', () => {
    const { results, ctx } = run([...seedDump, seedRecord]);
    expect(results.slice(0, 4).map((r) => r.kind)).toEqual(['ignored', 'ignored', 'ignored', 'ignored']);
    expect(results[4]).toEqual({
      kind: 'event',
      event: {
        tool: 'monitor', type: 'trace', cpu: 2, mark: '0x0', endpoint: 3663, obsPoint: 'to-endpoint', bytes: 98,
        ctState: 'new', iface: 'lxcf9d0a91de5fb', srcIdentity: 31009, dstIdentity: 37483, origIp: '10.0.1.135',
        dstEndpoint: 3663, extraFields: { captured: '98' }, packet: seedPacket, dumpPosition: 'before', summary: seedRecord,
      },
    });
    expect(ctx).toEqual({});
  });

  it('a dump printed after its record (current agents, with a -vv separator) amends it line by line', () => {
    const { results } = run(['------------------------------------------------------------------------------', seedRecord, ...seedDump]);
    expect(results.map((r) => r.kind)).toEqual(['ignored', 'event', 'amend', 'amend', 'amend', 'amend']);
    expect(eventOf(results[1]).packet).toBeUndefined();
    expect(eventOf(results[3]).packet?.ip?.ttl).toBe(63);
    expect(eventOf(results[5])).toMatchObject({ dumpPosition: 'after', packet: seedPacket });
  });

  it('after a record that already has its dump, the next dump waits for the next record', () => {
    const { results } = run([...seedDump, seedRecord, ...seedDump, seedRecord]);
    expect(results.map((r) => r.kind)).toEqual(['ignored', 'ignored', 'ignored', 'ignored', 'event', 'ignored', 'ignored', 'ignored', 'ignored', 'event']);
    expect(eventOf(results[9]).dumpPosition).toBe('before');
  });

  it('a held dump no record line claims is dropped, not given to a later record', () => {
    const { results } = run([...seedDump, 'CPU 02: MARK 0x0 FROM 3663 DEBUG: CT verdict: New, revnat=0', seedRecord]);
    expect(eventOf(results[5]).packet).toBeUndefined();
  });

  it('a new Ethernet layer after a complete dump starts the next dump', () => {
    const { results } = run([seedRecord, ...seedDump, seedDump[0]]);
    expect(results.map((r) => r.kind)).toEqual(['event', 'amend', 'amend', 'amend', 'amend', 'ignored']);
  });

  it('a record with nothing captured does not take the dump that follows it', () => {
    const rec = 'CPU 01: MARK 0x5 FROM 12 from-endpoint: 98 bytes (0 captured), state new, interface lxc1, , identity 3->4, orig-ip 0.0.0.0';
    expect(run([rec, seedDump[0]]).results.map((r) => r.kind)).toEqual(['event', 'ignored']);
  });

  it('older -v field layouts: no `captured`, single comma before identity, to proxy-port, create-ct flags', () => {
    expect(one('CPU 01: MARK 0x7 FROM 12 to-proxy: 74 bytes, state new, interface lxc1, identity 3->4, orig-ip 0.0.0.0, to proxy-port 15001')).toMatchObject({
      obsPoint: 'to-proxy', bytes: 74, srcIdentity: 3, dstIdentity: 4, extraFields: { 'proxy-port': '15001' },
    });
    expect(one('CPU 01: MARK 0x7 [ IP-TRACE-ID = 9 ] FROM 12 from-endpoint: 74 bytes (74 captured), state established, orig-ip 10.0.0.1')).toMatchObject({
      obsPoint: 'from-endpoint', endpoint: 12, ctState: 'established', extraFields: { 'ip-trace-id': '9', captured: '74' },
    });
  });

  it('gopacket TCP and UDP layers', () => {
    const { results } = run([
      'CPU 00: MARK 0x1 FROM 5 to-stack: 74 bytes (74 captured), state new, identity 3->4, orig-ip 0.0.0.0',
      'TCP\t{Contents=[..40..] Payload=[] SrcPort=56944 DstPort=80(http) Seq=1711 Ack=0 DataOffset=10 FIN=false SYN=true RST=false PSH=false ACK=false URG=false ECE=false CWR=false NS=false Window=64240 Checksum=1 Urgent=0 Options=[TCPOption(MSS:1460 0x05b4), TCPOption(SACKPermitted:)] Padding=[]}',
    ]);
    expect(eventOf(results[1]).packet).toEqual({ l4: { proto: 'tcp', srcPort: 56944, dstPort: 80, tcpFlags: 'S', tcpSeq: 1711, payloadLength: 0 }, length: 74 });
    const udp = run([
      'CPU 00: MARK 0x1 FROM 5 to-stack: 74 bytes (74 captured), state new, identity 3->4, orig-ip 0.0.0.0',
      'UDP {Contents=[..8..] Payload=[..40..] SrcPort=53(domain) DstPort=42132 Length=48 Checksum=9}',
    ]).results[1];
    expect(eventOf(udp).packet?.l4).toEqual({ proto: 'udp', srcPort: 53, dstPort: 42132, payloadLength: 40 });
  });
});

describe('drops of every era', () => {
  it('1.0: `xx drop (reason) to endpoint N, identity A->B: summary` (no flow)', () => {
    expect(one('xx drop (Policy denied) to endpoint 25729, identity 261->264: 10.11.13.37 -> 10.11.101.61 EchoRequest')).toMatchObject({
      type: 'drop', dropReason: 'Policy denied', dropCode: 133, endpoint: 25729, srcIdentity: 261, dstIdentity: 264,
    });
  });

  it('1.7: with flow id', () => {
    const e = one('xx drop (Policy denied) flow 0x6d7b6dd0 to endpoint 1657, identity 6->51566: 172.16.9.243:47278 -> 172.16.8.21:9093 tcp SYN');
    expect(e).toMatchObject({ mark: '0x6d7b6dd0', dropCode: 133, srcIdentity: 6, dstIdentity: 51566 });
    expect(e).not.toHaveProperty('srcIdentityName');
  });

  it('1.10+: ifindex and `file bpf_lxc.c:N`, names and numbers of identities', () => {
    const e = one('xx drop (Policy denied) flow 0x0 to endpoint 0, ifindex 29, file bpf_lxc.c:1256, identity world->31009: 1.1.1.1:443 -> 10.0.1.135:3000 tcp SYN');
    expect(e).toMatchObject({ dropReason: 'Policy denied', dropCode: 133, ifindex: 29, dropFile: 'bpf_lxc.c', dropLine: 1256, srcIdentity: 2, srcIdentityName: 'world', dstIdentity: 31009 });
    expect(e).not.toHaveProperty('endpoint');
  });

  it('extended errors, bare codes, a reason with parentheses, `file X line N`, ip-trace-id', () => {
    expect(one('xx drop (Policy denied, -13) flow 0x1 to endpoint 0, ifindex 2, file bpf_lxc.c:1, identity 1->2: 10.0.0.1 -> 10.0.0.2')).toMatchObject({ dropReason: 'Policy denied', dropCode: 133, dropExtError: -13 });
    expect(one('xx drop (205, 0) flow 0x1 to endpoint 0, ifindex 2, file bpf_lxc.c:1, identity 1->2: 10.0.0.1 -> 10.0.0.2')).toMatchObject({ dropReason: 'Punt to proxy', dropCode: 205 });
    expect(one('xx drop (207) flow 0x1 to endpoint 0, identity 1->2: [unknown]')).toMatchObject({ dropReason: '207', dropCode: 207, packet: {} });
    expect(one('xx drop (No tunnel/encapsulation endpoint (datapath BUG!)) flow 0x1 to endpoint 0, ifindex 2, file bpf_host.c line 33, identity 1->2: 10.0.0.1 -> 10.0.0.2')).toMatchObject({
      dropReason: 'No tunnel/encapsulation endpoint (datapath BUG!)', dropCode: 160, dropFile: 'bpf_host.c', dropLine: 33,
    });
    expect(one('xx drop (Stale or unroutable IP) flow 0x1 to endpoint 0, ifindex 2, file bpf_host.c:9,  [ ip-trace-id = 4 ]identity 1->2: 10.0.0.1 -> 10.0.0.2')).toMatchObject({ dropCode: 151, extraFields: { 'ip-trace-id': '4' } });
  });

  it('-v drops: `DROP: N bytes, reason R, identity A->B, to endpoint N`, and the agents that printed `reason Ridentity`', () => {
    expect(one('CPU 01: MARK 0x3 FROM 2836 DROP: 98 bytes, reason Policy denied, identity 31009->37483, to endpoint 3663')).toMatchObject({
      type: 'drop', cpu: 1, endpoint: 2836, bytes: 98, dropCode: 133, srcIdentity: 31009, dstIdentity: 37483, dstEndpoint: 3663,
    });
    expect(one('CPU 01: MARK 0x3 FROM 2836 DROP: 98 bytes, reason Invalid identityidentity 31009->37483')).toMatchObject({ dropReason: 'Invalid identity', dropCode: 171 });
  });

  it('1.0 -vv: `Packet dropped 131 (Invalid destination mac) 70 bytes ifindex=0 284->0`', () => {
    expect(one('CPU 00: MARK 0x1c56d86c FROM 3978 Packet dropped 131 (Invalid destination mac) 70 bytes ifindex=0 284->0')).toMatchObject({
      type: 'drop', dropCode: 131, dropReason: 'Invalid destination mac', bytes: 70, srcIdentity: 284, dstIdentity: 0,
    });
  });
});

describe('policy verdicts of every era', () => {
  it('1.8: `remote ID N, dst port P, proto 6, ingress false, action allow, match L3-Only`', () => {
    expect(one('Policy verdict log: flow 0x614e9723 local EP ID 3459, remote ID 16777217, dst port 80, proto 6, ingress false, action allow, match L3-Only, 10.60.0.182:41510 -> 104.198.14.52:80 tcp SYN')).toMatchObject({
      type: 'policy-verdict', mark: '0x614e9723', endpoint: 3459, policyDirection: 'egress', verdict: 'allowed', policyMatch: 'L3-Only',
      dstIdentity: 16777217, extraFields: { 'dst port': '80', proto: '6' },
    });
  });

  it('1.9/1.10: `proto 6, ingress, action audit, match none`; remote names', () => {
    expect(one('Policy verdict log: flow 0x0 local EP ID 1687, remote ID 2, proto 6, ingress, action audit, match none, 10.0.2.2:47500 -> 10.0.2.15:6443 tcp SYN')).toMatchObject({
      policyDirection: 'ingress', verdict: 'audit', policyMatch: 'none', srcIdentity: 2,
    });
    expect(one('Policy verdict log: flow 0x0 local EP ID 3485, remote ID remote-node, proto 1, egress, action allow, match all, 10.152.2.203 -> 10.150.16.9 EchoRequest')).toMatchObject({
      policyDirection: 'egress', dstIdentity: 6, dstIdentityName: 'remote-node',
    });
  });

  it('1.14+: `action deny, auth: disabled, match L3-L4`', () => {
    expect(one('Policy verdict log: flow 0x1 local EP ID 12, remote ID world, proto 6, ingress, action deny, auth: disabled, match L3-L4, 1.1.1.1:1 -> 10.0.0.1:80 tcp SYN')).toMatchObject({
      verdict: 'denied', policyAuth: 'disabled', policyMatch: 'L3-L4', srcIdentity: 2,
    });
  });

  it('a space before the source port (the v1.8 docs copy) is read past; any other odd spacing leaves the line not understood', () => {
    const head = 'Policy verdict log: flow 0xabf3bda6 local EP ID 232, remote ID 31028, dst port 80, proto 6, ingress true, action allow, match L3-L4, ';
    expect(one(head + '10.0.0.112 :59824 -> 10.0.0.147:80 tcp SYN').packet?.l4).toEqual({ proto: 'tcp', srcPort: 59824, dstPort: 80, tcpFlags: 'S' });
    expect(reasonOf(head + '10.0.0.112:59824 ->10.0.0.147:80 tcp SYN')).toMatch(/packet summary/);
    expect(reasonOf(head + '10.0.0.112: 59824 -> 10.0.0.147:80 tcp SYN')).toMatch(/packet summary/);
  });
});

describe('L7, trace-sock, captures, agent and recorder records', () => {
  it('L7 HTTP request and response: requester first, verdict, detail', () => {
    const e = one('<- Request http from 0 ([k8s:class=tiefighter k8s:org=empire]) to 2756 ([k8s:class=deathstar]), identity 8876->43854, verdict Denied PUT http://deathstar.default.svc.cluster.local/v1/request-landing => 403');
    expect(e).toEqual({
      tool: 'monitor', type: 'l7', endpoint: 2756, policyDirection: 'ingress', srcIdentity: 8876, dstIdentity: 43854, verdict: 'denied',
      l7: {
        kind: 'request', proto: 'http', srcEndpoint: 0, dstEndpoint: 2756,
        srcLabels: ['k8s:class=tiefighter', 'k8s:org=empire'], dstLabels: ['k8s:class=deathstar'],
        detail: 'PUT http://deathstar.default.svc.cluster.local/v1/request-landing => 403',
      },
      summary: e.summary,
    });
  });

  it('L7 DNS response', () => {
    expect(one("-> Response dns to 3459 ([k8s:class=xwing]) from 0 ([k8s:k8s-app=kube-dns]), identity 323->15194, verdict Forwarded DNS Query: cilium.io. A TTL: 486 Answer: '104.198.14.52'")).toMatchObject({
      endpoint: 3459, policyDirection: 'egress', verdict: 'forwarded', l7: { kind: 'response', proto: 'dns', srcEndpoint: 3459, dstEndpoint: 0, detail: "DNS Query: cilium.io. A TTL: 486 Answer: '104.198.14.52'" },
    });
  });

  it('trace-sock', () => {
    expect(one('CPU 03: [post-xlate-fwd] cgroup_id: 16761 sock_cookie: 72480, dst [10.244.2.148]:80 tcp ')).toEqual({
      tool: 'monitor', type: 'trace-sock', cpu: 3,
      sock: { xlatePoint: 'post-xlate-fwd', cgroupId: '16761', cookie: '72480', dstIp: '10.244.2.148', dstPort: 80, proto: 'tcp' },
      summary: 'CPU 03: [post-xlate-fwd] cgroup_id: 16761 sock_cookie: 72480, dst [10.244.2.148]:80 tcp',
    });
  });

  it('debug captures: info `-> ifname: summary` and -v `DEBUG: N bytes, <what>` with its dump after', () => {
    expect(one('-> lxc_health: 16:f9:cd:dc:87:e5 -> 8e:3c:a3:67:cc:1e ARP')).toMatchObject({ type: 'capture', debugKind: 'delivery', iface: 'lxc_health' });
    expect(one('-> 0: 10.60.0.182:41510 -> 104.198.14.52:80 tcp ACK')).toMatchObject({ type: 'capture', debugKind: 'delivery', packet: { l4: { tcpFlags: '.' } } });
    expect(one('<- load-balancer cilium_host: 10.0.0.1 -> 10.0.0.2 icmp EchoRequest')).toMatchObject({ type: 'capture', debugKind: 'from-lb', iface: 'cilium_host' });
    expect(one('CPU 01: MARK 0x2 FROM 7 DEBUG: 98 bytes, Delivery to ifindex 24')).toMatchObject({ type: 'capture', debugKind: 'delivery', ifindex: 24, bytes: 98 });
    expect(one('CPU 01: MARK 0x2 FROM 7 DEBUG: 98 bytes, Packet to proxy port 15001 (Pre)')).toMatchObject({ debugKind: 'proxy-pre', extraFields: { 'proxy-port': '15001' } });
  });

  it('agent notifications and recorder captures', () => {
    expect(one('>> Endpoint regenerated: {"id":3663,"labels":["k8s:app=cni"]}')).toMatchObject({ type: 'agent', agentKind: 'Endpoint regenerated' });
    const { results } = run([
      'Recorder capture: dir:ingress rule:1 ts:8285743146 caplen:98 len:98',
      'Ethernet\t{Contents=[..14..] Payload=[..84..] SrcMAC=0e:fc:49:5b:00:dd DstMAC=7a:a2:51:7c:d4:40 EthernetType=IPv4 Length=0}',
      '----',
    ]);
    expect(results.map((r) => r.kind)).toEqual(['event', 'amend', 'ignored']);
    expect(eventOf(results[1])).toMatchObject({ type: 'recorder', bytes: 98, dumpPosition: 'after', extraFields: { dir: 'ingress', rule: '1' } });
  });
});

describe('-v DEBUG records', () => {
  const cases: Array<[string, Partial<MonitorEvent>]> = [
    ['CPU 02: MARK 0x0 FROM 2836 DEBUG: CT verdict: New, revnat=0', { debugKind: 'ct-verdict', ctState: 'new' }],
    ['CPU 00: MARK 0xbbe3d555 FROM 745 DEBUG: CT entry found lifetime=21925, revnat=0', { debugKind: 'ct-match', extraFields: { lifetime: '21925', revnat: '0' } }],
    ['CPU 02: MARK 0x0 FROM 2836 DEBUG: Successfully mapped addr=10.0.1.180 to identity=37483', { debugKind: 'identity-mapped', mappedAddr: '10.0.1.180', mappedIdentity: 37483 }],
    ['CPU 02: MARK 0x0 FROM 2836 DEBUG: Conntrack create: proxy-port=0 revnat=0 src-identity=31009 lb=0.0.0.0', { debugKind: 'ct-create', srcIdentity: 31009 }],
    ['CPU 02: MARK 0x0 FROM 2836 DEBUG: Attempting local delivery for container id 3663 from seclabel 31009', { debugKind: 'local-delivery', deliveryTo: 3663, srcIdentity: 31009 }],
    ['CPU 00: MARK 0xbbe3d555 FROM 0 DEBUG: Inheriting identity=1 from stack', { debugKind: 'inherit-identity', srcIdentity: 1 }],
    ['CPU 00: MARK 0x7dc2b704 FROM 3978 DEBUG: Handling ICMPv6 type=135', { debugKind: 'icmp6-handle', extraFields: { type: '135' } }],
    ['CPU 00: MARK 0x7dc2b704 FROM 3978 DEBUG: ICMPv6 neighbour soliciation for address b21a8c0:d68a0000', { debugKind: 'icmp6-ns' }],
    ['CPU 01: MARK 0x9 FROM 12 DEBUG: Conntrack lookup 1/2: src=[::a00:1]:80 dst=[::a00:2]:3000', { debugKind: 'ct-lookup', extraFields: { src: '[::a00:1]:80', dst: '[::a00:2]:3000' } }],
    ['CPU 01: MARK 0x9 FROM 12 DEBUG: Frontend service lookup, addr=10.96.0.10 key.dport=53', { debugKind: 'lb-frontend-lookup' }],
    ['CPU 01: MARK 0x9 FROM 12 DEBUG: L7 LB from 10.0.0.1 to 10.96.0.10: proxy port 15001', { debugKind: 'l7-lb' }],
    ['CPU 01: MARK 0x9 FROM 12 DEBUG: Some message a newer agent added', { debugKind: 'other' }],
  ];
  it.each(cases)('%s', (line, expected) => {
    expect(one(line)).toMatchObject({ type: 'debug', ...expected });
  });

  it('`Conntrack lookup 2/2` completes the 1/2 line; for ICMP the echo id is the port that is set', () => {
    const { results } = run([
      'CPU 02: MARK 0x0 FROM 3663 DEBUG: Conntrack lookup 1/2: src=10.0.1.180:0 dst=10.0.1.135:22016',
      'CPU 02: MARK 0x0 FROM 3663 DEBUG: Conntrack lookup 2/2: nexthdr=1 flags=1',
    ]);
    expect(results[0]).toMatchObject({ kind: 'event', event: { packet: { ip: { src: '10.0.1.180', dst: '10.0.1.135' } } } });
    expect(results[1]).toMatchObject({
      kind: 'amend',
      event: {
        debugKind: 'ct-lookup', endpoint: 3663,
        extraFields: { src: '10.0.1.180:0', dst: '10.0.1.135:22016', nexthdr: '1', flags: '1' },
        packet: { ip: { version: 4, src: '10.0.1.180', dst: '10.0.1.135', proto: 'icmp' }, l4: { proto: 'icmp', srcPort: 0, dstPort: 22016, icmpId: 22016 } },
      },
    });
  });

  it('a 2/2 line of another CPU or endpoint stands alone', () => {
    const { results } = run([
      'CPU 02: MARK 0x0 FROM 3663 DEBUG: Conntrack lookup 1/2: src=10.0.1.180:0 dst=10.0.1.135:22016',
      'CPU 01: MARK 0x0 FROM 3663 DEBUG: Conntrack lookup 2/2: nexthdr=6 flags=0',
    ]);
    expect(results[1]).toMatchObject({ kind: 'event', event: { debugKind: 'ct-lookup', packet: { l4: { proto: 'tcp' } } } });
  });

  it('a known message with anything after it (a pasted remark) is not understood', () => {
    expect(reasonOf('CPU 02: MARK 0x0 FROM 2836 DEBUG: Successfully mapped addr=10.0.1.180 to identity=37483 # 2. remark')).toMatch(/DEBUG message/);
  });
});

describe('stream lines and lines that are not monitor records', () => {
  it.each([
    ['Listening for events on 4 CPUs with 64x4096 of shared memory', { kind: 'meta', meta: { ready: true, note: 'Listening for events on 4 CPUs with 64x4096 of shared memory' } }],
    ['Listening for events on 2 CPUs with 64x4096 of shared memory   ', { kind: 'meta', meta: { ready: true, note: 'Listening for events on 2 CPUs with 64x4096 of shared memory' } }],
    ['Press Ctrl-C to quit', { kind: 'meta', meta: { ready: true } }],
    ['CPU 03: Lost 12 events', { kind: 'meta', meta: { note: 'CPU 03: Lost 12 events' } }],
    ['------------------------------------------------------------------------------', { kind: 'ignored', reason: 'record separator' }],
    ['level=info msg="Initializing dissection cache..." subsys=monitor', { kind: 'ignored', reason: 'agent log line' }],
    ['time=2026-03-10T13:10:36.8488477Z level=info msg="Initializing dissection cache..."', { kind: 'ignored', reason: 'agent log line' }],
    ['time="2020-03-31T10:00:00Z" level=info msg="Initializing dissection cache..." subsys=monitor', { kind: 'ignored', reason: 'agent log line' }],
    ['root@kind-worker:/home/cilium# cilium monitor --related-to 2927 -v -t trace', { kind: 'ignored', reason: 'shell prompt' }],
    ['', { kind: 'ignored', reason: 'blank line' }],
  ])('%j', (line, expected) => {
    expect(parseMonitorLine(line, monitorParser.initial()).result).toEqual(expected);
  });

  it.each([
    ['...', 'not a cilium monitor line'],
    ['Press Ctrl-C to qui', 'not a cilium monitor line'],
    ['Troubleshooting', 'not a cilium monitor line'],
    ['{"cpu":"CPU 02:","type":"trace"}', 'monitor JSON trace without observationPoint'],
    ['{"cpu":"CPU 02:","type":"trace"', 'monitor JSON cut short or pretty-printed (-j prints one object per line)'],
    ['{"cpu":"CPU 02:","type":"frobnicate"}', 'monitor JSON record type not understood: frobnicate'],
    ['-> endpoint 745 flow 0xbbe3d555 identity 1->4 state established', 'trace line not understood'],
    ['-> somewhere: 10.0.0.1 -> 10.0.0.2 tcp', 'packet summary not understood: 10.0.0.1 -> 10.0.0.2 tcp'],
    ['<- elsewhere 12 10.0.0.1', 'arrow line not understood'],
    ['xx drop (Policy denied) flow 0x1 to endpoint 0', 'drop line not understood'],
    ['CPU 02: MARK 0x0 FROM 3663 to-endpoint: 98 bytes (98 captured), state new, interface lxc1, mystery field', '-v trace field not understood: mystery field'],
    ['CPU 02: MARK 0x0 FROM 3663 to-endpoint: 98 bytes (98 captured), state new, to endpoint 3663 CPU 02: MARK 0x0 FROM 3663 DEBUG: CT verdict: Reply, revnat=0', 'several monitor records on one line (see splitMonitorRecords)'],
    ['00000010  00 00', 'hex dump line not understood'],
  ])('%j is not understood', (line, reason) => {
    expect(reasonOf(line)).toBe(reason);
  });

  it('never throws, whatever prefix of a real line it is given', () => {
    const lines = fixtureFiles().flatMap(([dir, file]) => readFixture(join(FIXTURES, dir, file)).body);
    let ctx = monitorParser.initial();
    for (const line of lines) {
      for (let end = 0; end <= line.length; end += 3) {
        ctx = parseMonitorLine(line.slice(0, end), ctx).ctx;
      }
    }
    expect(lines.length).toBeGreaterThan(150);
  });

  it('is pure: the same line and context give the same result, and the context is not changed', () => {
    const dump = 'Ethernet {Contents=[..14..] Payload=[..86..] SrcMAC=d2:f1:29:4b:bd:9d DstMAC=fe:55:fa:02:ee:e5 EthernetType=IPv4 Length=0}';
    const held = parseMonitorLine(dump, monitorParser.initial()).ctx;
    const snapshot = JSON.stringify(held);
    const record = 'CPU 02: MARK 0x0 FROM 3663 to-endpoint: 98 bytes (98 captured), state new, interface lxcf9d0a91de5fb, , identity 31009->37483, orig-ip 10.0.1.135, to endpoint 3663';
    const a = parseMonitorLine(record, held);
    const b = parseMonitorLine(record, held);
    expect(a).toEqual(b);
    expect(JSON.stringify(held)).toBe(snapshot);
  });
});

// ---- golden tests over every monitor fixture --------------------------------------------------

function fixtureFiles(): Array<[string, string]> {
  const real = readdirSync(join(FIXTURES, 'cilium-monitor')).filter((f) => f.endsWith('.txt')).sort();
  return [
    ...real.map((f): [string, string] => ['cilium-monitor', f]),
    ['seed', 'cilium-monitor-v.txt'],
    ['seed', 'cilium-monitor-v-raw.txt'],
  ];
}

/**
 * Lines of each real fixture that stay not understood, all named in its `# note:` header (author
 * remarks, doc typos, truncation), except docs-v1.13-trace-sock.txt: its body holds no monitor
 * output at all (a cgroup path and the next heading of the doc page) and its header says nothing
 * about it.
 */
const EXPECTED_UNPARSED: Record<string, string[]> = {
  'blog-ko-iptables-mark-after-host.txt': [],
  'blog-ko-iptables-mark-before-world.txt': [],
  'blog-zh-socklb-trace-sock-network-v1.18.txt': ['Press Ctrl-C to qui'],
  'docs-l7-http-verbose.txt': [],
  'docs-troubleshooting-drop-policy-denied.txt': [],
  'docs-v1.0-vv-hex-debug-dropped.txt': [],
  'docs-v1.10-host-firewall-policy-verdict-audit.txt': [],
  'docs-v1.12-servicemesh-ingress-l7.txt': [],
  'docs-v1.13-trace-sock.txt': [
    '    /run/cilium/cgroupv2/kubelet.slice/kubelet-kubepods.slice/kubelet-kubepods-besteffort.slice/kubelet-kubepods-besteffort-podb620703c_c446_49c7_84c8_e23f4ba5626b.slice/cri-containerd-4e7fc71c8bef8c05c9fb76d93a186736fca266e668722e1239fe64503b3e80d3.scope',
    'Troubleshooting',
    '***************',
  ],
  'docs-v1.7-upgrade-drop-remote-node.txt': [],
  'docs-v1.8-debugging-dns-related-to.txt': [],
  // The stray space in `10.0.0.112 :59824` (a copy artifact of the docs) no longer costs the verdict.
  'docs-v1.8-policy-verdict-allow-L3-L4.txt': [],
  'docs-v1.8-policy-verdict-audit.txt': ['...'],
  'docs-v1.8-verbose-debug-lxc_health.txt': [],
  'gh-cilium-cli-issue367-policy-verdict-match-all.txt': [],
  'gh-cilium-issue2492-2018-v1.0-forward-at-to-endpoint.txt': [],
  'gh-cilium-issue3339-2018-endpoint-stack-host.txt': [],
  'notes-zh-minikube-related-to-host-to-pod.txt': [],
  'docs-v1.13-kubeproxy-free-trace-sock-four-xlate-records.txt': [],
  'gh-cilium-issue10983-2020-v-debug-slave-service-lookup-revnat-reply.txt': [],
  'gh-cilium-issue16399-2021-v-debug-nodeport-service-backend-slot-conntrack-create.txt': [],
  'gh-cilium-issue23852-2023-v1.14dev-ipv6-ns-na-lxc-debug.txt': [],
  'gh-cilium-issue26128-v1.15.7-drop-fib-lookup-failed-nodeport-wg0.txt': [],
  'gh-cilium-issue36901-v1.16.5-drop-no-tunnel-endpoint-dsr-geneve.txt': [],
  // The prompt `# cilium monitor -t drop` is recognised as one.
  'gh-cilium-issue5496-v1.2.1-drop-unknown-l3-target-policy-denied-l3-ipv6-nd.txt': [],
  // The gopacket lines with spaces instead of a tab after `Ethernet` are read as dump lines.
  'gh-cilium-issue6305-2018-v-drop-invalid-source-ip-llc.txt': [],
  // "The JSON was pretty-printed by the author (the tool prints one compact JSON object per line)
  // and is cut ...: not valid JSON": every line of it stays not understood; the compact form is
  // tested below ("cilium monitor -j").
  'gh-cilium-pr6371-2018-l7-dns-text-and-json-logrecord-fragment.txt': [
    '{', '  "type": "logRecord",', '  "observationPoint": "Egress",', '  "flowType": "Request",', '  "l7Proto": "dns",',
    '  "srcEpID": 54882,', '  "srcEpLabels": [', '    "k8s:io.kubernetes.pod.namespace=default",', '    "k8s:org=alliance",',
    '    "k8s:class=xwing",', '    "k8s:io.cilium.k8s.policy.cluster=default",',
  ],
  'gh-notes-2023-kind-drop-stale-unroutable-ip-old-coredns.txt': [],
  'gh-notes-2026-policy-verdict-redirect-l4only-deny-denylist-cidr-identity.txt': [],
};

describe('golden: every monitor fixture', () => {
  it.each(fixtureFiles())('%s/%s', (dir, file) => {
    const { body, bodyStartLine } = readFixture(join(FIXTURES, dir, file));
    expectGolden(rowsJson(resultRows(run(body).results, bodyStartLine)), join(GOLDEN, `${dir === 'seed' ? 'seed-' : ''}${file.replace(/\.txt$/, '')}.events.json`));
  });

  it('lists an expectation for every real fixture', () => {
    expect(Object.keys(EXPECTED_UNPARSED).sort()).toEqual(fixtureFiles().filter(([d]) => d === 'cilium-monitor').map(([, f]) => f));
  });

  it.each(Object.entries(EXPECTED_UNPARSED))('%s: only the lines its header names stay not understood', (file, expected) => {
    const { header, body } = readFixture(join(FIXTURES, 'cilium-monitor', file));
    expect(header[0]).toMatch(/^# source: /);
    const { results } = run(body);
    const unparsed = body.filter((_, i) => results[i].kind === 'unparsed');
    expect(unparsed).toEqual(expected);
  });

  it('the re-split seed parses fully, every dump attached to its to-endpoint record', () => {
    const { body } = readFixture(join(FIXTURES, 'seed', 'cilium-monitor-v.txt'));
    const { results } = run(body);
    expect(results.filter((r) => r.kind === 'unparsed')).toEqual([]);
    const traces = results.filter((r) => r.kind === 'event' && r.event.type === 'trace').map((r) => eventOf(r));
    expect(traces.map((t) => [t.endpoint, t.ctState, t.packet?.l4?.icmpType, t.packet?.l4?.icmpId, t.packet?.ip?.ttl, t.dumpPosition])).toEqual([
      [3663, 'new', 'echo-request', 22016, 63, 'before'],
      [2836, 'reply', 'echo-reply', 22016, 63, 'before'],
    ]);
  });

  it('the raw seed: only lines with remarks or joined records stay not understood', () => {
    const { body } = readFixture(join(FIXTURES, 'seed', 'cilium-monitor-v-raw.txt'));
    const { results } = run(body);
    const unparsed = body.flatMap((line, i) => (results[i].kind === 'unparsed' ? [[i + 1, line] as const] : []));
    // 1, 4, 7, 15: a remark after `# N.`; 13 and 19: several records joined (13 also carries remarks).
    expect(unparsed.map(([n]) => n)).toEqual([1, 4, 7, 13, 15, 19]);
    for (const [, line] of unparsed) expect(/ # \d\./.test(line) || / CPU \d+: MARK /.test(line)).toBe(true);
  });

  it('the raw seed cut with splitMonitorRecords: only the pieces carrying a remark stay not understood', () => {
    const { body } = readFixture(join(FIXTURES, 'seed', 'cilium-monitor-v-raw.txt'));
    const pieces = body.flatMap(splitMonitorRecords);
    const { results } = run(pieces);
    const unparsed = pieces.filter((_, i) => results[i].kind === 'unparsed');
    expect(unparsed.length).toBe(7);
    for (const piece of unparsed) expect(piece).toMatch(/ # \d\./);
    // The joined last line still yields the reply's dump and its to-endpoint record.
    const last = eventOf(results[results.length - 1]);
    expect(last).toMatchObject({ type: 'trace', endpoint: 2836, ctState: 'reply', dumpPosition: 'before', packet: { l4: { icmpType: 'echo-reply', icmpId: 22016 } } });
  });
});

describe('DEBUG message table', () => {
  it('has no prefix that starts another one: a message fits one entry at most, whatever order they are tried in', () => {
    for (const a of DEBUG_MESSAGE_PREFIXES) {
      for (const b of DEBUG_MESSAGE_PREFIXES) if (a !== b) expect(`${b} starts with ${a}: ${b.startsWith(a)}`).toBe(`${b} starts with ${a}: false`);
    }
  });

  it('tells a known message printed whole, a known one cut or extended, and an unknown one apart', () => {
    expect(parseDebugMessage('CT verdict: New, revnat=0')).toEqual({ kind: 'ct-verdict', args: { verdict: 'New', revnat: '0' } });
    expect(parseDebugMessage('CT verdict: New')).toBeUndefined();
    expect(parseDebugMessage('CT verdict: New, revnat=0 (pasted remark)')).toBeUndefined();
    expect(parseDebugMessage('CT frobnicated: 7')).toEqual({ kind: 'other', args: {} });
  });
});

// ---- round-2 fixtures: what the correlation needs from drops and verdicts -------------------------

function fixtureEvents(file: string): MonitorEvent[] {
  const { body } = readFixture(join(FIXTURES, 'cilium-monitor', file));
  return run(body).results.filter((r) => r.kind === 'event').map(eventOf);
}

type DropFacts = Pick<MonitorEvent, 'dropReason' | 'dropCode' | 'dropExtError' | 'dropFile' | 'dropLine' | 'srcIdentity' | 'dstIdentity' | 'srcIdentityName' | 'dstIdentityName' | 'ifindex' | 'mark'>;

function dropFacts(e: MonitorEvent): DropFacts {
  const { dropReason, dropCode, dropExtError, dropFile, dropLine, srcIdentity, dstIdentity, srcIdentityName, dstIdentityName, ifindex, mark } = e;
  return JSON.parse(JSON.stringify({ dropReason, dropCode, dropExtError, dropFile, dropLine, srcIdentity, dstIdentity, srcIdentityName, dstIdentityName, ifindex, mark })) as DropFacts;
}

describe('drop formats of every era (round-2 fixtures)', () => {
  it('1.2 `identity A->B` with numbers only, reasons with parentheses inside: `Policy denied (L3)`', () => {
    const drops = fixtureEvents('gh-cilium-issue5496-v1.2.1-drop-unknown-l3-target-policy-denied-l3-ipv6-nd.txt');
    expect(drops.map(dropFacts).slice(0, 3)).toEqual([
      { dropReason: 'Invalid destination mac', dropCode: 131, mark: '0x61b2d9a8', srcIdentity: 4, dstIdentity: 0 },
      { dropReason: 'Unknown L3 target address', dropCode: 150, mark: '0x1f270bb6', srcIdentity: 0, dstIdentity: 0 },
      { dropReason: 'Policy denied (L3)', dropCode: 133, mark: '0xdd1bea99', srcIdentity: 5, dstIdentity: 7479 },
    ]);
    expect(drops[2].packet).toEqual({ ip: { version: 4, src: '10.2.1.205', dst: '10.2.2.169', proto: 'udp' }, l4: { proto: 'udp', srcPort: 38631, dstPort: 53 } });
  });

  it('1.15 `(FIB lookup failed, 8)`: the code and the extended code both kept, file:line and ifindex', () => {
    const [drop] = fixtureEvents('gh-cilium-issue26128-v1.15.7-drop-fib-lookup-failed-nodeport-wg0.txt');
    expect(dropFacts(drop)).toEqual({
      dropReason: 'FIB lookup failed', dropCode: 169, dropExtError: 8, dropFile: 'nodeport.h', dropLine: 2576, ifindex: 221, mark: '0xd0a2649f',
      srcIdentity: 0, srcIdentityName: 'unknown', dstIdentity: 0, dstIdentityName: 'unknown',
    });
  });

  it('1.16 a reason with parentheses inside `(No tunnel/encapsulation endpoint (datapath BUG!))`', () => {
    const [drop] = fixtureEvents('gh-cilium-issue36901-v1.16.5-drop-no-tunnel-endpoint-dsr-geneve.txt');
    expect(dropFacts(drop)).toEqual({
      dropReason: 'No tunnel/encapsulation endpoint (datapath BUG!)', dropCode: 160, dropFile: 'nodeport.h', dropLine: 2320, ifindex: 2, mark: '0x91b4c88a',
      srcIdentity: 0, srcIdentityName: 'unknown', dstIdentity: 0, dstIdentityName: 'unknown',
    });
    expect(drop.packet?.l4).toEqual({ proto: 'tcp', srcPort: 57126, dstPort: 443, tcpFlags: 'S' });
  });

  it('`to endpoint 0, , identity A->unknown` (1.12/1.13): the empty field is skipped, the unknown destination named', () => {
    const [drop] = fixtureEvents('gh-notes-2023-kind-drop-stale-unroutable-ip-old-coredns.txt');
    expect(dropFacts(drop)).toEqual({ dropReason: 'Stale or unroutable IP', dropCode: 151, mark: '0x29e44ff', srcIdentity: 10977, dstIdentity: 0, dstIdentityName: 'unknown' });
  });

  it('-v `DROP: 93 bytes, reason Invalid source ip, to ifindex 0, identity A->B` with its gopacket dump (spaces, not a tab)', () => {
    const { body } = readFixture(join(FIXTURES, 'cilium-monitor', 'gh-cilium-issue6305-2018-v-drop-invalid-source-ip-llc.txt'));
    const results = run(body).results;
    const drop = results.map((r) => (r.kind === 'event' || r.kind === 'amend' ? r.event : undefined)).filter((e) => e?.type === 'drop').at(-1)!;
    expect(drop).toMatchObject({ type: 'drop', dropReason: 'Invalid source ip', endpoint: 19049, srcIdentity: 41288, dstIdentity: 0, bytes: 93 });
    expect(drop.packet?.eth).toEqual({ src: '11:ff:fe:80:00:00', dst: '60:09:c1:c9:00:35', type: 'LLC' });
  });

  it('policy verdicts with `auth: disabled`: action redirect/allow/deny and match L3-L4/L4-Only/L3-Only; the deny and its drop share the flow mark', () => {
    const events = fixtureEvents('gh-notes-2026-policy-verdict-redirect-l4only-deny-denylist-cidr-identity.txt');
    expect(events.map((e) => [e.type, e.mark, e.endpoint, e.verdict, e.policyMatch, e.policyDirection, e.policyAuth, e.dstIdentity, e.dropReason, e.dropCode])).toEqual([
      ['policy-verdict', '0x71a33ed2', 1870, 'redirected', 'L3-L4', 'egress', 'disabled', 37156, undefined, undefined],
      ['policy-verdict', '0xd352d9ee', 1870, 'allowed', 'L4-Only', 'egress', 'disabled', 16777231, undefined, undefined],
      ['policy-verdict', '0x95844764', 1870, 'allowed', 'L4-Only', 'egress', 'disabled', 16777233, undefined, undefined],
      ['policy-verdict', '0x5bf2e672', 1870, 'denied', 'L3-Only', 'egress', 'disabled', 16777218, undefined, undefined],
      ['drop', '0x5bf2e672', undefined, undefined, undefined, undefined, undefined, 16777218, 'Policy denied by denylist', 181],
      ['policy-verdict', '0x1c5243d9', 1870, 'denied', 'L3-Only', 'egress', 'disabled', 16777217, undefined, undefined],
      ['drop', '0x1c5243d9', undefined, undefined, undefined, undefined, undefined, 16777217, 'Policy denied by denylist', 181],
    ]);
    expect(events[4]).toMatchObject({ dropFile: 'bpf_lxc.c', dropLine: 1651, ifindex: 25, srcIdentity: 25917 });
  });
});

// The 1.16+ `Conntrack lookup 2/2` wording is the one issue 9 quotes (`nexthdr=6 flags=0 dir=0
// scope=0`); the stored cilium sources here (pkg/monitor/datapath_debug.go) are older and print
// `nexthdr=%d flags=%d` (ctLookup4Info2) and, in one version, `CT lookup: ... flags=%d` numerically.
describe('DEBUG wording of 1.16+ and the monitor client lines', () => {
  it('`Conntrack lookup 2/2: nexthdr=6 flags=0 dir=0 scope=0` completes the 1/2 line, dir and scope kept', () => {
    const lines = [
      'CPU 01: MARK 0x0 FROM 3349 DEBUG: Conntrack lookup 1/2: src=10.0.1.218:40000 dst=10.0.0.90:80',
      'CPU 01: MARK 0x0 FROM 3349 DEBUG: Conntrack lookup 2/2: nexthdr=6 flags=0 dir=0 scope=0',
    ];
    const last = run(lines).results[1];
    expect(last.kind).toBe('amend');
    expect(eventOf(last).packet).toEqual({ ip: { version: 4, src: '10.0.1.218', dst: '10.0.0.90', proto: 'tcp' }, l4: { proto: 'tcp', srcPort: 40000, dstPort: 80 } });
    expect(eventOf(last).extraFields).toEqual({ src: '10.0.1.218:40000', dst: '10.0.0.90:80', nexthdr: '6', flags: '0', dir: '0', scope: '0' });
  });

  it('the older `CT lookup: ... flags=N` with a numeric flags field is a known message', () => {
    expect(parseDebugMessage('CT lookup: sport=0 dport=80 nexthdr=6 flags=1')).toEqual({ kind: 'ct-lookup-ports', args: { sport: '0', dport: '80', nexthdr: '6', flags: '1' } });
  });

  it('`Received an interrupt, disconnecting from monitor...` (Ctrl-C) is the client, understood', () => {
    expect(parseMonitorLine('Received an interrupt, disconnecting from monitor...', monitorParser.initial()).result).toEqual({ kind: 'ignored', reason: 'monitor stopped by Ctrl-C' });
  });
});

/*
 * cilium monitor -j. The only public example (gh-cilium-pr6371) is pretty-printed and cut, so not
 * understood (above). The lines here are laid out with the json tags of cilium pkg/monitor:
 * - FROM THE FIXTURE: the logRecord, compacted to one line as the tool prints it, with the fields
 *   the fixture shows (type, observationPoint, flowType, l7Proto, srcEpID, srcEpLabels) and the
 *   rest (dstEpID 56347, identities 5229->104, verdict, dns query) from the text record of the
 *   same event on the fixture's first line.
 * - DERIVED FROM THE SOURCE: drop (DropNotifyVerbose), trace (TraceNotifyVerbose), debug
 *   (DebugMsg.getJSON) and capture (DebugCaptureVerbose), with the values of the seed's ping.
 */
describe('cilium monitor -j', () => {
  it('logRecord from the fixture, compacted: the same L7 request as the text line of the same event', () => {
    const json = '{"type":"logRecord","observationPoint":"Egress","flowType":"Request","l7Proto":"dns","srcEpID":54882,"srcEpLabels":["k8s:io.kubernetes.pod.namespace=default","k8s:org=alliance","k8s:class=xwing","k8s:io.cilium.k8s.policy.cluster=default"],"srcIdentity":5229,"dstEpID":56347,"dstEpLabels":["k8s:k8s-app=kube-dns"],"dstIdentity":104,"verdict":"Forwarded","dns":{"query":"google.com."}}';
    const e = one(json);
    const { body } = readFixture(join(FIXTURES, 'cilium-monitor', 'gh-cilium-pr6371-2018-l7-dns-text-and-json-logrecord-fragment.txt'));
    const text = one(body[0]);
    expect({ ...e, summary: '', l7: { ...e.l7!, srcLabels: [], dstLabels: [] } }).toEqual({ ...text, summary: '', l7: { ...text.l7!, srcLabels: [], dstLabels: [] } });
    expect(e.l7?.srcLabels).toContain('k8s:class=xwing');
  });

  it('drop (source-derived): reason with its extended code, File id named, identities, the packet from the summary layers', () => {
    const json = '{"cpu":"CPU 03:","type":"drop","mark":"0xd0a2649f","reason":"FIB lookup failed, 8","source":0,"bytes":66,"srcLabel":0,"dstLabel":0,"dstID":0,"Line":2576,"File":104,"ExtError":8,"Ifindex":221,"summary":{"ipv4":"IPv4\\t{Contents=[..20..] Payload=[..32..] Version=4 IHL=5 TOS=0 Length=52 Id=0 Flags=DF FragOffset=0 TTL=64 Protocol=TCP Checksum=0 SrcIP=172.20.24.10 DstIP=172.20.24.11 Options=[] Padding=[]}","tcp":"TCP\\t{Contents=[..32..] Payload=[] SrcPort=30992 DstPort=44310 Seq=1 Ack=2 DataOffset=8 FIN=false SYN=false RST=false PSH=false ACK=true URG=false ECE=false CWR=false NS=false Window=502 Checksum=0 Urgent=0 Options=[] Padding=[]}","l3":{"src":"172.20.24.10","dst":"172.20.24.11"},"l4":{"src":"30992","dst":"44310"}}}';
    expect(one(json)).toEqual({
      tool: 'monitor', type: 'drop', cpu: 3, mark: '0xd0a2649f', summary: json, dropReason: 'FIB lookup failed', dropCode: 169, dropExtError: 8,
      dropFile: 'nodeport.h', dropLine: 2576, ifindex: 221, bytes: 66, srcIdentity: 0, dstIdentity: 0,
      packet: { length: 66, ip: { version: 4, src: '172.20.24.10', dst: '172.20.24.11', ttl: 64, id: 0, proto: 'tcp', length: 52, tos: 0, flags: 'DF' }, l4: { proto: 'tcp', srcPort: 30992, dstPort: 44310, tcpFlags: '.', tcpSeq: 1, tcpAck: 2, payloadLength: 0 } },
    });
  });

  it('trace (source-derived): observation point, state, interface name, endpoint and identities like the -v record', () => {
    const json = '{"cpu":"CPU 02:","type":"trace","mark":"0x0","ifindex":"lxcf9d0a91de5fb","state":"new","observationPoint":"to-endpoint","traceSummary":"-> endpoint 3663","source":3663,"bytes":98,"srcLabel":31009,"dstLabel":37483,"dstID":3663,"summary":{"ipv4":"IPv4\\t{Contents=[..20..] Payload=[..64..] Version=4 IHL=5 TOS=0 Length=84 Id=4532 Flags=DF FragOffset=0 TTL=63 Protocol=ICMPv4 Checksum=0 SrcIP=10.0.1.135 DstIP=10.0.1.180 Options=[] Padding=[]}","icmpv4":"ICMPv4\\t{Contents=[..8..] Payload=[..56..] TypeCode=EchoRequest Checksum=0 Id=22016 Seq=0}","l3":{"src":"10.0.1.135","dst":"10.0.1.180"}}}';
    const text = 'CPU 02: MARK 0x0 FROM 3663 to-endpoint: 98 bytes (98 captured), state new, interface lxcf9d0a91de5fb, , identity 31009->37483, orig-ip 10.0.1.135, to endpoint 3663';
    const e = one(json);
    const t = one(text);
    for (const k of ['type', 'cpu', 'mark', 'endpoint', 'obsPoint', 'ctState', 'iface', 'srcIdentity', 'dstIdentity', 'dstEndpoint', 'bytes'] as const) expect([k, e[k]]).toEqual([k, t[k]]);
    expect(e.packet?.l4).toEqual({ proto: 'icmp', icmpType: 'echo-request', icmpId: 22016, icmpSeq: 0 });
  });

  it('debug (source-derived): the message read exactly as the text DEBUG record, CT lookup halves paired', () => {
    const lines = [
      '{"cpu":"CPU 01:","type":"debug","message":"Conntrack lookup 1/2: src=10.0.1.135:22016 dst=10.0.1.180:0"}',
      '{"cpu":"CPU 01:","type":"debug","message":"Conntrack lookup 2/2: nexthdr=1 flags=0 dir=0 scope=0"}',
      '{"cpu":"CPU 01:","type":"debug","message":"CT verdict: New, revnat=0"}',
    ];
    const results = run(lines).results;
    expect(results.map((r) => r.kind)).toEqual(['event', 'amend', 'event']);
    expect(eventOf(results[1]).packet?.l4).toEqual({ proto: 'icmp', srcPort: 22016, dstPort: 0, icmpId: 22016 });
    expect(eventOf(results[2])).toMatchObject({ type: 'debug', cpu: 1, debugKind: 'ct-verdict', ctState: 'new' });
  });

  it('capture (source-derived): the kind from its message, the packet from its summary text', () => {
    const json = '{"cpu":"CPU 00:","type":"capture","mark":"0x1","message":"Delivery to ifindex 17","prefix":"-> lxc1","source":3663,"bytes":98,"summary":"10.0.1.135 -> 10.0.1.180 icmp EchoRequest"}';
    expect(one(json)).toMatchObject({ type: 'capture', debugKind: 'delivery', ifindex: 17, endpoint: 3663, bytes: 98, packet: { ip: { src: '10.0.1.135', dst: '10.0.1.180' } } });
  });

  it('a -j stream mixes JSON and `Policy verdict log:` text (format.go prints verdicts with DumpInfo): both understood', () => {
    const lines = [
      '{"cpu":"CPU 01:","type":"debug","message":"CT verdict: New, revnat=0"}',
      'Policy verdict log: flow 0x71a33ed2 local EP ID 1870, remote ID 37156, proto 17, egress, action redirect, auth: disabled, match L3-L4, 10.244.5.5:59873 -> 10.244.1.63:53 udp',
    ];
    expect(run(lines).results.map((r) => r.kind)).toEqual(['event', 'event']);
  });
});

describe('a policy verdict whose tuple has a space before the port (v1.8 docs copy)', () => {
  it('docs-v1.8-policy-verdict-allow-L3-L4: the whole verdict, tuple read as if joined', () => {
    const { body } = readFixture(join(FIXTURES, 'cilium-monitor', 'docs-v1.8-policy-verdict-allow-L3-L4.txt'));
    const { results } = run(body);
    expect(results.map((r) => (r.kind === 'event' ? { ...r.event, summary: undefined } : r.kind))).toEqual([{
      tool: 'monitor', type: 'policy-verdict', mark: '0xabf3bda6', summary: undefined, endpoint: 232, verdict: 'allowed',
      policyMatch: 'L3-L4', policyDirection: 'ingress', srcIdentity: 31028,
      packet: { ip: { version: 4, src: '10.0.0.112', dst: '10.0.0.147', proto: 'tcp' }, l4: { proto: 'tcp', srcPort: 59824, dstPort: 80, tcpFlags: 'S' } },
      extraFields: { 'dst port': '80', proto: '6' },
    }]);
  });
});
