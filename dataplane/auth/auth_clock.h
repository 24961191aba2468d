/* SPDX-License-Identifier: BSD-3-Clause
 *
 * The appliance clock of protocol version 2's send-time window and replay
 * filter (docs/protocol.md section 5): wall-clock milliseconds, since the
 * phones' send times are. The coarse realtime clock (vDSO, a few ns) is
 * read once a burst by the workers and every tick by the main lcore
 * (or_replay_tick): one clock for both, so the filter's live slots and the
 * window agree. Its resolution (1-4 ms) is nothing against a window of
 * seconds.
 */
#ifndef OR_AUTH_CLOCK_H
#define OR_AUTH_CLOCK_H

#include <stdint.h>
#include <time.h>

#include <rte_cycles.h>

static inline uint64_t
or_auth_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME_COARSE, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* The bounce budgets' clock (auth/budget.h asks one monotonic clock of
 * every caller): TSC milliseconds, read once a burst by the workers and
 * by the telemetry thread for the budget's statistics. */
static inline uint64_t
or_auth_mono_ms(void)
{
	return rte_rdtsc() / (rte_get_tsc_hz() / 1000);
}

#endif
