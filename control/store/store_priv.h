/* SPDX-License-Identifier: BSD-3-Clause
 *
 * Internal to liborcp: the store's LMDB handles and on-disk encodings,
 * shared by store.c, store_read.c and audit.c. Layouts are documented in
 * docs/consent-store.md; everything on disk is little-endian except audit
 * keys (big-endian, so LMDB's byte order is seq order).
 */
#ifndef OR_STORE_PRIV_H
#define OR_STORE_PRIV_H

#include <endian.h>
#include <stdint.h>
#include <string.h>

#include <lmdb.h>

#include "audit.h"
#include "consent_next.h"
#include "store.h"

/* Named databases in the one environment. */
#define OR_DB_CONSENT "consent"     /* token[16] -> record (40 bytes) */
#define OR_DB_AUDIT "audit"         /* seq (u64 BE) -> audit value */
/* token[16] -> seq (u64 BE), dupsort: one row per event of the token
 * except the one its live record names (the record's seq, which the
 * record itself indexes: a first opt-in writes no row). */
#define OR_DB_AUDIT_TOK "audit_tok"
#define OR_DB_META "meta"           /* name -> value, see below */

/* Meta keys. */
#define OR_META_FORMAT "format"     /* u32: OR_STORE_FORMAT */
#define OR_META_LAST_SEQ "last_seq" /* u64: seq of the last change */
#define OR_META_HEAD "head"         /* 32 bytes: hash of that change */
#define OR_META_N_IN "n_in"         /* u64: records in state IN */
#define OR_META_N_OUT "n_out"       /* u64: records in state OUT */
#define OR_META_AUTH "auth"         /* 16 bytes: auth epoch state */

/* Format 2: audit_tok leaves out the event a live record's seq names.
 * A format-1 store (a row for every event) is a valid format-2 store with
 * redundant rows; a writable open marks it 2 (older builds refuse it). */
#define OR_STORE_FORMAT 2u
#define OR_STORE_FORMAT_MIN 1u

/* Consent record value. */
#define OR_REC_VAL_LEN 40
#define OR_REC_VAL_FMT 1u

/* Audit value: prev_hash || body || hash. */
#define OR_AUDIT_VAL_LEN (2 * OR_AUDIT_HASH_LEN + OR_AUDIT_BODY_LEN)
/* Where a trail value's parts are: prev_hash || body || hash, the body's
 * token 16 bytes in (audit.c audit_body_encode). */
#define OR_AUDIT_OFF_BODY OR_AUDIT_HASH_LEN
#define OR_AUDIT_OFF_HASH (OR_AUDIT_HASH_LEN + OR_AUDIT_BODY_LEN)
#define OR_AUDIT_OFF_TOKEN (OR_AUDIT_OFF_BODY + 16)

/* or_store_apply's scratch: the group in token order ... */
struct or_apply_slot {
	uint64_t key;       /* first 8 token bytes, big-endian: sort key */
	const uint8_t *tok; /* the whole token, for ties */
	uint32_t idx;       /* index of the change in the group */
};

/* ... and what each change left, for its audit entry and result. */
struct or_apply_out {
	uint32_t rec, prev_rec;
	uint64_t idx_prev; /* the record's seq before the change, 0 if none:
			    * its event gets an index row (no longer named) */
	uint16_t node;
	uint8_t flags;
	uint8_t idx_self; /* the change's own event needs an index row (it
			   * leaves no record naming it: erase, key) */
};

struct or_store {
	MDB_env *env;
	MDB_dbi db_consent;
	MDB_dbi db_audit;
	MDB_dbi db_audit_tok;
	MDB_dbi db_meta;
	int read_only;
	/* OR_STORE_APPLY_MAX each, allocated by the first write; used only
	 * inside a write transaction (LMDB serialises writers). */
	struct or_apply_slot *scratch;
	struct or_apply_out *out;
};

static inline void
or_put_le16(uint8_t *p, uint16_t v)
{
	v = htole16(v);
	memcpy(p, &v, sizeof(v));
}

static inline void
or_put_le32(uint8_t *p, uint32_t v)
{
	v = htole32(v);
	memcpy(p, &v, sizeof(v));
}

static inline void
or_put_le64(uint8_t *p, uint64_t v)
{
	v = htole64(v);
	memcpy(p, &v, sizeof(v));
}

static inline uint16_t
or_get_le16(const uint8_t *p)
{
	uint16_t v;

	memcpy(&v, p, sizeof(v));
	return le16toh(v);
}

static inline uint32_t
or_get_le32(const uint8_t *p)
{
	uint32_t v;

	memcpy(&v, p, sizeof(v));
	return le32toh(v);
}

static inline uint64_t
or_get_le64(const uint8_t *p)
{
	uint64_t v;

	memcpy(&v, p, sizeof(v));
	return le64toh(v);
}

/* Audit keys: big-endian so that LMDB's memcmp order is seq order. */
static inline void
or_seq_key(uint8_t k[8], uint64_t seq)
{
	seq = htobe64(seq);
	memcpy(k, &seq, sizeof(seq));
}

static inline uint64_t
or_seq_from_key(const uint8_t k[8])
{
	uint64_t v;

	memcpy(&v, k, sizeof(v));
	return be64toh(v);
}

