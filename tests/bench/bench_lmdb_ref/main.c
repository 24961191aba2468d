/* SPDX-License-Identifier: BSD-3-Clause
 *
 * bench_lmdb_ref: what plain LMDB does with the consent store's write
 * pattern, the reference of `make bench-control` (lmdb_reference_per_s).
 *
 *   bench_lmdb_ref -d DIR -n RECORDS -c CHANGES -b BATCH [-s SEED] [-N]
 *
 * One environment in DIR (created, must be empty), one B-tree: 16-byte
 * random keys, 40-byte values (the size of a consent record).
 *
 *  1. Fill: RECORDS keys written the way bench-control fills the store:
 *     uniform random keys sent in ascending order (key i is drawn from the
 *     i-th of RECORDS equal slices of the key space), plain puts (no
 *     MDB_APPEND, so leaves split in the middle as the store's do), in
 *     transactions of 16384, without fsync (MDB_NOSYNC; one sync at the
 *     end: the fill is not measured).
 *  2. Measure: CHANGES new random keys in transactions of BATCH, each
 *     sorted (as or_store_apply sorts a group) and put through one cursor
 *     with MDB_NOOVERWRITE; every commit fsyncs (no MDB_NOSYNC,
 *     MDB_NOMETASYNC, MDB_WRITEMAP: the store's durability). -N measures
 *     without fsync, to split write and sync costs.
 *
 * Progress on stderr, one JSON line on stdout.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>

#include <lmdb.h>

#include "tests/bench/bench_count.h"
#include "tests/lib/or_rand.h"

#define REF_KEY_LEN 16
#define REF_VAL_LEN 40
#define REF_FILL_TXN 16384
#define REF_MAP_SIZE (64ull << 30)

struct ref_key {
	uint8_t b[REF_KEY_LEN];
};

static uint64_t rng_state;

/* splitmix64: fast, good enough for uniform keys. */
static uint64_t
rng_next(void)
{
	return or_rand_next(&rng_state);
}

static void
key_set(struct ref_key *k, uint64_t hi, uint64_t lo)
{
	for (int i = 0; i < 8; i++) {
		k->b[i] = (uint8_t)(hi >> (56 - 8 * i));
		k->b[8 + i] = (uint8_t)(lo >> (56 - 8 * i));
	}
}

static int
key_cmp(const void *a, const void *b)
{
	return memcmp(a, b, REF_KEY_LEN);
}

