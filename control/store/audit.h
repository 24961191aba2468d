/* SPDX-License-Identifier: BSD-3-Clause
 *
 * The consent audit trail. Specification: docs/consent-store.md ("Audit").
 *
 * Append-only and hash-chained, in the store's LMDB environment, written
 * by or_store_apply() in the same transaction as the change it records,
 * so store and trail cannot diverge. Entry seq = the change's seq.
 *
 *   hash(seq) = BLAKE2b-256(prev_hash || body(seq))
 *   prev_hash(1) = 32 zero bytes, prev_hash(n) = hash(n-1)
 *
 * body (44 bytes, little-endian): seq u64, time_ms u64, token[16],
 * action u8, method u8, epoch u8, flags u8, node u16, writer u16,
 * notice_version u32. writer: the appliance that committed the entry to a
 * fleet's PostgreSQL system of record (docs/fleet.md section 3); 0 for a
 * single box's LMDB store (as every entry before the fleet had). The stored value is prev_hash || body || hash.
 * The head (last seq, its hash) is also kept in the meta DB, so removing
 * the newest entries is detected too.
 *
 * The chain detects any edit, deletion, insertion or reordering done
 * without recomputing every later hash. It is not keyed: someone who can
 * write the file can rebuild the whole chain, so keep the head hash
 * (or_audit_head, `optroutectl audit head`) somewhere else too; a chain
 * that still contains that hash at that seq was not rewritten up to it.
 *
 * A per-token index makes one subject's history an O(k log n) read: a
 * dupsort token -> seq row per event, except the event the token's live
 * consent record names (its seq: the change that last wrote it), which the
 * record indexes. So a first opt-in writes one random B-tree leaf (its
 * record) instead of two; a later change adds the row of the event its
 * record stops naming. A store of format 1 has rows for those too.
 *
 * Besides consent changes the trail records sender keys (store.h): a key
 * issued to a subject (OR_ACT_KEY, under its token, epoch = the auth epoch
 * of the key; nothing of the key itself), and the appliance's auth epoch
 * rotations and retirements (OR_ACT_ROTATE, OR_ACT_RETIRE) under the
 * all-zero token, which no number ever has, so that every entry keeps its
 * index row (key, rotate and retire entries always have one: no record
 * names them) and or_audit_subject() of the zero token is the epoch
 * history.
 */
#ifndef OR_AUDIT_H
#define OR_AUDIT_H

#include <stddef.h>
#include <stdint.h>

#include "optroute/consent.h"

#include "control/lib/or_err.h"
#include "control/store/store.h"

#define OR_AUDIT_HASH_LEN 32
#define OR_AUDIT_BODY_LEN 44

struct or_store;

struct or_audit_entry {
	uint64_t seq;
	uint64_t time_ms;        /* Unix ms, UTC */
	struct or_token token;
	uint8_t action;          /* enum or_action (store.h) */
	uint8_t method;          /* enum or_method (store.h) */
	uint8_t epoch;           /* token key epoch; auth epoch for OR_ACT_KEY,
				  * OR_ACT_ROTATE (new current) and
				  * OR_ACT_RETIRE (the retired one) */
	uint8_t flags;           /* OR_CFLAG_* of the record after */
	uint16_t node;           /* node of the record after */
	uint16_t writer;         /* appliance id in a fleet, else 0 */
	uint32_t notice_version;
	uint8_t prev_hash[OR_AUDIT_HASH_LEN];
	uint8_t hash[OR_AUDIT_HASH_LEN];
};

/* Verifies the whole chain in one read snapshot: seqs 1..last with no gap,
 * each entry's seq matching its key, prev_hash linking, each hash
 * recomputed, and the meta head (seq and hash) matching the last entry.
 * Also checks that every entry is in the token index (a row, or its
 * token's record names it) and the index has no rows beyond those, so a
 * subject export is complete when this passes.
 * 0 if intact (*n_checked = entries); -EBADMSG if not, with *bad_seq = the
 * first seq whose check fails and err saying how ("audit: entry 17: hash
 * mismatch (altered)", "...: missing (deleted)", "...: holds another seq
 * (moved)", "...: does not link to the previous entry"); *bad_seq is 0
 * when the token index has extra rows. Other -errno on I/O errors.
 * bad_seq and n_checked may be NULL. */
