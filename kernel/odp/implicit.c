// SPDX-License-Identifier: GPL-2.0
/*
 * softodp ODP core: implicit regions covering a whole address space.
 *
 * An implicit parent has no page table and no notifier of its own.  It owns
 * children of ODP_CHILD_SIZE bytes, created on the first access to their
 * part of the address space, each an ordinary region with its own interval
 * notifier, found by address through an xarray.  A child left empty by an
 * UNMAP is marked in the xarray and freed later by a work item: a notifier
 * cannot be removed from inside its own callback.
 *
 * Lifetime: users of children (iterators, prefetch) hold @imp->sem for
 * read for the whole operation; the reaper and the teardown free children
 * only with @imp->sem held for write, so a child found under the read side
 * stays alive until it is released.  Notifier callbacks never take @sem
 * and never drop references: they only set a mark and queue the work.
 */
#include <linux/export.h>
#include <linux/slab.h>

#include "odp_internal.h"

static void odp_child_free(struct odp_umem *child)
{
	odp_umem_teardown(child);
	odp_kmem_add(child, -(s64)sizeof(*child));
	odp_count(child, ODP_CNT_CHILDREN, -1);
	odp_count(child, ODP_CNT_CHILDREN_FREED, 1);
	atomic64_dec(&odp_nr_children);	/* pairs with inc in creation */
	kfree(child);
}

static void odp_implicit_reap(struct work_struct *work)
{
	struct odp_implicit *imp = container_of(work, struct odp_implicit,
						reap_work);
	struct odp_umem *child;
	unsigned long idx;

	/* No user holds a child while we own the write side. */
	down_write(&imp->sem);
	xa_for_each_marked(&imp->children, idx, child, XA_MARK_0) {
		xa_clear_mark(&imp->children, idx, XA_MARK_0);
		if (READ_ONCE(child->pt.nvalid))
			continue;	/* refilled since it was marked */
		xa_erase(&imp->children, idx);
		odp_child_free(child);
	}
	up_write(&imp->sem);
}

/**
 * odp_implicit_mark_empty() - ask the reaper to look at a child
 * @child: child that may have no valid page left
 *
 * Callable from notifier callbacks: takes only the xarray spinlock.
 */
void odp_implicit_mark_empty(struct odp_umem *child)
{
	struct odp_implicit *imp = child->parent->imp;

	xa_set_mark(&imp->children, child->start >> ODP_CHILD_SHIFT,
		    XA_MARK_0);
	/* Flushed by odp_implicit_destroy() after the last notifier is gone. */
	queue_work(system_wq, &imp->reap_work);
}

/**
 * odp_implicit_child() - find, or create, the child covering an address
 * @parent: implicit region; the caller holds @parent->imp->sem for read
 * @addr: address inside @parent
 * @create: create the child if it does not exist
 *
 * Context: sleeps when creating.
 * Return: the child, ERR_PTR(-EAGAIN) when absent and !@create, or another
 * ERR_PTR() when creation fails (-EFAULT once the process is exiting).
 */
struct odp_umem *odp_implicit_child(struct odp_umem *parent, u64 addr,
				    bool create)
{
	struct odp_implicit *imp = parent->imp;
	unsigned long idx = addr >> ODP_CHILD_SHIFT;
	struct odp_umem *child, *old;
	u64 start;
	int ret;

	lockdep_assert_held_read(&imp->sem);
	child = xa_load(&imp->children, idx);
	if (child)
		return child;
	if (!create)
		return ERR_PTR(-EAGAIN);

	child = kzalloc(sizeof(*child), GFP_KERNEL);
	if (!child)
		return ERR_PTR(-ENOMEM);
	child->parent = parent;
	child->flags = ODP_UMEM_CHILD;
	start = (u64)idx << ODP_CHILD_SHIFT;
	ret = odp_umem_init(child, parent->omm, start,
			    min_t(u64, start + ODP_CHILD_SIZE, parent->end),
			    parent->access, PAGE_SHIFT);
	if (ret)
		goto err_free;
	ret = odp_umem_insert_notifier(child);
	if (ret)
		goto err_pt;

	/* Racing creators: the first one wins, the others undo. */
	old = xa_cmpxchg(&imp->children, idx, NULL, child, GFP_KERNEL);
	if (old) {
		odp_umem_teardown(child);
		odp_kmem_add(child, -(s64)sizeof(*child));
		kfree(child);
		return xa_is_err(old) ? ERR_PTR(xa_err(old)) : old;
	}
	atomic64_inc(&odp_nr_children);	/* pairs with odp_child_free() */
	odp_count(child, ODP_CNT_CHILDREN, 1);
	return child;

err_pt:
	odp_kmem_add(child, -(s64)(child->pt.nchunks * sizeof(*child->pt.dir)));
	kvfree(child->pt.dir);
err_free:
	odp_kmem_add(child, -(s64)sizeof(*child));
	kfree(child);
	return ERR_PTR(ret);
}

/**
 * odp_umem_alloc_implicit() - register a region covering the whole address
 *	space of a process
 * @omm: process context from odp_mm_get()
 * @access: ODP_ACCESS_* rights
 *
 * Kernel memory grows with the pages actually touched: children of
 * ODP_CHILD_SIZE are created lazily, their page-table chunks on first
 * fault, and both are freed again when UNMAP empties them.
 *
 * Context: process context, sleeps.
 * Return: the region or an ERR_PTR().
 */
struct odp_umem *odp_umem_alloc_implicit(struct odp_mm *omm,
					 unsigned int access)
{
	struct odp_umem *umem;
	struct odp_implicit *imp;
	int ret;

	might_sleep();
	if (access & ~ODP_ACCESS_WRITE)
		return ERR_PTR(-EINVAL);
	umem = kzalloc(sizeof(*umem), GFP_KERNEL);
	imp = kzalloc(sizeof(*imp), GFP_KERNEL);
	if (!umem || !imp) {
		ret = -ENOMEM;
		goto err_free;
	}
	ret = odp_mm_ref(omm);		/* pairs with odp_mm_put() in release */
	if (ret)
		goto err_free;
	imp->owner = umem;
	xa_init(&imp->children);
	init_rwsem(&imp->sem);
	INIT_WORK(&imp->reap_work, odp_implicit_reap);
	umem->imp = imp;
	umem->flags = ODP_UMEM_IMPLICIT;
	odp_umem_init(umem, omm, 0, omm->mn.mm->task_size, access,
		      PAGE_SHIFT);
	odp_kmem_add(umem, sizeof(*imp));
	odp_mm_add_umem(omm, umem);
	atomic64_inc(&odp_nr_umems);	/* pairs with dec in release */
	return umem;

err_free:
	kfree(imp);
	kfree(umem);
	return ERR_PTR(ret);
}
EXPORT_SYMBOL_GPL(odp_umem_alloc_implicit);

/**
 * odp_implicit_destroy() - free every child and the registry
 * @parent: implicit region being released; no user is left
 */
void odp_implicit_destroy(struct odp_umem *parent)
{
	struct odp_implicit *imp = parent->imp;
	struct odp_umem *child;
	unsigned long idx;

	down_write(&imp->sem);
	xa_for_each(&imp->children, idx, child) {
		xa_erase(&imp->children, idx);
		odp_child_free(child);
	}
	up_write(&imp->sem);
	/* All notifiers are gone, nothing can queue the work again. */
	cancel_work_sync(&imp->reap_work);
	xa_destroy(&imp->children);
	kfree(imp);
	parent->imp = NULL;
}
