/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Exit statuses of every C test program, as the shell suites
 * (tests/lib/testlib.sh) and tests/odp/run-suite read them: 0 when every
 * test that ran passed, 1 when one failed (or nothing ran), 77 when every
 * test was skipped for a real reason (a missing precondition of the
 * machine, never a failure of softodp).  2 is a usage error.
 */
#ifndef SOFTODP_TESTS_T_STATUS_H
#define SOFTODP_TESTS_T_STATUS_H

#define T_EXIT_PASS  0
#define T_EXIT_FAIL  1
#define T_EXIT_USAGE 2
#define T_EXIT_SKIP  77

#endif /* SOFTODP_TESTS_T_STATUS_H */
