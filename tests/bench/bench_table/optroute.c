/* SPDX-License-Identifier: BSD-3-Clause
 *
 * bench_table: the optroute table (include/optroute/ctable.h): build and
 * fill it, settle it, then measure it idle and under updates.
 */
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "bench_table.h"

static void
ct_print_stats(const struct ct *h, const char *when)
{
	struct ct_stats s;

	ct_get_stats(h, &s);
	printf("optroute table %s: entries %" PRIu64 " capacity %" PRIu64
	       " load %.1f%% bytes %" PRIu64 " (%.1f MiB, %.2f B/entry) "
	       "alt_entries %" PRIu64 " (%.1f%%) pending %" PRIu64 " grows %" PRIu64
	       " moves %" PRIu64 "\n", when, s.entries, s.capacity,
	       100.0 * (double)s.entries / (double)s.capacity, s.bytes,
	       (double)s.bytes / 1048576.0, (double)s.bytes / (double)s.entries,
	       s.alt_entries, 100.0 * (double)s.alt_entries / (double)s.entries,
	       s.pending, s.grows, s.moves);
}

/* Fills the table in batches of 'batch' keys, -EAGAIN upserts set aside
 * until the batch's end, as the writer does. */
static int
ct_fill(struct ct *h, struct bt_work *w, unsigned batch, struct bt_writer *wr)
{
	int rc = bt_writer_init(wr, h, w, batch, 0);

	for (uint64_t i = 0; i < w->n && rc == 0; i++) {
		rc = bt_writer_upsert(wr, &w->tok[i], bt_rec_of(i));
		if (rc == 0 && ((i + 1) % batch == 0 || i + 1 == w->n))
			rc = bt_writer_flush(wr);
	}
	if (rc == 0)
		rc = bt_writer_sync(wr);
	bt_writer_fini(wr);
	return rc;
}

/* Creates and fills the table; *flags says where its buckets ended up. */
static int
ct_build(struct bt_work *w, unsigned batch, unsigned *flags, struct ct **out)
{
	struct ct_params p = { .entries = w->n, .socket_id = -1, .flags = *flags };
	struct bt_writer wr;
	uint64_t thp0 = bt_thp_kb();
	double t;
	int rc;

	rc = ct_create(&p, out);
	if (rc == -ENOMEM && (*flags & CT_F_RTE_MALLOC)) {
		printf("optroute: no hugepage memory for the table; using mmap\n");
		p.flags &= ~CT_F_RTE_MALLOC;
		rc = ct_create(&p, out);
	}
	*flags = p.flags;
	if (rc != 0) {
		fprintf(stderr, "ct_create: %s\n", strerror(-rc));
		return rc;
	}
	t = bt_now();
	rc = ct_fill(*out, w, batch, &wr);
	t = bt_now() - t;
	if (rc != 0) {
		fprintf(stderr, "optroute fill: %s\n", strerror(-rc));
		return rc;
	}
	printf("optroute: filled %" PRIu64 " keys in %.2f s (%.2f M inserts/s, "
	       "%" PRIu64 " -EAGAIN, %" PRIu64 " grace periods), buckets from %s",
	       w->n, t, (double)w->n / t / 1e6, wr.eagain, wr.syncs,
	       p.flags & CT_F_RTE_MALLOC ? "rte_malloc (hugepages)" : "mmap");
	if (!(p.flags & CT_F_RTE_MALLOC))
		printf(", %" PRIu64 " MiB of it in transparent hugepages",
		       (bt_thp_kb() - thp0) / 1024);
	printf("\n");
	ct_print_stats(*out, "after fill");
	return 0;
}

/* Churn first makes the table grow when the fill left it at its growth
 * threshold: take one batch of updates and finish that growth now, so idle
 * and under-update runs measure the same, steady table. */
