// SPDX-License-Identifier: GPL-2.0
/*
 * hugetlb - IBV_ACCESS_HUGETLB memory regions on 2 MiB huge pages
 * (mmap MAP_HUGETLB; the caller reserves them in
 * /proc/sys/vm/nr_hugepages), pinned and ODP.  Each side has four huge
 * pages; every transfer crosses a huge page boundary:
 *
 *   write        WRITE into pages never touched by the CPU (ODP: faulted
 *                by the responder), guards around the target still zero
 *   send         SEND into a receive buffer in untouched pages
 *   read         1 MiB READ into the requester's untouched pages
 *   atomic       CMP_SWP on the last 8 bytes of a huge page, FETCH_ADD on
 *                the first 8 bytes of the next one
 *   write_1m     1 MiB + 3 bytes WRITE between touched pages
 *   remap (ODP)  munmap + mmap MAP_FIXED of a huge page under the MR, new
 *                content written by the CPU: a READ returns the new data
 *                (not the stale page), a WRITE lands in the new page, and
 *                a remapped source page on the requester sends its new data
 *
 * ODP regions are registered before the memory is touched.
 *
 * Usage: hugetlb [-d DEV] [-D DEV2] [-m pinned|odp|both] [-f FILTER]
 * Prints "PASS name" / "FAIL name: why" and "N passed, N failed"; exits 1
 * if anything failed, 77 if no huge pages were free (SKIP lines).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "common.h"

#define HP	 (2UL * 1024 * 1024)
#define NPAGES	 4
#define BUF_SIZE (NPAGES * HP)
#define KB	 1024UL

static struct t_dev devs[2];

static void *huge_map(void *at)
{
	void *p = mmap(at, BUF_SIZE, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS | MAP_HUGETLB | (at ? MAP_FIXED : 0), -1, 0);

	return p == MAP_FAILED ? NULL : p;
}

/* Replace huge page @idx of @buf by a fresh one (no CPU access). */
static int huge_remap(uint8_t *buf, int idx)
{
	void *at = buf + idx * HP;

	if (munmap(at, HP))
		return -1;
	return mmap(at, HP, PROT_READ | PROT_WRITE,
		    MAP_PRIVATE | MAP_ANONYMOUS | MAP_HUGETLB | MAP_FIXED, -1, 0) == at
		       ? 0
		       : -1;
}

static int pair_init(struct t_pair *p, int odp, const char *name)
{
	struct t_side_opts o = {
		.len = BUF_SIZE,
		.access = T_MR_ACCESS | IBV_ACCESS_HUGETLB,
		.odp = odp,
		.no_touch = 1,
	};
	struct t_side_opts ob;
	enum ibv_mtu mtu = t_min_mtu(&devs[0], &devs[1]);
	int access = o.access | (odp ? IBV_ACCESS_ON_DEMAND : 0);
	void *ba, *bb;

	memset(p, 0, sizeof(*p));
	ba = huge_map(NULL);
	bb = huge_map(NULL);
	if (!ba || !bb) {
		/* ENOMEM: too few huge pages reserved, the machine's doing. */
		if (errno == ENOMEM)
			t_skip(name,
			       "mmap MAP_HUGETLB of %lu MiB: no free huge pages (reserve them in "
			       "/proc/sys/vm/nr_hugepages)",
			       BUF_SIZE >> 20);
		else
			t_result(0, name, "mmap MAP_HUGETLB of %lu MiB: %s", BUF_SIZE >> 20,
				 strerror(errno));
		if (ba)
			munmap(ba, BUF_SIZE);
		if (bb)
			munmap(bb, BUF_SIZE);
		return -1;
	}
	o.no_mr = 1;
	ob = o;
	o.buf = ba;
	ob.buf = bb;
	if (t_side_init(&p->a, &devs[0], &o) || t_side_init(&p->b, &devs[1], &ob)) {
		t_result(0, name, "setup: %s", strerror(errno));
		return -1;
	}
	/* Pinned regions are populated first; ODP ones stay untouched. */
	if (!odp) {
		memset(ba, 0, BUF_SIZE);
		memset(bb, 0, BUF_SIZE);
	}
	errno = 0;
	p->a.mr = ibv_reg_mr(p->a.pd, ba, BUF_SIZE, access);
	p->b.mr = p->a.mr ? ibv_reg_mr(p->b.pd, bb, BUF_SIZE, access) : NULL;
	if (!p->b.mr) {
		t_result(0, name, "ibv_reg_mr(HUGETLB%s): %s (%d)", odp ? " | ON_DEMAND" : "",
			 strerror(errno), errno);
		return -1;
	}
	if (t_qp_connect(&p->a, &p->b, mtu, 7) || t_qp_connect(&p->b, &p->a, mtu, 7)) {
		t_result(0, name, "connect: %s", strerror(errno));
		return -1;
	}
	return 0;
}

static void pair_fini(struct t_pair *p)
{
	uint8_t *ba = p->a.buf, *bb = p->b.buf;

	t_pair_fini(p);
	if (ba)
		munmap(ba, BUF_SIZE);
	if (bb)
		munmap(bb, BUF_SIZE);
}

