// SPDX-License-Identifier: GPL-2.0
/*
 * Shared pieces of the verbs test programs; see common.h.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <getopt.h>
#include <poll.h>
#include <rdma/ib_user_ioctl_cmds.h>
#include <rdma/rdma_user_ioctl_cmds.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "common.h"

int t_passed, t_failed, t_skipped;
static const char *t_filter;

void t_set_filter(const char *filter)
{
	t_filter = filter;
}

int t_want(const char *name)
{
	const char *f = t_filter;

	if (!f)
		return 1;
	while (*f) {
		size_t n = strcspn(f, ",");
		char part[64];

		if (n && n < sizeof(part)) {
			memcpy(part, f, n);
			part[n] = 0;
			if (strstr(name, part))
				return 1;
		}
		f += n + (f[n] == ',');
	}
	return 0;
}

void t_vresult(int ok, const char *name, const char *fmt, va_list ap)
{
	if (ok) {
		printf("PASS %s\n", name);
		t_passed++;
		return;
	}
	printf("FAIL %s: ", name);
	vprintf(fmt, ap);
	printf("\n");
	fflush(stdout);
	t_failed++;
}

void t_result(int ok, const char *name, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	t_vresult(ok, name, fmt, ap);
	va_end(ap);
}

void t_pass(const char *name)
{
	t_result(1, name, "%s", "");
}

void t_skip(const char *name, const char *fmt, ...)
{
	va_list ap;

	printf("SKIP %s: ", name);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	fflush(stdout);
	t_skipped++;
}

int t_summary(void)
{
	if (t_skipped)
		printf("%d passed, %d failed, %d skipped\n", t_passed, t_failed, t_skipped);
	else
		printf("%d passed, %d failed\n", t_passed, t_failed);
	if (t_failed)
		return T_EXIT_FAIL;
	if (t_passed)
		return T_EXIT_PASS;
	return t_skipped ? T_EXIT_SKIP : T_EXIT_FAIL;
}

double t_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static const uint8_t v4_prefix[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};

int t_open_dev(struct t_dev *d, const char *want, int use_v6)
{
	struct ibv_device **list;
	struct ibv_port_attr pa;
	struct ibv_device_attr_ex ax;
	int i, n;

	memset(d, 0, sizeof(*d));
	list = ibv_get_device_list(&n);
	if (!list)
		return -1;
	for (i = 0; i < n; i++) {
		const char *name = ibv_get_device_name(list[i]);

		if (want ? !strcmp(name, want) : !strncmp(name, "sodp", 4)) {
			d->ctx = ibv_open_device(list[i]);
			d->name = strdup(name);
			break;
		}
	}
	ibv_free_device_list(list);
	if (!d->ctx)
		return -1;
	d->is_softodp = !strncmp(d->name, "sodp", 4);
	if (ibv_query_port(d->ctx, 1, &pa) || ibv_query_device(d->ctx, &d->attr))
		return -1;
	d->active_mtu = pa.active_mtu;
	d->gid_index = -1;
	for (i = 0; i < pa.gid_tbl_len && i < 64; i++) {
		struct ibv_gid_entry e;
		int v4;

		if (ibv_query_gid_ex(d->ctx, 1, i, &e, 0))
			continue;
		if (e.gid_type != IBV_GID_TYPE_ROCE_V2)
			continue;
		v4 = !memcmp(e.gid.raw, v4_prefix, sizeof(v4_prefix));
		if (use_v6 ? v4 || (e.gid.raw[0] == 0xfe && (e.gid.raw[1] & 0xc0) == 0x80) : !v4)
			continue;
		d->gid_index = i;
		d->gid = e.gid;
		break;
	}
	memset(&ax, 0, sizeof(ax));
	if (!ibv_query_device_ex(d->ctx, NULL, &ax)) {
		uint32_t rc = ax.odp_caps.per_transport_caps.rc_odp_caps;
		uint32_t need = IBV_ODP_SUPPORT_SEND | IBV_ODP_SUPPORT_RECV |
				IBV_ODP_SUPPORT_WRITE | IBV_ODP_SUPPORT_READ |
				IBV_ODP_SUPPORT_ATOMIC;

		if (ax.odp_caps.general_caps & IBV_ODP_SUPPORT)
			d->rc_odp_caps = rc;
		d->odp_ok = (d->rc_odp_caps & need) == need;
	}
	return d->gid_index < 0 ? -1 : 0;
}

void t_close_dev(struct t_dev *d)
{
	if (d->ctx)
		ibv_close_device(d->ctx);
	free((char *)d->name);
	memset(d, 0, sizeof(*d));
}

static const char *t_mode_arg = "both";

int t_mode(int odp)
{
	return !strcmp(t_mode_arg, "both") || !strcmp(t_mode_arg, odp ? "odp" : "pinned");
}

void t_each_mode(const struct t_dev devs[2], const char *what, void (*fn)(int odp))
{
	char name[64];
	int m;

	for (m = 0; m < 2; m++) {
		if (!t_mode(m))
			continue;
		if (m == 1 && !(devs[0].odp_ok && devs[1].odp_ok)) {
			snprintf(name, sizeof(name), "%s_odp", what);
			t_result(0, name, "%s/%s report no RC ODP", devs[0].name, devs[1].name);
			continue;
		}
		fn(m);
	}
}

int t_start(int argc, char **argv, const char *usage, const char *more,
	    int (*opt_cb)(int opt, const char *arg), struct t_dev devs[2])
{
	const char *d0 = NULL, *d1 = NULL;
	int opt, v6 = 0, odp_sodp_only = 0, i;
	char optstr[64];

	snprintf(optstr, sizeof(optstr), "d:D:m:f:6S%s", more ? more : "");
	while ((opt = getopt(argc, argv, optstr)) != -1) {
		switch (opt) {
		case 'd':
			d0 = optarg;
			break;
		case 'D':
			d1 = optarg;
			break;
		case 'm':
			t_mode_arg = optarg;
			break;
		case 'f':
			t_set_filter(optarg);
			break;
		case '6':
			v6 = 1;
			break;
		case 'S':
			odp_sodp_only = 1;
			break;
		default:
			if (opt == '?' || !opt_cb || opt_cb(opt, optarg)) {
				fprintf(stderr, "usage: %s\n", usage);
				return 2;
			}
		}
	}
	if (strcmp(t_mode_arg, "both") && strcmp(t_mode_arg, "pinned") &&
	    strcmp(t_mode_arg, "odp")) {
		fprintf(stderr, "usage: %s\n", usage);
		return 2;
	}
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (t_open_dev(&devs[0], d0, v6) || t_open_dev(&devs[1], d1 ? d1 : d0, v6)) {
		fprintf(stderr, "%s: cannot open %s/%s or no RoCEv2 %s GID\n", argv[0],
			d0 ? d0 : "sodp*", d1 ? d1 : "(same)", v6 ? "IPv6" : "IPv4");
		return 1;
	}
	/* -S: test softodp's ODP against a stock peer whose memory stays pinned. */
	for (i = 0; i < 2 && odp_sodp_only; i++)
		if (!devs[i].is_softodp)
			devs[i].odp_ok = 0;
	printf("# requester %s gid %d, responder %s gid %d, active MTU %d/%d, odp %d/%d\n",
	       devs[0].name, devs[0].gid_index, devs[1].name, devs[1].gid_index,
	       t_mtu_bytes(devs[0].active_mtu), t_mtu_bytes(devs[1].active_mtu), devs[0].odp_ok,
	       devs[1].odp_ok);
	return 0;
}

