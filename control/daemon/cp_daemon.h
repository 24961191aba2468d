/* SPDX-License-Identifier: BSD-3-Clause
 *
 * optroute-control's state shared by the event loop (cp_srv) and the
 * command actions (cp_act). Everything here is touched by the event loop
 * thread only, except the store and keys (thread-safe) and the channel
 * thread behind push.
 */
#ifndef CP_DAEMON_H
#define CP_DAEMON_H

#include <stdint.h>

#include "../lib/keys.h"
#include "../lib/store.h"

#include "cp_cfg.h"
#include "cp_push.h"

#define CP_VERSION "1.0.0"

/* Control-plane counters ("stats"); reset by "stats" with clear. */
struct cp_counters {
	uint64_t requests;
	uint64_t replies_error;
	uint64_t optins;          /* opt-in changes committed */
	uint64_t optouts;         /* opt-out changes committed */
	uint64_t erases;          /* erasures committed */
	uint64_t keys_issued;     /* sender keys issued (optin, rekey) */
	uint64_t rotations;       /* auth epochs started */
	uint64_t retirements;     /* auth epochs retired */
	uint64_t import_requests;
	uint64_t import_lines;
	uint64_t import_errors;   /* lines refused */
	uint64_t commits;         /* store transactions */
	uint64_t commit_changes;  /* changes in them */
	uint64_t commit_max;      /* most changes in one transaction */
	uint64_t commit_us_total; /* time in or_store_apply */
	uint64_t commit_us_max;
	uint64_t commit_failures;
	uint64_t waits;           /* requests that waited for the dataplane */
	uint64_t wait_timeouts;
	uint64_t clients;         /* connections accepted */
	uint64_t clients_refused; /* bad credentials or too many */
	uint64_t clients_timed_out; /* line_timeouts + idle_timeouts +
				     * clients_stalled */
	uint64_t lines_too_long;  /* closed: a line over OR_MGMT_MAX_LINE */
	/* Abuse of the management socket, one counter per reason a
	 * connection is refused or closed (docs/control.md, Limits). */
	uint64_t clients_too_many;   /* refused: max_clients open (also in
				      * clients_refused) */
	uint64_t clients_evicted;    /* closed to make room for a new one */
	uint64_t line_timeouts;      /* closed: line not finished in time */
	uint64_t idle_timeouts;      /* closed: nothing to do for too long */
	uint64_t clients_stalled;    /* closed: did not read its replies */
	uint64_t clients_malformed;  /* closed: malformed requests in a row */
	uint64_t malformed_requests; /* lines the request parser refused */
};

struct cp_daemon {
	const struct cp_cfg *cfg;
	struct or_keys *keys;
	struct or_store *store;
	struct cp_push *push;
	struct cp_counters cnt;
	uint64_t start_ms;      /* CLOCK_MONOTONIC */
	uint64_t committed_seq; /* last store seq committed */
	struct or_auth_state auth; /* the store's auth epoch state */
	unsigned clients;       /* connected now */
	unsigned pending;       /* requests waiting for a commit/ack/stats */
};

uint64_t cp_now_ms(void);
uint64_t cp_now_us(void);

#endif
