/* SPDX-License-Identifier: GPL-2.0 */
/*
 * softodp: a software RoCEv2 RDMA device whose memory regions are
 * on-demand paging native.  Central header of the device driver: limits,
 * the verbs objects, converters and logging helpers that name the object.
 *
 * Locking (what protects what):
 *
 * - sodp_devices_lock (main.c, mutex): the list of our devices
 *   (sodp_dev.list, .name).  Taken by newlink, the netdev notifier (under
 *   RTNL; it also sets sodp_dev.ndev_gone), module exit and
 *   ->dealloc_driver; never held while calling ib_unregister_device() and
 *   never held while taking RTNL.
 * - sodp_dev xarrays (qps, srqs, mrs, ahs): their own xa_lock for insert
 *   and erase; the engines look up MRs under RCU and take a reference
 *   (sodp_mr_get_key()).  The qps lock is a BH lock: the RX path looks a
 *   QP up and takes its reference under it (sodp_qp_get()).
 * - sodp_dev.mws xa_lock (spinlock, process context only): memory windows.
 *   Held across every use of a window found by its rkey - bind,
 *   invalidate, the responder's lookup (mw.c) - and by dealloc_mw while it
 *   erases and unbinds the window, so it protects every field of struct
 *   sodp_mw and no window is freed while in use.  Taken under proc_lock;
 *   inside it only MR references are taken and dropped.
 * - sodp_qp.state_lock (mutex): the QP state, attributes and address
 *   vector; held by modify/query/destroy.  Never taken by post verbs.
 * - sodp_qp.proc_lock (mutex): serializes all processing of a QP's work
 *   queues in sleepable context: the per-QP work item (protocol engines)
 *   and the flush to error.  ODP faults may sleep under it.
 * - sodp_wq.lock (spinlock, irqsave): the producer side of kernel-owned
 *   send/receive queues (post_send/post_recv of in-kernel consumers).
 *   For user queues the producer is librxe in user space.
 * - sodp_cq.lock (spinlock, irqsave): the CQ ring producer, its notify
 *   state and, for kernel CQs, the consumer (poll_cq).
 * - sodp_srq.lock (spinlock, irqsave): SRQ producer (kernel), consumer,
 *   limit and resize.
 *
 * - sodp_dev.atomic_lock (mutex): makes responder atomics atomic with
 *   respect to each other on the device (they also use CPU atomics);
 *   taken by sodp_mr_atomic() only, under proc_lock.
 * - RX path (softirq): finds the device on the RCU-protected device list
 *   and takes an ib_device reference, then the QP in sodp_dev.qps under
 *   its xa_lock with a reference on sodp_qp.ref (destroy_qp waits for
 *   it), and queues the packet on sodp_qp.rxq (its own lock).
 * - Engine state (sodp_qp.req, .resp, .path, the send shadows): only the
 *   QP work item touches it, under proc_lock; modify_qp initialises it
 *   under proc_lock; timers only set bits in sodp_qp.events and kick.
 *   Functions that need proc_lock assert it (lockdep_assert_held()).
 * - The ODP core's locks (kernel/odp/README.md): an ODP fault or copy
 *   under proc_lock takes the implicit region's sem (read), mmap_lock
 *   (read) and the region's umem->lock, in that order, and may wait for
 *   an invalidation; invalidations never take a softodp lock.
 *
 * Lock order:
 *   state_lock -> proc_lock -> atomic_lock -> ODP core (imp->sem ->
 *                                              mmap_lock -> umem->lock)
 *   proc_lock -> sodp_dev.mws xa_lock
 *   proc_lock -> {wq.lock, srq.lock} -> cq.lock
 *   proc_lock -> sodp_qp.rxq.lock (skb queue lock; also taken in softirq)
 * sodp_devices_lock is never held with any of them.  Completion and event
 * handlers are called with no softodp spinlock held; cq.lock is dropped
 * before a completion handler runs.
 */
#ifndef SOFTODP_H
#define SOFTODP_H

#include <linux/if_ether.h>
#include <linux/list.h>
#include <linux/mutex.h>
#include <linux/printk.h>
#include <linux/refcount.h>
#include <linux/completion.h>
#include <linux/skbuff.h>
#include <linux/timer.h>
#include <linux/workqueue.h>
#include <linux/xarray.h>
#include <rdma/ib_verbs.h>
#include <rdma/uverbs_ioctl.h>
#include <uapi/rdma/rdma_user_rxe.h>

#include "softodp_compat.h"
#include "../odp/odp.h"

#include "stats.h"

#include "net.h"

#define SOFTODP_LINK_TYPE	"softodp"

