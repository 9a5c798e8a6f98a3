// SPDX-License-Identifier: GPL-2.0
/*
 * The lab's datapath: tc programs wired the way Cilium wires its own (bpf_lxc on the pod's
 * host-side veth, bpf_host on the underlay, bpf_overlay on cilium_vxlan), small enough to read.
 *
 * The three modes are what Cilium's bpf_lxc/bpf_host/bpf_overlay compile to (cilium/cilium
 * bpf/bpf_lxc.c handle_ipv4_from_lxc, bpf/bpf_host.c handle_ipv4_cont, bpf/bpf_overlay.c
 * handle_ipv4, and redirect_ep in bpf/lib/l3.h up to 1.18 / bpf/lib/local_delivery.h in 1.19):
 *
 * - bpf (BPF host routing, ENABLE_HOST_ROUTING): local delivery ends in redirect_ep's
 *   ctx_redirect_peer() (into the pod, ingress of its eth0); other nodes: the tunnel device with
 *   a tunnel key, or fib_redirect_v4 -> bpf_redirect_neigh() out of the underlay.
 * - legacy (legacy host routing, endpoint routes off = ENABLE_ROUTING defined, Cilium's
 *   default): bpf_lxc still delivers to a pod of the same node in BPF: `if
 *   (is_defined(ENABLE_ROUTING) || hairpin_flow || is_defined(ENABLE_HOST_ROUTING))` looks the
 *   destination endpoint up and calls ipv4_local_delivery(), whose redirect_ep() takes
 *   `if (needs_backlog || !is_defined(ENABLE_HOST_ROUTING)) return ctx_redirect(ctx, ifindex, 0);`
 *   (1.19: `if (!use_fast_redirect)`; 1.11-1.13: the same test inside ENABLE_HOST_REDIRECT, which
 *   the veth datapath sets): bpf_redirect() to the EGRESS of the destination lxc, so that lxc sees
 *   the packet, no ip_forward, no netfilter FORWARD, no route lookup. In TUNNEL_MODE
 *   encap_and_redirect_lxc() redirects to the tunnel device whatever the host routing; only
 *   what is left goes `pass_to_stack` (ipv4_l3: TTL-1, TRACE_TO_STACK, CTX_ACT_OK): native
 *   routing to other nodes, and the host. On the receiving side bpf_host's
 *   `#ifndef ENABLE_HOST_ROUTING ... if (!from_host) return CTX_ACT_OK;` hands native traffic to
 *   the stack, while bpf_overlay calls ipv4_local_delivery() unconditionally: redirect to the lxc.
 * - legacy-endpoint-routes (legacy host routing with enable-endpoint-routes: no ENABLE_ROUTING,
 *   "If ENABLE_ROUTING is disabled (for example, with per-endpoint routes)" in bpf_lxc.c): bpf_lxc
 *   does no local delivery, so same-node traffic also goes to the stack, which routes it by the
 *   endpoint route out of the destination lxc, where the to-container program enforces policy.
 *   The tunnel and the overlay side are as in legacy.
 *
 * Version range: the gating above was read in the bpf_lxc.c/bpf_host.c/bpf_overlay.c of a
 * 1.16-era tree and redirect_ep in its 1.11-1.19 forms; the 1.11-1.14 bpf_lxc was not read.
 *
 * Every decision is reported to user space as a struct lab_event (ring buffer), from which the
 * lab's emulated `cilium-dbg monitor` and `pwru` print. Conntrack is real too (an LRU map
 * with Cilium's lookup order and report interval), so "CT verdict: New/Reply" and the
 * aggregation flag follow the packets that really passed.
 */
#include <linux/bpf.h>
#include <linux/pkt_cls.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <linux/ip.h>
#include <linux/in.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>
#include "lab_event.h"
#include "lb_maps.h"

char LICENSE[] SEC("license") = "GPL";

#define CT_LIFETIME_NONTCP 60
#define CT_LIFETIME_TCP 21600
#define CT_SYN_TIMEOUT 60
#define CT_REPORT_INTERVAL_NS (5ULL * 1000000000ULL)
#define ID_HOST 1
#define ID_WORLD 2
#define DROP_TTL_EXCEEDED 196 /* Cilium's DROP_TTL_EXCEEDED */
#define DROP_NO_TUNNEL_ENDPOINT 160 /* Cilium's DROP_NO_TUNNEL_ENDPOINT */

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 1 << 22);
} events SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct lab_config);
} config SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 256);
	__type(key, __u32); /* pod IPv4, network order */
	__type(value, struct lab_endpoint);
} endpoints_by_ip SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 256);
	__type(key, __u32); /* lxc ifindex */
	__type(value, struct lab_endpoint);
} endpoints_by_ifindex SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__uint(max_entries, 1024);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, struct lab_ipcache_key);
	__type(value, struct lab_ipcache_val);
} ipcache SEC(".maps");

