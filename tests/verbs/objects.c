// SPDX-License-Identifier: GPL-2.0
/*
 * objects - verbs object management on a softodp device through the
 * stock librxe provider: PD, CQ (completion channel, notify, resize), SRQ
 * (limit, resize), RC QP state machine and attribute checks, pinned and
 * ODP memory regions, address handles, and the flush of outstanding work
 * requests when a QP enters the error state.
 *
 * Usage: objects [DEVICE]   (default: the first device named sodp*)
 * Prints "PASS name" / "FAIL name: why" and "N passed, N failed"; exits 1
 * if anything failed.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <infiniband/verbs.h>

#include "common.h"

static struct t_dev dev;

static void test_device(struct ibv_context *ctx)
{
	struct ibv_device_attr_ex ex;
	struct ibv_port_attr port;
	uint32_t rc_want = IBV_ODP_SUPPORT_SEND | IBV_ODP_SUPPORT_RECV | IBV_ODP_SUPPORT_WRITE |
			   IBV_ODP_SUPPORT_READ | IBV_ODP_SUPPORT_ATOMIC | IBV_ODP_SUPPORT_SRQ_RECV;
	int ret;

	ret = ibv_query_device_ex(ctx, NULL, &ex);
	T_CHECK(!ret, "query_device_ex", "errno %d", ret);
	if (ret)
		return;
	T_CHECK(ex.odp_caps.general_caps & IBV_ODP_SUPPORT, "odp_general_caps",
		"general_caps 0x%llx", (unsigned long long)ex.odp_caps.general_caps);
	T_CHECK((ex.odp_caps.per_transport_caps.rc_odp_caps & rc_want) == rc_want, "odp_rc_caps",
		"rc_odp_caps 0x%x", ex.odp_caps.per_transport_caps.rc_odp_caps);
	T_CHECK(ex.orig_attr.phys_port_cnt == 1 && ex.orig_attr.max_qp > 0, "device_attr",
		"ports %d max_qp %d", ex.orig_attr.phys_port_cnt, ex.orig_attr.max_qp);
	ret = ibv_query_port(ctx, 1, &port);
	T_CHECK(!ret && port.link_layer == IBV_LINK_LAYER_ETHERNET && port.state == IBV_PORT_ACTIVE,
		"query_port", "ret %d link_layer %d state %d", ret, port.link_layer, port.state);
}

/* The extended CQ (librxe's create_cq_ex and start_poll path). */
static void test_cq_ex(struct ibv_context *ctx)
{
	struct ibv_cq_init_attr_ex attr = {
		.cqe = 32,
		.wc_flags = IBV_WC_EX_WITH_BYTE_LEN | IBV_WC_EX_WITH_QP_NUM,
	};
	struct ibv_poll_cq_attr pattr = {};
	struct ibv_cq_ex *cq;
	int ret;

	cq = ibv_create_cq_ex(ctx, &attr);
	T_CHECK(cq, "create_cq_ex", "errno %d", errno);
	if (!cq)
		return;
	ret = ibv_start_poll(cq, &pattr);
	T_CHECK(ret == ENOENT, "start_poll_empty", "ret %d", ret);
	if (!ret)
		ibv_end_poll(cq);
	ret = ibv_destroy_cq(ibv_cq_ex_to_cq(cq));
	T_CHECK(!ret, "destroy_cq_ex", "ret %d", ret);
}

