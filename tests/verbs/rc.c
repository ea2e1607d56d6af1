// SPDX-License-Identifier: GPL-2.0
/*
 * rc - the RC data path end to end: two QPs connected to each other, each
 * opcode with pinned and ODP memory, data checked byte for byte, and the
 * error paths with their exact completion statuses on both sides.
 *
 * Usage: rc [-d DEV] [-D DEV2] [-m pinned|odp|both] [-e] [-f FILTER] [-6]
 *   -d DEV   requester device (default: the first sodp* device)
 *   -D DEV2  responder device (default: DEV, i.e. loopback on one device);
 *            any two devices whose RoCEv2 IPv4 GIDs reach each other
 *            (two softodp devices, softodp <-> rdma_rxe)
 *   -m MODE  memory of the data tests: pinned, odp or both (default both);
 *            ODP is used only on devices that report RC ODP support
 *   -e       skip the error-path tests (for peers with other semantics)
 *   -6       use global IPv6 RoCEv2 GIDs instead of IPv4-mapped ones
 *   -f STRS  run only tests whose name contains one of the
 *            comma-separated STRS
 * Prints "PASS name" / "FAIL name: why" and "N passed, N failed"; exits 1
 * if anything failed.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <infiniband/verbs.h>

#define BUF_SIZE (256 * 1024)
#define POLL_MS	 20000

static int passed, failed;
static const char *filter;
static int use_v6;

static void result(int ok, const char *name, const char *fmt, ...)
{
	va_list ap;

	if (ok) {
		printf("PASS %s\n", name);
		passed++;
		return;
	}
	printf("FAIL %s: ", name);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	fflush(stdout);
	failed++;
}

struct dev {
	const char *name;
	struct ibv_context *ctx;
	int gid_index;
	union ibv_gid gid;
	enum ibv_mtu mtu;
	int odp_ok;
};

struct side {
	struct dev *dev;
	struct ibv_pd *pd;
	struct ibv_cq *cq;
	struct ibv_qp *qp;
	struct ibv_srq *srq;
	uint8_t *buf;
	struct ibv_mr *mr;
};

static int with_srq; /* the next pair's responder receives from an SRQ */

struct pair {
	struct side a; /* requester */
	struct side b; /* responder */
};

static struct dev devs[2];

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static int open_dev(struct dev *d, const char *want)
{
	struct ibv_device **list;
	struct ibv_port_attr pa;
	struct ibv_device_attr_ex ax;
	int i, n;

	list = ibv_get_device_list(&n);
	if (!list)
		return -1;
	for (i = 0; i < n; i++) {
		const char *name = ibv_get_device_name(list[i]);

		if (want ? !strcmp(name, want) : !strncmp(name, "sodp", 4)) {
			d->ctx = ibv_open_device(list[i]);
			d->name = strdup(name);
			break;
		}
	}
	ibv_free_device_list(list);
	if (!d->ctx)
		return -1;
	if (ibv_query_port(d->ctx, 1, &pa))
		return -1;
	d->mtu = pa.active_mtu;
	d->gid_index = -1;
	for (i = 0; i < pa.gid_tbl_len && i < 64; i++) {
		struct ibv_gid_entry e;

		if (ibv_query_gid_ex(d->ctx, 1, i, &e, 0))
			continue;
		if (e.gid_type != IBV_GID_TYPE_ROCE_V2)
			continue;
		/* IPv4-mapped (::ffff:a.b.c.d), or with -6 a global IPv6 GID */
		if (!use_v6 && memcmp(e.gid.raw, "\0\0\0\0\0\0\0\0\0\0\xff\xff", 12))
			continue;
		if (use_v6 && (!memcmp(e.gid.raw, "\0\0\0\0\0\0\0\0\0\0\xff\xff", 12) ||
			       (e.gid.raw[0] == 0xfe && (e.gid.raw[1] & 0xc0) == 0x80)))
			continue;
		d->gid_index = i;
		d->gid = e.gid;
		break;
	}
	memset(&ax, 0, sizeof(ax));
	if (!ibv_query_device_ex(d->ctx, NULL, &ax))
		d->odp_ok = (ax.odp_caps.general_caps & IBV_ODP_SUPPORT) &&
			    (ax.odp_caps.per_transport_caps.rc_odp_caps & IBV_ODP_SUPPORT_WRITE);
	return d->gid_index < 0 ? -1 : 0;
}

