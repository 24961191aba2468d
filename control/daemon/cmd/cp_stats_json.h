/* SPDX-License-Identifier: BSD-3-Clause
 *
 * The sections of the "stats" reply that optroute-control builds itself
 * (control, store, channel; the dataplane's comes from its STATS reply),
 * generated from the lists of include/optroute/cp_stats.h and
 * link_stats.h: every entry under its field name, a BOOL entry as a JSON
 * boolean, any other as an integer. Pure: no threads, no I/O (unit tested
 * by tests/unit/test_stats_lists.c).
 */
#ifndef CP_STATS_JSON_H
#define CP_STATS_JSON_H

#include <stdint.h>

#include <jansson.h>

#include "optroute/cp_stats.h"
#include "optroute/link_stats.h"

struct cp_link_info;

/* {FIELD: value} of every OR_CP_COUNTERS entry, then every OR_CP_GAUGES
 * one. NULL if out of memory. */
json_t *cp_stats_control_json(const struct cp_counters *c,
			      const struct cp_gauges *g);

/* Every OR_STORE_STATS entry. */
json_t *cp_stats_store_json(const struct cp_store_stats *s);

/* Every OR_LINK_STATS entry, and "socket" (the channel's path). */
json_t *cp_stats_link_json(const struct cp_link_stats *l, const char *socket);

/* The channel thread's figures (pi->link) with the last store seq
 * committed and the lag behind it. */
void cp_stats_link_of(const struct cp_link_info *pi, uint64_t committed_seq,
		      struct cp_link_stats *out);

#endif
