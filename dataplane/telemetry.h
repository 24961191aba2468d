/* SPDX-License-Identifier: BSD-3-Clause
 *
 * What optroute-dataplane shows to the outside: DPDK telemetry commands
 * (/optroute/..., see docs/dataplane.md; read them with dpdk-telemetry.py)
 * and the counters sent in the update channel's STATS replies.
 */
#ifndef OR_DP_TELEMETRY_H
#define OR_DP_TELEMETRY_H

#include "chan/updater.h"
#include "dp.h"

/* Registers the /optroute/ commands; dp must outlive EAL. 0 or -errno. */
int or_telemetry_init(struct or_dp *dp);

/* Makes the commands answer -ENODEV from now on, and waits for those
 * being answered: call before freeing what they read. */
void or_telemetry_stop(void);

/* or_updater_conf.stats_fill: the summed counters, then rx, tx, delivered,
 * bounced and dropped per port ("port.NAME.rx", ...). arg is the or_dp. */
unsigned or_stats_fill(void *arg, struct or_updater_stat *out, unsigned max);

/* The updater's stats_clear callback: clears every packet counter. */
void or_stats_clear(void *arg);

#endif
