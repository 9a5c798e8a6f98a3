/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The lab's per-packet service load balancer, after Cilium's bpf/lib/lb.h as bpf_lxc runs it
 * (__per_packet_lb_svc_xlate_4 before handle_ipv4_from_lxc; reverse NAT in ipv4_policy):
 *
 * - lb4_lookup_service(): the frontend (ClusterIP, port, protocol; slot 0) in lb4_services; a
 *   frontend whose count is 0 has no backends and the packet is dropped with DROP_NO_SERVICE
 *   (158, "Service backend not found"), as lb4_local() does.
 * - the backend of a new connection is chosen at random among the slots
 *   (lb4_select_backend_id_random: prandom % count + 1) and remembered in a service conntrack
 *   entry keyed by the tuple before translation (Cilium's CT_SERVICE scope), so every packet of
 *   the connection goes to the same backend.
 * - lb4_xlate(): DNAT of the destination address and port, with the L3 and L4 (pseudo-header)
 *   checksums fixed; the connection's conntrack entry carries the frontend's rev_nat_index.
 * - lb4_rev_nat(): at the client endpoint's ingress (ipv4_policy), a reply whose conntrack entry
 *   has a rev_nat_index gets the frontend's address and port back as its source.
 *
 * Debug messages follow Cilium's dbg.h (DBG_LB4_LOOKUP_FRONTEND, DBG_LB4_LOOKUP_BACKEND_SLOT,
 * DBG_LB4_LOOKUP_BACKEND_SLOT_SUCCESS, DBG_LB4_REVERSE_NAT_LOOKUP, DBG_LB4_REVERSE_NAT).
 * Included by datapath.bpf.c after its conntrack, which stores rev_nat_index.
 */
#ifndef LAB_LB_H
#define LAB_LB_H

#define DROP_NO_SERVICE 158 /* Cilium's DROP_NO_SERVICE: "Service backend not found" */

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1024);
	__type(key, struct lab_lb4_key);
	__type(value, struct lab_lb4_service);
} lb4_services SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1024);
	__type(key, __u32); /* backend id */
	__type(value, struct lab_lb4_backend);
} lb4_backends SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1024);
	__type(key, __u16); /* rev_nat_index */
	__type(value, struct lab_lb4_reverse_nat);
} lb4_reverse_nat SEC(".maps");

/* The service conntrack scope: the tuple before translation -> the backend chosen for it. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 65536);
	__type(key, struct ct_key);
	__type(value, __u32); /* backend id */
} lb4_svc_ct SEC(".maps");

/* Rewrites the IPv4 address at off (12: source, 16: destination) and the L4 port at port_off, with
 * the checksums (Cilium's lb4_xlate / __lb4_rev_nat: ctx_store_bytes + l3/l4_csum_replace). */
static __always_inline void lb4_rewrite(struct __sk_buff *skb, const struct flow *f, __u32 off, __u32 old_ip, __u32 new_ip, __u32 port_off, __u16 old_port, __u16 new_port)
{
	__u32 l4 = ETH_HLEN + sizeof(struct iphdr); /* the lab's pods send no IP options */
	__u32 csum_off = f->proto == IPPROTO_TCP ? l4 + 16 : l4 + 6;
	bpf_l3_csum_replace(skb, ETH_HLEN + offsetof(struct iphdr, check), old_ip, new_ip, 4);
	bpf_l4_csum_replace(skb, csum_off, old_ip, new_ip, BPF_F_PSEUDO_HDR | 4 | (f->proto == IPPROTO_UDP ? BPF_F_MARK_MANGLED_0 : 0));
	bpf_skb_store_bytes(skb, ETH_HLEN + off, &new_ip, 4, 0);
	if (old_port != new_port) {
		__u16 op = bpf_htons(old_port), np = bpf_htons(new_port);
		bpf_l4_csum_replace(skb, csum_off, op, np, 2 | (f->proto == IPPROTO_UDP ? BPF_F_MARK_MANGLED_0 : 0));
		bpf_skb_store_bytes(skb, l4 + port_off, &np, 2, 0);
	}
}

