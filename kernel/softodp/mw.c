// SPDX-License-Identifier: GPL-2.0
/*
 * softodp: memory windows, type 1 and type 2B, with rdma_rxe's rules.
 *
 * A window grants remote access, with rights of its own, to a range of a
 * region registered with IB_ACCESS_MW_BIND, through an rkey of its own.
 * Window keys have indices from SODP_MW_INDEX_MIN on, above every region
 * index, so a key names a window or a region by its value alone
 * (sodp_key_is_mw()); the low byte of a window's key changes at each bind
 * to the one the consumer chose.
 *
 * Type 1 windows are valid from allocation on and are bound - or unbound,
 * with a length of 0 - by IB_WR_BIND_MW (ibv_bind_mw()); they cannot be
 * invalidated.  Type 2 windows start FREE; IB_WR_BIND_MW (ibv_wr_bind_mw())
 * binds a FREE one to a region and to the posting QP, and only requests
 * arriving on that QP may use it; LOCAL_INV or a SEND with invalidate of
 * its rkey makes it FREE again.  A failed bind completes with
 * IB_WC_MW_BIND_ERR, a failed LOCAL_INV with IB_WC_LOC_QP_OP_ERR.
 *
 * Beyond rdma_rxe: an access must fall inside the window (rxe only checks
 * the region), the region, the window and the QP must share the PD (keys
 * are device-wide: another process's region or window is never reached),
 * a type 2 window is invalidated remotely only through the QP it is bound
 * to, invalidating a FREE type 2 window fails, and zero-based windows are
 * refused for both types.
 *
 * Locking: the xa_lock of sodp_dev.mws is held across every use of a
 * window found by its rkey and while dealloc_mw erases it (softodp.h).
 * A bound window holds a reference on its region (sodp_mr_bind_get());
 * the responder takes one more for the access and then moves the bytes
 * through mr.c, as for a region found by its own key.
 */
#include "mr.h"
#include "mw.h"

/* Rights a bind may grant (rdma_rxe's set; ZERO_BASED refused later). */
#define SODP_MW_ACCESS	(IB_ACCESS_LOCAL_WRITE | IB_ACCESS_REMOTE_WRITE | \
			 IB_ACCESS_REMOTE_READ | IB_ACCESS_REMOTE_ATOMIC | \
			 IB_ACCESS_MW_BIND | IB_ACCESS_ON_DEMAND | \
			 SODP_ACCESS_FLUSH | IB_ACCESS_OPTIONAL | \
			 IB_ZERO_BASED)

/* The window whose current rkey is @rkey, or NULL. */
static struct sodp_mw *sodp_mw_find(struct sodp_dev *sdev, u32 rkey)
{
	struct sodp_mw *mw;

	lockdep_assert_held(&sdev->mws.xa_lock);
	mw = xa_load(&sdev->mws, rkey >> SODP_KEY_INDEX_SHIFT);
	if (!mw || mw->rkey != rkey || mw->state == SODP_MW_INVALID)
		return NULL;
	return mw;
}

/* Drop the binding to a region and a QP. */
static void sodp_mw_unbind(struct sodp_mw *mw)
{
	lockdep_assert_held(&to_sdev(mw->ibmw.device)->mws.xa_lock);
	if (mw->mr)
		sodp_mr_bind_put(mw->mr);
	mw->mr = NULL;
	mw->qp_uid = 0;
	mw->access = 0;
	mw->addr = 0;
	mw->length = 0;
}

/* What is wrong with binding a window to @mr as @s asks, or NULL. */
static const char *sodp_mw_check_mr(struct sodp_mw *mw, struct sodp_mr *mr,
				    const struct sodp_swqe *s)
{
	int mr_access = READ_ONCE(mr->access);

	if (mr->ibmr.pd != mw->ibmw.pd)
		return "the region is of another PD";
	if (!(mr_access & IB_ACCESS_MW_BIND))
		return "the region was registered without MW_BIND";
	if ((s->reg_access &
	     (IB_ACCESS_REMOTE_WRITE | IB_ACCESS_REMOTE_ATOMIC)) &&
	    !(mr_access & IB_ACCESS_LOCAL_WRITE))
		return "remote write or atomic to a region without local write";
	if (s->bind_addr < mr->ibmr.iova || s->bind_length > mr->ibmr.length ||
	    s->bind_addr - mr->ibmr.iova > mr->ibmr.length - s->bind_length)
		return "range outside the region";
	return NULL;
}

