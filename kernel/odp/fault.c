// SPDX-License-Identifier: GPL-2.0
/*
 * softodp ODP core: faulting pages into a region with hmm_range_fault().
 *
 * The classic interval-notifier loop: read the sequence, fault without our
 * lock, take the lock, and commit only if no invalidation ran in between
 * (mmu_interval_read_retry()); otherwise start over, until
 * HMM_RANGE_DEFAULT_TIMEOUT expires.
 */
#include <linux/export.h>
#include <linux/hmm.h>
#include <linux/jiffies.h>
#include <linux/mm.h>
#include <linux/oom.h>
#include <linux/sched/mm.h>
#include <linux/slab.h>

#include "odp_internal.h"

/* hmm pfns per hmm_range_fault() call: 2 MiB of native pages at least. */
#define ODP_FAULT_BATCH_PAGES	512UL

bool odp_range_present(struct odp_umem *umem, u64 start, u64 end,
		       unsigned int flags)
{
	unsigned long idx, last;

	lockdep_assert_held(&umem->lock);
	idx = (start - umem->start) >> umem->page_shift;
	last = (end - 1 - umem->start) >> umem->page_shift;
	for (; idx <= last; idx++) {
		unsigned long *e = odp_pt_entry(umem, idx);

		if (!e || !(*e & ODP_PTE_READ))
			return false;
		if ((flags & ODP_FAULT_WRITE) && !(*e & ODP_PTE_WRITE))
			return false;
	}
	return true;
}

static bool odp_pt_chunks_present(struct odp_umem *umem, unsigned long first,
				  unsigned long last)
{
	unsigned long c;

	lockdep_assert_held(&umem->lock);
	for (c = first >> ODP_CHUNK_SHIFT; c <= last >> ODP_CHUNK_SHIFT; c++)
		if (!umem->pt.dir[c].ptes)
			return false;
	return true;
}

/*
 * Has the OOM killer picked the process of @mm?  Then the OOM reaper takes
 * (MMF_UNSTABLE) or is about to take (MMF_OOM_REAP_QUEUED) its pages, or has
 * (MMF_OOM_SKIP).  Faulting them in again would charge its memory cgroup,
 * which is at its limit, from our worker: reclaim page after page for
 * memory that is freed right after, while the work item keeps its CPU.
 * The request fails instead, as one for a process that is gone.
 */
static bool odp_mm_oom_victim(struct mm_struct *mm)
{
	return sodp_mm_flag(mm, MMF_OOM_REAP_QUEUED) ||
	       sodp_mm_flag(mm, MMF_UNSTABLE) ||
	       sodp_mm_flag(mm, MMF_OOM_SKIP);
}

/* Is the hmm result for one region page usable at the region's size? */
static bool odp_hmm_pfn_usable(struct odp_umem *umem, unsigned long hpfn)
{
	if (!(hpfn & HMM_PFN_VALID) || (hpfn & HMM_PFN_ERROR))
		return false;
	return hmm_pfn_to_map_order(hpfn) + PAGE_SHIFT >= umem->page_shift;
}

static bool odp_hmm_any_valid(const unsigned long *pfns, unsigned long n)
{
	unsigned long i;

	for (i = 0; i < n; i++)
		if ((pfns[i] & HMM_PFN_VALID) && !(pfns[i] & HMM_PFN_ERROR))
			return true;
	return false;
}

static bool odp_hmm_any_error(const unsigned long *pfns, unsigned long n)
{
	unsigned long i;

	for (i = 0; i < n; i++)
		if (pfns[i] & HMM_PFN_ERROR)
			return true;
	return false;
}

/*
 * Is this fault a device access (counted as mlx5's page_faults) rather than
 * a prefetch or a snapshot?  A try of the responder is one: the device
 * needs the pages now, it only takes them without faulting the CPU.
 */
