/* SPDX-License-Identifier: BSD-3-Clause
 *
 * Consent table: the readers' side. Runs on worker lcores for every packet;
 * see include/optroute/ctable.h for the contract it relies on.
 *
 * A burst is looked up in three stages, so that memory latency overlaps
 * with the work on other bursts:
 *  start:  hash every key and prefetch its primary bucket into L2
 *          (PREFETCHT2: an L1 prefetch holds one of the few L1 miss buffers
 *          until its line arrives, and a burst of them stalls the core; L2
 *          has many more).
 *  read:   read every primary bucket's records, prefetch the alternate
 *          bucket where the primary's filter names the key, compare the
 *          keys with the primary buckets.
 *  finish: compare the few keys left with their alternate buckets,
 *          re-check the move counter on misses.
 * ct_lookup_step() does one stage of three bursts in one pass: finish k,
 * read k+1, start k+2 (the benchmark), so a primary has one pass to
 * arrive, an alternate one more; or, given k as both, reads and finishes
 * k and starts k+1 (the dataplane worker, which holds fewer frames so).
 * ct_lookup_bulk runs the three stages of one burst back to back.
 * The passes over a burst have no data-dependent branch: whether a key hit,
 * and which slot holds it, is random, and a mispredicted branch costs more
 * than the arithmetic that replaces it.
 */
#include <urcu-qsbr.h>

#include <rte_branch_prediction.h>
#include <rte_prefetch.h>

#include "ct_internal.h"
#include "ct_x8.h"

/* Test hook: called once per burst between the primary and the alternate
 * pass, so a unit test can move keys at the worst moment. NULL in
 * production: one predictable branch per burst. */
void (*ct_debug_mid_lookup_hook)(void);

/* The reader's scan of one bucket. */
static inline uint32_t
ct_find_in(const struct ct_bucket *b, const uint8_t *k)
{
#ifdef CT_X8
	return ct_x8_find(b, k);
#else
	return ct_bucket_find(b, k);
#endif
}

static inline uint32_t
ct_find_one(const struct ct_table *t, const uint8_t *k, uint64_t hv,
	    uint32_t prim)
{
	const struct ct_bucket *b = &t->buckets[prim];
	uint32_t r = ct_find_in(b, k);

	if (r == 0 && (__atomic_load_n(&b->alt_bloom, __ATOMIC_ACQUIRE) &
		       ct_alt_bit(hv)))
		r = ct_find_in(&t->buckets[ct_alt_of(t, hv, prim)], k);
	return r;
}

/* Hashes key i of b and prefetches its primary bucket into L2. */
static inline void
ct_start_one(const struct ct_table *t, struct ct_burst *b, unsigned i)
{
	uint64_t hv = ct_hash(t, b->keys[i]->b);
	uint32_t p = ct_prim_of(t, hv);

	b->hash[i] = hv;
	b->prim[i] = p;
	rte_prefetch2(&t->buckets[p]);
}

/* ct_start_one() for every key of b. */
static inline void
ct_start_all(const struct ct_table *t, struct ct_burst *b)
{
#ifdef CT_X8
	for (unsigned i = 0; i < b->n; i += 8)
		ct_x8_start(t, b, i, b->n - i < 8 ? b->n - i : 8);
#else
	for (unsigned i = 0; i < b->n; i++)
		ct_start_one(t, b, i);
#endif
}

static inline void
ct_burst_init(const struct ct_table *t, struct ct_burst *b,
	      const struct or_token *const *keys, unsigned n)
{
	b->keys = keys;
	b->n = n > CT_BULK_MAX ? CT_BULK_MAX : n;
	b->table_id = t->id;
}

void
ct_lookup_start(const struct ct *h, const struct or_token *const *keys,
		unsigned n, struct ct_burst *b)
{
	const struct ct_table *t = rcu_dereference(((struct ct *)h)->live);

	ct_burst_init(t, b, keys, n);
	ct_start_all(t, b);
}

#if defined(CT_VEC) && !defined(CT_X8)
/* Reads the records of key i's primary bucket into *rv and prefetches its
 * alternate bucket if the primary's filter names the key; returns that as
 * bit i. Branch-free: when no alternate is wanted the primary (already on
 * its way) is prefetched again. */
