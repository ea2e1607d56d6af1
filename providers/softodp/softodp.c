// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * softodp libibverbs provider: device matching, context, PD, MR (with
 * advise_mr), AH, and the registration with libibverbs.  CQs are in cq.c,
 * QPs and SRQs (and the posting paths) in qp.c.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <rdma/ib_user_ioctl_verbs.h>

#include "softodp.h"
#include "ops.h"

/* ---- device ---------------------------------------------------------------- */

static const struct pabi_match_ent sodp_match_table[] = {
	{.u.driver_id = RDMA_DRIVER_RXE, .kind = PABI_MATCH_DRIVER_ID},
	{},
};

/*
 * softodp and rdma_rxe devices share the rxe driver id and uverbs ABI;
 * only a softodp device has a firmware string, "softodp VERSION".  Any
 * other device is declined, so the next provider (librxe) takes it.
 */
static int sodp_read_fw(struct pabi_sysfs_dev *sd, char *fw, size_t len)
{
	int n = ibv_read_ibdev_sysfs_file(fw, len, sd, "fw_ver");

	if (n <= 0)
		return -1;
	fw[strcspn(fw, "\n")] = 0;
	return strncmp(fw, SODP_FW_PREFIX, strlen(SODP_FW_PREFIX)) ? -1 : 0;
}

static bool sodp_match_device(struct pabi_sysfs_dev *sd)
{
	char fw[64];

	if (sd->driver_id != RDMA_DRIVER_RXE && sd->driver_id != RDMA_DRIVER_UNKNOWN)
		return false;
	return sodp_read_fw(sd, fw, sizeof(fw)) == 0;
}

static struct pabi_device *sodp_alloc_device(struct pabi_sysfs_dev *sd)
{
	struct sodp_device *dev = calloc(1, sizeof(*dev));

	if (!dev)
		return NULL;
	if (sodp_read_fw(sd, dev->fw, sizeof(dev->fw)))
		snprintf(dev->fw, sizeof(dev->fw), "softodp");
	return &dev->vdev;
}

static void sodp_uninit_device(struct pabi_device *vdev)
{
	free(to_sdev(&vdev->device));
}

/* ---- device and port queries ----------------------------------------------- */

static int sodp_query_device_ex(struct ibv_context *ctx, const struct ibv_query_device_ex_input *in,
				struct ibv_device_attr_ex *attr, size_t attr_size)
{
	struct ib_uverbs_ex_query_device_resp resp;
	size_t resp_size = sizeof(resp);
	int ret;

	/* The core fills every attribute the kernel returned, ODP caps included. */
	ret = ibv_cmd_query_device_any(ctx, in, attr, attr_size, &resp, &resp_size);
	if (ret)
		return ret;
	snprintf(attr->orig_attr.fw_ver, sizeof(attr->orig_attr.fw_ver), "%s",
		 to_sdev(ctx->device)->fw);
	return 0;
}

static int sodp_query_port(struct ibv_context *ctx, uint8_t port, struct ibv_port_attr *attr)
{
	struct pabi_cmd_query_port cmd;

	return ibv_cmd_query_port(ctx, port, attr, &cmd, sizeof(cmd));
}

/* ---- PD and MR ------------------------------------------------------------- */

static struct ibv_pd *sodp_alloc_pd(struct ibv_context *ctx)
{
	struct pabi_cmd_alloc_pd cmd;
	struct ib_uverbs_alloc_pd_resp resp;
	struct ibv_pd *pd = calloc(1, sizeof(*pd));

	if (!pd)
		return NULL;
	if (ibv_cmd_alloc_pd(ctx, pd, &cmd, sizeof(cmd), &resp, sizeof(resp))) {
		free(pd);
		return NULL;
	}
	return pd;
}

static int sodp_dealloc_pd(struct ibv_pd *pd)
{
	int ret = ibv_cmd_dealloc_pd(pd);

	if (!ret)
		free(pd);
	return ret;
}

static struct ibv_mr *sodp_reg_mr(struct ibv_pd *pd, void *addr, size_t len, uint64_t hca_va,
				  int access)
{
	struct pabi_cmd_reg_mr cmd;
	struct ib_uverbs_reg_mr_resp resp;
	struct pabi_mr *mr = calloc(1, sizeof(*mr));

	if (!mr)
		return NULL;
	if (ibv_cmd_reg_mr(pd, addr, len, hca_va, access, mr, &cmd, sizeof(cmd), &resp,
			   sizeof(resp))) {
		free(mr);
		return NULL;
	}
	return &mr->ibv_mr;
}

/*
 * ibv_rereg_mr(): the kernel keeps the keys for access and PD changes and
 * makes a new region (new keys) for a new translation; libibverbs updates
 * the PD and the range of the ibv_mr, the command the keys.
 */
