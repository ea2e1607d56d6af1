// SPDX-License-Identifier: GPL-2.0
/*
 * softodp: the completer - responses to send WQE completions.
 *
 * ACKs are cumulative: an ACK (or a READ response / ATOMIC ACK) for PSN p
 * acknowledges every SEND/WRITE that ended at or before p.  A READ or
 * ATOMIC covered by an ACK without its own response lost that response:
 * go back and retransmit.  NAKs: PSN sequence error -> retransmit from the
 * oldest incomplete WQE; RNR NAK -> wait the advertised time (at least
 * the responder's min_rnr_timer code) and retransmit, rnr_retry times
 * unless 7; other NAKs complete the WQE in error and the QP goes to ERR.
 * The retransmission timer (4.096 us * 2^timeout) retransmits retry_cnt
 * times, then completes with IB_WC_RETRY_EXC_ERR.
 *
 * WQEs complete strictly in order: sodp_comp_advance() retires the DONE
 * WQEs at the head of the SQ (a CQE if signaled) and the first errored
 * one (always a CQE), then asks for the error state.
 */
#include "cq.h"
#include "engine.h"
#include "mr.h"
#include "pkt.h"
#include "qp.h"
#include "queue.h"
#include "recv.h"
#include "wqe.h"

/* RNR NAK timer field -> microseconds (IBTA table 45). */
static const u32 sodp_rnr_usecs[32] = {
	655360, 10, 20, 30, 40, 60, 80, 120, 160, 240, 320, 480, 640, 960,
	1280, 1920, 2560, 3840, 5120, 7680, 10240, 15360, 20480, 30720,
	40960, 61440, 81920, 122880, 163840, 245760, 327680, 491520,
};

static void sodp_comp_post(struct sodp_qp *qp, struct sodp_swqe *s)
{
	struct ib_wc wc = {
		.wr_id = s->wr_id,
		.status = s->status,
		.opcode = sodp_wr_to_wc_opcode(s->opcode),
		.qp = &qp->ibqp,
		.port_num = 1,
	};

	if (!s->status && !qp->sig_all && !(s->send_flags & IB_SEND_SIGNALED))
		return;
	if (!s->status)
		wc.byte_len = s->length;
	sodp_cq_post(qp->scq, &wc, false);
}

static bool sodp_comp_outstanding(struct sodp_qp *qp)
{
	struct sodp_req *req = &qp->req;

	if (qp->sq.q.index != req->send)
		return true;
	return req->send != req->fetch && sodp_swqe(qp, req->send)->sent;
}

/**
 * sodp_comp_advance() - retire finished WQEs at the head of the SQ
 * @qp: QP
 *
 * Context: proc_lock held.
 */
void sodp_comp_advance(struct sodp_qp *qp)
{
	struct sodp_queue *q = &qp->sq.q;
	struct sodp_req *req = &qp->req;

	lockdep_assert_held(&qp->proc_lock);
	while (q->index != req->fetch) {
		struct sodp_swqe *s = sodp_swqe(qp, q->index);

		if (s->state != SODP_SWQE_DONE && s->state != SODP_SWQE_ERROR)
			break;
		if (s->state == SODP_SWQE_DONE && sodp_wr_is_rd_atomic(s->opcode) &&
		    req->rd_atomic)
			req->rd_atomic--;
		/*
		 * The WQE at req.send may be retired here: an errored one
		 * (being or never sent), or one answered before a go-back
		 * reached it again.
		 */
		if (q->index == req->send) {
			req->send = (req->send + 1) & q->index_mask;
			if (s->state == SODP_SWQE_DONE)
				req->psn = sodp_psn_add(s->last_psn, 1);
		}
		/*
		 * Free the ring slot before the completion can be seen: a
		 * consumer that posts again as soon as it polls the CQE (a
		 * send queue of one) must find room.  @s is the kernel's
		 * copy; only this work item refills it.
		 */
		sodp_queue_dev_advance(q);
		/* ERR before the error completion can be polled. */
		if (s->status)
			WRITE_ONCE(qp->need_err, true);
		sodp_comp_post(qp, s);
		if (s->status) {
			req->flow = SODP_REQ_STOPPED;
			break;
		}
	}
	if (!sodp_comp_outstanding(qp))
		sodp_qp_stop_retrans(qp);
}

/*
 * Go back to the oldest incomplete WQE and send everything again.
 * @timeout: the retransmission timer expired (always acted on); other
 * triggers are ignored while the previous go-back has not made progress,
 * so that a burst of stale NAKs, gaps or ACKs from the old round cannot
 * restart the window again and again.
 */
