/* SPDX-License-Identifier: BSD-3-Clause
 *
 * Management request validation (control/daemon/loop/cp_req.c): the pure
 * parser behind every optroute-control command, linked from the daemon's
 * library (liborcpd.a).
 */
#include <string.h>

#include <CUnit/CUnit.h>

#include "control/daemon/loop/cp_req.h"
#include "control/daemon/loop/cp_req_priv.h"
/* The handlers' declarations, checked by type only. */
#include "control/daemon/cmd/cp_act_priv.h"

#include "or_test.h"

static char msg[CP_REQ_MSG_LEN];

static enum or_mgmt_err
parse(const char *s, struct cp_req *r)
{
	return cp_req_parse(s, strlen(s), r, msg);
}

/* Parses s, checks the result code, frees. */
static void
expect(const char *s, enum or_mgmt_err want)
{
	struct cp_req r;
	enum or_mgmt_err got = parse(s, &r);

	if (got != want)
		fprintf(stderr, "\n  %s -> %s (%s), want %s\n", s,
			or_mgmt_err_code(got), msg, or_mgmt_err_code(want));
	CU_ASSERT_EQUAL(got, want);
	cp_req_free(&r);
}

static void
test_valid_optin(void)
{
	struct cp_req r;

	CU_ASSERT_EQUAL(parse("{\"v\":1,\"id\":7,\"cmd\":\"optin\","
			      "\"number\":\"+15551234567\",\"node\":3,"
			      "\"notice\":202401,\"method\":\"sms\","
			      "\"wait\":true}",
			      &r),
			OR_MGMT_OK);
	CU_ASSERT_EQUAL(r.cmd, OR_MGMT_CMD_OPTIN);
	CU_ASSERT_EQUAL(r.subj, CP_SUBJ_NUMBER);
	CU_ASSERT_STRING_EQUAL(json_string_value(r.subject), "+15551234567");
	CU_ASSERT_EQUAL(json_integer_value(r.id), 7);
	CU_ASSERT_EQUAL(r.node, 3);
	CU_ASSERT_EQUAL(r.notice, 202401);
	CU_ASSERT_STRING_EQUAL(r.method, "sms");
	CU_ASSERT_EQUAL(r.wait, 1);
	cp_req_free(&r);
	CU_ASSERT_PTR_NULL(r.root);

	CU_ASSERT_EQUAL(parse("{\"v\":1,\"cmd\":\"optout\",\"token\":"
			      "\"00112233445566778899aabbccddeeff\"}",
			      &r),
			OR_MGMT_OK);
	CU_ASSERT_EQUAL(r.subj, CP_SUBJ_TOKEN);
	CU_ASSERT_PTR_NULL(r.id);
	CU_ASSERT_EQUAL(r.node, -1);
	CU_ASSERT_EQUAL(r.notice, -1);
	CU_ASSERT_EQUAL(r.wait, 0);
	cp_req_free(&r);

	CU_ASSERT_EQUAL(parse("{\"v\":1,\"id\":\"a-1\",\"cmd\":\"status\","
			      "\"sealed\":\"AAAA\"}",
			      &r),
			OR_MGMT_OK);
	CU_ASSERT_EQUAL(r.subj, CP_SUBJ_SEALED);
	CU_ASSERT_STRING_EQUAL(json_string_value(r.id), "a-1");
	cp_req_free(&r);

	expect("{\"v\":1,\"cmd\":\"stats\",\"clear\":true}", OR_MGMT_OK);
	expect("  {\"cmd\":\"help\",\"v\":1}  ", OR_MGMT_OK);
	expect("{\"v\":1,\"cmd\":\"version\"}", OR_MGMT_OK);
	expect("{\"v\":1,\"cmd\":\"pubkey\"}", OR_MGMT_OK);
	expect("{\"v\":1,\"cmd\":\"table\"}", OR_MGMT_OK);
	expect("{\"v\":1,\"cmd\":\"dataplane\"}", OR_MGMT_OK);
	expect("{\"v\":1,\"cmd\":\"audit\",\"token\":\"x\"}", OR_MGMT_OK);
	/* audit alone verifies the whole chain; status needs a subject. */
	expect("{\"v\":1,\"cmd\":\"audit\"}", OR_MGMT_OK);
	expect("{\"v\":1,\"cmd\":\"status\"}", OR_MGMT_E_BAD_REQUEST);
}

