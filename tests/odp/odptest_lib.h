/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The library of the ODP core suite (odp_suite.c): thin wrappers around
 * the ioctls of /dev/softodp_odptest (tests/kmod/odptest.c) and the
 * PASS/FAIL/SKIP reporting convention with the exit statuses of
 * tests/lib/t_status.h, which tests/odp/run-suite reads.
 */
#ifndef SOFTODP_TESTS_ODPTEST_LIB_H
#define SOFTODP_TESTS_ODPTEST_LIB_H

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

#include "softodp_odptest_uapi.h"
#include "../lib/t_status.h"

#define T_PASS T_EXIT_PASS
#define T_FAIL T_EXIT_FAIL
#define T_SKIP T_EXIT_SKIP

extern const char *t_name;
extern long t_page;

/* Print "@word <test>: <reason>" and return @status from the test. */
#define T_END(word, status, ...)                                                                   \
	do {                                                                                       \
		printf(word " %s: ", t_name);                                                      \
		printf(__VA_ARGS__);                                                               \
		printf("\n");                                                                      \
		return status;                                                                     \
	} while (0)

#define FAIL(...) T_END("FAIL", T_FAIL, __VA_ARGS__)
/* Only for a missing precondition of the machine (no huge pages, ...). */
#define SKIP(...) T_END("SKIP", T_SKIP, __VA_ARGS__)

#define CHECK(cond, ...)                                                                           \
	do {                                                                                       \
		if (!(cond))                                                                       \
			FAIL(__VA_ARGS__);                                                         \
	} while (0)

static inline int odpt_open(void)
{
	return open(ODPT_DEV, O_RDWR | O_CLOEXEC);
}

/* Returns a handle (> 0) or -errno. */
static inline int odpt_reg(int fd, void *addr, uint64_t len, uint32_t flags, uint32_t shift)
{
	struct odpt_reg r = {
		.addr = (uintptr_t)addr,
		.len = len,
		.flags = flags,
		.page_shift = shift,
	};

	if (ioctl(fd, ODPT_REG, &r))
		return -errno;
	return (int)r.handle;
}

static inline int odpt_dereg(int fd, int h)
{
	uint32_t handle = (uint32_t)h;

	return ioctl(fd, ODPT_DEREG, &handle) ? -errno : 0;
}

static inline int odpt_io(int fd, unsigned long cmd, int h, const void *addr, void *buf,
			  uint64_t len, uint32_t flags)
{
	struct odpt_rw rw = {
		.handle = (uint32_t)h,
		.flags = flags,
		.addr = (uintptr_t)addr,
		.len = len,
		.buf = (uintptr_t)buf,
	};

	return ioctl(fd, cmd, &rw) ? -errno : 0;
}

/* Device read: region -> buf. */
static inline int odpt_read(int fd, int h, const void *addr, void *buf, uint64_t len,
			    uint32_t flags)
{
	return odpt_io(fd, ODPT_READ, h, addr, buf, len, flags);
}

/* Device write: buf -> region. */
static inline int odpt_write(int fd, int h, const void *addr, const void *buf, uint64_t len,
			     uint32_t flags)
{
	return odpt_io(fd, ODPT_WRITE, h, addr, (void *)buf, len, flags);
}

static inline int odpt_prefetch(int fd, int h, const void *addr, uint64_t len, uint32_t flags)
{
	return odpt_io(fd, ODPT_PREFETCH, h, addr, NULL, len, flags);
}

/* Value of a counter, or UINT64_MAX if it does not exist. */
static inline uint64_t odpt_ctr(int fd, int h, uint32_t scope, const char *name)
{
	struct odpt_counter c[64];
	struct odpt_counters q = {
		.handle = (uint32_t)h,
		.scope = scope,
		.count = 64,
		.ptr = (uintptr_t)c,
	};
	uint32_t i;

	if (ioctl(fd, ODPT_COUNTERS, &q))
		return UINT64_MAX;
	for (i = 0; i < q.count && i < 64; i++)
		if (!strcmp(c[i].name, name))
			return c[i].value;
	return UINT64_MAX;
}

#define RCTR(fd, h, name) odpt_ctr(fd, h, ODPT_SCOPE_REGION, name)
#define PCTR(fd, h, name) odpt_ctr(fd, h, ODPT_SCOPE_PROCESS, name)
#define GCTR(fd, name)	  odpt_ctr(fd, 0, ODPT_SCOPE_GLOBAL, name)

static inline int odpt_objects(int fd, struct odpt_objects *o)
{
	return ioctl(fd, ODPT_OBJECTS, o) ? -errno : 0;
}

static inline uint64_t odpt_kmem(int fd, int h)
{
	struct odpt_kmem k = {.handle = (uint32_t)h};

	if (ioctl(fd, ODPT_KMEM, &k))
		return UINT64_MAX;
	return k.bytes;
}

static inline double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static inline void fill_pattern(void *p, size_t len, unsigned int seed)
{
	unsigned char *c = p;
	size_t i;

	for (i = 0; i < len; i++)
		c[i] = (unsigned char)(i * 7 + seed * 13 + (i >> 12));
}

/* Index of the first differing byte, or -1. */
static inline long first_diff(const void *a, const void *b, size_t len)
{
	const unsigned char *x = a, *y = b;
	size_t i;

	for (i = 0; i < len; i++)
		if (x[i] != y[i])
			return (long)i;
	return -1;
}

#endif /* SOFTODP_TESTS_ODPTEST_LIB_H */
