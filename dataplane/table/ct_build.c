/* SPDX-License-Identifier: BSD-3-Clause
 *
 * Consent table: building a second table beside the live one — online
 * growth and whole-table replace — and publishing it.
 *
 * Growth copies the live table bucket by bucket into a larger one, a slice
 * at a time (ct_grow_step), while the writer keeps changing the live table:
 * every change, and every key a change moves, is also applied to the new
 * table, so when the copy reaches the end the new table holds exactly the
 * live table's keys and records. Replace fills the new table from the caller
 * (a full resync) and mirrors live changes without copying anything.
 * Either way the new table is published with rcu_assign_pointer and the old
 * one is freed by the next ct_sync, after a grace period.
 */
#include <errno.h>

#include <urcu-qsbr.h>

#include "ct_internal.h"

/* Buckets copied per ct_upsert during a growth, and per ct_sync. */
#define CT_STEP_UPSERT 8
#define CT_STEP_SYNC (1u << 16)

static uint32_t
ct_grown_buckets(uint32_t nb)
{
	uint64_t n = (uint64_t)nb * CT_GROW_PERCENT / 100;

	if (n <= nb)
		n = (uint64_t)nb + 1;
	return n > UINT32_MAX ? UINT32_MAX : (uint32_t)n;
}

static void
ct_publish(struct ct *h, struct ct_table *next)
{
	struct ct_table *old = h->live;

	next->published = true;
	rcu_assign_pointer(h->live, next);
	old->retired_next = h->retired;
	h->retired = old;
	h->next = NULL;
	h->build = CT_BUILD_NONE;
	h->build_failed = false;
	h->stats.generation++;
}

static void
ct_drop_next(struct ct *h)
{
	ct_table_free(h, h->next);
	h->next = NULL;
	h->build = CT_BUILD_NONE;
	h->build_failed = false;
}

/* Copies live buckets [copy_pos, copy_pos + n) into the new table. */
static int
ct_copy_slice(struct ct *h, unsigned n)
{
	struct ct_table *src = h->live;
	uint32_t end = src->nbuckets - h->copy_pos < n ? src->nbuckets
						       : h->copy_pos + n;

	for (uint32_t bi = h->copy_pos; bi < end; bi++) {
		const struct ct_bucket *b = &src->buckets[bi];

		for (unsigned s = 0; s < CT_SLOTS; s++) {
			int ret;

			if (!ct_rec_live(b->rec[s]))
				continue;
			ret = ct_table_upsert(h, h->next, b->key[s], b->rec[s], NULL);
			if (ret < 0)
				return ret;
		}
	}
	h->copy_pos = end;
	return 0;
}

static void
ct_grow_abort(struct ct *h)
{
	ct_drop_next(h);
	h->stats.build_total = 0;
	h->stats.build_done = 0;
	/* Try again once the table has 1% more entries. */
	h->grow_retry_at = h->live->entries + h->live->entries / 100 + 1;
}

int
ct_grow_step(struct ct *h, unsigned buckets)
{
	if (h->build != CT_BUILD_GROW)
		return 0;
	if (h->build_failed || ct_copy_slice(h, buckets) < 0) {
		ct_grow_abort(h);
		return 0;
	}
	h->stats.build_done = h->copy_pos;
	if (h->copy_pos < h->live->nbuckets)
		return 1;
	ct_publish(h, h->next);
	h->stats.grows++;
	h->stats.build_total = 0;
	h->stats.build_done = 0;
	ct_publish_stats(h);
	return 0;
}

int
ct_grow_finish(struct ct *h)
{
	while (ct_grow_step(h, CT_STEP_SYNC) == 1)
		;
	return h->build == CT_BUILD_NONE ? 0 : -ENOMEM;
}

static int
ct_start_grow(struct ct *h)
{
	struct ct_table *t = h->live;

	if (ct_table_alloc(h, ct_grown_buckets(t->nbuckets), &h->next) < 0) {
		h->next = NULL;
		h->stats.grow_failures++;
		h->grow_retry_at = t->entries + t->entries / 100 + 1;
		return -ENOSPC;
	}
	h->build = CT_BUILD_GROW;
	h->copy_pos = 0;
	h->stats.build_total = t->nbuckets;
	h->stats.build_done = 0;
	ct_grow_step(h, CT_STEP_UPSERT);
	return 0;
}

void
ct_maybe_grow(struct ct *h)
{
	struct ct_table *t = h->live;
	uint64_t used = t->entries + t->n_pending;
	uint64_t slots = (uint64_t)t->nbuckets * CT_SLOTS;

	if (h->build != CT_BUILD_NONE || used * 1000 < slots * CT_LOAD_GROW_PERMILLE ||
	    t->entries < h->grow_retry_at)
		return;
	(void)ct_start_grow(h);
}

