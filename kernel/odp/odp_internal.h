/* SPDX-License-Identifier: GPL-2.0 */
/*
 * softodp ODP core: internal objects shared by the files of kernel/odp/.
 */
#ifndef SOFTODP_ODP_INTERNAL_H
#define SOFTODP_ODP_INTERNAL_H

#include <linux/atomic.h>
#include <linux/list.h>
#include <linux/mmu_notifier.h>
#include <linux/mutex.h>
#include <linux/rwsem.h>
#include <linux/spinlock.h>
#include <linux/wait.h>
#include <linux/workqueue.h>
#include <linux/xarray.h>

#include "softodp_compat.h"
#include "odp.h"

#define odp_pr_err(fmt, ...)	pr_err("softodp: odp: " fmt, ##__VA_ARGS__)

/*
 * Counters.  One enum shared by regions, processes and the global totals;
 * the names table in counters.c must follow the same order.
 */
enum odp_counter_id {
	ODP_CNT_PAGE_FAULTS,		/* fault requests that ran hmm */
	ODP_CNT_PAGE_FAULTS_HANDLED,	/* pages made present or writable */
	ODP_CNT_FAULT_RETRIES,		/* collided with an invalidation */
	ODP_CNT_FAULT_ERRORS,
	ODP_CNT_PREFETCHES,
	ODP_CNT_PREFETCH_PAGES,
	ODP_CNT_PAGES_MAPPED,		/* gauge */
	ODP_CNT_WRITE_DOWNGRADES,	/* pages: write dropped, read kept */
	ODP_CNT_INV_WAITS,		/* finish pass waited for accessors */
	ODP_CNT_INV_NONBLOCK,		/* non-blockable, both passes done */
	ODP_CNT_INV_NONBLOCK_FAILS,	/* non-blockable, refused (busy) */
	ODP_CNT_EXCLUSIVE_IGNORED,
	ODP_CNT_CHUNKS,			/* gauge: page-table chunks */
	ODP_CNT_CHUNKS_FREED,
	ODP_CNT_CHILDREN,		/* gauge: implicit children */
	ODP_CNT_CHILDREN_FREED,
	ODP_CNT_MM_RELEASE,
	ODP_CNT_INV_START_PASSES,	/* start passes that fenced */
	ODP_CNT_INV_FINISH_PASSES,	/* finish passes (deferred or inline) */
	ODP_CNT_INV_SINGLE_PASS,	/* finish ran inside start */
	ODP_CNT_INV_FINISH_ALLOCS,	/* finish slots allocated (pool full) */
	/* Per invalidation event: number of events, then pages dropped. */
	ODP_CNT_INV_BASE,
	ODP_CNT_INV_LAST = ODP_CNT_INV_BASE + 2 * 9 - 1,
	ODP_CNT_MAX
};

/* Index of an invalidation event in the counters (9 = other). */
#define ODP_INV_NR_EVENTS	9

/**
 * struct odp_counters - u64 counters, readable without locks
 * @c: one atomic per enum odp_counter_id
 */
struct odp_counters {
	atomic64_t c[ODP_CNT_MAX];
};

void odp_counters_for_each(const struct odp_counters *cnt,
			   void (*fn)(void *priv, const char *name, u64 value),
			   void *priv);
unsigned int odp_inv_event_index(enum mmu_notifier_event event);

/**
 * struct odp_mm - per-process ODP context, one per (ops, mm)
 * @mn: mmu notifier from mmu_notifier_get(); @mn.mm stays valid (grabbed)
 *	until odp_mm_free_notifier() runs
 * @lock: protects @umems and @implicit
 * @umems: explicit regions of this process
 * @implicit: registry of the implicit regions of this process (each one
 *	carries its own children registry, struct odp_implicit)
 * @node: entry in the global list used by debugfs
 * @tgid: process that created the context, for dumps
 * @released: set by ->release once the address space is torn down
 * @inv_clock: ticks once per invalidation pass on any region of the
 *	process; orders the passes (struct odp_umem @inv_start_tick)
 * @stats: per-process counters
 */
