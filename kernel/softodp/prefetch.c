// SPDX-License-Identifier: GPL-2.0
/*
 * softodp: advise_mr - PREFETCH, PREFETCH_WRITE and PREFETCH_NO_FAULT on
 * explicit and implicit ODP MRs.
 *
 * With IB_UVERBS_ADVISE_MR_FLAG_FLUSH the call faults the ranges in before
 * returning and reports the first error; otherwise the work is queued on
 * the device's workqueue and is best effort (ranges that cannot be faulted
 * are skipped).  The queued work holds a reference on every MR it touches,
 * so dereg_mr waits for it.  Errors follow ibv_advise_mr(3): EFAULT for an
 * unknown key, another PD, missing write access or a bad range; EINVAL for
 * an MR that is not ODP or unknown flags.
 */
#include <linux/slab.h>
#include <linux/workqueue.h>
#include <rdma/ib_verbs.h>

#include "softodp.h"
#include "mr.h"

/**
 * struct sodp_prefetch_work - an asynchronous advise_mr
 * @work: on the device's workqueue
 * @advice: the advice (IB_UVERBS_ADVISE_MR_ADVICE_*)
 * @num_sge: entries in @sge and @mr
 * @sge: the ranges, as given
 * @mr: the MR of each range, referenced until the work is done
 */
struct sodp_prefetch_work {
	struct work_struct work;
	enum ib_uverbs_advise_mr_advice advice;
	u32 num_sge;
	struct ib_sge *sge;
	struct sodp_mr **mr;
};

/*
 * Find the ODP MR of @sge and check it may be prefetched by @pd with
 * @advice.  Return it referenced, or an ERR_PTR with advise_mr's errno:
 * -EFAULT for an unknown key, another PD, missing write access or a range
 * out of the MR; -EINVAL for an MR that is not ODP.
 */
static struct sodp_mr *
sodp_prefetch_mr(struct sodp_dev *sdev, struct ib_pd *pd,
		 const struct ib_sge *sge,
		 enum ib_uverbs_advise_mr_advice advice)
{
	int access = advice == IB_UVERBS_ADVISE_MR_ADVICE_PREFETCH_WRITE ?
		     IB_ACCESS_LOCAL_WRITE : 0;
	struct sodp_mr *mr;

	mr = sodp_mr_get_key(sdev, sge->lkey);
	if (!mr)
		return ERR_PTR(-EFAULT);
	if (mr->type != SODP_MR_ODP) {
		sodp_mr_put(mr);
		return ERR_PTR(-EINVAL);
	}
	if (sodp_mr_check(mr, to_spd(pd), sge->addr, sge->length, access)) {
		sodp_mr_put(mr);
		return ERR_PTR(-EFAULT);
	}
	return mr;
}

static int sodp_prefetch_range(struct sodp_mr *mr, const struct ib_sge *sge,
			       enum ib_uverbs_advise_mr_advice advice)
{
	int ret = sodp_mr_prefetch(mr, sge->addr, sge->length, advice);

	/* advise_mr reports every kind of bad range as EFAULT. */
	return ret == -EACCES ? -EFAULT : ret;
}

static void sodp_prefetch_work_fn(struct work_struct *work)
{
	struct sodp_prefetch_work *pw =
		container_of(work, struct sodp_prefetch_work, work);
	u32 i;

	for (i = 0; i < pw->num_sge; i++) {
		/* Best effort: a range that cannot be faulted is skipped. */
		sodp_prefetch_range(pw->mr[i], &pw->sge[i], pw->advice);
		sodp_mr_put(pw->mr[i]);	/* pairs with sodp_prefetch_mr() */
	}
	kfree(pw->mr);
	kfree(pw->sge);
	kfree(pw);
}

static int sodp_prefetch_async(struct sodp_dev *sdev, struct ib_pd *pd,
			       enum ib_uverbs_advise_mr_advice advice,
			       struct ib_sge *sg_list, u32 num_sge)
{
	struct sodp_prefetch_work *pw;
	struct sodp_mr *mr;
	u32 i, n = 0;
	int ret = 0;

	pw = kzalloc(sizeof(*pw), GFP_KERNEL);
	if (!pw)
		return -ENOMEM;
	pw->sge = kmemdup(sg_list, num_sge * sizeof(*sg_list), GFP_KERNEL);
	pw->mr = kcalloc(num_sge, sizeof(*pw->mr), GFP_KERNEL);
	if (!pw->sge || !pw->mr) {
		ret = -ENOMEM;
		goto err;
	}
	/* Keys are checked now, so that the caller learns about bad ones. */
	for (i = 0; i < num_sge; i++, n++) {
		mr = sodp_prefetch_mr(sdev, pd, &sg_list[i], advice);
		if (IS_ERR(mr)) {
			ret = PTR_ERR(mr);
			goto err;
		}
		pw->mr[i] = mr;
	}
	pw->advice = advice;
	pw->num_sge = num_sge;
	INIT_WORK(&pw->work, sodp_prefetch_work_fn);
	queue_work(sdev->wq, &pw->work);
	return 0;

err:
	while (n--)
		sodp_mr_put(pw->mr[n]);
	kfree(pw->mr);
	kfree(pw->sge);
	kfree(pw);
	return ret;
}

static int sodp_prefetch_sync(struct sodp_dev *sdev, struct ib_pd *pd,
			      enum ib_uverbs_advise_mr_advice advice,
			      struct ib_sge *sg_list, u32 num_sge)
{
	struct sodp_mr *mr;
	int ret = 0;
	u32 i;

	for (i = 0; i < num_sge && !ret; i++) {
		mr = sodp_prefetch_mr(sdev, pd, &sg_list[i], advice);
		if (IS_ERR(mr))
			return PTR_ERR(mr);
		ret = sodp_prefetch_range(mr, &sg_list[i], advice);
		sodp_mr_put(mr);	/* pairs with sodp_prefetch_mr() */
	}
	return ret;
}

static int sodp_advise_mr(struct ib_pd *pd,
			  enum ib_uverbs_advise_mr_advice advice, u32 flags,
			  struct ib_sge *sg_list, u32 num_sge,
			  struct uverbs_attr_bundle *attrs)
{
	struct sodp_dev *sdev = to_sdev(pd->device);

	switch (advice) {
	case IB_UVERBS_ADVISE_MR_ADVICE_PREFETCH:
	case IB_UVERBS_ADVISE_MR_ADVICE_PREFETCH_WRITE:
	case IB_UVERBS_ADVISE_MR_ADVICE_PREFETCH_NO_FAULT:
		break;
	default:
		return -EOPNOTSUPP;
	}
	if (flags & ~IB_UVERBS_ADVISE_MR_FLAG_FLUSH)
		return -EINVAL;
	if (!num_sge)
		return 0;
	if (flags & IB_UVERBS_ADVISE_MR_FLAG_FLUSH)
		return sodp_prefetch_sync(sdev, pd, advice, sg_list, num_sge);
	return sodp_prefetch_async(sdev, pd, advice, sg_list, num_sge);
}

const struct ib_device_ops sodp_prefetch_ops = {
	.advise_mr = sodp_advise_mr,
};
