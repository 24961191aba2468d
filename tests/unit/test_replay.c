/* Replay filter (dataplane/auth/replay.h): new and seen, send-time slots,
 * window edges, slots reused as the window moves and never aliased, FULL,
 * stats, two threads racing on the same messages, no false negative under
 * churn, and the measured false-positive rate against its formula. */
#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include <rte_common.h>

#include "dataplane/auth/replay.h"
#include "or_test.h"
#include "tests/lib/or_rand.h"

#define T0 1700000000000ull /* ms since the epoch: November 2023 */

static struct or_replay *
mk(uint64_t capacity, uint32_t window_ms, uint8_t fp_bits)
{
	struct or_replay_params p = { .capacity = capacity,
				      .window_ms = window_ms,
				      .socket_id = -1, .fp_bits = fp_bits };
	struct or_replay *r = NULL;

	CU_ASSERT_FATAL(or_replay_create(&p, &r) == 0);
	CU_ASSERT_FATAL(r != NULL);
	return r;
}

/* Distinct, uniformly spread tags (splitmix64 is a bijection). */
static uint64_t
tag_of(uint64_t i)
{
	return or_rand_mix(i);
}

static uint64_t
slot_ms(const struct or_replay *r)
{
	struct or_replay_stats s;

	or_replay_stats(r, &s);
	return s.slot_ms;
}

static void
test_params(void)
{
	struct or_replay_params p = { .capacity = 10, .window_ms = 1000,
				      .socket_id = -1 };
	struct or_replay *r = NULL;

	p.capacity = 0;
	CU_ASSERT_EQUAL(or_replay_create(&p, &r), -EINVAL);
	p.capacity = 10;
	p.window_ms = 0;
	CU_ASSERT_EQUAL(or_replay_create(&p, &r), -EINVAL);
	p.window_ms = 1000;
	p.fp_bits = 27;
	CU_ASSERT_EQUAL(or_replay_create(&p, &r), -EINVAL);
	p.fp_bits = 1;
	CU_ASSERT_EQUAL(or_replay_create(&p, &r), -EINVAL);
	CU_ASSERT_PTR_NULL(r);
	or_replay_free(NULL);
}

static void
test_new_seen(void)
{
	struct or_replay *r = mk(1000, 30000, 0);
	struct or_replay_stats s;

	/* nothing is covered before the first tick */
	CU_ASSERT_EQUAL(or_replay_check(r, T0, tag_of(1), T0), OR_REPLAY_STALE);
	or_replay_tick(r, T0);
	CU_ASSERT_EQUAL(or_replay_check(r, T0, tag_of(1), T0), OR_REPLAY_NEW);
	CU_ASSERT_EQUAL(or_replay_check(r, T0, tag_of(1), T0), OR_REPLAY_SEEN);
	CU_ASSERT_EQUAL(or_replay_check(r, T0, tag_of(2), T0), OR_REPLAY_NEW);
	CU_ASSERT_EQUAL(or_replay_check(r, T0, tag_of(1), T0 + 5), OR_REPLAY_SEEN);
	CU_ASSERT_EQUAL(or_replay_check(r, T0, tag_of(2), T0 - 5), OR_REPLAY_SEEN);
	or_replay_stats(r, &s);
	CU_ASSERT_EQUAL(s.seen, 3);
	CU_ASSERT_EQUAL(s.stale, 1);
	CU_ASSERT_EQUAL(s.full, 0);
	or_replay_free(r);
}

/* A message is (send_time, tag): the same tag with another send time is
 * another message, in its own slot or in the same one. */
static void
test_other_send_time(void)
{
	struct or_replay *r = mk(1000, 30000, 0);
	uint64_t L = slot_ms(r), now = T0;
	uint64_t t[] = { now, now - 5 * L, now + 10 * L, now + 1 };

	or_replay_tick(r, now);
	for (unsigned i = 0; i < RTE_DIM(t); i++)
		CU_ASSERT_EQUAL(or_replay_check(r, t[i], 42, now), OR_REPLAY_NEW);
	for (unsigned i = 0; i < RTE_DIM(t); i++)
		CU_ASSERT_EQUAL(or_replay_check(r, t[i], 42, now), OR_REPLAY_SEEN);
	or_replay_free(r);
}

