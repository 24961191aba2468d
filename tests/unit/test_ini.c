/* Unit tests of the INI layer both daemons share (common/ini/or_ini.c,
 * include/optroute/or_ini.h): its value parsers, its error format, and
 * its reader (lines, sections, continuations, limits) driven by a
 * recording daemon. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <CUnit/CUnit.h>

#include "optroute/or_ini.h"

#include "or_test.h"

/* ------------------------------------------------------ value parsers -- */

static void
test_bool(void)
{
	static const char *const yes[] = { "yes", "YES", "Yes", "true", "True",
					   "on", "ON", "1" };
	static const char *const no[] = { "no", "NO", "No", "false", "FALSE",
					  "off", "Off", "0" };
	static const char *const bad[] = { "", "y", "n", "yess", "2", "01",
					   " yes", "yes ", "ack", "enable",
					   "-1", "nope" };
	int b;

	for (size_t i = 0; i < sizeof(yes) / sizeof(yes[0]); i++) {
		b = -1;
		CU_ASSERT_EQUAL(or_ini_bool(yes[i], &b), 0);
		CU_ASSERT_EQUAL(b, 1);
	}
	for (size_t i = 0; i < sizeof(no) / sizeof(no[0]); i++) {
		b = -1;
		CU_ASSERT_EQUAL(or_ini_bool(no[i], &b), 0);
		CU_ASSERT_EQUAL(b, 0);
	}
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		b = 7;
		CU_ASSERT_EQUAL(or_ini_bool(bad[i], &b), -EINVAL);
		CU_ASSERT_EQUAL(b, 7); /* untouched */
	}
}

static void
test_uint(void)
{
	uint64_t x;

	CU_ASSERT_EQUAL(or_ini_uint("0", 0, 10, &x), 0);
	CU_ASSERT_EQUAL(x, 0);
	CU_ASSERT_EQUAL(or_ini_uint("10", 0, 10, &x), 0);
	CU_ASSERT_EQUAL(x, 10);
	CU_ASSERT_EQUAL(or_ini_uint("0007", 1, 10, &x), 0);
	CU_ASSERT_EQUAL(x, 7);
	CU_ASSERT_EQUAL(or_ini_uint("18446744073709551615", 0, UINT64_MAX, &x),
			0);
	CU_ASSERT_EQUAL(x, UINT64_MAX);
	CU_ASSERT_EQUAL(or_ini_uint("4294967296", 1, 1ull << 32, &x), 0);
	CU_ASSERT_EQUAL(x, 1ull << 32);

	x = 99;
	/* out of range, both ends, and past 64 bits */
	CU_ASSERT_EQUAL(or_ini_uint("11", 0, 10, &x), -EINVAL);
	CU_ASSERT_EQUAL(or_ini_uint("0", 1, 10, &x), -EINVAL);
	CU_ASSERT_EQUAL(or_ini_uint("18446744073709551616", 0, UINT64_MAX, &x),
			-EINVAL);
	CU_ASSERT_EQUAL(or_ini_uint("99999999999999999999999", 0, UINT64_MAX,
				    &x), -EINVAL);
	/* garbage: sign, blanks, prefixes, suffixes, empty */
	static const char *const bad[] = { "", "-1", "+1", " 1", "1 ", "0x10",
					   "1e3", "1k", "1.0", "abc", "1,000",
					   "\t1", "1\n" };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		CU_ASSERT_EQUAL(or_ini_uint(bad[i], 0, UINT64_MAX, &x), -EINVAL);
	CU_ASSERT_EQUAL(x, 99); /* untouched */
}

static void
test_path(void)
{
	char out[8], big[300];

	memset(out, 'x', sizeof(out));
	CU_ASSERT_EQUAL(or_ini_path("/a/b", out, sizeof(out)), 0);
	CU_ASSERT_STRING_EQUAL(out, "/a/b");
	CU_ASSERT_EQUAL(or_ini_path("/abcdef", out, sizeof(out)), 0);
	CU_ASSERT_STRING_EQUAL(out, "/abcdef");
	/* never cut: one byte more than fits is refused, out untouched */
	CU_ASSERT_EQUAL(or_ini_path("/abcdefg", out, sizeof(out)), -EINVAL);
	CU_ASSERT_STRING_EQUAL(out, "/abcdef");
	CU_ASSERT_EQUAL(or_ini_path("", out, sizeof(out)), -EINVAL);
	/* case and characters are the path's own */
	CU_ASSERT_EQUAL(or_ini_path("Rel/P", out, sizeof(out)), 0);
	CU_ASSERT_STRING_EQUAL(out, "Rel/P");
	memset(big, 'a', sizeof(big));
	big[107] = '\0';
	{
		char sock[OR_INI_SOCK_PATH_LEN];

		CU_ASSERT_EQUAL(or_ini_path(big, sock, sizeof(sock)), 0);
		big[107] = 'a';
		big[108] = '\0';
		CU_ASSERT_EQUAL(or_ini_path(big, sock, sizeof(sock)), -EINVAL);
	}
}

