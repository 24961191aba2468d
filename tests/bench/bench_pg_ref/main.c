/* SPDX-License-Identifier: BSD-3-Clause
 *
 * bench_pg_ref: pg_reference_per_s of docs/fleet.md section 14. What plain
 * PostgreSQL does with the fleet's write pattern, against which the
 * system of record's durable_changes_per_s is judged: new random 16-byte
 * tokens upserted in batches (one transaction each, synchronous commit)
 * into a one-table schema already holding --rows rows, staged exactly as
 * the writer stages (COPY into a temp table, then INSERT ... ON CONFLICT).
 *
 *   bench_pg_ref --conninfo C [--rows 10M] [--changes 200000]
 *                [--batch 16384] [--seed S]
 *
 * The fill (COPY of --rows random rows, then the primary key built,
 * VACUUM ANALYZE, the key read into shared buffers and a CHECKPOINT) is
 * not measured. Two passes of
 * --changes each follow (see br_pass's caller); the first is the figure. Needs a superuser (the
 * CHECKPOINT, the settings read). Last line: one JSON object.
 * tests/bench/bench_pg_ref/run.sh starts a server for it (make bench-pg-ref).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sodium.h>

#include "control/lib/or_err.h"
#include "control/lib/pg/or_pg.h"
#include "tests/bench/bench_count.h"
#include "tests/lib/or_rand.h"

/* The copy buffer: flushed to libpq at this size. */
#define BR_BUF (1u << 20)

/* Settings printed with the figure (docs/fleet.md section 14). */
static const char *const br_settings[] = {
	"server_version", "shared_buffers", "max_wal_size", "checkpoint_timeout",
	"wal_compression", "synchronous_commit", "fsync", "full_page_writes",
	"wal_level", "track_wal_io_timing", "track_io_timing",
};

struct br_copy {
	PGconn *c;
	uint8_t *buf;
	size_t len;
};

static uint64_t br_rng;

/* splitmix64: fast, and good enough for keys that only need to be spread. */
static uint64_t
br_next(void)
{
	return or_rand_next(&br_rng);
}

static double
br_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static void
br_die(PGconn *c, PGresult *r, const char *what)
{
	struct or_err e;

	or_pg_err(&e, c, r, what);
	fprintf(stderr, "bench_pg_ref: %s\n", e.msg);
	exit(1);
}

static void
br_exec(PGconn *c, const char *sql)
{
	PGresult *r = PQexec(c, sql);

	if (PQresultStatus(r) != PGRES_COMMAND_OK && PQresultStatus(r) != PGRES_TUPLES_OK)
		br_die(c, r, sql);
	PQclear(r);
}

static void
br_put(struct br_copy *cp, const void *p, size_t n)
{
	if (cp->len + n > BR_BUF) {
		if (PQputCopyData(cp->c, (const char *)cp->buf, (int)cp->len) != 1)
			br_die(cp->c, NULL, "COPY data");
		cp->len = 0;
	}
	memcpy(cp->buf + cp->len, p, n);
	cp->len += n;
}

static void
br_put_u16(struct br_copy *cp, uint16_t v)
{
	v = htons(v);
	br_put(cp, &v, 2);
}

static void
br_put_u32(struct br_copy *cp, uint32_t v)
{
	v = htonl(v);
	br_put(cp, &v, 4);
}

static void
br_put_u64(struct br_copy *cp, uint64_t v)
{
	br_put_u32(cp, (uint32_t)(v >> 32));
	br_put_u32(cp, (uint32_t)v);
}

/* COPY table FROM STDIN (FORMAT binary): n rows of a fresh random token
 * and the record columns (state smallint, node integer, seq bigint,
 * ts_ms bigint). */
