/* SPDX-License-Identifier: BSD-3-Clause
 *
 * optroute-control's state shared by the event loop (cp_srv) and the
 * command actions (cp_act). Everything here is touched by the event loop
 * thread only, except the store and keys (thread-safe) and the channel
 * thread behind link (dplink/cp_link.h).
 */
#ifndef CP_DAEMON_H
#define CP_DAEMON_H

#include <stdint.h>

#include "optroute/cp_stats.h"
#include "optroute/version.h"

#include "control/daemon/dplink/cp_link.h"
#include "control/lib/keys.h"
#include "control/store/sor.h"

#include "cp_cfg.h"

#define CP_VERSION OR_VERSION

/* struct cp_counters, the control-plane counters ("stats"; reset by
 * "stats" with clear): the list OR_CP_COUNTERS in
 * include/optroute/cp_stats.h. */

struct cp_daemon {
	const struct cp_cfg *cfg;
	struct or_keys *keys;
	struct or_sor *sor;       /* the system of record (control/store/sor.h) */
	struct cp_link *link;
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
