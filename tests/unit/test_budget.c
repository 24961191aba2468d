/* Enumeration budget (dataplane/auth/budget.h): the bucket arithmetic
 * against an independent model, exact refill times on a fake clock,
 * capacity pressure and eviction accounting, and concurrent workers
 * (bounded overdraw, one entry per sender, readers never confused by slots
 * changing hands nor misled by a hint). */
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "optroute/consent.h"
#include "or_test.h"
#include "dataplane/auth/budget.h"
#include "tests/lib/or_rand.h"

#define HOUR_MS 3600000ull
#define T0 1000000ull /* an arbitrary start of the fake clock, in ms */

/* Sender number i, as a random-looking token. */
static struct or_token
tok(uint64_t i)
{
	struct or_token t;
	uint64_t x = i * 2 + 1, a = or_rand_next(&x), b = or_rand_next(&x);

	memcpy(t.b, &a, 8);
	memcpy(t.b + 8, &b, 8);
	return t;
}

static struct or_budget *
mk(uint32_t burst, uint32_t refill, uint32_t capacity)
{
	struct or_budget_params p = { .burst = burst, .refill_per_hour = refill,
				      .capacity = capacity, .socket_id = -1 };
	struct or_budget *b = NULL;

	CU_ASSERT_FATAL(or_budget_create(&p, &b) == 0);
	CU_ASSERT_FATAL(b != NULL);
	return b;
}

static int
over(const struct or_budget *b, uint64_t i, uint64_t now)
{
	struct or_token t = tok(i);

	return or_budget_over(b, &t, now);
}

static void
charge(struct or_budget *b, uint64_t i, uint64_t now)
{
	struct or_token t = tok(i);

	or_budget_charge(b, &t, now);
}

static int64_t
permits(const struct or_budget *b, uint64_t i, uint64_t now)
{
	struct or_token t = tok(i);

	return or_budget_permits(b, &t, now);
}

static struct or_budget_stats
stats(const struct or_budget *b, uint64_t now)
{
	struct or_budget_stats s;

	or_budget_stats(b, now, &s);
	return s;
}

static void
test_params(void)
{
	struct or_budget_params p = { .burst = 10, .refill_per_hour = 6,
				      .capacity = 100, .socket_id = -1 };
	struct or_budget *b = NULL;
	struct or_budget_stats s;

	CU_ASSERT_EQUAL(or_budget_create(NULL, &b), -EINVAL);
	CU_ASSERT_EQUAL(or_budget_create(&p, NULL), -EINVAL);
	p.burst = 0;
	CU_ASSERT_EQUAL(or_budget_create(&p, &b), -EINVAL);
	p.burst = OR_BUDGET_BURST_MAX + 1;
	CU_ASSERT_EQUAL(or_budget_create(&p, &b), -EINVAL);
	p.burst = 10;
	p.refill_per_hour = 0;
	CU_ASSERT_EQUAL(or_budget_create(&p, &b), -EINVAL);
	p.refill_per_hour = OR_BUDGET_REFILL_MAX + 1;
	CU_ASSERT_EQUAL(or_budget_create(&p, &b), -EINVAL);
	p.refill_per_hour = 6;
	p.capacity = 0;
	CU_ASSERT_EQUAL(or_budget_create(&p, &b), -EINVAL);
	CU_ASSERT(b == NULL);
	p.capacity = 100;
	CU_ASSERT_FATAL(or_budget_create(&p, &b) == 0);
	or_budget_stats(b, T0, &s);
	/* 4 senders of capacity per 5-slot bucket of 128 bytes, and the
	 * smallest array of hints (64 of 4 bytes) */
	CU_ASSERT_EQUAL(s.slots, 125);
	CU_ASSERT_EQUAL(s.bytes, 25 * 128 + 64 * 4);
	CU_ASSERT_EQUAL(s.tracked + s.over_now + s.charged +
			s.evicted_unrefilled + s.recycled, 0);
	or_budget_free(b);
	/* The default capacity: 250 000 buckets, and the hints capped at
	 * 8 Ki (32 KiB), so that they stay in L2 and the TLB (budget.c). */
	p.capacity = 1000000;
	CU_ASSERT_FATAL(or_budget_create(&p, &b) == 0);
	or_budget_stats(b, T0, &s);
	CU_ASSERT_EQUAL(s.bytes, 250000 * 128 + 8192 * 4);
	or_budget_free(b);
	or_budget_free(NULL);
}

static void
test_fresh_not_over(void)
{
	struct or_budget *b = mk(1, 1, 1000);
	struct or_token t = tok(7);

	or_budget_prefetch(b, &t);
	CU_ASSERT_EQUAL(or_budget_over(b, &t, 0), 0);
	CU_ASSERT_EQUAL(or_budget_over(b, &t, T0), 0);
	CU_ASSERT_EQUAL(or_budget_over(b, &t, UINT64_MAX), 0);
	CU_ASSERT_EQUAL(or_budget_permits(b, &t, T0), 1000);
	CU_ASSERT_EQUAL(stats(b, T0).tracked, 0);
	or_budget_free(b);
}

