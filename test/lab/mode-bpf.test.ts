/**
 * BPF host routing is real: the seed's observation (tcpdump on the source lxc sees only the
 * request, on the destination lxc only the reply) happens in the lab because its tc programs
 * deliver with bpf_redirect_peer(); the node's netfilter never sees the packets; and the
 * emulated monitor and pwru report exactly the packets the datapath handled.
 */
import { describeAsRoot } from './require-root.js';
import { emulated, emulatedOnce, icmpLines, icmpTraceIn, ping, pwruFuncs, quiet, settle, tcpdump, useLab } from './lab-harness.js';
import { inNetns } from './kernel/run.js';

describeAsRoot('lab in bpf mode (native routing)', () => {
  const lab = useLab({ mode: 'bpf', tunnel: 'disabled', monitorAggregation: 'none' }, 'bpf');

  it('delivers same-node pod traffic with redirect_peer: each lxc sees one direction, as in the seed', async () => {
    const l = lab();
    const same = l.pod('same');
    const cni = l.pod('cni-6vf5d');
    const node = l.nodeNetns('bpf1');
    const caps = [tcpdump(node, same.lxc!.name, ['icmp']), tcpdump(node, cni.lxc!.name, ['icmp']), tcpdump(cni.netns!, 'eth0', ['icmp'])];
    await Promise.all(caps.map((c) => c.ready));
    const out = ping(same.netns!, cni.ip);
    await settle();
    await Promise.all(caps.map((c) => c.stop()));
    const [sameLxc, cniLxc, cniEth0] = caps.map((c) => icmpLines(c.stdout()));
    expect(out).toContain('ttl=63');
    expect(sameLxc.requests).toHaveLength(1);
    expect(sameLxc.replies).toHaveLength(0);
    expect(cniLxc.requests).toHaveLength(0);
    expect(cniLxc.replies).toHaveLength(1);
    expect(cniEth0.requests).toHaveLength(1);
    expect(cniEth0.replies).toHaveLength(1);
    // Routed like Cilium: the request reaches cni-6vf5d from its lxc's MAC, addressed to its eth0.
    expect(cniEth0.requests[0]).toContain(`${cni.lxc!.mac} > ${cni.mac}`);
  }, 30000);

  it('bypasses the node netfilter: an iptables TRACE rule in the node sees no ICMP', async () => {
    const l = lab();
    const out = await icmpTraceIn(l.nodeNetns('bpf1'), () => ping(l.pod('same').netns!, l.pod('cni-6vf5d').ip));
    expect(out).not.toContain('PACKET');
  }, 30000);

  it('reaches the other node natively with bpf_redirect_neigh', () => {
    const l = lab();
    expect(ping(l.pod('same').netns!, l.pod('cni-x7k2m').ip)).toContain('ttl=62');
  });

  it('emulated monitor prints to-endpoint records for a real ping and nothing when no packet passed', async () => {
    const l = lab();
    const monitor = emulated(l, 'bpf1', 'cilium-dbg', ['monitor', '--related-to', '3663'], 'Press Ctrl-C to quit');
    await monitor.ready;
    await settle(1000);
    const beforePing = monitor.stdout();
    ping(l.pod('same').netns!, l.pod('cni-6vf5d').ip, 2);
    await quiet(monitor);
    await monitor.stop();
    expect(beforePing).toBe('');
    const lines = monitor.stdout().trim().split('\n');
    const toEndpoint = lines.filter((x) => x.startsWith('-> endpoint 3663 flow'));
    expect(toEndpoint).toHaveLength(2);
    expect(toEndpoint[0]).toContain(`, identity 31009->37483 state new ifindex ${l.pod('cni-6vf5d').lxc!.name} orig-ip 10.0.1.135: 10.0.1.135 -> 10.0.1.180 EchoRequest`);
    expect(toEndpoint[1]).toContain('state established');
    // Related to 3663 but not "to" it: cni-6vf5d's own from-endpoint records for its two replies.
    expect(lines.filter((x) => x.startsWith('<- endpoint 3663'))).toHaveLength(2);
    expect(lines.every((x) => x.startsWith('-> endpoint 3663') || x.startsWith('<- endpoint 3663'))).toBe(true);
  }, 40000);

  it('reports a datapath drop in the monitor and as pwru drop reason, and the packet never arrives', async () => {
    const l = lab();
    const same = l.pod('same');
    const cni = l.pod('cni-6vf5d');
    const monitor = emulated(l, 'bpf1', 'cilium-dbg', ['monitor', '-t', 'drop'], 'Press Ctrl-C to quit');
    const dst = tcpdump(cni.netns!, 'eth0', ['icmp']);
    await Promise.all([monitor.ready, dst.ready]);
    // TTL 1 cannot be routed: the lab's from-container drops it, as Cilium's ipv4_l3 does.
    const funcs = await pwruFuncs(l, 'bpf1', ['dst host 10.0.1.180'], () => {
      expect(() => ping(same.netns!, cni.ip, 1, ['-t', '1'])).toThrow(/100% packet loss/);
    });
    await quiet(monitor);
    await Promise.all([monitor.stop(), dst.stop()]);
    expect(monitor.stdout().trim()).toMatch(new RegExp(`^xx drop \\(TTL exceeded\\) flow 0x\\w+ to endpoint 0, ifindex ${same.lxc!.ifindex}, file bpf_lxc\\.c:\\d+, , identity 31009->37483: 10\\.0\\.1\\.135 -> 10\\.0\\.1\\.180 EchoRequest$`));
    expect(funcs.slice(funcs.indexOf('tcf_classify'))).toContain('sk_skb_reason_drop(SKB_DROP_REASON_TC_INGRESS)');
    expect(icmpLines(dst.stdout()).requests).toHaveLength(0);
  }, 40000);

  it('emulated cilium-dbg answers endpoint get and status from the lab kernel facts', () => {
    const l = lab();
    const same = l.pod('same');
    const get = emulatedOnce(l, 'bpf1', 'cilium-dbg', ['endpoint', 'get', '2836', '-o', 'json']);
    expect(get.status).toBe(0);
    const [ep] = JSON.parse(get.stdout);
    // What `ip link` in the node says about same's veth pair.
    const link = JSON.parse(inNetns(l.nodeNetns('bpf1'), ['ip', '-j', 'link', 'show', same.lxc!.name]))[0];
    const eth0 = JSON.parse(inNetns(same.netns!, ['ip', '-j', 'link', 'show', 'eth0']))[0];
    expect(ep.status.networking).toMatchObject({ 'interface-name': link.ifname, 'interface-index': link.ifindex, 'host-mac': link.address, mac: eth0.address });
    expect(eth0.link_index).toBe(link.ifindex); // eth0's peer is that lxc, as ethtool's peer_ifindex shows
    expect(ep.status.identity.id).toBe(31009);
    const status = JSON.parse(emulatedOnce(l, 'bpf1', 'cilium-dbg', ['status', '-o', 'json']).stdout);
    expect(status.routing).toEqual({ 'inter-host-routing-mode': 'Native', 'intra-host-routing-mode': 'BPF' });
    const text = emulatedOnce(l, 'bpf1', 'cilium-dbg', ['status']).stdout;
    expect(text).toMatch(/^Routing:\s+Network: Native\s+Host: BPF$/m);
    const asCilium = emulatedOnce(l, 'bpf1', 'cilium-dbg', ['endpoints'], { LAB_CLI_NAME: 'cilium' });
    expect(asCilium.status).toBe(1);
    expect(asCilium.stderr).toBe(`Error: unknown command "endpoints" for "cilium"\nRun 'cilium --help' for usage.\n`);
  }, 30000);

  it('emulated pwru follows redirect_peer: tcf_classify then skb_do_redirect, no ip_forward', async () => {
    const l = lab();
    const funcs = await pwruFuncs(l, 'bpf1', ['--output-tuple', 'src host 10.0.1.135 and icmp'], () => ping(l.pod('same').netns!, l.pod('cni-6vf5d').ip));
    const redirect = funcs.indexOf('skb_do_redirect');
    expect(funcs.indexOf('tcf_classify')).toBeGreaterThan(-1);
    expect(redirect).toBeGreaterThan(funcs.indexOf('tcf_classify'));
    expect(funcs.slice(redirect)).toContain('ip_rcv');
    expect(funcs).not.toContain('ip_forward');
  }, 40000);
});

