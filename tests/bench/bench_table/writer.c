/* SPDX-License-Identifier: BSD-3-Clause
 *
 * bench_table: the update writer (and the fill, which is a writer too).
 *
 * Set-aside upserts. ct_upsert() returns -EAGAIN when the room it needs is
 * a slot only a grace period frees (ctable.h): it has just made one cuckoo
 * move, or a move or delete vacated a slot nearby. Calling ct_sync() there
 * and retrying at once costs one grace period per hop, over a hundred per
 * batch of 1000 updates. As the dataplane's updater does
 * (dataplane/chan/chan_ops.c), the writer sets such an upsert aside and
 * goes on with the batch; bt_writer_flush() then calls ct_sync() once and
 * retries every set-aside upsert, in order, each taking its next hop; those
 * that get -EAGAIN again go round again, at most BT_ASIDE_ROUNDS times. A
 * batch costs about as many grace periods as its longest cuckoo path, plus
 * the ct_sync() the contract asks for at its end.
 *
 * Per-key order. A set-aside upsert is applied after the ops that follow
 * it in the batch, which is only right if none of them touches its key.
 * The updater defers such later ops behind it; the benchmark instead never
 * uses a key twice in one batch: each update draws a key (an index in
 * w->tok) the batch has not used yet (a bitmap), i.e. keys are sampled
 * without replacement within a batch. A flip also reads the record it
 * flips with ct_get(), which needs the same: no earlier op of the batch on
 * that key may still be set aside. If a batch wants more keys of one kind
 * than the table has (tiny tables, big batches), it flushes and goes on
 * with every key free again.
 */
#include <assert.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bench_table.h"

/* writer_update(): every key of the kind it drew is used in this batch. */
#define BT_KEYS_USED 1

void
bt_writer_fini(struct bt_writer *wr)
{
	free(wr->aside);
	free(wr->retry);
	free(wr->used);
	free(wr->used_idx);
	wr->aside = wr->retry = NULL;
	wr->used = wr->used_idx = NULL;
}

/* A writer on h for the keys of w, at most 'batch' updates per batch. */
int
bt_writer_init(struct bt_writer *wr, struct ct *h, struct bt_work *w,
	       unsigned batch, uint64_t seed)
{
	memset(wr, 0, sizeof(*wr));
	atomic_init(&wr->stop, 0);
	wr->h = h;
	wr->w = w;
	wr->batch = batch;
	wr->rng = seed;
	/* A batch sets aside at most one upsert and uses one key per
	 * update. */
	wr->aside = calloc(batch, sizeof(*wr->aside));
	wr->retry = calloc(batch, sizeof(*wr->retry));
	wr->used_idx = calloc(batch, sizeof(*wr->used_idx));
	wr->used = calloc((w->n + 63) / 64, sizeof(*wr->used));
	if (wr->aside == NULL || wr->retry == NULL || wr->used_idx == NULL ||
	    wr->used == NULL) {
		bt_writer_fini(wr);
		return -ENOMEM;
	}
	return 0;
}

/* ct_sync(), timed and counted. */
int
bt_writer_sync(struct bt_writer *wr)
{
	double t = bt_now();
	int rc = ct_sync(wr->h);

	t = bt_now() - t;
	wr->syncs++;
	wr->sync_sum += t;
	if (t > wr->sync_max)
		wr->sync_max = t;
	return rc;
}

/* ct_upsert(), setting the upsert aside on -EAGAIN (see the top). k must
 * stay valid until the next bt_writer_flush(). */
int
bt_writer_upsert(struct bt_writer *wr, const struct or_token *k, uint32_t rec)
{
	int rc = ct_upsert(wr->h, k, rec);

	if (rc != -EAGAIN)
		return rc;
	wr->eagain++;
	assert(wr->n_aside < wr->batch);
	wr->aside[wr->n_aside].k = k;
	wr->aside[wr->n_aside].rec = rec;
	wr->n_aside++;
	return 0;
}

/* Applies what is set aside, one grace period per round, then frees the
 * batch's keys for use again. */
int
bt_writer_flush(struct bt_writer *wr)
{
	unsigned round;
	int rc = 0;

	for (round = 0; rc == 0 && wr->n_aside > 0; round++) {
		struct bt_upsert *next = wr->retry;
		unsigned n = wr->n_aside;

		if (round == BT_ASIDE_ROUNDS) {
			fprintf(stderr, "writer: %u upserts still -EAGAIN after "
				"%u grace periods\n", n, round);
			rc = -EAGAIN;
			break;
		}
		/* One grace period lets every set-aside upsert take its
		 * next hop. */
		rc = bt_writer_sync(wr);
		wr->retry = wr->aside;
		wr->aside = next;
		wr->n_aside = 0;
		for (unsigned i = 0; i < n && rc == 0; i++)
			rc = bt_writer_upsert(wr, wr->retry[i].k, wr->retry[i].rec);
	}
	if (round > wr->rounds_max)
		wr->rounds_max = round;
	for (unsigned i = 0; i < wr->n_used; i++)
		wr->used[wr->used_idx[i] / 64] &= ~(1ull << (wr->used_idx[i] % 64));
	wr->n_used = 0;
	wr->used_hit = 0;
	wr->used_churn = 0;
	return rc;
}

