// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * odpstat - live ODP counters of RDMA devices and their MRs, like vmstat.
 *
 * Without -i: one snapshot of the totals.  With -i SECONDS: every
 * interval, the change per second of each counter (gauges such as pages
 * mapped as they are), -c COUNT times or until interrupted.  --json
 * prints one JSON object per sample.  Everything comes from libodp
 * (odp_probe, odp_stats_device, odp_stats_mrs).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <odp/odp.h>

static const char usage_text[] =
	"Usage: odpstat [-d DEV] [--mr] [-i SECONDS] [-c COUNT] [--json] [--help]\n"
	"\n"
	"Live On-Demand Paging counters of RDMA devices (and with --mr of each ODP\n"
	"memory region), like vmstat: page faults, pages mapped, invalidations by\n"
	"cause, prefetches.  Counters use mlx5's names; devices without ODP hw\n"
	"counters (mlx5) are summed over their live ODP MRs.\n"
	"\n"
	"  -d, --device DEV     only this device (default: every ODP-capable one)\n"
	"  -m, --mr             also list every ODP MR (device, mrn, owner, counters)\n"
	"  -i, --interval SECS  print the change per second every SECS seconds\n"
	"                       (fractions allowed); without it, one snapshot of totals\n"
	"  -c, --count N        stop after N intervals (default: until interrupted)\n"
	"  -j, --json           one JSON object per sample instead of a table\n"
	"  -h, --help           this text\n"
	"\n"
	"Exit status: 0, 1 if no ODP-capable device exists or a read fails, 2 for\n"
	"a usage error.  See odpstat(1).\n";

/* Device table columns: header, counter, whether a gauge. */
static const struct col {
	const char *head;
	enum odp_counter c;
} dev_cols[] = {
	{"faults", ODP_CNT_PAGE_FAULTS},       {"flt_ev", ODP_CNT_PAGE_FAULTS_HANDLED},
	{"flt_err", ODP_CNT_FAULT_ERRORS},     {"mapped", ODP_CNT_PAGES_MAPPED},
	{"inval", ODP_CNT_PAGE_INVALIDATIONS}, {"inv_ev", ODP_CNT_PAGE_INVALIDATIONS_HANDLED},
	{"unmap", ODP_CNT_INV_UNMAP},	       {"clear", ODP_CNT_INV_CLEAR},
	{"prot", ODP_CNT_INV_PROTECTION},      {"sdirty", ODP_CNT_INV_SOFT_DIRTY},
	{"migr", ODP_CNT_INV_MIGRATE},	       {"exit", ODP_CNT_INV_RELEASE},
	{"other", ODP_CNT_INV_OTHER},	       {"wrdown", ODP_CNT_WRITE_DOWNGRADES},
	{"pf_pages", ODP_CNT_PAGE_PREFETCH},   {"pf_req", ODP_CNT_PREFETCHES},
};

static const struct col mr_cols[] = {
	{"faults", ODP_CNT_PAGE_FAULTS},       {"flt_ev", ODP_CNT_PAGE_FAULTS_HANDLED},
	{"inval", ODP_CNT_PAGE_INVALIDATIONS}, {"inv_ev", ODP_CNT_PAGE_INVALIDATIONS_HANDLED},
	{"pf_pages", ODP_CNT_PAGE_PREFETCH},   {"kmem", ODP_CNT_KMEM_BYTES},
};

#define NCOLS(a) (sizeof(a) / sizeof((a)[0]))

static int is_gauge(enum odp_counter c)
{
	return c == ODP_CNT_PAGES_MAPPED || c == ODP_CNT_KMEM_BYTES;
}

static int has(const struct odp_counters *c, enum odp_counter i)
{
	return !!(c->valid & (1ULL << i));
}

struct dev {
	char name[64];
	struct odp_counters now, prev;
	struct odp_mr_stats *mrs, *prev_mrs;
	size_t nmrs, nprev;
};

static struct dev *devs;
static size_t ndevs;
static int opt_mr, opt_json;

/* ---- devices ------------------------------------------------------------------ */