/* The rxe uverbs ABI version that librxe expects (RXE_UVERBS_ABI_VERSION). */
#define SODP_UVERBS_ABI_VERSION	2

/* Device limits, reported by query_device and enforced by the verbs. */
#define SODP_MAX_QP		0x10000
#define SODP_MAX_QP_WR		0x4000
#define SODP_MAX_SGE		32
#define SODP_MAX_INLINE		256
#define SODP_MAX_CQ		0x4000
#define SODP_MAX_CQE		0x7fff
#define SODP_MAX_PD		0x7ffc
#define SODP_MAX_MR		0x40000
#define SODP_MAX_AH		0x4000
#define SODP_MAX_SRQ		0x4000
#define SODP_MAX_SRQ_WR		0x4000
#define SODP_MAX_SRQ_SGE	27
#define SODP_MAX_RD_ATOMIC	128
#define SODP_MAX_MSG_SZ		0x80000000U
#define SODP_MAX_FAST_REG_PAGES	512
#define SODP_GID_TBL_LEN	1024
#define SODP_PKEY_TBL_LEN	1
#define SODP_LOCAL_ACK_DELAY	15
#define SODP_VENDOR_ID		0xffffff

/* QP numbers 0..15 are reserved (QP0/QP1 and friends). */
#define SODP_FIRST_QPN		16
#define SODP_MAX_QPN		0xffffff

/* MR/MW keys: (index << 8) | key byte; index 0 is never handed out. */
#define SODP_KEY_INDEX_SHIFT	8
#define SODP_KEY_BYTE_MASK	0xff

/*
 * Memory windows take key indices from SODP_MW_INDEX_MIN on, far above
 * every MR index (SODP_MAX_MR): bit 31 of a key says whether it names a
 * window or a region, and the two never collide.
 */
#define SODP_MAX_MW		0x10000
#define SODP_MW_INDEX_MIN	0x800000
#define SODP_MW_INDEX_MAX	(SODP_MW_INDEX_MIN + SODP_MAX_MW - 1)

static inline bool sodp_key_is_mw(u32 key)
{
	return (key >> SODP_KEY_INDEX_SHIFT) >= SODP_MW_INDEX_MIN;
}

/* Device packet counters (sodp_dev.stats). */
enum sodp_stat {
	SODP_STAT_RX_PKTS,
	SODP_STAT_TX_PKTS,
	SODP_STAT_RX_DROP_NODEV,
	SODP_STAT_RX_DROP_HDR,
	SODP_STAT_RX_DROP_ICRC,
	SODP_STAT_RX_DROP_PKEY,
	SODP_STAT_RX_DROP_NOQP,
	SODP_STAT_RX_DROP_STATE,
	SODP_STAT_RX_DROP_QFULL,
	SODP_STAT_RX_DROP_TRANSPORT,
	SODP_STAT_RX_DROP_QKEY,
	SODP_STAT_RX_DROP_NO_RWQE,
	SODP_STAT_DUP_REQ,
	SODP_STAT_SEQ_NAK_SENT,
	SODP_STAT_RNR_NAK_SENT,
	SODP_STAT_RNR_NAK_FAULT,
	SODP_STAT_RETRANS,
	SODP_STAT_TIMEOUTS,
	SODP_STAT_TX_LOCAL,
	SODP_STAT_DRIVE_RUNS,
	SODP_NUM_STATS,
};

static inline void sodp_stat_inc(atomic64_t *stats, enum sodp_stat s)
{
	atomic64_inc(&stats[s]);
}

/**
 * struct sodp_queue - a work or completion queue in the rxe ABI layout
 * @buf: struct rxe_queue_buf header + ring; vmalloc_user() memory
 * @buf_size: bytes allocated for @buf (page aligned)
 * @log2_elem_size: element size order (elements are a power of two)
 * @index_mask: slot count - 1; the ring holds at most @index_mask entries
 * @index: the device's own index (consumer for send/receive/SRQ queues,
 *	producer for completion queues), kept here because the copy in @buf
 *	is writable by user space and never trusted
 * @to_dev: true if the device consumes (SQ, RQ, SRQ), false if it
 *	produces (CQ)
 * @mmap: mmap entry that exposes @buf to user space, NULL for a queue of
 *	an in-kernel consumer.  The entry owns @buf once it exists.
 */
struct sodp_queue {
	struct rxe_queue_buf *buf;
	size_t buf_size;
	unsigned int log2_elem_size;
	u32 index_mask;
	u32 index;
	bool to_dev;
	struct sodp_mmap_entry *mmap;
};

/* A queue buffer exposed through the uverbs file's mmap(). */
struct sodp_mmap_entry {
	struct rdma_user_mmap_entry rdma;
	void *buf;
};