struct ct_key {
	__u32 saddr;
	__u32 daddr;
	__u16 sport;
	__u16 dport;
	__u8 proto;
	__u8 egress; /* 1: tuple seen leaving an endpoint (Cilium's TUPLE_F_OUT) */
	__u16 pad;
};

struct ct_entry {
	__u64 last_tx_report;
	__u64 last_rx_report;
	__u32 lifetime; /* seconds of monotonic time, as Cilium's bpf_mono_now() */
	__u32 src_identity;
	__u32 tx_packets;
	__u32 rx_packets;
	__u8 tcp_established;
	__u8 tx_flags_seen; /* TCP flags of CT_REPORT_FLAGS seen per direction (Cilium's tx/rx_flags_seen) */
	__u8 rx_flags_seen;
	__u16 rev_nat_index; /* the service frontend a connection was translated from (lb.h) */
	__u8 pad[3];
};

/* Cilium's default CT_REPORT_FLAGS (monitor-aggregation-flags syn,fin,rst): a direction's first
 * packet with one of these is reported under medium aggregation (ct_update_timeout). */
#define CT_REPORT_FLAGS (0x01 | 0x02 | 0x04)

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 65536);
	__type(key, struct ct_key);
	__type(value, struct ct_entry);
} conntrack SEC(".maps");

/* What a program knows about the packet it handles. */
struct flow {
	__u32 saddr;
	__u32 daddr;
	__u16 sport; /* host order; ICMP echo id for requests */
	__u16 dport; /* host order; ICMP echo id for replies */
	__u8 proto;
	__u8 ttl;
	__u8 tcp_flags;
	__u16 rev_nat; /* set by lb4_svc_xlate: the frontend the packet was translated from */
};

/* Where the record comes from: the program, its device and its endpoint. */
struct origin {
	__u32 prog;
	__u32 hook;
	__u32 source;
};

struct trace_args {
	__u32 obs;
	__u32 dst_id;
	__u32 src_label;
	__u32 dst_label;
	__u32 ifindex;
	__u32 reason;
	__u32 monitor;
	__u32 orig_ip;
};

static __always_inline struct lab_config *cfg(void)
{
	__u32 zero = 0;
	return bpf_map_lookup_elem(&config, &zero);
}

static __always_inline struct lab_event *event_new(struct __sk_buff *skb, const struct origin *o, __u32 kind, __u32 sub)
{
	struct lab_event *e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);
	if (!e)
		return NULL;
	__builtin_memset(e, 0, sizeof(*e) - LAB_CAP);
	e->ts = bpf_ktime_get_ns();
	e->kind = kind;
	e->sub = sub;
	e->cpu = bpf_get_smp_processor_id();
	e->hash = skb->hash;
	e->prog = o->prog;
	e->hook_ifindex = o->hook;
	e->source = o->source;
	e->len = skb->len;
	return e;
}

static __always_inline void capture(struct __sk_buff *skb, struct lab_event *e)
{
	__u32 cap = skb->len;
	if (cap > LAB_CAP)
		cap = LAB_CAP;
	if (cap < 1)
		return;
	if (bpf_skb_load_bytes(skb, 0, e->data, cap) == 0)
		e->cap_len = cap;
}

static __always_inline void debug(struct __sk_buff *skb, const struct origin *o, __u32 sub, __u32 a1, __u32 a2, __u32 a3)
{
	struct lab_event *e = event_new(skb, o, LAB_DEBUG, sub);
	if (!e)
		return;
	e->arg1 = a1;
	e->arg2 = a2;
	e->arg3 = a3;
	bpf_ringbuf_submit(e, 0);
}

static __always_inline void trace(struct __sk_buff *skb, const struct origin *o, const struct trace_args *t)
{
	struct lab_event *e = event_new(skb, o, LAB_TRACE, t->obs);
	if (!e)
		return;
	e->dst_id = t->dst_id;
	e->src_label = t->src_label;
	e->dst_label = t->dst_label;
	e->ifindex = t->ifindex;
	e->reason = t->reason;
	e->monitor = t->monitor;
	e->orig_ip = t->orig_ip;
	capture(skb, e);
	bpf_ringbuf_submit(e, 0);
}

