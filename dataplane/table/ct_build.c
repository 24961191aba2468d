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
 *
 * An upsert that finds no room in the live table (no cuckoo path) cannot
 * wait for a slice-by-slice growth: a larger table holding every live key
 * and the new one is built at once and published (ct_grow_now), also while
 * a replace is being built, so that a change made during a full resync is
 * in the live table whether the replace is committed or aborted. When the
 * keys do not fit the larger table either, it is tried again larger, each
 * time with a new seed, within the bounds of ct_internal.h.
 */
#include <errno.h>

#include <urcu-qsbr.h>

#include "ct_internal.h"

/* Buckets copied per ct_upsert during a growth, and per ct_sync. */
#define CT_STEP_UPSERT 8
#define CT_STEP_SYNC (1u << 16)

/* Buckets of a table grown from one of nb buckets that is to hold
 * 'entries': 1.25x, doubled for each of the 'fails' growths before it
 * whose keys did not fit, but then no more than CT_GROW_MAX_FACTOR times
 * what the entries need (and never less than 1.25x). */
static uint32_t
ct_grown_buckets(uint32_t nb, uint64_t entries, unsigned fails)
{
	uint64_t first = (uint64_t)nb * CT_GROW_PERCENT / 100, n;
	uint64_t cap = (uint64_t)ct_buckets_for(entries) * CT_GROW_MAX_FACTOR;

	if (first <= nb)
		first = (uint64_t)nb + 1;
	n = first << (fails < CT_GROW_MAX_SHIFT ? fails : CT_GROW_MAX_SHIFT);
	if (n > first && n > cap)
		n = cap > first ? cap : first;
	return n > UINT32_MAX ? UINT32_MAX : (uint32_t)n;
}

/* Makes t the live table; the old one is freed by the next ct_sync, after
 * a grace period. A table with a new seed: earlier failures say nothing
 * about it. */
static void
ct_swap_live(struct ct *h, struct ct_table *t)
{
	struct ct_table *old = h->live;

	t->published = true;
	rcu_assign_pointer(h->live, t);
	old->retired_next = h->retired;
	h->retired = old;
	h->grow_fails = 0;
	h->stats.generation++;
}

static void
ct_publish(struct ct *h, struct ct_table *next)
{
	ct_swap_live(h, next);
	h->next = NULL;
	h->build = CT_BUILD_NONE;
	h->build_failed = false;
}

/* A new table of nb buckets holding every key of src and, if k != NULL, k.
 * Nobody sees it yet, so keys move at once and it is complete before it is
 * published. 0, -ENOSPC (the keys do not fit), or ct_table_alloc's -errno
 * (memory limit, no memory). */
