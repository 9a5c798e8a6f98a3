/* SPDX-License-Identifier: GPL-2.0 */
/* One skb seen at a kernel tracepoint, shared by skbtrace.bpf.c and skbtrace.c. */
#ifndef SKBTRACE_H
#define SKBTRACE_H

enum skb_kind {
	SKB_NETIF_RX = 1,        /* netif_rx: handed to a device's backlog (veth xmit lands here) */
	SKB_NETIF_RECEIVE = 2,   /* netif_receive_skb: __netif_receive_skb_core starts */
	SKB_DEV_QUEUE = 3,       /* net_dev_queue: __dev_queue_xmit on a device */
	SKB_DEV_START_XMIT = 4,  /* net_dev_start_xmit: the driver's ndo_start_xmit is next */
	SKB_DEV_XMIT = 5,        /* net_dev_xmit: the driver returned (arg = rc) */
	SKB_KFREE = 6,           /* kfree_skb: dropped (arg = enum skb_drop_reason) */
	SKB_CONSUME = 7,         /* consume_skb: freed after use */
	SKB_COPY_DATAGRAM = 8,   /* skb_copy_datagram_iovec: a socket reads it (arg = len) */
	SKB_FIB_LOOKUP = 9,      /* fib:fib_table_lookup: a route lookup (no skb: skb = 0, arg = table id,
				  * device = the route's, l3 = an IPv4 header holding the lookup's
				  * saddr, daddr and protocol, netns = the route device's) */
};

struct skb_event {
	__u64 ts;
	__u64 skb;
	__u32 kind;
	__u32 arg;
	__u32 cpu;
	__u32 pid;
	__u32 netns;
	__u32 ifindex;
	__u32 mtu;
	__u32 len;
	__u32 mark;
	__u16 proto; /* skb->protocol, network order */
	__u16 l3_len;
	char comm[16];
	char ifname[16];
	__u8 l3[48]; /* from the network header: IPv4 + L4 ports/ICMP + a VXLAN header */
};

#endif
