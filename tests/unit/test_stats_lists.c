/* SPDX-License-Identifier: BSD-3-Clause
 *
 * Suite "stats_lists": every entry of every stats list
 * (include/optroute/stats.h, dp_stats.h) is exported by every exporter of
 * its block, under its name, through the real code (the programs'
 * libraries):
 *  - the channel's STATS reply (dataplane/chan/chan_stats.c, with the
 *    dataplane's own or_stats_fill from dataplane/figures.c) of a real
 *    updater on a real table, with counters of one worker and one port;
 *  - the telemetry commands' figures (dataplane/figures.c: each command
 *    of telemetry.c puts what or_fig_* hands it into its dict);
 *  - the "stats" reply's own sections (control/daemon/cmd/cp_stats_json.c)
 *    of structs whose every field differs;
 *  - /metrics (exp_render(), in optroute-exporter's library) of the
 *    stats reply made of those sections and that STATS reply: the
 *    entry's sample with its labels and value, its family's # TYPE and
 *    # HELP lines;
 *  - `optroutectl stats` and `optroutectl dataplane` (control/ctl/
 *    ctl_out.c).
 * And the lists themselves: fields unique, counters named _total, the
 * entries of one family alike. Leaving an entry out of any one exporter
 * fails a test here.
 */
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <CUnit/CUnit.h>
#include <jansson.h>

#include "optroute/auth_stats.h"
#include "optroute/chan_client.h"
#include "optroute/cp_stats.h"
#include "optroute/ct_stats.h"
#include "optroute/ctable.h"
#include "optroute/dp_stats.h"
#include "optroute/link_stats.h"
#include "optroute/updater_stats.h"
#include "optroute/stats.h"

#include "control/ctl/ctl_out.h"
#include "control/daemon/dplink/cp_link.h"
#include "control/daemon/cmd/cp_stats_json.h"
#include "control/exporter/exp.h"
#include "control/store/store.h"
#include "dataplane/counters.h"
#include "dataplane/figures.h"
#include "dataplane/pkt/pkt.h"

#include "or_test.h"
#include "test_text.h"

/* ------------------------------------------------ figures, recorded -- */

#define SL_TEL_MAX 256

/* What the last or_fig_* call handed its callback: the dict a telemetry
 * command would have built. */
static struct {
	char name[SL_TEL_MAX][64];
	uint64_t v[SL_TEL_MAX];
	unsigned n;
} sl_tel;

static void
sl_tel_put(void *arg, const char *name, uint64_t v)
{
	(void)arg;
	if (sl_tel.n == SL_TEL_MAX)
		return;
	snprintf(sl_tel.name[sl_tel.n], sizeof(sl_tel.name[0]), "%s", name);
	sl_tel.v[sl_tel.n++] = v;
}

/* -------------------------------------------------------- the lists -- */

static const struct or_stat_desc sl_ct[] = { OR_CT_STATS(OR_STAT_DESC_) };
static const struct or_stat_desc sl_upd[] = {
	OR_UPDATER_STATS(OR_STAT_DESC_)
};
static const struct or_stat_desc sl_auth[] = { OR_AUTH_STATS(OR_STAT_DESC_) };
static const struct or_stat_desc sl_dpg[] = { OR_DP_GAUGES(OR_STAT_DESC_) };
static const struct or_stat_desc sl_cp[] = {
	OR_CP_COUNTERS(OR_STAT_DESC_)
	OR_CP_GAUGES(OR_STAT_DESC_)
};
static const struct or_stat_desc sl_cp_also[] = {
	OR_CP_COUNTERS_ALSO(OR_STAT_DESC_)
};
static const struct or_stat_desc sl_store[] = {
	OR_STORE_STATS(OR_STAT_DESC_)
};
static const struct or_stat_desc sl_link[] = { OR_LINK_STATS(OR_STAT_DESC_) };

#define SL_DIM(a) (sizeof(a) / sizeof((a)[0]))

/* A dataplane without NICs or worker threads around a real updater and
 * table, its counters those of one worker and one port: what its STATS
 * reply and figures read. */
