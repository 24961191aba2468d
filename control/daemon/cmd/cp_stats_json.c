/* SPDX-License-Identifier: BSD-3-Clause
 *
 * The "stats" reply's own sections (cp_stats_json.h), from the lists.
 */
#include <string.h>

#include "control/daemon/dplink/cp_link.h"
#include "control/store/store.h"

#include "cp_stats_json.h"

static void
cp_stats_set(json_t *o, const char *key, enum or_stat_unit unit, uint64_t v)
{
	json_object_set_new(o, key,
			    unit == OR_STAT_BOOL ? json_boolean(v != 0)
						 : json_integer((json_int_t)v));
}

/* X: one entry of struct *s into o. */
#define CP_STATS_SET_(f, type, unit, ...)                                    \
	cp_stats_set(o, #f, OR_STAT_##unit, s->f);

static json_t *
cp_stats_counters(json_t *o, const struct cp_counters *s)
{
	if (o != NULL) {
		OR_CP_COUNTERS(CP_STATS_SET_)
	}
	return o;
}

static json_t *
cp_stats_gauges(json_t *o, const struct cp_gauges *s)
{
	if (o != NULL) {
		OR_CP_GAUGES(CP_STATS_SET_)
	}
	return o;
}

json_t *
cp_stats_control_json(const struct cp_counters *c, const struct cp_gauges *g)
{
	return cp_stats_gauges(cp_stats_counters(json_object(), c), g);
}

json_t *
cp_stats_store_json(const struct cp_store_stats *s)
{
	json_t *o = json_object();

	if (o != NULL) {
		OR_STORE_STATS(CP_STATS_SET_)
	}
	return o;
}

json_t *
cp_stats_link_json(const struct cp_link_stats *s, const char *socket)
{
	json_t *o = json_object();

	if (o != NULL) {
		OR_LINK_STATS(CP_STATS_SET_)
		json_object_set_new(o, "socket", json_string(socket));
	}
	return o;
}

#undef CP_STATS_SET_

void
cp_stats_link_of(const struct cp_link_info *pi, uint64_t committed_seq,
		 struct cp_link_stats *out)
{
	*out = pi->link;
	out->committed_seq = committed_seq;
	out->lag = committed_seq > pi->acked_seq ? committed_seq - pi->acked_seq
						 : 0;
}
