/* SPDX-License-Identifier: GPL-2.0 */
/*
 * softodp: work queue element sizes in the rxe ABI.
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

int sodp_recv_wqe_fill(struct rxe_recv_wqe *wqe, const struct ib_recv_wr *wr,
		       u32 max_sge);
int sodp_send_wqe_fill(struct rxe_send_wqe *wqe, const struct ib_send_wr *wr,
		       u32 max_sge, u32 max_inline, u32 ssn);

#endif /* SOFTODP_WQE_H */
