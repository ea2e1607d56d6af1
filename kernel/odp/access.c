// SPDX-License-Identifier: GPL-2.0
/*
 * softodp ODP core: access API for device engines.
 *
 * The iterator hands out one native page at a time.  It works in batches
 * of ODP_ITER_BATCH pages: under the region lock it makes the batch
 * present, copies the pfns into the iterator and enters the read-side
 * section, then drops the lock.  The pages stay valid until the section is
 * left, at the start of the next batch or in odp_iter_end().
 *
 * A window (struct odp_window) keeps such a snapshot after the section is
 * left, stamped with the region's invalidation generation: a later copy
 * that falls inside it enters the section without the region lock and
 * uses the snapshot if no invalidation has begun since (odp_window_enter()
 * and odp_inv_start() order their counts so that one of them sees the
 * other), else takes a new one.
 */
#include <linux/export.h>
#include <linux/highmem.h>
#include <linux/mm.h>

#include "odp_internal.h"

static bool odp_range_ok(struct odp_umem *umem, u64 addr, u64 len)
{
	return len && addr >= umem->start && addr + len >= addr &&
	       addr + len <= umem->end;
}

/**
 * odp_iter_start() - start walking the pages of a region range
 * @it: iterator, usually on the caller's stack
 * @umem: region, explicit or implicit
 * @addr: first byte
 * @len: length in bytes
 * @flags: ODP_FAULT_WRITE when the pages will be written;
 *	ODP_FAULT_NO_FAULT to use only pages already present
 *
 * On success the caller must call odp_iter_end().  Between odp_iter_next()
 * calls the caller is inside a read-side section: it must not sleep on
 * anything that may wait for memory reclaim (allocation, page faults,
 * user copies) and should keep the time short.
 *
 * Context: sleeps.
 * Return: 0 or a negative errno (then the iterator is already ended).
 */
int odp_iter_start(struct odp_iter *it, struct odp_umem *umem, u64 addr,
		   u64 len, unsigned int flags)
{
	int ret;

	might_sleep();
	memset(it, 0, offsetof(struct odp_iter, pfn));
	it->umem = umem;
	it->pos = addr;
	it->end = addr + len;
	it->flags = flags;
	if (!odp_range_ok(umem, addr, len))
		return -EFAULT;
	if ((flags & ODP_FAULT_WRITE) && !(umem->access & ODP_ACCESS_WRITE))
		return -EACCES;
	if (umem->flags & ODP_UMEM_IMPLICIT) {
		down_read(&umem->imp->sem);	/* released in odp_iter_end() */
		it->children_held = true;
		return 0;
	}
	/*
	 * A range of more than one batch is faulted at once, so that its
	 * batches then mostly hit.  One that fits in a batch (a packet) is
	 * made present by its only odp_iter_fill(): no second round of the
	 * region lock.
	 */
	if (((round_up(addr + len, PAGE_SIZE) - round_down(addr, PAGE_SIZE)) >>
	     PAGE_SHIFT) <= ODP_ITER_BATCH)
		return 0;
	ret = odp_umem_map_and_lock(umem, addr, len, flags);
	if (ret)
		return ret;
	odp_umem_unlock(umem);
	return 0;
}
EXPORT_SYMBOL_GPL(odp_iter_start);

/*
 * Make [addr, addr + len) of explicit region @umem present, take its lock
 * and enter the read-side section, waiting at the gate while an
 * invalidation is between its passes.  Returns with the lock held.
 */
static int odp_map_lock_enter(struct odp_umem *umem, u64 addr, u64 len,
			      unsigned int flags)
{
	int ret;

	for (;;) {
		ret = odp_umem_map_and_lock(umem, addr, len, flags);
		if (ret)
			return ret;
		if (!odp_read_enter(umem))
			return 0;
		odp_umem_unlock(umem);
		odp_read_gate_wait(umem);
	}
}

