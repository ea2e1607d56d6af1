// SPDX-License-Identifier: GPL-2.0
/*
 * implicit - implicit ODP memory regions of a softodp device, end to end.
 *
 * Usage: implicit [--help] [-v] [-n NETNS] [-t TEST] DEVICE [PEER_DEVICE]
 *
 * One implicit MR per process (ibv_reg_mr(pd, NULL, SIZE_MAX,
 * IBV_ACCESS_ON_DEMAND | ...)) serves every buffer: memory allocated after
 * the registration with malloc, mmap and on a thread's stack, used through
 * the implicit lkey in local SGEs and the implicit rkey at remote addresses.
 * Every RC opcode runs in loopback on DEVICE (both QPs in one process, one
 * MR for both ends) and, with PEER_DEVICE, between two processes: this one
 * on DEVICE and a child on PEER_DEVICE, optionally entered into network
 * namespace NETNS (a path such as /var/run/netns/NAME) before it opens the
 * device; they exchange QP numbers, GIDs, rkeys and addresses over a unix
 * socket pair.  Also: munmap holes, fork, invalid registrations and 10 000
 * pages over a 1 TiB reservation with the MR's kernel memory
 * (odp_kmem_bytes in `rdma resource show mr -dd`).  -t runs the tests whose
 * name contains TEST; -v shows the counters (rdma resource/statistic, hw
 * counters) in the middle of the fork test.  Prints PASS/FAIL lines and
 * "N passed, N failed" (common.h).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <pthread.h>
#include <sched.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common.h"

#define ODP_RW                                                                                     \
	(IBV_ACCESS_ON_DEMAND | IBV_ACCESS_LOCAL_WRITE | IBV_ACCESS_REMOTE_WRITE |                 \
	 IBV_ACCESS_REMOTE_READ | IBV_ACCESS_REMOTE_ATOMIC)

/* Transfer sizes: several pages, odd, so every copy crosses page borders. */
#define XFER_LEN (3 * 4096 + 5)
#define SEND_LEN 5000
#define BUF_LEN	 (64 * 1024)
#define ATOM0	 0x1111222233334444ULL
#define ATOM1	 0x5555666677778888ULL
#define ADD	 0x10001ULL

static const char *devname;
static int verbose;
static long page_size;

/* A device with one PD for everything: the implicit MR and the QPs. */
struct ctx {
	struct t_dev d;
	struct ibv_pd *pd;
};

/* ---- device, counters, advise_mr ------------------------------------- */

static int open_dev(struct ctx *c, const char *name)
{
	memset(c, 0, sizeof(*c));
	if (t_open_dev(&c->d, name, 0))
		return ENODEV;
	c->pd = ibv_alloc_pd(c->d.ctx);
	return c->pd ? 0 : errno;
}

static void close_dev(struct ctx *c)
{
	if (c->pd)
		ibv_dealloc_pd(c->pd);
	t_close_dev(&c->d);
}

static struct ibv_mr *reg_implicit(struct ctx *c)
{
	return ibv_reg_mr(c->pd, NULL, SIZE_MAX, ODP_RW);
}

/* Driver attribute @name of the MR with @lkey (`rdma resource show mr -dd`). */
static long long mr_attr(uint32_t lkey, const char *name)
{
	return t_mr_attr(devname, lkey, name);
}

static int prefetch_write(struct ctx *c, void *addr, size_t len, uint32_t lkey)
{
	return t_advise(c->pd, IB_UVERBS_ADVISE_MR_ADVICE_PREFETCH_WRITE,
			IB_UVERBS_ADVISE_MR_FLAG_FLUSH, addr, len, lkey);
}

/* ---- RC QPs: endpoints (struct t_side) and loopback pairs of common.h ---- */

/* A QP with its CQ in the device's PD, no buffer. */
static int qp_create(struct ctx *c, struct t_side *q)
{
	struct t_side_opts o = {.pd = c->pd};

	return t_side_init(q, &c->d, &o) ? errno : 0;
}

static int qp_connect(struct t_side *q, uint32_t dqpn, const union ibv_gid *dgid)
{
	return t_connect_qp(q->qp, q->dev->gid_index, dgid, dqpn, IBV_MTU_1024, 7);
}

/* Two QPs of one device connected to each other. */
static int pair_open(struct ctx *c, struct t_pair *p)
{
	struct t_side_opts o = {.pd = c->pd};

	return t_pair_loop(p, &c->d, &o, IBV_MTU_1024, 7) ? errno : 0;
}

static int post_recv(struct t_side *q, void *buf, size_t len, uint32_t lkey)
{
	struct ibv_sge sge = {.addr = (uintptr_t)buf, .length = len, .lkey = lkey};
	struct ibv_recv_wr wr = {.wr_id = 7, .sg_list = &sge, .num_sge = 1}, *bad;

	return ibv_post_recv(q->qp, &wr, &bad) ? errno : 0;
}

/* ---- every RC opcode on implicit MRs: target and initiator ----------- */

/* What each end tells the other over the socket. */
struct hello {
	uint32_t qpn;
	uint32_t rkey;
	union ibv_gid gid;
	/* The target's buffers, all allocated after its registration. */
	uint64_t heap, map, stack, atom;
};

struct verdict {
	int ok;
	char msg[200];
};

struct role {
	struct ctx *c;
	struct ibv_mr *mr;
	int fd;
	int ret;
};

/* All of @len bytes to (@out) or from @fd; 0 or -1. */
static int xio(int fd, void *buf, size_t len, int out)
{
	char *p = buf;
	ssize_t n;

	while (len) {
		n = out ? write(fd, p, len) : read(fd, p, len);
		if (n <= 0)
			return -1;
		p += n;
		len -= n;
	}
	return 0;
}

