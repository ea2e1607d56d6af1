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
 * PASS/FAIL lines and "N passed, N failed" (common.h).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "common.h"

#define NPAGES 64

static struct t_dev dev;
static long page_size;

struct ctx {
	struct ibv_pd *pd;
};

/* Counter @name of the MR with @lkey, from `rdma statistic show mr`. */
static long long mr_counter(uint32_t lkey, const char *name)
{
	return t_mr_counter(dev.name, lkey, name);
}

static void test_prefetch_sync_counts_pages(struct ctx *c)
{
	char *buf = t_map_pages(NPAGES);
	struct ibv_mr *mr;
	long long hw0 = t_hw_counter(dev.name, "odp_prefetch_pages");
	int ret;

	T_REQUIRE(buf, __func__, "mmap");
	mr = ibv_reg_mr(c->pd, buf, NPAGES * page_size,
			IBV_ACCESS_ON_DEMAND | IBV_ACCESS_LOCAL_WRITE | IBV_ACCESS_REMOTE_WRITE |
				IBV_ACCESS_REMOTE_READ);
	T_REQUIRE(mr, __func__, "ibv_reg_mr ODP: %s", strerror(errno));
	T_REQUIRE(mr_counter(mr->lkey, "page_prefetch") == 0, __func__,
		  "page_prefetch before: %lld", mr_counter(mr->lkey, "page_prefetch"));
	ret = t_advise(c->pd, IB_UVERBS_ADVISE_MR_ADVICE_PREFETCH_WRITE,
		       IB_UVERBS_ADVISE_MR_FLAG_FLUSH, buf, NPAGES * page_size, mr->lkey);
	T_REQUIRE(!ret, __func__, "PREFETCH_WRITE|FLUSH: %s", strerror(ret));
	T_REQUIRE(mr_counter(mr->lkey, "page_prefetch") == NPAGES, __func__,
		  "page_prefetch %lld != %d", mr_counter(mr->lkey, "page_prefetch"), NPAGES);
	T_REQUIRE(mr_counter(mr->lkey, "page_faults") == 0, __func__,
		  "prefetch counted as page faults");
	T_REQUIRE(t_hw_counter(dev.name, "odp_prefetch_pages") == hw0 + NPAGES, __func__,
		  "hw odp_prefetch_pages %lld -> %lld", hw0,
		  t_hw_counter(dev.name, "odp_prefetch_pages"));
	T_REQUIRE(t_hw_counter(dev.name, "odp_pages_mapped") >= NPAGES, __func__,
		  "hw odp_pages_mapped %lld", t_hw_counter(dev.name, "odp_pages_mapped"));
	/* The pages are really there: the CPU sees what prefetch did not touch. */
	T_REQUIRE(buf[0] == 0 && buf[NPAGES * page_size - 1] == 0, __func__, "contents");
	ibv_dereg_mr(mr);
	/* Deregistered MRs still count in the device totals. */
	T_REQUIRE(t_hw_counter(dev.name, "odp_prefetch_pages") == hw0 + NPAGES, __func__,
		  "total lost at dereg");
	T_REQUIRE(t_hw_counter(dev.name, "odp_pages_mapped") == 0, __func__,
		  "pages still mapped after dereg: %lld",
		  t_hw_counter(dev.name, "odp_pages_mapped"));
	munmap(buf, NPAGES * page_size);
	t_pass(__func__);
}

