/* SPDX-License-Identifier: BSD-3-Clause
 *
 * The dataplane's sender authentication figures (dataplane/figures.c
 * reads them): its settings, the live epochs' numbers (never a key), the
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

/*
 * The list with where each figure comes from (dataplane/figures.c reads
 * them so): an entry is S(X, field, FROM, SRC, type, unit, metric, label,
 * help), FROM one of
 *   CFG     member SRC of the dataplane's struct or_cfg (dataplane/
 *           config.h)
 *   KEYS    SRC of the live epochs' figures (dataplane/figures.c)
 *   BUDGET  member SRC of struct or_budget_stats (dataplane/auth/budget.h)
 *   REPLAY  member SRC of struct or_replay_stats (dataplane/auth/replay.h)
 * and S a macro that gets X passed on. OR_AUTH_STATS(X) is the list in the
 * entry form of include/optroute/stats.h.
 */
#define OR_AUTH_STATS_FROM(S, X)                                             \
	S(X, enabled, CFG, auth, GAUGE, N, "optroute_auth_enabled", "",      \
	  "1 if the dataplane verifies senders (protocol version 2)")        \
	S(X, time_window_s, CFG, time_window_s, GAUGE, N,                    \
	  "optroute_auth_time_window_seconds", "",                           \
	  "Send times further than this from the dataplane's clock are "     \
	  "stale")                                                           \
	S(X, time_checks, CFG, auth_time_checks, GAUGE, N,                   \
	  "optroute_auth_time_checks", "",                                   \
	  "1 if the send-time window and the replay filter are checked")     \
	S(X, live_epochs, KEYS, live_epochs, GAUGE, N,                       \
	  "optroute_auth_live_epochs", "",                                   \
	  "Auth epochs the dataplane verifies tags with")                    \
	/* 256: none */                                                      \
	S(X, current_epoch, KEYS, current_epoch, GAUGE, N,                   \
	  "optroute_auth_current_epoch", "",                                 \
	  "Current auth epoch (256: none)")                                  \
	S(X, previous_epoch, KEYS, previous_epoch, GAUGE, N,                 \
	  "optroute_auth_previous_epoch", "",                                \
	  "Previous auth epoch still live (256: none)")                      \
	S(X, installs, KEYS, installs, COUNTER, N,                           \
	  "optroute_auth_installs_total", "",                                \
	  "Sets of epoch keys installed (AUTH_KEYS)")                        \
	S(X, budget_burst, CFG, budget_burst, GAUGE, N,                      \
	  "optroute_auth_budget_burst", "",                                  \
	  "Bounces a sender may cause at once")                              \
	S(X, budget_refill_per_hour, CFG, budget_refill_per_hour, GAUGE, N,  \
	  "optroute_auth_budget_refill_per_hour", "",                        \
	  "Bounces a sender's budget regains an hour")                       \
	S(X, budget_tracked, BUDGET, tracked, GAUGE, N,                      \
	  "optroute_auth_budget_tracked_senders", "",                        \
	  "Senders in debt now (budget not full)")                           \
	S(X, budget_over_now, BUDGET, over_now, GAUGE, N,                    \
	  "optroute_auth_budget_over_senders", "",                           \
	  "Senders over their bounce budget now")                            \
	S(X, budget_charged, BUDGET, charged, COUNTER, N,                    \
	  "optroute_auth_budget_charged_total", "",                          \
	  "Bounces charged to senders' budgets")                             \
	S(X, budget_evicted_unrefilled, BUDGET, evicted_unrefilled, COUNTER, \
	  N, "optroute_auth_budget_evicted_unrefilled_total", "",            \
	  "Senders evicted from the budget table while in debt")             \
	S(X, budget_slots, BUDGET, slots, GAUGE, N,                          \
	  "optroute_auth_budget_slots", "",                                  \
	  "Senders the budget table can hold")                               \
	S(X, budget_bytes, BUDGET, bytes, GAUGE, N,                          \
	  "optroute_auth_budget_bytes", "", "Memory of the budget table")    \
	S(X, replay_capacity, REPLAY, capacity, GAUGE, N,                    \
	  "optroute_auth_replay_capacity", "",                               \
	  "Messages the replay filter is sized to hold")                     \
	S(X, replay_bytes, REPLAY, bytes, GAUGE, N,                          \
	  "optroute_auth_replay_bytes", "", "Memory of the replay filter")   \
	/* counted by the filter's last full sweep */                        \
	S(X, replay_entries_approx, REPLAY, entries_approx, GAUGE, N,        \
	  "optroute_auth_replay_entries", "",                                \
	  "Live entries of the replay filter (at its last sweep)")           \
	S(X, replay_seen, REPLAY, seen, COUNTER, N,                          \
	  "optroute_auth_replay_seen_total", "",                             \
	  "Replay filter checks that found the message seen before")         \
	S(X, replay_full, REPLAY, full, COUNTER, N,                          \
	  "optroute_auth_replay_full_total", "",                             \
	  "Replay filter checks that found no room to record the message")   \
	S(X, replay_stale, REPLAY, stale, COUNTER, N,                        \
	  "optroute_auth_replay_stale_total", "",                            \
	  "Replay filter checks of a send time it does not cover")           \
	S(X, replay_retries, REPLAY, retries, COUNTER, N,                    \
	  "optroute_auth_replay_retries_total", "",                          \
	  "Replay filter attempts rolled back: its window moved")

/* S: an entry as X takes it, without its source. */
#define OR_AUTH_ENTRY_(X, f, from, src, type, unit, metric, label, help)     \
	X(f, type, unit, metric, label, help)

#define OR_AUTH_STATS(X) OR_AUTH_STATS_FROM(OR_AUTH_ENTRY_, X)

struct or_auth_stats {
	OR_AUTH_STATS(OR_STAT_FIELD_)
};

#endif
