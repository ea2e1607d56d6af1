// SPDX-License-Identifier: GPL-2.0
/*
 * provider - the softodp libibverbs provider through standard verbs only.
 *
 * Usage: provider [--help] [-d DEV] [-f FILTER]
 *
 * Needs the softodp provider to drive DEV (softodp-provider enable).
 * Tests: bound (fw_ver "softodp ...", ODP caps through
 * ibv_query_device_ex); advise_matrix (ibv_advise_mr with PREFETCH,
 * PREFETCH_WRITE and PREFETCH_NO_FAULT, synchronous (FLUSH) and queued, on
 * explicit and implicit ODP MRs, then an RDMA READ of the prefetched
 * memory, or a WRITE into it after PREFETCH_WRITE, that takes no page
 * fault: the device's odp_page_faults hw counter does not move, the bytes
 * are compared); advise_errors (bad key, range beyond the MR, another PD,
 * missing write access, non-ODP MR, unknown flag and advice, a hole);
 * wr_api (ibv_wr_* batches with an extended CQ: WRITE, SEND with
 * immediate, READ, fetch-and-add, inline SEND, abort, a bad batch); ah
 * (create and destroy an address handle, the UD path's object).  All
 * in loopback: two RC QPs on DEV.  Prints PASS/FAIL lines and "N passed,
 * N failed".
 */
#define _GNU_SOURCE
#include <endian.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
#include <infiniband/verbs.h>

#include "common.h"

#define NPAGES	   16
#define ODP_ACCESS (IBV_ACCESS_ON_DEMAND | IBV_ACCESS_LOCAL_WRITE | T_MR_ACCESS)

static struct t_dev devs[2];
static size_t psz;

#define LB_WC_FLAGS (IBV_WC_EX_WITH_BYTE_LEN | IBV_WC_EX_WITH_IMM | IBV_WC_EX_WITH_QP_NUM)
#define LB_OPS                                                                                     \
	(IBV_QP_EX_WITH_RDMA_WRITE | IBV_QP_EX_WITH_SEND | IBV_QP_EX_WITH_SEND_WITH_IMM |          \
	 IBV_QP_EX_WITH_RDMA_READ | IBV_QP_EX_WITH_ATOMIC_FETCH_AND_ADD)

/*
 * Two connected RC QPs on devs[0] (created with ibv_create_qp_ex, usable
 * with ibv_post_send and ibv_wr_*) sharing one PD and one extended CQ.
 */
struct lb {
	struct ibv_pd *pd;
	struct ibv_cq_ex *cqx;
	struct ibv_cq *cq; /* the same CQ for ibv_poll_cq */
	struct ibv_qp *a, *b;
};

static struct ibv_qp *lb_qp(struct lb *l)
{
	struct ibv_qp_init_attr_ex ia = {
		.qp_type = IBV_QPT_RC,
		.send_cq = l->cq,
		.recv_cq = l->cq,
		.cap = {.max_send_wr = 16,
			.max_recv_wr = 16,
			.max_send_sge = 2,
			.max_recv_sge = 2,
			.max_inline_data = 64},
		.comp_mask = IBV_QP_INIT_ATTR_PD | IBV_QP_INIT_ATTR_SEND_OPS_FLAGS,
		.pd = l->pd,
		.send_ops_flags = LB_OPS,
	};

	return ibv_create_qp_ex(devs[0].ctx, &ia);
}

static void lb_close(struct lb *l)
{
	if (l->a)
		ibv_destroy_qp(l->a);
	if (l->b)
		ibv_destroy_qp(l->b);
	if (l->cq)
		ibv_destroy_cq(l->cq);
	if (l->pd)
		ibv_dealloc_pd(l->pd);
	memset(l, 0, sizeof(*l));
}

static int lb_open(struct lb *l)
{
	struct ibv_cq_init_attr_ex ca = {.cqe = 64, .wc_flags = LB_WC_FLAGS};
	struct t_dev *d = &devs[0];

	memset(l, 0, sizeof(*l));
	l->pd = ibv_alloc_pd(d->ctx);
	l->cqx = ibv_create_cq_ex(d->ctx, &ca);
	if (!l->pd || !l->cqx)
		goto err;
	l->cq = ibv_cq_ex_to_cq(l->cqx);
	l->a = lb_qp(l);
	l->b = lb_qp(l);
	if (!l->a || !l->b)
		goto err;
	if (t_connect_qp(l->a, d->gid_index, &d->gid, l->b->qp_num, IBV_MTU_1024, 7) ||
	    t_connect_qp(l->b, d->gid_index, &d->gid, l->a->qp_num, IBV_MTU_1024, 7))
		goto err;
	return 0;
err:
	lb_close(l);
	return -1;
}

