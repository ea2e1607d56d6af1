// SPDX-License-Identifier: GPL-2.0
/*
 * softodp ODP core: interval-notifier invalidation and the accessors'
 * read-side section.
 *
 * Invalidation runs in two passes:
 *
 *  start:  under @umem->lock, publish the new interval sequence, drop or
 *	    write-protect the overlapping entries and raise @umem->fencing.
 *	    Nothing waits here.
 *  finish: wait, once, until no accessor is inside a read-side section,
 *	    then lower @umem->fencing.
 *
 * On 7.1+ the mm core runs the start pass of every region an invalidation
 * covers before any finish pass; on older kernels softodp_compat.h runs
 * each region's finish right after its start.
 *
 * Accessors take their snapshot of entries under @umem->lock and enter the
 * section (increment @umem->readers) before dropping the lock; they copy
 * without the lock and leave the section with one atomic.  Because the
 * increment happens under the lock, an invalidation whose start pass takes
 * the lock later is guaranteed to see it in finish (mutex release/acquire
 * ordering), and an accessor that takes the lock after a start pass only
 * ever sees the fenced state.  So when finish returns, no accessor can
 * still touch a page the CPU is about to unmap, replace or write-protect.
 * While @umem->fencing is raised new accessors wait before entering, so a
 * stream of accessors cannot starve the finish pass.
 */
#include <linux/export.h>
#include <linux/mm.h>
#include <linux/moduleparam.h>
#include <linux/sched.h>
#include <linux/slab.h>

#include "odp_internal.h"

/*
 * Owner cookie softodp would pass to make_device_exclusive_range(); an
 * MMU_NOTIFY_EXCLUSIVE carrying it is our own doing and changes nothing
 * we mirror.
 */
static const int odp_exclusive_owner;

static bool odp_inv_ignored(const struct mmu_notifier_range *range)
{
	return range->event == MMU_NOTIFY_EXCLUSIVE &&
	       range->owner == &odp_exclusive_owner;
}

/*
 * Debug switch for benchmarks (tests/bench/odp_micro): off, every
 * invalidation drops the whole mapping of its range, as a naive mirror
 * would, so that the cost of losing read mappings over fork() can be shown.
 */
static bool odp_event_aware = true;
module_param(odp_event_aware, bool, 0644);
MODULE_PARM_DESC(odp_event_aware,
		 "Keep read mappings on write-protect invalidations (fork, page_mkclean, soft-dirty); 0 drops every invalidated page (debug/benchmark only, default 1)");

/*
 * PROTECTION_PAGE (fork write-protecting COW pages, page_mkclean()) and
 * SOFT_DIRTY (clear_refs) keep the same page at the same address and only
 * take away write permission: a read mapping stays correct.  Any later
 * change of the page itself (COW break, unmap, migration, reclaim) comes
 * with its own CLEAR/UNMAP/MIGRATE invalidation, which drops the entry.
 */
static bool odp_inv_downgrade_only(const struct mmu_notifier_range *range)
{
	if (!READ_ONCE(odp_event_aware))
		return false;
	return range->event == MMU_NOTIFY_PROTECTION_PAGE ||
	       range->event == MMU_NOTIFY_SOFT_DIRTY;
}

static void odp_inv_range(struct odp_umem *umem,
			  const struct mmu_notifier_range *range,
			  unsigned long *dropped, unsigned long *downgraded)
{
	bool downgrade = odp_inv_downgrade_only(range);
	bool unmap = range->event == MMU_NOTIFY_UNMAP;
	unsigned long first, last, idx;
	u64 start, end;

	lockdep_assert_held(&umem->lock);
	start = max_t(u64, range->start, umem->start);
	end = min_t(u64, range->end, umem->end);
	if (start >= end || !umem->pt.nvalid)
		return;
	first = (start - umem->start) >> umem->page_shift;
	last = (end - 1 - umem->start) >> umem->page_shift;

	for (idx = first; idx <= last; idx++) {
		struct odp_chunk *chunk = &umem->pt.dir[idx >> ODP_CHUNK_SHIFT];
		unsigned long *e;

		if (!chunk->ptes || !chunk->nvalid) {
			/* Skip to the next chunk. */
			idx |= ODP_CHUNK_ENTRIES - 1;
			continue;
		}
		e = &chunk->ptes[idx & (ODP_CHUNK_ENTRIES - 1)];
		if (!(*e & ODP_PTE_READ))
			continue;
		if (!downgrade) {
			odp_pt_drop(umem, idx, unmap);
			(*dropped)++;
		} else if (*e & ODP_PTE_WRITE) {
			/* Same page stays mapped; record device writes. */
			folio_mark_dirty(page_folio(pfn_to_page(odp_pte_pfn(*e))));
			*e &= ~ODP_PTE_WRITE;
			(*downgraded)++;
		}
	}
}

