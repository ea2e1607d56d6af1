// SPDX-License-Identifier: GPL-2.0
/*
 * softodp: the ib_device - attributes, query verbs, user contexts,
 * registration and teardown.
 *
 * The device speaks the rxe uverbs ABI (driver id RDMA_DRIVER_RXE, ABI
 * version 2) so that the stock librxe provider binds to it.  Its single
 * port is a RoCEv2 port (UDP encapsulation) on the bound net_device;
 * ib_core fills the GID table from the netdev's addresses.
 *
 * The netdev is reported through ->get_netdev, not ib_device_set_netdev():
 * the latter enters the device in ib_core's netdev hash, where rdma_rxe
 * finds devices with ib_device_get_by_netdev(ndev, RDMA_DRIVER_RXE) - our
 * driver id - and takes them for its own struct rxe_dev (seen: loading
 * rdma_rxe replays NETDEV_UP and rxe_port_up() wrote its port state into
 * a softodp device).  Outside that hash, rdma_rxe never sees our devices.
 *
 * Teardown: every way a device goes away ends in ->dealloc_driver
 * (sodp_dealloc_driver): "rdma link delete", NETDEV_UNREGISTER,
 * softodp's module exit and "rmmod rdma_rxe" (whose
 * ib_unregister_driver(RDMA_DRIVER_RXE) also finds our devices).  It
 * takes the device off the module list and releases what newlink took.
 */
#include <linux/ethtool.h>
#include <net/addrconf.h>
#include <rdma/ib_addr.h>
#include <rdma/ib_mad.h>

#include "softodp.h"
#include "queue.h"

static void sodp_init_attr(struct sodp_dev *sdev)
{
	struct ib_device_attr *a = &sdev->attr;

	memset(a, 0, sizeof(*a));
	a->fw_ver = 0;
	a->sys_image_guid = sdev->ibdev.node_guid;
	a->max_mr_size = U64_MAX;
	a->page_size_cap = PAGE_SIZE;
	a->vendor_id = SODP_VENDOR_ID;
	a->max_qp = SODP_MAX_QP;
	a->max_qp_wr = SODP_MAX_QP_WR;
	/*
	 * MEM_MGT_EXTENSIONS: FRWR, local and remote invalidate; memory
	 * windows of type 1 and 2B (mw.c), as rdma_rxe reports them.
	 */
	a->device_cap_flags = IB_DEVICE_BAD_PKEY_CNTR |
			      IB_DEVICE_SYS_IMAGE_GUID |
			      IB_DEVICE_RC_RNR_NAK_GEN |
			      IB_DEVICE_SRQ_RESIZE |
			      IB_DEVICE_MEM_MGT_EXTENSIONS |
			      IB_DEVICE_MEM_WINDOW |
			      IB_DEVICE_MEM_WINDOW_TYPE_2B |
			      SODP_DEVICE_ATOMIC_WRITE |
			      SODP_DEVICE_FLUSH;
	a->kernel_cap_flags = IBK_ON_DEMAND_PAGING | IBK_ALLOW_USER_UNREG;
	a->max_send_sge = SODP_MAX_SGE;
	a->max_recv_sge = SODP_MAX_SGE;
	a->max_sge_rd = SODP_MAX_SGE;
	a->max_cq = SODP_MAX_CQ;
	a->max_cqe = SODP_MAX_CQE;
	a->max_mr = SODP_MAX_MR;
	a->max_mw = SODP_MAX_MW;
	a->max_pd = SODP_MAX_PD;
	a->max_qp_rd_atom = SODP_MAX_RD_ATOMIC;
	a->max_qp_init_rd_atom = SODP_MAX_RD_ATOMIC;
	a->max_res_rd_atom = SODP_MAX_RD_ATOMIC * SODP_MAX_QP;
	a->atomic_cap = IB_ATOMIC_HCA;
	a->max_ah = SODP_MAX_AH;
	a->max_srq = SODP_MAX_SRQ;
	a->max_srq_wr = SODP_MAX_SRQ_WR;
	a->max_srq_sge = SODP_MAX_SRQ_SGE;
	a->max_fast_reg_page_list_len = SODP_MAX_FAST_REG_PAGES;
	a->max_pkeys = SODP_PKEY_TBL_LEN;
	a->local_ca_ack_delay = SODP_LOCAL_ACK_DELAY;
	a->odp_caps.general_caps = IB_ODP_SUPPORT | IB_ODP_SUPPORT_IMPLICIT;
	a->odp_caps.per_transport_caps.rc_odp_caps =
		IB_ODP_SUPPORT_SEND | IB_ODP_SUPPORT_RECV |
		IB_ODP_SUPPORT_WRITE | IB_ODP_SUPPORT_READ |
		IB_ODP_SUPPORT_ATOMIC | IB_ODP_SUPPORT_SRQ_RECV;
	a->odp_caps.per_transport_caps.uc_odp_caps =
		IB_ODP_SUPPORT_SEND | IB_ODP_SUPPORT_RECV |
		IB_ODP_SUPPORT_WRITE | IB_ODP_SUPPORT_SRQ_RECV;
	a->odp_caps.per_transport_caps.ud_odp_caps =
		IB_ODP_SUPPORT_SEND | IB_ODP_SUPPORT_RECV |
		IB_ODP_SUPPORT_SRQ_RECV;
}