static void
test_garbage(void)
{
	struct cp_req r;

	expect("", OR_MGMT_E_BAD_JSON);
	expect("hello", OR_MGMT_E_BAD_JSON);
	expect("{\"v\":1,", OR_MGMT_E_BAD_JSON);
	expect("{\"v\":1,\"cmd\":\"help\"} {}", OR_MGMT_E_BAD_JSON);
	expect("[1,2,3]", OR_MGMT_E_BAD_JSON);
	expect("\"optin\"", OR_MGMT_E_BAD_JSON);
	expect("42", OR_MGMT_E_BAD_JSON);
	expect("null", OR_MGMT_E_BAD_JSON);
	expect("\xff\xfe{}", OR_MGMT_E_BAD_JSON);
	/* Duplicate keys would leave two copies of a field. */
	expect("{\"v\":1,\"v\":1,\"cmd\":\"help\"}", OR_MGMT_E_BAD_JSON);
	/* An embedded NUL is not accepted in a string. */
	CU_ASSERT_EQUAL(cp_req_parse("{\"v\":1,\"cmd\":\"he\\u0000lp\"}", 27,
				     &r, msg),
			OR_MGMT_E_BAD_JSON);
	cp_req_free(&r);
	/* A raw NUL byte inside the buffer. */
	CU_ASSERT_EQUAL(cp_req_parse("{\"v\":1,\0\"cmd\":\"help\"}", 21, &r,
				     msg),
			OR_MGMT_E_BAD_JSON);
	cp_req_free(&r);
}

static void
test_bad_json_does_not_echo(void)
{
	struct cp_req r;

	/* jansson's own message would quote the offending token. */
	CU_ASSERT_EQUAL(parse("{\"v\":1,\"cmd\":\"optin\",\"number\":"
			      "+15551234567}",
			      &r),
			OR_MGMT_E_BAD_JSON);
	CU_ASSERT_PTR_NULL(strstr(msg, "555"));
	cp_req_free(&r);
	CU_ASSERT_EQUAL(parse("{\"v\":1,\"cmd\":\"optin\",\"15551234567\":1}",
			      &r),
			OR_MGMT_E_BAD_REQUEST);
	CU_ASSERT_PTR_NULL(strstr(msg, "555"));
	cp_req_free(&r);
	CU_ASSERT_EQUAL(parse("{\"v\":1,\"cmd\":\"optin\",\"number\":"
			      "15551234567}",
			      &r),
			OR_MGMT_E_BAD_REQUEST);
	CU_ASSERT_PTR_NULL(strstr(msg, "555"));
	cp_req_free(&r);
}

static void
test_version(void)
{
	struct cp_req r;

	expect("{\"cmd\":\"help\"}", OR_MGMT_E_BAD_REQUEST);
	expect("{\"v\":\"1\",\"cmd\":\"help\"}", OR_MGMT_E_BAD_REQUEST);
	expect("{\"v\":1.0,\"cmd\":\"help\"}", OR_MGMT_E_BAD_REQUEST);
	expect("{\"v\":2,\"cmd\":\"help\"}", OR_MGMT_E_BAD_VERSION);
	expect("{\"v\":0,\"cmd\":\"help\"}", OR_MGMT_E_BAD_VERSION);
	/* The id is echoed even when the version is wrong. */
	CU_ASSERT_EQUAL(parse("{\"v\":9,\"id\":42,\"cmd\":\"help\"}", &r),
			OR_MGMT_E_BAD_VERSION);
	CU_ASSERT_PTR_NOT_NULL_FATAL(r.id);
	CU_ASSERT_EQUAL(json_integer_value(r.id), 42);
	cp_req_free(&r);
}

/* An error about 'v' names the supported version, never the received
 * value (nor its last digits): a client could put anything there, a phone
 * number included. */
static void
test_version_not_quoted(void)
{
	static const struct {
		const char *req, *value;
		enum or_mgmt_err want;
	} cases[] = {
		{ "{\"v\":15550100001,\"cmd\":\"help\"}", "15550100001",
		  OR_MGMT_E_BAD_VERSION },
		{ "{\"v\":-15550100001,\"cmd\":\"help\"}", "15550100001",
		  OR_MGMT_E_BAD_VERSION },
		{ "{\"v\":9223372036854775807,\"cmd\":\"help\"}",
		  "9223372036854775807", OR_MGMT_E_BAD_VERSION },
		{ "{\"v\":\"+15550100001\",\"cmd\":\"help\"}", "15550100001",
		  OR_MGMT_E_BAD_REQUEST },
		{ "{\"v\":15550100001.0,\"cmd\":\"help\"}", "15550100001",
		  OR_MGMT_E_BAD_REQUEST },
		{ "{\"v\":99999999999999999999999,\"cmd\":\"help\"}",
		  "99999999999999999999999", OR_MGMT_E_BAD_JSON },
	};
	struct cp_req r;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		CU_ASSERT_EQUAL(parse(cases[i].req, &r), cases[i].want);
		cp_req_free(&r);
		if (strstr(msg, cases[i].value + 4) != NULL)
			fprintf(stderr, "\n  %s -> \"%s\"\n", cases[i].req,
				msg);
		CU_ASSERT_PTR_NULL(strstr(msg, cases[i].value + 4));
		if (cases[i].want == OR_MGMT_E_BAD_VERSION)
			CU_ASSERT_STRING_EQUAL(msg,
					       "protocol version not supported "
					       "(this daemon speaks 1)");
	}
}