static void test_cq(struct ibv_context *ctx)
{
	struct ibv_comp_channel *ch;
	struct ibv_cq *cq;
	struct ibv_wc wc;
	int ret;

	ch = ibv_create_comp_channel(ctx);
	T_CHECK(ch, "comp_channel", "errno %d", errno);
	cq = ibv_create_cq(ctx, 100, NULL, ch, 0);
	T_CHECK(cq && cq->cqe >= 100, "create_cq", "errno %d cqe %d", errno, cq ? cq->cqe : -1);
	if (!cq)
		goto out;
	ret = ibv_req_notify_cq(cq, 0);
	T_CHECK(!ret, "req_notify_cq", "ret %d", ret);
	ret = ibv_req_notify_cq(cq, 1);
	T_CHECK(!ret, "req_notify_cq_solicited", "ret %d", ret);
	T_CHECK(ibv_poll_cq(cq, 1, &wc) == 0, "poll_empty_cq", "not empty");
	ret = ibv_resize_cq(cq, 1000);
	T_CHECK(!ret && cq->cqe >= 1000, "resize_cq", "ret %d cqe %d", ret, cq->cqe);
	T_CHECK(ibv_poll_cq(cq, 1, &wc) == 0, "poll_resized_cq", "not empty");
	ret = ibv_resize_cq(cq, 1 << 30);
	T_CHECK(ret, "resize_cq_too_big", "succeeded");
	ret = ibv_destroy_cq(cq);
	T_CHECK(!ret, "destroy_cq", "ret %d", ret);
	cq = ibv_create_cq(ctx, 1 << 30, NULL, NULL, 0);
	T_CHECK(!cq && errno == EINVAL, "create_cq_too_big", "cq %p errno %d", (void *)cq, errno);
	if (cq)
		ibv_destroy_cq(cq);
out:
	if (ch)
		ibv_destroy_comp_channel(ch);
}

static void test_srq(struct ibv_pd *pd)
{
	struct ibv_srq_init_attr init = {
		.attr = {.max_wr = 16, .max_sge = 2, .srq_limit = 0},
	};
	struct ibv_srq_attr attr;
	struct ibv_recv_wr wr = {.wr_id = 7}, *bad;
	struct ibv_srq *srq;
	int ret;

	srq = ibv_create_srq(pd, &init);
	T_CHECK(srq && init.attr.max_wr >= 16, "create_srq", "errno %d", errno);
	if (!srq)
		return;
	attr.srq_limit = 4;
	ret = ibv_modify_srq(srq, &attr, IBV_SRQ_LIMIT);
	T_CHECK(!ret, "modify_srq_limit", "ret %d", ret);
	ret = ibv_query_srq(srq, &attr);
	T_CHECK(!ret && attr.srq_limit == 4, "query_srq_limit", "ret %d limit %u", ret,
		attr.srq_limit);
	attr.srq_limit = 100000;
	ret = ibv_modify_srq(srq, &attr, IBV_SRQ_LIMIT);
	T_CHECK(ret == EINVAL, "modify_srq_bad_limit", "ret %d", ret);
	ret = ibv_post_srq_recv(srq, &wr, &bad);
	T_CHECK(!ret, "post_srq_recv", "ret %d", ret);
	attr.max_wr = 64;
	ret = ibv_modify_srq(srq, &attr, IBV_SRQ_MAX_WR);
	T_CHECK(!ret, "resize_srq", "ret %d", ret);
	ret = ibv_query_srq(srq, &attr);
	T_CHECK(!ret && attr.max_wr >= 64, "query_srq_resized", "ret %d max_wr %u", ret,
		attr.max_wr);
	ret = ibv_post_srq_recv(srq, &wr, &bad);
	T_CHECK(!ret, "post_srq_recv_resized", "ret %d", ret);
	ret = ibv_destroy_srq(srq);
	T_CHECK(!ret, "destroy_srq", "ret %d", ret);
}

