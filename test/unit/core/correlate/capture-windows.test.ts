import { analyzeFixtures, conclusionOf } from './analyze-fixture.js';

/**
 * Capture windows: a capture that saw packets was capturing from its first packet to its last, not
 * before or after. A packet that passed outside that window is not "not seen" there: the point was
 * not watching then, and its silence decides nothing (not redirect-peer at an lxc, not lost at a
 * pod). Captured here with the real tcpdump (make-capture-windows.sh): the capture on lxcb ran and
 * stopped before pod a pinged pod b; both pods' captures ran only during those pings.
 */
const DIR = 'test/fixtures/capture-windows/';
const LXCB = `${DIR}lxcb-earlier.txt`;
const POD_A = `${DIR}pod-a-eth0.txt`;
const POD_B = `${DIR}pod-b-eth0.txt`;

describe('capture windows', () => {
  it('an lxc whose capture had stopped is not silent about later packets, and a pod capture that began later does not make earlier packets lost', async () => {
    const report = await analyzeFixtures([LXCB, POD_A, POD_B], {
      node: 'node1',
      points: [{ point: 'pod:default/a/eth0', file: POD_A }, { point: 'pod:default/b/eth0', file: POD_B }],
    });
    const icmp = report.flows.filter((f) => f.protocol === 'icmp');
    expect(icmp.map(conclusionOf)).toEqual(EXPECTED);
    expect(icmp.map((f) => [f.outcome, f.outcomeReason, f.packets.map((p) => [p.key, p.outcome, p.outcomeReason])])).toEqual(EXPECTED_OUTCOMES);
  });
});

// Before the rule: lxcb 'was capturing (6 packets) but did not see this request' made it redirect-peer,
// and pod b's later capture made b's earlier pings 'lost'.
const EXPECTED = [
  {
    "flow": "icmp 10.77.1.20 (default/b) -> 10.77.0.1 request",
    "path": [
      "unknown"
    ],
    "verdict": "delivered",
    "dropReason": null,
    "dropPoint": null,
    "seenAt": [
      "host:node1/lxcb"
    ],
    "notSeenAt": [],
    "notObserved": [
      "pod:default/b/eth0",
      "iptables:node1",
      "kernel:node1"
    ],
    "conclusions": [
      "Delivered: the request reached 10.77.0.1 (the reply was seen (host:node1/lxcb)).",
      "pod:default/b/eth0 captured only from 02:49:47.264997 to 02:49:47.585112: not while this request's packets passed (02:49:42.203000 to 02:49:42.529099), so its silence says nothing about them.",
      "Path unknown: no probe saw enough of the request to tell how it travelled; capture the lxc of both pods and run pwru or cilium monitor on the node."
    ],
    "evidence": [
      {
        "claim": "delivered",
        "because": [
          "the reply was seen (host:node1/lxcb)"
        ]
      }
    ]
  },
  {
    "flow": "icmp 10.77.0.1 -> 10.77.1.20 (default/b) reply",
    "path": [
      "unknown"
    ],
    "verdict": "unknown",
    "dropReason": null,
    "dropPoint": null,
    "seenAt": [
      "host:node1/lxcb"
    ],
    "notSeenAt": [],
    "notObserved": [
      "pod:default/b/eth0"
    ],
    "conclusions": [
      "Not enough evidence to say whether the reply was delivered: nothing watched default/b's side, or it stayed silent.",
      "pod:default/b/eth0 captured only from 02:49:47.264997 to 02:49:47.585112: not while this reply's packets passed (02:49:42.203011 to 02:49:42.529125), so its silence says nothing about them.",
      "Path unknown: the reply reached default/b through lxcb, which both the host stack and Cilium's bpf_redirect() to the lxc (no BPF host routing) do; pwru (ip_forward or skb_do_redirect), an iptables TRACE or cilium monitor (-> stack or not) on the node would decide."
    ],
    "evidence": []
  },
  {
    "flow": "icmp 10.77.1.10 (default/a) -> 10.77.1.20 (default/b) request",
    "path": [
      "unknown"
    ],
    "verdict": "delivered",
    "dropReason": null,
    "dropPoint": null,
    "seenAt": [
      "pod:default/a/eth0",
      "pod:default/b/eth0"
    ],
    "notSeenAt": [],
    "notObserved": [
      "iptables:node1",
      "kernel:node1",
      "host:node1/lxcb"
    ],
    "conclusions": [
      "Delivered: the request reached default/b (seen at pod:default/b/eth0; the reply was seen (pod:default/a/eth0, pod:default/b/eth0)).",
      "host:node1/lxcb captured only from 02:49:42.202979 to 02:49:42.529125: not while this request's packets passed (02:49:47.264948 to 02:49:47.585095), so its silence says nothing about them.",
      "Path unknown: no probe saw enough of the request to tell how it travelled; capture the lxc of both pods and run pwru or cilium monitor on the node."
    ],
    "evidence": [
      {
        "claim": "delivered",
        "because": [
          "seen at pod:default/b/eth0",
          "the reply was seen (pod:default/a/eth0, pod:default/b/eth0)"
        ]
      }
    ]
  },
  {
    "flow": "icmp 10.77.1.20 (default/b) -> 10.77.1.10 (default/a) reply",
    "path": [
      "unknown"
    ],
    "verdict": "delivered",
    "dropReason": null,
    "dropPoint": null,
    "seenAt": [
      "pod:default/b/eth0",
      "pod:default/a/eth0"
    ],
    "notSeenAt": [],
    "notObserved": [
      "host:node1/lxcb",
      "iptables:node1",
      "kernel:node1"
    ],
    "conclusions": [
      "Delivered: the reply reached default/a (seen at pod:default/a/eth0).",
      "host:node1/lxcb captured only from 02:49:42.202979 to 02:49:42.529125: not while this reply's packets passed (02:49:47.265017 to 02:49:47.585118), so its silence says nothing about them.",
      "Path unknown: no probe saw enough of the reply to tell how it travelled; capture the lxc of both pods and run pwru or cilium monitor on the node."
    ],
    "evidence": [
      {
        "claim": "delivered",
        "because": [
          "seen at pod:default/a/eth0"
        ]
      }
    ]
  }
];
const EXPECTED_OUTCOMES = [
  [
    "delivered",
    "all 2 delivered",
    [
      [
        "icmp id 14048 seq 1",
        "delivered",
        "its answer was seen"
      ],
      [
        "icmp id 14048 seq 2",
        "delivered",
        "its answer was seen"
      ]
    ]
  ],
  [
    "unknown",
    null,
    [
      [
        "icmp id 14048 seq 1",
        "unknown",
        "pod:default/b/eth0's capture was not running when it passed (it captured before or after), so its silence says nothing"
      ],
      [
        "icmp id 14048 seq 2",
        "unknown",
        "pod:default/b/eth0's capture was not running when it passed (it captured before or after), so its silence says nothing"
      ]
    ]
  ],
  [
    "delivered",
    "all 2 delivered",
    [
      [
        "icmp id 14144 seq 1",
        "delivered",
        null
      ],
      [
        "icmp id 14144 seq 2",
        "delivered",
        null
      ]
    ]
  ],
  [
    "delivered",
    "all 2 delivered",
    [
      [
        "icmp id 14144 seq 1",
        "delivered",
        null
      ],
      [
        "icmp id 14144 seq 2",
        "delivered",
        null
      ]
    ]
  ]
];
