// SPDX-License-Identifier: GPL-2.0
/*
 * softodp: the responder - request packets to memory, receive
 * completions and responses.
 *
 * PSN rules (IBTA 9.7.5.1): the expected PSN (epsn) is executed; a PSN
 * before it is a duplicate (SEND/WRITE: acknowledged again; READ: executed
 * again from the request's RETH if a responder resource covers it; ATOMIC:
 * the saved result is sent again, never executed twice); a PSN after it
 * gets one PSN sequence error NAK until epsn arrives.
 *
 * Responder resources: a ring of max_dest_rd_atomic entries (at least
 * one) remembering the PSN ranges of executed READs and the original
 * values of executed ATOMICs.
 *
 * Receive WQEs: an RQ WQE is copied (clamped) into resp.rwqe and keeps
 * its ring slot until it completes; an SRQ WQE is taken from the shared
 * ring at once (under srq->lock).  No WQE for a SEND or RDMA WRITE with
 * immediate: RNR NAK with min_rnr_timer.  So is a SEND or WRITE whose
 * ODP pages take long to fault in (resp_fault.c).
 *
 * UC QPs share these paths without acknowledgements, RNR or NAKs: a
 * message that cannot be taken is dropped (sodp_resp_uc_drop()).
 *
 * Remote keys name a region or a memory window: sodp_rkey_lookup() (mw.c)
 * resolves both to the region whose bytes are accessed.
 *
 * Errors: bad rkey/range/rights -> NAK remote access error; malformed or
 * unsupported requests -> NAK invalid request; a receive WQE that cannot
 * take the data -> its completion in error and NAK remote operation error
 * (invalid request if too short).  These move the QP to ERR.
 */
#include "cq.h"
#include "engine.h"
#include "mr.h"
#include "mw.h"
#include "pkt.h"
#include "qp.h"
#include "queue.h"
#include "recv.h"
#include "srq.h"

#define SODP_ACK_SYNDROME	(SODP_AETH_ACK | SODP_AETH_CREDITS_INVALID)

/* READ response packets built per run of the work item. */
#define SODP_READ_BUDGET	64

static bool sodp_resp_replies_run(struct sodp_qp *qp, unsigned int budget);

/* Send every pending READ response now: something must follow them. */
static void sodp_resp_replies_drain(struct sodp_qp *qp)
{
	if (!list_empty(&qp->resp.replies))
		sodp_resp_replies_run(qp, UINT_MAX);
}

static void sodp_resp_ack(struct sodp_qp *qp, u8 syndrome, u32 psn)
{
	/* Responses go out in PSN order: earlier READ responses first. */
	sodp_resp_replies_drain(qp);
	sodp_pkt_send_ack(qp, SODP_OP_ACK, psn, syndrome, qp->resp.msn, 0);
}

/**
 * sodp_resp_flush_ack() - continue READ responses, then send the coalesced
 *	acknowledgement, if owed
 * @qp: QP
 *
 * At most SODP_READ_BUDGET READ response packets are built per call; with
 * more to send, the work item runs again and the acknowledgement (a later
 * PSN) waits for them.
 *
 * Context: QP work item, proc_lock held.
 */
void sodp_resp_flush_ack(struct sodp_qp *qp)
{
	lockdep_assert_held(&qp->proc_lock);
	if (!sodp_resp_replies_run(qp, SODP_READ_BUDGET)) {
		sodp_qp_kick(qp);
		return;
	}
	if (!qp->resp.ack_pending)
		return;
	qp->resp.ack_pending = false;
	sodp_resp_ack(qp, SODP_ACK_SYNDROME,
		      sodp_psn_add(qp->resp.epsn, SODP_PSN_MASK));
}

/*
 * UC: the message in progress is dropped, and every packet after it until
 * one starts a new message (sodp_resp_uc_accept()).  No NAK, no error.
 */
static void sodp_resp_uc_drop(struct sodp_qp *qp, const char *why)
{
	sodp_qp_dbg(qp, "UC message dropped at PSN %u: %s\n", qp->resp.epsn,
		    why);
	qp->resp.uc_drop = true;
	qp->resp.cur = 0;
}

/*
 * NAK that ends the connection: the QP goes to ERR after this work run.
 * UC has no NAKs: the message is dropped and the QP carries on (unless the
 * caller already asked for ERR).
 */
static void sodp_resp_fatal(struct sodp_qp *qp, u8 code, u32 psn)
{
	if (sodp_qp_is_uc(qp)) {
		sodp_resp_uc_drop(qp, "request error");
		return;
	}
	sodp_qp_dbg(qp, "NAK %u at PSN %u\n", code, psn);
	qp->resp.ack_pending = false;
	sodp_resp_ack(qp, SODP_AETH_NAK | code, psn);
	sodp_qp_event(qp, code == SODP_NAK_REM_ACCESS_ERR ?
		      IB_EVENT_QP_ACCESS_ERR : IB_EVENT_QP_REQ_ERR);
	WRITE_ONCE(qp->need_err, true);
}

/* ---- receive WQEs ------------------------------------------------------ */