static inline uint64_t
ct_read_one(const struct ct_table *t, const struct ct_burst *b, unsigned i,
	    __m128i *rv)
{
	uint32_t p = b->prim[i], a = ct_alt_of(t, b->hash[i], p);
	uint32_t want;

	*rv = ct_vec_recs(&t->buckets[p]);
	want = (ct_vec_alt_bloom(*rv) & ct_alt_bit(b->hash[i])) != 0;
	rte_prefetch0(&t->buckets[p ^ ((p ^ a) & (0u - want))]);
	return (uint64_t)want << i;
}
#endif

/* Primary buckets of b, with the next burst (nb, may be NULL) started in
 * the same loop: a burst's prefetches then go out spread over the work on
 * the other one, rather than all at once into full miss queues. Returns
 * the hits, sets *need_alt to the misses whose primary's filter names them
 * (their alternate is being prefetched). */
static inline uint64_t
ct_scan_prim(const struct ct_table *t, struct ct_burst *b,
	     uint64_t *need_alt, struct ct_burst *nb)
{
	uint32_t *recs = b->recs;
	unsigned n = b->n, nn = nb != NULL ? nb->n : 0;
	uint64_t hits = 0, need = 0;
#if defined(CT_X8)
	/* Four records a key, eight keys a step (ct_x8.h). */
	__m128i rv[CT_BULK_MAX];
	unsigned most = n > nn ? n : nn, i;

	for (i = 0; i < most; i += 8) {
		if (i < nn)
			ct_x8_start(t, nb, i, nn - i < 8 ? nn - i : 8);
		if (i < n)
			need |= ct_x8_read(t, b, i, n - i < 8 ? n - i : 8, rv);
	}
	ct_compiler_barrier();
	for (i = 0; i < n; i += 8)
		hits |= ct_x8_match(t, b, i, n - i < 8 ? n - i : 8, rv, recs);
#elif defined(CT_VEC)
	const struct ct_bucket *bk = t->buckets;
	__m128i rv[CT_BULK_MAX];
	unsigned both = n < nn ? n : nn, i;

	/* Every primary's records first (its line is in L2 or on its way):
	 * the lines come to L1 together, and the alternates the filters ask
	 * for are in flight before the first compare. */
	for (i = 0; i < both; i++) {
		ct_start_one(t, nb, i);
		need |= ct_read_one(t, b, i, &rv[i]);
	}
	for (; i < nn; i++)
		ct_start_one(t, nb, i);
	for (i = both; i < n; i++)
		need |= ct_read_one(t, b, i, &rv[i]);
	ct_compiler_barrier();
	for (i = 0; i < n; i++) {
		uint32_t r = ct_vec_match(&bk[b->prim[i]], rv[i], b->keys[i]->b);

		recs[i] = r;
		hits |= (uint64_t)(r != 0) << i;
	}
#else
	const struct ct_bucket *bk = t->buckets;

	for (unsigned i = 0; i < nn; i++)
		ct_start_one(t, nb, i);
	for (unsigned i = 0; i < n; i++) {
		const struct ct_bucket *pb = &bk[b->prim[i]];
		uint32_t r = ct_bucket_find(pb, b->keys[i]->b);

		recs[i] = r;
		hits |= (uint64_t)(r != 0) << i;
		if (r == 0 && (__atomic_load_n(&pb->alt_bloom, __ATOMIC_ACQUIRE) &
			       ct_alt_bit(b->hash[i]))) {
			need |= 1ull << i;
			rte_prefetch0(&bk[ct_alt_of(t, b->hash[i], b->prim[i])]);
		}
	}
#endif
	*need_alt = need & ~hits;
	return hits;
}

/* The read stage of b (may be NULL), with nb (may be NULL) started in the
 * same loop. */
static void
ct_read(const struct ct *h, const struct ct_table *t, struct ct_burst *b,
	struct ct_burst *nb)
{
	struct ct_burst none;

	if (b == NULL) {
		none.n = 0;
		b = &none;
	} else if (unlikely(b->table_id != t->id)) {
		/* Grown or replaced since start: its hashes are for another
		 * seed. */
		b->table_id = t->id;
		ct_start_all(t, b);
	}
	b->changes = __atomic_load_n(&h->changes, __ATOMIC_ACQUIRE);
	b->moves = __atomic_load_n(&t->moves, __ATOMIC_ACQUIRE);
	b->hits = ct_scan_prim(t, b, &b->need_alt, nb);
}

