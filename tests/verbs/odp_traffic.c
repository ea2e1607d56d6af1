// SPDX-License-Identifier: GPL-2.0
/*
 * odp_traffic - invalidation of ODP MRs under RDMA traffic (issue #4).
 *
 * Usage: odp_traffic [--help] [-t SECONDS] [-f FILTER] DEVICE
 *        odp_traffic --pressure SECONDS
 *
 * In loopback on one softodp device (the loopback pair of common.h
 * through the device's RoCEv2 IPv4 GID), RDMA traffic runs against ODP MRs while another
 * thread (or child processes) changes the mappings behind them:
 *
 * madvise_dontneed_under_writes  a thread streams generation-stamped RDMA
 *     WRITEs (4 outstanding) into an ODP MR while the main thread
 *     MADV_DONTNEEDs it: every completion is SUCCESS; when the pipeline is
 *     drained each word holds the last generation (or 0 if a DONTNEED ran
 *     after that write was posted), never an older one; after the last
 *     DONTNEED a final write is exactly visible.
 * munmap_under_reads / munmap_under_writes  READs/WRITEs of a region
 *     another thread munmaps and remaps (with mremap of a pre-filled
 *     staging mapping, so the remapped content is never zero): SUCCESS
 *     with correct data or IBV_WC_REM_ACCESS_ERR (then the pair is
 *     recreated); SUCCESS while unmapped throughout and REM_ACCESS_ERR
 *     while mapped throughout are failures.
 * mprotect_readonly_under_writes  first deterministically (RW write ok,
 *     PROT_READ write REM_ACCESS_ERR with the memory unchanged, READ ok,
 *     RW again write ok), then with a thread toggling the protection.
 * fork_under_reads  a thread READs the parent's ODP buffer while the
 *     main thread forks children that overwrite their copy and exit (and
 *     the parent rewrites its own copy, breaking COW): every READ returns
 *     the parent's current data.
 *
 * --pressure SECONDS maps, touches and unmaps 64 MiB chunks in a loop
 * (memory pressure for the suite's perftest stress).  Each test runs for
 * -t SECONDS (default 3) of traffic.  Prints PASS/FAIL lines and
 * "N passed, N failed"; exits 1 on a failure (common.h).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <infiniband/verbs.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common.h"

#define NPAGES	  8
#define DEPTH	  4
#define WC_WAIT	  10 /* seconds a completion may take before it is a hang */
#define PAT(g)	  (0x5a5a000000000000ull | (uint64_t)(g))
#define STAMP(g)  (0x3c3c000000000000ull | (uint64_t)(g))
#define CHILD	  0xc41dc41dc41dc41dull
#define HOLE_ADDR ((void *)0x200000000000ul) /* 32 TiB */

static long page_size;
static double duration = 3.0;
static struct t_dev dev;
static struct ibv_pd *pd;

/* First failure of a test, set by any of its threads. */
static pthread_mutex_t err_lock = PTHREAD_MUTEX_INITIALIZER;
static char err[512];

static void note(const char *fmt, ...)
{
	va_list ap;

	pthread_mutex_lock(&err_lock);
	if (!err[0]) {
		va_start(ap, fmt);
		vsnprintf(err, sizeof(err), fmt, ap);
		va_end(ap);
	}
	pthread_mutex_unlock(&err_lock);
}

static int has_err(void)
{
	int r;

	pthread_mutex_lock(&err_lock);
	r = err[0] != 0;
	pthread_mutex_unlock(&err_lock);
	return r;
}

/* PASS @name, or FAIL it with its first failure; then the "# @name: " note. */
static void report(const char *name, const char *fmt, ...)
{
	va_list ap;

	t_result(!err[0], name, "%s", err);
	va_start(ap, fmt);
	printf("# %s: ", name);
	vprintf(fmt, ap);
	printf("\n");
	va_end(ap);
	fflush(stdout);
	err[0] = 0;
}

static double now(void)
{
	return t_now_ms() / 1e3;
}

static void fill(void *p, size_t len, uint64_t w)
{
	uint64_t *q = p;
	size_t i;

	for (i = 0; i < len / 8; i++)
		q[i] = w;
}

