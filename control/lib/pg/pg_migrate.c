/* SPDX-License-Identifier: BSD-3-Clause
 *
 * or_pg_migrate: the schema brought to this program's version
 * (docs/fleet.md section 3).
 *
 * Each round is one transaction: take pg_advisory_xact_lock(class, 0), read
 * schema_migrations, check it against the compiled list, apply the first
 * missing migration, record it, commit. The lock is held from before the
 * read until the commit, and under READ COMMITTED every statement after the
 * lock sees what the previous holder committed, so two migrators starting
 * together apply each migration once: the second finds it recorded.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "control/lib/or_err.h"
#include "or_pg.h"

#define PG_STR_(x) #x
#define PG_STR(x) PG_STR_(x)

static const char pg_lock_sql[] =
	"SELECT pg_advisory_xact_lock(" PG_STR(OR_PG_LOCK_CLASS) ", 0)";

static const char pg_exists_sql[] =
	"SELECT to_regclass('optroute.schema_migrations') IS NOT NULL";

/* Run before migration 1 when the table is missing. CREATE SCHEMA needs
 * the CREATE right on the database: only the owner role gets this far. */
static const char pg_bootstrap_sql[] =
	"CREATE SCHEMA IF NOT EXISTS optroute;\n"
	"CREATE TABLE optroute.schema_migrations (\n"
	"  version integer PRIMARY KEY, name text NOT NULL,\n"
	"  sha256 bytea NOT NULL CHECK (length(sha256) = 32),\n"
	"  applied_at timestamptz NOT NULL DEFAULT now());\n";

static const char pg_read_sql[] =
	"SELECT version, encode(sha256, 'hex') FROM optroute.schema_migrations "
	"ORDER BY version";

static const char pg_record_sql[] =
	"INSERT INTO optroute.schema_migrations (version, name, sha256) "
	"VALUES ($1::integer, $2, decode($3, 'hex'))";

/* Runs sql (one or more statements); 0 if it ended in status want, else
 * -EIO with e = "what: reason". */
static int
pg_exec(PGconn *c, const char *sql, ExecStatusType want, const char *what,
	struct or_err *e)
{
	PGresult *r = PQexec(c, sql);
	int rc = 0;

	if (PQresultStatus(r) != want) {
		or_pg_err(e, c, r, what);
		rc = -EIO;
	}
	PQclear(r);
	return rc;
}

static void
pg_rollback(PGconn *c)
{
	/* Fails only on a broken connection, whose transaction is gone too. */
	PQclear(PQexec(c, "ROLLBACK"));
}

static void
pg_hex(char out[65], const uint8_t sha[32])
{
	sodium_bin2hex(out, 65, sha, 32);
}

/* One round, inside the locked transaction. *done = 1 when nothing is
 * missing. 0 or -errno (e set). */
