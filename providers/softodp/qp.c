// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * softodp provider: queue pairs and shared receive queues.
 *
 * Work requests are written as struct rxe_send_wqe / rxe_recv_wqe into the
 * mapped rings.  Receive rings need no system call: the kernel looks at
 * them when a message arrives.  New send work is announced with an empty
 * POST_SEND command (the doorbell), once per batch and only when the batch
 * put something into the ring.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ops.h"

SODP_RESP(sodp_create_qp_resp, ib_uverbs_create_qp_resp, rxe_create_qp_resp);

SODP_RESP(sodp_create_qp_ex_resp, ib_uverbs_ex_create_qp_resp, rxe_create_qp_resp);

SODP_RESP(sodp_create_srq_resp, ib_uverbs_create_srq_resp, rxe_create_srq_resp);

struct sodp_cmd_modify_srq {
	struct pabi_cmd_modify_srq ibv;
	struct rxe_modify_srq_cmd drv;
};
static_assert(offsetof(struct sodp_cmd_modify_srq, drv) == sizeof(struct pabi_cmd_modify_srq),
	      "modify_srq command layout");

/* ---- doorbell ----------------------------------------------------------------- */

/* An empty POST_SEND: the kernel schedules the QP, which reads the ring. */
static int sodp_doorbell(struct ibv_qp *qp)
{
	struct ib_uverbs_post_send_resp resp;
	struct pabi_cmd_post_send cmd = {
		.hdr.command = IB_USER_VERBS_CMD_POST_SEND,
		.hdr.in_words = sizeof(cmd) / 4,
		.hdr.out_words = sizeof(resp) / 4,
		.core.response = (uintptr_t)&resp,
		.core.qp_handle = qp->handle,
		.core.wqe_size = sizeof(struct ib_uverbs_send_wr),
	};

	if (write(qp->context->cmd_fd, &cmd, sizeof(cmd)) != (ssize_t)sizeof(cmd))
		return errno;
	return 0;
}

/* ---- receive rings (QP and SRQ) ---------------------------------------------- */

static int sodp_post_recv_ring(struct sodp_wq *rq, struct ibv_recv_wr *wr, struct ibv_recv_wr **bad)
{
	struct rxe_queue_buf *b = rq->ring.buf;
	uint32_t prod;
	int ret = 0;

	pthread_spin_lock(&rq->ring.lock);
	prod = atomic_load_explicit(ring_prod(b), memory_order_relaxed);
	for (; wr; wr = wr->next) {
		struct rxe_recv_wqe *wqe;
		uint32_t len = 0;
		int i;

		/* A full ring first, as librxe reports it. */
		if (ring_full_at(b, prod)) {
			ret = ENOMEM;
			break;
		}
		if (wr->num_sge < 0 || (unsigned int)wr->num_sge > rq->max_sge) {
			ret = EINVAL;
			break;
		}
		wqe = ring_elem(b, prod);
		memset(wqe, 0, sizeof(*wqe));
		wqe->wr_id = wr->wr_id;
		for (i = 0; i < wr->num_sge; i++) {
			wqe->dma.sge[i].addr = wr->sg_list[i].addr;
			wqe->dma.sge[i].length = wr->sg_list[i].length;
			wqe->dma.sge[i].lkey = wr->sg_list[i].lkey;
			len += wr->sg_list[i].length;
		}
		wqe->dma.length = len;
		wqe->dma.resid = len;
		wqe->dma.num_sge = wr->num_sge;
		prod = ring_next(b, prod);
	}
	atomic_store_explicit(ring_prod(b), prod, memory_order_release);
	pthread_spin_unlock(&rq->ring.lock);
	if (ret)
		*bad = wr;
	return ret;
}

int sodp_post_recv(struct ibv_qp *ibqp, struct ibv_recv_wr *wr, struct ibv_recv_wr **bad)
{
	struct sodp_qp *qp = to_sqp(ibqp);

	if (!bad)
		return EINVAL;
	*bad = NULL;
	if (!wr)
		return 0;
	/* A QP on an SRQ has no receive ring; a RESET QP takes no receives. */
	if (!qp->rq.ring.buf || ibqp->state == IBV_QPS_RESET) {
		*bad = wr;
		return EINVAL;
	}
	return sodp_post_recv_ring(&qp->rq, wr, bad);
}

int sodp_post_srq_recv(struct ibv_srq *ibsrq, struct ibv_recv_wr *wr, struct ibv_recv_wr **bad)
{
	if (!bad)
		return EINVAL;
	*bad = NULL;
	return wr ? sodp_post_recv_ring(&to_ssrq(ibsrq)->rq, wr, bad) : 0;
}

/* ---- send ring: classic ibv_post_send() ------------------------------------ */

