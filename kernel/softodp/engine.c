// SPDX-License-Identifier: GPL-2.0
/*
 * softodp: scheduling of a QP's protocol engines - the work item, its
 * kick, the receive queue, the timers and the engines' memory.  See
 * engine.h for the processing model.
 */
#include <linux/jiffies.h>
#include <linux/slab.h>

#include "engine.h"
#include "pkt.h"
#include "qp.h"
#include "queue.h"
#include "recv.h"

/* Received packets handled per work run before yielding. */
#define SODP_RX_BUDGET	256

/*
 * A user QP in ERR looks at its receive ring this often: soon after it
 * entered ERR or last found a receive there, doubling up to once a second
 * while none comes (sodp_qp_err_timer()).
 */
#define SODP_ERR_POLL_MIN	msecs_to_jiffies(10)
#define SODP_ERR_POLL_MAX	msecs_to_jiffies(1000)

/* Queued packets per QP before the RX path drops (the peer retransmits). */
#define SODP_RXQ_MAX	4096

/*
 * Runs per drive, the first included: a local message, its
 * acknowledgement and its completion take three; more is left to the
 * work items so that one system call does not run for long.
 */
#define SODP_DRIVE_RUNS	16

/**
 * sodp_qp_kick() - schedule the QP's work item
 * @qp: QP
 *
 * Context: any.
 */
void sodp_qp_kick(struct sodp_qp *qp)
{
	queue_work(sodp_qp_dev(qp)->wq, &qp->work);
}

/* Give @qp's run to @d (the caller holds a reference); false: no room. */
static bool sodp_drive_add(struct sodp_drive *d, struct sodp_qp *qp)
{
	unsigned int i;

	for (i = 0; i < d->n; i++)
		if (d->qp[i] == qp)
			return true;
	if (d->n == SODP_DRIVE_SLOTS)
		return false;
	refcount_inc(&qp->ref);
	d->qp[d->n++] = qp;
	return true;
}

/* The oldest QP of @d with its reference, or NULL. */
static struct sodp_qp *sodp_drive_pop(struct sodp_drive *d)
{
	struct sodp_qp *qp;

	if (!d->n)
		return NULL;
	qp = d->qp[0];
	memmove(&d->qp[0], &d->qp[1], --d->n * sizeof(d->qp[0]));
	return qp;
}

/**
 * sodp_qp_rx_enqueue() - queue a received packet for the QP's engines
 * @qp: QP (referenced by the caller)
 * @skb: packet with its struct sodp_pkt filled in
 * @drive: the sender's drive for a packet delivered locally, else NULL
 *
 * One kick per batch: the work item dequeues until the queue is empty (or
 * kicks itself), so a packet that finds others queued is seen by the run
 * those already asked for.  A packet that finds the queue empty kicks the
 * work item, or with @drive adds the QP to the drive, which runs it or
 * kicks it.
 *
 * Context: softirq (RX path) or bottom halves off (local delivery).
 * Return: true if queued (the QP owns @skb), false if the queue is full
 * (the caller drops @skb and counts it).
 */
bool sodp_qp_rx_enqueue(struct sodp_qp *qp, struct sk_buff *skb,
			struct sodp_drive *drive)
{
	unsigned long flags;
	u32 len;

	spin_lock_irqsave(&qp->rxq.lock, flags);
	len = skb_queue_len(&qp->rxq);
	if (len < SODP_RXQ_MAX)
		__skb_queue_tail(&qp->rxq, skb);
	spin_unlock_irqrestore(&qp->rxq.lock, flags);
	if (len >= SODP_RXQ_MAX)
		return false;
	if (!len && !(drive && sodp_drive_add(drive, qp)))
		sodp_qp_kick(qp);
	return true;
}

/* Incoming packets: requests to the responder, responses to the completer. */
static void sodp_qp_rx(struct sodp_qp *qp, enum ib_qp_state state)
{
	unsigned int budget = SODP_RX_BUDGET;
	struct sk_buff *skb;

	lockdep_assert_held(&qp->proc_lock);
	while (!qp->need_err && (skb = skb_dequeue(&qp->rxq))) {
		if (sodp_qp_is_ud(qp))
			sodp_ud_rx(qp, skb);
		else if (sodp_pkt(skb)->info->flags & SODP_OPF_REQ)
			sodp_resp_rx(qp, skb);
		else if (state == IB_QPS_RTS || state == IB_QPS_SQD)
			sodp_comp_rx(qp, skb);
		kfree_skb(skb);
		if (!--budget) {
			sodp_qp_kick(qp);
			break;
		}
	}
	sodp_resp_flush_ack(qp);
}

/*
 * One run of the engines, with @d the drive local packets add their QPs to.
 * Called with proc_lock held; releases it.
 */
