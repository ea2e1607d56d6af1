// SPDX-License-Identifier: GPL-2.0
/*
 * RC data transfers between two hosts, every byte checked: one process
 * serves (-l PORT), the other connects to it (-c HOST:PORT) and runs the
 * tests.  Each side registers a pinned and, where its device has RC ODP
 * and -m allows it, an ODP buffer (the ODP one never touched before it is
 * registered, so the first transfers fault it in); the two learn each
 * other's QP, GID and buffers over a TCP connection that also carries the
 * client's requests to the server (fill, check, post a receive, read or
 * write 8 bytes).  For every local buffer kind and every remote one:
 *
 *   write        one WRITE of -s bytes (default 1 MiB), page aligned
 *   write_odd    a WRITE from and to odd offsets (packets not starting a page)
 *   write_small  64 WRITEs of 1 KiB each into consecutive kilobytes
 *   write_imm    WRITE with immediate: the data and the immediate
 *   read         one READ of -s bytes, and one at odd offsets
 *   send         SEND of -s bytes into a posted receive, and one of 1 byte
 *   atomic       FETCH_ADD and CMP_SWP: the values returned and left behind
 *
 * Test names are OP_LOCAL_to_REMOTE (e.g. write_pinned_to_odp).  The
 * server checks what lands in its memory and answers with the offset of
 * the first wrong byte; the client compares what lands in its own.
 *
 * With -P SECONDS the client runs one test instead, link_pulled: it
 * streams WRITEs (8 in flight) into the server's first buffer, says
 * "# streaming" once 16 have completed, and expects the link to be taken
 * down within SECONDS: the WRITE in flight must complete with
 * RETRY_EXC_ERR, every later one with WR_FLUSH_ERR, and the QP must be in
 * ERR.  The server, given -P too, takes the end of the control connection
 * (or none at all) as the end.
 *
 * Usage: remote -d DEV [-m pinned|odp|both] [-S] [-M MTU] [-s SIZE]
 *               [-f FILTER] -l PORT | -c HOST:PORT
 */
#define _GNU_SOURCE
#include <endian.h>
#include <errno.h>
#include <inttypes.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common.h"

#define USAGE                                                                                      \
	"remote -d DEV [-m pinned|odp|both] [-S] [-M 256..4096] [-s SIZE] [-f FILTER] "            \
	"-l PORT | -c HOST:PORT"
#define SMALL_N	  64
#define SMALL_LEN 1024
#define ODD	  100 /* a remote offset that starts no packet on a page boundary */

/* One registered buffer of a side: index 0 pinned, 1 ODP. */
struct rbuf {
	uint8_t *buf;
	struct ibv_mr *mr;
};

struct peer_buf {
	uint64_t addr;
	uint32_t rkey; /* 0: the peer has no buffer of this kind */
};

static struct t_dev devs[2];
static const char *listen_port, *connect_to;
static size_t size = 1 << 20;
static int mtu_bytes;
static int pull_secs;
static size_t buf_len;
static struct ibv_pd *pd;
static struct ibv_cq *cq;
static struct ibv_qp *qp;
static struct rbuf mine[2];
static struct peer_buf theirs[2];
static int ctl = -1;
static FILE *ctl_in;
static uint8_t *expect;

static int opt_cb(int opt, const char *arg)
{
	char *end;

	switch (opt) {
	case 'l':
		listen_port = arg;
		return 0;
	case 'c':
		connect_to = arg;
		return 0;
	case 'P':
		pull_secs = atoi(arg);
		return pull_secs <= 0;
	case 'M':
		mtu_bytes = atoi(arg);
		return mtu_bytes < 256 || mtu_bytes > 4096 || (mtu_bytes & (mtu_bytes - 1));
	case 's':
		size = strtoul(arg, &end, 0);
		return *end || size < 2 * ODD || size > (64u << 20);
	}
	return 1;
}

static enum ibv_mtu mtu_enum(int bytes)
{
	enum ibv_mtu m = IBV_MTU_256;

