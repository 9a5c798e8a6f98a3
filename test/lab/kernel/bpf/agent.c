// SPDX-License-Identifier: GPL-2.0
/*
 * lab-agent: the lab's stand-in for cilium-agent on one node. It runs inside the node's network
 * namespace, loads datapath.bpf.o, fills its maps from a config file written by `lab up`,
 * attaches the tc programs (lxc ingress/egress, underlay ingress, cilium_vxlan ingress/egress),
 * then turns every ring-buffer record into one JSON line of the node's event file, which the
 * emulated `cilium-dbg monitor` and `pwru` follow.
 *
 * usage: lab-agent --obj datapath.bpf.o --config node.conf --events node.jsonl --ready node.ready [--policy node.policy]
 *
 * The policy file is what the emulated agent computed from the API's policies (lines `entry EP
 * IDENTITY ingress|egress PROTO PORT allow|deny COOKIE` and `filter EP BITS`); lab-agent loads it
 * into the policy maps (policy.h) at start and again whenever the file is replaced, checked on
 * every ring-buffer poll (200 ms), as Cilium's agent regenerates an endpoint's policy map.
 *
 * The tc attachments outlive the agent (like Cilium's datapath outlives a restarting agent);
 * they go away with the node's network namespace.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <linux/pkt_cls.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "lab_event.h"
#include "loader.h"

static FILE *out;


static int parse_mac(const char *s, __u8 mac[6])
{
	unsigned int b[6];
	if (sscanf(s, "%x:%x:%x:%x:%x:%x", &b[0], &b[1], &b[2], &b[3], &b[4], &b[5]) != 6)
		return -1;
	for (int i = 0; i < 6; i++)
		mac[i] = (__u8)b[i];
	return 0;
}

static __u32 parse_ip(const char *s)
{
	struct in_addr a;
	if (inet_pton(AF_INET, s, &a) != 1) {
		fprintf(stderr, "lab-agent: bad address %s\n", s);
		exit(1);
	}
	return a.s_addr;
}

static void attach(struct bpf_object *obj, const char *prog_name, int ifindex, enum bpf_tc_attach_point where)
{
	struct bpf_program *prog = bpf_object__find_program_by_name(obj, prog_name);
	if (!prog)
		die(prog_name, ENOENT);
	DECLARE_LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = ifindex, .attach_point = where);
	int err = bpf_tc_hook_create(&hook);
	if (err && err != -EEXIST)
		die("creating clsact qdisc", err);
	DECLARE_LIBBPF_OPTS(bpf_tc_opts, opts, .handle = 1, .priority = 1, .prog_fd = bpf_program__fd(prog),
			    .flags = BPF_TC_F_REPLACE);
	err = bpf_tc_attach(&hook, &opts);
	if (err)
		die("attaching tc program", err);
}

static int map_fd(struct bpf_object *obj, const char *name)
{
	struct bpf_map *m = bpf_object__find_map_by_name(obj, name);
	if (!m)
		die(name, ENOENT);
	return bpf_map__fd(m);
}

#include "lb_agent.h"

static void load_config(struct bpf_object *obj, const char *path)
{
	FILE *f = fopen(path, "r");
	if (!f)
		die(path, errno);
	struct lab_config cfg = {};
	int eps_ip = map_fd(obj, "endpoints_by_ip");
	int eps_if = map_fd(obj, "endpoints_by_ifindex");
	int ipc = map_fd(obj, "ipcache");
	char line[512];
	while (fgets(line, sizeof(line), f)) {
		char a[64], b[64], c[64], d[64], e[64], g[64];
		unsigned int n1;
		if (lb_config_line(obj, line)) {
			/* a service frontend or backend (lb_agent.h) */
		} else if (sscanf(line, "mode %63s", a) == 1) {
			cfg.mode_bpf = strcmp(a, "bpf") == 0;
			cfg.endpoint_routes = strcmp(a, "legacy-endpoint-routes") == 0;
		} else if (sscanf(line, "tunnel %63s", a) == 1) {
			cfg.tunnel_vxlan = strcmp(a, "vxlan") == 0;
		} else if (sscanf(line, "node_ip %63s", a) == 1) {
			cfg.node_ip = parse_ip(a);
		} else if (sscanf(line, "host_ep %u", &n1) == 1) {
			cfg.host_ep_id = n1;
		} else if (sscanf(line, "underlay %u", &n1) == 1) {
			cfg.underlay_ifindex = n1;
			attach(obj, "from_netdev", (int)n1, BPF_TC_INGRESS);
		} else if (sscanf(line, "vxlan %u", &n1) == 1) {
			cfg.vxlan_ifindex = n1;
			attach(obj, "from_overlay", (int)n1, BPF_TC_INGRESS);
			attach(obj, "to_overlay_egress", (int)n1, BPF_TC_EGRESS);
		} else if (sscanf(line, "ep %63s %63s %63s %63s %63s %63s", a, b, c, d, e, g) == 6) {
			struct lab_endpoint ep = {};
			ep.ifindex = (__u32)strtoul(a, NULL, 10);
			ep.ep_id = (__u32)strtoul(b, NULL, 10);
			ep.identity = (__u32)strtoul(c, NULL, 10);
			ep.ip = parse_ip(d);
			if (parse_mac(e, ep.lxc_mac) || parse_mac(g, ep.pod_mac))
				die("bad MAC in config", EINVAL);
			if (bpf_map_update_elem(eps_ip, &ep.ip, &ep, BPF_ANY) || bpf_map_update_elem(eps_if, &ep.ifindex, &ep, BPF_ANY))
				die("filling endpoint maps", errno);
			attach(obj, "from_container", (int)ep.ifindex, BPF_TC_INGRESS);
			attach(obj, "to_container", (int)ep.ifindex, BPF_TC_EGRESS);
		} else if (sscanf(line, "ipcache %63s %63s %63s", a, b, c) == 3) {
			char *slash = strchr(a, '/');
			struct lab_ipcache_key k = { .prefixlen = 32 };
			if (slash) {
				*slash = 0;
				k.prefixlen = (__u32)strtoul(slash + 1, NULL, 10);
			}
			k.ip = parse_ip(a);
			struct lab_ipcache_val v = { .identity = (__u32)strtoul(b, NULL, 10), .tunnel_endpoint = strcmp(c, "0") ? parse_ip(c) : 0 };
			if (bpf_map_update_elem(ipc, &k, &v, BPF_ANY))
				die("filling ipcache", errno);
		}
	}
	fclose(f);
	__u32 zero = 0;
	if (bpf_map_update_elem(map_fd(obj, "config"), &zero, &cfg, BPF_ANY))
		die("writing config map", errno);
}