static void
test_window_edges(void)
{
	const uint32_t W = 30000;
	struct or_replay *r = mk(1000, W, 0);
	uint64_t L = slot_ms(r), now = T0;
	struct or_replay_stats s;

	or_replay_tick(r, now);
	CU_ASSERT_EQUAL(or_replay_check(r, now - W, 1, now), OR_REPLAY_NEW);
	CU_ASSERT_EQUAL(or_replay_check(r, now - W, 1, now), OR_REPLAY_SEEN);
	CU_ASSERT_EQUAL(or_replay_check(r, now + W, 2, now), OR_REPLAY_NEW);
	CU_ASSERT_EQUAL(or_replay_check(r, now + W, 2, now), OR_REPLAY_SEEN);
	/* outside the caller's window: stale, whatever the slots */
	CU_ASSERT_EQUAL(or_replay_check(r, now - W - 1, 3, now), OR_REPLAY_STALE);
	CU_ASSERT_EQUAL(or_replay_check(r, now + W + 1, 4, now), OR_REPLAY_STALE);
	/* a worker's clock may run up to a second ahead of the last tick */
	CU_ASSERT_EQUAL(or_replay_check(r, now + 1000 + W, 5, now + 1000),
			OR_REPLAY_NEW);
	/* a caller's clock behind the tick's: at the lower edge, the slot may
	 * already be retired -> STALE (a drop), never NEW for a replay */
	or_replay_tick(r, now + L + 1);
	CU_ASSERT_EQUAL(or_replay_check(r, now - W, 1, now), OR_REPLAY_STALE);
	CU_ASSERT_EQUAL(or_replay_check(r, now - W, 6, now), OR_REPLAY_STALE);
	/* the window never moves back: a clock stepped back by more than the
	 * window finds the old send times stale, not new */
	or_replay_tick(r, now + 100000);
	or_replay_stats(r, &s);
	uint64_t lo = s.lo_slot;
	or_replay_tick(r, now);
	or_replay_stats(r, &s);
	CU_ASSERT_EQUAL(s.lo_slot, lo);
	CU_ASSERT_EQUAL(or_replay_check(r, now, 7, now), OR_REPLAY_STALE);
	CU_ASSERT_EQUAL(or_replay_check(r, now + 100000, 7, now + 100000),
			OR_REPLAY_NEW);
	or_replay_free(r);
}

/* capacity 1: the smallest table, two buckets, 32 entries */
static void
test_full_and_reuse(void)
{
	const uint32_t W = 1000;
	struct or_replay *r = mk(1, W, 0);
	uint64_t now = T0, L = slot_ms(r);
	struct or_replay_stats s;

	or_replay_stats(r, &s);
	CU_ASSERT_EQUAL_FATAL(s.entries, 32);
	or_replay_tick(r, now);
	for (unsigned i = 0; i < 32; i++)
		CU_ASSERT_EQUAL(or_replay_check(r, now, tag_of(i), now), OR_REPLAY_NEW);
	CU_ASSERT_EQUAL(or_replay_check(r, now, tag_of(32), now), OR_REPLAY_FULL);
	CU_ASSERT_EQUAL(or_replay_check(r, now, tag_of(33), now), OR_REPLAY_FULL);
	/* a replay is still a replay when full */
	CU_ASSERT_EQUAL(or_replay_check(r, now, tag_of(5), now), OR_REPLAY_SEEN);
	or_replay_stats(r, &s);
	CU_ASSERT_EQUAL(s.full, 2);
	CU_ASSERT_EQUAL(s.seen, 1);

	/* the window moves past their slot: the old messages are stale, their
	 * entries free again */
	now += W + L + 1;
	or_replay_tick(r, now);
	CU_ASSERT_EQUAL(or_replay_check(r, T0, tag_of(5), now), OR_REPLAY_STALE);
	for (unsigned i = 0; i < 32; i++)
		CU_ASSERT_EQUAL(or_replay_check(r, now, tag_of(100 + i), now),
				OR_REPLAY_NEW);
	CU_ASSERT_EQUAL(or_replay_check(r, now, tag_of(100), now), OR_REPLAY_SEEN);
	CU_ASSERT_EQUAL(or_replay_check(r, now, tag_of(200), now), OR_REPLAY_FULL);
	or_replay_free(r);
}

