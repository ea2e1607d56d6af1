// SPDX-License-Identifier: GPL-2.0
/*
 * rc - the RC data path end to end: two QPs connected to each other, each
 * opcode with pinned and ODP memory, data checked byte for byte, and the
 * error paths with their exact completion statuses on both sides.
 *
 * Usage: rc [-d DEV] [-D DEV2] [-m pinned|odp|both] [-e] [-f FILTER] [-6] [-S]
 *   -d DEV   requester device (default: the first sodp* device)
 *   -D DEV2  responder device (default: DEV, i.e. loopback on one device);
 *            any two devices whose RoCEv2 IPv4 GIDs reach each other
 *            (two softodp devices, softodp <-> rdma_rxe)
 *   -m MODE  memory of the data tests: pinned, odp or both (default both);
 *            ODP is used only on devices that report RC ODP support
 *   -e       skip the error-path tests (for peers with other semantics)
 *   -6       use global IPv6 RoCEv2 GIDs instead of IPv4-mapped ones
 *   -S       ODP memory on softodp devices only; a stock peer stays pinned
 *   -f STRS  run only tests whose name contains one of the
 *            comma-separated STRS
 * Prints "PASS name" / "FAIL name: why" and "N passed, N failed"; exits 1
 * if anything failed.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <arpa/inet.h>
#include <infiniband/verbs.h>

#include "common.h"

#define BUF_SIZE (256 * 1024)

static int with_srq; /* the next pair's responder receives from an SRQ */

static struct t_dev devs[2];

/*
 * Both sides, connected.  @acc_b: access of the responder's MR.  On
 * failure FAIL @name and clean up.
 */
static int pair_init(struct t_pair *p, const char *name, int odp, int acc_b, int rnr_retry)
{
	struct t_side_opts oa = {.len = BUF_SIZE, .odp = odp};
	struct t_side_opts ob = {.len = BUF_SIZE, .access = acc_b, .odp = odp, .srq = with_srq};

	if (!t_pair_init(p, devs, &oa, &ob, 0, rnr_retry))
		return 0;
	t_result(0, name, "setup: %s", strerror(errno));
	t_pair_fini(p);
	return -1;
}

static int post_send(struct t_side *s, struct ibv_send_wr *wr)
{
	struct ibv_send_wr *bad;

	wr->send_flags |= IBV_SEND_SIGNALED;
	return ibv_post_send(s->qp, wr, &bad);
}

#define TNAME(buf, fmt, ...) snprintf(buf, sizeof(buf), fmt, ##__VA_ARGS__)

/* ---- data tests ------------------------------------------------------- */

static const uint32_t sizes[] = {1, 63, 1024, 4096, 3 * 4096 + 5, 65536};

