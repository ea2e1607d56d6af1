/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */
/*
 * softodp_odptest: ioctl interface of /dev/softodp_odptest, the test-only
 * driver that drives the ODP core the way a device engine would.
 * Shared by the module and the userspace tests in tests/odp/.
 */
#ifndef SOFTODP_ODPTEST_UAPI_H
#define SOFTODP_ODPTEST_UAPI_H

#include <linux/ioctl.h>
#include <linux/types.h>

#define ODPT_DEV		"/dev/softodp_odptest"

/* odpt_reg.flags */
#define ODPT_REG_WRITE		(1U << 0)	/* device may write */
#define ODPT_REG_IMPLICIT	(1U << 1)	/* whole address space */

/* odpt_rw.flags and odpt_prefetch.flags */
#define ODPT_RW_NO_FAULT	(1U << 0)	/* use present pages only */
#define ODPT_RW_WRITE		(1U << 1)	/* prefetch: write access */

struct odpt_reg {
	__u64 addr;
	__u64 len;
	__u32 flags;
	__u32 page_shift;	/* 0: PAGE_SHIFT */
	__u32 handle;		/* out */
	__u32 pad;
};

struct odpt_rw {
	__u32 handle;
	__u32 flags;
	__u64 addr;		/* region address */
	__u64 len;
	__u64 buf;		/* user buffer */
};

struct odpt_counter {
	char name[40];
	__u64 value;
};

#define ODPT_SCOPE_REGION	0
#define ODPT_SCOPE_PROCESS	1	/* process owning the region */
#define ODPT_SCOPE_GLOBAL	2	/* totals of all regions; no handle */

struct odpt_counters {
	__u32 handle;
	__u32 scope;
	__u32 count;		/* in: capacity of ptr; out: counters */
	__u32 pad;
	__u64 ptr;		/* struct odpt_counter array */
};

struct odpt_objects {
	__u64 mms;
	__u64 umems;
	__u64 children;
};

struct odpt_kmem {
	__u32 handle;
	__u32 pad;
	__u64 bytes;		/* out */
};

/*
 * Background accessor: a kernel thread reads [addr, addr + len) through
 * the region again and again.  The range holds pages of 64-bit words
 * (gen << 32 | page index in the range).  While the phase set with
 * ODPT_SET_PHASE is even and unchanged across one read, every word must
 * carry the generation given with that phase; anything else is stale.
 */
struct odpt_acc {
	__u32 handle;
	__u32 id;		/* out of START, in for STOP */
	__u64 addr;
	__u64 len;
	/* results, out of STOP */
	__u64 iterations;
	__u64 checked;		/* reads made in a stable phase */
	__u64 stale;
	__u64 errors;		/* reads that failed (-EFAULT etc.) */
	__u64 eagain;		/* of which -EAGAIN (fault timed out) */
};

struct odpt_phase {
	__u32 phase;		/* odd: data changing; even: stable */
	__u32 gen;
};

/* Read through the region while holding the read side for hold_ms. */
struct odpt_hold {
	__u32 handle;
	__u32 hold_ms;
	__u64 addr;
	__u64 len;		/* at most 32 pages */
	__u64 buf;
	__s32 result;		/* out */
	__u32 pad;
};

/* odpt_park.flags */
#define ODPT_PARK_HOLD		(1U << 0)	/* hold a read-side section */

/*
 * Keep the caller's address space alive through an OOM kill: sleep
 * uninterruptibly (SIGKILL does not end it; the sleep is cut in 10 ms
 * slices, so no hung-task report) until the region's inv_nonblock counter
 * moves, or timeout_ms.  With ODPT_PARK_HOLD the page at addr is first
 * held inside a read-side section until inv_nonblock_fails moves (a
 * non-blockable finish pass refused), then the section is left.
 */
struct odpt_park {
	__u32 handle;
	__u32 flags;
	__u64 addr;
	__u32 timeout_ms;	/* per phase, at most 30000 */
	__u32 pad;
	__u64 fails;		/* out: inv_nonblock_fails seen to move by */
	__u64 nonblock;		/* out: inv_nonblock seen to move by */
};

/*
 * Fill the caller's memory cgroup from a kernel thread (its stack dumps
 * carry no user registers): charge pages with __GFP_RETRY_MAYFAIL until
 * the cgroup is full, then one plain allocation that may run the memcg
 * OOM killer; then free everything.  At most max_bytes are charged.
 * Returns at once; closing the file waits for the thread.
 */
struct odpt_hog {
	__u64 max_bytes;
};

/*
 * When the last invalidation passes of a region ran, on a clock that ticks
 * once per pass on any region of the process (see odp_umem_inv_trace()).
 */
struct odpt_passes {
	__u32 handle;
	__u32 native;		/* out: 1 if the kernel runs two passes */
	__u64 start_tick;	/* out */
	__u64 finish_tick;	/* out */
};

#define ODPT_MAGIC		0xb7
#define ODPT_REG		_IOWR(ODPT_MAGIC, 1, struct odpt_reg)
#define ODPT_DEREG		_IOW(ODPT_MAGIC, 2, __u32)
#define ODPT_READ		_IOW(ODPT_MAGIC, 3, struct odpt_rw)
#define ODPT_WRITE		_IOW(ODPT_MAGIC, 4, struct odpt_rw)
#define ODPT_PREFETCH		_IOW(ODPT_MAGIC, 5, struct odpt_rw)
#define ODPT_COUNTERS		_IOWR(ODPT_MAGIC, 6, struct odpt_counters)
#define ODPT_OBJECTS		_IOR(ODPT_MAGIC, 7, struct odpt_objects)
#define ODPT_KMEM		_IOWR(ODPT_MAGIC, 8, struct odpt_kmem)
#define ODPT_ACC_START		_IOWR(ODPT_MAGIC, 9, struct odpt_acc)
#define ODPT_ACC_STOP		_IOWR(ODPT_MAGIC, 10, struct odpt_acc)
#define ODPT_SET_PHASE		_IOW(ODPT_MAGIC, 11, struct odpt_phase)
#define ODPT_HOLD		_IOWR(ODPT_MAGIC, 12, struct odpt_hold)
#define ODPT_PARK		_IOWR(ODPT_MAGIC, 13, struct odpt_park)
#define ODPT_HOG		_IOW(ODPT_MAGIC, 14, struct odpt_hog)
#define ODPT_PASSES		_IOWR(ODPT_MAGIC, 15, struct odpt_passes)

#endif /* SOFTODP_ODPTEST_UAPI_H */
