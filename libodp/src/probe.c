// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * odp_probe(): what a verbs device supports for On-Demand Paging, from
 * standard verbs (ibv_query_device_ex) and the kernel's uverbs ioctl
 * interface, so the same code answers for mlx5 and softodp.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>
#include <rdma/ib_user_ioctl_cmds.h>
#include <rdma/ib_user_ioctl_verbs.h>
#include <rdma/rdma_user_ioctl_cmds.h>

#include "internal.h"

/* Highest RDMA_DRIVER_* tried when asking the kernel for a device's id. */
#define ODP_MAX_DRIVER_ID 64

/* An ioctl with no attributes: the kernel checks driver_id first. */
static int bare_ioctl(int fd, uint32_t driver_id, uint16_t object, uint16_t method)
{
	struct ib_uverbs_ioctl_hdr hdr;

	memset(&hdr, 0, sizeof(hdr));
	hdr.length = sizeof(hdr);
	hdr.object_id = object;
	hdr.method_id = method;
	hdr.driver_id = driver_id;
	if (ioctl(fd, RDMA_VERBS_IOCTL, &hdr))
		return errno;
	return 0;
}

/*
 * The kernel rejects an ioctl whose header names another driver with
 * EINVAL before it looks the method up; a method that does not exist
 * fails with EPROTONOSUPPORT.  So the one id that gets EPROTONOSUPPORT
 * for a nonexistent method is the device's.  Remembered per context.
 */
static struct {
	struct ibv_context *ctx;
	struct ibv_device *dev;
	int fd;
	uint32_t id;
} id_cache[16];
static unsigned int id_next;
static pthread_mutex_t id_lock = PTHREAD_MUTEX_INITIALIZER;

int odp_driver_id(struct ibv_context *ctx, uint32_t *id)
{
	unsigned int i;
	uint32_t d;
	int err = ENODEV;

	pthread_mutex_lock(&id_lock);
	for (i = 0; i < sizeof(id_cache) / sizeof(id_cache[0]); i++) {
		if (id_cache[i].ctx == ctx && id_cache[i].dev == ctx->device &&
		    id_cache[i].fd == ctx->cmd_fd) {
			*id = id_cache[i].id;
			pthread_mutex_unlock(&id_lock);
			return 0;
		}
	}
	pthread_mutex_unlock(&id_lock);

	for (d = 0; d <= ODP_MAX_DRIVER_ID; d++) {
		err = bare_ioctl(ctx->cmd_fd, d, UVERBS_OBJECT_DEVICE, 0xfff);
		if (err == EPROTONOSUPPORT)
			break;
		if (err != EINVAL)
			return err == ENOTTY ? EOPNOTSUPP : err;
	}
	if (d > ODP_MAX_DRIVER_ID)
		return EOPNOTSUPP;

	pthread_mutex_lock(&id_lock);
	i = id_next++ % (sizeof(id_cache) / sizeof(id_cache[0]));
	id_cache[i].ctx = ctx;
	id_cache[i].dev = ctx->device;
	id_cache[i].fd = ctx->cmd_fd;
	id_cache[i].id = d;
	pthread_mutex_unlock(&id_lock);
	*id = d;
	return 0;
}

int odp_ioctl_advise_present(struct ibv_context *ctx)
{
	struct ibv_sge sge = {0};
	struct ibv_pd *pd;
	int err;

	/*
	 * The method always exists in the kernel; its handler answers
	 * EOPNOTSUPP when the device has no advise_mr, after parsing the
	 * attributes.  So send a real request that no device can act on: one
	 * empty SGE with an lkey that no MR of a fresh PD has, synchronous,
	 * no fault.  A device with advise_mr rejects the key instead.
	 */
	pd = ibv_alloc_pd(ctx);
	if (!pd)
		return -errno;
	err = odp_advise_ioctl(pd, IB_UVERBS_ADVISE_MR_ADVICE_PREFETCH_NO_FAULT,
			       IB_UVERBS_ADVISE_MR_FLAG_FLUSH, &sge, 1);
	ibv_dealloc_pd(pd);
	if (err == EOPNOTSUPP || err == EPROTONOSUPPORT)
		return 0;
	return 1;
}

/* "Name:   N kB" style value of /proc/meminfo, or 0. */
static uint64_t meminfo(const char *key)
{
	char line[256];
	size_t klen = strlen(key);
	uint64_t v = 0;
	FILE *f;

	f = fopen("/proc/meminfo", "re");
	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f)) {
		if (!strncmp(line, key, klen) && line[klen] == ':') {
			v = strtoull(line + klen + 1, NULL, 10);
			if (strstr(line, " kB"))
				v *= 1024;
			break;
		}
	}
	fclose(f);
	return v;
}

static enum odp_thp thp_mode(void)
{
	char buf[128];
	FILE *f;
	enum odp_thp m = ODP_THP_UNKNOWN;

	f = fopen("/sys/kernel/mm/transparent_hugepage/enabled", "re");
	if (!f)
		return m;
	if (fgets(buf, sizeof(buf), f)) {
		if (strstr(buf, "[always]"))
			m = ODP_THP_ALWAYS;
		else if (strstr(buf, "[madvise]"))
			m = ODP_THP_MADVISE;
		else if (strstr(buf, "[never]"))
			m = ODP_THP_NEVER;
	}
	fclose(f);
	return m;
}