/* rdma_rxe's checks of a bind (IBA C10-72 to C10-75), and ours. */
static int sodp_mw_check_bind(struct sodp_qp *qp, struct sodp_mw *mw,
			      struct sodp_mr *mr, const struct sodp_swqe *s)
{
	int access = s->reg_access;
	const char *why = NULL;

	lockdep_assert_held(&sodp_qp_dev(qp)->mws.xa_lock);
	if (access & ~SODP_MW_ACCESS)
		why = "rights not supported";
	else if (access & IB_ZERO_BASED)
		why = "zero-based window";
	else if (mw->ibmw.pd != qp->ibqp.pd)
		why = "the QP is of another PD";
	else if (mw->ibmw.type == IB_MW_TYPE_1 && mw->state != SODP_MW_VALID)
		why = "type 1 window not valid";
	else if (mw->ibmw.type == IB_MW_TYPE_2 && mw->state != SODP_MW_FREE)
		why = "type 2 window not free";
	else if (mw->ibmw.type == IB_MW_TYPE_2 && !mr)
		why = "type 2 window bound with length 0";
	else if (mr)
		why = sodp_mw_check_mr(mw, mr, s);
	if (!why)
		return 0;
	sodp_mw_dbg(mw, "bind 0x%llx+0x%llx access 0x%x refused: %s\n",
		    s->bind_addr, s->bind_length, access, why);
	return -EINVAL;
}

/**
 * sodp_mw_bind() - execute an IB_WR_BIND_MW work request
 * @qp: the QP whose send queue holds it
 * @s: the request: the window's current rkey, the region's lkey, the
 *	range, the rights and the new rkey (only its key byte is used)
 *
 * Binds a type 1 window anew (a length of 0 unbinds it) or a FREE type 2
 * window to the region and to @qp.  The previous binding of a type 1
 * window, if any, is dropped.
 *
 * Context: QP work item, proc_lock held.
 * Return: 0 or -EINVAL (no such window or region, a check failed, the
 * region is being deregistered); the WQE completes with
 * IB_WC_MW_BIND_ERR.
 */
int sodp_mw_bind(struct sodp_qp *qp, const struct sodp_swqe *s)
{
	struct sodp_dev *sdev = sodp_qp_dev(qp);
	struct sodp_mr *mr = NULL;
	struct sodp_mw *mw;
	int ret;

	lockdep_assert_held(&qp->proc_lock);
	if (s->bind_length) {
		mr = sodp_mr_get_key(sdev, s->bind_mr_lkey);
		if (!mr) {
			sodp_qp_dbg(qp, "bind: no region with lkey 0x%x\n",
				    s->bind_mr_lkey);
			return -EINVAL;
		}
	}
	xa_lock(&sdev->mws);
	mw = sodp_mw_find(sdev, s->bind_mw_rkey);
	if (!mw) {
		sodp_qp_dbg(qp, "bind: no window with rkey 0x%x\n",
			    s->bind_mw_rkey);
		ret = -EINVAL;
	} else {
		ret = sodp_mw_check_bind(qp, mw, mr, s);
	}
	if (!ret && mr && !sodp_mr_bind_get(mr))
		ret = -EINVAL;	/* being deregistered */
	if (!ret) {
		sodp_mw_unbind(mw);
		mw->mr = mr;
		mw->rkey = (mw->rkey & ~SODP_KEY_BYTE_MASK) |
			   (s->rkey & SODP_KEY_BYTE_MASK);
		mw->access = s->reg_access;
		mw->addr = s->bind_addr;
		mw->length = s->bind_length;
		if (mw->ibmw.type == IB_MW_TYPE_2)
			mw->qp_uid = qp->uid;
		mw->state = SODP_MW_VALID;
		sodp_mw_dbg(mw, "bound: rkey 0x%x, 0x%llx+0x%llx of MR 0x%x, access 0x%x\n",
			    mw->rkey, mw->addr, mw->length,
			    mr ? mr->ibmr.lkey : 0, mw->access);
	}
	xa_unlock(&sdev->mws);
	if (mr)
		sodp_mr_put(mr);
	return ret;
}

