/* SPDX-License-Identifier: BSD-3-Clause
 *
 * The PostgreSQL system of record (docs/fleet.md): connections and the
 * schema's migrations.
 *
 * Concurrency: nothing here keeps state between calls. A PGconn is used by
 * one thread at a time (libpq's rule); the migration list is constant.
 *
 * Privacy (docs/fleet.md section 11): error texts give PostgreSQL's SQLSTATE
 * and primary message only, never DETAIL, HINT or CONTEXT (which can quote
 * a token), and never any part of a password: a connection string holding
 * one is refused before anything is sent (use a passfile).
 */
#ifndef OR_PG_H
#define OR_PG_H

#include <stdint.h>

#include <libpq-fe.h>

struct or_err;

/* pg_advisory_xact_lock(OR_PG_LOCK_CLASS, 0) serializes migrators: "optr"
 * as a big-endian int4, in decimal (PostgreSQL 15 SQL has no 0x literals). */
#define OR_PG_LOCK_CLASS 1869640818

/* The schema everything lives in. */
#define OR_PG_SCHEMA "optroute"

/* The group role the appliances log in through (migration 2's grants). */
#define OR_PG_APPLIANCE_ROLE "optroute_appliance"

struct or_pg_migration {
	int version;      /* 1, 2, 3, ... in list order, no gap */
	const char *name; /* a short label, in errors and schema_migrations */
	const char *sql;  /* statements run in one transaction; never edited
			   * once released (its sha256 is recorded) */
};

/* The migrations compiled into this program, versions 1..*n in order. */
const struct or_pg_migration *or_pg_migrations(unsigned *n);

/* sha256 of m->sql, as recorded in optroute.schema_migrations. */
void or_pg_migration_sha256(const struct or_pg_migration *m, uint8_t out[32]);

/* Checks a libpq connection string (keywords or a URI) without connecting.
 * 0, or -EINVAL: not a connection string (libpq's reason, any quoted part
 * of the string left out), or it holds a password. */
int or_pg_conninfo_check(const char *conninfo, struct or_err *e);

/* Connects (blocking). app_name becomes application_name unless the string
 * sets one; connect_timeout is 10 s unless set; every session gets
 * log_parameter_max_length_on_error = 0. The server must be PostgreSQL 15
 * or later.
 * 0 and *out set; -EINVAL (or_pg_conninfo_check), -ECONNREFUSED (no
 * server took the connection: libpq's reasons, host by host), -ENOTSUP
 * (server too old), -ENOMEM. */
int or_pg_connect(const char *conninfo, const char *app_name, PGconn **out,
		  struct or_err *e);

/* Brings the schema to this program's version (docs/fleet.md section 3):
 * in a loop, one transaction each, under pg_advisory_xact_lock
 * (OR_PG_LOCK_CLASS, 0): read schema_migrations (created if missing),
 * compare it with or_pg_migrations(), apply the first missing migration
 * and record it. Two callers at once serialize; each migration is applied
 * once.
 * >= 0: the number of migrations applied (0: the schema was current).
 * -EBADMSG: "migration N was changed after it was applied" (its recorded
 * sha256 differs); -EPROTO: "schema version N is newer than this
 * optroute-control (1..M); upgrade it"; -EPERM: a migration failed (e.g. a
 * role without DDL rights), named with PostgreSQL's reason; -EIO: another
 * query failed; -ENOTCONN: the connection is not usable. Nothing is
 * applied when a check fails. */
int or_pg_migrate(PGconn *c, struct or_err *e);

/* Runs sql (with np text parameters pv when np > 0). 0, with the result
 * in *out if out is not NULL (the caller PQclear()s it); or -EIO, err =
 * "WHAT: <primary message> (SQLSTATE xxxxx)". */
int or_pg_exec(PGconn *c, const char *sql, int np, const char *const *pv,
	       const char *what, struct or_err *e, PGresult **out);

/* e := "WHAT: <primary message> (SQLSTATE xxxxx)" from r, or from the
 * first line of c's error message when r carries none (r may be NULL). */
void or_pg_err(struct or_err *e, const PGconn *c, const PGresult *r,
	       const char *what);

/* Field (row, col) of r, the text of encode(x, 'hex') of exactly len
 * bytes (a hash, a token), into out. 0, or -EBADMSG (NULL, not hex, or
 * another length). */
int or_pg_get_hex(const PGresult *r, int row, int col, uint8_t *out,
		  size_t len);

#endif