int t_main(int argc, char **argv, const char *usage, struct t_dev devs[2], void (*once)(void),
	   const char *what, void (*fn)(int odp))
{
	int ret = t_start(argc, argv, usage, NULL, NULL, devs);

	if (ret)
		return ret;
	if (once)
		once();
	t_each_mode(devs, what, fn);
	return t_summary();
}

struct ibv_qp *t_create_qp(struct ibv_pd *pd, enum ibv_qp_type type, struct ibv_cq *cq,
			   struct ibv_srq *srq, const struct ibv_qp_cap *want,
			   struct ibv_qp_cap *got)
{
	struct ibv_qp_init_attr ia = {
		.send_cq = cq,
		.recv_cq = cq,
		.srq = srq,
		.qp_type = type,
		.cap = *want,
	};
	struct ibv_qp *qp = ibv_create_qp(pd, &ia);

	if (qp && got)
		*got = ia.cap;
	return qp;
}

struct ibv_qp *t_create_rc_qp(struct ibv_pd *pd, struct ibv_cq *cq, struct ibv_srq *srq,
			      uint32_t wr, uint32_t sge, struct ibv_qp_cap *cap)
{
	struct ibv_qp_cap want = {
		.max_send_wr = wr,
		.max_recv_wr = wr,
		.max_send_sge = sge,
		.max_recv_sge = sge,
		.max_inline_data = 128,
	};

	return t_create_qp(pd, IBV_QPT_RC, cq, srq, &want, cap);
}