static void
test_command(void)
{
	expect("{\"v\":1}", OR_MGMT_E_BAD_REQUEST);
	expect("{\"v\":1,\"cmd\":7}", OR_MGMT_E_BAD_REQUEST);
	expect("{\"v\":1,\"cmd\":null}", OR_MGMT_E_BAD_REQUEST);
	expect("{\"v\":1,\"cmd\":\"optinx\"}", OR_MGMT_E_UNKNOWN_COMMAND);
	expect("{\"v\":1,\"cmd\":\"\"}", OR_MGMT_E_UNKNOWN_COMMAND);
	expect("{\"v\":1,\"cmd\":\"OPTIN\"}", OR_MGMT_E_UNKNOWN_COMMAND);
	expect("{\"v\":1,\"cmd\":\"none\"}", OR_MGMT_E_UNKNOWN_COMMAND);
	for (unsigned c = OR_MGMT_CMD_NONE + 1; c < OR_MGMT_CMD_COUNT; c++)
		CU_ASSERT_EQUAL(or_mgmt_cmd_parse(or_mgmt_cmd_name(c)), c);
}

static void
test_fields(void)
{
	/* Missing or several subjects. */
	expect("{\"v\":1,\"cmd\":\"optin\"}", OR_MGMT_E_BAD_REQUEST);
	expect("{\"v\":1,\"cmd\":\"status\",\"number\":\"+1555\","
	       "\"token\":\"00\"}",
	       OR_MGMT_E_BAD_REQUEST);
	/* Wrong types. */
	expect("{\"v\":1,\"cmd\":\"optin\",\"number\":[\"+15551234567\"]}",
	       OR_MGMT_E_BAD_REQUEST);
	expect("{\"v\":1,\"cmd\":\"optin\",\"token\":null}",
	       OR_MGMT_E_BAD_REQUEST);
	expect("{\"v\":1,\"cmd\":\"optin\",\"number\":\"+15551234567\","
	       "\"node\":\"1\"}",
	       OR_MGMT_E_BAD_REQUEST);
	expect("{\"v\":1,\"cmd\":\"optin\",\"number\":\"+15551234567\","
	       "\"node\":65536}",
	       OR_MGMT_E_BAD_REQUEST);
	expect("{\"v\":1,\"cmd\":\"optin\",\"number\":\"+15551234567\","
	       "\"node\":-1}",
	       OR_MGMT_E_BAD_REQUEST);
	expect("{\"v\":1,\"cmd\":\"optin\",\"number\":\"+15551234567\","
	       "\"wait\":1}",
	       OR_MGMT_E_BAD_REQUEST);
	expect("{\"v\":1,\"cmd\":\"optin\",\"number\":\"+15551234567\","
	       "\"notice\":\"2\"}",
	       OR_MGMT_E_BAD_REQUEST);
	expect("{\"v\":1,\"cmd\":\"optin\",\"number\":\"+15551234567\","
	       "\"notice\":4294967296}",
	       OR_MGMT_E_BAD_REQUEST);
	expect("{\"v\":1,\"cmd\":\"optin\",\"number\":\"+15551234567\","
	       "\"method\":\"a b\"}",
	       OR_MGMT_E_BAD_REQUEST);
	expect("{\"v\":1,\"cmd\":\"stats\",\"clear\":\"yes\"}",
	       OR_MGMT_E_BAD_REQUEST);
	expect("{\"v\":1,\"id\":{},\"cmd\":\"help\"}", OR_MGMT_E_BAD_REQUEST);
	expect("{\"v\":1,\"id\":\"a b\",\"cmd\":\"help\"}",
	       OR_MGMT_E_BAD_REQUEST);
	/* Fields not allowed for the command, unknown fields. */
	expect("{\"v\":1,\"cmd\":\"optout\",\"number\":\"+15551234567\","
	       "\"node\":1}",
	       OR_MGMT_E_BAD_REQUEST);
	expect("{\"v\":1,\"cmd\":\"help\",\"number\":\"+15551234567\"}",
	       OR_MGMT_E_BAD_REQUEST);
	expect("{\"v\":1,\"cmd\":\"status\",\"token\":\"x\",\"wait\":true}",
	       OR_MGMT_E_BAD_REQUEST);
	expect("{\"v\":1,\"cmd\":\"help\",\"foo\":1}", OR_MGMT_E_BAD_REQUEST);
	/* Overlong subject. */
	char big[300];
	snprintf(big, sizeof(big), "{\"v\":1,\"cmd\":\"optin\",\"number\":"
				   "\"+%0100d\"}", 1);
	expect(big, OR_MGMT_E_BAD_REQUEST);
}

