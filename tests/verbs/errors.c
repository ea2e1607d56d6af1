// SPDX-License-Identifier: GPL-2.0
/*
 * errors - error paths of the RC data path and the QP state machine that
 * rc and objects do not cover, with exact statuses and errnos:
 *
 *   wrong PD   a local SGE whose lkey belongs to an MR of another PD
 *              (IBV_WC_LOC_PROT_ERR, nothing reaches the responder), a
 *              receive SGE of another PD (LOC_PROT_ERR at the receiver,
 *              REM_OP_ERR at the sender), an rkey of an MR registered in
 *              a PD other than the responder QP's (REM_ACCESS_ERR at the
 *              requester; the responder QP goes to ERR with an
 *              IBV_EVENT_QP_ACCESS_ERR event, its receive is flushed and
 *              its memory untouched)
 *   SGEs       create_qp / create_srq beyond the device's SGE limits,
 *              ibv_post_send / ibv_post_recv / ibv_post_srq_recv with one
 *              SGE more than the queue holds (librxe of rdma-core 44
 *              answers EINVAL and returns the offending WR in bad_wr; the
 *              WRs before it are posted and complete), and exactly the
 *              limit works end to end
 *   QP states  transitions the IBTA does not allow and attribute masks
 *              with missing or extra attributes or bad values: EINVAL,
 *              and the QP stays usable in its old state
 *
 * Usage: errors [-d DEV] [-D DEV2] [-m pinned|odp|both] [-f FILTER]
 *   the options of every data test (common.h t_start): loopback on the
 *   first sodp* device by default.
 * Prints "PASS name" / "FAIL name: why" and "N passed, N failed"; exits 1
 * if anything failed.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "common.h"

#define BUF_SIZE (64 * 1024)

static struct t_dev devs[2];

static int pair_init(struct t_pair *p, int odp, int srq, uint32_t max_sge)
{
	struct t_side_opts oa = {.len = BUF_SIZE, .odp = odp, .max_sge = max_sge};
	struct t_side_opts ob = oa;

	ob.srq = srq;
	return t_pair_init(p, devs, &oa, &ob, IBV_MTU_1024, 7);
}

/* A second MR over @len bytes at @buf, in a PD of its own. */
struct foreign {
	struct ibv_pd *pd;
	struct ibv_mr *mr;
};

static int foreign_init(struct foreign *f, struct t_dev *d, void *buf, size_t len, int odp)
{
	int access = T_MR_ACCESS | (odp && d->odp_ok ? IBV_ACCESS_ON_DEMAND : 0);

	f->pd = ibv_alloc_pd(d->ctx);
	f->mr = f->pd ? ibv_reg_mr(f->pd, buf, len, access) : NULL;
	return f->mr ? 0 : -1;
}

static void foreign_fini(struct foreign *f)
{
	if (f->mr)
		ibv_dereg_mr(f->mr);
	if (f->pd)
		ibv_dealloc_pd(f->pd);
	memset(f, 0, sizeof(*f));
}

/*
 * A connected pair in @p and, for the wrong-PD tests, an MR in a PD of its
 * own over @len bytes at @off of side @s's buffer in @f; on a failure FAIL
 * @name.  0 or -1; wrong_pd_fini() cleans up either way.
 */
static int wrong_pd_init(struct t_pair *p, struct foreign *f, const char *name, int odp,
			 struct t_side *s, size_t off, size_t len)
{
	memset(f, 0, sizeof(*f));
	if (pair_init(p, odp, 0, 0) || foreign_init(f, s->dev, s->buf + off, len, odp)) {
		t_result(0, name, "setup: %s", strerror(errno));
		return -1;
	}
	return 0;
}

static void wrong_pd_fini(struct t_pair *p, struct foreign *f)
{
	t_pair_fini(p);
	foreign_fini(f);
}

/*
 * @qp is in state @want.  An error completion may be polled a moment
 * before its QP has moved to ERR (softodp posts the CQE, then its work
 * item applies the transition), so ERR is waited for up to 2 s.
 */
static int check_state(const char *name, const char *who, struct ibv_qp *qp, int want)
{
	double end = t_now_ms() + (want == IBV_QPS_ERR ? 2000 : 0);
	int st;

	while ((st = t_qp_state(qp)) != want && t_now_ms() < end)
		usleep(1000);
	if (st != want) {
		t_result(0, name, "%s QP state %d, want %d", who, st, want);
		return -1;
	}
	return 0;
}

/* ---- wrong PD ------------------------------------------------------------ */

