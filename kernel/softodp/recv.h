/* SPDX-License-Identifier: GPL-2.0 */
/*
 * softodp: RoCEv2 receive dispatch and the protocol engines' entry points.
 *
 * Packets arrive in softirq context (sodp_rx()), are validated there and
 * queued on their QP's rxq; everything else runs in the QP work item with
 * proc_lock held: the responder (requests), the completer (responses),
 * then the requester (new packets from the send queue).
 */
#ifndef SOFTODP_RECV_H
#define SOFTODP_RECV_H

#include "softodp.h"
#include "wire.h"

struct sk_buff;

/* Receive-side metadata of a queued packet, in skb->cb. */
struct sodp_pkt {
	const struct sodp_opinfo *info;
	u32 psn;
	u32 paylen;		/* payload bytes (no headers, pad or ICRC) */
	bool local;		/* arrived on the loopback device */
};

static inline struct sodp_pkt *sodp_pkt(struct sk_buff *skb)
{
	return (struct sodp_pkt *)skb->cb;
}

static inline void *sodp_pkt_hdr(struct sk_buff *skb, u8 off)
{
	return skb->data + off;
}

static inline void *sodp_pkt_payload(struct sk_buff *skb)
{
	return skb->data + sodp_pkt(skb)->info->hdr_len;
}

/* recv.c */
void sodp_rx(struct sk_buff *skb);
bool sodp_pkt_icrc_ok(struct sodp_qp *qp, struct sk_buff *skb);
struct sodp_qp *sodp_qp_get(struct sodp_dev *sdev, u32 qpn);
void sodp_qp_put(struct sodp_qp *qp);

/* xmit helpers (req.c) */
struct sk_buff *sodp_pkt_new(struct sodp_qp *qp, u8 opcode, u32 paylen,
			     u32 psn, bool ackreq, bool se);
int sodp_pkt_send(struct sodp_qp *qp, struct sk_buff *skb);
u32 sodp_qp_mtu(struct sodp_qp *qp);

/* Data movement between a packet buffer and memory regions (req.c). */
int sodp_sge_copy(struct sodp_qp *qp, const struct rxe_sge *sge, u32 num_sge,
		  u32 offset, void *buf, u32 len, bool to_mem);
int sodp_mr_copy(struct sodp_mr *mr, u64 iova, void *buf, u32 len,
		 bool to_mem);

/* engines */
void sodp_req_run(struct sodp_qp *qp);
void sodp_req_init(struct sodp_qp *qp);
void sodp_req_drain(struct sodp_qp *qp);
void sodp_req_resume(struct sodp_qp *qp);
void sodp_comp_rx(struct sodp_qp *qp, struct sk_buff *skb);
void sodp_comp_timers(struct sodp_qp *qp);
void sodp_comp_advance(struct sodp_qp *qp);
void sodp_resp_rx(struct sodp_qp *qp, struct sk_buff *skb);
void sodp_resp_flush_ack(struct sodp_qp *qp);
void sodp_resp_init(struct sodp_qp *qp);

static inline struct sodp_swqe *sodp_swqe(struct sodp_qp *qp, u32 index)
{
	return qp->req.shadow +
	       (size_t)(index & qp->sq.q.index_mask) * qp->req.shadow_size;
}

#endif /* SOFTODP_RECV_H */
