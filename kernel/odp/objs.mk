# SPDX-License-Identifier: GPL-2.0
#
# ODP core objects, linked into softodp.ko (paths relative to kernel/).

odp-objs := odp/mm.o odp/umem.o odp/fault.o odp/invalidate.o \
	    odp/implicit.o odp/access.o odp/counters.o odp/debugfs.o
