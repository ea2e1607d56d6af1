// SPDX-License-Identifier: GPL-2.0
/*
 * softodp: the requester - send queue WQEs to request packets.
 *
 * User rings are untrusted.  Each SQ slot has a kernel-private shadow
 * (struct sodp_swqe): the requester copies a WQE into it once, when it
 * first sees it (sodp_req_fetch()), clamping the gather list and inline
 * data to the queue's limits and checking the opcode; from then on only
 * the shadow is used (transmission, retransmission, completion).  The
 * ring slot stays owned by the device until the WQE completes, when the
 * completer advances the ring's consumer index.
 *
 * Indices (all masked SQ indices): ring consumer (q->index) <= req.send
 * <= req.fetch <= ring producer.  [q->index, req.send) are fully sent and
 * wait for their answer; req.send is being transmitted.
 *
 * UC QPs use the same path with UC opcodes: no AckReq, no retransmission
 * timer, and a WQE is done when its last packet is sent.
 *
 * Flow control: at most SODP_MAX_UNACKED PSNs beyond the oldest
 * unacknowledged one; AckReq on the last packet of a message and every
 * SODP_ACKREQ_EVERY packets; at most max_rd_atomic READ/ATOMIC requests
 * outstanding.  Retransmission (go-back-N from the oldest incomplete WQE)
 * is driven by the completer (comp.c).
 */
#include "engine.h"
#include "mr.h"
#include "mw.h"
#include "pkt.h"
#include "qp.h"
#include "queue.h"
#include "wqe.h"

#define SODP_MAX_UNACKED	128
#define SODP_ACKREQ_EVERY	32
#define SODP_REQ_BUDGET		256

/* Copy and check one WQE of the (untrusted) ring into its shadow. */
static void sodp_req_copy(struct sodp_qp *qp, struct rxe_send_wqe *w,
			  struct sodp_swqe *s)
{
	u32 n, i, room = qp->req.shadow_size - sizeof(*s);
	struct sodp_flush_wr *f;
	u64 len = 0;

