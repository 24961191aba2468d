/* SPDX-License-Identifier: BSD-3-Clause
 *
 * The dataplane's updater: the single writer of the consent table. It serves
 * the update channel (include/optroute/chan.h) on a Unix SOCK_SEQPACKET
 * socket, applies batches to the table, waits for a grace period (ct_sync)
 * and only then acknowledges: after an ack no worker decides a packet on the
 * old state.
 *
 * Threads: or_updater_start() creates one control thread (rte_ctrl_thread_create
 * when EAL is up, else pthread), never on a worker lcore; liburcu helper
 * threads, if any, are created from it so they inherit its affinity. The
 * updater thread is not an RCU reader and never holds a read-side section.
 */
#ifndef OR_UPDATER_H
#define OR_UPDATER_H

#include <stdint.h>

#include "optroute/chan.h"
#include "optroute/updater_stats.h"
#include "optroute/peer.h"

struct ct;
struct or_updater;

/* One named counter, as sent in a STATS reply on the channel. */
struct or_updater_stat {
	char name[OR_CHAN_STAT_NAME_LEN];
	uint64_t value;
};

struct or_updater_conf {
	const char *sock_path; /* created (mode 0660); an old one is replaced */
	/* Who may connect besides root and our own uid (optroute/peer.h):
	 * anyone else is sent ERROR{EACCES} and closed before a byte of it is
	 * read, counted in refused_peer and logged. */
	struct or_peer_allow peer;
	struct ct *table;      /* the updater becomes its only writer */
	/* Optional: fills up to max dataplane counters (ports, workers, drops)
	 * for STATS requests; returns how many. Called on the updater thread. */
	unsigned (*stats_fill)(void *arg, struct or_updater_stat *out,
			       unsigned max);
	void *stats_arg;
	/* Optional: clears the dataplane counters (a STATS_REQUEST with
	 * OR_CHAN_STATS_F_CLEAR, after stats_fill read them). */
	void (*stats_clear)(void *arg);
	/* Optional: called once, on the updater thread, as soon as the first
	 * full resync is committed (RESYNC_END applied; then stats.synced is
	 * 1), before the grace period that precedes its ACK: so whatever it
	 * stores for the workers (their rx_state, dataplane/dp.h) is seen by
	 * every worker by the time that ACK is sent. */
	void (*on_synced)(void *arg);
	void *synced_arg;
	unsigned workers; /* worker lcores, reported in the HELLO reply */
	/* The live auth epochs the workers verify with: AUTH_KEYS messages
	 * install into it (auth/auth_keyring.h). NULL: AUTH_KEYS is refused
	 * (EOPNOTSUPP), as by a dataplane without version 2. */
	struct or_auth_keys *auth;
	/* 1: EAL is up, use rte_ctrl_thread_create; 0: the same if EAL looks
	 * initialised (rte_lcore_count() > 0), else a plain pthread. */
	int use_eal;
};

/* struct or_updater_stats: its fields are the list OR_UPDATER_STATS in
 * include/optroute/updater_stats.h. */

/* 0 or -errno (socket path too long, bind failure, thread creation). */
int or_updater_start(const struct or_updater_conf *conf,
		     struct or_updater **out);

/* Stops the thread, closes the socket, unlinks its path. The table stays. */
void or_updater_stop(struct or_updater *u);

/* Any thread. */
void or_updater_get_stats(const struct or_updater *u,
			  struct or_updater_stats *s);

#endif