/**
 * struct sodp_dev - one softodp ib_device, bound to one net_device
 * @ibdev: the ib_device (first: ib_alloc_device())
 * @list: entry in the module's device list (sodp_devices_lock)
 * @name: the name asked for at newlink (for duplicate checks)
 * @ndev: the Ethernet device (a reference is held until dealloc)
 * @ndev_gone: @ndev is unregistering; ->get_netdev reports none
 * @wq: per-device workqueue running QP work items (sleepable)
 * @fault_wq: unbound workqueue for responder page faults that may block
 *	long (reclaim, I/O): sodp_resp_fault_ready()
 * @attr: device attributes reported by query_device
 * @qps: QPs by QP number
 * @srqs: SRQs by SRQ number
 * @mrs: MRs by key index (key >> 8)
 * @mws: memory windows by key index (key >> 8, from SODP_MW_INDEX_MIN)
 * @ahs: user AHs by AH number
 * @next_qpn: cyclic allocation hint for @qps
 * @next_srq: cyclic allocation hint for @srqs
 * @next_mr: cyclic allocation hint for @mrs
 * @next_mw: cyclic allocation hint for @mws
 * @next_ah: cyclic allocation hint for @ahs
 * @key_byte: rotates the low byte of new MR and MW keys
 * @qp_uids: the last sodp_qp.uid handed out
 * @nr_pd: PD count, for the limit
 * @nr_cq: CQ count, for the limit
 * @port_active: last port state reported to ib_core (netdev notifier)
 * @odp_totals: ODP counts of deregistered MRs (stats.c)
 * @net: namespace of @ndev at creation (holds a sodp_net_get() use)
 * @net_held: holds a sodp_net_get() use (sodp_devices_lock; dropped at
 *	NETDEV_UNREGISTER or release)
 * @atomic_lock: serialises responder atomics on this device
 * @stats: packet counters (enum sodp_stat)
 */
struct sodp_dev {
	struct ib_device ibdev;
	struct list_head list;
	char name[IB_DEVICE_NAME_MAX];
	struct net_device *ndev;
	bool ndev_gone;
	struct workqueue_struct *wq;
	struct workqueue_struct *fault_wq;
	struct ib_device_attr attr;
	struct xarray qps;
	struct xarray srqs;
	struct xarray mrs;
	struct xarray mws;
	struct xarray ahs;
	u32 next_qpn;
	u32 next_srq;
	u32 next_mr;
	u32 next_mw;
	u32 next_ah;
	atomic_t key_byte;
	atomic64_t qp_uids;
	atomic_t nr_pd;
	atomic_t nr_cq;
	bool port_active;
	struct sodp_odp_totals odp_totals;
	struct net *net;
	bool net_held;
	struct mutex atomic_lock;
	atomic64_t stats[SODP_NUM_STATS];
};

struct sodp_ucontext {
	struct ib_ucontext ibuc;
};

struct sodp_pd {
	struct ib_pd ibpd;
};

/**
 * struct sodp_av - resolved RoCEv2 address vector (QP path or AH)
 * @network_type: RDMA_NETWORK_IPV4 or RDMA_NETWORK_IPV6 (of the source GID)
 * @dmac: destination MAC, resolved by ib_core
 * @sgid_index: source GID table index
 * @hop_limit: IPv4 TTL / IPv6 hop limit
 * @traffic_class: IPv4 TOS / IPv6 traffic class
 * @flow_label: IPv6 flow label
 * @sgid: source GID (the local IP address)
 * @dgid: destination GID (the remote IP address)
 */
struct sodp_av {
	u8 network_type;
	u8 dmac[ETH_ALEN];
	u8 sgid_index;
	u8 hop_limit;
	u8 traffic_class;
	u32 flow_label;
	union ib_gid sgid;
	union ib_gid dgid;
};

struct sodp_ah {
	struct ib_ah ibah;
	struct sodp_av av;
	u32 ah_num;		/* 0 for kernel AHs */
};

struct sodp_cq {
	struct ib_cq ibcq;
	spinlock_t lock;
	struct sodp_queue q;
	bool is_user;
	u8 notify;		/* IB_CQ_SOLICITED / IB_CQ_NEXT_COMP armed */
	bool overflow;
};

struct sodp_srq {
	struct ib_srq ibsrq;
	spinlock_t lock;
	struct sodp_queue q;
	bool is_user;
	u32 srq_num;
	u32 max_wr;
	u32 max_sge;
	u32 limit;		/* armed limit, 0 when disarmed */
};