/**
 * sodp_dev_active_mtu() - the port's active MTU
 * @sdev: device
 *
 * The largest IB MTU whose RoCEv2 packets fit the netdev's MTU; the
 * payload limit of a UD datagram.
 *
 * Return: an IB_MTU_* value.
 */
enum ib_mtu sodp_dev_active_mtu(struct sodp_dev *sdev)
{
	enum ib_mtu mtu = iboe_get_mtu(READ_ONCE(sdev->ndev->mtu));

	return mtu ? mtu : IB_MTU_256;
}

static int sodp_query_device(struct ib_device *ibdev,
			     struct ib_device_attr *attr,
			     struct ib_udata *udata)
{
	if (udata && (udata->inlen || udata->outlen))
		return -EINVAL;
	*attr = to_sdev(ibdev)->attr;
	return 0;
}

static bool sodp_port_is_active(struct sodp_dev *sdev)
{
	return netif_running(sdev->ndev) && netif_carrier_ok(sdev->ndev);
}

static int sodp_query_port(struct ib_device *ibdev, u32 port,
			   struct ib_port_attr *attr)
{
	struct sodp_dev *sdev = to_sdev(ibdev);
	bool active = sodp_port_is_active(sdev);
	int ret;

	/* ib_core cleared *attr. */
	attr->state = active ? IB_PORT_ACTIVE : IB_PORT_DOWN;
	attr->phys_state = active ? IB_PORT_PHYS_STATE_LINK_UP :
				    IB_PORT_PHYS_STATE_DISABLED;
	attr->max_mtu = IB_MTU_4096;
	attr->active_mtu = sodp_dev_active_mtu(sdev);
	attr->gid_tbl_len = SODP_GID_TBL_LEN;
	attr->port_cap_flags = IB_PORT_CM_SUP;
	attr->max_msg_sz = SODP_MAX_MSG_SZ;
	attr->pkey_tbl_len = SODP_PKEY_TBL_LEN;
	attr->max_vl_num = 1;
	ret = ib_get_eth_speed(ibdev, port, &attr->active_speed,
			       &attr->active_width);
	return ret;
}

/* ib_core's view of the port's netdev; NULL once it is unregistering. */
static struct net_device *sodp_get_netdev(struct ib_device *ibdev, u32 port)
{
	struct sodp_dev *sdev = to_sdev(ibdev);

	if (READ_ONCE(sdev->ndev_gone))
		return NULL;
	dev_hold(sdev->ndev);	/* our own reference keeps it valid */
	return sdev->ndev;
}

static int sodp_get_port_immutable(struct ib_device *ibdev, u32 port,
				   struct ib_port_immutable *imm)
{
	imm->core_cap_flags = RDMA_CORE_PORT_IBA_ROCE_UDP_ENCAP;
	imm->pkey_tbl_len = SODP_PKEY_TBL_LEN;
	imm->gid_tbl_len = SODP_GID_TBL_LEN;
	imm->max_mad_size = IB_MGMT_MAD_SIZE;
	return 0;
}

static enum rdma_link_layer sodp_get_link_layer(struct ib_device *ibdev,
						u32 port)
{
	return IB_LINK_LAYER_ETHERNET;
}

static int sodp_query_pkey(struct ib_device *ibdev, u32 port, u16 index,
			   u16 *pkey)
{
	if (index >= SODP_PKEY_TBL_LEN)
		return -EINVAL;
	*pkey = IB_DEFAULT_PKEY_FULL;
	return 0;
}

static int sodp_modify_device(struct ib_device *ibdev, int mask,
			      struct ib_device_modify *attr)
{
	if (mask & ~(IB_DEVICE_MODIFY_SYS_IMAGE_GUID |
		     IB_DEVICE_MODIFY_NODE_DESC))
		return -EOPNOTSUPP;
	if (mask & IB_DEVICE_MODIFY_SYS_IMAGE_GUID)
		to_sdev(ibdev)->attr.sys_image_guid = attr->sys_image_guid;
	if (mask & IB_DEVICE_MODIFY_NODE_DESC)
		memcpy(ibdev->node_desc, attr->node_desc,
		       sizeof(ibdev->node_desc));
	return 0;
}

