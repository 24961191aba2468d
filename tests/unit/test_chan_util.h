/* Fixture shared by the channel test suites; see test_chan_util.c. */
#ifndef TEST_CHAN_UTIL_H
#define TEST_CHAN_UTIL_H

#include <stdint.h>

#include "optroute/chan.h"
#include "optroute/chan_client.h"
#include "optroute/ctable.h"
#include "dataplane/chan/updater.h"

#define TC_TIMEOUT_MS 5000
/* Counters the fixture's stats_fill reports (dp.counter0..599): enough to
 * need several STATS_REPLY messages. */
#define TC_DP_STATS 600
/* How many times the fixture's stats_clear was called. */
extern unsigned tc_clears;
/* Grace periods one message may cost: its longest chain of deferrals (64
 * rounds at most) plus the ack's own. */
#define TC_MAX_SYNCS_PER_MSG 66

struct tc_env {
	char dir[64];
	char path[96];
	struct ct *t;
	struct or_updater *u;
	struct or_chan_client *c;
};

/* Deterministic token i and a record for it. */
struct or_token tc_tok(uint32_t i);
uint32_t tc_rec(uint32_t i);

/* Table sized for 'entries' (mem_limit 0 = none), updater with 3 workers
 * and the TC_DP_STATS counters, client connected. */
void tc_env_start(struct tc_env *e, uint64_t entries, uint64_t mem_limit);
void tc_env_stop(struct tc_env *e);

struct or_updater_stats tc_ustats(const struct tc_env *e);
/* Lookup as a worker does (online around it only). Record or 0. */
uint32_t tc_look(const struct tc_env *e, uint32_t i);
uint64_t tc_entries(const struct tc_env *e);
/* ops[k] = op on token from+k with record tc_rec(from+k+salt). */
void tc_mk_ops(struct or_chan_op *ops, uint32_t from, uint32_t n, uint8_t op,
	       uint32_t salt);
/* Sends such ops as BATCHes and waits for the ack. */
void tc_batch(struct tc_env *e, uint32_t from, uint32_t n, uint8_t op,
	      uint32_t salt);
int64_t tc_now_ms(void);
/* Polls get(e) until it returns want: 0, or -1 after TC_TIMEOUT_MS. */
int tc_wait_for(const struct tc_env *e,
		uint64_t (*get)(const struct tc_env *), uint64_t want);
uint64_t tc_get_aborts(const struct tc_env *e);
uint64_t tc_get_connected(const struct tc_env *e);

/* Suite init/cleanup: registers the test thread as an offline reader. */
int tc_suite_init(void);
int tc_suite_clean(void);

#endif