static void sodp_resp_copy_wqe(struct sodp_qp *qp, struct rxe_recv_wqe *w,
			       u32 max_sge)
{
	struct rxe_recv_wqe *r = qp->resp.rwqe;
	u32 n = READ_ONCE(w->dma.num_sge), i;
	u64 len = 0;

	r->wr_id = READ_ONCE(w->wr_id);
	/* A list longer than the queue allows takes nothing (length error). */
	if (n > max_sge)
		n = 0;
	memcpy(r->dma.sge, w->dma.sge, n * sizeof(struct rxe_sge));
	for (i = 0; i < n; i++)
		len += r->dma.sge[i].length;
	r->dma.num_sge = n;
	r->dma.length = min_t(u64, len, SODP_MAX_MSG_SZ);
}

/**
 * sodp_resp_get_wqe() - make resp.rwqe hold a receive WQE
 * @qp: QP
 *
 * An RQ WQE keeps its ring slot until it completes; an SRQ WQE is taken
 * from the shared ring at once.
 *
 * Context: proc_lock held.
 * Return: 0, or -EAGAIN if there is none.
 */
int sodp_resp_get_wqe(struct sodp_qp *qp)
{
	struct sodp_resp *resp = &qp->resp;
	struct sodp_srq *srq = qp->srq;
	unsigned long flags;

	if (resp->have_wqe)
		return 0;
	if (srq) {
		spin_lock_irqsave(&srq->lock, flags);
		if (!sodp_queue_count(&srq->q)) {
			spin_unlock_irqrestore(&srq->lock, flags);
			return -EAGAIN;
		}
		sodp_resp_copy_wqe(qp, sodp_queue_dev_elem(&srq->q),
				   srq->max_sge);
		sodp_queue_dev_advance(&srq->q);
		spin_unlock_irqrestore(&srq->lock, flags);
		sodp_srq_consumed(srq);
		resp->rwqe_from_rq = false;
	} else {
		if (!sodp_queue_count(&qp->rq.q))
			return -EAGAIN;
		sodp_resp_copy_wqe(qp, sodp_queue_dev_elem(&qp->rq.q),
				   qp->rq.max_sge);
		resp->rwqe_from_rq = true;
	}
	resp->have_wqe = true;
	resp->offset = 0;
	return 0;
}

/**
 * sodp_resp_complete() - complete resp.rwqe into the receive CQ
 * @qp: QP holding a receive WQE (sodp_resp_get_wqe())
 * @wc: the completion: status, opcode, length, flags and (UD) source QP;
 *	the rest is filled in here
 * @se: the message asked for a solicited event
 *
 * Context: proc_lock held.
 */
void sodp_resp_complete(struct sodp_qp *qp, struct ib_wc *wc, bool se)
{
	struct sodp_resp *resp = &qp->resp;

	wc->wr_id = resp->rwqe->wr_id;
	wc->qp = &qp->ibqp;
	if (!sodp_qp_is_ud(qp))
		wc->src_qp = qp->attr.dest_qp_num;
	wc->port_num = 1;
	if (resp->rwqe_from_rq)
		sodp_queue_dev_advance(&qp->rq.q);
	resp->have_wqe = false;
	sodp_cq_post(qp->rcq ? qp->rcq : to_scq(qp->ibqp.recv_cq), wc, se);
}

/**
 * sodp_resp_drop_wqe() - flush a receive WQE taken from an SRQ
 * @qp: QP going to the error state
 *
 * RQ WQEs are still in their ring and flushed from there.
 *
 * Context: proc_lock held.
 */
void sodp_resp_drop_wqe(struct sodp_qp *qp)
{
	struct ib_wc wc = {
		.status = IB_WC_WR_FLUSH_ERR,
		.opcode = IB_WC_RECV,
	};

	lockdep_assert_held(&qp->proc_lock);
	if (!qp->resp.have_wqe)
		return;
	if (qp->resp.rwqe_from_rq) {
		qp->resp.have_wqe = false;
		return;
	}
	sodp_resp_complete(qp, &wc, false);
}

static void sodp_resp_wqe_error(struct sodp_qp *qp, int err, u32 psn)
{
	struct ib_wc wc = {
		.opcode = IB_WC_RECV,
		.status = err == -ENOSPC ? IB_WC_LOC_LEN_ERR :
					   IB_WC_LOC_PROT_ERR,
	};

	WRITE_ONCE(qp->need_err, true);	/* ERR before the CQE is seen */
	sodp_resp_complete(qp, &wc, false);
	sodp_resp_fatal(qp, err == -ENOSPC ? SODP_NAK_INVALID_REQ :
			SODP_NAK_REM_OP_ERR, psn);
}

/*
 * Receiver not ready for @psn: the requester resends from it after its RNR
 * wait.  Packets it sent after @psn meanwhile are dropped without the PSN
 * sequence NAK (nak_sent), which would end that wait early.
 */
static void sodp_resp_rnr_nak(struct sodp_qp *qp, u32 psn)
{
	sodp_stat_inc(sodp_qp_dev(qp)->stats, SODP_STAT_RNR_NAK_SENT);
	qp->resp.ack_pending = false;
	qp->resp.nak_sent = true;
	sodp_resp_ack(qp, SODP_AETH_RNR_NAK |
		      (qp->attr.min_rnr_timer & SODP_AETH_VALUE_MASK), psn);
}

