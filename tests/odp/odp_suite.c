// SPDX-License-Identifier: GPL-2.0
/*
 * ODP core test suite.  Each named subtest checks one behaviour of the
 * softodp ODP core through /dev/softodp_odptest, byte for byte and with
 * the counters that prove which path ran.
 *
 *   odp_suite --list     names of the subtests, one per line
 *   odp_suite NAME...    run subtests; prints PASS/FAIL/SKIP lines
 *
 * Exit status: 0 all passed, 1 a failure, 77 all skipped.
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <sys/wait.h>

#include "odptest_lib.h"

const char *t_name;
long t_page;

#define MB    (1UL << 20)
#define SZ_2M (2UL << 20)

static void *map_anon(size_t len, int prot)
{
	void *p = mmap(NULL, len, prot, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	return p == MAP_FAILED ? NULL : p;
}

/* Map len bytes aligned to align (power of two); NULL on failure. */
static void *map_aligned(size_t len, size_t align, int flags)
{
	uint8_t *p = mmap(NULL, len + align, PROT_READ | PROT_WRITE, flags, -1, 0);
	uintptr_t a;

	if (p == MAP_FAILED)
		return NULL;
	a = ((uintptr_t)p + align - 1) & ~(uintptr_t)(align - 1);
	if (a > (uintptr_t)p)
		munmap(p, a - (uintptr_t)p);
	munmap((void *)(a + len), (uintptr_t)p + align - a);
	return (void *)a;
}

static int open_dev(int *fd)
{
	*fd = odpt_open();
	return *fd >= 0;
}

#define OPEN_OR_FAIL(fd)                                                                           \
	do {                                                                                       \
		if (!open_dev(&(fd)))                                                              \
			FAIL("open %s: %s", ODPT_DEV, strerror(errno));                            \
	} while (0)

/* R2/R6/R7: first touch faults every page once and reads exact data. */
static int t_first_touch(void)
{
	size_t len = 16 * t_page;
	uint8_t *a = map_anon(len, PROT_READ | PROT_WRITE);
	uint8_t *buf = malloc(len);
	int fd, h, ret;
	long d;

	OPEN_OR_FAIL(fd);
	CHECK(a && buf, "mmap");
	fill_pattern(a, len, 1);
	h = odpt_reg(fd, a, len, ODPT_REG_WRITE, 0);
	CHECK(h > 0, "register: %s", strerror(-h));
	CHECK(RCTR(fd, h, "pages_mapped") == 0, "pages mapped before touch");
	CHECK(RCTR(fd, h, "page_faults") == 0, "faults before touch");
	ret = odpt_read(fd, h, a, buf, len, 0);
	CHECK(!ret, "read: %s", strerror(-ret));
	d = first_diff(a, buf, len);
	CHECK(d < 0, "data differs at byte %ld", d);
	/* mlx5 semantics: page_faults counts pages, _handled fault events. */
	CHECK(RCTR(fd, h, "page_faults") == 16, "page_faults %llu != 16",
	      (unsigned long long)RCTR(fd, h, "page_faults"));
	CHECK(RCTR(fd, h, "page_faults_handled") >= 1, "no fault event counted");
	CHECK(RCTR(fd, h, "pages_mapped") == 16, "pages_mapped != 16");
	CHECK(PCTR(fd, h, "pages_mapped") >= 16, "process pages_mapped");

	/* Second access: no fault at all, and an unaligned cross-page read. */
	uint64_t faults = RCTR(fd, h, "page_faults");

	ret = odpt_read(fd, h, a + t_page - 50, buf, 100, ODPT_RW_NO_FAULT);
	CHECK(!ret, "no-fault re-read: %s", strerror(-ret));
	CHECK(!memcmp(buf, a + t_page - 50, 100), "cross-page data");
	CHECK(RCTR(fd, h, "page_faults") == faults, "second touch faulted");
	/* Outside the region. */
	ret = odpt_read(fd, h, a + len, buf, 1, 0);
	CHECK(ret == -EFAULT, "read outside region: %d", ret);
	close(fd);
	munmap(a, len);
	free(buf);
	return T_PASS;
}

/* R6: device writes land in memory; -EACCES without write permission. */
static int t_write_access(void)
{
	size_t len = 8 * t_page;
	uint8_t *a = map_anon(len, PROT_READ | PROT_WRITE);
	uint8_t *ro = map_anon(len, PROT_READ);
	uint8_t *buf = malloc(len);
	int fd, h, hro, hvma, ret;

	OPEN_OR_FAIL(fd);
	CHECK(a && ro && buf, "mmap");
	memset(a, 0x11, len);
	fill_pattern(buf, len, 2);
	h = odpt_reg(fd, a, len, ODPT_REG_WRITE, 0);
	CHECK(h > 0, "register");
	ret = odpt_write(fd, h, a + 3, buf, len - 3, 0);
	CHECK(!ret, "device write: %s", strerror(-ret));
	CHECK(a[0] == 0x11 && !memcmp(a + 3, buf, len - 3), "device write not visible to the CPU");

	hro = odpt_reg(fd, a, len, 0, 0);
	CHECK(hro > 0, "register read-only");
	ret = odpt_write(fd, hro, a, buf, 16, 0);
	CHECK(ret == -EACCES, "write to read-only region: %d", ret);
	ret = odpt_prefetch(fd, hro, a, len, ODPT_RW_WRITE);
	CHECK(ret == -EACCES, "write prefetch of read-only region: %d", ret);

	hvma = odpt_reg(fd, ro, len, ODPT_REG_WRITE, 0);
	CHECK(hvma > 0, "register PROT_READ mapping");
	ret = odpt_write(fd, hvma, ro, buf, 16, 0);
	CHECK(ret == -EACCES, "write to PROT_READ VMA: %d", ret);
	ret = odpt_read(fd, hvma, ro, buf, len, 0);
	CHECK(!ret, "read of PROT_READ VMA: %d", ret);
	for (size_t i = 0; i < len; i++)
		CHECK(!buf[i], "PROT_READ zero page byte %zu", i);
	close(fd);
	return T_PASS;
}

/* R3: UNMAP drops pages, frees page-table chunks; access gives -EFAULT. */
static int t_munmap_efault(void)
{
	size_t n = 1024, len = n * t_page;
	uint8_t *a = map_aligned(len, SZ_2M, MAP_PRIVATE | MAP_ANONYMOUS);
	uint8_t *buf = malloc(len);
	uint64_t k1, k2;
	int fd, h, ret;

	OPEN_OR_FAIL(fd);
	CHECK(a && buf, "mmap");
	madvise(a, len, MADV_NOHUGEPAGE);
	fill_pattern(a, len, 3);
	h = odpt_reg(fd, a, len, 0, 0);
	CHECK(h > 0, "register");
	ret = odpt_read(fd, h, a, buf, len, 0);
	CHECK(!ret && !memcmp(a, buf, len), "read before munmap");
	CHECK(RCTR(fd, h, "pt_chunks") == 2, "chunks %llu != 2",
	      (unsigned long long)RCTR(fd, h, "pt_chunks"));
	k1 = odpt_kmem(fd, h);
	CHECK(munmap(a, len) == 0, "munmap");
	ret = odpt_read(fd, h, a, buf, t_page, 0);
	CHECK(ret == -EFAULT, "read after munmap: %d", ret);
	ret = odpt_write(fd, h, a, buf, t_page, 0);
	CHECK(ret == -EACCES || ret == -EFAULT, "write after munmap: %d", ret);
	CHECK(RCTR(fd, h, "inv_unmap") >= 1, "UNMAP not counted");
	CHECK(RCTR(fd, h, "inv_unmap_pages") == n, "inv_unmap_pages %llu",
	      (unsigned long long)RCTR(fd, h, "inv_unmap_pages"));
	CHECK(RCTR(fd, h, "pages_mapped") == 0, "pages still mapped");
	CHECK(RCTR(fd, h, "pt_chunks") == 0, "chunks not freed");
	k2 = odpt_kmem(fd, h);
	printf("  kmem %llu -> %llu bytes\n", (unsigned long long)k1, (unsigned long long)k2);
	CHECK(k1 - k2 >= 2 * 4096, "chunk memory not released");
	close(fd);
	free(buf);
	return T_PASS;
}

