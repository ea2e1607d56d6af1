// SPDX-License-Identifier: GPL-2.0
/*
 * softodp: memory regions - registration, keys, and every byte the device
 * moves in or out of a region.
 *
 * Keys are (index << 8) | key byte, with the index allocated from the
 * device's MR xarray and the byte rotating per device (even for implicit
 * ODP regions, see sodp_mr_alloc()); lkey == rkey.
 * Pinned user regions keep a page array built from their ib_umem; ODP
 * regions are registered with the ODP core (kernel/odp/odp.h).  This file
 * is the only user of the ODP core's registration, fault and access API:
 * the engines copy with sodp_mr_copy()/sodp_sge_copy(), execute atomics
 * with sodp_mr_atomic() and prefetch with sodp_mr_prefetch(), whatever
 * the kind of region.  (stats.c reads the core's counters, main.c starts
 * and stops the core: they include odp.h for that alone.)
 */
#include <linux/highmem.h>
#include <linux/mm.h>
#include <linux/sched/mm.h>
#include <linux/scatterlist.h>
#include <linux/slab.h>
#include <rdma/ib_umem.h>

#include "softodp_compat.h"
#include "mr.h"
#include "../odp/odp.h"

/* ODP copies retried after -EAGAIN (faults losing to invalidations). */
#define SODP_ODP_TRIES		4

#define SODP_MR_ACCESS	(IB_ACCESS_LOCAL_WRITE | IB_ACCESS_REMOTE_WRITE | \
			 IB_ACCESS_REMOTE_READ | IB_ACCESS_REMOTE_ATOMIC | \
			 IB_ACCESS_ON_DEMAND | IB_ACCESS_RELAXED_ORDERING | \
			 IB_ACCESS_HUGETLB | IB_ACCESS_MW_BIND | \
			 SODP_ACCESS_FLUSH_GLOBAL)

/* Implicit ODP: the whole address space, registered as start 0, SIZE_MAX. */
static bool sodp_range_is_implicit(u64 start, u64 length)
{
	return !start && length == U64_MAX;
}

/* ---- ODP core adapter ------------------------------------------------- */

static int sodp_odp_register(struct sodp_mr *mr, u64 start, u64 length)
{
	unsigned int access = 0;
	struct odp_umem *umem;
	struct odp_mm *omm;

	if (mr->access & (IB_ACCESS_LOCAL_WRITE | IB_ACCESS_REMOTE_WRITE |
			  IB_ACCESS_REMOTE_ATOMIC))
		access |= ODP_ACCESS_WRITE;
	omm = odp_mm_get(current->mm);
	if (IS_ERR(omm))
		return PTR_ERR(omm);
	if (sodp_range_is_implicit(start, length))
		umem = odp_umem_alloc_implicit(omm, access);
	else
		umem = odp_umem_alloc(omm, start, length, access, PAGE_SHIFT);
	odp_mm_put(omm);	/* the region holds its own use */
	if (IS_ERR(umem))
		return PTR_ERR(umem);
	mr->odp = umem;
	return 0;
}

static void sodp_odp_unregister(struct sodp_mr *mr)
{
	odp_umem_release(mr->odp);
}

/* ---- keys ------------------------------------------------------------- */

/*
 * A region with a fresh index and key.  @even_key clears bit 0 of the key
 * byte: UCX 1.13 and 1.14 release their implicit ODP region through a call
 * that reads the region's lkey as a parameter field mask and, with bit 0
 * set, follow a garbage pointer at exit.  Keys stay unique by their index,
 * so the lost key bit costs nothing.
 */
static struct sodp_mr *sodp_mr_alloc(struct ib_pd *ibpd, enum sodp_mr_type type,
				     int access, bool even_key)
{
	struct sodp_dev *sdev = to_sdev(ibpd->device);
	struct sodp_mr *mr;
	u32 key;
	int ret;

	mr = kzalloc(sizeof(*mr), GFP_KERNEL);
	if (!mr)
		return ERR_PTR(-ENOMEM);
	mr->type = type;
	mr->access = access;
	mr->state = type == SODP_MR_FAST_REG ? SODP_MR_FREE : SODP_MR_VALID;
	refcount_set(&mr->ref, 1);
	init_completion(&mr->done);
	/* Not visible to lookups until sodp_mr_publish(). */
	ret = xa_alloc_cyclic(&sdev->mrs, &mr->index, NULL,
			      XA_LIMIT(1, SODP_MAX_MR), &sdev->next_mr,
			      GFP_KERNEL);
	if (ret < 0) {
		kfree(mr);
		return ERR_PTR(ret == -EBUSY ? -ENOMEM : ret);
	}
	key = (mr->index << SODP_KEY_INDEX_SHIFT) |
	      ((u32)atomic_inc_return(&sdev->key_byte) & SODP_KEY_BYTE_MASK);
	if (even_key)
		key &= ~1U;
	mr->ibmr.lkey = key;
	mr->ibmr.rkey = key;
	mr->key = key;
	return mr;
}