static void
test_import(void)
{
	struct cp_req r;

	CU_ASSERT_EQUAL(parse("{\"v\":1,\"cmd\":\"import\",\"action\":"
			      "\"optout\",\"lines\":[\"+15551234567\",\"x\"],"
			      "\"first_line\":101}",
			      &r),
			OR_MGMT_OK);
	CU_ASSERT_EQUAL(r.optin, 0);
	CU_ASSERT_EQUAL(json_array_size(r.lines), 2);
	CU_ASSERT_EQUAL(r.first_line, 101);
	cp_req_free(&r);
	expect("{\"v\":1,\"cmd\":\"import\",\"action\":\"optin\","
	       "\"lines\":[\"+1\"]}",
	       OR_MGMT_OK);
	expect("{\"v\":1,\"cmd\":\"import\",\"lines\":[\"+1\"]}",
	       OR_MGMT_E_BAD_REQUEST);
	expect("{\"v\":1,\"cmd\":\"import\",\"action\":\"drop\","
	       "\"lines\":[\"+1\"]}",
	       OR_MGMT_E_BAD_REQUEST);
	expect("{\"v\":1,\"cmd\":\"import\",\"action\":\"optin\","
	       "\"lines\":[]}",
	       OR_MGMT_E_BAD_REQUEST);
	expect("{\"v\":1,\"cmd\":\"import\",\"action\":\"optin\","
	       "\"lines\":\"+1\"}",
	       OR_MGMT_E_BAD_REQUEST);
	expect("{\"v\":1,\"cmd\":\"import\",\"action\":\"optin\","
	       "\"lines\":[\"+1\",2]}",
	       OR_MGMT_E_BAD_REQUEST);
	expect("{\"v\":1,\"cmd\":\"import\",\"action\":\"optin\","
	       "\"lines\":[\"+1\"],\"first_line\":0}",
	       OR_MGMT_E_BAD_REQUEST);

	/* One line too many. */
	size_t cap = 32 + (OR_MGMT_IMPORT_MAX_LINES + 1) * 5 + 64, n;
	char *s = malloc(cap);

	CU_ASSERT_PTR_NOT_NULL_FATAL(s);
	n = (size_t)snprintf(s, cap, "{\"v\":1,\"cmd\":\"import\","
				     "\"action\":\"optin\",\"lines\":[");
	for (int i = 0; i <= OR_MGMT_IMPORT_MAX_LINES; i++)
		n += (size_t)snprintf(s + n, cap - n, "%s\"+1\"",
				      i ? "," : "");
	snprintf(s + n, cap - n, "]}");
	expect(s, OR_MGMT_E_BAD_REQUEST);
	free(s);
}

static void
test_oversized(void)
{
	size_t len = OR_MGMT_MAX_LINE + 1;
	char *s = malloc(len + 1);
	struct cp_req r;

	CU_ASSERT_PTR_NOT_NULL_FATAL(s);
	/* A valid request padded with blanks past the limit. */
	memset(s, ' ', len);
	memcpy(s, "{\"v\":1,\"cmd\":\"help\"}", 20);
	s[len] = '\0';
	CU_ASSERT_EQUAL(cp_req_parse(s, len, &r, msg), OR_MGMT_E_LINE_TOO_LONG);
	cp_req_free(&r);
	/* Exactly at the limit is fine. */
	CU_ASSERT_EQUAL(cp_req_parse(s, len - 1, &r, msg), OR_MGMT_OK);
	cp_req_free(&r);
	free(s);
}

static void
test_free_wipes(void)
{
	struct cp_req r;
	char *p;

	CU_ASSERT_EQUAL(parse("{\"v\":1,\"cmd\":\"optin\",\"number\":"
			      "\"+15551234567\"}",
			      &r),
			OR_MGMT_OK);
	/* Keep a reference so the string outlives cp_req_free(). */
	json_t *keep = json_incref(r.subject);

	p = (char *)json_string_value(keep);
	cp_req_free(&r);
	for (size_t i = 0; i < 12; i++)
		CU_ASSERT_EQUAL(p[i], 0);
	json_decref(keep);
}