/* Entries carry their slot number mod 64. Full entries of slot s0 that
 * nobody reused must be gone when slot s0 + 64 comes into the window, or
 * they would look live again (the sweep). Ticks every 20 ms, or in big
 * jumps (the sweep then finishes its pass at once). */
static void
run_wrap(uint64_t step_ms)
{
	const uint32_t W = 1000;
	struct or_replay *r = mk(1, W, 0);
	uint64_t now = T0, L = slot_ms(r), s0 = T0 / L;
	struct or_replay_stats s;

	or_replay_tick(r, now);
	for (unsigned i = 0; i < 32; i++)
		CU_ASSERT_EQUAL(or_replay_check(r, now, tag_of(i), now), OR_REPLAY_NEW);
	/* lo = s0 + 50: slot s0 + 64 is live and inside now + window, and
	 * has s0's epoch value */
	for (uint64_t end = (s0 + 50) * L + W; now < end;) {
		now = now + step_ms < end ? now + step_ms : end;
		or_replay_tick(r, now);
	}
	or_replay_stats(r, &s);
	CU_ASSERT_EQUAL(s.lo_slot, s0 + 50);
	uint64_t t = (s0 + 64) * L;
	CU_ASSERT_FATAL(t <= now + W);
	for (unsigned i = 0; i < 32; i++)
		CU_ASSERT_EQUAL(or_replay_check(r, t, tag_of(1000 + i), now),
				OR_REPLAY_NEW);
	or_replay_stats(r, &s);
	CU_ASSERT_EQUAL(s.full, 0);
	CU_ASSERT(s.sweep_passes > 0);
	if (step_ms <= 20)
		CU_ASSERT_EQUAL(s.sweep_forced, 0);
	or_replay_free(r);
}

static void
test_wrap_ticks(void)
{
	run_wrap(20);
}

static void
test_wrap_jumps(void)
{
	run_wrap(2500);
}

static void
test_stats(void)
{
	struct or_replay *r = mk(1000, 30000, 0);
	struct or_replay_stats s;

	or_replay_stats(r, &s);
	CU_ASSERT_EQUAL(s.capacity, 1000);
	CU_ASSERT_EQUAL(s.window_ms, 30000);
	/* 32 live slots of 64 cover now - window .. now + window + 1 s */
	CU_ASSERT_EQUAL(s.slot_ms, (2 * 30000 + 1000 + 29) / 30);
	CU_ASSERT_EQUAL(s.bytes, s.entries * 4);
	CU_ASSERT_EQUAL(s.bytes % 64, 0);
	/* sized for capacity * (window + slot) / window at load <= 0.65 */
	CU_ASSERT(s.entries * 0.65 >= 1000.0 * (30000 + s.slot_ms) / 30000);
	CU_ASSERT(s.entries * 0.60 < 1000.0 * (30000 + s.slot_ms) / 30000);
	CU_ASSERT_EQUAL(s.fp_bits, 26);
	CU_ASSERT(strcmp(s.memory, "thp") == 0 || strcmp(s.memory, "hugetlb") == 0);
	CU_ASSERT_EQUAL(s.entries_approx, 0);
	CU_ASSERT_EQUAL(s.lo_slot, 0);

	or_replay_tick(r, T0);
	for (unsigned i = 0; i < 700; i++)
		CU_ASSERT_EQUAL(or_replay_check(r, T0, tag_of(i), T0), OR_REPLAY_NEW);
	/* a sweep pass takes 5 slots of time; these messages stay live */
	for (uint64_t t = T0; t <= T0 + 6 * s.slot_ms; t += 20)
		or_replay_tick(r, t);
	or_replay_stats(r, &s);
	CU_ASSERT(s.sweep_passes >= 1);
	CU_ASSERT_EQUAL(s.entries_approx, 700);
	CU_ASSERT_EQUAL(s.lo_slot, (T0 + 6 * s.slot_ms - 30000) / s.slot_ms);
	CU_ASSERT_EQUAL(s.sweep_forced, 0);
	or_replay_free(r);
}

