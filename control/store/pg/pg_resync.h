/* SPDX-License-Identifier: BSD-3-Clause
 *
 * A follower's full resync (docs/fleet.md section 5): when its position
 * is gone (history diverged, the record restored from an older backup) or
 * too far behind, the local copy is rebuilt from one snapshot of the
 * system of record beside the live one, then swapped in. The live copy
 * keeps serving meanwhile; a crash in between leaves either copy whole.
 *
 * Directories: PATH (the live copy), PATH.new (being built), PATH.old
 * (being removed). One thread (the follower) at a time.
 */
#ifndef OR_PG_RESYNC_H
#define OR_PG_RESYNC_H

#include <stdint.h>

#include <libpq-fe.h>

#include "control/lib/or_err.h"
#include "control/store/pg/pg_tail.h"

/* Builds PATH.new from one REPEATABLE READ, READ ONLY snapshot: the
 * fleet row (head seq and hash, auth state), then every record in token
 * order. *pos = the head it stands at, *records = records loaded. 0, or
 * -errno with err (PATH.new is then removed). */
int or_pg_resync_build(PGconn *c, const char *path, uint64_t map_size,
		       struct or_pg_pos *pos, uint64_t *records,
		       struct or_err *err);

/* PATH.new becomes PATH (the old copy is removed), the copy being closed.
 * Also finishes a swap a crash interrupted: with PATH missing and
 * PATH.new there, PATH.new is the copy; leftovers are removed. Call it at
 * open too. 0 or -errno. */
int or_pg_resync_swap(const char *path, int built, struct or_err *err);

#endif
