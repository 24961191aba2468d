/* SPDX-License-Identifier: BSD-3-Clause
 *
 * bench_table: what the files of the consent table benchmark share
 * (main.c says what the benchmark does).
 *
 *   main.c      options, EAL, order of the measurements, ratios, JSON line
 *   sys.c       clock, big allocations, /proc counters, CPU pinning, median
 *   workload.c  keys and the lookup sequence
 *   readers.c   the measuring reader: lookup loops of every structure
 *   writer.c    the update writer (and the fill)
 *   optroute.c  the optroute table: build, settle, idle vs under updates
 *   compare.c   the memory bound, rte_hash and cds_lfht
 */
#ifndef BENCH_TABLE_H
#define BENCH_TABLE_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include <urcu-qsbr.h>
#include <urcu/rculfhash.h>

#include "optroute/consent.h"
#include "optroute/ctable.h"
#include "tests/lib/or_rand.h"

#define BT_CHUNK 64                   /* bursts between clock reads */
#define BT_LFHT_MAX 10000000ull       /* cds_lfht is skipped above this */
#define BT_MISS_PER_MILLE 100         /* 10% misses */
#define BT_EAL_NOHUGE_MB 256          /* EAL's own memory without hugepages */
#define BT_THP_PAGE (2u << 20)
/* Grace periods a set-aside upsert may wait (each lets it take one more
 * cuckoo hop) before the writer gives up, as the dataplane's
 * CHAN_DEFER_ROUNDS. */
#define BT_ASIDE_ROUNDS 64

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
	/* BT_CT: finish burst k, read k+1 and start k+2 in one pass
	 * (ct_lookup_step, as the dataplane worker does), else
	 * ct_lookup_bulk per burst. BT_MEM: prefetch burst k+1 into L2 while reading burst k,
	 * else prefetch a burst into L1 and read it. */
	bool pipelined;
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

/* An upsert that got -EAGAIN, waiting for the next grace period. */
struct bt_upsert {
	const struct or_token *k;
	uint32_t rec;
};

/* Made by bt_writer_init(); the fill uses it too (rate, core unused). */
struct bt_writer {
	struct ct *h;
	struct bt_work *w;
	double rate;
	unsigned batch;
	int core;
	uint64_t rng;
	atomic_int stop;
	/* -EAGAIN upserts set aside (capacity: batch), and the array the
	 * next round fills while this one is retried */
	struct bt_upsert *aside, *retry;
	unsigned n_aside;
	/* keys (indexes in w->tok) this batch has used: a bitmap and a list */
	uint64_t *used;
	uint64_t *used_idx;
	unsigned n_used;
	uint64_t used_hit, used_churn;
	/* results */
	uint64_t updates;
	uint64_t eagain;
	uint64_t overruns;
	uint64_t batches;
	uint64_t syncs;   /* grace periods: set-aside rounds and batch ends */
	uint64_t syncs_batch_max; /* most in one batch */
	unsigned rounds_max;      /* most set-aside rounds in one flush */
	double sync_max;
	double sync_sum;
	double busy;      /* seconds in batches and syncs, not asleep */
	double elapsed;
	int err;
};

struct bt_result {
	double ct, ct_upd, ct_onecall, rte, lfht, mem, wrate;
	double mem_burst, mem_pipe; /* the memory bound is the better one */
	bool has_rte, has_lfht;
	bool ct_rte; /* the table's buckets came from rte_malloc */
	uint64_t ct_bytes;
	uint64_t errors;
};

struct lf_node {
	struct cds_lfht_node node;
	struct or_token key;
	uint32_t rec;
};

static inline uint64_t
bt_rng_next(uint64_t *s)
{
	return or_rand_next(s);
}

/* Uniform in [0, n) without division. */
static inline uint64_t
bt_rng_below(uint64_t *s, uint64_t n)
{
	return (uint64_t)(((__uint128_t)bt_rng_next(s) * n) >> 64);
}

static inline unsigned long
bt_lf_hash(const struct or_token *k)
{
	unsigned long h;

	/* Tokens are keyed-BLAKE2b output: already uniform. */
	memcpy(&h, k->b, sizeof(h));
	return h;
}

/* sys.c */
double bt_now(void);
void *bt_big_alloc(size_t len);
void bt_big_free(void *p, size_t len);
uint64_t bt_meminfo_kb(const char *file, const char *field);
uint64_t bt_thp_kb(void);
int bt_pin_self(int core);
double bt_median(double *v, unsigned n);

/* workload.c */
void bt_rng_token(uint64_t *s, struct or_token *t);
uint32_t bt_rec_of(uint64_t i);
int bt_work_init(struct bt_work *w, const struct bt_opts *o, uint64_t *rng);
void bt_work_free(struct bt_work *w);

/* readers.c */
double bt_measure(struct bt_reader *r, const char *label, unsigned run,
		  unsigned runs, uint64_t *errors);

/* writer.c */
int bt_writer_init(struct bt_writer *wr, struct ct *h, struct bt_work *w,
		   unsigned batch, uint64_t seed);
void bt_writer_fini(struct bt_writer *wr);
int bt_writer_sync(struct bt_writer *wr);
int bt_writer_upsert(struct bt_writer *wr, const struct or_token *k,
		     uint32_t rec);
int bt_writer_flush(struct bt_writer *wr);
int bt_writer_batch(struct bt_writer *wr);
void *bt_writer_main(void *arg);
void bt_writer_print(const struct bt_writer *wr, double target);

/* optroute.c */
int bt_bench_ct(struct bt_work *w, const struct bt_opts *o, unsigned flags,
		uint64_t *rng, struct bt_result *res);

/* compare.c */
int bt_bench_mem(struct bt_work *w, const struct bt_opts *o, uint64_t *rng,
		 struct bt_result *res);
int bt_bench_rte(struct bt_work *w, const struct bt_opts *o, bool huge,
		 struct bt_result *res);
int bt_bench_lfht(struct bt_work *w, const struct bt_opts *o,
		  struct bt_result *res);

#endif
