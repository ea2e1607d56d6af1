/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * libodp internals shared by the source files (never installed).
 */
#ifndef ODP_INTERNAL_H
#define ODP_INTERNAL_H

#include <errno.h>
#include <stdint.h>
#include <odp/odp.h>

#define ODP_HIDDEN __attribute__((visibility("hidden")))

/* Set errno to @err and return it: the convention of every public call. */
static inline int odp_err(int err)
{
	errno = err;
	return err;
}

/* ODP caps from ibv_query_device_ex() only (no ioctls, no files); 0 or an errno. */
ODP_HIDDEN int odp_verbs_caps(struct ibv_context *ctx, struct odp_caps *caps);

/* The kernel's driver id of @ctx's device (RDMA_DRIVER_*); 0 or an errno. */
ODP_HIDDEN int odp_driver_id(struct ibv_context *ctx, uint32_t *id);

/*
 * The uverbs ADVISE_MR method as an ioctl on @pd's context's command fd.
 * 0 or an errno.
 */
ODP_HIDDEN int odp_advise_ioctl(struct ibv_pd *pd, uint32_t advice, uint32_t flags,
				const struct ibv_sge *sge, uint32_t num_sge);

/* Whether the kernel device of @ctx has the ADVISE_MR method: 1, 0, or -errno. */
ODP_HIDDEN int odp_ioctl_advise_present(struct ibv_context *ctx);

/* ---- rdma netlink (nl.c) ---------------------------------------------------- */

/* One MR from RDMA_NLDEV_CMD_RES_MR_GET merged with RDMA_NLDEV_CMD_STAT_GET. */
struct odp_nl_mr {
	uint32_t mrn;
	uint32_t pid;
	uint32_t lkey, rkey;
	int has_keys;
	uint64_t length;
	char comm[32];
	int odp_string; /* driver attribute "odp": 0 none, 1 explicit, 2 implicit */
	struct odp_counters c;
};

/*
 * Every MR of the RDMA device @dev (resource dump plus per-MR statistics),
 * in a malloc'ed array.  0 or an errno (ENODEV for an unknown device).
 */
ODP_HIDDEN int odp_nl_mrs(const char *dev, struct odp_nl_mr **mrs, size_t *n);

/* Map a counter name (mlx5 per-MR name, driver attribute or hw counter) to its index. */
ODP_HIDDEN int odp_counter_by_name(const char *name);

#endif /* ODP_INTERNAL_H */
