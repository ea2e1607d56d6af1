// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * ODP counters under mlx5's names, so the same code reads mlx5 and
 * softodp.
 *
 * Per MR: RDMA netlink, the statistics dump (`rdma statistic show mr`:
 * page_faults, page_faults_handled, page_invalidations,
 * page_invalidations_handled, page_prefetch, filled by mlx5 and softodp
 * for ODP MRs) merged with the resource dump (`rdma resource show mr -dd`:
 * owner, length, keys for CAP_NET_ADMIN, driver attributes such as
 * softodp's odp_kmem_bytes or mlx5's "odp" kind).
 *
 * Per device: the port hw counters odp_* in sysfs where the device has
 * them (softodp: totals that keep what deregistered MRs counted, plus
 * invalidations by cause); otherwise (mlx5) the sum of the per-MR counters
 * of the device's live ODP MRs.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "internal.h"

static const char *const counter_names[ODP_NR_COUNTERS] = {
	[ODP_CNT_PAGE_FAULTS] = "page_faults",
	[ODP_CNT_PAGE_FAULTS_HANDLED] = "page_faults_handled",
	[ODP_CNT_PAGE_INVALIDATIONS] = "page_invalidations",
	[ODP_CNT_PAGE_INVALIDATIONS_HANDLED] = "page_invalidations_handled",
	[ODP_CNT_PAGE_PREFETCH] = "page_prefetch",
	[ODP_CNT_PAGES_MAPPED] = "pages_mapped",
	[ODP_CNT_FAULT_ERRORS] = "fault_errors",
	[ODP_CNT_PREFETCHES] = "prefetches",
	[ODP_CNT_WRITE_DOWNGRADES] = "write_downgrades",
	[ODP_CNT_INV_UNMAP] = "inv_unmap",
	[ODP_CNT_INV_CLEAR] = "inv_clear",
	[ODP_CNT_INV_PROTECTION] = "inv_protection",
	[ODP_CNT_INV_SOFT_DIRTY] = "inv_soft_dirty",
	[ODP_CNT_INV_MIGRATE] = "inv_migrate",
	[ODP_CNT_INV_RELEASE] = "inv_release",
	[ODP_CNT_INV_OTHER] = "inv_other",
	[ODP_CNT_KMEM_BYTES] = "kmem_bytes",
};

const char *odp_counter_name(enum odp_counter c)
{
	if ((unsigned int)c >= ODP_NR_COUNTERS)
		return NULL;
	return counter_names[c];
}

int odp_counter_by_name(const char *name)
{
	int i;

	/* softodp's driver attribute, and an older mlx5 spelling. */
	if (!strcmp(name, "odp_kmem_bytes"))
		return ODP_CNT_KMEM_BYTES;
	if (!strcmp(name, "prefetched_pages"))
		return ODP_CNT_PAGE_PREFETCH;
	for (i = 0; i < ODP_NR_COUNTERS; i++)
		if (!strcmp(name, counter_names[i]))
			return i;
	return -1;
}

/* ---- device totals from sysfs hw_counters -------------------------------- */

/* The hw counter that feeds each field (softodp's names). */
static const struct {
	const char *file;
	int counter;
} hw_map[] = {
	{"odp_page_faults", ODP_CNT_PAGE_FAULTS},
	{"odp_page_faults_handled", ODP_CNT_PAGE_FAULTS_HANDLED},
	{"odp_invalidations", ODP_CNT_PAGE_INVALIDATIONS_HANDLED},
	{"odp_prefetch_pages", ODP_CNT_PAGE_PREFETCH},
	{"odp_pages_mapped", ODP_CNT_PAGES_MAPPED},
	{"odp_fault_errors", ODP_CNT_FAULT_ERRORS},
	{"odp_prefetches", ODP_CNT_PREFETCHES},
	{"odp_write_downgrades", ODP_CNT_WRITE_DOWNGRADES},
	{"odp_inv_unmap", ODP_CNT_INV_UNMAP},
	{"odp_inv_clear", ODP_CNT_INV_CLEAR},
	{"odp_inv_protection", ODP_CNT_INV_PROTECTION},
	{"odp_inv_soft_dirty", ODP_CNT_INV_SOFT_DIRTY},
	{"odp_inv_migrate", ODP_CNT_INV_MIGRATE},
	{"odp_inv_release", ODP_CNT_INV_RELEASE},
	{"odp_inv_other", ODP_CNT_INV_OTHER},
};

