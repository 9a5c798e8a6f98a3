/* SPDX-License-Identifier: GPL-2.0 */
/*
 * One record per decision the lab's tc datapath takes, written to a BPF ring buffer and turned
 * into a JSON line by lab-agent. The emulated `cilium-dbg monitor` and `pwru` print only what
 * these records (and skbtrace's records) say the kernel did; nothing is invented in user space.
 * Shared by datapath.bpf.c and agent.c, so the layout is fixed-size and naturally aligned.
 */
#ifndef LAB_EVENT_H
#define LAB_EVENT_H

#define LAB_CAP 128 /* packet bytes captured per trace record, like Cilium's TRACE_PAYLOAD_LEN */

enum lab_kind {
	LAB_TRACE = 1,   /* a Cilium trace notification: sub = observation point */
	LAB_DEBUG = 2,   /* a Cilium debug message: sub = enum lab_dbg */
	LAB_DROP = 3,    /* a drop: sub = Cilium drop reason */
	LAB_VERDICT = 4, /* what the program returned: action + target ifindex (for pwru) */
	LAB_POLICY = 5,  /* a Cilium policy verdict notification: sub = action (1 allow, 2 deny); policy.h */
};

/* Observation points, numbered as Cilium's pkg/monitor/api/types.go. */
enum lab_obs {
	OBS_TO_LXC = 0,
	OBS_TO_STACK = 3,
	OBS_TO_OVERLAY = 4,
	OBS_FROM_LXC = 5,
	OBS_FROM_OVERLAY = 9,
	OBS_FROM_NETWORK = 10,
	OBS_TO_NETWORK = 11,
};

/* The debug messages the lab datapath emits (formatted by the emulated monitor). */
enum lab_dbg {
	DBG_CT_LOOKUP4_1 = 1, /* arg1 saddr, arg2 daddr, arg3 sport<<16|dport (host order) */
	DBG_CT_LOOKUP4_2 = 2, /* arg1 nexthdr, arg2 flags (1 = egress tuple) */
	DBG_CT_MATCH = 3,     /* arg1 lifetime (s), arg2 revnat */
	DBG_CT_VERDICT = 4,   /* arg1 ct state, arg2 revnat */
	DBG_CT_CREATED4 = 5,  /* arg1 proxy port, arg2 src identity, arg3 lb address */
	DBG_IPID_MAP4 = 6,    /* arg1 addr, arg2 identity */
	DBG_LOCAL_DELIVERY = 7, /* arg1 endpoint id, arg2 src identity */
	DBG_ENCAP = 8,        /* arg1 tunnel endpoint (network order), arg2 src identity */
	DBG_DECAP = 9,        /* arg1 tunnel id, arg2 flow label */
	/* The service load balancer (lb.h), Cilium's DBG_LB4_* */
	DBG_LB4_LOOKUP_FRONTEND = 20,             /* arg1 address, arg2 dport (network order) */
	DBG_LB4_LOOKUP_BACKEND_SLOT = 21,         /* arg1 slot, arg2 dport (network order) */
	DBG_LB4_LOOKUP_BACKEND_SLOT_SUCCESS = 22, /* arg1 backend address, arg2 port (network order) */
	DBG_LB4_REVERSE_NAT_LOOKUP = 23,          /* arg1 rev_nat_index (network order) */
	DBG_LB4_REVERSE_NAT = 24,                 /* arg1 address, arg2 port (network order) */
};

enum lab_ct_state { CT_NEW = 0, CT_ESTABLISHED = 1, CT_REPLY = 2 };

/* Trace reasons, numbered as Cilium's TraceReason* constants. */
enum lab_reason { REASON_NEW = 0, REASON_ESTABLISHED = 1, REASON_REPLY = 2, REASON_UNKNOWN = 5 };

enum lab_prog { PROG_FROM_CONTAINER = 1, PROG_TO_CONTAINER = 2, PROG_FROM_NETDEV = 3, PROG_FROM_OVERLAY = 4, PROG_TO_OVERLAY = 5 };

enum lab_action {
	ACT_OK = 1,            /* TC_ACT_OK: the host stack continues */
	ACT_REDIRECT_PEER = 2, /* bpf_redirect_peer(target): into the peer's netns, ingress */
	ACT_REDIRECT = 3,      /* bpf_redirect(target, 0): egress of target */
	ACT_REDIRECT_NEIGH = 4,/* bpf_redirect_neigh(target): egress of target after neighbour resolution */
	ACT_DROP = 5,          /* TC_ACT_SHOT */
};

struct lab_event {
	__u64 ts;       /* bpf_ktime_get_ns() */
	__u32 kind;     /* enum lab_kind */
	__u32 sub;      /* observation point, debug message or drop reason */
	__u32 source;   /* endpoint id whose program emitted the record (Cilium's "FROM") */
	__u32 dst_id;   /* destination endpoint id (to-endpoint) */
	__u32 cpu;
	__u32 hash;     /* skb->hash (Cilium prints it as MARK / flow) */
	__u32 src_label;
	__u32 dst_label;
	__u32 ifindex;  /* interface the trace names */
	__u32 reason;   /* trace reason */
	__u32 monitor;  /* non-zero when Cilium's medium aggregation would still report it */
	__u32 arg1;
	__u32 arg2;
	__u32 arg3;
	__u32 orig_ip;  /* network order */
	__u32 len;      /* skb->len */
	__u32 cap_len;  /* bytes of data[] filled */
	__u32 prog;     /* enum lab_prog */
	__u32 hook_ifindex; /* device whose tc hook ran the program */
	__u32 action;   /* enum lab_action (LAB_VERDICT) */
	__u32 target;   /* target ifindex of the action */
	__u32 pad;
	__u8 data[LAB_CAP];
};

/* Fixed facts the agent writes into the config map. */
struct lab_config {
	__u32 mode_bpf;        /* 1: BPF host routing (ENABLE_HOST_ROUTING); 0: legacy host routing */
	__u32 tunnel_vxlan;    /* 1: VXLAN; 0: native routing */
	__u32 endpoint_routes; /* 1: per-endpoint routes (enable-endpoint-routes): no ENABLE_ROUTING in bpf_lxc */
	__u32 underlay_ifindex;
	__u32 vxlan_ifindex;
	__u32 node_ip;         /* network order */
	__u32 host_ep_id;
};

struct lab_endpoint {
	__u32 ifindex;   /* host-side lxc */
	__u32 ep_id;
	__u32 identity;
	__u32 ip;        /* network order */
	__u8 lxc_mac[6];
	__u8 pod_mac[6];
};

struct lab_ipcache_key {
	__u32 prefixlen;
	__u32 ip; /* network order */
};

struct lab_ipcache_val {
	__u32 identity;
	__u32 tunnel_endpoint; /* network order; 0 when the address is on this node */
};

/* One entry of the policy map (policy.h): Cilium's policy_key with the endpoint ID in front. */
struct lab_policy_key {
	__u32 prefixlen; /* LPM: bits of what follows that must match */
	__u32 ep_id;     /* the endpoint whose policy this is */
	__u32 sec_label; /* remote identity; 0 = any (L4-only / allow-all) */
	__u8 egress;
	__u8 protocol;   /* 0 = any, only with the port wildcarded */
	__u16 dport;     /* network order */
};

struct lab_policy_entry {
	__u8 deny;
	__u8 lpm_prefix_length; /* bits of protocol + port that matched: 0, 8 or 24 */
	__u16 pad;
	__u32 cookie;           /* the agent's rule number (which policy rule made the entry) */
};

#endif