	while (t_mtu_bytes(m) < bytes)
		m++;
	return m;
}

/* ---- the control connection ---------------------------------------------- */

static int ctl_open(void)
{
	struct addrinfo hints = {.ai_socktype = SOCK_STREAM}, *ai = NULL;
	char host[256], *colon;
	int fd, one = 1, ret;

	if (listen_port) {
		hints.ai_flags = AI_PASSIVE;
		hints.ai_family = AF_INET;
		ret = getaddrinfo(NULL, listen_port, &hints, &ai);
	} else {
		snprintf(host, sizeof(host), "%s", connect_to);
		colon = strrchr(host, ':');
		if (!colon) {
			fprintf(stderr, "remote: -c wants HOST:PORT, not '%s'\n", connect_to);
			return -1;
		}
		*colon = 0;
		ret = getaddrinfo(host, colon + 1, &hints, &ai);
	}
	if (ret) {
		fprintf(stderr, "remote: %s: %s\n", listen_port ? listen_port : connect_to,
			gai_strerror(ret));
		return -1;
	}
	fd = socket(ai->ai_family, SOCK_STREAM, 0);
	if (fd < 0)
		goto err;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (listen_port) {
		if (bind(fd, ai->ai_addr, ai->ai_addrlen) || listen(fd, 1))
			goto err;
		/* The suites wait for this port to listen before starting a client. */
		ctl = accept(fd, NULL, NULL);
		close(fd);
		fd = -1;
		if (ctl < 0)
			goto err;
	} else {
		if (connect(fd, ai->ai_addr, ai->ai_addrlen))
			goto err;
		ctl = fd;
		fd = -1;
	}
	freeaddrinfo(ai);
	ctl_in = fdopen(dup(ctl), "r");
	return ctl_in ? 0 : -1;
err:
	fprintf(stderr, "remote: control connection: %s\n", strerror(errno));
	if (fd >= 0)
		close(fd);
	freeaddrinfo(ai);
	return -1;
}