static struct {
	char dir[64], path[96];
	struct or_cfg cfg;
	struct or_dp dp;
	struct ct *t;
	struct or_updater *u;
	struct or_chan_client *c;
	struct or_chan_stat st[1024];
	unsigned n;
} sl;

/* The telemetry commands' figures (telemetry.c: /optroute/table,
 * /optroute/channel, /optroute/auth, and tsc_hz of /optroute/workers). */
static int
sl_fig_table(void)
{
	or_fig_table(&sl.dp, sl_tel_put, NULL);
	return 0;
}

static int
sl_fig_updater(void)
{
	return or_fig_updater(&sl.dp, sl_tel_put, NULL);
}

static int
sl_fig_auth(void)
{
	or_fig_auth(&sl.dp, sl_tel_put, NULL);
	return 0;
}

static int
sl_fig_gauges(void)
{
	or_fig_gauges(&sl.dp, sl_tel_put, NULL);
	return 0;
}

/* A block and where each of its exporters shows an entry FIELD. */
struct sl_block {
	const char *what;
	const struct or_stat_desc *d;
	size_t n;
	const char *section; /* of the stats reply */
	const char *key;     /* the section's key: KEY FIELD */
	int (*fig)(void);    /* its figures for telemetry: FIELD, or NULL */
	const char *ctl;     /* optroutectl stats: its line CTL FIELD */
};

/* The dataplane's section is its STATS reply, as cp_act_dp_stats() copies
 * it: the STATS names. */
static const struct sl_block sl_blocks[] = {
	{ "table", sl_ct, SL_DIM(sl_ct), "dataplane", "table.", sl_fig_table,
	  "dataplane.table." },
	{ "updater", sl_upd, SL_DIM(sl_upd), "dataplane", "chan.",
	  sl_fig_updater, "dataplane.chan." },
	{ "auth", sl_auth, SL_DIM(sl_auth), "dataplane", "auth.", sl_fig_auth,
	  "dataplane.auth." },
	{ "dataplane", sl_dpg, SL_DIM(sl_dpg), "dataplane", "", sl_fig_gauges,
	  "dataplane." },
	{ "control", sl_cp, SL_DIM(sl_cp), "control", "", NULL, "control." },
	{ "control (also)", sl_cp_also, SL_DIM(sl_cp_also), "control", "",
	  NULL, "control." },
	{ "store", sl_store, SL_DIM(sl_store), "store", "", NULL, "store." },
	{ "link", sl_link, SL_DIM(sl_link), "channel", "", NULL, "channel." },
};

/* The packet counters (dp_stats.h): each in the three scopes but the
 * polls (a worker's only); the drops' family entry stands for one
 * counter per drop reason. */
struct sl_pkt {
	const char *name, *suffix, *help;
	int per_reason, worker_only;
};

static const struct sl_pkt sl_pkts[] = {
#define P(id, name, suffix, help) { name, suffix, help, 0, 0 },
	OR_PKT_COUNTERS(P)
	OR_PKT_DROP_SUM(P)
#undef P
#define P(id, name, suffix, help) { name, suffix, help, 1, 0 },
	OR_PKT_DROP_REASONS(P)
#undef P
#define P(id, name, suffix, help) { name, suffix, help, 0, 1 },
	OR_POLL_COUNTERS(P)
#undef P
};

#define R(id, name) name,
static const char *const sl_reasons[] = { OR_DROP_REASONS(R) };
#undef R

/* The scopes of the dataplane's one worker (lcore SL_LCORE) and port. */
#define SL_PORT "p0"
#define SL_LCORE 3
#define SL_LCORE_S "3"

static const struct {
	const char *stats;  /* STATS name prefix */
	const char *metric; /* family prefix */
	const char *label;  /* the scope's label, or NULL */
	int worker;
} sl_scopes[] = {
	{ "", "optroute_dataplane_", NULL, 0 },
	{ "port." SL_PORT ".", "optroute_port_", "port=\"" SL_PORT "\"", 0 },
	{ "worker." SL_LCORE_S ".", "optroute_worker_",
	  "worker=\"" SL_LCORE_S "\"", 1 },
};

