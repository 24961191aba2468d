/* SPDX-License-Identifier: BSD-3-Clause
 *
 * bench_table: what the benchmark needs from the system: the clock, big
 * allocations, /proc counters, CPU pinning, and the median of the runs.
 */
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>

#include "bench_table.h"

double
bt_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* Anonymous memory with transparent hugepages, like the table's buckets
 * when they do not come from rte_malloc, so the TLB treats both alike. */
void *
bt_big_alloc(size_t len)
{
	void *p = mmap(NULL, len, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (p == MAP_FAILED)
		return NULL;
	(void)madvise(p, len, MADV_HUGEPAGE);
	return p;
}

void
bt_big_free(void *p, size_t len)
{
	if (p != NULL)
		munmap(p, len);
}

uint64_t
bt_meminfo_kb(const char *file, const char *field)
{
	char line[256];
	uint64_t v = 0;
	size_t fl = strlen(field);
	FILE *f = fopen(file, "r");

	if (f == NULL)
		return 0;
	while (fgets(line, sizeof(line), f) != NULL) {
		if (strncmp(line, field, fl) == 0 && line[fl] == ':') {
			v = strtoull(line + fl + 1, NULL, 10);
			break;
		}
	}
	fclose(f);
	return v;
}

/* Transparent hugepages this process has, in KiB. */
uint64_t
bt_thp_kb(void)
{
	return bt_meminfo_kb("/proc/self/smaps_rollup", "AnonHugePages");
}

int
bt_pin_self(int core)
{
	cpu_set_t set;

	CPU_ZERO(&set);
	CPU_SET(core, &set);
	return -pthread_setaffinity_np(pthread_self(), sizeof(set), &set);
}

static int
cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

double
bt_median(double *v, unsigned n)
{
	qsort(v, n, sizeof(*v), cmp_double);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}
