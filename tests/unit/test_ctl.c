/* SPDX-License-Identifier: BSD-3-Clause
 *
 * optroutectl's command line (control/ctl/ctl_cmd.c) against the daemon's
 * request parser (control/daemon/loop/cp_req.c; both linked from their
 * programs' libraries, liborctl.a and liborcpd.a): both follow
 * OR_MGMT_CMDS, so for every command and every option, what optroutectl
 * accepts the daemon accepts, with the same fields (round trip), and what
 * optroutectl refuses the daemon refuses. Also optroutectl's retry of a
 * connection the daemon refused (ctl_io.c).
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <CUnit/CUnit.h>

#include "control/ctl/ctl.h"
#include "control/ctl/ctl_cmd.h"
#include "control/ctl/ctl_io.h"
#include "control/daemon/loop/cp_req.h"

#include "or_test.h"

#define T_TOKEN "00112233445566778899aabbccddeeff"
#define T_PK "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="

/* What an option sends, as a raw request field (0: none). */
static const struct {
	const char *argv[2];
	unsigned field;
	const char *value;
} t_opts[] = {
	{ { "--node", "3" }, OR_MGMT_F_NODE, "3" },
	{ { "--notice", "2" }, OR_MGMT_F_NOTICE, "2" },
	{ { "--method", "app" }, OR_MGMT_F_METHOD, "\"app\"" },
	{ { "--wait", NULL }, OR_MGMT_F_WAIT, "true" },
	{ { "--clear", NULL }, OR_MGMT_F_CLEAR, "true" },
	{ { "--pubkey", T_PK }, OR_MGMT_F_PUBKEY, "\"" T_PK "\"" },
	{ { "--sealed", "AAAA" }, OR_MGMT_F_SEALED, "\"AAAA\"" },
	{ { "--token", T_TOKEN }, OR_MGMT_F_TOKEN, "\"" T_TOKEN "\"" },
	{ { "+15551234567", NULL }, OR_MGMT_F_NUMBER, "\"+15551234567\"" },
	{ { "--verify", NULL }, 0, NULL },
	{ { "--seal", NULL }, 0, NULL },
	{ { "--chunk", "10" }, 0, NULL },
	{ { "--optin", NULL }, 0, NULL },
};

#define T_NOPTS (sizeof(t_opts) / sizeof(t_opts[0]))

struct t_argv {
	char buf[16][80];
	char *v[16];
	int n;
};

static void
t_add(struct t_argv *a, const char *s)
{
	snprintf(a->buf[a->n], sizeof(a->buf[a->n]), "%s", s);
	a->v[a->n] = a->buf[a->n];
	a->n++;
}

/* The command with what it needs: its subject as a token, its pubkey. */
static unsigned
t_base(struct t_argv *a, const struct or_mgmt_cmd_info *i)
{
	unsigned f = 0;

	a->n = 0;
	t_add(a, i->name);
	if (i->needs & OR_MGMT_F_SUBJ) {
		t_add(a, "--token");
		t_add(a, T_TOKEN);
		f |= OR_MGMT_F_TOKEN;
	}
	if (i->needs & OR_MGMT_F_PUBKEY) {
		t_add(a, "--pubkey");
		t_add(a, T_PK);
		f |= OR_MGMT_F_PUBKEY;
	}
	return f;
}

/* 0 if optroutectl takes argv. */
static int
t_cli(struct ctl *c, struct t_argv *a)
{
	char err[256];
	int rc;

	memset(c, 0, sizeof(*c));
	c->node = -1;
	c->notice = -1;
	c->optin = -1;
	a->v[a->n] = NULL;
	rc = ctl_parse_cmd_args(c, a->n, a->v);
	if (rc == 0)
		rc = ctl_cmd_check(c, err, sizeof(err));
	return rc;
}

static void
t_cli_free(struct ctl *c)
{
	free(c->arg_copy);
	c->arg_copy = NULL;
}

/* The daemon's verdict on a raw request of the fields f. */
static enum or_mgmt_err
t_daemon(const char *name, unsigned f)
{
	char req[512], msg[CP_REQ_MSG_LEN];
	struct cp_req r;
	enum or_mgmt_err e;
	size_t off;

	off = (size_t)snprintf(req, sizeof(req), "{\"v\":1,\"cmd\":\"%s\"",
			       name);
	if (f & OR_MGMT_F_TOKEN)
		off += (size_t)snprintf(req + off, sizeof(req) - off,
					",\"token\":\"" T_TOKEN "\"");
	if (f & OR_MGMT_F_PUBKEY)
		off += (size_t)snprintf(req + off, sizeof(req) - off,
					",\"pubkey\":\"" T_PK "\"");
	for (size_t o = 0; o < T_NOPTS; o++)
		if (t_opts[o].field != 0 &&
		    !(t_opts[o].field & (OR_MGMT_F_TOKEN | OR_MGMT_F_PUBKEY)) &&
		    (f & t_opts[o].field))
			off += (size_t)snprintf(req + off, sizeof(req) - off,
						",\"%s\":%s",
						or_mgmt_field_name(
							t_opts[o].field),
						t_opts[o].value);
	snprintf(req + off, sizeof(req) - off, "}");
	e = cp_req_parse(req, strlen(req), &r, msg);
	cp_req_free(&r);
	return e;
}

