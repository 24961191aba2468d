/* SPDX-License-Identifier: BSD-3-Clause
 *
 * The benchmarks' count options: 10000000, 10M, 1.5k, 1e6 or 3G, within
 * [min, max]. Shared by bench_table and bench_replay.
 */
#ifndef BENCH_COUNT_H
#define BENCH_COUNT_H

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>

/* 0, or -EINVAL (not a count, or out of range). */
static inline int
bench_parse_count(const char *s, uint64_t min, uint64_t max, uint64_t *out)
{
	char *end;
	double v = strtod(s, &end);

	if (end == s)
		return -EINVAL;
	if (*end == 'k' || *end == 'K')
		v *= 1e3, end++;
	else if (*end == 'm' || *end == 'M')
		v *= 1e6, end++;
	else if (*end == 'g' || *end == 'G')
		v *= 1e9, end++;
	if (*end != '\0' || !(v >= (double)min && v <= (double)max))
		return -EINVAL;
	*out = (uint64_t)v;
	return 0;
}

#endif
