/* SPDX-License-Identifier: BSD-3-Clause
 *
 * optroute-exporter's pure parts, from its library (control/exporter/,
 * all but exp_main.c): Prometheus text rendering of a "stats" reply
 * (exp_text.c), its configuration (exp_cfg.c), and the listen address
 * (common/listen/listen.c).
 *
 * Every rendering is also run through an independent checker of the text
 * exposition format 0.0.4: HELP then TYPE once per family, before its
 * samples, all samples of a family together, counters ending in _total,
 * label syntax and escapes, values that parse as numbers.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <CUnit/CUnit.h>

#include <errno.h>
#include <netinet/in.h>

#include "optroute/mgmt.h"

#include "control/exporter/exp.h"

#include "or_test.h"
#include "test_text.h"

/* ---------------------------------------------------------- checker -- */

#define MT_FAMS 512

struct mt_check {
	char fams[MT_FAMS][128];
	unsigned n;
	char cur[128];
	char cur_type[16];
	int samples;
};

static int mt_quiet; /* test_checker: failures are expected */

static int
mt_fail(const char *why, const char *line)
{
	if (!mt_quiet)
		fprintf(stderr, "\n  exposition: %s: %.160s\n", why, line);
	return -1;
}

static int
mt_name_char(char c, int first)
{
	return isalpha((unsigned char)c) || c == '_' || c == ':' ||
	       (!first && isdigit((unsigned char)c));
}

/* Labels {k="v",...}: returns the position after '}' or NULL. */
static const char *
mt_labels(const char *p)
{
	if (*p != '{')
		return p;
	p++;
	for (;;) {
		if (!mt_name_char(*p, 1))
			return NULL;
		while (mt_name_char(*p, 0))
			p++;
		if (*p++ != '=' || *p++ != '"')
			return NULL;
		while (*p != '"') {
			if (*p == '\0' || *p == '\n')
				return NULL;
			if (*p == '\\') {
				p++;
				if (*p != '\\' && *p != '"' && *p != 'n')
					return NULL;
			}
			p++;
		}
		p++;
		if (*p == '}')
			return p + 1;
		if (*p++ != ',')
			return NULL;
	}
}

static int
mt_line(struct mt_check *c, const char *line)
{
	char name[128], type[16];
	const char *p;
	size_t n;
	char *end;

	if (strncmp(line, "# HELP ", 7) == 0) {
		if (sscanf(line + 7, "%127s", name) != 1)
			return mt_fail("HELP without a name", line);
		for (unsigned i = 0; i < c->n; i++)
			if (strcmp(c->fams[i], name) == 0)
				return mt_fail("family written twice", line);
		if (c->n == MT_FAMS)
			return mt_fail("too many families", line);
		snprintf(c->fams[c->n++], sizeof(c->fams[0]), "%s", name);
		snprintf(c->cur, sizeof(c->cur), "%s", name);
		c->cur_type[0] = '\0';
		c->samples = 0;
		return 0;
	}
	if (strncmp(line, "# TYPE ", 7) == 0) {
		if (sscanf(line + 7, "%127s %15s", name, type) != 2 ||
		    strcmp(name, c->cur) != 0 || c->cur_type[0] != '\0')
			return mt_fail("TYPE not right after its HELP", line);
		if (strcmp(type, "counter") != 0 &&
		    strcmp(type, "gauge") != 0 && strcmp(type, "untyped") != 0)
			return mt_fail("unknown type", line);
		n = strlen(name);
		if (strcmp(type, "counter") == 0 &&
		    (n < 6 || strcmp(name + n - 6, "_total") != 0))
			return mt_fail("counter not ending in _total", line);
		if (strncmp(name, "optroute_", 9) != 0)
			return mt_fail("name without optroute_", line);
		snprintf(c->cur_type, sizeof(c->cur_type), "%s", type);
		return 0;
	}
	if (line[0] == '#')
		return mt_fail("unexpected comment", line);
	p = line;
	if (!mt_name_char(*p, 1))
		return mt_fail("bad metric name", line);
	while (mt_name_char(*p, 0))
		p++;
	n = (size_t)(p - line);
	if (n != strlen(c->cur) || strncmp(line, c->cur, n) != 0 ||
	    c->cur_type[0] == '\0')
		return mt_fail("sample outside its family", line);
	p = mt_labels(p);
	if (p == NULL || *p != ' ')
		return mt_fail("bad labels", line);
	strtod(p + 1, &end);
	if (end == p + 1 || *end != '\0')
		return mt_fail("bad value", line);
	c->samples++;
	return 0;
}

