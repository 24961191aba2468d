/* SPDX-License-Identifier: BSD-3-Clause
 *
 * bench_table: consent table lookups on one core (make bench-table).
 *
 * Fills the optroute table (include/optroute/ctable.h) with N random tokens
 * and measures, in one run, on the same keys and the same bursts:
 *   optroute ct_lookup_bulk, idle and while a writer on the other core
 *   applies ~1M updates/s; DPDK rte_hash_lookup_bulk_data (lock-free
 *   reader mode); liburcu's cds_lfht (QSBR); and the memory bound: prefetched
 *   random 64-byte reads over as many bytes as the optroute table uses.
 * The last line of output is one JSON object; docs/benchmarks.md says how
 * to read it.
 *
 * Keys reach the lookups as a long precomputed stream of key copies in
 * random order (as tokens arrive in packets), so the table is the only
 * random access, as in the memory bound; --key-ptrs instead points into the
 * token array (one more random access per lookup).
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include <urcu-qsbr.h>
#include <urcu/rculfhash.h>

#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_hash.h>
#include <rte_hash_crc.h>
#include <rte_jhash.h>
#include <rte_malloc.h>
#include <rte_prefetch.h>

#include "optroute/consent.h"
#include "optroute/ctable.h"

#define BT_CHUNK 64                   /* bursts between clock reads */
#define BT_LFHT_MAX 10000000ull       /* cds_lfht is skipped above this */
#define BT_MISS_PER_MILLE 100         /* 10% misses */
#define BT_EAL_NOHUGE_MB 256          /* EAL's own memory without hugepages */
#define BT_THP_PAGE (2u << 20)

struct bt_opts {
	uint64_t entries;
	double seconds;
	double warmup;
	unsigned runs;
	unsigned burst;
	uint64_t seq_len;
	bool skip_rte;
	bool skip_lfht;
	bool key_ptrs;
	double update_rate;
	unsigned update_batch;
	int reader_core;
	int writer_core;
	const char *rte_hash_fn;
	uint64_t seed;
};

/* Keys and lookup order shared by every structure. */
struct bt_work {
	struct or_token *tok; /* [0, n_hit) looked up, [n_hit, n) churned */
	uint64_t n;
	uint64_t n_hit;
	struct or_token *stream; /* key copies in lookup order */
	struct or_token *miss;   /* miss keys (--key-ptrs) */
	uint64_t n_miss;
	const struct or_token **seq;
	uint64_t *expect;        /* per burst: hit mask a correct table gives */
	uint64_t seq_len;
	uint32_t nbursts;
	unsigned burst;
};

enum bt_kind { BT_CT, BT_RTE, BT_LFHT, BT_MEM };

struct bt_reader {
	enum bt_kind kind;
	const void *tbl;
	const struct bt_work *w;
	const uint64_t *const *lines; /* BT_MEM: line addresses in order */
	int core;
	double warmup;
	double seconds;
	/* results */
	uint64_t lookups;
	uint64_t hits;
	uint64_t mismatches; /* bursts whose hit mask was wrong */
	uint64_t bad_recs;   /* hits with a record that is not IN or OUT */
	volatile uint64_t sink; /* what the memory bound read */
	double elapsed;
	int err;
};

struct bt_writer {
	struct ct *h;
	struct bt_work *w;
	double rate;
	unsigned batch;
	int core;
	uint64_t rng;
	atomic_int stop;
	uint64_t updates;
	uint64_t eagain;
	uint64_t overruns;
	uint64_t syncs;   /* after batches and on -EAGAIN */
	double sync_max;
	double sync_sum;
	double busy;      /* seconds in batches and syncs, not asleep */
	double elapsed;
	int err;
};

struct lf_node {
	struct cds_lfht_node node;
	struct or_token key;
	uint32_t rec;
};

