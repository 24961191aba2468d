/* SPDX-License-Identifier: BSD-3-Clause
 *
 * The daemons' log lines (common/log/log.c): one line per message on
 * stderr, syslog levels. Under systemd (JOURNAL_STREAM set) each line
 * starts with "<N>" so journald records the level; elsewhere with a time
 * stamp, the program's name and the level name. Thread-safe: one write(2)
 * per line, so lines of two threads never interleave; the level and the
 * name are set once at start, before any thread. Never log a phone number:
 * log tokens at most, and only at debug level.
 *
 * Used by optroute-control (through control/daemon/cp_log.h) and
 * optroute-exporter.
 */
#ifndef OPTROUTE_LOG_H
#define OPTROUTE_LOG_H

#include <stdarg.h>

enum or_log_level {
	OR_LOG_ERR = 3,
	OR_LOG_WARNING = 4,
	OR_LOG_NOTICE = 5,
	OR_LOG_INFO = 6,
	OR_LOG_DEBUG = 7,
};

/* The program's name in lines outside the journal (default: the name it
 * was started as). The string must outlive every log call. */
void or_log_set_name(const char *name);

/* Messages above level are dropped (default OR_LOG_INFO). */
void or_log_set_level(int level);

/* Level from a name, in any case (as INI keywords are); -1 if unknown. */
int or_log_level_parse(const char *name);
/* The names, for a configuration error's "expected ..." text. */
#define OR_LOG_LEVEL_WORDS "error, warning, notice, info or debug"

void or_log(int level, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
void or_vlog(int level, const char *fmt, va_list ap)
	__attribute__((format(printf, 2, 0)));

#endif