static __always_inline int verdict(struct __sk_buff *skb, const struct origin *o, __u32 action, __u32 target, int ret)
{
	struct lab_event *e = event_new(skb, o, LAB_VERDICT, 0);
	if (e) {
		e->action = action;
		e->target = target;
		bpf_ringbuf_submit(e, 0);
	}
	return ret;
}

/* Reports a drop (arg1 = the lab source line that dropped) and returns TC_ACT_SHOT. drop_to names
 * the endpoint the packet was for (Cilium's "to endpoint N" of an ingress policy drop). */
#define drop(skb, o, reason, src_label, dst_label) drop_at(skb, o, reason, src_label, dst_label, 0, __LINE__)
#define drop_to(skb, o, reason, src_label, dst_label, dst_id) drop_at(skb, o, reason, src_label, dst_label, dst_id, __LINE__)
static __always_inline int drop_at(struct __sk_buff *skb, const struct origin *o, __u32 reason, __u32 src_label, __u32 dst_label, __u32 dst_id, __u32 line)
{
	struct lab_event *e = event_new(skb, o, LAB_DROP, reason);
	if (e) {
		e->arg1 = line;
		e->dst_id = dst_id;
		e->src_label = src_label;
		e->dst_label = dst_label;
		e->ifindex = o->hook;
		capture(skb, e);
		bpf_ringbuf_submit(e, 0);
	}
	return verdict(skb, o, ACT_DROP, 0, TC_ACT_SHOT);
}

#include "policy.h"

/* Parses Ethernet + IPv4 + the L4 ports Cilium's conntrack uses. Returns 0 on success. */
static __always_inline int parse(struct __sk_buff *skb, struct flow *f)
{
	void *data = (void *)(long)skb->data;
	void *end = (void *)(long)skb->data_end;
	struct ethhdr *eth = data;
	struct iphdr *ip = data + sizeof(*eth);
	if ((void *)(ip + 1) > end || eth->h_proto != bpf_htons(ETH_P_IP))
		return -1;
	f->saddr = ip->saddr;
	f->daddr = ip->daddr;
	f->proto = ip->protocol;
	f->ttl = ip->ttl;
	f->sport = 0;
	f->dport = 0;
	f->tcp_flags = 0;
	f->rev_nat = 0;
	__u32 ihl = (ip->ihl & 0xf) * 4;
	if (ihl < sizeof(*ip))
		return -1;
	void *l4 = (void *)ip + ihl;
	if (ip->protocol == IPPROTO_TCP || ip->protocol == IPPROTO_UDP) {
		__u16 *ports = l4;
		if ((void *)(ports + 2) > end)
			return 0;
		f->sport = bpf_ntohs(ports[0]);
		f->dport = bpf_ntohs(ports[1]);
		if (ip->protocol == IPPROTO_TCP) {
			__u8 *flags = l4 + 13;
			if ((void *)(flags + 1) <= end)
				f->tcp_flags = *flags;
		}
	} else if (ip->protocol == IPPROTO_ICMP) {
		__u8 *icmp = l4;
		if ((void *)(icmp + 8) > end)
			return 0;
		__u16 id = bpf_ntohs(*(__u16 *)(icmp + 4));
		if (icmp[0] == 8)
			f->sport = id; /* echo request: the id is the "source port" */
		else if (icmp[0] == 0)
			f->dport = id; /* echo reply */
	}
	return 0;
}

static __always_inline __u32 ipcache_identity(__u32 ip, __u32 *tunnel_endpoint)
{
	struct lab_ipcache_key k = { .prefixlen = 32, .ip = ip };
	struct lab_ipcache_val *v = bpf_map_lookup_elem(&ipcache, &k);
	if (tunnel_endpoint)
		*tunnel_endpoint = v ? v->tunnel_endpoint : 0;
	return v ? v->identity : ID_WORLD;
}

static __always_inline __u32 mono_seconds(void)
{
	return (__u32)(bpf_ktime_get_ns() / 1000000000ULL);
}

/*
 * Cilium's ct_lookup4 as the lab needs it: the tuple as seen, then its reverse. Emits the
 * "Conntrack lookup" debug records, creates nothing (ct_create does). *monitor tells whether
 * medium monitor aggregation would report the packet (Cilium's __ct_update_timeout: new flow,
 * last report of that direction older than 5 s, or a TCP flag of CT_REPORT_FLAGS that direction
 * had not shown yet).
 */
