// SPDX-License-Identifier: GPL-2.0
/*
 * softodp: work queue elements posted by in-kernel consumers.
 *
 * Kernel QPs use the same rings and element formats as librxe does for
 * user QPs, so the protocol engines read one format.  struct ib_sge and
 * struct rxe_sge have the same layout, and the kernel's IB_WR_* and
 * IB_SEND_* values are the ones librxe stores (the uverbs values).
 */
#include "wqe.h"

/*
 * The ABI librxe (rdma-core 44) was built against, measured with the
 * installed user-space headers: ring header, element and CQE layouts.
 */
static_assert(sizeof(struct rxe_queue_buf) == 384);
static_assert(offsetof(struct rxe_queue_buf, producer_index) == 128);
static_assert(offsetof(struct rxe_queue_buf, consumer_index) == 256);
static_assert(sizeof(struct rxe_send_wqe) == 208);
static_assert(offsetof(struct rxe_send_wqe, dma) == 184);
static_assert(sizeof(struct rxe_recv_wqe) == 40);
static_assert(offsetof(struct rxe_recv_wqe, dma) == 16);
static_assert(sizeof(struct rxe_sge) == 16);
static_assert(sizeof(struct ib_uverbs_wc) == 48);

static_assert(sizeof(struct ib_sge) == sizeof(struct rxe_sge));
static_assert(offsetof(struct ib_sge, lkey) == offsetof(struct rxe_sge, lkey));

int sodp_recv_wqe_fill(struct rxe_recv_wqe *wqe, const struct ib_recv_wr *wr,
		       u32 max_sge)
{
	u64 len = 0;
	int i;

	if (wr->num_sge < 0 || wr->num_sge > max_sge)
		return -EINVAL;
	for (i = 0; i < wr->num_sge; i++)
		len += wr->sg_list[i].length;
	if (len > SODP_MAX_MSG_SZ)
		return -EINVAL;

	memset(wqe, 0, sizeof(*wqe));
	wqe->wr_id = wr->wr_id;
	memcpy(wqe->dma.sge, wr->sg_list, wr->num_sge * sizeof(struct rxe_sge));
	wqe->dma.length = len;
	wqe->dma.resid = len;
	wqe->dma.num_sge = wr->num_sge;
	return 0;
}

static int sodp_send_wr_check(const struct ib_send_wr *wr)
{
	switch (wr->opcode) {
	case IB_WR_SEND:
	case IB_WR_SEND_WITH_IMM:
	case IB_WR_SEND_WITH_INV:
	case IB_WR_RDMA_WRITE:
	case IB_WR_RDMA_WRITE_WITH_IMM:
	case IB_WR_RDMA_READ:
	case IB_WR_LOCAL_INV:
	case IB_WR_REG_MR:
		return 0;
	case IB_WR_ATOMIC_CMP_AND_SWP:
	case IB_WR_ATOMIC_FETCH_AND_ADD:
		if (atomic_wr(wr)->remote_addr & 7)
			return -EINVAL;
		return 0;
	default:
		return -EOPNOTSUPP;
	}
}

/**
 * sodp_send_wqe_fill() - format a kernel send work request
 * @wqe: the SQ element
 * @wr: the request
 * @max_sge: gather entries per element
 * @max_inline: inline bytes per element
 * @ssn: send sequence number to record
 *
 * Return: 0, -EINVAL or -EOPNOTSUPP.
 */
int sodp_send_wqe_fill(struct rxe_send_wqe *wqe, const struct ib_send_wr *wr,
		       u32 max_sge, u32 max_inline, u32 ssn)
{
	u64 len = 0;
	u8 *p;
	int ret, i;

	ret = sodp_send_wr_check(wr);
	if (ret)
		return ret;
	if (wr->num_sge < 0 || wr->num_sge > max_sge)
		return -EINVAL;
	for (i = 0; i < wr->num_sge; i++)
		len += wr->sg_list[i].length;
	if (len > SODP_MAX_MSG_SZ ||
	    ((wr->send_flags & IB_SEND_INLINE) && len > max_inline))
		return -EINVAL;

	memset(wqe, 0, sizeof(*wqe));
	wqe->wr.wr_id = wr->wr_id;
	wqe->wr.opcode = wr->opcode;
	wqe->wr.send_flags = wr->send_flags;
	if (wr->opcode == IB_WR_LOCAL_INV || wr->opcode == IB_WR_SEND_WITH_INV)
		wqe->wr.ex.invalidate_rkey = wr->ex.invalidate_rkey;
	else
		wqe->wr.ex.imm_data = wr->ex.imm_data;

	switch (wr->opcode) {
	case IB_WR_RDMA_WRITE:
	case IB_WR_RDMA_WRITE_WITH_IMM:
	case IB_WR_RDMA_READ:
		wqe->wr.wr.rdma.remote_addr = rdma_wr(wr)->remote_addr;
		wqe->wr.wr.rdma.rkey = rdma_wr(wr)->rkey;
		wqe->iova = rdma_wr(wr)->remote_addr;
		break;
	case IB_WR_ATOMIC_CMP_AND_SWP:
	case IB_WR_ATOMIC_FETCH_AND_ADD:
		wqe->wr.wr.atomic.remote_addr = atomic_wr(wr)->remote_addr;
		wqe->wr.wr.atomic.compare_add = atomic_wr(wr)->compare_add;
		wqe->wr.wr.atomic.swap = atomic_wr(wr)->swap;
		wqe->wr.wr.atomic.rkey = atomic_wr(wr)->rkey;
		wqe->iova = atomic_wr(wr)->remote_addr;
		break;
	case IB_WR_REG_MR:
		/* Kernel QPs only: user rings never carry this opcode. */
		wqe->wr.wr.reg.mr = reg_wr(wr)->mr;
		wqe->wr.wr.reg.key = reg_wr(wr)->key;
		wqe->wr.wr.reg.access = reg_wr(wr)->access;
		break;
	default:
		break;
	}

	if (wr->send_flags & IB_SEND_INLINE) {
		/* In-kernel addresses are kernel virtual (ib_uses_virt_dma). */
		p = wqe->dma.inline_data;
		for (i = 0; i < wr->num_sge; i++) {
			memcpy(p, (void *)(uintptr_t)wr->sg_list[i].addr,
			       wr->sg_list[i].length);
			p += wr->sg_list[i].length;
		}
	} else {
		memcpy(wqe->dma.sge, wr->sg_list,
		       wr->num_sge * sizeof(struct rxe_sge));
	}
	wqe->dma.length = len;
	wqe->dma.resid = len;
	wqe->dma.num_sge = wr->num_sge;
	wqe->ssn = ssn;
	return 0;
}
