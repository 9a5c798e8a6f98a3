/**
 * Network policy is enforced by the lab's real tc programs: the emulated agent's resolved policy
 * goes into the BPF policy maps (lab-agent reloads the node's policy file), a denied packet is
 * dropped (TC_ACT_SHOT) where Cilium drops it, so tcpdump in the destination pod never sees it,
 * and the emulated monitor prints the policy verdict and the drop the datapath reported, in the
 * formats of real captures (read back with the plugin's own monitor parser). Removing the
 * policy lets the same ping through again.
 */
import { describeAsRoot } from './require-root.js';
import { emulated, emulatedOnce, icmpLines, ping, pwruFuncs, quiet, settle, tcpdump, useLab, type TestLab } from './lab-harness.js';
import { policyEndpoints, writePolicy } from './policy/agent-files.js';
import type { PolicyObject } from './policy/resolve.js';
import { parseMonitorLine } from '../../src/core/parse/cilium-monitor.js';

const INGRESS_DEFAULT_DENY_CNI: PolicyObject = {
  kind: 'CiliumNetworkPolicy', namespace: 'default', name: 'cni-ingress-default-deny', spec: { endpointSelector: { matchLabels: { app: 'cni' } }, ingress: [{}] },
};
const EGRESS_DEFAULT_DENY_SAME: PolicyObject = {
  kind: 'CiliumNetworkPolicy', namespace: 'default', name: 'same-egress-default-deny', spec: { endpointSelector: { matchLabels: { run: 'same' } }, egress: [{}] },
};

let revision = 10;
/** What the API server's policy agent does on a change: resolve and write; lab-agent loads it within 200 ms. */
async function applyPolicies(l: TestLab, policies: PolicyObject[]): Promise<void> {
  writePolicy(l.dir, l.state.nodes.map((n) => n.name), { policies, endpoints: policyEndpoints(l.state), namespaceLabels: {} }, ++revision);
  await settle(500);
}

function pingFails(netns: string, ip: string): boolean {
  try {
    ping(netns, ip);
    return false;
  } catch (e) {
    return /100% packet loss/.test((e as Error).message);
  }
}