static int
ct_settle(struct ct *h, struct bt_work *w, const struct bt_opts *o,
	  uint64_t *rng)
{
	struct bt_writer wr;
	int rc = bt_writer_init(&wr, h, w, o->update_batch, bt_rng_next(rng));

	if (rc == 0)
		rc = bt_writer_batch(&wr);
	bt_writer_fini(&wr);
	while (rc == 0 && ct_grow_step(h, 1u << 16) == 1)
		;
	if (rc == 0)
		rc = ct_sync(h);
	if (rc != 0)
		fprintf(stderr, "settling updates failed: %s\n", strerror(-rc));
	else
		ct_print_stats(h, "steady (one batch of updates applied)");
	return rc;
}

/* One under-update measurement: the writer runs on its core while r
 * measures. */
static double
measure_updates(struct bt_reader *r, const struct bt_opts *o,
		struct bt_writer *wr, unsigned run, uint64_t *errors, int *rc)
{
	pthread_t wt;
	double m;

	wr->rate = o->update_rate;
	wr->core = o->writer_core;
	*rc = -pthread_create(&wt, NULL, bt_writer_main, wr);
	if (*rc != 0)
		return -1;
	m = bt_measure(r, "optroute under updates", run, o->runs, errors);
	atomic_store(&wr->stop, 1);
	pthread_join(wt, NULL);
	*rc = m < 0 ? -EIO : wr->err;
	if (wr->err != 0)
		fprintf(stderr, "writer failed: %s\n", strerror(-wr->err));
	else
		bt_writer_print(wr, o->update_rate);
	return m;
}

/* Idle and under-update runs alternate, so both see the same machine. */
int
bt_bench_ct(struct bt_work *w, const struct bt_opts *o, unsigned flags,
	    uint64_t *rng, struct bt_result *res)
{
	double idle[o->runs], upd[o->runs], wrate[o->runs], one[o->runs];
	struct ct_stats s;
	struct ct *h = NULL;
	int rc = ct_build(w, o->update_batch, &flags, &h);

	if (h == NULL)
		return rc;
	res->ct_rte = flags & CT_F_RTE_MALLOC;
	if (rc == 0)
		rc = ct_settle(h, w, o, rng);
	for (unsigned i = 0; i < o->runs && rc == 0; i++) {
		struct bt_reader r = { .kind = BT_CT, .tbl = h, .w = w,
			.core = o->reader_core, .warmup = o->warmup,
			.seconds = o->seconds, .pipelined = true };
		struct bt_reader r1 = r;
		struct bt_writer wr;

		r1.pipelined = false;
		idle[i] = bt_measure(&r, "optroute idle", i, o->runs, &res->errors);
		one[i] = bt_measure(&r1, "optroute idle, one call per burst", i,
				    o->runs, &res->errors);
		if (idle[i] < 0 || one[i] < 0) {
			rc = -EIO;
			break;
		}
		rc = bt_writer_init(&wr, h, w, o->update_batch, bt_rng_next(rng));
		if (rc != 0)
			break;
		upd[i] = measure_updates(&r, o, &wr, i, &res->errors, &rc);
		wrate[i] = (double)wr.updates / wr.elapsed / 1e6;
		bt_writer_fini(&wr);
	}
	if (rc == 0) {
		ct_print_stats(h, "after the updates");
		ct_get_stats(h, &s);
		res->ct_bytes = s.bytes;
		res->ct = bt_median(idle, o->runs);
		res->ct_onecall = bt_median(one, o->runs);
		res->ct_upd = bt_median(upd, o->runs);
		res->wrate = bt_median(wrate, o->runs);
		printf("optroute: median %.2f M lookups/s idle, %.2f under updates "
		       "(writer median %.3f M updates/s); %.2f idle with one "
		       "ct_lookup_bulk call per burst\n", res->ct, res->ct_upd,
		       res->wrate, res->ct_onecall);
		if (res->wrate < 0.95 * o->update_rate / 1e6)
			printf("WARNING: the writer did not reach the update rate\n");
	}
	ct_destroy(h);
	return rc;
}
