/* SPDX-License-Identifier: GPL-2.0 */
/*
 * RoCEv2 wire format: InfiniBand transport headers carried in UDP (port
 * 4791) over IPv4/IPv6, followed by the payload, 0-3 pad bytes and a 4-byte
 * invariant CRC (ICRC).  All multi-byte fields are big-endian on the wire.
 *
 * Header order in a packet: BTH, then at most one of RETH / AtomicETH
 * (FETH then RETH for FLUSH), then ImmDt or IETH (requests), or AETH then
 * AtomicAckETH (responses).
 */
#ifndef SOFTODP_WIRE_H
#define SOFTODP_WIRE_H

#include <linux/types.h>
#include <linux/bits.h>
#include <linux/compiler.h>
#include <asm/byteorder.h>

#define SODP_ROCE_UDP_PORT	4791
#define SODP_ICRC_SIZE		4
#define SODP_PSN_MASK		0x00ffffffU
#define SODP_QPN_MASK		0x00ffffffU
#define SODP_DEFAULT_PKEY	0xffff

/* Base Transport Header, 12 bytes. */
struct sodp_bth {
	u8	opcode;
	u8	flags;		/* SE:1 MigReq:1 PadCnt:2 TVer:4 */
	__be16	pkey;
	__be32	dqpn;		/* FECN:1 BECN:1 resv:6 DestQP:24 */
	__be32	apsn;		/* AckReq:1 resv:7 PSN:24 */
} __packed;

#define SODP_BTH_SE		BIT(7)
#define SODP_BTH_MIG		BIT(6)
#define SODP_BTH_PAD_SHIFT	4
#define SODP_BTH_PAD_MASK	(3 << SODP_BTH_PAD_SHIFT)
#define SODP_BTH_TVER_MASK	0x0f
#define SODP_BTH_ACKREQ		BIT(31)
#define SODP_BTH_RESV8A_MASK	0xff000000U	/* FECN, BECN, resv6 */

/* RDMA Extended Transport Header, 16 bytes. */
struct sodp_reth {
	__be64	va;
	__be32	rkey;
	__be32	len;
} __packed;

/* Atomic Extended Transport Header, 28 bytes. */
struct sodp_atmeth {
	__be64	va;
	__be32	rkey;
	__be64	swap_add;
	__be64	compare;
} __packed;

/* ACK Extended Transport Header, 4 bytes: syndrome and MSN. */
struct sodp_aeth {
	__be32	smsn;
} __packed;

/* Atomic ACK Extended Transport Header, 8 bytes: original remote data. */
struct sodp_atmack {
	__be64	orig;
} __packed;

/* Immediate data, 4 bytes; kept in network order end to end. */
struct sodp_immdt {
	__be32	imm;
} __packed;

/* Datagram Extended Transport Header (UD), 8 bytes. */
struct sodp_deth {
	__be32	qkey;
	__be32	sqpn;		/* resv:8 SrcQP:24 */
} __packed;

/* Invalidate Extended Transport Header, 4 bytes. */
struct sodp_ieth {
	__be32	rkey;
} __packed;

/*
 * FLUSH Extended Transport Header (IBTA 1.5), 4 bytes: bits 3:0 the
 * placement type (a mask: global visibility, persistence), bits 5:4 the
 * selectivity level (the RETH's range, or the whole region of its rkey).
 */
struct sodp_feth {
	__be32	bits;
} __packed;

#define SODP_FETH_PLT_MASK	0x0000000fU
#define SODP_FETH_SEL_MASK	0x00000030U
#define SODP_FETH_SEL_SHIFT	4
#define SODP_FLUSH_GLOBAL	BIT(0)	/* IB_FLUSH_GLOBAL */
#define SODP_FLUSH_PERSISTENT	BIT(1)	/* IB_FLUSH_PERSISTENT */
#define SODP_FLUSH_RANGE	0	/* IB_FLUSH_RANGE */
#define SODP_FLUSH_MR		1	/* IB_FLUSH_MR */

static inline u32 sodp_feth_plt(const struct sodp_feth *feth)
{
	return be32_to_cpu(feth->bits) & SODP_FETH_PLT_MASK;
}

