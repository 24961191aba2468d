/* SPDX-License-Identifier: BSD-3-Clause
 *
 * The system of record's interface (control/store/sor.h) with its LMDB
 * backend: a group is done in place and given back by commit_take, the
 * sink hears of every committed seq (changes, then auth epochs) before
 * the group is taken and of nothing that was not committed, one group in
 * flight at most, and an unknown backend is refused.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <CUnit/CUnit.h>

#include "control/store/sor.h"

#include "or_test.h"
#include "test_store_util.h"

static char sdir[64];

/* What the sink heard. */
static struct {
	unsigned applied, auth_changed;
	uint64_t first_seq;
	unsigned n;
	int had_changes;
	uint32_t rec0;
	int taken; /* the group was taken before the sink heard of it */
} heard;

static struct or_sor_group *taken_group;

static void
sink_applied(void *arg, uint64_t first_seq, const struct or_change *ch,
	     const struct or_change_result *res, unsigned n)
{
	(void)arg;
	heard.applied++;
	heard.first_seq = first_seq;
	heard.n = n;
	heard.had_changes = ch != NULL && res != NULL;
	heard.rec0 = res != NULL ? res[0].rec : 0;
	heard.taken = taken_group != NULL;
}

static void
sink_auth_changed(void *arg)
{
	(void)arg;
	heard.auth_changed++;
}

static int
suite_clean(void)
{
	ts_rm_store(sdir);
	return 0;
}

static struct or_sor *
open_sor(void)
{
	static const struct or_node_policy pol = { .kind =
							   OR_NODE_POLICY_HASH,
						   .n_nodes = 4 };
	struct or_sor_conf c = {
		.backend = OR_SOR_BACKEND_LMDB,
		.node_policy = &pol,
		.sink = { .applied = sink_applied,
			  .auth_changed = sink_auth_changed },
	};
	struct or_sor *s = NULL;
	struct or_err err = { "" };

	snprintf(sdir, sizeof(sdir), "/tmp/or_test_sor.XXXXXX");
	CU_ASSERT_PTR_NOT_NULL_FATAL(mkdtemp(sdir));
	c.store.path = sdir;
	if (or_sor_open(&c, &s, &err) != 0)
		fprintf(stderr, "sor open: %s\n", err.msg);
	memset(&heard, 0, sizeof(heard));
	taken_group = NULL;
	return s;
}

static void
close_sor(struct or_sor *s)
{
	or_sor_close(s);
	ts_rm_store(sdir);
	sdir[0] = '\0';
}

static void
set_change(struct or_change *c, uint64_t i, uint8_t action)
{
	memset(c, 0, sizeof(*c));
	c->token = ts_tok(i);
	c->action = action;
	c->method = OR_METHOD_OPERATOR;
	c->node = -1;
	c->notice_version = 1;
}

/* A group is committed in place: taken at once, with its seqs and
 * results; the sink heard of it first, once; nothing else is in flight. */
static void
test_commit_in_place(void)
{
	struct or_sor *s = open_sor();
	struct or_change ch[3];
	struct or_change_result res[3];
	struct or_sor_group g = { .ch = ch, .n = 3, .res = res };
	struct or_store_stats st;
	struct or_consent c;

	CU_ASSERT_PTR_NOT_NULL_FATAL(s);
	for (unsigned i = 0; i < 3; i++)
		set_change(&ch[i], i, OR_ACT_OPTIN);
	CU_ASSERT_EQUAL(or_sor_commit_fd(s), -1);
	CU_ASSERT_PTR_NULL(or_sor_commit_take(s));
	CU_ASSERT_EQUAL_FATAL(or_sor_commit_submit(s, &g), 0);
	/* Done and not taken: a second group waits. */
	CU_ASSERT_EQUAL(or_sor_commit_submit(s, &g), -EBUSY);
	taken_group = or_sor_commit_take(s);
	CU_ASSERT_PTR_EQUAL(taken_group, &g);
	CU_ASSERT_PTR_NULL(or_sor_commit_take(s));
	CU_ASSERT_EQUAL(g.outcome, OR_SOR_COMMITTED);
	CU_ASSERT_EQUAL(g.rc, 0);
	CU_ASSERT_EQUAL(g.first_seq, 1);
	CU_ASSERT_EQUAL(res[2].seq, 3);
	CU_ASSERT_EQUAL(heard.applied, 1);
	CU_ASSERT_FALSE(heard.taken);
	CU_ASSERT_EQUAL(heard.first_seq, 1);
	CU_ASSERT_EQUAL(heard.n, 3);
	CU_ASSERT_TRUE(heard.had_changes);
	CU_ASSERT_EQUAL(heard.rec0, res[0].rec);
	CU_ASSERT_EQUAL(heard.auth_changed, 0);
	/* The reads see it. */
	CU_ASSERT_EQUAL(or_sor_get(s, &ch[1].token, &c), 0);
	CU_ASSERT_EQUAL(or_sor_stats(s, &st, NULL), 0);
	CU_ASSERT_EQUAL(st.entries, 3);
	CU_ASSERT_EQUAL(st.last_seq, 3);
	close_sor(s);
}