static void test_send(int odp, int imm)
{
	char name[96];
	struct t_pair p;
	size_t k;

	TNAME(name, "send%s%s_%s", imm ? "_imm" : "", with_srq ? "_srq" : "", t_mem_name(odp));
	if (!t_want(name))
		return;
	if (pair_init(&p, name, odp, T_MR_ACCESS, 7))
		return;
	for (k = 0; k < sizeof(sizes) / sizeof(sizes[0]); k++) {
		uint32_t n = sizes[k];
		struct ibv_sge sge = {
			.addr = (uintptr_t)p.a.buf,
			.length = n,
			.lkey = p.a.mr->lkey,
		};
		struct ibv_send_wr wr = {
			.wr_id = 100 + k,
			.sg_list = &sge,
			.num_sge = 1,
			.opcode = imm ? IBV_WR_SEND_WITH_IMM : IBV_WR_SEND,
			.imm_data = htonl(0xabc00 + k),
		};
		struct ibv_wc wc;

		t_fill(p.a.buf, n, k + 1);
		memset(p.b.buf, 0, n + 16);
		if (t_post_recv(&p.b, 200 + k, 0, BUF_SIZE) || post_send(&p.a, &wr)) {
			t_result(0, name, "post failed");
			goto out;
		}
		if (t_expect_wc(&p.a, name, "sender", 100 + k, IBV_WC_SUCCESS, IBV_WC_SEND))
			goto out;
		if (t_poll_one(p.b.cq, &wc, T_POLL_MS) || wc.status != IBV_WC_SUCCESS ||
		    wc.wr_id != 200 + k || wc.opcode != IBV_WC_RECV || wc.byte_len != n ||
		    wc.qp_num != p.b.qp->qp_num ||
		    /* rdma_rxe leaves src_qp 0 on RC (valid for UD only) */
		    (!strncmp(devs[1].name, "sodp", 4) && wc.src_qp != p.a.qp->qp_num) ||
		    (imm &&
		     (!(wc.wc_flags & IBV_WC_WITH_IMM) || wc.imm_data != htonl(0xabc00 + k))) ||
		    (!imm && (wc.wc_flags & IBV_WC_WITH_IMM))) {
			t_result(0, name,
				 "size %u: recv wc status %s opcode %d len %u flags 0x%x imm 0x%x "
				 "src_qp %u",
				 n, ibv_wc_status_str(wc.status), wc.opcode, wc.byte_len,
				 wc.wc_flags, ntohl(wc.imm_data), wc.src_qp);
			goto out;
		}
		if (memcmp(p.a.buf, p.b.buf, n) || p.b.buf[n]) {
			t_result(0, name, "size %u: data differs", n);
			goto out;
		}
	}
	t_pass(name);
out:
	t_pair_fini(&p);
}

static void test_write(int odp, int imm)
{
	char name[96];
	struct t_pair p;
	size_t k;

	TNAME(name, "write%s_%s", imm ? "_imm" : "", t_mem_name(odp));
	if (!t_want(name))
		return;
	if (pair_init(&p, name, odp, T_MR_ACCESS, 7))
		return;
	for (k = 0; k < sizeof(sizes) / sizeof(sizes[0]); k++) {
		uint32_t n = sizes[k], off = 4096 + 3;
		struct ibv_sge sge = {
			.addr = (uintptr_t)p.a.buf,
			.length = n,
			.lkey = p.a.mr->lkey,
		};
		struct ibv_send_wr wr = {
			.wr_id = 100 + k,
			.sg_list = &sge,
			.num_sge = 1,
			.opcode = imm ? IBV_WR_RDMA_WRITE_WITH_IMM : IBV_WR_RDMA_WRITE,
			.imm_data = htonl(0x5150 + k),
			.wr.rdma =
				{
					.remote_addr = (uintptr_t)p.b.buf + off,
					.rkey = p.b.mr->rkey,
				},
		};
		struct ibv_wc wc;

		t_fill(p.a.buf, n, k + 7);
		memset(p.b.buf, 0, off + n + 16);
		if ((imm && t_post_recv(&p.b, 200 + k, 0, 0)) || post_send(&p.a, &wr)) {
			t_result(0, name, "post failed");
			goto out;
		}
		if (t_expect_wc(&p.a, name, "writer", 100 + k, IBV_WC_SUCCESS, IBV_WC_RDMA_WRITE))
			goto out;
		if (imm && (t_poll_one(p.b.cq, &wc, T_POLL_MS) || wc.status != IBV_WC_SUCCESS ||
			    wc.opcode != IBV_WC_RECV_RDMA_WITH_IMM || wc.byte_len != n ||
			    wc.wr_id != 200 + k || !(wc.wc_flags & IBV_WC_WITH_IMM) ||
			    wc.imm_data != htonl(0x5150 + k))) {
			t_result(0, name, "size %u: recv wc status %s opcode %d len %u imm 0x%x", n,
				 ibv_wc_status_str(wc.status), wc.opcode, wc.byte_len,
				 ntohl(wc.imm_data));
			goto out;
		}
		if (memcmp(p.a.buf, p.b.buf + off, n) || p.b.buf[off + n] || p.b.buf[off - 1]) {
			t_result(0, name, "size %u: data differs", n);
			goto out;
		}
	}
	t_pass(name);
out:
	t_pair_fini(&p);
}