static void sodp_comp_rewind(struct sodp_qp *qp, bool timeout)
{
	struct sodp_queue *q = &qp->sq.q;
	struct sodp_req *req = &qp->req;
	struct sodp_swqe *head;
	u32 i, end;

	if (!sodp_comp_outstanding(qp) || (req->rewound && !timeout))
		return;
	req->rewound = true;
	sodp_stat_inc(sodp_qp_dev(qp)->stats, SODP_STAT_RETRANS);
	end = req->send == req->fetch ? req->send :
	      (req->send + 1) & q->index_mask;
	head = sodp_swqe(qp, q->index);
	sodp_qp_dbg(qp, "go back to PSN %u (%s), una %u\n", head->first_psn,
		    timeout ? "timeout" : "loss", req->una);
	req->psn = head->first_psn;
	/* DONE ones (not yet retired) stay done and count until retired. */
	req->rd_atomic = 0;
	for (i = q->index; i != end; i = (i + 1) & q->index_mask) {
		struct sodp_swqe *s = sodp_swqe(qp, i);

		if (s->state == SODP_SWQE_ERROR)
			break;
		if (s->state == SODP_SWQE_DONE) {
			if (sodp_wr_is_rd_atomic(s->opcode))
				req->rd_atomic++;
			continue;
		}
		/* READ responses placed so far stay: the request resumes. */
		s->sent = 0;
		s->state = SODP_SWQE_PENDING;
	}
	/* A SEND/WRITE resumes at the first unacknowledged packet. */
	if (!sodp_wr_is_rd_atomic(head->opcode) &&
	    head->state == SODP_SWQE_PENDING &&
	    sodp_psn_diff(req->una, head->first_psn) > 0 &&
	    sodp_psn_diff(req->una, head->last_psn) <= 0) {
		head->sent = sodp_psn_diff(req->una, head->first_psn) *
			     sodp_qp_mtu(qp);
		req->psn = req->una;
	}
	req->send = q->index;
	if (req->flow == SODP_REQ_STOPPED)
		req->flow = SODP_REQ_RUNNING;	/* re-stops at an errored WQE */
	sodp_qp_arm_retrans(qp, true);
}

static void sodp_comp_progress(struct sodp_qp *qp, u32 psn)
{
	u32 next = sodp_psn_add(psn, 1);

	if (sodp_psn_diff(next, qp->req.una) > 0) {
		/*
		 * A timer that expired while this answer waited in the rxq
		 * (the work item runs the rxq first) is stale: going back
		 * now would resend what the peer already has.
		 */
		clear_bit(SODP_EV_RETRANS, &qp->events);
		qp->req.una = next;
		qp->req.rewound = false;
		qp->req.retry = qp->attr.retry_cnt;
		qp->req.rnr_retry = qp->attr.rnr_retry;
		sodp_qp_arm_retrans(qp, true);
	}
}

/*
 * Cumulative acknowledgement of everything up to @psn.  Return: false if
 * a READ/ATOMIC was covered without its response (the caller rewinds).
 */
static bool sodp_comp_ack_upto(struct sodp_qp *qp, u32 psn)
{
	struct sodp_queue *q = &qp->sq.q;
	struct sodp_req *req = &qp->req;
	u32 i;

	for (i = q->index; i != req->send; i = (i + 1) & q->index_mask) {
		struct sodp_swqe *s = sodp_swqe(qp, i);

		if (sodp_psn_diff(psn, s->last_psn) < 0)
			break;
		if (s->state == SODP_SWQE_DONE || s->state == SODP_SWQE_ERROR)
			continue;
		if (sodp_wr_is_rd_atomic(s->opcode))
			return false;
		s->state = SODP_SWQE_DONE;
	}
	sodp_comp_progress(qp, psn);
	return true;
}

/* The sent WQE whose PSN range holds @psn, or NULL. */
static struct sodp_swqe *sodp_comp_find(struct sodp_qp *qp, u32 psn)
{
	struct sodp_queue *q = &qp->sq.q;
	u32 i;

	for (i = q->index; i != qp->req.send; i = (i + 1) & q->index_mask) {
		struct sodp_swqe *s = sodp_swqe(qp, i);

		if (sodp_psn_diff(psn, s->first_psn) >= 0 &&
		    sodp_psn_diff(psn, s->last_psn) <= 0)
			return s;
	}
	return NULL;
}

