/* SPDX-License-Identifier: BSD-3-Clause
 *
 * Consent store (control/store/store.h): durability across reopen, group
 * commit, change sequence numbers, node policy, snapshot streaming, stats,
 * and that no plain number ever reaches the store files. The auth epochs
 * and issued keys are the `store_auth` suite (test_store_auth.c).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <lmdb.h>
#include <sodium.h>

#include "control/lib/keys.h"
#include "control/store/store.h"
#include "control/lib/token.h"
#include "or_test.h"
#include "test_store_util.h"

static void
test_commit_reopen(void)
{
	struct or_store *s = ts_fresh_store(ts_dir);
	struct or_change ch[3] = {
		ts_chg(1, OR_ACT_OPTIN, 9),
		ts_chg(2, OR_ACT_OPTIN, -1),
		ts_chg(3, OR_ACT_OPTOUT, -1),
	};
	struct or_change_result res[3];
	struct or_consent c;
	struct or_err err;
	struct or_token t;
	uint64_t first;

	CU_ASSERT_PTR_NOT_NULL_FATAL(s);
	ch[2].method = OR_METHOD_OPERATOR;
	CU_ASSERT_EQUAL_FATAL(or_store_apply(s, ts_pol4(), ch, 3, res, &first,
					     &err), 0);
	CU_ASSERT_EQUAL(first, 1);
	s = ts_reopen(ts_dir, s, 0);
	CU_ASSERT_PTR_NOT_NULL_FATAL(s);

	t = ts_tok(1);
	CU_ASSERT_EQUAL_FATAL(or_store_get(s, &t, &c), 0);
	CU_ASSERT_TRUE(or_token_eq(&c.token, &t));
	CU_ASSERT_EQUAL(c.state, OR_STATE_IN);
	CU_ASSERT_EQUAL(c.node, 9);
	CU_ASSERT_EQUAL(c.flags, OR_CFLAG_PINNED);
	CU_ASSERT_EQUAL(c.epoch, 2);
	CU_ASSERT_EQUAL(c.method, OR_METHOD_APP);
	CU_ASSERT_EQUAL(c.notice_version, 7);
	CU_ASSERT_EQUAL(c.granted_ms, 1700000000001ull);
	CU_ASSERT_EQUAL(c.withdrawn_ms, 0);
	CU_ASSERT_EQUAL(c.seq, 1);
	CU_ASSERT_EQUAL(res[0].rec, or_consent_rec(&c));
	CU_ASSERT_EQUAL(res[0].rec, or_rec_make(OR_STATE_IN, 9, 2,
						OR_CFLAG_PINNED));
	CU_ASSERT_EQUAL(res[0].prev_rec, 0);

	t = ts_tok(2);
	CU_ASSERT_EQUAL_FATAL(or_store_get(s, &t, &c), 0);
	CU_ASSERT_EQUAL(c.state, OR_STATE_IN);
	CU_ASSERT_EQUAL(c.node, or_node_pick(ts_pol4(), &t));
	CU_ASSERT_EQUAL(c.flags, 0);
	CU_ASSERT_EQUAL(c.seq, 2);
	CU_ASSERT_EQUAL(res[1].rec, or_consent_rec(&c));

	t = ts_tok(3);
	CU_ASSERT_EQUAL_FATAL(or_store_get(s, &t, &c), 0);
	CU_ASSERT_EQUAL(c.state, OR_STATE_OUT);
	CU_ASSERT_EQUAL(c.node, 0);
	CU_ASSERT_EQUAL(c.method, OR_METHOD_OPERATOR);
	CU_ASSERT_EQUAL(c.granted_ms, 0);
	CU_ASSERT_EQUAL(c.withdrawn_ms, 1700000000003ull);
	CU_ASSERT_EQUAL(res[2].seq, 3);

	t = ts_tok(4);
	CU_ASSERT_EQUAL(or_store_get(s, &t, &c), -ENOENT);
	CU_ASSERT_EQUAL(ts_last_seq(s), 3);
	or_store_close(s);
}

static void
test_semantics(void)
{
	struct or_store *s = ts_fresh_store(ts_dir);
	struct or_change_result r[4];
	struct or_store_stats st;
	struct or_change ch[4];
	struct or_consent c;
	struct or_token t = ts_tok(10);
	uint64_t first;

	CU_ASSERT_PTR_NOT_NULL_FATAL(s);
	/* pinned opt-in, re-opt-in without a node keeps it, opt-out keeps
	 * it, a new opt-in moves it */
	ch[0] = ts_chg(10, OR_ACT_OPTIN, 1234);
	ch[1] = ts_chg(10, OR_ACT_OPTIN, -1);
	ch[1].notice_version = 8;
	ch[2] = ts_chg(10, OR_ACT_OPTOUT, -1);
	ch[3] = ts_chg(10, OR_ACT_OPTIN, 5);
	CU_ASSERT_EQUAL_FATAL(or_store_apply(s, ts_pol4(), ch, 4, r, &first, NULL),
			      0);
	CU_ASSERT_EQUAL(r[1].prev_rec, r[0].rec);
	CU_ASSERT_EQUAL(or_rec_node(r[1].rec), 1234);
	CU_ASSERT_EQUAL(or_rec_state(r[2].rec), OR_STATE_OUT);
	CU_ASSERT_EQUAL(or_rec_node(r[2].rec), 1234);
	CU_ASSERT_EQUAL(or_rec_flags(r[2].rec), OR_CFLAG_PINNED);
	CU_ASSERT_EQUAL(or_rec_node(r[3].rec), 5);
	CU_ASSERT_EQUAL_FATAL(or_store_get(s, &t, &c), 0);
	CU_ASSERT_EQUAL(c.granted_ms, ch[3].time_ms);
	CU_ASSERT_EQUAL(c.withdrawn_ms, 0);
	CU_ASSERT_EQUAL(c.seq, first + 3);

	CU_ASSERT_EQUAL(or_store_stats(s, &st, NULL), 0);
	CU_ASSERT_EQUAL(st.entries, 1);
	CU_ASSERT_EQUAL(st.opted_in, 1);
	CU_ASSERT_EQUAL(st.opted_out, 0);

	/* erase: record gone, rec 0, counters follow, seq still advances;
	 * erasing an absent token is recorded too */
	ch[0] = ts_chg(10, OR_ACT_ERASE, -1);
	ch[1] = ts_chg(11, OR_ACT_ERASE, -1);
	ch[2] = ts_chg(12, OR_ACT_OPTOUT, -1);
	CU_ASSERT_EQUAL_FATAL(or_store_apply(s, NULL, ch, 3, r, &first, NULL),
			      0);
	CU_ASSERT_EQUAL(first, 5);
	CU_ASSERT_EQUAL(r[0].rec, 0);
	CU_ASSERT_NOT_EQUAL(r[0].prev_rec, 0);
	CU_ASSERT_EQUAL(r[1].rec, 0);
	CU_ASSERT_EQUAL(r[1].prev_rec, 0);
	CU_ASSERT_EQUAL(or_store_get(s, &t, &c), -ENOENT);
	CU_ASSERT_EQUAL(or_store_stats(s, &st, NULL), 0);
	CU_ASSERT_EQUAL(st.entries, 1);
	CU_ASSERT_EQUAL(st.opted_in, 0);
	CU_ASSERT_EQUAL(st.opted_out, 1);
	CU_ASSERT_EQUAL(st.last_seq, 7);
	CU_ASSERT_EQUAL(st.audit_entries, 7);

	/* time 0 means now */
	ch[0] = ts_chg(13, OR_ACT_OPTIN, 1);
	ch[0].time_ms = 0;
	CU_ASSERT_EQUAL(or_store_apply(s, NULL, ch, 1, NULL, NULL, NULL), 0);
	t = ts_tok(13);
	CU_ASSERT_EQUAL_FATAL(or_store_get(s, &t, &c), 0);
	CU_ASSERT(c.granted_ms > 1700000000000ull &&
		  c.granted_ms < 4102444800000ull); /* before 2100 */
	or_store_close(s);
}