/* R2/R3: munmap + mmap at the same address shows the new contents. */
static int t_remap_same_addr(void)
{
	size_t len = 8 * t_page;
	uint8_t *a = map_anon(len, PROT_READ | PROT_WRITE), *b;
	uint8_t *buf = malloc(len), *old = malloc(len);
	int fd, h, ret;

	OPEN_OR_FAIL(fd);
	CHECK(a && buf && old, "mmap");
	fill_pattern(a, len, 4);
	memcpy(old, a, len);
	h = odpt_reg(fd, a, len, 0, 0);
	CHECK(h > 0, "register");
	CHECK(!odpt_read(fd, h, a, buf, len, 0) && !memcmp(buf, old, len), "first read");
	munmap(a, len);
	b = mmap(a, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
	CHECK(b == a, "remap at same address");
	fill_pattern(b, len, 5);
	ret = odpt_read(fd, h, a, buf, len, 0);
	CHECK(!ret, "read after remap: %s", strerror(-ret));
	CHECK(!memcmp(buf, b, len), "stale data after remap (old page %s)",
	      memcmp(buf, old, len) ? "no" : "yes");
	CHECK(RCTR(fd, h, "inv_unmap_pages") == 8, "UNMAP pages");
	close(fd);
	return T_PASS;
}

/* R3/R6: mprotect read-only refuses device writes, keeps reads correct. */
static int t_mprotect_ro(void)
{
	size_t len = 8 * t_page;
	uint8_t *a = map_anon(len, PROT_READ | PROT_WRITE);
	uint8_t *buf = malloc(len);
	int fd, h, ret;

	OPEN_OR_FAIL(fd);
	CHECK(a && buf, "mmap");
	fill_pattern(a, len, 6);
	h = odpt_reg(fd, a, len, ODPT_REG_WRITE, 0);
	CHECK(h > 0, "register");
	CHECK(!odpt_write(fd, h, a, "abc", 3, 0), "write while RW");
	CHECK(mprotect(a, len, PROT_READ) == 0, "mprotect RO");
	CHECK(RCTR(fd, h, "inv_protection_vma") >= 1, "PROTECTION_VMA");
	ret = odpt_write(fd, h, a + t_page, "xyz", 3, 0);
	CHECK(ret == -EACCES, "write after mprotect RO: %d", ret);
	CHECK(a[t_page] != 'x', "write reached read-only memory");
	ret = odpt_read(fd, h, a, buf, len, 0);
	CHECK(!ret && !memcmp(buf, a, len), "read after mprotect RO");
	CHECK(mprotect(a, len, PROT_READ | PROT_WRITE) == 0, "mprotect RW");
	ret = odpt_write(fd, h, a + t_page, "xyz", 3, 0);
	CHECK(!ret && !memcmp(a + t_page, "xyz", 3), "write after RW: %d", ret);
	close(fd);
	return T_PASS;
}

/* R3: MADV_DONTNEED (CLEAR) drops pages; the device then reads zeros. */
static int t_madv_dontneed(void)
{
	size_t len = 8 * t_page;
	uint8_t *a = map_anon(len, PROT_READ | PROT_WRITE);
	uint8_t *buf = malloc(len);
	int fd, h, ret;

	OPEN_OR_FAIL(fd);
	CHECK(a && buf, "mmap");
	memset(a, 0x5a, len);
	h = odpt_reg(fd, a, len, 0, 0);
	CHECK(h > 0, "register");
	CHECK(!odpt_read(fd, h, a, buf, len, 0), "read");
	CHECK(madvise(a, len, MADV_DONTNEED) == 0, "madvise");
	CHECK(RCTR(fd, h, "inv_clear") >= 1, "CLEAR not counted");
	CHECK(RCTR(fd, h, "pages_mapped") == 0, "pages still mapped");
	ret = odpt_read(fd, h, a, buf, len, 0);
	CHECK(!ret, "read after DONTNEED: %d", ret);
	for (size_t i = 0; i < len; i++)
		CHECK(buf[i] == 0, "byte %zu is 0x%x, not zero", i, buf[i]);
	close(fd);
	return T_PASS;
}

/*
 * R3: fork write-protects (PROTECTION_PAGE) without dropping read
 * mappings; the parent's later writes break COW and are seen; the child's
 * writes never appear in the parent's region.
 */
static int t_fork_cow(void)
{
	size_t len = 4 * t_page;
	uint8_t *a = map_anon(len, PROT_READ | PROT_WRITE);
	uint8_t *buf = malloc(len);
	int p2c[2], c2p[2], fd, h, ret, st;
	uint64_t down0, faults, clear0;
	char c;
	pid_t pid;

	OPEN_OR_FAIL(fd);
	CHECK(a && buf && !pipe(p2c) && !pipe(c2p), "setup");
	memset(a, 'P', len);
	h = odpt_reg(fd, a, len, ODPT_REG_WRITE, 0);
	CHECK(h > 0, "register");
	ret = odpt_prefetch(fd, h, a, len, ODPT_RW_WRITE);
	CHECK(!ret, "write prefetch: %d", ret);
	down0 = RCTR(fd, h, "write_downgrades");
	clear0 = RCTR(fd, h, "inv_clear");

	pid = fork();
	CHECK(pid >= 0, "fork");
	if (!pid) {
		/* Child: own COW copy. */
		if (read(p2c[0], &c, 1) != 1)
			_exit(2);
		a[t_page] = 'C';
		if (write(c2p[1], "1", 1) != 1)
			_exit(2);
		if (read(p2c[0], &c, 1) != 1)
			_exit(2);
		_exit(a[2 * t_page] == 'P' && a[0] == 'P' ? 0 : 1);
	}
	CHECK(RCTR(fd, h, "inv_protection_page") >= 1, "PROTECTION_PAGE");
	CHECK(RCTR(fd, h, "inv_protection_page_pages") == 0, "fork dropped %llu read mappings",
	      (unsigned long long)RCTR(fd, h, "inv_protection_page_pages"));
	CHECK(RCTR(fd, h, "write_downgrades") - down0 == 4, "write downgrades %llu != 4",
	      (unsigned long long)(RCTR(fd, h, "write_downgrades") - down0));
	CHECK(RCTR(fd, h, "pages_mapped") == 4, "pages dropped by fork");
	faults = RCTR(fd, h, "page_faults");
	ret = odpt_read(fd, h, a, buf, len, ODPT_RW_NO_FAULT);
	CHECK(!ret, "no-fault read after fork: %d (read mapping lost)", ret);
	CHECK(RCTR(fd, h, "page_faults") == faults, "read after fork faulted");

	/* Parent writes page 0: COW break, the region must follow. */
	a[0] = 'Q';
	CHECK(RCTR(fd, h, "inv_clear") > clear0, "COW break not invalidated");
	ret = odpt_read(fd, h, a, buf, 1, 0);
	CHECK(!ret && buf[0] == 'Q', "stale pre-COW page seen: '%c'", buf[0]);

	/* Child writes page 1: invisible to the parent's region. */
	CHECK(write(p2c[1], "1", 1) == 1 && read(c2p[0], &c, 1) == 1, "sync");
	ret = odpt_read(fd, h, a + t_page, buf, t_page, 0);
	CHECK(!ret && buf[0] == 'P', "child write seen in parent region");

	/* Device write to page 2: parent sees it, child does not. */
	ret = odpt_write(fd, h, a + 2 * t_page, "D", 1, 0);
	CHECK(!ret && a[2 * t_page] == 'D', "device write after fork: %d", ret);
	CHECK(write(p2c[1], "2", 1) == 1, "sync");
	waitpid(pid, &st, 0);
	CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0, "child saw the parent's writes (status %d)",
	      st);
	close(fd);
	return T_PASS;
}

static int pagemap_soft_dirty(void *addr)
{
	uint64_t e;
	int fd = open("/proc/self/pagemap", O_RDONLY);
	off_t off = (off_t)((uintptr_t)addr / t_page) * 8;

	if (fd < 0)
		return -1;
	if (pread(fd, &e, 8, off) != 8)
		e = 0;
	close(fd);
	return (int)((e >> 55) & 1);
}

/* R3: clear_refs soft-dirty drops write access only; device write re-dirties. */
static int t_soft_dirty(void)
{
	size_t len = 4 * t_page;
	uint8_t *a = map_anon(len, PROT_READ | PROT_WRITE);
	uint8_t *buf = malloc(len);
	uint64_t down0, faults;
	int fd, cr, h, ret;

	OPEN_OR_FAIL(fd);
	CHECK(a && buf, "mmap");
	memset(a, 's', len);
	cr = open("/proc/self/clear_refs", O_WRONLY);
	if (cr < 0)
		SKIP("no /proc/self/clear_refs");
	h = odpt_reg(fd, a, len, ODPT_REG_WRITE, 0);
	CHECK(h > 0, "register");
	CHECK(!odpt_prefetch(fd, h, a, len, ODPT_RW_WRITE), "prefetch");
	down0 = RCTR(fd, h, "write_downgrades");
	CHECK(write(cr, "4", 1) == 1, "clear_refs: %s", strerror(errno));
	close(cr);
	CHECK(RCTR(fd, h, "inv_soft_dirty") >= 1, "SOFT_DIRTY not counted");
	CHECK(RCTR(fd, h, "inv_soft_dirty_pages") == 0, "read mappings dropped");
	CHECK(RCTR(fd, h, "write_downgrades") - down0 == 4, "downgrades");
	CHECK(RCTR(fd, h, "pages_mapped") == 4, "pages_mapped");
	CHECK(pagemap_soft_dirty(a + t_page) == 0, "soft-dirty not cleared");
	faults = RCTR(fd, h, "page_faults");
	ret = odpt_read(fd, h, a, buf, len, ODPT_RW_NO_FAULT);
	CHECK(!ret && buf[0] == 's', "no-fault read after clear_refs: %d", ret);
	CHECK(RCTR(fd, h, "page_faults") == faults, "read faulted");
	ret = odpt_write(fd, h, a + t_page, "W", 1, 0);
	CHECK(!ret && a[t_page] == 'W', "device write: %d", ret);
	CHECK(RCTR(fd, h, "page_faults") > faults, "write did not fault");
	CHECK(pagemap_soft_dirty(a + t_page) == 1, "device write not tracked as soft-dirty");
	CHECK(pagemap_soft_dirty(a + 2 * t_page) == 0, "untouched page soft-dirty");
	close(fd);
	return T_PASS;
}

