/* SPDX-License-Identifier: BSD-3-Clause
 *
 * The tests' pseudo-random numbers, for unit tests, fuzz targets, tools
 * and benchmarks alike: splitmix64 (Steele, Lea and Flood, "Fast
 * splittable pseudorandom number generators", 2014). Seeded per test, so
 * that every run draws the same values and a failure reproduces; a
 * bijection of its input, so or_rand_mix(i) gives distinct values for
 * distinct i.
 */
#ifndef OR_RAND_H
#define OR_RAND_H

#include <stdint.h>

#define OR_RAND_GAMMA 0x9e3779b97f4a7c15ull

/* The value of state x (the stream's element after x). */
static inline uint64_t
or_rand_mix(uint64_t x)
{
	uint64_t z = x + OR_RAND_GAMMA;

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

/* The next value of the stream *state. */
static inline uint64_t
or_rand_next(uint64_t *state)
{
	uint64_t v = or_rand_mix(*state);

	*state += OR_RAND_GAMMA;
	return v;
}

/* Uniform in [0, n), n >= 1 (the modulo's bias is nothing at test sizes). */
static inline uint32_t
or_rand_below(uint64_t *state, uint32_t n)
{
	return (uint32_t)(or_rand_next(state) % n);
}

#endif
