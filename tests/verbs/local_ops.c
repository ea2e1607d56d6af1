// SPDX-License-Identifier: GPL-2.0
/*
 * local_ops - invalidation work requests and the SQD state through the
 * stock librxe provider.
 *
 * User MRs (ibv_reg_mr, pinned or ODP) live until deregistered: only
 * fast-reg regions of kernel consumers can be invalidated (softodp_kverbs
 * covers those).  So from user space:
 *   - IBV_WR_LOCAL_INV of an MR's key completes with IBV_WC_LOC_QP_OP_ERR
 *     and the MR keeps working for a new QP;
 *   - IBV_WR_SEND_WITH_INV naming an MR's rkey: the receiver's completion
 *     is IBV_WC_REM_INV_REQ_ERR, the sender's too (NAK invalid request),
 *     and the MR still works afterwards.
 * SQD: a QP moved to SQD with en_sqd_async_notify finishes the message it
 * started, raises IBV_EVENT_SQ_DRAINED, starts nothing posted while in SQD
 * (the responder's memory stays untouched), and runs it after SQD -> RTS;
 * ibv_query_qp reports SQD.
 * Fence: a WRITE with IBV_SEND_FENCE whose source is the sink of the READ
 * posted before it sends the READ's data, every time.
 *
 * Options: those of every data test (common.h t_start).
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "common.h"

#define BUF_SIZE (1 << 20)

static struct t_dev devs[2];

static int pair_init(struct t_pair *p, int odp)
{
	struct t_side_opts o = {.len = BUF_SIZE, .odp = odp};

	return t_pair_init(p, devs, &o, &o, IBV_MTU_1024, 7);
}

/*
 * Name the test "@what_pinned" or "@what_odp"; if the filter selects it,
 * set up a connected pair.  0, or nonzero to skip the test (a failed set-up
 * is reported).
 */
static int start(struct t_pair *p, char *name, size_t n, const char *what, int odp)
{
	snprintf(name, n, "%s_%s", what, t_mem_name(odp));
	if (!t_want(name))
		return -1;
	if (pair_init(p, odp)) {
		t_result(0, name, "setup failed");
		t_pair_fini(p);
		return -1;
	}
	return 0;
}

/*
 * Reconnect the pair's QPs (through RESET, same MRs) and move data
 * through side b's MR: the MR still works, and test @name passes.
 */
static void pass_if_still_works(struct t_pair *p, const char *name)
{
	struct ibv_qp_attr r = {.qp_state = IBV_QPS_RESET};
	struct ibv_wc wc;

	if (ibv_modify_qp(p->a.qp, &r, IBV_QP_STATE) || ibv_modify_qp(p->b.qp, &r, IBV_QP_STATE) ||
	    t_qp_connect(&p->a, &p->b, IBV_MTU_1024, 7) ||
	    t_qp_connect(&p->b, &p->a, IBV_MTU_1024, 7)) {
		t_result(0, name, "reconnect failed");
		return;
	}
	while (t_poll_one(p->a.cq, &wc, 0) == 0 || t_poll_one(p->b.cq, &wc, 0) == 0)
		;
	t_fill(p->a.buf, 4096, 11);
	if (t_post_one(&p->a, 50, IBV_WR_RDMA_WRITE, 0, 4096, (uintptr_t)p->b.buf, p->b.mr->rkey) ||
	    t_expect_wc(&p->a, name, "write after", 50, IBV_WC_SUCCESS, IBV_WC_RDMA_WRITE))
		return;
	t_result(t_diff(p->a.buf, p->b.buf, 4096) < 0, name,
		 "data differs after the failed invalidation");
}