static int sodp_resp_need_wqe(struct sodp_qp *qp, u32 psn)
{
	if (!sodp_resp_get_wqe(qp))
		return 0;
	/* UC has no RNR: the message is dropped. */
	if (sodp_qp_is_uc(qp)) {
		sodp_stat_inc(sodp_qp_dev(qp)->stats, SODP_STAT_RX_DROP_NO_RWQE);
		sodp_resp_uc_drop(qp, "no receive WQE");
		return -EAGAIN;
	}
	sodp_resp_rnr_nak(qp, psn);
	return -EAGAIN;
}

/*
 * The receive WQE's entries that the next @len bytes of a SEND at message
 * offset @offset land in, at the start of each fault window of an entry:
 * are their ODP pages there (resp_fault.c)?  Return: 0 to go on, -EAGAIN
 * when a fault still runs (RNR NAK sent).
 */
static int sodp_resp_send_ready(struct sodp_qp *qp, u32 offset, u32 len,
				u32 psn)
{
	const struct rxe_recv_wqe *r = qp->resp.rwqe;
	struct sodp_dev *sdev = sodp_qp_dev(qp);
	u32 i;

	for (i = 0; i < r->dma.num_sge && len; i++) {
		const struct rxe_sge *sge = &r->dma.sge[i];
		struct sodp_mr *mr;
		u32 seg;
		int ret;

		if (offset >= sge->length) {
			offset -= sge->length;
			continue;
		}
		seg = min(len, sge->length - offset);
		if (!(offset % SODP_ODP_FAULT_WINDOW)) {
			/* Bad keys are the copy's to report. */
			mr = sodp_mr_lookup_checked(sdev, to_spd(qp->ibqp.pd),
						    sge->lkey,
						    sge->addr + offset, seg,
						    IB_ACCESS_LOCAL_WRITE);
			if (IS_ERR(mr))
				return 0;
			ret = sodp_resp_fault_ready(qp, mr, sge->addr + offset,
						    sge->length - offset, true,
						    false);
			sodp_mr_put(mr);
			if (ret) {
				sodp_resp_rnr_nak(qp, psn);
				return ret;
			}
		}
		len -= seg;
		offset = 0;
	}
	return 0;
}

/* Immediate data / invalidate fields of a last packet, into @wc. */
static void sodp_resp_wc_ext(struct sk_buff *skb, struct ib_wc *wc)
{
	const struct sodp_opinfo *info = sodp_pkt(skb)->info;

	if (info->off_immdt) {
		struct sodp_immdt *i = sodp_pkt_hdr(skb, info->off_immdt);

		wc->ex.imm_data = i->imm;
		wc->wc_flags |= IB_WC_WITH_IMM;
	}
	if (info->off_ieth) {
		struct sodp_ieth *i = sodp_pkt_hdr(skb, info->off_ieth);

		wc->ex.invalidate_rkey = be32_to_cpu(i->rkey);
		wc->wc_flags |= IB_WC_WITH_INVALIDATE;
	}
}

/*
 * SEND with invalidate: the rkey must name a valid fast-reg region of the
 * QP's PD, or a type 2 memory window bound to this QP.  Return: 0 or a
 * negative errno (the request is invalid).
 */
static int sodp_resp_invalidate(struct sodp_qp *qp, u32 rkey)
{
	int ret;

	if (sodp_key_is_mw(rkey))
		ret = sodp_mw_invalidate(qp, rkey, true);
	else
		ret = sodp_mr_invalidate(sodp_qp_dev(qp), to_spd(qp->ibqp.pd),
					 rkey);
	if (ret)
		sodp_qp_dbg(qp, "SEND with invalidate of rkey 0x%x: %d\n",
			    rkey, ret);
	return ret;
}

/* ---- operations -------------------------------------------------------- */

static int sodp_resp_send(struct sodp_qp *qp, struct sk_buff *skb)
{
	struct sodp_pkt *pkt = sodp_pkt(skb);
	struct sodp_resp *resp = &qp->resp;
	struct rxe_recv_wqe *r = resp->rwqe;
	int ret;

	if (sodp_resp_need_wqe(qp, pkt->psn) ||
	    sodp_resp_send_ready(qp, resp->offset, pkt->paylen, pkt->psn))
		return -EAGAIN;
	ret = sodp_sge_copy(to_spd(qp->ibqp.pd), &resp->win, r->dma.sge,
			    r->dma.num_sge, resp->offset, sodp_pkt_payload(skb),
			    pkt->paylen, true);
	if (ret) {
		sodp_resp_wqe_error(qp, ret, pkt->psn);
		return ret;
	}
	resp->offset += pkt->paylen;
	if (pkt->info->flags & SODP_OPF_LAST) {
		struct ib_wc wc = {
			.opcode = IB_WC_RECV,
			.byte_len = resp->offset,
		};

		sodp_resp_wc_ext(skb, &wc);
		if ((wc.wc_flags & IB_WC_WITH_INVALIDATE) &&
		    sodp_resp_invalidate(qp, wc.ex.invalidate_rkey)) {
			/* The data was placed; the request itself is bad. */
			wc.status = IB_WC_REM_INV_REQ_ERR;
			WRITE_ONCE(qp->need_err, true);
			sodp_resp_complete(qp, &wc, false);
			sodp_resp_fatal(qp, SODP_NAK_INVALID_REQ, pkt->psn);
			return -EINVAL;
		}
		sodp_resp_complete(qp, &wc, sodp_pkt_se(skb));
	}
	return 0;
}

