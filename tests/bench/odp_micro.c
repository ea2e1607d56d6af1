// SPDX-License-Identifier: GPL-2.0
/*
 * odp_micro - ODP micro-benchmarks of one RDMA device in loopback (the
 * loopback pair of tests/verbs/common.h: two RC QPs of one device connected
 * to each other through its RoCEv2 IPv4 GID).
 *
 * Usage: odp_micro [--help] [-d DEV] [-s MIB] [-S MIB] [-R MIB] [-m BYTES]
 *                  [-r REPS] TEST...
 *
 * TEST is one of:
 *   fault   first-touch fault throughput: RDMA WRITEs of -m bytes land in
 *           never-touched anonymous memory (-s MIB, 4 KiB pages, THP off)
 *           of an ODP MR; pages/s, cross-checked with the device's
 *           odp_page_faults counter where it has one; then a second pass
 *           over the now-mapped region (warm MB/s).
 *   prefetch the fault path without data transfer: ibv_advise_mr
 *           PREFETCH_WRITE with FLUSH (synchronous) over a never-touched
 *           -S MIB ODP MR (4 KiB pages, THP off), in SGEs of 256 MiB;
 *           pages/s, cross-checked with the device's odp_prefetch_pages
 *           and odp_pages_mapped counters where it has them.  Then, the
 *           first region unmapped (one region at a time: -S MIB of memory
 *           at most), the CPU's own first touch of a second never-touched
 *           -S MIB mapping, one byte written per page (pages/s).
 *   munmap  munmap() of a CPU-populated, device-mapped ODP region of -S
 *           MIB: without an MR (the mm's own cost), with an idle ODP MR,
 *           and with RDMA READs running on it from another thread.
 *   fork    a process holding a fully mapped -S MIB ODP MR forks (the
 *           child waits, then exits): RDMA READ MB/s over its first -R
 *           MIB (default 128) before and right after the fork, and the
 *           device page faults the READs took.  On softodp it runs once with the module
 *           parameter odp_event_aware on (read mappings kept over fork)
 *           and once off (every invalidated page dropped), restoring it.
 *
 * Options: -d DEV (default: the first sodp* device), -s MIB fault region
 * (default 256), -S MIB prefetch/munmap/fork region (default 1024), -m BYTES
 * message size (default 1 MiB), -r REPS repetitions (default 3).
 *
 * Prints one JSON object per measurement:
 *   {"test": "odp_first_touch", "variant": "4k", "size": BYTES, "rep": N,
 *    "pages_per_s": F, ...}
 *   {"test": "odp_prefetch", "variant": "4k", "size": BYTES, "rep": N,
 *    "pages_per_s": F, "cpu_pages_per_s": F, ...}
 *   {"test": "odp_munmap", "variant": "no_mr|idle|traffic", ..., "munmap_us": F}
 *   {"test": "odp_fork_read", "variant": "event_aware|naive", ...,
 *    "read_MBps_before": F, "read_MBps_after": F, "faulted_pages_after": N}
 * and {"test": T, "status": "unavailable|failed|invalid", "reason": "..."}
 * when a test cannot run on the device, failed, or the device wrote wrong
 * data (then no number is reported).  Counters the device does not have
 * are null.  Exits 1 if a measurement failed, 3 if one was invalid only.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <getopt.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "common.h"

#define DEPTH	    4
#define WC_TIMEOUT  30 /* seconds without a completion before giving up */
#define EVENT_PARAM "/sys/module/softodp/parameters/odp_event_aware"
#define ODP_ACCESS                                                                                 \
	(IBV_ACCESS_LOCAL_WRITE | IBV_ACCESS_REMOTE_WRITE | IBV_ACCESS_REMOTE_READ |               \
	 IBV_ACCESS_ON_DEMAND)

static struct t_dev dev;
static struct ibv_pd *pd;
static long page_size;
static size_t msg = 1 << 20;
static size_t read_len = 128ul << 20; /* bytes the fork test READs */
static int failures, invalids;

/* Requester "a" and responder "b", each QP with its own CQ, in pd. */
static struct t_pair pair;
/* The requester's local buffer (registered, not ODP). */
static uint8_t *lbuf;
static struct ibv_mr *lmr;