/* Send or receive queue of a QP. */
struct sodp_wq {
	struct sodp_queue q;
	spinlock_t lock;
	u32 max_wr;
	u32 max_sge;
	u32 max_inline;
};

/**
 * struct sodp_swqe - kernel-private copy of one send WQE (one per SQ slot)
 * @wr_id: user's work request id
 * @opcode: IB_WR_* (checked at fetch)
 * @send_flags: IB_SEND_*
 * @ex: immediate data (network order) or rkey to invalidate
 * @remote_addr: RDMA/atomic remote address
 * @rkey: remote key; IB_WR_REG_MR and IB_WR_BIND_MW: the key to make
 *	current (of a window: only its key byte counts)
 * @reg_mr: IB_WR_REG_MR (kernel QPs only): the fast-reg region
 * @reg_access: IB_WR_REG_MR and IB_WR_BIND_MW: the access rights to grant
 * @bind_mw_rkey: IB_WR_BIND_MW: the window's current rkey
 * @bind_mr_lkey: IB_WR_BIND_MW: the lkey of the region to bind it to
 * @bind_addr: IB_WR_BIND_MW: first byte of the window (region iova)
 * @bind_length: IB_WR_BIND_MW: bytes in the window (0: unbind a type 1)
 * @compare_add: atomic compare or add operand
 * @swap: atomic swap operand
 * @flush_len: FLUSH: bytes in the range (the RETH's length)
 * @flush_type: FLUSH: placement type (SODP_FLUSH_GLOBAL, _PERSISTENT)
 * @flush_level: FLUSH: selectivity level (SODP_FLUSH_RANGE or _MR)
 * @remote_qpn: UD: destination QP
 * @qkey: UD: the Q_Key to send (the WR's, or the QP's for a privileged one)
 * @av: UD: the address vector of the WR's address handle
 * @length: message length (sum of the clamped SGEs or inline bytes)
 * @num_sge: gather entries in @sge (clamped)
 * @status: IB_WC_* error found locally (fetch or gather), else 0
 * @state: enum sodp_swqe_state
 * @first_psn: PSN of the first packet
 * @last_psn: PSN of the last packet (READ: of the last response)
 * @sent: bytes sent (requests) so far
 * @done: READ response bytes placed so far
 * @inline_data: copy of the inline data (IB_SEND_INLINE)
 * @sge: copy of the gather list
 */
struct sodp_swqe {
	u64 wr_id;
	u32 opcode;
	u32 send_flags;
	u32 ex;
	u64 remote_addr;
	u32 rkey;
	struct ib_mr *reg_mr;
	int reg_access;
	u32 bind_mw_rkey;
	u32 bind_mr_lkey;
	u64 bind_addr;
	u64 bind_length;
	u64 compare_add;
	u64 swap;
	u32 flush_len;
	u8 flush_type;
	u8 flush_level;
	u32 remote_qpn;
	u32 qkey;
	struct sodp_av av;
	u32 length;
	u32 num_sge;
	u8 status;
	u8 state;
	u32 first_psn;
	u32 last_psn;
	u32 sent;
	u32 done;
	union {
		DECLARE_FLEX_ARRAY(u8, inline_data);
		DECLARE_FLEX_ARRAY(struct rxe_sge, sge);
	};
};

enum sodp_swqe_state {
	SODP_SWQE_PENDING,	/* fetched, not all packets sent */
	SODP_SWQE_SENT,		/* all packets sent, waiting for the answer */
	SODP_SWQE_DONE,		/* acknowledged / answered */
	SODP_SWQE_ERROR,	/* @status set; completes in error */
};

/* Timer events for the work item (sodp_qp.events bits). */
enum {
	SODP_EV_RETRANS,	/* retransmission timer expired */
	SODP_EV_RNR,		/* RNR wait over */
};

/**
 * enum sodp_req_flow - may the requester transmit?
 * @SODP_REQ_RUNNING: yes, within the PSN and READ/ATOMIC windows
 * @SODP_REQ_RNR_WAIT: an RNR NAK arrived: paused until the RNR timer
 *	fires (completer), then RUNNING
 * @SODP_REQ_STOPPED: an errored WQE was reached or failed: nothing more
 *	is sent.  A go-back (comp.c) makes it RUNNING again, and it stops
 *	again at that WQE; the completion of the errored WQE moves the QP to
 *	ERR.  STOPPED wins over RNR_WAIT.
 */
enum sodp_req_flow {
	SODP_REQ_RUNNING,
	SODP_REQ_RNR_WAIT,
	SODP_REQ_STOPPED,
};

