/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Shared pieces of the verbs test programs (common.c): PASS/FAIL
 * reporting with a name filter, opening a device with its RoCEv2 GID,
 * one RC endpoint (PD, CQ, QP, optional SRQ, one buffer and its MR),
 * connecting two QPs, polling with a timeout, and simple posts.
 */
#ifndef SOFTODP_TESTS_COMMON_H
#define SOFTODP_TESTS_COMMON_H

#include <stddef.h>
#include <stdint.h>
#include <infiniband/verbs.h>

#define T_POLL_MS 20000

/* Every access right of a data MR. */
#define T_MR_ACCESS                                                                                \
	(IBV_ACCESS_LOCAL_WRITE | IBV_ACCESS_REMOTE_WRITE | IBV_ACCESS_REMOTE_READ |               \
	 IBV_ACCESS_REMOTE_ATOMIC)

#define T_RTR_MASK                                                                                 \
	(IBV_QP_STATE | IBV_QP_AV | IBV_QP_PATH_MTU | IBV_QP_DEST_QPN | IBV_QP_RQ_PSN |            \
	 IBV_QP_MAX_DEST_RD_ATOMIC | IBV_QP_MIN_RNR_TIMER)
#define T_RTS_MASK                                                                                 \
	(IBV_QP_STATE | IBV_QP_SQ_PSN | IBV_QP_TIMEOUT | IBV_QP_RETRY_CNT | IBV_QP_RNR_RETRY |     \
	 IBV_QP_MAX_QP_RD_ATOMIC)
#define T_INIT_MASK (IBV_QP_STATE | IBV_QP_PKEY_INDEX | IBV_QP_PORT | IBV_QP_ACCESS_FLAGS)

/* ---- reporting ---------------------------------------------------------- */

extern int t_passed, t_failed;