static void sodp_comp_fail(struct sodp_qp *qp, struct sodp_swqe *s, u8 status)
{
	if (s->state == SODP_SWQE_ERROR)
		return;
	sodp_qp_dbg(qp, "WQE at PSN %u fails: %s\n", s->first_psn,
		    ib_wc_status_msg(status));
	s->status = status;
	s->state = SODP_SWQE_ERROR;
	qp->req.flow = SODP_REQ_STOPPED;
}

static void sodp_comp_nak(struct sodp_qp *qp, u32 psn, u8 syndrome)
{
	struct sodp_req *req = &qp->req;
	struct sodp_swqe *s;
	u8 status;

	/* A NAK for PSN p acknowledges p - 1. */
	if (!sodp_comp_ack_upto(qp, sodp_psn_add(psn, SODP_PSN_MASK))) {
		sodp_comp_rewind(qp, false);
		return;
	}
	s = sodp_comp_find(qp, psn);
	sodp_qp_dbg(qp, "NAK syndrome 0x%x at PSN %u%s\n", syndrome, psn,
		    s ? "" : " (no WQE)");
	if ((syndrome & SODP_AETH_TYPE_MASK) == SODP_AETH_RNR_NAK) {
		if (!s)
			return;
		if (req->rnr_retry != 7) {
			if (!req->rnr_retry) {
				sodp_comp_fail(qp, s, IB_WC_RNR_RETRY_EXC_ERR);
				return;
			}
			req->rnr_retry--;
		}
		sodp_comp_rewind(qp, true);
		req->flow = SODP_REQ_RNR_WAIT;
		sodp_qp_arm_rnr(qp, sodp_rnr_usecs[syndrome &
						   SODP_AETH_VALUE_MASK]);
		return;
	}
	switch (syndrome & SODP_AETH_VALUE_MASK) {
	case SODP_NAK_PSN_SEQ_ERR:
		sodp_comp_rewind(qp, false);
		return;
	case SODP_NAK_INVALID_REQ:
		status = IB_WC_REM_INV_REQ_ERR;
		break;
	case SODP_NAK_REM_ACCESS_ERR:
		status = IB_WC_REM_ACCESS_ERR;
		break;
	case SODP_NAK_INVALID_RD_REQ:
		status = IB_WC_REM_INV_RD_REQ_ERR;
		break;
	default:
		status = IB_WC_REM_OP_ERR;
		break;
	}
	if (s)
		sodp_comp_fail(qp, s, status);
}

/*
 * FLUSH, and ATOMIC_WRITE from a responder that answers it this way (stock
 * rxe does): a READ response without data, at the request's PSN.
 */
static void sodp_comp_empty_resp(struct sodp_qp *qp, struct sk_buff *skb,
				 struct sodp_swqe *s)
{
	struct sodp_pkt *pkt = sodp_pkt(skb);

	if (s->state != SODP_SWQE_SENT || pkt->psn != s->first_psn)
		return;
	if (pkt->paylen || (pkt->info->flags & SODP_OPF_ONLY) !=
	    SODP_OPF_ONLY) {
		sodp_comp_fail(qp, s, IB_WC_BAD_RESP_ERR);
		return;
	}
	s->state = SODP_SWQE_DONE;
	sodp_comp_progress(qp, pkt->psn);
}

static void sodp_comp_read_resp(struct sodp_qp *qp, struct sk_buff *skb,
				struct sodp_swqe *s)
{
	struct sodp_pkt *pkt = sodp_pkt(skb);
	u32 mtu = sodp_qp_mtu(qp);
	u32 expect = sodp_psn_add(s->first_psn, s->done / mtu);
	u32 pay = pkt->paylen;
	int ret;

	if (s->opcode == SODP_WR_FLUSH || s->opcode == SODP_WR_ATOMIC_WRITE) {
		sodp_comp_empty_resp(qp, skb, s);
		return;
	}
	if (s->opcode != IB_WR_RDMA_READ || s->state != SODP_SWQE_SENT)
		return;
	if (pkt->psn != expect) {
		if (sodp_psn_diff(pkt->psn, expect) > 0)
			sodp_comp_rewind(qp, false);	/* a response was lost */
		return;
	}
	if (!(pkt->info->flags & SODP_OPF_LAST) ? pay != mtu :
	    s->done + pay != s->length) {
		sodp_comp_fail(qp, s, IB_WC_BAD_RESP_ERR);
		return;
	}
	ret = sodp_sge_copy(to_spd(qp->ibqp.pd), &qp->req.comp_win, s->sge,
			    s->num_sge, s->done, sodp_pkt_payload(skb), pay,
			    true);
	if (ret) {
		sodp_comp_fail(qp, s, ret == -ENOSPC ? IB_WC_LOC_LEN_ERR :
				      IB_WC_LOC_PROT_ERR);
		return;
	}
	s->done += pay;
	/* Each response in order is forward progress. */
	sodp_comp_progress(qp, pkt->psn);
	if (pkt->info->flags & SODP_OPF_LAST)
		s->state = SODP_SWQE_DONE;
}

