// SPDX-License-Identifier: GPL-2.0
/*
 * softodp_kverbs - in-kernel consumer test of a softodp device: the verbs a
 * kernel ULP uses (PD with the DMA MR, CQs in direct and workqueue poll
 * modes, CQ resize, SRQ, fast-reg MR, RC QP walk), and the flush to error
 * of kernel-posted work, including ib_drain_qp().
 *
 * Load with dev=NAME; results go to the kernel log as
 * "softodp_kverbs: PASS|FAIL name" and "softodp_kverbs: N passed, N failed".
 * Loading fails with -EIO if a check failed, -ENODEV without the device.
 */
#include <linux/delay.h>
#include <linux/module.h>
#include <linux/scatterlist.h>
#include <linux/slab.h>
#include <rdma/ib_cache.h>
#include <rdma/ib_verbs.h>

#include "softodp_compat.h"

static char *dev = "sodp0";
module_param(dev, charp, 0444);
MODULE_PARM_DESC(dev, "softodp device to test");

static struct ib_device *kv_dev;
static int kv_passed, kv_failed;

#define KV_CHECK(cond, name, fmt, ...)                                                             \
	do {                                                                                       \
		if (cond) {                                                                        \
			kv_passed++;                                                               \
			pr_info("softodp_kverbs: PASS %s\n", name);                                \
		} else {                                                                           \
			kv_failed++;                                                               \
			pr_info("softodp_kverbs: FAIL %s: " fmt "\n", name, ##__VA_ARGS__);        \
		}                                                                                  \
	} while (0)

static int kv_add(struct ib_device *ibdev)
{
	if (!kv_dev && !strcmp(dev_name(&ibdev->dev), dev))
		kv_dev = ibdev;
	return 0;
}

static void kv_remove(struct ib_device *ibdev, void *data)
{
}

static struct ib_client kv_client = {
	.name = "softodp_kverbs",
	.add = kv_add,
	.remove = kv_remove,
};

/* An IPv4 RoCEv2 GID of port 1, for a loopback path. */
static int kv_find_gid(union ib_gid *gid)
{
	const struct ib_gid_attr *attr;
	int i, found = -1;

	for (i = 0; i < 16 && found < 0; i++) {
		attr = rdma_get_gid_attr(kv_dev, 1, i);
		if (IS_ERR(attr))
			continue;
		if (attr->gid_type == IB_GID_TYPE_ROCE_UDP_ENCAP &&
		    ipv6_addr_v4mapped((struct in6_addr *)attr->gid.raw)) {
			*gid = attr->gid;
			found = i;
		}
		rdma_put_gid_attr(attr);
	}
	return found;
}

static int kv_to_rts(struct ib_qp *qp, union ib_gid *gid, int gid_index, u32 dest_qpn)
{
	struct ib_qp_attr a = {};
	int ret;

	a.qp_state = IB_QPS_INIT;
	a.port_num = 1;
	a.qp_access_flags = IB_ACCESS_REMOTE_WRITE | IB_ACCESS_REMOTE_READ;
	ret = ib_modify_qp(qp, &a,
			   IB_QP_STATE | IB_QP_PKEY_INDEX | IB_QP_PORT | IB_QP_ACCESS_FLAGS);
	if (ret)
		return ret;

	memset(&a, 0, sizeof(a));
	a.qp_state = IB_QPS_RTR;
	a.path_mtu = IB_MTU_1024;
	a.dest_qp_num = dest_qpn;
	a.max_dest_rd_atomic = 1;
	a.min_rnr_timer = 12;
	a.ah_attr.type = rdma_ah_find_type(kv_dev, 1);
	rdma_ah_set_port_num(&a.ah_attr, 1);
	rdma_ah_set_grh(&a.ah_attr, gid, 0, gid_index, 64, 0);
	ret = ib_modify_qp(qp, &a,
			   IB_QP_STATE | IB_QP_AV | IB_QP_PATH_MTU | IB_QP_DEST_QPN | IB_QP_RQ_PSN |
				   IB_QP_MAX_DEST_RD_ATOMIC | IB_QP_MIN_RNR_TIMER);
	if (ret)
		return ret;

	memset(&a, 0, sizeof(a));
	a.qp_state = IB_QPS_RTS;
	a.timeout = 14;
	a.retry_cnt = 7;
	a.rnr_retry = 7;
	a.max_rd_atomic = 1;
	return ib_modify_qp(qp, &a,
			    IB_QP_STATE | IB_QP_SQ_PSN | IB_QP_TIMEOUT | IB_QP_RETRY_CNT |
				    IB_QP_RNR_RETRY | IB_QP_MAX_QP_RD_ATOMIC);
}

/* A destination QP number no QP has (the device allocates low ones). */
#define KV_NO_QPN 0xfffff0

static DECLARE_COMPLETION(kv_sq_drained);
static atomic_t kv_fatal_events = ATOMIC_INIT(0);

static void kv_qp_event(struct ib_event *ev, void *ctx)
{
	if (ev->event == IB_EVENT_SQ_DRAINED)
		complete(&kv_sq_drained);
	else
		atomic_inc(&kv_fatal_events);
}

static struct ib_qp *kv_create_qp(struct ib_pd *pd, struct ib_cq *cq, struct ib_srq *srq)
{
	struct ib_qp_init_attr init = {
		.event_handler = kv_qp_event,
		.send_cq = cq,
		.recv_cq = cq,
		.srq = srq,
		.qp_type = IB_QPT_RC,
		.sq_sig_type = IB_SIGNAL_REQ_WR,
		.cap = {.max_send_wr = 16,
			.max_recv_wr = 16,
			.max_send_sge = 2,
			.max_recv_sge = 2,
			.max_inline_data = 64},
	};

	return ib_create_qp(pd, &init);
}

/* Poll a direct CQ for up to a second. */
static int kv_poll(struct ib_cq *cq, struct ib_wc *wc, int want)
{
	int got = 0, tries, n;

	for (tries = 0; tries < 100 && got < want; tries++) {
		n = ib_poll_cq(cq, want - got, wc + got);
		if (n < 0)
			return n;
		got += n;
		if (got < want)
			usleep_range(10000, 20000);
	}
	return got;
}

static void kv_test_flush(struct ib_pd *pd, union ib_gid *gid, int gid_index, u64 dma)
{
	struct ib_sge sge = {.addr = dma, .length = 64, .lkey = pd->local_dma_lkey};
	struct ib_recv_wr rwr = {.sg_list = &sge, .num_sge = 1};
	struct ib_send_wr swr = {.sg_list = &sge,
				 .num_sge = 1,
				 .opcode = IB_WR_SEND,
				 .send_flags = IB_SEND_SIGNALED};
	struct ib_qp_attr a = {.qp_state = IB_QPS_ERR};
	struct ib_wc wc[4];
	struct ib_cq *cq;
	struct ib_qp *qp;
	int ret, n, i;
	bool ok;

	cq = ib_alloc_cq(kv_dev, NULL, 16, 0, IB_POLL_DIRECT);
	KV_CHECK(!IS_ERR(cq), "alloc_cq_direct", "%ld", PTR_ERR(cq));
	if (IS_ERR(cq))
		return;
	qp = kv_create_qp(pd, cq, NULL);
	KV_CHECK(!IS_ERR(qp), "create_qp", "%ld", PTR_ERR(qp));
	if (IS_ERR(qp))
		goto out_cq;
	ret = ib_post_send(qp, &swr, NULL);
	KV_CHECK(ret == -EINVAL, "post_send_in_reset_rejected", "%d", ret);
	/*
	 * Towards a QP number nobody has: the SENDs stay unanswered and the
	 * receives unused until the flush, however fast the QP runs.
	 */
	ret = kv_to_rts(qp, gid, gid_index, KV_NO_QPN);
	KV_CHECK(!ret, "qp_to_rts", "%d", ret);

	for (i = 1; i <= 2; i++) {
		rwr.wr_id = i;
		ret = ib_post_recv(qp, &rwr, NULL);
		KV_CHECK(!ret, "post_recv", "%d", ret);
	}
	swr.wr_id = 3;
	ret = ib_post_send(qp, &swr, NULL);
	KV_CHECK(!ret, "post_send", "%d", ret);
	swr.wr_id = 4;
	swr.send_flags |= IB_SEND_INLINE;
	ret = ib_post_send(qp, &swr, NULL);
	KV_CHECK(!ret, "post_send_inline", "%d", ret);

	ret = ib_modify_qp(qp, &a, IB_QP_STATE);
	KV_CHECK(!ret, "qp_to_err", "%d", ret);
	/* The flushed entries move with the ring (7.x: no kernel CQ resize). */
	ret = ib_resize_cq(cq, 200);
	if (!SODP_KERNEL_CQ_RESIZE && ret == -EOPNOTSUPP)
		pr_info("softodp_kverbs: SKIP resize_cq: no ib_resize_cq() in this kernel\n");
	else
		KV_CHECK(!ret && cq->cqe >= 200, "resize_cq", "%d cqe %d", ret, cq->cqe);
	n = kv_poll(cq, wc, 4);
	ok = n == 4;
	for (i = 0; ok && i < 4; i++)
		ok = wc[i].status == IB_WC_WR_FLUSH_ERR && wc[i].qp == qp &&
		     (wc[i].wr_id >= 3 ? wc[i].opcode == IB_WC_SEND : wc[i].opcode == IB_WC_RECV);
	KV_CHECK(ok, "flush_on_err", "got %d", n);

	swr.wr_id = 5;
	swr.send_flags &= ~IB_SEND_INLINE;
	ret = ib_post_send(qp, &swr, NULL);
	n = kv_poll(cq, wc, 1);
	KV_CHECK(!ret && n == 1 && wc[0].wr_id == 5 && wc[0].status == IB_WC_WR_FLUSH_ERR,
		 "post_send_in_err_flushed", "ret %d n %d", ret, n);
	rwr.wr_id = 6;
	ret = ib_post_recv(qp, &rwr, NULL);
	n = kv_poll(cq, wc, 1);
	KV_CHECK(!ret && n == 1 && wc[0].wr_id == 6 && wc[0].status == IB_WC_WR_FLUSH_ERR,
		 "post_recv_in_err_flushed", "ret %d n %d", ret, n);
	ret = ib_destroy_qp(qp);
	KV_CHECK(!ret, "destroy_qp", "%d", ret);
out_cq:
	ib_free_cq(cq);
}

/* ib_drain_qp() with a workqueue-polled CQ, as ULPs tear down QPs. */
static void kv_test_drain(struct ib_pd *pd, union ib_gid *gid, int gid_index)
{
	struct ib_cq *cq;
	struct ib_qp *qp;
	int ret;

	cq = ib_alloc_cq(kv_dev, NULL, 16, 0, IB_POLL_WORKQUEUE);
	KV_CHECK(!IS_ERR(cq), "alloc_cq_workqueue", "%ld", PTR_ERR(cq));
	if (IS_ERR(cq))
		return;
	qp = kv_create_qp(pd, cq, NULL);
	if (!IS_ERR(qp)) {
		ret = kv_to_rts(qp, gid, gid_index, qp->qp_num);
		KV_CHECK(!ret, "drain_qp_to_rts", "%d", ret);
		ib_drain_qp(qp);
		KV_CHECK(true, "drain_qp", "");
		ib_destroy_qp(qp);
	}
	ib_free_cq(cq);
}

static void kv_test_objects(struct ib_pd *pd)
{
	struct ib_srq_init_attr si = {.attr = {.max_wr = 8, .max_sge = 1}};
	struct ib_recv_wr rwr = {.wr_id = 1};
	struct scatterlist sg;
	struct ib_srq *srq;
	struct ib_mr *mr;
	void *page;
	int ret;

	srq = ib_create_srq(pd, &si);
	KV_CHECK(!IS_ERR(srq), "create_srq", "%ld", PTR_ERR(srq));
	if (!IS_ERR(srq)) {
		ret = ib_post_srq_recv(srq, &rwr, NULL);
		KV_CHECK(!ret, "post_srq_recv", "%d", ret);
		ib_destroy_srq(srq);
	}

	mr = ib_alloc_mr(pd, IB_MR_TYPE_MEM_REG, 4);
	KV_CHECK(!IS_ERR(mr), "alloc_mr", "%ld", PTR_ERR(mr));
	page = (void *)__get_free_page(GFP_KERNEL);
	if (!IS_ERR(mr) && page) {
		sg_init_one(&sg, page, PAGE_SIZE);
		sg_dma_address(&sg) = (uintptr_t)page;
		sg_dma_len(&sg) = PAGE_SIZE;
		ret = ib_map_mr_sg(mr, &sg, 1, NULL, PAGE_SIZE);
		KV_CHECK(ret == 1 && mr->length == PAGE_SIZE, "map_mr_sg", "%d", ret);
	}
	if (!IS_ERR(mr))
		KV_CHECK(!ib_dereg_mr(mr), "dereg_mr", "");
	free_page((unsigned long)page);
}

/*
 * Fast registration (FRWR), as NFS/RDMA, iSER and NVMe-oF use it: a pair of
 * connected QPs; B owns a fast-reg MR over two pages and registers it with
 * IB_WR_REG_MR, A writes and reads through its rkey, and B or A invalidate
 * it with IB_WR_LOCAL_INV or SEND with invalidate.
 */
struct kv_pair {
	struct ib_cq *cq;
	struct ib_qp *a, *b;
};

static int kv_wait(struct kv_pair *p, struct ib_qp *qp, u64 wr_id, struct ib_wc *out);
static void kv_pair_free(struct kv_pair *p);

/* A new connected pair in @p (zeroed, or an older pair: freed first). */
static int kv_pair_new(struct kv_pair *p, struct ib_pd *pd, union ib_gid *gid, int gid_index)
{
	int ret;

	kv_pair_free(p);
	p->cq = ib_alloc_cq(kv_dev, NULL, 64, 0, IB_POLL_DIRECT);
	if (IS_ERR(p->cq))
		return PTR_ERR(p->cq);
	p->a = kv_create_qp(pd, p->cq, NULL);
	if (IS_ERR(p->a))
		return PTR_ERR(p->a);
	p->b = kv_create_qp(pd, p->cq, NULL);
	if (IS_ERR(p->b))
		return PTR_ERR(p->b);
	ret = kv_to_rts(p->a, gid, gid_index, p->b->qp_num);
	if (!ret)
		ret = kv_to_rts(p->b, gid, gid_index, p->a->qp_num);
	return ret;
}

static void kv_pair_free(struct kv_pair *p)
{
	if (!IS_ERR_OR_NULL(p->a))
		ib_destroy_qp(p->a);
	if (!IS_ERR_OR_NULL(p->b))
		ib_destroy_qp(p->b);
	if (!IS_ERR_OR_NULL(p->cq))
		ib_free_cq(p->cq);
	memset(p, 0, sizeof(*p));
	kv_wait(NULL, NULL, 0, NULL);	/* forget stashed completions */
}

static int kv_post_recv1(struct ib_qp *qp, u64 wr_id, u64 addr, u32 len, u32 lkey)
{
	struct ib_sge sge = {.addr = addr, .length = len, .lkey = lkey};
	struct ib_recv_wr wr = {.wr_id = wr_id, .sg_list = &sge, .num_sge = 1};

	return ib_post_recv(qp, &wr, NULL);
}

/* One completion of @qp (others of the pair's CQ are kept for later). */
static int kv_wait(struct kv_pair *p, struct ib_qp *qp, u64 wr_id, struct ib_wc *out)
{
	static struct ib_wc stash[32];
	static int nstash;
	struct ib_wc wc;
	int i, tries;

	if (!p) {
		nstash = 0;
		return 0;
	}
	for (tries = 0; tries < 300; tries++) {
		for (i = 0; i < nstash; i++) {
			if (stash[i].qp == qp && stash[i].wr_id == wr_id) {
				*out = stash[i];
				stash[i] = stash[--nstash];
				return 0;
			}
		}
		while (ib_poll_cq(p->cq, 1, &wc) == 1) {
			if (nstash < ARRAY_SIZE(stash))
				stash[nstash++] = wc;
		}
		for (i = 0; i < nstash; i++)
			if (stash[i].qp == qp && stash[i].wr_id == wr_id)
				break;
		if (i == nstash)
			usleep_range(5000, 10000);
	}
	return -ETIMEDOUT;
}

static int kv_post_rdma(struct ib_qp *qp, enum ib_wr_opcode op, u64 wr_id, u64 local, u32 len,
			u32 lkey, u64 remote, u32 rkey)
{
	struct ib_sge sge = {.addr = local, .length = len, .lkey = lkey};
	struct ib_rdma_wr wr = {
		.wr = {.wr_id = wr_id,
		       .sg_list = &sge,
		       .num_sge = 1,
		       .opcode = op,
		       .send_flags = IB_SEND_SIGNALED},
		.remote_addr = remote,
		.rkey = rkey,
	};

	return ib_post_send(qp, &wr.wr, NULL);
}

static int kv_post_reg(struct ib_qp *qp, u64 wr_id, struct ib_mr *mr, int access)
{
	struct ib_reg_wr wr = {
		.wr = {.wr_id = wr_id, .opcode = IB_WR_REG_MR, .send_flags = IB_SEND_SIGNALED},
		.mr = mr,
		.key = mr->rkey,
		.access = access,
	};

	return ib_post_send(qp, &wr.wr, NULL);
}

static int kv_post_inv(struct ib_qp *qp, enum ib_wr_opcode op, u64 wr_id, u32 rkey, u64 local,
		       u32 lkey)
{
	struct ib_sge sge = {.addr = local, .length = 16, .lkey = lkey};
	struct ib_send_wr wr = {
		.wr_id = wr_id,
		.opcode = op,
		.send_flags = IB_SEND_SIGNALED,
		.ex.invalidate_rkey = rkey,
		.sg_list = op == IB_WR_SEND_WITH_INV ? &sge : NULL,
		.num_sge = op == IB_WR_SEND_WITH_INV ? 1 : 0,
	};

	return ib_post_send(qp, &wr, NULL);
}

#define KV_FR_ACCESS (IB_ACCESS_LOCAL_WRITE | IB_ACCESS_REMOTE_WRITE | IB_ACCESS_REMOTE_READ)
#define KV_FR_LEN 6000	/* spans the two pages of the region */

static bool kv_wc_is(struct kv_pair *p, struct ib_qp *qp, u64 wr_id, enum ib_wc_status st,
		     enum ib_wc_opcode op, struct ib_wc *wc)
{
	if (kv_wait(p, qp, wr_id, wc)) {
		wc->status = -1;
		return false;
	}
	return wc->status == st && (st != IB_WC_SUCCESS || wc->opcode == op);
}

/* Posting WR @wr_id on @qp returned @ret; it completes with @st (@op on success). */
static void kv_check_wc(struct kv_pair *p, struct ib_qp *qp, int ret, u64 wr_id,
			enum ib_wc_status st, enum ib_wc_opcode op, const char *name)
{
	struct ib_wc wc = {};

	KV_CHECK(!ret && kv_wc_is(p, qp, wr_id, st, op, &wc), name, "ret %d status %d opcode %d",
		 ret, wc.status, wc.opcode);
}

/* An RDMA @op of 64 bytes at @iova through @rkey is refused by the responder. */
static void kv_check_refused(struct kv_pair *p, enum ib_wr_opcode op, u64 wr_id, void *local,
			     u32 lkey, u64 iova, u32 rkey, const char *name)
{
	int ret = kv_post_rdma(p->a, op, wr_id, (uintptr_t)local, 64, lkey, iova, rkey);

	kv_check_wc(p, p->a, ret, wr_id, IB_WC_REM_ACCESS_ERR, 0, name);
}

/* An RDMA READ of the region @mr through its rkey into @dst returns @src. */
static void kv_check_read(struct kv_pair *p, u64 wr_id, u8 *dst, const u8 *src, u32 lkey,
			  struct ib_mr *mr, const char *name)
{
	struct ib_wc wc = {};
	bool ok;

	kv_post_rdma(p->a, IB_WR_RDMA_READ, wr_id, (uintptr_t)dst, KV_FR_LEN, lkey, mr->iova,
		     mr->rkey);
	ok = kv_wc_is(p, p->a, wr_id, IB_WC_SUCCESS, IB_WC_RDMA_READ, &wc) &&
	     !memcmp(dst, src, KV_FR_LEN);
	KV_CHECK(ok, name, "status %d", wc.status);
}

static void kv_test_frwr(struct ib_pd *pd, union ib_gid *gid, int gid_index)
{
	u32 lkey = pd->local_dma_lkey;
	struct scatterlist sg[2];
	struct page *pg[2] = {};
	struct kv_pair p = {};
	struct ib_mr *mr;
	struct ib_wc wc;
	u8 *src, *dst;
	u32 old_rkey;
	int ret, n, i;
	bool ok;

	src = kmalloc(KV_FR_LEN, GFP_KERNEL);
	dst = kmalloc(KV_FR_LEN, GFP_KERNEL);
	pg[0] = alloc_page(GFP_KERNEL | __GFP_ZERO);
	pg[1] = alloc_page(GFP_KERNEL | __GFP_ZERO);
	mr = ib_alloc_mr(pd, IB_MR_TYPE_MEM_REG, 2);
	KV_CHECK(!IS_ERR(mr), "frwr_alloc_mr", "%ld", PTR_ERR(mr));
	if (IS_ERR(mr) || !src || !dst || !pg[0] || !pg[1])
		goto out;
	for (i = 0; i < KV_FR_LEN; i++)
		src[i] = (u8)(i * 7 + 3);
	sg_init_table(sg, 2);
	sg_set_page(&sg[0], pg[0], PAGE_SIZE, 0);
	sg_set_page(&sg[1], pg[1], PAGE_SIZE, 0);
	n = ib_dma_map_sg(kv_dev, sg, 2, DMA_BIDIRECTIONAL);
	ret = ib_map_mr_sg(mr, sg, n, NULL, PAGE_SIZE);
	KV_CHECK(ret == 2 && mr->length == 2 * PAGE_SIZE, "frwr_map_mr_sg", "%d len %llu", ret,
		 mr->length);

	/* A fast-reg region is unusable until registered. */
	ret = kv_pair_new(&p, pd, gid, gid_index);
	KV_CHECK(!ret, "frwr_pair", "%d", ret);
	if (ret)
		goto out;
	kv_check_refused(&p, IB_WR_RDMA_WRITE, 1, src, lkey, mr->iova, mr->rkey,
			 "frwr_unregistered_rejected");

	ret = kv_pair_new(&p, pd, gid, gid_index);
	if (ret)
		goto out;
	old_rkey = mr->rkey;
	ib_update_fast_reg_key(mr, ib_inc_rkey(mr->rkey));
	ret = kv_post_reg(p.b, 2, mr, KV_FR_ACCESS);
	kv_check_wc(&p, p.b, ret, 2, IB_WC_SUCCESS, IB_WC_REG_MR, "frwr_reg_mr");
	kv_post_rdma(p.a, IB_WR_RDMA_WRITE, 3, (uintptr_t)src, KV_FR_LEN, lkey, mr->iova,
		     mr->rkey);
	ok = kv_wc_is(&p, p.a, 3, IB_WC_SUCCESS, IB_WC_RDMA_WRITE, &wc);
	ok = ok && !memcmp(page_address(pg[0]), src, PAGE_SIZE) &&
	     !memcmp(page_address(pg[1]), src + PAGE_SIZE, KV_FR_LEN - PAGE_SIZE);
	KV_CHECK(ok, "frwr_write_through_rkey", "status %d", wc.status);
	kv_check_read(&p, 4, dst, src, lkey, mr, "frwr_read_through_rkey");
	/* Registering a valid region again is an error of the local QP. */
	ret = kv_post_reg(p.b, 5, mr, KV_FR_ACCESS);
	kv_check_wc(&p, p.b, ret, 5, IB_WC_LOC_QP_OP_ERR, 0, "frwr_reg_valid_rejected");

	/* LOCAL_INV, then the rkey no longer works; re-register, new key. */
	ret = kv_pair_new(&p, pd, gid, gid_index);
	if (ret)
		goto out;
	ret = kv_post_inv(p.b, IB_WR_LOCAL_INV, 6, mr->rkey, 0, 0);
	kv_check_wc(&p, p.b, ret, 6, IB_WC_SUCCESS, IB_WC_LOCAL_INV, "frwr_local_inv");
	old_rkey = mr->rkey;
	ib_update_fast_reg_key(mr, ib_inc_rkey(mr->rkey));
	ret = kv_post_reg(p.b, 7, mr, IB_ACCESS_LOCAL_WRITE | IB_ACCESS_REMOTE_READ);
	kv_check_wc(&p, p.b, ret, 7, IB_WC_SUCCESS, IB_WC_REG_MR, "frwr_reregister_new_key");
	memset(dst, 0, KV_FR_LEN);
	kv_check_read(&p, 8, dst, src, lkey, mr, "frwr_read_new_key");
	/* The old key is dead, and the new rights exclude remote writes. */
	kv_check_refused(&p, IB_WR_RDMA_READ, 9, dst, lkey, mr->iova, old_rkey,
			 "frwr_old_key_rejected");

	ret = kv_pair_new(&p, pd, gid, gid_index);
	if (ret)
		goto out;
	kv_check_refused(&p, IB_WR_RDMA_WRITE, 10, src, lkey, mr->iova, mr->rkey,
			 "frwr_rights_enforced");

	/* SEND with invalidate: the receiver's region loses its key. */
	ret = kv_pair_new(&p, pd, gid, gid_index);
	if (ret)
		goto out;
	ret = kv_post_recv1(p.b, 11, (uintptr_t)dst, 64, lkey);
	ret = ret ?: kv_post_inv(p.a, IB_WR_SEND_WITH_INV, 12, mr->rkey, (uintptr_t)src, lkey);
	ok = !ret && kv_wc_is(&p, p.a, 12, IB_WC_SUCCESS, IB_WC_SEND, &wc);
	KV_CHECK(ok, "send_with_inv_sent", "ret %d status %d", ret, wc.status);
	ok = kv_wc_is(&p, p.b, 11, IB_WC_SUCCESS, IB_WC_RECV, &wc) &&
	     (wc.wc_flags & IB_WC_WITH_INVALIDATE) && wc.ex.invalidate_rkey == mr->rkey &&
	     wc.byte_len == 16 && !memcmp(dst, src, 16);
	KV_CHECK(ok, "send_with_inv_received", "status %d flags 0x%x rkey 0x%x", wc.status,
		 wc.wc_flags, wc.ex.invalidate_rkey);
	kv_check_refused(&p, IB_WR_RDMA_READ, 13, dst, lkey, mr->iova, mr->rkey,
			 "send_with_inv_invalidated");

	/* Invalidating what cannot be invalidated. */
	ret = kv_pair_new(&p, pd, gid, gid_index);
	if (ret)
		goto out;
	ret = kv_post_inv(p.b, IB_WR_LOCAL_INV, 14, mr->rkey, 0, 0);
	kv_check_wc(&p, p.b, ret, 14, IB_WC_LOC_QP_OP_ERR, 0, "local_inv_of_free_region_rejected");
	ret = kv_pair_new(&p, pd, gid, gid_index);
	if (ret)
		goto out;
	ret = kv_post_recv1(p.b, 15, (uintptr_t)dst, 64, lkey);
	/* The PD's DMA lkey names a region that cannot be invalidated. */
	ret = ret ?: kv_post_inv(p.a, IB_WR_SEND_WITH_INV, 16, lkey, (uintptr_t)src, lkey);
	ok = !ret && kv_wc_is(&p, p.a, 16, IB_WC_REM_INV_REQ_ERR, 0, &wc);
	KV_CHECK(ok, "send_with_bad_inv_requester", "ret %d status %d", ret, wc.status);
	ok = kv_wc_is(&p, p.b, 15, IB_WC_REM_INV_REQ_ERR, 0, &wc);
	KV_CHECK(ok, "send_with_bad_inv_responder", "status %d", wc.status);
out:
	kv_pair_free(&p);
	if (!IS_ERR_OR_NULL(mr))
		KV_CHECK(!ib_dereg_mr(mr), "frwr_dereg_mr", "");
	if (pg[0])
		__free_page(pg[0]);
	if (pg[1])
		__free_page(pg[1]);
	kfree(src);
	kfree(dst);
}

/*
 * SQD: the QP finishes what it started, reports IB_EVENT_SQ_DRAINED, starts
 * nothing posted while in SQD, and resumes in RTS.
 */
static void kv_test_sqd(union ib_gid *gid, int gid_index)
{
	struct ib_qp_attr a = {.qp_state = IB_QPS_SQD, .en_sqd_async_notify = 1};
	struct ib_qp_init_attr init;
	struct kv_pair p = {};
	struct ib_wc wc;
	struct ib_pd *pd;
	u8 *src, *dst;
	u32 lkey, rkey;
	int ret, i;
	bool ok;

	/* WRITEs into kernel memory need a remotely writable DMA region. */
	pd = ib_alloc_pd(kv_dev, IB_PD_UNSAFE_GLOBAL_RKEY);
	KV_CHECK(!IS_ERR(pd), "sqd_alloc_pd_global_rkey", "%ld", PTR_ERR(pd));
	if (IS_ERR(pd))
		return;
	lkey = pd->local_dma_lkey;
	rkey = pd->unsafe_global_rkey;
	src = kmalloc(65536, GFP_KERNEL);
	dst = kzalloc(65536, GFP_KERNEL);
	ret = kv_pair_new(&p, pd, gid, gid_index);
	KV_CHECK(!ret, "sqd_pair", "%d", ret);
	if (ret || !src || !dst)
		goto out;
	for (i = 0; i < 65536; i++)
		src[i] = (u8)(i * 13 + 1);
	reinit_completion(&kv_sq_drained);
	/* A 64-packet WRITE, then SQD while it may be in flight. */
	kv_post_rdma(p.a, IB_WR_RDMA_WRITE, 1, (uintptr_t)src, 32768, lkey, (uintptr_t)dst,
		     rkey);
	ret = ib_modify_qp(p.a, &a, IB_QP_STATE | IB_QP_EN_SQD_ASYNC_NOTIFY);
	KV_CHECK(!ret, "sqd_modify", "%d", ret);
	ok = wait_for_completion_timeout(&kv_sq_drained, 10 * HZ);
	KV_CHECK(ok, "sqd_drained_event", "no IB_EVENT_SQ_DRAINED in 10 s");
	ret = ib_query_qp(p.a, &a, IB_QP_STATE, &init);
	KV_CHECK(!ret && a.qp_state == IB_QPS_SQD && !a.sq_draining, "sqd_query",
		 "ret %d state %d draining %d", ret, a.qp_state, a.sq_draining);
	/* Posted in SQD: queued, not started. */
	kv_post_rdma(p.a, IB_WR_RDMA_WRITE, 2, (uintptr_t)src + 32768, 32768, lkey,
		     (uintptr_t)dst + 32768, rkey);
	msleep(300);
	ok = !memchr_inv(dst + 32768, 0, 32768);
	KV_CHECK(ok, "sqd_holds_new_work", "second WRITE ran in SQD");
	a.qp_state = IB_QPS_RTS;
	ret = ib_modify_qp(p.a, &a, IB_QP_STATE);
	KV_CHECK(!ret, "sqd_to_rts", "%d", ret);
	ok = kv_wc_is(&p, p.a, 1, IB_WC_SUCCESS, IB_WC_RDMA_WRITE, &wc);
	ok = ok && kv_wc_is(&p, p.a, 2, IB_WC_SUCCESS, IB_WC_RDMA_WRITE, &wc);
	ok = ok && !memcmp(dst, src, 65536);
	KV_CHECK(ok, "sqd_resume_completes", "status %d", wc.status);
out:
	kv_pair_free(&p);
	kfree(src);
	kfree(dst);
	ib_dealloc_pd(pd);
}

static int __init kv_init(void)
{
	union ib_gid gid;
	struct ib_pd *pd;
	int ret, gid_index;
	void *buf;
	u64 dma;

	ret = ib_register_client(&kv_client);
	if (ret)
		return ret;
	if (!kv_dev) {
		ib_unregister_client(&kv_client);
		return -ENODEV;
	}

	pd = ib_alloc_pd(kv_dev, 0);
	KV_CHECK(!IS_ERR(pd), "alloc_pd", "%ld", PTR_ERR(pd));
	gid_index = kv_find_gid(&gid);
	KV_CHECK(gid_index >= 0, "roce_v2_gid", "none");
	buf = kzalloc(256, GFP_KERNEL);
	if (!IS_ERR(pd) && gid_index >= 0 && buf) {
		dma = ib_dma_map_single(kv_dev, buf, 256, DMA_BIDIRECTIONAL);
		kv_test_flush(pd, &gid, gid_index, dma);
		kv_test_drain(pd, &gid, gid_index);
		kv_test_objects(pd);
		kv_test_frwr(pd, &gid, gid_index);
		kv_test_sqd(&gid, gid_index);
		ib_dma_unmap_single(kv_dev, dma, 256, DMA_BIDIRECTIONAL);
	}
	kfree(buf);
	if (!IS_ERR(pd))
		ib_dealloc_pd(pd);
	ib_unregister_client(&kv_client);

	pr_info("softodp_kverbs: %d passed, %d failed\n", kv_passed, kv_failed);
	return kv_failed ? -EIO : 0;
}

static void __exit kv_exit(void)
{
}

module_init(kv_init);
module_exit(kv_exit);

MODULE_DESCRIPTION("softodp in-kernel verbs consumer test");
MODULE_LICENSE("GPL");
