// SPDX-License-Identifier: GPL-2.0
/*
 * softodp: completion queues.
 *
 * A CQ is a ring of completions produced by the device.  For a user CQ
 * the elements are struct ib_uverbs_wc, which librxe's poll_cq copies out
 * as struct ibv_wc (same layout) and advances the consumer index itself;
 * only req_notify_cq and resize go through the kernel.  For an in-kernel
 * consumer the elements are struct ib_wc and poll_cq below consumes them.
 */
#include <linux/log2.h>

#include "softodp_compat.h"
#include "cq.h"
#include "queue.h"

static size_t sodp_cqe_size(bool is_user)
{
	return is_user ? sizeof(struct ib_uverbs_wc) : sizeof(struct ib_wc);
}

static int sodp_cq_check_size(int cqe)
{
	return cqe < 1 || cqe > SODP_MAX_CQE ? -EINVAL : 0;
}

static int sodp_create_cq(struct ib_cq *ibcq,
			  const struct ib_cq_init_attr *attr,
			  struct ib_udata *udata)
{
	struct sodp_dev *sdev = to_sdev(ibcq->device);
	struct sodp_cq *cq = to_scq(ibcq);
	struct rxe_create_cq_resp resp = {};
	u32 num = attr->cqe;
	int ret;

	if (attr->flags)
		return -EOPNOTSUPP;
	ret = sodp_cq_check_size(attr->cqe);
	if (ret)
		return ret;
	if (udata && udata->outlen < sizeof(resp))
		return -EINVAL;
	if (atomic_inc_return(&sdev->nr_cq) > SODP_MAX_CQ) {
		ret = -ENOMEM;
		goto err_count;
	}

	spin_lock_init(&cq->lock);
	cq->is_user = !!udata;
	ret = sodp_queue_init(&cq->q, &num, sodp_cqe_size(cq->is_user), false);
	if (ret)
		goto err_count;
	if (udata) {
		ret = sodp_queue_expose(&cq->q, sodp_uctx(udata), &resp.mi);
		if (ret)
			goto err_queue;
		ret = ib_copy_to_udata(udata, &resp, sizeof(resp));
		if (ret)
			goto err_queue;
	}
	ibcq->cqe = num;
	sodp_cq_dbg(cq, "created, %u entries, %s\n", num,
		    cq->is_user ? "user" : "kernel");
	return 0;

err_queue:
	sodp_queue_cleanup(&cq->q);
err_count:
	atomic_dec(&sdev->nr_cq);
	return ret;
}

/* The two forms of ib_device_ops.create_cq (see softodp_compat.h). */
static int __maybe_unused sodp_create_cq_udata(struct ib_cq *ibcq,
					       const struct ib_cq_init_attr *attr,
					       struct ib_udata *udata)
{
	return sodp_create_cq(ibcq, attr, udata);
}

static int __maybe_unused sodp_create_cq_bundle(struct ib_cq *ibcq,
						const struct ib_cq_init_attr *attr,
						struct uverbs_attr_bundle *attrs)
{
	return sodp_create_cq(ibcq, attr, attrs ? &attrs->driver_udata : NULL);
}

static int sodp_destroy_cq(struct ib_cq *ibcq, struct ib_udata *udata)
{
	struct sodp_cq *cq = to_scq(ibcq);

	sodp_cq_dbg(cq, "destroyed\n");
	sodp_queue_cleanup(&cq->q);
	atomic_dec(&to_sdev(ibcq->device)->nr_cq);
	return 0;
}

static int sodp_resize_cq(struct ib_cq *ibcq, unsigned int cqe,
			  struct ib_udata *udata)
{
	struct sodp_cq *cq = to_scq(ibcq);
	struct rxe_resize_cq_resp resp = {};
	unsigned long flags;
	u32 num = cqe, held;
	int ret;

