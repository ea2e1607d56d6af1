// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * softodp provider: completion queues.  The kernel writes struct
 * ib_uverbs_wc elements into the mapped ring; ibv_poll_cq() and the
 * extended (ibv_start_poll() ...) interface read them in user space.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "ops.h"

/* A kernel completion is an ibv_wc, field for field. */
static_assert(sizeof(struct ib_uverbs_wc) == sizeof(struct ibv_wc), "wc layout");
static_assert(offsetof(struct ib_uverbs_wc, wc_flags) == offsetof(struct ibv_wc, wc_flags),
	      "wc layout");

SODP_RESP(sodp_create_cq_resp, ib_uverbs_create_cq_resp, rxe_create_cq_resp);

SODP_RESP(sodp_create_cq_ex_resp, ib_uverbs_ex_create_cq_resp, rxe_create_cq_resp);

SODP_RESP(sodp_resize_cq_resp, ib_uverbs_resize_cq_resp, rxe_resize_cq_resp);

int sodp_ring_map(struct sodp_ring *r, int cmd_fd, const struct mminfo *mi)
{
	void *p = mmap(NULL, mi->size, PROT_READ | PROT_WRITE, MAP_SHARED, cmd_fd, mi->offset);

	if (p == MAP_FAILED)
		return errno;
	r->buf = p;
	r->mi = *mi;
	return 0;
}

void sodp_ring_unmap(struct sodp_ring *r)
{
	if (r->buf)
		munmap(r->buf, r->mi.size);
	r->buf = NULL;
}

/* Map the CQ ring and check that its elements hold a completion. */
static int sodp_cq_map(struct sodp_cq *cq, int cmd_fd, const struct mminfo *mi)
{
	int ret = sodp_ring_map(&cq->ring, cmd_fd, mi);

	if (ret)
		return ret;
	if (((size_t)1 << cq->ring.buf->log2_elem_size) < sizeof(struct ib_uverbs_wc)) {
		sodp_ring_unmap(&cq->ring);
		return EINVAL;
	}
	return 0;
}

struct ibv_cq *sodp_create_cq(struct ibv_context *ctx, int cqe, struct ibv_comp_channel *channel,
			      int comp_vector)
{
	struct sodp_create_cq_resp resp = {0};
	struct sodp_cq *cq = calloc(1, sizeof(*cq));
	int ret;

	if (!cq)
		return NULL;
	ret = ibv_cmd_create_cq(ctx, cqe, channel, comp_vector, &cq->vcq.cq, NULL, 0, &resp.core,
				sizeof(resp));
	if (ret)
		goto err_free;
	ret = sodp_cq_map(cq, ctx->cmd_fd, &resp.drv.mi);
	if (ret)
		goto err_destroy;
	pthread_spin_init(&cq->ring.lock, PTHREAD_PROCESS_PRIVATE);
	return &cq->vcq.cq;

err_destroy:
	ibv_cmd_destroy_cq(&cq->vcq.cq);
err_free:
	free(cq);
	errno = ret;
	return NULL;
}

int sodp_poll_cq(struct ibv_cq *ibcq, int ne, struct ibv_wc *wc)
{
	struct sodp_cq *cq = to_scq(ibcq);
	struct rxe_queue_buf *b;
	uint32_t cons;
	int n = 0;

	pthread_spin_lock(&cq->ring.lock);
	b = cq->ring.buf;
	cons = atomic_load_explicit(ring_cons(b), memory_order_relaxed);
	while (n < ne && !ring_empty_at(b, cons)) {
		memcpy(&wc[n++], ring_elem(b, cons), sizeof(*wc));
		cons = ring_next(b, cons);
	}
	/* One release for the whole batch: the slots are read. */
	if (n)
		atomic_store_explicit(ring_cons(b), cons, memory_order_release);
	pthread_spin_unlock(&cq->ring.lock);
	return n;
}