/**
 * enum sodp_req_sqd - the send queue drain of SQD
 * @SODP_SQD_NONE: not draining (the QP is not in SQD)
 * @SODP_SQD_DRAINING: SQD: only WQEs before sodp_req.drain_end may be
 *	transmitted; waiting for the started ones to complete
 * @SODP_SQD_DRAINED: SQD, every started WQE completed
 *	(IB_EVENT_SQ_DRAINED raised if the consumer asked for it)
 *
 * Read locklessly by query_qp (sq_draining); written under proc_lock.
 * Independent of &enum sodp_req_flow: a draining requester may also wait
 * for RNR or be stopped.
 */
enum sodp_req_sqd {
	SODP_SQD_NONE,
	SODP_SQD_DRAINING,
	SODP_SQD_DRAINED,
};

/**
 * struct sodp_req - requester and completer state (work item only)
 * @shadow: one struct sodp_swqe of @shadow_size bytes per SQ slot
 * @shadow_size: bytes per shadow entry
 * @fetch: next SQ index to copy into a shadow
 * @send: SQ index of the WQE being transmitted
 * @psn: next PSN to send
 * @una: oldest unacknowledged PSN
 * @rd_atomic: READ/ATOMIC requests outstanding
 * @retry: transport retries left
 * @rnr_retry: RNR retries left (7: infinite)
 * @flow: enum sodp_req_flow
 * @rewound: went back since the last progress; loss signals from the
 *	old round (NAKs, gaps) are ignored until @una advances or the
 *	retransmission timer fires (any @flow)
 * @sqd: enum sodp_req_sqd
 * @drain_end: SQD: SQ index of the first WQE not to start
 * @win: ODP pages of the send WQEs' data (gathered packet by packet)
 * @comp_win: ODP pages READ responses are scattered into
 */
struct sodp_req {
	void *shadow;
	size_t shadow_size;
	u32 fetch;
	u32 send;
	u32 psn;
	u32 una;
	u32 rd_atomic;
	u8 retry;
	u8 rnr_retry;
	u8 flow;
	bool rewound;
	u8 sqd;
	u32 drain_end;
	struct odp_window win;
	struct odp_window comp_win;
};

/*
 * A responder resource: an executed READ or ATOMIC, kept for replays.  A
 * READ whose responses are still being sent is on sodp_resp.replies; the
 * reply_* fields say where it resumes (responses are paced, resp.c).
 */
struct sodp_res {
	bool valid;
	bool atomic;
	u32 first_psn;
	u32 last_psn;
	u64 orig;
	struct list_head reply;
	u64 reply_va;
	u32 reply_rkey;
	u32 reply_len;
	u32 reply_psn;
	u32 reply_next;
	u32 reply_msn;
};

/**
 * struct sodp_resp_fault - a responder page fault run by a worker
 * @work: the fault, on sodp_dev.fault_wq (sodp_resp_fault_work())
 * @done: completed by @work when the fault is over
 * @mr: the region; @work owns this reference and drops it before @done
 * @iova: first byte to fault
 * @len: bytes to fault
 * @write: fault for writing
 * @busy: @work was queued and the responder has not yet seen @done
 * @ahead: the fault of the window after the current one, which nobody
 *	waits for (sodp_resp_fault_ahead_work())
 * @ahead_mr: @ahead's region and reference, dropped by @ahead
 * @ahead_busy: @ahead is queued or running; cleared by @ahead at its end
 * @ahead_start: start of the window last given to @ahead (the range it
 *	faults while @ahead_busy)
 * @ahead_end: its end: a later window inside it is not faulted ahead again
 * @stream_end: where the last RDMA WRITE that asked for its window ends
 *
 * Everything but @work's own use of @mr, @iova, @len and @write and
 * @ahead's of @ahead_mr, @ahead_start and @ahead_end belongs to the QP's
 * work item (proc_lock).
 */
struct sodp_resp_fault {
	struct work_struct work;
	struct completion done;
	struct sodp_mr *mr;
	u64 iova;
	u64 len;
	bool write;
	bool busy;
	struct work_struct ahead;
	struct sodp_mr *ahead_mr;
	bool ahead_busy;
	u64 ahead_start;
	u64 ahead_end;
	u64 stream_end;
};

