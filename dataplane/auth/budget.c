/* SPDX-License-Identifier: BSD-3-Clause
 *
 * Enumeration budget: a table of per-sender token buckets shared by all
 * workers. The concurrency contract and the guarantees (B1..B4) are stated
 * once, in budget.h; comments here say how a step keeps them. Design and
 * defaults: docs/budget.md.
 *
 * A bucket is kept as one time, "full_at": the instant it will be full
 * again (the GCRA form of a token bucket). With T ticks per permit, a
 * sender's debt at now is max(0, full_at - now) and its permits are
 * burst - debt / T (fixed point with a resolution of one tick in T);
 * a charge is full_at = max(full_at, now) + T, so one 64-bit word holds a
 * whole bucket and a charge is one compare-and-swap. Over budget means
 * fewer than one permit: debt > (burst - 1) * T. An untracked sender has
 * no debt: tracking a sender whose debt is 0 is pointless, so its slot is
 * reused for free.
 *
 * Table: 128-byte buckets of 5 slots; each sender has a primary and an
 * alternate bucket (seeded hash) and is placed once, in whichever had more
 * free slots, and never moves. A bucket counts, per group of keys, its
 * keys placed in their alternate bucket (alt[]), so that a lookup reads
 * the alternate bucket only when its key's group count is not zero.
 *
 * Hints: almost every MSG comes from a sender that is not over budget, and
 * reading its 128-byte bucket from a table of tens of megabytes costs a
 * cache miss per MSG. So a small array (32 KiB at most, on one hugepage
 * with OR_BUDGET_F_RTE_MALLOC: it stays in the L2 cache and the TLB while
 * the consent table's lookups stream through both) holds, per hash of the
 * sender, the time until which some sender of that hash may be over
 * budget. or_budget_over reads the bucket only while that time is ahead;
 * a charge that leaves its sender over budget raises it (atomic max)
 * before it publishes the bucket word, so a hint never hides an over
 * bucket (B1). A hint is never lowered: it
 * lapses by itself when its time passes, so nothing ever clears it (an
 * eviction leaves a hint that merely sends a few lookups to the table).
 */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/random.h>

#include <rte_malloc.h>
#include <rte_pause.h>
#include <rte_prefetch.h>

#include "budget.h"

#define BG_SLOTS 5
#define BG_GROUPS 7
#define BG_BUCKET_BYTES 128
/* Sizing: capacity senders fill 4 of 5 slots on average; with each sender
 * placed in the emptier of two buckets, about 0.5 % of them then find both
 * full (docs/budget.md). */
#define BG_SENDERS_PER_BUCKET 4
#define BG_MIN_BUCKETS 2
#define BG_ALT_MAX 255 /* an alt[] count never wraps: placement refuses */
#define BG_STRIPES 16  /* charge counters, so workers rarely share a line */
#define BG_CACHE_LINE 64

/* Time unit of the table: 1/16 ms, so that T = 57 600 000 / refill_per_hour
 * ticks is exact for most rates (6, 10, 12, 15, 20, 60 ... per hour) and
 * within 0.05 % for any rate up to 57 600 per hour. */
#define BG_TICKS_PER_MS 16ull
#define BG_TICKS_PER_HOUR (3600000ull * BG_TICKS_PER_MS)

/* Hints: entries (a power of two, at most 8 Ki: 32 KiB) and their time
 * unit, 2^14 ticks = 1.024 s, kept modulo 2^32 (2^47 ticks are 2^33 units,
 * so the units wrap with the ticks) and compared by signed difference: a
 * hint older than 2^31 units (69 years) may look ahead again, which costs
 * a table lookup, never a wrong answer. */
#define BG_HINTS_MAX 8192u
#define BG_HINT_SHIFT 14

/* A slot's word: full_at (47 bits of ticks, modulo 2^47: 278 years; times
 * are compared by signed difference), a live bit and a 16-bit generation
 * bumped whenever the slot gets another key. A word that is not live is
 * an empty slot (never used, or being given to another key). */
