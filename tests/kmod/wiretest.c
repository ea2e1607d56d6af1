// SPDX-License-Identifier: GPL-2.0
/*
 * Test-only module: checks softodp's RoCEv2 wire code against packets
 * captured from other implementations.  Writing one packet as hex (IP
 * header through ICRC) to /sys/kernel/debug/softodp_wiretest/packet makes
 * the module parse it with the opcode table and recompute its ICRC; reading
 * the file returns the verdict of the last packet ("ok OPCODE_NAME" or
 * "bad: reason").  Never packaged.
 *
 * The wire code is compiled into this module from the driver's sources so
 * that softodp.ko need not export it.
 */
#include <linux/debugfs.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <linux/module.h>
#include <linux/skbuff.h>
#include <linux/udp.h>

#include "icrc.c"
#include "opcode.c"

#define WT_MAX_PACKET	9000

static struct dentry *wt_dir;
static DEFINE_MUTEX(wt_lock);
static char wt_verdict[128] = "none";

static const char *wt_check(struct sk_buff *skb, char *name, size_t name_len)
{
	const struct sodp_opinfo *op;
	const struct sodp_bth *bth;
	unsigned int iplen, bth_off, payload;
	__le32 icrc;
	u32 want, got;

	skb_reset_network_header(skb);
	if (skb->len < sizeof(struct iphdr))
		return "too short";
	if (ip_hdr(skb)->version == 4)
		iplen = ip_hdr(skb)->ihl * 4;
	else if (ip_hdr(skb)->version == 6)
		iplen = sizeof(struct ipv6hdr);
	else
		return "not IP";
	skb_set_transport_header(skb, iplen);
	bth_off = iplen + sizeof(struct udphdr);
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
	got = sodp_icrc_compute(skb, bth_off,
				skb->len - bth_off - SODP_ICRC_SIZE);
	if (got != want)
		return "ICRC mismatch";
	strscpy(name, op->name, name_len);
	return NULL;
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

static int __init wt_init(void)
{
	wt_dir = debugfs_create_dir("softodp_wiretest", NULL);
	debugfs_create_file("packet", 0600, wt_dir, NULL, &wt_fops);
	return 0;
}

static void __exit wt_exit(void)
{
	debugfs_remove_recursive(wt_dir);
}

module_init(wt_init);
module_exit(wt_exit);

MODULE_DESCRIPTION("softodp test: RoCEv2 parsing and ICRC against captured packets");
MODULE_LICENSE("GPL");
