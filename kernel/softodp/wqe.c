// SPDX-License-Identifier: GPL-2.0
/*
 * softodp: work queue elements - posted by in-kernel consumers, and the
 * opcode predicates the engines share.
 *
 * Kernel QPs use the same rings and element formats as librxe does for
 * user QPs, so the protocol engines read one format.  struct ib_sge and
 * struct rxe_sge have the same layout, and the kernel's IB_WR_* and
 * IB_SEND_* values are the ones librxe stores (the uverbs values).
 */
#include "queue.h"
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
/* A kernel UD WQE carries its AH's resolved address vector in wr.ud.av. */
static_assert(sizeof(struct sodp_av) <= sizeof(struct rxe_av));
static_assert(offsetof(struct ib_sge, lkey) == offsetof(struct rxe_sge, lkey));
static_assert(sizeof(struct sodp_flush_wr) <=
	      sizeof_field(struct rxe_send_wr, wr));
#ifdef SOFTODP_HAVE_FLUSH
static_assert(offsetof(struct rxe_send_wr, wr.flush.rkey) ==
	      offsetof(struct rxe_send_wr, wr) +
	      offsetof(struct sodp_flush_wr, rkey));
static_assert(offsetof(struct rxe_send_wr, wr.flush.level) ==
	      offsetof(struct rxe_send_wr, wr) +
	      offsetof(struct sodp_flush_wr, level));
#endif

static int sodp_recv_wqe_fill(struct rxe_recv_wqe *wqe,
			      const struct ib_recv_wr *wr, u32 max_sge)
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
 * @ud: the QP is a UD (or GSI) QP: only SEND and SEND with immediate, and
 *	the request is a struct ib_ud_wr whose AH is copied into the element
 *
 * Return: 0, -EINVAL or -EOPNOTSUPP.
 */
int sodp_send_wqe_fill(struct rxe_send_wqe *wqe, const struct ib_send_wr *wr,
		       u32 max_sge, u32 max_inline, u32 ssn, bool ud)
{
	u64 len = 0;
	u8 *p;
	int ret, i;

	ret = sodp_send_wr_check(wr);
	if (ret)
		return ret;
	if (ud && ((wr->opcode != IB_WR_SEND &&
		    wr->opcode != IB_WR_SEND_WITH_IMM) || !ud_wr(wr)->ah))
		return -EINVAL;
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
	if (ud) {
		wqe->wr.wr.ud.remote_qpn = ud_wr(wr)->remote_qpn;
		wqe->wr.wr.ud.remote_qkey = ud_wr(wr)->remote_qkey;
		wqe->wr.wr.ud.pkey_index = ud_wr(wr)->pkey_index;
		memcpy(&wqe->wr.wr.ud.av, &to_sah(ud_wr(wr)->ah)->av,
		       sizeof(struct sodp_av));
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

/**
 * sodp_post_recv_ring() - post kernel receive work requests into a ring
 * @q: a kernel-owned RQ or SRQ ring
 * @lock: the ring's producer lock (sodp_wq.lock or sodp_srq.lock)
 * @max_sge: scatter entries an element holds
 * @wr: the chain of requests
 * @bad_wr: set to the first request not posted, on error
 *
 * Context: any (takes @lock with interrupts saved).
 * Return: 0, -ENOMEM (ring full) or -EINVAL (bad scatter list).
 */
int sodp_post_recv_ring(struct sodp_queue *q, spinlock_t *lock, u32 max_sge,
			const struct ib_recv_wr *wr,
			const struct ib_recv_wr **bad_wr)
{
	unsigned long flags;
	int ret = 0;

	spin_lock_irqsave(lock, flags);
	for (; wr; wr = wr->next) {
		if (sodp_queue_client_full(q)) {
			ret = -ENOMEM;
			break;
		}
		ret = sodp_recv_wqe_fill(sodp_queue_elem(q,
					 sodp_queue_client_index(q)),
					 wr, max_sge);
		if (ret)
			break;
		sodp_queue_client_advance(q);
	}
	spin_unlock_irqrestore(lock, flags);
	if (ret)
		*bad_wr = wr;
	return ret;
}

/**
 * sodp_wr_to_wc_opcode() - the completion opcode of a send WQE
 * @opcode: IB_WR_* of the WQE
 *
 * Return: the IB_WC_* opcode its completion reports.
 */
enum ib_wc_opcode sodp_wr_to_wc_opcode(u32 opcode)
{
	switch (opcode) {
	case IB_WR_RDMA_WRITE:
	case IB_WR_RDMA_WRITE_WITH_IMM:
		return IB_WC_RDMA_WRITE;
	case IB_WR_RDMA_READ:
		return IB_WC_RDMA_READ;
	case IB_WR_ATOMIC_CMP_AND_SWP:
		return IB_WC_COMP_SWAP;
	case IB_WR_ATOMIC_FETCH_AND_ADD:
		return IB_WC_FETCH_ADD;
	case SODP_WR_ATOMIC_WRITE:
		return SODP_WC_ATOMIC_WRITE;
	case SODP_WR_FLUSH:
		return SODP_WC_FLUSH;
	case IB_WR_LOCAL_INV:
		return IB_WC_LOCAL_INV;
	case IB_WR_REG_MR:
		return IB_WC_REG_MR;
	case IB_WR_BIND_MW:
		return IB_WC_BIND_MW;
	default:
		return IB_WC_SEND;
	}
}