	memset(s, 0, sizeof(*s));
	s->wr_id = READ_ONCE(w->wr.wr_id);
	s->opcode = READ_ONCE(w->wr.opcode);
	s->send_flags = READ_ONCE(w->wr.send_flags);
	s->ex = READ_ONCE(w->wr.ex.invalidate_rkey);
	/* Datagrams: SEND and SEND with immediate to an address handle. */
	if (sodp_qp_is_ud(qp) &&
	    ((s->opcode != IB_WR_SEND && s->opcode != IB_WR_SEND_WITH_IMM) ||
	     !sodp_ud_copy_wqe(qp, w, s))) {
		s->status = IB_WC_LOC_QP_OP_ERR;
		s->state = SODP_SWQE_ERROR;
		return;
	}
	/* UC: SEND and RDMA WRITE (with immediate), and local operations. */
	if (sodp_qp_is_uc(qp) && !sodp_wr_is_local(s->opcode) &&
	    s->opcode != IB_WR_SEND && s->opcode != IB_WR_SEND_WITH_IMM &&
	    s->opcode != IB_WR_RDMA_WRITE &&
	    s->opcode != IB_WR_RDMA_WRITE_WITH_IMM)
		goto bad_opcode;
	switch (s->opcode) {
	case IB_WR_SEND:
	case IB_WR_SEND_WITH_IMM:
	case IB_WR_SEND_WITH_INV:
		break;
	case IB_WR_RDMA_WRITE:
	case IB_WR_RDMA_WRITE_WITH_IMM:
	case IB_WR_RDMA_READ:
		s->remote_addr = READ_ONCE(w->wr.wr.rdma.remote_addr);
		s->rkey = READ_ONCE(w->wr.wr.rdma.rkey);
		break;
	case SODP_WR_ATOMIC_WRITE:
		/* The 8 bytes to store sit where inline data would. */
		s->remote_addr = READ_ONCE(w->wr.wr.rdma.remote_addr);
		s->rkey = READ_ONCE(w->wr.wr.rdma.rkey);
		memcpy(&s->compare_add, w->dma.inline_data, sizeof(u64));
		s->send_flags &= ~IB_SEND_INLINE;
		s->length = sizeof(u64);
		s->state = SODP_SWQE_PENDING;
		return;
	case SODP_WR_FLUSH:
		/* No data: a range (or a whole region) and what to make of it. */
		f = (struct sodp_flush_wr *)&w->wr.wr;
		s->remote_addr = READ_ONCE(f->remote_addr);
		s->rkey = READ_ONCE(f->rkey);
		s->flush_type = READ_ONCE(f->type);
		s->flush_level = READ_ONCE(f->level);
		s->flush_len = READ_ONCE(w->dma.length);
		s->send_flags &= ~IB_SEND_INLINE;
		s->state = SODP_SWQE_PENDING;
		return;
	case IB_WR_ATOMIC_CMP_AND_SWP:
	case IB_WR_ATOMIC_FETCH_AND_ADD:
		s->remote_addr = READ_ONCE(w->wr.wr.atomic.remote_addr);
		s->rkey = READ_ONCE(w->wr.wr.atomic.rkey);
		s->compare_add = READ_ONCE(w->wr.wr.atomic.compare_add);
		s->swap = READ_ONCE(w->wr.wr.atomic.swap);
		break;
	case IB_WR_LOCAL_INV:
		s->state = SODP_SWQE_PENDING;
		return;
	case IB_WR_REG_MR:
		/* A kernel pointer: only kernel QPs may use this opcode. */
		if (qp->is_user)
			goto bad_opcode;
		s->reg_mr = w->wr.wr.reg.mr;
		s->rkey = w->wr.wr.reg.key;
		s->reg_access = w->wr.wr.reg.access;
		s->state = SODP_SWQE_PENDING;
		return;
	case IB_WR_BIND_MW:
		/* Memory windows are user objects: user rings only. */
		if (!qp->is_user)
			goto bad_opcode;
		s->bind_addr = READ_ONCE(w->wr.wr.mw.addr);
		s->bind_length = READ_ONCE(w->wr.wr.mw.length);
		s->bind_mr_lkey = READ_ONCE(w->wr.wr.mw.mr_lkey);
		s->bind_mw_rkey = READ_ONCE(w->wr.wr.mw.mw_rkey);
		s->rkey = READ_ONCE(w->wr.wr.mw.rkey);
		s->reg_access = READ_ONCE(w->wr.wr.mw.access);
		s->state = SODP_SWQE_PENDING;
		return;
	default:
bad_opcode:
		s->status = IB_WC_LOC_QP_OP_ERR;
		s->state = SODP_SWQE_ERROR;
		return;
	}

	if ((s->send_flags & IB_SEND_INLINE) &&
	    !sodp_wr_is_rd_atomic(s->opcode)) {
		len = READ_ONCE(w->dma.length);
		if (len > qp->sq.max_inline || len > room) {
			s->status = IB_WC_LOC_LEN_ERR;
			s->state = SODP_SWQE_ERROR;
			return;
		}
		memcpy(s->inline_data, w->dma.inline_data, len);
	} else {
		s->send_flags &= ~IB_SEND_INLINE;
		n = READ_ONCE(w->dma.num_sge);
		if (n > qp->sq.max_sge || n * sizeof(struct rxe_sge) > room) {
			s->status = IB_WC_LOC_LEN_ERR;
			s->state = SODP_SWQE_ERROR;
			return;
		}
		memcpy(s->sge, w->dma.sge, n * sizeof(struct rxe_sge));
		for (i = 0; i < n; i++)
			len += s->sge[i].length;
		s->num_sge = n;
	}
	if (len > SODP_MAX_MSG_SZ ||
	    (sodp_wr_is_atomic(s->opcode) && len < sizeof(u64))) {
		s->status = IB_WC_LOC_LEN_ERR;
		s->state = SODP_SWQE_ERROR;
		return;
	}
	s->length = sodp_wr_is_atomic(s->opcode) ? sizeof(u64) : len;
	s->state = SODP_SWQE_PENDING;
}