/*
 * The per-packet service translation at the client's lxc (from-container). Returns 0 (the
 * packet is not for a service, or was translated: f then names the backend and f->rev_nat the
 * frontend), or DROP_NO_SERVICE.
 */
static __always_inline __u32 lb4_svc_xlate(struct __sk_buff *skb, const struct origin *o, struct flow *f)
{
	if (f->proto != IPPROTO_TCP && f->proto != IPPROTO_UDP)
		return 0;
	struct lab_lb4_key key = { .address = f->daddr, .dport = bpf_htons(f->dport), .proto = f->proto };
	struct lab_lb4_service *svc = bpf_map_lookup_elem(&lb4_services, &key);
	if (!svc)
		return 0;
	debug(skb, o, DBG_LB4_LOOKUP_FRONTEND, f->daddr, key.dport, 0);
	if (svc->count == 0)
		return DROP_NO_SERVICE;
	struct ct_key sk = { .saddr = f->saddr, .daddr = f->daddr, .sport = f->sport, .dport = f->dport, .proto = f->proto, .egress = 1 };
	__u32 *known = bpf_map_lookup_elem(&lb4_svc_ct, &sk);
	__u32 backend_id = 0;
	struct lab_lb4_backend *be = known ? bpf_map_lookup_elem(&lb4_backends, known) : NULL;
	if (be) {
		backend_id = *known;
	} else {
		/* A new connection (or its backend is gone): a random slot, as lb4_select_backend_id_random. */
		key.backend_slot = (bpf_get_prandom_u32() % svc->count) + 1;
		debug(skb, o, DBG_LB4_LOOKUP_BACKEND_SLOT, key.backend_slot, key.dport, 0);
		struct lab_lb4_service *slot = bpf_map_lookup_elem(&lb4_services, &key);
		if (!slot)
			return DROP_NO_SERVICE;
		backend_id = slot->backend_id;
		be = bpf_map_lookup_elem(&lb4_backends, &backend_id);
		if (!be)
			return DROP_NO_SERVICE;
		bpf_map_update_elem(&lb4_svc_ct, &sk, &backend_id, BPF_ANY);
	}
	debug(skb, o, DBG_LB4_LOOKUP_BACKEND_SLOT_SUCCESS, be->address, be->port, 0);
	lb4_rewrite(skb, f, offsetof(struct iphdr, daddr), f->daddr, be->address, 2, f->dport, bpf_ntohs(be->port));
	f->daddr = be->address;
	f->dport = bpf_ntohs(be->port);
	f->rev_nat = svc->rev_nat_index;
	return 0;
}

/*
 * Reverse NAT of a reply at the client endpoint's ingress: the conntrack entry the client's
 * from-container created (egress tuple client -> backend) holds the frontend's rev_nat_index.
 */
static __always_inline void lb4_rev_nat(struct __sk_buff *skb, const struct origin *o, const struct flow *f, __u32 ct_state)
{
	if (ct_state != CT_REPLY)
		return;
	struct ct_key k = { .saddr = f->daddr, .daddr = f->saddr, .sport = f->dport, .dport = f->sport, .proto = f->proto, .egress = 1 };
	struct ct_entry *e = bpf_map_lookup_elem(&conntrack, &k);
	if (!e || !e->rev_nat_index)
		return;
	__u16 index = e->rev_nat_index;
	debug(skb, o, DBG_LB4_REVERSE_NAT_LOOKUP, bpf_htons(index), 0, 0);
	struct lab_lb4_reverse_nat *nat = bpf_map_lookup_elem(&lb4_reverse_nat, &index);
	if (!nat)
		return;
	debug(skb, o, DBG_LB4_REVERSE_NAT, nat->address, nat->port, 0);
	lb4_rewrite(skb, f, offsetof(struct iphdr, saddr), f->saddr, nat->address, 0, f->sport, bpf_ntohs(nat->port));
}

#endif
