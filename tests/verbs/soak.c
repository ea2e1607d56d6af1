// SPDX-License-Identifier: GPL-2.0
/*
 * soak - the programs of the load and fault soak (issue 18,
 * tests/vm/suites/soak), one per mode:
 *
 * soak objects [-q QPS] [-m MRS] [-c CQS] [-H FILE] DEVICE
 *     Many objects on one device: QPS RC QPs (default 1000) on CQS CQs (64)
 *     in one PD, connected in loopback pairs (RTS), and MRS one-page MRs
 *     (10000), a third each pinned, explicit ODP and implicit ODP (an
 *     implicit MR per page: the whole address space, used at that page).
 *     Every pair RDMA-WRITEs a stamp into its share of the MRs, every stamp
 *     is checked in memory.  Then every object is destroyed, each call
 *     checked; with -H the program instead writes FILE when everything is
 *     in place and waits to be killed (the kernel must clean up).
 *
 * soak traffic [-t SECONDS] [-e EPOCH] [-s SEED] [-r RATE] -d DEV [-D DEV2]
 *     A soak client: an RC pair from DEV to DEV2 (default DEV: loopback)
 *     streams generation-stamped RDMA WRITEs (DEPTH outstanding) into
 *     slots of three regions on DEV2 - pinned, explicit ODP, implicit ODP -
 *     every slot header, pattern and trailer derived from the generation
 *     and the slot; when the pipeline is drained every slot must hold the
 *     last generation written to it (never an older one, never two
 *     generations mixed), an RDMA READ of a slot must return it, and a
 *     MADV_DONTNEED of the ODP regions must read back as zeros until the
 *     next WRITE.  Every WR posted is accounted for exactly once: SUCCESS,
 *     or RETRY_EXC_ERR then WR_FLUSH_ERR for the rest, allowed only for a
 *     pair that lived through a disruption the churn driver announced in
 *     the file EPOCH (an integer, odd while a disruption is under way,
 *     changed by each one); or lost with its device (IBV_EVENT_DEVICE_FATAL:
 *     the device was deleted), after which the client opens the devices
 *     again as soon as they are back.  Without -e every error is a failure.
 *     Runs SECONDS (0: until SIGTERM/SIGINT), at most RATE WRITEs a second
 *     (0: as fast as it goes), then drains, checks and prints its
 *     accounting.
 *
 * soak oom -d DEV
 *     Memory pressure up to the OOM killer with an implicit MR in use: sets
 *     its own oom_score_adj to 1000, registers an implicit ODP MR and a
 *     loopback pair, then maps and touches 16 MiB chunks forever, RDMA
 *     WRITEing 64 KiB (checked) into each through the implicit MR, so its
 *     implicit MR's children span all of its memory when the OOM killer
 *     takes it.  Never returns normally.
 *
 * Prints PASS/FAIL lines, "# " notes and "N passed, N failed" (common.h);
 * exits 1 on a failure, 2 on a usage error.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>
#include <infiniband/verbs.h>

#include "common.h"

#define ODP_RW                                                                                     \
	(IBV_ACCESS_ON_DEMAND | IBV_ACCESS_LOCAL_WRITE | IBV_ACCESS_REMOTE_WRITE |                 \
	 IBV_ACCESS_REMOTE_READ)
#define PIN_RW (IBV_ACCESS_LOCAL_WRITE | IBV_ACCESS_REMOTE_WRITE | IBV_ACCESS_REMOTE_READ)

static long page_size;

static void usage(FILE *f)
{
	fprintf(f,
		"Usage: soak objects [-q QPS] [-m MRS] [-c CQS] [-H FILE] DEVICE\n"
		"       soak traffic [-t SECONDS] [-e EPOCH] [-s SEED] [-r RATE] -d DEV [-D DEV2]\n"
		"       soak oom -d DEV\n"
		"The programs of the load and fault soak (tests/vm/suites/soak):\n"
		"  objects  QPS RC QPs (1000) in loopback pairs on CQS CQs (64), MRS one-page\n"
		"           MRs (10000: pinned, explicit and implicit ODP), a WRITE into each\n"
		"           checked; then torn down, or with -H FILE kept (FILE written once\n"
		"           all is in place) until the process is killed\n"
		"  traffic  generation-stamped WRITE/READ traffic DEV -> DEV2 (default DEV)\n"
		"           into pinned, explicit and implicit ODP memory, checked, surviving\n"
		"           the disruptions announced in the file EPOCH (odd: under way) and\n"
		"           device removal; SECONDS (0: until SIGTERM), SEED for the choices,\n"
		"           at most RATE WRITEs a second (0: no limit)\n"
		"  oom      an implicit ODP MR in use while memory is taken until the OOM\n"
		"           killer ends the process (oom_score_adj 1000)\n");
}

static int reg_fail(const char *what)
{
	fprintf(stderr, "soak: %s: %s\n", what, strerror(errno));
	return -1;
}

/* ---- objects ---------------------------------------------------------------- */

struct objs {
	struct t_dev dev;
	struct ibv_pd *pd;
	struct ibv_cq **cq;
	struct ibv_qp **qp;
	struct ibv_mr **mr;
	struct ibv_mr *src_mr;
	uint8_t *mem, *src;
	int nqp, nmr, ncq;
	int kinds[3];
};

static uint64_t obj_stamp(int i, int w)
{
	return 0x50a1c00000000000ull ^ ((uint64_t)i << 8) ^ (uint64_t)w;
}

