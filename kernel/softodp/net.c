// SPDX-License-Identifier: GPL-2.0
/*
 * RoCEv2 over UDP.
 *
 * Sockets: each network namespace in which a softodp device exists gets a
 * kernel UDP socket per address family bound to port 4791, created when the
 * first device there asks for it (sodp_net_get()) and closed with the last
 * (sodp_net_put()) or when the namespace dies.  So a device on a netdev
 * inside a namespace receives there, unlike rdma_rxe, which listens only in
 * init_net.  Port 4791 has one owner per namespace: while rdma_rxe holds it
 * (init_net), softodp devices cannot be created in that namespace and
 * sodp_net_get() says -EADDRINUSE.
 *
 * Transmit builds the UDP and IP headers itself because the ICRC covers
 * them (IPv4 identification and lengths included), then hands the packet to
 * ip_local_out()/ip6_local_out() with a route cached in the QP's path.
 *
 * Receive: the socket's encap_rcv hook strips the UDP header and passes
 * the packet to the handler given to sodp_net_init(), which finds the
 * owning device by destination address (sodp_net_rx_netdev()).
 */
#include <linux/ip.h>
#include <linux/moduleparam.h>
#include <linux/ipv6.h>
#include <linux/netdevice.h>
#include <linux/inetdevice.h>
#include <linux/skbuff.h>
#include <linux/udp.h>
#include <net/addrconf.h>
#include <net/ip.h>
#include <net/ip6_route.h>
#include <net/ipv6.h>
#include <net/net_namespace.h>
#include <net/netns/generic.h>
#include <net/route.h>
#include <net/sch_generic.h>
#include <net/udp_tunnel.h>

#include "softodp_compat.h"
#include "net.h"
#include "wire.h"

/**
 * struct sodp_netns - softodp's state in one network namespace
 * @lock: protects @users and the socket pointers
 * @users: devices in this namespace (sodp_net_get() calls not yet put)
 * @sock4: IPv4 socket on port 4791, NULL while @users is 0
 * @sock6: IPv6 socket (v6only), NULL while @users is 0 or without IPv6
 */
struct sodp_netns {
	struct mutex	lock;
	unsigned int	users;
	struct socket	*sock4;
	struct socket	*sock6;
};

static unsigned int sodp_netns_id;
static sodp_rx_fn sodp_rx_handler;

static struct sodp_netns *sodp_netns(struct net *net)
{
	return net_generic(net, sodp_netns_id);
}

static int sodp_encap_rcv(struct sock *sk, struct sk_buff *skb)
{
	/* skb->data is at the UDP header; the BTH must follow it. */
	if (!pskb_may_pull(skb, sizeof(struct udphdr) + sizeof(struct sodp_bth))) {
		kfree_skb(skb);
		return 0;
	}
	__skb_pull(skb, sizeof(struct udphdr));
	sodp_rx_handler(skb, NULL);
	return 0;
}

static int sodp_open_socket(struct net *net, bool v6, struct socket **sockp)
{
	struct udp_tunnel_sock_cfg tcfg = {
		.encap_type = 1,
		.encap_rcv = sodp_encap_rcv,
	};
	struct udp_port_cfg cfg = {
		.local_udp_port = htons(SODP_ROCE_UDP_PORT),
	};
	int err;

	if (v6) {
		cfg.family = AF_INET6;
		cfg.ipv6_v6only = 1;
		/* The ICRC protects the packet; accept a zero UDP checksum. */
		cfg.use_udp6_rx_checksums = false;
	} else {
		cfg.family = AF_INET;
	}
	err = udp_sock_create(net, &cfg, sockp);
	if (err)
		return err;
	setup_udp_tunnel_sock(net, SODP_UDP_TUNNEL_ARG(*sockp), &tcfg);
	return 0;
}

static void sodp_close_sockets(struct sodp_netns *sn)
{
	if (sn->sock6)
		udp_tunnel_sock_release(SODP_UDP_TUNNEL_ARG(sn->sock6));
	if (sn->sock4)
		udp_tunnel_sock_release(SODP_UDP_TUNNEL_ARG(sn->sock4));
	sn->sock4 = NULL;
	sn->sock6 = NULL;
}

/**
 * sodp_net_get() - make sure @net listens for RoCEv2
 * @net: namespace of a new device's netdev
 *
 * Opens the namespace's UDP sockets for the first device there.  Pairs
 * with sodp_net_put().
 *
 * Return: 0, -EADDRINUSE if another owner (rdma_rxe) holds port 4791 in
 * @net, or another negative errno.
 */
