/* SPDX-License-Identifier: BSD-3-Clause
 *
 * Rows for PostgreSQL's COPY ... FROM STDIN (text format), built in
 * memory and sent in one go: the writer's staging (pg_writer.c) and the
 * store migration (control/migrate/) stage records and audit entries
 * this way. Values are numbers and bytea only (no text to escape).
 */
#ifndef OR_PG_COPY_H
#define OR_PG_COPY_H

#include <stddef.h>
#include <stdint.h>

#include <libpq-fe.h>

#include "control/lib/or_err.h"

struct or_pg_rows {
	char *p;
	size_t len, cap;
};

/* Room for need more bytes. 0 or -ENOMEM. */
int or_pg_rows_reserve(struct or_pg_rows *b, size_t need);

/* One column, then end ('\t' between columns, '\n' after the last):
 * bytea as \\x and hex (2n + 4 bytes), an unsigned integer (up to 21
 * bytes), a boolean (2 bytes). Room must be reserved. */
void or_pg_rows_bytea(struct or_pg_rows *b, const uint8_t *v, size_t n,
		      char end);
void or_pg_rows_u64(struct or_pg_rows *b, uint64_t v, char end);
void or_pg_rows_bool(struct or_pg_rows *b, int v, char end);

/* Empties b (keeps its memory). */
void or_pg_rows_clear(struct or_pg_rows *b);
void or_pg_rows_free(struct or_pg_rows *b);

/* COPY table FROM STDIN with b's rows (nothing sent when b is empty).
 * 0, or -EIO (err: SQLSTATE and primary message). */
int or_pg_copy_in(PGconn *c, const char *table, const struct or_pg_rows *b,
		  struct or_err *err);

#endif