#define MR_ACCESS                                                                                  \
	(IBV_ACCESS_LOCAL_WRITE | IBV_ACCESS_REMOTE_WRITE | IBV_ACCESS_REMOTE_READ |               \
	 IBV_ACCESS_REMOTE_ATOMIC)

static int side_init(struct side *s, struct dev *d, int odp, int access)
{
	struct ibv_qp_init_attr ia = {
		.qp_type = IBV_QPT_RC,
		.cap =
			{
				.max_send_wr = 64,
				.max_recv_wr = 64,
				.max_send_sge = 4,
				.max_recv_sge = 4,
				.max_inline_data = 128,
			},
	};

	memset(s, 0, sizeof(*s));
	s->dev = d;
	s->pd = ibv_alloc_pd(d->ctx);
	s->cq = s->pd ? ibv_create_cq(d->ctx, 256, NULL, NULL, 0) : NULL;
	if (!s->cq)
		return -1;
	ia.send_cq = s->cq;
	ia.recv_cq = s->cq;
	if (with_srq && d == &devs[1]) {
		struct ibv_srq_init_attr sa = {
			.attr = {.max_wr = 64, .max_sge = 2},
		};

		s->srq = ibv_create_srq(s->pd, &sa);
		if (!s->srq)
			return -1;
		ia.srq = s->srq;
	}
	s->qp = ibv_create_qp(s->pd, &ia);
	if (!s->qp)
		return -1;
	s->buf = mmap(NULL, BUF_SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (s->buf == MAP_FAILED)
		return -1;
	if (odp && d->odp_ok)
		access |= IBV_ACCESS_ON_DEMAND;
	else
		memset(s->buf, 0, BUF_SIZE); /* pinned: populate */
	s->mr = ibv_reg_mr(s->pd, s->buf, BUF_SIZE, access);
	return s->mr ? 0 : -1;
}

static void side_fini(struct side *s)
{
	if (s->qp)
		ibv_destroy_qp(s->qp);
	if (s->srq)
		ibv_destroy_srq(s->srq);
	if (s->mr)
		ibv_dereg_mr(s->mr);
	if (s->buf && s->buf != MAP_FAILED)
		munmap(s->buf, BUF_SIZE);
	if (s->cq)
		ibv_destroy_cq(s->cq);
	if (s->pd)
		ibv_dealloc_pd(s->pd);
	memset(s, 0, sizeof(*s));
}

static int qp_connect(struct side *s, struct side *peer, int rnr_retry)
{
	struct ibv_qp_attr a;
	enum ibv_mtu mtu = s->dev->mtu < peer->dev->mtu ? s->dev->mtu : peer->dev->mtu;

	memset(&a, 0, sizeof(a));
	a.qp_state = IBV_QPS_INIT;
	a.port_num = 1;
	a.qp_access_flags = MR_ACCESS;
	if (ibv_modify_qp(s->qp, &a,
			  IBV_QP_STATE | IBV_QP_PKEY_INDEX | IBV_QP_PORT | IBV_QP_ACCESS_FLAGS))
		return -1;
	memset(&a, 0, sizeof(a));
	a.qp_state = IBV_QPS_RTR;
	a.path_mtu = mtu;
	a.dest_qp_num = peer->qp->qp_num;
	a.rq_psn = 0x123;
	a.max_dest_rd_atomic = 16;
	a.min_rnr_timer = 1;
	a.ah_attr.is_global = 1;
	a.ah_attr.port_num = 1;
	a.ah_attr.grh.dgid = peer->dev->gid;
	a.ah_attr.grh.sgid_index = s->dev->gid_index;
	a.ah_attr.grh.hop_limit = 64;
	if (ibv_modify_qp(s->qp, &a,
			  IBV_QP_STATE | IBV_QP_AV | IBV_QP_PATH_MTU | IBV_QP_DEST_QPN |
				  IBV_QP_RQ_PSN | IBV_QP_MAX_DEST_RD_ATOMIC | IBV_QP_MIN_RNR_TIMER))
		return -1;
	memset(&a, 0, sizeof(a));
	a.qp_state = IBV_QPS_RTS;
	a.timeout = 14;
	a.retry_cnt = 7;
	a.rnr_retry = rnr_retry;
	a.sq_psn = 0x123;
	a.max_rd_atomic = 16;
	return ibv_modify_qp(s->qp, &a,
			     IBV_QP_STATE | IBV_QP_TIMEOUT | IBV_QP_RETRY_CNT | IBV_QP_RNR_RETRY |
				     IBV_QP_SQ_PSN | IBV_QP_MAX_QP_RD_ATOMIC);
}

/* Both sides, connected.  @acc_b: access of the responder's MR. */
static int pair_init(struct pair *p, int odp, int acc_b, int rnr_retry)
{
	memset(p, 0, sizeof(*p));
	if (side_init(&p->a, &devs[0], odp, MR_ACCESS) || side_init(&p->b, &devs[1], odp, acc_b))
		return -1;
	if (qp_connect(&p->a, &p->b, rnr_retry) || qp_connect(&p->b, &p->a, rnr_retry))
		return -1;
	return 0;
}

static void pair_fini(struct pair *p)
{
	side_fini(&p->a);
	side_fini(&p->b);
}

static int poll_one(struct side *s, struct ibv_wc *wc)
{
	double end = now_ms() + POLL_MS;
	int n;

	do {
		n = ibv_poll_cq(s->cq, 1, wc);
		if (n)
			return n < 0 ? -1 : 0;
		usleep(100);
	} while (now_ms() < end);
	return -1;
}

/* No completion within @ms (used to check nothing unexpected arrived). */
static int poll_none(struct side *s, int ms)
{
	struct ibv_wc wc;
	double end = now_ms() + ms;

	do {
		if (ibv_poll_cq(s->cq, 1, &wc))
			return -1;
		usleep(1000);
	} while (now_ms() < end);
	return 0;
}

static int post_recv(struct side *s, uint64_t id, uint32_t off, uint32_t len)
{
	struct ibv_sge sge = {
		.addr = (uintptr_t)s->buf + off,
		.length = len,
		.lkey = s->mr->lkey,
	};
	struct ibv_recv_wr wr = {.wr_id = id, .sg_list = &sge, .num_sge = 1};
	struct ibv_recv_wr *bad;

	if (s->srq)
		return ibv_post_srq_recv(s->srq, &wr, &bad);
	return ibv_post_recv(s->qp, &wr, &bad);
}

static int post_send(struct side *s, struct ibv_send_wr *wr)
{
	struct ibv_send_wr *bad;

	wr->send_flags |= IBV_SEND_SIGNALED;
	return ibv_post_send(s->qp, wr, &bad);
}

static void fill(uint8_t *p, size_t n, unsigned int seed)
{
	size_t i;

	for (i = 0; i < n; i++)
		p[i] = (uint8_t)(seed * 131 + i * 7 + (i >> 8));
}

/* FILTER: comma-separated substrings, any of which selects a test. */
static int want(const char *name)
{
	const char *f = filter;

	if (!f)
		return 1;
	while (*f) {
		size_t n = strcspn(f, ",");
		char part[64];

		if (n && n < sizeof(part)) {
			memcpy(part, f, n);
			part[n] = 0;
			if (strstr(name, part))
				return 1;
		}
		f += n + (f[n] == ',');
	}
	return 0;
}

#define TNAME(buf, fmt, ...) snprintf(buf, sizeof(buf), fmt, ##__VA_ARGS__)

static const char *mem_name(int odp)
{
	return odp ? "odp" : "pinned";
}

/* Check one completion against what is expected. */
static int expect_wc(struct side *s, const char *name, const char *who, uint64_t id,
		     enum ibv_wc_status st, int opcode)
{
	struct ibv_wc wc;

	if (poll_one(s, &wc)) {
		result(0, name, "%s: no completion", who);
		return -1;
	}
	if (wc.wr_id != id || wc.status != st ||
	    (opcode >= 0 && st == IBV_WC_SUCCESS && (int)wc.opcode != opcode)) {
		result(0, name, "%s: wr_id %llu status %s (%d) opcode %d, want %llu %s opcode %d",
		       who, (unsigned long long)wc.wr_id, ibv_wc_status_str(wc.status), wc.status,
		       wc.opcode, (unsigned long long)id, ibv_wc_status_str(st), opcode);
		return -1;
	}
	return 0;
}

/* ---- data tests ------------------------------------------------------- */

static const uint32_t sizes[] = {1, 63, 1024, 4096, 3 * 4096 + 5, 65536};

static void test_send(int odp, int imm)
{
	char name[96];
	struct pair p;
	size_t k;

	TNAME(name, "send%s%s_%s", imm ? "_imm" : "", with_srq ? "_srq" : "", mem_name(odp));
	if (!want(name))
		return;
	if (pair_init(&p, odp, MR_ACCESS, 7)) {
		result(0, name, "setup: %s", strerror(errno));
		pair_fini(&p);
		return;
	}
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

		fill(p.a.buf, n, k + 1);
		memset(p.b.buf, 0, n + 16);
		if (post_recv(&p.b, 200 + k, 0, BUF_SIZE) || post_send(&p.a, &wr)) {
			result(0, name, "post failed");
			goto out;
		}
		if (expect_wc(&p.a, name, "sender", 100 + k, IBV_WC_SUCCESS, IBV_WC_SEND))
			goto out;
		if (poll_one(&p.b, &wc) || wc.status != IBV_WC_SUCCESS || wc.wr_id != 200 + k ||
		    wc.opcode != IBV_WC_RECV || wc.byte_len != n || wc.qp_num != p.b.qp->qp_num ||
		    /* rdma_rxe leaves src_qp 0 on RC (valid for UD only) */
		    (!strncmp(devs[1].name, "sodp", 4) && wc.src_qp != p.a.qp->qp_num) ||
		    (imm &&
		     (!(wc.wc_flags & IBV_WC_WITH_IMM) || wc.imm_data != htonl(0xabc00 + k))) ||
		    (!imm && (wc.wc_flags & IBV_WC_WITH_IMM))) {
			result(0, name,
			       "size %u: recv wc status %s opcode %d len %u flags 0x%x imm 0x%x "
			       "src_qp %u",
			       n, ibv_wc_status_str(wc.status), wc.opcode, wc.byte_len, wc.wc_flags,
			       ntohl(wc.imm_data), wc.src_qp);
			goto out;
		}
		if (memcmp(p.a.buf, p.b.buf, n) || p.b.buf[n]) {
			result(0, name, "size %u: data differs", n);
			goto out;
		}
	}
	result(1, name, "");
out:
	pair_fini(&p);
}