/* The burst call answers like single calls in the same order, duplicates
 * inside the burst included, and takes bursts longer than it hashes at
 * once (in pieces of OR_REPLAY_BURST_MAX). */
static void
test_burst(void)
{
	enum { N = 100, U = 60 };
	struct or_replay *r = mk(1000, 30000, 0);
	uint64_t st[N], tag[N];
	uint8_t res[N];

	or_replay_tick(r, T0);
	for (unsigned i = 0; i < N; i++) {
		unsigned u = i < U ? i : i - U;  /* 40 repeats of earlier ones */

		st[i] = T0 - u;
		tag[i] = tag_of(u);
		or_replay_prefetch(r, st[i], tag[i]);
	}
	memset(res, 0xff, sizeof(res));
	or_replay_check_burst(r, N, st, tag, T0, res);
	for (unsigned i = 0; i < N; i++)
		CU_ASSERT_EQUAL(res[i], i < U ? OR_REPLAY_NEW : OR_REPLAY_SEEN);
	or_replay_check_burst(r, N, st, tag, T0, res);
	for (unsigned i = 0; i < N; i++)
		CU_ASSERT_EQUAL(res[i], OR_REPLAY_SEEN);
	or_replay_check_burst(r, 0, st, tag, T0, res);
	or_replay_free(r);
}

/* ---- two workers racing on the same messages ---- */

#define RACE_N 200000
#define RACE_W 1000u

struct race {
	struct or_replay *r;
	pthread_barrier_t go;
	int running;
	uint8_t res[2][RACE_N];
	int burst;
};

struct race_arg {
	struct race *rc;
	unsigned id;
};

/* Send times over 15 slots of 100 ms that stay inside the window while
 * the tick moves from T0 to T0 + 500: the false-positive rate, which could
 * make both copies SEEN, is then ~1e-9 a message here. */
static uint64_t
race_st(unsigned i)
{
	return T0 - RACE_W / 2 + (i % 15) * 100;
}

static void *
race_worker(void *p)
{
	struct race_arg *a = p;
	struct race *rc = a->rc;
	uint64_t st[32], tag[32];

	pthread_barrier_wait(&rc->go);
	for (unsigned i = 0; i < RACE_N; i += 32) {
		unsigned n = RACE_N - i < 32 ? RACE_N - i : 32;

		for (unsigned k = 0; k < n; k++) {
			st[k] = race_st(i + k);
			tag[k] = tag_of(i + k);
		}
		if (rc->burst)
			or_replay_check_burst(rc->r, n, st, tag, T0,
					      &rc->res[a->id][i]);
		else
			for (unsigned k = 0; k < n; k++)
				rc->res[a->id][i + k] = (uint8_t)or_replay_check(
					rc->r, st[k], tag[k], T0);
	}
	__atomic_fetch_sub(&rc->running, 1, __ATOMIC_RELEASE);
	return NULL;
}

static void
run_race(int burst)
{
	struct race *rc = calloc(1, sizeof(*rc));
	struct race_arg args[2];
	pthread_t th[2];
	struct or_replay_stats s;
	unsigned both_new = 0, none_new = 0, other = 0;

	CU_ASSERT_FATAL(rc != NULL);
	rc->r = mk(8 * RACE_N, RACE_W, 0);
	CU_ASSERT_FATAL(slot_ms(rc->r) == 100);
	rc->burst = burst;
	rc->running = 2;
	or_replay_tick(rc->r, T0);
	pthread_barrier_init(&rc->go, NULL, 3);
	for (unsigned i = 0; i < 2; i++) {
		args[i] = (struct race_arg){ rc, i };
		CU_ASSERT_FATAL(pthread_create(&th[i], NULL, race_worker, &args[i]) == 0);
	}
	pthread_barrier_wait(&rc->go);
	/* this thread is the tick: the window moves a slot every few hundred
	 * microseconds while the workers race, so that checks overlap changes
	 * of the window (the roll-back path) */
	for (uint64_t now = T0; __atomic_load_n(&rc->running, __ATOMIC_ACQUIRE) > 0;) {
		if (now < T0 + RACE_W / 2)
			or_replay_tick(rc->r, ++now);
		for (volatile int spin = 0; spin < 2000; spin++)
			;
	}
	for (unsigned i = 0; i < 2; i++)
		pthread_join(th[i], NULL);
	for (unsigned i = 0; i < RACE_N; i++) {
		uint8_t a = rc->res[0][i], b = rc->res[1][i];

		if (a == OR_REPLAY_NEW && b == OR_REPLAY_NEW)
			both_new++;
		else if (a != OR_REPLAY_NEW && b != OR_REPLAY_NEW)
			none_new++;
		else if ((a == OR_REPLAY_NEW ? b : a) != OR_REPLAY_SEEN)
			other++;
	}
	CU_ASSERT_EQUAL(both_new, 0);
	CU_ASSERT_EQUAL(none_new, 0);
	CU_ASSERT_EQUAL(other, 0);
	or_replay_stats(rc->r, &s);
	CU_ASSERT_EQUAL(s.seen, RACE_N);
	CU_ASSERT_EQUAL(s.full + s.stale, 0);
	pthread_barrier_destroy(&rc->go);
	or_replay_free(rc->r);
	free(rc);
}

