/* SPDX-License-Identifier: BSD-3-Clause
 *
 * optroute-control's link to the dataplane: the update channel as the
 * control plane sees it (its channel thread, control/daemon/dplink/cp_link.h).
 * One list, the entry form of include/optroute/stats.h. Exported as the
 * reply to "dataplane" and the "stats" reply's channel section
 * (control/daemon/cmd/cp_stats_json.c; `optroutectl stats` prints them as
 * channel.FIELD), and as the metrics named here. Seqs are store seqs.
 */
#ifndef OPTROUTE_LINK_STATS_H
#define OPTROUTE_LINK_STATS_H

#include "optroute/stats.h"

#define OR_LINK_STATS(X)                                                     \
	X(connected, GAUGE, BOOL, "optroute_channel_connected", "",          \
	  "1 while a dataplane is connected to the update channel")          \
	X(syncing, GAUGE, BOOL, "optroute_channel_syncing", "",              \
	  "1 while a full resync is being sent")                             \
	X(committed_seq, GAUGE, N, "optroute_channel_committed_seq", "",     \
	  "Last store seq committed by the control plane")                   \
	X(sent_seq, GAUGE, N, "optroute_channel_sent_seq", "",               \
	  "Last store seq sent to the dataplane")                            \
	X(acked_seq, GAUGE, N, "optroute_channel_acked_seq", "",             \
	  "Last store seq the dataplane applied and acknowledged")           \
	/* committed_seq - acked_seq */                                      \
	X(lag, GAUGE, N, "optroute_channel_lag", "",                         \
	  "Committed changes the dataplane has not acknowledged yet")        \
	X(connects, COUNTER, N, "optroute_channel_connects_total", "",       \
	  "Connections to the dataplane")                                    \
	X(disconnects, COUNTER, N, "optroute_channel_disconnects_total", "", \
	  "Connections to the dataplane lost or closed")                     \
	/* completed (acked) */                                              \
	X(resyncs, COUNTER, N, "optroute_channel_resyncs_total", "",         \
	  "Full resyncs acknowledged by the dataplane")                      \
	X(resync_entries, GAUGE, N, "optroute_channel_last_resync_entries",  \
	  "", "Entries sent by the last full resync")                        \
	X(resync_ms, GAUGE, MS, "optroute_channel_last_resync_seconds", "",  \
	  "Duration of the last full resync, send to ack")                   \
	X(generation, GAUGE, N, "optroute_channel_generation", "",           \
	  "Generation of the last full resync sent")                         \
	X(batches, COUNTER, N, "optroute_channel_batches_total", "",         \
	  "BATCH messages sent")                                             \
	X(ops, COUNTER, N, "optroute_channel_ops_total", "",                 \
	  "Changes sent in BATCHes")                                         \
	/* the queue dropped for a full resync */                            \
	X(overflows, COUNTER, N, "optroute_channel_overflows_total", "",     \
	  "Update queue overflows replaced by a full resync")                \
	X(errors, COUNTER, N, "optroute_channel_dataplane_errors_total", "", \
	  "ERROR messages received from the dataplane")                      \
	/* from its HELLO */                                                 \
	X(workers, GAUGE, N, "optroute_channel_dataplane_workers", "",       \
	  "Worker lcores of the connected dataplane (from its HELLO)")       \
	X(keys_sent, COUNTER, N, "optroute_channel_auth_keys_sent_total", "", \
	  "AUTH_KEYS messages sent to the dataplane")                        \
	X(keys_refused, COUNTER, N,                                          \
	  "optroute_channel_auth_keys_refused_total", "",                    \
	  "AUTH_KEYS messages the dataplane refused")                        \
	/* docs/channel.md "Resuming" */                                     \
	X(resumes, COUNTER, N, "optroute_channel_resumes_total", "",         \
	  "Connections that resumed the dataplane from its mark instead of " \
	  "a full resync")                                                   \
	X(resume_entries, GAUGE, N, "optroute_channel_last_resume_entries",  \
	  "", "Changes sent by the last resume")                             \
	X(marks, COUNTER, N, "optroute_channel_marks_total", "",             \
	  "MARK messages sent (the store position the table is at)")

struct cp_link_stats {
	OR_LINK_STATS(OR_STAT_FIELD_)
};

#endif