static void
test_invalid_changes(void)
{
	struct or_store *s = ts_fresh_store(ts_dir);
	struct or_change ch[3];
	struct or_err err;
	uint64_t first = 99;

	CU_ASSERT_PTR_NOT_NULL_FATAL(s);
	ch[0] = ts_chg(1, OR_ACT_OPTIN, 1);
	ch[1] = ts_chg(2, OR_ACT_OPTIN, 1);

	ch[2] = ts_chg(3, 0, -1);
	CU_ASSERT_EQUAL(or_store_apply(s, ts_pol4(), ch, 3, NULL, &first, &err),
			-EINVAL);
	CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "change 2: unknown action"));
	CU_ASSERT_EQUAL(first, 0);
	ch[2] = ts_chg(3, OR_ACT_CHANGE_MAX + 1, -1);
	CU_ASSERT_EQUAL(or_store_apply(s, ts_pol4(), ch, 3, NULL, NULL, &err),
			-EINVAL);
	CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "change 2: unknown action"));
	/* The appliance's own events are not changes of a subject. */
	ch[2] = ts_chg(3, OR_ACT_ROTATE, -1);
	CU_ASSERT_EQUAL(or_store_apply(s, ts_pol4(), ch, 3, NULL, NULL, &err),
			-EINVAL);
	CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "change 2: unknown action"));
	ch[2] = ts_chg(3, OR_ACT_OPTIN, -1);
	ch[2].method = 0;
	CU_ASSERT_EQUAL(or_store_apply(s, ts_pol4(), ch, 3, NULL, NULL, &err),
			-EINVAL);
	CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "unknown method"));
	ch[2].method = OR_METHOD_MAX + 1;
	CU_ASSERT_EQUAL(or_store_apply(s, ts_pol4(), ch, 3, NULL, NULL, &err),
			-EINVAL);
	ch[2] = ts_chg(3, OR_ACT_OPTIN, 65536);
	CU_ASSERT_EQUAL(or_store_apply(s, ts_pol4(), ch, 3, NULL, NULL, &err),
			-EINVAL);
	ch[2] = ts_chg(3, OR_ACT_OPTIN, -2);
	CU_ASSERT_EQUAL(or_store_apply(s, ts_pol4(), ch, 3, NULL, NULL, &err),
			-EINVAL);
	ch[2] = ts_chg(3, OR_ACT_OPTOUT, 4);
	CU_ASSERT_EQUAL(or_store_apply(s, ts_pol4(), ch, 3, NULL, NULL, &err),
			-EINVAL);
	CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "only an opt-in sets a node"));
	ch[2] = ts_chg(3, OR_ACT_OPTIN, -1);
	CU_ASSERT_EQUAL(or_store_apply(s, NULL, ch, 3, NULL, NULL, &err),
			-EINVAL);
	CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "node policy"));
	CU_ASSERT_EQUAL(or_store_apply(s, &(struct or_node_policy){
					       .kind = OR_NODE_POLICY_HASH },
				       ch, 3, NULL, NULL, &err), -EINVAL);
	CU_ASSERT_EQUAL(or_store_apply(s, ts_pol4(), ch, OR_STORE_APPLY_MAX + 1,
				       NULL, NULL, &err), -E2BIG);
	/* nothing of the above was applied */
	CU_ASSERT_EQUAL(ts_last_seq(s), 0);
	/* n == 0 is a no-op */
	CU_ASSERT_EQUAL(or_store_apply(s, ts_pol4(), ch, 0, NULL, &first, &err), 0);
	CU_ASSERT_EQUAL(first, 0);
	/* the first two alone are fine, with no policy (explicit nodes) */
	CU_ASSERT_EQUAL(or_store_apply(s, NULL, ch, 2, NULL, &first, &err), 0);
	CU_ASSERT_EQUAL(first, 1);
	CU_ASSERT_EQUAL(ts_last_seq(s), 2);
	or_store_close(s);
}