static __always_inline __u32 ct_lookup(struct __sk_buff *skb, const struct origin *o, const struct flow *f, __u8 egress, __u32 *monitor)
{
	debug(skb, o, DBG_CT_LOOKUP4_1, f->saddr, f->daddr, ((__u32)f->sport << 16) | f->dport);
	debug(skb, o, DBG_CT_LOOKUP4_2, f->proto, egress, 0);
	__u64 now = bpf_ktime_get_ns();
	__u32 life = f->proto == IPPROTO_TCP ? CT_LIFETIME_TCP : CT_LIFETIME_NONTCP;
	struct ct_key k = { .saddr = f->saddr, .daddr = f->daddr, .sport = f->sport, .dport = f->dport, .proto = f->proto, .egress = egress };
	struct ct_entry *e = bpf_map_lookup_elem(&conntrack, &k);
	__u32 state = CT_ESTABLISHED;
	if (!e) {
		struct ct_key r = { .saddr = f->daddr, .daddr = f->saddr, .sport = f->dport, .dport = f->sport, .proto = f->proto, .egress = !egress };
		e = bpf_map_lookup_elem(&conntrack, &r);
		state = CT_REPLY;
	}
	if (!e) {
		*monitor = 1;
		debug(skb, o, DBG_CT_VERDICT, CT_NEW, 0, 0);
		return CT_NEW;
	}
	if (f->proto == IPPROTO_TCP && state == CT_REPLY && (f->tcp_flags & 0x10))
		e->tcp_established = 1;
	if (f->proto == IPPROTO_TCP && !e->tcp_established)
		life = CT_SYN_TIMEOUT;
	e->lifetime = mono_seconds() + life;
	__u64 *last = state == CT_REPLY ? &e->last_rx_report : &e->last_tx_report;
	__u8 *flags_seen = state == CT_REPLY ? &e->rx_flags_seen : &e->tx_flags_seen;
	__u8 accumulated = *flags_seen;
	__u8 seen = accumulated | (f->proto == IPPROTO_TCP ? (f->tcp_flags & CT_REPORT_FLAGS) : 0);
	if (*last + CT_REPORT_INTERVAL_NS < now || seen != accumulated) {
		*last = now;
		*flags_seen = seen;
		*monitor = 1;
	} else {
		*monitor = 0;
	}
	if (state == CT_REPLY)
		__sync_fetch_and_add(&e->rx_packets, 1);
	else
		__sync_fetch_and_add(&e->tx_packets, 1);
	debug(skb, o, DBG_CT_MATCH, e->lifetime, e->rev_nat_index, 0);
	debug(skb, o, DBG_CT_VERDICT, state, e->rev_nat_index, 0);
	return state;
}

static __always_inline void ct_create(struct __sk_buff *skb, const struct origin *o, const struct flow *f, __u8 egress, __u32 src_identity)
{
	struct ct_key k = { .saddr = f->saddr, .daddr = f->daddr, .sport = f->sport, .dport = f->dport, .proto = f->proto, .egress = egress };
	struct ct_entry e = {};
	e.lifetime = mono_seconds() + (f->proto == IPPROTO_TCP ? CT_SYN_TIMEOUT : CT_LIFETIME_NONTCP);
	e.src_identity = src_identity;
	e.last_tx_report = bpf_ktime_get_ns();
	e.tx_flags_seen = f->proto == IPPROTO_TCP ? (f->tcp_flags & CT_REPORT_FLAGS) : 0;
	e.tx_packets = 1;
	e.rev_nat_index = f->rev_nat;
	bpf_map_update_elem(&conntrack, &k, &e, BPF_ANY);
	debug(skb, o, DBG_CT_CREATED4, f->rev_nat, src_identity, 0);
}

#include "lb.h"

static __always_inline __u32 trace_reason(__u32 ct_state)
{
	return ct_state == CT_REPLY ? REASON_REPLY : ct_state == CT_ESTABLISHED ? REASON_ESTABLISHED : REASON_NEW;
}

/* Decrements the IPv4 TTL like a router (Cilium's ipv4_l3). Returns -1 when it expired. */
static __always_inline int dec_ttl(struct __sk_buff *skb, __u8 ttl)
{
	if (ttl <= 1)
		return -1;
	__u16 old = bpf_htons((__u16)ttl << 8);
	__u16 new = bpf_htons((__u16)(ttl - 1) << 8);
	__u8 nt = ttl - 1;
	bpf_l3_csum_replace(skb, ETH_HLEN + offsetof(struct iphdr, check), old, new, 2);
	bpf_skb_store_bytes(skb, ETH_HLEN + offsetof(struct iphdr, ttl), &nt, 1, 0);
	return 0;
}

