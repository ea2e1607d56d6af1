// SPDX-License-Identifier: GPL-2.0
/*
 * Two-rank MPI checks of the data an MPI library moves over softodp (run
 * with Open MPI's pml ucx and osc ucx by tests/vm/suites/ucx).  Every
 * buffer is allocated after MPI_Init, and every byte that arrives is
 * compared with what was sent:
 *
 *   p2p    MPI_Sendrecv both ways of 1 B .. MAX bytes (default 16 MiB) in
 *          fresh, never touched buffers, then four MPI_Isend/MPI_Irecv
 *          in flight at once at unaligned offsets
 *   coll   MPI_Bcast, MPI_Allreduce, MPI_Reduce, MPI_Allgather,
 *          MPI_Alltoall, MPI_Barrier
 *   rma    a window on malloc'ed memory: MPI_Put, MPI_Get and
 *          MPI_Accumulate (MPI_SUM) with fences, and MPI_Put/MPI_Get in a
 *          passive-target epoch (MPI_Win_lock)
 *   fork   each rank forks while its exchange buffer is registered; the
 *          child scribbles over its copy and exits; the parents exchange
 *          new data through the same buffer afterwards
 *
 * While the biggest user buffers of a test are live, every rank measures
 * how much its pinned and locked memory (VmPin + VmLck in /proc/self/status)
 * grew since the start of the test; rank 0 prints it.  With -P a growth of
 * half the live user buffers or more fails the test when they are 32 MiB or
 * more (the 16 MiB point-to-point step): with ODP the library registers
 * user memory without pinning it.  UCX still pins its own bounce buffers,
 * at MPI_Init, at the first window (both before the baselines) and now and
 * then later (rendezvous fragments, about 10 MB), hence the margin.  Only rank 0 prints the
 * PASS/FAIL lines and the summary.  Exit statuses: tests/lib/t_status.h.
 */
#define _GNU_SOURCE
#include <mpi.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../lib/t_status.h"

static int rank, peer, no_pin;
static long pin_base, pin_grew; /* kB: at the test's start, largest growth */
static size_t pin_live;		/* user bytes live at the largest growth */
static size_t max_bytes = 16u << 20;
static int passed, failed;
static char why[256]; /* this rank's reason of the current test's failure */

static void note_fail(const char *fmt, ...)
{
	va_list ap;

	if (why[0])
		return; /* keep the first reason */
	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
}

/* The byte at @i of the pattern @seed: no period that a shift could hide. */
static uint8_t pat(uint32_t seed, size_t i)
{
	uint32_t x = (uint32_t)i * 2654435761u ^ seed * 40503u;

	return (uint8_t)(x >> 13 ^ x >> 24 ^ i >> 8);
}

static void fill(uint8_t *p, size_t n, uint32_t seed)
{
	for (size_t i = 0; i < n; i++)
		p[i] = pat(seed, i);
}

/* Index of the first wrong byte, or -1. */
static long check(const uint8_t *p, size_t n, uint32_t seed)
{
	for (size_t i = 0; i < n; i++)
		if (p[i] != pat(seed, i))
			return (long)i;
	return -1;
}

