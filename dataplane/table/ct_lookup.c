/* SPDX-License-Identifier: BSD-3-Clause
 *
 * Consent table: the readers' side. Runs on worker lcores for every packet;
 * see include/optroute/ctable.h for the contract it relies on.
 *
 * A burst is looked up in three passes so that memory latency overlaps
 * (the shape of DPDK's l3fwd bulk lookups): hash every key and prefetch its
 * primary bucket; scan the primary buckets, prefetching the alternate
 * bucket only where the primary says some of its keys live there; scan
 * those. Misses then re-check the table's move counter.
 */
#include <urcu-qsbr.h>

#include <rte_branch_prediction.h>
#include <rte_prefetch.h>

#include "ct_internal.h"

/* Test hook: called once per burst between the primary and the alternate
 * pass, so a unit test can move keys at the worst moment. NULL in
 * production: one predictable branch per burst. */
void (*ct_debug_mid_lookup_hook)(void);

static inline uint32_t
ct_find_one(const struct ct_table *t, const uint8_t *k, uint32_t prim,
	    uint32_t alt, uint32_t bit)
{
	const struct ct_bucket *b = &t->buckets[prim];
	uint32_t r = ct_bucket_find(b, k);

	if (r == 0 && (__atomic_load_n(&b->alt_bloom, __ATOMIC_ACQUIRE) & bit))
		r = ct_bucket_find(&t->buckets[alt], k);
	return r;
}

uint64_t
ct_lookup_bulk(const struct ct *h, const struct or_token *const *keys,
	       unsigned n, uint32_t *recs)
{
	const struct ct_table *t = rcu_dereference(((struct ct *)h)->live);
	const struct ct_bucket *bk = t->buckets;
	uint32_t prim[CT_BULK_MAX], alt[CT_BULK_MAX], bit[CT_BULK_MAX];
	uint64_t all, hits = 0, need_alt = 0, m1, m2;

	if (n > CT_BULK_MAX)
		n = CT_BULK_MAX;
	all = n == 64 ? ~0ull : (1ull << n) - 1;
	m1 = __atomic_load_n(&t->moves, __ATOMIC_ACQUIRE);

	for (unsigned i = 0; i < n; i++) {
		uint64_t hv = ct_hash(t, keys[i]->b);

		ct_buckets_of(t, hv, &prim[i], &alt[i]);
		bit[i] = ct_alt_bit(hv);
		rte_prefetch0(&bk[prim[i]]);
	}
#ifdef CT_VEC
	/* Read every primary bucket's records first, so that the burst's
	 * misses are all in flight before the first key compare; where the
	 * bucket's filter says the key may live in its alternate bucket,
	 * fetch that one now rather than after the compares. */
	__m128i rv[CT_BULK_MAX];

	for (unsigned i = 0; i < n; i++) {
		rv[i] = ct_vec_recs(&bk[prim[i]]);
		if (ct_vec_alt_bloom(rv[i]) & bit[i])
			rte_prefetch0(&bk[alt[i]]);
	}
	ct_compiler_barrier();
	for (unsigned i = 0; i < n; i++) {
		uint32_t r = ct_vec_match(&bk[prim[i]], rv[i], keys[i]->b);

		recs[i] = r;
		if (r != 0)
			hits |= 1ull << i;
		else if (ct_vec_alt_bloom(rv[i]) & bit[i])
			need_alt |= 1ull << i;
	}
#else
	for (unsigned i = 0; i < n; i++) {
		const struct ct_bucket *b = &bk[prim[i]];
		uint32_t r = ct_bucket_find(b, keys[i]->b);

		recs[i] = r;
		if (r != 0) {
			hits |= 1ull << i;
		} else if (__atomic_load_n(&b->alt_bloom, __ATOMIC_ACQUIRE) & bit[i]) {
			need_alt |= 1ull << i;
			rte_prefetch0(&bk[alt[i]]);
		}
	}
#endif
	if (unlikely(ct_debug_mid_lookup_hook != NULL))
		ct_debug_mid_lookup_hook();
	while (need_alt != 0) {
		unsigned i = (unsigned)__builtin_ctzll(need_alt);
		uint32_t r = ct_bucket_find(&bk[alt[i]], keys[i]->b);

		need_alt &= need_alt - 1;
		recs[i] = r;
		if (r != 0)
			hits |= 1ull << i;
	}
	/* A key moved between its buckets while we looked may have been
	 * missed: if the move counter changed, look the misses up again. */
	while (hits != all) {
		uint64_t miss = all & ~hits;

		m2 = __atomic_load_n(&t->moves, __ATOMIC_ACQUIRE);
		if (m2 == m1)
			break;
		m1 = m2;
		while (miss != 0) {
			unsigned i = (unsigned)__builtin_ctzll(miss);
			uint32_t r = ct_find_one(t, keys[i]->b, prim[i], alt[i], bit[i]);

			miss &= miss - 1;
			recs[i] = r;
			if (r != 0)
				hits |= 1ull << i;
		}
	}
	return hits;
}

uint32_t
ct_lookup(const struct ct *h, const struct or_token *k)
{
	const struct or_token *keys[1] = { k };
	uint32_t rec;

	ct_lookup_bulk(h, keys, 1, &rec);
	return rec;
}