static int sodp_resp_write(struct sodp_qp *qp, struct sk_buff *skb)
{
	struct sodp_pkt *pkt = sodp_pkt(skb);
	const struct sodp_opinfo *info = pkt->info;
	struct sodp_resp *resp = &qp->resp;
	struct sodp_mr *mr;
	int ret;

	if (info->off_reth) {
		struct sodp_reth *reth = sodp_pkt_hdr(skb, info->off_reth);
		u64 va = be64_to_cpu(reth->va);
		u32 len = be32_to_cpu(reth->len);

		if (len > SODP_MAX_MSG_SZ) {
			sodp_resp_fatal(qp, SODP_NAK_INVALID_REQ, pkt->psn);
			return -EINVAL;
		}
		resp->write_va = va;
		resp->write_rkey = be32_to_cpu(reth->rkey);
		resp->write_resid = len;
		resp->write_len = len;
		/* The whole message is checked at its first packet. */
		if (len) {
			mr = sodp_rkey_lookup(qp, resp->write_rkey, va, len,
					      IB_ACCESS_REMOTE_WRITE);
			if (IS_ERR(mr)) {
				sodp_resp_fatal(qp, SODP_NAK_REM_ACCESS_ERR,
						pkt->psn);
				return PTR_ERR(mr);
			}
			sodp_mr_put(mr);
		}
	}
	if (pkt->paylen > resp->write_resid ||
	    ((info->flags & SODP_OPF_LAST) &&
	     pkt->paylen != resp->write_resid)) {
		sodp_resp_fatal(qp, SODP_NAK_INVALID_REQ, pkt->psn);
		return -EINVAL;
	}
	if ((info->flags & SODP_OPF_IMMDT) && sodp_resp_need_wqe(qp, pkt->psn))
		return -EAGAIN;
	if (pkt->paylen) {
		/* The key may have gone since the first packet. */
		mr = sodp_rkey_lookup(qp, resp->write_rkey, resp->write_va,
				      pkt->paylen, IB_ACCESS_REMOTE_WRITE);
		if (IS_ERR(mr)) {
			sodp_resp_fatal(qp, SODP_NAK_REM_ACCESS_ERR, pkt->psn);
			return PTR_ERR(mr);
		}
		/*
		 * The start of the message, or of a new window of it: its
		 * ODP pages, or an RNR NAK while a slow fault runs.
		 */
		if (!((resp->write_len - resp->write_resid) %
		      SODP_ODP_FAULT_WINDOW) &&
		    sodp_resp_fault_ready(qp, mr, resp->write_va,
					  resp->write_resid, true, true)) {
			sodp_mr_put(mr);
			sodp_resp_rnr_nak(qp, pkt->psn);
			return -EAGAIN;
		}
		ret = sodp_mr_copy(mr, &resp->win, resp->write_va,
				   sodp_pkt_payload(skb), pkt->paylen, true);
		sodp_mr_put(mr);
		if (ret) {
			sodp_resp_fatal(qp, SODP_NAK_REM_ACCESS_ERR, pkt->psn);
			return ret;
		}
	}
	resp->write_va += pkt->paylen;
	resp->write_resid -= pkt->paylen;
	if (info->flags & SODP_OPF_IMMDT) {
		struct ib_wc wc = {
			.opcode = IB_WC_RECV_RDMA_WITH_IMM,
			.byte_len = resp->write_len,
		};

		sodp_resp_wc_ext(skb, &wc);
		sodp_resp_complete(qp, &wc, sodp_pkt_se(skb));
	}
	return 0;
}

/* Forget every pending READ response (the QP is going to ERR). */
static void sodp_resp_replies_clear(struct sodp_qp *qp)
{
	while (!list_empty(&qp->resp.replies))
		list_del_init(qp->resp.replies.next);
}

/*
 * Send the next READ responses of @res, at most *@budget of them.
 * Return: true when @res has nothing more to send (or failed: fatal NAK).
 */