static double
now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* CPU seconds of this process so far. */
static double
cpu_s(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return (double)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
	       (double)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

/* Bytes this process handed to write calls so far (/proc/self/io wchar:
 * what the store's daemon is measured by too); 0 when unreadable. */
static uint64_t
wchar(void)
{
	unsigned long long v = 0;
	char line[128];
	FILE *f = fopen("/proc/self/io", "r");

	if (f == NULL)
		return 0;
	while (fgets(line, sizeof(line), f) != NULL)
		if (sscanf(line, "wchar: %llu", &v) == 1)
			break;
	fclose(f);
	return v;
}

static int
die_mdb(int rc, const char *what)
{
	fprintf(stderr, "bench_lmdb_ref: %s: %s\n", what, mdb_strerror(rc));
	return 1;
}

/* Puts keys[0..n) in one transaction through one cursor and commits. */
static int
put_txn(MDB_env *env, MDB_dbi dbi, const struct ref_key *keys, size_t n,
	unsigned flags)
{
	uint8_t val[REF_VAL_LEN];
	MDB_cursor *cur;
	MDB_txn *txn;
	int rc;

	rc = mdb_txn_begin(env, NULL, 0, &txn);
	if (rc != 0)
		return rc;
	rc = mdb_cursor_open(txn, dbi, &cur);
	for (size_t i = 0; rc == 0 && i < n; i++) {
		MDB_val k = { REF_KEY_LEN, (void *)keys[i].b };
		MDB_val v = { REF_VAL_LEN, val };

		memset(val, 0, sizeof(val));
		val[0] = 1;
		memcpy(val + 32, &i, sizeof(i));
		rc = mdb_cursor_put(cur, &k, &v, flags);
		if (rc == MDB_KEYEXIST) /* a random key drawn twice */
			rc = 0;
	}
	if (rc != 0) {
		mdb_txn_abort(txn);
		return rc;
	}
	mdb_cursor_close(cur);
	return mdb_txn_commit(txn);
}

static int
fill(MDB_env *env, MDB_dbi dbi, uint64_t records)
{
	struct ref_key *keys = malloc(REF_FILL_TXN * sizeof(*keys));
	uint64_t step = UINT64_MAX / (records ? records : 1), i = 0;
	int rc = 0;

	if (keys == NULL)
		return ENOMEM;
	while (rc == 0 && i < records) {
		size_t n = records - i < REF_FILL_TXN ? records - i :
							 REF_FILL_TXN;

		for (size_t j = 0; j < n; j++, i++)
			key_set(&keys[j], step * i + rng_next() % step,
				rng_next());
		rc = put_txn(env, dbi, keys, n, 0);
	}
	free(keys);
	return rc;
}

static int
cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static void
usage(void)
{
	fprintf(stderr,
		"usage: bench_lmdb_ref -d DIR -n RECORDS -c CHANGES -b BATCH [-s SEED] [-N]\n"
		"  -d DIR      new environment directory (created, must be empty)\n"
		"  -n RECORDS  random keys filled first (ascending, not timed)\n"
		"  -c CHANGES  new random keys inserted and timed\n"
		"  -b BATCH    keys per transaction (one fsync each)\n"
		"  -s SEED     random seed (default 1)\n"
		"  -N          measure without fsync (MDB_NOSYNC)\n");
}

int
main(int argc, char **argv)
{
	uint64_t records = 0, changes = 0, batch = 0, seed = 1;
	const char *dir = NULL;
	struct ref_key *keys;
	double t0, t_fill, t1, c0, c1, *ct;
	uint64_t w0, w1;
	MDB_env *env;
	MDB_txn *txn;
	MDB_dbi dbi;
	MDB_stat st;
	size_t ncommit = 0;
	struct stat fst;
	char path[4096];
	int c, rc, nosync = 0;

	while ((c = getopt(argc, argv, "d:n:c:b:s:Nh")) != -1) {
		switch (c) {
		case 'd':
			dir = optarg;
			break;
		case 'n':
			if (bench_parse_count(optarg, 0, 1000000000, &records))
				goto bad;
			break;
		case 'c':
			if (bench_parse_count(optarg, 1, 100000000, &changes))
				goto bad;
			break;
		case 'b':
			if (bench_parse_count(optarg, 1, 1000000, &batch))
				goto bad;
			break;
		case 's':
			if (bench_parse_count(optarg, 0, UINT32_MAX, &seed))
				goto bad;
			break;
		case 'N':
			nosync = 1;
			break;
		default:
			goto bad;
		}
	}
	if (dir == NULL || changes == 0 || batch == 0 || optind != argc)
		goto bad;
	rng_state = seed;
	if (mkdir(dir, 0700) != 0 && errno != EEXIST) {
		perror(dir);
		return 1;
	}
	if ((rc = mdb_env_create(&env)) ||
	    (rc = mdb_env_set_mapsize(env, REF_MAP_SIZE)) ||
	    (rc = mdb_env_open(env, dir, MDB_NOTLS | MDB_NOSYNC, 0600)))
		return die_mdb(rc, "open");
	if ((rc = mdb_txn_begin(env, NULL, 0, &txn)) ||
	    (rc = mdb_dbi_open(txn, NULL, 0, &dbi)) ||
	    (rc = mdb_stat(txn, dbi, &st)))
		return die_mdb(rc, "open db");
	mdb_txn_commit(txn);
	if (st.ms_entries != 0) {
		fprintf(stderr, "bench_lmdb_ref: %s is not empty\n", dir);
		return 1;
	}

	fprintf(stderr, "bench_lmdb_ref: filling %" PRIu64 " keys...\n",
		records);
	t0 = now_s();
	if ((rc = fill(env, dbi, records)) || (rc = mdb_env_sync(env, 1)))
		return die_mdb(rc, "fill");
	t_fill = now_s() - t0;
	if (!nosync && (rc = mdb_env_set_flags(env, MDB_NOSYNC, 0)))
		return die_mdb(rc, "set flags");

	/* The keys and their order are made before the clock starts. */
	keys = malloc(changes * sizeof(*keys));
	ct = malloc((changes / batch + 1) * sizeof(*ct));
	if (keys == NULL || ct == NULL) {
		fprintf(stderr, "bench_lmdb_ref: out of memory\n");
		return 1;
	}
	for (uint64_t i = 0; i < changes; i++)
		key_set(&keys[i], rng_next(), rng_next());
	for (uint64_t i = 0; i < changes; i += batch)
		qsort(keys + i, changes - i < batch ? changes - i : batch,
		      sizeof(*keys), key_cmp);

	w0 = wchar();
	c0 = cpu_s();
	t0 = now_s();
	for (uint64_t i = 0; i < changes; i += batch) {
		size_t n = changes - i < batch ? changes - i : batch;
		double tc = now_s();

		rc = put_txn(env, dbi, keys + i, n, MDB_NOOVERWRITE);
		if (rc != 0)
			return die_mdb(rc, "insert");
		ct[ncommit++] = (now_s() - tc) * 1e3;
	}
	t1 = now_s() - t0;
	c1 = cpu_s() - c0;
	w1 = wchar() - w0;
	qsort(ct, ncommit, sizeof(*ct), cmp_double);

	snprintf(path, sizeof(path), "%s/data.mdb", dir);
	if (stat(path, &fst) != 0)
		fst.st_size = 0;
	if ((rc = mdb_txn_begin(env, NULL, MDB_RDONLY, &txn)) ||
	    (rc = mdb_stat(txn, dbi, &st)))
		return die_mdb(rc, "stat");
	mdb_txn_abort(txn);
	fprintf(stderr,
		"bench_lmdb_ref: filled %" PRIu64 " in %.1f s; %" PRIu64
		" inserts in %.2f s, %zu commits of %" PRIu64
		" (%.1f ms p50, %.1f max)%s; CPU %.1f s; %.0f bytes written per"
		" insert; %zu leaf pages, depth %u\n",
		records, t_fill, changes, t1, ncommit, batch,
		ct[ncommit / 2], ct[ncommit - 1], nosync ? ", no fsync" : "",
		c1, (double)w1 / (double)changes, st.ms_leaf_pages, st.ms_depth);
	printf("{\"records\":%" PRIu64 ",\"changes\":%" PRIu64
	       ",\"batch\":%" PRIu64 ",\"fsync\":%s,\"inserts_per_s\":%.0f,"
	       "\"commit_ms_p50\":%.1f,\"cpu_s\":%.2f,\"bytes_per_insert\":%.0f,"
	       "\"fill_s\":%.1f,\"leaf_pages\":%zu,\"file_bytes\":%lld}\n",
	       records, changes, batch, nosync ? "false" : "true",
	       (double)changes / t1, ct[ncommit / 2], c1,
	       (double)w1 / (double)changes, t_fill, st.ms_leaf_pages,
	       (long long)fst.st_size);
	free(keys);
	free(ct);
	mdb_env_close(env);
	return 0;
bad:
	usage();
	return 2;
}