static void sodp_qp_process(struct sodp_qp *qp, struct sodp_drive *d)
	__releases(&qp->proc_lock)
{
	enum ib_qp_state state;
	bool to_err;

	lockdep_assert_held(&qp->proc_lock);
	qp->drive = d;
	state = READ_ONCE(qp->state);
	switch (state) {
	case IB_QPS_ERR:
		sodp_qp_flush(qp);
		break;
	case IB_QPS_RTR:
	case IB_QPS_RTS:
	case IB_QPS_SQD:
		/* The engines: responder and completer, then requester. */
		sodp_qp_rx(qp, state);
		if (state != IB_QPS_RTR && !qp->need_err) {
			if (!sodp_qp_is_ud(qp))
				sodp_comp_timers(qp);
			/* SQD: finishing started messages (sodp_req_drain). */
			if (!qp->need_err)
				sodp_req_run(qp);
		}
		break;
	default:
		skb_queue_purge(&qp->rxq);
		break;
	}
	/* need_err stays set until the QP is in ERR (or RESET). */
	to_err = qp->need_err;
	qp->drive = NULL;
	mutex_unlock(&qp->proc_lock);
	if (to_err)
		sodp_qp_to_error(qp);
}

/*
 * Run @qp (proc_lock held by the caller, released here), then the QPs its
 * local packets gave work to, and theirs, each under its own proc_lock
 * taken with a trylock: one lock at a time, so no order between QPs.  A QP
 * whose lock is held (its work item, a doorbell, modify_qp) or that comes
 * after SODP_DRIVE_RUNS runs is kicked instead; the holder's run or the
 * work item sees its packets.
 */
static void sodp_qp_drive(struct sodp_qp *qp)
	__releases(&qp->proc_lock)
{
	struct sodp_drive d = { };
	unsigned int runs = 1;

	sodp_qp_process(qp, &d);
	while ((qp = sodp_drive_pop(&d))) {
		if (runs < SODP_DRIVE_RUNS && mutex_trylock(&qp->proc_lock)) {
			runs++;
			sodp_stat_inc(sodp_qp_dev(qp)->stats, SODP_STAT_DRIVE_RUNS);
			sodp_qp_process(qp, &d);
		} else {
			sodp_qp_kick(qp);
		}
		sodp_qp_put(qp);
	}
}

static void sodp_qp_work(struct work_struct *work)
{
	struct sodp_qp *qp = container_of(work, struct sodp_qp, work);

	mutex_lock(&qp->proc_lock);
	sodp_qp_drive(qp);
}

/**
 * sodp_qp_run() - run the QP's engines in the caller's context, or kick
 * @qp: QP
 *
 * For the post_send doorbell of a user QP: the system call runs the
 * engines itself, sparing a wakeup of and a switch to the work item,
 * unless they are running elsewhere (the work item, another doorbell or
 * modify_qp holds proc_lock); then the work item is kicked, which runs
 * after the holder and sees the WQEs just posted.
 *
 * Context: process, may sleep (the requester may fault ODP pages in).
 */
void sodp_qp_run(struct sodp_qp *qp)
{
	might_sleep();
	if (!mutex_trylock(&qp->proc_lock)) {
		sodp_qp_kick(qp);
		return;
	}
	sodp_qp_drive(qp);
}

/* ---- timers: they only record the event and kick ---------------------- */

static void sodp_qp_retrans_timer(struct timer_list *t)
{
	struct sodp_qp *qp = from_timer(qp, t, retrans_timer);

	set_bit(SODP_EV_RETRANS, &qp->events);
	sodp_qp_kick(qp);
}

static void sodp_qp_rnr_timer(struct timer_list *t)
{
	struct sodp_qp *qp = from_timer(qp, t, rnr_timer);

	set_bit(SODP_EV_RNR, &qp->events);
	sodp_qp_kick(qp);
}

/*
 * Receives a user posts into the mapped ring make no system call, so a
 * user QP in ERR would flush a late one only when something else woke its
 * work item (rdma_rxe has the same gap).  This timer keeps looking while
 * the QP is in ERR and kicks the work item, which flushes, when the ring
 * holds a receive.  Pairs with sodp_qp_arm_err_poll(); it stops by itself
 * once the QP leaves ERR.
 */
static void sodp_qp_err_timer(struct timer_list *t)
{
	struct sodp_qp *qp = from_timer(qp, t, err_timer);
	unsigned long next = READ_ONCE(qp->err_poll);

	if (READ_ONCE(qp->state) != IB_QPS_ERR)
		return;
	if (sodp_queue_count(&qp->rq.q)) {
		next = SODP_ERR_POLL_MIN;
		sodp_qp_kick(qp);
	} else {
		next = min_t(unsigned long, next * 2, SODP_ERR_POLL_MAX);
	}
	WRITE_ONCE(qp->err_poll, next);
	mod_timer(&qp->err_timer, jiffies + next);
}

/**
 * sodp_qp_arm_err_poll() - a user QP entered ERR: watch its receive ring
 * @qp: user QP with a receive queue of its own (no SRQ), now in ERR
 *
 * Context: process, the QP's state_lock held (modify_qp or the move to ERR).
 */
void sodp_qp_arm_err_poll(struct sodp_qp *qp)
{
	lockdep_assert_held(&qp->state_lock);
	WRITE_ONCE(qp->err_poll, SODP_ERR_POLL_MIN);
	mod_timer(&qp->err_timer, jiffies + SODP_ERR_POLL_MIN);
}

