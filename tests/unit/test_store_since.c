/* SPDX-License-Identifier: BSD-3-Clause
 *
 * The changes since a position (audit.h or_audit_changes_since, copy.h
 * or_copy_changes_since; docs/channel.md "Resuming"): the records at an
 * earlier position with the changes since applied equal the records now,
 * from the store and from a local copy that followed its trail; another
 * hash, a position not there, a copy folded past it and too many changes
 * are refused.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <CUnit/CUnit.h>

#include "control/store/copy.h"

#include "tests/lib/or_rand.h"
#include "or_test.h"
#include "test_store_util.h"

#define SN_TOKENS 100
#define SN_GROUPS 12
#define SN_GROUP 20

static char sn_sdir[64], sn_cdir[64];

/* The records of tokens 0..SN_TOKENS-1 after each group, and where each
 * group ended. */
struct sn_hist {
	uint32_t rec[SN_GROUPS + 1][SN_TOKENS];
	uint64_t seq[SN_GROUPS + 1];
	uint8_t hash[SN_GROUPS + 1][OR_AUDIT_HASH_LEN];
};

static void
sn_records(struct or_store *s, uint32_t rec[SN_TOKENS])
{
	for (int i = 0; i < SN_TOKENS; i++) {
		struct or_token t = ts_tok((uint64_t)i);
		struct or_consent c;

		rec[i] = or_store_get(s, &t, &c) == 0 ? or_consent_rec(&c) : 0;
	}
}

/* A store changed by SN_GROUPS groups of random opt-ins, opt-outs and
 * erasures of SN_TOKENS tokens. */
static struct or_store *
sn_source(struct sn_hist *h)
{
	struct or_store_conf sc = { .map_size = 64u << 20 };
	struct or_change ch[SN_GROUP];
	struct or_change_result res[SN_GROUP];
	struct or_err err = { "" };
	struct or_store *s = NULL;
	uint64_t rng = 17, first;

	snprintf(sn_sdir, sizeof(sn_sdir), "/tmp/or_test_since.XXXXXX");
	CU_ASSERT_PTR_NOT_NULL_FATAL(mkdtemp(sn_sdir));
	sc.path = sn_sdir;
	CU_ASSERT_EQUAL_FATAL(or_store_open(&sc, &s, &err), 0);
	for (int g = 0; g <= SN_GROUPS; g++) {
		if (g > 0) {
			for (int k = 0; k < SN_GROUP; k++) {
				uint64_t a = or_rand_below(&rng, 5);

				memset(&ch[k], 0, sizeof(ch[k]));
				ch[k].token = ts_tok(or_rand_below(&rng,
								   SN_TOKENS));
				ch[k].action = a < 3 ? OR_ACT_OPTIN
					       : a == 3 ? OR_ACT_OPTOUT
							: OR_ACT_ERASE;
				ch[k].method = OR_METHOD_APP;
				ch[k].node = a < 3 ? (int)a : -1;
				ch[k].time_ms = 1700000000000ull + (uint64_t)g;
			}
			CU_ASSERT_EQUAL_FATAL(or_store_apply(s, NULL, ch,
							     SN_GROUP, res,
							     &first, &err), 0);
		}
		CU_ASSERT_EQUAL_FATAL(or_audit_head(s, &h->seq[g], h->hash[g],
						    &err), 0);
		sn_records(s, h->rec[g]);
	}
	return s;
}

struct sn_apply {
	uint32_t rec[SN_TOKENS];
	unsigned n;
};

/* The dataplane's side: upsert, or delete for rec 0. */
static int
sn_apply_cb(void *arg, const struct or_store_entry *e, unsigned n)
{
	struct sn_apply *a = arg;

	for (unsigned k = 0; k < n; k++) {
		int found = 0;

		for (int i = 0; i < SN_TOKENS; i++) {
			struct or_token t = ts_tok((uint64_t)i);

			if (memcmp(t.b, e[k].token.b, OR_TOKEN_LEN) == 0) {
				a->rec[i] = e[k].rec;
				found = 1;
			}
		}
		CU_ASSERT(found);
	}
	a->n += n;
	return 0;
}

typedef int (*sn_since_fn)(void *src, uint64_t seq, const uint8_t *hash,
			   uint64_t max, struct or_store_entry *buf,
			   unsigned cap, or_store_chunk_cb cb, void *arg,
			   uint64_t *snap_seq, struct or_err *err);