/* One signaled RDMA @op of @len bytes from QP a; the completion status or -1. */
static int lb_rdma(struct lb *l, enum ibv_wr_opcode op, void *local, uint32_t lkey, void *remote,
		   uint32_t rkey, size_t len)
{
	struct ibv_sge sge = {.addr = (uintptr_t)local, .length = len, .lkey = lkey};
	struct ibv_send_wr wr = {0}, *bad;
	struct ibv_wc wc;

	wr.wr_id = 7;
	wr.sg_list = &sge;
	wr.num_sge = 1;
	wr.opcode = op;
	wr.send_flags = IBV_SEND_SIGNALED;
	wr.wr.rdma.remote_addr = (uintptr_t)remote;
	wr.wr.rdma.rkey = rkey;
	if (ibv_post_send(l->a, &wr, &bad) || t_poll_one(l->cq, &wc, T_POLL_MS))
		return -1;
	return wc.status;
}

static void *map_pages(size_t n)
{
	void *p = mmap(NULL, n * psz, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	return p == MAP_FAILED ? NULL : p;
}

/* ---- bound ----------------------------------------------------------------- */

static void test_bound(void)
{
	const uint32_t rc_need = IBV_ODP_SUPPORT_SEND | IBV_ODP_SUPPORT_RECV |
				 IBV_ODP_SUPPORT_WRITE | IBV_ODP_SUPPORT_READ |
				 IBV_ODP_SUPPORT_ATOMIC;
	struct ibv_device_attr_ex ax;

	if (!t_want("bound"))
		return;
	memset(&ax, 0, sizeof(ax));
	if (ibv_query_device_ex(devs[0].ctx, NULL, &ax)) {
		t_result(0, "bound", "ibv_query_device_ex: %s", strerror(errno));
		return;
	}
	if (strncmp(ax.orig_attr.fw_ver, "softodp ", 8)) {
		t_result(0, "bound", "%s is not driven by the softodp provider (fw_ver '%s')",
			 devs[0].name, ax.orig_attr.fw_ver);
		return;
	}
	printf("# %s: fw_ver '%s', general_odp_caps 0x%llx, rc_odp_caps 0x%x\n", devs[0].name,
	       ax.orig_attr.fw_ver, (unsigned long long)ax.odp_caps.general_caps,
	       ax.odp_caps.per_transport_caps.rc_odp_caps);
	t_result((ax.odp_caps.general_caps & IBV_ODP_SUPPORT) &&
			 (ax.odp_caps.general_caps & IBV_ODP_SUPPORT_IMPLICIT) &&
			 (ax.odp_caps.per_transport_caps.rc_odp_caps & rc_need) == rc_need,
		 "bound", "ODP caps missing: general 0x%llx rc 0x%x",
		 (unsigned long long)ax.odp_caps.general_caps,
		 ax.odp_caps.per_transport_caps.rc_odp_caps);
}

/* ---- advise_matrix ----------------------------------------------------------- */

static const struct {
	enum ibv_advise_mr_advice advice;
	const char *name;
} advices[] = {
	{IBV_ADVISE_MR_ADVICE_PREFETCH, "PREFETCH"},
	{IBV_ADVISE_MR_ADVICE_PREFETCH_WRITE, "PREFETCH_WRITE"},
	{IBV_ADVISE_MR_ADVICE_PREFETCH_NO_FAULT, "PREFETCH_NO_FAULT"},
};

/* Wait (up to 5 s) until the device counted @want prefetched pages. */
static long long wait_prefetched(long long want)
{
	long long n = -1;
	int i;

	for (i = 0; i < 250; i++) {
		n = t_hw_counter(devs[0].name, "odp_prefetch_pages");
		if (n >= want)
			break;
	}
	return n;
}

/*
 * One cell: prefetch NPAGES CPU-touched pages of an explicit or implicit
 * ODP MR, then move them with no page fault.  0, or -1 after FAIL @name.
 */
static int advise_cell(struct lb *l, int a, int flush, int implicit, uint8_t *pin,
		       struct ibv_mr *pmr, const char *name)
{
	const size_t len = NPAGES * psz;
	uint8_t *buf = map_pages(NPAGES);
	struct ibv_mr *mr = NULL;
	long long f0, p0, p1, f1;
	struct ibv_sge sge;
	int ret, st, rc = -1;

	if (!buf) {
		t_result(0, name, "mmap");
		return -1;
	}
	t_fill(buf, len, 11 + a);
	mr = implicit ? ibv_reg_mr(l->pd, NULL, SIZE_MAX, ODP_ACCESS)
		      : ibv_reg_mr(l->pd, buf, len, ODP_ACCESS);
	if (!mr) {
		t_result(0, name, "ibv_reg_mr: %s", strerror(errno));
		goto out;
	}
	f0 = t_hw_counter(devs[0].name, "odp_page_faults");
	p0 = t_hw_counter(devs[0].name, "odp_prefetch_pages");
	sge = (struct ibv_sge){.addr = (uintptr_t)buf, .length = len, .lkey = mr->lkey};
	ret = ibv_advise_mr(l->pd, advices[a].advice, flush ? IBV_ADVISE_MR_FLAG_FLUSH : 0, &sge,
			    1);
	if (ret) {
		t_result(0, name, "ibv_advise_mr: %s", strerror(ret));
		goto out;
	}
	p1 = flush ? t_hw_counter(devs[0].name, "odp_prefetch_pages")
		   : wait_prefetched(p0 + NPAGES);
	if (p1 != p0 + NPAGES) {
		t_result(0, name, "odp_prefetch_pages +%lld, want +%d", p1 - p0, NPAGES);
		goto out;
	}
	/* The device reads the prefetched pages, or writes them after PREFETCH_WRITE. */
	if (advices[a].advice == IBV_ADVISE_MR_ADVICE_PREFETCH_WRITE) {
		t_fill(pin, len, 99);
		st = lb_rdma(l, IBV_WR_RDMA_WRITE, pin, pmr->lkey, buf, mr->rkey, len);
	} else {
		memset(pin, 0, len);
		st = lb_rdma(l, IBV_WR_RDMA_READ, pin, pmr->lkey, buf, mr->rkey, len);
	}
	if (st != IBV_WC_SUCCESS) {
		t_result(0, name, "transfer: status %d", st);
		goto out;
	}
	if (t_diff(pin, buf, len) >= 0) {
		t_result(0, name, "data differs at byte %ld", t_diff(pin, buf, len));
		goto out;
	}
	f1 = t_hw_counter(devs[0].name, "odp_page_faults");
	if (f1 != f0) {
		t_result(0, name, "the transfer took %lld page faults after the prefetch", f1 - f0);
		goto out;
	}
	rc = 0;
out:
	if (mr)
		ibv_dereg_mr(mr);
	munmap(buf, len);
	return rc;
}

static void test_advise_matrix(void)
{
	const size_t len = NPAGES * psz;
	uint8_t *pin = NULL;
	struct ibv_mr *pmr = NULL;
	int a, flush, implicit, bad = 0;
	char name[96];
	struct lb l;

	if (!t_want("advise_matrix"))
		return;
	if (lb_open(&l)) {
		t_result(0, "advise_matrix", "loopback QPs: %s", strerror(errno));
		return;
	}
	pin = map_pages(NPAGES);
	pmr = pin ? ibv_reg_mr(l.pd, pin, len, T_MR_ACCESS | IBV_ACCESS_LOCAL_WRITE) : NULL;
	if (!pmr) {
		t_result(0, "advise_matrix", "pinned MR: %s", strerror(errno));
		goto out;
	}
	for (a = 0; a < 3; a++)
		for (flush = 1; flush >= 0; flush--)
			for (implicit = 0; implicit < 2; implicit++) {
				snprintf(name, sizeof(name), "advise_%s_%s_%s", advices[a].name,
					 flush ? "flush" : "async",
					 implicit ? "implicit" : "explicit");
				if (advise_cell(&l, a, flush, implicit, pin, pmr, name))
					bad++;
			}
	t_result(!bad, "advise_matrix", "%d of 12 cells failed", bad);
out:
	if (pmr)
		ibv_dereg_mr(pmr);
	if (pin)
		munmap(pin, len);
	lb_close(&l);
}

/* ---- advise_errors ------------------------------------------------------------ */

/* ibv_advise_mr() must fail with @want, or with @want2 if that is non-zero. */
static void expect_advise2(const char *what, struct ibv_pd *pd, enum ibv_advise_mr_advice adv,
			   uint32_t flags, void *addr, size_t len, uint32_t lkey, int want,
			   int want2)
{
	struct ibv_sge sge = {.addr = (uintptr_t)addr, .length = len, .lkey = lkey};
	int ret = ibv_advise_mr(pd, adv, flags, &sge, 1);
	char name[96];

	snprintf(name, sizeof(name), "advise_errors_%s", what);
	t_result(ret == want || (want2 && ret == want2), name,
		 "ibv_advise_mr: %s (%d), want %s (%d)", strerror(ret), ret, strerror(want), want);
}

static void expect_advise(const char *what, struct ibv_pd *pd, enum ibv_advise_mr_advice adv,
			  uint32_t flags, void *addr, size_t len, uint32_t lkey, int want)
{
	expect_advise2(what, pd, adv, flags, addr, len, lkey, want, 0);
}

static void test_advise_errors(void)
{
	const size_t len = NPAGES * psz;
	const uint32_t F = IBV_ADVISE_MR_FLAG_FLUSH;
	struct ibv_pd *pd = ibv_alloc_pd(devs[0].ctx), *pd2 = ibv_alloc_pd(devs[0].ctx);
	uint8_t *buf = map_pages(NPAGES), *pbuf = map_pages(1);
	struct ibv_mr *mr = NULL, *ro = NULL, *pinned = NULL;

	if (!t_want("advise_errors"))
		goto out;
	if (!pd || !pd2 || !buf || !pbuf) {
		t_result(0, "advise_errors", "setup: %s", strerror(errno));
		goto out;
	}
	memset(buf, 1, len);
	mr = ibv_reg_mr(pd, buf, len, ODP_ACCESS);
	ro = ibv_reg_mr(pd, buf, len, IBV_ACCESS_ON_DEMAND);
	pinned = ibv_reg_mr(pd, pbuf, psz, IBV_ACCESS_LOCAL_WRITE);
	if (!mr || !ro || !pinned) {
		t_result(0, "advise_errors", "ibv_reg_mr: %s", strerror(errno));
		goto out;
	}
	expect_advise("good", pd, IBV_ADVISE_MR_ADVICE_PREFETCH_WRITE, F, buf, len, mr->lkey, 0);
	expect_advise("bad_lkey", pd, IBV_ADVISE_MR_ADVICE_PREFETCH, F, buf, len,
		      mr->lkey + 0x10000, EFAULT);
	expect_advise("beyond_mr", pd, IBV_ADVISE_MR_ADVICE_PREFETCH, F, buf + len - psz, 2 * psz,
		      mr->lkey, EFAULT);
	expect_advise("other_pd", pd2, IBV_ADVISE_MR_ADVICE_PREFETCH, F, buf, len, mr->lkey,
		      EFAULT);
	expect_advise("no_write_access", pd, IBV_ADVISE_MR_ADVICE_PREFETCH_WRITE, F, buf, len,
		      ro->lkey, EFAULT);
	expect_advise("not_odp", pd, IBV_ADVISE_MR_ADVICE_PREFETCH, F, pbuf, psz, pinned->lkey,
		      EINVAL);
	/*
	 * An unknown flag: softodp says EINVAL (as through the raw ioctl, see
	 * odp_advise); libibverbs sends the flags as an optional attribute,
	 * which the ib_core of 6.12 already refuses with EOPNOTSUPP.
	 */
	expect_advise2("unknown_flag", pd, IBV_ADVISE_MR_ADVICE_PREFETCH, 1u << 7, buf, len,
		       mr->lkey, EINVAL, EOPNOTSUPP);
	expect_advise("unknown_advice", pd, (enum ibv_advise_mr_advice)7, F, buf, len, mr->lkey,
		      EOPNOTSUPP);
	/* A hole: synchronous fails, queued skips it. */
	munmap(buf + 4 * psz, psz);
	expect_advise("hole_flush", pd, IBV_ADVISE_MR_ADVICE_PREFETCH, F, buf, len, mr->lkey,
		      EFAULT);
	expect_advise("hole_async", pd, IBV_ADVISE_MR_ADVICE_PREFETCH, 0, buf, len, mr->lkey, 0);
out:
	if (mr)
		ibv_dereg_mr(mr);
	if (ro)
		ibv_dereg_mr(ro);
	if (pinned)
		ibv_dereg_mr(pinned);
	if (pd)
		ibv_dealloc_pd(pd);
	if (pd2)
		ibv_dealloc_pd(pd2);
	if (buf)
		munmap(buf, len);
	if (pbuf)
		munmap(pbuf, psz);
}

/* ---- wr_api --------------------------------------------------------------------- */

struct wr_env {
	struct lb l;
	uint8_t *src, *dst;
	struct ibv_mr *smr, *dmr;
};

#define WR_LEN	  (64 * 1024)
#define ATOM_OFF  (48 * 1024)
#define ATOM_INIT 0x0102030405060708ULL

static void wr_env_fini(struct wr_env *e)
{
	if (e->smr)
		ibv_dereg_mr(e->smr);
	if (e->dmr)
		ibv_dereg_mr(e->dmr);
	lb_close(&e->l);
	free(e->src);
	free(e->dst);
}

static int wr_env_init(struct wr_env *e)
{
	memset(e, 0, sizeof(*e));
	e->src = aligned_alloc(4096, WR_LEN);
	e->dst = aligned_alloc(4096, WR_LEN);
	if (!e->src || !e->dst || lb_open(&e->l))
		return -1;
	t_fill(e->src, WR_LEN, 5);
	memset(e->dst, 0, WR_LEN);
	e->smr = ibv_reg_mr(e->l.pd, e->src, WR_LEN, T_MR_ACCESS | IBV_ACCESS_LOCAL_WRITE);
	e->dmr = ibv_reg_mr(e->l.pd, e->dst, WR_LEN, T_MR_ACCESS | IBV_ACCESS_LOCAL_WRITE);
	return e->smr && e->dmr ? 0 : -1;
}

struct wr_seen {
	uint64_t wr_id;
	int status, opcode;
	uint32_t byte_len, qp_num;
	__be32 imm;
	unsigned int flags;
};

/* Poll @n completions through the extended CQ within T_POLL_MS; how many came. */
static int wr_poll(struct wr_env *e, struct wr_seen *seen, int n)
{
	struct ibv_poll_cq_attr pa = {0};
	double end = t_now_ms() + T_POLL_MS;
	int got = 0, ret;

	while (got < n && t_now_ms() < end) {
		ret = ibv_start_poll(e->l.cqx, &pa);
		if (ret == ENOENT) {
			usleep(100);
			continue;
		}
		if (ret)
			return got;
		do {
			struct wr_seen *s = &seen[got++];

			s->wr_id = e->l.cqx->wr_id;
			s->status = e->l.cqx->status;
			s->opcode = ibv_wc_read_opcode(e->l.cqx);
			s->byte_len = ibv_wc_read_byte_len(e->l.cqx);
			s->qp_num = ibv_wc_read_qp_num(e->l.cqx);
			s->flags = ibv_wc_read_wc_flags(e->l.cqx);
			s->imm = (s->flags & IBV_WC_WITH_IMM) ? ibv_wc_read_imm_data(e->l.cqx) : 0;
		} while (got < n && ibv_next_poll(e->l.cqx) == 0);
		ibv_end_poll(e->l.cqx);
	}
	return got;
}

static struct wr_seen *wr_find(struct wr_seen *s, int n, uint64_t id)
{
	int i;

	for (i = 0; i < n; i++)
		if (s[i].wr_id == id)
			return &s[i];
	return NULL;
}

static void post_recv_b(struct wr_env *e, uint64_t id, size_t off, uint32_t len)
{
	struct ibv_sge sge = {
		.addr = (uintptr_t)(e->dst + off), .length = len, .lkey = e->dmr->lkey};
	struct ibv_recv_wr wr = {.wr_id = id, .sg_list = &sge, .num_sge = 1}, *bad;

	if (ibv_post_recv(e->l.b, &wr, &bad))
		fprintf(stderr, "post_recv: %s\n", strerror(errno));
}

static const char hello[] = "hello, softodp";

/* One batch of five requests; checks completions and bytes. */
static void wr_batch(struct wr_env *e)
{
	struct ibv_qp_ex *x = ibv_qp_to_qp_ex(e->l.a);
	struct wr_seen seen[8], *s;
	uint64_t old, now;
	int n, ret, i;

	memcpy(e->dst + ATOM_OFF, &(uint64_t){ATOM_INIT}, 8);
	post_recv_b(e, 100, 16384, 4096);
	post_recv_b(e, 101, 20480, 4096);
	ibv_wr_start(x);
	x->wr_flags = IBV_SEND_SIGNALED;
	x->wr_id = 1;
	ibv_wr_rdma_write(x, e->dmr->rkey, (uintptr_t)e->dst);
	ibv_wr_set_sge(x, e->smr->lkey, (uintptr_t)e->src, 8192);
	x->wr_id = 2;
	ibv_wr_send_imm(x, htobe32(0x1234));
	ibv_wr_set_sge(x, e->smr->lkey, (uintptr_t)(e->src + 8192), 1000);
	x->wr_id = 3;
	ibv_wr_rdma_read(x, e->dmr->rkey, (uintptr_t)e->dst);
	ibv_wr_set_sge(x, e->smr->lkey, (uintptr_t)(e->src + 32768), 4096);
	x->wr_id = 4;
	ibv_wr_atomic_fetch_add(x, e->dmr->rkey, (uintptr_t)(e->dst + ATOM_OFF), 5);
	ibv_wr_set_sge(x, e->smr->lkey, (uintptr_t)(e->src + 40960), 8);
	x->wr_id = 5;
	x->wr_flags = IBV_SEND_SIGNALED | IBV_SEND_INLINE;
	ibv_wr_send(x);
	ibv_wr_set_inline_data(x, (void *)hello, sizeof(hello));
	ret = ibv_wr_complete(x);
	if (ret) {
		t_result(0, "wr_api_batch", "ibv_wr_complete: %s", strerror(ret));
		return;
	}
	n = wr_poll(e, seen, 7);
	if (n != 7) {
		t_result(0, "wr_api_batch", "%d of 7 completions", n);
		return;
	}
	for (i = 0; i < n; i++)
		if (seen[i].status != IBV_WC_SUCCESS) {
			t_result(0, "wr_api_batch", "wr_id %llu: status %d",
				 (unsigned long long)seen[i].wr_id, seen[i].status);
			return;
		}
	s = wr_find(seen, n, 100);
	if (!s || s->opcode != IBV_WC_RECV || s->byte_len != 1000 ||
	    !(s->flags & IBV_WC_WITH_IMM) || be32toh(s->imm) != 0x1234 ||
	    s->qp_num != e->l.b->qp_num) {
		t_result(0, "wr_api_batch", "SEND with immediate: bad receive completion");
		return;
	}
	s = wr_find(seen, n, 101);
	if (!s || s->byte_len != sizeof(hello) || memcmp(e->dst + 20480, hello, sizeof(hello))) {
		t_result(0, "wr_api_batch", "inline SEND: bad receive");
		return;
	}
	s = wr_find(seen, n, 3);
	if (!s || s->opcode != IBV_WC_RDMA_READ || s->byte_len != 4096) {
		t_result(0, "wr_api_batch", "READ completion");
		return;
	}
	memcpy(&old, e->src + 40960, 8);
	memcpy(&now, e->dst + ATOM_OFF, 8);
	if (t_diff(e->src, e->dst, 8192) >= 0 || t_diff(e->src + 8192, e->dst + 16384, 1000) >= 0 ||
	    t_diff(e->src + 32768, e->dst, 4096) >= 0 || old != ATOM_INIT || now != ATOM_INIT + 5) {
		t_result(0, "wr_api_batch",
			 "data: write/send/read/atomic differ (atomic %llx -> %llx)",
			 (unsigned long long)old, (unsigned long long)now);
		return;
	}
	t_pass("wr_api_batch");
}

/* wr_abort and a batch with one SGE more than the QP has post nothing. */
static void wr_nothing_posted(struct wr_env *e)
{
	struct ibv_qp_ex *x = ibv_qp_to_qp_ex(e->l.a);
	struct ibv_qp_init_attr init;
	struct ibv_qp_attr qa;
	struct ibv_sge sg[256];
	uint32_t n;
	int ret, i;

	if (ibv_query_qp(e->l.a, &qa, IBV_QP_CAP, &init) || qa.cap.max_send_sge >= 256) {
		t_result(0, "wr_api_too_many_sges", "ibv_query_qp: %s, max_send_sge %u",
			 strerror(errno), qa.cap.max_send_sge);
		return;
	}
	n = qa.cap.max_send_sge + 1;

	ibv_wr_start(x);
	x->wr_id = 10;
	x->wr_flags = IBV_SEND_SIGNALED;
	ibv_wr_rdma_write(x, e->dmr->rkey, (uintptr_t)e->dst);
	ibv_wr_set_sge(x, e->smr->lkey, (uintptr_t)e->src, 64);
	ibv_wr_abort(x);
	t_result(!t_poll_none(e->l.cq, 300), "wr_api_abort", "an aborted batch completed");

	for (i = 0; i < (int)n; i++)
		sg[i] = (struct ibv_sge){
			.addr = (uintptr_t)e->src, .length = 8, .lkey = e->smr->lkey};
	ibv_wr_start(x);
	x->wr_id = 11;
	x->wr_flags = IBV_SEND_SIGNALED;
	ibv_wr_rdma_write(x, e->dmr->rkey, (uintptr_t)e->dst);
	ibv_wr_set_sge(x, e->smr->lkey, (uintptr_t)e->src, 64);
	x->wr_id = 12;
	ibv_wr_rdma_write(x, e->dmr->rkey, (uintptr_t)e->dst);
	ibv_wr_set_sge_list(x, n, sg);
	ret = ibv_wr_complete(x);
	t_result(ret == EINVAL && !t_poll_none(e->l.cq, 300), "wr_api_too_many_sges",
		 "ibv_wr_complete: %s, want EINVAL and nothing posted", strerror(ret));
}

static void test_wr_api(void)
{
	struct wr_env e;

	if (!t_want("wr_api"))
		return;
	if (wr_env_init(&e)) {
		t_result(0, "wr_api", "setup: %s", strerror(errno));
		wr_env_fini(&e);
		return;
	}
	wr_batch(&e);
	wr_nothing_posted(&e);
	/* The QPs still work after the failed batch. */
	wr_batch(&e);
	wr_env_fini(&e);
}

/* ---- ah ------------------------------------------------------------------------ */

/* An address handle to the device's own RoCEv2 GID (the UD path's AH). */
static void test_ah(void)
{
	struct ibv_pd *pd;
	struct ibv_ah *ah;
	struct ibv_ah_attr aa = {
		.is_global = 1,
		.port_num = 1,
		.grh = {.dgid = devs[0].gid, .sgid_index = devs[0].gid_index, .hop_limit = 64},
	};

	if (!t_want("ah"))
		return;
	pd = ibv_alloc_pd(devs[0].ctx);
	ah = pd ? ibv_create_ah(pd, &aa) : NULL;
	t_result(ah != NULL, "ah_create", "ibv_create_ah: %s", strerror(errno));
	if (ah)
		t_result(!ibv_destroy_ah(ah), "ah_destroy", "ibv_destroy_ah: %s", strerror(errno));
	if (pd)
		ibv_dealloc_pd(pd);
}

int main(int argc, char **argv)
{
	int ret;

	if (argc > 1 && !strcmp(argv[1], "--help")) {
		printf("usage: provider [--help] [-d DEV] [-f FILTER]\n"
		       "The softodp provider through standard verbs (see the source's header).\n");
		return 0;
	}
	ret = t_start(argc, argv, "provider [--help] [-d DEV] [-f FILTER]", NULL, NULL, devs);
	if (ret)
		return ret;
	psz = sysconf(_SC_PAGESIZE);
	test_bound();
	test_advise_matrix();
	test_advise_errors();
	test_wr_api();
	test_ah();
	return t_summary();
}
