/* SPDX-License-Identifier: BSD-3-Clause
 *
 * The audit trail after a position, checked link by link (pg_tail.h).
 */
#include <endian.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "control/lib/pg/or_pg.h"
#include "control/store/pg/pg_tail.h"

/* $1 after seq, $2 limit; binary results: int8 big-endian, raw bytea. */
static const char pg_tail_sql[] =
	"SELECT seq, prev_hash, body, hash FROM optroute.audit"
	" WHERE seq > $1 ORDER BY seq LIMIT $2";

static const char pg_head_sql[] =
	"SELECT head_seq FROM optroute.fleet WHERE id = 1";

static uint64_t
pt_be64(const char *p)
{
	uint64_t v;

	memcpy(&v, p, sizeof(v));
	return be64toh(v);
}

/* The fleet's head seq, to tell "nothing new" from "position gone". */
static int
pt_head(PGconn *c, uint64_t *head, struct or_err *err)
{
	PGresult *r = PQexec(c, pg_head_sql);
	int rc = 0;

	if (PQresultStatus(r) != PGRES_TUPLES_OK) {
		or_pg_err(err, c, r, "system of record: reading the head");
		rc = -EIO;
	} else if (PQntuples(r) != 1) {
		or_err_set(err, "system of record: no fleet row");
		rc = -ESTALE;
	} else {
		*head = strtoull(PQgetvalue(r, 0, 0), NULL, 10);
	}
	PQclear(r);
	return rc;
}

/* Asks for up to want entries after seq (the result read by pt_batch). */
static int
pt_send(PGconn *c, uint64_t seq, unsigned want, struct or_err *err)
{
	char p0[24], p1[16];
	const char *pv[2] = { p0, p1 };

	snprintf(p0, sizeof(p0), "%" PRIu64, seq);
	snprintf(p1, sizeof(p1), "%u", want);
	if (PQsendQueryParams(c, pg_tail_sql, 2, NULL, pv, NULL, NULL, 1) != 1) {
		or_pg_err(err, c, NULL, "system of record: reading the trail");
		return -EIO;
	}
	return 0;
}

/* Reads what is left of a query sent (its result dropped). */
static void
pt_drain(PGconn *c)
{
	PGresult *r;

	while ((r = PQgetResult(c)) != NULL)
		PQclear(r);
}

/* The batch pt_send asked for, after *pos, into e[]: its size, or
 * -errno. */
static int
pt_batch(PGconn *c, const struct or_pg_pos *pos, struct or_audit_entry *e,
	 uint64_t *bad_seq, struct or_err *err)
{
	const uint8_t *prev = pos->hash;
	PGresult *r = PQgetResult(c);
	int rows, rc = 0;

	if (PQresultStatus(r) != PGRES_TUPLES_OK) {
		or_pg_err(err, c, r, "system of record: reading the trail");
		PQclear(r);
		pt_drain(c);
		return -EIO;
	}
	pt_drain(c);
	rows = PQntuples(r);
	for (int i = 0; i < rows && rc == 0; i++) {
		uint64_t seq = PQgetlength(r, i, 0) == 8
				       ? pt_be64(PQgetvalue(r, i, 0))
				       : 0;
		uint64_t want_seq = pos->seq + 1 + (uint64_t)i;

		if (seq != want_seq ||
		    PQgetlength(r, i, 1) != OR_AUDIT_HASH_LEN ||
		    PQgetlength(r, i, 2) != OR_AUDIT_BODY_LEN ||
		    PQgetlength(r, i, 3) != OR_AUDIT_HASH_LEN ||
		    or_audit_unseal((const uint8_t *)PQgetvalue(r, i, 1),
				    (const uint8_t *)PQgetvalue(r, i, 2),
				    (const uint8_t *)PQgetvalue(r, i, 3),
				    &e[i]) != 0 ||
		    e[i].seq != want_seq) {
			*bad_seq = want_seq;
			or_err_set(err, "audit: entry %" PRIu64 ": %s",
				   want_seq,
				   seq != want_seq ? "missing (a gap)"
						   : "hash mismatch (altered)");
			rc = -EBADMSG;
		} else if (memcmp(e[i].prev_hash, prev, OR_AUDIT_HASH_LEN) !=
			   0) {
			*bad_seq = want_seq;
			if (i == 0) {
				or_err_set(err,
					   "position gone: entry %" PRIu64
					   " does not follow the one applied",
					   want_seq);
				rc = -ESTALE;
			} else {
				or_err_set(err,
					   "audit: entry %" PRIu64
					   ": does not link to the previous entry",
					   want_seq);
				rc = -EBADMSG;
			}
		}
		prev = e[i].hash;
	}
	PQclear(r);
	return rc < 0 ? rc : rows;
}

int
or_pg_tail(PGconn *c, struct or_pg_pos *pos, uint64_t max, unsigned batch,
	   or_pg_entries_cb cb, void *arg, uint64_t *bad_seq,
	   struct or_err *err)
{
	struct or_audit_entry *e;
	uint64_t done = 0, head, dummy;
	unsigned want, sent = 0;
	int rc = 0;

	if (bad_seq == NULL)
		bad_seq = &dummy;
	*bad_seq = 0;
	if (batch == 0)
		batch = 1;
	if ((rc = pt_head(c, &head, err)) < 0)
		return rc;
	if (head < pos->seq) {
		or_err_set(err,
			   "position gone: the fleet's head %" PRIu64
			   " is below the seq applied here (%" PRIu64 ")",
			   head, pos->seq);
		return -ESTALE;
	}
	e = malloc(batch * sizeof(*e));
	if (e == NULL) {
		or_err_set(err, "out of memory");
		return -ENOMEM;
	}
	/* Pipelined: the next batch's query runs in the server while this
	 * one is checked and handed over. */
	want = max < batch ? (unsigned)max : batch;
	rc = want > 0 ? pt_send(c, pos->seq, want, err) : 0;
	while (rc == 0 && done < max) {
		int n = pt_batch(c, pos, e, bad_seq, err);
		unsigned next;

		if (n <= 0) {
			rc = n;
			break;
		}
		done += (uint64_t)n;
		next = max - done < batch ? (unsigned)(max - done) : batch;
		sent = (unsigned)n == want && next > 0;
		if (sent && (rc = pt_send(c, e[n - 1].seq, next, err)) < 0)
			break;
		rc = cb(arg, e, (unsigned)n);
		if (rc != 0) {
			done -= (uint64_t)n;
			break;
		}
		pos->seq = e[n - 1].seq;
		memcpy(pos->hash, e[n - 1].hash, OR_AUDIT_HASH_LEN);
		if (!sent)
			break;
		sent = 0;
		want = next;
	}
	if (sent)
		pt_drain(c); /* a batch asked for and not taken */
	sodium_memzero(e, batch * sizeof(*e));
	free(e);
	return rc < 0 || rc > 0 ? rc : (int)done;
}
