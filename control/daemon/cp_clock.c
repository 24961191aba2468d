/* SPDX-License-Identifier: BSD-3-Clause
 *
 * optroute-control's clock (cp_daemon.h): CLOCK_MONOTONIC, for timeouts,
 * group ages and the timings in replies. In the daemon library, not in
 * cp_main.c, so the tests and fuzz targets that link the library get it.
 */
#include <time.h>

#include "cp_daemon.h"

uint64_t
cp_now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000 + (uint64_t)ts.tv_nsec / 1000;
}

uint64_t
cp_now_ms(void)
{
	return cp_now_us() / 1000;
}
