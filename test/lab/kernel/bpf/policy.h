/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Network policy enforcement, after Cilium's bpf/lib/policy.h (__policy_can_access, the 1.16+
 * LPM form) and its call sites in bpf/bpf_lxc.c (handle_ipv4_from_lxc for egress, ipv4_policy
 * for ingress).
 *
 * The map is what the agent computed from the policies (test/lab/emulated/policy/resolve.ts),
 * written by lab-agent from the node's policy file: an LPM trie whose key ends with the remote
 * identity, the direction, the protocol and the destination port, so that one lookup with the
 * packet's exact values finds the most specific entry for that identity (proto+port, proto only,
 * or anything: Cilium's lpm_prefix_length), and a second lookup with identity 0 finds the
 * L4-only / allow-all entry. A deny found by either wins (Cilium: "1. Deny policy, if any, is
 * selected"); no entry at all is DROP_POLICY (default deny). An endpoint whose direction no
 * policy selects has an allow-all entry (identity 0, proto 0, port 0), as the Cilium agent
 * writes one then.
 *
 * Lab simplification: Cilium has one map per endpoint (cilium_policy_v2 in the endpoint's
 * program); the lab has one map per node whose key starts with the endpoint ID. No proxy ports,
 * no auth, no policy accounting, ICMP types are not matched (enable_icmp_rule off).
 */
#ifndef LAB_POLICY_H
#define LAB_POLICY_H

#define DROP_POLICY 133      /* Cilium's DROP_POLICY: "Policy denied" */
#define DROP_POLICY_DENY 181 /* Cilium's DROP_POLICY_DENY: "Policy denied by denylist" */

/* Cilium's POLICY_MATCH_* (bpf/lib/policy.h), as the monitor names them. */
enum { POLICY_MATCH_NONE = 0, POLICY_MATCH_L3_ONLY = 1, POLICY_MATCH_L3_L4 = 2, POLICY_MATCH_L4_ONLY = 3, POLICY_MATCH_ALL = 4, POLICY_MATCH_L3_PROTO = 5, POLICY_MATCH_PROTO_ONLY = 6 };
/* Cilium's POLICY_INGRESS / POLICY_EGRESS (the verdict notification's direction flag). */
enum { POLICY_DIR_INGRESS = 1, POLICY_DIR_EGRESS = 2 };

#define LPM_PROTO_PREFIX_BITS 8
#define LPM_FULL_PREFIX_BITS (LPM_PROTO_PREFIX_BITS + 16)
/* Bits of the key before protocol and port: endpoint ID, identity, direction. */
#define POLICY_FIXED_BITS (32 + 32 + 8)

struct {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__uint(max_entries, 4096);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, struct lab_policy_key);
	__type(value, struct lab_policy_entry);
} policy_map SEC(".maps");

/* Directions whose verdicts an endpoint reports (Cilium's policy verdict log filter: the agent
 * sets the bit of a direction in which policy is enforced). */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 256);
	__type(key, __u32);   /* endpoint ID */
	__type(value, __u32); /* 1 << POLICY_DIR_INGRESS | 1 << POLICY_DIR_EGRESS */
} policy_log_filter SEC(".maps");

/* __policy_can_access: returns 0 (allowed), DROP_POLICY or DROP_POLICY_DENY; *match and *cookie
 * say which entry decided. dport is in host order (0 for ICMP, as Cilium's tuple has it). */
static __always_inline __u32 policy_can_access(__u32 ep_id, __u32 remote_id, __u8 egress, __u8 proto, __u16 dport, __u8 *match, __u32 *cookie)
{
	struct lab_policy_key key = {
		.prefixlen = POLICY_FIXED_BITS + LPM_FULL_PREFIX_BITS,
		.ep_id = ep_id,
		.sec_label = remote_id,
		.egress = egress,
		.protocol = proto,
		.dport = bpf_htons(dport),
	};
	struct lab_policy_entry *policy = bpf_map_lookup_elem(&policy_map, &key);
	struct lab_policy_entry *l4policy = NULL;
	*match = POLICY_MATCH_NONE;
	*cookie = 0;
	if (!(policy && policy->deny)) {
		key.sec_label = 0;
		l4policy = bpf_map_lookup_elem(&policy_map, &key);
		if (l4policy && (l4policy->deny || !policy || l4policy->lpm_prefix_length > policy->lpm_prefix_length)) {
			__u8 p = l4policy->lpm_prefix_length;
			*match = p == 0 ? POLICY_MATCH_ALL : p <= LPM_PROTO_PREFIX_BITS ? POLICY_MATCH_PROTO_ONLY : POLICY_MATCH_L4_ONLY;
			*cookie = l4policy->cookie;
			return l4policy->deny ? DROP_POLICY_DENY : 0;
		}
	}
	if (!policy)
		return DROP_POLICY;
	__u8 p = policy->lpm_prefix_length;
	*match = p > LPM_PROTO_PREFIX_BITS ? POLICY_MATCH_L3_L4 : p > 0 ? POLICY_MATCH_L3_PROTO : POLICY_MATCH_L3_ONLY;
	*cookie = policy->cookie;
	return policy->deny ? DROP_POLICY_DENY : 0;
}

/* send_policy_verdict_notify (bpf/lib/policy_log.h): only for directions the endpoint's filter
 * logs. sub = action (1 allow, 2 deny), src_label = remote identity, arg1 dport, arg2 proto,
 * arg3 direction, reason = match type, dst_label = the deciding entry's cookie, dst_id = the
 * drop reason of a deny (0 for an allow). */
static __always_inline void policy_verdict_notify(struct __sk_buff *skb, const struct origin *o, __u32 remote_id, const struct flow *f, __u32 dir, __u32 verdict, __u8 match, __u32 cookie)
{
	__u32 ep = o->source;
	__u32 *filter = bpf_map_lookup_elem(&policy_log_filter, &ep);
	if (!filter || !(*filter & (1u << dir)))
		return;
	struct lab_event *e = event_new(skb, o, LAB_POLICY, verdict ? 2 : 1);
	if (!e)
		return;
	e->src_label = remote_id;
	e->dst_label = cookie;
	e->arg1 = f->proto == IPPROTO_ICMP ? 0 : f->dport;
	e->arg2 = f->proto;
	e->arg3 = dir;
	e->reason = match;
	e->dst_id = verdict; /* the drop reason of a deny (Hubble's drop_reason of the verdict) */
	e->ifindex = o->hook;
	capture(skb, e);
	bpf_ringbuf_submit(e, 0);
}

/*
 * The policy step of a packet that is not a reply (Cilium skips policy for CT_REPLY/CT_RELATED):
 * the lookup, then the verdict notification "if drop or if allow for CT_NEW". Returns 0 or the
 * drop reason.
 */
static __always_inline __u32 policy_check(struct __sk_buff *skb, const struct origin *o, __u32 remote_id, const struct flow *f, __u32 dir, __u32 ct_state)
{
	if (ct_state == CT_REPLY)
		return 0;
	__u8 match = POLICY_MATCH_NONE;
	__u32 cookie = 0;
	__u16 dport = f->proto == IPPROTO_ICMP ? 0 : f->dport;
	__u32 verdict = policy_can_access(o->source, remote_id, dir == POLICY_DIR_EGRESS, f->proto, dport, &match, &cookie);
	if (verdict || ct_state != CT_ESTABLISHED)
		policy_verdict_notify(skb, o, remote_id, f, dir, verdict, match, cookie);
	return verdict;
}

#endif
