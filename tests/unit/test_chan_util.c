/* Shared fixture of the channel suites (test_chan.c, test_chan_edge.c): an
 * updater on a socket in a temporary directory over a fresh table, and a
 * client connected to it. No EAL: the updater runs on a plain pthread; the
 * test thread reads the table as a registered QSBR reader (ct_lookup), as a
 * worker would. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <urcu-qsbr.h>

#include <CUnit/CUnit.h>

#include "test_chan_util.h"


struct or_token
tc_tok(uint32_t i)
{
	struct or_token t;

	/* Spread the index over the key so hashing sees distinct keys. */
	for (int b = 0; b < OR_TOKEN_LEN; b++)
		t.b[b] = (uint8_t)((i * 2654435761u) >> ((b % 4) * 8)) ^
			 (uint8_t)(b * 17);
	memcpy(t.b, &i, sizeof(i));
	return t;
}

uint32_t
tc_rec(uint32_t i)
{
	return or_rec_make(i % 3 ? OR_STATE_IN : OR_STATE_OUT,
			   (uint16_t)(i % 1000), 1, 0);
}

/* A dataplane counter source with enough entries to need several
 * STATS_REPLY messages: counter i is 1000 + i until the first clear, then
 * i. */
unsigned tc_clears;

static unsigned
tc_stats_fill(void *arg, struct or_updater_stat *out, unsigned max)
{
	unsigned n = TC_DP_STATS < max ? TC_DP_STATS : max;

	(void)arg;
	for (unsigned i = 0; i < n; i++) {
		snprintf(out[i].name, sizeof(out[i].name), "dp.counter%u", i);
		out[i].value = (__atomic_load_n(&tc_clears, __ATOMIC_ACQUIRE) ? 0 : 1000) + i;
	}
	return n;
}

static void
tc_stats_clear(void *arg)
{
	(void)arg;
	__atomic_add_fetch(&tc_clears, 1, __ATOMIC_RELEASE);
}

void
tc_env_start(struct tc_env *e, uint64_t entries, uint64_t mem_limit)
{
	struct ct_params p = { .entries = entries, .mem_limit = mem_limit,
			       .socket_id = -1 };
	struct or_updater_conf uc = { 0 };

	memset(e, 0, sizeof(*e));
	snprintf(e->dir, sizeof(e->dir), "/tmp/or_chan_XXXXXX");
	CU_ASSERT_FATAL(mkdtemp(e->dir) != NULL);
	snprintf(e->path, sizeof(e->path), "%s/dp.sock", e->dir);
	CU_ASSERT_FATAL(ct_create(&p, &e->t) == 0);
	uc.sock_path = e->path;
	uc.table = e->t;
	uc.stats_fill = tc_stats_fill;
	uc.stats_clear = tc_stats_clear;
	uc.workers = 3;
	tc_clears = 0;
	CU_ASSERT_FATAL(or_updater_start(&uc, &e->u) == 0);
	CU_ASSERT_FATAL(or_chan_connect(e->path, OR_CHAN_ROLE_CONTROL,
					TC_TIMEOUT_MS, &e->c) == 0);
}

void
tc_env_stop(struct tc_env *e)
{
	or_chan_close(e->c);
	e->c = NULL;
	or_updater_stop(e->u);
	ct_destroy(e->t);
	rmdir(e->dir);
}

struct or_updater_stats
tc_ustats(const struct tc_env *e)
{
	struct or_updater_stats s;

	or_updater_get_stats(e->u, &s);
	return s;
}

/* Lookup as a worker does: online around the lookup only, so the
 * updater's grace periods never wait for the test thread. */
uint32_t
tc_look(const struct tc_env *e, uint32_t i)
{
	struct or_token t = tc_tok(i);
	uint32_t r;

	rcu_thread_online();
	r = ct_lookup(e->t, &t);
	rcu_thread_offline();
	return r;
}

uint64_t
tc_entries(const struct tc_env *e)
{
	struct ct_stats s;

	ct_get_stats(e->t, &s);
	return s.entries;
}

void
tc_mk_ops(struct or_chan_op *ops, uint32_t from, uint32_t n, uint8_t op,
	  uint32_t salt)
{
	for (uint32_t i = 0; i < n; i++) {
		struct or_token t = tc_tok(from + i);

		or_chan_op_set(&ops[i], op, &t, tc_rec(from + i + salt));
	}
}

/* Sends ops [from, from+n) as BATCHes and waits for the ack. */
void
tc_batch(struct tc_env *e, uint32_t from, uint32_t n, uint8_t op,
	 uint32_t salt)
{
	struct or_chan_op *ops = calloc(n, sizeof(*ops));
	uint64_t seq = 0;

	CU_ASSERT_FATAL(ops != NULL);
	tc_mk_ops(ops, from, n, op, salt);
	CU_ASSERT_EQUAL(or_chan_send_batch(e->c, ops, n, &seq), 0);
	CU_ASSERT_EQUAL(or_chan_wait_ack(e->c, seq, TC_TIMEOUT_MS), 0);
	free(ops);
}

int64_t
tc_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int
tc_wait_for(const struct tc_env *e, uint64_t (*get)(const struct tc_env *),
	    uint64_t want)
{
	int64_t end = tc_now_ms() + TC_TIMEOUT_MS;

	while (get(e) != want) {
		if (tc_now_ms() > end)
			return -1;
		usleep(2000);
	}
	return 0;
}

uint64_t
tc_get_aborts(const struct tc_env *e)
{
	return tc_ustats(e).resync_aborts;
}

uint64_t
tc_get_connected(const struct tc_env *e)
{
	return tc_ustats(e).connected;
}

int
tc_suite_init(void)
{
	rcu_register_thread();
	rcu_thread_offline();
	return 0;
}

int
tc_suite_clean(void)
{
	rcu_thread_online();
	rcu_unregister_thread();
	return 0;
}