static void test_local_inv(int odp)
{
	struct ibv_send_wr wr = {
		.wr_id = 1, .opcode = IBV_WR_LOCAL_INV, .send_flags = IBV_SEND_SIGNALED};
	struct ibv_send_wr *bad;
	char name[64];
	struct t_pair p;

	if (start(&p, name, sizeof(name), "local_inv_user_mr", odp))
		return;
	wr.invalidate_rkey = p.b.mr->rkey;
	if (ibv_post_send(p.b.qp, &wr, &bad)) {
		t_result(0, name, "post LOCAL_INV failed");
		goto out;
	}
	if (t_expect_wc(&p.b, name, "local_inv", 1, IBV_WC_LOC_QP_OP_ERR, -1))
		goto out;
	pass_if_still_works(&p, name);
out:
	t_pair_fini(&p);
}

static void test_send_with_inv(int odp)
{
	struct ibv_send_wr wr = {.wr_id = 2,
				 .opcode = IBV_WR_SEND_WITH_INV,
				 .send_flags = IBV_SEND_SIGNALED,
				 .num_sge = 1};
	struct ibv_send_wr *bad;
	struct ibv_sge sge;
	struct ibv_wc wc;
	char name[64];
	struct t_pair p;

	if (start(&p, name, sizeof(name), "send_with_inv_user_mr", odp))
		return;
	sge.addr = (uintptr_t)p.a.buf;
	sge.length = 64;
	sge.lkey = p.a.mr->lkey;
	wr.sg_list = &sge;
	wr.invalidate_rkey = p.b.mr->rkey;
	if (t_post_recv(&p.b, 3, 0, 4096) || ibv_post_send(p.a.qp, &wr, &bad)) {
		t_result(0, name, "post failed");
		goto out;
	}
	if (t_expect_wc(&p.a, name, "requester", 2, IBV_WC_REM_INV_REQ_ERR, -1))
		goto out;
	if (t_poll_one(p.b.cq, &wc, T_POLL_MS) || wc.wr_id != 3 ||
	    wc.status != IBV_WC_REM_INV_REQ_ERR) {
		t_result(0, name, "responder: wr_id %llu status %s", (unsigned long long)wc.wr_id,
			 ibv_wc_status_str(wc.status));
		goto out;
	}
	/* The MR was not invalidated: it serves the reconnected QPs. */
	pass_if_still_works(&p, name);
out:
	t_pair_fini(&p);
}

static void test_sqd(int odp)
{
	struct ibv_qp_attr a = {.qp_state = IBV_QPS_SQD, .en_sqd_async_notify = 1};
	struct ibv_qp_init_attr init;
	struct ibv_qp *evqp = NULL;
	char name[64];
	struct t_pair p;
	int ev, i;

	if (start(&p, name, sizeof(name), "sqd_drain", odp))
		return;
	t_async_drain(devs[0].ctx);
	t_fill(p.a.buf, BUF_SIZE, 5);
	memset(p.b.buf, 0, BUF_SIZE);
	/* Several messages, then SQD while they are on the wire. */
	for (i = 0; i < 4; i++) {
		if (t_post_one(&p.a, 10 + i, IBV_WR_RDMA_WRITE, i * 65536, 65536,
			       (uintptr_t)p.b.buf + i * 65536, p.b.mr->rkey)) {
			t_result(0, name, "post failed");
			goto out;
		}
	}
	if (ibv_modify_qp(p.a.qp, &a, IBV_QP_STATE | IBV_QP_EN_SQD_ASYNC_NOTIFY)) {
		t_result(0, name, "modify to SQD failed");
		goto out;
	}
	ev = t_async_event(devs[0].ctx, T_POLL_MS, &evqp);
	if (ev != IBV_EVENT_SQ_DRAINED || evqp != p.a.qp) {
		t_result(0, name, "expected IBV_EVENT_SQ_DRAINED for the QP, got %d", ev);
		goto out;
	}
	if (ibv_query_qp(p.a.qp, &a, IBV_QP_STATE, &init) || a.qp_state != IBV_QPS_SQD) {
		t_result(0, name, "query: state %d, expected SQD", a.qp_state);
		goto out;
	}
	/* Posted in SQD: not started. */
	memset(p.b.buf + 512 * 1024, 0, 65536);
	if (t_post_one(&p.a, 20, IBV_WR_RDMA_WRITE, 512 * 1024, 65536,
		       (uintptr_t)p.b.buf + 512 * 1024, p.b.mr->rkey)) {
		t_result(0, name, "post in SQD failed");
		goto out;
	}
	usleep(300 * 1000);
	for (i = 0; i < 65536; i++) {
		if (p.b.buf[512 * 1024 + i]) {
			t_result(0, name, "a WRITE posted in SQD ran");
			goto out;
		}
	}
	a.qp_state = IBV_QPS_RTS;
	if (ibv_modify_qp(p.a.qp, &a, IBV_QP_STATE)) {
		t_result(0, name, "SQD -> RTS failed");
		goto out;
	}
	for (i = 0; i < 4; i++)
		if (t_expect_wc(&p.a, name, "write", 10 + i, IBV_WC_SUCCESS, IBV_WC_RDMA_WRITE))
			goto out;
	if (t_expect_wc(&p.a, name, "write in SQD", 20, IBV_WC_SUCCESS, IBV_WC_RDMA_WRITE))
		goto out;
	if (t_diff(p.a.buf, p.b.buf, 4 * 65536) >= 0 ||
	    t_diff(p.a.buf + 512 * 1024, p.b.buf + 512 * 1024, 65536) >= 0) {
		t_result(0, name, "data differs");
		goto out;
	}
	t_result(1, name, "%s", "");
out:
	t_pair_fini(&p);
}

