/* Unit tests of optroute-control's configuration reader
 * (control/daemon/cp_cfg.c). The daemon's sources are not in a library:
 * each is compiled into one test file only, so this one takes cp_cfg.c,
 * and links with cp_log.c (test_cp_push.c) and cp_metrics_addr.c
 * (test_metrics.c). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <CUnit/CUnit.h>

#include "../../control/daemon/cp_cfg.c"

#include "or_test.h"

/* Writes text to a temporary file and loads it: cp_cfg_load's result, the
 * file's path in path[64], the config in *c and the message in err. */
static int
load(const char *text, char path[64], struct cp_cfg *c,
     char err[CP_CFG_ERR_LEN])
{
	FILE *f;
	int fd, rc;

	snprintf(path, 64, "/tmp/or-test-cp-cfg-XXXXXX");
	fd = mkstemp(path);
	CU_ASSERT_FATAL(fd >= 0);
	f = fdopen(fd, "w");
	CU_ASSERT_FATAL(f != NULL);
	fputs(text, f);
	fclose(f);
	cp_cfg_defaults(c);
	err[0] = '\0';
	rc = cp_cfg_load(path, c, err);
	unlink(path);
	return rc;
}

/* A socket path of len bytes (sun_path holds 107 and the NUL). */
static void
mk_path(char *p, size_t len)
{
	memset(p, 'a', len);
	memcpy(p, "/tmp/", 5);
	p[len] = '\0';
}

/* [dataplane] channel must fit sun_path, like the dataplane demands of the
 * same key: a longer one is an error naming the file, line and key, never
 * a truncated copy (the daemons would then use different sockets). */
static void
test_dp_channel_length(void)
{
	static const size_t lens[] = { 107, 108, 200 };
	char text[512], p[256], path[64], err[CP_CFG_ERR_LEN], want[512];
	struct cp_cfg c;

	for (size_t i = 0; i < sizeof(lens) / sizeof(lens[0]); i++) {
		int rc;

		mk_path(p, lens[i]);
		snprintf(text, sizeof(text), "[dataplane]\nchannel = %s\n", p);
		rc = load(text, path, &c, err);
		if (lens[i] < CP_SUN_PATH_MAX) {
			CU_ASSERT_EQUAL(rc, 0);
			CU_ASSERT_STRING_EQUAL(c.chan_socket, p);
			continue;
		}
		if (rc == 0)
			fprintf(stderr, "\n  %zu bytes accepted as %zu bytes\n",
				lens[i], strlen(c.chan_socket));
		CU_ASSERT_EQUAL(rc, -EINVAL);
		if (lens[i] < 150) {
			snprintf(want, sizeof(want),
				 "%s:2: [dataplane] channel: invalid value "
				 "'%s' (expected a socket path of 1..107 "
				 "characters)", path, p);
			CU_ASSERT_STRING_EQUAL(err, want);
		} else {
			/* Longer than inih's 200-byte line buffer: the
			 * message quotes the part read, then "...". */
			static const char tail[] =
				"...' (expected a socket path of 1..107 "
				"characters)";
			size_t n = strlen(err);

			snprintf(want, sizeof(want),
				 "%s:2: [dataplane] channel: invalid value "
				 "'%.150s", path, p);
			CU_ASSERT(strncmp(err, want, strlen(want)) == 0);
			CU_ASSERT(n > strlen(tail) &&
				  strcmp(err + n - strlen(tail), tail) == 0);
		}

		/* Also when [control] channel_socket overrides it: the same
		 * file is the dataplane's, which refuses it. */
		snprintf(text, sizeof(text),
			 "[control]\nchannel_socket = /tmp/x.sock\n"
			 "[dataplane]\nchannel = %s\n", p);
		CU_ASSERT_EQUAL(load(text, path, &c, err), -EINVAL);
		CU_ASSERT(strncmp(err, path, strlen(path)) == 0 &&
			  strncmp(err + strlen(path), ":4: [dataplane] channel: ",
				  25) == 0);
	}
	/* Empty: refused by the dataplane too. */
	CU_ASSERT_EQUAL(load("[dataplane]\nchannel =\n", path, &c, err),
			-EINVAL);
	CU_ASSERT(strstr(err, ":2: [dataplane] channel: invalid value ''") !=
		  NULL);
	/* Not given: the default. */
	CU_ASSERT_EQUAL(load("[dataplane]\n", path, &c, err), 0);
	CU_ASSERT_STRING_EQUAL(c.chan_socket, CP_CFG_DEFAULT_CHANNEL);
}

static CU_TestInfo cp_cfg_tests[] = {
	{ "[dataplane] channel length", test_dp_channel_length },
	CU_TEST_INFO_NULL,
};

OR_TEST_SUITE("cp_cfg", NULL, NULL, cp_cfg_tests)
