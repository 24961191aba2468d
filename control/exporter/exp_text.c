/* SPDX-License-Identifier: BSD-3-Clause
 *
 * optroute-exporter's rendering (exp.h): a "stats" reply as Prometheus
 * text (exposition format 0.0.4). Pure: no threads, no I/O besides the
 * memory stream; unit tested by tests/unit/test_metrics.c.
 *
 * Families are written one at a time, each with its # HELP and # TYPE
 * lines followed by all its samples (the format wants them together), so
 * the dataplane's (name, value) pairs, which come in any order, are
 * classified first and then scanned once per family.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "optroute/auth_stats.h"
#include "optroute/cp_stats.h"
#include "optroute/ct_stats.h"
#include "optroute/dp_stats.h"
#include "optroute/link_stats.h"
#include "optroute/updater_stats.h"

#include "exp.h"

/* ----------------------------------------------------------- writer -- */

struct exp_mw {
	FILE *f;
	char last[128]; /* family whose header was written last */
};

static void
exp_mw_head(struct exp_mw *w, const char *name, const char *type,
	    const char *help)
{
	if (strcmp(w->last, name) == 0)
		return;
	snprintf(w->last, sizeof(w->last), "%s", name);
	/* Help texts are ours: no backslash, no newline to escape. */
	fprintf(w->f, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

/* Label value: backslash, double quote and newline escaped. */
static void
exp_mw_label(FILE *f, const char *v)
{
	for (; *v != '\0'; v++) {
		if (*v == '\\')
			fputs("\\\\", f);
		else if (*v == '"')
			fputs("\\\"", f);
		else if (*v == '\n')
			fputs("\\n", f);
		else
			fputc(*v, f);
	}
}

struct exp_lbl {
	const char *k, *v;
};

/* name{k1="v1",k2="v2"} value: labels with a NULL key are left out. */
static void
exp_mw_sample(struct exp_mw *w, const char *name, const struct exp_lbl *l,
	      unsigned nl, const char *value)
{
	int any = 0;

	fputs(name, w->f);
	for (unsigned i = 0; i < nl; i++) {
		if (l[i].k == NULL)
			continue;
		fprintf(w->f, "%s%s=\"", any ? "," : "{", l[i].k);
		exp_mw_label(w->f, l[i].v);
		fputc('"', w->f);
		any = 1;
	}
	fprintf(w->f, "%s %s\n", any ? "}" : "", value);
}

/* Exact decimal text: no float rounding for counters or durations. */
static void
exp_fmt(char *buf, size_t size, uint64_t v, enum or_stat_unit k)
{
	if (k == OR_STAT_US)
		snprintf(buf, size, "%" PRIu64 ".%06" PRIu64, v / 1000000,
			 v % 1000000);
	else if (k == OR_STAT_MS)
		snprintf(buf, size, "%" PRIu64 ".%03" PRIu64, v / 1000,
			 v % 1000);
	else
		snprintf(buf, size, "%" PRIu64, v);
}

/* A JSON figure as u64: non-negative integer, boolean, or non-negative
 * real (truncated). -1 for anything else (missing, null, string). */
static int
exp_jv(const json_t *v, uint64_t *out)
{
	if (json_is_integer(v) && json_integer_value(v) >= 0) {
		*out = (uint64_t)json_integer_value(v);
		return 0;
	}
	if (json_is_boolean(v)) {
		*out = json_is_true(v);
		return 0;
	}
	if (json_is_real(v) && json_real_value(v) >= 0 &&
	    json_real_value(v) < 1.8e19) {
		*out = (uint64_t)json_real_value(v);
		return 0;
	}
	return -1;
}

/* ---------------------------------------------------------- families -- */

/*
 * The families of the stats blocks come from their lists
 * (include/optroute/stats.h says which), the dataplane's packet counters
 * from theirs (dp_stats.h); what is left here are the exporter's own
 * figures.
 */

/* optroute-control's sections: stats.control, .store, .channel. */
static const struct or_stat_desc exp_desc_control[] = {
	OR_CP_COUNTERS(OR_STAT_DESC_)
	OR_CP_COUNTERS_ALSO(OR_STAT_DESC_)
	OR_CP_GAUGES(OR_STAT_DESC_)
};

static const struct or_stat_desc exp_desc_store[] = {
	OR_STORE_STATS(OR_STAT_DESC_)
};

static const struct or_stat_desc exp_desc_channel[] = {
	OR_LINK_STATS(OR_STAT_DESC_)
};

/* Dataplane figures of no scope that are not counters (STATS tsc_hz). */
static const struct or_stat_desc exp_desc_dataplane[] = {
	OR_DP_GAUGES(OR_STAT_DESC_)
};

/* The dataplane's blocks: STATS table.*, chan.*, auth.* */
static const struct or_stat_desc exp_desc_table[] = {
	OR_CT_STATS(OR_STAT_DESC_)
};

static const struct or_stat_desc exp_desc_updater[] = {
	OR_UPDATER_STATS(OR_STAT_DESC_)
};

static const struct or_stat_desc exp_desc_auth[] = {
	OR_AUTH_STATS(OR_STAT_DESC_)
};

#define EXP_DIM(a) (sizeof(a) / sizeof((a)[0]))

/* Where a family's figures are read from: 0 with *v, or -1 if absent. */
typedef int (*exp_get_fn)(void *arg, const char *field, uint64_t *v);

/*
 * The families of d[0..n-1], each once, in the order of their first
 * entry: its # HELP and # TYPE, then one sample per entry present (a
 * family's entries need not be next to each other in a list).
 */
static void
exp_render_descs(struct exp_mw *w, const struct or_stat_desc *d, size_t n,
		exp_get_fn get, void *arg)
{
	char val[48], lbl[64];
	uint64_t v;

	for (size_t i = 0; i < n; i++) {
		size_t j = 0;

		while (j < i && strcmp(d[j].metric, d[i].metric) != 0)
			j++;
		if (j < i)
			continue; /* written with the entry j */
		for (size_t k = i; k < n; k++) {
			struct exp_lbl l = { NULL, NULL };
			char *eq;

			if (strcmp(d[k].metric, d[i].metric) != 0 ||
			    get(arg, d[k].field, &v) < 0)
				continue;
			snprintf(lbl, sizeof(lbl), "%s", d[k].label);
			eq = strchr(lbl, '=');
			if (eq != NULL) {
				*eq = '\0';
				l.k = lbl;
				l.v = eq + 1;
			}
			exp_mw_head(w, d[i].metric,
				    d[i].type == OR_STAT_COUNTER ? "counter"
								: "gauge",
				   d[i].help);
			exp_fmt(val, sizeof(val), v, d[k].unit);
			exp_mw_sample(w, d[i].metric, &l, 1, val);
		}
	}
}

static int
exp_get_json(void *arg, const char *field, uint64_t *v)
{
	return exp_jv(json_object_get(arg, field), v);
}

static void
exp_render_section(struct exp_mw *w, const json_t *obj,
		   const struct or_stat_desc *d, size_t n)
{
	if (json_is_object(obj))
		exp_render_descs(w, d, n, exp_get_json, (void *)obj);
}

/* Requests per command, if the daemon reports them
 * (control.requests_by_command: {"optin": N, ...}). */
static void
exp_render_by_command(struct exp_mw *w, const json_t *control)
{
	const char *name = "optroute_control_command_requests_total";
	const json_t *by = json_object_get(control, "requests_by_command");
	const char *k;
	json_t *x;
	char val[32];
	uint64_t v;

	if (!json_is_object(by))
		return;
	json_object_foreach((json_t *)by, k, x) {
		struct exp_lbl l = { "command", k };

		if (exp_jv(x, &v) < 0)
			continue;
		exp_mw_head(w, name, "counter",
			    "Management requests received, by command");
		exp_fmt(val, sizeof(val), v, OR_STAT_N);
		exp_mw_sample(w, name, &l, 1, val);
	}
}

/* -------------------------------------------------------- dataplane -- */

enum exp_scope { S_ALL, S_PORT, S_WORKER, S_TABLE, S_CHAN, S_AUTH, S_OTHER };

/* One (name, value) pair of the dataplane's STATS reply, classified:
 * "rx" (S_ALL), "port.NAME.rx", "worker.ID.rx", "table.entries",
 * "chan.batches", "auth.installs"; anything else S_OTHER. */
struct exp_dpe {
	const char *key;
	enum exp_scope scope;
	char id[64];      /* port name or worker id */
	const char *ctr;  /* counter name within the scope */
	uint64_t v;
	int used;
};

static void
exp_dpe_classify(struct exp_dpe *e)
{
	static const struct {
		const char *prefix;
		enum exp_scope scope;
	} pre[] = {
		{ "port.", S_PORT }, { "worker.", S_WORKER },
		{ "table.", S_TABLE }, { "chan.", S_CHAN }, { "auth.", S_AUTH },
	};
	const char *k = e->key, *dot;

	e->scope = S_OTHER;
	if (strchr(k, '.') == NULL) {
		e->scope = S_ALL;
		e->ctr = k;
		return;
	}
	for (size_t i = 0; i < EXP_DIM(pre); i++) {
		size_t pl = strlen(pre[i].prefix);
		const char *rest = k + pl;

		if (strncmp(k, pre[i].prefix, pl) != 0)
			continue;
		if (pre[i].scope != S_PORT && pre[i].scope != S_WORKER) {
			if (*rest != '\0' && strchr(rest, '.') == NULL) {
				e->scope = pre[i].scope;
				e->ctr = rest;
			}
			return;
		}
		/* The id may itself hold dots; the counter is last. */
		dot = strrchr(rest, '.');
		if (dot == NULL || dot == rest || dot[1] == '\0' ||
		    (size_t)(dot - rest) >= sizeof(e->id))
			return;
		memcpy(e->id, rest, (size_t)(dot - rest));
		e->id[dot - rest] = '\0';
		e->scope = pre[i].scope;
		e->ctr = dot + 1;
		return;
	}
}

/* The packet counters, each in every scope: include/optroute/dp_stats.h.
 * The drops' entry (OR_PKT_DROP_PREFIX) stands for every drop_<reason>. */
#define EXP_CTR_(id, name, suffix, help) { name, suffix, help },
static const struct {
	const char *ctr, *suffix, *help;
} exp_dp_ctrs[] = {
	OR_PKT_COUNTERS(EXP_CTR_)
	OR_PKT_DROP_SUM(EXP_CTR_)
	OR_PKT_DROP_REASONS(EXP_CTR_)
	OR_POLL_COUNTERS(EXP_CTR_)
};
#undef EXP_CTR_

static const struct {
	enum exp_scope scope;
	const char *prefix, *label, *what;
} exp_dp_scopes[] = {
	{ S_ALL, "optroute_dataplane_", NULL, "(whole dataplane)" },
	{ S_PORT, "optroute_port_", "port",
	  "(per port: the receiving one; tx and tx_full: the sending one)" },
	{ S_WORKER, "optroute_worker_", "worker", "(per worker lcore)" },
};

/* 1 if e is counter ctr (OR_PKT_DROP_PREFIX: any drop_<reason>, then
 * *reason) of scope. */
static int
exp_dpe_match(const struct exp_dpe *e, enum exp_scope scope, const char *ctr,
	      const char **reason)
{
	if (e->used || e->scope != scope)
		return 0;
	size_t pl = strlen(OR_PKT_DROP_PREFIX);

	if (strcmp(ctr, OR_PKT_DROP_PREFIX) != 0)
		return strcmp(e->ctr, ctr) == 0;
	if (strncmp(e->ctr, ctr, pl) != 0 || e->ctr[pl] == '\0')
		return 0;
	*reason = e->ctr + pl;
	return 1;
}

static void
exp_render_dp_counters(struct exp_mw *w, struct exp_dpe *e, size_t n)
{
	char name[96], help[192], val[32];

	for (size_t s = 0; s < EXP_DIM(exp_dp_scopes); s++) {
		enum exp_scope scope = exp_dp_scopes[s].scope;

		for (size_t c = 0; c < EXP_DIM(exp_dp_ctrs); c++) {
			snprintf(name, sizeof(name), "%s%s",
				 exp_dp_scopes[s].prefix,
				 exp_dp_ctrs[c].suffix);
			snprintf(help, sizeof(help), "%s %s",
				 exp_dp_ctrs[c].help, exp_dp_scopes[s].what);
			for (size_t i = 0; i < n; i++) {
				struct exp_lbl l[2] = {
					{ exp_dp_scopes[s].label, e[i].id },
					{ "reason", NULL },
				};

				if (!exp_dpe_match(&e[i], scope,
						   exp_dp_ctrs[c].ctr, &l[1].v))
					continue;
				if (l[1].v == NULL)
					l[1].k = NULL;
				e[i].used = 1;
				exp_mw_head(w, name, "counter", help);
				exp_fmt(val, sizeof(val), e[i].v, OR_STAT_N);
				exp_mw_sample(w, name, l, 2, val);
			}
		}
	}
}

/* The figures of one scope, for exp_render_descs(). */
struct exp_dp_get {
	struct exp_dpe *e;
	size_t n;
	enum exp_scope scope;
};

static int
exp_get_dp(void *arg, const char *field, uint64_t *v)
{
	struct exp_dp_get *g = arg;

	for (size_t i = 0; i < g->n; i++) {
		if (g->e[i].scope != g->scope ||
		    strcmp(g->e[i].ctr, field) != 0)
			continue;
		g->e[i].used = 1;
		*v = g->e[i].v;
		return 0;
	}
	return -1;
}

static void
exp_render_dp_fams(struct exp_mw *w, struct exp_dpe *e, size_t n,
		   enum exp_scope scope, const struct or_stat_desc *d,
		   size_t nd)
{
	struct exp_dp_get g = { e, n, scope };

	exp_render_descs(w, d, nd, exp_get_dp, &g);
}

/* entries / capacity, as the table command reports it. */
static void
exp_render_load(struct exp_mw *w, const json_t *dp)
{
	uint64_t ent, cap;
	char val[32];

	if (exp_jv(json_object_get(dp, "table.entries"), &ent) < 0 ||
	    exp_jv(json_object_get(dp, "table.capacity"), &cap) < 0 ||
	    cap == 0)
		return;
	exp_mw_head(w, "optroute_table_load", "gauge",
		    "Consent table load: entries / capacity");
	snprintf(val, sizeof(val), "%.6f", (double)ent / (double)cap);
	exp_mw_sample(w, "optroute_table_load", NULL, 0, val);
}

static int
exp_render_dataplane(struct exp_mw *w, const json_t *dp)
{
	const char *other = "optroute_dataplane_stat";
	struct exp_dpe *e;
	const char *k;
	json_t *x;
	char val[32];
	size_t n = 0;

	exp_mw_head(w, "optroute_dataplane_up", "gauge",
		    "1 if the dataplane is connected and answered with its "
		   "counters; its series are left out when 0");
	exp_mw_sample(w, "optroute_dataplane_up", NULL, 0,
		      json_is_object(dp) ? "1" : "0");
	if (!json_is_object(dp) || json_object_size(dp) == 0)
		return 0;
	e = calloc(json_object_size(dp), sizeof(*e));
	if (e == NULL)
		return -ENOMEM;
	json_object_foreach((json_t *)dp, k, x) {
		if (exp_jv(x, &e[n].v) < 0)
			continue;
		e[n].key = k;
		exp_dpe_classify(&e[n]);
		n++;
	}
	exp_render_dp_counters(w, e, n);
	exp_render_dp_fams(w, e, n, S_ALL, exp_desc_dataplane,
			   EXP_DIM(exp_desc_dataplane));
	exp_render_dp_fams(w, e, n, S_TABLE, exp_desc_table,
			   EXP_DIM(exp_desc_table));
	exp_render_load(w, dp);
	exp_render_dp_fams(w, e, n, S_CHAN, exp_desc_updater,
			   EXP_DIM(exp_desc_updater));
	exp_render_dp_fams(w, e, n, S_AUTH, exp_desc_auth,
			   EXP_DIM(exp_desc_auth));
	/* Kept rather than lost: a counter added to the dataplane shows up
	 * before this file learns its name. */
	for (size_t i = 0; i < n; i++) {
		struct exp_lbl l = { "name", e[i].key };

		if (e[i].used)
			continue;
		exp_mw_head(w, other, "untyped",
			    "Dataplane counter without a metric of its own, "
			   "by its STATS name");
		exp_fmt(val, sizeof(val), e[i].v, OR_STAT_N);
		exp_mw_sample(w, other, &l, 1, val);
	}
	free(e);
	return 0;
}

/* ------------------------------------------------------------ render -- */

/* One sample of a family without labels. */
static void
exp_mw_one(struct exp_mw *w, const char *name, const char *type,
	   const char *help, uint64_t v, enum or_stat_unit unit)
{
	char val[48];

	exp_mw_head(w, name, type, help);
	exp_fmt(val, sizeof(val), v, unit);
	exp_mw_sample(w, name, NULL, 0, val);
}

/* The store's backend, and with a fleet (stats "fleet", docs/fleet.md
 * section 8) its head and each appliance's position, labelled by name. */
static void
exp_render_fleet(struct exp_mw *w, const json_t *fl)
{
	static const struct {
		const char *name, *type, *help, *field;
		enum or_stat_unit unit;
	} fam[] = {
		{ "optroute_fleet_appliance_applied_seq", "gauge",
		  "Last fleet seq in the appliance's local copy", "applied_seq",
		  OR_STAT_N },
		{ "optroute_fleet_appliance_enforced_seq", "gauge",
		  "Last fleet seq the appliance's dataplane enforces",
		  "enforced_seq", OR_STAT_N },
		{ "optroute_fleet_appliance_lag", "gauge",
		  "Fleet head minus the appliance's enforced seq", "lag",
		  OR_STAT_N },
		{ "optroute_fleet_appliance_report_age_seconds", "gauge",
		  "Time since the appliance last reported its position",
		  "report_age_ms", OR_STAT_MS },
	};
	const json_t *list = json_object_get(fl, "appliances"), *m;
	struct exp_lbl bl = { "backend", fl != NULL ? "postgresql" : "lmdb" };
	uint64_t v;
	size_t i;

	exp_mw_head(w, "optroute_store_backend_info", "gauge",
		    "The system of record: lmdb (this appliance) or "
		    "postgresql (a fleet)");
	exp_mw_sample(w, "optroute_store_backend_info", &bl, 1, "1");
	if (!json_is_object(fl))
		return;
	exp_mw_one(w, "optroute_fleet_connected", "gauge",
		   "1 if this appliance's follower reaches the system of record",
		   json_is_true(json_object_get(fl, "connected")), OR_STAT_N);
	if (exp_jv(json_object_get(fl, "head_seq"), &v) == 0)
		exp_mw_one(w, "optroute_fleet_head_seq", "gauge",
			   "The fleet's last committed seq, as last read", v,
			   OR_STAT_N);
	if (exp_jv(json_object_get(fl, "resyncs"), &v) == 0)
		exp_mw_one(w, "optroute_fleet_resyncs_total", "counter",
			   "Full resyncs of this appliance's local copy (its "
			   "position was gone or too far behind)", v,
			   OR_STAT_N);
	if (exp_jv(json_object_get(fl, "timeline"), &v) == 0)
		exp_mw_one(w, "optroute_fleet_timeline", "gauge",
			   "The highest PostgreSQL timeline this appliance has "
			   "used (the timeline guard)", v, OR_STAT_N);
	if (exp_jv(json_object_get(fl, "stale_primary_refusals"), &v) == 0)
		exp_mw_one(w, "optroute_fleet_stale_primary_refusals_total",
			   "counter",
			   "Connections refused by the timeline guard: an old "
			   "primary on a lower timeline", v, OR_STAT_N);
	if (exp_jv(json_object_get(fl, "local_unfolded"), &v) == 0)
		exp_mw_one(w, "optroute_fleet_local_unfolded", "gauge",
			   "Entries in the local copy's log not folded into its "
			   "records yet", v, OR_STAT_N);
	if (exp_jv(json_object_get(fl, "folds"), &v) == 0)
		exp_mw_one(w, "optroute_fleet_folds_total", "counter",
			   "Folds of the local copy's log into its records", v,
			   OR_STAT_N);
	if (exp_jv(json_object_get(fl, "fold_failures"), &v) == 0)
		exp_mw_one(w, "optroute_fleet_fold_failures_total", "counter",
			   "Folds that failed (retried; the log grows meanwhile)",
			   v, OR_STAT_N);
	exp_mw_head(w, "optroute_fleet_appliance_live", "gauge",
		    "1 if the appliance reported within fleet_silence_ms");
	json_array_foreach(list, i, m) {
		struct exp_lbl l = { "appliance",
				     json_string_value(json_object_get(m, "name")) };

		if (l.v != NULL)
			exp_mw_sample(w, "optroute_fleet_appliance_live", &l, 1,
				      strcmp(json_string_value(json_object_get(
						     m, "state")) ?: "",
					     "live") == 0
					      ? "1"
					      : "0");
	}
	for (size_t k = 0; k < EXP_DIM(fam); k++) {
		exp_mw_head(w, fam[k].name, fam[k].type, fam[k].help);
		json_array_foreach(list, i, m) {
			struct exp_lbl l = {
				"appliance",
				json_string_value(json_object_get(m, "name"))
			};
			char val[48];

			if (l.v == NULL ||
			    exp_jv(json_object_get(m, fam[k].field), &v) < 0)
				continue;
			exp_fmt(val, sizeof(val), v, fam[k].unit);
			exp_mw_sample(w, fam[k].name, &l, 1, val);
		}
	}
}

static void
exp_render_meta(struct exp_mw *w, const struct exp_meta *m, int have)
{
	char mp[16], cp[16];
	struct exp_lbl l[3] = {
		{ "version", m->version },
		{ "mgmt_protocol", mp },
		{ "channel_protocol", cp },
	};

	snprintf(mp, sizeof(mp), "%u", m->mgmt_protocol);
	snprintf(cp, sizeof(cp), "%u", m->chan_protocol);
	exp_mw_head(w, "optroute_build_info", "gauge",
		    "optroute-exporter version and protocol versions");
	exp_mw_sample(w, "optroute_build_info", l, 3, "1");
	exp_mw_one(w, "optroute_control_up", "gauge",
		   "1 if optroute-control answered the last stats request; "
		   "its series (and the dataplane's) are left out when 0",
		   have, OR_STAT_N);
	exp_mw_one(w, "optroute_metrics_scrapes_total", "counter",
		   "Requests for /metrics, this one included", m->scrapes,
		   OR_STAT_N);
	exp_mw_one(w, "optroute_metrics_fetches_total", "counter",
		   "Stats requests the exporter had answered", m->fetches,
		   OR_STAT_N);
	exp_mw_one(w, "optroute_metrics_fetch_failures_total", "counter",
		   "Stats requests that failed or were not answered in time",
		   m->fetch_failures, OR_STAT_N);
	if (have)
		exp_mw_one(w, "optroute_metrics_age_seconds", "gauge",
			   "Age of the figures below (the last stats reply)",
			   m->age_ms, OR_STAT_MS);
}

int
exp_render(const json_t *stats, const struct exp_meta *m, char **out,
	   size_t *len)
{
	struct exp_mw w = { .last = "" };
	char *buf = NULL;
	size_t size = 0;
	int rc = 0;

	w.f = open_memstream(&buf, &size);
	if (w.f == NULL)
		return -ENOMEM;
	exp_render_meta(&w, m, stats != NULL);
	if (stats != NULL) {
		const json_t *control = json_object_get(stats, "control");

		exp_render_section(&w, control, exp_desc_control,
				   EXP_DIM(exp_desc_control));
		exp_render_by_command(&w, control);
		exp_render_section(&w, json_object_get(stats, "store"),
				   exp_desc_store, EXP_DIM(exp_desc_store));
		exp_render_section(&w, json_object_get(stats, "channel"),
				   exp_desc_channel, EXP_DIM(exp_desc_channel));
		exp_render_fleet(&w, json_object_get(stats, "fleet"));
		rc = exp_render_dataplane(&w, json_object_get(stats,
							      "dataplane"));
	} else {
		/* Nothing known of the dataplane yet: not up. */
		exp_render_dataplane(&w, NULL);
	}
	if (ferror(w.f))
		rc = -ENOMEM;
	if (fclose(w.f) != 0)
		rc = -ENOMEM;
	if (rc < 0) {
		free(buf);
		return rc;
	}
	*out = buf;
	*len = size;
	return 0;
}
