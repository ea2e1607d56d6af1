// SPDX-License-Identifier: GPL-2.0
/*
 * softodp_odptest: test-only misc device driving the softodp ODP core the
 * way a device engine does.  A process registers regions of its own
 * address space and reads, writes and prefetches through them; a kernel
 * thread can hammer a region in the background and check what it sees.
 * Never packaged.
 */
#include <linux/delay.h>
#include <linux/highmem.h>
#include <linux/kthread.h>
#include <linux/memcontrol.h>
#include <linux/miscdevice.h>
#include <linux/module.h>
#include <linux/oom.h>
#include <linux/refcount.h>
#include <linux/sched/mm.h>
#include <linux/sched/task.h>
#include <linux/slab.h>
#include <linux/uaccess.h>
#include <linux/xarray.h>

#include "odp.h"
#include "softodp_odptest_uapi.h"

#define ODPT_MAX_RW		(64ULL << 20)
#define ODPT_MAX_ACC		4
#define ODPT_MAX_COUNTERS	64
#define ODPT_MAX_PARK_MS	30000
#define ODPT_MAX_HOG		(512ULL << 20)

struct odpt_region {
	refcount_t ref;
	struct odp_umem *umem;
};

struct odpt_file;

struct odpt_acc_thread {
	struct task_struct *task;
	struct odpt_file *file;
	struct odpt_region *reg;
	u64 addr;
	u64 len;
	u64 iterations;
	u64 checked;
	u64 stale;
	u64 errors;
	u64 eagain;
};

struct odpt_hog_thread {
	struct task_struct *task;
	struct task_struct *owner;	/* thread that asked; OOM victim-to-be */
	struct mem_cgroup *memcg;	/* charged by the thread */
	unsigned long max_pages;
};

struct odpt_file {
	struct mutex lock;		/* protects acc[] and hog */
	struct xarray regions;
	struct odpt_acc_thread *acc[ODPT_MAX_ACC];
	struct odpt_hog_thread *hog;
	u64 phase_gen;			/* phase << 32 | gen */
};

static void odpt_region_put(struct odpt_region *reg)
{
	if (refcount_dec_and_test(&reg->ref)) {
		odp_umem_release(reg->umem);
		kfree(reg);
	}
}

static struct odpt_region *odpt_region_get(struct odpt_file *f, u32 handle)
{
	struct odpt_region *reg;

	xa_lock(&f->regions);
	reg = xa_load(&f->regions, handle);
	if (reg)
		refcount_inc(&reg->ref);	/* pairs with odpt_region_put() */
	xa_unlock(&f->regions);
	return reg;
}

static int odpt_open(struct inode *inode, struct file *file)
{
	struct odpt_file *f = kzalloc(sizeof(*f), GFP_KERNEL);

	if (!f)
		return -ENOMEM;
	mutex_init(&f->lock);
	xa_init_flags(&f->regions, XA_FLAGS_ALLOC1);
	file->private_data = f;
	return 0;
}

static void odpt_acc_stop(struct odpt_acc_thread *t)
{
	kthread_stop(t->task);
	put_task_struct(t->task);
	odpt_region_put(t->reg);
}

static void odpt_hog_free(struct odpt_hog_thread *h)
{
	if (h->task) {
		kthread_stop(h->task);
		put_task_struct(h->task);
	}
	put_task_struct(h->owner);
	mem_cgroup_put(h->memcg);
	kfree(h);
}

static int odpt_release(struct inode *inode, struct file *file)
{
	struct odpt_file *f = file->private_data;
	struct odpt_region *reg;
	unsigned long idx;
	int i;

	if (f->hog)
		odpt_hog_free(f->hog);
	for (i = 0; i < ODPT_MAX_ACC; i++) {
		if (f->acc[i]) {
			odpt_acc_stop(f->acc[i]);
			kfree(f->acc[i]);
		}
	}
	xa_for_each(&f->regions, idx, reg) {
		xa_erase(&f->regions, idx);
		odpt_region_put(reg);
	}
	xa_destroy(&f->regions);
	kfree(f);
	return 0;
}

