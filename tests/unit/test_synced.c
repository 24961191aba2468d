/* Suite "synced": the updater's on_synced callback (dataplane/chan/
 * updater.h), which lets the dataplane's workers decide once the first
 * full resync is applied (docs/dataplane.md, "Before the first resync").
 *
 * A real updater on a real table (the channel fixture's socket and
 * tokens), a client in the control plane's role, and a thread playing a
 * worker: a registered QSBR reader that reads the state the callback sets
 * once a loop and passes a quiescent state every loop, as
 * dataplane/worker.c does. Checked: not called for BATCHes or an aborted
 * resync; called once, after the first RESYNC_END is applied and before
 * its ACK (updater acked_seq below the END's seq at the call); and no
 * worker loop that saw "not synced" is still running once the client has
 * read that ACK (the grace period before the ACK waited for it). */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <urcu-qsbr.h>

#include <CUnit/CUnit.h>

#include "or_test.h"
#include "test_chan_util.h"

/* What the callback saw and did. */
static struct {
	int state;          /* as dp->rx_state: 0 until called, then 1 */
	unsigned calls;
	struct or_updater_stats at_call;
	struct or_updater *u;
} sy;

/* The worker thread. */
static int sy_acked;        /* the test thread has read the END's ACK */
static int sy_stop;
static unsigned sy_unsynced_loops, sy_late_loops; /* written by it only */

static void
sy_on_synced(void *arg)
{
	(void)arg;
	sy.calls++;
	or_updater_get_stats(sy.u, &sy.at_call);
	__atomic_store_n(&sy.state, 1, __ATOMIC_RELEASE);
}

static void *
sy_worker(void *arg)
{
	(void)arg;
	rcu_register_thread();
	while (!__atomic_load_n(&sy_stop, __ATOMIC_ACQUIRE)) {
		int st = __atomic_load_n(&sy.state, __ATOMIC_ACQUIRE);

		/* A loop's work (a burst dropped as not_synced). */
		for (volatile int i = 0; i < 2000; i++)
			;
		if (st == 0) {
			__atomic_fetch_add(&sy_unsynced_loops, 1,
					   __ATOMIC_RELAXED);
			/* This loop decided nothing; it must not outlive the
			 * ACK that tells the control plane every worker
			 * decides. */
			if (__atomic_load_n(&sy_acked, __ATOMIC_ACQUIRE))
				__atomic_fetch_add(&sy_late_loops, 1,
						   __ATOMIC_RELAXED);
		}
		rcu_quiescent_state();
	}
	rcu_unregister_thread();
	return NULL;
}

static void
sy_start(struct tc_env *e, pthread_t *w)
{
	struct ct_params p = { .entries = 1024, .socket_id = -1 };
	struct or_updater_conf uc = { 0 };

	memset(e, 0, sizeof(*e));
	memset(&sy, 0, sizeof(sy));
	sy_acked = sy_stop = 0;
	sy_unsynced_loops = sy_late_loops = 0;
	snprintf(e->dir, sizeof(e->dir), "/tmp/or_synced_XXXXXX");
	CU_ASSERT_FATAL(mkdtemp(e->dir) != NULL);
	snprintf(e->path, sizeof(e->path), "%s/dp.sock", e->dir);
	CU_ASSERT_FATAL(ct_create(&p, &e->t) == 0);
	uc.sock_path = e->path;
	uc.table = e->t;
	uc.on_synced = sy_on_synced;
	uc.workers = 1;
	CU_ASSERT_FATAL(pthread_create(w, NULL, sy_worker, NULL) == 0);
	CU_ASSERT_FATAL(or_updater_start(&uc, &e->u) == 0);
	sy.u = e->u;
	CU_ASSERT_FATAL(or_chan_connect(e->path, OR_CHAN_ROLE_CONTROL,
					TC_TIMEOUT_MS, &e->c) == 0);
}

