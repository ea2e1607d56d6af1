// SPDX-License-Identifier: GPL-2.0
/*
 * softodp ODP core: counters per region, per process and in total.
 *
 * Plain atomic64 arrays so that debugfs today and rdma netlink later can
 * read them without locks through odp_counters_for_each().  The totals
 * outlive every region and process: they are the only record of events
 * whose region died with its process (an OOM victim reaped by the OOM
 * reaper, for example).
 */
#include <linux/export.h>
#include <linux/kernel.h>

#include "odp_internal.h"

static const char * const odp_counter_names[ODP_CNT_MAX] = {
	[ODP_CNT_PAGE_FAULTS]		= "page_faults",
	[ODP_CNT_PAGE_FAULTS_HANDLED]	= "page_faults_handled",
	[ODP_CNT_FAULT_RETRIES]		= "fault_retries",
	[ODP_CNT_FAULT_ERRORS]		= "fault_errors",
	[ODP_CNT_PREFETCHES]		= "prefetches",
	[ODP_CNT_PREFETCH_PAGES]	= "prefetch_pages",
	[ODP_CNT_PAGES_MAPPED]		= "pages_mapped",
	[ODP_CNT_WRITE_DOWNGRADES]	= "write_downgrades",
	[ODP_CNT_INV_WAITS]		= "inv_waits",
	[ODP_CNT_INV_NONBLOCK]		= "inv_nonblock",
	[ODP_CNT_INV_NONBLOCK_FAILS]	= "inv_nonblock_fails",
	[ODP_CNT_EXCLUSIVE_IGNORED]	= "inv_exclusive_ignored",
	[ODP_CNT_CHUNKS]		= "pt_chunks",
	[ODP_CNT_CHUNKS_FREED]		= "pt_chunks_freed",
	[ODP_CNT_CHILDREN]		= "implicit_children",
	[ODP_CNT_CHILDREN_FREED]	= "implicit_children_freed",
	[ODP_CNT_MM_RELEASE]		= "mm_release",
	[ODP_CNT_INV_START_PASSES]	= "inv_start_passes",
	[ODP_CNT_INV_FINISH_PASSES]	= "inv_finish_passes",
	[ODP_CNT_INV_SINGLE_PASS]	= "inv_single_pass",
	[ODP_CNT_INV_FINISH_ALLOCS]	= "inv_finish_allocs",
	[ODP_CNT_INV_BASE + 0]		= "inv_unmap",
	[ODP_CNT_INV_BASE + 1]		= "inv_unmap_pages",
	[ODP_CNT_INV_BASE + 2]		= "inv_clear",
	[ODP_CNT_INV_BASE + 3]		= "inv_clear_pages",
	[ODP_CNT_INV_BASE + 4]		= "inv_protection_vma",
	[ODP_CNT_INV_BASE + 5]		= "inv_protection_vma_pages",
	[ODP_CNT_INV_BASE + 6]		= "inv_protection_page",
	[ODP_CNT_INV_BASE + 7]		= "inv_protection_page_pages",
	[ODP_CNT_INV_BASE + 8]		= "inv_soft_dirty",
	[ODP_CNT_INV_BASE + 9]		= "inv_soft_dirty_pages",
	[ODP_CNT_INV_BASE + 10]		= "inv_release",
	[ODP_CNT_INV_BASE + 11]		= "inv_release_pages",
	[ODP_CNT_INV_BASE + 12]		= "inv_migrate",
	[ODP_CNT_INV_BASE + 13]		= "inv_migrate_pages",
	[ODP_CNT_INV_BASE + 14]		= "inv_exclusive",
	[ODP_CNT_INV_BASE + 15]		= "inv_exclusive_pages",
	[ODP_CNT_INV_BASE + 16]		= "inv_other",
	[ODP_CNT_INV_BASE + 17]		= "inv_other_pages",
};

/* Sum of every region since the core was loaded (gauges included). */
static struct odp_counters odp_total_stats;

/**
 * odp_inv_event_index() - counter slot of an invalidation event
 * @event: range->event of an invalidation
 *
 * Return: 0..ODP_INV_NR_EVENTS - 1; events this file does not know (a newer
 * kernel) share the last slot, "other".
 */