static int sodp_wr_is_atomic(enum ibv_wr_opcode op)
{
	return op == IBV_WR_ATOMIC_CMP_AND_SWP || op == IBV_WR_ATOMIC_FETCH_AND_ADD;
}

/* The header of a send WQE: everything but the data (SGEs or inline). */
static void sodp_send_hdr(struct sodp_qp *qp, struct rxe_send_wqe *wqe, uint64_t wr_id,
			  uint32_t opcode, uint32_t flags)
{
	memset(wqe, 0, sizeof(*wqe));
	wqe->wr.wr_id = wr_id;
	wqe->wr.opcode = opcode;
	wqe->wr.send_flags = flags;
	wqe->ssn = qp->ssn++;
}

static void sodp_set_ud(struct rxe_send_wqe *wqe, struct ibv_ah *ibah, uint32_t qpn, uint32_t qkey)
{
	struct sodp_ah *ah = to_sah(ibah);

	wqe->wr.wr.ud.remote_qpn = qpn;
	wqe->wr.wr.ud.remote_qkey = qkey;
	wqe->wr.wr.ud.ah_num = ah->ah_num;
	if (!ah->ah_num)
		wqe->wr.wr.ud.av = ah->av;
}

/*
 * A memory window bind as librxe writes it: the window's current rkey to
 * find it, the new one (the kernel takes its key byte), the region's lkey
 * (0 for an unbind without a region), the range and the rights.
 */
static void sodp_set_bind(struct rxe_send_wqe *wqe, const struct ibv_mw *mw, uint32_t rkey,
			  const struct ibv_mw_bind_info *info)
{
	wqe->wr.wr.mw.addr = info->addr;
	wqe->wr.wr.mw.length = info->length;
	wqe->wr.wr.mw.mr_lkey = info->mr ? info->mr->lkey : 0;
	wqe->wr.wr.mw.mw_rkey = mw->rkey;
	wqe->wr.wr.mw.rkey = rkey;
	wqe->wr.wr.mw.access = info->mw_access_flags;
}

static int sodp_fill_send(struct sodp_qp *qp, struct rxe_send_wqe *wqe,
			  const struct ibv_send_wr *wr)
{
	struct sodp_wq *sq = &qp->sq;
	uint32_t len = 0;
	int i;

	if (wr->num_sge < 0 || (unsigned int)wr->num_sge > sq->max_sge)
		return EINVAL;
	for (i = 0; i < wr->num_sge; i++)
		len += wr->sg_list[i].length;
	if ((wr->send_flags & IBV_SEND_INLINE) && len > sq->max_inline)
		return EINVAL;
	if (sodp_wr_is_atomic(wr->opcode) && (len < 8 || (wr->wr.atomic.remote_addr & 7)))
		return EINVAL;
	/* librxe's checks of a bind: no data, no immediate, RC or UC only. */
	if (wr->opcode == IBV_WR_BIND_MW &&
	    (len || wr->num_sge || wr->imm_data ||
	     (qp->vqp.qp.qp_type != IBV_QPT_RC && qp->vqp.qp.qp_type != IBV_QPT_UC)))
		return EINVAL;

	sodp_send_hdr(qp, wqe, wr->wr_id, wr->opcode, wr->send_flags);
	/* imm_data and invalidate_rkey share the word in both structures. */
	wqe->wr.ex.imm_data = wr->imm_data;
	switch (wr->opcode) {
	case IBV_WR_RDMA_WRITE:
	case IBV_WR_RDMA_WRITE_WITH_IMM:
	case IBV_WR_RDMA_READ:
		wqe->wr.wr.rdma.remote_addr = wr->wr.rdma.remote_addr;
		wqe->wr.wr.rdma.rkey = wr->wr.rdma.rkey;
		wqe->iova = wr->wr.rdma.remote_addr;
		break;
	case IBV_WR_ATOMIC_CMP_AND_SWP:
	case IBV_WR_ATOMIC_FETCH_AND_ADD:
		wqe->wr.wr.atomic.remote_addr = wr->wr.atomic.remote_addr;
		wqe->wr.wr.atomic.compare_add = wr->wr.atomic.compare_add;
		wqe->wr.wr.atomic.swap = wr->wr.atomic.swap;
		wqe->wr.wr.atomic.rkey = wr->wr.atomic.rkey;
		wqe->iova = wr->wr.atomic.remote_addr;
		break;
	case IBV_WR_SEND:
	case IBV_WR_SEND_WITH_IMM:
		if (qp->vqp.qp.qp_type == IBV_QPT_UD)
			sodp_set_ud(wqe, wr->wr.ud.ah, wr->wr.ud.remote_qpn, wr->wr.ud.remote_qkey);
		break;
	case IBV_WR_BIND_MW:
		sodp_set_bind(wqe, wr->bind_mw.mw, wr->bind_mw.rkey, &wr->bind_mw.bind_info);
		break;
	default:
		break;
	}

	if (wr->send_flags & IBV_SEND_INLINE) {
		uint8_t *p = wqe->dma.inline_data;

		for (i = 0; i < wr->num_sge; i++) {
			memcpy(p, (void *)(uintptr_t)wr->sg_list[i].addr, wr->sg_list[i].length);
			p += wr->sg_list[i].length;
		}
	} else {
		for (i = 0; i < wr->num_sge; i++) {
			wqe->dma.sge[i].addr = wr->sg_list[i].addr;
			wqe->dma.sge[i].length = wr->sg_list[i].length;
			wqe->dma.sge[i].lkey = wr->sg_list[i].lkey;
		}
		wqe->dma.num_sge = wr->num_sge;
	}
	wqe->dma.length = len;
	wqe->dma.resid = len;
	return 0;
}

