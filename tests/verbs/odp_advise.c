// SPDX-License-Identifier: GPL-2.0
/*
 * odp_advise - prefetch (advise_mr) and ODP counters of a softodp device.
 *
 * Usage: odp_advise [--help] DEVICE
 *
 * The stock librxe of rdma-core 44 has no advise_mr op, so this issues the
 * uverbs ADVISE_MR method directly as an ioctl on the context's command
 * fd, with the layouts of <rdma/ib_user_ioctl_cmds.h>.  Counters are read
 * the way users read them: per MR with `rdma statistic show mr` and per
 * device from sysfs hw_counters.  test_prefetch_matrix covers every advice
 * (PREFETCH, PREFETCH_WRITE, PREFETCH_NO_FAULT) with and without FLUSH on
 * explicit and implicit MRs, over mapped memory and across a hole.  Prints
 * PASS/FAIL lines and "N passed, N failed".
 */
#define _GNU_SOURCE
#include <errno.h>
#include <infiniband/verbs.h>
#include "common.h"
#include "odp_util.h"
#include <rdma/ib_user_ioctl_cmds.h>
#include <rdma/ib_user_verbs.h>
#include <rdma/rdma_user_ioctl_cmds.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#define NPAGES 64

static int passed, failed;
static const char *devname;
static long page_size;

#define CHECK(cond, ...)                                                                           \
	do {                                                                                       \
		if (!(cond)) {                                                                     \
			printf("FAIL %s: ", __func__);                                             \
			printf(__VA_ARGS__);                                                       \
			printf("\n");                                                              \
			failed++;                                                                  \
			return;                                                                    \
		}                                                                                  \
	} while (0)

#define PASS() (printf("PASS %s\n", __func__), passed++)

struct ctx {
	struct ibv_context *ctx;
	struct ibv_pd *pd;
};

/*
 * Per-MR counter @name of the MR with @lkey: its restrack id from
 * `rdma resource show mr` ("dev D mrn N rkey R lkey 0x... ..."), then the
 * counter from `rdma statistic show mr` ("dev D mrn N name value ...").
 * Returns -1 if not found.
 */
static long long mr_counter(uint32_t lkey, const char *name)
{
	char line[4096], want[64], key[80], *p;
	long long mrn = -1, val = -1;
	FILE *f;

	f = popen("rdma resource show mr 2>&1", "r");
	if (!f)
		return -1;
	snprintf(want, sizeof(want), " lkey 0x%x ", (unsigned int)lkey);
	while (fgets(line, sizeof(line), f)) {
		p = strstr(line, " mrn ");
		if (p && strstr(line, want) && strstr(line, devname))
			mrn = strtoll(p + 5, NULL, 10);
	}
	pclose(f);
	if (mrn < 0)
		return -1;
	f = popen("rdma statistic show mr 2>&1", "r");
	if (!f)
		return -1;
	snprintf(want, sizeof(want), " mrn %lld ", mrn);
	snprintf(key, sizeof(key), " %s ", name);
	while (fgets(line, sizeof(line), f)) {
		if (!strstr(line, want) || !strstr(line, devname))
			continue;
		p = strstr(line, key);
		if (p)
			val = strtoll(p + strlen(key), NULL, 10);
	}
	pclose(f);
	return val;
}

static void *map_pages(size_t n)
{
	void *p = mmap(NULL, n * page_size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1,
		       0);

	return p == MAP_FAILED ? NULL : p;
}

static struct ib_uverbs_sge sge_of(void *addr, size_t len, uint32_t lkey)
{
	struct ib_uverbs_sge s = {.addr = (uintptr_t)addr, .length = len, .lkey = lkey};

	return s;
}