/* R3/R5: mremap moves the pages away (UNMAP) and implicit follows them. */
static int t_mremap(void)
{
	size_t len = 8 * t_page;
	uint8_t *a = map_anon(len, PROT_READ | PROT_WRITE);
	uint8_t *b = map_anon(len, PROT_READ | PROT_WRITE), *m;
	uint8_t *buf = malloc(len), *ref = malloc(len);
	int fd, h, hi, hb, ret;

	OPEN_OR_FAIL(fd);
	CHECK(a && b && buf && ref, "mmap");
	fill_pattern(a, len, 9);
	memcpy(ref, a, len);
	h = odpt_reg(fd, a, len, 0, 0);
	hi = odpt_reg(fd, NULL, 0, ODPT_REG_IMPLICIT, 0);
	CHECK(h > 0 && hi > 0, "register");
	CHECK(!odpt_read(fd, h, a, buf, len, 0), "read");
	CHECK(!odpt_read(fd, hi, a, buf, len, 0), "implicit read");
	m = mremap(a, len, len, MREMAP_MAYMOVE | MREMAP_FIXED, b);
	CHECK(m == b, "mremap");
	ret = odpt_read(fd, h, a, buf, len, 0);
	CHECK(ret == -EFAULT, "old range after mremap: %d", ret);
	CHECK(RCTR(fd, h, "inv_unmap_pages") == 8, "UNMAP pages");
	ret = odpt_read(fd, hi, a, buf, len, 0);
	CHECK(ret == -EFAULT, "implicit old range: %d", ret);
	ret = odpt_read(fd, hi, b, buf, len, 0);
	CHECK(!ret && !memcmp(buf, ref, len), "implicit new range: %d", ret);
	hb = odpt_reg(fd, b, len, 0, 0);
	ret = odpt_read(fd, hb, b, buf, len, 0);
	CHECK(!ret && !memcmp(buf, ref, len), "new range: %d", ret);
	close(fd);
	return T_PASS;
}

static long smaps_kb(void *addr, const char *field)
{
	char line[256], want[64];
	FILE *f = fopen("/proc/self/smaps", "r");
	uintptr_t lo, hi;
	bool in = false;
	long v = -1;

	if (!f)
		return -1;
	snprintf(want, sizeof(want), "%s:", field);
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, "%lx-%lx ", &lo, &hi) == 2 &&
		    strchr(line, '-') < strchr(line, ' ')) {
			in = (uintptr_t)addr >= lo && (uintptr_t)addr < hi;
			continue;
		}
		if (in && !strncmp(line, want, strlen(want))) {
			v = atol(line + strlen(want));
			break;
		}
	}
	fclose(f);
	return v;
}

/* R6: THP-backed memory, at 4 KiB and at 2 MiB region granularity. */
static int t_thp(void)
{
	size_t len = SZ_2M;
	uint8_t *a, *buf = malloc(len);
	char mode[128] = "";
	FILE *f;
	int fd, h, h21, ret;

	f = fopen("/sys/kernel/mm/transparent_hugepage/enabled", "r");
	if (!f || !fgets(mode, sizeof(mode), f) || strstr(mode, "[never]"))
		SKIP("THP disabled (%s)", mode);
	fclose(f);
	OPEN_OR_FAIL(fd);
	a = map_aligned(len, SZ_2M, MAP_PRIVATE | MAP_ANONYMOUS);
	CHECK(a && buf, "mmap");
	CHECK(!madvise(a, len, MADV_HUGEPAGE), "madvise");
	fill_pattern(a, len, 10);
	if (smaps_kb(a, "AnonHugePages") < 2048)
		SKIP("no huge page allocated (AnonHugePages %ld kB)", smaps_kb(a, "AnonHugePages"));
	h = odpt_reg(fd, a, len, ODPT_REG_WRITE, 0);
	h21 = odpt_reg(fd, a, len, ODPT_REG_WRITE, 21);
	CHECK(h > 0 && h21 > 0, "register: %d %d", h, h21);
	ret = odpt_read(fd, h, a, buf, len, 0);
	CHECK(!ret && first_diff(buf, a, len) < 0, "4K read: %d", ret);
	ret = odpt_read(fd, h21, a, buf, len, 0);
	CHECK(!ret, "2M read: %d", ret);
	CHECK(first_diff(buf, a, len) < 0, "2M data at %ld", first_diff(buf, a, len));
	CHECK(RCTR(fd, h21, "page_faults") == 1 && RCTR(fd, h21, "pages_mapped") == 1,
	      "one 2M page expected");
	fill_pattern(buf, len, 11);
	ret = odpt_write(fd, h21, a + 100, buf, len - 200, 0);
	CHECK(!ret && !memcmp(a + 100, buf, len - 200), "2M write: %d", ret);
	ret = odpt_read(fd, h, a + len - 300, buf, 300, 0);
	CHECK(!ret && !memcmp(buf, a + len - 300, 300), "4K view of write");
	close(fd);
	return T_PASS;
}

/* R6: hugetlbfs pages with a 2 MiB region page size. */
static int t_hugetlb(void)
{
	size_t len = 2 * SZ_2M;
	uint8_t *a, *buf = malloc(len);
	int fd, h, ret;
	FILE *f;

	f = fopen("/proc/sys/vm/nr_hugepages", "r+");
	if (f) {
		long n = 0;

		if (fscanf(f, "%ld", &n) == 1 && n < 4) {
			rewind(f);
			fprintf(f, "16\n");
		}
		fclose(f);
	}
	a = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_HUGETLB, -1,
		 0);
	if (a == MAP_FAILED)
		SKIP("no hugetlb pages: %s", strerror(errno));
	OPEN_OR_FAIL(fd);
	CHECK(buf, "malloc");
	fill_pattern(a, len, 12);
	h = odpt_reg(fd, a, len, ODPT_REG_WRITE, 21);
	CHECK(h > 0, "register: %s", strerror(-h));
	ret = odpt_read(fd, h, a, buf, len, 0);
	CHECK(!ret, "read: %d", ret);
	CHECK(first_diff(buf, a, len) < 0, "data at %ld", first_diff(buf, a, len));
	CHECK(RCTR(fd, h, "pages_mapped") == 2, "pages_mapped %llu != 2",
	      (unsigned long long)RCTR(fd, h, "pages_mapped"));
	fill_pattern(buf, len, 13);
	ret = odpt_write(fd, h, a + SZ_2M - 10, buf, 20, 0);
	CHECK(!ret && !memcmp(a + SZ_2M - 10, buf, 20), "write: %d", ret);
	CHECK(!munmap(a, len), "munmap");
	CHECK(RCTR(fd, h, "inv_unmap_pages") == 2, "UNMAP of huge pages");
	ret = odpt_read(fd, h, a, buf, 1, 0);
	CHECK(ret == -EFAULT, "read after munmap: %d", ret);
	close(fd);
	return T_PASS;
}

/* R6: MAP_SHARED memfd: device writes reach the shared page cache. */
static int t_memfd_shared(void)
{
	size_t len = 4 * t_page;
	uint8_t *a, *b, *buf = malloc(len), *ref = malloc(len);
	int fd, mfd, h, ret;

	OPEN_OR_FAIL(fd);
	mfd = memfd_create("odp", 0);
	CHECK(mfd >= 0 && !ftruncate(mfd, len) && buf && ref, "memfd");
	a = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, mfd, 0);
	b = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, mfd, 0);
	CHECK(a != MAP_FAILED && b != MAP_FAILED, "mmap");
	h = odpt_reg(fd, a, len, ODPT_REG_WRITE, 0);
	CHECK(h > 0, "register");
	fill_pattern(ref, len, 14);
	ret = odpt_write(fd, h, a, ref, len, 0);
	CHECK(!ret, "device write: %d", ret);
	CHECK(!memcmp(b, ref, len), "other mapping does not see device write");
	CHECK(pread(mfd, buf, len, 0) == (ssize_t)len && !memcmp(buf, ref, len),
	      "file does not see device write");
	memset(b + t_page, 'b', 10);
	ret = odpt_read(fd, h, a + t_page, buf, 10, 0);
	CHECK(!ret && !memcmp(buf, "bbbbbbbbbb", 10), "CPU write not seen");
	close(fd);
	return T_PASS;
}

