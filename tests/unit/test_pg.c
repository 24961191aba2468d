/* SPDX-License-Identifier: BSD-3-Clause
 *
 * control/lib/pg/ without a server: the compiled migrations (numbered,
 * released ones unchanged) and the connection-string checks (a password
 * refused, libpq's parse errors without any part of the string). The
 * server side is tests/integration/pg_schema.sh.
 */
#include <errno.h>
#include <string.h>

#include <sodium.h>

#include "or_test.h"
#include "control/lib/or_err.h"
#include "control/lib/pg/or_pg.h"

/* The sha256 of every released migration. A released migration is never
 * edited (databases record this value and refuse a program that differs):
 * a new schema change is a new migration, and its sha256 joins this list
 * once it is released. */
static const char *const released_sha256[] = {
	"d472cc848be73738ac3ed178d7fd211836841bfb37d4f1341b5ac89faa1e0b25",
	"c05e1a1c221d0b6ade59a47e048551859d493955158445562589c7e758f0e8d1",
	"8239bf953f10828d86a5a6163fcc3eb9f5d98a2be023d358ffd8a1fca330e5fe",
	"cb31f472765ed1d798cbefacf82989f0cf2dcdb8f4fd35ed937e67cac9c70998",
};

static void
test_migrations_numbered(void)
{
	unsigned n, i;
	const struct or_pg_migration *m = or_pg_migrations(&n);

	CU_ASSERT_FATAL(n >= 1);
	for (i = 0; i < n; i++) {
		CU_ASSERT_EQUAL(m[i].version, (int)i + 1);
		CU_ASSERT(m[i].name != NULL && m[i].name[0] != '\0');
		CU_ASSERT(m[i].sql != NULL && strstr(m[i].sql, "optroute.") != NULL);
	}
}

static void
test_migrations_released_unchanged(void)
{
	unsigned n, i;
	const struct or_pg_migration *m = or_pg_migrations(&n);

	CU_ASSERT_FATAL(n >= sizeof(released_sha256) / sizeof(released_sha256[0]));
	for (i = 0; i < sizeof(released_sha256) / sizeof(released_sha256[0]); i++) {
		uint8_t sha[32];
		char hex[65];

		or_pg_migration_sha256(&m[i], sha);
		sodium_bin2hex(hex, sizeof(hex), sha, sizeof(sha));
		CU_ASSERT_STRING_EQUAL(hex, released_sha256[i]);
	}
}

static void
test_conninfo_accepted(void)
{
	struct or_err e = { { 0 } };

	CU_ASSERT_EQUAL(or_pg_conninfo_check("host=/tmp/a,/tmp/b port=5432,5433 "
					     "dbname=optroute user=optroute_appliance "
					     "target_session_attrs=read-write passfile=/etc/pgpass", &e), 0);
	CU_ASSERT_EQUAL(or_pg_conninfo_check("postgresql://app@db1:5432,db2:5432/optroute"
					     "?target_session_attrs=read-write", &e), 0);
}

static void
test_conninfo_password_refused(void)
{
	static const char *const bad[] = {
		"host=db1 user=app password=Hunter2Secret",
		"host=db1 user=app password=''",
		"postgresql://app:Hunter2Secret@db1/optroute",
		"postgresql://app@db1/optroute?password=Hunter2Secret",
	};
	struct or_err e = { { 0 } };
	PGconn *c = (PGconn *)&e; /* must come back NULL */
	unsigned i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		e.msg[0] = '\0';
		CU_ASSERT_EQUAL(or_pg_conninfo_check(bad[i], &e), -EINVAL);
		CU_ASSERT(strstr(e.msg, "contains a password") != NULL);
		CU_ASSERT(strstr(e.msg, "passfile") != NULL);
		CU_ASSERT(strstr(e.msg, "Hunter2") == NULL);
	}
	/* Refused before anything is sent: no server needed. */
	CU_ASSERT_EQUAL(or_pg_connect(bad[0], "t", &c, &e), -EINVAL);
	CU_ASSERT_PTR_NULL(c);
}

static void
test_conninfo_parse_error_redacted(void)
{
	/* A space in an unquoted password: libpq quotes the tail. */
	static const char *const bad[] = {
		"host=db1 password=abc Hunter2Tail",
		"host=db1 password=abc Hunter2Tail=x",
		"host=db1 password='Hunter2Tail",
		"postgresql://app:Hunter2%zzTail@db1/optroute",
	};
	struct or_err e;
	unsigned i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		e.msg[0] = '\0';
		CU_ASSERT_EQUAL(or_pg_conninfo_check(bad[i], &e), -EINVAL);
		CU_ASSERT(strstr(e.msg, "store_conninfo") != NULL);
		CU_ASSERT(strstr(e.msg, "Hunter2") == NULL);
		CU_ASSERT(strstr(e.msg, "Tail") == NULL);
	}
	CU_ASSERT_EQUAL(or_pg_conninfo_check("", &e), -EINVAL);
	CU_ASSERT_EQUAL(or_pg_conninfo_check(NULL, &e), -EINVAL);
}

static void
test_err_without_result(void)
{
	struct or_err e;

	or_pg_err(&e, NULL, NULL, "reading");
	CU_ASSERT_STRING_EQUAL(e.msg, "reading: no result");
}

static CU_TestInfo pg_tests[] = {
	{ "migrations numbered 1..n", test_migrations_numbered },
	{ "released migrations unchanged", test_migrations_released_unchanged },
	{ "conninfo: keywords, URI, multi-host accepted", test_conninfo_accepted },
	{ "conninfo: a password is refused", test_conninfo_password_refused },
	{ "conninfo: parse errors quote nothing", test_conninfo_parse_error_redacted },
	{ "error text without a result", test_err_without_result },
	CU_TEST_INFO_NULL,
};

OR_TEST_SUITE("pg", NULL, NULL, pg_tests)