static void
test_word(void)
{
	static const char *const w[] = { "no", "yes", "ack", NULL };

	CU_ASSERT_EQUAL(or_ini_word("no", w), 0);
	CU_ASSERT_EQUAL(or_ini_word("ACK", w), 2);
	CU_ASSERT_EQUAL(or_ini_word("Yes", w), 1);
	CU_ASSERT_EQUAL(or_ini_word("ac", w), -EINVAL);
	CU_ASSERT_EQUAL(or_ini_word("acks", w), -EINVAL);
	CU_ASSERT_EQUAL(or_ini_word("", w), -EINVAL);
	CU_ASSERT_EQUAL(or_ini_word(" ack", w), -EINVAL);
}

/* ------------------------------------------------ a recording daemon -- */

/* Keys: "s" (a string, may continue), "r" (may repeat), "b" (bool), "n"
 * (an integer 1..100), "p" (a channel path), in any section but
 * [skip], whose keys are ignored; a section [bad] is refused. */
struct rec {
	char log[2048];
	char s[256];
	int b;
	uint64_t n;
	char p[OR_INI_SOCK_PATH_LEN];
};

static void
rec_section(struct or_ini *ini)
{
	struct rec *r = ini->user;
	size_t n = strlen(r->log);

	snprintf(r->log + n, sizeof(r->log) - n, "%s%u[%s]", n ? " " : "",
		 ini->line, ini->section);
	if (strcmp(ini->section, "bad") == 0)
		or_ini_err(ini, NULL, "unknown section");
}

static int
rec_key(struct or_ini *ini, const char *key, const char *value)
{
	struct rec *r = ini->user;
	size_t n = strlen(r->log);

	snprintf(r->log + n, sizeof(r->log) - n, " %u%s%s=%s", ini->line,
		 ini->cont ? "+" : "", key, value);
	if (strcmp(ini->section, "skip") == 0)
		return 0;
	if (strcmp(key, "s") == 0) {
		if (or_ini_key_check(ini, key, OR_INI_CONT) != 0)
			return -1;
		n = strlen(r->s);
		snprintf(r->s + n, sizeof(r->s) - n, "%s%s", n ? "|" : "",
			 value);
		return 0;
	}
	if (strcmp(key, "r") == 0)
		return or_ini_key_check(ini, key, OR_INI_REPEAT);
	if (or_ini_key_check(ini, key, 0) != 0)
		return -1;
	if (strcmp(key, "b") == 0)
		return or_ini_get_bool(ini, key, value, &r->b);
	if (strcmp(key, "n") == 0)
		return or_ini_get_uint(ini, key, value, 1, 100, NULL, &r->n);
	if (strcmp(key, "p") == 0)
		return or_ini_get_channel(ini, key, value, r->p);
	if (strcmp(key, "x") == 0)
		return -1; /* refuses without saying why */
	return or_ini_unknown_key(ini, key);
}

static const struct or_ini_ops rec_ops = {
	.section = rec_section,
	.key = rec_key,
};

static struct rec rec;
static char err[512];

static int
parse_mem(const char *text, size_t len)
{
	struct or_ini ini;

	memset(&rec, 0, sizeof(rec));
	or_ini_init(&ini, "t.ini", &rec_ops, &rec, err, sizeof(err));
	return or_ini_parse_mem(&ini, text, len);
}

static int
parse(const char *text)
{
	return parse_mem(text, strlen(text));
}

static void
expect_log(const char *text, const char *log)
{
	CU_ASSERT_EQUAL(parse(text), 0);
	CU_ASSERT_STRING_EQUAL(err, "");
	if (strcmp(rec.log, log) != 0) {
		fprintf(stderr, "\n  got:  %s\n  want: %s\n", rec.log, log);
		CU_FAIL("callbacks");
	}
}

static void
expect_err(const char *text, const char *want)
{
	CU_ASSERT_EQUAL(parse(text), -EINVAL);
	if (strcmp(err, want) != 0) {
		fprintf(stderr, "\n  got:  %s\n  want: %s\n", err, want);
		CU_FAIL("error message");
	}
}

/* ------------------------------------------------------------ reader -- */