static double
now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void
test_group_commit(void)
{
	enum { N = 5000, SINGLES = 50 };
	struct or_store *s = ts_fresh_store(ts_dir);
	struct or_change *ch = calloc(OR_STORE_APPLY_MAX, sizeof(*ch));
	struct or_change_result *r = calloc(OR_STORE_APPLY_MAX, sizeof(*r));
	struct or_store_stats st;
	struct or_err err;
	uint64_t first;
	double t0, t_batch, t_single;

	CU_ASSERT_PTR_NOT_NULL_FATAL(s);
	CU_ASSERT_PTR_NOT_NULL_FATAL(ch);
	CU_ASSERT_PTR_NOT_NULL_FATAL(r);
	for (unsigned i = 0; i < N; i++)
		ch[i] = ts_chg(i, i % 5 == 4 ? OR_ACT_OPTOUT : OR_ACT_OPTIN, -1);
	CU_ASSERT_EQUAL_FATAL(or_store_apply(s, ts_pol4(), ch, N, r, &first, &err),
			      0);
	CU_ASSERT_EQUAL(first, 1);
	for (unsigned i = 0; i < N; i++) {
		CU_ASSERT_EQUAL(r[i].seq, first + i);
		CU_ASSERT(or_rec_valid(r[i].rec));
	}
	CU_ASSERT_EQUAL(or_store_stats(s, &st, &err), 0);
	CU_ASSERT_EQUAL(st.entries, N);
	CU_ASSERT_EQUAL(st.opted_out, N / 5);
	CU_ASSERT_EQUAL(st.opted_in, N - N / 5);
	CU_ASSERT_EQUAL(st.last_seq, N);
	CU_ASSERT_EQUAL(st.audit_entries, N);
	CU_ASSERT(st.file_bytes > 0 && st.file_len >= st.file_bytes / 2);
	CU_ASSERT_EQUAL(st.map_bytes, TS_MAP_SIZE);
	/* Every exported figure (the list OR_STORE_STATS, the stats reply's
	 * store section as it is) is filled: none is left 0 here. */
#define NZ(f, ...) CU_ASSERT(st.f != 0);
	OR_STORE_STATS(NZ)
#undef NZ

	/* Throughput (informative): one full-size group commit versus
	 * commits of one change each (one fsync each). */
	for (unsigned i = 0; i < OR_STORE_APPLY_MAX; i++)
		ch[i] = ts_chg(N + i, OR_ACT_OPTIN, -1);
	t0 = now_s();
	CU_ASSERT_EQUAL(or_store_apply(s, ts_pol4(), ch, OR_STORE_APPLY_MAX, r,
				       &first, &err), 0);
	t_batch = now_s() - t0;
	CU_ASSERT_EQUAL(first, N + 1);
	t0 = now_s();
	for (unsigned i = 0; i < SINGLES; i++)
		CU_ASSERT_EQUAL(or_store_apply(s, ts_pol4(), &ch[i], 1, r, &first,
					       &err), 0);
	t_single = now_s() - t0;
	CU_ASSERT_EQUAL(first, N + OR_STORE_APPLY_MAX + SINGLES);
	printf("\n    group commit: %u changes in %.1f ms (%.0f changes/s); "
	       "single-change commits: %.2f ms each (%.0f/s)\n    ",
	       OR_STORE_APPLY_MAX, t_batch * 1e3,
	       OR_STORE_APPLY_MAX / t_batch, t_single * 1e3 / SINGLES,
	       SINGLES / t_single);
	free(ch);
	free(r);
	or_store_close(s);
}

