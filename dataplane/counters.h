/* SPDX-License-Identifier: BSD-3-Clause
 *
 * Dataplane counters: per worker and per port, plain uint64_t on the hot
 * path. Each worker writes only its own cache-line-aligned blocks (one per
 * port), with no atomics; readers (telemetry, the updater's STATS replies)
 * load them with relaxed atomic loads and add them up.
 *
 * Clearing: a reader cannot zero a block another thread is writing (the
 * worker's next read-modify-write would bring the old value back), so a
 * clear stores a baseline snapshot, and every read returns current minus
 * baseline. Since counters only grow, a clear is seen by every reader at
 * once and takes nothing from the workers.
 *
 * Which port a counter is charged to: rx, drops, delivered, bounced and
 * arp_replies to the receiving port; tx and drop_tx_full to the port the
 * packet was (or failed to be) sent on.
 */
#ifndef OR_DP_COUNTERS_H
#define OR_DP_COUNTERS_H

#include <assert.h>
#include <pthread.h>
#include <stdint.h>

#include <rte_common.h>

#include "optroute/dp_stats.h"
#include "pkt/pkt.h"

/* Counters the worker keeps (include/optroute/dp_stats.h): those of
 * OR_PKT_COUNTERS, then one per drop reason (pkt.h's OR_DROP_REASONS,
 * named "drop_<reason>"). */
enum or_cnt_id {
#define OR_CNT_ENUM_(n, ...) OR_CNT_##n,
	OR_PKT_COUNTERS(OR_CNT_ENUM_)
#undef OR_CNT_ENUM_
	OR_CNT_DROP_FIRST, /* drop reason 1 (OR_DROP_NONE has no counter) */
	OR_CNT_NUM = OR_CNT_DROP_FIRST + OR_DROP_MAX - 1,
};

/* Index of the counter of drop reason r (r != OR_DROP_NONE). */
#define OR_CNT_DROP(r) (OR_CNT_DROP_FIRST + (unsigned)(r) - 1)

/*
 * A worker's own counters, of no port: its polls (one a loop over all its
 * RX queues) and the TSC cycles they took, split by whether the poll
 * received anything. A busy-polling worker shows 100% CPU to the OS;
 * busy_cycles / (busy_cycles + idle_cycles) is its real load, and
 * busy_cycles / rx its cost per frame. One TSC read a loop. The list:
 * OR_POLL_COUNTERS (include/optroute/dp_stats.h).
 */
enum or_poll_cnt_id {
#define OR_POLL_ENUM_(n, ...) OR_POLL_##n,
	OR_POLL_COUNTERS(OR_POLL_ENUM_)
#undef OR_POLL_ENUM_
	OR_POLL_NUM,
};

/* One worker's counters for one port, or (block n_ports of the worker,
 * indexes enum or_poll_cnt_id) its poll counters. */
struct or_cnt_block {
	uint64_t v[OR_CNT_NUM];
} __rte_cache_aligned;

static_assert((unsigned)OR_POLL_NUM <= (unsigned)OR_CNT_NUM,
	      "poll counters fit in a block");

/* Reader side. live[w] is worker w's array of n_ports + 1 blocks: one a
 * port, then its poll counters. */
struct or_counters {
	unsigned n_workers, n_ports;
	struct or_cnt_block **live;
	struct or_cnt_block *base; /* [w * (n_ports + 1) + p], readers only */
	pthread_mutex_t lock;      /* readers and clear among themselves */
};

#define OR_CNT_ALL (-1)

/* "rx", ..., "drop_truncated", ... ; NULL past the end. */
const char *or_cnt_name(unsigned id);

/* Allocates every worker's blocks, each on its worker's socket. */
int or_cnt_init(struct or_counters *c, unsigned n_workers, unsigned n_ports,
		const int *worker_socket);
void or_cnt_fini(struct or_counters *c);

/* Sum since the last clear over worker w and port p (either may be
 * OR_CNT_ALL). out[OR_CNT_NUM]. Returns the total of the drop counters. */
uint64_t or_cnt_read(struct or_counters *c, int w, int p, uint64_t *out);

/* "busy_polls", ...; NULL past the end. */
const char *or_poll_cnt_name(unsigned id);

/* Poll counters since the last clear of worker w (or OR_CNT_ALL).
 * out[OR_POLL_NUM]. */
void or_cnt_read_polls(struct or_counters *c, int w, uint64_t *out);

/* Clears every counter, poll counters too, as seen by every reader. */
void or_cnt_clear(struct or_counters *c);

#endif
