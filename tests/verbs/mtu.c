// SPDX-License-Identifier: GPL-2.0
/*
 * mtu - the path MTU sweep: for each path MTU (ibv_modify_qp path_mtu),
 * SEND, RDMA WRITE and RDMA READ of 1, mtu-1, mtu, mtu+1, 3*mtu+7 bytes
 * and 1 MiB, pinned and ODP, data compared byte for byte with guard bytes
 * on both sides of the target.  When the two ends are different devices
 * and the one sending the payload is a softodp device, its tx_packets
 * counter must grow by exactly ceil(len / mtu) per message (at least that
 * many if it retransmitted), so the MTU really cuts the packets.
 *
 * Usage: mtu [-d DEV] [-D DEV2] [-m pinned|odp|both] [-M MTU,...] [-f FILTER] [-S]
 *   -d/-D as in rc (default: loopback on the first sodp* device)
 *   -M    path MTUs in bytes (default 256,512,1024,2048,4096); each must
 *         be at most the active_mtu of both ports
 * Prints "PASS name" / "FAIL name: why" and "N passed, N failed"; exits 1
 * if anything failed.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common.h"

#define MAX_MSG	 (1024 * 1024)
#define SRC_OFF	 3
#define DST_OFF	 (4096 + 5)
#define BUF_SIZE (MAX_MSG + 3 * 4096)
#define GUARD	 0xa5

static struct t_dev devs[2];

static enum ibv_mtu mtu_enum(int bytes)
{
	switch (bytes) {
	case 256:
		return IBV_MTU_256;
	case 512:
		return IBV_MTU_512;
	case 1024:
		return IBV_MTU_1024;
	case 2048:
		return IBV_MTU_2048;
	case 4096:
		return IBV_MTU_4096;
	}
	return (enum ibv_mtu)0;
}

/* The device whose tx_packets counts the payload packets, or NULL. */
static const struct t_dev *payload_sender(enum ibv_wr_opcode op)
{
	const struct t_dev *d = op == IBV_WR_RDMA_READ ? &devs[1] : &devs[0];

	if (!strcmp(devs[0].name, devs[1].name) || !d->is_softodp)
		return NULL;
	return d;
}

/*
 * Retransmissions and duplicates on either softodp end (cached counters,
 * read right after tx_packets): when these move, a message may have cost
 * more packets than its length says.
 */
static long long resends(void)
{
	long long sum = 0, v;
	int i;

	for (i = 0; i < 2; i++) {
		if (!devs[i].is_softodp || (i == 1 && !strcmp(devs[0].name, devs[1].name)))
			continue;
		v = t_hw_counter_cached(devs[i].name, "retransmits");
		sum += v < 0 ? 1000000 : v;
		v = t_hw_counter_cached(devs[i].name, "duplicate_requests");
		sum += v < 0 ? 1000000 : v;
	}
	return sum;
}

/* One message of @n bytes; 0 or -1 (FAILed). */
static int one_msg(struct t_pair *p, const char *name, enum ibv_wr_opcode op, uint32_t n, int mtu,
		   unsigned int seed)
{
	const struct t_dev *sd = payload_sender(op);
	struct t_side *src = op == IBV_WR_RDMA_READ ? &p->b : &p->a;
	struct t_side *dst = op == IBV_WR_RDMA_READ ? &p->a : &p->b;
	long long tx0 = 0, rt0 = 0, tx1, rt1, want = (n + mtu - 1) / mtu;
	struct ibv_wc wc;
	int wc_op = op == IBV_WR_SEND	      ? IBV_WC_SEND
		    : op == IBV_WR_RDMA_WRITE ? IBV_WC_RDMA_WRITE
					      : IBV_WC_RDMA_READ;
	long d;

	t_fill(src->buf + SRC_OFF, n, seed);
	memset(dst->buf + DST_OFF - 16, GUARD, n + 32);
	if (sd) {
		t_hw_counters_settle();
		tx0 = t_hw_counter_cached(sd->name, "tx_packets");
		rt0 = resends();
	}
	if (op == IBV_WR_SEND) {
		if (t_post_recv(&p->b, 2, DST_OFF, BUF_SIZE - DST_OFF) ||
		    t_post_one(&p->a, 1, op, SRC_OFF, n, 0, 0)) {
			t_result(0, name, "size %u: post failed", n);
			return -1;
		}
	} else {
		/* READ: the local buffer is the destination. */
		size_t loff = op == IBV_WR_RDMA_READ ? DST_OFF : SRC_OFF;
		size_t roff = op == IBV_WR_RDMA_READ ? SRC_OFF : DST_OFF;

		if (t_post_one(&p->a, 1, op, loff, n, (uintptr_t)p->b.buf + roff, p->b.mr->rkey)) {
			t_result(0, name, "size %u: post failed", n);
			return -1;
		}
	}
	if (t_expect_wc(&p->a, name, "requester", 1, IBV_WC_SUCCESS, wc_op))
		return -1;
	if (op == IBV_WR_SEND && t_expect_recv(&p->b, name, 2, n, &wc))
		return -1;
	d = t_diff(src->buf + SRC_OFF, dst->buf + DST_OFF, n);
	if (d >= 0) {
		t_result(0, name, "size %u: data differs at byte %ld (packet %ld)", n, d, d / mtu);
		return -1;
	}
	if (dst->buf[DST_OFF - 1] != GUARD || dst->buf[DST_OFF + n] != GUARD) {
		t_result(0, name, "size %u: wrote outside the target", n);
		return -1;
	}
	if (sd) {
		t_hw_counters_settle();
		tx1 = t_hw_counter_cached(sd->name, "tx_packets");
		rt1 = resends();
		if (tx0 < 0 || tx1 < 0) {
			t_result(0, name, "%s: no tx_packets counter", sd->name);
			return -1;
		}
		if (rt1 == rt0 ? tx1 - tx0 != want : tx1 - tx0 < want) {
			t_result(0, name,
				 "size %u: %s sent %lld packets, want %lld (retransmits %lld)", n,
				 sd->name, tx1 - tx0, want, rt1 - rt0);
			return -1;
		}
	}
	return 0;
}