/* ------------------------------------------------ the dataplane -- */

/* Worker 0's blocks, one a port and its poll counters (counters.h),
 * made here: rte_zmalloc wants EAL. Every counter a value of its own. */
static struct or_cnt_block sl_live_blocks[2];
static struct or_cnt_block *sl_live[1] = { sl_live_blocks };
static struct or_cnt_block sl_base[2];

static void
sl_counters(struct or_counters *c)
{
	memset(c, 0, sizeof(*c));
	pthread_mutex_init(&c->lock, NULL);
	c->n_workers = 1;
	c->n_ports = 1;
	c->live = sl_live;
	c->base = sl_base;
	for (unsigned k = 0; k < OR_CNT_NUM; k++)
		sl_live_blocks[0].v[k] = 1000 + k;
	for (unsigned k = 0; k < OR_POLL_NUM; k++)
		sl_live_blocks[1].v[k] = 5000 + k;
}

static int
sl_suite_init(void)
{
	struct ct_params p = { .entries = 1000, .socket_id = -1 };
	struct or_updater_conf uc = { 0 };

	snprintf(sl.dir, sizeof(sl.dir), "/tmp/or_sl_XXXXXX");
	if (mkdtemp(sl.dir) == NULL)
		return -1;
	snprintf(sl.path, sizeof(sl.path), "%s/dp.sock", sl.dir);
	if (ct_create(&p, &sl.t) != 0)
		return -1;
	sl_counters(&sl.dp.cnt);
	sl.cfg.workers[0] = SL_LCORE;
	sl.dp.cfg = &sl.cfg;
	sl.dp.table = sl.t;
	sl.dp.n_ports = 1;
	snprintf(sl.dp.ports[0].name, sizeof(sl.dp.ports[0].name), SL_PORT);
	/* or_stats_fill reads no more of a worker than its lcore */
	sl.dp.n_workers = 1;
	uc.sock_path = sl.path;
	uc.table = sl.t;
	uc.stats_fill = or_stats_fill;
	uc.stats_clear = or_stats_clear;
	uc.stats_arg = &sl.dp;
	uc.workers = 1;
	if (or_updater_start(&uc, &sl.u) != 0)
		return -1;
	sl.dp.updater = sl.u;
	if (or_chan_connect(sl.path, OR_CHAN_ROLE_CONTROL, 5000, &sl.c) != 0)
		return -1;
	return 0;
}

static int
sl_suite_clean(void)
{
	or_chan_close(sl.c);
	or_updater_stop(sl.u);
	ct_destroy(sl.t);
	pthread_mutex_destroy(&sl.dp.cnt.lock);
	unlink(sl.path);
	rmdir(sl.dir);
	return 0;
}

static void
sl_get_stats(void)
{
	CU_ASSERT_EQUAL_FATAL(or_chan_get_stats(sl.c, sl.st, SL_DIM(sl.st),
						&sl.n, 5000),
			      0);
}

/* The STATS reply's value of name, or -1 if it has none. */
static int
sl_stats_find(const char *name, uint64_t *v)
{
	for (unsigned i = 0; i < sl.n; i++)
		if (strncmp(sl.st[i].name, name, sizeof(sl.st[i].name)) == 0) {
			*v = sl.st[i].value;
			return 0;
		}
	return -1;
}

static int
sl_tel_find(const char *name)
{
	for (unsigned i = 0; i < sl_tel.n; i++)
		if (strcmp(sl_tel.name[i], name) == 0)
			return 0;
	return -1;
}

#define SL_MISSING(where, name)                                              \
	do {                                                                 \
		fprintf(stderr, "\n  %s: no %s\n", where, name);             \
		CU_FAIL("entry missing");                                    \
	} while (0)

/* ------------------------------------------------------------ tests -- */

/* The lists: no field twice in a block, families well named, every entry
 * of a family (in any block) of the same type, help and label key. */
