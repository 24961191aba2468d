/* SPDX-License-Identifier: BSD-3-Clause
 *
 * Hash-chained audit trail (see audit.h and docs/consent-store.md).
 * Entries are appended by or_store_apply() in its write transaction.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>

#include <sodium.h>

#include "store_priv.h"

_Static_assert(OR_AUDIT_HASH_LEN == crypto_generichash_BYTES, "hash size");

/* The 44-byte body (audit.h). */
static void
audit_body_encode(const struct or_audit_entry *e, uint8_t *b)
{
	memset(b, 0, OR_AUDIT_BODY_LEN);
	or_put_le64(b, e->seq);
	or_put_le64(b + 8, e->time_ms);
	memcpy(b + 16, e->token.b, OR_TOKEN_LEN);
	b[32] = e->action;
	b[33] = e->method;
	b[34] = e->epoch;
	b[35] = e->flags;
	or_put_le16(b + 36, e->node);
	or_put_le16(b + 38, e->writer);
	or_put_le32(b + 40, e->notice_version);
}

static void
audit_body_decode(const uint8_t *b, struct or_audit_entry *e)
{
	e->seq = or_get_le64(b);
	e->time_ms = or_get_le64(b + 8);
	memcpy(e->token.b, b + 16, OR_TOKEN_LEN);
	e->action = b[32];
	e->method = b[33];
	e->epoch = b[34];
	e->flags = b[35];
	e->node = or_get_le16(b + 36);
	e->writer = or_get_le16(b + 38);
	e->notice_version = or_get_le32(b + 40);
}

static void
audit_encode(const struct or_audit_entry *e, uint8_t v[OR_AUDIT_VAL_LEN])
{
	memcpy(v, e->prev_hash, OR_AUDIT_HASH_LEN);
	audit_body_encode(e, v + OR_AUDIT_OFF_BODY);
}

/* BLAKE2b-256(prev_hash || body): everything stored before the hash. */
static void
audit_hash(const uint8_t v[OR_AUDIT_VAL_LEN], uint8_t h[OR_AUDIT_HASH_LEN])
{
	crypto_generichash(h, OR_AUDIT_HASH_LEN, v, OR_AUDIT_OFF_HASH, NULL, 0);
}

/* 0, or -EBADMSG for a value of the wrong size. */
static int
audit_decode(const MDB_val *val, struct or_audit_entry *e)
{
	const uint8_t *v = val->mv_data, *b = v + OR_AUDIT_OFF_BODY;

	if (val->mv_size != OR_AUDIT_VAL_LEN)
		return -EBADMSG;
	memcpy(e->prev_hash, v, OR_AUDIT_HASH_LEN);
	audit_body_decode(b, e);
	memcpy(e->hash, v + OR_AUDIT_OFF_HASH, OR_AUDIT_HASH_LEN);
	return 0;
}

static int
audit_hash_ok(const MDB_val *val)
{
	uint8_t h[OR_AUDIT_HASH_LEN];

	audit_hash(val->mv_data, h);
	return memcmp(h, (const uint8_t *)val->mv_data + OR_AUDIT_OFF_HASH,
		      OR_AUDIT_HASH_LEN) == 0;
}

void
or_audit_seal(struct or_audit_entry *e, uint8_t body[OR_AUDIT_BODY_LEN])
{
	uint8_t v[OR_AUDIT_VAL_LEN];

	audit_encode(e, v);
	audit_hash(v, e->hash);
	memcpy(body, v + OR_AUDIT_OFF_BODY, OR_AUDIT_BODY_LEN);
}

int
or_audit_unseal(const uint8_t prev_hash[OR_AUDIT_HASH_LEN],
		const uint8_t body[OR_AUDIT_BODY_LEN],
		const uint8_t hash[OR_AUDIT_HASH_LEN],
		struct or_audit_entry *e)
{
	uint8_t v[OR_AUDIT_VAL_LEN], h[OR_AUDIT_HASH_LEN];

	memcpy(v, prev_hash, OR_AUDIT_HASH_LEN);
	memcpy(v + OR_AUDIT_OFF_BODY, body, OR_AUDIT_BODY_LEN);
	audit_hash(v, h);
	if (sodium_memcmp(h, hash, OR_AUDIT_HASH_LEN) != 0)
		return -EBADMSG;
	memcpy(e->prev_hash, prev_hash, OR_AUDIT_HASH_LEN);
	audit_body_decode(body, e);
	memcpy(e->hash, hash, OR_AUDIT_HASH_LEN);
	return 0;
}

