/* SPDX-License-Identifier: BSD-3-Clause
 *
 * Run-time state of optroute-dataplane, built by main.c from the
 * configuration and shared (read-only once the workers run) by the port,
 * worker and telemetry modules.
 */
#ifndef OR_DP_H
#define OR_DP_H

#include <stdint.h>

#include <rte_ethdev.h>
#include <rte_mempool.h>

#include "auth/auth_keyring.h"
#include "config.h"
#include "counters.h"
#include "pkt/pkt.h"

#define OR_BURST 32

struct ct;
struct or_updater;
struct or_worker;

struct or_dp_port {
	char name[OR_CFG_NAME_LEN];
	uint16_t port_id;
	int socket;
	unsigned n_rxq, n_txq;
	unsigned n_rxq_hw;        /* configured: n_rxq, or unpolled extras */
	struct or_port_addr pa;   /* MAC, IP, UDP port, network order */
	struct rte_mempool *pool; /* RX mbufs */
	int started;
};

struct or_dp {
	const struct or_cfg *cfg;
	unsigned n_ports;
	struct or_dp_port ports[OR_CFG_MAX_PORTS];
	uint8_t port_idx[RTE_MAX_ETHPORTS];  /* DPDK port id -> index */
	unsigned n_workers;
	struct or_worker *workers[OR_CFG_MAX_WORKERS];
	struct or_nexthop *nh;  /* indexed by delivery node id */
	unsigned nh_count;
	struct ct *table;
	struct or_auth_keys auth;  /* live auth epochs; the updater writes */
	struct or_budget *budget;  /* bounce budgets; NULL with auth off */
	struct or_replay *replay;  /* NULL with auth or its time checks off;
				    * ticked by the main lcore */
	struct or_updater *updater;
	struct or_counters cnt;
	int quit;        /* workers leave their loop (atomic) */
	int rx_enabled;  /* workers poll RX (atomic); see start_rx_after_sync */
};

#endif
