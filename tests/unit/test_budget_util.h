/* Helpers of the `budget` and `budget_threads` suites: sender number i as
 * a token, a budget table, and the calls on sender numbers. */
#ifndef OR_TEST_BUDGET_UTIL_H
#define OR_TEST_BUDGET_UTIL_H

#include <stdint.h>
#include <string.h>

#include <CUnit/CUnit.h>

#include "optroute/consent.h"
#include "dataplane/auth/budget.h"
#include "tests/lib/or_rand.h"

#define HOUR_MS 3600000ull
#define T0 1000000ull /* an arbitrary start of the fake clock, in ms */

/* Sender number i, as a random-looking token. */
static inline struct or_token
tok(uint64_t i)
{
	struct or_token t;
	uint64_t x = i * 2 + 1, a = or_rand_next(&x), b = or_rand_next(&x);

	memcpy(t.b, &a, 8);
	memcpy(t.b + 8, &b, 8);
	return t;
}

static inline struct or_budget *
mk(uint32_t burst, uint32_t refill, uint32_t capacity)
{
	struct or_budget_params p = { .burst = burst, .refill_per_hour = refill,
				      .capacity = capacity, .socket_id = -1 };
	struct or_budget *b = NULL;

	CU_ASSERT_FATAL(or_budget_create(&p, &b) == 0);
	CU_ASSERT_FATAL(b != NULL);
	return b;
}

static inline int
over(const struct or_budget *b, uint64_t i, uint64_t now)
{
	struct or_token t = tok(i);

	return or_budget_over(b, &t, now);
}

static inline void
charge(struct or_budget *b, uint64_t i, uint64_t now)
{
	struct or_token t = tok(i);

	or_budget_charge(b, &t, now);
}

static inline int64_t
permits(const struct or_budget *b, uint64_t i, uint64_t now)
{
	struct or_token t = tok(i);

	return or_budget_permits(b, &t, now);
}

static inline struct or_budget_stats
stats(const struct or_budget *b, uint64_t now)
{
	struct or_budget_stats s;

	or_budget_stats(b, now, &s);
	return s;
}

#endif
