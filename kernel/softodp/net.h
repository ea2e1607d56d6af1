/* SPDX-License-Identifier: GPL-2.0 */
/*
 * RoCEv2 transport over UDP: one pair of UDP sockets (IPv4, IPv6) on port
 * 4791 per network namespace that has softodp devices, routes cached per
 * path, and transmit/receive of BTH-framed packets.
 */
#ifndef SOFTODP_NET_H
#define SOFTODP_NET_H

#include <linux/in6.h>
#include <linux/types.h>

struct dst_entry;
struct net;
struct net_device;
struct sk_buff;
struct sodp_drive;

/**
 * struct sodp_path - where a QP's packets go, and how
 * @net: namespace of the local netdev; pinned by the device's netdev
 * @ifindex: local netdev the route must leave through (0: any)
 * @v6: IPv6 addresses (else IPv4 in the first word of each address)
 * @saddr: local address (from the source GID)
 * @daddr: remote address (from the destination GID)
 * @sport: UDP source port, in network order (flow entropy)
 * @tclass: IPv4 TOS / IPv6 traffic class
 * @hop_limit: IPv4 TTL / IPv6 hop limit
 * @flow_label: IPv6 flow label
 * @dst: cached route, owned by the path (released by sodp_path_release())
 * @dst_cookie: validity cookie of @dst
 *
 * A path is used by one transmit context at a time (the owner serialises).
 */
struct sodp_path {
	struct net	*net;
	int		ifindex;
	bool		v6;
	struct in6_addr	saddr;
	struct in6_addr	daddr;
	__be16		sport;
	u8		tclass;
	u8		hop_limit;
	u32		flow_label;
	struct dst_entry *dst;
	u32		dst_cookie;
};

/**
 * typedef sodp_rx_fn - receive handler for RoCEv2 packets
 * @skb: packet with skb->data at the BTH (network and transport headers
 *	set, at least the BTH linear); the handler owns it
 * @drive: for a packet delivered locally, the sender's drive (engine.c),
 *	else NULL
 */
typedef void (*sodp_rx_fn)(struct sk_buff *skb, struct sodp_drive *drive);

/* sodp_net_xmit(): the packet went straight to the local receiver. */
#define SODP_NET_LOCAL	1

int sodp_net_init(sodp_rx_fn rx);
void sodp_net_exit(void);
int sodp_net_get(struct net *net);
void sodp_net_put(struct net *net);

int sodp_path_route(struct sodp_path *path);
void sodp_path_release(struct sodp_path *path);
struct sk_buff *sodp_net_alloc_skb(const struct sodp_path *path,
				   unsigned int len, gfp_t gfp);
int sodp_net_xmit(struct sodp_path *path, struct sk_buff *skb,
		  struct sodp_drive *drive);
struct net_device *sodp_net_rx_netdev(const struct sk_buff *skb);

#endif /* SOFTODP_NET_H */
