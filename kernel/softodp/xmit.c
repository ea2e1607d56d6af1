// SPDX-License-Identifier: GPL-2.0
/*
 * softodp: building and sending packets on a QP's path.
 *
 * Every packet a QP sends - requests (req.c), acknowledgements, READ
 * responses and ATOMIC acknowledgements (resp.c) - is allocated here with
 * its BTH filled in, completed by the engine, and handed to the UDP
 * transport (net.c) on the path derived from the QP's address vector.
 * The engines serialise on the QP's proc_lock, which also protects the
 * path and its cached route.
 */
#include <net/addrconf.h>

#include "pkt.h"

/**
 * sodp_qp_mtu() - the QP's path MTU in bytes
 * @qp: QP
 *
 * Return: the payload bytes a packet of the QP may carry.
 */
u32 sodp_qp_mtu(struct sodp_qp *qp)
{
	return ib_mtu_enum_to_int(qp->attr.path_mtu);
}

/*
 * The UDP/IP path of @qp's packets to QP @dqpn at @av: addresses, flow
 * label (the UDP source port's entropy), traffic class and hop limit.
 */
static void sodp_path_from_av(struct sodp_qp *qp, const struct sodp_av *av,
			      u32 dqpn)
{
	struct sodp_dev *sdev = sodp_qp_dev(qp);
	struct sodp_path *p = &qp->path;
	u32 fl;

	sodp_path_release(p);
	memset(p, 0, sizeof(*p));
	p->net = sdev->net;
	p->v6 = av->network_type == RDMA_NETWORK_IPV6;
	if (p->v6) {
		memcpy(&p->saddr, av->sgid.raw, sizeof(p->saddr));
		memcpy(&p->daddr, av->dgid.raw, sizeof(p->daddr));
		if (ipv6_addr_type(&p->daddr) & IPV6_ADDR_LINKLOCAL)
			p->ifindex = sdev->ndev->ifindex;
	} else {
		memcpy(&p->saddr.s6_addr32[0], &av->sgid.raw[12], 4);
		memcpy(&p->daddr.s6_addr32[0], &av->dgid.raw[12], 4);
	}
	fl = av->flow_label ? av->flow_label :
	     rdma_calc_flow_label(qp->ibqp.qp_num, dqpn);
	p->sport = htons(rdma_flow_label_to_udp_sport(fl));
	p->tclass = av->traffic_class;
	p->hop_limit = av->hop_limit ? av->hop_limit : 64;
	p->flow_label = av->flow_label;
	qp->path_dqpn = dqpn;
	qp->path_ok = true;
}

/**
 * sodp_qp_set_path() - derive an RC QP's UDP/IP path from its address
 *	vector
 * @qp: QP whose av was just set
 *
 * Context: proc_lock held.
 */
void sodp_qp_set_path(struct sodp_qp *qp)
{
	lockdep_assert_held(&qp->proc_lock);
	sodp_path_from_av(qp, &qp->av, qp->attr.dest_qp_num);
}

/**
 * sodp_qp_ud_path() - point a UD QP's path at a datagram's destination
 * @qp: UD or GSI QP
 * @av: the destination's address vector (from the WQE's AH)
 * @dqpn: the destination QP
 *
 * The path (and its cached route) stays set up for the last destination,
 * so that a stream of datagrams to one peer is routed once.
 *
 * Context: proc_lock held.
 */
void sodp_qp_ud_path(struct sodp_qp *qp, const struct sodp_av *av, u32 dqpn)
{
	lockdep_assert_held(&qp->proc_lock);
	if (qp->path_ok && qp->path_dqpn == dqpn &&
	    !memcmp(&qp->av, av, sizeof(*av)))
		return;
	qp->av = *av;
	sodp_path_from_av(qp, &qp->av, dqpn);
}

/**
 * sodp_pkt_new() - allocate a packet for the QP's path
 * @qp: QP (path set up)
 * @opcode: BTH opcode
 * @paylen: payload bytes the caller will write after the headers
 * @psn: PSN
 * @ackreq: AckReq bit
 * @se: solicited event bit
 *
 * The BTH (to the path's destination QP) is filled in; extension headers
 * are zeroed, the payload is reserved (at skb->data + hdr_len) and the pad
 * is zeroed.
 *
 * Context: proc_lock held (the path and its route are the QP's).
 * Return: the packet, or NULL (no route, no memory).
 */
struct sk_buff *sodp_pkt_new(struct sodp_qp *qp, u8 opcode, u32 paylen,
			     u32 psn, bool ackreq, bool se)
{
	const struct sodp_opinfo *info = sodp_op_info(opcode);
	unsigned int pad = (4 - (paylen & 3)) & 3;
	struct sk_buff *skb;
	struct sodp_bth *bth;

	lockdep_assert_held(&qp->proc_lock);
	if (!qp->path_ok || sodp_path_route(&qp->path))
		return NULL;
	skb = sodp_net_alloc_skb(&qp->path, info->hdr_len + paylen + pad,
				 GFP_KERNEL);
	if (!skb)
		return NULL;
	bth = skb_put_zero(skb, info->hdr_len);
	sodp_bth_init(bth, opcode, se, pad, SODP_DEFAULT_PKEY, qp->path_dqpn,
		      ackreq, psn);
	skb_put(skb, paylen);
	skb_put_zero(skb, pad);
	return skb;
}

/**
 * sodp_pkt_send() - send a packet built by sodp_pkt_new()
 * @qp: QP
 * @skb: the packet; consumed
 *
 * A packet that cannot be sent is lost like one dropped on the wire: the
 * protocol recovers (retransmission).  A packet for a local QP is
 * delivered at once (net.c) and its QP joins the drive this run belongs
 * to (engine.c).
 *
 * Context: proc_lock held.
 * Return: 0 or the transport's error.
 */
int sodp_pkt_send(struct sodp_qp *qp, struct sk_buff *skb)
{
	atomic64_t *stats = sodp_qp_dev(qp)->stats;
	int ret;

	lockdep_assert_held(&qp->proc_lock);
	sodp_stat_inc(stats, SODP_STAT_TX_PKTS);
	ret = sodp_net_xmit(&qp->path, skb, qp->drive);
	if (ret == SODP_NET_LOCAL) {
		sodp_stat_inc(stats, SODP_STAT_TX_LOCAL);
		ret = 0;
	}
	return ret;
}

/**
 * sodp_pkt_send_ack() - send an ACK/NAK, an ATOMIC acknowledgement or a
 * READ response without data (the answer to a FLUSH)
 * @qp: QP
 * @opcode: SODP_OP_ACK, SODP_OP_ATOMIC_ACK or SODP_OP_READ_RESP_ONLY
 * @psn: the PSN acknowledged
 * @syndrome: AETH syndrome (ACK, RNR NAK or NAK with its code)
 * @msn: AETH message sequence number
 * @orig: SODP_OP_ATOMIC_ACK: the original value of the operand
 *
 * Context: proc_lock held.
 */
void sodp_pkt_send_ack(struct sodp_qp *qp, u8 opcode, u32 psn, u8 syndrome,
		       u32 msn, u64 orig)
{
	const struct sodp_opinfo *info = sodp_op_info(opcode);
	struct sk_buff *skb;

	skb = sodp_pkt_new(qp, opcode, 0, psn, false, false);
	if (!skb)
		return;
	sodp_aeth_init(sodp_pkt_hdr(skb, info->off_aeth), syndrome, msn);
	if (info->off_atmack)
		((struct sodp_atmack *)sodp_pkt_hdr(skb, info->off_atmack))->orig =
			cpu_to_be64(orig);
	sodp_pkt_send(qp, skb);
}
