/* Unit tests of the update channel, main paths: the updater
 * (dataplane/chan/) driven by the client library (control/lib/chan_client.c)
 * over a socket in a temporary directory (fixture: test_chan_util.c).
 * Malformed input, limits and concurrency: test_chan_edge.c. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <urcu-qsbr.h>

#include <CUnit/CUnit.h>

#include "or_test.h"
#include "test_chan_util.h"

static void
test_hello(void)
{
	struct tc_env e;
	const struct or_chan_peer_info *p;

	tc_env_start(&e, 1024, 0);
	p = or_chan_peer(e.c);
	CU_ASSERT_EQUAL(p->version, OR_CHAN_VERSION);
	CU_ASSERT_EQUAL(p->role, OR_CHAN_ROLE_DATAPLANE);
	CU_ASSERT_EQUAL(p->workers, 3);
	CU_ASSERT_EQUAL(p->max_ops, OR_CHAN_MAX_OPS);
	CU_ASSERT_EQUAL(p->entries, 0);
	CU_ASSERT_EQUAL(p->acked_seq, 0);
	CU_ASSERT_EQUAL(p->generation, 0);
	CU_ASSERT_EQUAL(tc_ustats(&e).connected, 1);
	CU_ASSERT_EQUAL(tc_ustats(&e).connects, 1);

	/* Socket mode 0660. */
	struct stat sb;
	CU_ASSERT_FATAL(stat(e.path, &sb) == 0);
	CU_ASSERT(S_ISSOCK(sb.st_mode));
	CU_ASSERT_EQUAL(sb.st_mode & 0777, 0660);
	tc_env_stop(&e);
	/* Stop removes the socket file. */
	CU_ASSERT(access(e.path, F_OK) != 0);
}

static void
test_batch(void)
{
	struct tc_env e;
	const uint32_t n = 5000; /* three messages; the table must grow */
	struct or_chan_err_info ei;
	int bad = 0;

	tc_env_start(&e, 1024, 0);
	tc_batch(&e, 0, n, OR_CHAN_OP_UPSERT, 0);
	for (uint32_t i = 0; i < n; i++)
		bad += tc_look(&e, i) != tc_rec(i);
	CU_ASSERT_EQUAL(bad, 0);
	CU_ASSERT_EQUAL(tc_entries(&e), n);
	CU_ASSERT_EQUAL(tc_ustats(&e).upserts, n);
	CU_ASSERT_EQUAL(tc_ustats(&e).batches, 3);
	CU_ASSERT_EQUAL(tc_ustats(&e).acked_seq, 3);

	/* Update a range, delete another one (plus 100 absent tokens). */
	tc_batch(&e, 0, 1000, OR_CHAN_OP_UPSERT, 7);
	tc_batch(&e, 4000, 1100, OR_CHAN_OP_DELETE, 0);
	bad = 0;
	for (uint32_t i = 0; i < n; i++) {
		uint32_t want = i < 1000 ? tc_rec(i + 7) : i < 4000 ? tc_rec(i) : 0;

		bad += tc_look(&e, i) != want;
	}
	CU_ASSERT_EQUAL(bad, 0);
	CU_ASSERT_EQUAL(tc_entries(&e), 4000);
	CU_ASSERT_EQUAL(tc_ustats(&e).deletes, 1000);
	CU_ASSERT_EQUAL(tc_ustats(&e).delete_missing, 100);
	CU_ASSERT_EQUAL(or_chan_take_errors(e.c, &ei), 0);
	CU_ASSERT_EQUAL(tc_ustats(&e).errors, 0);

	/* The client refuses invalid ops before sending anything. */
	struct or_chan_op op;
	struct or_token t = tc_tok(1);
	or_chan_op_set(&op, OR_CHAN_OP_UPSERT, &t, 0);
	CU_ASSERT_EQUAL(or_chan_send_batch(e.c, &op, 1, NULL), -EINVAL);
	tc_env_stop(&e);
}

