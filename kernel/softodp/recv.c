// SPDX-License-Identifier: GPL-2.0
/*
 * softodp: RoCEv2 receive dispatch (softirq).
 *
 * For every packet the UDP socket of a namespace hands us: find the device
 * owning the destination address (not the arrival netdev: traffic to a
 * local address arrives on "lo"), check the transport header, length and
 * ICRC, find the QP by BTH destination QP number, queue the packet on the
 * QP and kick its work item.  Whatever does not belong is dropped and
 * counted in sodp_dev.stats.
 */
#include <linux/skbuff.h>

#include "qp.h"
#include "recv.h"

/* Queued packets per QP before the RX path drops (the peer retransmits). */
#define SODP_RXQ_MAX	4096

/**
 * sodp_qp_get() - look up a QP by number and take a reference
 * @sdev: device
 * @qpn: QP number
 *
 * Context: any.  destroy_qp unpublishes the QP, waits for an RCU grace
 * period and then for the references to drop.
 * Return: the QP (sodp_qp_put() it) or NULL.
 */
struct sodp_qp *sodp_qp_get(struct sodp_dev *sdev, u32 qpn)
{
	struct sodp_qp *qp;

	rcu_read_lock();
	qp = xa_load(&sdev->qps, qpn);
	if (qp && !refcount_inc_not_zero(&qp->ref))
		qp = NULL;
	rcu_read_unlock();
	return qp;
}

void sodp_qp_put(struct sodp_qp *qp)
{
	if (refcount_dec_and_test(&qp->ref))
		complete(&qp->ref_done);
}

static bool sodp_rx_check(struct sodp_dev *sdev, struct sk_buff *skb)
{
	struct sodp_bth *bth = (struct sodp_bth *)skb->data;
	const struct sodp_opinfo *info;
	unsigned int pad, len = skb->len;
	__le32 icrc;
	u32 want;

	info = sodp_op_info(bth->opcode);
	if (!info || (bth->flags & SODP_BTH_TVER_MASK)) {
		sodp_stat_inc(sdev->stats, SODP_STAT_RX_DROP_HDR);
		return false;
	}
	pad = sodp_bth_pad(bth);
	if (len < info->hdr_len + pad + SODP_ICRC_SIZE ||
	    (!(info->flags & SODP_OPF_PAYLOAD) &&
	     len != info->hdr_len + pad + SODP_ICRC_SIZE)) {
		sodp_stat_inc(sdev->stats, SODP_STAT_RX_DROP_HDR);
		return false;
	}
	memcpy(&icrc, skb->data + len - SODP_ICRC_SIZE, sizeof(icrc));
	want = sodp_icrc_compute(skb, 0, len - SODP_ICRC_SIZE);
	if (le32_to_cpu(icrc) != want) {
		sodp_stat_inc(sdev->stats, SODP_STAT_RX_DROP_ICRC);
		return false;
	}
	/* One P_Key: the default, full or limited membership. */
	if ((be16_to_cpu(bth->pkey) & 0x7fff) != (SODP_DEFAULT_PKEY & 0x7fff)) {
		sodp_stat_inc(sdev->stats, SODP_STAT_RX_DROP_PKEY);
		return false;
	}
	sodp_pkt(skb)->info = info;
	sodp_pkt(skb)->psn = sodp_bth_psn(bth);
	sodp_pkt(skb)->paylen = len - info->hdr_len - pad - SODP_ICRC_SIZE;
	return true;
}

/**
 * sodp_rx() - receive handler of the UDP transport
 * @skb: packet, skb->data at the BTH; consumed
 *
 * Context: softirq.
 */
void sodp_rx(struct sk_buff *skb)
{
	struct net_device *ndev;
	struct sodp_dev *sdev;
	struct sodp_qp *qp;

	ndev = sodp_net_rx_netdev(skb);
	sdev = ndev ? sodp_dev_get_by_netdev(ndev) : NULL;
	if (ndev)
		dev_put(ndev);
	if (!sdev)
		goto drop;
	sodp_stat_inc(sdev->stats, SODP_STAT_RX_PKTS);
	if (skb_linearize(skb)) {
		sodp_stat_inc(sdev->stats, SODP_STAT_RX_DROP_HDR);
		goto drop_dev;
	}
	if (!sodp_rx_check(sdev, skb))
		goto drop_dev;
	qp = sodp_qp_get(sdev, sodp_bth_qpn((struct sodp_bth *)skb->data));
	if (!qp) {
		sodp_stat_inc(sdev->stats, SODP_STAT_RX_DROP_NOQP);
		goto drop_dev;
	}
	if (READ_ONCE(qp->state) < IB_QPS_RTR ||
	    READ_ONCE(qp->state) == IB_QPS_ERR) {
		sodp_stat_inc(sdev->stats, SODP_STAT_RX_DROP_STATE);
		sodp_qp_put(qp);
		goto drop_dev;
	}
	if (skb_queue_len(&qp->rxq) >= SODP_RXQ_MAX) {
		sodp_stat_inc(sdev->stats, SODP_STAT_RX_DROP_QFULL);
		sodp_qp_put(qp);
		goto drop_dev;
	}
	skb_queue_tail(&qp->rxq, skb);
	sodp_qp_kick(qp);
	sodp_qp_put(qp);
	ib_device_put(&sdev->ibdev);
	return;

drop_dev:
	ib_device_put(&sdev->ibdev);
drop:
	kfree_skb(skb);
}
