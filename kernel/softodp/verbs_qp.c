// SPDX-License-Identifier: GPL-2.0
/*
 * softodp: queue pair verbs (RC, UC, UD and the GSI QP1): create, query,
 * destroy and post.
 * Processing happens in the QP's work item (engine.c); the state machine
 * is in qp_state.c.
 *
 * A QP has a send ring of struct rxe_send_wqe and, unless it uses an SRQ,
 * a receive ring of struct rxe_recv_wqe.  User QPs: librxe writes WQEs
 * into the mapped rings and rings the SQ doorbell with an empty
 * post_send command; receives need no system call.  Kernel QPs: the post
 * verbs below format the same elements into kernel-owned rings.
 */
#include <rdma/restrack.h>

#include "engine.h"
#include "qp.h"
#include "queue.h"
#include "recv.h"
#include "wqe.h"

static int sodp_qp_check_cap(struct ib_qp_init_attr *init)
{
	struct ib_qp_cap *cap = &init->cap;

	if (cap->max_send_wr > SODP_MAX_QP_WR ||
	    cap->max_send_sge > SODP_MAX_SGE ||
	    cap->max_inline_data > SODP_MAX_INLINE)
		return -EINVAL;
	if (!init->srq && (cap->max_recv_wr > SODP_MAX_QP_WR ||
			   cap->max_recv_sge > SODP_MAX_SGE))
		return -EINVAL;
	return 0;
}

static int sodp_qp_init_sq(struct sodp_qp *qp, struct ib_qp_cap *cap)
{
	u32 sge = max_t(u32, cap->max_send_sge, 1);
	size_t size = sodp_send_wqe_size(sge, cap->max_inline_data);
	size_t room = size - sizeof(struct rxe_send_wqe);
	u32 num = cap->max_send_wr;
	int ret;

	spin_lock_init(&qp->sq.lock);
	ret = sodp_queue_init(&qp->sq.q, &num, size, true);
	if (ret)
		return ret;
	qp->sq.max_wr = num;
	qp->sq.max_sge = min_t(u32, room / sizeof(struct rxe_sge),
			       SODP_MAX_SGE);
	qp->sq.max_inline = min_t(u32, room, SODP_MAX_INLINE);
	cap->max_send_wr = qp->sq.max_wr;
	cap->max_send_sge = qp->sq.max_sge;
	cap->max_inline_data = qp->sq.max_inline;
	return 0;
}

static int sodp_qp_init_rq(struct sodp_qp *qp, struct ib_qp_cap *cap)
{
	size_t size = sodp_recv_wqe_size(max_t(u32, cap->max_recv_sge, 1));
	u32 num = cap->max_recv_wr;
	int ret;

	spin_lock_init(&qp->rq.lock);
	ret = sodp_queue_init(&qp->rq.q, &num, size, true);
	if (ret)
		return ret;
	qp->rq.max_wr = num;
	qp->rq.max_sge = min_t(u32, sodp_recv_wqe_sges(size), SODP_MAX_SGE);
	cap->max_recv_wr = qp->rq.max_wr;
	cap->max_recv_sge = qp->rq.max_sge;
	return 0;
}

static void sodp_qp_free_queues(struct sodp_qp *qp)
{
	sodp_queue_cleanup(&qp->sq.q);
	sodp_queue_cleanup(&qp->rq.q);
}

static int sodp_create_qp(struct ib_qp *ibqp, struct ib_qp_init_attr *init,
			  struct ib_udata *udata)
{
	struct sodp_dev *sdev = to_sdev(ibqp->device);
	struct sodp_qp *qp = to_sqp(ibqp);
	struct rxe_create_qp_resp resp = {};
	u32 qpn;
	int ret;

	switch (init->qp_type) {
	case IB_QPT_RC:
	case IB_QPT_UC:
	case IB_QPT_UD:
		break;
	case IB_QPT_GSI:
		/* ib_mad's QP1, one per port (we have one). */
		if (udata || init->port_num != 1)
			return -EINVAL;
		break;
	default:
		return -EOPNOTSUPP;
	}
	if (init->create_flags)
		return -EOPNOTSUPP;
	if (!init->send_cq || (!init->recv_cq && !init->srq))
		return -EINVAL;
	ret = sodp_qp_check_cap(init);
	if (ret)
		return ret;
	if (udata && udata->outlen < sizeof(resp))
		return -EINVAL;