/* Fill devs[] with @want (or every device) that has ODP; exit 1 with a reason if none. */
static void find_devices(const char *want)
{
	struct ibv_device **list;
	char others[512] = "";
	int n, i, seen = 0;

	list = ibv_get_device_list(&n);
	if (!list || n == 0) {
		fprintf(stderr, "odpstat: no RDMA devices found (load a driver and add a link, "
				"e.g. `rdma link add sodp0 type softodp netdev eth0`)\n");
		exit(1);
	}
	devs = calloc(n, sizeof(*devs));
	if (!devs) {
		fprintf(stderr, "odpstat: out of memory\n");
		exit(1);
	}
	for (i = 0; i < n; i++) {
		const char *name = ibv_get_device_name(list[i]);
		struct ibv_context *ctx;
		struct odp_caps caps;
		int err;

		if (want && strcmp(name, want))
			continue;
		seen++;
		ctx = ibv_open_device(list[i]);
		if (!ctx) {
			fprintf(stderr, "odpstat: %s: cannot open: %s\n", name, strerror(errno));
			continue;
		}
		err = odp_probe(ctx, 0, &caps);
		ibv_close_device(ctx);
		if (err) {
			fprintf(stderr, "odpstat: %s: cannot query: %s\n", name, strerror(err));
			continue;
		}
		if (!(caps.flags & ODP_CAP_EXPLICIT)) {
			size_t l = strlen(others);

			snprintf(others + l, sizeof(others) - l, "%s%s", l ? ", " : "", name);
			continue;
		}
		snprintf(devs[ndevs++].name, sizeof(devs[0].name), "%s", name);
	}
	ibv_free_device_list(list);
	if (want && !seen) {
		fprintf(stderr, "odpstat: no RDMA device '%s' (see ibv_devices)\n", want);
		exit(1);
	}
	if (!ndevs) {
		if (want)
			fprintf(stderr,
				"odpstat: %s has no ODP support (ibv_query_device_ex reports no "
				"IBV_ODP_SUPPORT)\n",
				want);
		else
			fprintf(stderr, "odpstat: no ODP-capable RDMA device (without ODP: %s)\n",
				others[0] ? others : "none");
		exit(1);
	}
}

static void sample(void)
{
	size_t i;
	int err;

	for (i = 0; i < ndevs; i++) {
		struct dev *d = &devs[i];

		d->prev = d->now;
		err = odp_stats_device(d->name, &d->now);
		if (err) {
			fprintf(stderr, "odpstat: %s: cannot read counters: %s\n", d->name,
				strerror(err));
			exit(1);
		}
		if (!opt_mr)
			continue;
		odp_stats_free(d->prev_mrs);
		d->prev_mrs = d->mrs;
		d->nprev = d->nmrs;
		err = odp_stats_mrs(d->name, &d->mrs, &d->nmrs);
		if (err) {
			fprintf(stderr, "odpstat: %s: cannot list MRs: %s\n", d->name,
				strerror(err));
			exit(1);
		}
	}
}

static const struct odp_mr_stats *prev_mr(const struct dev *d, const struct odp_mr_stats *m)
{
	size_t i;

	for (i = 0; i < d->nprev; i++)
		if (d->prev_mrs[i].mrn == m->mrn && d->prev_mrs[i].pid == m->pid)
			return &d->prev_mrs[i];
	return NULL;
}

/* ---- text --------------------------------------------------------------------- */

/* A counter cell: total, gauge, or rate over @secs (prev NULL: total). */
static void cell(const struct odp_counters *now, const struct odp_counters *prev,
		 enum odp_counter c, double secs, int width)
{
	if (!has(now, c)) {
		printf(" %*s", width, "-");
	} else if (!prev || is_gauge(c)) {
		printf(" %*llu", width, (unsigned long long)now->v[c]);
	} else if (!has(prev, c) || now->v[c] < prev->v[c]) {
		printf(" %*s", width, "-");
	} else {
		printf(" %*.0f", width, (double)(now->v[c] - prev->v[c]) / secs);
	}
}

static void text_header(int rates)
{
	size_t i;

	printf("%-12s %-11s", "device", "source");
	for (i = 0; i < NCOLS(dev_cols); i++) {
		char h[32];

		snprintf(h, sizeof(h), "%s%s", dev_cols[i].head,
			 rates && !is_gauge(dev_cols[i].c) ? "/s" : "");
		printf(" %10s", h);
	}
	printf("\n");
}