/* Sender keys: "pubkey" on optin and rekey only (rekey needs it), its
 * shape checked here (decoded by the action); keys, rotate and retire
 * take nothing. */
static void
test_keys_requests(void)
{
	static const char pk[] = "\"pubkey\":\"Ds6KF47dqE3VhvnccYboOohM0uaDojMYOWc8OP52/hM=\"";
	char req[256];
	struct cp_req r;

	snprintf(req, sizeof(req),
		 "{\"v\":1,\"cmd\":\"optin\",\"number\":\"+15551234567\",%s,"
		 "\"wait\":true}", pk);
	CU_ASSERT_EQUAL(parse(req, &r), OR_MGMT_OK);
	CU_ASSERT_PTR_NOT_NULL(r.pubkey);
	CU_ASSERT_STRING_EQUAL(json_string_value(r.pubkey),
			       "Ds6KF47dqE3VhvnccYboOohM0uaDojMYOWc8OP52/hM=");
	cp_req_free(&r);
	CU_ASSERT_EQUAL(parse("{\"v\":1,\"cmd\":\"optin\",\"number\":\"+1555\"}",
			      &r),
			OR_MGMT_OK);
	CU_ASSERT_PTR_NULL(r.pubkey);
	cp_req_free(&r);
	snprintf(req, sizeof(req),
		 "{\"v\":1,\"cmd\":\"rekey\",\"sealed\":\"AAAA\",%s,"
		 "\"method\":\"app\"}", pk);
	CU_ASSERT_EQUAL(parse(req, &r), OR_MGMT_OK);
	CU_ASSERT_EQUAL(r.cmd, OR_MGMT_CMD_REKEY);
	CU_ASSERT_EQUAL(r.subj, CP_SUBJ_SEALED);
	cp_req_free(&r);

	/* rekey needs a pubkey and a subject, takes no wait or node. */
	expect("{\"v\":1,\"cmd\":\"rekey\",\"number\":\"+15551234567\"}",
	       OR_MGMT_E_BAD_REQUEST);
	CU_ASSERT_PTR_NOT_NULL(strstr(msg, "needs 'pubkey'"));
	snprintf(req, sizeof(req), "{\"v\":1,\"cmd\":\"rekey\",%s}", pk);
	expect(req, OR_MGMT_E_BAD_REQUEST);
	snprintf(req, sizeof(req),
		 "{\"v\":1,\"cmd\":\"rekey\",\"number\":\"+1555\",%s,"
		 "\"wait\":true}", pk);
	expect(req, OR_MGMT_E_BAD_REQUEST);
	/* Only optin and rekey take one. */
	snprintf(req, sizeof(req),
		 "{\"v\":1,\"cmd\":\"optout\",\"number\":\"+1555\",%s}", pk);
	expect(req, OR_MGMT_E_BAD_REQUEST);
	snprintf(req, sizeof(req), "{\"v\":1,\"cmd\":\"rotate\",%s}", pk);
	expect(req, OR_MGMT_E_BAD_REQUEST);
	/* Its shape: a string of 1..64 characters. */
	expect("{\"v\":1,\"cmd\":\"optin\",\"number\":\"+1555\","
	       "\"pubkey\":7}",
	       OR_MGMT_E_BAD_REQUEST);
	expect("{\"v\":1,\"cmd\":\"optin\",\"number\":\"+1555\","
	       "\"pubkey\":\"\"}",
	       OR_MGMT_E_BAD_REQUEST);
	snprintf(req, sizeof(req),
		 "{\"v\":1,\"cmd\":\"optin\",\"number\":\"+1555\","
		 "\"pubkey\":\"%065d\"}", 0);
	expect(req, OR_MGMT_E_BAD_REQUEST);
	CU_ASSERT_PTR_NOT_NULL(strstr(msg, "'pubkey'"));
	CU_ASSERT_PTR_NULL(strstr(msg, "00000")); /* not quoted */
	/* The epoch commands take nothing. */
	expect("{\"v\":1,\"cmd\":\"keys\"}", OR_MGMT_OK);
	expect("{\"v\":1,\"id\":3,\"cmd\":\"rotate\"}", OR_MGMT_OK);
	expect("{\"v\":1,\"cmd\":\"retire\"}", OR_MGMT_OK);
	expect("{\"v\":1,\"cmd\":\"retire\",\"wait\":true}",
	       OR_MGMT_E_BAD_REQUEST);
	expect("{\"v\":1,\"cmd\":\"keys\",\"token\":\"00\"}",
	       OR_MGMT_E_BAD_REQUEST);
}

/* ------------------------------------------------- OR_MGMT_CMDS -- */

