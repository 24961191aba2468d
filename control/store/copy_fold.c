/* SPDX-License-Identifier: BSD-3-Clause
 *
 * The local copy's fold (copy.h): the overlay written into data.mdb in
 * token order, then dropped from the overlay and the log; and the
 * snapshot, which merges the overlay over data.mdb.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "optroute/log.h"

#include "copy_priv.h"

static int
fold_cmp(const void *a, const void *b)
{
	return memcmp(((const struct or_copy_ent *)a)->token,
		      ((const struct or_copy_ent *)b)->token, OR_TOKEN_LEN);
}

/* The overlay's entries in token order (mu held). NULL only when out of
 * memory with entries to copy. */
static struct or_copy_ent *
fold_take(struct or_copy *c, size_t *n)
{
	struct or_copy_ent *a;
	size_t k = 0;

	*n = c->map.n;
	a = malloc((*n ? *n : 1) * sizeof(*a));
	if (a == NULL)
		return NULL;
	for (size_t i = 0; i < c->map.cap && k < *n; i++)
		if (c->map.slot[i].seq != 0)
			a[k++] = c->map.slot[i];
	return a;
}

/* Writes a (n entries, token order) and the position they reach into
 * data.mdb, in one transaction. 0 or -errno. */
static int
fold_write(struct or_copy *c, const struct or_copy_ent *a, size_t n,
	   uint64_t seq, const uint8_t *hash, uint64_t n_in, uint64_t n_out,
	   const struct or_auth_state *auth, struct or_err *err)
{
	struct or_store *s = c->rec;
	MDB_cursor *cur = NULL;
	MDB_txn *txn = NULL;
	int rc;

	rc = mdb_txn_begin(s->env, NULL, 0, &txn);
	if (rc == 0)
		rc = mdb_cursor_open(txn, s->db_consent, &cur);
	for (size_t i = 0; rc == 0 && i < n; i++) {
		MDB_val k = { OR_TOKEN_LEN, (void *)a[i].token },
			v = { OR_COPY_REC_LEN, (void *)a[i].rec };

		if (a[i].kind == OR_COPY_REC) {
			rc = mdb_cursor_put(cur, &k, &v, 0);
		} else {
			rc = mdb_cursor_get(cur, &k, &v, MDB_SET);
			rc = rc == 0 ? mdb_cursor_del(cur, 0)
				     : rc == MDB_NOTFOUND ? 0 : rc;
		}
	}
	if (cur != NULL)
		mdb_cursor_close(cur);
	if (rc == 0 && !(rc = or_meta_put_head(s, txn, seq, hash)) &&
	    !(rc = or_meta_put_u64(s, txn, OR_META_N_IN, n_in)) &&
	    !(rc = or_meta_put_u64(s, txn, OR_META_N_OUT, n_out)) &&
	    !(rc = or_auth_write(s, txn, auth)))
		rc = mdb_txn_commit(txn);
	else if (txn != NULL)
		mdb_txn_abort(txn);
	return rc != 0 ? or_store_errno(rc, "copy: fold", err) : 0;
}

int
or_copy_fold(struct or_copy *c, struct or_err *err)
{
	uint8_t hash[OR_AUDIT_HASH_LEN];
	struct or_auth_state auth;
	struct or_copy_ent *a;
	uint64_t seq, from, n_in, n_out, t0 = or_store_mono_us();
	size_t n;
	int rc;

	pthread_mutex_lock(&c->mu);
	seq = c->head_seq;
	from = c->folded;
	if (seq == from) {
		pthread_mutex_unlock(&c->mu);
		return 0;
	}
	a = fold_take(c, &n);
	memcpy(hash, c->head_hash, sizeof(hash));
	n_in = c->n_in;
	n_out = c->n_out;
	auth = c->auth;
	pthread_mutex_unlock(&c->mu);
	if (a == NULL) {
		or_err_set(err, "copy: fold: out of memory");
		rc = -ENOMEM;
		goto fail;
	}
	/* Token order: consecutive writes mostly land on the page the
	 * cursor is on, and each page is written once. */
	qsort(a, n, sizeof(*a), fold_cmp);
	rc = fold_write(c, a, n, seq, hash, n_in, n_out, &auth, err);
	if (rc < 0)
		goto fail;
	/* data.mdb holds them: an entry not changed since leaves the
	 * overlay (a newer one stays and is folded next time). */
	pthread_mutex_lock(&c->mu);
	for (size_t i = 0; i < n; i++) {
		struct or_copy_ent *m = or_copy_map_find(&c->map, a[i].token);

		if (m != NULL && m->seq == a[i].seq)
			or_copy_map_del(&c->map, m);
	}
	c->folded = seq;
	c->st.folds++;
	c->st.folded_changes += seq - from;
	c->st.fold_us_last = or_store_mono_us() - t0;
	pthread_cond_broadcast(&c->cv); /* a follow waiting for room */
	pthread_mutex_unlock(&c->mu);
	free(a);
	return or_copy_log_trim(c, seq, err);
fail:
	free(a);
	pthread_mutex_lock(&c->mu);
	c->st.fold_failures++;
	pthread_mutex_unlock(&c->mu);
	return rc;
}