static void
test_seq_across_reopen(void)
{
	struct or_store *s = ts_fresh_store(ts_dir);
	struct or_change ch[10];
	uint64_t first;

	CU_ASSERT_PTR_NOT_NULL_FATAL(s);
	for (unsigned i = 0; i < 10; i++)
		ch[i] = ts_chg(i, OR_ACT_OPTIN, -1);
	for (unsigned round = 0; round < 3; round++) {
		CU_ASSERT_EQUAL_FATAL(or_store_apply(s, ts_pol4(), ch, 10, NULL,
						     &first, NULL), 0);
		CU_ASSERT_EQUAL(first, round * 10 + 1);
		s = ts_reopen(ts_dir, s, 0);
		CU_ASSERT_PTR_NOT_NULL_FATAL(s);
		CU_ASSERT_EQUAL(ts_last_seq(s), round * 10 + 10);
	}
	or_store_close(s);
}

struct collect {
	struct or_store *s;
	unsigned chunks, n, bad, stop_after;
	struct or_token last;
};

static int
collect_cb(void *arg, const struct or_store_entry *e, unsigned n)
{
	struct collect *c = arg;
	struct or_consent rec;

	c->chunks++;
	if (n == 0 || n > 7)
		c->bad++;
	for (unsigned i = 0; i < n; i++) {
		if (c->n > 0 && memcmp(c->last.b, e[i].token.b, 16) >= 0)
			c->bad++; /* not strictly increasing */
		c->last = e[i].token;
		c->n++;
		if (or_store_get(c->s, &e[i].token, &rec) != 0 ||
		    or_consent_rec(&rec) != e[i].rec)
			c->bad++;
	}
	return c->stop_after && c->chunks == c->stop_after ? 42 : 0;
}

