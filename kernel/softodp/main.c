// SPDX-License-Identifier: GPL-2.0
/*
 * softodp module entry: the "softodp" rdma link type, the list of our
 * devices and the netdev notifier.
 *
 * Devices are created with "rdma link add NAME type softodp netdev DEV"
 * and removed with "rdma link delete NAME", when DEV is unregistered, at
 * module unload, or by "rmmod rdma_rxe" (ib_unregister_driver() of the
 * rxe driver id we share).  All paths end in ->dealloc_driver, which
 * takes the device off sodp_devices.
 */
#include <linux/module.h>
#include <linux/mmu_notifier.h>
#include <linux/netdevice.h>
#include <linux/if_arp.h>
#include <rdma/rdma_netlink.h>

#include "softodp.h"
#include "net.h"
#include "recv.h"
#include "../odp/odp.h"

/*
 * Our devices; see the locking notes in softodp.h.  Writers hold
 * sodp_devices_lock; the RX path reads the list under RCU.
 */
static LIST_HEAD(sodp_devices);
static DEFINE_MUTEX(sodp_devices_lock);

/**
 * sodp_devices_add() - enter a new device in the list
 * @sdev: the device, with @sdev->ndev set
 * @name: its name
 *
 * Return: 0, or -EEXIST if one of our devices has that name or netdev.
 */
int sodp_devices_add(struct sodp_dev *sdev, const char *name)
{
	struct sodp_dev *other;
	int ret = 0;

	mutex_lock(&sodp_devices_lock);
	list_for_each_entry(other, &sodp_devices, list)
		if (!strcmp(other->name, name) || other->ndev == sdev->ndev)
			ret = -EEXIST;
	if (!ret) {
		strscpy(sdev->name, name, sizeof(sdev->name));
		list_add_tail_rcu(&sdev->list, &sodp_devices);
	}
	mutex_unlock(&sodp_devices_lock);
	return ret;
}

/*
 * Drop the device's use of its namespace's sockets, once.  Called under
 * sodp_devices_lock at NETDEV_UNREGISTER (a dying namespace unregisters
 * its netdevs before softodp's pernet exit runs, so the use is gone by
 * then) and at release.
 */
static void sodp_dev_put_net(struct sodp_dev *sdev)
{
	lockdep_assert_held(&sodp_devices_lock);
	if (!sdev->net_held)
		return;
	sdev->net_held = false;
	sodp_net_put(sdev->net);
}

/**
 * sodp_dev_get_net() - take a use of the UDP sockets of the device's namespace
 * @sdev: a listed device
 *
 * Return: 0, -ENODEV if its netdev is already unregistering, or the error
 * of sodp_net_get() (-EADDRINUSE while rdma_rxe owns the port).
 */
int sodp_dev_get_net(struct sodp_dev *sdev)
{
	int ret;

	mutex_lock(&sodp_devices_lock);
	ret = READ_ONCE(sdev->ndev_gone) ? -ENODEV : sodp_net_get(sdev->net);
	if (!ret)
		sdev->net_held = true;
	mutex_unlock(&sodp_devices_lock);
	return ret;
}

void sodp_devices_del(struct sodp_dev *sdev)
{
	bool listed;

	mutex_lock(&sodp_devices_lock);
	listed = !list_empty(&sdev->list);
	if (listed)
		list_del_rcu(&sdev->list);
	sodp_dev_put_net(sdev);
	mutex_unlock(&sodp_devices_lock);
	/* The RX path may still be looking at the entry. */
	if (listed)
		synchronize_rcu();
	INIT_LIST_HEAD(&sdev->list);
}

/**
 * sodp_dev_get_by_netdev() - our registered device bound to @ndev
 * @ndev: a net_device
 *
 * Context: any (RX softirq); RCU walk of the device list.
 * Return: the device with an ib_device reference (ib_device_put()), or NULL.
 */
struct sodp_dev *sodp_dev_get_by_netdev(struct net_device *ndev)
{
	struct sodp_dev *sdev, *found = NULL;

	rcu_read_lock();
	list_for_each_entry_rcu(sdev, &sodp_devices, list) {
		if (sdev->ndev != ndev)
			continue;
		/* Fails before registration and once unregistration began. */
		if (ib_device_try_get(&sdev->ibdev))
			found = sdev;
		break;
	}
	rcu_read_unlock();
	return found;
}