/* Stamp of the next invalidation pass on any region of @umem's process. */
static u64 odp_inv_tick(struct odp_umem *umem)
{
	return atomic64_inc_return(&umem->omm->inv_clock);
}

/* A finish slot for one start pass: embedded if free, else GFP_NOWAIT. */
static struct odp_inv_finish *odp_inv_finish_get(struct odp_umem *umem)
{
	struct odp_inv_finish *fin;
	int i;

	for (i = 0; i < ODP_INV_FINISH_SLOTS; i++) {
		if (!test_and_set_bit_lock(i, &umem->fin_busy)) {
			umem->fin[i].slot = i;
			return &umem->fin[i];
		}
	}
	/* No reclaim from here: we may be called by reclaim. */
	fin = kzalloc(sizeof(*fin), GFP_NOWAIT | __GFP_NOWARN);
	if (!fin)
		return NULL;
	fin->slot = -1;
	odp_count(umem, ODP_CNT_INV_FINISH_ALLOCS, 1);
	return fin;
}

static void odp_inv_finish_put(struct odp_umem *umem,
			       struct odp_inv_finish *fin)
{
	if (fin->slot < 0)
		kfree(fin);
	else
		clear_bit_unlock(fin->slot, &umem->fin_busy);
}

/*
 * The finish work: wait once for accessors that entered a section before
 * the start pass, then lower the fence.  Returns false when @blockable is
 * false and accessors are still inside: the non-blockable caller (the OOM
 * reaper) retries the whole invalidation later.
 */
static bool odp_inv_drain(struct odp_umem *umem, bool blockable)
{
	bool ok = true;

	/*
	 * Readers entered under @umem->lock before our start pass took it,
	 * so their increments are visible here.
	 */
	if (atomic_read(&umem->readers)) {
		if (!blockable) {
			odp_count(umem, ODP_CNT_INV_NONBLOCK_FAILS, 1);
			ok = false;
		} else {
			odp_count(umem, ODP_CNT_INV_WAITS, 1);
			/* Woken by odp_read_exit(). */
			wait_event(umem->wq, !atomic_read(&umem->readers));
		}
	}
	/* Pairs with atomic_inc() in odp_inv_start(). */
	if (atomic_dec_and_test(&umem->fencing))
		wake_up_all(&umem->wq);
	WRITE_ONCE(umem->inv_finish_tick, odp_inv_tick(umem));
	odp_count(umem, ODP_CNT_INV_FINISH_PASSES, 1);
	/* The OOM reaper (and process_mrelease()) got what it asked for. */
	if (ok && !blockable)
		odp_count(umem, ODP_CNT_INV_NONBLOCK, 1);
	return ok;
}

/**
 * odp_inv_start() - first pass of an invalidation: fence, never wait
 * @mni: interval notifier of the region
 * @range: range and reason of the change
 * @cur_seq: sequence to publish with mmu_interval_set_seq()
 * @finish: set to the region's finish pass when one is deferred; left
 *	%NULL when this call did the whole invalidation
 *
 * A blockable invalidation hands back a finish slot, so that the mm core
 * (natively on 7.1+, see softodp_compat.h) runs every overlapping
 * notifier's start pass before any finish pass: all regions fence first,
 * then each waits once.  A non-blockable one (OOM reaper), or one that
 * finds no free slot, does the finish work here.
 *
 * Return: false only when @range is not blockable and the lock is busy or
 * accessors are inside a read-side section.
 */
bool odp_inv_start(struct mmu_interval_notifier *mni,
		   const struct mmu_notifier_range *range,
		   unsigned long cur_seq,
		   struct mmu_interval_notifier_finish **finish)
{
	struct odp_umem *umem = container_of(mni, struct odp_umem, notifier);
	bool blockable = mmu_notifier_range_blockable(range);
	unsigned int ev = odp_inv_event_index(range->event);
	unsigned long dropped = 0, downgraded = 0;
	struct odp_inv_finish *fin;

	if (odp_inv_ignored(range)) {
		odp_count(umem, ODP_CNT_EXCLUSIVE_IGNORED, 1);
		return true;
	}

	if (blockable) {
		mutex_lock(&umem->lock);
	} else if (!mutex_trylock(&umem->lock)) {
		odp_count(umem, ODP_CNT_INV_NONBLOCK_FAILS, 1);
		return false;
	}
	/* Pairs with mmu_interval_read_retry() in the fault path. */
	mmu_interval_set_seq(mni, cur_seq);
	odp_inv_range(umem, range, &dropped, &downgraded);
	/* Snapshots kept in a struct odp_window are stale from here on. */
	WRITE_ONCE(umem->inv_gen, umem->inv_gen + 1);
	/* Gate new readers until finish; lowered in odp_inv_drain(). */
	atomic_inc(&umem->fencing);
	/*
	 * The generation and the fence before any look at the readers:
	 * pairs with the barrier in odp_window_enter(), which looks at them
	 * after counting itself in (one of the two sees the other).
	 */
	smp_mb__after_atomic();
	mutex_unlock(&umem->lock);