#define BG_GEN_MASK 0xffffull
#define BG_LIVE (1ull << 16)
#define BG_ID_MASK (BG_GEN_MASK | BG_LIVE)
#define BG_TIME_SHIFT 17
#define BG_TIME_BITS 47
#define BG_TIME_MASK ((1ull << BG_TIME_BITS) - 1)

/* Line 0: the words, the lock, the alt counts and the first key, so a
 * lookup in an empty bucket, or one that finds its key in slot 0, reads
 * one line. */
struct bg_bucket {
	uint64_t word[BG_SLOTS];
	uint8_t lock;
	uint8_t alt[BG_GROUPS];
	uint64_t key[BG_SLOTS][2];
} __attribute__((aligned(BG_BUCKET_BYTES)));

_Static_assert(sizeof(struct bg_bucket) == BG_BUCKET_BYTES, "two lines");

struct bg_counter {
	uint64_t v;
} __attribute__((aligned(BG_CACHE_LINE)));

struct or_budget {
	/* Read-only after creation. */
	struct bg_bucket *buckets;
	uint32_t nbuckets;
	/* Over-until per sender hash (hint units); raised by charges (atomic
	 * max, before the word they publish), read by every or_budget_over;
	 * never lowered. */
	uint32_t *hints;
	uint32_t hint_mask;
	uint32_t burst;
	uint64_t seed[2];
	uint64_t interval; /* T: ticks per permit */
	uint64_t tol;      /* (burst - 1) * T: over budget beyond this debt */
	uint64_t depth;    /* burst * T: debt of an empty bucket */
	uint64_t max_debt; /* (burst + OR_BUDGET_MAX_OVERDRAW) * T */
	uint64_t bytes;
	bool from_rte;
	bool hints_from_rte;
	/* Statistics: relaxed atomic adds, each on a line of its own. */
	struct bg_counter charged[BG_STRIPES];
	struct bg_counter evicted;
	struct bg_counter recycled;
};

/* Where a key may be. */
struct bg_where {
	uint64_t k0, k1; /* the token, as two words */
	uint32_t prim, alt;
	unsigned group;  /* its alt[] counter in its primary bucket */
	uint32_t hint;   /* its entry in hints[] */
};

/* murmur3's finalizer: a bijection whose every output bit depends on
 * every input bit. */
static inline uint64_t
bg_mix(uint64_t x)
{
	x ^= x >> 33;
	x *= 0xff51afd7ed558ccdull;
	x ^= x >> 33;
	x *= 0xc4ceb9fe1a85ec53ull;
	x ^= x >> 33;
	return x;
}

/* Tokens are keyed BLAKE2b outputs, but placement still depends on a
 * per-process secret seed, so that nobody can aim senders at one bucket
 * (and evict a chosen sender) even knowing many tokens. */
static inline uint64_t
bg_hash(const struct or_budget *b, const struct or_token *k)
{
	uint64_t k0, k1;

	memcpy(&k0, k->b, 8);
	memcpy(&k1, k->b + 8, 8);
	return bg_mix(bg_mix(k0 ^ b->seed[0]) ^ k1 ^ b->seed[1]);
}

/* Where the key k of hash h (bg_hash) may be; k may be NULL for the
 * buckets alone. */
static inline void
bg_where_of(const struct or_budget *b, const struct or_token *k, uint64_t h,
	    struct bg_where *wh)
{
	wh->k0 = 0;
	wh->k1 = 0;
	if (k != NULL) {
		memcpy(&wh->k0, k->b, 8);
		memcpy(&wh->k1, k->b + 8, 8);
	}
	/* Range reduction without division (Lemire), from both halves. */
	wh->prim = (uint32_t)(((h & 0xffffffffu) * b->nbuckets) >> 32);
	wh->alt = (uint32_t)(((h >> 32) * b->nbuckets) >> 32);
	if (wh->alt == wh->prim)
		wh->alt = wh->prim + 1 == b->nbuckets ? 0 : wh->prim + 1;
	/* Keys of one primary bucket share the top bits of the low half but
	 * not these, so the groups split them. */
	wh->group = (unsigned)((((h >> 32) & 0xffffu) * BG_GROUPS) >> 16);
	/* Bits neither range reduction leans on most. */
	wh->hint = (uint32_t)(h >> 16) & b->hint_mask;
}