static void
test_burst_then_over(void)
{
	struct or_budget *b = mk(5, 6, 1000);
	struct or_budget_stats s;

	for (int k = 0; k < 5; k++) {
		CU_ASSERT_EQUAL(over(b, 1, T0), 0);
		CU_ASSERT_EQUAL(permits(b, 1, T0), (5 - k) * 1000);
		charge(b, 1, T0);
	}
	CU_ASSERT_EQUAL(over(b, 1, T0), 1);
	CU_ASSERT_EQUAL(permits(b, 1, T0), 0);
	/* another sender is not affected */
	CU_ASSERT_EQUAL(over(b, 2, T0), 0);
	s = stats(b, T0);
	CU_ASSERT_EQUAL(s.tracked, 1);
	CU_ASSERT_EQUAL(s.over_now, 1);
	CU_ASSERT_EQUAL(s.charged, 5);
	/* burst 1: over after a single bounce */
	or_budget_free(b);
	b = mk(1, 6, 1000);
	charge(b, 3, T0);
	CU_ASSERT_EQUAL(over(b, 3, T0), 1);
	or_budget_free(b);
}

/* Burst B charged at t0: over until exactly t0 + T, one permit per T. */
static void
check_refill(uint64_t t0)
{
	struct or_budget *b = mk(3, 6, 1000); /* T = 10 minutes */
	const uint64_t t = HOUR_MS / 6;

	for (int k = 0; k < 3; k++)
		charge(b, 1, t0);
	CU_ASSERT_EQUAL(over(b, 1, t0), 1);
	CU_ASSERT_EQUAL(over(b, 1, t0 + t / 2), 1);
	CU_ASSERT_EQUAL(permits(b, 1, t0 + t / 2), 500);
	CU_ASSERT_EQUAL(over(b, 1, t0 + t - 1), 1);
	CU_ASSERT_EQUAL(permits(b, 1, t0 + t - 1), 999);
	CU_ASSERT_EQUAL(over(b, 1, t0 + t), 0);
	CU_ASSERT_EQUAL(permits(b, 1, t0 + t), 1000);
	/* spending the permit regained: over for another T */
	charge(b, 1, t0 + t);
	CU_ASSERT_EQUAL(over(b, 1, t0 + t), 1);
	CU_ASSERT_EQUAL(over(b, 1, t0 + 2 * t - 1), 1);
	CU_ASSERT_EQUAL(over(b, 1, t0 + 2 * t), 0);
	/* full again 3 T after the last charge: no longer tracked */
	CU_ASSERT_EQUAL(stats(b, t0 + 4 * t - 1).tracked, 1);
	CU_ASSERT_EQUAL(stats(b, t0 + 4 * t).tracked, 0);
	CU_ASSERT_EQUAL(permits(b, 1, t0 + 4 * t), 3000);
	CU_ASSERT_EQUAL(permits(b, 1, t0 + 100 * t), 3000); /* capped at burst */
	or_budget_free(b);
}

static void
test_refill_exact(void)
{
	struct or_budget *b;

	check_refill(T0);
	check_refill(1700000000000ull); /* a wall clock in ms */
	/* across the table's 47-bit tick wrap (2^43 ms) */
	check_refill((1ull << 43) - HOUR_MS / 6 - 3);
	check_refill((1ull << 43) - 1);

	/* 7 per hour: T = 514285.71 ms, kept to 1/16 ms */
	b = mk(1, 7, 1000);
	charge(b, 1, T0);
	CU_ASSERT_EQUAL(over(b, 1, T0 + 514285), 1);
	CU_ASSERT_EQUAL(over(b, 1, T0 + 514286), 0);
	or_budget_free(b);

	/* the fastest refill: one permit per ms */
	b = mk(2, OR_BUDGET_REFILL_MAX, 1000);
	charge(b, 1, T0);
	charge(b, 1, T0);
	CU_ASSERT_EQUAL(over(b, 1, T0), 1);
	CU_ASSERT_EQUAL(over(b, 1, T0 + 1), 0);
	CU_ASSERT_EQUAL(permits(b, 1, T0 + 2), 2000);
	or_budget_free(b);
}

/* Debt below zero (charges that raced past or_budget_over) lengthens the
 * wait permit for permit, and is capped. */
static void
test_overdraw(void)
{
	struct or_budget *b = mk(2, 60, 1000); /* T = 1 minute */
	const uint64_t t = 60000;

	for (int k = 0; k < 4; k++)
		charge(b, 1, T0);
	CU_ASSERT_EQUAL(permits(b, 1, T0), -2000);
	CU_ASSERT_EQUAL(over(b, 1, T0 + 3 * t - 1), 1);
	CU_ASSERT_EQUAL(over(b, 1, T0 + 3 * t), 0);
	for (int k = 0; k < 3000; k++)
		charge(b, 2, T0);
	CU_ASSERT_EQUAL(permits(b, 2, T0), -(int64_t)OR_BUDGET_MAX_OVERDRAW * 1000);
	CU_ASSERT_EQUAL(stats(b, T0).charged, 3004);
	or_budget_free(b);
}

