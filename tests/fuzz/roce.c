// SPDX-License-Identifier: GPL-2.0
/*
 * RoCEv2 packets for the fuzzer (see roce.h).
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <net/if.h>
#include <poll.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "roce.h"

static const struct r_op r_ops[256] = {
	[OP_SEND_FIRST] = {"SEND_FIRST", H_PAYLOAD},
	[OP_SEND_MIDDLE] = {"SEND_MIDDLE", H_PAYLOAD},
	[OP_SEND_LAST] = {"SEND_LAST", H_PAYLOAD},
	[OP_SEND_LAST_IMM] = {"SEND_LAST_IMM", H_IMM | H_PAYLOAD},
	[OP_SEND_ONLY] = {"SEND_ONLY", H_PAYLOAD},
	[OP_SEND_ONLY_IMM] = {"SEND_ONLY_IMM", H_IMM | H_PAYLOAD},
	[OP_WRITE_FIRST] = {"WRITE_FIRST", H_RETH | H_PAYLOAD},
	[OP_WRITE_MIDDLE] = {"WRITE_MIDDLE", H_PAYLOAD},
	[OP_WRITE_LAST] = {"WRITE_LAST", H_PAYLOAD},
	[OP_WRITE_LAST_IMM] = {"WRITE_LAST_IMM", H_IMM | H_PAYLOAD},
	[OP_WRITE_ONLY] = {"WRITE_ONLY", H_RETH | H_PAYLOAD},
	[OP_WRITE_ONLY_IMM] = {"WRITE_ONLY_IMM", H_RETH | H_IMM | H_PAYLOAD},
	[OP_READ_REQ] = {"READ_REQUEST", H_RETH},
	[OP_READ_RESP_FIRST] = {"READ_RESP_FIRST", H_AETH | H_PAYLOAD},
	[OP_READ_RESP_MIDDLE] = {"READ_RESP_MIDDLE", H_PAYLOAD},
	[OP_READ_RESP_LAST] = {"READ_RESP_LAST", H_AETH | H_PAYLOAD},
	[OP_READ_RESP_ONLY] = {"READ_RESP_ONLY", H_AETH | H_PAYLOAD},
	[OP_ACK] = {"ACK", H_AETH},
	[OP_ATOMIC_ACK] = {"ATOMIC_ACK", H_AETH | H_ATMACK},
	[OP_CMP_SWAP] = {"CMP_SWAP", H_ATMETH},
	[OP_FETCH_ADD] = {"FETCH_ADD", H_ATMETH},
	[OP_SEND_LAST_INV] = {"SEND_LAST_INV", H_IETH | H_PAYLOAD},
	[OP_SEND_ONLY_INV] = {"SEND_ONLY_INV", H_IETH | H_PAYLOAD},
	[OP_FLUSH] = {"FLUSH", H_FETH | H_RETH},
	[OP_ATOMIC_WRITE] = {"ATOMIC_WRITE", H_RETH | H_PAYLOAD},
	[OP_UC + OP_SEND_FIRST] = {"UC_SEND_FIRST", H_PAYLOAD},
	[OP_UC + OP_SEND_MIDDLE] = {"UC_SEND_MIDDLE", H_PAYLOAD},
	[OP_UC + OP_SEND_LAST] = {"UC_SEND_LAST", H_PAYLOAD},
	[OP_UC + OP_SEND_LAST_IMM] = {"UC_SEND_LAST_IMM", H_IMM | H_PAYLOAD},
	[OP_UC + OP_SEND_ONLY] = {"UC_SEND_ONLY", H_PAYLOAD},
	[OP_UC + OP_SEND_ONLY_IMM] = {"UC_SEND_ONLY_IMM", H_IMM | H_PAYLOAD},
	[OP_UC + OP_WRITE_FIRST] = {"UC_WRITE_FIRST", H_RETH | H_PAYLOAD},
	[OP_UC + OP_WRITE_MIDDLE] = {"UC_WRITE_MIDDLE", H_PAYLOAD},
	[OP_UC + OP_WRITE_LAST] = {"UC_WRITE_LAST", H_PAYLOAD},
	[OP_UC + OP_WRITE_LAST_IMM] = {"UC_WRITE_LAST_IMM", H_IMM | H_PAYLOAD},
	[OP_UC + OP_WRITE_ONLY] = {"UC_WRITE_ONLY", H_RETH | H_PAYLOAD},
	[OP_UC + OP_WRITE_ONLY_IMM] = {"UC_WRITE_ONLY_IMM", H_RETH | H_IMM | H_PAYLOAD},
	[OP_UD_SEND_ONLY] = {"UD_SEND_ONLY", H_DETH | H_PAYLOAD},
	[OP_UD_SEND_ONLY_IMM] = {"UD_SEND_ONLY_IMM", H_DETH | H_IMM | H_PAYLOAD},
};

/* Header sizes in wire order (the order of the H_* bits). */
static const unsigned int r_sizes[] = {
	R_FETH, R_RETH, R_ATMETH, R_DETH, R_IMM, R_IETH, R_AETH, R_ATMACK,
};

