/* SPDX-License-Identifier: BSD-3-Clause
 *
 * The control plane's log calls, on the shared log lines (common/log/).
 */
#include <stdarg.h>

#include "cp_log.h"

void
cp_log_set_level(int level)
{
	or_log_set_level(level);
}

int
cp_log_level_parse(const char *name)
{
	return or_log_level_parse(name);
}

void
cp_log(int level, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	or_vlog(level, fmt, ap);
	va_end(ap);
}
