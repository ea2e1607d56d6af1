// SPDX-License-Identifier: GPL-2.0
/*
 * RoCEv2 invariant CRC.
 *
 * The ICRC is the Ethernet CRC-32 (reflected, as crc32_le()) over the
 * packet from a pseudo LRH onwards, with every field that routers may
 * change replaced by ones:
 *   - a pseudo LRH of 8 bytes 0xff stands before the IP header;
 *   - IPv4: type of service, time to live and header checksum;
 *     IPv6: traffic class, flow label and hop limit;
 *   - the UDP checksum;
 *   - the BTH byte holding FECN, BECN and the reserved bits.
 * The CRC runs from there through the last pad byte; its ones' complement
 * is appended, least significant byte first.
 */
#include <linux/crc32.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <linux/skbuff.h>
#include <linux/udp.h>

#include "wire.h"

/* IPv6 (40) or IPv4 with options (up to 60), UDP (8), BTH (12). */
#define ICRC_HDR_MAX	(60 + sizeof(struct udphdr) + sizeof(struct sodp_bth))

/*
 * crc32_le() over @len bytes of @skb from @off, paged fragments and frag
 * lists included.  (skb_checksum_ops, which did this through
 * __skb_checksum(), is gone since 6.16; this works on every kernel.)
 */
static u32 icrc_skb_crc(const struct sk_buff *skb, unsigned int off,
			unsigned int len, u32 crc)
{
	struct skb_seq_state st;
	unsigned int done = 0, n;
	const u8 *data;

	/* The reader only walks the buffer; it does not modify the skb. */
	skb_prepare_seq_read((struct sk_buff *)skb, off, off + len, &st);
	/*
	 * A block may run past the end of the range (the linear part holds
	 * the ICRC too): only the range's bytes count.
	 */
	while (done < len && (n = skb_seq_read(done, &data, &st)) != 0) {
		n = min(n, len - done);
		crc = crc32_le(crc, data, n);
		done += n;
	}
	skb_abort_seq_read(&st);
	return crc;
}

/* Copy the IP and UDP headers into @buf with the variant fields masked. */
static unsigned int icrc_masked_net_headers(const struct sk_buff *skb, u8 *buf)
{
	const struct iphdr *ip4 = ip_hdr(skb);
	unsigned int iplen;
	struct udphdr *udp;

	if (ip4->version == 4) {
		struct iphdr *m;

		iplen = ip4->ihl * 4;
		memcpy(buf, ip4, iplen);
		m = (struct iphdr *)buf;
		m->tos = 0xff;
		m->ttl = 0xff;
		m->check = (__force __sum16)0xffff;
	} else {
		struct ipv6hdr *m;

		iplen = sizeof(struct ipv6hdr);
		memcpy(buf, ipv6_hdr(skb), iplen);
		m = (struct ipv6hdr *)buf;
		/* Version stays; the 8 traffic class and 20 flow label bits go. */
		m->priority = 0xf;
		memset(m->flow_lbl, 0xff, sizeof(m->flow_lbl));
		m->hop_limit = 0xff;
	}
	memcpy(buf + iplen, udp_hdr(skb), sizeof(struct udphdr));
	udp = (struct udphdr *)(buf + iplen);
	udp->check = (__force __sum16)0xffff;
	return iplen + sizeof(struct udphdr);
}

/* The CRC register after the packet, before the final complement. */
static u32 icrc_crc(const struct sk_buff *skb, unsigned int bth_off,
		    unsigned int len)
{
	static const u8 pseudo_lrh[8] = {
		0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff
	};
	u8 hdr[ICRC_HDR_MAX];
	struct sodp_bth *bth;
	unsigned int n;
	u32 crc;

	n = icrc_masked_net_headers(skb, hdr);
	memcpy(hdr + n, skb->data + bth_off, sizeof(*bth));
	bth = (struct sodp_bth *)(hdr + n);
	bth->dqpn |= cpu_to_be32(SODP_BTH_RESV8A_MASK);
	n += sizeof(*bth);

	crc = crc32_le(~0U, pseudo_lrh, sizeof(pseudo_lrh));
	crc = crc32_le(crc, hdr, n);
	return icrc_skb_crc(skb, bth_off + sizeof(*bth), len - sizeof(*bth), crc);
}

u32 sodp_icrc_compute(const struct sk_buff *skb, unsigned int bth_off,
		      unsigned int len)
{
	return ~icrc_crc(skb, bth_off, len);
}

u32 sodp_icrc_compute_rxe_flush(const struct sk_buff *skb,
				unsigned int bth_off, unsigned int len)
{
	return ~icrc_skb_crc(skb, bth_off, len, icrc_crc(skb, bth_off, len));
}

bool sodp_icrc_matches(const struct sk_buff *skb, unsigned int len, u32 icrc)
{
	u32 crc = icrc_crc(skb, 0, len);

	if (icrc == ~crc)
		return true;
	return ((const struct sodp_bth *)skb->data)->opcode == SODP_OP_FLUSH &&
	       icrc == ~icrc_skb_crc(skb, 0, len, crc);
}
