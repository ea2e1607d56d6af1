// SPDX-License-Identifier: GPL-2.0
/*
 * fuzz: malformed RoCEv2 packets against a live softodp device.
 *
 * The target device (-d, in this namespace) has a live RC QP connected to
 * a QP of a peer device (-D) whose netdev sits in network namespace -n on
 * veth -i.  From that namespace, through AF_PACKET on the veth, this
 * program injects IPv4/UDP/RoCEv2 frames it builds byte by byte (roce.c:
 * its own opcode layouts and ICRC) at the target's QPs: "victim" RC QPs
 * connected to a QP number nobody owns (this program plays the peer and
 * sees the responses on the veth), a UD QP, the GSI QP1 and the live QP.
 *
 * Deterministic cases (each a PASS/FAIL line) check the exact outcome of
 * one kind of bad packet: the drop counter that must move, the NAK that
 * must come back, the state the QP must (not) enter, the bytes of memory
 * regions that must (not) change.  The random phase sends seeded
 * mutations of valid packets (--count, --seed) and checks that every
 * packet reached the device and that the header, P_Key, QP and transport
 * drop counters moved exactly as a model of the receive checks says.
 * Every memory region lies between canary pages that must stay intact, and
 * the live QP pair must still move data byte-exact at the end.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "../verbs/common.h"
#include "roce.h"

#define FAKE_QPN   0xabcdefu /* the peer every victim QP talks to: nobody */
#define V_RQ_PSN   0xfffffcu /* victims' first expected PSN: wraps soon */
#define V_SQ_PSN   0xfffff8u
#define UD_QKEY	   0x11223344u
#define GSI_QKEY   0x80010000u
#define MR_LEN	   (64 * 1024)
#define PAGE	   4096
#define NAK_SEQ	   0x60
#define NAK_INV	   0x61
#define NAK_ACCESS 0x62
#define NAK_OP	   0x63

static const char usage[] =
	"fuzz [-d DEV] [-D PEER] [-n NETNS] [-i IFACE] [-c COUNT] [-s SEED] [-f FILTER]\n"
	"  Sends malformed RoCEv2 packets to softodp device DEV (default sodp0)\n"
	"  from veth IFACE (default v1) in network namespace NETNS (default fuzzns),\n"
	"  where device PEER (default sodp1) lives; checks counters, QP states,\n"
	"  memory and that a live QP pair still works.\n"
	"  -c, --count N   random mutated packets (default 100000)\n"
	"  -s, --seed N    seed of the random phase (default: time; printed)\n"
	"  -f, --filter S  run only the cases whose name contains one of S,...\n"
	"  --icrc-check FILE  only check this program's ICRC against the packets of\n"
	"                  FILE (hex, one per line: tests/data/rxe-roce-packets.txt)\n"
	"  -h, --help      this text";

/* ---- state ---------------------------------------------------------------- */

struct gmem {
	uint8_t *map, *buf; /* canary page, buf, canary page */
	size_t len;
	struct ibv_mr *mr;
	unsigned int seed;
};

static struct t_dev devs[2];
static struct r_link lnk;
static struct r_path path;
static struct ibv_pd *pd;
static struct gmem mem_pin, mem_odp, scratch;
static int mtu;
static enum ibv_mtu mtu_enum;
static uint8_t tp[R_MAX_FRAME];

#define TDEV (devs[0].name)

/* ---- guarded memory ------------------------------------------------------ */

static int all_zero(const uint8_t *p, size_t n)
{
	while (n--)
		if (*p++)
			return 0;
	return 1;
}

static int gmem_new(struct gmem *g, size_t len, int odp, unsigned int seed)
{
	int access = T_MR_ACCESS | (odp ? IBV_ACCESS_ON_DEMAND : 0);

	memset(g, 0, sizeof(*g));
	g->len = len;
	g->seed = seed;
	g->map = t_map(len + 2 * PAGE);
	if (!g->map)
		return -1;
	g->buf = g->map + PAGE;
	t_fill(g->map, PAGE, seed);
	t_fill(g->buf + len, PAGE, seed + 1);
	t_fill(g->buf, len, seed + 2);
	g->mr = ibv_reg_mr(pd, g->buf, len, access);
	return g->mr ? 0 : -1;
}

static int gmem_canaries_ok(const struct gmem *g)
{
	return t_is_fill(g->map, PAGE, g->seed) && t_is_fill(g->buf + g->len, PAGE, g->seed + 1);
}

/* ---- counters -------------------------------------------------------------- */

enum {
	C_RX,
	C_HDR,
	C_ICRC,
	C_PKEY,
	C_NOQP,
	C_STATE,
	C_QFULL,
	C_TRANSPORT,
	C_QKEY,
	C_NO_RWQE,
	C_DUP,
	C_SEQ_NAK,
	C_NR
};

static const char *const cnames[C_NR] = {
	"rx_packets",	    "rx_drop_bad_header",  "rx_drop_bad_icrc",	 "rx_drop_bad_pkey",
	"rx_drop_no_qp",    "rx_drop_qp_state",	   "rx_drop_queue_full", "rx_drop_bad_transport",
	"rx_drop_bad_qkey", "rx_drop_no_recv_wqe", "duplicate_requests", "seq_naks_sent",
};

struct snap {
	long long v[C_NR];
};

static void snap(struct snap *s)
{
	int i;

	t_hw_counters_settle();
	for (i = 0; i < C_NR; i++)
		s->v[i] = t_hw_counter_cached(TDEV, cnames[i]);
}

static long long since(const struct snap *s, int c)
{
	return t_hw_counter_cached(TDEV, cnames[c]) - s->v[c];
}

/* Until counter @c moved by @want since @s (10 s at most); the last delta. */
static long long wait_delta(const struct snap *s, int c, long long want)
{
	long long d = 0;
	int i;

	for (i = 0; i < 1000; i++) {
		t_hw_counters_settle();
		d = since(s, c);
		if (d >= want)
			break;
	}
	return d;
}

/* ---- packets ------------------------------------------------------------- */

/*
 * Transport bytes of @op to @dqpn at @psn with @paylen payload bytes
 * (@pay, or zeros) and the pad the length needs; extension headers zero.
 * Return: their length, ICRC excluded.
 */
static size_t mk(uint8_t *t, uint8_t op, uint32_t dqpn, uint32_t psn, const void *pay,
		 size_t paylen)
{
	size_t h = r_op(op) ? r_hdr_len(op) : R_BTH;
	unsigned int pad = (4 - paylen % 4) % 4;

	memset(t, 0, h + paylen + pad);
	r_bth(t, op, 0, pad, 0xffff, dqpn, 1, psn);
	if (pay)
		memcpy(t + h, pay, paylen);
	return h + paylen + pad;
}

static void set_reth(uint8_t *t, uint64_t va, uint32_t rkey, uint32_t len)
{
	r_reth(t + r_hdr_off(t[0], H_RETH), va, rkey, len);
}

static int send_tp(const uint8_t *t, size_t n)
{
	struct r_frame f;

	r_frame_build(&f, &path, t, n, 1);
	return r_send(&lnk, &f);
}

static int send_raw(const uint8_t *t, size_t n)
{
	struct r_frame f;

	r_frame_build(&f, &path, t, n, 0);
	return r_send(&lnk, &f);
}

/* A response to FAKE_QPN within 2 s: its opcode, PSN and syndrome. */
static int expect_resp(const char *name, uint8_t op, uint32_t psn, int syndrome, struct r_seen *s)
{
	struct r_seen tmp;

	if (!s)
		s = &tmp;
	if (r_cap_next(&lnk, FAKE_QPN, 2000, s)) {
		t_result(0, name, "no response (want opcode 0x%x PSN 0x%x)", op, psn);
		return -1;
	}
	if (s->op != op || s->psn != psn || (syndrome >= 0 && s->syndrome != syndrome)) {
		t_result(0, name, "got opcode 0x%x PSN 0x%x syndrome 0x%x, want 0x%x 0x%x 0x%x",
			 s->op, s->psn, s->syndrome, op, psn, syndrome);
		return -1;
	}
	return 0;
}

static int expect_no_resp(const char *name, int ms)
{
	struct r_seen s;

	if (!r_cap_next(&lnk, FAKE_QPN, ms, &s)) {
		t_result(0, name, "unexpected response opcode 0x%x PSN 0x%x syndrome 0x%x", s.op,
			 s.psn, s.syndrome);
		return -1;
	}
	return 0;
}

/* ---- victim QPs: connected to FAKE_QPN, this program is their peer ------ */

struct victim {
	struct ibv_cq *cq;
	struct ibv_qp *qp;
	uint32_t epsn; /* next PSN the victim expects */
	uint32_t spsn; /* next PSN the victim sends */
};

static int victim_new(struct victim *v)
{
	struct ibv_qp_attr a;

	memset(v, 0, sizeof(*v));
	v->cq = ibv_create_cq(devs[0].ctx, 256, NULL, NULL, 0);
	if (!v->cq)
		return -1;
	v->qp = t_create_rc_qp(pd, v->cq, NULL, 64, 4, NULL);
	if (!v->qp || t_qp_init(v->qp))
		return -1;
	t_rtr_attr(&a, &devs[0], &devs[1], FAKE_QPN, mtu_enum);
	a.rq_psn = V_RQ_PSN;
	if (ibv_modify_qp(v->qp, &a, T_RTR_MASK))
		return -1;
	t_rts_attr(&a, 7);
	a.sq_psn = V_SQ_PSN;
	a.timeout = 17; /* 0.5 s: the peer is this program */
	if (ibv_modify_qp(v->qp, &a, T_RTS_MASK))
		return -1;
	v->epsn = V_RQ_PSN;
	v->spsn = V_SQ_PSN;
	r_cap_drain(&lnk);
	return 0;
}

static void victim_free(struct victim *v)
{
	if (v->qp)
		ibv_destroy_qp(v->qp);
	if (v->cq)
		ibv_destroy_cq(v->cq);
	v->qp = NULL;
	v->cq = NULL;
}

static int wait_state(struct ibv_qp *qp, int want)
{
	int i, st = -1;

	for (i = 0; i < 200; i++) {
		st = t_qp_state(qp);
		if (st == want)
			break;
		usleep(10000);
	}
	return st;
}