/* Select tests by comma-separated substrings (NULL: all). */
void t_set_filter(const char *filter);
int t_want(const char *name);
/* PASS @name, or FAIL @name with the printf-style reason. */
void t_result(int ok, const char *name, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* PASS @name. */
void t_pass(const char *name);
/* "N passed, N failed"; the exit status of the program. */
int t_summary(void);

/* ---- devices -------------------------------------------------------------- */

struct t_dev {
	const char *name;
	struct ibv_context *ctx;
	int gid_index;
	union ibv_gid gid;
	enum ibv_mtu active_mtu;
	int odp_ok; /* RC ODP with SEND/RECV/WRITE/READ/ATOMIC */
	int is_softodp;
	struct ibv_device_attr attr;
};

/*
 * Open @want (NULL: the first sodp* device) and find its IPv4-mapped
 * RoCEv2 GID, or with @use_v6 a global IPv6 one.  0 or -1.
 */
int t_open_dev(struct t_dev *d, const char *want, int use_v6);

/*
 * Parse the options every data test takes: -d DEV (default: the first
 * sodp* device), -D DEV2 (default: DEV, i.e. loopback), -m
 * pinned|odp|both, -f FILTER, -6 (IPv6 GIDs), -S (ODP memory only on
 * softodp devices: a stock peer that reports ODP keeps pinned memory, e.g.
 * rdma_rxe on 7.x, whose ODP WRITEs corrupt data), plus the program's own
 * options @more (getopt syntax) passed to @opt_cb (which returns nonzero
 * for a bad option).  Opens both devices and prints a "# ..." header.
 * Returns 0, or the exit status: 2 for a usage error, 1 without devices.
 */
int t_start(int argc, char **argv, const char *usage, const char *more,
	    int (*opt_cb)(int opt, const char *arg), struct t_dev devs[2]);
/* Whether -m asked for pinned (@odp 0) or ODP (@odp 1) memory. */
int t_mode(int odp);
/*
 * Run @fn(odp) for the memory kinds -m asked for, pinned first; ODP fails
 * (as the test "@what_odp") if either device reports no RC ODP.
 */
void t_each_mode(const struct t_dev devs[2], const char *what, void (*fn)(int odp));

/* ---- one RC endpoint ------------------------------------------------------ */

struct t_side {
	struct t_dev *dev;
	struct ibv_pd *pd;
	struct ibv_cq *cq;
	struct ibv_srq *srq;
	struct ibv_qp *qp;
	struct ibv_qp_cap cap; /* as returned by create_qp */
	uint8_t *buf;
	size_t len;
	int own_buf; /* buf was mmapped by t_side_init */
	struct ibv_mr *mr;
};

struct t_side_opts {
	size_t len;	  /* buffer size */
	void *buf;	  /* NULL: an anonymous mapping of @len */
	int access;	  /* MR access; 0: T_MR_ACCESS */
	int odp;	  /* register with IBV_ACCESS_ON_DEMAND if the device can */
	int no_touch;	  /* do not write the buffer before registering */
	int srq;	  /* receive from an SRQ */
	int no_mr;	  /* no MR */
	uint32_t max_sge; /* send/recv SGEs (0: 4) */
};

int t_side_init(struct t_side *s, struct t_dev *d, const struct t_side_opts *o);
/*
 * An RC QP of @pd using @cq for both queues (and @srq if not NULL), with
 * @wr work requests and @sge SGEs per queue and 128 bytes of inline data;
 * the capabilities granted in @cap if not NULL.  NULL with errno set.
 */
struct ibv_qp *t_create_rc_qp(struct ibv_pd *pd, struct ibv_cq *cq, struct ibv_srq *srq,
			      uint32_t wr, uint32_t sge, struct ibv_qp_cap *cap);
void t_side_fini(struct t_side *s);

/* RESET -> INIT with every remote access right. */
int t_qp_init(struct ibv_qp *qp);
/* The RTR attributes towards @peer's QP @dqpn. */
void t_rtr_attr(struct ibv_qp_attr *a, const struct t_dev *self, const struct t_dev *peer,
		uint32_t dqpn, enum ibv_mtu mtu);
/* The RTS attributes. */
void t_rts_attr(struct ibv_qp_attr *a, int rnr_retry);
/* RESET -> INIT -> RTR -> RTS towards @peer with path MTU @mtu. */
int t_qp_connect(struct t_side *s, struct t_side *peer, enum ibv_mtu mtu, int rnr_retry);
/*
 * The same for a bare @qp: source GID @sgid_index, the peer QP @dqpn at
 * @dgid.  0 or an errno.
 */
int t_connect_qp(struct ibv_qp *qp, int sgid_index, const union ibv_gid *dgid, uint32_t dqpn,
		 enum ibv_mtu mtu, int rnr_retry);
/* The smaller active MTU of two ports. */
enum ibv_mtu t_min_mtu(const struct t_dev *x, const struct t_dev *y);

/* A requester on devs[0] and a responder on devs[1], connected. */
struct t_pair {
	struct t_side a; /* requester */
	struct t_side b; /* responder */
};

/*
 * Both sides with options @oa and @ob, connected with path MTU @mtu (0:
 * the smaller active MTU) and @rnr_retry; stale async events dropped.
 * 0 or -1 (errno set); t_pair_fini() cleans up either way.
 */
int t_pair_init(struct t_pair *p, struct t_dev devs[2], const struct t_side_opts *oa,
		const struct t_side_opts *ob, enum ibv_mtu mtu, int rnr_retry);
void t_pair_fini(struct t_pair *p);
/* "pinned" or "odp", for test names. */
const char *t_mem_name(int odp);
/* The current state of @qp, or -1. */
int t_qp_state(struct ibv_qp *qp);

/* ---- posting and polling -------------------------------------------------- */

/* One completion within @ms; 0 or -1. */
int t_poll_one(struct ibv_cq *cq, struct ibv_wc *wc, int ms);
/* 0 if no completion arrives within @ms. */
int t_poll_none(struct ibv_cq *cq, int ms);
/*
 * Poll one completion of @s and compare wr_id, status and (for success
 * and @opcode >= 0) the opcode; on a mismatch FAIL @name.  0 or -1.
 */
int t_expect_wc(struct t_side *s, const char *name, const char *who, uint64_t id,
		enum ibv_wc_status st, int opcode);
/*
 * Poll one receive completion of @s into @wc: wr_id @id, success, opcode
 * RECV and @len bytes, or FAIL @name.  0 or -1.
 */
int t_expect_recv(struct t_side *s, const char *name, uint64_t id, uint32_t len, struct ibv_wc *wc);
/* A receive of @len bytes at @off of the side's buffer (QP or SRQ). */
int t_post_recv(struct t_side *s, uint64_t id, size_t off, uint32_t len);
/*
 * A signaled work request with one SGE (@len bytes at @off of the
 * buffer, no SGE when @len is 0) to @raddr/@rkey.
 */
int t_post_one(struct t_side *s, uint64_t id, enum ibv_wr_opcode op, size_t off, uint32_t len,
	       uint64_t raddr, uint32_t rkey);
/* A signaled atomic: 8 bytes at @off of the buffer. */
int t_post_atomic(struct t_side *s, uint64_t id, enum ibv_wr_opcode op, size_t off, uint64_t raddr,
		  uint32_t rkey, uint64_t compare_add, uint64_t swap);

/* ---- misc ----------------------------------------------------------------- */

void t_fill(uint8_t *p, size_t n, unsigned int seed);
/* Offset of the first byte where @a and @b differ, or -1. */
long t_diff(const uint8_t *a, const uint8_t *b, size_t n);
double t_now_ms(void);
/* Bytes of IBV_MTU_* @mtu. */
int t_mtu_bytes(enum ibv_mtu mtu);
/* Port 1 hw counter @name of @dev; -1 if unreadable. */
long long t_hw_counter(const char *dev, const char *name);
/*
 * The same without waiting for ib_core's 10 ms counter cache to expire:
 * call t_hw_counters_settle() once before a batch of these.
 */
long long t_hw_counter_cached(const char *dev, const char *name);
void t_hw_counters_settle(void);
/*
 * The next async event of @ctx within @ms (acknowledged): its type, and
 * its QP in @qp for QP events; -1 if none came.
 */
int t_async_event(struct ibv_context *ctx, int ms, struct ibv_qp **qp);
/* Drop the async events already queued on @ctx. */
void t_async_drain(struct ibv_context *ctx);

#endif /* SOFTODP_TESTS_COMMON_H */
