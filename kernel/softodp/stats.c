// SPDX-License-Identifier: GPL-2.0
/*
 * softodp: statistics.
 *
 * Per ODP MR, the ODP core's region counters under mlx5's names
 * (page_faults = pages faulted in by device access, page_faults_handled =
 * fault events, page_invalidations = pages dropped or write-downgraded,
 * page_invalidations_handled = invalidation events, page_prefetch = pages
 * prefetched), for `rdma statistic show mr` and `rdma resource show mr
 * -dd`, which also shows odp_kmem_bytes.
 *
 * Per device, the port hw counters (`rdma statistic show`, sysfs
 * hw_counters): the packet counters of the data path and the ODP totals,
 * i.e. the sum over the device's live ODP MRs plus what deregistered ones
 * counted.
 */
#include <linux/string.h>
#include <rdma/ib_verbs.h>
#include <rdma/restrack.h>
#include <rdma/rdma_netlink.h>

#include "softodp.h"
#include "mr.h"
#include "stats.h"
#include "../odp/odp.h"

/* The mlx5 names of the per-MR ODP counters. */
enum sodp_mr_stat {
	SODP_MR_PAGE_FAULTS,
	SODP_MR_PAGE_FAULTS_HANDLED,
	SODP_MR_PAGE_INVALIDATIONS,
	SODP_MR_PAGE_INVALIDATIONS_HANDLED,
	SODP_MR_PAGE_PREFETCH,
	SODP_MR_NR_STATS,
};

static const char * const sodp_mr_stat_names[SODP_MR_NR_STATS] = {
	[SODP_MR_PAGE_FAULTS] = "page_faults",
	[SODP_MR_PAGE_FAULTS_HANDLED] = "page_faults_handled",
	[SODP_MR_PAGE_INVALIDATIONS] = "page_invalidations",
	[SODP_MR_PAGE_INVALIDATIONS_HANDLED] = "page_invalidations_handled",
	[SODP_MR_PAGE_PREFETCH] = "page_prefetch",
};

/* The port hw counters: packet counters, then the ODP totals. */
#define SODP_HW_ODP(i)	(SODP_NUM_STATS + (i))
#define SODP_HW_NR	SODP_HW_ODP(SODP_ODP_NR_STATS)