/* Every entry's handler is a declared cp_act_fn (checked by type, not
 * called: _Generic does not evaluate it, so the actions need not be
 * linked), and cp_act.c's dispatch array has one per command. */
static void
test_table_handlers(void)
{
	unsigned n = 0, entries = 0;

#define T_X_FN(c, name, fn, ...)                                             \
	entries++;                                                           \
	n += _Generic((fn), cp_act_fn: 1, default: 0);
	OR_MGMT_CMDS(T_X_FN)
#undef T_X_FN
	CU_ASSERT_EQUAL(entries, OR_MGMT_CMD_COUNT - 1);
	CU_ASSERT_EQUAL(n, entries);
}

/* What the columns promise each other. */
static void
test_table_consistent(void)
{
	CU_ASSERT_PTR_NULL(or_mgmt_cmd_info(OR_MGMT_CMD_NONE));
	CU_ASSERT_PTR_NULL(or_mgmt_cmd_info(OR_MGMT_CMD_COUNT));
	for (unsigned c = OR_MGMT_CMD_NONE + 1; c < OR_MGMT_CMD_COUNT; c++) {
		const struct or_mgmt_cmd_info *i = or_mgmt_cmd_info(c);

		CU_ASSERT_PTR_NOT_NULL_FATAL(i);
		CU_ASSERT(strlen(i->name) > 0 && strlen(i->help) > 0);
		CU_ASSERT(cp_req_name_ok(i->name));
		/* needs within fields; nothing beyond the field list. */
		CU_ASSERT_EQUAL(i->needs & ~i->fields, 0);
		CU_ASSERT_EQUAL(i->fields >> OR_MGMT_FB_COUNT, 0);
		/* A subject is all three spellings or none. */
		CU_ASSERT((i->fields & OR_MGMT_F_SUBJ) == 0 ||
			  (i->fields & OR_MGMT_F_SUBJ) == OR_MGMT_F_SUBJ);
		/* Changes are completed by their commit, and only they. */
		CU_ASSERT_EQUAL(i->changes != OR_MGMT_CH_NONE,
				i->done == OR_MGMT_DONE_COMMIT);
		CU_ASSERT_EQUAL(i->changes == OR_MGMT_CH_LINES,
				(i->fields & OR_MGMT_F_LINES) != 0);
		CU_ASSERT(i->changes != OR_MGMT_CH_ONE_KEY ||
			  ((i->fields & OR_MGMT_F_PUBKEY) &&
			   !(i->needs & OR_MGMT_F_PUBKEY)));
		/* "wait" waits for a commit's ack. */
		CU_ASSERT(!(i->fields & OR_MGMT_F_WAIT) ||
			  i->done == OR_MGMT_DONE_COMMIT);
		/* "after_seq" is what a done SEQ waits for. */
		CU_ASSERT_EQUAL((i->fields & OR_MGMT_F_AFTER_SEQ) != 0,
				i->done == OR_MGMT_DONE_SEQ);
		/* Read-only: no change of any kind, no subject (per-subject
		 * data is not for read-only clients). */
		if (i->readonly) {
			CU_ASSERT_EQUAL(i->changes, OR_MGMT_CH_NONE);
			CU_ASSERT(i->done == OR_MGMT_DONE_NOW ||
				  i->done == OR_MGMT_DONE_DATAPLANE);
			CU_ASSERT_EQUAL(i->fields & OR_MGMT_F_SUBJ, 0);
		}
	}
	/* The access decided here, command by command. */
	CU_ASSERT(or_mgmt_cmd_info(OR_MGMT_CMD_STATS)->readonly);
	CU_ASSERT(or_mgmt_cmd_info(OR_MGMT_CMD_KEYS)->readonly);
	CU_ASSERT(!or_mgmt_cmd_info(OR_MGMT_CMD_STATUS)->readonly);
	CU_ASSERT(!or_mgmt_cmd_info(OR_MGMT_CMD_AUDIT)->readonly);
	CU_ASSERT(!or_mgmt_cmd_info(OR_MGMT_CMD_ROTATE)->readonly);
	CU_ASSERT_EQUAL(OR_MGMT_F_RW, OR_MGMT_F_CLEAR | OR_MGMT_F_FORGET);
	CU_ASSERT_STRING_EQUAL(or_mgmt_field_name(OR_MGMT_F_FIRST_LINE),
			       "first_line");
	CU_ASSERT_STRING_EQUAL(or_mgmt_field_name(OR_MGMT_F_SUBJ), "");
}

/* The parser takes exactly the fields an entry lists and demands the
 * ones it needs, for every command and every field. */
