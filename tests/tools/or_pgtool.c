/* SPDX-License-Identifier: BSD-3-Clause
 *
 * or_pgtool: control/lib/pg/ from the command line, for
 * tests/integration/pg_schema.sh.
 *
 *   or_pgtool list              the compiled migrations: version name sha256
 *   or_pgtool connect CONNINFO  or_pg_connect, then "connected" and the
 *                               session's log_parameter_max_length_on_error
 *   or_pgtool migrate CONNINFO  or_pg_migrate: "applied N, schema version M"
 *
 * Errors: "or_pgtool: <or_err text>" on stderr, exit 1 (2: usage).
 */
#include <stdio.h>
#include <string.h>

#include <sodium.h>

#include "control/lib/or_err.h"
#include "control/lib/pg/or_pg.h"

static int
cmd_list(void)
{
	unsigned n, i;
	const struct or_pg_migration *m = or_pg_migrations(&n);

	for (i = 0; i < n; i++) {
		uint8_t sha[32];
		char hex[65];

		or_pg_migration_sha256(&m[i], sha);
		sodium_bin2hex(hex, sizeof(hex), sha, sizeof(sha));
		printf("%d\t%s\t%s\n", m[i].version, m[i].name, hex);
	}
	return 0;
}

int
main(int argc, char **argv)
{
	struct or_err e = { { 0 } };
	PGconn *c;
	unsigned n;
	int rc;

	if (sodium_init() < 0)
		return 1;
	if (argc == 2 && strcmp(argv[1], "list") == 0)
		return cmd_list();
	if (argc != 3 || (strcmp(argv[1], "connect") != 0 && strcmp(argv[1], "migrate") != 0)) {
		fprintf(stderr, "usage: or_pgtool list | connect CONNINFO | migrate CONNINFO\n");
		return 2;
	}
	rc = or_pg_connect(argv[2], "or_pgtool", &c, &e);
	if (rc < 0) {
		fprintf(stderr, "or_pgtool: %s\n", e.msg);
		return 1;
	}
	if (strcmp(argv[1], "connect") == 0) {
		PGresult *r = PQexec(c, "SHOW log_parameter_max_length_on_error");

		printf("connected, log_parameter_max_length_on_error=%s\n",
		       PQresultStatus(r) == PGRES_TUPLES_OK ? PQgetvalue(r, 0, 0) : "?");
		PQclear(r);
		PQfinish(c);
		return 0;
	}
	rc = or_pg_migrate(c, &e);
	PQfinish(c);
	if (rc < 0) {
		fprintf(stderr, "or_pgtool: %s\n", e.msg);
		return 1;
	}
	or_pg_migrations(&n);
	printf("applied %d, schema version %u\n", rc, n);
	return 0;
}