/* Random bounces and deliveries against a plain token-bucket model kept in
 * units of 1/3600000 permit (so a refill of R per hour is R units per ms,
 * exactly). The table's answer for a sender must be the model's, whatever
 * other senders do and whatever is asked in between; a second table that
 * sees only sender 0's charges answers the same for sender 0. */
#define M_SENDERS 40
#define M_UNIT 3600000ll

/* The model's permits in thousandths, rounded down. */
static int64_t
model_milli(int64_t units)
{
	if (units >= 0)
		return units * 1000 / M_UNIT;
	return -((-units * 1000 + M_UNIT - 1) / M_UNIT);
}

static void
test_model(void)
{
	const uint32_t burst = 4, refill = 15;
	struct or_budget *b = mk(burst, refill, 4000);
	struct or_budget *solo = mk(burst, refill, 4000);
	int64_t units[M_SENDERS];
	uint64_t last[M_SENDERS], now = T0, rng = 42;
	uint64_t charges = 0, over_seen = 0;

	for (int i = 0; i < M_SENDERS; i++) {
		units[i] = burst * M_UNIT;
		last[i] = now;
	}
	for (int step = 0; step < 20000; step++) {
		uint64_t r = or_rand_next(&rng);
		int i = (int)(r % M_SENDERS);
		int64_t u;

		now += (r >> 8) % 6000; /* up to 6 s between MSGs */
		u = units[i] + (int64_t)(now - last[i]) * refill;
		units[i] = u < burst * M_UNIT ? u : burst * M_UNIT;
		last[i] = now;
		CU_ASSERT_EQUAL_FATAL(over(b, (uint64_t)i, now), units[i] < M_UNIT);
		CU_ASSERT_EQUAL_FATAL(permits(b, i, now), model_milli(units[i]));
		if (i == 0)
			CU_ASSERT_EQUAL_FATAL(over(solo, 0, now), units[0] < M_UNIT);
		if (units[i] < M_UNIT) {
			over_seen++;
			/* rarely, a charge that raced past the check */
			if ((r >> 40) % 16 != 0)
				continue;
		} else if ((r >> 40) % 3 == 0) {
			continue; /* delivered: free */
		}
		charge(b, (uint64_t)i, now);
		if (i == 0)
			charge(solo, 0, now);
		units[i] -= M_UNIT;
		charges++;
		if (step % 1000 == 0)
			(void)stats(b, now); /* a telemetry read changes nothing */
	}
	CU_ASSERT(over_seen > 3000); /* the test did reach the limit */
	CU_ASSERT(charges > 5000);
	CU_ASSERT_EQUAL(stats(b, now).charged, charges);
	CU_ASSERT_EQUAL(stats(b, now).evicted_unrefilled, 0);
	or_budget_free(solo);
	or_budget_free(b);
}

/* The _at calls (the sender's hash computed once by or_budget_prefetch or
 * or_budget_prefetch_burst, as the worker does) against the plain calls
 * on a second table fed the same MSGs: the same answers and permits at
 * every step (the buckets do not depend on the tables' seeds while
 * nothing is evicted). */
static void
test_hash_once(void)
{
	const uint32_t burst = 3, refill = 60;
	struct or_budget *b = mk(burst, refill, 1000);
	struct or_budget *ref = mk(burst, refill, 1000);
	uint64_t now = T0, rng = 7, over_seen = 0;
	struct or_token ts[32];
	const struct or_token *tp[32];
	uint64_t hs[32];

	for (int step = 0; step < 20000; step++) {
		uint64_t r = or_rand_next(&rng);
		uint64_t i = r % 200;
		struct or_token t = tok(i);
		uint64_t h = or_budget_prefetch(b, &t);
		int o;

		now += (r >> 8) % 400;
		o = or_budget_over_at(b, &t, h, now);
		CU_ASSERT_EQUAL_FATAL(o, or_budget_over(ref, &t, now));
		CU_ASSERT_EQUAL_FATAL(o, or_budget_over(b, &t, now));
		over_seen += (uint64_t)o;
		if (!o && (r >> 40) % 3 != 0) {
			or_budget_prefetch_charge_at(b, h);
			or_budget_charge_at(b, &t, h, now);
			or_budget_charge(ref, &t, now);
		}
		CU_ASSERT_EQUAL_FATAL(or_budget_permits(b, &t, now),
				      or_budget_permits(ref, &t, now));
	}
	CU_ASSERT(over_seen > 1000); /* the test did reach the limit */
	/* A burst's hashes are the single calls'. */
	for (unsigned i = 0; i < 32; i++) {
		ts[i] = tok(1000 + i);
		tp[i] = &ts[i];
	}
	or_budget_prefetch_burst(b, tp, 32, hs);
	for (unsigned i = 0; i < 32; i++)
		CU_ASSERT_EQUAL(hs[i], or_budget_prefetch(b, &ts[i]));
	CU_ASSERT_EQUAL(stats(b, now).charged, stats(ref, now).charged);
	CU_ASSERT_EQUAL(stats(b, now).evicted_unrefilled, 0);
	or_budget_free(ref);
	or_budget_free(b);
}