static void test_read(int odp)
{
	char name[96];
	struct t_pair p;
	size_t k;

	TNAME(name, "read_%s", t_mem_name(odp));
	if (!t_want(name))
		return;
	if (pair_init(&p, name, odp, T_MR_ACCESS, 7))
		return;
	for (k = 0; k < sizeof(sizes) / sizeof(sizes[0]); k++) {
		uint32_t n = sizes[k], off = 8192 + 5;
		struct ibv_sge sge = {
			.addr = (uintptr_t)p.a.buf + 1,
			.length = n,
			.lkey = p.a.mr->lkey,
		};
		struct ibv_send_wr wr = {
			.wr_id = 100 + k,
			.sg_list = &sge,
			.num_sge = 1,
			.opcode = IBV_WR_RDMA_READ,
			.wr.rdma =
				{
					.remote_addr = (uintptr_t)p.b.buf + off,
					.rkey = p.b.mr->rkey,
				},
		};

		t_fill(p.b.buf + off, n, k + 3);
		memset(p.a.buf, 0, n + 16);
		if (post_send(&p.a, &wr)) {
			t_result(0, name, "post failed");
			goto out;
		}
		if (t_expect_wc(&p.a, name, "reader", 100 + k, IBV_WC_SUCCESS, IBV_WC_RDMA_READ))
			goto out;
		if (memcmp(p.a.buf + 1, p.b.buf + off, n) || p.a.buf[0] || p.a.buf[n + 1]) {
			t_result(0, name, "size %u: data differs", n);
			goto out;
		}
	}
	t_pass(name);
out:
	t_pair_fini(&p);
}

static void test_atomic(int odp)
{
	char name[96];
	struct t_pair p;
	uint64_t *remote, *local;
	struct ibv_sge sge;
	struct ibv_send_wr wr;
	int i;

	TNAME(name, "atomic_%s", t_mem_name(odp));
	if (!t_want(name))
		return;
	if (pair_init(&p, name, odp, T_MR_ACCESS, 7))
		return;
	remote = (uint64_t *)(p.b.buf + 4096 * 5 + 64);
	local = (uint64_t *)(p.a.buf + 128);
	*remote = 0x1111222233334444ULL;
	for (i = 0; i < 4; i++) {
		uint64_t before = *remote;
		int cas = i < 2;

		memset(&sge, 0, sizeof(sge));
		sge.addr = (uintptr_t)local;
		sge.length = 8;
		sge.lkey = p.a.mr->lkey;
		memset(&wr, 0, sizeof(wr));
		wr.wr_id = 10 + i;
		wr.sg_list = &sge;
		wr.num_sge = 1;
		wr.opcode = cas ? IBV_WR_ATOMIC_CMP_AND_SWP : IBV_WR_ATOMIC_FETCH_AND_ADD;
		wr.wr.atomic.remote_addr = (uintptr_t)remote;
		wr.wr.atomic.rkey = p.b.mr->rkey;
		/* i == 0: compare matches; i == 1: it does not. */
		wr.wr.atomic.compare_add = cas ? (i == 0 ? before : 77) : (uint64_t)(0x100 + i);
		wr.wr.atomic.swap = 0xfeedULL + i;
		*local = 0;
		if (post_send(&p.a, &wr)) {
			t_result(0, name, "post failed");
			goto out;
		}
		if (t_expect_wc(&p.a, name, "atomic", 10 + i, IBV_WC_SUCCESS,
				cas ? IBV_WC_COMP_SWAP : IBV_WC_FETCH_ADD))
			goto out;
		if (*local != before) {
			t_result(0, name, "op %d: returned 0x%llx, want 0x%llx", i,
				 (unsigned long long)*local, (unsigned long long)before);
			goto out;
		}
		{
			uint64_t after = cas ? (i == 0 ? 0xfeedULL : before)
					     : before + (uint64_t)(0x100 + i);

			if (*remote != after) {
				t_result(0, name, "op %d: remote 0x%llx, want 0x%llx", i,
					 (unsigned long long)*remote, (unsigned long long)after);
				goto out;
			}
		}
	}
	t_pass(name);
out:
	t_pair_fini(&p);
}

