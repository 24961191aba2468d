/* The deterministic token set of `optroute-chanctl random N SEED`
 * (docs/channel.md): entry i is made of three splitmix64 values drawn from
 * state seed + 3 * i * gamma — two for the token, one for its state and
 * node — so any tool (optroute-pcapgen) derives entry i without the others. */
#ifndef OR_RANDOM_ENTRY_H
#define OR_RANDOM_ENTRY_H

#include <stdint.h>
#include <string.h>

#include "optroute/consent.h"

#define OR_SPLITMIX_GAMMA 0x9e3779b97f4a7c15ull

struct or_random_entry {
	struct or_token t;
	int in;        /* opted in (else out) */
	uint16_t node;
};

static inline uint64_t
or_splitmix64(uint64_t *s)
{
	uint64_t z = (*s += OR_SPLITMIX_GAMMA);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

/* out_permille of the entries are opted out; nodes >= 1. */
static inline void
or_random_entry(uint64_t seed, uint64_t i, uint64_t out_permille,
		uint64_t nodes, struct or_random_entry *e)
{
	uint64_t st = seed + 3 * i * OR_SPLITMIX_GAMMA;
	uint64_t a = or_splitmix64(&st), b = or_splitmix64(&st);
	uint64_t r = or_splitmix64(&st);

	memcpy(e->t.b, &a, 8);
	memcpy(e->t.b + 8, &b, 8);
	e->in = r % 1000 >= out_permille;
	e->node = (uint16_t)((r >> 16) % nodes);
}

#endif
