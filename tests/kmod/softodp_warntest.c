// SPDX-License-Identifier: GPL-2.0
/*
 * Test-only module that provokes exactly one kernel WARNING when loaded.
 * The VM harness must report it as a failure; tests/vm/test-harness checks
 * that it does.  Never packaged.
 */
#include <linux/bug.h>
#include <linux/module.h>

static int __init softodp_warntest_init(void)
{
	WARN(1, "softodp_warntest: deliberate warning for the harness detector\n");
	return 0;
}

static void __exit softodp_warntest_exit(void)
{
}

module_init(softodp_warntest_init);
module_exit(softodp_warntest_exit);

MODULE_DESCRIPTION("softodp test: provokes a WARN for the VM harness detector");
MODULE_LICENSE("GPL");