static void test_prefetch_sync_counts_pages(struct ctx *c)
{
	char *buf = map_pages(NPAGES);
	struct ibv_mr *mr;
	struct ib_uverbs_sge s;
	long long hw0 = odp_hw_counter(devname, "odp_prefetch_pages");
	int ret;

	CHECK(buf, "mmap");
	mr = ibv_reg_mr(c->pd, buf, NPAGES * page_size,
			IBV_ACCESS_ON_DEMAND | IBV_ACCESS_LOCAL_WRITE | IBV_ACCESS_REMOTE_WRITE |
				IBV_ACCESS_REMOTE_READ);
	CHECK(mr, "ibv_reg_mr ODP: %s", strerror(errno));
	CHECK(mr_counter(mr->lkey, "page_prefetch") == 0, "page_prefetch before: %lld",
	      mr_counter(mr->lkey, "page_prefetch"));
	s = sge_of(buf, NPAGES * page_size, mr->lkey);
	ret = odp_advise_mr(c->pd, IB_UVERBS_ADVISE_MR_ADVICE_PREFETCH_WRITE,
			    IB_UVERBS_ADVISE_MR_FLAG_FLUSH, &s, 1);
	CHECK(!ret, "PREFETCH_WRITE|FLUSH: %s", strerror(ret));
	CHECK(mr_counter(mr->lkey, "page_prefetch") == NPAGES, "page_prefetch %lld != %d",
	      mr_counter(mr->lkey, "page_prefetch"), NPAGES);
	CHECK(mr_counter(mr->lkey, "page_faults") == 0, "prefetch counted as page faults");
	CHECK(odp_hw_counter(devname, "odp_prefetch_pages") == hw0 + NPAGES,
	      "hw odp_prefetch_pages %lld -> %lld", hw0,
	      odp_hw_counter(devname, "odp_prefetch_pages"));
	CHECK(odp_hw_counter(devname, "odp_pages_mapped") >= NPAGES, "hw odp_pages_mapped %lld",
	      odp_hw_counter(devname, "odp_pages_mapped"));
	/* The pages are really there: the CPU sees what prefetch did not touch. */
	CHECK(buf[0] == 0 && buf[NPAGES * page_size - 1] == 0, "contents");
	ibv_dereg_mr(mr);
	/* Deregistered MRs still count in the device totals. */
	CHECK(odp_hw_counter(devname, "odp_prefetch_pages") == hw0 + NPAGES, "total lost at dereg");
	CHECK(odp_hw_counter(devname, "odp_pages_mapped") == 0,
	      "pages still mapped after dereg: %lld", odp_hw_counter(devname, "odp_pages_mapped"));
	munmap(buf, NPAGES * page_size);
	PASS();
}

