// SPDX-License-Identifier: GPL-2.0
/*
 * Test-only module: the positive control of the debug kernel's checkers.
 * Loaded, it provokes one report of each kind tests/vm/vm-run must turn
 * into a failed run under --kernel debug: a lock-order inversion
 * (lockdep), a leaked allocation (kmemleak, at vm-run's scan after the
 * command), a shift out of bounds (UBSAN) and a read after free (KASAN).
 * lockdep goes first: the taint of a KASAN report turns lockdep off.
 * tests/vm/test-debug-controls checks that each report is seen.  Never
 * packaged; harmless on a production kernel except for the leak.
 */
#include <linux/compiler.h>
#include <linux/module.h>
#include <linux/mutex.h>
#include <linux/slab.h>

static DEFINE_MUTEX(debugtest_a);
static DEFINE_MUTEX(debugtest_b);
static void *debugtest_leak;

/* A then B, later B then A: lockdep reports the possible deadlock. */
static void debugtest_lock_inversion(void)
{
	mutex_lock(&debugtest_a);
	mutex_lock(&debugtest_b);
	mutex_unlock(&debugtest_b);
	mutex_unlock(&debugtest_a);

	mutex_lock(&debugtest_b);
	mutex_lock(&debugtest_a);
	mutex_unlock(&debugtest_a);
	mutex_unlock(&debugtest_b);
}

/* The only pointer to the allocation is overwritten: a leak. */
static void debugtest_leak_memory(void)
{
	WRITE_ONCE(debugtest_leak, kmalloc(200, GFP_KERNEL));
	WRITE_ONCE(debugtest_leak, NULL);
}

static u32 debugtest_shift(void)
{
	unsigned int n = 40;

	OPTIMIZER_HIDE_VAR(n);
	return 1U << n;
}

static u8 debugtest_use_after_free(void)
{
	u8 *p = kmalloc(64, GFP_KERNEL);

	if (!p)
		return 0;
	kfree(p);
	OPTIMIZER_HIDE_VAR(p);
	return READ_ONCE(p[8]);
}

static int __init softodp_debugtest_init(void)
{
	u32 shifted;
	u8 byte;

	debugtest_lock_inversion();
	debugtest_leak_memory();
	shifted = debugtest_shift();
	byte = debugtest_use_after_free();
	pr_info("softodp_debugtest: reports provoked (%u, %u)\n", shifted, byte);
	return 0;
}

static void __exit softodp_debugtest_exit(void)
{
}

module_init(softodp_debugtest_init);
module_exit(softodp_debugtest_exit);

MODULE_DESCRIPTION("softodp test: provokes lockdep, kmemleak, UBSAN and KASAN reports for the debug-kernel harness");
MODULE_LICENSE("GPL");