static void sodp_req_fetch(struct sodp_qp *qp)
{
	struct sodp_queue *q = &qp->sq.q;
	u32 prod = sodp_queue_peer_index(q);

	while (qp->req.fetch != prod) {
		sodp_req_copy(qp, sodp_queue_elem(q, qp->req.fetch),
			      sodp_swqe(qp, qp->req.fetch));
		qp->req.fetch = (qp->req.fetch + 1) & q->index_mask;
	}
}

/*
 * Execute a local operation, in send queue order.  It takes no PSN: its
 * PSN range is empty ([req.psn, req.psn - 1]), so acknowledgements and
 * go-back-N pass over it, and it completes when everything before it has.
 */
static void sodp_req_local(struct sodp_qp *qp, struct sodp_swqe *s)
{
	struct sodp_dev *sdev = sodp_qp_dev(qp);
	struct sodp_pd *pd = to_spd(qp->ibqp.pd);
	const char *what;
	u32 key;
	int ret;

	switch (s->opcode) {
	case IB_WR_LOCAL_INV:
		what = "LOCAL_INV";
		key = s->ex;
		if (sodp_key_is_mw(key))
			ret = sodp_mw_invalidate(qp, key, false);
		else
			ret = sodp_mr_invalidate(sdev, pd, key);
		break;
	case IB_WR_BIND_MW:
		what = "BIND_MW";
		key = s->bind_mw_rkey;
		ret = sodp_mw_bind(qp, s);
		break;
	default:
		what = "REG_MR";
		key = s->rkey;
		ret = sodp_mr_fast_reg(sdev, pd, s->reg_mr, key,
				       s->reg_access);
		break;
	}
	if (ret) {
		sodp_qp_dbg(qp, "%s of key 0x%x failed: %d\n", what, key, ret);
		/* As rdma_rxe: a failed bind has a status of its own. */
		s->status = s->opcode == IB_WR_BIND_MW ? IB_WC_MW_BIND_ERR :
							 IB_WC_LOC_QP_OP_ERR;
		s->state = SODP_SWQE_ERROR;
		return;
	}
	s->first_psn = qp->req.psn;
	s->last_psn = sodp_psn_add(qp->req.psn, SODP_PSN_MASK);
	s->state = SODP_SWQE_DONE;
}

/* PSNs a WQE occupies. */
static u32 sodp_swqe_npkts(struct sodp_qp *qp, struct sodp_swqe *s)
{
	if (sodp_wr_is_atomic(s->opcode) || !s->length)
		return 1;
	return DIV_ROUND_UP(s->length, sodp_qp_mtu(qp));
}

static u8 sodp_req_opcode(struct sodp_swqe *s, bool first, bool last)
{
	switch (s->opcode) {
	case IB_WR_SEND:
	case IB_WR_SEND_WITH_IMM:
	case IB_WR_SEND_WITH_INV:
		if (!last)
			return first ? SODP_OP_SEND_FIRST : SODP_OP_SEND_MIDDLE;
		if (s->opcode == IB_WR_SEND_WITH_IMM)
			return first ? SODP_OP_SEND_ONLY_IMM :
				       SODP_OP_SEND_LAST_IMM;
		if (s->opcode == IB_WR_SEND_WITH_INV)
			return first ? SODP_OP_SEND_ONLY_INV :
				       SODP_OP_SEND_LAST_INV;
		return first ? SODP_OP_SEND_ONLY : SODP_OP_SEND_LAST;
	case IB_WR_RDMA_WRITE:
	case IB_WR_RDMA_WRITE_WITH_IMM:
		if (!last)
			return first ? SODP_OP_WRITE_FIRST :
				       SODP_OP_WRITE_MIDDLE;
		if (s->opcode == IB_WR_RDMA_WRITE_WITH_IMM)
			return first ? SODP_OP_WRITE_ONLY_IMM :
				       SODP_OP_WRITE_LAST_IMM;
		return first ? SODP_OP_WRITE_ONLY : SODP_OP_WRITE_LAST;
	case IB_WR_RDMA_READ:
		return SODP_OP_READ_REQUEST;
	case SODP_WR_ATOMIC_WRITE:
		return SODP_OP_ATOMIC_WRITE;
	case SODP_WR_FLUSH:
		return SODP_OP_FLUSH;
	case IB_WR_ATOMIC_CMP_AND_SWP:
		return SODP_OP_CMP_SWAP;
	default:
		return SODP_OP_FETCH_ADD;
	}
}