static void test_inline(int odp)
{
	char name[96];
	struct t_pair p;
	uint8_t data[100];
	struct ibv_sge sge = {.addr = (uintptr_t)data, .length = sizeof(data)};
	struct ibv_send_wr wr = {
		.wr_id = 1,
		.sg_list = &sge,
		.num_sge = 1,
		.opcode = IBV_WR_SEND,
		.send_flags = IBV_SEND_INLINE,
	};
	struct ibv_wc wc;

	TNAME(name, "inline_%s", t_mem_name(odp));
	if (!t_want(name))
		return;
	if (pair_init(&p, name, odp, T_MR_ACCESS, 7))
		return;
	t_fill(data, sizeof(data), 9);
	if (t_post_recv(&p.b, 2, 0, 4096) || post_send(&p.a, &wr)) {
		t_result(0, name, "post failed");
		goto out;
	}
	/* The buffer may change once posted: inline data was copied. */
	memset(data, 0, sizeof(data));
	if (t_expect_wc(&p.a, name, "sender", 1, IBV_WC_SUCCESS, IBV_WC_SEND))
		goto out;
	if (t_poll_one(p.b.cq, &wc, T_POLL_MS) || wc.status || wc.byte_len != sizeof(data)) {
		t_result(0, name, "recv: %s len %u", ibv_wc_status_str(wc.status), wc.byte_len);
		goto out;
	}
	t_fill(data, sizeof(data), 9);
	if (memcmp(data, p.b.buf, sizeof(data))) {
		t_result(0, name, "send data differs");
		goto out;
	}
	/* Inline RDMA WRITE. */
	wr.opcode = IBV_WR_RDMA_WRITE;
	wr.wr_id = 3;
	wr.wr.rdma.remote_addr = (uintptr_t)p.b.buf + 1000;
	wr.wr.rdma.rkey = p.b.mr->rkey;
	if (post_send(&p.a, &wr)) {
		t_result(0, name, "post write failed");
		goto out;
	}
	if (t_expect_wc(&p.a, name, "writer", 3, IBV_WC_SUCCESS, IBV_WC_RDMA_WRITE))
		goto out;
	t_result(!memcmp(data, p.b.buf + 1000, sizeof(data)), name, "write data differs");
out:
	t_pair_fini(&p);
}