/* A WRITE_ONLY of @n bytes of @pay to @va/@rkey at the victim's epsn. */
static size_t v_write(struct victim *v, uint32_t psn, uint64_t va, uint32_t rkey, const void *pay,
		      size_t n)
{
	size_t len = mk(tp, OP_WRITE_ONLY, v->qp->qp_num, psn, pay, n);

	set_reth(tp, va, rkey, n);
	return len;
}

/*
 * A valid WRITE of 32 bytes at the victim's epsn into mem_pin (offset
 * 60 KiB, reserved for probes) that must land and be acknowledged:
 * everything queued on the victim before it has been processed.
 */
static int v_probe(struct victim *v, const char *name)
{
	uint8_t pay[32];
	uint8_t *dst = mem_pin.buf + 60 * 1024;

	t_fill(pay, sizeof(pay), v->epsn);
	r_cap_drain(&lnk);
	if (send_tp(tp, v_write(v, v->epsn, (uintptr_t)dst, mem_pin.mr->rkey, pay, sizeof(pay))) ||
	    expect_resp(name, OP_ACK, v->epsn, -1, NULL))
		return -1;
	if (memcmp(dst, pay, sizeof(pay))) {
		t_result(0, name, "probe WRITE at PSN 0x%x did not land", v->epsn);
		return -1;
	}
	v->epsn = (v->epsn + 1) & 0xffffff;
	return 0;
}

/* ---- deterministic cases -------------------------------------------------- */

static void case_valid(void)
{
	const char *name = "valid_packets";
	struct victim v;
	uint8_t pay[300];
	struct r_seen s;
	struct ibv_wc wc;
	struct ibv_sge sge;
	struct ibv_recv_wr wr = {.wr_id = 7, .sg_list = &sge, .num_sge = 1}, *bad;
	size_t n;

	if (!t_want(name))
		return;
	T_REQUIRE(!victim_new(&v), name, "victim QP: %s", strerror(errno));
	/* WRITE into pinned and ODP memory. */
	t_fill(pay, sizeof(pay), 1);
	n = v_write(&v, v.epsn, (uintptr_t)mem_pin.buf + 100, mem_pin.mr->rkey, pay, 300);
	if (send_tp(tp, n) || expect_resp(name, OP_ACK, v.epsn, -1, &s))
		goto out;
	T_REQUIRE(!memcmp(mem_pin.buf + 100, pay, 300), name, "WRITE data differs");
	v.epsn = (v.epsn + 1) & 0xffffff;
	n = v_write(&v, v.epsn, (uintptr_t)mem_odp.buf + 5000, mem_odp.mr->rkey, pay, 300);
	if (send_tp(tp, n) || expect_resp(name, OP_ACK, v.epsn, -1, &s))
		goto out;
	T_REQUIRE(!memcmp(mem_odp.buf + 5000, pay, 300), name, "ODP WRITE data differs");
	v.epsn = (v.epsn + 1) & 0xffffff;
	/* READ back what was written. */
	n = mk(tp, OP_READ_REQ, v.qp->qp_num, v.epsn, NULL, 0);
	set_reth(tp, (uintptr_t)mem_pin.buf + 100, mem_pin.mr->rkey, 300);
	if (send_tp(tp, n) || expect_resp(name, OP_READ_RESP_ONLY, v.epsn, -1, &s))
		goto out;
	T_REQUIRE(s.paylen == 300 && !memcmp(s.payload, pay, 300), name,
		  "READ response differs (%zu bytes)", s.paylen);
	v.epsn = (v.epsn + 1) & 0xffffff;
	/* SEND into a posted receive. */
	sge.addr = (uintptr_t)mem_pin.buf + 8192;
	sge.length = 512;
	sge.lkey = mem_pin.mr->lkey;
	T_REQUIRE(!ibv_post_recv(v.qp, &wr, &bad), name, "post_recv");
	n = mk(tp, OP_SEND_ONLY, v.qp->qp_num, v.epsn, pay, 77);
	if (send_tp(tp, n) || expect_resp(name, OP_ACK, v.epsn, -1, &s))
		goto out;
	T_REQUIRE(!t_poll_one(v.cq, &wc, 2000) && wc.status == IBV_WC_SUCCESS &&
			  wc.byte_len == 77 && wc.opcode == IBV_WC_RECV,
		  name, "receive completion %d len %u", wc.status, wc.byte_len);
	T_REQUIRE(!memcmp(mem_pin.buf + 8192, pay, 77), name, "SEND data differs");
	v.epsn = (v.epsn + 1) & 0xffffff;
	/* FETCH_ADD returns the original value. */
	memset(mem_pin.buf + 4096, 0, 8);
	n = mk(tp, OP_FETCH_ADD, v.qp->qp_num, v.epsn, NULL, 0);
	r_atmeth(tp + R_BTH, (uintptr_t)mem_pin.buf + 4096, mem_pin.mr->rkey, 5, 0);
	if (send_tp(tp, n) || expect_resp(name, OP_ATOMIC_ACK, v.epsn, -1, &s))
		goto out;
	v.epsn = (v.epsn + 1) & 0xffffff;
	T_REQUIRE(*(uint64_t *)(mem_pin.buf + 4096) == 5, name, "FETCH_ADD result");
	T_CHECK(t_qp_state(v.qp) == IBV_QPS_RTS, name, "victim QP left RTS");
out:
	victim_free(&v);
}

/*
 * Truncations at every header boundary, every undefined opcode, TVer,
 * non-payload opcodes with payload, partial BTHs, the wrong transport:
 * each dropped and counted before any QP sees it.
 */
static void case_headers(struct ibv_qp *ud)
{
	const char *name = "headers";
	long long hdr = 0, counted = 0, transport = 0;
	struct victim v;
	struct snap s;
	unsigned int op, cut, i;

	if (!t_want(name))
		return;
	T_REQUIRE(!victim_new(&v), name, "victim QP: %s", strerror(errno));
	snap(&s);
	for (op = 0; op < 256; op++) {
		uint32_t qpn = (op & 0xe0) == 0x60 ? ud->qp_num : v.qp->qp_num;
		size_t h = r_op(op) ? r_hdr_len(op) : R_BTH;

		if (!r_op(op)) {
			/* Undefined: whatever length. */
			mk(tp, op, qpn, v.epsn, NULL, 0);
			send_tp(tp, R_BTH + 8 * (op % 5));
			hdr++;
			counted++;
			continue;
		}
		/* Every cut short of the headers, with and without an ICRC. */
		for (cut = R_BTH; cut < h; cut += 4) {
			mk(tp, op, qpn, v.epsn, NULL, 0);
			send_tp(tp, cut);
			send_raw(tp, cut);
			hdr += 2;
			counted += 2;
		}
		mk(tp, op, qpn, v.epsn, NULL, 0);
		send_raw(tp, h); /* no room for the ICRC */
		hdr++;
		counted++;
		/* Pad bytes claimed that are not there. */
		mk(tp, op, qpn, v.epsn, NULL, 0);
		tp[1] |= 3 << 4;
		send_tp(tp, h);
		hdr++;
		counted++;
		/* TVer 1. */
		mk(tp, op, qpn, v.epsn, NULL, 0);
		tp[1] |= 1;
		send_tp(tp, h);
		hdr++;
		counted++;
		if (!(r_op(op)->hdrs & H_PAYLOAD)) {
			mk(tp, op, qpn, v.epsn, NULL, 4);
			send_tp(tp, h + 4);
			hdr++;
			counted++;
		}
		/* The other transport: UD opcodes to the RC QP, RC to the UD QP. */
		mk(tp, op, (op & 0xe0) == 0x60 ? v.qp->qp_num : ud->qp_num, v.epsn, NULL, 0);
		send_tp(tp, h);
		transport++;
		counted++;
	}
	/* A BTH cut short never reaches the device. */
	for (i = 1; i < R_BTH; i++) {
		mk(tp, OP_SEND_ONLY, v.qp->qp_num, v.epsn, NULL, 0);
		send_raw(tp, i);
	}
	wait_delta(&s, C_RX, counted);
	T_CHECK(since(&s, C_RX) == counted, "headers_rx", "rx_packets +%lld, want +%lld",
		since(&s, C_RX), counted);
	T_CHECK(since(&s, C_HDR) == hdr, "headers_bad_header",
		"rx_drop_bad_header +%lld, want +%lld", since(&s, C_HDR), hdr);
	T_CHECK(since(&s, C_TRANSPORT) == transport, "headers_bad_transport",
		"rx_drop_bad_transport +%lld, want +%lld", since(&s, C_TRANSPORT), transport);
	if (!v_probe(&v, name))
		T_CHECK(t_qp_state(v.qp) == IBV_QPS_RTS, name, "victim left RTS");
	victim_free(&v);
}

/* Wrong or foreign P_Keys are dropped and counted; the limited default is not. */
static void case_pkey(void)
{
	static const uint16_t bad[] = {0x1234, 0x0000, 0x8000, 0x7ffe, 0xfffe};
	const char *name = "bad_pkey";
	uint8_t pay[16] = {1, 2, 3};
	struct victim v;
	struct snap s;
	unsigned int i;
	size_t n;

	if (!t_want(name))
		return;
	T_REQUIRE(!victim_new(&v), name, "victim QP: %s", strerror(errno));
	snap(&s);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		n = v_write(&v, v.epsn, (uintptr_t)mem_pin.buf, mem_pin.mr->rkey, pay, sizeof(pay));
		tp[2] = bad[i] >> 8;
		tp[3] = bad[i] & 0xff;
		send_tp(tp, n);
	}
	T_CHECK(wait_delta(&s, C_PKEY, i) == i, name, "rx_drop_bad_pkey +%lld, want +%u",
		since(&s, C_PKEY), i);
	/* Limited membership of the default partition is accepted. */
	n = v_write(&v, v.epsn, (uintptr_t)mem_pin.buf, mem_pin.mr->rkey, pay, sizeof(pay));
	tp[2] = 0x7f;
	send_tp(tp, n);
	if (!expect_resp("bad_pkey_limited", OP_ACK, v.epsn, -1, NULL))
		T_CHECK(!memcmp(mem_pin.buf, pay, sizeof(pay)), "bad_pkey_limited",
			"data not placed");
	victim_free(&v);
}

