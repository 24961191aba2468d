/* SPDX-License-Identifier: BSD-3-Clause
 *
 * What a dataplane that holds the records of an earlier position lacks
 * (audit.h or_audit_hash_at, or_audit_changes_since): the trail names
 * every token changed since, the records say what each holds now. Used
 * to resume a dataplane after a control plane restart instead of sending
 * it every record (docs/channel.md "Resuming").
 *
 * The position is a seq and its chain hash, never a seq alone: the hash
 * at seq commits to the whole history up to it, so a store restored from
 * an older backup, or another store, is told apart and the caller falls
 * back to a full resync.
 */
#include <errno.h>
#include <inttypes.h>

#include "store_priv.h"

static const uint8_t since_zero_token[OR_TOKEN_LEN];

/* The stored hash of entry seq in txn. 0, -ENOENT or -errno. */
static int
since_hash(struct or_store *s, MDB_txn *txn, uint64_t seq,
	   uint8_t hash[OR_AUDIT_HASH_LEN], struct or_err *err)
{
	MDB_val v;
	int rc = or_audit_get(s, txn, seq, &v);

	if (rc == MDB_NOTFOUND)
		return -ENOENT;
	if (rc != 0)
		return or_store_errno(rc, "audit: get", err);
	if (v.mv_size != OR_AUDIT_VAL_LEN) {
		or_err_set(err, "audit: malformed entry %" PRIu64, seq);
		return -EBADMSG;
	}
	memcpy(hash, (const uint8_t *)v.mv_data + OR_AUDIT_OFF_HASH,
	       OR_AUDIT_HASH_LEN);
	return 0;
}

int
or_audit_hash_at(struct or_store *s, uint64_t seq,
		 uint8_t hash[OR_AUDIT_HASH_LEN], struct or_err *err)
{
	MDB_txn *txn;
	int rc;

	if (seq == 0)
		return -ENOENT;
	rc = mdb_txn_begin(s->env, NULL, MDB_RDONLY, &txn);
	if (rc != 0)
		return or_store_errno(rc, "audit: begin", err);
	rc = since_hash(s, txn, seq, hash, err);
	mdb_txn_abort(txn);
	return rc;
}

/* Pushes token's record in txn (rec 0 if it has none). */
static int
since_push(struct or_store *s, MDB_txn *txn, struct or_snap_out *o,
	   const uint8_t *token, struct or_err *err)
{
	MDB_val k = { OR_TOKEN_LEN, (void *)token }, v;
	int rc = mdb_get(txn, s->db_consent, &k, &v);

	if (rc == MDB_NOTFOUND)
		return or_snap_put(o, token, 0);
	if (rc != 0)
		return or_store_errno(rc, "store: get", err);
	return or_snap_push(o, token, &v, err);
}

int
or_since_args(const struct or_store_entry *buf, unsigned cap,
	      or_store_chunk_cb cb, uint64_t seq, const char *what,
	      struct or_err *err)
{
	if (buf == NULL || cap == 0 || cb == NULL || seq == 0) {
		or_err_set(err, "%s: changes since needs a position, a "
				"buffer and a callback", what);
		return -EINVAL;
	}
	return 0;
}

int
or_since_check(int rc, const uint8_t *have, const uint8_t *hash,
	       uint64_t seq, uint64_t head, uint64_t max, const char *holder,
	       const char *where, struct or_err *err)
{
	if (rc == -ENOENT ||
	    (rc == 0 && memcmp(have, hash, OR_AUDIT_HASH_LEN) != 0)) {
		or_err_set(err, "%s holds no entry %" PRIu64
				" with that hash%s", holder, seq, where);
		return -ESTALE;
	}
	if (rc < 0)
		return rc;
	if (head - seq > max) {
		or_err_set(err, "%" PRIu64 " entries since %" PRIu64
				", more than %" PRIu64, head - seq, seq, max);
		return -E2BIG;
	}
	return 0;
}

int
or_audit_changes_since(struct or_store *s, uint64_t seq,
		       const uint8_t hash[OR_AUDIT_HASH_LEN], uint64_t max,
		       struct or_store_entry *buf, unsigned cap,
		       or_store_chunk_cb cb, void *arg, uint64_t *snap_seq,
		       struct or_err *err)
{
	struct or_snap_out o = { buf, cap, 0, cb, arg };
	uint8_t key[8], have[OR_AUDIT_HASH_LEN];
	MDB_val k = { sizeof(key), key }, v;
	MDB_cursor *cur = NULL;
	MDB_txn *txn;
	uint64_t last;
	int rc, mrc;

	rc = or_since_args(buf, cap, cb, seq, "audit", err);
	if (rc < 0)
		return rc;
	rc = mdb_txn_begin(s->env, NULL, MDB_RDONLY, &txn);
	if (rc != 0)
		return or_store_errno(rc, "audit: begin", err);
	rc = or_meta_get_u64(s, txn, OR_META_LAST_SEQ, &last);
	if (rc < 0) {
		or_err_set(err, "store: corrupt meta data");
		goto out;
	}
	rc = or_since_check(since_hash(s, txn, seq, have, err), have, hash,
			    seq, last, max, "the trail", "", err);
	if (rc < 0)
		goto out;
	if (snap_seq != NULL)
		*snap_seq = last;
	mrc = mdb_cursor_open(txn, s->db_audit, &cur);
	if (mrc != 0) {
		rc = or_store_errno(mrc, "audit: cursor", err);
		goto out;
	}
	/* A token changed twice is sent twice, with the same record:
	 * cheaper than a set, and the dataplane's upsert is idempotent. */
	or_seq_key(key, seq + 1);
	for (mrc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE); mrc == 0;
	     mrc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
		const uint8_t *tok = (const uint8_t *)v.mv_data +
				     OR_AUDIT_OFF_TOKEN;

		if (v.mv_size != OR_AUDIT_VAL_LEN) {
			or_err_set(err, "audit: malformed entry");
			rc = -EBADMSG;
			break;
		}
		/* Rotations and retirements: no record. */
		if (memcmp(tok, since_zero_token, OR_TOKEN_LEN) == 0)
			continue;
		rc = since_push(s, txn, &o, tok, err);
		if (rc != 0)
			break;
	}
	if (rc == 0 && mrc != 0 && mrc != MDB_NOTFOUND)
		rc = or_store_errno(mrc, "audit: cursor", err);
	if (rc == 0 && o.n > 0)
		rc = cb(arg, buf, o.n);
	mdb_cursor_close(cur);
out:
	mdb_txn_abort(txn);
	return rc;
}
