// SPDX-License-Identifier: GPL-2.0
/*
 * softodp: RoCEv2 receive dispatch (softirq).
 *
 * For every packet the UDP socket of a namespace hands us: find the device
 * owning the destination address (not the arrival netdev: traffic to a
 * local address arrives on "lo"), check the transport header and length,
 * find the QP by BTH destination QP number and queue the packet for the
 * QP's engines (sodp_qp_rx_enqueue(), engine.c).  Whatever does not belong is dropped and counted in
 * sodp_dev.stats.
 *
 * The ICRC is checked by the QP's work item (sodp_pkt_icrc_ok()), not here:
 * for a peer on the same host (veth) this softirq runs in the sender's
 * context, and the receiving QP's work item may run on another CPU, so the
 * two CRCs of a packet are computed in parallel instead of both by the
 * sender.  Packets that arrived on the loopback device are not checked;
 * most of them do not even pass through it but are delivered by the
 * sender directly (net.c, local delivery), with the sender's drive.
 */
#include <linux/netdevice.h>
#include <linux/skbuff.h>

#include "engine.h"
#include "pkt.h"
#include "recv.h"

/**
 * sodp_qp_get() - look up a QP by number and take a reference
 * @sdev: device
 * @qpn: QP number
 *
 * Context: softirq or process context.  The reference is taken under the
 * xarray's lock, so once destroy_qp has erased the QP no lookup can reach
 * it; destroy_qp then waits for the references to drop.  (Under RCU it
 * would have to wait for a grace period per QP, tens of milliseconds: a
 * process with 1 000 QPs took 30 s to exit.)
 * Return: the QP (sodp_qp_put() it) or NULL.
 */
struct sodp_qp *sodp_qp_get(struct sodp_dev *sdev, u32 qpn)
{
	struct sodp_qp *qp;

	xa_lock_bh(&sdev->qps);
	qp = xa_load(&sdev->qps, qpn);
	if (qp && !refcount_inc_not_zero(&qp->ref))
		qp = NULL;
	xa_unlock_bh(&sdev->qps);
	return qp;
}

void sodp_qp_put(struct sodp_qp *qp)
{
	if (refcount_dec_and_test(&qp->ref))
		complete(&qp->ref_done);
}

/* The BTH transport bits of the opcodes @qp sends and takes. */
static u8 sodp_qp_transport(const struct sodp_qp *qp)
{
	if (sodp_qp_is_ud(qp))
		return SODP_OP_TRANSPORT_UD;
	if (sodp_qp_is_uc(qp))
		return SODP_OP_TRANSPORT_UC;
	return SODP_OP_TRANSPORT_RC;
}

static bool sodp_rx_check(struct sodp_dev *sdev, struct sk_buff *skb)
{
	struct sodp_bth *bth = sodp_pkt_bth(skb);
	const struct sodp_opinfo *info;
	unsigned int pad, len = skb->len;

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
	/* One P_Key: the default, full or limited membership. */
	if ((be16_to_cpu(bth->pkey) & 0x7fff) != (SODP_DEFAULT_PKEY & 0x7fff)) {
		sodp_stat_inc(sdev->stats, SODP_STAT_RX_DROP_PKEY);
		return false;
	}
	sodp_pkt(skb)->info = info;
	sodp_pkt(skb)->local = !!(skb->dev->flags & IFF_LOOPBACK);
	sodp_pkt(skb)->psn = sodp_bth_psn(bth);
	sodp_pkt(skb)->paylen = len - info->hdr_len - pad - SODP_ICRC_SIZE;
	return true;
}

/**
 * sodp_pkt_icrc_ok() - check the ICRC of a queued packet
 * @qp: the QP it was queued on
 * @skb: the packet, as sodp_rx() queued it
 *
 * A packet that came in on the loopback device never was on a wire: like
 * the stack with UDP and TCP checksums there, trust it (it was made with a
 * valid ICRC by a local sender).
 *
 * Context: QP work item.
 * Return: true if the ICRC matches; else the drop is counted.
 */
bool sodp_pkt_icrc_ok(struct sodp_qp *qp, struct sk_buff *skb)
{
	unsigned int len = skb->len - SODP_ICRC_SIZE;
	__le32 icrc;

	if (sodp_pkt(skb)->local)
		return true;

	if (skb_copy_bits(skb, len, &icrc, sizeof(icrc)) ||
	    !sodp_icrc_matches(skb, len, le32_to_cpu(icrc))) {
		sodp_stat_inc(sodp_qp_dev(qp)->stats, SODP_STAT_RX_DROP_ICRC);
		return false;
	}
	return true;
}

/**
 * sodp_rx() - receive handler of the UDP transport
 * @skb: packet, skb->data at the BTH; consumed
 * @drive: the sender's drive for a packet delivered locally (net.c), else
 *	NULL
 *
 * Context: softirq, or bottom halves off (local delivery).
 */
void sodp_rx(struct sk_buff *skb, struct sodp_drive *drive)
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
	qp = sodp_qp_get(sdev, sodp_bth_qpn(sodp_pkt_bth(skb)));
	if (!qp) {
		sodp_stat_inc(sdev->stats, SODP_STAT_RX_DROP_NOQP);
		goto drop_dev;
	}
	/* Each QP type takes the opcodes of its own transport only. */
	if ((sodp_pkt_bth(skb)->opcode & SODP_OP_TRANSPORT_MASK) !=
	    sodp_qp_transport(qp)) {
		sodp_stat_inc(sdev->stats, SODP_STAT_RX_DROP_TRANSPORT);
		sodp_qp_put(qp);
		goto drop_dev;
	}
	if (READ_ONCE(qp->state) < IB_QPS_RTR ||
	    READ_ONCE(qp->state) == IB_QPS_ERR) {
		sodp_stat_inc(sdev->stats, SODP_STAT_RX_DROP_STATE);
		sodp_qp_put(qp);
		goto drop_dev;
	}
	if (!sodp_qp_rx_enqueue(qp, skb, drive)) {
		sodp_stat_inc(sdev->stats, SODP_STAT_RX_DROP_QFULL);
		sodp_qp_put(qp);
		goto drop_dev;
	}
	sodp_qp_put(qp);
	ib_device_put(&sdev->ibdev);
	return;

drop_dev:
	ib_device_put(&sdev->ibdev);
drop:
	kfree_skb(skb);
}
