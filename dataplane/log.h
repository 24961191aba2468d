/* SPDX-License-Identifier: BSD-3-Clause
 *
 * Logging of optroute-dataplane: rte_log with the process's own log type,
 * "optroute.dataplane", so its level can be set with the EAL option
 * --log-level=optroute.dataplane:debug like any DPDK component.
 *
 * Nothing logged may contain a phone number or a token.
 */
#ifndef OR_DP_LOG_H
#define OR_DP_LOG_H

#include <rte_log.h>

extern int or_dp_logtype;

#define OR_LOG(level, fmt, ...)                                              \
	rte_log(RTE_LOG_##level, or_dp_logtype, "optroute: " fmt "\n",       \
		##__VA_ARGS__)

#endif
