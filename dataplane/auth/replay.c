/* SPDX-License-Identifier: BSD-3-Clause
 *
 * Replay filter (replay.h has the contract, docs/replay.md the design and
 * the proofs). One table of 16-entry buckets shared by every slot of send
 * time; an entry carries its slot's epoch (slot number mod 64), so entries
 * die with their slot and are overwritten in place, and the memory needed
 * follows the messages actually held, not the slots that could be.
 */
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/random.h>

#include <rte_branch_prediction.h>
#include <rte_common.h>
#include <rte_eal.h>
#include <rte_lcore.h>
#include <rte_malloc.h>

#if defined(__AES__) || defined(__AVX512F__)
#include <immintrin.h>
#endif

#include "replay.h"

#define RP_BUCKET_ENTRIES 16
#define RP_EPOCH_SHIFT 26            /* entry = epoch << 26 | fingerprint */
#define RP_FP_BITS 26
#define RP_EPOCHS 64                 /* epoch values: slot number mod 64 */
#define RP_SPAN 32                   /* live slots: [lo, lo + 31] */
#define RP_TOMB_FP 1u                /* fingerprint of a rolled-back entry */
#define RP_FP_MIN 2u                 /* fingerprints of messages: >= 2 */
/* How far a worker's clock may run ahead of the last tick: the live slots
 * reach now + window + RP_LEAD_MS (slot_ms is chosen for it). */
#define RP_LEAD_MS 1000u
/* Highest load (live entries / positions) the table is sized for, at the
 * peak (capacity * (window + slot) / window live entries): in simulations
 * of this exact placement rule (docs/replay.md) no insert fails at 0.65. */
#define RP_LOAD_PERMILLE 650u
/* The sweep: a pass over the whole table every RP_SWEEP_PASS_SLOTS slots;
 * it clears dead entries at least RP_SWEEP_MIN_AGE slots dead, and the
 * window may advance to lo' only if the last complete pass started at
 * lo' - RP_SWEEP_MAX_LAG or later. Then every entry whose epoch value comes
 * back to life was cleared first (docs/replay.md, "Sweep"):
 * MAX_LAG = EPOCHS - SPAN - MIN_AGE, and 2 * (PASS_SLOTS + 1) + 1 <= MAX_LAG
 * so that a pass on schedule never forces one. */
#define RP_SWEEP_PASS_SLOTS 5u
#define RP_SWEEP_MIN_AGE 19u
#define RP_SWEEP_MAX_LAG (RP_EPOCHS - RP_SPAN - RP_SWEEP_MIN_AGE)
/* Rescans of one attempt after failed CAS (other workers filling the same
 * buckets) before giving up with FULL. */
#define RP_MAX_SCANS 64
#define RP_SHARDS 64
#define RP_LO_UNSET UINT64_MAX
#define RP_HUGE (2ul << 20)
/* tests/unit/test_replay.c compiles this file again with a hook here, to
 * move the window between an attempt's scan and its CAS */
#ifndef RP_TEST_BEFORE_CAS
#define RP_TEST_BEFORE_CAS(r) do { } while (0)
#endif

_Static_assert(RP_SWEEP_MAX_LAG == 13, "sweep lag");
_Static_assert(2 * (RP_SWEEP_PASS_SLOTS + 1) + 1 <= RP_SWEEP_MAX_LAG,
	       "sweep pass too slow for its lag");

enum rp_mem { RP_MEM_RTE, RP_MEM_HUGETLB, RP_MEM_THP };

struct rp_bucket {
	uint32_t e[RP_BUCKET_ENTRIES];
} __rte_aligned(64);

/* Rare outcomes, per thread shard (relaxed atomic adds). */
struct rp_ctr {
	uint64_t seen, full, stale, retries;
} __rte_aligned(64);

