import type { ReportEndpoint } from '../../../../src/core/model/report.js';
import { reportOfFixtures, type FixtureStream } from '../../../helpers/fixture-report.js';

/**
 * Outcomes and the host-stack path on captures made here with the real tcpdump and xtables-monitor
 * (test/fixtures/outcomes/make-outcomes.sh: two pod namespaces routed by a node namespace, every
 * scenario a real packet exchange). The whole conclusion of every flow is asserted.
 */
const DIR = 'test/fixtures/outcomes';
// The topology make-outcomes.sh builds: the endpoint data a cluster would give.
const ENDPOINTS: ReportEndpoint[] = [
  { pod: 'default/a', node: 'node', id: null, identity: null, ips: ['10.200.1.10'], interface: 'lxca', ifindex: null },
  { pod: 'default/b', node: 'node', id: null, identity: null, ips: ['10.200.2.20'], interface: 'lxcb', ifindex: null },
];

function scenario(name: string, extra: FixtureStream[] = []) {
  const files: FixtureStream[] = [
    { file: `${name}/a-eth0.txt`, tool: 'tcpdump', point: 'pod:default/a/eth0' },
    { file: `${name}/node-lxca.txt`, tool: 'tcpdump', point: 'host:node/lxca' },
    { file: `${name}/node-lxcb.txt`, tool: 'tcpdump', point: 'host:node/lxcb' },
    { file: `${name}/b-eth0.txt`, tool: 'tcpdump', point: 'pod:default/b/eth0' },
    ...extra,
  ];
  return reportOfFixtures(DIR, files, ENDPOINTS).flows.map((f) => ({
    flow: `${f.protocol} ${f.srcIp} > ${f.dstIp}`,
    direction: f.direction,
    path: f.path,
    verdict: f.verdict,
    dropPoint: f.dropPoint,
    outcome: f.outcome,
    outcomeReason: f.outcomeReason,
    packets: f.packets.map((p) => ({ key: p.key, outcome: p.outcome, outcomeReason: p.outcomeReason, ...(p.dropPoint !== undefined ? { dropPoint: p.dropPoint } : {}) })),
    conclusions: f.conclusions,
  }));
}

