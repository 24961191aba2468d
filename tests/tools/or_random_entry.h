/* The deterministic token set of `optroute-chanctl random N SEED`
 * (docs/channel.md): entry i is made of three splitmix64 values drawn from
 * state seed + 3 * i * gamma — two for the token, one for its state and
 * node — so any tool (optroute-pcapgen) derives entry i without the others. */
#ifndef OR_RANDOM_ENTRY_H
#define OR_RANDOM_ENTRY_H

#include <stdint.h>
#include <string.h>

#include "optroute/consent.h"

#include "tests/lib/or_rand.h"

struct or_random_entry {
	struct or_token t;
	int in;        /* opted in (else out) */
	uint16_t node;
};

/* out_permille of the entries are opted out; nodes >= 1. */
static inline void
or_random_entry(uint64_t seed, uint64_t i, uint64_t out_permille,
		uint64_t nodes, struct or_random_entry *e)
{
	uint64_t st = seed + 3 * i * OR_RAND_GAMMA;
	uint64_t a = or_rand_next(&st), b = or_rand_next(&st);
	uint64_t r = or_rand_next(&st);

	memcpy(e->t.b, &a, 8);
	memcpy(e->t.b + 8, &b, 8);
	e->in = r % 1000 >= out_permille;
	e->node = (uint16_t)((r >> 16) % nodes);
}

#endif