static void test_multi_sge(int odp)
{
	char name[96];
	struct t_pair p;
	struct ibv_sge sg[3], rg[2];
	struct ibv_send_wr wr;
	struct ibv_recv_wr rw, *rbad;
	struct ibv_wc wc;
	uint8_t expect[3 * 5000];
	uint32_t lens[3] = {5000, 1, 4000};
	uint32_t off = 0;
	int i;

	TNAME(name, "multi_sge_%s", t_mem_name(odp));
	if (!t_want(name))
		return;
	if (pair_init(&p, name, odp, T_MR_ACCESS, 7))
		return;
	t_fill(p.a.buf, BUF_SIZE / 2, 5);
	for (i = 0; i < 3; i++) {
		sg[i].addr = (uintptr_t)p.a.buf + 20000 * i + 7;
		sg[i].length = lens[i];
		sg[i].lkey = p.a.mr->lkey;
		memcpy(expect + off, p.a.buf + 20000 * i + 7, lens[i]);
		off += lens[i];
	}
	memset(p.b.buf, 0, BUF_SIZE);
	rg[0].addr = (uintptr_t)p.b.buf + 100;
	rg[0].length = 3000;
	rg[0].lkey = p.b.mr->lkey;
	rg[1].addr = (uintptr_t)p.b.buf + 50000;
	rg[1].length = 10000;
	rg[1].lkey = p.b.mr->lkey;
	memset(&rw, 0, sizeof(rw));
	rw.wr_id = 9;
	rw.sg_list = rg;
	rw.num_sge = 2;
	memset(&wr, 0, sizeof(wr));
	wr.wr_id = 8;
	wr.sg_list = sg;
	wr.num_sge = 3;
	wr.opcode = IBV_WR_SEND;
	if (ibv_post_recv(p.b.qp, &rw, &rbad) || post_send(&p.a, &wr)) {
		t_result(0, name, "post failed");
		goto out;
	}
	if (t_expect_wc(&p.a, name, "sender", 8, IBV_WC_SUCCESS, IBV_WC_SEND))
		goto out;
	if (t_poll_one(p.b.cq, &wc, T_POLL_MS) || wc.status || wc.byte_len != off) {
		t_result(0, name, "recv: %s len %u", ibv_wc_status_str(wc.status), wc.byte_len);
		goto out;
	}
	if (memcmp(expect, p.b.buf + 100, 3000) ||
	    memcmp(expect + 3000, p.b.buf + 50000, off - 3000)) {
		t_result(0, name, "send data differs");
		goto out;
	}
	/* The same gather list as an RDMA WRITE, and READ back. */
	wr.opcode = IBV_WR_RDMA_WRITE;
	wr.wr_id = 10;
	wr.wr.rdma.remote_addr = (uintptr_t)p.b.buf + 70000;
	wr.wr.rdma.rkey = p.b.mr->rkey;
	if (post_send(&p.a, &wr) ||
	    t_expect_wc(&p.a, name, "writer", 10, IBV_WC_SUCCESS, IBV_WC_RDMA_WRITE))
		goto out;
	if (memcmp(expect, p.b.buf + 70000, off)) {
		t_result(0, name, "write data differs");
		goto out;
	}
	for (i = 0; i < 3; i++)
		memset(p.a.buf + 20000 * i + 7, 0, lens[i]);
	wr.opcode = IBV_WR_RDMA_READ;
	wr.wr_id = 11;
	if (post_send(&p.a, &wr) ||
	    t_expect_wc(&p.a, name, "reader", 11, IBV_WC_SUCCESS, IBV_WC_RDMA_READ))
		goto out;
	off = 0;
	for (i = 0; i < 3; i++) {
		if (memcmp(expect + off, p.a.buf + 20000 * i + 7, lens[i])) {
			t_result(0, name, "read data differs in sge %d", i);
			goto out;
		}
		off += lens[i];
	}
	t_pass(name);
out:
	t_pair_fini(&p);
}

static void test_zero_length(int odp)
{
	char name[96];
	struct t_pair p;
	struct ibv_send_wr wr;
	struct ibv_wc wc;
	int ops[3] = {IBV_WR_SEND, IBV_WR_RDMA_WRITE, IBV_WR_RDMA_READ};
	int wcs[3] = {IBV_WC_SEND, IBV_WC_RDMA_WRITE, IBV_WC_RDMA_READ};
	int i;

	TNAME(name, "zero_length_%s", t_mem_name(odp));
	if (!t_want(name))
		return;
	if (pair_init(&p, name, odp, T_MR_ACCESS, 7))
		return;
	for (i = 0; i < 3; i++) {
		memset(&wr, 0, sizeof(wr));
		wr.wr_id = 50 + i;
		wr.opcode = ops[i];
		wr.num_sge = 0;
		wr.wr.rdma.remote_addr = (uintptr_t)p.b.buf;
		wr.wr.rdma.rkey = p.b.mr->rkey;
		if ((i == 0 && t_post_recv(&p.b, 60, 0, 16)) || post_send(&p.a, &wr)) {
			t_result(0, name, "post failed");
			goto out;
		}
		if (t_expect_wc(&p.a, name, "requester", 50 + i, IBV_WC_SUCCESS, wcs[i]))
			goto out;
		if (i == 0 && (t_poll_one(p.b.cq, &wc, T_POLL_MS) || wc.status ||
			       wc.byte_len != 0 || wc.wr_id != 60)) {
			t_result(0, name, "recv: %s len %u", ibv_wc_status_str(wc.status),
				 wc.byte_len);
			goto out;
		}
	}
	t_pass(name);
out:
	t_pair_fini(&p);
}