static void test_prefetch_errors(struct ctx *c)
{
	char *buf = t_map_pages(NPAGES), *pinned = t_map_pages(4);
	struct ibv_mr *ro, *rw, *pmr;
	int ret;

	T_REQUIRE(buf && pinned, __func__, "mmap");
	ro = ibv_reg_mr(c->pd, buf, NPAGES * page_size, IBV_ACCESS_ON_DEMAND);
	rw = ibv_reg_mr(c->pd, buf, NPAGES * page_size,
			IBV_ACCESS_ON_DEMAND | IBV_ACCESS_LOCAL_WRITE);
	pmr = ibv_reg_mr(c->pd, pinned, 4 * page_size, IBV_ACCESS_LOCAL_WRITE);
	T_REQUIRE(ro && rw && pmr, __func__, "ibv_reg_mr: %s", strerror(errno));

	ret = t_advise(c->pd, IB_UVERBS_ADVISE_MR_ADVICE_PREFETCH_WRITE,
		       IB_UVERBS_ADVISE_MR_FLAG_FLUSH, buf, page_size, ro->lkey);
	T_REQUIRE(ret == EFAULT, __func__, "PREFETCH_WRITE on a read-only MR: %s", strerror(ret));
	ret = t_advise(c->pd, IB_UVERBS_ADVISE_MR_ADVICE_PREFETCH, IB_UVERBS_ADVISE_MR_FLAG_FLUSH,
		       buf, page_size, rw->lkey ^ 0x100);
	T_REQUIRE(ret == EFAULT, __func__, "unknown lkey: %s", strerror(ret));
	ret = t_advise(c->pd, IB_UVERBS_ADVISE_MR_ADVICE_PREFETCH, IB_UVERBS_ADVISE_MR_FLAG_FLUSH,
		       buf + NPAGES * page_size - 8, 16, rw->lkey);
	T_REQUIRE(ret == EFAULT, __func__, "range beyond the MR: %s", strerror(ret));
	ret = t_advise(c->pd, IB_UVERBS_ADVISE_MR_ADVICE_PREFETCH, IB_UVERBS_ADVISE_MR_FLAG_FLUSH,
		       pinned, page_size, pmr->lkey);
	T_REQUIRE(ret == EINVAL, __func__, "pinned MR: %s", strerror(ret));
	ret = t_advise(c->pd, IB_UVERBS_ADVISE_MR_ADVICE_PREFETCH, 0x80, buf, page_size, rw->lkey);
	T_REQUIRE(ret == EINVAL, __func__, "unknown flag: %s", strerror(ret));
	ret = t_advise(c->pd, 77, IB_UVERBS_ADVISE_MR_FLAG_FLUSH, buf, page_size, rw->lkey);
	T_REQUIRE(ret != 0, __func__, "unknown advice accepted");

	/* A hole in the middle: synchronous says EFAULT, asynchronous skips. */
	T_REQUIRE(!munmap(buf + 8 * page_size, page_size), __func__, "munmap");
	ret = t_advise(c->pd, IB_UVERBS_ADVISE_MR_ADVICE_PREFETCH, IB_UVERBS_ADVISE_MR_FLAG_FLUSH,
		       buf, 16 * page_size, rw->lkey);
	T_REQUIRE(ret == EFAULT, __func__, "sync prefetch over a hole: %s", strerror(ret));
	ret = t_advise(c->pd, IB_UVERBS_ADVISE_MR_ADVICE_PREFETCH, 0, buf, 16 * page_size,
		       rw->lkey);
	T_REQUIRE(ret == 0, __func__, "async prefetch over a hole: %s", strerror(ret));
	/* NO_FAULT never fails on holes. */
	ret = t_advise(c->pd, IB_UVERBS_ADVISE_MR_ADVICE_PREFETCH_NO_FAULT,
		       IB_UVERBS_ADVISE_MR_FLAG_FLUSH, buf, 16 * page_size, rw->lkey);
	T_REQUIRE(ret == 0, __func__, "NO_FAULT over a hole: %s", strerror(ret));
	/* Dereg right after an asynchronous prefetch: it waits, nothing leaks. */
	ret = t_advise(c->pd, IB_UVERBS_ADVISE_MR_ADVICE_PREFETCH, 0, buf, 16 * page_size,
		       rw->lkey);
	T_REQUIRE(ret == 0, __func__, "async prefetch: %s", strerror(ret));
	T_REQUIRE(!ibv_dereg_mr(rw) && !ibv_dereg_mr(ro) && !ibv_dereg_mr(pmr), __func__, "dereg");
	munmap(buf, NPAGES * page_size);
	munmap(pinned, 4 * page_size);
	t_pass(__func__);
}