static void test_write(int odp, int imm)
{
	char name[96];
	struct pair p;
	size_t k;

	TNAME(name, "write%s_%s", imm ? "_imm" : "", mem_name(odp));
	if (!want(name))
		return;
	if (pair_init(&p, odp, MR_ACCESS, 7)) {
		result(0, name, "setup: %s", strerror(errno));
		pair_fini(&p);
		return;
	}
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

		fill(p.a.buf, n, k + 7);
		memset(p.b.buf, 0, off + n + 16);
		if ((imm && post_recv(&p.b, 200 + k, 0, 0)) || post_send(&p.a, &wr)) {
			result(0, name, "post failed");
			goto out;
		}
		if (expect_wc(&p.a, name, "writer", 100 + k, IBV_WC_SUCCESS, IBV_WC_RDMA_WRITE))
			goto out;
		if (imm && (poll_one(&p.b, &wc) || wc.status != IBV_WC_SUCCESS ||
			    wc.opcode != IBV_WC_RECV_RDMA_WITH_IMM || wc.byte_len != n ||
			    wc.wr_id != 200 + k || !(wc.wc_flags & IBV_WC_WITH_IMM) ||
			    wc.imm_data != htonl(0x5150 + k))) {
			result(0, name, "size %u: recv wc status %s opcode %d len %u imm 0x%x", n,
			       ibv_wc_status_str(wc.status), wc.opcode, wc.byte_len,
			       ntohl(wc.imm_data));
			goto out;
		}
		if (memcmp(p.a.buf, p.b.buf + off, n) || p.b.buf[off + n] || p.b.buf[off - 1]) {
			result(0, name, "size %u: data differs", n);
			goto out;
		}
	}
	result(1, name, "");