/* Compare @n bytes; FAIL @name on a difference. */
static int same(const char *name, const char *what, const uint8_t *got, const uint8_t *want,
		size_t n)
{
	long d = t_diff(got, want, n);

	if (d < 0)
		return 0;
	t_result(0, name, "%s: byte %ld of %zu differs (got 0x%02x, want 0x%02x)", what, d, n,
		 got[d], want[d]);
	return -1;
}

static int all_zero(const uint8_t *p, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (p[i])
			return 0;
	return 1;
}

/* RDMA op of @len from @loff (local) to/from @roff (remote), completed. */
static int rdma(struct t_pair *p, const char *name, enum ibv_wr_opcode op, size_t loff, size_t roff,
		uint32_t len)
{
	int wc_op = op == IBV_WR_RDMA_READ ? IBV_WC_RDMA_READ : IBV_WC_RDMA_WRITE;

	if (t_post_one(&p->a, 1, op, loff, len, (uintptr_t)p->b.buf + roff, p->b.mr->rkey)) {
		t_result(0, name, "post failed");
		return -1;
	}
	return t_expect_wc(&p->a, name, "requester", 1, IBV_WC_SUCCESS, wc_op);
}

/*
 * Test @name if wanted: fresh data of @n bytes (seed @seed) at the source,
 * @op between local offset @loff and remote offset @roff; the target holds
 * the data and the 4 KiB on either side of it (never written) are still
 * zero.  -1 if the pair is no longer usable.
 */
static int moved(struct t_pair *p, const char *name, enum ibv_wr_opcode op, size_t loff,
		 size_t roff, uint32_t n, unsigned int seed)
{
	int write = op == IBV_WR_RDMA_WRITE;
	uint8_t *src = write ? p->a.buf + loff : p->b.buf + roff;
	uint8_t *dst = write ? p->b.buf + roff : p->a.buf + loff;

	t_fill(src, n, seed);
	if (!t_want(name))
		return 0;
	if (rdma(p, name, op, loff, roff, n) || same(name, write ? "target" : "read", dst, src, n))
		return -1;
	t_result(all_zero(dst - 4096, 4096) && all_zero(dst + n, 4096), name,
		 "bytes around the %s target changed", write ? "WRITE" : "READ");
	return 0;
}