struct odp_mm {
	struct mmu_notifier mn;
	spinlock_t lock;
	struct list_head umems;
	struct list_head implicit;
	struct list_head node;
	pid_t tgid;
	bool released;
	atomic64_t inv_clock;
	struct odp_counters stats;
};

/* Page-table entry: pfn << ODP_PTE_SHIFT | flags. */
#define ODP_PTE_READ		BIT(0)
#define ODP_PTE_WRITE		BIT(1)
#define ODP_PTE_SHIFT		2
#define odp_pte_pfn(e)		((e) >> ODP_PTE_SHIFT)

/* A chunk holds 512 entries (4 KiB) and is freed when UNMAP empties it. */
#define ODP_CHUNK_SHIFT		9
#define ODP_CHUNK_ENTRIES	(1UL << ODP_CHUNK_SHIFT)

/**
 * struct odp_chunk - one slot of the page-table directory
 * @ptes: entries, NULL until the first fault in the chunk
 * @nvalid: entries with ODP_PTE_READ set
 */
struct odp_chunk {
	unsigned long *ptes;
	unsigned int nvalid;
};

/**
 * struct odp_pt - two-level page table of a region
 * @dir: @nchunks slots
 * @nchunks: number of directory slots
 * @npages: region pages (of 1 << page_shift bytes)
 * @nvalid: valid entries in the whole table
 */
struct odp_pt {
	struct odp_chunk *dir;
	unsigned long nchunks;
	unsigned long npages;
	unsigned long nvalid;
};

/* Implicit children each cover 1 GiB of address space (see README.md). */
#define ODP_CHILD_SHIFT		30
#define ODP_CHILD_SIZE		(1UL << ODP_CHILD_SHIFT)

/**
 * struct odp_implicit - registry of the children of an implicit region
 * @owner: the implicit parent
 * @children: child umems indexed by address >> ODP_CHILD_SHIFT; XA_MARK_0
 *	marks children that may have become empty
 * @sem: read side held by users of children (iterators, prefetch); write
 *	side by the reaper and teardown, which free children
 * @reap_work: frees empty children outside notifier callbacks
 */
struct odp_implicit {
	struct odp_umem *owner;
	struct xarray children;
	struct rw_semaphore sem;
	struct work_struct reap_work;
};

/*
 * Internal fault flag, next to the public ODP_FAULT_* ones: the fault is a
 * prefetch, counted as prefetch_pages instead of page_faults.
 */
#define ODP_FAULT_PREFETCH	BIT(31)

/*
 * Internal fault flag: with ODP_FAULT_NO_FAULT, a range still not present
 * after the snapshot fails with -EAGAIN (odp_umem_try_fault()).
 */
#define ODP_FAULT_TRY		BIT(30)

/*
 * Finish passes of one region that can be in flight without allocating
 * (concurrent invalidations overlapping the region); more use GFP_NOWAIT,
 * and if that fails the start pass does the finish work itself.
 */
#define ODP_INV_FINISH_SLOTS	2

/**
 * struct odp_inv_finish - one deferred finish pass of a region
 * @base: handed to the mm core by the start pass; @base.notifier is set
 *	when the finish pass runs
 * @slot: index in struct odp_umem @fin, or -1 if allocated
 */
struct odp_inv_finish {
	struct mmu_interval_notifier_finish base;
	int slot;
};

#define ODP_UMEM_IMPLICIT	BIT(0)
#define ODP_UMEM_CHILD		BIT(1)

