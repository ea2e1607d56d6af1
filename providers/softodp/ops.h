/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* softodp provider: the context operations of cq.c and qp.c. */
#ifndef SOFTODP_PROVIDER_OPS_H
#define SOFTODP_PROVIDER_OPS_H

#include "softodp.h"

/* cq.c */
struct ibv_cq *sodp_create_cq(struct ibv_context *ctx, int cqe, struct ibv_comp_channel *channel,
			      int comp_vector);
struct ibv_cq_ex *sodp_create_cq_ex(struct ibv_context *ctx, struct ibv_cq_init_attr_ex *attr);
int sodp_resize_cq(struct ibv_cq *ibcq, int cqe);
int sodp_destroy_cq(struct ibv_cq *ibcq);
int sodp_poll_cq(struct ibv_cq *ibcq, int ne, struct ibv_wc *wc);

/* qp.c */
struct ibv_qp *sodp_create_qp(struct ibv_pd *pd, struct ibv_qp_init_attr *attr);
struct ibv_qp *sodp_create_qp_ex(struct ibv_context *ctx, struct ibv_qp_init_attr_ex *attr);
int sodp_query_qp(struct ibv_qp *qp, struct ibv_qp_attr *attr, int mask,
		  struct ibv_qp_init_attr *init);
int sodp_modify_qp(struct ibv_qp *qp, struct ibv_qp_attr *attr, int mask);
int sodp_destroy_qp(struct ibv_qp *qp);
int sodp_post_send(struct ibv_qp *qp, struct ibv_send_wr *wr, struct ibv_send_wr **bad);
int sodp_post_recv(struct ibv_qp *qp, struct ibv_recv_wr *wr, struct ibv_recv_wr **bad);
int sodp_bind_mw(struct ibv_qp *qp, struct ibv_mw *mw, struct ibv_mw_bind *bind);
struct ibv_srq *sodp_create_srq(struct ibv_pd *pd, struct ibv_srq_init_attr *attr);
struct ibv_srq *sodp_create_srq_ex(struct ibv_context *ctx, struct ibv_srq_init_attr_ex *attr);
int sodp_modify_srq(struct ibv_srq *srq, struct ibv_srq_attr *attr, int mask);
int sodp_query_srq(struct ibv_srq *srq, struct ibv_srq_attr *attr);
int sodp_destroy_srq(struct ibv_srq *srq);
int sodp_post_srq_recv(struct ibv_srq *srq, struct ibv_recv_wr *wr, struct ibv_recv_wr **bad);

/* Map a ring the kernel described in @mi; 0 or an errno. */
int sodp_ring_map(struct sodp_ring *r, int cmd_fd, const struct mminfo *mi);
void sodp_ring_unmap(struct sodp_ring *r);

#endif /* SOFTODP_PROVIDER_OPS_H */