/*
 * A bad ICRC drops the packet whatever else is right; the fields the ICRC
 * masks (TOS, TTL, FECN/BECN/resv) may change on the way.
 */
static void case_icrc(void)
{
	const char *name = "bad_icrc";
	uint8_t pay[64], before[64];
	uint8_t *dst = mem_pin.buf + 12288;
	struct r_frame f;
	struct victim v;
	struct snap s;
	int i;

	if (!t_want(name))
		return;
	T_REQUIRE(!victim_new(&v), name, "victim QP: %s", strerror(errno));
	memcpy(before, dst, sizeof(before));
	t_fill(pay, sizeof(pay), 99);
	snap(&s);
	for (i = 0; i < 5; i++) {
		r_frame_build(
			&f, &path, tp,
			v_write(&v, v.epsn, (uintptr_t)dst, mem_pin.mr->rkey, pay, sizeof(pay)), 1);
		switch (i) {
		case 0: /* the ICRC itself */
			f.b[f.len - 1] ^= 0x80;
			break;
		case 1: /* a payload byte */
			r_tp(&f)[R_BTH + R_RETH + 5] ^= 1;
			break;
		case 2: /* the RETH address */
			r_tp(&f)[R_BTH + 7] ^= 0x10;
			break;
		case 3: /* the solicited event bit */
			r_tp(&f)[1] ^= 0x80;
			break;
		default: /* the IP source address */
			f.b[15] ^= 1;
			r_frame_fix_lengths(&f);
			break;
		}
		r_send(&lnk, &f);
	}
	T_CHECK(wait_delta(&s, C_ICRC, 5) == 5, name, "rx_drop_bad_icrc +%lld, want +5",
		since(&s, C_ICRC));
	T_CHECK(!memcmp(dst, before, sizeof(before)), name, "memory changed by a bad packet");
	if (expect_no_resp(name, 300))
		goto out;
	/* Masked fields changed after the ICRC was computed: still valid. */
	r_frame_build(&f, &path, tp,
		      v_write(&v, v.epsn, (uintptr_t)dst, mem_pin.mr->rkey, pay, sizeof(pay)), 1);
	f.b[1] = 0x2e;		 /* TOS */
	f.b[8] = 1;		 /* TTL */
	r_tp(&f)[4] = 0xc0;	 /* FECN, BECN */
	r_frame_fix_lengths(&f); /* IP checksum */
	r_send(&lnk, &f);
	if (!expect_resp("bad_icrc_masked", OP_ACK, v.epsn, -1, NULL))
		T_CHECK(!memcmp(dst, pay, sizeof(pay)), "bad_icrc_masked",
			"packet with changed masked fields not placed");
out:
	victim_free(&v);
}

/*
 * The IP and UDP lengths against the frame: a UDP length past the IP
 * payload and an IP length past the frame never reach the device; a UDP
 * length that cuts the ICRC off leaves a packet whose ICRC is wrong;
 * bytes after the IP length are not part of the packet; a packet split
 * into IP fragments (sent out of order) arrives whole.
 */
static void case_lengths(void)
{
	const char *name = "ip_udp_lengths";
	uint8_t pay[64], before[64];
	uint8_t *dst = mem_pin.buf + 28672;
	struct r_frame f, g;
	struct victim v;
	struct snap s;
	size_t n, cut = 48;

	if (!t_want(name))
		return;
	T_REQUIRE(!victim_new(&v), name, "victim QP: %s", strerror(errno));
	memcpy(before, dst, sizeof(before));
	t_fill(pay, sizeof(pay), 31);
	n = v_write(&v, v.epsn, (uintptr_t)dst, mem_pin.mr->rkey, pay, sizeof(pay));
	snap(&s);
	/* UDP length 8 past the IP payload. */
	r_frame_build(&f, &path, tp, n, 1);
	f.b[R_IP + 5] += 8;
	r_send(&lnk, &f);
	/* IP total length 8 past the frame. */
	r_frame_build(&f, &path, tp, n, 1);
	f.b[3] += 8;
	r_frame_fix_ip_csum(&f);
	r_send(&lnk, &f);
	/* UDP length 4 short: the last payload word stands where the ICRC was. */
	r_frame_build(&f, &path, tp, n, 1);
	f.b[R_IP + 5] -= 4;
	r_send(&lnk, &f);
	T_CHECK(wait_delta(&s, C_ICRC, 1) == 1 && since(&s, C_RX) == 1, name,
		"icrc +%lld rx +%lld, want +1 +1", since(&s, C_ICRC), since(&s, C_RX));
	T_CHECK(!memcmp(dst, before, sizeof(pay)), name, "a malformed WRITE was placed");
	/* Trailing bytes after the IP length: the packet is what IP says. */
	r_frame_build(&f, &path, tp, n, 1);
	memset(f.b + f.len, 0xee, 16);
	f.len += 16;
	r_send(&lnk, &f);
	if (expect_resp("ip_udp_lengths_trailer", OP_ACK, v.epsn, -1, NULL))
		goto out;
	T_CHECK(!memcmp(dst, pay, sizeof(pay)), "ip_udp_lengths_trailer",
		"WRITE with trailing bytes not placed");
	v.epsn = (v.epsn + 1) & 0xffffff;
	/* Two IP fragments: the UDP datagram's first 48 bytes, then the rest. */
	t_fill(pay, sizeof(pay), 32);
	n = v_write(&v, v.epsn, (uintptr_t)dst, mem_pin.mr->rkey, pay, sizeof(pay));
	r_frame_build(&f, &path, tp, n, 1);
	/* Without DF: the ICRC covers the reassembled header, flags included. */
	f.b[6] = 0;
	r_frame_fix_ip_csum(&f);
	r_frame_fix_icrc(&f);
	g = f;
	f.len = R_IP + cut;
	f.b[2] = f.len >> 8;
	f.b[3] = f.len & 0xff;
	f.b[6] = 0x20; /* MF, offset 0 */
	f.b[7] = 0;
	r_frame_fix_ip_csum(&f);
	memmove(g.b + R_IP, g.b + R_IP + cut, g.len - R_IP - cut);
	g.len -= cut;
	g.b[2] = g.len >> 8;
	g.b[3] = g.len & 0xff;
	g.b[6] = 0;
	g.b[7] = cut / 8;
	r_frame_fix_ip_csum(&g);
	r_send(&lnk, &g);
	r_send(&lnk, &f);
	if (expect_resp("ip_udp_lengths_fragments", OP_ACK, v.epsn, -1, NULL))
		goto out;
	T_CHECK(!memcmp(dst, pay, sizeof(pay)), "ip_udp_lengths_fragments",
		"fragmented WRITE not placed");
out:
	victim_free(&v);
}

/* Future PSNs: one sequence NAK; duplicates and ancient PSNs: not executed. */
static void case_psn(void)
{
	const char *name = "psn";
	uint8_t pay[32], old[32];
	uint8_t *dst = mem_pin.buf + 16384;
	struct victim v;
	struct snap s;
	uint32_t e;
	size_t n;

	if (!t_want(name))
		return;
	T_REQUIRE(!victim_new(&v), name, "victim QP: %s", strerror(errno));
	if (v_probe(&v, name) || v_probe(&v, name))
		goto out;
	e = v.epsn;
	snap(&s);
	memcpy(old, dst, sizeof(old));
	t_fill(pay, sizeof(pay), 5);
	/* Future: NAK once with the expected PSN. */
	send_tp(tp, v_write(&v, (e + 3) & 0xffffff, (uintptr_t)dst, mem_pin.mr->rkey, pay, 32));
	if (expect_resp("psn_future", OP_ACK, e, NAK_SEQ, NULL))
		goto out;
	send_tp(tp,
		v_write(&v, (e + 0x7fffff) & 0xffffff, (uintptr_t)dst, mem_pin.mr->rkey, pay, 32));
	if (expect_no_resp("psn_future", 300))
		goto out;
	t_hw_counters_settle();
	T_CHECK(since(&s, C_SEQ_NAK) == 1, "psn_future", "seq_naks_sent +%lld, want +1",
		since(&s, C_SEQ_NAK));
	/* Duplicate (ACK again), ancient and half-way-round (not executed). */
	send_tp(tp, v_write(&v, (e - 1) & 0xffffff, (uintptr_t)dst, mem_pin.mr->rkey, pay, 32));
	if (expect_resp("psn_dup", OP_ACK, (e - 1) & 0xffffff, -1, NULL))
		goto out;
	n = v_write(&v, (e - 0x7fffff) & 0xffffff, (uintptr_t)dst, mem_pin.mr->rkey, pay, 32);
	tp[8] &= 0x7f; /* no AckReq */
	send_tp(tp, n);
	n = v_write(&v, (e + 0x800000) & 0xffffff, (uintptr_t)dst, mem_pin.mr->rkey, pay, 32);
	tp[8] &= 0x7f;
	send_tp(tp, n);
	if (v_probe(&v, "psn_dup"))
		goto out;
	t_hw_counters_settle(); /* ib_core's 10 ms counter cache */
	T_CHECK(since(&s, C_DUP) == 3, "psn_dup", "duplicate_requests +%lld, want +3",
		since(&s, C_DUP));
	T_CHECK(!memcmp(dst, old, sizeof(old)), "psn_dup", "a duplicate/future WRITE was executed");
	T_CHECK(t_qp_state(v.qp) == IBV_QPS_RTS, name, "victim left RTS");
out:
	victim_free(&v);
}

/* ---- requests that must end the connection -------------------------------- */

enum { K_MR, K_RANDOM, K_DEAD, K_OTHER_PD, K_NO_RIGHTS, K_UNMAPPED, K_IMPLICIT };

struct fcase {
	const char *name;
	uint8_t op;
	int odp; /* in mem_odp rather than mem_pin */
	int key; /* K_* */
	int abs; /* @va is absolute, else an offset into the region */
	uint64_t va;
	uint32_t rlen; /* RETH length (atomics: unused) */
	uint32_t pay;  /* payload bytes */
	int syndrome;
};

#define WRAP 0xffffffffffffffe0ull

