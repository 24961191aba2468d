/* SPDX-License-Identifier: BSD-3-Clause
 *
 * Consent table internals shared by its files: bucket layout, hashing and
 * the bucket-level primitives. The concurrency contract is stated once, in
 * include/optroute/ctable.h; comments here only say how a step keeps it.
 */
#ifndef CT_INTERNAL_H
#define CT_INTERNAL_H

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "optroute/ctable.h"

#define CT_SLOTS 3
#define CT_CACHE_LINE 64

/* A table created for N entries holds them at this load, leaving room for
 * churn before the first growth, and few keys in their alternate bucket (64 / (3 * 0.7) = 30.5 bytes per entry). */
#define CT_LOAD_SIZE_PERMILLE 700
/* Growth starts when live + pending slots reach this share of capacity... */
#define CT_LOAD_GROW_PERMILLE 850
/* ...and the new table has this many times the buckets (x 1/100). With
 * 3 slots of 20 bytes per 64-byte line this keeps a grown table under
 * 64 / (3 * 0.85 / 1.25) = 31.4 bytes per entry. */
#define CT_GROW_PERCENT 125
#define CT_MIN_BUCKETS 16
/* A growth whose keys do not fit the larger table (keys alike in all but a
 * few bytes crowd into few buckets; real tokens are uniform and never do)
 * is tried again at twice the size, each time with a new seed: at most
 * CT_GROW_ATTEMPTS tables per upsert that found no room, each at most
 * CT_GROW_MAX_FACTOR times the buckets its entries need at the sizing
 * load (488 bytes per entry). Past that the upsert gets -ENOSPC, counted
 * in grow_failures. */
#define CT_GROW_ATTEMPTS 4
#define CT_GROW_MAX_SHIFT 3
#define CT_GROW_MAX_FACTOR 16

/* Record values that are not stored records (include/optroute/consent.h):
 * 0 marks a free slot, CT_REC_VACATED a slot whose key was deleted or moved
 * away and whose key bytes may still be compared by a reader. */
#define CT_REC_FREE 0u
#define CT_REC_VACATED ((uint32_t)OR_STATE_RSVD)

/* One cache line: 3 keys, 3 records, and a 32-bit filter of the keys whose
 * primary bucket is this one but which live in their alternate bucket: a
 * key sets bit ct_alt_bit() when it is placed in its alternate bucket. Bits
 * are never cleared (a rebuilt table starts clean): a stale bit costs a
 * useless read of the alternate bucket, never a miss. */
struct ct_bucket {
	uint8_t key[CT_SLOTS][OR_TOKEN_LEN];
	uint32_t rec[CT_SLOTS];
	uint32_t alt_bloom;
} __attribute__((aligned(CT_CACHE_LINE)));

_Static_assert(sizeof(struct ct_bucket) == CT_CACHE_LINE, "bucket is a line");

/* One generation of buckets. Readers use only the first cache line. */
struct ct_table {
	struct ct_bucket *buckets;
	uint32_t nbuckets;
	uint32_t pad;
	uint64_t seed[2];
	uint64_t id; /* unique per table of a handle, never reused (ct_burst) */
	/* Bumped by the writer between copying a key to its other bucket and
	 * vacating the old slot; a lookup that misses re-reads it. */
	uint64_t moves __attribute__((aligned(CT_CACHE_LINE)));

	/* Writer-only from here. */
	uint64_t entries __attribute__((aligned(CT_CACHE_LINE)));
	uint64_t alt_entries;
	uint64_t bytes;
	bool published;  /* readers may see it: vacated slots wait a grace period */
	bool from_rte;   /* buckets from rte_malloc, else mmap */
	uint64_t *pending;   /* vacated slot ids (bucket * 4 + slot) */
	uint64_t n_pending;
	uint64_t cap_pending;
	struct ct_table *retired_next; /* list of tables awaiting a grace period */
};

enum ct_build {
	CT_BUILD_NONE,
	CT_BUILD_GROW,
	CT_BUILD_REPLACE,
};

/* The handle readers hold. */
struct ct {
	struct ct_table *live; /* RCU-protected: rcu_dereference / rcu_assign_pointer */
	/* Bumped by ct_sync() before its grace period: a burst whose read
	 * stage saw another value is looked up again whole (G4). */
	uint64_t changes;