/* 0 if text is well-formed exposition with every family non-empty. */
static int
mt_check_text(const char *text)
{
	struct mt_check *c = calloc(1, sizeof(*c));
	char *copy = strdup(text), *save = NULL, *line;
	int rc = 0, prev_samples = 1;

	if (c == NULL || copy == NULL) {
		free(c);
		free(copy);
		return -1;
	}
	if (text[0] != '\0' && text[strlen(text) - 1] != '\n')
		rc = mt_fail("no final newline", text);
	for (line = strtok_r(copy, "\n", &save); line != NULL && rc == 0;
	     line = strtok_r(NULL, "\n", &save)) {
		if (strncmp(line, "# HELP ", 7) == 0 && prev_samples == 0)
			rc = mt_fail("family without samples", c->cur);
		if (rc == 0)
			rc = mt_line(c, line);
		prev_samples = c->samples;
	}
	if (rc == 0 && prev_samples == 0)
		rc = mt_fail("family without samples", c->cur);
	free(copy);
	free(c);
	return rc;
}

/* ----------------------------------------------------------- helpers -- */

static const struct exp_meta mt_meta = {
	.version = "9.8.7",
	.mgmt_protocol = 1,
	.chan_protocol = 1,
	.age_ms = 1234,
	.fetches = 5,
	.fetch_failures = 2,
	.scrapes = 7,
};

/* Renders the reply given as JSON text (NULL: no reply yet). */
static char *
mt_render(const char *json)
{
	json_t *stats = NULL;
	char *out = NULL;
	size_t len = 0;
	int rc;

	if (json != NULL) {
		json_error_t e;

		stats = json_loads(json, 0, &e);
		CU_ASSERT_PTR_NOT_NULL_FATAL(stats);
	}
	rc = exp_render(stats, &mt_meta, &out, &len);
	json_decref(stats);
	CU_ASSERT_EQUAL_FATAL(rc, 0);
	CU_ASSERT_PTR_NOT_NULL_FATAL(out);
	CU_ASSERT_EQUAL(strlen(out), len);
	CU_ASSERT_EQUAL(mt_check_text(out), 0);
	return out;
}

#define MT_HAS(text, line)                                                   \
	do {                                                                 \
		int has_ = tt_has_line(text, line);                               \
		if (!has_)                                                   \
			fprintf(stderr, "\n  missing line: %s\n", line);    \
		CU_ASSERT(has_);                                             \
	} while (0)

/* A reply as optroute-control sends it, dataplane counters included,
 * plus names the renderer does not know and a hostile port name. */
