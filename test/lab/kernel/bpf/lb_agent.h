/* SPDX-License-Identifier: GPL-2.0 */
/*
 * lab-agent's part of the service load balancer: fills lb4_services, lb4_backends and
 * lb4_reverse_nat (lb.h) from the config lines the lab's emulated agent wrote from the API's
 * Services and EndpointSlices (kernel/services.ts), as Cilium's agent syncs its service maps:
 *
 *   svc VIP PORT PROTO REV_NAT_INDEX COUNT                  the frontend (slot 0) and its reverse NAT
 *   backend VIP PORT PROTO SLOT BACKEND_ID ADDRESS BPORT    one backend slot of that frontend
 *
 * Included by agent.c after map_fd() and parse_ip().
 */
#ifndef LAB_LB_AGENT_H
#define LAB_LB_AGENT_H
#include "lb_maps.h"

/* Returns 1 when the line was a load-balancer line (and was applied). */
static int lb_config_line(struct bpf_object *obj, const char *line)
{
	char vip[64], addr[64];
	unsigned int port, proto, revnat, count, slot, id, bport;
	if (sscanf(line, "svc %63s %u %u %u %u", vip, &port, &proto, &revnat, &count) == 5) {
		struct lab_lb4_key k = { .address = parse_ip(vip), .dport = htons((__u16)port), .proto = (__u8)proto };
		struct lab_lb4_service v = { .count = (__u16)count, .rev_nat_index = (__u16)revnat };
		struct lab_lb4_reverse_nat nat = { .address = k.address, .port = k.dport };
		__u16 index = (__u16)revnat;
		if (bpf_map_update_elem(map_fd(obj, "lb4_services"), &k, &v, BPF_ANY) ||
		    bpf_map_update_elem(map_fd(obj, "lb4_reverse_nat"), &index, &nat, BPF_ANY))
			die("filling the service maps", errno);
		return 1;
	}
	if (sscanf(line, "backend %63s %u %u %u %u %63s %u", vip, &port, &proto, &slot, &id, addr, &bport) == 7) {
		struct lab_lb4_key k = { .address = parse_ip(vip), .dport = htons((__u16)port), .proto = (__u8)proto, .backend_slot = (__u16)slot };
		struct lab_lb4_service v = { .backend_id = id };
		struct lab_lb4_backend be = { .address = parse_ip(addr), .port = htons((__u16)bport), .proto = (__u8)proto };
		__u32 backend_id = id;
		if (bpf_map_update_elem(map_fd(obj, "lb4_services"), &k, &v, BPF_ANY) ||
		    bpf_map_update_elem(map_fd(obj, "lb4_backends"), &backend_id, &be, BPF_ANY))
			die("filling the service maps", errno);
		return 1;
	}
	return 0;
}

#endif