int
or_audit_append(MDB_cursor *audit, struct or_audit_entry *e)
{
	uint8_t key[8], val[OR_AUDIT_VAL_LEN];
	MDB_val k = { sizeof(key), key }, v = { sizeof(val), val };

	audit_encode(e, val);
	audit_hash(val, e->hash);
	memcpy(val + OR_AUDIT_OFF_HASH, e->hash, OR_AUDIT_HASH_LEN);
	or_seq_key(key, e->seq);
	/* MDB_APPEND: fails (MDB_KEYEXIST) unless seq is above every stored
	 * one, so the trail can only grow at its end. */
	return mdb_cursor_put(audit, &k, &v, MDB_APPEND);
}

int
or_audit_index(MDB_cursor *index, const struct or_token *t, uint64_t seq)
{
	uint8_t key[8];
	MDB_val tk = { OR_TOKEN_LEN, (void *)t->b }, k = { sizeof(key), key };

	or_seq_key(key, seq);
	/* MDB_APPENDDUP: the new seq is the token's newest event, so it goes
	 * after the token's other rows (and LMDB refuses it otherwise). */
	return mdb_cursor_put(index, &tk, &k, MDB_APPENDDUP);
}

int
or_audit_index_prev(MDB_cursor *index, const struct or_token *t, uint64_t seq)
{
	uint8_t key[8];
	MDB_val tk = { OR_TOKEN_LEN, (void *)t->b }, k = { sizeof(key), key };
	int rc;

	or_seq_key(key, seq);
	/* Not APPENDDUP: a key issued after the record was written has a
	 * higher seq and its row is already there. */
	rc = mdb_cursor_put(index, &tk, &k, MDB_NODUPDATA);
	return rc == MDB_KEYEXIST ? 0 : rc;
}

int
or_audit_rec_seq(struct or_store *s, MDB_txn *txn, const struct or_token *t,
		 uint64_t *seq)
{
	MDB_val k = { OR_TOKEN_LEN, (void *)t->b }, v;
	struct or_consent c;
	int rc;

	*seq = 0;
	rc = mdb_get(txn, s->db_consent, &k, &v);
	if (rc == MDB_NOTFOUND)
		return 0;
	if (rc != 0)
		return rc;
	if (or_rec_decode(&v, &c) < 0)
		return MDB_CORRUPTED;
	*seq = c.seq;
	return 0;
}

int
or_audit_read_head(struct or_store *s, MDB_txn *txn, uint64_t *seq,
		   uint8_t hash[OR_AUDIT_HASH_LEN])
{
	MDB_val k = { strlen(OR_META_HEAD), (void *)OR_META_HEAD }, v;
	int rc;

	rc = or_meta_get_u64(s, txn, OR_META_LAST_SEQ, seq);
	if (rc < 0)
		return rc;
	memset(hash, 0, OR_AUDIT_HASH_LEN);
	rc = mdb_get(txn, s->db_meta, &k, &v);
	if (rc == MDB_NOTFOUND)
		return *seq == 0 ? 0 : -EBADMSG;
	if (rc != 0)
		return or_store_errno(rc, "audit: head", NULL);
	if (v.mv_size != OR_AUDIT_HASH_LEN)
		return -EBADMSG;
	memcpy(hash, v.mv_data, OR_AUDIT_HASH_LEN);
	return 0;
}

int
or_audit_head(struct or_store *s, uint64_t *seq,
	      uint8_t hash[OR_AUDIT_HASH_LEN], struct or_err *err)
{
	MDB_txn *txn;
	int rc;

	rc = mdb_txn_begin(s->env, NULL, MDB_RDONLY, &txn);
	if (rc != 0)
		return or_store_errno(rc, "audit: begin", err);
	rc = or_audit_read_head(s, txn, seq, hash);
	if (rc < 0)
		or_err_set(err, "audit: head missing or corrupt");
	mdb_txn_abort(txn);
	return rc;
}

/* Sets *bad and err; returns -EBADMSG. */
static int
broken(uint64_t *bad, uint64_t seq, struct or_err *err, const char *why)
{
	if (bad != NULL)
		*bad = seq;
	or_err_set(err, "audit: entry %" PRIu64 ": %s", seq, why);
	return -EBADMSG;
}