static const char *mt_reply =
	"{\"v\":1,\"id\":3,\"ok\":true,"
	"\"control\":{\"requests\":42,\"replies_error\":3,\"optins\":5,"
	"\"optouts\":2,\"erases\":1,\"import_requests\":0,"
	"\"import_lines\":0,\"import_errors\":0,\"commits\":8,"
	"\"commit_changes\":8,\"commit_max\":1,\"commit_us_total\":1234567,"
	"\"commit_us_max\":2500,\"commit_failures\":0,\"waits\":4,"
	"\"wait_timeouts\":1,\"clients\":9,\"clients_refused\":0,"
	"\"clients_timed_out\":0,\"lines_too_long\":0,"
	"\"clients_connected\":2,\"pending\":0,\"uptime_s\":77,"
	"\"requests_by_command\":{\"optin\":5,\"stats\":30}},"
	"\"store\":{\"entries\":6,\"opted_in\":4,\"opted_out\":2,"
	"\"last_seq\":8,\"audit_entries\":8,\"file_bytes\":65536,"
	"\"map_bytes\":1073741824},"
	"\"channel\":{\"connected\":true,\"syncing\":false,"
	"\"socket\":\"/run/secret-path/dp.sock\",\"committed_seq\":8,"
	"\"sent_seq\":8,\"acked_seq\":7,\"lag\":1,\"connects\":1,"
	"\"disconnects\":0,\"resyncs\":1,\"resync_entries\":3,"
	"\"resync_ms\":1500,\"generation\":1,\"batches\":5,\"ops\":5,"
	"\"overflows\":0,\"errors\":0,\"workers\":2},"
	"\"dataplane\":{\"table.entries\":6,\"table.capacity\":64,"
	"\"table.bytes\":4096,\"table.pending\":0,\"table.generation\":2,"
	"\"table.grows\":1,\"table.replaces\":1,\"table.moves\":3,"
	"\"table.alt_entries\":1,\"table.building\":0,"
	"\"chan.connected\":1,\"chan.batches\":5,\"chan.acked_seq\":9,"
	"\"rx\":20,\"tx\":15,\"delivered\":10,\"bounced\":4,\"over_budget\":2,"
	"\"arp_replies\":1,\"drop_sender_not_opted_in\":3,"
	"\"drop_bad_magic\":2,\"dropped\":5,"
	"\"port.client.rx\":20,\"port.client.delivered\":10,"
	"\"port.client.bounced\":4,\"port.client.dropped\":5,"
	"\"port.client.over_budget\":2,"
	"\"port.client.tx\":4,\"port.delivery.tx\":11,"
	"\"port.client.drop_sender_not_opted_in\":3,"
	"\"worker.1.rx\":12,\"worker.1.drop_bad_magic\":2,"
	"\"worker.1.busy_polls\":3,\"worker.1.idle_polls\":40,"
	"\"worker.1.busy_cycles\":9000,\"worker.1.idle_cycles\":1000,"
	"\"tsc_hz\":2600000000,"
	"\"port.a\\\"b\\\\c\\nd.rx\":1,"
	"\"table.new_thing\":5,\"shiny\":6,\"port.nodot\":7,"
	"\"mystery.x.y\":8}}";

/* ------------------------------------------------------------- tests -- */