#define MAX_POLICY 4096

/* Fills the key and entry of one policy line; the LPM prefix covers the fixed part (endpoint,
 * identity, direction) plus the protocol when given and the port when given (policy.h). */
static int policy_line(const char *line, struct lab_policy_key *k, struct lab_policy_entry *v)
{
	unsigned int ep, id, proto, port, cookie;
	char dir[16], action[16];
	if (sscanf(line, "entry %u %u %15s %u %u %15s %u", &ep, &id, dir, &proto, &port, action, &cookie) != 7)
		return -1;
	memset(k, 0, sizeof(*k));
	memset(v, 0, sizeof(*v));
	k->ep_id = ep;
	k->sec_label = id;
	k->egress = strcmp(dir, "egress") == 0;
	k->protocol = (__u8)proto;
	k->dport = htons((__u16)port);
	v->lpm_prefix_length = proto == 0 ? 0 : port == 0 ? 8 : 24;
	k->prefixlen = 32 + 32 + 8 + v->lpm_prefix_length;
	v->deny = strcmp(action, "deny") == 0;
	v->cookie = cookie;
	return 0;
}

static int same_key(const struct lab_policy_key *a, const struct lab_policy_key *b)
{
	return a->prefixlen == b->prefixlen && a->ep_id == b->ep_id && a->sec_label == b->sec_label && a->egress == b->egress &&
	       a->protocol == b->protocol && a->dport == b->dport;
}

