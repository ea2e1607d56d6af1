// SPDX-License-Identifier: GPL-2.0
/*
 * Verbs parity with stock rdma_rxe (issue 14).  The same program runs on a
 * softodp device and on a stock rdma_rxe device in the same VM; besides
 * its PASS/FAIL checks (data compared byte for byte) it prints one line
 *
 *   OUT <name> <outcome>
 *
 * per errno or completion status that must be the same on both, which
 * the suite (tests/vm/suites/parity) compares between the two runs.
 * Outcomes where softodp deliberately does more than rxe are printed as
 * "NOTE <name> <outcome>" and not compared.
 *
 * Tests (-f filter):
 *   access_*    qp_access_flags with MR-only bits (IBV_ACCESS_ON_DEMAND ...)
 *               accepted on modify_qp; the remote bits still enforced
 *   bad_*       bad-flow conformance: RAW_PACKET and oversized QPs, posts
 *               in the wrong state, queue overflow, too many SGEs or too
 *               much inline data, a SEND larger than the receive buffer
 *   rereg_*     ibv_rereg_mr: access, PD and translation changes, pinned
 *               and ODP (an ODP MR whose range changes)
 *   uc_*        UC QPs: SEND, SEND with immediate, WRITE, WRITE with
 *               immediate, byte-checked; a message without a receive WQE
 *               or to a bad rkey is dropped silently and the QP carries on
 *   uc_loss     (-l N) N multi-packet SENDs over a lossy link: every
 *               message that arrives is intact, none arrives twice
 *   cq_resize   ibv_resize_cq: sizes reported, a resize below the held
 *               completions refused, held completions kept in order
 *   atomic_write_*  RDMA ATOMIC_WRITE (ibv_wr_atomic_write) where the
 *               responder reports the capability (softodp always): the
 *               8 bytes stored whole, misaligned and bad-rkey requests
 *   mw_*        memory windows: the device caps; type 1 (ibv_bind_mw) and
 *               type 2 (ibv_wr_bind_mw) bound on the responder, WRITE and
 *               READ through the window's rkey (bytes checked), rebind
 *               with the next key and unbind, accesses outside the MR or
 *               beyond the window's rights, binds the MR refuses (no
 *               MW_BIND, remote write without local write, range beyond
 *               the MR: MW_BIND_ERR), LOCAL_INV (type 2; refused for type
 *               1) and SEND with invalidate, dealloc, dereg of an MR with
 *               a bound window (EINVAL).  An access outside the window but
 *               inside the MR is a NOTE: softodp refuses it, stock rxe
 *               checks only the MR's range
 *   flush_*     RDMA FLUSH (ibv_wr_flush, rdma-core 45+: built where the
 *               headers have it): the capability bits, registration with
 *               FLUSH_GLOBAL (works) and FLUSH_PERSISTENT (refused on
 *               ordinary memory), WRITE then FLUSH of the range, of the
 *               whole region and of an empty range (IBV_WC_FLUSH, data in
 *               place, ODP untouched before), and the refusals: region
 *               without the right, range past the region, bad rkey,
 *               persistence, QP without FLUSH in its access flags
 */
#define _GNU_SOURCE
#include <endian.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "common.h"

static const char usage[] =
	"parity [-d DEV] [-D DEV2] [-m pinned|odp|both] [-f FILTER] [-6] [-S] [-l N]";

static struct t_dev devs[2];
static int loss_msgs;

static void out(const char *name, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void out(const char *name, const char *fmt, ...)
{
	va_list ap;

	printf("OUT %s ", name);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
}

static const char *wc_str(int st)
{
	if (st == -ETIMEDOUT)
		return "no-completion";
	if (st < 0)
		return "poll-error";
	return ibv_wc_status_str(st);
}

static const char *err_str(int e)
{
	static char buf[32];

	switch (e) {
	case 0:
		return "ok";
	case EINVAL:
		return "EINVAL";
	case ENOMEM:
		return "ENOMEM";
	case EOPNOTSUPP:
		return "EOPNOTSUPP";
	case EPERM:
		return "EPERM";
	case EACCES:
		return "EACCES";
	case EFAULT:
		return "EFAULT";
	case ENOSYS:
		return "ENOSYS";
	default:
		snprintf(buf, sizeof(buf), "errno%d", e);
		return buf;
	}
}

/* ---- access flags ---------------------------------------------------------- */

static const struct {
	const char *name;
	unsigned int flags;
} access_sets[] = {
	{"remote", T_MR_ACCESS},
	{"on_demand", T_MR_ACCESS | IBV_ACCESS_ON_DEMAND},
	{"local_write_odp", IBV_ACCESS_LOCAL_WRITE | IBV_ACCESS_ON_DEMAND},
	{"zero_based", T_MR_ACCESS | IBV_ACCESS_ZERO_BASED},
	{"mw_bind", T_MR_ACCESS | IBV_ACCESS_MW_BIND},
	{"hugetlb", T_MR_ACCESS | IBV_ACCESS_HUGETLB},
	{"relaxed", T_MR_ACCESS | IBV_ACCESS_RELAXED_ORDERING},
	{"flush", T_MR_ACCESS | (3u << 8)}, /* IB_UVERBS_ACCESS_FLUSH_GLOBAL|PERSISTENT */
	{"atomic_write", T_MR_ACCESS | IBV_ACCESS_REMOTE_ATOMIC},
	{"optional_bit", T_MR_ACCESS | (1u << 28)},
	{"unknown_bit", T_MR_ACCESS | (1u << 30)},
};

static void test_access_flags(void)
{
	struct ibv_pd *pd = ibv_alloc_pd(devs[0].ctx);
	struct ibv_cq *cq = pd ? ibv_create_cq(devs[0].ctx, 16, NULL, NULL, 0) : NULL;
	struct ibv_qp_cap cap = {1, 1, 1, 1, 0};
	char name[64];
	size_t i;
	int t;

	if (!t_want("access_flags"))
		goto out;
	T_REQUIRE(cq, "access_flags", "setup: errno %d", errno);
	for (t = 0; t < 2; t++) {
		for (i = 0; i < sizeof(access_sets) / sizeof(access_sets[0]); i++) {
			struct ibv_qp *qp =
				t_create_qp(pd, t ? IBV_QPT_UC : IBV_QPT_RC, cq, NULL, &cap, NULL);
			struct ibv_qp_attr a = {
				.qp_state = IBV_QPS_INIT,
				.port_num = 1,
				.qp_access_flags = access_sets[i].flags,
			};
			struct ibv_qp_init_attr ia;
			int ret;

			snprintf(name, sizeof(name), "access_%s_%s", t ? "uc" : "rc",
				 access_sets[i].name);
			if (!qp) {
				out(name, "create %s", err_str(errno));
				continue;
			}
			ret = ibv_modify_qp(qp, &a, T_INIT_MASK);
			out(name, "%s", err_str(ret));
			if (!ret) {
				/* The remote bits at least are kept. */
				memset(&a, 0, sizeof(a));
				ret = ibv_query_qp(qp, &a, IBV_QP_ACCESS_FLAGS | IBV_QP_STATE, &ia);
				T_CHECK(!ret && a.qp_state == IBV_QPS_INIT &&
						(a.qp_access_flags &
						 (access_sets[i].flags &
						  (IBV_ACCESS_REMOTE_WRITE |
						   IBV_ACCESS_REMOTE_READ |
						   IBV_ACCESS_REMOTE_ATOMIC))) ==
							(access_sets[i].flags &
							 (IBV_ACCESS_REMOTE_WRITE |
							  IBV_ACCESS_REMOTE_READ |
							  IBV_ACCESS_REMOTE_ATOMIC)),
					name, "query: ret %d state %d flags 0x%x", ret, a.qp_state,
					a.qp_access_flags);
			}
			ibv_destroy_qp(qp);
		}
	}
out:
	if (cq)
		ibv_destroy_cq(cq);
	if (pd)
		ibv_dealloc_pd(pd);
}

static int set_access(struct ibv_qp *qp, unsigned int flags)
{
	struct ibv_qp_attr a = {.qp_access_flags = flags};

	return ibv_modify_qp(qp, &a, IBV_QP_ACCESS_FLAGS);
}

static int pair(struct t_pair *p, int odp, int uc, size_t len)
{
	struct t_side_opts o = {.len = len, .odp = odp, .uc = uc};

	return t_pair_init(p, devs, &o, &o, 0, 7);
}

/* RTS -> RTS with ON_DEMAND in the QP flags: data still moves both ways. */
static void access_data(int odp)
{
	char name[64];
	struct t_pair p;
	size_t len = 3 * 4096 + 100;
	int st;

	snprintf(name, sizeof(name), "access_data_%s", t_mem_name(odp));
	if (!t_want(name))
		return;
	if (pair(&p, odp, 0, 2 * len)) {
		t_result(0, name, "pair: errno %d", errno);
		goto out;
	}
	st = set_access(p.a.qp, T_MR_ACCESS | IBV_ACCESS_ON_DEMAND);
	out("access_rts_on_demand", "%s", err_str(st));
	st = set_access(p.b.qp, T_MR_ACCESS | IBV_ACCESS_ON_DEMAND | IBV_ACCESS_RELAXED_ORDERING);
	if (st) {
		t_result(0, name, "modify: %s", err_str(st));
		goto out;
	}
	t_fill(p.a.buf, len, 11);
	st = t_xfer(&p.a, IBV_WR_RDMA_WRITE, p.a.buf, len, p.a.mr->lkey, (uintptr_t)p.b.buf,
		    p.b.mr->rkey, 0, 0);
	if (st != IBV_WC_SUCCESS || !t_is_fill(p.b.buf, len, 11)) {
		t_result(0, name, "WRITE: %s, data %s", wc_str(st),
			 t_is_fill(p.b.buf, len, 11) ? "ok" : "differs");
		goto out;
	}
	st = t_xfer(&p.a, IBV_WR_RDMA_READ, p.a.buf + len, len, p.a.mr->lkey, (uintptr_t)p.b.buf,
		    p.b.mr->rkey, 0, 0);
	T_CHECK(st == IBV_WC_SUCCESS && t_is_fill(p.a.buf + len, len, 11), name, "READ: %s",
		wc_str(st));
out:
	t_pair_fini(&p);
}

/* The QP's remote rights are still what counts: no REMOTE_WRITE, no WRITE. */
static void access_enforced(int odp)
{
	struct ibv_wc wc;
	struct t_pair p;
	int st;

	if (!t_want("access_enforced"))
		return;
	if (pair(&p, odp, 0, 4096)) {
		t_result(0, "access_enforced", "pair: errno %d", errno);
		goto out;
	}
	set_access(p.b.qp, IBV_ACCESS_LOCAL_WRITE | IBV_ACCESS_ON_DEMAND | IBV_ACCESS_REMOTE_READ);
	memset(p.b.buf, 0x5a, 64);
	t_fill(p.a.buf, 64, 3);
	st = t_xfer(&p.a, IBV_WR_RDMA_WRITE, p.a.buf, 64, p.a.mr->lkey, (uintptr_t)p.b.buf,
		    p.b.mr->rkey, 0, 0);
	out("access_enforced_write", "%s", wc_str(st));
	T_CHECK(st != IBV_WC_SUCCESS && p.b.buf[0] == 0x5a && p.b.buf[63] == 0x5a,
		"access_enforced", "WRITE %s, memory %s", wc_str(st),
		p.b.buf[0] == 0x5a ? "untouched" : "written");
	/* The responder's QP ends in ERR (and nothing more completes on it). */
	usleep(100000);
	out("access_enforced_responder_state", "%d", t_qp_state(p.b.qp));
	st = t_wait_wc(p.b.cq, &wc, 200);
	out("access_enforced_responder_wc", "%s", wc_str(st));
out:
	t_pair_fini(&p);
}

/* ---- bad flows --------------------------------------------------------------- */

static void bad_create(void)
{
	struct t_dev *d = &devs[0];
	struct ibv_pd *pd = ibv_alloc_pd(d->ctx);
	struct ibv_cq *cq = pd ? ibv_create_cq(d->ctx, 16, NULL, NULL, 0) : NULL;
	static const char *const names[] = {
		"send_wr",  "recv_wr",	  "send_sge", "recv_sge",    "inline",
		"zero_all", "raw_packet", "uc",	      "send_wr_max", "recv_sge_max",
	};
	size_t i;

	if (!t_want("bad_create"))
		goto out;
	T_REQUIRE(cq, "bad_create", "setup: errno %d", errno);
	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		struct ibv_qp_cap cap = {4, 4, 1, 1, 0};
		enum ibv_qp_type type = IBV_QPT_RC;
		struct ibv_qp *qp;
		char name[64];

		switch (i) {
		case 0:
			cap.max_send_wr = d->attr.max_qp_wr + 1;
			break;
		case 1:
			cap.max_recv_wr = d->attr.max_qp_wr + 1;
			break;
		case 2:
			cap.max_send_sge = d->attr.max_sge + 1;
			break;
		case 3:
			cap.max_recv_sge = d->attr.max_sge + 1;
			break;
		case 4:
			cap.max_inline_data = 1u << 20;
			break;
		case 5:
			memset(&cap, 0, sizeof(cap));
			break;
		case 6:
			type = IBV_QPT_RAW_PACKET;
			break;
		case 7:
			type = IBV_QPT_UC;
			break;
		case 8:
			cap.max_send_wr = d->attr.max_qp_wr;
			break;
		case 9:
			cap.max_recv_sge = d->attr.max_sge;
			break;
		}
		snprintf(name, sizeof(name), "bad_create_%s", names[i]);
		errno = 0;
		qp = t_create_qp(pd, type, cq, NULL, &cap, NULL);
		out(name, "%s", qp ? "ok" : err_str(errno));
		if (qp)
			ibv_destroy_qp(qp);
	}
	t_pass("bad_create");
out:
	if (cq)
		ibv_destroy_cq(cq);
	if (pd)
		ibv_dealloc_pd(pd);
}