/* ---- extended CQ ------------------------------------------------------------ */

static void sodp_cq_load(struct sodp_cq *cq)
{
	cq->cur = ring_elem(cq->ring.buf, cq->cur_index);
	cq->vcq.cq_ex.status = cq->cur->status;
	cq->vcq.cq_ex.wr_id = cq->cur->wr_id;
}

static int sodp_start_poll(struct ibv_cq_ex *ibcq, struct ibv_poll_cq_attr *attr)
{
	struct sodp_cq *cq = ex_to_scq(ibcq);

	if (attr->comp_mask)
		return EINVAL;
	pthread_spin_lock(&cq->ring.lock);
	cq->cur_index = atomic_load_explicit(ring_cons(cq->ring.buf), memory_order_relaxed);
	if (ring_empty_at(cq->ring.buf, cq->cur_index)) {
		pthread_spin_unlock(&cq->ring.lock);
		return ENOENT;
	}
	sodp_cq_load(cq);
	return 0;
}

static int sodp_next_poll(struct ibv_cq_ex *ibcq)
{
	struct sodp_cq *cq = ex_to_scq(ibcq);

	cq->cur_index = ring_next(cq->ring.buf, cq->cur_index);
	if (ring_empty_at(cq->ring.buf, cq->cur_index)) {
		/* Keep the lock: end_poll() follows and releases the slots. */
		cq->cur = NULL;
		return ENOENT;
	}
	sodp_cq_load(cq);
	return 0;
}

static void sodp_end_poll(struct ibv_cq_ex *ibcq)
{
	struct sodp_cq *cq = ex_to_scq(ibcq);
	uint32_t idx = cq->cur_index;

	/* After a successful start/next the current element was read too. */
	if (cq->cur)
		idx = ring_next(cq->ring.buf, idx);
	atomic_store_explicit(ring_cons(cq->ring.buf), idx, memory_order_release);
	cq->cur = NULL;
	pthread_spin_unlock(&cq->ring.lock);
}

static enum ibv_wc_opcode sodp_read_opcode(struct ibv_cq_ex *ibcq)
{
	return ex_to_scq(ibcq)->cur->opcode;
}

static uint32_t sodp_read_vendor_err(struct ibv_cq_ex *ibcq)
{
	return ex_to_scq(ibcq)->cur->vendor_err;
}

static uint32_t sodp_read_byte_len(struct ibv_cq_ex *ibcq)
{
	return ex_to_scq(ibcq)->cur->byte_len;
}

static __be32 sodp_read_imm_data(struct ibv_cq_ex *ibcq)
{
	return ex_to_scq(ibcq)->cur->ex.imm_data;
}

static uint32_t sodp_read_qp_num(struct ibv_cq_ex *ibcq)
{
	return ex_to_scq(ibcq)->cur->qp_num;
}

static uint32_t sodp_read_src_qp(struct ibv_cq_ex *ibcq)
{
	return ex_to_scq(ibcq)->cur->src_qp;
}

static unsigned int sodp_read_wc_flags(struct ibv_cq_ex *ibcq)
{
	return ex_to_scq(ibcq)->cur->wc_flags;
}

static uint32_t sodp_read_slid(struct ibv_cq_ex *ibcq)
{
	return ex_to_scq(ibcq)->cur->slid;
}

static uint8_t sodp_read_sl(struct ibv_cq_ex *ibcq)
{
	return ex_to_scq(ibcq)->cur->sl;
}

static uint8_t sodp_read_dlid_path_bits(struct ibv_cq_ex *ibcq)
{
	return ex_to_scq(ibcq)->cur->dlid_path_bits;
}

#define SODP_WC_EX_FLAGS                                                                           \
	(IBV_WC_EX_WITH_BYTE_LEN | IBV_WC_EX_WITH_IMM | IBV_WC_EX_WITH_QP_NUM |                    \
	 IBV_WC_EX_WITH_SRC_QP | IBV_WC_EX_WITH_SLID | IBV_WC_EX_WITH_SL |                         \
	 IBV_WC_EX_WITH_DLID_PATH_BITS)