/* Index of the first word of p that is not w, or -1. */
static long differs(const void *p, size_t len, uint64_t w)
{
	const volatile uint64_t *q = p;
	size_t i;

	for (i = 0; i < len / 8; i++)
		if (q[i] != w)
			return i;
	return -1;
}

static struct ibv_mr *odp_mr(void *addr, size_t len)
{
	return ibv_reg_mr(pd, addr, len,
			  IBV_ACCESS_ON_DEMAND | IBV_ACCESS_LOCAL_WRITE | IBV_ACCESS_REMOTE_WRITE |
				  IBV_ACCESS_REMOTE_READ);
}

/* ---- the loopback pair of common.h, in the test's PD ---- */

static int pair_open(struct t_pair *p)
{
	struct t_side_opts o = {.pd = pd};

	return t_pair_loop(p, &dev, &o, IBV_MTU_1024, 7) ? errno : 0;
}

static int pair_reopen(struct t_pair *p)
{
	t_pair_fini(p);
	return pair_open(p);
}

static int post(struct t_pair *p, enum ibv_wr_opcode op, void *local, uint32_t lkey, void *remote,
		uint32_t rkey, size_t len, uint64_t id)
{
	return t_post_wr(p->a.qp, id, op, local, len, lkey, (uintptr_t)remote, rkey, 0, 0);
}

/* One completion of the requester: 0, or -ETIMEDOUT after WC_WAIT seconds. */
static int wait_wc(struct t_pair *p, struct ibv_wc *wc)
{
	int ret = t_wait_wc(p->a.cq, wc, WC_WAIT * 1000);

	return ret < 0 ? ret : 0;
}

/* One signaled operation from a to b: the completion status or -errno. */
static int one_op(struct t_pair *p, enum ibv_wr_opcode op, void *local, uint32_t lkey, void *remote,
		  uint32_t rkey, size_t len)
{
	struct ibv_wc wc;
	int ret = post(p, op, local, lkey, remote, rkey, len, 1);

	return ret ? -ret : t_wait_wc(p->a.cq, &wc, WC_WAIT * 1000);
}

/* A loopback pair in @p and the thread @fn(@arg) using it: 0, or -1 (noted). */
static int start_traffic(struct t_pair *p, pthread_t *th, void *(*fn)(void *), void *arg)
{
	int ret = pair_open(p);

	if (ret) {
		note("RC pair: %s", strerror(ret));
		return -1;
	}
	if (pthread_create(th, NULL, fn, arg)) {
		note("pthread_create");
		return -1;
	}
	return 0;
}

/* ---- 1. MADV_DONTNEED under a stream of WRITEs ---- */

struct dn {
	char *src, *dst;
	size_t len;
	struct ibv_mr *smr, *dmr;
	struct t_pair pair;
	pthread_mutex_t lock; /* excludes DONTNEED from the checks */
	unsigned long madvs;  /* DONTNEEDs done, under lock */
	volatile int stop;
	unsigned long writes, checks, zeroed;
	uint64_t last;
};

/* Wait for one completion of the stream; returns its generation or 0. */
static uint64_t dn_reap(struct dn *d)
{
	struct ibv_wc wc;
	int ret = wait_wc(&d->pair, &wc);

	if (ret) {
		note("WRITE %llu: no completion within %d s (hang)", (unsigned long long)d->last,
		     WC_WAIT);
		return 0;
	}
	if (wc.status != IBV_WC_SUCCESS) {
		note("WRITE generation %llu: status %s (%d), expected SUCCESS",
		     (unsigned long long)wc.wr_id, ibv_wc_status_str(wc.status), wc.status);
		return 0;
	}
	return wc.wr_id;
}

