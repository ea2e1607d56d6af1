/* SPDX-License-Identifier: GPL-2.0 */
/*
 * softodp: memory region lookup for the data path.
 *
 * Engines resolve a key with sodp_mr_get_key(), check it with
 * sodp_mr_check(), reach the bytes with sodp_mr_page() (pinned and DMA
 * regions) or the ODP core's access API on mr->odp at sodp_mr_va()
 * (ODP regions), and drop the reference with sodp_mr_put().
 */
#ifndef SOFTODP_MR_H
#define SOFTODP_MR_H

#include "softodp.h"

struct sodp_mr *sodp_mr_get_key(struct sodp_dev *sdev, u32 key);

static inline void sodp_mr_put(struct sodp_mr *mr)
{
	if (refcount_dec_and_test(&mr->ref))
		complete(&mr->done);
}

int sodp_mr_check(struct sodp_mr *mr, struct sodp_pd *pd, u64 iova, u64 len,
		  int access);
int sodp_mr_page(struct sodp_mr *mr, u64 iova, struct page **page,
		 unsigned int *offset);

/* Process virtual address of @iova in a user or ODP region. */
static inline u64 sodp_mr_va(struct sodp_mr *mr, u64 iova)
{
	return mr->va + (iova - mr->ibmr.iova);
}

#endif /* SOFTODP_MR_H */
