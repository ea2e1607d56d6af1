// SPDX-License-Identifier: GPL-2.0
/*
 * slow_fault - a responder ODP page fault that takes longer than the
 * requester's whole transport retry budget (7 retries of the 67 ms local
 * ACK timeout, about 0.5 s) must not fail the transfer: the responder
 * answers RNR NAK while the fault runs and the requester resends after its
 * RNR wait (rnr_retry 7: unlimited).
 *
 * The responder's memory is a MAP_PRIVATE mapping of a block device whose
 * reads take a second or more (the suite sets up dm-delay over a loop
 * device and passes it with -b): a write fault there reads the page from
 * the device first (copy on write).  The program fills the device with a
 * pattern, drops the page cache, and then:
 *
 *   write        RDMA WRITE into never-touched pages of the mapping:
 *                success, the data in place, the rest of the pages still
 *                the device's pattern, rnr_naks_page_fault moved
 *   send         SEND into a receive buffer in never-touched pages: the
 *                same
 *   rnr_exceeded a requester with rnr_retry 0 gets RNR_RETRY_EXC_ERR for
 *                such a WRITE, and nothing of it reaches the memory
 *
 * Only the responder (devs[1]) needs ODP; the requester may be stock rxe.
 *
 * Usage: slow_fault -b BLOCKDEV [-d DEV] [-D DEV2] [-f FILTER]
 * Prints "PASS name" / "FAIL name: why" and "N passed, N failed"; exits 1
 * if anything failed.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "common.h"

#define KB	1024UL
#define MB	(1024 * KB)
#define MAP_LEN (4 * MB)
/* Where each test writes in the mapping: never touched before it. */
#define WRITE_OFF (0 * MB + 100)
#define WRITE_LEN 10000
#define SEND_OFF  (1 * MB)
#define SEND_LEN  8192
#define RNR_OFF	  (2 * MB + 300)
#define RNR_LEN	  5000
#define SRC_LEN	  (64 * KB)
#define COUNTER	  "rnr_naks_page_fault"

static struct t_dev devs[2];
static const char *blockdev;
static uint8_t pattern[MAP_LEN];

/* The byte the device holds at offset @off. */
static uint8_t pat(size_t off)
{
	return (uint8_t)(off * 7 + (off >> 12) + 3);
}

static int opt_cb(int opt, const char *arg)
{
	if (opt != 'b')
		return -1;
	blockdev = arg;
	return 0;
}

/* Write the pattern through the page cache, sync it, drop the cache. */
static int prepare_device(void)
{
	size_t i;
	int fd;

	for (i = 0; i < MAP_LEN; i++)
		pattern[i] = pat(i);
	fd = open(blockdev, O_RDWR);
	if (fd < 0)
		return -1;
	if (pwrite(fd, pattern, MAP_LEN, 0) != (ssize_t)MAP_LEN || fsync(fd)) {
		close(fd);
		return -1;
	}
	close(fd);
	return 0;
}

static int drop_caches(void)
{
	int fd = open("/proc/sys/vm/drop_caches", O_WRONLY);
	int ok;

	if (fd < 0)
		return -1;
	sync();
	ok = write(fd, "3\n", 2) == 2;
	close(fd);
	return ok ? 0 : -1;
}

/*
 * A pair whose responder buffer is a fresh private mapping of the slow
 * device, registered with ON_DEMAND before anything touches it.
 */
