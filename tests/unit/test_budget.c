/* Enumeration budget (dataplane/auth/budget.h): the bucket arithmetic
 * against an independent model, exact refill times on a fake clock,
 * capacity pressure and eviction accounting, and hints shared by more
 * over-budget senders than there are hints. Concurrent workers are the
 * `budget_threads` suite (test_budget_threads.c). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "or_test.h"
#include "test_budget_util.h"

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
	CU_TEST_INFO_NULL,
};

OR_TEST_SUITE("budget", NULL, NULL, budget_tests)
