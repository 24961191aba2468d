/* SPDX-License-Identifier: BSD-3-Clause
 *
 * The memory bound of the replay filter, measured in the same run: its
 * access pattern without its logic. A check of the filter reads the 64-byte
 * lines of two random buckets and writes one entry with a compare-and-swap;
 * here each "check" does exactly that on a table of the same size and the
 * same memory (hugetlb or THP), bursts of 32 prefetched first as
 * or_replay_check_burst does. No hashing, no scan, no tick: what is left of
 * the filter's time above this figure is its own work; this figure is what
 * the machine's memory charges for the pattern.
 *
 * Then the floor of any filter of this size: the same loop reading and
 * CASing ONE random line a check (one thread). A design that reads a
 * second line only now and then (a bucket that records a spill, say) sits
 * between the two figures; none goes below the floor.
 */
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>

#include "br_util.h"

#define MB_BURST 32u
#define MB_LINE 64u

struct mb_thread {
	uint32_t *table;
	uint64_t lines;
	uint64_t first, n, step; /* bursts first, first + step, ... below n */
	unsigned lines_per_check; /* 2: the filter's pattern; 1: the floor */
	int cpu;
	double cpu_secs;
	uint64_t checks, sum;
};

static void *
mb_run(void *arg)
{
	struct mb_thread *t = arg;
	const uint64_t words = MB_LINE / sizeof(uint32_t);
	uint64_t a[MB_BURST], b[MB_BURST];
	double c0;

	if (t->cpu >= 0 && br_pin(t->cpu) != 0)
		fprintf(stderr, "bench_replay: cannot pin to CPU %d\n", t->cpu);
	c0 = br_cpu();
	for (uint64_t i = t->first; i < t->n; i += t->step) {
		for (unsigned k = 0; k < MB_BURST; k++) {
			uint64_t h = br_tag(i + k);

			a[k] = ((h & 0xffffffffu) * t->lines >> 32) * words;
			b[k] = ((h >> 32) * t->lines >> 32) * words;
			__builtin_prefetch(&t->table[a[k]], 1, 3);
			if (t->lines_per_check == 2)
				__builtin_prefetch(&t->table[b[k]], 1, 3);
		}
		for (unsigned k = 0; k < MB_BURST; k++) {
			uint32_t v = __atomic_load_n(&t->table[a[k]], __ATOMIC_RELAXED);
			uint32_t w = t->lines_per_check == 2 ?
				__atomic_load_n(&t->table[b[k]], __ATOMIC_RELAXED) : 0;

			(void)__atomic_compare_exchange_n(&t->table[a[k]], &v, v + w + 1,
							  0, __ATOMIC_SEQ_CST,
							  __ATOMIC_RELAXED);
			t->sum += v;
		}
		t->checks += MB_BURST;
	}
	t->cpu_secs = br_cpu() - c0;
	return NULL;
}

static double
mb_phase(uint32_t *table, uint64_t lines, uint64_t checks, unsigned nthreads,
	 unsigned lines_per_check, const int *cpu)
{
	struct mb_thread th[2];
	pthread_t tid[2];
	double ns = 0;

	for (unsigned k = 0; k < nthreads; k++) {
		th[k] = (struct mb_thread){ .table = table, .lines = lines,
					    .first = (uint64_t)k * MB_BURST,
					    .n = checks,
					    .step = (uint64_t)nthreads * MB_BURST,
					    .lines_per_check = lines_per_check,
					    .cpu = cpu[k] };
		if (pthread_create(&tid[k], NULL, mb_run, &th[k]) != 0)
			return -1;
	}
	for (unsigned k = 0; k < nthreads; k++) {
		pthread_join(tid[k], NULL);
		ns += th[k].cpu_secs * 1e9 / (double)th[k].checks;
	}
	return ns / nthreads;
}

int
br_membound(uint64_t bytes, uint64_t checks, const int *cpu, double ns[3],
	    const char **memory)
{
	void *m;

	bytes = (bytes + (2u << 20) - 1) & ~((uint64_t)(2u << 20) - 1);
	m = mmap(NULL, bytes, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS | MAP_HUGETLB, -1, 0);

	*memory = "hugetlb";
	if (m == MAP_FAILED) {
		m = mmap(NULL, bytes, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (m == MAP_FAILED) {
			perror("bench_replay: memory bound: mmap");
			return -1;
		}
		(void)madvise(m, bytes, MADV_HUGEPAGE);
		*memory = "thp";
	}
	memset(m, 0, bytes); /* fault every page in before the clock runs */
	ns[0] = mb_phase(m, bytes / MB_LINE, checks, 1, 2, cpu);
	ns[1] = mb_phase(m, bytes / MB_LINE, checks, 2, 2, cpu);
	ns[2] = mb_phase(m, bytes / MB_LINE, checks, 1, 1, cpu);
	munmap(m, bytes);
	return ns[0] < 0 || ns[1] < 0 || ns[2] < 0 ? -1 : 0;
}
