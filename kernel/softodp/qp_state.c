// SPDX-License-Identifier: GPL-2.0
/*
 * softodp: the IBTA queue pair state machine (RC, UD and GSI).
 *
 * modify_qp checks the transition and its attribute mask with
 * ib_modify_qp_is_ok(), validates the attribute values, applies them and
 * performs the state's entry action:
 *
 *   RESET  both work queues are emptied
 *   ERR    every outstanding WQE of the SQ and the RQ completes with
 *          IB_WC_WR_FLUSH_ERR (SRQ WQEs stay: they are shared); WQEs
 *          posted later are flushed by the QP's work item: kicked by the
 *          post (kernel QPs, and user sends through their doorbell) or,
 *          for receives a user writes into the mapped ring, by the
 *          ring watch of sodp_qp_arm_err_poll()
 *   RTS    the SQ is kicked (WQEs may have been posted in SQD)
 *   SQD    the requester finishes the message it is sending, starts no
 *          new one, and when all started ones have completed raises
 *          IB_EVENT_SQ_DRAINED (if en_sqd_async_notify); query_qp reports
 *          sq_draining until then
 */
#include "cq.h"
#include "engine.h"
#include "pkt.h"
#include "qp.h"
#include "queue.h"
#include "wqe.h"

static const char * const sodp_qp_state_names[] = {
	[IB_QPS_RESET] = "RESET",
	[IB_QPS_INIT] = "INIT",
	[IB_QPS_RTR] = "RTR",
	[IB_QPS_RTS] = "RTS",
	[IB_QPS_SQD] = "SQD",
	[IB_QPS_SQE] = "SQE",
	[IB_QPS_ERR] = "ERR",
};

const char *sodp_qp_state_name(enum ib_qp_state state)
{
	if ((unsigned int)state < ARRAY_SIZE(sodp_qp_state_names))
		return sodp_qp_state_names[state];
	return "?";
}

/*
 * qp_access_flags: what rdma_rxe accepts - the remote rights and the MR
 * bits applications pass along with them (IB_ACCESS_ON_DEMAND, MW_BIND,
 * FLUSH, the optional range such as RELAXED_ORDERING); ZERO_BASED,
 * HUGETLB and unknown bits are refused with EINVAL as rxe does.  Only the
 * remote rights mean something to a QP (resp.c).
 */
#define SODP_QP_ACCESS	(IB_ACCESS_LOCAL_WRITE | IB_ACCESS_REMOTE_WRITE | \
			 IB_ACCESS_REMOTE_READ | IB_ACCESS_REMOTE_ATOMIC | \
			 IB_ACCESS_MW_BIND | IB_ACCESS_ON_DEMAND | \
			 SODP_ACCESS_FLUSH | IB_ACCESS_OPTIONAL)

static int sodp_qp_check_attr(struct sodp_qp *qp, struct ib_qp_attr *attr,
			      int mask, struct sodp_av *av)
{
	if ((mask & IB_QP_PORT) && attr->port_num != 1)
		return -EINVAL;
	if ((mask & IB_QP_PKEY_INDEX) && attr->pkey_index >= SODP_PKEY_TBL_LEN)
		return -EINVAL;
	if ((mask & IB_QP_ACCESS_FLAGS) &&
	    (attr->qp_access_flags & ~SODP_QP_ACCESS))
		return -EINVAL;
	if ((mask & IB_QP_PATH_MTU) &&
	    (attr->path_mtu < IB_MTU_256 || attr->path_mtu > IB_MTU_4096))
		return -EINVAL;
	if ((mask & IB_QP_MAX_QP_RD_ATOMIC) &&
	    attr->max_rd_atomic > SODP_MAX_RD_ATOMIC)
		return -EINVAL;
	if ((mask & IB_QP_MAX_DEST_RD_ATOMIC) &&
	    attr->max_dest_rd_atomic > SODP_MAX_RD_ATOMIC)
		return -EINVAL;
	if ((mask & IB_QP_MIN_RNR_TIMER) && attr->min_rnr_timer > 31)
		return -EINVAL;
	if ((mask & IB_QP_TIMEOUT) && attr->timeout > 31)
		return -EINVAL;
	if ((mask & IB_QP_RETRY_CNT) && attr->retry_cnt > 7)
		return -EINVAL;
	if ((mask & IB_QP_RNR_RETRY) && attr->rnr_retry > 7)
		return -EINVAL;
	/* ib_modify_qp_is_ok() keeps UD masks free of paths and PSNs of a peer. */
	if ((mask & IB_QP_DEST_QPN) && attr->dest_qp_num > SODP_MAX_QPN)
		return -EINVAL;
	/* No automatic path migration: no alternate path. */
	if (mask & IB_QP_ALT_PATH)
		return -EINVAL;
	if ((mask & IB_QP_PATH_MIG_STATE) &&
	    attr->path_mig_state != IB_MIG_MIGRATED)
		return -EINVAL;
	if (mask & IB_QP_AV)
		return sodp_av_from_attr(av, &attr->ah_attr);
	return 0;
}

