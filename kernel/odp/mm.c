// SPDX-License-Identifier: GPL-2.0
/*
 * softodp ODP core: per-process context (struct odp_mm) and module hooks.
 *
 * There is exactly one odp_mm per (odp_mm_ops, mm): mmu_notifier_get()
 * finds the existing subscription or calls ->alloc_notifier under the mmap
 * write lock, and counts users.  Every region holds one such use; the last
 * mmu_notifier_put() unlinks the subscription and frees it after an SRCU
 * grace period through ->free_notifier.  The core never keeps its own
 * refcount on the context.
 */
#include <linux/export.h>
#include <linux/pid.h>
#include <linux/sched.h>
#include <linux/sched/mm.h>
#include <linux/slab.h>

#include "odp_internal.h"

atomic64_t odp_nr_mms = ATOMIC64_INIT(0);
atomic64_t odp_nr_umems = ATOMIC64_INIT(0);
atomic64_t odp_nr_children = ATOMIC64_INIT(0);

/* Every live odp_mm, for debugfs; entries leave in ->free_notifier. */
DEFINE_SPINLOCK(odp_mms_lock);
LIST_HEAD(odp_mms);

static struct mmu_notifier *odp_mm_alloc_notifier(struct mm_struct *mm)
{
	struct odp_mm *omm;

	/* Called by mmu_notifier_get() with the mmap lock held for write. */
	omm = kzalloc(sizeof(*omm), GFP_KERNEL);
	if (!omm)
		return ERR_PTR(-ENOMEM);
	spin_lock_init(&omm->lock);
	INIT_LIST_HEAD(&omm->umems);
	INIT_LIST_HEAD(&omm->implicit);
	omm->tgid = task_tgid_nr(current);

	spin_lock_bh(&odp_mms_lock);
	list_add_tail(&omm->node, &odp_mms);
	spin_unlock_bh(&odp_mms_lock);
	atomic64_inc(&odp_nr_mms);	/* pairs with dec in free_notifier */
	return &omm->mn;
}

static void odp_mm_free_notifier(struct mmu_notifier *mn)
{
	struct odp_mm *omm = container_of(mn, struct odp_mm, mn);

	/*
	 * Runs from an SRCU callback after the last mmu_notifier_put(): no
	 * region and no notifier callback can reach @omm any more.  Only
	 * debugfs still can, through the global list, under odp_mms_lock.
	 */
	spin_lock_bh(&odp_mms_lock);
	list_del(&omm->node);
	spin_unlock_bh(&odp_mms_lock);
	WARN_ON_ONCE(!list_empty(&omm->umems) || !list_empty(&omm->implicit));
	kfree(omm);
	atomic64_dec(&odp_nr_mms);	/* pairs with inc in alloc_notifier */
}

static void odp_mm_release(struct mmu_notifier *mn, struct mm_struct *mm)
{
	struct odp_mm *omm = container_of(mn, struct odp_mm, mn);

	/*
	 * The address space is being torn down.  The interval notifiers of
	 * every region have just seen MMU_NOTIFY_RELEASE over the whole
	 * address space and dropped all pages; this flag makes later
	 * accesses fail fast instead of trying to fault.  No reference is
	 * taken or dropped here: regions keep @omm alive.
	 */
	WRITE_ONCE(omm->released, true);
	atomic64_inc(&omm->stats.c[ODP_CNT_MM_RELEASE]);
}

static const struct mmu_notifier_ops odp_mm_ops = {
	.release = odp_mm_release,
	.alloc_notifier = odp_mm_alloc_notifier,
	.free_notifier = odp_mm_free_notifier,
};

/**
 * odp_mm_get() - get the ODP context of a process
 * @mm: address space; the caller holds a user reference (mmget) on it,
 *	e.g. it is current->mm
 *
 * Context: sleeps (takes the mmap lock for write).
 * Return: the context shared by every region of @mm, or an ERR_PTR().
 * Pairs with odp_mm_put().
 */
struct odp_mm *odp_mm_get(struct mm_struct *mm)
{
	struct mmu_notifier *mn;

	might_sleep();
	mn = mmu_notifier_get(&odp_mm_ops, mm);
	if (IS_ERR(mn))
		return ERR_CAST(mn);
	return container_of(mn, struct odp_mm, mn);
}
EXPORT_SYMBOL_GPL(odp_mm_get);

/**
 * odp_mm_put() - drop a reference taken by odp_mm_get()
 * @omm: context
 *
 * The context is freed after an SRCU grace period once the last user is
 * gone; odp_core_exit() waits for that.
 */
void odp_mm_put(struct odp_mm *omm)
{
	mmu_notifier_put(&omm->mn);	/* pairs with mmu_notifier_get() */
}
EXPORT_SYMBOL_GPL(odp_mm_put);

/**
 * odp_mm_ref() - take one more use of a context for a new region
 * @omm: context the caller already holds
 *
 * mmu_notifier_get() requires a live address space, so this fails with
 * -EFAULT once the process is exiting.  Pairs with odp_mm_put().
 *
 * Return: 0 or a negative errno.
 */
int odp_mm_ref(struct odp_mm *omm)
{
	struct mm_struct *mm = omm->mn.mm;
	struct odp_mm *again;
	int ret = 0;

	if (READ_ONCE(omm->released) || !mmget_not_zero(mm))
		return -EFAULT;
	again = odp_mm_get(mm);
	if (IS_ERR(again))
		ret = PTR_ERR(again);
	else if (WARN_ON_ONCE(again != omm)) {
		odp_mm_put(again);
		ret = -EINVAL;
	}
	mmput(mm);	/* pairs with mmget_not_zero() above */
	return ret;
}

/**
 * odp_umem_mm() - process context of a region
 * @umem: region
 *
 * Return: the context, valid as long as @umem is.
 */
struct odp_mm *odp_umem_mm(struct odp_umem *umem)
{
	return umem->omm;
}
EXPORT_SYMBOL_GPL(odp_umem_mm);

void odp_mm_add_umem(struct odp_mm *omm, struct odp_umem *umem)
{
	spin_lock_bh(&omm->lock);
	list_add_tail(&umem->mm_node, umem->flags & ODP_UMEM_IMPLICIT ?
		      &omm->implicit : &omm->umems);
	spin_unlock_bh(&omm->lock);
}

void odp_mm_del_umem(struct odp_mm *omm, struct odp_umem *umem)
{
	spin_lock_bh(&omm->lock);
	list_del(&umem->mm_node);
	spin_unlock_bh(&omm->lock);
}

/**
 * odp_core_objects() - live object counts, for tests and leak checks
 * @objs: filled in
 */
void odp_core_objects(struct odp_objects *objs)
{
	objs->mms = atomic64_read(&odp_nr_mms);
	objs->umems = atomic64_read(&odp_nr_umems);
	objs->children = atomic64_read(&odp_nr_children);
}
EXPORT_SYMBOL_GPL(odp_core_objects);

/**
 * odp_core_init() - set up the ODP core; called from softodp module init
 *
 * Return: 0 (debugfs failures are not fatal).
 */
int odp_core_init(void)
{
	odp_debugfs_init();
	return 0;
}

/**
 * odp_core_exit() - tear down the ODP core; called from softodp module exit
 *
 * Regions pin the modules that created them, so none is left here; what
 * may remain are odp_mm frees deferred by mmu_notifier_put(), which must
 * run before odp_mm_ops and this code go away.
 */
void odp_core_exit(void)
{
	odp_debugfs_exit();
	mmu_notifier_synchronize();
}