static int
count_cb(void *arg, const struct or_consent *c)
{
	(*(unsigned *)arg) += c->state == OR_STATE_IN;
	return 0;
}

static void
test_snapshot(void)
{
	enum { N = 1000 };
	struct or_store *s = ts_fresh_store(ts_dir);
	struct or_change ch[N];
	struct or_store_entry buf[7];
	struct collect c = { 0 };
	struct or_store_stats st;
	struct or_err err;
	uint64_t snap = 99;
	unsigned n_in = 0;

	CU_ASSERT_PTR_NOT_NULL_FATAL(s);
	/* empty: no callback, snap seq 0 */
	c.s = s;
	CU_ASSERT_EQUAL(or_store_snapshot(s, buf, 7, collect_cb, &c, &snap,
					  &err), 0);
	CU_ASSERT_EQUAL(c.chunks, 0);
	CU_ASSERT_EQUAL(snap, 0);

	for (unsigned i = 0; i < N; i++)
		ch[i] = ts_chg(i, i % 3 == 0 ? OR_ACT_OPTOUT : OR_ACT_OPTIN, -1);
	CU_ASSERT_EQUAL_FATAL(or_store_apply(s, ts_pol4(), ch, N, NULL, NULL, NULL),
			      0);
	for (unsigned i = 0; i < 50; i++)
		ch[i] = ts_chg(i * 7, OR_ACT_ERASE, -1);
	CU_ASSERT_EQUAL_FATAL(or_store_apply(s, ts_pol4(), ch, 50, NULL, NULL,
					     NULL), 0);
	CU_ASSERT_EQUAL(or_store_stats(s, &st, &err), 0);
	CU_ASSERT_EQUAL(st.entries, N - 50);

	CU_ASSERT_EQUAL(or_store_snapshot(s, buf, 7, collect_cb, &c, &snap,
					  &err), 0);
	CU_ASSERT_EQUAL(c.n, N - 50);
	CU_ASSERT_EQUAL(c.bad, 0);
	CU_ASSERT_EQUAL(c.chunks, (N - 50 + 6) / 7);
	CU_ASSERT_EQUAL(snap, N + 50);
	CU_ASSERT_EQUAL(snap, st.last_seq);

	/* a callback's nonzero value stops the walk and is returned */
	memset(&c, 0, sizeof(c));
	c.s = s;
	c.stop_after = 2;
	CU_ASSERT_EQUAL(or_store_snapshot(s, buf, 7, collect_cb, &c, NULL,
					  &err), 42);
	CU_ASSERT_EQUAL(c.n, 14);
	CU_ASSERT_EQUAL(or_store_snapshot(s, buf, 0, collect_cb, &c, NULL,
					  &err), -EINVAL);

	CU_ASSERT_EQUAL(or_store_foreach(s, count_cb, &n_in, &err), 0);
	CU_ASSERT_EQUAL(n_in, st.opted_in);
	or_store_close(s);
}