/*
 * The destination endpoint's ingress policy step (Cilium's ipv4_policy tail call): its own
 * conntrack lookup, the policy lookup (policy.h; a denied packet is dropped here, TC_ACT_SHOT),
 * then the to-endpoint trace. Runs as that endpoint ("FROM <dst ep>"). Returns 0, or -1 after
 * reporting the drop.
 */
static __always_inline int policy_to_endpoint(struct __sk_buff *skb, __u32 prog, const struct lab_endpoint *dst, const struct flow *f, __u32 src_identity)
{
	struct origin po = { .prog = prog, .hook = skb->ifindex, .source = dst->ep_id };
	__u32 monitor = 0;
	__u32 st = ct_lookup(skb, &po, f, 0, &monitor);
	lb4_rev_nat(skb, &po, f, st);
	__u32 denied = policy_check(skb, &po, src_identity, f, POLICY_DIR_INGRESS, st);
	if (denied) {
		drop_to(skb, &po, denied, src_identity, dst->identity, dst->ep_id);
		return -1;
	}
	if (st == CT_NEW)
		ct_create(skb, &po, f, 0, src_identity);
	struct trace_args t = {
		.obs = OBS_TO_LXC, .dst_id = dst->ep_id, .src_label = src_identity, .dst_label = dst->identity,
		.ifindex = dst->ifindex, .reason = trace_reason(st), .monitor = monitor, .orig_ip = f->saddr,
	};
	trace(skb, &po, &t);
	return 0;
}

/* Rewrites MACs as a router delivering to the pod (src = lxc, dst = pod) and hands the packet to
 * the pod's netns with bpf_redirect_peer(). */
static __always_inline int deliver_peer(struct __sk_buff *skb, __u32 prog, const struct lab_endpoint *dst, const struct flow *f, __u32 src_identity)
{
	struct origin o = { .prog = prog, .hook = skb->ifindex, .source = dst->ep_id };
	if (dec_ttl(skb, f->ttl) < 0)
		return drop(skb, &o, DROP_TTL_EXCEEDED, src_identity, dst->identity);
	bpf_skb_store_bytes(skb, 0, dst->pod_mac, 6, 0);
	bpf_skb_store_bytes(skb, 6, dst->lxc_mac, 6, 0);
	/* The frame was classified against another device's MAC (overlay, underlay). */
	bpf_skb_change_type(skb, PACKET_HOST);
	if (policy_to_endpoint(skb, prog, dst, f, src_identity) < 0)
		return TC_ACT_SHOT;
	return verdict(skb, &o, ACT_REDIRECT_PEER, dst->ifindex, bpf_redirect_peer(dst->ifindex, 0));
}

/* Cilium's set_identity_mark (MARK_MAGIC_IDENTITY): what legacy local delivery leaves on the skb,
 * so the lab's to-container program knows the BPF datapath already delivered it. */
#define MARK_MAGIC_IDENTITY 0x0F00
#define MARK_MAGIC_HOST_MASK 0x0F00

/* Legacy host routing's local delivery (ipv4_local_delivery -> redirect_ep without
 * ENABLE_HOST_ROUTING): MACs as a router, TTL-1, the destination's policy step (Cilium tail-calls
 * into the destination endpoint's policy program; with endpoint routes the to-container program
 * on the lxc does it instead), then bpf_redirect() to the egress of the destination lxc. */
static __always_inline int deliver_lxc(struct __sk_buff *skb, __u32 prog, const struct lab_endpoint *dst, const struct flow *f, __u32 src_identity, const struct lab_config *c)
{
	struct origin o = { .prog = prog, .hook = skb->ifindex, .source = dst->ep_id };
	if (dec_ttl(skb, f->ttl) < 0)
		return drop(skb, &o, DROP_TTL_EXCEEDED, src_identity, dst->identity);
	bpf_skb_store_bytes(skb, 0, dst->pod_mac, 6, 0);
	bpf_skb_store_bytes(skb, 6, dst->lxc_mac, 6, 0);
	if (!c->endpoint_routes && policy_to_endpoint(skb, prog, dst, f, src_identity) < 0)
		return TC_ACT_SHOT;
	skb->mark = ((src_identity & 0xFFFF) << 16) | MARK_MAGIC_IDENTITY | ((src_identity >> 16) & 0xFF);
	return verdict(skb, &o, ACT_REDIRECT, dst->ifindex, bpf_redirect(dst->ifindex, 0));
}