static void sodp_mr_publish(struct sodp_mr *mr)
{
	xa_store(&to_sdev(mr->ibmr.device)->mrs, mr->index, mr, GFP_KERNEL);
}

/*
 * Unpublish, wait for data-path users and free the index; an ODP MR's
 * counts move to the device totals as it leaves the xarray (under its lock,
 * which sodp_get_hw_stats() holds too) and after the wait.
 */
static void sodp_mr_retire(struct sodp_dev *sdev, struct sodp_mr *mr)
{
	u64 kept[SODP_ODP_NR_STATS];
	bool odp = mr->type == SODP_MR_ODP;

	xa_lock(&sdev->mrs);
	if (odp)
		sodp_odp_retire_stats(sdev, mr, NULL, kept);
	__xa_erase(&sdev->mrs, mr->index);
	xa_unlock(&sdev->mrs);
	sodp_mr_put(mr);
	wait_for_completion(&mr->done);
	if (odp)
		sodp_odp_retire_stats(sdev, mr, kept, NULL);
}

/**
 * sodp_mr_get_key() - find the MR of an lkey/rkey and take a reference
 * @sdev: device
 * @key: the key
 *
 * Context: any.
 * Return: the MR (release with sodp_mr_put()) or NULL.
 */
struct sodp_mr *sodp_mr_get_key(struct sodp_dev *sdev, u32 key)
{
	struct sodp_mr *mr;

	rcu_read_lock();
	mr = xa_load(&sdev->mrs, key >> SODP_KEY_INDEX_SHIFT);
	if (mr && (READ_ONCE(mr->key) != key ||
		   !refcount_inc_not_zero(&mr->ref)))
		mr = NULL;
	rcu_read_unlock();
	return mr;
}

/**
 * sodp_mr_check() - may [@iova, @iova + @len) be accessed this way?
 * @mr: the region
 * @pd: the PD of the QP using it
 * @iova: first byte
 * @len: length
 * @access: IB_ACCESS_* rights needed (0 for a local read)
 *
 * Return: 0, -EACCES or -EFAULT (out of range).
 */
int sodp_mr_check(struct sodp_mr *mr, struct sodp_pd *pd, u64 iova, u64 len,
		  int access)
{
	/* Pairs with the release in sodp_mr_fast_reg(): access is current. */
	if (smp_load_acquire(&mr->state) != SODP_MR_VALID)
		return -EACCES;
	if (mr->ibmr.pd != &pd->ibpd || (access & ~READ_ONCE(mr->access)))
		return -EACCES;
	if (mr->type == SODP_MR_DMA ||
	    (mr->odp && sodp_range_is_implicit(mr->va, mr->ibmr.length)))
		return 0;
	if (iova < mr->ibmr.iova || len > mr->ibmr.length ||
	    iova - mr->ibmr.iova > mr->ibmr.length - len)
		return -EFAULT;
	return 0;
}

/**
 * sodp_mr_lookup_checked() - find a key and check an access through it
 * @sdev: device
 * @pd: the PD of the QP using the key
 * @key: lkey or rkey
 * @iova: first byte accessed
 * @len: bytes accessed
 * @access: IB_ACCESS_* rights needed (0 for a local read)
 *
 * sodp_mr_get_key() followed by sodp_mr_check(), the reference dropped
 * again on failure.
 *
 * Context: any.
 * Return: the MR, referenced (release with sodp_mr_put()), or
 * ERR_PTR(-EACCES) (unknown key, wrong PD or rights, region not valid) or
 * ERR_PTR(-EFAULT) (out of the region).
 */
struct sodp_mr *sodp_mr_lookup_checked(struct sodp_dev *sdev,
				       struct sodp_pd *pd, u32 key, u64 iova,
				       u64 len, int access)
{
	struct sodp_mr *mr = sodp_mr_get_key(sdev, key);
	int ret;

	if (!mr)
		return ERR_PTR(-EACCES);
	ret = sodp_mr_check(mr, pd, iova, len, access);
	if (ret) {
		sodp_mr_put(mr);
		return ERR_PTR(ret);
	}
	return mr;
}

/**
 * sodp_mr_page() - the page and offset of one byte of a region
 * @mr: a DMA, pinned user or fast-reg region (not ODP)
 * @iova: address inside the region (checked by sodp_mr_check())
 * @page: the page
 * @offset: offset of @iova in @page; the caller stays within the page
 *
 * Return: 0 or -EFAULT.
 */