/* Create everything; 0 or -1 (the reason printed). */
static int objs_create(struct objs *o)
{
	int cqe = 4 * ((o->nqp + o->ncq - 1) / o->ncq) + 4;
	int i, ret;

	o->pd = ibv_alloc_pd(o->dev.ctx);
	if (!o->pd)
		return reg_fail("ibv_alloc_pd");
	for (i = 0; i < o->ncq; i++) {
		o->cq[i] = ibv_create_cq(o->dev.ctx, cqe, NULL, NULL, 0);
		if (!o->cq[i])
			return reg_fail("ibv_create_cq");
	}
	for (i = 0; i < o->nqp; i++) {
		o->qp[i] = t_create_rc_qp(o->pd, o->cq[i % o->ncq], NULL, 2, 1, NULL);
		if (!o->qp[i]) {
			fprintf(stderr, "soak: QP %d: %s\n", i, strerror(errno));
			return -1;
		}
	}
	for (i = 0; i + 1 < o->nqp; i += 2) {
		ret = t_connect_qp(o->qp[i], o->dev.gid_index, &o->dev.gid, o->qp[i + 1]->qp_num,
				   IBV_MTU_1024, 7);
		if (!ret)
			ret = t_connect_qp(o->qp[i + 1], o->dev.gid_index, &o->dev.gid,
					   o->qp[i]->qp_num, IBV_MTU_1024, 7);
		if (ret) {
			fprintf(stderr, "soak: connecting QPs %d, %d: %s\n", i, i + 1,
				strerror(ret));
			return -1;
		}
	}
	o->mem = t_map((size_t)o->nmr * page_size);
	o->src = t_map((size_t)o->nqp * 64);
	if (!o->mem || !o->src)
		return reg_fail("mmap");
	o->src_mr = ibv_reg_mr(o->pd, o->src, (size_t)o->nqp * 64, IBV_ACCESS_LOCAL_WRITE);
	if (!o->src_mr)
		return reg_fail("ibv_reg_mr (source)");
	for (i = 0; i < o->nmr; i++) {
		uint8_t *page = o->mem + (size_t)i * page_size;

		switch (i % 3) {
		case 0:
			memset(page, 0, page_size); /* populate before pinning */
			o->mr[i] = ibv_reg_mr(o->pd, page, page_size, PIN_RW);
			break;
		case 1:
			o->mr[i] = ibv_reg_mr(o->pd, page, page_size, ODP_RW);
			break;
		default:
			o->mr[i] = ibv_reg_mr(o->pd, NULL, SIZE_MAX, ODP_RW);
			break;
		}
		if (!o->mr[i]) {
			fprintf(stderr, "soak: MR %d (%s): %s\n", i,
				i % 3 == 0   ? "pinned"
				: i % 3 == 1 ? "explicit ODP"
					     : "implicit ODP",
				strerror(errno));
			return -1;
		}
		o->kinds[i % 3]++;
	}
	return 0;
}

/*
 * Every pair WRITEs 64 bytes into one MR per round until every MR got its
 * stamp; completions polled over all CQs.  The number of WRITEs checked,
 * or -1.
 */
static int objs_traffic(struct objs *o)
{
	int npairs = o->nqp / 2, i, p, n, got, want, w;
	struct ibv_wc wc[16];
	double end;

	for (i = 0; i < o->nmr; i += npairs) {
		want = 0;
		for (p = 0; p < npairs && i + p < o->nmr; p++) {
			int m = i + p;
			uint64_t *s = (uint64_t *)(o->src + (size_t)p * 64);
			uint8_t *dst = o->mem + (size_t)m * page_size + (size_t)(m % 63) * 64;

			for (w = 0; w < 8; w++)
				s[w] = obj_stamp(m, w);
			n = t_post_wr(o->qp[2 * p], m, IBV_WR_RDMA_WRITE, s, 64, o->src_mr->lkey,
				      (uintptr_t)dst, o->mr[m]->rkey, 0, 0);
			if (n) {
				fprintf(stderr, "soak: posting WRITE %d: %s\n", m, strerror(n));
				return -1;
			}
			want++;
		}
		got = 0;
		end = t_now_ms() + T_POLL_MS;
		while (got < want && t_now_ms() < end) {
			for (p = 0; p < o->ncq; p++) {
				n = ibv_poll_cq(o->cq[p], 16, wc);
				if (n < 0) {
					fprintf(stderr, "soak: ibv_poll_cq failed\n");
					return -1;
				}
				for (w = 0; w < n; w++) {
					if (wc[w].status != IBV_WC_SUCCESS) {
						fprintf(stderr, "soak: WRITE %llu: %s\n",
							(unsigned long long)wc[w].wr_id,
							ibv_wc_status_str(wc[w].status));
						return -1;
					}
				}
				got += n;
			}
		}
		if (got != want) {
			fprintf(stderr, "soak: %d of %d WRITEs completed within %d ms\n", got, want,
				T_POLL_MS);
			return -1;
		}
	}
	for (i = 0; i < o->nmr; i++) {
		const uint64_t *d =
			(const uint64_t *)(o->mem + (size_t)i * page_size + (size_t)(i % 63) * 64);

		for (w = 0; w < 8; w++) {
			if (d[w] != obj_stamp(i, w)) {
				fprintf(stderr, "soak: MR %d word %d holds %#llx, not %#llx\n", i,
					w, (unsigned long long)d[w],
					(unsigned long long)obj_stamp(i, w));
				return -1;
			}
		}
	}
	return o->nmr;
}

/*
 * Destroy everything; the number of calls that failed.  MRs first: while
 * 3 333 implicit MRs have a child around the QPs' ring mappings, every
 * munmap() of a ring (two per destroyed QP) runs 3 333 notifier callbacks
 * (10 s for the QPs under TCG, 1 s with the MRs gone).
 */
