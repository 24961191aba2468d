/* SPDX-License-Identifier: BSD-3-Clause
 *
 * Suite "stats_lists": every entry of every stats list
 * (include/optroute/stats.h) is exported by every exporter of its block,
 * under its name, through the real code:
 *  - the channel's STATS reply (dataplane/chan/chan_stats.c, with the
 *    dataplane's own stats_fill from dataplane/telemetry.c) of a real
 *    updater on a real table;
 *  - the telemetry commands (dataplane/telemetry.c, compiled in here:
 *    rte_tel_data_* are replaced by recorders, so no EAL is needed);
 *  - the "stats" reply's own sections (control/daemon/cmd/cp_stats_json.c,
 *    compiled in here) of structs whose every field differs;
 *  - /metrics (exp_render(), in optroute-exporter's library) of the
 *    stats reply made of those sections and that STATS reply: the
 *    entry's sample with its label and value, its family's # TYPE and
 *    # HELP lines;
 *  - `optroutectl stats` and `optroutectl dataplane` (control/ctl/
 *    ctl_out.c, compiled in here).
 * And the lists themselves: fields unique, counters named _total, the
 * entries of one family alike. Leaving an entry out of any one exporter
 * fails a test here.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <CUnit/CUnit.h>
#include <jansson.h>
#include <rte_telemetry.h>

#include "optroute/auth_stats.h"
#include "optroute/chan_client.h"
#include "optroute/cp_stats.h"
#include "optroute/ct_stats.h"
#include "optroute/link_stats.h"
#include "optroute/updater_stats.h"
#include "optroute/stats.h"

#include "../../control/exporter/exp.h"
#include "or_test.h"
#include "test_text.h"

/* ------------------------------------------ telemetry, recorded -- */

#define SL_TEL_MAX 256

/* The dict the last telemetry command built. */
static struct {
	char name[SL_TEL_MAX][64];
	uint64_t v[SL_TEL_MAX];
	unsigned n;
} sl_tel;

static void
sl_tel_put(const char *name, uint64_t v)
{
	if (sl_tel.n == SL_TEL_MAX)
		return;
	snprintf(sl_tel.name[sl_tel.n], sizeof(sl_tel.name[0]), "%s", name);
	sl_tel.v[sl_tel.n++] = v;
}

static int
sl_start_dict(struct rte_tel_data *d)
{
	(void)d;
	sl_tel.n = 0;
	return 0;
}

static int
sl_add_u64(struct rte_tel_data *d, const char *name, uint64_t v)
{
	(void)d;
	sl_tel_put(name, v);
	return 0;
}

static int
sl_add_int(struct rte_tel_data *d, const char *name, int v)
{
	(void)d;
	sl_tel_put(name, (uint64_t)v);
	return 0;
}

static int
sl_add_string(struct rte_tel_data *d, const char *name, const char *v)
{
	(void)d;
	(void)v;
	sl_tel_put(name, 0);
	return 0;
}

#define rte_tel_data_start_dict sl_start_dict
#define rte_tel_data_add_dict_u64 sl_add_u64
#define rte_tel_data_add_dict_int sl_add_int
#define rte_tel_data_add_dict_string sl_add_string
#include "../../dataplane/telemetry.c"
#undef rte_tel_data_start_dict
#undef rte_tel_data_add_dict_u64
#undef rte_tel_data_add_dict_int
#undef rte_tel_data_add_dict_string

#include "../../dataplane/counters.c"

#include "../../control/ctl/ctl_out.c"
#include "../../control/daemon/cmd/cp_stats_json.c"

/* dataplane/main.c registers it; telemetry.c logs with it. */
int or_dp_logtype = RTE_LOGTYPE_USER1;

/* -------------------------------------------------------- the lists -- */

static const struct or_stat_desc sl_ct[] = { OR_CT_STATS(OR_STAT_DESC_) };
static const struct or_stat_desc sl_upd[] = {
	OR_UPDATER_STATS(OR_STAT_DESC_)
};
static const struct or_stat_desc sl_auth[] = { OR_AUTH_STATS(OR_STAT_DESC_) };
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

/* A block and where each of its exporters shows an entry FIELD. */
struct sl_block {
	const char *what;
	const struct or_stat_desc *d;
	size_t n;
	const char *section; /* of the stats reply */
	const char *key;     /* the section's key: KEY FIELD */
	telemetry_cb tel;    /* telemetry command: dict key FIELD, or NULL */
	const char *ctl;     /* optroutectl stats: its line CTL FIELD */
};

/* The dataplane's section is its STATS reply, as cp_act_dp_stats() copies
 * it: the STATS names. */