/**
 * sodp_mw_invalidate() - invalidate a type 2 window
 * @qp: the QP executing LOCAL_INV, or (@remote) receiving the SEND with
 *	invalidate
 * @rkey: the window's current rkey
 * @remote: a SEND with invalidate: the window must be bound to @qp
 *
 * The window goes back to FREE, its region and QP let go.
 *
 * Context: QP work item, proc_lock held.
 * Return: 0 or -EINVAL (no such window, a type 1 window, not bound, of
 * another PD or, remotely, bound to another QP).
 */
int sodp_mw_invalidate(struct sodp_qp *qp, u32 rkey, bool remote)
{
	struct sodp_dev *sdev = sodp_qp_dev(qp);
	const char *why = NULL;
	struct sodp_mw *mw;

	lockdep_assert_held(&qp->proc_lock);
	xa_lock(&sdev->mws);
	mw = sodp_mw_find(sdev, rkey);
	if (!mw)
		why = "no such window";
	else if (mw->ibmw.type == IB_MW_TYPE_1)
		why = "type 1 window";
	else if (mw->state != SODP_MW_VALID)
		why = "not bound";
	else if (mw->ibmw.pd != qp->ibqp.pd)
		why = "the QP is of another PD";
	else if (remote && mw->qp_uid != qp->uid)
		why = "bound to another QP";
	if (!why) {
		sodp_mw_unbind(mw);
		mw->state = SODP_MW_FREE;
		sodp_mw_dbg(mw, "rkey 0x%x invalidated\n", rkey);
	}
	xa_unlock(&sdev->mws);
	if (why)
		sodp_qp_dbg(qp, "invalidate of window rkey 0x%x refused: %s\n",
			    rkey, why);
	return why ? -EINVAL : 0;
}

/*
 * The region behind a window's rkey, referenced, for an access of @len
 * bytes at @va (or of the whole window: @whole) with @access rights
 * through the responder @qp.
 */
static struct sodp_mr *sodp_mw_lookup(struct sodp_qp *qp, u32 rkey, u64 va,
				      u64 len, int access, bool whole)
{
	struct sodp_dev *sdev = sodp_qp_dev(qp);
	struct sodp_mr *mr = ERR_PTR(-EACCES);
	struct sodp_mw *mw;

	xa_lock(&sdev->mws);
	mw = sodp_mw_find(sdev, rkey);
	/* An unbound type 1 window (length 0) has no region. */
	if (!mw || mw->state != SODP_MW_VALID || !mw->mr ||
	    mw->ibmw.pd != qp->ibqp.pd || (access & ~mw->access) ||
	    (mw->ibmw.type == IB_MW_TYPE_2 && mw->qp_uid != qp->uid))
		goto out;
	if (!whole && (va < mw->addr || len > mw->length ||
		       va - mw->addr > mw->length - len)) {
		mr = ERR_PTR(-EFAULT);
		goto out;
	}
	mr = mw->mr;
	sodp_mr_get(mr);
out:
	xa_unlock(&sdev->mws);
	return mr;
}

/**
 * sodp_rkey_lookup() - the region an rkey reaches, checked for an access
 * @qp: the responder QP (its PD; a type 2 window must be bound to it)
 * @rkey: the rkey of a region or of a memory window
 * @va: first byte accessed
 * @len: bytes accessed (not 0)
 * @access: IB_ACCESS_REMOTE_* rights needed
 *
 * A region's rkey is checked by sodp_mr_lookup_checked(); a window's must
 * name a valid, bound window of the QP's PD granting @access, and the
 * range must lie inside the window.
 *
 * Context: QP work item.
 * Return: the region, referenced (release with sodp_mr_put()); the bytes
 * are at @va of it.  ERR_PTR(-EACCES) (no such key, wrong PD, QP or
 * rights, not valid) or ERR_PTR(-EFAULT) (out of range).
 */
