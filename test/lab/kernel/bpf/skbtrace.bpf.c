// SPDX-License-Identifier: GPL-2.0
/*
 * skbtrace: the kernel half of the lab's emulated pwru. Real pwru attaches kprobes to every
 * function taking an skb; this kernel has no kprobes (CONFIG_KPROBES is off), but BTF
 * tracepoints work, so these programs record each skb at the stack's real checkpoints
 * (netif_rx, netif_receive_skb, net_dev_queue, net_dev_start_xmit, net_dev_xmit, kfree_skb,
 * consume_skb, skb_copy_datagram_iovec) with its real address, CPU, task, netns, device and
 * headers, and every IPv4 route lookup (fib_table_lookup: no skb, its flow's addresses and the
 * route's device). Only the lab's network namespaces (netns_filter) are reported.
 *
 * No vmlinux.h: the few kernel types used are declared here with preserve_access_index, and
 * libbpf relocates every field against the running kernel's BTF (CO-RE).
 */
#include <linux/bpf.h>
#include <linux/types.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_endian.h>
#include "skbtrace.h"

char LICENSE[] SEC("license") = "GPL";

struct ns_common {
	unsigned int inum;
} __attribute__((preserve_access_index));

struct net {
	struct ns_common ns;
} __attribute__((preserve_access_index));

typedef struct {
	struct net *net;
} possible_net_t;

struct net_device {
	char name[16];
	int ifindex;
	unsigned int mtu;
	possible_net_t nd_net;
} __attribute__((preserve_access_index));

struct sock_common {
	possible_net_t skc_net;
} __attribute__((preserve_access_index));

struct inode {
	unsigned long i_ino;
} __attribute__((preserve_access_index));

struct file {
	struct inode *f_inode;
} __attribute__((preserve_access_index));

struct socket {
	struct file *file;
} __attribute__((preserve_access_index));

struct sock {
	struct sock_common __sk_common;
	struct socket *sk_socket;
} __attribute__((preserve_access_index));

struct sk_buff {
	struct net_device *dev;
	struct sock *sk;
	unsigned int len;
	__u32 mark;
	__u16 protocol;
	__u16 transport_header;
	__u16 network_header;
	__u16 mac_header;
	unsigned char *head;
	unsigned char *data;
} __attribute__((preserve_access_index));

struct flowi_common {
	int flowic_oif;
	int flowic_iif;
	__u8 flowic_proto;
} __attribute__((preserve_access_index));

struct flowi4 {
	struct flowi_common __fl_common;
	__u32 saddr;
	__u32 daddr;
} __attribute__((preserve_access_index));

struct fib_nh_common {
	struct net_device *nhc_dev;
} __attribute__((preserve_access_index));

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 1 << 22);
} skb_events SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 256);
	__type(key, __u32);
	__type(value, __u8);
} netns_filter SEC(".maps");

/*
 * The inode of lab-skbtrace's own stdout when it is a socket (node gives a child a socketpair
 * for stdio). The emulated pwru reads the records from it, and each read consumes an skb of
 * that socket in the node's netns, whose record makes the next read: unfiltered, the two kept
 * each other busy at thousands of records a second. Real pwru reads a perf ring, no skbs.
 */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} own_output SEC(".maps");

static __always_inline int is_own_output(struct sk_buff *skb)
{
	__u32 zero = 0;
	__u64 *ino = bpf_map_lookup_elem(&own_output, &zero);
	if (!ino || !*ino)
		return 0;
	struct sock *sk = BPF_CORE_READ(skb, sk);
	if (!sk)
		return 0;
	return BPF_CORE_READ(sk, sk_socket, file, f_inode, i_ino) == *ino;
}

static __always_inline __u32 netns_of(struct sk_buff *skb, struct net_device *dev)
{
	if (!dev)
		dev = BPF_CORE_READ(skb, dev);
	if (dev)
		return BPF_CORE_READ(dev, nd_net.net, ns.inum);
	struct sock *sk = BPF_CORE_READ(skb, sk);
	if (sk)
		return BPF_CORE_READ(sk, __sk_common.skc_net.net, ns.inum);
	return 0;
}