/**
 * struct odp_umem - one memory region
 * @notifier: interval notifier (unused by implicit parents)
 * @omm: owning process context; top-level regions hold a reference
 * @parent: implicit parent of a child, else NULL
 * @imp: children registry of an implicit parent, else NULL
 * @start: first byte covered, aligned to 1 << @page_shift
 * @end: first byte after the region
 * @page_shift: region page size
 * @access: ODP_ACCESS_* rights
 * @flags: ODP_UMEM_*
 * @lock: protects @pt and is the lock paired with the interval sequence
 * @pt: page table
 * @readers: accessors inside a read-side section
 * @fencing: invalidations between fence and finish (the gate)
 * @inv_gen: invalidation generation, raised by every start pass under
 *	@lock (struct odp_window snapshots carry the value they were taken at)
 * @id: identity of the region, never 0 and never reused (windows name
 *	their region by it)
 * @wq: finish waits here for @readers; readers wait for @fencing
 * @fin: finish-pass slots of the invalidations in flight
 * @fin_busy: bit i set while @fin[i] is handed out
 * @inv_start_tick: @omm->inv_clock at the last start pass
 * @inv_finish_tick: @omm->inv_clock at the last finish pass
 * @mm_node: entry in @omm->umems or @omm->implicit
 * @kmem: kernel memory used (children included for a parent)
 * @stats: counters (a parent also sums its children)
 */
struct odp_umem {
	struct mmu_interval_notifier notifier;
	struct odp_mm *omm;
	struct odp_umem *parent;
	struct odp_implicit *imp;
	u64 start;
	u64 end;
	unsigned int page_shift;
	unsigned int access;
	unsigned int flags;
	struct mutex lock;
	struct odp_pt pt;
	atomic_t readers;
	atomic_t fencing;
	unsigned long inv_gen;
	u64 id;
	wait_queue_head_t wq;
	struct odp_inv_finish fin[ODP_INV_FINISH_SLOTS];
	unsigned long fin_busy;
	u64 inv_start_tick;
	u64 inv_finish_tick;
	struct list_head mm_node;
	atomic64_t kmem;
	struct odp_counters stats;
};

/* Global object counts (debugfs, tests). */
extern atomic64_t odp_nr_mms;
extern atomic64_t odp_nr_umems;
extern atomic64_t odp_nr_children;

/* mm.c */
extern spinlock_t odp_mms_lock;
extern struct list_head odp_mms;
int odp_mm_ref(struct odp_mm *omm);
void odp_mm_add_umem(struct odp_mm *omm, struct odp_umem *umem);
void odp_mm_del_umem(struct odp_mm *omm, struct odp_umem *umem);

/* counters.c */
void odp_count(struct odp_umem *umem, enum odp_counter_id id, s64 n);
void odp_kmem_add(struct odp_umem *umem, s64 bytes);

/* umem.c */
int odp_umem_init(struct odp_umem *umem, struct odp_mm *omm, u64 start,
		  u64 end, unsigned int access, unsigned int page_shift);
int odp_umem_insert_notifier(struct odp_umem *umem);
void odp_umem_teardown(struct odp_umem *umem);
int odp_pt_prepare(struct odp_umem *umem, unsigned long first,
		   unsigned long last);
unsigned long *odp_pt_entry(struct odp_umem *umem, unsigned long idx);
void odp_pt_drop(struct odp_umem *umem, unsigned long idx, bool free_chunk);

/* invalidate.c */
extern const struct mmu_interval_notifier_ops odp_umem_mni_ops;
bool odp_inv_start(struct mmu_interval_notifier *mni,
		   const struct mmu_notifier_range *range,
		   unsigned long cur_seq,
		   struct mmu_interval_notifier_finish **finish);
void odp_inv_finish(struct mmu_interval_notifier_finish *finish);
int odp_read_enter(struct odp_umem *umem);
void odp_read_gate_wait(struct odp_umem *umem);
void odp_read_exit(struct odp_umem *umem);

/* fault.c */
int odp_fault_range(struct odp_umem *umem, u64 start, u64 end,
		    unsigned int flags);
bool odp_range_present(struct odp_umem *umem, u64 start, u64 end,
		       unsigned int flags);

/* implicit.c */
struct odp_umem *odp_implicit_child(struct odp_umem *parent, u64 addr,
				    bool create);
void odp_implicit_mark_empty(struct odp_umem *child);
void odp_implicit_destroy(struct odp_umem *parent);

/* debugfs.c */
void odp_debugfs_init(void);
void odp_debugfs_exit(void);

#endif /* SOFTODP_ODP_INTERNAL_H */