static bool odp_fault_is_access(unsigned int flags)
{
	if (flags & ODP_FAULT_PREFETCH)
		return false;
	return !(flags & ODP_FAULT_NO_FAULT) || (flags & ODP_FAULT_TRY);
}

/* Commit the hmm result into the page table.  Returns pages handled. */
static long odp_fault_commit(struct odp_umem *umem, unsigned long first,
			     unsigned long last, const unsigned long *pfns,
			     unsigned int flags)
{
	unsigned int sub_shift = umem->page_shift - PAGE_SHIFT;
	long handled = 0;
	unsigned long idx;

	lockdep_assert_held(&umem->lock);
	for (idx = first; idx <= last; idx++) {
		struct odp_chunk *chunk = &umem->pt.dir[idx >> ODP_CHUNK_SHIFT];
		unsigned long *e = &chunk->ptes[idx & (ODP_CHUNK_ENTRIES - 1)];
		unsigned long hpfn = pfns[(idx - first) << sub_shift];
		unsigned long new;

		if (!odp_hmm_pfn_usable(umem, hpfn)) {
			if (flags & ODP_FAULT_NO_FAULT)
				continue;
			/* Faulted, but not backed by a big enough page. */
			return -EFAULT;
		}
		new = ((hpfn & ~HMM_PFN_FLAGS) << ODP_PTE_SHIFT) | ODP_PTE_READ;
		if ((hpfn & HMM_PFN_WRITE) && (umem->access & ODP_ACCESS_WRITE))
			new |= ODP_PTE_WRITE;
		if (!(*e & ODP_PTE_READ)) {
			chunk->nvalid++;
			umem->pt.nvalid++;
			odp_count(umem, ODP_CNT_PAGES_MAPPED, 1);
			handled++;
		} else if ((new & ODP_PTE_WRITE) && !(*e & ODP_PTE_WRITE)) {
			handled++;
		}
		/*
		 * An entry still valid here cannot have changed page: that
		 * would have needed an invalidation, and the sequence check
		 * above would have sent us around again.
		 */
		*e = new;
	}
	return handled;
}

static int odp_fault_batch(struct odp_umem *umem, struct mm_struct *mm,
			   u64 start, u64 end, unsigned int flags,
			   unsigned long *pfns, unsigned long deadline)
{
	unsigned long first = (start - umem->start) >> umem->page_shift;
	unsigned long last = (end - 1 - umem->start) >> umem->page_shift;
	struct hmm_range range = {
		.notifier = &umem->notifier,
		.start = start,
		.end = end,
		.hmm_pfns = pfns,
	};
	long handled;
	int ret;

	if (!(flags & ODP_FAULT_NO_FAULT)) {
		range.default_flags = HMM_PFN_REQ_FAULT;
		if (flags & ODP_FAULT_WRITE)
			range.default_flags |= HMM_PFN_REQ_WRITE;
	}

	for (;;) {
		if (odp_mm_oom_victim(mm))
			return -EFAULT;
		range.notifier_seq = mmu_interval_read_begin(&umem->notifier);
		mmap_read_lock(mm);
		ret = hmm_range_fault(&range);
		mmap_read_unlock(mm);
		if (ret == -EBUSY)
			goto retry;
		if (ret == -EPERM)
			return -EACCES;	/* write fault on a read-only VMA */
		if (ret)
			return ret;
		/*
		 * A snapshot that found no VMA or no access for a page: the
		 * fault would fail at once, so the caller need not wait for it.
		 */
		if ((flags & ODP_FAULT_TRY) &&
		    odp_hmm_any_error(pfns, (end - start) >> PAGE_SHIFT))
			return -EFAULT;
		/*
		 * Chunks only once there is something to commit, so that
		 * failed faults and empty snapshots cost no memory.  Doing it
		 * inside the sequence section is fine: it is only checked
		 * under the lock below.
		 */
		if (!odp_hmm_any_valid(pfns, (end - start) >> PAGE_SHIFT))
			return 0;
		ret = odp_pt_prepare(umem, first, last);
		if (ret)
			return ret;

		mutex_lock(&umem->lock);
		if (!mmu_interval_read_retry(&umem->notifier,
					     range.notifier_seq) &&
		    odp_pt_chunks_present(umem, first, last))
			break;
		mutex_unlock(&umem->lock);
retry:
		odp_count(umem, ODP_CNT_FAULT_RETRIES, 1);
		if (time_after(jiffies, deadline))
			return -EAGAIN;
	}
	handled = odp_fault_commit(umem, first, last, pfns, flags);
	mutex_unlock(&umem->lock);
	if (handled < 0)
		return handled;
	/* mlx5's page_faults: pages brought in by device-access faults. */
	if (odp_fault_is_access(flags))
		odp_count(umem, ODP_CNT_PAGE_FAULTS, handled);
	return 0;
}

