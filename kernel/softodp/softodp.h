/* SPDX-License-Identifier: GPL-2.0 */
/*
 * softodp: a software RoCEv2 RDMA device whose memory regions are
 * on-demand paging native.  Central header of the device driver: limits,
 * object converters and logging helpers that name the object.
 */
#ifndef SOFTODP_H
#define SOFTODP_H

#include <linux/printk.h>

#define SOFTODP_LINK_TYPE	"softodp"

#define sodp_err(fmt, ...)	pr_err("softodp: " fmt, ##__VA_ARGS__)
#define sodp_info(fmt, ...)	pr_info("softodp: " fmt, ##__VA_ARGS__)

#endif /* SOFTODP_H */