static int sodp_mr_page(struct sodp_mr *mr, u64 iova, struct page **page,
			unsigned int *offset)
{
	u64 off, addr;
	unsigned long idx;

	switch (mr->type) {
	case SODP_MR_DMA:
		/* ib_uses_virt_dma(): "DMA" addresses are kernel virtual. */
		if (!virt_addr_valid((void *)(uintptr_t)iova))
			return -EFAULT;
		*page = virt_to_page((void *)(uintptr_t)iova);
		*offset = offset_in_page(iova);
		return 0;
	case SODP_MR_USER:
		off = iova - mr->ibmr.iova + mr->page_offset;
		idx = off >> PAGE_SHIFT;
		if (idx >= mr->npages)
			return -EFAULT;
		*page = mr->pages[idx];
		*offset = off & ~PAGE_MASK;
		return 0;
	case SODP_MR_FAST_REG:
		off = iova - (mr->ibmr.iova & PAGE_MASK);
		idx = off >> PAGE_SHIFT;
		if (idx >= mr->fr_npages)
			return -EFAULT;
		addr = (mr->fr_pages[idx] & PAGE_MASK) + (off & ~PAGE_MASK);
		*page = virt_to_page((void *)(uintptr_t)addr);
		*offset = offset_in_page(addr);
		return 0;
	default:
		return -EFAULT;
	}
}

/**
 * sodp_mr_fault_ahead() - fault in the part of a message an ODP region sees
 * @mr: region of any type (only ODP regions do anything)
 * @iova: first byte the message accesses next
 * @len: bytes the message accesses from @iova; at most
 *	SODP_ODP_FAULT_WINDOW of them are faulted
 * @write: the device will write them
 *
 * Engines call this at the start of a message and at every window
 * boundary inside it, so that first touches cost one fault per window
 * instead of one per page.  Errors are ignored: the copy that follows
 * faults (and fails) page by page on its own.
 *
 * Context: sleeps (QP work item).
 */
void sodp_mr_fault_ahead(struct sodp_mr *mr, u64 iova, u64 len, bool write)
{
	if (mr->type != SODP_MR_ODP || !len)
		return;
	len = min_t(u64, len, SODP_ODP_FAULT_WINDOW);
	odp_umem_fault(mr->odp, sodp_mr_va(mr, iova), len,
		       write ? ODP_FAULT_WRITE : 0);
}

/**
 * sodp_mr_fault_try() - make a window of an ODP region present, no fault
 * @mr: region of any type (regions other than ODP are always present)
 * @iova: first byte the message accesses next
 * @len: bytes from @iova; at most SODP_ODP_FAULT_WINDOW of them count
 * @write: the device will write them
 *
 * Takes what the CPU has mapped (odp_umem_try_fault()), never waiting for
 * I/O or reclaim.
 *
 * Context: sleeps briefly (QP work item).
 * Return: 0 if present, -EAGAIN if a fault is needed (sodp_mr_fault_ahead()
 * does it), another negative errno if the access will fail.
 */
int sodp_mr_fault_try(struct sodp_mr *mr, u64 iova, u64 len, bool write)
{
	if (mr->type != SODP_MR_ODP || !len)
		return 0;
	len = min_t(u64, len, SODP_ODP_FAULT_WINDOW);
	return odp_umem_try_fault(mr->odp, sodp_mr_va(mr, iova), len,
				  write ? ODP_FAULT_WRITE : 0);
}

/* ---- data movement ---------------------------------------------------- */

/**
 * sodp_mr_copy() - copy between a kernel buffer and a region
 * @mr: region (checked by the caller for range and rights)
 * @win: the caller's ODP window for this stream of copies
 *	(odp_umem_copy_window()), or NULL
 * @iova: first byte in the region
 * @buf: kernel buffer
 * @len: bytes
 * @to_mem: true: @buf -> region; false: region -> @buf
 *
 * ODP regions fault in what is missing.
 *
 * Context: may sleep (QP work item).
 * Return: 0, -EFAULT (not mapped, process gone) or -EACCES.
 */