static void
test_reader(void)
{
	/* every section header, with its line, also one without keys;
	 * comments, blank lines, inline comments, ':' as separator */
	expect_log("; c\n# c\n\n[a]\nn = 5 ; five\n[empty]\n[b]\nb: yes\n",
		   "4[a] 5n=5 6[empty] 7[b] 8b=yes");
	CU_ASSERT_EQUAL(rec.n, 5);
	CU_ASSERT_EQUAL(rec.b, 1);
	/* continuations: indented lines after a key of the section, with
	 * tabs or blanks; a comment between them is skipped */
	expect_log("[a]\ns = one\n  two\n; c\n\tthree ; c\n",
		   "1[a] 2s=one 3+s=two 5+s=three");
	CU_ASSERT_STRING_EQUAL(rec.s, "one|two|three");
	/* an indented line right after a header is a key; an indented
	 * "[x]" after a key continues it, as inih reads it */
	expect_log("[a]\n  s = v\n  [x]\n", "1[a] 2s=v 3+s=[x]");
	/* a UTF-8 BOM, CRLF line ends, no newline at the end */
	expect_log("\xEF\xBB\xBF[a]\r\nn = 7\r\nb = off", "1[a] 2n=7 3b=off");
	CU_ASSERT_EQUAL(rec.n, 7);
	/* repeatable keys; the same key in another section */
	expect_log("[a]\nr = 1\nr = 2\nn = 1\n[b]\nn = 2\n",
		   "1[a] 2r=1 3r=2 4n=1 5[b] 6n=2");
	/* keys of a skipped section are not checked */
	expect_log("[skip]\nn = x\nn = y\n", "1[skip] 2n=x 3n=y");
	/* a line of 198 characters is a line */
	{
		char text[256];

		snprintf(text, sizeof(text), "[a]\ns = %0194d\n", 0);
		CU_ASSERT_EQUAL(strlen(text), 4 + 198 + 1);
		CU_ASSERT_EQUAL(parse(text), 0);
		CU_ASSERT_EQUAL(strlen(rec.s), 194);
	}
}

static void
test_reader_errors(void)
{
	char text[600];

	expect_err("[a]\nq = 1\n", "t.ini:2: [a] q: unknown key");
	expect_err("[a]\nn = 1\nb = no\nn = 2\n",
		   "t.ini:4: [a] n: duplicate key (first on line 2)");
	expect_err("[a]\nn = 1\n  2\n",
		   "t.ini:3: [a] n: indented line continues this key's value, "
		   "which takes one line (do not indent keys)");
	expect_err("[a]\n[b]\n[a]\n",
		   "t.ini:3: [a]: duplicate section (first on line 1)");
	expect_err("n = 1\n[a]\n", "t.ini:1: key 'n' outside a section");
	expect_err("[a]\n[bad]\nn = 1\n", "t.ini:2: [bad]: unknown section");
	expect_err("[a]\nx = 1\n",
		   "t.ini:2: [a] x: invalid value '1' (expected a valid value)");
	/* inih's syntax errors, and the first error wins, ours or its */
	expect_err("[a]\nn = 1\nno equals\n",
		   "t.ini:3: syntax error (expected [section], key = value or "
		   "a comment)");
	expect_err("[a\nq = 1\n",
		   "t.ini:1: syntax error (expected [section], key = value or "
		   "a comment)");
	expect_err("[a]\nq = 1\nno equals\n", "t.ini:2: [a] q: unknown key");
	expect_err("[a ; c]\n",
		   "t.ini:1: syntax error (expected [section], key = value or "
		   "a comment)");
	/* a NUL byte */
	CU_ASSERT_EQUAL(parse_mem("[a]\nn = 1\0\n", 11), -EINVAL);
	CU_ASSERT_STRING_EQUAL(err, "t.ini:2: [a]: NUL byte in file");
	/* a line longer than 198 characters: refused, never in pieces,
	 * and the next line keeps its number */
	snprintf(text, sizeof(text), "[a]\ns = %0195d\nq = 1\n", 0);
	expect_err(text, "t.ini:2: [a]: line longer than 198 characters "
		   "(continue a long value on indented lines)");
	CU_ASSERT_STRING_EQUAL(rec.s, "");
	snprintf(text, sizeof(text), "[a]\ns = %0195d", 0); /* at EOF */
	expect_err(text, "t.ini:2: [a]: line longer than 198 characters "
		   "(continue a long value on indented lines)");
	snprintf(text, sizeof(text), "; %0400d\n[a]\nq = 1\n", 0);
	expect_err(text, "t.ini:1: line longer than 198 characters "
		   "(continue a long value on indented lines)");
}