static int
ct_rebuild(struct ct *h, const struct ct_table *src, uint32_t nb,
	   const uint8_t *k, uint32_t rec, struct ct_table **out)
{
	struct ct_table *t;
	int ret = ct_table_alloc(h, nb, &t);

	if (ret < 0)
		return ret;
	for (uint32_t bi = 0; bi < src->nbuckets && ret == 0; bi++) {
		const struct ct_bucket *b = &src->buckets[bi];

		for (unsigned s = 0; s < CT_SLOTS && ret == 0; s++)
			if (ct_rec_live(b->rec[s]))
				ret = ct_table_upsert(h, t, b->key[s],
						      b->rec[s], NULL);
	}
	if (ret == 0 && k != NULL)
		ret = ct_table_upsert(h, t, k, rec, NULL);
	if (ret < 0) {
		ct_table_free(h, t);
		/* An unpublished table never asks for a grace period. */
		return ret == -EAGAIN ? -ENOSPC : ret;
	}
	*out = t;
	return 0;
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

/* The grown table missed a key (it did not fit): dropped; the next growth
 * is larger. */
static void
ct_grow_abort(struct ct *h)
{
	ct_drop_next(h);
	h->stats.build_total = 0;
	h->stats.build_done = 0;
	h->grow_fails++;
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

	if (ct_table_alloc(h, ct_grown_buckets(t->nbuckets, t->entries + 1,
					       h->grow_fails),
			   &h->next) < 0) {
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

/* The table a replace builds is not published: when it has no room it is
 * rebuilt larger at once, with k, and larger again (new seed) while the
 * keys do not fit. */
static int
ct_next_grow(struct ct *h, const uint8_t *k, uint32_t rec)
{
	int ret = -ENOSPC;

	for (unsigned a = 0; a < CT_GROW_ATTEMPTS && ret == -ENOSPC; a++) {
		struct ct_table *old = h->next, *big;

		ret = ct_rebuild(h, old, ct_grown_buckets(old->nbuckets,
							  old->entries + 1, a),
				 k, rec, &big);
		if (ret == 0) {
			ct_table_free(h, old);
			h->next = big;
		}
	}
	return ret;
}

/* k into the table a replace builds, kept below the growth load as a
 * published table is. */
static int
ct_next_upsert(struct ct *h, const uint8_t *k, uint32_t rec)
{
	const struct ct_table *n = h->next;
	int ret = -ENOSPC;

	if ((n->entries + 1) * 1000 <
	    (uint64_t)n->nbuckets * CT_SLOTS * CT_LOAD_GROW_PERMILLE)
		ret = ct_table_upsert(h, h->next, k, rec, NULL);
	if (ret == -ENOSPC)
		ret = ct_next_grow(h, k, rec);
	return ret;
}

/* The live table has no room for k (no cuckoo path; k NULL: it is too
 * loaded). A growth under way is finished first; if k still does not fit,
 * a larger table holding every live key and k is built and published now,
 * tried again larger with a new seed while the keys do not fit. A replace
 * being built is left as it is (its table is h->next; the caller mirrors k
 * into it). 0, -EAGAIN (the finished growth's table needs a grace period
 * to make room), -ENOSPC. */
static int
ct_grow_now(struct ct *h, const uint8_t *k, uint32_t rec)
{
	int ret = -ENOSPC;

	if (h->build == CT_BUILD_GROW && ct_grow_finish(h) == 0) {
		ret = k != NULL ? ct_table_upsert(h, h->live, k, rec, NULL) : 0;
		if (ret != -ENOSPC)
			return ret;
	}
	for (unsigned a = 0; a < CT_GROW_ATTEMPTS && ret == -ENOSPC; a++) {
		const struct ct_table *l = h->live;
		struct ct_table *t;

		ret = ct_rebuild(h, l, ct_grown_buckets(l->nbuckets,
							l->entries + 1,
							h->grow_fails),
				 k, rec, &t);
		if (ret == 0) {
			ct_swap_live(h, t);
			h->stats.grows++;
		} else if (ret == -ENOSPC) {
			h->grow_fails++;
		}
	}
	if (ret < 0) {
		h->stats.grow_failures++;
		h->grow_retry_at = h->live->entries + h->live->entries / 100 + 1;
		ct_publish_stats(h);
		return -ENOSPC;
	}
	ct_publish_stats(h);
	return 0;
}

/* Keeps the live table below the growth load: slice by slice, or, while a
 * replace is being built (the handle's second table is taken), by a larger
 * copy at once. Near full, a cuckoo path is long and every hop of it in a
 * published table waits for a grace period: deferred upserts could then
 * run out of rounds (chan_ops.c). */
void
ct_maybe_grow(struct ct *h)
{
	struct ct_table *t = h->live;
	uint64_t used = t->entries + t->n_pending;
	uint64_t slots = (uint64_t)t->nbuckets * CT_SLOTS;

	if (used * 1000 < slots * CT_LOAD_GROW_PERMILLE ||
	    t->entries < h->grow_retry_at)
		return;
	if (h->build == CT_BUILD_NONE)
		(void)ct_start_grow(h);
	else if (h->build == CT_BUILD_REPLACE)
		(void)ct_grow_now(h, NULL, 0);
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
	if (ret == -ENOSPC)
		ret = ct_grow_now(h, k->b, rec);
	if (ret < 0)
		return ret;
	/* The table being built gets the change too: a replace's grows as a
	 * published one would; a growth's is dropped (and retried) if it
	 * misses it. */
	if (h->build == CT_BUILD_REPLACE) {
		if (ct_next_upsert(h, k->b, rec) < 0)
			h->build_failed = true;
	} else if (h->next != NULL &&
		   ct_table_upsert(h, h->next, k->b, rec, NULL) < 0) {
		h->build_failed = true;
	}
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
	/* A growth that cannot finish (its keys did not fit) is dropped:
	 * the replace builds a table of its own anyway. */
	if (h->build == CT_BUILD_GROW)
		(void)ct_grow_finish(h);
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

int
ct_replace_upsert(struct ct *h, const struct or_token *k, uint32_t rec)
{
	if (h->build != CT_BUILD_REPLACE)
		return -EINVAL;
	if (!or_rec_valid(rec))
		return -EINVAL;
	return ct_next_upsert(h, k->b, rec);
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