static const struct rdma_stat_desc sodp_hw_descs[SODP_HW_NR] = {
	[SODP_STAT_RX_PKTS].name = "rx_packets",
	[SODP_STAT_TX_PKTS].name = "tx_packets",
	[SODP_STAT_RX_DROP_NODEV].name = "rx_drop_no_device",
	[SODP_STAT_RX_DROP_HDR].name = "rx_drop_bad_header",
	[SODP_STAT_RX_DROP_ICRC].name = "rx_drop_bad_icrc",
	[SODP_STAT_RX_DROP_PKEY].name = "rx_drop_bad_pkey",
	[SODP_STAT_RX_DROP_NOQP].name = "rx_drop_no_qp",
	[SODP_STAT_RX_DROP_STATE].name = "rx_drop_qp_state",
	[SODP_STAT_RX_DROP_QFULL].name = "rx_drop_queue_full",
	[SODP_STAT_RX_DROP_TRANSPORT].name = "rx_drop_bad_transport",
	[SODP_STAT_RX_DROP_QKEY].name = "rx_drop_bad_qkey",
	[SODP_STAT_RX_DROP_NO_RWQE].name = "rx_drop_no_recv_wqe",
	[SODP_STAT_DUP_REQ].name = "duplicate_requests",
	[SODP_STAT_SEQ_NAK_SENT].name = "seq_naks_sent",
	[SODP_STAT_RNR_NAK_SENT].name = "rnr_naks_sent",
	[SODP_STAT_RNR_NAK_FAULT].name = "rnr_naks_page_fault",
	[SODP_STAT_RETRANS].name = "retransmits",
	[SODP_STAT_TIMEOUTS].name = "retransmit_timeouts",
	[SODP_STAT_TX_LOCAL].name = "tx_local_delivered",
	[SODP_STAT_DRIVE_RUNS].name = "engine_runs_driven",
	[SODP_HW_ODP(SODP_ODP_PAGE_FAULTS)].name = "odp_page_faults",
	[SODP_HW_ODP(SODP_ODP_PAGE_FAULTS_HANDLED)].name = "odp_page_faults_handled",
	[SODP_HW_ODP(SODP_ODP_FAULT_ERRORS)].name = "odp_fault_errors",
	[SODP_HW_ODP(SODP_ODP_INVALIDATIONS)].name = "odp_invalidations",
	[SODP_HW_ODP(SODP_ODP_INVALIDATION_PAGES)].name = "odp_invalidation_pages",
	[SODP_HW_ODP(SODP_ODP_INV_UNMAP)].name = "odp_inv_unmap",
	[SODP_HW_ODP(SODP_ODP_INV_CLEAR)].name = "odp_inv_clear",
	[SODP_HW_ODP(SODP_ODP_INV_PROTECTION)].name = "odp_inv_protection",
	[SODP_HW_ODP(SODP_ODP_INV_SOFT_DIRTY)].name = "odp_inv_soft_dirty",
	[SODP_HW_ODP(SODP_ODP_INV_MIGRATE)].name = "odp_inv_migrate",
	[SODP_HW_ODP(SODP_ODP_INV_RELEASE)].name = "odp_inv_release",
	[SODP_HW_ODP(SODP_ODP_INV_OTHER)].name = "odp_inv_other",
	[SODP_HW_ODP(SODP_ODP_WRITE_DOWNGRADES)].name = "odp_write_downgrades",
	[SODP_HW_ODP(SODP_ODP_PREFETCHES)].name = "odp_prefetches",
	[SODP_HW_ODP(SODP_ODP_PREFETCH_PAGES)].name = "odp_prefetch_pages",
	[SODP_HW_ODP(SODP_ODP_PAGES_MAPPED)].name = "odp_pages_mapped",
};


/*
 * The ODP core's region counter @name as a device total: which one, and
 * whether it also adds to the invalidation sums.
 */
static int sodp_odp_stat_of(const char *name, bool *inv_events,
			    bool *inv_pages)
{
	static const struct {
		const char *core;
		int stat;
	} map[] = {
		{ "page_faults", SODP_ODP_PAGE_FAULTS },
		{ "page_faults_handled", SODP_ODP_PAGE_FAULTS_HANDLED },
		{ "fault_errors", SODP_ODP_FAULT_ERRORS },
		{ "inv_unmap", SODP_ODP_INV_UNMAP },
		{ "inv_clear", SODP_ODP_INV_CLEAR },
		{ "inv_protection_vma", SODP_ODP_INV_PROTECTION },
		{ "inv_protection_page", SODP_ODP_INV_PROTECTION },
		{ "inv_soft_dirty", SODP_ODP_INV_SOFT_DIRTY },
		{ "inv_migrate", SODP_ODP_INV_MIGRATE },
		{ "inv_release", SODP_ODP_INV_RELEASE },
		{ "inv_exclusive", SODP_ODP_INV_OTHER },
		{ "inv_other", SODP_ODP_INV_OTHER },
		{ "write_downgrades", SODP_ODP_WRITE_DOWNGRADES },
		{ "prefetches", SODP_ODP_PREFETCHES },
		{ "prefetch_pages", SODP_ODP_PREFETCH_PAGES },
		{ "pages_mapped", SODP_ODP_PAGES_MAPPED },
	};
	size_t len = strlen(name);
	unsigned int i;

	*inv_events = false;
	*inv_pages = false;
	if (!strncmp(name, "inv_", 4) && len > 6 &&
	    !strcmp(name + len - 6, "_pages")) {
		*inv_pages = true;
		return SODP_ODP_INVALIDATION_PAGES;
	}
	for (i = 0; i < ARRAY_SIZE(map); i++) {
		if (!strcmp(name, map[i].core)) {
			*inv_events = !strncmp(name, "inv_", 4);
			return map[i].stat;
		}
	}
	return -1;
}