/* Capacity 8: two buckets, 10 slots; every sender's two candidate buckets
 * are the whole table, so what is evicted is fully determined. */
static void
test_capacity_pressure(void)
{
	struct or_budget *b = mk(4, 6, 8);
	const uint64_t t = HOUR_MS / 6, t1 = T0 + t;
	struct or_budget_stats s;
	int lost = -1;

	CU_ASSERT_EQUAL_FATAL(stats(b, T0).slots, 10);
	for (uint64_t i = 0; i < 5; i++)
		charge(b, i, T0); /* debt: 1 T */
	for (uint64_t i = 5; i < 10; i++)
		for (int k = 0; k < 3; k++)
			charge(b, i, T0); /* debt: 3 T */
	s = stats(b, T0);
	CU_ASSERT_EQUAL(s.tracked, 10);
	CU_ASSERT_EQUAL(s.evicted_unrefilled + s.recycled, 0);

	/* At t1, senders 0..4 have refilled: new senders take their slots,
	 * at no cost, and nobody in debt is evicted. */
	CU_ASSERT_EQUAL(stats(b, t1).tracked, 5);
	for (uint64_t i = 100; i < 105; i++)
		charge(b, i, t1);
	s = stats(b, t1);
	CU_ASSERT_EQUAL(s.tracked, 10);
	CU_ASSERT_EQUAL(s.recycled, 5);
	CU_ASSERT_EQUAL(s.evicted_unrefilled, 0);
	for (uint64_t i = 5; i < 10; i++)
		CU_ASSERT_EQUAL(permits(b, i, t1), 2000);
	for (uint64_t i = 100; i < 105; i++)
		CU_ASSERT_EQUAL(permits(b, i, t1), 3000);

	/* Full of senders in debt: the one with the least debt goes, and it
	 * is counted. */
	charge(b, 200, t1);
	s = stats(b, t1);
	CU_ASSERT_EQUAL(s.evicted_unrefilled, 1);
	CU_ASSERT_EQUAL(s.tracked, 10);
	CU_ASSERT_EQUAL(permits(b, 200, t1), 3000);
	for (uint64_t i = 5; i < 10; i++)
		CU_ASSERT_EQUAL(permits(b, i, t1), 2000);
	for (int i = 100; i < 105; i++) {
		if (permits(b, (uint64_t)i, t1) == 4000) {
			CU_ASSERT_EQUAL(lost, -1); /* exactly one */
			lost = i;
		} else {
			CU_ASSERT_EQUAL(permits(b, (uint64_t)i, t1), 3000);
		}
	}
	CU_ASSERT(lost >= 100);

	/* Every further newcomer evicts one, each counted. */
	for (uint64_t i = 300; i < 320; i++)
		charge(b, i, t1);
	s = stats(b, t1);
	CU_ASSERT_EQUAL(s.evicted_unrefilled, 21);
	CU_ASSERT_EQUAL(s.tracked, 10);
	CU_ASSERT_EQUAL(s.charged, 5 + 15 + 5 + 1 + 20);
	or_budget_free(b);
}

/* Round after round, ten newcomers take the ten slots of senders that have
 * refilled: all ten fit every time (each goes to the emptier of its two
 * buckets), all are found again, and nothing in debt is ever evicted. */
static void
test_capacity_rounds(void)
{
	struct or_budget *b = mk(2, 1, 8); /* T = 1 hour */
	struct or_budget_stats s;
	uint64_t wrong = 0;

	for (uint64_t r = 0; r < 2000; r++) {
		uint64_t now = T0 + r * HOUR_MS;

		for (uint64_t i = 0; i < 10; i++)
			charge(b, r * 10 + i, now);
		for (uint64_t i = 0; i < 10; i++)
			wrong += permits(b, r * 10 + i, now) != 1000;
	}
	CU_ASSERT_EQUAL(wrong, 0);
	s = stats(b, T0 + 1999 * HOUR_MS);
	CU_ASSERT_EQUAL(s.tracked, 10);
	CU_ASSERT_EQUAL(s.evicted_unrefilled, 0);
	CU_ASSERT_EQUAL(s.recycled, 1999 * 10);
	or_budget_free(b);
}

static void
test_stats(void)
{
	struct or_budget *b = mk(2, 60, 1000); /* T = 1 minute */
	struct or_budget_stats s;

	for (uint64_t i = 0; i < 30; i++)
		charge(b, i, T0); /* 30 senders, 1 permit left */
	for (uint64_t i = 0; i < 10; i++)
		charge(b, i, T0); /* 10 of them over */
	s = stats(b, T0);
	CU_ASSERT_EQUAL(s.tracked, 30);
	CU_ASSERT_EQUAL(s.over_now, 10);
	CU_ASSERT_EQUAL(s.charged, 40);
	s = stats(b, T0 + 60000); /* one permit back each */
	CU_ASSERT_EQUAL(s.tracked, 10);
	CU_ASSERT_EQUAL(s.over_now, 0);
	CU_ASSERT_EQUAL(s.charged, 40);
	s = stats(b, T0 + 120000);
	CU_ASSERT_EQUAL(s.tracked, 0);
	or_budget_free(b);
}

