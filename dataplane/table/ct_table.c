/* SPDX-License-Identifier: BSD-3-Clause
 *
 * Consent table: one generation of buckets and the writer's bucket-level
 * operations (place, move, vacate). Everything here runs on the writer
 * thread; the orders of stores below are what keeps the reader guarantees
 * of include/optroute/ctable.h.
 */
#include <errno.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/random.h>

#include <rte_malloc.h>

#include "ct_internal.h"

/* Breadth-first search for room: how many buckets it may visit. */
#define CT_BFS_MAX 128
/* Unpublished tables move keys at once; bound the hops of one insert. */
#define CT_MAX_HOPS 64

uint32_t
ct_buckets_for(uint64_t entries)
{
	uint64_t slots = entries * 1000 / CT_LOAD_SIZE_PERMILLE + 1;
	uint64_t nb = (slots + CT_SLOTS - 1) / CT_SLOTS;

	if (nb < CT_MIN_BUCKETS)
		nb = CT_MIN_BUCKETS;
	if (nb > UINT32_MAX)
		nb = UINT32_MAX;
	return (uint32_t)nb;
}

int
ct_table_alloc(struct ct *h, uint32_t nbuckets, struct ct_table **out)
{
	uint64_t bytes = (uint64_t)nbuckets * sizeof(struct ct_bucket);
	struct ct_table *t;
	void *mem = NULL;

	if (h->params.mem_limit != 0 && h->mem_used + bytes > h->params.mem_limit)
		return -ENOMEM;
	t = aligned_alloc(CT_CACHE_LINE, sizeof(*t));
	if (t == NULL)
		return -ENOMEM;
	memset(t, 0, sizeof(*t));
	if (h->params.flags & CT_F_RTE_MALLOC) {
		mem = rte_zmalloc_socket("consent_table", bytes, CT_CACHE_LINE,
					 h->params.socket_id);
		t->from_rte = mem != NULL;
	}
	if (mem == NULL) {
		mem = mmap(NULL, bytes, PROT_READ | PROT_WRITE,
			   MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
		if (mem == MAP_FAILED) {
			free(t);
			return -ENOMEM;
		}
		/* Transparent hugepages: fewer TLB misses on random lookups. */
		(void)madvise(mem, bytes, MADV_HUGEPAGE);
	}
	if (getrandom(t->seed, sizeof(t->seed), 0) != sizeof(t->seed)) {
		/* getrandom on a booted Linux does not fail for 16 bytes; if it
		 * does, refuse rather than run with a guessable seed. */
		if (t->from_rte)
			rte_free(mem);
		else
			munmap(mem, bytes);
		free(t);
		return -EIO;
	}
	t->buckets = mem;
	t->nbuckets = nbuckets;
	t->id = ++h->last_table_id;
	t->bytes = bytes;
	h->mem_used += bytes;
	*out = t;
	return 0;
}

void
ct_table_free(struct ct *h, struct ct_table *t)
{
	if (t == NULL)
		return;
	if (t->from_rte)
		rte_free(t->buckets);
	else
		munmap(t->buckets, t->bytes);
	h->mem_used -= t->bytes;
	free(t->pending);
	free(t);
}

static inline void
ct_store_rec(struct ct_bucket *b, unsigned s, uint32_t rec)
{
	__atomic_store_n(&b->rec[s], rec, __ATOMIC_RELEASE);
}

/* Before a key goes to its alternate bucket: a reader that misses it in
 * the primary bucket must know to look there. */
static inline void
ct_mark_alt(struct ct_bucket *prim, uint64_t h)
{
	__atomic_store_n(&prim->alt_bloom, prim->alt_bloom | ct_alt_bit(h),
			 __ATOMIC_RELEASE);
}

static int
ct_slot_with(const struct ct_bucket *b, uint32_t rec)
{
	for (unsigned s = 0; s < CT_SLOTS; s++)
		if (b->rec[s] == rec)
			return (int)s;
	return -1;
}

/* Writes the key of a free slot, then publishes the record: a reader that
 * sees the record sees the whole key. A free slot has been free for a
 * grace period (or was never published), so nobody compares its key. */
static int
ct_place(struct ct_bucket *b, const uint8_t *k, uint32_t rec)
{
	int s = ct_slot_with(b, CT_REC_FREE);

	if (s < 0)
		return -1;
	memcpy(b->key[s], k, OR_TOKEN_LEN);
	ct_store_rec(b, (unsigned)s, rec);
	return s;
}

static int
ct_pending_push(struct ct_table *t, uint32_t bi, unsigned s)
{
	if (t->n_pending == t->cap_pending) {
		uint64_t cap = t->cap_pending ? t->cap_pending * 2 : 1024;
		uint64_t *p = realloc(t->pending, cap * sizeof(*p));

		if (p == NULL)
			return -ENOMEM;
		t->pending = p;
		t->cap_pending = cap;
	}
	t->pending[t->n_pending++] = (uint64_t)bi * 4 + s;
	return 0;
}

/* Empties a slot. In a table readers may see, the slot stays VACATED until
 * a grace period has passed (ct_table_reclaim): a reader may still be
 * comparing its key. If the pending list cannot grow, the slot is simply
 * never reused: a lost slot, not a broken guarantee. */
static void
ct_vacate(struct ct_table *t, uint32_t bi, unsigned s)
{
	struct ct_bucket *b = &t->buckets[bi];

	if (!t->published) {
		ct_store_rec(b, s, CT_REC_FREE);
		return;
	}
	ct_store_rec(b, s, CT_REC_VACATED);
	(void)ct_pending_push(t, bi, s);
}

void
ct_table_reclaim(struct ct_table *t)
{
	for (uint64_t i = 0; i < t->n_pending; i++) {
		uint64_t id = t->pending[i];

		ct_store_rec(&t->buckets[id / 4], (unsigned)(id % 4), CT_REC_FREE);
	}
	t->n_pending = 0;
}

static int
ct_find_slot(const struct ct_table *t, const uint8_t *k, uint32_t prim,
	     uint32_t alt, uint32_t *bi, unsigned *si)
{
	const uint32_t cand[2] = { prim, alt };

	for (unsigned c = 0; c < 2; c++) {
		const struct ct_bucket *b = &t->buckets[cand[c]];

		for (unsigned s = 0; s < CT_SLOTS; s++) {
			if (ct_rec_live(b->rec[s]) && ct_key_eq(b->key[s], k)) {
				*bi = cand[c];
				*si = s;
				return 0;
			}
		}
	}
	return -ENOENT;
}

uint32_t
ct_table_get(const struct ct_table *t, const uint8_t *k)
{
	uint32_t prim, alt, bi;
	unsigned s;

	ct_buckets_of(t, ct_hash(t, k), &prim, &alt);
	if (ct_find_slot(t, k, prim, alt, &bi, &s) < 0)
		return 0;
	return t->buckets[bi].rec[s];
}

/* Moves the key of slot (from, s) to a free slot of its other bucket.
 * Order: mark it in the primary's alt filter (if it goes to its alternate
 * bucket), copy it, bump the move counter, vacate the old slot. A reader
 * either finds it in one of the two buckets, or sees the move counter
 * change and retries (ctable.h, G2). */
int
ct_table_move(struct ct *h, struct ct_table *t, uint32_t from, unsigned s,
	struct ct_table *mirror)
{
	struct ct_bucket *src = &t->buckets[from];
	uint8_t key[OR_TOKEN_LEN];
	uint32_t rec = src->rec[s];
	uint32_t prim, alt, to;
	uint64_t hv;

	memcpy(key, src->key[s], OR_TOKEN_LEN);
	hv = ct_hash(t, key);
	ct_buckets_of(t, hv, &prim, &alt);
	to = from == prim ? alt : prim;
	if (ct_slot_with(&t->buckets[to], CT_REC_FREE) < 0)
		return -ENOSPC;
	if (to == alt) {
		ct_mark_alt(&t->buckets[prim], hv);
		t->alt_entries++;
	}
	ct_place(&t->buckets[to], key, rec);
	__atomic_store_n(&t->moves, t->moves + 1, __ATOMIC_RELEASE);
	ct_vacate(t, from, s);
	if (from == alt)
		t->alt_entries--;
	h->stats.moves++;
	/* During a growth a move may carry a key from a bucket not yet copied
	 * into one already copied: copy it now. */
	if (mirror != NULL && ct_table_upsert(h, mirror, key, rec, NULL) < 0)
		h->build_failed = true; /* the growth is dropped and retried */
	return 0;
}

/* Makes room for a key whose two buckets are full: a breadth-first search
 * over the keys that could move to their other bucket, then ONE move, the
 * last hop of the path found. In a published table the slot it frees can
 * only be reused after a grace period: -EAGAIN tells the caller to ct_sync()
 * and retry; each retry advances the path by one hop. In an unpublished
 * table the slot is free at once: 0, retry immediately. */
static int
ct_make_room(struct ct *h, struct ct_table *t, uint32_t prim, uint32_t alt,
	     struct ct_table *mirror)
{
	uint32_t queue[CT_BFS_MAX];
	unsigned qn = 0;

	queue[qn++] = prim;
	queue[qn++] = alt;
	for (unsigned qi = 0; qi < qn; qi++) {
		const struct ct_bucket *b = &t->buckets[queue[qi]];

		if (ct_slot_with(b, CT_REC_VACATED) >= 0)
			return -EAGAIN; /* a grace period frees room here */
		for (unsigned s = 0; s < CT_SLOTS; s++) {
			uint32_t p, a, other;
			const struct ct_bucket *ob;

			if (!ct_rec_live(b->rec[s]))
				continue;
			ct_buckets_of(t, ct_hash(t, b->key[s]), &p, &a);
			other = queue[qi] == p ? a : p;
			ob = &t->buckets[other];
			if (ct_slot_with(ob, CT_REC_FREE) >= 0) {
				int ret = ct_table_move(h, t, queue[qi], s, mirror);

				if (ret < 0)
					return ret;
				return t->published ? -EAGAIN : 0;
			}
			if (qn < CT_BFS_MAX)
				queue[qn++] = other;
		}
	}
	return -ENOSPC;
}

int
ct_table_upsert(struct ct *h, struct ct_table *t, const uint8_t *k,
		uint32_t rec, struct ct_table *mirror)
{
	uint64_t hv = ct_hash(t, k);
	uint32_t prim, alt, bi;
	unsigned s;

	ct_buckets_of(t, hv, &prim, &alt);
	if (ct_find_slot(t, k, prim, alt, &bi, &s) == 0) {
		ct_store_rec(&t->buckets[bi], s, rec);
		return 0;
	}
	for (unsigned hop = 0; hop < CT_MAX_HOPS; hop++) {
		struct ct_bucket *pb = &t->buckets[prim];
		struct ct_bucket *ab = &t->buckets[alt];
		int ret;

		if (ct_place(pb, k, rec) >= 0) {
			t->entries++;
			return 0;
		}
		if (ct_slot_with(ab, CT_REC_FREE) >= 0) {
			ct_mark_alt(pb, hv);
			ct_place(ab, k, rec);
			t->entries++;
			t->alt_entries++;
			return 0;
		}
		ret = ct_make_room(h, t, prim, alt, mirror);
		if (ret < 0)
			return ret;
	}
	return -ENOSPC;
}

int
ct_table_delete(struct ct *h, struct ct_table *t, const uint8_t *k)
{
	uint32_t prim, alt, bi;
	unsigned s;

	(void)h;
	ct_buckets_of(t, ct_hash(t, k), &prim, &alt);
	if (ct_find_slot(t, k, prim, alt, &bi, &s) < 0)
		return -ENOENT;
	ct_vacate(t, bi, s);
	t->entries--;
	if (bi != prim)
		t->alt_entries--;
	return 0;
}