static int post_send_sges(struct ibv_qp *qp, void *buf, uint32_t lkey, int nsge, int flags,
			  uint32_t len)
{
	struct ibv_sge sge[64];
	struct ibv_send_wr wr = {
		.wr_id = 77,
		.sg_list = sge,
		.num_sge = nsge,
		.opcode = IBV_WR_SEND,
		.send_flags = IBV_SEND_SIGNALED | flags,
	};
	struct ibv_send_wr *bad;
	int i;

	for (i = 0; i < nsge && i < 64; i++) {
		sge[i].addr = (uintptr_t)buf;
		sge[i].length = len;
		sge[i].lkey = lkey;
	}
	return ibv_post_send(qp, &wr, &bad);
}

static int post_recv_sges(struct ibv_qp *qp, void *buf, uint32_t lkey, int nsge)
{
	struct ibv_sge sge[64];
	struct ibv_recv_wr wr = {.wr_id = 88, .sg_list = sge, .num_sge = nsge};
	struct ibv_recv_wr *bad;
	int i;

	for (i = 0; i < nsge && i < 64; i++) {
		sge[i].addr = (uintptr_t)buf;
		sge[i].length = 8;
		sge[i].lkey = lkey;
	}
	return ibv_post_recv(qp, &wr, &bad);
}

/* Whatever of a bare QP's objects exist, destroyed. */
static void bare_fini(struct ibv_qp *qp, struct ibv_mr *mr, struct ibv_cq *cq, struct ibv_pd *pd,
		      uint8_t *buf)
{
	if (qp)
		ibv_destroy_qp(qp);
	if (mr)
		ibv_dereg_mr(mr);
	if (cq)
		ibv_destroy_cq(cq);
	if (pd)
		ibv_dealloc_pd(pd);
	if (buf)
		munmap(buf, 4096);
}

/* Posting to a QP in RESET, INIT and RTR; receives until the RQ is full. */
static void bad_post_state(void)
{
	struct t_dev *d = &devs[0];
	struct ibv_qp_cap cap = {4, 4, 1, 1, 0}, got;
	struct ibv_pd *pd = ibv_alloc_pd(d->ctx);
	struct ibv_cq *cq = pd ? ibv_create_cq(d->ctx, 64, NULL, NULL, 0) : NULL;
	uint8_t *buf = t_map(4096);
	struct ibv_mr *mr = buf && pd ? ibv_reg_mr(pd, buf, 4096, T_MR_ACCESS) : NULL;
	struct ibv_qp_attr a;
	struct ibv_qp *qp = NULL;
	unsigned int n;
	int ret;

	if (!t_want("bad_post_state"))
		goto out;
	T_REQUIRE(mr, "bad_post_state", "setup: errno %d", errno);
	qp = t_create_qp(pd, IBV_QPT_RC, cq, NULL, &cap, &got);
	T_REQUIRE(qp, "bad_post_state", "create: errno %d", errno);
	out("bad_post_send_reset", "%s", err_str(post_send_sges(qp, buf, mr->lkey, 1, 0, 8)));
	out("bad_post_recv_reset", "%s", err_str(post_recv_sges(qp, buf, mr->lkey, 1)));
	ibv_destroy_qp(qp);

	qp = t_create_qp(pd, IBV_QPT_RC, cq, NULL, &cap, &got);
	T_REQUIRE(qp && !t_qp_init(qp), "bad_post_state", "init: errno %d", errno);
	out("bad_post_send_init", "%s", err_str(post_send_sges(qp, buf, mr->lkey, 1, 0, 8)));
	/* The RQ takes what it was created for, and not one more. */
	for (n = 0; n < 4 * got.max_recv_wr + 8; n++) {
		ret = post_recv_sges(qp, buf, mr->lkey, 1);
		if (ret)
			break;
	}
	out("bad_rq_overflow", "accepted=cap%+d %s", (int)n - (int)got.max_recv_wr, err_str(ret));
	T_CHECK(n >= got.max_recv_wr && ret, "bad_rq_overflow", "%u receives posted, cap %u", n,
		got.max_recv_wr);
	/* Too many SGEs for the RQ. */
	out("bad_recv_too_many_sge", "%s",
	    err_str(post_recv_sges(qp, buf, mr->lkey, got.max_recv_sge + 1)));
	t_rtr_attr(&a, d, d, qp->qp_num, IBV_MTU_1024);
	ret = ibv_modify_qp(qp, &a, T_RTR_MASK);
	T_REQUIRE(!ret, "bad_post_state", "rtr: %d", ret);
	out("bad_post_send_rtr", "%s", err_str(post_send_sges(qp, buf, mr->lkey, 1, 0, 8)));
	/* Into ERR: everything posted before completes flushed. */
	memset(&a, 0, sizeof(a));
	a.qp_state = IBV_QPS_ERR;
	ret = ibv_modify_qp(qp, &a, IBV_QP_STATE);
	T_REQUIRE(!ret, "bad_post_state", "err: %d", ret);
	{
		struct ibv_wc wc[64];
		int got_n = t_poll_n(cq, wc, 64, 500), i, flushed = 0, other = 0;

		for (i = 0; i < got_n; i++) {
			if (wc[i].status == IBV_WC_WR_FLUSH_ERR)
				flushed++;
			else
				other++;
		}
		out("bad_err_flush", "flushed=%d other=%d", flushed, other);
	}
	/* Posted in ERR: flushed too. */
	out("bad_post_send_err", "%s", err_str(post_send_sges(qp, buf, mr->lkey, 1, 0, 8)));
	{
		struct ibv_wc wc;

		ret = t_wait_wc(cq, &wc, 2000);
		out("bad_post_send_err_wc", "%s", wc_str(ret));
	}
	out("bad_post_recv_err", "%s", err_str(post_recv_sges(qp, buf, mr->lkey, 1)));
	{
		struct ibv_wc wc;

		ret = t_wait_wc(cq, &wc, 2000);
		/*
		 * Not compared: stock rxe flushes a receive posted through
		 * the mapped ring of a QP already in ERR only when something
		 * else wakes the QP - within the 2 s or not.  softodp watches
		 * the ring of a user QP in ERR and flushes it within a second.
		 */
		printf("NOTE bad_post_recv_err_wc %s\n", wc_str(ret));
		if (d->is_softodp && ret != IBV_WC_WR_FLUSH_ERR) {
			t_result(0, "bad_post_state", "a receive posted in ERR: %s, not flushed",
				 wc_str(ret));
			goto out;
		}
	}
	t_pass("bad_post_state");
out:
	bare_fini(qp, mr, cq, pd, buf);
}

/* The CQ of cq_resize: ten flushed receives (wr_id 100..109) waiting in it. */
static void cq_resize_body(struct t_dev *d, struct ibv_cq *cq, struct ibv_qp *qp, struct ibv_mr *mr,
			   uint8_t *buf)
{
	struct ibv_qp_attr a = {.qp_state = IBV_QPS_ERR};
	struct ibv_wc wc[16];
	int i, n, in_order = 1;

	out("cq_resize_create_16", "cqe=%d", cq->cqe);
	for (i = 0; i < 10; i++) {
		struct ibv_sge sge = {.addr = (uintptr_t)buf, .length = 8, .lkey = mr->lkey};
		struct ibv_recv_wr wr = {.wr_id = 100 + i, .sg_list = &sge, .num_sge = 1};
		struct ibv_recv_wr *bad;

		T_REQUIRE(!ibv_post_recv(qp, &wr, &bad), "cq_resize", "post_recv %d", i);
	}
	T_REQUIRE(!ibv_modify_qp(qp, &a, IBV_QP_STATE), "cq_resize", "err: errno %d", errno);
	/* The flush completions are made asynchronously: give them time. */
	usleep(500 * 1000);
	out("cq_resize_below_held", "%s cqe=%d", err_str(ibv_resize_cq(cq, 4)), cq->cqe);
	/* 8 < 10 held, though a ring rounded up for 8 entries would take 10. */
	out("cq_resize_below_held_fits", "%s cqe=%d", err_str(ibv_resize_cq(cq, 8)), cq->cqe);
	out("cq_resize_to_held", "%s cqe=%d", err_str(ibv_resize_cq(cq, 10)), cq->cqe);
	out("cq_resize_up", "%s cqe=%d", err_str(ibv_resize_cq(cq, 100)), cq->cqe);
	n = t_poll_n(cq, wc, 16, 2000);
	for (i = 0; i < n; i++)
		if (wc[i].wr_id != 100u + i || wc[i].status != IBV_WC_WR_FLUSH_ERR)
			in_order = 0;
	out("cq_resize_kept", "n=%d in_order=%d", n, in_order);
	T_CHECK(n == 10 && in_order, "cq_resize_kept", "%d completions, in order %d", n, in_order);
	out("cq_resize_down_empty", "%s cqe=%d", err_str(ibv_resize_cq(cq, 1)), cq->cqe);
	out("cq_resize_zero", "%s", err_str(ibv_resize_cq(cq, 0)));
	out("cq_resize_over_max", "%s", err_str(ibv_resize_cq(cq, d->attr.max_cqe + 1)));
	out("cq_resize_at_max", "%s", err_str(ibv_resize_cq(cq, d->attr.max_cqe)));
	t_pass("cq_resize");
}

/*
 * ibv_resize_cq: the size a CQ reports after create and each resize, a
 * resize below the completions it holds, and those completions kept, in
 * order, across resizes down to what it holds and up.
 */
