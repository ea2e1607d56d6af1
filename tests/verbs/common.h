/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The one library of the verbs test programs in tests/verbs and of
 * tests/bench/odp_micro (common.c): PASS/FAIL/SKIP reporting with a name
 * filter and the exit statuses of tests/lib/t_status.h, opening a device
 * with its RoCEv2 GID, one RC endpoint (PD, CQ, QP, optional SRQ, one
 * buffer and its MR), a connected pair of endpoints on two devices or in
 * loopback on one, polling with a timeout, simple posts, advise_mr, and
 * the counters: per device (sysfs hw_counters) and per MR (`rdma resource
 * show mr`, `rdma statistic show mr`).
 */
#ifndef SOFTODP_TESTS_COMMON_H
#define SOFTODP_TESTS_COMMON_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <infiniband/verbs.h>
#include <rdma/ib_user_verbs.h>

#include "../lib/t_status.h"

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
/* UC QPs: no responder resources, RNR, ACK timeout or retries. */
#define T_UC_RTR_MASK (IBV_QP_STATE | IBV_QP_AV | IBV_QP_PATH_MTU | IBV_QP_DEST_QPN | IBV_QP_RQ_PSN)
#define T_UC_RTS_MASK (IBV_QP_STATE | IBV_QP_SQ_PSN)

/* ---- reporting ---------------------------------------------------------- */

extern int t_passed, t_failed, t_skipped;

