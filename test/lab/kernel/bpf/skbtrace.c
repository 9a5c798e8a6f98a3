// SPDX-License-Identifier: GPL-2.0
/*
 * lab-skbtrace: loads skbtrace.bpf.o, keeps only skbs of the given network namespaces, and
 * prints one JSON line per event on stdout for the emulated pwru. The first line describes the
 * kernel as pwru would see it: how many functions take an skb (from BTF, the count pwru
 * attaches kprobes to) and the names of enum skb_drop_reason.
 *
 * usage: lab-skbtrace --obj skbtrace.bpf.o --netns INODE[,INODE...]
 * Exits on SIGINT/SIGTERM, when stdout closes, and when its parent dies.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>
#include "skbtrace.h"
#include "loader.h"


/* Whether a type is (a const/volatile/typedef of) struct sk_buff *. */
static int is_skb_ptr(const struct btf *btf, __u32 id)
{
	const struct btf_type *t = btf__type_by_id(btf, id);
	while (t && (btf_is_mod(t) || btf_is_typedef(t)))
		t = btf__type_by_id(btf, t->type);
	if (!t || !btf_is_ptr(t))
		return 0;
	t = btf__type_by_id(btf, t->type);
	while (t && (btf_is_mod(t) || btf_is_typedef(t)))
		t = btf__type_by_id(btf, t->type);
	return t && btf_is_struct(t) && strcmp(btf__name_by_offset(btf, t->name_off), "sk_buff") == 0;
}

/* Prints the kernel facts line: skb-taking function count and drop reason names. */
static void print_meta(void)
{
	struct btf *btf = btf__load_vmlinux_btf();
	if (!btf) {
		printf("{\"kind\":\"meta\",\"skbFuncs\":0,\"reasons\":{}}\n");
		return;
	}
	unsigned int funcs = 0;
	__u32 n = btf__type_cnt(btf);
	/* Their names too: pwru's --filter-func picks among them (the emulated pwru counts its matches). */
	printf("{\"kind\":\"meta\",\"skbFuncNames\":[");
	for (__u32 id = 1; id < n; id++) {
		const struct btf_type *t = btf__type_by_id(btf, id);
		if (!btf_is_func(t))
			continue;
		const struct btf_type *proto = btf__type_by_id(btf, t->type);
		if (!proto || !btf_is_func_proto(proto))
			continue;
		const struct btf_param *p = btf_params(proto);
		for (__u16 i = 0; i < btf_vlen(proto) && i < 5; i++) {
			if (is_skb_ptr(btf, p[i].type)) {
				/* C identifiers: nothing to escape in JSON. */
				printf("%s\"%s\"", funcs ? "," : "", btf__name_by_offset(btf, t->name_off));
				funcs++;
				break;
			}
		}
	}
	printf("],\"skbFuncs\":%u,\"reasons\":{", funcs);
	__s32 id = btf__find_by_name_kind(btf, "skb_drop_reason", BTF_KIND_ENUM);
	if (id > 0) {
		const struct btf_type *t = btf__type_by_id(btf, id);
		const struct btf_enum *e = btf_enum(t);
		for (__u16 i = 0; i < btf_vlen(t); i++)
			printf("%s\"%d\":\"%s\"", i ? "," : "", e[i].val, btf__name_by_offset(btf, e[i].name_off));
	}
	printf("}}\n");
	fflush(stdout);
	btf__free(btf);
}

static void json_str(const char *s, size_t max)
{
	putchar('"');
	for (size_t i = 0; i < max && s[i]; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c == '"' || c == '\\')
			printf("\\%c", c);
		else if (c < 0x20 || c > 0x7e)
			printf("\\u%04x", c);
		else
			putchar(c);
	}
	putchar('"');
}

/*
 * The task's executable, read as soon as the event is drained (pwru reads it when printing):
 * short-lived tasks such as `ping -c 1` are often gone by then. Cached per pid.
 */
static const char *exe_of(__u32 pid)
{
	static __u32 pids[64];
	static char paths[64][256];
	static unsigned next;
	for (unsigned i = 0; i < 64; i++)
		if (pids[i] == pid && pid != 0)
			return paths[i];
	char link[64];
	char path[256];
	snprintf(link, sizeof(link), "/proc/%u/exe", pid);
	ssize_t n = pid ? readlink(link, path, sizeof(path) - 1) : -1;
	if (n <= 0)
		return NULL;
	path[n] = 0;
	unsigned slot = next++ % 64;
	pids[slot] = pid;
	memcpy(paths[slot], path, (size_t)n + 1);
	return paths[slot];
}

