/* SPDX-License-Identifier: BSD-3-Clause
 *
 * A fresh local copy from one snapshot of the system of record
 * (pg_resync.h).
 */
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>

#include "control/lib/pg/or_pg.h"
#include "control/store/pg/pg_resync.h"
#include "control/store/store.h"

#define RS_BATCH 8192 /* records a load transaction */

/* A copy's directory: its files (copy.h), then itself. Nothing there is
 * fine. */
static void
rs_rmstore(const char *dir)
{
	static const char *const files[] = { "data.mdb", "lock.mdb", "log.mdb",
					     "log.mdb-lock" };
	char p[PATH_MAX + 32];

	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		snprintf(p, sizeof(p), "%s/%s", dir, files[i]);
		unlink(p);
	}
	rmdir(dir);
}

static int
rs_exists(const char *p)
{
	struct stat st;

	return stat(p, &st) == 0;
}

/* One COPY text row into c: \\x<32 hex>, then nine numbers. */
static int
rs_row(const char *row, int len, struct or_consent *c)
{
	uint64_t v[9];
	const char *p = row, *end = row + len;
	char *e;
	size_t n = 0;

	if (len < 36 || strncmp(p, "\\\\x", 3) != 0 ||
	    sodium_hex2bin(c->token.b, OR_TOKEN_LEN, p + 3, 32, NULL, &n,
			   NULL) != 0 ||
	    n != OR_TOKEN_LEN || p[35] != '\t')
		return -EBADMSG;
	p += 36;
	for (int i = 0; i < 9; i++) {
		if (p >= end)
			return -EBADMSG;
		v[i] = strtoull(p, &e, 10);
		if (e == p || (i < 8 && *e != '\t'))
			return -EBADMSG;
		p = e + 1;
	}
	c->state = (uint8_t)v[0];
	c->epoch = (uint8_t)v[1];
	c->flags = (uint8_t)v[2];
	c->method = (uint8_t)v[3];
	c->node = (uint16_t)v[4];
	c->notice_version = (uint32_t)v[5];
	c->granted_ms = v[6];
	c->withdrawn_ms = v[7];
	c->seq = v[8];
	return 0;
}

/* The fleet row of the snapshot: head and auth state. */
static int
rs_head(PGconn *c, struct or_pg_pos *pos, struct or_auth_state *au,
	struct or_err *err)
{
	PGresult *r = PQexec(c, "SELECT head_seq, encode(head_hash, 'hex'),"
				" auth_current, auth_previous, auth_seq"
				" FROM optroute.fleet WHERE id = 1");
	int rc = 0;

	if (PQresultStatus(r) != PGRES_TUPLES_OK || PQntuples(r) != 1) {
		or_pg_err(err, c, r, "resync: the fleet row");
		rc = -EIO;
	} else if (or_pg_get_hex(r, 0, 1, pos->hash, sizeof(pos->hash)) < 0) {
		or_err_set(err, "resync: malformed head hash");
		rc = -EIO;
	} else {
		pos->seq = strtoull(PQgetvalue(r, 0, 0), NULL, 10);
		memset(au, 0, sizeof(*au));
		au->current = (uint8_t)strtoul(PQgetvalue(r, 0, 2), NULL, 10);
		au->has_previous = !PQgetisnull(r, 0, 3);
		au->previous = au->has_previous
				       ? (uint8_t)strtoul(PQgetvalue(r, 0, 3),
							  NULL, 10)
				       : 0;
		au->seq = strtoull(PQgetvalue(r, 0, 4), NULL, 10);
	}
	PQclear(r);
	return rc;
}

/* Every record of the snapshot, in token order, into st. */
static int
rs_records(PGconn *c, struct or_store *st, uint64_t *records,
	   struct or_err *err)
{
	struct or_consent *buf = calloc(RS_BATCH, sizeof(*buf));
	PGresult *r;
	unsigned n = 0;
	int rc = 0, len;
	char *row;