static void test_mr(struct ibv_pd *pd)
{
	int rw = IBV_ACCESS_LOCAL_WRITE | IBV_ACCESS_REMOTE_WRITE | IBV_ACCESS_REMOTE_READ |
		 IBV_ACCESS_REMOTE_ATOMIC;
	size_t len = 1 << 20;
	struct ibv_mr *mr, *odp, *imp;
	char *buf;

	buf = aligned_alloc(4096, len);
	if (!buf) {
		T_CHECK(0, "mr_buffer", "no memory");
		return;
	}
	memset(buf, 0, len);
	mr = ibv_reg_mr(pd, buf + 100, len - 200, rw);
	T_CHECK(mr && mr->lkey && mr->lkey == mr->rkey, "reg_mr_pinned", "errno %d", errno);
	odp = ibv_reg_mr(pd, buf, len, rw | IBV_ACCESS_ON_DEMAND);
	T_CHECK(odp && odp->lkey != (mr ? mr->lkey : 0), "reg_mr_odp", "errno %d", errno);
	imp = ibv_reg_mr(pd, NULL, SIZE_MAX, rw | IBV_ACCESS_ON_DEMAND);
	T_CHECK(imp, "reg_mr_implicit_odp", "errno %d", errno);
	if (mr)
		T_CHECK(!ibv_dereg_mr(mr), "dereg_mr_pinned", "errno %d", errno);
	if (odp)
		T_CHECK(!ibv_dereg_mr(odp), "dereg_mr_odp", "errno %d", errno);
	if (imp)
		T_CHECK(!ibv_dereg_mr(imp), "dereg_mr_implicit", "errno %d", errno);
	/* Remote write without local write is invalid (IBTA). */
	mr = ibv_reg_mr(pd, buf, len, IBV_ACCESS_REMOTE_WRITE);
	T_CHECK(!mr && errno == EINVAL, "reg_mr_bad_access", "errno %d", errno);
	if (mr)
		ibv_dereg_mr(mr);
	free(buf);
}

static struct ibv_qp *create_rc(struct ibv_pd *pd, struct ibv_cq *cq, struct ibv_srq *srq)
{
	return t_create_rc_qp(pd, cq, srq, 16, 2, NULL);
}

static int to_init(struct ibv_qp *qp)
{
	struct ibv_qp_attr a = {
		.qp_state = IBV_QPS_INIT,
		.pkey_index = 0,
		.port_num = 1,
		.qp_access_flags = IBV_ACCESS_REMOTE_WRITE | IBV_ACCESS_REMOTE_READ,
	};

	return ibv_modify_qp(qp, &a,
			     IBV_QP_STATE | IBV_QP_PKEY_INDEX | IBV_QP_PORT | IBV_QP_ACCESS_FLAGS);
}