static int ctl_send(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int ctl_send(const char *fmt, ...)
{
	va_list ap;
	int ret;

	va_start(ap, fmt);
	ret = vdprintf(ctl, fmt, ap);
	va_end(ap);
	return ret < 0 ? -1 : 0;
}

/* One line from the peer into @line (no newline); -1 at EOF. */
static int ctl_line(char *line, size_t n)
{
	if (!fgets(line, (int)n, ctl_in))
		return -1;
	line[strcspn(line, "\n")] = 0;
	return 0;
}

/* ---- the verbs objects ----------------------------------------------------- */

static int setup(void)
{
	int k, access;

	buf_len = 2 * size + SMALL_N * SMALL_LEN;
	pd = ibv_alloc_pd(devs[0].ctx);
	cq = pd ? ibv_create_cq(devs[0].ctx, 256, NULL, NULL, 0) : NULL;
	qp = cq ? t_create_rc_qp(pd, cq, NULL, 64, 1, NULL) : NULL;
	if (!qp) {
		fprintf(stderr, "remote: PD/CQ/QP on %s: %s\n", devs[0].name, strerror(errno));
		return -1;
	}
	for (k = 0; k < 2; k++) {
		if (!t_mode(k) || (k && !devs[0].odp_ok))
			continue;
		mine[k].buf = t_map(buf_len);
		if (!mine[k].buf)
			return -1;
		/* The ODP buffer is registered untouched: remote access faults it in. */
		if (!k)
			memset(mine[k].buf, 0xa5, buf_len);
		access = T_MR_ACCESS | (k ? IBV_ACCESS_ON_DEMAND : 0);
		mine[k].mr = ibv_reg_mr(pd, mine[k].buf, buf_len, access);
		if (!mine[k].mr) {
			fprintf(stderr, "remote: %s MR of %zu bytes on %s: %s\n", t_mem_name(k),
				buf_len, devs[0].name, strerror(errno));
			return -1;
		}
	}
	expect = malloc(buf_len);
	return expect ? 0 : -1;
}

static void teardown(void)
{
	int k;

	if (qp)
		ibv_destroy_qp(qp);
	for (k = 0; k < 2; k++)
		if (mine[k].mr)
			ibv_dereg_mr(mine[k].mr);
	if (cq)
		ibv_destroy_cq(cq);
	if (pd)
		ibv_dealloc_pd(pd);
	free(expect);
}

/*
 * Exchange QP number, GID, active MTU and buffers with the peer, then
 * connect the QP with the smaller of both MTUs (or -M).
 */
static int hello(void)
{
	char line[512], gid[33], pgid[33] = "";
	unsigned int pqpn, pmtu;
	unsigned long long a0, a1;
	unsigned int k0, k1;
	union ibv_gid dgid;
	enum ibv_mtu mtu;
	int i, ret;

	for (i = 0; i < 16; i++)
		sprintf(gid + 2 * i, "%02x", devs[0].gid.raw[i]);
	if (ctl_send("HELLO %u %s %d %" PRIx64 " %x %" PRIx64 " %x\n", qp->qp_num, gid,
		     t_mtu_bytes(devs[0].active_mtu),
		     mine[0].mr ? (uint64_t)(uintptr_t)mine[0].buf : 0,
		     mine[0].mr ? mine[0].mr->rkey : 0,
		     mine[1].mr ? (uint64_t)(uintptr_t)mine[1].buf : 0,
		     mine[1].mr ? mine[1].mr->rkey : 0) ||
	    ctl_line(line, sizeof(line)) ||
	    sscanf(line, "HELLO %u %32s %u %llx %x %llx %x", &pqpn, pgid, &pmtu, &a0, &k0, &a1,
		   &k1) != 7 ||
	    strlen(pgid) != 32) {
		fprintf(stderr, "remote: no greeting from the peer ('%s')\n", line);
		return -1;
	}
	for (i = 0; i < 16; i++)
		sscanf(pgid + 2 * i, "%2hhx", &dgid.raw[i]);
	theirs[0] = (struct peer_buf){a0, k0};
	theirs[1] = (struct peer_buf){a1, k1};
	mtu = devs[0].active_mtu < mtu_enum((int)pmtu) ? devs[0].active_mtu : mtu_enum((int)pmtu);
	if (mtu_bytes)
		mtu = mtu_enum(mtu_bytes);
	ret = t_connect_qp(qp, devs[0].gid_index, &dgid, pqpn, mtu, 7);
	if (ret) {
		fprintf(stderr, "remote: connecting QP %u to %u: %s\n", qp->qp_num, pqpn,
			strerror(ret));
		return -1;
	}
	printf("# %s %s: QP %u -> %s QP %u, path MTU %d, local buffers%s%s, remote%s%s\n",
	       listen_port ? "server" : "client", devs[0].name, qp->qp_num, pgid, pqpn,
	       t_mtu_bytes(mtu), mine[0].mr ? " pinned" : "", mine[1].mr ? " odp" : "",
	       k0 ? " pinned" : "", k1 ? " odp" : "");
	return 0;
}

/* ---- the server ------------------------------------------------------------ */

/* The answer to CHECK: OK or the offset of the first wrong byte. */
static void check_region(int k, size_t off, size_t len, unsigned int seed)
{
	long d;

	t_fill(expect, len, seed);
	d = t_diff(mine[k].buf + off, expect, len);
	if (d < 0)
		ctl_send("OK\n");
	else
		ctl_send("DIFF %ld\n", d);
}

static int serve(void)
{
	unsigned long long off, len, val;
	unsigned int k, seed;
	struct ibv_wc wc;
	char line[256];
	long served = 0;
	int st;

	while (!ctl_line(line, sizeof(line))) {
		served++;
		if (sscanf(line, "FILL %u %llu %llu %u", &k, &off, &len, &seed) == 4 && k < 2 &&
		    mine[k].mr && off + len <= buf_len) {
			t_fill(mine[k].buf + off, len, seed);
			ctl_send("OK\n");
		} else if (sscanf(line, "CHECK %u %llu %llu %u", &k, &off, &len, &seed) == 4 &&
			   k < 2 && mine[k].mr && off + len <= buf_len) {
			check_region((int)k, off, len, seed);
		} else if (sscanf(line, "RECV %u %llu %llu", &k, &off, &len) == 3 && k < 2 &&
			   mine[k].mr && off + len <= buf_len) {
			struct ibv_sge sge = {(uintptr_t)(mine[k].buf + off), (uint32_t)len,
					      mine[k].mr->lkey};
			struct ibv_recv_wr wr = {.wr_id = 1, .sg_list = &sge, .num_sge = !!len};
			struct ibv_recv_wr *bad;

			st = ibv_post_recv(qp, &wr, &bad);
			ctl_send(st ? "ERR %d\n" : "OK\n", st);
		} else if (!strcmp(line, "WAITRECV")) {
			st = t_wait_wc(cq, &wc, T_POLL_MS);
			if (st < 0)
				ctl_send("ERR %d\n", st);
			else
				ctl_send("WC %d %d %u %x %d\n", st, wc.opcode, wc.byte_len,
					 wc.wc_flags & IBV_WC_WITH_IMM ? be32toh(wc.imm_data) : 0,
					 !!(wc.wc_flags & IBV_WC_WITH_IMM));
		} else if (sscanf(line, "GET8 %u %llu", &k, &off) == 2 && k < 2 && mine[k].mr &&
			   off + 8 <= buf_len) {
			memcpy(&val, mine[k].buf + off, 8);
			ctl_send("VAL %llu\n", val);
		} else if (sscanf(line, "PUT8 %u %llu %llu", &k, &off, &val) == 3 && k < 2 &&
			   mine[k].mr && off + 8 <= buf_len) {
			memcpy(mine[k].buf + off, &val, 8);
			ctl_send("OK\n");
		} else if (!strcmp(line, "QUIT")) {
			ctl_send("BYE\n");
			printf("# server: %ld requests answered\n", served);
			return 0;
		} else {
			fprintf(stderr, "remote: bad request '%s'\n", line);
			ctl_send("BAD\n");
		}
	}
	if (pull_secs) {
		printf("# server: the client went away after %ld requests (-P)\n", served);
		return 0;
	}
	fprintf(stderr, "remote: the client went away after %ld requests\n", served);
	return 1;
}

/* ---- the client ------------------------------------------------------------ */

/* Send a request, read the answer line into @ans; 0 if it starts with OK. */
static int ask(char *ans, size_t n, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int ask(char *ans, size_t n, const char *fmt, ...)
{
	char req[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(req, sizeof(req), fmt, ap);
	va_end(ap);
	if (ctl_send("%s\n", req) || ctl_line(ans, n)) {
		snprintf(ans, n, "no answer to '%s'", req);
		return -1;
	}
	return strncmp(ans, "OK", 2) ? -1 : 0;
}

/* Whether the peer's buffer @rk at @off holds t_fill(@len, @seed). */
static int remote_has(const char *name, int rk, size_t off, size_t len, unsigned int seed)
{
	char ans[128];

	if (ask(ans, sizeof(ans), "CHECK %d %zu %zu %u", rk, off, len, seed)) {
		t_result(0, name, "%zu bytes at remote offset %zu: %s", len, off, ans);
		return 0;
	}
	return 1;
}

static int xfer(const char *name, enum ibv_wr_opcode op, int lk, size_t loff, uint32_t len, int rk,
		size_t roff, uint64_t cmp, uint64_t swap)
{
	struct t_side me = {.qp = qp, .cq = cq};
	int st;

	st = t_xfer(&me, op, mine[lk].buf + loff, len, mine[lk].mr->lkey, theirs[rk].addr + roff,
		    theirs[rk].rkey, cmp, swap);
	if (st) {
		t_result(0, name, "%u bytes: %s", len,
			 st < 0 ? strerror(-st) : ibv_wc_status_str((enum ibv_wc_status)st));
		return -1;
	}
	return 0;
}

static void t_write(const char *name, int lk, int rk, unsigned int seed)
{
	uint8_t *l = mine[lk].buf;

	t_fill(l, size, seed);
	if (xfer(name, IBV_WR_RDMA_WRITE, lk, 0, (uint32_t)size, rk, 0, 0, 0) ||
	    !remote_has(name, rk, 0, size, seed))
		return;
	t_pass(name);
}

static void t_write_odd(const char *name, int lk, int rk, unsigned int seed)
{
	size_t len = size - 2 * ODD - 1;

	t_fill(mine[lk].buf + 7, len, seed);
	if (xfer(name, IBV_WR_RDMA_WRITE, lk, 7, (uint32_t)len, rk, size + ODD, 0, 0) ||
	    !remote_has(name, rk, size + ODD, len, seed))
		return;
	t_pass(name);
}

static void t_write_small(const char *name, int lk, int rk, unsigned int seed)
{
	size_t base = 2 * size;
	int i;

	t_fill(mine[lk].buf + base, SMALL_N * SMALL_LEN, seed);
	for (i = 0; i < SMALL_N; i++)
		if (xfer(name, IBV_WR_RDMA_WRITE, lk, base + i * SMALL_LEN, SMALL_LEN, rk,
			 base + i * SMALL_LEN, 0, 0))
			return;
	if (remote_has(name, rk, base, SMALL_N * SMALL_LEN, seed))
		t_pass(name);
}

/* Wait for the server's receive completion: opcode, length, immediate. */
static int remote_recv(const char *name, int opcode, size_t len, int has_imm, unsigned int imm)
{
	unsigned int got_imm, got_len;
	int st, op, flag;
	char ans[128];

	if (ctl_send("WAITRECV\n") || ctl_line(ans, sizeof(ans)) ||
	    sscanf(ans, "WC %d %d %u %x %d", &st, &op, &got_len, &got_imm, &flag) != 5) {
		t_result(0, name, "receive completion: %s", ans);
		return -1;
	}
	if (st || op != opcode || got_len != len || flag != has_imm ||
	    (has_imm && got_imm != imm)) {
		t_result(0, name, "receive completion: status %s opcode %d len %u imm %d/%x",
			 ibv_wc_status_str((enum ibv_wc_status)st), op, got_len, flag, got_imm);
		return -1;
	}
	return 0;
}

static void t_write_imm(const char *name, int lk, int rk, unsigned int seed)
{
	struct t_side me = {.qp = qp, .cq = cq, .buf = mine[lk].buf, .mr = mine[lk].mr};
	struct ibv_wc wc;
	char ans[128];
	int st;

	t_fill(mine[lk].buf, size, seed);
	if (ask(ans, sizeof(ans), "RECV %d 0 0", rk)) {
		t_result(0, name, "posting the receive: %s", ans);
		return;
	}
	st = t_post_imm(&me, 7, IBV_WR_RDMA_WRITE_WITH_IMM, 0, (uint32_t)size, theirs[rk].addr,
			theirs[rk].rkey, seed);
	if (!st)
		st = t_wait_wc(cq, &wc, T_POLL_MS);
	T_REQUIRE(!st, name, "WRITE_WITH_IMM: %d", st);
	if (remote_recv(name, IBV_WC_RECV_RDMA_WITH_IMM, size, 1, seed) ||
	    !remote_has(name, rk, 0, size, seed))
		return;
	t_pass(name);
}

static void t_read(const char *name, int lk, int rk, unsigned int seed)
{
	size_t len = size - 2 * ODD - 1;
	char ans[128];
	long d;

	memset(mine[lk].buf, 0, size);
	T_REQUIRE(!ask(ans, sizeof(ans), "FILL %d 0 %zu %u", rk, size, seed), name, "fill: %s",
		  ans);
	if (xfer(name, IBV_WR_RDMA_READ, lk, 0, (uint32_t)size, rk, 0, 0, 0))
		return;
	t_fill(expect, size, seed);
	d = t_diff(mine[lk].buf, expect, size);
	T_REQUIRE(d < 0, name, "READ of %zu bytes: first wrong byte at %ld", size, d);
	/* Odd offsets on both sides. */
	T_REQUIRE(!ask(ans, sizeof(ans), "FILL %d %d %zu %u", rk, ODD, len, seed + 1), name,
		  "fill: %s", ans);
	if (xfer(name, IBV_WR_RDMA_READ, lk, size + 3, (uint32_t)len, rk, ODD, 0, 0))
		return;
	t_fill(expect, len, seed + 1);
	d = t_diff(mine[lk].buf + size + 3, expect, len);
	T_REQUIRE(d < 0, name, "READ at odd offsets: first wrong byte at %ld", d);
	t_pass(name);
}

static void t_send(const char *name, int lk, int rk, unsigned int seed)
{
	static const size_t lens[] = {0, 1}; /* 0: -s bytes */
	char ans[128];
	size_t len;
	unsigned int i;

	for (i = 0; i < sizeof(lens) / sizeof(lens[0]); i++) {
		len = lens[i] ? lens[i] : size;
		t_fill(mine[lk].buf, len, seed + i);
		if (ask(ans, sizeof(ans), "RECV %d %zu %zu", rk, size, size)) {
			t_result(0, name, "posting the receive: %s", ans);
			return;
		}
		if (xfer(name, IBV_WR_SEND, lk, 0, (uint32_t)len, rk, 0, 0, 0) ||
		    remote_recv(name, IBV_WC_RECV, len, 0, 0) ||
		    !remote_has(name, rk, size, len, seed + i))
			return;
	}
	t_pass(name);
}

static void t_atomic(const char *name, int lk, int rk, unsigned int seed)
{
	uint64_t start = 0x1000000000ull + seed, got;
	size_t roff = 2 * size; /* 8-byte aligned */
	char ans[128];

	T_REQUIRE(!ask(ans, sizeof(ans), "PUT8 %d %zu %" PRIu64, rk, roff, start), name, "put: %s",
		  ans);
	if (xfer(name, IBV_WR_ATOMIC_FETCH_AND_ADD, lk, 0, 8, rk, roff, 5, 0))
		return;
	memcpy(&got, mine[lk].buf, 8);
	T_REQUIRE(got == start, name, "FETCH_ADD returned %" PRIu64 ", not %" PRIu64, got, start);
	if (xfer(name, IBV_WR_ATOMIC_CMP_AND_SWP, lk, 8, 8, rk, roff, start + 5, 77))
		return;
	memcpy(&got, mine[lk].buf + 8, 8);
	T_REQUIRE(got == start + 5, name, "CMP_SWP returned %" PRIu64, got);
	T_REQUIRE(ctl_send("GET8 %d %zu\n", rk, roff) == 0 && !ctl_line(ans, sizeof(ans)) &&
			  !strcmp(ans, "VAL 77"),
		  name, "remote value after CMP_SWP: '%s', not 77", ans);
	t_pass(name);
}

/*
 * link_pulled: WRITEs stream until the link goes away; the first failed one
 * must say RETRY_EXC_ERR, the rest WR_FLUSH_ERR, and the QP be in ERR.
 */
static int run_pull(void)
{
	const char *name = "link_pulled";
	unsigned long done = 0, flushed = 0, posted = 0;
	int rk = theirs[0].rkey ? 0 : 1, lk = mine[0].mr ? 0 : 1, inflight = 0, st, n, i;
	enum ibv_wc_status first = IBV_WC_SUCCESS;
	double end = t_now_ms() + pull_secs * 1000.0;
	uint32_t len = size < 65536 ? (uint32_t)size : 65536;
	struct ibv_wc wc[8];

	while (first == IBV_WC_SUCCESS || inflight) {
		while (first == IBV_WC_SUCCESS && inflight < 8) {
			st = t_post_wr(qp, posted, IBV_WR_RDMA_WRITE, mine[lk].buf, len,
				       mine[lk].mr->lkey, theirs[rk].addr, theirs[rk].rkey, 0, 0);
			if (st) {
				t_result(0, name, "posting WRITE %lu: %s", posted, strerror(st));
				return t_summary();
			}
			posted++;
			inflight++;
		}
		n = ibv_poll_cq(cq, 8, wc);
		if (n < 0) {
			t_result(0, name, "polling: %d", n);
			return t_summary();
		}
		for (i = 0; i < n; i++, inflight--) {
			if (wc[i].status == IBV_WC_SUCCESS) {
				if (++done == 16)
					printf("# streaming\n");
				continue;
			}
			if (first == IBV_WC_SUCCESS)
				first = wc[i].status;
			else if (wc[i].status == IBV_WC_WR_FLUSH_ERR)
				flushed++;
			else
				t_result(0, name, "WRITE %" PRIu64 " after the first error: %s",
					 wc[i].wr_id, ibv_wc_status_str(wc[i].status));
		}
		if (t_now_ms() > end) {
			if (first == IBV_WC_SUCCESS)
				t_result(0, name, "%lu WRITEs in %d s and no error: link still up?",
					 done, pull_secs);
			else
				t_result(0, name,
					 "%d WRITEs never completed after the first error (%s)",
					 inflight, ibv_wc_status_str(first));
			return t_summary();
		}
		if (!n)
			usleep(200);
	}
	st = t_qp_state(qp);
	printf("# link pulled after %lu WRITEs: %s, %lu flushed, QP state %d\n", done,
	       ibv_wc_status_str(first), flushed, st);
	T_CHECK(first == IBV_WC_RETRY_EXC_ERR && st == IBV_QPS_ERR, name,
		"first error %s, QP state %d (want RETRY_EXC_ERR and ERR, %d)",
		ibv_wc_status_str(first), st, IBV_QPS_ERR);
	return t_summary();
}

static int run_client(void)
{
	static const struct {
		const char *op;
		void (*fn)(const char *name, int lk, int rk, unsigned int seed);
	} tests[] = {
		{"write", t_write},
		{"write_odd", t_write_odd},
		{"write_small", t_write_small},
		{"write_imm", t_write_imm},
		{"read", t_read},
		{"send", t_send},
		{"atomic", t_atomic},
	};
	unsigned int seed = 1;
	char name[64], ans[32];
	unsigned int i;
	int lk, rk;

	for (lk = 0; lk < 2; lk++) {
		for (rk = 0; rk < 2; rk++) {
			if (!mine[lk].mr || !theirs[rk].rkey)
				continue;
			for (i = 0; i < sizeof(tests) / sizeof(tests[0]); i++) {
				snprintf(name, sizeof(name), "%s_%s_to_%s", tests[i].op,
					 t_mem_name(lk), t_mem_name(rk));
				if (t_want(name))
					tests[i].fn(name, lk, rk, seed++);
			}
		}
	}
	ctl_send("QUIT\n");
	if (ctl_line(ans, sizeof(ans)) || strcmp(ans, "BYE"))
		t_result(0, "quit", "the server did not say goodbye");
	return t_summary();
}

int main(int argc, char **argv)
{
	int ret;

	ret = t_start(argc, argv, USAGE, "l:c:M:s:P:", opt_cb, devs);
	if (ret)
		return ret;
	if (!listen_port == !connect_to) {
		fprintf(stderr, "usage: %s\n(one of -l PORT and -c HOST:PORT)\n", USAGE);
		return 2;
	}
	ret = setup() || ctl_open() || hello();
	if (!ret)
		ret = listen_port ? serve() : pull_secs ? run_pull() : run_client();
	else
		ret = 1;
	teardown();
	if (ctl_in)
		fclose(ctl_in);
	if (ctl >= 0)
		close(ctl);
	t_close_dev(&devs[0]);
	t_close_dev(&devs[1]);
	return ret;
}