static void
test_race_single(void)
{
	run_race(0);
}

static void
test_race_burst(void)
{
	run_race(1);
}

/* ---- racing while the window moves ---- */

/* Two threads check the same MOVE_K messages a round, each with a message
 * of its own just before each common one (thread 0: c0 o0 c1 o1 ...,
 * thread 1: o0' c0 o1' c1 ...), in a table of a few buckets, while the
 * window moves a slot every round and frees entries the next inserts
 * reuse: a rule that placed a message by what the scan saw (the emptier
 * bucket, say) would let the own insert between the two scans of a common
 * message send the two copies to different entries. No common message may
 * be NEW twice (replay.h R1). */
#define MOVE_ROUNDS 20000
#define MOVE_K 4
#define MOVE_W 1000u

struct move_race {
	struct or_replay *r;
	uint64_t L;
	unsigned round;  /* published by thread 0 */
	unsigned ack;    /* the round thread 1 started */
	pthread_barrier_t go;
	uint8_t res[2][MOVE_ROUNDS][2 * MOVE_K];
};

struct move_arg {
	struct move_race *mr;
	unsigned id;
};

/* Thread 0 is also the tick: it moves the window one slot, publishes the
 * round, waits for thread 1 to take it, and checks its messages in a
 * burst; thread 1 checks its own one call a message. */
static void *
move_worker(void *p)
{
	struct move_arg *a = p;
	struct move_race *mr = a->mr;
	uint64_t st[2 * MOVE_K], tag[2 * MOVE_K];
	unsigned done = 0;

	pthread_barrier_wait(&mr->go);
	while (done < MOVE_ROUNDS - 1) {
		unsigned r;

		if (a->id == 0) {
			r = done + 1;
			or_replay_tick(mr->r, T0 + r * mr->L);
			__atomic_store_n(&mr->round, r, __ATOMIC_RELEASE);
			while (__atomic_load_n(&mr->ack, __ATOMIC_ACQUIRE) != r)
				;
		} else {
			r = __atomic_load_n(&mr->round, __ATOMIC_ACQUIRE);
			if (r == done)
				continue;
			__atomic_store_n(&mr->ack, r, __ATOMIC_RELEASE);
		}
		for (unsigned k = 0; k < 2 * MOVE_K; k++) {
			uint64_t common = tag_of((uint64_t)r * MOVE_K + k / 2);
			uint64_t own = tag_of((1ull << 40) * (1 + a->id) + r * MOVE_K + k / 2);

			st[k] = T0 + r * mr->L;
			/* even positions common for thread 0, odd for thread 1 */
			tag[k] = (k % 2 == a->id) ? common : own;
		}
		if (a->id == 0)
			or_replay_check_burst(mr->r, 2 * MOVE_K, st, tag, st[0],
					      mr->res[0][r]);
		else
			for (unsigned k = 0; k < 2 * MOVE_K; k++)
				mr->res[1][r][k] = (uint8_t)or_replay_check(
					mr->r, st[k], tag[k], st[k]);
		done = r;
	}
	return NULL;
}

