/* SPDX-License-Identifier: BSD-3-Clause
 *
 * Sender authentication epochs in the consent store (store.h: struct
 * or_auth_state): the durable state and its two transitions, each audited
 * in the same write transaction (docs/consent-store.md, "Auth epochs").
 */
#include <errno.h>

#include "store_priv.h"

#define AUTH_VAL_FMT 1u

void
or_auth_encode(const struct or_auth_state *st, uint8_t b[OR_AUTH_VAL_LEN])
{
	memset(b, 0, OR_AUTH_VAL_LEN);
	b[0] = AUTH_VAL_FMT;
	b[1] = st->current;
	b[2] = st->has_previous;
	b[3] = st->has_previous ? st->previous : 0;
	or_put_le64(b + 8, st->seq);
}

int
or_auth_decode(const uint8_t *b, size_t len, struct or_auth_state *st)
{
	if (len != OR_AUTH_VAL_LEN || b[0] != AUTH_VAL_FMT || b[2] > 1)
		return -EBADMSG;
	st->current = b[1];
	st->has_previous = b[2];
	st->previous = b[2] ? b[3] : 0;
	st->seq = or_get_le64(b + 8);
	return 0;
}

static int
auth_read(const struct or_store *s, MDB_txn *txn, struct or_auth_state *st)
{
	MDB_val k = { strlen(OR_META_AUTH), (void *)OR_META_AUTH }, v;
	int rc;

	memset(st, 0, sizeof(*st));
	rc = mdb_get(txn, s->db_meta, &k, &v);
	if (rc == MDB_NOTFOUND)
		return 0; /* a fresh store: epoch 0, no previous */
	if (rc != 0)
		return or_store_errno(rc, "auth state", NULL);
	return or_auth_decode(v.mv_data, v.mv_size, st);
}

int
or_auth_write(struct or_store *s, MDB_txn *txn, const struct or_auth_state *st)
{
	uint8_t b[OR_AUTH_VAL_LEN];

	or_auth_encode(st, b);
	return or_meta_put(s, txn, OR_META_AUTH, b, sizeof(b));
}

int
or_store_auth_get(struct or_store *s, struct or_auth_state *st,
		  struct or_err *err)
{
	MDB_txn *txn;
	int rc;

	rc = mdb_txn_begin(s->env, NULL, MDB_RDONLY, &txn);
	if (rc != 0)
		return or_store_errno(rc, "store: begin", err);
	rc = auth_read(s, txn, st);
	if (rc < 0)
		or_err_set(err, "store: auth epoch state malformed");
	mdb_txn_abort(txn);
	return rc;
}

/* The appliance event's audit entry and its index row (under the zero
 * token, so that the chain keeps one index row per entry and
 * or_audit_subject() of the zero token lists the epoch history). */
static int
auth_audit(struct or_store *s, MDB_txn *txn, struct or_audit_entry *e,
	   uint8_t head[OR_AUDIT_HASH_LEN])
{
	MDB_cursor *acur = NULL, *icur = NULL;
	int rc;

	memcpy(e->prev_hash, head, OR_AUDIT_HASH_LEN);
	if ((rc = mdb_cursor_open(txn, s->db_audit, &acur)) == 0 &&
	    (rc = mdb_cursor_open(txn, s->db_audit_tok, &icur)) == 0 &&
	    (rc = or_audit_append(acur, e)) == 0)
		rc = or_audit_index(icur, &e->token, e->seq);
	if (icur != NULL)
		mdb_cursor_close(icur);
	if (acur != NULL)
		mdb_cursor_close(acur);
	if (rc == 0)
		memcpy(head, e->hash, OR_AUDIT_HASH_LEN);
	return rc;
}

int
or_auth_entry(const struct or_auth_state *st, uint8_t action,
	      struct or_audit_entry *e, struct or_err *err)
{
	if (action == OR_ACT_ROTATE && st->has_previous) {
		or_err_set(err, "epoch %u is still live beside the current "
			   "epoch %u: retire epoch %u first",
			   st->previous, st->current, st->previous);
		return -EBUSY;
	}
	if (action == OR_ACT_RETIRE && !st->has_previous) {
		or_err_set(err, "no previous epoch to retire (only epoch %u "
			   "is live)", st->current);
		return -ENOENT;
	}
	memset(&e->token, 0, sizeof(e->token));
	e->action = action;
	e->method = OR_METHOD_OPERATOR;
	e->epoch = action == OR_ACT_ROTATE ? (uint8_t)(st->current + 1)
					   : st->previous;
	return 0;
}

static int
auth_change(struct or_store *s, uint8_t action, uint64_t time_ms,
	    struct or_auth_state *out, struct or_err *err)
{
	uint8_t head[OR_AUDIT_HASH_LEN];
	struct or_audit_entry e;
	struct or_auth_state st;
	uint64_t last;
	MDB_txn *txn;
	int rc;

	if (s->read_only) {
		or_err_set(err, "store: opened read-only");
		return -EROFS;
	}
	rc = mdb_txn_begin(s->env, NULL, 0, &txn);
	if (rc != 0)
		return or_store_errno(rc, "store: begin", err);
	if ((rc = or_audit_read_head(s, txn, &last, head)) < 0 ||
	    (rc = auth_read(s, txn, &st)) < 0) {
		or_err_set(err, "store: meta data, audit head or auth epoch state corrupt");
		goto abort;
	}
	memset(&e, 0, sizeof(e));
	if ((rc = or_auth_entry(&st, action, &e, err)) < 0)
		goto abort;
	e.seq = last + 1;
	e.time_ms = time_ms ? time_ms : or_store_now_ms();
	(void)or_auth_next(&st, &e);
	if ((rc = auth_audit(s, txn, &e, head)) != 0 ||
	    (rc = or_auth_write(s, txn, &st)) != 0 ||
	    (rc = or_meta_put_head(s, txn, st.seq, head)) != 0) {
		rc = or_store_errno(rc, "store: auth epoch change", err);
		goto abort;
	}
	/* The commit fsyncs: only now is the new state in force. */
	rc = mdb_txn_commit(txn);
	if (rc != 0)
		return or_store_errno(rc, "store: commit", err);
	*out = st;
	return 0;
abort:
	mdb_txn_abort(txn);
	return rc;
}

int
or_auth_next(struct or_auth_state *st, const struct or_audit_entry *e)
{
	if (e->action == OR_ACT_ROTATE) {
		st->previous = st->current;
		st->has_previous = 1;
		st->current = e->epoch;
	} else if (e->action == OR_ACT_RETIRE && st->has_previous &&
		   st->previous == e->epoch) {
		st->has_previous = 0;
		st->previous = 0;
	} else {
		return -EBADMSG;
	}
	st->seq = e->seq;
	return 0;
}

int
or_store_auth_rotate(struct or_store *s, uint64_t time_ms,
		     struct or_auth_state *st, struct or_err *err)
{
	return auth_change(s, OR_ACT_ROTATE, time_ms, st, err);
}

int
or_store_auth_retire(struct or_store *s, uint64_t time_ms,
		     struct or_auth_state *st, struct or_err *err)
{
	return auth_change(s, OR_ACT_RETIRE, time_ms, st, err);
}