static void
test_render_full(void)
{
	char *t = mt_render(mt_reply);

	MT_HAS(t, "optroute_build_info{version=\"9.8.7\",mgmt_protocol=\"1\","
		  "channel_protocol=\"1\"} 1");
	MT_HAS(t, "optroute_metrics_scrapes_total 7");
	MT_HAS(t, "optroute_metrics_fetches_total 5");
	MT_HAS(t, "optroute_metrics_fetch_failures_total 2");
	MT_HAS(t, "optroute_metrics_age_seconds 1.234");
	MT_HAS(t, "optroute_control_up 1");
	/* control */
	MT_HAS(t, "optroute_control_requests_total 42");
	MT_HAS(t, "optroute_control_errors_total 3");
	MT_HAS(t, "optroute_control_changes_total{action=\"optin\"} 5");
	MT_HAS(t, "optroute_control_changes_total{action=\"optout\"} 2");
	MT_HAS(t, "optroute_control_changes_total{action=\"erase\"} 1");
	MT_HAS(t, "optroute_control_command_requests_total"
		  "{command=\"stats\"} 30");
	MT_HAS(t, "optroute_control_waits_total 4");
	MT_HAS(t, "optroute_control_clients_connected 2");
	MT_HAS(t, "optroute_control_uptime_seconds 77");
	/* store, with exact decimal seconds */
	MT_HAS(t, "optroute_store_entries 6");
	MT_HAS(t, "optroute_store_opted_in_entries 4");
	MT_HAS(t, "optroute_store_opted_out_entries 2");
	MT_HAS(t, "optroute_store_last_seq 8");
	MT_HAS(t, "optroute_store_file_bytes 65536");
	MT_HAS(t, "optroute_store_commits_total 8");
	MT_HAS(t, "optroute_store_commit_changes_total 8");
	MT_HAS(t, "optroute_store_commit_seconds_total 1.234567");
	MT_HAS(t, "optroute_store_commit_max_seconds 0.002500");
	/* channel: booleans as 0/1, ms as seconds */
	MT_HAS(t, "optroute_channel_connected 1");
	MT_HAS(t, "optroute_channel_syncing 0");
	MT_HAS(t, "optroute_channel_acked_seq 7");
	MT_HAS(t, "optroute_channel_committed_seq 8");
	MT_HAS(t, "optroute_channel_lag 1");
	MT_HAS(t, "optroute_channel_last_resync_seconds 1.500");
	MT_HAS(t, "optroute_channel_dataplane_workers 2");
	CU_ASSERT_PTR_NULL(strstr(t, "secret-path")); /* strings not copied */
	/* dataplane */
	MT_HAS(t, "optroute_dataplane_up 1");
	MT_HAS(t, "optroute_dataplane_rx_frames_total 20");
	MT_HAS(t, "optroute_dataplane_delivered_total 10");
	MT_HAS(t, "optroute_dataplane_bounced_total 4");
	MT_HAS(t, "optroute_dataplane_over_budget_total 2");
	MT_HAS(t, "optroute_dataplane_arp_replies_total 1");
	MT_HAS(t, "optroute_dataplane_dropped_total 5");
	MT_HAS(t, "optroute_dataplane_drops_total"
		  "{reason=\"sender_not_opted_in\"} 3");
	MT_HAS(t, "optroute_dataplane_drops_total{reason=\"bad_magic\"} 2");
	MT_HAS(t, "optroute_worker_busy_polls_total{worker=\"1\"} 3");
	MT_HAS(t, "optroute_worker_idle_polls_total{worker=\"1\"} 40");
	MT_HAS(t, "optroute_worker_busy_cycles_total{worker=\"1\"} 9000");
	MT_HAS(t, "optroute_worker_idle_cycles_total{worker=\"1\"} 1000");
	MT_HAS(t, "optroute_dataplane_tsc_hz 2600000000");
	MT_HAS(t, "optroute_port_rx_frames_total{port=\"client\"} 20");
	MT_HAS(t, "optroute_port_tx_frames_total{port=\"client\"} 4");
	MT_HAS(t, "optroute_port_tx_frames_total{port=\"delivery\"} 11");
	MT_HAS(t, "optroute_port_delivered_total{port=\"client\"} 10");
	MT_HAS(t, "optroute_port_dropped_total{port=\"client\"} 5");
	MT_HAS(t, "optroute_port_over_budget_total{port=\"client\"} 2");
	MT_HAS(t, "optroute_port_drops_total"
		  "{port=\"client\",reason=\"sender_not_opted_in\"} 3");
	MT_HAS(t, "optroute_worker_rx_frames_total{worker=\"1\"} 12");
	MT_HAS(t, "optroute_worker_drops_total"
		  "{worker=\"1\",reason=\"bad_magic\"} 2");
	MT_HAS(t, "optroute_table_entries 6");
	MT_HAS(t, "optroute_table_capacity 64");
	MT_HAS(t, "optroute_table_load 0.093750");
	MT_HAS(t, "optroute_table_grows_total 1");
	MT_HAS(t, "optroute_table_moves_total 3");
	MT_HAS(t, "optroute_table_alt_entries 1");
	MT_HAS(t, "optroute_updater_connected 1");
	MT_HAS(t, "optroute_updater_batches_total 5");
	MT_HAS(t, "optroute_updater_acked_seq 9");
	/* escaped label value: a"b\c<newline>d */
	MT_HAS(t, "optroute_port_rx_frames_total{port=\"a\\\"b\\\\c\\nd\"} 1");
	/* unknown names are kept under their own name */
	MT_HAS(t, "optroute_dataplane_stat{name=\"table.new_thing\"} 5");
	MT_HAS(t, "optroute_dataplane_stat{name=\"shiny\"} 6");
	MT_HAS(t, "optroute_dataplane_stat{name=\"port.nodot\"} 7");
	MT_HAS(t, "optroute_dataplane_stat{name=\"mystery.x.y\"} 8");
	free(t);
}