static void
br_copy_rows(PGconn *c, struct br_copy *cp, const char *table, uint64_t n, uint64_t seq0)
{
	static const uint8_t hdr[11] = { 'P', 'G', 'C', 'O', 'P', 'Y', '\n', 0xff, '\r', '\n', 0 };
	char sql[128];
	PGresult *r;
	uint64_t i;

	snprintf(sql, sizeof(sql), "COPY %s FROM STDIN (FORMAT binary)", table);
	r = PQexec(c, sql);
	if (PQresultStatus(r) != PGRES_COPY_IN)
		br_die(c, r, sql);
	PQclear(r);
	cp->len = 0;
	br_put(cp, hdr, sizeof(hdr));
	br_put_u32(cp, 0); /* flags */
	br_put_u32(cp, 0); /* header extension */
	for (i = 0; i < n; i++) {
		uint64_t t[2] = { br_next(), br_next() };

		br_put_u16(cp, 5);
		br_put_u32(cp, 16);
		br_put(cp, t, 16);
		br_put_u32(cp, 2);
		br_put_u16(cp, 1);			/* state: in */
		br_put_u32(cp, 4);
		br_put_u32(cp, (uint32_t)(t[0] & 3) + 1); /* node */
		br_put_u32(cp, 8);
		br_put_u64(cp, seq0 + i);		/* seq */
		br_put_u32(cp, 8);
		br_put_u64(cp, 1700000000000ULL + seq0 + i); /* ts_ms */
	}
	br_put_u16(cp, 0xffff); /* trailer */
	if (PQputCopyData(c, (const char *)cp->buf, (int)cp->len) != 1 ||
	    PQputCopyEnd(c, NULL) != 1)
		br_die(c, NULL, "COPY end");
	r = PQgetResult(c);
	if (PQresultStatus(r) != PGRES_COMMAND_OK)
		br_die(c, r, sql);
	PQclear(r);
	PQclear(PQgetResult(c));
}

static int
br_cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

struct br_pass {
	double per_s, ms_min, ms_p50, ms_max, wal_mb, fpi, wal_io_s, read_s, s;
	unsigned batches;
};

/* Where the WAL is and what I/O cost so far: bytes, full-page images,
 * seconds spent writing and fsyncing WAL (pg_stat_wal), seconds reading
 * blocks (pg_stat_database). The times need track_wal_io_timing and
 * track_io_timing, which run.sh turns on. */
static void
br_wal(PGconn *c, double v[4])
{
	PGresult *r = PQexec(c, "SELECT pg_current_wal_lsn() - '0/0'::pg_lsn, wal_fpi, "
			     "(wal_write_time + wal_sync_time) / 1000, (SELECT blk_read_time / 1000 "
			     "FROM pg_stat_database WHERE datname = current_database()) "
			     "FROM pg_stat_wal");
	int i;

	if (PQresultStatus(r) != PGRES_TUPLES_OK)
		br_die(c, r, "pg_stat_wal");
	for (i = 0; i < 4; i++)
		v[i] = strtod(PQgetvalue(r, 0, i), NULL);
	PQclear(r);
}

/* changes new tokens upserted in batches, one transaction each; lat holds
 * changes / batch + 1 entries. */