int sodp_mr_copy(struct sodp_mr *mr, struct odp_window *win, u64 iova,
		 void *buf, u32 len, bool to_mem)
{
	unsigned int off, seg, tries;
	struct page *page;
	void *p;
	int ret;

	if (!len)
		return 0;
	if (mr->type == SODP_MR_ODP) {
		/*
		 * -EAGAIN: the fault kept colliding with invalidations
		 * (compaction, migration) for a while; that is contention,
		 * not a bad address, so try again a few times first.
		 */
		for (tries = 0; tries < SODP_ODP_TRIES; tries++) {
			if (win)
				ret = odp_umem_copy_window(mr->odp, win,
							   sodp_mr_va(mr, iova),
							   buf, len,
							   to_mem ?
							   ODP_FAULT_WRITE : 0);
			else if (to_mem)
				ret = odp_umem_write(mr->odp,
						     sodp_mr_va(mr, iova), buf,
						     len, 0);
			else
				ret = odp_umem_read(mr->odp,
						    sodp_mr_va(mr, iova), buf,
						    len, 0);
			if (ret != -EAGAIN)
				break;
			cond_resched();
		}
		return ret == -EAGAIN ? -EFAULT : ret;
	}
	while (len) {
		ret = sodp_mr_page(mr, iova, &page, &off);
		if (ret)
			return ret;
		seg = min_t(u32, len, PAGE_SIZE - off);
		p = kmap_local_page(page);
		if (to_mem)
			memcpy(p + off, buf, seg);
		else
			memcpy(buf, p + off, seg);
		kunmap_local(p);
		buf += seg;
		iova += seg;
		len -= seg;
	}
	return 0;
}

/**
 * sodp_sge_copy() - copy between a kernel buffer and a scatter/gather list
 * @pd: the PD of the QP (it must own every lkey)
 * @win: the caller's ODP window for this list's stream of copies, or NULL
 * @sge: the list (a kernel copy)
 * @num_sge: entries
 * @offset: message offset of @buf
 * @buf: kernel buffer
 * @len: bytes
 * @to_mem: scatter (needs IB_ACCESS_LOCAL_WRITE) instead of gather
 *
 * The first access to an entry, and to every SODP_ODP_FAULT_WINDOW of it,
 * faults ahead (sodp_mr_fault_ahead()) when the entry goes on after this
 * copy.
 *
 * Context: may sleep (QP work item).
 * Return: 0, -ENOSPC if the list is shorter than @offset + @len, -EACCES
 * (bad key, PD or rights), -EFAULT (out of the region, ODP unmapped).
 */
int sodp_sge_copy(struct sodp_pd *pd, struct odp_window *win,
		  const struct rxe_sge *sge, u32 num_sge, u32 offset, void *buf,
		  u32 len, bool to_mem)
{
	struct sodp_dev *sdev = to_sdev(pd->ibpd.device);
	u32 i;
	int ret;

	for (i = 0; i < num_sge && len; i++) {
		struct sodp_mr *mr;
		u32 seg;

		if (offset >= sge[i].length) {
			offset -= sge[i].length;
			continue;
		}
		seg = min(len, sge[i].length - offset);
		mr = sodp_mr_lookup_checked(sdev, pd, sge[i].lkey,
					    sge[i].addr + offset, seg,
					    to_mem ? IB_ACCESS_LOCAL_WRITE : 0);
		if (IS_ERR(mr))
			return PTR_ERR(mr);
		/*
		 * First use of this entry, or of a new window of it, when
		 * more of it follows: a copy that takes the rest of the entry
		 * faults in what it needs itself (one packet, at most two
		 * pages: one iterator batch).
		 */
		if (!(offset % SODP_ODP_FAULT_WINDOW) &&
		    sge[i].length - offset > seg)
			sodp_mr_fault_ahead(mr, sge[i].addr + offset,
					    sge[i].length - offset, to_mem);
		ret = sodp_mr_copy(mr, win, sge[i].addr + offset, buf, seg,
				   to_mem);
		sodp_mr_put(mr);
		if (ret)
			return ret;
		buf += seg;
		len -= seg;
		offset = 0;
	}
	return len ? -ENOSPC : 0;
}

/**
 * sodp_mr_atomic() - execute a responder atomic on 8 bytes of a region
 * @mr: region (checked by the caller for range and IB_ACCESS_REMOTE_ATOMIC)
 * @iova: address of the operand, 8-byte aligned in the region
 * @op: compare and swap, fetch and add, or ATOMIC_WRITE's store
 * @swap_add: the swap value, the addend, or the value to store (its bytes
 *	as they came in the packet)
 * @compare: the compare value (compare and swap)
 * @orig: the operand's value before the operation (0 for a store)
 *
 * Atomics of all QPs of the device are serialised by sodp_dev.atomic_lock
 * and also use CPU atomics, so that they are atomic with respect to each
 * other and to the CPU.  ODP regions fault the page in for writing.
 *
 * Context: may sleep (QP work item, proc_lock held).
 * Return: 0, -EINVAL (misaligned in the page), -EFAULT or -EACCES.
 */
