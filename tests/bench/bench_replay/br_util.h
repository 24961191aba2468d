/* SPDX-License-Identifier: BSD-3-Clause
 *
 * bench_replay's clocks, pinning and message tags, shared by the filter's
 * phases (main.c) and the memory bound (membound.c).
 */
#ifndef BR_UTIL_H
#define BR_UTIL_H

#include <pthread.h>
#include <sched.h>
#include <stdint.h>
#include <time.h>
#include "tests/lib/or_rand.h"

static inline double
br_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static inline double
br_cpu(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static inline uint64_t
br_tag(uint64_t i)
{
	return or_rand_mix(i);
}

static inline int
br_pin(int cpu)
{
	cpu_set_t set;

	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	return -pthread_setaffinity_np(pthread_self(), sizeof(set), &set);
}

/* Measures what the table's memory allows: the filter's own access
 * pattern (two random lines of a table of `bytes`, one of them written by a
 * compare-and-swap, prefetched a burst ahead) with none of its logic, on one
 * thread then two (CPUs cpu[0], cpu[1]); ns[0], ns[1]: CPU ns per check
 * per thread. ns[2]: the floor, one line a check, one thread. 0, or -1
 * (no memory; message printed). */
int br_membound(uint64_t bytes, uint64_t checks, const int *cpu, double ns[3],
		const char **memory);

#endif
