/* SPDX-License-Identifier: BSD-3-Clause
 *
 * The local copy (copy.h): opening and replaying the log, applying the
 * trail's batches, and the reads that consult the overlay first. The fold
 * and the snapshot are copy_fold.c.
 */
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <time.h>

#include "optroute/log.h"

#include "copy_priv.h"

/* Address space for log.mdb: OR_COPY_LOG_MAX entries of about 150 bytes
 * are 600 MB; the file grows only as written. */
#define COPY_LOG_MAP (8ull << 30)

_Static_assert(OR_AUTH_VAL_LEN <= OR_COPY_REC_LEN,
	       "an auth state fits a log value's state field");

/* The record before a change of token: the overlay's, else the folded
 * one (rtxn: a read transaction of data.mdb). 1 (in *old), 0 (none) or
 * -EBADMSG. */
static int
copy_old(struct or_copy *c, MDB_txn *rtxn, const uint8_t *token,
	 struct or_consent *old)
{
	struct or_copy_ent *m = or_copy_map_find(&c->map, token);
	MDB_val k = { OR_TOKEN_LEN, (void *)token }, v;
	int rc;

	if (m != NULL) {
		if (m->kind != OR_COPY_REC)
			return 0;
		v.mv_size = OR_COPY_REC_LEN;
		v.mv_data = m->rec;
	} else {
		rc = mdb_get(rtxn, c->rec->db_consent, &k, &v);
		if (rc == MDB_NOTFOUND)
			return 0;
		if (rc != 0)
			return -EIO;
	}
	if (or_rec_decode(&v, old) < 0)
		return -EBADMSG;
	memcpy(old->token.b, token, OR_TOKEN_LEN);
	return 1;
}

/* A record leaves (state IN or OUT) or comes: the counts at the head. */
static void
copy_count(struct or_copy *c, const struct or_consent *r, int delta)
{
	uint64_t *n = r->state == OR_STATE_IN ? &c->n_in : &c->n_out;

	*n += (uint64_t)(int64_t)delta;
}

/* Sets the overlay's state of token (kind, record). 0 or -ENOMEM. */
static int
copy_set(struct or_copy *c, const uint8_t *token, uint64_t seq,
	 uint8_t kind, const uint8_t *rec)
{
	struct or_copy_ent *m = or_copy_map_put(&c->map, token);

	if (m == NULL)
		return -ENOMEM;
	m->seq = seq;
	m->kind = kind;
	if (kind == OR_COPY_REC)
		memcpy(m->rec, rec, OR_COPY_REC_LEN);
	else
		memset(m->rec, 0, OR_COPY_REC_LEN);
	return 0;
}

/* Entry e on the copy's state (mu held): the log value in val, the
 * result in *o, what to undo in *u. 0, -EBADMSG, -EIO or -ENOMEM. */
static int
copy_entry(struct or_copy *c, MDB_txn *rtxn, const struct or_audit_entry *e,
	   uint8_t *val, struct or_change_result *o, struct or_copy_undo *u)
{
	uint8_t *kind = val + 2 * OR_AUDIT_HASH_LEN + OR_TOKEN_LEN;
	uint8_t *state = kind + 1;
	struct or_copy_ent *m;
	struct or_consent old, nw;
	int have, rc;

	memcpy(val, e->prev_hash, OR_AUDIT_HASH_LEN);
	memcpy(val + OR_AUDIT_HASH_LEN, e->hash, OR_AUDIT_HASH_LEN);
	memcpy(val + 2 * OR_AUDIT_HASH_LEN, e->token.b, OR_TOKEN_LEN);
	memset(state, 0, OR_COPY_REC_LEN);
	*o = (struct or_change_result){ .seq = e->seq };
	memset(u, 0, sizeof(*u));
	if (e->action == OR_ACT_ROTATE || e->action == OR_ACT_RETIRE) {
		if (or_auth_next(&c->auth, e) < 0)
			return -EBADMSG;
		*kind = OR_COPY_LOG_AUTH;
		or_auth_encode(&c->auth, state);
		return 0;
	}
	have = copy_old(c, rtxn, e->token.b, &old);
	if (have < 0)
		return have;
	o->prev_rec = have ? or_consent_rec(&old) : 0;
	rc = or_consent_from_entry(e, have ? &old : NULL, &nw);
	if (rc < 0)
		return -EBADMSG;
	if (e->action == OR_ACT_KEY) {
		o->rec = o->prev_rec;
		*kind = OR_COPY_LOG_SAME;
		return 0;
	}
	memcpy(u->token, e->token.b, OR_TOKEN_LEN);
	m = or_copy_map_find(&c->map, e->token.b);
	if (m != NULL)
		u->old = *m; /* else seq 0 (memset above): it was not there */
	u->used = 1;
	if (have)
		copy_count(c, &old, -1);
	if (rc == 0) {
		*kind = OR_COPY_LOG_ERASED;
		return copy_set(c, e->token.b, e->seq, OR_COPY_ERASED, NULL);
	}
	copy_count(c, &nw, 1);
	*kind = OR_COPY_LOG_REC;
	or_rec_encode(&nw, state);
	o->rec = or_consent_rec(&nw);
	return copy_set(c, e->token.b, e->seq, OR_COPY_REC, state);
}