static int
pg_round(PGconn *c, int *done, struct or_err *e)
{
	unsigned n;
	const struct or_pg_migration *m = or_pg_migrations(&n);
	const struct or_pg_migration *todo = NULL;
	long next = 1; /* the first version not recorded */
	char hex[65], vbuf[16], what[128];
	const char *params[3];
	uint8_t sha[32];
	PGresult *r;
	int rc, exists, boot = 0;

	r = PQexec(c, pg_exists_sql);
	if (PQresultStatus(r) != PGRES_TUPLES_OK) {
		or_pg_err(e, c, r, "looking for optroute.schema_migrations");
		PQclear(r);
		return -EIO;
	}
	exists = strcmp(PQgetvalue(r, 0, 0), "t") == 0;
	PQclear(r);

	if (exists) {
		r = PQexec(c, pg_read_sql);
		if (PQresultStatus(r) != PGRES_TUPLES_OK) {
			or_pg_err(e, c, r, "reading optroute.schema_migrations");
			PQclear(r);
			return -EIO;
		}
		/* Refuse before applying anything: a newer schema first (an
		 * older program must not touch it), then any changed one. */
		for (int row = 0; row < PQntuples(r); row++) {
			long v = strtol(PQgetvalue(r, row, 0), NULL, 10);

			if (v > (long)n) {
				or_err_set(e, "schema version %ld is newer than this "
					   "optroute-control (1..%u); upgrade it",
					   strtol(PQgetvalue(r, PQntuples(r) - 1, 0), NULL, 10),
					   n);
				PQclear(r);
				return -EPROTO;
			}
		}
		for (int row = 0; row < PQntuples(r); row++) {
			long v = strtol(PQgetvalue(r, row, 0), NULL, 10);

			if (v < 1) {
				or_err_set(e, "schema_migrations holds version %ld, which "
					   "no optroute-control has", v);
				PQclear(r);
				return -EPROTO;
			}
			or_pg_migration_sha256(&m[v - 1], sha);
			pg_hex(hex, sha);
			if (strcmp(hex, PQgetvalue(r, row, 1)) != 0) {
				or_err_set(e, "migration %ld was changed after it was "
					   "applied", v);
				PQclear(r);
				return -EBADMSG;
			}
			/* Rows come in version order, each once (the key). */
			if (v == next)
				next++;
		}
		PQclear(r);
	}
	if (next <= (long)n)
		todo = &m[next - 1];
	if (todo == NULL) {
		*done = 1;
		return 0;
	}
	*done = 0;
	if (!exists) {
		boot = 1;
		r = PQexec(c, pg_bootstrap_sql);
		if (PQresultStatus(r) != PGRES_COMMAND_OK)
			goto failed;
		PQclear(r);
	}
	r = PQexec(c, todo->sql);
	if (PQresultStatus(r) != PGRES_COMMAND_OK)
		goto failed;
	PQclear(r);

	or_pg_migration_sha256(todo, sha);
	pg_hex(hex, sha);
	snprintf(vbuf, sizeof(vbuf), "%d", todo->version);
	params[0] = vbuf;
	params[1] = todo->name;
	params[2] = hex;
	r = PQexecParams(c, pg_record_sql, 3, NULL, params, NULL, NULL, 0);
	rc = PQresultStatus(r) == PGRES_COMMAND_OK ? 0 : -EIO;
	if (rc < 0)
		or_pg_err(e, c, r, "recording a migration in optroute.schema_migrations");
	PQclear(r);
	return rc;

failed:
	/* Names the migration: a role without DDL rights stops here. */
	snprintf(what, sizeof(what), "migration %d (%s) could not be applied%s",
		 todo->version, todo->name,
		 boot ? ": creating optroute.schema_migrations" : "");
	or_pg_err(e, c, r, what);
	PQclear(r);
	return -EPERM;
}

int
or_pg_migrate(PGconn *c, struct or_err *e)
{
	int applied = 0, done = 0, rc;

	if (c == NULL || PQstatus(c) != CONNECTION_OK) {
		or_err_set(e, "migrations: no connection to the system of record");
		return -ENOTCONN;
	}
	if (PQtransactionStatus(c) != PQTRANS_IDLE) {
		or_err_set(e, "migrations: the connection is inside a transaction");
		return -EINVAL;
	}
	while (!done) {
		rc = pg_exec(c, "BEGIN ISOLATION LEVEL READ COMMITTED", PGRES_COMMAND_OK,
			     "migrations: BEGIN", e);
		if (rc < 0)
			return rc;
		/* No search_path tricks: every name below is qualified, and
		 * the migrations' functions come from pg_catalog. */
		rc = pg_exec(c, "SET LOCAL search_path = pg_catalog, pg_temp",
			     PGRES_COMMAND_OK, "migrations: search_path", e);
		if (rc == 0)
			rc = pg_exec(c, pg_lock_sql, PGRES_TUPLES_OK,
				     "migrations: taking the migration lock", e);
		if (rc == 0)
			rc = pg_round(c, &done, e);
		if (rc == 0)
			rc = pg_exec(c, "COMMIT", PGRES_COMMAND_OK, "migrations: COMMIT", e);
		if (rc < 0) {
			pg_rollback(c);
			return rc;
		}
		applied += !done;
	}
	return applied;
}