static long odpt_reg(struct odpt_file *f, void __user *arg)
{
	struct odpt_region *reg;
	struct odpt_reg r;
	struct odp_mm *omm;
	unsigned int access;
	u32 handle;
	int ret;

	if (copy_from_user(&r, arg, sizeof(r)))
		return -EFAULT;
	if (!current->mm)
		return -EINVAL;
	access = (r.flags & ODPT_REG_WRITE) ? ODP_ACCESS_WRITE : 0;
	reg = kzalloc(sizeof(*reg), GFP_KERNEL);
	if (!reg)
		return -ENOMEM;
	refcount_set(&reg->ref, 1);
	omm = odp_mm_get(current->mm);
	if (IS_ERR(omm)) {
		ret = PTR_ERR(omm);
		goto err_free;
	}
	if (r.flags & ODPT_REG_IMPLICIT)
		reg->umem = odp_umem_alloc_implicit(omm, access);
	else
		reg->umem = odp_umem_alloc(omm, r.addr, r.len, access,
					   r.page_shift ?: PAGE_SHIFT);
	odp_mm_put(omm);	/* the region holds its own use */
	if (IS_ERR(reg->umem)) {
		ret = PTR_ERR(reg->umem);
		goto err_free;
	}
	ret = xa_alloc(&f->regions, &handle, reg, xa_limit_31b, GFP_KERNEL);
	if (ret)
		goto err_release;
	r.handle = handle;
	if (copy_to_user(arg, &r, sizeof(r))) {
		xa_erase(&f->regions, handle);
		ret = -EFAULT;
		goto err_release;
	}
	return 0;

err_release:
	odp_umem_release(reg->umem);
err_free:
	kfree(reg);
	return ret;
}

static long odpt_dereg(struct odpt_file *f, void __user *arg)
{
	struct odpt_region *reg;
	u32 handle;

	if (get_user(handle, (u32 __user *)arg))
		return -EFAULT;
	reg = xa_erase(&f->regions, handle);
	if (!reg)
		return -ENOENT;
	odpt_region_put(reg);
	return 0;
}

static long odpt_rw(struct odpt_file *f, void __user *arg, unsigned int cmd)
{
	struct odpt_region *reg;
	unsigned int flags = 0;
	struct odpt_rw rw;
	void *buf = NULL;
	int ret;

	if (copy_from_user(&rw, arg, sizeof(rw)))
		return -EFAULT;
	if (rw.flags & ODPT_RW_NO_FAULT)
		flags |= ODP_FAULT_NO_FAULT;
	if (rw.flags & ODPT_RW_WRITE)
		flags |= ODP_FAULT_WRITE;
	if (!rw.len || rw.len > ODPT_MAX_RW)
		return -EINVAL;
	reg = odpt_region_get(f, rw.handle);
	if (!reg)
		return -ENOENT;
	if (cmd == ODPT_PREFETCH) {
		ret = odp_umem_prefetch(reg->umem, rw.addr, rw.len, flags);
		goto out;
	}
	/* Bounce buffer: user memory is never touched inside a section. */
	buf = kvmalloc(rw.len, GFP_KERNEL);
	ret = -ENOMEM;
	if (!buf)
		goto out;
	if (cmd == ODPT_READ) {
		ret = odp_umem_read(reg->umem, rw.addr, buf, rw.len, flags);
		if (!ret && copy_to_user(u64_to_user_ptr(rw.buf), buf, rw.len))
			ret = -EFAULT;
	} else {
		ret = -EFAULT;
		if (!copy_from_user(buf, u64_to_user_ptr(rw.buf), rw.len))
			ret = odp_umem_write(reg->umem, rw.addr, buf, rw.len,
					     flags);
	}
out:
	kvfree(buf);
	odpt_region_put(reg);
	return ret;
}

struct odpt_counter_buf {
	struct odpt_counter c[ODPT_MAX_COUNTERS];
	unsigned int n;
};

static void odpt_collect(void *priv, const char *name, u64 value)
{
	struct odpt_counter_buf *b = priv;

	if (b->n >= ODPT_MAX_COUNTERS)
		return;
	strscpy(b->c[b->n].name, name, sizeof(b->c[b->n].name));
	b->c[b->n].value = value;
	b->n++;
}