static int pair_init(struct t_pair *p, const char *name, int rnr_retry)
{
	struct t_side_opts oa = {.len = SRC_LEN, .odp = 1};
	struct t_side_opts ob = {.len = MAP_LEN, .odp = 1, .no_touch = 1};
	void *map;
	int fd;

	memset(p, 0, sizeof(*p));
	fd = open(blockdev, O_RDWR);
	if (fd < 0) {
		t_result(0, name, "open %s: %s", blockdev, strerror(errno));
		return -1;
	}
	map = mmap(NULL, MAP_LEN, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
	close(fd);
	if (map == MAP_FAILED) {
		t_result(0, name, "mmap %s: %s", blockdev, strerror(errno));
		return -1;
	}
	if (drop_caches()) {
		t_result(0, name, "drop_caches: %s", strerror(errno));
		munmap(map, MAP_LEN);
		return -1;
	}
	ob.buf = map;
	if (t_pair_init(p, devs, &oa, &ob, t_min_mtu(&devs[0], &devs[1]), rnr_retry)) {
		t_result(0, name, "setup: %s", strerror(errno));
		t_pair_fini(p);
		munmap(map, MAP_LEN);
		p->b.buf = NULL;
		return -1;
	}
	return 0;
}

static void pair_fini(struct t_pair *p)
{
	uint8_t *map = p->b.buf;

	t_pair_fini(p);
	if (map)
		munmap(map, MAP_LEN);
}

/*
 * The page(s) around [@off, @off + @len) of the mapping: @data there, the
 * device's pattern elsewhere.  0 or -1 (FAIL @name).
 */
static int check_pages(const char *name, const uint8_t *map, size_t off, size_t len,
		       const uint8_t *data)
{
	size_t start = off & ~4095UL, end = (off + len + 4095) & ~4095UL, i;
	long d;

	if (data) {
		d = t_diff(map + off, data, len);
		if (d >= 0) {
			t_result(0, name, "byte %ld of %zu differs (got 0x%02x, want 0x%02x)", d,
				 len, map[off + d], data[d]);
			return -1;
		}
	}
	for (i = start; i < end; i++) {
		if (data && i >= off && i < off + len)
			continue;
		if (map[i] != pattern[i]) {
			t_result(0, name,
				 "offset %zu: 0x%02x, not the device's 0x%02x (%s the data)", i,
				 map[i], pattern[i], data ? "around" : "without");
			return -1;
		}
	}
	return 0;
}

static long long counter(void)
{
	return t_hw_counter(devs[1].name, COUNTER);
}

/* The counter moved, and the transfer outlasted the retry budget. */
static void report(const char *name, long long before, double ms)
{
	long long after = counter();

	printf("# %s: %.0f ms, %s %lld -> %lld\n", name, ms, COUNTER, before, after);
	T_CHECK(before >= 0 && after > before, name, "%s did not move (%lld -> %lld)", COUNTER,
		before, after);
}

static void test_write(void)
{
	const char *name = "slow_fault_write";
	struct t_pair p;
	long long before;
	double t0;

	if (!t_want(name))
		return;
	if (pair_init(&p, name, 7))
		goto out;
	t_fill(p.a.buf, WRITE_LEN, 11);
	before = counter();
	t0 = t_now_ms();
	if (t_post_one(&p.a, 1, IBV_WR_RDMA_WRITE, 0, WRITE_LEN, (uintptr_t)p.b.buf + WRITE_OFF,
		       p.b.mr->rkey)) {
		t_result(0, name, "post failed");
		goto out;
	}
	if (t_expect_wc(&p.a, name, "requester", 1, IBV_WC_SUCCESS, IBV_WC_RDMA_WRITE))
		goto out;
	if (check_pages(name, p.b.buf, WRITE_OFF, WRITE_LEN, p.a.buf))
		goto out;
	report(name, before, t_now_ms() - t0);
out:
	pair_fini(&p);
}

static void test_send(void)
{
	const char *name = "slow_fault_send";
	struct ibv_wc wc;
	struct t_pair p;
	long long before;
	double t0;

	if (!t_want(name))
		return;
	if (pair_init(&p, name, 7))
		goto out;
	t_fill(p.a.buf, SEND_LEN, 12);
	before = counter();
	t0 = t_now_ms();
	if (t_post_recv(&p.b, 2, SEND_OFF, SEND_LEN + 4096) ||
	    t_post_one(&p.a, 3, IBV_WR_SEND, 0, SEND_LEN, 0, 0)) {
		t_result(0, name, "post failed");
		goto out;
	}
	if (t_expect_wc(&p.a, name, "sender", 3, IBV_WC_SUCCESS, IBV_WC_SEND) ||
	    t_expect_recv(&p.b, name, 2, SEND_LEN, &wc))
		goto out;
	if (check_pages(name, p.b.buf, SEND_OFF, SEND_LEN, p.a.buf))
		goto out;
	report(name, before, t_now_ms() - t0);
out:
	pair_fini(&p);
}

static void test_rnr_exceeded(void)
{
	const char *name = "slow_fault_rnr_exceeded";
	struct t_pair p;

	if (!t_want(name))
		return;
	if (pair_init(&p, name, 0))
		goto out;
	t_fill(p.a.buf, RNR_LEN, 13);
	if (t_post_one(&p.a, 4, IBV_WR_RDMA_WRITE, 0, RNR_LEN, (uintptr_t)p.b.buf + RNR_OFF,
		       p.b.mr->rkey)) {
		t_result(0, name, "post failed");
		goto out;
	}
	if (t_expect_wc(&p.a, name, "requester", 4, IBV_WC_RNR_RETRY_EXC_ERR, -1))
		goto out;
	/* The responder's fault may still be reading: the CPU's access waits. */
	if (check_pages(name, p.b.buf, RNR_OFF, RNR_LEN, NULL))
		goto out;
	t_pass(name);
out:
	pair_fini(&p);
}

int main(int argc, char **argv)
{
	static const char usage[] = "slow_fault -b BLOCKDEV [-d DEV] [-D DEV2] [-f FILTER]";
	int ret = t_start(argc, argv, usage, "b:", opt_cb, devs);

	if (ret)
		return ret;
	if (!blockdev) {
		fprintf(stderr, "usage: %s\n", usage);
		return 2;
	}
	if (!devs[1].odp_ok) {
		fprintf(stderr, "slow_fault: the responder %s reports no RC ODP\n", devs[1].name);
		return 1;
	}
	if (prepare_device()) {
		fprintf(stderr, "slow_fault: cannot write the pattern to %s: %s\n", blockdev,
			strerror(errno));
		return 1;
	}
	test_write();
	test_send();
	test_rnr_exceeded();
	return t_summary();
}