/**
 * sodp_qp_arm_retrans() - (re)start the retransmission timer
 * @qp: QP
 * @restart: restart a running timer; otherwise leave it alone
 *
 * The timeout is 4.096 us * 2^timeout (the QP attribute), at least 100 ms
 * (the test VMs are slow); timeout 0 means no timer.
 *
 * Context: proc_lock held.
 */
void sodp_qp_arm_retrans(struct sodp_qp *qp, bool restart)
{
	u8 t = qp->attr.timeout;
	unsigned long tmo;

	lockdep_assert_held(&qp->proc_lock);
	if (!t || (!restart && timer_pending(&qp->retrans_timer)))
		return;
	tmo = max(nsecs_to_jiffies(4096ULL << t), msecs_to_jiffies(100));
	mod_timer(&qp->retrans_timer, jiffies + tmo);
}

/**
 * sodp_qp_stop_retrans() - nothing is outstanding: stop the timer
 * @qp: QP
 *
 * Context: proc_lock held.
 */
void sodp_qp_stop_retrans(struct sodp_qp *qp)
{
	lockdep_assert_held(&qp->proc_lock);
	timer_delete(&qp->retrans_timer);
}

/**
 * sodp_qp_arm_rnr() - start the RNR back-off
 * @qp: QP
 * @usecs: how long to wait
 *
 * Context: proc_lock held.
 */
void sodp_qp_arm_rnr(struct sodp_qp *qp, u32 usecs)
{
	lockdep_assert_held(&qp->proc_lock);
	mod_timer(&qp->rnr_timer, jiffies + usecs_to_jiffies(usecs));
}

/* ---- life cycle --------------------------------------------------------- */

/**
 * sodp_qp_engine_init() - set up the work item, receive queue and timers
 * @qp: QP being created
 */
void sodp_qp_engine_init(struct sodp_qp *qp)
{
	INIT_WORK(&qp->work, sodp_qp_work);
	skb_queue_head_init(&qp->rxq);
	timer_setup(&qp->retrans_timer, sodp_qp_retrans_timer, 0);
	timer_setup(&qp->rnr_timer, sodp_qp_rnr_timer, 0);
	timer_setup(&qp->err_timer, sodp_qp_err_timer, 0);
	sodp_resp_fault_init(qp);
}

/**
 * sodp_qp_engine_alloc() - engine memory of a QP whose SQ is set up
 * @qp: QP being created
 *
 * The send shadows (one struct sodp_swqe with room for the SQ element's
 * gather list or inline data per SQ slot), the responder resources and the
 * receive WQE copy.  On error, sodp_qp_engine_free() releases what was
 * allocated.
 *
 * Return: 0 or -ENOMEM.
 */
int sodp_qp_engine_alloc(struct sodp_qp *qp)
{
	struct sodp_queue *q = &qp->sq.q;
	size_t room = ((size_t)1 << q->log2_elem_size) -
		      sizeof(struct rxe_send_wqe);

	qp->req.shadow_size = ALIGN(sizeof(struct sodp_swqe) + room, 8);
	qp->req.shadow = kvcalloc(q->index_mask + 1, qp->req.shadow_size,
				  GFP_KERNEL);
	qp->resp.res = kcalloc(SODP_MAX_RD_ATOMIC, sizeof(*qp->resp.res),
			       GFP_KERNEL);
	qp->resp.rwqe = kzalloc(sizeof(struct rxe_recv_wqe) +
				SODP_MAX_SGE * sizeof(struct rxe_sge),
				GFP_KERNEL);
	if (!qp->req.shadow || !qp->resp.res || !qp->resp.rwqe)
		return -ENOMEM;
	return 0;
}

/**
 * sodp_qp_engine_stop() - stop everything that could run the engines
 * @qp: QP being destroyed, already unreachable for the RX path and in
 *	RESET
 *
 * Timers are shut down first, so that the work item cannot re-arm them;
 * then the work item is cancelled, a responder page fault it handed off
 * waited for, and the receive queue emptied.
 */
void sodp_qp_engine_stop(struct sodp_qp *qp)
{
	timer_shutdown_sync(&qp->retrans_timer);
	timer_shutdown_sync(&qp->rnr_timer);
	timer_shutdown_sync(&qp->err_timer);
	cancel_work_sync(&qp->work);
	sodp_resp_fault_stop(qp);
	skb_queue_purge(&qp->rxq);
}

/**
 * sodp_qp_engine_free() - free the engine memory and the path's route
 * @qp: QP being destroyed (engines stopped) or failing creation
 */
void sodp_qp_engine_free(struct sodp_qp *qp)
{
	sodp_path_release(&qp->path);
	kvfree(qp->req.shadow);
	kfree(qp->resp.res);
	kfree(qp->resp.rwqe);
	qp->req.shadow = NULL;
	qp->resp.res = NULL;
	qp->resp.rwqe = NULL;
}