/* The native pfn of @va from region page table entry @e (lock held). */
static unsigned long odp_entry_pfn(struct odp_umem *umem, unsigned long idx,
				   const unsigned long *e, u64 va)
{
	u64 page_va = umem->start + ((u64)idx << umem->page_shift);

	lockdep_assert_held(&umem->lock);
	return odp_pte_pfn(*e) + ((va - page_va) >> PAGE_SHIFT);
}

static int odp_iter_fill(struct odp_iter *it)
{
	struct odp_umem *cur = it->umem;
	u64 base = round_down(it->pos, PAGE_SIZE);
	u64 stop = it->end;
	unsigned int i, n;
	int ret;

	if (cur->flags & ODP_UMEM_IMPLICIT) {
		cur = odp_implicit_child(it->umem, it->pos,
					 !(it->flags & ODP_FAULT_NO_FAULT));
		if (IS_ERR(cur))
			return PTR_ERR(cur);
		stop = min(stop, cur->end);
	}
	n = min_t(u64, ODP_ITER_BATCH,
		  (round_up(stop, PAGE_SIZE) - base) >> PAGE_SHIFT);
	stop = min(stop, base + ((u64)n << PAGE_SHIFT));

	ret = odp_map_lock_enter(cur, it->pos, stop - it->pos, it->flags);
	if (ret) {
		if (cur->parent && !READ_ONCE(cur->pt.nvalid))
			odp_implicit_mark_empty(cur);
		return ret;
	}
	for (i = 0; i < n; i++) {
		u64 va = base + ((u64)i << PAGE_SHIFT);
		unsigned long idx = (va - cur->start) >> cur->page_shift;

		it->pfn[i] = odp_entry_pfn(cur, idx, odp_pt_entry(cur, idx), va);
	}
	odp_umem_unlock(cur);
	it->cur = cur;
	it->in_section = true;
	it->nr = n;
	it->idx = 0;
	return 0;
}

/**
 * odp_iter_next() - next page segment of the range
 * @it: iterator from odp_iter_start()
 * @page: set to the page
 * @offset: set to the offset of the segment in @page
 * @len: set to the length of the segment
 *
 * The segment may be accessed (kmap_local_page()) until the next call of
 * odp_iter_next() or odp_iter_end().
 *
 * Context: sleeps between batches.
 * Return: 1 with a segment, 0 at the end, or a negative errno: -EFAULT
 * (not mapped, process gone), -EACCES (no write permission), -EAGAIN.
 */
int odp_iter_next(struct odp_iter *it, struct page **page,
		  unsigned int *offset, unsigned int *len)
{
	unsigned int off;
	int ret;

	while (it->idx >= it->nr) {
		if (it->in_section) {
			odp_read_exit(it->cur);	/* entered in fill */
			it->in_section = false;
		}
		if (it->pos >= it->end)
			return 0;
		ret = odp_iter_fill(it);
		if (ret)
			return ret;
	}
	off = offset_in_page(it->pos);
	*page = pfn_to_page(it->pfn[it->idx]);
	*offset = off;
	*len = min_t(u64, PAGE_SIZE - off, it->end - it->pos);
	it->pos += *len;
	it->idx++;
	return 1;
}
EXPORT_SYMBOL_GPL(odp_iter_next);

/**
 * odp_iter_end() - finish a walk, leaving any read-side section
 * @it: iterator from a successful odp_iter_start()
 */
void odp_iter_end(struct odp_iter *it)
{
	if (it->in_section)
		odp_read_exit(it->cur);
	it->in_section = false;
	if (it->children_held)
		up_read(&it->umem->imp->sem);	/* taken in odp_iter_start() */
	it->children_held = false;
}
EXPORT_SYMBOL_GPL(odp_iter_end);

/**
 * odp_umem_read() - copy from a region into a kernel buffer (device read)
 * @umem: region
 * @addr: first byte of the region range
 * @dst: kernel buffer of @len bytes; never user memory
 * @len: length
 * @flags: ODP_FAULT_NO_FAULT to fail with -EAGAIN instead of faulting
 *
 * Context: sleeps.
 * Return: 0 or a negative errno as for odp_iter_next().
 */
