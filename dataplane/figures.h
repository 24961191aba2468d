/* SPDX-License-Identifier: BSD-3-Clause
 *
 * optroute-dataplane's figures, generated from the lists of
 * include/optroute/ (dp_stats.h, ct_stats.h, updater_stats.h,
 * auth_stats.h): each block handed to a callback one (name, value) at a
 * time, in its list's order. The two exporters are adapters of these:
 * the telemetry commands (telemetry.c) put each figure into their dict,
 * the channel's STATS reply (or_stats_fill below) into its pairs under a
 * scope prefix. So neither can leave a figure out that the other has
 * (tests/unit/test_stats_lists.c walks every list through both).
 *
 * Any thread: counters are read as counters.h says, the table's and the
 * updater's figures with their own getters, auth with the budget's and
 * the replay filter's (auth/budget.h, auth/replay.h).
 */
#ifndef OR_DP_FIGURES_H
#define OR_DP_FIGURES_H

#include <stdint.h>

#include "chan/updater.h"
#include "dp.h"

/* Called once per figure. */
typedef void (*or_fig_cb)(void *arg, const char *name, uint64_t v);

/* The packet counters of worker w and port p (either may be OR_CNT_ALL)
 * since the last clear: OR_PKT_COUNTERS, every drop_<reason> (those of 0
 * left out if skip_zero_drops), then dropped. */
void or_fig_packets(struct or_dp *dp, int w, int p, int skip_zero_drops,
		    or_fig_cb cb, void *arg);

/* Worker w's poll counters (OR_POLL_COUNTERS) since the last clear. */
void or_fig_polls(struct or_dp *dp, int w, or_fig_cb cb, void *arg);

/* The consent table's figures (OR_CT_STATS). */
void or_fig_table(struct or_dp *dp, or_fig_cb cb, void *arg);

/* The updater's figures (OR_UPDATER_STATS); -ENODEV without an updater,
 * else 0. */
int or_fig_updater(struct or_dp *dp, or_fig_cb cb, void *arg);

/* Sender authentication (OR_AUTH_STATS). */
void or_fig_auth(struct or_dp *dp, or_fig_cb cb, void *arg);

/* The dataplane's figures of no scope (OR_DP_GAUGES: tsc_hz). */
void or_fig_gauges(struct or_dp *dp, or_fig_cb cb, void *arg);

/* or_updater_conf.stats_fill: the packet counters summed over workers
 * and ports, the gauges, auth.FIELD, then per port
 * ("port.NAME.rx", ...) and per worker ("worker.LCORE.rx", ...,
 * "worker.LCORE.busy_polls", ...) with their drops of 0 left out, to keep
 * the reply small. arg is the or_dp. The updater adds table.* and chan.*
 * itself (dataplane/chan/chan_stats.c). */
unsigned or_stats_fill(void *arg, struct or_updater_stat *out, unsigned max);

/* The updater's stats_clear callback: clears every packet counter. */
void or_stats_clear(void *arg);

#endif