int t_side_init(struct t_side *s, struct t_dev *d, const struct t_side_opts *o)
{
	uint32_t sge = o->max_sge ? o->max_sge : 4;
	int access = o->access ? o->access : T_MR_ACCESS;

	memset(s, 0, sizeof(*s));
	s->dev = d;
	s->timeout = o->timeout ? o->timeout : 14;
	s->pd = o->pd;
	if (!s->pd) {
		s->pd = ibv_alloc_pd(d->ctx);
		s->own_pd = 1;
	}
	s->cq = s->pd ? ibv_create_cq(d->ctx, 256, NULL, NULL, 0) : NULL;
	if (!s->cq)
		return -1;
	if (o->srq) {
		struct ibv_srq_init_attr sa = {.attr = {.max_wr = 64, .max_sge = sge}};

		s->srq = ibv_create_srq(s->pd, &sa);
		if (!s->srq)
			return -1;
	}
	if (o->uc) {
		struct ibv_qp_cap want = {
			.max_send_wr = 64,
			.max_recv_wr = 64,
			.max_send_sge = sge,
			.max_recv_sge = sge,
			.max_inline_data = 128,
		};

		s->qp = t_create_qp(s->pd, IBV_QPT_UC, s->cq, s->srq, &want, &s->cap);
	} else {
		s->qp = t_create_rc_qp(s->pd, s->cq, s->srq, 64, sge, &s->cap);
	}
	if (!s->qp)
		return -1;
	s->len = o->len;
	if (!s->len)
		return 0;
	if (o->buf) {
		s->buf = o->buf;
	} else {
		s->buf = t_map(s->len);
		if (!s->buf)
			return -1;
		s->own_buf = 1;
	}
	if (o->no_mr)
		return 0;
	if (o->odp && d->odp_ok)
		access |= IBV_ACCESS_ON_DEMAND;
	else if (!o->no_touch)
		memset(s->buf, 0, s->len); /* populate before pinning */
	s->mr = ibv_reg_mr(s->pd, s->buf, s->len, access);
	return s->mr ? 0 : -1;
}

void t_side_fini(struct t_side *s)
{
	if (s->qp)
		ibv_destroy_qp(s->qp);
	if (s->srq)
		ibv_destroy_srq(s->srq);
	if (s->mr)
		ibv_dereg_mr(s->mr);
	if (s->own_buf)
		munmap(s->buf, s->len);
	if (s->cq)
		ibv_destroy_cq(s->cq);
	if (s->pd && s->own_pd)
		ibv_dealloc_pd(s->pd);
	memset(s, 0, sizeof(*s));
}

int t_qp_init(struct ibv_qp *qp)
{
	struct ibv_qp_attr a;

	memset(&a, 0, sizeof(a));
	a.qp_state = IBV_QPS_INIT;
	a.port_num = 1;
	a.qp_access_flags = T_MR_ACCESS;
	return ibv_modify_qp(qp, &a, T_INIT_MASK);
}

static void rtr_attr(struct ibv_qp_attr *a, int sgid_index, const union ibv_gid *dgid,
		     uint32_t dqpn, enum ibv_mtu mtu)
{
	memset(a, 0, sizeof(*a));
	a->qp_state = IBV_QPS_RTR;
	a->path_mtu = mtu;
	a->dest_qp_num = dqpn;
	a->rq_psn = 0x123;
	a->max_dest_rd_atomic = 16;
	a->min_rnr_timer = 1;
	a->ah_attr.is_global = 1;
	a->ah_attr.port_num = 1;
	a->ah_attr.grh.dgid = *dgid;
	a->ah_attr.grh.sgid_index = sgid_index;
	a->ah_attr.grh.hop_limit = 64;
}

