// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * odp_reg()/odp_dereg(): memory registration that pages instead of
 * pinning when the device can.
 *
 * Order: the PD's implicit ODP MR (one per PD in the process, shared by
 * every handle and reference counted, registered with the union of the
 * access rights asked for so far), then an explicit ODP MR of the range,
 * then an ordinary pinned MR.  Flags leave modes out; a mode is tried
 * only if the device reports it and, unless ODP_REG_ANY_TRANSPORT, if the
 * transport's ODP caps cover what @access implies.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

/* The access bits an MR may carry besides IBV_ACCESS_ON_DEMAND. */
#define ODP_ACCESS_ALLOWED                                                                         \
	(IBV_ACCESS_LOCAL_WRITE | IBV_ACCESS_REMOTE_WRITE | IBV_ACCESS_REMOTE_READ |               \
	 IBV_ACCESS_REMOTE_ATOMIC | IBV_ACCESS_MW_BIND | IBV_ACCESS_ZERO_BASED |                   \
	 IBV_ACCESS_ON_DEMAND | IBV_ACCESS_HUGETLB | IBV_ACCESS_RELAXED_ORDERING)

#define ODP_REG_ALL_FLAGS                                                                          \
	(ODP_REG_NO_IMPLICIT | ODP_REG_NO_EXPLICIT | ODP_REG_NO_PINNED | ODP_REG_UC | ODP_REG_UD | \
	 ODP_REG_XRC | ODP_REG_ANY_TRANSPORT)

/* A PD's implicit MR, shared by every handle on it. */
struct implicit_mr {
	struct implicit_mr *next;
	struct ibv_pd *pd;
	struct ibv_mr *mr;
	unsigned int access;
	unsigned long refs;
	int current; /* new handles of this PD use it */
};

struct odp_mr_priv {
	struct odp_mr pub; /* first: handles are cast back */
	struct implicit_mr *imr;
};

static pthread_mutex_t imr_lock = PTHREAD_MUTEX_INITIALIZER;
static struct implicit_mr *imr_list;

const char *odp_mode_str(enum odp_mode mode)
{
	switch (mode) {
	case ODP_MODE_IMPLICIT:
		return "implicit";
	case ODP_MODE_EXPLICIT:
		return "explicit";
	case ODP_MODE_PINNED:
		return "pinned";
	default:
		return "none";
	}
}

/* The ODP operations a transport must support for an MR with @access. */
static uint32_t needed_ops(unsigned int access)
{
	uint32_t ops = IBV_ODP_SUPPORT_SEND;

	if (access & IBV_ACCESS_LOCAL_WRITE)
		ops |= IBV_ODP_SUPPORT_RECV;
	if (access & IBV_ACCESS_REMOTE_WRITE)
		ops |= IBV_ODP_SUPPORT_WRITE;
	if (access & IBV_ACCESS_REMOTE_READ)
		ops |= IBV_ODP_SUPPORT_READ;
	if (access & IBV_ACCESS_REMOTE_ATOMIC)
		ops |= IBV_ODP_SUPPORT_ATOMIC;
	return ops;
}

static int transport_ok(const struct odp_caps *caps, unsigned int access, unsigned int flags)
{
	enum odp_transport t = ODP_RC;

	if (flags & ODP_REG_ANY_TRANSPORT)
		return 1;
	if (flags & ODP_REG_UC)
		t = ODP_UC;
	else if (flags & ODP_REG_UD)
		t = ODP_UD;
	else if (flags & ODP_REG_XRC)
		t = ODP_XRC;
	if (t == ODP_UD)
		access &= ~(IBV_ACCESS_REMOTE_WRITE | IBV_ACCESS_REMOTE_READ |
			    IBV_ACCESS_REMOTE_ATOMIC);
	return (caps->ops[t] & needed_ops(access)) == needed_ops(access);
}

/* Take a reference on the PD's implicit MR covering @access; 0 or an errno. */
static int implicit_get(struct ibv_pd *pd, unsigned int access, struct implicit_mr **out)
{
	struct implicit_mr *m, *cur = NULL;
	unsigned int want = access | IBV_ACCESS_ON_DEMAND;
	struct ibv_mr *mr;

	pthread_mutex_lock(&imr_lock);
	for (m = imr_list; m; m = m->next) {
		if (m->pd == pd && m->current) {
			cur = m;
			break;
		}
	}
	if (cur && (cur->access & want) == want) {
		cur->refs++;
		*out = cur;
		pthread_mutex_unlock(&imr_lock);
		return 0;
	}
	/* A new one with every right asked for on this PD so far. */
	if (cur)
		want |= cur->access;
	mr = ibv_reg_mr(pd, NULL, SIZE_MAX, want);
	if (!mr) {
		int err = errno ? errno : EINVAL;

		pthread_mutex_unlock(&imr_lock);
		return err;
	}
	m = calloc(1, sizeof(*m));
	if (!m) {
		ibv_dereg_mr(mr);
		pthread_mutex_unlock(&imr_lock);
		return ENOMEM;
	}
	m->pd = pd;
	m->mr = mr;
	m->access = want;
	m->refs = 1;
	m->current = 1;
	m->next = imr_list;
	imr_list = m;
	/* The old one stays for its handles and goes with the last of them. */
	if (cur)
		cur->current = 0;
	*out = m;
	pthread_mutex_unlock(&imr_lock);
	return 0;
}

