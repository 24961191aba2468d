/* SPDX-License-Identifier: BSD-3-Clause
 *
 * Values of a query result in their binary form (or_pg.h).
 */
#include <errno.h>
#include <string.h>

#include <sodium.h>

#include "or_pg.h"

int
or_pg_get_hex(const PGresult *r, int row, int col, uint8_t *out, size_t len)
{
	const char *hex = PQgetvalue(r, row, col);
	size_t n = 0;

	if (PQgetisnull(r, row, col) ||
	    sodium_hex2bin(out, len, hex, strlen(hex), NULL, &n, NULL) != 0 ||
	    n != len)
		return -EBADMSG;
	return 0;
}
