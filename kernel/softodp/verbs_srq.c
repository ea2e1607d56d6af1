// SPDX-License-Identifier: GPL-2.0
/*
 * softodp: shared receive queues.
 *
 * The ring holds struct rxe_recv_wqe elements; librxe posts into it
 * without a system call.  Limit semantics: setting IB_SRQ_LIMIT arms the
 * SRQ; when the responder (resp.c) consumes a WQE and fewer than
 * the limit remain, its call of sodp_srq_consumed() raises
 * IB_EVENT_SRQ_LIMIT_REACHED once and disarms the SRQ.
 */
#include "queue.h"
#include "srq.h"
#include "wqe.h"

static int sodp_srq_check_attr(struct ib_srq_attr *attr, int mask,
			       struct sodp_srq *srq)
{
	if ((mask & IB_SRQ_MAX_WR) &&
	    (!attr->max_wr || attr->max_wr > SODP_MAX_SRQ_WR))
		return -EINVAL;
	if (mask & IB_SRQ_LIMIT) {
		u32 max_wr = (mask & IB_SRQ_MAX_WR) ? attr->max_wr :
			     srq->max_wr;

		if (attr->srq_limit > max_wr)
			return -EINVAL;
	}
	return 0;
}

static int sodp_create_srq(struct ib_srq *ibsrq, struct ib_srq_init_attr *init,
			   struct ib_udata *udata)
{
	struct sodp_dev *sdev = to_sdev(ibsrq->device);
	struct sodp_srq *srq = to_ssrq(ibsrq);
	struct rxe_create_srq_resp resp = {};
	u32 num = init->attr.max_wr;
	size_t size;
	int ret;

	if (init->srq_type != IB_SRQT_BASIC)
		return -EOPNOTSUPP;
	if (!init->attr.max_wr || init->attr.max_wr > SODP_MAX_SRQ_WR ||
	    init->attr.max_sge > SODP_MAX_SRQ_SGE ||
	    init->attr.srq_limit > init->attr.max_wr)
		return -EINVAL;
	if (udata && udata->outlen < sizeof(resp))
		return -EINVAL;

	spin_lock_init(&srq->lock);
	srq->is_user = !!udata;
	size = sodp_recv_wqe_size(max_t(u32, init->attr.max_sge, 1));
	ret = sodp_queue_init(&srq->q, &num, size, true);
	if (ret)
		return ret;
	srq->max_wr = num;
	srq->max_sge = min_t(u32, sodp_recv_wqe_sges(size), SODP_MAX_SRQ_SGE);
	srq->limit = init->attr.srq_limit;

	ret = xa_alloc_cyclic(&sdev->srqs, &srq->srq_num, NULL,
			      XA_LIMIT(1, SODP_MAX_SRQ), &sdev->next_srq,
			      GFP_KERNEL);
	if (ret < 0) {
		ret = ret == -EBUSY ? -ENOMEM : ret;
		goto err_queue;
	}
	if (udata) {
		ret = sodp_queue_expose(&srq->q, sodp_uctx(udata), &resp.mi);
		if (ret)
			goto err_num;
		resp.srq_num = srq->srq_num;
		ret = ib_copy_to_udata(udata, &resp, sizeof(resp));
		if (ret)
			goto err_num;
	}
	xa_store(&sdev->srqs, srq->srq_num, srq, GFP_KERNEL);
	init->attr.max_wr = srq->max_wr;
	init->attr.max_sge = srq->max_sge;
	sodp_srq_dbg(srq, "created, %u WRs, %u SGEs\n", srq->max_wr,
		     srq->max_sge);
	return 0;

err_num:
	xa_erase(&sdev->srqs, srq->srq_num);
err_queue:
	sodp_queue_cleanup(&srq->q);
	return ret;
}

static int sodp_modify_srq(struct ib_srq *ibsrq, struct ib_srq_attr *attr,
			   enum ib_srq_attr_mask mask, struct ib_udata *udata)
{
	struct sodp_srq *srq = to_ssrq(ibsrq);
	struct rxe_modify_srq_cmd cmd = {};
	struct mminfo mi = {};
	unsigned long flags;
	u32 num;
	int ret;