static const struct fcase fcases[] = {
	{"write_len_over_payload", OP_WRITE_ONLY, 0, K_MR, 0, 0, 100, 64, NAK_INV},
	{"write_len_under_payload", OP_WRITE_ONLY, 0, K_MR, 0, 0, 64, 100, NAK_INV},
	{"write_first_short_pmtu", OP_WRITE_FIRST, 0, K_MR, 0, 0, 4096, 64, NAK_INV},
	{"write_only_over_pmtu", OP_WRITE_ONLY, 0, K_MR, 0, 0, 0, 0, NAK_INV},	/* mtu + 4 */
	{"send_only_over_pmtu", OP_SEND_ONLY, 0, K_MR, 0, 0, 0, 0, NAK_INV},	/* mtu + 4 */
	{"send_middle_no_first", OP_SEND_MIDDLE, 0, K_MR, 0, 0, 0, 0, NAK_INV}, /* mtu */
	{"write_last_no_first", OP_WRITE_LAST, 0, K_MR, 0, 0, 0, 8, NAK_INV},
	{"write_len_over_max", OP_WRITE_ONLY, 0, K_MR, 0, 0, 0x80000001u, 0, NAK_INV},
	{"read_len_over_max", OP_READ_REQ, 0, K_MR, 0, 0, 0x80000001u, 0, NAK_INV},
	{"write_past_end", OP_WRITE_ONLY, 0, K_MR, 0, MR_LEN - 32, 64, 64, NAK_ACCESS},
	{"write_past_end_odp", OP_WRITE_ONLY, 1, K_MR, 0, MR_LEN - 32, 64, 64, NAK_ACCESS},
	{"write_before_start", OP_WRITE_ONLY, 0, K_MR, 1, 0, 2, 2, NAK_ACCESS}, /* buf - 1 */
	{"write_first_len_past_end", OP_WRITE_FIRST, 1, K_MR, 0, 0, MR_LEN + 1, 0, NAK_ACCESS},
	{"write_max_len", OP_WRITE_ONLY, 0, K_MR, 0, 64, 0x80000000u, 0, NAK_ACCESS},
	{"write_wrap_2_64", OP_WRITE_ONLY, 0, K_MR, 1, WRAP, 64, 64, NAK_ACCESS},
	{"write_wrap_2_64_odp", OP_WRITE_ONLY, 1, K_MR, 1, WRAP, 64, 64, NAK_ACCESS},
	{"read_past_end", OP_READ_REQ, 0, K_MR, 0, MR_LEN - 32, 64, 0, NAK_ACCESS},
	{"read_past_end_odp", OP_READ_REQ, 1, K_MR, 0, MR_LEN - 32, 64, 0, NAK_ACCESS},
	{"read_wrap_2_64", OP_READ_REQ, 1, K_MR, 1, WRAP, 64, 0, NAK_ACCESS},
	{"atomic_past_end", OP_FETCH_ADD, 0, K_MR, 0, MR_LEN, 0, 0, NAK_ACCESS},
	{"atomic_past_end_odp", OP_CMP_SWAP, 1, K_MR, 0, MR_LEN, 0, 0, NAK_ACCESS},
	{"atomic_misaligned", OP_FETCH_ADD, 0, K_MR, 0, 4, 0, 0, NAK_INV},
	{"atomic_wrap_2_64", OP_CMP_SWAP, 0, K_MR, 1, 0xfffffffffffffff8ull, 0, 0, NAK_ACCESS},
	{"rkey_random", OP_WRITE_ONLY, 0, K_RANDOM, 0, 0, 16, 16, NAK_ACCESS},
	{"rkey_destroyed_mr", OP_WRITE_ONLY, 0, K_DEAD, 0, 0, 16, 16, NAK_ACCESS},
	{"rkey_destroyed_mr_read", OP_READ_REQ, 0, K_DEAD, 0, 0, 16, 0, NAK_ACCESS},
	{"rkey_other_pd", OP_WRITE_ONLY, 0, K_OTHER_PD, 0, 0, 16, 16, NAK_ACCESS},
	{"rkey_no_remote_rights", OP_WRITE_ONLY, 0, K_NO_RIGHTS, 0, 0, 16, 16, NAK_ACCESS},
	{"rkey_no_remote_rights_atomic", OP_FETCH_ADD, 0, K_NO_RIGHTS, 0, 0, 0, 0, NAK_ACCESS},
	{"rkey_unmapped_odp", OP_WRITE_ONLY, 1, K_UNMAPPED, 0, 0, 16, 16, NAK_ACCESS},
	{"rkey_unmapped_odp_read", OP_READ_REQ, 1, K_UNMAPPED, 0, 0, 16, 0, NAK_ACCESS},
	/* Implicit ODP covers the process's address space, and nothing else. */
	{"implicit_null_page", OP_WRITE_ONLY, 1, K_IMPLICIT, 1, 0x10, 16, 16, NAK_ACCESS},
	{"implicit_wrap_2_64", OP_WRITE_ONLY, 1, K_IMPLICIT, 1, WRAP, 64, 64, NAK_ACCESS},
	{"implicit_minus_1", OP_WRITE_ONLY, 1, K_IMPLICIT, 1, 0, 16, 16, NAK_ACCESS},
	{"implicit_task_size", OP_WRITE_ONLY, 1, K_IMPLICIT, 1, 0x7ffffffff000ull - 8, 64, 64,
	 NAK_ACCESS},
	{"implicit_kernel_write", OP_WRITE_ONLY, 1, K_IMPLICIT, 1, 0xffff888000100000ull, 64, 64,
	 NAK_ACCESS},
	{"implicit_kernel_read", OP_READ_REQ, 1, K_IMPLICIT, 1, 0xffff888000100000ull, 64, 0,
	 NAK_ACCESS},
	{"implicit_kernel_atomic", OP_FETCH_ADD, 1, K_IMPLICIT, 1, 0xffffffff81000000ull, 0, 0,
	 NAK_ACCESS},
	{"implicit_read_wrap", OP_READ_REQ, 1, K_IMPLICIT, 1, WRAP, 4096, 0, NAK_ACCESS},
};

/* Keys that name no MR this victim may use, and their regions' bases. */
static uint32_t key_dead, key_other_pd, key_no_rights, key_unmapped, key_implicit;
static uint64_t base_dead, base_other_pd, base_no_rights, base_unmapped;

static void run_fcase(const struct fcase *c)
{
	const struct gmem *g = c->odp ? &mem_odp : &mem_pin;
	static uint8_t before_pin[MR_LEN], before_odp[MR_LEN];
	uint8_t pay[4096];
	struct victim v;
	uint64_t va, base = (uintptr_t)g->buf;
	uint32_t rkey = g->mr->rkey, paylen = c->pay;
	struct r_seen s;
	size_t n;
	int st;

	if (!t_want(c->name))
		return;
	if (c->odp && !devs[0].odp_ok) {
		t_skip(c->name, "no ODP");
		return;
	}
	switch (c->key) {
	case K_RANDOM:
		rkey = 0x5a5a5a00 | (rkey & 0xff);
		break;
	case K_DEAD:
		rkey = key_dead, base = base_dead;
		break;
	case K_OTHER_PD:
		rkey = key_other_pd, base = base_other_pd;
		break;
	case K_NO_RIGHTS:
		rkey = key_no_rights, base = base_no_rights;
		break;
	case K_UNMAPPED:
		rkey = key_unmapped, base = base_unmapped;
		break;
	case K_IMPLICIT:
		if (!key_implicit) {
			t_skip(c->name, "no implicit ODP");
			return;
		}
		rkey = key_implicit, base = 0;
		break;
	}
	va = c->abs ? (c->va ? c->va : base - 1) : base + c->va;
	if (!c->rlen && !c->pay && (c->op == OP_WRITE_ONLY || c->op == OP_SEND_ONLY))
		paylen = mtu + 4;
	if (c->op == OP_SEND_MIDDLE || (c->op == OP_WRITE_FIRST && !c->pay))
		paylen = mtu; /* a first or middle packet is exactly one MTU */
	T_REQUIRE(!victim_new(&v), c->name, "victim QP: %s", strerror(errno));
	memcpy(before_pin, mem_pin.buf, MR_LEN);
	memcpy(before_odp, mem_odp.buf, MR_LEN);
	t_fill(pay, sizeof(pay), 77);
	n = mk(tp, c->op, v.qp->qp_num, v.epsn, pay, paylen);
	if (r_hdr_off(c->op, H_RETH))
		set_reth(tp, va, rkey, c->rlen ? c->rlen : paylen);
	if (r_hdr_off(c->op, H_ATMETH))
		r_atmeth(tp + R_BTH, va, rkey, 1, 0);
	send_tp(tp, n);
	if (!expect_resp(c->name, OP_ACK, v.epsn, c->syndrome, &s)) {
		st = wait_state(v.qp, IBV_QPS_ERR);
		T_CHECK(st == IBV_QPS_ERR && !memcmp(before_pin, mem_pin.buf, MR_LEN) &&
				!memcmp(before_odp, mem_odp.buf, MR_LEN) &&
				gmem_canaries_ok(&mem_pin) && gmem_canaries_ok(&mem_odp),
			c->name, "QP state %d (want ERR), memory or canaries changed", st);
	}
	victim_free(&v);
}

/*
 * SEND with invalidate naming a user MR (which only its owner may
 * invalidate) or no MR: the data is placed, the receive completes in
 * error, NAK invalid request, ERR; the MR keeps working.
 */
