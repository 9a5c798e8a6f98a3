/**
 * The VXLAN tunnel is real: cross-node pod traffic leaves the source node as UDP 8472 on the
 * underlay carrying the inner packet (VNI = the source identity, as Cilium sets it), and the
 * receiving node's overlay program delivers it into the pod with bpf_redirect_peer().
 */
import { describeAsRoot } from './require-root.js';
import { emulated, ping, pwruFuncs, quiet, settle, tcpdump, useLab } from './lab-harness.js';

describeAsRoot('lab in bpf mode with a VXLAN tunnel', () => {
  const lab = useLab({ mode: 'bpf', tunnel: 'vxlan', monitorAggregation: 'none', datapathDebug: true }, 'bpf+vxlan');

  it('carries cross-node pod traffic in UDP 8472 on the underlay, inner packet inside', async () => {
    const l = lab();
    const cap = tcpdump(l.nodeNetns('bpf1'), 'ens33', ['udp', 'port', '8472']);
    await cap.ready;
    expect(ping(l.pod('same').netns!, l.pod('cni-x7k2m').ip)).toContain('1 received');
    await settle();
    await cap.stop();
    const text = cap.stdout();
    // tcpdump names port 8472 OTV; the VXLAN header's VNI is the sender's identity.
    expect(text).toMatch(/192\.168\.2\.61\.\d+ > 192\.168\.2\.62\.8472: .*instance 31009/);
    expect(text).toMatch(/10\.0\.1\.135 > 10\.0\.2\.41: ICMP echo request/);
    expect(text).toMatch(/192\.168\.2\.62\.\d+ > 192\.168\.2\.61\.8472: .*instance 37483/);
    expect(text).toMatch(/10\.0\.2\.41 > 10\.0\.1\.135: ICMP echo reply/);
  }, 30000);

  it('reports -> overlay with the encapsulation on the source node and -> endpoint on the destination', async () => {
    const l = lab();
    const src = emulated(l, 'bpf1', 'cilium-dbg', ['monitor', '-v'], 'Press Ctrl-C to quit');
    const dst = emulated(l, 'bpf2', 'cilium-dbg', ['monitor', '--related-to', '1187'], 'Press Ctrl-C to quit');
    await Promise.all([src.ready, dst.ready]);
    ping(l.pod('same').netns!, l.pod('cni-x7k2m').ip);
    await Promise.all([quiet(src), quiet(dst)]);
    await Promise.all([src.stop(), dst.stop()]);
    const srcLines = src.stdout().split('\n');
    expect(srcLines).toContainEqual(expect.stringMatching(/^-> overlay flow 0x\w+ , identity 31009->37483 state \w+ ifindex cilium_vxlan orig-ip 0\.0\.0\.0: 10\.0\.1\.135 -> 10\.0\.2\.41 EchoRequest$/));
    // 192.168.2.62 as the native-order u32 Cilium prints it.
    expect(srcLines).toContainEqual(expect.stringMatching(/DEBUG: Encapsulating to node 1040361664 \(0x3e02a8c0\) from seclabel 31009$/));
    const dstLines = dst.stdout().split('\n');
    expect(dstLines).toContainEqual(expect.stringMatching(/^-> endpoint 1187 flow 0x\w+ , identity 31009->37483 state \w+ ifindex lxc\w{11} orig-ip 10\.0\.1\.135: 10\.0\.1\.135 -> 10\.0\.2\.41 EchoRequest$/));
  }, 40000);

  it('emulated pwru on the receiving node shows decapsulation, then redirect_peer into the pod', async () => {
    const l = lab();
    const funcs = await pwruFuncs(l, 'bpf2', ['udp port 8472 or dst host 10.0.2.41'], () => ping(l.pod('same').netns!, l.pod('cni-x7k2m').ip));
    const decap = funcs.indexOf('vxlan_rcv');
    expect(decap).toBeGreaterThan(-1);
    expect(funcs.slice(decap)).toContain('skb_do_redirect');
    expect(funcs).not.toContain('ip_forward');
  }, 40000);
});