static void
test_lists(void)
{
	for (size_t b = 0; b < SL_DIM(sl_blocks); b++) {
		const struct sl_block *k = &sl_blocks[b];

		CU_ASSERT(k->n > 0);
		for (size_t i = 0; i < k->n; i++) {
			const struct or_stat_desc *e = &k->d[i];
			size_t ml = strlen(e->metric);
			int total = ml > 6 && strcmp(e->metric + ml - 6,
						     "_total") == 0;

			CU_ASSERT(strncmp(e->metric, "optroute_", 9) == 0);
			CU_ASSERT(e->help[0] != '\0');
			CU_ASSERT(e->label[0] == '\0' ||
				  (strchr(e->label, '=') != NULL &&
				   e->label[0] != '='));
			if (total != (e->type == OR_STAT_COUNTER))
				SL_MISSING("counter named _total", e->metric);
			for (size_t j = 0; j < i; j++)
				CU_ASSERT(strcmp(k->d[j].field, e->field) != 0);
		}
	}
	for (size_t b = 0; b < SL_DIM(sl_blocks); b++)
		for (size_t i = 0; i < sl_blocks[b].n; i++) {
			const struct or_stat_desc *e = &sl_blocks[b].d[i];

			for (size_t c = 0; c <= b; c++)
				for (size_t j = 0; j < sl_blocks[c].n; j++) {
					const struct or_stat_desc *f =
						&sl_blocks[c].d[j];

					if (f == e)
						break;
					if (strcmp(f->metric, e->metric) != 0)
						continue;
					CU_ASSERT(f->type == e->type);
					CU_ASSERT_STRING_EQUAL(f->help,
							       e->help);
					/* one sample per entry */
					CU_ASSERT_STRING_NOT_EQUAL(f->label,
								   e->label);
				}
		}
	/* The packet counters: counters, each name and family once. */
	for (size_t i = 0; i < SL_DIM(sl_pkts); i++) {
		const struct sl_pkt *e = &sl_pkts[i];
		size_t sl = strlen(e->suffix);

		CU_ASSERT(sl > 6 && strcmp(e->suffix + sl - 6, "_total") == 0);
		CU_ASSERT(e->help[0] != '\0');
		for (size_t j = 0; j < i; j++) {
			CU_ASSERT_STRING_NOT_EQUAL(sl_pkts[j].name, e->name);
			CU_ASSERT_STRING_NOT_EQUAL(sl_pkts[j].suffix,
						   e->suffix);
		}
	}
}

/* Each dataplane entry in the STATS reply and in its telemetry command. */
static void
test_dataplane(void)
{
	char name[OR_CHAN_STAT_NAME_LEN];
	uint64_t v;

	sl_get_stats();
	for (size_t b = 0; b < SL_DIM(sl_blocks); b++) {
		const struct sl_block *k = &sl_blocks[b];

		if (strcmp(k->section, "dataplane") == 0)
			for (size_t i = 0; i < k->n; i++) {
				snprintf(name, sizeof(name), "%s%s", k->key,
					 k->d[i].field);
				if (sl_stats_find(name, &v) < 0)
					SL_MISSING("STATS reply", name);
			}
		if (k->fig == NULL)
			continue;
		sl_tel.n = 0;
		CU_ASSERT_EQUAL(k->fig(), 0);
		for (size_t i = 0; i < k->n; i++)
			if (sl_tel_find(k->d[i].field) < 0) {
				snprintf(name, sizeof(name), "%s %s", k->what,
					 k->d[i].field);
				SL_MISSING("telemetry", name);
			}
	}
}

/* Calls fn for every packet counter in every scope it has: its STATS
 * name in the scope, the drop reason or NULL. */
typedef void (*sl_pkt_fn)(void *arg, const struct sl_pkt *p, size_t scope,
			  const char *name, const char *reason);

static void
sl_pkts_walk(sl_pkt_fn fn, void *arg)
{
	char name[OR_CHAN_STAT_NAME_LEN];

	for (size_t i = 0; i < SL_DIM(sl_pkts); i++) {
		const struct sl_pkt *p = &sl_pkts[i];
		size_t nr = p->per_reason ? SL_DIM(sl_reasons) : 1;

		for (size_t s = 0; s < SL_DIM(sl_scopes); s++) {
			if (p->worker_only && !sl_scopes[s].worker)
				continue;
			for (size_t r = 0; r < nr; r++) {
				const char *reason =
					p->per_reason ? sl_reasons[r] : NULL;

				snprintf(name, sizeof(name), "%s%s%s",
					 sl_scopes[s].stats, p->name,
					 reason != NULL ? reason : "");
				fn(arg, p, s, name, reason);
			}
		}
	}
}