static int objs_destroy(struct objs *o)
{
	double t0 = t_now_ms(), t1, t2;
	int i, bad = 0;

	for (i = 0; i < o->nmr; i++)
		if (o->mr[i] && ibv_dereg_mr(o->mr[i]))
			bad++;
	if (o->src_mr && ibv_dereg_mr(o->src_mr))
		bad++;
	t1 = t_now_ms();
	for (i = 0; i < o->nqp; i++)
		if (o->qp[i] && ibv_destroy_qp(o->qp[i]))
			bad++;
	t2 = t_now_ms();
	for (i = 0; i < o->ncq; i++)
		if (o->cq[i] && ibv_destroy_cq(o->cq[i]))
			bad++;
	if (o->pd && ibv_dealloc_pd(o->pd))
		bad++;
	printf("# teardown: MRs %.1f s, QPs %.1f s, CQs and PD %.1f s\n", (t1 - t0) / 1e3,
	       (t2 - t1) / 1e3, (t_now_ms() - t2) / 1e3);
	return bad;
}

static int objects_main(int argc, char **argv)
{
	struct objs o = {.nqp = 1000, .nmr = 10000, .ncq = 64};
	const char *hold = NULL;
	double t0;
	int opt, n, bad;
	FILE *f;

	while ((opt = getopt(argc, argv, "q:m:c:H:")) != -1) {
		switch (opt) {
		case 'q':
			o.nqp = atoi(optarg);
			break;
		case 'm':
			o.nmr = atoi(optarg);
			break;
		case 'c':
			o.ncq = atoi(optarg);
			break;
		case 'H':
			hold = optarg;
			break;
		default:
			usage(stderr);
			return T_EXIT_USAGE;
		}
	}
	if (optind + 1 != argc || o.nqp < 2 || o.nmr < 1 || o.ncq < 1) {
		usage(stderr);
		return T_EXIT_USAGE;
	}
	if (t_open_dev(&o.dev, argv[optind], 0)) {
		fprintf(stderr, "soak: cannot open %s or it has no RoCEv2 IPv4 GID\n",
			argv[optind]);
		return T_EXIT_FAIL;
	}
	o.cq = calloc(o.ncq, sizeof(*o.cq));
	o.qp = calloc(o.nqp, sizeof(*o.qp));
	o.mr = calloc(o.nmr, sizeof(*o.mr));
	if (!o.cq || !o.qp || !o.mr)
		return T_EXIT_FAIL;
	t0 = t_now_ms();
	n = objs_create(&o);
	T_CHECK(!n, "objects_create", "see above");
	printf("# created %d QPs (%d loopback pairs in RTS), %d CQs, %d MRs (%d pinned, %d "
	       "explicit ODP, %d implicit ODP) in %.1f s\n",
	       o.nqp, o.nqp / 2, o.ncq, o.nmr, o.kinds[0], o.kinds[1], o.kinds[2],
	       (t_now_ms() - t0) / 1e3);
	if (!n) {
		t0 = t_now_ms();
		n = objs_traffic(&o);
		T_CHECK(n > 0, "objects_traffic", "see above");
		if (n > 0)
			printf("# %d WRITEs over %d pairs, every stamp checked, in %.1f s\n", n,
			       o.nqp / 2, (t_now_ms() - t0) / 1e3);
	}
	fflush(stdout);
	if (hold && !t_failed) {
		f = fopen(hold, "w");
		if (!f || fclose(f)) {
			perror(hold);
			return T_EXIT_FAIL;
		}
		for (;;)
			pause();
	}
	t0 = t_now_ms();
	bad = objs_destroy(&o);
	T_CHECK(!bad, "objects_teardown", "%d destroy/dereg calls failed", bad);
	printf("# teardown in %.1f s\n", (t_now_ms() - t0) / 1e3);
	t_close_dev(&o.dev);
	return t_summary();
}

/* ---- traffic ---------------------------------------------------------------- */

#define NKIND 3	   /* pinned, explicit ODP, implicit ODP */
#define NSLOT 16   /* slots per region */
#define SLOT  8192 /* bytes per slot: several packets, two pages */
#define DEPTH 8	   /* WRITEs outstanding */
/*
 * A completion later than this is a hang, not a slow TCG guest: the soak's
 * OOM step has shown guest soft lockups of 22-26 s (a CPU clearing pages,
 * the QP work queued on it waiting), so 30 s could not tell the two apart.
 */
#define WC_MS 60000

static const char *const kind_name[NKIND] = {"pinned", "explicit ODP", "implicit ODP"};

enum slot_state { S_KNOWN, S_ZERO, S_UNKNOWN };

static volatile sig_atomic_t stop_flag;

static void on_stop(int sig)
{
	(void)sig;
	stop_flag = 1;
}

struct cl {
	/* options */
	const char *dname[2];
	const char *epoch_file;
	double secs, rate, start;
	unsigned int seed;
	/* memory, kept across sessions */
	uint8_t *src, *rd, *region[NKIND];
	enum slot_state st[NKIND][NSLOT];
	uint64_t gen_of[NKIND][NSLOT];
	/* session: devices, PDs, MRs */
	int up;
	struct t_dev dev[2];
	struct ibv_pd *pd[2];
	struct ibv_mr *src_mr, *rd_mr, *mr[NKIND];
	/* the pair */
	int paired;
	struct t_pair pair;
	long pair_epoch;
	struct timespec pair_born; /* CLOCK_REALTIME at pair_open() */
	int pair_err;		   /* an error completion seen on it */
	/* outstanding WRs: generation (0: free) per WRITE target, the READ */
	uint64_t inflight_gen[NKIND][NSLOT];
	int inflight;
	uint64_t next_gen;
	/* accounting */
	unsigned long posted, ok, retry_exc, flushed, lost, writes, reads, checks, dontneeds;
	unsigned long sessions, pairs, disrupted_pairs, writes_at_check;
	int failed;
};

