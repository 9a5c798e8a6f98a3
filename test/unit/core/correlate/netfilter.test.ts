import { analyzeFixtures, conclusionOf } from './analyze-fixture.js';

/**
 * Host and netfilter traffic: iptables/nft/xtables-monitor traces are grouped by trace id into one
 * packet; traffic the host sent (OUTPUT, IN= empty), loopback (lo), traffic to the host (INPUT) and
 * forwarded traffic (FORWARD) are told by the chains and interfaces they crossed, never as lxc to
 * lxc; a trace's final verdict (accept in INPUT, drop) is the verdict. The two netfilter-netns
 * fixtures were captured here with the real tools (make-netns-traces.sh): no public transcript
 * shows loopback or a DROP verdict.
 */
describe('netfilter traces', () => {
  it("nft monitor trace: the lines of one trace id are one packet, and its final accept in INPUT delivers it to the host", async () => {
    const report = await analyzeFixtures(["test/fixtures/iptables-trace/nft-monitor-trace-nftrace-kube-nodeports.txt"]);
    expect(report.flows.map((f) => ({ ...conclusionOf(f), packets: f.packets.map((p) => [p.key, p.hops.length]) }))).toEqual([
      {
        "flow": "tcp 192.168.8.4 -> 192.168.8.3 request",
        "path": [
          "host-stack"
        ],
        "verdict": "delivered",
        "dropReason": null,
        "dropPoint": null,
        "seenAt": [
          "iptables:?"
        ],
        "notSeenAt": [],
        "notObserved": [],
        "conclusions": [
          "Delivered: the request reached 192.168.8.3 (netfilter accepted it into the host (accept at filter:INPUT)).",
          "Path host-stack: the request entered the host on eth0 addressed to the host itself (netfilter INPUT), not forwarded; chains crossed: nftrace-table:nftrace-chain -> filter:INPUT -> filter:KUBE-NODEPORTS -> filter:KUBE-FIREWALL. The last verdict traced: accept at filter:INPUT."
        ],
        "evidence": [
          {
            "claim": "host-stack",
            "because": [
              "iptables TRACE on ?: nftrace-table:nftrace-chain -> filter:INPUT -> filter:KUBE-NODEPORTS -> filter:KUBE-FIREWALL (in eth0); last verdict accept at filter:INPUT: the host's netfilter hooks ran"
            ]
          },
          {
            "claim": "delivered",
            "because": [
              "netfilter accepted it into the host (accept at filter:INPUT)"
            ]
          }
        ],
        "packets": [
          [
            "trace id 8974f599 ip-id 51749",
            9
          ]
        ]
      }
    ]);
  });

  it("kernel log TRACE: a ping the host sent (OUTPUT, IN= empty) and its answer to the host (INPUT), told by their chains", async () => {
    const report = await analyzeFixtures(["test/fixtures/iptables-trace/kernel-dmesg-wHT-output-and-input.txt"]);
    expect(report.flows.map((f) => ({ ...conclusionOf(f), packets: f.packets.map((p) => [p.key, p.hops.length]) }))).toEqual([
      {
        "flow": "icmp 192.168.10.70 -> 1.1.1.1 request",
        "path": [
          "host-stack"
        ],
        "verdict": "delivered",
        "dropReason": null,
        "dropPoint": null,
        "seenAt": [
          "iptables:?"
        ],
        "notSeenAt": [],
        "notObserved": [],
        "conclusions": [
          "Delivered: the request reached 1.1.1.1 (the reply was seen (iptables:?)).",
          "Path host-stack: the request was sent by the host itself (netfilter OUTPUT, no input interface), not by a pod, and left on wlp3s0; chains crossed: raw:OUTPUT -> nat:OUTPUT -> filter:OUTPUT -> nat:POSTROUTING."
        ],
        "evidence": [
          {
            "claim": "host-stack",
            "because": [
              "iptables TRACE on ?: raw:OUTPUT -> nat:OUTPUT -> filter:OUTPUT -> nat:POSTROUTING (no input interface, out wlp3s0): the host's netfilter hooks ran"
            ]
          },
          {
            "claim": "delivered",
            "because": [
              "the reply was seen (iptables:?)"
            ]
          }
        ],
        "packets": [
          [
            "icmp id 11 seq 1",
            4
          ]
        ]
      },
      {
        "flow": "icmp 1.1.1.1 -> 192.168.10.70 reply",
        "path": [
          "host-stack"
        ],
        "verdict": "unknown",
        "dropReason": null,
        "dropPoint": null,
        "seenAt": [
          "iptables:?"
        ],
        "notSeenAt": [],
        "notObserved": [],
        "conclusions": [
          "Not enough evidence to say whether the reply was delivered: nothing watched 192.168.10.70's side, or it stayed silent.",
          "Path host-stack: the reply entered the host on wlp3s0 addressed to the host itself (netfilter INPUT), not forwarded; chains crossed: raw:PREROUTING -> filter:INPUT."
        ],
        "evidence": [
          {
            "claim": "host-stack",
            "because": [
              "iptables TRACE on ?: raw:PREROUTING -> filter:INPUT (in wlp3s0): the host's netfilter hooks ran"
            ]
          }
        ],
        "packets": [
          [
            "icmp id 11 seq 1",
            2
          ]
        ]
      }
    ]);
  });

  it("xtables-monitor: a container ping forwarded through docker0 (FORWARD), and the answer translated back in PREROUTING (one reply flow: the trace id shows the reverse NAT, and the request is masqueraded to the address the answer came back to)", async () => {
    const report = await analyzeFixtures(["test/fixtures/iptables-trace/xtables-monitor-docker0-icmp-forward-masquerade.txt"]);
    expect(report.flows.map((f) => ({ ...conclusionOf(f), packets: f.packets.map((p) => [p.key, p.hops.length]) }))).toEqual([
      {
        "flow": "ip 172.17.0.2 -> 52.142.124.215 request",
        "path": [
          "host-stack"
        ],
        "verdict": "delivered",
        "dropReason": null,
        "dropPoint": null,
        "seenAt": [
          "iptables:?"
        ],
        "notSeenAt": [],
        "notObserved": [],
        "conclusions": [
          "Delivered: the request reached 52.142.124.215 (the reply was seen (iptables:?)).",
          "Path host-stack: the request entered the host on docker0, was routed by its network stack (netfilter FORWARD) and left on ens160; chains crossed: raw:PREROUTING -> nat:PREROUTING -> filter:FORWARD -> filter:DOCKER-USER -> filter:DOCKER-ISOLATION-STAGE-1 -> filter:DOCKER-ISOLATION-STAGE-2 -> nat:POSTROUTING. The last verdict traced: accept at nat:POSTROUTING.",
          "Translated at iptables:?: source masqueraded to the node address 172.17.0.2 -> 192.168.91.132."
        ],
        "evidence": [
          {
            "claim": "host-stack",
            "because": [
              "iptables TRACE on ?: raw:PREROUTING -> nat:PREROUTING -> filter:FORWARD -> filter:DOCKER-USER -> filter:DOCKER-ISOLATION-STAGE-1 -> filter:DOCKER-ISOLATION-STAGE-2 -> nat:POSTROUTING (in docker0, out ens160); last verdict accept at nat:POSTROUTING: the host's netfilter hooks ran"
            ]
          },
          {
            "claim": "delivered",
            "because": [
              "the reply was seen (iptables:?)"
            ]
          },
          {
            "claim": "translated",
            "because": [
              "its reply came back to 192.168.91.132 and was translated back to 172.17.0.2 (rule -4 -t nat -A POSTROUTING -s 172.17.0.0/16 ! -o docker0 -j MASQUERADE, nat:POSTROUTING)"
            ]
          }
        ],
        "packets": [
          [
            "ip ip-id 33480",
            13
          ]
        ]
      },
      {
        "flow": "ip 52.142.124.215 -> 172.17.0.2 reply",
        "path": [
          "host-stack"
        ],
        "verdict": "unknown",
        "dropReason": null,
        "dropPoint": null,
        "seenAt": [
          "iptables:?"
        ],
        "notSeenAt": [],
        "notObserved": [],
        "conclusions": [
          "Not enough evidence to say whether the reply was delivered: nothing watched 172.17.0.2's side, or it stayed silent.",
          "Path host-stack: the reply entered the host on ens160, was routed by its network stack (netfilter FORWARD) and left on docker0; chains crossed: raw:PREROUTING -> filter:FORWARD -> filter:DOCKER-USER -> filter:DOCKER-ISOLATION-STAGE-1. The last verdict traced: accept at filter:FORWARD.",
          "Translated at iptables:?: translated back (reverse NAT) 192.168.91.132 -> 172.17.0.2."
        ],
        "evidence": [
          {
            "claim": "host-stack",
            "because": [
              "iptables TRACE on ?: raw:PREROUTING -> filter:FORWARD -> filter:DOCKER-USER -> filter:DOCKER-ISOLATION-STAGE-1 (in ens160, out docker0); last verdict accept at filter:FORWARD: the host's netfilter hooks ran"
            ]
          },
          {
            "claim": "translated",
            "because": [
              "netfilter trace 5d0e7204: the packet 52.142.124.215 > 192.168.91.132 went on as 52.142.124.215 > 172.17.0.2 in filter:FORWARD, no NAT rule matched: conntrack translated an established connection back"
            ]
          }
        ],
        "packets": [
          [
            "ip ip-id 8322",
            8
          ]
        ]
      }
    ]);
  });

  it("kernel log TRACE: traced in PREROUTING and never in INPUT or FORWARD: the routing decision discarded it", async () => {
    const report = await analyzeFixtures(["test/fixtures/iptables-trace/kernel-syslog-ubuntu-forward-missing.txt"]);
    expect(report.flows.map((f) => ({ ...conclusionOf(f), packets: f.packets.map((p) => [p.key, p.hops.length]) }))).toEqual([
      {
        "flow": "icmp 192.0.2.154 -> 192.0.2.38 request",
        "path": [
          "host-stack"
        ],
        "verdict": "unknown",
        "dropReason": null,
        "dropPoint": null,
        "seenAt": [
          "iptables:?"
        ],
        "notSeenAt": [],
        "notObserved": [],
        "conclusions": [
          "Not enough evidence to say whether the request was delivered: nothing watched 192.0.2.38's side, or it stayed silent.",
          "Path host-stack: the request entered the host on p1p1.172 and was traced in PREROUTING (raw:PREROUTING -> mangle:PREROUTING -> nat:PREROUTING) but reached neither INPUT nor FORWARD: the routing decision discarded it (no route, rp_filter, forwarding disabled), unless the trace was cut short."
        ],
        "evidence": [
          {
            "claim": "host-stack",
            "because": [
              "iptables TRACE on ?: raw:PREROUTING -> mangle:PREROUTING -> nat:PREROUTING (in p1p1.172): the host's netfilter hooks ran"
            ]
          }
        ],
        "packets": [
          [
            "icmp id 1 seq 571",
            3
          ]
        ]
      }
    ]);
  });

  it("xtables-monitor (captured here): a ping over loopback, accepted in INPUT", async () => {
    const report = await analyzeFixtures(["test/fixtures/netfilter-netns/xtables-monitor-netns-loopback-icmp-captured-here.txt"]);
    expect(report.flows.map((f) => ({ ...conclusionOf(f), packets: f.packets.map((p) => [p.key, p.hops.length]) }))).toEqual([
      {
        "flow": "ip 127.0.0.1 -> 127.0.0.1 request",
        "path": [
          "host-stack"
        ],
        "verdict": "delivered",
        "dropReason": null,
        "dropPoint": null,
        "seenAt": [
          "iptables:?"
        ],
        "notSeenAt": [],
        "notObserved": [],
        "conclusions": [
          "Delivered: the request reached 127.0.0.1 (netfilter accepted it into the host (accept at filter:INPUT)).",
          "Path host-stack: the request went over the host's loopback (lo) and never left the host; chains crossed: raw:OUTPUT -> filter:OUTPUT -> raw:PREROUTING -> filter:INPUT. The last verdict traced: accept at filter:INPUT."
        ],
        "evidence": [
          {
            "claim": "host-stack",
            "because": [
              "iptables TRACE on ?: raw:OUTPUT -> filter:OUTPUT -> raw:PREROUTING -> filter:INPUT (in lo, out lo); last verdict accept at filter:INPUT: the host's netfilter hooks ran"
            ]
          },
          {
            "claim": "delivered",
            "because": [
              "netfilter accepted it into the host (accept at filter:INPUT)"
            ]
          }
        ],
        "packets": [
          [
            "ip ip-id 63105",
            6
          ],
          [
            "ip ip-id 63106",
            6
          ]
        ]
      }
    ]);
  });

  it("xtables-monitor (captured here): the final verdict drop in INPUT is the verdict", async () => {
    const report = await analyzeFixtures(["test/fixtures/netfilter-netns/xtables-monitor-netns-veth-input-drop-captured-here.txt"]);
    expect(report.flows.map((f) => ({ ...conclusionOf(f), packets: f.packets.map((p) => [p.key, p.hops.length]) }))).toEqual([
      {
        "flow": "ip 192.0.2.1 -> 192.0.2.2 request",
        "path": [
          "host-stack"
        ],
        "verdict": "dropped",
        "dropReason": "iptables filter:INPUT DROP",
        "dropPoint": "iptables:?",
        "seenAt": [
          "iptables:?"
        ],
        "notSeenAt": [],
        "notObserved": [],
        "conclusions": [
          "Dropped at iptables:?: iptables filter:INPUT DROP.",
          "Path host-stack: the request entered the host on veth-b addressed to the host itself (netfilter INPUT), not forwarded; chains crossed: raw:PREROUTING -> filter:INPUT. The last verdict traced: drop at filter:INPUT."
        ],
        "evidence": [
          {
            "claim": "host-stack",
            "because": [
              "iptables TRACE on ?: raw:PREROUTING -> filter:INPUT (in veth-b); last verdict drop at filter:INPUT: the host's netfilter hooks ran"
            ]
          },
          {
            "claim": "dropped",
            "because": [
              "filter:INPUT:rule:0x5:DROP  -4 -t filter -A INPUT -i veth-b -p icmp -m icmp --icmp-type 8 -j DROP"
            ]
          }
        ],
        "packets": [
          [
            "ip ip-id 55866",
            3
          ]
        ]
      }
    ]);
  });

});