struct or_replay {
	/* read-mostly, shared by every check */
#ifdef __AES__
	__m128i k0, k1, k2;
#else
	uint64_t k[4];
#endif
	struct rp_bucket *buckets;
	uint32_t nb;
	uint32_t fp_shift;           /* 64 - fp_bits */
	uint64_t slot_ms;
	uint64_t slot_mul;           /* floor((2^64 - 1) / slot_ms) */
	uint64_t window_ms;
	/* the lowest live slot: written by the tick only */
	uint64_t lo __rte_aligned(64);
	/* published by the tick for stats */
	uint64_t entries_approx, sweep_passes, sweep_cleared, sweep_forced;
	/* tick thread only */
	uint64_t now_max __rte_aligned(64);
	uint64_t cursor;             /* next bucket the sweep visits */
	uint64_t pass_lo;            /* lo when the running pass started */
	uint64_t swept_below;        /* pass_lo of the last complete pass */
	uint64_t pass_live;
	/* immutable */
	uint64_t bytes, map_bytes, capacity;
	void *map;
	enum rp_mem mem;
	unsigned fp_bits;
	struct rp_ctr ctr[RP_SHARDS];
};

/* A message's place in the table. */
struct rp_hash {
	uint32_t b1, b2;
	uint32_t val;
	uint64_t slot;
};

static __thread unsigned rp_shard = UINT_MAX;
static unsigned rp_next_shard;

static inline struct rp_ctr *
rp_ctr_of(struct or_replay *r)
{
	if (unlikely(rp_shard == UINT_MAX))
		rp_shard = __atomic_fetch_add(&rp_next_shard, 1,
					      __ATOMIC_RELAXED) % RP_SHARDS;
	return &r->ctr[rp_shard];
}

static inline int
rp_count(uint64_t *c, int res)
{
	__atomic_fetch_add(c, 1, __ATOMIC_RELAXED);
	return res;
}

static inline uint64_t
rp_slot_of(const struct or_replay *r, uint64_t t)
{
	uint64_t q = (uint64_t)(((unsigned __int128)t * r->slot_mul) >> 64);

	/* slot_mul is floor(2^64 / L) or one less: q is exact or one short */
	if (t - q * r->slot_ms >= r->slot_ms)
		q++;
	return q;
}

static inline uint32_t
rp_range(uint32_t x, uint32_t n)
{
	return (uint32_t)(((uint64_t)x * n) >> 32);
}

#ifndef __AES__
static inline uint64_t
rp_mum(uint64_t a, uint64_t b)
{
	unsigned __int128 p = (unsigned __int128)a * b;

	return (uint64_t)p ^ (uint64_t)(p >> 64);
}
#endif

/* 128 bits of a keyed permutation of (tag, send_time): two AES rounds give
 * every output bit a dependence on every input bit. */
static inline void
rp_hash(const struct or_replay *r, uint64_t st, uint64_t tag,
	struct rp_hash *h)
{
	uint64_t lo, hi;
	uint32_t fp;

#ifdef __AES__
	__m128i x = _mm_set_epi64x((long long)st, (long long)tag);

	x = _mm_aesenc_si128(_mm_xor_si128(x, r->k0), r->k1);
	x = _mm_aesenc_si128(x, r->k2);
	lo = (uint64_t)_mm_cvtsi128_si64(x);
	hi = (uint64_t)_mm_cvtsi128_si64(_mm_unpackhi_epi64(x, x));
#else
	lo = rp_mum(tag ^ r->k[0], st ^ r->k[1]);
	hi = rp_mum(lo ^ r->k[2], (tag ^ r->k[3]) | 1);
	lo ^= hi >> 29;
#endif
	h->slot = rp_slot_of(r, st);
	h->b1 = rp_range((uint32_t)lo, r->nb);
	h->b2 = rp_range((uint32_t)(lo >> 32), r->nb);
	if (h->b2 == h->b1)
		h->b2 = h->b1 + 1 == r->nb ? 0 : h->b1 + 1;
	fp = (uint32_t)(hi >> r->fp_shift);
	if (fp < RP_FP_MIN)
		fp += RP_FP_MIN;
	h->val = (uint32_t)(h->slot % RP_EPOCHS) << RP_EPOCH_SHIFT | fp;
}