int sodp_mr_atomic(struct sodp_mr *mr, u64 iova, enum sodp_atomic_op op,
		   u64 swap_add, u64 compare, u64 *orig)
{
	struct sodp_dev *sdev = to_sdev(mr->ibmr.device);
	struct odp_iter it;
	unsigned int off, seg;
	struct page *page;
	void *p;
	int ret;

	mutex_lock(&sdev->atomic_lock);
	if (mr->type == SODP_MR_ODP) {
		ret = odp_iter_start(&it, mr->odp, sodp_mr_va(mr, iova),
				     sizeof(u64), ODP_FAULT_WRITE);
		if (ret)
			goto out;
		ret = odp_iter_next(&it, &page, &off, &seg);
		if (ret <= 0 || seg != sizeof(u64)) {
			odp_iter_end(&it);
			ret = ret < 0 ? ret : -EFAULT;
			goto out;
		}
	} else {
		ret = sodp_mr_page(mr, iova, &page, &off);
		if (ret)
			goto out;
	}
	if (off & 7) {
		ret = -EINVAL;
	} else {
		p = kmap_local_page(page) + off;
		*orig = 0;
		if (op == SODP_ATOMIC_CMP_SWAP)
			*orig = cmpxchg64((u64 *)p, compare, swap_add);
		else if (op == SODP_ATOMIC_FETCH_ADD)
			*orig = atomic64_fetch_add(swap_add, (atomic64_t *)p);
		else
			/* Visible after everything placed before it. */
			smp_store_release((u64 *)p, swap_add);
		kunmap_local(p);
		ret = 0;
	}
	if (mr->type == SODP_MR_ODP)
		odp_iter_end(&it);
out:
	mutex_unlock(&sdev->atomic_lock);
	return ret;
}

/**
 * sodp_mr_prefetch() - fault a range of an ODP region in ahead of use
 * @mr: an ODP region (checked by the caller for range and rights)
 * @iova: first byte
 * @len: bytes
 * @advice: IB_UVERBS_ADVISE_MR_ADVICE_PREFETCH (read),
 *	..._PREFETCH_WRITE (writable) or ..._PREFETCH_NO_FAULT (map only
 *	what the CPU page tables already hold)
 *
 * Counted as prefetch by the ODP core, not as device page faults.
 *
 * Context: may sleep.
 * Return: 0, -EINVAL (not an ODP region or unknown advice), -EFAULT (the
 * range cannot be mapped) or another error of the fault.
 */
int sodp_mr_prefetch(struct sodp_mr *mr, u64 iova, u64 len,
		     enum ib_uverbs_advise_mr_advice advice)
{
	unsigned int flags;

	if (mr->type != SODP_MR_ODP)
		return -EINVAL;
	switch (advice) {
	case IB_UVERBS_ADVISE_MR_ADVICE_PREFETCH:
		flags = 0;
		break;
	case IB_UVERBS_ADVISE_MR_ADVICE_PREFETCH_WRITE:
		flags = ODP_FAULT_WRITE;
		break;
	case IB_UVERBS_ADVISE_MR_ADVICE_PREFETCH_NO_FAULT:
		flags = ODP_FAULT_NO_FAULT;
		break;
	default:
		return -EINVAL;
	}
	if (!len)
		return 0;
	return odp_umem_prefetch(mr->odp, sodp_mr_va(mr, iova), len, flags);
}

/* ---- fast registration ------------------------------------------------ */

#define SODP_FR_ACCESS	(IB_ACCESS_LOCAL_WRITE | IB_ACCESS_REMOTE_WRITE | \
			 IB_ACCESS_REMOTE_READ | IB_ACCESS_REMOTE_ATOMIC | \
			 IB_ACCESS_RELAXED_ORDERING)

/**
 * sodp_mr_fast_reg() - execute an IB_WR_REG_MR work request
 * @sdev: device
 * @pd: PD of the posting QP
 * @ibmr: the region named by the request (alloc_mr, pages set by map_mr_sg)
 * @key: the key to make current; its index bits must be the region's
 * @access: IB_ACCESS_* rights to grant
 *
 * The region must be a FREE fast-reg region of @pd.  The region is found
 * through its index (a reference is taken), so a stale pointer from a
 * confused caller is never dereferenced.
 *
 * Context: QP work item (any QP); may run concurrently with the data path
 * of other QPs, which see either the FREE or the complete VALID region.
 * Return: 0, -EINVAL (not a fast-reg region of @pd, bad key or rights) or
 * -EBUSY (region not FREE).
 */