/* ---------------------------------------------------------- threads --- */

struct th_arg {
	struct or_budget *b;
	pthread_barrier_t *start;
	uint64_t base;  /* first sender number of this thread */
	uint64_t n;
	uint64_t now;
	uint64_t done;  /* charges made */
	int *stop;      /* for the reader */
	uint64_t bad;   /* reader: wrong answers */
	uint64_t reads;
	const struct th_arg *reader; /* a worker starts once it has read */
};

/* A worker's protocol for one sender until it is over budget. */
static void *
th_drain(void *p)
{
	struct th_arg *a = p;
	struct or_token t = tok(a->base);

	pthread_barrier_wait(a->start);
	while (!or_budget_over(a->b, &t, a->now)) {
		or_budget_charge(a->b, &t, a->now);
		a->done++;
	}
	return NULL;
}

/* Two workers bouncing MSGs of one sender at the same time: they may pass
 * the check together once at the end (overdraw <= workers - 1), and no
 * charge is lost. */
static void
test_threads_one_sender(void)
{
	for (int round = 0; round < 20; round++) {
		const uint64_t burst = 20000;
		struct or_budget *b = mk(burst, 1, 1000);
		pthread_barrier_t start;
		struct th_arg a[2];
		pthread_t th[2];
		uint64_t total;

		pthread_barrier_init(&start, NULL, 2);
		for (int i = 0; i < 2; i++) {
			a[i] = (struct th_arg){ .b = b, .start = &start,
						.base = (uint64_t)round, .now = T0 };
			CU_ASSERT_FATAL(pthread_create(&th[i], NULL, th_drain,
						       &a[i]) == 0);
		}
		for (int i = 0; i < 2; i++)
			pthread_join(th[i], NULL);
		pthread_barrier_destroy(&start);
		total = a[0].done + a[1].done;
		CU_ASSERT(total >= burst);
		CU_ASSERT(total <= burst + 1);
		CU_ASSERT_EQUAL(permits(b, (uint64_t)round, T0),
				((int64_t)burst - (int64_t)total) * 1000);
		CU_ASSERT_EQUAL(stats(b, T0).charged, total);
		CU_ASSERT_EQUAL(stats(b, T0).tracked, 1);
		or_budget_free(b);
	}
}

/* Each thread charges senders base .. base + n - 1 once. */
static void *
th_charge_each(void *p)
{
	struct th_arg *a = p;

	pthread_barrier_wait(a->start);
	/* A reader not yet scheduled when the workers are done would have
	 * checked nothing (seen under load: reads == 0). */
	while (a->reader != NULL &&
	       __atomic_load_n(&a->reader->reads, __ATOMIC_ACQUIRE) == 0)
		sched_yield();
	for (uint64_t i = 0; i < a->n; i++) {
		struct or_token t = tok(a->base + i);

		or_budget_charge(a->b, &t, a->now);
		a->done++;
	}
	return NULL;
}

/* Reads sender 1 (over budget, never evicted) and sender 2 (never charged)
 * while slots around them change hands. */
static void *
th_reader(void *p)
{
	struct th_arg *a = p;
	struct or_token x = tok(1), y = tok(2);

	pthread_barrier_wait(a->start);
	while (!__atomic_load_n(a->stop, __ATOMIC_ACQUIRE)) {
		a->bad += or_budget_over(a->b, &x, a->now) != 1;
		a->bad += or_budget_over(a->b, &y, a->now) != 0;
		a->bad += or_budget_permits(a->b, &x, a->now) != 0;
		__atomic_store_n(&a->reads, a->reads + 1, __ATOMIC_RELEASE);
	}
	return NULL;
}

static void
run_three(struct or_budget *b, struct th_arg *w0, struct th_arg *w1,
	  struct th_arg *r)
{
	pthread_barrier_t start;
	pthread_t th[3];
	int stop = 0;

	pthread_barrier_init(&start, NULL, 3);
	*r = (struct th_arg){ .b = b, .start = &start, .now = T0, .stop = &stop };
	w0->start = w1->start = &start;
	w0->reader = w1->reader = r;
	CU_ASSERT_FATAL(pthread_create(&th[0], NULL, th_charge_each, w0) == 0);
	CU_ASSERT_FATAL(pthread_create(&th[1], NULL, th_charge_each, w1) == 0);
	CU_ASSERT_FATAL(pthread_create(&th[2], NULL, th_reader, r) == 0);
	pthread_join(th[0], NULL);
	pthread_join(th[1], NULL);
	__atomic_store_n(&stop, 1, __ATOMIC_RELEASE);
	pthread_join(th[2], NULL);
	pthread_barrier_destroy(&start);
}