/* Pipeline drained: every word is gen, or 0 if a DONTNEED ran after posting it. */
static void dn_check(struct dn *d, uint64_t gen, unsigned long madvs_at_post)
{
	const uint64_t *q = (const uint64_t *)d->dst;
	size_t i;
	int zero = 0;

	pthread_mutex_lock(&d->lock);
	for (i = 0; i < d->len / 8; i++) {
		if (q[i] == STAMP(gen))
			continue;
		if (q[i] == 0 && d->madvs != madvs_at_post) {
			zero = 1;
			continue;
		}
		note("after WRITE generation %llu completed: word %zu (page %zu) holds %#llx "
		     "(%s), DONTNEEDs since post %lu",
		     (unsigned long long)gen, i, i * 8 / page_size, (unsigned long long)q[i],
		     q[i] == 0 ? "zero" : "stale generation", d->madvs - madvs_at_post);
		break;
	}
	pthread_mutex_unlock(&d->lock);
	d->checks++;
	d->zeroed += zero;
}

static void *dn_writer(void *arg)
{
	struct dn *d = arg;
	uint64_t gen = 0, inflight = 0;
	unsigned long madvs_at_post = 0;
	char *slot;
	int ret;

	while (!d->stop && !has_err()) {
		while (inflight < DEPTH && !d->stop) {
			gen++;
			slot = d->src + (gen % DEPTH) * d->len;
			fill(slot, d->len, STAMP(gen));
			pthread_mutex_lock(&d->lock);
			madvs_at_post = d->madvs;
			pthread_mutex_unlock(&d->lock);
			ret = post(&d->pair, IBV_WR_RDMA_WRITE, slot, d->smr->lkey, d->dst,
				   d->dmr->rkey, d->len, gen);
			if (ret) {
				note("ibv_post_send: %s", strerror(ret));
				return NULL;
			}
			inflight++;
			d->writes++;
		}
		if (!dn_reap(d))
			return NULL;
		inflight--;
		/* Every 32 generations: drain and check the data. */
		if (gen % 32 == 0 || d->stop) {
			while (inflight) {
				if (!dn_reap(d))
					return NULL;
				inflight--;
			}
			dn_check(d, gen, madvs_at_post);
		}
	}
	while (inflight) {
		if (!dn_reap(d))
			return NULL;
		inflight--;
	}
	d->last = gen;
	return NULL;
}

static void test_madvise_dontneed_under_writes(void)
{
	struct dn d = {.len = NPAGES * page_size};
	pthread_t th;
	double end;
	uint64_t gen;
	long at;
	int ret;

	pthread_mutex_init(&d.lock, NULL);
	d.src = t_map_pages(NPAGES * DEPTH);
	d.dst = t_map_pages(NPAGES);
	if (!d.src || !d.dst) {
		note("mmap: %s", strerror(errno));
		goto out;
	}
	d.smr = ibv_reg_mr(pd, d.src, d.len * DEPTH, IBV_ACCESS_LOCAL_WRITE);
	d.dmr = odp_mr(d.dst, d.len);
	if (!d.smr || !d.dmr) {
		note("ibv_reg_mr: %s", strerror(errno));
		goto out;
	}
	if (start_traffic(&d.pair, &th, dn_writer, &d))
		goto out;
	end = now() + duration;
	while (now() < end && !has_err()) {
		pthread_mutex_lock(&d.lock);
		if (madvise(d.dst, d.len, MADV_DONTNEED))
			note("madvise: %s", strerror(errno));
		d.madvs++;
		pthread_mutex_unlock(&d.lock);
		usleep(200 + rand() % 2000);
	}
	d.stop = 1;
	pthread_join(th, NULL);
	if (has_err())
		goto out;
	/* No DONTNEED any more: one last WRITE must be exactly visible. */
	gen = d.last + 1;
	fill(d.src, d.len, STAMP(gen));
	ret = one_op(&d.pair, IBV_WR_RDMA_WRITE, d.src, d.smr->lkey, d.dst, d.dmr->rkey, d.len);
	if (ret != IBV_WC_SUCCESS) {
		note("final WRITE: status %d (%s)", ret, ret >= 0 ? ibv_wc_status_str(ret) : "");
		goto out;
	}
	at = differs(d.dst, d.len, STAMP(gen));
	if (at >= 0)
		note("final WRITE generation %llu: word %ld holds %#llx", (unsigned long long)gen,
		     at, (unsigned long long)((uint64_t *)d.dst)[at]);
out:
	t_pair_fini(&d.pair);
	if (d.smr)
		ibv_dereg_mr(d.smr);
	if (d.dmr)
		ibv_dereg_mr(d.dmr);
	if (d.src)
		munmap(d.src, d.len * DEPTH);
	if (d.dst)
		munmap(d.dst, d.len);
	report("madvise_dontneed_under_writes",
	       "%lu WRITEs, %lu DONTNEEDs, %lu drained checks (%lu with zeroed words)", d.writes,
	       d.madvs, d.checks, d.zeroed);
}

