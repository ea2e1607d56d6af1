# SPDX-License-Identifier: GPL-2.0
#
# Convenience front end: CMakeLists.txt is the build; this only drives it.
#   make         configure (once) and build userspace + kernel modules
#   make check   build, then run every test (ctest) incl. the VM suites
#   make lint    checkpatch + clang-format
#   make check-pair  two guests over one virtio-net link (tests/vm/vm-pair):
#                softodp 6.12 <-> softodp 6.1, softodp 6.12 <-> rdma_rxe 7.3;
#                not in make check (CI's time budget)
BUILD ?= build
CTEST_ARGS ?= --output-on-failure

.PHONY: all check check-pair lint clean

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

lint:
	scripts/lint

clean:
	rm -rf $(BUILD)