int sodp_post_send(struct ibv_qp *ibqp, struct ibv_send_wr *wr, struct ibv_send_wr **bad)
{
	struct sodp_qp *qp = to_sqp(ibqp);
	struct rxe_queue_buf *b = qp->sq.ring.buf;
	unsigned int posted = 0;
	uint32_t prod;
	int ret = 0, db;

	if (!bad)
		return EINVAL;
	*bad = NULL;
	if (!wr)
		return EINVAL;

	pthread_spin_lock(&qp->sq.ring.lock);
	prod = atomic_load_explicit(ring_prod(b), memory_order_relaxed);
	for (; wr; wr = wr->next) {
		if (ring_full_at(b, prod)) {
			ret = ENOMEM;
			break;
		}
		ret = sodp_fill_send(qp, ring_elem(b, prod), wr);
		if (ret)
			break;
		prod = ring_next(b, prod);
		posted++;
	}
	if (posted)
		atomic_store_explicit(ring_prod(b), prod, memory_order_release);
	pthread_spin_unlock(&qp->sq.ring.lock);
	if (ret)
		*bad = wr;
	/* Nothing new in the ring: no system call. */
	db = posted ? sodp_doorbell(ibqp) : 0;
	return ret ? ret : db;
}

/*
 * ibv_bind_mw() (type 1 windows; libibverbs checked the type and the PD):
 * a BIND_MW work request with the next key byte, as librxe posts it.  The
 * window's rkey changes at once; the consumer restores it if the bind
 * completes in error.
 */
int sodp_bind_mw(struct ibv_qp *qp, struct ibv_mw *mw, struct ibv_mw_bind *bind)
{
	struct ibv_send_wr wr, *bad;
	int ret;

	if (bind->bind_info.mw_access_flags & IBV_ACCESS_ZERO_BASED) {
		errno = EINVAL;
		return EINVAL;
	}
	memset(&wr, 0, sizeof(wr));
	wr.opcode = IBV_WR_BIND_MW;
	wr.wr_id = bind->wr_id;
	wr.send_flags = bind->send_flags;
	wr.bind_mw.mw = mw;
	wr.bind_mw.rkey = ibv_inc_rkey(mw->rkey);
	wr.bind_mw.bind_info = bind->bind_info;
	ret = sodp_post_send(qp, &wr, &bad);
	if (ret) {
		errno = ret;
		return ret;
	}
	mw->rkey = wr.bind_mw.rkey;
	return 0;
}

/* ---- send ring: ibv_wr_*() ------------------------------------------------------ */

/* The slot the next builder fills, or NULL (and the batch fails). */
static struct rxe_send_wqe *sodp_wr_slot(struct sodp_qp *qp)
{
	if (qp->wr_err)
		return NULL;
	if (ring_full_at(qp->sq.ring.buf, qp->wr_index)) {
		qp->wr_err = ENOMEM;
		return NULL;
	}
	return ring_elem(qp->sq.ring.buf, qp->wr_index);
}

static struct rxe_send_wqe *sodp_wr_build(struct ibv_qp_ex *ibqp, uint32_t opcode)
{
	struct sodp_qp *qp = ex_to_sqp(ibqp);
	struct rxe_send_wqe *wqe = sodp_wr_slot(qp);

	if (!wqe)
		return NULL;
	sodp_send_hdr(qp, wqe, ibqp->wr_id, opcode, ibqp->wr_flags);
	qp->wr_index = ring_next(qp->sq.ring.buf, qp->wr_index);
	qp->wr_count++;
	return wqe;
}

/* The WQE the setters complete: the last one built, or NULL. */
static struct rxe_send_wqe *sodp_wr_last(struct sodp_qp *qp)
{
	if (qp->wr_err)
		return NULL;
	if (!qp->wr_count) {
		qp->wr_err = EINVAL;
		return NULL;
	}
	return ring_elem(qp->sq.ring.buf, qp->wr_index - 1);
}