static void case_send_inv(void)
{
	const char *name = "send_invalidate";
	uint8_t pay[40];
	struct ibv_sge sge;
	struct ibv_recv_wr wr = {.wr_id = 5, .sg_list = &sge, .num_sge = 1}, *bad;
	struct ibv_wc wc;
	struct victim v;
	int k;
	size_t n;

	if (!t_want(name))
		return;
	t_fill(pay, sizeof(pay), 41);
	for (k = 0; k < 2; k++) {
		T_REQUIRE(!victim_new(&v), name, "victim QP: %s", strerror(errno));
		sge.addr = (uintptr_t)mem_pin.buf + 32768;
		sge.length = 256;
		sge.lkey = mem_pin.mr->lkey;
		T_REQUIRE(!ibv_post_recv(v.qp, &wr, &bad), name, "post_recv");
		n = mk(tp, OP_SEND_ONLY_INV, v.qp->qp_num, v.epsn, pay, sizeof(pay));
		r_put32(tp + R_BTH, k ? 0x00c0ffee : mem_pin.mr->rkey);
		send_tp(tp, n);
		if (expect_resp(name, OP_ACK, v.epsn, NAK_INV, NULL))
			break;
		T_REQUIRE(!t_poll_one(v.cq, &wc, 2000) && wc.status != IBV_WC_SUCCESS, name,
			  "no error completion of the receive");
		T_REQUIRE(wait_state(v.qp, IBV_QPS_ERR) == IBV_QPS_ERR, name, "QP not in ERR");
		victim_free(&v);
	}
	victim_free(&v);
	/* The MR named by the bad SEND still takes WRITEs. */
	T_REQUIRE(!victim_new(&v), name, "victim QP: %s", strerror(errno));
	if (!v_probe(&v, name))
		t_pass(name);
	victim_free(&v);
}

/* ---- responses nobody asked for ------------------------------------------ */

static void case_responses(void)
{
	static const uint8_t syn[] = {0x00, 0x1f, 0x20, 0x3f, 0x40, 0x5f, 0x60,
				      0x61, 0x62, 0x63, 0x64, 0x7f, 0x80, 0xff};
	static const uint8_t ops[] = {OP_READ_RESP_FIRST,
				      OP_READ_RESP_MIDDLE,
				      OP_READ_RESP_LAST,
				      OP_READ_RESP_ONLY,
				      OP_ACK,
				      OP_ATOMIC_ACK};
	const char *name = "unsolicited_responses";
	uint8_t *src = mem_pin.buf + 20480, *rd = mem_pin.buf + 24576, pay[1024];
	unsigned int i, j, k;
	struct victim v;
	struct ibv_wc wc;
	struct r_seen s;
	uint32_t psns[4];
	size_t n;

	if (!t_want(name))
		return;
	T_REQUIRE(!victim_new(&v), name, "victim QP: %s", strerror(errno));
	t_fill(pay, sizeof(pay), 3);
	psns[0] = v.spsn;
	psns[1] = (v.spsn - 1) & 0xffffff;
	psns[2] = (v.spsn + 5) & 0xffffff;
	psns[3] = 0x123456;
	for (i = 0; i < sizeof(ops); i++)
		for (j = 0; j < 4; j++)
			for (k = 0; k < sizeof(syn); k++) {
				n = mk(tp, ops[i], v.qp->qp_num, psns[j], pay,
				       ops[i] == OP_ACK || ops[i] == OP_ATOMIC_ACK ? 0 : 64);
				if (r_hdr_off(ops[i], H_AETH))
					r_aeth(tp + R_BTH, syn[k], k);
				send_tp(tp, n);
			}
	if (v_probe(&v, name))
		goto out;
	T_REQUIRE(t_poll_none(v.cq, 100) == 0 && t_qp_state(v.qp) == IBV_QPS_RTS, name,
		  "a completion or a state change from responses nobody asked for");
	/* Our WRITE: ACKs for PSNs not sent or long acknowledged do nothing. */
	t_fill(src, 100, 4);
	T_REQUIRE(!t_post_wr(v.qp, 1, IBV_WR_RDMA_WRITE, src, 100, mem_pin.mr->lkey, 0x1000, 0x42,
			     0, 0),
		  name, "post WRITE");
	if (expect_resp(name, OP_WRITE_ONLY, v.spsn, -1, &s))
		goto out;
	T_REQUIRE(s.paylen == 100 && !memcmp(s.payload, src, 100), name, "WRITE payload differs");
	for (j = 1; j < 4; j++) {
		mk(tp, OP_ACK, v.qp->qp_num, psns[j], NULL, 0);
		send_tp(tp, R_BTH + R_AETH);
	}
	n = mk(tp, OP_READ_RESP_ONLY, v.qp->qp_num, v.spsn, pay, 100);
	send_tp(tp, n);
	n = mk(tp, OP_ATOMIC_ACK, v.qp->qp_num, v.spsn, NULL, 0);
	send_tp(tp, n);
	T_REQUIRE(t_poll_none(v.cq, 200) == 0, name, "completion from a wrong ACK");
	mk(tp, OP_ACK, v.qp->qp_num, v.spsn, NULL, 0);
	send_tp(tp, R_BTH + R_AETH);
	T_REQUIRE(!t_poll_one(v.cq, &wc, 2000) && wc.status == IBV_WC_SUCCESS && wc.wr_id == 1,
		  name, "WRITE completion after its ACK");
	v.spsn = (v.spsn + 1) & 0xffffff;
	/* Our READ: only its response, in order, is placed. */
	T_REQUIRE(!t_post_wr(v.qp, 2, IBV_WR_RDMA_READ, rd, 100, mem_pin.mr->lkey, 0x2000, 0x42, 0,
			     0),
		  name, "post READ");
	if (expect_resp(name, OP_READ_REQ, v.spsn, -1, &s))
		goto out;
	n = mk(tp, OP_READ_RESP_ONLY, v.qp->qp_num, (v.spsn + 1) & 0xffffff, pay + 1, 100);
	send_tp(tp, n); /* a PSN not yet sent */
	n = mk(tp, OP_READ_RESP_ONLY, v.qp->qp_num, v.spsn, pay, 100);
	send_tp(tp, n);
	T_REQUIRE(!t_poll_one(v.cq, &wc, 2000) && wc.status == IBV_WC_SUCCESS && wc.wr_id == 2,
		  name, "READ completion: status %d", wc.status);
	T_REQUIRE(!memcmp(rd, pay, 100), name, "READ data differs");
	v.spsn = (v.spsn + 1) & 0xffffff;
	/* A NAK with a reserved code for our WRITE: an error completion, ERR. */
	T_REQUIRE(!t_post_wr(v.qp, 3, IBV_WR_RDMA_WRITE, src, 8, mem_pin.mr->lkey, 0x1000, 0x42, 0,
			     0),
		  name, "post WRITE");
	if (expect_resp(name, OP_WRITE_ONLY, v.spsn, -1, &s))
		goto out;
	mk(tp, OP_ACK, v.qp->qp_num, v.spsn, NULL, 0);
	r_aeth(tp + R_BTH, 0x6f, 0);
	send_tp(tp, R_BTH + R_AETH);
	T_REQUIRE(!t_poll_one(v.cq, &wc, 2000) && wc.status != IBV_WC_SUCCESS && wc.wr_id == 3,
		  name, "no error completion for a NAK");
	T_CHECK(wait_state(v.qp, IBV_QPS_ERR) == IBV_QPS_ERR, name, "QP not in ERR after a NAK");
out:
	victim_free(&v);
}

/* Packets for a QP that was destroyed. */
static void case_destroyed(void)
{
	const char *name = "destroyed_qp";
	struct victim v;
	struct snap s;
	uint32_t qpn;
	int i;

	if (!t_want(name))
		return;
	T_REQUIRE(!victim_new(&v), name, "victim QP: %s", strerror(errno));
	qpn = v.qp->qp_num;
	victim_free(&v);
	snap(&s);
	for (i = 0; i < 10; i++) {
		size_t n = mk(tp, i & 1 ? OP_READ_REQ : OP_WRITE_ONLY, qpn, V_RQ_PSN, NULL,
			      i & 1 ? 0 : 16);

		set_reth(tp, (uintptr_t)mem_pin.buf, mem_pin.mr->rkey, 16);
		send_tp(tp, n);
	}
	T_CHECK(wait_delta(&s, C_NOQP, 10) == 10, name, "rx_drop_no_qp +%lld, want +10",
		since(&s, C_NOQP));
}

/* ---- UD QP and QP1 ----------------------------------------------------------- */

#define UD_SLOT	 2048
#define UD_SLOTS 32

static struct gmem udmem;
static struct ibv_cq *ud_cq;

static int ud_post(struct ibv_qp *qp, unsigned int slot, uint32_t len)
{
	struct ibv_sge sge = {
		.addr = (uintptr_t)udmem.buf + slot * UD_SLOT,
		.length = len,
		.lkey = udmem.mr->lkey,
	};
	struct ibv_recv_wr wr = {.wr_id = slot, .sg_list = &sge, .num_sge = 1}, *bad;

	return ibv_post_recv(qp, &wr, &bad);
}

static struct ibv_qp *ud_new(void)
{
	struct ibv_qp_cap cap = {
		.max_send_wr = 4, .max_recv_wr = 64, .max_send_sge = 1, .max_recv_sge = 1};
	struct ibv_qp_attr a = {.qp_state = IBV_QPS_INIT, .port_num = 1, .qkey = UD_QKEY};
	struct ibv_qp *qp;

	ud_cq = ibv_create_cq(devs[0].ctx, 256, NULL, NULL, 0);
	qp = ud_cq ? t_create_qp(pd, IBV_QPT_UD, ud_cq, NULL, &cap, NULL) : NULL;
	if (!qp ||
	    ibv_modify_qp(qp, &a, IBV_QP_STATE | IBV_QP_PKEY_INDEX | IBV_QP_PORT | IBV_QP_QKEY))
		return NULL;
	a.qp_state = IBV_QPS_RTR;
	if (ibv_modify_qp(qp, &a, IBV_QP_STATE))
		return NULL;
	a.qp_state = IBV_QPS_RTS;
	a.sq_psn = 1;
	if (ibv_modify_qp(qp, &a, IBV_QP_STATE | IBV_QP_SQ_PSN))
		return NULL;
	return qp;
}

static size_t ud_pkt(uint32_t dqpn, uint32_t qkey, const void *pay, size_t n)
{
	size_t len = mk(tp, OP_UD_SEND_ONLY, dqpn, 7, pay, n);

	tp[8] &= 0x7f;
	r_deth(tp + R_BTH, qkey, 0x4242);
	return len;
}

