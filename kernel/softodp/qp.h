/* SPDX-License-Identifier: GPL-2.0 */
/*
 * softodp: queue pair internals shared by the QP verbs (verbs_qp.c), the
 * state machine (qp_state.c) and the protocol engines.
 *
 * Engines reading user rings: indices are masked by the queue helpers,
 * but WQE contents are whatever user space wrote - clamp dma.num_sge to
 * the queue's max_sge, check opcodes, lengths and keys before use.
 *
 * Receives librxe posts to a QP already in the error state involve no
 * system call; they are flushed at the next kick (doorbell, modify_qp).
 */
#ifndef SOFTODP_QP_H
#define SOFTODP_QP_H

#include "softodp.h"

/* qp_state.c */
const char *sodp_qp_state_name(enum ib_qp_state state);
int sodp_modify_qp(struct ib_qp *ibqp, struct ib_qp_attr *attr, int mask,
		   struct ib_udata *udata);
void sodp_qp_flush(struct sodp_qp *qp);
void sodp_qp_to_error(struct sodp_qp *qp);
enum ib_qp_state sodp_qp_cur_state(struct sodp_qp *qp);
void sodp_qp_event(struct sodp_qp *qp, enum ib_event_type type);

#endif /* SOFTODP_QP_H */
