// SPDX-License-Identifier: GPL-2.0
/*
 * softodp: datagrams - what is particular to UD QPs and the GSI QP1 (the
 * management datagrams of ib_mad, ib_cm and rdma_cm): their send WQEs,
 * their packets and their receives.  The send queue is walked by the
 * requester (req.c); receive WQEs come from the responder's helpers
 * (resp.c).
 *
 * Sending: a UD WQE is one packet of at most the port's active MTU of
 * payload: BTH to the WQE's destination QP, DETH with the Q_Key and our
 * QP number, immediate data if any.  It completes once it is handed to the
 * transport: UD is unreliable, a datagram that cannot be sent is lost.
 * The path follows the WQE's address vector and stays cached for the last
 * destination.
 *
 * Q_Keys (IBTA 10.2.4): a work request whose Q_Key has the high-order bit
 * set uses the QP's own Q_Key instead; only privileged consumers may give
 * a QP such a Q_Key (ib_core checks modify_qp).  The GSI QP's Q_Key is
 * IB_QP1_QKEY.
 *
 * Receiving: a datagram whose Q_Key differs from the QP's is dropped
 * (rx_drop_bad_qkey); one that finds no receive WQE is dropped
 * (rx_drop_no_recv_wqe): UD has no RNR.  The receive buffer gets the
 * 40-byte GRH first - for RoCEv2 over IPv4 20 zero bytes and the IPv4
 * header, over IPv6 the IPv6 header - then the payload.  A buffer too
 * small for both completes with IB_WC_LOC_LEN_ERR and the QP carries on;
 * a buffer the QP may not write (key, PD, rights, unmapped) completes with
 * IB_WC_LOC_PROT_ERR and moves the QP to ERR.  Buffers in ODP regions are
 * faulted in by the work item before the data is placed, like RC
 * receives: no datagram is dropped because a page was not present.
 */
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <rdma/ib_mad.h>

#include "engine.h"
#include "mr.h"
#include "pkt.h"
#include "qp.h"
#include "recv.h"
#include "wqe.h"

#define SODP_GRH_LEN	40

/**
 * sodp_ud_copy_wqe() - the datagram fields of a UD send WQE, into its
 *	shadow
 * @qp: UD or GSI QP
 * @w: the ring's WQE (untrusted for user QPs)
 * @s: its shadow
 *
 * User WQEs name an address handle by the number create_ah returned;
 * kernel WQEs carry the AH's address vector (sodp_send_wqe_fill()).
 *
 * Context: proc_lock held.
 * Return: true, or false if the address handle is unknown or belongs to
 * another PD.
 */
bool sodp_ud_copy_wqe(struct sodp_qp *qp, struct rxe_send_wqe *w,
		      struct sodp_swqe *s)
{
	u32 qkey = READ_ONCE(w->wr.wr.ud.remote_qkey);

	s->remote_qpn = READ_ONCE(w->wr.wr.ud.remote_qpn) & SODP_QPN_MASK;
	s->qkey = (qkey & 0x80000000U) ? READ_ONCE(qp->attr.qkey) : qkey;
	if (!qp->is_user) {
		memcpy(&s->av, &w->wr.wr.ud.av, sizeof(s->av));
		return true;
	}
	return !sodp_ah_copy_av(sodp_qp_dev(qp), READ_ONCE(w->wr.wr.ud.ah_num),
				qp->ibqp.pd, &s->av);
}

/**
 * sodp_ud_xmit() - send the datagram of a UD send WQE
 * @qp: UD or GSI QP
 * @s: a pending shadow (SEND or SEND with immediate)
 *
 * Context: proc_lock held.
 * Return: 0 (sent, or lost on the way), or a negative errno with
 * @s->status set to the completion error (too long for the MTU, a gather
 * entry the QP may not read).
 */
int sodp_ud_xmit(struct sodp_qp *qp, struct sodp_swqe *s)
{
	u32 mtu = ib_mtu_enum_to_int(sodp_dev_active_mtu(sodp_qp_dev(qp)));
	bool imm = s->opcode == IB_WR_SEND_WITH_IMM;
	u8 opcode = imm ? SODP_OP_UD_SEND_ONLY_IMM : SODP_OP_UD_SEND_ONLY;
	const struct sodp_opinfo *info = sodp_op_info(opcode);
	struct sodp_deth *deth;
	struct sk_buff *skb;
	int ret;

	lockdep_assert_held(&qp->proc_lock);
	if (s->length > mtu) {
		sodp_qp_dbg(qp, "UD send of %u bytes over the MTU %u\n",
			    s->length, mtu);
		s->status = IB_WC_LOC_LEN_ERR;
		return -EMSGSIZE;
	}
	sodp_qp_ud_path(qp, &s->av, s->remote_qpn);
	skb = sodp_pkt_new(qp, opcode, s->length, qp->req.psn, false,
			   s->send_flags & IB_SEND_SOLICITED);
	qp->req.psn = sodp_psn_add(qp->req.psn, 1);
	if (!skb)
		return 0;	/* no route or memory: lost */

	deth = sodp_pkt_hdr(skb, info->off_deth);
	deth->qkey = cpu_to_be32(s->qkey);
	deth->sqpn = cpu_to_be32(qp->ibqp.qp_num & SODP_QPN_MASK);
	if (imm)
		((struct sodp_immdt *)sodp_pkt_hdr(skb, info->off_immdt))->imm =
			(__force __be32)s->ex;
	if (s->send_flags & IB_SEND_INLINE) {
		memcpy(skb->data + info->hdr_len, s->inline_data, s->length);
	} else if (s->length) {
		ret = sodp_sge_copy(to_spd(qp->ibqp.pd), &qp->req.win, s->sge,
				    s->num_sge, 0, skb->data + info->hdr_len,
				    s->length, false);
		if (ret) {
			kfree_skb(skb);
			s->status = ret == -ENOSPC ? IB_WC_LOC_LEN_ERR :
				    IB_WC_LOC_PROT_ERR;
			return ret;
		}
	}
	sodp_pkt_send(qp, skb);
	return 0;
}