static void case_ud(struct ibv_qp *ud)
{
	const char *name = "ud";
	uint8_t pay[1024], tail[256];
	struct ibv_wc wc;
	struct snap s;
	int i;

	if (!t_want(name))
		return;
	t_fill(pay, sizeof(pay), 11);
	/* No receive posted: dropped and counted. */
	snap(&s);
	send_tp(tp, ud_pkt(ud->qp_num, UD_QKEY, pay, 100));
	T_CHECK(wait_delta(&s, C_NO_RWQE, 1) == 1, "ud_no_recv", "rx_drop_no_recv_wqe +%lld",
		since(&s, C_NO_RWQE));
	/* Wrong Q_Keys, the GSI one included. */
	T_REQUIRE(!ud_post(ud, 0, UD_SLOT), name, "post_recv");
	snap(&s);
	send_tp(tp, ud_pkt(ud->qp_num, UD_QKEY ^ 1, pay, 100));
	send_tp(tp, ud_pkt(ud->qp_num, GSI_QKEY, pay, 100));
	send_tp(tp, ud_pkt(ud->qp_num, 0, pay, 100));
	T_CHECK(wait_delta(&s, C_QKEY, 3) == 3, "ud_qkey", "rx_drop_bad_qkey +%lld, want +3",
		since(&s, C_QKEY));
	/* A datagram longer than the receive: LOC_LEN_ERR, the QP goes on. */
	memcpy(tail, udmem.buf + UD_SLOT + 60, sizeof(tail));
	T_REQUIRE(!ud_post(ud, 1, 60), name, "post_recv");
	send_tp(tp, ud_pkt(ud->qp_num, UD_QKEY, pay, 100));	/* into slot 0 */
	send_tp(tp, ud_pkt(ud->qp_num, UD_QKEY, pay, 100));	/* into slot 1: too small */
	send_tp(tp, ud_pkt(ud->qp_num, UD_QKEY, pay, mtu + 4)); /* over the MTU: dropped */
	T_REQUIRE(!t_poll_one(ud_cq, &wc, 2000) && wc.status == IBV_WC_SUCCESS && wc.wr_id == 0 &&
			  wc.byte_len == 140 && wc.src_qp == 0x4242,
		  name, "datagram completion: status %d len %u", wc.status, wc.byte_len);
	T_CHECK(!memcmp(udmem.buf + 40, pay, 100), name, "datagram data differs");
	T_REQUIRE(!t_poll_one(ud_cq, &wc, 2000) && wc.status == IBV_WC_LOC_LEN_ERR && wc.wr_id == 1,
		  "ud_short_recv", "completion status %d, want LOC_LEN_ERR", wc.status);
	T_CHECK(!memcmp(udmem.buf + UD_SLOT + 60, tail, sizeof(tail)), "ud_short_recv",
		"bytes past a short receive changed");
	for (i = 2; i < UD_SLOTS; i++)
		T_REQUIRE(!ud_post(ud, i, UD_SLOT), name, "post_recv");
	T_CHECK(t_qp_state(ud) == IBV_QPS_RTS && gmem_canaries_ok(&udmem), name,
		"UD QP left RTS or canaries changed");
}

/* QP1: wrong Q_Keys counted; malformed MADs for ib_mad to reject. */
static void case_qp1(void)
{
	const char *name = "qp1";
	uint8_t mad[256];
	struct snap s;
	int i;

	if (!t_want(name))
		return;
	snap(&s);
	for (i = 0; i < 4; i++) {
		t_fill(mad, sizeof(mad), i);
		send_tp(tp, ud_pkt(1, UD_QKEY + i, mad, sizeof(mad)));
	}
	T_CHECK(wait_delta(&s, C_QKEY, 4) == 4, "qp1_qkey", "rx_drop_bad_qkey +%lld, want +4",
		since(&s, C_QKEY));
	snap(&s);
	for (i = 0; i < 64; i++) {
		t_fill(mad, sizeof(mad), 100 + i);
		mad[0] = i & 1 ? 1 : mad[0];					 /* base version */
		mad[1] = (uint8_t[]){1, 3, 4, 7, 0x81, 0x0a, 0x10, 0x2c}[i % 8]; /* class */
		mad[2] = i & 3 ? 1 : 2;						 /* class version */
		mad[3] = (uint8_t[]){1, 2, 3, 0x81, 5, 6, 7, 0x15}[i / 8 % 8];	 /* method */
		send_tp(tp, ud_pkt(1, GSI_QKEY, mad, i % 3 ? sizeof(mad) : (size_t)(i * 3)));
	}
	T_CHECK(wait_delta(&s, C_RX, 64) >= 64, name, "rx_packets +%lld, want +64",
		since(&s, C_RX));
}

/* ---- the live pair ----------------------------------------------------- */

static struct t_pair live;
static struct gmem live_a, live_b;

/*
 * Right after connecting (A expects PSN 0x123): packets that look like
 * B's but must change nothing: future and old PSNs, a bad ICRC at the
 * right PSN, a bad P_Key, responses A did not ask for.
 */
static void case_live_interference(void)
{
	const char *name = "live_interference";
	uint8_t pay[64], *dst = live_a.buf + 48 * 1024;
	uint32_t qpn = live.a.qp->qp_num, rkey = live.a.mr->rkey;
	struct r_frame f;
	struct snap s;
	size_t n;
	int i;

	if (!t_want(name))
		return;
	t_fill(pay, sizeof(pay), 8);
	snap(&s);
	for (i = 0; i < 4; i++) {
		static const uint32_t d[] = {0x400000, 0xc00000, 0xffffff, 1};

		n = mk(tp, OP_WRITE_ONLY, qpn, (0x123 + d[i]) & 0xffffff, pay, 64);
		set_reth(tp, (uintptr_t)dst, rkey, 64);
		send_tp(tp, n);
	}
	n = mk(tp, OP_WRITE_ONLY, qpn, 0x123, pay, 64);
	set_reth(tp, (uintptr_t)dst, rkey, 64);
	r_frame_build(&f, &path, tp, n, 1);
	f.b[f.len - 2] ^= 4;
	r_send(&lnk, &f);
	tp[2] = 0x12;
	send_tp(tp, n);
	n = mk(tp, OP_READ_RESP_ONLY, qpn, 0x123, pay, 64);
	send_tp(tp, n);
	n = mk(tp, OP_ACK, qpn, 0x122, NULL, 0);
	send_tp(tp, n);
	wait_delta(&s, C_ICRC, 1);
	T_CHECK(since(&s, C_ICRC) == 1 && since(&s, C_PKEY) == 1 && since(&s, C_DUP) == 2 &&
			wait_delta(&s, C_SEQ_NAK, 1) == 1,
		name, "icrc +%lld pkey +%lld dup +%lld seq_nak +%lld, want 1 1 2 1",
		since(&s, C_ICRC), since(&s, C_PKEY), since(&s, C_DUP), since(&s, C_SEQ_NAK));
	T_CHECK(all_zero(dst, 16 * 1024), name, "an interfering WRITE changed the live buffer");
	T_CHECK(t_qp_state(live.a.qp) == IBV_QPS_RTS, name, "live QP left RTS");
}

/* The live pair moves data byte-exact both ways; its canaries are intact. */
static void check_live(void)
{
	const char *name = "live_pair_after";
	uint8_t *a = live.a.buf, *b = live.b.buf;
	struct ibv_wc wc;
	int st;

	if (!t_want(name))
		return;
	T_REQUIRE(t_qp_state(live.a.qp) == IBV_QPS_RTS && t_qp_state(live.b.qp) == IBV_QPS_RTS,
		  name, "live QPs not in RTS: %d %d", t_qp_state(live.a.qp), t_qp_state(live.b.qp));
	t_fill(a, 32768, 21);
	st = t_xfer(&live.a, IBV_WR_RDMA_WRITE, a, 32768, live.a.mr->lkey, (uintptr_t)b,
		    live.b.mr->rkey, 0, 0);
	T_REQUIRE(st == IBV_WC_SUCCESS && !memcmp(a, b, 32768), name, "WRITE A->B: %d", st);
	t_fill(b + 32768, 8192, 22);
	st = t_xfer(&live.a, IBV_WR_RDMA_READ, a + 32768, 8192, live.a.mr->lkey,
		    (uintptr_t)b + 32768, live.b.mr->rkey, 0, 0);
	T_REQUIRE(st == IBV_WC_SUCCESS && !memcmp(a + 32768, b + 32768, 8192), name,
		  "READ A<-B: %d", st);
	T_REQUIRE(!t_post_recv(&live.a, 9, 40960, 4096), name, "post_recv");
	t_fill(b + 40960, 3000, 23);
	st = t_xfer(&live.b, IBV_WR_SEND, b + 40960, 3000, live.b.mr->lkey, 0, 0, 0, 0);
	T_REQUIRE(st == IBV_WC_SUCCESS && !t_poll_one(live.a.cq, &wc, 2000) &&
			  wc.status == IBV_WC_SUCCESS && wc.byte_len == 3000 &&
			  !memcmp(a + 40960, b + 40960, 3000),
		  name, "SEND B->A: %d", st);
	/* The part nobody wrote still holds its fill (interference WRITEs). */
	T_REQUIRE(all_zero(a + 48 * 1024, 16 * 1024), name, "bytes nobody sent changed");
	T_CHECK(gmem_canaries_ok(&live_a) && gmem_canaries_ok(&live_b), name,
		"canaries around the live buffers changed");
}

/* ---- seeded random mutations ------------------------------------------------ */

static uint64_t rng_state;

static uint32_t rnd(void)
{
	/* xorshift64* */
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return (uint32_t)((rng_state * 0x2545f4914f6cdd1dull) >> 32);
}

struct qpset {
	uint32_t qpn[4];
	int ud[4];
	int n;
};

/*
 * What the device's receive path does with transport bytes @t[@n] (ICRC
 * included) before any QP sees them, as recv.c's checks in order: -1 if
 * it never reaches the device (no room for a BTH), else the counter of
 * the drop or C_RX for a packet queued on a QP.
 */