static void
test_race_window_moves(void)
{
	struct move_race *mr = malloc(sizeof(*mr));
	struct move_arg args[2];
	pthread_t th[2];
	unsigned both = 0, twice_new = 0, one_new = 0, own_bad = 0;
	struct or_replay_stats s;

	CU_ASSERT_FATAL(mr != NULL);
	memset(mr->res, 0xff, sizeof(mr->res));
	/* 12 messages a slot of 100 ms, 11 slots held: ~130 live entries in
	 * 13 buckets */
	mr->r = mk(120, MOVE_W, 0);
	or_replay_stats(mr->r, &s);
	CU_ASSERT_FATAL(s.entries <= 16 * 16);
	mr->L = s.slot_ms;
	mr->round = mr->ack = 0;
	or_replay_tick(mr->r, T0);
	pthread_barrier_init(&mr->go, NULL, 2);
	for (unsigned i = 0; i < 2; i++) {
		args[i] = (struct move_arg){ mr, i };
		CU_ASSERT_FATAL(pthread_create(&th[i], NULL, move_worker, &args[i]) == 0);
	}
	for (unsigned i = 0; i < 2; i++)
		pthread_join(th[i], NULL);
	for (unsigned r = 1; r < MOVE_ROUNDS; r++) {
		for (unsigned k = 0; k < MOVE_K; k++) {
			uint8_t a = mr->res[0][r][2 * k], b = mr->res[1][r][2 * k + 1];

			own_bad += mr->res[0][r][2 * k + 1] == OR_REPLAY_SEEN;
			own_bad += mr->res[1][r][2 * k] == OR_REPLAY_SEEN;
			if (a == 0xff || b == 0xff)
				continue;
			both++;
			twice_new += a == OR_REPLAY_NEW && b == OR_REPLAY_NEW;
			one_new += (a == OR_REPLAY_NEW) != (b == OR_REPLAY_NEW);
		}
	}
	CU_ASSERT_EQUAL(twice_new, 0);
	/* the threads did race on every round; own messages are never SEEN */
	CU_ASSERT_EQUAL(both, (MOVE_ROUNDS - 1) * MOVE_K);
	CU_ASSERT(one_new > both / 2);
	CU_ASSERT_EQUAL(own_bad, 0);
	pthread_barrier_destroy(&mr->go);
	or_replay_free(mr->r);
	free(mr);
}

/* ---- churn: many slots, sweeps, replays at random ages ---- */

static uint64_t rng_state = 88172645463325252ull;

static uint64_t
rng(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return rng_state;
}

#define CHURN_HIST 8192

static void
test_churn_no_false_negative(void)
{
	const uint32_t W = 1000;
	const unsigned per_ms = 4;
	struct or_replay *r = mk(per_ms * W, W, 0);
	static uint64_t hist_st[CHURN_HIST], hist_tag[CHURN_HIST];
	uint64_t nhist = 0, next_tag = 1, fresh_seen = 0, fresh_bad = 0;
	uint64_t replay_new = 0;
	uint64_t replay_seen = 0, replay_stale = 0, replay_other = 0;
	uint64_t L = slot_ms(r);

	/* 130 slots of send time: every epoch value comes back twice */
	for (uint64_t now = T0; now < T0 + 130 * L; now++) {
		if (now % 20 == 0 || now == T0)
			or_replay_tick(r, now);
		for (unsigned k = 0; k < per_ms; k++) {
			uint64_t st = now - rng() % 50, tag = tag_of(next_tag++);
			int res = or_replay_check(r, st, tag, now);

			if (res != OR_REPLAY_NEW) {
				fresh_seen += res == OR_REPLAY_SEEN;
				fresh_bad += res != OR_REPLAY_SEEN;
				continue;
			}
			hist_st[nhist % CHURN_HIST] = st;
			hist_tag[nhist % CHURN_HIST] = tag;
			nhist++;
		}
		/* two replays of recorded messages, up to 4 s old */
		for (unsigned k = 0; k < 2 && nhist > 0; k++) {
			uint64_t back = rng() % (nhist < CHURN_HIST ? nhist : CHURN_HIST);
			uint64_t i = (nhist - 1 - back) % CHURN_HIST;
			int res = or_replay_check(r, hist_st[i], hist_tag[i], now);

			if (res == OR_REPLAY_NEW)
				replay_new++;
			else if (res == OR_REPLAY_SEEN)
				replay_seen++;
			else if (res == OR_REPLAY_STALE &&
				 hist_st[i] + W < now)
				replay_stale++;
			else
				replay_other++;
		}
	}
	CU_ASSERT_EQUAL(replay_new, 0);
	CU_ASSERT_EQUAL(replay_other, 0);
	CU_ASSERT(replay_seen > 5000);
	CU_ASSERT(replay_stale > 5000);
	/* fresh messages: FULL or STALE never at this load; SEEN (a false
	 * positive) at ~3e-8 per check, ~0.002 expected in this run */
	CU_ASSERT_EQUAL(fresh_bad, 0);
	CU_ASSERT(fresh_seen <= 1);
	or_replay_free(r);
}