static inline void
bg_locate(const struct or_budget *b, const struct or_token *k,
	  struct bg_where *wh)
{
	bg_where_of(b, k, bg_hash(b, k), wh);
}

static inline uint64_t
bg_ticks(uint64_t now_ms)
{
	return (now_ms * BG_TICKS_PER_MS) & BG_TIME_MASK;
}

/* The hint unit of a tick time, modulo 2^32, rounded down or up. */
static inline uint32_t
bg_hint_unit(uint64_t ticks)
{
	return (uint32_t)(ticks >> BG_HINT_SHIFT);
}

static inline uint32_t
bg_hint_unit_up(uint64_t ticks)
{
	return (uint32_t)((ticks + (1ull << BG_HINT_SHIFT) - 1) >> BG_HINT_SHIFT);
}

static inline int32_t
bg_hint_diff(uint32_t a, uint32_t b)
{
	return (int32_t)(a - b);
}

/* a - b for 47-bit times, as a signed number. */
static inline int64_t
bg_diff(uint64_t a, uint64_t b)
{
	return (int64_t)((a - b) << (64 - BG_TIME_BITS)) >> (64 - BG_TIME_BITS);
}

static inline uint64_t
bg_word(uint64_t time, uint64_t id)
{
	return ((time & BG_TIME_MASK) << BG_TIME_SHIFT) | (id & BG_ID_MASK);
}

/* Ticks until the bucket is full again; 0 for a refilled or empty slot. */
static inline uint64_t
bg_debt(uint64_t w, uint64_t now)
{
	int64_t d;

	if (!(w & BG_LIVE))
		return 0;
	d = bg_diff(w >> BG_TIME_SHIFT, now);
	return d > 0 ? (uint64_t)d : 0;
}

/* The word after one more charge: one permit more debt, capped (B4). */
static inline uint64_t
bg_charged(const struct or_budget *b, uint64_t w, uint64_t now)
{
	uint64_t debt = bg_debt(w, now) + b->interval;

	if (debt > b->max_debt)
		debt = b->max_debt;
	return bg_word(now + debt, w);
}

/* Looks the key up in one bucket: the slot and its word, or -1. The word
 * is read before and after the key (a seqlock-like check that never
 * waits): a slot that got another key meanwhile changed its generation or
 * lost its live bit, and is skipped, as if the lookup had come after the
 * change. Key words are atomic loads: a placement may be writing them. */
static inline int
bg_find_in(const struct bg_bucket *bk, const struct bg_where *wh,
	   uint64_t *wout)
{
	for (unsigned s = 0; s < BG_SLOTS; s++) {
		uint64_t w1 = __atomic_load_n(&bk->word[s], __ATOMIC_ACQUIRE);
		uint64_t w2;

		if (!(w1 & BG_LIVE))
			continue;
		if (__atomic_load_n(&bk->key[s][0], __ATOMIC_RELAXED) != wh->k0 ||
		    __atomic_load_n(&bk->key[s][1], __ATOMIC_RELAXED) != wh->k1)
			continue;
		/* Pairs with the release fence of bg_place: if the key read
		 * saw a placement's bytes, w2 sees its non-live word. */
		__atomic_thread_fence(__ATOMIC_ACQUIRE);
		w2 = __atomic_load_n(&bk->word[s], __ATOMIC_RELAXED);
		if ((w2 & BG_ID_MASK) != (w1 & BG_ID_MASK))
			continue;
		*wout = w2;
		return (int)s;
	}
	return -1;
}