static int classify(const uint8_t *t, size_t n, const struct qpset *qs)
{
	const struct r_op *op;
	uint32_t qpn;
	size_t h;
	int i;

	if (n < R_BTH)
		return -1;
	op = r_op(t[0]);
	if (!op || (t[1] & 0x0f))
		return C_HDR;
	h = r_hdr_len(t[0]);
	if (n < h + ((t[1] >> 4) & 3) + R_ICRC ||
	    (!(op->hdrs & H_PAYLOAD) && n != h + ((t[1] >> 4) & 3) + R_ICRC))
		return C_HDR;
	if (((t[2] << 8 | t[3]) & 0x7fff) != 0x7fff)
		return C_PKEY;
	qpn = r_get32(t + 4) & 0xffffff;
	for (i = 0; i < qs->n; i++)
		if (qs->qpn[i] == qpn)
			break;
	if (i == qs->n)
		return C_NOQP;
	/* Each QP takes its own transport's opcodes (RC 0x00, UC 0x20, UD 0x60). */
	if ((t[0] & 0xe0) != (qs->ud[i] ? 0x60 : 0x00))
		return C_TRANSPORT;
	return C_RX;
}

/* A valid packet of a random kind for one of the QPs; *@to_live: for the live QP. */
static size_t template(struct victim *v, struct ibv_qp *ud, int *to_live)
{
	static const uint8_t rc_ops[] = {
		OP_SEND_FIRST,	   OP_SEND_MIDDLE,     OP_SEND_LAST,
		OP_SEND_LAST_IMM,  OP_SEND_ONLY,       OP_SEND_ONLY_IMM,
		OP_WRITE_FIRST,	   OP_WRITE_MIDDLE,    OP_WRITE_LAST,
		OP_WRITE_LAST_IMM, OP_WRITE_ONLY,      OP_WRITE_ONLY_IMM,
		OP_READ_REQ,	   OP_READ_RESP_FIRST, OP_READ_RESP_MIDDLE,
		OP_READ_RESP_LAST, OP_READ_RESP_ONLY,  OP_ACK,
		OP_ATOMIC_ACK,	   OP_CMP_SWAP,	       OP_FETCH_ADD,
		OP_SEND_LAST_INV,  OP_SEND_ONLY_INV,
	};
	uint32_t kind = rnd() % 16, psn, paylen, qpn = v->qp->qp_num;
	uint8_t op, pay[1024];
	size_t n, i;

	*to_live = 0;
	for (i = 0; i < 64; i++)
		pay[i] = rnd();
	if (kind == 0) {
		n = ud_pkt(ud->qp_num, UD_QKEY, pay, rnd() % 200);
		if (rnd() & 1)
			tp[0] = OP_UD_SEND_ONLY_IMM; /* the first payload word is the immediate */
		return n;
	}
	if (kind == 1) {
		pay[0] = 1;
		pay[1] = (uint8_t[]){1, 3, 4, 7}[rnd() % 4];
		return ud_pkt(1, GSI_QKEY, pay, 256);
	}
	if (kind == 2) {
		*to_live = 1;
		qpn = live.a.qp->qp_num;
	}
	op = rc_ops[rnd() % sizeof(rc_ops)];
	psn = (rnd() & 7) ? (V_RQ_PSN + rnd() % 8) & 0xffffff : rnd();
	if (op >= OP_READ_RESP_FIRST && op <= OP_ATOMIC_ACK)
		psn = (V_SQ_PSN + rnd() % 4) & 0xffffff;
	paylen = (op == OP_WRITE_FIRST || op == OP_WRITE_MIDDLE || op == OP_SEND_FIRST ||
		  op == OP_SEND_MIDDLE || op == OP_READ_RESP_FIRST || op == OP_READ_RESP_MIDDLE)
			 ? (uint32_t)mtu
			 : rnd() % 96;
	if (!(r_op(op)->hdrs & H_PAYLOAD))
		paylen = 0;
	n = mk(tp, op, qpn, psn, pay, paylen);
	if (r_hdr_off(op, H_RETH))
		set_reth(tp, (uintptr_t)scratch.buf + rnd() % MR_LEN, scratch.mr->rkey,
			 (rnd() & 3) ? paylen : rnd() % (4 * mtu));
	if (r_hdr_off(op, H_ATMETH))
		r_atmeth(tp + R_BTH, (uintptr_t)scratch.buf + (rnd() % MR_LEN & ~7u),
			 scratch.mr->rkey, rnd(), rnd());
	if (r_hdr_off(op, H_AETH))
		r_aeth(tp + r_hdr_off(op, H_AETH), rnd() & 1 ? 0x1f : rnd(), rnd());
	if (r_hdr_off(op, H_IETH))
		r_put32(tp + r_hdr_off(op, H_IETH), rnd());
	return n;
}

static void mutate(struct r_frame *f)
{
	size_t tpl = f->len - R_IP - R_UDP, i, k, nmut = 1 + rnd() % 3;
	uint8_t *t = r_tp(f);

	for (i = 0; i < nmut; i++) {
		switch (rnd() % 8) {
		case 0:
		case 1:
			t[rnd() % tpl] ^= 1 << (rnd() % 8);
			break;
		case 2:
			t[rnd() % tpl] = rnd();
			break;
		case 3:
			t[0] = rnd();
			break;
		case 4: /* truncate */
			tpl = 4 + rnd() % tpl;
			if (tpl > f->len - R_IP - R_UDP)
				tpl = f->len - R_IP - R_UDP;
			break;
		case 5: /* extend */
			k = rnd() % 64;
			if (R_IP + R_UDP + tpl + k < 1400) {
				for (; k; k--)
					t[tpl++] = rnd();
			}
			break;
		case 6:
			t[1] = (t[1] & 0xcf) | (rnd() % 4) << 4; /* pad count */
			break;
		default:
			r_put32(t + 8, rnd()); /* AckReq + PSN */
			break;
		}
	}
	f->len = R_IP + R_UDP + tpl;
	r_frame_fix_lengths(f);
}

static void case_random(struct ibv_qp *ud, unsigned long count, uint64_t seed)
{
	const char *name = "random";
	long long want[C_NR] = {0}, counted = 0, peer_tx0;
	struct victim v;
	struct qpset qs;
	struct r_frame f;
	struct snap s;
	struct ibv_wc wc[64];
	unsigned long i, recreated = 0;
	int live_tgt, c, j, nwc, dead = 0;
	double t0 = t_now_ms();

	if (!t_want(name))
		return;
	rng_state = seed ? seed : 1;
	printf("# random: %lu packets, seed %" PRIu64 " (reproduce with --seed %" PRIu64 ")\n",
	       count, seed, seed);
	T_REQUIRE(!victim_new(&v), name, "victim QP: %s", strerror(errno));
	peer_tx0 = t_hw_counter(devs[1].name, "tx_packets");
	snap(&s);
	for (i = 0; i < count; i++) {
		if (i % 64 == 0) {
			/* Keep a victim alive; hand receives back to both QPs. */
			if (t_qp_state(v.qp) != IBV_QPS_RTS) {
				victim_free(&v);
				T_REQUIRE(!victim_new(&v), name, "victim QP: %s", strerror(errno));
				recreated++;
			}
			while ((nwc = ibv_poll_cq(v.cq, 64, wc)) > 0)
				;
			for (j = 0; j < 8; j++) {
				struct ibv_sge sge = {(uintptr_t)scratch.buf + j * 4096, 4096,
						      scratch.mr->lkey};
				struct ibv_recv_wr wr = {.sg_list = &sge, .num_sge = 1}, *bad;

				if (ibv_post_recv(v.qp, &wr, &bad))
					break;
			}
			while ((nwc = ibv_poll_cq(ud_cq, 64, wc)) > 0)
				for (j = 0; j < nwc; j++)
					ud_post(ud, wc[j].wr_id, UD_SLOT);
			qs.n = 0;
			qs.qpn[qs.n] = v.qp->qp_num, qs.ud[qs.n++] = 0;
			qs.qpn[qs.n] = live.a.qp->qp_num, qs.ud[qs.n++] = 0;
			qs.qpn[qs.n] = ud->qp_num, qs.ud[qs.n++] = 1;
			qs.qpn[qs.n] = 1, qs.ud[qs.n++] = 1;
		}
		r_frame_build(&f, &path, tp, template(&v, ud, &live_tgt), 1);
		mutate(&f);
		/*
		 * Mostly a correct ICRC over the mutation; the live QP never
		 * gets one, whatever the mutation made of the destination.
		 */
		if ((r_get32(r_tp(&f) + 4) & 0xffffff) == live.a.qp->qp_num)
			live_tgt = 1;
		if (f.len >= R_IP + R_UDP + R_BTH + R_ICRC && (rnd() % 4 || live_tgt)) {
			r_frame_fix_icrc(&f);
			if (live_tgt)
				f.b[f.len - 1 - rnd() % 4] ^= 1 << (rnd() % 8);
		}
		c = classify(r_tp(&f), f.len - R_IP - R_UDP, &qs);
		if (c >= 0) {
			counted++;
			want[c]++;
		}
		if (r_send(&lnk, &f)) {
			t_result(0, name, "send failed at packet %lu", i);
			dead = 1;
			break;
		}
		/* Pace: let the device see a batch before the next one. */
		if (i % 512 == 511 && wait_delta(&s, C_RX, counted) < counted) {
			t_result(0, name, "packet %lu: rx_packets +%lld, want +%lld", i,
				 since(&s, C_RX), counted);
			dead = 1;
			break;
		}
	}
	if (!dead) {
		long long extra;

		wait_delta(&s, C_RX, counted);
		t_hw_counters_settle();
		extra = since(&s, C_RX) - counted;
		/* The only other sender to this device is the peer's ib_mad. */
		T_CHECK(extra >= 0 && extra <= t_hw_counter(devs[1].name, "tx_packets") - peer_tx0,
			"random_rx", "rx_packets +%lld, want +%lld", since(&s, C_RX), counted);
		for (c = C_HDR; c <= C_TRANSPORT; c++) {
			if (c == C_ICRC || c == C_STATE || c == C_QFULL)
				continue;
			T_CHECK(since(&s, c) == want[c], name, "%s +%lld, model says +%lld",
				cnames[c], since(&s, c), want[c]);
		}
		printf("# random: %lu packets in %.1f s, %lld reached QPs, %lld icrc, %lld state, "
		       "%lld qkey, %lld no_rwqe, %lld qfull drops, %lu victims\n",
		       i, (t_now_ms() - t0) / 1000, want[C_RX], since(&s, C_ICRC),
		       since(&s, C_STATE), since(&s, C_QKEY), since(&s, C_NO_RWQE),
		       since(&s, C_QFULL), recreated + 1);
		T_CHECK(gmem_canaries_ok(&scratch) && gmem_canaries_ok(&udmem) &&
				gmem_canaries_ok(&mem_pin) && gmem_canaries_ok(&mem_odp),
			"random_canaries", "a canary page next to an MR changed");
	}
	victim_free(&v);
}