/* Register an ODP MR over one hugetlb page: whether the device takes it. */
static int try_hugetlb(struct ibv_context *ctx, size_t hpage)
{
	struct ibv_pd *pd;
	struct ibv_mr *mr;
	void *p;
	int ok = 0;

	p = mmap(NULL, hpage, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_HUGETLB, -1,
		 0);
	if (p == MAP_FAILED)
		return 0;
	pd = ibv_alloc_pd(ctx);
	if (pd) {
		mr = ibv_reg_mr(pd, p, hpage,
				IBV_ACCESS_LOCAL_WRITE | IBV_ACCESS_ON_DEMAND | IBV_ACCESS_HUGETLB);
		if (mr) {
			ok = 1;
			ibv_dereg_mr(mr);
		}
		ibv_dealloc_pd(pd);
	}
	munmap(p, hpage);
	return ok;
}

int odp_verbs_caps(struct ibv_context *ctx, struct odp_caps *caps)
{
	struct ibv_device_attr_ex attr;
	uint32_t general;
	int err;

	memset(caps, 0, sizeof(*caps));
	snprintf(caps->dev_name, sizeof(caps->dev_name), "%s", ibv_get_device_name(ctx->device));
	memset(&attr, 0, sizeof(attr));
	err = ibv_query_device_ex(ctx, NULL, &attr);
	/* A provider without the extended query has no ODP to report. */
	if (err == EOPNOTSUPP || err == ENOSYS)
		return 0;
	if (!err) {
		general = attr.odp_caps.general_caps;
		caps->general_caps = general;
		if (general & IBV_ODP_SUPPORT)
			caps->flags |= ODP_CAP_EXPLICIT;
		if ((general & IBV_ODP_SUPPORT) && (general & IBV_ODP_SUPPORT_IMPLICIT))
			caps->flags |= ODP_CAP_IMPLICIT;
		caps->ops[ODP_RC] = attr.odp_caps.per_transport_caps.rc_odp_caps;
		caps->ops[ODP_UC] = attr.odp_caps.per_transport_caps.uc_odp_caps;
		caps->ops[ODP_UD] = attr.odp_caps.per_transport_caps.ud_odp_caps;
		caps->ops[ODP_XRC] = attr.xrc_odp_caps;
	}
	return err;
}

/*
 * Whether the provider really implements ibv_advise_mr(): libibverbs
 * installs a stub returning EOPNOTSUPP for providers without the op, so
 * the op pointer says nothing.  Ask it: with @odp, a PREFETCH_NO_FAULT of
 * one page of a fresh ODP MR (maps nothing that is not present, no side
 * effect); without ODP, an empty request that only a stub refuses with
 * EOPNOTSUPP.
 */
static int verbs_advise_present(struct ibv_context *ctx, int odp)
{
	struct ibv_pd *pd;
	struct ibv_mr *mr = NULL;
	struct ibv_sge sge;
	long page = sysconf(_SC_PAGESIZE);
	void *buf = NULL;
	int err = EOPNOTSUPP;

	pd = ibv_alloc_pd(ctx);
	if (!pd)
		return 0;
	if (odp) {
		buf = mmap(NULL, page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (buf == MAP_FAILED)
			buf = NULL;
		if (buf)
			mr = ibv_reg_mr(pd, buf, page,
					IBV_ACCESS_LOCAL_WRITE | IBV_ACCESS_ON_DEMAND);
	}
	if (mr) {
		sge.addr = (uintptr_t)buf;
		sge.length = (uint32_t)page;
		sge.lkey = mr->lkey;
		err = ibv_advise_mr(pd, IBV_ADVISE_MR_ADVICE_PREFETCH_NO_FAULT,
				    IBV_ADVISE_MR_FLAG_FLUSH, &sge, 1);
		ibv_dereg_mr(mr);
	} else {
		err = ibv_advise_mr(pd, IBV_ADVISE_MR_ADVICE_PREFETCH, 0, NULL, 0);
	}
	if (buf)
		munmap(buf, page);
	ibv_dealloc_pd(pd);
	return err != EOPNOTSUPP;
}

int odp_probe(struct ibv_context *ctx, unsigned int flags, struct odp_caps *caps)
{
	int err;

	if (!ctx || !caps || (flags & ~ODP_PROBE_HUGETLB))
		return odp_err(EINVAL);
	err = odp_verbs_caps(ctx, caps);
	if (err)
		return odp_err(err);
	if (verbs_advise_present(ctx, caps->flags & ODP_CAP_EXPLICIT))
		caps->flags |= ODP_CAP_PREFETCH_VERBS;
	if (odp_driver_id(ctx, &caps->driver_id))
		caps->driver_id = 0;
	if (odp_ioctl_advise_present(ctx) == 1)
		caps->flags |= ODP_CAP_PREFETCH_IOCTL;

	caps->huge_page_size = meminfo("Hugepagesize");
	caps->huge_pages_free = meminfo("HugePages_Free");
	caps->thp = thp_mode();
	if ((flags & ODP_PROBE_HUGETLB) && (caps->flags & ODP_CAP_EXPLICIT) &&
	    caps->huge_page_size && caps->huge_pages_free && try_hugetlb(ctx, caps->huge_page_size))
		caps->flags |= ODP_CAP_HUGETLB;
	return 0;
}
