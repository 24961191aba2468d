/* SPDX-License-Identifier: BSD-3-Clause
 *
 * The local copy's side of resuming a dataplane (copy.h
 * or_copy_hash_at, or_copy_changes_since; docs/channel.md "Resuming").
 * A position after the folded one F is in the log, and every token
 * changed after it is in the overlay with the seq of its newest change,
 * so the changes since are the overlay's entries past that seq. A
 * position before F was folded away: the caller falls back to a full
 * resync.
 */
#include <errno.h>
#include <stdlib.h>

#include "copy_priv.h"

/* The hash of entry seq, F <= seq <= the position (mu held). 0,
 * -ENOENT or -errno. */
static int
since_hash_locked(struct or_copy *c, uint64_t seq,
		  uint8_t hash[OR_AUDIT_HASH_LEN], struct or_err *err)
{
	uint8_t key[8];
	MDB_val k = { sizeof(key), key }, v;
	MDB_txn *txn;
	uint64_t f;
	int rc;

	if (seq == 0 || seq < c->folded || seq > c->head_seq)
		return -ENOENT;
	if (seq == c->head_seq) {
		memcpy(hash, c->head_hash, OR_AUDIT_HASH_LEN);
		return 0;
	}
	if (seq == c->folded) {
		rc = mdb_txn_begin(c->rec->env, NULL, MDB_RDONLY, &txn);
		if (rc != 0)
			return or_store_errno(rc, "copy: begin", err);
		rc = or_audit_read_head(c->rec, txn, &f, hash);
		mdb_txn_abort(txn);
		if (rc == 0 && f != seq)
			rc = -ENOENT;
		return rc;
	}
	/* F < seq < the position: in the log (the fold trims only up to F,
	 * and F does not move while mu is held). */
	rc = mdb_txn_begin(c->log_env, NULL, MDB_RDONLY, &txn);
	if (rc != 0)
		return or_store_errno(rc, "copy: log begin", err);
	or_seq_key(key, seq);
	rc = mdb_get(txn, c->log_db, &k, &v);
	if (rc == 0 && v.mv_size == OR_COPY_LOG_VAL_LEN)
		memcpy(hash, (const uint8_t *)v.mv_data + OR_AUDIT_HASH_LEN,
		       OR_AUDIT_HASH_LEN);
	rc = rc == MDB_NOTFOUND ? -ENOENT
	     : rc != 0 ? or_store_errno(rc, "copy: log get", err)
	     : v.mv_size != OR_COPY_LOG_VAL_LEN ? -EBADMSG : 0;
	mdb_txn_abort(txn);
	return rc;
}

int
or_copy_hash_at(struct or_copy *c, uint64_t seq,
		uint8_t hash[OR_AUDIT_HASH_LEN], struct or_err *err)
{
	int rc;

	pthread_mutex_lock(&c->mu);
	rc = since_hash_locked(c, seq, hash, err);
	pthread_mutex_unlock(&c->mu);
	return rc;
}

/* The overlay's entries changed after seq, as (token, rec) (mu held).
 * NULL only when out of memory. */
static struct or_store_entry *
since_take(struct or_copy *c, uint64_t seq, size_t *n, struct or_err *err)
{
	struct or_store_entry *a = malloc((c->map.n ? c->map.n : 1) *
					  sizeof(*a));
	struct or_consent r;
	size_t k = 0;

	if (a == NULL)
		return NULL;
	for (size_t i = 0; i < c->map.cap; i++) {
		const struct or_copy_ent *m = &c->map.slot[i];
		MDB_val v = { OR_COPY_REC_LEN, (void *)m->rec };

		if (m->seq <= seq) /* 0: a free slot */
			continue;
		memcpy(a[k].token.b, m->token, OR_TOKEN_LEN);
		a[k].rec = 0;
		if (m->kind == OR_COPY_REC) {
			if (or_rec_decode(&v, &r) < 0) {
				or_err_set(err, "copy: corrupt record in the "
						"overlay");
				free(a);
				*n = SIZE_MAX;
				return NULL;
			}
			a[k].rec = or_consent_rec(&r);
		}
		k++;
	}
	*n = k;
	return a;
}

int
or_copy_changes_since(struct or_copy *c, uint64_t seq,
		      const uint8_t hash[OR_AUDIT_HASH_LEN], uint64_t max,
		      struct or_store_entry *buf, unsigned cap,
		      or_store_chunk_cb cb, void *arg, uint64_t *snap_seq,
		      struct or_err *err)
{
	uint8_t have[OR_AUDIT_HASH_LEN];
	struct or_store_entry *a = NULL;
	uint64_t head;
	size_t n = 0;
	int rc;

	rc = or_since_args(buf, cap, cb, seq, "copy", err);
	if (rc < 0)
		return rc;
	pthread_mutex_lock(&c->mu);
	head = c->head_seq;
	rc = or_since_check(since_hash_locked(c, seq, have, err), have, hash,
			    seq, head, max, "the copy",
			    " after its folded position", err);
	if (rc == 0) {
		a = since_take(c, seq, &n, err);
		if (a == NULL)
			rc = n == SIZE_MAX ? -EBADMSG : -ENOMEM;
	}
	pthread_mutex_unlock(&c->mu);
	if (rc < 0)
		return rc;
	if (snap_seq != NULL)
		*snap_seq = head;
	for (size_t off = 0; rc == 0 && off < n; off += cap) {
		size_t k = n - off < cap ? n - off : cap;

		memcpy(buf, a + off, k * sizeof(*a));
		rc = cb(arg, buf, (unsigned)k);
	}
	free(a);
	return rc;
}