static void test_prefetch_errors(struct ctx *c)
{
	char *buf = map_pages(NPAGES), *pinned = map_pages(4);
	struct ibv_mr *ro, *rw, *pmr;
	struct ib_uverbs_sge s;
	int ret;

	CHECK(buf && pinned, "mmap");
	ro = ibv_reg_mr(c->pd, buf, NPAGES * page_size, IBV_ACCESS_ON_DEMAND);
	rw = ibv_reg_mr(c->pd, buf, NPAGES * page_size,
			IBV_ACCESS_ON_DEMAND | IBV_ACCESS_LOCAL_WRITE);
	pmr = ibv_reg_mr(c->pd, pinned, 4 * page_size, IBV_ACCESS_LOCAL_WRITE);
	CHECK(ro && rw && pmr, "ibv_reg_mr: %s", strerror(errno));

	s = sge_of(buf, page_size, ro->lkey);
	ret = odp_advise_mr(c->pd, IB_UVERBS_ADVISE_MR_ADVICE_PREFETCH_WRITE,
			    IB_UVERBS_ADVISE_MR_FLAG_FLUSH, &s, 1);
	CHECK(ret == EFAULT, "PREFETCH_WRITE on a read-only MR: %s", strerror(ret));
	s = sge_of(buf, page_size, rw->lkey ^ 0x100);
	ret = odp_advise_mr(c->pd, IB_UVERBS_ADVISE_MR_ADVICE_PREFETCH,
			    IB_UVERBS_ADVISE_MR_FLAG_FLUSH, &s, 1);
	CHECK(ret == EFAULT, "unknown lkey: %s", strerror(ret));
	s = sge_of(buf + NPAGES * page_size - 8, 16, rw->lkey);
	ret = odp_advise_mr(c->pd, IB_UVERBS_ADVISE_MR_ADVICE_PREFETCH,
			    IB_UVERBS_ADVISE_MR_FLAG_FLUSH, &s, 1);
	CHECK(ret == EFAULT, "range beyond the MR: %s", strerror(ret));
	s = sge_of(pinned, page_size, pmr->lkey);
	ret = odp_advise_mr(c->pd, IB_UVERBS_ADVISE_MR_ADVICE_PREFETCH,
			    IB_UVERBS_ADVISE_MR_FLAG_FLUSH, &s, 1);
	CHECK(ret == EINVAL, "pinned MR: %s", strerror(ret));
	s = sge_of(buf, page_size, rw->lkey);
	ret = odp_advise_mr(c->pd, IB_UVERBS_ADVISE_MR_ADVICE_PREFETCH, 0x80, &s, 1);
	CHECK(ret == EINVAL, "unknown flag: %s", strerror(ret));
	ret = odp_advise_mr(c->pd, 77, IB_UVERBS_ADVISE_MR_FLAG_FLUSH, &s, 1);
	CHECK(ret != 0, "unknown advice accepted");

	/* A hole in the middle: synchronous says EFAULT, asynchronous skips. */
	CHECK(!munmap(buf + 8 * page_size, page_size), "munmap");
	s = sge_of(buf, 16 * page_size, rw->lkey);
	ret = odp_advise_mr(c->pd, IB_UVERBS_ADVISE_MR_ADVICE_PREFETCH,
			    IB_UVERBS_ADVISE_MR_FLAG_FLUSH, &s, 1);
	CHECK(ret == EFAULT, "sync prefetch over a hole: %s", strerror(ret));
	ret = odp_advise_mr(c->pd, IB_UVERBS_ADVISE_MR_ADVICE_PREFETCH, 0, &s, 1);
	CHECK(ret == 0, "async prefetch over a hole: %s", strerror(ret));
	/* NO_FAULT never fails on holes. */
	ret = odp_advise_mr(c->pd, IB_UVERBS_ADVISE_MR_ADVICE_PREFETCH_NO_FAULT,
			    IB_UVERBS_ADVISE_MR_FLAG_FLUSH, &s, 1);
	CHECK(ret == 0, "NO_FAULT over a hole: %s", strerror(ret));
	/* Dereg right after an asynchronous prefetch: it waits, nothing leaks. */
	ret = odp_advise_mr(c->pd, IB_UVERBS_ADVISE_MR_ADVICE_PREFETCH, 0, &s, 1);
	CHECK(ret == 0, "async prefetch: %s", strerror(ret));
	CHECK(!ibv_dereg_mr(rw) && !ibv_dereg_mr(ro) && !ibv_dereg_mr(pmr), "dereg");
	munmap(buf, NPAGES * page_size);
	munmap(pinned, 4 * page_size);
	PASS();
}

static void test_prefetch_async(struct ctx *c)
{
	char *buf = map_pages(NPAGES);
	struct ib_uverbs_sge s[2];
	struct ibv_mr *mr;
	int ret, i;

	CHECK(buf, "mmap");
	mr = ibv_reg_mr(c->pd, buf, NPAGES * page_size,
			IBV_ACCESS_ON_DEMAND | IBV_ACCESS_LOCAL_WRITE);
	CHECK(mr, "ibv_reg_mr: %s", strerror(errno));
	s[0] = sge_of(buf, 16 * page_size, mr->lkey);
	s[1] = sge_of(buf + 32 * page_size, 16 * page_size, mr->lkey);
	ret = odp_advise_mr(c->pd, IB_UVERBS_ADVISE_MR_ADVICE_PREFETCH, 0, s, 2);
	CHECK(!ret, "async prefetch: %s", strerror(ret));
	for (i = 0; i < 100 && mr_counter(mr->lkey, "page_prefetch") != 32; i++)
		usleep(50000);
	CHECK(mr_counter(mr->lkey, "page_prefetch") == 32, "page_prefetch %lld != 32",
	      mr_counter(mr->lkey, "page_prefetch"));
	ibv_dereg_mr(mr);
	munmap(buf, NPAGES * page_size);
	PASS();
}

