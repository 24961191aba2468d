/* SPDX-License-Identifier: BSD-3-Clause
 *
 * Consent store (control/store/store.h), sender-authentication state: the
 * auth epoch state machine and the record of a key issued. The rest of
 * the store is the `store` suite (test_store.c).
 */
#include <errno.h>
#include <string.h>

#include <lmdb.h>

#include "control/store/store.h"
#include "or_test.h"
#include "test_store_util.h"

static void
auth_expect(struct or_store *s, uint8_t cur, int has_prev, uint8_t prev,
	    uint64_t seq)
{
	struct or_auth_state st;

	memset(&st, 0xee, sizeof(st));
	CU_ASSERT_EQUAL_FATAL(or_store_auth_get(s, &st, NULL), 0);
	CU_ASSERT_EQUAL(st.current, cur);
	CU_ASSERT_EQUAL(st.has_previous, has_prev);
	if (has_prev)
		CU_ASSERT_EQUAL(st.previous, prev);
	CU_ASSERT_EQUAL(st.seq, seq);
}

/* Writes the auth meta value as docs/consent-store.md lays it out. */
static void
auth_put_raw(const uint8_t *v, size_t len)
{
	MDB_env *env;
	MDB_txn *txn;
	MDB_dbi meta;
	MDB_val k = { 4, "auth" }, d = { len, (void *)v };

	CU_ASSERT_FATAL(mdb_env_create(&env) == 0 &&
			mdb_env_set_maxdbs(env, 4) == 0 &&
			mdb_env_set_mapsize(env, TS_MAP_SIZE) == 0 &&
			mdb_env_open(env, ts_dir, 0, 0600) == 0 &&
			mdb_txn_begin(env, NULL, 0, &txn) == 0 &&
			mdb_dbi_open(txn, "meta", 0, &meta) == 0 &&
			mdb_put(txn, meta, &k, &d, 0) == 0 &&
			mdb_txn_commit(txn) == 0);
	mdb_env_close(env);
}

/* The auth epoch state machine: rotate, refused while a previous epoch is
 * live, retire, refused without one, durable across reopen, seqs shared
 * with consent changes, the epoch wrapping at 255. */
static void
test_auth_epochs(void)
{
	struct or_store *s = ts_fresh_store(ts_dir);
	struct or_auth_state st;
	struct or_change ch[3];
	struct or_err err = { "" };
	uint64_t first;
	uint8_t raw[16] = { 1, 255, 0, 0, 0, 0, 0, 0, 9 };

	CU_ASSERT_PTR_NOT_NULL_FATAL(s);
	auth_expect(s, 0, 0, 0, 0); /* a fresh store */
	for (unsigned i = 0; i < 3; i++)
		ch[i] = ts_chg(i, OR_ACT_OPTIN, -1);
	CU_ASSERT_EQUAL_FATAL(or_store_apply(s, ts_pol4(), ch, 3, NULL, &first,
					     NULL), 0);

	CU_ASSERT_EQUAL(or_store_auth_rotate(s, 0, &st, &err), 0);
	CU_ASSERT(st.current == 1 && st.has_previous && st.previous == 0 &&
		  st.seq == 4);
	CU_ASSERT_EQUAL(ts_last_seq(s), 4);
	memset(&st, 0, sizeof(st));
	CU_ASSERT_EQUAL(or_store_auth_rotate(s, 0, &st, &err), -EBUSY);
	CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "retire epoch 0 first"));
	CU_ASSERT_EQUAL(ts_last_seq(s), 4); /* nothing written */
	s = ts_reopen(ts_dir, s, 0);
	CU_ASSERT_PTR_NOT_NULL_FATAL(s);
	auth_expect(s, 1, 1, 0, 4);

	CU_ASSERT_EQUAL(or_store_auth_retire(s, 0, &st, &err), 0);
	CU_ASSERT(st.current == 1 && !st.has_previous && st.seq == 5);
	CU_ASSERT_EQUAL(or_store_auth_retire(s, 0, &st, &err), -ENOENT);
	CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "no previous epoch"));
	s = ts_reopen(ts_dir, s, 0);
	CU_ASSERT_PTR_NOT_NULL_FATAL(s);
	auth_expect(s, 1, 0, 0, 5);
	/* Consent changes go on after the epoch events' seqs. */
	CU_ASSERT_EQUAL(or_store_apply(s, ts_pol4(), ch, 1, NULL, &first, NULL), 0);
	CU_ASSERT_EQUAL(first, 6);
	CU_ASSERT_EQUAL(or_store_auth_rotate(s, 0, &st, &err), 0);
	CU_ASSERT(st.current == 2 && st.previous == 1 && st.seq == 7);

	/* Epoch 255 rotates to 0. */
	or_store_close(s);
	auth_put_raw(raw, sizeof(raw));
	s = ts_reopen(ts_dir, NULL, 0);
	CU_ASSERT_PTR_NOT_NULL_FATAL(s);
	auth_expect(s, 255, 0, 0, 9);
	CU_ASSERT_EQUAL(or_store_auth_rotate(s, 0, &st, &err), 0);
	CU_ASSERT(st.current == 0 && st.has_previous && st.previous == 255);

	/* Read-only: readable, not changeable. */
	s = ts_reopen(ts_dir, s, 1);
	CU_ASSERT_PTR_NOT_NULL_FATAL(s);
	auth_expect(s, 0, 1, 255, 8);
	CU_ASSERT_EQUAL(or_store_auth_retire(s, 0, &st, &err), -EROFS);

	/* A malformed value is an error, not epoch 0. */
	or_store_close(s);
	raw[0] = 2;
	auth_put_raw(raw, sizeof(raw));
	s = ts_reopen(ts_dir, NULL, 0);
	CU_ASSERT_PTR_NOT_NULL_FATAL(s);
	CU_ASSERT_EQUAL(or_store_auth_get(s, &st, &err), -EBADMSG);
	CU_ASSERT_EQUAL(or_store_auth_rotate(s, 0, &st, &err), -EBADMSG);
	or_store_close(s);
}