static void
test_value_errors(void)
{
	expect_err("[a]\nb = maybe\n",
		   "t.ini:2: [a] b: invalid value 'maybe' (expected yes or no)");
	expect_err("[a]\nn = 101\n",
		   "t.ini:2: [a] n: invalid value '101' (expected an integer "
		   "1..100)");
	expect_err("[a]\nn = 0\n",
		   "t.ini:2: [a] n: invalid value '0' (expected an integer "
		   "1..100)");
	expect_err("[a]\nn = 5x\n",
		   "t.ini:2: [a] n: invalid value '5x' (expected an integer "
		   "1..100)");
	expect_err("[a]\np =\n",
		   "t.ini:2: [a] p: invalid value '' (expected a socket path "
		   "of 1..107 characters)");
	CU_ASSERT_EQUAL(parse("[a]\nb = TRUE\np = /run/x.sock\n"), 0);
	CU_ASSERT_EQUAL(rec.b, 1);
	CU_ASSERT_STRING_EQUAL(rec.p, "/run/x.sock");
}

/* The message format, for every shape, and the first error kept. */
static void
test_err_format(void)
{
	struct or_ini ini;
	char e[64];

	or_ini_init(&ini, "f.ini", &rec_ops, &rec, err, sizeof(err));
	or_ini_err_at(&ini, 0, "s", "k", "whole %d", 1);
	CU_ASSERT_STRING_EQUAL(err, "f.ini: whole 1");
	CU_ASSERT(ini.failed);
	CU_ASSERT_EQUAL(ini.err_line, 0);
	or_ini_err_at(&ini, 3, "s", "k", "second");
	CU_ASSERT_STRING_EQUAL(err, "f.ini: whole 1");

	or_ini_init(&ini, "f.ini", &rec_ops, &rec, err, sizeof(err));
	or_ini_err_at(&ini, 3, NULL, "k", "no section");
	CU_ASSERT_STRING_EQUAL(err, "f.ini:3: no section");
	or_ini_init(&ini, "f.ini", &rec_ops, &rec, err, sizeof(err));
	or_ini_err_at(&ini, 4, "port a", NULL, "section");
	CU_ASSERT_STRING_EQUAL(err, "f.ini:4: [port a]: section");
	CU_ASSERT_EQUAL(ini.err_line, 4);
	or_ini_init(&ini, "f.ini", &rec_ops, &rec, err, sizeof(err));
	or_ini_err_at(&ini, 5, "port a", "ip", "key %s", "x");
	CU_ASSERT_STRING_EQUAL(err, "f.ini:5: [port a] ip: key x");

	/* a small buffer: cut, terminated */
	or_ini_init(&ini, "f.ini", &rec_ops, &rec, e, sizeof(e));
	or_ini_err_at(&ini, 5, "port a", "ip", "%0100d", 0);
	CU_ASSERT_EQUAL(strlen(e), sizeof(e) - 1);
	CU_ASSERT(strncmp(e, "f.ini:5: [port a] ip: 000", 25) == 0);
}

static void
test_file(void)
{
	char path[] = "/tmp/or-test-ini-XXXXXX";
	int fd = mkstemp(path);
	struct or_ini ini;
	char want[128];

	CU_ASSERT_FATAL(fd >= 0);
	CU_ASSERT_FATAL(write(fd, "[a]\nn = 3\nq = 1\n", 16) == 16);
	close(fd);
	memset(&rec, 0, sizeof(rec));
	or_ini_init(&ini, path, &rec_ops, &rec, err, sizeof(err));
	CU_ASSERT_EQUAL(or_ini_parse_file(&ini, path), -EINVAL);
	snprintf(want, sizeof(want), "%s:3: [a] q: unknown key", path);
	CU_ASSERT_STRING_EQUAL(err, want);
	CU_ASSERT_EQUAL(rec.n, 3);
	unlink(path);
	or_ini_init(&ini, path, &rec_ops, &rec, err, sizeof(err));
	CU_ASSERT_EQUAL(or_ini_parse_file(&ini, path), -ENOENT);
	snprintf(want, sizeof(want), "%s: cannot open: No such file or "
		 "directory", path);
	CU_ASSERT_STRING_EQUAL(err, want);
}

static CU_TestInfo ini_tests[] = {
	{ "bool", test_bool },
	{ "uint", test_uint },
	{ "path", test_path },
	{ "word", test_word },
	{ "reader", test_reader },
	{ "reader errors", test_reader_errors },
	{ "value errors", test_value_errors },
	{ "error format", test_err_format },
	{ "file", test_file },
	CU_TEST_INFO_NULL,
};

OR_TEST_SUITE("ini", NULL, NULL, ini_tests)
