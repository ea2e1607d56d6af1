// SPDX-License-Identifier: GPL-2.0
/*
 * UD queue pairs on a softodp device (or any RoCE device), through the
 * stock provider: datagrams from a sender QP on -d DEV to a receiver QP
 * on -D DEV2 (default: the same device), pinned and ODP memory.
 *
 *   send_recv   messages of 0..MTU bytes, the 40-byte GRH checked byte by
 *               byte (IPv4: 20 zero bytes and the IPv4 header; IPv6: the
 *               IPv6 header), payload, length, source QP and flags; on
 *               softodp the SL holds the network header type as on mlx5
 *               (2 IPv4, 1 IPv6)
 *   imm         SEND with immediate: the immediate data and its flag
 *   qkey        a datagram with the wrong Q_Key is dropped and counted
 *               (rx_drop_bad_qkey); a WR Q_Key with the high bit set
 *               sends the QP's own Q_Key
 *   no_recv     a datagram without a posted receive is dropped and counted
 *               (rx_drop_no_recv_wqe); the next one is received
 *   short_recv  a receive buffer smaller than GRH + payload completes with
 *               IBV_WC_LOC_LEN_ERR and the QP keeps receiving
 *   oversize    a send longer than the MTU completes with
 *               IBV_WC_LOC_LEN_ERR and the sender QP goes to ERR
 *   srq         a UD QP receiving from an SRQ
 *   implicit    receives into an implicit ODP MR, into memory mapped after
 *               the registration and never touched (ODP mode only)
 *
 * In ODP mode the buffers are registered with IBV_ACCESS_ON_DEMAND before
 * they are touched; the device must report UD SEND and RECV in
 * ud_odp_caps.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/ip.h>
#include <netinet/ip6.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "common.h"

#define UD_QKEY 0x11111111u
#define GRH_LEN 40
#define NBUF	(1u << 20)
#define SLOT	8192u

static struct t_dev devs[2];

struct ud_side {
	struct t_dev *dev;
	struct ibv_pd *pd;
	struct ibv_cq *cq;
	struct ibv_srq *srq;
	struct ibv_qp *qp;
	uint8_t *buf;
	struct ibv_mr *mr;
	struct ibv_ah *ah; /* to the peer */
};

static int ud_odp_ok(const struct t_dev *d)
{
	struct ibv_device_attr_ex ax;
	uint32_t need = IBV_ODP_SUPPORT_SEND | IBV_ODP_SUPPORT_RECV;

	if (ibv_query_device_ex(d->ctx, NULL, &ax))
		return 0;
	return (ax.odp_caps.general_caps & IBV_ODP_SUPPORT) &&
	       (ax.odp_caps.per_transport_caps.ud_odp_caps & need) == need;
}

static void ud_fini(struct ud_side *s)
{
	if (s->ah)
		ibv_destroy_ah(s->ah);
	if (s->qp)
		ibv_destroy_qp(s->qp);
	if (s->srq)
		ibv_destroy_srq(s->srq);
	if (s->mr)
		ibv_dereg_mr(s->mr);
	if (s->cq)
		ibv_destroy_cq(s->cq);
	if (s->pd)
		ibv_dealloc_pd(s->pd);
	if (s->buf)
		munmap(s->buf, NBUF);
	memset(s, 0, sizeof(*s));
}

static int ud_to_rts(struct ibv_qp *qp, uint32_t qkey)
{
	struct ibv_qp_attr a = {
		.qp_state = IBV_QPS_INIT,
		.pkey_index = 0,
		.port_num = 1,
		.qkey = qkey,
	};

	if (ibv_modify_qp(qp, &a, IBV_QP_STATE | IBV_QP_PKEY_INDEX | IBV_QP_PORT | IBV_QP_QKEY))
		return -1;
	a.qp_state = IBV_QPS_RTR;
	if (ibv_modify_qp(qp, &a, IBV_QP_STATE))
		return -1;
	a.qp_state = IBV_QPS_RTS;
	a.sq_psn = 0x1234;
	return ibv_modify_qp(qp, &a, IBV_QP_STATE | IBV_QP_SQ_PSN) ? -1 : 0;
}