static void
test_render_no_dataplane(void)
{
	char *t = mt_render(
		"{\"ok\":true,\"control\":{\"requests\":1},"
		"\"store\":{\"entries\":0},"
		"\"channel\":{\"connected\":false,\"lag\":0},"
		"\"dataplane\":null}");

	MT_HAS(t, "optroute_dataplane_up 0");
	MT_HAS(t, "optroute_channel_connected 0");
	MT_HAS(t, "optroute_control_requests_total 1");
	CU_ASSERT_PTR_NULL(strstr(t, "optroute_table_"));
	CU_ASSERT_PTR_NULL(strstr(t, "optroute_port_"));
	CU_ASSERT_PTR_NULL(strstr(t, "optroute_updater_"));
	/* Fields absent from the reply are left out, not invented as 0. */
	CU_ASSERT_PTR_NULL(strstr(t, "optroute_control_errors_total"));
	free(t);
}

/* A fleet: the backend, the head and each appliance by name (a hostile
 * name escaped); without one the backend is lmdb and no fleet family. */
static void
test_render_fleet(void)
{
	char *t = mt_render(
		"{\"ok\":true,\"store\":{\"entries\":3},"
		"\"fleet\":{\"store\":\"postgresql\",\"connected\":true,"
		"\"head_seq\":812,\"positions_age_ms\":40,"
		"\"local_unfolded\":4096,\"folds\":7,\"fold_failures\":1,"
		"\"appliances\":["
		"{\"name\":\"a1\",\"id\":1,\"self\":true,\"state\":\"live\","
		"\"applied_seq\":812,\"enforced_seq\":812,\"lag\":0,"
		"\"report_age_ms\":200},"
		"{\"name\":\"a\\\"3\",\"id\":3,\"self\":false,"
		"\"state\":\"silent\",\"applied_seq\":790,"
		"\"enforced_seq\":790,\"lag\":22,\"report_age_ms\":12000}]},"
		"\"dataplane\":null}");

	MT_HAS(t, "optroute_store_backend_info{backend=\"postgresql\"} 1");
	MT_HAS(t, "optroute_fleet_connected 1");
	MT_HAS(t, "optroute_fleet_head_seq 812");
	MT_HAS(t, "optroute_fleet_local_unfolded 4096");
	MT_HAS(t, "optroute_fleet_folds_total 7");
	MT_HAS(t, "optroute_fleet_fold_failures_total 1");
	MT_HAS(t, "optroute_fleet_appliance_live{appliance=\"a1\"} 1");
	MT_HAS(t, "optroute_fleet_appliance_live{appliance=\"a\\\"3\"} 0");
	MT_HAS(t, "optroute_fleet_appliance_lag{appliance=\"a\\\"3\"} 22");
	MT_HAS(t, "optroute_fleet_appliance_enforced_seq{appliance=\"a1\"} 812");
	MT_HAS(t, "optroute_fleet_appliance_report_age_seconds{appliance=\"a\\\"3\"} 12.000");
	free(t);
	t = mt_render("{\"ok\":true,\"store\":{\"entries\":3},"
		      "\"dataplane\":null}");
	MT_HAS(t, "optroute_store_backend_info{backend=\"lmdb\"} 1");
	CU_ASSERT_PTR_NULL(strstr(t, "optroute_fleet_"));
	free(t);
}

