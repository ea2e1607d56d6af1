// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * odp_hello - the libodp calls in order on one device.
 *
 * Usage: odp_hello [DEVICE]
 *
 * Probes the device, registers 1 MiB without pinning it (the best mode the
 * device offers), prefetches it for writing and prints the MR's ODP
 * counters.  Build: cc odp_hello.c $(pkg-config --cflags --libs libodp)
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <odp/odp.h>

#define LEN (1 << 20)

int main(int argc, char **argv)
{
	struct ibv_device **list;
	struct ibv_context *ctx = NULL;
	struct odp_counters c;
	struct odp_caps caps;
	struct odp_mr *mr;
	struct ibv_pd *pd;
	enum odp_path path;
	int i, n, err;
	char *buf;

	if (argc > 1 && !strcmp(argv[1], "--help")) {
		printf("Usage: odp_hello [DEVICE]\n");
		return 0;
	}
	list = ibv_get_device_list(&n);
	for (i = 0; list && i < n && !ctx; i++)
		if (argc < 2 || !strcmp(ibv_get_device_name(list[i]), argv[1]))
			ctx = ibv_open_device(list[i]);
	if (!ctx) {
		fprintf(stderr, "odp_hello: no such RDMA device\n");
		return 1;
	}
	err = odp_probe(ctx, 0, &caps);
	if (err) {
		fprintf(stderr, "odp_probe: %s\n", strerror(err));
		return 1;
	}
	printf("%s: explicit ODP %s, implicit ODP %s, prefetch %s\n", caps.dev_name,
	       caps.flags & ODP_CAP_EXPLICIT ? "yes" : "no",
	       caps.flags & ODP_CAP_IMPLICIT ? "yes" : "no",
	       caps.flags & ODP_CAP_PREFETCH_VERBS   ? "ibv_advise_mr"
	       : caps.flags & ODP_CAP_PREFETCH_IOCTL ? "ioctl"
						     : "no");

	pd = ibv_alloc_pd(ctx);
	buf = aligned_alloc(4096, LEN);
	if (!pd || !buf)
		return 1;
	err = odp_reg(pd, buf, LEN, IBV_ACCESS_LOCAL_WRITE | IBV_ACCESS_REMOTE_WRITE, 0, &mr);
	if (err) {
		fprintf(stderr, "odp_reg: %s\n", strerror(err));
		return 1;
	}
	printf("registered %d bytes: %s MR, lkey 0x%x rkey 0x%x\n", LEN, odp_mode_str(mr->mode),
	       mr->lkey, mr->rkey);

	err = odp_prefetch(mr, buf, LEN, ODP_PREFETCH_WRITE | ODP_PREFETCH_SYNC, &path);
	printf("prefetch: %s (%s)\n", err ? strerror(err) : "done",
	       path == ODP_PATH_VERBS	? "ibv_advise_mr"
	       : path == ODP_PATH_IOCTL ? "uverbs ioctl"
					: "nothing to do");

	if (!odp_stats_mr(mr, &c)) {
		for (i = 0; i < ODP_NR_COUNTERS; i++)
			if (c.valid & (1ULL << i))
				printf("  %s %llu\n", odp_counter_name(i),
				       (unsigned long long)c.v[i]);
	}
	odp_dereg(mr);
	ibv_dealloc_pd(pd);
	ibv_close_device(ctx);
	ibv_free_device_list(list);
	free(buf);
	return 0;
}