/* Draws a key index in [lo, lo + n) this batch has not used and marks it
 * used; -1 when all n are used. */
static int64_t
pick_unused(struct bt_writer *wr, uint64_t lo, uint64_t n, uint64_t *used)
{
	uint64_t i;

	if (*used == n)
		return -1;
	do
		i = lo + bt_rng_below(&wr->rng, n);
	while (wr->used[i / 64] & (1ull << (i % 64)));
	wr->used[i / 64] |= 1ull << (i % 64);
	assert(wr->n_used < wr->batch);
	wr->used_idx[wr->n_used++] = i;
	(*used)++;
	return (int64_t)i;
}

/* One update: half are opt in/out flips of looked-up keys (they stay
 * present, so every lookup's answer stays known); the rest delete a churn
 * key, which no lookup uses, and insert a fresh one in its place. 0,
 * BT_KEYS_USED or -errno. */
static int
writer_update(struct bt_writer *wr, unsigned *done)
{
	struct bt_work *w = wr->w;
	int64_t i;
	int rc;

	if (bt_rng_below(&wr->rng, 2) == 0) {
		uint32_t rec;

		i = pick_unused(wr, 0, w->n_hit, &wr->used_hit);
		if (i < 0)
			return BT_KEYS_USED;
		rec = ct_get(wr->h, &w->tok[i]);
		if (rec == 0)
			return -ENOENT;
		*done += 1;
		return bt_writer_upsert(wr, &w->tok[i], rec ^ OR_REC_STATE_MASK);
	}
	i = pick_unused(wr, w->n_hit, w->n - w->n_hit, &wr->used_churn);
	if (i < 0)
		return BT_KEYS_USED;
	rc = ct_delete(wr->h, &w->tok[i]);
	if (rc != 0)
		return rc;
	bt_rng_token(&wr->rng, &w->tok[i]);
	*done += 2;
	return bt_writer_upsert(wr, &w->tok[i], bt_rec_of((uint64_t)i));
}

/* A batch of updates, the set-aside rounds, then the ct_sync() the
 * contract asks for. */
int
bt_writer_batch(struct bt_writer *wr)
{
	double t = bt_now();
	uint64_t syncs = wr->syncs;
	unsigned done = 0;
	int rc = 0;

	while (done < wr->batch && rc == 0) {
		rc = writer_update(wr, &done);
		if (rc == BT_KEYS_USED)
			rc = bt_writer_flush(wr);
	}
	if (rc == 0)
		rc = bt_writer_flush(wr);
	wr->updates += done;
	if (rc == 0)
		rc = bt_writer_sync(wr);
	wr->batches++;
	if (wr->syncs - syncs > wr->syncs_batch_max)
		wr->syncs_batch_max = wr->syncs - syncs;
	wr->busy += bt_now() - t;
	return rc;
}

void *
bt_writer_main(void *arg)
{
	struct bt_writer *wr = arg;
	double period = wr->batch / wr->rate, start, next, t;

	wr->err = bt_pin_self(wr->core);
	if (wr->err != 0)
		return NULL;
	start = next = bt_now();
	while (!atomic_load_explicit(&wr->stop, memory_order_relaxed)) {
		struct timespec ts;

		wr->err = bt_writer_batch(wr);
		if (wr->err != 0)
			break;
		next += period;
		t = bt_now();
		if (t >= next) {
			wr->overruns++;
			if (t - next > 100 * period)
				next = t; /* hopelessly late: no burst to catch up */
			continue;
		}
		ts.tv_sec = (time_t)next;
		ts.tv_nsec = (long)((next - (double)ts.tv_sec) * 1e9);
		clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL);
	}
	wr->elapsed = bt_now() - start;
	return NULL;
}

void
bt_writer_print(const struct bt_writer *wr, double target)
{
	double batches = wr->batches > 0 ? (double)wr->batches : 1;
	double syncs = wr->syncs > 0 ? (double)wr->syncs : 1;

	printf("    writer on core %d: %" PRIu64 " updates in %.2f s = %.3f M/s "
	       "(target %.3f), busy %.0f%%, %" PRIu64 " batches late, %" PRIu64
	       " -EAGAIN, %" PRIu64 " ct_sync (%.2f per batch, max %" PRIu64
	       ", set-aside rounds max %u) mean %.1f us max %.1f us\n",
	       wr->core, wr->updates, wr->elapsed,
	       (double)wr->updates / wr->elapsed / 1e6, target / 1e6,
	       100.0 * wr->busy / wr->elapsed, wr->overruns, wr->eagain,
	       wr->syncs, (double)wr->syncs / batches, wr->syncs_batch_max,
	       wr->rounds_max, wr->sync_sum / syncs * 1e6, wr->sync_max * 1e6);
}
