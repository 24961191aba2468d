/* Consent table: multi-threaded stress. Reader threads (urcu-qsbr, as worker
 * lcores are) look up bursts continuously while the writer inserts,
 * updates, deletes, grows (the table starts tiny) and replaces the whole
 * table. Every answer is checked against what the contract guarantees at
 * that moment; no violation is allowed.
 *
 * Key sets, by index (records encode the index, see ct_test_keys.h):
 *   STABLE  present, never touched by the writer    -> always the exact record
 *   FLIP    present, record flips IN/OUT            -> always a hit, right key
 *   CHURN   inserted and deleted over and over      -> a hit has the right key
 *   GONE    deleted one by one; after ct_sync the
 *           writer raises gone[i]                   -> a lookup begun after
 *                                                      seeing gone[i] misses
 *   ABSENT  never inserted                          -> always a miss
 *   FILL    inserted in growing numbers (growth)    -> a hit has the right key
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <time.h>

#include <urcu-qsbr.h>

#include "optroute/ctable.h"
#include "or_test.h"
#include "ct_test_keys.h"

#define N_STABLE 20000u
#define N_FLIP 4000u
#define N_CHURN 4000u
#define N_GONE 4000u
#define N_ABSENT 4000u
#define N_FILL 300000u
#define B_STABLE 0u
#define B_FLIP (B_STABLE + N_STABLE)
#define B_CHURN (B_FLIP + N_FLIP)
#define B_GONE (B_CHURN + N_CHURN)
#define B_ABSENT (B_GONE + N_GONE)
#define B_FILL (B_ABSENT + N_ABSENT)
#define N_ALL (B_FILL + N_FILL)

#define N_READERS 2
/* Bounded: at least MIN_ROUNDS writer rounds, then until RUN_NS, and never
 * past MAX_NS (a slow machine: sanitizers, other load). */
#define MIN_ROUNDS 8u
#define RUN_NS (2500ull * 1000 * 1000)
#define MAX_NS (60ull * 1000 * 1000 * 1000)

struct stress {
	struct ct *h;
	atomic_int stop;
	atomic_uchar gone[N_GONE];
	atomic_uint fill_hi; /* FILL keys below this were inserted at some point */
};

struct reader_result {
	uint64_t lookups;
	uint64_t checked_gone;
	uint64_t violations;
	char first[160];
};

static uint64_t
now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static void
violation(struct reader_result *r, const char *what, uint32_t idx, uint32_t rec)
{
	if (r->violations++ == 0)
		snprintf(r->first, sizeof(r->first), "%s: key %u rec %#x", what,
			 idx, rec);
}

static void
check_one(struct stress *st, struct reader_result *r, uint32_t idx,
	  int gone_before, int hit, uint32_t rec)
{
	if (hit && (rec == 0 || ctt_rec_index(rec) != (idx & 0xffffff) ||
		    !or_rec_valid(rec))) {
		violation(r, "torn or foreign record", idx, rec);
		return;
	}
	if (idx < B_FLIP) {
		if (!hit || rec != ctt_rec(idx, OR_STATE_IN))
			violation(r, "stable key missed", idx, rec);
	} else if (idx < B_CHURN) {
		if (!hit)
			violation(r, "flipping key missed", idx, rec);
	} else if (idx >= B_GONE && idx < B_ABSENT) {
		if (gone_before && hit)
			violation(r, "deleted key returned after grace period", idx, rec);
	} else if (idx >= B_ABSENT && idx < B_FILL) {
		if (hit)
			violation(r, "absent key found", idx, rec);
	}
	(void)st;
}

/* One burst a reader has in hand. */
struct rd_burst {
	struct or_token keys[32];
	const struct or_token *kp[32];
	uint32_t idx[32];
	int gone_before[32];
	struct ct_burst cb;
};

static void
fill_burst(struct stress *st, uint64_t *rng, struct rd_burst *b)
{
	for (unsigned i = 0; i < 32; i++) {
		uint32_t fill_hi = atomic_load(&st->fill_hi);
		uint32_t idx;

		*rng = ctt_mix(*rng);
		idx = (uint32_t)(*rng % (B_FILL + fill_hi + 1));
		b->idx[i] = idx;
		b->gone_before[i] = 0;
		if (idx >= B_GONE && idx < B_ABSENT)
			b->gone_before[i] = atomic_load_explicit(
				&st->gone[idx - B_GONE], memory_order_acquire);
		ctt_key(idx, &b->keys[i]);
		b->kp[i] = &b->keys[i];
	}
}

