/* SPDX-License-Identifier: BSD-3-Clause
 *
 * optroute-control's own figures: lists of the entry form of
 * include/optroute/stats.h, exported in the "stats" reply's sections
 * (control/daemon/cmd/cp_stats_json.c; `optroutectl stats` prints them as
 * control.FIELD and store.FIELD) and as the metrics named here.
 *
 *   OR_CP_COUNTERS  struct cp_counters    stats.control: counted by the
 *                                         event loop, reset by "stats" with
 *                                         clear
 *   OR_CP_GAUGES    struct cp_gauges      stats.control: the state at the
 *                                         time of the reply
 *   OR_STORE_STATS  struct cp_store_stats stats.store: from or_store_stats()
 */
#ifndef OPTROUTE_CP_STATS_H
#define OPTROUTE_CP_STATS_H

#include "optroute/stats.h"

/* docs/control.md, "Limits and abuse", for the reasons a connection is
 * refused or closed. */
#define OR_CP_CLOSED_HELP "Management connections the daemon closed, by reason"

#define OR_CP_COUNTERS(X)                                                    \
	X(requests, COUNTER, N, "optroute_control_requests_total", "",       \
	  "Management requests received (the exporter's own stats requests " \
	  "included)")                                                       \
	X(replies_error, COUNTER, N, "optroute_control_errors_total", "",    \
	  "Management requests answered with an error")                      \
	X(optins, COUNTER, N, "optroute_control_changes_total",              \
	  "action=optin", "Consent changes committed, by action")            \
	X(optouts, COUNTER, N, "optroute_control_changes_total",             \
	  "action=optout", "Consent changes committed, by action")           \
	X(erases, COUNTER, N, "optroute_control_changes_total",              \
	  "action=erase", "Consent changes committed, by action")            \
	/* optin with a pubkey, rekey */                                     \
	X(keys_issued, COUNTER, N, "optroute_control_keys_issued_total", "", \
	  "Sender keys issued (optin with a pubkey, rekey)")                 \
	X(rotations, COUNTER, N, "optroute_control_auth_epoch_changes_total", \
	  "change=rotate", "Auth epoch changes committed")                   \
	X(retirements, COUNTER, N,                                           \
	  "optroute_control_auth_epoch_changes_total", "change=retire",      \
	  "Auth epoch changes committed")                                    \
	X(import_requests, COUNTER, N,                                       \
	  "optroute_control_import_requests_total", "",                      \
	  "Import requests (chunks of lines)")                               \
	X(import_lines, COUNTER, N, "optroute_control_import_lines_total",   \
	  "", "Lines received in import requests")                           \
	X(import_errors, COUNTER, N, "optroute_control_import_errors_total", \
	  "", "Import lines refused")                                        \
	X(commits, COUNTER, N, "optroute_store_commits_total", "",           \
	  "Store transactions committed (one fsync each)")                   \
	X(commit_changes, COUNTER, N, "optroute_store_commit_changes_total", \
	  "", "Consent changes in committed store transactions")             \
	X(commit_max, GAUGE, N, "optroute_store_commit_max_changes", "",     \
	  "Most changes in one store transaction")                           \
	/* time in or_store_apply */                                         \
	X(commit_us_total, COUNTER, US,                                      \
	  "optroute_store_commit_seconds_total", "",                         \
	  "Time spent committing store transactions")                        \
	X(commit_us_max, GAUGE, US, "optroute_store_commit_max_seconds", "", \
	  "Longest store transaction commit")                                \
	X(commit_failures, COUNTER, N,                                       \
	  "optroute_store_commit_failures_total", "",                        \
	  "Store transactions that failed")                                  \
	X(waits, COUNTER, N, "optroute_control_waits_total", "",             \
	  "Change requests that waited for the dataplane's ack")             \
	X(wait_timeouts, COUNTER, N, "optroute_control_wait_timeouts_total", \
	  "", "Waits that ended without the ack")                            \
	X(status_waits, COUNTER, N, "optroute_control_status_waits_total",   \
	  "", "Status requests that waited for reads to hold their "         \
	  "after_seq")                                                       \
	X(status_wait_timeouts, COUNTER, N,                                  \
	  "optroute_control_status_wait_timeouts_total", "",                 \
	  "Status waits that ended without it (wait_timeout_ms)")            \
	X(clients, COUNTER, N, "optroute_control_clients_total", "",         \
	  "Management connections accepted")                                 \
	/* bad credentials or too many */                                    \
	X(clients_refused, COUNTER, N,                                       \
	  "optroute_control_clients_refused_total", "",                      \
	  "Management connections refused (credentials, too many)")          \
	/* line_timeouts + idle_timeouts + clients_stalled */                \
	X(clients_timed_out, COUNTER, N,                                     \
	  "optroute_control_clients_timed_out_total", "",                    \
	  "Management connections closed for a timeout")                     \
	/* closed: a line over OR_MGMT_MAX_LINE (also in                     \
	 * OR_CP_COUNTERS_ALSO) */                                           \
	X(lines_too_long, COUNTER, N, "optroute_control_lines_too_long_total", \
	  "", "Request lines over the size limit")                           \
	/* refused: max_clients open (also in clients_refused) */            \
	X(clients_too_many, COUNTER, N,                                      \
	  "optroute_control_clients_too_many_total", "",                     \
	  "Management connections refused because max_clients were open "    \
	  "and none could be evicted (also in clients_refused)")             \
	X(clients_evicted, COUNTER, N,                                       \
	  "optroute_control_clients_closed_total", "reason=evicted",         \
	  OR_CP_CLOSED_HELP)                                                 \
	X(line_timeouts, COUNTER, N, "optroute_control_clients_closed_total", \
	  "reason=line_timeout", OR_CP_CLOSED_HELP)                          \
	X(idle_timeouts, COUNTER, N, "optroute_control_clients_closed_total", \
	  "reason=idle_timeout", OR_CP_CLOSED_HELP)                          \
	/* did not read its replies */                                       \
	X(clients_stalled, COUNTER, N,                                       \
	  "optroute_control_clients_closed_total", "reason=stalled",         \
	  OR_CP_CLOSED_HELP)                                                 \
	/* malformed requests in a row */                                    \
	X(clients_malformed, COUNTER, N,                                     \
	  "optroute_control_clients_closed_total", "reason=malformed",       \
	  OR_CP_CLOSED_HELP)                                                 \
	/* lines the request parser refused */                               \
	X(malformed_requests, COUNTER, N,                                    \
	  "optroute_control_malformed_requests_total", "",                   \
	  "Request lines refused by the request parser (bad_json, "          \
	  "bad_request, unsupported_version, unknown_command)")              \
	/* let in by [control] readonly_gid only */                          \
	X(clients_readonly, COUNTER, N,                                      \
	  "optroute_control_clients_readonly_total", "",                     \
	  "Management connections accepted as read-only clients "            \
	  "(readonly_gid)")                                                  \
	/* a command not marked RO in include/optroute/mgmt_cmds.h, or a     \
	 * field that changes state ("clear") */                             \
	X(readonly_refused, COUNTER, N,                                      \
	  "optroute_control_readonly_refused_total", "",                     \
	  "Requests of read-only clients refused (a command or field that "  \
	  "is not read-only)")

