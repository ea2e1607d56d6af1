// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * RDMA netlink (NETLINK_RDMA, client NLDEV) over a plain netlink socket:
 * the device index of a name (RDMA_NLDEV_CMD_GET), the MRs of a device
 * (RDMA_NLDEV_CMD_RES_MR_GET, what `rdma resource show mr -dd` prints) and
 * their per-MR counters (RDMA_NLDEV_CMD_STAT_GET with STAT_RES = RES_MR,
 * what `rdma statistic show mr` prints).  Only dumps are used, so kernels
 * from 5.x on answer the same way.  Keys are sent only to callers with
 * CAP_NET_ADMIN.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <linux/netlink.h>
#include <rdma/rdma_netlink.h>

#include "internal.h"

#define NL_BUF (64 * 1024)

/* An attribute's payload and length; its type without flag bits. */
#define NLA_DATA(a) ((void *)((char *)(a) + NLA_HDRLEN))
#define NLA_LEN(a)  ((int)(a)->nla_len - NLA_HDRLEN)
#define NLA_KIND(a) ((a)->nla_type & NLA_TYPE_MASK)

/* Iterate the attributes in [p, p + len). */
#define nla_each(a, p, len, rem)                                                                   \
	for ((a) = (struct nlattr *)(p), (rem) = (len);                                            \
	     (rem) >= (int)sizeof(*(a)) && (a)->nla_len >= sizeof(*(a)) && (a)->nla_len <= (rem);  \
	     (rem) -= NLA_ALIGN((a)->nla_len),                                                     \
	    (a) = (struct nlattr *)((char *)(a) + NLA_ALIGN((a)->nla_len)))

static uint32_t nla_u32(const struct nlattr *a)
{
	uint32_t v = 0;

	if (NLA_LEN(a) >= (int)sizeof(v))
		memcpy(&v, NLA_DATA(a), sizeof(v));
	return v;
}

static uint64_t nla_u64(const struct nlattr *a)
{
	uint64_t v = 0;

	if (NLA_LEN(a) >= (int)sizeof(v))
		memcpy(&v, NLA_DATA(a), sizeof(v));
	else if (NLA_LEN(a) >= (int)sizeof(uint32_t))
		v = nla_u32(a);
	return v;
}

/* Copy a string attribute into @buf (always terminated). */
static void nla_str(const struct nlattr *a, char *buf, size_t size)
{
	size_t n = NLA_LEN(a) > 0 ? (size_t)NLA_LEN(a) : 0;

	if (n >= size)
		n = size - 1;
	memcpy(buf, NLA_DATA(a), n);
	buf[n] = 0;
}

static void put_attr(struct nlmsghdr *h, uint16_t type, const void *data, uint16_t len)
{
	struct nlattr *a = (struct nlattr *)((char *)h + NLMSG_ALIGN(h->nlmsg_len));

	a->nla_type = type;
	a->nla_len = NLA_HDRLEN + len;
	memcpy(NLA_DATA(a), data, len);
	h->nlmsg_len = NLMSG_ALIGN(h->nlmsg_len) + NLA_ALIGN(a->nla_len);
}

/* Called for each message of a dump with its attributes. */
typedef int (*nl_cb)(struct nlattr *attrs, int len, void *priv);

/*
 * Send an NLDEV dump request @cmd (with the device index if @index is not
 * ~0, and STAT_RES @stat_res if nonzero) and pass every answer to @cb.
 * 0 or an errno (the kernel's, or what @cb returned).
 */
static int nl_dump(uint32_t cmd, uint32_t index, uint32_t stat_res, nl_cb cb, void *priv)
{
	struct sockaddr_nl sa = {.nl_family = AF_NETLINK};
	union {
		struct nlmsghdr h;
		char buf[256];
	} req;
	static __thread unsigned int seq;
	char *buf;
	int fd, err = 0, done = 0;
	ssize_t n;

	fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_RDMA);
	if (fd < 0)
		return errno == EPROTONOSUPPORT || errno == EAFNOSUPPORT ? EOPNOTSUPP : errno;
	buf = malloc(NL_BUF);
	if (!buf) {
		close(fd);
		return ENOMEM;
	}
	memset(&req, 0, sizeof(req));
	req.h.nlmsg_len = NLMSG_HDRLEN;
	req.h.nlmsg_type = RDMA_NL_GET_TYPE(RDMA_NL_NLDEV, cmd);
	req.h.nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
	req.h.nlmsg_seq = ++seq;
	if (index != ~0u)
		put_attr(&req.h, RDMA_NLDEV_ATTR_DEV_INDEX, &index, sizeof(index));
	if (stat_res)
		put_attr(&req.h, RDMA_NLDEV_ATTR_STAT_RES, &stat_res, sizeof(stat_res));
	if (sendto(fd, &req, req.h.nlmsg_len, 0, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		err = errno;
		goto out;
	}
	while (!done) {
		struct nlmsghdr *h;

		n = recv(fd, buf, NL_BUF, 0);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			err = errno;
			break;
		}
		if (n == 0)
			break;
		for (h = (struct nlmsghdr *)buf; NLMSG_OK(h, (size_t)n); h = NLMSG_NEXT(h, n)) {
			if (h->nlmsg_seq != req.h.nlmsg_seq)
				continue;
			if (h->nlmsg_type == NLMSG_DONE) {
				done = 1;
				break;
			}
			if (h->nlmsg_type == NLMSG_ERROR) {
				struct nlmsgerr *e = NLMSG_DATA(h);

				if (e->error)
					err = -e->error;
				done = 1;
				break;
			}
			/* Keep reading to the end of the dump, but stop calling back. */
			if (!err)
				err = cb((struct nlattr *)NLMSG_DATA(h), (int)NLMSG_PAYLOAD(h, 0),
					 priv);
		}
	}