/* Two workers charge the same new senders at once: one entry each, charged
 * twice; a reader meanwhile always sees the right answers. */
static void
test_threads_same_new_senders(void)
{
	const uint64_t n = 20000, burst = 5;
	struct or_budget *b = mk(burst, 1, 4 * n);
	struct th_arg w0 = { .b = b, .base = 1000, .n = n, .now = T0 };
	struct th_arg w1 = w0, r;
	struct or_budget_stats s;
	uint64_t wrong = 0;

	for (uint64_t k = 0; k < burst; k++)
		charge(b, 1, T0);
	run_three(b, &w0, &w1, &r);
	for (uint64_t i = 1000; i < 1000 + n; i++)
		wrong += permits(b, i, T0) != ((int64_t)burst - 2) * 1000;
	CU_ASSERT_EQUAL(wrong, 0);
	s = stats(b, T0);
	CU_ASSERT_EQUAL(s.tracked, n + 1); /* no duplicate, none lost */
	CU_ASSERT_EQUAL(s.evicted_unrefilled, 0);
	CU_ASSERT_EQUAL(s.charged, 2 * n + burst);
	CU_ASSERT(r.reads > 0);
	CU_ASSERT_EQUAL(r.bad, 0);
	or_budget_free(b);
}

/* A 10-slot table churned by two workers placing distinct new senders
 * (every placement once full evicts one in debt): sender 1, with the most
 * debt, is never evicted and the reader always finds it. */
static void
test_threads_churn(void)
{
	const uint64_t n = 50000, burst = 3;
	struct or_budget *b = mk(burst, 1, 8);
	struct th_arg w0 = { .b = b, .base = 1000000, .n = n, .now = T0 };
	struct th_arg w1 = { .b = b, .base = 2000000, .n = n, .now = T0 };
	struct th_arg r;
	struct or_budget_stats s;

	for (uint64_t k = 0; k < burst; k++)
		charge(b, 1, T0);
	run_three(b, &w0, &w1, &r);
	s = stats(b, T0);
	CU_ASSERT_EQUAL(s.tracked, 10);
	CU_ASSERT_EQUAL(s.charged, 2 * n + burst);
	/* 9 free slots, then every newcomer evicted someone in debt */
	CU_ASSERT_EQUAL(s.evicted_unrefilled, 2 * n - 9);
	CU_ASSERT_EQUAL(s.recycled, 0);
	CU_ASSERT_EQUAL(permits(b, 1, T0), 0);
	CU_ASSERT(r.reads > 0);
	CU_ASSERT_EQUAL(r.bad, 0);

	/* An hour later every newcomer has refilled (sender 1 has 20 h of
	 * debt): 9 more fit in the 9 refilled slots, whichever of the two
	 * buckets they hash to first, and nobody in debt is evicted. */
	for (int k = 0; k < 17; k++)
		charge(b, 1, T0);
	for (uint64_t i = 0; i < 9; i++)
		charge(b, 3000000 + i, T0 + HOUR_MS);
	s = stats(b, T0 + HOUR_MS);
	CU_ASSERT_EQUAL(s.evicted_unrefilled, 2 * n - 9);
	CU_ASSERT_EQUAL(s.recycled, 9);
	CU_ASSERT_EQUAL(s.tracked, 10);
	or_budget_free(b);
}

/* The slot a reader is scanning is handed to the very sender it looks for:
 * the reader must not take the previous owner's word (over budget) for the
 * newcomer's (untracked or one charge: 3000 or 2000 permits, not over).
 * The writer publishes in cur which sender it places and when it starts
 * charging it further; a read counts only if cur did not change around it.
 * Phase 1 runs both threads freely. Phase 2 stops the reader with a signal
 * wherever it is in its loop, places the sender while it is stopped, then
 * lets it finish: the preemption between two loads of a lookup that only a
 * loaded machine makes, on every round (a lookup that skips its second
 * word read fails there within a few dozen rounds). */
#define HO_SIG SIGUSR1
#define HO_ROUNDS 800
#define HO_MAX_NS 750000000ll /* phase 2 stops early on a slow machine */

struct handover {
	struct or_budget *b;
	uint64_t cur;   /* sender << 1 | (1 once it may be over) */
	uint64_t seen;  /* the even cur the reader last started a read with */
	uint64_t reads; /* reads finished (written by the reader only) */
	int stop, parked, resume;
	uint64_t bad, checks;
};

static struct handover *ho_cur; /* for the signal handler */

/* Phase 2: the reader waits here, interrupted wherever it was. Only
 * lock-free atomics and a system call: async-signal-safe enough. */
static void
ho_park(int sig)
{
	(void)sig;
	__atomic_store_n(&ho_cur->parked, 1, __ATOMIC_SEQ_CST);
	while (!__atomic_load_n(&ho_cur->resume, __ATOMIC_ACQUIRE))
		sched_yield(); /* both threads may share one CPU */
}