static void
test_render_nothing_yet(void)
{
	char *t = mt_render(NULL);

	MT_HAS(t, "optroute_dataplane_up 0");
	MT_HAS(t, "optroute_metrics_scrapes_total 7");
	MT_HAS(t, "optroute_control_up 0");
	CU_ASSERT_PTR_NULL(strstr(t, "optroute_metrics_age_seconds"));
	CU_ASSERT_PTR_NULL(strstr(t, "optroute_control_requests"));
	CU_ASSERT_PTR_NULL(strstr(t, "optroute_store_"));
	free(t);
}

static void
test_render_odd_values(void)
{
	/* Negative, string, object and null figures are skipped; a real is
	 * truncated; an empty dataplane object is up with no series. */
	char *t = mt_render(
		"{\"control\":{\"requests\":-1,\"replies_error\":\"x\","
		"\"optins\":{},\"optouts\":null,\"waits\":2.9},"
		"\"dataplane\":{}}");

	CU_ASSERT_PTR_NULL(strstr(t, "optroute_control_requests_total"));
	CU_ASSERT_PTR_NULL(strstr(t, "optroute_control_errors_total"));
	CU_ASSERT_PTR_NULL(strstr(t, "optroute_control_changes_total"));
	MT_HAS(t, "optroute_control_waits_total 2");
	MT_HAS(t, "optroute_dataplane_up 1");
	free(t);
}

/* The checker itself must catch what it is there for. */
static void
test_checker(void)
{
	mt_quiet = 1;
	CU_ASSERT_EQUAL(mt_check_text("# HELP optroute_a_total x\n"
				      "# TYPE optroute_a_total counter\n"
				      "optroute_a_total{l=\"a\\\"b\"} 1\n"),
			0);
	CU_ASSERT_NOT_EQUAL(mt_check_text("# HELP optroute_a x\n"
					  "# TYPE optroute_a counter\n"
					  "optroute_a 1\n"), 0);
	CU_ASSERT_NOT_EQUAL(mt_check_text("# HELP optroute_a x\n"
					  "# TYPE optroute_a gauge\n"
					  "optroute_b 1\n"), 0);
	CU_ASSERT_NOT_EQUAL(mt_check_text("# HELP optroute_a x\n"
					  "# TYPE optroute_a gauge\n"
					  "optroute_a{l=\"a\"b\"} 1\n"), 0);
	CU_ASSERT_NOT_EQUAL(mt_check_text("# HELP optroute_a x\n"
					  "# TYPE optroute_a gauge\n"
					  "optroute_a 1\n"
					  "# HELP optroute_a x\n"
					  "# TYPE optroute_a gauge\n"
					  "optroute_a 2\n"), 0);
	CU_ASSERT_NOT_EQUAL(mt_check_text("# HELP optroute_a x\n"
					  "# TYPE optroute_a gauge\n"
					  "optroute_a one\n"), 0);
	CU_ASSERT_NOT_EQUAL(mt_check_text("# HELP optroute_a x\n"
					  "# TYPE optroute_a gauge\n"), 0);
	mt_quiet = 0;
}

static void
mt_listen_ok(const char *s, int family, const char *want)
{
	struct sockaddr_storage ss;
	char buf[OR_LISTEN_STR_LEN];
	socklen_t len = 0;
	int rc = or_listen_parse(s, &ss, &len);

	if (rc != 0)
		fprintf(stderr, "\n  refused: %s\n", s);
	CU_ASSERT_EQUAL_FATAL(rc, 0);
	CU_ASSERT_EQUAL(ss.ss_family, family);
	CU_ASSERT_EQUAL(len, family == AF_INET ? sizeof(struct sockaddr_in)
					       : sizeof(struct sockaddr_in6));
	or_listen_str(&ss, buf);
	CU_ASSERT_STRING_EQUAL(buf, want);
}