/* A key issued is audited, not stored: the record stays as it was, and
 * only an opted-in subject gets one, checked at its place in the group. */
static void
test_key_change(void)
{
	struct or_store *s = ts_fresh_store(ts_dir);
	struct or_change ch[2];
	struct or_change_result res[2];
	struct or_consent before, after;
	struct or_store_stats st;
	struct or_err err = { "" };
	uint64_t first;

	CU_ASSERT_PTR_NOT_NULL_FATAL(s);
	memset(&before, 0, sizeof(before)); /* padding too, for memcmp */
	memset(&after, 0, sizeof(after));
	ch[0] = ts_chg(1, OR_ACT_OPTIN, 3);
	CU_ASSERT_EQUAL_FATAL(or_store_apply(s, ts_pol4(), ch, 1, NULL, NULL, NULL),
			      0);
	CU_ASSERT_EQUAL_FATAL(or_store_get(s, &ch[0].token, &before), 0);
	ch[0] = ts_chg(1, OR_ACT_KEY, -1);
	ch[0].epoch = 9;
	CU_ASSERT_EQUAL(or_store_apply(s, ts_pol4(), ch, 1, res, &first, &err), 0);
	CU_ASSERT_EQUAL(first, 2);
	CU_ASSERT_EQUAL(res[0].rec, or_consent_rec(&before));
	CU_ASSERT_EQUAL(res[0].prev_rec, res[0].rec);
	CU_ASSERT_EQUAL_FATAL(or_store_get(s, &ch[0].token, &after), 0);
	CU_ASSERT_EQUAL(memcmp(&before, &after, sizeof(before)), 0);
	CU_ASSERT_EQUAL(or_store_stats(s, &st, NULL), 0);
	CU_ASSERT(st.entries == 1 && st.opted_in == 1 && st.last_seq == 2 &&
		  st.audit_entries == 2);

	/* Not to a subject without a record, nor to one opted out
	 * earlier in the same group; nothing of the group is applied. */
	ch[0] = ts_chg(2, OR_ACT_KEY, -1);
	CU_ASSERT_EQUAL(or_store_apply(s, ts_pol4(), ch, 1, NULL, NULL, &err),
			-EINVAL);
	CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "change 0: a key is issued only "
					       "to an opted-in subject"));
	ch[0] = ts_chg(1, OR_ACT_OPTOUT, -1);
	ch[1] = ts_chg(1, OR_ACT_KEY, -1);
	CU_ASSERT_EQUAL(or_store_apply(s, ts_pol4(), ch, 2, NULL, NULL, &err),
			-EINVAL);
	CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "change 1: a key"));
	CU_ASSERT_EQUAL(ts_last_seq(s), 2);
	CU_ASSERT_EQUAL_FATAL(or_store_get(s, &ch[0].token, &after), 0);
	CU_ASSERT_EQUAL(after.state, OR_STATE_IN);
	/* An opt-in and its key in one group: the key sees the opt-in. */
	ch[0] = ts_chg(2, OR_ACT_OPTIN, -1);
	ch[1] = ts_chg(2, OR_ACT_KEY, -1);
	CU_ASSERT_EQUAL(or_store_apply(s, ts_pol4(), ch, 2, res, &first, &err), 0);
	CU_ASSERT_EQUAL(res[1].rec, res[0].rec);
	/* A key names no node. */
	ch[0] = ts_chg(2, OR_ACT_KEY, 1);
	CU_ASSERT_EQUAL(or_store_apply(s, ts_pol4(), ch, 1, NULL, NULL, &err),
			-EINVAL);
	or_store_close(s);
}

static CU_TestInfo store_auth_tests[] = {
	{ "auth epochs", test_auth_epochs },
	{ "key issued", test_key_change },
	CU_TEST_INFO_NULL,
};

OR_TEST_SUITE("store_auth", NULL, ts_suite_clean, store_auth_tests)