/*
 * The GRH the verbs put in front of a UD receive, from the IP header the
 * datagram came with.  Return: RDMA_NETWORK_IPV4 or RDMA_NETWORK_IPV6.
 */
static u8 sodp_ud_grh(struct sk_buff *skb, u8 *grh)
{
	memset(grh, 0, SODP_GRH_LEN);
	if (ip_hdr(skb)->version == 4) {
		memcpy(grh + SODP_GRH_LEN - sizeof(struct iphdr), ip_hdr(skb),
		       sizeof(struct iphdr));
		return RDMA_NETWORK_IPV4;
	}
	memcpy(grh, ipv6_hdr(skb), sizeof(struct ipv6hdr));
	return RDMA_NETWORK_IPV6;
}

/**
 * sodp_ud_rx() - receive one datagram
 * @qp: UD or GSI QP in RTR or RTS
 * @skb: the packet (not consumed)
 *
 * Context: QP work item, proc_lock held.
 */
void sodp_ud_rx(struct sodp_qp *qp, struct sk_buff *skb)
{
	struct sodp_pkt *pkt = sodp_pkt(skb);
	const struct sodp_opinfo *info = pkt->info;
	struct sodp_deth *deth = sodp_pkt_hdr(skb, info->off_deth);
	struct sodp_dev *sdev = sodp_qp_dev(qp);
	struct sodp_pd *pd = to_spd(qp->ibqp.pd);
	struct ib_wc wc = {
		.opcode = IB_WC_RECV,
		.src_qp = sodp_deth_sqpn(deth),
		.wc_flags = IB_WC_GRH | IB_WC_WITH_NETWORK_HDR_TYPE,
		.byte_len = SODP_GRH_LEN + pkt->paylen,
	};
	struct rxe_recv_wqe *r;
	u8 grh[SODP_GRH_LEN];
	u32 qkey;
	int ret;

	lockdep_assert_held(&qp->proc_lock);
	if (!sodp_pkt_icrc_ok(qp, skb))
		return;
	qkey = qp->ibqp.qp_type == IB_QPT_GSI ? IB_QP1_QKEY :
						READ_ONCE(qp->attr.qkey);
	if (be32_to_cpu(deth->qkey) != qkey) {
		sodp_stat_inc(sdev->stats, SODP_STAT_RX_DROP_QKEY);
		sodp_qp_dbg(qp, "datagram from QP %u with Q_Key 0x%x dropped\n",
			    wc.src_qp, be32_to_cpu(deth->qkey));
		return;
	}
	if (sodp_resp_get_wqe(qp)) {
		sodp_stat_inc(sdev->stats, SODP_STAT_RX_DROP_NO_RWQE);
		return;
	}
	r = qp->resp.rwqe;
	wc.network_hdr_type = sodp_ud_grh(skb, grh);
	if (info->off_immdt) {
		wc.ex.imm_data =
			((struct sodp_immdt *)sodp_pkt_hdr(skb, info->off_immdt))->imm;
		wc.wc_flags |= IB_WC_WITH_IMM;
	}
	if (wc.byte_len > r->dma.length) {
		wc.status = IB_WC_LOC_LEN_ERR;
		sodp_resp_complete(qp, &wc, false);
		return;
	}
	ret = sodp_sge_copy(pd, &qp->resp.win, r->dma.sge, r->dma.num_sge, 0,
			    grh, SODP_GRH_LEN, true);
	if (!ret)
		ret = sodp_sge_copy(pd, &qp->resp.win, r->dma.sge,
				    r->dma.num_sge, SODP_GRH_LEN,
				    sodp_pkt_payload(skb), pkt->paylen, true);
	if (ret) {
		wc.status = ret == -ENOSPC ? IB_WC_LOC_LEN_ERR :
			    IB_WC_LOC_PROT_ERR;
		if (wc.status == IB_WC_LOC_PROT_ERR)
			WRITE_ONCE(qp->need_err, true); /* ERR before the CQE */
		sodp_resp_complete(qp, &wc, false);
		return;
	}
	sodp_resp_complete(qp, &wc, sodp_pkt_se(skb));
}