/* Puts the overlay back as it was before entries [0, n) (mu held). */
static void
copy_undo(struct or_copy *c, const struct or_copy_undo *u, unsigned n)
{
	while (n-- > 0) {
		struct or_copy_ent *m;

		if (!u[n].used)
			continue;
		m = or_copy_map_find(&c->map, u[n].token);
		if (u[n].old.seq != 0 && m != NULL)
			*m = u[n].old;
		else if (m != NULL)
			or_copy_map_del(&c->map, m);
	}
}

int
or_copy_follow(struct or_copy *c, const struct or_audit_entry *e,
	       unsigned n, struct or_change_result *res, struct or_err *err)
{
	uint8_t val[OR_COPY_LOG_VAL_LEN], key[8];
	struct or_auth_state auth0;
	uint64_t in0, out0;
	MDB_txn *rtxn = NULL, *ltxn = NULL;
	MDB_cursor *cur = NULL;
	unsigned i, undo = 0;
	int rc;

	if (n == 0)
		return 0;
	pthread_mutex_lock(&c->mu);
	/* Backpressure: the fold keeps the log (and the overlay) bounded.
	 * Waited for a second at most: the caller retries (and can stop). */
	if (c->started && c->head_seq - c->folded + n > OR_COPY_LOG_MAX) {
		struct timespec until;

		clock_gettime(CLOCK_REALTIME, &until);
		until.tv_sec++;
		while (!c->stop && c->head_seq - c->folded + n > OR_COPY_LOG_MAX)
			if (pthread_cond_timedwait(&c->cv, &c->mu, &until) != 0)
				break;
		if (c->head_seq - c->folded + n > OR_COPY_LOG_MAX) {
			or_err_set(err, "copy: %" PRIu64 " log entries not "
				   "folded yet", c->head_seq - c->folded);
			rc = -EAGAIN;
			goto out;
		}
	}
	if (e[0].seq != c->head_seq + 1 ||
	    memcmp(e[0].prev_hash, c->head_hash, OR_AUDIT_HASH_LEN) != 0) {
		or_err_set(err, "entry %" PRIu64 " does not follow the "
			   "position (seq %" PRIu64 ")", e[0].seq, c->head_seq);
		rc = -ESTALE;
		goto out;
	}
	if (n > c->undo_cap) {
		struct or_copy_undo *u = realloc(c->undo, n * sizeof(*u));

		if (u == NULL) {
			or_err_set(err, "out of memory");
			rc = -ENOMEM;
			goto out;
		}
		c->undo = u;
		c->undo_cap = n;
	}
	in0 = c->n_in;
	out0 = c->n_out;
	auth0 = c->auth;
	rc = mdb_txn_begin(c->rec->env, NULL, MDB_RDONLY, &rtxn);
	if (rc == 0)
		rc = mdb_txn_begin(c->log_env, NULL, 0, &ltxn);
	if (rc == 0)
		rc = mdb_cursor_open(ltxn, c->log_db, &cur);
	if (rc != 0) {
		rc = or_store_errno(rc, "copy: begin", err);
		goto end;
	}
	for (i = 0; i < n; i++) {
		struct or_change_result o;
		MDB_val k = { sizeof(key), key }, v = { sizeof(val), val };

		if (i > 0 && (e[i].seq != e[i - 1].seq + 1 ||
			      memcmp(e[i].prev_hash, e[i - 1].hash,
				     OR_AUDIT_HASH_LEN) != 0)) {
			or_err_set(err, "entry %" PRIu64 " does not follow "
				   "the entry before it", e[i].seq);
			rc = -EBADMSG;
			break;
		}
		/* From here on, entry i's overlay change is undone too. */
		undo = i + 1;
		rc = copy_entry(c, rtxn, &e[i], val, &o, &c->undo[i]);
		if (rc < 0) {
			or_err_set(err, "entry %" PRIu64 ": %s", e[i].seq,
				   rc == -EBADMSG ? "does not follow its record"
				   : rc == -ENOMEM ? "out of memory"
						   : "reading the records failed");
			break;
		}
		if (res != NULL)
			res[i] = o;
		or_seq_key(key, e[i].seq);
		rc = mdb_cursor_put(cur, &k, &v, MDB_APPEND);
		if (rc != 0) {
			rc = or_store_errno(rc, "copy: log", err);
			break;
		}
	}
	mdb_cursor_close(cur);
	cur = NULL;
	/* The commit fsyncs: the copy holds the batch before the dataplane
	 * hears of it. */
	if (rc == 0 && (rc = mdb_txn_commit(ltxn)) != 0)
		rc = or_store_errno(rc, "copy: commit", err);
	else if (rc != 0)
		mdb_txn_abort(ltxn);
	ltxn = NULL;
end:
	if (cur != NULL)
		mdb_cursor_close(cur);
	if (ltxn != NULL)
		mdb_txn_abort(ltxn);
	if (rtxn != NULL)
		mdb_txn_abort(rtxn);
	if (rc != 0) {
		copy_undo(c, c->undo, undo);
		c->n_in = in0;
		c->n_out = out0;
		c->auth = auth0;
	} else {
		c->head_seq = e[n - 1].seq;
		memcpy(c->head_hash, e[n - 1].hash, OR_AUDIT_HASH_LEN);
		c->last_ms = or_store_mono_us() / 1000u;
		pthread_cond_broadcast(&c->cv); /* the fold may start */
	}
out:
	pthread_mutex_unlock(&c->mu);
	return rc;
}