	ret = cqe > INT_MAX ? -EINVAL : sodp_cq_check_size(cqe);
	if (ret)
		return ret;
	/*
	 * Fewer entries than the CQ holds is refused even where the rounded-up
	 * ring would take them (as rxe does).  A completion added after this
	 * check still has to fit the new ring (sodp_queue_resize()).
	 */
	spin_lock_irqsave(&cq->lock, flags);
	held = sodp_queue_count(&cq->q);
	spin_unlock_irqrestore(&cq->lock, flags);
	if (cqe < held)
		return -EINVAL;
	if (udata && udata->outlen < sizeof(resp))
		return -EINVAL;
	ret = sodp_queue_resize(&cq->q, &num,
				udata ? sodp_uctx(udata) : NULL,
				&resp.mi, &cq->lock);
	if (ret)
		return ret;
	ibcq->cqe = num;
	sodp_cq_dbg(cq, "resized to %u entries\n", num);
	if (udata)
		return ib_copy_to_udata(udata, &resp, sizeof(resp));
	return 0;
}

/* resize_cq (int cqe) up to 6.12, resize_user_cq (unsigned) since 7.x. */
static int __maybe_unused sodp_resize_cq_int(struct ib_cq *ibcq, int cqe,
					     struct ib_udata *udata)
{
	return cqe < 0 ? -EINVAL : sodp_resize_cq(ibcq, cqe, udata);
}

static int sodp_req_notify_cq(struct ib_cq *ibcq, enum ib_cq_notify_flags flags)
{
	struct sodp_cq *cq = to_scq(ibcq);
	unsigned long irqflags;
	int ret = 0;

	spin_lock_irqsave(&cq->lock, irqflags);
	/* A pending "next completion" request is not weakened to solicited. */
	if (cq->notify != IB_CQ_NEXT_COMP)
		cq->notify = flags & IB_CQ_SOLICITED_MASK;
	if ((flags & IB_CQ_REPORT_MISSED_EVENTS) && sodp_queue_count(&cq->q))
		ret = 1;
	spin_unlock_irqrestore(&cq->lock, irqflags);
	return ret;
}

static int sodp_poll_cq(struct ib_cq *ibcq, int num_entries, struct ib_wc *wc)
{
	struct sodp_cq *cq = to_scq(ibcq);
	struct sodp_queue *q = &cq->q;
	unsigned long flags;
	int n = 0;

	if (WARN_ON_ONCE(cq->is_user))
		return -EINVAL;
	spin_lock_irqsave(&cq->lock, flags);
	while (n < num_entries && sodp_queue_count(q)) {
		memcpy(&wc[n++],
		       sodp_queue_elem(q, sodp_queue_client_index(q)),
		       sizeof(*wc));
		sodp_queue_client_advance(q);
	}
	spin_unlock_irqrestore(&cq->lock, flags);
	return n;
}

/*
 * RoCE carries no service level, and struct ibv_wc has no field for the
 * network header type that RoCEv2 requires a UD receive completion to
 * report (IBTA Annex A17.4.5.1).  mlx5 puts that type into the SL of a
 * RoCE UD receive (bits 2:0: 1 for IPv6, 2 for IPv4), and UCX up to 1.18
 * takes it from there to find the destination GID in the GRH; report it the
 * same way.  softodp ignores the SL of an address handle, so an AH built
 * from such a completion behaves as one with SL 0.
 */
#define SODP_WC_SL_IPV6 1
#define SODP_WC_SL_IPV4 2

static u8 sodp_wc_sl(const struct ib_wc *wc)
{
	if (!(wc->wc_flags & IB_WC_WITH_NETWORK_HDR_TYPE))
		return wc->sl;
	return wc->network_hdr_type == RDMA_NETWORK_IPV4 ? SODP_WC_SL_IPV4 :
							   SODP_WC_SL_IPV6;
}