const struct r_op *r_op(uint8_t op)
{
	return r_ops[op].name ? &r_ops[op] : NULL;
}

unsigned int r_hdr_off(uint8_t op, unsigned int h)
{
	unsigned int off = R_BTH, i;

	if (!(r_ops[op].hdrs & h))
		return 0;
	for (i = 0; (1u << i) != h; i++)
		if (r_ops[op].hdrs & (1u << i))
			off += r_sizes[i];
	return off;
}

unsigned int r_hdr_len(uint8_t op)
{
	unsigned int len = R_BTH, i;

	for (i = 0; i < sizeof(r_sizes) / sizeof(r_sizes[0]); i++)
		if (r_ops[op].hdrs & (1u << i))
			len += r_sizes[i];
	return len;
}

void r_put32(uint8_t *p, uint32_t v)
{
	p[0] = v >> 24;
	p[1] = v >> 16;
	p[2] = v >> 8;
	p[3] = v;
}

void r_put64(uint8_t *p, uint64_t v)
{
	r_put32(p, v >> 32);
	r_put32(p + 4, (uint32_t)v);
}

uint32_t r_get32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

void r_bth(uint8_t *p, uint8_t op, int se, unsigned int pad, uint16_t pkey, uint32_t dqpn,
	   int ackreq, uint32_t psn)
{
	p[0] = op;
	p[1] = (se ? 0x80 : 0) | 0x40 | (pad & 3) << 4; /* TVer 0 */
	p[2] = pkey >> 8;
	p[3] = pkey & 0xff;
	r_put32(p + 4, dqpn & 0xffffff);
	r_put32(p + 8, (ackreq ? 0x80000000u : 0) | (psn & 0xffffff));
}

void r_reth(uint8_t *p, uint64_t va, uint32_t rkey, uint32_t len)
{
	r_put64(p, va);
	r_put32(p + 8, rkey);
	r_put32(p + 12, len);
}

void r_atmeth(uint8_t *p, uint64_t va, uint32_t rkey, uint64_t swap_add, uint64_t cmp)
{
	r_put64(p, va);
	r_put32(p + 8, rkey);
	r_put64(p + 12, swap_add);
	r_put64(p + 20, cmp);
}

void r_deth(uint8_t *p, uint32_t qkey, uint32_t sqpn)
{
	r_put32(p, qkey);
	r_put32(p + 4, sqpn & 0xffffff);
}

void r_aeth(uint8_t *p, uint8_t syndrome, uint32_t msn)
{
	r_put32(p, (uint32_t)syndrome << 24 | (msn & 0xffffff));
}

uint32_t r_crc32(uint32_t crc, const void *buf, size_t n)
{
	static uint32_t table[256];
	const uint8_t *p = buf;
	uint32_t c;
	int i, k;

	if (!table[1]) {
		for (i = 0; i < 256; i++) {
			c = i;
			for (k = 0; k < 8; k++)
				c = c & 1 ? 0xedb88320u ^ (c >> 1) : c >> 1;
			table[i] = c;
		}
	}
	crc = ~crc;
	while (n--)
		crc = table[(crc ^ *p++) & 0xff] ^ (crc >> 8);
	return ~crc;
}