out:
	pair_fini(&p);
}

static void test_read(int odp)
{
	char name[96];
	struct pair p;
	size_t k;

	TNAME(name, "read_%s", mem_name(odp));
	if (!want(name))
		return;
	if (pair_init(&p, odp, MR_ACCESS, 7)) {
		result(0, name, "setup: %s", strerror(errno));
		pair_fini(&p);
		return;
	}
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

		fill(p.b.buf + off, n, k + 3);
		memset(p.a.buf, 0, n + 16);
		if (post_send(&p.a, &wr)) {
			result(0, name, "post failed");
			goto out;
		}
		if (expect_wc(&p.a, name, "reader", 100 + k, IBV_WC_SUCCESS, IBV_WC_RDMA_READ))
			goto out;
		if (memcmp(p.a.buf + 1, p.b.buf + off, n) || p.a.buf[0] || p.a.buf[n + 1]) {
			result(0, name, "size %u: data differs", n);
			goto out;
		}
	}
	result(1, name, "");
out:
	pair_fini(&p);
}

static void test_atomic(int odp)
{
	char name[96];
	struct pair p;
	uint64_t *remote, *local;
	struct ibv_sge sge;
	struct ibv_send_wr wr;
	int i;

	TNAME(name, "atomic_%s", mem_name(odp));
	if (!want(name))
		return;
	if (pair_init(&p, odp, MR_ACCESS, 7)) {
		result(0, name, "setup: %s", strerror(errno));
		pair_fini(&p);
		return;
	}
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
			result(0, name, "post failed");
			goto out;
		}
		if (expect_wc(&p.a, name, "atomic", 10 + i, IBV_WC_SUCCESS,
			      cas ? IBV_WC_COMP_SWAP : IBV_WC_FETCH_ADD))
			goto out;
		if (*local != before) {
			result(0, name, "op %d: returned 0x%llx, want 0x%llx", i,
			       (unsigned long long)*local, (unsigned long long)before);
			goto out;
		}
		{
			uint64_t after = cas ? (i == 0 ? 0xfeedULL : before)
					     : before + (uint64_t)(0x100 + i);

			if (*remote != after) {
				result(0, name, "op %d: remote 0x%llx, want 0x%llx", i,
				       (unsigned long long)*remote, (unsigned long long)after);
				goto out;
			}
		}
	}
	result(1, name, "");