describe('per-packet outcomes on captures of real exchanges', () => {
  it(`ping-nth-drop: the node's FORWARD drops the 2nd of 3 pings and no tool reports it: per packet 2 of 3 delivered, 1 lost; the path is unknown, as only captures watched`, () => {
    expect(scenario('ping-nth-drop')).toEqual([
      {
        "flow": "icmp 10.200.1.10 > 10.200.2.20",
        "direction": "request",
        "path": [
          "unknown"
        ],
        "verdict": "lost",
        "dropPoint": null,
        "outcome": "lost",
        "outcomeReason": "2 of 3 delivered; 1 lost: never reached pod:default/b/eth0, which was capturing, and no tool reported a drop",
        "packets": [
          {
            "key": "icmp id 27922 seq 1",
            "outcome": "delivered",
            "outcomeReason": null
          },
          {
            "key": "icmp id 27922 seq 2",
            "outcome": "lost",
            "outcomeReason": "never reached pod:default/b/eth0, which was capturing, and no tool reported a drop"
          },
          {
            "key": "icmp id 27922 seq 3",
            "outcome": "delivered",
            "outcomeReason": null
          }
        ],
        "conclusions": [
          "Per packet: 2 of 3 delivered; 1 lost: never reached pod:default/b/eth0, which was capturing, and no tool reported a drop.",
          "Path unknown: the request reached default/b through lxcb, which both the host stack and Cilium's bpf_redirect() to the lxc (no BPF host routing) do; pwru (ip_forward or skb_do_redirect), an iptables TRACE or cilium monitor (-> stack or not) on the node would decide."
        ]
      },
      {
        "flow": "icmp 10.200.2.20 > 10.200.1.10",
        "direction": "reply",
        "path": [
          "unknown"
        ],
        "verdict": "delivered",
        "dropPoint": null,
        "outcome": "delivered",
        "outcomeReason": "all 2 delivered",
        "packets": [
          {
            "key": "icmp id 27922 seq 1",
            "outcome": "delivered",
            "outcomeReason": null
          },
          {
            "key": "icmp id 27922 seq 3",
            "outcome": "delivered",
            "outcomeReason": null
          }
        ],
        "conclusions": [
          "Delivered: the reply reached default/a (seen at pod:default/a/eth0).",
          "Path unknown: the reply reached default/a through lxca, which both the host stack and Cilium's bpf_redirect() to the lxc (no BPF host routing) do; pwru (ip_forward or skb_do_redirect), an iptables TRACE or cilium monitor (-> stack or not) on the node would decide."
        ]
      }
    ]);
  });

  it(`tcp-rst: a SYN answered by RST: the request is refused (it reached the destination host), the RST delivered`, () => {
    expect(scenario('tcp-rst')).toEqual([
      {
        "flow": "tcp 10.200.1.10 > 10.200.2.20",
        "direction": "request",
        "path": [
          "unknown"
        ],
        "verdict": "delivered",
        "dropPoint": null,
        "outcome": "refused",
        "outcomeReason": "refused: answered by RST (nothing listens on the port, or a firewall rejects it)",
        "packets": [
          {
            "key": "tcp [S] seq 988861060",
            "outcome": "refused",
            "outcomeReason": "answered by RST (nothing listens on the port, or a firewall rejects it)"
          }
        ],
        "conclusions": [
          "Refused: the request reached default/b's host and was answered by RST (nothing listens on the port, or a firewall rejects it).",
          "Path unknown: the request reached default/b through lxcb, which both the host stack and Cilium's bpf_redirect() to the lxc (no BPF host routing) do; pwru (ip_forward or skb_do_redirect), an iptables TRACE or cilium monitor (-> stack or not) on the node would decide."
        ]
      },
      {
        "flow": "tcp 10.200.2.20 > 10.200.1.10",
        "direction": "reply",
        "path": [
          "unknown"
        ],
        "verdict": "delivered",
        "dropPoint": null,
        "outcome": "delivered",
        "outcomeReason": "delivered",
        "packets": [
          {
            "key": "tcp [R.] seq 0 ack 988861061",
            "outcome": "delivered",
            "outcomeReason": null
          }
        ],
        "conclusions": [
          "Delivered: the reply reached default/a (seen at pod:default/a/eth0).",
          "Path unknown: the reply reached default/a through lxca, which both the host stack and Cilium's bpf_redirect() to the lxc (no BPF host routing) do; pwru (ip_forward or skb_do_redirect), an iptables TRACE or cilium monitor (-> stack or not) on the node would decide."
        ]
      }
    ]);
  });

  it(`tcp-syn-lost: a SYN retransmitted and never answered: lost, even with the destination's capture silent`, () => {
    expect(scenario('tcp-syn-lost')).toEqual([
      {
        "flow": "tcp 10.200.1.10 > 10.200.2.20",
        "direction": "request",
        "path": [
          "unknown"
        ],
        "verdict": "lost",
        "dropPoint": null,
        "outcome": "lost",
        "outcomeReason": "lost: was sent 4 times (the SYN retransmitted) and never answered, and no tool reported a drop",
        "packets": [
          {
            "key": "tcp [S] seq 3423760805",
            "outcome": "lost",
            "outcomeReason": "was sent 4 times (the SYN retransmitted) and never answered, and no tool reported a drop"
          }
        ],
        "conclusions": [
          "Lost: the request was sent 4 times (the SYN retransmitted) and never answered, and no tool reported a drop.",
          "Path unknown: no probe saw enough of the request to tell how it travelled; capture the lxc of both pods and run pwru or cilium monitor on the node."
        ]
      }
    ]);
  });

  it(`udp-unreachable: a datagram answered by ICMP port unreachable: refused, and the ICMP error says whose answer it is`, () => {
    expect(scenario('udp-unreachable')).toEqual([
      {
        "flow": "udp 10.200.1.10 > 10.200.2.20",
        "direction": "request",
        "path": [
          "unknown"
        ],
        "verdict": "delivered",
        "dropPoint": null,
        "outcome": "refused",
        "outcomeReason": "answered by ICMP port unreachable (udp port 5000) from the destination (nothing listens there on udp port 5000)",
        "packets": [],
        "conclusions": [
          "Refused: the request reached 10.200.2.20 (default/b)'s host and was answered by ICMP port unreachable (udp port 5000) from the destination (nothing listens there on udp port 5000).",
          "Path unknown: the request reached default/b through lxcb, which both the host stack and Cilium's bpf_redirect() to the lxc (no BPF host routing) do; pwru (ip_forward or skb_do_redirect), an iptables TRACE or cilium monitor (-> stack or not) on the node would decide."
        ]
      },
      {
        "flow": "icmp 10.200.2.20 > 10.200.1.10",
        "direction": "reply",
        "path": [
          "unknown"
        ],
        "verdict": "delivered",
        "dropPoint": null,
        "outcome": "delivered",
        "outcomeReason": null,
        "packets": [],
        "conclusions": [
          "Delivered: the reply reached default/a (seen at pod:default/a/eth0).",
          "Path unknown: the reply reached default/a through lxca, which both the host stack and Cilium's bpf_redirect() to the lxc (no BPF host routing) do; pwru (ip_forward or skb_do_redirect), an iptables TRACE or cilium monitor (-> stack or not) on the node would decide.",
          "ICMP port unreachable (udp port 5000) from 10.200.2.20: the answer to udp 10.200.1.10 (default/a) -> 10.200.2.20 (default/b) port 5000."
        ]
      }
    ]);
  });

  it(`frag-needed: a DF ping larger than the next link: the node's ICMP fragmentation needed names where and why it was dropped`, () => {
    expect(scenario('frag-needed')).toEqual([
      {
        "flow": "icmp 10.200.1.10 > 10.200.2.20",
        "direction": "request",
        "path": [
          "unknown"
        ],
        "verdict": "dropped",
        "dropPoint": "10.200.1.1",
        "outcome": "dropped",
        "outcomeReason": "dropped at 10.200.1.1 (too big for the path: 10.200.1.1 answered ICMP fragmentation needed (mtu 1000) and did not forward it (DF set))",
        "packets": [
          {
            "key": "icmp id 28274 seq 1",
            "outcome": "dropped",
            "outcomeReason": "too big for the path: 10.200.1.1 answered ICMP fragmentation needed (mtu 1000) and did not forward it (DF set)",
            "dropPoint": "10.200.1.1"
          }
        ],
        "conclusions": [
          "Dropped at 10.200.1.1: too big for the path: 10.200.1.1 answered ICMP fragmentation needed (mtu 1000) and did not forward it (DF set).",
          "Path unknown: no probe saw enough of the request to tell how it travelled; capture the lxc of both pods and run pwru or cilium monitor on the node."
        ]
      },
      {
        "flow": "icmp 10.200.1.1 > 10.200.1.10",
        "direction": "reply",
        "path": [
          "unknown"
        ],
        "verdict": "delivered",
        "dropPoint": null,
        "outcome": "delivered",
        "outcomeReason": null,
        "packets": [],
        "conclusions": [
          "Delivered: the reply reached default/a (seen at pod:default/a/eth0).",
          "Path unknown: the reply reached default/a through lxca, which both the host stack and Cilium's bpf_redirect() to the lxc (no BPF host routing) do; pwru (ip_forward or skb_do_redirect), an iptables TRACE or cilium monitor (-> stack or not) on the node would decide.",
          "ICMP fragmentation needed (mtu 1000) from 10.200.1.1: the answer to icmp 10.200.1.10 (default/a) -> 10.200.2.20 (default/b)."
        ]
      }
    ]);
  });

  it(`iptables-trace: the same refused connect with an iptables TRACE in the node: the stack's netfilter ran, so the path is host-stack; the trace's own packets are not counted twice`, () => {
    expect(scenario('iptables-trace', [{ file: 'iptables-trace/node-xtables-trace.txt', tool: 'iptables', node: 'node' }])).toEqual([
      {
        "flow": "tcp 10.200.1.10 > 10.200.2.20",
        "direction": "request",
        "path": [
          "host-stack"
        ],
        "verdict": "delivered",
        "dropPoint": null,
        "outcome": "refused",
        "outcomeReason": "refused: answered by RST (nothing listens on the port, or a firewall rejects it)",
        "packets": [
          {
            "key": "tcp [S] seq 661667584",
            "outcome": "refused",
            "outcomeReason": "answered by RST (nothing listens on the port, or a firewall rejects it)"
          },
          {
            "key": "trace id 8f83d19f ip-id 62700",
            "outcome": "unknown",
            "outcomeReason": "seen only by iptables, which do not show the packet the way a capture does"
          }
        ],
        "conclusions": [
          "Refused: the request reached default/b's host and was answered by RST (nothing listens on the port, or a firewall rejects it).",
          "Path host-stack: the request entered the host through lxca, was routed by the node's network stack and left through lxcb into default/b."
        ]
      },
      {
        "flow": "tcp 10.200.2.20 > 10.200.1.10",
        "direction": "reply",
        "path": [
          "host-stack"
        ],
        "verdict": "delivered",
        "dropPoint": null,
        "outcome": "delivered",
        "outcomeReason": "delivered",
        "packets": [
          {
            "key": "tcp [R.] seq 0 ack 661667585",
            "outcome": "delivered",
            "outcomeReason": null
          },
          {
            "key": "trace id c8b41b2d ip-id 0",
            "outcome": "unknown",
            "outcomeReason": "seen only by iptables, which do not show the packet the way a capture does"
          }
        ],
        "conclusions": [
          "Delivered: the reply reached default/a (seen at pod:default/a/eth0).",
          "Path host-stack: the reply entered the host through lxcb, was routed by the node's network stack and left through lxca into default/a."
        ]
      }
    ]);
  });


  it('tcp-rst-vv: tcpdump -vv calls the SYN\'s TCP checksum incorrect at both pods (offload over veth): surfaced, said harmless, the RST (correct) not', () => {
    const flows = reportOfFixtures(DIR, [
      { file: 'tcp-rst-vv/a-eth0.txt', tool: 'tcpdump', point: 'pod:default/a/eth0' },
      { file: 'tcp-rst-vv/b-eth0.txt', tool: 'tcpdump', point: 'pod:default/b/eth0' },
    ], ENDPOINTS).flows;
    expect(flows.map((f) => ({ direction: f.direction, outcome: f.outcome, conclusions: f.conclusions, checksums: f.packets.flatMap((p) => p.hops.map((h) => [h.point, h.facts?.checksum ?? null])) }))).toEqual([
      {
        direction: 'request',
        outcome: 'refused',
        conclusions: [
          "Refused: the request reached default/b's host and was answered by RST (nothing listens on the port, or a firewall rejects it).",
          'Path unknown: no probe saw enough of the request to tell how it travelled; capture the lxc of both pods and run pwru or cilium monitor on the node.',
          'tcpdump showed an incorrect TCP checksum at pod:default/a/eth0, pod:default/b/eth0: what checksum offload looks like (the sender leaves it to the NIC, and over veth it is never filled in), harmless unless the receiver drops the packet for it (pwru TCP_CSUM/UDP_CSUM).',
        ],
        checksums: [
          ['pod:default/a/eth0', 'tcp cksum 0x18dc (incorrect -> 0x2cf9)'],
          ['pod:default/b/eth0', 'tcp cksum 0x18dc (incorrect -> 0x2cf9)'],
        ],
      },
      {
        direction: 'reply',
        outcome: 'delivered',
        conclusions: [
          'Delivered: the reply reached default/a (seen at pod:default/a/eth0).',
          'Path unknown: no probe saw enough of the reply to tell how it travelled; capture the lxc of both pods and run pwru or cilium monitor on the node.',
        ],
        checksums: [
          ['pod:default/b/eth0', null],
          ['pod:default/a/eth0', null],
        ],
      },
    ]);
  });
});