/* Accumulate an ODP region's counters as device totals. */
static void sodp_odp_sum_cb(void *priv, const char *name, u64 value)
{
	u64 *v = priv;
	bool events, pages;
	int stat;

	stat = sodp_odp_stat_of(name, &events, &pages);
	if (stat < 0)
		return;
	if (pages) {
		v[SODP_ODP_INVALIDATION_PAGES] += value;
		return;
	}
	v[stat] += value;
	if (events)
		v[SODP_ODP_INVALIDATIONS] += value;
}

static void sodp_mr_odp_totals(struct sodp_mr *mr, u64 *v)
{
	memset(v, 0, SODP_ODP_NR_STATS * sizeof(*v));
	odp_umem_counters(mr->odp, sodp_odp_sum_cb, v);
}

static void sodp_mr_stats(struct sodp_mr *mr, u64 *out)
{
	u64 v[SODP_ODP_NR_STATS];

	sodp_mr_odp_totals(mr, v);
	out[SODP_MR_PAGE_FAULTS] = v[SODP_ODP_PAGE_FAULTS];
	out[SODP_MR_PAGE_FAULTS_HANDLED] = v[SODP_ODP_PAGE_FAULTS_HANDLED];
	/*
	 * Pages the device lost a right on: dropped, or write-protected
	 * (fork, page_mkclean) with the read mapping kept.
	 */
	out[SODP_MR_PAGE_INVALIDATIONS] = v[SODP_ODP_INVALIDATION_PAGES] +
					  v[SODP_ODP_WRITE_DOWNGRADES];
	out[SODP_MR_PAGE_INVALIDATIONS_HANDLED] = v[SODP_ODP_INVALIDATIONS];
	out[SODP_MR_PAGE_PREFETCH] = v[SODP_ODP_PREFETCH_PAGES];
}

/*
 * Put an ODP MR's counters into a nest of @attr, one @put per counter, and
 * with @kmem the kernel memory of its ODP state (odp_kmem_bytes: region,
 * page tables and, for an implicit MR, its children).
 */
static int sodp_put_mr_stats(struct sk_buff *msg, struct ib_mr *ibmr, int attr,
			     int (*put)(struct sk_buff *msg, const char *name,
					u64 value), bool kmem)
{
	struct sodp_mr *mr = to_smr(ibmr);
	u64 v[SODP_MR_NR_STATS];
	struct nlattr *table;
	int i;

	if (mr->type != SODP_MR_ODP)
		return 0;
	sodp_mr_stats(mr, v);
	table = nla_nest_start(msg, attr);
	if (!table)
		return -EMSGSIZE;
	for (i = 0; i < SODP_MR_NR_STATS; i++) {
		if (put(msg, sodp_mr_stat_names[i], v[i])) {
			nla_nest_cancel(msg, table);
			return -EMSGSIZE;
		}
	}
	if (kmem && put(msg, "odp_kmem_bytes", odp_umem_kmem_bytes(mr->odp))) {
		nla_nest_cancel(msg, table);
		return -EMSGSIZE;
	}
	nla_nest_end(msg, table);
	return 0;
}

/* `rdma statistic show mr`: the counters as a hwcounter table. */
static int sodp_fill_stat_mr_entry(struct sk_buff *msg, struct ib_mr *ibmr)
{
	return sodp_put_mr_stats(msg, ibmr, RDMA_NLDEV_ATTR_STAT_HWCOUNTERS,
				 rdma_nl_stat_hwcounter_entry, false);
}