static void sodp_wr_rdma(struct ibv_qp_ex *ibqp, uint32_t opcode, uint32_t rkey, uint64_t addr,
			 __be32 imm)
{
	struct rxe_send_wqe *wqe = sodp_wr_build(ibqp, opcode);

	if (!wqe)
		return;
	wqe->wr.wr.rdma.remote_addr = addr;
	wqe->wr.wr.rdma.rkey = rkey;
	wqe->wr.ex.imm_data = imm;
	wqe->iova = addr;
}

static void sodp_wr_rdma_write(struct ibv_qp_ex *ibqp, uint32_t rkey, uint64_t addr)
{
	sodp_wr_rdma(ibqp, IBV_WR_RDMA_WRITE, rkey, addr, 0);
}

static void sodp_wr_rdma_write_imm(struct ibv_qp_ex *ibqp, uint32_t rkey, uint64_t addr, __be32 imm)
{
	sodp_wr_rdma(ibqp, IBV_WR_RDMA_WRITE_WITH_IMM, rkey, addr, imm);
}

static void sodp_wr_rdma_read(struct ibv_qp_ex *ibqp, uint32_t rkey, uint64_t addr)
{
	sodp_wr_rdma(ibqp, IBV_WR_RDMA_READ, rkey, addr, 0);
}

static void sodp_wr_atomic(struct ibv_qp_ex *ibqp, uint32_t opcode, uint32_t rkey, uint64_t addr,
			   uint64_t compare_add, uint64_t swap)
{
	struct rxe_send_wqe *wqe = sodp_wr_build(ibqp, opcode);

	if (!wqe)
		return;
	if (addr & 7) {
		ex_to_sqp(ibqp)->wr_err = EINVAL;
		return;
	}
	wqe->wr.wr.atomic.remote_addr = addr;
	wqe->wr.wr.atomic.compare_add = compare_add;
	wqe->wr.wr.atomic.swap = swap;
	wqe->wr.wr.atomic.rkey = rkey;
	wqe->iova = addr;
}

static void sodp_wr_atomic_cmp_swp(struct ibv_qp_ex *ibqp, uint32_t rkey, uint64_t addr,
				   uint64_t compare, uint64_t swap)
{
	sodp_wr_atomic(ibqp, IBV_WR_ATOMIC_CMP_AND_SWP, rkey, addr, compare, swap);
}

static void sodp_wr_atomic_fetch_add(struct ibv_qp_ex *ibqp, uint32_t rkey, uint64_t addr,
				     uint64_t add)
{
	sodp_wr_atomic(ibqp, IBV_WR_ATOMIC_FETCH_AND_ADD, rkey, addr, add, 0);
}

/* RDMA ATOMIC_WRITE: the 8 bytes travel in the WQE, where inline data would. */
static void sodp_wr_atomic_write(struct ibv_qp_ex *ibqp, uint32_t rkey, uint64_t addr,
				 const void *value)
{
	struct rxe_send_wqe *wqe = sodp_wr_build(ibqp, IBV_WR_ATOMIC_WRITE);

	/*
	 * A misaligned address is posted as it is: the responder rejects it
	 * and the WR completes in error, as with librxe.
	 */
	if (!wqe)
		return;
	wqe->wr.wr.rdma.remote_addr = addr;
	wqe->wr.wr.rdma.rkey = rkey;
	memcpy(wqe->dma.inline_data, value, 8);
	wqe->dma.length = 8;
	wqe->dma.resid = 8;
	wqe->iova = addr;
}

static void sodp_wr_send(struct ibv_qp_ex *ibqp)
{
	sodp_wr_build(ibqp, IBV_WR_SEND);
}

static void sodp_wr_send_imm(struct ibv_qp_ex *ibqp, __be32 imm)
{
	struct rxe_send_wqe *wqe = sodp_wr_build(ibqp, IBV_WR_SEND_WITH_IMM);

	if (wqe)
		wqe->wr.ex.imm_data = imm;
}

static void sodp_wr_send_inv(struct ibv_qp_ex *ibqp, uint32_t rkey)
{
	struct rxe_send_wqe *wqe = sodp_wr_build(ibqp, IBV_WR_SEND_WITH_INV);

	if (wqe)
		wqe->wr.ex.invalidate_rkey = rkey;
}

/* ibv_wr_bind_mw() (type 2 windows): no checks here, as in librxe. */
static void sodp_wr_bind_mw(struct ibv_qp_ex *ibqp, struct ibv_mw *mw, uint32_t rkey,
			    const struct ibv_mw_bind_info *info)
{
	struct rxe_send_wqe *wqe = sodp_wr_build(ibqp, IBV_WR_BIND_MW);

	if (wqe)
		sodp_set_bind(wqe, mw, rkey, info);
}

static void sodp_wr_local_inv(struct ibv_qp_ex *ibqp, uint32_t rkey)
{
	struct rxe_send_wqe *wqe = sodp_wr_build(ibqp, IBV_WR_LOCAL_INV);

	if (wqe)
		wqe->wr.ex.invalidate_rkey = rkey;
}