static void test_prefetch_async(struct ctx *c)
{
	char *buf = t_map_pages(NPAGES);
	struct ib_uverbs_sge s[2];
	struct ibv_mr *mr;
	int ret, i;

	T_REQUIRE(buf, __func__, "mmap");
	mr = ibv_reg_mr(c->pd, buf, NPAGES * page_size,
			IBV_ACCESS_ON_DEMAND | IBV_ACCESS_LOCAL_WRITE);
	T_REQUIRE(mr, __func__, "ibv_reg_mr: %s", strerror(errno));
	s[0] = (struct ib_uverbs_sge){(uintptr_t)buf, 16 * page_size, mr->lkey};
	s[1] = (struct ib_uverbs_sge){(uintptr_t)buf + 32 * page_size, 16 * page_size, mr->lkey};
	ret = t_advise_mr(c->pd, IB_UVERBS_ADVISE_MR_ADVICE_PREFETCH, 0, s, 2);
	T_REQUIRE(!ret, __func__, "async prefetch: %s", strerror(ret));
	for (i = 0; i < 100 && mr_counter(mr->lkey, "page_prefetch") != 32; i++)
		usleep(50000);
	T_REQUIRE(mr_counter(mr->lkey, "page_prefetch") == 32, __func__, "page_prefetch %lld != 32",
		  mr_counter(mr->lkey, "page_prefetch"));
	ibv_dereg_mr(mr);
	munmap(buf, NPAGES * page_size);
	t_pass(__func__);
}