/*
 * Send the next packet of @s.  Return: 1 when @s is fully sent, 0 when
 * more packets follow, negative on a local error (recorded in @s).
 */
static int sodp_req_packet(struct sodp_qp *qp, struct sodp_swqe *s)
{
	const struct sodp_opinfo *info;
	u32 mtu = sodp_qp_mtu(qp), psn = qp->req.psn;
	u32 resid = s->length - s->sent, pay = 0;
	bool first = !s->sent, last = true, ackreq, se;
	bool uc = sodp_qp_is_uc(qp);
	struct sk_buff *skb;
	u8 opcode;
	int ret;

	if (!sodp_wr_is_rd_atomic(s->opcode)) {
		pay = min(mtu, resid);
		last = resid <= mtu;
	} else if (s->opcode == IB_WR_RDMA_READ) {
		/* A retried READ asks only for what has not arrived. */
		psn = sodp_psn_add(s->first_psn, s->done / mtu);
	}
	opcode = sodp_req_opcode(s, first, last);
	if (uc)
		opcode |= SODP_OP_TRANSPORT_UC;
	info = sodp_op_info(opcode);
	/* UC is never acknowledged. */
	ackreq = !uc &&
		 (last || !((psn - s->first_psn + 1) % SODP_ACKREQ_EVERY) ||
		  sodp_psn_diff(psn + 1, qp->req.una) >= SODP_MAX_UNACKED);
	se = last && (s->send_flags & IB_SEND_SOLICITED) &&
	     (info->flags & (SODP_OPF_SEND | SODP_OPF_IMMDT));
	skb = sodp_pkt_new(qp, opcode, pay, psn, ackreq, se);
	if (skb) {
		void *hdr = skb->data;

		if (info->off_reth) {
			struct sodp_reth *reth = hdr + info->off_reth;

			u32 skip = s->opcode == IB_WR_RDMA_READ ? s->done : 0;

			reth->va = cpu_to_be64(s->remote_addr + skip);
			reth->rkey = cpu_to_be32(s->rkey);
			reth->len = cpu_to_be32(s->opcode == SODP_WR_FLUSH ?
						s->flush_len : s->length - skip);
		}
		if (info->off_feth)
			sodp_feth_init(hdr + info->off_feth, s->flush_type,
				       s->flush_level);
		if (info->off_atmeth) {
			struct sodp_atmeth *a = hdr + info->off_atmeth;

			a->va = cpu_to_be64(s->remote_addr);
			a->rkey = cpu_to_be32(s->rkey);
			if (s->opcode == IB_WR_ATOMIC_CMP_AND_SWP) {
				a->swap_add = cpu_to_be64(s->swap);
				a->compare = cpu_to_be64(s->compare_add);
			} else {
				a->swap_add = cpu_to_be64(s->compare_add);
			}
		}
		if (info->off_immdt)
			((struct sodp_immdt *)(hdr + info->off_immdt))->imm =
				(__force __be32)s->ex;
		if (info->off_ieth)
			((struct sodp_ieth *)(hdr + info->off_ieth))->rkey =
				cpu_to_be32(s->ex);
		if (s->opcode == SODP_WR_ATOMIC_WRITE) {
			memcpy(hdr + info->hdr_len, &s->compare_add, pay);
		} else if (pay && (s->send_flags & IB_SEND_INLINE)) {
			memcpy(hdr + info->hdr_len, s->inline_data + s->sent,
			       pay);
		} else if (pay) {
			ret = sodp_sge_copy(to_spd(qp->ibqp.pd), &qp->req.win,
					    s->sge, s->num_sge, s->sent,
					    hdr + info->hdr_len, pay, false);
			if (ret) {
				kfree_skb(skb);
				s->status = ret == -ENOSPC ? IB_WC_LOC_LEN_ERR :
					    IB_WC_LOC_PROT_ERR;
				s->state = SODP_SWQE_ERROR;
				return ret;
			}
		}
		sodp_pkt_send(qp, skb);
	}
	/*
	 * A lost packet (no route, no memory) is a drop: retransmitted (RC);
	 * on UC it is lost like one dropped on the wire.
	 */
	if (!uc)
		sodp_qp_arm_retrans(qp, false);
	if (sodp_wr_is_rd_atomic(s->opcode)) {
		s->sent = s->length;
		qp->req.psn = sodp_psn_add(s->first_psn,
					   sodp_swqe_npkts(qp, s));
		return 1;
	}
	s->sent += pay;
	qp->req.psn = sodp_psn_add(psn, 1);
	/* UC: nothing is ever outstanding. */
	if (uc)
		qp->req.una = qp->req.psn;
	return last;
}