/* ---- false positives ---- */

/* P(two random fingerprints of f bits are equal): values < 2 are moved to
 * 2 and 3, so those two are twice as likely. */
static double
fp_pair(unsigned f)
{
	double n = ldexp(1.0, (int)f);

	return (n - 4 + 2 * 4) / (n * n);
}

/* n fresh messages of send time st, each also recorded when NEW: counts
 * the false positives (SEEN) and adds up their expected number. A fresh
 * message is a false positive with probability 1 - (1 - q)^n, n = live
 * entries OF ITS EPOCH in its two buckets: 2 * live / nb on average (each
 * live entry sits in one bucket; pairs are uniform). */
static void
fp_run(struct or_replay *r, uint64_t st, unsigned n, double q, double nb,
       uint64_t *live, uint64_t *next_tag, uint64_t *fp, double *expect)
{
	for (unsigned k = 0; k < n; k++) {
		int res = or_replay_check(r, st, tag_of((*next_tag)++), T0);

		*expect += 1 - pow(1 - q, 2 * (double)*live / nb);
		if (res == OR_REPLAY_SEEN)
			(*fp)++;
		else if (res == OR_REPLAY_NEW)
			(*live)++;
		else
			CU_FAIL("fresh message neither NEW nor SEEN");
	}
}

static void
test_fp_rate(void)
{
	const unsigned f = 8;
	struct or_replay *r = mk(20000, 30000, (uint8_t)f);
	struct or_replay_stats s;
	uint64_t tag = 0, live0 = 0, live1 = 0, fp0 = 0, fp1 = 0, fill_fp = 0;
	double expect0 = 0, expect1 = 0, fill_expect = 0, q = fp_pair(f), nb;

	or_replay_stats(r, &s);
	nb = (double)s.entries / 16;
	or_replay_tick(r, T0);
	/* 5,000 messages of one send time (all of one epoch), then 5,000
	 * more measured: about 145 false positives expected */
	fp_run(r, T0, 5000, q, nb, &live0, &tag, &fill_fp, &fill_expect);
	fp_run(r, T0, 5000, q, nb, &live0, &tag, &fp0, &expect0);
	CU_ASSERT(fabs((double)fp0 - expect0) <= 6 * sqrt(expect0));
	/* the bound of replay.h: at most 32 entries compared */
	CU_ASSERT((double)fp0 / 5000 <= 32 * q);
	/* Another slot, another epoch value: only that slot's own entries
	 * count (about 48 expected; were the first slot's 10,000 entries
	 * compared too, about 240). */
	fp_run(r, T0 + 10000, 5000, q, nb, &live1, &tag, &fp1, &expect1);
	CU_ASSERT(fabs((double)fp1 - expect1) <= 6 * sqrt(expect1));
	CU_ASSERT(expect1 < expect0 / 2);
	or_replay_free(r);
}

/* ---- the roll-back, step by step ---- */

/* This file compiles replay.c a second time, under other names, with a
 * hook between an attempt's scan and its CAS: the window moves there and
 * another "worker" checks the same message. */
#define or_replay_create rpt_create
#define or_replay_free rpt_free
#define or_replay_check rpt_check
#define or_replay_check_burst rpt_check_burst
#define or_replay_prefetch rpt_prefetch
#define or_replay_tick rpt_tick
/* function-like: struct or_replay_stats keeps its name */
#define or_replay_stats(r, s) rpt_stats(r, s)
#define RP_TEST_BEFORE_CAS(r) rpt_before_cas(r)
struct or_replay;
static void rpt_before_cas(struct or_replay *r);
#include "dataplane/auth/replay.c"
#undef or_replay_create
#undef or_replay_free
#undef or_replay_check
#undef or_replay_check_burst
#undef or_replay_prefetch
#undef or_replay_tick
#undef or_replay_stats