	if (mask & ~(IB_SRQ_MAX_WR | IB_SRQ_LIMIT))
		return -EOPNOTSUPP;
	ret = sodp_srq_check_attr(attr, mask, srq);
	if (ret)
		return ret;
	if (udata && (mask & IB_SRQ_MAX_WR)) {
		if (udata->inlen < sizeof(cmd))
			return -EINVAL;
		ret = ib_copy_from_udata(&cmd, udata, sizeof(cmd));
		if (ret)
			return ret;
	}

	if (mask & IB_SRQ_MAX_WR) {
		num = attr->max_wr;
		ret = sodp_queue_resize(&srq->q, &num,
					udata ? sodp_uctx(udata) : NULL, &mi,
					&srq->lock);
		if (ret)
			return ret;
		srq->max_wr = num;
		/* librxe reads the new ring's mmap info from this address. */
		if (udata &&
		    copy_to_user(u64_to_user_ptr(cmd.mmap_info_addr), &mi,
				 sizeof(mi)))
			return -EFAULT;
	}
	if (mask & IB_SRQ_LIMIT) {
		spin_lock_irqsave(&srq->lock, flags);
		srq->limit = attr->srq_limit;
		spin_unlock_irqrestore(&srq->lock, flags);
	}
	sodp_srq_dbg(srq, "modified: max_wr %u limit %u\n", srq->max_wr,
		     srq->limit);
	return 0;
}

static int sodp_query_srq(struct ib_srq *ibsrq, struct ib_srq_attr *attr)
{
	struct sodp_srq *srq = to_ssrq(ibsrq);

	attr->max_wr = srq->max_wr;
	attr->max_sge = srq->max_sge;
	attr->srq_limit = srq->limit;
	return 0;
}

static int sodp_destroy_srq(struct ib_srq *ibsrq, struct ib_udata *udata)
{
	struct sodp_srq *srq = to_ssrq(ibsrq);

	sodp_srq_dbg(srq, "destroyed\n");
	xa_erase(&to_sdev(ibsrq->device)->srqs, srq->srq_num);
	sodp_queue_cleanup(&srq->q);
	return 0;
}

static int sodp_post_srq_recv(struct ib_srq *ibsrq,
			      const struct ib_recv_wr *wr,
			      const struct ib_recv_wr **bad_wr)
{
	struct sodp_srq *srq = to_ssrq(ibsrq);

	return sodp_post_recv_ring(&srq->q, &srq->lock, srq->max_sge, wr,
				   bad_wr);
}

/**
 * sodp_srq_consumed() - limit check after the device consumed a WQE
 * @srq: the SRQ
 *
 * Raises IB_EVENT_SRQ_LIMIT_REACHED (once, then disarms) when an armed SRQ
 * holds fewer WQEs than its limit.
 *
 * Context: any; call without srq->lock held.
 */
void sodp_srq_consumed(struct sodp_srq *srq)
{
	struct ib_event ev = {
		.device = srq->ibsrq.device,
		.element.srq = &srq->ibsrq,
		.event = IB_EVENT_SRQ_LIMIT_REACHED,
	};
	unsigned long flags;
	bool hit = false;

	spin_lock_irqsave(&srq->lock, flags);
	if (srq->limit && sodp_queue_count(&srq->q) < srq->limit) {
		srq->limit = 0;
		hit = true;
	}
	spin_unlock_irqrestore(&srq->lock, flags);
	if (hit && srq->ibsrq.event_handler)
		srq->ibsrq.event_handler(&ev, srq->ibsrq.srq_context);
}

const struct ib_device_ops sodp_srq_ops = {
	.create_srq = sodp_create_srq,
	.modify_srq = sodp_modify_srq,
	.query_srq = sodp_query_srq,
	.destroy_srq = sodp_destroy_srq,
	.post_srq_recv = sodp_post_srq_recv,

	INIT_RDMA_OBJ_SIZE(ib_srq, sodp_srq, ibsrq),
};