	/* Writer-only. */
	struct ct_table *next __attribute__((aligned(CT_CACHE_LINE)));
	enum ct_build build;
	bool build_failed;        /* the table being built missed a change */
	uint64_t grow_retry_at;   /* after a failed growth: entries to retry at */
	unsigned grow_fails;      /* growths in a row whose keys did not fit */
	uint32_t copy_pos;        /* growth: next live bucket to copy */
	struct ct_table *retired; /* freed by the next ct_sync */
	uint64_t last_table_id;   /* ids given to tables so far */
	struct ct_params params;
	uint64_t mem_used;
	struct ct_stats stats;    /* published with relaxed stores */
};

/* Seeded hash of a token: keys are keyed-BLAKE2b outputs, but placement
 * still depends on a per-table secret seed so nobody can aim keys at one
 * bucket. Each seeded half is folded by a 32x32 -> 64 product (one
 * instruction for eight keys in ct_x8.h, which computes the same), the
 * second rotated so that both 32-bit halves of the hash mix the middle
 * bits of both products. */
static inline uint64_t
ct_fold(uint64_t x)
{
	return (x & 0xffffffffu) * (x >> 32);
}

static inline uint64_t
ct_hash(const struct ct_table *t, const uint8_t *k)
{
	uint64_t a, b, y;

	memcpy(&a, k, 8);
	memcpy(&b, k + 8, 8);
	y = ct_fold(b ^ t->seed[1]);
	return ct_fold(a ^ t->seed[0]) ^ ((y >> 32) | (y << 32));
}

/* Range reduction without division (Lemire): the primary bucket from the
 * low half of the hash, the alternate from the high half. The lookup needs
 * the alternate only for the few keys whose primary's filter names them,
 * so the two are separate. */
static inline uint32_t
ct_prim_of(const struct ct_table *t, uint64_t h)
{
	return (uint32_t)(((h & 0xffffffffu) * t->nbuckets) >> 32);
}

static inline uint32_t
ct_alt_of(const struct ct_table *t, uint64_t h, uint32_t prim)
{
	uint32_t a = (uint32_t)(((h >> 32) * t->nbuckets) >> 32);

	if (a == prim)
		a = (prim + 1 == t->nbuckets) ? 0 : prim + 1;
	return a;
}

static inline void
ct_buckets_of(const struct ct_table *t, uint64_t h, uint32_t *prim,
	      uint32_t *alt)
{
	*prim = ct_prim_of(t, h);
	*alt = ct_alt_of(t, h, *prim);
}

/* The key's bit in its primary bucket's alt_bloom: low hash bits, which
 * barely influence the bucket index (taken from the high bits). */
static inline uint32_t
ct_alt_bit(uint64_t h)
{
	return 1u << (h & 31);
}

static inline int
ct_key_eq(const uint8_t *a, const uint8_t *b)
{
	uint64_t a0, a1, b0, b1;

	memcpy(&a0, a, 8);
	memcpy(&a1, a + 8, 8);
	memcpy(&b0, b, 8);
	memcpy(&b1, b + 8, 8);
	return ((a0 ^ b0) | (a1 ^ b1)) == 0;
}

/* A stored record: state IN (01) or OUT (10), not free (00) or vacated (11). */
static inline int
ct_rec_live(uint32_t r)
{
	return (int)((r ^ (r >> 1)) & 1);
}

/* r if cond, else 0, without a branch: which slot holds a key is random,
 * and a mispredicted branch costs more than the arithmetic. */
static inline uint32_t
ct_keep(int cond, uint32_t r)
{
	return r & (0u - (uint32_t)(cond != 0));
}

/* Reader-side scan of one bucket. A record read with acquire means its key
 * bytes are complete and stay as they are until a grace period after the
 * slot is vacated (contract in ctable.h), so the key compare is safe.
 * Branch-free: which slot holds a key is random, and a mispredicted branch
 * on a line still in flight would serialise the burst's memory accesses. */
