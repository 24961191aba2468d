/* SPDX-License-Identifier: BSD-3-Clause
 *
 * The "postgresql" backend's reads of the audit chain (verify, head, one
 * subject's entries), each on a connection of the calling job's own so
 * that a long verification never holds the writer or the follower.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "control/store/pg/sor_pg_priv.h"

/* A connection of the calling thread's own (audit jobs). */
static int
sp_job_connect(struct sor_pg *p, PGconn **c, struct or_err *err)
{
	return sp_connect(p, "optroute-control audit", c, err);
}

struct sp_verify {
	const volatile int *cancel;
	uint64_t n;
};

static int
sp_verify_cb(void *arg, const struct or_audit_entry *e, unsigned n)
{
	struct sp_verify *v = arg;

	(void)e;
	v->n += n;
	return v->cancel != NULL && *v->cancel ? -ECANCELED : 0;
}

int
sor_pg_audit_verify(struct or_sor *s, const volatile int *cancel,
		    uint64_t *bad_seq, uint64_t *n_checked, struct or_err *err)
{
	struct or_pg_pos pos = { 0 };
	struct sp_verify v = { cancel, 0 };
	PGconn *c;
	int rc = sp_job_connect(sor_pg(s), &c, err);

	if (rc < 0)
		return rc;
	rc = or_pg_tail(c, &pos, UINT64_MAX, SP_BATCH, sp_verify_cb, &v,
			bad_seq, err);
	PQfinish(c);
	if (rc == -ECANCELED)
		or_err_set(err, "cancelled");
	if (rc == -ESTALE)
		rc = -EBADMSG;
	if (rc < 0)
		return rc;
	*n_checked = v.n;
	return 0;
}

int
sor_pg_audit_head(struct or_sor *s, uint64_t *seq,
		  uint8_t hash[OR_AUDIT_HASH_LEN], struct or_err *err)
{
	PGconn *c;
	PGresult *r;
	int rc = sp_job_connect(sor_pg(s), &c, err);

	if (rc < 0)
		return rc;
	r = PQexec(c, "SELECT head_seq, encode(head_hash, 'hex')"
		      " FROM optroute.fleet WHERE id = 1");
	if (PQresultStatus(r) != PGRES_TUPLES_OK || PQntuples(r) != 1 ||
	    or_pg_get_hex(r, 0, 1, hash, OR_AUDIT_HASH_LEN) < 0) {
		or_pg_err(err, c, r, "system of record: the head");
		rc = -EIO;
	} else {
		*seq = strtoull(PQgetvalue(r, 0, 0), NULL, 10);
	}
	PQclear(r);
	PQfinish(c);
	return rc;
}

/* One subject's entries: the seqs its consent row lists (migration 3),
 * each entry's hash recomputed and its token checked against the
 * subject's (the links to its neighbours are audit_verify's). */
int
sor_pg_audit_subject(struct or_sor *s, const struct or_token *t,
		     struct or_audit_entry **out, size_t *n, uint64_t *bad_seq,
		     struct or_err *err)
{
	const char *pv[1] = { (const char *)t->b };
	int len = OR_TOKEN_LEN, fmt = 1, rows;
	struct or_audit_entry *e = NULL;
	PGresult *r;
	PGconn *c;
	int rc = sp_job_connect(sor_pg(s), &c, err);

	*out = NULL;
	*n = 0;
	if (rc < 0)
		return rc;
	r = PQexecParams(c, "SELECT a.prev_hash, a.body, a.hash"
			    " FROM optroute.consent c"
			    " CROSS JOIN LATERAL unnest(c.audit_seqs) AS s(seq)"
			    " JOIN optroute.audit a ON a.seq = s.seq"
			    " WHERE c.token = $1 ORDER BY a.seq",
			 1, NULL, pv, &len, &fmt, 1);
	if (PQresultStatus(r) != PGRES_TUPLES_OK) {
		or_pg_err(err, c, r, "system of record: a subject's entries");
		rc = -EIO;
		goto out;
	}
	rows = PQntuples(r);
	e = calloc(rows ? (size_t)rows : 1, sizeof(*e));
	if (e == NULL) {
		or_err_set(err, "out of memory");
		rc = -ENOMEM;
		goto out;
	}
	for (int i = 0; i < rows; i++)
		if (PQgetlength(r, i, 0) != OR_AUDIT_HASH_LEN ||
		    PQgetlength(r, i, 1) != OR_AUDIT_BODY_LEN ||
		    PQgetlength(r, i, 2) != OR_AUDIT_HASH_LEN ||
		    or_audit_unseal((const uint8_t *)PQgetvalue(r, i, 0),
				    (const uint8_t *)PQgetvalue(r, i, 1),
				    (const uint8_t *)PQgetvalue(r, i, 2),
				    &e[i]) != 0) {
			if (bad_seq != NULL)
				*bad_seq = i > 0 ? e[i - 1].seq + 1 : 0;
			or_err_set(err, "audit: an entry of the subject fails "
				   "its hash (altered)");
			rc = -EBADMSG;
			goto out;
		} else if (memcmp(e[i].token.b, t->b, OR_TOKEN_LEN) != 0) {
			if (bad_seq != NULL)
				*bad_seq = e[i].seq;
			or_err_set(err, "audit: the subject's history names "
				   "another subject's entry (altered)");
			rc = -EBADMSG;
			goto out;
		}
	*out = e;
	*n = (size_t)rows;
	e = NULL;
out:
	free(e);
	PQclear(r);
	PQfinish(c);
	return rc;
}

