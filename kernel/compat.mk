# SPDX-License-Identifier: GPL-2.0
#
# Kbuild probes for kernel/include/softodp_compat.h: what a header lacks or
# names differently cannot be told from a type, so grep the headers of the
# kernel being built against.  sodp_probe(ERE,HEADER,MACRO).

sodp_probe = $(if $(shell grep -s -E '$(1)' $(srctree)/include/$(2)),-D$(3))

# Two-pass interval notifiers (7.1+): ODP core, kernel/odp/invalidate.c.
ccflags-y += $(call sodp_probe,[*]invalidate_finish\b,linux/mmu_notifier.h,SOFTODP_HAVE_MNI_INVALIDATE_FINISH)
# mm->flags behind mm_flags_test() (7.x; kernel/odp/fault.c).
ccflags-y += $(call sodp_probe,\bbool mm_flags_test\b,linux/mm.h,SOFTODP_HAVE_MM_FLAGS_TEST)
# WQ_PERCPU (7.x; kernel/softodp/device.c).
ccflags-y += $(call sodp_probe,\bWQ_PERCPU\b,linux/workqueue.h,SOFTODP_HAVE_WQ_PERCPU)
# <linux/hex.h> (6.12+; tests/kmod/wiretest.c).
ccflags-y += $(if $(wildcard $(srctree)/include/linux/hex.h),-DSOFTODP_HAVE_LINUX_HEX_H)
# ib_core (kernel/softodp/, tests/kmod/kverbs.c).
ccflags-y += $(call sodp_probe,[*]create_user_cq\b,rdma/ib_verbs.h,SOFTODP_HAVE_CREATE_USER_CQ)
ccflags-y += $(call sodp_probe,[*]resize_user_cq\b,rdma/ib_verbs.h,SOFTODP_HAVE_RESIZE_USER_CQ)
ccflags-y += $(call sodp_probe,\bib_resize_cq\b,rdma/ib_verbs.h,SOFTODP_HAVE_IB_RESIZE_CQ)
ccflags-y += $(call sodp_probe,\bib_umem_get_va\b,rdma/ib_umem.h,SOFTODP_HAVE_IB_UMEM_GET_VA)
ccflags-y += $(call sodp_probe,\bIB_DEVICE_ATOMIC_WRITE\b,rdma/ib_verbs.h,SOFTODP_HAVE_ATOMIC_WRITE)
ccflags-y += $(call sodp_probe,\bIB_DEVICE_FLUSH_GLOBAL\b,rdma/ib_verbs.h,SOFTODP_HAVE_FLUSH)
