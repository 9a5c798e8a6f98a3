import { analyzeFixtures, conclusionOf } from './analyze-fixture.js';

/**
 * A NAT rule a netfilter trace matched, with no later line of that packet: an accepted DNAT/SNAT
 * in the nat table is applied to that very packet (nf_nat_setup_info, then nf_nat_packet as the
 * hook returns), so the flow is translated to the rule's address; nf_tables traces only chains that
 * exist, so the trace's end says nothing of where the packet went. Captured here with the real
 * iptables-nft, xtables-monitor and tcpdump (make-dnat-no-continuation.sh): the server's capture
 * shows the SYN arriving at 10.88.2.2:8080, as the rule said.
 */
const DIR = 'test/fixtures/netfilter-netns/';
const XT = `${DIR}xtables-monitor-dnat-no-continuation.txt`;
const SERVER = `${DIR}server-eth0-behind-dnat.txt`;

describe('netfilter NAT rule without a continuation of its trace', () => {
  it('the trace alone: DNAT 10.88.9.9:80 -> 10.88.2.2:8080 at the router, and where the packet went next is unknown (not "discarded by routing")', async () => {
    const report = await analyzeFixtures([XT], { node: 'router' });
    expect(report.flows.map(conclusionOf)).toEqual(ALONE);
  });

  it('with the server capture: one connection, the reply paired with its translated request, no "missing reverse NAT" on the backend side, no SYN "retransmitted"', async () => {
    const report = await analyzeFixtures([XT, SERVER], { node: 'router' });
    expect(report.flows.map((f) => ({ ...conclusionOf(f), translations: f.translations, outcome: f.outcome, outcomeReason: f.outcomeReason }))).toEqual(BOTH);
  });

  it('a trace id nf_tables gives a later packet of the connection again (f33c3e9a) names one packet with its IPv4 id: five packets, not four', async () => {
    const report = await analyzeFixtures([XT], { node: 'router' });
    expect(report.flows.map((f) => f.packets.map((p) => p.key))).toEqual([
      ['trace id f33c3e9a ip-id 18780', 'trace id 123227a0 ip-id 18781', 'trace id f33c3e9a ip-id 18782', 'trace id c8d26078 ip-id 18783', 'trace id ae67d09c ip-id 18784'],
    ]);
  });

  it("a capture's TCP ACK without seq (tcpdump prints only its ack) is no hop of the SYN: it stays with the flow", async () => {
    const report = await analyzeFixtures([SERVER], { node: 'server' });
    expect(report.flows.map((f) => [f.packets.map((p) => [p.key, p.hops.map((h) => h.detail)]), (f.flowHops ?? []).map((h) => h.detail), f.outcomeReason])).toEqual(ACKS);
  });
});

const ALONE = [
  {
    "flow": "tcp 10.88.1.2 -> 10.88.9.9 request",
    "path": [
      "host-stack"
    ],
    "verdict": "unknown",
    "dropReason": null,
    "dropPoint": null,
    "seenAt": [
      "iptables:router"
    ],
    "notSeenAt": [],
    "notObserved": [],
    "conclusions": [
      "Not enough evidence to say whether the request was delivered: nothing watched 10.88.2.2's side, or it stayed silent.",
      "Path host-stack: the request entered the host on rt0 and was traced in PREROUTING (raw:PREROUTING -> nat:PREROUTING), and no later hook printed it: where it went after the routing decision is unknown, since nf_tables traces only chains that exist (iptables-nft creates one when a rule needs it); a chain in INPUT and FORWARD (or a capture on the way out) would decide whether it was discarded, delivered or forwarded. The last verdict traced: accept at raw:PREROUTING.",
      "Translated at iptables:router: destination translated (DNAT) 10.88.9.9:80 -> 10.88.2.2:8080."
    ],
    "evidence": [
      {
        "claim": "host-stack",
        "because": [
          "iptables TRACE on router: raw:PREROUTING -> nat:PREROUTING (in rt0); last verdict accept at raw:PREROUTING: the host's netfilter hooks ran"
        ]
      },
      {
        "claim": "translated",
        "because": [
          "netfilter trace: the packet matched -4 -t nat -A PREROUTING -d 10.88.9.9/32 -p tcp -m tcp --dport 80 -j DNAT --to-destination 10.88.2.2:8080 in nat:PREROUTING (verdict accept); the nat table sees only a connection's first packet, and an accepted DNAT is applied to that packet as it leaves the hook (nf_nat_setup_info, then nf_nat_packet): its destination 10.88.9.9:80 became 10.88.2.2:8080; no later line of the trace shows it"
        ]
      }
    ]
  }
];