static void
check_burst(struct stress *st, struct reader_result *r,
	    const struct rd_burst *b, uint64_t hits, const uint32_t *recs)
{
	for (unsigned i = 0; i < 32; i++) {
		check_one(st, r, b->idx[i], b->gone_before[i], (hits >> i) & 1,
			  recs[i]);
		r->checked_gone += b->gone_before[i];
	}
	r->lookups += 32;
}

/* Reader 0 looks bursts up in a pipeline of two, as the dataplane worker
 * does (read and finish k, start k+1 in one ct_lookup_step pass), and
 * between them one burst in one call (ct_lookup_bulk); reader 1 in a
 * pipeline of three (finish k, read k+1, start k+2), as bench-table does.
 * Quiescent states come between a burst's stages (the table may grow or
 * be replaced then). */
static void *
reader_main(void *arg)
{
	struct stress *st = ((void **)arg)[0];
	struct reader_result *r = ((void **)arg)[1];
	unsigned depth = (unsigned)(uintptr_t)((void **)arg)[2];
	uint64_t rng = (uint64_t)(uintptr_t)r;
	static __thread struct rd_burst bufs[3];
	unsigned cur = 0, in_flight = 0;
	uint32_t recs[32];

	rcu_register_thread();
	while (!atomic_load_explicit(&st->stop, memory_order_acquire)) {
		struct rd_burst *done = &bufs[cur];
		struct rd_burst *nb = &bufs[(cur + depth - 1) % depth];
		/* The oldest burst in flight is finished once depth - 1 more
		 * are. */
		bool full = in_flight == depth - 1;
		struct ct_burst *mid;
		uint64_t hits;

		if (depth == 2) {
			struct rd_burst *one = &bufs[2];

			fill_burst(st, &rng, one);
			check_burst(st, r, one, ct_lookup_bulk(st->h, one->kp, 32, recs),
				    recs);
			mid = full ? &done->cb : NULL;
		} else {
			mid = in_flight >= 1 ? &bufs[(cur + 1) % 3].cb : NULL;
		}
		fill_burst(st, &rng, nb);
		hits = ct_lookup_step(st->h, full ? &done->cb : NULL, mid, nb->kp,
				      32, &nb->cb);
		if (full)
			check_burst(st, r, done, hits, done->cb.recs);
		else
			in_flight++;
		cur = (cur + 1) % depth;
		rcu_quiescent_state();
	}
	rcu_unregister_thread();
	return NULL;
}

/* Writer-side model of what is present, for the replace. */
static uint32_t model_rec[N_ALL];

static void
w_upsert(struct ct *h, uint32_t idx, uint32_t rec)
{
	struct or_token k;

	ctt_key(idx, &k);
	CU_ASSERT_EQUAL_FATAL(ctt_upsert(h, &k, rec), 0);
	model_rec[idx] = rec;
}

static void
w_delete(struct ct *h, uint32_t idx)
{
	struct or_token k;

	ctt_key(idx, &k);
	CU_ASSERT_EQUAL(ct_delete(h, &k), model_rec[idx] ? 0 : -ENOENT);
	model_rec[idx] = 0;
}

static void
w_replace(struct ct *h, uint32_t fill_hi, unsigned round)
{
	struct or_token k;

	CU_ASSERT_EQUAL_FATAL(ct_replace_begin(h), 0);
	for (uint32_t i = 0; i < B_FILL + fill_hi; i++) {
		if (model_rec[i] == 0)
			continue;
		ctt_key(i, &k);
		CU_ASSERT_EQUAL_FATAL(ct_replace_upsert(h, &k, model_rec[i]), 0);
		/* live deltas interleaved with the resync */
		if (i % 997 == 0) {
			uint32_t c = B_CHURN + (i + round) % N_CHURN;

			if (model_rec[c])
				w_delete(h, c);
			else
				w_upsert(h, c, ctt_rec(c, OR_STATE_IN));
		}
	}
	CU_ASSERT_EQUAL_FATAL(ct_replace_commit(h), 0);
}