static int on_event(void *ctx, void *data, size_t size)
{
	(void)ctx;
	const struct skb_event *e = data;
	if (size < sizeof(*e))
		return 0;
	printf("{\"ts\":%llu,\"skb\":\"0x%llx\",\"kind\":%u,\"arg\":%u,\"cpu\":%u,\"pid\":%u,\"comm\":",
	       (unsigned long long)e->ts, (unsigned long long)e->skb, e->kind, e->arg, e->cpu, e->pid);
	json_str(e->comm, sizeof(e->comm));
	const char *exe = exe_of(e->pid);
	if (exe) {
		printf(",\"exe\":");
		json_str(exe, 255);
	}
	printf(",\"netns\":%u,\"ifindex\":%u,\"ifname\":", e->netns, e->ifindex);
	json_str(e->ifname, sizeof(e->ifname));
	printf(",\"mtu\":%u,\"len\":%u,\"mark\":%u,\"proto\":%u,\"l3\":\"", e->mtu, e->len, e->mark,
	       (unsigned)((e->proto >> 8) | ((e->proto & 0xff) << 8)));
	for (unsigned i = 0; i < e->l3_len && i < sizeof(e->l3); i++)
		printf("%02x", e->l3[i]);
	printf("\"}\n");
	return 0;
}

static int quiet(enum libbpf_print_level level, const char *fmt, va_list args)
{
	if (level == LIBBPF_DEBUG)
		return 0;
	return vfprintf(stderr, fmt, args);
}

int main(int argc, char **argv)
{
	const char *obj_path = NULL;
	char *netns = NULL;
	for (int i = 1; i + 1 < argc; i += 2) {
		if (!strcmp(argv[i], "--obj"))
			obj_path = argv[i + 1];
		else if (!strcmp(argv[i], "--netns"))
			netns = argv[i + 1];
	}
	if (!obj_path || !netns) {
		fprintf(stderr, "usage: lab-skbtrace --obj FILE --netns INODE[,INODE...]\n");
		return 2;
	}
	prctl(PR_SET_PDEATHSIG, SIGTERM);
	signal(SIGTERM, on_signal);
	signal(SIGINT, on_signal);
	signal(SIGPIPE, on_signal);
	loader_name = "lab-skbtrace";
	libbpf_set_print(quiet);

	struct bpf_object *obj = bpf_object__open_file(obj_path, NULL);
	if (!obj)
		die("opening BPF object", errno);
	int err = bpf_object__load(obj);
	if (err)
		die("loading BPF object", err);
	int filter = bpf_map__fd(bpf_object__find_map_by_name(obj, "netns_filter"));
	for (char *tok = strtok(netns, ","); tok; tok = strtok(NULL, ",")) {
		__u32 inode = (__u32)strtoul(tok, NULL, 10);
		__u8 one = 1;
		if (bpf_map_update_elem(filter, &inode, &one, BPF_ANY))
			die("netns filter", errno);
	}
	/* Our own stdout's skbs are not traffic (see own_output in skbtrace.bpf.c). */
	struct stat out;
	if (fstat(STDOUT_FILENO, &out) == 0 && S_ISSOCK(out.st_mode)) {
		__u32 zero = 0;
		__u64 ino = out.st_ino;
		if (bpf_map_update_elem(bpf_map__fd(bpf_object__find_map_by_name(obj, "own_output")), &zero, &ino, BPF_ANY))
			die("own output filter", errno);
	}
	print_meta();
	struct bpf_program *prog;
	bpf_object__for_each_program(prog, obj)
	{
		if (!bpf_program__attach(prog))
			die(bpf_program__name(prog), errno);
	}
	printf("{\"kind\":\"attached\"}\n");
	fflush(stdout);

	struct ring_buffer *rb = ring_buffer__new(bpf_map__fd(bpf_object__find_map_by_name(obj, "skb_events")), on_event, NULL, NULL);
	if (!rb)
		die("ring buffer", errno);
	while (!stopping) {
		err = ring_buffer__poll(rb, 100);
		if (err < 0 && err != -EINTR)
			die("polling ring buffer", err);
		if (fflush(stdout) != 0 || ferror(stdout))
			break;
	}
	/* What the ring still holds is printed, and stdout closed, before the detaching (slow: the
	 * trampolines wait for RCU grace periods), so the reader has every record at once. */
	ring_buffer__consume(rb);
	fclose(stdout);
	ring_buffer__free(rb);
	bpf_object__close(obj);
	return 0;
}
