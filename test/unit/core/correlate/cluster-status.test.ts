import { renderers } from '../../../../src/render/index.js';
import { analyzeFixtures, conclusionOf } from './analyze-fixture.js';

/**
 * Status inputs are used: routing mode, tunnel protocol, kube-proxy replacement and host routing
 * of `cilium status` appear in the report header (report.cluster) and as evidence of the path steps
 * they agree with, marked as configuration; a path the observations leave unknown stays unknown,
 * with what the configuration implies.
 */
const S = 'test/fixtures/seed/';
const SEED = ['tcpdump-same-eth0.txt', 'tcpdump-same-lxc.txt', 'tcpdump-cni-eth0.txt', 'tcpdump-cni-lxc.txt', 'cilium-monitor-v.txt', 'pwru-v0.0.2-src-same.txt', 'pwru-v0.0.2-src-cni.txt', 'cilium-endpoint-list.txt', 'ethtool-same-eth0.txt', 'ethtool-cni-eth0.txt'].map((f) => S + f);
const SEED_STATUS = `${S}cilium-status.txt`;
const PODMAN = 'test/fixtures/cilium-status/blog-podman-v1.16.5-agent-status.txt';
const WCNI = 'test/fixtures/cilium-status/wcni-kind-v1.15.0-rc.1-status-verbose-kpr-native.txt';
const SEED_CLUSTER = { ciliumVersion: '1.11.1', kubeProxyReplacement: 'Strict', hostRouting: 'BPF', masquerading: 'BPF', sources: [`${SEED_STATUS} on bpf1`] };

describe('cilium status in the report', () => {
  it('the seed with its agent status: the header says BPF host routing, and the redirect-peer evidence cites it as configuration', async () => {
    const report = await analyzeFixtures([...SEED, SEED_STATUS]);
    expect(report.cluster).toEqual(SEED_CLUSTER);
    const request = conclusionOf(report.flows[0]);
    expect(request.path).toEqual(['redirect-peer']);
    expect(request.evidence.find((e) => e.claim === 'redirect-peer')!.because.slice(-1)).toEqual([
      `cilium status (${SEED_STATUS} on bpf1): host routing BPF, whose delivery to local pods is bpf_redirect_peer() (the agent's configuration, not an observation of this packet)`,
    ]);
    // Everything else is what the observations alone concluded.
    const without = conclusionOf((await analyzeFixtures(SEED)).flows[0]);
    expect({ ...request, evidence: request.evidence.map((e) => ({ ...e, because: e.because.filter((b) => !b.startsWith('cilium status')) })) }).toEqual(without);
    const table = renderers.table(report, { color: false, width: 120 });
    expect(table.split('\n\n')[0].replace(/\n +/g, ' ')).toBe(`Cluster - Cilium 1.11.1, host routing BPF, kube-proxy replacement Strict, masquerading BPF (cilium status: ${SEED_STATUS} on bpf1)`);
  });

  it('a path the observations leave unknown stays unknown, with what the configuration implies', async () => {
    const report = await analyzeFixtures([`${S}tcpdump-same-eth0.txt`, `${S}cilium-endpoint-list.txt`, SEED_STATUS]);
    expect(conclusionOf(report.flows[0])).toEqual({
      flow: 'icmp 10.0.1.135 (default/same) -> 10.0.1.180 request',
      path: ['unknown'],
      verdict: 'delivered',
      dropReason: null,
      dropPoint: null,
      seenAt: ['pod:default/same/eth0'],
      notSeenAt: [],
      notObserved: ['cilium:bpf1/2836', 'iptables:bpf1', 'kernel:bpf1', 'cilium:bpf1/3663'],
      conclusions: [
        'Delivered: the request reached 10.0.1.180 (the reply was seen (pod:default/same/eth0)).',
        'Path unknown: no probe saw enough of the request to tell how it travelled; capture the lxc of both pods and run pwru or cilium monitor on the node.',
        "The agent's status (Cilium 1.11.1, host routing BPF, kube-proxy replacement Strict, masquerading BPF) implies same-node delivery by bpf_redirect_peer(), but no observation here shows this flow's path, so it stays unknown.",
      ],
      evidence: [{ claim: 'delivered', because: ['the reply was seen (pod:default/same/eth0)'] }],
    });
  });

  it('a 1.16 agent status gives the routing mode; a setting no status states is absent', async () => {
    const report = await analyzeFixtures([PODMAN]);
    expect(report.cluster).toEqual({ ciliumVersion: '1.16.5', routingMode: 'native', kubeProxyReplacement: 'True', hostRouting: 'Legacy', masquerading: 'IPTables', sources: [PODMAN] });
    expect((await analyzeFixtures([`${S}tcpdump-same-eth0.txt`])).cluster).toBeUndefined();
  });

  it('agents that disagree are named in a warning, and the first is kept', async () => {
    const report = await analyzeFixtures([SEED_STATUS, WCNI]);
    expect(report.cluster).toEqual({ ...SEED_CLUSTER, sources: [SEED_STATUS] });
    expect(report.warnings.filter((w) => w.includes('disagree on host routing'))).toEqual([
      `the agents' status disagree on host routing: BPF (${SEED_STATUS}) and Legacy (${WCNI}); the report uses BPF`,
    ]);
  });
});