unsigned int odp_inv_event_index(enum mmu_notifier_event event)
{
	switch (event) {
	case MMU_NOTIFY_UNMAP:
		return 0;
	case MMU_NOTIFY_CLEAR:
		return 1;
	case MMU_NOTIFY_PROTECTION_VMA:
		return 2;
	case MMU_NOTIFY_PROTECTION_PAGE:
		return 3;
	case MMU_NOTIFY_SOFT_DIRTY:
		return 4;
	case MMU_NOTIFY_RELEASE:
		return 5;
	case MMU_NOTIFY_MIGRATE:
		return 6;
	case MMU_NOTIFY_EXCLUSIVE:
		return 7;
	default:
		return 8;
	}
}

/**
 * odp_count() - add to a counter of a region, its parent, its process and
 *	the totals
 * @umem: region the event happened on
 * @id: counter
 * @n: amount, negative for gauges going down
 *
 * Lock-free; callable from notifier callbacks.
 */
void odp_count(struct odp_umem *umem, enum odp_counter_id id, s64 n)
{
	if (!n)
		return;
	atomic64_add(n, &umem->stats.c[id]);
	if (umem->parent)
		atomic64_add(n, &umem->parent->stats.c[id]);
	atomic64_add(n, &umem->omm->stats.c[id]);
	atomic64_add(n, &odp_total_stats.c[id]);
}

/**
 * odp_kmem_add() - account kernel memory of a region (and of its parent)
 * @umem: region
 * @bytes: amount, negative when freeing
 */
void odp_kmem_add(struct odp_umem *umem, s64 bytes)
{
	atomic64_add(bytes, &umem->kmem);
	if (umem->parent)
		atomic64_add(bytes, &umem->parent->kmem);
}

/**
 * odp_counters_for_each() - report every counter as a name/value pair
 * @cnt: counters of a region or a process
 * @fn: called once per counter, in a stable order
 * @priv: passed to @fn
 */
void odp_counters_for_each(const struct odp_counters *cnt,
			   void (*fn)(void *priv, const char *name, u64 value),
			   void *priv)
{
	unsigned int i;

	BUILD_BUG_ON(ODP_CNT_INV_LAST - ODP_CNT_INV_BASE + 1 !=
		     2 * ODP_INV_NR_EVENTS);
	for (i = 0; i < ODP_CNT_MAX; i++)
		fn(priv, odp_counter_names[i], atomic64_read(&cnt->c[i]));
}

/**
 * odp_umem_counters() - report the counters of a region
 * @umem: region (an implicit parent includes its children)
 * @fn: called once per counter with its name and value
 * @priv: passed to @fn
 */
void odp_umem_counters(struct odp_umem *umem,
		       void (*fn)(void *priv, const char *name, u64 value),
		       void *priv)
{
	odp_counters_for_each(&umem->stats, fn, priv);
}
EXPORT_SYMBOL_GPL(odp_umem_counters);

/**
 * odp_mm_counters() - report the counters of a process
 * @omm: process context
 * @fn: called once per counter with its name and value
 * @priv: passed to @fn
 */
void odp_mm_counters(struct odp_mm *omm,
		     void (*fn)(void *priv, const char *name, u64 value),
		     void *priv)
{
	odp_counters_for_each(&omm->stats, fn, priv);
}
EXPORT_SYMBOL_GPL(odp_mm_counters);

/**
 * odp_core_counters() - report the totals of every region ever created
 * @fn: called once per counter with its name and value
 * @priv: passed to @fn
 *
 * The totals keep counting after regions and processes are gone; gauges
 * (pages_mapped, pt_chunks, implicit_children) give the live amount.
 */
void odp_core_counters(void (*fn)(void *priv, const char *name, u64 value),
		       void *priv)
{
	odp_counters_for_each(&odp_total_stats, fn, priv);
}
EXPORT_SYMBOL_GPL(odp_core_counters);

/**
 * odp_umem_kmem_bytes() - kernel memory used by a region
 * @umem: region; an implicit parent includes all its children
 *
 * Return: bytes of region structures and page tables.
 */
u64 odp_umem_kmem_bytes(struct odp_umem *umem)
{
	return atomic64_read(&umem->kmem);
}
EXPORT_SYMBOL_GPL(odp_umem_kmem_bytes);
