/* Enumeration budget (dataplane/auth/budget.h) under concurrent workers:
 * bounded overdraw, one entry per sender, readers never confused by slots
 * changing hands nor misled by a hint. The single-threaded rules are the
 * `budget` suite (test_budget.c). */
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "or_test.h"
#include "test_budget_util.h"

struct th_arg {
	struct or_budget *b;
	pthread_barrier_t *start;
	uint64_t base;  /* first sender number of this thread */
	uint64_t n;
	uint64_t now;
	uint64_t done;  /* charges made */
	int *stop;      /* for the reader */
	uint64_t bad;   /* reader: wrong answers */
	uint64_t reads;
	const struct th_arg *reader; /* a worker starts once it has read */
};

/* A worker's protocol for one sender until it is over budget. */
static void *
th_drain(void *p)
{
	struct th_arg *a = p;
	struct or_token t = tok(a->base);

	pthread_barrier_wait(a->start);
	while (!or_budget_over(a->b, &t, a->now)) {
		or_budget_charge(a->b, &t, a->now);
		a->done++;
	}
	return NULL;
}

/* Two workers bouncing MSGs of one sender at the same time: they may pass
 * the check together once at the end (overdraw <= workers - 1), and no
 * charge is lost. */
static void
test_threads_one_sender(void)
{
	for (int round = 0; round < 20; round++) {
		const uint64_t burst = 20000;
		struct or_budget *b = mk(burst, 1, 1000);
		pthread_barrier_t start;
		struct th_arg a[2];
		pthread_t th[2];
		uint64_t total;

		pthread_barrier_init(&start, NULL, 2);
		for (int i = 0; i < 2; i++) {
			a[i] = (struct th_arg){ .b = b, .start = &start,
						.base = (uint64_t)round, .now = T0 };
			CU_ASSERT_FATAL(pthread_create(&th[i], NULL, th_drain,
						       &a[i]) == 0);
		}
		for (int i = 0; i < 2; i++)
			pthread_join(th[i], NULL);
		pthread_barrier_destroy(&start);
		total = a[0].done + a[1].done;
		CU_ASSERT(total >= burst);
		CU_ASSERT(total <= burst + 1);
		CU_ASSERT_EQUAL(permits(b, (uint64_t)round, T0),
				((int64_t)burst - (int64_t)total) * 1000);
		CU_ASSERT_EQUAL(stats(b, T0).charged, total);
		CU_ASSERT_EQUAL(stats(b, T0).tracked, 1);
		or_budget_free(b);
	}
}

/* Each thread charges senders base .. base + n - 1 once. */
static void *
th_charge_each(void *p)
{
	struct th_arg *a = p;

	pthread_barrier_wait(a->start);
	/* A reader not yet scheduled when the workers are done would have
	 * checked nothing (seen under load: reads == 0). */
	while (a->reader != NULL &&
	       __atomic_load_n(&a->reader->reads, __ATOMIC_ACQUIRE) == 0)
		sched_yield();
	for (uint64_t i = 0; i < a->n; i++) {
		struct or_token t = tok(a->base + i);

		or_budget_charge(a->b, &t, a->now);
		a->done++;
	}
	return NULL;
}

/* Reads sender 1 (over budget, never evicted) and sender 2 (never charged)
 * while slots around them change hands. */
static void *
th_reader(void *p)
{
	struct th_arg *a = p;
	struct or_token x = tok(1), y = tok(2);

	pthread_barrier_wait(a->start);
	while (!__atomic_load_n(a->stop, __ATOMIC_ACQUIRE)) {
		a->bad += or_budget_over(a->b, &x, a->now) != 1;
		a->bad += or_budget_over(a->b, &y, a->now) != 0;
		a->bad += or_budget_permits(a->b, &x, a->now) != 0;
		__atomic_store_n(&a->reads, a->reads + 1, __ATOMIC_RELEASE);
	}
	return NULL;
}

static void
run_three(struct or_budget *b, struct th_arg *w0, struct th_arg *w1,
	  struct th_arg *r)
{
	pthread_barrier_t start;
	pthread_t th[3];
	int stop = 0;

	pthread_barrier_init(&start, NULL, 3);
	*r = (struct th_arg){ .b = b, .start = &start, .now = T0, .stop = &stop };
	w0->start = w1->start = &start;
	w0->reader = w1->reader = r;
	CU_ASSERT_FATAL(pthread_create(&th[0], NULL, th_charge_each, w0) == 0);
	CU_ASSERT_FATAL(pthread_create(&th[1], NULL, th_charge_each, w1) == 0);
	CU_ASSERT_FATAL(pthread_create(&th[2], NULL, th_reader, r) == 0);
	pthread_join(th[0], NULL);
	pthread_join(th[1], NULL);
	__atomic_store_n(&stop, 1, __ATOMIC_RELEASE);
	pthread_join(th[2], NULL);
	pthread_barrier_destroy(&start);
}

