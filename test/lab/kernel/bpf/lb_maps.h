/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The service load balancer's map layouts (lb.h), shared with lab-agent, which fills them from
 * its config (`svc`, `backend` lines). After Cilium's lb4_key / lb4_service / lb4_backend /
 * lb4_reverse_nat (bpf/lib/lb.h), without the fields the lab does not use.
 */
#ifndef LAB_LB_MAPS_H
#define LAB_LB_MAPS_H

struct lab_lb4_key {
	__u32 address;      /* frontend address, network order */
	__u16 dport;        /* network order */
	__u16 backend_slot; /* 0: the service itself; 1..count: its backends */
	__u8 proto;
	__u8 pad[3];
};

struct lab_lb4_service {
	__u32 backend_id;    /* slots > 0 */
	__u16 count;         /* slot 0: number of backends */
	__u16 rev_nat_index; /* slot 0: the frontend's reverse NAT index (Cilium's service ID) */
};

struct lab_lb4_backend {
	__u32 address; /* network order */
	__u16 port;    /* network order */
	__u8 proto;
	__u8 pad;
};

struct lab_lb4_reverse_nat {
	__u32 address; /* network order */
	__u16 port;    /* network order */
	__u16 pad;
};

#endif