static void
br_pass(PGconn *c, struct br_copy *cp, uint64_t seq0, uint64_t changes, uint64_t batch,
	double *lat, struct br_pass *p)
{
	uint64_t done = 0;
	double t0, w0[4], w1[4];
	PGresult *r;

	br_wal(c, w0);

	p->batches = 0;
	t0 = br_now();
	while (done < changes) {
		uint64_t n = changes - done < batch ? changes - done : batch;
		double tb = br_now();

		br_exec(c, "BEGIN");
		br_copy_rows(c, cp, "stage", n, seq0 + done);
		r = PQexec(c, "INSERT INTO ref SELECT * FROM stage ON CONFLICT (token) DO UPDATE "
			   "SET state = EXCLUDED.state, node = EXCLUDED.node, seq = EXCLUDED.seq, "
			   "ts_ms = EXCLUDED.ts_ms");
		if (PQresultStatus(r) != PGRES_COMMAND_OK ||
		    strtoull(PQcmdTuples(r), NULL, 10) != n)
			br_die(c, r, "upsert");
		PQclear(r);
		br_exec(c, "COMMIT");
		lat[p->batches++] = (br_now() - tb) * 1e3;
		done += n;
	}
	p->s = br_now() - t0;
	p->per_s = changes / p->s;
	/* pg_stat_wal is flushed by the backend at the end of a statement. */
	br_wal(c, w1);
	p->wal_mb = (w1[0] - w0[0]) / 1048576.0;
	p->fpi = w1[1] - w0[1];
	p->wal_io_s = w1[2] - w0[2];
	p->read_s = w1[3] - w0[3];
	qsort(lat, p->batches, sizeof(*lat), br_cmp_double);
	p->ms_min = lat[0];
	p->ms_p50 = lat[p->batches / 2];
	p->ms_max = lat[p->batches - 1];
}

static void
usage(void)
{
	fprintf(stderr, "usage: bench_pg_ref --conninfo C [--rows N] [--changes N] "
		"[--batch N] [--seed S]\n");
	exit(2);
}