void t_rtr_attr(struct ibv_qp_attr *a, const struct t_dev *self, const struct t_dev *peer,
		uint32_t dqpn, enum ibv_mtu mtu)
{
	rtr_attr(a, self->gid_index, &peer->gid, dqpn, mtu);
}

void t_rts_attr(struct ibv_qp_attr *a, int rnr_retry)
{
	memset(a, 0, sizeof(*a));
	a->qp_state = IBV_QPS_RTS;
	a->timeout = 14;
	a->retry_cnt = 7;
	a->rnr_retry = rnr_retry;
	a->sq_psn = 0x123;
	a->max_rd_atomic = 16;
}

static int connect_qp(struct ibv_qp *qp, int sgid_index, const union ibv_gid *dgid, uint32_t dqpn,
		      enum ibv_mtu mtu, int rnr_retry, uint8_t timeout)
{
	struct ibv_qp_attr a;
	int ret;

	ret = t_qp_init(qp);
	if (ret)
		return ret;
	rtr_attr(&a, sgid_index, dgid, dqpn, mtu);
	ret = ibv_modify_qp(qp, &a, qp->qp_type == IBV_QPT_UC ? T_UC_RTR_MASK : T_RTR_MASK);
	if (ret)
		return ret;
	t_rts_attr(&a, rnr_retry);
	a.timeout = timeout;
	return ibv_modify_qp(qp, &a, qp->qp_type == IBV_QPT_UC ? T_UC_RTS_MASK : T_RTS_MASK);
}

int t_connect_qp(struct ibv_qp *qp, int sgid_index, const union ibv_gid *dgid, uint32_t dqpn,
		 enum ibv_mtu mtu, int rnr_retry)
{
	return connect_qp(qp, sgid_index, dgid, dqpn, mtu, rnr_retry, 14);
}

int t_qp_connect(struct t_side *s, struct t_side *peer, enum ibv_mtu mtu, int rnr_retry)
{
	return connect_qp(s->qp, s->dev->gid_index, &peer->dev->gid, peer->qp->qp_num, mtu,
			  rnr_retry, s->timeout);
}

enum ibv_mtu t_min_mtu(const struct t_dev *x, const struct t_dev *y)
{
	return x->active_mtu < y->active_mtu ? x->active_mtu : y->active_mtu;
}

static int pair_init(struct t_pair *p, struct t_dev *da, struct t_dev *db,
		     const struct t_side_opts *oa, const struct t_side_opts *ob, enum ibv_mtu mtu,
		     int rnr_retry)
{
	int ret;

	memset(p, 0, sizeof(*p));
	if (t_side_init(&p->a, da, oa) || t_side_init(&p->b, db, ob))
		return -1;
	if (!mtu)
		mtu = t_min_mtu(da, db);
	ret = t_qp_connect(&p->a, &p->b, mtu, rnr_retry);
	if (!ret)
		ret = t_qp_connect(&p->b, &p->a, mtu, rnr_retry);
	if (ret) {
		errno = ret;
		return -1;
	}
	t_async_drain(da->ctx);
	t_async_drain(db->ctx);
	return 0;
}

int t_pair_init(struct t_pair *p, struct t_dev devs[2], const struct t_side_opts *oa,
		const struct t_side_opts *ob, enum ibv_mtu mtu, int rnr_retry)
{
	return pair_init(p, &devs[0], &devs[1], oa, ob, mtu, rnr_retry);
}

int t_pair_loop(struct t_pair *p, struct t_dev *d, const struct t_side_opts *o, enum ibv_mtu mtu,
		int rnr_retry)
{
	return pair_init(p, d, d, o, o, mtu, rnr_retry);
}

void t_pair_fini(struct t_pair *p)
{
	t_side_fini(&p->a);
	t_side_fini(&p->b);
}

const char *t_mem_name(int odp)
{
	return odp ? "odp" : "pinned";
}

int t_qp_state(struct ibv_qp *qp)
{
	struct ibv_qp_attr a;
	struct ibv_qp_init_attr ia;

	if (ibv_query_qp(qp, &a, IBV_QP_STATE, &ia))
		return -1;
	return a.qp_state;
}

static int t_busy_poll;

void t_set_busy_poll(int on)
{
	t_busy_poll = on;
}

