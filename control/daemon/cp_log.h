/* SPDX-License-Identifier: BSD-3-Clause
 *
 * optroute-control logging: the daemons' shared log lines
 * (include/optroute/log.h: one line per message on stderr, syslog levels,
 * thread-safe) under the control plane's names. Never log a phone number:
 * log tokens at most, and only at debug level.
 */
#ifndef CP_LOG_H
#define CP_LOG_H

#include "optroute/log.h"

enum cp_log_level {
	CP_LOG_ERR = OR_LOG_ERR,
	CP_LOG_WARNING = OR_LOG_WARNING,
	CP_LOG_NOTICE = OR_LOG_NOTICE,
	CP_LOG_INFO = OR_LOG_INFO,
	CP_LOG_DEBUG = OR_LOG_DEBUG,
};

/* Messages above level are dropped. */
void cp_log_set_level(int level);

/* Level from a name (error, warning, notice, info, debug); -1 if unknown. */
int cp_log_level_parse(const char *name);

void cp_log(int level, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

#define CP_ERR(...) cp_log(CP_LOG_ERR, __VA_ARGS__)
#define CP_WARN(...) cp_log(CP_LOG_WARNING, __VA_ARGS__)
#define CP_NOTICE(...) cp_log(CP_LOG_NOTICE, __VA_ARGS__)
#define CP_INFO(...) cp_log(CP_LOG_INFO, __VA_ARGS__)
#define CP_DEBUG(...) cp_log(CP_LOG_DEBUG, __VA_ARGS__)

#endif