/**
 * struct sodp_resp - responder state (work item only)
 * @epsn: expected PSN
 * @msn: message sequence number (completed messages)
 * @cur: opcode class of the multi-packet message in progress (0: none)
 * @nak_sent: a PSN sequence error NAK was sent for @epsn
 * @uc_drop: UC: the message in progress was dropped; packets are dropped
 *	until one starts a new message
 * @ack_pending: an acknowledgement is owed
 * @have_wqe: @rwqe holds a receive WQE being filled
 * @rwqe_from_rq: @rwqe occupies the RQ slot at the ring's consumer index
 * @offset: bytes of the current SEND placed so far
 * @write_va: next address of the RDMA WRITE in progress
 * @write_rkey: its rkey
 * @write_resid: bytes still expected
 * @write_len: total length of the WRITE in progress
 * @res: responder resources (SODP_MAX_RD_ATOMIC entries)
 * @res_head: next entry of @res to fill
 * @rwqe: copy of the receive WQE being filled (SODP_MAX_SGE entries)
 * @replies: READ resources with responses still to send, oldest first
 * @fault: a page fault of an ODP region handed to sodp_dev.fault_wq
 * @win: ODP pages SEND and WRITE data are placed into
 * @reply_win: ODP pages READ responses are read from
 */
struct sodp_resp {
	u32 epsn;
	u32 msn;
	u32 cur;
	bool nak_sent;
	bool uc_drop;
	bool ack_pending;
	bool have_wqe;
	bool rwqe_from_rq;
	u32 offset;
	u64 write_va;
	u32 write_rkey;
	u32 write_resid;
	u32 write_len;
	struct sodp_res *res;
	u32 res_head;
	struct rxe_recv_wqe *rwqe;
	struct list_head replies;
	struct sodp_resp_fault fault;
	struct odp_window win;
	struct odp_window reply_win;
};

/**
 * struct sodp_qp - a queue pair (RC, UC, UD, or the GSI QP1)
 * @ibqp: the ib_qp (allocated by ib_core)
 * @state_lock: see the locking notes at the top
 * @state: current state, written under @state_lock and read locklessly
 *	(READ_ONCE) by the post verbs and the work item
 * @attr: attributes as last set by modify_qp (grh.sgid_attr always NULL)
 * @av: RC: the primary path resolved at INIT->RTR; UD: the address vector
 *	@path was last set up for (work item)
 * @sq: send queue (struct rxe_send_wqe elements)
 * @rq: receive queue (struct rxe_recv_wqe elements); unused with @srq
 * @srq: shared receive queue or NULL
 * @scq: send completion queue
 * @rcq: receive completion queue
 * @is_user: created by user space: the rings are mapped into it and their
 *	contents (indices, WQEs) are never trusted
 * @sig_all: every send WQE completes (IB_SIGNAL_ALL_WR)
 * @proc_lock: serializes queue processing (work item, flush)
 * @work: the QP's work item on sodp_dev.wq; protocol engines run here
 * @drive: the drive of the run holding @proc_lock (engine.c), or NULL;
 *	packets this QP delivers locally add their QPs to it
 * @ssn: send sequence number for kernel-posted WQEs (under sq.lock)
 * @ref: held by the RX path while it queues a packet; destroy waits
 * @ref_done: completed when @ref drops to zero
 * @rxq: received packets waiting for the work item
 * @path: where packets go (work item; set up at RTR under proc_lock)
 * @path_ok: @path is set up
 * @path_dqpn: UD: the destination QP @path was last set up for
 * @retrans_timer: retransmission timer (sets SODP_EV_RETRANS)
 * @rnr_timer: RNR back-off timer (sets SODP_EV_RNR)
 * @err_timer: user QP in ERR without SRQ: looks for receives posted to the
 *	mapped ring since (sodp_qp_err_timer())
 * @err_poll: @err_timer's current period, in jiffies
 * @events: SODP_EV_* bits
 * @need_err: an engine hit a fatal error: move to ERR after the work
 * @uid: unique on the device for its lifetime (never reused, unlike QP
 *	numbers): names the QP a type 2 window is bound to
 * @req: requester/completer state
 * @resp: responder state
 */
struct sodp_qp {
	struct ib_qp ibqp;
	struct mutex state_lock;
	enum ib_qp_state state;
	struct ib_qp_attr attr;
	struct sodp_av av;
	struct sodp_wq sq;
	struct sodp_wq rq;
	struct sodp_srq *srq;
	struct sodp_cq *scq;
	struct sodp_cq *rcq;
	bool is_user;
	bool sig_all;
	struct mutex proc_lock;
	struct work_struct work;
	struct sodp_drive *drive;
	u32 ssn;
	refcount_t ref;
	struct completion ref_done;
	struct sk_buff_head rxq;
	struct sodp_path path;
	bool path_ok;
	u32 path_dqpn;
	struct timer_list retrans_timer;
	struct timer_list rnr_timer;
	struct timer_list err_timer;
	unsigned long err_poll;
	unsigned long events;
	bool need_err;
	u64 uid;
	struct sodp_req req;
	struct sodp_resp resp;
};