static void sodp_qp_apply_attr(struct sodp_qp *qp, struct ib_qp_attr *attr,
			       int mask, const struct sodp_av *av)
{
	struct ib_qp_attr *a = &qp->attr;

	if (mask & IB_QP_ACCESS_FLAGS)
		a->qp_access_flags = attr->qp_access_flags;
	if (mask & IB_QP_PKEY_INDEX)
		a->pkey_index = attr->pkey_index;
	if (mask & IB_QP_QKEY)
		WRITE_ONCE(a->qkey, attr->qkey);
	if (mask & IB_QP_PORT)
		a->port_num = attr->port_num;
	if (mask & IB_QP_PATH_MTU)
		a->path_mtu = attr->path_mtu;
	if (mask & IB_QP_DEST_QPN)
		a->dest_qp_num = attr->dest_qp_num;
	if (mask & IB_QP_RQ_PSN)
		a->rq_psn = attr->rq_psn & 0xffffff;
	if (mask & IB_QP_SQ_PSN)
		a->sq_psn = attr->sq_psn & 0xffffff;
	if (mask & IB_QP_MAX_QP_RD_ATOMIC)
		a->max_rd_atomic = attr->max_rd_atomic;
	if (mask & IB_QP_MAX_DEST_RD_ATOMIC)
		a->max_dest_rd_atomic = attr->max_dest_rd_atomic;
	if (mask & IB_QP_MIN_RNR_TIMER)
		a->min_rnr_timer = attr->min_rnr_timer;
	if (mask & IB_QP_TIMEOUT)
		a->timeout = attr->timeout;
	if (mask & IB_QP_RETRY_CNT)
		a->retry_cnt = attr->retry_cnt;
	if (mask & IB_QP_RNR_RETRY)
		a->rnr_retry = attr->rnr_retry;
	if (mask & IB_QP_EN_SQD_ASYNC_NOTIFY)
		a->en_sqd_async_notify = attr->en_sqd_async_notify;
	if (mask & IB_QP_PATH_MIG_STATE)
		a->path_mig_state = attr->path_mig_state;
	if (mask & IB_QP_AV) {
		a->ah_attr = attr->ah_attr;
		/* The GID attribute reference belongs to ib_core. */
		a->ah_attr.grh.sgid_attr = NULL;
		mutex_lock(&qp->proc_lock);
		qp->av = *av;
		sodp_qp_set_path(qp);
		mutex_unlock(&qp->proc_lock);
	}
}

/**
 * sodp_qp_cur_state() - the state a consumer sees
 * @qp: QP
 *
 * An engine that hit a fatal error sets need_err before it posts the error
 * completion, and the work item moves the QP to ERR right after; in that
 * window the QP already counts as in ERR, so that a consumer who polled the
 * error completion never finds it in RTS.
 *
 * Context: state_lock held.
 * Return: the current state.
 */