struct ibv_cq_ex *sodp_create_cq_ex(struct ibv_context *ctx, struct ibv_cq_init_attr_ex *attr)
{
	struct sodp_create_cq_ex_resp resp = {0};
	struct ibv_cq_ex *ex;
	struct sodp_cq *cq;
	int ret;

	if (attr->wc_flags & ~(uint64_t)SODP_WC_EX_FLAGS) {
		errno = EOPNOTSUPP;
		return NULL;
	}
	cq = calloc(1, sizeof(*cq));
	if (!cq)
		return NULL;
	ret = ibv_cmd_create_cq_ex(ctx, attr, &cq->vcq, NULL, 0, &resp.core, sizeof(resp), 0);
	if (ret)
		goto err_free;
	ret = sodp_cq_map(cq, ctx->cmd_fd, &resp.drv.mi);
	if (ret)
		goto err_destroy;
	pthread_spin_init(&cq->ring.lock, PTHREAD_PROCESS_PRIVATE);

	ex = &cq->vcq.cq_ex;
	ex->start_poll = sodp_start_poll;
	ex->next_poll = sodp_next_poll;
	ex->end_poll = sodp_end_poll;
	ex->read_opcode = sodp_read_opcode;
	ex->read_vendor_err = sodp_read_vendor_err;
	ex->read_wc_flags = sodp_read_wc_flags;
	if (attr->wc_flags & IBV_WC_EX_WITH_BYTE_LEN)
		ex->read_byte_len = sodp_read_byte_len;
	if (attr->wc_flags & IBV_WC_EX_WITH_IMM)
		ex->read_imm_data = sodp_read_imm_data;
	if (attr->wc_flags & IBV_WC_EX_WITH_QP_NUM)
		ex->read_qp_num = sodp_read_qp_num;
	if (attr->wc_flags & IBV_WC_EX_WITH_SRC_QP)
		ex->read_src_qp = sodp_read_src_qp;
	if (attr->wc_flags & IBV_WC_EX_WITH_SLID)
		ex->read_slid = sodp_read_slid;
	if (attr->wc_flags & IBV_WC_EX_WITH_SL)
		ex->read_sl = sodp_read_sl;
	if (attr->wc_flags & IBV_WC_EX_WITH_DLID_PATH_BITS)
		ex->read_dlid_path_bits = sodp_read_dlid_path_bits;
	return ex;

err_destroy:
	ibv_cmd_destroy_cq(&cq->vcq.cq);
err_free:
	free(cq);
	errno = ret;
	return NULL;
}

int sodp_resize_cq(struct ibv_cq *ibcq, int cqe)
{
	struct sodp_cq *cq = to_scq(ibcq);
	struct pabi_cmd_resize_cq cmd;
	struct sodp_resize_cq_resp resp = {0};
	int ret;

	pthread_spin_lock(&cq->ring.lock);
	ret = ibv_cmd_resize_cq(ibcq, cqe, &cmd, sizeof(cmd), &resp.core, sizeof(resp));
	if (!ret) {
		/* The kernel copied the completions into a new ring. */
		sodp_ring_unmap(&cq->ring);
		ret = sodp_cq_map(cq, ibcq->context->cmd_fd, &resp.drv.mi);
	}
	pthread_spin_unlock(&cq->ring.lock);
	return ret;
}

int sodp_destroy_cq(struct ibv_cq *ibcq)
{
	struct sodp_cq *cq = to_scq(ibcq);
	int ret = ibv_cmd_destroy_cq(ibcq);

	if (ret)
		return ret;
	sodp_ring_unmap(&cq->ring);
	pthread_spin_destroy(&cq->ring.lock);
	free(cq);
	return 0;
}