static int softodp_newlink(const char *ibdev_name, struct net_device *ndev)
{
	struct ib_device *other;

	if (ndev->type != ARPHRD_ETHER || (ndev->flags & IFF_LOOPBACK))
		return -EINVAL;
	/* Not next to an rdma_rxe device (same ABI, same UDP port). */
	other = ib_device_get_by_netdev(ndev, RDMA_DRIVER_RXE);
	if (other) {
		ib_device_put(other);
		return -EEXIST;
	}
	/* Duplicates among our own devices: sodp_devices_add(). */
	return sodp_dev_add(ibdev_name, ndev);
}

static struct rdma_link_ops softodp_link_ops = {
	.type = SOFTODP_LINK_TYPE,
	.newlink = softodp_newlink,
};

static void sodp_netdev_unregister(struct sodp_dev *sdev)
{
	/* Fails if an unregistration is already under way. */
	if (!ib_device_try_get(&sdev->ibdev))
		return;
	ib_unregister_device_queued(&sdev->ibdev);
	ib_device_put(&sdev->ibdev);
}

static int sodp_netdev_event(struct notifier_block *nb, unsigned long event,
			     void *ptr)
{
	struct net_device *ndev = netdev_notifier_info_to_dev(ptr);
	struct sodp_dev *sdev;

	mutex_lock(&sodp_devices_lock);
	list_for_each_entry(sdev, &sodp_devices, list) {
		if (sdev->ndev != ndev)
			continue;
		switch (event) {
		case NETDEV_UNREGISTER:
			WRITE_ONCE(sdev->ndev_gone, true);
			sodp_dev_put_net(sdev);
			sodp_netdev_unregister(sdev);
			break;
		case NETDEV_UP:
		case NETDEV_DOWN:
		case NETDEV_CHANGE:
			sodp_dev_port_event(sdev);
			break;
		default:
			/* MTU: query_port reads the netdev's MTU live. */
			break;
		}
	}
	mutex_unlock(&sodp_devices_lock);
	return NOTIFY_DONE;
}

static struct notifier_block sodp_netdev_nb = {
	.notifier_call = sodp_netdev_event,
};

/*
 * Unregister our devices (never ib_unregister_driver(): that would also
 * take rdma_rxe's).  ib_unregister_device() waits for an unregistration
 * already under way; ->dealloc_driver removes the entry, so the loop ends.
 */
static void sodp_remove_all(void)
{
	struct sodp_dev *sdev;
	struct ib_device *ibdev;

	for (;;) {
		mutex_lock(&sodp_devices_lock);
		sdev = list_first_entry_or_null(&sodp_devices, struct sodp_dev,
						list);
		ibdev = sdev ? &sdev->ibdev : NULL;
		if (ibdev)
			get_device(&ibdev->dev);
		mutex_unlock(&sodp_devices_lock);
		if (!ibdev)
			break;
		ib_unregister_device(ibdev);
		put_device(&ibdev->dev);
	}
}

static int __init softodp_init(void)
{
	int ret;

	ret = odp_core_init();
	if (ret)
		return ret;
	ret = sodp_net_init(sodp_rx);
	if (ret) {
		odp_core_exit();
		return ret;
	}
	ret = register_netdevice_notifier(&sodp_netdev_nb);
	if (ret) {
		sodp_net_exit();
		odp_core_exit();
		return ret;
	}
	rdma_link_register(&softodp_link_ops);
	return 0;
}

static void __exit softodp_exit(void)
{
	rdma_link_unregister(&softodp_link_ops);
	unregister_netdevice_notifier(&sodp_netdev_nb);
	sodp_remove_all();
	sodp_net_exit();
	odp_core_exit();
}

module_init(softodp_init);
module_exit(softodp_exit);

MODULE_AUTHOR("softodp developers");
MODULE_DESCRIPTION("Software RoCEv2 device with on-demand paging memory regions");
MODULE_LICENSE("GPL");
MODULE_ALIAS_RDMA_LINK(SOFTODP_LINK_TYPE);
