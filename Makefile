# SPDX-License-Identifier: GPL-2.0
#
# Convenience front end: CMakeLists.txt is the build; this only drives it.
#   make         configure (once) and build userspace + kernel modules
#   make check   build, then run every test (ctest) incl. the VM suites
#   make lint    checkpatch + clang-format
BUILD ?= build
CTEST_ARGS ?= --output-on-failure

.PHONY: all check lint clean

all: $(BUILD)/CMakeCache.txt
	cmake --build $(BUILD)

$(BUILD)/CMakeCache.txt:
	cmake -S . -B $(BUILD)

check: all
	cd $(BUILD) && ctest $(CTEST_ARGS)

lint:
	scripts/lint

clean:
	rm -rf $(BUILD)