/* Checks the entry under key seq against itself: size, seq, hash. */
static int
entry_check(const MDB_val *v, uint64_t seq, struct or_audit_entry *e,
	    uint64_t *bad, struct or_err *err)
{
	if (audit_decode(v, e) < 0)
		return broken(bad, seq, err, "malformed");
	if (e->seq != seq)
		return broken(bad, seq, err, "holds another seq (moved)");
	if (!audit_hash_ok(v))
		return broken(bad, seq, err, "hash mismatch (altered)");
	return 0;
}

/* Entries between two looks at the cancel flag. */
#define VERIFY_CANCEL_EVERY 4096

static int
verify_walk(struct or_store *s, MDB_txn *txn, const volatile int *cancel,
	    uint64_t *bad, uint64_t *n_out, struct or_err *err)
{
	uint8_t prev[OR_AUDIT_HASH_LEN] = { 0 }, head[OR_AUDIT_HASH_LEN];
	MDB_cursor *cur = NULL, *icur = NULL;
	struct or_audit_entry e;
	uint64_t expect = 1, last, kseq, rseq, n_rows = 0;
	MDB_stat ist;
	MDB_val k, v;
	int rc, mrc;

	rc = or_audit_read_head(s, txn, &last, head);
	if (rc < 0) {
		or_err_set(err, "audit: head missing or corrupt");
		return rc;
	}
	if ((mrc = mdb_cursor_open(txn, s->db_audit, &cur)) ||
	    (mrc = mdb_cursor_open(txn, s->db_audit_tok, &icur))) {
		rc = or_store_errno(mrc, "audit: cursor", err);
		goto out;
	}
	for (mrc = mdb_cursor_get(cur, &k, &v, MDB_FIRST); mrc == 0;
	     mrc = mdb_cursor_get(cur, &k, &v, MDB_NEXT), expect++) {
		MDB_val tk = { OR_TOKEN_LEN, NULL }, sk = k;

		if (cancel != NULL && expect % VERIFY_CANCEL_EVERY == 0 &&
		    __atomic_load_n(cancel, __ATOMIC_RELAXED)) {
			or_err_set(err, "audit: verification cancelled at seq %" PRIu64,
				   expect);
			rc = -ECANCELED;
			goto out;
		}
		if (k.mv_size != 8) {
			rc = broken(bad, expect, err, "malformed key");
			goto out;
		}
		kseq = or_seq_from_key(k.mv_data);
		if (kseq != expect) {
			rc = broken(bad, expect, err,
				    kseq > expect ? "missing (deleted)" :
						    "unexpected entry");
			goto out;
		}
		rc = entry_check(&v, kseq, &e, bad, err);
		if (rc < 0)
			goto out;
		if (memcmp(e.prev_hash, prev, OR_AUDIT_HASH_LEN) != 0) {
			rc = broken(bad, kseq, err,
				    "does not link to the previous entry");
			goto out;
		}
		/* The index must list it, or a subject export would miss it:
		 * a row, or the token's record naming it (format 2). */
		tk.mv_data = e.token.b;
		if (mdb_cursor_get(icur, &tk, &sk, MDB_GET_BOTH) == 0) {
			n_rows++;
		} else if ((mrc = or_audit_rec_seq(s, txn, &e.token, &rseq)) != 0 ||
			   rseq != kseq) {
			rc = mrc == MDB_CORRUPTED || mrc == 0 ?
				     broken(bad, kseq, err, "missing from the token index") :
				     or_store_errno(mrc, "audit: consent", err);
			goto out;
		}
		memcpy(prev, e.hash, OR_AUDIT_HASH_LEN);
	}
	if (mrc != MDB_NOTFOUND) {
		rc = or_store_errno(mrc, "audit: cursor", err);
		goto out;
	}
	*n_out = expect - 1;
	if (last > *n_out) {
		rc = broken(bad, *n_out + 1, err, "missing (deleted at the end)");
		goto out;
	}
	if (last < *n_out) {
		rc = broken(bad, last + 1, err, "beyond the recorded head");
		goto out;
	}
	if (memcmp(head, prev, OR_AUDIT_HASH_LEN) != 0) {
		rc = broken(bad, last, err, "does not match the recorded head");
		goto out;
	}
	/* Extra index entries could attribute events to another subject:
	 * the index holds exactly the rows the walk found. */
	mrc = mdb_stat(txn, s->db_audit_tok, &ist);
	if (mrc != 0) {
		rc = or_store_errno(mrc, "audit: stat", err);
	} else if (ist.ms_entries != n_rows) {
		if (bad != NULL)
			*bad = 0;
		or_err_set(err, "audit: token index has %zu entries, the chain %" PRIu64
			   " (%" PRIu64 " more named by records)",
			   ist.ms_entries, n_rows, *n_out - n_rows);
		rc = -EBADMSG;
	}
out:
	if (icur != NULL)
		mdb_cursor_close(icur);
	if (cur != NULL)
		mdb_cursor_close(cur);
	return rc;
}