/* One log value replayed on the state (open, mu not needed yet). 0 or
 * -EBADMSG. */
static int
copy_replay_one(struct or_copy *c, MDB_txn *rtxn, uint64_t seq,
		const uint8_t *v)
{
	const uint8_t *token = v + 2 * OR_AUDIT_HASH_LEN;
	const uint8_t *state = token + OR_TOKEN_LEN + 1;
	uint8_t kind = token[OR_TOKEN_LEN];
	struct or_consent old, nw;
	MDB_val rv = { OR_COPY_REC_LEN, (void *)state };
	int have;

	if (kind == OR_COPY_LOG_AUTH)
		return or_auth_decode(state, OR_AUTH_VAL_LEN, &c->auth);
	if (kind == OR_COPY_LOG_SAME)
		return 0;
	if (kind != OR_COPY_LOG_REC && kind != OR_COPY_LOG_ERASED)
		return -EBADMSG;
	if (kind == OR_COPY_LOG_REC && or_rec_decode(&rv, &nw) < 0)
		return -EBADMSG;
	have = copy_old(c, rtxn, token, &old);
	if (have < 0)
		return have;
	if (have)
		copy_count(c, &old, -1);
	if (kind == OR_COPY_LOG_REC)
		copy_count(c, &nw, 1);
	return copy_set(c, token, seq, kind, state) < 0 ? -EBADMSG : 0;
}

/* Replays log.mdb after F into the overlay; drops entries at or before F
 * and any that do not link. */