/* Further families of OR_CP_COUNTERS fields: a line too long also closes
 * its connection. */
#define OR_CP_COUNTERS_ALSO(X)                                               \
	X(lines_too_long, COUNTER, N, "optroute_control_clients_closed_total", \
	  "reason=line_too_long", OR_CP_CLOSED_HELP)

#define OR_CP_GAUGES(X)                                                      \
	X(clients_connected, GAUGE, N, "optroute_control_clients_connected", \
	  "", "Management connections open")                                 \
	/* waiting for a commit, an ack or the dataplane's counters */       \
	X(pending, GAUGE, N, "optroute_control_pending_requests", "",        \
	  "Requests waiting for a commit, an ack or dataplane counters")      \
	X(uptime_s, GAUGE, N, "optroute_control_uptime_seconds", "",         \
	  "Seconds since optroute-control started")

#define OR_STORE_STATS(X)                                                    \
	X(entries, GAUGE, N, "optroute_store_entries", "",                   \
	  "Consent records in the store")                                    \
	X(opted_in, GAUGE, N, "optroute_store_opted_in_entries", "",         \
	  "Consent records in state opted in")                               \
	X(opted_out, GAUGE, N, "optroute_store_opted_out_entries", "",       \
	  "Consent records in state opted out")                              \
	/* 0: no change yet */                                               \
	X(last_seq, GAUGE, N, "optroute_store_last_seq", "",                 \
	  "Seq of the last committed consent change")                        \
	X(audit_entries, GAUGE, N, "optroute_store_audit_entries", "",       \
	  "Entries of the consent audit trail")                              \
	/* data.mdb, bytes on disk */                                        \
	X(file_bytes, GAUGE, N, "optroute_store_file_bytes", "",             \
	  "Store data file size on disk")                                    \
	X(map_bytes, GAUGE, N, "optroute_store_map_bytes", "",               \
	  "Store map size (address space)")

/* Event loop thread only (control/daemon/cp_daemon.h). */
struct cp_counters {
	OR_CP_COUNTERS(OR_STAT_FIELD_)
};

struct cp_gauges {
	OR_CP_GAUGES(OR_STAT_FIELD_)
};

struct cp_store_stats {
	OR_STORE_STATS(OR_STAT_FIELD_)
};

#endif