int sodp_mr_fast_reg(struct sodp_dev *sdev, struct sodp_pd *pd,
		     struct ib_mr *ibmr, u32 key, int access)
{
	u32 index = key >> SODP_KEY_INDEX_SHIFT;
	struct sodp_mr *mr;
	int ret = 0;

	rcu_read_lock();
	mr = xa_load(&sdev->mrs, index);
	if (mr && (&mr->ibmr != ibmr || !refcount_inc_not_zero(&mr->ref)))
		mr = NULL;
	rcu_read_unlock();
	if (!mr)
		return -EINVAL;
	if (mr->type != SODP_MR_FAST_REG || mr->ibmr.pd != &pd->ibpd ||
	    (access & ~SODP_FR_ACCESS) ||
	    ((access & (IB_ACCESS_REMOTE_WRITE | IB_ACCESS_REMOTE_ATOMIC)) &&
	     !(access & IB_ACCESS_LOCAL_WRITE))) {
		ret = -EINVAL;
	} else if (cmpxchg(&mr->state, SODP_MR_FREE, SODP_MR_BUSY) !=
		   SODP_MR_FREE) {
		ret = -EBUSY;
	} else {
		WRITE_ONCE(mr->access, access);
		WRITE_ONCE(mr->key, key);
		/* Pairs with the acquire in sodp_mr_check(). */
		smp_store_release(&mr->state, SODP_MR_VALID);
		sodp_mr_dbg(mr, "fast-registered 0x%llx+0x%llx key 0x%x access 0x%x\n",
			    mr->ibmr.iova, mr->ibmr.length, key, access);
	}
	sodp_mr_put(mr);
	return ret;
}

/**
 * sodp_mr_invalidate() - invalidate the key of a fast-reg region
 * @sdev: device
 * @pd: PD of the QP (local invalidate) or of the responder QP (SEND with
 *	invalidate); the region must belong to it
 * @key: the region's current key
 *
 * Only fast-reg regions can be invalidated; registered user, ODP and DMA
 * regions cannot (they live until deregistered).  Accesses that already
 * passed sodp_mr_check() may finish; later ones fail.
 *
 * Context: QP work item (any QP).
 * Return: 0, -EINVAL (no such key, wrong PD or kind of region) or
 * -EBUSY (not VALID).
 */
int sodp_mr_invalidate(struct sodp_dev *sdev, struct sodp_pd *pd, u32 key)
{
	struct sodp_mr *mr = sodp_mr_get_key(sdev, key);
	int ret = 0;

	if (!mr)
		return -EINVAL;
	if (mr->type != SODP_MR_FAST_REG || mr->ibmr.pd != &pd->ibpd)
		ret = -EINVAL;
	else if (cmpxchg(&mr->state, SODP_MR_VALID, SODP_MR_FREE) !=
		 SODP_MR_VALID)
		ret = -EBUSY;
	else
		sodp_mr_dbg(mr, "key 0x%x invalidated\n", key);
	sodp_mr_put(mr);
	return ret;
}

/* ---- verbs ------------------------------------------------------------ */

static struct ib_mr *sodp_get_dma_mr(struct ib_pd *ibpd, int access)
{
	struct sodp_mr *mr;

	mr = sodp_mr_alloc(ibpd, SODP_MR_DMA, access, false);
	if (IS_ERR(mr))
		return ERR_CAST(mr);
	mr->ibmr.length = U64_MAX;
	mr->ibmr.device = ibpd->device;
	mr->ibmr.pd = ibpd;
	sodp_mr_publish(mr);
	return &mr->ibmr;
}

static int sodp_mr_pin(struct sodp_mr *mr, u64 start, u64 length)
{
	struct sg_page_iter piter;
	struct ib_umem *umem;
	unsigned long n = 0;

	umem = ib_umem_get_va(mr->ibmr.device, start, length, mr->access);
	if (IS_ERR(umem))
		return PTR_ERR(umem);
	mr->umem = umem;
	mr->page_offset = ib_umem_offset(umem);
	mr->npages = DIV_ROUND_UP(mr->page_offset + length, PAGE_SIZE);
	mr->pages = kvcalloc(mr->npages, sizeof(*mr->pages), GFP_KERNEL);
	if (!mr->pages)
		return -ENOMEM;
	for_each_sgtable_page(&umem->sgt_append.sgt, &piter, 0) {
		if (n == mr->npages)
			break;
		mr->pages[n++] = sg_page_iter_page(&piter);
	}
	if (n != mr->npages)
		return -EFAULT;
	return 0;
}

static void sodp_mr_free(struct sodp_mr *mr)
{
	if (mr->odp)
		sodp_odp_unregister(mr);
	kvfree(mr->pages);
	if (mr->umem)
		ib_umem_release(mr->umem);
	kfree(mr->fr_pages);
	/* sodp_mr_get_key() may still be looking at it under RCU. */
	kfree_rcu(mr, rcu);
}