/* ---- 2, 3. munmap/remap or mprotect toggled by a thread ---- */

enum flip_kind { FLIP_MUNMAP, FLIP_MPROTECT };

struct flip {
	enum flip_kind kind;
	char *addr;
	size_t len;
	pthread_mutex_t lock; /* held for each transition and each check */
	unsigned long gen;    /* transitions */
	int state;	      /* 1: mapped (munmap) or writable (mprotect) */
	uint64_t pat;	      /* pattern generation of the current mapping */
	volatile int stop;
};

static int flip_once(struct flip *f)
{
	unsigned char vec[NPAGES];
	void *s;

	if (f->kind == FLIP_MPROTECT) {
		if (mprotect(f->addr, f->len, f->state ? PROT_READ : PROT_READ | PROT_WRITE))
			return errno;
	} else if (f->state) {
		if (munmap(f->addr, f->len))
			return errno;
	} else {
		/* The new pages hold their pattern before they appear. */
		/* Nothing else may have been mapped into the hole meanwhile. */
		if (mincore(f->addr, f->len, vec) == 0 || errno != ENOMEM)
			return EADDRINUSE;
		s = mmap(NULL, f->len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (s == MAP_FAILED)
			return errno;
		if ((char *)s < f->addr + f->len && (char *)s + f->len > f->addr) {
			munmap(s, f->len);
			return EADDRINUSE;
		}
		fill(s, f->len, PAT(f->pat + 1));
		if (mremap(s, f->len, f->len, MREMAP_MAYMOVE | MREMAP_FIXED, f->addr) == MAP_FAILED)
			return errno;
		f->pat++;
	}
	f->state = !f->state;
	f->gen++;
	return 0;
}

static void *flipper(void *arg)
{
	struct flip *f = arg;
	unsigned int seed = 7;
	int ret;

	while (!f->stop) {
		usleep(1000 + rand_r(&seed) % 30000);
		pthread_mutex_lock(&f->lock);
		ret = flip_once(f);
		pthread_mutex_unlock(&f->lock);
		if (ret) {
			note("%s: %s", f->kind == FLIP_MUNMAP ? "munmap/mremap" : "mprotect",
			     strerror(ret));
			return NULL;
		}
	}
	pthread_mutex_lock(&f->lock);
	if (!f->state && flip_once(f))
		note("restoring the region: %s", strerror(errno));
	pthread_mutex_unlock(&f->lock);
	return NULL;
}

/* A READ's data: each page uniformly one pattern generation that existed. */
static int check_read(const char *buf, size_t len, uint64_t maxpat, char *why, size_t wlen)
{
	const uint64_t *q;
	size_t pg;
	uint64_t w;
	long at;

	for (pg = 0; pg < len / page_size; pg++) {
		q = (const uint64_t *)(buf + pg * page_size);
		w = q[0];
		at = differs(q, page_size, w);
		if (at >= 0) {
			snprintf(why, wlen, "page %zu torn: word 0 %#llx, word %ld %#llx", pg,
				 (unsigned long long)w, at, (unsigned long long)q[at]);
			return -1;
		}
		if ((w & ~0xffffffffull) != PAT(0) || (w & 0xffffffffull) == 0 ||
		    (w & 0xffffffffull) > maxpat) {
			snprintf(why, wlen, "page %zu holds %#llx (mapped generations 1..%llu)", pg,
				 (unsigned long long)w, (unsigned long long)maxpat);
			return -1;
		}
	}
	return 0;
}

struct traffic_stats {
	unsigned long ops, ok, acc, checked, reopen;
};

/*
 * The traffic side: one operation at a time against f->addr; the state of
 * the region before posting and after completion decides what is allowed.
 */
static void run_traffic(struct flip *f, struct ibv_mr *rmr, enum ibv_wr_opcode op,
			struct traffic_stats *st)
{
	const char *opname = op == IBV_WR_RDMA_READ ? "READ" : "WRITE";
	size_t len = f->len;
	char *loc = t_map_pages(len / page_size), why[200];
	struct ibv_mr *lmr = NULL;
	struct t_pair p = {0};
	unsigned long g0, g1;
	int s0, s1, ret;
	double end;

	if (!loc) {
		note("mmap: %s", strerror(errno));
		return;
	}
	lmr = ibv_reg_mr(pd, loc, len, IBV_ACCESS_LOCAL_WRITE);
	if (!lmr) {
		note("ibv_reg_mr: %s", strerror(errno));
		goto out;
	}
	ret = pair_open(&p);
	if (ret) {
		note("RC pair: %s", strerror(ret));
		goto out;
	}
	end = now() + duration;
	while (now() < end && !has_err()) {
		if (op == IBV_WR_RDMA_WRITE)
			fill(loc, len, STAMP(st->ops + 1));
		else
			memset(loc, 0xee, len);
		pthread_mutex_lock(&f->lock);
		g0 = f->gen;
		s0 = f->state;
		pthread_mutex_unlock(&f->lock);
		ret = one_op(&p, op, loc, lmr->lkey, f->addr, rmr->rkey, len);
		st->ops++;
		if (ret < 0) {
			note("%s %lu: %s (a hang if ETIMEDOUT)", opname, st->ops, strerror(-ret));
			break;
		}
		pthread_mutex_lock(&f->lock);
		g1 = f->gen;
		s1 = f->state;
		if (ret == IBV_WC_SUCCESS) {
			st->ok++;
			if (g0 == g1 && !s0)
				note("%s %lu: SUCCESS although the region was %s throughout",
				     opname, st->ops,
				     f->kind == FLIP_MUNMAP ? "unmapped" : "read-only");
			else if (op == IBV_WR_RDMA_READ &&
				 check_read(loc, len, f->pat, why, sizeof(why)))
				note("READ %lu: SUCCESS with wrong data: %s", st->ops, why);
			else if (op == IBV_WR_RDMA_WRITE &&
				 (g0 == g1 || f->kind == FLIP_MPROTECT) &&
				 memcmp(loc, f->addr, len))
				note("WRITE %lu: SUCCESS but the region holds %#llx, not the "
				     "written %#llx (transitions during the WRITE: %lu)",
				     st->ops, (unsigned long long)((uint64_t *)f->addr)[0],
				     (unsigned long long)STAMP(st->ops), g1 - g0);
			else if (op == IBV_WR_RDMA_WRITE && (g0 == g1 || f->kind == FLIP_MPROTECT))
				st->checked++;
		} else if (ret == IBV_WC_REM_ACCESS_ERR) {
			st->acc++;
			if (g0 == g1 && s0)
				note("%s %lu: REM_ACCESS_ERR although the region was %s throughout",
				     opname, st->ops,
				     f->kind == FLIP_MUNMAP ? "mapped" : "writable");
		} else {
			note("%s %lu: status %s (%d); expected SUCCESS or REM_ACCESS_ERR "
			     "(transitions during it: %lu, state before %d after %d)",
			     opname, st->ops, ibv_wc_status_str(ret), ret, g1 - g0, s0, s1);
		}
		pthread_mutex_unlock(&f->lock);
		if (ret != IBV_WC_SUCCESS && !has_err()) {
			ret = pair_reopen(&p);
			st->reopen++;
			if (ret)
				note("recreating the RC pair: %s", strerror(ret));
		}
	}
out:
	t_pair_fini(&p);
	if (lmr)
		ibv_dereg_mr(lmr);
	munmap(loc, len);
}

static void flip_test(const char *name, enum flip_kind kind, enum ibv_wr_opcode op)
{
	struct flip f = {.kind = kind, .len = NPAGES * page_size, .state = 1, .pat = 1};
	struct traffic_stats st = {0};
	struct ibv_mr *mr = NULL;
	pthread_t th;
	int started = 0;

	pthread_mutex_init(&f.lock, NULL);
	/*
	 * Far below the mmap area: the top-down allocator never reuses the
	 * hole, so librxe's queue mappings of a recreated pair cannot land in
	 * it (and be read or replaced by the test).
	 */
	f.addr = mmap(HOLE_ADDR, f.len, PROT_READ | PROT_WRITE,
		      MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
	if (f.addr == MAP_FAILED) {
		f.addr = NULL;
		note("mmap: %s", strerror(errno));
		goto out;
	}
	fill(f.addr, f.len, PAT(1));
	mr = odp_mr(f.addr, f.len);
	if (!mr) {
		note("ibv_reg_mr: %s", strerror(errno));
		goto out;
	}
	if (pthread_create(&th, NULL, flipper, &f)) {
		note("pthread_create");
		goto out;
	}
	started = 1;
	run_traffic(&f, mr, op, &st);
	f.stop = 1;
	pthread_join(th, NULL);
out:
	if (mr)
		ibv_dereg_mr(mr);
	if (f.addr)
		munmap(f.addr, f.len);
	report(name,
	       "%lu ops: %lu SUCCESS (%lu data-checked), %lu REM_ACCESS_ERR, %lu pair "
	       "re-creations, %lu transitions%s",
	       st.ops, st.ok, op == IBV_WR_RDMA_READ ? st.ok : st.checked, st.acc, st.reopen, f.gen,
	       started ? "" : " (not started)");
}

static void test_munmap_under_reads(void)
{
	flip_test("munmap_under_reads", FLIP_MUNMAP, IBV_WR_RDMA_READ);
}

static void test_munmap_under_writes(void)
{
	flip_test("munmap_under_writes", FLIP_MUNMAP, IBV_WR_RDMA_WRITE);
}

/* Deterministic: what a WRITE and a READ do on a read-only ODP region. */
static void mprotect_steps(void)
{
	size_t len = NPAGES * page_size;
	char *dst = t_map_pages(NPAGES), *loc = t_map_pages(NPAGES);
	struct ibv_mr *mr = NULL, *lmr = NULL;
	struct t_pair p = {0};
	long at;
	int ret;

	if (!dst || !loc) {
		note("mmap");
		return;
	}
	mr = odp_mr(dst, len);
	lmr = ibv_reg_mr(pd, loc, len, IBV_ACCESS_LOCAL_WRITE);
	if (!mr || !lmr || pair_open(&p)) {
		note("setup: %s", strerror(errno));
		goto out;
	}
	fill(loc, len, STAMP(1));
	ret = one_op(&p, IBV_WR_RDMA_WRITE, loc, lmr->lkey, dst, mr->rkey, len);
	if (ret != IBV_WC_SUCCESS || differs(dst, len, STAMP(1)) >= 0) {
		note("step 1, WRITE into RW pages: status %d or wrong data", ret);
		goto out;
	}
	mprotect(dst, len, PROT_READ);
	fill(loc, len, STAMP(2));
	ret = one_op(&p, IBV_WR_RDMA_WRITE, loc, lmr->lkey, dst, mr->rkey, len);
	if (ret != IBV_WC_REM_ACCESS_ERR) {
		note("step 2, WRITE into PROT_READ pages (mapped writable before): status %d (%s), "
		     "expected REM_ACCESS_ERR",
		     ret, ret >= 0 ? ibv_wc_status_str(ret) : strerror(-ret));
		goto out;
	}
	at = differs(dst, len, STAMP(1));
	if (at >= 0) {
		note("step 2: the failed WRITE changed read-only memory: word %ld = %#llx", at,
		     (unsigned long long)((uint64_t *)dst)[at]);
		goto out;
	}
	if (pair_reopen(&p)) {
		note("recreating the RC pair: %s", strerror(errno));
		goto out;
	}
	memset(loc, 0, len);
	ret = one_op(&p, IBV_WR_RDMA_READ, loc, lmr->lkey, dst, mr->rkey, len);
	if (ret != IBV_WC_SUCCESS || differs(loc, len, STAMP(1)) >= 0) {
		note("step 3, READ of PROT_READ pages: status %d or wrong data", ret);
		goto out;
	}
	mprotect(dst, len, PROT_READ | PROT_WRITE);
	fill(loc, len, STAMP(3));
	ret = one_op(&p, IBV_WR_RDMA_WRITE, loc, lmr->lkey, dst, mr->rkey, len);
	if (ret != IBV_WC_SUCCESS || differs(dst, len, STAMP(3)) >= 0)
		note("step 4, WRITE after mprotect back to RW: status %d or wrong data", ret);
out:
	t_pair_fini(&p);
	if (mr)
		ibv_dereg_mr(mr);
	if (lmr)
		ibv_dereg_mr(lmr);
	munmap(dst, len);
	munmap(loc, len);
}

static void test_mprotect_readonly_under_writes(void)
{
	mprotect_steps();
	if (has_err()) {
		report("mprotect_readonly_under_writes", "deterministic steps failed");
		return;
	}
	flip_test("mprotect_readonly_under_writes", FLIP_MPROTECT, IBV_WR_RDMA_WRITE);
}

/* ---- 4. fork while READs of the parent's buffer run ---- */

struct fk {
	char *buf, *loc;
	size_t len;
	struct ibv_mr *mr, *lmr;
	struct t_pair pair;
	pthread_rwlock_t lock; /* the parent rewrites buf under the write lock */
	uint64_t gen;
	volatile int stop;
	unsigned long reads;
};

static void *fk_reader(void *arg)
{
	struct fk *k = arg;
	uint64_t gen;
	long at;
	int ret;

	while (!k->stop && !has_err()) {
		memset(k->loc, 0, k->len);
		pthread_rwlock_rdlock(&k->lock);
		gen = k->gen;
		ret = one_op(&k->pair, IBV_WR_RDMA_READ, k->loc, k->lmr->lkey, k->buf, k->mr->rkey,
			     k->len);
		pthread_rwlock_unlock(&k->lock);
		k->reads++;
		if (ret != IBV_WC_SUCCESS) {
			note("READ %lu: status %d (%s)", k->reads, ret,
			     ret >= 0 ? ibv_wc_status_str(ret) : strerror(-ret));
			break;
		}
		at = differs(k->loc, k->len, PAT(gen));
		if (at >= 0) {
			uint64_t w = ((uint64_t *)k->loc)[at];

			note("READ %lu: word %ld (page %ld) is %#llx, the parent holds %#llx%s",
			     k->reads, at, at * 8 / page_size, (unsigned long long)w,
			     (unsigned long long)PAT(gen),
			     w == CHILD ? " (the child's data)" : " (stale or garbage)");
			break;
		}
	}
	return NULL;
}

static void test_fork_under_reads(void)
{
	struct fk k = {.len = NPAGES * page_size, .gen = 1};
	unsigned long forks = 0, rewrites = 0;
	pthread_t th;
	double end;
	pid_t pid;
	int status;

	pthread_rwlock_init(&k.lock, NULL);
	k.buf = t_map_pages(NPAGES);
	k.loc = t_map_pages(NPAGES);
	if (!k.buf || !k.loc) {
		note("mmap");
		goto out;
	}
	fill(k.buf, k.len, PAT(1));
	k.mr = odp_mr(k.buf, k.len);
	k.lmr = ibv_reg_mr(pd, k.loc, k.len, IBV_ACCESS_LOCAL_WRITE);
	if (!k.mr || !k.lmr) {
		note("ibv_reg_mr: %s", strerror(errno));
		goto out;
	}
	if (start_traffic(&k.pair, &th, fk_reader, &k))
		goto out;
	end = now() + duration;
	while (now() < end && !has_err()) {
		pid = fork();
		if (pid < 0) {
			note("fork: %s", strerror(errno));
			break;
		}
		if (pid == 0) {
			fill(k.buf, k.len, CHILD);
			usleep(3000);
			_exit(0);
		}
		forks++;
		if (forks % 2 == 0) {
			/* Break COW in the parent while the child may still share pages. */
			pthread_rwlock_wrlock(&k.lock);
			k.gen++;
			fill(k.buf, k.len, PAT(k.gen));
			pthread_rwlock_unlock(&k.lock);
			rewrites++;
		}
		usleep(rand() % 3000);
		if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status) || WEXITSTATUS(status))
			note("child %d did not exit cleanly (status %#x)", pid, status);
	}
	k.stop = 1;
	pthread_join(th, NULL);
	if (!has_err() && k.reads == 0)
		note("no READ completed");
out:
	t_pair_fini(&k.pair);
	if (k.mr)
		ibv_dereg_mr(k.mr);
	if (k.lmr)
		ibv_dereg_mr(k.lmr);
	if (k.buf)
		munmap(k.buf, k.len);
	if (k.loc)
		munmap(k.loc, k.len);
	report("fork_under_reads", "%lu READs, %lu forks, %lu parent rewrites (COW breaks)",
	       k.reads, forks, rewrites);
}