out:
	free(buf);
	close(fd);
	return err;
}

struct dev_lookup {
	const char *name;
	uint32_t index;
	int found;
};

static int dev_cb(struct nlattr *attrs, int len, void *priv)
{
	struct dev_lookup *d = priv;
	char name[64] = "";
	uint32_t index = 0;
	int have = 0, rem;
	struct nlattr *a;

	nla_each(a, attrs, len, rem)
	{
		if (NLA_KIND(a) == RDMA_NLDEV_ATTR_DEV_INDEX) {
			index = nla_u32(a);
			have = 1;
		} else if (NLA_KIND(a) == RDMA_NLDEV_ATTR_DEV_NAME) {
			nla_str(a, name, sizeof(name));
		}
	}
	if (have && !strcmp(name, d->name)) {
		d->index = index;
		d->found = 1;
	}
	return 0;
}

static int dev_index(const char *name, uint32_t *index)
{
	struct dev_lookup d = {.name = name};
	int err;

	err = nl_dump(RDMA_NLDEV_CMD_GET, ~0u, 0, dev_cb, &d);
	if (err)
		return err;
	if (!d.found)
		return ENODEV;
	*index = d.index;
	return 0;
}

struct mr_table {
	struct odp_nl_mr *v;
	size_t n, cap;
};

static struct odp_nl_mr *mr_slot(struct mr_table *t, uint32_t mrn)
{
	struct odp_nl_mr *m;
	size_t i;

	for (i = 0; i < t->n; i++)
		if (t->v[i].mrn == mrn)
			return &t->v[i];
	if (t->n == t->cap) {
		size_t cap = t->cap ? 2 * t->cap : 16;

		m = realloc(t->v, cap * sizeof(*m));
		if (!m)
			return NULL;
		t->v = m;
		t->cap = cap;
	}
	m = &t->v[t->n++];
	memset(m, 0, sizeof(*m));
	m->mrn = mrn;
	return m;
}

static void set_counter(struct odp_counters *c, const char *name, uint64_t value)
{
	int i = odp_counter_by_name(name);

	if (i < 0)
		return;
	c->v[i] = value;
	c->valid |= 1ULL << i;
}

/*
 * Driver attributes: a name (DRIVER_STRING), an optional print type, then
 * the value (DRIVER_U64/U32/S64/S32, or a second DRIVER_STRING).
 */
static void parse_driver(struct odp_nl_mr *m, struct nlattr *nest)
{
	char name[64] = "", sval[32];
	int have_name = 0, rem;
	struct nlattr *a;

	nla_each(a, NLA_DATA(nest), NLA_LEN(nest), rem)
	{
		switch (NLA_KIND(a)) {
		case RDMA_NLDEV_ATTR_DRIVER_STRING:
			if (!have_name) {
				nla_str(a, name, sizeof(name));
				have_name = 1;
				break;
			}
			nla_str(a, sval, sizeof(sval));
			if (!strcmp(name, "odp"))
				m->odp_string = !strcmp(sval, "implicit") ? 2 : 1;
			have_name = 0;
			break;
		case RDMA_NLDEV_ATTR_DRIVER_U64:
		case RDMA_NLDEV_ATTR_DRIVER_S64:
			if (have_name)
				set_counter(&m->c, name, nla_u64(a));
			have_name = 0;
			break;
		case RDMA_NLDEV_ATTR_DRIVER_U32:
		case RDMA_NLDEV_ATTR_DRIVER_S32:
			if (have_name)
				set_counter(&m->c, name, nla_u32(a));
			have_name = 0;
			break;
		default:
			break;
		}
	}
}

