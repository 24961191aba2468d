/* SPDX-License-Identifier: BSD-3-Clause
 *
 * What one change does to a consent record: the one definition the LMDB
 * store's apply (store.c), the PostgreSQL writer and a follower that
 * rebuilds records from the audit trail share (docs/fleet.md section 6),
 * so that records rebuilt from the trail equal the writer's by
 * construction (tests/unit/test_consent_next.c checks it on random
 * change streams).
 */
#ifndef OR_CONSENT_NEXT_H
#define OR_CONSENT_NEXT_H

#include <stdint.h>

#include "control/store/audit.h"
#include "control/store/store.h"

/* The time a change with time_ms 0 gets: Unix ms now (CLOCK_REALTIME),
 * read once per group. */
uint64_t or_store_now_ms(void);

/* The rules a group's changes must follow before any is applied: a known
 * action (OPTIN..KEY) and method, a node only on an opt-in and in range, a
 * valid policy for an opt-in without a node. 0, or -EINVAL with err
 * "change 3: unknown method 200" (the first that breaks one). */
int or_changes_check(const struct or_node_policy *pol,
		     const struct or_change *ch, unsigned n,
		     struct or_err *err);

/* The record after change c (OR_ACT_OPTIN or OR_ACT_OPTOUT) with seq seq
 * at time t (Unix ms), given the record before (old, NULL when there is
 * none): token, epoch, method and notice from c; an opt-in sets granted
 * and clears withdrawn, takes c's node (and pins it) or keeps a pinned
 * one or asks the policy; an opt-out keeps node, flags and granted. */
void or_consent_next(const struct or_node_policy *pol,
		     const struct or_change *c, const struct or_consent *old,
		     uint64_t seq, uint64_t t, struct or_consent *nw);

/* The record after audit entry e, given the record before (old, NULL when
 * there is none), as or_store_apply wrote it: the node and flags are the
 * entry's (it records them), so no policy is needed.
 *   1        *nw is the record after (OPTIN, OPTOUT; KEY: *old unchanged)
 *   0        no record after (ERASE)
 *   -EBADMSG e cannot follow old: a KEY for a subject not opted in, or an
 *            entry of the appliance's own (ROTATE, RETIRE, unknown action),
 *            which is no subject's
 */
int or_consent_from_entry(const struct or_audit_entry *e,
			  const struct or_consent *old, struct or_consent *nw);

#endif