int sodp_net_get(struct net *net)
{
	struct sodp_netns *sn = sodp_netns(net);
	int err = 0;

	might_sleep();
	mutex_lock(&sn->lock);
	if (sn->users++)
		goto out;
	err = sodp_open_socket(net, false, &sn->sock4);
	if (!err && IS_ENABLED(CONFIG_IPV6)) {
		err = sodp_open_socket(net, true, &sn->sock6);
		/* A namespace may run without IPv6; IPv4 alone is enough. */
		if (err == -EAFNOSUPPORT)
			err = 0;
	}
	if (err) {
		sodp_close_sockets(sn);
		sn->users--;
	}
out:
	mutex_unlock(&sn->lock);
	return err;
}

/**
 * sodp_net_put() - drop a device's use of @net's sockets
 * @net: namespace passed to sodp_net_get()
 *
 * Closes the sockets with the last user; packets still in flight to them
 * are dropped by the stack.
 */
void sodp_net_put(struct net *net)
{
	struct sodp_netns *sn = sodp_netns(net);

	might_sleep();
	mutex_lock(&sn->lock);
	if (!WARN_ON_ONCE(!sn->users) && !--sn->users)
		sodp_close_sockets(sn);
	mutex_unlock(&sn->lock);
}

static struct socket *sodp_net_sock(struct net *net, bool v6)
{
	struct sodp_netns *sn = sodp_netns(net);

	/* Stable: the caller's device holds a sodp_net_get() reference. */
	return v6 ? READ_ONCE(sn->sock6) : READ_ONCE(sn->sock4);
}

static struct dst_entry *sodp_route4(struct sodp_path *path)
{
	struct flowi4 fl4 = {
		.flowi4_oif = path->ifindex,
		.flowi4_proto = IPPROTO_UDP,
		.daddr = path->daddr.s6_addr32[0],
		.saddr = path->saddr.s6_addr32[0],
	};
	struct rtable *rt;

	rt = ip_route_output_key(path->net, &fl4);
	if (IS_ERR(rt))
		return ERR_CAST(rt);
	return &rt->dst;
}

static struct dst_entry *sodp_route6(struct sodp_path *path)
{
	struct flowi6 fl6 = {
		.flowi6_oif = path->ifindex,
		.flowi6_proto = IPPROTO_UDP,
		.daddr = path->daddr,
		.saddr = path->saddr,
	};
	struct dst_entry *dst;
	int err;

	dst = ip6_route_output(path->net, NULL, &fl6);
	err = dst->error;
	if (err) {
		dst_release(dst);
		return ERR_PTR(err);
	}
	return dst;
}

/**
 * sodp_path_route() - look up and cache the route of a path
 * @path: path with @net, @ifindex and the addresses filled in
 *
 * Replaces a cached route that has become invalid; keeps a valid one.
 *
 * Return: 0, or a negative errno (-ENETUNREACH, -EHOSTUNREACH, ...).
 */
int sodp_path_route(struct sodp_path *path)
{
	struct dst_entry *dst = path->dst;

	if (dst && !(dst->obsolete && !dst->ops->check(dst, path->dst_cookie)))
		return 0;
	sodp_path_release(path);
	dst = path->v6 ? sodp_route6(path) : sodp_route4(path);
	if (IS_ERR(dst))
		return PTR_ERR(dst);
	path->dst = dst;
	path->dst_cookie = path->v6 ? rt6_get_cookie((struct rt6_info *)dst) : 0;
	return 0;
}

/**
 * sodp_path_release() - drop the route cached in a path
 * @path: path
 */
void sodp_path_release(struct sodp_path *path)
{
	dst_release(path->dst);
	path->dst = NULL;
}

static unsigned int sodp_net_hdr_len(bool v6)
{
	return sizeof(struct udphdr) +
	       (v6 ? sizeof(struct ipv6hdr) : sizeof(struct iphdr));
}

/**
 * sodp_net_alloc_skb() - allocate a packet for a path
 * @path: routed path (sodp_path_route() succeeded)
 * @len: bytes of transport headers, payload and pad to follow
 * @gfp: allocation flags
 *
 * Return: an skb with headroom for the link, IP and UDP headers, tailroom
 * for @len bytes plus the ICRC, and no data yet; or NULL.
 */
struct sk_buff *sodp_net_alloc_skb(const struct sodp_path *path,
				   unsigned int len, gfp_t gfp)
{
	struct net_device *dev = path->dst->dev;
	unsigned int head = LL_RESERVED_SPACE(dev) + sodp_net_hdr_len(path->v6);
	struct sk_buff *skb;

	skb = alloc_skb(head + len + SODP_ICRC_SIZE + dev->needed_tailroom, gfp);
	if (!skb)
		return NULL;
	skb_reserve(skb, head);
	return skb;
}