static uint16_t r_ip_csum(const uint8_t *p, size_t n)
{
	uint32_t sum = 0;
	size_t i;

	for (i = 0; i + 1 < n; i += 2)
		sum += (uint32_t)p[i] << 8 | p[i + 1];
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

void r_frame_fix_ip_csum(struct r_frame *f)
{
	uint16_t c;

	f->b[10] = f->b[11] = 0;
	c = r_ip_csum(f->b, R_IP);
	f->b[10] = c >> 8;
	f->b[11] = c & 0xff;
}

void r_frame_fix_lengths(struct r_frame *f)
{
	uint8_t *ip = f->b, *udp = f->b + R_IP;

	ip[2] = f->len >> 8;
	ip[3] = f->len & 0xff;
	ip[10] = ip[11] = 0;
	udp[4] = (f->len - R_IP) >> 8;
	udp[5] = (f->len - R_IP) & 0xff;
	udp[6] = udp[7] = 0; /* no UDP checksum, as RoCEv2 senders do */
	ip[10] = r_ip_csum(ip, R_IP) >> 8;
	ip[11] = r_ip_csum(ip, R_IP) & 0xff;
}

uint32_t r_icrc(const struct r_frame *f, size_t tp_len)
{
	static const uint8_t lrh[8] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
	uint8_t h[R_IP + R_UDP + R_BTH];
	uint32_t crc;

	/* The variant fields are ones: TOS, TTL, IP checksum, UDP checksum, BTH resv8a. */
	memcpy(h, f->b, sizeof(h));
	h[1] = 0xff;
	h[8] = 0xff;
	h[10] = h[11] = 0xff;
	h[R_IP + 6] = h[R_IP + 7] = 0xff;
	h[R_IP + R_UDP + 4] = 0xff;
	crc = r_crc32(0, lrh, sizeof(lrh));
	crc = r_crc32(crc, h, sizeof(h));
	return r_crc32(crc, f->b + sizeof(h), tp_len - R_BTH);
}

void r_frame_fix_icrc(struct r_frame *f)
{
	size_t tp = f->len - R_IP - R_UDP - R_ICRC;
	uint32_t icrc = r_icrc(f, tp);
	uint8_t *p = f->b + f->len - R_ICRC;

	/* Least significant byte first. */
	p[0] = icrc;
	p[1] = icrc >> 8;
	p[2] = icrc >> 16;
	p[3] = icrc >> 24;
}

void r_frame_build(struct r_frame *f, const struct r_path *path, const uint8_t *tp, size_t n,
		   int icrc)
{
	static uint16_t ip_id;
	uint8_t *ip = f->b, *udp = f->b + R_IP;

	memset(f->b, 0, R_IP + R_UDP);
	ip[0] = 0x45;
	ip[4] = ++ip_id >> 8;
	ip[5] = ip_id & 0xff;
	ip[6] = 0x40; /* DF */
	ip[8] = 64;
	ip[9] = 17;
	memcpy(ip + 12, &path->saddr, 4);
	memcpy(ip + 16, &path->daddr, 4);
	udp[0] = path->sport >> 8;
	udp[1] = path->sport & 0xff;
	udp[2] = 4791 >> 8;
	udp[3] = 4791 & 0xff;
	memcpy(r_tp(f), tp, n);
	f->len = R_IP + R_UDP + n + (icrc ? R_ICRC : 0);
	r_frame_fix_lengths(f);
	if (icrc)
		r_frame_fix_icrc(f);
}

/* ---- the link ------------------------------------------------------------- */

int r_link_open(struct r_link *l, const char *netns, const char *ifname, const uint8_t dmac[6])
{
	char path[256];
	int self, ns, ret = -1;
	struct sockaddr_ll sll = {.sll_family = AF_PACKET, .sll_protocol = htons(ETH_P_IP)};

	memset(l, 0, sizeof(*l));
	l->tx = l->rx = -1;
	memcpy(l->dmac, dmac, 6);
	snprintf(path, sizeof(path), "/run/netns/%s", netns);
	self = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
	ns = open(path, O_RDONLY | O_CLOEXEC);
	if (self < 0 || ns < 0) {
		fprintf(stderr, "cannot open network namespace %s: %s\n", path, strerror(errno));
		goto out;
	}
	if (setns(ns, CLONE_NEWNET)) {
		fprintf(stderr, "setns(%s): %s\n", netns, strerror(errno));
		goto out;
	}
	/* Sockets keep the namespace they were made in. */
	l->ifindex = if_nametoindex(ifname);
	l->tx = socket(AF_PACKET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	l->rx = socket(AF_PACKET, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, htons(ETH_P_IP));
	if (setns(self, CLONE_NEWNET))
		fprintf(stderr, "setns back: %s\n", strerror(errno));
	else if (!l->ifindex)
		fprintf(stderr, "no interface %s in namespace %s\n", ifname, netns);
	else if (l->tx < 0 || l->rx < 0)
		fprintf(stderr, "AF_PACKET socket: %s\n", strerror(errno));
	else
		ret = 0;
	if (!ret) {
		sll.sll_ifindex = l->ifindex;
		if (bind(l->rx, (struct sockaddr *)&sll, sizeof(sll))) {
			fprintf(stderr, "bind to %s: %s\n", ifname, strerror(errno));
			ret = -1;
		}
	}
out:
	if (self >= 0)
		close(self);
	if (ns >= 0)
		close(ns);
	if (ret)
		r_link_close(l);
	return ret;
}

void r_link_close(struct r_link *l)
{
	if (l->tx >= 0)
		close(l->tx);
	if (l->rx >= 0)
		close(l->rx);
	l->tx = l->rx = -1;
}

int r_send(struct r_link *l, const struct r_frame *f)
{
	struct sockaddr_ll sll = {
		.sll_family = AF_PACKET,
		.sll_protocol = htons(ETH_P_IP),
		.sll_ifindex = l->ifindex,
		.sll_halen = 6,
	};
	int tries;

	memcpy(sll.sll_addr, l->dmac, 6);
	for (tries = 0; tries < 100; tries++) {
		if (sendto(l->tx, f->b, f->len, 0, (struct sockaddr *)&sll, sizeof(sll)) ==
		    (ssize_t)f->len) {
			l->sent++;
			return 0;
		}
		if (errno != ENOBUFS && errno != EAGAIN)
			break;
		usleep(1000);
	}
	fprintf(stderr, "sendto: %s\n", strerror(errno));
	return -1;
}

void r_cap_drain(struct r_link *l)
{
	uint8_t b[R_MAX_FRAME];

	while (recv(l->rx, b, sizeof(b), 0) > 0)
		;
}

int r_cap_next(struct r_link *l, uint32_t dqpn, int ms, struct r_seen *s)
{
	uint8_t b[R_MAX_FRAME], *tp;
	struct sockaddr_ll from;
	socklen_t fl;
	ssize_t n;
	struct pollfd pfd = {.fd = l->rx, .events = POLLIN};
	unsigned int ihl, off;

	for (;;) {
		fl = sizeof(from);
		n = recvfrom(l->rx, b, sizeof(b), 0, (struct sockaddr *)&from, &fl);
		if (n < 0) {
			if (errno != EAGAIN || poll(&pfd, 1, ms) != 1)
				return -1;
			continue;
		}
		if (from.sll_pkttype == PACKET_OUTGOING || n < R_IP || (b[0] >> 4) != 4)
			continue;
		ihl = (b[0] & 15) * 4;
		if (b[9] != 17 || (size_t)n < ihl + R_UDP + R_BTH + R_ICRC ||
		    (b[ihl + 2] << 8 | b[ihl + 3]) != 4791)
			continue;
		tp = b + ihl + R_UDP;
		if ((r_get32(tp + 4) & 0xffffff) != dqpn)
			continue;
		memset(s, 0, sizeof(*s));
		s->op = tp[0];
		s->dqpn = dqpn;
		s->psn = r_get32(tp + 8) & 0xffffff;
		off = r_op(s->op) ? r_hdr_off(s->op, H_AETH) : 0;
		if (off) {
			s->syndrome = tp[off];
			s->msn = r_get32(tp + off) & 0xffffff;
		}
		off = r_op(s->op) ? r_hdr_len(s->op) : R_BTH;
		if ((size_t)n >= ihl + R_UDP + off + R_ICRC) {
			s->paylen = n - ihl - R_UDP - off - R_ICRC - ((tp[1] >> 4) & 3);
			if (s->paylen > sizeof(s->payload))
				s->paylen = sizeof(s->payload);
			memcpy(s->payload, tp + off, s->paylen);
		}
		return 0;
	}
}
