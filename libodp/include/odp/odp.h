/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * libodp - On-Demand Paging made easy on any verbs device.
 *
 * odp_probe()    what a device supports (standard verbs only);
 * odp_reg()      registration that does not pin when the device can page:
 *                implicit ODP MR (shared per PD) -> explicit ODP -> pinned;
 * odp_prefetch() ibv_advise_mr(), or the uverbs ADVISE_MR ioctl when the
 *                provider lacks it;
 * odp_stats_*()  ODP counters per MR and per device under mlx5's names.
 *
 * Functions return 0 or a positive errno value (errno is set too).  See
 * libodp(7) and the man page of each call.
 */
#ifndef ODP_ODP_H
#define ODP_ODP_H

#include <stddef.h>
#include <stdint.h>
#include <infiniband/verbs.h>

#ifdef __cplusplus
extern "C" {
#endif

#define ODP_VERSION_MAJOR 1
#define ODP_VERSION_MINOR 0

/* ---- probe ---------------------------------------------------------------- */

enum odp_cap {
	ODP_CAP_EXPLICIT = 1 << 0,	 /* IBV_ODP_SUPPORT: ODP MRs of a range */
	ODP_CAP_IMPLICIT = 1 << 1,	 /* IBV_ODP_SUPPORT_IMPLICIT: whole address space */
	ODP_CAP_PREFETCH_VERBS = 1 << 2, /* the provider implements ibv_advise_mr() */
	ODP_CAP_PREFETCH_IOCTL = 1 << 3, /* the kernel device has the ADVISE_MR method */
	ODP_CAP_HUGETLB = 1 << 4,	 /* ODP MR on hugetlb pages accepted (ODP_PROBE_HUGETLB) */
};

/* Transports, the index of odp_caps.ops[]. */
enum odp_transport {
	ODP_RC,
	ODP_UC,
	ODP_UD,
	ODP_XRC,
	ODP_NR_TRANSPORTS,
};

enum odp_thp {
	ODP_THP_UNKNOWN,
	ODP_THP_NEVER,
	ODP_THP_MADVISE,
	ODP_THP_ALWAYS,
};

/* odp_probe() flags. */
enum odp_probe_flags {
	/* Register a one-huge-page ODP MR on hugetlb memory to set ODP_CAP_HUGETLB. */
	ODP_PROBE_HUGETLB = 1 << 0,
};

struct odp_caps {
	uint32_t flags;			 /* enum odp_cap */
	uint32_t general_caps;		 /* ibv_odp_caps.general_caps as reported */
	uint32_t ops[ODP_NR_TRANSPORTS]; /* IBV_ODP_SUPPORT_SEND... per transport */
	uint32_t driver_id;		 /* the kernel driver id (RDMA_DRIVER_*), 0 if unknown */
	char dev_name[64];		 /* ibv_get_device_name() */
	uint64_t huge_page_size;	 /* system default hugetlb page size, bytes (0: none) */
	uint64_t huge_pages_free;	 /* free hugetlb pages of that size */
	enum odp_thp thp;		 /* transparent huge pages mode */
	uint64_t reserved[8];
};

int odp_probe(struct ibv_context *ctx, unsigned int flags, struct odp_caps *caps);

/* ---- registration --------------------------------------------------------- */

enum odp_mode {
	ODP_MODE_NONE,
	ODP_MODE_IMPLICIT, /* the PD's implicit ODP MR, shared */
	ODP_MODE_EXPLICIT, /* an ODP MR of exactly [addr, addr + length) */
	ODP_MODE_PINNED,   /* an ordinary pinned MR */
};

/* odp_reg() flags: modes to leave out, and the transport the MR is used on. */
enum odp_reg_flags {
	ODP_REG_NO_IMPLICIT = 1 << 0,
	ODP_REG_NO_EXPLICIT = 1 << 1,
	ODP_REG_NO_PINNED = 1 << 2,
	/*
	 * ODP modes are chosen only if the transport's ODP caps cover the
	 * operations @access implies (RC by default).
	 */
	ODP_REG_UC = 1 << 8,
	ODP_REG_UD = 1 << 9,
	ODP_REG_XRC = 1 << 10,
	/* Do not check transport caps, only general ODP support. */
	ODP_REG_ANY_TRANSPORT = 1 << 11,
};

/* A registration; read-only for the caller, allocated by odp_reg(). */
struct odp_mr {
	struct ibv_mr *mr; /* the verbs MR (the shared implicit one for ODP_MODE_IMPLICIT) */
	void *addr;	   /* the range this handle is for */
	size_t length;
	uint32_t lkey;	     /* valid for [addr, addr + length), with addr as the SGE address */
	uint32_t rkey;	     /* likewise for remote access, addr as the remote address */
	unsigned int access; /* IBV_ACCESS_* the MR has (IBV_ACCESS_ON_DEMAND for ODP modes) */
	enum odp_mode mode;
};

int odp_reg(struct ibv_pd *pd, void *addr, size_t length, unsigned int access, unsigned int flags,
	    struct odp_mr **mr);
int odp_dereg(struct odp_mr *mr);
const char *odp_mode_str(enum odp_mode mode);

/* ---- prefetch ------------------------------------------------------------- */

enum odp_prefetch_flags {
	ODP_PREFETCH_WRITE = 1 << 0,	/* map for writing (IBV_ADVISE_MR_ADVICE_PREFETCH_WRITE) */
	ODP_PREFETCH_NO_FAULT = 1 << 1, /* map only pages already present (..._NO_FAULT) */
	ODP_PREFETCH_SYNC = 1 << 2,	/* wait and report errors (IBV_ADVISE_MR_FLAG_FLUSH) */
	ODP_PREFETCH_VERBS_ONLY = 1 << 3, /* only through ibv_advise_mr() */
	ODP_PREFETCH_IOCTL_ONLY = 1 << 4, /* only through the uverbs ioctl */
};

enum odp_path {
	ODP_PATH_NONE,	/* nothing to do (pinned MR) */
	ODP_PATH_VERBS, /* ibv_advise_mr() */
	ODP_PATH_IOCTL, /* UVERBS_METHOD_ADVISE_MR on the context's command fd */
};

int odp_prefetch(const struct odp_mr *mr, void *addr, size_t length, unsigned int flags,
		 enum odp_path *path);
int odp_advise(struct ibv_pd *pd, enum ibv_advise_mr_advice advice, uint32_t advise_flags,
	       struct ibv_sge *sge, uint32_t num_sge, unsigned int flags, enum odp_path *path);

/* ---- counters ------------------------------------------------------------- */

/* Bits of odp_counters.valid, one per field. */
enum odp_counter {
	ODP_CNT_PAGE_FAULTS,		    /* pages faulted in by device access */
	ODP_CNT_PAGE_FAULTS_HANDLED,	    /* fault events */
	ODP_CNT_PAGE_INVALIDATIONS,	    /* pages dropped or write-protected */
	ODP_CNT_PAGE_INVALIDATIONS_HANDLED, /* invalidation events */
	ODP_CNT_PAGE_PREFETCH,		    /* pages prefetched */
	ODP_CNT_PAGES_MAPPED,		    /* pages mapped now (gauge) */
	ODP_CNT_FAULT_ERRORS,		    /* faults that failed */
	ODP_CNT_PREFETCHES,		    /* prefetch requests */
	ODP_CNT_WRITE_DOWNGRADES,	    /* pages write-protected, read mapping kept */
	ODP_CNT_INV_UNMAP,		    /* invalidation events by cause: munmap */
	ODP_CNT_INV_CLEAR,		    /* MADV_DONTNEED, truncation, page reclaim */
	ODP_CNT_INV_PROTECTION,		    /* mprotect, fork, page_mkclean */
	ODP_CNT_INV_SOFT_DIRTY,		    /* soft-dirty tracking reset */
	ODP_CNT_INV_MIGRATE,		    /* page migration, compaction */
	ODP_CNT_INV_RELEASE,		    /* process exit */
	ODP_CNT_INV_OTHER,		    /* anything else */
	ODP_CNT_KMEM_BYTES,		    /* kernel memory of an MR's ODP state (gauge) */
	ODP_NR_COUNTERS,
};

/* Where device totals came from. */
enum odp_stats_source {
	ODP_SRC_NONE,
	ODP_SRC_HW_COUNTERS, /* sysfs hw_counters odp_* (kept across MR dereg) */
	ODP_SRC_MR_SUM,	     /* sum over the live ODP MRs (netlink), e.g. mlx5 */
};

struct odp_counters {
	uint64_t valid;		      /* 1 << enum odp_counter for each value filled */
	uint64_t v[ODP_NR_COUNTERS];  /* indexed by enum odp_counter */
	enum odp_stats_source source; /* device totals only */
};

/* One ODP MR of a device as the kernel lists it. */
struct odp_mr_stats {
	char dev_name[64];
	uint32_t mrn;	 /* restrack id (`rdma statistic show mr`) */
	uint32_t pid;	 /* owner, 0 for kernel MRs */
	char comm[32];	 /* owner's command name */
	uint64_t length; /* UINT64_MAX for an implicit MR */
	uint32_t lkey;	 /* 0 unless the caller has CAP_NET_ADMIN */
	uint32_t rkey;
	int implicit; /* whole address space */
	struct odp_counters counters;
};

int odp_stats_device(const char *dev_name, struct odp_counters *out);
int odp_stats_mr(const struct odp_mr *mr, struct odp_counters *out);
int odp_stats_mrs(const char *dev_name, struct odp_mr_stats **list, size_t *count);
void odp_stats_free(struct odp_mr_stats *list);
/* "page_faults", ... (mlx5 names for the first five); NULL if out of range. */
const char *odp_counter_name(enum odp_counter c);

#ifdef __cplusplus
}
#endif

#endif /* ODP_ODP_H */