/* Two workers charge the same new senders at once: one entry each, charged
 * twice; a reader meanwhile always sees the right answers. */
static void
test_threads_same_new_senders(void)
{
	const uint64_t n = 20000, burst = 5;
	struct or_budget *b = mk(burst, 1, 4 * n);
	struct th_arg w0 = { .b = b, .base = 1000, .n = n, .now = T0 };
	struct th_arg w1 = w0, r;
	struct or_budget_stats s;
	uint64_t wrong = 0;

	for (uint64_t k = 0; k < burst; k++)
		charge(b, 1, T0);
	run_three(b, &w0, &w1, &r);
	for (uint64_t i = 1000; i < 1000 + n; i++)
		wrong += permits(b, i, T0) != ((int64_t)burst - 2) * 1000;
	CU_ASSERT_EQUAL(wrong, 0);
	s = stats(b, T0);
	CU_ASSERT_EQUAL(s.tracked, n + 1); /* no duplicate, none lost */
	CU_ASSERT_EQUAL(s.evicted_unrefilled, 0);
	CU_ASSERT_EQUAL(s.charged, 2 * n + burst);
	CU_ASSERT(r.reads > 0);
	CU_ASSERT_EQUAL(r.bad, 0);
	or_budget_free(b);
}

/* A 10-slot table churned by two workers placing distinct new senders
 * (every placement once full evicts one in debt): sender 1, with the most
 * debt, is never evicted and the reader always finds it. */
static void
test_threads_churn(void)
{
	const uint64_t n = 50000, burst = 3;
	struct or_budget *b = mk(burst, 1, 8);
	struct th_arg w0 = { .b = b, .base = 1000000, .n = n, .now = T0 };
	struct th_arg w1 = { .b = b, .base = 2000000, .n = n, .now = T0 };
	struct th_arg r;
	struct or_budget_stats s;

	for (uint64_t k = 0; k < burst; k++)
		charge(b, 1, T0);
	run_three(b, &w0, &w1, &r);
	s = stats(b, T0);
	CU_ASSERT_EQUAL(s.tracked, 10);
	CU_ASSERT_EQUAL(s.charged, 2 * n + burst);
	/* 9 free slots, then every newcomer evicted someone in debt */
	CU_ASSERT_EQUAL(s.evicted_unrefilled, 2 * n - 9);
	CU_ASSERT_EQUAL(s.recycled, 0);
	CU_ASSERT_EQUAL(permits(b, 1, T0), 0);
	CU_ASSERT(r.reads > 0);
	CU_ASSERT_EQUAL(r.bad, 0);

	/* An hour later every newcomer has refilled (sender 1 has 20 h of
	 * debt): 9 more fit in the 9 refilled slots, whichever of the two
	 * buckets they hash to first, and nobody in debt is evicted. */
	for (int k = 0; k < 17; k++)
		charge(b, 1, T0);
	for (uint64_t i = 0; i < 9; i++)
		charge(b, 3000000 + i, T0 + HOUR_MS);
	s = stats(b, T0 + HOUR_MS);
	CU_ASSERT_EQUAL(s.evicted_unrefilled, 2 * n - 9);
	CU_ASSERT_EQUAL(s.recycled, 9);
	CU_ASSERT_EQUAL(s.tracked, 10);
	or_budget_free(b);
}

/* The slot a reader is scanning is handed to the very sender it looks for:
 * the reader must not take the previous owner's word (over budget) for the
 * newcomer's (untracked or one charge: 3000 or 2000 permits, not over).
 * The writer publishes in cur which sender it places and when it starts
 * charging it further; a read counts only if cur did not change around it.
 * Phase 1 runs both threads freely. Phase 2 stops the reader with a signal
 * wherever it is in its loop, places the sender while it is stopped, then
 * lets it finish: the preemption between two loads of a lookup that only a
 * loaded machine makes, on every round (a lookup that skips its second
 * word read fails there within a few dozen rounds). */
#define HO_SIG SIGUSR1
#define HO_ROUNDS 800
#define HO_MAX_NS 750000000ll /* phase 2 stops early on a slow machine */

