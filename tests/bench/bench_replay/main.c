/* SPDX-License-Identifier: BSD-3-Clause
 *
 * bench_replay: the replay filter (dataplane/auth/replay.h) at 30 s of
 * 10 Mpps (make bench-replay [FILL=N] [CHECKS=N]).
 *
 * Virtual time runs at RATE = fill / window messages per second: message i
 * has send time t0 + i / RATE (the phones' clocks agree with ours) and a
 * unique random tag (splitmix64 of i, a bijection), and the filter is
 * ticked every 20 ms of virtual time, as the main lcore does. So the fill
 * leaves the filter holding `fill` messages with send times spread over
 * the window, and from then on old slots die as new messages come: the
 * steady state at capacity = fill.
 *
 *  1. fill: `fill` messages, one thread, bursts of 32 (or_replay_check_burst,
 *     as the worker calls it);
 *  2. one thread pinned to CPU 0: `checks` more messages;
 *  3. two threads pinned to CPUs 0 and 1: `checks` more, interleaved
 *     (thread k takes every other burst; thread 0 also ticks);
 *  4. the memory bound (membound.c), after the filter is freed: the same
 *     lines touched the same way on a table of the same size, without the
 *     filter's logic, on one then two threads. bound_ratio = bound ns /
 *     filter ns (1.0: the filter costs what its memory accesses cost).
 *     Then the floor: one line a check, one thread
 *     (floor_1line_ns_per_check_1t), below which no filter of this size
 *     can check.
 * Every measured message is new, so any SEEN is a false positive:
 * fp_rate = SEEN / measured checks (phases 2 and 3). Time spent in ticks
 * is left out of ns per check (the main lcore pays it; reported apart).
 * ns_per_check_2t is per thread: a thread's time / its checks.
 *
 * The last line of output is one JSON object.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "dataplane/auth/replay.h"
#include "tests/bench/bench_count.h"
#include "br_util.h"

#define BR_WINDOW_MS 30000u
#define BR_T0 1700000000000ull
#define BR_BURST 32u
#define BR_TICK_MS 20u

struct br_opts {
	uint64_t fill;
	uint64_t checks;
	int cpu[2];
};

/* Shared by the threads of a phase. */
struct br_phase {
	struct or_replay *r;
	uint64_t first;      /* index of the phase's first message */
	uint64_t n;          /* messages in the phase */
	double rate_per_ms;  /* messages per ms of virtual time */
	unsigned nthreads;
};

struct br_thread {
	struct br_phase *ph;
	unsigned id;
	int cpu;
	uint64_t next_tick;  /* virtual ms of the next tick (thread 0) */
	uint64_t checks, res[4];
	double secs, cpu_secs, tick_secs, tick_cpu_secs;
	uint64_t ticks;
};

static uint64_t
br_vtime(const struct br_phase *ph, uint64_t i)
{
	return BR_T0 + (uint64_t)((double)i / ph->rate_per_ms);
}

/* Thread id takes bursts id, id + nthreads, ... of the phase. Thread 0 is
 * also the tick: every BR_TICK_MS of its virtual time. */
static void *
br_run(void *arg)
{
	struct br_thread *t = arg;
	struct br_phase *ph = t->ph;
	uint64_t st[BR_BURST], tag[BR_BURST];
	uint8_t res[BR_BURST];
	uint64_t end = ph->first + ph->n;
	double start, cpu_start;

	if (t->cpu >= 0 && br_pin(t->cpu) != 0)
		fprintf(stderr, "bench_replay: cannot pin to CPU %d\n", t->cpu);
	start = br_now();
	cpu_start = br_cpu();
	for (uint64_t i = ph->first + (uint64_t)t->id * BR_BURST; i < end;
	     i += (uint64_t)ph->nthreads * BR_BURST) {
		unsigned n = end - i < BR_BURST ? (unsigned)(end - i) : BR_BURST;
		uint64_t now = br_vtime(ph, i);

		if (t->id == 0 && now >= t->next_tick) {
			double t1 = br_now(), c1 = br_cpu();

			or_replay_tick(ph->r, now);
			t->next_tick = now + BR_TICK_MS;
			t->tick_secs += br_now() - t1;
			t->tick_cpu_secs += br_cpu() - c1;
			t->ticks++;
		}
		/* a burst is 3.2 us of virtual time at 10 Mpps: one send time */
		for (unsigned k = 0; k < n; k++) {
			st[k] = now;
			tag[k] = br_tag(i + k);
		}
		or_replay_check_burst(ph->r, n, st, tag, now, res);
		for (unsigned k = 0; k < n; k++)
			t->res[res[k] & 3]++;
		t->checks += n;
	}
	t->secs = br_now() - start;
	t->cpu_secs = br_cpu() - cpu_start;
	return NULL;
}