int odp_umem_read(struct odp_umem *umem, u64 addr, void *dst, size_t len,
		  unsigned int flags)
{
	unsigned int off, seg;
	struct odp_iter it;
	struct page *page;
	int ret;

	ret = odp_iter_start(&it, umem, addr, len, flags & ~ODP_FAULT_WRITE);
	if (ret)
		return ret;
	while ((ret = odp_iter_next(&it, &page, &off, &seg)) > 0) {
		void *p = kmap_local_page(page);

		memcpy(dst, p + off, seg);
		kunmap_local(p);
		dst += seg;
	}
	odp_iter_end(&it);
	return ret;
}
EXPORT_SYMBOL_GPL(odp_umem_read);

/**
 * odp_umem_write() - copy a kernel buffer into a region (device write)
 * @umem: region registered with ODP_ACCESS_WRITE
 * @addr: first byte of the region range
 * @src: kernel buffer of @len bytes; never user memory
 * @len: length
 * @flags: ODP_FAULT_NO_FAULT to fail with -EAGAIN instead of faulting
 *
 * Pages are write-faulted (COW broken, soft-dirty and dirty set by the CPU
 * fault path) before they are written.
 *
 * Context: sleeps.
 * Return: 0, -EACCES without write permission (region or VMA), or another
 * negative errno as for odp_iter_next().
 */
int odp_umem_write(struct odp_umem *umem, u64 addr, const void *src,
		   size_t len, unsigned int flags)
{
	unsigned int off, seg;
	struct odp_iter it;
	struct page *page;
	int ret;

	ret = odp_iter_start(&it, umem, addr, len, flags | ODP_FAULT_WRITE);
	if (ret)
		return ret;
	while ((ret = odp_iter_next(&it, &page, &off, &seg)) > 0) {
		void *p = kmap_local_page(page);

		memcpy(p + off, src, seg);
		kunmap_local(p);
		flush_dcache_page(page);
		src += seg;
	}
	odp_iter_end(&it);
	return ret;
}
EXPORT_SYMBOL_GPL(odp_umem_write);

/*
 * Enter the read-side section of @umem on @win's snapshot, without the
 * region lock: true if the snapshot still holds (then leave the section
 * with odp_read_exit()).
 */
static bool odp_window_enter(struct odp_umem *umem,
			     const struct odp_window *win)
{
	atomic_inc(&umem->readers);
	/*
	 * Counted in before looking at the fence and the generation: pairs
	 * with smp_mb__after_atomic() in odp_inv_start().  An invalidation
	 * that has not raised the fence yet sees us and waits for us before
	 * the pages may go; one that has changed the generation is seen.
	 */
	smp_mb__after_atomic();
	if (!atomic_read(&umem->fencing) &&
	    READ_ONCE(umem->inv_gen) == win->gen)
		return true;
	odp_read_exit(umem);
	return false;
}

/*
 * Take a new snapshot into @win that covers [addr, addr + len) (faulting
 * it in unless ODP_FAULT_NO_FAULT) and the present pages after it, and
 * enter the read-side section.
 */