static const struct sl_block sl_blocks[] = {
	{ "table", sl_ct, SL_DIM(sl_ct), "dataplane", "table.", tel_table,
	  "dataplane.table." },
	{ "updater", sl_upd, SL_DIM(sl_upd), "dataplane", "chan.",
	  tel_channel, "dataplane.chan." },
	{ "auth", sl_auth, SL_DIM(sl_auth), "dataplane", "auth.", tel_auth,
	  "dataplane.auth." },
	{ "control", sl_cp, SL_DIM(sl_cp), "control", "", NULL, "control." },
	{ "control (also)", sl_cp_also, SL_DIM(sl_cp_also), "control", "",
	  NULL, "control." },
	{ "store", sl_store, SL_DIM(sl_store), "store", "", NULL, "store." },
	{ "link", sl_link, SL_DIM(sl_link), "channel", "", NULL, "channel." },
};

/* ------------------------------------------------ the dataplane -- */

/* A dataplane of no port and no worker around a real updater and table:
 * what its STATS reply and telemetry commands read. */
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

static int
sl_suite_init(void)
{
	struct ct_params p = { .entries = 1000, .socket_id = -1 };
	struct or_updater_conf uc = { 0 };

	snprintf(sl.dir, sizeof(sl.dir), "/tmp/or_sl_XXXXXX");
	if (mkdtemp(sl.dir) == NULL)
		return -1;
	snprintf(sl.path, sizeof(sl.path), "%s/dp.sock", sl.dir);
	if (ct_create(&p, &sl.t) != 0 ||
	    or_cnt_init(&sl.dp.cnt, 0, 0, NULL) != 0)
		return -1;
	sl.dp.cfg = &sl.cfg;
	sl.dp.table = sl.t;
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
	__atomic_store_n(&tel_live, 1, __ATOMIC_SEQ_CST);
	tel_dp = &sl.dp;
	return 0;
}

static int
sl_suite_clean(void)
{
	__atomic_store_n(&tel_live, 0, __ATOMIC_SEQ_CST);
	or_chan_close(sl.c);
	or_updater_stop(sl.u);
	ct_destroy(sl.t);
	or_cnt_fini(&sl.dp.cnt);
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
		if (k->tel == NULL)
			continue;
		sl_tel.n = 0;
		CU_ASSERT_EQUAL(k->tel("/optroute/x", NULL,
				       (struct rte_tel_data *)&sl_tel), 0);
		for (size_t i = 0; i < k->n; i++)
			if (sl_tel_find(k->d[i].field) < 0) {
				snprintf(name, sizeof(name), "%s %s", k->what,
					 k->d[i].field);
				SL_MISSING("telemetry", name);
			}
	}
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

/* Each entry as its family's sample on /metrics, with # TYPE and # HELP. */
static void
test_metrics(void)
{
	struct exp_meta m = { .version = "0" };
	json_t *reply = sl_reply();
	char *text = NULL, line[512], val[48];
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

	CU_ASSERT_PTR_NOT_NULL_FATAL(f);
	ctl_out_reply(f, "stats", reply);
	fclose(f);
	for (size_t b = 0; b < SL_DIM(sl_blocks); b++) {
		const struct sl_block *k = &sl_blocks[b];

		for (size_t i = 0; i < k->n; i++) {
			const char *p;

			snprintf(name, sizeof(name), "%s%s ", k->ctl,
				 k->d[i].field);
			p = strstr(text, name);
			if (p == NULL || (p != text && p[-1] != '\n'))
				SL_MISSING("optroutectl stats", name);
		}
	}
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
 * of the store's and the link's lists gets its value from the store's or
 * the channel thread's struct (all of whose fields are set): none is left
 * 0. */
static void
test_cp_mapping(void)
{
	struct or_store_stats ss;
	struct cp_store_stats st;
	struct cp_link_info pi;
	struct cp_link_stats l;
	uint64_t *w;

	w = (uint64_t *)&ss;
	for (size_t i = 0; i < sizeof(ss) / sizeof(*w); i++)
		w[i] = 100 + i;
	cp_stats_store_of(&ss, &st);
#define Z(f, ...)                                                            \
	if (st.f == 0)                                               \
		SL_MISSING("cp_stats_store_of", #f);
	OR_STORE_STATS(Z)
#undef Z
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
	CU_ASSERT_EQUAL(l.errors, pi.dp_errors);
	CU_ASSERT_EQUAL(l.workers, pi.dp_workers);
}

static CU_TestInfo sl_tests[] = {
	{ "lists well formed", test_lists },
	{ "dataplane: STATS reply and telemetry", test_dataplane },
	{ "/metrics: every entry", test_metrics },
	{ "optroutectl stats: every entry", test_ctl },
	{ "optroutectl dataplane: every link entry", test_ctl_dataplane },
	{ "control plane: every field mapped", test_cp_mapping },
	CU_TEST_INFO_NULL,
};

OR_TEST_SUITE("stats_lists", sl_suite_init, sl_suite_clean, sl_tests)