static void cq_resize(void)
{
	struct t_dev *d = &devs[0];
	struct ibv_qp_cap cap = {4, 16, 1, 1, 0}, got;
	struct ibv_pd *pd = ibv_alloc_pd(d->ctx);
	struct ibv_cq *cq = pd ? ibv_create_cq(d->ctx, 16, NULL, NULL, 0) : NULL;
	uint8_t *buf = t_map(4096);
	struct ibv_mr *mr = buf && pd ? ibv_reg_mr(pd, buf, 4096, T_MR_ACCESS) : NULL;
	struct ibv_qp *qp = NULL;

	if (!t_want("cq_resize"))
		goto out;
	if (!mr) {
		t_result(0, "cq_resize", "setup: errno %d", errno);
		goto out;
	}
	qp = t_create_qp(pd, IBV_QPT_RC, cq, NULL, &cap, &got);
	if (!qp || t_qp_init(qp)) {
		t_result(0, "cq_resize", "qp: errno %d", errno);
		goto out;
	}
	cq_resize_body(d, cq, qp, mr, buf);
out:
	bare_fini(qp, mr, cq, pd, buf);
}

/*
 * The SQ of an RTS QP whose peer does not exist: its WQEs wait for ACKs
 * that never come, so the queue fills; then SGE and inline limits.
 */
static void bad_send_queue(void)
{
	struct t_dev *d = &devs[0];
	struct ibv_qp_cap cap = {4, 4, 2, 1, 64}, got;
	struct ibv_pd *pd = ibv_alloc_pd(d->ctx);
	struct ibv_cq *cq = pd ? ibv_create_cq(d->ctx, 64, NULL, NULL, 0) : NULL;
	uint8_t *buf = t_map(4096);
	struct ibv_mr *mr = buf && pd ? ibv_reg_mr(pd, buf, 4096, T_MR_ACCESS) : NULL;
	struct ibv_qp *qp = NULL;
	unsigned int n;
	int ret = 0;

	if (!t_want("bad_send_queue"))
		goto out;
	T_REQUIRE(mr, "bad_send_queue", "setup: errno %d", errno);
	qp = t_create_qp(pd, IBV_QPT_RC, cq, NULL, &cap, &got);
	T_REQUIRE(qp, "bad_send_queue", "create: errno %d", errno);
	ret = t_connect_qp(qp, d->gid_index, &d->gid, 0xfffff0, IBV_MTU_1024, 0);
	T_REQUIRE(!ret, "bad_send_queue", "connect: %d", ret);
	out("bad_send_too_many_sge", "%s",
	    err_str(post_send_sges(qp, buf, mr->lkey, got.max_send_sge + 1, 0, 8)));
	out("bad_send_inline_too_long", "%s",
	    err_str(post_send_sges(qp, buf, mr->lkey, 1, IBV_SEND_INLINE,
				   got.max_inline_data + 1)));
	for (n = 0; n < 4 * got.max_send_wr + 8; n++) {
		ret = post_send_sges(qp, buf, mr->lkey, 1, 0, 8);
		if (ret)
			break;
	}
	out("bad_sq_overflow", "accepted=cap%+d %s", (int)n - (int)got.max_send_wr, err_str(ret));
	T_CHECK(n >= got.max_send_wr && ret, "bad_sq_overflow", "%u sends posted, cap %u", n,
		got.max_send_wr);
	{
		struct ibv_wc wc[64];
		int got_n = t_poll_n(cq, wc, n, 20000), i, flushed = 0, retry = 0, other = 0;

		for (i = 0; i < got_n; i++) {
			if (wc[i].status == IBV_WC_WR_FLUSH_ERR)
				flushed++;
			else if (wc[i].status == IBV_WC_RETRY_EXC_ERR)
				retry++;
			else
				other++;
		}
		/*
		 * Not compared: stock rxe (6.12) never gives up on a peer QP
		 * that does not exist (no completion within 20 s); the spec
		 * wants the retry count exhausted, then the rest flushed.
		 */
		printf("NOTE bad_sq_no_peer retry_exceeded=%d flushed=%d other=%d\n", retry,
		       flushed, other);
	}
	t_pass("bad_send_queue");
out:
	bare_fini(qp, mr, cq, pd, buf);
}

/* A SEND longer than the receive buffer, RC and UC. */
static void bad_recv_too_small(int odp, int uc)
{
	char name[64];
	struct ibv_wc wc;
	struct t_pair p;
	int st;

	snprintf(name, sizeof(name), "bad_recv_too_small_%s_%s", uc ? "uc" : "rc", t_mem_name(odp));
	if (!t_want(name))
		return;
	if (pair(&p, odp, uc, 8192)) {
		t_result(0, name, "pair: errno %d", errno);
		goto out;
	}
	t_post_recv(&p.b, 1, 0, 100);
	t_fill(p.a.buf, 4000, 5);
	st = t_xfer(&p.a, IBV_WR_SEND, p.a.buf, 4000, p.a.mr->lkey, 0, 0, 0, 0);
	/*
	 * Statuses not compared: softodp follows the IBTA (receiver
	 * LOC_LEN_ERR; RC: NAK invalid request, REM_INV_REQ_ERR at the
	 * sender), rxe 6.12 reports LOC_QP_OP_ERR (and REM_OP_ERR).
	 */
	printf("NOTE %s sender=%s\n", name, wc_str(st));
	T_CHECK(uc ? st == IBV_WC_SUCCESS : st != IBV_WC_SUCCESS, name, "sender %s", wc_str(st));
	st = t_wait_wc(p.b.cq, &wc, 2000);
	printf("NOTE %s receiver=%s\n", name, wc_str(st));
	T_CHECK(st > IBV_WC_SUCCESS, name, "receiver %s", wc_str(st));
	usleep(100000);
	out(name, "states=%d/%d", t_qp_state(p.a.qp), t_qp_state(p.b.qp));
	t_pass(name);
out:
	t_pair_fini(&p);
}

static void test_bad(int odp)
{
	bad_recv_too_small(odp, 0);
	bad_recv_too_small(odp, 1);
}

/* ---- rereg_mr ---------------------------------------------------------------- */

static int rereg(struct ibv_mr *mr, int flags, struct ibv_pd *pd, void *addr, size_t len,
		 int access)
{
	int raw, ret = t_rereg_mr(mr, flags, pd, addr, len, access, &raw);

	if (raw)
		printf("# rereg_mr: the provider has none, uverbs command used\n");
	return ret;
}

static void rereg_one(int odp, const char *what)
{
	int base = T_MR_ACCESS | (odp && devs[1].odp_ok ? IBV_ACCESS_ON_DEMAND : 0);
	size_t len = 4 * 4096;
	struct ibv_pd *pd2 = NULL;
	uint8_t *nbuf = NULL;
	struct ibv_mr *mr;
	char name[64];
	struct t_pair p;
	int ret, st;

	snprintf(name, sizeof(name), "rereg_%s_%s", what, t_mem_name(odp));
	if (!t_want(name))
		return;
	if (pair(&p, odp, 0, 2 * len)) {
		t_result(0, name, "pair: errno %d", errno);
		goto out;
	}
	mr = p.b.mr;
	t_fill(p.b.buf, len, 21);
	if (!strcmp(what, "access_ro")) {
		/* Remote write taken away: READ works, WRITE is refused. */
		ret = rereg(mr, IBV_REREG_MR_CHANGE_ACCESS, NULL, NULL, 0,
			    (base & ~IBV_ACCESS_REMOTE_WRITE));
		out(name, "%s", err_str(ret));
		if (ret)
			goto done;
		st = t_xfer(&p.a, IBV_WR_RDMA_READ, p.a.buf, len, p.a.mr->lkey, (uintptr_t)p.b.buf,
			    mr->rkey, 0, 0);
		T_CHECK(st == IBV_WC_SUCCESS && t_is_fill(p.a.buf, len, 21), name,
			"READ after rereg: %s", wc_str(st));
		memset(p.a.buf, 0x11, 64);
		st = t_xfer(&p.a, IBV_WR_RDMA_WRITE, p.a.buf, 64, p.a.mr->lkey, (uintptr_t)p.b.buf,
			    mr->rkey, 0, 0);
		out(name, "write=%s", wc_str(st));
		T_CHECK(st != IBV_WC_SUCCESS && t_is_fill(p.b.buf, len, 21), name,
			"WRITE through a read-only MR: %s", wc_str(st));
	} else if (!strcmp(what, "access_rw")) {
		/* Registered read-only, then given write access. */
		ret = rereg(mr, IBV_REREG_MR_CHANGE_ACCESS, NULL, NULL, 0,
			    base & ~(IBV_ACCESS_REMOTE_WRITE | IBV_ACCESS_LOCAL_WRITE |
				     IBV_ACCESS_REMOTE_ATOMIC));
		out(name, "ro=%s", err_str(ret));
		ret = rereg(mr, IBV_REREG_MR_CHANGE_ACCESS, NULL, NULL, 0, base);
		out(name, "rw=%s", err_str(ret));
		if (ret)
			goto done;
		t_fill(p.a.buf, len, 22);
		st = t_xfer(&p.a, IBV_WR_RDMA_WRITE, p.a.buf, len, p.a.mr->lkey, (uintptr_t)p.b.buf,
			    mr->rkey, 0, 0);
		T_CHECK(st == IBV_WC_SUCCESS && t_is_fill(p.b.buf, len, 22), name,
			"WRITE after rereg: %s", wc_str(st));
	} else if (!strcmp(what, "pd")) {
		/* Moved to another PD: the QP's PD no longer reaches it. */
		pd2 = ibv_alloc_pd(devs[1].ctx);
		ret = rereg(mr, IBV_REREG_MR_CHANGE_PD, pd2, NULL, 0, 0);
		out(name, "%s", err_str(ret));
		if (ret)
			goto done;
		st = t_xfer(&p.a, IBV_WR_RDMA_READ, p.a.buf, 64, p.a.mr->lkey, (uintptr_t)p.b.buf,
			    mr->rkey, 0, 0);
		out(name, "read=%s", wc_str(st));
		T_CHECK(st != IBV_WC_SUCCESS, name, "READ through another PD's MR: %s", wc_str(st));
		/* Back to the QP's PD, on a new pair (the old one is in ERR). */
		ret = rereg(mr, IBV_REREG_MR_CHANGE_PD, p.b.pd, NULL, 0, 0);
		out(name, "back=%s", err_str(ret));
	} else {
		/*
		 * New translation: another, larger buffer (for ODP a range
		 * that also grows); the old buffer is no longer reached.
		 */
		size_t nlen = 3 * len;

		nbuf = t_map(nlen);
		if (!nbuf) {
			t_result(0, name, "mmap: errno %d", errno);
			goto done;
		}
		if (!odp)
			memset(nbuf, 0, nlen);
		ret = rereg(mr, IBV_REREG_MR_CHANGE_TRANSLATION, NULL, nbuf, nlen, 0);
		printf("NOTE %s %s\n", name, err_str(ret));
		if (ret)
			goto done;
		t_fill(p.a.buf, len, 23);
		st = t_xfer(&p.a, IBV_WR_RDMA_WRITE, p.a.buf, len, p.a.mr->lkey,
			    (uintptr_t)nbuf + 2 * len, mr->rkey, 0, 0);
		T_CHECK(st == IBV_WC_SUCCESS && t_is_fill(nbuf + 2 * len, len, 23) &&
				t_is_fill(p.b.buf, len, 21),
			name, "WRITE into the new range: %s, new %s, old %s", wc_str(st),
			t_is_fill(nbuf + 2 * len, len, 23) ? "ok" : "differs",
			t_is_fill(p.b.buf, len, 21) ? "untouched" : "changed");
		st = t_xfer(&p.a, IBV_WR_RDMA_READ, p.a.buf + len, len, p.a.mr->lkey,
			    (uintptr_t)nbuf + 2 * len, mr->rkey, 0, 0);
		T_CHECK(st == IBV_WC_SUCCESS && t_is_fill(p.a.buf + len, len, 23), name,
			"READ back: %s", wc_str(st));
		/* An address of the old range is outside the region now. */
		st = t_xfer(&p.a, IBV_WR_RDMA_READ, p.a.buf, 64, p.a.mr->lkey,
			    (uintptr_t)nbuf + nlen, mr->rkey, 0, 0);
		T_CHECK(st == IBV_WC_REM_ACCESS_ERR, name, "READ beyond the new range: %s",
			wc_str(st));
	}
done:
	t_pass(name);
out:
	t_pair_fini(&p);
	if (pd2)
		ibv_dealloc_pd(pd2);
	if (nbuf)
		munmap(nbuf, 3 * len);
}