static void test_prefetch_implicit(struct ctx *c)
{
	struct ibv_mr *mr;
	char *buf;
	int ret;

	mr = ibv_reg_mr(c->pd, NULL, SIZE_MAX, IBV_ACCESS_ON_DEMAND | IBV_ACCESS_LOCAL_WRITE);
	T_REQUIRE(mr, __func__, "implicit ibv_reg_mr: %s", strerror(errno));
	/* Memory allocated after the registration. */
	buf = t_map_pages(NPAGES);
	T_REQUIRE(buf, __func__, "mmap");
	ret = t_advise(c->pd, IB_UVERBS_ADVISE_MR_ADVICE_PREFETCH_WRITE,
		       IB_UVERBS_ADVISE_MR_FLAG_FLUSH, buf, NPAGES * page_size, mr->lkey);
	T_REQUIRE(!ret, __func__, "implicit prefetch: %s", strerror(ret));
	T_REQUIRE(mr_counter(mr->lkey, "page_prefetch") == NPAGES, __func__,
		  "implicit page_prefetch %lld", mr_counter(mr->lkey, "page_prefetch"));
	T_REQUIRE(!munmap(buf, NPAGES * page_size), __func__, "munmap");
	ret = t_advise(c->pd, IB_UVERBS_ADVISE_MR_ADVICE_PREFETCH, IB_UVERBS_ADVISE_MR_FLAG_FLUSH,
		       buf, page_size, mr->lkey);
	T_REQUIRE(ret == EFAULT, __func__, "implicit prefetch of unmapped memory: %s",
		  strerror(ret));
	T_REQUIRE(mr_counter(mr->lkey, "page_invalidations") >= NPAGES, __func__,
		  "munmap not counted: page_invalidations %lld",
		  mr_counter(mr->lkey, "page_invalidations"));
	ibv_dereg_mr(mr);
	t_pass(__func__);
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
	struct ibv_mr *mr;
	long long n;
	char *buf;

	for (a = 0; a < 3; a++) {
		for (flush = 0; flush < 2; flush++) {
			for (implicit = 0; implicit < 2; implicit++) {
				const char *cell = implicit ? "implicit" : "explicit";
				const char *mode = flush ? "FLUSH" : "async";

				mr = implicit ? ibv_reg_mr(c->pd, NULL, SIZE_MAX, access) : NULL;
				buf = t_map_pages(8);
				T_REQUIRE(buf, __func__, "mmap");
				memset(buf, 1, 8 * page_size);
				if (!implicit)
					mr = ibv_reg_mr(c->pd, buf, 8 * page_size, access);
				T_REQUIRE(mr, __func__, "%s ibv_reg_mr: %s", cell, strerror(errno));
				ret = t_advise(c->pd, adv[a].advice,
					       flush ? IB_UVERBS_ADVISE_MR_FLAG_FLUSH : 0, buf,
					       8 * page_size, mr->lkey);
				T_REQUIRE(!ret, __func__, "%s %s %s: %s", adv[a].name, mode, cell,
					  strerror(ret));
				for (i = 0; i < 100 && mr_counter(mr->lkey, "page_prefetch") != 8;
				     i++)
					usleep(20000);
				n = mr_counter(mr->lkey, "page_prefetch");
				T_REQUIRE(n == 8 && mr_counter(mr->lkey, "page_faults") == 0,
					  __func__,
					  "%s %s %s: page_prefetch %lld, page_faults %lld",
					  adv[a].name, mode, cell, n,
					  mr_counter(mr->lkey, "page_faults"));

				/* Pages 0-3 and 5-7 of a range with page 4 unmapped. */
				T_REQUIRE(!munmap(buf + 4 * page_size, page_size), __func__,
					  "munmap");
				ret = t_advise(c->pd, adv[a].advice,
					       flush ? IB_UVERBS_ADVISE_MR_FLAG_FLUSH : 0, buf,
					       8 * page_size, mr->lkey);
				want = flush && adv[a].advice !=
							       IB_UVERBS_ADVISE_MR_ADVICE_PREFETCH_NO_FAULT
					       ? EFAULT
					       : 0;
				T_REQUIRE(ret == want, __func__,
					  "%s %s %s over a hole: %s, want %s", adv[a].name, mode,
					  cell, strerror(ret), strerror(want));
				/* Dereg waits for a queued prefetch still holding the MR. */
				T_REQUIRE(!ibv_dereg_mr(mr), __func__, "dereg");
				munmap(buf, 4 * page_size);
				munmap(buf + 5 * page_size, 3 * page_size);
			}
		}
	}
	t_pass(__func__);
}

/* ---- transfers: the loopback pair of common.h ---- */

/* One RDMA WRITE from a to b; returns the completion status. */
static int rc_write(struct t_pair *p, void *src, uint32_t lkey, void *dst, uint32_t rkey,
		    size_t len)
{
	return t_xfer(&p->a, IBV_WR_RDMA_WRITE, src, len, lkey, (uintptr_t)dst, rkey, 0, 0);
}

/*
 * One RDMA WRITE into 16 untouched pages of an ODP MR: page_faults counts
 * the 16 pages, page_faults_handled the fault events; with a prefetch
 * first, the write faults nothing.
 */