/* Every command alone and with each option: accepted by optroutectl ->
 * its request parses in the daemon with exactly the fields given;
 * refused -> the daemon refuses the same fields (for options that are
 * fields). */
static void
test_round_trip(void)
{
	unsigned accepted = 0, refused = 0;

	for (unsigned cmd = OR_MGMT_CMD_NONE + 1; cmd < OR_MGMT_CMD_COUNT;
	     cmd++) {
		const struct or_mgmt_cmd_info *i = or_mgmt_cmd_info(cmd);

		if (i->fields & OR_MGMT_F_LINES)
			continue; /* import: its own stream (ctl_import.c) */
		for (int o = -1; o < (int)T_NOPTS; o++) {
			struct t_argv a;
			struct ctl c;
			unsigned f = t_base(&a, i);
			int rc;

			if (o >= 0) {
				for (int k = 0; k < 2 && t_opts[o].argv[k]; k++)
					t_add(&a, t_opts[o].argv[k]);
				f |= t_opts[o].field;
			}
			rc = t_cli(&c, &a);
			if (rc == 0) {
				struct ctl_buf b = { 0 };
				char msg[CP_REQ_MSG_LEN];
				struct cp_req r;

				accepted++;
				CU_ASSERT_EQUAL_FATAL(ctl_request_build(&c, &b),
						      0);
				CU_ASSERT_EQUAL(b.p[b.len - 1], '\n');
				CU_ASSERT_EQUAL(cp_req_parse(b.p, b.len - 1, &r,
							     msg),
						OR_MGMT_OK);
				CU_ASSERT_EQUAL(r.cmd, cmd);
				CU_ASSERT_EQUAL(r.fields, f);
				CU_ASSERT_EQUAL(r.fields, c.given & ~CTL_F_NONE);
				cp_req_free(&r);
				ctl_buf_free(&b);
			} else if (o >= 0 && t_opts[o].field != 0) {
				refused++;
				CU_ASSERT_EQUAL(rc, CTL_EXIT_USAGE);
				CU_ASSERT_NOT_EQUAL(t_daemon(i->name, f),
						    OR_MGMT_OK);
			}
			t_cli_free(&c);
		}
	}
	/* Both sides were exercised. */
	CU_ASSERT(accepted > 20);
	CU_ASSERT(refused > 50);
}

/* The command line's own errors: unknown command, arguments. */
static void
test_cli_errors(void)
{
	static const char *const bad[][8] = {
		{ "bogus" },
		{ "stats", "extra" },
		{ "status" },
		{ "audit" },
		{ "rekey", "--token", T_TOKEN },
		{ "import", "file.txt" },
		{ "import", "--optin" },
		{ "status", "--token", T_TOKEN, "--sealed", "AAAA" },
		{ "status", "--token", T_TOKEN, "--seal" },
		{ "audit", "--verify", "--token", T_TOKEN },
		{ "optin", "--token", T_TOKEN, "--node", "65536" },
		{ "optin", "--token", T_TOKEN, "--pubkey", T_PK,
		  "--pubkey-file", "/dev/null" },
		{ "import", "f", "--optin", "--optout" },
		{ "stats", "--clear", "--wait" },
	};
	static const char *const good[][6] = {
		{ "audit", "--verify" },
		{ "import", "-", "--optout", "--chunk", "5" },
		{ "optin", "-", "--seal", "--wait" },
		{ "stats", "--clear" },
	};

	for (size_t k = 0; k < sizeof(bad) / sizeof(bad[0]); k++) {
		struct t_argv a = { .n = 0 };
		struct ctl c;
		int rc;

		for (int j = 0; j < 8 && bad[k][j] != NULL; j++)
			t_add(&a, bad[k][j]);
		rc = t_cli(&c, &a);
		if (rc == 0)
			fprintf(stderr, "\n  accepted: %s %s\n", bad[k][0],
				bad[k][1] ? bad[k][1] : "");
		CU_ASSERT_NOT_EQUAL(rc, 0);
		t_cli_free(&c);
	}
	for (size_t k = 0; k < sizeof(good) / sizeof(good[0]); k++) {
		struct t_argv a = { .n = 0 };
		struct ctl c;

		for (int j = 0; j < 6 && good[k][j] != NULL; j++)
			t_add(&a, good[k][j]);
		CU_ASSERT_EQUAL(t_cli(&c, &a), 0);
		t_cli_free(&c);
	}
}