/* Free under lo: 0, or an epoch outside [lo, lo + 31] mod 64. */
static inline int
rp_free(uint32_t v, unsigned lo_ep)
{
	return v == 0 || (((v >> RP_EPOCH_SHIFT) - lo_ep) & RP_SPAN) != 0;
}

/* One pass over both buckets: does val occur, and which entries are free. */
static inline int
rp_scan(const uint32_t *e1, const uint32_t *e2, uint32_t val, unsigned lo_ep,
	uint32_t *free1, uint32_t *free2)
{
#ifdef __AVX512F__
	__m512i v1 = _mm512_load_si512((const void *)e1);
	__m512i v2 = _mm512_load_si512((const void *)e2);
	__m512i k = _mm512_set1_epi32((int)val);
	__m512i ep = _mm512_set1_epi32((int)lo_ep);
	__m512i half = _mm512_set1_epi32(RP_SPAN);

	if ((_mm512_cmpeq_epi32_mask(v1, k) | _mm512_cmpeq_epi32_mask(v2, k)) != 0)
		return 1;
	*free1 = _mm512_testn_epi32_mask(v1, v1) | _mm512_test_epi32_mask(
		_mm512_sub_epi32(_mm512_srli_epi32(v1, RP_EPOCH_SHIFT), ep), half);
	*free2 = _mm512_testn_epi32_mask(v2, v2) | _mm512_test_epi32_mask(
		_mm512_sub_epi32(_mm512_srli_epi32(v2, RP_EPOCH_SHIFT), ep), half);
	return 0;
#else
	uint32_t f1 = 0, f2 = 0;
	int hit = 0;

	for (unsigned j = 0; j < RP_BUCKET_ENTRIES; j++) {
		uint32_t a = __atomic_load_n(&e1[j], __ATOMIC_RELAXED);
		uint32_t b = __atomic_load_n(&e2[j], __ATOMIC_RELAXED);

		hit |= (a == val) | (b == val);
		f1 |= (uint32_t)rp_free(a, lo_ep) << j;
		f2 |= (uint32_t)rp_free(b, lo_ep) << j;
	}
	*free1 = f1;
	*free2 = f2;
	return hit;
#endif
}

/* The check of a hashed message. Each attempt reads lo, scans, claims the
 * first free entry in the fixed order b1[0], b2[0], b1[1], b2[1], ... with a
 * CAS, and re-reads lo: unchanged, the claim stands (NEW); changed, the
 * attempt may have raced a check that saw other entries free or live, so
 * its entry becomes a tombstone and it starts again. */