int t_wait_wc(struct ibv_cq *cq, struct ibv_wc *wc, int ms)
{
	unsigned int spins = 0;
	double end = 0;
	int n;

	for (;;) {
		n = ibv_poll_cq(cq, 1, wc);
		if (n > 0)
			return wc->status;
		if (n < 0)
			return -EIO;
		/* A busy poller reads the clock only now and then. */
		if (t_busy_poll && ++spins % 4096)
			continue;
		if (!end)
			end = t_now_ms() + ms;
		else if (t_now_ms() > end)
			return -ETIMEDOUT;
		if (!t_busy_poll)
			usleep(100);
	}
}

int t_poll_one(struct ibv_cq *cq, struct ibv_wc *wc, int ms)
{
	return t_wait_wc(cq, wc, ms) < 0 ? -1 : 0;
}

int t_poll_n(struct ibv_cq *cq, struct ibv_wc *wc, int want, int ms)
{
	double end = t_now_ms() + ms;
	int got = 0, n;

	while (got < want) {
		n = ibv_poll_cq(cq, want - got, wc + got);
		if (n < 0)
			return n;
		got += n;
		if (got == want || t_now_ms() > end)
			break;
		usleep(1000);
	}
	return got;
}

int t_poll_none(struct ibv_cq *cq, int ms)
{
	struct ibv_wc wc;
	double end = t_now_ms() + ms;

	do {
		if (ibv_poll_cq(cq, 1, &wc))
			return -1;
		usleep(1000);
	} while (t_now_ms() < end);
	return 0;
}

int t_expect_wc(struct t_side *s, const char *name, const char *who, uint64_t id,
		enum ibv_wc_status st, int opcode)
{
	struct ibv_wc wc;

	if (t_poll_one(s->cq, &wc, T_POLL_MS)) {
		t_result(0, name, "%s: no completion (want wr_id %llu %s)", who,
			 (unsigned long long)id, ibv_wc_status_str(st));
		return -1;
	}
	if (wc.wr_id != id || wc.status != st ||
	    (opcode >= 0 && st == IBV_WC_SUCCESS && (int)wc.opcode != opcode)) {
		t_result(0, name, "%s: wr_id %llu status %s (%d) opcode %d, want %llu %s opcode %d",
			 who, (unsigned long long)wc.wr_id, ibv_wc_status_str(wc.status), wc.status,
			 wc.opcode, (unsigned long long)id, ibv_wc_status_str(st), opcode);
		return -1;
	}
	return 0;
}

int t_expect_recv(struct t_side *s, const char *name, uint64_t id, uint32_t len, struct ibv_wc *wc)
{
	if (t_poll_one(s->cq, wc, T_POLL_MS)) {
		t_result(0, name, "receiver: no completion (want wr_id %llu)",
			 (unsigned long long)id);
		return -1;
	}
	if (wc->wr_id != id || wc->status != IBV_WC_SUCCESS || wc->opcode != IBV_WC_RECV ||
	    wc->byte_len != len) {
		t_result(0, name, "receiver: wr_id %llu %s opcode %d len %u, want %llu RECV len %u",
			 (unsigned long long)wc->wr_id, ibv_wc_status_str(wc->status), wc->opcode,
			 wc->byte_len, (unsigned long long)id, len);
		return -1;
	}
	return 0;
}

int t_post_recv(struct t_side *s, uint64_t id, size_t off, uint32_t len)
{
	struct ibv_sge sge = {
		.addr = (uintptr_t)s->buf + off,
		.length = len,
		.lkey = s->mr->lkey,
	};
	struct ibv_recv_wr wr = {.wr_id = id, .sg_list = &sge, .num_sge = 1};
	struct ibv_recv_wr *bad;

	if (s->srq)
		return ibv_post_srq_recv(s->srq, &wr, &bad);
	return ibv_post_recv(s->qp, &wr, &bad);
}

