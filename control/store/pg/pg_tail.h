/* SPDX-License-Identifier: BSD-3-Clause
 *
 * Following the system of record (docs/fleet.md section 5): the audit
 * trail read in seq order after a position, every link checked, for a
 * follower that rebuilds its records from the entries (consent_next.h).
 *
 * Concurrency: a PGconn is used by one thread at a time (libpq).
 */
#ifndef OR_PG_TAIL_H
#define OR_PG_TAIL_H

#include <stdint.h>

#include <libpq-fe.h>

#include "control/lib/or_err.h"
#include "control/store/audit.h"

/* Where a follower stands: its last applied seq and that entry's hash
 * (0 and 32 zero bytes before the first). */
struct or_pg_pos {
	uint64_t seq;
	uint8_t hash[OR_AUDIT_HASH_LEN];
};

/* Gets entries pos->seq + 1 .. pos->seq + n in order (one call per batch
 * read); returns 0 to go on, anything else to stop (returned). */
typedef int (*or_pg_entries_cb)(void *arg, const struct or_audit_entry *e,
				unsigned n);

/* Reads up to max entries after *pos, in batches of at most batch, and
 * hands each batch to cb once every entry of it is checked: seqs follow
 * on with no gap, each hash recomputes from its prev_hash and body, each
 * prev_hash is the hash before it. *pos advances past each batch cb
 * took. A read-only snapshot per batch; entries commit in seq order
 * (section 5), so nothing is skipped.
 *   >= 0      entries handed over (0: nothing new)
 *   -ESTALE   the position is gone: the fleet's head is below pos->seq,
 *             or the entry after it does not link to pos->hash (history
 *             diverged: restore, failover): take a full resync
 *   -EBADMSG  an entry further on fails its check (altered trail):
 *             *bad_seq says which; nothing of its batch was handed over
 *   -EIO      a query failed (err: SQLSTATE and primary message)
 *   cb's value, if it stopped. */
int or_pg_tail(PGconn *c, struct or_pg_pos *pos, uint64_t max,
	       unsigned batch, or_pg_entries_cb cb, void *arg,
	       uint64_t *bad_seq, struct or_err *err);

#endif
