/* SPDX-License-Identifier: GPL-2.0 */
/*
 * softodp: queue pair internals shared by the QP verbs, the state machine
 * and (next) the protocol engines.
 *
 * Processing model: every QP has one work item (sodp_qp.work) on its
 * device's per-CPU, high-priority workqueue.  Anything that may give the
 * QP work to do kicks it: the post_send doorbell (sodp_qp_kick_sq()),
 * kernel post verbs in the error state, incoming packets and timers.  The
 * work function runs in process context with proc_lock held, so the
 * engines may sleep (ODP faults) and never rely on tasklet exclusion; a
 * work item never runs concurrently with itself and proc_lock also
 * excludes the synchronous flush done by modify_qp.
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
enum ib_wc_opcode sodp_wr_to_wc_opcode(u32 opcode);

/* req.c, resp.c: engine set-up and teardown helpers (proc_lock held) */
void sodp_qp_set_path(struct sodp_qp *qp);
void sodp_req_arm_timer(struct sodp_qp *qp);
void sodp_resp_drop_wqe(struct sodp_qp *qp);

/* verbs_qp.c */
void sodp_qp_kick(struct sodp_qp *qp);

/* The send queue doorbell: new WQEs may be in the SQ. */
static inline void sodp_qp_kick_sq(struct sodp_qp *qp)
{
	sodp_qp_kick(qp);
}

#endif /* SOFTODP_QP_H */