static int
copy_replay(struct or_copy *c, struct or_err *err)
{
	MDB_txn *ltxn, *rtxn;
	MDB_cursor *cur;
	MDB_val k, v;
	uint64_t bad = 0;
	int rc, mrc;

	rc = mdb_txn_begin(c->rec->env, NULL, MDB_RDONLY, &rtxn);
	if (rc != 0)
		return or_store_errno(rc, "copy: begin", err);
	rc = mdb_txn_begin(c->log_env, NULL, 0, &ltxn);
	if (rc != 0) {
		mdb_txn_abort(rtxn);
		return or_store_errno(rc, "copy: begin", err);
	}
	rc = mdb_cursor_open(ltxn, c->log_db, &cur);
	for (mrc = rc ? rc : mdb_cursor_get(cur, &k, &v, MDB_FIRST); mrc == 0;
	     mrc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
		const uint8_t *p = v.mv_data;
		uint64_t seq = k.mv_size == 8 ? or_seq_from_key(k.mv_data) : 0;

		if (!bad && seq != 0 && seq <= c->folded) {
			/* folded: a trim cut short */
		} else if (bad || k.mv_size != 8 ||
			   v.mv_size != OR_COPY_LOG_VAL_LEN ||
			   seq != c->head_seq + 1 ||
			   memcmp(p, c->head_hash, OR_AUDIT_HASH_LEN) != 0 ||
			   copy_replay_one(c, rtxn, seq, p) < 0) {
			bad = bad ? bad : (seq ? seq : 1);
		} else {
			c->head_seq = seq;
			memcpy(c->head_hash, p + OR_AUDIT_HASH_LEN,
			       OR_AUDIT_HASH_LEN);
			continue;
		}
		if ((mrc = mdb_cursor_del(cur, 0)) != 0)
			break;
	}
	if (rc == 0)
		mdb_cursor_close(cur);
	mdb_txn_abort(rtxn);
	if (mrc != MDB_NOTFOUND && mrc != 0) {
		mdb_txn_abort(ltxn);
		return or_store_errno(mrc, "copy: replay", err);
	}
	if (bad)
		or_log(OR_LOG_WARNING, "copy: log entry %" PRIu64 " does not "
		       "follow seq %" PRIu64 "; it and the entries after it "
		       "are dropped (they are read again from the system of "
		       "record)", bad, c->head_seq);
	rc = mdb_txn_commit(ltxn);
	if (rc != 0)
		return or_store_errno(rc, "copy: replay", err);
	return 0;
}

static int
copy_log_open(struct or_copy *c, const char *dir, struct or_err *err)
{
	char path[PATH_MAX];
	MDB_txn *txn;
	int rc;

	if ((size_t)snprintf(path, sizeof(path), "%s/log.mdb", dir) >=
	    sizeof(path)) {
		or_err_set(err, "copy: path too long");
		return -ENAMETOOLONG;
	}
	/* Durability as the store's: every commit fsync'ed. */
	if ((rc = mdb_env_create(&c->log_env)) ||
	    (rc = mdb_env_set_mapsize(c->log_env, COPY_LOG_MAP)) ||
	    (rc = mdb_env_open(c->log_env, path, MDB_NOSUBDIR | MDB_NOTLS,
			       0600)))
		return or_store_errno(rc, "copy: open log.mdb", err);
	rc = mdb_txn_begin(c->log_env, NULL, 0, &txn);
	if (rc == 0 && (rc = mdb_dbi_open(txn, NULL, 0, &c->log_db)) == 0)
		rc = mdb_txn_commit(txn);
	else if (rc == 0)
		mdb_txn_abort(txn);
	return rc != 0 ? or_store_errno(rc, "copy: open log.mdb", err) : 0;
}

int
or_copy_open(const struct or_store_conf *conf, struct or_copy **out,
	     struct or_err *err)
{
	struct or_store_stats st;
	struct or_copy *c;
	int rc;

	*out = NULL;
	c = calloc(1, sizeof(*c));
	if (c == NULL || or_copy_map_init(&c->map) < 0) {
		free(c);
		or_err_set(err, "out of memory");
		return -ENOMEM;
	}
	pthread_mutex_init(&c->mu, NULL);
	pthread_cond_init(&c->cv, NULL);
	if ((rc = or_store_open(conf, &c->rec, err)) < 0 ||
	    (rc = or_audit_head(c->rec, &c->folded, c->head_hash, err)) < 0 ||
	    (rc = or_store_stats(c->rec, &st, err)) < 0 ||
	    (rc = or_store_auth_get(c->rec, &c->auth, err)) < 0 ||
	    (rc = copy_log_open(c, conf->path, err)) < 0)
		goto fail;
	c->head_seq = c->folded;
	c->n_in = st.opted_in;
	c->n_out = st.opted_out;
	if ((rc = copy_replay(c, err)) < 0)
		goto fail;
	c->last_ms = or_store_mono_us() / 1000u;
	*out = c;
	return 0;
fail:
	or_copy_close(c);
	return rc;
}

int
or_copy_start(struct or_copy *c)
{
	if (pthread_create(&c->fold, NULL, or_copy_fold_main, c) != 0)
		return -EAGAIN;
	pthread_mutex_lock(&c->mu);
	c->started = 1;
	pthread_mutex_unlock(&c->mu);
	return 0;
}