/*
 * Reject registrations that cannot describe a region, with the reason in
 * the debug log (dynamic debug, module softodp).  Length SIZE_MAX at
 * address 0 is implicit ODP: the whole address space at iova 0, ODP only.
 */
static int sodp_mr_check_range(struct ib_device *ibdev, u64 start, u64 length,
			       u64 iova, bool odp)
{
	const char *why;

	if (!length)
		why = "zero length";
	else if (length == U64_MAX && start)
		why = "length SIZE_MAX is implicit ODP, whose address must be NULL";
	else if (length == U64_MAX && !odp)
		why = "implicit registration without IBV_ACCESS_ON_DEMAND";
	else if (length == U64_MAX && iova)
		why = "implicit ODP with a non-zero iova";
	else if (length != U64_MAX &&
		 (start + length < start || iova + length < iova))
		why = "address or iova range wraps around";
	else
		return 0;
	ibdev_dbg(ibdev, "reg_mr 0x%llx+0x%llx iova 0x%llx: EINVAL, %s\n",
		  start, length, iova, why);
	return -EINVAL;
}

static struct ib_mr *__maybe_unused
sodp_reg_user_mr(struct ib_pd *ibpd, u64 start, u64 length, u64 iova,
		 int access, struct ib_udata *udata)
{
	struct sodp_dev *sdev = to_sdev(ibpd->device);
	bool odp = access & IB_ACCESS_ON_DEMAND;
	struct sodp_mr *mr;
	int ret;

	if (access & ~SODP_MR_ACCESS)
		return ERR_PTR(-EOPNOTSUPP);
	ret = sodp_mr_check_range(ibpd->device, start, length, iova, odp);
	if (ret)
		return ERR_PTR(ret);

	mr = sodp_mr_alloc(ibpd, odp ? SODP_MR_ODP : SODP_MR_USER, access,
			   sodp_range_is_implicit(start, length));
	if (IS_ERR(mr))
		return ERR_CAST(mr);
	mr->ibmr.device = ibpd->device;
	mr->ibmr.pd = ibpd;
	mr->ibmr.iova = iova;
	mr->ibmr.length = length;
	mr->va = start;
	if (odp)
		ret = sodp_odp_register(mr, start, length);
	else
		ret = sodp_mr_pin(mr, start, length);
	if (ret)
		goto err;
	sodp_mr_publish(mr);
	sodp_mr_dbg(mr, "%s region 0x%llx+0x%llx at iova 0x%llx\n",
		    odp ? "ODP" : "pinned", start, length, iova);
	return &mr->ibmr;

err:
	xa_erase(&sdev->mrs, mr->index);
	sodp_mr_free(mr);
	return ERR_PTR(ret);
}

/* Rights that need the pages mapped for writing (ib_access_writable()). */
#define SODP_MR_WRITABLE	(IB_ACCESS_LOCAL_WRITE | IB_ACCESS_REMOTE_WRITE | \
				 IB_ACCESS_REMOTE_ATOMIC)

/*
 * ibv_rereg_mr.  Access and PD changes that keep the memory as it is
 * mapped (pinned pages, the ODP region's write mode) happen in place and
 * keep the keys: ib_core moves the PD when we return NULL.  A new
 * translation, a switch between pinned and ODP, or write access the
 * mapping was not made for builds a new region with new keys; ib_core
 * then destroys the old one (its keys stay valid until then).
 */
static struct ib_mr *sodp_rereg_user_mr(struct ib_mr *ibmr, int flags,
					u64 start, u64 length, u64 iova,
					int access, struct ib_pd *ibpd,
					struct ib_udata *udata)
{
	struct sodp_mr *mr = to_smr(ibmr);
	int old = mr->access;