struct sodp_mr *sodp_rkey_lookup(struct sodp_qp *qp, u32 rkey, u64 va,
				 u64 len, int access)
{
	if (sodp_key_is_mw(rkey))
		return sodp_mw_lookup(qp, rkey, va, len, access, false);
	return sodp_mr_lookup_checked(sodp_qp_dev(qp), to_spd(qp->ibqp.pd),
				      rkey, va, len, access);
}

/**
 * sodp_rkey_lookup_whole() - the region an rkey reaches, for all of it
 * @qp: the responder QP
 * @rkey: the rkey of a region or of a memory window
 * @access: IB_ACCESS_* rights needed
 *
 * As sodp_rkey_lookup() for a request about everything the key covers
 * (a FLUSH of selectivity level "memory region"): no range to check.
 *
 * Context: QP work item.
 * Return: the region, referenced (release with sodp_mr_put()), or
 * ERR_PTR(-EACCES).
 */
struct sodp_mr *sodp_rkey_lookup_whole(struct sodp_qp *qp, u32 rkey,
				       int access)
{
	struct sodp_mr *mr;
	int ret;

	if (sodp_key_is_mw(rkey))
		return sodp_mw_lookup(qp, rkey, 0, 0, access, true);
	mr = sodp_mr_get_key(sodp_qp_dev(qp), rkey);
	if (!mr)
		return ERR_PTR(-EACCES);
	ret = sodp_mr_check(mr, to_spd(qp->ibqp.pd), mr->ibmr.iova, 0, access);
	if (ret) {
		sodp_mr_put(mr);
		return ERR_PTR(ret);
	}
	return mr;
}

/* ---- verbs ------------------------------------------------------------- */

static int sodp_alloc_mw(struct ib_mw *ibmw, struct ib_udata *udata)
{
	struct sodp_dev *sdev = to_sdev(ibmw->device);
	struct sodp_mw *mw = to_smw(ibmw);
	int ret;

	if (ibmw->type != IB_MW_TYPE_1 && ibmw->type != IB_MW_TYPE_2)
		return -EINVAL;
	/* Reserved, not visible to lookups until stored below. */
	ret = xa_alloc_cyclic(&sdev->mws, &mw->index, NULL,
			      XA_LIMIT(SODP_MW_INDEX_MIN, SODP_MW_INDEX_MAX),
			      &sdev->next_mw, GFP_KERNEL);
	if (ret < 0)
		return ret == -EBUSY ? -ENOMEM : ret;
	mw->rkey = (mw->index << SODP_KEY_INDEX_SHIFT) |
		   ((u32)atomic_inc_return(&sdev->key_byte) &
		    SODP_KEY_BYTE_MASK);
	mw->state = ibmw->type == IB_MW_TYPE_1 ? SODP_MW_VALID : SODP_MW_FREE;
	ibmw->rkey = mw->rkey;
	xa_store(&sdev->mws, mw->index, mw, GFP_KERNEL);
	sodp_mw_dbg(mw, "type %d allocated, rkey 0x%x\n", ibmw->type,
		    mw->rkey);
	return 0;
}

/*
 * Unpublished and unbound under the lock every user of the window holds:
 * ib_core frees it as soon as this returns.
 */
static int sodp_dealloc_mw(struct ib_mw *ibmw)
{
	struct sodp_dev *sdev = to_sdev(ibmw->device);
	struct sodp_mw *mw = to_smw(ibmw);

	xa_lock(&sdev->mws);
	__xa_erase(&sdev->mws, mw->index);
	sodp_mw_unbind(mw);
	mw->state = SODP_MW_INVALID;
	xa_unlock(&sdev->mws);
	sodp_mw_dbg(mw, "deallocated\n");
	return 0;
}

const struct ib_device_ops sodp_mw_ops = {
	.alloc_mw = sodp_alloc_mw,
	.dealloc_mw = sodp_dealloc_mw,
	INIT_RDMA_OBJ_SIZE(ib_mw, sodp_mw, ibmw),
};