/**
 * odp_fault_range() - fault a region range in and commit it
 * @umem: explicit region or child
 * @start: first byte, aligned to the region page size
 * @end: end, aligned to the region page size, inside the region
 * @flags: ODP_FAULT_WRITE to write-fault, ODP_FAULT_NO_FAULT to only record
 *	what the CPU has mapped already
 *
 * Context: sleeps; holds no lock of @umem.
 * Return: 0, -EFAULT (unmapped, not accessible, process gone or picked by
 * the OOM killer), -EACCES
 * (write not allowed), -EAGAIN (kept colliding with invalidations),
 * -ENOMEM.
 */
int odp_fault_range(struct odp_umem *umem, u64 start, u64 end,
		    unsigned int flags)
{
	struct mm_struct *mm = umem->omm->mn.mm;
	unsigned long deadline, *pfns;
	u64 batch, s, e;
	int ret = 0;

	might_sleep();
	if ((flags & ODP_FAULT_WRITE) && !(umem->access & ODP_ACCESS_WRITE))
		return -EACCES;
	/* The interval notifier keeps @mm allocated; we need its pages. */
	if (READ_ONCE(umem->omm->released) || !mmget_not_zero(mm))
		return -EFAULT;

	batch = max_t(u64, ODP_FAULT_BATCH_PAGES << PAGE_SHIFT,
		      1ULL << umem->page_shift);
	pfns = kvmalloc_array(batch >> PAGE_SHIFT, sizeof(*pfns), GFP_KERNEL);
	if (!pfns) {
		ret = -ENOMEM;
		goto out_mmput;
	}
	deadline = jiffies + msecs_to_jiffies(HMM_RANGE_DEFAULT_TIMEOUT);
	for (s = start; s < end && !ret; s = e) {
		e = min(end, s + batch);
		ret = odp_fault_batch(umem, mm, s, e, flags, pfns, deadline);
	}
	kvfree(pfns);
	/*
	 * mlx5's page_faults_handled: fault events resolved (a try counts in
	 * odp_prefetch_one(), once it is known to have made the range present).
	 */
	if (!ret && odp_fault_is_access(flags) && !(flags & ODP_FAULT_TRY))
		odp_count(umem, ODP_CNT_PAGE_FAULTS_HANDLED, 1);
	if (ret)
		odp_count(umem, ODP_CNT_FAULT_ERRORS, 1);
out_mmput:
	mmput(mm);	/* pairs with mmget_not_zero() */
	return ret;
}

/**
 * odp_umem_map_and_lock() - make a range present and lock the region
 * @umem: explicit region (not an implicit parent)
 * @addr: first byte
 * @len: length in bytes
 * @flags: ODP_FAULT_WRITE for write access; ODP_FAULT_NO_FAULT to fail
 *	instead of faulting
 *
 * On success every region page of the range is present (writable with
 * ODP_FAULT_WRITE) and stays so until odp_umem_unlock(): invalidations of
 * the region wait for the lock.  Do not sleep for long or allocate memory
 * while holding it.
 *
 * Context: sleeps.
 * Return: 0 with the lock held; -EINVAL for an implicit region, -EFAULT
 * for a range outside the region or not mapped, -EACCES for a write
 * without permission, -EAGAIN with ODP_FAULT_NO_FAULT when something is
 * missing or after colliding with invalidations for too long.
 */
