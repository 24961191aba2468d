/* Unit tests of optroute-control's configuration reader
 * (control/daemon/cp_cfg.c), linked from the daemon's library
 * (liborcpd.a). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <CUnit/CUnit.h>

#include "optroute/or_ini.h"

#include "control/daemon/cp_cfg.h"
#include "control/daemon/cp_log.h"

#include "or_test.h"

/* Writes len bytes of text to a temporary file and loads it: cp_cfg_load's
 * result, the file's path in path[64], the config in *c and the message in
 * err. */
static int
load_mem(const char *text, size_t len, char path[64], struct cp_cfg *c,
	 char err[CP_CFG_ERR_LEN])
{
	FILE *f;
	int fd, rc;

	snprintf(path, 64, "/tmp/or-test-cp-cfg-XXXXXX");
	fd = mkstemp(path);
	CU_ASSERT_FATAL(fd >= 0);
	f = fdopen(fd, "w");
	CU_ASSERT_FATAL(f != NULL);
	CU_ASSERT_FATAL(fwrite(text, 1, len, f) == len);
	fclose(f);
	cp_cfg_defaults(c);
	err[0] = '\0';
	rc = cp_cfg_load(path, c, err);
	unlink(path);
	return rc;
}

static int
load(const char *text, char path[64], struct cp_cfg *c,
     char err[CP_CFG_ERR_LEN])
{
	return load_mem(text, strlen(text), path, c, err);
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
			/* Longer than a line (finding C2): the line is
			 * refused whole, never read in pieces. */
			snprintf(want, sizeof(want),
				 "%s:2: [dataplane]: line longer than 198 "
				 "characters (continue a long value on "
				 "indented lines)", path);
			CU_ASSERT_STRING_EQUAL(err, want);
		}

		/* Also when [control] channel_socket overrides it: the same
		 * file is the dataplane's, which refuses it. */
		snprintf(text, sizeof(text),
			 "[control]\nchannel_socket = /tmp/x.sock\n"
			 "[dataplane]\nchannel = %s\n", p);
		CU_ASSERT_EQUAL(load(text, path, &c, err), -EINVAL);
		CU_ASSERT(strncmp(err, path, strlen(path)) == 0 &&
			  strncmp(err + strlen(path), ":4: [dataplane]",
				  15) == 0);
	}
	/* Empty: refused by the dataplane too. */
	CU_ASSERT_EQUAL(load("[dataplane]\nchannel =\n", path, &c, err),
			-EINVAL);
	CU_ASSERT(strstr(err, ":2: [dataplane] channel: invalid value ''") !=
		  NULL);
	/* Not given: the default. */
	CU_ASSERT_EQUAL(load("[dataplane]\n", path, &c, err), 0);
	CU_ASSERT_STRING_EQUAL(c.chan_socket, OR_INI_DEFAULT_CHANNEL);
}

/* Loads text and expects exactly "PATH" + tail as the error. */
static void
expect_err(const char *text, const char *tail)
{
	char path[64], err[CP_CFG_ERR_LEN], want[CP_CFG_ERR_LEN + 64];
	struct cp_cfg c;

	CU_ASSERT(load(text, path, &c, err) < 0);
	snprintf(want, sizeof(want), "%s%s", path, tail);
	if (strcmp(err, want) != 0) {
		fprintf(stderr, "\n  got:  %s\n  want: %s\n", err, want);
		CU_FAIL("error message");
	}
}

/* The values through the shared parsers: booleans and keywords in any
 * case, as the dataplane takes them (issue 14). */