out:
	pair_fini(&p);
}

static void test_inline(int odp)
{
	char name[96];
	struct pair p;
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

	TNAME(name, "inline_%s", mem_name(odp));
	if (!want(name))
		return;
	if (pair_init(&p, odp, MR_ACCESS, 7)) {
		result(0, name, "setup: %s", strerror(errno));
		pair_fini(&p);
		return;
	}
	fill(data, sizeof(data), 9);
	if (post_recv(&p.b, 2, 0, 4096) || post_send(&p.a, &wr)) {
		result(0, name, "post failed");
		goto out;
	}
	/* The buffer may change once posted: inline data was copied. */
	memset(data, 0, sizeof(data));
	if (expect_wc(&p.a, name, "sender", 1, IBV_WC_SUCCESS, IBV_WC_SEND))
		goto out;
	if (poll_one(&p.b, &wc) || wc.status || wc.byte_len != sizeof(data)) {
		result(0, name, "recv: %s len %u", ibv_wc_status_str(wc.status), wc.byte_len);
		goto out;
	}
	fill(data, sizeof(data), 9);
	if (memcmp(data, p.b.buf, sizeof(data))) {
		result(0, name, "send data differs");
		goto out;
	}
	/* Inline RDMA WRITE. */
	wr.opcode = IBV_WR_RDMA_WRITE;
	wr.wr_id = 3;
	wr.wr.rdma.remote_addr = (uintptr_t)p.b.buf + 1000;
	wr.wr.rdma.rkey = p.b.mr->rkey;
	if (post_send(&p.a, &wr)) {
		result(0, name, "post write failed");
		goto out;
	}
	if (expect_wc(&p.a, name, "writer", 3, IBV_WC_SUCCESS, IBV_WC_RDMA_WRITE))
		goto out;
	result(!memcmp(data, p.b.buf + 1000, sizeof(data)), name, "write data differs");
out:
	pair_fini(&p);
}