static void *
th_handover_reader(void *p)
{
	struct handover *h = p;

	while (!__atomic_load_n(&h->stop, __ATOMIC_ACQUIRE)) {
		uint64_t v1 = __atomic_load_n(&h->cur, __ATOMIC_SEQ_CST), v2;
		struct or_token t = tok(v1 >> 1);
		uint64_t wrong = 0;

		if (v1 & 1)
			continue;
		__atomic_store_n(&h->seen, v1, __ATOMIC_RELEASE);
		/* Several lookups per check: a signal lands in one more often. */
		for (int i = 0; i < 4; i++) {
			int64_t pm = or_budget_permits(h->b, &t, T0);

			wrong += pm != 3000 && pm != 2000;
			wrong += or_budget_over(h->b, &t, T0) != 0;
		}
		__atomic_thread_fence(__ATOMIC_SEQ_CST);
		v2 = __atomic_load_n(&h->cur, __ATOMIC_SEQ_CST);
		if (v2 == v1) {
			h->bad += wrong;
			h->checks++;
		}
		__atomic_store_n(&h->reads, h->reads + 1, __ATOMIC_RELEASE);
		/* Stopped in this read: let the writer go on at once, should
		 * both threads share one CPU. */
		if (__atomic_load_n(&h->parked, __ATOMIC_ACQUIRE))
			sched_yield();
	}
	return NULL;
}

static int64_t
ns_since(const struct timespec *t0)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (t.tv_sec - t0->tv_sec) * 1000000000ll + t.tv_nsec - t0->tv_nsec;
}

/* Phase 2: sender k placed while the reader, in a read of k, is stopped.
 * -1 if the signal could not be sent. */
static int
ho_parked_round(struct handover *h, pthread_t reader, uint64_t k)
{
	uint64_t n;

	__atomic_store_n(&h->parked, 0, __ATOMIC_SEQ_CST);
	__atomic_store_n(&h->resume, 0, __ATOMIC_SEQ_CST);
	__atomic_store_n(&h->cur, k << 1, __ATOMIC_SEQ_CST);
	while (__atomic_load_n(&h->seen, __ATOMIC_ACQUIRE) != k << 1)
		sched_yield();
	if (pthread_kill(reader, HO_SIG) != 0)
		return -1;
	while (!__atomic_load_n(&h->parked, __ATOMIC_ACQUIRE))
		sched_yield();
	n = __atomic_load_n(&h->reads, __ATOMIC_ACQUIRE);
	charge(h->b, k, T0); /* evicts a sender that is over */
	__atomic_store_n(&h->resume, 1, __ATOMIC_RELEASE);
	/* The interrupted read finishes, and counts, before cur changes. */
	while (__atomic_load_n(&h->reads, __ATOMIC_ACQUIRE) == n)
		sched_yield();
	return 0;
}

/* After k's first charge: two more, and k is over like every other. */
static void
ho_charge_on(struct handover *h, uint64_t k)
{
	__atomic_store_n(&h->cur, k << 1 | 1, __ATOMIC_SEQ_CST);
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	charge(h->b, k, T0);
	charge(h->b, k, T0);
}

static void
test_threads_handover(void)
{
	/* cur starts odd: until the writer publishes its first newcomer, the
	 * reader has nothing to check (sender 0 is one of the ten over). */
	struct handover h = { .b = mk(3, 1, 8), .cur = 0 << 1 | 1 };
	struct sigaction sa = { .sa_handler = ho_park }, old;
	uint64_t k, parked = 0;
	struct timespec t0;
	int sent = 0;
	pthread_t th;

	for (uint64_t i = 0; i < 10; i++)
		for (int c = 0; c < 3; c++)
			charge(h.b, i, T0); /* a full table, every sender over */
	ho_cur = &h;
	sigemptyset(&sa.sa_mask);
	CU_ASSERT_FATAL(sigaction(HO_SIG, &sa, &old) == 0);
	CU_ASSERT_FATAL(pthread_create(&th, NULL, th_handover_reader, &h) == 0);
	/* Start once the reader has read (sender 100, untracked): one check
	 * in phase 1 whatever the scheduler does. */
	__atomic_store_n(&h.cur, 100 << 1, __ATOMIC_SEQ_CST);
	while (__atomic_load_n(&h.reads, __ATOMIC_ACQUIRE) == 0)
		sched_yield();
	for (k = 100; k < 1000100; k++) {
		__atomic_store_n(&h.cur, k << 1, __ATOMIC_SEQ_CST);
		charge(h.b, k, T0); /* evicts a sender that is over */
		ho_charge_on(&h, k);
	}
	clock_gettime(CLOCK_MONOTONIC, &t0);
	while (parked < HO_ROUNDS && (parked == 0 || ns_since(&t0) < HO_MAX_NS)) {
		sent = ho_parked_round(&h, th, k);
		if (sent < 0)
			break;
		ho_charge_on(&h, k++);
		parked++;
	}
	__atomic_store_n(&h.stop, 1, __ATOMIC_RELEASE);
	pthread_join(th, NULL);
	CU_ASSERT_FATAL(sigaction(HO_SIG, &old, NULL) == 0);
	CU_ASSERT_EQUAL(sent, 0);
	CU_ASSERT(parked > 0);
	CU_ASSERT(h.checks > parked);
	CU_ASSERT_EQUAL(h.bad, 0);
	CU_ASSERT_EQUAL(stats(h.b, T0).over_now, 10);
	or_budget_free(h.b);
}