/* The usage has every command, its help, RO where the entry says so. */
static void
test_usage(void)
{
	char *text = NULL, want[256];
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);

	CU_ASSERT_PTR_NOT_NULL_FATAL(f);
	ctl_usage(f);
	fclose(f);
	for (unsigned cmd = OR_MGMT_CMD_NONE + 1; cmd < OR_MGMT_CMD_COUNT;
	     cmd++) {
		const struct or_mgmt_cmd_info *i = or_mgmt_cmd_info(cmd);

		snprintf(want, sizeof(want), "\n  %s", i->name);
		CU_ASSERT_PTR_NOT_NULL(strstr(text, want));
		snprintf(want, sizeof(want), "      %s%s\n", i->help,
			 i->readonly ? " (RO)" : "");
		CU_ASSERT_PTR_NOT_NULL(strstr(text, want));
	}
	CU_ASSERT_PTR_NOT_NULL(strstr(text, "  rekey SUBJECT --pubkey B64|"
					    "--pubkey-file F [--method M]"));
	/* Lines fit a terminal. */
	for (char *p = text, *nl; (nl = strchr(p, '\n')) != NULL; p = nl + 1)
		CU_ASSERT(nl - p <= 80);
	free(text);
}


/* ------------------------------------------------------ refusal retry --- */

struct rt_srv {
	int lfd;
	unsigned refuse; /* connections to refuse first */
	unsigned accepted;
};

/* The daemon as a refusing one: the first `refuse` connections get the
 * too_many_clients line at once and are closed unread; the next one has
 * its request line read and answered ok. */
static void *
rt_serve(void *arg)
{
	struct rt_srv *s = arg;
	char buf[4096];

	for (;;) {
		int fd = accept(s->lfd, NULL, NULL);
		static const char no[] = "{\"v\":1,\"ok\":false,\"error\":"
			"{\"code\":\"too_many_clients\",\"message\":"
			"\"too many clients; retry later\"}}\n";
		static const char yes[] = "{\"v\":1,\"id\":7,\"ok\":true}\n";
		ssize_t n;

		if (fd < 0)
			return NULL;
		s->accepted++;
		if (s->accepted <= s->refuse) {
			CU_ASSERT(write(fd, no, sizeof(no) - 1) > 0);
			close(fd);
			continue;
		}
		n = read(fd, buf, sizeof(buf));
		CU_ASSERT(n > 0 && memchr(buf, '\n', (size_t)n) != NULL);
		CU_ASSERT(write(fd, yes, sizeof(yes) - 1) > 0);
		close(fd);
		return NULL;
	}
}

/* A refusal (too_many_clients as the first line, nothing done) is retried
 * on a new connection; any other first reply is not. */
static void
test_refusal_retry(void)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct rt_srv s = { .refuse = 2 };
	struct ctl_conn c;
	struct ctl_buf b = { 0 };
	char err[256];
	json_t *reply = NULL;
	pthread_t th;
	int rc;

	snprintf(sa.sun_path, sizeof(sa.sun_path), "/tmp/or-ctl-retry.%d",
		 (int)getpid());
	unlink(sa.sun_path);
	s.lfd = socket(AF_UNIX, SOCK_STREAM, 0);
	CU_ASSERT_FATAL(s.lfd >= 0 &&
			bind(s.lfd, (struct sockaddr *)&sa, sizeof(sa)) == 0 &&
			listen(s.lfd, 4) == 0);
	CU_ASSERT_FATAL(pthread_create(&th, NULL, rt_serve, &s) == 0);
	CU_ASSERT_FATAL(ctl_connect(&c, sa.sun_path, 2000, err,
				    sizeof(err)) == 0);
	ctl_buf_printf(&b, "{\"v\":1,\"id\":7,\"cmd\":\"version\"}\n");
	do {
		(void)ctl_send(&c, &b);
		rc = ctl_recv(&c, &reply);
	} while (ctl_retry(&c, rc, &reply));
	CU_ASSERT_EQUAL(rc, 0);
	CU_ASSERT_EQUAL(c.tries, 2);
	CU_ASSERT_EQUAL(s.accepted, 3);
	CU_ASSERT(reply != NULL &&
		  json_is_true(json_object_get(reply, "ok")));
	/* Not a refusal: no retry. */
	CU_ASSERT_EQUAL(ctl_retry(&c, rc, &reply), 0);
	json_decref(reply);
	/* Wakes the server's accept() if a failure left it waiting. */
	shutdown(s.lfd, SHUT_RDWR);
	pthread_join(th, NULL);
	ctl_close(&c);
	ctl_buf_free(&b);
	close(s.lfd);
	unlink(sa.sun_path);
}

static CU_TestInfo ctl_tests[] = {
	{ "round trip through the daemon's parser", test_round_trip },
	{ "command line errors", test_cli_errors },
	{ "usage from the command table", test_usage },
	{ "a refused connection retried", test_refusal_retry },
	CU_TEST_INFO_NULL,
};

OR_TEST_SUITE("ctl", NULL, NULL, ctl_tests)