static void
test_seq_ack(void)
{
	struct tc_env e;
	struct or_chan_client *c2;
	uint64_t s1 = 0, s2 = 0;

	tc_env_start(&e, 1024, 0);
	CU_ASSERT_EQUAL(or_chan_acked(e.c), 0);
	/* Waiting for a seq never sent fails at once. */
	CU_ASSERT_EQUAL(or_chan_wait_ack(e.c, 1, 10), -EINVAL);
	CU_ASSERT_EQUAL(or_chan_set_next_seq(e.c, 100), 0);
	tc_batch(&e, 0, 10, OR_CHAN_OP_UPSERT, 0);
	CU_ASSERT_EQUAL(or_chan_acked(e.c), 100);
	CU_ASSERT_EQUAL(tc_ustats(&e).last_seq, 100);
	CU_ASSERT_EQUAL(tc_ustats(&e).acked_seq, 100);

	/* Several batches back to back: one ack covers them all. */
	struct or_chan_op ops[4];
	tc_mk_ops(ops, 10, 4, OR_CHAN_OP_UPSERT, 0);
	CU_ASSERT_EQUAL(or_chan_send_batch(e.c, ops, 2, &s1), 0);
	CU_ASSERT_EQUAL(or_chan_send_batch(e.c, ops + 2, 2, &s2), 0);
	CU_ASSERT_EQUAL(s1, 101);
	CU_ASSERT_EQUAL(s2, 102);
	CU_ASSERT_EQUAL(or_chan_wait_ack(e.c, s2, TC_TIMEOUT_MS), 0);
	CU_ASSERT(or_chan_acked(e.c) >= s2);
	CU_ASSERT_EQUAL(tc_look(&e, 13), tc_rec(13));
	/* Seq may not go backwards. */
	CU_ASSERT_EQUAL(or_chan_set_next_seq(e.c, 50), -ERANGE);

	/* A reconnecting peer learns the acked seq and continues from it. */
	or_chan_close(e.c);
	e.c = NULL;
	CU_ASSERT_EQUAL(or_chan_connect(e.path, OR_CHAN_ROLE_CONTROL,
					TC_TIMEOUT_MS, &c2), 0);
	CU_ASSERT_EQUAL(or_chan_peer(c2)->acked_seq, 102);
	CU_ASSERT_EQUAL(or_chan_peer(c2)->entries, 14);
	e.c = c2;
	tc_batch(&e, 20, 1, OR_CHAN_OP_UPSERT, 0);
	CU_ASSERT_EQUAL(or_chan_acked(e.c), 103);
	CU_ASSERT_EQUAL(tc_ustats(&e).connects, 2);
	tc_env_stop(&e);
}

/* A peer that sends batches and closes without reading their ACK: the
 * updater still applies and syncs them, and the next HELLO's acked_seq says
 * up to where. The test thread stays an online reader while it sends and
 * closes, so the updater's grace period cannot end (nor an ACK go out)
 * before the close: the last batches are read together with the EOF. */
static void
test_acked_after_close(void)
{
	struct tc_env e;
	struct or_chan_op ops[30];
	uint64_t seq = 0;

	tc_env_start(&e, 1024, 0);
	tc_mk_ops(ops, 0, 30, OR_CHAN_OP_UPSERT, 0);
	rcu_thread_online();
	for (int i = 0; i < 3; i++)
		CU_ASSERT_EQUAL(or_chan_send_batch(e.c, ops + 10 * i, 10, &seq),
				0);
	CU_ASSERT_EQUAL(seq, 3);
	or_chan_close(e.c);
	e.c = NULL;
	rcu_thread_offline();
	CU_ASSERT_EQUAL(tc_wait_for(&e, tc_get_connected, 0), 0);
	CU_ASSERT_EQUAL(tc_ustats(&e).acked_seq, 3);

	CU_ASSERT_EQUAL_FATAL(or_chan_connect(e.path, OR_CHAN_ROLE_CONTROL,
					      TC_TIMEOUT_MS, &e.c), 0);
	CU_ASSERT_EQUAL(or_chan_peer(e.c)->acked_seq, 3);
	CU_ASSERT_EQUAL(or_chan_peer(e.c)->entries, 30);
	CU_ASSERT_EQUAL(tc_look(&e, 29), tc_rec(29));
	/* The next connection's seqs continue after it. */
	tc_batch(&e, 30, 1, OR_CHAN_OP_UPSERT, 0);
	CU_ASSERT_EQUAL(or_chan_acked(e.c), 4);
	tc_env_stop(&e);
}