static void
test_listen(void)
{
	static const char *bad[] = {
		"", "abc", ":", "127.0.0.1:", "127.0.0.1:0", ":9140",
		"127.0.0.1:65536", "127.0.0.1:999999", "::1:9140",
		"[::1]9140", "[::1]:", "[]:9140", "[::1:9140", "localhost:9140",
		"127.1:9140", "1.2.3.4:+9", "1.2.3.4: 9", "9140x", "0",
		"1.2.3.4:9140:1", "[1.2.3.4]:80", "01.2.3.4:80", "-1",
	};

	mt_listen_ok("9140", AF_INET, "127.0.0.1:9140");
	mt_listen_ok("127.0.0.1:9140", AF_INET, "127.0.0.1:9140");
	mt_listen_ok("0.0.0.0:1", AF_INET, "0.0.0.0:1");
	mt_listen_ok("192.0.2.7:65535", AF_INET, "192.0.2.7:65535");
	mt_listen_ok("[::1]:9140", AF_INET6, "[::1]:9140");
	mt_listen_ok("[2001:db8::5]:80", AF_INET6, "[2001:db8::5]:80");
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct sockaddr_storage ss;
		socklen_t len;
		int rc = or_listen_parse(bad[i], &ss, &len);

		if (rc != -EINVAL)
			fprintf(stderr, "\n  accepted: '%s'\n", bad[i]);
		CU_ASSERT_EQUAL(rc, -EINVAL);
	}
}

static int
mt_loop(const char *s)
{
	struct sockaddr_storage ss;
	socklen_t len;

	CU_ASSERT_EQUAL_FATAL(or_listen_parse(s, &ss, &len), 0);
	return or_listen_is_loopback(&ss);
}

static void
test_loopback(void)
{
	CU_ASSERT_TRUE(mt_loop("127.0.0.1:1"));
	CU_ASSERT_TRUE(mt_loop("127.200.3.4:1"));
	CU_ASSERT_TRUE(mt_loop("[::1]:1"));
	CU_ASSERT_TRUE(mt_loop("[::ffff:127.0.0.1]:1"));
	CU_ASSERT_TRUE(mt_loop("9140"));
	CU_ASSERT_FALSE(mt_loop("0.0.0.0:1"));
	CU_ASSERT_FALSE(mt_loop("128.0.0.1:1"));
	CU_ASSERT_FALSE(mt_loop("198.51.100.1:1"));
	CU_ASSERT_FALSE(mt_loop("[::]:1"));
	CU_ASSERT_FALSE(mt_loop("[::ffff:192.0.2.1]:1"));
	CU_ASSERT_FALSE(mt_loop("[2001:db8::1]:1"));
}

/* ---------------------------------------------------- configuration -- */

/* Loads text as t.ini; 0 or the error, which must contain want. */
static int
mt_cfg(const char *text, struct exp_cfg *c, const char *want)
{
	char err[EXP_CFG_ERR_LEN] = "";
	int rc;

	exp_cfg_defaults(c);
	rc = exp_cfg_load_string("t.ini", text, c, err);
	if (want == NULL && rc != 0)
		fprintf(stderr, "\n  refused: %s\n", err);
	if (want != NULL && strstr(err, want) == NULL)
		fprintf(stderr, "\n  error '%s', want '%s'\n", err, want);
	if (want != NULL)
		CU_ASSERT_PTR_NOT_NULL(strstr(err, want));
	return rc;
}

static void
test_cfg_defaults(void)
{
	char addr[OR_LISTEN_STR_LEN];
	struct exp_cfg c;

	/* Another program's sections and [control] keys are not ours. */
	CU_ASSERT_EQUAL_FATAL(mt_cfg("[dataplane]\nudp_port = 7040\n"
				     "[control]\nstore_path = /x\n"
				     "metrics = off\n[eal]\nargs = x\n",
				     &c, NULL), 0);
	CU_ASSERT_STRING_EQUAL(c.mgmt_socket, OR_MGMT_DEFAULT_SOCKET);
	or_listen_str(&c.addr, addr);
	CU_ASSERT_STRING_EQUAL(addr, EXP_DEFAULT_LISTEN);
	CU_ASSERT_EQUAL(c.addr_len, sizeof(struct sockaddr_in));
	CU_ASSERT_EQUAL(c.max_age_ms, 1000);
	CU_ASSERT_EQUAL(c.allow_remote, 0);
	CU_ASSERT_EQUAL(c.log_level, OR_LOG_INFO);
}