static void sodp_wr_set_ud_addr(struct ibv_qp_ex *ibqp, struct ibv_ah *ah, uint32_t qpn,
				uint32_t qkey)
{
	struct rxe_send_wqe *wqe = sodp_wr_last(ex_to_sqp(ibqp));

	if (wqe)
		sodp_set_ud(wqe, ah, qpn, qkey);
}

static void sodp_wr_set_sge_list(struct ibv_qp_ex *ibqp, size_t num, const struct ibv_sge *sg)
{
	struct sodp_qp *qp = ex_to_sqp(ibqp);
	struct rxe_send_wqe *wqe = sodp_wr_last(qp);
	uint32_t len = 0;
	size_t i;

	if (!wqe)
		return;
	if (num > qp->sq.max_sge) {
		qp->wr_err = EINVAL;
		return;
	}
	for (i = 0; i < num; i++) {
		wqe->dma.sge[i].addr = sg[i].addr;
		wqe->dma.sge[i].length = sg[i].length;
		wqe->dma.sge[i].lkey = sg[i].lkey;
		len += sg[i].length;
	}
	if ((wqe->wr.opcode == IBV_WR_ATOMIC_CMP_AND_SWP ||
	     wqe->wr.opcode == IBV_WR_ATOMIC_FETCH_AND_ADD) &&
	    len < 8) {
		qp->wr_err = EINVAL;
		return;
	}
	wqe->dma.num_sge = num;
	wqe->dma.length = len;
	wqe->dma.resid = len;
}

static void sodp_wr_set_sge(struct ibv_qp_ex *ibqp, uint32_t lkey, uint64_t addr, uint32_t length)
{
	struct ibv_sge sge = {.addr = addr, .length = length, .lkey = lkey};

	sodp_wr_set_sge_list(ibqp, length ? 1 : 0, &sge);
}

static void sodp_wr_set_inline_data_list(struct ibv_qp_ex *ibqp, size_t num,
					 const struct ibv_data_buf *buf)
{
	struct sodp_qp *qp = ex_to_sqp(ibqp);
	struct rxe_send_wqe *wqe = sodp_wr_last(qp);
	size_t len = 0, i;

	if (!wqe)
		return;
	for (i = 0; i < num; i++) {
		if (buf[i].length > qp->sq.max_inline - len) {
			qp->wr_err = ENOMEM;
			return;
		}
		memcpy(wqe->dma.inline_data + len, buf[i].addr, buf[i].length);
		len += buf[i].length;
	}
	wqe->wr.send_flags |= IBV_SEND_INLINE;
	wqe->dma.num_sge = 0;
	wqe->dma.length = len;
	wqe->dma.resid = len;
}

static void sodp_wr_set_inline_data(struct ibv_qp_ex *ibqp, void *addr, size_t length)
{
	struct ibv_data_buf buf = {.addr = addr, .length = length};

	sodp_wr_set_inline_data_list(ibqp, 1, &buf);
}

static void sodp_wr_start(struct ibv_qp_ex *ibqp)
{
	struct sodp_qp *qp = ex_to_sqp(ibqp);

	pthread_spin_lock(&qp->sq.ring.lock);
	qp->wr_err = 0;
	qp->wr_count = 0;
	qp->wr_index = atomic_load_explicit(ring_prod(qp->sq.ring.buf), memory_order_relaxed);
}

/* Publish the batch (all or nothing) and ring the doorbell once. */
static int sodp_wr_complete(struct ibv_qp_ex *ibqp)
{
	struct sodp_qp *qp = ex_to_sqp(ibqp);
	int err = qp->wr_err;
	uint32_t n = qp->wr_count;

	if (!err && n)
		atomic_store_explicit(ring_prod(qp->sq.ring.buf), qp->wr_index,
				      memory_order_release);
	else if (err)
		qp->ssn -= n; /* nothing of the batch was posted */
	pthread_spin_unlock(&qp->sq.ring.lock);
	if (err)
		return err;
	return n ? sodp_doorbell(&qp->vqp.qp) : 0;
}

static void sodp_wr_abort(struct ibv_qp_ex *ibqp)
{
	struct sodp_qp *qp = ex_to_sqp(ibqp);

	qp->ssn -= qp->wr_count;
	pthread_spin_unlock(&qp->sq.ring.lock);
}

#ifdef SODP_HAVE_IBV_FLUSH
/*
 * RDMA FLUSH (libibverbs of rdma-core 45+): a range, or the whole region of
 * the rkey, and the placement type; no data.  The length travels in the
 * element's dma.length, as librxe puts it.
 */