static void cl_fail(struct cl *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void cl_fail(struct cl *c, const char *fmt, ...)
{
	struct timespec now;
	va_list ap;

	if (c->failed)
		return;
	c->failed = 1;
	va_start(ap, fmt);
	t_vresult(0, "traffic", fmt, ap);
	va_end(ap);
	/* Wall-clock times, to be matched with the churn driver's log. */
	clock_gettime(CLOCK_REALTIME, &now);
	printf("# failed at %lld.%03ld; the pair (QP %#x -> QP %#x) was created at %lld.%03ld\n",
	       (long long)now.tv_sec, now.tv_nsec / 1000000, c->paired ? c->pair.a.qp->qp_num : 0,
	       c->paired ? c->pair.b.qp->qp_num : 0, (long long)c->pair_born.tv_sec,
	       c->pair_born.tv_nsec / 1000000);
}

/* The driver's disruption epoch (odd: under way); 0 without -e. */
static long read_epoch(const struct cl *c)
{
	long e = 0;
	FILE *f;

	if (!c->epoch_file)
		return 0;
	f = fopen(c->epoch_file, "r");
	if (!f)
		return 0;
	if (fscanf(f, "%ld", &e) != 1)
		e = 0;
	fclose(f);
	return e;
}

/* Whether the current pair may fail: it lived through a disruption. */
static int pair_disrupted(const struct cl *c)
{
	long now = read_epoch(c);

	return c->epoch_file && (now != c->pair_epoch || (now & 1) || (c->pair_epoch & 1));
}

static uint64_t word_of(uint64_t gen, int k, int s, size_t w)
{
	uint64_t x = gen * 0x9e3779b97f4a7c15ull ^ ((uint64_t)(k * NSLOT + s) << 48) ^ w;

	x ^= x >> 29;
	return x * 0xbf58476d1ce4e5b9ull;
}

/* Fill @p with generation @gen for slot @s of kind @k: header, pattern, trailer. */
static void fill_slot(uint64_t *p, uint64_t gen, int k, int s)
{
	size_t w, n = SLOT / 8;

	p[0] = gen;
	for (w = 1; w < n - 1; w++)
		p[w] = word_of(gen, k, s, w);
	p[n - 1] = gen;
}

/* Check @p against generation @gen: 0, or -1 with the reason in @why. */
static int check_slot(const uint64_t *p, uint64_t gen, int k, int s, char *why, size_t len)
{
	size_t w, n = SLOT / 8;

	if (p[0] != gen || p[n - 1] != gen) {
		snprintf(why, len,
			 "%s slot %d: header %#llx trailer %#llx, expected generation %#llx (%s)",
			 kind_name[k], s, (unsigned long long)p[0], (unsigned long long)p[n - 1],
			 (unsigned long long)gen,
			 p[0] != p[n - 1] ? "torn"
			 : p[0] < gen	  ? "stale"
					  : "wrong");
		return -1;
	}
	for (w = 1; w < n - 1; w++) {
		if (p[w] != word_of(gen, k, s, w)) {
			snprintf(why, len,
				 "%s slot %d generation %#llx: word %zu (page %zu) is %#llx",
				 kind_name[k], s, (unsigned long long)gen, w, w * 8 / page_size,
				 (unsigned long long)p[w]);
			return -1;
		}
	}
	return 0;
}

static int is_zero(const uint8_t *p, size_t n)
{
	return p[0] == 0 && !memcmp(p, p + 1, n - 1);
}

static void *slot_addr(const struct cl *c, int k, int s)
{
	return c->region[k] + (size_t)s * SLOT;
}

static void pair_close(struct cl *c)
{
	if (c->paired)
		t_pair_fini(&c->pair);
	c->paired = 0;
}

/* Tear the session down; outstanding WRs are lost with the device. */
static void session_close(struct cl *c)
{
	int k, i;

	pair_close(c);
	c->lost += c->inflight;
	for (k = 0; k < NKIND; k++) {
		for (i = 0; i < NSLOT; i++) {
			if (c->inflight_gen[k][i])
				c->st[k][i] = S_UNKNOWN;
			c->inflight_gen[k][i] = 0;
		}
		if (c->mr[k])
			ibv_dereg_mr(c->mr[k]);
		c->mr[k] = NULL;
	}
	c->inflight = 0;
	if (c->src_mr)
		ibv_dereg_mr(c->src_mr);
	if (c->rd_mr)
		ibv_dereg_mr(c->rd_mr);
	c->src_mr = c->rd_mr = NULL;
	for (i = 1; i >= 0; i--) {
		if (c->pd[i] && (i == 0 || c->pd[1] != c->pd[0]))
			ibv_dealloc_pd(c->pd[i]);
		c->pd[i] = NULL;
	}
	if (c->dev[1].ctx && c->dev[1].ctx != c->dev[0].ctx)
		t_close_dev(&c->dev[1]);
	memset(&c->dev[1], 0, sizeof(c->dev[1]));
	if (c->dev[0].ctx)
		t_close_dev(&c->dev[0]);
	c->up = 0;
}

/* Open the devices, PDs and MRs: 0, or -1 (not there yet; try again). */
static int session_open(struct cl *c)
{
	size_t rlen = (size_t)NSLOT * SLOT;
	int k;

	if (t_open_dev(&c->dev[0], c->dname[0], 0))
		goto fail;
	if (c->dname[1]) {
		if (t_open_dev(&c->dev[1], c->dname[1], 0))
			goto fail;
	} else {
		c->dev[1] = c->dev[0];
	}
	c->pd[0] = ibv_alloc_pd(c->dev[0].ctx);
	c->pd[1] = c->dname[1] ? ibv_alloc_pd(c->dev[1].ctx) : c->pd[0];
	if (!c->pd[0] || !c->pd[1])
		goto fail;
	c->src_mr = ibv_reg_mr(c->pd[0], c->src, (size_t)DEPTH * SLOT, IBV_ACCESS_LOCAL_WRITE);
	c->rd_mr = ibv_reg_mr(c->pd[0], c->rd, SLOT, IBV_ACCESS_LOCAL_WRITE);
	c->mr[0] = ibv_reg_mr(c->pd[1], c->region[0], rlen, PIN_RW);
	c->mr[1] = ibv_reg_mr(c->pd[1], c->region[1], rlen, ODP_RW);
	c->mr[2] = ibv_reg_mr(c->pd[1], NULL, SIZE_MAX, ODP_RW);
	for (k = 0; k < NKIND; k++)
		if (!c->mr[k])
			goto fail;
	if (!c->src_mr || !c->rd_mr)
		goto fail;
	/*
	 * A pinned MR holds the pages it pinned: what the CPU sees again only
	 * if the pages stay put, so the pinned slots keep their state; a new
	 * registration of ODP memory changes nothing either.
	 */
	c->up = 1;
	c->sessions++;
	return 0;
fail:
	session_close(c);
	return -1;
}

/*
 * Whether a device of the session is gone: IBV_EVENT_DEVICE_FATAL within
 * @ms (a verb that failed because of it may precede the event).
 */
static int device_gone_within(struct cl *c, int ms)
{
	double end = t_now_ms() + ms;
	int i, ev;

	do {
		for (i = 0; i < 2; i++) {
			if (!c->dev[i].ctx || (i == 1 && c->dev[1].ctx == c->dev[0].ctx))
				continue;
			while ((ev = t_async_event(c->dev[i].ctx, ms ? 10 : 0, NULL)) >= 0)
				if (ev == IBV_EVENT_DEVICE_FATAL)
					return 1;
		}
	} while (t_now_ms() < end);
	return 0;
}

static int device_gone(struct cl *c)
{
	return device_gone_within(c, 0);
}

/*
 * The ports' active MTU now: a session outlives the driver's MTU changes,
 * and a pair given the MTU of the session's start would send packets the
 * links no longer carry (after 4200 -> 1280: 4 KiB packets, dropped by IP,
 * RETRY_EXC_ERR on a pair no disruption touched).
 */
static int ports_now(struct cl *c)
{
	struct ibv_port_attr pa;
	int i;

	for (i = 0; i < 2; i++) {
		if (ibv_query_port(c->dev[i].ctx, 1, &pa))
			return -1;
		c->dev[i].active_mtu = pa.active_mtu;
	}
	return 0;
}

static int pair_open(struct cl *c)
{
	struct t_side_opts oa = {.pd = c->pd[0]}, ob = {.pd = c->pd[1]};
	struct ibv_qp_attr a;
	uint32_t psn = (uint32_t)rand_r(&c->seed) & 0xffffff;
	struct t_side *sd[2] = {&c->pair.a, &c->pair.b};
	enum ibv_mtu mtu;
	int i, ret;

	/*
	 * Random PSNs: a packet of an earlier pair still in flight must not
	 * fit a new pair that got the same QP numbers.
	 */
	c->pair_epoch = read_epoch(c);
	clock_gettime(CLOCK_REALTIME, &c->pair_born);
	memset(&c->pair, 0, sizeof(c->pair));
	/* After the epoch: an MTU change from now on disrupts the pair. */
	if (ports_now(c))
		goto fail;
	mtu = t_min_mtu(&c->dev[0], &c->dev[1]);
	if (t_side_init(&c->pair.a, &c->dev[0], &oa) || t_side_init(&c->pair.b, &c->dev[1], &ob))
		goto fail;
	for (i = 0; i < 2; i++) {
		ret = t_qp_init(sd[i]->qp);
		if (ret)
			goto fail;
		t_rtr_attr(&a, sd[i]->dev, sd[!i]->dev, sd[!i]->qp->qp_num, mtu);
		a.rq_psn = psn;
		ret = ibv_modify_qp(sd[i]->qp, &a, T_RTR_MASK);
		if (ret)
			goto fail;
		t_rts_attr(&a, 7);
		a.sq_psn = psn;
		ret = ibv_modify_qp(sd[i]->qp, &a, T_RTS_MASK);
		if (ret)
			goto fail;
	}
	c->paired = 1;
	c->pair_err = 0;
	c->pairs++;
	return 0;
fail:
	t_pair_fini(&c->pair);
	return -1;
}

/*
 * One completion: matched to its WR and accounted.  @wc->wr_id encodes
 * kind and slot (bits 0-7), the READ (bit 8) and the generation (bits
 * 16-).
 */
static void complete(struct cl *c, const struct ibv_wc *wc)
{
	int k = wc->wr_id & 0xf, s = (wc->wr_id >> 4) & 0xf, rd = (wc->wr_id >> 8) & 1;
	uint64_t gen = wc->wr_id >> 16;
	char why[200];

	if (k >= NKIND || c->inflight_gen[k][s] != gen || !gen) {
		cl_fail(c, "completion of an unknown WR %#llx (%s)", (unsigned long long)wc->wr_id,
			ibv_wc_status_str(wc->status));
		return;
	}
	c->inflight_gen[k][s] = 0;
	c->inflight--;
	if (wc->status == IBV_WC_SUCCESS) {
		if (c->pair_err) {
			cl_fail(c, "SUCCESS after an error completion on the same QP");
			return;
		}
		c->ok++;
		if (rd) {
			if (check_slot((const uint64_t *)c->rd, gen, k, s, why, sizeof(why)))
				cl_fail(c, "READ: %s", why);
			c->checks++;
		} else {
			c->st[k][s] = S_KNOWN;
			c->gen_of[k][s] = gen;
		}
		return;
	}
	/* A failed WRITE leaves its slot undefined. */
	if (!rd)
		c->st[k][s] = S_UNKNOWN;
	if (!pair_disrupted(c)) {
		cl_fail(c, "%s of generation %#llx: %s (%d) on a pair no disruption touched",
			rd ? "READ" : "WRITE", (unsigned long long)gen,
			ibv_wc_status_str(wc->status), wc->status);
		return;
	}
	/*
	 * The first error of a pair: retries exhausted (the peer or the path
	 * went away) or a flush (the QP was moved to ERR); every later one is
	 * a flush.
	 */
	if (wc->status == IBV_WC_WR_FLUSH_ERR) {
		c->flushed++;
	} else if (wc->status == IBV_WC_RETRY_EXC_ERR && !c->pair_err) {
		c->retry_exc++;
	} else {
		cl_fail(c, "%s of generation %#llx after a disruption: %s (%d), expected %s",
			rd ? "READ" : "WRITE", (unsigned long long)gen,
			ibv_wc_status_str(wc->status), wc->status,
			c->pair_err ? "WR_FLUSH_ERR after the first error"
				    : "RETRY_EXC_ERR or WR_FLUSH_ERR");
		return;
	}
	if (!c->pair_err)
		c->disrupted_pairs++;
	c->pair_err = 1;
}

/*
 * A pair that stopped completing: what the kernel's engines of its two QPs
 * say (softodp's `rdma resource show qp -dd` attributes), while they exist.
 */
static void dump_engines(struct cl *c)
{
	char cmd[256];

	snprintf(cmd, sizeof(cmd),
		 "for q in %u %u; do rdma -dd resource show qp lqpn $q; done 2>&1 | "
		 "sed 's/^/# stalled pair: /' >&2",
		 c->pair.a.qp->qp_num, c->pair.b.qp->qp_num);
	fflush(stderr);
	if (system(cmd) != 0)
		fprintf(stderr, "# stalled pair: rdma resource show failed\n");
}

/*
 * Poll until at most @left WRs are outstanding.  0; 1 if the session is
 * lost (device gone); -1 on a hang (failed).
 */
static int reap(struct cl *c, int left)
{
	struct ibv_wc wc[DEPTH];
	double end = t_now_ms() + WC_MS;
	int n, i;

	while (c->inflight > left && !c->failed) {
		n = ibv_poll_cq(c->pair.a.cq, DEPTH, wc);
		if (n < 0) {
			cl_fail(c, "ibv_poll_cq failed");
			return -1;
		}
		for (i = 0; i < n; i++)
			complete(c, &wc[i]);
		if (n)
			continue;
		if (device_gone(c))
			return 1;
		if (t_now_ms() > end) {
			struct timespec ts;

			clock_gettime(CLOCK_REALTIME, &ts);
			dump_engines(c);
			cl_fail(c,
				"%d WRs without a completion for %d s (pair %s: epoch %ld at its "
				"creation, %ld now; QP %#x state %d -> QP %#x state %d; at "
				"%lld.%03ld)",
				c->inflight, WC_MS / 1000,
				pair_disrupted(c) ? "disrupted" : "never disrupted", c->pair_epoch,
				read_epoch(c), c->pair.a.qp->qp_num, t_qp_state(c->pair.a.qp),
				c->pair.b.qp->qp_num, t_qp_state(c->pair.b.qp),
				(long long)ts.tv_sec, ts.tv_nsec / 1000000);
			return -1;
		}
		usleep(1000);
	}
	return c->failed ? -1 : 0;
}

/* Pipeline drained: every slot as its state says. */
static void check_all(struct cl *c)
{
	char why[240];
	int k, s;

	for (k = 0; k < NKIND; k++) {
		for (s = 0; s < NSLOT; s++) {
			const uint64_t *p = slot_addr(c, k, s);

			if (c->st[k][s] == S_KNOWN &&
			    check_slot(p, c->gen_of[k][s], k, s, why, sizeof(why))) {
				cl_fail(c, "drained: %s", why);
				return;
			}
			if (c->st[k][s] == S_ZERO && !is_zero((const uint8_t *)p, SLOT)) {
				cl_fail(c,
					"drained: %s slot %d was MADV_DONTNEEDed and not written "
					"since, yet holds %#llx",
					kind_name[k], s, (unsigned long long)p[0]);
				return;
			}
		}
	}
	c->checks++;
}

static int post(struct cl *c, enum ibv_wr_opcode op, int k, int s, void *local, uint32_t lkey)
{
	uint64_t gen = ++c->next_gen;
	uint64_t id = gen << 16 | (op == IBV_WR_RDMA_READ) << 8 | s << 4 | k;
	int ret;

	if (op == IBV_WR_RDMA_WRITE)
		fill_slot(local, gen, k, s);
	ret = t_post_wr(c->pair.a.qp, id, op, local, SLOT, lkey, (uintptr_t)slot_addr(c, k, s),
			c->mr[k]->rkey, 0, 0);
	if (ret) {
		/* A QP in ERR still takes WRs; a gone device does not. */
		if (device_gone_within(c, 2000))
			return 1;
		cl_fail(c, "ibv_post_send: %s", strerror(ret));
		return -1;
	}
	c->inflight_gen[k][s] = gen;
	c->inflight++;
	c->posted++;
	if (op == IBV_WR_RDMA_WRITE)
		c->writes++;
	else
		c->reads++;
	return 0;
}

/* After the drain: READ back a known slot, sometimes DONTNEED the ODP regions. */
static int drained_extras(struct cl *c)
{
	int k = rand_r(&c->seed) % NKIND, s = rand_r(&c->seed) % NSLOT, ret;

	if (c->st[k][s] == S_KNOWN && !c->pair_err) {
		/* The READ's generation is that of the slot, not a new one. */
		uint64_t id = c->gen_of[k][s] << 16 | 1 << 8 | s << 4 | k;

		memset(c->rd, 0xee, SLOT);
		ret = t_post_wr(c->pair.a.qp, id, IBV_WR_RDMA_READ, c->rd, SLOT, c->rd_mr->lkey,
				(uintptr_t)slot_addr(c, k, s), c->mr[k]->rkey, 0, 0);
		if (ret) {
			if (device_gone_within(c, 2000))
				return 1;
			cl_fail(c, "ibv_post_send (READ): %s", strerror(ret));
			return -1;
		}
		c->inflight_gen[k][s] = c->gen_of[k][s];
		c->inflight++;
		c->posted++;
		c->reads++;
		ret = reap(c, 0);
		if (ret)
			return ret;
	}
	if (rand_r(&c->seed) % 8 == 0) {
		for (k = 1; k < NKIND; k++) {
			if (madvise(c->region[k], (size_t)NSLOT * SLOT, MADV_DONTNEED)) {
				cl_fail(c, "madvise: %s", strerror(errno));
				return -1;
			}
			for (s = 0; s < NSLOT; s++)
				c->st[k][s] = S_ZERO;
		}
		c->dontneeds++;
	}
	return 0;
}

/* One round: fill the pipeline, reap, and every 32 WRITEs drain and check. */
static int round_once(struct cl *c)
{
	int k, s, tries, ret;

	/* At most -r WRITEs a second: the soak is about disruptions, not speed. */
	if (c->rate && c->writes >= (t_now_ms() - c->start) * c->rate / 1e3) {
		if (!c->inflight) {
			usleep(2000);
			return 0;
		}
		return reap(c, c->inflight - 1);
	}
	while (c->inflight < DEPTH && !c->pair_err) {
		for (tries = 0; tries < 64; tries++) {
			k = rand_r(&c->seed) % NKIND;
			s = rand_r(&c->seed) % NSLOT;
			if (!c->inflight_gen[k][s])
				break;
		}
		if (c->inflight_gen[k][s])
			break;
		ret = post(c, IBV_WR_RDMA_WRITE, k, s,
			   c->src + (size_t)(c->next_gen % DEPTH) * SLOT, c->src_mr->lkey);
		if (ret)
			return ret;
	}
	ret = reap(c, c->pair_err ? 0 : DEPTH - 1);
	if (ret)
		return ret;
	if (c->pair_err) {
		/* Everything flushed: a new pair. */
		ret = reap(c, 0);
		if (ret)
			return ret;
		pair_close(c);
		return 0;
	}
	if (c->writes - c->writes_at_check >= 32 || stop_flag) {
		c->writes_at_check = c->writes;
		ret = reap(c, 0);
		if (ret)
			return ret;
		if (c->pair_err) {
			pair_close(c);
			return 0;
		}
		check_all(c);
		return drained_extras(c);
	}
	return 0;
}

static int traffic_main(int argc, char **argv)
{
	struct cl *c = calloc(1, sizeof(*c));
	size_t rlen = (size_t)NSLOT * SLOT;
	double end, gone_since = 0;
	int opt, k, ret;

	if (!c)
		return T_EXIT_FAIL;
	c->seed = (unsigned int)getpid();
	while ((opt = getopt(argc, argv, "t:e:s:d:D:r:")) != -1) {
		switch (opt) {
		case 't':
			c->secs = atof(optarg);
			break;
		case 'r':
			c->rate = atof(optarg);
			break;
		case 'e':
			c->epoch_file = optarg;
			break;
		case 's':
			c->seed = (unsigned int)strtoul(optarg, NULL, 0);
			break;
		case 'd':
			c->dname[0] = optarg;
			break;
		case 'D':
			c->dname[1] = optarg;
			break;
		default:
			usage(stderr);
			return T_EXIT_USAGE;
		}
	}
	if (optind != argc || !c->dname[0] || c->secs < 0 || c->rate < 0) {
		usage(stderr);
		return T_EXIT_USAGE;
	}
	if (c->dname[1] && !strcmp(c->dname[0], c->dname[1]))
		c->dname[1] = NULL;
	signal(SIGTERM, on_stop);
	signal(SIGINT, on_stop);
	/* Generations unique per client run: the seed in the top bits. */
	c->next_gen = (uint64_t)(c->seed & 0xffff) << 32;
	c->src = t_map((size_t)DEPTH * SLOT);
	c->rd = t_map(SLOT);
	for (k = 0; k < NKIND; k++)
		c->region[k] = t_map(rlen);
	if (!c->src || !c->rd || !c->region[0] || !c->region[1] || !c->region[2])
		return T_EXIT_FAIL;
	memset(c->region[0], 0, rlen); /* populated before pinning */
	for (k = 0; k < NKIND; k++)
		for (ret = 0; ret < NSLOT; ret++)
			c->st[k][ret] = S_ZERO;
	c->start = t_now_ms();
	end = c->secs ? c->start + c->secs * 1e3 : 0;
	while (!stop_flag && !c->failed && (!end || t_now_ms() < end)) {
		if (!c->up) {
			if (session_open(c)) {
				if (!c->epoch_file) {
					cl_fail(c, "cannot open %s%s%s", c->dname[0],
						c->dname[1] ? " and " : "",
						c->dname[1] ? c->dname[1] : "");
					break;
				}
				if (!gone_since)
					gone_since = t_now_ms();
				usleep(100000);
				continue;
			}
			gone_since = 0;
		}
		if (!c->paired && pair_open(c)) {
			/* GIDs come and go with the netdev: not fatal while disrupted. */
			if (device_gone(c) || pair_disrupted(c)) {
				session_close(c);
				continue;
			}
			cl_fail(c, "creating an RC pair: %s", strerror(errno));
			break;
		}
		ret = round_once(c);
		if (ret == 1) {
			session_close(c);
			continue;
		}
		if (ret < 0)
			break;
	}
	/* The end: drain what is outstanding and check once more. */
	if (c->up && c->paired && !c->failed) {
		ret = reap(c, 0);
		if (!ret && !c->pair_err)
			check_all(c);
	}
	if (c->up)
		session_close(c);
	if (!c->failed && c->epoch_file == NULL && (c->lost || c->retry_exc))
		cl_fail(c, "errors without disruptions");
	if (!c->failed && c->ok == 0)
		cl_fail(c, "no WR completed successfully");
	if (!c->failed && c->posted != c->ok + c->retry_exc + c->flushed + c->lost)
		cl_fail(c, "%lu WRs posted, %lu accounted for", c->posted,
			c->ok + c->retry_exc + c->flushed + c->lost);
	if (!c->failed)
		t_pass("traffic");
	printf("# %s%s%s: %lu WRs (%lu WRITEs, %lu READs): %lu SUCCESS, %lu RETRY_EXC_ERR, %lu "
	       "WR_FLUSH_ERR, %lu lost with a device; %lu drained checks, %lu DONTNEEDs, %lu "
	       "sessions, %lu pairs (%lu ended by a disruption)\n",
	       c->dname[0], c->dname[1] ? " -> " : " loopback", c->dname[1] ? c->dname[1] : "",
	       c->posted, c->writes, c->reads, c->ok, c->retry_exc, c->flushed, c->lost, c->checks,
	       c->dontneeds, c->sessions, c->pairs, c->disrupted_pairs);
	return t_summary();
}

/* ---- oom -------------------------------------------------------------------- */

static int oom_main(int argc, char **argv)
{
	const size_t chunk = 16ul << 20, piece = 64ul << 10;
	struct t_side_opts o = {0};
	struct t_pair p = {0};
	struct t_dev dev;
	struct ibv_mr *imr, *smr;
	unsigned long mib = 0, n = 0;
	uint8_t *src, *c;
	double t0;
	FILE *f;
	int opt, ret;
	const char *dname = NULL;

	while ((opt = getopt(argc, argv, "d:")) != -1) {
		if (opt != 'd') {
			usage(stderr);
			return T_EXIT_USAGE;
		}
		dname = optarg;
	}
	if (!dname || optind != argc) {
		usage(stderr);
		return T_EXIT_USAGE;
	}
	f = fopen("/proc/self/oom_score_adj", "w");
	if (!f || fprintf(f, "1000\n") < 0 || fclose(f)) {
		perror("soak: oom_score_adj");
		return T_EXIT_FAIL;
	}
	if (t_open_dev(&dev, dname, 0)) {
		fprintf(stderr, "soak: cannot open %s\n", dname);
		return T_EXIT_FAIL;
	}
	o.pd = ibv_alloc_pd(dev.ctx);
	src = t_map(piece);
	if (!o.pd || !src)
		return reg_fail("ibv_alloc_pd/mmap");
	memset(src, 0x0d, piece);
	imr = ibv_reg_mr(o.pd, NULL, SIZE_MAX, ODP_RW);
	smr = ibv_reg_mr(o.pd, src, piece, IBV_ACCESS_LOCAL_WRITE);
	if (!imr || !smr)
		return reg_fail("ibv_reg_mr");
	if (t_pair_loop(&p, &dev, &o, IBV_MTU_1024, 7))
		return reg_fail("RC pair");
	t0 = t_now_ms();
	printf("# oom: implicit MR in use, taking memory\n");
	for (;;) {
		c = mmap(NULL, chunk, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (c == MAP_FAILED) {
			usleep(10000);
			continue;
		}
		memset(c, (int)(n & 0xff), chunk);
		/* 64 KiB of the chunk written by the device through the implicit MR. */
		memset(src, (int)(n * 7 + 1), piece);
		ret = t_xfer(&p.a, IBV_WR_RDMA_WRITE, src, piece, smr->lkey,
			     (uintptr_t)c + ((n * piece) % (chunk - piece)), imr->rkey, 0, 0);
		if (ret != IBV_WC_SUCCESS ||
		    memcmp(c + ((n * piece) % (chunk - piece)), src, piece)) {
			fprintf(stderr, "soak: oom: WRITE into chunk %lu: %d, or data differs\n", n,
				ret);
			return T_EXIT_FAIL;
		}
		n++;
		mib += chunk >> 20;
		if (mib % 32 == 0)
			printf("# oom: %lu MiB after %.1f s\n", mib, (t_now_ms() - t0) / 1e3);
	}
}

int main(int argc, char **argv)
{
	page_size = sysconf(_SC_PAGESIZE);
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (argc > 1 && !strcmp(argv[1], "--help")) {
		usage(stdout);
		return 0;
	}
	if (argc < 2) {
		usage(stderr);
		return T_EXIT_USAGE;
	}
	if (!strcmp(argv[1], "objects"))
		return objects_main(argc - 1, argv + 1);
	if (!strcmp(argv[1], "traffic"))
		return traffic_main(argc - 1, argv + 1);
	if (!strcmp(argv[1], "oom"))
		return oom_main(argc - 1, argv + 1);
	usage(stderr);
	return T_EXIT_USAGE;
}
