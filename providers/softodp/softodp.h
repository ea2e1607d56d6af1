/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * softodp libibverbs provider: objects and the shared rings.
 *
 * The kernel module speaks the rdma_rxe uverbs ABI (<rdma/rdma_user_rxe.h>):
 * each CQ, send queue, receive queue and SRQ is a ring (struct
 * rxe_queue_buf) mapped from the command fd, with a producer and a consumer
 * index.  For send and receive rings this library produces and the kernel
 * consumes; for CQs the kernel produces and this library consumes.
 */
#ifndef SOFTODP_PROVIDER_H
#define SOFTODP_PROVIDER_H

#include <pthread.h>
#include <stdatomic.h>
#include <rdma/rdma_user_rxe.h>

/* The private-ABI header of the installed libibverbs (CMake picks it). */
#include SODP_PABI_HEADER

/* The sysfs fw_ver of a softodp device starts with this (rdma_rxe: empty). */
#define SODP_FW_PREFIX "softodp "

struct sodp_device {
	struct pabi_device vdev;
	char fw[64];
};

struct sodp_context {
	struct verbs_context vctx;
};

/* A mapped ring and the lock of the side this library owns. */
struct sodp_ring {
	struct rxe_queue_buf *buf;
	struct mminfo mi;
	pthread_spinlock_t lock;
};

struct sodp_cq {
	struct pabi_cq vcq;
	struct sodp_ring ring;
	/* Extended polling: the element being read and its index. */
	struct ib_uverbs_wc *cur;
	uint32_t cur_index;
};

struct sodp_wq {
	struct sodp_ring ring;
	unsigned int max_sge;
	unsigned int max_inline;
};

struct sodp_qp {
	struct pabi_qp vqp;
	struct sodp_wq sq;
	struct sodp_wq rq; /* unused with an SRQ */
	uint32_t ssn;
	/* ibv_wr_*(): the next slot and the first error of the batch. */
	uint32_t wr_index;
	uint32_t wr_count;
	int wr_err;
};

struct sodp_srq {
	struct pabi_srq vsrq;
	struct sodp_wq rq;
};

struct sodp_ah {
	struct ibv_ah ibah;
	uint32_t ah_num;  /* the kernel's AH index (0: none, use av) */
	struct rxe_av av; /* for kernels that return no index */
};

/*
 * A response as the kernel writes it: the core response, then the rxe
 * driver's part right after it (no padding between them).
 */
#define SODP_RESP(name, core_t, drv_t)                                                             \
	struct name {                                                                              \
		struct core_t core;                                                                \
		struct drv_t drv;                                                                  \
	};                                                                                         \
	static_assert(offsetof(struct name, drv) == sizeof(struct core_t), #name " layout")

#define sodp_container(ptr, type, member) ((type *)((char *)(ptr)-offsetof(type, member)))

static inline struct sodp_device *to_sdev(struct ibv_device *d)
{
	return sodp_container(d, struct sodp_device, vdev.device);
}

static inline struct sodp_cq *to_scq(struct ibv_cq *cq)
{
	return sodp_container(cq, struct sodp_cq, vcq.cq);
}

static inline struct sodp_cq *ex_to_scq(struct ibv_cq_ex *cq)
{
	return sodp_container(cq, struct sodp_cq, vcq.cq_ex);
}

static inline struct sodp_qp *to_sqp(struct ibv_qp *qp)
{
	return sodp_container(qp, struct sodp_qp, vqp.qp);
}

static inline struct sodp_qp *ex_to_sqp(struct ibv_qp_ex *qp)
{
	return sodp_container(qp, struct sodp_qp, vqp.qp_ex);
}

static inline struct sodp_srq *to_ssrq(struct ibv_srq *srq)
{
	return sodp_container(srq, struct sodp_srq, vsrq.srq);
}

static inline struct sodp_ah *to_sah(struct ibv_ah *ah)
{
	return sodp_container(ah, struct sodp_ah, ibah);
}

/* ---- ring indices ----------------------------------------------------------
 * The owner of an index is its only writer; it publishes with release
 * ordering after writing (producer) or reading (consumer) the elements, and
 * the other side loads it with acquire ordering.
 */
static inline _Atomic(uint32_t) *ring_prod(struct rxe_queue_buf *b)
{
	return (_Atomic(uint32_t) *)&b->producer_index;
}

static inline _Atomic(uint32_t) *ring_cons(struct rxe_queue_buf *b)
{
	return (_Atomic(uint32_t) *)&b->consumer_index;
}

static inline void *ring_elem(struct rxe_queue_buf *b, uint32_t index)
{
	return b->data + ((size_t)(index & b->index_mask) << b->log2_elem_size);
}

static inline uint32_t ring_next(struct rxe_queue_buf *b, uint32_t index)
{
	return (index + 1) & b->index_mask;
}

/* Producer side: whether slot @index is the one before the consumer. */
static inline int ring_full_at(struct rxe_queue_buf *b, uint32_t index)
{
	uint32_t cons = atomic_load_explicit(ring_cons(b), memory_order_acquire);

	return ring_next(b, index) == cons;
}

/* Consumer side: whether @index has caught up with the producer. */
static inline int ring_empty_at(struct rxe_queue_buf *b, uint32_t index)
{
	return index == atomic_load_explicit(ring_prod(b), memory_order_acquire);
}

#endif /* SOFTODP_PROVIDER_H */