static void sodp_push_udp(struct sodp_path *path, struct sk_buff *skb)
{
	struct udphdr *uh;

	uh = skb_push(skb, sizeof(*uh));
	skb_reset_transport_header(skb);
	uh->source = path->sport;
	uh->dest = htons(SODP_ROCE_UDP_PORT);
	uh->len = htons(skb->len);
	uh->check = 0;
}

static void sodp_push_ipv4(struct sodp_path *path, struct sk_buff *skb,
			   bool local)
{
	struct iphdr *iph;

	iph = skb_push(skb, sizeof(*iph));
	skb_reset_network_header(skb);
	iph->version = 4;
	iph->ihl = sizeof(*iph) / 4;
	iph->tos = path->tclass;
	iph->tot_len = htons(skb->len);
	iph->frag_off = htons(IP_DF);
	iph->ttl = path->hop_limit;
	iph->protocol = IPPROTO_UDP;
	iph->saddr = path->saddr.s6_addr32[0];
	iph->daddr = path->daddr.s6_addr32[0];
	/* The identification is part of the ICRC: choose it now. */
	if (local)
		iph->id = 0;	/* no ICRC, no fragment: nobody reads it */
	else
		__ip_select_ident(path->net, iph, 1);
	skb->protocol = htons(ETH_P_IP);
	memset(IPCB(skb), 0, sizeof(*IPCB(skb)));
}

static void sodp_push_ipv6(struct sodp_path *path, struct sk_buff *skb)
{
	struct ipv6hdr *ip6h;

	ip6h = skb_push(skb, sizeof(*ip6h));
	skb_reset_network_header(skb);
	ip6_flow_hdr(ip6h, path->tclass, htonl(path->flow_label));
	ip6h->payload_len = htons(skb->len - sizeof(*ip6h));
	ip6h->nexthdr = IPPROTO_UDP;
	ip6h->hop_limit = path->hop_limit;
	ip6h->saddr = path->saddr;
	ip6h->daddr = path->daddr;
	skb->protocol = htons(ETH_P_IPV6);
	memset(IP6CB(skb), 0, sizeof(*IP6CB(skb)));
}

/*
 * Stock rdma_rxe (6.2 on) drops a FLUSH whose ICRC is computed as the
 * specification says (sodp_icrc_compute_rxe_flush() says why); softodp
 * accepts both forms and sends the specified one unless this is set.
 */
static bool flush_icrc_rxe;
module_param(flush_icrc_rxe, bool, 0644);
MODULE_PARM_DESC(flush_icrc_rxe,
		 "Send RDMA FLUSH with the ICRC stock rdma_rxe 6.2+ computes (over its headers twice), so that rdma_rxe peers take it (default: N, the specified ICRC)");

/*
 * Local delivery.  A packet whose route leaves through the loopback device
 * never leaves this namespace, and port 4791 here belongs to softodp (the
 * device sending it holds a sodp_net_get() reference, and rdma_rxe cannot
 * share the port): its only receiver is our own handler.  Such a packet is
 * handed to the handler at once, in the sender's context with bottom
 * halves off (as if the backlog softirq ran it), instead of through
 * ip_local_out(), the loopback device, the backlog queue, IP and UDP
 * input; the handler may then let the sender's drive run the receiving QP
 * (engine.c).  Nothing between the two ends can change the packet, so it
 * carries no ICRC (zero), and the receiver checks none for packets on lo
 * (sodp_pkt_icrc_ok()).  Its headers are built as for the wire.
 *
 * The stack is still taken while lo has a queueing discipline of its own
 * (netem loss in a test, say) or a packet tap is open (tcpdump): then the
 * packet is built with its ICRC and sent as before, and seen by them.
 * Netfilter rules and ingress filters on lo do not see locally delivered
 * packets (rdma_rxe's loopback path skips the stack the same way).
 */
static bool sodp_path_deliver_local(const struct sodp_path *path)
{
	struct net_device *lo = path->dst->dev;
	struct Qdisc *q;
	bool plain;

	if (!(lo->flags & IFF_LOOPBACK))
		return false;
	rcu_read_lock_bh();
	q = rcu_dereference_bh(lo->qdisc);
	/* The default noqueue discipline of lo has no enqueue. */
	plain = q && !q->enqueue;
	rcu_read_unlock_bh();
	return plain && !dev_nit_active(lo);
}

static void sodp_net_deliver_local(struct sodp_path *path, struct sk_buff *skb,
				   struct sodp_drive *drive)
{
	memset(skb_tail_pointer(skb) - SODP_ICRC_SIZE, 0, SODP_ICRC_SIZE);
	/* skb_iif stays 0: no device received this packet. */
	skb->dev = path->dst->dev;
	skb->pkt_type = PACKET_HOST;
	__skb_pull(skb, skb_transport_offset(skb) + sizeof(struct udphdr));
	local_bh_disable();
	sodp_rx_handler(skb, drive);
	local_bh_enable();
}