	mutex_init(&qp->state_lock);
	mutex_init(&qp->proc_lock);
	refcount_set(&qp->ref, 1);
	init_completion(&qp->ref_done);
	sodp_qp_engine_init(qp);
	qp->is_user = !!udata;
	qp->uid = atomic64_inc_return(&sdev->qp_uids);
	qp->sig_all = init->sq_sig_type == IB_SIGNAL_ALL_WR;
	qp->scq = to_scq(init->send_cq);
	qp->rcq = init->recv_cq ? to_scq(init->recv_cq) : NULL;
	qp->srq = init->srq ? to_ssrq(init->srq) : NULL;
	qp->state = IB_QPS_RESET;
	qp->attr.qp_state = IB_QPS_RESET;
	qp->attr.path_mtu = IB_MTU_256;
	qp->attr.port_num = 1;

	ret = sodp_qp_init_sq(qp, &init->cap);
	if (ret)
		goto err;
	if (qp->srq) {
		init->cap.max_recv_wr = 0;
		init->cap.max_recv_sge = 0;
	} else {
		ret = sodp_qp_init_rq(qp, &init->cap);
		if (ret)
			goto err;
	}
	ret = sodp_qp_engine_alloc(qp);
	if (ret)
		goto err;

	if (init->qp_type == IB_QPT_GSI) {
		qpn = 1;
		ret = xa_insert_bh(&sdev->qps, qpn, NULL, GFP_KERNEL);
	} else {
		ret = xa_alloc_cyclic_bh(&sdev->qps, &qpn, NULL,
				      XA_LIMIT(SODP_FIRST_QPN, SODP_MAX_QPN),
				      &sdev->next_qpn, GFP_KERNEL);
		if (ret == -EBUSY)
			ret = -ENOMEM;
	}
	if (ret < 0)
		goto err;
	ibqp->qp_num = qpn;

	if (udata) {
		struct ib_ucontext *uctx = sodp_uctx(udata);

		ret = sodp_queue_expose(&qp->sq.q, uctx, &resp.sq_mi);
		if (!ret && !qp->srq)
			ret = sodp_queue_expose(&qp->rq.q, uctx, &resp.rq_mi);
		if (!ret)
			ret = ib_copy_to_udata(udata, &resp, sizeof(resp));
		if (ret)
			goto err_qpn;
	}
	qp->attr.cap = init->cap;
	xa_store_bh(&sdev->qps, qpn, qp, GFP_KERNEL);
	sodp_qp_dbg(qp, "created: SQ %u x %u SGE/%u inline, RQ %u x %u SGE%s\n",
		    qp->sq.max_wr, qp->sq.max_sge, qp->sq.max_inline,
		    qp->rq.max_wr, qp->rq.max_sge, qp->srq ? " (SRQ)" : "");
	return 0;

err_qpn:
	xa_erase_bh(&sdev->qps, qpn);
err:
	sodp_qp_engine_free(qp);
	sodp_qp_free_queues(qp);
	mutex_destroy(&qp->proc_lock);
	mutex_destroy(&qp->state_lock);
	return ret;
}

static int sodp_query_qp(struct ib_qp *ibqp, struct ib_qp_attr *attr,
			 int mask, struct ib_qp_init_attr *init)
{
	struct sodp_qp *qp = to_sqp(ibqp);

	mutex_lock(&qp->state_lock);
	*attr = qp->attr;
	attr->qp_state = sodp_qp_cur_state(qp);
	attr->cur_qp_state = attr->qp_state;
	attr->sq_draining = qp->state == IB_QPS_SQD &&
			    READ_ONCE(qp->req.sqd) != SODP_SQD_DRAINED;

	memset(init, 0, sizeof(*init));
	init->qp_context = ibqp->qp_context;
	init->send_cq = ibqp->send_cq;
	init->recv_cq = ibqp->recv_cq;
	init->srq = ibqp->srq;
	init->cap = qp->attr.cap;
	init->sq_sig_type = qp->sig_all ? IB_SIGNAL_ALL_WR : IB_SIGNAL_REQ_WR;
	init->qp_type = ibqp->qp_type;
	init->port_num = 1;
	mutex_unlock(&qp->state_lock);
	return 0;
}