static inline uint32_t
ct_bucket_find(const struct ct_bucket *b, const uint8_t *k)
{
	uint64_t k0, k1;
	uint32_t found = 0;

	memcpy(&k0, k, 8);
	memcpy(&k1, k + 8, 8);
	for (unsigned s = 0; s < CT_SLOTS; s++) {
		uint32_t r = __atomic_load_n(&b->rec[s], __ATOMIC_ACQUIRE);
		uint64_t s0, s1;

		memcpy(&s0, b->key[s], 8);
		memcpy(&s1, b->key[s] + 8, 8);
		/* Comparing the key of a free or vacated slot is harmless:
		 * its record is discarded below. */
		found |= ct_keep((((s0 ^ k0) | (s1 ^ k1)) == 0) & ct_rec_live(r), r);
	}
	return found;
}

#if defined(__SSE4_1__)
#include <smmintrin.h>

/* The vector scan the bulk lookup uses, in two steps so that a burst's
 * cache misses are all in flight before any key is compared:
 * ct_vec_recs() reads a bucket's three records and alt_bloom with one
 * aligned 16-byte load; ct_vec_match() then compares the keys.
 * Ordering: x86 does not reorder loads with older loads, so keys read after
 * the records (ct_compiler_barrier() in between keeps the compiler from
 * reordering them) are at least as new as the records: the acquire the
 * scalar scan gets from __atomic_load_n. An aligned 16-byte load is made of
 * aligned 4- or 8-byte accesses at worst, so no record is torn. */
#define CT_VEC 1
#define ct_compiler_barrier() __asm__ volatile("" ::: "memory")

static inline __m128i
ct_vec_recs(const struct ct_bucket *b)
{
	return _mm_load_si128((const __m128i *)(const void *)b->rec);
}

static inline uint32_t
ct_vec_alt_bloom(__m128i recs)
{
	return (uint32_t)_mm_extract_epi32(recs, 3);
}

static inline uint32_t
ct_vec_match(const struct ct_bucket *b, __m128i recs, const uint8_t *k)
{
	__m128i key = _mm_loadu_si128((const __m128i *)(const void *)k);
	unsigned m0 = (unsigned)_mm_movemask_epi8(_mm_cmpeq_epi8(
		_mm_load_si128((const __m128i *)(const void *)b->key[0]), key));
	unsigned m1 = (unsigned)_mm_movemask_epi8(_mm_cmpeq_epi8(
		_mm_load_si128((const __m128i *)(const void *)b->key[1]), key));
	unsigned m2 = (unsigned)_mm_movemask_epi8(_mm_cmpeq_epi8(
		_mm_load_si128((const __m128i *)(const void *)b->key[2]), key));
	uint32_t r0 = (uint32_t)_mm_extract_epi32(recs, 0);
	uint32_t r1 = (uint32_t)_mm_extract_epi32(recs, 1);
	uint32_t r2 = (uint32_t)_mm_extract_epi32(recs, 2);

	/* A free or vacated slot may still hold the key's bytes (deleted and
	 * re-inserted elsewhere in the bucket): only a stored record counts. */
	return ct_keep((m0 == 0xffff) & ct_rec_live(r0), r0) |
	       ct_keep((m1 == 0xffff) & ct_rec_live(r1), r1) |
	       ct_keep((m2 == 0xffff) & ct_rec_live(r2), r2);
}
#endif

/* ct_table.c */
int ct_table_alloc(struct ct *h, uint32_t nbuckets, struct ct_table **out);
void ct_table_free(struct ct *h, struct ct_table *t);
uint32_t ct_buckets_for(uint64_t entries);
int ct_table_upsert(struct ct *h, struct ct_table *t, const uint8_t *k,
		    uint32_t rec, struct ct_table *mirror);
int ct_table_delete(struct ct *h, struct ct_table *t, const uint8_t *k);
uint32_t ct_table_get(const struct ct_table *t, const uint8_t *k);
void ct_table_reclaim(struct ct_table *t);
int ct_table_move(struct ct *h, struct ct_table *t, uint32_t from, unsigned s,
		  struct ct_table *mirror);

/* ct_lookup.c: test-only hook, see there. */
extern void (*ct_debug_mid_lookup_hook)(void);
void ct_publish_stats(struct ct *h);

/* ct_build.c */
void ct_maybe_grow(struct ct *h);
int ct_grow_finish(struct ct *h);

#endif
