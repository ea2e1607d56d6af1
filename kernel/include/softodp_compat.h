/* SPDX-License-Identifier: GPL-2.0 */
/*
 * softodp: the one place where differences between supported kernels
 * (Debian 6.1, 6.12 and 7.3) are absorbed.  Where the prototype of an
 * ib_device_ops member changed, the member's type picks the right driver
 * function (SODP_OP_PICK, no version test).  What cannot be told from a
 * type (a member or function that is absent) is found by the Kbuild probes
 * in kernel/compat.mk, which set SOFTODP_HAVE_*.
 */
#ifndef SOFTODP_COMPAT_H
#define SOFTODP_COMPAT_H

#include <linux/mmu_notifier.h>

/*
 * Two-pass interval invalidation.  Since Linux 7.1 the interval notifier
 * ops have invalidate_start(), which may hand back a struct
 * mmu_interval_notifier_finish, and invalidate_finish(), which the mm core
 * calls with it after the start pass of every notifier overlapping the
 * range (probe: SOFTODP_HAVE_MNI_INVALIDATE_FINISH).  6.1 and 6.12 only have
 * ->invalidate; there the same two functions are emulated: this header
 * declares the finish structure and SOFTODP_DEFINE_MNI_OPS() defines an
 * ->invalidate that runs the start pass and, if it handed back a finish,
 * the finish pass right after it.  Either way @start has the 7.x
 * invalidate_start() prototype and @finish the invalidate_finish() one, and
 * finish->notifier names the subscription when @finish runs.
 */
#ifdef SOFTODP_HAVE_MNI_INVALIDATE_FINISH
#define SOFTODP_MNI_NATIVE_TWO_PASS	true
#define SOFTODP_DEFINE_MNI_OPS(name, start, finish)			\
	const struct mmu_interval_notifier_ops name = {			\
		.invalidate_start = (start),				\
		.invalidate_finish = (finish),				\
	}
#else
#define SOFTODP_MNI_NATIVE_TWO_PASS	false
struct mmu_interval_notifier_finish {
	struct mmu_interval_notifier *notifier;
};

#define SOFTODP_DEFINE_MNI_OPS(name, start, finish)			\
	static bool name##_both(struct mmu_interval_notifier *mni,	\
				const struct mmu_notifier_range *range,	\
				unsigned long cur_seq)			\
	{								\
		struct mmu_interval_notifier_finish *fin = NULL;	\
									\
		if (!(start)(mni, range, cur_seq, &fin))		\
			return false;					\
		if (fin) {						\
			fin->notifier = mni;				\
			(finish)(fin);					\
		}							\
		return true;						\
	}								\
	const struct mmu_interval_notifier_ops name = {			\
		.invalidate = name##_both,				\
	}
#endif

/*
 * Timer callbacks find their object with from_timer() on 6.1 and 6.12;
 * 7.3 only has its new name, timer_container_of().
 */
#include <linux/timer.h>
#ifndef from_timer
#define from_timer(var, callback_timer, timer_fieldname)		\
	timer_container_of(var, callback_timer, timer_fieldname)
#endif

/*
 * Per-CPU workqueues say so with WQ_PERCPU on newer kernels (7.3 warns if a
 * queue has neither WQ_PERCPU nor WQ_UNBOUND); before, per-CPU was what
 * no flag meant.
 */
#include <linux/workqueue.h>
#ifndef SOFTODP_HAVE_WQ_PERCPU
#define WQ_PERCPU	0
#endif

/*
 * An address space's MMF_* flags: a bitmap read with mm_flags_test() on 7.x,
 * a word read with test_bit() before.
 */
#include <linux/mm.h>
static inline bool sodp_mm_flag(struct mm_struct *mm, int bit)
{
#ifdef SOFTODP_HAVE_MM_FLAGS_TEST
	return mm_flags_test(bit, mm);
#else
	return test_bit(bit, &mm->flags);
#endif
}

/* hex2bin() has its own header on 6.12 and 7.x, is in kernel.h on 6.1. */
#ifdef SOFTODP_HAVE_LINUX_HEX_H
#include <linux/hex.h>
#else
#include <linux/kernel.h>
#endif

/* ---- softodp device/verbs layer (kernel/softodp/) ---------------------- */

#include <rdma/ib_umem.h>
#include <rdma/ib_verbs.h>

/*
 * SODP_OP_PICK(member, a, b): of two driver functions for the
 * ib_device_ops member @member, the one whose type matches the member's
 * prototype on this kernel.  The other one is unused (mark both
 * __maybe_unused).
 */
#define SODP_OP_PICK(member, a, b)					\
	__builtin_choose_expr(						\
		__builtin_types_compatible_p(				\
			typeof(((const struct ib_device_ops *)NULL)->member), \
			typeof(&(a))),					\
		(a), (b))

/*
 * create_cq takes the driver udata on 6.1 and the uverbs attribute bundle
 * (NULL for in-kernel consumers) since 6.12.
 */
#define SODP_CREATE_CQ_OP(by_udata, by_bundle)				\
	SODP_OP_PICK(create_cq, by_udata, by_bundle)

/*
 * 7.x creates user CQs through create_user_cq (same prototype as the
 * bundle form of create_cq) when the driver has it; older kernels only
 * know create_cq.  Expands to a designated initializer or to nothing.
 */
#ifdef SOFTODP_HAVE_CREATE_USER_CQ
#define SODP_CREATE_USER_CQ_OP(by_bundle)	.create_user_cq = (by_bundle),
#else
#define SODP_CREATE_USER_CQ_OP(by_bundle)
#endif

