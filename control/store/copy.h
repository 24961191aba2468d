/* SPDX-License-Identifier: BSD-3-Clause
 *
 * A fleet follower's local copy (docs/fleet.md section 6): the records of
 * the system of record as this appliance last applied them, from which it
 * reads, snapshots for its dataplane and restarts while PostgreSQL is
 * away. Two LMDB environments in the copy's directory:
 *
 *   data.mdb  the records: an ordinary store (store.h) written only by the
 *             fold, its meta head the folded position F;
 *   log.mdb   the entries after F as they came (seq -> the entry's link
 *             and the state it leaves), one fsync'ed append per batch.
 *
 * Why: applying a batch is then one sequential append whatever the size
 * of the store, where a random insert into a B-tree of 10 M records
 * writes a page per change. The newest state of every token the log names
 * is kept in memory (the overlay), which reads consult first. A fold
 * thread writes the overlay into data.mdb in token order (a page written
 * once for all the changes on it), moves F, then drops what it folded from
 * the overlay and the log. Opening replays the log after F.
 *
 * Crash safety: a batch and the position it reaches are one transaction
 * of log.mdb, committed (fsync) before or_copy_follow returns, so the
 * copy holds what the dataplane is told. A fold commits data.mdb (its
 * records, F, counts and auth state) before it trims the log; a fold cut
 * short leaves records that the replayed overlay shadows, and entries at
 * or before F are skipped. The log holds at most OR_COPY_LOG_MAX entries:
 * past that, or_copy_follow waits for the fold.
 *
 * Threads: or_copy_follow from one thread at a time (the follower); reads
 * from any; the fold thread runs from or_copy_start to or_copy_close. One
 * mutex guards the overlay, the position and the counts.
 */
#ifndef OR_COPY_H
#define OR_COPY_H

#include <stdint.h>

#include "control/store/audit.h"
#include "control/store/store.h"

#define OR_COPY_FOLD_MIN (1u << 20)  /* log entries that start a fold */
#define OR_COPY_FOLD_IDLE_MS 1000u   /* or any, this long after the last */
#define OR_COPY_LOG_MAX (4u << 20)   /* log entries before follow waits */

struct or_copy;

/* What the fold did, for stats. */
struct or_copy_stats {
	uint64_t unfolded;       /* log entries after F */
	uint64_t folds;          /* folds committed since open */
	uint64_t folded_changes; /* entries they covered */
	uint64_t fold_us_last;   /* the last fold's duration */
	uint64_t fold_failures;  /* folds that failed (retried) */
};

/* Opens (creating if missing) the copy at conf->path and replays its log.
 * A log entry that does not link to the one before (or to F) ends the
 * replay: it and those after are dropped (logged). 0 or -errno. */
int or_copy_open(const struct or_store_conf *conf, struct or_copy **out,
		 struct or_err *err);

/* Starts the fold thread (call from a control thread). 0 or -EAGAIN. */
int or_copy_start(struct or_copy *c);

/* Stops the fold thread (a fold under way finishes), closes. NULL is
 * fine. */
void or_copy_close(struct or_copy *c);

/* The position: the last entry applied (seq 0 and zeros: none). */
void or_copy_position(struct or_copy *c, uint64_t *seq,
		      uint8_t hash[OR_AUDIT_HASH_LEN]);

/* Applies n entries of the trail, which must follow the position in seq
 * and hash, and fills res[i] (if not NULL) as or_store_apply would have.
 * Durable when it returns 0. -ESTALE (e[0] does not follow the
 * position), -EBADMSG (an entry does not follow its record or the one
 * before), -ENOMEM, -EIO; on an error nothing of the batch is applied. */
int or_copy_follow(struct or_copy *c, const struct or_audit_entry *e,
		   unsigned n, struct or_change_result *res,
		   struct or_err *err);

/* Reads, as store.h's. The snapshot is consistent: *snap_seq is the
 * position it reflects. */
int or_copy_get(struct or_copy *c, const struct or_token *t,
		struct or_consent *out);
int or_copy_snapshot(struct or_copy *c, struct or_store_entry *buf,
		     unsigned cap, or_store_chunk_cb cb, void *arg,
		     uint64_t *snap_seq, struct or_err *err);
int or_copy_auth_get(struct or_copy *c, struct or_auth_state *st,
		     struct or_err *err);
/* entries, opted_in, opted_out and last_seq at the position; file_bytes
 * of both files. cs may be NULL. */
int or_copy_stats(struct or_copy *c, struct or_store_stats *st,
		  struct or_copy_stats *cs, struct or_err *err);

/* Resuming a dataplane (copy_since.c), as audit.h's or_audit_hash_at
 * and or_audit_changes_since, for positions from the folded one F to the
 * copy's position: anything before F is -ENOENT / -ESTALE. */
int or_copy_hash_at(struct or_copy *c, uint64_t seq,
		    uint8_t hash[OR_AUDIT_HASH_LEN], struct or_err *err);
int or_copy_changes_since(struct or_copy *c, uint64_t seq,
			  const uint8_t hash[OR_AUDIT_HASH_LEN], uint64_t max,
			  struct or_store_entry *buf, unsigned cap,
			  or_store_chunk_cb cb, void *arg, uint64_t *snap_seq,
			  struct or_err *err);

/* The fold's figures alone (no file stat). */
void or_copy_fold_stats(struct or_copy *c, struct or_copy_stats *cs);

/* Folds the whole log now, in the calling thread (tests, tools). 0 or
 * -errno. */
int or_copy_fold(struct or_copy *c, struct or_err *err);

#endif