static void test_rereg(int odp)
{
	rereg_one(odp, "access_ro");
	rereg_one(odp, "access_rw");
	rereg_one(odp, "pd");
	rereg_one(odp, "trans");
}

/* ---- UC ------------------------------------------------------------------------ */

static void uc_data(int odp)
{
	char name[64];
	struct t_pair p;
	struct ibv_wc wc;
	uint32_t mtu, sizes[5];
	size_t half = 64 * 1024;
	int i, op, st;

	snprintf(name, sizeof(name), "uc_data_%s", t_mem_name(odp));
	if (!t_want(name))
		return;
	if (pair(&p, odp, 1, 2 * half)) {
		t_result(0, name, "pair: errno %d", errno);
		goto out;
	}
	mtu = t_mtu_bytes(t_min_mtu(&devs[0], &devs[1]));
	sizes[0] = 0;
	sizes[1] = 1;
	sizes[2] = mtu;
	sizes[3] = 3 * mtu + 7;
	sizes[4] = 40000;
	for (op = 0; op < 4; op++) {
		static const enum ibv_wr_opcode ops[] = {IBV_WR_SEND, IBV_WR_SEND_WITH_IMM,
							 IBV_WR_RDMA_WRITE,
							 IBV_WR_RDMA_WRITE_WITH_IMM};
		int imm = ops[op] == IBV_WR_SEND_WITH_IMM || ops[op] == IBV_WR_RDMA_WRITE_WITH_IMM;
		int recv = ops[op] != IBV_WR_RDMA_WRITE;

		for (i = 0; i < 5; i++) {
			uint32_t len = sizes[i];
			unsigned int seed = 100 + op * 10 + i;

			memset(p.b.buf, 0, 2 * half);
			t_fill(p.a.buf, len, seed);
			if (recv &&
			    t_post_recv(&p.b, 500 + i, op >= 2 ? half : 0, op >= 2 ? 0 : half)) {
				t_result(0, name, "post_recv failed");
				goto out;
			}
			st = t_post_imm(&p.a, i, ops[op], 0, len, (uintptr_t)p.b.buf, p.b.mr->rkey,
					0xab000000 + seed);
			if (st || (st = t_wait_wc(p.a.cq, &wc, T_POLL_MS)) != IBV_WC_SUCCESS) {
				t_result(0, name, "op %d len %u: sender %s", op, len, wc_str(st));
				goto out;
			}
			if (recv) {
				st = t_wait_wc(p.b.cq, &wc, T_POLL_MS);
				if (st != IBV_WC_SUCCESS || wc.wr_id != 500u + i ||
				    wc.byte_len != len ||
				    (imm && (!(wc.wc_flags & IBV_WC_WITH_IMM) ||
					     be32toh(wc.imm_data) != 0xab000000 + seed)) ||
				    (!imm && (wc.wc_flags & IBV_WC_WITH_IMM)) ||
				    wc.opcode !=
					    (op >= 2 ? IBV_WC_RECV_RDMA_WITH_IMM : IBV_WC_RECV)) {
					t_result(0, name,
						 "op %d len %u: receiver %s id %llu len %u "
						 "opcode %d flags 0x%x",
						 op, len, wc_str(st), (unsigned long long)wc.wr_id,
						 wc.byte_len, wc.opcode, wc.wc_flags);
					goto out;
				}
			} else {
				usleep(20000);
			}
			if (!t_is_fill(p.b.buf, len, seed)) {
				t_result(0, name, "op %d len %u: data differs at %ld", op, len,
					 t_diff(p.b.buf, p.a.buf, len));
				goto out;
			}
		}
	}
	t_pass(name);
out:
	t_pair_fini(&p);
}

/*
 * No receive WQE, a bad rkey, an unsupported opcode: the sender completes
 * (or fails locally), the message is dropped, and the QPs carry on.
 */
static void uc_drops(int odp)
{
	char name[64];
	struct t_pair p;
	struct ibv_wc wc;
	int st;

	snprintf(name, sizeof(name), "uc_drops_%s", t_mem_name(odp));
	if (!t_want(name))
		return;
	if (pair(&p, odp, 1, 8192)) {
		t_result(0, name, "pair: errno %d", errno);
		goto out;
	}
	/* No receive posted: dropped, no RNR. */
	t_fill(p.a.buf, 3000, 31);
	st = t_xfer(&p.a, IBV_WR_SEND, p.a.buf, 3000, p.a.mr->lkey, 0, 0, 0, 0);
	out("uc_no_recv_sender", "%s", wc_str(st));
	usleep(100000);
	T_CHECK(ibv_poll_cq(p.b.cq, 1, &wc) == 0, "uc_no_recv_dropped", "a completion arrived");
	/* The next message with a receive posted arrives, whole. */
	t_post_recv(&p.b, 9, 4096, 4096);
	t_fill(p.a.buf, 3000, 32);
	st = t_xfer(&p.a, IBV_WR_SEND, p.a.buf, 3000, p.a.mr->lkey, 0, 0, 0, 0);
	T_CHECK(st == IBV_WC_SUCCESS && !t_expect_recv(&p.b, "uc_after_drop", 9, 3000, &wc) &&
			t_is_fill(p.b.buf + 4096, 3000, 32),
		"uc_after_drop", "sender %s", wc_str(st));
	/* A WRITE to a bad rkey: the sender does not know; nothing is written. */
	memset(p.b.buf, 0x77, 4096);
	st = t_xfer(&p.a, IBV_WR_RDMA_WRITE, p.a.buf, 2000, p.a.mr->lkey, (uintptr_t)p.b.buf,
		    p.b.mr->rkey ^ 0x80, 0, 0);
	out("uc_bad_rkey_sender", "%s", wc_str(st));
	st = t_xfer(&p.a, IBV_WR_RDMA_WRITE, p.a.buf, 2000, p.a.mr->lkey,
		    (uintptr_t)p.b.buf + 8192 - 1000, p.b.mr->rkey, 0, 0);
	out("uc_out_of_range_sender", "%s", wc_str(st));
	usleep(100000);
	T_CHECK(p.b.buf[0] == 0x77 && p.b.buf[1999] == 0x77, "uc_bad_rkey_nothing_written",
		"memory changed");
	out("uc_bad_rkey_states", "%d/%d", t_qp_state(p.a.qp), t_qp_state(p.b.qp));
	/* And the QP still carries a WRITE with immediate. */
	t_post_recv(&p.b, 10, 0, 0);
	t_fill(p.a.buf, 2000, 33);
	st = t_post_imm(&p.a, 1, IBV_WR_RDMA_WRITE_WITH_IMM, 0, 2000, (uintptr_t)p.b.buf + 2048,
			p.b.mr->rkey, 7);
	if (!st)
		st = t_wait_wc(p.a.cq, &wc, T_POLL_MS);
	T_CHECK(st == IBV_WC_SUCCESS && !t_wait_wc(p.b.cq, &wc, T_POLL_MS) && wc.wr_id == 10 &&
			t_is_fill(p.b.buf + 2048, 2000, 33),
		"uc_after_bad_rkey", "sender %s receiver %s", wc_str(st), wc_str(wc.status));
	/*
	 * READ and atomics do not exist on UC: softodp completes the WQE with
	 * LOC_QP_OP_ERR (QP to ERR); rxe 6.12 only flushes it.
	 */
	st = t_xfer(&p.a, IBV_WR_RDMA_READ, p.a.buf, 8, p.a.mr->lkey, (uintptr_t)p.b.buf,
		    p.b.mr->rkey, 0, 0);
	printf("NOTE uc_read %s\n", wc_str(st));
	T_CHECK(st > IBV_WC_SUCCESS, "uc_read", "%s", wc_str(st));
	t_pass(name);
out:
	t_pair_fini(&p);
}

/* Over a lossy link: what arrives is whole, in order, never twice. */
static void uc_loss(int odp)
{
	size_t msg = 5000, slot = 8192;
	int n = loss_msgs, i, got = 0, last = -1, ok = 1, posted = 0;
	struct ibv_wc wc;
	struct t_pair p;
	int st;

	if (!n || !t_want("uc_loss"))
		return;
	if (pair(&p, odp, 1, 64 * slot)) {
		t_result(0, "uc_loss", "pair: errno %d", errno);
		goto out;
	}
	for (i = 0; i < 60; i++, posted++)
		t_post_recv(&p.b, i % 60, (i % 60) * slot, slot);
	for (i = 0; i < n && ok; i++) {
		t_fill(p.a.buf + (i % 8) * slot, msg, 1000 + i);
		st = t_post_imm(&p.a, i, IBV_WR_SEND_WITH_IMM, (i % 8) * slot, msg, 0, 0, i);
		if (!st)
			st = t_wait_wc(p.a.cq, &wc, T_POLL_MS);
		if (st != IBV_WC_SUCCESS) {
			t_result(0, "uc_loss", "send %d: %s", i, wc_str(st));
			goto out;
		}
		while (ibv_poll_cq(p.b.cq, 1, &wc) > 0) {
			int k = be32toh(wc.imm_data);

			if (wc.status != IBV_WC_SUCCESS || k <= last || wc.byte_len != msg ||
			    !t_is_fill(p.b.buf + wc.wr_id * slot, msg, 1000 + k)) {
				t_result(0, "uc_loss", "message %d (after %d): %s len %u %s", k,
					 last, ibv_wc_status_str(wc.status), wc.byte_len,
					 wc.status ? "" : "data checked");
				ok = 0;
				break;
			}
			last = k;
			got++;
			t_post_recv(&p.b, wc.wr_id, wc.wr_id * slot, slot);
		}
	}
	usleep(200000);
	while (ok && ibv_poll_cq(p.b.cq, 1, &wc) > 0) {
		int k = be32toh(wc.imm_data);

		if (wc.status != IBV_WC_SUCCESS || k <= last ||
		    !t_is_fill(p.b.buf + wc.wr_id * slot, msg, 1000 + k)) {
			t_result(0, "uc_loss", "late message %d bad", k);
			ok = 0;
		}
		last = k;
		got++;
	}
	printf("# uc_loss: %d of %d messages arrived whole\n", got, n);
	if (ok)
		T_CHECK(got > 0 && got < n, "uc_loss", "%d of %d arrived (loss expected)", got, n);
out:
	t_pair_fini(&p);
}

static void test_uc(int odp)
{
	uc_data(odp);
	uc_drops(odp);
	uc_loss(odp);
}

/* ---- ATOMIC_WRITE -------------------------------------------------------------- */

/* IB_UVERBS_DEVICE_ATOMIC_WRITE: libibverbs 44 has no name for it. */
#define T_DEVICE_ATOMIC_WRITE (1ULL << 40)

static int has_atomic_write(struct t_dev *d)
{
	struct ibv_device_attr_ex ax;

	memset(&ax, 0, sizeof(ax));
	if (ibv_query_device_ex(d->ctx, NULL, &ax))
		return 0;
	return !!(ax.device_cap_flags_ex & T_DEVICE_ATOMIC_WRITE);
}