/*
 * IBV_SEND_FENCE: a WRITE whose source is the sink of the READ before it
 * waits for the READ's data, so it sends what the READ fetched.
 */
static void test_fence(int odp)
{
	const size_t sz = 65536, dst = 4 * 65536;
	char name[64];
	struct t_pair p;
	int round;

	if (start(&p, name, sizeof(name), "fence_write_after_read", odp))
		return;
	for (round = 0; round < 8; round++) {
		struct ibv_sge sge = {
			.addr = (uintptr_t)p.a.buf, .length = sz, .lkey = p.a.mr->lkey};
		struct ibv_send_wr w = {.wr_id = 2,
					.sg_list = &sge,
					.num_sge = 1,
					.opcode = IBV_WR_RDMA_WRITE,
					.send_flags = IBV_SEND_SIGNALED | IBV_SEND_FENCE,
					.wr.rdma = {(uintptr_t)p.b.buf + dst, p.b.mr->rkey}};
		struct ibv_send_wr *bad;

		t_fill(p.a.buf, sz, 100 + round);
		t_fill(p.b.buf, sz, 200 + round);
		if (t_post_one(&p.a, 1, IBV_WR_RDMA_READ, 0, sz, (uintptr_t)p.b.buf,
			       p.b.mr->rkey) ||
		    ibv_post_send(p.a.qp, &w, &bad)) {
			t_result(0, name, "post failed");
			goto out;
		}
		if (t_expect_wc(&p.a, name, "read", 1, IBV_WC_SUCCESS, IBV_WC_RDMA_READ) ||
		    t_expect_wc(&p.a, name, "write", 2, IBV_WC_SUCCESS, IBV_WC_RDMA_WRITE))
			goto out;
		if (t_diff(p.b.buf + dst, p.b.buf, sz) >= 0) {
			t_result(0, name,
				 "round %d: the fenced WRITE sent data the READ had not placed",
				 round);
			goto out;
		}
	}
	t_result(1, name, "%s", "");
out:
	t_pair_fini(&p);
}

static void each_mode(int odp)
{
	test_fence(odp);
	test_local_inv(odp);
	test_send_with_inv(odp);
	test_sqd(odp);
}

int main(int argc, char **argv)
{
	return t_main(argc, argv, "local_ops [-d DEV] [-D DEV2] [-m pinned|odp|both] [-f FILTER]",
		      devs, NULL, "local_ops", each_mode);
}
