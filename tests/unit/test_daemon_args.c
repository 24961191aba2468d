/* Unit tests of the daemons' shared command line (common/daemon/,
 * include/optroute/daemon_args.h): what goes on, and the exit status of
 * what does not. Usage and version go to files, not to the test's output. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "optroute/daemon_args.h"
#include "or_test.h"

/* or_daemon_args on a NULL-terminated list; stdout and stderr captured in
 * out (what was printed, both streams). */
static int
da_run(struct or_daemon_args *a, char *out, size_t n, ...)
{
	char *argv[8] = { "prog" };
	int argc = 1, rc, fd1, fd2;
	FILE *tmp = tmpfile();
	va_list ap;
	size_t got;

	va_start(ap, n);
	while (argc < 7 && (argv[argc] = va_arg(ap, char *)) != NULL)
		argc++;
	va_end(ap);
	argv[argc] = NULL;
	CU_ASSERT_FATAL(tmp != NULL);
	fflush(stdout);
	fflush(stderr);
	fd1 = dup(1);
	fd2 = dup(2);
	dup2(fileno(tmp), 1);
	dup2(fileno(tmp), 2);
	rc = or_daemon_args(argc, argv, "prog", "WHAT", a);
	fflush(stdout);
	fflush(stderr);
	dup2(fd1, 1);
	dup2(fd2, 2);
	close(fd1);
	close(fd2);
	rewind(tmp);
	got = fread(out, 1, n - 1, tmp);
	out[got] = '\0';
	fclose(tmp);
	return rc;
}

static void
test_goes_on(void)
{
	struct or_daemon_args a;
	char out[1024];

	CU_ASSERT_EQUAL(da_run(&a, out, sizeof(out), "-c", "f.ini", NULL), -1);
	CU_ASSERT_STRING_EQUAL(a.config, "f.ini");
	CU_ASSERT_EQUAL(a.check, 0);
	CU_ASSERT_STRING_EQUAL(out, "");
	CU_ASSERT_EQUAL(da_run(&a, out, sizeof(out), "--check", "--config",
			       "g.ini", NULL), -1);
	CU_ASSERT_STRING_EQUAL(a.config, "g.ini");
	CU_ASSERT_EQUAL(a.check, 1);
}

static void
test_exits(void)
{
	struct or_daemon_args a;
	char out[1024];

	/* No file, an extra argument, an unknown option: usage, status 2. */
	CU_ASSERT_EQUAL(da_run(&a, out, sizeof(out), NULL), 2);
	CU_ASSERT_PTR_NOT_NULL(strstr(out, "usage: prog -c FILE [--check]"));
	CU_ASSERT_PTR_NOT_NULL(strstr(out, "configuration (WHAT)"));
	CU_ASSERT_EQUAL(da_run(&a, out, sizeof(out), "-c", "f", "x", NULL), 2);
	CU_ASSERT_PTR_NOT_NULL(strstr(out, "usage:"));
	CU_ASSERT_EQUAL(da_run(&a, out, sizeof(out), "-c", "f", "--bogus",
			       NULL), 2);
	CU_ASSERT_EQUAL(da_run(&a, out, sizeof(out), "--check", NULL), 2);
	/* -V and -h: status 0. */
	CU_ASSERT_EQUAL(da_run(&a, out, sizeof(out), "-V", NULL), 0);
	CU_ASSERT_EQUAL(strncmp(out, "prog ", 5), 0);
	CU_ASSERT_PTR_NOT_NULL(strstr(out, "(management protocol "));
	CU_ASSERT_EQUAL(da_run(&a, out, sizeof(out), "--help", NULL), 0);
	CU_ASSERT_PTR_NOT_NULL(strstr(out, "--check"));
}

static CU_TestInfo daemon_args_tests[] = {
	{ "what goes on", test_goes_on },
	{ "what exits, and how", test_exits },
	CU_TEST_INFO_NULL,
};

OR_TEST_SUITE("daemon_args", NULL, NULL, daemon_args_tests)