/* Answers the pod's ARP requests with the host-side veth's MAC (Cilium's arp responder). */
static __always_inline int arp_respond(struct __sk_buff *skb, const struct lab_endpoint *ep, const struct origin *o)
{
	void *data = (void *)(long)skb->data;
	void *end = (void *)(long)skb->data_end;
	struct ethhdr *eth = data;
	__u8 *arp = data + sizeof(*eth);
	if ((void *)(arp + 28) > end)
		return TC_ACT_OK;
	/* htype 1, ptype IPv4, hlen 6, plen 4, op request */
	if (arp[6] != 0 || arp[7] != 1 || arp[4] != 6 || arp[5] != 4)
		return TC_ACT_OK;
	__u32 sip = *(__u32 *)(arp + 14);
	__u32 tip = *(__u32 *)(arp + 24);
	if (tip == ep->ip || tip == sip)
		return TC_ACT_OK; /* duplicate address detection / gratuitous ARP: not ours to answer */
	__u8 smac[6];
	__builtin_memcpy(smac, arp + 8, 6);
	__builtin_memcpy(eth->h_dest, smac, 6);
	__builtin_memcpy(eth->h_source, ep->lxc_mac, 6);
	arp[7] = 2;
	__builtin_memcpy(arp + 18, smac, 6);
	*(__u32 *)(arp + 24) = sip;
	__builtin_memcpy(arp + 8, ep->lxc_mac, 6);
	*(__u32 *)(arp + 14) = tip;
	return verdict(skb, o, ACT_REDIRECT, ep->ifindex, bpf_redirect(ep->ifindex, 0));
}

/* Sets the tunnel key (remote node, VNI = source identity) and reports to-overlay. Returns 0,
 * or -1 after reporting a drop. */
static __always_inline int to_overlay(struct __sk_buff *skb, const struct origin *o, struct lab_config *c, const struct flow *f, __u32 src_identity, __u32 dst_identity, __u32 tunnel_endpoint, __u32 reason, __u32 monitor)
{
	if (!tunnel_endpoint) {
		drop(skb, o, DROP_NO_TUNNEL_ENDPOINT, src_identity, dst_identity);
		return -1;
	}
	debug(skb, o, DBG_ENCAP, tunnel_endpoint, src_identity, 0);
	struct bpf_tunnel_key key = {};
	key.remote_ipv4 = bpf_ntohl(tunnel_endpoint);
	key.tunnel_id = src_identity; /* Cilium carries the source identity as the VNI */
	key.tunnel_ttl = 64;
	if (bpf_skb_set_tunnel_key(skb, &key, sizeof(key), BPF_F_ZERO_CSUM_TX) < 0) {
		drop(skb, o, DROP_NO_TUNNEL_ENDPOINT, src_identity, dst_identity);
		return -1;
	}
	struct trace_args t = {
		.obs = OBS_TO_OVERLAY, .src_label = src_identity, .dst_label = dst_identity,
		.ifindex = c->vxlan_ifindex, .reason = reason, .monitor = monitor,
	};
	trace(skb, o, &t);
	return 0;
}