static __always_inline int record(struct sk_buff *skb, struct net_device *dev, __u32 kind, __u32 arg)
{
	__u32 netns = netns_of(skb, dev);
	if (!bpf_map_lookup_elem(&netns_filter, &netns))
		return 0;
	if (is_own_output(skb))
		return 0;
	struct skb_event *e = bpf_ringbuf_reserve(&skb_events, sizeof(*e), 0);
	if (!e)
		return 0;
	__builtin_memset(e, 0, sizeof(*e));
	e->ts = bpf_ktime_get_ns();
	e->skb = (__u64)skb;
	e->kind = kind;
	e->arg = arg;
	e->cpu = bpf_get_smp_processor_id();
	e->pid = bpf_get_current_pid_tgid() >> 32;
	bpf_get_current_comm(e->comm, sizeof(e->comm));
	e->netns = netns;
	if (!dev)
		dev = BPF_CORE_READ(skb, dev);
	if (dev) {
		e->ifindex = BPF_CORE_READ(dev, ifindex);
		e->mtu = BPF_CORE_READ(dev, mtu);
		BPF_CORE_READ_STR_INTO(&e->ifname, dev, name);
	}
	e->len = BPF_CORE_READ(skb, len);
	e->mark = BPF_CORE_READ(skb, mark);
	e->proto = BPF_CORE_READ(skb, protocol);
	unsigned char *head = BPF_CORE_READ(skb, head);
	__u16 nh = BPF_CORE_READ(skb, network_header);
	__u16 mh = BPF_CORE_READ(skb, mac_header);
	unsigned char *l3;
	if (nh != (__u16)~0U && nh != 0 && nh != mh)
		l3 = head + nh;
	else if (mh != (__u16)~0U)
		l3 = head + mh + 14;
	else
		l3 = BPF_CORE_READ(skb, data);
	if (bpf_probe_read_kernel(e->l3, sizeof(e->l3), l3) == 0)
		e->l3_len = sizeof(e->l3);
	bpf_ringbuf_submit(e, 0);
	return 0;
}

SEC("tp_btf/netif_rx")
int BPF_PROG(on_netif_rx, struct sk_buff *skb)
{
	return record(skb, NULL, SKB_NETIF_RX, 0);
}

SEC("tp_btf/netif_receive_skb")
int BPF_PROG(on_netif_receive_skb, struct sk_buff *skb)
{
	return record(skb, NULL, SKB_NETIF_RECEIVE, 0);
}

SEC("tp_btf/net_dev_queue")
int BPF_PROG(on_net_dev_queue, struct sk_buff *skb)
{
	return record(skb, NULL, SKB_DEV_QUEUE, 0);
}

SEC("tp_btf/net_dev_start_xmit")
int BPF_PROG(on_net_dev_start_xmit, struct sk_buff *skb, struct net_device *dev)
{
	return record(skb, dev, SKB_DEV_START_XMIT, 0);
}

SEC("tp_btf/net_dev_xmit")
int BPF_PROG(on_net_dev_xmit, struct sk_buff *skb, int rc, struct net_device *dev)
{
	return record(skb, dev, SKB_DEV_XMIT, (__u32)rc);
}

SEC("tp_btf/kfree_skb")
int BPF_PROG(on_kfree_skb, struct sk_buff *skb, void *location, int reason)
{
	return record(skb, NULL, SKB_KFREE, (__u32)reason);
}

SEC("tp_btf/consume_skb")
int BPF_PROG(on_consume_skb, struct sk_buff *skb)
{
	return record(skb, NULL, SKB_CONSUME, 0);
}

SEC("tp_btf/skb_copy_datagram_iovec")
int BPF_PROG(on_skb_copy_datagram_iovec, struct sk_buff *skb, int len)
{
	return record(skb, NULL, SKB_COPY_DATAGRAM, (__u32)len);
}

/* A route lookup of the IPv4 stack (ip_route_input_slow, ip_route_output_key, ...): the lookup
 * has no skb, so it is reported with its flow's addresses and the route's device, in the
 * route device's netns; failed lookups (no route) carry no device and are not reported. */
SEC("tp_btf/fib_table_lookup")
int BPF_PROG(on_fib_table_lookup, __u32 tb_id, const struct flowi4 *flp, const struct fib_nh_common *nhc, int err)
{
	if (err || !nhc)
		return 0;
	struct net_device *dev = BPF_CORE_READ(nhc, nhc_dev);
	if (!dev)
		return 0;
	__u32 netns = BPF_CORE_READ(dev, nd_net.net, ns.inum);
	if (!bpf_map_lookup_elem(&netns_filter, &netns))
		return 0;
	struct skb_event *e = bpf_ringbuf_reserve(&skb_events, sizeof(*e), 0);
	if (!e)
		return 0;
	__builtin_memset(e, 0, sizeof(*e));
	e->ts = bpf_ktime_get_ns();
	e->kind = SKB_FIB_LOOKUP;
	e->arg = tb_id;
	e->cpu = bpf_get_smp_processor_id();
	e->pid = bpf_get_current_pid_tgid() >> 32;
	bpf_get_current_comm(e->comm, sizeof(e->comm));
	e->netns = netns;
	e->ifindex = BPF_CORE_READ(dev, ifindex);
	e->mtu = BPF_CORE_READ(dev, mtu);
	BPF_CORE_READ_STR_INTO(&e->ifname, dev, name);
	e->proto = bpf_htons(0x0800);
	e->l3[0] = 0x45;
	e->l3[9] = BPF_CORE_READ(flp, __fl_common.flowic_proto);
	__u32 saddr = BPF_CORE_READ(flp, saddr);
	__u32 daddr = BPF_CORE_READ(flp, daddr);
	__builtin_memcpy(&e->l3[12], &saddr, 4);
	__builtin_memcpy(&e->l3[16], &daddr, 4);
	e->l3_len = 20;
	bpf_ringbuf_submit(e, 0);
	return 0;
}