struct handover {
	struct or_budget *b;
	uint64_t cur;   /* sender << 1 | (1 once it may be over) */
	uint64_t seen;  /* the even cur the reader last started a read with */
	uint64_t reads; /* reads finished (written by the reader only) */
	int stop, parked, resume;
	uint64_t bad, checks;
};

static struct handover *ho_cur; /* for the signal handler */

/* Phase 2: the reader waits here, interrupted wherever it was. Only
 * lock-free atomics and a system call: async-signal-safe enough. */
static void
ho_park(int sig)
{
	(void)sig;
	__atomic_store_n(&ho_cur->parked, 1, __ATOMIC_SEQ_CST);
	while (!__atomic_load_n(&ho_cur->resume, __ATOMIC_ACQUIRE))
		sched_yield(); /* both threads may share one CPU */
}

static void *
th_handover_reader(void *p)
{
	struct handover *h = p;

	while (!__atomic_load_n(&h->stop, __ATOMIC_ACQUIRE)) {
		uint64_t v1 = __atomic_load_n(&h->cur, __ATOMIC_SEQ_CST), v2;
		struct or_token t = tok(v1 >> 1);
		uint64_t wrong = 0;

		if (v1 & 1)
			continue;
		__atomic_store_n(&h->seen, v1, __ATOMIC_RELEASE);
		/* Several lookups per check: a signal lands in one more often. */
		for (int i = 0; i < 4; i++) {
			int64_t pm = or_budget_permits(h->b, &t, T0);

			wrong += pm != 3000 && pm != 2000;
			wrong += or_budget_over(h->b, &t, T0) != 0;
		}
		__atomic_thread_fence(__ATOMIC_SEQ_CST);
		v2 = __atomic_load_n(&h->cur, __ATOMIC_SEQ_CST);
		if (v2 == v1) {
			h->bad += wrong;
			h->checks++;
		}
		__atomic_store_n(&h->reads, h->reads + 1, __ATOMIC_RELEASE);
		/* Stopped in this read: let the writer go on at once, should
		 * both threads share one CPU. */
		if (__atomic_load_n(&h->parked, __ATOMIC_ACQUIRE))
			sched_yield();
	}
	return NULL;
}

static int64_t
ns_since(const struct timespec *t0)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (t.tv_sec - t0->tv_sec) * 1000000000ll + t.tv_nsec - t0->tv_nsec;
}

/* Phase 2: sender k placed while the reader, in a read of k, is stopped.
 * -1 if the signal could not be sent. */
static int
ho_parked_round(struct handover *h, pthread_t reader, uint64_t k)
{
	uint64_t n;

	__atomic_store_n(&h->parked, 0, __ATOMIC_SEQ_CST);
	__atomic_store_n(&h->resume, 0, __ATOMIC_SEQ_CST);
	__atomic_store_n(&h->cur, k << 1, __ATOMIC_SEQ_CST);
	while (__atomic_load_n(&h->seen, __ATOMIC_ACQUIRE) != k << 1)
		sched_yield();
	if (pthread_kill(reader, HO_SIG) != 0)
		return -1;
	while (!__atomic_load_n(&h->parked, __ATOMIC_ACQUIRE))
		sched_yield();
	n = __atomic_load_n(&h->reads, __ATOMIC_ACQUIRE);
	charge(h->b, k, T0); /* evicts a sender that is over */
	__atomic_store_n(&h->resume, 1, __ATOMIC_RELEASE);
	/* The interrupted read finishes, and counts, before cur changes. */
	while (__atomic_load_n(&h->reads, __ATOMIC_ACQUIRE) == n)
		sched_yield();
	return 0;
}

/* After k's first charge: two more, and k is over like every other. */
static void
ho_charge_on(struct handover *h, uint64_t k)
{
	__atomic_store_n(&h->cur, k << 1 | 1, __ATOMIC_SEQ_CST);
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	charge(h->b, k, T0);
	charge(h->b, k, T0);
}