static long odpt_counters(struct odpt_file *f, void __user *arg)
{
	struct odpt_counter_buf *b;
	struct odpt_region *reg;
	struct odpt_counters q;
	long ret = 0;

	if (copy_from_user(&q, arg, sizeof(q)))
		return -EFAULT;
	b = kzalloc(sizeof(*b), GFP_KERNEL);
	if (!b)
		return -ENOMEM;
	if (q.scope == ODPT_SCOPE_GLOBAL) {
		odp_core_counters(odpt_collect, b);
	} else {
		reg = odpt_region_get(f, q.handle);
		if (!reg) {
			kfree(b);
			return -ENOENT;
		}
		if (q.scope == ODPT_SCOPE_PROCESS)
			odp_mm_counters(odp_umem_mm(reg->umem), odpt_collect,
					b);
		else
			odp_umem_counters(reg->umem, odpt_collect, b);
		odpt_region_put(reg);
	}
	if (copy_to_user(u64_to_user_ptr(q.ptr), b->c,
			 min(q.count, b->n) * sizeof(b->c[0])))
		ret = -EFAULT;
	q.count = b->n;
	if (!ret && copy_to_user(arg, &q, sizeof(q)))
		ret = -EFAULT;
	kfree(b);
	return ret;
}

static long odpt_objects(void __user *arg)
{
	struct odpt_objects o;
	struct odp_objects objs;

	odp_core_objects(&objs);
	o.mms = objs.mms;
	o.umems = objs.umems;
	o.children = objs.children;
	return copy_to_user(arg, &o, sizeof(o)) ? -EFAULT : 0;
}

static long odpt_kmem(struct odpt_file *f, void __user *arg)
{
	struct odpt_region *reg;
	struct odpt_kmem k;

	if (copy_from_user(&k, arg, sizeof(k)))
		return -EFAULT;
	reg = odpt_region_get(f, k.handle);
	if (!reg)
		return -ENOENT;
	k.bytes = odp_umem_kmem_bytes(reg->umem);
	odpt_region_put(reg);
	return copy_to_user(arg, &k, sizeof(k)) ? -EFAULT : 0;
}

static long odpt_passes(struct odpt_file *f, void __user *arg)
{
	struct odpt_region *reg;
	struct odpt_passes p;

	if (copy_from_user(&p, arg, sizeof(p)))
		return -EFAULT;
	reg = odpt_region_get(f, p.handle);
	if (!reg)
		return -ENOENT;
	p.native = odp_umem_inv_trace(reg->umem, &p.start_tick,
				      &p.finish_tick);
	odpt_region_put(reg);
	return copy_to_user(arg, &p, sizeof(p)) ? -EFAULT : 0;
}

static bool odpt_check(const u64 *buf, u64 len, u32 gen)
{
	u64 i, words = len / sizeof(u64);

	for (i = 0; i < words; i++) {
		u64 want = ((u64)gen << 32) | (i * sizeof(u64) / PAGE_SIZE);

		if (buf[i] != want)
			return false;
	}
	return true;
}

static int odpt_acc_fn(void *data)
{
	struct odpt_acc_thread *t = data;
	u64 *buf = kvmalloc(t->len, GFP_KERNEL);

	while (!kthread_should_stop()) {
		u64 p1, p2;
		int ret;

		if (!buf) {
			msleep(20);
			continue;
		}
		/* Pairs with smp_store_release() in odpt_set_phase(). */
		p1 = smp_load_acquire(&t->file->phase_gen);
		ret = odp_umem_read(t->reg->umem, t->addr, buf, t->len, 0);
		smp_rmb();	/* data read before the phase re-check */
		p2 = READ_ONCE(t->file->phase_gen);
		t->iterations++;
		if (ret) {
			t->errors++;
			t->eagain += ret == -EAGAIN;
		} else if (p1 == p2 && !((p1 >> 32) & 1)) {
			t->checked++;
			if (!odpt_check(buf, t->len, (u32)p1))
				t->stale++;
		}
		cond_resched();
	}
	kvfree(buf);
	return 0;
}