static inline u32 sodp_feth_sel(const struct sodp_feth *feth)
{
	return (be32_to_cpu(feth->bits) & SODP_FETH_SEL_MASK) >>
	       SODP_FETH_SEL_SHIFT;
}

static inline void sodp_feth_init(struct sodp_feth *feth, u32 plt, u32 sel)
{
	feth->bits = cpu_to_be32((plt & SODP_FETH_PLT_MASK) |
				 ((sel << SODP_FETH_SEL_SHIFT) &
				  SODP_FETH_SEL_MASK));
}

/* AETH syndrome: bits 7:5 select the type, bits 4:0 carry its value. */
#define SODP_AETH_TYPE_MASK	0xe0
#define SODP_AETH_ACK		0x00	/* value: credit count */
#define SODP_AETH_RNR_NAK	0x20	/* value: RNR timer code */
#define SODP_AETH_NAK		0x60	/* value: NAK code below */
#define SODP_AETH_VALUE_MASK	0x1f
#define SODP_AETH_MSN_MASK	0x00ffffffU
#define SODP_AETH_CREDITS_INVALID 0x1f

enum sodp_nak_code {
	SODP_NAK_PSN_SEQ_ERR	= 0,
	SODP_NAK_INVALID_REQ	= 1,
	SODP_NAK_REM_ACCESS_ERR	= 2,
	SODP_NAK_REM_OP_ERR	= 3,
	SODP_NAK_INVALID_RD_REQ	= 4,
};

/*
 * BTH opcodes: bits 7:5 select the transport (RC 0, UC 1, UD 3), bits 4:0
 * the operation.  UC has the SEND and RDMA WRITE operations of RC, with
 * the same operation codes.
 */
#define SODP_OP_TRANSPORT_MASK	0xe0
#define SODP_OP_TRANSPORT_RC	0x00
#define SODP_OP_TRANSPORT_UC	0x20
#define SODP_OP_TRANSPORT_UD	0x60

enum sodp_opcode {
	SODP_OP_SEND_FIRST		= 0x00,
	SODP_OP_SEND_MIDDLE		= 0x01,
	SODP_OP_SEND_LAST		= 0x02,
	SODP_OP_SEND_LAST_IMM		= 0x03,
	SODP_OP_SEND_ONLY		= 0x04,
	SODP_OP_SEND_ONLY_IMM		= 0x05,
	SODP_OP_WRITE_FIRST		= 0x06,
	SODP_OP_WRITE_MIDDLE		= 0x07,
	SODP_OP_WRITE_LAST		= 0x08,
	SODP_OP_WRITE_LAST_IMM		= 0x09,
	SODP_OP_WRITE_ONLY		= 0x0a,
	SODP_OP_WRITE_ONLY_IMM		= 0x0b,
	SODP_OP_READ_REQUEST		= 0x0c,
	SODP_OP_READ_RESP_FIRST		= 0x0d,
	SODP_OP_READ_RESP_MIDDLE	= 0x0e,
	SODP_OP_READ_RESP_LAST		= 0x0f,
	SODP_OP_READ_RESP_ONLY		= 0x10,
	SODP_OP_ACK			= 0x11,
	SODP_OP_ATOMIC_ACK		= 0x12,
	SODP_OP_CMP_SWAP		= 0x13,
	SODP_OP_FETCH_ADD		= 0x14,
	SODP_OP_SEND_LAST_INV		= 0x16,
	SODP_OP_SEND_ONLY_INV		= 0x17,
	SODP_OP_FLUSH			= 0x1c,	/* IBTA 1.5: FETH + RETH */
	SODP_OP_ATOMIC_WRITE		= 0x1d,	/* IBTA 1.5: RETH + 8 bytes */
	SODP_OP_UC_SEND_FIRST		= 0x20,
	SODP_OP_UC_SEND_MIDDLE		= 0x21,
	SODP_OP_UC_SEND_LAST		= 0x22,
	SODP_OP_UC_SEND_LAST_IMM	= 0x23,
	SODP_OP_UC_SEND_ONLY		= 0x24,
	SODP_OP_UC_SEND_ONLY_IMM	= 0x25,
	SODP_OP_UC_WRITE_FIRST		= 0x26,
	SODP_OP_UC_WRITE_MIDDLE		= 0x27,
	SODP_OP_UC_WRITE_LAST		= 0x28,
	SODP_OP_UC_WRITE_LAST_IMM	= 0x29,
	SODP_OP_UC_WRITE_ONLY		= 0x2a,
	SODP_OP_UC_WRITE_ONLY_IMM	= 0x2b,
	SODP_OP_UD_SEND_ONLY		= 0x64,
	SODP_OP_UD_SEND_ONLY_IMM	= 0x65,
	SODP_OP_NUM			= 0x100, /* the table covers every byte */
};