/* ---- memory pressure for the suite ---- */

static int pressure(double secs)
{
	const size_t chunk = 64ul << 20;
	double end = now() + secs;
	unsigned long rounds = 0;
	char *p;

	while (now() < end) {
		p = mmap(NULL, chunk, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (p == MAP_FAILED) {
			perror("odp_traffic: mmap");
			return 1;
		}
		memset(p, rounds & 0xff, chunk);
		madvise(p, chunk / 2, MADV_DONTNEED);
		munmap(p, chunk);
		rounds++;
	}
	printf("# pressure: %lu rounds of 64 MiB\n", rounds);
	return 0;
}

static const struct {
	const char *name;
	void (*fn)(void);
} tests[] = {
	{"madvise_dontneed_under_writes", test_madvise_dontneed_under_writes},
	{"munmap_under_reads", test_munmap_under_reads},
	{"munmap_under_writes", test_munmap_under_writes},
	{"mprotect_readonly_under_writes", test_mprotect_readonly_under_writes},
	{"fork_under_reads", test_fork_under_reads},
};

static void usage(FILE *f)
{
	fprintf(f, "Usage: odp_traffic [--help] [-t SECONDS] [-f FILTER] DEVICE\n"
		   "       odp_traffic --pressure SECONDS\n"
		   "Invalidation of ODP MRs (munmap, mprotect, MADV_DONTNEED, fork) under RDMA\n"
		   "traffic in loopback on a softodp device (RoCEv2 IPv4 GID).  -t: seconds of\n"
		   "traffic per test (3); -f: run the tests whose name contains FILTER.\n"
		   "--pressure: map, touch and unmap 64 MiB chunks for SECONDS.\n");
}

int main(int argc, char **argv)
{
	const char *devname = NULL, *filter = NULL;
	size_t t;
	int i;

	page_size = sysconf(_SC_PAGESIZE);
	for (i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--help")) {
			usage(stdout);
			return 0;
		} else if (!strcmp(argv[i], "--pressure") && i + 1 < argc) {
			return pressure(atof(argv[i + 1]));
		} else if (!strcmp(argv[i], "-t") && i + 1 < argc) {
			duration = atof(argv[++i]);
		} else if (!strcmp(argv[i], "-f") && i + 1 < argc) {
			filter = argv[++i];
		} else if (argv[i][0] != '-' && !devname) {
			devname = argv[i];
		} else {
			usage(stderr);
			return 2;
		}
	}
	if (!devname || duration <= 0) {
		usage(stderr);
		return 2;
	}
	srand(1);
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (t_open_dev(&dev, devname, 0)) {
		fprintf(stderr, "odp_traffic: cannot open %s or it has no RoCEv2 IPv4 GID\n",
			devname);
		return T_EXIT_FAIL;
	}
	pd = ibv_alloc_pd(dev.ctx);
	if (!pd) {
		fprintf(stderr, "odp_traffic: ibv_alloc_pd: %s\n", strerror(errno));
		return T_EXIT_FAIL;
	}
	t_set_filter(filter);
	for (t = 0; t < sizeof(tests) / sizeof(tests[0]); t++)
		if (t_want(tests[t].name))
			tests[t].fn();
	ibv_dealloc_pd(pd);
	t_close_dev(&dev);
	return t_summary();
}
