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

static int kv_to_rts(struct ib_qp *qp, union ib_gid *gid, int gid_index)
{
	struct ib_qp_attr a = {};
	int ret;

	a.qp_state = IB_QPS_INIT;
	a.port_num = 1;
	a.qp_access_flags = IB_ACCESS_REMOTE_WRITE;
	ret = ib_modify_qp(qp, &a,
			   IB_QP_STATE | IB_QP_PKEY_INDEX | IB_QP_PORT | IB_QP_ACCESS_FLAGS);
	if (ret)
		return ret;

	memset(&a, 0, sizeof(a));
	a.qp_state = IB_QPS_RTR;
	a.path_mtu = IB_MTU_1024;
	a.dest_qp_num = qp->qp_num;
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

static struct ib_qp *kv_create_qp(struct ib_pd *pd, struct ib_cq *cq, struct ib_srq *srq)
{
	struct ib_qp_init_attr init = {
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
	ret = kv_to_rts(qp, gid, gid_index);
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
	/* The flushed entries move with the ring. */
	ret = ib_resize_cq(cq, 200);
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
		ret = kv_to_rts(qp, gid, gid_index);
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
