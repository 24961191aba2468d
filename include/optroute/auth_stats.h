/* SPDX-License-Identifier: BSD-3-Clause
 *
 * The dataplane's sender authentication figures (dataplane/telemetry.c
 * fills them): its settings, the live epochs' numbers (never a key), the
 * bounce budgets (dataplane/auth/budget.h) and the replay filter
 * (dataplane/auth/replay.h). One list, the entry form of
 * include/optroute/stats.h. Exported as auth.FIELD in the channel's STATS
 * reply (so `optroutectl stats` as dataplane.auth.FIELD), as FIELD by the
 * telemetry command /optroute/auth, and as the metric named here. The
 * drops they cause are packet counters (drop_bad_tag, drop_replay ...),
 * the OVER_BUDGET replies the over_budget counter.
 */
#ifndef OPTROUTE_AUTH_STATS_H
#define OPTROUTE_AUTH_STATS_H

#include "optroute/stats.h"

#define OR_AUTH_STATS(X)                                                     \
	X(enabled, GAUGE, N, "optroute_auth_enabled", "",                    \
	  "1 if the dataplane verifies senders (protocol version 2)")        \
	X(time_window_s, GAUGE, N, "optroute_auth_time_window_seconds", "",  \
	  "Send times further than this from the dataplane's clock are "     \
	  "stale")                                                           \
	X(time_checks, GAUGE, N, "optroute_auth_time_checks", "",            \
	  "1 if the send-time window and the replay filter are checked")     \
	X(live_epochs, GAUGE, N, "optroute_auth_live_epochs", "",            \
	  "Auth epochs the dataplane verifies tags with")                    \
	/* 256: none */                                                      \
	X(current_epoch, GAUGE, N, "optroute_auth_current_epoch", "",        \
	  "Current auth epoch (256: none)")                                  \
	X(previous_epoch, GAUGE, N, "optroute_auth_previous_epoch", "",      \
	  "Previous auth epoch still live (256: none)")                      \
	X(installs, COUNTER, N, "optroute_auth_installs_total", "",          \
	  "Sets of epoch keys installed (AUTH_KEYS)")                         \
	X(budget_burst, GAUGE, N, "optroute_auth_budget_burst", "",          \
	  "Bounces a sender may cause at once")                              \
	X(budget_refill_per_hour, GAUGE, N,                                  \
	  "optroute_auth_budget_refill_per_hour", "",                        \
	  "Bounces a sender's budget regains an hour")                       \
	X(budget_tracked, GAUGE, N, "optroute_auth_budget_tracked_senders",  \
	  "", "Senders in debt now (budget not full)")                       \
	X(budget_over_now, GAUGE, N, "optroute_auth_budget_over_senders", "", \
	  "Senders over their bounce budget now")                            \
	X(budget_charged, COUNTER, N, "optroute_auth_budget_charged_total",  \
	  "", "Bounces charged to senders' budgets")                         \
	X(budget_evicted_unrefilled, COUNTER, N,                             \
	  "optroute_auth_budget_evicted_unrefilled_total", "",               \
	  "Senders evicted from the budget table while in debt")             \
	X(budget_slots, GAUGE, N, "optroute_auth_budget_slots", "",          \
	  "Senders the budget table can hold")                               \
	X(budget_bytes, GAUGE, N, "optroute_auth_budget_bytes", "",          \
	  "Memory of the budget table")                                      \
	X(replay_capacity, GAUGE, N, "optroute_auth_replay_capacity", "",    \
	  "Messages the replay filter is sized to hold")                     \
	X(replay_bytes, GAUGE, N, "optroute_auth_replay_bytes", "",          \
	  "Memory of the replay filter")                                     \
	/* counted by the filter's last full sweep */                        \
	X(replay_entries_approx, GAUGE, N, "optroute_auth_replay_entries",   \
	  "", "Live entries of the replay filter (at its last sweep)")       \
	X(replay_seen, COUNTER, N, "optroute_auth_replay_seen_total", "",    \
	  "Replay filter checks that found the message seen before")         \
	X(replay_full, COUNTER, N, "optroute_auth_replay_full_total", "",    \
	  "Replay filter checks that found no room to record the message")   \
	X(replay_stale, COUNTER, N, "optroute_auth_replay_stale_total", "",  \
	  "Replay filter checks of a send time it does not cover")           \
	X(replay_retries, COUNTER, N, "optroute_auth_replay_retries_total",  \
	  "", "Replay filter attempts rolled back: its window moved")

struct or_auth_stats {
	OR_AUTH_STATS(OR_STAT_FIELD_)
};

#endif