static long odpt_acc_start(struct odpt_file *f, void __user *arg)
{
	struct odpt_acc_thread *t;
	struct odpt_acc a;
	int i, ret;

	if (copy_from_user(&a, arg, sizeof(a)))
		return -EFAULT;
	if (!a.len || a.len > ODPT_MAX_RW || a.len % PAGE_SIZE)
		return -EINVAL;
	t = kzalloc(sizeof(*t), GFP_KERNEL);
	if (!t)
		return -ENOMEM;
	t->file = f;
	t->addr = a.addr;
	t->len = a.len;
	t->reg = odpt_region_get(f, a.handle);
	ret = -ENOENT;
	if (!t->reg)
		goto err_free;

	mutex_lock(&f->lock);
	for (i = 0; i < ODPT_MAX_ACC && f->acc[i]; i++)
		;
	ret = -EBUSY;
	if (i == ODPT_MAX_ACC)
		goto err_unlock;
	t->task = kthread_run(odpt_acc_fn, t, "odpt_acc%d", i);
	if (IS_ERR(t->task)) {
		ret = PTR_ERR(t->task);
		goto err_unlock;
	}
	get_task_struct(t->task);	/* pairs with put in odpt_acc_stop() */
	f->acc[i] = t;
	mutex_unlock(&f->lock);
	a.id = i;
	return copy_to_user(arg, &a, sizeof(a)) ? -EFAULT : 0;

err_unlock:
	mutex_unlock(&f->lock);
	odpt_region_put(t->reg);
err_free:
	kfree(t);
	return ret;
}

static long odpt_acc_stop_ioctl(struct odpt_file *f, void __user *arg)
{
	struct odpt_acc_thread *t;
	struct odpt_acc a;

	if (copy_from_user(&a, arg, sizeof(a)))
		return -EFAULT;
	if (a.id >= ODPT_MAX_ACC)
		return -EINVAL;
	mutex_lock(&f->lock);
	t = f->acc[a.id];
	f->acc[a.id] = NULL;
	mutex_unlock(&f->lock);
	if (!t)
		return -ENOENT;
	odpt_acc_stop(t);
	a.iterations = t->iterations;
	a.checked = t->checked;
	a.stale = t->stale;
	a.errors = t->errors;
	a.eagain = t->eagain;
	kfree(t);
	return copy_to_user(arg, &a, sizeof(a)) ? -EFAULT : 0;
}

static long odpt_set_phase(struct odpt_file *f, void __user *arg)
{
	struct odpt_phase p;

	if (copy_from_user(&p, arg, sizeof(p)))
		return -EFAULT;
	/* Orders the caller's earlier stores to the data before the phase. */
	smp_mb();
	/* Pairs with smp_load_acquire() in odpt_acc_fn(). */
	smp_store_release(&f->phase_gen, ((u64)p.phase << 32) | p.gen);
	/* Phase visible before the caller goes on to change the data. */
	smp_mb();
	return 0;
}

static long odpt_hold(struct odpt_file *f, void __user *arg)
{
	unsigned int off, seg;
	struct odpt_region *reg;
	struct odpt_hold h;
	struct odp_iter it;
	struct page *page;
	bool slept = false;
	u8 *buf;
	u64 done = 0;
	int ret;

	if (copy_from_user(&h, arg, sizeof(h)))
		return -EFAULT;
	if (!h.len || h.len > ODP_ITER_BATCH * PAGE_SIZE || h.hold_ms > 10000)
		return -EINVAL;
	reg = odpt_region_get(f, h.handle);
	if (!reg)
		return -ENOENT;
	buf = kvmalloc(h.len, GFP_KERNEL);
	ret = -ENOMEM;
	if (!buf)
		goto out_put;
	ret = odp_iter_start(&it, reg->umem, h.addr, h.len, 0);
	if (ret)
		goto out_free;
	while ((ret = odp_iter_next(&it, &page, &off, &seg)) > 0) {
		void *p = kmap_local_page(page);

		memcpy(buf + done, p + off, seg);
		kunmap_local(p);
		done += seg;
		if (!slept) {
			/* Inside the read-side section: invalidations wait. */
			msleep(h.hold_ms);
			slept = true;
		}
	}
	odp_iter_end(&it);
	h.result = ret;
	if (!ret && copy_to_user(u64_to_user_ptr(h.buf), buf, h.len))
		ret = -EFAULT;
	if (copy_to_user(arg, &h, sizeof(h)))
		ret = -EFAULT;
out_free:
	kvfree(buf);
out_put:
	odpt_region_put(reg);
	return ret;
}