	if (mr->type != SODP_MR_USER && mr->type != SODP_MR_ODP)
		return ERR_PTR(-EINVAL);
	if (flags & ~(IB_MR_REREG_TRANS | IB_MR_REREG_PD | IB_MR_REREG_ACCESS))
		return ERR_PTR(-EOPNOTSUPP);
	if (!(flags & IB_MR_REREG_ACCESS))
		access = old;
	else if (access & ~SODP_MR_ACCESS)
		return ERR_PTR(-EOPNOTSUPP);
	if (!(flags & IB_MR_REREG_PD) || !ibpd)
		ibpd = ibmr->pd;
	if (!(flags & IB_MR_REREG_TRANS) &&
	    !((old ^ access) & IB_ACCESS_ON_DEMAND) &&
	    ((old & SODP_MR_WRITABLE) || !(access & SODP_MR_WRITABLE))) {
		/* Pairs with READ_ONCE() in sodp_mr_check(). */
		WRITE_ONCE(mr->access, access);
		sodp_mr_dbg(mr, "rereg in place: access 0x%x -> 0x%x%s\n", old,
			    access, ibpd != ibmr->pd ? ", new PD" : "");
		return NULL;
	}
	/* The old region goes away once the new one exists. */
	if (atomic_read(&mr->nr_mw)) {
		sodp_mr_dbg(mr, "rereg refused: memory windows are bound\n");
		return ERR_PTR(-EINVAL);
	}
	if (!(flags & IB_MR_REREG_TRANS)) {
		start = mr->va;
		length = ibmr->length;
		iova = ibmr->iova;
	}
	sodp_mr_dbg(mr, "rereg: a new region 0x%llx+0x%llx access 0x%x\n",
		    start, length, access);
	return sodp_reg_user_mr(ibpd, start, length, iova, access, udata);
}

static struct ib_mr *sodp_alloc_mr(struct ib_pd *ibpd, enum ib_mr_type type,
				   u32 max_num_sg)
{
	struct sodp_dev *sdev = to_sdev(ibpd->device);
	struct sodp_mr *mr;

	if (type != IB_MR_TYPE_MEM_REG)
		return ERR_PTR(-EOPNOTSUPP);
	if (!max_num_sg || max_num_sg > SODP_MAX_FAST_REG_PAGES)
		return ERR_PTR(-EINVAL);
	mr = sodp_mr_alloc(ibpd, SODP_MR_FAST_REG, 0, false);
	if (IS_ERR(mr))
		return ERR_CAST(mr);
	mr->ibmr.device = ibpd->device;
	mr->ibmr.pd = ibpd;
	mr->fr_max = max_num_sg;
	mr->fr_pages = kcalloc(max_num_sg, sizeof(u64), GFP_KERNEL);
	if (!mr->fr_pages) {
		xa_erase(&sdev->mrs, mr->index);
		sodp_mr_free(mr);
		return ERR_PTR(-ENOMEM);
	}
	sodp_mr_publish(mr);
	return &mr->ibmr;
}

static int sodp_set_page(struct ib_mr *ibmr, u64 addr)
{
	struct sodp_mr *mr = to_smr(ibmr);

	if (mr->fr_npages == mr->fr_max)
		return -ENOMEM;
	mr->fr_pages[mr->fr_npages++] = addr;
	return 0;
}

static int sodp_map_mr_sg(struct ib_mr *ibmr, struct scatterlist *sg,
			  int sg_nents, unsigned int *sg_offset)
{
	struct sodp_mr *mr = to_smr(ibmr);

	mr->fr_npages = 0;
	ibmr->page_size = PAGE_SIZE;
	return ib_sg_to_pages(ibmr, sg, sg_nents, sg_offset, sodp_set_page);
}

static int sodp_dereg_mr(struct ib_mr *ibmr, struct ib_udata *udata)
{
	struct sodp_mr *mr = to_smr(ibmr);

	/*
	 * IBA 10.6.7.2.6: not while memory windows are bound to it (EINVAL,
	 * as rdma_rxe).  From here on no window binds to it.
	 */
	if (atomic_cmpxchg(&mr->nr_mw, 0, -1)) {
		sodp_mr_dbg(mr, "dereg refused: %d memory windows bound\n",
			    atomic_read(&mr->nr_mw));
		return -EINVAL;
	}
	sodp_mr_dbg(mr, "deregistered\n");
	sodp_mr_retire(to_sdev(ibmr->device), mr);
	sodp_mr_free(mr);
	return 0;
}

/* reg_user_mr with a DMA handle (7.x): softodp has no DMA handles. */
static struct ib_mr *__maybe_unused
sodp_reg_user_mr_dmah(struct ib_pd *ibpd, u64 start, u64 length, u64 iova,
		      int access, struct ib_dmah *dmah, struct ib_udata *udata)
{
	if (dmah)
		return ERR_PTR(-EOPNOTSUPP);
	return sodp_reg_user_mr(ibpd, start, length, iova, access, udata);
}

const struct ib_device_ops sodp_mr_ops = {
	.get_dma_mr = sodp_get_dma_mr,
	.reg_user_mr = SODP_REG_USER_MR_OP(sodp_reg_user_mr,
					   sodp_reg_user_mr_dmah),
	.rereg_user_mr = sodp_rereg_user_mr,
	.dereg_mr = sodp_dereg_mr,
	.alloc_mr = sodp_alloc_mr,
	.map_mr_sg = sodp_map_mr_sg,
};