static const char *source_name(enum odp_stats_source s)
{
	return s == ODP_SRC_HW_COUNTERS ? "hw_counters" : s == ODP_SRC_MR_SUM ? "mr_sum" : "none";
}

static void text_sample(int rates, double secs)
{
	size_t i, j, k;

	for (i = 0; i < ndevs; i++) {
		printf("%-12s %-11s", devs[i].name, source_name(devs[i].now.source));
		for (j = 0; j < NCOLS(dev_cols); j++)
			cell(&devs[i].now, rates ? &devs[i].prev : NULL, dev_cols[j].c, secs, 10);
		printf("\n");
	}
	if (!opt_mr)
		return;
	printf("\n%-12s %6s %7s %-15s %-8s %20s", "device", "mrn", "pid", "comm", "kind", "length");
	for (k = 0; k < NCOLS(mr_cols); k++) {
		char h[32];

		snprintf(h, sizeof(h), "%s%s", mr_cols[k].head,
			 rates && !is_gauge(mr_cols[k].c) ? "/s" : "");
		printf(" %10s", h);
	}
	printf("\n");
	for (i = 0; i < ndevs; i++) {
		for (j = 0; j < devs[i].nmrs; j++) {
			const struct odp_mr_stats *m = &devs[i].mrs[j];
			const struct odp_mr_stats *p = rates ? prev_mr(&devs[i], m) : NULL;
			struct odp_counters none = {0};

			printf("%-12s %6u %7u %-15s %-8s %20llu", m->dev_name, m->mrn, m->pid,
			       m->comm[0] ? m->comm : "-", m->implicit ? "implicit" : "explicit",
			       (unsigned long long)m->length);
			for (k = 0; k < NCOLS(mr_cols); k++)
				cell(&m->counters, rates ? (p ? &p->counters : &none) : NULL,
				     mr_cols[k].c, secs, 10);
			printf("\n");
		}
	}
	if (rates)
		printf("\n");
}

/* ---- JSON --------------------------------------------------------------------- */

static void json_str(const char *s)
{
	putchar('"');
	for (; *s; s++) {
		unsigned char ch = (unsigned char)*s;

		if (ch == '"' || ch == '\\')
			printf("\\%c", ch);
		else if (ch < 0x20)
			printf("\\u%04x", ch);
		else
			putchar(ch);
	}
	putchar('"');
}

/* "counters": {...}, and with @prev "deltas" and "rates" of the non-gauges. */
static void json_counters(const struct odp_counters *now, const struct odp_counters *prev,
			  int rates, double secs)
{
	const char *sep = "";
	int c;

	printf("\"counters\":{");
	for (c = 0; c < ODP_NR_COUNTERS; c++) {
		if (!has(now, c))
			continue;
		printf("%s\"%s\":%llu", sep, odp_counter_name(c), (unsigned long long)now->v[c]);
		sep = ",";
	}
	printf("}");
	if (!rates)
		return;
	if (!prev) {
		printf(",\"deltas\":null,\"rates\":null");
		return;
	}
	for (int pass = 0; pass < 2; pass++) {
		printf(pass ? ",\"rates\":{" : ",\"deltas\":{");
		sep = "";
		for (c = 0; c < ODP_NR_COUNTERS; c++) {
			uint64_t d;

			if (!has(now, c) || !has(prev, c) || is_gauge(c) || now->v[c] < prev->v[c])
				continue;
			d = now->v[c] - prev->v[c];
			if (pass)
				printf("%s\"%s\":%.3f", sep, odp_counter_name(c), (double)d / secs);
			else
				printf("%s\"%s\":%llu", sep, odp_counter_name(c),
				       (unsigned long long)d);
			sep = ",";
		}
		printf("}");
	}
}