/* Many messages in flight: windows, AckReq coalescing, ordering. */
/*
 * 48 WRITEs and READs on eight 16 KiB slots, unsignaled but the last.
 * WRITEs gather from the slots at the start of A's buffer, READs scatter
 * into the slots after them, so no buffer is both a READ's sink and a
 * later WRITE's source (only a fence would order those).  The responder
 * executes in order: each READ returns the slot as the WRITEs before it
 * left it.
 */
static void test_stream(int odp)
{
	const uint32_t sz = 16384, nslot = 8;
	int i, n = 48, written[8] = {0}, last_read[8] = {0};
	uint8_t *b_init = malloc(nslot * sz);
	char name[96];
	struct t_pair p;
	uint32_t k;

	TNAME(name, "stream_%s", t_mem_name(odp));
	if (!t_want(name) || !b_init) {
		free(b_init);
		return;
	}
	if (pair_init(&p, name, odp, T_MR_ACCESS, 7)) {
		free(b_init);
		return;
	}
	t_fill(p.a.buf, 2 * nslot * sz, 77);
	t_fill(p.b.buf, nslot * sz, 78);
	memcpy(b_init, p.b.buf, nslot * sz);
	for (i = 0; i < n; i++) {
		int rd = i % 3 == 2;
		struct ibv_sge sge = {
			.addr = (uintptr_t)p.a.buf + ((rd ? nslot : 0) + i % nslot) * sz,
			.length = sz,
			.lkey = p.a.mr->lkey,
		};
		struct ibv_send_wr wr = {
			.wr_id = i,
			.sg_list = &sge,
			.num_sge = 1,
			.opcode = rd ? IBV_WR_RDMA_READ : IBV_WR_RDMA_WRITE,
			.send_flags = i == n - 1 ? IBV_SEND_SIGNALED : 0,
			.wr.rdma =
				{
					.remote_addr = (uintptr_t)p.b.buf + (i % nslot) * sz,
					.rkey = p.b.mr->rkey,
				},
		};
		struct ibv_send_wr *bad;

		if (rd)
			last_read[i % nslot] = written[i % nslot];
		else
			written[i % nslot] = 1;
		if (ibv_post_send(p.a.qp, &wr, &bad)) {
			t_result(0, name, "post %d failed", i);
			goto out;
		}
	}
	if (t_expect_wc(&p.a, name, "requester", n - 1, IBV_WC_SUCCESS,
			(n - 1) % 3 == 2 ? IBV_WC_RDMA_READ : IBV_WC_RDMA_WRITE))
		goto out;
	for (k = 0; k < nslot; k++) {
		const uint8_t *want_b = written[k] ? p.a.buf + k * sz : b_init + k * sz;

		if (memcmp(p.b.buf + k * sz, want_b, sz)) {
			t_result(0, name, "responder slot %u differs", k);
			goto out;
		}
	}
	for (i = 0; i < n; i++) {
		const uint8_t *want;

		if (i % 3 != 2)
			continue;
		k = i % nslot;
		want = last_read[k] ? p.a.buf + k * sz : b_init + k * sz;
		if (memcmp(p.a.buf + (nslot + k) * sz, want, sz)) {
			t_result(0, name, "READ sink slot %u differs", k);
			goto out;
		}
	}
	t_result(1, name, "%s", "");
out:
	free(b_init);
	t_pair_fini(&p);
}

/* ---- error paths ------------------------------------------------------- */