/* R6: MAP_PRIVATE file: reads see the file, device writes COW privately. */
static int t_file_private(void)
{
	size_t len = 4 * t_page;
	char path[] = "/tmp/odp_file_XXXXXX";
	uint8_t *a, *buf = malloc(len), *ref = malloc(len);
	int fd, ffd, h, ret;

	OPEN_OR_FAIL(fd);
	ffd = mkstemp(path);
	CHECK(ffd >= 0 && buf && ref, "mkstemp: %s", strerror(errno));
	unlink(path);
	fill_pattern(ref, len, 15);
	CHECK(pwrite(ffd, ref, len, 0) == (ssize_t)len, "pwrite");
	a = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE, ffd, 0);
	CHECK(a != MAP_FAILED, "mmap");
	h = odpt_reg(fd, a, len, ODPT_REG_WRITE, 0);
	CHECK(h > 0, "register");
	ret = odpt_read(fd, h, a, buf, len, 0);
	CHECK(!ret && !memcmp(buf, ref, len), "read of file pages: %d", ret);
	ret = odpt_write(fd, h, a, "WWWW", 4, 0);
	CHECK(!ret && !memcmp(a, "WWWW", 4), "device write: %d", ret);
	CHECK(pread(ffd, buf, len, 0) == (ssize_t)len && !memcmp(buf, ref, len),
	      "private write reached the file");
	memset(a + t_page, 'U', 8);
	ret = odpt_read(fd, h, a + t_page, buf, 8, 0);
	CHECK(!ret && !memcmp(buf, "UUUUUUUU", 8), "CPU COW not seen: %d", ret);
	ret = odpt_read(fd, h, a + 2 * t_page, buf, t_page, 0);
	CHECK(!ret && !memcmp(buf, ref + 2 * t_page, t_page), "page 2");
	close(fd);
	close(ffd);
	return T_PASS;
}

/*
 * Wait (up to 5 s: odp_mm frees are deferred by SRCU, children by the
 * reaper work) until the live object counts equal @want.  With
 * @children_only, only implicit children are compared.
 */
static int wait_objects_ex(int fd, const struct odpt_objects *want, struct odpt_objects *got,
			   bool children_only)
{
	int i;

	for (i = 0; i < 100; i++) {
		if (odpt_objects(fd, got))
			return 0;
		if (got->children == want->children &&
		    (children_only || (got->mms == want->mms && got->umems == want->umems)))
			return 1;
		usleep(50 * 1000);
	}
	return 0;
}

static int wait_objects(int fd, const struct odpt_objects *want, struct odpt_objects *got)
{
	return wait_objects_ex(fd, want, got, false);
}

/*
 * Baseline for object counts: frees deferred from earlier tests (SRCU,
 * reaper) may still be pending, so first wait for the module to be idle
 * (the suite runs tests one at a time and each one cleans up).
 */
static int settle_objects(int fd, struct odpt_objects *base)
{
	static const struct odpt_objects idle;

	wait_objects(fd, &idle, base);
	return odpt_objects(fd, base);
}

/* R1: one odp_mm per process, shared by all regions and all files. */
static int t_shared_mm(void)
{
	size_t len = 4 * t_page;
	uint8_t *a = map_anon(len, PROT_READ | PROT_WRITE);
	uint8_t buf[64];
	struct odpt_objects base, o;
	int fd, fd2, h1, h2, hi;

	OPEN_OR_FAIL(fd);
	CHECK(a, "mmap");
	memset(a, 1, len);
	CHECK(!settle_objects(fd, &base), "objects");
	CHECK(open_dev(&fd2), "second open");
	h1 = odpt_reg(fd, a, len, 0, 0);
	h2 = odpt_reg(fd2, a, len, 0, 0);
	hi = odpt_reg(fd2, NULL, 0, ODPT_REG_IMPLICIT, 0);
	CHECK(h1 > 0 && h2 > 0 && hi > 0, "register");
	CHECK(!odpt_objects(fd, &o), "objects");
	CHECK(o.mms == base.mms + 1, "odp_mm count %llu, want %llu", (unsigned long long)o.mms,
	      (unsigned long long)base.mms + 1);
	CHECK(o.umems == base.umems + 3, "umem count");
	CHECK(!odpt_read(fd, h1, a, buf, 64, 0), "read 1");
	CHECK(!odpt_read(fd2, h2, a + t_page, buf, 64, 0), "read 2");
	CHECK(!odpt_read(fd2, hi, a + 2 * t_page, buf, 64, 0), "read 3");
	CHECK(PCTR(fd, h1, "pages_mapped") == 3 && PCTR(fd2, h2, "pages_mapped") == 3,
	      "process counters not shared: %llu %llu",
	      (unsigned long long)PCTR(fd, h1, "pages_mapped"),
	      (unsigned long long)PCTR(fd2, h2, "pages_mapped"));
	close(fd2);
	base.mms++;
	base.umems++;
	CHECK(wait_objects(fd, &base, &o), "objects after close: %llu/%llu",
	      (unsigned long long)o.mms, (unsigned long long)o.umems);
	close(fd);
	return T_PASS;
}

/* R1/R3: the process exits while its regions live on: RELEASE drops all. */
static int t_exit_release(void)
{
	struct odpt_objects base, o;
	int fd, pfd[2], h = 0, st, ret;
	uint8_t buf[16], *caddr = NULL;
	pid_t pid;

	OPEN_OR_FAIL(fd);
	CHECK(!settle_objects(fd, &base) && !pipe(pfd), "setup");
	pid = fork();
	CHECK(pid >= 0, "fork");
	if (!pid) {
		uint8_t *a = map_anon(4 * t_page, PROT_READ | PROT_WRITE);
		uint8_t b[16];
		int hc;

		memset(a, 7, 4 * t_page);
		hc = odpt_reg(fd, a, 4 * t_page, 0, 0);
		if (hc <= 0 || odpt_read(fd, hc, a, b, 16, 0))
			_exit(1);
		if (odpt_prefetch(fd, hc, a, 4 * t_page, 0))
			_exit(1);
		if (write(pfd[1], &hc, sizeof(hc)) != sizeof(hc) ||
		    write(pfd[1], &a, sizeof(a)) != sizeof(a))
			_exit(1);
		_exit(0);
	}
	CHECK(read(pfd[0], &h, sizeof(h)) == sizeof(h) &&
		      read(pfd[0], &caddr, sizeof(caddr)) == sizeof(caddr),
	      "child handle");
	waitpid(pid, &st, 0);
	CHECK(WIFEXITED(st) && !WEXITSTATUS(st), "child failed");
	CHECK(RCTR(fd, h, "inv_release") >= 1, "RELEASE not counted");
	CHECK(RCTR(fd, h, "inv_release_pages") == 4, "RELEASE pages %llu",
	      (unsigned long long)RCTR(fd, h, "inv_release_pages"));
	CHECK(RCTR(fd, h, "pages_mapped") == 0, "pages survive exit");
	CHECK(PCTR(fd, h, "mm_release") == 1, "mm release not seen");
	ret = odpt_read(fd, h, caddr, buf, 1, 0);
	CHECK(ret == -EFAULT, "access after exit: %d", ret);
	CHECK(!odpt_objects(fd, &o) && o.mms == base.mms + 1,
	      "odp_mm must live while a region does");
	CHECK(!odpt_dereg(fd, h), "dereg");
	CHECK(wait_objects(fd, &base, &o), "leak: mms %llu umems %llu", (unsigned long long)o.mms,
	      (unsigned long long)o.umems);
	close(fd);
	return T_PASS;
}

/* R1/R5: process exit with live explicit and implicit regions frees all. */
static int t_exit_frees(void)
{
	struct odpt_objects base, o;
	int fd, st;
	pid_t pid;

	OPEN_OR_FAIL(fd);
	CHECK(!settle_objects(fd, &base), "objects");
	pid = fork();
	CHECK(pid >= 0, "fork");
	if (!pid) {
		uint8_t *a = map_anon(64 * t_page, PROT_READ | PROT_WRITE);
		uint8_t b[64];
		int cfd = odpt_open(), he, hi;

		memset(a, 3, 64 * t_page);
		he = odpt_reg(cfd, a, 64 * t_page, ODPT_REG_WRITE, 0);
		hi = odpt_reg(cfd, NULL, 0, ODPT_REG_IMPLICIT, 0);
		if (he <= 0 || hi <= 0 || odpt_read(cfd, he, a, b, 64, 0) ||
		    odpt_read(cfd, hi, a + t_page, b, 64, 0))
			_exit(1);
		_exit(0); /* no close, no dereg */
	}
	waitpid(pid, &st, 0);
	CHECK(WIFEXITED(st) && !WEXITSTATUS(st), "child failed");
	CHECK(wait_objects(fd, &base, &o), "leak after exit: mms %llu umems %llu children %llu",
	      (unsigned long long)o.mms, (unsigned long long)o.umems,
	      (unsigned long long)o.children);
	close(fd);
	return T_PASS;
}