static int read_u64(const char *path, uint64_t *v)
{
	unsigned long long x;
	FILE *f;
	int ok;

	f = fopen(path, "re");
	if (!f)
		return errno;
	ok = fscanf(f, "%llu", &x) == 1;
	fclose(f);
	if (!ok)
		return EIO;
	*v = x;
	return 0;
}

/*
 * The hw_counters directory of @dev's first port that has ODP counters,
 * into @dir; 0, ENOENT (device without ODP hw counters) or ENODEV.
 */
static int hw_dir(const char *dev, char *dir, size_t size)
{
	char path[512];
	struct dirent *e;
	struct stat st;
	DIR *d;
	int err = ENOENT;

	snprintf(path, sizeof(path), "/sys/class/infiniband/%s/ports", dev);
	d = opendir(path);
	if (!d) {
		snprintf(path, sizeof(path), "/sys/class/infiniband/%s", dev);
		return stat(path, &st) ? ENODEV : ENOENT;
	}
	while ((e = readdir(d))) {
		if (e->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "/sys/class/infiniband/%s/ports/%s/hw_counters", dev,
			 e->d_name);
		snprintf(dir, size, "%s", path);
		strncat(path, "/odp_page_faults", sizeof(path) - strlen(path) - 1);
		if (!access(path, R_OK)) {
			err = 0;
			break;
		}
	}
	closedir(d);
	return err;
}

static int device_from_hw(const char *dir, struct odp_counters *out)
{
	char path[600];
	uint64_t v, inv_pages = 0, down = 0;
	unsigned int i;
	int err;

	for (i = 0; i < sizeof(hw_map) / sizeof(hw_map[0]); i++) {
		snprintf(path, sizeof(path), "%s/%s", dir, hw_map[i].file);
		err = read_u64(path, &v);
		if (err == ENOENT)
			continue;
		if (err)
			return err;
		out->v[hw_map[i].counter] = v;
		out->valid |= 1ULL << hw_map[i].counter;
	}
	/*
	 * Per MR, page_invalidations counts pages dropped or write-protected;
	 * the device counts the two apart.
	 */
	snprintf(path, sizeof(path), "%s/odp_invalidation_pages", dir);
	if (!read_u64(path, &inv_pages)) {
		if (out->valid & (1ULL << ODP_CNT_WRITE_DOWNGRADES))
			down = out->v[ODP_CNT_WRITE_DOWNGRADES];
		out->v[ODP_CNT_PAGE_INVALIDATIONS] = inv_pages + down;
		out->valid |= 1ULL << ODP_CNT_PAGE_INVALIDATIONS;
	}
	out->source = ODP_SRC_HW_COUNTERS;
	return 0;
}

/* Whether an MR listed by netlink is an ODP MR (it has ODP counters). */
static int is_odp(const struct odp_nl_mr *m)
{
	return m->c.valid || m->odp_string;
}

static int device_from_mrs(const char *dev, struct odp_counters *out)
{
	struct odp_nl_mr *mrs;
	size_t n, i;
	int err, c;

	err = odp_nl_mrs(dev, &mrs, &n);
	if (err)
		return err;
	for (i = 0; i < n; i++) {
		if (!is_odp(&mrs[i]))
			continue;
		for (c = 0; c < ODP_NR_COUNTERS; c++) {
			if (!(mrs[i].c.valid & (1ULL << c)))
				continue;
			out->v[c] += mrs[i].c.v[c];
			out->valid |= 1ULL << c;
		}
	}
	free(mrs);
	/* A sum over MRs has the five mlx5 counters at most, whatever is there. */
	out->valid |= (1ULL << ODP_CNT_PAGE_FAULTS) | (1ULL << ODP_CNT_PAGE_FAULTS_HANDLED) |
		      (1ULL << ODP_CNT_PAGE_INVALIDATIONS) |
		      (1ULL << ODP_CNT_PAGE_INVALIDATIONS_HANDLED) |
		      (1ULL << ODP_CNT_PAGE_PREFETCH);
	out->source = ODP_SRC_MR_SUM;
	return 0;
}

