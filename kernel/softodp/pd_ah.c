// SPDX-License-Identifier: GPL-2.0
/*
 * softodp: protection domains and RoCE address handles.
 */
#include <rdma/ib_cache.h>

#include "softodp.h"

static int sodp_alloc_pd(struct ib_pd *ibpd, struct ib_udata *udata)
{
	struct sodp_dev *sdev = to_sdev(ibpd->device);

	if (atomic_inc_return(&sdev->nr_pd) > SODP_MAX_PD) {
		atomic_dec(&sdev->nr_pd);
		return -ENOMEM;
	}
	return 0;
}

static int sodp_dealloc_pd(struct ib_pd *ibpd, struct ib_udata *udata)
{
	atomic_dec(&to_sdev(ibpd->device)->nr_pd);
	return 0;
}

/**
 * sodp_av_from_attr() - resolve a RoCEv2 address vector
 * @av: filled in
 * @attr: a QP path or AH attribute, with the source GID attribute already
 *	resolved by ib_core (and for RoCE the destination MAC)
 *
 * Return: 0, or -EINVAL unless @attr is a RoCE attribute with a GRH on
 * port 1 whose source GID is a RoCEv2 (IPv4 or IPv6) GID.
 */
int sodp_av_from_attr(struct sodp_av *av, const struct rdma_ah_attr *attr)
{
	const struct ib_global_route *grh;
	enum rdma_network_type net;

	if (attr->type != RDMA_AH_ATTR_TYPE_ROCE ||
	    !(rdma_ah_get_ah_flags(attr) & IB_AH_GRH) ||
	    rdma_ah_get_port_num(attr) != 1)
		return -EINVAL;
	grh = rdma_ah_read_grh(attr);
	if (grh->sgid_index >= SODP_GID_TBL_LEN || !grh->sgid_attr)
		return -EINVAL;
	net = rdma_gid_attr_network_type(grh->sgid_attr);
	if (net != RDMA_NETWORK_IPV4 && net != RDMA_NETWORK_IPV6)
		return -EINVAL;

	memset(av, 0, sizeof(*av));
	av->network_type = net;
	memcpy(av->dmac, attr->roce.dmac, ETH_ALEN);
	av->sgid_index = grh->sgid_index;
	av->hop_limit = grh->hop_limit;
	av->traffic_class = grh->traffic_class;
	av->flow_label = grh->flow_label;
	av->sgid = grh->sgid_attr->gid;
	av->dgid = grh->dgid;
	return 0;
}

static int sodp_create_ah(struct ib_ah *ibah, struct rdma_ah_init_attr *init,
			  struct ib_udata *udata)
{
	struct sodp_dev *sdev = to_sdev(ibah->device);
	struct sodp_ah *ah = to_sah(ibah);
	struct rxe_create_ah_resp resp = {};
	int ret;

	ret = sodp_av_from_attr(&ah->av, init->ah_attr);
	if (ret)
		return ret;
	if (!udata)
		return 0;

	/* User AHs get a number librxe may put into UD work requests. */
	ret = xa_alloc_cyclic(&sdev->ahs, &ah->ah_num, ah,
			      XA_LIMIT(1, SODP_MAX_AH), &sdev->next_ah,
			      GFP_KERNEL);
	if (ret < 0)
		return ret == -EBUSY ? -ENOMEM : ret;
	/* Older librxe passes no response buffer. */
	if (udata->outlen >= sizeof(resp)) {
		resp.ah_num = ah->ah_num;
		ret = ib_copy_to_udata(udata, &resp, sizeof(resp));
		if (ret) {
			xa_erase(&sdev->ahs, ah->ah_num);
			return ret;
		}
	}
	return 0;
}

/**
 * sodp_ah_copy_av() - the address vector of a user AH, by number
 * @sdev: device
 * @ah_num: the number create_ah returned to librxe (a UD send WQE's ah_num)
 * @pd: the PD of the QP using it; the AH must belong to it
 * @av: filled in
 *
 * The copy is made under the AH xarray's lock, which destroy_ah also
 * takes to unpublish the AH before ib_core frees it.
 *
 * Context: process (QP work item).
 * Return: 0, or -EINVAL for an unknown number or an AH of another PD.
 */
int sodp_ah_copy_av(struct sodp_dev *sdev, u32 ah_num, struct ib_pd *pd,
		    struct sodp_av *av)
{
	struct sodp_ah *ah;
	int ret = -EINVAL;

	xa_lock(&sdev->ahs);
	ah = xa_load(&sdev->ahs, ah_num);
	if (ah && ah->ibah.pd == pd) {
		*av = ah->av;
		ret = 0;
	}
	xa_unlock(&sdev->ahs);
	return ret;
}

static int sodp_query_ah(struct ib_ah *ibah, struct rdma_ah_attr *attr)
{
	struct sodp_ah *ah = to_sah(ibah);

	memset(attr, 0, sizeof(*attr));
	attr->type = RDMA_AH_ATTR_TYPE_ROCE;
	rdma_ah_set_port_num(attr, 1);
	memcpy(attr->roce.dmac, ah->av.dmac, ETH_ALEN);
	rdma_ah_set_grh(attr, &ah->av.dgid, ah->av.flow_label,
			ah->av.sgid_index, ah->av.hop_limit,
			ah->av.traffic_class);
	return 0;
}

static int sodp_destroy_ah(struct ib_ah *ibah, u32 flags)
{
	struct sodp_ah *ah = to_sah(ibah);

	/*
	 * xa_erase() takes the lock sodp_ah_copy_av() holds while it copies:
	 * once it returns, nobody reads the AH that ib_core frees next.
	 */
	if (ah->ah_num)
		xa_erase(&to_sdev(ibah->device)->ahs, ah->ah_num);
	return 0;
}

const struct ib_device_ops sodp_pd_ah_ops = {
	.alloc_pd = sodp_alloc_pd,
	.dealloc_pd = sodp_dealloc_pd,
	.create_ah = sodp_create_ah,
	.create_user_ah = sodp_create_ah,
	.query_ah = sodp_query_ah,
	.destroy_ah = sodp_destroy_ah,

	INIT_RDMA_OBJ_SIZE(ib_pd, sodp_pd, ibpd),
	INIT_RDMA_OBJ_SIZE(ib_ah, sodp_ah, ibah),
};
