// SPDX-License-Identifier: GPL-2.0
/*
 * The opcode table (RC, UC and UD): for each BTH opcode, what kind of packet
 * it is and where each extension header sits.  Receive-side parsing and
 * send-side building both work from this table only.
 */
#include "wire.h"

#define BTH_LEN		sizeof(struct sodp_bth)
#define RETH_LEN	sizeof(struct sodp_reth)
#define ATMETH_LEN	sizeof(struct sodp_atmeth)
#define IMMDT_LEN	sizeof(struct sodp_immdt)
#define IETH_LEN	sizeof(struct sodp_ieth)
#define AETH_LEN	sizeof(struct sodp_aeth)
#define ATMACK_LEN	sizeof(struct sodp_atmack)
#define DETH_LEN	sizeof(struct sodp_deth)
#define FETH_LEN	sizeof(struct sodp_feth)

#define OPI_REQ(f)		(SODP_OPF_REQ | (f))
#define OPI_RESP(f)		(SODP_OPF_RESP | (f))

/* Send and write requests: data, with RETH on the first packet of a write. */
#define OPI_SEND(pos)	OPI_REQ(SODP_OPF_SEND | SODP_OPF_PAYLOAD | (pos))
#define OPI_WRITE(pos)	OPI_REQ(SODP_OPF_WRITE | SODP_OPF_PAYLOAD | (pos))
#define OPI_READ_RESP(pos)	OPI_RESP(SODP_OPF_READ | SODP_OPF_PAYLOAD | (pos))

/* Entry shapes shared by RC and UC: headers after the BTH. */
#define OPE_BTH(nm, f)		{ .name = nm, .flags = f, .hdr_len = BTH_LEN }
#define OPE_IMM(nm, f)		{ .name = nm, .flags = f,		\
				  .hdr_len = BTH_LEN + IMMDT_LEN,	\
				  .off_immdt = BTH_LEN }
#define OPE_RETH(nm, f)		{ .name = nm, .flags = f,		\
				  .hdr_len = BTH_LEN + RETH_LEN,	\
				  .off_reth = BTH_LEN }
#define OPE_RETH_IMM(nm, f)	{ .name = nm, .flags = f,		\
				  .hdr_len = BTH_LEN + RETH_LEN + IMMDT_LEN, \
				  .off_reth = BTH_LEN,			\
				  .off_immdt = BTH_LEN + RETH_LEN }