/* The requester's SGE names an MR of another PD of its own context. */
static void test_wrong_pd_lkey(int odp, enum ibv_wr_opcode op, const char *opname)
{
	char name[96];
	struct foreign f = {0};
	struct t_pair p;
	static uint8_t before[4096];

	snprintf(name, sizeof(name), "wrong_pd_lkey_%s_%s", opname, t_mem_name(odp));
	if (!t_want(name))
		return;
	if (wrong_pd_init(&p, &f, name, odp, &p.a, 8192, 8192))
		goto out;
	t_fill(p.a.buf + 8192, 4096, 3);
	memcpy(before, p.a.buf + 8192, sizeof(before));
	memset(p.b.buf, 0x5a, BUF_SIZE);
	if (op == IBV_WR_SEND && t_post_recv(&p.b, 2, 0, 4096)) {
		t_result(0, name, "post_recv failed");
		goto out;
	}
	if (t_post_wr(p.a.qp, 1, op, p.a.buf + 8192, 4096, f.mr->lkey, (uintptr_t)p.b.buf,
		      p.b.mr->rkey, 0, 0)) {
		t_result(0, name, "post_send failed");
		goto out;
	}
	if (t_expect_wc(&p.a, name, "requester", 1, IBV_WC_LOC_PROT_ERR, -1) ||
	    check_state(name, "requester", p.a.qp, IBV_QPS_ERR))
		goto out;
	/* Nothing arrived: no receive completion, memory as it was. */
	if (t_poll_none(p.b.cq, 200)) {
		t_result(0, name, "unexpected responder completion");
		goto out;
	}
	if (check_state(name, "responder", p.b.qp, IBV_QPS_RTS))
		goto out;
	if (op != IBV_WR_RDMA_READ)
		t_result(p.b.buf[0] == 0x5a, name, "responder memory written");
	else
		t_result(!memcmp(before, p.a.buf + 8192, sizeof(before)), name,
			 "READ wrote the local buffer of the foreign MR");
out:
	wrong_pd_fini(&p, &f);
}

/* The receiver's SGE names an MR of another PD. */
static void test_wrong_pd_recv(int odp)
{
	char name[96];
	struct foreign f = {0};
	struct t_pair p;
	struct ibv_sge sge;
	struct ibv_recv_wr rwr, *rbad;

	snprintf(name, sizeof(name), "wrong_pd_recv_%s", t_mem_name(odp));
	if (!t_want(name))
		return;
	if (wrong_pd_init(&p, &f, name, odp, &p.b, 0, 8192))
		goto out;
	memset(p.b.buf, 0x5a, 8192);
	memset(&sge, 0, sizeof(sge));
	sge.addr = (uintptr_t)p.b.buf;
	sge.length = 4096;
	sge.lkey = f.mr->lkey;
	memset(&rwr, 0, sizeof(rwr));
	rwr.wr_id = 2;
	rwr.sg_list = &sge;
	rwr.num_sge = 1;
	t_fill(p.a.buf, 100, 4);
	if (ibv_post_recv(p.b.qp, &rwr, &rbad) || t_post_one(&p.a, 1, IBV_WR_SEND, 0, 100, 0, 0)) {
		t_result(0, name, "post failed");
		goto out;
	}
	if (t_expect_wc(&p.a, name, "sender", 1, IBV_WC_REM_OP_ERR, -1) ||
	    t_expect_wc(&p.b, name, "receiver", 2, IBV_WC_LOC_PROT_ERR, -1) ||
	    check_state(name, "sender", p.a.qp, IBV_QPS_ERR) ||
	    check_state(name, "receiver", p.b.qp, IBV_QPS_ERR))
		goto out;
	t_result(p.b.buf[0] == 0x5a && p.b.buf[99] == 0x5a, name, "receive buffer written");
out:
	wrong_pd_fini(&p, &f);
}

/*
 * The rkey is valid on the responder's device but its MR lives in a PD
 * other than the responder QP's.
 */
