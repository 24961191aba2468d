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

/* What the workers do with what arrives, until and after the table is
 * synced (docs/dataplane.md, "Before the first resync"). It only ever
 * moves towards OR_RX_DECIDE. */
enum or_rx_state {
	OR_RX_HELD,     /* RX not polled (start_rx_after_sync = yes, ack) */
	OR_RX_UNSYNCED, /* RX polled, ARP answered, every MSG dropped as
			 * not_synced (start_rx_after_sync = no) */
	OR_RX_DECIDE,   /* MSGs decided: the table is synced */
};

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
	/* enum or_rx_state. Set before the updater and the workers start;
	 * then set to OR_RX_DECIDE, its last value, by the updater thread
	 * (on_synced, main.c) or, with start_rx_after_sync = ack, by the main
	 * lcore (rx_gate): release stores. Read by each worker once a loop
	 * (acquire) and by telemetry (relaxed). */
	int rx_state;
};

#endif
