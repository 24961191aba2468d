/* The table's mark (include/optroute/chan.h MARK, docs/channel.md
 * "Resuming"): kept only after a full resync and while no ERROR was
 * sent since, forgotten at the next table change, reported in the HELLO
 * of the next connection. Malformed MARKs: test_chan_edge.c. */
#include <errno.h>
#include <string.h>

#include <CUnit/CUnit.h>

#include "or_test.h"
#include "test_chan_util.h"

/* MARK is not acked: a STATS round trip behind it shows it was read. */
static void
mk_barrier(struct tc_env *e)
{
	struct or_chan_stat st[4];
	unsigned n = 0;

	CU_ASSERT_EQUAL(or_chan_get_stats(e->c, st, 4, &n, TC_TIMEOUT_MS), 0);
}

static void
mk_hash(uint8_t h[OR_CHAN_MARK_HASH_LEN], uint8_t v)
{
	for (unsigned i = 0; i < OR_CHAN_MARK_HASH_LEN; i++)
		h[i] = (uint8_t)(v + i);
}

static void
mk_reconnect(struct tc_env *e)
{
	or_chan_close(e->c);
	CU_ASSERT_EQUAL_FATAL(or_chan_connect(e->path, OR_CHAN_ROLE_CONTROL,
					      TC_TIMEOUT_MS, &e->c), 0);
}

static void
mk_resync(struct tc_env *e, uint64_t gen, uint32_t n)
{
	struct or_chan_op ops[64];
	uint64_t seq = 0;

	tc_mk_ops(ops, 0, n, OR_CHAN_OP_UPSERT, 0);
	CU_ASSERT_EQUAL(or_chan_resync(e->c, gen, ops, n, &seq), 0);
	CU_ASSERT_EQUAL(or_chan_wait_ack(e->c, seq, TC_TIMEOUT_MS), 0);
}

static void
test_mark_kept(void)
{
	uint8_t h[OR_CHAN_MARK_HASH_LEN], h2[OR_CHAN_MARK_HASH_LEN];
	static const uint8_t zero[OR_CHAN_MARK_HASH_LEN];
	struct tc_env e;

	mk_hash(h, 1);
	mk_hash(h2, 9);
	tc_env_start(&e, 1024, 0);
	CU_ASSERT_EQUAL(or_chan_peer(e.c)->mark_seq, 0);
	CU_ASSERT_EQUAL(or_chan_send_mark(e.c, 0, h), -EINVAL);

	/* Before any full resync the table matches no store. */
	CU_ASSERT_EQUAL(or_chan_send_mark(e.c, 41, h), 0);
	mk_barrier(&e);
	CU_ASSERT_EQUAL(tc_ustats(&e).mark_seq, 0);
	CU_ASSERT_EQUAL(tc_ustats(&e).marks_refused, 1);

	mk_resync(&e, 3, 40);
	CU_ASSERT_EQUAL(or_chan_send_mark(e.c, 42, h), 0);
	mk_barrier(&e);
	CU_ASSERT_EQUAL(tc_ustats(&e).mark_seq, 42);
	CU_ASSERT_EQUAL(tc_ustats(&e).marks, 1);

	/* The next peer hears of it, hash and all. */
	mk_reconnect(&e);
	CU_ASSERT_EQUAL(or_chan_peer(e.c)->mark_seq, 42);
	CU_ASSERT_EQUAL(memcmp(or_chan_peer(e.c)->mark_hash, h, sizeof(h)), 0);
	CU_ASSERT_EQUAL(or_chan_peer(e.c)->generation, 3);

	/* A BATCH: the table is past the mark, which is forgotten. */
	tc_batch(&e, 100, 5, OR_CHAN_OP_UPSERT, 0);
	CU_ASSERT_EQUAL(tc_ustats(&e).mark_seq, 0);
	mk_reconnect(&e);
	CU_ASSERT_EQUAL(or_chan_peer(e.c)->mark_seq, 0);
	CU_ASSERT_EQUAL(memcmp(or_chan_peer(e.c)->mark_hash, zero,
			       sizeof(zero)), 0);

	/* Marked again, then a RESYNC_BEGIN forgets it too. */
	CU_ASSERT_EQUAL(or_chan_send_mark(e.c, 47, h2), 0);
	mk_barrier(&e);
	CU_ASSERT_EQUAL(tc_ustats(&e).mark_seq, 47);
	CU_ASSERT_EQUAL(or_chan_resync_begin(e.c, 4, NULL), 0);
	mk_barrier(&e);
	CU_ASSERT_EQUAL(tc_ustats(&e).mark_seq, 0);
	tc_env_stop(&e);
}

/* An ERROR (here: a table message refused) voids the mark until the next
 * full resync completes: the control plane may send a MARK before it
 * reads the ERROR. */
static void
test_mark_after_error(void)
{
	uint8_t h[OR_CHAN_MARK_HASH_LEN];
	struct tc_env e;
	uint64_t seq = 0;

	mk_hash(h, 3);
	tc_env_start(&e, 1024, 0);
	mk_resync(&e, 5, 10);
	CU_ASSERT_EQUAL(or_chan_send_mark(e.c, 10, h), 0);
	mk_barrier(&e);
	CU_ASSERT_EQUAL(tc_ustats(&e).mark_seq, 10);

	/* RESYNC_END without BEGIN: refused with an ERROR. */
	CU_ASSERT_EQUAL(or_chan_resync_end(e.c, 5, &seq), 0);
	CU_ASSERT_EQUAL(or_chan_wait_ack(e.c, seq, TC_TIMEOUT_MS), 0);
	CU_ASSERT_EQUAL(or_chan_take_errors(e.c, NULL), 1);
	CU_ASSERT_EQUAL(tc_ustats(&e).mark_seq, 0);
	CU_ASSERT_EQUAL(or_chan_send_mark(e.c, 11, h), 0);
	mk_barrier(&e);
	CU_ASSERT_EQUAL(tc_ustats(&e).mark_seq, 0);
	CU_ASSERT_EQUAL(tc_ustats(&e).marks_refused, 1);

	/* Still refused on the next connection, until a full resync. */
	mk_reconnect(&e);
	CU_ASSERT_EQUAL(or_chan_send_mark(e.c, 12, h), 0);
	mk_barrier(&e);
	CU_ASSERT_EQUAL(tc_ustats(&e).mark_seq, 0);
	mk_resync(&e, 6, 10);
	CU_ASSERT_EQUAL(or_chan_send_mark(e.c, 13, h), 0);
	mk_barrier(&e);
	CU_ASSERT_EQUAL(tc_ustats(&e).mark_seq, 13);
	CU_ASSERT_EQUAL(tc_ustats(&e).marks, 2);
	tc_env_stop(&e);
}

static CU_TestInfo chan_mark_tests[] = {
	{ "kept after a resync, reported, forgotten", test_mark_kept },
	{ "refused after an ERROR until a resync", test_mark_after_error },
	CU_TEST_INFO_NULL,
};

OR_TEST_SUITE("chan_mark", tc_suite_init, tc_suite_clean, chan_mark_tests)
