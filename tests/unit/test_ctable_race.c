/* Consent table: the reader races the contract guards against, made
 * deterministic. A test hook runs writer steps in the middle of a lookup
 * (between the primary and the alternate bucket pass), i.e. at the worst
 * moment a concurrent writer could pick. */
#include <stdlib.h>

#include "dataplane/table/ct_internal.h"
#include "or_test.h"
#include "ct_test_keys.h"

static struct ct *race_h;
static uint32_t race_bucket;
static unsigned race_slot;
static int race_moved;

/* Finds a key living in its alternate bucket whose primary bucket has a
 * free slot (so it can move home). Returns its index or -1. */
static int
find_alt_key(struct ct *h, uint32_t n, uint32_t *bucket, unsigned *slot)
{
	struct ct_table *t = h->live;

	for (uint32_t i = 0; i < n; i++) {
		struct or_token k;
		uint32_t p, a;

		ctt_key(i, &k);
		ct_buckets_of(t, ct_hash(t, k.b), &p, &a);
		for (unsigned s = 0; s < CT_SLOTS; s++) {
			if (!ct_key_eq(t->buckets[a].key[s], k.b) ||
			    !ct_rec_live(t->buckets[a].rec[s]))
				continue;
			for (unsigned f = 0; f < CT_SLOTS; f++) {
				if (t->buckets[p].rec[f] == CT_REC_FREE) {
					*bucket = a;
					*slot = s;
					return (int)i;
				}
			}
		}
	}
	return -1;
}

static void
move_home(void)
{
	race_moved = ct_table_move(race_h, race_h->live, race_bucket, race_slot,
				   NULL) == 0;
}

/* The key moves from its alternate bucket to its primary one after the
 * lookup scanned the primary and before it scans the alternate: without
 * the move counter re-check the lookup would miss a key that was present
 * all along. */
static void
test_move_during_lookup(void)
{
	struct ct_params p = { .entries = 3000, .socket_id = -1 };
	struct or_token k;
	int idx = -1;

	CU_ASSERT_FATAL(ct_create(&p, &race_h) == 0);
	/* fill up until some keys live in their alternate bucket, then free
	 * room by deleting a tenth of the keys */
	for (uint32_t i = 0; i < 2500; i++) {
		ctt_key(i, &k);
		CU_ASSERT_FATAL(ctt_upsert(race_h, &k, ctt_rec(i, OR_STATE_IN)) == 0);
	}
	for (uint32_t i = 0; i < 2500; i += 10) {
		ctt_key(i, &k);
		ct_delete(race_h, &k);
	}
	ct_sync(race_h);
	idx = find_alt_key(race_h, 2500, &race_bucket, &race_slot);
	CU_ASSERT_FATAL(idx >= 0);

	uint64_t moves_before = race_h->live->moves;
	ctt_key((uint32_t)idx, &k);
	ct_debug_mid_lookup_hook = move_home;
	uint32_t rec = ct_lookup(race_h, &k);
	ct_debug_mid_lookup_hook = NULL;
	CU_ASSERT(race_moved);
	CU_ASSERT_EQUAL(race_h->live->moves, moves_before + 1);
	CU_ASSERT_EQUAL(rec, ctt_rec((uint32_t)idx, OR_STATE_IN));
	/* and it is now found in its primary bucket */
	CU_ASSERT_EQUAL(ct_lookup(race_h, &k), ctt_rec((uint32_t)idx, OR_STATE_IN));
	ct_destroy(race_h);
}

/* A key deleted in the middle of a lookup may or may not be returned, but
 * if returned it is its own, whole record; after ct_sync it is gone. */
static struct or_token race_del_key;

static void
delete_mid(void)
{
	ct_delete(race_h, &race_del_key);
}

static void
test_delete_during_lookup(void)
{
	struct ct_params p = { .entries = 100, .socket_id = -1 };
	uint32_t rec;

	CU_ASSERT_FATAL(ct_create(&p, &race_h) == 0);
	ctt_key(42, &race_del_key);
	CU_ASSERT_FATAL(ct_upsert(race_h, &race_del_key, ctt_rec(42, OR_STATE_IN)) == 0);
	ct_debug_mid_lookup_hook = delete_mid;
	rec = ct_lookup(race_h, &race_del_key);
	ct_debug_mid_lookup_hook = NULL;
	CU_ASSERT(rec == 0 || rec == ctt_rec(42, OR_STATE_IN));
	ct_sync(race_h);
	CU_ASSERT_EQUAL(ct_lookup(race_h, &race_del_key), 0);
	ct_destroy(race_h);
}

/* G4: a change made and synced between a burst's read stage and its
 * finish is what the finish returns. The dataplane decides a burst after
 * its finish, one poll after the read, and the channel acknowledges a
 * change after ct_sync(): without the re-check, a frame could be decided
 * on a record older than an acknowledged opt-out. */
static void
test_change_between_read_and_finish(void)
{
	struct ct_params p = { .entries = 100, .socket_id = -1 };
	struct or_token keys[32];
	const struct or_token *kp[32];
	static struct ct_burst b;
	uint64_t hits;

	CU_ASSERT_FATAL(ct_create(&p, &race_h) == 0);
	for (uint32_t i = 0; i < 32; i++) {
		ctt_key(i, &keys[i]);
		kp[i] = &keys[i];
		CU_ASSERT_FATAL(ct_upsert(race_h, &keys[i], ctt_rec(i, OR_STATE_IN)) == 0);
	}
	ct_sync(race_h);
	ct_lookup_start(race_h, kp, 32, &b);
	ct_lookup_step(race_h, NULL, &b, NULL, 0, NULL); /* read stage */
	CU_ASSERT_FATAL(ct_upsert(race_h, &keys[5], ctt_rec(5, OR_STATE_OUT)) == 0);
	CU_ASSERT_FATAL(ct_delete(race_h, &keys[7]) == 0);
	ct_sync(race_h);
	hits = ct_lookup_step(race_h, &b, NULL, NULL, 0, NULL); /* finish */
	CU_ASSERT_EQUAL(hits, 0xffffffffull & ~(1ull << 7));
	CU_ASSERT_EQUAL(b.recs[5], ctt_rec(5, OR_STATE_OUT));
	CU_ASSERT_EQUAL(b.recs[7], 0);
	CU_ASSERT_EQUAL(b.recs[6], ctt_rec(6, OR_STATE_IN));
	ct_destroy(race_h);
}

static CU_TestInfo race_tests[] = {
	{ "change synced between read and finish is seen", test_change_between_read_and_finish },
	{ "key moved home mid-lookup is found", test_move_during_lookup },
	{ "key deleted mid-lookup", test_delete_during_lookup },
	CU_TEST_INFO_NULL,
};

OR_TEST_SUITE("ctable_race", NULL, NULL, race_tests)