static bool sodp_resp_reply_some(struct sodp_qp *qp, struct sodp_res *res,
				 unsigned int *budget)
{
	u32 mtu = sodp_qp_mtu(qp), len = res->reply_len;
	u32 npkts = len ? DIV_ROUND_UP(len, mtu) : 1;
	struct sodp_mr *mr = NULL;

	if (len) {
		/* The key may have gone since the request was checked. */
		mr = sodp_rkey_lookup(qp, res->reply_rkey, res->reply_va, len,
				      IB_ACCESS_REMOTE_READ);
		if (IS_ERR(mr)) {
			mr = NULL;
			goto fail;
		}
	}
	for (; res->reply_next < npkts && *budget; (*budget)--) {
		u32 i = res->reply_next, off = i * mtu, pay = min(mtu, len - off);
		const struct sodp_opinfo *info;
		struct sk_buff *skb;
		u8 op;

		if (npkts == 1)
			op = SODP_OP_READ_RESP_ONLY;
		else if (!i)
			op = SODP_OP_READ_RESP_FIRST;
		else if (i == npkts - 1)
			op = SODP_OP_READ_RESP_LAST;
		else
			op = SODP_OP_READ_RESP_MIDDLE;
		info = sodp_op_info(op);
		skb = sodp_pkt_new(qp, op, pay, sodp_psn_add(res->reply_psn, i),
				   false, false);
		if (skb) {
			if (info->off_aeth)
				sodp_aeth_init(sodp_pkt_hdr(skb, info->off_aeth),
					       SODP_ACK_SYNDROME,
					       res->reply_msn);
			/* A last packet's copy faults its own pages. */
			if (pay && !(off % SODP_ODP_FAULT_WINDOW) &&
			    len - off > pay)
				sodp_mr_fault_ahead(mr, res->reply_va + off,
						    len - off, false);
			if (pay && sodp_mr_copy(mr, &qp->resp.reply_win,
						res->reply_va + off,
						skb->data + info->hdr_len, pay,
						false)) {
				kfree_skb(skb);
				goto fail;
			}
			sodp_pkt_send(qp, skb);
		}
		/* A packet not sent is lost: the requester retries. */
		res->reply_next++;
	}
	if (mr)
		sodp_mr_put(mr);
	return res->reply_next >= npkts;

fail:
	if (mr)
		sodp_mr_put(mr);
	sodp_resp_replies_clear(qp);
	sodp_resp_fatal(qp, SODP_NAK_REM_ACCESS_ERR,
			sodp_psn_add(res->reply_psn, res->reply_next));
	return true;
}

/*
 * Send pending READ responses, oldest READ first, at most @budget packets.
 * Return: true when none is left.
 */
static bool sodp_resp_replies_run(struct sodp_qp *qp, unsigned int budget)
{
	struct list_head *replies = &qp->resp.replies;

	while (!list_empty(replies)) {
		struct sodp_res *res = list_first_entry(replies, struct sodp_res,
							reply);

		if (qp->need_err) {
			sodp_resp_replies_clear(qp);
			break;
		}
		if (!sodp_resp_reply_some(qp, res, &budget))
			return false;
		list_del_init(&res->reply);
	}
	return true;
}

/*
 * Queue the READ responses for [va, va + len) starting at @psn: they are
 * sent by sodp_resp_flush_ack() at the end of the work run, paced.
 */
static void sodp_resp_reply_start(struct sodp_qp *qp, struct sodp_res *res,
				  u64 va, u32 rkey, u32 len, u32 psn)
{
	res->reply_va = va;
	res->reply_rkey = rkey;
	res->reply_len = len;
	res->reply_psn = psn;
	res->reply_next = 0;
	res->reply_msn = qp->resp.msn;
	if (list_empty(&res->reply))
		list_add_tail(&res->reply, &qp->resp.replies);
}

static int sodp_resp_read_check(struct sodp_qp *qp, struct sk_buff *skb,
				u64 *va, u32 *rkey, u32 *len)
{
	struct sodp_reth *reth = sodp_pkt_hdr(skb, sodp_pkt(skb)->info->off_reth);
	struct sodp_mr *mr;

	*va = be64_to_cpu(reth->va);
	*rkey = be32_to_cpu(reth->rkey);
	*len = be32_to_cpu(reth->len);
	if (*len > SODP_MAX_MSG_SZ) {
		sodp_resp_fatal(qp, SODP_NAK_INVALID_REQ, sodp_pkt(skb)->psn);
		return -EINVAL;
	}
	if (!*len)
		return 0;
	mr = sodp_rkey_lookup(qp, *rkey, *va, *len, IB_ACCESS_REMOTE_READ);
	if (IS_ERR(mr)) {
		sodp_resp_fatal(qp, SODP_NAK_REM_ACCESS_ERR, sodp_pkt(skb)->psn);
		return PTR_ERR(mr);
	}
	sodp_mr_put(mr);
	return 0;
}

static struct sodp_res *sodp_resp_res_new(struct sodp_qp *qp)
{
	u32 n = max_t(u32, qp->attr.max_dest_rd_atomic, 1);
	struct sodp_res *res;

	n = min_t(u32, n, SODP_MAX_RD_ATOMIC);
	res = &qp->resp.res[qp->resp.res_head % n];
	qp->resp.res_head = (qp->resp.res_head + 1) % n;
	/* Still answering the oldest READ: the requester overran its limit. */
	list_del_init(&res->reply);
	return res;
}

static int sodp_resp_read(struct sodp_qp *qp, struct sk_buff *skb)
{
	u32 mtu = sodp_qp_mtu(qp), psn = sodp_pkt(skb)->psn, rkey, len, n;
	struct sodp_res *res;
	u64 va;
	int ret;

	ret = sodp_resp_read_check(qp, skb, &va, &rkey, &len);
	if (ret)
		return ret;
	n = len ? DIV_ROUND_UP(len, mtu) : 1;
	res = sodp_resp_res_new(qp);
	res->valid = true;
	res->atomic = false;
	res->first_psn = psn;
	res->last_psn = sodp_psn_add(psn, n - 1);
	qp->resp.msn++;
	/* The responses carry the acknowledgement. */
	qp->resp.ack_pending = false;
	sodp_resp_reply_start(qp, res, va, rkey, len, psn);
	qp->resp.epsn = sodp_psn_add(psn, n);
	return 1;
}

