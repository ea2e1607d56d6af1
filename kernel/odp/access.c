// SPDX-License-Identifier: GPL-2.0
/*
 * softodp ODP core: access API for device engines.
 *
 * The iterator hands out one native page at a time.  It works in batches
 * of ODP_ITER_BATCH pages: under the region lock it makes the batch
 * present, copies the pfns into the iterator and enters the read-side
 * section, then drops the lock.  The pages stay valid until the section is
 * left, at the start of the next batch or in odp_iter_end().
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

	for (;;) {
		ret = odp_umem_map_and_lock(cur, it->pos, stop - it->pos,
					    it->flags);
		if (ret) {
			if (cur->parent && !READ_ONCE(cur->pt.nvalid))
				odp_implicit_mark_empty(cur);
			return ret;
		}
		if (!odp_read_enter(cur))
			break;
		odp_umem_unlock(cur);
		odp_read_gate_wait(cur);
	}
	for (i = 0; i < n; i++) {
		u64 va = base + ((u64)i << PAGE_SHIFT);
		unsigned long idx = (va - cur->start) >> cur->page_shift;
		u64 page_va = cur->start + ((u64)idx << cur->page_shift);
		unsigned long *e = odp_pt_entry(cur, idx);

		it->pfn[i] = odp_pte_pfn(*e) + ((va - page_va) >> PAGE_SHIFT);
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
