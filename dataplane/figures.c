/* SPDX-License-Identifier: BSD-3-Clause
 *
 * optroute-dataplane's figures from the lists (figures.h). Every counter
 * read goes through or_cnt_read(), so a clear is seen by every reader
 * (telemetry and channel alike).
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <rte_cycles.h>

#include "optroute/auth_stats.h"
#include "optroute/ct_stats.h"
#include "optroute/ctable.h"
#include "optroute/dp_stats.h"
#include "optroute/updater_stats.h"
#include "auth/auth_clock.h"
#include "auth/budget.h"
#include "auth/replay.h"
#include "counters.h"
#include "figures.h"

void
or_fig_packets(struct or_dp *dp, int w, int p, int skip_zero_drops,
	       or_fig_cb cb, void *arg)
{
	uint64_t v[OR_CNT_NUM], drops;

	drops = or_cnt_read(&dp->cnt, w, p, v);
	for (unsigned k = 0; k < OR_CNT_NUM; k++)
		if (k < OR_CNT_DROP_FIRST || v[k] != 0 || !skip_zero_drops)
			cb(arg, or_cnt_name(k), v[k]);
#define D(id, name, ...) cb(arg, name, drops);
	OR_PKT_DROP_SUM(D)
#undef D
}

void
or_fig_polls(struct or_dp *dp, int w, or_fig_cb cb, void *arg)
{
	uint64_t polls[OR_POLL_NUM];

	or_cnt_read_polls(&dp->cnt, w, polls);
	for (unsigned k = 0; k < OR_POLL_NUM; k++)
		cb(arg, or_poll_cnt_name(k), polls[k]);
}

void
or_fig_table(struct or_dp *dp, or_fig_cb cb, void *arg)
{
	struct ct_stats s;

	ct_get_stats(dp->table, &s);
#define T(f, ...) cb(arg, #f, s.f);
	OR_CT_STATS(T)
#undef T
}

int
or_fig_updater(struct or_dp *dp, or_fig_cb cb, void *arg)
{
	struct or_updater_stats s;

	if (dp->updater == NULL)
		return -ENODEV;
	or_updater_get_stats(dp->updater, &s);
#define T(f, ...) cb(arg, #f, s.f);
	OR_UPDATER_STATS(T)
#undef T
	return 0;
}

/* The live epochs' figures (FROM KEYS in auth_stats.h); never a key. */
struct fig_keys {
	uint64_t live_epochs;
	uint64_t current_epoch;  /* 256: none */
	uint64_t previous_epoch; /* 256: none */
	uint64_t installs;
};

static void
fig_keys(struct or_dp *dp, struct fig_keys *k)
{
	uint8_t e[OR_KEYRING_MAX];
	unsigned n = or_keyring_epochs(&dp->auth, e);

	k->live_epochs = n;
	k->current_epoch = n > 0 ? e[0] : 256;
	k->previous_epoch = n > 1 ? e[1] : 256;
	k->installs = __atomic_load_n(&dp->auth.installs, __ATOMIC_RELAXED);
}

void
or_fig_auth(struct or_dp *dp, or_fig_cb cb, void *arg)
{
	const struct or_cfg *cfg = dp->cfg;
	struct or_budget_stats budget;
	struct or_replay_stats replay;
	struct fig_keys keys;

	fig_keys(dp, &keys);
	/* No budget table or replay filter (auth or its time checks off):
	 * their figures are 0. */
	memset(&budget, 0, sizeof(budget));
	if (dp->budget != NULL)
		or_budget_stats(dp->budget, or_auth_mono_ms(), &budget);
	memset(&replay, 0, sizeof(replay));
	if (dp->replay != NULL)
		or_replay_stats(dp->replay, &replay);
#define FROM_CFG_(src) (uint64_t)cfg->src
#define FROM_KEYS_(src) keys.src
#define FROM_BUDGET_(src) budget.src
#define FROM_REPLAY_(src) replay.src
#define A(X, f, from, src, ...) cb(arg, #f, FROM_##from##_(src));
	OR_AUTH_STATS_FROM(A, _)
#undef A
#undef FROM_CFG_
#undef FROM_KEYS_
#undef FROM_BUDGET_
#undef FROM_REPLAY_
}

/* OR_DP_GAUGES: each entry the value of a function fig_FIELD. */
static uint64_t
fig_tsc_hz(struct or_dp *dp)
{
	(void)dp;
	return rte_get_tsc_hz();
}

void
or_fig_gauges(struct or_dp *dp, or_fig_cb cb, void *arg)
{
#define G(g, ...) cb(arg, #g, fig_##g(dp));
	OR_DP_GAUGES(G)
#undef G
}

/* ------------------------------------------------------ STATS reply -- */

/* Pairs of the STATS reply being filled: PREFIX NAME each. */
struct fig_fill {
	struct or_updater_stat *out;
	unsigned max, n;
	char prefix[OR_CHAN_STAT_NAME_LEN];
};

static void
fig_put(void *arg, const char *name, uint64_t v)
{
	struct fig_fill *f = arg;
	int len;

	if (f->n == f->max)
		return;
	/* Every name fits (OR_CHAN_STAT_NAME_LEN); one that did not would
	 * be left out rather than sent cut short. */
	len = snprintf(f->out[f->n].name, sizeof(f->out[f->n].name), "%s%s",
		       f->prefix, name);
	if (len < 0 || (size_t)len >= sizeof(f->out[f->n].name))
		return;
	f->out[f->n++].value = v;
}

unsigned
or_stats_fill(void *arg, struct or_updater_stat *out, unsigned max)
{
	struct or_dp *dp = arg;
	struct fig_fill f = { .out = out, .max = max };

	or_fig_packets(dp, OR_CNT_ALL, OR_CNT_ALL, 0, fig_put, &f);
	or_fig_gauges(dp, fig_put, &f);
	snprintf(f.prefix, sizeof(f.prefix), "auth.");
	or_fig_auth(dp, fig_put, &f);
	for (unsigned i = 0; i < dp->n_ports; i++) {
		snprintf(f.prefix, sizeof(f.prefix), "port.%s.",
			 dp->ports[i].name);
		or_fig_packets(dp, OR_CNT_ALL, (int)i, 1, fig_put, &f);
	}
	for (unsigned w = 0; w < dp->n_workers; w++) {
		snprintf(f.prefix, sizeof(f.prefix), "worker.%u.",
			 dp->cfg->workers[w]);
		or_fig_packets(dp, (int)w, OR_CNT_ALL, 1, fig_put, &f);
		or_fig_polls(dp, (int)w, fig_put, &f);
	}
	return f.n;
}

void
or_stats_clear(void *arg)
{
	struct or_dp *dp = arg;

	or_cnt_clear(&dp->cnt);
}
