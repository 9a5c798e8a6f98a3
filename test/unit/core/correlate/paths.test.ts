import { analyze } from '../../../../src/app/analyze.js';
import { fileCatalog } from '../../../../src/adapters/files.js';

/**
 * Every path step from trace sets the lab captured in each datapath mode (test/fixtures/lab-paths:
 * real captures and iptables TRACE; monitor and pwru emulated from the kernel's real events).
 * Same node with BPF host routing (redirect-peer) is the real seed (test/golden/analyze-seed), the
 * host stack on real captures and a real TRACE is test/unit/core/correlate/outcomes.test.ts.
 * Each asserts the whole path conclusion of both directions: path, verdict, outcome, sentences and
 * the evidence of every path step.
 */
async function icmpFlows(set: string) {
  const report = await analyze({ paths: [`test/fixtures/lab-paths/${set}`], points: [], endpointFiles: [], maxPackets: 10 }, fileCatalog);
  return report.flows
    .filter((f) => f.protocol === 'icmp')
    .map((f) => ({
      direction: f.direction,
      path: f.path,
      verdict: f.verdict,
      outcome: f.outcome,
      outcomeReason: f.outcomeReason,
      conclusions: f.conclusions,
      evidence: f.evidence.filter((e) => f.path.includes(e.claim as never)),
    }));
}

