/* SPDX-License-Identifier: GPL-2.0 */
/*
 * softodp: statistics (stats.c) - per-MR ODP counters with mlx5's names
 * and the device's port hw counters (packet counters and ODP totals).
 */
#ifndef SOFTODP_STATS_H
#define SOFTODP_STATS_H

#include <linux/atomic.h>

struct sodp_dev;
struct sodp_mr;

/* Per-device ODP totals, one per entry of the hw counter table. */
enum sodp_odp_stat {
	SODP_ODP_PAGE_FAULTS,
	SODP_ODP_PAGE_FAULTS_HANDLED,
	SODP_ODP_FAULT_ERRORS,
	SODP_ODP_INVALIDATIONS,
	SODP_ODP_INVALIDATION_PAGES,
	SODP_ODP_INV_UNMAP,
	SODP_ODP_INV_CLEAR,
	SODP_ODP_INV_PROTECTION,
	SODP_ODP_INV_SOFT_DIRTY,
	SODP_ODP_INV_MIGRATE,
	SODP_ODP_INV_RELEASE,
	SODP_ODP_INV_OTHER,
	SODP_ODP_WRITE_DOWNGRADES,
	SODP_ODP_PREFETCHES,
	SODP_ODP_PREFETCH_PAGES,
	SODP_ODP_PAGES_MAPPED,
	SODP_ODP_NR_STATS,
};

/**
 * struct sodp_odp_totals - what deregistered ODP MRs of a device counted
 * @v: one total per &enum sodp_odp_stat; live MRs are added when read
 */
struct sodp_odp_totals {
	atomic64_t v[SODP_ODP_NR_STATS];
};

extern const struct ib_device_ops sodp_stats_ops;

void sodp_odp_retire_stats(struct sodp_dev *sdev, struct sodp_mr *mr,
			   const u64 *before, u64 *now);

#endif /* SOFTODP_STATS_H */
