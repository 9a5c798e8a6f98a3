import { parseProbeList, parseTraffic, planProbePods, planTrace, underlayFilter, type TraceNode, type TraceTarget } from '../../../src/core/plan.js';

const A: TraceTarget = { namespace: 'default', name: 'same', node: 'bpf1', ip: '10.0.1.135', hostNetwork: false, containers: ['app'], endpointId: 2836, lxc: 'lxcda6f5295b4b7', lxcIfindex: 28, mac: 'd2:f1:29:4b:bd:9d' };
const B: TraceTarget = { namespace: 'default', name: 'cni-6vf5d', node: 'bpf1', ip: '10.0.1.180', hostNetwork: false, containers: ['app'], endpointId: 3663, lxc: 'lxcf9d0a91de5fb', lxcIfindex: 24, mac: '7a:a2:51:7c:d4:40' };

function node(name: string, extra: Partial<TraceNode> = {}): TraceNode {
  return {
    name,
    internalIp: name === 'bpf1' ? '192.168.56.11' : '192.168.56.12',
    agent: { namespace: 'kube-system', name: `cilium-${name}`, container: 'cilium-agent', cli: 'cilium-dbg' },
    probePods: { capture: { namespace: 'kube-system', name: `cap-${name}`, container: 'probe' }, pwru: { namespace: 'kube-system', name: `pwru-${name}`, container: 'probe' } },
    probePodProblems: {},
    netnsOfPod: { 'default/same': 'cni-aaa', 'default/cni-6vf5d': 'cni-bbb' },
    ...extra,
  };
}

const row = (p: { tool: string; point: string; place: { kind: string }; netns?: string; endpoints?: number[] }) =>
  `${p.tool} ${p.point} ${p.place.kind}${p.netns ? ` netns=${p.netns}` : ''}${p.endpoints ? ` eps=${p.endpoints.join(',')}` : ''}`;

describe('planTrace', () => {
  it('same node: both pods\' eth0 (entered from the node) and lxc, one monitor related to both endpoints, one pwru', () => {
    const plan = planTrace(A, B, [node('bpf1')], ['tcpdump', 'monitor', 'pwru']);
    expect(plan.probes.map(row)).toEqual([
      'tcpdump pod:default/same/eth0 probe-pod netns=cni-aaa',
      'tcpdump host:bpf1/lxcda6f5295b4b7 probe-pod',
      'tcpdump pod:default/cni-6vf5d/eth0 probe-pod netns=cni-bbb',
      'tcpdump host:bpf1/lxcf9d0a91de5fb probe-pod',
      'monitor cilium:bpf1 agent eps=2836,3663',
      'pwru kernel:bpf1 probe-pod',
    ]);
    expect(plan.skipped).toEqual([]);
    expect(plan.probes[0].filter).toEqual(['host', '10.0.1.135', 'and', 'host', '10.0.1.180']);
    expect(new Set(plan.probes.map((p) => p.id)).size).toBe(plan.probes.length);
  });

  it('cross node: tunnel device and underlay NIC on both nodes; each monitor relates to its own node\'s endpoint only', () => {
    const b2 = { ...B, node: 'bpf2' };
    const plan = planTrace(A, b2, [node('bpf1', { tunnelDevice: 'cilium_vxlan', underlay: 'ens5' }), node('bpf2', { tunnelDevice: 'cilium_vxlan', underlay: 'ens6' })], ['tcpdump', 'monitor', 'pwru', 'iptables']);
    expect(plan.probes.map(row)).toEqual([
      'tcpdump pod:default/same/eth0 probe-pod netns=cni-aaa',
      'tcpdump host:bpf1/lxcda6f5295b4b7 probe-pod',
      'tcpdump pod:default/cni-6vf5d/eth0 probe-pod netns=cni-bbb',
      'tcpdump host:bpf2/lxcf9d0a91de5fb probe-pod',
      'tcpdump host:bpf1/cilium_vxlan probe-pod',
      'tcpdump host:bpf1/ens5 probe-pod',
      'tcpdump host:bpf2/cilium_vxlan probe-pod',
      'tcpdump host:bpf2/ens6 probe-pod',
      'monitor cilium:bpf1 agent eps=2836',
      'pwru kernel:bpf1 probe-pod',
      'iptables iptables:bpf1 agent',
      'monitor cilium:bpf2 agent eps=3663',
      'pwru kernel:bpf2 probe-pod',
      'iptables iptables:bpf2 agent',
    ]);
    const underlay = plan.probes.find((p) => p.point === 'host:bpf1/ens5')!;
    expect(underlay.filter).toEqual(underlayFilter('10.0.1.135', '10.0.1.180', '192.168.56.11', '192.168.56.12', true));
    expect(plan.probes.find((p) => p.tool === 'iptables')!.addresses).toEqual(['10.0.1.135', '10.0.1.180']);
  });

  it.each([
    {
      name: 'no probe pods (forbidden): pod eth0 by exec into the app pod, node captures and pwru skipped with the reason',
      nodes: [node('bpf1', { probePods: {}, probePodProblems: { capture: 'probe pods are forbidden in kube-system', pwru: 'probe pods are forbidden in kube-system' }, netnsOfPod: {} })],
      probes: ['tcpdump', 'monitor', 'pwru'] as const,
      planned: ['tcpdump pod:default/same/eth0 app-pod', 'tcpdump pod:default/cni-6vf5d/eth0 app-pod', 'monitor cilium:bpf1 agent eps=2836,3663'],
      skipped: [
        'tcpdump host:bpf1/lxcda6f5295b4b7: probe pods are forbidden in kube-system',
        'tcpdump host:bpf1/lxcf9d0a91de5fb: probe pods are forbidden in kube-system',
        'pwru kernel:bpf1: probe pods are forbidden in kube-system',
      ],
    },
    {
      name: 'netns of one pod not found: that pod falls back to exec, the note says why',
      nodes: [node('bpf1', { netnsOfPod: { 'default/same': 'cni-aaa' }, netnsProblems: { 'default/cni-6vf5d': 'no network namespace has an eth0 paired with ifindex 24' } })],
      probes: ['tcpdump'] as const,
      planned: ['tcpdump pod:default/same/eth0 probe-pod netns=cni-aaa', 'tcpdump host:bpf1/lxcda6f5295b4b7 probe-pod', 'tcpdump pod:default/cni-6vf5d/eth0 app-pod', 'tcpdump host:bpf1/lxcf9d0a91de5fb probe-pod'],
      skipped: [],
    },
    {
      name: 'no agent on the node: monitor and iptables skipped',
      nodes: [node('bpf1', { agent: undefined, agentProblem: 'no Cilium agent pod on node bpf1' })],
      probes: ['monitor', 'iptables'] as const,
      planned: [],
      skipped: ['monitor cilium:bpf1: no Cilium agent pod on node bpf1', 'iptables iptables:bpf1: no Cilium agent pod on node bpf1'],
    },
  ])('$name', ({ nodes, probes, planned, skipped }) => {
    const plan = planTrace(A, B, nodes, probes);
    expect(plan.probes.map(row)).toEqual(planned);
    expect(plan.skipped.map((s) => `${s.tool} ${s.point}: ${s.reason}`)).toEqual(skipped);
  });

  it('a pod on the host network has no eth0 or lxc of its own; monitor keeps the whole node when no endpoint is traced there', () => {
    const host: TraceTarget = { ...A, hostNetwork: true, endpointId: null, lxc: undefined, lxcIfindex: undefined, mac: undefined, node: 'bpf2', ip: '192.168.56.12' };
    const plan = planTrace(host, B, [node('bpf1'), node('bpf2')], ['tcpdump', 'monitor']);
    expect(plan.skipped.map((s) => s.reason)).toContain('default/same uses the host network: it has no eth0 of its own');
    const mon = plan.probes.find((p) => p.point === 'cilium:bpf2')!;
    expect(mon.endpoints).toEqual([]);
    expect(mon.note).toMatch(/every event of the node is kept/);
  });

  it('the fallback note of an exec capture names why the node could not be used', () => {
    const plan = planTrace(A, B, [node('bpf1', { netnsOfPod: {}, netnsProblems: { 'default/same': 'the netns of default/same was not found on bpf1: x' } })], ['tcpdump']);
    expect(plan.probes[0].note).toBe('captured by exec into default/same (the netns of default/same was not found on bpf1: x)');
  });
});