int odp_umem_map_and_lock(struct odp_umem *umem, u64 addr, u64 len,
			  unsigned int flags)
	__acquires(&umem->lock)
{
	unsigned long deadline;
	u64 start, end;
	int ret;

	might_sleep();
	if (umem->flags & ODP_UMEM_IMPLICIT)
		return -EINVAL;
	if (!len || addr < umem->start || addr + len < addr ||
	    addr + len > umem->end)
		return -EFAULT;
	if ((flags & ODP_FAULT_WRITE) && !(umem->access & ODP_ACCESS_WRITE))
		return -EACCES;
	start = round_down(addr, 1ULL << umem->page_shift);
	end = round_up(addr + len, 1ULL << umem->page_shift);
	deadline = jiffies + msecs_to_jiffies(HMM_RANGE_DEFAULT_TIMEOUT);

	for (;;) {
		mutex_lock(&umem->lock);
		if (odp_range_present(umem, start, end, flags))
			return 0;
		mutex_unlock(&umem->lock);
		if (flags & ODP_FAULT_NO_FAULT)
			return -EAGAIN;
		if (time_after(jiffies, deadline))
			return -EAGAIN;
		ret = odp_fault_range(umem, start, end, flags);
		if (ret)
			return ret;
	}
}
EXPORT_SYMBOL_GPL(odp_umem_map_and_lock);

/**
 * odp_umem_unlock() - release the lock taken by odp_umem_map_and_lock()
 * @umem: region
 */
void odp_umem_unlock(struct odp_umem *umem)
	__releases(&umem->lock)
{
	lockdep_assert_held(&umem->lock);
	mutex_unlock(&umem->lock);
}
EXPORT_SYMBOL_GPL(odp_umem_unlock);

static int odp_prefetch_one(struct odp_umem *umem, u64 addr, u64 len,
			    unsigned int flags)
{
	u64 start = round_down(addr, 1ULL << umem->page_shift);
	u64 end = round_up(addr + len, 1ULL << umem->page_shift);
	int ret;

	/* A demand fault-ahead of what is mapped already costs nothing. */
	if (!(flags & ODP_FAULT_PREFETCH)) {
		bool present;

		mutex_lock(&umem->lock);
		present = odp_range_present(umem, start, end, flags);
		mutex_unlock(&umem->lock);
		if (present)
			return 0;
	}
	ret = odp_fault_range(umem, start, end, flags);
	if (!ret && (flags & ODP_FAULT_PREFETCH))
		odp_count(umem, ODP_CNT_PREFETCH_PAGES,
			  (end - start) >> umem->page_shift);
	if (!ret && (flags & ODP_FAULT_TRY)) {
		bool present;

		mutex_lock(&umem->lock);
		present = odp_range_present(umem, start, end, flags);
		mutex_unlock(&umem->lock);
		if (!present)
			ret = -EAGAIN;
		else
			odp_count(umem, ODP_CNT_PAGE_FAULTS_HANDLED, 1);
	}
	return ret;
}

/*
 * Fault [addr, addr + len) of an explicit or implicit region in; a valid
 * request with ODP_FAULT_PREFETCH counts as one prefetch.
 */