/* The key's slot (bucket index, slot, word) or -1. A key placed in its
 * alternate bucket counted itself in its primary's alt[group] before it
 * became live there, and uncounts itself only after it stopped being live,
 * so a zero count means it is not there (B2). */
static inline int
bg_lookup(const struct or_budget *b, const struct bg_where *wh, uint32_t *bi,
	  uint64_t *w)
{
	const struct bg_bucket *p = &b->buckets[wh->prim];
	int s = bg_find_in(p, wh, w);

	if (s >= 0) {
		*bi = wh->prim;
		return s;
	}
	if (__atomic_load_n(&p->alt[wh->group], __ATOMIC_RELAXED) == 0)
		return -1;
	s = bg_find_in(&b->buckets[wh->alt], wh, w);
	if (s >= 0)
		*bi = wh->alt;
	return s;
}

/* The hint entry of a hash (as bg_where_of computes it). */
static inline uint32_t
bg_hint_of(const struct or_budget *b, uint64_t h)
{
	return (uint32_t)(h >> 16) & b->hint_mask;
}

int
or_budget_over_at(const struct or_budget *b, const struct or_token *sender,
		  uint64_t hash, uint64_t now_ms)
{
	struct bg_where wh;
	uint32_t bi;
	uint64_t w;

	uint64_t now = bg_ticks(now_ms);

	/* No sender of this hash can be over budget now: the table is not
	 * read (the common case; the hint lapsed or was never raised). */
	if (bg_hint_diff(__atomic_load_n(&b->hints[bg_hint_of(b, hash)],
					 __ATOMIC_RELAXED),
			 bg_hint_unit(now)) <= 0)
		return 0;
	bg_where_of(b, sender, hash, &wh);
	if (bg_lookup(b, &wh, &bi, &w) < 0)
		return 0; /* untracked: a full bucket */
	return bg_debt(w, now) > b->tol;
}

int
or_budget_over(const struct or_budget *b, const struct or_token *sender,
	       uint64_t now_ms)
{
	return or_budget_over_at(b, sender, bg_hash(b, sender), now_ms);
}

void
or_budget_prefetch_burst(const struct or_budget *b,
			 const struct or_token *const *senders, unsigned n,
			 uint64_t *hash)
{
	/* The hints only: the bucket is read for the few senders whose hint
	 * is ahead (over budget or sharing a hash with one). */
	for (unsigned i = 0; i < n; i++) {
		hash[i] = bg_hash(b, senders[i]);
		rte_prefetch0(&b->hints[bg_hint_of(b, hash[i])]);
	}
}

uint64_t
or_budget_prefetch(const struct or_budget *b, const struct or_token *sender)
{
	uint64_t h;

	or_budget_prefetch_burst(b, &sender, 1, &h);
	return h;
}

void
or_budget_prefetch_charge_at(const struct or_budget *b, uint64_t hash)
{
	struct bg_where wh;
	const struct bg_bucket *p, *a;

	/* A charge looks the sender up in its primary bucket (both lines:
	 * words and slot 0's key, then the other keys), and a first charge
	 * (the usual case) also reads the alternate's words (line 0) to
	 * choose where to place it. The alternate's keys are read only when
	 * the key is there or its slot goes to it: left to the charge, which
	 * saves a miss buffer per bounce. */
	bg_where_of(b, NULL, hash, &wh);
	p = &b->buckets[wh.prim];
	a = &b->buckets[wh.alt];
	rte_prefetch0(p);
	rte_prefetch0((const uint8_t *)p + BG_CACHE_LINE);
	rte_prefetch0(a);
}

void
or_budget_prefetch_charge(const struct or_budget *b,
			  const struct or_token *sender)
{
	or_budget_prefetch_charge_at(b, bg_hash(b, sender));
}

