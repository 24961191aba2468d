/* SPDX-License-Identifier: BSD-3-Clause
 *
 * The dataplane's packet counters (dataplane/counters.h keeps them per
 * worker and port; dataplane/figures.c reads them out) and its figures of
 * no block. Every packet counter is exported in three scopes, under one
 * name:
 *
 *   scope           STATS reply and        /metrics family
 *                   telemetry name
 *   whole dataplane NAME (/optroute/stats) optroute_dataplane_SUFFIX
 *   one port        port.PORT.NAME         optroute_port_SUFFIX{port=PORT}
 *                   (/optroute/ports,PORT)
 *   one worker      worker.LCORE.NAME      optroute_worker_SUFFIX
 *                   (/optroute/workers,LCORE)         {worker=LCORE}
 *
 * and the # HELP of a family is HELP followed by its scope's words
 * (control/exporter/exp_text.c). `optroutectl stats` prints them as
 * dataplane.NAME. An entry is X(ID, NAME, SUFFIX, HELP), ID the member
 * OR_CNT_ID of enum or_cnt_id (OR_POLL_ID of enum or_poll_cnt_id). Every
 * packet counter is a counter (SUFFIX ends in _total).
 */
#ifndef OPTROUTE_DP_STATS_H
#define OPTROUTE_DP_STATS_H

#include "optroute/stats.h"

/* Counted per worker and port (dataplane/counters.h says which port),
 * besides one counter per drop reason. */
#define OR_PKT_COUNTERS(X)                                                   \
	X(RX, "rx", "rx_frames_total", "Frames received")                    \
	/* handed to the NIC */                                              \
	X(TX, "tx", "tx_frames_total", "Frames the TX queues took")          \
	/* MSGs rewritten to a delivery node */                              \
	X(DELIVERED, "delivered", "delivered_total",                         \
	  "Messages forwarded to the recipient's delivery node")             \
	X(BOUNCED, "bounced", "bounced_total",                               \
	  "Messages bounced to their sender (recipient not opted in)")       \
	/* v2 */                                                             \
	X(OVER_BUDGET, "over_budget", "over_budget_total",                   \
	  "OVER_BUDGET bounces sent (the sender had used up its budget)")    \
	X(ARP_REPLIES, "arp_replies", "arp_replies_total",                   \
	  "ARP requests answered")

/* The drops: one counter per drop reason (dataplane/pkt/pkt.h's
 * OR_DROP_REASONS), named OR_PKT_DROP_PREFIX REASON, all of them one
 * family with the label reason=REASON; and their sum, "dropped" (no
 * counter of its own: no ID in enum or_cnt_id). */
#define OR_PKT_DROP_PREFIX "drop_"
#define OR_PKT_DROP_REASONS(X)                                               \
	X(DROP, OR_PKT_DROP_PREFIX, "drops_total", "Frames dropped, by reason")
#define OR_PKT_DROP_SUM(X)                                                   \
	X(DROPPED, "dropped", "dropped_total", "Frames dropped, every reason")

/* A worker's own, of no port (worker.LCORE.NAME only): its polls (one a
 * loop over all its RX queues) and the TSC cycles they took. */
#define OR_POLL_COUNTERS(X)                                                  \
	X(BUSY_POLLS, "busy_polls", "busy_polls_total",                      \
	  "Polls that received frames")                                      \
	X(IDLE_POLLS, "idle_polls", "idle_polls_total",                      \
	  "Polls that received none")                                        \
	X(BUSY_CYCLES, "busy_cycles", "busy_cycles_total",                   \
	  "TSC cycles of the polls that received frames")                    \
	/* sleeps and RX pauses included */                                  \
	X(IDLE_CYCLES, "idle_cycles", "idle_cycles_total",                   \
	  "TSC cycles of the polls that received none, sleeps included")

/* The dataplane's STATS figures of no scope that are not counters: the
 * entry form of include/optroute/stats.h. */
#define OR_DP_GAUGES(X)                                                      \
	X(tsc_hz, GAUGE, N, "optroute_dataplane_tsc_hz", "",                 \
	  "TSC frequency: cycles a second of the workers' cycle counters")

#endif
