// SPDX-License-Identifier: GPL-2.0
/*
 * libodp_test - libodp against a real device (softodp in the test VM).
 *
 * Usage: libodp_test [-d DEV] [-f FILTER] [--no-odp | --explicit-only] [--help]
 *        libodp_test -d DEV --workload PAGES
 *
 * Tests (PASS/FAIL lines, "N passed, N failed"):
 *  probe          caps from ibv_query_device_ex and the kernel: explicit and
 *                 implicit ODP, RC ops, the raw caps, driver id, the prefetch
 *                 paths agree with what ibv_advise_mr() really does; bad args
 *  probe_hugetlb  ODP_PROBE_HUGETLB registers an ODP MR on a huge page
 *  fallback       implicit -> explicit -> pinned forced by the mode flags and
 *                 by a transport without ODP (XRC; UD as the device says),
 *                 each mode checked in the kernel's MR list and with RDMA
 *                 WRITE/READ through its keys
 *  implicit_cache one implicit MR per PD, shared and reference counted, a
 *                 new one when more rights are asked for, gone with the last
 *  prefetch       the ioctl path always, ibv_advise_mr when the provider has
 *                 it (EOPNOTSUPP otherwise), the default path, sync and
 *                 async, explicit and implicit, exact page_prefetch counts,
 *                 errors (range, flags, hole -> EFAULT), pinned is a no-op
 *  stats          a known workload: N pages written by RDMA -> page_faults
 *                 and device totals grow by exactly N, MADV_DONTNEED and
 *                 munmap counted by cause; the numbers equal `rdma statistic
 *                 show mr`; odp_stats_mrs() lists the MR with its owner
 * With --no-odp (a device without ODP, e.g. stock rdma_rxe): probe reports
 * no ODP, odp_reg() falls back to pinned MRs that carry data, prefetch of
 * them is a no-op, and there are no per-MR ODP counters.
 * With --explicit-only (a device with ODP MRs of a range but no implicit
 * MR, e.g. stock rdma_rxe of 7.x): libodp registers explicit ODP MRs that
 * carry data, refuses an implicit-only registration, and prefetches through
 * the path the probe found.
 *
 * --workload PAGES (for the odpstat checks of tests/vm/suites/libodp):
 * registers an explicit ODP MR of 2 x PAGES pages, RDMA-writes the first
 * PAGES pages (PAGES faults), prints "ready PID", waits for a line on stdin,
 * prefetches the other PAGES pages for writing and writes them (no faults),
 * prints "done", and exits at the end of stdin.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
#include <rdma/ib_user_ioctl_verbs.h>
#include <odp/odp.h>
#include "common.h"

#define NPAGES 64
#define ACCESS                                                                                     \
	(IBV_ACCESS_LOCAL_WRITE | IBV_ACCESS_REMOTE_WRITE | IBV_ACCESS_REMOTE_READ |               \
	 IBV_ACCESS_REMOTE_ATOMIC)

static struct t_dev devs[2];
static long page;

#define CHECK(name, cond, ...)                                                                     \
	do {                                                                                       \
		if (!(cond)) {                                                                     \
			t_result(0, name, __VA_ARGS__);                                            \
			goto out;                                                                  \
		}                                                                                  \
	} while (0)

static void *map_pages(size_t n)
{
	void *p = mmap(NULL, n * page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	return p == MAP_FAILED ? NULL : p;
}

/* A loopback pair with pinned 1 MiB buffers; the ODP handles go on side b's PD. */
static int pair(struct t_pair *p)
{
	struct t_side_opts o = {.len = 1 << 20};

	return t_pair_init(p, devs, &o, &o, 0, 7);
}

/* One signaled work request of @s with a local SGE of @lkey. */
static int post(struct t_side *s, enum ibv_wr_opcode op, void *laddr, uint32_t len, uint32_t lkey,
		uint64_t raddr, uint32_t rkey)
{
	struct ibv_sge sge = {.addr = (uintptr_t)laddr, .length = len, .lkey = lkey};
	struct ibv_send_wr wr = {
		.wr_id = 1,
		.sg_list = &sge,
		.num_sge = 1,
		.opcode = op,
		.send_flags = IBV_SEND_SIGNALED,
		.wr.rdma = {.remote_addr = raddr, .rkey = rkey},
	};
	struct ibv_send_wr *bad;
	struct ibv_wc wc;

	if (ibv_post_send(s->qp, &wr, &bad))
		return -1;
	if (t_poll_one(s->cq, &wc, T_POLL_MS))
		return -1;
	return wc.status == IBV_WC_SUCCESS ? 0 : -(int)wc.status - 1;
}

/*
 * Data through handle @h (on side b): a writes a pattern into it by its
 * rkey, b reads a's buffer into it by its lkey, in messages of @chunk bytes
 * (0: one message).  0 or a reason.
 */
static const char *data_through_by(struct t_pair *p, const struct odp_mr *h, size_t len,
				   size_t chunk)
{
	uint8_t *dst = h->addr;
	size_t off, n;

	if (!chunk)
		chunk = len;
	t_fill(p->a.buf, len, 7);
	for (off = 0; off < len; off += n) {
		n = len - off < chunk ? len - off : chunk;
		if (post(&p->a, IBV_WR_RDMA_WRITE, p->a.buf + off, n, p->a.mr->lkey,
			 (uintptr_t)dst + off, h->rkey))
			return "RDMA WRITE through the rkey failed";
	}
	if (t_diff(p->a.buf, dst, len) >= 0)
		return "RDMA WRITE through the rkey left wrong data";
	t_fill(p->a.buf, len, 11);
	for (off = 0; off < len; off += n) {
		n = len - off < chunk ? len - off : chunk;
		if (post(&p->b, IBV_WR_RDMA_READ, dst + off, n, h->lkey, (uintptr_t)p->a.buf + off,
			 p->a.mr->rkey))
			return "RDMA READ into the lkey failed";
	}
	if (t_diff(p->a.buf, dst, len) >= 0)
		return "RDMA READ into the lkey left wrong data";
	return NULL;
}

static const char *data_through(struct t_pair *p, const struct odp_mr *h, size_t len)
{
	return data_through_by(p, h, len, 0);
}

