/* SPDX-License-Identifier: GPL-2.0 */
/*
 * softodp: memory regions as the data path sees them.
 *
 * Engines resolve and check a key with sodp_mr_lookup_checked() (or
 * sodp_mr_get_key() + sodp_mr_check()), move bytes with sodp_mr_copy() /
 * sodp_sge_copy() and execute atomics with sodp_mr_atomic() - the same
 * calls for DMA, pinned, fast-reg and ODP regions - and drop the reference
 * with sodp_mr_put().  Only mr.c talks to the ODP core.
 *
 * Memory windows (mw.c) hold a reference on the region they are bound to
 * and count themselves in sodp_mr.nr_mw (sodp_mr_bind_get()); dereg_mr
 * refuses a region that windows are bound to.
 *
 * Fast-reg regions (alloc_mr) start FREE; the send queue's local
 * operations (IB_WR_REG_MR, IB_WR_LOCAL_INV) and a received SEND with
 * invalidate change their state and key with sodp_mr_fast_reg() and
 * sodp_mr_invalidate().
 */
#ifndef SOFTODP_MR_H
#define SOFTODP_MR_H

#include "softodp.h"

struct sodp_mr *sodp_mr_get_key(struct sodp_dev *sdev, u32 key);

static inline void sodp_mr_put(struct sodp_mr *mr)
{
	if (refcount_dec_and_test(&mr->ref))
		complete(&mr->done);
}

/* Another reference to a region the caller holds one of. */
static inline void sodp_mr_get(struct sodp_mr *mr)
{
	refcount_inc(&mr->ref);
}

/*
 * A memory window binds to @mr (the caller holds a reference): count it
 * and take the window's own reference.  False once dereg_mr has begun.
 */
static inline bool sodp_mr_bind_get(struct sodp_mr *mr)
{
	if (!atomic_inc_unless_negative(&mr->nr_mw))
		return false;
	sodp_mr_get(mr);
	return true;
}

/* A window bound to @mr is unbound: drop its count and reference. */
static inline void sodp_mr_bind_put(struct sodp_mr *mr)
{
	atomic_dec(&mr->nr_mw);
	sodp_mr_put(mr);
}

int sodp_mr_check(struct sodp_mr *mr, struct sodp_pd *pd, u64 iova, u64 len,
		  int access);
struct sodp_mr *sodp_mr_lookup_checked(struct sodp_dev *sdev,
				       struct sodp_pd *pd, u32 key, u64 iova,
				       u64 len, int access);

/* Faults ahead of a message cover at most this much of it at a time. */
#define SODP_ODP_FAULT_WINDOW	(1ULL << 20)

void sodp_mr_fault_ahead(struct sodp_mr *mr, u64 iova, u64 len, bool write);
int sodp_mr_fault_try(struct sodp_mr *mr, u64 iova, u64 len, bool write);
int sodp_mr_copy(struct sodp_mr *mr, struct odp_window *win, u64 iova,
		 void *buf, u32 len, bool to_mem);
int sodp_sge_copy(struct sodp_pd *pd, struct odp_window *win,
		  const struct rxe_sge *sge, u32 num_sge, u32 offset, void *buf,
		  u32 len, bool to_mem);
/* What sodp_mr_atomic() does with the 8 bytes. */
enum sodp_atomic_op {
	SODP_ATOMIC_CMP_SWAP,
	SODP_ATOMIC_FETCH_ADD,
	SODP_ATOMIC_WRITE,	/* RDMA ATOMIC_WRITE: a single 8-byte store */
};

int sodp_mr_atomic(struct sodp_mr *mr, u64 iova, enum sodp_atomic_op op,
		   u64 swap_add, u64 compare, u64 *orig);
int sodp_mr_prefetch(struct sodp_mr *mr, u64 iova, u64 len,
		     enum ib_uverbs_advise_mr_advice advice);
int sodp_mr_fast_reg(struct sodp_dev *sdev, struct sodp_pd *pd,
		     struct ib_mr *ibmr, u32 key, int access);
int sodp_mr_invalidate(struct sodp_dev *sdev, struct sodp_pd *pd, u32 key);

/* Process virtual address of @iova in a user or ODP region. */
static inline u64 sodp_mr_va(struct sodp_mr *mr, u64 iova)
{
	return mr->va + (iova - mr->ibmr.iova);
}

#endif /* SOFTODP_MR_H */