static void test_write_faults_and_prefetch(struct ctx *c)
{
	const size_t len = 16 * page_size;
	char *src = t_map_pages(16), *dst = t_map_pages(16), *dst2 = t_map_pages(16);
	struct ibv_mr *smr, *dmr, *dmr2;
	struct t_side_opts o = {.pd = c->pd};
	struct t_pair p;
	long long handled;
	int ret;

	T_REQUIRE(src && dst && dst2, __func__, "mmap");
	memset(src, 0xa5, len);
	smr = ibv_reg_mr(c->pd, src, len, IBV_ACCESS_LOCAL_WRITE);
	dmr = ibv_reg_mr(c->pd, dst, len,
			 IBV_ACCESS_ON_DEMAND | IBV_ACCESS_LOCAL_WRITE | IBV_ACCESS_REMOTE_WRITE);
	dmr2 = ibv_reg_mr(c->pd, dst2, len,
			  IBV_ACCESS_ON_DEMAND | IBV_ACCESS_LOCAL_WRITE | IBV_ACCESS_REMOTE_WRITE);
	T_REQUIRE(smr && dmr && dmr2, __func__, "ibv_reg_mr: %s", strerror(errno));
	ret = t_pair_loop(&p, &dev, &o, IBV_MTU_1024, 7);
	T_REQUIRE(!ret, __func__, "RC loopback pair: %s", strerror(errno));

	ret = rc_write(&p, src, smr->lkey, dst, dmr->rkey, len);
	T_REQUIRE(ret == IBV_WC_SUCCESS, __func__, "write into untouched ODP pages: status %d",
		  ret);
	T_REQUIRE(!memcmp(src, dst, len), __func__, "data");
	T_REQUIRE(mr_counter(dmr->lkey, "page_faults") == 16, __func__, "page_faults %lld != 16",
		  mr_counter(dmr->lkey, "page_faults"));
	handled = mr_counter(dmr->lkey, "page_faults_handled");
	T_REQUIRE(handled >= 1 && handled <= 16, __func__, "page_faults_handled %lld", handled);
	printf("# 16-page WRITE: page_faults 16, page_faults_handled %lld\n", handled);

	ret = t_advise(c->pd, IB_UVERBS_ADVISE_MR_ADVICE_PREFETCH_WRITE,
		       IB_UVERBS_ADVISE_MR_FLAG_FLUSH, dst2, len, dmr2->lkey);
	T_REQUIRE(!ret, __func__, "prefetch: %s", strerror(ret));
	ret = rc_write(&p, src, smr->lkey, dst2, dmr2->rkey, len);
	T_REQUIRE(ret == IBV_WC_SUCCESS, __func__, "write after prefetch: status %d", ret);
	T_REQUIRE(!memcmp(src, dst2, len), __func__, "data after prefetch");
	T_REQUIRE(mr_counter(dmr2->lkey, "page_faults") == 0 &&
			  mr_counter(dmr2->lkey, "page_faults_handled") == 0,
		  __func__, "prefetched MR faulted: page_faults %lld",
		  mr_counter(dmr2->lkey, "page_faults"));
	T_REQUIRE(mr_counter(dmr2->lkey, "page_prefetch") == 16, __func__, "page_prefetch");
	t_pair_fini(&p);
	ibv_dereg_mr(smr);
	ibv_dereg_mr(dmr);
	ibv_dereg_mr(dmr2);
	munmap(src, len);
	munmap(dst, len);
	munmap(dst2, len);
	t_pass(__func__);
}

int main(int argc, char **argv)
{
	struct ctx c = {0};

	if (argc != 2 || !strcmp(argv[1], "--help")) {
		printf("Usage: odp_advise DEVICE\n"
		       "Tests advise_mr prefetch and the ODP counters of a softodp device.\n");
		return argc == 2 ? T_EXIT_PASS : T_EXIT_USAGE;
	}
	page_size = sysconf(_SC_PAGESIZE);
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (t_open_dev(&dev, argv[1], 0)) {
		fprintf(stderr, "odp_advise: cannot open %s or it has no RoCEv2 IPv4 GID\n",
			argv[1]);
		return T_EXIT_FAIL;
	}
	c.pd = ibv_alloc_pd(dev.ctx);
	if (!c.pd) {
		fprintf(stderr, "odp_advise: ibv_alloc_pd: %s\n", strerror(errno));
		return T_EXIT_FAIL;
	}
	test_prefetch_sync_counts_pages(&c);
	test_prefetch_errors(&c);
	test_prefetch_async(&c);
	test_prefetch_implicit(&c);
	test_prefetch_matrix(&c);
	test_write_faults_and_prefetch(&c);
	ibv_dealloc_pd(c.pd);
	t_close_dev(&dev);
	return t_summary();
}