static void
test_stress(void)
{
	struct ct_params p = { .entries = 1024, .socket_id = -1 };
	static struct stress st;
	struct reader_result res[N_READERS];
	void *args[N_READERS][3];
	pthread_t th[N_READERS];
	uint32_t fill = 0, gone = 0;
	unsigned round = 0, replaces = 0;
	uint64_t deadline;
	struct ct_stats s;

	memset(&st, 0, sizeof(st));
	memset(res, 0, sizeof(res));
	memset(model_rec, 0, sizeof(model_rec));
	CU_ASSERT_FATAL(ct_create(&p, &st.h) == 0);
	for (uint32_t i = 0; i < B_ABSENT; i++)
		w_upsert(st.h, i, ctt_rec(i, OR_STATE_IN));
	ct_sync(st.h);

	for (int i = 0; i < N_READERS; i++) {
		args[i][0] = &st;
		args[i][1] = &res[i];
		args[i][2] = (void *)(uintptr_t)(i + 2); /* pipeline depth */
		CU_ASSERT_FATAL(pthread_create(&th[i], NULL, reader_main, args[i]) == 0);
	}
	uint64_t start = now_ns();

	deadline = start + RUN_NS;
	while (fill < N_FILL && now_ns() < start + MAX_NS &&
	       (round < MIN_ROUNDS || now_ns() < deadline)) {
		/* grow */
		for (unsigned i = 0; i < 2000 && fill < N_FILL; i++, fill++)
			w_upsert(st.h, B_FILL + fill, ctt_rec(B_FILL + fill, OR_STATE_IN));
		atomic_store(&st.fill_hi, fill);
		/* flip records in place */
		for (unsigned i = 0; i < 500; i++) {
			uint32_t f = B_FLIP + (round * 500 + i) % N_FLIP;

			w_upsert(st.h, f, ctt_rec(f, round & 1 ? OR_STATE_OUT : OR_STATE_IN));
		}
		/* churn */
		for (unsigned i = 0; i < 500; i++) {
			uint32_t c = B_CHURN + (round * 500 + i) % N_CHURN;

			if (model_rec[c])
				w_delete(st.h, c);
			else
				w_upsert(st.h, c, ctt_rec(c, OR_STATE_IN));
		}
		/* delete some GONE keys; raise their flags only after a sync */
		uint32_t g0 = gone;
		for (unsigned i = 0; i < 100 && gone < N_GONE; i++, gone++)
			w_delete(st.h, B_GONE + gone);
		ct_sync(st.h);
		for (uint32_t g = g0; g < gone; g++)
			atomic_store_explicit(&st.gone[g], 1, memory_order_release);
		if (round % 25 == 3) {
			w_replace(st.h, fill, round);
			replaces++;
		}
		round++;
	}
	atomic_store_explicit(&st.stop, 1, memory_order_release);
	for (int i = 0; i < N_READERS; i++)
		pthread_join(th[i], NULL);

	ct_get_stats(st.h, &s);
	uint64_t lookups = 0, checked_gone = 0, violations = 0;
	for (int i = 0; i < N_READERS; i++) {
		lookups += res[i].lookups;
		checked_gone += res[i].checked_gone;
		violations += res[i].violations;
		if (res[i].violations)
			fprintf(stderr, "\n  reader %d: %lu violations, first: %s\n", i,
				(unsigned long)res[i].violations, res[i].first);
	}
	fprintf(stderr, "\n  stress: %lu lookups, %lu after-delete checks, %u rounds, "
		"%u replaces, %lu grows, %lu moves, %lu entries\n",
		(unsigned long)lookups, (unsigned long)checked_gone, round, replaces,
		(unsigned long)s.grows, (unsigned long)s.moves, (unsigned long)s.entries);
	CU_ASSERT_EQUAL(violations, 0);
	/* the run exercised what it claims to */
	CU_ASSERT(lookups > 100000);
	CU_ASSERT(checked_gone > 0);
	CU_ASSERT(s.grows >= 2);
	CU_ASSERT(s.moves > 0);
	CU_ASSERT(replaces >= 1);
	CU_ASSERT_EQUAL(s.replaces, replaces);
	/* final state equals the writer's model */
	unsigned bad = 0;
	for (uint32_t i = 0; i < B_FILL + fill; i++) {
		struct or_token k;

		ctt_key(i, &k);
		bad += ct_lookup(st.h, &k) != model_rec[i];
	}
	CU_ASSERT_EQUAL(bad, 0);
	ct_destroy(st.h);
}

static CU_TestInfo stress_tests[] = {
	{ "readers vs writer: grow, move, replace, delete", test_stress },
	CU_TEST_INFO_NULL,
};

OR_TEST_SUITE("ctable_stress", NULL, NULL, stress_tests)
