// SPDX-License-Identifier: GPL-2.0
/*
 * softodp ODP core: debugfs dumps under /sys/kernel/debug/softodp/odp/.
 *
 *   objects   live odp_mm, regions and implicit children
 *   mms       every process context with its counters and its regions
 *   counters  totals of every counter over all regions, dead ones too
 */
#include <linux/debugfs.h>
#include <linux/seq_file.h>

#include "odp_internal.h"

static struct dentry *odp_debugfs_root;

static int odp_objects_show(struct seq_file *m, void *v)
{
	struct odp_objects o;

	odp_core_objects(&o);
	seq_printf(m, "mms %llu\numems %llu\nchildren %llu\n",
		   o.mms, o.umems, o.children);
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(odp_objects);

static void odp_seq_counter(void *priv, const char *name, u64 value)
{
	struct seq_file *m = priv;

	if (value)
		seq_printf(m, "    %s %llu\n", name, value);
}

static void odp_seq_total(void *priv, const char *name, u64 value)
{
	seq_printf(priv, "%s %llu\n", name, value);
}

static int odp_totals_show(struct seq_file *m, void *v)
{
	odp_core_counters(odp_seq_total, m);
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(odp_totals);

static void odp_umem_show(struct seq_file *m, struct odp_umem *umem)
{
	seq_printf(m, "  umem %s 0x%llx-0x%llx shift %u%s kmem %lld\n",
		   umem->flags & ODP_UMEM_IMPLICIT ? "implicit" : "explicit",
		   umem->start, umem->end, umem->page_shift,
		   umem->access & ODP_ACCESS_WRITE ? " rw" : " ro",
		   (s64)atomic64_read(&umem->kmem));
	odp_counters_for_each(&umem->stats, odp_seq_counter, m);
}

static int odp_mms_show(struct seq_file *m, void *v)
{
	struct odp_umem *umem;
	struct odp_mm *omm;

	/* Contexts leave the list only in ->free_notifier, under the lock. */
	spin_lock_bh(&odp_mms_lock);
	list_for_each_entry(omm, &odp_mms, node) {
		seq_printf(m, "mm tgid %d%s\n", omm->tgid,
			   READ_ONCE(omm->released) ? " released" : "");
		odp_counters_for_each(&omm->stats, odp_seq_counter, m);
		spin_lock(&omm->lock);
		list_for_each_entry(umem, &omm->umems, mm_node)
			odp_umem_show(m, umem);
		list_for_each_entry(umem, &omm->implicit, mm_node)
			odp_umem_show(m, umem);
		spin_unlock(&omm->lock);
	}
	spin_unlock_bh(&odp_mms_lock);
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(odp_mms);

void odp_debugfs_init(void)
{
	struct dentry *odp;

	odp_debugfs_root = debugfs_create_dir("softodp", NULL);
	odp = debugfs_create_dir("odp", odp_debugfs_root);
	debugfs_create_file("objects", 0400, odp, NULL, &odp_objects_fops);
	debugfs_create_file("mms", 0400, odp, NULL, &odp_mms_fops);
	debugfs_create_file("counters", 0400, odp, NULL, &odp_totals_fops);
}

void odp_debugfs_exit(void)
{
	debugfs_remove_recursive(odp_debugfs_root);
	odp_debugfs_root = NULL;
}
