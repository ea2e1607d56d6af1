# SPDX-License-Identifier: GPL-2.0
#
# Minimal test runner for softodp's shell suites (bash).  A suite defines
# functions named test_*; run_tests calls each one in a subshell with
# `set -e`, prints "PASS name (N s)", "FAIL name" (with the test's output) or
# "SKIP name: reason", and ends with the line "N passed, N failed, N skipped".
# A test skips by calling `skip REASON` and fails by calling `fail MESSAGE`
# or by returning non-zero.  errexit is NOT in force inside a test (bash
# ignores `set -e` in a subshell whose status is tested), so every command
# whose failure matters is checked: `cmd || fail "..."`.  Output lines of a passing test that start
# with "# " (measurements, notes) are shown too.  run_tests FILTER runs the
# tests whose names match *FILTER* (a glob); run_tests -FILTER all others,
# naming the ones it leaves out.

fail() { echo "FAIL: $*" >&2; exit 1; }
skip() { echo "$*" >&2; exit 77; }

# expect_eq WHAT EXPECTED ACTUAL
expect_eq() {
	[ "$2" = "$3" ] || fail "$1: expected '$2', got '$3'"
}

run_tests() {
	local t rc out t0 passed=0 failed=0 skipped=0 only=${1:-} except=''
	# -PATTERN: every test but those matching PATTERN (said in the output).
	if [[ "$only" == -* ]]; then
		except=${only#-}
		only=''
	fi
	for t in $(declare -F | awk '{ print $3 }' | grep '^test_'); do
		[ -z "$only" ] || [[ "$t" == *$only* ]] || continue
		if [ -n "$except" ] && [[ "$t" == *$except* ]]; then
			echo "# not run (filter -$except): ${t#test_}"
			continue
		fi
		t0=$SECONDS
		out=$( (set -e; "$t") 2>&1 ) && rc=0 || rc=$?
		case "$rc" in
		0) echo "PASS ${t#test_} ($((SECONDS - t0)) s)"; passed=$((passed + 1))
		   printf '%s\n' "$out" | grep '^# ' | sed 's/^/    /' || true ;;
		77) echo "SKIP ${t#test_}: $out"; skipped=$((skipped + 1)) ;;
		*) echo "FAIL ${t#test_} (exit $rc, $((SECONDS - t0)) s)"; printf '%s\n' "$out" | sed 's/^/    /'
		   failed=$((failed + 1)) ;;
		esac
	done
	echo "$passed passed, $failed failed, $skipped skipped"
	[ "$failed" -eq 0 ]
}
