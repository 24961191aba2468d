/* SPDX-License-Identifier: BSD-3-Clause
 *
 * Connections to the system of record, and error texts safe to log.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "control/lib/or_err.h"
#include "or_pg.h"

/* Set in every session (docs/fleet.md section 11, F8): any user may raise
 * it, and a raised one puts bind parameters (tokens) in the server's log. */
#define PG_SESSION_OPTIONS "-c log_parameter_max_length_on_error=0"

#define PG_CONNECT_TIMEOUT "10"

/* Upper bound on the keywords of one connection (libpq has ~40). */
#define PG_MAX_KW 64

/* Copies libpq's parse error into dst, each "quoted" part replaced by
 * "...": those parts are pieces of the string, and a malformed string can
 * put a password's tail in one ("missing "=" after "tail""). The lone "="
 * names the syntax, so it stays. */
static void
pg_redact_quoted(char *dst, size_t cap, const char *src)
{
	size_t o = 0;

	/* Each step adds at most 5 characters. */
	while (*src != '\0' && *src != '\n' && o + 6 < cap) {
		const char *close;

		if (*src != '"' || (close = strchr(src + 1, '"')) == NULL) {
			dst[o++] = *src++;
			continue;
		}
		if (close == src + 2 && src[1] == '=') {
			memcpy(dst + o, "\"=\"", 3);
			o += 3;
		} else {
			memcpy(dst + o, "\"...\"", 5);
			o += 5;
		}
		src = close + 1;
	}
	dst[o] = '\0';
}

static void
pg_notice_drop(void *arg, const char *message)
{
	(void)arg;
	(void)message;
}

int
or_pg_conninfo_check(const char *conninfo, struct or_err *e)
{
	PQconninfoOption *opts, *o;
	char *perr = NULL;
	int rc = 0;

	if (conninfo == NULL || conninfo[0] == '\0') {
		or_err_set(e, "store_conninfo is empty");
		return -EINVAL;
	}
	opts = PQconninfoParse(conninfo, &perr);
	if (opts == NULL) {
		char msg[OR_ERR_LEN];

		if (perr == NULL) {
			or_err_set(e, "store_conninfo: out of memory");
			return -ENOMEM;
		}
		pg_redact_quoted(msg, sizeof(msg), perr);
		PQfreemem(perr);
		or_err_set(e, "store_conninfo is not a libpq connection string: %s", msg);
		return -EINVAL;
	}
	/* Only what the string sets has a value (no defaults, no environment). */
	for (o = opts; o->keyword != NULL; o++) {
		if (strcmp(o->keyword, "password") == 0 && o->val != NULL) {
			or_err_set(e, "store_conninfo contains a password; put it in a "
				   "passfile (passfile=PATH or ~/.pgpass) instead");
			rc = -EINVAL;
		}
	}
	PQconninfoFree(opts);
	return rc;
}

/* libpq's connection error, one line: its lines joined with "; ", the
 * server's DETAIL/HINT/CONTEXT left out (section 11). */
static void
pg_err_conn_lines(char *dst, size_t cap, const char *msg)
{
	size_t o = 0;

	dst[0] = '\0';
	while (*msg != '\0' && o + 1 < cap) {
		const char *eol = strchr(msg, '\n');
		size_t len = eol != NULL ? (size_t)(eol - msg) : strlen(msg);
		const char *l = msg;

		msg += len + (eol != NULL);
		while (len > 0 && (*l == '\t' || *l == ' '))
			l++, len--;
		if (len == 0 || strncmp(l, "DETAIL:", 7) == 0 ||
		    strncmp(l, "HINT:", 5) == 0 || strncmp(l, "CONTEXT:", 8) == 0 ||
		    strncmp(l, "QUERY:", 6) == 0)
			continue;
		if (o > 0 && o + 2 < cap) {
			memcpy(dst + o, "; ", 2);
			o += 2;
		}
		if (len > cap - o - 1)
			len = cap - o - 1;
		memcpy(dst + o, l, len);
		o += len;
		dst[o] = '\0';
	}
}

