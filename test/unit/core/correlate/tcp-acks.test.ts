import { analyzeFixtures, conclusionOf } from './analyze-fixture.js';

/**
 * A TCP segment with data or FIN is delivered when its receiver's cumulative ACK goes beyond its
 * first sequence number (RFC 9293 3.4), in either direction. tcpdump prints seq and ack relative to
 * a base of its own per capture (print-tcp.c), so only numbers of one capture point compare, and
 * only when close. Captured here (test/fixtures/sweep/make-keepalive.sh): a 2-byte send with
 * keepalives, whose pure ACKs and probes carry no seq in tcpdump's words.
 */
describe('TCP acknowledgments', () => {
  it('data and FIN segments acknowledged by the other side are delivered; the SYN-ACK, acked only in another numbering, stays unknown', async () => {
    const report = await analyzeFixtures(['test/fixtures/sweep/client-keepalive.txt']);
    expect(report.flows.map((f) => ({ ...conclusionOf(f), outcome: f.outcome, outcomeReason: f.outcomeReason, packets: f.packets.map((p) => [p.key, p.outcome, p.outcomeReason ?? null]) }))).toEqual(EXPECTED);
  });
});

// Before: the request was '1 of 3 delivered; 2 unknown: nothing watched the destination' and the reply 'unknown'.
const EXPECTED = [
  {
    "flow": "tcp 10.98.0.1 -> 10.98.0.2 request",
    "path": [
      "unknown"
    ],
    "verdict": "delivered",
    "dropReason": null,
    "dropPoint": null,
    "seenAt": [
      "host:?/eth0"
    ],
    "notSeenAt": [],
    "notObserved": [],
    "conclusions": [
      "Delivered: the request reached 10.98.0.2 (the reply was seen (host:?/eth0); 2 of its segments acknowledged by the receiver's TCP (an ack beyond their sequence numbers, at the point that saw them)).",
      "Path unknown: no probe saw enough of the request to tell how it travelled; capture the host side of both pods' veths and run pwru on the node."
    ],
    "evidence": [
      {
        "claim": "delivered",
        "because": [
          "the reply was seen (host:?/eth0)",
          "2 of its segments acknowledged by the receiver's TCP (an ack beyond their sequence numbers, at the point that saw them)"
        ]
      }
    ],
    "outcome": "delivered",
    "outcomeReason": "all 3 delivered",
    "packets": [
      [
        "tcp [S] seq 4008497968",
        "delivered",
        "its answer was seen"
      ],
      [
        "tcp [P.] seq 1 ack 1",
        "delivered",
        "acknowledged by its receiver's TCP (an ack beyond its sequence number)"
      ],
      [
        "tcp [F.] seq 3 ack 1",
        "delivered",
        "acknowledged by its receiver's TCP (an ack beyond its sequence number)"
      ]
    ]
  },
  {
    "flow": "tcp 10.98.0.2 -> 10.98.0.1 reply",
    "path": [
      "unknown"
    ],
    "verdict": "delivered",
    "dropReason": null,
    "dropPoint": null,
    "seenAt": [
      "host:?/eth0"
    ],
    "notSeenAt": [],
    "notObserved": [],
    "conclusions": [
      "Per packet: 1 of 2 delivered; 1 unknown: nothing watched the destination.",
      "Path unknown: no probe saw enough of the reply to tell how it travelled; capture the host side of both pods' veths and run pwru on the node."
    ],
    "evidence": [
      {
        "claim": "delivered",
        "because": [
          "1 of its segments acknowledged by the receiver's TCP (an ack beyond their sequence numbers, at the point that saw them)"
        ]
      }
    ],
    "outcome": "delivered",
    "outcomeReason": "1 of 2 delivered; 1 unknown: nothing watched the destination",
    "packets": [
      [
        "tcp [S.] seq 3572252225 ack 4008497969",
        "unknown",
        "nothing watched the destination"
      ],
      [
        "tcp [F.] seq 1 ack 4",
        "delivered",
        "acknowledged by its receiver's TCP (an ack beyond its sequence number)"
      ]
    ]
  }
];
