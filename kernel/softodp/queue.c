// SPDX-License-Identifier: GPL-2.0
/*
 * softodp: rings in the rxe ABI layout and their mmap() into user space.
 *
 * librxe maps each ring with mmap(NULL, mi.size, PROT_READ | PROT_WRITE,
 * MAP_SHARED, cmd_fd, mi.offset) on the uverbs command file, taking
 * offset and size from the struct mminfo of the create (or resize)
 * response.  The offsets come from rdma_user_mmap_entry_insert().
 *
 * Buffer lifetime: once a ring is exposed, its mmap entry owns the
 * buffer and frees it from ->mmap_free, i.e. after the entry has been
 * removed by the destroy verb and no mmap() call is using it any more.
 * Pages already mapped stay valid for the process until it unmaps them
 * (vm_insert_page() holds page references).
 */
#include <linux/log2.h>
#include <linux/mm.h>
#include <linux/slab.h>
#include <linux/vmalloc.h>

#include "queue.h"

static struct rxe_queue_buf *sodp_queue_alloc_buf(u32 slots,
						  unsigned int log2_elem,
						  size_t *size)
{
	struct rxe_queue_buf *buf;

	*size = PAGE_ALIGN(sizeof(*buf) + ((size_t)slots << log2_elem));
	buf = vmalloc_user(*size);
	if (!buf)
		return NULL;
	buf->log2_elem_size = log2_elem;
	buf->index_mask = slots - 1;
	return buf;
}

/**
 * sodp_queue_init() - allocate a ring
 * @q: queue to set up
 * @num_elem: in: elements the consumer asked for (at least 1); out: the
 *	usable capacity, a power of two minus one
 * @elem_size: bytes per element, rounded up to a power of two
 * @to_dev: the device consumes the ring (work queues) or produces (CQ)
 *
 * Return: 0 or -ENOMEM.
 */
int sodp_queue_init(struct sodp_queue *q, u32 *num_elem, size_t elem_size,
		    bool to_dev)
{
	u32 slots = roundup_pow_of_two(max_t(u32, *num_elem, 1) + 1);

	memset(q, 0, sizeof(*q));
	q->log2_elem_size = order_base_2(elem_size);
	q->buf = sodp_queue_alloc_buf(slots, q->log2_elem_size, &q->buf_size);
	if (!q->buf)
		return -ENOMEM;
	q->index_mask = slots - 1;
	q->to_dev = to_dev;
	*num_elem = q->index_mask;
	return 0;
}

static struct sodp_mmap_entry *sodp_mmap_insert(struct ib_ucontext *uctx,
						void *buf, size_t size,
						struct mminfo *mi)
{
	struct sodp_mmap_entry *me;
	int ret;

	me = kzalloc(sizeof(*me), GFP_KERNEL);
	if (!me)
		return ERR_PTR(-ENOMEM);
	ret = rdma_user_mmap_entry_insert(uctx, &me->rdma, size);
	if (ret) {
		kfree(me);
		return ERR_PTR(ret);
	}
	me->buf = buf;
	mi->offset = rdma_user_mmap_get_offset(&me->rdma);
	mi->size = size;
	mi->pad = 0;
	return me;
}

/**
 * sodp_queue_expose() - make a ring mappable by the user context
 * @q: ring from sodp_queue_init()
 * @uctx: the user context that will mmap() it
 * @mi: filled with the offset and size librxe passes to mmap()
 *
 * Return: 0 or a negative errno; on error @q still owns its buffer.
 */
int sodp_queue_expose(struct sodp_queue *q, struct ib_ucontext *uctx,
		      struct mminfo *mi)
{
	struct sodp_mmap_entry *me;

	me = sodp_mmap_insert(uctx, q->buf, q->buf_size, mi);
	if (IS_ERR(me))
		return PTR_ERR(me);
	q->mmap = me;
	return 0;
}