/* The responder QP stops answering (RESET): the requester gives up. */
static void test_retry_exceeded(int odp)
{
	char name[96];
	struct t_pair p;
	struct ibv_qp_attr a = {.qp_state = IBV_QPS_RESET};
	struct ibv_sge sge;
	struct ibv_send_wr wr;

	TNAME(name, "err_retry_exceeded_%s", t_mem_name(odp));
	if (!t_want(name))
		return;
	if (pair_init(&p, name, odp, T_MR_ACCESS, 7))
		return;
	if (ibv_modify_qp(p.b.qp, &a, IBV_QP_STATE)) {
		t_result(0, name, "responder to RESET: %s", strerror(errno));
		t_pair_fini(&p);
		return;
	}
	memset(&sge, 0, sizeof(sge));
	sge.addr = (uintptr_t)p.a.buf;
	sge.length = 64;
	sge.lkey = p.a.mr->lkey;
	memset(&wr, 0, sizeof(wr));
	wr.wr_id = 5;
	wr.sg_list = &sge;
	wr.num_sge = 1;
	wr.opcode = IBV_WR_RDMA_WRITE;
	wr.wr.rdma.remote_addr = (uintptr_t)p.b.buf;
	wr.wr.rdma.rkey = p.b.mr->rkey;
	if (post_send(&p.a, &wr)) {
		t_result(0, name, "post failed");
		goto out;
	}
	if (!t_expect_wc(&p.a, name, "requester", 5, IBV_WC_RETRY_EXC_ERR, -1))
		t_pass(name);
out:
	t_pair_fini(&p);
}

/*
 * One failing request: requester status @st_a; the responder, if
 * @recv_posted, sees @st_b on its receive (flush when its QP errors).
 */
static void test_error(const char *what, int odp, int acc_b, int opcode, int bad_lkey, int bad_rkey,
		       uint64_t roff, uint32_t len, int unmap, int recv_posted, uint32_t recv_len,
		       enum ibv_wc_status st_a, enum ibv_wc_status st_b)
{
	char name[96];
	struct t_pair p;
	struct ibv_sge sge;
	struct ibv_send_wr wr;

