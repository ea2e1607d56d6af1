/* SPDX-License-Identifier: GPL-2.0 */
/*
 * RoCEv2 packets built byte by byte in userspace, for the fuzzer: the
 * opcode layouts (IBTA), the invariant CRC with the same masked fields as
 * kernel/softodp/icrc.c, IPv4/UDP framing, and a sender that injects the
 * frames on a veth in another network namespace through AF_PACKET, plus a
 * capture of the RoCEv2 packets coming back on that veth.
 */
#ifndef SOFTODP_FUZZ_ROCE_H
#define SOFTODP_FUZZ_ROCE_H

#include <stddef.h>
#include <stdint.h>

#define R_BTH	    12
#define R_FETH	    4
#define R_RETH	    16
#define R_ATMETH    28
#define R_AETH	    4
#define R_ATMACK    8
#define R_IMM	    4
#define R_IETH	    4
#define R_DETH	    8
#define R_ICRC	    4
#define R_IP	    20
#define R_UDP	    8
#define R_MAX_FRAME 9000

enum {
	OP_SEND_FIRST = 0x00,
	OP_SEND_MIDDLE = 0x01,
	OP_SEND_LAST = 0x02,
	OP_SEND_LAST_IMM = 0x03,
	OP_SEND_ONLY = 0x04,
	OP_SEND_ONLY_IMM = 0x05,
	OP_WRITE_FIRST = 0x06,
	OP_WRITE_MIDDLE = 0x07,
	OP_WRITE_LAST = 0x08,
	OP_WRITE_LAST_IMM = 0x09,
	OP_WRITE_ONLY = 0x0a,
	OP_WRITE_ONLY_IMM = 0x0b,
	OP_READ_REQ = 0x0c,
	OP_READ_RESP_FIRST = 0x0d,
	OP_READ_RESP_MIDDLE = 0x0e,
	OP_READ_RESP_LAST = 0x0f,
	OP_READ_RESP_ONLY = 0x10,
	OP_ACK = 0x11,
	OP_ATOMIC_ACK = 0x12,
	OP_CMP_SWAP = 0x13,
	OP_FETCH_ADD = 0x14,
	OP_SEND_LAST_INV = 0x16,
	OP_SEND_ONLY_INV = 0x17,
	OP_FLUSH = 0x1c,
	OP_ATOMIC_WRITE = 0x1d,
	OP_UC = 0x20, /* UC opcodes: the RC ones of SEND and WRITE + 0x20 */
	OP_UD_SEND_ONLY = 0x64,
	OP_UD_SEND_ONLY_IMM = 0x65,
};

/* Extension headers after the BTH, in wire order. */
enum {
	H_FETH = 1 << 0, /* FLUSH: before its RETH */
	H_RETH = 1 << 1,
	H_ATMETH = 1 << 2,
	H_DETH = 1 << 3,
	H_IMM = 1 << 4,
	H_IETH = 1 << 5,
	H_AETH = 1 << 6,
	H_ATMACK = 1 << 7,
	H_PAYLOAD = 1 << 8, /* may carry data */
};

struct r_op {
	const char *name;
	unsigned int hdrs; /* H_* */
};

/* The layout of @op, or NULL if softodp does not know it. */
const struct r_op *r_op(uint8_t op);
/* BTH plus extension headers of a known @op. */
unsigned int r_hdr_len(uint8_t op);
/* Offset of extension header @h (H_*) of @op from the BTH; 0 if absent. */
unsigned int r_hdr_off(uint8_t op, unsigned int h);

/* Header writers: @p points at the header. */
void r_bth(uint8_t *p, uint8_t op, int se, unsigned int pad, uint16_t pkey, uint32_t dqpn,
	   int ackreq, uint32_t psn);
void r_reth(uint8_t *p, uint64_t va, uint32_t rkey, uint32_t len);
void r_atmeth(uint8_t *p, uint64_t va, uint32_t rkey, uint64_t swap_add, uint64_t cmp);
void r_deth(uint8_t *p, uint32_t qkey, uint32_t sqpn);
void r_aeth(uint8_t *p, uint8_t syndrome, uint32_t msn);
void r_put32(uint8_t *p, uint32_t v);
void r_put64(uint8_t *p, uint64_t v);
uint32_t r_get32(const uint8_t *p);

/* CRC-32 (IEEE, reflected), zlib convention: r_crc32(0, ...) to start. */
uint32_t r_crc32(uint32_t crc, const void *buf, size_t n);

/* One IPv4/UDP/RoCEv2 frame (no link header). */
struct r_frame {
	uint8_t b[R_MAX_FRAME];
	size_t len;
};

struct r_path {
	uint32_t saddr, daddr; /* network order */
	uint16_t sport;	       /* host order */
};

/*
 * @f = IPv4 + UDP headers for @path around the transport bytes @tp[@n]
 * (BTH onwards, pad included, no ICRC), then the ICRC over the result.
 * With @icrc 0 the ICRC is left out (for truncations).
 */
void r_frame_build(struct r_frame *f, const struct r_path *path, const uint8_t *tp, size_t n,
		   int icrc);
/* Recompute the IPv4 header checksum only. */
void r_frame_fix_ip_csum(struct r_frame *f);
/* Rewrite the IPv4 and UDP lengths and the IP checksum for f->len. */
void r_frame_fix_lengths(struct r_frame *f);
/* The ICRC of the transport bytes of @f up to @tp_len (masked fields as the kernel). */
uint32_t r_icrc(const struct r_frame *f, size_t tp_len);
/* Recompute the ICRC of a complete frame (its last 4 bytes). */
void r_frame_fix_icrc(struct r_frame *f);
/* The transport bytes (BTH onwards) of @f. */
static inline uint8_t *r_tp(struct r_frame *f)
{
	return f->b + R_IP + R_UDP;
}

/* ---- injection and capture on a veth in another namespace ---------------- */

struct r_link {
	int tx, rx;	    /* AF_PACKET sockets, opened in the namespace */
	int ifindex;	    /* of the veth in the namespace */
	uint8_t dmac[6];    /* MAC of the target netdev */
	unsigned long sent; /* frames handed to the veth */
};

/*
 * Open the sockets on @ifname of network namespace @netns (a name under
 * /run/netns) towards the MAC @dmac.  0, or -1 with a message on stderr.
 */
int r_link_open(struct r_link *l, const char *netns, const char *ifname, const uint8_t dmac[6]);
void r_link_close(struct r_link *l);
/* Send @f; 0 or -1. */
int r_send(struct r_link *l, const struct r_frame *f);

/* A RoCEv2 packet seen arriving on the veth. */
struct r_seen {
	uint8_t op;
	uint32_t dqpn, psn;
	uint8_t syndrome; /* AETH, if any */
	uint32_t msn;
	size_t paylen;
	uint8_t payload[4096];
};

/* Drop what the capture socket holds. */
void r_cap_drain(struct r_link *l);
/*
 * The next RoCEv2 packet to QP @dqpn arriving within @ms into @s: 0, or -1
 * if none came.
 */
int r_cap_next(struct r_link *l, uint32_t dqpn, int ms, struct r_seen *s);

#endif /* SOFTODP_FUZZ_ROCE_H */