static void sodp_wr_flush(struct ibv_qp_ex *ibqp, uint32_t rkey, uint64_t addr, size_t len,
			  uint8_t type, uint8_t level)
{
	struct rxe_send_wqe *wqe;

	if (len > UINT32_MAX) {
		ex_to_sqp(ibqp)->wr_err = EINVAL;
		return;
	}
	wqe = sodp_wr_build(ibqp, IBV_WR_FLUSH);
	if (!wqe)
		return;
	wqe->wr.wr.flush.remote_addr = addr;
	wqe->wr.wr.flush.rkey = rkey;
	wqe->wr.wr.flush.type = type;
	wqe->wr.wr.flush.level = level;
	wqe->dma.length = (uint32_t)len;
	wqe->dma.resid = (uint32_t)len;
	wqe->iova = addr;
}
#define SODP_FLUSH_OPS IBV_QP_EX_WITH_FLUSH
#else
#define SODP_FLUSH_OPS 0
#endif

/* ---- QP objects --------------------------------------------------------------- */

#define SODP_RC_SEND_OPS                                                                           \
	(IBV_QP_EX_WITH_RDMA_WRITE | IBV_QP_EX_WITH_RDMA_WRITE_WITH_IMM | IBV_QP_EX_WITH_SEND |    \
	 IBV_QP_EX_WITH_SEND_WITH_IMM | IBV_QP_EX_WITH_RDMA_READ |                                 \
	 IBV_QP_EX_WITH_ATOMIC_CMP_AND_SWP | IBV_QP_EX_WITH_ATOMIC_FETCH_AND_ADD |                 \
	 IBV_QP_EX_WITH_LOCAL_INV | IBV_QP_EX_WITH_SEND_WITH_INV | IBV_QP_EX_WITH_ATOMIC_WRITE |   \
	 IBV_QP_EX_WITH_BIND_MW | SODP_FLUSH_OPS)
/*
 * UC: SEND and RDMA WRITE, with immediate, and memory window binds (no
 * SEND with invalidate on UC).
 */
#define SODP_UC_SEND_OPS                                                                           \
	(IBV_QP_EX_WITH_RDMA_WRITE | IBV_QP_EX_WITH_RDMA_WRITE_WITH_IMM | IBV_QP_EX_WITH_SEND |    \
	 IBV_QP_EX_WITH_SEND_WITH_IMM | IBV_QP_EX_WITH_BIND_MW)
#define SODP_UD_SEND_OPS (IBV_QP_EX_WITH_SEND | IBV_QP_EX_WITH_SEND_WITH_IMM)

static int sodp_check_qp_ex(const struct ibv_qp_init_attr_ex *attr)
{
	uint64_t ops;

	if (attr->comp_mask & ~(uint32_t)(IBV_QP_INIT_ATTR_PD | IBV_QP_INIT_ATTR_CREATE_FLAGS |
					  IBV_QP_INIT_ATTR_SEND_OPS_FLAGS))
		return EOPNOTSUPP;
	if ((attr->comp_mask & IBV_QP_INIT_ATTR_CREATE_FLAGS) && attr->create_flags)
		return EOPNOTSUPP;
	if (!(attr->comp_mask & IBV_QP_INIT_ATTR_SEND_OPS_FLAGS))
		return 0;
	switch (attr->qp_type) {
	case IBV_QPT_RC:
		ops = SODP_RC_SEND_OPS;
		break;
	case IBV_QPT_UC:
		ops = SODP_UC_SEND_OPS;
		break;
	case IBV_QPT_UD:
		ops = SODP_UD_SEND_OPS;
		break;
	default:
		return EOPNOTSUPP;
	}
	return (attr->send_ops_flags & ~ops) ? EOPNOTSUPP : 0;
}