struct odpt_find {
	const char *name;
	u64 value;
};

static void odpt_find_counter(void *priv, const char *name, u64 value)
{
	struct odpt_find *fc = priv;

	if (!strcmp(name, fc->name))
		fc->value = value;
}

static u64 odpt_umem_counter(struct odp_umem *umem, const char *name)
{
	struct odpt_find fc = { .name = name };

	odp_umem_counters(umem, odpt_find_counter, &fc);
	return fc.value;
}

/*
 * Sleep until counter @name of @umem leaves @base or @ms pass.  Sleeps are
 * uninterruptible so that an OOM kill does not end them, but short, so the
 * task keeps being scheduled and never looks hung.
 */
static u64 odpt_park_until(struct odp_umem *umem, const char *name, u64 base,
			   unsigned int ms)
{
	unsigned long deadline = jiffies + msecs_to_jiffies(ms);
	u64 v;

	while ((v = odpt_umem_counter(umem, name)) == base &&
	       time_before(jiffies, deadline))
		schedule_timeout_uninterruptible(msecs_to_jiffies(10));
	return v - base;
}

static long odpt_park(struct odpt_file *f, void __user *arg)
{
	unsigned int off, seg;
	struct odpt_region *reg;
	struct odpt_park p;
	struct odp_iter it;
	struct page *page;
	u64 fails, nonblock;
	int ret = 0;

	if (copy_from_user(&p, arg, sizeof(p)))
		return -EFAULT;
	if ((p.flags & ~ODPT_PARK_HOLD) || p.timeout_ms > ODPT_MAX_PARK_MS)
		return -EINVAL;
	reg = odpt_region_get(f, p.handle);
	if (!reg)
		return -ENOENT;
	fails = odpt_umem_counter(reg->umem, "inv_nonblock_fails");
	nonblock = odpt_umem_counter(reg->umem, "inv_nonblock");
	p.fails = 0;
	if (p.flags & ODPT_PARK_HOLD) {
		ret = odp_iter_start(&it, reg->umem, p.addr, 1, 0);
		if (ret)
			goto out;
		ret = odp_iter_next(&it, &page, &off, &seg);
		if (ret > 0) {
			/*
			 * Inside the read-side section: a non-blockable
			 * finish pass has to refuse.  Nothing here allocates
			 * or waits for reclaim, and the wait is bounded.
			 */
			p.fails = odpt_park_until(reg->umem,
						  "inv_nonblock_fails", fails,
						  p.timeout_ms);
			ret = 0;
		} else if (!ret) {
			ret = -EIO;
		}
		odp_iter_end(&it);
		if (ret)
			goto out;
	}
	p.nonblock = odpt_park_until(reg->umem, "inv_nonblock", nonblock,
				     p.timeout_ms);
	if (copy_to_user(arg, &p, sizeof(p)))
		ret = -EFAULT;
out:
	odpt_region_put(reg);
	return ret;
}

static int odpt_hog_fn(void *data)
{
	gfp_t gfp = GFP_KERNEL_ACCOUNT | __GFP_RETRY_MAYFAIL | __GFP_NOWARN;
	struct odpt_hog_thread *h = data;
	struct page *page, *tmp;
	struct mem_cgroup *old;
	unsigned long n = 0;
	LIST_HEAD(pages);

	old = set_active_memcg(h->memcg);
	while (n < h->max_pages && !kthread_should_stop()) {
		page = alloc_page(gfp);
		if (!page) {
			if (!(gfp & __GFP_RETRY_MAYFAIL))
				break;	/* the OOM killer found nobody */
			/* The cgroup is full: now let the OOM killer act. */
			gfp &= ~__GFP_RETRY_MAYFAIL;
			continue;
		}
		list_add(&page->lru, &pages);
		n++;
		/* Returns once the victim's memory is reaped or freed. */
		if (tsk_is_oom_victim(h->owner))
			break;
	}
	set_active_memcg(old);
	list_for_each_entry_safe(page, tmp, &pages, lru) {
		list_del(&page->lru);
		__free_page(page);
	}
	return 0;
}

