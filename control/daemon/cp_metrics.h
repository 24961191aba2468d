/* SPDX-License-Identifier: BSD-3-Clause
 *
 * Transitional, for cp_cfg.c only: /metrics is served by optroute-exporter
 * now (control/exporter/, docs/exporter.md), and optroute-control no longer
 * uses its old [control] metrics, metrics_allow_remote and
 * metrics_max_age_ms keys; cp_cfg.c still accepts and checks them until
 * they are removed. Delete this header with them.
 */
#ifndef CP_METRICS_H
#define CP_METRICS_H

#include "optroute/listen.h"

#include "control/exporter/exp.h"

#define CP_METRICS_ADDR_LEN OR_LISTEN_STR_LEN
#define CP_METRICS_DEFAULT_LISTEN EXP_DEFAULT_LISTEN
#define cp_metrics_parse_listen or_listen_parse
#define cp_metrics_is_loopback or_listen_is_loopback
#define cp_metrics_addr_str or_listen_str

#endif