int64_t
or_budget_permits(const struct or_budget *b, const struct or_token *sender,
		  uint64_t now_ms)
{
	struct bg_where wh;
	uint32_t bi;
	uint64_t w = 0;
	int64_t left;

	bg_locate(b, sender, &wh);
	if (bg_lookup(b, &wh, &bi, &w) < 0)
		w = 0;
	/* (depth - debt) ticks of permits; * 1000 / T, rounded down. */
	left = (int64_t)b->depth - (int64_t)bg_debt(w, bg_ticks(now_ms));
	if (left >= 0)
		return left * 1000 / (int64_t)b->interval;
	return -((-left * 1000 + (int64_t)b->interval - 1) /
		 (int64_t)b->interval);
}

/* ------------------------------------------------------------ writers --- */

static inline void
bg_lock(struct bg_bucket *bk)
{
	while (__atomic_exchange_n(&bk->lock, 1, __ATOMIC_ACQUIRE))
		while (__atomic_load_n(&bk->lock, __ATOMIC_RELAXED))
			rte_pause();
}

static inline void
bg_unlock(struct bg_bucket *bk)
{
	__atomic_store_n(&bk->lock, 0, __ATOMIC_RELEASE);
}

/* hints[i] = max(hints[i], `until` in hint units rounded up): a reader at
 * a time before `until` sees the hint ahead. */
static void
bg_hint_raise(const struct or_budget *b, uint32_t i, uint64_t until)
{
	uint32_t u = bg_hint_unit_up(until);
	uint32_t cur = __atomic_load_n(&b->hints[i], __ATOMIC_RELAXED);

	while (bg_hint_diff(u, cur) > 0 &&
	       !__atomic_compare_exchange_n(&b->hints[i], &cur, u, false,
					    __ATOMIC_RELAXED, __ATOMIC_RELAXED))
		;
}

/* Called with the word a writer is about to publish for the key of hint
 * i: if that word is over budget, the hint is raised first, so that a
 * reader that could see the word over sees the hint ahead (B1; the release
 * of the word's store or compare-and-swap orders the two). A word that is
 * then not published (a failed compare-and-swap) leaves a hint that merely
 * sends a few lookups to the table. */
static inline void
bg_hint_before(const struct or_budget *b, uint32_t i, uint64_t nw,
	       uint64_t now)
{
	uint64_t d = bg_debt(nw, now);

	if (d > b->tol)
		bg_hint_raise(b, i, now + d - b->tol);
}

/* Charges a live slot whose word was w, of the key of hint i. 0, or -1 if
 * the slot got another key meanwhile (the caller looks the key up again). */
static int
bg_charge_slot(const struct or_budget *b, uint32_t i, uint64_t *word,
	       uint64_t w, uint64_t now)
{
	uint64_t id = w & BG_ID_MASK;

	for (;;) {
		uint64_t nw = bg_charged(b, w, now);

		bg_hint_before(b, i, nw, now);
		if (__atomic_compare_exchange_n(word, &w, nw, false,
						__ATOMIC_ACQ_REL,
						__ATOMIC_ACQUIRE))
			return 0;
		if ((w & BG_ID_MASK) != id)
			return -1;
		/* another charge of the same sender landed first: recompute */
	}
}

/* The slot a new key takes: in the bucket of its two with more free
 * (empty or refilled) slots, preferring an empty one; when both are full
 * of senders in debt, the one with the least debt (the least budget
 * handed back). */
struct bg_pick {
	struct bg_bucket *bk;
	unsigned s;
	uint64_t w;
};

static unsigned
bg_free_slots(const struct bg_bucket *bk, uint64_t now)
{
	unsigned n = 0;

	for (unsigned s = 0; s < BG_SLOTS; s++)
		n += bg_debt(__atomic_load_n(&bk->word[s], __ATOMIC_RELAXED), now) == 0;
	return n;
}