int
or_audit_verify(struct or_store *s, uint64_t *bad_seq, uint64_t *n_checked,
		struct or_err *err)
{
	return or_audit_verify_cancel(s, NULL, bad_seq, n_checked, err);
}

int
or_audit_verify_cancel(struct or_store *s, const volatile int *cancel,
		       uint64_t *bad_seq, uint64_t *n_checked,
		       struct or_err *err)
{
	uint64_t n = 0;
	MDB_txn *txn;
	int rc;

	rc = mdb_txn_begin(s->env, NULL, MDB_RDONLY, &txn);
	if (rc != 0)
		return or_store_errno(rc, "audit: begin", err);
	rc = verify_walk(s, txn, cancel, bad_seq, &n, err);
	mdb_txn_abort(txn);
	if (n_checked != NULL)
		*n_checked = n;
	return rc;
}

int
or_audit_get(struct or_store *s, MDB_txn *txn, uint64_t seq, MDB_val *v)
{
	uint8_t key[8];
	MDB_val k = { sizeof(key), key };

	or_seq_key(key, seq);
	return mdb_get(txn, s->db_audit, &k, v);
}

/* One subject entry: intact, the subject's, linked to both neighbours. */
static int
subject_entry(struct or_store *s, MDB_txn *txn, const struct or_token *t,
	      uint64_t seq, const uint64_t *head_seq, const uint8_t *head,
	      struct or_audit_entry *e, uint64_t *bad, struct or_err *err)
{
	static const uint8_t zero[OR_AUDIT_HASH_LEN];
	MDB_val v, nv;
	int rc;

	rc = or_audit_get(s, txn, seq, &v);
	if (rc == MDB_NOTFOUND)
		return broken(bad, seq, err, "missing (deleted)");
	if (rc != 0)
		return or_store_errno(rc, "audit: get", err);
	rc = entry_check(&v, seq, e, bad, err);
	if (rc < 0)
		return rc;
	if (!or_token_eq(&e->token, t))
		return broken(bad, seq, err, "belongs to another token");
	if (seq == 1) {
		if (memcmp(e->prev_hash, zero, OR_AUDIT_HASH_LEN) != 0)
			return broken(bad, seq, err, "first entry has a prev_hash");
	} else {
		rc = or_audit_get(s, txn, seq - 1, &nv);
		if (rc != 0 || nv.mv_size != OR_AUDIT_VAL_LEN ||
		    memcmp((const uint8_t *)nv.mv_data + OR_AUDIT_OFF_HASH,
			   e->prev_hash, OR_AUDIT_HASH_LEN) != 0)
			return broken(bad, seq, err,
				      "does not link to the previous entry");
	}
	rc = or_audit_get(s, txn, seq + 1, &nv);
	if (rc == 0) {
		if (nv.mv_size != OR_AUDIT_VAL_LEN ||
		    memcmp(nv.mv_data, e->hash, OR_AUDIT_HASH_LEN) != 0)
			return broken(bad, seq, err,
				      "next entry does not link to it");
	} else if (rc != MDB_NOTFOUND || *head_seq != seq ||
		   memcmp(head, e->hash, OR_AUDIT_HASH_LEN) != 0) {
		return broken(bad, seq, err,
			      "last entry does not match the recorded head");
	}
	return 0;
}

int
or_audit_subject(struct or_store *s, const struct or_token *t,
		 struct or_audit_entry **out, size_t *n, uint64_t *bad_seq,
		 struct or_err *err)
{
	uint8_t head[OR_AUDIT_HASH_LEN];
	struct or_audit_entry *list = NULL;
	MDB_val k = { OR_TOKEN_LEN, (void *)t->b }, d;
	MDB_cursor *cur = NULL;
	MDB_txn *txn;
	uint64_t head_seq, rseq, sq;
	size_t cnt = 0, i = 0;
	int rc, mrc, rec_done;

