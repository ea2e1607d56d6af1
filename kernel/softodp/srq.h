/* SPDX-License-Identifier: GPL-2.0 */
/* softodp: SRQ services for the responder. */
#ifndef SOFTODP_SRQ_H
#define SOFTODP_SRQ_H

#include "softodp.h"

void sodp_srq_consumed(struct sodp_srq *srq);

#endif /* SOFTODP_SRQ_H */
