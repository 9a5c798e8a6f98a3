/**
 * Legacy host routing is real: the lab's tc programs only observe, so the node's stack forwards
 * pod traffic (ip_forward, netfilter), both lxcs see both directions, an iptables TRACE rule in
 * the node fires, and the emulated monitor and pwru show the stack path.
 */
import { describeAsRoot } from './require-root.js';
import { emulated, icmpLines, icmpTraceIn, ping, pwruFuncs, quiet, settle, tcpdump, useLab } from './lab-harness.js';

describeAsRoot('lab in legacy mode (native routing)', () => {
  const lab = useLab({ mode: 'legacy', tunnel: 'disabled', monitorAggregation: 'medium' }, 'legacy');

  it('forwards same-node pod traffic through the host stack: both lxcs see both directions', async () => {
    const l = lab();
    const same = l.pod('same');
    const cni = l.pod('cni-6vf5d');
    const node = l.nodeNetns('bpf1');
    const caps = [tcpdump(node, same.lxc!.name, ['icmp']), tcpdump(node, cni.lxc!.name, ['icmp'])];
    await Promise.all(caps.map((c) => c.ready));
    expect(ping(same.netns!, cni.ip)).toContain('ttl=63');
    await settle();
    await Promise.all(caps.map((c) => c.stop()));
    for (const c of caps) {
      const { requests, replies } = icmpLines(c.stdout());
      expect(requests).toHaveLength(1);
      expect(replies).toHaveLength(1);
    }
  }, 30000);

  it('fires an iptables TRACE rule in the node for the forwarded ping', async () => {
    const l = lab();
    const out = await icmpTraceIn(l.nodeNetns('bpf1'), () => ping(l.pod('same').netns!, l.pod('cni-6vf5d').ip));
    expect(out).toMatch(new RegExp(`PACKET: 2 \\w+ IN=${l.pod('same').lxc!.name} .*SRC=10\\.0\\.1\\.135 DST=10\\.0\\.1\\.180`));
    expect(out).toContain('filter:FORWARD:rule:0x');
    expect(out).toContain('filter:CILIUM_FORWARD:rule:');
  }, 30000);

  it('reaches the other node through both hosts stacks (native routing)', () => {
    const l = lab();
    expect(ping(l.pod('same').netns!, l.pod('cni-x7k2m').ip)).toContain('ttl=62');
  });

  it('emulated monitor shows -> stack at the source and -> endpoint from to-container', async () => {
    const l = lab();
    const monitor = emulated(l, 'bpf1', 'cilium-dbg', ['monitor'], 'Press Ctrl-C to quit');
    await monitor.ready;
    // A fresh flow: medium aggregation reports its first packets.
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