static void test_wrong_pd_rkey(int odp, enum ibv_wr_opcode op, const char *opname)
{
	char name[96];
	struct foreign f = {0};
	struct ibv_qp *evqp = NULL;
	struct t_pair p;
	uint8_t before[256];
	int rc, ev;

	snprintf(name, sizeof(name), "wrong_pd_rkey_%s_%s", opname, t_mem_name(odp));
	if (!t_want(name))
		return;
	if (wrong_pd_init(&p, &f, name, odp, &p.b, 0, BUF_SIZE))
		goto out;
	t_fill(p.b.buf + 4096, sizeof(before), 5);
	memcpy(before, p.b.buf + 4096, sizeof(before));
	t_fill(p.a.buf, 256, 6);
	/* A receive waiting on the responder: flushed when its QP errors. */
	if (t_post_recv(&p.b, 9, 8192, 4096)) {
		t_result(0, name, "post_recv failed");
		goto out;
	}
	if (op == IBV_WR_ATOMIC_FETCH_AND_ADD)
		rc = t_post_atomic(&p.a, 1, op, 0, (uintptr_t)p.b.buf + 4096, f.mr->rkey, 1, 0);
	else
		rc = t_post_one(&p.a, 1, op, 512, 256, (uintptr_t)p.b.buf + 4096, f.mr->rkey);
	if (rc) {
		t_result(0, name, "post_send: %s", strerror(rc));
		goto out;
	}
	if (t_expect_wc(&p.a, name, "requester", 1, IBV_WC_REM_ACCESS_ERR, -1) ||
	    check_state(name, "requester", p.a.qp, IBV_QPS_ERR))
		goto out;
	ev = t_async_event(devs[1].ctx, 5000, &evqp);
	if (ev != IBV_EVENT_QP_ACCESS_ERR || evqp != p.b.qp) {
		t_result(0, name, "responder async event %d (%s) qp %p, want %d for %p", ev,
			 ev >= 0 ? ibv_event_type_str(ev) : "none", (void *)evqp,
			 IBV_EVENT_QP_ACCESS_ERR, (void *)p.b.qp);
		goto out;
	}
	if (t_expect_wc(&p.b, name, "responder", 9, IBV_WC_WR_FLUSH_ERR, -1) ||
	    check_state(name, "responder", p.b.qp, IBV_QPS_ERR))
		goto out;
	t_result(!memcmp(before, p.b.buf + 4096, sizeof(before)), name, "responder memory changed");
out:
	wrong_pd_fini(&p, &f);
}

/* ---- too many SGEs ------------------------------------------------------- */

static void test_create_sge_limits(void)
{
	struct t_dev *d = &devs[0];
	struct ibv_pd *pd = ibv_alloc_pd(d->ctx);
	struct ibv_cq *cq = pd ? ibv_create_cq(d->ctx, 16, NULL, NULL, 0) : NULL;
	struct ibv_qp_cap cap;
	struct ibv_srq_init_attr sa;
	struct ibv_qp *qp;
	struct ibv_srq *srq;
	int i;

	if (!cq) {
		t_result(0, "create_sge_limits", "setup: %s", strerror(errno));
		goto out;
	}
	for (i = 0; i < 3; i++) {
		const char *names[3] = {"create_qp_send_sge_over_max",
					"create_qp_recv_sge_over_max", "create_qp_sge_at_max"};

		if (!t_want(names[i]))
			continue;
		memset(&cap, 0, sizeof(cap));
		cap.max_send_wr = 4;
		cap.max_recv_wr = 4;
		cap.max_send_sge = d->attr.max_sge + (i == 0);
		cap.max_recv_sge = d->attr.max_sge + (i == 1);
		errno = 0;
		qp = t_create_qp(pd, IBV_QPT_RC, cq, NULL, &cap, &cap);
		if (i < 2)
			t_result(!qp && errno == EINVAL, names[i],
				 "max_sge %d: qp %p errno %d (%s)", d->attr.max_sge, (void *)qp,
				 errno, strerror(errno));
		else
			t_result(qp && cap.max_send_sge >= (uint32_t)d->attr.max_sge &&
					 cap.max_recv_sge >= (uint32_t)d->attr.max_sge,
				 names[i], "max_sge %d: qp %p errno %d caps %u/%u", d->attr.max_sge,
				 (void *)qp, errno, cap.max_send_sge, cap.max_recv_sge);
		if (qp)
			ibv_destroy_qp(qp);
	}
	if (t_want("create_srq_sge_over_max")) {
		memset(&sa, 0, sizeof(sa));
		sa.attr.max_wr = 4;
		sa.attr.max_sge = d->attr.max_srq_sge + 1;
		errno = 0;
		srq = ibv_create_srq(pd, &sa);
		t_result(!srq && errno == EINVAL, "create_srq_sge_over_max",
			 "max_srq_sge %d: srq %p errno %d (%s)", d->attr.max_srq_sge, (void *)srq,
			 errno, strerror(errno));
		if (srq)
			ibv_destroy_srq(srq);
	}
out:
	if (cq)
		ibv_destroy_cq(cq);
	if (pd)
		ibv_dealloc_pd(pd);
}