/* Upserts that need a cuckoo move are deferred to a later grace period
 * (chan_ops.c): ops on the same token must still apply in message order,
 * and a message must cost far fewer grace periods than ops. */
static void
test_defer_order(void)
{
	struct tc_env e;
	struct or_chan_op ops[2000];
	uint64_t seq = 0, syncs0, syncs1;
	int bad = 0;

	tc_env_start(&e, 1024, 0);
	tc_batch(&e, 0, 20000, OR_CHAN_OP_UPSERT, 0); /* a loaded table */
	syncs0 = tc_ustats(&e).syncs;
	/* One message: 1000 new tokens, then for each of them either an
	 * update (odd) or a delete (even). */
	tc_mk_ops(ops, 50000, 1000, OR_CHAN_OP_UPSERT, 0);
	for (uint32_t i = 0; i < 1000; i++) {
		struct or_token t = tc_tok(50000 + i);

		or_chan_op_set(&ops[1000 + i],
			       i % 2 ? OR_CHAN_OP_UPSERT : OR_CHAN_OP_DELETE,
			       &t, tc_rec(50000 + i + 1));
	}
	CU_ASSERT_EQUAL(or_chan_send_batch(e.c, ops, 2000, &seq), 0);
	CU_ASSERT_EQUAL(or_chan_wait_ack(e.c, seq, TC_TIMEOUT_MS), 0);
	CU_ASSERT_EQUAL(or_chan_take_errors(e.c, NULL), 0);
	syncs1 = tc_ustats(&e).syncs;
	for (uint32_t i = 0; i < 1000; i++)
		bad += tc_look(&e, 50000 + i) != (i % 2 ? tc_rec(50000 + i + 1) : 0);
	for (uint32_t i = 0; i < 20000; i++)
		bad += tc_look(&e, i) != tc_rec(i);
	CU_ASSERT_EQUAL(bad, 0);
	CU_ASSERT_EQUAL(tc_entries(&e), 20500);
	/* 20000 upserts in 10 messages and then this one: tens of grace
	 * periods, not one per displaced key. */
	CU_ASSERT(syncs0 < 20000 / 10);
	CU_ASSERT(syncs1 - syncs0 <= TC_MAX_SYNCS_PER_MSG);
	tc_env_stop(&e);
}