/* The kernel's ODP MRs of this process with length @len (UINT64_MAX: implicit). */
static int kernel_odp_mrs(uint64_t len, uint32_t lkey, int *with_key)
{
	struct odp_mr_stats *l;
	size_t n, i;
	int hits = 0;

	*with_key = 0;
	if (odp_stats_mrs(devs[0].name, &l, &n))
		return -1;
	for (i = 0; i < n; i++) {
		if (l[i].pid != (uint32_t)getpid() || l[i].length != len)
			continue;
		hits++;
		if (l[i].lkey == lkey)
			(*with_key)++;
	}
	odp_stats_free(l);
	return hits;
}

static uint64_t cnt(const struct odp_counters *c, enum odp_counter i)
{
	return (c->valid & (1ULL << i)) ? c->v[i] : ~0ULL;
}

static int dev_stats(struct odp_counters *c)
{
	/* ib_core caches hw counters for 10 ms. */
	usleep(20000);
	return odp_stats_device(devs[0].name, c);
}

/* ---- probe ------------------------------------------------------------------ */

static void test_probe(void)
{
	const char *name = "probe";
	struct ibv_device_attr_ex ax;
	struct odp_caps caps;
	struct ibv_pd *pd = NULL;
	struct ibv_mr *mr = NULL;
	struct ibv_sge sge;
	void *buf = NULL;
	int err, rc;

	err = odp_probe(devs[0].ctx, 0, &caps);
	CHECK(name, !err, "odp_probe: %s", strerror(err));
	CHECK(name, !strcmp(caps.dev_name, devs[0].name), "dev_name %s", caps.dev_name);
	CHECK(name,
	      (caps.flags & (ODP_CAP_EXPLICIT | ODP_CAP_IMPLICIT)) ==
		      (ODP_CAP_EXPLICIT | ODP_CAP_IMPLICIT),
	      "flags 0x%x: no explicit+implicit ODP", caps.flags);
	CHECK(name,
	      (caps.ops[ODP_RC] &
	       (IBV_ODP_SUPPORT_SEND | IBV_ODP_SUPPORT_RECV | IBV_ODP_SUPPORT_WRITE |
		IBV_ODP_SUPPORT_READ | IBV_ODP_SUPPORT_ATOMIC)) ==
		      (IBV_ODP_SUPPORT_SEND | IBV_ODP_SUPPORT_RECV | IBV_ODP_SUPPORT_WRITE |
		       IBV_ODP_SUPPORT_READ | IBV_ODP_SUPPORT_ATOMIC),
	      "RC ODP ops 0x%x", caps.ops[ODP_RC]);
	memset(&ax, 0, sizeof(ax));
	CHECK(name, !ibv_query_device_ex(devs[0].ctx, NULL, &ax), "query_device_ex");
	CHECK(name,
	      caps.ops[ODP_RC] == ax.odp_caps.per_transport_caps.rc_odp_caps &&
		      caps.ops[ODP_UC] == ax.odp_caps.per_transport_caps.uc_odp_caps &&
		      caps.ops[ODP_UD] == ax.odp_caps.per_transport_caps.ud_odp_caps &&
		      caps.ops[ODP_XRC] == ax.xrc_odp_caps &&
		      caps.general_caps == ax.odp_caps.general_caps,
	      "caps differ from ibv_query_device_ex");
	CHECK(name, caps.driver_id == RDMA_DRIVER_RXE, "driver id %u, softodp has RXE's (%u)",
	      caps.driver_id, RDMA_DRIVER_RXE);
	CHECK(name, caps.flags & ODP_CAP_PREFETCH_IOCTL, "no ADVISE_MR method found in the kernel");
	CHECK(name, caps.thp != ODP_THP_UNKNOWN, "THP mode unknown");

	/* ODP_CAP_PREFETCH_VERBS must say what ibv_advise_mr() really does. */
	pd = ibv_alloc_pd(devs[0].ctx);
	buf = map_pages(4);
	CHECK(name, pd && buf, "alloc");
	memset(buf, 1, 4 * page);
	mr = ibv_reg_mr(pd, buf, 4 * page, IBV_ACCESS_LOCAL_WRITE | IBV_ACCESS_ON_DEMAND);
	CHECK(name, mr, "ODP reg_mr: %s", strerror(errno));
	sge = (struct ibv_sge){.addr = (uintptr_t)buf, .length = 4 * page, .lkey = mr->lkey};
	rc = ibv_advise_mr(pd, IBV_ADVISE_MR_ADVICE_PREFETCH, IBV_ADVISE_MR_FLAG_FLUSH, &sge, 1);
	if (caps.flags & ODP_CAP_PREFETCH_VERBS)
		CHECK(name, rc == 0, "probe says ibv_advise_mr works, it returned %s",
		      strerror(rc));
	else
		CHECK(name, rc == EOPNOTSUPP, "probe says no ibv_advise_mr, it returned %d", rc);
	printf("# %s: prefetch through %s; huge pages %llu KiB x %llu free\n", devs[0].name,
	       caps.flags & ODP_CAP_PREFETCH_VERBS ? "ibv_advise_mr and the ioctl" : "the ioctl",
	       (unsigned long long)caps.huge_page_size / 1024,
	       (unsigned long long)caps.huge_pages_free);

	CHECK(name, odp_probe(NULL, 0, &caps) == EINVAL && errno == EINVAL, "NULL ctx accepted");
	CHECK(name, odp_probe(devs[0].ctx, 0x100, &caps) == EINVAL, "unknown flag accepted");
	t_pass(name);
out:
	if (mr)
		ibv_dereg_mr(mr);
	if (pd)
		ibv_dealloc_pd(pd);
	if (buf)
		munmap(buf, 4 * page);
}

static void test_probe_hugetlb(void)
{
	const char *name = "probe_hugetlb";
	struct odp_caps caps;
	int err;

	err = odp_probe(devs[0].ctx, ODP_PROBE_HUGETLB, &caps);
	CHECK(name, !err, "odp_probe: %s", strerror(err));
	CHECK(name, caps.huge_page_size && caps.huge_pages_free,
	      "no free huge pages (size %llu): the suite reserves some",
	      (unsigned long long)caps.huge_page_size);
	CHECK(name, caps.flags & ODP_CAP_HUGETLB, "ODP MR on a huge page refused");
	t_pass(name);
out:
	return;
}

/* ---- registration ------------------------------------------------------------- */