/* ---- main ------------------------------------------------------------------- */

/*
 * --icrc-check FILE: the ICRC of every IPv4 packet of FILE (hex, one per
 * line, IP header through ICRC; tests/data/rxe-roce-packets.txt) as this
 * program computes it equals the one on the wire.
 */
static int icrc_check(const char *file)
{
	char line[20000];
	struct r_frame f;
	unsigned int ok = 0, bad = 0, b;
	size_t i;
	FILE *in = fopen(file, "r");

	if (!in) {
		fprintf(stderr, "fuzz: %s: %s\n", file, strerror(errno));
		return T_EXIT_FAIL;
	}
	while (fgets(line, sizeof(line), in)) {
		if (line[0] != '4')
			continue; /* comments, IPv6 */
		for (i = 0; i < sizeof(f.b) && sscanf(line + 2 * i, "%2x", &b) == 1; i++)
			f.b[i] = b;
		f.len = i;
		if (f.len < R_IP + R_UDP + R_BTH + R_ICRC)
			continue;
		b = r_icrc(&f, f.len - R_IP - R_UDP - R_ICRC);
		if (f.b[f.len - 4] == (b & 0xff) && f.b[f.len - 3] == (b >> 8 & 0xff) &&
		    f.b[f.len - 2] == (b >> 16 & 0xff) && f.b[f.len - 1] == b >> 24)
			ok++;
		else
			bad++;
	}
	fclose(in);
	printf("icrc-check: %u packets match, %u differ\n", ok, bad);
	return ok && !bad ? T_EXIT_PASS : T_EXIT_FAIL;
}

static int read_mac(const char *dev, uint8_t mac[6])
{
	char path_[256], ndev[64] = "";
	FILE *f;
	int ret;

	snprintf(path_, sizeof(path_), "/sys/class/infiniband/%s/ports/1/gid_attrs/ndevs/0", dev);
	f = fopen(path_, "r");
	if (!f || fscanf(f, "%63s", ndev) != 1) {
		if (f)
			fclose(f);
		return -1;
	}
	fclose(f);
	snprintf(path_, sizeof(path_), "/sys/class/net/%s/address", ndev);
	f = fopen(path_, "r");
	if (!f)
		return -1;
	ret = fscanf(f, "%hhx:%hhx:%hhx:%hhx:%hhx:%hhx", &mac[0], &mac[1], &mac[2], &mac[3],
		     &mac[4], &mac[5]) == 6
		      ? 0
		      : -1;
	fclose(f);
	return ret;
}

static int setup_mrs(void)
{
	struct ibv_pd *pd2 = ibv_alloc_pd(devs[0].ctx);
	struct ibv_mr *mr;
	void *p;

	if (!pd2 || gmem_new(&mem_pin, MR_LEN, 0, 1000) ||
	    gmem_new(&mem_odp, MR_LEN, devs[0].odp_ok, 2000) ||
	    gmem_new(&scratch, MR_LEN, devs[0].odp_ok, 3000) || gmem_new(&udmem, MR_LEN, 0, 4000))
		return -1;
	/* A key that was valid once. */
	p = t_map(PAGE);
	mr = p ? ibv_reg_mr(pd, p, PAGE, T_MR_ACCESS) : NULL;
	if (!mr)
		return -1;
	key_dead = mr->rkey, base_dead = (uintptr_t)p;
	ibv_dereg_mr(mr);
	/* Another PD's region, one without remote rights. */
	p = t_map(PAGE);
	mr = p ? ibv_reg_mr(pd2, p, PAGE, T_MR_ACCESS) : NULL;
	if (!mr)
		return -1;
	key_other_pd = mr->rkey, base_other_pd = (uintptr_t)p;
	p = t_map(PAGE);
	mr = p ? ibv_reg_mr(pd, p, PAGE, IBV_ACCESS_LOCAL_WRITE) : NULL;
	if (!mr)
		return -1;
	key_no_rights = mr->rkey, base_no_rights = (uintptr_t)p;
	/* An ODP region whose memory is gone. */
	if (devs[0].odp_ok) {
		p = t_map(PAGE);
		mr = p ? ibv_reg_mr(pd, p, PAGE, T_MR_ACCESS | IBV_ACCESS_ON_DEMAND) : NULL;
		if (!mr)
			return -1;
		key_unmapped = mr->rkey, base_unmapped = (uintptr_t)p;
		/*
		 * The memory goes; a PROT_NONE mapping keeps the address
		 * from being reused by a later mmap (an ODP region follows
		 * whatever is mapped at its addresses).
		 */
		if (mmap(p, PAGE, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0) != p)
			return -1;
		mr = ibv_reg_mr(pd, NULL, SIZE_MAX, T_MR_ACCESS | IBV_ACCESS_ON_DEMAND);
		if (mr)
			key_implicit = mr->rkey;
	}
	return 0;
}

int main(int argc, char **argv)
{
	static const struct option lopts[] = {
		{"count", required_argument, NULL, 'c'},
		{"seed", required_argument, NULL, 's'},
		{"filter", required_argument, NULL, 'f'},
		{"help", no_argument, NULL, 'h'},
		{"icrc-check", required_argument, NULL, 'I'},
		{NULL, 0, NULL, 0},
	};
	const char *dev = "sodp0", *peer = "sodp1", *netns = "fuzzns", *ifname = "v1";
	unsigned long count = 100000;
	uint64_t seed = 0;
	struct t_side_opts oa = {0}, ob = {0};
	struct ibv_qp *ud;
	uint8_t mac[6];
	char *end;
	int opt, seeded = 0;
	unsigned int i;

	opterr = 0;
	while ((opt = getopt_long(argc, argv, "d:D:n:i:c:s:f:h", lopts, NULL)) != -1) {
		switch (opt) {
		case 'd':
			dev = optarg;
			break;
		case 'D':
			peer = optarg;
			break;
		case 'n':
			netns = optarg;
			break;
		case 'i':
			ifname = optarg;
			break;
		case 'c':
			count = strtoul(optarg, &end, 0);
			if (*end || !*optarg) {
				fprintf(stderr, "fuzz: --count wants a number, not '%s'\n", optarg);
				return T_EXIT_USAGE;
			}
			break;
		case 's':
			seed = strtoull(optarg, &end, 0);
			if (*end || !*optarg) {
				fprintf(stderr, "fuzz: --seed wants a number, not '%s'\n", optarg);
				return T_EXIT_USAGE;
			}
			seeded = 1;
			break;
		case 'f':
			t_set_filter(optarg);
			break;
		case 'h':
			printf("Usage: %s\n", usage);
			return 0;
		case 'I':
			return icrc_check(optarg);
		default:
			fprintf(stderr, "fuzz: unknown option '%s' (see --help)\n",
				argv[optind - 1]);
			return T_EXIT_USAGE;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "fuzz: unexpected argument '%s' (see --help)\n", argv[optind]);
		return T_EXIT_USAGE;
	}
	if (!seeded)
		seed = (uint64_t)time(NULL) ^ ((uint64_t)getpid() << 32);
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (t_open_dev(&devs[0], dev, 0) || t_open_dev(&devs[1], peer, 0)) {
		fprintf(stderr, "fuzz: cannot open %s and %s with RoCEv2 IPv4 GIDs\n", dev, peer);
		return T_EXIT_FAIL;
	}
	if (read_mac(dev, mac)) {
		fprintf(stderr, "fuzz: no netdev MAC for %s\n", dev);
		return T_EXIT_FAIL;
	}
	if (r_link_open(&lnk, netns, ifname, mac))
		return T_EXIT_FAIL;
	memcpy(&path.saddr, &devs[1].gid.raw[12], 4);
	memcpy(&path.daddr, &devs[0].gid.raw[12], 4);
	path.sport = 0xc123;
	mtu_enum = t_min_mtu(&devs[0], &devs[1]);
	mtu = t_mtu_bytes(mtu_enum);
	pd = ibv_alloc_pd(devs[0].ctx);
	if (!pd || setup_mrs()) {
		fprintf(stderr, "fuzz: memory regions: %s\n", strerror(errno));
		return T_EXIT_FAIL;
	}
	/* The live pair: A on the target, B on the peer, buffers between canaries. */
	if (gmem_new(&live_a, MR_LEN, 0, 5000) || gmem_new(&live_b, MR_LEN, 0, 6000)) {
		fprintf(stderr, "fuzz: live buffers: %s\n", strerror(errno));
		return T_EXIT_FAIL;
	}
	oa.buf = live_a.buf, oa.len = MR_LEN;
	ob.buf = live_b.buf, ob.len = MR_LEN;
	if (t_pair_init(&live, devs, &oa, &ob, mtu_enum, 7)) {
		fprintf(stderr, "fuzz: live QP pair: %s\n", strerror(errno));
		return T_EXIT_FAIL;
	}
	ud = ud_new();
	if (!ud) {
		fprintf(stderr, "fuzz: UD QP: %s\n", strerror(errno));
		return T_EXIT_FAIL;
	}
	printf("# target %s (%s), peer %s, frames from %s in %s, path MTU %d, odp %d\n", dev,
	       inet_ntoa(*(struct in_addr *)&path.daddr), peer, ifname, netns, mtu, devs[0].odp_ok);

	case_live_interference();
	case_valid();
	case_headers(ud);
	case_pkey();
	case_icrc();
	case_lengths();
	case_psn();
	for (i = 0; i < sizeof(fcases) / sizeof(fcases[0]); i++)
		run_fcase(&fcases[i]);
	case_send_inv();
	case_responses();
	case_destroyed();
	case_ud(ud);
	case_qp1();
	case_random(ud, count, seed);
	check_live();
	printf("# %lu frames sent\n", lnk.sent);
	return t_summary();
}
