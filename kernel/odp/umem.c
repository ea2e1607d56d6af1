// SPDX-License-Identifier: GPL-2.0
/*
 * softodp ODP core: region objects and their two-level page tables.
 *
 * The table of a region is a directory of chunks of ODP_CHUNK_ENTRIES
 * entries.  Chunks are allocated (outside every lock the invalidation path
 * takes) before a fault commits into them and are freed when an UNMAP
 * leaves them empty, so that the kernel memory of a region follows what the
 * process has mapped rather than the size of the registration.
 */
#include <linux/export.h>
#include <linux/mm.h>
#include <linux/sched/mm.h>
#include <linux/slab.h>

#include "odp_internal.h"

static size_t odp_chunk_bytes(struct odp_umem *umem, unsigned long c)
{
	unsigned long first = c << ODP_CHUNK_SHIFT;

	return min(ODP_CHUNK_ENTRIES, umem->pt.npages - first) *
	       sizeof(unsigned long);
}

/* Identities of regions (struct odp_window). */
static atomic64_t odp_umem_ids = ATOMIC64_INIT(0);

int odp_umem_init(struct odp_umem *umem, struct odp_mm *omm, u64 start,
		  u64 end, unsigned int access, unsigned int page_shift)
{
	umem->omm = omm;
	umem->start = start;
	umem->end = end;
	umem->access = access;
	umem->page_shift = page_shift;
	mutex_init(&umem->lock);
	atomic_set(&umem->readers, 0);
	atomic_set(&umem->fencing, 0);
	umem->inv_gen = 0;
	/* Never 0, never reused: what a struct odp_window names. */
	umem->id = atomic64_inc_return(&odp_umem_ids);
	init_waitqueue_head(&umem->wq);
	INIT_LIST_HEAD(&umem->mm_node);
	odp_kmem_add(umem, sizeof(*umem));

	if (umem->flags & ODP_UMEM_IMPLICIT)
		return 0;
	umem->pt.npages = (end - start) >> page_shift;
	umem->pt.nchunks = DIV_ROUND_UP(umem->pt.npages, ODP_CHUNK_ENTRIES);
	umem->pt.dir = kvcalloc(umem->pt.nchunks, sizeof(*umem->pt.dir),
				GFP_KERNEL);
	if (!umem->pt.dir) {
		odp_kmem_add(umem, -(s64)sizeof(*umem));
		return -ENOMEM;
	}
	odp_kmem_add(umem, umem->pt.nchunks * sizeof(*umem->pt.dir));
	return 0;
}

/**
 * odp_pt_prepare() - make sure the chunks for region pages exist
 * @umem: explicit region or child
 * @first: first region page index
 * @last: last region page index (inclusive)
 *
 * Allocates with GFP_KERNEL before taking @umem->lock: the lock is also
 * taken by invalidations running from reclaim, so nothing may allocate
 * while holding it.  An UNMAP may free a chunk again right after; the fault
 * path then notices and calls this again.
 *
 * Return: 0 or -ENOMEM.
 */
int odp_pt_prepare(struct odp_umem *umem, unsigned long first,
		   unsigned long last)
{
	unsigned long c;

	might_sleep();
	for (c = first >> ODP_CHUNK_SHIFT; c <= last >> ODP_CHUNK_SHIFT; c++) {
		size_t bytes = odp_chunk_bytes(umem, c);
		unsigned long *ptes;

		if (READ_ONCE(umem->pt.dir[c].ptes))
			continue;
		ptes = kvzalloc(bytes, GFP_KERNEL);
		if (!ptes)
			return -ENOMEM;
		mutex_lock(&umem->lock);
		if (!umem->pt.dir[c].ptes) {
			/* Paired with the free in odp_pt_free_chunk(). */
			WRITE_ONCE(umem->pt.dir[c].ptes, ptes);
			ptes = NULL;
			odp_kmem_add(umem, bytes);
			odp_count(umem, ODP_CNT_CHUNKS, 1);
		}
		mutex_unlock(&umem->lock);
		kvfree(ptes);
	}
	return 0;
}