static int
rp_check_hashed(struct or_replay *r, const struct rp_hash *h, uint64_t st,
		uint64_t now)
{
	uint32_t *e1 = r->buckets[h->b1].e, *e2 = r->buckets[h->b2].e;

	if (st + r->window_ms < now || st > now + r->window_ms)
		return rp_count(&rp_ctr_of(r)->stale, OR_REPLAY_STALE);
	for (unsigned att = 0; att < OR_REPLAY_ATTEMPTS; att++) {
		uint64_t lo = __atomic_load_n(&r->lo, __ATOMIC_SEQ_CST);
		unsigned lo_ep = (unsigned)(lo % RP_EPOCHS);
		unsigned scans = 0;

		if (lo == RP_LO_UNSET || h->slot < lo || h->slot >= lo + RP_SPAN)
			return rp_count(&rp_ctr_of(r)->stale, OR_REPLAY_STALE);
		for (;;) {
			uint32_t f1, f2, v, *p;
			unsigned j1, j2;

			if (rp_scan(e1, e2, h->val, lo_ep, &f1, &f2))
				return rp_count(&rp_ctr_of(r)->seen, OR_REPLAY_SEEN);
			if ((f1 | f2) == 0) {
				/* the scan's loads before the second read of lo */
				__atomic_thread_fence(__ATOMIC_ACQUIRE);
				if (__atomic_load_n(&r->lo, __ATOMIC_SEQ_CST) == lo)
					return rp_count(&rp_ctr_of(r)->full,
							OR_REPLAY_FULL);
				break;
			}
			j1 = f1 ? (unsigned)__builtin_ctz(f1) : RP_BUCKET_ENTRIES;
			j2 = f2 ? (unsigned)__builtin_ctz(f2) : RP_BUCKET_ENTRIES;
			p = j1 <= j2 ? &e1[j1] : &e2[j2];
			/* The entry may have changed since the scan: between free
			 * values only (the sweep writes 0) or to a live one. */
			RP_TEST_BEFORE_CAS(r);
			v = __atomic_load_n(p, __ATOMIC_RELAXED);
			if (rp_free(v, lo_ep) &&
			    __atomic_compare_exchange_n(p, &v, h->val, 0,
							__ATOMIC_SEQ_CST,
							__ATOMIC_RELAXED)) {
				if (__atomic_load_n(&r->lo, __ATOMIC_SEQ_CST) == lo)
					return OR_REPLAY_NEW;
				v = h->val;
				(void)__atomic_compare_exchange_n(p, &v,
					(h->val & ~((1u << RP_EPOCH_SHIFT) - 1)) | RP_TOMB_FP,
					0, __ATOMIC_SEQ_CST, __ATOMIC_RELAXED);
				__atomic_fetch_add(&rp_ctr_of(r)->retries, 1,
						   __ATOMIC_RELAXED);
				break;
			}
			if (++scans == RP_MAX_SCANS)
				return rp_count(&rp_ctr_of(r)->full, OR_REPLAY_FULL);
		}
	}
	return rp_count(&rp_ctr_of(r)->full, OR_REPLAY_FULL);
}

static inline void
rp_prefetch_hashed(const struct or_replay *r, const struct rp_hash *h)
{
	__builtin_prefetch(&r->buckets[h->b1], 1, 3);
	__builtin_prefetch(&r->buckets[h->b2], 1, 3);
}

int
or_replay_check(struct or_replay *r, uint64_t send_time_ms, uint64_t tag,
		uint64_t now_ms)
{
	struct rp_hash h;

	rp_hash(r, send_time_ms, tag, &h);
	return rp_check_hashed(r, &h, send_time_ms, now_ms);
}

void
or_replay_check_burst(struct or_replay *r, unsigned n,
		      const uint64_t *send_time_ms, const uint64_t *tag,
		      uint64_t now_ms, uint8_t *res)
{
	struct rp_hash h[OR_REPLAY_BURST_MAX];

	/* longer bursts in pieces: the same answers, less overlap */
	while (n > OR_REPLAY_BURST_MAX) {
		or_replay_check_burst(r, OR_REPLAY_BURST_MAX, send_time_ms, tag,
				      now_ms, res);
		n -= OR_REPLAY_BURST_MAX;
		send_time_ms += OR_REPLAY_BURST_MAX;
		tag += OR_REPLAY_BURST_MAX;
		res += OR_REPLAY_BURST_MAX;
	}
	for (unsigned i = 0; i < n; i++) {
		rp_hash(r, send_time_ms[i], tag[i], &h[i]);
		rp_prefetch_hashed(r, &h[i]);
	}
	for (unsigned i = 0; i < n; i++)
		res[i] = (uint8_t)rp_check_hashed(r, &h[i], send_time_ms[i],
						  now_ms);
}

void
or_replay_prefetch(const struct or_replay *r, uint64_t send_time_ms,
		   uint64_t tag)
{
	struct rp_hash h;

	rp_hash(r, send_time_ms, tag, &h);
	rp_prefetch_hashed(r, &h);
}

/* ---------------------------------------------------------------- tick -- */

/* Entries of bucket b to clear under lo (dead at least RP_SWEEP_MIN_AGE
 * slots: (lo - 1 - slot) mod 64 >= MIN_AGE), and how many are live. */