static void test_fallback(void)
{
	static const struct {
		const char *what;
		unsigned int flags;
		enum odp_mode mode;
		int err;
	} cases[] = {
		{"default", 0, ODP_MODE_IMPLICIT, 0},
		{"no_pinned", ODP_REG_NO_PINNED, ODP_MODE_IMPLICIT, 0},
		{"no_implicit", ODP_REG_NO_IMPLICIT, ODP_MODE_EXPLICIT, 0},
		{"explicit_only", ODP_REG_NO_IMPLICIT | ODP_REG_NO_PINNED, ODP_MODE_EXPLICIT, 0},
		{"pinned_only", ODP_REG_NO_IMPLICIT | ODP_REG_NO_EXPLICIT, ODP_MODE_PINNED, 0},
		/* XRC: softodp has no XRC, so no XRC ODP either (checked below). */
		{"xrc_has_no_odp", ODP_REG_XRC, ODP_MODE_PINNED, 0},
		{"xrc_odp_only", ODP_REG_XRC | ODP_REG_NO_PINNED, ODP_MODE_NONE, EOPNOTSUPP},
		{"any_transport", ODP_REG_XRC | ODP_REG_ANY_TRANSPORT, ODP_MODE_IMPLICIT, 0},
		/* UD: ODP only if the device reports UD ODP SEND and RECV. */
		{"ud", ODP_REG_UD, ODP_MODE_NONE, 0},
		{"nothing_allowed", ODP_REG_NO_IMPLICIT | ODP_REG_NO_EXPLICIT | ODP_REG_NO_PINNED,
		 ODP_MODE_NONE, EINVAL},
		{"two_transports", ODP_REG_UD | ODP_REG_UC, ODP_MODE_NONE, EINVAL},
	};
	char name[96];
	struct odp_caps caps;
	struct t_pair p;
	unsigned int i;
	size_t len = NPAGES * page;
	uint8_t *buf = NULL;

	if (pair(&p) || odp_probe(devs[0].ctx, 0, &caps)) {
		t_result(0, "fallback", "setup: %s", strerror(errno));
		return;
	}
	if (caps.ops[ODP_XRC]) {
		t_result(0, "fallback", "%s reports XRC ODP caps 0x%x: pick another transport",
			 devs[0].name, caps.ops[ODP_XRC]);
		t_pair_fini(&p);
		return;
	}
	buf = map_pages(NPAGES);
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct odp_mr *h = NULL;
		const char *why;
		int err, hits, keyed;
		uint64_t klen;

		enum odp_mode want = cases[i].mode;

		snprintf(name, sizeof(name), "fallback_%s", cases[i].what);
		if (cases[i].flags == ODP_REG_UD)
			want = (caps.ops[ODP_UD] & (IBV_ODP_SUPPORT_SEND | IBV_ODP_SUPPORT_RECV)) ==
					       (IBV_ODP_SUPPORT_SEND | IBV_ODP_SUPPORT_RECV)
				       ? ODP_MODE_IMPLICIT
				       : ODP_MODE_PINNED;
		err = odp_reg(p.b.pd, buf, len, ACCESS, cases[i].flags, &h);
		if (cases[i].err) {
			CHECK(name, err == cases[i].err && !h, "expected %s, got %s",
			      strerror(cases[i].err), strerror(err));
			t_pass(name);
			continue;
		}
		CHECK(name, !err && h, "odp_reg: %s", strerror(err));
		CHECK(name, h->mode == want, "mode %s, expected %s", odp_mode_str(h->mode),
		      odp_mode_str(want));
		CHECK(name,
		      h->lkey == h->mr->lkey && h->rkey == h->mr->rkey && h->addr == buf &&
			      h->length == len,
		      "handle fields");
		/* The kernel's view of the MR behind the handle. */
		klen = h->mode == ODP_MODE_IMPLICIT ? UINT64_MAX : len;
		hits = kernel_odp_mrs(klen, h->lkey, &keyed);
		if (h->mode == ODP_MODE_PINNED) {
			struct odp_counters c;

			CHECK(name, hits == 0, "a pinned MR is listed with ODP counters");
			CHECK(name, !odp_stats_mr(h, &c) && c.valid == 0,
			      "pinned MR has ODP counters");
			CHECK(name, !(h->access & IBV_ACCESS_ON_DEMAND), "access 0x%x", h->access);
		} else {
			CHECK(name, hits == 1 && keyed == 1,
			      "kernel lists %d ODP MRs of length 0x%llx (%d with lkey 0x%x)", hits,
			      (unsigned long long)klen, keyed, h->lkey);
			CHECK(name, h->access & IBV_ACCESS_ON_DEMAND, "access 0x%x", h->access);
		}
		why = data_through(&p, h, len);
		CHECK(name, !why, "%s (%s MR)", why, odp_mode_str(h->mode));
		err = odp_dereg(h);
		h = NULL;
		CHECK(name, !err, "odp_dereg: %s", strerror(err));
		if (want != ODP_MODE_PINNED)
			CHECK(name, kernel_odp_mrs(klen, 0, &keyed) == 0, "MR left after dereg");
		t_pass(name);
		continue;
	out:
		if (h)
			odp_dereg(h);
	}
	if (buf)
		munmap(buf, len);
	t_pair_fini(&p);
}