/**
 * odp_pt_entry() - address of the entry of a region page
 * @umem: region holding @umem->lock
 * @idx: region page index
 *
 * Return: the entry, or NULL when its chunk is not allocated.
 */
unsigned long *odp_pt_entry(struct odp_umem *umem, unsigned long idx)
{
	unsigned long *ptes;

	lockdep_assert_held(&umem->lock);
	ptes = umem->pt.dir[idx >> ODP_CHUNK_SHIFT].ptes;
	return ptes ? &ptes[idx & (ODP_CHUNK_ENTRIES - 1)] : NULL;
}

static void odp_pt_free_chunk(struct odp_umem *umem, unsigned long c)
{
	lockdep_assert_held(&umem->lock);
	odp_kmem_add(umem, -(s64)odp_chunk_bytes(umem, c));
	kvfree(umem->pt.dir[c].ptes);	/* pairs with odp_pt_prepare() */
	WRITE_ONCE(umem->pt.dir[c].ptes, NULL);
	odp_count(umem, ODP_CNT_CHUNKS, -1);
	odp_count(umem, ODP_CNT_CHUNKS_FREED, 1);
}

/**
 * odp_pt_drop() - forget one region page
 * @umem: region holding @umem->lock
 * @idx: region page index; its entry is valid
 * @free_chunk: free the chunk if this was its last valid entry
 *
 * A page that was writable is marked dirty first: the device may have
 * written it through the kernel mapping.  The page is still mapped by the
 * CPU here (invalidations run before the CPU page table changes).
 */
void odp_pt_drop(struct odp_umem *umem, unsigned long idx, bool free_chunk)
{
	struct odp_chunk *chunk = &umem->pt.dir[idx >> ODP_CHUNK_SHIFT];
	unsigned long *e = &chunk->ptes[idx & (ODP_CHUNK_ENTRIES - 1)];

	lockdep_assert_held(&umem->lock);
	if (*e & ODP_PTE_WRITE)
		folio_mark_dirty(page_folio(pfn_to_page(odp_pte_pfn(*e))));
	*e = 0;
	chunk->nvalid--;
	umem->pt.nvalid--;
	odp_count(umem, ODP_CNT_PAGES_MAPPED, -1);
	if (free_chunk && !chunk->nvalid)
		odp_pt_free_chunk(umem, idx >> ODP_CHUNK_SHIFT);
}

int odp_umem_insert_notifier(struct odp_umem *umem)
{
	struct mm_struct *mm = umem->omm->mn.mm;
	int ret;

	/*
	 * The first interval notifier of an mm registers the interval tree,
	 * which needs live users: hold one.  The insert takes its own
	 * mmgrab(), dropped by mmu_interval_notifier_remove() in
	 * odp_umem_teardown().
	 */
	if (!mmget_not_zero(mm))
		return -EFAULT;
	ret = mmu_interval_notifier_insert(&umem->notifier, mm, umem->start,
					   umem->end - umem->start,
					   &odp_umem_mni_ops);
	mmput(mm);	/* pairs with mmget_not_zero() above */
	return ret;
}

/**
 * odp_umem_teardown() - stop mirroring and free the page table
 * @umem: explicit region or child with an inserted notifier; no accessor
 *	may use it any more
 */