/* Both ends carry ATOMIC_WRITE: softodp always, stock rxe where it says so. */
static int atomic_write_ok(void)
{
	int i;

	for (i = 0; i < 2; i++)
		if (!devs[i].is_softodp && !has_atomic_write(&devs[i]))
			return 0;
	return 1;
}

/* An RC QP with the ibv_wr_* API for the operations @ops. */
static struct ibv_qp *create_qp_ex(struct t_side *s, uint64_t ops)
{
	struct ibv_qp_init_attr_ex ia = {
		.send_cq = s->cq,
		.recv_cq = s->cq,
		.qp_type = IBV_QPT_RC,
		.cap = {.max_send_wr = 64, .max_recv_wr = 64, .max_send_sge = 4, .max_recv_sge = 4},
		.comp_mask = IBV_QP_INIT_ATTR_PD | IBV_QP_INIT_ATTR_SEND_OPS_FLAGS,
		.pd = s->pd,
		.send_ops_flags = ops,
	};

	return ibv_create_qp_ex(s->dev->ctx, &ia);
}

/* A connected pair whose requester QP has the ibv_wr_* API for @ops; 0 or -1. */
static int ex_pair(struct t_pair *p, const struct t_side_opts *o, uint64_t ops)
{
	enum ibv_mtu mtu = t_min_mtu(&devs[0], &devs[1]);

	memset(p, 0, sizeof(*p));
	if (t_side_init(&p->a, &devs[0], o) || t_side_init(&p->b, &devs[1], o))
		return -1;
	ibv_destroy_qp(p->a.qp);
	p->a.qp = create_qp_ex(&p->a, ops);
	if (!p->a.qp || t_qp_connect(&p->a, &p->b, mtu, 7) || t_qp_connect(&p->b, &p->a, mtu, 7))
		return -1;
	return 0;
}

static int aw_pair(struct t_pair *p, const struct t_side_opts *o)
{
	return ex_pair(p, o, IBV_QP_EX_WITH_ATOMIC_WRITE | IBV_QP_EX_WITH_RDMA_READ);
}

static int atomic_write(struct t_side *s, uint64_t id, uint32_t rkey, uint64_t addr,
			const void *val, struct ibv_wc *wc)
{
	struct ibv_qp_ex *qx = ibv_qp_to_qp_ex(s->qp);
	int ret;

	ibv_wr_start(qx);
	qx->wr_id = id;
	qx->wr_flags = IBV_SEND_SIGNALED;
	ibv_wr_atomic_write(qx, rkey, addr, val);
	ret = ibv_wr_complete(qx);
	if (ret)
		return -ret;
	return t_wait_wc(s->cq, wc, T_POLL_MS);
}

static void atomic_write_test(int odp)
{
	struct t_side_opts o = {.len = 8192, .odp = odp};
	int cap = has_atomic_write(&devs[1]), i, st;
	uint64_t vals[3] = {0x1122334455667788ULL, 0xdeadbeefcafef00dULL, 42};
	char name[64];
	struct t_pair p;
	struct ibv_wc wc;

	snprintf(name, sizeof(name), "atomic_write_%s", t_mem_name(odp));
	if (!t_want(name))
		return;
	/* Stock rxe reports the capability where it has the operation (6.2+). */
	if (!atomic_write_ok()) {
		printf("NOTE %s: stock rxe without ATOMIC_WRITE\n", name);
		return;
	}
	printf("%s atomic_write_cap %d\n", cap && has_atomic_write(&devs[0]) ? "OUT" : "NOTE",
	       has_atomic_write(&devs[0]));
	if (aw_pair(&p, &o)) {
		t_result(0, name, "QP with ATOMIC_WRITE: errno %d", errno);
		goto out;
	}
	memset(p.b.buf, 0xee, 64);
	for (i = 0; i < 3; i++) {
		st = atomic_write(&p.a, i, p.b.mr->rkey, (uintptr_t)p.b.buf + 16, &vals[i], &wc);
		if (st != IBV_WC_SUCCESS || wc.opcode != IBV_WC_ATOMIC_WRITE ||
		    memcmp(p.b.buf + 16, &vals[i], 8)) {
			t_result(0, name, "value %d: %s opcode %d, memory %s", i, wc_str(st),
				 wc.opcode, memcmp(p.b.buf + 16, &vals[i], 8) ? "differs" : "ok");
			goto out;
		}
	}
	T_CHECK(p.b.buf[15] == 0xee && p.b.buf[24] == 0xee, name, "bytes around it changed");
	/* A READ sees the last value. */
	st = t_xfer(&p.a, IBV_WR_RDMA_READ, p.a.buf, 8, p.a.mr->lkey, (uintptr_t)p.b.buf + 16,
		    p.b.mr->rkey, 0, 0);
	T_CHECK(st == IBV_WC_SUCCESS && !memcmp(p.a.buf, &vals[2], 8), name, "READ back: %s",
		wc_str(st));
	/* A misaligned address is an invalid request (the QPs end in ERR). */
	st = atomic_write(&p.a, 9, p.b.mr->rkey, (uintptr_t)p.b.buf + 20, &vals[0], &wc);
	printf("%s atomic_write_misaligned %s\n", cap ? "OUT" : "NOTE", wc_str(st));
	T_CHECK(st != IBV_WC_SUCCESS && p.b.buf[20] != 0x88, name, "misaligned: %s", wc_str(st));
out:
	t_pair_fini(&p);
}

/* ATOMIC_WRITE to an rkey that does not exist. */
static void atomic_write_bad_rkey(int odp)
{
	struct t_side_opts o = {.len = 4096, .odp = odp};
	int cap = has_atomic_write(&devs[1]), st;
	uint64_t v = 7;
	struct t_pair p;
	struct ibv_wc wc;

	if (!t_want("atomic_write_bad_rkey") || !atomic_write_ok())
		return;
	if (aw_pair(&p, &o)) {
		t_result(0, "atomic_write_bad_rkey", "setup: errno %d", errno);
		goto out;
	}
	st = atomic_write(&p.a, 1, p.b.mr->rkey ^ 0x80, (uintptr_t)p.b.buf, &v, &wc);
	printf("%s atomic_write_bad_rkey %s\n", cap ? "OUT" : "NOTE", wc_str(st));
	T_CHECK(st == IBV_WC_REM_ACCESS_ERR, "atomic_write_bad_rkey", "%s", wc_str(st));
out:
	t_pair_fini(&p);
}

/* ---- FLUSH ---------------------------------------------------------------------- */

#ifdef T_HAVE_IBV_FLUSH
/* IB_UVERBS_DEVICE_FLUSH_GLOBAL and _PERSISTENT: libibverbs has no names. */
#define T_DEVICE_FLUSH_GLOBAL	  (1ULL << 38)
#define T_DEVICE_FLUSH_PERSISTENT (1ULL << 39)
/* What the responder's QP allows: every remote right and both placement types. */
#define FLUSH_QP_ACCESS (T_MR_ACCESS | IBV_ACCESS_FLUSH_GLOBAL | IBV_ACCESS_FLUSH_PERSISTENT)
#define FLUSH_LEN	(16 * 4096)

static uint64_t dev_caps(struct t_dev *d)
{
	struct ibv_device_attr_ex ax;

	memset(&ax, 0, sizeof(ax));
	if (ibv_query_device_ex(d->ctx, NULL, &ax))
		return 0;
	return ax.device_cap_flags_ex;
}

/*
 * The capability bits: global visibility on both; persistence is what stock
 * rxe claims and softodp does not (it has no persistent memory to promise
 * about), so that line is a NOTE.
 */
static void flush_caps(void)
{
	uint64_t caps = dev_caps(&devs[1]);

	if (!t_want("flush_caps"))
		return;
	out("flush_cap_global", "%d", !!(caps & T_DEVICE_FLUSH_GLOBAL));
	printf("NOTE flush_cap_persistent %d\n", !!(caps & T_DEVICE_FLUSH_PERSISTENT));
	if (devs[1].is_softodp)
		T_CHECK((caps & T_DEVICE_FLUSH_GLOBAL) && !(caps & T_DEVICE_FLUSH_PERSISTENT),
			"flush_caps", "device_cap_flags_ex 0x%llx", (unsigned long long)caps);
	else
		t_pass("flush_caps");
}

/* Registration with the FLUSH rights: global works, persistence is refused. */
static void flush_reg(int odp)
{
	int flags = T_MR_ACCESS | (odp ? IBV_ACCESS_ON_DEMAND : 0);
	char name[64];
	struct ibv_mr *mr;
	struct ibv_pd *pd;
	void *buf;

	snprintf(name, sizeof(name), "flush_reg_%s", t_mem_name(odp));
	if (!t_want(name))
		return;
	pd = ibv_alloc_pd(devs[1].ctx);
	buf = t_map(FLUSH_LEN);
	if (!pd || !buf) {
		t_result(0, name, "setup: errno %d", errno);
		goto out;
	}
	memset(buf, 1, FLUSH_LEN);
	mr = ibv_reg_mr(pd, buf, FLUSH_LEN, flags | IBV_ACCESS_FLUSH_GLOBAL);
	out("flush_reg_global", "%s", err_str(mr ? 0 : errno));
	T_CHECK(mr, name, "FLUSH_GLOBAL: errno %d", errno);
	if (mr)
		ibv_dereg_mr(mr);
	/*
	 * Refused by both, differently: rxe claims persistence and refuses
	 * memory that is not persistent (EINVAL); softodp does not claim it,
	 * so ib_core refuses the bit (EOPNOTSUPP).
	 */
	mr = ibv_reg_mr(pd, buf, FLUSH_LEN, flags | IBV_ACCESS_FLUSH_PERSISTENT);
	printf("NOTE flush_reg_persistent %s\n", err_str(mr ? 0 : errno));
	T_CHECK(!mr, name, "FLUSH_PERSISTENT registered on ordinary memory");
	if (mr)
		ibv_dereg_mr(mr);
out:
	if (buf)
		munmap(buf, FLUSH_LEN);
	if (pd)
		ibv_dealloc_pd(pd);
}

static int flush_post(struct t_side *s, uint64_t id, uint32_t rkey, uint64_t addr, size_t len,
		      uint8_t type, uint8_t level, struct ibv_wc *wc)
{
	struct ibv_qp_ex *qx = ibv_qp_to_qp_ex(s->qp);
	int ret;

	ibv_wr_start(qx);
	qx->wr_id = id;
	qx->wr_flags = IBV_SEND_SIGNALED;
	ibv_wr_flush(qx, rkey, addr, len, type, level);
	ret = ibv_wr_complete(qx);
	if (ret)
		return -ret;
	return t_wait_wc(s->cq, wc, T_POLL_MS);
}

/*
 * A pair for FLUSH: the responder's buffer registered with @mr_access (its
 * MR, ODP untouched where @odp), its QP allowing @qp_access.
 */
static int flush_pair(struct t_pair *p, int odp, int mr_access, unsigned int qp_access)
{
	struct t_side_opts o = {.len = FLUSH_LEN, .odp = odp, .no_touch = odp, .access = mr_access};

	if (ex_pair(p, &o, IBV_QP_EX_WITH_FLUSH | IBV_QP_EX_WITH_RDMA_WRITE))
		return -1;
	return set_access(p->b.qp, qp_access) ? -1 : 0;
}

/*
 * WRITEs, then FLUSHes of their range, of the whole region (level MR, no
 * range), of an empty range: each completes as IBV_WC_FLUSH after the data
 * is in place, on pinned and on never-touched ODP memory.
 */