/**
 * sodp_net_xmit() - send one RoCEv2 packet
 * @path: routed path
 * @skb: packet from sodp_net_alloc_skb(), skb->data at the BTH and the
 *	transport headers, payload and pad in place; consumed in all cases
 * @drive: the sender's drive, passed to the receive handler with a packet
 *	delivered locally; may be NULL
 *
 * Adds the UDP and IP headers and the ICRC and sends the packet; a packet
 * for a local address may go straight to the receive handler (see above).
 *
 * Context: process or softirq; the packet's path is the caller's.
 * Return: 0 if sent, SODP_NET_LOCAL if delivered locally, or a negative
 * errno (the packet is then dropped).
 */
int sodp_net_xmit(struct sodp_path *path, struct sk_buff *skb,
		  struct sodp_drive *drive)
{
	unsigned int len = skb->len, bth_off;
	struct socket *sock;
	bool local;
	__le32 icrc;
	u32 crc;
	int err;

	sock = sodp_net_sock(path->net, path->v6);
	err = sodp_path_route(path);
	if (err || !sock) {
		kfree_skb(skb);
		return err ?: -ENETDOWN;
	}
	skb_put(skb, SODP_ICRC_SIZE);
	sodp_push_udp(path, skb);
	local = sodp_path_deliver_local(path);
	if (path->v6)
		sodp_push_ipv6(path, skb);
	else
		sodp_push_ipv4(path, skb, local);
	if (local) {
		sodp_net_deliver_local(path, skb, drive);
		return SODP_NET_LOCAL;
	}
	bth_off = skb_network_header_len(skb) + sizeof(struct udphdr);
	if (READ_ONCE(flush_icrc_rxe) &&
	    ((struct sodp_bth *)(skb->data + bth_off))->opcode == SODP_OP_FLUSH)
		crc = sodp_icrc_compute_rxe_flush(skb, bth_off, len);
	else
		crc = sodp_icrc_compute(skb, bth_off, len);
	icrc = cpu_to_le32(crc);
	memcpy(skb_tail_pointer(skb) - SODP_ICRC_SIZE, &icrc, sizeof(icrc));
	skb->ip_summed = CHECKSUM_NONE;
	skb_dst_set(skb, dst_clone(path->dst));

	if (path->v6)
		err = ip6_local_out(path->net, sock->sk, skb);
	else
		err = ip_local_out(path->net, sock->sk, skb);
	return net_xmit_eval(err) ? -EIO : 0;
}

/**
 * sodp_net_rx_netdev() - the local netdev that owns a packet's destination
 * @skb: received packet (network header set)
 *
 * This is how a packet finds its device: by destination address, not by
 * the netdev it arrived on (loopback traffic arrives on "lo").
 *
 * Return: the netdev with a reference held (dev_put() it), or NULL.
 */
struct net_device *sodp_net_rx_netdev(const struct sk_buff *skb)
{
	struct net *net = dev_net(skb->dev);
	struct net_device *ndev;

	if (ip_hdr(skb)->version == 4)
		return __ip_dev_find(net, ip_hdr(skb)->daddr, true);

	rcu_read_lock();
	ndev = ipv6_dev_find(net, &ipv6_hdr(skb)->daddr, NULL);
	if (ndev)
		dev_hold(ndev);
	rcu_read_unlock();
	return ndev;
}

static int __net_init sodp_netns_init(struct net *net)
{
	mutex_init(&sodp_netns(net)->lock);
	return 0;
}

static void __net_exit sodp_netns_exit(struct net *net)
{
	struct sodp_netns *sn = sodp_netns(net);

	/* Devices went with their netdevs; close what is left regardless. */
	mutex_lock(&sn->lock);
	sodp_close_sockets(sn);
	sn->users = 0;
	mutex_unlock(&sn->lock);
}

static struct pernet_operations sodp_netns_ops = {
	.init = sodp_netns_init,
	.exit = sodp_netns_exit,
	.id = &sodp_netns_id,
	.size = sizeof(struct sodp_netns),
};

/**
 * sodp_net_init() - set up the RoCEv2 transport
 * @rx: handler for every received packet
 *
 * Return: 0 or a negative errno.
 */
int sodp_net_init(sodp_rx_fn rx)
{
	sodp_rx_handler = rx;
	return register_pernet_subsys(&sodp_netns_ops);
}

/**
 * sodp_net_exit() - tear down the RoCEv2 transport
 *
 * All devices must be gone, so no socket is open any more.
 */
void sodp_net_exit(void)
{
	unregister_pernet_subsys(&sodp_netns_ops);
}