static void test_qp(struct ibv_context *ctx, struct ibv_pd *pd)
{
	struct ibv_qp_attr a, q;
	struct ibv_qp_init_attr qi;
	struct ibv_comp_channel *ch;
	struct ibv_cq *cq, *ev_cq;
	struct ibv_recv_wr rwr[2], *rbad;
	struct ibv_send_wr swr, *sbad;
	struct ibv_sge sge;
	struct ibv_wc wc[8];
	struct ibv_mr *mr;
	struct pollfd pfd;
	struct ibv_qp *qp;
	void *ev_ctx;
	char buf[256];
	int gid_index, ret, n, i, ok;

	gid_index = dev.gid_index;
	T_CHECK(gid_index >= 0, "roce_v2_gid", "no IPv4 RoCEv2 GID");
	if (gid_index < 0)
		return;
	ch = ibv_create_comp_channel(ctx);
	cq = ch ? ibv_create_cq(ctx, 64, NULL, ch, 0) : NULL;
	mr = ibv_reg_mr(pd, buf, sizeof(buf), IBV_ACCESS_LOCAL_WRITE);
	if (!cq || !mr) {
		T_CHECK(0, "qp_setup", "errno %d", errno);
		return;
	}
	qp = create_rc(pd, cq, NULL);
	T_CHECK(qp && qp->qp_num >= 16, "create_rc_qp", "errno %d", errno);
	if (!qp)
		return;

	memset(&a, 0, sizeof(a));
	a.qp_state = IBV_QPS_RTR;
	ret = ibv_modify_qp(qp, &a, IBV_QP_STATE);
	T_CHECK(ret == EINVAL, "reset_to_rtr_rejected", "ret %d", ret);
	ret = to_init(qp);
	T_CHECK(!ret, "reset_to_init", "ret %d", ret);
	a.qp_state = IBV_QPS_RTS;
	ret = ibv_modify_qp(qp, &a, IBV_QP_STATE);
	T_CHECK(ret == EINVAL, "init_to_rts_rejected", "ret %d", ret);

	t_rtr_attr(&a, &dev, &dev, qp->qp_num, IBV_MTU_1024);
	ret = ibv_modify_qp(qp, &a, T_RTR_MASK & ~IBV_QP_DEST_QPN);
	T_CHECK(ret == EINVAL, "rtr_missing_attr_rejected", "ret %d", ret);
	a.path_mtu = 7;
	ret = ibv_modify_qp(qp, &a, T_RTR_MASK);
	T_CHECK(ret == EINVAL, "rtr_bad_mtu_rejected", "ret %d", ret);
	t_rtr_attr(&a, &dev, &dev, qp->qp_num, IBV_MTU_1024);
	a.min_rnr_timer = 32;
	ret = ibv_modify_qp(qp, &a, T_RTR_MASK);
	T_CHECK(ret == EINVAL, "rtr_bad_rnr_timer_rejected", "ret %d", ret);
	t_rtr_attr(&a, &dev, &dev, qp->qp_num, IBV_MTU_1024);
	a.ah_attr.is_global = 0;
	ret = ibv_modify_qp(qp, &a, T_RTR_MASK);
	T_CHECK(ret == EINVAL, "rtr_no_grh_rejected", "ret %d", ret);
	t_rtr_attr(&a, &dev, &dev, qp->qp_num, IBV_MTU_1024);
	ret = ibv_modify_qp(qp, &a, T_RTR_MASK);
	T_CHECK(!ret, "init_to_rtr", "ret %d", ret);

	t_rts_attr(&a, 7);
	a.sq_psn = 0x456;
	a.max_rd_atomic = 1;
	a.retry_cnt = 8;
	ret = ibv_modify_qp(qp, &a, T_RTS_MASK);
	T_CHECK(ret == EINVAL, "rts_bad_retry_cnt_rejected", "ret %d", ret);
	a.retry_cnt = 7;
	a.timeout = 32;
	ret = ibv_modify_qp(qp, &a, T_RTS_MASK);
	T_CHECK(ret == EINVAL, "rts_bad_timeout_rejected", "ret %d", ret);
	a.timeout = 14;
	ret = ibv_modify_qp(qp, &a, T_RTS_MASK);
	T_CHECK(!ret, "rtr_to_rts", "ret %d", ret);

	ret = ibv_query_qp(
		qp, &q,
		IBV_QP_STATE | IBV_QP_PATH_MTU | IBV_QP_DEST_QPN | IBV_QP_SQ_PSN | IBV_QP_AV, &qi);
	T_CHECK(!ret && q.qp_state == IBV_QPS_RTS && q.path_mtu == IBV_MTU_1024 &&
			q.dest_qp_num == qp->qp_num && q.sq_psn == 0x456 &&
			q.ah_attr.grh.sgid_index == gid_index && qi.cap.max_send_wr >= 16 &&
			qi.cap.max_inline_data >= 64,
		"query_qp", "ret %d state %d mtu %d dqpn %u psn %u", ret, q.qp_state, q.path_mtu,
		q.dest_qp_num, q.sq_psn);

	/* Outstanding work: two receives and a send (no wire yet). */
	sge.addr = (uintptr_t)buf;
	sge.length = sizeof(buf);
	sge.lkey = mr->lkey;
	for (i = 0; i < 2; i++) {
		memset(&rwr[i], 0, sizeof(rwr[i]));
		rwr[i].wr_id = 0x1001 + i;
		rwr[i].sg_list = &sge;
		rwr[i].num_sge = 1;
		rwr[i].next = i ? NULL : &rwr[1];
	}
	ret = ibv_post_recv(qp, rwr, &rbad);
	T_CHECK(!ret, "post_recv", "ret %d", ret);
	memset(&swr, 0, sizeof(swr));
	swr.wr_id = 0x2001;
	swr.opcode = IBV_WR_SEND;
	swr.send_flags = IBV_SEND_SIGNALED;
	swr.sg_list = &sge;
	swr.num_sge = 1;
	ret = ibv_post_send(qp, &swr, &sbad);
	T_CHECK(!ret, "post_send", "ret %d", ret);

	ret = ibv_req_notify_cq(cq, 0);
	T_CHECK(!ret, "arm_cq", "ret %d", ret);
	a.qp_state = IBV_QPS_ERR;
	ret = ibv_modify_qp(qp, &a, IBV_QP_STATE);
	T_CHECK(!ret, "rts_to_err", "ret %d", ret);

	pfd.fd = ch->fd;
	pfd.events = POLLIN;
	ret = poll(&pfd, 1, 2000);
	ok = ret == 1 && !ibv_get_cq_event(ch, &ev_cq, &ev_ctx) && ev_cq == cq;
	T_CHECK(ok, "cq_event", "poll %d", ret);
	if (ok)
		ibv_ack_cq_events(cq, 1);

	n = t_poll_n(cq, wc, 3, 1000);
	ok = n == 3;
	for (i = 0; ok && i < 3; i++)
		ok = wc[i].status == IBV_WC_WR_FLUSH_ERR && wc[i].qp_num == qp->qp_num;
	T_CHECK(ok, "flush_completions", "got %d", n);
	if (ok) {
		int recv = 0, send = 0;

		for (i = 0; i < 3; i++) {
			if (wc[i].wr_id == 0x2001)
				send++;
			else if (wc[i].wr_id == (uint64_t)(0x1001 + recv))
				recv++;
		}
		T_CHECK(send == 1 && recv == 2, "flush_wr_ids", "send %d recv %d (in order)", send,
			recv);
	}
	T_CHECK(ibv_poll_cq(cq, 8, wc) == 0, "flush_no_extra", "extra CQEs");

	/* A send posted in ERR is flushed through the doorbell. */
	swr.wr_id = 0x2002;
	ret = ibv_post_send(qp, &swr, &sbad);
	n = t_poll_n(cq, wc, 1, 1000);
	T_CHECK(!ret && n == 1 && wc[0].wr_id == 0x2002 && wc[0].status == IBV_WC_WR_FLUSH_ERR,
		"post_send_in_err_flushed", "ret %d n %d", ret, n);

	a.qp_state = IBV_QPS_RESET;
	ret = ibv_modify_qp(qp, &a, IBV_QP_STATE);
	T_CHECK(!ret, "err_to_reset", "ret %d", ret);
	ret = to_init(qp);
	T_CHECK(!ret, "reset_to_init_again", "ret %d", ret);
	ret = ibv_destroy_qp(qp);
	T_CHECK(!ret, "destroy_qp", "ret %d", ret);

	ibv_dereg_mr(mr);
	ibv_destroy_cq(cq);
	ibv_destroy_comp_channel(ch);
}