static int post_wr(struct ibv_qp *qp, uint64_t id, enum ibv_wr_opcode op, void *local, uint32_t len,
		   uint32_t lkey, uint64_t raddr, uint32_t rkey, uint64_t compare_add,
		   uint64_t swap, uint32_t imm)
{
	struct ibv_sge sge = {.addr = (uintptr_t)local, .length = len, .lkey = lkey};
	struct ibv_send_wr wr = {
		.wr_id = id,
		.sg_list = &sge,
		.num_sge = len ? 1 : 0,
		.opcode = op,
		.send_flags = IBV_SEND_SIGNALED,
		.imm_data = htobe32(imm),
	};
	struct ibv_send_wr *bad;

	if (op == IBV_WR_ATOMIC_CMP_AND_SWP || op == IBV_WR_ATOMIC_FETCH_AND_ADD) {
		wr.wr.atomic.remote_addr = raddr;
		wr.wr.atomic.rkey = rkey;
		wr.wr.atomic.compare_add = compare_add;
		wr.wr.atomic.swap = swap;
	} else {
		wr.wr.rdma.remote_addr = raddr;
		wr.wr.rdma.rkey = rkey;
	}
	return ibv_post_send(qp, &wr, &bad);
}

int t_post_wr(struct ibv_qp *qp, uint64_t id, enum ibv_wr_opcode op, void *local, uint32_t len,
	      uint32_t lkey, uint64_t raddr, uint32_t rkey, uint64_t compare_add, uint64_t swap)
{
	return post_wr(qp, id, op, local, len, lkey, raddr, rkey, compare_add, swap, 0);
}

int t_post_imm(struct t_side *s, uint64_t id, enum ibv_wr_opcode op, size_t off, uint32_t len,
	       uint64_t raddr, uint32_t rkey, uint32_t imm)
{
	return post_wr(s->qp, id, op, s->buf + off, len, s->mr ? s->mr->lkey : 0, raddr, rkey, 0, 0,
		       imm);
}

int t_post_one(struct t_side *s, uint64_t id, enum ibv_wr_opcode op, size_t off, uint32_t len,
	       uint64_t raddr, uint32_t rkey)
{
	return t_post_wr(s->qp, id, op, s->buf + off, len, s->mr ? s->mr->lkey : 0, raddr, rkey, 0,
			 0);
}

int t_post_atomic(struct t_side *s, uint64_t id, enum ibv_wr_opcode op, size_t off, uint64_t raddr,
		  uint32_t rkey, uint64_t compare_add, uint64_t swap)
{
	return t_post_wr(s->qp, id, op, s->buf + off, 8, s->mr->lkey, raddr, rkey, compare_add,
			 swap);
}

int t_xfer(struct t_side *s, enum ibv_wr_opcode op, void *local, uint32_t len, uint32_t lkey,
	   uint64_t raddr, uint32_t rkey, uint64_t compare_add, uint64_t swap)
{
	struct ibv_wc wc;
	int ret = t_post_wr(s->qp, op, op, local, len, lkey, raddr, rkey, compare_add, swap);

	return ret ? -ret : t_wait_wc(s->cq, &wc, T_POLL_MS);
}

int t_advise_mr(struct ibv_pd *pd, uint32_t advice, uint32_t flags, struct ib_uverbs_sge *sge,
		unsigned int n)
{
	struct {
		struct ib_uverbs_ioctl_hdr hdr;
		struct ib_uverbs_attr attrs[4];
	} cmd;

	memset(&cmd, 0, sizeof(cmd));
	cmd.hdr.length = sizeof(cmd);
	cmd.hdr.object_id = UVERBS_OBJECT_MR;
	cmd.hdr.method_id = UVERBS_METHOD_ADVISE_MR;
	cmd.hdr.num_attrs = 4;
	cmd.hdr.driver_id = RDMA_DRIVER_RXE;
	cmd.attrs[0].attr_id = UVERBS_ATTR_ADVISE_MR_PD_HANDLE;
	cmd.attrs[0].flags = UVERBS_ATTR_F_MANDATORY;
	cmd.attrs[0].data = pd->handle;
	cmd.attrs[1].attr_id = UVERBS_ATTR_ADVISE_MR_ADVICE;
	/* CONST_IN attributes are always 64 bits wide. */
	cmd.attrs[1].len = sizeof(uint64_t);
	cmd.attrs[1].flags = UVERBS_ATTR_F_MANDATORY;
	cmd.attrs[1].data = advice;
	cmd.attrs[2].attr_id = UVERBS_ATTR_ADVISE_MR_FLAGS;
	cmd.attrs[2].len = sizeof(uint32_t);
	cmd.attrs[2].flags = UVERBS_ATTR_F_MANDATORY;
	cmd.attrs[2].data = flags;
	cmd.attrs[3].attr_id = UVERBS_ATTR_ADVISE_MR_SGE_LIST;
	cmd.attrs[3].len = n * sizeof(*sge);
	cmd.attrs[3].flags = UVERBS_ATTR_F_MANDATORY;
	cmd.attrs[3].data = (uintptr_t)sge;
	if (ioctl(pd->context->cmd_fd, RDMA_VERBS_IOCTL, &cmd))
		return errno;
	return 0;
}