static int implicit_put(struct implicit_mr *m)
{
	struct implicit_mr **pp;
	int err = 0;

	pthread_mutex_lock(&imr_lock);
	if (--m->refs) {
		pthread_mutex_unlock(&imr_lock);
		return 0;
	}
	err = ibv_dereg_mr(m->mr);
	if (err) {
		/* Still registered: keep it usable and counted. */
		m->refs++;
		pthread_mutex_unlock(&imr_lock);
		return err;
	}
	for (pp = &imr_list; *pp; pp = &(*pp)->next) {
		if (*pp == m) {
			*pp = m->next;
			break;
		}
	}
	pthread_mutex_unlock(&imr_lock);
	free(m);
	return 0;
}

int odp_reg(struct ibv_pd *pd, void *addr, size_t length, unsigned int access, unsigned int flags,
	    struct odp_mr **out)
{
	struct odp_mr_priv *h;
	struct odp_caps caps;
	struct ibv_mr *mr;
	unsigned int base;
	int err, tried = 0, last = EOPNOTSUPP;
	int nt;

	if (out)
		*out = NULL;
	nt = !!(flags & ODP_REG_UC) + !!(flags & ODP_REG_UD) + !!(flags & ODP_REG_XRC);
	if (!pd || !out || !length || (access & ~ODP_ACCESS_ALLOWED) ||
	    (flags & ~ODP_REG_ALL_FLAGS) || nt > 1 ||
	    (uintptr_t)addr + length - 1 < (uintptr_t)addr)
		return odp_err(EINVAL);
	if ((flags & (ODP_REG_NO_IMPLICIT | ODP_REG_NO_EXPLICIT | ODP_REG_NO_PINNED)) ==
	    (ODP_REG_NO_IMPLICIT | ODP_REG_NO_EXPLICIT | ODP_REG_NO_PINNED))
		return odp_err(EINVAL);
	err = odp_verbs_caps(pd->context, &caps);
	if (err)
		return odp_err(err);

	h = calloc(1, sizeof(*h));
	if (!h)
		return odp_err(ENOMEM);
	h->pub.addr = addr;
	h->pub.length = length;
	base = access & ~IBV_ACCESS_ON_DEMAND;

	/* Implicit: not for hugetlb or zero-based MRs, which describe one range. */
	if (!(flags & ODP_REG_NO_IMPLICIT) && (caps.flags & ODP_CAP_IMPLICIT) &&
	    !(base & (IBV_ACCESS_HUGETLB | IBV_ACCESS_ZERO_BASED)) &&
	    transport_ok(&caps, base, flags)) {
		tried++;
		err = implicit_get(pd, base, &h->imr);
		if (!err) {
			h->pub.mr = h->imr->mr;
			h->pub.access = h->imr->access;
			h->pub.mode = ODP_MODE_IMPLICIT;
			goto done;
		}
		last = err;
	}
	if (!(flags & ODP_REG_NO_EXPLICIT) && (caps.flags & ODP_CAP_EXPLICIT) &&
	    transport_ok(&caps, base, flags)) {
		tried++;
		mr = ibv_reg_mr(pd, addr, length, base | IBV_ACCESS_ON_DEMAND);
		if (mr) {
			h->pub.mr = mr;
			h->pub.access = base | IBV_ACCESS_ON_DEMAND;
			h->pub.mode = ODP_MODE_EXPLICIT;
			goto done;
		}
		last = errno ? errno : EINVAL;
	}
	if (!(flags & ODP_REG_NO_PINNED)) {
		tried++;
		mr = ibv_reg_mr(pd, addr, length, base);
		if (mr) {
			h->pub.mr = mr;
			h->pub.access = base;
			h->pub.mode = ODP_MODE_PINNED;
			goto done;
		}
		last = errno ? errno : EINVAL;
	}
	free(h);
	/* Nothing allowed was possible: EOPNOTSUPP; else the last failure. */
	return odp_err(tried ? last : EOPNOTSUPP);

done:
	h->pub.lkey = h->pub.mr->lkey;
	h->pub.rkey = h->pub.mr->rkey;
	*out = &h->pub;
	return 0;
}

int odp_dereg(struct odp_mr *mr)
{
	struct odp_mr_priv *h = (struct odp_mr_priv *)mr;
	int err;

	if (!mr)
		return odp_err(EINVAL);
	if (h->imr)
		err = implicit_put(h->imr);
	else
		err = ibv_dereg_mr(h->pub.mr);
	if (err)
		return odp_err(err);
	free(h);
	return 0;
}