/* Looks the keys of b in miss up again, whole. */
static void
ct_find_misses(const struct ct_table *t, struct ct_burst *b, uint64_t miss,
	       uint64_t *hits)
{
	while (miss != 0) {
		unsigned i = (unsigned)__builtin_ctzll(miss);
		uint32_t r = ct_find_one(t, b->keys[i]->b, b->hash[i], b->prim[i]);

		miss &= miss - 1;
		b->recs[i] = r;
		*hits |= (uint64_t)(r != 0) << i;
	}
}

/* The finish stage of b, read by ct_read(). Returns its hits. */
static uint64_t
ct_finish(const struct ct *h, const struct ct_table *t, struct ct_burst *b)
{
	unsigned n = b->n;
	uint64_t all = n == 64 ? ~0ull : (1ull << n) - 1;
	uint64_t hits = b->hits, need_alt = b->need_alt, m1 = b->moves, m2;
	uint64_t again = 0;

	if (unlikely(ct_debug_mid_lookup_hook != NULL))
		ct_debug_mid_lookup_hook();
	if (unlikely(b->table_id != t->id)) {
		/* Grown or replaced since the read: its hashes are for
		 * another seed, and the misses are looked up again. */
		b->table_id = t->id;
		ct_start_all(t, b);
		again = all & ~hits;
	}
	if (unlikely(__atomic_load_n(&h->changes, __ATOMIC_ACQUIRE) !=
		     b->changes)) {
		/* A ct_sync() began since the read (G4, ctable.h): what the
		 * read found may be older than a change already
		 * acknowledged by now, so the whole burst is looked up
		 * again. */
		hits = 0;
		again = all;
	}
	if (unlikely(again != 0)) {
		m1 = __atomic_load_n(&t->moves, __ATOMIC_ACQUIRE);
		need_alt = 0;
		ct_find_misses(t, b, again, &hits);
	}
	while (need_alt != 0) {
		unsigned i = (unsigned)__builtin_ctzll(need_alt);
		uint32_t r = ct_find_in(
			&t->buckets[ct_alt_of(t, b->hash[i], b->prim[i])],
			b->keys[i]->b);

		need_alt &= need_alt - 1;
		b->recs[i] = r;
		hits |= (uint64_t)(r != 0) << i;
	}
	/* A key moved between its buckets while we looked may have been
	 * missed: if the move counter changed, look the misses up again. */
	while (hits != all) {
		uint64_t miss = all & ~hits;

		m2 = __atomic_load_n(&t->moves, __ATOMIC_ACQUIRE);
		if (m2 == m1)
			break;
		m1 = m2;
		ct_find_misses(t, b, miss, &hits);
	}
	b->hits = hits;
	return hits;
}

uint64_t
ct_lookup_step(const struct ct *h, struct ct_burst *done, struct ct_burst *mid,
	       const struct or_token *const *next_keys, unsigned next_n,
	       struct ct_burst *next)
{
	const struct ct_table *t = rcu_dereference(((struct ct *)h)->live);

	if (next != NULL)
		ct_burst_init(t, next, next_keys, next_n);
	ct_read(h, t, mid, next);
	return done != NULL ? ct_finish(h, t, done) : 0;
}

uint64_t
ct_lookup_finish(const struct ct *h, struct ct_burst *b, uint32_t *recs)
{
	/* Read and finish in one pass, as the two-burst pipeline does. */
	uint64_t hits = ct_lookup_step(h, b, b, NULL, 0, NULL);

	memcpy(recs, b->recs, b->n * sizeof(*recs));
	return hits;
}

uint64_t
ct_lookup_bulk(const struct ct *h, const struct or_token *const *keys,
	       unsigned n, uint32_t *recs)
{
	struct ct_burst b;

	ct_lookup_start(h, keys, n, &b);
	return ct_lookup_finish(h, &b, recs);
}

uint32_t
ct_lookup(const struct ct *h, const struct or_token *k)
{
	const struct or_token *keys[1] = { k };
	uint32_t rec;

	ct_lookup_bulk(h, keys, 1, &rec);
	return rec;
}