static int sodp_alloc_ucontext(struct ib_ucontext *uctx,
			       struct ib_udata *udata)
{
	return 0;
}

static void sodp_dealloc_ucontext(struct ib_ucontext *uctx)
{
}

/*
 * Device removal with processes still attached: ib_core destroys their
 * objects; ring pages they have mapped stay valid (refcounted) until they
 * unmap them, and no vm_ops of ours is involved, so nothing to revoke.
 */
static void sodp_disassociate_ucontext(struct ib_ucontext *uctx)
{
}

/*
 * The firmware string names the device kind: user space (the softodp
 * libibverbs provider) tells a softodp device from a stock rdma_rxe one,
 * which share the driver id, by the read-only sysfs fw_ver starting with
 * "softodp ".  rdma_rxe has no fw string.
 */
static void sodp_get_dev_fw_str(struct ib_device *ibdev, char *str)
{
	snprintf(str, IB_FW_VERSION_NAME_MAX, "softodp 0.1");
}

static void sodp_dealloc_driver(struct ib_device *ibdev)
{
	struct sodp_dev *sdev = to_sdev(ibdev);

	sodp_dev_dbg(sdev, "releasing (netdev %s)\n", netdev_name(sdev->ndev));
	sodp_devices_del(sdev);
	if (sdev->wq)
		destroy_workqueue(sdev->wq);
	if (sdev->fault_wq)
		destroy_workqueue(sdev->fault_wq);
	mutex_destroy(&sdev->atomic_lock);
	WARN_ON(!xa_empty(&sdev->qps) || !xa_empty(&sdev->mrs) ||
		!xa_empty(&sdev->mws) || !xa_empty(&sdev->srqs) ||
		!xa_empty(&sdev->ahs));
	xa_destroy(&sdev->qps);
	xa_destroy(&sdev->srqs);
	xa_destroy(&sdev->mrs);
	xa_destroy(&sdev->mws);
	xa_destroy(&sdev->ahs);
	dev_put(sdev->ndev);
}

const struct ib_device_ops sodp_dev_ops = {
	.owner = THIS_MODULE,
	.driver_id = RDMA_DRIVER_RXE,
	.uverbs_abi_ver = SODP_UVERBS_ABI_VERSION,

	.query_device = sodp_query_device,
	.modify_device = sodp_modify_device,
	.query_port = sodp_query_port,
	.get_port_immutable = sodp_get_port_immutable,
	.get_link_layer = sodp_get_link_layer,
	.get_netdev = sodp_get_netdev,
	.query_pkey = sodp_query_pkey,
	.get_dev_fw_str = sodp_get_dev_fw_str,
	.alloc_ucontext = sodp_alloc_ucontext,
	.dealloc_ucontext = sodp_dealloc_ucontext,
	.disassociate_ucontext = sodp_disassociate_ucontext,
	.mmap = sodp_mmap,
	.mmap_free = sodp_mmap_free,
	.dealloc_driver = sodp_dealloc_driver,

	INIT_RDMA_OBJ_SIZE(ib_ucontext, sodp_ucontext, ibuc),
};

/**
 * sodp_dev_port_event() - tell ib_core about a port state change
 * @sdev: device whose netdev changed state
 *
 * Context: netdev notifier (RTNL held); does not query link speed.
 */
void sodp_dev_port_event(struct sodp_dev *sdev)
{
	bool active = sodp_port_is_active(sdev);
	struct ib_event ev = {
		.device = &sdev->ibdev,
		.element.port_num = 1,
		.event = active ? IB_EVENT_PORT_ACTIVE : IB_EVENT_PORT_ERR,
	};

	if (active == sdev->port_active)
		return;
	sdev->port_active = active;
	sodp_dev_dbg(sdev, "port %s\n", active ? "active" : "down");
	ib_dispatch_event(&ev);
}

/**
 * sodp_dev_add() - create and register a device on a net_device
 * @name: ib_device name from "rdma link add"
 * @ndev: the Ethernet device
 *
 * Context: process, sleeps; not under RTNL.
 * Return: 0 or a negative errno.
 */