static void
sy_stop_all(struct tc_env *e, pthread_t w)
{
	__atomic_store_n(&sy_stop, 1, __ATOMIC_RELEASE);
	pthread_join(w, NULL);
	tc_env_stop(e);
}

static void
test_batches_and_abort_are_not_synced(void)
{
	struct or_chan_op ops[8];
	struct tc_env e;
	pthread_t w;
	uint64_t seq = 0;

	sy_start(&e, &w);
	/* Deltas only: a table nobody vouched for as the store's. */
	tc_batch(&e, 0, 8, OR_CHAN_OP_UPSERT, 0);
	/* A resync that never ends: the live table is still the old one. */
	tc_mk_ops(ops, 100, 8, OR_CHAN_OP_UPSERT, 0);
	CU_ASSERT_EQUAL(or_chan_resync_begin(e.c, 1, NULL), 0);
	CU_ASSERT_EQUAL(or_chan_resync_data(e.c, ops, 8, &seq), 0);
	CU_ASSERT_EQUAL(or_chan_wait_ack(e.c, seq, TC_TIMEOUT_MS), 0);
	or_chan_close(e.c);
	e.c = NULL;
	CU_ASSERT_EQUAL(tc_wait_for(&e, tc_get_aborts, 1), 0);
	CU_ASSERT_EQUAL(sy.calls, 0);
	CU_ASSERT_EQUAL(tc_ustats(&e).synced, 0);
	CU_ASSERT_EQUAL(__atomic_load_n(&sy.state, __ATOMIC_ACQUIRE), 0);
	sy_stop_all(&e, w);
}

static void
test_first_resync_before_its_ack(void)
{
	struct or_chan_op ops[16];
	struct tc_env e;
	pthread_t w;
	uint64_t end = 0, end2 = 0;

	sy_start(&e, &w);
	tc_batch(&e, 0, 4, OR_CHAN_OP_UPSERT, 0);
	/* The worker runs unsynced loops meanwhile. */
	for (int i = 0; i < 5000 &&
	     __atomic_load_n(&sy_unsynced_loops, __ATOMIC_RELAXED) == 0; i++)
		usleep(1000);
	tc_mk_ops(ops, 0, 16, OR_CHAN_OP_UPSERT, 1);
	CU_ASSERT_EQUAL(or_chan_resync(e.c, 1, ops, 16, &end), 0);
	CU_ASSERT_EQUAL(or_chan_wait_ack(e.c, end, TC_TIMEOUT_MS), 0);
	__atomic_store_n(&sy_acked, 1, __ATOMIC_RELEASE);

	CU_ASSERT_EQUAL(sy.calls, 1);
	CU_ASSERT(sy.at_call.resyncs == 1 && sy.at_call.last_seq >= end);
	/* Called before the grace period that precedes the END's ACK. */
	CU_ASSERT(sy.at_call.acked_seq < end);
	CU_ASSERT_EQUAL(tc_ustats(&e).synced, 1);
	CU_ASSERT_EQUAL(tc_look(&e, 3), tc_rec(3 + 1)); /* the resync's */

	/* Once only: a second resync (a control plane reconnecting). */
	CU_ASSERT_EQUAL(or_chan_resync(e.c, 2, ops, 16, &end2), 0);
	CU_ASSERT_EQUAL(or_chan_wait_ack(e.c, end2, TC_TIMEOUT_MS), 0);
	usleep(20000);
	CU_ASSERT_EQUAL(sy.calls, 1);
	sy_stop_all(&e, w);
	CU_ASSERT(sy_unsynced_loops > 0);
	CU_ASSERT_EQUAL(sy_late_loops, 0);
}

static CU_TestInfo synced_tests[] = {
	{ "BATCHes and an aborted resync: not synced",
	  test_batches_and_abort_are_not_synced },
	{ "first RESYNC_END: on_synced once, before its ACK",
	  test_first_resync_before_its_ack },
	CU_TEST_INFO_NULL,
};

OR_TEST_SUITE("synced", tc_suite_init, tc_suite_clean, synced_tests)