static void
test_threads_handover(void)
{
	/* cur starts odd: until the writer publishes its first newcomer, the
	 * reader has nothing to check (sender 0 is one of the ten over). */
	struct handover h = { .b = mk(3, 1, 8), .cur = 0 << 1 | 1 };
	struct sigaction sa = { .sa_handler = ho_park }, old;
	uint64_t k, parked = 0;
	struct timespec t0;
	int sent = 0;
	pthread_t th;

	for (uint64_t i = 0; i < 10; i++)
		for (int c = 0; c < 3; c++)
			charge(h.b, i, T0); /* a full table, every sender over */
	ho_cur = &h;
	sigemptyset(&sa.sa_mask);
	CU_ASSERT_FATAL(sigaction(HO_SIG, &sa, &old) == 0);
	CU_ASSERT_FATAL(pthread_create(&th, NULL, th_handover_reader, &h) == 0);
	/* Start once the reader has read (sender 100, untracked): one check
	 * in phase 1 whatever the scheduler does. */
	__atomic_store_n(&h.cur, 100 << 1, __ATOMIC_SEQ_CST);
	while (__atomic_load_n(&h.reads, __ATOMIC_ACQUIRE) == 0)
		sched_yield();
	for (k = 100; k < 1000100; k++) {
		__atomic_store_n(&h.cur, k << 1, __ATOMIC_SEQ_CST);
		charge(h.b, k, T0); /* evicts a sender that is over */
		ho_charge_on(&h, k);
	}
	clock_gettime(CLOCK_MONOTONIC, &t0);
	while (parked < HO_ROUNDS && (parked == 0 || ns_since(&t0) < HO_MAX_NS)) {
		sent = ho_parked_round(&h, th, k);
		if (sent < 0)
			break;
		ho_charge_on(&h, k++);
		parked++;
	}
	__atomic_store_n(&h.stop, 1, __ATOMIC_RELEASE);
	pthread_join(th, NULL);
	CU_ASSERT_FATAL(sigaction(HO_SIG, &old, NULL) == 0);
	CU_ASSERT_EQUAL(sent, 0);
	CU_ASSERT(parked > 0);
	CU_ASSERT(h.checks > parked);
	CU_ASSERT_EQUAL(h.bad, 0);
	CU_ASSERT_EQUAL(stats(h.b, T0).over_now, 10);
	or_budget_free(h.b);
}

/* The charge that leaves a sender over budget shows it over to every
 * reader at once: a reader that saw the bucket over (or_budget_permits
 * reads the table) gets 1 from or_budget_over just after, hint or no hint
 * (B1). Burst 1 goes over at the placement, burst 2 at a compare-and-swap;
 * 8 Ki hints, most not yet raised when their sender goes over. */
struct hint_race {
	struct or_budget *b[2];
	uint64_t cur; /* the sender being charged */
	int stop;
	uint64_t bad, checks;
};

static void *
th_hint_reader(void *p)
{
	struct hint_race *h = p;

	while (!__atomic_load_n(&h->stop, __ATOMIC_ACQUIRE)) {
		struct or_token t = tok(__atomic_load_n(&h->cur, __ATOMIC_ACQUIRE));

		for (int j = 0; j < 2; j++) {
			if (or_budget_permits(h->b[j], &t, T0) >= 1000)
				continue;
			h->bad += or_budget_over(h->b[j], &t, T0) != 1;
			__atomic_store_n(&h->checks, h->checks + 1,
					 __ATOMIC_RELEASE);
		}
	}
	return NULL;
}

static void
test_threads_hint_race(void)
{
	const uint64_t n = 100000;
	struct hint_race h = { .b = { mk(1, 1, 4 * n), mk(2, 1, 4 * n) } };
	pthread_t th;

	CU_ASSERT_FATAL(pthread_create(&th, NULL, th_hint_reader, &h) == 0);
	for (uint64_t i = 1; i <= n; i++) {
		__atomic_store_n(&h.cur, i, __ATOMIC_RELEASE);
		charge(h.b[0], i, T0);
		charge(h.b[1], i, T0);
		charge(h.b[1], i, T0);
		/* Go on once the reader checks: checks > 0 however late the
		 * scheduler runs it. */
		while (i == 1 && __atomic_load_n(&h.checks, __ATOMIC_ACQUIRE) == 0)
			sched_yield();
	}
	__atomic_store_n(&h.stop, 1, __ATOMIC_RELEASE);
	pthread_join(th, NULL);
	CU_ASSERT(h.checks > 0);
	CU_ASSERT_EQUAL(h.bad, 0);
	for (int j = 0; j < 2; j++) {
		CU_ASSERT_EQUAL(stats(h.b[j], T0).over_now, n); /* none evicted */
		or_budget_free(h.b[j]);
	}
}

static CU_TestInfo budget_threads_tests[] = {
	{ "two workers, one sender: bounded overdraw",
	  test_threads_one_sender },
	{ "two workers, same new senders: one entry each",
	  test_threads_same_new_senders },
	{ "two workers churning a full table, reader unaffected",
	  test_threads_churn },
	{ "a slot handed over under a reader", test_threads_handover },
	{ "over budget as soon as the charge lands, hint or no hint",
	  test_threads_hint_race },
	CU_TEST_INFO_NULL,
};

OR_TEST_SUITE("budget_threads", NULL, NULL, budget_threads_tests)