static void test_prefetch_implicit(struct ctx *c)
{
	struct ibv_mr *mr;
	struct ib_uverbs_sge s;
	char *buf;
	int ret;

	mr = ibv_reg_mr(c->pd, NULL, SIZE_MAX, IBV_ACCESS_ON_DEMAND | IBV_ACCESS_LOCAL_WRITE);
	CHECK(mr, "implicit ibv_reg_mr: %s", strerror(errno));
	/* Memory allocated after the registration. */
	buf = map_pages(NPAGES);
	CHECK(buf, "mmap");
	s = sge_of(buf, NPAGES * page_size, mr->lkey);
	ret = odp_advise_mr(c->pd, IB_UVERBS_ADVISE_MR_ADVICE_PREFETCH_WRITE,
			    IB_UVERBS_ADVISE_MR_FLAG_FLUSH, &s, 1);
	CHECK(!ret, "implicit prefetch: %s", strerror(ret));
	CHECK(mr_counter(mr->lkey, "page_prefetch") == NPAGES, "implicit page_prefetch %lld",
	      mr_counter(mr->lkey, "page_prefetch"));
	CHECK(!munmap(buf, NPAGES * page_size), "munmap");
	s = sge_of(buf, page_size, mr->lkey);
	ret = odp_advise_mr(c->pd, IB_UVERBS_ADVISE_MR_ADVICE_PREFETCH,
			    IB_UVERBS_ADVISE_MR_FLAG_FLUSH, &s, 1);
	CHECK(ret == EFAULT, "implicit prefetch of unmapped memory: %s", strerror(ret));
	CHECK(mr_counter(mr->lkey, "page_invalidations") >= NPAGES,
	      "munmap not counted: page_invalidations %lld",
	      mr_counter(mr->lkey, "page_invalidations"));
	ibv_dereg_mr(mr);
	PASS();
}

/*
 * The whole matrix: PREFETCH, PREFETCH_WRITE and PREFETCH_NO_FAULT, each
 * with FLUSH (synchronous) and without (queued), each on an explicit and on
 * an implicit MR.  Over 8 CPU-touched pages every cell prefetches 8 pages
 * and faults none; over a range crossing a munmapped page the synchronous
 * faulting cells fail with EFAULT, NO_FAULT and the queued cells return 0
 * (the hole is skipped).
 */
static void test_prefetch_matrix(struct ctx *c)
{
	static const struct {
		uint32_t advice;
		const char *name;
	} adv[] = {
		{IB_UVERBS_ADVISE_MR_ADVICE_PREFETCH, "PREFETCH"},
		{IB_UVERBS_ADVISE_MR_ADVICE_PREFETCH_WRITE, "PREFETCH_WRITE"},
		{IB_UVERBS_ADVISE_MR_ADVICE_PREFETCH_NO_FAULT, "PREFETCH_NO_FAULT"},
	};
	const int access = IBV_ACCESS_ON_DEMAND | IBV_ACCESS_LOCAL_WRITE;
	int a, flush, implicit, ret, i, want;
	struct ib_uverbs_sge s;
	struct ibv_mr *mr;
	long long n;
	char *buf;

	for (a = 0; a < 3; a++) {
		for (flush = 0; flush < 2; flush++) {
			for (implicit = 0; implicit < 2; implicit++) {
				const char *cell = implicit ? "implicit" : "explicit";
				const char *mode = flush ? "FLUSH" : "async";

				mr = implicit ? ibv_reg_mr(c->pd, NULL, SIZE_MAX, access) : NULL;
				buf = map_pages(8);
				CHECK(buf, "mmap");
				memset(buf, 1, 8 * page_size);
				if (!implicit)
					mr = ibv_reg_mr(c->pd, buf, 8 * page_size, access);
				CHECK(mr, "%s ibv_reg_mr: %s", cell, strerror(errno));
				s = sge_of(buf, 8 * page_size, mr->lkey);
				ret = odp_advise_mr(c->pd, adv[a].advice,
						    flush ? IB_UVERBS_ADVISE_MR_FLAG_FLUSH : 0, &s,
						    1);
				CHECK(!ret, "%s %s %s: %s", adv[a].name, mode, cell, strerror(ret));
				for (i = 0; i < 100 && mr_counter(mr->lkey, "page_prefetch") != 8;
				     i++)
					usleep(20000);
				n = mr_counter(mr->lkey, "page_prefetch");
				CHECK(n == 8 && mr_counter(mr->lkey, "page_faults") == 0,
				      "%s %s %s: page_prefetch %lld, page_faults %lld", adv[a].name,
				      mode, cell, n, mr_counter(mr->lkey, "page_faults"));

				/* Pages 0-3 and 5-7 of a range with page 4 unmapped. */
				CHECK(!munmap(buf + 4 * page_size, page_size), "munmap");
				s = sge_of(buf, 8 * page_size, mr->lkey);
				ret = odp_advise_mr(c->pd, adv[a].advice,
						    flush ? IB_UVERBS_ADVISE_MR_FLAG_FLUSH : 0, &s,
						    1);
				want = flush && adv[a].advice !=
							       IB_UVERBS_ADVISE_MR_ADVICE_PREFETCH_NO_FAULT
					       ? EFAULT
					       : 0;
				CHECK(ret == want, "%s %s %s over a hole: %s, want %s", adv[a].name,
				      mode, cell, strerror(ret), strerror(want));
				/* Dereg waits for a queued prefetch still holding the MR. */
				CHECK(!ibv_dereg_mr(mr), "dereg");
				munmap(buf, 4 * page_size);
				munmap(buf + 5 * page_size, 3 * page_size);
			}
		}
	}
	PASS();
}