/* Select tests by comma-separated substrings (NULL: all). */
void t_set_filter(const char *filter);
int t_want(const char *name);
/* PASS @name, or FAIL @name with the printf-style reason. */
void t_result(int ok, const char *name, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
void t_vresult(int ok, const char *name, const char *fmt, va_list ap)
	__attribute__((format(printf, 3, 0)));
/* PASS @name. */
void t_pass(const char *name);
/*
 * SKIP @name with the printf-style reason: only for a missing precondition
 * of the machine (the suites fail a test that is expected to run and skips).
 */
void t_skip(const char *name, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/*
 * "N passed, N failed" (", N skipped" if any); the exit status of the
 * program: T_EXIT_FAIL if a test failed or none ran, T_EXIT_SKIP if every
 * test skipped, else T_EXIT_PASS.
 */
int t_summary(void);

/* PASS or FAIL @name as @cond says; the test goes on. */
#define T_CHECK(cond, name, ...) t_result(!!(cond), name, __VA_ARGS__)
/*
 * In a test function returning void: unless @cond, FAIL @name with the
 * printf-style reason and return (the functions named after their test
 * pass __func__ and end with t_pass(__func__)).
 */
#define T_REQUIRE(cond, name, ...)                                                                 \
	do {                                                                                       \
		if (!(cond)) {                                                                     \
			t_result(0, name, __VA_ARGS__);                                            \
			return;                                                                    \
		}                                                                                  \
	} while (0)

/* ---- devices -------------------------------------------------------------- */

struct t_dev {
	const char *name;
	struct ibv_context *ctx;
	int gid_index;
	union ibv_gid gid;
	enum ibv_mtu active_mtu;
	int odp_ok;	      /* RC ODP with SEND/RECV/WRITE/READ/ATOMIC */
	uint32_t rc_odp_caps; /* IBV_ODP_SUPPORT_* for RC; 0 without ODP */
	int is_softodp;
	struct ibv_device_attr attr;
};

/*
 * Open @want (NULL: the first sodp* device) and find its IPv4-mapped
 * RoCEv2 GID, or with @use_v6 a global IPv6 one.  0 or -1.
 */
int t_open_dev(struct t_dev *d, const char *want, int use_v6);
void t_close_dev(struct t_dev *d);

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
/*
 * The whole main() of a data test without options of its own: t_start(),
 * then @once() if not NULL, then t_each_mode(@what, @fn); the exit status.
 */
int t_main(int argc, char **argv, const char *usage, struct t_dev devs[2], void (*once)(void),
	   const char *what, void (*fn)(int odp));

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
	int own_pd;  /* pd was allocated by t_side_init */
	uint8_t timeout;
	struct ibv_mr *mr;
};

struct t_side_opts {
	size_t len;	   /* buffer size */
	void *buf;	   /* NULL: an anonymous mapping of @len */
	int access;	   /* MR access; 0: T_MR_ACCESS */
	int odp;	   /* register with IBV_ACCESS_ON_DEMAND if the device can */
	int no_touch;	   /* do not write the buffer before registering */
	int srq;	   /* receive from an SRQ */
	int no_mr;	   /* no MR */
	uint32_t max_sge;  /* send/recv SGEs (0: 4) */
	struct ibv_pd *pd; /* use this PD (kept by t_side_fini); NULL: a new one */
	uint8_t timeout;   /* local ACK timeout of the QP (0: 14, about 67 ms) */
	int uc;		   /* an unreliable connected QP instead of RC */
};

int t_side_init(struct t_side *s, struct t_dev *d, const struct t_side_opts *o);
/*
 * A QP of @type in @pd using @cq for both queues (and @srq if not NULL)
 * with the capabilities @want; those granted in @got if not NULL (it may
 * be @want).  NULL with errno set.
 */
struct ibv_qp *t_create_qp(struct ibv_pd *pd, enum ibv_qp_type type, struct ibv_cq *cq,
			   struct ibv_srq *srq, const struct ibv_qp_cap *want,
			   struct ibv_qp_cap *got);
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
/*
 * RESET -> INIT -> RTR -> RTS towards @peer with path MTU @mtu (and the
 * local ACK timeout of @s's options); RC or UC, as the QP is.
 */
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
/*
 * The loopback pair: both sides on @d with options @o (usually a shared
 * PD in o->pd and no buffer), connected to each other; as t_pair_init.
 */
int t_pair_loop(struct t_pair *p, struct t_dev *d, const struct t_side_opts *o, enum ibv_mtu mtu,
		int rnr_retry);
void t_pair_fini(struct t_pair *p);
/* "pinned" or "odp", for test names. */
const char *t_mem_name(int odp);
/* The current state of @qp, or -1. */
int t_qp_state(struct ibv_qp *qp);

/* ---- posting and polling -------------------------------------------------- */

/*
 * Poll without sleeping between empty polls (benchmarks); the default is
 * to sleep 100 us.
 */
void t_set_busy_poll(int on);
/*
 * One completion of @cq within @ms, into @wc: its status (>= 0, so 0 is
 * IBV_WC_SUCCESS), or -ETIMEDOUT, or -EIO if polling failed.
 */
int t_wait_wc(struct ibv_cq *cq, struct ibv_wc *wc, int ms);
/* One completion within @ms; 0 or -1. */
int t_poll_one(struct ibv_cq *cq, struct ibv_wc *wc, int ms);
/* Up to @want completions within @ms into @wc[]: how many came, or < 0. */
int t_poll_n(struct ibv_cq *cq, struct ibv_wc *wc, int want, int ms);
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
/*
 * t_post_one() with immediate data @imm (host order; for the _WITH_IMM
 * opcodes).
 */
int t_post_imm(struct t_side *s, uint64_t id, enum ibv_wr_opcode op, size_t off, uint32_t len,
	       uint64_t raddr, uint32_t rkey, uint32_t imm);
/*
 * A signaled send work request @op on @qp with one SGE (@len bytes at
 * @local, lkey @lkey; none when @len is 0) to @raddr/@rkey, with
 * @compare_add/@swap for the atomics.  0 or the errno of ibv_post_send.
 */
int t_post_wr(struct ibv_qp *qp, uint64_t id, enum ibv_wr_opcode op, void *local, uint32_t len,
	      uint32_t lkey, uint64_t raddr, uint32_t rkey, uint64_t compare_add, uint64_t swap);
/*
 * t_post_wr() on @s's QP, then its completion on @s's CQ within T_POLL_MS:
 * the status (>= 0) or a negative errno.
 */
int t_xfer(struct t_side *s, enum ibv_wr_opcode op, void *local, uint32_t len, uint32_t lkey,
	   uint64_t raddr, uint32_t rkey, uint64_t compare_add, uint64_t swap);

/* ---- ODP: advise_mr and counters ------------------------------------------- */

/*
 * The uverbs ADVISE_MR method with the SGEs @sge[@n], issued as an ioctl
 * on the context's command fd: the stock librxe of rdma-core 44 has no
 * advise_mr op, so ibv_advise_mr() would stop in userspace with
 * EOPNOTSUPP.  0 or the errno of the ioctl.
 */
int t_advise_mr(struct ibv_pd *pd, uint32_t advice, uint32_t flags, struct ib_uverbs_sge *sge,
		unsigned int n);
/*
 * ibv_rereg_mr(), or where the provider has no rereg_mr (the stock librxe
 * of rdma-core 44 answers EOPNOTSUPP without asking the kernel) the
 * uverbs REREG_MR command written to the context's command fd, with @mr's
 * keys, PD and range updated as libibverbs would (*@raw set).  0 or an
 * errno.
 */
int t_rereg_mr(struct ibv_mr *mr, int flags, struct ibv_pd *pd, void *addr, size_t len, int access,
	       int *raw);
/* The same for the one range @addr/@len of the MR with @lkey. */
int t_advise(struct ibv_pd *pd, uint32_t advice, uint32_t flags, void *addr, size_t len,
	     uint32_t lkey);
/*
 * Attribute @name of the MR with @lkey on device @dev as the driver shows
 * it in `rdma resource show mr -dd` (per-MR ODP counters and
 * odp_kmem_bytes, with a "drv_" prefix there); -1 if not found.
 */
long long t_mr_attr(const char *dev, uint32_t lkey, const char *name);
/*
 * Counter @name of the MR with @lkey on device @dev the way users read it:
 * its id from `rdma resource show mr`, then `rdma statistic show mr`; -1
 * if not found.
 */
long long t_mr_counter(const char *dev, uint32_t lkey, const char *name);

/* ---- misc ----------------------------------------------------------------- */

/* A pseudo-random pattern of @n bytes at @buf, one per @seed. */
void t_fill(void *buf, size_t n, unsigned int seed);
/* Whether @buf holds what t_fill(@buf, @n, @seed) wrote. */
int t_is_fill(const void *buf, size_t n, unsigned int seed);
/* An anonymous private read-write mapping of @len bytes, or NULL. */
void *t_map(size_t len);
/* The same for @n pages. */
void *t_map_pages(size_t n); /* Offset of the first byte where @a and @b differ, or -1. */
long t_diff(const uint8_t *a, const uint8_t *b, size_t n);
double t_now_ms(void);
/* Bytes of IBV_MTU_* @mtu. */
int t_mtu_bytes(enum ibv_mtu mtu);
/* Port 1 hw counter @name of @dev, current; -1 if unreadable. */
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
