/* SPDX-License-Identifier: GPL-2.0 */
/*
 * softodp: RoCEv2 receive path (recv.c).
 *
 * Packets arrive in softirq context (sodp_rx()), are validated there and
 * queued on their QP (sodp_qp_rx_enqueue(), engine.c); the QP's work item
 * checks their ICRC (sodp_pkt_icrc_ok()) before an engine acts on them.
 */
#ifndef SOFTODP_RECV_H
#define SOFTODP_RECV_H

#include "softodp.h"

struct sk_buff;

void sodp_rx(struct sk_buff *skb, struct sodp_drive *drive);
bool sodp_pkt_icrc_ok(struct sodp_qp *qp, struct sk_buff *skb);
struct sodp_qp *sodp_qp_get(struct sodp_dev *sdev, u32 qpn);
void sodp_qp_put(struct sodp_qp *qp);

#endif /* SOFTODP_RECV_H */