/* @n SGEs of 16 bytes each, 64 bytes apart, from @off of @s's buffer. */
static void make_sges(struct ibv_sge *sg, int n, struct t_side *s, size_t off)
{
	int i;

	for (i = 0; i < n; i++) {
		sg[i].addr = (uintptr_t)s->buf + off + 64 * i;
		sg[i].length = 16;
		sg[i].lkey = s->mr->lkey;
	}
}

/*
 * The queue holds @max SGEs per WR (3 were asked for) and @nsg have room
 * for a WR of max + 1 after one of 1: 0, or FAIL @name (@what names max).
 */
static int max_sge_ok(const char *name, uint32_t max, size_t nsg, const char *what)
{
	if (max >= 3 && max + 1 <= nsg - 1)
		return 0;
	t_result(0, name, "%s %u for 3", what, max);
	return -1;
}

/*
 * Posting [good WR, WR with @max + 1 SGEs] returned @ret and @bad: it must
 * be EINVAL with bad_wr the second (@second); else FAIL @name.  0 or -1.
 */
static int rejected_second(const char *name, int ret, const void *bad, const void *second,
			   uint32_t max)
{
	if (ret == EINVAL && bad == second)
		return 0;
	t_result(0, name, "num_sge %u > %u: ret %d (%s) bad_wr %s", max + 1, max, ret,
		 strerror(ret),
		 bad == second ? "the second"
		 : bad	       ? "the first"
			       : "NULL");
	return -1;
}

/*
 * Send queue: [good SEND, SEND with max+1 SGEs] -> EINVAL, bad_wr is the
 * second, the first completes and arrives; then a SEND with exactly max
 * SGEs works.
 */
static void test_post_send_too_many(int odp)
{
	char name[96];
	struct ibv_sge sg[80];
	struct ibv_send_wr w[2], *bad = NULL;
	struct ibv_wc wc;
	struct t_pair p;
	uint32_t max;
	int ret, i;

	snprintf(name, sizeof(name), "post_send_too_many_sge_%s", t_mem_name(odp));
	if (!t_want(name))
		return;
	if (pair_init(&p, odp, 0, 3)) {
		t_result(0, name, "setup: %s", strerror(errno));
		goto out;
	}
	max = p.a.cap.max_send_sge;
	if (max_sge_ok(name, max, sizeof(sg) / sizeof(sg[0]), "create_qp returned max_send_sge"))
		goto out;
	t_fill(p.a.buf, BUF_SIZE, 8);
	make_sges(sg, 1, &p.a, 0);
	make_sges(sg + 1, max + 1, &p.a, 4096);
	memset(w, 0, sizeof(w));
	for (i = 0; i < 2; i++) {
		w[i].wr_id = 10 + i;
		w[i].opcode = IBV_WR_SEND;
		w[i].send_flags = IBV_SEND_SIGNALED;
	}
	w[0].sg_list = sg;
	w[0].num_sge = 1;
	w[0].next = &w[1];
	w[1].sg_list = sg + 1;
	w[1].num_sge = max + 1;
	if (t_post_recv(&p.b, 20, 0, 4096) || t_post_recv(&p.b, 21, 8192, 4096)) {
		t_result(0, name, "post_recv failed");
		goto out;
	}
	ret = ibv_post_send(p.a.qp, w, &bad);
	if (rejected_second(name, ret, bad, &w[1], max))
		goto out;
	if (t_expect_wc(&p.a, name, "sender", 10, IBV_WC_SUCCESS, IBV_WC_SEND))
		goto out;
	if (t_expect_recv(&p.b, name, 20, 16, &wc))
		goto out;
	if (memcmp(p.b.buf, p.a.buf, 16)) {
		t_result(0, name, "first WR: data differs");
		goto out;
	}
	if (t_poll_none(p.a.cq, 100)) {
		t_result(0, name, "the rejected WR completed");
		goto out;
	}
	/* Exactly max SGEs: one message, gathered in order. */
	w[1].num_sge = max;
	w[1].next = NULL;
	ret = ibv_post_send(p.a.qp, &w[1], &bad);
	if (ret || t_expect_wc(&p.a, name, "sender", 11, IBV_WC_SUCCESS, IBV_WC_SEND))
		goto out_ret;
	if (t_expect_recv(&p.b, name, 21, 16 * max, &wc))
		goto out;
	for (i = 0; i < (int)max; i++) {
		if (memcmp(p.b.buf + 8192 + 16 * i, p.a.buf + 4096 + 64 * i, 16)) {
			t_result(0, name, "max SGEs: piece %d differs", i);
			goto out;
		}
	}
	t_pass(name);
	goto out;
out_ret:
	if (ret)
		t_result(0, name, "post with %u SGEs: %s", max, strerror(ret));
out:
	t_pair_fini(&p);
}