	*out = NULL;
	*n = 0;
	rc = mdb_txn_begin(s->env, NULL, MDB_RDONLY, &txn);
	if (rc != 0)
		return or_store_errno(rc, "audit: begin", err);
	rc = or_audit_read_head(s, txn, &head_seq, head);
	if (rc < 0) {
		or_err_set(err, "audit: head missing or corrupt");
		goto out;
	}
	/* The events: the index rows, and the one the live record names
	 * (format 2; in a format-1 store it has a row too). */
	mrc = or_audit_rec_seq(s, txn, t, &rseq);
	if (mrc == 0)
		mrc = mdb_cursor_open(txn, s->db_audit_tok, &cur);
	if (mrc == 0)
		mrc = mdb_cursor_get(cur, &k, &d, MDB_SET_KEY);
	if (mrc == 0)
		mrc = mdb_cursor_count(cur, &cnt);
	else if (mrc == MDB_NOTFOUND)
		mrc = 0; /* no row: at most the record's event */
	if (mrc != 0) {
		rc = or_store_errno(mrc, "audit: index", err);
		goto out;
	}
	if (cnt == 0 && rseq == 0)
		goto out; /* no history: rc 0, n 0 */
	list = calloc(cnt + 1, sizeof(*list));
	if (list == NULL) {
		or_err_set(err, "out of memory");
		rc = -ENOMEM;
		goto out;
	}
	/* Duplicates are sorted by their big-endian seq: oldest first; the
	 * record's event goes in its place among them. */
	rec_done = rseq == 0;
	for (mrc = cnt ? mdb_cursor_get(cur, &k, &d, MDB_FIRST_DUP) :
			 MDB_NOTFOUND;
	     mrc == 0 || !rec_done;) {
		if (mrc == 0 && d.mv_size != 8) {
			rc = broken(bad_seq, 0, err, "malformed token index");
			goto out;
		}
		sq = mrc == 0 ? or_seq_from_key(d.mv_data) : UINT64_MAX;
		if (!rec_done && rseq <= sq) {
			rec_done = 1;
			if (rseq == sq) /* a format-1 row for it too */
				continue;
			sq = rseq;
		} else {
			mrc = mdb_cursor_get(cur, &k, &d, MDB_NEXT_DUP);
		}
		if (i == cnt + 1) {
			rc = broken(bad_seq, 0, err, "malformed token index");
			goto out;
		}
		rc = subject_entry(s, txn, t, sq, &head_seq, head, &list[i++],
				   bad_seq, err);
		if (rc < 0)
			goto out;
	}
	if (mrc != MDB_NOTFOUND) {
		rc = or_store_errno(mrc, "audit: index", err);
		goto out;
	}
	*out = list;
	*n = i;
	list = NULL;
out:
	free(list);
	if (cur != NULL)
		mdb_cursor_close(cur);
	mdb_txn_abort(txn);
	return rc;
}

int
or_audit_foreach(struct or_store *s, uint64_t from_seq,
		 int (*cb)(void *arg, const struct or_audit_entry *e),
		 void *arg, struct or_err *err)
{
	struct or_audit_entry e;
	MDB_cursor *cur;
	MDB_txn *txn;
	uint8_t key[8];
	MDB_val k = { sizeof(key), key }, v;
	int rc = 0, mrc;

	if (cb == NULL) {
		or_err_set(err, "audit: foreach needs a callback");
		return -EINVAL;
	}
	mrc = mdb_txn_begin(s->env, NULL, MDB_RDONLY, &txn);
	if (mrc != 0)
		return or_store_errno(mrc, "audit: begin", err);
	mrc = mdb_cursor_open(txn, s->db_audit, &cur);
	if (mrc != 0) {
		rc = or_store_errno(mrc, "audit: cursor", err);
		goto out;
	}
	or_seq_key(key, from_seq);
	for (mrc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE); mrc == 0;
	     mrc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
		if (audit_decode(&v, &e) < 0) {
			or_err_set(err, "audit: malformed entry");
			rc = -EBADMSG;
			break;
		}
		rc = cb(arg, &e);
		if (rc != 0)
			break;
	}
	if (rc == 0 && mrc != MDB_NOTFOUND)
		rc = or_store_errno(mrc, "audit: cursor", err);
	mdb_cursor_close(cur);
out:
	mdb_txn_abort(txn);
	return rc;
}