static inline uint32_t
rp_sweep_mask(const struct rp_bucket *b, unsigned lo_ep, unsigned *live)
{
#ifdef __AVX512F__
	__m512i v = _mm512_load_si512((const void *)b->e);
	__m512i ep = _mm512_srli_epi32(v, RP_EPOCH_SHIFT);
	__mmask16 nz = _mm512_test_epi32_mask(v, v);
	__mmask16 dead = _mm512_test_epi32_mask(
		_mm512_sub_epi32(ep, _mm512_set1_epi32((int)lo_ep)),
		_mm512_set1_epi32(RP_SPAN));
	__m512i age = _mm512_and_si512(
		_mm512_sub_epi32(_mm512_set1_epi32((int)lo_ep - 1), ep),
		_mm512_set1_epi32(RP_EPOCHS - 1));
	__mmask16 old = _mm512_cmpge_epu32_mask(
		age, _mm512_set1_epi32(RP_SWEEP_MIN_AGE));

	*live = (unsigned)__builtin_popcount(nz & ~dead);
	return nz & dead & old;
#else
	uint32_t clear = 0;

	*live = 0;
	for (unsigned j = 0; j < RP_BUCKET_ENTRIES; j++) {
		uint32_t v = __atomic_load_n(&b->e[j], __ATOMIC_RELAXED);
		unsigned ep = v >> RP_EPOCH_SHIFT;

		if (v == 0)
			continue;
		if (!rp_free(v, lo_ep))
			(*live)++;
		else if (((lo_ep - 1 - ep) % RP_EPOCHS) >= RP_SWEEP_MIN_AGE)
			clear |= 1u << j;
	}
	return clear;
#endif
}

/* Sweeps one bucket under lo: clears dead entries at least
 * RP_SWEEP_MIN_AGE slots dead, counts live ones. */
static void
rp_sweep_bucket(struct or_replay *r, struct rp_bucket *b, uint64_t lo)
{
	unsigned lo_ep = (unsigned)(lo % RP_EPOCHS), live;
	uint32_t clear = rp_sweep_mask(b, lo_ep, &live);

	r->pass_live += live;
	while (clear != 0) {
		unsigned j = (unsigned)__builtin_ctz(clear);
		uint32_t v = __atomic_load_n(&b->e[j], __ATOMIC_RELAXED);

		clear &= clear - 1;
		/* a worker may have taken it meanwhile: then it stays */
		if (rp_free(v, lo_ep) && v != 0 &&
		    __atomic_compare_exchange_n(&b->e[j], &v, 0, 0,
						__ATOMIC_SEQ_CST, __ATOMIC_RELAXED))
			__atomic_store_n(&r->sweep_cleared, r->sweep_cleared + 1,
					 __ATOMIC_RELAXED);
	}
}

static void
rp_sweep(struct or_replay *r, uint64_t nbuckets)
{
	uint64_t lo = r->lo;

	for (uint64_t n = 0; n < nbuckets; n++) {
		rp_sweep_bucket(r, &r->buckets[r->cursor], lo);
		if (++r->cursor < r->nb)
			continue;
		r->cursor = 0;
		r->swept_below = r->pass_lo;
		r->pass_lo = lo;
		__atomic_store_n(&r->entries_approx, r->pass_live, __ATOMIC_RELAXED);
		__atomic_store_n(&r->sweep_passes, r->sweep_passes + 1,
				 __ATOMIC_RELAXED);
		r->pass_live = 0;
	}
}

/* The tick fell behind (a stall, a clock that jumped): make the window's
 * next step safe now. Finishing the running pass is enough if it started
 * late enough; else one whole pass from here. */
static void
rp_sweep_force(struct or_replay *r, uint64_t next)
{
	__atomic_store_n(&r->sweep_forced, r->sweep_forced + 1, __ATOMIC_RELAXED);
	if (r->cursor != 0)
		rp_sweep(r, r->nb - r->cursor);
	if (r->swept_below + RP_SWEEP_MAX_LAG < next)
		rp_sweep(r, r->nb);
}

