// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * odp_prefetch()/odp_advise(): advise_mr through the provider when it
 * implements ibv_advise_mr(), else through the kernel's uverbs ADVISE_MR
 * method issued directly on the context's command fd (the stock librxe of
 * rdma-core 44 has no advise_mr op, the kernel device may well have it).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stddef.h>
#include <string.h>
#include <sys/ioctl.h>
#include <rdma/ib_user_ioctl_cmds.h>
#include <rdma/ib_user_ioctl_verbs.h>
#include <rdma/ib_user_verbs.h>
#include <rdma/rdma_user_ioctl_cmds.h>

#include "internal.h"

/* The kernel reads struct ibv_sge arrays as struct ib_uverbs_sge. */
_Static_assert(sizeof(struct ibv_sge) == sizeof(struct ib_uverbs_sge), "sge size");
_Static_assert(offsetof(struct ibv_sge, length) == offsetof(struct ib_uverbs_sge, length),
	       "sge length");
_Static_assert(offsetof(struct ibv_sge, lkey) == offsetof(struct ib_uverbs_sge, lkey), "sge lkey");

/* SGEs per request and bytes per SGE when odp_prefetch() splits a range. */
#define ODP_PREFETCH_SGES  16
#define ODP_PREFETCH_CHUNK (1ULL << 30)

int odp_advise_ioctl(struct ibv_pd *pd, uint32_t advice, uint32_t flags, const struct ibv_sge *sge,
		     uint32_t num_sge)
{
	struct {
		struct ib_uverbs_ioctl_hdr hdr;
		struct ib_uverbs_attr attrs[4];
	} cmd;
	uint32_t driver_id;
	int err;

	err = odp_driver_id(pd->context, &driver_id);
	if (err)
		return err;
	memset(&cmd, 0, sizeof(cmd));
	cmd.hdr.length = sizeof(cmd);
	cmd.hdr.object_id = UVERBS_OBJECT_MR;
	cmd.hdr.method_id = UVERBS_METHOD_ADVISE_MR;
	cmd.hdr.num_attrs = 4;
	cmd.hdr.driver_id = driver_id;
	/* The PD by its handle. */
	cmd.attrs[0].attr_id = UVERBS_ATTR_ADVISE_MR_PD_HANDLE;
	cmd.attrs[0].flags = UVERBS_ATTR_F_MANDATORY;
	cmd.attrs[0].data = pd->handle;
	/* A constant: inline, always 64 bits long. */
	cmd.attrs[1].attr_id = UVERBS_ATTR_ADVISE_MR_ADVICE;
	cmd.attrs[1].len = sizeof(uint64_t);
	cmd.attrs[1].flags = UVERBS_ATTR_F_MANDATORY;
	cmd.attrs[1].data = advice;
	/* A u32 input: inline as well (8 bytes or less). */
	cmd.attrs[2].attr_id = UVERBS_ATTR_ADVISE_MR_FLAGS;
	cmd.attrs[2].len = sizeof(uint32_t);
	cmd.attrs[2].flags = UVERBS_ATTR_F_MANDATORY;
	cmd.attrs[2].data = flags;
	/* The SGE array by pointer. */
	cmd.attrs[3].attr_id = UVERBS_ATTR_ADVISE_MR_SGE_LIST;
	cmd.attrs[3].len = num_sge * sizeof(struct ib_uverbs_sge);
	cmd.attrs[3].flags = UVERBS_ATTR_F_MANDATORY;
	cmd.attrs[3].data = (uintptr_t)sge;
	if (ioctl(pd->context->cmd_fd, RDMA_VERBS_IOCTL, &cmd))
		return errno;
	return 0;
}

int odp_advise(struct ibv_pd *pd, enum ibv_advise_mr_advice advice, uint32_t advise_flags,
	       struct ibv_sge *sge, uint32_t num_sge, unsigned int flags, enum odp_path *path)
{
	struct verbs_context *vctx;
	int err;