int sodp_dev_add(const char *name, struct net_device *ndev)
{
	struct sodp_dev *sdev;
	struct ib_device *ibdev;
	int ret;

	sdev = ib_alloc_device(sodp_dev, ibdev);
	if (!sdev)
		return -ENOMEM;
	ibdev = &sdev->ibdev;
	ib_set_device_ops(ibdev, &sodp_dev_ops);
	ib_set_device_ops(ibdev, &sodp_pd_ah_ops);
	ib_set_device_ops(ibdev, &sodp_cq_ops);
	ib_set_device_ops(ibdev, &sodp_srq_ops);
	ib_set_device_ops(ibdev, &sodp_qp_ops);
	ib_set_device_ops(ibdev, &sodp_mr_ops);
	ib_set_device_ops(ibdev, &sodp_mw_ops);
	ib_set_device_ops(ibdev, &sodp_prefetch_ops);
	ib_set_device_ops(ibdev, &sodp_stats_ops);
	dev_hold(ndev);
	sdev->ndev = ndev;
	INIT_LIST_HEAD(&sdev->list);
	xa_init_flags(&sdev->qps, XA_FLAGS_ALLOC | XA_FLAGS_LOCK_BH);
	xa_init_flags(&sdev->srqs, XA_FLAGS_ALLOC1);
	xa_init_flags(&sdev->mrs, XA_FLAGS_ALLOC1);
	xa_init_flags(&sdev->mws, XA_FLAGS_ALLOC);
	xa_init_flags(&sdev->ahs, XA_FLAGS_ALLOC1);
	sdev->next_qpn = SODP_FIRST_QPN;
	sdev->port_active = sodp_port_is_active(sdev);
	mutex_init(&sdev->atomic_lock);
	sdev->net = dev_net(ndev);
	/* From here on ib_dealloc_device() undoes everything (dealloc_driver). */
	ret = sodp_devices_add(sdev, name);
	if (ret)
		goto err;

	/* The namespace's UDP port 4791 (EADDRINUSE while rdma_rxe owns it). */
	ret = sodp_dev_get_net(sdev);
	if (ret)
		goto err;

	/*
	 * Storage ULPs may depend on QP progress to reclaim memory.  Per-CPU
	 * (not unbound) and high priority: a QP's work runs on the CPU that
	 * kicked it - the receiving softirq's or the posting thread's - with
	 * no hand-off to another CPU per packet burst, which measured about
	 * 1.4x the bandwidth of an unbound queue.
	 */
	sdev->wq = alloc_workqueue("softodp_%s",
				   WQ_PERCPU | WQ_HIGHPRI | WQ_MEM_RECLAIM, 0,
				   name);
	if (!sdev->wq) {
		ret = -ENOMEM;
		goto err;
	}
	/*
	 * Responder page faults that may block for long (reclaim, I/O) run
	 * here, off the QP workqueue, while the QP answers RNR NAK
	 * (resp_fault.c).  Not WQ_MEM_RECLAIM: a fault allocates memory.
	 */
	sdev->fault_wq = alloc_workqueue("softodp_%s_fault", WQ_UNBOUND, 0,
					 name);
	if (!sdev->fault_wq) {
		ret = -ENOMEM;
		goto err;
	}

	/*
	 * Write commands ib_core leaves off by default: librxe's SQ doorbell
	 * is an empty POST_SEND, and it arms CQs with REQ_NOTIFY_CQ.
	 * POLL_CQ, POST_RECV and POST_SRQ_RECV stay off: librxe does them
	 * in user space on the mapped rings.
	 */
	ibdev->uverbs_cmd_mask |= BIT_ULL(IB_USER_VERBS_CMD_POST_SEND) |
				  BIT_ULL(IB_USER_VERBS_CMD_REQ_NOTIFY_CQ);
	/* As rdma_rxe: RDMA_NODE_RNIC would make the port iWARP to ib_core. */
	ibdev->node_type = RDMA_NODE_IB_CA;
	ibdev->phys_port_cnt = 1;
	ibdev->num_comp_vectors = 1;
	ibdev->local_dma_lkey = 0;
	addrconf_addr_eui48((unsigned char *)&ibdev->node_guid,
			    ndev->dev_addr);
	strscpy(ibdev->node_desc, "softodp", sizeof(ibdev->node_desc));
	sodp_init_attr(sdev);

	/* No DMA device: ib_core uses virtual "DMA" (ib_uses_virt_dma). */
	ret = ib_register_device(ibdev, name, NULL);
	if (ret)
		goto err;
	sodp_dev_dbg(sdev, "registered on %s\n", netdev_name(ndev));
	return 0;

err:
	ib_dealloc_device(ibdev);	/* calls sodp_dealloc_driver() */
	return ret;
}