/*
 * `rdma resource show mr -dd`: the same counters as driver attributes,
 * plus odp_kmem_bytes.
 */
static int sodp_fill_res_mr_entry(struct sk_buff *msg, struct ib_mr *ibmr)
{
	return sodp_put_mr_stats(msg, ibmr, RDMA_NLDEV_ATTR_DRIVER,
				 rdma_nl_put_driver_u64, true);
}

/* ---- device totals --------------------------------------------------------- */

/**
 * sodp_odp_retire_stats() - keep a deregistered ODP MR's counts
 * @sdev: its device
 * @mr: ODP MR being deregistered
 * @before: what an earlier call kept of it (NULL on the first call)
 * @now: where to store what it counted so far (NULL on the last call)
 *
 * Called twice: with the xarray lock held, as the MR leaves &sdev->mrs, so
 * that sodp_get_hw_stats() sees its counts either live or kept and never
 * neither; then once no data-path user holds it, for what those users
 * added meanwhile.  Gauges (pages mapped) are not kept: the region is
 * about to go.
 *
 * Context: any; the first call with the xarray lock of &sdev->mrs held.
 */
void sodp_odp_retire_stats(struct sodp_dev *sdev, struct sodp_mr *mr,
			   const u64 *before, u64 *now)
{
	u64 v[SODP_ODP_NR_STATS];
	int i;

	/* The first call: the MR leaves the xarray in the same section. */
	if (!before)
		lockdep_assert_held(&sdev->mrs.xa_lock);
	sodp_mr_odp_totals(mr, v);
	v[SODP_ODP_PAGES_MAPPED] = 0;
	for (i = 0; i < SODP_ODP_NR_STATS; i++) {
		atomic64_add(v[i] - (before ? before[i] : 0),
			     &sdev->odp_totals.v[i]);
		if (now)
			now[i] = v[i];
	}
}

static struct rdma_hw_stats *sodp_alloc_hw_port_stats(struct ib_device *ibdev,
						      u32 port_num)
{
	return rdma_alloc_hw_stats_struct(sodp_hw_descs, SODP_HW_NR,
					  RDMA_HW_STATS_DEFAULT_LIFESPAN);
}

static int sodp_get_hw_stats(struct ib_device *ibdev,
			     struct rdma_hw_stats *stats, u32 port, int index)
{
	struct sodp_dev *sdev = to_sdev(ibdev);
	u64 sum[SODP_ODP_NR_STATS], v[SODP_ODP_NR_STATS];
	struct sodp_mr *mr;
	unsigned long idx;
	int i;

	/*
	 * Live MRs: under the xarray lock none of them can be freed, and the
	 * totals cannot take an MR's counts while it is still listed (pairs
	 * with sodp_mr_retire()).
	 */
	xa_lock(&sdev->mrs);
	for (i = 0; i < SODP_ODP_NR_STATS; i++)
		sum[i] = atomic64_read(&sdev->odp_totals.v[i]);
	xa_for_each(&sdev->mrs, idx, mr) {
		if (mr->type != SODP_MR_ODP)
			continue;
		sodp_mr_odp_totals(mr, v);
		for (i = 0; i < SODP_ODP_NR_STATS; i++)
			sum[i] += v[i];
	}
	xa_unlock(&sdev->mrs);
	for (i = 0; i < SODP_NUM_STATS; i++)
		stats->value[i] = atomic64_read(&sdev->stats[i]);
	for (i = 0; i < SODP_ODP_NR_STATS; i++)
		stats->value[SODP_HW_ODP(i)] = sum[i];
	return SODP_HW_NR;
}

const struct ib_device_ops sodp_stats_ops = {
	.alloc_hw_port_stats = sodp_alloc_hw_port_stats,
	.get_hw_stats = sodp_get_hw_stats,
	.fill_stat_mr_entry = sodp_fill_stat_mr_entry,
	.fill_res_mr_entry = sodp_fill_res_mr_entry,
};