/* One phase with nthreads threads; returns 0 or -1. */
static int
br_phase_run(struct br_phase *ph, struct br_thread *th, const int *cpu,
	     uint64_t *next_tick)
{
	pthread_t tid[2];

	for (unsigned k = 0; k < ph->nthreads; k++) {
		memset(&th[k], 0, sizeof(th[k]));
		th[k].ph = ph;
		th[k].id = k;
		th[k].cpu = cpu[k];
		th[k].next_tick = *next_tick;
		if (pthread_create(&tid[k], NULL, br_run, &th[k]) != 0)
			return -1;
	}
	for (unsigned k = 0; k < ph->nthreads; k++)
		pthread_join(tid[k], NULL);
	*next_tick = th[0].next_tick;
	return 0;
}

/* ns per check, tick time left out; per thread, then averaged. Wall
 * clock, or the thread's CPU time (what it would take on a core of its
 * own when other processes share the CPUs). */
static double
br_ns(const struct br_thread *th, unsigned n, int cpu)
{
	double s = 0;

	for (unsigned k = 0; k < n; k++)
		s += (cpu ? th[k].cpu_secs - th[k].tick_cpu_secs :
			    th[k].secs - th[k].tick_secs) * 1e9 /
			(double)th[k].checks;
	return s / n;
}

static uint64_t
br_kb(const char *file, const char *field)
{
	char line[256];
	size_t fl = strlen(field);
	uint64_t v = 0;
	FILE *f = fopen(file, "r");

	if (f == NULL)
		return 0;
	while (fgets(line, sizeof(line), f) != NULL)
		if (strncmp(line, field, fl) == 0 && line[fl] == ':') {
			v = strtoull(line + fl + 1, NULL, 10);
			break;
		}
	fclose(f);
	return v;
}