/*
 * Receive queue (or SRQ): [good RECV, RECV with max+1 SGEs] -> EINVAL,
 * bad_wr is the second and the first is posted; exactly max SGEs
 * scatter a message in order.
 */
static void test_post_recv_too_many(int odp, int srq)
{
	char name[96];
	struct ibv_sge sg[80];
	struct ibv_recv_wr w[2], *bad = NULL;
	struct ibv_wc wc;
	struct t_pair p;
	uint32_t max;
	int ret, i;

	snprintf(name, sizeof(name), "post_%srecv_too_many_sge_%s", srq ? "srq_" : "",
		 t_mem_name(odp));
	if (!t_want(name))
		return;
	if (pair_init(&p, odp, srq, 3)) {
		t_result(0, name, "setup: %s", strerror(errno));
		goto out;
	}
	if (srq) {
		struct ibv_srq_attr sa;

		if (ibv_query_srq(p.b.srq, &sa)) {
			t_result(0, name, "query_srq: %s", strerror(errno));
			goto out;
		}
		max = sa.max_sge;
	} else {
		max = p.b.cap.max_recv_sge;
	}
	if (max_sge_ok(name, max, sizeof(sg) / sizeof(sg[0]), "max_recv_sge"))
		goto out;
	memset(p.b.buf, 0, BUF_SIZE);
	make_sges(sg, 1, &p.b, 0);
	make_sges(sg + 1, max + 1, &p.b, 4096);
	memset(w, 0, sizeof(w));
	w[0].wr_id = 30;
	w[0].sg_list = sg;
	w[0].num_sge = 1;
	w[0].next = &w[1];
	w[1].wr_id = 31;
	w[1].sg_list = sg + 1;
	w[1].num_sge = max + 1;
	ret = srq ? ibv_post_srq_recv(p.b.srq, w, &bad) : ibv_post_recv(p.b.qp, w, &bad);
	if (rejected_second(name, ret, bad, &w[1], max))
		goto out;
	/* The first receive was posted: a SEND lands in it. */
	t_fill(p.a.buf, BUF_SIZE, 11);
	if (t_post_one(&p.a, 40, IBV_WR_SEND, 0, 16, 0, 0) ||
	    t_expect_wc(&p.a, name, "sender", 40, IBV_WC_SUCCESS, IBV_WC_SEND))
		goto out;
	if (t_expect_recv(&p.b, name, 30, 16, &wc))
		goto out;
	if (memcmp(p.b.buf, p.a.buf, 16)) {
		t_result(0, name, "first WR: data differs");
		goto out;
	}
	/* Exactly max SGEs. */
	w[1].num_sge = max;
	w[1].next = NULL;
	ret = srq ? ibv_post_srq_recv(p.b.srq, &w[1], &bad) : ibv_post_recv(p.b.qp, &w[1], &bad);
	if (ret) {
		t_result(0, name, "post with %u SGEs: %s", max, strerror(ret));
		goto out;
	}
	if (t_post_one(&p.a, 41, IBV_WR_SEND, 100, 16 * max, 0, 0) ||
	    t_expect_wc(&p.a, name, "sender", 41, IBV_WC_SUCCESS, IBV_WC_SEND))
		goto out;
	if (t_expect_recv(&p.b, name, 31, 16 * max, &wc))
		goto out;
	for (i = 0; i < (int)max; i++) {
		if (memcmp(p.b.buf + 4096 + 64 * i, p.a.buf + 100 + 16 * i, 16) ||
		    p.b.buf[4096 + 64 * i + 16]) {
			t_result(0, name, "max SGEs: piece %d differs", i);
			goto out;
		}
	}
	t_pass(name);
out:
	t_pair_fini(&p);
}

/* ---- QP state machine ---------------------------------------------------- */

struct bad_mod {
	const char *what;
	int mask;
	void (*tweak)(struct ibv_qp_attr *a);
};