/* In the STATS reply, and as a figure of its telemetry command: the
 * whole dataplane's (/optroute/stats), a worker's polls
 * (/optroute/workers,LCORE). */
static void
sl_pkt_dataplane(void *arg, const struct sl_pkt *p, size_t scope,
		 const char *name, const char *reason)
{
	uint64_t v;

	(void)arg;
	(void)reason;
	if (sl_stats_find(name, &v) < 0)
		SL_MISSING("STATS reply", name);
	sl_tel.n = 0;
	if (p->worker_only)
		or_fig_polls(&sl.dp, 0, sl_tel_put, NULL);
	else if (scope == 0)
		or_fig_packets(&sl.dp, OR_CNT_ALL, OR_CNT_ALL, 0, sl_tel_put,
			       NULL);
	else
		return;
	if (sl_tel_find(name + strlen(sl_scopes[scope].stats)) < 0)
		SL_MISSING("telemetry", name);
}

/* Each packet counter in every scope in the STATS reply and telemetry. */
static void
test_packets(void)
{
	sl_get_stats();
	sl_pkts_walk(sl_pkt_dataplane, NULL);
}

/* Every field of each control-plane struct a value of its own. */
static struct {
	struct cp_counters cnt;
	struct cp_gauges g;
	struct cp_store_stats st;
	struct cp_link_stats l;
} sl_cp_v;

static void
sl_cp_fill(void)
{
	uint64_t v = 1234567;

#define F(f, ...) sl_cp_v.cnt.f = v++;
	OR_CP_COUNTERS(F)
#undef F
#define F(f, ...) sl_cp_v.g.f = v++;
	OR_CP_GAUGES(F)
#undef F
#define F(f, ...) sl_cp_v.st.f = v++;
	OR_STORE_STATS(F)
#undef F
#define F(f, type, unit, ...)                                                \
	sl_cp_v.l.f = OR_STAT_##unit == OR_STAT_BOOL ? 1 : v++;
	OR_LINK_STATS(F)
#undef F
}

/* The stats reply optroute-control would send: its own sections from
 * cp_stats_json.c, the dataplane's made of the STATS reply as
 * cp_act_dp_stats() makes it. */
static json_t *
sl_reply(void)
{
	json_t *r = json_object(), *dp = json_object();

	sl_cp_fill();
	json_object_set_new(r, "control",
			    cp_stats_control_json(&sl_cp_v.cnt, &sl_cp_v.g));
	json_object_set_new(r, "store", cp_stats_store_json(&sl_cp_v.st));
	json_object_set_new(r, "channel",
			    cp_stats_link_json(&sl_cp_v.l, "/x/dp.sock"));
	sl_get_stats();
	for (unsigned i = 0; i < sl.n; i++)
		json_object_set_new(dp, sl.st[i].name,
				    json_integer((json_int_t)sl.st[i].value));
	json_object_set_new(r, "dataplane", dp);
	return r;
}

/* The value an entry has in the reply, as Prometheus shows it. */
static int
sl_value(json_t *reply, const struct sl_block *k, const struct or_stat_desc *e,
	 char *val, size_t len)
{
	char name[128];
	json_t *x;
	uint64_t v;

	snprintf(name, sizeof(name), "%s%s", k->key, e->field);
	x = json_object_get(json_object_get(reply, k->section), name);
	if (json_is_boolean(x) && e->unit == OR_STAT_BOOL)
		v = json_is_true(x);
	else if (json_is_integer(x) && e->unit != OR_STAT_BOOL)
		v = (uint64_t)json_integer_value(x);
	else
		return -1;
	if (e->unit == OR_STAT_US)
		snprintf(val, len, "%" PRIu64 ".%06" PRIu64, v / 1000000,
			 v % 1000000);
	else if (e->unit == OR_STAT_MS)
		snprintf(val, len, "%" PRIu64 ".%03" PRIu64, v / 1000,
			 v % 1000);
	else
		snprintf(val, len, "%" PRIu64, v);
	return 0;
}