static int sodp_destroy_qp(struct ib_qp *ibqp, struct ib_udata *udata)
{
	struct sodp_qp *qp = to_sqp(ibqp);

	sodp_qp_dbg(qp, "destroyed in %s\n", sodp_qp_state_name(qp->state));
	/*
	 * RX lookups take their reference under the xarray's lock: none can
	 * find the QP after this, those that did hold a reference.
	 */
	xa_erase_bh(&to_sdev(ibqp->device)->qps, ibqp->qp_num);
	sodp_qp_put(qp);
	wait_for_completion(&qp->ref_done);
	mutex_lock(&qp->state_lock);
	WRITE_ONCE(qp->state, IB_QPS_RESET);
	mutex_unlock(&qp->state_lock);
	sodp_qp_engine_stop(qp);
	sodp_qp_engine_free(qp);
	sodp_qp_free_queues(qp);
	mutex_destroy(&qp->proc_lock);
	mutex_destroy(&qp->state_lock);
	return 0;
}

static int sodp_post_send(struct ib_qp *ibqp, const struct ib_send_wr *wr,
			  const struct ib_send_wr **bad_wr)
{
	struct sodp_qp *qp = to_sqp(ibqp);
	enum ib_qp_state state = READ_ONCE(qp->state);
	struct sodp_wq *sq = &qp->sq;
	unsigned long flags;
	int ret = 0;

	if (state < IB_QPS_RTS || (qp->is_user && wr)) {
		*bad_wr = wr;
		return -EINVAL;
	}
	if (qp->is_user) {
		/* librxe's doorbell: the WQEs are already in the ring. */
		sodp_qp_run(qp);
		return 0;
	}

	spin_lock_irqsave(&sq->lock, flags);
	for (; wr; wr = wr->next) {
		if (sodp_queue_client_full(&sq->q)) {
			ret = -ENOMEM;
			break;
		}
		ret = sodp_send_wqe_fill(sodp_queue_elem(&sq->q,
					 sodp_queue_client_index(&sq->q)),
					 wr, sq->max_sge, sq->max_inline,
					 qp->ssn, sodp_qp_is_ud(qp));
		if (ret)
			break;
		qp->ssn++;
		sodp_queue_client_advance(&sq->q);
	}
	spin_unlock_irqrestore(&sq->lock, flags);
	if (ret)
		*bad_wr = wr;
	sodp_qp_kick(qp);
	return ret;
}

static int sodp_post_recv(struct ib_qp *ibqp, const struct ib_recv_wr *wr,
			  const struct ib_recv_wr **bad_wr)
{
	struct sodp_qp *qp = to_sqp(ibqp);
	enum ib_qp_state state = READ_ONCE(qp->state);
	int ret;

	/* User QPs post receives straight into the mapped ring. */
	if (qp->is_user || qp->srq || state == IB_QPS_RESET) {
		*bad_wr = wr;
		return -EINVAL;
	}
	ret = sodp_post_recv_ring(&qp->rq.q, &qp->rq.lock, qp->rq.max_sge, wr,
				  bad_wr);
	/* Pairs with the barrier in sodp_qp_enter(): flush late arrivals. */
	smp_mb();
	if (READ_ONCE(qp->state) == IB_QPS_ERR)
		sodp_qp_kick(qp);
	return ret;
}

/* Snapshot of where a QP's engines stand, for sodp_fill_res_qp_entry(). */
struct sodp_qp_snap {
	u32 psn, una, rd_atomic, epsn, rxq;
	u8 retry, rnr_retry, flow;
	bool rewound, nak_sent, fault_busy;
};