struct hold_arg {
	int fd, h;
	void *addr;
	size_t len;
	void *buf;
	int ret, result;
	double entered;
};

static void *hold_thread(void *p)
{
	struct hold_arg *ha = p;
	struct odpt_hold hold = {
		.handle = (uint32_t)ha->h,
		.hold_ms = 2000,
		.addr = (uintptr_t)ha->addr,
		.len = ha->len,
		.buf = (uintptr_t)ha->buf,
	};

	ha->ret = ioctl(ha->fd, ODPT_HOLD, &hold) ? -errno : 0;
	ha->result = hold.result;
	return NULL;
}

/* R4: the finish pass waits for an accessor inside a copy. */
static int t_two_pass_wait(void)
{
	size_t len = 4 * t_page;
	uint8_t *a = map_anon(len, PROT_READ | PROT_WRITE);
	uint8_t *ref = malloc(len);
	struct hold_arg ha = {0};
	double t0, t1;
	pthread_t th;
	int fd, h;

	OPEN_OR_FAIL(fd);
	CHECK(a && ref, "mmap");
	fill_pattern(a, len, 16);
	memcpy(ref, a, len);
	h = odpt_reg(fd, a, len, 0, 0);
	CHECK(h > 0, "register");
	CHECK(!odpt_prefetch(fd, h, a, len, 0), "prefetch");
	ha.fd = fd;
	ha.h = h;
	ha.addr = a;
	ha.len = len;
	ha.buf = malloc(len);
	CHECK(!pthread_create(&th, NULL, hold_thread, &ha), "thread");
	usleep(500 * 1000); /* the accessor is inside its section */
	t0 = now_ms();
	CHECK(!munmap(a, len), "munmap");
	t1 = now_ms();
	pthread_join(th, NULL);
	printf("  munmap took %.0f ms while an accessor held the range\n", t1 - t0);
	CHECK(!ha.ret && !ha.result, "hold read failed: %d/%d", ha.ret, ha.result);
	CHECK(!memcmp(ha.buf, ref, len), "accessor read changed data");
	CHECK(t1 - t0 >= 1000, "munmap did not wait for the accessor");
	CHECK(RCTR(fd, h, "inv_waits") >= 1, "inv_waits not counted");
	close(fd);
	return T_PASS;
}

/* Linux 7.1 and later run interval notifiers in two passes natively. */
static bool kernel_has_two_pass(void)
{
	struct utsname u;
	int major = 0, minor = 0;

	if (uname(&u) || sscanf(u.release, "%d.%d", &major, &minor) != 2)
		return false;
	return major > 7 || (major == 7 && minor >= 1);
}

/*
 * One munmap over N regions of one mm: every region runs one start and one
 * finish pass, nobody waits (no accessor), and the order of the passes
 * shows who drives them.  Native two-pass (7.1+): every start pass before
 * any finish pass.  Emulated (6.x): each finish right after its own start.
 */
static int t_two_pass_order(void)
{
	enum { N = 8, PAGES = 4 };
	static const char *const ctrs[] = {"inv_start_passes", "inv_finish_passes",
					   "inv_single_pass", "inv_waits"};
	size_t slice = PAGES * t_page, len = N * slice;
	uint8_t *a = map_anon(len, PROT_READ | PROT_WRITE);
	uint64_t before[N][4], max_start = 0, min_finish = UINT64_MAX;
	bool native = kernel_has_two_pass();
	struct odpt_passes p[N];
	char order[2 * N + 1];
	int fd, h[N], i, k;

	OPEN_OR_FAIL(fd);
	CHECK(a, "mmap");
	madvise(a, len, MADV_NOHUGEPAGE);
	fill_pattern(a, len, 21);
	for (i = 0; i < N; i++) {
		h[i] = odpt_reg(fd, a + i * slice, slice, ODPT_REG_WRITE, 0);
		CHECK(h[i] > 0, "register region %d: %s", i, strerror(-h[i]));
		CHECK(!odpt_prefetch(fd, h[i], a + i * slice, slice, 0), "prefetch %d", i);
		for (k = 0; k < 4; k++)
			before[i][k] = RCTR(fd, h[i], ctrs[k]);
	}
	CHECK(!munmap(a, len), "munmap");

	for (i = 0; i < N; i++) {
		p[i] = (struct odpt_passes){.handle = (uint32_t)h[i]};
		CHECK(!ioctl(fd, ODPT_PASSES, &p[i]), "ODPT_PASSES: %s", strerror(errno));
		CHECK(p[i].native == native, "module built %s two-pass, kernel %s",
		      p[i].native ? "native" : "emulated", native ? "has it" : "has not");
		CHECK(RCTR(fd, h[i], "pages_mapped") == 0, "region %d still maps pages", i);
		for (k = 0; k < 4; k++) {
			uint64_t d = RCTR(fd, h[i], ctrs[k]) - before[i][k];
			uint64_t want = k < 2 ? 1 : 0;

			CHECK(d == want, "region %d: %s moved by %llu, want %llu", i, ctrs[k],
			      (unsigned long long)d, (unsigned long long)want);
		}
		if (p[i].start_tick > max_start)
			max_start = p[i].start_tick;
		if (p[i].finish_tick < min_finish)
			min_finish = p[i].finish_tick;
	}
	/* The mm's pass clock from the first start: S start pass, F finish pass. */
	uint64_t base = UINT64_MAX;

	for (i = 0; i < N; i++)
		if (p[i].start_tick < base)
			base = p[i].start_tick;
	memset(order, '.', 2 * N);
	order[2 * N] = 0;
	for (i = 0; i < N; i++) {
		if (p[i].start_tick - base < 2 * N)
			order[p[i].start_tick - base] = 'S';
		if (p[i].finish_tick - base < 2 * N)
			order[p[i].finish_tick - base] = 'F';
	}
	printf("  %d regions, one munmap, passes in order: %s (%s)\n", N, order,
	       native ? "native two-pass" : "emulated");
	if (native) {
		CHECK(max_start < min_finish,
		      "a finish pass (tick %llu) ran before a start pass (%llu)",
		      (unsigned long long)min_finish, (unsigned long long)max_start);
	} else {
		for (i = 0; i < N; i++)
			CHECK(p[i].finish_tick == p[i].start_tick + 1,
			      "region %d: finish at %llu, start at %llu: not back to back", i,
			      (unsigned long long)p[i].finish_tick,
			      (unsigned long long)p[i].start_tick);
	}
	close(fd);
	return T_PASS;
}

/* R6/R7: prefetch with fault, write and no_fault snapshot. */
static int t_prefetch(void)
{
	size_t n = 64, len = n * t_page;
	uint8_t *a = map_anon(len, PROT_READ | PROT_WRITE);
	uint8_t *ro = map_anon(len, PROT_READ);
	uint8_t buf[64];
	int fd, h, hro, ret;

	OPEN_OR_FAIL(fd);
	CHECK(a && ro, "mmap");
	madvise(a, len, MADV_NOHUGEPAGE);
	memset(a, 9, len / 2); /* touch the first half only */
	h = odpt_reg(fd, a, len, ODPT_REG_WRITE, 0);
	CHECK(h > 0, "register");
	ret = odpt_prefetch(fd, h, a, len, ODPT_RW_NO_FAULT);
	CHECK(!ret, "snapshot prefetch: %d", ret);
	CHECK(RCTR(fd, h, "pages_mapped") == n / 2, "snapshot mapped %llu",
	      (unsigned long long)RCTR(fd, h, "pages_mapped"));
	CHECK(RCTR(fd, h, "page_faults") == 0, "snapshot faulted");
	ret = odpt_read(fd, h, a + len - t_page, buf, 8, ODPT_RW_NO_FAULT);
	CHECK(ret == -EAGAIN, "no-fault read of absent page: %d", ret);
	ret = odpt_prefetch(fd, h, a, len, 0);
	CHECK(!ret && RCTR(fd, h, "pages_mapped") == n, "fault prefetch");
	CHECK(RCTR(fd, h, "prefetches") == 2, "prefetches counted");
	CHECK(RCTR(fd, h, "page_faults") == 0 && RCTR(fd, h, "page_faults_handled") == 0,
	      "a prefetch counted as a device page fault");
	ret = odpt_read(fd, h, a + len - t_page, buf, 8, ODPT_RW_NO_FAULT);
	CHECK(!ret, "no-fault read after prefetch: %d", ret);
	ret = odpt_prefetch(fd, h, a, len, ODPT_RW_WRITE);
	CHECK(!ret, "write prefetch: %d", ret);
	ret = odpt_write(fd, h, a, "x", 1, ODPT_RW_NO_FAULT);
	CHECK(!ret && a[0] == 'x', "no-fault write after write prefetch");
	hro = odpt_reg(fd, ro, len, ODPT_REG_WRITE, 0);
	ret = odpt_prefetch(fd, hro, ro, len, ODPT_RW_WRITE);
	CHECK(ret == -EACCES, "write prefetch of PROT_READ: %d", ret);
	munmap(ro, len);
	ret = odpt_prefetch(fd, hro, ro, len, 0);
	CHECK(ret == -EFAULT, "prefetch of hole: %d", ret);
	close(fd);
	return T_PASS;
}