/* STAT_HWCOUNTERS: entries of a name and a u64 value. */
static void parse_hwcounters(struct odp_nl_mr *m, struct nlattr *nest)
{
	struct nlattr *e, *a;
	int rem, rem2;

	nla_each(e, NLA_DATA(nest), NLA_LEN(nest), rem)
	{
		char name[64] = "";
		uint64_t v = 0;
		int have = 0;

		if (NLA_KIND(e) != RDMA_NLDEV_ATTR_STAT_HWCOUNTER_ENTRY)
			continue;
		nla_each(a, NLA_DATA(e), NLA_LEN(e), rem2)
		{
			if (NLA_KIND(a) == RDMA_NLDEV_ATTR_STAT_HWCOUNTER_ENTRY_NAME)
				nla_str(a, name, sizeof(name));
			else if (NLA_KIND(a) == RDMA_NLDEV_ATTR_STAT_HWCOUNTER_ENTRY_VALUE) {
				v = nla_u64(a);
				have = 1;
			}
		}
		if (have && name[0])
			set_counter(&m->c, name, v);
	}
}

/* One RES_MR_ENTRY of either dump. */
static int parse_mr_entry(struct mr_table *t, struct nlattr *entry)
{
	struct nlattr *a, *driver = NULL, *hw = NULL;
	struct odp_nl_mr tmp, *m;
	int rem, have_mrn = 0;

	memset(&tmp, 0, sizeof(tmp));
	nla_each(a, NLA_DATA(entry), NLA_LEN(entry), rem)
	{
		switch (NLA_KIND(a)) {
		case RDMA_NLDEV_ATTR_RES_MRN:
			tmp.mrn = nla_u32(a);
			have_mrn = 1;
			break;
		case RDMA_NLDEV_ATTR_RES_LKEY:
			tmp.lkey = nla_u32(a);
			tmp.has_keys = 1;
			break;
		case RDMA_NLDEV_ATTR_RES_RKEY:
			tmp.rkey = nla_u32(a);
			tmp.has_keys = 1;
			break;
		case RDMA_NLDEV_ATTR_RES_MRLEN:
			tmp.length = nla_u64(a);
			break;
		case RDMA_NLDEV_ATTR_RES_PID:
			tmp.pid = nla_u32(a);
			break;
		case RDMA_NLDEV_ATTR_RES_KERN_NAME:
			nla_str(a, tmp.comm, sizeof(tmp.comm));
			break;
		case RDMA_NLDEV_ATTR_DRIVER:
			driver = a;
			break;
		case RDMA_NLDEV_ATTR_STAT_HWCOUNTERS:
			hw = a;
			break;
		default:
			break;
		}
	}
	if (!have_mrn)
		return 0;
	m = mr_slot(t, tmp.mrn);
	if (!m)
		return ENOMEM;
	if (tmp.has_keys) {
		m->lkey = tmp.lkey;
		m->rkey = tmp.rkey;
		m->has_keys = 1;
	}
	if (tmp.length)
		m->length = tmp.length;
	if (tmp.pid)
		m->pid = tmp.pid;
	if (tmp.comm[0])
		memcpy(m->comm, tmp.comm, sizeof(m->comm));
	if (driver)
		parse_driver(m, driver);
	/* The statistics dump's values are the mlx5 names; they win. */
	if (hw)
		parse_hwcounters(m, hw);
	return 0;
}

static int mrs_cb(struct nlattr *attrs, int len, void *priv)
{
	struct nlattr *a, *e;
	int rem, rem2, err;

	nla_each(a, attrs, len, rem)
	{
		if (NLA_KIND(a) != RDMA_NLDEV_ATTR_RES_MR)
			continue;
		nla_each(e, NLA_DATA(a), NLA_LEN(a), rem2)
		{
			if (NLA_KIND(e) != RDMA_NLDEV_ATTR_RES_MR_ENTRY)
				continue;
			err = parse_mr_entry(priv, e);
			if (err)
				return err;
		}
	}
	return 0;
}

int odp_nl_mrs(const char *dev, struct odp_nl_mr **mrs, size_t *n)
{
	struct mr_table t = {0};
	uint32_t index;
	int err;

	err = dev_index(dev, &index);
	if (err)
		return err;
	/* A device without MRs answers both dumps with nothing. */
	err = nl_dump(RDMA_NLDEV_CMD_RES_MR_GET, index, 0, mrs_cb, &t);
	if (err)
		goto fail;
	err = nl_dump(RDMA_NLDEV_CMD_STAT_GET, index, RDMA_NLDEV_ATTR_RES_MR, mrs_cb, &t);
	if (err)
		goto fail;
	*mrs = t.v;
	*n = t.n;
	return 0;
fail:
	free(t.v);
	return err;
}