void odp_umem_teardown(struct odp_umem *umem)
{
	unsigned long c, i;

	might_sleep();
	/*
	 * Drop the pages while the notifier still protects them (the pages
	 * cannot be freed before an invalidation takes the lock), so that
	 * odp_pt_drop() may dirty them safely.
	 */
	mutex_lock(&umem->lock);
	for (c = 0; c < umem->pt.nchunks && umem->pt.nvalid; c++) {
		unsigned long *ptes = umem->pt.dir[c].ptes;
		unsigned long n = odp_chunk_bytes(umem, c) / sizeof(*ptes);

		for (i = 0; ptes && i < n && umem->pt.dir[c].nvalid; i++)
			if (ptes[i] & ODP_PTE_READ)
				odp_pt_drop(umem, (c << ODP_CHUNK_SHIFT) + i,
					    false);
	}
	mutex_unlock(&umem->lock);

	/* After this no callback runs; pairs with the insert. */
	mmu_interval_notifier_remove(&umem->notifier);

	for (c = 0; c < umem->pt.nchunks; c++) {
		if (!umem->pt.dir[c].ptes)
			continue;
		mutex_lock(&umem->lock);
		odp_pt_free_chunk(umem, c);
		mutex_unlock(&umem->lock);
	}
	odp_kmem_add(umem, -(s64)(umem->pt.nchunks * sizeof(*umem->pt.dir)));
	kvfree(umem->pt.dir);
	umem->pt.dir = NULL;
}

/**
 * odp_umem_alloc() - register a region of a process address space
 * @omm: process context from odp_mm_get()
 * @addr: first byte; rounded down to the region page size
 * @len: length in bytes; the end is rounded up to the region page size
 * @access: ODP_ACCESS_* rights the device gets
 * @page_shift: region page size, PAGE_SHIFT up to ODP_MAX_PAGE_SHIFT; a
 *	huge-page granularity needs memory backed by pages at least that big
 *
 * Nothing is faulted or pinned.  The region takes its own use of @omm.
 *
 * Context: process context, sleeps.
 * Return: the region or an ERR_PTR(): -EINVAL for a bad range or page
 * size, -EFAULT if the process is exiting, -ENOMEM.
 */
struct odp_umem *odp_umem_alloc(struct odp_mm *omm, u64 addr, u64 len,
				unsigned int access, unsigned int page_shift)
{
	struct odp_umem *umem;
	u64 start, end;
	int ret;

	might_sleep();
	if (page_shift < PAGE_SHIFT || page_shift > ODP_MAX_PAGE_SHIFT ||
	    access & ~ODP_ACCESS_WRITE)
		return ERR_PTR(-EINVAL);
	if (!len || addr + len < addr ||
	    addr + len > omm->mn.mm->task_size)
		return ERR_PTR(-EINVAL);
	start = round_down(addr, 1ULL << page_shift);
	end = round_up(addr + len, 1ULL << page_shift);

	umem = kzalloc(sizeof(*umem), GFP_KERNEL);
	if (!umem)
		return ERR_PTR(-ENOMEM);
	ret = odp_mm_ref(omm);		/* pairs with odp_mm_put() in release */
	if (ret)
		goto err_free;
	ret = odp_umem_init(umem, omm, start, end, access, page_shift);
	if (ret)
		goto err_put;
	ret = odp_umem_insert_notifier(umem);
	if (ret)
		goto err_pt;
	odp_mm_add_umem(omm, umem);
	atomic64_inc(&odp_nr_umems);	/* pairs with dec in release */
	return umem;

err_pt:
	kvfree(umem->pt.dir);
err_put:
	odp_mm_put(omm);
err_free:
	kfree(umem);
	return ERR_PTR(ret);
}
EXPORT_SYMBOL_GPL(odp_umem_alloc);

/**
 * odp_umem_release() - unregister a region and free it
 * @umem: region from odp_umem_alloc() or odp_umem_alloc_implicit(); the
 *	caller guarantees that no accessor uses it any more
 *
 * Context: process context, sleeps (waits for running invalidations).
 */
void odp_umem_release(struct odp_umem *umem)
{
	struct odp_mm *omm = umem->omm;

	might_sleep();
	if (umem->flags & ODP_UMEM_IMPLICIT)
		odp_implicit_destroy(umem);
	else
		odp_umem_teardown(umem);
	odp_mm_del_umem(omm, umem);
	kfree(umem);
	atomic64_dec(&odp_nr_umems);	/* pairs with inc in alloc */
	odp_mm_put(omm);		/* pairs with odp_mm_ref() in alloc */
}
EXPORT_SYMBOL_GPL(odp_umem_release);