/* Context: proc_lock held (work item). */
static void sodp_req_drained(struct sodp_qp *qp)
{
	WRITE_ONCE(qp->req.sqd, SODP_SQD_DRAINED);
	sodp_qp_dbg(qp, "send queue drained\n");
	if (qp->attr.en_sqd_async_notify)
		sodp_qp_event(qp, IB_EVENT_SQ_DRAINED);
}

/* SQD: every started WQE completed - the drain is over. */
static void sodp_req_check_drained(struct sodp_qp *qp)
{
	struct sodp_req *req = &qp->req;

	if (req->sqd == SODP_SQD_DRAINING && req->send == req->drain_end &&
	    qp->sq.q.index == req->send)
		sodp_req_drained(qp);
}

/* May the requester start the WQE at req.send (flow, queue, SQD)? */
static bool sodp_req_may_send(struct sodp_req *req)
{
	return req->flow == SODP_REQ_RUNNING && req->send != req->fetch &&
	       (req->sqd == SODP_SQD_NONE || req->send != req->drain_end);
}

/*
 * Datagram QPs: every WQE is one packet, complete once sent; no PSN
 * window, no answers to wait for.
 */
static void sodp_req_run_ud(struct sodp_qp *qp)
{
	struct sodp_req *req = &qp->req;
	unsigned int budget = SODP_REQ_BUDGET;

	while (sodp_req_may_send(req)) {
		struct sodp_swqe *s = sodp_swqe(qp, req->send);

		if (s->state == SODP_SWQE_PENDING) {
			if (!budget--) {
				sodp_qp_kick(qp);
				break;
			}
			s->first_psn = req->psn;
			s->last_psn = req->psn;
			s->state = sodp_ud_xmit(qp, s) ? SODP_SWQE_ERROR :
							 SODP_SWQE_DONE;
		}
		if (s->state == SODP_SWQE_ERROR) {
			req->flow = SODP_REQ_STOPPED;
			break;
		}
		req->send = (req->send + 1) & qp->sq.q.index_mask;
	}
	sodp_comp_advance(qp);
	sodp_req_check_drained(qp);
}

/**
 * sodp_req_run() - transmit what the send queue holds, within the windows
 * @qp: QP in RTS (or SQD, draining)
 *
 * Context: QP work item, proc_lock held.
 */