static void sodp_set_wr_ops(struct sodp_qp *qp, uint64_t flags)
{
	struct ibv_qp_ex *ex = &qp->vqp.qp_ex;

	if (flags & IBV_QP_EX_WITH_RDMA_WRITE)
		ex->wr_rdma_write = sodp_wr_rdma_write;
	if (flags & IBV_QP_EX_WITH_RDMA_WRITE_WITH_IMM)
		ex->wr_rdma_write_imm = sodp_wr_rdma_write_imm;
	if (flags & IBV_QP_EX_WITH_RDMA_READ)
		ex->wr_rdma_read = sodp_wr_rdma_read;
	if (flags & IBV_QP_EX_WITH_ATOMIC_CMP_AND_SWP)
		ex->wr_atomic_cmp_swp = sodp_wr_atomic_cmp_swp;
	if (flags & IBV_QP_EX_WITH_ATOMIC_FETCH_AND_ADD)
		ex->wr_atomic_fetch_add = sodp_wr_atomic_fetch_add;
	if (flags & IBV_QP_EX_WITH_ATOMIC_WRITE)
		ex->wr_atomic_write = sodp_wr_atomic_write;
#ifdef SODP_HAVE_IBV_FLUSH
	if (flags & IBV_QP_EX_WITH_FLUSH)
		ex->wr_flush = sodp_wr_flush;
#endif
	if (flags & IBV_QP_EX_WITH_SEND)
		ex->wr_send = sodp_wr_send;
	if (flags & IBV_QP_EX_WITH_SEND_WITH_IMM)
		ex->wr_send_imm = sodp_wr_send_imm;
	if (flags & IBV_QP_EX_WITH_SEND_WITH_INV)
		ex->wr_send_inv = sodp_wr_send_inv;
	if (flags & IBV_QP_EX_WITH_LOCAL_INV)
		ex->wr_local_inv = sodp_wr_local_inv;
	if (flags & IBV_QP_EX_WITH_BIND_MW)
		ex->wr_bind_mw = sodp_wr_bind_mw;
	ex->wr_set_ud_addr = sodp_wr_set_ud_addr;
	ex->wr_set_sge = sodp_wr_set_sge;
	ex->wr_set_sge_list = sodp_wr_set_sge_list;
	ex->wr_set_inline_data = sodp_wr_set_inline_data;
	ex->wr_set_inline_data_list = sodp_wr_set_inline_data_list;
	ex->wr_start = sodp_wr_start;
	ex->wr_complete = sodp_wr_complete;
	ex->wr_abort = sodp_wr_abort;
}

/* Map the rings the kernel created; @cap is what the kernel granted. */
static int sodp_qp_map(struct sodp_qp *qp, int cmd_fd, struct ibv_srq *srq,
		       const struct ibv_qp_cap *cap, const struct rxe_create_qp_resp *r)
{
	int ret;

	if (!srq) {
		ret = sodp_ring_map(&qp->rq.ring, cmd_fd, &r->rq_mi);
		if (ret)
			return ret;
		qp->rq.max_sge = cap->max_recv_sge;
	}
	ret = sodp_ring_map(&qp->sq.ring, cmd_fd, &r->sq_mi);
	if (ret) {
		sodp_ring_unmap(&qp->rq.ring);
		return ret;
	}
	qp->sq.max_sge = cap->max_send_sge;
	qp->sq.max_inline = cap->max_inline_data;
	pthread_spin_init(&qp->sq.ring.lock, PTHREAD_PROCESS_PRIVATE);
	pthread_spin_init(&qp->rq.ring.lock, PTHREAD_PROCESS_PRIVATE);
	return 0;
}

struct ibv_qp *sodp_create_qp(struct ibv_pd *pd, struct ibv_qp_init_attr *attr)
{
	struct pabi_cmd_create_qp cmd = {0};
	struct sodp_create_qp_resp resp = {0};
	struct sodp_qp *qp = calloc(1, sizeof(*qp));
	int ret;

	if (!qp)
		return NULL;
	ret = ibv_cmd_create_qp(pd, &qp->vqp.qp, attr, &cmd, sizeof(cmd), &resp.core, sizeof(resp));
	if (ret)
		goto err_free;
	ret = sodp_qp_map(qp, pd->context->cmd_fd, attr->srq, &attr->cap, &resp.drv);
	if (ret)
		goto err_destroy;
	return &qp->vqp.qp;

err_destroy:
	ibv_cmd_destroy_qp(&qp->vqp.qp);
err_free:
	free(qp);
	errno = ret;
	return NULL;
}

struct ibv_qp *sodp_create_qp_ex(struct ibv_context *ctx, struct ibv_qp_init_attr_ex *attr)
{
	struct pabi_cmd_create_qp_ex cmd = {0};
	struct sodp_create_qp_ex_resp resp = {0};
	struct sodp_qp *qp;
	int ret = sodp_check_qp_ex(attr);

	if (ret) {
		errno = ret;
		return NULL;
	}
	qp = calloc(1, sizeof(*qp));
	if (!qp)
		return NULL;
	if (attr->comp_mask & IBV_QP_INIT_ATTR_SEND_OPS_FLAGS)
		sodp_set_wr_ops(qp, attr->send_ops_flags);
	ret = ibv_cmd_create_qp_ex2(ctx, &qp->vqp, attr, &cmd, sizeof(cmd), &resp.core,
				    sizeof(resp));
	if (ret)
		goto err_free;
	qp->vqp.comp_mask |= PABI_QP_EX;
	ret = sodp_qp_map(qp, ctx->cmd_fd, attr->srq, &attr->cap, &resp.drv);
	if (ret)
		goto err_destroy;
	return &qp->vqp.qp;

err_destroy:
	ibv_cmd_destroy_qp(&qp->vqp.qp);
err_free:
	free(qp);
	errno = ret;
	return NULL;
}

int sodp_query_qp(struct ibv_qp *qp, struct ibv_qp_attr *attr, int mask,
		  struct ibv_qp_init_attr *init)
{
	struct pabi_cmd_query_qp cmd = {0};