describe('path steps on lab trace sets of each datapath mode', () => {
  it("legacy host routing, same node: bpf_redirect() to the destination lxc (redirect) both ways, not host-stack", async () => {
    expect(await icmpFlows('legacy-same-node')).toEqual([
      {
        "direction": "request",
        "path": [
          "redirect"
        ],
        "verdict": "delivered",
        "outcome": "delivered",
        "outcomeReason": "delivered",
        "conclusions": [
          "Delivered: the request reached default/cni-6vf5d (seen at pod:default/cni-6vf5d/eth0; cilium monitor: to-endpoint 3663; the reply was seen (cilium:bpf1/2836, kernel:bpf1, host:bpf1/lxca6b79db20db)).",
          "Path redirect: the request went from lxcf23a80dace7's tc ingress to lxca6b79db20db by bpf_redirect() and from there into default/cni-6vf5d, never routed by the node's network stack (no ip_forward, no netfilter FORWARD): Cilium's local delivery without BPF host routing."
        ],
        "evidence": [
          {
            "claim": "redirect",
            "because": [
              "host:bpf1/lxca6b79db20db saw it: it reached default/cni-6vf5d through the destination's host-side veth",
              "pwru on bpf1 (skb 0xffff888238cffe00): skb_do_redirect then a transmit on lxca6b79db20db with no ip_forward: bpf_redirect() to the destination lxc",
              "cilium monitor on bpf1: to-endpoint 3663 and no to-stack, delivered in BPF"
            ]
          }
        ]
      },
      {
        "direction": "reply",
        "path": [
          "redirect"
        ],
        "verdict": "delivered",
        "outcome": "delivered",
        "outcomeReason": "delivered",
        "conclusions": [
          "Delivered: the reply reached default/same (seen at pod:default/same/eth0; cilium monitor: to-endpoint 2836).",
          "After delivery, the kernel at kernel:bpf1 freed a copy with SKB_DROP_REASON_NO_SOCKET (sk_skb_reason_drop(SKB_DROP_REASON_NO_SOCKET)): that is the receiving stack's doing (no socket or port wanted it), not the datapath's.",
          "Path redirect: the reply went from lxca6b79db20db's tc ingress to lxcf23a80dace7 by bpf_redirect() and from there into default/same, never routed by the node's network stack (no ip_forward, no netfilter FORWARD): Cilium's local delivery without BPF host routing."
        ],
        "evidence": [
          {
            "claim": "redirect",
            "because": [
              "host:bpf1/lxcf23a80dace7 saw it: it reached default/same through the destination's host-side veth",
              "pwru on bpf1 (skb 0xffff888238cff900): skb_do_redirect then a transmit on lxcf23a80dace7 with no ip_forward: bpf_redirect() to the destination lxc",
              "cilium monitor on bpf1: to-endpoint 2836 and no to-stack, delivered in BPF"
            ]
          }
        ]
      }
    ]);
  });

  it("endpoint routes, same node: handed to the stack (monitor -> stack) and ip_forward: host-stack both ways", async () => {
    expect(await icmpFlows('endpoint-routes-same-node')).toEqual([
      {
        "direction": "request",
        "path": [
          "host-stack"
        ],
        "verdict": "delivered",
        "outcome": "delivered",
        "outcomeReason": "delivered",
        "conclusions": [
          "Delivered: the request reached default/cni-6vf5d (seen at pod:default/cni-6vf5d/eth0; cilium monitor: to-endpoint 3663; the reply was seen (cilium:bpf1, cilium:bpf1/2836, kernel:bpf1)).",
          "Path host-stack: the request entered the host through lxcbcb51894a73, was routed by the node's network stack and left through lxc840b156871e into default/cni-6vf5d."
        ],
        "evidence": [
          {
            "claim": "host-stack",
            "because": [
              "pwru on bpf1 (skb 0xffff8881f4336900): ip_forward, the host stack routed it",
              "cilium monitor on bpf1: to-stack at the agent, handed to the host stack"
            ]
          }
        ]
      },
      {
        "direction": "reply",
        "path": [
          "host-stack"
        ],
        "verdict": "delivered",
        "outcome": "delivered",
        "outcomeReason": "delivered",
        "conclusions": [
          "Delivered: the reply reached default/same (seen at pod:default/same/eth0; cilium monitor: to-endpoint 2836).",
          "After delivery, the kernel at kernel:bpf1 freed a copy with SKB_DROP_REASON_NO_SOCKET (sk_skb_reason_drop(SKB_DROP_REASON_NO_SOCKET)): that is the receiving stack's doing (no socket or port wanted it), not the datapath's.",
          "Path host-stack: the reply entered the host through lxc840b156871e, was routed by the node's network stack and left through lxcbcb51894a73 into default/same."
        ],
        "evidence": [
          {
            "claim": "host-stack",
            "because": [
              "pwru on bpf1 (skb 0xffff8881f4336c00): ip_forward, the host stack routed it",
              "cilium monitor on bpf1: to-stack at the agent, handed to the host stack"
            ]
          }
        ]
      }
    ]);
  });

  it("legacy host routing over VXLAN: overlay, then bpf_overlay's redirect to the lxc on the receiving node", async () => {
    expect(await icmpFlows('legacy-vxlan-cross-node')).toEqual([
      {
        "direction": "request",
        "path": [
          "overlay",
          "redirect"
        ],
        "verdict": "delivered",
        "outcome": "delivered",
        "outcomeReason": "delivered",
        "conclusions": [
          "Delivered: the request reached default/cni-x7k2m (seen at pod:default/cni-x7k2m/eth0; cilium monitor: to-endpoint 1187; the reply was seen (cilium:bpf1/2836, cilium:bpf2, kernel:bpf1)).",
          "Path overlay -> redirect: it crossed to bpf2 inside the vxlan (VNI 31009) tunnel (host:bpf1/cilium_vxlan (the tunnel device) saw it); on bpf2 a BPF program sent it to lxcb0e7b3127c4 with bpf_redirect(), not routed by the host stack."
        ],
        "evidence": [
          {
            "claim": "overlay",
            "because": [
              "host:bpf1/cilium_vxlan (the tunnel device) saw it",
              "host:bpf1/ens33 saw it inside vxlan vni 31009 192.168.2.61 > 192.168.2.62",
              "host:bpf2/cilium_vxlan (the tunnel device) saw it",
              "host:bpf2/ens33 saw it inside vxlan vni 31009 192.168.2.61 > 192.168.2.62",
              "pwru on bpf1 (skb 0xffff88827cca3c00): tunnel device functions (vxlan_xmit)",
              "pwru on bpf2 (skb 0xffff88827cca3c00): on the tunnel device cilium_vxlan",
              "cilium monitor on bpf1: to-overlay at the agent"
            ]
          },
          {
            "claim": "redirect",
            "because": [
              "host:bpf2/lxcb0e7b3127c4 saw it: it reached default/cni-x7k2m through the destination's host-side veth",
              "pwru on bpf2 (skb 0xffff88827cca3c00): skb_do_redirect then a transmit on lxcb0e7b3127c4 with no ip_forward: bpf_redirect() to the destination lxc"
            ]
          }
        ]
      },
      {
        "direction": "reply",
        "path": [
          "overlay",
          "redirect"
        ],
        "verdict": "delivered",
        "outcome": "delivered",
        "outcomeReason": "delivered",
        "conclusions": [
          "Delivered: the reply reached default/same (seen at pod:default/same/eth0; cilium monitor: to-endpoint 2836).",
          "After delivery, the kernel at kernel:bpf1 freed a copy with SKB_DROP_REASON_NO_SOCKET (sk_skb_reason_drop(SKB_DROP_REASON_NO_SOCKET)): that is the receiving stack's doing (no socket or port wanted it), not the datapath's.",
          "Path overlay -> redirect: it crossed to bpf1 inside the vxlan (VNI 37483) tunnel (host:bpf1/cilium_vxlan (the tunnel device) saw it); on bpf1 a BPF program sent it to lxc969d72893eb with bpf_redirect(), not routed by the host stack."
        ],
        "evidence": [
          {
            "claim": "overlay",
            "because": [
              "host:bpf1/cilium_vxlan (the tunnel device) saw it",
              "host:bpf1/ens33 saw it inside vxlan vni 37483 192.168.2.62 > 192.168.2.61",
              "host:bpf2/cilium_vxlan (the tunnel device) saw it",
              "host:bpf2/ens33 saw it inside vxlan vni 37483 192.168.2.62 > 192.168.2.61",
              "pwru on bpf1 (skb 0xffff88827cca3900): on the tunnel device cilium_vxlan",
              "pwru on bpf2 (skb 0xffff88827cca3900): tunnel device functions (vxlan_xmit)",
              "cilium monitor on bpf2: to-overlay at the agent"
            ]
          },
          {
            "claim": "redirect",
            "because": [
              "host:bpf1/lxc969d72893eb saw it: it reached default/same through the destination's host-side veth",
              "pwru on bpf1 (skb 0xffff88827cca3900): skb_do_redirect then a transmit on lxc969d72893eb with no ip_forward: bpf_redirect() to the destination lxc"
            ]
          }
        ]
      }
    ]);
  });

  it("BPF host routing, native: redirect-neigh, native-routing, redirect-peer both ways", async () => {
    expect(await icmpFlows('bpf-native-cross-node')).toEqual([
      {
        "direction": "request",
        "path": [
          "redirect-neigh",
          "native-routing",
          "redirect-peer"
        ],
        "verdict": "delivered",
        "outcome": "delivered",
        "outcomeReason": "delivered",
        "conclusions": [
          "Delivered: the request reached default/cni-x7k2m (seen at pod:default/cni-x7k2m/eth0; cilium monitor: to-endpoint 1187; the reply was seen (cilium:bpf1/2836, cilium:bpf2, kernel:bpf1)).",
          "Path redirect-neigh -> native-routing -> redirect-peer: on bpf1 a tc BPF program sent it to the underlay with bpf_redirect_neigh(), skipping the host stack; it crossed to bpf2 unencapsulated over the underlay (native routing); on bpf2 it was delivered into default/cni-x7k2m's eth0 with bpf_redirect_peer(), never crossing lxc4898b9a06e7."
        ],
        "evidence": [
          {
            "claim": "redirect-neigh",
            "because": [
              "pwru on bpf1 (skb 0xffff8881334f5b00): skb_do_redirect then neighbour output, bpf_redirect_neigh()"
            ]
          },
          {
            "claim": "native-routing",
            "because": [
              "host:bpf1/ens33 saw it unencapsulated, with the pod addresses",
              "host:bpf2/ens33 saw it unencapsulated, with the pod addresses",
              "cilium monitor on bpf1: to-network at the agent"
            ]
          },
          {
            "claim": "redirect-peer",
            "because": [
              "host:bpf2/lxc4898b9a06e7 was capturing (1 packets) but did not see this request, while pod:default/cni-x7k2m/eth0 did",
              "pwru on bpf2 (skb 0xffff8881334f5b00): skb_do_redirect then ip_rcv in another netns with no device transmit in between, and no ip_forward"
            ]
          }
        ]
      },
      {
        "direction": "reply",
        "path": [
          "redirect-neigh",
          "native-routing",
          "redirect-peer"
        ],
        "verdict": "delivered",
        "outcome": "delivered",
        "outcomeReason": "delivered",
        "conclusions": [
          "Delivered: the reply reached default/same (seen at pod:default/same/eth0; cilium monitor: to-endpoint 2836).",
          "After delivery, the kernel at kernel:bpf1 freed a copy with SKB_DROP_REASON_NO_SOCKET (sk_skb_reason_drop(SKB_DROP_REASON_NO_SOCKET)): that is the receiving stack's doing (no socket or port wanted it), not the datapath's.",
          "Path redirect-neigh -> native-routing -> redirect-peer: on bpf2 a tc BPF program sent it to the underlay with bpf_redirect_neigh(), skipping the host stack; it crossed to bpf1 unencapsulated over the underlay (native routing); on bpf1 it was delivered into default/same's eth0 with bpf_redirect_peer(), never crossing lxcfcff18ae4c1."
        ],
        "evidence": [
          {
            "claim": "redirect-neigh",
            "because": [
              "pwru on bpf2 (skb 0xffff8881334f5c00): skb_do_redirect then neighbour output, bpf_redirect_neigh()"
            ]
          },
          {
            "claim": "native-routing",
            "because": [
              "host:bpf1/ens33 saw it unencapsulated, with the pod addresses",
              "host:bpf2/ens33 saw it unencapsulated, with the pod addresses",
              "cilium monitor on bpf2: to-network at the agent"
            ]
          },
          {
            "claim": "redirect-peer",
            "because": [
              "host:bpf1/lxcfcff18ae4c1 was capturing (1 packets) but did not see this reply, while pod:default/same/eth0 did",
              "pwru on bpf1 (skb 0xffff8881334f5c00): skb_do_redirect then ip_rcv in another netns with no device transmit in between, and no ip_forward"
            ]
          }
        ]
      }
    ]);
  });

});