static int sodp_rereg_mr(struct pabi_mr *mr, int flags, struct ibv_pd *pd, void *addr, size_t len,
			 int access)
{
	struct pabi_cmd_rereg_mr cmd;
	struct ib_uverbs_rereg_mr_resp resp;

	memset(&cmd, 0, sizeof(cmd));
	return ibv_cmd_rereg_mr(mr, flags, addr, len, (uintptr_t)addr, access, pd, &cmd,
				sizeof(cmd), &resp, sizeof(resp));
}

static int sodp_dereg_mr(struct pabi_mr *mr)
{
	int ret = ibv_cmd_dereg_mr(mr);

	if (!ret)
		free(mr);
	return ret;
}

/*
 * ibv_advise_mr(): the kernel's ADVISE_MR method through libibverbs' ioctl
 * helper.  Advice, flags, keys, ranges and rights are the kernel's to
 * check, so the provider answers exactly as the kernel does: EFAULT for a
 * bad key, PD, right or range, EINVAL for a non-ODP MR, unknown flags or
 * an empty list, EOPNOTSUPP for an unknown advice.
 */
static int sodp_advise_mr(struct ibv_pd *pd, enum ibv_advise_mr_advice advice, uint32_t flags,
			  struct ibv_sge *sg, uint32_t num_sge)
{
	return ibv_cmd_advise_mr(pd, advice, flags, sg, num_sge);
}

static struct ibv_mw *sodp_alloc_mw(struct ibv_pd *pd, enum ibv_mw_type type)
{
	struct pabi_cmd_alloc_mw cmd = {0};
	struct ib_uverbs_alloc_mw_resp resp = {0};
	struct ibv_mw *mw = calloc(1, sizeof(*mw));

	if (!mw)
		return NULL;
	if (ibv_cmd_alloc_mw(pd, type, mw, &cmd, sizeof(cmd), &resp, sizeof(resp))) {
		free(mw);
		return NULL;
	}
	return mw;
}

static int sodp_dealloc_mw(struct ibv_mw *mw)
{
	int ret = ibv_cmd_dealloc_mw(mw);

	if (!ret)
		free(mw);
	return ret;
}

/* ---- address handles --------------------------------------------------------- */

SODP_RESP(sodp_create_ah_resp, ib_uverbs_create_ah_resp, rxe_create_ah_resp);

static void sodp_gid_to_sockaddr(const union ibv_gid *gid, struct rxe_av *av, int dst)
{
	struct sockaddr_in *in4 = dst ? &av->dgid_addr._sockaddr_in : &av->sgid_addr._sockaddr_in;
	struct sockaddr_in6 *in6 =
		dst ? &av->dgid_addr._sockaddr_in6 : &av->sgid_addr._sockaddr_in6;

	if (IN6_IS_ADDR_V4MAPPED((const struct in6_addr *)gid->raw)) {
		memset(in4, 0, sizeof(*in4));
		in4->sin_family = AF_INET;
		memcpy(&in4->sin_addr.s_addr, gid->raw + 12, 4);
	} else {
		memset(in6, 0, sizeof(*in6));
		in6->sin6_family = AF_INET6;
		memcpy(&in6->sin6_addr, gid->raw, 16);
	}
}

/* The address vector itself, for kernels whose AHs have no index. */
static int sodp_fill_av(struct sodp_ah *ah, struct ibv_pd *pd, struct ibv_ah_attr *attr)
{
	struct rxe_av *av = &ah->av;
	union ibv_gid sgid;
	int ret = ibv_query_gid(pd->context, attr->port_num, attr->grh.sgid_index, &sgid);

	if (ret)
		return ret;
	av->port_num = attr->port_num;
	memcpy(av->grh.dgid.raw, attr->grh.dgid.raw, 16);
	av->grh.flow_label = attr->grh.flow_label;
	av->grh.sgid_index = attr->grh.sgid_index;
	av->grh.hop_limit = attr->grh.hop_limit;
	av->grh.traffic_class = attr->grh.traffic_class;
	av->network_type = IN6_IS_ADDR_V4MAPPED((const struct in6_addr *)attr->grh.dgid.raw)
				   ? RXE_NETWORK_TYPE_IPV4
				   : RXE_NETWORK_TYPE_IPV6;
	sodp_gid_to_sockaddr(&sgid, av, 0);
	sodp_gid_to_sockaddr(&attr->grh.dgid, av, 1);
	return ibv_resolve_eth_l2_from_gid(pd->context, attr, av->dmac, NULL);
}