void
or_replay_tick(struct or_replay *r, uint64_t now_ms)
{
	uint64_t target, elapsed = 0, budget;

	/* never backwards: the window of the latest clock is kept */
	if (r->lo == RP_LO_UNSET) {
		r->now_max = now_ms;
	} else if (now_ms > r->now_max) {
		elapsed = now_ms - r->now_max;
		r->now_max = now_ms;
	}
	target = r->now_max >= r->window_ms ?
		(r->now_max - r->window_ms) / r->slot_ms : 0;
	if (r->lo == RP_LO_UNSET) {
		/* an all-zero table: every pass is as good as done */
		r->pass_lo = r->swept_below = target;
		__atomic_store_n(&r->lo, target, __ATOMIC_SEQ_CST);
		return;
	}
	while (r->lo < target) {
		uint64_t next = r->lo + 1;

		if (r->swept_below + RP_SWEEP_MAX_LAG < next)
			rp_sweep_force(r, next);
		__atomic_store_n(&r->lo, next, __ATOMIC_SEQ_CST);
	}
	/* a pass every RP_SWEEP_PASS_SLOTS slots of elapsed time */
	if (elapsed > RP_SWEEP_PASS_SLOTS * r->slot_ms)
		elapsed = RP_SWEEP_PASS_SLOTS * r->slot_ms;
	budget = (uint64_t)(((unsigned __int128)r->nb * elapsed +
			     RP_SWEEP_PASS_SLOTS * r->slot_ms - 1) /
			    (RP_SWEEP_PASS_SLOTS * r->slot_ms));
	rp_sweep(r, budget);
}

/* ------------------------------------------------------ create, free -- */