// Before: the SYN 'was sent 2 times (the SYN retransmitted) and never answered' (the first pure ACK
// counted as its copy, and the reply of the backend was not paired with the translated request),
// and 'at host:router/eth0 its source had not been translated back (a missing or wrong reverse NAT)'.
const BOTH = [
  {
    "flow": "tcp 10.88.1.2 -> 10.88.9.9 request",
    "path": [
      "host-stack"
    ],
    "verdict": "delivered",
    "dropReason": null,
    "dropPoint": null,
    "seenAt": [
      "iptables:router",
      "host:router/eth0"
    ],
    "notSeenAt": [],
    "notObserved": [],
    "conclusions": [
      "Delivered: the request reached 10.88.2.2 (the reply was seen (host:router/eth0); 2 of its segments acknowledged by the receiver's TCP (an ack beyond their sequence numbers, at the point that saw them)).",
      "Path host-stack: the request entered the host on rt0 and was traced in PREROUTING (raw:PREROUTING -> nat:PREROUTING), and no later hook printed it: where it went after the routing decision is unknown, since nf_tables traces only chains that exist (iptables-nft creates one when a rule needs it); a chain in INPUT and FORWARD (or a capture on the way out) would decide whether it was discarded, delivered or forwarded. The last verdict traced: accept at raw:PREROUTING.",
      "Translated at iptables:router: destination translated (DNAT) 10.88.9.9:80 -> 10.88.2.2:8080."
    ],
    "evidence": [
      {
        "claim": "host-stack",
        "because": [
          "iptables TRACE on router: raw:PREROUTING -> nat:PREROUTING (in rt0); last verdict accept at raw:PREROUTING: the host's netfilter hooks ran"
        ]
      },
      {
        "claim": "delivered",
        "because": [
          "the reply was seen (host:router/eth0)",
          "2 of its segments acknowledged by the receiver's TCP (an ack beyond their sequence numbers, at the point that saw them)"
        ]
      },
      {
        "claim": "translated",
        "because": [
          "netfilter trace: the packet matched -4 -t nat -A PREROUTING -d 10.88.9.9/32 -p tcp -m tcp --dport 80 -j DNAT --to-destination 10.88.2.2:8080 in nat:PREROUTING (verdict accept); the nat table sees only a connection's first packet, and an accepted DNAT is applied to that packet as it leaves the hook (nf_nat_setup_info, then nf_nat_packet): its destination 10.88.9.9:80 became 10.88.2.2:8080; no later line of the trace shows it"
        ]
      }
    ],
    "translations": [
      {
        "point": "iptables:router",
        "kind": "dnat",
        "from": "10.88.9.9:80",
        "to": "10.88.2.2:8080",
        "evidence": "netfilter trace: the packet matched -4 -t nat -A PREROUTING -d 10.88.9.9/32 -p tcp -m tcp --dport 80 -j DNAT --to-destination 10.88.2.2:8080 in nat:PREROUTING (verdict accept); the nat table sees only a connection's first packet, and an accepted DNAT is applied to that packet as it leaves the hook (nf_nat_setup_info, then nf_nat_packet): its destination 10.88.9.9:80 became 10.88.2.2:8080; no later line of the trace shows it"
      }
    ],
    "outcome": "delivered",
    "outcomeReason": "all 3 delivered"
  },
  {
    "flow": "tcp 10.88.2.2 -> 10.88.1.2 reply",
    "path": [
      "unknown"
    ],
    "verdict": "delivered",
    "dropReason": null,
    "dropPoint": null,
    "seenAt": [
      "host:router/eth0"
    ],
    "notSeenAt": [],
    "notObserved": [],
    "conclusions": [
      "Per packet: 1 of 2 delivered; 1 unknown: nothing watched the destination.",
      "Path unknown: no probe saw enough of the reply to tell how it travelled; capture the host side of both pods' veths and run pwru on the node.",
      "Translated at iptables:router: translated back (reverse NAT) 10.88.2.2:8080 -> 10.88.9.9:80."
    ],
    "evidence": [
      {
        "claim": "delivered",
        "because": [
          "1 of its segments acknowledged by the receiver's TCP (an ack beyond their sequence numbers, at the point that saw them)"
        ]
      },
      {
        "claim": "translated",
        "because": [
          "reverse of the DNAT (10.88.9.9:80 -> 10.88.2.2:8080): conntrack translates the reply's source back"
        ]
      }
    ],
    "translations": [
      {
        "point": "iptables:router",
        "kind": "revnat",
        "from": "10.88.2.2:8080",
        "to": "10.88.9.9:80",
        "evidence": "reverse of the DNAT (10.88.9.9:80 -> 10.88.2.2:8080): conntrack translates the reply's source back"
      }
    ],
    "outcome": "delivered",
    "outcomeReason": "1 of 2 delivered; 1 unknown: nothing watched the destination"
  }
];

const ACKS = [
  [
    [
      [
        "tcp [S] seq 4008202277",
        [
          "TCP [S] seq 4008202277"
        ]
      ],
      [
        "tcp [P.] seq 1 ack 1",
        [
          "TCP [P.] seq 1 ack 1"
        ]
      ],
      [
        "tcp [F.] seq 4 ack 1",
        [
          "TCP [F.] seq 4 ack 1"
        ]
      ]
    ],
    [
      "TCP [.] ack 1",
      "TCP [.] ack 2"
    ],
    "all 3 delivered"
  ],
  [
    [
      [
        "tcp [S.] seq 4254040440 ack 4008202278",
        [
          "TCP [S.] seq 4254040440 ack 4008202278"
        ]
      ],
      [
        "tcp [F.] seq 1 ack 5",
        [
          "TCP [F.] seq 1 ack 5"
        ]
      ]
    ],
    [
      "TCP [.] ack 4"
    ],
    "1 of 2 delivered; 1 unknown: nothing watched the destination"
  ]
];