/* The charge that leaves a sender over budget shows it over to every
 * reader at once: a reader that saw the bucket over (or_budget_permits
 * reads the table) gets 1 from or_budget_over just after, hint or no hint
 * (B1). Burst 1 goes over at the placement, burst 2 at a compare-and-swap;
 * 8 Ki hints, most not yet raised when their sender goes over. */
struct hint_race {
	struct or_budget *b[2];
	uint64_t cur; /* the sender being charged */
	int stop;
	uint64_t bad, checks;
};

static void *
th_hint_reader(void *p)
{
	struct hint_race *h = p;

	while (!__atomic_load_n(&h->stop, __ATOMIC_ACQUIRE)) {
		struct or_token t = tok(__atomic_load_n(&h->cur, __ATOMIC_ACQUIRE));

		for (int j = 0; j < 2; j++) {
			if (or_budget_permits(h->b[j], &t, T0) >= 1000)
				continue;
			h->bad += or_budget_over(h->b[j], &t, T0) != 1;
			__atomic_store_n(&h->checks, h->checks + 1,
					 __ATOMIC_RELEASE);
		}
	}
	return NULL;
}

static void
test_threads_hint_race(void)
{
	const uint64_t n = 100000;
	struct hint_race h = { .b = { mk(1, 1, 4 * n), mk(2, 1, 4 * n) } };
	pthread_t th;

	CU_ASSERT_FATAL(pthread_create(&th, NULL, th_hint_reader, &h) == 0);
	for (uint64_t i = 1; i <= n; i++) {
		__atomic_store_n(&h.cur, i, __ATOMIC_RELEASE);
		charge(h.b[0], i, T0);
		charge(h.b[1], i, T0);
		charge(h.b[1], i, T0);
		/* Go on once the reader checks: checks > 0 however late the
		 * scheduler runs it. */
		while (i == 1 && __atomic_load_n(&h.checks, __ATOMIC_ACQUIRE) == 0)
			sched_yield();
	}
	__atomic_store_n(&h.stop, 1, __ATOMIC_RELEASE);
	pthread_join(th, NULL);
	CU_ASSERT(h.checks > 0);
	CU_ASSERT_EQUAL(h.bad, 0);
	for (int j = 0; j < 2; j++) {
		CU_ASSERT_EQUAL(stats(h.b[j], T0).over_now, n); /* none evicted */
		or_budget_free(h.b[j]);
	}
}

/* More senders over budget than hints: every hint is ahead, so the answer
 * must come from the table, for the over senders and the others alike. */
static void
test_hints_shared(void)
{
	struct or_budget *b = mk(1, 6, 100000); /* 8 Ki hints, T = 10 min */
	const uint64_t t = HOUR_MS / 6;
	unsigned bad = 0;

	for (uint64_t i = 0; i < 60000; i++)
		charge(b, i, T0);
	for (uint64_t i = 0; i < 60000; i++) {
		bad += over(b, i, T0) != 1;
		bad += over(b, i, T0 + t - 1) != 1;
		bad += over(b, i, T0 + t) != 0;
		bad += over(b, 1000000 + i, T0) != 0;
	}
	CU_ASSERT_EQUAL(bad, 0);
	CU_ASSERT_EQUAL(stats(b, T0).over_now, 60000);
	or_budget_free(b);
}

static CU_TestInfo budget_tests[] = {
	{ "hints shared by more over-budget senders than hints",
	  test_hints_shared },
	{ "parameters and empty stats", test_params },
	{ "fresh sender not over", test_fresh_not_over },
	{ "burst of charges, then over", test_burst_then_over },
	{ "refill at the exact time (fake clock)", test_refill_exact },
	{ "overdraw lengthens the wait, capped", test_overdraw },
	{ "random traffic against a token-bucket model", test_model },
	{ "the sender's hash computed once: same answers", test_hash_once },
	{ "capacity pressure: refilled first, evictions counted",
	  test_capacity_pressure },
	{ "refilled slots reused round after round, no loss",
	  test_capacity_rounds },
	{ "stats: tracked, over now, charged", test_stats },
	{ "two workers, one sender: bounded overdraw",
	  test_threads_one_sender },
	{ "two workers, same new senders: one entry each",
	  test_threads_same_new_senders },
	{ "two workers churning a full table, reader unaffected",
	  test_threads_churn },
	{ "a slot handed over under a reader", test_threads_handover },
	{ "over budget as soon as the charge lands, hint or no hint",
	  test_threads_hint_race },
	CU_TEST_INFO_NULL,
};

OR_TEST_SUITE("budget", NULL, NULL, budget_tests)