static void test_qp_misc(struct ibv_context *ctx, struct ibv_pd *pd)
{
	struct ibv_srq_init_attr si = {.attr = {.max_wr = 8, .max_sge = 1}};
	struct ibv_qp_cap cap = {
		.max_send_wr = 1, .max_recv_wr = 1, .max_send_sge = 1, .max_recv_sge = 1};
	struct ibv_ah_attr ah_attr;
	union ibv_gid gid;
	struct ibv_srq *srq;
	struct ibv_cq *cq;
	struct ibv_qp *qp;
	struct ibv_ah *ah;
	int gid_index;

	cq = ibv_create_cq(ctx, 16, NULL, NULL, 0);
	if (!cq) {
		T_CHECK(0, "misc_setup", "errno %d", errno);
		return;
	}
	qp = t_create_qp(pd, IBV_QPT_UD, cq, NULL, &cap, NULL);
	T_CHECK(qp && qp->qp_type == IBV_QPT_UD, "ud_qp_created", "errno %d", errno);
	if (qp)
		T_CHECK(!ibv_destroy_qp(qp), "ud_qp_destroyed", "errno %d", errno);
	qp = t_create_qp(pd, IBV_QPT_UC, cq, NULL, &cap, NULL);
	T_CHECK(qp && qp->qp_type == IBV_QPT_UC, "uc_qp_created", "errno %d", errno);
	if (qp)
		T_CHECK(!ibv_destroy_qp(qp), "uc_qp_destroyed", "errno %d", errno);
	/* RAW_PACKET is not a RoCE transport: refused as rdma_rxe does. */
	qp = t_create_qp(pd, IBV_QPT_RAW_PACKET, cq, NULL, &cap, NULL);
	T_CHECK(!qp && errno == EOPNOTSUPP, "raw_packet_qp_rejected", "qp %p errno %d", (void *)qp,
		errno);
	if (qp)
		ibv_destroy_qp(qp);

	cap.max_send_wr = 1 << 20;
	qp = t_create_qp(pd, IBV_QPT_RC, cq, NULL, &cap, NULL);
	T_CHECK(!qp && errno == EINVAL, "qp_too_many_wr_rejected", "qp %p errno %d", (void *)qp,
		errno);
	if (qp)
		ibv_destroy_qp(qp);

	srq = ibv_create_srq(pd, &si);
	qp = srq ? create_rc(pd, cq, srq) : NULL;
	T_CHECK(qp, "create_rc_qp_with_srq", "errno %d", errno);
	if (qp) {
		T_CHECK(!to_init(qp), "srq_qp_to_init", "errno %d", errno);
		T_CHECK(!ibv_destroy_qp(qp), "destroy_srq_qp", "errno %d", errno);
	}
	if (srq)
		ibv_destroy_srq(srq);

	gid_index = dev.gid_index;
	gid = dev.gid;
	memset(&ah_attr, 0, sizeof(ah_attr));
	ah_attr.is_global = 1;
	ah_attr.grh.dgid = gid;
	ah_attr.grh.sgid_index = gid_index;
	ah_attr.grh.hop_limit = 1;
	ah_attr.port_num = 1;
	ah = gid_index >= 0 ? ibv_create_ah(pd, &ah_attr) : NULL;
	T_CHECK(ah, "create_ah", "errno %d", errno);
	if (ah)
		T_CHECK(!ibv_destroy_ah(ah), "destroy_ah", "errno %d", errno);
	ibv_destroy_cq(cq);
}

int main(int argc, char **argv)
{
	struct ibv_context *ctx;
	struct ibv_pd *pd;

	setvbuf(stdout, NULL, _IOLBF, 0);
	/* Opens the device and finds its IPv4 RoCEv2 GID (checked in test_qp). */
	t_open_dev(&dev, argc > 1 ? argv[1] : NULL, 0);
	ctx = dev.ctx;
	T_CHECK(ctx, "open_device", "no device %s", argc > 1 ? argv[1] : "sodp*");
	if (!ctx)
		goto out;
	test_device(ctx);
	pd = ibv_alloc_pd(ctx);
	T_CHECK(pd, "alloc_pd", "errno %d", errno);
	if (pd) {
		test_cq(ctx);
		test_cq_ex(ctx);
		test_srq(pd);
		test_mr(pd);
		test_qp(ctx, pd);
		test_qp_misc(ctx, pd);
		T_CHECK(!ibv_dealloc_pd(pd), "dealloc_pd", "errno %d", errno);
	}
	T_CHECK(!ibv_close_device(ctx), "close_device", "errno %d", errno);
out:
	return t_summary();
}