int t_rereg_mr(struct ibv_mr *mr, int flags, struct ibv_pd *pd, void *addr, size_t len, int access,
	       int *raw)
{
	struct {
		struct ib_uverbs_cmd_hdr hdr;
		struct ib_uverbs_rereg_mr cmd;
	} req;
	struct ib_uverbs_rereg_mr_resp resp;
	int ret;

	*raw = 0;
	errno = 0;
	ret = ibv_rereg_mr(mr, flags, pd, addr, len, access);
	if (!ret)
		return 0;
	if (errno != EOPNOTSUPP)
		return errno ? errno : EINVAL;
	/* The provider has no rereg_mr (librxe): the uverbs command itself. */
	*raw = 1;
	memset(&req, 0, sizeof(req));
	memset(&resp, 0, sizeof(resp));
	req.hdr.command = IB_USER_VERBS_CMD_REREG_MR;
	req.hdr.in_words = sizeof(req) / 4;
	req.hdr.out_words = sizeof(resp) / 4;
	req.cmd.response = (uintptr_t)&resp;
	req.cmd.mr_handle = mr->handle;
	req.cmd.flags = flags;
	req.cmd.start = (uintptr_t)addr;
	req.cmd.length = len;
	req.cmd.hca_va = (uintptr_t)addr;
	req.cmd.pd_handle = (flags & IBV_REREG_MR_CHANGE_PD) ? pd->handle : 0;
	req.cmd.access_flags = access;
	if (write(mr->context->cmd_fd, &req, sizeof(req)) != (ssize_t)sizeof(req))
		return errno;
	mr->lkey = resp.lkey;
	mr->rkey = resp.rkey;
	if (flags & IBV_REREG_MR_CHANGE_PD)
		mr->pd = pd;
	if (flags & IBV_REREG_MR_CHANGE_TRANSLATION) {
		mr->addr = addr;
		mr->length = len;
	}
	return 0;
}

int t_advise(struct ibv_pd *pd, uint32_t advice, uint32_t flags, void *addr, size_t len,
	     uint32_t lkey)
{
	struct ib_uverbs_sge s = {.addr = (uintptr_t)addr, .length = len, .lkey = lkey};

	return t_advise_mr(pd, advice, flags, &s, 1);
}

/* The number after @key in @rec if @rec names @match and device @dev. */
static void rdma_record_value(const char *rec, const char *dev, const char *match, const char *key,
			      long long *val)
{
	const char *p;

	if (!strstr(rec, match) || !strstr(rec, dev))
		return;
	p = strstr(rec, key);
	if (p)
		*val = strtoll(p + strlen(key), NULL, 10);
}

/*
 * The number after @key in the last record of `@cmd` that contains @match
 * and device @dev; -1 if there is none.  A record is a line plus the
 * indented lines after it: iproute2 6.1 prints an object on one line,
 * newer versions (Debian 13's 6.15) wrap its attributes onto indented ones.
 */
static long long rdma_tool_value(const char *cmd, const char *dev, const char *match,
				 const char *key)
{
	char line[4096], rec[16384] = "";
	long long val = -1;
	size_t n;
	FILE *f;

	f = popen(cmd, "r");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		line[strcspn(line, "\n")] = ' ';
		if (line[0] != ' ' && line[0] != '\t') {
			rdma_record_value(rec, dev, match, key, &val);
			rec[0] = '\0';
		}
		n = strlen(rec);
		snprintf(rec + n, sizeof(rec) - n, " %s", line);
	}
	rdma_record_value(rec, dev, match, key, &val);
	pclose(f);
	return val;
}

