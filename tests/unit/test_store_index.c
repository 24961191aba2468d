/* SPDX-License-Identifier: BSD-3-Clause
 *
 * The token index of store format 2 (docs/consent-store.md, "Audit"): no
 * row for the event a live record names, rows for every other event;
 * subject exports and verification read both; a format-1 store (a row for
 * every event) still verifies and exports, and is marked 2 by a writable
 * open; a record whose seq is edited is caught. Raw LMDB edits use the
 * layout documented there.
 */
#include <endian.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <lmdb.h>

#include "control/store/audit.h"
#include "control/store/store.h"
#include "or_test.h"
#include "test_store_util.h"

static char idir[64];

static const struct or_node_policy ipol = { .kind = OR_NODE_POLICY_HASH,
					    .n_nodes = 4 };

static int
suite_clean(void)
{
	ts_rm_store(idir);
	idir[0] = '\0';
	return 0;
}

static struct or_store *
iopen(void)
{
	struct or_store_conf conf = { .path = idir };
	struct or_store *s = NULL;
	struct or_err err;

	if (or_store_open(&conf, &s, &err) != 0)
		fprintf(stderr, "store open: %s\n", err.msg);
	return s;
}

static struct or_change
ich(unsigned tok, uint8_t action)
{
	return (struct or_change){ .token = ts_tok(tok), .action = action,
				   .method = OR_METHOD_APP, .node = -1,
				   .notice_version = 1 };
}

/* Token 1: opt-in (1), key (2), opt-out (3), opt-in (4), key (5); token
 * 2: erase of nothing (6); token 3: opt-in (7). Records name 4 and 7. */
static struct or_store *
build(int one_by_one)
{
	struct or_change ch[] = {
		ich(1, OR_ACT_OPTIN), ich(1, OR_ACT_KEY), ich(1, OR_ACT_OPTOUT),
		ich(1, OR_ACT_OPTIN), ich(1, OR_ACT_KEY), ich(2, OR_ACT_ERASE),
		ich(3, OR_ACT_OPTIN),
	};
	struct or_store *s;
	int rc = 0;

	suite_clean();
	strcpy(idir, "/tmp/or_test_sidx.XXXXXX");
	if (mkdtemp(idir) == NULL)
		return NULL;
	s = iopen();
	if (s == NULL)
		return NULL;
	if (one_by_one)
		for (unsigned i = 0; i < 7 && rc == 0; i++)
			rc = or_store_apply(s, &ipol, ch + i, 1, NULL, NULL,
					    NULL);
	else
		rc = or_store_apply(s, &ipol, ch, 7, NULL, NULL, NULL);
	CU_ASSERT_EQUAL(rc, 0);
	return s;
}

static size_t
raw_rows(void)
{
	struct raw r;
	MDB_stat st = { 0 };

	CU_ASSERT_EQUAL_FATAL(raw_open(&r, idir), 0);
	CU_ASSERT_EQUAL(mdb_stat(r.txn, r.idx, &st), 0);
	CU_ASSERT_EQUAL(raw_close(&r), 0);
	return st.ms_entries;
}

static uint32_t
raw_format(void)
{
	struct raw r;
	MDB_val k = { 6, "format" }, v = { 0, NULL };
	uint32_t f = 0;

	CU_ASSERT_EQUAL_FATAL(raw_open(&r, idir), 0);
	CU_ASSERT_EQUAL(mdb_get(r.txn, r.meta, &k, &v), 0);
	if (v.mv_size == 4)
		memcpy(&f, v.mv_data, 4);
	CU_ASSERT_EQUAL(raw_close(&r), 0);
	return le32toh(f);
}

/* Subject export of token tok: its seqs, oldest first. */
static int
seqs(struct or_store *s, unsigned tok, uint64_t *out, size_t max, size_t *n,
     uint64_t *bad)
{
	struct or_token t = ts_tok(tok);
	struct or_audit_entry *l = NULL;
	struct or_err err;
	int rc;

	*bad = 0;
	rc = or_audit_subject(s, &t, &l, n, bad, &err);
	for (size_t i = 0; rc == 0 && i < *n && i < max; i++)
		out[i] = l[i].seq;
	free(l);
	return rc;
}

static void
expect_seqs(struct or_store *s, unsigned tok, const uint64_t *want, size_t n)
{
	uint64_t got[16], bad;
	size_t k = 0;

	CU_ASSERT_EQUAL(seqs(s, tok, got, 16, &k, &bad), 0);
	CU_ASSERT_EQUAL(k, n);
	for (size_t i = 0; i < n && i < k; i++)
		CU_ASSERT_EQUAL(got[i], want[i]);
}

static int
verify(struct or_store *s, uint64_t *bad)
{
	struct or_err err;

	*bad = 0;
	return or_audit_verify(s, bad, NULL, &err);
}