static void test_implicit_cache(void)
{
	const char *name = "implicit_cache";
	struct odp_mr *h1 = NULL, *h2 = NULL, *h3 = NULL, *h4 = NULL;
	struct ibv_pd *pd2 = NULL;
	struct t_pair p;
	uint8_t *b1 = NULL, *b2 = NULL;
	const char *why;
	int keyed, err;

	if (pair(&p)) {
		t_result(0, name, "pair: %s", strerror(errno));
		return;
	}
	b1 = map_pages(NPAGES);
	b2 = map_pages(NPAGES);
	CHECK(name, b1 && b2, "mmap");
	/* Local rights only, then more rights: a second, wider implicit MR. */
	err = odp_reg(p.b.pd, b1, NPAGES * page, IBV_ACCESS_LOCAL_WRITE, 0, &h1);
	CHECK(name, !err && h1->mode == ODP_MODE_IMPLICIT, "h1: %s", strerror(err));
	err = odp_reg(p.b.pd, b2, NPAGES * page, IBV_ACCESS_LOCAL_WRITE, 0, &h2);
	CHECK(name, !err && h2->mr == h1->mr, "h2 does not share h1's implicit MR");
	CHECK(name, kernel_odp_mrs(UINT64_MAX, h1->lkey, &keyed) == 1, "not one implicit MR");
	err = odp_reg(p.b.pd, b2, NPAGES * page, ACCESS, 0, &h3);
	CHECK(name, !err && h3->mode == ODP_MODE_IMPLICIT && h3->mr != h1->mr,
	      "h3 with remote rights: %s, same MR %d", strerror(err), h3 && h3->mr == h1->mr);
	CHECK(name,
	      (h3->access & (ACCESS | IBV_ACCESS_ON_DEMAND)) == (ACCESS | IBV_ACCESS_ON_DEMAND),
	      "h3 access 0x%x", h3->access);
	CHECK(name, kernel_odp_mrs(UINT64_MAX, 0, &keyed) == 2, "expected 2 implicit MRs");
	why = data_through(&p, h3, NPAGES * page);
	CHECK(name, !why, "h3: %s", why);
	/* The old MR lives while h1 and h2 do. */
	CHECK(name, !odp_dereg(h1), "dereg h1");
	h1 = NULL;
	CHECK(name, kernel_odp_mrs(UINT64_MAX, 0, &keyed) == 2, "old MR gone with h2 alive");
	CHECK(name, !odp_dereg(h2), "dereg h2");
	h2 = NULL;
	CHECK(name, kernel_odp_mrs(UINT64_MAX, h3->lkey, &keyed) == 1 && keyed == 1,
	      "old MR not gone with its last handle");
	/* Fewer rights reuse the current one. */
	err = odp_reg(p.b.pd, b1, page, IBV_ACCESS_LOCAL_WRITE, 0, &h1);
	CHECK(name, !err && h1->mr == h3->mr, "narrower rights did not reuse the current MR");
	/* Another PD has its own. */
	pd2 = ibv_alloc_pd(devs[1].ctx);
	CHECK(name, pd2, "alloc_pd");
	err = odp_reg(pd2, b1, page, IBV_ACCESS_LOCAL_WRITE, 0, &h4);
	CHECK(name, !err && h4->mode == ODP_MODE_IMPLICIT && h4->mr != h3->mr, "second PD: %s",
	      strerror(err));
	CHECK(name, kernel_odp_mrs(UINT64_MAX, 0, &keyed) == 2, "expected 2 implicit MRs (2 PDs)");
	CHECK(name, !odp_dereg(h4) && !ibv_dealloc_pd(pd2), "dereg h4, dealloc its PD");
	h4 = NULL;
	pd2 = NULL;
	CHECK(name, !odp_dereg(h1) && !odp_dereg(h3), "dereg");
	h1 = h3 = NULL;
	CHECK(name, kernel_odp_mrs(UINT64_MAX, 0, &keyed) == 0, "implicit MR left behind");
	t_pass(name);
out:
	if (h4)
		odp_dereg(h4);
	if (pd2)
		ibv_dealloc_pd(pd2);
	if (h1)
		odp_dereg(h1);
	if (h2)
		odp_dereg(h2);
	if (h3)
		odp_dereg(h3);
	if (b1)
		munmap(b1, NPAGES * page);
	if (b2)
		munmap(b2, NPAGES * page);
	t_pair_fini(&p);
}

/* ---- prefetch ----------------------------------------------------------------- */

/* page_prefetch of @h's MR, ~0 if unreadable. */
static uint64_t mr_prefetched(const struct odp_mr *h)
{
	struct odp_counters c;

	if (odp_stats_mr(h, &c))
		return ~0ULL;
	return cnt(&c, ODP_CNT_PAGE_PREFETCH);
}

/* Wait up to 5 s for @h's page_prefetch to reach @want. */
static uint64_t wait_prefetched(const struct odp_mr *h, uint64_t want)
{
	uint64_t v = 0;
	int i;

	for (i = 0; i < 250; i++) {
		v = mr_prefetched(h);
		if (v == want)
			break;
		usleep(20000);
	}
	return v;
}

