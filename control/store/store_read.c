/* SPDX-License-Identifier: BSD-3-Clause
 *
 * Consent store reads: lookup, snapshot streaming for full resync,
 * full-record iteration, statistics (see store.h).
 */
#include <errno.h>
#include <sys/stat.h>

#include "store_priv.h"

int
or_store_get(struct or_store *s, const struct or_token *t,
	     struct or_consent *out)
{
	MDB_val k = { OR_TOKEN_LEN, (void *)t->b }, v;
	MDB_txn *txn;
	int rc;

	rc = mdb_txn_begin(s->env, NULL, MDB_RDONLY, &txn);
	if (rc != 0)
		return or_store_errno(rc, "store: begin", NULL);
	rc = mdb_get(txn, s->db_consent, &k, &v);
	if (rc == 0) {
		rc = or_rec_decode(&v, out);
		out->token = *t;
	} else {
		rc = or_store_errno(rc, "store: get", NULL);
	}
	mdb_txn_abort(txn);
	return rc;
}

/* Walks the consent DB of one read snapshot; calls visit for each record.
 * *snap_seq gets the snapshot's last seq before the first visit. */
static int
store_walk(struct or_store *s, uint64_t *snap_seq,
	   int (*visit)(void *ctx, const MDB_val *k, const MDB_val *v,
			struct or_err *err),
	   void *ctx, struct or_err *err)
{
	MDB_cursor *cur;
	MDB_txn *txn;
	MDB_val k, v;
	uint64_t last;
	int rc, mrc;

	rc = mdb_txn_begin(s->env, NULL, MDB_RDONLY, &txn);
	if (rc != 0)
		return or_store_errno(rc, "store: begin", err);
	rc = or_meta_get_u64(s, txn, OR_META_LAST_SEQ, &last);
	if (rc < 0) {
		or_err_set(err, "store: corrupt meta data");
		goto out;
	}
	if (snap_seq != NULL)
		*snap_seq = last;
	mrc = mdb_cursor_open(txn, s->db_consent, &cur);
	if (mrc != 0) {
		rc = or_store_errno(mrc, "store: cursor", err);
		goto out;
	}
	for (mrc = mdb_cursor_get(cur, &k, &v, MDB_FIRST); mrc == 0;
	     mrc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
		if (k.mv_size != OR_TOKEN_LEN) {
			or_err_set(err, "store: corrupt record key");
			rc = -EBADMSG;
			break;
		}
		rc = visit(ctx, &k, &v, err);
		if (rc != 0)
			break;
	}
	if (rc == 0 && mrc != MDB_NOTFOUND)
		rc = or_store_errno(mrc, "store: cursor", err);
	mdb_cursor_close(cur);
out:
	mdb_txn_abort(txn);
	return rc;
}

int
or_snap_push(struct or_snap_out *o, const void *token, const MDB_val *v,
	     struct or_err *err)
{
	const uint8_t *p = v->mv_data;

	/* Only the fields of the 32-bit record: decode inline, this runs
	 * 10M times on a full resync. */
	if (v->mv_size != OR_REC_VAL_LEN || p[0] != OR_REC_VAL_FMT ||
	    (p[1] != OR_STATE_IN && p[1] != OR_STATE_OUT)) {
		or_err_set(err, "store: corrupt record");
		return -EBADMSG;
	}
	return or_snap_put(o, token,
			   or_rec_make((enum or_consent_state)p[1],
				       or_get_le16(p + 6), p[2], p[3]));
}

int
or_snap_put(struct or_snap_out *o, const void *token, uint32_t rec)
{
	struct or_store_entry *e = &o->buf[o->n];
	int rc;

	memcpy(e->token.b, token, OR_TOKEN_LEN);
	e->rec = rec;
	if (++o->n < o->cap)
		return 0;
	rc = o->cb(o->arg, o->buf, o->n);
	o->n = 0;
	return rc;
}

static int
snap_visit(void *ctx, const MDB_val *k, const MDB_val *v, struct or_err *err)
{
	return or_snap_push(ctx, k->mv_data, v, err);
}

int
or_store_snapshot(struct or_store *s, struct or_store_entry *buf,
		  unsigned cap, or_store_chunk_cb cb, void *arg,
		  uint64_t *snap_seq, struct or_err *err)
{
	struct or_snap_out c = { buf, cap, 0, cb, arg };
	int rc;

	if (buf == NULL || cap == 0 || cb == NULL) {
		or_err_set(err, "store: snapshot needs a buffer and a callback");
		return -EINVAL;
	}
	rc = store_walk(s, snap_seq, snap_visit, &c, err);
	if (rc == 0 && c.n > 0)
		rc = cb(arg, buf, c.n);
	return rc;
}

struct foreach_ctx {
	int (*cb)(void *arg, const struct or_consent *c);
	void *arg;
};

static int
foreach_visit(void *ctx, const MDB_val *k, const MDB_val *v,
	      struct or_err *err)
{
	struct foreach_ctx *f = ctx;
	struct or_consent c;

	if (or_rec_decode(v, &c) < 0) {
		or_err_set(err, "store: corrupt record");
		return -EBADMSG;
	}
	memcpy(c.token.b, k->mv_data, OR_TOKEN_LEN);
	return f->cb(f->arg, &c);
}

int
or_store_foreach(struct or_store *s,
		 int (*cb)(void *arg, const struct or_consent *c), void *arg,
		 struct or_err *err)
{
	struct foreach_ctx f = { cb, arg };

	if (cb == NULL) {
		or_err_set(err, "store: foreach needs a callback");
		return -EINVAL;
	}
	return store_walk(s, NULL, foreach_visit, &f, err);
}

int
or_store_stats(struct or_store *s, struct or_store_stats *st,
	       struct or_err *err)
{
	MDB_stat ms;
	MDB_envinfo info;
	MDB_txn *txn;
	struct stat sb;
	int rc, fd;

	memset(st, 0, sizeof(*st));
	rc = mdb_txn_begin(s->env, NULL, MDB_RDONLY, &txn);
	if (rc != 0)
		return or_store_errno(rc, "store: begin", err);
	if ((rc = mdb_stat(txn, s->db_consent, &ms)) != 0) {
		rc = or_store_errno(rc, "store: stat", err);
		goto out;
	}
	st->entries = ms.ms_entries;
	if ((rc = mdb_stat(txn, s->db_audit, &ms)) != 0) {
		rc = or_store_errno(rc, "store: stat", err);
		goto out;
	}
	st->audit_entries = ms.ms_entries;
	if ((rc = or_meta_get_u64(s, txn, OR_META_LAST_SEQ, &st->last_seq)) ||
	    (rc = or_meta_get_u64(s, txn, OR_META_N_IN, &st->opted_in)) ||
	    (rc = or_meta_get_u64(s, txn, OR_META_N_OUT, &st->opted_out))) {
		or_err_set(err, "store: corrupt meta data");
		goto out;
	}
	mdb_env_info(s->env, &info);
	st->map_bytes = info.me_mapsize;
	if (mdb_env_get_fd(s->env, &fd) == 0 && fstat(fd, &sb) == 0) {
		st->file_bytes = (uint64_t)sb.st_blocks * 512u;
		st->file_len = (uint64_t)sb.st_size;
	}
out:
	mdb_txn_abort(txn);
	return rc;
}