/*
 * R5: implicit region: lazy children (one per GiB, the range straddles two),
 * data, holes, freeing on UNMAP.
 */
static int t_implicit_basic(void)
{
	size_t len = 8 * t_page, gib = 1UL << 30;
	uint8_t *res = map_aligned(2 * gib, gib, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE);
	uint8_t *a = res + gib - 4 * t_page;
	uint8_t *buf = malloc(len);
	struct odpt_objects base, o;
	int fd, h, ret;

	OPEN_OR_FAIL(fd);
	CHECK(res && buf, "mmap");
	CHECK(!munmap(a + len, t_page), "hole");
	fill_pattern(a, len, 17);
	h = odpt_reg(fd, NULL, 0, ODPT_REG_IMPLICIT | ODPT_REG_WRITE, 0);
	CHECK(h > 0, "register implicit");
	CHECK(!odpt_objects(fd, &base), "objects");
	CHECK(odpt_kmem(fd, h) < 4096, "implicit region costs %llu bytes",
	      (unsigned long long)odpt_kmem(fd, h));
	ret = odpt_read(fd, h, a, buf, len, 0);
	CHECK(!ret && !memcmp(buf, a, len), "read: %d", ret);
	CHECK(!odpt_objects(fd, &o) && o.children == base.children + 2,
	      "children %llu, want 2 more", (unsigned long long)(o.children - base.children));
	ret = odpt_write(fd, h, a + 5, "hello", 5, 0);
	CHECK(!ret && !memcmp(a + 5, "hello", 5), "write: %d", ret);
	ret = odpt_read(fd, h, a + len, buf, 1, 0);
	CHECK(ret == -EFAULT, "hole: %d", ret);
	CHECK(RCTR(fd, h, "pages_mapped") == 8, "pages_mapped");
	munmap(res, 2 * gib);
	CHECK(RCTR(fd, h, "pages_mapped") == 0, "pages after munmap");
	CHECK(wait_objects_ex(fd, &base, &o, true), "child not freed: %llu",
	      (unsigned long long)o.children);
	CHECK(RCTR(fd, h, "implicit_children_freed") >= 1, "freed counter");
	close(fd);
	return T_PASS;
}

/* R5/R7: 10 000 pages scattered over 1 TiB: memory follows touched pages. */
static int t_implicit_sparse(void)
{
	const size_t span = 1UL << 40, n = 10000;
	const uint64_t bound = 64 * MB;
	size_t pages = span / t_page, i;
	uint64_t *idx = malloc(n * sizeof(*idx)), x = 12345, kmem;
	uint8_t *base_addr, *buf = malloc(t_page), *ref = malloc(t_page);
	struct odpt_objects base, o;
	double t0 = now_ms();
	int fd, h, ret;

	OPEN_OR_FAIL(fd);
	base_addr = map_aligned(span, 1UL << 30, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE);
	CHECK(base_addr && idx && buf && ref, "reserve 1 TiB");
	CHECK(!mprotect(base_addr, span, PROT_NONE), "PROT_NONE");
	h = odpt_reg(fd, NULL, 0, ODPT_REG_IMPLICIT, 0);
	CHECK(h > 0, "register implicit");
	CHECK(!odpt_objects(fd, &base), "objects");
	for (i = 0; i < n; i++) {
		size_t j;
		uint8_t *p;

	again:
		x = x * 6364136223846793005ULL + 1442695040888963407ULL;
		idx[i] = (x >> 20) % pages;
		for (j = 0; j < i; j++)
			if (idx[j] == idx[i])
				goto again;
		p = base_addr + idx[i] * t_page;
		CHECK(!mprotect(p, t_page, PROT_READ | PROT_WRITE), "mprotect page %zu: %s", i,
		      strerror(errno));
		memset(p, (int)(i & 0xff), t_page);
		memcpy(p, &idx[i], sizeof(idx[i]));
	}
	for (i = 0; i < n; i++) {
		uint8_t *p = base_addr + idx[i] * t_page;

		ret = odpt_read(fd, h, p, buf, t_page, 0);
		CHECK(!ret, "read page %zu: %d", i, ret);
		memset(ref, (int)(i & 0xff), t_page);
		memcpy(ref, &idx[i], sizeof(idx[i]));
		CHECK(!memcmp(buf, ref, t_page), "data of page %zu", i);
	}
	kmem = odpt_kmem(fd, h);
	CHECK(!odpt_objects(fd, &o), "objects");
	printf("  %zu pages over 1 TiB: kmem %llu bytes (%.1f KiB per page), "
	       "%llu children, %.1f s\n",
	       n, (unsigned long long)kmem, kmem / 1024.0 / n,
	       (unsigned long long)(o.children - base.children), (now_ms() - t0) / 1e3);
	CHECK(RCTR(fd, h, "pages_mapped") == n, "pages_mapped %llu",
	      (unsigned long long)RCTR(fd, h, "pages_mapped"));
	CHECK(kmem < bound, "kmem %llu >= bound %llu", (unsigned long long)kmem,
	      (unsigned long long)bound);
	CHECK(o.children - base.children <= 1024, "too many children");
	CHECK(!munmap(base_addr, span), "munmap");
	CHECK(wait_objects_ex(fd, &base, &o, true),
	      "objects after munmap: mms %llu/%llu umems %llu/%llu "
	      "children %llu/%llu",
	      (unsigned long long)o.mms, (unsigned long long)base.mms, (unsigned long long)o.umems,
	      (unsigned long long)base.umems, (unsigned long long)o.children,
	      (unsigned long long)base.children);
	CHECK(odpt_kmem(fd, h) < 4096, "kmem after munmap %llu",
	      (unsigned long long)odpt_kmem(fd, h));
	close(fd);
	return T_PASS;
}

/* Stress: accessors versus munmap/mmap/mprotect/DONTNEED/mremap. */
struct stress {
	uint8_t *a, *scratch;
	size_t len;
	int fd;
	uint32_t phase, gen;
};

static int set_phase(struct stress *s, uint32_t phase)
{
	struct odpt_phase p = {.phase = phase, .gen = s->gen};

	s->phase = phase;
	return ioctl(s->fd, ODPT_SET_PHASE, &p);
}

static void stamp(uint8_t *p, size_t len, uint32_t gen)
{
	uint64_t *w = (uint64_t *)p;
	size_t i;

	for (i = 0; i < len / 8; i++)
		w[i] = ((uint64_t)gen << 32) | (i * 8 / t_page);
}