static int xwrite(int fd, const void *buf, size_t len)
{
	return xio(fd, (void *)buf, len, 1);
}

static int xread(int fd, void *buf, size_t len)
{
	return xio(fd, buf, len, 0);
}

/* What each end owns besides its stack: heap and mapped buffers, a QP. */
struct end {
	struct t_side q;
	char *heap, *map;
};

static int end_open(struct role *r, struct end *e)
{
	e->heap = malloc(BUF_LEN);
	e->map = t_map_pages(BUF_LEN / page_size);
	return !e->heap || !e->map || qp_create(r->c, &e->q) ? -1 : 0;
}

static void end_close(struct end *e)
{
	t_side_fini(&e->q);
	free(e->heap);
	if (e->map)
		munmap(e->map, BUF_LEN);
}

/*
 * The target end: buffers on the heap, in a fresh mapping and on this
 * thread's stack; a RECV into the stack buffer; after the initiator is
 * done, checks the SEND payload and the atomic word and sends a verdict.
 */
static void *target_main(void *arg)
{
	struct role *r = arg;
	struct verdict v = {.ok = 1};
	char stack_buf[2 * SEND_LEN];
	struct hello me = {0}, peer;
	struct end e = {0};
	struct t_side *q = &e.q;
	uint64_t *atom;
	struct ibv_wc wc;
	char *heap, *map;
	int ret;

	r->ret = 1;
	if (end_open(r, &e))
		goto out;
	heap = e.heap;
	map = e.map;
	memset(heap, 0, BUF_LEN);
	memset(stack_buf, 0, sizeof(stack_buf));
	atom = (uint64_t *)(map + BUF_LEN - 64);
	*atom = ATOM0;
	me.qpn = q->qp->qp_num;
	me.rkey = r->mr->rkey;
	me.gid = r->c->d.gid;
	me.heap = (uintptr_t)heap;
	me.map = (uintptr_t)map;
	me.stack = (uintptr_t)stack_buf;
	me.atom = (uintptr_t)atom;
	if (xwrite(r->fd, &me, sizeof(me)) || xread(r->fd, &peer, sizeof(peer)))
		goto out;
	if (qp_connect(q, peer.qpn, &peer.gid) ||
	    post_recv(q, stack_buf, sizeof(stack_buf), r->mr->lkey)) {
		v.ok = 0;
		snprintf(v.msg, sizeof(v.msg), "target connect/post_recv: %s", strerror(errno));
	}
	if (xwrite(r->fd, &v, sizeof(v)) || xread(r->fd, &v, sizeof(v)))
		goto out;
	/* The initiator has finished: check what arrived. */
	ret = t_wait_wc(q->cq, &wc, T_POLL_MS);
	if (ret != IBV_WC_SUCCESS || wc.opcode != IBV_WC_RECV || wc.byte_len != SEND_LEN) {
		v.ok = 0;
		snprintf(v.msg, sizeof(v.msg), "RECV completion: status %d opcode %d len %u", ret,
			 wc.opcode, wc.byte_len);
	} else if (!t_is_fill(stack_buf, SEND_LEN, 3)) {
		v.ok = 0;
		snprintf(v.msg, sizeof(v.msg), "SEND payload in the stack buffer differs");
	} else if (*atom != ATOM1 + ADD) {
		v.ok = 0;
		snprintf(v.msg, sizeof(v.msg), "atomic word 0x%llx, want 0x%llx",
			 (unsigned long long)*atom, (unsigned long long)(ATOM1 + ADD));
	} else {
		v.ok = 1;
		snprintf(v.msg, sizeof(v.msg), "ok");
	}
	if (!xwrite(r->fd, &v, sizeof(v)))
		r->ret = 0;
out:
	end_close(&e);
	return NULL;
}

/*
 * The initiator end: its own buffers on the heap, in a mapping and on
 * this thread's stack, every opcode against the target's buffers, each
 * checked byte for byte; the target's verdict last.  @tag names the mode.
 */
struct initiator {
	struct role r;
	const char *tag;
};