/* 1 if a line of text starts with prefix. */
static int
sl_has_line_start(const char *text, const char *prefix)
{
	size_t n = strlen(prefix);
	const char *p = text;

	while ((p = strstr(p, prefix)) != NULL) {
		if (p == text || p[-1] == '\n')
			return 1;
		p += n;
	}
	return 0;
}

/* An exporter's text and the stats reply's dataplane section. */
struct sl_text {
	const char *text;
	json_t *dp;
};

/* A packet counter as the sample of its family in its scope on /metrics
 * (labels: the scope's, then the reason), its family's # TYPE and # HELP
 * (the list's help, then the scope's words). */
static void
sl_pkt_metrics(void *arg, const struct sl_pkt *p, size_t scope,
	       const char *name, const char *reason)
{
	const struct sl_text *t = arg;
	const char *sc = sl_scopes[scope].label;
	json_t *x = json_object_get(t->dp, name);
	char line[256], lbl[128] = "", rl[64] = "";

	if (!json_is_integer(x)) {
		SL_MISSING("stats reply", name);
		return;
	}
	if (reason != NULL)
		snprintf(rl, sizeof(rl), "reason=\"%s\"", reason);
	if (sc != NULL || reason != NULL)
		snprintf(lbl, sizeof(lbl), "{%s%s%s}", sc != NULL ? sc : "",
			 sc != NULL && reason != NULL ? "," : "", rl);
	snprintf(line, sizeof(line), "%s%s%s %" PRIu64,
		 sl_scopes[scope].metric, p->suffix, lbl,
		 (uint64_t)json_integer_value(x));
	if (!tt_has_line(t->text, line))
		SL_MISSING("/metrics", line);
	snprintf(line, sizeof(line), "# TYPE %s%s counter",
		 sl_scopes[scope].metric, p->suffix);
	if (!tt_has_line(t->text, line))
		SL_MISSING("/metrics", line);
	snprintf(line, sizeof(line), "# HELP %s%s %s ",
		 sl_scopes[scope].metric, p->suffix, p->help);
	if (!sl_has_line_start(t->text, line))
		SL_MISSING("/metrics", line);
}

/* A packet counter on its line of `optroutectl stats`. */
static void
sl_pkt_ctl(void *arg, const struct sl_pkt *p, size_t scope,
	   const char *name, const char *reason)
{
	const struct sl_text *t = arg;
	char line[128];

	(void)p;
	(void)scope;
	(void)reason;
	snprintf(line, sizeof(line), "dataplane.%s ", name);
	if (!sl_has_line_start(t->text, line))
		SL_MISSING("optroutectl stats", line);
}

/* Each entry as its family's sample on /metrics, with # TYPE and # HELP. */
static void
test_metrics(void)
{
	struct exp_meta m = { .version = "0" };
	json_t *reply = sl_reply();
	char *text = NULL, line[512], val[48];
	struct sl_text t;
	size_t len;

	CU_ASSERT_EQUAL_FATAL(exp_render(reply, &m, &text, &len), 0);
	for (size_t b = 0; b < SL_DIM(sl_blocks); b++) {
		const struct sl_block *k = &sl_blocks[b];

		for (size_t i = 0; i < k->n; i++) {
			const struct or_stat_desc *e = &k->d[i];
			char lbl[96] = "";
			const char *eq = strchr(e->label, '=');

			if (sl_value(reply, k, e, val, sizeof(val)) < 0) {
				snprintf(line, sizeof(line), "%s.%s%s",
					 k->section, k->key, e->field);
				SL_MISSING("stats reply", line);
				continue;
			}
			if (eq != NULL)
				snprintf(lbl, sizeof(lbl), "{%.*s=\"%s\"}",
					 (int)(eq - e->label), e->label,
					 eq + 1);
			snprintf(line, sizeof(line), "%s%s %s", e->metric, lbl,
				 val);
			if (!tt_has_line(text, line))
				SL_MISSING("/metrics", line);
			snprintf(line, sizeof(line), "# TYPE %s %s", e->metric,
				 e->type == OR_STAT_COUNTER ? "counter"
							    : "gauge");
			if (!tt_has_line(text, line))
				SL_MISSING("/metrics", line);
			snprintf(line, sizeof(line), "# HELP %s %s", e->metric,
				 e->help);
			if (!tt_has_line(text, line))
				SL_MISSING("/metrics", line);
		}
	}
	t.text = text;
	t.dp = json_object_get(reply, "dataplane");
	sl_pkts_walk(sl_pkt_metrics, &t);
	free(text);
	json_decref(reply);
}