static void test_multi_sge(int odp)
{
	char name[96];
	struct pair p;
	struct ibv_sge sg[3], rg[2];
	struct ibv_send_wr wr;
	struct ibv_recv_wr rw, *rbad;
	struct ibv_wc wc;
	uint8_t expect[3 * 5000];
	uint32_t lens[3] = {5000, 1, 4000};
	uint32_t off = 0;
	int i;

	TNAME(name, "multi_sge_%s", mem_name(odp));
	if (!want(name))
		return;
	if (pair_init(&p, odp, MR_ACCESS, 7)) {
		result(0, name, "setup: %s", strerror(errno));
		pair_fini(&p);
		return;
	}
	fill(p.a.buf, BUF_SIZE / 2, 5);
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
		result(0, name, "post failed");
		goto out;
	}
	if (expect_wc(&p.a, name, "sender", 8, IBV_WC_SUCCESS, IBV_WC_SEND))
		goto out;
	if (poll_one(&p.b, &wc) || wc.status || wc.byte_len != off) {
		result(0, name, "recv: %s len %u", ibv_wc_status_str(wc.status), wc.byte_len);
		goto out;
	}
	if (memcmp(expect, p.b.buf + 100, 3000) ||
	    memcmp(expect + 3000, p.b.buf + 50000, off - 3000)) {
		result(0, name, "send data differs");
		goto out;
	}
	/* The same gather list as an RDMA WRITE, and READ back. */
	wr.opcode = IBV_WR_RDMA_WRITE;
	wr.wr_id = 10;
	wr.wr.rdma.remote_addr = (uintptr_t)p.b.buf + 70000;
	wr.wr.rdma.rkey = p.b.mr->rkey;
	if (post_send(&p.a, &wr) ||
	    expect_wc(&p.a, name, "writer", 10, IBV_WC_SUCCESS, IBV_WC_RDMA_WRITE))
		goto out;
	if (memcmp(expect, p.b.buf + 70000, off)) {
		result(0, name, "write data differs");
		goto out;
	}
	for (i = 0; i < 3; i++)
		memset(p.a.buf + 20000 * i + 7, 0, lens[i]);
	wr.opcode = IBV_WR_RDMA_READ;
	wr.wr_id = 11;
	if (post_send(&p.a, &wr) ||
	    expect_wc(&p.a, name, "reader", 11, IBV_WC_SUCCESS, IBV_WC_RDMA_READ))
		goto out;
	off = 0;
	for (i = 0; i < 3; i++) {
		if (memcmp(expect + off, p.a.buf + 20000 * i + 7, lens[i])) {
			result(0, name, "read data differs in sge %d", i);
			goto out;
		}
		off += lens[i];
	}
	result(1, name, "");
out:
	pair_fini(&p);
}

static void test_zero_length(int odp)
{
	char name[96];
	struct pair p;
	struct ibv_send_wr wr;
	struct ibv_wc wc;
	int ops[3] = {IBV_WR_SEND, IBV_WR_RDMA_WRITE, IBV_WR_RDMA_READ};
	int wcs[3] = {IBV_WC_SEND, IBV_WC_RDMA_WRITE, IBV_WC_RDMA_READ};
	int i;

	TNAME(name, "zero_length_%s", mem_name(odp));
	if (!want(name))
		return;
	if (pair_init(&p, odp, MR_ACCESS, 7)) {
		result(0, name, "setup: %s", strerror(errno));
		pair_fini(&p);
		return;
	}
	for (i = 0; i < 3; i++) {
		memset(&wr, 0, sizeof(wr));
		wr.wr_id = 50 + i;
		wr.opcode = ops[i];
		wr.num_sge = 0;
		wr.wr.rdma.remote_addr = (uintptr_t)p.b.buf;
		wr.wr.rdma.rkey = p.b.mr->rkey;
		if ((i == 0 && post_recv(&p.b, 60, 0, 16)) || post_send(&p.a, &wr)) {
			result(0, name, "post failed");
			goto out;
		}
		if (expect_wc(&p.a, name, "requester", 50 + i, IBV_WC_SUCCESS, wcs[i]))
			goto out;
		if (i == 0 &&
		    (poll_one(&p.b, &wc) || wc.status || wc.byte_len != 0 || wc.wr_id != 60)) {
			result(0, name, "recv: %s len %u", ibv_wc_status_str(wc.status),
			       wc.byte_len);
			goto out;
		}
	}
	result(1, name, "");
out:
	pair_fini(&p);
}

