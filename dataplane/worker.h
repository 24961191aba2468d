/* SPDX-License-Identifier: BSD-3-Clause
 *
 * Worker lcores: each polls its RX queues (one per port it serves), decides
 * every frame with the pkt module and one bulk consent-table lookup per
 * burst, and sends through its own TX queue on every port. Per-lcore
 * configuration as in DPDK's l3fwd: everything a worker touches on the hot
 * path is its own (queues, TX buffers, counters) or read-only.
 *
 * RCU: a worker is a liburcu QSBR reader of the consent table (contract in
 * include/optroute/ctable.h).
 */
#ifndef OR_DP_WORKER_H
#define OR_DP_WORKER_H

#include <stdbool.h>
#include <stdint.h>

#include <rte_ethdev.h>

#include "optroute/ctable.h"
#include "auth/auth_keyring.h"
#include "dp.h"
#include "pkt/pkt.h"

/* The frames of one RX burst that will be sent (MSGs, whose consent
 * lookup has been started, and ARP replies), held until the queue's next
 * poll, so that the table's memory latency overlaps the next burst's RX
 * and classify (ct_lookup_step). Frames leave in the order they came.
 * Two bursts, not three: the frames in flight go through L1 too, and a
 * third burst held cost the PMD's copies and the decisions more than
 * the later start of the alternate buckets saved (docs/benchmarks/dataplane.md). */
#define OR_HELD 2

struct or_held {
	unsigned n;    /* frames held */
	unsigned nmsg; /* of which MSGs */
	struct rte_mbuf *pkts[OR_BURST];
	bool is_msg[OR_BURST];
	struct or_pkt_info info[OR_BURST]; /* of the MSGs, in order */
	const struct or_token *keys[2 * OR_BURST]; /* sender, recipient, ... */
	/* Version 2: each MSG's sender hash in the budget
	 * (or_budget_prefetch_burst), computed once for its hint, its check
	 * and its charge. */
	uint64_t bhash[OR_BURST];
	struct ct_burst lookup;
};

struct or_rxq {
	uint16_t port_id;
	uint16_t queue_id;
	uint16_t port_idx;
	struct or_port_addr pa; /* the receiving port's addresses */
	/* held[cur] is finished at the next poll, held[cur ^ 1] filled. */
	struct or_held held[OR_HELD];
	unsigned cur;
};

struct or_worker {
	unsigned idx;      /* 0..n_workers-1; also its TX queue on every port */
	unsigned lcore_id;
	unsigned n_rxq;
	struct or_rxq rxq[OR_CFG_MAX_PORTS];
	unsigned n_ports;
	uint16_t port_ids[OR_CFG_MAX_PORTS];
	uint8_t port_idx[RTE_MAX_ETHPORTS];
	/* TX buffer per DPDK port id (NULL for ports not configured). */
	struct rte_eth_dev_tx_buffer *txb[RTE_MAX_ETHPORTS];
	/* [n_ports] (one a port), then its poll counters (counters.h);
	 * written by this worker only */
	struct or_cnt_block *cnt;
	const struct or_nexthop *nh;
	unsigned nh_count;
	const struct ct *table;
	const int *quit;
	const int *rx_state; /* &dp->rx_state: enum or_rx_state (dp.h) */
	unsigned idle_sleep_us;
	/* Sender authentication (version 2): NULL with [dataplane] auth = no.
	 * kr is read from it once a loop, between quiescent states
	 * (auth/auth_keyring.h), and used by this worker only. */
	struct or_auth_keys *auth;
	const struct or_keyring *kr;
	uint64_t window_ms;  /* 0: no time window (benchmark only) */
	struct or_budget *budget;   /* shared by all workers (budget.h) */
	struct or_replay *replay;   /* shared by all workers (replay.h) */
} __rte_cache_aligned;

/* Builds the worker of lcore cfg->workers[idx]: its RX queues, TX buffers
 * and counters (dp->cnt must be initialised). 0 or -ENOMEM. */
int or_worker_create(struct or_dp *dp, unsigned idx, struct or_worker **out);
void or_worker_free(struct or_worker *w);

/* lcore function (rte_eal_remote_launch); arg is the struct or_worker. */
int or_worker_main(void *arg);

#endif