/* What an opcode is and which headers follow its BTH. */
enum sodp_opflag {
	SODP_OPF_REQ		= BIT(0),	/* requester -> responder */
	SODP_OPF_RESP		= BIT(1),	/* responder -> requester */
	SODP_OPF_FIRST		= BIT(2),
	SODP_OPF_MIDDLE		= BIT(3),
	SODP_OPF_LAST		= BIT(4),
	SODP_OPF_SEND		= BIT(5),
	SODP_OPF_WRITE		= BIT(6),
	SODP_OPF_READ		= BIT(7),
	SODP_OPF_ATOMIC		= BIT(8),
	SODP_OPF_PAYLOAD	= BIT(9),	/* may carry data */
	SODP_OPF_RETH		= BIT(10),
	SODP_OPF_ATMETH		= BIT(11),
	SODP_OPF_IMMDT		= BIT(12),
	SODP_OPF_IETH		= BIT(13),
	SODP_OPF_AETH		= BIT(14),
	SODP_OPF_ATMACK		= BIT(15),
	SODP_OPF_DETH		= BIT(16),
	SODP_OPF_ATOMIC_WRITE	= BIT(17),
	SODP_OPF_FLUSH		= BIT(18),
	SODP_OPF_FETH		= BIT(19),
	SODP_OPF_ONLY		= SODP_OPF_FIRST | SODP_OPF_LAST,
};

/**
 * struct sodp_opinfo - static description of one BTH opcode
 * @name: name for debug output
 * @flags: &enum sodp_opflag bits
 * @hdr_len: length of BTH plus all extension headers
 * @off_reth: offset of the RETH from the start of the BTH (0: absent)
 * @off_atmeth: offset of the AtomicETH (0: absent)
 * @off_immdt: offset of the immediate data (0: absent)
 * @off_ieth: offset of the IETH (0: absent)
 * @off_aeth: offset of the AETH (0: absent)
 * @off_atmack: offset of the AtomicAckETH (0: absent)
 * @off_deth: offset of the DETH (0: absent)
 * @off_feth: offset of the FETH (0: absent)
 */
struct sodp_opinfo {
	const char	*name;
	u32		flags;
	u8		hdr_len;
	u8		off_reth;
	u8		off_atmeth;
	u8		off_immdt;
	u8		off_ieth;
	u8		off_aeth;
	u8		off_atmack;
	u8		off_deth;
	u8		off_feth;
};

extern const struct sodp_opinfo sodp_opinfo[SODP_OP_NUM];

/**
 * sodp_op_info() - description of a BTH opcode
 * @opcode: the opcode byte of a BTH
 *
 * Return: the description, or NULL for opcodes softodp does not handle
 * (other transports, reserved values).
 */
static inline const struct sodp_opinfo *sodp_op_info(u8 opcode)
{
	if (!sodp_opinfo[opcode].name)
		return NULL;
	return &sodp_opinfo[opcode];
}

static inline u32 sodp_deth_sqpn(const struct sodp_deth *deth)
{
	return be32_to_cpu(deth->sqpn) & SODP_QPN_MASK;
}

/* PSN arithmetic in the 24-bit sequence space. */
static inline u32 sodp_psn_add(u32 psn, u32 n)
{
	return (psn + n) & SODP_PSN_MASK;
}

/* Signed distance a - b, in (-2^23, 2^23]. */
static inline s32 sodp_psn_diff(u32 a, u32 b)
{
	return (s32)((a - b) << 8) >> 8;
}

static inline u32 sodp_bth_psn(const struct sodp_bth *bth)
{
	return be32_to_cpu(bth->apsn) & SODP_PSN_MASK;
}