describeAsRoot('network policy in the lab datapath (bpf host routing, VXLAN)', () => {
  const lab = useLab({ mode: 'bpf', tunnel: 'vxlan', monitorAggregation: 'medium' }, 'policy bpf/vxlan');

  afterEach(async () => {
    const l = lab();
    await applyPolicies(l, []);
  });

  it('ingress default deny drops at the destination before the redirect, same node and across the tunnel; deleting it delivers again', async () => {
    const l = lab();
    const same = l.pod('same');
    const local = l.pod('cni-6vf5d');
    const remote = l.pod('cni-x7k2m');
    await applyPolicies(l, [INGRESS_DEFAULT_DENY_CNI]);
    const mon1 = emulated(l, 'bpf1', 'cilium-dbg', ['monitor'], 'Press Ctrl-C to quit');
    const mon2 = emulated(l, 'bpf2', 'cilium-dbg', ['monitor'], 'Press Ctrl-C to quit');
    const localEth0 = tcpdump(local.netns!, 'eth0', ['icmp']);
    const remoteEth0 = tcpdump(remote.netns!, 'eth0', ['icmp']);
    await Promise.all([mon1.ready, mon2.ready, localEth0.ready, remoteEth0.ready]);
    expect(pingFails(same.netns!, local.ip)).toBe(true);
    expect(pingFails(same.netns!, remote.ip)).toBe(true);
    await Promise.all([quiet(mon1), quiet(mon2)]);
    await Promise.all([mon1.stop(), mon2.stop(), localEth0.stop(), remoteEth0.stop()]);
    // The kernel: nothing reached either pod.
    expect(icmpLines(localEth0.stdout()).requests).toHaveLength(0);
    expect(icmpLines(remoteEth0.stdout()).requests).toHaveLength(0);
    // The monitor: the destination endpoint's verdict and its drop, nothing delivered.
    const lines1 = mon1.stdout().trim().split('\n');
    expect(lines1).toEqual([
      expect.stringMatching(/^Policy verdict log: flow 0x\w+ local EP ID 3663, remote ID 31009, proto 1, ingress, action deny, auth: disabled, match none, 10\.0\.1\.135 -> 10\.0\.1\.180 EchoRequest$/),
      expect.stringMatching(new RegExp(`^xx drop \\(Policy denied\\) flow 0x\\w+ to endpoint 3663, ifindex ${same.lxc!.ifindex}, file bpf_lxc\\.c:\\d+, , identity 31009->37483: 10\\.0\\.1\\.135 -> 10\\.0\\.1\\.180 EchoRequest$`)),
      expect.stringMatching(/^-> overlay flow 0x\w+ , identity 31009->37483 state new ifindex cilium_vxlan orig-ip 0\.0\.0\.0: 10\.0\.1\.135 -> 10\.0\.2\.41 EchoRequest$/),
    ]);
    const lines2 = mon2.stdout().trim().split('\n');
    expect(lines2).toEqual([
      expect.stringMatching(/^Policy verdict log: flow 0x\w+ local EP ID 1187, remote ID 31009, proto 1, ingress, action deny, auth: disabled, match none, 10\.0\.1\.135 -> 10\.0\.2\.41 EchoRequest$/),
      expect.stringMatching(/^xx drop \(Policy denied\) flow 0x\w+ to endpoint 1187, ifindex \d+, file bpf_overlay\.c:\d+, , identity 31009->37483: 10\.0\.1\.135 -> 10\.0\.2\.41 EchoRequest$/),
    ]);
    // The plugin's parser reads them as the real records they imitate.
    expect(parseMonitorLine(lines1[0]).result).toMatchObject({
      kind: 'event', event: { type: 'policy-verdict', verdict: 'denied', policyDirection: 'ingress', policyMatch: 'none', endpoint: 3663, srcIdentity: 31009 },
    });
    expect(parseMonitorLine(lines1[1]).result).toMatchObject({
      kind: 'event', event: { type: 'drop', dropReason: 'Policy denied', dropCode: 133, dstEndpoint: 3663, srcIdentity: 31009, dstIdentity: 37483 },
    });

    // Hubble shows the same two records of bpf2 as the printer does: the verdict, then the drop.
    const hubble = emulatedOnce(l, 'bpf2', 'hubble', ['observe', '--since', '30s']).stdout.trim().split('\n');
    expect(hubble.filter((x) => x.includes('10.0.2.41') || x.includes('cni-x7k2m'))).toEqual([
      expect.stringMatching(/: default\/same \(ID:31009\) <> default\/cni-x7k2m \(ID:37483\) policy-verdict:none INGRESS DENIED \(ICMPv4 EchoRequest\)$/),
      expect.stringMatching(/: default\/same \(ID:31009\) <> default\/cni-x7k2m \(ID:37483\) Policy denied DROPPED \(ICMPv4 EchoRequest\)$/),
    ]);

    await applyPolicies(l, []);
    expect(ping(same.netns!, local.ip)).toContain('1 received');
    expect(ping(same.netns!, remote.ip)).toContain('1 received');
  }, 60000);

  it('egress default deny drops at the source lxc, with the kernel reason pwru shows', async () => {
    const l = lab();
    const same = l.pod('same');
    const cni = l.pod('cni-6vf5d');
    await applyPolicies(l, [EGRESS_DEFAULT_DENY_SAME]);
    const monitor = emulated(l, 'bpf1', 'cilium-dbg', ['monitor', '-t', 'drop', '-t', 'policy-verdict'], 'Press Ctrl-C to quit');
    await monitor.ready;
    const funcs = await pwruFuncs(l, 'bpf1', ['dst host 10.0.1.180'], () => {
      expect(pingFails(same.netns!, cni.ip)).toBe(true);
    });
    await quiet(monitor);
    await monitor.stop();
    expect(monitor.stdout().trim().split('\n')).toEqual([
      expect.stringMatching(/^Policy verdict log: flow 0x\w+ local EP ID 2836, remote ID 37483, proto 1, egress, action deny, auth: disabled, match none, 10\.0\.1\.135 -> 10\.0\.1\.180 EchoRequest$/),
      expect.stringMatching(new RegExp(`^xx drop \\(Policy denied\\) flow 0x\\w+ to endpoint 0, ifindex ${same.lxc!.ifindex}, file bpf_lxc\\.c:\\d+, , identity 31009->37483: 10\\.0\\.1\\.135 -> 10\\.0\\.1\\.180 EchoRequest$`)),
    ]);
    expect(funcs.slice(funcs.indexOf('tcf_classify'))).toContain('sk_skb_reason_drop(SKB_DROP_REASON_TC_INGRESS)');
    expect(funcs).not.toContain('skb_do_redirect');
  }, 60000);

  it('cilium-dbg policy get, endpoint get and policy selectors answer from the state the maps were loaded from', async () => {
    const l = lab();
    const allow: PolicyObject = { kind: 'CiliumNetworkPolicy', namespace: 'default', name: 'cni-allow-from-same', uid: 'u1', spec: { endpointSelector: { matchLabels: { app: 'cni' } }, ingress: [{ fromEndpoints: [{ matchLabels: { run: 'same' } }], toPorts: [{ ports: [{ port: '80', protocol: 'TCP' }] }] }] } };
    const deny: PolicyObject = { kind: 'CiliumClusterwideNetworkPolicy', name: 'deny-same', uid: 'u2', spec: { endpointSelector: { matchLabels: { app: 'cni' } }, ingressDeny: [{ fromEndpoints: [{ matchLabels: { run: 'same' } }] }] } };
    await applyPolicies(l, [allow, deny]);
    const get = emulatedOnce(l, 'bpf1', 'cilium-dbg', ['policy', 'get', 'k8s:io.cilium.k8s.policy.name=cni-allow-from-same']);
    expect(get.status).toBe(0);
    const [json, revision] = get.stdout.split(/\n(?=Revision: )/);
    expect(revision).toBe(`Revision: ${revision.slice(10).trim()}\n`);
    expect(JSON.parse(json)).toEqual([
      {
        endpointSelector: { matchLabels: { 'any:app': 'cni', 'k8s:io.kubernetes.pod.namespace': 'default' } },
        ingress: [{ fromEndpoints: [{ matchLabels: { 'any:run': 'same', 'k8s:io.kubernetes.pod.namespace': 'default' } }], toPorts: [{ ports: [{ port: '80', protocol: 'TCP' }] }] }],
        labels: [
          { key: 'io.cilium.k8s.policy.derived-from', value: 'CiliumNetworkPolicy', source: 'k8s' },
          { key: 'io.cilium.k8s.policy.name', value: 'cni-allow-from-same', source: 'k8s' },
          { key: 'io.cilium.k8s.policy.namespace', value: 'default', source: 'k8s' },
          { key: 'io.cilium.k8s.policy.uid', value: 'u1', source: 'k8s' },
        ],
      },
    ]);
    const [ep] = JSON.parse(emulatedOnce(l, 'bpf1', 'cilium-dbg', ['endpoint', 'get', '3663']).stdout);
    expect(ep.status.policy.realized).toMatchObject({
      'policy-enabled': 'ingress',
      'allowed-egress-identities': [0],
      'allowed-ingress-identities': null,
      'denied-ingress-identities': [31009],
      // The allow of 80/TCP from 31009 became the clusterwide deny's (deny wins).
      l4: { egress: [], ingress: [{ rule: '80/TCP', 'derived-from-rules': [['k8s:io.cilium.k8s.policy.derived-from=CiliumClusterwideNetworkPolicy', 'k8s:io.cilium.k8s.policy.name=deny-same']] }] },
    });
    const list = emulatedOnce(l, 'bpf1', 'cilium-dbg', ['endpoint', 'list']).stdout;
    expect(list).toMatch(/^3663\s+Enabled\s+Disabled\s+37483\s/m);
    expect(list).toMatch(/^2836\s+Disabled\s+Disabled\s+31009\s/m);
    const selectors = emulatedOnce(l, 'bpf1', 'cilium-dbg', ['policy', 'selectors']).stdout.split('\n');
    expect(selectors[0].split(/\s{2,}/)).toEqual(['SELECTOR', 'USERS', 'IDENTITIES']);
    expect(selectors).toContain('&LabelSelector{MatchLabels:map[string]string{any.run: same,k8s.io.kubernetes.pod.namespace: default,},MatchExpressions:[]LabelSelectorRequirement{},}   1       31009');
  }, 60000);
});