	if (path)
		*path = ODP_PATH_NONE;
	if (!pd || !sge || !num_sge ||
	    (flags & ~(ODP_PREFETCH_VERBS_ONLY | ODP_PREFETCH_IOCTL_ONLY)) ||
	    (flags & ODP_PREFETCH_VERBS_ONLY && flags & ODP_PREFETCH_IOCTL_ONLY))
		return odp_err(EINVAL);
	if (num_sge > 0xffffffffu / sizeof(struct ib_uverbs_sge))
		return odp_err(EINVAL);

	if (!(flags & ODP_PREFETCH_IOCTL_ONLY)) {
		vctx = verbs_get_ctx_op(pd->context, advise_mr);
		err = vctx ? ibv_advise_mr(pd, advice, advise_flags, sge, num_sge) : EOPNOTSUPP;
		if (vctx && err != EOPNOTSUPP) {
			if (path)
				*path = ODP_PATH_VERBS;
			return err ? odp_err(err) : 0;
		}
		if (flags & ODP_PREFETCH_VERBS_ONLY)
			return odp_err(EOPNOTSUPP);
	}
	err = odp_advise_ioctl(pd, advice, advise_flags, sge, num_sge);
	/* EPROTONOSUPPORT: this kernel device has no advise_mr at all. */
	if (err == EPROTONOSUPPORT)
		err = EOPNOTSUPP;
	if (path && err != EOPNOTSUPP)
		*path = ODP_PATH_IOCTL;
	return err ? odp_err(err) : 0;
}

int odp_prefetch(const struct odp_mr *mr, void *addr, size_t length, unsigned int flags,
		 enum odp_path *path)
{
	struct ibv_sge sge[ODP_PREFETCH_SGES];
	enum ibv_advise_mr_advice advice;
	uintptr_t a = (uintptr_t)addr, start, end;
	uint32_t aflags;
	unsigned int n;
	int err;

	if (path)
		*path = ODP_PATH_NONE;
	if (!mr || !length ||
	    (flags & ~(ODP_PREFETCH_WRITE | ODP_PREFETCH_NO_FAULT | ODP_PREFETCH_SYNC |
		       ODP_PREFETCH_VERBS_ONLY | ODP_PREFETCH_IOCTL_ONLY)) ||
	    ((flags & ODP_PREFETCH_WRITE) && (flags & ODP_PREFETCH_NO_FAULT)))
		return odp_err(EINVAL);
	start = (uintptr_t)mr->addr;
	end = start + mr->length;
	if (a < start || a + length < a || a + length > end)
		return odp_err(EINVAL);
	if ((flags & ODP_PREFETCH_WRITE) && !(mr->access & IBV_ACCESS_LOCAL_WRITE))
		return odp_err(EINVAL);
	/* A pinned MR is mapped already. */
	if (mr->mode == ODP_MODE_PINNED)
		return 0;

	advice = IBV_ADVISE_MR_ADVICE_PREFETCH;
	if (flags & ODP_PREFETCH_WRITE)
		advice = IBV_ADVISE_MR_ADVICE_PREFETCH_WRITE;
	else if (flags & ODP_PREFETCH_NO_FAULT)
		advice = IBV_ADVISE_MR_ADVICE_PREFETCH_NO_FAULT;
	aflags = (flags & ODP_PREFETCH_SYNC) ? IBV_ADVISE_MR_FLAG_FLUSH : 0;
	flags &= ODP_PREFETCH_VERBS_ONLY | ODP_PREFETCH_IOCTL_ONLY;

	while (length) {
		for (n = 0; n < ODP_PREFETCH_SGES && length; n++) {
			size_t chunk = length < ODP_PREFETCH_CHUNK ? length : ODP_PREFETCH_CHUNK;

			sge[n].addr = a;
			sge[n].length = (uint32_t)chunk;
			sge[n].lkey = mr->lkey;
			a += chunk;
			length -= chunk;
		}
		err = odp_advise(mr->mr->pd, advice, aflags, sge, n, flags, path);
		if (err)
			return err;
	}
	return 0;
}