/* A group the store refuses is not committed, wholly, and the sink hears
 * nothing of it. */
static void
test_commit_refused(void)
{
	struct or_sor *s = open_sor();
	struct or_change ch[2];
	struct or_change_result res[2];
	struct or_sor_group g = { .ch = ch, .n = 2, .res = res };
	struct or_store_stats st;

	CU_ASSERT_PTR_NOT_NULL_FATAL(s);
	set_change(&ch[0], 1, OR_ACT_OPTIN);
	set_change(&ch[1], 2, OR_ACT_OPTIN);
	ch[1].method = 200; /* no such method */
	CU_ASSERT_EQUAL_FATAL(or_sor_commit_submit(s, &g), 0);
	CU_ASSERT_PTR_EQUAL(or_sor_commit_take(s), &g);
	CU_ASSERT_EQUAL(g.outcome, OR_SOR_NOT_COMMITTED);
	CU_ASSERT_EQUAL(g.rc, -EINVAL);
	CU_ASSERT(g.err.msg[0] != '\0');
	CU_ASSERT_EQUAL(heard.applied, 0);
	CU_ASSERT_EQUAL(or_sor_stats(s, &st, NULL), 0);
	CU_ASSERT_EQUAL(st.entries, 0);
	CU_ASSERT_EQUAL(st.last_seq, 0);
	close_sor(s);
}

/* Auth epochs: committed, then the sink hears of the seq (no change) and
 * of the new state; a refused retirement tells it nothing. */
static void
test_auth_epochs(void)
{
	struct or_sor *s = open_sor();
	struct or_auth_state a, b;
	struct or_err err = { "" };

	CU_ASSERT_PTR_NOT_NULL_FATAL(s);
	CU_ASSERT_EQUAL(or_sor_auth_retire(s, &a, &err), -ENOENT);
	CU_ASSERT_EQUAL(heard.applied + heard.auth_changed, 0);
	CU_ASSERT_EQUAL_FATAL(or_sor_auth_rotate(s, &a, &err), 0);
	CU_ASSERT_EQUAL(a.current, 1);
	CU_ASSERT_EQUAL(heard.applied, 1);
	CU_ASSERT_EQUAL(heard.first_seq, a.seq);
	CU_ASSERT_EQUAL(heard.n, 1);
	CU_ASSERT_FALSE(heard.had_changes);
	CU_ASSERT_EQUAL(heard.auth_changed, 1);
	CU_ASSERT_EQUAL(or_sor_auth_get(s, &b, &err), 0);
	CU_ASSERT_EQUAL(b.seq, a.seq);
	CU_ASSERT_EQUAL(b.current, 1);
	close_sor(s);
}

static void
test_unknown_backend(void)
{
	struct or_sor_conf c = { .backend = "nosuch",
				 .store = { .path = "/nonexistent" } };
	struct or_sor *s = NULL;
	struct or_err err = { "" };

	CU_ASSERT_EQUAL(or_sor_open(&c, &s, &err), -EINVAL);
	CU_ASSERT_PTR_NULL(s);
	CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "nosuch"));
}

static CU_TestInfo sor_tests[] = {
	{ "commit in place", test_commit_in_place },
	{ "refused group", test_commit_refused },
	{ "auth epochs through the sink", test_auth_epochs },
	{ "unknown backend", test_unknown_backend },
	CU_TEST_INFO_NULL,
};

OR_TEST_SUITE("sor", NULL, suite_clean, sor_tests)