enum ib_qp_state sodp_qp_cur_state(struct sodp_qp *qp)
{
	lockdep_assert_held(&qp->state_lock);
	if (READ_ONCE(qp->need_err) && qp->state != IB_QPS_RESET)
		return IB_QPS_ERR;
	return qp->state;
}

/**
 * sodp_qp_event() - report an asynchronous event of the QP to its consumer
 * @qp: QP
 * @type: IB_EVENT_* (QP events only)
 *
 * Context: QP work item or modify_qp; no spinlock held (the consumer's
 * handler may do anything an event handler may).
 */
void sodp_qp_event(struct sodp_qp *qp, enum ib_event_type type)
{
	struct ib_event ev = {
		.device = qp->ibqp.device,
		.element.qp = &qp->ibqp,
		.event = type,
	};

	sodp_qp_dbg(qp, "event %s\n", ib_event_msg(type));
	if (qp->ibqp.event_handler)
		qp->ibqp.event_handler(&ev, qp->ibqp.qp_context);
}

/**
 * sodp_qp_flush() - complete all outstanding WQEs with a flush error
 * @qp: a QP in the error state
 *
 * Error completions are generated for every WQE, signaled or not.
 *
 * Context: process; the caller holds qp->proc_lock.
 */
void sodp_qp_flush(struct sodp_qp *qp)
{
	struct sodp_queue *q = &qp->sq.q;
	struct ib_wc wc = {
		.status = IB_WC_WR_FLUSH_ERR,
		.qp = &qp->ibqp,
	};
	unsigned int n = 0;

	lockdep_assert_held(&qp->proc_lock);
	skb_queue_purge(&qp->rxq);
	while (sodp_queue_count(q)) {
		/* WQEs the requester has seen: their checked copy. */
		if (q->index != qp->req.fetch) {
			struct sodp_swqe *s = sodp_swqe(qp, q->index);

			wc.wr_id = s->wr_id;
			wc.opcode = sodp_wr_to_wc_opcode(s->opcode);
		} else {
			struct rxe_send_wqe *wqe = sodp_queue_dev_elem(q);

			wc.wr_id = READ_ONCE(wqe->wr.wr_id);
			wc.opcode = sodp_wr_to_wc_opcode(READ_ONCE(wqe->wr.opcode));
			qp->req.fetch = (q->index + 1) & q->index_mask;
		}
		sodp_cq_post(qp->scq, &wc, false);
		sodp_queue_dev_advance(q);
		n++;
	}
	qp->req.fetch = q->index;
	qp->req.send = q->index;
	qp->req.rd_atomic = 0;
	sodp_resp_drop_wqe(qp);
	if (!qp->srq) {
		q = &qp->rq.q;
		wc.opcode = IB_WC_RECV;
		while (sodp_queue_count(q)) {
			struct rxe_recv_wqe *wqe = sodp_queue_dev_elem(q);

			wc.wr_id = wqe->wr_id;
			sodp_cq_post(qp->rcq, &wc, false);
			sodp_queue_dev_advance(q);
			n++;
		}
	}
	if (n)
		sodp_qp_dbg(qp, "flushed %u WQEs\n", n);
}

static void sodp_qp_reset_queues(struct sodp_qp *qp)
{
	unsigned long flags;

	mutex_lock(&qp->proc_lock);
	WRITE_ONCE(qp->need_err, false);
	skb_queue_purge(&qp->rxq);
	qp->resp.have_wqe = false;
	spin_lock_irqsave(&qp->sq.lock, flags);
	sodp_queue_reset(&qp->sq.q);
	spin_unlock_irqrestore(&qp->sq.lock, flags);
	if (!qp->srq) {
		spin_lock_irqsave(&qp->rq.lock, flags);
		sodp_queue_reset(&qp->rq.q);
		spin_unlock_irqrestore(&qp->rq.lock, flags);
	}
	mutex_unlock(&qp->proc_lock);
}

