/* SPDX-License-Identifier: GPL-2.0 */
/*
 * softodp: the one place where differences between supported kernels
 * (Debian 6.1 and 6.12) are absorbed.  Feature macros named
 * SOFTODP_HAVE_* are set by Kbuild probes (kernel/odp/objs.mk).
 */
#ifndef SOFTODP_COMPAT_H
#define SOFTODP_COMPAT_H

#include <linux/mmu_notifier.h>

/*
 * Two-pass interval invalidation.  Neither 6.1 nor 6.12 has
 * invalidate_start/invalidate_finish in struct mmu_interval_notifier_ops;
 * there both passes run back to back from ->invalidate.  Should a kernel
 * grow the split callbacks (probe: SOFTODP_HAVE_MNI_INVALIDATE_FINISH), the
 * same two functions are plugged in natively.  @start has the ->invalidate
 * signature; @finish takes the subscription and the range.
 */
#ifdef SOFTODP_HAVE_MNI_INVALIDATE_FINISH
#define SOFTODP_MNI_OPS(start, finish, both)			\
	.invalidate_start = (start), .invalidate_finish = (finish)
#else
#define SOFTODP_MNI_OPS(start, finish, both)	.invalidate = (both)
#endif

/* ---- softodp device/verbs layer (kernel/softodp/) ---------------------- */

#include <rdma/ib_verbs.h>

/*
 * ib_device_ops.create_cq takes the driver udata on 6.1 and the uverbs
 * attribute bundle (NULL for in-kernel consumers) on 6.12.  The driver
 * provides one wrapper per form; this picks the one whose type matches
 * the member, with no version test.
 */
#define SODP_CREATE_CQ_OP(by_udata, by_bundle)				\
	__builtin_choose_expr(						\
		__builtin_types_compatible_p(				\
			typeof(((const struct ib_device_ops *)NULL)->create_cq), \
			typeof(&(by_udata))),				\
		(by_udata), (by_bundle))

#endif /* SOFTODP_COMPAT_H */