static void flush_data(int odp)
{
	static const struct {
		const char *what;
		size_t off, len;
		uint8_t level;
	} flushes[] = {
		{"flush_global_range", 4096 + 8, 3 * 4096, IBV_FLUSH_RANGE},
		{"flush_global_mr", 0, 0, IBV_FLUSH_MR},
		{"flush_global_empty", 100, 0, IBV_FLUSH_RANGE},
	};
	char name[64];
	struct t_pair p;
	struct ibv_wc wc;
	size_t i;
	int st;

	snprintf(name, sizeof(name), "flush_data_%s", t_mem_name(odp));
	if (!t_want(name))
		return;
	if (flush_pair(&p, odp, T_MR_ACCESS | IBV_ACCESS_FLUSH_GLOBAL, FLUSH_QP_ACCESS)) {
		t_result(0, name, "setup: errno %d", errno);
		goto out;
	}
	for (i = 0; i < sizeof(flushes) / sizeof(flushes[0]); i++) {
		unsigned int seed = 40 + i;
		uint64_t addr =
			flushes[i].level == IBV_FLUSH_MR ? 0 : (uintptr_t)p.b.buf + flushes[i].off;

		t_fill(p.a.buf, 3 * 4096, seed);
		st = t_xfer(&p.a, IBV_WR_RDMA_WRITE, p.a.buf, 3 * 4096, p.a.mr->lkey,
			    (uintptr_t)p.b.buf + 4096 + 8, p.b.mr->rkey, 0, 0);
		if (st != IBV_WC_SUCCESS) {
			t_result(0, name, "WRITE before flush %s: %s", flushes[i].what, wc_str(st));
			goto out;
		}
		st = flush_post(&p.a, 100 + i, p.b.mr->rkey, addr, flushes[i].len, IBV_FLUSH_GLOBAL,
				flushes[i].level, &wc);
		out(flushes[i].what, "%s opcode %d", wc_str(st),
		    st == IBV_WC_SUCCESS ? (int)wc.opcode : -1);
		if (st != IBV_WC_SUCCESS || wc.opcode != IBV_WC_FLUSH || wc.wr_id != 100 + i ||
		    !t_is_fill(p.b.buf + 4096 + 8, 3 * 4096, seed)) {
			t_result(0, name, "flush %s: %s opcode %d, data %s", flushes[i].what,
				 wc_str(st), wc.opcode,
				 t_is_fill(p.b.buf + 4096 + 8, 3 * 4096, seed) ? "ok" : "differs");
			goto out;
		}
	}
	t_pass(name);
out:
	t_pair_fini(&p);
}

/*
 * FLUSH requests the responder must refuse: the QP in ERR afterwards, so
 * each gets a pair of its own.  @what: 0 the region lacks FLUSH_GLOBAL,
 * 1 the range ends past the region, 2 an rkey that does not exist,
 * 3 persistence asked of a region without it, 4 the responder's QP does not
 * allow FLUSH.
 */
static void flush_refused(int odp, int what)
{
	static const char *const names[] = {"flush_no_mr_right", "flush_out_of_range",
					    "flush_bad_rkey", "flush_persistent",
					    "flush_qp_access"};
	int mr_access = T_MR_ACCESS | (what ? IBV_ACCESS_FLUSH_GLOBAL : 0);
	unsigned int qp_access = what == 4 ? T_MR_ACCESS : FLUSH_QP_ACCESS;
	uint8_t type = what == 3 ? IBV_FLUSH_PERSISTENT : IBV_FLUSH_GLOBAL;
	char name[64];
	struct t_pair p;
	struct ibv_wc wc;
	uint32_t rkey;
	size_t off = what == 1 ? FLUSH_LEN - 4096 : 0;
	int st;

	snprintf(name, sizeof(name), "%s_%s", names[what], t_mem_name(odp));
	if (!t_want(name))
		return;
	if (flush_pair(&p, odp, mr_access, qp_access)) {
		t_result(0, name, "setup: errno %d", errno);
		goto out;
	}
	rkey = what == 2 ? p.b.mr->rkey ^ 0x80 : p.b.mr->rkey;
	st = flush_post(&p.a, 7, rkey, (uintptr_t)p.b.buf + off, 2 * 4096, type, IBV_FLUSH_RANGE,
			&wc);
	out(names[what], "%s", wc_str(st));
	T_CHECK(st != IBV_WC_SUCCESS && st >= 0, name, "%s", wc_str(st));
out:
	t_pair_fini(&p);
}

static void test_flush(int odp)
{
	int i;

	/* Both ends carry FLUSH: softodp always, stock rxe where it says so. */
	if (!(dev_caps(&devs[1]) & T_DEVICE_FLUSH_GLOBAL)) {
		printf("NOTE flush: the responder reports no FLUSH\n");
		return;
	}
	flush_reg(odp);
	flush_data(odp);
	for (i = 0; i < 5; i++)
		flush_refused(odp, i);
}
#else
static void flush_caps(void)
{
}

static void test_flush(int odp)
{
	(void)odp;
}
#endif

/* ---- memory windows ------------------------------------------------------------- */

/*
 * The responder's buffer is MW_LEN bytes, one MR with MW_BIND; windows
 * start MW_OFF bytes into it and are MW_WIN long (not page-aligned ends).
 */
#define MW_LEN (8 * 4096)
#define MW_OFF 4096
#define MW_WIN (3 * 4096 + 512)
#define MW_RW  (IBV_ACCESS_REMOTE_WRITE | IBV_ACCESS_REMOTE_READ)
/* What the responder's QP posts: binds, local invalidation, SEND. */
#define MW_OPS (IBV_QP_EX_WITH_BIND_MW | IBV_QP_EX_WITH_LOCAL_INV | IBV_QP_EX_WITH_SEND)

/* "@base_<mode>": the suite drops the mode, pinned and ODP compare alike. */
static void mw_name(char name[64], const char *base, int odp)
{
	snprintf(name, 64, "%s_%s", base, t_mem_name(odp));
}

/* The same in a static buffer, for one use at a time. */
static const char *mwn(const char *base, int odp)
{
	static char buf[64];

	mw_name(buf, base, odp);
	return buf;
}

static void mw_caps(void)
{
	struct ibv_device_attr *a = &devs[1].attr;

	if (!t_want("mw_caps"))
		return;
	out("mw_caps", "window=%d type2b=%d max_mw=%s",
	    !!(a->device_cap_flags & IBV_DEVICE_MEM_WINDOW),
	    !!(a->device_cap_flags & IBV_DEVICE_MEM_WINDOW_TYPE_2B), a->max_mw ? "yes" : "0");
	t_pass("mw_caps");
}

/*
 * A connected pair whose responder (b) has an MR with MW_BIND over its
 * whole buffer and a QP with the ibv_wr_* API for binds; 0 or -1.
 */
static int mw_pair(struct t_pair *p, int odp, const char *name)
{
	struct t_side_opts o = {
		.len = MW_LEN, .odp = odp, .access = T_MR_ACCESS | IBV_ACCESS_MW_BIND};
	enum ibv_mtu mtu = t_min_mtu(&devs[0], &devs[1]);

	memset(p, 0, sizeof(*p));
	if (t_side_init(&p->a, &devs[0], &o) || t_side_init(&p->b, &devs[1], &o))
		goto err;
	ibv_destroy_qp(p->b.qp);
	p->b.qp = create_qp_ex(&p->b, MW_OPS);
	if (!p->b.qp || t_qp_connect(&p->a, &p->b, mtu, 7) || t_qp_connect(&p->b, &p->a, mtu, 7))
		goto err;
	memset(p->b.buf, 0, MW_LEN);
	return 0;
err:
	t_result(0, name, "pair: errno %d", errno);
	return -1;
}

/* An MR over the responder's buffer with @access (+ ODP in ODP mode). */
static struct ibv_mr *mw_reg(struct t_side *s, int odp, int access)
{
	if (odp && s->dev->odp_ok)
		access |= IBV_ACCESS_ON_DEMAND;
	return ibv_reg_mr(s->pd, s->buf, s->len, access);
}

static char mw_buf[128];

/* "post=<errno> wc=<status> opcode=<ok|n>" of a bind or invalidation. */
static const char *mw_res(int ret, int st, const struct ibv_wc *wc, int opcode)
{
	if (ret)
		snprintf(mw_buf, sizeof(mw_buf), "post=%s", err_str(ret));
	else if (st != IBV_WC_SUCCESS)
		snprintf(mw_buf, sizeof(mw_buf), "post=ok wc=%s", wc_str(st));
	else
		snprintf(mw_buf, sizeof(mw_buf), "post=ok wc=%s opcode=%s", wc_str(st),
			 (int)wc->opcode == opcode ? "ok" : "wrong");
	return mw_buf;
}

/*
 * A local operation that must fail at completion: compared is that it is
 * posted and fails; its status is a NOTE.  softodp completes the failing
 * WR with its IBTA status (MW_BIND_ERR for a bind, LOC_QP_OP_ERR for an
 * invalidation of a type 1 window), rdma_rxe 6.12 with WR_FLUSH_ERR.
 */
static void mw_out_failed(const char *name, int ret, int st, const struct ibv_wc *wc, int opcode)
{
	out(name, "post=%s wc=%s", ret ? err_str(ret) : "ok",
	    ret			   ? "none"
	    : st == IBV_WC_SUCCESS ? "success"
				   : "error");
	printf("NOTE %s %s\n", name, mw_res(ret, st, wc, opcode));
}

/*
 * ibv_bind_mw() of a type 1 window on @s's QP, signaled: the errno of the
 * post (0: the completion's status in *@st).
 */
static int mw_bind1(struct t_side *s, struct ibv_mw *mw, struct ibv_mr *mr, uint64_t addr,
		    uint64_t len, unsigned int access, int *st, struct ibv_wc *wc)
{
	struct ibv_mw_bind b = {
		.wr_id = 51,
		.send_flags = IBV_SEND_SIGNALED,
		.bind_info = {.mr = mr, .addr = addr, .length = len, .mw_access_flags = access},
	};
	int ret = ibv_bind_mw(s->qp, mw, &b);

	*st = ret ? -1 : t_wait_wc(s->cq, wc, T_POLL_MS);
	return ret;
}

/* ibv_wr_bind_mw() of a type 2 window with @rkey; as mw_bind1(). */
static int mw_bind2(struct t_side *s, struct ibv_mw *mw, uint32_t rkey, struct ibv_mr *mr,
		    uint64_t addr, uint64_t len, unsigned int access, int *st, struct ibv_wc *wc)
{
	struct ibv_qp_ex *qx = ibv_qp_to_qp_ex(s->qp);
	struct ibv_mw_bind_info bi = {
		.mr = mr, .addr = addr, .length = len, .mw_access_flags = access};
	int ret;

	ibv_wr_start(qx);
	qx->wr_id = 52;
	qx->wr_flags = IBV_SEND_SIGNALED;
	ibv_wr_bind_mw(qx, mw, rkey, &bi);
	ret = ibv_wr_complete(qx);
	*st = ret ? -1 : t_wait_wc(s->cq, wc, T_POLL_MS);
	return ret;
}

/* ibv_wr_local_inv() of @rkey on @s's QP; as mw_bind1(). */
static int mw_local_inv(struct t_side *s, uint32_t rkey, int *st, struct ibv_wc *wc)
{
	struct ibv_qp_ex *qx = ibv_qp_to_qp_ex(s->qp);
	int ret;

	ibv_wr_start(qx);
	qx->wr_id = 53;
	qx->wr_flags = IBV_SEND_SIGNALED;
	ibv_wr_local_inv(qx, rkey);
	ret = ibv_wr_complete(qx);
	*st = ret ? -1 : t_wait_wc(s->cq, wc, T_POLL_MS);
	return ret;
}

/* The responder's address @off bytes into its buffer. */
static uint64_t mw_addr(const struct t_pair *p, size_t off)
{
	return (uintptr_t)p->b.buf + off;
}