static void
bg_choose(struct bg_bucket *p, struct bg_bucket *a, bool alt_ok, uint64_t now,
	  struct bg_pick *pk)
{
	struct bg_bucket *cand[2] = { p, a };
	unsigned nc = alt_ok ? 2 : 1;
	uint64_t best = UINT64_MAX;

	if (nc == 2 && bg_free_slots(a, now) > bg_free_slots(p, now))
		cand[0] = a;
	/* A free slot of the chosen bucket: empty first, then refilled. */
	for (unsigned pass = 0; pass < 2; pass++) {
		for (unsigned s = 0; s < BG_SLOTS; s++) {
			uint64_t w = __atomic_load_n(&cand[0]->word[s],
						     __ATOMIC_RELAXED);

			if (pass == 0 ? !(w & BG_LIVE) : bg_debt(w, now) == 0) {
				*pk = (struct bg_pick){ cand[0], s, w };
				return;
			}
		}
	}
	/* Both full: the least debt of both buckets. */
	cand[0] = p;
	cand[1] = a;
	for (unsigned c = 0; c < nc; c++) {
		for (unsigned s = 0; s < BG_SLOTS; s++) {
			uint64_t w = __atomic_load_n(&cand[c]->word[s],
						     __ATOMIC_RELAXED);
			uint64_t d = bg_debt(w, now);

			if (d < best) {
				best = d;
				*pk = (struct bg_pick){ cand[c], s, w };
			}
		}
	}
}

/* Takes the picked slot from its sender: its word stops being live first
 * (a CAS, since a lock-free charge may change it; -1 then, choose again),
 * then its alt count is dropped. Counts what it cost. */
static int
bg_evict(struct or_budget *b, struct bg_pick *pk, uint64_t now)
{
	uint64_t *word = &pk->bk->word[pk->s];
	struct bg_where vw;
	struct or_token v;

	if (!(pk->w & BG_LIVE))
		return 0;
	if (!__atomic_compare_exchange_n(word, &pk->w, bg_word(0, pk->w & BG_GEN_MASK),
					 false, __ATOMIC_ACQ_REL,
					 __ATOMIC_RELAXED))
		return -1;
	if (bg_debt(pk->w, now) > 0)
		__atomic_fetch_add(&b->evicted.v, 1, __ATOMIC_RELAXED);
	else
		__atomic_fetch_add(&b->recycled.v, 1, __ATOMIC_RELAXED);
	/* The key bytes are stable: we hold this bucket's lock. */
	memcpy(v.b, pk->bk->key[pk->s], OR_TOKEN_LEN);
	bg_locate(b, &v, &vw);
	if (&b->buckets[vw.prim] != pk->bk)
		__atomic_fetch_sub(&b->buckets[vw.prim].alt[vw.group], 1,
				   __ATOMIC_RELEASE);
	return 0;
}

/* First charge of a key not found: under the locks of both its buckets (in
 * index order, so two placements never wait on each other in a cycle), so
 * a concurrent placement of the same key cannot make a second entry (B3). */