int odp_stats_device(const char *dev, struct odp_counters *out)
{
	char dir[512];
	int err;

	if (!dev || !out || !dev[0] || strchr(dev, '/'))
		return odp_err(EINVAL);
	memset(out, 0, sizeof(*out));
	err = hw_dir(dev, dir, sizeof(dir));
	if (!err)
		err = device_from_hw(dir, out);
	else if (err == ENOENT)
		err = device_from_mrs(dev, out);
	return err ? odp_err(err) : 0;
}

/* ---- per MR ------------------------------------------------------------------ */

/*
 * The command name of @pid: the kernel names user MRs' owners by pid only
 * (RES_KERN_NAME is for kernel resources), as `rdma resource` shows.
 */
static void proc_comm(uint32_t pid, char *buf, size_t size)
{
	char path[64];
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%u/comm", pid);
	f = fopen(path, "re");
	if (!f)
		return;
	if (fgets(buf, (int)size, f))
		buf[strcspn(buf, "\n")] = 0;
	else
		buf[0] = 0;
	fclose(f);
}

static void fill_mr_stats(struct odp_mr_stats *s, const char *dev, const struct odp_nl_mr *m)
{
	memset(s, 0, sizeof(*s));
	snprintf(s->dev_name, sizeof(s->dev_name), "%s", dev);
	s->mrn = m->mrn;
	s->pid = m->pid;
	memcpy(s->comm, m->comm, sizeof(s->comm));
	s->length = m->length;
	s->lkey = m->lkey;
	s->rkey = m->rkey;
	s->implicit = m->odp_string == 2 || m->length == UINT64_MAX;
	if (!s->comm[0] && s->pid)
		proc_comm(s->pid, s->comm, sizeof(s->comm));
	s->counters = m->c;
}

int odp_stats_mrs(const char *dev, struct odp_mr_stats **list, size_t *count)
{
	struct odp_nl_mr *mrs;
	struct odp_mr_stats *out;
	size_t n, i, k = 0;
	int err;

	if (!dev || !list || !count)
		return odp_err(EINVAL);
	*list = NULL;
	*count = 0;
	err = odp_nl_mrs(dev, &mrs, &n);
	if (err)
		return odp_err(err);
	out = calloc(n ? n : 1, sizeof(*out));
	if (!out) {
		free(mrs);
		return odp_err(ENOMEM);
	}
	for (i = 0; i < n; i++)
		if (is_odp(&mrs[i]))
			fill_mr_stats(&out[k++], dev, &mrs[i]);
	free(mrs);
	*list = out;
	*count = k;
	return 0;
}

void odp_stats_free(struct odp_mr_stats *list)
{
	free(list);
}

int odp_stats_mr(const struct odp_mr *mr, struct odp_counters *out)
{
	struct odp_nl_mr *mrs, *hit = NULL;
	const char *dev;
	uint64_t len;
	size_t n, i;
	int err, by_key = 0, matches = 0;

	if (!mr || !mr->mr || !out)
		return odp_err(EINVAL);
	memset(out, 0, sizeof(*out));
	dev = ibv_get_device_name(mr->mr->context->device);
	err = odp_nl_mrs(dev, &mrs, &n);
	if (err)
		return odp_err(err);
	/* By key where the kernel shows keys (CAP_NET_ADMIN), else by owner and length. */
	for (i = 0; i < n; i++)
		by_key |= mrs[i].has_keys;
	len = mr->mode == ODP_MODE_IMPLICIT ? UINT64_MAX : mr->mr->length;
	for (i = 0; i < n; i++) {
		if (by_key ? (mrs[i].has_keys && mrs[i].lkey == mr->lkey)
			   : (mrs[i].pid == (uint32_t)getpid() && mrs[i].length == len)) {
			hit = &mrs[i];
			matches++;
		}
	}
	if (matches == 1)
		*out = hit->c;
	free(mrs);
	if (!matches)
		return odp_err(ENOENT);
	if (matches > 1)
		return odp_err(ENOTUNIQ);
	return 0;
}
