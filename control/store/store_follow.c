/* SPDX-License-Identifier: BSD-3-Clause
 *
 * A fleet follower's local copy (store.h or_store_follow, docs/fleet.md
 * section 6): entries of the system of record's audit trail applied to
 * the records, the auth epoch state and the position, one write
 * transaction per batch. The copy is a store like any other (reads,
 * snapshots and stats unchanged) whose trail lives elsewhere: it writes
 * no audit entry, and its meta head is the position, the seq and hash of
 * the last entry applied.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>

#include "store_priv.h"

/* Entry e on the record under the cursor; *o what the dataplane gets. */
static int
follow_record(MDB_cursor *cur, const struct or_audit_entry *e,
	      uint64_t cnt[2], struct or_change_result *o)
{
	MDB_val k = { OR_TOKEN_LEN, (void *)e->token.b }, v;
	struct or_consent old, nw;
	uint8_t buf[OR_REC_VAL_LEN];
	int rc, have;

	rc = mdb_cursor_get(cur, &k, &v, MDB_SET);
	if (rc != 0 && rc != MDB_NOTFOUND)
		return rc;
	have = rc == 0;
	if (have && or_rec_decode(&v, &old) < 0)
		return MDB_CORRUPTED;
	o->seq = e->seq;
	o->prev_rec = have ? or_consent_rec(&old) : 0;
	rc = or_consent_from_entry(e, have ? &old : NULL, &nw);
	if (rc < 0)
		return rc;
	if (e->action == OR_ACT_KEY) {
		o->rec = o->prev_rec;
		return 0;
	}
	if (have)
		cnt[old.state == OR_STATE_IN ? 0 : 1]--;
	if (rc == 0) { /* erased */
		o->rec = 0;
		return have ? mdb_cursor_del(cur, 0) : 0;
	}
	cnt[nw.state == OR_STATE_IN ? 0 : 1]++;
	o->rec = or_consent_rec(&nw);
	or_rec_encode(&nw, buf);
	v.mv_size = sizeof(buf);
	v.mv_data = buf;
	return mdb_cursor_put(cur, &k, &v, 0);
}

int
or_store_follow(struct or_store *s, const struct or_audit_entry *e,
		unsigned n, struct or_change_result *res, struct or_err *err)
{
	uint8_t head[OR_AUDIT_HASH_LEN];
	uint64_t last, cnt[2];
	MDB_cursor *cur = NULL;
	MDB_txn *txn;
	unsigned i = 0;
	int rc;

	if (s->read_only) {
		or_err_set(err, "store: opened read-only");
		return -EROFS;
	}
	if (n == 0)
		return 0;
	rc = mdb_txn_begin(s->env, NULL, 0, &txn);
	if (rc != 0)
		return or_store_errno(rc, "store: begin", err);
	if ((rc = or_audit_read_head(s, txn, &last, head)) < 0 ||
	    (rc = or_meta_get_u64(s, txn, OR_META_N_IN, &cnt[0])) < 0 ||
	    (rc = or_meta_get_u64(s, txn, OR_META_N_OUT, &cnt[1])) < 0) {
		or_err_set(err, "store: meta data or position corrupt");
		goto abort;
	}
	if (e[0].seq != last + 1 ||
	    memcmp(e[0].prev_hash, head, OR_AUDIT_HASH_LEN) != 0) {
		or_err_set(err,
			   "entry %" PRIu64 " does not follow the position "
			   "(seq %" PRIu64 ")", e[0].seq, last);
		rc = -ESTALE;
		goto abort;
	}
	rc = mdb_cursor_open(txn, s->db_consent, &cur);
	for (i = 0; rc == 0 && i < n; i++) {
		struct or_change_result o;

		if (i > 0 && (e[i].seq != e[i - 1].seq + 1 ||
			      memcmp(e[i].prev_hash, e[i - 1].hash,
				     OR_AUDIT_HASH_LEN) != 0)) {
			rc = -EBADMSG;
			break;
		}
		if (e[i].action == OR_ACT_ROTATE ||
		    e[i].action == OR_ACT_RETIRE) {
			o = (struct or_change_result){ .seq = e[i].seq };
			rc = or_auth_follow(s, txn, &e[i]);
		} else {
			rc = follow_record(cur, &e[i], cnt, &o);
		}
		if (rc == 0 && res != NULL)
			res[i] = o;
	}
	if (cur != NULL)
		mdb_cursor_close(cur);
	if (rc == -EBADMSG) {
		or_err_set(err, "entry %" PRIu64 " does not follow its record "
			   "or the entry before it", e[i].seq);
		goto abort;
	}
	if (rc != 0 ||
	    (rc = or_meta_put_head(s, txn, e[n - 1].seq, e[n - 1].hash)) ||
	    (rc = or_meta_put_u64(s, txn, OR_META_N_IN, cnt[0])) ||
	    (rc = or_meta_put_u64(s, txn, OR_META_N_OUT, cnt[1]))) {
		rc = or_store_errno(rc, "store: follow", err);
		goto abort;
	}
	/* The commit fsyncs: the copy holds the batch before the dataplane
	 * hears of it (section 6). */
	rc = mdb_txn_commit(txn);
	if (rc != 0)
		return or_store_errno(rc, "store: commit", err);
	return 0;
abort:
	mdb_txn_abort(txn);
	return rc;
}

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