static void
test_values(void)
{
	char path[64], err[CP_CFG_ERR_LEN];
	struct cp_cfg c;

	CU_ASSERT_EQUAL_FATAL(load("[control]\nlog_level = DEBUG\n"
				   "node_policy = Hash 4\nkey_epoch = 255\n"
				   "store_map_mb = 16\nnotice_version = "
				   "4294967295\n", path, &c, err), 0);
	CU_ASSERT_EQUAL(c.log_level, CP_LOG_DEBUG);
	CU_ASSERT_EQUAL(c.node_policy.kind, OR_NODE_POLICY_HASH);
	CU_ASSERT_EQUAL(c.node_policy.n_nodes, 4);
	CU_ASSERT_EQUAL(c.key_epoch, 255);
	CU_ASSERT_EQUAL(c.store_map_mb, 16);
	CU_ASSERT_EQUAL(c.notice_version, 4294967295u);
	/* The keys /metrics had here moved to optroute-exporter's own
	 * section: each is refused with its new name. */
	expect_err("[control]\nmetrics = 127.0.0.1:9140\n",
		   ":2: [control] metrics: moved: /metrics is served by "
		   "optroute-exporter, set [exporter] listen");
	expect_err("[control]\n\nmetrics_allow_remote = yes\n",
		   ":3: [control] metrics_allow_remote: moved: /metrics is "
		   "served by optroute-exporter, set [exporter] allow_remote");
	expect_err("[control]\nmetrics_max_age_ms = 5\n",
		   ":2: [control] metrics_max_age_ms: moved: /metrics is "
		   "served by optroute-exporter, set [exporter] max_age_ms");
	/* ... and are not taken for [control] keys elsewhere. */
	CU_ASSERT_EQUAL(load("[exporter]\nlisten = 127.0.0.1:9140\n"
			     "[control]\nlog_level = info\n", path, &c, err), 0);
	expect_err("[control]\n\nkey_epoch = 256\n",
		   ":3: [control] key_epoch: invalid value '256' (expected an "
		   "integer 0..255)");
	expect_err("[control]\nkey_epoch = -1\n",
		   ":2: [control] key_epoch: invalid value '-1' (expected an "
		   "integer 0..255)");
	expect_err("[control]\nnotice_version = 4294967296\n",
		   ":2: [control] notice_version: invalid value '4294967296' "
		   "(expected an integer 0..4294967295)");
	expect_err("[control]\nstore_map_mb = 15\n",
		   ":2: [control] store_map_mb: invalid value '15' (expected "
		   "an integer 16..16777216 (MiB))");
	expect_err("[control]\nmgmt_socket =\n",
		   ":2: [control] mgmt_socket: invalid value '' (expected a "
		   "socket path of 1..107 characters)");
	expect_err("[control]\nlog_level = loud\n",
		   ":2: [control] log_level: invalid value 'loud' (expected "
		   "error, warning, notice, info or debug)");
}

/* The file's rules, from the INI layer both daemons share. */
static void
test_file_rules(void)
{
	char text[512], path[64], err[CP_CFG_ERR_LEN], want[512];
	char kf[200];
	struct cp_cfg c;

	expect_err("[control]\nbogus = 1\n",
		   ":2: [control] bogus: unknown key");
	expect_err("[control]\nkey_epoch = 1\n; c\nkey_epoch = 2\n",
		   ":4: [control] key_epoch: duplicate key (first on line 2)");
	expect_err("[control]\nkey_epoch = 1\n[port p]\n[control]\n",
		   ":4: [control]: duplicate section (first on line 1)");
	expect_err("[control]\nkey_file = /a\n  /b\n",
		   ":3: [control] key_file: indented line continues this key's "
		   "value, which takes one line (do not indent keys)");
	expect_err("[dataplane]\nchannel = /a\nchannel = /b\n",
		   ":3: [dataplane] channel: duplicate key (first on line 2)");
	expect_err("key_epoch = 1\n[control]\n",
		   ":1: key 'key_epoch' outside a section");
	expect_err("[control]\nno equals sign\n",
		   ":2: syntax error (expected [section], key = value or a "
		   "comment)");
	/* refused at its header, even with no key */
	expect_err("[control]\n[metrics]\n",
		   ":2: [metrics]: unknown section (the metrics settings are "
		   "in [exporter], read by optroute-exporter)");
	expect_err("[controll]\n",
		   ":1: [controll]: unknown section (expected [control])");
	{
		static const char nul[] = "[control]\nkey_epoch = 1\0\n";

		CU_ASSERT_EQUAL(load_mem(nul, sizeof(nul) - 1, path, &c, err),
				-EINVAL);
		snprintf(want, sizeof(want), "%s:2: [control]: NUL byte in "
			 "file", path);
		CU_ASSERT_STRING_EQUAL(err, want);
	}

	/* Finding C2: a 190-byte key_file on a 201-byte line was read as
	 * its first 188 bytes; a long comment as two lines. Now the line is
	 * refused, and lines are counted as lines. */
	memset(kf, 'k', sizeof(kf));
	kf[0] = '/';
	kf[190] = '\0';
	snprintf(text, sizeof(text), "[control]\nkey_file = %s\n", kf);
	CU_ASSERT_EQUAL(load(text, path, &c, err), -EINVAL);
	snprintf(want, sizeof(want), "%s:2: [control]: line longer than 198 "
		 "characters (continue a long value on indented lines)", path);
	CU_ASSERT_STRING_EQUAL(err, want);
	snprintf(text, sizeof(text), "; %s %s\n[control]\nbogus = 1\n", kf,
		 kf);
	CU_ASSERT_EQUAL(load(text, path, &c, err), -EINVAL);
	snprintf(want, sizeof(want), "%s:1: line longer than 198 characters "
		 "(continue a long value on indented lines)", path);
	CU_ASSERT_STRING_EQUAL(err, want);
	/* 198 characters is a line */
	kf[198 - 11] = '\0';
	snprintf(text, sizeof(text), "[control]\nkey_file = %s\n", kf);
	CU_ASSERT_EQUAL(load(text, path, &c, err), 0);
	CU_ASSERT_STRING_EQUAL(c.key_file, kf);

	CU_ASSERT_EQUAL(cp_cfg_load("/nonexistent/or.ini", &c, err), -ENOENT);
	CU_ASSERT_STRING_EQUAL(err, "/nonexistent/or.ini: cannot open: No such "
			       "file or directory");
}