/*
 * mw_pair() plus a window of @type allocated on the responder and bound
 * (type 2: to its QP, with the next key) over MW_WIN bytes at MW_OFF with
 * remote read and write: 0, or -1 with @name failed.
 */
static int mw_ready(struct t_pair *p, int odp, const char *name, enum ibv_mw_type type,
		    struct ibv_mw **mw)
{
	struct ibv_wc wc;
	uint32_t rkey;
	int ret, st;

	if (mw_pair(p, odp, name))
		return -1;
	*mw = ibv_alloc_mw(p->b.pd, type);
	if (!*mw) {
		t_result(0, name, "alloc_mw: errno %d", errno);
		return -1;
	}
	rkey = ibv_inc_rkey((*mw)->rkey);
	if (type == IBV_MW_TYPE_1)
		ret = mw_bind1(&p->b, *mw, p->b.mr, mw_addr(p, MW_OFF), MW_WIN, MW_RW, &st, &wc);
	else
		ret = mw_bind2(&p->b, *mw, rkey, p->b.mr, mw_addr(p, MW_OFF), MW_WIN, MW_RW, &st,
			       &wc);
	if (ret || st != IBV_WC_SUCCESS) {
		t_result(0, name, "bind: %s", mw_res(ret, st, &wc, IBV_WC_BIND_MW));
		return -1;
	}
	if (type == IBV_MW_TYPE_2)
		(*mw)->rkey = rkey;
	return 0;
}

/* WRITE @len bytes of pattern @seed at @off of the responder through @rkey. */
static int mw_write(struct t_pair *p, size_t off, uint32_t len, uint32_t rkey, unsigned int seed)
{
	t_fill(p->a.buf, len, seed);
	return t_xfer(&p->a, IBV_WR_RDMA_WRITE, p->a.buf, len, p->a.mr->lkey, mw_addr(p, off), rkey,
		      0, 0);
}

/* READ @len bytes at @off of the responder through @rkey into a.buf + MW_LEN / 2. */
static int mw_read(struct t_pair *p, size_t off, uint32_t len, uint32_t rkey)
{
	memset(p->a.buf + MW_LEN / 2, 0, len);
	return t_xfer(&p->a, IBV_WR_RDMA_READ, p->a.buf + MW_LEN / 2, len, p->a.mr->lkey,
		      mw_addr(p, off), rkey, 0, 0);
}

/* Zero outside [@off, @off + @len) of the responder's buffer. */
static int mw_untouched_around(const struct t_pair *p, size_t off, size_t len)
{
	size_t i;

	for (i = 0; i < MW_LEN; i++)
		if ((i < off || i >= off + len) && p->b.buf[i])
			return 0;
	return 1;
}

static void mw_dealloc(struct ibv_mw **mw)
{
	if (*mw)
		ibv_dealloc_mw(*mw);
	*mw = NULL;
}

/*
 * Type 1: ibv_bind_mw(), WRITE and READ through the window's rkey (bytes
 * checked, nothing outside the window touched), a zero-based window
 * refused in user space, a rebind with the next key (the old key then
 * reaches nothing), deallocation.
 */
static void mw_type1(int odp)
{
	char name[64];
	struct ibv_mw *mw = NULL;
	uint32_t rkey0, rkey1;
	struct ibv_wc wc;
	struct t_pair p;
	int ret, st;

	mw_name(name, "mw_type1", odp);
	if (!t_want(name))
		return;
	if (mw_pair(&p, odp, name))
		goto out;
	mw = ibv_alloc_mw(p.b.pd, IBV_MW_TYPE_1);
	out(mwn("mw_type1_alloc", odp), "%s", mw ? "ok" : err_str(errno));
	if (!mw) {
		t_result(0, name, "alloc_mw: errno %d", errno);
		goto out;
	}
	rkey0 = mw->rkey;
	ret = mw_bind1(&p.b, mw, p.b.mr, mw_addr(&p, MW_OFF), MW_WIN, MW_RW | IBV_ACCESS_ZERO_BASED,
		       &st, &wc);
	out(mwn("mw_type1_zero_based", odp), "%s rkey_kept=%d",
	    mw_res(ret, st, &wc, IBV_WC_BIND_MW), mw->rkey == rkey0);
	ret = mw_bind1(&p.b, mw, p.b.mr, mw_addr(&p, MW_OFF), MW_WIN, MW_RW, &st, &wc);
	out(mwn("mw_type1_bind", odp), "%s next_key=%d", mw_res(ret, st, &wc, IBV_WC_BIND_MW),
	    mw->rkey == ibv_inc_rkey(rkey0));
	if (ret || st != IBV_WC_SUCCESS) {
		t_result(0, name, "bind: %s", mw_buf);
		goto out;
	}
	st = mw_write(&p, MW_OFF, MW_WIN, mw->rkey, 61);
	out(mwn("mw_type1_write", odp), "%s", wc_str(st));
	T_CHECK(st == IBV_WC_SUCCESS && t_is_fill(p.b.buf + MW_OFF, MW_WIN, 61) &&
			mw_untouched_around(&p, MW_OFF, MW_WIN),
		mwn("mw_type1_write_data", odp), "WRITE %s, data %s", wc_str(st),
		t_is_fill(p.b.buf + MW_OFF, MW_WIN, 61) ? "ok" : "differs");
	st = mw_read(&p, MW_OFF, MW_WIN, mw->rkey);
	out(mwn("mw_type1_read", odp), "%s", wc_str(st));
	T_CHECK(st == IBV_WC_SUCCESS && t_is_fill(p.a.buf + MW_LEN / 2, MW_WIN, 61),
		mwn("mw_type1_read_data", odp), "READ %s", wc_str(st));
	/* A narrower, read-only window with the next key. */
	rkey1 = mw->rkey;
	ret = mw_bind1(&p.b, mw, p.b.mr, mw_addr(&p, 2 * MW_OFF), 4096, IBV_ACCESS_REMOTE_READ, &st,
		       &wc);
	out(mwn("mw_type1_rebind", odp), "%s next_key=%d", mw_res(ret, st, &wc, IBV_WC_BIND_MW),
	    mw->rkey == ibv_inc_rkey(rkey1));
	st = mw_read(&p, 2 * MW_OFF, 4096, mw->rkey);
	out(mwn("mw_type1_rebind_read", odp), "%s", wc_str(st));
	T_CHECK(st == IBV_WC_SUCCESS && !memcmp(p.a.buf + MW_LEN / 2, p.b.buf + 2 * MW_OFF, 4096),
		mwn("mw_type1_rebind_data", odp), "READ %s", wc_str(st));
	/* The key of the first binding reaches nothing any more. */
	st = mw_read(&p, MW_OFF, 64, rkey1);
	out(mwn("mw_type1_old_key", odp), "%s", wc_str(st));
	T_CHECK(st == IBV_WC_REM_ACCESS_ERR, name, "READ through the old key: %s", wc_str(st));
	ret = ibv_dealloc_mw(mw);
	mw = NULL;
	out(mwn("mw_type1_dealloc", odp), "%s", err_str(ret));
	t_pass(name);
out:
	mw_dealloc(&mw);
	t_pair_fini(&p);
}

/* Type 1 unbound (a bind of length 0): its rkey reaches nothing. */
static void mw_type1_unbind(int odp)
{
	char name[64];
	struct ibv_mw *mw = NULL;
	struct ibv_wc wc;
	struct t_pair p;
	int ret, st;

	mw_name(name, "mw_type1_unbind", odp);
	if (!t_want(name))
		return;
	if (mw_ready(&p, odp, name, IBV_MW_TYPE_1, &mw))
		goto out;
	/* librxe reads the MR's lkey even for an unbind: one is given. */
	ret = mw_bind1(&p.b, mw, p.b.mr, 0, 0, 0, &st, &wc);
	out(name, "%s", mw_res(ret, st, &wc, IBV_WC_BIND_MW));
	st = mw_read(&p, MW_OFF, 64, mw->rkey);
	out(mwn("mw_type1_unbound_read", odp), "%s", wc_str(st));
	T_CHECK(st == IBV_WC_REM_ACCESS_ERR, name, "READ through an unbound window: %s",
		wc_str(st));
out:
	mw_dealloc(&mw);
	t_pair_fini(&p);
}

/*
 * Accesses a window does not allow: outside the window but inside the MR
 * (softodp refuses; stock rxe checks only the MR's range: NOTE), beyond
 * the MR, and a WRITE through a read-only window.
 */
static void mw_access(int odp, int what)
{
	static const char *const names[] = {"mw_outside_window", "mw_outside_mr", "mw_rights"};
	char name[64];
	struct ibv_mw *mw = NULL;
	struct ibv_wc wc;
	struct t_pair p;
	int ret, st;

	mw_name(name, names[what], odp);
	if (!t_want(name))
		return;
	if (mw_pair(&p, odp, name))
		goto out;
	mw = ibv_alloc_mw(p.b.pd, IBV_MW_TYPE_1);
	if (!mw) {
		t_result(0, name, "alloc_mw: errno %d", errno);
		goto out;
	}
	if (what == 1)
		ret = mw_bind1(&p.b, mw, p.b.mr, mw_addr(&p, 0), MW_LEN, MW_RW, &st, &wc);
	else
		ret = mw_bind1(&p.b, mw, p.b.mr, mw_addr(&p, MW_OFF), MW_WIN,
			       what ? IBV_ACCESS_REMOTE_READ : MW_RW, &st, &wc);
	if (ret || st != IBV_WC_SUCCESS) {
		t_result(0, name, "bind: %s", mw_res(ret, st, &wc, IBV_WC_BIND_MW));
		goto out;
	}
	if (what == 0) {
		/* The page before the window: inside the MR. */
		st = mw_write(&p, 0, 256, mw->rkey, 62);
		printf("NOTE %s %s\n", name, wc_str(st));
		if (devs[1].is_softodp)
			T_CHECK(st == IBV_WC_REM_ACCESS_ERR && mw_untouched_around(&p, 0, 0), name,
				"WRITE before the window: %s", wc_str(st));
	} else if (what == 1) {
		st = mw_read(&p, MW_LEN - 100, 200, mw->rkey);
		out(name, "%s", wc_str(st));
		T_CHECK(st == IBV_WC_REM_ACCESS_ERR, name, "READ beyond the MR: %s", wc_str(st));
	} else {
		st = mw_write(&p, MW_OFF, 256, mw->rkey, 63);
		out(name, "%s", wc_str(st));
		T_CHECK(st == IBV_WC_REM_ACCESS_ERR && mw_untouched_around(&p, 0, 0), name,
			"WRITE through a read-only window: %s", wc_str(st));
	}
out:
	mw_dealloc(&mw);
	t_pair_fini(&p);
}

/*
 * Binds the MR does not allow: registered without MW_BIND, remote write
 * through a window on an MR without local write, a range beyond the MR.
 * The bind completes with MW_BIND_ERR.
 */
static void mw_bind_refused(int odp, int what)
{
	static const char *const names[] = {"mw_bind_no_mw_bind", "mw_bind_no_local_write",
					    "mw_bind_outside_mr"};
	char name[64];
	struct ibv_mr *mr = NULL;
	struct ibv_mw *mw = NULL;
	struct ibv_wc wc;
	struct t_pair p;
	int ret, st;

	mw_name(name, names[what], odp);
	if (!t_want(name))
		return;
	if (mw_pair(&p, odp, name))
		goto out;
	if (what == 0)
		mr = mw_reg(&p.b, odp, T_MR_ACCESS);
	else if (what == 1)
		mr = mw_reg(&p.b, odp, IBV_ACCESS_REMOTE_READ | IBV_ACCESS_MW_BIND);
	else
		mr = mw_reg(&p.b, odp, T_MR_ACCESS | IBV_ACCESS_MW_BIND);
	mw = mr ? ibv_alloc_mw(p.b.pd, IBV_MW_TYPE_1) : NULL;
	if (!mw) {
		t_result(0, name, "setup: errno %d", errno);
		goto out;
	}
	if (what == 2)
		ret = mw_bind1(&p.b, mw, mr, mw_addr(&p, MW_LEN - 4096), 8192, MW_RW, &st, &wc);
	else
		ret = mw_bind1(&p.b, mw, mr, mw_addr(&p, MW_OFF), MW_WIN,
			       what ? IBV_ACCESS_REMOTE_WRITE : MW_RW, &st, &wc);
	mw_out_failed(name, ret, st, &wc, IBV_WC_BIND_MW);
	T_CHECK(!ret && st == IBV_WC_MW_BIND_ERR, name, "bind: %s", mw_buf);
out:
	mw_dealloc(&mw);
	if (mr)
		ibv_dereg_mr(mr);
	t_pair_fini(&p);
}

