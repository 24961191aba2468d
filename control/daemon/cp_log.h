/* SPDX-License-Identifier: BSD-3-Clause
 *
 * optroute-control logging: one line per message on stderr, syslog levels.
 * Under systemd (JOURNAL_STREAM set) each line starts with "<N>" so journald
 * records the level; elsewhere with a time stamp and the level name.
 * Thread-safe (one write(2) per line). Never log a phone number: log tokens
 * at most, and only at debug level.
 */
#ifndef CP_LOG_H
#define CP_LOG_H

enum cp_log_level {
	CP_LOG_ERR = 3,
	CP_LOG_WARNING = 4,
	CP_LOG_NOTICE = 5,
	CP_LOG_INFO = 6,
	CP_LOG_DEBUG = 7,
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