	TNAME(name, "err_%s_%s", what, t_mem_name(odp));
	if (!t_want(name))
		return;
	if (pair_init(&p, name, odp, acc_b, what[0] == 'r' && what[1] == 'n' ? 0 : 7))
		return;
	if (unmap && munmap(p.b.buf + roff, 4096)) {
		t_result(0, name, "munmap: %s", strerror(errno));
		goto out;
	}
	memset(&sge, 0, sizeof(sge));
	sge.addr = (uintptr_t)p.a.buf;
	sge.length = len;
	sge.lkey = bad_lkey ? p.a.mr->lkey + 0x1000 : p.a.mr->lkey;
	memset(&wr, 0, sizeof(wr));
	wr.wr_id = 77;
	wr.sg_list = &sge;
	wr.num_sge = 1;
	wr.opcode = opcode;
	if (opcode == IBV_WR_ATOMIC_FETCH_AND_ADD) {
		wr.wr.atomic.remote_addr = (uintptr_t)p.b.buf + roff;
		wr.wr.atomic.rkey = bad_rkey ? p.b.mr->rkey ^ 0x100 : p.b.mr->rkey;
		wr.wr.atomic.compare_add = 1;
	} else {
		wr.wr.rdma.remote_addr = (uintptr_t)p.b.buf + roff;
		wr.wr.rdma.rkey = bad_rkey ? p.b.mr->rkey ^ 0x100 : p.b.mr->rkey;
	}
	if ((recv_posted && t_post_recv(&p.b, 88, 0, recv_len)) || post_send(&p.a, &wr)) {
		t_result(0, name, "post failed");
		goto out;
	}
	if (t_expect_wc(&p.a, name, "requester", 77, st_a, -1))
		goto out;
	if (recv_posted && t_expect_wc(&p.b, name, "responder", 88, st_b, -1))
		goto out;
	if (!recv_posted && t_poll_none(p.b.cq, 200)) {
		t_result(0, name, "unexpected responder completion");
		goto out;
	}
	t_pass(name);
out:
	if (unmap)
		mmap(p.b.buf + roff, 4096, PROT_READ | PROT_WRITE,
		     MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
	t_pair_fini(&p);
}

static void error_tests(int odp)
{
	int no_rw = IBV_ACCESS_LOCAL_WRITE | IBV_ACCESS_REMOTE_READ;

	/* Local protection: bad lkey on the gather list. */
	test_error("bad_lkey", odp, T_MR_ACCESS, IBV_WR_SEND, 1, 0, 0, 100, 0, 0, 0,
		   IBV_WC_LOC_PROT_ERR, 0);
	/* Bad rkey: remote access error; the responder's QP errors. */
	test_error("bad_rkey_write", odp, T_MR_ACCESS, IBV_WR_RDMA_WRITE, 0, 1, 0, 100, 0, 1, 4096,
		   IBV_WC_REM_ACCESS_ERR, IBV_WC_WR_FLUSH_ERR);
	test_error("bad_rkey_read", odp, T_MR_ACCESS, IBV_WR_RDMA_READ, 0, 1, 0, 100, 0, 0, 0,
		   IBV_WC_REM_ACCESS_ERR, 0);
	test_error("bad_rkey_atomic", odp, T_MR_ACCESS, IBV_WR_ATOMIC_FETCH_AND_ADD, 0, 1, 0, 8, 0,
		   0, 0, IBV_WC_REM_ACCESS_ERR, 0);
	/* Out of the region's bounds. */
	test_error("oob_write", odp, T_MR_ACCESS, IBV_WR_RDMA_WRITE, 0, 0, BUF_SIZE - 50, 100, 0, 0,
		   0, IBV_WC_REM_ACCESS_ERR, 0);
	test_error("oob_read", odp, T_MR_ACCESS, IBV_WR_RDMA_READ, 0, 0, BUF_SIZE - 50, 100, 0, 0,
		   0, IBV_WC_REM_ACCESS_ERR, 0);
	/* Access rights of the remote MR. */
	test_error("no_remote_write", odp, no_rw, IBV_WR_RDMA_WRITE, 0, 0, 0, 100, 0, 0, 0,
		   IBV_WC_REM_ACCESS_ERR, 0);
	test_error("no_remote_atomic", odp, no_rw, IBV_WR_ATOMIC_FETCH_AND_ADD, 0, 0, 0, 8, 0, 0, 0,
		   IBV_WC_REM_ACCESS_ERR, 0);
	/* Receive buffer too small: invalid request / local length. */
	test_error("recv_too_small", odp, T_MR_ACCESS, IBV_WR_SEND, 0, 0, 0, 100, 0, 1, 10,
		   IBV_WC_REM_INV_REQ_ERR, IBV_WC_LOC_LEN_ERR);
	/* No receive posted and rnr_retry 0. */
	test_error("rnr_exceeded", odp, T_MR_ACCESS, IBV_WR_SEND, 0, 0, 0, 10, 0, 0, 0,
		   IBV_WC_RNR_RETRY_EXC_ERR, 0);
	test_retry_exceeded(odp);
	/* ODP: a page of the remote region is no longer mapped. */
	if (odp && devs[1].odp_ok) {
		test_error("odp_unmapped_write", odp, T_MR_ACCESS, IBV_WR_RDMA_WRITE, 0, 0, 8192,
			   100, 1, 0, 0, IBV_WC_REM_ACCESS_ERR, 0);
		test_error("odp_unmapped_read", odp, T_MR_ACCESS, IBV_WR_RDMA_READ, 0, 0, 8192, 100,
			   1, 0, 0, IBV_WC_REM_ACCESS_ERR, 0);
	}
}

static int errors = 1;

static int rc_opt(int opt, const char *arg)
{
	(void)arg;
	if (opt != 'e')
		return -1;
	errors = 0;
	return 0;
}

int main(int argc, char **argv)
{
	int ret, m;

	ret = t_start(argc, argv,
		      "rc [-d DEV] [-D DEV2] [-m pinned|odp|both] [-e] [-f FILTER] [-6] [-S]", "e",
		      rc_opt, devs);
	if (ret)
		return ret;
	for (m = 0; m < 2; m++) {
		if (!t_mode(m))
			continue;
		if (m == 1 && !devs[0].odp_ok && !devs[1].odp_ok)
			continue;
		test_send(m, 0);
		test_send(m, 1);
		with_srq = 1;
		test_send(m, 0);
		with_srq = 0;
		test_write(m, 0);
		test_write(m, 1);
		test_read(m);
		test_atomic(m);
		test_inline(m);
		test_multi_sge(m);
		test_zero_length(m);
		test_stream(m);
		if (errors)
			error_tests(m);
	}
	return t_summary();
}
