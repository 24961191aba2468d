/* SPDX-License-Identifier: BSD-3-Clause
 *
 * A fleet follower's local copy (control/store/copy.h) beyond what the
 * consent_next suite checks (records, snapshots and results equal a
 * store's through folds and reopenings): the overlay map against a plain
 * array under random puts and deletions; the fold thread folding by
 * itself; a log replayed at open that holds an entry which does not
 * link, or one already folded.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <CUnit/CUnit.h>

#include "control/store/copy.h"
#include "control/store/copy_map.h"

#include "tests/lib/or_rand.h"
#include "or_test.h"
#include "test_store_util.h"

#define MAP_TOKENS 3000

static char cdir[64], sdir[64];

static void
test_map_against_array(void)
{
	static struct or_token tok[MAP_TOKENS];
	static uint64_t have[MAP_TOKENS]; /* its seq, 0: not in the map */
	struct or_copy_map m;
	uint64_t rng = 5, seq = 0;
	size_t n = 0;

	CU_ASSERT_EQUAL_FATAL(or_copy_map_init(&m), 0);
	for (int i = 0; i < MAP_TOKENS; i++)
		tok[i] = ts_tok((uint64_t)i + 900000);
	for (int op = 0; op < 200000; op++) {
		int i = (int)or_rand_below(&rng, MAP_TOKENS);
		struct or_copy_ent *e = or_copy_map_find(&m, tok[i].b);

		/* the map says what the array says */
		CU_ASSERT_EQUAL_FATAL(e != NULL, have[i] != 0);
		if (e != NULL)
			CU_ASSERT_EQUAL_FATAL(e->seq, have[i]);
		if (or_rand_below(&rng, 3) == 0 && e != NULL) {
			or_copy_map_del(&m, e);
			have[i] = 0;
			n--;
		} else {
			e = or_copy_map_put(&m, tok[i].b);
			CU_ASSERT_PTR_NOT_NULL_FATAL(e);
			n += have[i] == 0;
			e->seq = have[i] = ++seq;
		}
		CU_ASSERT_EQUAL_FATAL(m.n, n);
	}
	/* everything out again: the map is empty and finds nothing */
	for (int i = 0; i < MAP_TOKENS; i++) {
		struct or_copy_ent *e = or_copy_map_find(&m, tok[i].b);

		CU_ASSERT_EQUAL_FATAL(e != NULL, have[i] != 0);
		if (e != NULL)
			or_copy_map_del(&m, e);
	}
	CU_ASSERT_EQUAL(m.n, 0);
	for (size_t i = 0; i < m.cap; i++)
		CU_ASSERT_EQUAL_FATAL(m.slot[i].seq, 0);
	or_copy_map_free(&m);
}

/* A store with opt-ins and opt-outs of tokens 0..99 (groups of 50) and
 * its trail. */
static struct or_store *
make_source(struct trail *t)
{
	static const struct or_node_policy pol = {
		.kind = OR_NODE_POLICY_HASH,
		.n_nodes = 3,
	};
	struct or_store_conf sc = { .map_size = 64u << 20 };
	struct or_change ch[50];
	struct or_change_result res[50];
	struct or_err err = { "" };
	struct or_store *a = NULL;
	uint64_t first;

	snprintf(sdir, sizeof(sdir), "/tmp/or_test_csrc.XXXXXX");
	CU_ASSERT_PTR_NOT_NULL_FATAL(mkdtemp(sdir));
	sc.path = sdir;
	CU_ASSERT_EQUAL_FATAL(or_store_open(&sc, &a, &err), 0);
	for (int g = 0; g < 8; g++) {
		for (int k = 0; k < 50; k++) {
			memset(&ch[k], 0, sizeof(ch[k]));
			ch[k].token = ts_tok((uint64_t)((g * 50 + k) % 100));
			ch[k].action = g % 3 == 2 ? OR_ACT_OPTOUT : OR_ACT_OPTIN;
			ch[k].method = OR_METHOD_APP;
			ch[k].node = -1;
			ch[k].time_ms = 1700000000000ull + (uint64_t)g;
		}
		CU_ASSERT_EQUAL_FATAL(or_store_apply(a, &pol, ch, 50, res,
						     &first, &err), 0);
	}
	CU_ASSERT_EQUAL_FATAL(or_audit_foreach(a, 1, trail_add, t, &err), 0);
	CU_ASSERT_EQUAL_FATAL(t->n, 400);
	return a;
}

static struct or_copy *
open_copy(void)
{
	struct or_store_conf sc = { .path = cdir, .map_size = 64u << 20 };
	struct or_copy *c = NULL;
	struct or_err err = { "" };

	CU_ASSERT_EQUAL_FATAL(or_copy_open(&sc, &c, &err), 0);
	return c;
}

/* Every token reads the same in the copy as in the store. */
static void
assert_reads_same(struct or_store *a, struct or_copy *c)
{
	for (int i = 0; i < 100; i++) {
		struct or_token t = ts_tok((uint64_t)i);
		struct or_consent x, y;
		int r = or_store_get(a, &t, &x);

		CU_ASSERT_EQUAL_FATAL(or_copy_get(c, &t, &y), r);
		if (r == 0) {
			CU_ASSERT_EQUAL(x.state, y.state);
			CU_ASSERT_EQUAL(x.seq, y.seq);
			CU_ASSERT_EQUAL(x.node, y.node);
		}
	}
}