/*
 * resize_cq(cq, int cqe, udata) became resize_user_cq(cq, unsigned int cqe,
 * udata) in 7.x: the probe of the member name picks the member and the
 * driver function with the matching prototype.
 */
#ifdef SOFTODP_HAVE_RESIZE_USER_CQ
#define SODP_RESIZE_CQ_OP(by_int, by_uint)	.resize_user_cq = (by_uint)
#else
#define SODP_RESIZE_CQ_OP(by_int, by_uint)	.resize_cq = (by_int)
#endif

/*
 * reg_user_mr gained a DMA handle (struct ib_dmah, TPH steering hints)
 * after 6.12; a driver without DMA handles refuses a non-NULL one.
 */
struct ib_dmah;
#define SODP_REG_USER_MR_OP(plain, with_dmah)				\
	SODP_OP_PICK(reg_user_mr, plain, with_dmah)

/*
 * ib_umem_get() is gone in 7.x; ib_umem_get_va() pins a user virtual range
 * the same way.  Older kernels get it here.
 */
#ifndef SOFTODP_HAVE_IB_UMEM_GET_VA
static inline struct ib_umem *ib_umem_get_va(struct ib_device *device,
					     unsigned long addr, size_t size,
					     int access)
{
	return ib_umem_get(device, addr, size, access);
}
#endif

/*
 * RDMA ATOMIC_WRITE (IBTA 1.5).  Its work request and completion opcodes
 * are uverbs ABI (librxe of rdma-core 44 posts 15 and polls 9); ib_core
 * names them, and the device capability bit, from 6.2 on.  6.1 has no
 * capability bit to report, but user QPs still carry the operation.
 */
#define SODP_WR_ATOMIC_WRITE	15	/* IB_UVERBS_WR_ATOMIC_WRITE */
#define SODP_WC_ATOMIC_WRITE	9	/* IB_UVERBS_WC_ATOMIC_WRITE */
#ifdef SOFTODP_HAVE_ATOMIC_WRITE
static_assert(IB_WR_ATOMIC_WRITE == SODP_WR_ATOMIC_WRITE);
static_assert(IB_WC_ATOMIC_WRITE == SODP_WC_ATOMIC_WRITE);
#define SODP_DEVICE_ATOMIC_WRITE	IB_DEVICE_ATOMIC_WRITE
#else
#define SODP_DEVICE_ATOMIC_WRITE	0
#endif

/*
 * RDMA FLUSH (IBTA 1.5), also 6.2+ in ib_core: the work request and
 * completion opcodes are uverbs ABI (librxe of rdma-core 45+ posts 14 and
 * polls 8), the MR access bits and the capability bit exist from 6.2 on.
 * ib_core refuses the access bits where the device does not report the
 * matching capability, and 6.1 refuses them altogether: there no region
 * can be the target of a FLUSH.  softodp reports global visibility only:
 * it has no persistent memory to make a persistence promise about.
 */
#define SODP_WR_FLUSH		14	/* IB_UVERBS_WR_FLUSH */
#define SODP_WC_FLUSH		8	/* IB_UVERBS_WC_FLUSH */
#ifdef SOFTODP_HAVE_FLUSH
static_assert(IB_WR_FLUSH == SODP_WR_FLUSH);
static_assert(IB_WC_FLUSH == SODP_WC_FLUSH);
#define SODP_DEVICE_FLUSH		IB_DEVICE_FLUSH_GLOBAL
#define SODP_ACCESS_FLUSH_GLOBAL	IB_ACCESS_FLUSH_GLOBAL
#define SODP_ACCESS_FLUSH_PERSISTENT	IB_ACCESS_FLUSH_PERSISTENT
#else
#define SODP_DEVICE_FLUSH		0
/* IB_UVERBS_ACCESS_FLUSH_GLOBAL and _PERSISTENT. */
#define SODP_ACCESS_FLUSH_GLOBAL	BIT(8)
#define SODP_ACCESS_FLUSH_PERSISTENT	BIT(9)
#endif
#define SODP_ACCESS_FLUSH	(SODP_ACCESS_FLUSH_GLOBAL | \
				 SODP_ACCESS_FLUSH_PERSISTENT)

/*
 * In-kernel consumers can resize a CQ with ib_resize_cq() up to 6.x; 7.x
 * dropped it (only user CQs resize, through resize_user_cq).  Here it
 * fails the way a device without resize would.
 */
#ifdef SOFTODP_HAVE_IB_RESIZE_CQ
#define SODP_KERNEL_CQ_RESIZE	true
#else
#define SODP_KERNEL_CQ_RESIZE	false
static inline int ib_resize_cq(struct ib_cq *cq, int cqe)
{
	return -EOPNOTSUPP;
}
#endif

/*
 * setup_udp_tunnel_sock() and udp_tunnel_sock_release() take the struct
 * sock in 7.x, the struct socket before; udp_sock_create() still hands out
 * a struct socket.  SODP_UDP_TUNNEL_ARG(socket) is what this kernel's take.
 */
#include <net/udp_tunnel.h>
#define SODP_UDP_TUNNEL_ARG(socket)					\
	__builtin_choose_expr(						\
		__builtin_types_compatible_p(				\
			typeof(&udp_tunnel_sock_release),		\
			void (*)(struct sock *)),			\
		(socket)->sk, (socket))

#endif /* SOFTODP_COMPAT_H */