static void
bg_place(struct or_budget *b, const struct bg_where *wh, uint64_t now)
{
	struct bg_bucket *p = &b->buckets[wh->prim];
	struct bg_bucket *a = &b->buckets[wh->alt];
	struct bg_bucket *first = wh->prim < wh->alt ? p : a;
	struct bg_bucket *second = first == p ? a : p;
	struct bg_pick pk;
	uint32_t bi;
	uint64_t w;
	int s;

	bg_lock(first);
	bg_lock(second);
	for (;;) {
		s = bg_lookup(b, wh, &bi, &w);
		if (s >= 0) {
			/* Placed by another worker meanwhile. Its generation
			 * cannot change while we hold both locks. */
			(void)bg_charge_slot(b, wh->hint, &b->buckets[bi].word[s],
					     w, now);
			break;
		}
		/* Only a placement with primary p raises p's counts, and we
		 * hold p's lock: a count below the cap stays below it. */
		bg_choose(p, a,
			  __atomic_load_n(&p->alt[wh->group], __ATOMIC_RELAXED) <
				  BG_ALT_MAX,
			  now, &pk);
		if (bg_evict(b, &pk, now) < 0)
			continue; /* a charge changed the victim: choose again */
		if (pk.bk == a)
			__atomic_fetch_add(&p->alt[wh->group], 1, __ATOMIC_RELAXED);
		/* The slot is not live: readers skip it. The release fence
		 * orders the non-live word before the key bytes (bg_find_in). */
		__atomic_thread_fence(__ATOMIC_RELEASE);
		__atomic_store_n(&pk.bk->key[pk.s][0], wh->k0, __ATOMIC_RELAXED);
		__atomic_store_n(&pk.bk->key[pk.s][1], wh->k1, __ATOMIC_RELAXED);
		w = bg_charged(b, 0, now) | ((pk.w + 1) & BG_GEN_MASK) | BG_LIVE;
		bg_hint_before(b, wh->hint, w, now);
		/* The key bytes, the alt count and the hint before the live
		 * word. */
		__atomic_store_n(&pk.bk->word[pk.s], w, __ATOMIC_RELEASE);
		break;
	}
	bg_unlock(second);
	bg_unlock(first);
}

void
or_budget_charge_at(struct or_budget *b, const struct or_token *sender,
		    uint64_t hash, uint64_t now_ms)
{
	uint64_t now = bg_ticks(now_ms);
	struct bg_where wh;
	uint32_t bi;
	uint64_t w;
	int s;

	bg_where_of(b, sender, hash, &wh);
	for (;;) {
		s = bg_lookup(b, &wh, &bi, &w);
		if (s < 0) {
			bg_place(b, &wh, now);
			break;
		}
		if (bg_charge_slot(b, wh.hint, &b->buckets[bi].word[s], w,
				   now) == 0)
			break;
		/* evicted between lookup and charge: look it up again */
	}
	__atomic_fetch_add(&b->charged[wh.prim % BG_STRIPES].v, 1,
			   __ATOMIC_RELAXED);
}

void
or_budget_charge(struct or_budget *b, const struct or_token *sender,
		 uint64_t now_ms)
{
	or_budget_charge_at(b, sender, bg_hash(b, sender), now_ms);
}

/* ------------------------------------------------------ create, stats --- */

void
or_budget_stats(const struct or_budget *b, uint64_t now_ms,
		struct or_budget_stats *st)
{
	uint64_t now = bg_ticks(now_ms);

	memset(st, 0, sizeof(*st));
	for (uint32_t i = 0; i < b->nbuckets; i++) {
		const struct bg_bucket *bk = &b->buckets[i];

		for (unsigned s = 0; s < BG_SLOTS; s++) {
			uint64_t d = bg_debt(__atomic_load_n(&bk->word[s],
							     __ATOMIC_RELAXED), now);

			st->tracked += d > 0;
			st->over_now += d > b->tol;
		}
	}
	for (unsigned i = 0; i < BG_STRIPES; i++)
		st->charged += __atomic_load_n(&b->charged[i].v, __ATOMIC_RELAXED);
	st->evicted_unrefilled = __atomic_load_n(&b->evicted.v, __ATOMIC_RELAXED);
	st->recycled = __atomic_load_n(&b->recycled.v, __ATOMIC_RELAXED);
	st->slots = (uint64_t)b->nbuckets * BG_SLOTS;
	st->bytes = b->bytes + ((uint64_t)b->hint_mask + 1) * sizeof(uint32_t);
}

static void
bg_hints_free(struct or_budget *b)
{
	if (b->hints_from_rte)
		rte_free(b->hints);
	else
		free(b->hints);
}