/* Fresh anonymous memory that nobody has touched (not from the heap's cache). */
static uint8_t *fresh(size_t n)
{
	void *p = mmap(NULL, n ? n : 1, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (p == MAP_FAILED) {
		note_fail("mmap %zu: %m", n);
		return NULL;
	}
	return p;
}

static void release(uint8_t *p, size_t n)
{
	if (p)
		munmap(p, n ? n : 1);
}

static long status_kb(const char *key)
{
	char line[256];
	long kb = -1;
	size_t len = strlen(key);
	FILE *f = fopen("/proc/self/status", "r");

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (!strncmp(line, key, len) && line[len] == ':')
			kb = strtol(line + len + 1, NULL, 10);
	fclose(f);
	return kb;
}

static long pinned_kb(void)
{
	return status_kb("VmPin") + status_kb("VmLck");
}

/* The baseline of pinned memory of the test that starts. */
static void pin_start(void)
{
	pin_base = pinned_kb();
	pin_grew = 0;
	pin_live = 0;
}

/* @live bytes of user buffers are registered now: how much got pinned? */
static void pin_sample(size_t live)
{
	long grew = pinned_kb() - pin_base;

	if (grew >= pin_grew) {
		pin_grew = grew;
		pin_live = live;
	}
	if (no_pin && live >= (32u << 20) && grew * 1024 >= (long)(live / 2))
		note_fail("rank %d: pinned memory grew by %ld kB with %zu bytes of user buffers",
			  rank, grew, live);
}

/* Both ranks learn the verdict of a test from both ranks' reasons; rank 0 prints it. */
static void verdict(const char *name)
{
	char all[2][sizeof(why)];

	if (rank == 0)
		printf("# %s: pinned memory grew by %ld kB with %zu bytes of user buffers live\n",
		       name, pin_grew, pin_live);
	MPI_Allgather(why, sizeof(why), MPI_CHAR, all, sizeof(why), MPI_CHAR, MPI_COMM_WORLD);
	if (!all[0][0] && !all[1][0]) {
		passed++;
		if (rank == 0)
			printf("PASS %s\n", name);
	} else {
		failed++;
		if (rank == 0)
			printf("FAIL %s: %s%s%s\n", name, all[0],
			       all[0][0] && all[1][0] ? "; " : "", all[1]);
	}
	fflush(stdout);
	why[0] = 0;
}

static void mpi_ok(int rc, const char *what)
{
	if (rc != MPI_SUCCESS)
		note_fail("rank %d: %s returned %d", rank, what, rc);
}

static void test_p2p(void)
{
	size_t sizes[] = {1, 7, 64, 4096, 8193, 65536 + 3, 1u << 20, 4u << 20, 16u << 20};
	char one = 1, got = 0;

	/* The endpoints exist before the baseline. */
	mpi_ok(MPI_Sendrecv(&one, 1, MPI_BYTE, peer, 99, &got, 1, MPI_BYTE, peer, 99,
			    MPI_COMM_WORLD, MPI_STATUS_IGNORE),
	       "MPI_Sendrecv");
	pin_start();

	for (size_t k = 0; k < sizeof(sizes) / sizeof(sizes[0]) && !why[0]; k++) {
		size_t n = sizes[k];
		uint8_t *s, *r;
		long d;

		if (n > max_bytes)
			break;
		s = fresh(n);
		r = fresh(n);
		if (!s || !r)
			break;
		fill(s, n, (uint32_t)(rank * 1000 + k));
		mpi_ok(MPI_Sendrecv(s, (int)n, MPI_BYTE, peer, (int)k, r, (int)n, MPI_BYTE, peer,
				    (int)k, MPI_COMM_WORLD, MPI_STATUS_IGNORE),
		       "MPI_Sendrecv");
		d = check(r, n, (uint32_t)(peer * 1000 + k));
		if (d >= 0)
			note_fail("rank %d: %zu bytes from rank %d differ at %ld", rank, n, peer,
				  d);
		if (n >= (1u << 20))
			pin_sample(2 * n);
		release(s, n);
		release(r, n);
	}

	/* Four messages in flight each way, at odd offsets of one buffer. */
	size_t part = (max_bytes < (1u << 20) ? max_bytes : (1u << 20)) / 4 - 5;
	size_t len = 4 * (part + 5);
	uint8_t *s = fresh(len), *r = fresh(len);
	MPI_Request req[8];

	if (!s || !r)
		goto out;
	for (int i = 0; i < 4; i++) {
		fill(s + i * (part + 5) + 3, part, (uint32_t)(rank * 77 + i));
		mpi_ok(MPI_Irecv(r + i * (part + 5) + 1, (int)part, MPI_BYTE, peer, 100 + i,
				 MPI_COMM_WORLD, &req[i]),
		       "MPI_Irecv");
	}
	for (int i = 0; i < 4; i++)
		mpi_ok(MPI_Isend(s + i * (part + 5) + 3, (int)part, MPI_BYTE, peer, 100 + i,
				 MPI_COMM_WORLD, &req[4 + i]),
		       "MPI_Isend");
	mpi_ok(MPI_Waitall(8, req, MPI_STATUSES_IGNORE), "MPI_Waitall");
	for (int i = 0; i < 4; i++) {
		long d = check(r + i * (part + 5) + 1, part, (uint32_t)(peer * 77 + i));

		if (d >= 0)
			note_fail("rank %d: message %d of %zu bytes differs at %ld", rank, i, part,
				  d);
	}
out:
	release(s, len);
	release(r, len);
	verdict("p2p");
}

static void test_coll(void)
{
	const size_t nb = 1u << 20, ne = 65536, ng = 256u << 10, na = 128u << 10;
	uint8_t *b = fresh(nb), *g = fresh(2 * ng), *gs = fresh(ng);
	uint8_t *as = fresh(2 * na), *ar = fresh(2 * na);
	int64_t *x = (int64_t *)(void *)fresh(ne * 8), *y = (int64_t *)(void *)fresh(ne * 8);
	long d;

	pin_start();
	if (!b || !g || !gs || !as || !ar || !x || !y)
		goto out;
	/* Bcast from rank 1. */
	if (rank == 1)
		fill(b, nb, 11);
	mpi_ok(MPI_Bcast(b, (int)nb, MPI_BYTE, 1, MPI_COMM_WORLD), "MPI_Bcast");
	if ((d = check(b, nb, 11)) >= 0)
		note_fail("rank %d: bcast differs at %ld", rank, d);
	/* Allreduce SUM and Reduce MAX of int64s. */
	for (size_t i = 0; i < ne; i++)
		x[i] = (int64_t)(i * 3 + (size_t)rank) << (rank * 20);
	mpi_ok(MPI_Allreduce(x, y, (int)ne, MPI_INT64_T, MPI_SUM, MPI_COMM_WORLD), "MPI_Allreduce");
	for (size_t i = 0; i < ne && !why[0]; i++)
		if (y[i] != (int64_t)(i * 3) + ((int64_t)(i * 3 + 1) << 20))
			note_fail("rank %d: allreduce element %zu is %lld", rank, i,
				  (long long)y[i]);
	memset(y, 0, ne * 8);
	mpi_ok(MPI_Reduce(x, y, (int)ne, MPI_INT64_T, MPI_MAX, 0, MPI_COMM_WORLD), "MPI_Reduce");
	for (size_t i = 0; rank == 0 && i < ne && !why[0]; i++)
		if (y[i] != (int64_t)(i * 3 + 1) << 20)
			note_fail("reduce element %zu is %lld", i, (long long)y[i]);
	/* Allgather: each rank's block lands at its index. */
	fill(gs, ng, (uint32_t)(20 + rank));
	mpi_ok(MPI_Allgather(gs, (int)ng, MPI_BYTE, g, (int)ng, MPI_BYTE, MPI_COMM_WORLD),
	       "MPI_Allgather");
	for (int i = 0; i < 2; i++)
		if ((d = check(g + i * ng, ng, (uint32_t)(20 + i))) >= 0)
			note_fail("rank %d: allgather block %d differs at %ld", rank, i, d);
	/* Alltoall: block j of rank i goes to rank j as its block i. */
	for (int j = 0; j < 2; j++)
		fill(as + j * na, na, (uint32_t)(40 + rank * 2 + j));
	mpi_ok(MPI_Alltoall(as, (int)na, MPI_BYTE, ar, (int)na, MPI_BYTE, MPI_COMM_WORLD),
	       "MPI_Alltoall");
	for (int i = 0; i < 2; i++)
		if ((d = check(ar + i * na, na, (uint32_t)(40 + i * 2 + rank))) >= 0)
			note_fail("rank %d: alltoall block %d differs at %ld", rank, i, d);
	pin_sample(nb + 3 * ng + 4 * na + 2 * ne * 8);
	mpi_ok(MPI_Barrier(MPI_COMM_WORLD), "MPI_Barrier");
out:
	release(b, nb);
	release(g, 2 * ng);
	release(gs, ng);
	release(as, 2 * na);
	release(ar, 2 * na);
	release((uint8_t *)x, ne * 8);
	release((uint8_t *)y, ne * 8);
	verdict("coll");
}

/*
 * Window layout (each rank): [0, Q) written by the peer's Put, [Q, 2Q)
 * read by the peer's Get, [2Q, 3Q) int64s the peer accumulates into,
 * [3Q, 4Q) the passive-target epoch's target.
 */
static void test_rma(void)
{
	const size_t q = 1u << 20, ne = q / 8;
	uint8_t *w = malloc(4 * q), *s = fresh(q), *r = fresh(q);
	int64_t *acc = (int64_t *)(void *)fresh(q);
	MPI_Win win, first;
	long d, page = 0;

	/* osc ucx sets itself up (and pins its buffers) at the first window. */
	mpi_ok(MPI_Win_create(&page, sizeof(page), 1, MPI_INFO_NULL, MPI_COMM_WORLD, &first),
	       "MPI_Win_create");
	mpi_ok(MPI_Win_fence(0, first), "MPI_Win_fence");
	mpi_ok(MPI_Put(&page, sizeof(page), MPI_BYTE, peer, 0, sizeof(page), MPI_BYTE, first),
	       "MPI_Put");
	mpi_ok(MPI_Win_fence(0, first), "MPI_Win_fence");
	pin_start();

	if (!w || !s || !r || !acc) {
		note_fail("rank %d: no memory", rank);
		goto out;
	}
	memset(w, 0, q);
	fill(w + q, q, (uint32_t)(60 + rank));
	for (size_t i = 0; i < ne; i++)
		((int64_t *)(void *)(w + 2 * q))[i] = (int64_t)i;
	memset(w + 3 * q, 0, q);
	mpi_ok(MPI_Win_create(w, (MPI_Aint)(4 * q), 1, MPI_INFO_NULL, MPI_COMM_WORLD, &win),
	       "MPI_Win_create");
	fill(s, q, (uint32_t)(50 + rank));
	for (size_t i = 0; i < ne; i++)
		acc[i] = (int64_t)(i * 7 + (size_t)rank + 1);

	mpi_ok(MPI_Win_fence(0, win), "MPI_Win_fence");
	mpi_ok(MPI_Put(s, (int)q, MPI_BYTE, peer, 0, (int)q, MPI_BYTE, win), "MPI_Put");
	mpi_ok(MPI_Get(r, (int)q, MPI_BYTE, peer, (MPI_Aint)q, (int)q, MPI_BYTE, win), "MPI_Get");
	mpi_ok(MPI_Accumulate(acc, (int)ne, MPI_INT64_T, peer, (MPI_Aint)(2 * q), (int)ne,
			      MPI_INT64_T, MPI_SUM, win),
	       "MPI_Accumulate");
	mpi_ok(MPI_Win_fence(0, win), "MPI_Win_fence");
	pin_sample(7 * q);
	if ((d = check(w, q, (uint32_t)(50 + peer))) >= 0)
		note_fail("rank %d: put data differs at %ld", rank, d);
	if ((d = check(r, q, (uint32_t)(60 + peer))) >= 0)
		note_fail("rank %d: get data differs at %ld", rank, d);
	for (size_t i = 0; i < ne && !why[0]; i++) {
		int64_t v = ((int64_t *)(void *)(w + 2 * q))[i];

		if (v != (int64_t)(i + i * 7 + (size_t)peer + 1))
			note_fail("rank %d: accumulated element %zu is %lld", rank, i,
				  (long long)v);
	}

	/* Passive target: rank 0 writes into rank 1 and reads it back. */
	mpi_ok(MPI_Win_fence(0, win), "MPI_Win_fence");
	if (rank == 0) {
		fill(s, q, 70);
		memset(r, 0, q);
		mpi_ok(MPI_Win_lock(MPI_LOCK_EXCLUSIVE, 1, 0, win), "MPI_Win_lock");
		mpi_ok(MPI_Put(s, (int)q, MPI_BYTE, 1, (MPI_Aint)(3 * q), (int)q, MPI_BYTE, win),
		       "MPI_Put");
		mpi_ok(MPI_Win_flush(1, win), "MPI_Win_flush");
		mpi_ok(MPI_Get(r, (int)q, MPI_BYTE, 1, (MPI_Aint)(3 * q), (int)q, MPI_BYTE, win),
		       "MPI_Get");
		mpi_ok(MPI_Win_unlock(1, win), "MPI_Win_unlock");
		if ((d = check(r, q, 70)) >= 0)
			note_fail("rank 0: passive get after put differs at %ld", d);
	}
	mpi_ok(MPI_Barrier(MPI_COMM_WORLD), "MPI_Barrier");
	if (rank == 1 && (d = check(w + 3 * q, q, 70)) >= 0)
		note_fail("rank 1: passive put landed wrong at %ld", d);
	mpi_ok(MPI_Win_free(&win), "MPI_Win_free");
	mpi_ok(MPI_Win_free(&first), "MPI_Win_free");
out:
	free(w);
	release(s, q);
	release(r, q);
	release((uint8_t *)acc, q);
	verdict("rma");
}

static void exchange(uint8_t *s, uint8_t *r, size_t n, uint32_t round)
{
	long d;

	fill(s, n, (uint32_t)(90 + rank * 10) + round);
	mpi_ok(MPI_Sendrecv(s, (int)n, MPI_BYTE, peer, 200 + (int)round, r, (int)n, MPI_BYTE, peer,
			    200 + (int)round, MPI_COMM_WORLD, MPI_STATUS_IGNORE),
	       "MPI_Sendrecv");
	if ((d = check(r, n, (uint32_t)(90 + peer * 10) + round)) >= 0)
		note_fail("rank %d: round %u data differs at %ld", rank, round, d);
	if ((d = check(s, n, (uint32_t)(90 + rank * 10) + round)) >= 0)
		note_fail("rank %d: round %u own buffer changed at %ld", rank, round, d);
}

static void test_fork(void)
{
	const size_t n = 1u << 20;
	uint8_t *s = fresh(n), *r = fresh(n);
	int st;
	pid_t pid;

	pin_start();
	if (!s || !r)
		goto out;
	exchange(s, r, n, 0); /* the buffers are registered now */
	pin_sample(2 * n);
	pid = fork();
	if (pid == 0) {
		memset(s, 0xa5, n);
		memset(r, 0x5a, n);
		_exit(0);
	}
	if (pid < 0)
		note_fail("rank %d: fork: %m", rank);
	else if (waitpid(pid, &st, 0) != pid || !WIFEXITED(st) || WEXITSTATUS(st))
		note_fail("rank %d: the child did not exit cleanly (status 0x%x)", rank, st);
	exchange(s, r, n, 1);
	exchange(s, r, n, 2);
	pin_sample(2 * n);
out:
	release(s, n);
	release(r, n);
	verdict("fork");
}

static void usage(FILE *f)
{
	fprintf(f, "Usage: mpi_check [-t p2p,coll,rma,fork] [-m MAX_BYTES] [-P] [--help]\n"
		   "Run with exactly 2 MPI ranks: byte-exact point-to-point (1 B .. MAX_BYTES,\n"
		   "default 16 MiB), collectives, one-sided put/get/accumulate and fork of a\n"
		   "rank with registered buffers.  -P: fail when a rank's pinned and locked\n"
		   "memory (VmPin + VmLck) grows by half its live user buffers or more\n"
		   "(checked with 32 MiB or more live).\n");
}

int main(int argc, char **argv)
{
	const char *only = "p2p,coll,rma,fork";
	int size, opt;

	for (int i = 1; i < argc; i++)
		if (!strcmp(argv[i], "--help")) {
			usage(stdout);
			return T_EXIT_PASS;
		}
	while ((opt = getopt(argc, argv, "t:m:P")) != -1) {
		switch (opt) {
		case 't':
			only = optarg;
			break;
		case 'm':
			max_bytes = strtoull(optarg, NULL, 0);
			if (max_bytes < 64 || max_bytes > (1u << 30)) {
				fprintf(stderr, "mpi_check: -m wants 64 .. 1 GiB\n");
				return T_EXIT_USAGE;
			}
			break;
		case 'P':
			no_pin = 1;
			break;
		default:
			usage(stderr);
			return T_EXIT_USAGE;
		}
	}
	MPI_Init(&argc, &argv);
	MPI_Comm_rank(MPI_COMM_WORLD, &rank);
	MPI_Comm_size(MPI_COMM_WORLD, &size);
	if (size != 2) {
		if (rank == 0)
			fprintf(stderr, "mpi_check: needs exactly 2 ranks, got %d\n", size);
		MPI_Finalize();
		return T_EXIT_USAGE;
	}
	peer = 1 - rank;
	if (strstr(only, "p2p"))
		test_p2p();
	if (strstr(only, "coll"))
		test_coll();
	if (strstr(only, "rma"))
		test_rma();
	if (strstr(only, "fork"))
		test_fork();
	if (rank == 0)
		printf("%d passed, %d failed\n", passed, failed);
	MPI_Finalize();
	return failed || passed == 0 ? T_EXIT_FAIL : T_EXIT_PASS;
}