static void sodp_qp_enter(struct sodp_qp *qp, enum ib_qp_state new)
{
	enum ib_qp_state old = qp->state;

	qp->attr.qp_state = new;
	WRITE_ONCE(qp->state, new);
	/* Posts that missed the new state are kicked (sodp_post_recv()). */
	smp_mb();
	if (old != new)
		sodp_qp_dbg(qp, "%s -> %s\n", sodp_qp_state_name(old),
			    sodp_qp_state_name(new));
	switch (new) {
	case IB_QPS_RESET:
		sodp_qp_reset_queues(qp);
		break;
	case IB_QPS_ERR:
		mutex_lock(&qp->proc_lock);
		WRITE_ONCE(qp->need_err, false);	/* it is in ERR now */
		sodp_qp_flush(qp);
		mutex_unlock(&qp->proc_lock);
		if (qp->is_user && !qp->srq)
			sodp_qp_arm_err_poll(qp);
		break;
	case IB_QPS_RTR:
		if (old == IB_QPS_INIT) {
			mutex_lock(&qp->proc_lock);
			sodp_resp_init(qp);
			mutex_unlock(&qp->proc_lock);
		}
		break;
	case IB_QPS_RTS:
		mutex_lock(&qp->proc_lock);
		if (old == IB_QPS_RTR)
			sodp_req_init(qp);
		else if (old == IB_QPS_SQD)
			sodp_req_resume(qp);
		mutex_unlock(&qp->proc_lock);
		if (old != IB_QPS_RTS)
			sodp_qp_kick(qp);
		break;
	case IB_QPS_SQD:
		if (old == IB_QPS_RTS) {
			mutex_lock(&qp->proc_lock);
			sodp_req_drain(qp);
			mutex_unlock(&qp->proc_lock);
			/* The work item finishes the drain and reports it. */
			sodp_qp_kick(qp);
		}
		break;
	default:
		break;
	}
}

/**
 * sodp_qp_to_error() - move a QP to ERR after a fatal engine error
 * @qp: QP
 *
 * Context: process; called by the work item without proc_lock.
 */
void sodp_qp_to_error(struct sodp_qp *qp)
{
	mutex_lock(&qp->state_lock);
	/* A consumer's RESET in between has cleared need_err: leave it. */
	if (READ_ONCE(qp->need_err) && qp->state != IB_QPS_RESET &&
	    qp->state != IB_QPS_ERR)
		sodp_qp_enter(qp, IB_QPS_ERR);
	mutex_unlock(&qp->state_lock);
}

int sodp_modify_qp(struct ib_qp *ibqp, struct ib_qp_attr *attr, int mask,
		   struct ib_udata *udata)
{
	struct sodp_qp *qp = to_sqp(ibqp);
	enum ib_qp_state cur, new;
	struct sodp_av av;
	int ret;

	if (mask & ~IB_QP_ATTR_STANDARD_BITS)
		return -EOPNOTSUPP;

	mutex_lock(&qp->state_lock);
	cur = sodp_qp_cur_state(qp);
	if ((mask & IB_QP_CUR_STATE) && attr->cur_qp_state != cur) {
		ret = -EINVAL;
		goto out;
	}
	new = (mask & IB_QP_STATE) ? attr->qp_state : cur;
	if (!ib_modify_qp_is_ok(cur, new, ibqp->qp_type, mask)) {
		sodp_qp_dbg(qp, "bad transition %s -> %s, mask 0x%x\n",
			    sodp_qp_state_name(cur), sodp_qp_state_name(new),
			    mask);
		ret = -EINVAL;
		goto out;
	}
	ret = sodp_qp_check_attr(qp, attr, mask, &av);
	if (ret) {
		sodp_qp_dbg(qp, "bad attributes, mask 0x%x\n", mask);
		goto out;
	}
	sodp_qp_apply_attr(qp, attr, mask, &av);
	if (mask & IB_QP_STATE)
		sodp_qp_enter(qp, new);
out:
	mutex_unlock(&qp->state_lock);
	return ret;
}