void *
or_copy_fold_main(void *arg)
{
	struct or_copy *c = arg;

	pthread_mutex_lock(&c->mu);
	while (!c->stop) {
		uint64_t unfolded = c->head_seq - c->folded;
		uint64_t idle = or_store_mono_us() / 1000u - c->last_ms;
		struct timespec until;
		int failed = 0;

		if (unfolded >= OR_COPY_FOLD_MIN ||
		    (unfolded > 0 && idle >= OR_COPY_FOLD_IDLE_MS)) {
			struct or_err err = { "" };

			pthread_mutex_unlock(&c->mu);
			if (or_copy_fold(c, &err) < 0) {
				or_log(OR_LOG_ERR, "%s (retried in a second)",
				       err.msg);
				failed = 1;
			}
			pthread_mutex_lock(&c->mu);
			if (!failed)
				continue;
		}
		clock_gettime(CLOCK_REALTIME, &until);
		if (failed) {
			until.tv_sec++;
		} else {
			until.tv_nsec += 100000000L;
			if (until.tv_nsec >= 1000000000L) {
				until.tv_sec++;
				until.tv_nsec -= 1000000000L;
			}
		}
		pthread_cond_timedwait(&c->cv, &c->mu, &until);
	}
	pthread_mutex_unlock(&c->mu);
	return NULL;
}

/* ---- snapshot ------------------------------------------------------- */

int
or_copy_snapshot(struct or_copy *c, struct or_store_entry *buf,
		 unsigned cap, or_store_chunk_cb cb, void *arg,
		 uint64_t *snap_seq, struct or_err *err)
{
	struct or_snap_out o = { buf, cap, 0, cb, arg };
	struct or_copy_ent *a;
	MDB_cursor *cur = NULL;
	MDB_txn *txn = NULL;
	MDB_val k, v;
	uint64_t seq;
	size_t n, i = 0;
	int rc, mrc;

	if (buf == NULL || cap == 0 || cb == NULL) {
		or_err_set(err, "copy: snapshot needs a buffer and a callback");
		return -EINVAL;
	}
	/* The overlay and data.mdb's read transaction taken together: a
	 * fold removes from the overlay only what data.mdb already holds. */
	pthread_mutex_lock(&c->mu);
	a = fold_take(c, &n);
	seq = c->head_seq;
	rc = a == NULL ? ENOMEM
		       : mdb_txn_begin(c->rec->env, NULL, MDB_RDONLY, &txn);
	pthread_mutex_unlock(&c->mu);
	if (rc == 0)
		rc = mdb_cursor_open(txn, c->rec->db_consent, &cur);
	if (rc != 0) {
		rc = rc == ENOMEM ? -ENOMEM : or_store_errno(rc, "copy: begin",
							     NULL);
		or_err_set(err, "copy: snapshot: %s", strerror(-rc));
		goto out;
	}
	qsort(a, n, sizeof(*a), fold_cmp);
	if (snap_seq != NULL)
		*snap_seq = seq;
	mrc = mdb_cursor_get(cur, &k, &v, MDB_FIRST);
	while (rc == 0 && (mrc == 0 || i < n)) {
		int d = mrc != 0  ? 1
			: i == n ? -1
				 : memcmp(k.mv_data, a[i].token, OR_TOKEN_LEN);

		if (d < 0) {
			rc = or_snap_push(&o, k.mv_data, &v, err);
		} else if (a[i].kind == OR_COPY_REC) {
			MDB_val ov = { OR_COPY_REC_LEN, a[i].rec };

			rc = or_snap_push(&o, a[i].token, &ov, err);
		}
		if (d <= 0)
			mrc = mdb_cursor_get(cur, &k, &v, MDB_NEXT);
		if (d >= 0)
			i++;
	}
	if (rc == 0 && mrc != MDB_NOTFOUND && mrc != 0)
		rc = or_store_errno(mrc, "copy: snapshot", err);
	if (rc == 0 && o.n > 0)
		rc = cb(arg, buf, o.n);
out:
	if (cur != NULL)
		mdb_cursor_close(cur);
	if (txn != NULL)
		mdb_txn_abort(txn);
	free(a);
	return rc;
}