static void sodp_resp_atomic_reply(struct sodp_qp *qp, u32 psn, u64 orig)
{
	sodp_resp_replies_drain(qp);
	sodp_pkt_send_ack(qp, SODP_OP_ATOMIC_ACK, psn, SODP_ACK_SYNDROME,
			  qp->resp.msn, orig);
}

static int sodp_resp_atomic(struct sodp_qp *qp, struct sk_buff *skb)
{
	struct sodp_pkt *pkt = sodp_pkt(skb);
	struct sodp_atmeth *a = sodp_pkt_hdr(skb, pkt->info->off_atmeth);
	u64 va = be64_to_cpu(a->va), orig = 0;
	struct sodp_res *res;
	struct sodp_mr *mr;
	int ret;

	if (va & 7) {
		sodp_resp_fatal(qp, SODP_NAK_INVALID_REQ, pkt->psn);
		return -EINVAL;
	}
	mr = sodp_rkey_lookup(qp, be32_to_cpu(a->rkey), va, sizeof(u64),
			      IB_ACCESS_REMOTE_ATOMIC);
	if (IS_ERR(mr)) {
		ret = PTR_ERR(mr);
	} else {
		ret = sodp_mr_atomic(mr, va,
				     sodp_pkt_bth(skb)->opcode ==
				     SODP_OP_CMP_SWAP ? SODP_ATOMIC_CMP_SWAP :
				     SODP_ATOMIC_FETCH_ADD,
				     be64_to_cpu(a->swap_add),
				     be64_to_cpu(a->compare), &orig);
		sodp_mr_put(mr);
	}
	if (ret) {
		sodp_resp_fatal(qp, ret == -EINVAL ? SODP_NAK_INVALID_REQ :
				SODP_NAK_REM_ACCESS_ERR, pkt->psn);
		return ret;
	}
	res = sodp_resp_res_new(qp);
	res->valid = true;
	res->atomic = true;
	res->first_psn = pkt->psn;
	res->last_psn = pkt->psn;
	res->orig = orig;
	qp->resp.msn++;
	qp->resp.ack_pending = false;
	sodp_resp_atomic_reply(qp, pkt->psn, orig);
	return 0;
}

/*
 * RDMA ATOMIC_WRITE: 8 bytes stored at once, after every earlier request
 * of the QP was placed; acknowledged like a WRITE.  A duplicate is only
 * acknowledged again (sodp_resp_dup()), never stored twice.
 */
static int sodp_resp_atomic_write(struct sodp_qp *qp, struct sk_buff *skb)
{
	struct sodp_pkt *pkt = sodp_pkt(skb);
	struct sodp_reth *reth = sodp_pkt_hdr(skb, pkt->info->off_reth);
	u64 va = be64_to_cpu(reth->va), val, orig;
	struct sodp_mr *mr;
	int ret;

	if (be32_to_cpu(reth->len) != sizeof(u64) ||
	    pkt->paylen != sizeof(u64) || (va & 7)) {
		sodp_resp_fatal(qp, SODP_NAK_INVALID_REQ, pkt->psn);
		return -EINVAL;
	}
	mr = sodp_rkey_lookup(qp, be32_to_cpu(reth->rkey), va, sizeof(u64),
			      IB_ACCESS_REMOTE_WRITE);
	if (IS_ERR(mr)) {
		sodp_resp_fatal(qp, SODP_NAK_REM_ACCESS_ERR, pkt->psn);
		return PTR_ERR(mr);
	}
	memcpy(&val, sodp_pkt_payload(skb), sizeof(val));
	ret = sodp_mr_atomic(mr, va, SODP_ATOMIC_WRITE, val, 0, &orig);
	sodp_mr_put(mr);
	if (ret) {
		sodp_resp_fatal(qp, ret == -EINVAL ? SODP_NAK_INVALID_REQ :
				SODP_NAK_REM_ACCESS_ERR, pkt->psn);
		return ret;
	}
	return 0;
}

/* The answer to a FLUSH: a READ response without data, at its PSN. */
static void sodp_resp_flush_reply(struct sodp_qp *qp, u32 psn)
{
	sodp_resp_replies_drain(qp);
	sodp_pkt_send_ack(qp, SODP_OP_READ_RESP_ONLY, psn, SODP_ACK_SYNDROME,
			  qp->resp.msn, 0);
}

/*
 * RDMA FLUSH (IBTA 1.5): executed after every earlier request of the QP
 * was placed.  softodp places data with CPU stores into the region's pages
 * (pinned or ODP alike), so global visibility is a full barrier; no region
 * ever carries FLUSH_PERSISTENT (the device does not report it, and
 * ib_core refuses the access bit then), so a persistence request fails
 * the region's rights check.  The QP must allow each placement type asked
 * for, as with rdma_rxe.  Level MR flushes whatever the rkey covers (no
 * range); level RANGE checks the RETH's range like any access.  A
 * duplicate is answered again (sodp_resp_dup()): flushing twice is the
 * same as once.
 *
 * Return: 1 (done, the answer sent and epsn moved on), or negative after
 * a fatal NAK.
 */