/*
 * Type 2: ibv_wr_bind_mw() to the responder's QP, WRITE and READ through
 * it, LOCAL_INV of its rkey, then an access fails.
 */
static void mw_type2(int odp)
{
	char name[64];
	struct ibv_mw *mw = NULL;
	struct ibv_wc wc;
	struct t_pair p;
	uint32_t rkey;
	int ret, st;

	mw_name(name, "mw_type2", odp);
	if (!t_want(name))
		return;
	if (mw_pair(&p, odp, name))
		goto out;
	mw = ibv_alloc_mw(p.b.pd, IBV_MW_TYPE_2);
	out(mwn("mw_type2_alloc", odp), "%s", mw ? "ok" : err_str(errno));
	if (!mw) {
		t_result(0, name, "alloc_mw: errno %d", errno);
		goto out;
	}
	/* Not bound yet: nothing is reached. */
	rkey = ibv_inc_rkey(mw->rkey);
	ret = mw_bind2(&p.b, mw, rkey, p.b.mr, mw_addr(&p, MW_OFF), MW_WIN, MW_RW, &st, &wc);
	out(mwn("mw_type2_bind", odp), "%s", mw_res(ret, st, &wc, IBV_WC_BIND_MW));
	if (ret || st != IBV_WC_SUCCESS) {
		t_result(0, name, "bind: %s", mw_buf);
		goto out;
	}
	mw->rkey = rkey;
	st = mw_write(&p, MW_OFF, MW_WIN, rkey, 64);
	out(mwn("mw_type2_write", odp), "%s", wc_str(st));
	T_CHECK(st == IBV_WC_SUCCESS && t_is_fill(p.b.buf + MW_OFF, MW_WIN, 64) &&
			mw_untouched_around(&p, MW_OFF, MW_WIN),
		mwn("mw_type2_write_data", odp), "WRITE %s", wc_str(st));
	st = mw_read(&p, MW_OFF, MW_WIN, rkey);
	out(mwn("mw_type2_read", odp), "%s", wc_str(st));
	T_CHECK(st == IBV_WC_SUCCESS && t_is_fill(p.a.buf + MW_LEN / 2, MW_WIN, 64),
		mwn("mw_type2_read_data", odp), "READ %s", wc_str(st));
	ret = mw_local_inv(&p.b, rkey, &st, &wc);
	out(mwn("mw_type2_local_inv", odp), "%s", mw_res(ret, st, &wc, IBV_WC_LOCAL_INV));
	st = mw_read(&p, MW_OFF, 64, rkey);
	out(mwn("mw_type2_invalidated_read", odp), "%s", wc_str(st));
	T_CHECK(st == IBV_WC_REM_ACCESS_ERR, name, "READ after LOCAL_INV: %s", wc_str(st));
	ret = ibv_dealloc_mw(mw);
	mw = NULL;
	out(mwn("mw_type2_dealloc", odp), "%s", err_str(ret));
out:
	mw_dealloc(&mw);
	t_pair_fini(&p);
}

/*
 * A bound type 2 window is bound again (refused: MW_BIND_ERR), then
 * deallocated while bound; its MR can be deregistered after that.
 */
static void mw_type2_busy(int odp)
{
	char name[64];
	struct ibv_mw *mw = NULL;
	struct ibv_wc wc;
	struct t_pair p;
	uint32_t rkey;
	int ret, st;

	mw_name(name, "mw_type2_rebind", odp);
	if (!t_want(name))
		return;
	if (mw_ready(&p, odp, name, IBV_MW_TYPE_2, &mw))
		goto out;
	rkey = mw->rkey;
	ret = mw_bind2(&p.b, mw, ibv_inc_rkey(rkey), p.b.mr, mw_addr(&p, MW_OFF), 4096, MW_RW, &st,
		       &wc);
	mw_out_failed(name, ret, st, &wc, IBV_WC_BIND_MW);
	T_CHECK(!ret && st == IBV_WC_MW_BIND_ERR, name, "second bind: %s", mw_buf);
	ret = ibv_dealloc_mw(mw);
	mw = NULL;
	out(mwn("mw_type2_dealloc_bound", odp), "%s", err_str(ret));
	ret = ibv_dereg_mr(p.b.mr);
	if (!ret)
		p.b.mr = NULL;
	out(mwn("mw_type2_dereg_after_dealloc", odp), "%s", err_str(ret));
out:
	mw_dealloc(&mw);
	t_pair_fini(&p);
}

/*
 * SEND with invalidate carrying a type 2 window's rkey: the receive
 * completion reports it, and the window reaches nothing afterwards.
 */
static void mw_send_inv(int odp)
{
	char name[64];
	struct ibv_mw *mw = NULL;
	struct ibv_send_wr wr, *bad;
	struct ibv_sge sge;
	struct ibv_wc wc;
	struct t_pair p;
	uint32_t rkey;
	int ret, st;

	mw_name(name, "mw_send_inv", odp);
	if (!t_want(name))
		return;
	if (mw_ready(&p, odp, name, IBV_MW_TYPE_2, &mw))
		goto out;
	rkey = mw->rkey;
	if (t_post_recv(&p.b, 71, MW_LEN - 1024, 1024)) {
		t_result(0, name, "post_recv: errno %d", errno);
		goto out;
	}
	t_fill(p.a.buf, 100, 65);
	sge = (struct ibv_sge){.addr = (uintptr_t)p.a.buf, .length = 100, .lkey = p.a.mr->lkey};
	memset(&wr, 0, sizeof(wr));
	wr.wr_id = 72;
	wr.sg_list = &sge;
	wr.num_sge = 1;
	wr.opcode = IBV_WR_SEND_WITH_INV;
	wr.send_flags = IBV_SEND_SIGNALED;
	wr.invalidate_rkey = rkey;
	ret = ibv_post_send(p.a.qp, &wr, &bad);
	st = ret ? -1 : t_wait_wc(p.a.cq, &wc, T_POLL_MS);
	out(mwn("mw_send_inv_sender", odp), "post=%s wc=%s", err_str(ret), wc_str(st));
	st = t_wait_wc(p.b.cq, &wc, T_POLL_MS);
	out(mwn("mw_send_inv_receiver", odp), "%s with_inv=%d rkey=%s", wc_str(st),
	    !!(wc.wc_flags & IBV_WC_WITH_INV), wc.invalidated_rkey == rkey ? "window" : "other");
	T_CHECK(st == IBV_WC_SUCCESS && t_is_fill(p.b.buf + MW_LEN - 1024, 100, 65), name,
		"receive: %s", wc_str(st));
	st = mw_read(&p, MW_OFF, 64, rkey);
	out(mwn("mw_send_inv_read", odp), "%s", wc_str(st));
	T_CHECK(st == IBV_WC_REM_ACCESS_ERR, name, "READ after the invalidation: %s", wc_str(st));
out:
	mw_dealloc(&mw);
	t_pair_fini(&p);
}

/* LOCAL_INV of a type 1 window's rkey: refused (type 1 is not invalidated). */
static void mw_type1_local_inv(int odp)
{
	char name[64];
	struct ibv_mw *mw = NULL;
	struct ibv_wc wc;
	struct t_pair p;
	int ret, st;

	mw_name(name, "mw_type1_local_inv", odp);
	if (!t_want(name))
		return;
	if (mw_ready(&p, odp, name, IBV_MW_TYPE_1, &mw))
		goto out;
	ret = mw_local_inv(&p.b, mw->rkey, &st, &wc);
	mw_out_failed(name, ret, st, &wc, IBV_WC_LOCAL_INV);
	T_CHECK(!ret && st == IBV_WC_LOC_QP_OP_ERR, name, "LOCAL_INV: %s", mw_buf);
out:
	mw_dealloc(&mw);
	t_pair_fini(&p);
}

/*
 * ibv_dereg_mr() of an MR with a bound window: refused (EINVAL), the
 * window still works; after ibv_dealloc_mw() its rkey reaches nothing and
 * the MR can be deregistered.
 */
static void mw_dereg_bound(int odp)
{
	char name[64];
	struct ibv_mw *mw = NULL;
	struct t_pair p;
	uint32_t rkey;
	int ret, st;

	mw_name(name, "mw_dereg_bound", odp);
	if (!t_want(name))
		return;
	if (mw_ready(&p, odp, name, IBV_MW_TYPE_1, &mw))
		goto out;
	ret = ibv_dereg_mr(p.b.mr);
	if (!ret)
		p.b.mr = NULL;
	out(name, "%s", err_str(ret));
	T_CHECK(ret == EINVAL, name, "dereg with a bound window: %s", err_str(ret));
	st = mw_write(&p, MW_OFF, 4096, mw->rkey, 66);
	out(mwn("mw_dereg_refused_write", odp), "%s", wc_str(st));
	T_CHECK(st == IBV_WC_SUCCESS && t_is_fill(p.b.buf + MW_OFF, 4096, 66), name,
		"WRITE after the refused dereg: %s", wc_str(st));
	rkey = mw->rkey;
	ret = ibv_dealloc_mw(mw);
	mw = NULL;
	out(mwn("mw_dealloc_bound", odp), "%s", err_str(ret));
	st = mw_read(&p, MW_OFF, 64, rkey);
	out(mwn("mw_dealloc_read", odp), "%s", wc_str(st));
	T_CHECK(st == IBV_WC_REM_ACCESS_ERR, name, "READ after dealloc: %s", wc_str(st));
	ret = p.b.mr ? ibv_dereg_mr(p.b.mr) : 0;
	if (!ret)
		p.b.mr = NULL;
	out(mwn("mw_dereg_after_dealloc", odp), "%s", err_str(ret));
out:
	mw_dealloc(&mw);
	t_pair_fini(&p);
}

static void test_mw(int odp)
{
	int i;

	mw_type1(odp);
	mw_type1_unbind(odp);
	for (i = 0; i < 3; i++)
		mw_access(odp, i);
	for (i = 0; i < 3; i++)
		mw_bind_refused(odp, i);
	mw_type2(odp);
	mw_type2_busy(odp);
	mw_send_inv(odp);
	mw_type1_local_inv(odp);
	mw_dereg_bound(odp);
}

static void each_mode(int odp)
{
	access_data(odp);
	test_bad(odp);
	test_rereg(odp);
	test_uc(odp);
	atomic_write_test(odp);
	atomic_write_bad_rkey(odp);
	test_flush(odp);
	test_mw(odp);
	access_enforced(odp);
}

static int opt(int o, const char *arg)
{
	if (o != 'l')
		return 1;
	loss_msgs = atoi(arg);
	return loss_msgs <= 0;
}

int main(int argc, char **argv)
{
	int ret = t_start(argc, argv, usage, "l:", opt, devs);

	if (ret)
		return ret;
	test_access_flags();
	bad_create();
	bad_post_state();
	bad_send_queue();
	cq_resize();
	mw_caps();
	flush_caps();
	t_each_mode(devs, "parity", each_mode);
	return t_summary();
}
