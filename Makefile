# SPDX-License-Identifier: GPL-2.0
#
# Convenience front end: CMakeLists.txt is the build; this only drives it.
#   make         configure (once) and build userspace + kernel modules
#   make check   build, then run every test (ctest) incl. the VM suites
#   make lint    checkpatch + clang-format
#   make check-pair  two guests over one virtio-net link (tests/vm/vm-pair):
#                softodp 6.12 <-> softodp 6.1, softodp 6.12 <-> rdma_rxe 7.3;
#                not in make check (CI's time budget)
#   make check-debug  the VM suites under the KASAN/lockdep/UBSAN/kmemleak
#                kernel of scripts/build-debug-kernel (tests/vm/check-debug);
#                hours on 2 cores, not in make check
BUILD ?= build
CTEST_ARGS ?= --output-on-failure

.PHONY: all check check-pair check-debug lint clean

all: $(BUILD)/CMakeCache.txt
	cmake --build $(BUILD)

$(BUILD)/CMakeCache.txt:
	cmake -S . -B $(BUILD)

check: all
	cd $(BUILD) && ctest $(CTEST_ARGS)

check-pair: all
	tests/vm/vm-pair --build $(BUILD) --kernel-a 6.12 --kernel-b 6.1 --timeout 1500 \
		-- tests/vm/suites/pair softodp
	tests/vm/vm-pair --build $(BUILD) --kernel-a 6.12 --kernel-b 7.3 --timeout 1500 \
		-- tests/vm/suites/pair rxe

# Configures again: the debug kernel may have been built since the last
# configure, and only then is there a kmod_debug target.
check-debug: all
	cmake -S . -B $(BUILD) >/dev/null
	@cmake --build $(BUILD) --target help | grep -qw kmod_debug || \
		{ echo "check-debug: no debug kernel: run scripts/build-debug-kernel" >&2; exit 1; }
	cmake --build $(BUILD) --target kmod_debug
	tests/vm/check-debug --build $(BUILD)

lint:
	scripts/lint

clean:
	rm -rf $(BUILD)
