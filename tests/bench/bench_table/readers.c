/* SPDX-License-Identifier: BSD-3-Clause
 *
 * bench_table: the measuring reader. One thread, pinned, a urcu-qsbr
 * reader, runs bursts through one structure (optroute, rte_hash, cds_lfht,
 * or the memory bound's plain reads) for --warmup then --seconds, checking
 * every answer, with rcu_quiescent_state() after each burst as the
 * dataplane's poll loop does.
 */
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include <rte_hash.h>
#include <rte_prefetch.h>

#include "bench_table.h"

/* Hits whose record is not a storable one (a torn or reserved value). */
static inline uint64_t
bad_mask(const uint32_t *recs, unsigned n, uint64_t hit)
{
	uint64_t bad = 0;

	for (unsigned i = 0; i < n; i++)
		bad |= (uint64_t)!or_rec_valid(recs[i]) << i;
	return bad & hit;
}

struct bt_acc {
	uint64_t hits, mism, bad, sink;
};

static inline void
check_burst(struct bt_acc *a, const struct bt_work *w, uint32_t b,
	    uint64_t hit, const uint32_t *recs)
{
	a->hits += (uint64_t)__builtin_popcountll(hit);
	a->mism += hit != w->expect[b];
	a->bad += (uint64_t)__builtin_popcountll(bad_mask(recs, w->burst, hit));
}

/* The burst after b, wrapping around the sequence. */
static inline uint32_t
burst_after(const struct bt_work *w, uint32_t b)
{
	return b + 1 == w->nbursts ? 0 : b + 1;
}

static inline uint64_t
bulk_rte(const struct rte_hash *h, const struct or_token **keys, unsigned n,
	 uint32_t *recs)
{
	void *data[RTE_HASH_LOOKUP_BULK_MAX];
	uint64_t hit = 0;

	rte_hash_lookup_bulk_data(h, (const void **)keys, n, &hit, data);
	for (unsigned i = 0; i < n; i++)
		recs[i] = hit & (1ull << i) ? (uint32_t)(uintptr_t)data[i] : 0;
	return hit;
}

static int
lf_match(struct cds_lfht_node *node, const void *key)
{
	const struct lf_node *n = caa_container_of(node, struct lf_node, node);

	return or_token_eq(&n->key, key);
}

/* cds_lfht has no bulk lookup: one key after the other. */
static inline uint64_t
bulk_lfht(struct cds_lfht *ht, const struct or_token **keys, unsigned n,
	  uint32_t *recs)
{
	uint64_t hit = 0;

	rcu_read_lock();
	for (unsigned i = 0; i < n; i++) {
		struct cds_lfht_iter it;
		struct cds_lfht_node *nd;

		cds_lfht_lookup(ht, bt_lf_hash(keys[i]), lf_match, keys[i], &it);
		nd = cds_lfht_iter_get_node(&it);
		recs[i] = 0;
		if (nd != NULL) {
			recs[i] = caa_container_of(nd, struct lf_node, node)->rec;
			hit |= 1ull << i;
		}
	}
	rcu_read_unlock();
	return hit;
}

/* Bursts in the lookup pipeline, kept across chunks: cb[cur] is finished
 * by the next step, cb[cur + 1] read, cb[cur + 2] started (mod 3). */
struct bt_pipe {
	struct ct_burst cb[3];
	unsigned cur;
};

static inline const struct or_token **
burst_keys(const struct bt_work *w, uint32_t b)
{
	return w->seq + (size_t)b * w->burst;
}

/* BT_CHUNK bursts through one of the tables, each answer checked. */
static void
chunk_lookup(struct bt_reader *r, uint32_t *b, struct bt_acc *a,
	     struct bt_pipe *p)
{
	const struct bt_work *w = r->w;
	uint32_t recs[CT_BULK_MAX];

	for (unsigned c = 0; c < BT_CHUNK; c++) {
		const struct or_token **keys = burst_keys(w, *b);
		const uint32_t *rr = recs; /* this burst's records */
		uint64_t hit;

		switch (r->kind) {
		case BT_CT:
			if (r->pipelined) {
				uint32_t nb = burst_after(w, burst_after(w, *b));
				struct ct_burst *done = &p->cb[p->cur];

				hit = ct_lookup_step(r->tbl, done,
						     &p->cb[(p->cur + 1) % 3],
						     burst_keys(w, nb), w->burst,
						     &p->cb[(p->cur + 2) % 3]);
				rr = done->recs;
				p->cur = (p->cur + 1) % 3;
			} else {
				hit = ct_lookup_bulk(r->tbl, keys, w->burst, recs);
			}
			break;
		case BT_RTE:
			hit = bulk_rte(r->tbl, keys, w->burst, recs);
			break;
		default:
			hit = bulk_lfht((struct cds_lfht *)(uintptr_t)r->tbl,
					keys, w->burst, recs);
			break;
		}
		check_burst(a, w, *b, hit, rr);
		rcu_quiescent_state();
		*b = burst_after(w, *b);
	}
}