/*
 * Whether @memcg is a memory cgroup below the root one (never without
 * memory cgroups).  mem_cgroup_is_root() reads root_mem_cgroup, which 6.1
 * does not export to modules.
 */
static bool odpt_memcg_is_child(struct mem_cgroup *memcg)
{
#ifdef CONFIG_MEMCG
	return memcg && memcg->css.parent;
#else
	return false;
#endif
}

static long odpt_hog(struct odpt_file *f, void __user *arg)
{
	struct odpt_hog_thread *h;
	struct odpt_hog q;
	int ret;

	if (copy_from_user(&q, arg, sizeof(q)))
		return -EFAULT;
	if (!q.max_bytes || q.max_bytes > ODPT_MAX_HOG || !current->mm)
		return -EINVAL;
	h = kzalloc(sizeof(*h), GFP_KERNEL);
	if (!h)
		return -ENOMEM;
	h->max_pages = q.max_bytes >> PAGE_SHIFT;
	h->owner = get_task_struct(current);	/* put in odpt_hog_free() */
	h->memcg = get_mem_cgroup_from_mm(current->mm);
	ret = -EOPNOTSUPP;
	/* Only a child cgroup: never push the whole machine into OOM. */
	if (!odpt_memcg_is_child(h->memcg))
		goto err;
	mutex_lock(&f->lock);
	ret = -EBUSY;
	if (f->hog)
		goto err_unlock;
	h->task = kthread_create(odpt_hog_fn, h, "odpt_hog");
	if (IS_ERR(h->task)) {
		ret = PTR_ERR(h->task);
		h->task = NULL;
		goto err_unlock;
	}
	/* The thread may return before kthread_stop(): pin it first. */
	get_task_struct(h->task);
	wake_up_process(h->task);
	f->hog = h;
	mutex_unlock(&f->lock);
	return 0;

err_unlock:
	mutex_unlock(&f->lock);
err:
	odpt_hog_free(h);
	return ret;
}

static long odpt_ioctl(struct file *file, unsigned int cmd, unsigned long a)
{
	struct odpt_file *f = file->private_data;
	void __user *arg = (void __user *)a;

	switch (cmd) {
	case ODPT_REG:
		return odpt_reg(f, arg);
	case ODPT_DEREG:
		return odpt_dereg(f, arg);
	case ODPT_READ:
	case ODPT_WRITE:
	case ODPT_PREFETCH:
		return odpt_rw(f, arg, cmd);
	case ODPT_COUNTERS:
		return odpt_counters(f, arg);
	case ODPT_OBJECTS:
		return odpt_objects(arg);
	case ODPT_KMEM:
		return odpt_kmem(f, arg);
	case ODPT_ACC_START:
		return odpt_acc_start(f, arg);
	case ODPT_ACC_STOP:
		return odpt_acc_stop_ioctl(f, arg);
	case ODPT_SET_PHASE:
		return odpt_set_phase(f, arg);
	case ODPT_HOLD:
		return odpt_hold(f, arg);
	case ODPT_PARK:
		return odpt_park(f, arg);
	case ODPT_HOG:
		return odpt_hog(f, arg);
	case ODPT_PASSES:
		return odpt_passes(f, arg);
	default:
		return -ENOTTY;
	}
}

static const struct file_operations odpt_fops = {
	.owner = THIS_MODULE,
	.open = odpt_open,
	.release = odpt_release,
	.unlocked_ioctl = odpt_ioctl,
};

static struct miscdevice odpt_misc = {
	.minor = MISC_DYNAMIC_MINOR,
	.name = "softodp_odptest",
	.fops = &odpt_fops,
	.mode = 0600,
};

module_misc_device(odpt_misc);

MODULE_DESCRIPTION("softodp test: drives the ODP core like a device engine");
MODULE_LICENSE("GPL");
