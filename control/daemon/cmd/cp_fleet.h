/* SPDX-License-Identifier: BSD-3-Clause
 *
 * The fleet as the management commands see it (docs/fleet.md section 8):
 * the positions the store's follower last read (or_sor_fleet), as JSON
 * for "fleet" and "stats", and the decision of a --wait=fleet request.
 * Event loop thread only.
 */
#ifndef CP_FLEET_H
#define CP_FLEET_H

#include <stdint.h>

#include <jansson.h>

#include "control/store/sor.h"

/* {"enforced": [names], "lagging": [{"appliance", "enforced_seq",
 * "silent_ms"}]} for change seq; *done = every live appliance but this
 * one enforces it (this one's own dataplane ack is the caller's, read
 * from its link: fresher than its last report). A silent appliance is
 * listed as lagging and not waited for. */
json_t *cp_fleet_wait_json(const struct or_sor_fleet *f, uint64_t seq,
			   int *done);

/* The names of the live appliances that do not enforce seq yet, and of
 * the silent ones ("a2 (at seq 800), a3 (silent for 12 s)"), for the
 * fleet_timeout message. */
void cp_fleet_lagging_text(const struct or_sor_fleet *f, uint64_t seq,
			   char *buf, size_t len);

/* The "fleet" reply and "stats" section: store, head, connected, and
 * one object per appliance (name, id, self, state live/silent, applied,
 * enforced, lag, report_age_ms). NULL if the store is not a fleet. */
json_t *cp_fleet_json(const struct or_sor_fleet *f);

/* 1 when every live appliance of the fleet but this one has acked a key
 * set of auth state seq or later (docs/fleet.md section 8: keys of a new
 * epoch are issued only then); also when not a fleet. 0 while the
 * positions cannot be read (the previous epoch is live everywhere). */
int cp_fleet_keys_acked(const struct or_sor_fleet *f, uint64_t seq);

#endif