int
ct_upsert(struct ct *h, const struct or_token *k, uint32_t rec)
{
	int ret;

	if (!or_rec_valid(rec))
		return -EINVAL;
	ct_grow_step(h, CT_STEP_UPSERT);
	ret = ct_table_upsert(h, h->live, k->b, rec,
			      h->build == CT_BUILD_GROW ? h->next : NULL);
	/* No room: finish a growth at once, or start one below the load
	 * limit (no cuckoo path found), then retry. */
	if (ret == -ENOSPC && h->build == CT_BUILD_NONE && ct_start_grow(h) < 0)
		return ret;
	if (ret == -ENOSPC && h->build == CT_BUILD_GROW && ct_grow_finish(h) == 0)
		ret = ct_table_upsert(h, h->live, k->b, rec, NULL);
	if (ret < 0)
		return ret;
	if (h->next != NULL && ct_table_upsert(h, h->next, k->b, rec, NULL) < 0)
		h->build_failed = true;
	if (h->build == CT_BUILD_GROW && h->build_failed)
		ct_grow_abort(h);
	ct_maybe_grow(h);
	h->stats.entries = h->live->entries;
	return 0;
}

int
ct_delete(struct ct *h, const struct or_token *k)
{
	int ret = ct_table_delete(h, h->live, k->b);

	if (h->next != NULL && ct_table_delete(h, h->next, k->b) == 0)
		ret = 0;
	h->stats.entries = h->live->entries;
	return ret;
}

int
ct_replace_begin(struct ct *h)
{
	uint32_t nb = h->live->nbuckets;
	int ret;

	if (h->build == CT_BUILD_REPLACE)
		return -EBUSY;
	if (h->build == CT_BUILD_GROW) {
		ret = ct_grow_finish(h);
		if (ret < 0)
			return ret;
	}
	if (nb < ct_buckets_for(h->params.entries))
		nb = ct_buckets_for(h->params.entries);
	ret = ct_table_alloc(h, nb, &h->next);
	if (ret < 0) {
		h->next = NULL;
		return ret;
	}
	h->build = CT_BUILD_REPLACE;
	h->stats.building = 1;
	return 0;
}

/* The new table of a replace is not published: when it gets full it is
 * rebuilt larger at once. */
static int
ct_next_grow(struct ct *h)
{
	struct ct_table *old = h->next, *big;
	int ret = ct_table_alloc(h, ct_grown_buckets(old->nbuckets), &big);

	if (ret < 0)
		return ret;
	for (uint32_t bi = 0; bi < old->nbuckets; bi++) {
		const struct ct_bucket *b = &old->buckets[bi];

		for (unsigned s = 0; s < CT_SLOTS; s++) {
			if (!ct_rec_live(b->rec[s]))
				continue;
			ret = ct_table_upsert(h, big, b->key[s], b->rec[s], NULL);
			if (ret < 0) {
				ct_table_free(h, big);
				return ret;
			}
		}
	}
	ct_table_free(h, old);
	h->next = big;
	return 0;
}

int
ct_replace_upsert(struct ct *h, const struct or_token *k, uint32_t rec)
{
	struct ct_table *n = h->next;
	int ret;

	if (h->build != CT_BUILD_REPLACE)
		return -EINVAL;
	if (!or_rec_valid(rec))
		return -EINVAL;
	if ((n->entries + 1) * 1000 >=
	    (uint64_t)n->nbuckets * CT_SLOTS * CT_LOAD_GROW_PERMILLE) {
		ret = ct_next_grow(h);
		if (ret < 0)
			return ret;
	}
	ret = ct_table_upsert(h, h->next, k->b, rec, NULL);
	if (ret == -ENOSPC) {
		/* No cuckoo path below the load limit (small tables are
		 * unlucky sometimes): grow the unpublished table and retry. */
		ret = ct_next_grow(h);
		if (ret == 0)
			ret = ct_table_upsert(h, h->next, k->b, rec, NULL);
	}
	return ret;
}

int
ct_replace_commit(struct ct *h)
{
	if (h->build != CT_BUILD_REPLACE)
		return -EINVAL;
	if (h->build_failed) {
		ct_replace_abort(h);
		return -ENOMEM;
	}
	ct_publish(h, h->next);
	h->stats.replaces++;
	h->grow_retry_at = 0;
	ct_maybe_grow(h);
	ct_publish_stats(h);
	return 0;
}

void
ct_replace_abort(struct ct *h)
{
	if (h->build != CT_BUILD_REPLACE)
		return;
	ct_drop_next(h);
	ct_publish_stats(h);
}

int
ct_replacing(const struct ct *h)
{
	return h->build == CT_BUILD_REPLACE;
}