static void set_state_rts(struct ibv_qp_attr *a)
{
	a->qp_state = IBV_QPS_RTS;
}
static void set_state_rtr(struct ibv_qp_attr *a)
{
	a->qp_state = IBV_QPS_RTR;
}
static void set_state_init(struct ibv_qp_attr *a)
{
	a->qp_state = IBV_QPS_INIT;
}
static void set_state_sqd(struct ibv_qp_attr *a)
{
	a->qp_state = IBV_QPS_SQD;
}
static void set_state_bogus(struct ibv_qp_attr *a)
{
	a->qp_state = (enum ibv_qp_state)9;
}
static void set_mtu_0(struct ibv_qp_attr *a)
{
	a->path_mtu = (enum ibv_mtu)0;
}
static void set_mtu_6(struct ibv_qp_attr *a)
{
	a->path_mtu = (enum ibv_mtu)6;
}
static void set_port_2(struct ibv_qp_attr *a)
{
	a->port_num = 2;
}
static void set_pkey_big(struct ibv_qp_attr *a)
{
	a->pkey_index = 999;
}
static void set_dest_rd_atomic_big(struct ibv_qp_attr *a)
{
	a->max_dest_rd_atomic = 255;
}
static void set_rd_atomic_big(struct ibv_qp_attr *a)
{
	a->max_rd_atomic = 255;
}
static void set_rnr_retry_8(struct ibv_qp_attr *a)
{
	a->rnr_retry = 8;
}

/*
 * Apply each bad modification to @qp (in state @state, built from the
 * valid attributes @good): EINVAL and the state unchanged.
 */
static void bad_mods(const char *prefix, struct ibv_qp *qp, int state,
		     const struct ibv_qp_attr *good, const struct bad_mod *m, int n)
{
	char name[128];
	struct ibv_qp_attr a;
	int i, ret, st;

	for (i = 0; i < n; i++) {
		snprintf(name, sizeof(name), "qp_%s_%s", prefix, m[i].what);
		if (!t_want(name))
			continue;
		a = *good;
		if (m[i].tweak)
			m[i].tweak(&a);
		ret = ibv_modify_qp(qp, &a, m[i].mask);
		st = t_qp_state(qp);
		t_result(ret == EINVAL && st == state, name, "ret %d (%s), state %d (want %d)", ret,
			 strerror(ret), st, state);
	}
}

/*
 * Walk a QP of a connected pair through RESET, INIT, RTR and RTS, trying
 * the transitions and masks the IBTA forbids in each state; the QP ends
 * up connected and carries traffic (it received while in RTR).
 */
