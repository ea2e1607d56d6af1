// SPDX-License-Identifier: GPL-2.0
/*
 * softodp module entry: registers the "softodp" rdma link type.
 *
 * Devices are created with "rdma link add NAME type softodp netdev DEV".
 * Until the device itself exists, newlink refuses every request with
 * -EOPNOTSUPP so that userspace sees a clear "Operation not supported".
 */
#include <linux/module.h>
#include <linux/mmu_notifier.h>
#include <linux/netdevice.h>
#include <rdma/rdma_netlink.h>

#include "softodp.h"
#include "../odp/odp.h"

static int softodp_newlink(const char *ibdev_name, struct net_device *ndev)
{
	sodp_info("link %s on %s: device creation is not supported yet\n",
		  ibdev_name, netdev_name(ndev));
	return -EOPNOTSUPP;
}

static struct rdma_link_ops softodp_link_ops = {
	.type = SOFTODP_LINK_TYPE,
	.newlink = softodp_newlink,
};

static int __init softodp_init(void)
{
	int ret;

	ret = odp_core_init();
	if (ret)
		return ret;
	rdma_link_register(&softodp_link_ops);
	return 0;
}

static void __exit softodp_exit(void)
{
	rdma_link_unregister(&softodp_link_ops);
	/* Waits for the ODP core's deferred mmu_notifier frees. */
	odp_core_exit();
}

module_init(softodp_init);
module_exit(softodp_exit);

MODULE_AUTHOR("softodp developers");
MODULE_DESCRIPTION("Software RoCEv2 device with on-demand paging memory regions");
MODULE_LICENSE("GPL");
MODULE_ALIAS_RDMA_LINK(SOFTODP_LINK_TYPE);
