/* SPDX-License-Identifier: BSD-3-Clause
 *
 * The dataplane updater's figures (or_updater_get_stats(), dataplane/
 * chan/updater.h): one list, the entry form of include/optroute/stats.h.
 * Exported as chan.FIELD in the channel's STATS reply (so `optroutectl
 * stats` as dataplane.chan.FIELD), as FIELD by the telemetry command
 * /optroute/channel, and as the metric named here. Seqs are the
 * channel's, as the control plane sent them.
 */
#ifndef OPTROUTE_UPDATER_STATS_H
#define OPTROUTE_UPDATER_STATS_H

#include "optroute/stats.h"

#define OR_UPDATER_STATS(X)                                                  \
	X(connected, GAUGE, N, "optroute_updater_connected", "",             \
	  "1 while the dataplane's updater has a control plane connected")   \
	X(connects, COUNTER, N, "optroute_updater_connects_total", "",       \
	  "Channel peers accepted by the dataplane")                         \
	X(batches, COUNTER, N, "optroute_updater_batches_total", "",         \
	  "Update batches applied by the dataplane")                         \
	X(upserts, COUNTER, N, "optroute_updater_upserts_total", "",         \
	  "Upserts applied by the dataplane")                                \
	X(deletes, COUNTER, N, "optroute_updater_deletes_total", "",         \
	  "Deletes applied by the dataplane")                                \
	X(errors, COUNTER, N, "optroute_updater_errors_total", "",           \
	  "Malformed channel messages and failed ops")                       \
	X(last_seq, GAUGE, N, "optroute_updater_last_seq", "",               \
	  "Highest channel seq applied")                                     \
	/* applied and synced: acked, or synced when the peer closed before  \
	 * the ACK */                                                        \
	X(acked_seq, GAUGE, N, "optroute_updater_acked_seq", "",             \
	  "Highest channel seq acknowledged")                                \
	X(resyncs, COUNTER, N, "optroute_updater_resyncs_total", "",         \
	  "Full resyncs completed by the dataplane")                         \
	X(generation, GAUGE, N, "optroute_updater_generation", "",           \
	  "Generation of the last completed resync")                         \
	/* on_synced called (updater.h): the workers decide */               \
	X(synced, GAUGE, N, "optroute_updater_synced", "",                   \
	  "1 once the dataplane applied its first full resync: its workers " \
	  "decide")                                                          \
	X(acks, COUNTER, N, "optroute_updater_acks_total", "",               \
	  "ACK messages sent")                                               \
	X(syncs, COUNTER, N, "optroute_updater_syncs_total", "",             \
	  "Grace periods waited for (ct_sync)")                              \
	X(refused, COUNTER, N, "optroute_updater_refused_total", "",         \
	  "Channel connections refused (another peer connected)")            \
	/* SO_PEERCRED: not root, the dataplane's uid or [dataplane]         \
	 * channel_peer_uid/gid (dataplane/chan/chan_server.c) */            \
	X(refused_peer, COUNTER, N, "optroute_updater_refused_peer_total",   \
	  "", "Channel connections refused for the peer's credentials")      \
	X(disconnects, COUNTER, N, "optroute_updater_disconnects_total", "", \
	  "Channel peers gone")                                              \
	X(resync_aborts, COUNTER, N, "optroute_updater_resync_aborts_total", \
	  "", "Resyncs aborted by a disconnect or a failure")                \
	/* not errors */                                                     \
	X(delete_missing, COUNTER, N,                                        \
	  "optroute_updater_delete_missing_total", "",                       \
	  "Deletes of tokens not in the table")                              \
	/* also in errors */                                                 \
	X(nospc, COUNTER, N, "optroute_updater_nospc_total", "",             \
	  "Upserts refused: consent table full")                             \
	X(stats_requests, COUNTER, N,                                        \
	  "optroute_updater_stats_requests_total", "",                       \
	  "STATS requests answered")                                         \
	X(auth_keys, COUNTER, N, "optroute_updater_auth_keys_total", "",     \
	  "AUTH_KEYS messages installed by the dataplane")                   \
	/* a store seq (include/optroute/chan.h MARK), not a channel seq */  \
	X(mark_seq, GAUGE, N, "optroute_updater_mark_seq", "",               \
	  "Store position the consent table is marked at (0: none)")         \
	X(marks, COUNTER, N, "optroute_updater_marks_total", "",             \
	  "MARK messages kept by the dataplane")                             \
	/* before a full resync completed, or after an ERROR since one */    \
	X(marks_refused, COUNTER, N, "optroute_updater_marks_refused_total", \
	  "", "MARK messages not kept: the table is not known to match")

/* Every field a uint64_t. Written by the updater thread with relaxed
 * atomics; or_updater_get_stats() reads them from any thread. */
struct or_updater_stats {
	OR_UPDATER_STATS(OR_STAT_FIELD_)
};

#endif