static void
test_rows(void)
{
	static const uint64_t t1[] = { 1, 2, 3, 4, 5 }, t2[] = { 6 },
			      t3[] = { 7 };
	for (int by_one = 0; by_one < 2; by_one++) {
		struct or_store *s = build(by_one);
		uint64_t bad;

		CU_ASSERT_PTR_NOT_NULL_FATAL(s);
		CU_ASSERT_EQUAL(verify(s, &bad), 0);
		expect_seqs(s, 1, t1, 5);
		expect_seqs(s, 2, t2, 1);
		expect_seqs(s, 3, t3, 1);
		or_store_close(s);
		/* 7 events, 2 named by records (4 and 7): 5 rows. */
		CU_ASSERT_EQUAL(raw_rows(), 5);
		CU_ASSERT_EQUAL(raw_format(), 2);
	}
}

/* A format-1 store: rows for the events the records name too. */
static void
test_format1(void)
{
	static const uint64_t t1[] = { 1, 2, 3, 4, 5 }, t1b[] = { 1, 2, 3, 4, 5, 9 },
			      t3[] = { 7, 8 };
	struct or_change ch[] = { ich(3, OR_ACT_OPTOUT), ich(1, OR_ACT_OPTOUT) };
	struct or_store *s = build(0);
	struct or_token a = ts_tok(1), b = ts_tok(3);
	uint64_t s4 = htobe64(4), s7 = htobe64(7), bad;
	uint32_t f1 = htole32(1);
	MDB_val ka = { 16, a.b }, kb = { 16, b.b }, v4 = { 8, &s4 },
		v7 = { 8, &s7 }, fk = { 6, "format" }, fv = { 4, &f1 };
	struct raw r;

	CU_ASSERT_PTR_NOT_NULL_FATAL(s);
	or_store_close(s);
	CU_ASSERT_EQUAL_FATAL(raw_open(&r, idir), 0);
	CU_ASSERT_EQUAL(mdb_put(r.txn, r.idx, &ka, &v4, MDB_NODUPDATA), 0);
	CU_ASSERT_EQUAL(mdb_put(r.txn, r.idx, &kb, &v7, MDB_NODUPDATA), 0);
	CU_ASSERT_EQUAL(mdb_put(r.txn, r.meta, &fk, &fv, 0), 0);
	CU_ASSERT_EQUAL_FATAL(raw_close(&r), 0);
	CU_ASSERT_EQUAL(raw_format(), 1);

	s = iopen();
	CU_ASSERT_PTR_NOT_NULL_FATAL(s);
	CU_ASSERT_EQUAL(raw_format(), 2); /* marked by the writable open */
	CU_ASSERT_EQUAL(verify(s, &bad), 0);
	expect_seqs(s, 1, t1, 5); /* 4 once, though row and record name it */
	/* Changes to records whose event already has its row. */
	CU_ASSERT_EQUAL(or_store_apply(s, &ipol, ch, 2, NULL, NULL, NULL), 0);
	CU_ASSERT_EQUAL(verify(s, &bad), 0);
	expect_seqs(s, 1, t1b, 6);
	expect_seqs(s, 3, t3, 2);
	or_store_close(s);
	CU_ASSERT_EQUAL(raw_rows(), 7);
}

/* A record's seq edited: the event it named is in no index any more, and
 * the subject export reads an event of another token. */
static void
test_record_seq_edited(void)
{
	struct or_store *s = build(0);
	struct or_token t = ts_tok(3);
	MDB_val k = { 16, t.b }, v;
	uint8_t rec[40];
	uint64_t sq = htole64(4), got[4], bad;
	size_t n;
	struct raw r;

	CU_ASSERT_PTR_NOT_NULL_FATAL(s);
	or_store_close(s);
	CU_ASSERT_EQUAL_FATAL(raw_open(&r, idir), 0);
	CU_ASSERT_EQUAL_FATAL(mdb_get(r.txn, r.consent, &k, &v), 0);
	CU_ASSERT_EQUAL_FATAL(v.mv_size, sizeof(rec));
	memcpy(rec, v.mv_data, sizeof(rec));
	memcpy(rec + 32, &sq, sizeof(sq)); /* seq: 7 -> 4 (token 1's) */
	v = (MDB_val){ sizeof(rec), rec };
	CU_ASSERT_EQUAL(mdb_put(r.txn, r.consent, &k, &v, 0), 0);
	CU_ASSERT_EQUAL_FATAL(raw_close(&r), 0);

	s = iopen();
	CU_ASSERT_PTR_NOT_NULL_FATAL(s);
	CU_ASSERT_EQUAL(verify(s, &bad), -EBADMSG);
	CU_ASSERT_EQUAL(bad, 7);
	CU_ASSERT_EQUAL(seqs(s, 3, got, 4, &n, &bad), -EBADMSG);
	CU_ASSERT_EQUAL(bad, 4);
	or_store_close(s);
}

static CU_TestInfo store_index_tests[] = {
	{ "rows except the records' events", test_rows },
	{ "format 1 store", test_format1 },
	{ "record seq edited", test_record_seq_edited },
	CU_TEST_INFO_NULL,
};

OR_TEST_SUITE("store_index", NULL, suite_clean, store_index_tests)
