// SPDX-License-Identifier: GPL-2.0
/*
 * Test-only module: checks softodp's RoCEv2 wire and UDP transport code
 * against packets of other implementations.  Never packaged.  Files in
 * /sys/kernel/debug/softodp_wiretest/:
 *
 *   packet  write one packet as hex (IP header through ICRC): it is parsed
 *           with the opcode table and its ICRC recomputed; read the verdict
 *           of the last packet ("ok OPCODE_NAME" or "bad: reason").
 *   listen  write 1 / 0: open / close the RoCEv2 sockets of init_net.
 *   rx      read "ok N bad M local L": packets received on port 4791 (or
 *           delivered locally, L of them: zero ICRC) and checked.
 *   send    write "SRCADDR DSTADDR LEN" (IPv4 or IPv6): send one SEND_ONLY
 *           packet with LEN bytes of payload (byte i = i & 0xff).
 *
 * The wire code is compiled into this module from the driver's sources so
 * that softodp.ko need not export it.
 */
#include <linux/debugfs.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <linux/module.h>
#include <linux/seq_file.h>
#include <linux/skbuff.h>
#include <linux/udp.h>

#include <linux/inet.h>

#include "softodp_compat.h"
#include "icrc.c"
#include "net.c"
#include "opcode.c"

#define WT_MAX_PACKET	9000

static struct dentry *wt_dir;
static DEFINE_MUTEX(wt_lock);
static char wt_verdict[128] = "none";

static atomic_t wt_rx_ok = ATOMIC_INIT(0);
static atomic_t wt_rx_bad = ATOMIC_INIT(0);
static atomic_t wt_rx_local = ATOMIC_INIT(0);
static bool wt_listening;

/*
 * Check a packet whose BTH is at @bth_off and whose headers are set.  With
 * @local (delivered by the sender without the stack, net.c) the ICRC field
 * must be zero instead of valid.
 */
static const char *wt_check_bth(struct sk_buff *skb, unsigned int bth_off,
				bool local, char *name, size_t name_len)
{
	const struct sodp_opinfo *op;
	const struct sodp_bth *bth;
	unsigned int payload;
	__le32 icrc;
	u32 want, got;

	if (skb->len < bth_off + sizeof(*bth) + SODP_ICRC_SIZE)
		return "too short for BTH and ICRC";
	if (be16_to_cpu(udp_hdr(skb)->dest) != SODP_ROCE_UDP_PORT)
		return "not UDP port 4791";

	bth = (const struct sodp_bth *)(skb->data + bth_off);
	op = sodp_op_info(bth->opcode);
	if (!op)
		return "unknown opcode";
	if (skb->len < bth_off + op->hdr_len + sodp_bth_pad(bth) + SODP_ICRC_SIZE)
		return "shorter than the opcode's headers";
	payload = skb->len - bth_off - op->hdr_len - sodp_bth_pad(bth) -
		  SODP_ICRC_SIZE;
	if (payload && !(op->flags & SODP_OPF_PAYLOAD))
		return "payload on an opcode without one";

	memcpy(&icrc, skb->data + skb->len - SODP_ICRC_SIZE, sizeof(icrc));
	want = le32_to_cpu(icrc);
	got = local ? 0 : sodp_icrc_compute(skb, bth_off,
					    skb->len - bth_off - SODP_ICRC_SIZE);
	if (got != want)
		return local ? "local packet with an ICRC" : "ICRC mismatch";
	strscpy(name, op->name, name_len);
	return NULL;
}

/* Check a packet given from its IP header on. */
static const char *wt_check(struct sk_buff *skb, char *name, size_t name_len)
{
	unsigned int iplen;

	skb_reset_network_header(skb);
	if (skb->len < sizeof(struct iphdr))
		return "too short";
	if (ip_hdr(skb)->version == 4)
		iplen = ip_hdr(skb)->ihl * 4;
	else if (ip_hdr(skb)->version == 6)
		iplen = sizeof(struct ipv6hdr);
	else
		return "not IP";
	if (skb->len < iplen + sizeof(struct udphdr))
		return "too short for BTH and ICRC";
	skb_set_transport_header(skb, iplen);
	return wt_check_bth(skb, iplen + sizeof(struct udphdr), false, name,
			    name_len);
}

/*
 * The receive handler.  net.c calls it from the UDP socket, or directly
 * from sodp_net_xmit() for a packet to a local address (local delivery:
 * counted in "local" too); only softodp's engines pass a drive.
 */
static void wt_rx(struct sk_buff *skb, struct sodp_drive *drive)
{
	/* A device sets skb_iif on receive; local delivery has none. */
	bool local = !skb->skb_iif;
	char name[48];

	if (drive || skb_linearize(skb) ||
	    wt_check_bth(skb, 0, local, name, sizeof(name))) {
		atomic_inc(&wt_rx_bad);
	} else {
		atomic_inc(&wt_rx_ok);
		if (local)
			atomic_inc(&wt_rx_local);
	}
	kfree_skb(skb);
}

static ssize_t wt_write(struct file *file, const char __user *ubuf,
			size_t count, loff_t *ppos)
{
	struct sk_buff *skb;
	const char *err;
	char name[48];
	char *hex;
	size_t n;

	if (count > 2 * WT_MAX_PACKET + 1)
		return -EMSGSIZE;
	hex = memdup_user_nul(ubuf, count);
	if (IS_ERR(hex))
		return PTR_ERR(hex);
	n = strcspn(hex, "\n") / 2;
	skb = alloc_skb(n, GFP_KERNEL);
	if (!skb) {
		kfree(hex);
		return -ENOMEM;
	}
	mutex_lock(&wt_lock);
	if (hex2bin(skb_put(skb, n), hex, n))
		err = "not hex";
	else
		err = wt_check(skb, name, sizeof(name));
	if (err)
		snprintf(wt_verdict, sizeof(wt_verdict), "bad: %s\n", err);
	else
		snprintf(wt_verdict, sizeof(wt_verdict), "ok %s\n", name);
	mutex_unlock(&wt_lock);
	kfree_skb(skb);
	kfree(hex);
	return count;
}

