/* SPDX-License-Identifier: BSD-3-Clause */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cp_log.h"

static int cp_log_level = CP_LOG_INFO;

static const char *const cp_log_names[] = {
	[CP_LOG_ERR] = "error",   [CP_LOG_WARNING] = "warning",
	[CP_LOG_NOTICE] = "notice", [CP_LOG_INFO] = "info",
	[CP_LOG_DEBUG] = "debug",
};

void
cp_log_set_level(int level)
{
	cp_log_level = level;
}

int
cp_log_level_parse(const char *name)
{
	for (int l = CP_LOG_ERR; l <= CP_LOG_DEBUG; l++)
		if (strcmp(name, cp_log_names[l]) == 0)
			return l;
	return -1;
}

void
cp_log(int level, const char *fmt, ...)
{
	char line[1024];
	size_t n;
	va_list ap;

	if (level > cp_log_level)
		return;
	if (level < CP_LOG_ERR)
		level = CP_LOG_ERR;
	if (level > CP_LOG_DEBUG)
		level = CP_LOG_DEBUG;
	if (getenv("JOURNAL_STREAM") != NULL) {
		n = (size_t)snprintf(line, sizeof(line), "<%d>", level);
	} else {
		struct timespec ts;
		struct tm tm;

		clock_gettime(CLOCK_REALTIME, &ts);
		localtime_r(&ts.tv_sec, &tm);
		n = strftime(line, sizeof(line), "%Y-%m-%dT%H:%M:%S", &tm);
		n += (size_t)snprintf(line + n, sizeof(line) - n,
				      ".%03ld optroute-control %s: ",
				      ts.tv_nsec / 1000000, cp_log_names[level]);
	}
	va_start(ap, fmt);
	if (n < sizeof(line))
		vsnprintf(line + n, sizeof(line) - n, fmt, ap);
	va_end(ap);
	n = strlen(line);
	if (n >= sizeof(line) - 1)
		n = sizeof(line) - 2;
	line[n++] = '\n';
	/* One write per line so lines of two threads never interleave. */
	if (write(STDERR_FILENO, line, n) < 0)
		return;
}