static int odp_window_fill(struct odp_umem *umem, struct odp_window *win,
			   u64 addr, u64 len, unsigned int flags)
{
	u64 base = round_down(addr, PAGE_SIZE);
	u64 need = round_up(addr + len, PAGE_SIZE);
	unsigned int n;
	int ret;

	win->umem_id = 0;
	ret = odp_map_lock_enter(umem, addr, len, flags);
	if (ret)
		return ret;
	for (n = 0; n < ODP_ITER_BATCH; n++) {
		u64 va = base + ((u64)n << PAGE_SHIFT);
		unsigned long idx, *e;

		if (va >= umem->end)
			break;
		idx = (va - umem->start) >> umem->page_shift;
		e = odp_pt_entry(umem, idx);
		/* Present up to @need (mapped above); after it, if so. */
		if (va >= need && (!e || !(*e & ODP_PTE_READ) ||
				   ((flags & ODP_FAULT_WRITE) &&
				    !(*e & ODP_PTE_WRITE))))
			break;
		win->pfn[n] = odp_entry_pfn(umem, idx, e, va);
	}
	win->gen = umem->inv_gen;	/* changes only under the lock */
	win->start = base;
	win->end = min(base + ((u64)n << PAGE_SHIFT), umem->end);
	win->flags = flags & ODP_FAULT_WRITE;
	win->umem_id = umem->id;
	odp_umem_unlock(umem);
	return 0;
}

/**
 * odp_umem_copy_window() - copy between a kernel buffer and a region
 *	through a window kept by the caller
 * @umem: region, explicit or implicit
 * @win: the caller's window for this stream of copies (zeroed at first);
 *	the caller serialises its use
 * @addr: first byte of the region range
 * @buf: kernel buffer of @len bytes; never user memory
 * @len: length
 * @flags: ODP_FAULT_WRITE: @buf -> region (a device write, as
 *	odp_umem_write()), else region -> @buf; ODP_FAULT_NO_FAULT to fail
 *	with -EAGAIN instead of faulting
 *
 * Copies as odp_umem_read() or odp_umem_write() do.  A copy of at most
 * one packet's pages that falls into the window's snapshot, with no
 * invalidation of the region since it was taken, takes neither the region
 * lock nor a look at its page table; else it takes a new snapshot of up
 * to ODP_ITER_BATCH pages from @addr.  Implicit regions and longer copies
 * go the iterator's way.
 *
 * Context: sleeps.
 * Return: 0 or a negative errno as for odp_umem_read() and
 * odp_umem_write().
 */
int odp_umem_copy_window(struct odp_umem *umem, struct odp_window *win,
			 u64 addr, void *buf, size_t len, unsigned int flags)
{
	bool write = flags & ODP_FAULT_WRITE;
	u64 va;
	int ret;

	might_sleep();
	if ((umem->flags & ODP_UMEM_IMPLICIT) ||
	    len > (ODP_ITER_BATCH - 1) * PAGE_SIZE)
		return write ? odp_umem_write(umem, addr, buf, len, flags) :
			       odp_umem_read(umem, addr, buf, len, flags);
	if (!odp_range_ok(umem, addr, len))
		return -EFAULT;
	if (write && !(umem->access & ODP_ACCESS_WRITE))
		return -EACCES;
	if (win->umem_id != umem->id || addr < win->start ||
	    addr + len > win->end || (write && !(win->flags & ODP_FAULT_WRITE)) ||
	    !odp_window_enter(umem, win)) {
		ret = odp_window_fill(umem, win, addr, len, flags);
		if (ret)
			return ret;
	}
	for (va = addr; va < addr + len;) {
		unsigned int off = offset_in_page(va);
		unsigned int seg = min_t(u64, PAGE_SIZE - off, addr + len - va);
		struct page *page;
		void *p;

		/*
		 * Knowing seg <= PAGE_SIZE, the compiler would inline the
		 * copy as "rep movsq", many times slower than memcpy() under
		 * an emulating hypervisor (qemu TCG): keep the call.
		 */
		OPTIMIZER_HIDE_VAR(seg);
		page = pfn_to_page(win->pfn[(va - win->start) >> PAGE_SHIFT]);
		p = kmap_local_page(page);
		if (write) {
			memcpy(p + off, buf, seg);
			flush_dcache_page(page);
		} else {
			memcpy(buf, p + off, seg);
		}
		kunmap_local(p);
		buf += seg;
		va += seg;
	}
	odp_read_exit(umem);	/* entered in odp_window_enter() or fill */
	return 0;
}
EXPORT_SYMBOL_GPL(odp_umem_copy_window);