	return ibv_cmd_query_qp(qp, attr, mask, init, &cmd, sizeof(cmd));
}

int sodp_modify_qp(struct ibv_qp *qp, struct ibv_qp_attr *attr, int mask)
{
	struct pabi_cmd_modify_qp cmd = {0};

	return ibv_cmd_modify_qp(qp, attr, mask, &cmd, sizeof(cmd));
}

int sodp_destroy_qp(struct ibv_qp *ibqp)
{
	struct sodp_qp *qp = to_sqp(ibqp);
	int ret = ibv_cmd_destroy_qp(ibqp);

	if (ret)
		return ret;
	sodp_ring_unmap(&qp->sq.ring);
	sodp_ring_unmap(&qp->rq.ring);
	pthread_spin_destroy(&qp->sq.ring.lock);
	pthread_spin_destroy(&qp->rq.ring.lock);
	free(qp);
	return 0;
}

/* ---- SRQ objects ------------------------------------------------------------- */

static struct ibv_srq *sodp_srq_mapped(struct sodp_srq *srq, int cmd_fd,
				       const struct sodp_create_srq_resp *resp,
				       unsigned int max_sge)
{
	int ret = sodp_ring_map(&srq->rq.ring, cmd_fd, &resp->drv.mi);

	if (ret) {
		ibv_cmd_destroy_srq(&srq->vsrq.srq);
		free(srq);
		errno = ret;
		return NULL;
	}
	srq->rq.max_sge = max_sge;
	srq->vsrq.srq_num = resp->drv.srq_num;
	pthread_spin_init(&srq->rq.ring.lock, PTHREAD_PROCESS_PRIVATE);
	return &srq->vsrq.srq;
}

struct ibv_srq *sodp_create_srq(struct ibv_pd *pd, struct ibv_srq_init_attr *attr)
{
	struct pabi_cmd_create_srq cmd = {0};
	struct sodp_create_srq_resp resp = {0};
	struct sodp_srq *srq = calloc(1, sizeof(*srq));
	int ret;

	if (!srq)
		return NULL;
	ret = ibv_cmd_create_srq(pd, &srq->vsrq.srq, attr, &cmd, sizeof(cmd), &resp.core,
				 sizeof(resp));
	if (ret) {
		free(srq);
		errno = ret;
		return NULL;
	}
	return sodp_srq_mapped(srq, pd->context->cmd_fd, &resp, attr->attr.max_sge);
}

struct ibv_srq *sodp_create_srq_ex(struct ibv_context *ctx, struct ibv_srq_init_attr_ex *attr)
{
	struct pabi_cmd_create_xsrq cmd = {0};
	struct sodp_create_srq_resp resp = {0};
	struct sodp_srq *srq = calloc(1, sizeof(*srq));
	int ret;

	if (!srq)
		return NULL;
	ret = ibv_cmd_create_srq_ex(ctx, &srq->vsrq, attr, &cmd, sizeof(cmd), &resp.core,
				    sizeof(resp));
	if (ret) {
		free(srq);
		errno = ret;
		return NULL;
	}
	return sodp_srq_mapped(srq, ctx->cmd_fd, &resp, attr->attr.max_sge);
}

int sodp_modify_srq(struct ibv_srq *ibsrq, struct ibv_srq_attr *attr, int mask)
{
	struct sodp_srq *srq = to_ssrq(ibsrq);
	struct sodp_cmd_modify_srq cmd = {0};
	struct mminfo mi = {0};
	int ret;

	/* A resize moves the ring: no receive may be posted meanwhile. */
	pthread_spin_lock(&srq->rq.ring.lock);
	cmd.drv.mmap_info_addr = (uintptr_t)&mi;
	ret = ibv_cmd_modify_srq(ibsrq, attr, mask, &cmd.ibv, sizeof(cmd));
	if (!ret && (mask & IBV_SRQ_MAX_WR)) {
		sodp_ring_unmap(&srq->rq.ring);
		ret = sodp_ring_map(&srq->rq.ring, ibsrq->context->cmd_fd, &mi);
	}
	pthread_spin_unlock(&srq->rq.ring.lock);
	return ret;
}

int sodp_query_srq(struct ibv_srq *srq, struct ibv_srq_attr *attr)
{
	struct pabi_cmd_query_srq cmd = {0};

	return ibv_cmd_query_srq(srq, attr, &cmd, sizeof(cmd));
}

int sodp_destroy_srq(struct ibv_srq *ibsrq)
{
	struct sodp_srq *srq = to_ssrq(ibsrq);
	int ret = ibv_cmd_destroy_srq(ibsrq);

	if (ret)
		return ret;
	sodp_ring_unmap(&srq->rq.ring);
	pthread_spin_destroy(&srq->rq.ring.lock);
	free(srq);
	return 0;
}