static double now(void)
{
	return t_now_ms() / 1e3;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static void unavailable(const char *test, const char *why)
{
	printf("{\"test\": \"%s\", \"status\": \"unavailable\", \"reason\": \"%s\"}\n", test, why);
	fflush(stdout);
}

static void failed(const char *test, const char *what)
{
	printf("{\"test\": \"%s\", \"status\": \"failed\", \"reason\": \"%s\"}\n", test, what);
	fflush(stdout);
	fprintf(stderr, "odp_micro: %s: %s\n", test, what);
	failures++;
}

/* The device moved data wrongly: the measurement is not valid. */
static void invalid(const char *test, const char *what)
{
	printf("{\"test\": \"%s\", \"status\": \"invalid\", \"reason\": \"%s\"}\n", test, what);
	fflush(stdout);
	fprintf(stderr, "odp_micro: %s: %s\n", test, what);
	invalids++;
}

/* A device counter, or -1 when the device has none of that name. */
static long long counter(const char *name)
{
	return t_hw_counter(dev.name, name);
}

static void print_counter(const char *key, long long before, long long after)
{
	if (before < 0 || after < 0)
		printf(", \"%s\": null", key);
	else
		printf(", \"%s\": %lld", key, after - before);
}

/* Whether the device has RC ODP for RDMA READ and WRITE. */
static int odp_supported(void)
{
	uint32_t need = IBV_ODP_SUPPORT_WRITE | IBV_ODP_SUPPORT_READ;

	return (dev.rc_odp_caps & need) == need;
}

/* A fresh connected QP pair (a QP that saw an error cannot be reused). */
static int pair_up(void)
{
	/* ~4 s ACK timeout: first-touch faults make responses slow under TCG. */
	struct t_side_opts o = {.pd = pd, .timeout = 20};

	t_pair_fini(&pair);
	return t_pair_loop(&pair, &dev, &o, 0, 7);
}

static int post_rdma(enum ibv_wr_opcode op, uint64_t raddr, uint32_t rkey, uint32_t len,
		     uint64_t id)
{
	return t_post_wr(pair.a.qp, id, op, lbuf, len, lmr->lkey, raddr, rkey, 0, 0);
}

/*
 * Wait for one completion on the requester (busy polling).  Returns 0 on
 * success, the completion status (> 0) on an error completion, < 0 on a
 * timeout.
 */
static int wait_wc(void)
{
	struct ibv_wc wc;

	return t_wait_wc(pair.a.cq, &wc, WC_TIMEOUT * 1000);
}

/*
 * RDMA @op over [@base, @base + @len) of the remote MR in @msg pieces,
 * DEPTH outstanding.  Returns the seconds it took, or -1 (with @err set).
 */
static double stream(enum ibv_wr_opcode op, uint8_t *base, size_t len, uint32_t rkey, char *err,
		     size_t errlen)
{
	size_t posted = 0, done = 0, inflight = 0;
	double t0 = now();
	int st;

	while (done < len) {
		while (inflight < DEPTH && posted < len) {
			uint32_t n = len - posted < msg ? len - posted : msg;

			if (post_rdma(op, (uintptr_t)base + posted, rkey, n, posted)) {
				snprintf(err, errlen, "post failed at %zu", posted);
				return -1;
			}
			posted += n;
			inflight++;
		}
		st = wait_wc();
		if (st) {
			snprintf(err, errlen, "%s at %zu of %zu: %s",
				 op == IBV_WR_RDMA_READ ? "READ" : "WRITE", done, len,
				 st < 0 ? "no completion" : ibv_wc_status_str(st));
			return -1;
		}
		done += len - done < msg ? len - done : msg;
		inflight--;
	}
	return now() - t0;
}

static uint8_t *map_region(size_t len, int populate)
{
	uint8_t *p = t_map(len);

	if (!p)
		return NULL;
	/* 4 KiB pages: one fault per page, THP would hide the per-page cost. */
	madvise(p, len, MADV_NOHUGEPAGE);
	if (populate)
		memset(p, 0xa5, len);
	return p;
}

/*
 * Make every page of @mr present and writable for the device: PREFETCH_WRITE
 * where the device has advise_mr, else one pass of RDMA WRITEs.
 */
static const char *mapped_by = "none";

static int device_map(struct ibv_mr *mr, uint8_t *base, size_t len, char *err, size_t errlen)
{
	size_t off;

	mapped_by = "prefetch_write";
	if (!t_advise(pd, IB_UVERBS_ADVISE_MR_ADVICE_PREFETCH_WRITE, IB_UVERBS_ADVISE_MR_FLAG_FLUSH,
		      base, len, mr->lkey))
		return 0;
	mapped_by = "rdma_write";
	/* The WRITE pass overwrites the region: keep its pattern. */
	for (off = 0; off < msg; off++)
		lbuf[off] = 0xa5;
	return stream(IBV_WR_RDMA_WRITE, base, len, mr->rkey, err, errlen) < 0 ? -1 : 0;
}

/* ---- fault ---------------------------------------------------------------- */

/* Pages of @buf whose first or last byte is not @want. */
static int bad_pages(const uint8_t *buf, size_t len, uint8_t want)
{
	size_t i;
	int bad = 0;

	for (i = 0; i < len; i += page_size)
		if (buf[i] != want || buf[i + page_size - 1] != want)
			bad++;
	return bad;
}

static void bench_fault(size_t len, int reps)
{
	size_t pages = len / page_size;
	char err[256];
	int rep;

	for (rep = 1; rep <= reps; rep++) {
		long long pf0, pf1, ev0, ev1;
		double t, warm;
		uint8_t *buf;
		struct ibv_mr *mr;
		int bad = 0;

		buf = map_region(len, 0);
		mr = buf ? ibv_reg_mr(pd, buf, len, ODP_ACCESS) : NULL;
		if (!mr || pair_up()) {
			failed("odp_first_touch", "setup (mmap, reg_mr or QPs) failed");
			goto out;
		}
		memset(lbuf, 0x3c ^ rep, msg);
		pf0 = counter("odp_page_faults");
		ev0 = counter("odp_page_faults_handled");
		t = stream(IBV_WR_RDMA_WRITE, buf, len, mr->rkey, err, sizeof(err));
		pf1 = counter("odp_page_faults");
		ev1 = counter("odp_page_faults_handled");
		if (t < 0) {
			failed("odp_first_touch", err);
			goto out;
		}
		bad = bad_pages(buf, len, 0x3c ^ rep);
		if (bad) {
			size_t off = 0;
			int again = -1;

			while (off < len && buf[off] == (0x3c ^ rep))
				off++;
			/* Only the first touch, or every WRITE? */
			if (stream(IBV_WR_RDMA_WRITE, buf, len, mr->rkey, err, sizeof(err)) >= 0)
				again = bad_pages(buf, len, 0x3c ^ rep);
			snprintf(err, sizeof(err),
				 "first-touch WRITEs completed but %d of %zu pages hold wrong data "
				 "(first wrong byte at offset %zu: 0x%02x, want 0x%02x); after a "
				 "second WRITE pass over the mapped pages %d are wrong",
				 bad, pages, off, off < len ? buf[off] : 0, 0x3c ^ rep, again);
			invalid("odp_first_touch", err);
			goto out;
		}
		warm = stream(IBV_WR_RDMA_WRITE, buf, len, mr->rkey, err, sizeof(err));
		printf("{\"test\": \"odp_first_touch\", \"variant\": \"4k\", \"size\": %zu, "
		       "\"rep\": %d, \"msg_bytes\": %zu, \"pages\": %zu, \"seconds\": %.4f, "
		       "\"pages_per_s\": %.0f, \"MBps\": %.1f",
		       len, rep, msg, pages, t, pages / t, len / t / 1e6);
		if (warm > 0)
			printf(", \"warm_MBps\": %.1f", len / warm / 1e6);
		print_counter("counter_faulted_pages", pf0, pf1);
		print_counter("counter_fault_events", ev0, ev1);
		if (pf0 >= 0 && pf1 >= 0)
			printf(", \"counter_match\": %s",
			       (size_t)(pf1 - pf0) == pages ? "true" : "false");
		printf("}\n");
		fflush(stdout);
	out:
		if (mr)
			ibv_dereg_mr(mr);
		if (buf)
			munmap(buf, len);
	}
}

/* ---- prefetch ------------------------------------------------------------- */

/* Bytes per SGE (struct ibv_sge's length is 32 bits) and SGEs per call. */
#define ADVISE_SGE_BYTES (256ul << 20)
#define ADVISE_SGES	 8

/* Whether advise_mr goes to the kernel as the raw uverbs ioctl. */
static int advise_raw;

/*
 * PREFETCH_WRITE with FLUSH (returns when every page is mapped) over
 * [@base, @base + @len) of @mr, ADVISE_SGE_BYTES per SGE and up to
 * ADVISE_SGES SGEs per call; *@calls counts the calls.  ibv_advise_mr()
 * where the provider has it; librxe (the stock provider, which drives
 * softodp devices too unless the project's provider is enabled) has no
 * advise_mr and answers EOPNOTSUPP without asking the kernel: then the
 * same uverbs method as an ioctl (t_advise_mr()).  0 or an errno.
 */
static int prefetch_write(struct ibv_mr *mr, uint8_t *base, size_t len, int *calls)
{
	struct ib_uverbs_sge usge[ADVISE_SGES];
	struct ibv_sge sge[ADVISE_SGES];
	size_t off = 0;
	unsigned int n;
	int ret;

	while (off < len) {
		for (n = 0; n < ADVISE_SGES && off < len; n++) {
			uint32_t l = len - off < ADVISE_SGE_BYTES ? len - off : ADVISE_SGE_BYTES;

			sge[n] = (struct ibv_sge){
				.addr = (uintptr_t)base + off, .length = l, .lkey = mr->lkey};
			usge[n] = (struct ib_uverbs_sge){
				.addr = (uintptr_t)base + off, .length = l, .lkey = mr->lkey};
			off += l;
		}
		(*calls)++;
		if (!advise_raw) {
			ret = ibv_advise_mr(pd, IBV_ADVISE_MR_ADVICE_PREFETCH_WRITE,
					    IBV_ADVISE_MR_FLAG_FLUSH, sge, n);
			if (ret < 0)
				ret = errno;
			if (ret != EOPNOTSUPP)
				goto next;
			advise_raw = 1;
		}
		ret = t_advise_mr(pd, IB_UVERBS_ADVISE_MR_ADVICE_PREFETCH_WRITE,
				  IB_UVERBS_ADVISE_MR_FLAG_FLUSH, usge, n);
	next:
		if (ret)
			return ret;
	}
	return 0;
}

static void bench_prefetch(size_t len, int reps)
{
	size_t pages = len / page_size, i;
	char err[256];
	int rep;

	for (rep = 1; rep <= reps; rep++) {
		long long pp0, pp1, pc0, pc1, pm0, pm1, pf0, pf1;
		struct ibv_mr *mr = NULL;
		volatile uint8_t *cpu;
		double t0, t, tc;
		int calls = 0, ret;
		uint8_t *buf;

		buf = map_region(len, 0);
		mr = buf ? ibv_reg_mr(pd, buf, len, ODP_ACCESS) : NULL;
		if (!mr) {
			failed("odp_prefetch", buf ? "reg_mr failed" : "mmap failed");
			if (buf)
				munmap(buf, len);
			return;
		}
		pp0 = counter("odp_prefetch_pages");
		pc0 = counter("odp_prefetches");
		pm0 = counter("odp_pages_mapped");
		pf0 = counter("odp_page_faults");
		t0 = now();
		ret = prefetch_write(mr, buf, len, &calls);
		t = now() - t0;
		pp1 = counter("odp_prefetch_pages");
		pc1 = counter("odp_prefetches");
		pm1 = counter("odp_pages_mapped");
		pf1 = counter("odp_page_faults");
		ibv_dereg_mr(mr);
		munmap(buf, len);
		if (ret == EOPNOTSUPP || ret == ENOSYS) {
			snprintf(err, sizeof(err), "advise_mr PREFETCH_WRITE: %s", strerror(ret));
			unavailable("odp_prefetch", err);
			return;
		}
		if (ret) {
			snprintf(err, sizeof(err), "advise_mr PREFETCH_WRITE of %zu MiB (%s): %s",
				 len >> 20, advise_raw ? "uverbs ioctl" : "ibv_advise_mr",
				 strerror(ret));
			failed("odp_prefetch", err);
			return;
		}
		/* The prefetched region is gone: one region in memory at a time. */
		cpu = map_region(len, 0);
		if (!cpu) {
			failed("odp_prefetch", "mmap of the CPU's region failed");
			return;
		}
		t0 = now();
		for (i = 0; i < len; i += page_size)
			cpu[i] = 1;
		tc = now() - t0;
		munmap((void *)cpu, len);
		printf("{\"test\": \"odp_prefetch\", \"variant\": \"4k\", \"size\": %zu, "
		       "\"rep\": %d, \"pages\": %zu, \"advise_via\": \"%s\", \"advise_calls\": %d, "
		       "\"seconds\": %.4f, \"pages_per_s\": %.0f, \"cpu_seconds\": %.4f, "
		       "\"cpu_pages_per_s\": %.0f, \"vs_cpu\": %.3f",
		       len, rep, pages, advise_raw ? "uverbs_ioctl" : "ibv_advise_mr", calls, t,
		       pages / t, tc, pages / tc, tc / t);
		print_counter("counter_prefetch_pages", pp0, pp1);
		print_counter("counter_prefetches", pc0, pc1);
		print_counter("counter_pages_mapped", pm0, pm1);
		print_counter("counter_page_faults", pf0, pf1);
		if (pp0 >= 0 && pp1 >= 0)
			printf(", \"counter_match\": %s",
			       (size_t)(pp1 - pp0) == pages &&
					       (pm0 < 0 || pm1 < 0 || (size_t)(pm1 - pm0) == pages)
				       ? "true"
				       : "false");
		printf("}\n");
		fflush(stdout);
	}
}

/* ---- munmap --------------------------------------------------------------- */

struct traffic {
	uint8_t *base;
	size_t len;
	uint32_t rkey;
	atomic_int stop;
	atomic_long completions;
	int status; /* first error completion status (expected after munmap) */
};

/* RDMA READs of 64 KiB round the region until told to stop or an error. */
static void *traffic_fn(void *arg)
{
	struct traffic *tr = arg;
	uint32_t n = 65536;
	size_t off = 0;
	int inflight = 0, st;

	while (!atomic_load(&tr->stop)) {
		while (inflight < DEPTH) {
			if (post_rdma(IBV_WR_RDMA_READ, (uintptr_t)tr->base + off, tr->rkey, n,
				      off))
				goto drain;
			off = (off + n) % tr->len;
			inflight++;
		}
		st = wait_wc();
		inflight--;
		if (st) {
			tr->status = st;
			goto drain;
		}
		atomic_fetch_add(&tr->completions, 1);
	}
drain:
	/* Error completions flush the rest; wait for them, bounded. */
	while (inflight > 0 && wait_wc() >= 0)
		inflight--;
	return NULL;
}

static const char *const munmap_variants[] = {"no_mr", "idle", "traffic"};

static void bench_munmap(size_t len, int reps)
{
	double *us = calloc(reps, sizeof(*us));
	char err[256];
	int v, rep;

	for (v = 0; v < 3; v++) {
		for (rep = 1; rep <= reps; rep++) {
			struct traffic tr = {0};
			long long inv0, inv1;
			struct ibv_mr *mr = NULL;
			pthread_t thr;
			int running = 0;
			uint8_t *buf;
			double t0, t1;

			buf = map_region(len, 1);
			if (!buf) {
				failed("odp_munmap", "mmap failed");
				break;
			}
			if (v > 0) {
				mr = ibv_reg_mr(pd, buf, len, ODP_ACCESS);
				if (!mr || pair_up() ||
				    device_map(mr, buf, len, err, sizeof(err))) {
					failed("odp_munmap", mr ? err : "reg_mr failed");
					munmap(buf, len);
					if (mr)
						ibv_dereg_mr(mr);
					break;
				}
			}
			if (v == 2) {
				tr.base = buf;
				tr.len = len;
				tr.rkey = mr->rkey;
				if (pthread_create(&thr, NULL, traffic_fn, &tr)) {
					failed("odp_munmap", "pthread_create failed");
					break;
				}
				running = 1;
				t0 = now();
				/* Traffic is flowing before we unmap. */
				while (atomic_load(&tr.completions) < 20 && !tr.status &&
				       now() - t0 < WC_TIMEOUT)
					usleep(1000);
			}
			inv0 = counter("odp_invalidation_pages");
			t0 = now();
			munmap(buf, len);
			t1 = now();
			if (running) {
				atomic_store(&tr.stop, 1);
				pthread_join(thr, NULL);
			}
			inv1 = counter("odp_invalidation_pages");
			us[rep - 1] = (t1 - t0) * 1e6;
			printf("{\"test\": \"odp_munmap\", \"variant\": \"%s\", \"size\": %zu, "
			       "\"rep\": %d, \"munmap_us\": %.1f",
			       munmap_variants[v], len, rep, us[rep - 1]);
			if (v > 0)
				printf(", \"device_mapped_by\": \"%s\"", mapped_by);
			if (v == 2)
				printf(", \"traffic_completions\": %ld, \"traffic_end\": \"%s\"",
				       atomic_load(&tr.completions),
				       tr.status ? ibv_wc_status_str(tr.status) : "stopped");
			print_counter("counter_invalidated_pages", v ? inv0 : -1, inv1);
			printf("}\n");
			fflush(stdout);
			if (v == 2 && atomic_load(&tr.completions) < 20) {
				snprintf(err, sizeof(err), "traffic did not flow (%ld READs, %s)",
					 atomic_load(&tr.completions),
					 tr.status ? ibv_wc_status_str(tr.status) : "no error");
				failed("odp_munmap", err);
			}
			if (mr)
				ibv_dereg_mr(mr);
		}
		if (rep <= reps)
			break;
		qsort(us, reps, sizeof(*us), cmp_double);
		fprintf(stderr, "odp_micro: munmap %s: median %.0f us\n", munmap_variants[v],
			us[reps / 2]);
	}
	free(us);
}

/* ---- fork ----------------------------------------------------------------- */

static int read_param(void)
{
	FILE *f = fopen(EVENT_PARAM, "r");
	int c = -1;

	if (f) {
		c = fgetc(f);
		fclose(f);
	}
	return c == 'Y' || c == '1' ? 1 : c == 'N' || c == '0' ? 0 : -1;
}

static int write_param(int on)
{
	FILE *f = fopen(EVENT_PARAM, "w");
	int ok;

	if (!f)
		return -1;
	ok = fputs(on ? "1\n" : "0\n", f) >= 0;
	return fclose(f) == 0 && ok && read_param() == on ? 0 : -1;
}

static void bench_fork_one(size_t len, int rep, int aware)
{
	long long pf0, pf1, dn0, dn1, inv0, inv1;
	size_t rlen = read_len;
	struct ibv_mr *mr = NULL;
	double before, after, tf0, tf1;
	char err[256];
	int pipefd[2] = {-1, -1};
	pid_t child = -1;
	uint8_t *buf;

	buf = map_region(len, 1);
	if (!buf) {
		failed("odp_fork_read", "mmap failed");
		return;
	}
	mr = ibv_reg_mr(pd, buf, len, ODP_ACCESS);
	if (!mr || pair_up() || device_map(mr, buf, len, err, sizeof(err))) {
		failed("odp_fork_read", mr ? err : "reg_mr failed");
		goto out;
	}
	if (rlen > len)
		rlen = len;
	before = stream(IBV_WR_RDMA_READ, buf, rlen, mr->rkey, err, sizeof(err));
	if (before < 0 || pipe(pipefd)) {
		failed("odp_fork_read", before < 0 ? err : "pipe failed");
		goto out;
	}
	inv0 = counter("odp_invalidation_pages");
	dn0 = counter("odp_write_downgrades");
	fflush(stdout);
	tf0 = now();
	child = fork();
	if (child == 0) {
		char c;

		/* Hold the COW sharing until the parent has measured. */
		close(pipefd[1]);
		while (read(pipefd[0], &c, 1) < 0 && errno == EINTR)
			;
		_exit(0);
	}
	tf1 = now();
	close(pipefd[0]);
	if (child < 0) {
		failed("odp_fork_read", "fork failed");
		goto out;
	}
	inv1 = counter("odp_invalidation_pages");
	dn1 = counter("odp_write_downgrades");
	pf0 = counter("odp_page_faults");
	after = stream(IBV_WR_RDMA_READ, buf, rlen, mr->rkey, err, sizeof(err));
	pf1 = counter("odp_page_faults");
	close(pipefd[1]);
	waitpid(child, NULL, 0);
	if (after < 0) {
		failed("odp_fork_read", err);
		goto out;
	}
	printf("{\"test\": \"odp_fork_read\", \"variant\": \"%s\", \"size\": %zu, \"rep\": %d, "
	       "\"msg_bytes\": %zu, \"read_bytes\": %zu, \"fork_us\": %.1f, \"read_MBps_before\": "
	       "%.1f, "
	       "\"read_MBps_after\": %.1f",
	       aware < 0 ? "default"
	       : aware	 ? "event_aware"
			 : "naive",
	       len, rep, msg, rlen, (tf1 - tf0) * 1e6, rlen / before / 1e6, rlen / after / 1e6);
	printf(", \"device_mapped_by\": \"%s\"", mapped_by);
	print_counter("faulted_pages_after", pf0, pf1);
	print_counter("fork_invalidated_pages", inv0, inv1);
	print_counter("fork_write_downgrades", dn0, dn1);
	printf("}\n");
	fflush(stdout);
out:
	if (pipefd[1] >= 0 && child > 0) {
		close(pipefd[1]);
		waitpid(child, NULL, 0);
	}
	if (mr)
		ibv_dereg_mr(mr);
	munmap(buf, len);
}

static void bench_fork(size_t len, int reps)
{
	int orig = read_param(), mode, rep;

	if (orig < 0) {
		/* No switch on this device: the device's own behaviour only. */
		for (rep = 1; rep <= reps; rep++)
			bench_fork_one(len, rep, -1);
		return;
	}
	for (mode = 1; mode >= 0; mode--) {
		if (write_param(mode)) {
			failed("odp_fork_read", "cannot set " EVENT_PARAM);
			break;
		}
		for (rep = 1; rep <= reps; rep++)
			bench_fork_one(len, rep, mode);
	}
	if (write_param(orig))
		failed("odp_fork_read", "cannot restore " EVENT_PARAM);
}

/* ---- main ----------------------------------------------------------------- */

static void usage(FILE *f)
{
	fputs("Usage: odp_micro [--help] [-d DEV] [-s MIB] [-S MIB] [-R MIB] [-m BYTES]\n"
	      "                 [-r REPS] TEST...\n"
	      "ODP micro-benchmarks in loopback on one device; TEST: fault, prefetch, munmap,\n"
	      "fork.\n"
	      "  fault     first-touch RDMA WRITE faults into a -s MIB ODP MR (default 256):\n"
	      "            pages/s, checked against the odp_page_faults counter\n"
	      "  prefetch  ibv_advise_mr PREFETCH_WRITE (FLUSH) of a never-touched -S MIB ODP\n"
	      "            MR (default 1024): pages/s, checked against odp_prefetch_pages;\n"
	      "            then the CPU's first touch of another -S MIB region (pages/s)\n"
	      "  munmap    munmap() of a -S MIB (default 1024) device-mapped ODP region:\n"
	      "            no MR / idle MR / RDMA READs running (usec)\n"
	      "  fork      RDMA READ MB/s of -R MIB (default 128) of a -S MIB ODP MR before\n"
	      "            and right after fork(); on softodp with odp_event_aware on and off\n"
	      "  -d DEV    device (default: the first sodp* device)\n"
	      "  -m BYTES  RDMA message size (default 1048576)\n"
	      "  -r REPS   repetitions (default 3)\n"
	      "Prints one JSON object per measurement; exits 1 if one failed, 3 if the\n"
	      "device wrote wrong data (status \"invalid\").\n",
	      f);
}

static int parse_mib(const char *s, size_t *out)
{
	char *end;
	unsigned long v = strtoul(s, &end, 10);

	if (*end || v == 0 || v > 8192)
		return -1;
	*out = (size_t)v << 20;
	return 0;
}

int main(int argc, char **argv)
{
	static const struct option lopts[] = {{"help", no_argument, NULL, 'h'}, {0}};
	size_t fault_len = 256ul << 20, big_len = 1024ul << 20;
	const char *want = NULL;
	int reps = 3, c, i;
	char *end;

	while ((c = getopt_long(argc, argv, "hd:s:S:R:m:r:", lopts, NULL)) != -1) {
		switch (c) {
		case 'h':
			usage(stdout);
			return 0;
		case 'd':
			want = optarg;
			break;
		case 's':
		case 'S':
		case 'R':
			if (parse_mib(optarg, c == 's'	 ? &fault_len
					      : c == 'S' ? &big_len
							 : &read_len)) {
				fprintf(stderr, "odp_micro: -%c takes 1..8192 (MiB)\n", c);
				return 2;
			}
			break;
		case 'm':
			msg = strtoul(optarg, &end, 10);
			if (*end || msg < 1024 || msg > (64u << 20)) {
				fprintf(stderr, "odp_micro: -m takes 1024..67108864\n");
				return 2;
			}
			break;
		case 'r':
			reps = atoi(optarg);
			if (reps < 1 || reps > 100) {
				fprintf(stderr, "odp_micro: -r takes 1..100\n");
				return 2;
			}
			break;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind >= argc) {
		usage(stderr);
		return 2;
	}
	for (i = optind; i < argc; i++) {
		if (strcmp(argv[i], "fault") && strcmp(argv[i], "prefetch") &&
		    strcmp(argv[i], "munmap") && strcmp(argv[i], "fork")) {
			fprintf(stderr, "odp_micro: unknown test '%s' (see --help)\n", argv[i]);
			return 2;
		}
	}
	page_size = sysconf(_SC_PAGESIZE);
	t_set_busy_poll(1);
	if (t_open_dev(&dev, want, 0) || !(pd = ibv_alloc_pd(dev.ctx))) {
		fprintf(stderr, "odp_micro: no usable device %s (RoCEv2 IPv4 GID)\n",
			want ? want : "sodp*");
		return 1;
	}
	lbuf = t_map(msg);
	if (!lbuf)
		return 1;
	memset(lbuf, 0, msg);
	lmr = ibv_reg_mr(pd, lbuf, msg, IBV_ACCESS_LOCAL_WRITE);
	if (!lmr) {
		fprintf(stderr, "odp_micro: reg_mr of the local buffer: %s\n", strerror(errno));
		return 1;
	}
	for (i = optind; i < argc; i++) {
		const char *t = argv[i];
		const char *name = !strcmp(t, "fault")	    ? "odp_first_touch"
				   : !strcmp(t, "prefetch") ? "odp_prefetch"
				   : !strcmp(t, "munmap")   ? "odp_munmap"
							    : "odp_fork_read";

		if (!odp_supported()) {
			unavailable(name, "device reports no RC ODP READ/WRITE support");
			continue;
		}
		if (!strcmp(t, "fault"))
			bench_fault(fault_len, reps);
		else if (!strcmp(t, "prefetch"))
			bench_prefetch(big_len, reps);
		else if (!strcmp(t, "munmap"))
			bench_munmap(big_len, reps);
		else
			bench_fork(big_len, reps);
	}
	t_pair_fini(&pair);
	ibv_dereg_mr(lmr);
	ibv_dealloc_pd(pd);
	t_close_dev(&dev);
	return failures ? 1 : invalids ? 3 : 0;
}