void sodp_req_run(struct sodp_qp *qp)
{
	struct sodp_req *req = &qp->req;
	u32 mask = qp->sq.q.index_mask;
	unsigned int budget = SODP_REQ_BUDGET;
	u32 max_rd = max_t(u32, qp->attr.max_rd_atomic, 1);

	lockdep_assert_held(&qp->proc_lock);
	sodp_req_fetch(qp);
	if (sodp_qp_is_ud(qp)) {
		sodp_req_run_ud(qp);
		return;
	}
	while (sodp_req_may_send(req)) {
		struct sodp_swqe *s = sodp_swqe(qp, req->send);
		int ret;

		if (s->state == SODP_SWQE_ERROR) {
			req->flow = SODP_REQ_STOPPED;
			break;
		}
		if (s->state == SODP_SWQE_DONE) {
			/* Answered before a go-back: nothing to resend. */
			req->psn = sodp_psn_add(s->last_psn, 1);
			req->send = (req->send + 1) & mask;
			continue;
		}
		if (!budget--) {
			sodp_qp_kick(qp);
			break;
		}
		if (sodp_psn_diff(req->psn, req->una) >= SODP_MAX_UNACKED)
			break;
		if (!s->sent && s->state == SODP_SWQE_PENDING) {
			/* Fence: earlier READs and atomics complete first. */
			if ((s->send_flags & IB_SEND_FENCE) && req->rd_atomic)
				break;
			if (sodp_wr_is_local(s->opcode)) {
				sodp_req_local(qp, s);
				if (s->state == SODP_SWQE_DONE)
					req->send = (req->send + 1) & mask;
				continue;
			}
			if (sodp_wr_is_rd_atomic(s->opcode) &&
			    req->rd_atomic >= max_rd)
				break;
			/* Same PSNs again when going back (deterministic). */
			s->first_psn = req->psn;
			s->last_psn = sodp_psn_add(req->psn,
						   sodp_swqe_npkts(qp, s) - 1);
		}
		ret = sodp_req_packet(qp, s);
		if (ret < 0) {
			req->flow = SODP_REQ_STOPPED;
			break;
		}
		if (ret) {
			/* UC: a message is complete once its last packet is out. */
			s->state = sodp_qp_is_uc(qp) ? SODP_SWQE_DONE :
						       SODP_SWQE_SENT;
			if (sodp_wr_is_rd_atomic(s->opcode))
				req->rd_atomic++;
			req->send = (req->send + 1) & mask;
		}
	}
	sodp_comp_advance(qp);
	sodp_req_check_drained(qp);
}

/**
 * sodp_req_drain() - start draining the send queue (RTS -> SQD)
 * @qp: QP
 *
 * The message being transmitted is finished; nothing after it starts
 * until the QP returns to RTS.  Once every started message has completed,
 * the work item raises IB_EVENT_SQ_DRAINED if en_sqd_async_notify is set.
 *
 * Context: proc_lock held.
 */
void sodp_req_drain(struct sodp_qp *qp)
{
	struct sodp_req *req = &qp->req;
	u32 end = req->send;

	lockdep_assert_held(&qp->proc_lock);
	if (req->send != req->fetch && sodp_swqe(qp, req->send)->sent)
		end = (end + 1) & qp->sq.q.index_mask;
	req->drain_end = end;
	WRITE_ONCE(req->sqd, SODP_SQD_DRAINING);
}

/**
 * sodp_req_resume() - leave SQD: the requester may start new messages
 * @qp: QP
 *
 * Context: proc_lock held.
 */
void sodp_req_resume(struct sodp_qp *qp)
{
	lockdep_assert_held(&qp->proc_lock);
	WRITE_ONCE(qp->req.sqd, SODP_SQD_NONE);
}

/**
 * sodp_req_init() - requester state for a QP entering RTS from RTR
 * @qp: QP
 *
 * Context: proc_lock held.
 */
void sodp_req_init(struct sodp_qp *qp)
{
	struct sodp_req *req = &qp->req;

	lockdep_assert_held(&qp->proc_lock);
	req->fetch = qp->sq.q.index;
	req->send = qp->sq.q.index;
	req->psn = qp->attr.sq_psn;
	req->una = qp->attr.sq_psn;
	req->rd_atomic = 0;
	req->retry = qp->attr.retry_cnt;
	req->rnr_retry = qp->attr.rnr_retry;
	req->flow = SODP_REQ_RUNNING;
	req->rewound = false;
	WRITE_ONCE(req->sqd, SODP_SQD_NONE);
}