static void test_hugetlb(int odp)
{
	char name[96];
	struct ibv_wc wc;
	struct t_pair p;
	size_t loff, roff, n;
	uint64_t *ra, *la, before;

	snprintf(name, sizeof(name), "hugetlb_%s_reg", t_mem_name(odp));
	if (pair_init(&p, odp, name))
		goto out;
	t_pass(name);

	/* WRITE into the responder's untouched pages 0/1. */
	snprintf(name, sizeof(name), "hugetlb_%s_write", t_mem_name(odp));
	if (moved(&p, name, IBV_WR_RDMA_WRITE, HP - 5000, HP - 7000, 12000, 1))
		goto out;

	/* SEND into a receive buffer in the untouched pages 2/3. */
	snprintf(name, sizeof(name), "hugetlb_%s_send", t_mem_name(odp));
	loff = HP - 100 * KB;
	roff = 3 * HP - 150 * KB;
	n = 300 * KB;
	t_fill(p.a.buf + loff, n, 2);
	if (t_want(name)) {
		if (t_post_recv(&p.b, 2, roff, n + 4096) ||
		    t_post_one(&p.a, 3, IBV_WR_SEND, loff, n, 0, 0)) {
			t_result(0, name, "post failed");
			goto out;
		}
		if (t_expect_wc(&p.a, name, "sender", 3, IBV_WC_SUCCESS, IBV_WC_SEND))
			goto out;
		if (t_expect_recv(&p.b, name, 2, n, &wc))
			goto out;
		if (same(name, "received", p.b.buf + roff, p.a.buf + loff, n))
			goto out;
		t_result(all_zero(p.b.buf + roff + n, 4096), name, "bytes after the message");
	}

	/* READ 1 MiB into the requester's untouched pages 2/3. */
	snprintf(name, sizeof(name), "hugetlb_%s_read", t_mem_name(odp));
	if (moved(&p, name, IBV_WR_RDMA_READ, 3 * HP - 256 * KB, HP - 512 * KB, 1024 * KB, 3))
		goto out;

	/* Atomics on both sides of the page 1/2 boundary. */
	snprintf(name, sizeof(name), "hugetlb_%s_atomic", t_mem_name(odp));
	if (t_want(name)) {
		int i;

		for (i = 0; i < 2; i++) {
			size_t off = 2 * HP - 8 + 8 * i;
			int cas = !i;

			ra = (uint64_t *)(p.b.buf + off);
			la = (uint64_t *)(p.a.buf + off);
			*ra = 0x1122334455667788ULL + i;
			*la = 0;
			before = *ra;
			if (t_post_atomic(&p.a, 10 + i,
					  cas ? IBV_WR_ATOMIC_CMP_AND_SWP
					      : IBV_WR_ATOMIC_FETCH_AND_ADD,
					  off, (uintptr_t)ra, p.b.mr->rkey, cas ? before : 0x1000,
					  0xabcdef)) {
				t_result(0, name, "post failed");
				goto out;
			}
			if (t_expect_wc(&p.a, name, "requester", 10 + i, IBV_WC_SUCCESS,
					cas ? IBV_WC_COMP_SWAP : IBV_WC_FETCH_ADD))
				goto out;
			if (*la != before || *ra != (cas ? 0xabcdefULL : before + 0x1000)) {
				t_result(0, name, "%s at +%zu: returned 0x%llx remote 0x%llx",
					 cas ? "CMP_SWP" : "FETCH_ADD", off,
					 (unsigned long long)*la, (unsigned long long)*ra);
				goto out;
			}
		}
		t_pass(name);
	}

	/* 1 MiB + 3 WRITE between touched pages, unaligned at both ends. */
	snprintf(name, sizeof(name), "hugetlb_%s_write_1m", t_mem_name(odp));
	loff = HP - 300 * KB + 1;
	roff = 2 * HP - 400 * KB + 3;
	n = 1024 * KB + 3;
	t_fill(p.a.buf + loff, n, 4);
	if (t_want(name)) {
		memset(p.b.buf + roff - 64, 0x5a, n + 128);
		if (rdma(&p, name, IBV_WR_RDMA_WRITE, loff, roff, n) ||
		    same(name, "target", p.b.buf + roff, p.a.buf + loff, n))
			goto out;
		t_result(p.b.buf[roff - 1] == 0x5a && p.b.buf[roff + n] == 0x5a, name,
			 "guard bytes changed");
	}

	if (odp) {
		static uint8_t want[16384];
		long long inv0 = -1, inv1;

		/*
		 * Responder page 1 replaced: the MR must see the new page for
		 * READ (no stale copy) and WRITE.
		 */
		snprintf(name, sizeof(name), "hugetlb_%s_remap", t_mem_name(odp));
		if (!t_want(name))
			goto out;
		if (devs[1].is_softodp)
			inv0 = t_hw_counter(devs[1].name, "odp_invalidations");
		t_fill(p.b.buf + HP - 8192, 16384, 5);
		/* Map the old content into the MR's page tables first. */
		if (rdma(&p, name, IBV_WR_RDMA_READ, 0, HP - 8192, 16384) ||
		    same(name, "before remap", p.a.buf, p.b.buf + HP - 8192, 16384))
			goto out;
		memcpy(want, p.b.buf + HP - 8192, 8192);
		if (huge_remap(p.b.buf, 1)) {
			t_result(0, name, "remap: %s", strerror(errno));
			goto out;
		}
		t_fill(p.b.buf + HP, 8192, 6);
		memcpy(want + 8192, p.b.buf + HP, 8192);
		memset(p.a.buf, 0, 16384);
		if (rdma(&p, name, IBV_WR_RDMA_READ, 0, HP - 8192, 16384) ||
		    same(name, "READ after remap", p.a.buf, want, 16384))
			goto out;
		if (devs[1].is_softodp) {
			inv1 = t_hw_counter(devs[1].name, "odp_invalidations");
			if (inv0 < 0 || inv1 <= inv0) {
				t_result(0, name, "odp_invalidations %lld -> %lld", inv0, inv1);
				goto out;
			}
		}
		/* WRITE into the new page: the CPU sees it. */
		t_fill(p.a.buf + 65536, 5000, 7);
		if (rdma(&p, name, IBV_WR_RDMA_WRITE, 65536, HP + 100, 5000) ||
		    same(name, "WRITE into the new page", p.b.buf + HP + 100, p.a.buf + 65536,
			 5000))
			goto out;
		/* Requester page 0 replaced under its source data. */
		t_fill(p.a.buf + HP - 4096, 8192, 8);
		if (rdma(&p, name, IBV_WR_RDMA_WRITE, HP - 4096, 3 * HP, 8192) ||
		    same(name, "source before remap", p.b.buf + 3 * HP, p.a.buf + HP - 4096, 8192))
			goto out;
		if (huge_remap(p.a.buf, 0)) {
			t_result(0, name, "remap: %s", strerror(errno));
			goto out;
		}
		t_fill(p.a.buf + HP - 4096, 4096, 9);
		if (rdma(&p, name, IBV_WR_RDMA_WRITE, HP - 4096, 3 * HP, 8192) ||
		    same(name, "remapped source", p.b.buf + 3 * HP, p.a.buf + HP - 4096, 8192))
			goto out;
		t_pass(name);
	}
out:
	pair_fini(&p);
}

int main(int argc, char **argv)
{
	return t_main(argc, argv, "hugetlb [-d DEV] [-D DEV2] [-m pinned|odp|both] [-f FILTER]",
		      devs, NULL, "hugetlb", test_hugetlb);
}