/* ---- transfers: two RC QPs on the device, connected to each other ---- */

struct rc_pair {
	struct ibv_cq *cq;
	struct ibv_qp *a, *b;
};

static int rc_connect(struct ctx *c, struct ibv_qp *qp, uint32_t dqpn)
{
	union ibv_gid gid;

	if (ibv_query_gid(c->ctx, 1, 1, &gid))
		return errno;
	return t_connect_qp(qp, 1, &gid, dqpn, IBV_MTU_1024, 7);
}

static int rc_pair_open(struct ctx *c, struct rc_pair *p)
{
	int ret;

	p->cq = ibv_create_cq(c->ctx, 16, NULL, NULL, 0);
	if (!p->cq)
		return errno;
	p->a = t_create_rc_qp(c->pd, p->cq, NULL, 8, 1, NULL);
	p->b = t_create_rc_qp(c->pd, p->cq, NULL, 8, 1, NULL);
	if (!p->a || !p->b)
		return errno;
	ret = rc_connect(c, p->a, p->b->qp_num);
	return ret ? ret : rc_connect(c, p->b, p->a->qp_num);
}

static void rc_pair_close(struct rc_pair *p)
{
	if (p->a)
		ibv_destroy_qp(p->a);
	if (p->b)
		ibv_destroy_qp(p->b);
	if (p->cq)
		ibv_destroy_cq(p->cq);
}

/* One signaled RDMA WRITE from a to b; returns the completion status. */
static int rc_write(struct rc_pair *p, void *src, uint32_t lkey, void *dst, uint32_t rkey,
		    size_t len)
{
	struct ibv_sge sge = {.addr = (uintptr_t)src, .length = len, .lkey = lkey};
	struct ibv_send_wr wr = {0}, *bad;
	struct ibv_wc wc;
	int i, n = 0;

	wr.wr_id = 42;
	wr.sg_list = &sge;
	wr.num_sge = 1;
	wr.opcode = IBV_WR_RDMA_WRITE;
	wr.send_flags = IBV_SEND_SIGNALED;
	wr.wr.rdma.remote_addr = (uintptr_t)dst;
	wr.wr.rdma.rkey = rkey;
	if (ibv_post_send(p->a, &wr, &bad))
		return -errno;
	for (i = 0; i < 2000 && n == 0; i++) {
		n = ibv_poll_cq(p->cq, 1, &wc);
		if (!n)
			usleep(5000);
	}
	if (n != 1)
		return -ETIMEDOUT;
	return wc.status;
}

/*
 * One RDMA WRITE into 16 untouched pages of an ODP MR: page_faults counts
 * the 16 pages, page_faults_handled the fault events; with a prefetch
 * first, the write faults nothing.
 */