static int
sn_store_since(void *src, uint64_t seq, const uint8_t *hash, uint64_t max,
	       struct or_store_entry *buf, unsigned cap, or_store_chunk_cb cb,
	       void *arg, uint64_t *snap_seq, struct or_err *err)
{
	return or_audit_changes_since(src, seq, hash, max, buf, cap, cb, arg,
				      snap_seq, err);
}

static int
sn_copy_since(void *src, uint64_t seq, const uint8_t *hash, uint64_t max,
	      struct or_store_entry *buf, unsigned cap, or_store_chunk_cb cb,
	      void *arg, uint64_t *snap_seq, struct or_err *err)
{
	return or_copy_changes_since(src, seq, hash, max, buf, cap, cb, arg,
				     snap_seq, err);
}

/* Entries of the trail of s after seq, or the distinct tokens they name
 * (what the copy's overlay holds). */
static unsigned
sn_expect(struct or_store *s, uint64_t seq, int distinct)
{
	struct trail t = { 0 };
	struct or_err err = { "" };
	unsigned n = 0;

	CU_ASSERT_EQUAL_FATAL(or_audit_foreach(s, seq + 1, trail_add, &t,
					       &err), 0);
	for (size_t i = 0; i < t.n; i++) {
		size_t j = 0;

		while (distinct && j < i &&
		       memcmp(t.e[j].token.b, t.e[i].token.b, OR_TOKEN_LEN))
			j++;
		n += !distinct || j == i;
	}
	free(t.e);
	return n;
}

/* From group g's position: its records plus the changes since equal the
 * last group's, and every change since is sent (src_store: the store of
 * the trail; distinct: a copy, which sends a token once). */
static void
sn_check_from(const struct sn_hist *h, int g, void *src, sn_since_fn since,
	      struct or_store *src_store, int distinct)
{
	struct or_store_entry buf[7]; /* small: several chunks */
	struct sn_apply a;
	struct or_err err = { "" };
	uint64_t snap = 0;

	memcpy(a.rec, h->rec[g], sizeof(a.rec));
	a.n = 0;
	CU_ASSERT_EQUAL_FATAL(since(src, h->seq[g], h->hash[g], UINT64_MAX,
				    buf, 7, sn_apply_cb, &a, &snap, &err), 0);
	CU_ASSERT_EQUAL(snap, h->seq[SN_GROUPS]);
	CU_ASSERT_EQUAL(memcmp(a.rec, h->rec[SN_GROUPS], sizeof(a.rec)), 0);
	/* every change is sent, none from before the position */
	CU_ASSERT_EQUAL(a.n, sn_expect(src_store, h->seq[g], distinct));
}

/* What must be refused, whatever the source. */
static void
sn_check_refused(const struct sn_hist *h, int g, void *src, sn_since_fn since)
{
	struct or_store_entry buf[7];
	struct sn_apply a = { { 0 }, 0 };
	struct or_err err = { "" };
	uint8_t bad[OR_AUDIT_HASH_LEN];

	memcpy(bad, h->hash[g], sizeof(bad));
	bad[5] ^= 1;
	CU_ASSERT_EQUAL(since(src, h->seq[g], bad, UINT64_MAX, buf, 7,
			      sn_apply_cb, &a, NULL, &err), -ESTALE);
	CU_ASSERT_EQUAL(since(src, h->seq[SN_GROUPS] + 1, h->hash[g],
			      UINT64_MAX, buf, 7, sn_apply_cb, &a, NULL, &err),
			-ESTALE);
	CU_ASSERT_EQUAL(since(src, h->seq[g], h->hash[g],
			      h->seq[SN_GROUPS] - h->seq[g] - 1, buf, 7,
			      sn_apply_cb, &a, NULL, &err), -E2BIG);
	CU_ASSERT_EQUAL(since(src, 0, h->hash[g], UINT64_MAX, buf, 7,
			      sn_apply_cb, &a, NULL, &err), -EINVAL);
	CU_ASSERT_EQUAL(a.n, 0);
}

