/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Helpers shared by the ODP verbs tests (odp_advise.c, implicit.c).
 */
#ifndef SOFTODP_TESTS_ODP_UTIL_H
#define SOFTODP_TESTS_ODP_UTIL_H

#include <errno.h>
#include <infiniband/verbs.h>
#include <odp/odp.h>
#include <rdma/ib_user_ioctl_cmds.h>
#include <rdma/ib_user_verbs.h>
#include <rdma/rdma_user_ioctl_cmds.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

/*
 * The uverbs ADVISE_MR method, issued as an ioctl on the context's command
 * fd (libodp's ioctl path): the stock librxe of rdma-core 44 has no
 * advise_mr op, so ibv_advise_mr() would stop in userspace with
 * EOPNOTSUPP.  Returns 0 or the errno of the ioctl.
 */
static inline int odp_advise_mr(struct ibv_pd *pd, uint32_t advice, uint32_t flags,
				struct ib_uverbs_sge *sge, unsigned int num_sge)
{
	/* struct ib_uverbs_sge and struct ibv_sge have one layout. */
	return odp_advise(pd, (enum ibv_advise_mr_advice)advice, flags, (struct ibv_sge *)sge,
			  num_sge, ODP_PREFETCH_IOCTL_ONLY, NULL);
}

/*
 * Port 1 hw counter @name of device @dev from sysfs as ib_core has it
 * cached; -1 if unreadable.
 */
static inline long long odp_hw_counter_cached(const char *dev, const char *name)
{
	char path[256];
	long long v = -1;
	FILE *f;

	snprintf(path, sizeof(path), "/sys/class/infiniband/%s/ports/1/hw_counters/%s", dev, name);
	f = fopen(path, "r");
	if (!f)
		return -1;
	if (fscanf(f, "%lld", &v) != 1)
		v = -1;
	fclose(f);
	return v;
}

/* Port 1 hw counter @name of device @dev, current; -1 if unreadable. */
static inline long long odp_hw_counter(const char *dev, const char *name)
{
	/* ib_core caches hw counters for 10 ms (RDMA_HW_STATS_DEFAULT_LIFESPAN). */
	usleep(20000);
	return odp_hw_counter_cached(dev, name);
}

#endif /* SOFTODP_TESTS_ODP_UTIL_H */