enum sodp_mr_type {
	SODP_MR_DMA,		/* get_dma_mr: kernel virtual addresses */
	SODP_MR_USER,		/* reg_user_mr, pinned with ib_umem_get() */
	SODP_MR_ODP,		/* reg_user_mr with IB_ACCESS_ON_DEMAND */
	SODP_MR_FAST_REG,	/* alloc_mr + map_mr_sg */
};

enum sodp_mr_state {
	SODP_MR_FREE,		/* fast-reg: no valid key, every access fails */
	SODP_MR_BUSY,		/* fast-reg: IB_WR_REG_MR is filling it in */
	SODP_MR_VALID,		/* keys usable */
};

/**
 * struct sodp_mr - memory region
 * @ibmr: the ib_mr (iova, length, keys, PD)
 * @type: how the memory is reached (enum sodp_mr_type)
 * @access: IB_ACCESS_* rights granted
 * @index: index in sodp_dev.mrs (key >> 8)
 * @ref: held by the key lookup users (data path); dereg waits for zero
 * @done: completed when @ref drops to zero
 * @va: process virtual address of @ibmr.iova (user and ODP regions)
 * @umem: pinned user memory (SODP_MR_USER)
 * @pages: the pinned pages, one per PAGE_SIZE
 * @npages: entries in @pages
 * @page_offset: offset of the region's first byte in @pages[0]
 * @odp: ODP core region (SODP_MR_ODP)
 * @key: the current lkey == rkey; lookups compare against it.  Equal to
 *	@ibmr.lkey except for fast-reg regions, whose owner may change the key
 *	byte of @ibmr (ib_update_fast_reg_key()) before the IB_WR_REG_MR that
 *	makes it current is executed
 * @state: enum sodp_mr_state; fast-reg regions move between FREE and VALID
 *	(IB_WR_REG_MR, IB_WR_LOCAL_INV, SEND with invalidate), all others
 *	stay VALID.  Changed with cmpxchg() by the QP work items of any QP.
 * @fr_pages: page addresses of a fast-reg region (map_mr_sg)
 * @fr_max: capacity of @fr_pages
 * @fr_npages: entries used in @fr_pages
 * @nr_mw: memory windows bound to it (each holds a reference); -1 once
 *	dereg_mr has begun, after which no window binds to it
 * @rcu: frees the MR after lookups under RCU are done with it
 */
struct sodp_mr {
	struct ib_mr ibmr;
	enum sodp_mr_type type;
	int access;
	u32 index;
	refcount_t ref;
	struct completion done;
	u32 key;
	int state;
	u64 va;
	struct ib_umem *umem;
	struct page **pages;
	unsigned long npages;
	unsigned int page_offset;
	struct odp_umem *odp;
	u64 *fr_pages;
	u32 fr_max;
	u32 fr_npages;
	atomic_t nr_mw;
	struct rcu_head rcu;
};

enum sodp_mw_state {
	SODP_MW_INVALID,	/* being deallocated */
	SODP_MW_FREE,		/* type 2: not bound, every access fails */
	SODP_MW_VALID,		/* type 1: always; type 2: bound */
};

/**
 * struct sodp_mw - memory window (type 1 or type 2B)
 * @ibmw: the ib_mw (type, PD; rkey as allocated)
 * @index: index in sodp_dev.mws (rkey >> 8)
 * @state: enum sodp_mw_state
 * @rkey: the current rkey; a bind changes its key byte
 * @access: IB_ACCESS_* rights the last bind granted
 * @addr: first byte of the window (an iova of @mr)
 * @length: bytes in the window; 0 when unbound
 * @mr: the region it is bound to (a reference, counted in sodp_mr.nr_mw)
 *	or NULL
 * @qp_uid: type 2: sodp_qp.uid of the QP it is bound to (0: none)
 *
 * Every field after @index is protected by the xa_lock of sodp_dev.mws.
 */
struct sodp_mw {
	struct ib_mw ibmw;
	u32 index;
	int state;
	u32 rkey;
	int access;
	u64 addr;
	u64 length;
	struct sodp_mr *mr;
	u64 qp_uid;
};

static inline struct sodp_dev *to_sdev(struct ib_device *ibdev)
{
	return container_of(ibdev, struct sodp_dev, ibdev);
}

static inline struct sodp_pd *to_spd(struct ib_pd *ibpd)
{
	return container_of(ibpd, struct sodp_pd, ibpd);
}

static inline struct sodp_ah *to_sah(struct ib_ah *ibah)
{
	return container_of(ibah, struct sodp_ah, ibah);
}

static inline struct sodp_cq *to_scq(struct ib_cq *ibcq)
{
	return container_of(ibcq, struct sodp_cq, ibcq);
}