static void json_sample(int rates, double secs)
{
	struct timespec ts;
	size_t i, j;
	const char *sep = "";

	clock_gettime(CLOCK_REALTIME, &ts);
	printf("{\"time\":%.3f", ts.tv_sec + ts.tv_nsec / 1e9);
	if (rates)
		printf(",\"interval\":%.3f", secs);
	printf(",\"devices\":[");
	for (i = 0; i < ndevs; i++) {
		printf("%s{\"name\":", i ? "," : "");
		json_str(devs[i].name);
		printf(",\"source\":\"%s\",", source_name(devs[i].now.source));
		json_counters(&devs[i].now, &devs[i].prev, rates, secs);
		printf("}");
	}
	printf("]");
	if (opt_mr) {
		printf(",\"mrs\":[");
		for (i = 0; i < ndevs; i++) {
			for (j = 0; j < devs[i].nmrs; j++) {
				const struct odp_mr_stats *m = &devs[i].mrs[j];
				const struct odp_mr_stats *p = rates ? prev_mr(&devs[i], m) : NULL;

				printf("%s{\"device\":", sep);
				json_str(m->dev_name);
				printf(",\"mrn\":%u,\"pid\":%u,\"comm\":", m->mrn, m->pid);
				json_str(m->comm);
				printf(",\"implicit\":%s,\"length\":%llu,",
				       m->implicit ? "true" : "false",
				       (unsigned long long)m->length);
				json_counters(&m->counters, p ? &p->counters : NULL, rates, secs);
				printf("}");
				sep = ",";
			}
		}
		printf("]");
	}
	printf("}\n");
}

/* ---- main --------------------------------------------------------------------- */

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void sleep_until(double t)
{
	double d;
	struct timespec ts;

	while ((d = t - now_s()) > 0) {
		ts.tv_sec = (time_t)d;
		ts.tv_nsec = (long)((d - ts.tv_sec) * 1e9);
		nanosleep(&ts, NULL);
	}
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{"device", required_argument, NULL, 'd'},
		{"mr", no_argument, NULL, 'm'},
		{"interval", required_argument, NULL, 'i'},
		{"count", required_argument, NULL, 'c'},
		{"json", no_argument, NULL, 'j'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	const char *want = NULL;
	double interval = 0, t0, last, t;
	long count = -1, k;
	char *end;
	int o;

	opterr = 0;
	while ((o = getopt_long(argc, argv, ":d:mi:c:jh", opts, NULL)) != -1) {
		switch (o) {
		case 'd':
			want = optarg;
			break;
		case 'm':
			opt_mr = 1;
			break;
		case 'i':
			errno = 0;
			interval = strtod(optarg, &end);
			if (errno || *end || !(interval > 0) || !isfinite(interval)) {
				fprintf(stderr, "odpstat: bad interval '%s' (seconds > 0)\n",
					optarg);
				return 2;
			}
			break;
		case 'c':
			errno = 0;
			count = strtol(optarg, &end, 10);
			if (errno || *end || count < 1) {
				fprintf(stderr, "odpstat: bad count '%s' (an integer >= 1)\n",
					optarg);
				return 2;
			}
			break;
		case 'j':
			opt_json = 1;
			break;
		case 'h':
			fputs(usage_text, stdout);
			return 0;
		case ':':
			fprintf(stderr, "odpstat: option '%s' needs an argument (see --help)\n",
				argv[optind - 1]);
			return 2;
		default:
			fprintf(stderr, "odpstat: unknown option '%s' (see --help)\n",
				argv[optind - 1]);
			return 2;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "odpstat: unexpected argument '%s' (see --help)\n", argv[optind]);
		return 2;
	}
	if (count > 0 && interval == 0) {
		fprintf(stderr, "odpstat: -c needs -i (see --help)\n");
		return 2;
	}

	find_devices(want);
	sample();
	if (interval == 0) {
		if (opt_json)
			json_sample(0, 0);
		else {
			text_header(0);
			text_sample(0, 0);
		}
		return 0;
	}
	if (!opt_json)
		text_header(1);
	fflush(stdout);
	t0 = last = now_s();
	for (k = 1; count < 0 || k <= count; k++) {
		sleep_until(t0 + k * interval);
		sample();
		t = now_s();
		if (opt_json)
			json_sample(1, t - last);
		else
			text_sample(1, t - last);
		last = t;
		fflush(stdout);
	}
	return 0;
}