static int
br_opts(int argc, char **argv, struct br_opts *o)
{
	static const struct option lo[] = {
		{ "fill", 1, NULL, 'f' }, { "checks", 1, NULL, 'c' },
		{ "cpus", 1, NULL, 'p' }, { "help", 0, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int c;

	*o = (struct br_opts){ .fill = 300000000, .checks = 50000000,
			       .cpu = { 0, 1 } };
	while ((c = getopt_long(argc, argv, "", lo, NULL)) != -1) {
		switch (c) {
		case 'f':
			if (bench_parse_count(optarg, 1000, 4000000000u, &o->fill) != 0)
				goto bad;
			break;
		case 'c':
			if (bench_parse_count(optarg, 1000, 4000000000u, &o->checks) != 0)
				goto bad;
			break;
		case 'p':
			if (sscanf(optarg, "%d,%d", &o->cpu[0], &o->cpu[1]) != 2)
				goto bad;
			break;
		case 'h':
		default:
			goto bad;
		}
	}
	if (optind == argc)
		return 0;
bad:
	fprintf(stderr,
"usage: bench_replay [--fill N] [--checks N] [--cpus A,B]\n"
"  --fill N     messages held: 30 s of N/30 per second (default 300M)\n"
"  --checks N   measured messages, with one thread, then with two (default 50M)\n"
"  --cpus A,B   CPUs of the two threads (default 0,1)\n");
	return -1;
}

int
main(int argc, char **argv)
{
	struct br_opts o;
	struct or_replay_params p = { .window_ms = BR_WINDOW_MS, .socket_id = -1 };
	struct or_replay *r = NULL;
	struct or_replay_stats s;
	struct br_phase ph;
	struct br_thread th[2];
	uint64_t next_tick = 0, seen = 0, full = 0, stale = 0, checked = 0;
	uint64_t fill_seen;
	double ns_fill, ns1, ns2, wall1, wall2, mpps2, tick_ms, fp_expect;
	double live_epoch, load[2], bound[3];
	const char *bound_mem;
	int rc;

	if (br_opts(argc, argv, &o) != 0)
		return 2;
	p.capacity = o.fill;
	rc = or_replay_create(&p, &r);
	if (rc != 0) {
		fprintf(stderr, "or_replay_create: %s\n", strerror(-rc));
		return 1;
	}
	or_replay_stats(r, &s);
	printf("filter: capacity %" PRIu64 ", window %u ms, slot %" PRIu64
	       " ms, %" PRIu64 " entries, %.1f MiB (%s), %.2f B/message\n",
	       s.capacity, BR_WINDOW_MS, s.slot_ms, s.entries,
	       (double)s.bytes / (1 << 20), s.memory,
	       (double)s.bytes / (double)s.capacity);

	ph = (struct br_phase){ .r = r, .first = 0, .n = o.fill,
				.rate_per_ms = (double)o.fill / BR_WINDOW_MS,
				.nthreads = 1 };
	next_tick = BR_T0;
	if (br_phase_run(&ph, th, o.cpu, &next_tick) != 0)
		return 1;
	ns_fill = br_ns(th, 1, 1);
	fill_seen = th[0].res[OR_REPLAY_SEEN];
	printf("fill: %" PRIu64 " messages at %.1f ns (CPU) each (NEW %" PRIu64
	       ", SEEN %" PRIu64 ", FULL %" PRIu64 ", STALE %" PRIu64 ")\n",
	       o.fill, ns_fill, th[0].res[OR_REPLAY_NEW], fill_seen,
	       th[0].res[OR_REPLAY_FULL], th[0].res[OR_REPLAY_STALE]);

	ph.first += ph.n;
	ph.n = o.checks;
	if (br_phase_run(&ph, th, o.cpu, &next_tick) != 0)
		return 1;
	ns1 = br_ns(th, 1, 1);
	wall1 = br_ns(th, 1, 0);
	tick_ms = th[0].tick_cpu_secs * 1e3 /
		((double)o.checks / ph.rate_per_ms / 1e3);
	seen += th[0].res[OR_REPLAY_SEEN];
	full += th[0].res[OR_REPLAY_FULL];
	stale += th[0].res[OR_REPLAY_STALE];
	checked += th[0].checks;
	printf("1 thread (CPU %d): %.2f ns/check of CPU time (%.2f wall), ticks"
	       " %.2f ms per virtual s (%" PRIu64 " ticks)\n", o.cpu[0], ns1,
	       wall1, tick_ms, th[0].ticks);

	ph.first += ph.n;
	ph.nthreads = 2;
	if (br_phase_run(&ph, th, o.cpu, &next_tick) != 0)
		return 1;
	ns2 = br_ns(th, 2, 1);
	wall2 = br_ns(th, 2, 0);
	mpps2 = (double)(th[0].checks + th[1].checks) /
		(th[0].secs > th[1].secs ? th[0].secs : th[1].secs) / 1e6;
	for (unsigned k = 0; k < 2; k++) {
		seen += th[k].res[OR_REPLAY_SEEN];
		full += th[k].res[OR_REPLAY_FULL];
		stale += th[k].res[OR_REPLAY_STALE];
		checked += th[k].checks;
	}
	printf("2 threads (CPUs %d,%d): %.2f ns/check per thread of CPU time"
	       " (%.2f wall), %.1f M checks/s together\n", o.cpu[0], o.cpu[1],
	       ns2, wall2, mpps2);

	or_replay_stats(r, &s);
	/* Live entries of one epoch: one slot's messages. A fresh message is
	 * compared with those of its two buckets: 2 * per_slot / nb of them. */
	live_epoch = (double)o.fill / BR_WINDOW_MS * (double)s.slot_ms;
	fp_expect = 2 * live_epoch / ((double)s.entries / 16) / (double)(1u << 26);
	printf("measured: %" PRIu64 " checks, SEEN (false positives) %" PRIu64
	       " = %.3g, expected %.2g; FULL %" PRIu64 ", STALE %" PRIu64 "\n",
	       checked, seen, (double)seen / (double)checked, fp_expect, full,
	       stale);
	printf("filter: %" PRIu64 " live entries at the last sweep (load %.3f),"
	       " sweep passes %" PRIu64 ", cleared %" PRIu64 ", forced %" PRIu64
	       ", retries %" PRIu64 "; RSS %" PRIu64 " MiB, THP %" PRIu64 " MiB\n",
	       s.entries_approx, (double)s.entries_approx / (double)s.entries,
	       s.sweep_passes, s.sweep_cleared, s.sweep_forced, s.retries,
	       br_kb("/proc/self/status", "VmRSS") >> 10,
	       br_kb("/proc/self/smaps_rollup", "AnonHugePages") >> 10);
	or_replay_free(r);
	if (br_membound(s.bytes, o.checks, o.cpu, bound, &bound_mem) != 0)
		return 1;
	printf("memory bound (%s): %.2f ns/check of CPU time on one thread, "
	       "%.2f per thread on two; the filter takes %.2fx and %.2fx that\n",
	       bound_mem, bound[0], bound[1], ns1 / bound[0], ns2 / bound[1]);
	printf("floor of any filter of this size (one random line a check, "
	       "one thread): %.2f ns/check\n", bound[2]);
	printf("{\"bench\":\"replay\",\"fill\":%" PRIu64 ",\"ns_per_check_1t\":%.2f,"
	       "\"ns_per_check_2t\":%.2f,\"bytes\":%" PRIu64 ",\"fp_rate\":%.3g,"
	       "\"fp_checked\":%" PRIu64 ",\"fp_expected\":%.2g,\"full\":%" PRIu64
	       ",\"stale\":%" PRIu64 ",\"mchecks_per_s_2t\":%.1f,"
	       "\"ns_per_check_fill\":%.2f,\"wall_ns_per_check_1t\":%.2f,"
	       "\"wall_ns_per_check_2t\":%.2f,\"tick_ms_per_s\":%.2f,"
	       "\"memory\":\"%s\",\"bound_ns_per_check_1t\":%.2f,"
	       "\"bound_ns_per_check_2t\":%.2f,\"bound_ratio_1t\":%.3f,"
	       "\"bound_ratio_2t\":%.3f,\"floor_1line_ns_per_check_1t\":%.2f,"
	       "\"loadavg\":%.2f}\n",
	       o.fill, ns1, ns2, s.bytes, (double)seen / (double)checked,
	       checked, fp_expect, full, stale, mpps2, ns_fill, wall1, wall2,
	       tick_ms, s.memory, bound[0], bound[1], bound[0] / ns1,
	       bound[1] / ns2, bound[2],
	       getloadavg(load, 1) == 1 ? load[0] : -1.0);
	return 0;
}
