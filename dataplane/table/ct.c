/* SPDX-License-Identifier: BSD-3-Clause
 *
 * Consent table: the handle — creation, grace periods, counters.
 */
#include <errno.h>
#include <stdlib.h>

#include <urcu-qsbr.h>

#include "ct_internal.h"

int
ct_create(const struct ct_params *p, struct ct **out)
{
	struct ct *h;
	int ret;

	if (p == NULL || out == NULL)
		return -EINVAL;
	h = aligned_alloc(CT_CACHE_LINE, sizeof(*h));
	if (h == NULL)
		return -ENOMEM;
	memset(h, 0, sizeof(*h));
	h->params = *p;
	ret = ct_table_alloc(h, ct_buckets_for(p->entries), &h->live);
	if (ret < 0) {
		free(h);
		return ret;
	}
	h->live->published = true;
	ct_publish_stats(h);
	*out = h;
	return 0;
}

static void
ct_free_retired(struct ct *h, struct ct_table *list)
{
	while (list != NULL) {
		struct ct_table *next = list->retired_next;

		ct_table_free(h, list);
		list = next;
	}
}

void
ct_destroy(struct ct *h)
{
	if (h == NULL)
		return;
	synchronize_rcu();
	ct_free_retired(h, h->retired);
	ct_table_free(h, h->next);
	ct_table_free(h, h->live);
	free(h);
}

uint32_t
ct_get(const struct ct *h, const struct or_token *k)
{
	return ct_table_get(h->live, k->b);
}

int
ct_sync(struct ct *h)
{
	/* Everything vacated or retired before the grace period starts is
	 * safe to reuse or free once it ends; the writer is this thread, so
	 * nothing is added in between. */
	struct ct_table *retired = h->retired;

	h->retired = NULL;
	__atomic_store_n(&h->changes, h->changes + 1, __ATOMIC_RELEASE);
	synchronize_rcu();
	ct_table_reclaim(h->live);
	ct_free_retired(h, retired);
	ct_grow_step(h, 1u << 16);
	ct_maybe_grow(h);
	ct_publish_stats(h);
	return 0;
}

#define CT_STAT_SET(field, v) __atomic_store_n(&h->stats.field, (v), __ATOMIC_RELAXED)

void
ct_publish_stats(struct ct *h)
{
	const struct ct_table *t = h->live;

	CT_STAT_SET(entries, t->entries);
	CT_STAT_SET(capacity, (uint64_t)t->nbuckets * CT_SLOTS);
	CT_STAT_SET(bytes, t->bytes);
	CT_STAT_SET(pending, t->n_pending);
	CT_STAT_SET(alt_entries, t->alt_entries);
	CT_STAT_SET(building, h->build != CT_BUILD_NONE);
}

void
ct_get_stats(const struct ct *h, struct ct_stats *s)
{
	const uint64_t *src = (const uint64_t *)&h->stats;
	uint64_t *dst = (uint64_t *)s;

	/* Every field is a uint64_t; each is read atomically. */
	for (size_t i = 0; i < sizeof(*s) / sizeof(uint64_t); i++)
		dst[i] = __atomic_load_n(&src[i], __ATOMIC_RELAXED);
}