static void test_qp_transitions(void)
{
	static const struct bad_mod in_reset[] = {
		{"reset_to_rts", IBV_QP_STATE, set_state_rts},
		{"reset_to_sqd", IBV_QP_STATE, set_state_sqd},
		{"reset_to_init_no_port", T_INIT_MASK & ~IBV_QP_PORT, NULL},
		{"reset_to_init_no_access", T_INIT_MASK & ~IBV_QP_ACCESS_FLAGS, NULL},
		{"reset_to_init_no_pkey", T_INIT_MASK & ~IBV_QP_PKEY_INDEX, NULL},
		{"reset_to_init_extra_dest_qpn", T_INIT_MASK | IBV_QP_DEST_QPN, NULL},
		{"reset_to_init_bad_port", T_INIT_MASK, set_port_2},
		{"reset_to_init_bad_pkey", T_INIT_MASK, set_pkey_big},
		{"reset_bogus_state", IBV_QP_STATE, set_state_bogus},
	};
	static const struct bad_mod in_init[] = {
		{"init_to_sqd", IBV_QP_STATE, set_state_sqd},
		{"init_to_rtr_no_av", T_RTR_MASK & ~IBV_QP_AV, NULL},
		{"init_to_rtr_no_path_mtu", T_RTR_MASK & ~IBV_QP_PATH_MTU, NULL},
		{"init_to_rtr_no_rq_psn", T_RTR_MASK & ~IBV_QP_RQ_PSN, NULL},
		{"init_to_rtr_no_max_dest_rd_atomic", T_RTR_MASK & ~IBV_QP_MAX_DEST_RD_ATOMIC,
		 NULL},
		{"init_to_rtr_no_min_rnr_timer", T_RTR_MASK & ~IBV_QP_MIN_RNR_TIMER, NULL},
		{"init_to_rtr_extra_sq_psn", T_RTR_MASK | IBV_QP_SQ_PSN, NULL},
		{"init_to_rtr_extra_timeout", T_RTR_MASK | IBV_QP_TIMEOUT, NULL},
		{"init_to_rtr_path_mtu_0", T_RTR_MASK, set_mtu_0},
		{"init_to_rtr_path_mtu_6", T_RTR_MASK, set_mtu_6},
		{"init_to_rtr_max_dest_rd_atomic_255", T_RTR_MASK, set_dest_rd_atomic_big},
	};
	static const struct bad_mod in_rtr[] = {
		{"rtr_to_init", IBV_QP_STATE, set_state_init},
		{"rtr_to_rtr", T_RTR_MASK, set_state_rtr},
		{"rtr_to_sqd", IBV_QP_STATE, set_state_sqd},
		{"rtr_to_rts_no_sq_psn", T_RTS_MASK & ~IBV_QP_SQ_PSN, NULL},
		{"rtr_to_rts_no_timeout", T_RTS_MASK & ~IBV_QP_TIMEOUT, NULL},
		{"rtr_to_rts_no_retry_cnt", T_RTS_MASK & ~IBV_QP_RETRY_CNT, NULL},
		{"rtr_to_rts_no_rnr_retry", T_RTS_MASK & ~IBV_QP_RNR_RETRY, NULL},
		{"rtr_to_rts_no_max_rd_atomic", T_RTS_MASK & ~IBV_QP_MAX_QP_RD_ATOMIC, NULL},
		{"rtr_to_rts_extra_path_mtu", T_RTS_MASK | IBV_QP_PATH_MTU, NULL},
		{"rtr_to_rts_extra_dest_qpn", T_RTS_MASK | IBV_QP_DEST_QPN, NULL},
		{"rtr_to_rts_max_rd_atomic_255", T_RTS_MASK, set_rd_atomic_big},
		{"rtr_to_rts_rnr_retry_8", T_RTS_MASK, set_rnr_retry_8},
	};
	static const struct bad_mod in_rts[] = {
		{"rts_to_rtr", IBV_QP_STATE, set_state_rtr},
		{"rts_to_rtr_full", T_RTR_MASK, set_state_rtr},
		{"rts_to_init", IBV_QP_STATE, set_state_init},
		{"rts_to_rts_extra_path_mtu", IBV_QP_STATE | IBV_QP_PATH_MTU, set_state_rts},
		{"rts_to_rts_extra_dest_qpn", IBV_QP_STATE | IBV_QP_DEST_QPN, set_state_rts},
		{"rts_to_rts_extra_rq_psn", IBV_QP_STATE | IBV_QP_RQ_PSN, set_state_rts},
		{"rts_to_rts_extra_port", IBV_QP_STATE | IBV_QP_PORT, set_state_rts},
		{"rts_bogus_state", IBV_QP_STATE, set_state_bogus},
	};
	static const struct bad_mod in_err[] = {
		{"err_to_rts", IBV_QP_STATE, set_state_rts},
		{"err_to_init", T_INIT_MASK, set_state_init},
		{"err_to_rtr", T_RTR_MASK, set_state_rtr},
	};
	const char *name = "qp_transitions_traffic";
	struct t_side_opts o = {.len = BUF_SIZE};
	struct ibv_qp_attr init, rtr, rts, a;
	struct t_side s, peer;
	struct ibv_wc wc;
	int ret;

	if (t_side_init(&s, &devs[0], &o) || t_side_init(&peer, &devs[1], &o) ||
	    t_qp_connect(&peer, &s, IBV_MTU_1024, 7)) {
		t_result(0, "qp_transitions", "setup: %s", strerror(errno));
		goto out;
	}
	memset(&init, 0, sizeof(init));
	init.qp_state = IBV_QPS_INIT;
	init.port_num = 1;
	init.qp_access_flags = T_MR_ACCESS;
	t_rtr_attr(&rtr, s.dev, peer.dev, peer.qp->qp_num, IBV_MTU_1024);
	t_rts_attr(&rts, 7);

	bad_mods("in_reset", s.qp, IBV_QPS_RESET, &init, in_reset,
		 sizeof(in_reset) / sizeof(in_reset[0]));
	if ((ret = ibv_modify_qp(s.qp, &init, T_INIT_MASK))) {
		t_result(0, name, "RESET->INIT: %s", strerror(ret));
		goto out;
	}
	bad_mods("in_init", s.qp, IBV_QPS_INIT, &rtr, in_init,
		 sizeof(in_init) / sizeof(in_init[0]));
	if ((ret = ibv_modify_qp(s.qp, &rtr, T_RTR_MASK))) {
		t_result(0, name, "INIT->RTR: %s", strerror(ret));
		goto out;
	}
	bad_mods("in_rtr", s.qp, IBV_QPS_RTR, &rts, in_rtr, sizeof(in_rtr) / sizeof(in_rtr[0]));
	/* Still a working responder in RTR: the peer's SEND arrives. */
	t_fill(peer.buf, 1000, 21);
	if (t_post_recv(&s, 1, 0, 4096) || t_post_one(&peer, 2, IBV_WR_SEND, 0, 1000, 0, 0) ||
	    t_expect_wc(&peer, name, "peer", 2, IBV_WC_SUCCESS, IBV_WC_SEND))
		goto out;
	if (t_expect_recv(&s, name, 1, 1000, &wc))
		goto out;
	if (memcmp(s.buf, peer.buf, 1000)) {
		t_result(0, name, "receive in RTR: data differs");
		goto out;
	}
	if ((ret = ibv_modify_qp(s.qp, &rts, T_RTS_MASK))) {
		t_result(0, name, "RTR->RTS: %s", strerror(ret));
		goto out;
	}
	bad_mods("in_rts", s.qp, IBV_QPS_RTS, &rtr, in_rts, sizeof(in_rts) / sizeof(in_rts[0]));
	/* An allowed RTS->RTS change still works. */
	memset(&a, 0, sizeof(a));
	a.qp_state = IBV_QPS_RTS;
	a.min_rnr_timer = 2;
	if ((ret = ibv_modify_qp(s.qp, &a, IBV_QP_STATE | IBV_QP_MIN_RNR_TIMER))) {
		t_result(0, name, "RTS->RTS min_rnr_timer: %s", strerror(ret));
		goto out;
	}
	/* WRITE then READ back through the QP that saw every rejection. */
	t_fill(s.buf, 8192, 22);
	memset(peer.buf, 0, BUF_SIZE);
	if (t_post_one(&s, 3, IBV_WR_RDMA_WRITE, 0, 5000, (uintptr_t)peer.buf + 100,
		       peer.mr->rkey) ||
	    t_expect_wc(&s, name, "writer", 3, IBV_WC_SUCCESS, IBV_WC_RDMA_WRITE))
		goto out;
	if (memcmp(peer.buf + 100, s.buf, 5000) || peer.buf[99] || peer.buf[5100]) {
		t_result(0, name, "WRITE data differs");
		goto out;
	}
	if (t_post_one(&s, 4, IBV_WR_RDMA_READ, 10000, 5000, (uintptr_t)peer.buf + 100,
		       peer.mr->rkey) ||
	    t_expect_wc(&s, name, "reader", 4, IBV_WC_SUCCESS, IBV_WC_RDMA_READ))
		goto out;
	if (memcmp(s.buf + 10000, s.buf, 5000)) {
		t_result(0, name, "READ data differs");
		goto out;
	}
	t_pass(name);

	/* ERR accepts only RESET (and ERR). */
	memset(&a, 0, sizeof(a));
	a.qp_state = IBV_QPS_ERR;
	if ((ret = ibv_modify_qp(s.qp, &a, IBV_QP_STATE))) {
		t_result(0, "qp_in_err", "RTS->ERR: %s", strerror(ret));
		goto out;
	}
	bad_mods("in_err", s.qp, IBV_QPS_ERR, &rtr, in_err, sizeof(in_err) / sizeof(in_err[0]));
	a.qp_state = IBV_QPS_RESET;
	ret = ibv_modify_qp(s.qp, &a, IBV_QP_STATE);
	if (!ret)
		ret = ibv_modify_qp(s.qp, &init, T_INIT_MASK);
	if (t_want("qp_err_reset_init"))
		t_result(!ret && t_qp_state(s.qp) == IBV_QPS_INIT, "qp_err_reset_init",
			 "ERR->RESET->INIT: %s", strerror(ret));
out:
	t_side_fini(&s);
	t_side_fini(&peer);
}

