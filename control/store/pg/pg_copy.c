/* SPDX-License-Identifier: BSD-3-Clause
 *
 * COPY rows in text format (pg_copy.h).
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>

#include <sodium.h>

#include "control/lib/pg/or_pg.h"
#include "control/store/pg/pg_copy.h"

int
or_pg_rows_reserve(struct or_pg_rows *b, size_t need)
{
	size_t cap;
	char *p;

	if (b->len + need <= b->cap)
		return 0;
	cap = b->cap ? b->cap * 2 : 1u << 16;
	while (cap < b->len + need)
		cap *= 2;
	p = realloc(b->p, cap);
	if (p == NULL)
		return -ENOMEM;
	b->p = p;
	b->cap = cap;
	return 0;
}

void
or_pg_rows_bytea(struct or_pg_rows *b, const uint8_t *v, size_t n, char end)
{
	/* COPY's text format escapes the backslash of bytea's \x. */
	b->p[b->len++] = '\\';
	b->p[b->len++] = '\\';
	b->p[b->len++] = 'x';
	sodium_bin2hex(b->p + b->len, 2 * n + 1, v, n);
	b->len += 2 * n;
	b->p[b->len++] = end;
}

void
or_pg_rows_u64(struct or_pg_rows *b, uint64_t v, char end)
{
	b->len += (size_t)snprintf(b->p + b->len, 22, "%" PRIu64, v);
	b->p[b->len++] = end;
}

void
or_pg_rows_bool(struct or_pg_rows *b, int v, char end)
{
	b->p[b->len++] = v ? 't' : 'f';
	b->p[b->len++] = end;
}

void
or_pg_rows_clear(struct or_pg_rows *b)
{
	b->len = 0;
}

void
or_pg_rows_free(struct or_pg_rows *b)
{
	free(b->p);
	b->p = NULL;
	b->len = b->cap = 0;
}

int
or_pg_copy_in(PGconn *c, const char *table, const struct or_pg_rows *b,
	      struct or_err *err)
{
	char sql[96];
	PGresult *r;
	int ok;

	if (b->len == 0)
		return 0;
	snprintf(sql, sizeof(sql), "COPY %s FROM STDIN", table);
	r = PQexec(c, sql);
	ok = PQresultStatus(r) == PGRES_COPY_IN;
	if (!ok)
		or_pg_err(err, c, r, "system of record: COPY");
	PQclear(r);
	if (!ok)
		return -EIO;
	ok = PQputCopyData(c, b->p, (int)b->len) == 1;
	ok = PQputCopyEnd(c, ok ? NULL : "client failed") == 1 && ok;
	r = PQgetResult(c);
	ok = ok && PQresultStatus(r) == PGRES_COMMAND_OK;
	if (!ok)
		or_pg_err(err, c, r, "system of record: COPY");
	PQclear(r);
	while ((r = PQgetResult(c)) != NULL)
		PQclear(r);
	return ok ? 0 : -EIO;
}