long long t_mr_attr(const char *dev, uint32_t lkey, const char *name)
{
	char match[64], key[80];

	snprintf(match, sizeof(match), " lkey 0x%x ", (unsigned int)lkey);
	snprintf(key, sizeof(key), " drv_%s ", name);
	return rdma_tool_value("rdma resource show mr -dd 2>&1", dev, match, key);
}

long long t_mr_counter(const char *dev, uint32_t lkey, const char *name)
{
	char match[64], key[80];
	long long mrn;

	snprintf(match, sizeof(match), " lkey 0x%x ", (unsigned int)lkey);
	mrn = rdma_tool_value("rdma resource show mr 2>&1", dev, match, " mrn ");
	if (mrn < 0)
		return -1;
	snprintf(match, sizeof(match), " mrn %lld ", mrn);
	snprintf(key, sizeof(key), " %s ", name);
	return rdma_tool_value("rdma statistic show mr 2>&1", dev, match, key);
}

/* Byte @i of the t_fill() pattern, advancing the generator state @x. */
static uint8_t fill_byte(uint32_t *x, size_t i)
{
	*x = *x * 1103515245u + 12345u;
	return (uint8_t)((*x >> 16) ^ (i >> 12));
}

void t_fill(void *buf, size_t n, unsigned int seed)
{
	uint8_t *p = buf;
	uint32_t x = seed * 2654435761u + 1;
	size_t i;

	/* Position-dependent, so shifted or stale data never matches. */
	for (i = 0; i < n; i++)
		p[i] = fill_byte(&x, i);
}

int t_is_fill(const void *buf, size_t n, unsigned int seed)
{
	const uint8_t *p = buf;
	uint32_t x = seed * 2654435761u + 1;
	size_t i;

	for (i = 0; i < n; i++)
		if (p[i] != fill_byte(&x, i))
			return 0;
	return 1;
}

void *t_map(size_t len)
{
	void *p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	return p == MAP_FAILED ? NULL : p;
}

void *t_map_pages(size_t n)
{
	return t_map(n * sysconf(_SC_PAGESIZE));
}

long t_diff(const uint8_t *a, const uint8_t *b, size_t n)
{
	size_t i;

	if (!memcmp(a, b, n))
		return -1;
	for (i = 0; i < n; i++)
		if (a[i] != b[i])
			return (long)i;
	return -1;
}

int t_mtu_bytes(enum ibv_mtu mtu)
{
	return 128 << mtu;
}

long long t_hw_counter_cached(const char *dev, const char *name)
{
	char path[256];
	long long v = -1;
	FILE *f;

	snprintf(path, sizeof(path), "/sys/class/infiniband/%s/ports/1/hw_counters/%s", dev, name);
	f = fopen(path, "r");
	if (!f)
		return -1;
	if (fscanf(f, "%lld", &v) != 1)
		v = -1;
	fclose(f);
	return v;
}

void t_hw_counters_settle(void)
{
	/* ib_core caches hw counters for 10 ms (RDMA_HW_STATS_DEFAULT_LIFESPAN). */
	usleep(20000);
}

long long t_hw_counter(const char *dev, const char *name)
{
	t_hw_counters_settle();
	return t_hw_counter_cached(dev, name);
}

int t_async_event(struct ibv_context *ctx, int ms, struct ibv_qp **qp)
{
	struct pollfd pfd = {.fd = ctx->async_fd, .events = POLLIN};
	struct ibv_async_event ev;
	int type;

	if (poll(&pfd, 1, ms) != 1 || ibv_get_async_event(ctx, &ev))
		return -1;
	type = ev.event_type;
	if (qp)
		*qp = (type == IBV_EVENT_QP_FATAL || type == IBV_EVENT_QP_REQ_ERR ||
		       type == IBV_EVENT_QP_ACCESS_ERR || type == IBV_EVENT_COMM_EST ||
		       type == IBV_EVENT_SQ_DRAINED || type == IBV_EVENT_PATH_MIG ||
		       type == IBV_EVENT_PATH_MIG_ERR || type == IBV_EVENT_QP_LAST_WQE_REACHED)
			      ? ev.element.qp
			      : NULL;
	ibv_ack_async_event(&ev);
	return type;
}

void t_async_drain(struct ibv_context *ctx)
{
	while (t_async_event(ctx, 0, NULL) >= 0)
		;
}