static void sodp_wc_to_uverbs(struct ib_uverbs_wc *uwc,
			      const struct ib_wc *wc)
{
	memset(uwc, 0, sizeof(*uwc));
	uwc->wr_id = wc->wr_id;
	uwc->status = wc->status;
	uwc->opcode = wc->opcode;
	uwc->vendor_err = wc->vendor_err;
	uwc->byte_len = wc->byte_len;
	uwc->ex.imm_data = wc->ex.imm_data;
	uwc->qp_num = wc->qp->qp_num;
	uwc->src_qp = wc->src_qp;
	/* Flags that only kernel consumers know stay in the kernel. */
	uwc->wc_flags = wc->wc_flags & ~(IB_WC_WITH_SMAC | IB_WC_WITH_VLAN |
					 IB_WC_WITH_NETWORK_HDR_TYPE);
	uwc->pkey_index = wc->pkey_index;
	uwc->slid = wc->slid;
	uwc->sl = sodp_wc_sl(wc);
	uwc->dlid_path_bits = wc->dlid_path_bits;
	uwc->port_num = wc->port_num;
}

static void sodp_cq_overflow(struct sodp_cq *cq)
{
	struct ib_event ev = {
		.device = cq->ibcq.device,
		.element.cq = &cq->ibcq,
		.event = IB_EVENT_CQ_ERR,
	};

	sodp_cq_dbg(cq, "overflow\n");
	if (cq->ibcq.event_handler)
		cq->ibcq.event_handler(&ev, cq->ibcq.cq_context);
}

/**
 * sodp_cq_post() - add a completion to a CQ and signal it if armed
 * @cq: the CQ
 * @wc: the completion; @wc->qp must be set
 * @solicited: the completion is for a solicited event
 *
 * Context: any; takes cq->lock with interrupts disabled and calls the
 * completion handler with no lock held.
 * Return: 0, or -EOVERFLOW if the CQ is full (an IB_EVENT_CQ_ERR is
 * raised once and the completion is lost).
 */
int sodp_cq_post(struct sodp_cq *cq, const struct ib_wc *wc, bool solicited)
{
	struct sodp_queue *q = &cq->q;
	unsigned long flags;
	bool overflow = false;
	bool signal = false;

	spin_lock_irqsave(&cq->lock, flags);
	if (sodp_queue_count(q) == q->index_mask) {
		overflow = !cq->overflow;
		cq->overflow = true;
		spin_unlock_irqrestore(&cq->lock, flags);
		if (overflow)
			sodp_cq_overflow(cq);
		return -EOVERFLOW;
	}
	if (cq->is_user)
		sodp_wc_to_uverbs(sodp_queue_dev_elem(q), wc);
	else
		memcpy(sodp_queue_dev_elem(q), wc, sizeof(*wc));
	sodp_queue_dev_advance(q);
	if (cq->notify == IB_CQ_NEXT_COMP ||
	    (cq->notify == IB_CQ_SOLICITED &&
	     (solicited || wc->status != IB_WC_SUCCESS))) {
		cq->notify = 0;
		signal = true;
	}
	spin_unlock_irqrestore(&cq->lock, flags);

	if (signal && cq->ibcq.comp_handler)
		cq->ibcq.comp_handler(&cq->ibcq, cq->ibcq.cq_context);
	return 0;
}

const struct ib_device_ops sodp_cq_ops = {
	.create_cq = SODP_CREATE_CQ_OP(sodp_create_cq_udata,
				       sodp_create_cq_bundle),
	SODP_CREATE_USER_CQ_OP(sodp_create_cq_bundle)
	.destroy_cq = sodp_destroy_cq,
	SODP_RESIZE_CQ_OP(sodp_resize_cq_int, sodp_resize_cq),
	.req_notify_cq = sodp_req_notify_cq,
	.poll_cq = sodp_poll_cq,

	INIT_RDMA_OBJ_SIZE(ib_cq, sodp_cq, ibcq),
};