static void
test_resync(void)
{
	struct tc_env e;
	struct or_chan_op ops[1000], d[3];
	struct or_token t;
	uint64_t seq = 0;
	int bad = 0;

	tc_env_start(&e, 4096, 0);
	tc_batch(&e, 0, 1000, OR_CHAN_OP_UPSERT, 0);

	/* Resync with tokens 500..1499 (new records); during it, live deltas:
	 * upsert 5000 (new), delete 600 (re-sent before), upsert 100 (not
	 * re-sent: the delta alone keeps it). */
	tc_mk_ops(ops, 500, 1000, OR_CHAN_OP_UPSERT, 3);
	CU_ASSERT_EQUAL(or_chan_resync_begin(e.c, 7, NULL), 0);
	CU_ASSERT_EQUAL(or_chan_resync_data(e.c, ops, 600, NULL), 0);
	t = tc_tok(5000);
	or_chan_op_set(&d[0], OR_CHAN_OP_UPSERT, &t, tc_rec(5000));
	t = tc_tok(600);
	or_chan_op_set(&d[1], OR_CHAN_OP_DELETE, &t, 0);
	t = tc_tok(100);
	or_chan_op_set(&d[2], OR_CHAN_OP_UPSERT, &t, tc_rec(101));
	CU_ASSERT_EQUAL(or_chan_send_batch(e.c, d, 3, &seq), 0);
	CU_ASSERT_EQUAL(or_chan_wait_ack(e.c, seq, TC_TIMEOUT_MS), 0);
	/* Before the commit, workers still see the old table plus deltas. */
	CU_ASSERT_EQUAL(tc_look(&e, 0), tc_rec(0));
	CU_ASSERT_EQUAL(tc_look(&e, 500), tc_rec(500));
	CU_ASSERT_EQUAL(tc_look(&e, 1200), 0);
	CU_ASSERT_EQUAL(tc_look(&e, 5000), tc_rec(5000));
	CU_ASSERT_EQUAL(tc_look(&e, 600), 0);
	CU_ASSERT_EQUAL(tc_ustats(&e).generation, 0);

	CU_ASSERT_EQUAL(or_chan_resync_data(e.c, ops + 600, 400, NULL), 0);
	CU_ASSERT_EQUAL(or_chan_resync_end(e.c, 7, &seq), 0);
	CU_ASSERT_EQUAL(or_chan_wait_ack(e.c, seq, TC_TIMEOUT_MS), 0);
	CU_ASSERT_EQUAL(or_chan_take_errors(e.c, NULL), 0);

	for (uint32_t i = 0; i < 1500; i++) {
		uint32_t want = i >= 500 ? tc_rec(i + 3) : 0;

		if (i == 600)
			want = 0;
		if (i == 100)
			want = tc_rec(101);
		bad += tc_look(&e, i) != want;
	}
	CU_ASSERT_EQUAL(bad, 0);
	CU_ASSERT_EQUAL(tc_look(&e, 5000), tc_rec(5000));
	CU_ASSERT_EQUAL(tc_entries(&e), 1000 - 1 + 1 + 1);
	CU_ASSERT_EQUAL(tc_ustats(&e).resyncs, 1);
	CU_ASSERT_EQUAL(tc_ustats(&e).generation, 7);
	CU_ASSERT_FALSE(ct_replacing(e.t));

	/* The generation is reported to the next peer. */
	or_chan_close(e.c);
	CU_ASSERT_EQUAL_FATAL(or_chan_connect(e.path, OR_CHAN_ROLE_CONTROL,
					      TC_TIMEOUT_MS, &e.c), 0);
	CU_ASSERT_EQUAL(or_chan_peer(e.c)->generation, 7);
	CU_ASSERT_EQUAL(or_chan_peer(e.c)->entries, 1001);

	/* A whole resync in one call, empty: clears the table. */
	CU_ASSERT_EQUAL(or_chan_resync(e.c, 8, NULL, 0, &seq), 0);
	CU_ASSERT_EQUAL(or_chan_wait_ack(e.c, seq, TC_TIMEOUT_MS), 0);
	CU_ASSERT_EQUAL(tc_entries(&e), 0);
	CU_ASSERT_EQUAL(tc_look(&e, 5000), 0);
	CU_ASSERT_EQUAL(tc_ustats(&e).generation, 8);
	tc_env_stop(&e);
}

static void
test_resync_abort(void)
{
	struct tc_env e;
	struct or_chan_op ops[100], d;
	struct or_token t = tc_tok(2000);
	uint64_t seq = 0;
	int bad = 0;

	tc_env_start(&e, 1024, 0);
	tc_batch(&e, 0, 100, OR_CHAN_OP_UPSERT, 0);
	tc_mk_ops(ops, 1000, 100, OR_CHAN_OP_UPSERT, 0);
	CU_ASSERT_EQUAL(or_chan_resync_begin(e.c, 9, NULL), 0);
	CU_ASSERT_EQUAL(or_chan_resync_data(e.c, ops, 100, NULL), 0);
	/* A delta during the resync stays after the abort. */
	or_chan_op_set(&d, OR_CHAN_OP_UPSERT, &t, tc_rec(2000));
	CU_ASSERT_EQUAL(or_chan_send_batch(e.c, &d, 1, &seq), 0);
	CU_ASSERT_EQUAL(or_chan_wait_ack(e.c, seq, TC_TIMEOUT_MS), 0);
	CU_ASSERT(ct_replacing(e.t));

	or_chan_close(e.c);
	e.c = NULL;
	CU_ASSERT_EQUAL(tc_wait_for(&e, tc_get_aborts, 1), 0);
	CU_ASSERT_EQUAL(tc_wait_for(&e, tc_get_connected, 0), 0);
	CU_ASSERT_FALSE(ct_replacing(e.t));
	for (uint32_t i = 0; i < 100; i++)
		bad += tc_look(&e, i) != tc_rec(i) || tc_look(&e, 1000 + i) != 0;
	CU_ASSERT_EQUAL(bad, 0);
	CU_ASSERT_EQUAL(tc_look(&e, 2000), tc_rec(2000));
	CU_ASSERT_EQUAL(tc_entries(&e), 101);
	CU_ASSERT_EQUAL(tc_ustats(&e).resyncs, 0);

	/* Reconnect: no resync recorded, a new one works. */
	CU_ASSERT_EQUAL_FATAL(or_chan_connect(e.path, OR_CHAN_ROLE_CONTROL,
					      TC_TIMEOUT_MS, &e.c), 0);
	CU_ASSERT_EQUAL(or_chan_peer(e.c)->generation, 0);
	CU_ASSERT_EQUAL(or_chan_resync(e.c, 10, ops, 100, &seq), 0);
	CU_ASSERT_EQUAL(or_chan_wait_ack(e.c, seq, TC_TIMEOUT_MS), 0);
	CU_ASSERT_EQUAL(tc_entries(&e), 100);
	CU_ASSERT_EQUAL(tc_look(&e, 0), 0);
	CU_ASSERT_EQUAL(tc_look(&e, 1050), tc_rec(1050));
	CU_ASSERT_EQUAL(tc_ustats(&e).generation, 10);
	tc_env_stop(&e);
}