/* Many messages in flight: windows, AckReq coalescing, ordering. */
static void test_stream(int odp)
{
	char name[96];
	struct pair p;
	int i, n = 48;
	uint32_t sz = 16384;

	TNAME(name, "stream_%s", mem_name(odp));
	if (!want(name))
		return;
	if (pair_init(&p, odp, MR_ACCESS, 7)) {
		result(0, name, "setup: %s", strerror(errno));
		pair_fini(&p);
		return;
	}
	fill(p.a.buf, BUF_SIZE, 77);
	for (i = 0; i < n; i++) {
		struct ibv_sge sge = {
			.addr = (uintptr_t)p.a.buf + (i % 8) * sz,
			.length = sz,
			.lkey = p.a.mr->lkey,
		};
		struct ibv_send_wr wr = {
			.wr_id = i,
			.sg_list = &sge,
			.num_sge = 1,
			.opcode = i % 3 == 2 ? IBV_WR_RDMA_READ : IBV_WR_RDMA_WRITE,
			.send_flags = i == n - 1 ? IBV_SEND_SIGNALED : 0,
			.wr.rdma =
				{
					.remote_addr = (uintptr_t)p.b.buf + (i % 8) * sz,
					.rkey = p.b.mr->rkey,
				},
		};
		struct ibv_send_wr *bad;

		if (ibv_post_send(p.a.qp, &wr, &bad)) {
			result(0, name, "post %d failed", i);
			goto out;
		}
	}
	if (expect_wc(&p.a, name, "requester", n - 1, IBV_WC_SUCCESS,
		      (n - 1) % 3 == 2 ? IBV_WC_RDMA_READ : IBV_WC_RDMA_WRITE))
		goto out;
	result(!memcmp(p.a.buf, p.b.buf, 8 * sz), name, "data differs");
out:
	pair_fini(&p);
}

/* ---- error paths ------------------------------------------------------- */