static double
now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static inline uint64_t
rng_next(uint64_t *s)
{
	uint64_t z = (*s += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

/* Uniform in [0, n) without division. */
static inline uint64_t
rng_below(uint64_t *s, uint64_t n)
{
	return (uint64_t)(((__uint128_t)rng_next(s) * n) >> 64);
}

static void
rng_token(uint64_t *s, struct or_token *t)
{
	uint64_t a = rng_next(s), b = rng_next(s);

	memcpy(t->b, &a, 8);
	memcpy(t->b + 8, &b, 8);
}

/* The record key i starts with: 90% opted in, a spread of nodes. */
static uint32_t
rec_of(uint64_t i)
{
	return or_rec_make(i % 10 == 0 ? OR_STATE_OUT : OR_STATE_IN,
			   (uint16_t)(i & 0x3ff), 1, 0);
}

/* Anonymous memory with transparent hugepages, like the table's buckets
 * when they do not come from rte_malloc, so the TLB treats both alike. */
static void *
big_alloc(size_t len)
{
	void *p = mmap(NULL, len, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (p == MAP_FAILED)
		return NULL;
	(void)madvise(p, len, MADV_HUGEPAGE);
	return p;
}

static void
big_free(void *p, size_t len)
{
	if (p != NULL)
		munmap(p, len);
}

static uint64_t
meminfo_kb(const char *file, const char *field)
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
static uint64_t
thp_kb(void)
{
	return meminfo_kb("/proc/self/smaps_rollup", "AnonHugePages");
}

static int
pin_self(int core)
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

static double
median(double *v, unsigned n)
{
	qsort(v, n, sizeof(*v), cmp_double);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

/* ------------------------------------------------------------ readers --- */

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

static inline void
next_burst(const struct bt_work *w, uint32_t *b)
{
	if (++*b == w->nbursts)
		*b = 0;
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

static inline unsigned long
lf_hash(const struct or_token *k)
{
	unsigned long h;

	/* Tokens are keyed-BLAKE2b output: already uniform. */
	memcpy(&h, k->b, sizeof(h));
	return h;
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

		cds_lfht_lookup(ht, lf_hash(keys[i]), lf_match, keys[i], &it);
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

/* BT_CHUNK bursts through one of the tables, each answer checked. */
static void
chunk_lookup(struct bt_reader *r, uint32_t *b, struct bt_acc *a)
{
	const struct bt_work *w = r->w;
	uint32_t recs[CT_BULK_MAX];

	for (unsigned c = 0; c < BT_CHUNK; c++) {
		const struct or_token **keys = w->seq + (size_t)*b * w->burst;
		uint64_t hit;

		switch (r->kind) {
		case BT_CT:
			hit = ct_lookup_bulk(r->tbl, keys, w->burst, recs);
			break;
		case BT_RTE:
			hit = bulk_rte(r->tbl, keys, w->burst, recs);
			break;
		default:
			hit = bulk_lfht((struct cds_lfht *)(uintptr_t)r->tbl,
					keys, w->burst, recs);
			break;
		}
		check_burst(a, w, *b, hit, recs);
		rcu_quiescent_state();
		next_burst(w, b);
	}
}

/* The same pipeline with no table logic: prefetch the burst's lines, then
 * read one word of each. */
static void
chunk_mem(struct bt_reader *r, uint32_t *b, struct bt_acc *a)
{
	const struct bt_work *w = r->w;
	uint64_t sum = 0;

	for (unsigned c = 0; c < BT_CHUNK; c++) {
		const uint64_t *const *p = r->lines + (size_t)*b * w->burst;

		for (unsigned i = 0; i < w->burst; i++)
			rte_prefetch0(p[i]);
		for (unsigned i = 0; i < w->burst; i++)
			sum += *p[i];
		rcu_quiescent_state();
		next_burst(w, b);
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

	r->err = pin_self(r->core);
	if (r->err != 0)
		return NULL;
	rcu_register_thread();
	start = now_s();
	end = start + r->warmup;
	for (;;) {
		if (r->kind == BT_MEM)
			chunk_mem(r, &b, &a);
		else
			chunk_lookup(r, &b, &a);
		chunks++;
		t = now_s();
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
static double
measure(struct bt_reader *r, const char *label, unsigned run, unsigned runs,
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

/* ------------------------------------------------------------- writer --- */

static int
timed_sync(struct bt_writer *wr)
{
	double t = now_s();
	int rc = ct_sync(wr->h);

	t = now_s() - t;
	wr->syncs++;
	wr->sync_sum += t;
	if (t > wr->sync_max)
		wr->sync_max = t;
	return rc;
}

static int
upsert_retry(struct bt_writer *wr, const struct or_token *k, uint32_t rec)
{
	int rc;

	/* The contract: -EAGAIN means room is being made; sync and retry
	 * (as the dataplane's updater does). */
	while ((rc = ct_upsert(wr->h, k, rec)) == -EAGAIN) {
		wr->eagain++;
		rc = timed_sync(wr);
		if (rc != 0)
			return rc;
	}
	return rc;
}

/* One update: half are opt in/out flips of looked-up keys (they stay
 * present, so every lookup's answer stays known); the rest delete a churn
 * key, which no lookup uses, and insert a fresh one in its place. */
static int
writer_update(struct bt_writer *wr, unsigned *done)
{
	struct bt_work *w = wr->w;
	uint64_t j;
	int rc;

	if (rng_below(&wr->rng, 2) == 0) {
		const struct or_token *k = &w->tok[rng_below(&wr->rng, w->n_hit)];
		uint32_t rec = ct_get(wr->h, k);

		if (rec == 0)
			return -ENOENT;
		*done += 1;
		return upsert_retry(wr, k, rec ^ OR_REC_STATE_MASK);
	}
	j = w->n_hit + rng_below(&wr->rng, w->n - w->n_hit);
	rc = ct_delete(wr->h, &w->tok[j]);
	if (rc != 0)
		return rc;
	rng_token(&wr->rng, &w->tok[j]);
	*done += 2;
	return upsert_retry(wr, &w->tok[j], rec_of(j));
}

/* A batch of updates, then the ct_sync() the contract asks for. */
static int
writer_batch(struct bt_writer *wr)
{
	double t = now_s();
	unsigned done = 0;
	int rc = 0;

	while (done < wr->batch && rc == 0)
		rc = writer_update(wr, &done);
	wr->updates += done;
	if (rc == 0)
		rc = timed_sync(wr);
	wr->busy += now_s() - t;
	return rc;
}

static void *
writer_main(void *arg)
{
	struct bt_writer *wr = arg;
	double period = wr->batch / wr->rate, start, next, t;

	wr->err = pin_self(wr->core);
	if (wr->err != 0)
		return NULL;
	start = next = now_s();
	while (!atomic_load_explicit(&wr->stop, memory_order_relaxed)) {
		struct timespec ts;

		wr->err = writer_batch(wr);
		if (wr->err != 0)
			break;
		next += period;
		t = now_s();
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
	wr->elapsed = now_s() - start;
	return NULL;
}

/* ----------------------------------------------------------- workload --- */

static void
work_free(struct bt_work *w)
{
	big_free(w->tok, w->n * sizeof(*w->tok));
	big_free(w->stream, w->seq_len * sizeof(*w->stream));
	big_free(w->miss, w->n_miss * sizeof(*w->miss));
	big_free(w->seq, w->seq_len * sizeof(*w->seq));
	big_free(w->expect, w->nbursts * sizeof(*w->expect));
}

static int
work_init(struct bt_work *w, const struct bt_opts *o, uint64_t *rng)
{
	uint64_t misses = 0;
	double t = now_s();

	memset(w, 0, sizeof(*w));
	w->n = o->entries;
	/* 1/32 of the keys are churned by the writer and never looked up. */
	w->n_hit = w->n - (w->n / 32 > 0 ? w->n / 32 : 1);
	w->burst = o->burst;
	w->nbursts = (uint32_t)(o->seq_len / o->burst);
	w->seq_len = (uint64_t)w->nbursts * o->burst;
	w->tok = big_alloc(w->n * sizeof(*w->tok));
	w->seq = big_alloc(w->seq_len * sizeof(*w->seq));
	w->expect = big_alloc(w->nbursts * sizeof(*w->expect));
	if (o->key_ptrs) {
		w->n_miss = w->n_hit / 9 + 1;
		w->miss = big_alloc(w->n_miss * sizeof(*w->miss));
	} else {
		w->stream = big_alloc(w->seq_len * sizeof(*w->stream));
	}
	if (w->tok == NULL || w->seq == NULL || w->expect == NULL ||
	    (w->miss == NULL && w->stream == NULL))
		return -ENOMEM;
	for (uint64_t i = 0; i < w->n; i++)
		rng_token(rng, &w->tok[i]);
	for (uint64_t i = 0; i < w->n_miss; i++)
		rng_token(rng, &w->miss[i]);
	for (uint64_t i = 0; i < w->seq_len; i++) {
		bool miss = rng_below(rng, 1000) < BT_MISS_PER_MILLE;

		misses += miss;
		if (!miss)
			w->expect[i / w->burst] |= 1ull << (i % w->burst);
		if (o->key_ptrs) {
			w->seq[i] = miss ? &w->miss[rng_below(rng, w->n_miss)] :
					   &w->tok[rng_below(rng, w->n_hit)];
			continue;
		}
		if (miss)
			rng_token(rng, &w->stream[i]);
		else
			w->stream[i] = w->tok[rng_below(rng, w->n_hit)];
		w->seq[i] = &w->stream[i];
	}
	printf("keys: %" PRIu64 " in the table (%" PRIu64 " looked up, %" PRIu64
	       " churned by the writer); lookup sequence %" PRIu64 " keys as %s, "
	       "%.1f%% misses, burst %u; generated in %.2f s\n",
	       w->n, w->n_hit, w->n - w->n_hit, w->seq_len,
	       o->key_ptrs ? "pointers into the key array" : "a stream of key copies",
	       100.0 * (double)misses / (double)w->seq_len, w->burst, now_s() - t);
	return 0;
}

/* ----------------------------------------------------------- optroute --- */

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

/* Creates and fills the table; *flags says where its buckets ended up. */
static int
ct_build(struct bt_work *w, unsigned *flags, struct ct **out)
{
	struct ct_params p = { .entries = w->n, .socket_id = -1, .flags = *flags };
	struct bt_writer wr = { 0 }; /* the fill is a writer too */
	uint64_t thp0 = thp_kb();
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
	wr.h = *out;
	t = now_s();
	for (uint64_t i = 0; i < w->n && rc == 0; i++)
		rc = upsert_retry(&wr, &w->tok[i], rec_of(i));
	if (rc == 0)
		rc = ct_sync(*out);
	t = now_s() - t;
	if (rc != 0) {
		fprintf(stderr, "optroute fill: %s\n", strerror(-rc));
		return rc;
	}
	printf("optroute: filled %" PRIu64 " keys in %.2f s (%.2f M inserts/s, "
	       "%" PRIu64 " -EAGAIN), buckets from %s",
	       w->n, t, (double)w->n / t / 1e6, wr.eagain,
	       p.flags & CT_F_RTE_MALLOC ? "rte_malloc (hugepages)" : "mmap");
	if (!(p.flags & CT_F_RTE_MALLOC))
		printf(", %" PRIu64 " MiB of it in transparent hugepages",
		       (thp_kb() - thp0) / 1024);
	printf("\n");
	ct_print_stats(*out, "after fill");
	return 0;
}

struct bt_result {
	double ct, ct_upd, rte, lfht, mem, wrate;
	bool has_rte, has_lfht;
	bool ct_rte; /* the table's buckets came from rte_malloc */
	uint64_t ct_bytes;
	uint64_t errors;
};

/* Churn first makes the table grow when the fill left it at its growth
 * threshold: take one batch of updates and finish that growth now, so idle
 * and under-update runs measure the same, steady table. */
static int
ct_settle(struct ct *h, struct bt_work *w, const struct bt_opts *o,
	  uint64_t *rng)
{
	struct bt_writer wr = { .h = h, .w = w, .batch = o->update_batch,
		.rng = rng_next(rng) };
	int rc = writer_batch(&wr);

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

static void
writer_print(const struct bt_writer *wr, double target)
{
	printf("    writer on core %d: %" PRIu64 " updates in %.2f s = %.3f M/s "
	       "(target %.3f), busy %.0f%%, %" PRIu64 " batches late, %" PRIu64
	       " -EAGAIN, %" PRIu64 " ct_sync mean %.1f us max %.1f us\n",
	       wr->core, wr->updates, wr->elapsed,
	       (double)wr->updates / wr->elapsed / 1e6, target / 1e6,
	       100.0 * wr->busy / wr->elapsed, wr->overruns, wr->eagain,
	       wr->syncs, wr->sync_sum / (double)wr->syncs * 1e6,
	       wr->sync_max * 1e6);
}

/* Idle and under-update runs alternate, so both see the same machine. */
static int
bench_ct(struct bt_work *w, const struct bt_opts *o, unsigned flags,
	 uint64_t *rng, struct bt_result *res)
{
	double idle[o->runs], upd[o->runs], wrate[o->runs];
	struct ct_stats s;
	struct ct *h = NULL;
	int rc = ct_build(w, &flags, &h);

	if (h == NULL)
		return rc;
	res->ct_rte = flags & CT_F_RTE_MALLOC;
	if (rc == 0)
		rc = ct_settle(h, w, o, rng);
	for (unsigned i = 0; i < o->runs && rc == 0; i++) {
		struct bt_reader r = { .kind = BT_CT, .tbl = h, .w = w,
			.core = o->reader_core, .warmup = o->warmup,
			.seconds = o->seconds };
		struct bt_writer wr = { .h = h, .w = w, .rate = o->update_rate,
			.batch = o->update_batch, .core = o->writer_core,
			.rng = rng_next(rng) };
		pthread_t wt;

		idle[i] = measure(&r, "optroute idle", i, o->runs, &res->errors);
		if (idle[i] < 0)
			rc = -EIO;
		else
			rc = -pthread_create(&wt, NULL, writer_main, &wr);
		if (rc != 0)
			break;
		upd[i] = measure(&r, "optroute under updates", i, o->runs,
				 &res->errors);
		atomic_store(&wr.stop, 1);
		pthread_join(wt, NULL);
		rc = upd[i] < 0 ? -EIO : wr.err;
		if (wr.err != 0)
			fprintf(stderr, "writer failed: %s\n", strerror(-wr.err));
		else
			writer_print(&wr, o->update_rate);
		wrate[i] = (double)wr.updates / wr.elapsed / 1e6;
	}
	if (rc == 0) {
		ct_print_stats(h, "after the updates");
		ct_get_stats(h, &s);
		res->ct_bytes = s.bytes;
		res->ct = median(idle, o->runs);
		res->ct_upd = median(upd, o->runs);
		res->wrate = median(wrate, o->runs);
		printf("optroute: median %.2f M lookups/s idle, %.2f under updates "
		       "(writer median %.3f M updates/s)\n", res->ct, res->ct_upd,
		       res->wrate);
		if (res->wrate < 0.95 * o->update_rate / 1e6)
			printf("WARNING: the writer did not reach the update rate\n");
	}
	ct_destroy(h);
	return rc;
}

/* ------------------------------------------------------- memory bound --- */

/* Allocated like the table's buckets, so pages and TLB reach match. */
static int
bench_mem(struct bt_work *w, const struct bt_opts *o, uint64_t *rng,
	  struct bt_result *res)
{
	uint64_t nlines = (res->ct_bytes + 63) / 64, len = nlines * 64;
	double v[o->runs];
	uint64_t *mem = res->ct_rte ? rte_malloc(NULL, len, 64) : big_alloc(len);
	const uint64_t **lines = big_alloc(w->seq_len * sizeof(*lines));
	struct bt_reader r = { .kind = BT_MEM, .w = w, .core = o->reader_core,
		.warmup = o->warmup, .seconds = o->seconds, .lines = lines };
	int rc = 0;

	if (mem == NULL || lines == NULL) {
		fprintf(stderr, "memory bound: cannot allocate %" PRIu64 " bytes\n", len);
		rc = -ENOMEM;
		goto out;
	}
	memset(mem, 1, len); /* fault every page in now */
	for (uint64_t i = 0; i < w->seq_len; i++)
		lines[i] = mem + rng_below(rng, nlines) * 8;
	printf("memory bound: %" PRIu64 " MiB from %s, random lines in bursts "
	       "of %u\n", len >> 20, res->ct_rte ? "rte_malloc" : "mmap", w->burst);
	for (unsigned i = 0; i < o->runs && rc == 0; i++) {
		v[i] = measure(&r, "memory bound", i, o->runs, &res->errors);
		if (v[i] < 0)
			rc = -EIO;
	}
	if (rc == 0) {
		res->mem = median(v, o->runs);
		printf("memory bound: median %.2f M lines/s\n", res->mem);
	}
out:
	big_free(lines, w->seq_len * sizeof(*lines));
	if (res->ct_rte)
		rte_free(mem);
	else
		big_free(mem, len);
	return rc;
}

/* ----------------------------------------------------------- rte_hash --- */

/* Bytes allocated from one heap, or from all NUMA heaps (SOCKET_ID_ANY). */
static uint64_t
rte_heap_bytes(int socket)
{
	struct rte_malloc_socket_stats st;
	uint64_t sum = 0;

	for (int s = 0; s < RTE_MAX_NUMA_NODES; s++)
		if ((socket == SOCKET_ID_ANY || s == socket) &&
		    rte_malloc_get_socket_stats(s, &st) == 0)
			sum += st.heap_allocsz_bytes;
	if (socket >= RTE_MAX_NUMA_NODES &&
	    rte_malloc_get_socket_stats(socket, &st) == 0)
		sum = st.heap_allocsz_bytes;
	return sum;
}

/* rte_hash's footprint for n keys: buckets, key store, free-slot ring. */
static uint64_t
rte_hash_bytes(uint64_t n)
{
	uint64_t p = 1;

	while (p < n + 1)
		p <<= 1;
	return (8 * p + 32 * (n + 1) + 4 * p) * 11 / 10 + (64u << 20);
}

struct bt_heap {
	void *raw;
	size_t raw_len;
	void *addr;
	size_t len;
};

/* Without hugepages EAL memory is a memfd in 4 KiB pages, while optroute's
 * buckets get transparent hugepages: give rte_hash an external heap on THP
 * memory so the comparison is not about the TLB. Returns its socket id. */
static int
thp_heap_create(struct bt_heap *hp, uint64_t bytes)
{
	hp->len = RTE_ALIGN_CEIL(bytes, BT_THP_PAGE);
	hp->raw_len = hp->len + BT_THP_PAGE;
	hp->raw = big_alloc(hp->raw_len);
	if (hp->raw == NULL)
		return -1;
	hp->addr = RTE_PTR_ALIGN_CEIL(hp->raw, BT_THP_PAGE);
	if (rte_malloc_heap_create("bench_thp") != 0)
		return -1;
	if (rte_malloc_heap_memory_add("bench_thp", hp->addr, hp->len, NULL, 0,
				       BT_THP_PAGE) != 0)
		return -1;
	return rte_malloc_heap_get_socket("bench_thp");
}

static void
thp_heap_destroy(struct bt_heap *hp)
{
	if (hp->raw == NULL)
		return;
	rte_malloc_heap_memory_remove("bench_thp", hp->addr, hp->len);
	rte_malloc_heap_destroy("bench_thp");
	big_free(hp->raw, hp->raw_len);
}

static int
bench_rte(struct bt_work *w, const struct bt_opts *o, bool huge,
	  struct bt_result *res)
{
	struct rte_hash_parameters p = {
		.name = "bench_table", .entries = (uint32_t)w->n,
		.key_len = OR_TOKEN_LEN, .socket_id = SOCKET_ID_ANY,
		.extra_flag = RTE_HASH_EXTRA_FLAGS_RW_CONCURRENCY_LF,
	};
	struct bt_heap hp = { 0 };
	uint64_t heap0, failed = 0, thp = thp_kb();
	double v[o->runs], t;
	struct rte_hash *h;
	int rc = 0;

	if (!huge) {
		p.socket_id = thp_heap_create(&hp, rte_hash_bytes(w->n));
		if (p.socket_id < 0) {
			fprintf(stderr, "rte_hash: no THP heap: %s\n",
				rte_strerror(rte_errno));
			thp_heap_destroy(&hp);
			return -ENOMEM;
		}
	}
	heap0 = rte_heap_bytes(p.socket_id);

	p.hash_func = strcmp(o->rte_hash_fn, "jhash") == 0 ? rte_jhash :
							      rte_hash_crc;
	h = rte_hash_create(&p);
	if (h == NULL) {
		printf("rte_hash: create failed (%s): skipped\n",
		       rte_strerror(rte_errno));
		thp_heap_destroy(&hp);
		return 0;
	}
	t = now_s();
	for (uint64_t i = 0; i < w->n; i++)
		failed += rte_hash_add_key_data(h, &w->tok[i],
				(void *)(uintptr_t)rec_of(i)) != 0;
	t = now_s() - t;
	printf("rte_hash (%s, lock-free readers): filled %" PRIu64 " keys in "
	       "%.2f s (%.2f M inserts/s), %" PRIu64 " failed, %.1f MiB (%.2f "
	       "B/entry) from ", o->rte_hash_fn, w->n, t,
	       (double)w->n / t / 1e6, failed,
	       (double)(rte_heap_bytes(p.socket_id) - heap0) / 1048576.0,
	       (double)(rte_heap_bytes(p.socket_id) - heap0) / (double)w->n);
	if (huge)
		printf("hugepages\n");
	else
		printf("an external heap of %zu MiB, %" PRIu64 " MiB of it in "
		       "transparent hugepages\n", hp.len >> 20,
		       (thp_kb() - thp) / 1024);
	for (unsigned i = 0; i < o->runs && rc == 0; i++) {
		struct bt_reader r = { .kind = BT_RTE, .tbl = h, .w = w,
			.core = o->reader_core, .warmup = o->warmup,
			.seconds = o->seconds };

		v[i] = measure(&r, "rte_hash", i, o->runs, &res->errors);
		if (v[i] < 0)
			rc = -EIO;
	}
	rte_hash_free(h);
	thp_heap_destroy(&hp);
	if (rc != 0)
		return rc;
	if (failed != 0) {
		/* Its misses would count as wrong answers: not a figure. */
		printf("rte_hash: not reported, %" PRIu64 " keys did not fit\n", failed);
		return 0;
	}
	res->rte = median(v, o->runs);
	res->has_rte = true;
	printf("rte_hash: median %.2f M lookups/s\n", res->rte);
	return 0;
}

/* --------------------------------------------------------------- lfht --- */

static int
bench_lfht(struct bt_work *w, const struct bt_opts *o, struct bt_result *res)
{
	unsigned long size = 1;
	struct lf_node *nodes = big_alloc(w->n * sizeof(*nodes));
	struct cds_lfht *ht;
	double v[o->runs], t;
	int rc = 0;

	while (size < w->n)
		size <<= 1;
	/* Sized once for N: no resize (and no call_rcu worker) while measured. */
	ht = cds_lfht_new(size, size, size, 0, NULL);
	if (nodes == NULL || ht == NULL) {
		fprintf(stderr, "lfht: cannot allocate\n");
		if (ht != NULL)
			cds_lfht_destroy(ht, NULL);
		big_free(nodes, w->n * sizeof(*nodes));
		return -ENOMEM;
	}
	rcu_register_thread();
	t = now_s();
	rcu_read_lock();
	for (uint64_t i = 0; i < w->n; i++) {
		nodes[i].key = w->tok[i];
		nodes[i].rec = rec_of(i);
		cds_lfht_node_init(&nodes[i].node);
		cds_lfht_add(ht, lf_hash(&nodes[i].key), &nodes[i].node);
	}
	rcu_read_unlock();
	t = now_s() - t;
	rcu_thread_offline();
	printf("lfht (qsbr, %lu buckets): filled %" PRIu64 " keys in %.2f s "
	       "(%.2f M inserts/s), nodes %.1f MiB + buckets\n", size, w->n, t,
	       (double)w->n / t / 1e6,
	       (double)(w->n * sizeof(*nodes)) / 1048576.0);
	for (unsigned i = 0; i < o->runs; i++) {
		struct bt_reader r = { .kind = BT_LFHT, .tbl = ht, .w = w,
			.core = o->reader_core, .warmup = o->warmup,
			.seconds = o->seconds };

		v[i] = measure(&r, "lfht", i, o->runs, &res->errors);
		if (v[i] < 0) {
			rc = -EIO;
			break;
		}
	}
	/* cds_lfht_destroy wants an empty table. */
	rcu_thread_online();
	rcu_read_lock();
	for (uint64_t i = 0; i < w->n; i++)
		cds_lfht_del(ht, &nodes[i].node);
	rcu_read_unlock();
	rcu_unregister_thread();
	cds_lfht_destroy(ht, NULL);
	big_free(nodes, w->n * sizeof(*nodes));
	if (rc == 0) {
		res->lfht = median(v, o->runs);
		res->has_lfht = true;
		printf("lfht: median %.2f M lookups/s\n", res->lfht);
	}
	return rc;
}

/* ---------------------------------------------------------------- main --- */

static int
eal_start(const struct bt_opts *o, bool huge)
{
	char lcore[16];
	const char *args[16] = {
		"bench_table", "-l", lcore, "--no-pci", "--no-telemetry",
		"--log-level=4",
	};
	int n = 6;

	snprintf(lcore, sizeof(lcore), "%d", o->reader_core);
	if (huge) {
		args[n++] = "--in-memory";
	} else {
		/* --no-huge is legacy memory, which --in-memory refuses. */
		args[n++] = "--no-huge";
		args[n++] = "--no-shconf";
		args[n++] = "-m";
		args[n++] = RTE_STR(BT_EAL_NOHUGE_MB);
	}
	if (rte_eal_init(n, (char **)(uintptr_t)args) < 0) {
		fprintf(stderr, "rte_eal_init: %s\n", rte_strerror(rte_errno));
		return -1;
	}
	return 0;
}

static void
usage(FILE *f)
{
	fprintf(f,
"usage: bench_table [options]\n"
"  --entries N       keys in the table (default 10M; k/M/G suffixes)\n"
"  --seconds S       measured time per run (default 2)\n"
"  --warmup S        warm-up before each run (default 0.5)\n"
"  --runs R          runs per measurement, median reported (default 3)\n"
"  --burst B         keys per bulk lookup, 1..64 (default 32)\n"
"  --seq N           length of the precomputed lookup sequence (default 16M)\n"
"  --key-ptrs        look up via pointers into the key array, not key copies\n"
"  --update-rate U   writer updates per second (default 1M)\n"
"  --update-batch K  updates per writer batch, ct_sync after each (default 1000)\n"
"  --reader-core C, --writer-core C   (default: first two allowed CPUs)\n"
"  --rte-hash F      rte_hash function: crc (default) or jhash\n"
"  --skip-rte, --skip-lfht            leave a comparison out\n"
"  --seed X          random seed (default 1)\n");
}

/* A count such as 10000000, 10M, 1.5k or 1e6. */
static int
parse_count(const char *s, uint64_t min, uint64_t max, uint64_t *out)
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

static int
parse_seconds(const char *s, double *out)
{
	char *end;
	double v = strtod(s, &end);

	if (end == s || *end != '\0' || !(v > 0 && v <= 3600))
		return -EINVAL;
	*out = v;
	return 0;
}

static int
parse_opts(int argc, char **argv, struct bt_opts *o)
{
	static const struct option lo[] = {
		{ "entries", 1, NULL, 'n' }, { "seconds", 1, NULL, 's' },
		{ "warmup", 1, NULL, 'w' }, { "runs", 1, NULL, 'r' },
		{ "burst", 1, NULL, 'b' }, { "seq", 1, NULL, 'q' },
		{ "key-ptrs", 0, NULL, 'p' }, { "update-rate", 1, NULL, 'u' },
		{ "update-batch", 1, NULL, 'k' }, { "reader-core", 1, NULL, 'R' },
		{ "writer-core", 1, NULL, 'W' }, { "rte-hash", 1, NULL, 'f' },
		{ "skip-rte", 0, NULL, 'x' }, { "skip-lfht", 0, NULL, 'y' },
		{ "seed", 1, NULL, 'z' }, { "help", 0, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	uint64_t v;
	int c, rc = 0;

	while (rc == 0 && (c = getopt_long(argc, argv, "h", lo, NULL)) != -1) {
		switch (c) {
		case 'n': rc = parse_count(optarg, 64, UINT32_MAX - 1, &o->entries); break;
		case 's': rc = parse_seconds(optarg, &o->seconds); break;
		case 'w': rc = parse_seconds(optarg, &o->warmup); break;
		case 'r': rc = parse_count(optarg, 1, 99, &v); o->runs = (unsigned)v; break;
		case 'b': rc = parse_count(optarg, 1, CT_BULK_MAX, &v); o->burst = (unsigned)v; break;
		case 'q': rc = parse_count(optarg, 1024, 1ull << 30, &o->seq_len); break;
		case 'p': o->key_ptrs = true; break;
		case 'u': rc = parse_count(optarg, 1000, 100000000, &v); o->update_rate = (double)v; break;
		case 'k': rc = parse_count(optarg, 1, 1000000, &v); o->update_batch = (unsigned)v; break;
		case 'R': rc = parse_count(optarg, 0, CPU_SETSIZE - 1, &v); o->reader_core = (int)v; break;
		case 'W': rc = parse_count(optarg, 0, CPU_SETSIZE - 1, &v); o->writer_core = (int)v; break;
		case 'f':
			o->rte_hash_fn = optarg;
			if (strcmp(optarg, "crc") && strcmp(optarg, "jhash"))
				rc = -EINVAL;
			break;
		case 'x': o->skip_rte = true; break;
		case 'y': o->skip_lfht = true; break;
		case 'z': rc = parse_count(optarg, 0, UINT32_MAX, &o->seed); break;
		case 'h': usage(stdout); exit(0);
		default: usage(stderr); return -EINVAL;
		}
		for (const struct option *l = lo; rc != 0 && l->name != NULL; l++)
			if (l->val == c)
				fprintf(stderr, "bench_table: bad value for --%s: '%s'\n",
					l->name, optarg);
	}
	if (rc == 0 && optind < argc) {
		fprintf(stderr, "bench_table: unexpected argument '%s'\n", argv[optind]);
		rc = -EINVAL;
	}
	return rc;
}

/* Reader and writer on the first two CPUs we may use, unless told. */
static int
pick_cores(struct bt_opts *o)
{
	cpu_set_t set;
	int first = -1, second = -1;

	if (sched_getaffinity(0, sizeof(set), &set) != 0)
		return -errno;
	for (int c = 0; c < CPU_SETSIZE; c++) {
		if (!CPU_ISSET(c, &set) || c == o->reader_core)
			continue;
		if (first < 0)
			first = c;
		else if (second < 0)
			second = c;
	}
	if (o->reader_core < 0)
		o->reader_core = first;
	if (o->writer_core < 0)
		o->writer_core = o->reader_core == first ? second : first;
	if (o->writer_core < 0) {
		printf("WARNING: one CPU only: the writer shares the reader's core\n");
		o->writer_core = o->reader_core;
	}
	return o->reader_core >= 0 ? 0 : -ENODEV;
}

static void
print_ratio(const char *name, double v, double target, const char *note)
{
	printf("ratio %-34s %6.2f  target >= %.1f%s: %s\n", name, v, target, note,
	       v >= target ? "met" : "NOT met");
}

int
main(int argc, char **argv)
{
	struct bt_opts o = {
		.entries = 10000000, .seconds = 2, .warmup = 0.5, .runs = 3,
		.burst = 32, .seq_len = 1u << 24, .update_rate = 1e6,
		.update_batch = 1000, .reader_core = -1, .writer_core = -1,
		.rte_hash_fn = "crc", .seed = 1,
	};
	struct bt_result res = { 0 };
	struct bt_work w;
	uint64_t rng;
	bool huge, eal = false;
	int rc;

	if (parse_opts(argc, argv, &o) != 0)
		return 2;
	if (pick_cores(&o) != 0) {
		fprintf(stderr, "bench_table: no CPU to run on\n");
		return 1;
	}
	huge = meminfo_kb("/proc/meminfo", "HugePages_Free") > 0;
	if (!o.skip_rte || huge) {
		if (eal_start(&o, huge) != 0)
			return 1;
		eal = true;
	}
	rng = o.seed;
	printf("bench_table: %" PRIu64 " entries, %u runs of %.1f s (+%.1f s "
	       "warm-up), reader on core %d, writer on core %d, hugepages %s, "
	       "%ld CPUs online\n", o.entries, o.runs, o.seconds, o.warmup,
	       o.reader_core, o.writer_core, huge ? "yes" : "no (EAL --no-huge)",
	       sysconf(_SC_NPROCESSORS_ONLN));
	rc = work_init(&w, &o, &rng);
	if (rc == 0)
		rc = bench_ct(&w, &o, huge ? CT_F_RTE_MALLOC : 0, &rng, &res);
	if (rc == 0)
		rc = bench_mem(&w, &o, &rng, &res);
	if (rc == 0 && !o.skip_rte)
		rc = bench_rte(&w, &o, huge, &res);
	if (rc == 0 && (o.skip_lfht || o.entries > BT_LFHT_MAX))
		printf("lfht: skipped (%s)\n",
		       o.skip_lfht ? "--skip-lfht" : "above 10M entries");
	else if (rc == 0)
		rc = bench_lfht(&w, &o, &res);
	work_free(&w);
	if (eal)
		rte_eal_cleanup();
	if (rc != 0) {
		fprintf(stderr, "bench_table: failed: %s\n", strerror(-rc));
		return 1;
	}
	if (res.has_rte)
		print_ratio("optroute / rte_hash", res.ct / res.rte, 2.5,
			    " at 10M entries");
	print_ratio("optroute / memory bound", res.ct / res.mem, 0.5, "");
	print_ratio("optroute under updates / idle", res.ct_upd / res.ct, 0.8, "");
	if (res.errors != 0)
		printf("ERROR: %" PRIu64 " wrong answers (see the runs above)\n",
		       res.errors);
	printf("{\"entries\":%" PRIu64 ",\"optroute_mlookups\":%.3f,", o.entries,
	       res.ct);
	if (res.has_rte)
		printf("\"rte_hash_mlookups\":%.3f,", res.rte);
	else
		printf("\"rte_hash_mlookups\":null,");
	if (res.has_lfht)
		printf("\"lfht_mlookups\":%.3f,", res.lfht);
	else
		printf("\"lfht_mlookups\":null,");
	printf("\"memory_bound_mlines\":%.3f,\"optroute_under_updates_mlookups\":%.3f,"
	       "\"bytes_per_entry\":%.2f}\n", res.mem, res.ct_upd,
	       (double)res.ct_bytes / (double)o.entries);
	return res.errors != 0;
}
