/* SPDX-License-Identifier: BSD-3-Clause
 *
 * The unit tests' pseudo-random numbers: splitmix64 (Steele, Lea and
 * Flood, "Fast splittable pseudorandom number generators", 2014), seeded
 * per test so that every run draws the same values and a failure
 * reproduces.
 */
#ifndef OR_RAND_H
#define OR_RAND_H

#include <stdint.h>

static inline uint64_t
or_rand_next(uint64_t *state)
{
	uint64_t z = (*state += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

/* Uniform in [0, n), n >= 1 (the modulo's bias is nothing at test sizes). */
static inline uint32_t
or_rand_below(uint64_t *state, uint32_t n)
{
	return (uint32_t)(or_rand_next(state) % n);
}

#endif