/* A snapshot's output (or_store_snapshot, or_copy_snapshot): records
 * gathered into chunks of cap entries for the callback. */
struct or_snap_out {
	struct or_store_entry *buf;
	unsigned cap, n;
	or_store_chunk_cb cb;
	void *arg;
};

/* Appends the record v (a consent value) of token; the callback gets the
 * chunk when it is full. 0, -EBADMSG (err: a corrupt record) or the
 * callback's value. */
/* Trail entry seq in txn, raw (audit.c): 0 or an LMDB error code
 * (MDB_NOTFOUND). */
int or_audit_get(struct or_store *s, MDB_txn *txn, uint64_t seq, MDB_val *v);

int or_snap_push(struct or_snap_out *o, const void *token, const MDB_val *v,
		 struct or_err *err);
/* The same for a 32-bit record already made (0: the token has none). */
int or_snap_put(struct or_snap_out *o, const void *token, uint32_t rec);

/* Auth epoch state as stored (meta OR_META_AUTH, and a local copy's log):
 * format u8 (1), current u8, has_previous u8, previous u8, reserved u32
 * (0), seq u64; little-endian. Decode: 0 or -EBADMSG. */
#define OR_AUTH_VAL_LEN 16
void or_auth_encode(const struct or_auth_state *st, uint8_t b[OR_AUTH_VAL_LEN]);
int or_auth_decode(const uint8_t *b, size_t len, struct or_auth_state *st);

/* LMDB error -> -errno; err gets "<what>: <LMDB's text>". */
int or_store_errno(int mdb_rc, const char *what, struct or_err *err);

/* Record value (de)serialisation; decode checks size, format and state:
 * 0 or -EBADMSG. The token is the key and is not touched. */
void or_rec_encode(const struct or_consent *c, uint8_t v[OR_REC_VAL_LEN]);
int or_rec_decode(const MDB_val *v, struct or_consent *c);

/* Meta u64 (0 when absent). 0 or -errno. */
int or_meta_get_u64(const struct or_store *s, MDB_txn *txn, const char *key,
		    uint64_t *v);

/* Puts a meta value in a write transaction. 0 or an LMDB error code. */
int or_meta_put(struct or_store *s, MDB_txn *txn, const char *key,
		const void *p, size_t len);
int or_meta_put_u64(struct or_store *s, MDB_txn *txn, const char *key,
		    uint64_t v);
/* The head: the last seq and its hash (a follower's copy: its position).
 * 0 or an LMDB error code. */
int or_meta_put_head(struct or_store *s, MDB_txn *txn, uint64_t seq,
		     const uint8_t hash[OR_AUDIT_HASH_LEN]);

/* Writes the auth epoch state in txn. 0 or an LMDB error code. */
int or_auth_write(struct or_store *s, MDB_txn *txn,
		  const struct or_auth_state *st);


/* Reads the meta head in txn: last seq and its hash (zeros when the
 * trail is empty). 0, -EBADMSG (missing or malformed) or -errno. */
int or_audit_read_head(struct or_store *s, MDB_txn *txn, uint64_t *seq,
		       uint8_t hash[OR_AUDIT_HASH_LEN]);

/* Appends e to the trail through a cursor on the audit DB of a write
 * transaction: e->seq and the body fields are set by the caller,
 * e->prev_hash must be the current head; fills e->hash. The token index
 * row is added separately (or_audit_index), so that a group can write its
 * rows in token order. 0 or an LMDB error code (not -errno). */
int or_audit_append(MDB_cursor *audit, struct or_audit_entry *e);

/* Adds the token index row token -> seq through a cursor on the index DB.
 * seq must be above every seq already indexed for the token (it is a new
 * change). 0 or an LMDB error code. */
int or_audit_index(MDB_cursor *index, const struct or_token *t, uint64_t seq);

/* Adds the row of an earlier event of the token that its record no longer
 * names (the record's previous seq); a row already there (a format-1
 * store) is fine. 0 or an LMDB error code. */
int or_audit_index_prev(MDB_cursor *index, const struct or_token *t,
			uint64_t seq);

/* The seq the token's live record names in txn (its newest event that
 * wrote the record, indexed by the record itself), 0 when the token has no
 * record. 0 or an LMDB error code; a malformed record is MDB_CORRUPTED. */
int or_audit_rec_seq(struct or_store *s, MDB_txn *txn,
		     const struct or_token *t, uint64_t *seq);

/* The rules of a resume, shared by the store's trail (store_since.c) and
 * a fleet's local copy (copy_since.c); audit.h's or_audit_changes_since
 * states them. */

/* Its arguments: a position, a buffer and a callback. 0 or -EINVAL (what:
 * the source's name in the message). */
int or_since_args(const struct or_store_entry *buf, unsigned cap,
		  or_store_chunk_cb cb, uint64_t seq, const char *what,
		  struct or_err *err);

/* Once the source looked its entry seq up (rc: 0 with its hash in have,
 * -ENOENT, or an error, returned as it is): -ESTALE unless it holds seq
 * with hash ("HOLDER holds no entry SEQ with that hashWHERE"), -E2BIG if
 * more than max entries follow seq up to head, else 0. */
int or_since_check(int rc, const uint8_t *have, const uint8_t *hash,
		   uint64_t seq, uint64_t head, uint64_t max,
		   const char *holder, const char *where, struct or_err *err);

#endif