/* readonly_gid: a group as allowed_gid takes it, into its own field. */
static void
test_readonly_gid(void)
{
	char path[64], err[CP_CFG_ERR_LEN];
	struct cp_cfg c;

	CU_ASSERT_EQUAL_FATAL(load("[control]\nallowed_gid = 7\n", path, &c,
				   err), 0);
	CU_ASSERT_EQUAL(c.has_ro_gid, 0);
	CU_ASSERT_EQUAL_FATAL(load("[control]\nreadonly_gid = 4242\n"
				   "allowed_gid = 7\n", path, &c, err), 0);
	CU_ASSERT_EQUAL(c.has_ro_gid, 1);
	CU_ASSERT_EQUAL(c.readonly_gid, 4242);
	CU_ASSERT_EQUAL(c.has_gid, 1);
	CU_ASSERT_EQUAL(c.allowed_gid, 7);
	/* A name the system knows (root is group 0 everywhere). */
	CU_ASSERT_EQUAL_FATAL(load("[control]\nreadonly_gid = root\n", path,
				   &c, err), 0);
	CU_ASSERT_EQUAL(c.has_ro_gid, 1);
	CU_ASSERT_EQUAL(c.readonly_gid, 0);
	CU_ASSERT_EQUAL(c.has_gid, 0);
	expect_err("[control]\nreadonly_gid = no-such-group-or\n",
		   ":2: [control] readonly_gid: invalid value "
		   "'no-such-group-or' (expected a group name or a numeric "
		   "gid)");
	expect_err("[control]\nreadonly_gid = 1\nreadonly_gid = 2\n",
		   ":3: [control] readonly_gid: duplicate key (first on line 2)");
}

/* The system of record's keys (docs/fleet.md section 12). */
static void
test_store_keys(void)
{
	char path[64], err[CP_CFG_ERR_LEN];
	struct cp_cfg c;

	CU_ASSERT_EQUAL_FATAL(load("[control]\n", path, &c, err), 0);
	CU_ASSERT_EQUAL(c.store_pg, 0);
	CU_ASSERT_EQUAL(c.fleet_commit_timeout_ms, 10000);
	CU_ASSERT_EQUAL(c.fleet_report_ms, 1000);
	CU_ASSERT_EQUAL_FATAL(load("[control]\nstore = PostgreSQL\n"
				   "store_conninfo = host=/run/pg dbname=o\n"
				   "appliance_name = site-a.b_1\n"
				   "fleet_report_ms = 200\n", path, &c, err), 0);
	CU_ASSERT_EQUAL(c.store_pg, 1);
	CU_ASSERT_STRING_EQUAL(c.store_conninfo, "host=/run/pg dbname=o");
	CU_ASSERT_STRING_EQUAL(c.appliance_name, "site-a.b_1");
	CU_ASSERT_EQUAL(c.fleet_report_ms, 200);
	expect_err("[control]\n\nstore = postgresql\n",
		   ":3: [control] store: postgresql needs store_conninfo");
	expect_err("[control]\nstore = mysql\n",
		   ":2: [control] store: invalid value 'mysql' (expected "
		   "'lmdb' or 'postgresql')");
	expect_err("[control]\nappliance_name = a b\n",
		   ":2: [control] appliance_name: invalid value 'a b' "
		   "(expected 1 to 63 of A-Z a-z 0-9 . _ -)");
	/* A password is refused, and the message does not quote it. */
	CU_ASSERT_EQUAL(load("[control]\nstore_conninfo = host=/x "
			     "password=Sekr1t\n", path, &c, err), -EINVAL);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "contains a password"));
	CU_ASSERT_PTR_NULL(strstr(err, "Sekr1t"));
	CU_ASSERT_EQUAL(load("[control]\nstore_conninfo = postgresql://u:"
			     "Sekr1t@h/db\n", path, &c, err), -EINVAL);
	CU_ASSERT_PTR_NULL(strstr(err, "Sekr1t"));
	expect_err("[control]\nfleet_commit_timeout_ms = 10\n",
		   ":2: [control] fleet_commit_timeout_ms: invalid value '10' "
		   "(expected an integer 100..600000)");
}

static CU_TestInfo cp_cfg_tests[] = {
	{ "store keys", test_store_keys },
	{ "readonly_gid", test_readonly_gid },
	{ "[dataplane] channel length", test_dp_channel_length },
	{ "values", test_values },
	{ "file rules", test_file_rules },
	CU_TEST_INFO_NULL,
};

OR_TEST_SUITE("cp_cfg", NULL, NULL, cp_cfg_tests)