static int sodp_resp_flush(struct sodp_qp *qp, struct sk_buff *skb)
{
	struct sodp_pkt *pkt = sodp_pkt(skb);
	struct sodp_feth *feth = sodp_pkt_hdr(skb, pkt->info->off_feth);
	struct sodp_reth *reth = sodp_pkt_hdr(skb, pkt->info->off_reth);
	u32 plt = sodp_feth_plt(feth), rkey = be32_to_cpu(reth->rkey);
	int access = 0;
	struct sodp_mr *mr;

	if (plt & SODP_FLUSH_GLOBAL)
		access |= SODP_ACCESS_FLUSH_GLOBAL;
	if (plt & SODP_FLUSH_PERSISTENT)
		access |= SODP_ACCESS_FLUSH_PERSISTENT;
	if (access & ~qp->attr.qp_access_flags) {
		sodp_resp_fatal(qp, SODP_NAK_INVALID_REQ, pkt->psn);
		return -EINVAL;
	}
	if (sodp_feth_sel(feth) == SODP_FLUSH_MR)
		mr = sodp_rkey_lookup_whole(qp, rkey, access);
	else
		mr = sodp_rkey_lookup(qp, rkey, be64_to_cpu(reth->va),
				      be32_to_cpu(reth->len), access);
	if (IS_ERR(mr)) {
		sodp_resp_fatal(qp, SODP_NAK_REM_ACCESS_ERR, pkt->psn);
		return PTR_ERR(mr);
	}
	sodp_mr_put(mr);
	/* Every store of the earlier requests before the answer leaves. */
	smp_mb();
	qp->resp.msn++;
	qp->resp.ack_pending = false;
	qp->resp.epsn = sodp_psn_add(pkt->psn, 1);
	sodp_resp_flush_reply(qp, pkt->psn);
	return 1;
}

/* ---- duplicates -------------------------------------------------------- */

/*
 * A READ is requested again: the requester went back to it and asks for
 * the later ones again too.  Forget the responses queued for those.
 */
static void sodp_resp_replies_after(struct sodp_qp *qp, struct sodp_res *res)
{
	struct sodp_res *r, *tmp;

	list_for_each_entry_safe(r, tmp, &qp->resp.replies, reply)
		if (sodp_psn_diff(r->first_psn, res->first_psn) > 0)
			list_del_init(&r->reply);
}

static void sodp_resp_dup(struct sodp_qp *qp, struct sk_buff *skb)
{
	struct sodp_pkt *pkt = sodp_pkt(skb);
	u32 flags = pkt->info->flags, i, n, rkey, len;
	u64 va;

	sodp_stat_inc(sodp_qp_dev(qp)->stats, SODP_STAT_DUP_REQ);
	if (flags & SODP_OPF_FLUSH) {
		sodp_resp_flush_reply(qp, pkt->psn);
		return;
	}
	if (!(flags & (SODP_OPF_READ | SODP_OPF_ATOMIC))) {
		if (sodp_bth_ackreq(sodp_pkt_bth(skb)))
			qp->resp.ack_pending = true;
		return;
	}
	n = min_t(u32, max_t(u32, qp->attr.max_dest_rd_atomic, 1),
		  SODP_MAX_RD_ATOMIC);
	for (i = 0; i < n; i++) {
		struct sodp_res *res = &qp->resp.res[i];

		if (!res->valid || res->atomic != !!(flags & SODP_OPF_ATOMIC))
			continue;
		if (sodp_psn_diff(pkt->psn, res->first_psn) < 0 ||
		    sodp_psn_diff(pkt->psn, res->last_psn) > 0)
			continue;
		if (res->atomic) {
			if (pkt->psn == res->first_psn)
				sodp_resp_atomic_reply(qp, pkt->psn, res->orig);
			return;
		}
		/* Execute the READ again, as the duplicate asks. */
		if (sodp_resp_read_check(qp, skb, &va, &rkey, &len))
			return;
		if (list_empty(&res->reply))
			sodp_resp_replies_after(qp, res);
		sodp_resp_reply_start(qp, res, va, rkey, len, pkt->psn);
		return;
	}
}

/* ---- entry --------------------------------------------------------------- */

/*
 * UC (IBTA 9.7.5.1.1 for UC): no duplicates and no NAKs.  A packet that is
 * not the expected one drops the message in progress; so does every
 * packet after a drop, until one starts a new message (FIRST or ONLY),
 * which is taken whatever its PSN.  A receive WQE a dropped SEND had
 * started to fill takes the next SEND from its beginning.
 *
 * Return: true to process the packet.
 */
static bool sodp_resp_uc_accept(struct sodp_qp *qp, struct sk_buff *skb,
				s32 diff)
{
	struct sodp_resp *resp = &qp->resp;

	if (!diff && !resp->uc_drop)
		return true;
	if (!(sodp_pkt(skb)->info->flags & SODP_OPF_FIRST)) {
		if (!resp->uc_drop)
			sodp_resp_uc_drop(qp, "PSN out of sequence");
		return false;
	}
	resp->uc_drop = false;
	resp->cur = 0;
	resp->offset = 0;
	resp->epsn = sodp_pkt(skb)->psn;
	return true;
}