/* The responder QP stops answering (RESET): the requester gives up. */
static void test_retry_exceeded(int odp)
{
	char name[96];
	struct pair p;
	struct ibv_qp_attr a = {.qp_state = IBV_QPS_RESET};
	struct ibv_sge sge;
	struct ibv_send_wr wr;

	TNAME(name, "err_retry_exceeded_%s", mem_name(odp));
	if (!want(name))
		return;
	if (pair_init(&p, odp, MR_ACCESS, 7) || ibv_modify_qp(p.b.qp, &a, IBV_QP_STATE)) {
		result(0, name, "setup: %s", strerror(errno));
		pair_fini(&p);
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
		result(0, name, "post failed");
		goto out;
	}
	if (!expect_wc(&p.a, name, "requester", 5, IBV_WC_RETRY_EXC_ERR, -1))
		result(1, name, "");
out:
	pair_fini(&p);
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
	struct pair p;
	struct ibv_sge sge;
	struct ibv_send_wr wr;

	TNAME(name, "err_%s_%s", what, mem_name(odp));
	if (!want(name))
		return;
	if (pair_init(&p, odp, acc_b, what[0] == 'r' && what[1] == 'n' ? 0 : 7)) {
		result(0, name, "setup: %s", strerror(errno));
		pair_fini(&p);
		return;
	}
	if (unmap && munmap(p.b.buf + roff, 4096)) {
		result(0, name, "munmap: %s", strerror(errno));
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
	if ((recv_posted && post_recv(&p.b, 88, 0, recv_len)) || post_send(&p.a, &wr)) {
		result(0, name, "post failed");
		goto out;
	}
	if (expect_wc(&p.a, name, "requester", 77, st_a, -1))
		goto out;
	if (recv_posted && expect_wc(&p.b, name, "responder", 88, st_b, -1))
		goto out;
	if (!recv_posted && poll_none(&p.b, 200)) {
		result(0, name, "unexpected responder completion");
		goto out;
	}
	result(1, name, "");
out:
	if (unmap)
		mmap(p.b.buf + roff, 4096, PROT_READ | PROT_WRITE,
		     MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
	pair_fini(&p);
}

static void error_tests(int odp)
{
	int no_rw = IBV_ACCESS_LOCAL_WRITE | IBV_ACCESS_REMOTE_READ;

	/* Local protection: bad lkey on the gather list. */
	test_error("bad_lkey", odp, MR_ACCESS, IBV_WR_SEND, 1, 0, 0, 100, 0, 0, 0,
		   IBV_WC_LOC_PROT_ERR, 0);
	/* Bad rkey: remote access error; the responder's QP errors. */
	test_error("bad_rkey_write", odp, MR_ACCESS, IBV_WR_RDMA_WRITE, 0, 1, 0, 100, 0, 1, 4096,
		   IBV_WC_REM_ACCESS_ERR, IBV_WC_WR_FLUSH_ERR);
	test_error("bad_rkey_read", odp, MR_ACCESS, IBV_WR_RDMA_READ, 0, 1, 0, 100, 0, 0, 0,
		   IBV_WC_REM_ACCESS_ERR, 0);
	test_error("bad_rkey_atomic", odp, MR_ACCESS, IBV_WR_ATOMIC_FETCH_AND_ADD, 0, 1, 0, 8, 0, 0,
		   0, IBV_WC_REM_ACCESS_ERR, 0);
	/* Out of the region's bounds. */
	test_error("oob_write", odp, MR_ACCESS, IBV_WR_RDMA_WRITE, 0, 0, BUF_SIZE - 50, 100, 0, 0,
		   0, IBV_WC_REM_ACCESS_ERR, 0);
	test_error("oob_read", odp, MR_ACCESS, IBV_WR_RDMA_READ, 0, 0, BUF_SIZE - 50, 100, 0, 0, 0,
		   IBV_WC_REM_ACCESS_ERR, 0);
	/* Access rights of the remote MR. */
	test_error("no_remote_write", odp, no_rw, IBV_WR_RDMA_WRITE, 0, 0, 0, 100, 0, 0, 0,
		   IBV_WC_REM_ACCESS_ERR, 0);
	test_error("no_remote_atomic", odp, no_rw, IBV_WR_ATOMIC_FETCH_AND_ADD, 0, 0, 0, 8, 0, 0, 0,
		   IBV_WC_REM_ACCESS_ERR, 0);
	/* Receive buffer too small: invalid request / local length. */
	test_error("recv_too_small", odp, MR_ACCESS, IBV_WR_SEND, 0, 0, 0, 100, 0, 1, 10,
		   IBV_WC_REM_INV_REQ_ERR, IBV_WC_LOC_LEN_ERR);
	/* No receive posted and rnr_retry 0. */
	test_error("rnr_exceeded", odp, MR_ACCESS, IBV_WR_SEND, 0, 0, 0, 10, 0, 0, 0,
		   IBV_WC_RNR_RETRY_EXC_ERR, 0);
	test_retry_exceeded(odp);
	/* ODP: a page of the remote region is no longer mapped. */
	if (odp && devs[1].odp_ok) {
		test_error("odp_unmapped_write", odp, MR_ACCESS, IBV_WR_RDMA_WRITE, 0, 0, 8192, 100,
			   1, 0, 0, IBV_WC_REM_ACCESS_ERR, 0);
		test_error("odp_unmapped_read", odp, MR_ACCESS, IBV_WR_RDMA_READ, 0, 0, 8192, 100,
			   1, 0, 0, IBV_WC_REM_ACCESS_ERR, 0);
	}
}

int main(int argc, char **argv)
{
	const char *d0 = NULL, *d1 = NULL, *mode = "both";
	int errors = 1, opt, m;

	while ((opt = getopt(argc, argv, "d:D:m:ef:6")) != -1) {
		switch (opt) {
		case '6':
			use_v6 = 1;
			break;
		case 'd':
			d0 = optarg;
			break;
		case 'D':
			d1 = optarg;
			break;
		case 'm':
			mode = optarg;
			break;
		case 'e':
			errors = 0;
			break;
		case 'f':
			filter = optarg;
			break;
		default:
			fprintf(stderr, "usage: rc [-d DEV] [-D DEV2] [-m pinned|odp|both] [-e] "
					"[-f FILTER] [-6]\n");
			return 2;
		}
	}
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (open_dev(&devs[0], d0) || open_dev(&devs[1], d1 ? d1 : d0)) {
		fprintf(stderr, "rc: cannot open %s/%s or no RoCEv2 %s GID\n", d0 ? d0 : "sodp*",
			d1 ? d1 : "(same)", use_v6 ? "IPv6" : "IPv4");
		return 1;
	}
	printf("# requester %s gid %d, responder %s gid %d, odp %d/%d\n", devs[0].name,
	       devs[0].gid_index, devs[1].name, devs[1].gid_index, devs[0].odp_ok, devs[1].odp_ok);
	for (m = 0; m < 2; m++) {
		if ((m == 0 && !strcmp(mode, "odp")) || (m == 1 && !strcmp(mode, "pinned")))
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
	printf("%d passed, %d failed\n", passed, failed);
	return failed ? 1 : 0;
}