static void test_write_faults_and_prefetch(struct ctx *c)
{
	const size_t len = 16 * page_size;
	char *src = map_pages(16), *dst = map_pages(16), *dst2 = map_pages(16);
	struct ibv_mr *smr, *dmr, *dmr2;
	struct rc_pair p = {0};
	struct ib_uverbs_sge s;
	long long handled;
	int ret;

	CHECK(src && dst && dst2, "mmap");
	memset(src, 0xa5, len);
	smr = ibv_reg_mr(c->pd, src, len, IBV_ACCESS_LOCAL_WRITE);
	dmr = ibv_reg_mr(c->pd, dst, len,
			 IBV_ACCESS_ON_DEMAND | IBV_ACCESS_LOCAL_WRITE | IBV_ACCESS_REMOTE_WRITE);
	dmr2 = ibv_reg_mr(c->pd, dst2, len,
			  IBV_ACCESS_ON_DEMAND | IBV_ACCESS_LOCAL_WRITE | IBV_ACCESS_REMOTE_WRITE);
	CHECK(smr && dmr && dmr2, "ibv_reg_mr: %s", strerror(errno));
	ret = rc_pair_open(c, &p);
	CHECK(!ret, "RC loopback pair: %s", strerror(ret));

	ret = rc_write(&p, src, smr->lkey, dst, dmr->rkey, len);
	CHECK(ret == IBV_WC_SUCCESS, "write into untouched ODP pages: status %d", ret);
	CHECK(!memcmp(src, dst, len), "data");
	CHECK(mr_counter(dmr->lkey, "page_faults") == 16, "page_faults %lld != 16",
	      mr_counter(dmr->lkey, "page_faults"));
	handled = mr_counter(dmr->lkey, "page_faults_handled");
	CHECK(handled >= 1 && handled <= 16, "page_faults_handled %lld", handled);
	printf("# 16-page WRITE: page_faults 16, page_faults_handled %lld\n", handled);

	s = sge_of(dst2, len, dmr2->lkey);
	ret = odp_advise_mr(c->pd, IB_UVERBS_ADVISE_MR_ADVICE_PREFETCH_WRITE,
			    IB_UVERBS_ADVISE_MR_FLAG_FLUSH, &s, 1);
	CHECK(!ret, "prefetch: %s", strerror(ret));
	ret = rc_write(&p, src, smr->lkey, dst2, dmr2->rkey, len);
	CHECK(ret == IBV_WC_SUCCESS, "write after prefetch: status %d", ret);
	CHECK(!memcmp(src, dst2, len), "data after prefetch");
	CHECK(mr_counter(dmr2->lkey, "page_faults") == 0 &&
		      mr_counter(dmr2->lkey, "page_faults_handled") == 0,
	      "prefetched MR faulted: page_faults %lld", mr_counter(dmr2->lkey, "page_faults"));
	CHECK(mr_counter(dmr2->lkey, "page_prefetch") == 16, "page_prefetch");
	rc_pair_close(&p);
	ibv_dereg_mr(smr);
	ibv_dereg_mr(dmr);
	ibv_dereg_mr(dmr2);
	munmap(src, len);
	munmap(dst, len);
	munmap(dst2, len);
	PASS();
}

int main(int argc, char **argv)
{
	struct ibv_device **list;
	struct ctx c = {0};
	int i, n;

	if (argc != 2 || !strcmp(argv[1], "--help")) {
		printf("Usage: odp_advise DEVICE\n"
		       "Tests advise_mr prefetch and the ODP counters of a softodp device.\n");
		return argc == 2 ? 0 : 2;
	}
	devname = argv[1];
	page_size = sysconf(_SC_PAGESIZE);
	list = ibv_get_device_list(&n);
	for (i = 0; list && i < n && !c.ctx; i++)
		if (!strcmp(ibv_get_device_name(list[i]), devname))
			c.ctx = ibv_open_device(list[i]);
	if (!c.ctx) {
		fprintf(stderr, "odp_advise: cannot open %s\n", devname);
		return 1;
	}
	c.pd = ibv_alloc_pd(c.ctx);
	if (!c.pd) {
		fprintf(stderr, "odp_advise: ibv_alloc_pd: %s\n", strerror(errno));
		return 1;
	}
	test_prefetch_sync_counts_pages(&c);
	test_prefetch_errors(&c);
	test_prefetch_async(&c);
	test_prefetch_implicit(&c);
	test_prefetch_matrix(&c);
	test_write_faults_and_prefetch(&c);
	ibv_dealloc_pd(c.pd);
	ibv_close_device(c.ctx);
	ibv_free_device_list(list);
	printf("%d passed, %d failed\n", passed, failed);
	return failed ? 1 : 0;
}