void
or_copy_close(struct or_copy *c)
{
	int started;

	if (c == NULL)
		return;
	pthread_mutex_lock(&c->mu);
	started = c->started;
	c->stop = 1;
	pthread_cond_broadcast(&c->cv);
	pthread_mutex_unlock(&c->mu);
	if (started)
		pthread_join(c->fold, NULL);
	if (c->log_env != NULL)
		mdb_env_close(c->log_env);
	or_store_close(c->rec);
	or_copy_map_free(&c->map);
	pthread_cond_destroy(&c->cv);
	pthread_mutex_destroy(&c->mu);
	free(c->undo);
	free(c);
}

void
or_copy_position(struct or_copy *c, uint64_t *seq,
		 uint8_t hash[OR_AUDIT_HASH_LEN])
{
	pthread_mutex_lock(&c->mu);
	*seq = c->head_seq;
	memcpy(hash, c->head_hash, OR_AUDIT_HASH_LEN);
	pthread_mutex_unlock(&c->mu);
}

int
or_copy_get(struct or_copy *c, const struct or_token *t,
	    struct or_consent *out)
{
	struct or_copy_ent *m;
	int rc;

	pthread_mutex_lock(&c->mu);
	m = or_copy_map_find(&c->map, t->b);
	if (m != NULL) {
		MDB_val v = { OR_COPY_REC_LEN, m->rec };

		rc = m->kind != OR_COPY_REC ? -ENOENT : or_rec_decode(&v, out);
		out->token = *t;
		pthread_mutex_unlock(&c->mu);
		return rc;
	}
	pthread_mutex_unlock(&c->mu);
	/* Not in the overlay: data.mdb has its newest state (a fold drops
	 * an entry from the overlay only once data.mdb holds it). */
	return or_store_get(c->rec, t, out);
}

int
or_copy_auth_get(struct or_copy *c, struct or_auth_state *st,
		 struct or_err *err)
{
	(void)err;
	pthread_mutex_lock(&c->mu);
	*st = c->auth;
	pthread_mutex_unlock(&c->mu);
	return 0;
}

int
or_copy_stats(struct or_copy *c, struct or_store_stats *st,
	      struct or_copy_stats *cs, struct or_err *err)
{
	const char *path;
	struct stat sb;
	int rc = or_store_stats(c->rec, st, err);

	if (rc < 0)
		return rc;
	if (mdb_env_get_path(c->log_env, &path) == 0 && stat(path, &sb) == 0)
		st->file_bytes += (uint64_t)sb.st_blocks * 512u;
	pthread_mutex_lock(&c->mu);
	st->opted_in = c->n_in;
	st->opted_out = c->n_out;
	st->entries = c->n_in + c->n_out;
	st->last_seq = c->head_seq;
	pthread_mutex_unlock(&c->mu);
	if (cs != NULL)
		or_copy_fold_stats(c, cs);
	return 0;
}

void
or_copy_fold_stats(struct or_copy *c, struct or_copy_stats *cs)
{
	pthread_mutex_lock(&c->mu);
	*cs = c->st;
	cs->unfolded = c->head_seq - c->folded;
	pthread_mutex_unlock(&c->mu);
}

int
or_copy_log_trim(struct or_copy *c, uint64_t seq, struct or_err *err)
{
	unsigned n;

	do {
		MDB_cursor *cur;
		MDB_txn *txn;
		MDB_val k, v;
		int rc;

		n = 0;
		rc = mdb_txn_begin(c->log_env, NULL, 0, &txn);
		if (rc != 0)
			return or_store_errno(rc, "copy: trim", err);
		rc = mdb_cursor_open(txn, c->log_db, &cur);
		/* Bounded transactions: the follower's appends wait for
		 * each (one writer per environment). */
		while (rc == 0 && n < 65536 &&
		       (rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST)) == 0 &&
		       k.mv_size == 8 && or_seq_from_key(k.mv_data) <= seq) {
			rc = mdb_cursor_del(cur, 0);
			n++;
		}
		if (rc == MDB_NOTFOUND || (rc == 0 && n < 65536))
			rc = 0;
		mdb_cursor_close(cur);
		if (rc == 0)
			rc = mdb_txn_commit(txn);
		else
			mdb_txn_abort(txn);
		if (rc != 0)
			return or_store_errno(rc, "copy: trim", err);
	} while (n == 65536);
	return 0;
}