static void
test_fold_thread(void)
{
	struct trail t = { 0 };
	struct or_store *a = make_source(&t);
	struct or_copy_stats cs = { 0 };
	struct or_store_stats st;
	struct or_err err = { "" };
	struct or_copy *c;

	snprintf(cdir, sizeof(cdir), "/tmp/or_test_copy.XXXXXX");
	CU_ASSERT_PTR_NOT_NULL_FATAL(mkdtemp(cdir));
	c = open_copy();
	CU_ASSERT_EQUAL_FATAL(or_copy_start(c), 0);
	for (size_t i = 0; i < t.n; i += 100)
		CU_ASSERT_EQUAL_FATAL(or_copy_follow(c, t.e + i, 100, NULL,
						     &err), 0);
	/* fewer than OR_COPY_FOLD_MIN entries: folded once idle (1 s) */
	for (int i = 0; i < 50; i++) {
		CU_ASSERT_EQUAL_FATAL(or_copy_stats(c, &st, &cs, &err), 0);
		if (cs.unfolded == 0)
			break;
		usleep(100000);
	}
	CU_ASSERT_EQUAL(cs.unfolded, 0);
	CU_ASSERT_EQUAL(cs.folds, 1);
	CU_ASSERT_EQUAL(cs.folded_changes, 400);
	CU_ASSERT_EQUAL(st.last_seq, 400);
	assert_reads_same(a, c);
	or_copy_close(c);
	/* reopened: nothing to replay, the records say it all */
	c = open_copy();
	CU_ASSERT_EQUAL(or_copy_stats(c, &st, &cs, &err), 0);
	CU_ASSERT_EQUAL(cs.unfolded, 0);
	CU_ASSERT_EQUAL(st.last_seq, 400);
	assert_reads_same(a, c);
	or_copy_close(c);
	or_store_close(a);
	free(t.e);
	ts_rm_store(cdir);
	ts_rm_store(sdir);
	cdir[0] = sdir[0] = '\0';
}

/* Puts one raw value under seq into the copy's log.mdb. */
static void
log_put(uint64_t seq, const uint8_t *val, size_t len)
{
	char path[96];
	uint8_t key[8];
	MDB_env *env;
	MDB_txn *txn;
	MDB_dbi dbi;
	MDB_val k = { sizeof(key), key }, v = { len, (void *)val };

	for (int i = 0; i < 8; i++)
		key[i] = (uint8_t)(seq >> (56 - 8 * i));
	snprintf(path, sizeof(path), "%s/log.mdb", cdir);
	CU_ASSERT_EQUAL_FATAL(mdb_env_create(&env), 0);
	CU_ASSERT_EQUAL_FATAL(mdb_env_open(env, path, MDB_NOSUBDIR, 0600), 0);
	CU_ASSERT_EQUAL_FATAL(mdb_txn_begin(env, NULL, 0, &txn), 0);
	CU_ASSERT_EQUAL_FATAL(mdb_dbi_open(txn, NULL, 0, &dbi), 0);
	CU_ASSERT_EQUAL_FATAL(mdb_put(txn, dbi, &k, &v, 0), 0);
	CU_ASSERT_EQUAL_FATAL(mdb_txn_commit(txn), 0);
	mdb_env_close(env);
}

static void
test_replay_drops_what_does_not_follow(void)
{
	uint8_t junk[8 + 2 * 32 + 16 + 1 + 40] = { 0 }, hash[32];
	struct trail t = { 0 };
	struct or_store *a = make_source(&t);
	struct or_copy_stats cs;
	struct or_store_stats st;
	struct or_err err = { "" };
	struct or_copy *c;
	uint64_t seq;

	snprintf(cdir, sizeof(cdir), "/tmp/or_test_copy.XXXXXX");
	CU_ASSERT_PTR_NOT_NULL_FATAL(mkdtemp(cdir));
	c = open_copy();
	CU_ASSERT_EQUAL_FATAL(or_copy_follow(c, t.e, 200, NULL, &err), 0);
	CU_ASSERT_EQUAL_FATAL(or_copy_fold(c, &err), 0);
	CU_ASSERT_EQUAL_FATAL(or_copy_follow(c, t.e + 200, 150, NULL, &err), 0);
	or_copy_close(c);
	/* an entry at 351 whose prev_hash is not entry 350's hash, and one
	 * at 2, folded already: both dropped, the rest replayed */
	log_put(351, junk, sizeof(junk) - 8);
	log_put(2, junk, sizeof(junk) - 8);
	c = open_copy();
	or_copy_position(c, &seq, hash);
	CU_ASSERT_EQUAL(seq, 350);
	CU_ASSERT_EQUAL(memcmp(hash, t.e[349].hash, 32), 0);
	CU_ASSERT_EQUAL(or_copy_stats(c, &st, &cs, &err), 0);
	CU_ASSERT_EQUAL(cs.unfolded, 150);
	/* following goes on from 351, the real one */
	CU_ASSERT_EQUAL_FATAL(or_copy_follow(c, t.e + 350, 50, NULL, &err), 0);
	assert_reads_same(a, c);
	or_copy_close(c);
	/* and the junk is gone for good: reopened, the same */
	c = open_copy();
	or_copy_position(c, &seq, hash);
	CU_ASSERT_EQUAL(seq, 400);
	assert_reads_same(a, c);
	or_copy_close(c);
	or_store_close(a);
	free(t.e);
	ts_rm_store(cdir);
	ts_rm_store(sdir);
	cdir[0] = sdir[0] = '\0';
}

static int
suite_clean(void)
{
	ts_rm_store(cdir);
	ts_rm_store(sdir);
	return 0;
}

static CU_TestInfo copy_tests[] = {
	{ "the overlay map agrees with an array", test_map_against_array },
	{ "the fold thread folds an idle log", test_fold_thread },
	{ "replay drops entries that do not follow or were folded",
	  test_replay_drops_what_does_not_follow },
	CU_TEST_INFO_NULL,
};

OR_TEST_SUITE("copy", NULL, suite_clean, copy_tests)