static struct lab_policy_key policy_keys[MAX_POLICY];
static struct lab_policy_key stale_keys[MAX_POLICY];

/* Makes the policy maps what the file says: every entry written first, then the entries the
 * file no longer has removed, so no packet meets a half-written policy with nothing in it. */
static void load_policy(struct bpf_object *obj, const char *path)
{
	FILE *f = fopen(path, "r");
	if (!f)
		return; /* not written yet: the maps keep what they have */
	int pm = map_fd(obj, "policy_map");
	int lf = map_fd(obj, "policy_log_filter");
	int n = 0;
	__u32 filter_eps[256];
	int nf = 0;
	char line[256];
	while (fgets(line, sizeof(line), f)) {
		struct lab_policy_entry v;
		unsigned int ep, bits;
		if (n < MAX_POLICY && policy_line(line, &policy_keys[n], &v) == 0) {
			if (bpf_map_update_elem(pm, &policy_keys[n], &v, BPF_ANY))
				fprintf(stderr, "lab-agent: policy entry not written: %s", line);
			else
				n++;
		} else if (sscanf(line, "filter %u %u", &ep, &bits) == 2 && nf < 256) {
			__u32 key = ep, val = bits;
			bpf_map_update_elem(lf, &key, &val, BPF_ANY);
			filter_eps[nf++] = key;
		}
	}
	fclose(f);
	struct lab_policy_key cur, next;
	int stale = 0;
	void *prev = NULL;
	while (stale < MAX_POLICY && bpf_map_get_next_key(pm, prev, &next) == 0) {
		int keep = 0;
		for (int i = 0; i < n && !keep; i++)
			keep = same_key(&next, &policy_keys[i]);
		if (!keep)
			stale_keys[stale++] = next;
		cur = next;
		prev = &cur;
	}
	for (int i = 0; i < stale; i++)
		bpf_map_delete_elem(pm, &stale_keys[i]);
	__u32 fk, fnext;
	void *fprev = NULL;
	__u32 gone[256];
	int ngone = 0;
	while (ngone < 256 && bpf_map_get_next_key(lf, fprev, &fnext) == 0) {
		int keep = 0;
		for (int i = 0; i < nf && !keep; i++)
			keep = filter_eps[i] == fnext;
		if (!keep)
			gone[ngone++] = fnext;
		fk = fnext;
		fprev = &fk;
	}
	for (int i = 0; i < ngone; i++)
		bpf_map_delete_elem(lf, &gone[i]);
}

/* Whether the policy file was replaced (or first appeared) since the last look. */
static int policy_changed(const char *path, struct stat *last)
{
	struct stat st;
	if (stat(path, &st) != 0)
		return 0;
	if (st.st_ino == last->st_ino && st.st_mtim.tv_sec == last->st_mtim.tv_sec && st.st_mtim.tv_nsec == last->st_mtim.tv_nsec &&
	    st.st_size == last->st_size)
		return 0;
	*last = st;
	return 1;
}

static const char *kinds[] = { "?", "trace", "debug", "drop", "verdict", "policy-verdict" };