static struct ibv_ah *sodp_create_ah(struct ibv_pd *pd, struct ibv_ah_attr *attr)
{
	struct sodp_create_ah_resp resp = {0};
	struct sodp_ah *ah = calloc(1, sizeof(*ah));
	int ret;

	if (!ah)
		return NULL;
	ret = ibv_cmd_create_ah(pd, &ah->ibah, attr, &resp.core, sizeof(resp));
	if (ret)
		goto err;
	ah->ah_num = resp.drv.ah_num;
	if (!ah->ah_num) {
		ret = sodp_fill_av(ah, pd, attr);
		if (ret) {
			ibv_cmd_destroy_ah(&ah->ibah);
			goto err;
		}
	}
	return &ah->ibah;
err:
	free(ah);
	errno = ret;
	return NULL;
}

static int sodp_destroy_ah(struct ibv_ah *ibah)
{
	int ret = ibv_cmd_destroy_ah(ibah);

	if (!ret)
		free(to_sah(ibah));
	return ret;
}

/* ---- context --------------------------------------------------------------- */

static void sodp_free_context(struct ibv_context *ibctx);

static const struct pabi_context_ops sodp_ctx_ops = {
	.advise_mr = sodp_advise_mr,
	.alloc_mw = sodp_alloc_mw,
	.alloc_pd = sodp_alloc_pd,
	.attach_mcast = ibv_cmd_attach_mcast,
	.bind_mw = sodp_bind_mw,
	.create_ah = sodp_create_ah,
	.create_cq = sodp_create_cq,
	.create_cq_ex = sodp_create_cq_ex,
	.create_qp = sodp_create_qp,
	.create_qp_ex = sodp_create_qp_ex,
	.create_srq = sodp_create_srq,
	.create_srq_ex = sodp_create_srq_ex,
	.dealloc_mw = sodp_dealloc_mw,
	.dealloc_pd = sodp_dealloc_pd,
	.dereg_mr = sodp_dereg_mr,
	.destroy_ah = sodp_destroy_ah,
	.destroy_cq = sodp_destroy_cq,
	.destroy_qp = sodp_destroy_qp,
	.destroy_srq = sodp_destroy_srq,
	.detach_mcast = ibv_cmd_detach_mcast,
	.free_context = sodp_free_context,
	.modify_qp = sodp_modify_qp,
	.modify_srq = sodp_modify_srq,
	.poll_cq = sodp_poll_cq,
	.post_recv = sodp_post_recv,
	.post_send = sodp_post_send,
	.post_srq_recv = sodp_post_srq_recv,
	.query_device_ex = sodp_query_device_ex,
	.query_port = sodp_query_port,
	.query_qp = sodp_query_qp,
	.query_srq = sodp_query_srq,
	.reg_mr = sodp_reg_mr,
	.rereg_mr = sodp_rereg_mr,
	.req_notify_cq = ibv_cmd_req_notify_cq,
	.resize_cq = sodp_resize_cq,
};

static struct verbs_context *sodp_alloc_context(struct ibv_device *ibdev, int cmd_fd,
						void *private_data)
{
	struct pabi_cmd_get_context cmd;
	struct ib_uverbs_get_context_resp resp;
	struct sodp_context *ctx;

	(void)private_data;
	ctx = _verbs_init_and_alloc_context(
		ibdev, cmd_fd, sizeof(*ctx),
		(struct verbs_context *)(uintptr_t)offsetof(struct sodp_context, vctx),
		RDMA_DRIVER_RXE);
	if (!ctx)
		return NULL;
	if (ibv_cmd_get_context(&ctx->vctx, &cmd, sizeof(cmd), &resp, sizeof(resp))) {
		verbs_uninit_context(&ctx->vctx);
		free(ctx);
		return NULL;
	}
	verbs_set_ops(&ctx->vctx, &sodp_ctx_ops);
	return &ctx->vctx;
}

static void sodp_free_context(struct ibv_context *ibctx)
{
	struct sodp_context *ctx = sodp_container(ibctx, struct sodp_context, vctx.context);

	verbs_uninit_context(&ctx->vctx);
	free(ctx);
}

static const struct pabi_device_ops sodp_dev_ops = {
	.name = "softodp",
	/* rxe uverbs ABI 2 (1 is the same layout on 64-bit machines). */
	.match_min_abi_version = sizeof(void *) == 8 ? 1 : 2,
	.match_max_abi_version = 2,
	.match_table = sodp_match_table,
	.match_device = sodp_match_device,
	.alloc_context = sodp_alloc_context,
	.alloc_device = sodp_alloc_device,
	.uninit_device = sodp_uninit_device,
};

__attribute__((constructor)) static void sodp_register(void)
{
	pabi_register_driver(&sodp_dev_ops);
}
