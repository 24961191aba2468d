/* SPDX-License-Identifier: BSD-3-Clause
 *
 * What optroute-dataplane shows to the outside: DPDK telemetry commands
 * (/optroute/..., see docs/dataplane.md; read them with dpdk-telemetry.py)
 * and the counters sent in the update channel's STATS replies (figures.h:
 * or_stats_fill, or_stats_clear).
 */
#ifndef OR_DP_TELEMETRY_H
#define OR_DP_TELEMETRY_H

#include "dp.h"
#include "figures.h"

/* Registers the /optroute/ commands; dp must outlive EAL. 0 or -errno. */
int or_telemetry_init(struct or_dp *dp);

/* Makes the commands answer -ENODEV from now on, and waits for those
 * being answered: call before freeing what they read. */
void or_telemetry_stop(void);

#endif