const struct sodp_opinfo sodp_opinfo[SODP_OP_NUM] = {
	[SODP_OP_SEND_FIRST] = {
		.name = "SEND_FIRST",
		.flags = OPI_SEND(SODP_OPF_FIRST),
		.hdr_len = BTH_LEN,
	},
	[SODP_OP_SEND_MIDDLE] = {
		.name = "SEND_MIDDLE",
		.flags = OPI_SEND(SODP_OPF_MIDDLE),
		.hdr_len = BTH_LEN,
	},
	[SODP_OP_SEND_LAST] = {
		.name = "SEND_LAST",
		.flags = OPI_SEND(SODP_OPF_LAST),
		.hdr_len = BTH_LEN,
	},
	[SODP_OP_SEND_LAST_IMM] = {
		.name = "SEND_LAST_WITH_IMMEDIATE",
		.flags = OPI_SEND(SODP_OPF_LAST | SODP_OPF_IMMDT),
		.hdr_len = BTH_LEN + IMMDT_LEN,
		.off_immdt = BTH_LEN,
	},
	[SODP_OP_SEND_ONLY] = {
		.name = "SEND_ONLY",
		.flags = OPI_SEND(SODP_OPF_ONLY),
		.hdr_len = BTH_LEN,
	},
	[SODP_OP_SEND_ONLY_IMM] = {
		.name = "SEND_ONLY_WITH_IMMEDIATE",
		.flags = OPI_SEND(SODP_OPF_ONLY | SODP_OPF_IMMDT),
		.hdr_len = BTH_LEN + IMMDT_LEN,
		.off_immdt = BTH_LEN,
	},
	[SODP_OP_SEND_LAST_INV] = {
		.name = "SEND_LAST_WITH_INVALIDATE",
		.flags = OPI_SEND(SODP_OPF_LAST | SODP_OPF_IETH),
		.hdr_len = BTH_LEN + IETH_LEN,
		.off_ieth = BTH_LEN,
	},
	[SODP_OP_SEND_ONLY_INV] = {
		.name = "SEND_ONLY_WITH_INVALIDATE",
		.flags = OPI_SEND(SODP_OPF_ONLY | SODP_OPF_IETH),
		.hdr_len = BTH_LEN + IETH_LEN,
		.off_ieth = BTH_LEN,
	},
	[SODP_OP_WRITE_FIRST] = {
		.name = "RDMA_WRITE_FIRST",
		.flags = OPI_WRITE(SODP_OPF_FIRST | SODP_OPF_RETH),
		.hdr_len = BTH_LEN + RETH_LEN,
		.off_reth = BTH_LEN,
	},
	[SODP_OP_WRITE_MIDDLE] = {
		.name = "RDMA_WRITE_MIDDLE",
		.flags = OPI_WRITE(SODP_OPF_MIDDLE),
		.hdr_len = BTH_LEN,
	},
	[SODP_OP_WRITE_LAST] = {
		.name = "RDMA_WRITE_LAST",
		.flags = OPI_WRITE(SODP_OPF_LAST),
		.hdr_len = BTH_LEN,
	},
	[SODP_OP_WRITE_LAST_IMM] = {
		.name = "RDMA_WRITE_LAST_WITH_IMMEDIATE",
		.flags = OPI_WRITE(SODP_OPF_LAST | SODP_OPF_IMMDT),
		.hdr_len = BTH_LEN + IMMDT_LEN,
		.off_immdt = BTH_LEN,
	},
	[SODP_OP_WRITE_ONLY] = {
		.name = "RDMA_WRITE_ONLY",
		.flags = OPI_WRITE(SODP_OPF_ONLY | SODP_OPF_RETH),
		.hdr_len = BTH_LEN + RETH_LEN,
		.off_reth = BTH_LEN,
	},
	[SODP_OP_WRITE_ONLY_IMM] = {
		.name = "RDMA_WRITE_ONLY_WITH_IMMEDIATE",
		.flags = OPI_WRITE(SODP_OPF_ONLY | SODP_OPF_RETH | SODP_OPF_IMMDT),
		.hdr_len = BTH_LEN + RETH_LEN + IMMDT_LEN,
		.off_reth = BTH_LEN,
		.off_immdt = BTH_LEN + RETH_LEN,
	},
	[SODP_OP_READ_REQUEST] = {
		.name = "RDMA_READ_REQUEST",
		.flags = OPI_REQ(SODP_OPF_READ | SODP_OPF_ONLY | SODP_OPF_RETH),
		.hdr_len = BTH_LEN + RETH_LEN,
		.off_reth = BTH_LEN,
	},
	[SODP_OP_READ_RESP_FIRST] = {
		.name = "RDMA_READ_RESPONSE_FIRST",
		.flags = OPI_READ_RESP(SODP_OPF_FIRST | SODP_OPF_AETH),
		.hdr_len = BTH_LEN + AETH_LEN,
		.off_aeth = BTH_LEN,
	},
	[SODP_OP_READ_RESP_MIDDLE] = {
		.name = "RDMA_READ_RESPONSE_MIDDLE",
		.flags = OPI_READ_RESP(SODP_OPF_MIDDLE),
		.hdr_len = BTH_LEN,
	},
	[SODP_OP_READ_RESP_LAST] = {
		.name = "RDMA_READ_RESPONSE_LAST",
		.flags = OPI_READ_RESP(SODP_OPF_LAST | SODP_OPF_AETH),
		.hdr_len = BTH_LEN + AETH_LEN,
		.off_aeth = BTH_LEN,
	},
	[SODP_OP_READ_RESP_ONLY] = {
		.name = "RDMA_READ_RESPONSE_ONLY",
		.flags = OPI_READ_RESP(SODP_OPF_ONLY | SODP_OPF_AETH),
		.hdr_len = BTH_LEN + AETH_LEN,
		.off_aeth = BTH_LEN,
	},
	[SODP_OP_ACK] = {
		.name = "ACKNOWLEDGE",
		.flags = OPI_RESP(SODP_OPF_ONLY | SODP_OPF_AETH),
		.hdr_len = BTH_LEN + AETH_LEN,
		.off_aeth = BTH_LEN,
	},
	[SODP_OP_ATOMIC_ACK] = {
		.name = "ATOMIC_ACKNOWLEDGE",
		.flags = OPI_RESP(SODP_OPF_ATOMIC | SODP_OPF_ONLY | SODP_OPF_AETH |
			      SODP_OPF_ATMACK),
		.hdr_len = BTH_LEN + AETH_LEN + ATMACK_LEN,
		.off_aeth = BTH_LEN,
		.off_atmack = BTH_LEN + AETH_LEN,
	},
	[SODP_OP_CMP_SWAP] = {
		.name = "COMPARE_SWAP",
		.flags = OPI_REQ(SODP_OPF_ATOMIC | SODP_OPF_ONLY | SODP_OPF_ATMETH),
		.hdr_len = BTH_LEN + ATMETH_LEN,
		.off_atmeth = BTH_LEN,
	},
	[SODP_OP_FETCH_ADD] = {
		.name = "FETCH_ADD",
		.flags = OPI_REQ(SODP_OPF_ATOMIC | SODP_OPF_ONLY | SODP_OPF_ATMETH),
		.hdr_len = BTH_LEN + ATMETH_LEN,
		.off_atmeth = BTH_LEN,
	},
	/* No payload; answered by a READ response without data. */
	[SODP_OP_FLUSH] = {
		.name = "FLUSH",
		.flags = OPI_REQ(SODP_OPF_FLUSH | SODP_OPF_ONLY | SODP_OPF_FETH |
				 SODP_OPF_RETH),
		.hdr_len = BTH_LEN + FETH_LEN + RETH_LEN,
		.off_feth = BTH_LEN,
		.off_reth = BTH_LEN + FETH_LEN,
	},
	[SODP_OP_ATOMIC_WRITE] =
		OPE_RETH("RDMA_ATOMIC_WRITE",
			 OPI_REQ(SODP_OPF_ATOMIC_WRITE | SODP_OPF_ONLY |
				 SODP_OPF_RETH | SODP_OPF_PAYLOAD)),
	[SODP_OP_UC_SEND_FIRST] =
		OPE_BTH("UC_SEND_FIRST", OPI_SEND(SODP_OPF_FIRST)),
	[SODP_OP_UC_SEND_MIDDLE] =
		OPE_BTH("UC_SEND_MIDDLE", OPI_SEND(SODP_OPF_MIDDLE)),
	[SODP_OP_UC_SEND_LAST] =
		OPE_BTH("UC_SEND_LAST", OPI_SEND(SODP_OPF_LAST)),
	[SODP_OP_UC_SEND_LAST_IMM] =
		OPE_IMM("UC_SEND_LAST_WITH_IMMEDIATE",
			OPI_SEND(SODP_OPF_LAST | SODP_OPF_IMMDT)),
	[SODP_OP_UC_SEND_ONLY] =
		OPE_BTH("UC_SEND_ONLY", OPI_SEND(SODP_OPF_ONLY)),
	[SODP_OP_UC_SEND_ONLY_IMM] =
		OPE_IMM("UC_SEND_ONLY_WITH_IMMEDIATE",
			OPI_SEND(SODP_OPF_ONLY | SODP_OPF_IMMDT)),
	[SODP_OP_UC_WRITE_FIRST] =
		OPE_RETH("UC_RDMA_WRITE_FIRST",
			 OPI_WRITE(SODP_OPF_FIRST | SODP_OPF_RETH)),
	[SODP_OP_UC_WRITE_MIDDLE] =
		OPE_BTH("UC_RDMA_WRITE_MIDDLE", OPI_WRITE(SODP_OPF_MIDDLE)),
	[SODP_OP_UC_WRITE_LAST] =
		OPE_BTH("UC_RDMA_WRITE_LAST", OPI_WRITE(SODP_OPF_LAST)),
	[SODP_OP_UC_WRITE_LAST_IMM] =
		OPE_IMM("UC_RDMA_WRITE_LAST_WITH_IMMEDIATE",
			OPI_WRITE(SODP_OPF_LAST | SODP_OPF_IMMDT)),
	[SODP_OP_UC_WRITE_ONLY] =
		OPE_RETH("UC_RDMA_WRITE_ONLY",
			 OPI_WRITE(SODP_OPF_ONLY | SODP_OPF_RETH)),
	[SODP_OP_UC_WRITE_ONLY_IMM] =
		OPE_RETH_IMM("UC_RDMA_WRITE_ONLY_WITH_IMMEDIATE",
			     OPI_WRITE(SODP_OPF_ONLY | SODP_OPF_RETH |
				       SODP_OPF_IMMDT)),
	[SODP_OP_UD_SEND_ONLY] = {
		.name = "UD_SEND_ONLY",
		.flags = OPI_SEND(SODP_OPF_ONLY | SODP_OPF_DETH),
		.hdr_len = BTH_LEN + DETH_LEN,
		.off_deth = BTH_LEN,
	},
	[SODP_OP_UD_SEND_ONLY_IMM] = {
		.name = "UD_SEND_ONLY_WITH_IMMEDIATE",
		.flags = OPI_SEND(SODP_OPF_ONLY | SODP_OPF_DETH | SODP_OPF_IMMDT),
		.hdr_len = BTH_LEN + DETH_LEN + IMMDT_LEN,
		.off_deth = BTH_LEN,
		.off_immdt = BTH_LEN + DETH_LEN,
	},
};
