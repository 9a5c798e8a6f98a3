/**
 * Legacy host routing as Cilium does it (kernel/bpf/datapath.bpf.c cites the source):
 * - `legacy` (endpoint routes off, Cilium's default): same-node pod traffic is still delivered by
 *   BPF, bpf_redirect() to the egress of the destination lxc: both lxcs see the packet, yet the
 *   node's netfilter sees nothing (no ip_forward, no FORWARD); traffic to another node goes to
 *   the stack (native routing) or is redirected into the tunnel device (VXLAN).
 * - `legacy-endpoint-routes`: bpf_lxc does no local delivery, the node's stack forwards
 *   same-node traffic by the endpoint route (ip_forward, FORWARD chain).
 */
import { spawn, spawnSync } from 'node:child_process';
import { describeAsRoot } from './require-root.js';
import { emulated, icmpLines, icmpTraceIn, ping, pwruFuncs, quiet, settle, tcpdump, useLab, type TestLab } from './lab-harness.js';

/** tcpdump on both lxcs and the destination pod's eth0 while one ping same -> cni-6vf5d runs. */
async function sameNodeCaptures(l: TestLab): Promise<{ out: string; sameLxc: ReturnType<typeof icmpLines>; cniLxc: ReturnType<typeof icmpLines>; cniEth0: ReturnType<typeof icmpLines> }> {
  const same = l.pod('same');
  const cni = l.pod('cni-6vf5d');
  const node = l.nodeNetns('bpf1');
  const caps = [tcpdump(node, same.lxc!.name, ['icmp']), tcpdump(node, cni.lxc!.name, ['icmp']), tcpdump(cni.netns!, 'eth0', ['icmp'])];
  await Promise.all(caps.map((c) => c.ready));
  const out = ping(same.netns!, cni.ip);
  await settle();
  await Promise.all(caps.map((c) => c.stop()));
  const [sameLxc, cniLxc, cniEth0] = caps.map((c) => icmpLines(c.stdout()));
  return { out, sameLxc, cniLxc, cniEth0 };
}

describeAsRoot('lab in legacy mode (native routing, endpoint routes off)', () => {
  const lab = useLab({ mode: 'legacy', tunnel: 'disabled', monitorAggregation: 'medium' }, 'legacy');

  it('delivers same-node pod traffic by bpf_redirect to the destination lxc: both lxcs see both directions', async () => {
    const l = lab();
    const { out, sameLxc, cniLxc, cniEth0 } = await sameNodeCaptures(l);
    expect(out).toContain('ttl=63'); // ipv4_l3 in ipv4_local_delivery, once per direction
    for (const c of [sameLxc, cniLxc, cniEth0]) expect([c.requests.length, c.replies.length]).toEqual([1, 1]);
    expect(cniEth0.requests[0]).toContain(`${l.pod('cni-6vf5d').lxc!.mac} > ${l.pod('cni-6vf5d').mac}`);
  }, 30000);

  it('bypasses the node netfilter for same-node traffic: an iptables TRACE rule in the node sees no ICMP', async () => {
    const l = lab();
    const out = await icmpTraceIn(l.nodeNetns('bpf1'), () => ping(l.pod('same').netns!, l.pod('cni-6vf5d').ip));
    expect(out).not.toContain('PACKET');
  }, 30000);

  it('routes cross-node traffic through both nodes stacks: TRACE fires in FORWARD, TTL down by bpf_lxc and two routers', async () => {
    const l = lab();
    let reply = '';
    const out = await icmpTraceIn(l.nodeNetns('bpf1'), () => {
      reply = ping(l.pod('same').netns!, l.pod('cni-x7k2m').ip);
    });
    // 64 - bpf_lxc's ipv4_l3 (pass_to_stack with ENABLE_ROUTING) - bpf1's and bpf2's ip_forward.
    expect(reply).toContain('ttl=61');
    expect(out).toMatch(new RegExp(`PACKET: 2 \\w+ IN=${l.pod('same').lxc!.name} .*SRC=10\\.0\\.1\\.135 DST=10\\.0\\.2\\.41`));
    expect(out).toContain('filter:FORWARD:rule:0x');
  }, 30000);

  it('emulated monitor: -> endpoint from the source lxc for same-node, -> stack for the other node', async () => {
    const l = lab();
    const monitor = emulated(l, 'bpf1', 'cilium-dbg', ['monitor'], 'Press Ctrl-C to quit');
    await monitor.ready;
    ping(l.pod('cni-6vf5d').netns!, l.pod('same').ip);
    ping(l.pod('cni-6vf5d').netns!, l.pod('web').ip);
    await quiet(monitor);
    await monitor.stop();
    const lines = monitor.stdout().trim().split('\n');
    expect(lines).toContainEqual(expect.stringMatching(new RegExp(`^-> endpoint 2836 flow 0x\\w+ , identity 37483->31009 state new ifindex ${l.pod('same').lxc!.name} orig-ip 10\\.0\\.1\\.180: 10\\.0\\.1\\.180 -> 10\\.0\\.1\\.135 EchoRequest$`)));
    expect(lines).toContainEqual(expect.stringMatching(/^-> stack flow 0x\w+ , identity 37483->12187 state new ifindex 0 orig-ip 0\.0\.0\.0: 10\.0\.1\.180 -> 10\.0\.2\.87 EchoRequest$/));
    // Same-node traffic never went to the stack.
    expect(lines.some((x) => x.startsWith('-> stack') && x.includes('-> 10.0.1.135'))).toBe(false);
  }, 40000);

  it('emulated pwru: skb_do_redirect and the destination lxc transmitting, no ip_forward', async () => {
    const l = lab();
    const funcs = await pwruFuncs(l, 'bpf1', ['src host 10.0.1.135 and dst host 10.0.1.180'], () => ping(l.pod('same').netns!, l.pod('cni-6vf5d').ip));
    expect(funcs).not.toContain('ip_forward');
    const redirect = funcs.indexOf('skb_do_redirect');
    expect(redirect).toBeGreaterThan(funcs.indexOf('tcf_classify'));
    expect(funcs.slice(redirect)).toContain('dev_hard_start_xmit');
  }, 40000);
});