/* PASS or FAIL "@tag @what". */
static void tagged(const struct initiator *in, const char *what, int ok, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
static void tagged(const struct initiator *in, const char *what, int ok, const char *fmt, ...)
{
	char name[128];
	va_list ap;

	snprintf(name, sizeof(name), "%s %s", in->tag, what);
	va_start(ap, fmt);
	t_vresult(ok, name, fmt, ap);
	va_end(ap);
}

static void *initiator_main(void *arg)
{
	struct initiator *in = arg;
	struct role *r = &in->r;
	char stack_buf[2 * XFER_LEN];
	uint32_t lkey = r->mr->lkey;
	struct hello me = {0}, t;
	struct verdict v;
	struct end e = {0};
	struct t_side *q = &e.q;
	char *heap, *map;
	uint64_t *res;
	int ret, ok;

	r->ret = 1;
	if (end_open(r, &e))
		goto out;
	heap = e.heap;
	map = e.map;
	me.qpn = q->qp->qp_num;
	me.gid = r->c->d.gid;
	if (xwrite(r->fd, &me, sizeof(me)) || xread(r->fd, &t, sizeof(t)))
		goto out;
	ret = qp_connect(q, t.qpn, &t.gid);
	if (xread(r->fd, &v, sizeof(v)))
		goto out;
	tagged(in, "connect", !ret && v.ok, "initiator %s, target %s", strerror(ret), v.msg);
	if (ret || !v.ok)
		goto done;

	/* WRITE heap -> target mapping, READ it back onto our stack. */
	t_fill(heap, XFER_LEN, 1);
	memset(stack_buf, 0, sizeof(stack_buf));
	ret = t_xfer(q, IBV_WR_RDMA_WRITE, heap, XFER_LEN, lkey, t.map + 100, t.rkey, 0, 0);
	ok = ret == IBV_WC_SUCCESS;
	if (ok)
		ret = t_xfer(q, IBV_WR_RDMA_READ, stack_buf + 3, XFER_LEN, lkey, t.map + 100,
			     t.rkey, 0, 0);
	tagged(in, "RDMA WRITE malloc->remote mmap, READ remote mmap->thread stack",
	       ok && ret == IBV_WC_SUCCESS && !memcmp(stack_buf + 3, heap, XFER_LEN),
	       "status %d, data %s", ret,
	       memcmp(stack_buf + 3, heap, XFER_LEN) ? "differs" : "equal");

	/* WRITE stack -> target heap, READ it back into our mapping. */
	t_fill(stack_buf, XFER_LEN, 2);
	memset(map, 0, BUF_LEN);
	ret = t_xfer(q, IBV_WR_RDMA_WRITE, stack_buf, XFER_LEN, lkey, t.heap + 7, t.rkey, 0, 0);
	ok = ret == IBV_WC_SUCCESS;
	if (ok)
		ret = t_xfer(q, IBV_WR_RDMA_READ, map + page_size - 9, XFER_LEN, lkey, t.heap + 7,
			     t.rkey, 0, 0);
	tagged(in, "RDMA WRITE thread stack->remote malloc, READ remote malloc->mmap",
	       ok && ret == IBV_WC_SUCCESS && t_is_fill(map + page_size - 9, XFER_LEN, 2),
	       "status %d", ret);

	/* SEND from our mapping into the target's RECV on its thread stack. */
	t_fill(map, SEND_LEN, 3);
	ret = t_xfer(q, IBV_WR_SEND, map, SEND_LEN, lkey, 0, 0, 0, 0);
	tagged(in, "SEND mmap->remote RECV on thread stack", ret == IBV_WC_SUCCESS, "status %d",
	       ret);

	/* Atomics on the target's word; results land on our heap. */
	res = (uint64_t *)(heap + 64);
	*res = 0;
	ret = t_xfer(q, IBV_WR_ATOMIC_CMP_AND_SWP, res, 8, lkey, t.atom, t.rkey, ATOM0, ATOM1);
	tagged(in, "ATOMIC CMP_SWP (match)", ret == IBV_WC_SUCCESS && *res == ATOM0,
	       "status %d old 0x%llx", ret, (unsigned long long)*res);
	*res = 0;
	ret = t_xfer(q, IBV_WR_ATOMIC_CMP_AND_SWP, res, 8, lkey, t.atom, t.rkey, ATOM0, 1);
	tagged(in, "ATOMIC CMP_SWP (no match)", ret == IBV_WC_SUCCESS && *res == ATOM1,
	       "status %d old 0x%llx", ret, (unsigned long long)*res);
	res = (uint64_t *)(stack_buf + 8 * 100);
	*res = 0;
	ret = t_xfer(q, IBV_WR_ATOMIC_FETCH_AND_ADD, res, 8, lkey, t.atom, t.rkey, ADD, 0);
	tagged(in, "ATOMIC FETCH_ADD", ret == IBV_WC_SUCCESS && *res == ATOM1,
	       "status %d old 0x%llx", ret, (unsigned long long)*res);
	res = (uint64_t *)(map + 2 * page_size);
	*res = 0;
	ret = t_xfer(q, IBV_WR_RDMA_READ, res, 8, lkey, t.atom, t.rkey, 0, 0);
	tagged(in, "RDMA READ of the atomic word", ret == IBV_WC_SUCCESS && *res == ATOM1 + ADD,
	       "status %d value 0x%llx", ret, (unsigned long long)*res);
done:
	v.ok = 1;
	if (xwrite(r->fd, &v, sizeof(v)) || xread(r->fd, &v, sizeof(v)))
		v.ok = -1;
	tagged(in, "target: RECV payload and atomic word", v.ok == 1, "%s",
	       v.ok < 0 ? "target died" : v.msg);
	r->ret = 0;
out:
	end_close(&e);
	return NULL;
}

/* Loopback: both ends in this process, on one device, one implicit MR. */
static void test_opcodes_loopback(struct ctx *c)
{
	struct initiator in = {.tag = "loopback:"};
	struct role tr = {0};
	pthread_t ti, tt;
	struct ibv_mr *mr;
	int sv[2];

	mr = reg_implicit(c);
	T_REQUIRE(mr, __func__, "implicit ibv_reg_mr: %s", strerror(errno));
	T_REQUIRE(!socketpair(AF_UNIX, SOCK_STREAM, 0, sv), __func__, "socketpair");
	in.r = (struct role){.c = c, .mr = mr, .fd = sv[0]};
	tr = (struct role){.c = c, .mr = mr, .fd = sv[1]};
	T_REQUIRE(!pthread_create(&tt, NULL, target_main, &tr) &&
			  !pthread_create(&ti, NULL, initiator_main, &in),
		  __func__, "pthread_create");
	pthread_join(ti, NULL);
	pthread_join(tt, NULL);
	close(sv[0]);
	close(sv[1]);
	T_REQUIRE(!ibv_dereg_mr(mr), __func__, "dereg");
	T_REQUIRE(!in.r.ret && !tr.ret, __func__, "an end failed to set up (socket or QP)");
	t_pass(__func__);
}

/*
 * Two devices, two processes: the target is a child on @peer, in network
 * namespace @netns if given; it is forked before this process opens
 * anything of its own in verbs.
 */
static int run_peer(const char *peer, const char *netns, int fd)
{
	struct role tr = {0};
	struct ibv_mr *mr;
	struct ctx c;
	pthread_t tt;
	int nsfd;

	if (netns) {
		nsfd = open(netns, O_RDONLY);
		if (nsfd < 0 || setns(nsfd, CLONE_NEWNET)) {
			fprintf(stderr, "implicit: setns %s: %s\n", netns, strerror(errno));
			return 1;
		}
		close(nsfd);
	}
	if (open_dev(&c, peer)) {
		fprintf(stderr, "implicit: cannot open %s\n", peer);
		return 1;
	}
	mr = reg_implicit(&c);
	if (!mr) {
		fprintf(stderr, "implicit: %s: implicit ibv_reg_mr: %s\n", peer, strerror(errno));
		return 1;
	}
	tr = (struct role){.c = &c, .mr = mr, .fd = fd};
	if (pthread_create(&tt, NULL, target_main, &tr))
		return 1;
	pthread_join(tt, NULL);
	ibv_dereg_mr(mr);
	close_dev(&c);
	return tr.ret;
}

/* ---- munmap holes -------------------------------------------------------- */

/* Run one transfer on loopback pair @p (used once): the completion status. */
static int one_xfer(struct t_pair *p, enum ibv_wr_opcode op, void *local, uint32_t lkey,
		    void *remote, uint32_t rkey)
{
	return t_xfer(&p->a, op, local, 64, lkey, (uintptr_t)remote, rkey, 0, 0);
}

/* A SEND into a RECV buffer at @dst: the sender's and receiver's status. */
static void send_into(struct t_pair *p, void *src, uint32_t lkey, void *dst, uint32_t dkey,
		      int *sstat, int *rstat)
{
	struct ibv_wc wc;

	*sstat = *rstat = -1;
	if (post_recv(&p->b, dst, 64, dkey))
		return;
	*sstat = t_xfer(&p->a, IBV_WR_SEND, src, 64, lkey, 0, 0, 0, 0);
	*rstat = t_wait_wc(p->b.cq, &wc, T_POLL_MS);
}

/*
 * An address of a munmapped page must fail the same way in an implicit MR
 * as in an explicit ODP MR covering it: remote WRITE/READ there ->
 * REM_ACCESS_ERR at the requester (NAK remote access error); a local SGE
 * there -> LOC_PROT_ERR; a RECV buffer there -> LOC_PROT_ERR at the
 * receiver and REM_OP_ERR at the sender.
 */
static void holes(struct ctx *c, int implicit)
{
	const char *kind = implicit ? "implicit" : "explicit";
	char *buf, *hole, *good, name[96];
	struct ibv_mr *mr, *im;
	int ret, s, r, i;
	struct t_pair p[6];
	uint32_t key;

	im = reg_implicit(c);
	buf = t_map_pages(4);
	snprintf(name, sizeof(name), "holes %s", kind);
	if (!im || !buf) {
		t_result(0, name, "setup: %s", strerror(errno));
		return;
	}
	mr = implicit ? im : ibv_reg_mr(c->pd, buf, 4 * page_size, ODP_RW);
	if (!mr) {
		t_result(0, name, "explicit ibv_reg_mr: %s", strerror(errno));
		return;
	}
	key = mr->lkey;
	memset(buf, 0x5a, 4 * page_size);
	hole = buf + page_size;
	good = buf + 3 * page_size;
	/*
	 * One QP pair per error (an error moves the QP to ERROR), all opened
	 * before the munmap: librxe maps its queues, and a new mapping could
	 * land in the hole.
	 */
	for (i = 0; i < 6; i++) {
		if (pair_open(c, &p[i])) {
			t_result(0, name, "loopback pair: %s", strerror(errno));
			return;
		}
	}
	/* Mapped in the MR first, so that the munmap really invalidates. */
	prefetch_write(c, buf, 4 * page_size, key);
	munmap(hole, page_size);

	ret = one_xfer(&p[0], IBV_WR_RDMA_WRITE, good, key, hole + 8, key);
	snprintf(name, sizeof(name), "%s: remote WRITE into munmapped page", kind);
	t_result(ret == IBV_WC_REM_ACCESS_ERR, name, "status %d (%s), want REM_ACCESS_ERR", ret,
		 ret >= 0 ? ibv_wc_status_str(ret) : "-");
	ret = one_xfer(&p[1], IBV_WR_RDMA_READ, good, key, hole + 8, key);
	snprintf(name, sizeof(name), "%s: remote READ of munmapped page", kind);
	t_result(ret == IBV_WC_REM_ACCESS_ERR, name, "status %d (%s), want REM_ACCESS_ERR", ret,
		 ret >= 0 ? ibv_wc_status_str(ret) : "-");
	ret = one_xfer(&p[2], IBV_WR_RDMA_WRITE, hole + 8, key, good, key);
	snprintf(name, sizeof(name), "%s: local SGE (WRITE source) in munmapped page", kind);
	t_result(ret == IBV_WC_LOC_PROT_ERR, name, "status %d (%s), want LOC_PROT_ERR", ret,
		 ret >= 0 ? ibv_wc_status_str(ret) : "-");
	ret = one_xfer(&p[3], IBV_WR_RDMA_READ, hole + 8, key, good, key);
	snprintf(name, sizeof(name), "%s: local SGE (READ target) in munmapped page", kind);
	t_result(ret == IBV_WC_LOC_PROT_ERR, name, "status %d (%s), want LOC_PROT_ERR", ret,
		 ret >= 0 ? ibv_wc_status_str(ret) : "-");
	send_into(&p[4], good, key, hole + 8, key, &s, &r);
	snprintf(name, sizeof(name), "%s: RECV buffer in munmapped page", kind);
	t_result(s == IBV_WC_REM_OP_ERR && r == IBV_WC_LOC_PROT_ERR, name,
		 "sender %d (%s) want REM_OP_ERR, receiver %d (%s) want LOC_PROT_ERR", s,
		 s >= 0 ? ibv_wc_status_str(s) : "-", r, r >= 0 ? ibv_wc_status_str(r) : "-");
	/* The rest of the region still works. */
	ret = one_xfer(&p[5], IBV_WR_RDMA_WRITE, good, key, buf + 8, key);
	snprintf(name, sizeof(name), "%s: mapped pages next to the hole still work", kind);
	t_result(ret == IBV_WC_SUCCESS, name, "status %d", ret);
	for (i = 0; i < 6; i++)
		t_pair_fini(&p[i]);
	if (!implicit)
		ibv_dereg_mr(mr);
	ibv_dereg_mr(im);
	munmap(buf, page_size);
	munmap(buf + 2 * page_size, 2 * page_size);
}

static void test_holes(struct ctx *c)
{
	holes(c, 1);
	holes(c, 0);
}

/* ---- fork -------------------------------------------------------------- */

#define FORK_PAGES 8

/* Remote READ of @len bytes at @addr (rkey @rkey) into @dst (pinned). */
static int read_back(struct t_pair *p, void *dst, struct ibv_mr *dmr, void *addr, uint32_t rkey,
		     size_t len)
{
	return t_xfer(&p->a, IBV_WR_RDMA_READ, dst, len, dmr->lkey, (uintptr_t)addr, rkey, 0, 0);
}

/*
 * Fork keeps the read mappings of a parent's ODP MRs: the fork only
 * write-protects the pages (write downgrades, counted as page
 * invalidations), reads fault nothing afterwards, and a parent write that
 * breaks COW replaces the page (its remote READ sees the new data).
 */
static void test_fork(struct ctx *c)
{
	const size_t len = FORK_PAGES * page_size;
	long long pf_i, pf_e, inv_i, inv_e, wd0, wd;
	char *ib, *eb, *dst, go = 'g';
	struct ibv_mr *im, *em, *dmr;
	struct t_pair p;
	int c2p[2], p2c[2], st, ret;
	pid_t pid;

	im = reg_implicit(c);
	T_REQUIRE(im, __func__, "implicit ibv_reg_mr: %s", strerror(errno));
	ib = t_map_pages(FORK_PAGES);
	eb = t_map_pages(FORK_PAGES);
	dst = malloc(len);
	T_REQUIRE(ib && eb && dst, __func__, "allocations");
	em = ibv_reg_mr(c->pd, eb, len, ODP_RW);
	dmr = ibv_reg_mr(c->pd, dst, len, IBV_ACCESS_LOCAL_WRITE); /* pinned: no ODP counts */
	T_REQUIRE(em && dmr, __func__, "ibv_reg_mr: %s", strerror(errno));
	T_REQUIRE(!pair_open(c, &p), __func__, "loopback pair");
	t_fill(ib, len, 10);
	t_fill(eb, len, 11);
	T_REQUIRE(!prefetch_write(c, ib, len, im->lkey) && !prefetch_write(c, eb, len, em->lkey),
		  __func__, "prefetch");
	pf_i = mr_attr(im->lkey, "page_faults");
	pf_e = mr_attr(em->lkey, "page_faults");
	inv_i = mr_attr(im->lkey, "page_invalidations");
	inv_e = mr_attr(em->lkey, "page_invalidations");
	wd0 = t_hw_counter(devname, "odp_write_downgrades");
	T_REQUIRE(pf_i >= 0 && pf_e >= 0 && inv_i >= 0 && inv_e >= 0 && wd0 >= 0, __func__,
		  "counters missing");

	T_REQUIRE(!pipe(c2p) && !pipe(p2c), __func__, "pipe");
	pid = fork();
	T_REQUIRE(pid >= 0, __func__, "fork: %s", strerror(errno));
	if (!pid) {
		/* The child writes its (COW) copy of the first half and waits. */
		close(c2p[0]);
		close(p2c[1]);
		memset(ib, 'c', len / 2);
		memset(eb, 'c', len / 2);
		if (write(c2p[1], &go, 1) != 1 || read(p2c[0], &go, 1) != 1)
			_exit(1);
		_exit(0);
	}
	ret = read(c2p[0], &go, 1);
	T_REQUIRE(ret == 1, __func__, "child did not report");

	/* Remote READs of the parent's memory: the parent's data, no faults. */
	memset(dst, 0, len);
	ret = read_back(&p, dst, dmr, ib, im->rkey, len);
	T_REQUIRE(ret == IBV_WC_SUCCESS && t_is_fill(dst, len, 10), __func__,
		  "implicit: READ after fork: status %d, data %s", ret,
		  t_is_fill(dst, len, 10) ? "ok" : "differs");
	memset(dst, 0, len);
	ret = read_back(&p, dst, dmr, eb, em->rkey, len);
	T_REQUIRE(ret == IBV_WC_SUCCESS && t_is_fill(dst, len, 11), __func__,
		  "explicit: READ after fork: status %d", ret);
	wd = t_hw_counter(devname, "odp_write_downgrades") - wd0;
	printf("# fork: odp_write_downgrades +%lld, page_invalidations implicit +%lld explicit "
	       "+%lld, page_faults implicit +%lld explicit +%lld\n",
	       wd, mr_attr(im->lkey, "page_invalidations") - inv_i,
	       mr_attr(em->lkey, "page_invalidations") - inv_e,
	       mr_attr(im->lkey, "page_faults") - pf_i, mr_attr(em->lkey, "page_faults") - pf_e);
	T_REQUIRE(mr_attr(im->lkey, "page_faults") == pf_i &&
			  mr_attr(em->lkey, "page_faults") == pf_e,
		  __func__, "reads after fork faulted: the read mappings were dropped");
	T_REQUIRE(wd == 2 * FORK_PAGES, __func__, "odp_write_downgrades +%lld, want %d", wd,
		  2 * FORK_PAGES);
	T_REQUIRE(mr_attr(im->lkey, "page_invalidations") - inv_i == FORK_PAGES &&
			  mr_attr(em->lkey, "page_invalidations") - inv_e == FORK_PAGES,
		  __func__, "page_invalidations count more than the write downgrades");

	/* A parent write to a page still shared with the child breaks COW. */
	memset(ib + len - page_size, 'P', page_size);
	memset(eb + len - page_size, 'P', page_size);
	memset(ib, 'Q', page_size); /* exclusive again after the child's COW: reused */
	memset(dst, 0, len);
	ret = read_back(&p, dst, dmr, ib, im->rkey, len);
	T_REQUIRE(ret == IBV_WC_SUCCESS && dst[len - 1] == 'P' && dst[len - page_size] == 'P' &&
			  dst[0] == 'Q' && dst[page_size - 1] == 'Q',
		  __func__,
		  "implicit: READ after the parent's writes: status %d, got '%c'/'%c' (stale page)",
		  ret, dst[len - 1], dst[0]);
	ret = read_back(&p, dst, dmr, eb, em->rkey, len);
	T_REQUIRE(ret == IBV_WC_SUCCESS && dst[len - 1] == 'P' && dst[len - page_size] == 'P',
		  __func__,
		  "explicit: READ after the parent's write: status %d, got '%c' (stale page)", ret,
		  dst[len - 1]);
	if (verbose) {
		fflush(stdout);
		ret = system("rdma resource show mr -dd; rdma statistic show mr; "
			     "grep . /sys/class/infiniband/*/ports/1/hw_counters/odp_*");
	}
	T_REQUIRE(write(p2c[1], &go, 1) == 1 && waitpid(pid, &st, 0) == pid && WIFEXITED(st) &&
			  !WEXITSTATUS(st),
		  __func__, "child");
	t_pair_fini(&p);
	ibv_dereg_mr(dmr);
	ibv_dereg_mr(em);
	ibv_dereg_mr(im);
	munmap(ib, len);
	munmap(eb, len);
	free(dst);
	close(c2p[0]);
	close(c2p[1]);
	close(p2c[0]);
	close(p2c[1]);
	t_pass(__func__);
}

/*
 * Explicit and implicit MRs of one process share one ODP context per mm
 * (debugfs softodp/odp/mms: one "mm tgid" line for us), and one munmap is
 * one invalidation event per region, counted.
 */
static void test_one_mm_one_event(struct ctx *c)
{
	char line[256], want[64];
	long long ev_i, ev_e, pg_i, pg_e;
	int mms = 0, ours = 0, counted = 0, kinds = 0;
	struct ibv_mr *im, *em;
	char *buf;
	FILE *f;

	im = reg_implicit(c);
	/*
	 * In a GiB of its own, so that no other mapping change of this
	 * process (popen's spawn stack, malloc) lands in the implicit MR's
	 * child that covers it.
	 */
	buf = mmap((void *)(uintptr_t)0x600000000000ULL, 4 * page_size, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
	T_REQUIRE(im && buf != MAP_FAILED, __func__, "setup: %s", strerror(errno));
	em = ibv_reg_mr(c->pd, buf, 4 * page_size, ODP_RW);
	T_REQUIRE(em, __func__, "explicit ibv_reg_mr: %s", strerror(errno));
	/*
	 * Contexts of this process that hold regions: a context whose last
	 * region went (an earlier test's) stays listed, empty, until its
	 * deferred free.  Ours must hold both kinds.
	 */
	f = fopen("/sys/kernel/debug/softodp/odp/mms", "r");
	T_REQUIRE(f, __func__, "/sys/kernel/debug/softodp/odp/mms: %s (debugfs mounted?)",
		  strerror(errno));
	snprintf(want, sizeof(want), "mm tgid %d", (int)getpid());
	while (fgets(line, sizeof(line), f)) {
		if (!strncmp(line, "mm tgid ", 8)) {
			ours = !strncmp(line, want, strlen(want)) &&
			       (line[strlen(want)] == '\n' || line[strlen(want)] == ' ');
			counted = 0;
			continue;
		}
		if (!ours || strncmp(line, "  umem ", 7))
			continue;
		if (!counted++)
			mms++;
		kinds |= strstr(line, "implicit") ? 1 : 2;
	}
	fclose(f);
	T_REQUIRE(mms == 1 && kinds == 3, __func__,
		  "%d ODP mm contexts hold this process's regions (kinds 0x%x), want 1 with both",
		  mms, kinds);

	memset(buf, 1, 4 * page_size);
	T_REQUIRE(!prefetch_write(c, buf, 4 * page_size, im->lkey) &&
			  !prefetch_write(c, buf, 4 * page_size, em->lkey),
		  __func__, "prefetch");
	ev_i = mr_attr(im->lkey, "page_invalidations_handled");
	ev_e = mr_attr(em->lkey, "page_invalidations_handled");
	pg_i = mr_attr(im->lkey, "page_invalidations");
	pg_e = mr_attr(em->lkey, "page_invalidations");
	T_REQUIRE(!munmap(buf, 4 * page_size), __func__, "munmap");
	ev_i = mr_attr(im->lkey, "page_invalidations_handled") - ev_i;
	ev_e = mr_attr(em->lkey, "page_invalidations_handled") - ev_e;
	pg_i = mr_attr(im->lkey, "page_invalidations") - pg_i;
	pg_e = mr_attr(em->lkey, "page_invalidations") - pg_e;
	printf("# one munmap of 4 pages: implicit %lld event(s) %lld pages, explicit %lld "
	       "event(s) %lld pages\n",
	       ev_i, pg_i, ev_e, pg_e);
	T_REQUIRE(ev_i == 1 && ev_e == 1, __func__,
		  "events: implicit %lld explicit %lld, want 1 each", ev_i, ev_e);
	T_REQUIRE(pg_i == 4 && pg_e == 4, __func__,
		  "pages: implicit %lld explicit %lld, want 4 each", pg_i, pg_e);
	ibv_dereg_mr(em);
	ibv_dereg_mr(im);
	t_pass(__func__);
}

/* ---- invalid registrations ------------------------------------------- */

static void bad_reg(struct ctx *c, const char *what, void *addr, size_t len, uint64_t iova,
		    int access)
{
	struct ibv_mr *mr;
	char name[128];

	errno = 0;
	mr = ibv_reg_mr_iova(c->pd, addr, len, iova, access);
	snprintf(name, sizeof(name), "invalid registration: %s", what);
	t_result(!mr && errno == EINVAL, name, "%s (errno %d), want EINVAL",
		 mr ? "registered" : strerror(errno), errno);
	if (mr)
		ibv_dereg_mr(mr);
}

static void test_invalid_registrations(struct ctx *c)
{
	struct ibv_mr *mr;

	bad_reg(c, "implicit ODP with iova 4096", NULL, SIZE_MAX, 4096, ODP_RW);
	bad_reg(c, "implicit without IBV_ACCESS_ON_DEMAND", NULL, SIZE_MAX, 0,
		ODP_RW & ~IBV_ACCESS_ON_DEMAND);
	bad_reg(c, "non-NULL address with length SIZE_MAX", (void *)(uintptr_t)0x10000, SIZE_MAX,
		0x10000, ODP_RW);
	/*
	 * Even keys, several in a row (the key byte rotates): UCX 1.13/1.14
	 * crash at exit on an implicit MR with an odd lkey (README, UCX).
	 */
	for (int i = 0; i < 4; i++) {
		mr = ibv_reg_mr_iova(c->pd, NULL, SIZE_MAX, 0, ODP_RW);
		T_REQUIRE(mr, __func__, "the valid implicit registration (iova 0) fails: %s",
			  strerror(errno));
		uint32_t lkey = mr->lkey, rkey = mr->rkey;

		ibv_dereg_mr(mr);
		T_REQUIRE(!(lkey & 1) && lkey == rkey, __func__,
			  "implicit MR keys 0x%x/0x%x: odd or different", lkey, rkey);
	}
	t_pass(__func__);
}

/* ---- sparse scale ---------------------------------------------------- */

#define SPARSE_PAGES	  10000
#define SPARSE_SPAN	  (1ULL << 40)
#define SPARSE_KMEM_BOUND (64ULL << 20)

/* Page @i of the sparse set: one per 26843-page window of the 1 TiB. */
static uint64_t sparse_page(unsigned int i)
{
	return (uint64_t)i * 26843 + (i * 7919ULL) % 26843;
}

static void test_sparse_scale(struct ctx *c)
{
	struct ib_uverbs_sge sges[100];
	long long kmem, kmem_after, pref;
	struct ibv_mr *mr;
	unsigned int i, n = 0;
	struct t_pair p;
	char *res, *src;
	int ret;

	mr = reg_implicit(c);
	T_REQUIRE(mr, __func__, "implicit ibv_reg_mr: %s", strerror(errno));
	res = mmap(NULL, SPARSE_SPAN, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1,
		   0);
	T_REQUIRE(res != MAP_FAILED, __func__, "mmap 1 TiB PROT_NONE: %s", strerror(errno));
	for (i = 0; i < SPARSE_PAGES; i++)
		T_REQUIRE(!mprotect(res + sparse_page(i) * page_size, page_size,
				    PROT_READ | PROT_WRITE),
			  __func__, "mprotect page %u: %s", i, strerror(errno));
	for (i = 0; i < SPARSE_PAGES; i++) {
		sges[n].addr = (uintptr_t)(res + sparse_page(i) * page_size);
		sges[n].length = page_size;
		sges[n].lkey = mr->lkey;
		if (++n == 100 || i == SPARSE_PAGES - 1) {
			ret = t_advise_mr(c->pd, IB_UVERBS_ADVISE_MR_ADVICE_PREFETCH_WRITE,
					  IB_UVERBS_ADVISE_MR_FLAG_FLUSH, sges, n);
			T_REQUIRE(!ret, __func__, "prefetch at page %u: %s", i, strerror(ret));
			n = 0;
		}
	}
	pref = mr_attr(mr->lkey, "page_prefetch");
	kmem = mr_attr(mr->lkey, "odp_kmem_bytes");
	printf("# sparse: %d pages over 1 TiB: page_prefetch %lld, odp_kmem_bytes %lld "
	       "(%.1f MiB, %.2f KiB per page; bound %llu MiB)\n",
	       SPARSE_PAGES, pref, kmem, kmem / 1048576.0, kmem / 1024.0 / SPARSE_PAGES,
	       SPARSE_KMEM_BOUND >> 20);
	T_REQUIRE(pref == SPARSE_PAGES, __func__, "page_prefetch %lld, want %d", pref,
		  SPARSE_PAGES);
	T_REQUIRE(kmem > 0 && (unsigned long long)kmem < SPARSE_KMEM_BOUND, __func__,
		  "odp_kmem_bytes %lld not in (0, %llu)", kmem, SPARSE_KMEM_BOUND);

	/* A handful of RDMA WRITEs into the sparse pages, checked by the CPU. */
	src = malloc(page_size);
	T_REQUIRE(src && !pair_open(c, &p), __func__, "loopback pair");
	/* The source is in the implicit MR too: prefetched, it faults nothing. */
	T_REQUIRE(!prefetch_write(c, src, page_size, mr->lkey), __func__, "prefetch the source");
	for (i = 0; i < SPARSE_PAGES; i += SPARSE_PAGES / 5 + 7) {
		char *dst = res + sparse_page(i) * page_size;

		t_fill(src, page_size - 16, i);
		ret = t_xfer(&p.a, IBV_WR_RDMA_WRITE, src, page_size - 16, mr->lkey,
			     (uintptr_t)dst + 16, mr->rkey, 0, 0);
		T_REQUIRE(ret == IBV_WC_SUCCESS && t_is_fill(dst + 16, page_size - 16, i), __func__,
			  "WRITE into sparse page %u: status %d", i, ret);
	}
	t_pair_fini(&p);
	free(src);
	T_REQUIRE(mr_attr(mr->lkey, "page_faults") == 0, __func__, "prefetched pages faulted: %lld",
		  mr_attr(mr->lkey, "page_faults"));
	T_REQUIRE(!munmap(res, SPARSE_SPAN), __func__, "munmap");
	kmem_after = mr_attr(mr->lkey, "odp_kmem_bytes");
	printf("# sparse: after munmap odp_kmem_bytes %lld\n", kmem_after);
	T_REQUIRE(kmem_after < kmem / 2, __func__, "munmap did not free the page tables: %lld",
		  kmem_after);
	T_REQUIRE(!ibv_dereg_mr(mr), __func__, "dereg");
	t_pass(__func__);
}

/* The tests of this process's device, in order; -t selects by name. */
static const struct {
	const char *name;
	void (*fn)(struct ctx *c);
} tests[] = {
	{"invalid", test_invalid_registrations}, {"fork", test_fork},
	{"one_mm", test_one_mm_one_event},	 {"holes", test_holes},
	{"loopback", test_opcodes_loopback},	 {"sparse", test_sparse_scale},
};

int main(int argc, char **argv)
{
	size_t i;
	const char *netns = NULL, *peer = NULL;
	int opt, sv[2], st, ret;
	struct ctx c;
	pid_t pid;

	if (argc > 1 && !strcmp(argv[1], "--help")) {
		printf("Usage: implicit [-v] [-n NETNS] [-t TEST] DEVICE [PEER_DEVICE]\n"
		       "Tests implicit ODP MRs of softodp devices.\n");
		return 0;
	}
	while ((opt = getopt(argc, argv, "n:t:vh")) != -1) {
		switch (opt) {
		case 'v':
			verbose = 1;
			break;
		case 'n':
			netns = optarg;
			break;
		case 't':
			t_set_filter(optarg);
			break;
		default:
			printf("Usage: implicit [-v] [-n NETNS] [-t TEST] DEVICE [PEER_DEVICE]\n"
			       "Tests implicit ODP MRs of softodp devices.\n");
			return opt == 'h' ? 0 : 2;
		}
	}
	if (argc - optind < 1 || argc - optind > 2) {
		fprintf(stderr, "Usage: implicit [-v] [-n NETNS] [-t TEST] DEVICE [PEER_DEVICE]\n");
		return 2;
	}
	devname = argv[optind];
	if (argc - optind == 2)
		peer = argv[optind + 1];
	page_size = sysconf(_SC_PAGESIZE);
	setvbuf(stdout, NULL, _IOLBF, 0);

	if (peer && t_want("cross")) {
		/* Fork the peer before this process opens any device. */
		if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv))
			return 1;
		pid = fork();
		if (pid < 0)
			return 1;
		if (!pid) {
			close(sv[0]);
			_exit(run_peer(peer, netns, sv[1]));
		}
		close(sv[1]);
		ret = open_dev(&c, devname);
		if (ret) {
			fprintf(stderr, "implicit: cannot open %s\n", devname);
			return 1;
		}
		{
			struct initiator in = {.tag = "cross-device:"};
			pthread_t ti;

			in.r = (struct role){.c = &c, .mr = reg_implicit(&c), .fd = sv[0]};
			if (!in.r.mr || pthread_create(&ti, NULL, initiator_main, &in)) {
				t_result(0, "cross-device", "implicit ibv_reg_mr: %s",
					 strerror(errno));
			} else {
				pthread_join(ti, NULL);
				ibv_dereg_mr(in.r.mr);
			}
			close(sv[0]);
			ret = waitpid(pid, &st, 0) == pid && WIFEXITED(st) && !WEXITSTATUS(st);
			t_result(ret && !in.r.ret, "cross-device: both processes", "peer exit 0x%x",
				 st);
		}
	} else if (open_dev(&c, devname)) {
		fprintf(stderr, "implicit: cannot open %s\n", devname);
		return 1;
	}

	for (i = 0; i < sizeof(tests) / sizeof(tests[0]); i++)
		if (t_want(tests[i].name))
			tests[i].fn(&c);
	close_dev(&c);
	return t_summary();
}
