// SPDX-License-Identifier: GPL-2.0
/*
 * Shared pieces of the verbs test programs; see common.h.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <getopt.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "common.h"
#include "odp_util.h"

int t_passed, t_failed;
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

void t_result(int ok, const char *name, const char *fmt, ...)
{
	va_list ap;

	if (ok) {
		printf("PASS %s\n", name);
		t_passed++;
		return;
	}
	printf("FAIL %s: ", name);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	fflush(stdout);
	t_failed++;
}

void t_pass(const char *name)
{
	t_result(1, name, "%s", "");
}

int t_summary(void)
{
	printf("%d passed, %d failed\n", t_passed, t_failed);
	return t_failed || !t_passed ? 1 : 0;
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

		d->odp_ok = (ax.odp_caps.general_caps & IBV_ODP_SUPPORT) && (rc & need) == need;
	}
	return d->gid_index < 0 ? -1 : 0;
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

struct ibv_qp *t_create_rc_qp(struct ibv_pd *pd, struct ibv_cq *cq, struct ibv_srq *srq,
			      uint32_t wr, uint32_t sge, struct ibv_qp_cap *cap)
{
	struct ibv_qp_init_attr ia = {
		.send_cq = cq,
		.recv_cq = cq,
		.srq = srq,
		.qp_type = IBV_QPT_RC,
		.cap =
			{
				.max_send_wr = wr,
				.max_recv_wr = wr,
				.max_send_sge = sge,
				.max_recv_sge = sge,
				.max_inline_data = 128,
			},
	};
	struct ibv_qp *qp = ibv_create_qp(pd, &ia);

	if (qp && cap)
		*cap = ia.cap;
	return qp;
}

int t_side_init(struct t_side *s, struct t_dev *d, const struct t_side_opts *o)
{
	uint32_t sge = o->max_sge ? o->max_sge : 4;
	int access = o->access ? o->access : T_MR_ACCESS;

	memset(s, 0, sizeof(*s));
	s->dev = d;
	s->pd = ibv_alloc_pd(d->ctx);
	s->cq = s->pd ? ibv_create_cq(d->ctx, 256, NULL, NULL, 0) : NULL;
	if (!s->cq)
		return -1;
	if (o->srq) {
		struct ibv_srq_init_attr sa = {.attr = {.max_wr = 64, .max_sge = sge}};

		s->srq = ibv_create_srq(s->pd, &sa);
		if (!s->srq)
			return -1;
	}
	s->qp = t_create_rc_qp(s->pd, s->cq, s->srq, 64, sge, &s->cap);
	if (!s->qp)
		return -1;
	s->len = o->len;
	if (!s->len)
		return 0;
	if (o->buf) {
		s->buf = o->buf;
	} else {
		s->buf = mmap(NULL, s->len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1,
			      0);
		if (s->buf == MAP_FAILED) {
			s->buf = NULL;
			return -1;
		}
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
	if (s->pd)
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

int t_connect_qp(struct ibv_qp *qp, int sgid_index, const union ibv_gid *dgid, uint32_t dqpn,
		 enum ibv_mtu mtu, int rnr_retry)
{
	struct ibv_qp_attr a;
	int ret;

	ret = t_qp_init(qp);
	if (ret)
		return ret;
	rtr_attr(&a, sgid_index, dgid, dqpn, mtu);
	ret = ibv_modify_qp(qp, &a, T_RTR_MASK);
	if (ret)
		return ret;
	t_rts_attr(&a, rnr_retry);
	return ibv_modify_qp(qp, &a, T_RTS_MASK);
}

int t_qp_connect(struct t_side *s, struct t_side *peer, enum ibv_mtu mtu, int rnr_retry)
{
	return t_connect_qp(s->qp, s->dev->gid_index, &peer->dev->gid, peer->qp->qp_num, mtu,
			    rnr_retry);
}

enum ibv_mtu t_min_mtu(const struct t_dev *x, const struct t_dev *y)
{
	return x->active_mtu < y->active_mtu ? x->active_mtu : y->active_mtu;
}

int t_pair_init(struct t_pair *p, struct t_dev devs[2], const struct t_side_opts *oa,
		const struct t_side_opts *ob, enum ibv_mtu mtu, int rnr_retry)
{
	int ret;

	memset(p, 0, sizeof(*p));
	if (t_side_init(&p->a, &devs[0], oa) || t_side_init(&p->b, &devs[1], ob))
		return -1;
	if (!mtu)
		mtu = t_min_mtu(&devs[0], &devs[1]);
	ret = t_qp_connect(&p->a, &p->b, mtu, rnr_retry);
	if (!ret)
		ret = t_qp_connect(&p->b, &p->a, mtu, rnr_retry);
	if (ret) {
		errno = ret;
		return -1;
	}
	t_async_drain(devs[0].ctx);
	t_async_drain(devs[1].ctx);
	return 0;
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

int t_poll_one(struct ibv_cq *cq, struct ibv_wc *wc, int ms)
{
	double end = t_now_ms() + ms;
	int n;

	do {
		n = ibv_poll_cq(cq, 1, wc);
		if (n)
			return n < 0 ? -1 : 0;
		usleep(100);
	} while (t_now_ms() < end);
	return -1;
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

int t_post_one(struct t_side *s, uint64_t id, enum ibv_wr_opcode op, size_t off, uint32_t len,
	       uint64_t raddr, uint32_t rkey)
{
	struct ibv_sge sge = {
		.addr = (uintptr_t)s->buf + off,
		.length = len,
		.lkey = s->mr ? s->mr->lkey : 0,
	};
	struct ibv_send_wr wr = {
		.wr_id = id,
		.sg_list = &sge,
		.num_sge = len ? 1 : 0,
		.opcode = op,
		.send_flags = IBV_SEND_SIGNALED,
		.wr.rdma = {.remote_addr = raddr, .rkey = rkey},
	};
	struct ibv_send_wr *bad;

	return ibv_post_send(s->qp, &wr, &bad);
}

int t_post_atomic(struct t_side *s, uint64_t id, enum ibv_wr_opcode op, size_t off, uint64_t raddr,
		  uint32_t rkey, uint64_t compare_add, uint64_t swap)
{
	struct ibv_sge sge = {
		.addr = (uintptr_t)s->buf + off,
		.length = 8,
		.lkey = s->mr->lkey,
	};
	struct ibv_send_wr wr = {
		.wr_id = id,
		.sg_list = &sge,
		.num_sge = 1,
		.opcode = op,
		.send_flags = IBV_SEND_SIGNALED,
		.wr.atomic =
			{
				.remote_addr = raddr,
				.rkey = rkey,
				.compare_add = compare_add,
				.swap = swap,
			},
	};
	struct ibv_send_wr *bad;

	return ibv_post_send(s->qp, &wr, &bad);
}

void t_fill(uint8_t *p, size_t n, unsigned int seed)
{
	uint32_t x = seed * 2654435761u + 1;
	size_t i;

	/* Position-dependent, so shifted or stale data never matches. */
	for (i = 0; i < n; i++) {
		x = x * 1103515245u + 12345u;
		p[i] = (uint8_t)((x >> 16) ^ (i >> 12));
	}
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

long long t_hw_counter(const char *dev, const char *name)
{
	return odp_hw_counter(dev, name);
}

long long t_hw_counter_cached(const char *dev, const char *name)
{
	return odp_hw_counter_cached(dev, name);
}

void t_hw_counters_settle(void)
{
	usleep(20000);
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