/* The tests that move data, for pinned and ODP memory. */
static void data_tests(int m)
{
	test_wrong_pd_lkey(m, IBV_WR_SEND, "send");
	test_wrong_pd_lkey(m, IBV_WR_RDMA_WRITE, "write");
	test_wrong_pd_lkey(m, IBV_WR_RDMA_READ, "read");
	test_wrong_pd_recv(m);
	test_wrong_pd_rkey(m, IBV_WR_RDMA_WRITE, "write");
	test_wrong_pd_rkey(m, IBV_WR_RDMA_READ, "read");
	test_wrong_pd_rkey(m, IBV_WR_ATOMIC_FETCH_AND_ADD, "atomic");
	test_post_send_too_many(m);
	test_post_recv_too_many(m, 0);
	test_post_recv_too_many(m, 1);
}

/* The tests without data: once, before the memory kinds. */
static void once(void)
{
	printf("# max_sge %d, max_srq_sge %d\n", devs[0].attr.max_sge, devs[0].attr.max_srq_sge);
	test_create_sge_limits();
	test_qp_transitions();
}

int main(int argc, char **argv)
{
	return t_main(argc, argv, "errors [-d DEV] [-D DEV2] [-m pinned|odp|both] [-f FILTER]",
		      devs, once, "errors", data_tests);
}