int
or_budget_create(const struct or_budget_params *p, struct or_budget **out)
{
	struct or_budget *b;
	uint64_t nb;
	void *mem = NULL;

	if (p == NULL || out == NULL || p->burst == 0 ||
	    p->burst > OR_BUDGET_BURST_MAX || p->refill_per_hour == 0 ||
	    p->refill_per_hour > OR_BUDGET_REFILL_MAX || p->capacity == 0)
		return -EINVAL;
	nb = ((uint64_t)p->capacity + BG_SENDERS_PER_BUCKET - 1) /
	     BG_SENDERS_PER_BUCKET;
	if (nb < BG_MIN_BUCKETS)
		nb = BG_MIN_BUCKETS;
	b = aligned_alloc(BG_CACHE_LINE, sizeof(*b));
	if (b == NULL)
		return -ENOMEM;
	memset(b, 0, sizeof(*b));
	b->nbuckets = (uint32_t)nb;
	b->burst = p->burst;
	b->bytes = nb * sizeof(struct bg_bucket);
	/* A hint per bucket up to BG_HINTS_MAX: over-budget senders are few,
	 * and a larger array leaves the L2 cache and the TLB between two
	 * reads of one of its lines while the consent table's lookups stream
	 * through both (docs/benchmarks/auth.md, session 8). */
	b->hint_mask = BG_HINTS_MAX - 1;
	while (b->hint_mask > 63 && b->hint_mask / 2 >= nb)
		b->hint_mask >>= 1;
	if (p->flags & OR_BUDGET_F_RTE_MALLOC) {
		b->hints = rte_zmalloc_socket("or_budget_hints",
					      ((size_t)b->hint_mask + 1) *
						      sizeof(uint32_t),
					      BG_CACHE_LINE, p->socket_id);
		b->hints_from_rte = b->hints != NULL;
	}
	if (b->hints == NULL) {
		b->hints = aligned_alloc(BG_CACHE_LINE,
					 ((size_t)b->hint_mask + 1) *
						 sizeof(uint32_t));
		if (b->hints == NULL) {
			free(b);
			return -ENOMEM;
		}
		memset(b->hints, 0,
		       ((size_t)b->hint_mask + 1) * sizeof(uint32_t));
	}
	/* Rounded to the nearest tick; >= 16 since refill <= 1 per ms. With
	 * burst <= 10^6, max_debt < 2^46 ticks: differences of live times
	 * never wrap. */
	b->interval = (BG_TICKS_PER_HOUR + p->refill_per_hour / 2) /
		      p->refill_per_hour;
	b->tol = (uint64_t)(p->burst - 1) * b->interval;
	b->depth = (uint64_t)p->burst * b->interval;
	b->max_debt = ((uint64_t)p->burst + OR_BUDGET_MAX_OVERDRAW) * b->interval;
	if (getrandom(b->seed, sizeof(b->seed), 0) != sizeof(b->seed)) {
		/* Refuse rather than run with a guessable placement. */
		bg_hints_free(b);
		free(b);
		return -EIO;
	}
	if (p->flags & OR_BUDGET_F_RTE_MALLOC) {
		mem = rte_zmalloc_socket("or_budget", b->bytes, BG_BUCKET_BYTES,
					 p->socket_id);
		b->from_rte = mem != NULL;
	}
	if (mem == NULL) {
		mem = mmap(NULL, b->bytes, PROT_READ | PROT_WRITE,
			   MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
		if (mem == MAP_FAILED) {
			bg_hints_free(b);
			free(b);
			return -ENOMEM;
		}
		/* Transparent hugepages: fewer TLB misses on random lookups. */
		(void)madvise(mem, b->bytes, MADV_HUGEPAGE);
	}
	b->buckets = mem;
	*out = b;
	return 0;
}

void
or_budget_free(struct or_budget *b)
{
	if (b == NULL)
		return;
	if (b->from_rte)
		rte_free(b->buckets);
	else
		munmap(b->buckets, b->bytes);
	bg_hints_free(b);
	free(b);
}