/* bpf_lxc's from-container: packets leaving a pod, on the ingress of its host-side veth. */
SEC("tc")
int from_container(struct __sk_buff *skb)
{
	__u32 ifindex = skb->ifindex;
	struct lab_endpoint *src = bpf_map_lookup_elem(&endpoints_by_ifindex, &ifindex);
	struct lab_config *c = cfg();
	if (!src || !c)
		return TC_ACT_OK;
	struct origin o = { .prog = PROG_FROM_CONTAINER, .hook = ifindex, .source = src->ep_id };
	void *data = (void *)(long)skb->data;
	void *end = (void *)(long)skb->data_end;
	struct ethhdr *eth = data;
	if ((void *)(eth + 1) > end)
		return TC_ACT_OK;
	if (eth->h_proto == bpf_htons(ETH_P_ARP))
		return arp_respond(skb, src, &o);
	struct flow f;
	if (parse(skb, &f) < 0)
		return verdict(skb, &o, ACT_OK, 0, TC_ACT_OK);

	struct trace_args from = { .obs = OBS_FROM_LXC, .src_label = src->identity, .reason = REASON_UNKNOWN };
	trace(skb, &o, &from);
	__u32 no_service = lb4_svc_xlate(skb, &o, &f);
	if (no_service)
		return drop(skb, &o, no_service, src->identity, ID_WORLD);

	__u32 monitor = 0;
	__u32 st = ct_lookup(skb, &o, &f, 1, &monitor);
	__u32 tunnel_endpoint = 0;
	__u32 dst_identity = ipcache_identity(f.daddr, &tunnel_endpoint);
	debug(skb, &o, DBG_IPID_MAP4, f.daddr, dst_identity, 0);
	/* Egress policy before the CT entry is created, as handle_ipv4_from_lxc does. */
	__u32 denied = policy_check(skb, &o, dst_identity, &f, POLICY_DIR_EGRESS, st);
	if (denied)
		return drop(skb, &o, denied, src->identity, dst_identity);
	if (st == CT_NEW)
		ct_create(skb, &o, &f, 1, src->identity);
	__u32 reason = trace_reason(st);

	struct lab_endpoint *dst = bpf_map_lookup_elem(&endpoints_by_ip, &f.daddr);
	/* is_defined(ENABLE_ROUTING) || is_defined(ENABLE_HOST_ROUTING) */
	if (dst && (c->mode_bpf || !c->endpoint_routes)) {
		debug(skb, &o, DBG_LOCAL_DELIVERY, dst->ep_id, src->identity, 0);
		if (c->mode_bpf)
			return deliver_peer(skb, PROG_FROM_CONTAINER, dst, &f, src->identity);
		return deliver_lxc(skb, PROG_FROM_CONTAINER, dst, &f, src->identity, c);
	}
	/* TUNNEL_MODE: encap_and_redirect_lxc(), whatever the host routing. */
	if (tunnel_endpoint && c->tunnel_vxlan) {
		if (to_overlay(skb, &o, c, &f, src->identity, dst_identity, tunnel_endpoint, reason, monitor) == 0)
			return verdict(skb, &o, ACT_REDIRECT, c->vxlan_ifindex, bpf_redirect(c->vxlan_ifindex, 0));
		return TC_ACT_SHOT;
	}
	if (c->mode_bpf && tunnel_endpoint) {
		if (dec_ttl(skb, f.ttl) < 0)
			return drop(skb, &o, DROP_TTL_EXCEEDED, src->identity, dst_identity);
		struct trace_args t = {
			.obs = OBS_TO_NETWORK, .src_label = src->identity, .dst_label = dst_identity,
			.ifindex = c->underlay_ifindex, .reason = reason, .monitor = monitor,
		};
		trace(skb, &o, &t);
		return verdict(skb, &o, ACT_REDIRECT_NEIGH, c->underlay_ifindex, bpf_redirect_neigh(c->underlay_ifindex, NULL, 0, 0));
	}
	/* pass_to_stack: with ENABLE_ROUTING, ipv4_l3() first (TTL-1, the router's MAC). */
	if (!c->mode_bpf && !c->endpoint_routes && dec_ttl(skb, f.ttl) < 0)
		return drop(skb, &o, DROP_TTL_EXCEEDED, src->identity, dst_identity);
	struct trace_args t = { .obs = OBS_TO_STACK, .src_label = src->identity, .dst_label = dst_identity, .reason = reason, .monitor = monitor };
	trace(skb, &o, &t);
	return verdict(skb, &o, ACT_OK, 0, TC_ACT_OK);
}

/* bpf_lxc's to-container: packets the host stack routes to a pod (endpoint routes), on the
 * egress of its host-side veth. */
SEC("tc")
int to_container(struct __sk_buff *skb)
{
	__u32 ifindex = skb->ifindex;
	struct lab_endpoint *dst = bpf_map_lookup_elem(&endpoints_by_ifindex, &ifindex);
	struct lab_config *c = cfg();
	if (!dst || !c)
		return TC_ACT_OK;
	/* Legacy local delivery without endpoint routes already ran the destination's policy step
	 * (Cilium has no to-container program then); take the mark off as the pod would not see it. */
	if (!c->endpoint_routes && (skb->mark & MARK_MAGIC_HOST_MASK) == MARK_MAGIC_IDENTITY) {
		skb->mark = 0;
		return TC_ACT_OK;
	}
	struct origin o = { .prog = PROG_TO_CONTAINER, .hook = ifindex, .source = dst->ep_id };
	struct flow f;
	if (parse(skb, &f) < 0)
		return TC_ACT_OK;
	__u32 src_identity = ipcache_identity(f.saddr, NULL);
	debug(skb, &o, DBG_IPID_MAP4, f.saddr, src_identity, 0);
	if (policy_to_endpoint(skb, PROG_TO_CONTAINER, dst, &f, src_identity) < 0)
		return TC_ACT_SHOT;
	return verdict(skb, &o, ACT_OK, 0, TC_ACT_OK);
}

/* bpf_host's from-netdev: the underlay's ingress. Native routing delivers remote pods' packets
 * straight into the destination pod in BPF mode; without host routing bpf_host returns
 * CTX_ACT_OK for traffic not from the host (handle_ipv4_cont), and the stack routes it. */
