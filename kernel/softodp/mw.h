/* SPDX-License-Identifier: GPL-2.0 */
/*
 * softodp: memory windows as the engines see them (mw.c).
 *
 * The responder resolves every rkey with sodp_rkey_lookup(): a window's
 * rkey yields the region it is bound to, referenced like a region found by
 * its own key, so the bytes move through sodp_mr_copy() and friends
 * whatever the region is (pinned or ODP).  The requester executes
 * IB_WR_BIND_MW with sodp_mw_bind(); LOCAL_INV and SEND with invalidate
 * of a window's rkey go to sodp_mw_invalidate().
 */
#ifndef SOFTODP_MW_H
#define SOFTODP_MW_H

#include "softodp.h"

struct sodp_mr *sodp_rkey_lookup(struct sodp_qp *qp, u32 rkey, u64 va,
				 u64 len, int access);
struct sodp_mr *sodp_rkey_lookup_whole(struct sodp_qp *qp, u32 rkey,
				       int access);
int sodp_mw_bind(struct sodp_qp *qp, const struct sodp_swqe *s);
int sodp_mw_invalidate(struct sodp_qp *qp, u32 rkey, bool remote);

#endif /* SOFTODP_MW_H */