static void
test_cfg_keys(void)
{
	char addr[OR_LISTEN_STR_LEN];
	struct exp_cfg c;

	CU_ASSERT_EQUAL_FATAL(mt_cfg("[exporter]\nlisten = [::1]:9141\n"
				     "max_age_ms = 0\nlog_level = DEBUG\n"
				     "[control]\nmgmt_socket = /run/x/c.sock\n",
				     &c, NULL), 0);
	CU_ASSERT_STRING_EQUAL(c.mgmt_socket, "/run/x/c.sock");
	or_listen_str(&c.addr, addr);
	CU_ASSERT_STRING_EQUAL(addr, "[::1]:9141");
	CU_ASSERT_EQUAL(c.max_age_ms, 0);
	CU_ASSERT_EQUAL(c.log_level, OR_LOG_DEBUG);
	/* allow_remote may come after listen. */
	CU_ASSERT_EQUAL_FATAL(mt_cfg("[exporter]\nlisten = 0.0.0.0:9140\n"
				     "allow_remote = Yes\n", &c, NULL), 0);
	or_listen_str(&c.addr, addr);
	CU_ASSERT_STRING_EQUAL(addr, "0.0.0.0:9140");
	CU_ASSERT_EQUAL(c.allow_remote, 1);
}

static void
test_cfg_errors(void)
{
	static const struct {
		const char *text, *err;
	} bad[] = {
		{ "[exporter]\nlisten = 0.0.0.0:9140\n",
		  "t.ini:2: [exporter] listen: 0.0.0.0:9140 is not a loopback "
		  "address" },
		{ "[exporter]\nlisten = [2001:db8::1]:9140\nallow_remote = no\n",
		  "is not a loopback address" },
		{ "[exporter]\nlisten = localhost:9140\n",
		  "t.ini:2: [exporter] listen: invalid value 'localhost:9140'" },
		{ "[exporter]\nlisten = 127.0.0.1:0\n", "invalid value" },
		{ "[exporter]\nmax_age_ms = 60001\n",
		  "t.ini:2: [exporter] max_age_ms: invalid value" },
		{ "[exporter]\nallow_remote = maybe\n", "invalid value" },
		{ "[exporter]\nlog_level = loud\n", "invalid value" },
		{ "[exporter]\nmetrics = 9140\n",
		  "t.ini:2: [exporter] metrics: unknown key" },
		{ "[exporter]\nlisten = 9140\nlisten = 9141\n",
		  "t.ini:3: [exporter] listen: duplicate key" },
		{ "[exporters]\nlisten = 9140\n",
		  "t.ini:1: [exporters]: unknown section (expected [exporter])" },
		{ "[control]\nmgmt_socket = /x/"
		  "0123456789012345678901234567890123456789012345678901234567890"
		  "1234567890123456789012345678901234567890123456789\n",
		  "t.ini:2: [control] mgmt_socket: invalid value" },
	};
	struct exp_cfg c;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		CU_ASSERT_EQUAL(mt_cfg(bad[i].text, &c, bad[i].err), -EINVAL);
}

static CU_TestInfo mt_tests[] = {
	{ "render: full stats reply", test_render_full },
	{ "render: no dataplane", test_render_no_dataplane },
	{ "render: no reply yet", test_render_nothing_yet },
	{ "render: a fleet's positions", test_render_fleet },
	{ "render: odd values skipped", test_render_odd_values },
	{ "exposition checker catches errors", test_checker },
	{ "listen address parsing", test_listen },
	{ "loopback addresses", test_loopback },
	{ "configuration: defaults, other sections", test_cfg_defaults },
	{ "configuration: keys", test_cfg_keys },
	{ "configuration: errors", test_cfg_errors },
	CU_TEST_INFO_NULL,
};

OR_TEST_SUITE("metrics", NULL, NULL, mt_tests)