static void sodp_queue_free_buf(struct rxe_queue_buf *buf,
				struct sodp_mmap_entry *me)
{
	if (me)
		rdma_user_mmap_entry_remove(&me->rdma);	/* frees @buf */
	else
		vfree(buf);
}

/* Free a ring (or hand it to its mmap entry for freeing). */
void sodp_queue_cleanup(struct sodp_queue *q)
{
	if (!q->buf)
		return;
	sodp_queue_free_buf(q->buf, q->mmap);
	q->buf = NULL;
	q->mmap = NULL;
}

/**
 * sodp_queue_resize() - replace a ring by one of another size
 * @q: the ring
 * @num_elem: in: requested elements; out: usable capacity
 * @uctx: user context to expose the new ring to, NULL for kernel rings
 * @mi: the new ring's mmap info (user rings)
 * @lock: the lock that serializes the ring's device and client sides;
 *	held (irqsave) while the entries are moved
 *
 * The elements present are copied in order to the start of the new ring.
 *
 * Return: 0; -EINVAL if they do not fit; -ENOMEM.
 */
int sodp_queue_resize(struct sodp_queue *q, u32 *num_elem,
		      struct ib_ucontext *uctx, struct mminfo *mi,
		      spinlock_t *lock)
{
	u32 slots = roundup_pow_of_two(max_t(u32, *num_elem, 1) + 1);
	struct sodp_mmap_entry *me = NULL, *old_me;
	struct rxe_queue_buf *buf, *old_buf;
	u32 first, count, i;
	unsigned long flags;
	size_t size;

	buf = sodp_queue_alloc_buf(slots, q->log2_elem_size, &size);
	if (!buf)
		return -ENOMEM;
	if (uctx) {
		me = sodp_mmap_insert(uctx, buf, size, mi);
		if (IS_ERR(me)) {
			vfree(buf);
			return PTR_ERR(me);
		}
	}

	spin_lock_irqsave(lock, flags);
	count = sodp_queue_count(q);
	if (count > slots - 1) {
		spin_unlock_irqrestore(lock, flags);
		sodp_queue_free_buf(buf, me);
		return -EINVAL;
	}
	first = q->to_dev ? q->index : sodp_queue_peer_index(q);
	for (i = 0; i < count; i++)
		memcpy(buf->data + ((size_t)i << q->log2_elem_size),
		       sodp_queue_elem(q, first + i),
		       1UL << q->log2_elem_size);
	buf->producer_index = count;
	buf->consumer_index = 0;
	old_buf = q->buf;
	old_me = q->mmap;
	q->buf = buf;
	q->buf_size = size;
	q->mmap = me;
	q->index_mask = slots - 1;
	q->index = q->to_dev ? 0 : count;
	spin_unlock_irqrestore(lock, flags);

	sodp_queue_free_buf(old_buf, old_me);
	*num_elem = slots - 1;
	return 0;
}

/* Empty a ring (QP reset).  The caller excludes both sides. */
void sodp_queue_reset(struct sodp_queue *q)
{
	q->index = 0;
	/* Both sides see empty rings only after the reset is done. */
	smp_store_release(&q->buf->producer_index, 0);
	/* Same for the consumer index. */
	smp_store_release(&q->buf->consumer_index, 0);
}

int sodp_mmap(struct ib_ucontext *uctx, struct vm_area_struct *vma)
{
	struct rdma_user_mmap_entry *entry;
	struct sodp_mmap_entry *me;
	int ret;

	entry = rdma_user_mmap_entry_get(uctx, vma);
	if (!entry)
		return -EINVAL;
	me = container_of(entry, struct sodp_mmap_entry, rdma);
	ret = remap_vmalloc_range(vma, me->buf, 0);
	rdma_user_mmap_entry_put(entry);
	return ret;
}

void sodp_mmap_free(struct rdma_user_mmap_entry *entry)
{
	struct sodp_mmap_entry *me =
		container_of(entry, struct sodp_mmap_entry, rdma);

	vfree(me->buf);
	kfree(me);
}