	if (buf == NULL) {
		or_err_set(err, "out of memory");
		return -ENOMEM;
	}
	r = PQexec(c, "COPY (SELECT token, state, epoch, flags, method, node,"
		      " notice_version, granted_ms, withdrawn_ms, seq"
		      " FROM optroute.consent WHERE state <> 0"
		      " ORDER BY token) TO STDOUT");
	if (PQresultStatus(r) != PGRES_COPY_OUT) {
		or_pg_err(err, c, r, "resync: reading the records");
		PQclear(r);
		free(buf);
		return -EIO;
	}
	PQclear(r);
	while ((len = PQgetCopyData(c, &row, 0)) > 0) {
		if (rc == 0 && rs_row(row, len, &buf[n]) < 0) {
			or_err_set(err, "resync: a malformed record row");
			rc = -EBADMSG;
		}
		PQfreemem(row);
		if (rc == 0 && ++n == RS_BATCH) {
			rc = or_store_load(st, buf, n, err);
			*records += n;
			n = 0;
		}
	}
	if (len == -2 && rc == 0) {
		or_pg_err(err, c, NULL, "resync: reading the records");
		rc = -EIO;
	}
	while ((r = PQgetResult(c)) != NULL) {
		if (rc == 0 && PQresultStatus(r) != PGRES_COMMAND_OK) {
			or_pg_err(err, c, r, "resync: reading the records");
			rc = -EIO;
		}
		PQclear(r);
	}
	if (rc == 0 && n > 0) {
		rc = or_store_load(st, buf, n, err);
		*records += n;
	}
	free(buf);
	return rc;
}

int
or_pg_resync_build(PGconn *c, const char *path, uint64_t map_size,
		   struct or_pg_pos *pos, uint64_t *records,
		   struct or_err *err)
{
	char newp[PATH_MAX + 8];
	struct or_store_conf sc = { .path = newp, .map_size = map_size };
	struct or_auth_state au;
	struct or_store *st = NULL;
	PGresult *r;
	int rc;

	*records = 0;
	if (strlen(path) >= PATH_MAX) {
		or_err_set(err, "resync: path too long");
		return -ENAMETOOLONG;
	}
	snprintf(newp, sizeof(newp), "%s.new", path);
	rs_rmstore(newp);
	if ((rc = or_store_open(&sc, &st, err)) < 0)
		return rc;
	/* One snapshot: the head row and the records agree (the head is
	 * updated in the transaction of the changes it covers). */
	r = PQexec(c, "BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY");
	rc = PQresultStatus(r) == PGRES_COMMAND_OK ? 0 : -EIO;
	if (rc < 0)
		or_pg_err(err, c, r, "resync: begin");
	PQclear(r);
	if (rc == 0 && (rc = rs_head(c, pos, &au, err)) == 0)
		rc = rs_records(c, st, records, err);
	PQclear(PQexec(c, rc == 0 ? "COMMIT" : "ROLLBACK"));
	if (rc == 0)
		rc = or_store_set_position(st, pos->seq, pos->hash, &au, err);
	or_store_close(st);
	if (rc < 0)
		rs_rmstore(newp);
	return rc;
}

int
or_pg_resync_swap(const char *path, int built, struct or_err *err)
{
	char newp[PATH_MAX + 8], oldp[PATH_MAX + 8];

	snprintf(newp, sizeof(newp), "%s.new", path);
	snprintf(oldp, sizeof(oldp), "%s.old", path);
	if (built && rs_exists(path) && rename(path, oldp) != 0) {
		or_err_set(err, "resync: renaming %s: %s", path,
			   strerror(errno));
		return -errno;
	}
	/* A swap cut short: the copy is the one built. */
	if (!rs_exists(path) && rs_exists(newp) && rename(newp, path) != 0) {
		or_err_set(err, "resync: renaming %s: %s", newp,
			   strerror(errno));
		return -errno;
	}
	rs_rmstore(oldp);
	if (!built)
		rs_rmstore(newp); /* a build a crash cut short */
	return 0;
}