/**
 * sodp_resp_rx() - process one request packet
 * @qp: QP in RTR or later
 * @skb: the packet (not consumed)
 *
 * Context: QP work item, proc_lock held.
 */
void sodp_resp_rx(struct sodp_qp *qp, struct sk_buff *skb)
{
	struct sodp_pkt *pkt = sodp_pkt(skb);
	const struct sodp_opinfo *info = pkt->info;
	struct sodp_resp *resp = &qp->resp;
	u32 mtu = sodp_qp_mtu(qp), need = 0;
	s32 diff = sodp_psn_diff(pkt->psn, resp->epsn);
	int ret;

	lockdep_assert_held(&qp->proc_lock);
	if (!sodp_pkt_icrc_ok(qp, skb))
		return;
	if (sodp_qp_is_uc(qp)) {
		if (!sodp_resp_uc_accept(qp, skb, diff))
			return;
	} else if (diff > 0) {
		if (!resp->nak_sent) {
			sodp_stat_inc(sodp_qp_dev(qp)->stats,
				      SODP_STAT_SEQ_NAK_SENT);
			resp->nak_sent = true;
			resp->ack_pending = false;
			sodp_resp_ack(qp, SODP_AETH_NAK | SODP_NAK_PSN_SEQ_ERR,
				      resp->epsn);
		}
		return;
	} else if (diff < 0) {
		sodp_resp_dup(qp, skb);
		return;
	}
	resp->nak_sent = false;

	/* Opcode sequence and the QP's remote access rights. */
	if (resp->cur ? !(info->flags & resp->cur) ||
			(info->flags & SODP_OPF_FIRST) :
	    !(info->flags & SODP_OPF_FIRST)) {
		sodp_resp_fatal(qp, SODP_NAK_INVALID_REQ, pkt->psn);
		return;
	}
	if (info->flags & (SODP_OPF_WRITE | SODP_OPF_ATOMIC_WRITE))
		need = IB_ACCESS_REMOTE_WRITE;
	else if (info->flags & SODP_OPF_READ)
		need = IB_ACCESS_REMOTE_READ;
	else if (info->flags & SODP_OPF_ATOMIC)
		need = IB_ACCESS_REMOTE_ATOMIC;
	if ((need & ~qp->attr.qp_access_flags) ||
	    (!(info->flags & SODP_OPF_LAST) ? pkt->paylen != mtu :
	     pkt->paylen > mtu)) {
		sodp_resp_fatal(qp, SODP_NAK_INVALID_REQ, pkt->psn);
		return;
	}

	/* Data of later requests is placed after earlier READs read theirs. */
	if (!(info->flags & SODP_OPF_READ))
		sodp_resp_replies_drain(qp);
	if (info->flags & SODP_OPF_SEND)
		ret = sodp_resp_send(qp, skb);
	else if (info->flags & SODP_OPF_WRITE)
		ret = sodp_resp_write(qp, skb);
	else if (info->flags & SODP_OPF_READ)
		ret = sodp_resp_read(qp, skb);
	else if (info->flags & SODP_OPF_ATOMIC_WRITE)
		ret = sodp_resp_atomic_write(qp, skb);
	else if (info->flags & SODP_OPF_FLUSH)
		ret = sodp_resp_flush(qp, skb);
	else
		ret = sodp_resp_atomic(qp, skb);
	if (ret)
		return;	/* RNR NAK or fatal NAK sent; READ, FLUSH set epsn */

	if (info->flags & SODP_OPF_LAST) {
		resp->cur = 0;
		if (!(info->flags & SODP_OPF_ATOMIC))
			resp->msn++;
	} else {
		resp->cur = info->flags & (SODP_OPF_SEND | SODP_OPF_WRITE);
	}
	resp->epsn = sodp_psn_add(resp->epsn, 1);
	/* An ATOMIC ACK already acknowledged the atomic; UC is never acked. */
	if (sodp_bth_ackreq(sodp_pkt_bth(skb)) && !sodp_qp_is_uc(qp) &&
	    !(info->flags & SODP_OPF_ATOMIC))
		resp->ack_pending = true;
}

/**
 * sodp_resp_init() - responder state for a QP entering RTR
 * @qp: QP
 *
 * Context: proc_lock held.
 */
void sodp_resp_init(struct sodp_qp *qp)
{
	struct sodp_resp *resp = &qp->resp;
	u32 i;

	lockdep_assert_held(&qp->proc_lock);
	resp->epsn = qp->attr.rq_psn;
	resp->msn = 0;
	resp->cur = 0;
	resp->nak_sent = false;
	resp->uc_drop = false;
	resp->ack_pending = false;
	resp->have_wqe = false;
	resp->res_head = 0;
	memset(resp->res, 0, SODP_MAX_RD_ATOMIC * sizeof(*resp->res));
	INIT_LIST_HEAD(&resp->replies);
	for (i = 0; i < SODP_MAX_RD_ATOMIC; i++)
		INIT_LIST_HEAD(&resp->res[i].reply);
}