static int on_event(void *ctx, void *data, size_t size)
{
	(void)ctx;
	const struct lab_event *e = data;
	if (size < sizeof(*e))
		return 0;
	char hex[LAB_CAP * 2 + 1];
	__u32 cap = e->cap_len > LAB_CAP ? LAB_CAP : e->cap_len;
	for (__u32 i = 0; i < cap; i++)
		sprintf(hex + 2 * i, "%02x", e->data[i]);
	hex[2 * cap] = 0;
	fprintf(out,
		"{\"ts\":%llu,\"kind\":\"%s\",\"sub\":%u,\"source\":%u,\"dstId\":%u,\"cpu\":%u,\"hash\":%u,"
		"\"srcLabel\":%u,\"dstLabel\":%u,\"ifindex\":%u,\"reason\":%u,\"monitor\":%u,\"arg1\":%u,\"arg2\":%u,"
		"\"arg3\":%u,\"origIp\":%u,\"len\":%u,\"capLen\":%u,\"prog\":%u,\"hookIfindex\":%u,\"action\":%u,"
		"\"target\":%u,\"data\":\"%s\"}\n",
		(unsigned long long)e->ts, e->kind < 6 ? kinds[e->kind] : "?", e->sub, e->source, e->dst_id, e->cpu, e->hash,
		e->src_label, e->dst_label, e->ifindex, e->reason, e->monitor, e->arg1, e->arg2, e->arg3, e->orig_ip, e->len,
		cap, e->prog, e->hook_ifindex, e->action, e->target, hex);
	return 0;
}

static int print_warnings(enum libbpf_print_level level, const char *fmt, va_list args)
{
	if (level == LIBBPF_DEBUG)
		return 0;
	char msg[512];
	vsnprintf(msg, sizeof(msg), fmt, args);
	/* bpf_tc_hook_create() on a device whose clsact qdisc exists: expected, handled as EEXIST. */
	if (strstr(msg, "Exclusivity flag on"))
		return 0;
	return fputs(msg, stderr);
}

int main(int argc, char **argv)
{
	const char *obj_path = NULL, *config = NULL, *events = NULL, *ready = NULL, *policy = NULL;
	for (int i = 1; i + 1 < argc; i += 2) {
		if (!strcmp(argv[i], "--obj"))
			obj_path = argv[i + 1];
		else if (!strcmp(argv[i], "--config"))
			config = argv[i + 1];
		else if (!strcmp(argv[i], "--events"))
			events = argv[i + 1];
		else if (!strcmp(argv[i], "--ready"))
			ready = argv[i + 1];
		else if (!strcmp(argv[i], "--policy"))
			policy = argv[i + 1];
	}
	if (!obj_path || !config || !events || !ready) {
		fprintf(stderr, "usage: lab-agent --obj FILE --config FILE --events FILE --ready FILE\n");
		return 2;
	}
	loader_name = "lab-agent";
	libbpf_set_print(print_warnings);
	signal(SIGTERM, on_signal);
	signal(SIGINT, on_signal);

	struct bpf_object *obj = bpf_object__open_file(obj_path, NULL);
	if (!obj)
		die("opening BPF object", errno);
	int err = bpf_object__load(obj);
	if (err)
		die("loading BPF object", err);
	out = fopen(events, "a");
	if (!out)
		die(events, errno);
	load_config(obj, config);
	struct stat policy_seen = {};
	if (policy && policy_changed(policy, &policy_seen))
		load_policy(obj, policy);

	struct ring_buffer *rb = ring_buffer__new(map_fd(obj, "events"), on_event, NULL, NULL);
	if (!rb)
		die("ring buffer", errno);
	struct timespec mono, real;
	clock_gettime(CLOCK_MONOTONIC, &mono);
	clock_gettime(CLOCK_REALTIME, &real);
	fprintf(out, "{\"kind\":\"agent-start\",\"pid\":%d,\"monoNs\":%llu,\"realNs\":%llu}\n", getpid(),
		(unsigned long long)mono.tv_sec * 1000000000ULL + mono.tv_nsec,
		(unsigned long long)real.tv_sec * 1000000000ULL + real.tv_nsec);
	fflush(out);
	FILE *r = fopen(ready, "w");
	if (!r)
		die(ready, errno);
	fprintf(r, "%d\n", getpid());
	fclose(r);

	while (!stopping) {
		err = ring_buffer__poll(rb, 200);
		if (err < 0 && err != -EINTR)
			die("polling ring buffer", err);
		fflush(out);
		if (policy && policy_changed(policy, &policy_seen))
			load_policy(obj, policy);
	}
	ring_buffer__free(rb);
	fclose(out);
	return 0;
}