static void *
rp_mem_alloc(struct or_replay *r, int socket_id)
{
	size_t len = RTE_ALIGN_CEIL(r->bytes, RP_HUGE);
	uint8_t *p;

	/* rte_lcore_count() is 0 until rte_eal_init() has run */
	if (rte_lcore_count() > 0 && rte_eal_has_hugepages()) {
		p = rte_zmalloc_socket("or_replay", r->bytes, 64, socket_id);
		if (p != NULL) {
			r->mem = RP_MEM_RTE;
			return p;
		}
	}
	/* reserved hugepages without EAL: refused at once if too few */
	p = mmap(NULL, len, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS | MAP_HUGETLB | MAP_POPULATE, -1, 0);
	if (p != MAP_FAILED) {
		r->mem = RP_MEM_HUGETLB;
		r->map = p;
		r->map_bytes = len;
		return p;
	}
	/* transparent hugepages: a 2 MiB aligned range, faulted in now so
	 * that no worker takes a page fault */
	p = mmap(NULL, len + RP_HUGE, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (p == MAP_FAILED)
		return NULL;
	r->mem = RP_MEM_THP;
	r->map = p;
	r->map_bytes = len + RP_HUGE;
	p = (uint8_t *)RTE_ALIGN_CEIL((uintptr_t)p, RP_HUGE);
	(void)madvise(p, len, MADV_HUGEPAGE);
	for (size_t off = 0; off < len; off += 4096)
		__atomic_store_n(&p[off], 0, __ATOMIC_RELAXED);
	return p;
}

int
or_replay_create(const struct or_replay_params *p, struct or_replay **out)
{
	uint64_t window, slot, held, nb;
	struct or_replay *r;
	uint64_t seed[6];
	unsigned fp_bits;

	if (p == NULL || out == NULL || p->capacity == 0 ||
	    p->capacity > (1ull << 40) || p->window_ms == 0 ||
	    p->window_ms > 86400000u || p->fp_bits == 1 ||
	    p->fp_bits > RP_FP_BITS)
		return -EINVAL;
	fp_bits = p->fp_bits ? p->fp_bits : RP_FP_BITS;
	window = p->window_ms;
	/* slots [lo, lo + 31] reach now + window + lead (replay.h) */
	slot = (2 * window + RP_LEAD_MS + RP_SPAN - 3) / (RP_SPAN - 2);
	held = (uint64_t)(((unsigned __int128)p->capacity * (window + slot) +
			   window - 1) / window);
	nb = (held * 1000 + (uint64_t)RP_BUCKET_ENTRIES * RP_LOAD_PERMILLE - 1) /
		((uint64_t)RP_BUCKET_ENTRIES * RP_LOAD_PERMILLE);
	if (nb < 2)
		nb = 2;
	if (nb > UINT32_MAX)
		return -EINVAL;
	r = aligned_alloc(64, sizeof(*r));
	if (r == NULL)
		return -ENOMEM;
	memset(r, 0, sizeof(*r));
	if (getrandom(seed, sizeof(seed), 0) != sizeof(seed)) {
		/* never run with a guessable seed */
		free(r);
		return -EIO;
	}
#ifdef __AES__
	r->k0 = _mm_set_epi64x((long long)seed[0], (long long)seed[1]);
	r->k1 = _mm_set_epi64x((long long)seed[2], (long long)seed[3]);
	r->k2 = _mm_set_epi64x((long long)seed[4], (long long)seed[5]);
#else
	memcpy(r->k, seed, sizeof(r->k));
#endif
	memset(seed, 0, sizeof(seed));
	r->nb = (uint32_t)nb;
	r->fp_bits = fp_bits;
	r->fp_shift = 64 - fp_bits;
	r->slot_ms = slot;
	r->slot_mul = UINT64_MAX / slot;
	r->window_ms = window;
	r->capacity = p->capacity;
	r->bytes = nb * sizeof(struct rp_bucket);
	r->lo = RP_LO_UNSET;
	r->buckets = rp_mem_alloc(r, p->socket_id);
	if (r->buckets == NULL) {
		free(r);
		return -ENOMEM;
	}
	*out = r;
	return 0;
}

void
or_replay_free(struct or_replay *r)
{
	if (r == NULL)
		return;
	if (r->mem == RP_MEM_RTE)
		rte_free(r->buckets);
	else
		munmap(r->map, r->map_bytes);
	free(r);
}

void
or_replay_stats(const struct or_replay *r, struct or_replay_stats *s)
{
	static const char *const mem[] = {
		[RP_MEM_RTE] = "rte_malloc", [RP_MEM_HUGETLB] = "hugetlb",
		[RP_MEM_THP] = "thp",
	};
	uint64_t lo = __atomic_load_n(&r->lo, __ATOMIC_RELAXED);

	memset(s, 0, sizeof(*s));
	s->bytes = r->bytes;
	s->capacity = r->capacity;
	s->entries = (uint64_t)r->nb * RP_BUCKET_ENTRIES;
	s->entries_approx = __atomic_load_n(&r->entries_approx, __ATOMIC_RELAXED);
	s->window_ms = r->window_ms;
	s->slot_ms = r->slot_ms;
	s->lo_slot = lo == RP_LO_UNSET ? 0 : lo;
	for (unsigned i = 0; i < RP_SHARDS; i++) {
		const struct rp_ctr *c = &r->ctr[i];

		s->seen += __atomic_load_n(&c->seen, __ATOMIC_RELAXED);
		s->full += __atomic_load_n(&c->full, __ATOMIC_RELAXED);
		s->stale += __atomic_load_n(&c->stale, __ATOMIC_RELAXED);
		s->retries += __atomic_load_n(&c->retries, __ATOMIC_RELAXED);
	}
	s->sweep_passes = __atomic_load_n(&r->sweep_passes, __ATOMIC_RELAXED);
	s->sweep_cleared = __atomic_load_n(&r->sweep_cleared, __ATOMIC_RELAXED);
	s->sweep_forced = __atomic_load_n(&r->sweep_forced, __ATOMIC_RELAXED);
	s->fp_bits = r->fp_bits;
	s->memory = mem[r->mem];
}
