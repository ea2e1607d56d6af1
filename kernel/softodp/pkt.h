/* SPDX-License-Identifier: GPL-2.0 */
/*
 * softodp: RoCEv2 packets as the protocol engines see them.
 *
 * Received packets carry their parsed metadata in skb->cb (struct
 * sodp_pkt, filled in by the RX path, recv.c); packets to send are built
 * and sent by xmit.c along the QP's path.  Both sides use the wire layout
 * of wire.h and the opcode table of opcode.c.
 */
#ifndef SOFTODP_PKT_H
#define SOFTODP_PKT_H

#include <linux/skbuff.h>

#include "softodp.h"
#include "wire.h"

/**
 * struct sodp_pkt - receive-side metadata of a queued packet, in skb->cb
 * @info: the opcode's table entry (header layout and flags)
 * @psn: BTH PSN
 * @paylen: payload bytes (no headers, pad or ICRC)
 * @local: arrived on the loopback device (ICRC not checked)
 */
struct sodp_pkt {
	const struct sodp_opinfo *info;
	u32 psn;
	u32 paylen;
	bool local;
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

static inline struct sodp_bth *sodp_pkt_bth(struct sk_buff *skb)
{
	return (struct sodp_bth *)skb->data;
}

/* The BTH's solicited event bit. */
static inline bool sodp_pkt_se(struct sk_buff *skb)
{
	return sodp_pkt_bth(skb)->flags & SODP_BTH_SE;
}

/* xmit.c: building and sending packets on a QP's path (proc_lock held) */
void sodp_qp_set_path(struct sodp_qp *qp);
void sodp_qp_ud_path(struct sodp_qp *qp, const struct sodp_av *av, u32 dqpn);
u32 sodp_qp_mtu(struct sodp_qp *qp);
struct sk_buff *sodp_pkt_new(struct sodp_qp *qp, u8 opcode, u32 paylen,
			     u32 psn, bool ackreq, bool se);
int sodp_pkt_send(struct sodp_qp *qp, struct sk_buff *skb);
void sodp_pkt_send_ack(struct sodp_qp *qp, u8 opcode, u32 psn, u8 syndrome,
		       u32 msn, u64 orig);

#endif /* SOFTODP_PKT_H */