static void
test_read_only(void)
{
	struct or_store_conf conf = { .path = "/tmp/or_test_store_none",
				      .read_only = 1 };
	struct or_store *s = ts_fresh_store(ts_dir);
	struct or_change ch = ts_chg(1, OR_ACT_OPTIN, 3);
	struct or_consent c;
	struct or_token t = ts_tok(1);
	struct or_err err;

	CU_ASSERT_PTR_NOT_NULL_FATAL(s);
	CU_ASSERT_EQUAL(or_store_apply(s, NULL, &ch, 1, NULL, NULL, &err), 0);
	s = ts_reopen(ts_dir, s, 1);
	CU_ASSERT_PTR_NOT_NULL_FATAL(s);
	CU_ASSERT_EQUAL(or_store_get(s, &t, &c), 0);
	CU_ASSERT_EQUAL(or_store_apply(s, NULL, &ch, 1, NULL, NULL, &err),
			-EROFS);
	or_store_close(s);
	s = NULL;
	CU_ASSERT(or_store_open(&conf, &s, &err) < 0);
	CU_ASSERT_PTR_NULL(s);
	conf.path = NULL;
	CU_ASSERT_EQUAL(or_store_open(&conf, &s, &err), -EINVAL);
}

static void
test_policy(void)
{
	struct or_node_policy p;
	struct or_err err;
	unsigned hist[4] = { 0 };

	CU_ASSERT_EQUAL(or_node_policy_parse("hash 4", &p, &err), 0);
	CU_ASSERT_EQUAL(p.kind, OR_NODE_POLICY_HASH);
	CU_ASSERT_EQUAL(p.n_nodes, 4);
	CU_ASSERT_EQUAL(or_node_policy_parse("hash:65536", &p, &err), 0);
	CU_ASSERT_EQUAL(p.n_nodes, 65536);
	CU_ASSERT_EQUAL(or_node_policy_parse("fixed 0", &p, &err), 0);
	CU_ASSERT_EQUAL(p.kind, OR_NODE_POLICY_FIXED);
	CU_ASSERT_EQUAL(p.node, 0);
	CU_ASSERT_EQUAL(or_node_policy_parse("fixed:65535", &p, &err), 0);
	CU_ASSERT_EQUAL(p.node, 65535);
	CU_ASSERT_EQUAL(or_node_pick(&p, &(struct or_token){ { 0 } }), 65535);
	static const char *const bad[] = {
		"", "hash", "hash 0", "hash 65537", "hash -1", "hash 4x",
		"hash  4", "fixed 65536", "fixed", "round 4", "hash 4 ",
		"HASH 4", "hash:0x4",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		CU_ASSERT_EQUAL(or_node_policy_parse(bad[i], &p, &err), -EINVAL);
	CU_ASSERT_EQUAL(or_node_policy_parse(NULL, &p, &err), -EINVAL);

	/* hash: in range, stable, and spread over all nodes */
	for (uint64_t i = 0; i < 4000; i++) {
		struct or_token t = ts_tok(i);
		uint16_t n = or_node_pick(ts_pol4(), &t);

		CU_ASSERT_FATAL(n < 4);
		CU_ASSERT_EQUAL(or_node_pick(ts_pol4(), &t), n);
		hist[n]++;
	}
	for (int i = 0; i < 4; i++)
		CU_ASSERT(hist[i] > 800 && hist[i] < 1200);
}

static void
test_names(void)
{
	uint8_t v;

	CU_ASSERT_STRING_EQUAL(or_action_name(OR_ACT_OPTIN), "optin");
	CU_ASSERT_STRING_EQUAL(or_action_name(OR_ACT_ERASE), "erase");
	CU_ASSERT_PTR_NULL(or_action_name(0));
	CU_ASSERT_PTR_NULL(or_action_name(OR_ACT_MAX + 1));
	CU_ASSERT_STRING_EQUAL(or_method_name(OR_METHOD_SEALED), "sealed");
	CU_ASSERT_PTR_NULL(or_method_name(OR_METHOD_MAX + 1));
	for (unsigned m = 1; m <= OR_METHOD_MAX; m++) {
		CU_ASSERT_EQUAL(or_method_parse(or_method_name(m), &v), 0);
		CU_ASSERT_EQUAL(v, m);
	}
	for (unsigned a = 1; a <= OR_ACT_MAX; a++) {
		CU_ASSERT_EQUAL(or_action_parse(or_action_name(a), &v), 0);
		CU_ASSERT_EQUAL(v, a);
	}
	CU_ASSERT_EQUAL(or_method_parse("App", &v), -EINVAL);
	CU_ASSERT_EQUAL(or_action_parse("", &v), -EINVAL);
	CU_ASSERT_EQUAL(or_action_parse(NULL, &v), -EINVAL);
}

/* Reads a whole file; NULL on error. */
static char *
slurp(const char *path, size_t *len)
{
	struct stat st;
	char *buf;
	int fd = open(path, O_RDONLY);

	if (fd < 0 || fstat(fd, &st) != 0) {
		if (fd >= 0)
			close(fd);
		return NULL;
	}
	buf = malloc((size_t)st.st_size + 1);
	*len = buf != NULL ? (size_t)read(fd, buf, (size_t)st.st_size) : 0;
	close(fd);
	return buf;
}

/* Known numbers go through the whole path (token derivation, store,
 * audit); afterwards neither store file contains them in ASCII, with or
 * without '+', nor their last 9 digits. */
static void
test_privacy(void)
{
	static const char *const numbers[] = {
		"+4915112345678", "+447700900123", "+12025550123",
		"+33612345678", "+819012345678",
	};
	enum { NN = sizeof(numbers) / sizeof(numbers[0]) };
	struct or_store *s = ts_fresh_store(ts_dir);
	struct or_change ch[2 * NN];
	struct or_keys *k = NULL;
	struct or_err err;
	char key_path[128], p[128];

	CU_ASSERT_PTR_NOT_NULL_FATAL(s);
	snprintf(key_path, sizeof(key_path), "%s/test.key", ts_dir);
	CU_ASSERT_EQUAL_FATAL(or_keys_generate(key_path, &err), 0);
	CU_ASSERT_EQUAL_FATAL(or_keys_load(key_path, &k, &err), 0);
	unlink(key_path);
	for (unsigned i = 0; i < NN; i++) {
		char buf[OR_E164_BUFSZ];

		strcpy(buf, numbers[i]);
		ch[i] = ts_chg(0, OR_ACT_OPTIN, -1);
		CU_ASSERT_EQUAL_FATAL(or_token_from_number(k, 2, buf,
							   strlen(buf),
							   &ch[i].token, &err),
				      0);
		ch[NN + i] = ch[i];
		ch[NN + i].action = i % 2 ? OR_ACT_OPTOUT : OR_ACT_ERASE;
	}
	CU_ASSERT_EQUAL_FATAL(or_store_apply(s, ts_pol4(), ch, 2 * NN, NULL, NULL,
					     &err), 0);
	CU_ASSERT_EQUAL_FATAL(or_store_apply(s, ts_pol4(), ch, NN, NULL, NULL,
					     &err), 0);
	or_keys_free(k);
	or_store_close(s);

	for (int f = 0; f < 2; f++) {
		size_t len = 0;
		char *data;

		snprintf(p, sizeof(p), "%s/%s", ts_dir, f ? "lock.mdb" : "data.mdb");
		data = slurp(p, &len);
		CU_ASSERT_PTR_NOT_NULL_FATAL(data);
		if (f == 0)
			CU_ASSERT(len >= 4096);
		for (unsigned i = 0; i < NN; i++) {
			const char *n = numbers[i];
			size_t l = strlen(n);

			CU_ASSERT_PTR_NULL(memmem(data, len, n, l));
			CU_ASSERT_PTR_NULL(memmem(data, len, n + 1, l - 1));
			CU_ASSERT_PTR_NULL(memmem(data, len, n + l - 9, 9));
		}
		free(data);
	}
}

static CU_TestInfo store_tests[] = {
	{ "commit and reopen", test_commit_reopen },
	{ "change semantics", test_semantics },
	{ "invalid changes", test_invalid_changes },
	{ "group commit", test_group_commit },
	{ "seq across reopen", test_seq_across_reopen },
	{ "snapshot", test_snapshot },
	{ "read-only", test_read_only },
	{ "node policy", test_policy },
	{ "names", test_names },
	{ "no plain number on disk", test_privacy },
	CU_TEST_INFO_NULL,
};

OR_TEST_SUITE("store", NULL, ts_suite_clean, store_tests)