describeAsRoot('network policy in the lab datapath (legacy host routing, native routing)', () => {
  const lab = useLab({ mode: 'legacy', tunnel: 'disabled', monitorAggregation: 'medium' }, 'policy legacy/native');

  it('ingress default deny drops before the redirect to the lxc (same node) and in the lxc to-container after the stack routed it (other node); deleted, delivered', async () => {
    const l = lab();
    const same = l.pod('same');
    const local = l.pod('cni-6vf5d');
    const remote = l.pod('cni-x7k2m');
    await applyPolicies(l, [INGRESS_DEFAULT_DENY_CNI]);
    const mon2 = emulated(l, 'bpf2', 'cilium-dbg', ['monitor', '-t', 'drop'], 'Press Ctrl-C to quit');
    const remoteLxc = tcpdump(l.nodeNetns('bpf2'), remote.lxc!.name, ['icmp']);
    const localLxc = tcpdump(l.nodeNetns('bpf1'), local.lxc!.name, ['icmp']);
    await Promise.all([mon2.ready, remoteLxc.ready, localLxc.ready]);
    const sameNode = await pwruFuncs(l, 'bpf1', ['dst host 10.0.1.180'], () => expect(pingFails(same.netns!, local.ip)).toBe(true));
    const crossNode = await pwruFuncs(l, 'bpf2', ['dst host 10.0.2.41'], () => expect(pingFails(same.netns!, remote.ip)).toBe(true));
    await quiet(mon2);
    await Promise.all([mon2.stop(), remoteLxc.stop(), localLxc.stop()]);
    // Same node: bpf_lxc's local delivery ran cni-6vf5d's policy before bpf_redirect: its lxc never transmitted it.
    expect(icmpLines(localLxc.stdout()).requests).toHaveLength(0);
    expect(sameNode.slice(sameNode.indexOf('tcf_classify'))).toContain('sk_skb_reason_drop(SKB_DROP_REASON_TC_INGRESS)');
    // Other node: bpf2's stack received it (ip_rcv) and routed it to the lxc, whose to-container
    // program dropped it on egress: the kernel's own reason says a tc egress hook freed it, and the
    // drop record names the lxc's ifindex. (The emulated pwru prints no forwarding functions here:
    // the kernel reports no event between the receive and that free to imply them from.)
    expect(crossNode).toContain('ip_rcv');
    expect(crossNode).toContain('sk_skb_reason_drop(SKB_DROP_REASON_TC_EGRESS)');
    expect(icmpLines(remoteLxc.stdout()).requests).toHaveLength(0);
    expect(mon2.stdout().trim().split('\n')).toEqual([
      expect.stringMatching(new RegExp(`^xx drop \\(Policy denied\\) flow 0x\\w+ to endpoint 1187, ifindex ${remote.lxc!.ifindex}, file bpf_lxc\\.c:\\d+, , identity 31009->37483: 10\\.0\\.1\\.135 -> 10\\.0\\.2\\.41 EchoRequest$`)),
    ]);
    await applyPolicies(l, []);
    expect(ping(same.netns!, local.ip)).toContain('1 received');
    expect(ping(same.netns!, remote.ip)).toContain('1 received');
  }, 60000);
});