int
main(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "conninfo", required_argument, NULL, 'c' },
		{ "rows", required_argument, NULL, 'r' },
		{ "changes", required_argument, NULL, 'n' },
		{ "batch", required_argument, NULL, 'b' },
		{ "seed", required_argument, NULL, 's' },
		{ NULL, 0, NULL, 0 },
	};
	uint64_t rows = 10000000, changes = 200000, batch = 16384, count;
	const char *conninfo = NULL;
	double t0, t_fill, t_index, *lat;
	struct br_pass p1, p2;
	unsigned i;
	struct br_copy cp;
	struct or_err e;
	PGresult *r;
	PGconn *c;
	int opt;

	if (sodium_init() < 0)
		return 1;
	randombytes_buf(&br_rng, sizeof(br_rng));
	while ((opt = getopt_long(argc, argv, "", lo, NULL)) != -1) {
		switch (opt) {
		case 'c':
			conninfo = optarg;
			break;
		case 'r':
			if (bench_parse_count(optarg, 0, 2000000000, &rows) < 0)
				usage();
			break;
		case 'n':
			if (bench_parse_count(optarg, 1, 100000000, &changes) < 0)
				usage();
			break;
		case 'b':
			if (bench_parse_count(optarg, 1, 10000000, &batch) < 0)
				usage();
			break;
		case 's':
			br_rng = strtoull(optarg, NULL, 0);
			break;
		default:
			usage();
		}
	}
	if (conninfo == NULL || optind != argc)
		usage();
	if (or_pg_connect(conninfo, "bench_pg_ref", &c, &e) < 0) {
		fprintf(stderr, "bench_pg_ref: %s\n", e.msg);
		return 1;
	}
	cp.c = c;
	cp.buf = malloc(BR_BUF);
	lat = calloc(changes / batch + 2, sizeof(*lat));
	if (cp.buf == NULL || lat == NULL)
		return 1;

	/* ---- fill (not measured) ---- */
	br_exec(c, "SET client_min_messages = warning");
	br_exec(c, "DROP TABLE IF EXISTS ref");
	br_exec(c, "CREATE TABLE ref (token bytea NOT NULL, state smallint NOT NULL, "
		"node integer NOT NULL, seq bigint NOT NULL, ts_ms bigint NOT NULL)");
	fprintf(stderr, "bench_pg_ref: filling %" PRIu64 " rows\n", rows);
	t0 = br_now();
	br_copy_rows(c, &cp, "ref", rows, 1);
	t_fill = br_now() - t0;
	t0 = br_now();
	/* Built once, sorted: far faster than 10M random index inserts. */
	br_exec(c, "ALTER TABLE ref ADD PRIMARY KEY (token)");
	br_exec(c, "VACUUM ANALYZE ref");
	/* The key in shared buffers, as on a server in use (its build wrote
	 * it around them): what is left of pass 1's extra cost is then the
	 * checkpoint's, not a cold cache's. */
	br_exec(c, "CREATE EXTENSION IF NOT EXISTS pg_prewarm");
	br_exec(c, "SELECT pg_prewarm('ref_pkey')");
	br_exec(c, "CHECKPOINT");
	t_index = br_now() - t0;
	fprintf(stderr, "bench_pg_ref: fill %.1f s, key + vacuum + checkpoint %.1f s\n",
		t_fill, t_index);

	/* ---- measured: the writer's staging, one transaction a batch ---- */
	br_exec(c, "CREATE TEMP TABLE stage (token bytea, state smallint, node integer, "
		"seq bigint, ts_ms bigint) ON COMMIT DELETE ROWS");
	/* Pass 1 right after the checkpoint: the first change of each index
	 * page writes its full image to WAL, as after every checkpoint of a
	 * long run. Pass 2, more new tokens in the same checkpoint cycle,
	 * mostly does not: the spread between them is that cost. */
	br_pass(c, &cp, rows + 1, changes, batch, lat, &p1);
	br_pass(c, &cp, rows + 1 + changes, changes, batch, lat, &p2);

	r = PQexec(c, "SELECT count(*), pg_total_relation_size('ref') FROM ref");
	if (PQresultStatus(r) != PGRES_TUPLES_OK)
		br_die(c, r, "count");
	count = strtoull(PQgetvalue(r, 0, 0), NULL, 10);
	if (count != rows + 2 * changes) {
		fprintf(stderr, "bench_pg_ref: ref holds %" PRIu64 " rows, expected %" PRIu64 "\n",
			count, rows + 2 * changes);
		return 1;
	}
	printf("{\"pg_reference_per_s\":%.0f,\"rows\":%" PRIu64 ",\"changes\":%" PRIu64
	       ",\"batch\":%" PRIu64 ",\"batches\":%u",
	       p1.per_s, rows, changes, batch, p1.batches);
	printf(",\"batch_ms_min\":%.1f,\"batch_ms_p50\":%.1f,\"batch_ms_max\":%.1f"
	       ",\"wal_mb\":%.0f,\"fpi\":%.0f,\"wal_io_share\":%.2f,\"read_share\":%.2f",
	       p1.ms_min, p1.ms_p50, p1.ms_max, p1.wal_mb, p1.fpi, p1.wal_io_s / p1.s,
	       p1.read_s / p1.s);
	printf(",\"pg_reference_warm_per_s\":%.0f,\"warm_batch_ms_p50\":%.1f"
	       ",\"warm_batch_ms_max\":%.1f,\"warm_wal_mb\":%.0f,\"warm_fpi\":%.0f"
	       ",\"warm_wal_io_share\":%.2f,\"warm_read_share\":%.2f",
	       p2.per_s, p2.ms_p50, p2.ms_max, p2.wal_mb, p2.fpi, p2.wal_io_s / p2.s,
	       p2.read_s / p2.s);
	printf(",\"table_mb\":%.0f", strtod(PQgetvalue(r, 0, 1), NULL) / 1048576.0);
	PQclear(r);
	printf(",\"fill_s\":%.1f,\"index_s\":%.1f,\"pg_settings\":{", t_fill, t_index);
	for (i = 0; i < sizeof(br_settings) / sizeof(br_settings[0]); i++) {
		char sql[96];

		snprintf(sql, sizeof(sql), "SHOW %s", br_settings[i]);
		r = PQexec(c, sql);
		printf("%s\"%s\":\"%s\"", i ? "," : "", br_settings[i],
		       PQresultStatus(r) == PGRES_TUPLES_OK ? PQgetvalue(r, 0, 0) : "?");
		PQclear(r);
	}
	printf("}}\n");
	PQfinish(c);
	free(cp.buf);
	free(lat);
	return 0;
}
