/* SPDX-License-Identifier: BSD-3-Clause
 *
 * Log lines on stderr (include/optroute/log.h).
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "optroute/log.h"

static int or_log_level = OR_LOG_INFO;
static const char *or_log_name;

static const char *const or_log_names[] = {
	[OR_LOG_ERR] = "error",   [OR_LOG_WARNING] = "warning",
	[OR_LOG_NOTICE] = "notice", [OR_LOG_INFO] = "info",
	[OR_LOG_DEBUG] = "debug",
};

void
or_log_set_name(const char *name)
{
	or_log_name = name;
}

void
or_log_set_level(int level)
{
	or_log_level = level;
}

int
or_log_level_parse(const char *name)
{
	for (int l = OR_LOG_ERR; l <= OR_LOG_DEBUG; l++)
		if (strcasecmp(name, or_log_names[l]) == 0)
			return l;
	return -1;
}

void
or_vlog(int level, const char *fmt, va_list ap)
{
	char line[1024];
	size_t n;

	if (level > or_log_level)
		return;
	if (level < OR_LOG_ERR)
		level = OR_LOG_ERR;
	if (level > OR_LOG_DEBUG)
		level = OR_LOG_DEBUG;
	if (getenv("JOURNAL_STREAM") != NULL) {
		n = (size_t)snprintf(line, sizeof(line), "<%d>", level);
	} else {
		struct timespec ts;
		struct tm tm;

		clock_gettime(CLOCK_REALTIME, &ts);
		localtime_r(&ts.tv_sec, &tm);
		n = strftime(line, sizeof(line), "%Y-%m-%dT%H:%M:%S", &tm);
		n += (size_t)snprintf(line + n, sizeof(line) - n,
				      ".%03ld %s %s: ", ts.tv_nsec / 1000000,
				      or_log_name != NULL ?
				      or_log_name : program_invocation_short_name,
				      or_log_names[level]);
	}
	if (n < sizeof(line))
		vsnprintf(line + n, sizeof(line) - n, fmt, ap);
	n = strlen(line);
	if (n >= sizeof(line) - 1)
		n = sizeof(line) - 2;
	line[n++] = '\n';
	/* One write per line so lines of two threads never interleave. */
	if (write(STDERR_FILENO, line, n) < 0)
		return;
}

void
or_log(int level, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	or_vlog(level, fmt, ap);
	va_end(ap);
}