/* Each entry on its line of `optroutectl stats`. */
static void
test_ctl(void)
{
	json_t *reply = sl_reply();
	char *text = NULL, name[128];
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);
	struct sl_text t;

	CU_ASSERT_PTR_NOT_NULL_FATAL(f);
	ctl_out_reply(f, "stats", reply);
	fclose(f);
	for (size_t b = 0; b < SL_DIM(sl_blocks); b++) {
		const struct sl_block *k = &sl_blocks[b];

		for (size_t i = 0; i < k->n; i++) {
			snprintf(name, sizeof(name), "%s%s ", k->ctl,
				 k->d[i].field);
			if (!sl_has_line_start(text, name))
				SL_MISSING("optroutectl stats", name);
		}
	}
	t.text = text;
	t.dp = NULL;
	sl_pkts_walk(sl_pkt_ctl, &t);
	free(text);
	json_decref(reply);
}

/* Each link entry on its line of `optroutectl dataplane`. */
static void
test_ctl_dataplane(void)
{
	json_t *reply;
	char *text = NULL, name[128];
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);

	CU_ASSERT_PTR_NOT_NULL_FATAL(f);
	sl_cp_fill();
	reply = cp_stats_link_json(&sl_cp_v.l, "/x/dp.sock");
	ctl_out_reply(f, "dataplane", reply);
	fclose(f);
	for (size_t i = 0; i < SL_DIM(sl_link); i++) {
		const char *p;

		snprintf(name, sizeof(name), "%s ", sl_link[i].field);
		p = strstr(text, name);
		if (p == NULL || (p != text && p[-1] != '\n'))
			SL_MISSING("optroutectl dataplane", name);
	}
	free(text);
	json_decref(reply);
}

/* The control plane's figures under their exported names: every entry
 * of the link's list gets its value from the channel thread's struct (all
 * of whose fields are set): none is left 0. (The store fills its list's
 * struct in place: test_store.c "group commit" checks every entry is set.) */
static void
test_cp_mapping(void)
{
	struct cp_link_info pi;
	struct cp_link_stats l;
	uint64_t *w;

	w = (uint64_t *)&pi;
	for (size_t i = 0; i < sizeof(pi) / sizeof(*w); i++)
		w[i] = 100 + i;
	cp_stats_link_of(&pi, 1000, &l);
#define Z(f, ...)                                                            \
	if (l.f == 0)                                                \
		SL_MISSING("cp_stats_link_of", #f);
	OR_LINK_STATS(Z)
#undef Z
	CU_ASSERT_EQUAL(l.committed_seq, 1000);
	CU_ASSERT_EQUAL(l.lag, 1000 - pi.acked_seq);
	CU_ASSERT_EQUAL(l.errors, pi.errors);
	CU_ASSERT_EQUAL(l.workers, pi.workers);
}

static CU_TestInfo sl_tests[] = {
	{ "lists well formed", test_lists },
	{ "dataplane: STATS reply and telemetry", test_dataplane },
	{ "packet counters: STATS reply and telemetry", test_packets },
	{ "/metrics: every entry", test_metrics },
	{ "optroutectl stats: every entry", test_ctl },
	{ "optroutectl dataplane: every link entry", test_ctl_dataplane },
	{ "control plane: every field mapped", test_cp_mapping },
	CU_TEST_INFO_NULL,
};

OR_TEST_SUITE("stats_lists", sl_suite_init, sl_suite_clean, sl_tests)
