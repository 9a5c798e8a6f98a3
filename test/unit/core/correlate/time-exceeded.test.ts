import { analyzeFixtures, conclusionOf } from './analyze-fixture.js';

/**
 * ICMP time exceeded: a router that decrements a packet's TTL (IPv6: hop limit) to zero discards
 * it and answers its source with time exceeded (RFC 792, RFC 4443). The packet went no further than
 * that router: dropped there, not "unknown". tcpdump without -v does not print the packet the
 * error quotes, so it is the sender's packet seen at the same point just before the error. Captured
 * here (test/fixtures/sweep/make-sweep.sh): `ping -t 1` from 10.99.1.2 through the router 10.99.1.1,
 * seen by tcpdump -i any (cooked v2) and by dumpcap on both router ports (one pcapng, two interfaces).
 */
async function timeExceeded(file: string) {
  const report = await analyzeFixtures([file]);
  const req = report.flows.find((x) => x.protocol === 'icmp' && x.srcIp === '10.99.1.2' && x.dstIp === '10.99.2.2')!;
  const err = report.flows.find((x) => x.protocol === 'icmp' && x.srcIp === '10.99.1.1')!;
  return {
    request: { ...conclusionOf(req), outcome: req.outcome, outcomeReason: req.outcomeReason, packets: req.packets.map((p) => [p.key, p.outcome, p.outcomeReason ?? null, p.dropPoint ?? null]) },
    error: err.conclusions,
  };
}

describe('ICMP time exceeded', () => {
  it('tcpdump -i any on the router: the TTL-1 ping is dropped at the router that answered time exceeded; the other pings stay delivered', async () => {
    expect(await timeExceeded('test/fixtures/sweep/router-any.txt')).toEqual(ANY);
  });

  it('the same on a pcapng of both router ports', async () => {
    expect(await timeExceeded('test/fixtures/sweep/router-two-ports.pcapng')).toEqual(PCAPNG);
  });
});

// Before: the TTL-1 ping was '1 unknown: nothing watched the destination', and the error named no packet.
const ANY = {
  "request": {
    "flow": "icmp 10.99.1.2 -> 10.99.2.2 request",
    "path": [
      "unknown"
    ],
    "verdict": "dropped",
    "dropReason": "its TTL ran out at 10.99.1.1, which answered ICMP time exceeded in-transit (seen at host:?/rt0 0.031 ms after it)",
    "dropPoint": "10.99.1.1",
    "seenAt": [
      "host:?/rt0",
      "host:?/rt1"
    ],
    "notSeenAt": [],
    "notObserved": [],
    "conclusions": [
      "Per packet: 3 of 4 delivered; 1 dropped at 10.99.1.1 (its TTL ran out at 10.99.1.1, which answered ICMP time exceeded in-transit (seen at host:?/rt0 0.031 ms after it)).",
      "Path unknown: no probe saw enough of the request to tell how it travelled; capture the host side of both pods' veths and run pwru on the node."
    ],
    "evidence": [
      {
        "claim": "delivered",
        "because": [
          "the reply was seen (host:?/rt1, host:?/rt0)"
        ]
      },
      {
        "claim": "dropped",
        "because": [
          "its TTL ran out at 10.99.1.1, which answered ICMP time exceeded in-transit (seen at host:?/rt0 0.031 ms after it)"
        ]
      }
    ],
    "outcome": "dropped",
    "outcomeReason": "3 of 4 delivered; 1 dropped at 10.99.1.1 (its TTL ran out at 10.99.1.1, which answered ICMP time exceeded in-transit (seen at host:?/rt0 0.031 ms after it))",
    "packets": [
      [
        "icmp id 30263 seq 1",
        "delivered",
        "its answer was seen",
        null
      ],
      [
        "icmp id 30263 seq 2",
        "delivered",
        "its answer was seen",
        null
      ],
      [
        "icmp id 30265 seq 1",
        "dropped",
        "its TTL ran out at 10.99.1.1, which answered ICMP time exceeded in-transit (seen at host:?/rt0 0.031 ms after it)",
        "10.99.1.1"
      ],
      [
        "icmp id 30266 seq 1",
        "delivered",
        "its answer was seen",
        null
      ]
    ]
  },
  "error": [
    "Not enough evidence to say whether the reply was delivered: nothing watched 10.99.1.2's side, or it stayed silent.",
    "Path unknown: no probe saw enough of the reply to tell how it travelled; capture the host side of both pods' veths and run pwru on the node.",
    "ICMP time exceeded from 10.99.1.1: the answer to icmp 10.99.1.2 -> 10.99.2.2 (icmp id 30265 seq 1), whose TTL ran out there."
  ]
};

const PCAPNG = {
  "request": {
    "flow": "icmp 10.99.1.2 -> 10.99.2.2 request",
    "path": [
      "unknown"
    ],
    "verdict": "dropped",
    "dropReason": "its TTL ran out at 10.99.1.1, which answered ICMP time exceeded in-transit (seen at host:?/rt0 0.031 ms after it)",
    "dropPoint": "10.99.1.1",
    "seenAt": [
      "host:?/rt0",
      "host:?/rt1"
    ],
    "notSeenAt": [],
    "notObserved": [],
    "conclusions": [
      "Per packet: 3 of 4 delivered; 1 dropped at 10.99.1.1 (its TTL ran out at 10.99.1.1, which answered ICMP time exceeded in-transit (seen at host:?/rt0 0.031 ms after it)).",
      "Path unknown: no probe saw enough of the request to tell how it travelled; capture the host side of both pods' veths and run pwru on the node."
    ],
    "evidence": [
      {
        "claim": "delivered",
        "because": [
          "the reply was seen (host:?/rt0, host:?/rt1)"
        ]
      },
      {
        "claim": "dropped",
        "because": [
          "its TTL ran out at 10.99.1.1, which answered ICMP time exceeded in-transit (seen at host:?/rt0 0.031 ms after it)"
        ]
      }
    ],
    "outcome": "dropped",
    "outcomeReason": "3 of 4 delivered; 1 dropped at 10.99.1.1 (its TTL ran out at 10.99.1.1, which answered ICMP time exceeded in-transit (seen at host:?/rt0 0.031 ms after it))",
    "packets": [
      [
        "icmp id 30263 seq 1",
        "delivered",
        "its answer was seen",
        null
      ],
      [
        "icmp id 30263 seq 2",
        "delivered",
        "its answer was seen",
        null
      ],
      [
        "icmp id 30265 seq 1",
        "dropped",
        "its TTL ran out at 10.99.1.1, which answered ICMP time exceeded in-transit (seen at host:?/rt0 0.031 ms after it)",
        "10.99.1.1"
      ],
      [
        "icmp id 30266 seq 1",
        "delivered",
        "its answer was seen",
        null
      ]
    ]
  },
  "error": [
    "Not enough evidence to say whether the reply was delivered: nothing watched 10.99.1.2's side, or it stayed silent.",
    "Path unknown: no probe saw enough of the reply to tell how it travelled; capture the host side of both pods' veths and run pwru on the node.",
    "ICMP time exceeded from 10.99.1.1: the answer to icmp 10.99.1.2 -> 10.99.2.2 (icmp id 30265 seq 1), whose TTL ran out there."
  ]
};