/* A UD endpoint on @d; @odp: its buffer registered ODP before any touch. */
static int ud_init(struct ud_side *s, struct t_dev *d, int odp, int srq)
{
	struct ibv_qp_init_attr ia = {
		.qp_type = IBV_QPT_UD,
		.cap = {.max_send_wr = 64,
			.max_recv_wr = 64,
			.max_send_sge = 2,
			.max_recv_sge = 2,
			.max_inline_data = 64},
	};
	int access = IBV_ACCESS_LOCAL_WRITE | (odp ? IBV_ACCESS_ON_DEMAND : 0);

	memset(s, 0, sizeof(*s));
	s->dev = d;
	s->buf = mmap(NULL, NBUF, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (s->buf == MAP_FAILED) {
		s->buf = NULL;
		return -1;
	}
	if (!odp)
		memset(s->buf, 0, NBUF);
	s->pd = ibv_alloc_pd(d->ctx);
	s->cq = s->pd ? ibv_create_cq(d->ctx, 256, NULL, NULL, 0) : NULL;
	s->mr = s->cq ? ibv_reg_mr(s->pd, s->buf, NBUF, access) : NULL;
	if (!s->mr)
		return -1;
	if (srq) {
		struct ibv_srq_init_attr sa = {.attr = {.max_wr = 64, .max_sge = 2}};

		s->srq = ibv_create_srq(s->pd, &sa);
		if (!s->srq)
			return -1;
	}
	ia.send_cq = s->cq;
	ia.recv_cq = s->cq;
	ia.srq = s->srq;
	s->qp = ibv_create_qp(s->pd, &ia);
	if (!s->qp || ud_to_rts(s->qp, UD_QKEY))
		return -1;
	return 0;
}

static int ud_ah_to(struct ud_side *s, const struct ud_side *peer)
{
	struct ibv_ah_attr aa = {
		.is_global = 1,
		.port_num = 1,
		.grh = {.dgid = peer->dev->gid, .sgid_index = s->dev->gid_index, .hop_limit = 64},
	};

	s->ah = ibv_create_ah(s->pd, &aa);
	return s->ah ? 0 : -1;
}

struct ud_pair {
	struct ud_side snd, rcv;
};

static int pair_init(struct ud_pair *p, int odp, int srq)
{
	if (ud_init(&p->snd, &devs[0], odp, 0) || ud_init(&p->rcv, &devs[1], odp, srq) ||
	    ud_ah_to(&p->snd, &p->rcv)) {
		perror("UD set-up");
		return -1;
	}
	return 0;
}

static void pair_fini(struct ud_pair *p)
{
	ud_fini(&p->snd);
	ud_fini(&p->rcv);
}

static int post_recv(struct ud_side *s, uint64_t id, size_t off, uint32_t len)
{
	struct ibv_sge sge = {.addr = (uintptr_t)s->buf + off, .length = len, .lkey = s->mr->lkey};
	struct ibv_recv_wr wr = {.wr_id = id, .sg_list = &sge, .num_sge = 1}, *bad;

	if (s->srq)
		return ibv_post_srq_recv(s->srq, &wr, &bad);
	return ibv_post_recv(s->qp, &wr, &bad);
}

static int post_send(struct ud_side *s, uint64_t id, size_t off, uint32_t len, uint32_t dqpn,
		     uint32_t qkey, int imm)
{
	struct ibv_sge sge = {.addr = (uintptr_t)s->buf + off, .length = len, .lkey = s->mr->lkey};
	struct ibv_send_wr wr = {
		.wr_id = id,
		.sg_list = len ? &sge : NULL,
		.num_sge = len ? 1 : 0,
		.opcode = imm ? IBV_WR_SEND_WITH_IMM : IBV_WR_SEND,
		.send_flags = IBV_SEND_SIGNALED,
		.imm_data = htonl(0xfeed0000u + (uint32_t)id),
		.wr.ud = {.ah = s->ah, .remote_qpn = dqpn, .remote_qkey = qkey},
	};
	struct ibv_send_wr *bad;

	return ibv_post_send(s->qp, &wr, &bad);
}

static int is_v4_gid(const union ibv_gid *gid)
{
	return !memcmp(gid->raw, "\0\0\0\0\0\0\0\0\0\0\xff\xff", 12);
}

/* The GRH a receive of a datagram from @snd to @rcv must start with. */
static int grh_ok(const uint8_t *g, const struct t_dev *snd, const struct t_dev *rcv, char *why,
		  size_t n)
{
	static const uint8_t zero[20];

	if (is_v4_gid(&snd->gid)) {
		const struct ip *ip = (const void *)(g + 20);

		if (memcmp(g, zero, 20) || ip->ip_v != 4 || ip->ip_hl != 5 || ip->ip_p != 17 ||
		    memcmp(&ip->ip_src, snd->gid.raw + 12, 4) ||
		    memcmp(&ip->ip_dst, rcv->gid.raw + 12, 4)) {
			snprintf(why, n, "IPv4 GRH wrong (v%u hl %u proto %u)", ip->ip_v, ip->ip_hl,
				 ip->ip_p);
			return 0;
		}
		return 1;
	}
	const struct ip6_hdr *ip6 = (const void *)g;

	if ((g[0] >> 4) != 6 || ip6->ip6_nxt != 17 || memcmp(&ip6->ip6_src, snd->gid.raw, 16) ||
	    memcmp(&ip6->ip6_dst, rcv->gid.raw, 16)) {
		snprintf(why, n, "IPv6 GRH wrong (version %u next %u)", g[0] >> 4, ip6->ip6_nxt);
		return 0;
	}
	return 1;
}

/*
 * Send @len bytes from slot 0 of the sender to a receive at slot 1 of the
 * receiver and check everything the receive completion and buffer say.
 */
static int one_datagram(struct ud_pair *p, const char *name, uint32_t len, int imm, uint64_t id)
{
	struct ibv_wc wc;
	char why[128];
	long d;

	t_fill(p->snd.buf, len, (unsigned int)id);
	memset(p->rcv.buf + SLOT, 0xee, GRH_LEN + len + 64);
	if (post_recv(&p->rcv, id, SLOT, GRH_LEN + len + 64) ||
	    post_send(&p->snd, id, 0, len, p->rcv.qp->qp_num, UD_QKEY, imm)) {
		t_result(0, name, "post: %s", strerror(errno));
		return -1;
	}
	if (t_poll_one(p->snd.cq, &wc, T_POLL_MS) || wc.status || wc.wr_id != id ||
	    wc.opcode != IBV_WC_SEND) {
		t_result(0, name, "send completion: status %s id %llu",
			 ibv_wc_status_str(wc.status), (unsigned long long)wc.wr_id);
		return -1;
	}
	if (t_poll_one(p->rcv.cq, &wc, T_POLL_MS)) {
		t_result(0, name, "no receive completion for %u bytes", len);
		return -1;
	}
	if (wc.status || wc.wr_id != id || wc.opcode != IBV_WC_RECV ||
	    wc.byte_len != GRH_LEN + len || wc.src_qp != p->snd.qp->qp_num ||
	    !(wc.wc_flags & IBV_WC_GRH) || !!(wc.wc_flags & IBV_WC_WITH_IMM) != !!imm ||
	    (imm && wc.imm_data != htonl(0xfeed0000u + (uint32_t)id))) {
		t_result(0, name, "receive: status %s byte_len %u src_qp %u flags 0x%x imm 0x%x",
			 ibv_wc_status_str(wc.status), wc.byte_len, wc.src_qp, wc.wc_flags,
			 ntohl(wc.imm_data));
		return -1;
	}
	if (!grh_ok(p->rcv.buf + SLOT, &devs[0], &devs[1], why, sizeof(why))) {
		t_result(0, name, "%u bytes: %s", len, why);
		return -1;
	}
	/* softodp reports the network header type in the SL as mlx5 does. */
	if (devs[1].is_softodp && wc.sl != (is_v4_gid(&devs[0].gid) ? 2 : 1)) {
		t_result(0, name, "receive: sl %u, not the network header type", wc.sl);
		return -1;
	}
	d = t_diff(p->rcv.buf + SLOT + GRH_LEN, p->snd.buf, len);
	if (d >= 0 || p->rcv.buf[SLOT + GRH_LEN + len] != 0xee) {
		t_result(0, name, "%u bytes: data differs at %ld or overrun", len, d);
		return -1;
	}
	return 0;
}

static void test_send_recv(int odp)
{
	uint32_t mtu = (uint32_t)t_mtu_bytes(t_min_mtu(&devs[0], &devs[1]));
	uint32_t lens[] = {0, 1, 3, 40, 255, 1000, mtu - 1, mtu};
	char name[64];
	struct ud_pair p;
	unsigned int i;

	snprintf(name, sizeof(name), "send_recv_%s", t_mem_name(odp));
	if (!t_want(name))
		return;
	if (pair_init(&p, odp, 0)) {
		t_result(0, name, "set-up failed");
		pair_fini(&p);
		return;
	}
	for (i = 0; i < sizeof(lens) / sizeof(lens[0]); i++)
		if (one_datagram(&p, name, lens[i], 0, 100 + i))
			goto out;
	t_pass(name);
out:
	pair_fini(&p);
}

static void test_imm(int odp)
{
	char name[64];
	struct ud_pair p;

	snprintf(name, sizeof(name), "imm_%s", t_mem_name(odp));
	if (!t_want(name))
		return;
	if (!pair_init(&p, odp, 0) && !one_datagram(&p, name, 64, 1, 7) &&
	    !one_datagram(&p, name, 0, 1, 8))
		t_pass(name);
	pair_fini(&p);
}

static void test_srq(int odp)
{
	char name[64];
	struct ud_pair p;
	int i;

	snprintf(name, sizeof(name), "srq_%s", t_mem_name(odp));
	if (!t_want(name))
		return;
	if (pair_init(&p, odp, 1)) {
		t_result(0, name, "set-up failed");
		pair_fini(&p);
		return;
	}
	for (i = 0; i < 4; i++)
		if (one_datagram(&p, name, 512 + i, i & 1, 40 + i))
			goto out;
	t_pass(name);
out:
	pair_fini(&p);
}

/* Expect the receiver to get nothing within 300 ms. */
static int nothing_arrives(struct ud_pair *p, const char *name, const char *what)
{
	if (t_poll_none(p->rcv.cq, 300)) {
		t_result(0, name, "%s was received", what);
		return -1;
	}
	return 0;
}

static int send_ok(struct ud_side *s, const char *name, uint64_t id)
{
	struct ibv_wc wc;

	if (t_poll_one(s->cq, &wc, T_POLL_MS) || wc.status || wc.wr_id != id) {
		t_result(0, name, "send %llu did not complete successfully",
			 (unsigned long long)id);
		return -1;
	}
	return 0;
}

static void test_qkey(int odp)
{
	const char *rdev = devs[1].name;
	struct ibv_qp_attr a = {.qkey = UD_QKEY};
	long long before, after;
	char name[64];
	struct ud_pair p;

	snprintf(name, sizeof(name), "qkey_%s", t_mem_name(odp));
	if (!t_want(name))
		return;
	if (pair_init(&p, odp, 0))
		goto fail_setup;
	t_hw_counters_settle();
	before = t_hw_counter(rdev, "rx_drop_bad_qkey");
	if (post_recv(&p.rcv, 1, SLOT, 4096) ||
	    post_send(&p.snd, 1, 0, 100, p.rcv.qp->qp_num, UD_QKEY + 1, 0))
		goto fail_post;
	if (send_ok(&p.snd, name, 1) || nothing_arrives(&p, name, "a datagram with a wrong Q_Key"))
		goto out;
	t_hw_counters_settle();
	after = t_hw_counter(rdev, "rx_drop_bad_qkey");
	if (devs[1].is_softodp && after != before + 1) {
		t_result(0, name, "rx_drop_bad_qkey went from %lld to %lld", before, after);
		goto out;
	}
	/* The WR's Q_Key 0x80000000: the sender QP's own Q_Key is sent. */
	if (ibv_modify_qp(p.snd.qp, &a, IBV_QP_QKEY))
		goto fail_post;
	if (post_send(&p.snd, 2, 0, 100, p.rcv.qp->qp_num, 0x80000000u, 0) ||
	    send_ok(&p.snd, name, 2))
		goto fail_post;
	{
		struct ibv_wc wc;

		if (t_poll_one(p.rcv.cq, &wc, T_POLL_MS) || wc.status || wc.wr_id != 1) {
			t_result(0, name, "the privileged-Q_Key datagram was not received");
			goto out;
		}
	}
	t_pass(name);
	goto out;
fail_post:
	t_result(0, name, "post/modify: %s", strerror(errno));
	goto out;
fail_setup:
	t_result(0, name, "set-up failed");
out:
	pair_fini(&p);
}

static void test_no_recv(int odp)
{
	long long before, after;
	char name[64];
	struct ud_pair p;

	snprintf(name, sizeof(name), "no_recv_%s", t_mem_name(odp));
	if (!t_want(name))
		return;
	if (pair_init(&p, odp, 0)) {
		t_result(0, name, "set-up failed");
		goto out;
	}
	t_hw_counters_settle();
	before = t_hw_counter(devs[1].name, "rx_drop_no_recv_wqe");
	if (post_send(&p.snd, 1, 0, 64, p.rcv.qp->qp_num, UD_QKEY, 0) || send_ok(&p.snd, name, 1) ||
	    nothing_arrives(&p, name, "a datagram without a receive"))
		goto out;
	t_hw_counters_settle();
	after = t_hw_counter(devs[1].name, "rx_drop_no_recv_wqe");
	if (devs[1].is_softodp && after != before + 1) {
		t_result(0, name, "rx_drop_no_recv_wqe went from %lld to %lld", before, after);
		goto out;
	}
	if (!one_datagram(&p, name, 64, 0, 2))
		t_pass(name);
out:
	pair_fini(&p);
}

static void test_short_recv(int odp)
{
	struct ibv_wc wc;
	char name[64];
	struct ud_pair p;

	snprintf(name, sizeof(name), "short_recv_%s", t_mem_name(odp));
	if (!t_want(name))
		return;
	if (pair_init(&p, odp, 0)) {
		t_result(0, name, "set-up failed");
		goto out;
	}
	if (post_recv(&p.rcv, 1, SLOT, GRH_LEN + 10) ||
	    post_send(&p.snd, 1, 0, 100, p.rcv.qp->qp_num, UD_QKEY, 0) || send_ok(&p.snd, name, 1))
		goto out;
	if (t_poll_one(p.rcv.cq, &wc, T_POLL_MS) || wc.wr_id != 1 ||
	    wc.status != IBV_WC_LOC_LEN_ERR) {
		t_result(0, name, "expected IBV_WC_LOC_LEN_ERR, got %s",
			 ibv_wc_status_str(wc.status));
		goto out;
	}
	if (t_qp_state(p.rcv.qp) != IBV_QPS_RTS) {
		t_result(0, name, "receiver QP left RTS: %d", t_qp_state(p.rcv.qp));
		goto out;
	}
	if (!one_datagram(&p, name, 100, 0, 2))
		t_pass(name);
out:
	pair_fini(&p);
}

static void test_oversize(int odp)
{
	uint32_t mtu = (uint32_t)t_mtu_bytes(devs[0].active_mtu);
	struct ibv_wc wc;
	char name[64];
	struct ud_pair p;

	snprintf(name, sizeof(name), "oversize_%s", t_mem_name(odp));
	if (!t_want(name))
		return;
	if (pair_init(&p, odp, 0)) {
		t_result(0, name, "set-up failed");
		goto out;
	}
	if (post_recv(&p.rcv, 1, SLOT, SLOT) ||
	    post_send(&p.snd, 9, 0, mtu + 1, p.rcv.qp->qp_num, UD_QKEY, 0)) {
		t_result(0, name, "post: %s", strerror(errno));
		goto out;
	}
	if (t_poll_one(p.snd.cq, &wc, T_POLL_MS) || wc.wr_id != 9 ||
	    wc.status != IBV_WC_LOC_LEN_ERR) {
		t_result(0, name, "send of MTU+1 bytes: expected IBV_WC_LOC_LEN_ERR, got %s",
			 ibv_wc_status_str(wc.status));
		goto out;
	}
	if (t_qp_state(p.snd.qp) != IBV_QPS_ERR) {
		t_result(0, name, "sender QP not in ERR: %d", t_qp_state(p.snd.qp));
		goto out;
	}
	if (nothing_arrives(&p, name, "the oversized datagram"))
		goto out;
	t_pass(name);
out:
	pair_fini(&p);
}

/* Receives into fresh memory of an implicit ODP MR (mapped after it). */
static void test_implicit(void)
{
	const char *name = "implicit_odp";
	struct ibv_mr *imr = NULL;
	struct ud_pair p;
	struct ibv_sge sge;
	struct ibv_recv_wr wr = {.wr_id = 5, .sg_list = &sge, .num_sge = 1}, *bad;
	struct ibv_wc wc;
	uint8_t *fresh = MAP_FAILED;
	char why[128];
	int i;

	if (!t_want(name) || !t_mode(1))
		return;
	if (pair_init(&p, 1, 0)) {
		t_result(0, name, "set-up failed");
		goto out;
	}
	imr = ibv_reg_mr(p.rcv.pd, NULL, SIZE_MAX, IBV_ACCESS_ON_DEMAND | IBV_ACCESS_LOCAL_WRITE);
	if (!imr) {
		t_result(0, name, "implicit MR: %s", strerror(errno));
		goto out;
	}
	fresh = mmap(NULL, 16 * SLOT, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (fresh == MAP_FAILED)
		goto out;
	for (i = 0; i < 8; i++) {
		uint32_t len = 100u * (uint32_t)(i + 1);

		/* Each receive starts on a page nobody has touched. */
		sge = (struct ibv_sge){.addr = (uintptr_t)fresh + (size_t)i * 2 * SLOT,
				       .length = SLOT,
				       .lkey = imr->lkey};
		t_fill(p.snd.buf, len, (unsigned int)i);
		if (ibv_post_recv(p.rcv.qp, &wr, &bad) ||
		    post_send(&p.snd, 5, 0, len, p.rcv.qp->qp_num, UD_QKEY, 0) ||
		    send_ok(&p.snd, name, 5))
			goto out;
		if (t_poll_one(p.rcv.cq, &wc, T_POLL_MS) || wc.status ||
		    wc.byte_len != GRH_LEN + len) {
			t_result(0, name, "receive %d: status %s byte_len %u", i,
				 ibv_wc_status_str(wc.status), wc.byte_len);
			goto out;
		}
		if (!grh_ok((uint8_t *)(uintptr_t)sge.addr, &devs[0], &devs[1], why, sizeof(why)) ||
		    t_diff((uint8_t *)(uintptr_t)sge.addr + GRH_LEN, p.snd.buf, len) >= 0) {
			t_result(0, name, "receive %d: GRH or data wrong", i);
			goto out;
		}
	}
	t_pass(name);
out:
	if (fresh != MAP_FAILED)
		munmap(fresh, 16 * SLOT);
	if (imr)
		ibv_dereg_mr(imr);
	pair_fini(&p);
}

static void run_mode(int odp)
{
	test_send_recv(odp);
	test_imm(odp);
	test_qkey(odp);
	test_no_recv(odp);
	test_short_recv(odp);
	test_oversize(odp);
	test_srq(odp);
}

int main(int argc, char **argv)
{
	int ret = t_start(argc, argv,
			  "ud [-d DEV] [-D DEV2] [-m pinned|odp|both] [-f FILTER] [-6]\n"
			  "  UD datagrams from DEV to DEV2 (default: DEV), data and GRH checked",
			  NULL, NULL, devs);
	int mode;

	if (ret)
		return ret;
	for (mode = 0; mode < 2; mode++) {
		if (!t_mode(mode))
			continue;
		if (mode && !(ud_odp_ok(&devs[0]) && ud_odp_ok(&devs[1]))) {
			t_result(0, "ud_odp_caps", "a device reports no UD SEND+RECV ODP");
			continue;
		}
		run_mode(mode);
	}
	test_implicit();
	return t_summary();
}
