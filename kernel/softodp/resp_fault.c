// SPDX-License-Identifier: GPL-2.0
/*
 * softodp: responder page faults that answer "receiver not ready".
 *
 * An incoming SEND or RDMA WRITE into an ODP region whose pages the CPU
 * has not mapped needs a page fault, and a fault can take seconds: page
 * allocation that reclaims at a memory cgroup's limit, file pages read
 * from slow storage.  Done in the QP's work item, the requester would see
 * no acknowledgement for that long and use up its transport retries, and
 * the work item would hold its CPU's share of the device workqueue.
 *
 * So the responder first takes what the CPU has mapped without faulting
 * (sodp_mr_fault_try()).  If something is missing, the fault goes to the
 * device's unbound fault workqueue and the work item waits for it a short
 * while (SODP_RESP_FAULT_WAIT_MS, below the usual local ACK timeouts):
 * most first touches end within it and the packet is placed at once.  A
 * fault that takes longer is answered with an RNR NAK carrying the QP's
 * min_rnr_timer, the packet is dropped (the expected PSN stays), and the
 * requester resends it after its RNR wait - counted in rnr_retry, which
 * is unlimited at 7 - while the fault goes on.  That is what ODP-capable
 * RDMA NICs do for responder page faults on SEND and WRITE.  A resent
 * packet that finds the fault still running waits once more and is
 * NAKed again; one that finds it over goes on, faulting in the copy what
 * an invalidation may have taken since.
 *
 * UC has no RNR NAK: UC QPs fault in the work item as before.  READ
 * responses and atomics fault in the work item too (a READ responder has
 * no RNR; the requester retransmits the READ on its timeout).
 *
 * Faulting ahead: once a window is present, the next one is faulted by a
 * second worker that nobody waits for (sodp_resp_fault_ahead_work()),
 * while the responder places the data of this one, so that a stream into
 * never-touched memory finds its windows mostly present: the next window
 * of the same message, or, in a sequential stream of RDMA WRITEs (one of
 * at least SODP_RESP_STREAM_MIN bytes that starts where the QP's last
 * WRITE ended) into an explicit region, the window after the message, as
 * the page cache reads ahead of a sequential reader.  That guess is
 * bounded by the region, which the application registered for the device
 * to access, and a single WRITE never makes it.  A window the guess
 * missed is faulted on demand as above, concurrently with it if need be.
 */
#include <linux/jiffies.h>

#include "engine.h"
#include "mr.h"
#include "qp.h"

/* How long the work item waits for a fault before it answers RNR NAK. */
#define SODP_RESP_FAULT_WAIT_MS	20

/* WRITEs from this size on fault the window after them ahead. */
#define SODP_RESP_STREAM_MIN	(64 * 1024)

static void sodp_resp_fault_work(struct work_struct *work)
{
	struct sodp_resp_fault *f =
		container_of(work, struct sodp_resp_fault, work);

	sodp_mr_fault_ahead(f->mr, f->iova, f->len, f->write);
	sodp_mr_put(f->mr);
	f->mr = NULL;
	/* Pairs with the waits in sodp_resp_fault_ready(). */
	complete(&f->done);
}

static void sodp_resp_fault_ahead_work(struct work_struct *work)
{
	struct sodp_resp_fault *f =
		container_of(work, struct sodp_resp_fault, ahead);
	struct sodp_mr *mr = f->ahead_mr;

	sodp_mr_fault_ahead(mr, f->ahead_start, f->ahead_end - f->ahead_start,
			    true);
	f->ahead_mr = NULL;
	sodp_mr_put(mr);
	/* Pairs with the acquire in sodp_resp_fault_next(). */
	smp_store_release(&f->ahead_busy, false);
}

/*
 * The window at @iova (@len bytes of the request from there) is present:
 * fault the next one ahead, unless the ahead worker is busy or did it.
 * @stream: an RDMA WRITE of a sequential stream (see above), whose
 *	successor is guessed to follow it.
 */
static void sodp_resp_fault_next(struct sodp_qp *qp, struct sodp_mr *mr,
				 u64 iova, u64 len, bool stream)
{
	struct sodp_resp_fault *f = &qp->resp.fault;
	u64 next, end;

	/* Pairs with the release in sodp_resp_fault_ahead_work(). */
	if (smp_load_acquire(&f->ahead_busy))
		return;
	if (len > SODP_ODP_FAULT_WINDOW) {
		next = iova + SODP_ODP_FAULT_WINDOW;
		end = iova + len;
	} else if (stream && len >= SODP_RESP_STREAM_MIN &&
		   mr->ibmr.length != U64_MAX) {
		next = iova + len;
		end = mr->ibmr.iova + mr->ibmr.length;
	} else {
		return;
	}
	if (next >= end || (next >= f->ahead_start && next < f->ahead_end))
		return;
	f->ahead_start = next;
	f->ahead_end = next + min_t(u64, end - next, SODP_ODP_FAULT_WINDOW);
	sodp_mr_get(mr);	/* dropped by sodp_resp_fault_ahead_work() */
	f->ahead_mr = mr;
	f->ahead_busy = true;
	queue_work(sodp_qp_dev(qp)->fault_wq, &f->ahead);
}

