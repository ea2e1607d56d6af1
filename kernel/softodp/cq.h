/* SPDX-License-Identifier: GPL-2.0 */
/*
 * softodp: posting completions (used by the flush and the protocol
 * engines).
 */
#ifndef SOFTODP_CQ_H
#define SOFTODP_CQ_H

#include "softodp.h"

int sodp_cq_post(struct sodp_cq *cq, const struct ib_wc *wc, bool solicited);

#endif /* SOFTODP_CQ_H */
