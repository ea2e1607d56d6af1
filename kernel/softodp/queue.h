/* SPDX-License-Identifier: GPL-2.0 */
/*
 * softodp: rings shared with librxe (struct rxe_queue_buf layout).
 *
 * A ring has 2^n slots and holds at most 2^n - 1 elements (full when
 * producer + 1 == consumer, as librxe tests it).  Both indices always lie
 * in [0, index_mask].  The device side keeps its own index in
 * sodp_queue.index; the other side's index is read from the buffer,
 * masked, with acquire ordering.
 */
#ifndef SOFTODP_QUEUE_H
#define SOFTODP_QUEUE_H

#include "softodp.h"

int sodp_queue_init(struct sodp_queue *q, u32 *num_elem, size_t elem_size,
		    bool to_dev);
int sodp_queue_expose(struct sodp_queue *q, struct ib_ucontext *uctx,
		      struct mminfo *mi);
void sodp_queue_cleanup(struct sodp_queue *q);
int sodp_queue_resize(struct sodp_queue *q, u32 *num_elem,
		      struct ib_ucontext *uctx, struct mminfo *mi,
		      spinlock_t *lock);
void sodp_queue_reset(struct sodp_queue *q);

/* ib_device_ops.mmap and .mmap_free */
int sodp_mmap(struct ib_ucontext *uctx, struct vm_area_struct *vma);
void sodp_mmap_free(struct rdma_user_mmap_entry *entry);

/* Element @index (masked) of the ring. */
static inline void *sodp_queue_elem(struct sodp_queue *q, u32 index)
{
	return q->buf->data + ((size_t)(index & q->index_mask) <<
			       q->log2_elem_size);
}

/* The index owned by the other side (user space or kernel consumer). */
static inline u32 sodp_queue_peer_index(struct sodp_queue *q)
{
	u32 *p = q->to_dev ? &q->buf->producer_index : &q->buf->consumer_index;

	/* Pairs with the peer's release store: its element writes first. */
	return smp_load_acquire(p) & q->index_mask;
}

/* Number of elements in the ring, seen from the device. */
static inline u32 sodp_queue_count(struct sodp_queue *q)
{
	u32 peer = sodp_queue_peer_index(q);

	if (q->to_dev)
		return (peer - q->index) & q->index_mask;
	return (q->index - peer) & q->index_mask;
}

/* Device side: the element at the device's index. */
static inline void *sodp_queue_dev_elem(struct sodp_queue *q)
{
	return sodp_queue_elem(q, q->index);
}

/* Device side: consume (to_dev) or publish (CQ) one element. */
static inline void sodp_queue_dev_advance(struct sodp_queue *q)
{
	u32 *p = q->to_dev ? &q->buf->consumer_index : &q->buf->producer_index;

	q->index = (q->index + 1) & q->index_mask;
	/* Element reads (to_dev) or writes (CQ) complete before the index. */
	smp_store_release(p, q->index);
}

/*
 * Client side, for queues owned by in-kernel consumers only (never called
 * for rings mapped to user space): produce into a work queue, consume
 * from a completion queue.
 */
static inline u32 sodp_queue_client_index(struct sodp_queue *q)
{
	return q->to_dev ? q->buf->producer_index : q->buf->consumer_index;
}

static inline bool sodp_queue_client_full(struct sodp_queue *q)
{
	u32 next = (q->buf->producer_index + 1) & q->index_mask;

	/* Pairs with sodp_queue_dev_advance(): the slot is free to reuse. */
	return next == (smp_load_acquire(&q->buf->consumer_index) &
			q->index_mask);
}

static inline void sodp_queue_client_advance(struct sodp_queue *q)
{
	u32 *p = q->to_dev ? &q->buf->producer_index : &q->buf->consumer_index;

	/* Publishes the element written (WQ) or frees the slot read (CQ). */
	smp_store_release(p, (*p + 1) & q->index_mask);
}

#endif /* SOFTODP_QUEUE_H */