	WRITE_ONCE(umem->inv_start_tick, odp_inv_tick(umem));
	odp_count(umem, ODP_CNT_INV_START_PASSES, 1);
	odp_count(umem, ODP_CNT_INV_BASE + 2 * ev, 1);
	odp_count(umem, ODP_CNT_INV_BASE + 2 * ev + 1, dropped);
	odp_count(umem, ODP_CNT_WRITE_DOWNGRADES, downgraded);
	if (umem->parent && range->event == MMU_NOTIFY_UNMAP &&
	    !READ_ONCE(umem->pt.nvalid))
		odp_implicit_mark_empty(umem);

	fin = blockable ? odp_inv_finish_get(umem) : NULL;
	if (fin) {
		*finish = &fin->base;
		return true;
	}
	odp_count(umem, ODP_CNT_INV_SINGLE_PASS, 1);
	return odp_inv_drain(umem, blockable);
}

/**
 * odp_inv_finish() - second pass: wait once for accessors in a section
 * @finish: what odp_inv_start() handed back; @finish->notifier is the
 *	region's interval notifier
 *
 * Only blockable invalidations get here.
 */
void odp_inv_finish(struct mmu_interval_notifier_finish *finish)
{
	struct odp_inv_finish *fin =
		container_of(finish, struct odp_inv_finish, base);
	struct odp_umem *umem =
		container_of(finish->notifier, struct odp_umem, notifier);

	odp_inv_drain(umem, true);
	odp_inv_finish_put(umem, fin);
}

SOFTODP_DEFINE_MNI_OPS(odp_umem_mni_ops, odp_inv_start, odp_inv_finish);

/**
 * odp_umem_inv_trace() - when the last invalidation passes of a region ran
 * @umem: region (explicit, or an implicit child)
 * @start_tick: set to the process's pass clock at the last start pass
 * @finish_tick: set to the process's pass clock at the last finish pass
 *
 * The clock ticks once per pass on any region of the process, so a test
 * can tell whether the finish passes of one invalidation over several
 * regions ran after all their start passes (native two-pass, 7.1+) or
 * each right after its own start pass (emulated on older kernels).
 *
 * Return: true if the interval notifiers are natively two-pass.
 */
bool odp_umem_inv_trace(struct odp_umem *umem, u64 *start_tick,
			u64 *finish_tick)
{
	*start_tick = READ_ONCE(umem->inv_start_tick);
	*finish_tick = READ_ONCE(umem->inv_finish_tick);
	return SOFTODP_MNI_NATIVE_TWO_PASS;
}
EXPORT_SYMBOL_GPL(odp_umem_inv_trace);

/**
 * odp_read_enter() - enter the read-side section of a region
 * @umem: region whose lock the caller holds, with a snapshot of valid
 *	entries taken under that lock
 *
 * Inside the section the pages of the snapshot stay valid: no allocation,
 * no user-memory access and nothing that can wait for reclaim is allowed
 * there, since reclaim may invalidate this region and wait for us.
 *
 * Return: 0, or -EAGAIN while an invalidation is between its passes; then
 * drop the lock, wait with odp_read_gate_wait() and take a new snapshot.
 */
int odp_read_enter(struct odp_umem *umem)
{
	lockdep_assert_held(&umem->lock);
	if (atomic_read(&umem->fencing))
		return -EAGAIN;
	atomic_inc(&umem->readers);	/* pairs with odp_read_exit() */
	return 0;
}

/**
 * odp_read_gate_wait() - wait until no invalidation is in progress
 * @umem: region; the caller holds no lock of it
 */
void odp_read_gate_wait(struct odp_umem *umem)
{
	might_sleep();
	wait_event(umem->wq, !atomic_read(&umem->fencing));
}

/**
 * odp_read_exit() - leave the read-side section
 * @umem: region entered with odp_read_enter()
 */
void odp_read_exit(struct odp_umem *umem)
{
	/*
	 * Fully ordered: our page accesses complete before the decrement,
	 * and the decrement before the look at the queue, which pairs with
	 * the barrier of set_current_state() in odp_inv_drain()'s
	 * wait_event().  Almost always nobody waits: a packet's copy then
	 * takes no wait-queue lock.
	 */
	if (atomic_dec_and_test(&umem->readers) && waitqueue_active(&umem->wq))
		wake_up_all(&umem->wq);
}