static struct {
	int armed;
	uint64_t now, st, tag;
	int nested;
} rpt;

static void
rpt_before_cas(struct or_replay *r)
{
	if (!rpt.armed)
		return;
	rpt.armed = 0;
	rpt_tick(r, rpt.now);
	rpt.nested = rpt_check(r, rpt.st, rpt.tag, rpt.now);
}

/* Message m's first free entry is b2[0]: b1[0] holds m_old, of the lowest
 * live slot. Between m's scan and its CAS, the window moves (m_old dies)
 * and another worker checks m: for it b1[0] is free, it takes it, NEW.
 * m's CAS on b2[0] then succeeds too; only the second read of lo tells m
 * that it raced, and it must answer SEEN, never a second NEW. */
static void
test_rollback(void)
{
	const uint32_t W = 1000;
	struct or_replay_params p = { .capacity = 1, .window_ms = W,
				      .socket_id = -1 };
	struct or_replay *r = NULL;
	struct or_replay_stats s;
	struct rp_hash hm, ho;
	uint64_t now = T0, st, st_old, t;

	CU_ASSERT_FATAL(rpt_create(&p, &r) == 0);
	CU_ASSERT_FATAL(r->nb == 2);
	rpt_tick(r, now);
	st_old = now - W;
	CU_ASSERT_FATAL(rp_slot_of(r, st_old) == r->lo);
	st = now;
	rp_hash(r, st, 1, &hm);
	for (t = 2;; t++) {
		rp_hash(r, st_old, t, &ho);
		if (ho.b1 == hm.b1)
			break;
	}
	CU_ASSERT_EQUAL(rpt_check(r, st_old, t, now), OR_REPLAY_NEW);
	CU_ASSERT_EQUAL(r->buckets[hm.b1].e[0], ho.val);

	rpt = (typeof(rpt)){ .armed = 1, .now = now + r->slot_ms, .st = st,
			     .tag = 1 };
	CU_ASSERT_EQUAL(rpt_check(r, st, 1, now), OR_REPLAY_SEEN);
	CU_ASSERT_EQUAL(rpt.armed, 0);
	CU_ASSERT_EQUAL(rpt.nested, OR_REPLAY_NEW);
	/* the other worker's entry replaced m_old; m's is a tombstone */
	CU_ASSERT_EQUAL(r->buckets[hm.b1].e[0], hm.val);
	CU_ASSERT_EQUAL(r->buckets[hm.b2].e[0],
			(hm.val & ~((1u << RP_EPOCH_SHIFT) - 1)) | RP_TOMB_FP);
	CU_ASSERT_EQUAL(rpt_check(r, st, 1, now + r->slot_ms), OR_REPLAY_SEEN);
	rpt_stats(r, &s);
	CU_ASSERT_EQUAL(s.retries, 1);
	CU_ASSERT_EQUAL(s.seen, 2);
	rpt_free(r);
}

static CU_TestInfo replay_tests[] = {
	{ "params", test_params },
	{ "new and seen", test_new_seen },
	{ "same tag, other send time", test_other_send_time },
	{ "window edges and clock steps", test_window_edges },
	{ "full, then reuse after the window moves", test_full_and_reuse },
	{ "no aliasing after 64 slots (20 ms ticks)", test_wrap_ticks },
	{ "no aliasing after 64 slots (2.5 s jumps)", test_wrap_jumps },
	{ "stats", test_stats },
	{ "burst equals single checks", test_burst },
	{ "race: two threads, one NEW each", test_race_single },
	{ "race: two threads in bursts, one NEW each", test_race_burst },
	{ "race: two threads while the window moves", test_race_window_moves },
	{ "roll-back when the window moved mid-check", test_rollback },
	{ "churn: replays never NEW", test_churn_no_false_negative },
	{ "false-positive rate vs formula", test_fp_rate },
	CU_TEST_INFO_NULL,
};

OR_TEST_SUITE("replay", NULL, NULL, replay_tests)
