/* SPDX-License-Identifier: BSD-3-Clause
 *
 * Each figure defined once. Every block of figures the appliance exports
 * is one X-macro list, kept with the struct it generates:
 *
 *   list               struct                  exported as
 *   OR_CT_STATS        struct ct_stats         STATS table.F, /optroute/table,
 *   (ct_stats.h)                               `optroutectl table`
 *   OR_UPDATER_STATS   struct or_updater_stats STATS chan.F, /optroute/channel
 *   (updater_stats.h)
 *   OR_AUTH_STATS      struct or_auth_stats    STATS auth.F, /optroute/auth
 *   (auth_stats.h)
 *   OR_CP_COUNTERS     struct cp_counters      stats.control.F
 *   OR_CP_GAUGES       struct cp_gauges        stats.control.F
 *   OR_STORE_STATS     struct cp_store_stats   stats.store.F
 *   (cp_stats.h)
 *   OR_LINK_STATS      struct cp_link_stats    stats.channel.F, `optroutectl
 *   (link_stats.h)                             dataplane`
 *   OR_DP_GAUGES       (none)                  STATS F
 *   (dp_stats.h)
 *
 * and every entry also as its Prometheus family on optroute-exporter's
 * /metrics; `optroutectl stats` prints the stats reply, so it shows every
 * entry under the name of its section (control.F, dataplane.table.F ...).
 * The dataplane's packet counters (OR_PKT_COUNTERS ..., dp_stats.h) have
 * lists of their own form: each counter is exported per port and worker
 * too. The generators: dataplane/chan/chan_stats.c (STATS), dataplane/
 * figures.c (the dataplane's STATS and its telemetry), control/daemon/
 * cmd/cp_stats_json.c (the stats reply's sections) and control/exporter/
 * exp_text.c. tests/unit/test_stats_lists.c walks every list through
 * each of them.
 *
 * An entry is X(field, type, unit, metric, label, help):
 *   field   the struct member (uint64_t) and the figure's name everywhere
 *           but Prometheus
 *   type    COUNTER (only grows, until a restart or a clear) or GAUGE
 *   unit    how the value reads: N (a number), BOOL (0 or 1, a JSON
 *           boolean in the sections the control plane builds itself;
 *           the channel's STATS carries numbers only), US or MS
 *           (microseconds or milliseconds: Prometheus shows seconds)
 *   metric  the Prometheus family (a counter's ends in _total)
 *   label   "" or "key=value": the entry's sample within a family that
 *           several entries share (one per action, per reason ...)
 *   help    the family's # HELP text, the same for each of its entries
 * Some blocks have an _ALSO list of further families for fields of their
 * main list (the same entry form).
 */
#ifndef OPTROUTE_STATS_H
#define OPTROUTE_STATS_H

#include <stdint.h>

enum or_stat_type {
	OR_STAT_COUNTER,
	OR_STAT_GAUGE,
};

enum or_stat_unit {
	OR_STAT_N,
	OR_STAT_BOOL,
	OR_STAT_US,
	OR_STAT_MS,
};

/* One entry as data, for the generators that walk a list at run time. */
struct or_stat_desc {
	const char *field;
	enum or_stat_type type;
	enum or_stat_unit unit;
	const char *metric;
	const char *label;
	const char *help;
};

/* X: a struct member per entry. */
#define OR_STAT_FIELD_(f, type, unit, metric, label, help) uint64_t f;

/* X: how many entries a list has, as (0 LIST(OR_STAT_ONE_)). */
#define OR_STAT_ONE_(...) +1

/* X: a struct or_stat_desc initializer per entry. */
#define OR_STAT_DESC_(f, type, unit, metric, label, help)                    \
	{ #f, OR_STAT_##type, OR_STAT_##unit, metric, label, help },

#endif
