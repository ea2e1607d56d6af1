/* SPDX-License-Identifier: GPL-2.0 */
/*
 * softodp: work queue elements - sizes in the rxe ABI, kernel posting,
 * the requester's shadow copies and the opcode predicates of send WQEs.
 *
 * Send queue elements are struct rxe_send_wqe followed by the gather list
 * (struct rxe_sge) or the inline data; receive and SRQ elements are
 * struct rxe_recv_wqe followed by the scatter list.  librxe finds the
 * element size in the ring header, so the kernel chooses it.
 */
#ifndef SOFTODP_WQE_H
#define SOFTODP_WQE_H

#include <linux/log2.h>

#include "softodp.h"

static inline size_t sodp_send_wqe_size(u32 max_sge, u32 max_inline)
{
	return roundup_pow_of_two(sizeof(struct rxe_send_wqe) +
				  max_t(size_t, max_sge * sizeof(struct rxe_sge),
					max_inline));
}

static inline size_t sodp_recv_wqe_size(u32 max_sge)
{
	return roundup_pow_of_two(sizeof(struct rxe_recv_wqe) +
				  max_sge * sizeof(struct rxe_sge));
}

/* Scatter/gather entries that fit in a receive element of @size bytes. */
static inline u32 sodp_recv_wqe_sges(size_t size)
{
	return (size - sizeof(struct rxe_recv_wqe)) / sizeof(struct rxe_sge);
}

int sodp_post_recv_ring(struct sodp_queue *q, spinlock_t *lock, u32 max_sge,
			const struct ib_recv_wr *wr,
			const struct ib_recv_wr **bad_wr);
int sodp_send_wqe_fill(struct rxe_send_wqe *wqe, const struct ib_send_wr *wr,
		       u32 max_sge, u32 max_inline, u32 ssn, bool ud);
enum ib_wc_opcode sodp_wr_to_wc_opcode(u32 opcode);

/*
 * RDMA READ, atomics and FLUSH: they take a responder resource and are
 * answered by a response of their own (FLUSH by a READ response without
 * data), not by a cumulative ACK.
 */
static inline bool sodp_wr_is_rd_atomic(u32 opcode)
{
	return opcode == IB_WR_RDMA_READ ||
	       opcode == IB_WR_ATOMIC_CMP_AND_SWP ||
	       opcode == IB_WR_ATOMIC_FETCH_AND_ADD ||
	       opcode == SODP_WR_FLUSH;
}

/*
 * The FLUSH fields of a user send WQE: struct rxe_send_wr's wr.flush in
 * the uverbs headers of 6.2+, the same bytes of its union before.  librxe
 * stores the length of the range in dma.length, not here.
 */
struct sodp_flush_wr {
	__aligned_u64	remote_addr;
	__u32		length;
	__u32		rkey;
	__u8		type;
	__u8		level;
};

static inline bool sodp_wr_is_atomic(u32 opcode)
{
	return opcode == IB_WR_ATOMIC_CMP_AND_SWP ||
	       opcode == IB_WR_ATOMIC_FETCH_AND_ADD;
}

/* Executed by the requester itself, without a packet. */
static inline bool sodp_wr_is_local(u32 opcode)
{
	return opcode == IB_WR_LOCAL_INV || opcode == IB_WR_REG_MR ||
	       opcode == IB_WR_BIND_MW;
}

/* The requester's shadow of SQ slot @index (struct sodp_req). */
static inline struct sodp_swqe *sodp_swqe(struct sodp_qp *qp, u32 index)
{
	return qp->req.shadow +
	       (size_t)(index & qp->sq.q.index_mask) * qp->req.shadow_size;
}

#endif /* SOFTODP_WQE_H */