static void
test_since_store(void)
{
	static struct sn_hist h;
	uint8_t hash[OR_AUDIT_HASH_LEN];
	struct or_err err = { "" };
	struct or_store *s = sn_source(&h);

	for (int g = 1; g < SN_GROUPS; g++) {
		CU_ASSERT_EQUAL(or_audit_hash_at(s, h.seq[g], hash, &err), 0);
		CU_ASSERT_EQUAL(memcmp(hash, h.hash[g], sizeof(hash)), 0);
		sn_check_from(&h, g, s, sn_store_since, s, 0);
	}
	sn_check_refused(&h, 3, s, sn_store_since);
	CU_ASSERT_EQUAL(or_audit_hash_at(s, h.seq[SN_GROUPS] + 1, hash, &err),
			-ENOENT);
	or_store_close(s);
	ts_rm_store(sn_sdir);
	sn_sdir[0] = '\0';
}

static void
test_since_copy(void)
{
	static struct sn_hist h;
	struct or_store_conf sc = { .map_size = 64u << 20 };
	uint8_t hash[OR_AUDIT_HASH_LEN];
	struct trail t = { 0 };
	struct or_err err = { "" };
	struct or_store *s = sn_source(&h);
	struct or_copy *c = NULL;
	struct sn_apply a = { { 0 }, 0 };
	struct or_store_entry buf[7];
	size_t at = 0;

	CU_ASSERT_EQUAL_FATAL(or_audit_foreach(s, 1, trail_add, &t, &err), 0);
	snprintf(sn_cdir, sizeof(sn_cdir), "/tmp/or_test_sincec.XXXXXX");
	CU_ASSERT_PTR_NOT_NULL_FATAL(mkdtemp(sn_cdir));
	sc.path = sn_cdir;
	CU_ASSERT_EQUAL_FATAL(or_copy_open(&sc, &c, &err), 0);
	/* Followed up to group 4, folded there, then to the end. */
	for (int g = 1; g <= SN_GROUPS; g++) {
		size_t n = (size_t)(h.seq[g] - h.seq[g - 1]);

		CU_ASSERT_EQUAL_FATAL(or_copy_follow(c, t.e + at, (unsigned)n,
						     NULL, &err), 0);
		at += n;
		if (g == 4)
			CU_ASSERT_EQUAL_FATAL(or_copy_fold(c, &err), 0);
	}
	for (int g = 4; g < SN_GROUPS; g++) {
		CU_ASSERT_EQUAL(or_copy_hash_at(c, h.seq[g], hash, &err), 0);
		CU_ASSERT_EQUAL(memcmp(hash, h.hash[g], sizeof(hash)), 0);
		sn_check_from(&h, g, c, sn_copy_since, s, 1);
	}
	sn_check_refused(&h, 6, c, sn_copy_since);
	/* Before the folded position: gone from the copy. */
	CU_ASSERT_EQUAL(or_copy_hash_at(c, h.seq[2], hash, &err), -ENOENT);
	CU_ASSERT_EQUAL(or_copy_changes_since(c, h.seq[2], h.hash[2],
					      UINT64_MAX, buf, 7, sn_apply_cb,
					      &a, NULL, &err), -ESTALE);
	/* Reopened, the log replayed: the same answers. */
	or_copy_close(c);
	CU_ASSERT_EQUAL_FATAL(or_copy_open(&sc, &c, &err), 0);
	sn_check_from(&h, 5, c, sn_copy_since, s, 1);
	/* Everything folded: only the position itself is left. */
	CU_ASSERT_EQUAL_FATAL(or_copy_fold(c, &err), 0);
	CU_ASSERT_EQUAL(or_copy_changes_since(c, h.seq[5], h.hash[5],
					      UINT64_MAX, buf, 7, sn_apply_cb,
					      &a, NULL, &err), -ESTALE);
	sn_check_from(&h, SN_GROUPS, c, sn_copy_since, s, 1);
	CU_ASSERT_EQUAL(a.n, 0);
	or_copy_close(c);
	or_store_close(s);
	free(t.e);
	ts_rm_store(sn_cdir);
	ts_rm_store(sn_sdir);
	sn_cdir[0] = sn_sdir[0] = '\0';
}

static int
sn_clean(void)
{
	ts_rm_store(sn_cdir);
	ts_rm_store(sn_sdir);
	return 0;
}

static CU_TestInfo since_tests[] = {
	{ "store: records then + changes since = now", test_since_store },
	{ "copy: the same after its folded position", test_since_copy },
	CU_TEST_INFO_NULL,
};

OR_TEST_SUITE("store_since", NULL, sn_clean, since_tests)
