/* SPDX-License-Identifier: BSD-3-Clause
 *
 * A fleet follower's full resync (store.h or_store_load and
 * or_store_set_position, docs/fleet.md section 5): the records of a
 * snapshot of the system of record loaded in token order into a fresh
 * store, then the position it stands at. The store becomes a local copy's
 * data.mdb (copy.h); it holds no audit entry, and its meta head is the
 * position, the seq and hash of the last entry the records reflect.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>

#include "store_priv.h"

int
or_store_load(struct or_store *s, const struct or_consent *c, unsigned n,
	      struct or_err *err)
{
	uint64_t cnt[2];
	MDB_cursor *cur = NULL;
	MDB_txn *txn;
	int rc;

	if (n == 0)
		return 0;
	rc = mdb_txn_begin(s->env, NULL, 0, &txn);
	if (rc != 0)
		return or_store_errno(rc, "store: begin", err);
	if ((rc = or_meta_get_u64(s, txn, OR_META_N_IN, &cnt[0])) < 0 ||
	    (rc = or_meta_get_u64(s, txn, OR_META_N_OUT, &cnt[1])) < 0) {
		or_err_set(err, "store: meta data corrupt");
		goto abort;
	}
	rc = mdb_cursor_open(txn, s->db_consent, &cur);
	for (unsigned i = 0; rc == 0 && i < n; i++) {
		uint8_t buf[OR_REC_VAL_LEN];
		MDB_val k = { OR_TOKEN_LEN, (void *)c[i].token.b },
			v = { sizeof(buf), buf };

		if (c[i].state != OR_STATE_IN && c[i].state != OR_STATE_OUT) {
			rc = MDB_CORRUPTED;
			break;
		}
		or_rec_encode(&c[i], buf);
		/* MDB_APPEND: in token order, after every record loaded. */
		rc = mdb_cursor_put(cur, &k, &v, MDB_APPEND);
		cnt[c[i].state == OR_STATE_IN ? 0 : 1]++;
	}
	if (cur != NULL)
		mdb_cursor_close(cur);
	if (rc != 0 || (rc = or_meta_put_u64(s, txn, OR_META_N_IN, cnt[0])) ||
	    (rc = or_meta_put_u64(s, txn, OR_META_N_OUT, cnt[1]))) {
		rc = or_store_errno(rc, "store: load (records out of order "
				    "or invalid)", err);
		goto abort;
	}
	rc = mdb_txn_commit(txn);
	return rc != 0 ? or_store_errno(rc, "store: commit", err) : 0;
abort:
	mdb_txn_abort(txn);
	return rc;
}

int
or_store_set_position(struct or_store *s, uint64_t seq,
		      const uint8_t hash[OR_AUDIT_HASH_LEN],
		      const struct or_auth_state *auth, struct or_err *err)
{
	MDB_txn *txn;
	int rc;

	rc = mdb_txn_begin(s->env, NULL, 0, &txn);
	if (rc != 0)
		return or_store_errno(rc, "store: begin", err);
	if ((rc = or_meta_put_head(s, txn, seq, hash)) ||
	    (rc = or_auth_write(s, txn, auth)) ||
	    (rc = mdb_txn_commit(txn))) {
		if (rc != 0)
			mdb_txn_abort(txn);
		return or_store_errno(rc, "store: set position", err);
	}
	return 0;
}