/**
 * sodp_resp_fault_init() - set up a QP's responder fault
 * @qp: QP being created
 */
void sodp_resp_fault_init(struct sodp_qp *qp)
{
	struct sodp_resp_fault *f = &qp->resp.fault;

	INIT_WORK(&f->work, sodp_resp_fault_work);
	INIT_WORK(&f->ahead, sodp_resp_fault_ahead_work);
	init_completion(&f->done);
	f->busy = false;
	f->ahead_busy = false;
	f->ahead_start = 0;
	f->ahead_end = 0;
	f->stream_end = 0;
}

/**
 * sodp_resp_fault_stop() - wait for a QP's responder fault to end
 * @qp: QP being destroyed; its work item no longer runs
 *
 * A fault still queued is cancelled (its region reference dropped here); a
 * running one is waited for.
 */
void sodp_resp_fault_stop(struct sodp_qp *qp)
{
	struct sodp_resp_fault *f = &qp->resp.fault;

	if (cancel_work_sync(&f->work)) {
		sodp_mr_put(f->mr);
		f->mr = NULL;
	}
	f->busy = false;
	if (cancel_work_sync(&f->ahead)) {
		sodp_mr_put(f->ahead_mr);
		f->ahead_mr = NULL;
	}
	f->ahead_busy = false;
}

/* Wait for the fault in flight; false if it is still running after that. */
static bool sodp_resp_fault_wait(struct sodp_resp_fault *f)
{
	if (!wait_for_completion_timeout(&f->done,
					 msecs_to_jiffies(SODP_RESP_FAULT_WAIT_MS)))
		return false;
	f->busy = false;
	return true;
}

/**
 * sodp_resp_fault_ready() - may a request place data in this window now?
 * @qp: the responder's QP (RC or UC)
 * @mr: region the data goes to, referenced by the caller
 * @iova: first byte of the message's next window
 * @len: bytes of the message from @iova (at most a fault window counts)
 * @write: the data is written (SEND, WRITE)
 * @stream: an RDMA WRITE (@len is the rest of the message): if it
 *	continues a sequential stream, the window after it may be faulted
 *	ahead (see above)
 *
 * Call at the start of a message and at each SODP_ODP_FAULT_WINDOW
 * boundary of it, before anything of the packet is placed.
 *
 * Context: QP work item (proc_lock held); sleeps.
 * Return: 0 to go on (the window is present, the fault is over, or the
 * access will fail and the copy reports it), or -EAGAIN: a fault is still
 * running and the caller answers the packet with an RNR NAK.
 */
int sodp_resp_fault_ready(struct sodp_qp *qp, struct sodp_mr *mr, u64 iova,
			  u64 len, bool write, bool stream)
{
	struct sodp_resp_fault *f = &qp->resp.fault;

	lockdep_assert_held(&qp->proc_lock);
	if (mr->type != SODP_MR_ODP || !len)
		return 0;
	if (stream) {
		/* A WRITE that starts where the last one ended. */
		bool seq = iova == f->stream_end;

		f->stream_end = iova + len;
		stream = seq;
	}
	if (sodp_qp_is_uc(qp)) {
		sodp_mr_fault_ahead(mr, iova, len, write);
		return 0;
	}
	/* A fault for an earlier try of this window or an earlier one. */
	if (f->busy && !sodp_resp_fault_wait(f))
		goto rnr;
	if (sodp_mr_fault_try(mr, iova, len, write) != -EAGAIN) {
		if (write)
			sodp_resp_fault_next(qp, mr, iova, len, stream);
		return 0;
	}

	sodp_mr_get(mr);	/* dropped by sodp_resp_fault_work() */
	f->mr = mr;
	f->iova = iova;
	f->len = min_t(u64, len, SODP_ODP_FAULT_WINDOW);
	f->write = write;
	f->busy = true;
	reinit_completion(&f->done);
	queue_work(sodp_qp_dev(qp)->fault_wq, &f->work);
	if (sodp_resp_fault_wait(f)) {
		if (write)
			sodp_resp_fault_next(qp, mr, iova, len, stream);
		return 0;
	}
rnr:
	sodp_stat_inc(sodp_qp_dev(qp)->stats, SODP_STAT_RNR_NAK_FAULT);
	sodp_qp_dbg(qp, "page fault at 0x%llx still running: RNR NAK\n",
		    iova);
	return -EAGAIN;
}