static inline struct sodp_srq *to_ssrq(struct ib_srq *ibsrq)
{
	return container_of(ibsrq, struct sodp_srq, ibsrq);
}

static inline struct sodp_qp *to_sqp(struct ib_qp *ibqp)
{
	return container_of(ibqp, struct sodp_qp, ibqp);
}

static inline struct sodp_mr *to_smr(struct ib_mr *ibmr)
{
	return container_of(ibmr, struct sodp_mr, ibmr);
}

static inline struct sodp_mw *to_smw(struct ib_mw *ibmw)
{
	return container_of(ibmw, struct sodp_mw, ibmw);
}

/* The user context of a verb called from user space (@udata != NULL). */
static inline struct ib_ucontext *sodp_uctx(struct ib_udata *udata)
{
	struct uverbs_attr_bundle *bundle =
		container_of(udata, struct uverbs_attr_bundle, driver_udata);

	return bundle->context;
}

static inline struct sodp_dev *sodp_qp_dev(struct sodp_qp *qp)
{
	return to_sdev(qp->ibqp.device);
}

/* Datagram QPs: UD and the GSI QP1 (which is a UD QP with QPN 1). */
static inline bool sodp_qp_is_ud(const struct sodp_qp *qp)
{
	return qp->ibqp.qp_type == IB_QPT_UD || qp->ibqp.qp_type == IB_QPT_GSI;
}

/* Unreliable connected QPs: RC's SEND and WRITE without ACKs or retries. */
static inline bool sodp_qp_is_uc(const struct sodp_qp *qp)
{
	return qp->ibqp.qp_type == IB_QPT_UC;
}

/*
 * Logging.  Object-level messages name the object ("QP[17]: ...") and go
 * through dynamic debug; nothing on a data path may use pr_info.
 */

#define sodp_dev_dbg(sdev, fmt, ...)					\
	ibdev_dbg(&(sdev)->ibdev, fmt, ##__VA_ARGS__)
#define sodp_qp_dbg(qp, fmt, ...)					\
	ibdev_dbg((qp)->ibqp.device, "QP[%u]: " fmt,			\
		  (qp)->ibqp.qp_num, ##__VA_ARGS__)
#define sodp_cq_dbg(cq, fmt, ...)					\
	ibdev_dbg((cq)->ibcq.device, "CQ[%u]: " fmt,			\
		  (cq)->ibcq.res.id, ##__VA_ARGS__)
#define sodp_srq_dbg(srq, fmt, ...)					\
	ibdev_dbg((srq)->ibsrq.device, "SRQ[%u]: " fmt,			\
		  (srq)->srq_num, ##__VA_ARGS__)
#define sodp_mr_dbg(mr, fmt, ...)					\
	ibdev_dbg((mr)->ibmr.device, "MR[0x%x]: " fmt,			\
		  (mr)->ibmr.lkey, ##__VA_ARGS__)
#define sodp_mw_dbg(mw, fmt, ...)					\
	ibdev_dbg((mw)->ibmw.device, "MW[%u]: " fmt,			\
		  (mw)->index - SODP_MW_INDEX_MIN, ##__VA_ARGS__)

/* Verb tables, one per concern; device.c merges them. */
extern const struct ib_device_ops sodp_dev_ops;
extern const struct ib_device_ops sodp_pd_ah_ops;
extern const struct ib_device_ops sodp_cq_ops;
extern const struct ib_device_ops sodp_srq_ops;
extern const struct ib_device_ops sodp_qp_ops;
extern const struct ib_device_ops sodp_mr_ops;
extern const struct ib_device_ops sodp_mw_ops;
extern const struct ib_device_ops sodp_prefetch_ops;

/* device.c: device life cycle, used by main.c */
int sodp_dev_add(const char *name, struct net_device *ndev);
void sodp_dev_port_event(struct sodp_dev *sdev);
enum ib_mtu sodp_dev_active_mtu(struct sodp_dev *sdev);

/* main.c: device list, used by device.c */
int sodp_devices_add(struct sodp_dev *sdev, const char *name);
void sodp_devices_del(struct sodp_dev *sdev);
struct sodp_dev *sodp_dev_get_by_netdev(struct net_device *ndev);
int sodp_dev_get_net(struct sodp_dev *sdev);

/* pd_ah.c: resolve a RoCE rdma_ah_attr (QP path or AH); user AH numbers */
int sodp_av_from_attr(struct sodp_av *av, const struct rdma_ah_attr *attr);
int sodp_ah_copy_av(struct sodp_dev *sdev, u32 ah_num, struct ib_pd *pd,
		    struct sodp_av *av);

#endif /* SOFTODP_H */