static inline u32 sodp_bth_qpn(const struct sodp_bth *bth)
{
	return be32_to_cpu(bth->dqpn) & SODP_QPN_MASK;
}

static inline bool sodp_bth_ackreq(const struct sodp_bth *bth)
{
	return be32_to_cpu(bth->apsn) & SODP_BTH_ACKREQ;
}

static inline unsigned int sodp_bth_pad(const struct sodp_bth *bth)
{
	return (bth->flags & SODP_BTH_PAD_MASK) >> SODP_BTH_PAD_SHIFT;
}

/**
 * sodp_bth_init() - fill a BTH
 * @bth: header to fill
 * @opcode: BTH opcode
 * @se: solicited event
 * @pad: number of pad bytes (0-3) before the ICRC
 * @pkey: partition key
 * @dqpn: destination QP number
 * @ackreq: ask the responder for an acknowledgement
 * @psn: packet sequence number
 */
static inline void sodp_bth_init(struct sodp_bth *bth, u8 opcode, bool se,
				 unsigned int pad, u16 pkey, u32 dqpn,
				 bool ackreq, u32 psn)
{
	bth->opcode = opcode;
	bth->flags = (se ? SODP_BTH_SE : 0) | SODP_BTH_MIG |
		     ((pad << SODP_BTH_PAD_SHIFT) & SODP_BTH_PAD_MASK);
	bth->pkey = cpu_to_be16(pkey);
	bth->dqpn = cpu_to_be32(dqpn & SODP_QPN_MASK);
	bth->apsn = cpu_to_be32((ackreq ? SODP_BTH_ACKREQ : 0) |
				(psn & SODP_PSN_MASK));
}

static inline u8 sodp_aeth_syndrome(const struct sodp_aeth *aeth)
{
	return be32_to_cpu(aeth->smsn) >> 24;
}

static inline u32 sodp_aeth_msn(const struct sodp_aeth *aeth)
{
	return be32_to_cpu(aeth->smsn) & SODP_AETH_MSN_MASK;
}

static inline void sodp_aeth_init(struct sodp_aeth *aeth, u8 syndrome, u32 msn)
{
	aeth->smsn = cpu_to_be32((u32)syndrome << 24 | (msn & SODP_AETH_MSN_MASK));
}

struct sk_buff;

/**
 * sodp_icrc_compute() - invariant CRC of a RoCEv2 packet
 * @skb: packet whose network header points at the IPv4/IPv6 header,
 *	followed by the UDP header and the BTH
 * @bth_off: offset of the BTH from skb->data
 * @len: bytes from the BTH up to (excluding) the ICRC
 *
 * Return: the ICRC value in the byte order it is stored on the wire
 * (as a little-endian 32-bit word).
 */
u32 sodp_icrc_compute(const struct sk_buff *skb, unsigned int bth_off,
		      unsigned int len);

/**
 * sodp_icrc_compute_rxe_flush() - the ICRC stock rdma_rxe gives a FLUSH
 * @skb: as for sodp_icrc_compute()
 * @bth_off: offset of the BTH from skb->data
 * @len: bytes from the BTH up to (excluding) the ICRC
 *
 * rdma_rxe (6.2 on) has no payload offset in its opcode table entry for
 * FLUSH, so the payload it checksums starts at the BTH: its ICRC of a FLUSH
 * covers the packet as specified and then the @len bytes from the BTH once
 * more, unmasked.  It drops a FLUSH with the specified ICRC, and sends its
 * own with this one.
 *
 * Return: that ICRC, in the byte order of sodp_icrc_compute().
 */
u32 sodp_icrc_compute_rxe_flush(const struct sk_buff *skb,
				unsigned int bth_off, unsigned int len);

/**
 * sodp_icrc_matches() - is @icrc right for a received packet?
 * @skb: the packet, skb->data at the BTH, network header set
 * @len: bytes from the BTH up to (excluding) the ICRC
 * @icrc: the ICRC it carries (as sodp_icrc_compute() returns it)
 *
 * The specified ICRC, or for a FLUSH also stock rdma_rxe's form (see
 * sodp_icrc_compute_rxe_flush()); the packet's CRC is computed once.
 */
bool sodp_icrc_matches(const struct sk_buff *skb, unsigned int len, u32 icrc);

#endif /* SOFTODP_WIRE_H */