static void test_mtu(int mtu, int odp)
{
	static const enum ibv_wr_opcode ops[3] = {IBV_WR_SEND, IBV_WR_RDMA_WRITE, IBV_WR_RDMA_READ};
	static const char *const op_names[3] = {"send", "write", "read"};
	struct t_side_opts o = {.len = BUF_SIZE, .odp = odp};
	uint32_t sizes[6] = {1, mtu - 1, mtu, mtu + 1, 3 * mtu + 7, MAX_MSG};
	char name[96];
	struct ibv_qp_attr qa;
	struct ibv_qp_init_attr qi;
	struct t_pair p;
	int i, k, any = 0;

	for (i = 0; i < 3; i++) {
		snprintf(name, sizeof(name), "mtu%d_%s_%s", mtu, op_names[i], t_mem_name(odp));
		any |= t_want(name);
	}
	if (!any)
		return;
	snprintf(name, sizeof(name), "mtu%d_connect_%s", mtu, t_mem_name(odp));
	if (t_pair_init(&p, devs, &o, &o, mtu_enum(mtu), 7)) {
		t_result(0, name, "setup: %s", strerror(errno));
		goto out;
	}
	if (ibv_query_qp(p.a.qp, &qa, IBV_QP_PATH_MTU, &qi) || qa.path_mtu != mtu_enum(mtu)) {
		t_result(0, name, "query_qp path_mtu %d, want %d", qa.path_mtu, mtu_enum(mtu));
		goto out;
	}
	for (i = 0; i < 3; i++) {
		snprintf(name, sizeof(name), "mtu%d_%s_%s", mtu, op_names[i], t_mem_name(odp));
		if (!t_want(name))
			continue;
		for (k = 0; k < 6; k++)
			if (one_msg(&p, name, ops[i], sizes[k], mtu, mtu + 10 * i + k))
				break;
		if (k == 6)
			t_pass(name);
	}
out:
	t_pair_fini(&p);
}

static const char *mtus = "256,512,1024,2048,4096";

static int mtu_opt(int opt, const char *arg)
{
	if (opt != 'M')
		return -1;
	mtus = arg;
	return 0;
}

int main(int argc, char **argv)
{
	char *list, *tok, *save;
	int ret, m, active;

	ret = t_start(argc, argv,
		      "mtu [-d DEV] [-D DEV2] [-m pinned|odp|both] [-M MTU,...] [-f FILTER] [-S]",
		      "M:", mtu_opt, devs);
	if (ret)
		return ret;
	active = t_mtu_bytes(devs[0].active_mtu < devs[1].active_mtu ? devs[0].active_mtu
								     : devs[1].active_mtu);
	list = strdup(mtus);
	for (tok = strtok_r(list, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		int mtu = atoi(tok);
		char name[64];

		snprintf(name, sizeof(name), "mtu%d", mtu);
		if (!mtu_enum(mtu) || mtu > active) {
			t_result(0, name, "path MTU %d unusable: active MTU %d", mtu, active);
			continue;
		}
		for (m = 0; m < 2; m++) {
			if (!t_mode(m))
				continue;
			/* ODP where a device has it (rdma_rxe on 6.1/6.12 has none). */
			if (m == 1 && !devs[0].odp_ok && !devs[1].odp_ok) {
				t_result(0, name, "neither %s nor %s has RC ODP", devs[0].name,
					 devs[1].name);
				continue;
			}
			test_mtu(mtu, m);
		}
	}
	free(list);
	return t_summary();
}
