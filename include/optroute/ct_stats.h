/* SPDX-License-Identifier: BSD-3-Clause
 *
 * The consent table's figures (ct_get_stats(), include/optroute/ctable.h):
 * one list, the entry form of include/optroute/stats.h. Exported as
 * table.FIELD in the channel's STATS reply (so `optroutectl table` and
 * `optroutectl stats` as dataplane.table.FIELD), as FIELD by the
 * telemetry command /optroute/table, and as the metric named here.
 */
#ifndef OPTROUTE_CT_STATS_H
#define OPTROUTE_CT_STATS_H

#include "optroute/stats.h"

#define OR_CT_STATS(X)                                                       \
	X(entries, GAUGE, N, "optroute_table_entries", "",                   \
	  "Consent table entries")                                           \
	X(capacity, GAUGE, N, "optroute_table_capacity", "",                 \
	  "Consent table slots")                                             \
	X(bytes, GAUGE, N, "optroute_table_bytes", "",                       \
	  "Bucket memory of the live consent table")                         \
	X(pending, GAUGE, N, "optroute_table_pending_slots", "",             \
	  "Vacated slots awaiting a grace period")                           \
	X(generation, GAUGE, N, "optroute_table_generation", "",             \
	  "Table generation (bumped by each growth or replace)")             \
	X(grows, COUNTER, N, "optroute_table_grows_total", "",               \
	  "Completed table growths")                                         \
	X(replaces, COUNTER, N, "optroute_table_replaces_total", "",         \
	  "Completed table replaces (full resyncs)")                         \
	X(moves, COUNTER, N, "optroute_table_moves_total", "",               \
	  "Keys moved between buckets")                                      \
	X(alt_entries, GAUGE, N, "optroute_table_alt_entries", "",           \
	  "Keys living in their alternate bucket")                           \
	/* no memory for the larger table (or mem_limit), or an upsert's     \
	 * keys fitting none of its larger tables (its -ENOSPC, ct_upsert) */ \
	X(grow_failures, COUNTER, N, "optroute_table_grow_failures_total", "", \
	  "Table growths that failed (memory limit, no memory, or keys "     \
	  "that fit no larger table)")                                       \
	X(building, GAUGE, N, "optroute_table_building", "",                 \
	  "1 while a growth or replace is under way")                        \
	X(build_total, GAUGE, N, "optroute_table_build_total_buckets", "",   \
	  "Buckets to copy for the growth under way")                        \
	X(build_done, GAUGE, N, "optroute_table_build_done_buckets", "",     \
	  "Buckets copied for the growth under way")

/* [any] Every field a uint64_t (ct_get_stats reads them one by one). */
struct ct_stats {
	OR_CT_STATS(OR_STAT_FIELD_)
};

#endif
