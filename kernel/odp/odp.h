/* SPDX-License-Identifier: GPL-2.0 */
/*
 * softodp ODP core: public interface for device engines.
 *
 * A memory region (struct odp_umem) mirrors part of a process address space
 * without pinning it.  Engines fault pages in on demand, touch them inside a
 * short read-side section and lose them whenever the CPU page tables change.
 * See kernel/odp/README.md for the lifetime and locking rules.
 */
#ifndef SOFTODP_ODP_H
#define SOFTODP_ODP_H

#include <linux/compiler.h>
#include <linux/mm_types.h>
#include <linux/types.h>

struct odp_mm;
struct odp_umem;

/* Region access rights (odp_umem_alloc() @access). */
#define ODP_ACCESS_WRITE	BIT(0)

/* Flags of the access API. */
#define ODP_FAULT_WRITE		BIT(0)	/* need write access, write-fault */
#define ODP_FAULT_NO_FAULT	BIT(1)	/* use what is mapped, never fault */

/* Largest region page (huge-page granularity) accepted: 1 GiB. */
#define ODP_MAX_PAGE_SHIFT	30

/* Number of native pages one iterator step can hold in its snapshot. */
#define ODP_ITER_BATCH		32

/**
 * struct odp_iter - walk the pages of a region range for zero-copy users
 * @umem: region being walked (explicit, or implicit parent)
 * @cur: region (or child) whose read-side section is held
 * @pos: next byte to hand out
 * @end: end of the range
 * @flags: ODP_FAULT_* flags of the walk
 * @nr: pages in the current snapshot
 * @idx: next page of the snapshot
 * @in_section: the read-side section of @cur is held
 * @children_held: the children registry of @umem is held for read
 * @pfn: the snapshot
 *
 * Opaque to users; allocate it on the stack and drive it with
 * odp_iter_start(), odp_iter_next() and odp_iter_end().
 */
struct odp_iter {
	struct odp_umem *umem;
	struct odp_umem *cur;
	u64 pos;
	u64 end;
	unsigned int flags;
	unsigned int nr;
	unsigned int idx;
	bool in_section;
	bool children_held;
	unsigned long pfn[ODP_ITER_BATCH];
};

/**
 * struct odp_window - pages of a region range kept from one copy to the next
 * @umem_id: identity of the region of the snapshot (0: empty)
 * @gen: the region's invalidation generation at the snapshot
 * @start: first byte covered, page aligned
 * @end: end of the covered range
 * @flags: ODP_FAULT_WRITE if the pages were taken writable
 * @pfn: the snapshot, one native page per entry from @start
 *
 * An engine that copies a message packet by packet keeps one window per
 * stream (zeroed before first use) and hands it to odp_umem_copy_window():
 * while no invalidation has touched the region since, the next packet's
 * pages come from the window without the region lock.  Opaque to users.
 */
struct odp_window {
	u64 umem_id;
	unsigned long gen;
	u64 start;
	u64 end;
	unsigned int flags;
	unsigned long pfn[ODP_ITER_BATCH];
};

/**
 * struct odp_objects - live object counts of the ODP core (for tests)
 * @mms: live struct odp_mm (freed after the deferred mmu_notifier_put)
 * @umems: live explicit and implicit-parent regions
 * @children: live implicit children
 */
struct odp_objects {
	u64 mms;
	u64 umems;
	u64 children;
};

int odp_core_init(void);
void odp_core_exit(void);

struct odp_mm *odp_mm_get(struct mm_struct *mm);
void odp_mm_put(struct odp_mm *omm);

struct odp_umem *odp_umem_alloc(struct odp_mm *omm, u64 addr, u64 len,
				unsigned int access, unsigned int page_shift);
struct odp_umem *odp_umem_alloc_implicit(struct odp_mm *omm,
					 unsigned int access);
void odp_umem_release(struct odp_umem *umem);

int odp_umem_map_and_lock(struct odp_umem *umem, u64 addr, u64 len,
			  unsigned int flags);
void odp_umem_unlock(struct odp_umem *umem);
int odp_umem_prefetch(struct odp_umem *umem, u64 addr, u64 len,
		      unsigned int flags);
int odp_umem_fault(struct odp_umem *umem, u64 addr, u64 len,
		   unsigned int flags);
int odp_umem_try_fault(struct odp_umem *umem, u64 addr, u64 len,
		       unsigned int flags);

int odp_iter_start(struct odp_iter *it, struct odp_umem *umem, u64 addr,
		   u64 len, unsigned int flags);
int odp_iter_next(struct odp_iter *it, struct page **page,
		  unsigned int *offset, unsigned int *len);
void odp_iter_end(struct odp_iter *it);

int odp_umem_read(struct odp_umem *umem, u64 addr, void *dst, size_t len,
		  unsigned int flags);
int odp_umem_write(struct odp_umem *umem, u64 addr, const void *src,
		   size_t len, unsigned int flags);
int odp_umem_copy_window(struct odp_umem *umem, struct odp_window *win,
			 u64 addr, void *buf, size_t len, unsigned int flags);

u64 odp_umem_kmem_bytes(struct odp_umem *umem);
void odp_umem_counters(struct odp_umem *umem,
		       void (*fn)(void *priv, const char *name, u64 value),
		       void *priv);
void odp_mm_counters(struct odp_mm *omm,
		     void (*fn)(void *priv, const char *name, u64 value),
		     void *priv);
void odp_core_counters(void (*fn)(void *priv, const char *name, u64 value),
		       void *priv);
struct odp_mm *odp_umem_mm(struct odp_umem *umem);
bool odp_umem_inv_trace(struct odp_umem *umem, u64 *start_tick,
			u64 *finish_tick);
void odp_core_objects(struct odp_objects *objs);

#endif /* SOFTODP_ODP_H */
