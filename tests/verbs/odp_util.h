/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Helpers shared by the ODP verbs tests (odp_advise.c, implicit.c).
 */
#ifndef SOFTODP_TESTS_ODP_UTIL_H
#define SOFTODP_TESTS_ODP_UTIL_H

#include <errno.h>
#include <infiniband/verbs.h>
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
 * fd: the stock librxe of rdma-core 44 has no advise_mr op, so
 * ibv_advise_mr() would stop in userspace with EOPNOTSUPP.  Returns 0 or
 * the errno of the ioctl.
 */
static inline int odp_advise_mr(struct ibv_pd *pd, uint32_t advice, uint32_t flags,
				struct ib_uverbs_sge *sge, unsigned int num_sge)
{
	struct {
		struct ib_uverbs_ioctl_hdr hdr;
		struct ib_uverbs_attr attrs[4];
	} cmd;

	memset(&cmd, 0, sizeof(cmd));
	cmd.hdr.length = sizeof(cmd);
	cmd.hdr.object_id = UVERBS_OBJECT_MR;
	cmd.hdr.method_id = UVERBS_METHOD_ADVISE_MR;
	cmd.hdr.num_attrs = 4;
	cmd.hdr.driver_id = RDMA_DRIVER_RXE;
	cmd.attrs[0].attr_id = UVERBS_ATTR_ADVISE_MR_PD_HANDLE;
	cmd.attrs[0].flags = UVERBS_ATTR_F_MANDATORY;
	cmd.attrs[0].data = pd->handle;
	cmd.attrs[1].attr_id = UVERBS_ATTR_ADVISE_MR_ADVICE;
	/* CONST_IN attributes are always 64 bits wide. */
	cmd.attrs[1].len = sizeof(uint64_t);
	cmd.attrs[1].flags = UVERBS_ATTR_F_MANDATORY;
	cmd.attrs[1].data = advice;
	cmd.attrs[2].attr_id = UVERBS_ATTR_ADVISE_MR_FLAGS;
	cmd.attrs[2].len = sizeof(uint32_t);
	cmd.attrs[2].flags = UVERBS_ATTR_F_MANDATORY;
	cmd.attrs[2].data = flags;
	cmd.attrs[3].attr_id = UVERBS_ATTR_ADVISE_MR_SGE_LIST;
	cmd.attrs[3].len = num_sge * sizeof(*sge);
	cmd.attrs[3].flags = UVERBS_ATTR_F_MANDATORY;
	cmd.attrs[3].data = (uintptr_t)sge;
	if (ioctl(pd->context->cmd_fd, RDMA_VERBS_IOCTL, &cmd))
		return errno;
	return 0;
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