static int t_stress(void)
{
	const char *env = getenv("ODP_STRESS_SECS");
	double secs = env ? atof(env) : 10, t0;
	struct stress s = {.len = 64 * t_page};
	struct odpt_acc acc[2] = {0};
	unsigned long ops[5] = {0};
	int h, hi, i;
	unsigned int op;

	OPEN_OR_FAIL(s.fd);
	s.a = map_anon(s.len, PROT_READ | PROT_WRITE);
	s.scratch = map_anon(s.len, PROT_READ | PROT_WRITE);
	CHECK(s.a && s.scratch, "mmap");
	s.gen = 1;
	stamp(s.a, s.len, s.gen);
	CHECK(!set_phase(&s, 2), "phase");
	h = odpt_reg(s.fd, s.a, s.len, 0, 0);
	hi = odpt_reg(s.fd, NULL, 0, ODPT_REG_IMPLICIT, 0);
	CHECK(h > 0 && hi > 0, "register");
	acc[0].handle = (uint32_t)h;
	acc[1].handle = (uint32_t)hi;
	for (i = 0; i < 2; i++) {
		acc[i].addr = (uintptr_t)s.a;
		acc[i].len = s.len;
		CHECK(!ioctl(s.fd, ODPT_ACC_START, &acc[i]), "accessor start");
	}
	t0 = now_ms();
	for (op = 0; now_ms() - t0 < secs * 1000; op++) {
		unsigned int k = op % 5;
		void *m;

		ops[k]++;
		if (k == 2) {
			/* Same data, permissions flip: stays stable. */
			CHECK(!mprotect(s.a, s.len, PROT_READ), "mprotect");
			CHECK(!mprotect(s.a, s.len, PROT_READ | PROT_WRITE), "mprotect");
			continue;
		}
		CHECK(!set_phase(&s, s.phase + 1), "phase"); /* odd */
		s.gen++;
		switch (k) {
		case 0:
			m = mmap(s.a, s.len, PROT_READ | PROT_WRITE,
				 MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
			CHECK(m == s.a, "mmap fixed");
			break;
		case 1:
			CHECK(!munmap(s.a, s.len), "munmap");
			usleep(100);
			m = mmap(s.a, s.len, PROT_READ | PROT_WRITE,
				 MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
			CHECK(m == s.a, "mmap");
			break;
		case 3:
			CHECK(!madvise(s.a, s.len, MADV_DONTNEED), "madvise");
			break;
		case 4:
			stamp(s.scratch, s.len, s.gen);
			m = mremap(s.scratch, s.len, s.len, MREMAP_MAYMOVE | MREMAP_FIXED, s.a);
			CHECK(m == s.a, "mremap");
			s.scratch = map_anon(s.len, PROT_READ | PROT_WRITE);
			CHECK(s.scratch, "scratch");
			break;
		}
		if (k != 4)
			stamp(s.a, s.len, s.gen);
		CHECK(!set_phase(&s, s.phase + 1), "phase"); /* even */
		usleep(2000);
	}
	for (i = 0; i < 2; i++) {
		CHECK(!ioctl(s.fd, ODPT_ACC_STOP, &acc[i]), "accessor stop");
		printf("  accessor %s: %llu reads, %llu checked, %llu stale, "
		       "%llu errors (%llu timeouts)\n",
		       i ? "implicit" : "explicit", (unsigned long long)acc[i].iterations,
		       (unsigned long long)acc[i].checked, (unsigned long long)acc[i].stale,
		       (unsigned long long)acc[i].errors, (unsigned long long)acc[i].eagain);
	}
	printf("  mutator: %u ops (%lu mmap, %lu munmap, %lu mprotect, "
	       "%lu dontneed, %lu mremap)\n",
	       op, ops[0], ops[1], ops[2], ops[3], ops[4]);
	for (i = 0; i < 2; i++) {
		CHECK(!acc[i].stale, "%llu stale reads", (unsigned long long)acc[i].stale);
		CHECK(acc[i].checked >= 10, "too few checked reads");
	}
	CHECK(RCTR(s.fd, h, "inv_unmap") > 0 && RCTR(s.fd, h, "inv_clear") > 0 &&
		      RCTR(s.fd, h, "inv_protection_vma") > 0,
	      "event coverage");
	close(s.fd);
	return T_PASS;
}

/*
 * OOM reaper: the non-blocking invalidation path.
 *
 * A victim process in a memory cgroup registers a region and parks a
 * thread in ODPT_PARK, which holds a read-side section of the region and
 * sleeps uninterruptibly: SIGKILL cannot end it, so the address space
 * outlives the OOM kill and the OOM reaper (mm/oom_kill.c, 2 s after the
 * kill, only while the mm is alive) reaps it with
 * mmu_notifier_invalidate_range_start_nonblock().  Its first try must be
 * refused by the finish pass (an accessor is inside a section), the
 * thread then leaves the section and the reaper's retry (100 ms later)
 * succeeds.  The cgroup is filled by ODPT_HOG, a kernel thread, so the OOM
 * report carries no user registers.  The regions and the process context
 * die with the victim: the proof is in the global counters.
 */
#define CG_ROOT	    "/sys/fs/cgroup"
#define CG2_MAGIC   0x63677270 /* CGROUP2_SUPER_MAGIC */
#define SYSFS_MAGIC 0x62656572

static int put_str(const char *path, const char *val)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC), ret = 0;

	if (fd < 0)
		return -errno;
	if (write(fd, val, strlen(val)) != (ssize_t)strlen(val))
		ret = -errno;
	close(fd);
	return ret;
}

static bool file_has(const char *path, const char *word)
{
	char buf[512] = "";
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		return false;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	return n > 0 && strstr(buf, word);
}