static void test_prefetch(void)
{
	static const struct {
		const char *what;
		unsigned int path_flag;
		enum odp_path path;
	} paths[] = {
		{"ioctl", ODP_PREFETCH_IOCTL_ONLY, ODP_PATH_IOCTL},
		{"verbs", ODP_PREFETCH_VERBS_ONLY, ODP_PATH_VERBS},
		{"default", 0, ODP_PATH_NONE},
	};
	struct odp_counters d0, d1;
	struct odp_caps caps;
	struct ibv_pd *pd;
	struct odp_mr *h = NULL, *hi = NULL, *hp = NULL;
	char name[96];
	uint8_t *buf = NULL;
	size_t len = NPAGES * page;
	uint64_t total = 0, before, v;
	enum odp_path used;
	unsigned int i, sync;
	int err;

	pd = ibv_alloc_pd(devs[0].ctx);
	buf = map_pages(NPAGES);
	if (!pd || !buf || odp_probe(devs[0].ctx, 0, &caps) || dev_stats(&d0)) {
		t_result(0, "prefetch", "setup: %s", strerror(errno));
		goto fini;
	}
	memset(buf, 3, len);
	for (i = 0; i < sizeof(paths) / sizeof(paths[0]); i++) {
		for (sync = 0; sync < 2; sync++) {
			enum odp_path want = paths[i].path;

			snprintf(name, sizeof(name), "prefetch_%s_%s", paths[i].what,
				 sync ? "sync" : "async");
			if (want == ODP_PATH_NONE)
				want = caps.flags & ODP_CAP_PREFETCH_VERBS ? ODP_PATH_VERBS
									   : ODP_PATH_IOCTL;
			err = odp_reg(pd, buf, len, IBV_ACCESS_LOCAL_WRITE, ODP_REG_NO_IMPLICIT,
				      &h);
			CHECK(name, !err && h->mode == ODP_MODE_EXPLICIT, "reg: %s", strerror(err));
			err = odp_prefetch(h, buf, len,
					   ODP_PREFETCH_WRITE | (sync ? ODP_PREFETCH_SYNC : 0) |
						   paths[i].path_flag,
					   &used);
			if (want == ODP_PATH_VERBS && !(caps.flags & ODP_CAP_PREFETCH_VERBS)) {
				/* The stock librxe: no advise_mr op. */
				CHECK(name, err == EOPNOTSUPP && used == ODP_PATH_NONE,
				      "without the op: %s, path %d", strerror(err), used);
				printf("# %s: the provider has no ibv_advise_mr: EOPNOTSUPP\n",
				       name);
			} else {
				CHECK(name, !err, "odp_prefetch: %s", strerror(err));
				CHECK(name, used == want, "path %d, expected %d", used, want);
				v = sync ? mr_prefetched(h) : wait_prefetched(h, NPAGES);
				CHECK(name, v == NPAGES, "page_prefetch %llu, expected %d",
				      (unsigned long long)v, NPAGES);
				total += NPAGES;
			}
			CHECK(name, !odp_dereg(h), "dereg");
			h = NULL;
			t_pass(name);
			continue;
		out:
			if (h)
				odp_dereg(h);
			h = NULL;
		}
	}

	snprintf(name, sizeof(name), "prefetch_implicit");
	err = odp_reg(pd, buf, len, IBV_ACCESS_LOCAL_WRITE, 0, &hi);
	if (err || hi->mode != ODP_MODE_IMPLICIT) {
		t_result(0, name, "reg: %s", strerror(err));
		goto errors;
	}
	before = mr_prefetched(hi);
	err = odp_prefetch(hi, buf + page, 8 * page, ODP_PREFETCH_SYNC | ODP_PREFETCH_IOCTL_ONLY,
			   &used);
	v = mr_prefetched(hi);
	if (err || used != ODP_PATH_IOCTL || v != before + 8)
		t_result(0, name, "%s, path %d, page_prefetch %llu -> %llu", strerror(err), used,
			 (unsigned long long)before, (unsigned long long)v);
	else
		t_pass(name);
	total += 8;

errors:
	snprintf(name, sizeof(name), "prefetch_errors");
	err = odp_reg(pd, buf, len, IBV_ACCESS_LOCAL_WRITE, ODP_REG_NO_IMPLICIT, &h);
	if (err) {
		t_result(0, name, "reg: %s", strerror(err));
		goto pinned;
	}
	if (odp_prefetch(h, buf - page, 2 * page, 0, NULL) != EINVAL ||
	    odp_prefetch(h, buf + len - page, 2 * page, 0, NULL) != EINVAL ||
	    odp_prefetch(h, buf, 0, 0, NULL) != EINVAL ||
	    odp_prefetch(h, buf, page, ODP_PREFETCH_WRITE | ODP_PREFETCH_NO_FAULT, NULL) !=
		    EINVAL ||
	    odp_prefetch(h, buf, page, ODP_PREFETCH_VERBS_ONLY | ODP_PREFETCH_IOCTL_ONLY, NULL) !=
		    EINVAL) {
		t_result(0, name, "a bad range or flag combination was accepted");
	} else {
		/* A hole in the middle: the synchronous prefetch reports EFAULT. */
		munmap(buf + 8 * page, page);
		err = odp_prefetch(h, buf, 16 * page, ODP_PREFETCH_SYNC | ODP_PREFETCH_IOCTL_ONLY,
				   &used);
		if (err != EFAULT)
			t_result(0, name, "prefetch across a hole: %s, expected EFAULT",
				 strerror(err));
		else
			t_pass(name);
		mmap(buf + 8 * page, page, PROT_READ | PROT_WRITE,
		     MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
	}

pinned:
	snprintf(name, sizeof(name), "prefetch_pinned_noop");
	err = odp_reg(pd, buf, len, IBV_ACCESS_LOCAL_WRITE,
		      ODP_REG_NO_IMPLICIT | ODP_REG_NO_EXPLICIT, &hp);
	if (err || hp->mode != ODP_MODE_PINNED)
		t_result(0, name, "reg: %s", strerror(err));
	else if ((err = odp_prefetch(hp, buf, len, ODP_PREFETCH_SYNC, &used)) ||
		 used != ODP_PATH_NONE)
		t_result(0, name, "%s, path %d", strerror(err), used);
	else
		t_pass(name);

	/* The device totals saw every prefetched page. */
	snprintf(name, sizeof(name), "prefetch_device_totals");
	if (dev_stats(&d1))
		t_result(0, name, "odp_stats_device: %s", strerror(errno));
	else if (cnt(&d1, ODP_CNT_PAGE_PREFETCH) - cnt(&d0, ODP_CNT_PAGE_PREFETCH) < total ||
		 cnt(&d1, ODP_CNT_PREFETCHES) <= cnt(&d0, ODP_CNT_PREFETCHES))
		t_result(0, name, "page_prefetch +%llu (expected at least %llu), prefetches +%llu",
			 (unsigned long long)(cnt(&d1, ODP_CNT_PAGE_PREFETCH) -
					      cnt(&d0, ODP_CNT_PAGE_PREFETCH)),
			 (unsigned long long)total,
			 (unsigned long long)(cnt(&d1, ODP_CNT_PREFETCHES) -
					      cnt(&d0, ODP_CNT_PREFETCHES)));
	else
		t_pass(name);
fini:
	if (hp)
		odp_dereg(hp);
	if (hi)
		odp_dereg(hi);
	if (h)
		odp_dereg(h);
	if (buf)
		munmap(buf, NPAGES * page);
	if (pd)
		ibv_dealloc_pd(pd);
}

/* ---- counters ----------------------------------------------------------------- */

/* Counter @what of MR @mrn from `rdma statistic show mr` (the iproute2 view); -1 if absent. */
static long long rdma_tool_counter(uint32_t mrn, const char *what)
{
	char line[2048], key[80], want[64], *p;
	long long v = -1;
	FILE *f;

	f = popen("rdma statistic show mr 2>&1", "r");
	if (!f)
		return -1;
	snprintf(want, sizeof(want), "dev %s mrn %u ", devs[0].name, mrn);
	snprintf(key, sizeof(key), " %s ", what);
	while (fgets(line, sizeof(line), f)) {
		if (strncmp(line, want, strlen(want)))
			continue;
		p = strstr(line, key);
		if (p)
			v = strtoll(p + strlen(key), NULL, 10);
	}
	pclose(f);
	return v;
}

static void test_stats(void)
{
	const char *name = "stats";
	struct odp_counters d0, d1, d2, d3, m1, m2, m3;
	struct odp_mr_stats *l = NULL;
	struct odp_mr *h = NULL;
	struct t_pair p;
	uint8_t *buf;
	size_t len = NPAGES * page, n, i;
	uint32_t mrn = 0;
	int found = 0, err;

	if (pair(&p)) {
		t_result(0, name, "pair: %s", strerror(errno));
		return;
	}
	buf = map_pages(NPAGES); /* never touched: every page is faulted by the device */
	CHECK(name, buf, "mmap");
	err = odp_reg(p.b.pd, buf, len, ACCESS, ODP_REG_NO_IMPLICIT, &h);
	CHECK(name, !err && h->mode == ODP_MODE_EXPLICIT, "reg: %s", strerror(err));
	CHECK(name, !dev_stats(&d0) && d0.source == ODP_SRC_HW_COUNTERS,
	      "device totals not from hw counters (source %d)", d0.source);

	/* N pages written by the peer: N pages faulted. */
	t_fill(p.a.buf, len, 5);
	CHECK(name,
	      !post(&p.a, IBV_WR_RDMA_WRITE, p.a.buf, len, p.a.mr->lkey, (uintptr_t)buf, h->rkey),
	      "RDMA WRITE");
	CHECK(name, t_diff(p.a.buf, buf, len) < 0, "data differs");
	CHECK(name, !odp_stats_mr(h, &m1), "odp_stats_mr: %s", strerror(errno));
	CHECK(name, !dev_stats(&d1), "odp_stats_device");
	CHECK(name, cnt(&m1, ODP_CNT_PAGE_FAULTS) == NPAGES, "MR page_faults %llu, expected %d",
	      (unsigned long long)cnt(&m1, ODP_CNT_PAGE_FAULTS), NPAGES);
	CHECK(name,
	      cnt(&m1, ODP_CNT_PAGE_FAULTS_HANDLED) >= 1 &&
		      cnt(&m1, ODP_CNT_PAGE_FAULTS_HANDLED) <= NPAGES,
	      "MR page_faults_handled %llu",
	      (unsigned long long)cnt(&m1, ODP_CNT_PAGE_FAULTS_HANDLED));
	CHECK(name, cnt(&m1, ODP_CNT_KMEM_BYTES) > 0 && cnt(&m1, ODP_CNT_KMEM_BYTES) != ~0ULL,
	      "no odp_kmem_bytes driver attribute");
	CHECK(name, cnt(&d1, ODP_CNT_PAGE_FAULTS) - cnt(&d0, ODP_CNT_PAGE_FAULTS) == NPAGES,
	      "device page_faults +%llu, expected %d",
	      (unsigned long long)(cnt(&d1, ODP_CNT_PAGE_FAULTS) - cnt(&d0, ODP_CNT_PAGE_FAULTS)),
	      NPAGES);
	CHECK(name, cnt(&d1, ODP_CNT_PAGES_MAPPED) - cnt(&d0, ODP_CNT_PAGES_MAPPED) == NPAGES,
	      "device pages_mapped +%lld, expected %d",
	      (long long)(cnt(&d1, ODP_CNT_PAGES_MAPPED) - cnt(&d0, ODP_CNT_PAGES_MAPPED)), NPAGES);

	/* The MR in the device's list, and the same numbers as the rdma tool. */
	CHECK(name, !odp_stats_mrs(devs[0].name, &l, &n), "odp_stats_mrs: %s", strerror(errno));
	for (i = 0; i < n; i++) {
		if (l[i].lkey != h->lkey)
			continue;
		found++;
		mrn = l[i].mrn;
		CHECK(name,
		      l[i].pid == (uint32_t)getpid() && !strcmp(l[i].comm, "libodp_test") &&
			      l[i].length == len && !l[i].implicit,
		      "listed as pid %u comm %s length %llu implicit %d", l[i].pid, l[i].comm,
		      (unsigned long long)l[i].length, l[i].implicit);
		CHECK(name, l[i].counters.v[ODP_CNT_PAGE_FAULTS] == NPAGES, "list page_faults");
	}
	CHECK(name, found == 1, "MR listed %d times", found);
	CHECK(name,
	      rdma_tool_counter(mrn, "page_faults") == NPAGES &&
		      rdma_tool_counter(mrn, "page_faults_handled") ==
			      (long long)cnt(&m1, ODP_CNT_PAGE_FAULTS_HANDLED),
	      "rdma statistic show mr says page_faults %lld page_faults_handled %lld",
	      rdma_tool_counter(mrn, "page_faults"), rdma_tool_counter(mrn, "page_faults_handled"));

	/* MADV_DONTNEED drops the N pages: one "clear" cause, N pages invalidated. */
	CHECK(name, !madvise(buf, len, MADV_DONTNEED), "madvise");
	CHECK(name, !odp_stats_mr(h, &m2) && !dev_stats(&d2), "stats after DONTNEED");
	CHECK(name,
	      cnt(&m2, ODP_CNT_PAGE_INVALIDATIONS) - cnt(&m1, ODP_CNT_PAGE_INVALIDATIONS) == NPAGES,
	      "MR page_invalidations +%llu, expected %d",
	      (unsigned long long)(cnt(&m2, ODP_CNT_PAGE_INVALIDATIONS) -
				   cnt(&m1, ODP_CNT_PAGE_INVALIDATIONS)),
	      NPAGES);
	CHECK(name,
	      cnt(&m2, ODP_CNT_PAGE_INVALIDATIONS_HANDLED) >
		      cnt(&m1, ODP_CNT_PAGE_INVALIDATIONS_HANDLED),
	      "MR page_invalidations_handled did not grow");
	CHECK(name, cnt(&d2, ODP_CNT_INV_CLEAR) > cnt(&d1, ODP_CNT_INV_CLEAR),
	      "device inv_clear did not grow");
	CHECK(name,
	      cnt(&d2, ODP_CNT_PAGE_INVALIDATIONS) - cnt(&d1, ODP_CNT_PAGE_INVALIDATIONS) == NPAGES,
	      "device page_invalidations +%llu, expected %d",
	      (unsigned long long)(cnt(&d2, ODP_CNT_PAGE_INVALIDATIONS) -
				   cnt(&d1, ODP_CNT_PAGE_INVALIDATIONS)),
	      NPAGES);
	CHECK(name, cnt(&d1, ODP_CNT_PAGES_MAPPED) - cnt(&d2, ODP_CNT_PAGES_MAPPED) == NPAGES,
	      "device pages_mapped -%lld, expected %d",
	      (long long)(cnt(&d1, ODP_CNT_PAGES_MAPPED) - cnt(&d2, ODP_CNT_PAGES_MAPPED)), NPAGES);

	/* Written again (N more faults), then unmapped: an "unmap" cause. */
	CHECK(name,
	      !post(&p.a, IBV_WR_RDMA_WRITE, p.a.buf, len, p.a.mr->lkey, (uintptr_t)buf, h->rkey),
	      "RDMA WRITE 2");
	CHECK(name, !odp_stats_mr(h, &m3), "stats");
	CHECK(name, cnt(&m3, ODP_CNT_PAGE_FAULTS) == 2 * NPAGES, "MR page_faults %llu, expected %d",
	      (unsigned long long)cnt(&m3, ODP_CNT_PAGE_FAULTS), 2 * NPAGES);
	CHECK(name, !munmap(buf, len), "munmap");
	buf = NULL;
	CHECK(name, !dev_stats(&d3), "stats");
	CHECK(name, cnt(&d3, ODP_CNT_INV_UNMAP) > cnt(&d2, ODP_CNT_INV_UNMAP),
	      "device inv_unmap did not grow");
	CHECK(name, cnt(&d3, ODP_CNT_PAGE_FAULTS) - cnt(&d0, ODP_CNT_PAGE_FAULTS) == 2 * NPAGES,
	      "device page_faults +%llu, expected %d",
	      (unsigned long long)(cnt(&d3, ODP_CNT_PAGE_FAULTS) - cnt(&d0, ODP_CNT_PAGE_FAULTS)),
	      2 * NPAGES);
	printf("# %d pages written twice: MR page_faults %llu, page_invalidations %llu\n", NPAGES,
	       (unsigned long long)cnt(&m3, ODP_CNT_PAGE_FAULTS),
	       (unsigned long long)cnt(&m3, ODP_CNT_PAGE_INVALIDATIONS));

	/* Bad arguments. */
	CHECK(name, odp_stats_device("nosuchdev0", &d3) == ENODEV, "unknown device");
	CHECK(name, odp_stats_device("../x", &d3) == EINVAL, "path in a device name");
	t_pass(name);
out:
	odp_stats_free(l);
	if (h)
		odp_dereg(h);
	if (buf)
		munmap(buf, len);
	t_pair_fini(&p);
}

/* The loopback pair and the probe of its device; 0, or the test failed. */
static int pair_and_probe(const char *name, struct t_pair *p, struct odp_caps *caps)
{
	int err;

	if (pair(p)) {
		t_result(0, name, "pair: %s", strerror(errno));
		return -1;
	}
	err = odp_probe(devs[0].ctx, 0, caps);
	if (err) {
		t_result(0, name, "odp_probe: %s", strerror(err));
		t_pair_fini(p);
		return -1;
	}
	return 0;
}

/* ---- a device without ODP ------------------------------------------------------ */

static void test_no_odp(void)
{
	const char *name = "no_odp";
	struct odp_counters c;
	struct odp_caps caps;
	struct odp_mr *h = NULL;
	enum odp_path used;
	struct t_pair p;
	uint8_t *buf = NULL;
	const char *why;
	int err;

	if (pair_and_probe(name, &p, &caps))
		return;
	CHECK(name,
	      !(caps.flags & (ODP_CAP_EXPLICIT | ODP_CAP_IMPLICIT | ODP_CAP_PREFETCH_IOCTL |
			      ODP_CAP_PREFETCH_VERBS)),
	      "%s reports ODP or prefetch (flags 0x%x)", devs[0].name, caps.flags);
	buf = map_pages(NPAGES);
	CHECK(name, buf, "mmap");
	err = odp_reg(p.b.pd, buf, NPAGES * page, ACCESS, 0, &h);
	CHECK(name, !err && h->mode == ODP_MODE_PINNED, "reg: %s mode %s", strerror(err),
	      h ? odp_mode_str(h->mode) : "-");
	why = data_through(&p, h, NPAGES * page);
	CHECK(name, !why, "%s", why);
	err = odp_prefetch(h, buf, NPAGES * page, ODP_PREFETCH_SYNC, &used);
	CHECK(name, !err && used == ODP_PATH_NONE, "prefetch of a pinned MR: %s", strerror(err));
	CHECK(name, !odp_stats_mr(h, &c) && c.valid == 0, "ODP counters on a pinned MR");
	CHECK(name, !odp_dereg(h), "dereg");
	h = NULL;
	CHECK(name,
	      odp_reg(p.b.pd, buf, NPAGES * page, ACCESS, ODP_REG_NO_PINNED, &h) == EOPNOTSUPP,
	      "ODP-only registration on a device without ODP did not fail with EOPNOTSUPP");
	printf("# %s: no ODP, no prefetch path: libodp registers pinned MRs\n", devs[0].name);
	t_pass(name);
out:
	if (h)
		odp_dereg(h);
	if (buf)
		munmap(buf, NPAGES * page);
	t_pair_fini(&p);
}

/* The active MTU of port 1 in bytes (1024 if it cannot be read). */
static size_t mtu_of(struct ibv_context *ctx)
{
	struct ibv_port_attr a;

	if (ibv_query_port(ctx, 1, &a))
		return 1024;
	return (size_t)128 << a.active_mtu;
}

/* ---- a third-party device with explicit ODP only ------------------------------ */

/*
 * Stock rdma_rxe of 7.x: ODP MRs of a range, no implicit MR, no softodp
 * counters.  libodp falls back from implicit to explicit, the MR carries
 * data, an implicit-only registration is refused, and prefetch does what
 * the probed paths say.
 */
static void test_explicit_only(void)
{
	const char *name = "explicit_only";
	struct odp_caps caps;
	struct odp_mr *h = NULL, *h2 = NULL;
	enum odp_path used;
	struct t_pair p;
	uint8_t *buf = NULL;
	const char *why;
	int err;

	if (pair_and_probe(name, &p, &caps))
		return;
	CHECK(name, (caps.flags & ODP_CAP_EXPLICIT) && !(caps.flags & ODP_CAP_IMPLICIT),
	      "%s: expected explicit ODP without implicit (flags 0x%x)", devs[0].name, caps.flags);
	buf = map_pages(NPAGES);
	CHECK(name, buf, "mmap");
	err = odp_reg(p.b.pd, buf, NPAGES * page, ACCESS, 0, &h);
	CHECK(name, !err && h->mode == ODP_MODE_EXPLICIT, "reg: %s mode %s", strerror(err),
	      h ? odp_mode_str(h->mode) : "-");
	CHECK(name, h->mr->length == (size_t)NPAGES * page, "the ODP MR is %zu bytes, not %zu",
	      h->mr->length, (size_t)NPAGES * page);
	/*
	 * One page per message, each one packet (path MTU >= page): the stock
	 * rxe ODP of 7.3 puts the data of a packet that does not start a page
	 * in the wrong place (README, the data-integrity finding).
	 */
	CHECK(name, mtu_of(devs[0].ctx) >= (size_t)page,
	      "%s: active MTU %zu is below the page size: give the netdev a larger MTU",
	      devs[0].name, mtu_of(devs[0].ctx));
	why = data_through_by(&p, h, NPAGES * page, page);
	CHECK(name, !why, "%s", why);
	err = odp_prefetch(h, buf, NPAGES * page, ODP_PREFETCH_WRITE | ODP_PREFETCH_SYNC, &used);
	if (caps.flags & (ODP_CAP_PREFETCH_IOCTL | ODP_CAP_PREFETCH_VERBS))
		CHECK(name, !err && used != ODP_PATH_NONE, "prefetch: %s (path %d)", strerror(err),
		      (int)used);
	else
		CHECK(name, err == EOPNOTSUPP, "prefetch without a probed path: %s", strerror(err));
	err = odp_reg(p.b.pd, buf, NPAGES * page, ACCESS, ODP_REG_NO_EXPLICIT | ODP_REG_NO_PINNED,
		      &h2);
	CHECK(name, err == EOPNOTSUPP, "implicit-only registration: %s, not EOPNOTSUPP",
	      strerror(err));
	CHECK(name, !odp_dereg(h), "dereg");
	h = NULL;
	printf("# %s: explicit ODP only (flags 0x%x): libodp registers explicit ODP MRs, "
	       "prefetch %s\n",
	       devs[0].name, caps.flags,
	       caps.flags & ODP_CAP_PREFETCH_IOCTL   ? "through the ioctl"
	       : caps.flags & ODP_CAP_PREFETCH_VERBS ? "through ibv_advise_mr"
						     : "unavailable");
	t_pass(name);
out:
	if (h2)
		odp_dereg(h2);
	if (h)
		odp_dereg(h);
	if (buf)
		munmap(buf, NPAGES * page);
	t_pair_fini(&p);
}

/* ---- workload for the odpstat checks ------------------------------------------- */

static int workload(long pages)
{
	struct odp_mr *h;
	struct t_pair p;
	struct t_side_opts o;
	enum odp_path used;
	size_t len = pages * page;
	uint8_t *buf;
	char line[64];
	int err;

	memset(&o, 0, sizeof(o));
	o.len = len;
	buf = map_pages(2 * pages);
	if (!buf || t_pair_init(&p, devs, &o, &o, 0, 7)) {
		fprintf(stderr, "workload: setup: %s\n", strerror(errno));
		return 1;
	}
	err = odp_reg(p.b.pd, buf, 2 * len, ACCESS, ODP_REG_NO_IMPLICIT, &h);
	if (err || h->mode != ODP_MODE_EXPLICIT) {
		fprintf(stderr, "workload: odp_reg: %s\n", strerror(err));
		return 1;
	}
	if (post(&p.a, IBV_WR_RDMA_WRITE, p.a.buf, len, p.a.mr->lkey, (uintptr_t)buf, h->rkey)) {
		fprintf(stderr, "workload: RDMA WRITE failed\n");
		return 1;
	}
	printf("ready %d\n", (int)getpid());
	fflush(stdout);
	/* End of input before the go: the odpstat snapshot only needed stage 1. */
	if (!fgets(line, sizeof(line), stdin))
		goto fini;
	err = odp_prefetch(h, buf + len, len, ODP_PREFETCH_WRITE | ODP_PREFETCH_SYNC, &used);
	if (err || post(&p.a, IBV_WR_RDMA_WRITE, p.a.buf, len, p.a.mr->lkey, (uintptr_t)buf + len,
			h->rkey)) {
		fprintf(stderr, "workload: prefetch/write: %s\n", strerror(err));
		return 1;
	}
	printf("done\n");
	fflush(stdout);
	while (fgets(line, sizeof(line), stdin))
		;
fini:
	odp_dereg(h);
	t_pair_fini(&p);
	munmap(buf, 2 * len);
	return 0;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{"workload", required_argument, NULL, 'w'},
		{"no-odp", no_argument, NULL, 'n'},
		{"explicit-only", no_argument, NULL, 'e'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	const char *dev = NULL;
	long pages = 0;
	int o, no_odp = 0, explicit_only = 0;

	while ((o = getopt_long(argc, argv, "d:f:h", opts, NULL)) != -1) {
		switch (o) {
		case 'd':
			dev = optarg;
			break;
		case 'f':
			t_set_filter(optarg);
			break;
		case 'w':
			pages = strtol(optarg, NULL, 10);
			if (pages < 1) {
				fprintf(stderr, "libodp_test: bad page count '%s'\n", optarg);
				return 2;
			}
			break;
		case 'n':
			no_odp = 1;
			break;
		case 'e':
			explicit_only = 1;
			break;
		case 'h':
			printf("Usage: libodp_test [-d DEV] [-f FILTER] [--no-odp | "
			       "--explicit-only] "
			       "[--workload PAGES]\n");
			return 0;
		default:
			return 2;
		}
	}
	page = sysconf(_SC_PAGESIZE);
	if (t_open_dev(&devs[0], dev, 0) || t_open_dev(&devs[1], devs[0].name, 0)) {
		fprintf(stderr, "libodp_test: cannot open %s with a RoCEv2 IPv4 GID\n",
			dev ? dev : "a sodp* device");
		return 1;
	}
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (pages)
		return workload(pages);
	if (no_odp) {
		if (t_want("no_odp"))
			test_no_odp();
		return t_summary();
	}
	if (explicit_only) {
		if (t_want("explicit_only"))
			test_explicit_only();
		return t_summary();
	}
	if (t_want("probe"))
		test_probe();
	if (t_want("probe_hugetlb"))
		test_probe_hugetlb();
	if (t_want("fallback"))
		test_fallback();
	if (t_want("implicit_cache"))
		test_implicit_cache();
	if (t_want("prefetch"))
		test_prefetch();
	if (t_want("stats"))
		test_stats();
	return t_summary();
}