describe('planProbePods', () => {
  it('a capture pod for tcpdump and a pwru pod per involved node, none for monitor or iptables', () => {
    expect(planProbePods(A, { ...B, node: 'bpf2' }, ['tcpdump', 'monitor', 'pwru'])).toEqual([
      { node: 'bpf1', role: 'capture' },
      { node: 'bpf1', role: 'pwru' },
      { node: 'bpf2', role: 'capture' },
      { node: 'bpf2', role: 'pwru' },
    ]);
    expect(planProbePods(A, B, ['monitor', 'iptables'])).toEqual([]);
  });
});

describe('underlayFilter', () => {
  it('native routing: the pod addresses; a tunnel: also the inner IPv4 pair at its offset in the UDP payload', () => {
    expect(underlayFilter('10.0.1.135', '10.0.2.7', '192.168.56.11', '192.168.56.12', false)).toEqual(['(', 'host', '10.0.1.135', 'and', 'host', '10.0.2.7', ')']);
    const f = underlayFilter('10.0.1.135', '10.0.2.7', '192.168.56.11', '192.168.56.12', true).join(' ');
    expect(f).toBe('( host 10.0.1.135 and host 10.0.2.7 ) or ( udp and host 192.168.56.11 and host 192.168.56.12 and ( ( udp[42:4] = 0x0a000187 and udp[46:4] = 0x0a000207 ) or ( udp[42:4] = 0x0a000207 and udp[46:4] = 0x0a000187 ) ) )');
  });

  it('IPv6 pods: only the direct match (no fixed offset to test)', () => {
    expect(underlayFilter('fd00::1', 'fd00::2', 'n1', 'n2', true)).toEqual(['(', 'host', 'fd00::1', 'and', 'host', 'fd00::2', ')']);
  });
});

describe('flag readers', () => {
  it.each([
    ['icmp', { kind: 'icmp' }],
    ['none', { kind: 'none' }],
    ['tcp:80', { kind: 'tcp', port: 80 }],
    ['udp:53', { kind: 'udp', port: 53 }],
    ['tcp:0', undefined],
    ['tcp:65536', undefined],
    ['sctp:9', undefined],
    ['tcp', undefined],
  ])('parseTraffic(%s)', (text, want) => {
    expect(parseTraffic(text)).toEqual(want);
  });

  it('parseProbeList', () => {
    expect(parseProbeList('tcpdump,monitor,tcpdump')).toEqual({ probes: ['tcpdump', 'monitor'] });
    expect(parseProbeList('tcpdump,tetragon').error).toBe('unknown probe tetragon: choose from tcpdump, monitor, pwru, iptables, hubble');
    expect(parseProbeList(',').error).toBe('no probe chosen: choose from tcpdump, monitor, pwru, iptables, hubble');
  });
});