static void
test_one_peer(void)
{
	struct tc_env e;
	struct or_chan_client *c2 = NULL;

	tc_env_start(&e, 1024, 0);
	CU_ASSERT_EQUAL(or_chan_connect(e.path, OR_CHAN_ROLE_CONTROL, 1000,
					&c2), -EBUSY);
	CU_ASSERT_PTR_NULL(c2);
	CU_ASSERT_EQUAL(tc_ustats(&e).refused, 1);
	/* The first peer is unaffected. */
	tc_batch(&e, 0, 10, OR_CHAN_OP_UPSERT, 0);
	CU_ASSERT_EQUAL(tc_entries(&e), 10);
	/* Nobody listening: connect gives up at its deadline. */
	CU_ASSERT_EQUAL(or_chan_connect("/tmp/or_chan_no_such_dir/x.sock",
					OR_CHAN_ROLE_CONTROL, 50, &c2),
			-ENOENT);
	tc_env_stop(&e);
}

static void
test_tokens(void)
{
	struct or_token t, u;
	char buf[33];

	for (int i = 0; i < OR_TOKEN_LEN; i++)
		t.b[i] = (uint8_t)(i * 16 + 15 - i);
	or_chan_token_format(&t, buf);
	CU_ASSERT_STRING_EQUAL(buf, "0f1e2d3c4b5a69788796a5b4c3d2e1f0");
	CU_ASSERT_EQUAL(or_chan_token_parse(buf, &u), 0);
	CU_ASSERT(or_token_eq(&t, &u));
	CU_ASSERT_EQUAL(or_chan_token_parse("0F1E2D3C4B5A69788796A5B4C3D2E1F0",
					    &u), 0);
	CU_ASSERT(or_token_eq(&t, &u));
	CU_ASSERT_EQUAL(or_chan_token_parse("0f1e", &u), -EINVAL);
	CU_ASSERT_EQUAL(or_chan_token_parse("0f1e2d3c4b5a69788796a5b4c3d2e1fg",
					    &u), -EINVAL);
	CU_ASSERT_EQUAL(or_chan_token_parse("0f1e2d3c4b5a69788796a5b4c3d2e1f00",
					    &u), -EINVAL);
}

static CU_TestInfo chan_tests[] = {
	{ "hello", test_hello },
	{ "batch upsert/delete", test_batch },
	{ "seq and ack", test_seq_ack },
	{ "acked seq kept when the peer closes unread", test_acked_after_close },
	{ "deferred upserts keep per-token order", test_defer_order },
	{ "resync mark-and-sweep", test_resync },
	{ "disconnect aborts resync", test_resync_abort },
	{ "one peer at a time", test_one_peer },
	{ "token hex", test_tokens },
	CU_TEST_INFO_NULL,
};

OR_TEST_SUITE("chan", tc_suite_init, tc_suite_clean, chan_tests)