static void sodp_comp_atomic_ack(struct sodp_qp *qp, struct sk_buff *skb,
				 struct sodp_swqe *s)
{
	struct sodp_pkt *pkt = sodp_pkt(skb);
	struct sodp_atmack *a = sodp_pkt_hdr(skb, pkt->info->off_atmack);
	u64 orig = be64_to_cpu(a->orig);
	int ret;

	if (!sodp_wr_is_atomic(s->opcode) ||
	    s->state != SODP_SWQE_SENT || pkt->psn != s->first_psn)
		return;
	ret = sodp_sge_copy(to_spd(qp->ibqp.pd), NULL, s->sge, s->num_sge, 0,
			    &orig, sizeof(orig), true);
	if (ret) {
		sodp_comp_fail(qp, s, ret == -ENOSPC ? IB_WC_LOC_LEN_ERR :
				      IB_WC_LOC_PROT_ERR);
		return;
	}
	s->state = SODP_SWQE_DONE;
	sodp_comp_progress(qp, pkt->psn);
}

/**
 * sodp_comp_rx() - process one response packet
 * @qp: QP
 * @skb: ACK, READ response or ATOMIC ACK (not consumed)
 *
 * Context: QP work item, proc_lock held.
 */
void sodp_comp_rx(struct sodp_qp *qp, struct sk_buff *skb)
{
	struct sodp_pkt *pkt = sodp_pkt(skb);
	const struct sodp_opinfo *info = pkt->info;
	u32 psn = pkt->psn;
	struct sodp_swqe *s;
	u8 syndrome = 0;

	lockdep_assert_held(&qp->proc_lock);
	if (!sodp_pkt_icrc_ok(qp, skb))
		return;
	/* Only PSNs we sent and that are not yet acknowledged matter. */
	if (sodp_psn_diff(psn, qp->req.una) < 0 ||
	    sodp_psn_diff(psn, qp->req.psn) >= 0)
		return;
	if (info->off_aeth)
		syndrome = sodp_aeth_syndrome(sodp_pkt_hdr(skb, info->off_aeth));

	if (info->flags & (SODP_OPF_READ | SODP_OPF_ATMACK)) {
		/* Everything before the response's WQE is acknowledged. */
		s = sodp_comp_find(qp, psn);
		if (!s)
			return;
		if (s->first_psn != qp->req.una &&
		    !sodp_comp_ack_upto(qp, sodp_psn_add(s->first_psn,
							  SODP_PSN_MASK))) {
			sodp_comp_rewind(qp, false);
			return;
		}
		if (info->flags & SODP_OPF_READ)
			sodp_comp_read_resp(qp, skb, s);
		else
			sodp_comp_atomic_ack(qp, skb, s);
	} else if ((syndrome & SODP_AETH_TYPE_MASK) == SODP_AETH_ACK) {
		if (!sodp_comp_ack_upto(qp, psn))
			sodp_comp_rewind(qp, false);
	} else {
		sodp_comp_nak(qp, psn, syndrome);
	}
	sodp_comp_advance(qp);
}

/**
 * sodp_comp_timers() - act on expired retransmission / RNR timers
 * @qp: QP
 *
 * Context: QP work item, proc_lock held.
 */
void sodp_comp_timers(struct sodp_qp *qp)
{
	struct sodp_req *req = &qp->req;

	lockdep_assert_held(&qp->proc_lock);
	if (test_and_clear_bit(SODP_EV_RNR, &qp->events) &&
	    req->flow == SODP_REQ_RNR_WAIT)
		req->flow = SODP_REQ_RUNNING;
	if (!test_and_clear_bit(SODP_EV_RETRANS, &qp->events) ||
	    !sodp_comp_outstanding(qp) || req->flow == SODP_REQ_RNR_WAIT)
		return;
	sodp_stat_inc(sodp_qp_dev(qp)->stats, SODP_STAT_TIMEOUTS);
	if (!req->retry) {
		sodp_qp_dbg(qp, "retransmission retries exhausted\n");
		sodp_comp_fail(qp, sodp_swqe(qp, qp->sq.q.index),
			       IB_WC_RETRY_EXC_ERR);
		/* It may be the WQE being sent: count it as sent. */
		sodp_comp_advance(qp);
		return;
	}
	req->retry--;
	sodp_comp_rewind(qp, true);
}