static int odp_fault_ahead(struct odp_umem *umem, u64 addr, u64 len,
			   unsigned int flags)
{
	struct odp_umem *child;
	u64 end, next;
	int ret = 0;

	might_sleep();
	if (!len || addr < umem->start || addr + len < addr ||
	    addr + len > umem->end)
		return -EFAULT;
	if ((flags & ODP_FAULT_WRITE) && !(umem->access & ODP_ACCESS_WRITE))
		return -EACCES;
	if (flags & ODP_FAULT_PREFETCH)
		odp_count(umem, ODP_CNT_PREFETCHES, 1);
	if (!(umem->flags & ODP_UMEM_IMPLICIT))
		return odp_prefetch_one(umem, addr, len, flags);

	end = addr + len;
	down_read(&umem->imp->sem);	/* children stay alive */
	for (; addr < end && !ret; addr = next) {
		next = min(end, round_down(addr, ODP_CHILD_SIZE) +
				ODP_CHILD_SIZE);
		child = odp_implicit_child(umem, addr, true);
		if (IS_ERR(child)) {
			ret = PTR_ERR(child);
			break;
		}
		ret = odp_prefetch_one(child, addr, next - addr, flags);
		if (ret || !READ_ONCE(child->pt.nvalid))
			odp_implicit_mark_empty(child);
	}
	up_read(&umem->imp->sem);
	return ret;
}

/**
 * odp_umem_prefetch() - fault a range in ahead of device access
 * @umem: region, explicit or implicit
 * @addr: first byte
 * @len: length in bytes
 * @flags: ODP_FAULT_WRITE to prefetch for writing; ODP_FAULT_NO_FAULT to
 *	snapshot only what the CPU has mapped (never fails on holes)
 *
 * Context: sleeps.
 * Return: 0 or a negative errno as for odp_umem_map_and_lock().
 */
int odp_umem_prefetch(struct odp_umem *umem, u64 addr, u64 len,
		      unsigned int flags)
{
	return odp_fault_ahead(umem, addr, len, flags | ODP_FAULT_PREFETCH);
}
EXPORT_SYMBOL_GPL(odp_umem_prefetch);

/**
 * odp_umem_fault() - fault in a range the device is about to access
 * @umem: region, explicit or implicit
 * @addr: first byte
 * @len: length in bytes
 * @flags: ODP_FAULT_WRITE to fault for writing
 *
 * A device that knows the extent of an access (the length of an RDMA
 * WRITE, READ or SEND message) faults it in one request instead of page by
 * page as the copy reaches each page; counted as device page faults, not
 * as a prefetch.  A failure only means the later access faults (and
 * reports the error) itself.
 *
 * Context: sleeps.
 * Return: 0 or a negative errno as for odp_umem_map_and_lock().
 */
int odp_umem_fault(struct odp_umem *umem, u64 addr, u64 len,
		   unsigned int flags)
{
	return odp_fault_ahead(umem, addr, len, flags & ODP_FAULT_WRITE);
}
EXPORT_SYMBOL_GPL(odp_umem_fault);

/**
 * odp_umem_try_fault() - make a range present without faulting
 * @umem: region, explicit or implicit
 * @addr: first byte
 * @len: length in bytes
 * @flags: ODP_FAULT_WRITE if the device will write
 *
 * Takes into the region what the CPU has mapped already (hmm_range_fault()
 * without fault requests: no I/O, no page allocation, no reclaim) and says
 * whether that made the whole range present.  A device that must not wait
 * on a fault of unknown length - a responder that can answer "receiver not
 * ready" meanwhile - calls this first and hands only what is left to a
 * thread that may block in odp_umem_fault().  What it makes present counts
 * as device page faults, like odp_umem_fault(): the device needed it.
 *
 * Context: sleeps (briefly: the mmap lock for reading, the region lock).
 * Return: 0 if the range is present now, -EAGAIN if a real fault is
 * needed, -EFAULT if a page has no VMA or no access there (the fault would
 * fail), or a negative errno as for odp_umem_map_and_lock().
 */
int odp_umem_try_fault(struct odp_umem *umem, u64 addr, u64 len,
		       unsigned int flags)
{
	return odp_fault_ahead(umem, addr, len,
			       (flags & ODP_FAULT_WRITE) | ODP_FAULT_NO_FAULT |
			       ODP_FAULT_TRY);
}
EXPORT_SYMBOL_GPL(odp_umem_try_fault);