int or_audit_verify(struct or_store *s, uint64_t *bad_seq,
		    uint64_t *n_checked, struct or_err *err);

/* The same, giving up with -ECANCELED once *cancel is set (read every few
 * thousand entries): for a verification running in the background of a
 * process that must be able to stop. */
int or_audit_verify_cancel(struct or_store *s, const volatile int *cancel,
			   uint64_t *bad_seq, uint64_t *n_checked,
			   struct or_err *err);

/* e's body as hashed and, from e->prev_hash and it, e->hash: what
 * or_audit_append stores, for a writer that stores the trail elsewhere
 * (the PostgreSQL system of record). */
void or_audit_seal(struct or_audit_entry *e,
		   uint8_t body[OR_AUDIT_BODY_LEN]);

/* An entry from its stored parts (e->prev_hash and e->hash copied, the
 * rest decoded from body). 0, or -EBADMSG if hash is not BLAKE2b-256 of
 * prev_hash || body (an altered entry). */
int or_audit_unseal(const uint8_t prev_hash[OR_AUDIT_HASH_LEN],
		    const uint8_t body[OR_AUDIT_BODY_LEN],
		    const uint8_t hash[OR_AUDIT_HASH_LEN],
		    struct or_audit_entry *e);

/* Last seq and its hash (seq 0 and zero hash for an empty trail). */
int or_audit_head(struct or_store *s, uint64_t *seq,
		  uint8_t hash[OR_AUDIT_HASH_LEN], struct or_err *err);

/* One subject's history (right of access), oldest first, verified:
 * for each of the token's entries, the stored hash is recomputed from
 * its stored prev_hash and body, its seq matches its key, and it is
 * linked to its neighbours (hash(seq-1) == its prev_hash, and
 * prev_hash(seq+1) == its hash, or it is the head). That proves these
 * entries were not altered without also rewriting their neighbours; it
 * does not check the rest of the chain (or_audit_verify does).
 * On 0, *out is a malloc'ed array of *n entries (free() it; NULL when
 * n == 0). -EBADMSG (with *bad_seq, if not NULL, and err) if any entry
 * fails, and then *out is NULL. */
int or_audit_subject(struct or_store *s, const struct or_token *t,
		     struct or_audit_entry **out, size_t *n,
		     uint64_t *bad_seq, struct or_err *err);

/* Calls cb for every entry with seq >= from_seq, in seq order, from one
 * snapshot (export). No verification. 0, cb's nonzero value or -errno. */
int or_audit_foreach(struct or_store *s, uint64_t from_seq,
		     int (*cb)(void *arg, const struct or_audit_entry *e),
		     void *arg, struct or_err *err);

/* Resuming a dataplane that holds the records of an earlier position
 * (store_since.c, docs/channel.md "Resuming"). */

/* The chain hash of entry seq. 0, -ENOENT (no such entry) or -errno. */
int or_audit_hash_at(struct or_store *s, uint64_t seq,
		     uint8_t hash[OR_AUDIT_HASH_LEN], struct or_err *err);

/* From one snapshot at head S: for every token an entry in (seq, S]
 * names, its record at S (rec 0: it has none, the dataplane deletes it),
 * in chunks as or_store_snapshot() gives them; *snap_seq = S before the
 * first callback. A token changed twice comes twice, with the same
 * record. -ESTALE: no entry seq with that hash here (another chain, a
 * store restored from an older backup); -E2BIG: more than max entries
 * since; else 0, the callback's nonzero value or -errno. */
int or_audit_changes_since(struct or_store *s, uint64_t seq,
			   const uint8_t hash[OR_AUDIT_HASH_LEN], uint64_t max,
			   struct or_store_entry *buf, unsigned cap,
			   or_store_chunk_cb cb, void *arg, uint64_t *snap_seq,
			   struct or_err *err);

#endif