/* The same pipelines with no table logic: prefetch a burst's lines, read
 * one word of each. */
static void
chunk_mem(struct bt_reader *r, uint32_t *b, struct bt_acc *a)
{
	const struct bt_work *w = r->w;
	uint64_t sum = 0;

	for (unsigned c = 0; c < BT_CHUNK; c++) {
		const uint64_t *const *p = r->lines + (size_t)*b * w->burst;

		if (r->pipelined) {
			uint32_t nb = burst_after(w, *b);
			const uint64_t *const *q = r->lines + (size_t)nb * w->burst;

			for (unsigned i = 0; i < w->burst; i++)
				rte_prefetch2(q[i]);
		} else {
			for (unsigned i = 0; i < w->burst; i++)
				rte_prefetch0(p[i]);
		}
		for (unsigned i = 0; i < w->burst; i++)
			sum += *p[i];
		rcu_quiescent_state();
		*b = burst_after(w, *b);
	}
	a->sink += sum;
}

static void *
reader_main(void *arg)
{
	struct bt_reader *r = arg;
	struct bt_acc a = { 0 };
	uint32_t b = 0;
	double t, t0 = 0, start, end;
	uint64_t chunks = 0;
	bool measuring = false;
	struct bt_pipe pipe = { .cur = 0 };

	r->err = bt_pin_self(r->core);
	if (r->err != 0)
		return NULL;
	rcu_register_thread();
	if (r->kind == BT_CT && r->pipelined) {
		/* Fill the pipeline: bursts 0 and 1 in flight. */
		ct_lookup_start(r->tbl, burst_keys(r->w, 0), r->w->burst, &pipe.cb[0]);
		ct_lookup_step(r->tbl, NULL, &pipe.cb[0], burst_keys(r->w, 1),
			       r->w->burst, &pipe.cb[1]);
	}
	start = bt_now();
	end = start + r->warmup;
	for (;;) {
		if (r->kind == BT_MEM)
			chunk_mem(r, &b, &a);
		else
			chunk_lookup(r, &b, &a, &pipe);
		chunks++;
		t = bt_now();
		if (t < end)
			continue;
		if (measuring)
			break;
		/* Warm-up over: count from here. */
		measuring = true;
		memset(&a, 0, sizeof(a));
		chunks = 0;
		t0 = t;
		end = t + r->seconds;
	}
	rcu_unregister_thread();
	r->elapsed = t - t0;
	r->lookups = chunks * BT_CHUNK * r->w->burst;
	r->hits = a.hits;
	r->mismatches = a.mism;
	r->bad_recs = a.bad;
	r->sink = a.sink;
	return NULL;
}

static int
run_reader(struct bt_reader *r)
{
	pthread_t t;
	int rc = pthread_create(&t, NULL, reader_main, r);

	if (rc != 0)
		return -rc;
	pthread_join(t, NULL);
	return r->err;
}

/* Runs one measurement; prints it; returns Mlookups/s or < 0. */
double
bt_measure(struct bt_reader *r, const char *label, unsigned run, unsigned runs,
	   uint64_t *errors)
{
	int rc = run_reader(r);
	double m;

	if (rc != 0) {
		fprintf(stderr, "%s: reader failed: %s\n", label, strerror(-rc));
		return -1;
	}
	m = (double)r->lookups / r->elapsed / 1e6;
	printf("  %s run %u/%u: %.2f M %s/s", label, run + 1, runs, m,
	       r->kind == BT_MEM ? "lines" : "lookups");
	if (r->kind != BT_MEM)
		printf(" (hits %.1f%%, wrong bursts %" PRIu64 ", bad records %" PRIu64 ")",
		       100.0 * (double)r->hits / (double)r->lookups,
		       r->mismatches, r->bad_recs);
	printf("\n");
	fflush(stdout);
	*errors += r->mismatches + r->bad_recs;
	return m;
}