static ssize_t wt_read(struct file *file, char __user *ubuf, size_t count,
		       loff_t *ppos)
{
	ssize_t ret;

	mutex_lock(&wt_lock);
	ret = simple_read_from_buffer(ubuf, count, ppos, wt_verdict,
				      strlen(wt_verdict));
	mutex_unlock(&wt_lock);
	return ret;
}

static const struct file_operations wt_fops = {
	.owner = THIS_MODULE,
	.read = wt_read,
	.write = wt_write,
	.llseek = default_llseek,
};

static ssize_t wt_listen_write(struct file *file, const char __user *ubuf,
			       size_t count, loff_t *ppos)
{
	bool on;
	int err;

	err = kstrtobool_from_user(ubuf, count, &on);
	if (err)
		return err;
	mutex_lock(&wt_lock);
	if (on && !wt_listening)
		err = sodp_net_get(&init_net);
	else if (!on && wt_listening)
		sodp_net_put(&init_net);
	if (!err)
		wt_listening = on;
	mutex_unlock(&wt_lock);
	return err ?: count;
}

static const struct file_operations wt_listen_fops = {
	.owner = THIS_MODULE,
	.write = wt_listen_write,
};

static int wt_rx_show(struct seq_file *m, void *unused)
{
	seq_printf(m, "ok %d bad %d local %d\n", atomic_read(&wt_rx_ok),
		   atomic_read(&wt_rx_bad), atomic_read(&wt_rx_local));
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(wt_rx);

static int wt_parse_addr(const char *s, struct in6_addr *a, bool *v6)
{
	memset(a, 0, sizeof(*a));
	if (in4_pton(s, -1, (u8 *)&a->s6_addr32[0], -1, NULL)) {
		*v6 = false;
		return 0;
	}
	if (in6_pton(s, -1, a->s6_addr, -1, NULL)) {
		*v6 = true;
		return 0;
	}
	return -EINVAL;
}

static int wt_send(const char *src, const char *dst, unsigned int len)
{
	struct sodp_path path = {
		.net = &init_net,
		.sport = htons(0xc000),
		.hop_limit = 64,
	};
	unsigned int pad = (4 - (len & 3)) & 3, i;
	struct sodp_bth *bth;
	struct sk_buff *skb;
	bool v6_dst;
	u8 *data;
	int err;

	if (len > 4096)
		return -EMSGSIZE;
	if (wt_parse_addr(src, &path.saddr, &path.v6) ||
	    wt_parse_addr(dst, &path.daddr, &v6_dst) || path.v6 != v6_dst)
		return -EINVAL;
	err = sodp_path_route(&path);
	if (err)
		return err;
	skb = sodp_net_alloc_skb(&path, sizeof(*bth) + len + pad, GFP_KERNEL);
	if (!skb) {
		sodp_path_release(&path);
		return -ENOMEM;
	}
	bth = skb_put(skb, sizeof(*bth));
	sodp_bth_init(bth, SODP_OP_SEND_ONLY, false, pad, SODP_DEFAULT_PKEY,
		      0x11, true, 1);
	data = skb_put(skb, len + pad);
	for (i = 0; i < len; i++)
		data[i] = i;
	memset(data + len, 0, pad);
	err = sodp_net_xmit(&path, skb, NULL);
	sodp_path_release(&path);
	return err < 0 ? err : 0;
}

static ssize_t wt_send_write(struct file *file, const char __user *ubuf,
			     size_t count, loff_t *ppos)
{
	char src[64], dst[64];
	unsigned int len;
	char *cmd;
	int err;

	cmd = memdup_user_nul(ubuf, min_t(size_t, count, 200));
	if (IS_ERR(cmd))
		return PTR_ERR(cmd);
	if (sscanf(cmd, "%63s %63s %u", src, dst, &len) != 3)
		err = -EINVAL;
	else
		err = wt_send(src, dst, len);
	kfree(cmd);
	return err ?: count;
}

static const struct file_operations wt_send_fops = {
	.owner = THIS_MODULE,
	.write = wt_send_write,
};

static int __init wt_init(void)
{
	int err;

	err = sodp_net_init(wt_rx);
	if (err)
		return err;
	wt_dir = debugfs_create_dir("softodp_wiretest", NULL);
	debugfs_create_file("packet", 0600, wt_dir, NULL, &wt_fops);
	debugfs_create_file("listen", 0200, wt_dir, NULL, &wt_listen_fops);
	debugfs_create_file("rx", 0400, wt_dir, NULL, &wt_rx_fops);
	debugfs_create_file("send", 0200, wt_dir, NULL, &wt_send_fops);
	return 0;
}

static void __exit wt_exit(void)
{
	debugfs_remove_recursive(wt_dir);
	if (wt_listening)
		sodp_net_put(&init_net);
	sodp_net_exit();
}

module_init(wt_init);
module_exit(wt_exit);

MODULE_DESCRIPTION("softodp test: RoCEv2 wire format, ICRC and UDP transport");
MODULE_LICENSE("GPL");