static void
test_table_fields(void)
{
	static const char *const value[OR_MGMT_FB_COUNT] = {
		[OR_MGMT_FB_NUMBER] = "\"+15551234567\"",
		[OR_MGMT_FB_SEALED] = "\"AAAA\"",
		[OR_MGMT_FB_TOKEN] = "\"00112233445566778899aabbccddeeff\"",
		[OR_MGMT_FB_NODE] = "3",
		[OR_MGMT_FB_NOTICE] = "2",
		[OR_MGMT_FB_METHOD] = "\"app\"",
		[OR_MGMT_FB_WAIT] = "true",
		[OR_MGMT_FB_CLEAR] = "true",
		[OR_MGMT_FB_ACTION] = "\"optin\"",
		[OR_MGMT_FB_LINES] = "[\"+15551234567\"]",
		[OR_MGMT_FB_FIRST_LINE] = "5",
		[OR_MGMT_FB_PUBKEY] =
			"\"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\"",
		[OR_MGMT_FB_FORGET] = "\"a2\"",
		[OR_MGMT_FB_AFTER_SEQ] = "7",
	};

	for (unsigned c = OR_MGMT_CMD_NONE + 1; c < OR_MGMT_CMD_COUNT; c++) {
		const struct or_mgmt_cmd_info *i = or_mgmt_cmd_info(c);
		/* What it needs (the subject as a token). */
		unsigned base = (i->needs & ~OR_MGMT_F_SUBJ) |
				(i->needs & OR_MGMT_F_TOKEN);
		char req[512];

		for (int extra = -1; extra < OR_MGMT_FB_COUNT; extra++) {
			unsigned f = base, want_ok;
			struct cp_req r;
			enum or_mgmt_err e;
			size_t off;

			if (extra >= 0) {
				f |= 1u << extra;
				/* Two subjects are refused for that. */
				if ((f & OR_MGMT_F_SUBJ) & ((f & OR_MGMT_F_SUBJ) - 1))
					continue;
			}
			want_ok = (f & ~i->fields) == 0;
			off = (size_t)snprintf(req, sizeof(req),
					       "{\"v\":1,\"cmd\":\"%s\"",
					       i->name);
			for (unsigned b = 0; b < OR_MGMT_FB_COUNT; b++)
				if (f & (1u << b))
					off += (size_t)snprintf(
						req + off, sizeof(req) - off,
						",\"%s\":%s",
						or_mgmt_field_name(1u << b),
						value[b]);
			snprintf(req + off, sizeof(req) - off, "}");
			e = parse(req, &r);
			if ((e == OR_MGMT_OK) != want_ok)
				fprintf(stderr, "\n  %s -> %s (%s)\n", req,
					or_mgmt_err_code(e), msg);
			CU_ASSERT_EQUAL(e == OR_MGMT_OK, want_ok);
			if (e == OR_MGMT_OK)
				CU_ASSERT_EQUAL(r.fields, f);
			cp_req_free(&r);
		}
		/* Each needed field left out. */
		for (unsigned b = 0; b < OR_MGMT_FB_COUNT; b++) {
			unsigned f = base & ~(1u << b);
			struct cp_req r;
			size_t off;

			if (!(base & (1u << b)))
				continue;
			off = (size_t)snprintf(req, sizeof(req),
					       "{\"v\":1,\"cmd\":\"%s\"",
					       i->name);
			for (unsigned k = 0; k < OR_MGMT_FB_COUNT; k++)
				if (f & (1u << k))
					off += (size_t)snprintf(
						req + off, sizeof(req) - off,
						",\"%s\":%s",
						or_mgmt_field_name(1u << k),
						value[k]);
			snprintf(req + off, sizeof(req) - off, "}");
			CU_ASSERT_EQUAL(parse(req, &r), OR_MGMT_E_BAD_REQUEST);
			CU_ASSERT_PTR_NOT_NULL(strstr(msg, "needs"));
			cp_req_free(&r);
		}
	}
	/* The message names what is needed. */
	expect("{\"v\":1,\"cmd\":\"import\",\"action\":\"optin\"}",
	       OR_MGMT_E_BAD_REQUEST);
	CU_ASSERT_STRING_EQUAL(msg, "command 'import' needs 'action' and "
				    "'lines'");
}

/* fleet's "forget": an appliance name as [control] appliance_name
 * takes it, anything else refused before any store is asked. */