SEC("tc")
int from_netdev(struct __sk_buff *skb)
{
	struct lab_config *c = cfg();
	if (!c)
		return TC_ACT_OK;
	struct origin o = { .prog = PROG_FROM_NETDEV, .hook = skb->ifindex, .source = c->host_ep_id };
	struct flow f;
	if (parse(skb, &f) < 0)
		return TC_ACT_OK;
	__u32 src_identity = ipcache_identity(f.saddr, NULL);
	struct trace_args from = { .obs = OBS_FROM_NETWORK, .ifindex = skb->ifindex, .reason = REASON_UNKNOWN };
	trace(skb, &o, &from);
	struct lab_endpoint *dst = bpf_map_lookup_elem(&endpoints_by_ip, &f.daddr);
	if (!dst || !c->mode_bpf)
		return verdict(skb, &o, ACT_OK, 0, TC_ACT_OK);
	debug(skb, &o, DBG_IPID_MAP4, f.saddr, src_identity, 0);
	debug(skb, &o, DBG_LOCAL_DELIVERY, dst->ep_id, src_identity, 0);
	return deliver_peer(skb, PROG_FROM_NETDEV, dst, &f, src_identity);
}

/* bpf_overlay's from-overlay: decapsulated packets on cilium_vxlan's ingress; the VNI carries
 * the source identity. */
SEC("tc")
int from_overlay(struct __sk_buff *skb)
{
	struct lab_config *c = cfg();
	if (!c)
		return TC_ACT_OK;
	struct origin o = { .prog = PROG_FROM_OVERLAY, .hook = skb->ifindex, .source = 0 };
	struct bpf_tunnel_key key = {};
	if (bpf_skb_get_tunnel_key(skb, &key, sizeof(key), 0) < 0)
		return TC_ACT_OK;
	struct flow f;
	if (parse(skb, &f) < 0)
		return TC_ACT_OK;
	struct trace_args from = { .obs = OBS_FROM_OVERLAY, .ifindex = skb->ifindex, .reason = REASON_UNKNOWN };
	trace(skb, &o, &from);
	__u32 src_identity = (__u32)key.tunnel_id;
	debug(skb, &o, DBG_DECAP, src_identity, key.tunnel_label, 0);
	struct lab_endpoint *dst = bpf_map_lookup_elem(&endpoints_by_ip, &f.daddr);
	/* bpf_overlay's handle_ipv4 calls ipv4_local_delivery() in every host routing mode. */
	if (dst) {
		debug(skb, &o, DBG_LOCAL_DELIVERY, dst->ep_id, src_identity, 0);
		if (c->mode_bpf)
			return deliver_peer(skb, PROG_FROM_OVERLAY, dst, &f, src_identity);
		return deliver_lxc(skb, PROG_FROM_OVERLAY, dst, &f, src_identity, c);
	}
	/* The inner frame carries the sender's MACs: let the host stack take it as its own. */
	bpf_skb_change_type(skb, PACKET_HOST);
	return verdict(skb, &o, ACT_OK, 0, TC_ACT_OK);
}

/* The tunnel device's egress: packets the host stack routes into the tunnel (the host's own
 * traffic) get their tunnel key here; pods' packets got theirs in from-container. */
SEC("tc")
int to_overlay_egress(struct __sk_buff *skb)
{
	struct lab_config *c = cfg();
	if (!c)
		return TC_ACT_OK;
	struct bpf_tunnel_key key = {};
	if (bpf_skb_get_tunnel_key(skb, &key, sizeof(key), 0) == 0)
		return TC_ACT_OK;
	struct origin o = { .prog = PROG_TO_OVERLAY, .hook = skb->ifindex, .source = c->host_ep_id };
	struct flow f;
	if (parse(skb, &f) < 0)
		return TC_ACT_OK;
	__u32 tunnel_endpoint = 0;
	__u32 dst_identity = ipcache_identity(f.daddr, &tunnel_endpoint);
	__u32 src_identity = ipcache_identity(f.saddr, NULL);
	struct lab_endpoint *src = bpf_map_lookup_elem(&endpoints_by_ip, &f.saddr);
	if (src)
		o.source = src->ep_id;
	if (to_overlay(skb, &o, c, &f, src_identity, dst_identity, tunnel_endpoint, REASON_UNKNOWN, 1) < 0)
		return TC_ACT_SHOT;
	return verdict(skb, &o, ACT_OK, 0, TC_ACT_OK);
}
