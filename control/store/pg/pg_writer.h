/* SPDX-License-Identifier: BSD-3-Clause
 *
 * The PostgreSQL system of record's writer (docs/fleet.md section 4): one
 * group of changes, one transaction, under the fleet's head row lock, so
 * that seqs follow commit order fleet-wide with no gap and the audit trail
 * stays one chain whichever appliance writes. The records and audit
 * entries are computed here, by the functions the LMDB store uses
 * (consent_next.h, or_audit_seal), so a group gives the same results, the
 * same records and the same chain in both backends.
 *
 * Concurrency: a PGconn is used by one thread at a time (libpq); the
 * writer keeps no state between calls besides its session's temporary
 * staging tables.
 */
#ifndef OR_PG_WRITER_H
#define OR_PG_WRITER_H

#include <stdint.h>

#include <libpq-fe.h>

#include "control/lib/or_err.h"
#include "control/store/store.h"

/* The fleet row's settings every appliance must share (section 3). */
struct or_pg_fleet_conf {
	uint8_t key_check[16];   /* fingerprint of the master key */
	const char *node_policy; /* "hash N" / "fixed N", as configured */
	uint8_t key_epoch;
};

/* Creates the fleet row if the database has none (head 0), else checks
 * it: 0, -EKEYREJECTED ("the master key differs from the fleet's"),
 * -EINVAL (node_policy or key_epoch differ, both values named), -EIO (a
 * query failed: SQLSTATE and primary message). */
int or_pg_fleet_join(PGconn *c, const struct or_pg_fleet_conf *fc,
		     struct or_err *err);

/* One group commit, blocking. writer: this appliance's id (the audit
 * body's writer field; 0 for none); group: its group counter, recorded in
 * its appliance row with the group's first seq so that an outcome lost
 * with the connection can be settled (section 4; ignored when writer is
 * 0). The rules and results are or_store_apply's (store.h): changes
 * checked first, a key only for an opted-in subject, res[i] and
 * *first_seq on success.
 *   0            committed (COMMIT returned OK)
 *   -EINVAL      refused by the rules; nothing committed, err says which
 *                change ("change 3: ...")
 *   -E2BIG       n > OR_STORE_APPLY_MAX
 *   -ENOENT      no fleet row (or_pg_fleet_join first)
 *   -EIO         a statement failed, or the head moved under the lock;
 *                rolled back, nothing committed
 *   -ECONNABORTED the connection broke after COMMIT was sent, or
 *                COMMIT had no answer within commit_ms (0: no bound; the
 *                connection is then busy, finish it): the outcome is
 *                unknown until settled (res and *first_seq are what
 *                the group has if it did commit)
 *   -ENOTCONN    the connection is not usable (found before anything of
 *                the group was sent, also at BEGIN): retry on a new one */
int or_pg_write_group(PGconn *c, uint16_t writer, uint64_t group,
		      const struct or_node_policy *pol,
		      const struct or_change *ch, unsigned n,
		      struct or_change_result *res, uint64_t *first_seq,
		      unsigned commit_ms, struct or_err *err);

/* A rotation (OR_ACT_ROTATE) or retirement (OR_ACT_RETIRE) of the
 * fleet's auth epochs (store.h: or_auth_entry's rule on the fleet row's
 * state), one transaction of its own: its entry under the zero token,
 * the head and the auth state. On 0, *st is the new state (its seq the
 * entry's). -EBUSY / -ENOENT (refused, nothing committed), -ENOENT also
 * without a fleet row, -EIO, -ECONNABORTED and -ENOTCONN as above. */
int or_pg_write_auth(PGconn *c, uint16_t writer, uint8_t action,
		     unsigned commit_ms, struct or_auth_state *st,
		     struct or_err *err);

/* The NOTIFY channel a commit wakes followers on (payload: the new head
 * seq in decimal). */
#define OR_PG_HEAD_CHANNEL "optroute_head"

#endif