describeAsRoot('lab in legacy mode with endpoint routes (native routing)', () => {
  const lab = useLab({ mode: 'legacy-endpoint-routes', tunnel: 'disabled', monitorAggregation: 'medium' }, 'legacy-endpoint-routes');

  it('forwards same-node pod traffic through the host stack: both lxcs see both directions and TRACE fires in FORWARD', async () => {
    const l = lab();
    const { out, sameLxc, cniLxc } = await sameNodeCaptures(l);
    expect(out).toContain('ttl=63'); // the node's ip_forward
    for (const c of [sameLxc, cniLxc]) expect([c.requests.length, c.replies.length]).toEqual([1, 1]);
    const trace = await icmpTraceIn(l.nodeNetns('bpf1'), () => ping(l.pod('same').netns!, l.pod('cni-6vf5d').ip));
    expect(trace).toMatch(new RegExp(`PACKET: 2 \\w+ IN=${l.pod('same').lxc!.name} .*SRC=10\\.0\\.1\\.135 DST=10\\.0\\.1\\.180`));
    expect(trace).toContain('filter:FORWARD:rule:0x');
    expect(trace).toContain('filter:CILIUM_FORWARD:rule:');
  }, 40000);

  it('reaches the other node through both hosts stacks', () => {
    const l = lab();
    expect(ping(l.pod('same').netns!, l.pod('cni-x7k2m').ip)).toContain('ttl=62');
  });

  it('emulated monitor shows -> stack at the source and -> endpoint from to-container', async () => {
    const l = lab();
    const monitor = emulated(l, 'bpf1', 'cilium-dbg', ['monitor'], 'Press Ctrl-C to quit');
    await monitor.ready;
    ping(l.pod('cni-6vf5d').netns!, l.pod('same').ip);
    await quiet(monitor);
    await monitor.stop();
    const lines = monitor.stdout().trim().split('\n');
    expect(lines).toContainEqual(expect.stringMatching(/^-> stack flow 0x\w+ , identity 37483->31009 state new ifindex 0 orig-ip 0\.0\.0\.0: 10\.0\.1\.180 -> 10\.0\.1\.135 EchoRequest$/));
    expect(lines).toContainEqual(expect.stringMatching(new RegExp(`^-> endpoint 2836 flow 0x\\w+ , identity 37483->31009 state new ifindex ${l.pod('same').lxc!.name} orig-ip 10\\.0\\.1\\.180: 10\\.0\\.1\\.180 -> 10\\.0\\.1\\.135 EchoRequest$`)));
    expect(lines.some((x) => x.startsWith('<- endpoint'))).toBe(false); // medium aggregation
  }, 40000);

  it('emulated pwru shows the forwarding path: ip_forward between the two lxcs', async () => {
    const l = lab();
    const funcs = await pwruFuncs(l, 'bpf1', ['src host 10.0.1.135 and dst host 10.0.1.180'], () => ping(l.pod('same').netns!, l.pod('cni-6vf5d').ip));
    expect(funcs).toContain('ip_forward');
    expect(funcs).not.toContain('skb_do_redirect');
    expect(funcs.indexOf('ip_forward')).toBeGreaterThan(funcs.indexOf('tcf_classify'));
  }, 40000);
});

describeAsRoot('lab monitor aggregation medium: TCP flags ask for a report', () => {
  const lab = useLab({ mode: 'legacy', tunnel: 'disabled', monitorAggregation: 'medium' }, 'legacy-tcp');

  it('reports a direction first SYN and FIN within the 5 s interval, not its plain ACKs', async () => {
    const l = lab();
    const server = spawn('ip', ['netns', 'exec', l.pod('cni-6vf5d').netns!, 'python3', '-c', 'import socket,time;s=socket.socket();s.setsockopt(socket.SOL_SOCKET,socket.SO_REUSEADDR,1);s.bind(("0.0.0.0",8080));s.listen();print("up",flush=True);c,_=s.accept();c.recv(10);time.sleep(0.3);c.close()'], { stdio: ['ignore', 'pipe', 'inherit'] });
    await new Promise<void>((res) => server.stdout!.once('data', () => res()));
    const monitor = emulated(l, 'bpf1', 'cilium-dbg', ['monitor', '--related-to', '3663'], 'Press Ctrl-C to quit');
    await monitor.ready;
    spawnSync('ip', ['netns', 'exec', l.pod('same').netns!, 'python3', '-c', 'import socket,time;s=socket.create_connection(("10.0.1.180",8080));s.send(b"x");time.sleep(0.6);s.close()']);
    await new Promise((res) => server.once('exit', res));
    await quiet(monitor);
    await monitor.stop();
    const toServer = monitor.stdout().split('\n').filter((x) => x.startsWith('-> endpoint 3663') && x.includes('-> 10.0.1.180:8080'));
    expect(toServer.map((x) => / tcp (.*)$/.exec(x)?.[1])).toEqual(['SYN', 'ACK, FIN']);
  }, 40000);
});
