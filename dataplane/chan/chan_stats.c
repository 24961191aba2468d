/* SPDX-License-Identifier: BSD-3-Clause
 *
 * STATS_REQUEST: answers with the table's counters (table.FIELD, every
 * entry of OR_CT_STATS, include/optroute/ct_stats.h), the updater's
 * (chan.FIELD, OR_UPDATER_STATS, include/optroute/updater_stats.h) and
 * whatever the dataplane reports through conf.stats_fill (its own names),
 * as (name, u64) pairs split over STATS_REPLY messages of at most
 * OR_CHAN_MAX_STATS pairs.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "optroute/ctable.h"
#include "chan_priv.h"

struct chan_stats_msg {
	struct or_updater *u;
	struct or_chan_stats_reply *m;
	int failed;
};

static void
chan_stats_send(struct chan_stats_msg *s, uint32_t last)
{
	size_t len = sizeof(*s->m) + s->m->count * sizeof(s->m->stats[0]);

	s->m->last = last;
	s->m->h.len = (uint32_t)len;
	if (!s->failed && chan_queue(s->u, s->m, len) < 0)
		s->failed = 1;
	s->m->count = 0;
}

static void
chan_stats_add(struct chan_stats_msg *s, const char *name, uint64_t value)
{
	struct or_chan_stat *st;

	if (s->m->count == OR_CHAN_MAX_STATS)
		chan_stats_send(s, 0);
	st = &s->m->stats[s->m->count++];
	memset(st->name, 0, sizeof(st->name));
	snprintf(st->name, sizeof(st->name), "%s", name);
	st->value = value;
}

void
chan_handle_stats(struct or_updater *u, const struct or_chan_stats_request *req)
{
	struct chan_stats_msg s = { .u = u };
	struct or_updater_stats us;
	struct ct_stats cs;

	CHAN_INC(u, stats_requests);
	s.m = calloc(1, sizeof(*s.m) +
			       OR_CHAN_MAX_STATS * sizeof(s.m->stats[0]));
	if (s.m == NULL) {
		chan_send_error(u, ENOMEM, OR_CHAN_NO_SEQ, OR_CHAN_NO_INDEX,
				"no memory for the stats reply");
		return;
	}
	s.m->h.type = OR_CHAN_STATS_REPLY;
	s.m->id = req->id;

	ct_get_stats(u->t, &cs);
#define T(f, ...) chan_stats_add(&s, "table." #f, cs.f);
	OR_CT_STATS(T)
#undef T
	or_updater_get_stats(u, &us);
#define C(f, ...) chan_stats_add(&s, "chan." #f, us.f);
	OR_UPDATER_STATS(C)
#undef C
	if (u->conf.stats_fill != NULL) {
		unsigned n = u->conf.stats_fill(u->conf.stats_arg, u->dpstats,
						CHAN_DP_STATS_MAX);

		if (n > CHAN_DP_STATS_MAX)
			n = CHAN_DP_STATS_MAX;
		for (unsigned i = 0; i < n; i++) {
			/* The callback's name may lack its NUL. */
			char name[OR_CHAN_STAT_NAME_LEN];
			size_t l = strnlen(u->dpstats[i].name,
					   sizeof(u->dpstats[i].name));

			if (l >= sizeof(name))
				l = sizeof(name) - 1;
			memcpy(name, u->dpstats[i].name, l);
			name[l] = '\0';
			chan_stats_add(&s, name, u->dpstats[i].value);
		}
	}
	if ((req->h.flags & OR_CHAN_STATS_F_CLEAR) && u->conf.stats_clear != NULL)
		u->conf.stats_clear(u->conf.stats_arg);
	chan_stats_send(&s, 1);
	free(s.m);
}