static void
test_forget_field(void)
{
	static const char *const bad[] = {
		"\"\"", "\"a b\"", "\"a:b\"", "\"a/b\"", "5", "null",
		"\"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\"",
	};
	char req[160];
	struct cp_req r;

	for (unsigned i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		snprintf(req, sizeof(req),
			 "{\"v\":1,\"cmd\":\"fleet\",\"forget\":%s}", bad[i]);
		CU_ASSERT_EQUAL(parse(req, &r), OR_MGMT_E_BAD_REQUEST);
		cp_req_free(&r);
	}
	CU_ASSERT_EQUAL(parse("{\"v\":1,\"cmd\":\"fleet\",\"forget\":"
			      "\"site-a.b_1\"}", &r), OR_MGMT_OK);
	CU_ASSERT_STRING_EQUAL(r.forget, "site-a.b_1");
	cp_req_free(&r);
	CU_ASSERT_EQUAL(parse("{\"v\":1,\"cmd\":\"fleet\"}", &r), OR_MGMT_OK);
	CU_ASSERT_PTR_NULL(r.forget);
	cp_req_free(&r);
}

/* status's "after_seq": a positive integer (a change's seq); whether a
 * request may wait (and so counts against max_pending) follows it. */
static void
test_after_seq_field(void)
{
	static const char *const bad[] = {
		"0", "-1", "\"5\"", "5.0", "true", "null",
		"99999999999999999999999",
	};
	static const char *const st = "{\"v\":1,\"cmd\":\"status\","
				      "\"token\":\"000102030405060708090a0b0c0d0e0f\"";
	char req[200];
	struct cp_req r;

	for (unsigned i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		snprintf(req, sizeof(req), "%s,\"after_seq\":%s}", st, bad[i]);
		CU_ASSERT_NOT_EQUAL(parse(req, &r), OR_MGMT_OK);
		cp_req_free(&r);
	}
	snprintf(req, sizeof(req), "%s,\"after_seq\":9223372036854775807}", st);
	CU_ASSERT_EQUAL(parse(req, &r), OR_MGMT_OK);
	CU_ASSERT_EQUAL(r.after_seq, 9223372036854775807ull);
	CU_ASSERT(cp_req_may_wait(&r));
	cp_req_free(&r);
	snprintf(req, sizeof(req), "%s}", st);
	CU_ASSERT_EQUAL(parse(req, &r), OR_MGMT_OK);
	CU_ASSERT_EQUAL(r.after_seq, 0);
	CU_ASSERT(!cp_req_may_wait(&r));
	cp_req_free(&r);
	/* Only status takes it. */
	CU_ASSERT_EQUAL(parse("{\"v\":1,\"cmd\":\"audit\",\"after_seq\":3}",
			      &r), OR_MGMT_E_BAD_REQUEST);
	cp_req_free(&r);
	/* An audit waits for the whole chain's verification only. */
	CU_ASSERT_EQUAL(parse("{\"v\":1,\"cmd\":\"audit\"}", &r), OR_MGMT_OK);
	CU_ASSERT(cp_req_may_wait(&r));
	cp_req_free(&r);
	snprintf(req, sizeof(req), "{\"v\":1,\"cmd\":\"audit\",\"token\":"
		 "\"000102030405060708090a0b0c0d0e0f\"}");
	CU_ASSERT_EQUAL(parse(req, &r), OR_MGMT_OK);
	CU_ASSERT(!cp_req_may_wait(&r));
	cp_req_free(&r);
	CU_ASSERT_EQUAL(parse("{\"v\":1,\"cmd\":\"optout\",\"token\":"
			      "\"000102030405060708090a0b0c0d0e0f\"}", &r),
			OR_MGMT_OK);
	CU_ASSERT(cp_req_may_wait(&r));
	cp_req_free(&r);
	CU_ASSERT_EQUAL(parse("{\"v\":1,\"cmd\":\"version\"}", &r),
			OR_MGMT_OK);
	CU_ASSERT(!cp_req_may_wait(&r));
	cp_req_free(&r);
}

static CU_TestInfo mgmt_tests[] = {
	{ "valid requests", test_valid_optin },
	{ "fleet's forget: an appliance name", test_forget_field },
	{ "status's after_seq, and which requests may wait",
	  test_after_seq_field },
	{ "garbage", test_garbage },
	{ "errors never quote input", test_bad_json_does_not_echo },
	{ "protocol version", test_version },
	{ "version errors do not quote v", test_version_not_quoted },
	{ "command", test_command },
	{ "fields and types", test_fields },
	{ "import", test_import },
	{ "oversized", test_oversized },
	{ "free wipes subjects", test_free_wipes },
	{ "sender key requests", test_keys_requests },
	{ "command table: handlers", test_table_handlers },
	{ "command table: columns agree", test_table_consistent },
	{ "command table: fields and needs", test_table_fields },
	CU_TEST_INFO_NULL,
};

OR_TEST_SUITE("mgmt", NULL, NULL, mgmt_tests)