static void sodp_qp_snap(struct sodp_qp *qp, struct sodp_qp_snap *s)
{
	s->psn = READ_ONCE(qp->req.psn);
	s->una = READ_ONCE(qp->req.una);
	s->rd_atomic = READ_ONCE(qp->req.rd_atomic);
	s->retry = READ_ONCE(qp->req.retry);
	s->rnr_retry = READ_ONCE(qp->req.rnr_retry);
	s->flow = READ_ONCE(qp->req.flow);
	s->rewound = READ_ONCE(qp->req.rewound);
	s->epsn = READ_ONCE(qp->resp.epsn);
	s->nak_sent = READ_ONCE(qp->resp.nak_sent);
	s->fault_busy = READ_ONCE(qp->resp.fault.busy);
	s->rxq = skb_queue_len_lockless(&qp->rxq);
}

/*
 * rdma resource show qp -dd: where the QP's engines stand.  Their state
 * belongs to the work item; it is read under proc_lock when that is free.
 * A work item holding it right now is reported (work_running 1) with a
 * snapshot taken without it, which is what one wants to see of a QP that
 * seems stuck.
 */
static int sodp_fill_res_qp_entry(struct sk_buff *msg, struct ib_qp *ibqp)
{
	static const char *const flow_name[] = {
		[SODP_REQ_RUNNING] = "running",
		[SODP_REQ_RNR_WAIT] = "rnr_wait",
		[SODP_REQ_STOPPED] = "stopped",
	};
	struct sodp_qp *qp = to_sqp(ibqp);
	struct sodp_qp_snap s;
	struct nlattr *table;
	bool locked;

	locked = mutex_trylock(&qp->proc_lock);
	sodp_qp_snap(qp, &s);
	if (locked)
		mutex_unlock(&qp->proc_lock);

	table = nla_nest_start_noflag(msg, RDMA_NLDEV_ATTR_DRIVER);
	if (!table)
		return -EMSGSIZE;
	if (rdma_nl_put_driver_u32(msg, "work_running", !locked) ||
	    rdma_nl_put_driver_u32(msg, "work_queued",
				   work_pending(&qp->work)) ||
	    rdma_nl_put_driver_u32(msg, "rx_queued", s.rxq) ||
	    rdma_nl_put_driver_u32(msg, "req_psn", s.psn) ||
	    rdma_nl_put_driver_u32(msg, "req_una", s.una) ||
	    rdma_nl_put_driver_u32(msg, "req_rd_atomic", s.rd_atomic) ||
	    rdma_nl_put_driver_string(msg, "req_flow",
				      s.flow < ARRAY_SIZE(flow_name) ?
				      flow_name[s.flow] : "?") ||
	    rdma_nl_put_driver_u32(msg, "req_retry", s.retry) ||
	    rdma_nl_put_driver_u32(msg, "req_rnr_retry", s.rnr_retry) ||
	    rdma_nl_put_driver_u32(msg, "req_rewound", s.rewound) ||
	    rdma_nl_put_driver_u32(msg, "retrans_timer",
				   timer_pending(&qp->retrans_timer)) ||
	    rdma_nl_put_driver_u32(msg, "rnr_timer",
				   timer_pending(&qp->rnr_timer)) ||
	    rdma_nl_put_driver_u32(msg, "resp_epsn", s.epsn) ||
	    rdma_nl_put_driver_u32(msg, "resp_nak_sent", s.nak_sent) ||
	    rdma_nl_put_driver_u32(msg, "resp_fault_busy", s.fault_busy)) {
		nla_nest_cancel(msg, table);
		return -EMSGSIZE;
	}
	nla_nest_end(msg, table);
	return 0;
}

const struct ib_device_ops sodp_qp_ops = {
	.create_qp = sodp_create_qp,
	.modify_qp = sodp_modify_qp,
	.query_qp = sodp_query_qp,
	.destroy_qp = sodp_destroy_qp,
	.post_send = sodp_post_send,
	.post_recv = sodp_post_recv,
	.fill_res_qp_entry = sodp_fill_res_qp_entry,

	INIT_RDMA_OBJ_SIZE(ib_qp, sodp_qp, ibqp),
};