int
or_pg_connect(const char *conninfo, const char *app_name, PGconn **out,
	      struct or_err *e)
{
	const char *kw[PG_MAX_KW + 4], *val[PG_MAX_KW + 4];
	char options[512];
	PQconninfoOption *opts, *o;
	int n = 0, has_timeout = 0, rc;
	PGconn *c;

	*out = NULL;
	rc = or_pg_conninfo_check(conninfo, e);
	if (rc < 0)
		return rc;
	opts = PQconninfoParse(conninfo, NULL);
	if (opts == NULL) {
		or_err_set(e, "store_conninfo: out of memory");
		return -ENOMEM;
	}
	snprintf(options, sizeof(options), "%s", PG_SESSION_OPTIONS);
	for (o = opts; o->keyword != NULL && n < PG_MAX_KW; o++) {
		if (o->val == NULL)
			continue;
		if (strcmp(o->keyword, "options") == 0) {
			/* The operator's options first; ours last, so they win. */
			if ((size_t)snprintf(options, sizeof(options), "%s %s", o->val,
					     PG_SESSION_OPTIONS) >= sizeof(options)) {
				or_err_set(e, "store_conninfo: options too long");
				PQconninfoFree(opts);
				return -EINVAL;
			}
			continue;
		}
		if (strcmp(o->keyword, "connect_timeout") == 0)
			has_timeout = 1;
		kw[n] = o->keyword;
		val[n++] = o->val;
	}
	kw[n] = "options";
	val[n++] = options;
	if (!has_timeout) {
		kw[n] = "connect_timeout";
		val[n++] = PG_CONNECT_TIMEOUT;
	}
	if (app_name != NULL) {
		kw[n] = "fallback_application_name";
		val[n++] = app_name;
	}
	kw[n] = NULL;
	val[n] = NULL;
	c = PQconnectdbParams(kw, val, 0);
	PQconninfoFree(opts);
	if (c == NULL) {
		or_err_set(e, "connecting to the system of record: out of memory");
		return -ENOMEM;
	}
	if (PQstatus(c) != CONNECTION_OK) {
		char msg[OR_ERR_LEN];

		pg_err_conn_lines(msg, sizeof(msg), PQerrorMessage(c));
		or_err_set(e, "cannot connect to the system of record: %s", msg);
		PQfinish(c);
		return -ECONNREFUSED;
	}
	/* Server notices ("... already exists, skipping") are not logged:
	 * libpq's default prints them whole, DETAIL included (section 11). */
	PQsetNoticeProcessor(c, pg_notice_drop, NULL);
	if (PQserverVersion(c) < 150000) {
		int v = PQserverVersion(c);

		or_err_set(e, "the system of record runs PostgreSQL %d.%d; 15 or later "
			   "is required", v / 10000, v % 10000);
		PQfinish(c);
		return -ENOTSUP;
	}
	*out = c;
	return 0;
}

void
or_pg_err(struct or_err *e, const PGconn *c, const PGresult *r, const char *what)
{
	const char *msg = r != NULL ? PQresultErrorField(r, PG_DIAG_MESSAGE_PRIMARY) : NULL;
	const char *state = r != NULL ? PQresultErrorField(r, PG_DIAG_SQLSTATE) : NULL;

	if (msg != NULL) {
		or_err_set(e, "%s: %s (SQLSTATE %s)", what, msg,
			   state != NULL ? state : "?");
		return;
	}
	/* No result: libpq's own text (a lost connection, out of memory).
	 * Its first line holds no server DETAIL. */
	msg = c != NULL ? PQerrorMessage(c) : "";
	if (msg[0] == '\0')
		msg = "no result";
	or_err_set(e, "%s: %.*s", what, (int)strcspn(msg, "\n"), msg);
}

int
or_pg_exec(PGconn *c, const char *sql, int np, const char *const *pv,
	   const char *what, struct or_err *e, PGresult **out)
{
	PGresult *r = np > 0 ? PQexecParams(c, sql, np, NULL, pv, NULL, NULL, 0)
			     : PQexec(c, sql);
	ExecStatusType st = PQresultStatus(r);

	if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK) {
		or_pg_err(e, c, r, what);
		PQclear(r);
		return -EIO;
	}
	if (out != NULL)
		*out = r;
	else
		PQclear(r);
	return 0;
}