static char thread_state(pid_t tid)
{
	char path[64], buf[256], *p;
	int fd;
	ssize_t n;

	snprintf(path, sizeof(path), "/proc/self/task/%d/stat", (int)tid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return '?';
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return '?';
	buf[n] = 0;
	p = strrchr(buf, ')');
	return p && p[1] && p[2] ? p[2] : '?';
}

struct park_arg {
	int fd, h;
	void *addr;
	pid_t tid; /* set by the thread, __atomic */
};

static void *park_thread(void *p)
{
	struct park_arg *pa = p;
	struct odpt_park park = {
		.handle = (uint32_t)pa->h,
		.flags = ODPT_PARK_HOLD,
		.addr = (uintptr_t)pa->addr,
		.timeout_ms = 20000,
	};

	__atomic_store_n(&pa->tid, (pid_t)syscall(SYS_gettid), __ATOMIC_RELEASE);
	ioctl(pa->fd, ODPT_PARK, &park);
	return NULL;
}

/* The victim; exit codes other than death by SIGKILL are failures. */
static void oom_victim(const char *procs)
{
	size_t len = 256 * t_page;
	struct odpt_hog hog = {.max_bytes = 256 * MB};
	struct park_arg pa = {0};
	char pid[32];
	uint8_t *a;
	pthread_t th;
	int i, d;

	snprintf(pid, sizeof(pid), "%d", (int)getpid());
	if (put_str(procs, pid))
		_exit(10);
	/* Touched after the move: charged to the cgroup; no khugepaged. */
	a = map_anon(len, PROT_READ | PROT_WRITE);
	if (!a || madvise(a, len, MADV_NOHUGEPAGE))
		_exit(11);
	memset(a, 0x5a, len);
	pa.fd = odpt_open();
	pa.addr = a;
	pa.h = pa.fd < 0 ? -1 : odpt_reg(pa.fd, a, len, 0, 0);
	if (pa.h <= 0 || odpt_prefetch(pa.fd, pa.h, a, len, 0))
		_exit(12);
	if (pthread_create(&th, NULL, park_thread, &pa))
		_exit(13);
	/* Parked: uninterruptible sleep seen twice, 50 ms apart. */
	for (i = 0, d = 0; i < 400 && d < 2; i++) {
		pid_t tid = __atomic_load_n(&pa.tid, __ATOMIC_ACQUIRE);

		usleep(50 * 1000);
		d = tid && thread_state(tid) == 'D' ? d + 1 : 0;
	}
	if (d < 2)
		_exit(14);
	if (ioctl(pa.fd, ODPT_HOG, &hog))
		_exit(15);
	for (i = 0; i < 300; i++) /* the OOM killer ends this */
		usleep(100 * 1000);
	_exit(16);
}

/* Collect kernel log lines for pid from /dev/kmsg (opened before). */
static void kmsg_scan(int kfd, pid_t pid, char *killed, char *reaped, size_t size)
{
	char rec[4096], k[64], r[64], *msg, *nl;
	ssize_t n;

	snprintf(k, sizeof(k), "Killed process %d ", (int)pid);
	snprintf(r, sizeof(r), "oom_reaper: reaped process %d ", (int)pid);
	for (;;) {
		n = read(kfd, rec, sizeof(rec) - 1);
		if (n < 0 && errno == EPIPE)
			continue; /* overwritten records */
		if (n <= 0)
			break;
		rec[n] = 0;
		msg = strchr(rec, ';');
		if (!msg)
			continue;
		msg++;
		nl = strchr(msg, '\n');
		if (nl)
			*nl = 0;
		if (strstr(msg, k))
			snprintf(killed, size, "%s", msg);
		if (strstr(msg, r))
			snprintf(reaped, size, "%s", msg);
	}
}

static int oom_run(int fd, const char *cg)
{
	char procs[256], killed[512] = "", reaped[512] = "";
	uint64_t nb0, f0, nb1, f1;
	struct odpt_objects base, o;
	int kfd, st;
	pid_t pid;

	CHECK(!settle_objects(fd, &base), "objects");
	kfd = open("/dev/kmsg", O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	CHECK(kfd >= 0 && lseek(kfd, 0, SEEK_END) >= 0, "/dev/kmsg: %s", strerror(errno));
	nb0 = GCTR(fd, "inv_nonblock");
	f0 = GCTR(fd, "inv_nonblock_fails");
	CHECK(nb0 != UINT64_MAX && f0 != UINT64_MAX, "global counters");
	snprintf(procs, sizeof(procs), "%s/cgroup.procs", cg);
	pid = fork();
	CHECK(pid >= 0, "fork");
	if (!pid)
		oom_victim(procs);
	CHECK(waitpid(pid, &st, 0) == pid, "waitpid");
	nb1 = GCTR(fd, "inv_nonblock");
	f1 = GCTR(fd, "inv_nonblock_fails");
	kmsg_scan(kfd, pid, killed, reaped, sizeof(killed));
	close(kfd);
	CHECK(WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL,
	      "victim not OOM-killed: status 0x%x (exit 10 cgroup.procs, "
	      "11 mmap, 12 register, 13 thread, 14 not parked, 15 hog, "
	      "16 not killed)",
	      st);
	CHECK(killed[0], "no OOM kill of %d in the kernel log", (int)pid);
	printf("  note: %s\n", killed);
	CHECK(reaped[0], "the OOM reaper did not reap %d", (int)pid);
	printf("  note: %s\n", reaped);
	printf("  global inv_nonblock %llu -> %llu, inv_nonblock_fails %llu -> %llu\n",
	       (unsigned long long)nb0, (unsigned long long)nb1, (unsigned long long)f0,
	       (unsigned long long)f1);
	CHECK(f1 > f0, "reaper not refused while an accessor was inside");
	CHECK(nb1 > nb0, "no non-blockable invalidation completed");
	CHECK(wait_objects(fd, &base, &o), "leak: mms %llu umems %llu", (unsigned long long)o.mms,
	      (unsigned long long)o.umems);
	return T_PASS;
}

static int t_oom_reaper_nonblock(void)
{
	char cg[128], path[256];
	bool mounted = false;
	struct statfs sfs;
	int fd, ret, i;

	if (geteuid())
		SKIP("not root");
	if (statfs(CG_ROOT, &sfs))
		SKIP("%s: %s", CG_ROOT, strerror(errno));
	if ((unsigned long)sfs.f_type == SYSFS_MAGIC) {
		if (mount("none", CG_ROOT, "cgroup2", 0, NULL))
			SKIP("mount cgroup2: %s", strerror(errno));
		mounted = true;
	} else if ((unsigned long)sfs.f_type != CG2_MAGIC) {
		SKIP("%s is not a cgroup v2 hierarchy", CG_ROOT);
	}
	ret = T_SKIP;
	if (!file_has(CG_ROOT "/cgroup.controllers", "memory")) {
		printf("SKIP %s: no memory controller\n", t_name);
		goto out_umount;
	}
	if (put_str(CG_ROOT "/cgroup.subtree_control", "+memory")) {
		printf("SKIP %s: cannot enable the memory controller\n", t_name);
		goto out_umount;
	}
	if (file_has("/proc/sys/vm/panic_on_oom", "2")) {
		printf("SKIP %s: vm.panic_on_oom is 2\n", t_name);
		goto out_umount;
	}
	snprintf(cg, sizeof(cg), CG_ROOT "/odp_oom_%d", (int)getpid());
	if (mkdir(cg, 0755)) {
		printf("SKIP %s: mkdir %s: %s\n", t_name, cg, strerror(errno));
		goto out_umount;
	}
	snprintf(path, sizeof(path), "%s/memory.max", cg);
	if (put_str(path, "64M")) {
		printf("SKIP %s: memory.max: %s\n", t_name, strerror(errno));
		goto out_rmdir;
	}
	/* No swap for the victim (the file is missing without swap). */
	snprintf(path, sizeof(path), "%s/memory.swap.max", cg);
	if (!access(path, F_OK) && put_str(path, "0")) {
		printf("SKIP %s: memory.swap.max: %s\n", t_name, strerror(errno));
		goto out_rmdir;
	}
	ret = T_FAIL;
	if (!open_dev(&fd)) {
		printf("FAIL %s: open %s: %s\n", t_name, ODPT_DEV, strerror(errno));
		goto out_rmdir;
	}
	ret = oom_run(fd, cg);
	close(fd);
out_rmdir:
	/* The memcg of the victim may take a moment to go. */
	for (i = 0; i < 50 && rmdir(cg) && errno == EBUSY; i++)
		usleep(100 * 1000);
out_umount:
	if (mounted)
		umount(CG_ROOT);
	return ret;
}

/* R7: counters are readable through debugfs. */
static int t_debugfs(void)
{
	const char *path = "/sys/kernel/debug/softodp/odp/mms";
	char line[256], want[64];
	uint8_t *a = map_anon(t_page, PROT_READ | PROT_WRITE), buf[8];
	bool mm = false, ctr = false;
	int fd, h;
	FILE *f;

	if (access("/sys/kernel/debug/softodp", F_OK))
		SKIP("debugfs not mounted");
	OPEN_OR_FAIL(fd);
	h = odpt_reg(fd, a, t_page, 0, 0);
	CHECK(h > 0 && !odpt_read(fd, h, a, buf, 8, 0), "register/read");
	snprintf(want, sizeof(want), "mm tgid %d", (int)getpid());
	f = fopen(path, "r");
	CHECK(f, "open %s: %s", path, strerror(errno));
	while (fgets(line, sizeof(line), f)) {
		if (!strncmp(line, want, strlen(want)))
			mm = true;
		if (mm && strstr(line, "page_faults_handled 1"))
			ctr = true;
	}
	fclose(f);
	CHECK(mm, "process not listed");
	CHECK(ctr, "counters not listed");
	f = fopen("/sys/kernel/debug/softodp/odp/objects", "r");
	CHECK(f && fgets(line, sizeof(line), f) && !strncmp(line, "mms ", 4), "objects file");
	fclose(f);
	/* Totals: every counter, zero or not, including this read. */
	f = fopen("/sys/kernel/debug/softodp/odp/counters", "r");
	CHECK(f, "counters file: %s", strerror(errno));
	mm = ctr = false;
	while (fgets(line, sizeof(line), f)) {
		if (!strncmp(line, "inv_nonblock ", 13))
			mm = true;
		if (!strncmp(line, "page_faults_handled ", 20) &&
		    strtoull(line + 20, NULL, 10) >= 1)
			ctr = true;
	}
	fclose(f);
	CHECK(mm && ctr, "counters file lacks inv_nonblock or page faults");
	close(fd);
	return T_PASS;
}

/* Module unload is refused while a file with live regions is open. */
static int t_rmmod_busy(void)
{
	uint8_t *a = map_anon(t_page, PROT_READ | PROT_WRITE), buf[8];
	int fd, h;

	if (geteuid())
		SKIP("not root");
	OPEN_OR_FAIL(fd);
	h = odpt_reg(fd, a, t_page, 0, 0);
	CHECK(h > 0 && !odpt_read(fd, h, a, buf, 8, 0), "register/read");
	CHECK(system("rmmod softodp_odptest 2>/dev/null") != 0,
	      "softodp_odptest unloaded with live regions");
	CHECK(system("rmmod softodp 2>/dev/null") != 0, "softodp unloaded with live regions");
	CHECK(!odpt_read(fd, h, a, buf, 8, 0), "region unusable");
	close(fd);
	CHECK(system("rmmod softodp_odptest") == 0, "rmmod after close");
	CHECK(system("modprobe softodp_odptest") == 0, "reload");
	return T_PASS;
}

static const struct {
	const char *name;
	int (*fn)(void);
} tests[] = {
	{"first_touch", t_first_touch},
	{"write_access", t_write_access},
	{"munmap_efault", t_munmap_efault},
	{"remap_same_addr", t_remap_same_addr},
	{"mprotect_ro", t_mprotect_ro},
	{"madv_dontneed", t_madv_dontneed},
	{"fork_cow", t_fork_cow},
	{"soft_dirty", t_soft_dirty},
	{"mremap", t_mremap},
	{"thp", t_thp},
	{"hugetlb", t_hugetlb},
	{"memfd_shared", t_memfd_shared},
	{"file_private", t_file_private},
	{"shared_mm", t_shared_mm},
	{"exit_release", t_exit_release},
	{"exit_frees", t_exit_frees},
	{"two_pass_wait", t_two_pass_wait},
	{"two_pass_order", t_two_pass_order},
	{"prefetch", t_prefetch},
	{"implicit_basic", t_implicit_basic},
	{"implicit_sparse", t_implicit_sparse},
	{"stress", t_stress},
	{"oom_reaper_nonblock", t_oom_reaper_nonblock},
	{"debugfs", t_debugfs},
	{"rmmod_busy", t_rmmod_busy},
};

int main(int argc, char **argv)
{
	size_t i, nt = sizeof(tests) / sizeof(tests[0]);
	int failed = 0, passed = 0, j;

	t_page = sysconf(_SC_PAGESIZE);
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (argc == 2 && !strcmp(argv[1], "--list")) {
		for (i = 0; i < nt; i++)
			printf("%s\n", tests[i].name);
		return 0;
	}
	for (j = 1; j < argc; j++) {
		for (i = 0; i < nt; i++)
			if (!strcmp(argv[j], tests[i].name))
				break;
		if (i == nt) {
			printf("FAIL %s: no such test\n", argv[j]);
			failed++;
			continue;
		}
		t_name = tests[i].name;
		switch (tests[i].fn()) {
		case T_PASS:
			printf("PASS %s\n", t_name);
			passed++;
			break;
		case T_SKIP:
			break;
		default:
			failed++;
		}
	}
	if (failed)
		return 1;
	return passed ? 0 : 77;
}
