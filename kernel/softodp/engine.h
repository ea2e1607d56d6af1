/* SPDX-License-Identifier: GPL-2.0 */
/*
 * softodp: scheduling of a QP's protocol engines (engine.c) and the
 * engines' entry points (req.c, comp.c, resp.c, resp_fault.c).
 *
 * Processing model: every QP has one work item (sodp_qp.work) on its
 * device's per-CPU, high-priority workqueue.  Anything that may give the
 * QP work to do kicks it (sodp_qp_kick()): kernel post verbs, modify_qp,
 * incoming packets (queued on sodp_qp.rxq by sodp_qp_rx_enqueue()) and
 * the retransmission and RNR timers; the post_send doorbell of a user QP
 * runs the engines itself when nobody else does (sodp_qp_run()).  The
 * engines run in process context with proc_lock held, so they may sleep
 * (ODP faults); proc_lock keeps a QP's runs apart and also excludes the
 * synchronous flush and the engine set-up done by modify_qp.  One run: received
 * packets (requests to the responder, responses to the completer), then
 * the completer's timers, then the requester; a QP in ERR is flushed.
 * Datagram QPs (UD, GSI) have no completer: their receives go to ud.c and
 * their send WQEs complete when sent.
 *
 * Drives: whoever runs a QP's engines (the work item, or the post_send
 * doorbell of a user QP in its own system call, sodp_qp_run()) then runs,
 * one after the other, the local QPs its packets went to - and theirs -
 * instead of waking their work items (struct sodp_drive).
 *
 * Every function below except sodp_qp_kick(), sodp_qp_run(),
 * sodp_qp_rx_enqueue() and the life-cycle helpers is called with the QP's
 * proc_lock held.
 */
#ifndef SOFTODP_ENGINE_H
#define SOFTODP_ENGINE_H

#include "softodp.h"

struct sk_buff;

/* QPs one drive remembers; those that do not fit are kicked. */
#define SODP_DRIVE_SLOTS	8

/**
 * struct sodp_drive - QPs that a run of the engines gave work to
 * @qp: QPs, each with a reference, in the order they were added
 * @n: entries in @qp
 *
 * A packet delivered locally (net.c) to a QP whose receive queue was empty
 * adds that QP here instead of kicking its work item; the drive runs it
 * when the current run is over (sodp_qp_drive()).  Lives on the stack of
 * the one context that runs the drive: only it touches it.
 */
struct sodp_drive {
	struct sodp_qp *qp[SODP_DRIVE_SLOTS];
	unsigned int n;
};

/* engine.c: scheduling, timers, engine memory */
void sodp_qp_kick(struct sodp_qp *qp);
void sodp_qp_run(struct sodp_qp *qp);
bool sodp_qp_rx_enqueue(struct sodp_qp *qp, struct sk_buff *skb,
			struct sodp_drive *drive);
void sodp_qp_engine_init(struct sodp_qp *qp);
int sodp_qp_engine_alloc(struct sodp_qp *qp);
void sodp_qp_engine_stop(struct sodp_qp *qp);
void sodp_qp_engine_free(struct sodp_qp *qp);
void sodp_qp_arm_retrans(struct sodp_qp *qp, bool restart);
void sodp_qp_stop_retrans(struct sodp_qp *qp);
void sodp_qp_arm_rnr(struct sodp_qp *qp, u32 usecs);
void sodp_qp_arm_err_poll(struct sodp_qp *qp);

/* req.c: the requester */
void sodp_req_init(struct sodp_qp *qp);
void sodp_req_run(struct sodp_qp *qp);
void sodp_req_drain(struct sodp_qp *qp);
void sodp_req_resume(struct sodp_qp *qp);

/* comp.c: the completer */
void sodp_comp_rx(struct sodp_qp *qp, struct sk_buff *skb);
void sodp_comp_timers(struct sodp_qp *qp);
void sodp_comp_advance(struct sodp_qp *qp);

/* resp.c: the responder, and receive WQEs (also for ud.c) */
void sodp_resp_init(struct sodp_qp *qp);
void sodp_resp_rx(struct sodp_qp *qp, struct sk_buff *skb);
void sodp_resp_flush_ack(struct sodp_qp *qp);
void sodp_resp_drop_wqe(struct sodp_qp *qp);
int sodp_resp_get_wqe(struct sodp_qp *qp);
void sodp_resp_complete(struct sodp_qp *qp, struct ib_wc *wc, bool se);

/* resp_fault.c: responder page faults answered with RNR NAK */
void sodp_resp_fault_init(struct sodp_qp *qp);
void sodp_resp_fault_stop(struct sodp_qp *qp);
int sodp_resp_fault_ready(struct sodp_qp *qp, struct sodp_mr *mr, u64 iova,
			  u64 len, bool write, bool stream);

/* ud.c: datagrams of UD QPs and the GSI QP1 */
bool sodp_ud_copy_wqe(struct sodp_qp *qp, struct rxe_send_wqe *w,
		      struct sodp_swqe *s);
int sodp_ud_xmit(struct sodp_qp *qp, struct sodp_swqe *s);
void sodp_ud_rx(struct sodp_qp *qp, struct sk_buff *skb);

#endif /* SOFTODP_ENGINE_H */
