/* SPDX-License-Identifier: BSD-3-Clause
 *
 * Consent store: environment, record encoding, group commit (see store.h
 * and docs/consent-store.md). Reads are in store_read.c, the audit trail
 * in audit.c.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <time.h>

#include "control/store/consent_next.h"
#include "store_priv.h"

int
or_store_errno(int mdb_rc, const char *what, struct or_err *err)
{
	int rc;

	switch (mdb_rc) {
	case MDB_SUCCESS:
		return 0;
	case MDB_MAP_FULL:
		rc = -ENOSPC;
		break;
	case MDB_NOTFOUND:
		rc = -ENOENT;
		break;
	case MDB_CORRUPTED:
	case MDB_PAGE_NOTFOUND:
	case MDB_INVALID:
	case MDB_BAD_VALSIZE:
		rc = -EBADMSG;
		break;
	case MDB_VERSION_MISMATCH:
		rc = -EPROTO;
		break;
	case MDB_READERS_FULL:
	case MDB_MAP_RESIZED:
		rc = -EAGAIN;
		break;
	case MDB_TXN_FULL:
		rc = -E2BIG;
		break;
	default:
		rc = mdb_rc > 0 ? -mdb_rc : -EIO;
		break;
	}
	or_err_set(err, "%s: %s", what, mdb_strerror(mdb_rc));
	return rc;
}

void
or_rec_encode(const struct or_consent *c, uint8_t v[OR_REC_VAL_LEN])
{
	memset(v, 0, OR_REC_VAL_LEN);
	v[0] = OR_REC_VAL_FMT;
	v[1] = c->state;
	v[2] = c->epoch;
	v[3] = c->flags;
	v[4] = c->method;
	or_put_le16(v + 6, c->node);
	or_put_le32(v + 8, c->notice_version);
	or_put_le64(v + 16, c->granted_ms);
	or_put_le64(v + 24, c->withdrawn_ms);
	or_put_le64(v + 32, c->seq);
}

int
or_rec_decode(const MDB_val *val, struct or_consent *c)
{
	const uint8_t *v = val->mv_data;

	if (val->mv_size != OR_REC_VAL_LEN || v[0] != OR_REC_VAL_FMT ||
	    (v[1] != OR_STATE_IN && v[1] != OR_STATE_OUT))
		return -EBADMSG;
	c->state = v[1];
	c->epoch = v[2];
	c->flags = v[3];
	c->method = v[4];
	c->node = or_get_le16(v + 6);
	c->notice_version = or_get_le32(v + 8);
	c->granted_ms = or_get_le64(v + 16);
	c->withdrawn_ms = or_get_le64(v + 24);
	c->seq = or_get_le64(v + 32);
	return 0;
}

int
or_meta_get_u64(const struct or_store *s, MDB_txn *txn, const char *key,
		uint64_t *v)
{
	MDB_val k = { strlen(key), (void *)key }, d;
	int rc;

	rc = mdb_get(txn, s->db_meta, &k, &d);
	if (rc == MDB_NOTFOUND) {
		*v = 0;
		return 0;
	}
	if (rc != 0)
		return or_store_errno(rc, "meta", NULL);
	if (d.mv_size != sizeof(uint64_t))
		return -EBADMSG;
	*v = or_get_le64(d.mv_data);
	return 0;
}

int
or_meta_put(struct or_store *s, MDB_txn *txn, const char *key, const void *p,
	    size_t len)
{
	MDB_val k = { strlen(key), (void *)key }, d = { len, (void *)p };

	return mdb_put(txn, s->db_meta, &k, &d, 0);
}

int
or_meta_put_head(struct or_store *s, MDB_txn *txn, uint64_t seq,
		 const uint8_t hash[OR_AUDIT_HASH_LEN])
{
	int rc = or_meta_put_u64(s, txn, OR_META_LAST_SEQ, seq);

	return rc != 0 ? rc
		       : or_meta_put(s, txn, OR_META_HEAD, hash,
				     OR_AUDIT_HASH_LEN);
}

int
or_meta_put_u64(struct or_store *s, MDB_txn *txn, const char *key, uint64_t v)
{
	uint8_t b[8];

	or_put_le64(b, v);
	return or_meta_put(s, txn, key, b, sizeof(b));
}

/* Opens the named databases and checks (or, when writable and new, sets)
 * the format. */
static int
store_init_dbs(struct or_store *s, struct or_err *err)
{
	const unsigned create = s->read_only ? 0 : MDB_CREATE;
	MDB_val k = { strlen(OR_META_FORMAT), (void *)OR_META_FORMAT }, d;
	MDB_txn *txn;
	uint8_t fmt[4];
	int rc;

	rc = mdb_txn_begin(s->env, NULL, s->read_only ? MDB_RDONLY : 0, &txn);
	if (rc != 0)
		return or_store_errno(rc, "store: begin", err);
	if ((rc = mdb_dbi_open(txn, OR_DB_CONSENT, create, &s->db_consent)) ||
	    (rc = mdb_dbi_open(txn, OR_DB_AUDIT, create, &s->db_audit)) ||
	    (rc = mdb_dbi_open(txn, OR_DB_AUDIT_TOK,
			       create | MDB_DUPSORT | MDB_DUPFIXED,
			       &s->db_audit_tok)) ||
	    (rc = mdb_dbi_open(txn, OR_DB_META, create, &s->db_meta))) {
		mdb_txn_abort(txn);
		if (rc == MDB_NOTFOUND) {
			or_err_set(err, "store: not initialised (open it read-write once)");
			return -ENOENT;
		}
		return or_store_errno(rc, "store: open databases", err);
	}
	rc = mdb_get(txn, s->db_meta, &k, &d);
	if (rc == 0 && (d.mv_size != sizeof(fmt) ||
			or_get_le32(d.mv_data) < OR_STORE_FORMAT_MIN ||
			or_get_le32(d.mv_data) > OR_STORE_FORMAT)) {
		mdb_txn_abort(txn);
		or_err_set(err, "store: unsupported format (this build reads formats %u to %u)",
			   OR_STORE_FORMAT_MIN, OR_STORE_FORMAT);
		return -EPROTO;
	}
	/* New, or format 1 opened for writing: from now on it may hold
	 * events indexed by their record only (see store_priv.h). */
	if (!s->read_only && (rc == MDB_NOTFOUND ||
			      (rc == 0 && or_get_le32(d.mv_data) != OR_STORE_FORMAT))) {
		or_put_le32(fmt, OR_STORE_FORMAT);
		rc = or_meta_put(s, txn, OR_META_FORMAT, fmt, sizeof(fmt));
	}
	if (rc != 0) {
		mdb_txn_abort(txn);
		return or_store_errno(rc, "store: format", err);
	}
	rc = mdb_txn_commit(txn);
	return rc ? or_store_errno(rc, "store: commit", err) : 0;
}

int
or_store_open(const struct or_store_conf *conf, struct or_store **out,
	      struct or_err *err)
{
	struct or_store *s;
	unsigned flags;
	int rc, dead;

	if (conf == NULL || conf->path == NULL || conf->path[0] == '\0') {
		or_err_set(err, "store: no path");
		return -EINVAL;
	}
	if (!conf->read_only && mkdir(conf->path, 0700) != 0 &&
	    errno != EEXIST) {
		rc = -errno;
		or_err_set(err, "store: cannot create %s: %s", conf->path,
			   strerror(-rc));
		return rc;
	}
	s = calloc(1, sizeof(*s));
	if (s == NULL) {
		or_err_set(err, "out of memory");
		return -ENOMEM;
	}
	s->read_only = conf->read_only != 0;
	rc = mdb_env_create(&s->env);
	if (rc != 0) {
		rc = or_store_errno(rc, "store: create", err);
		free(s);
		return rc;
	}
	/* Durability: no MDB_NOSYNC, MDB_NOMETASYNC, MDB_MAPASYNC or
	 * MDB_WRITEMAP, so every commit is fsync'ed before it returns.
	 * MDB_NOTLS: read transactions may be used by any thread. */
	flags = MDB_NOTLS | (s->read_only ? MDB_RDONLY : 0);
	if ((rc = mdb_env_set_mapsize(s->env, conf->map_size ?
					      conf->map_size :
					      OR_STORE_DEFAULT_MAP_SIZE)) ||
	    (rc = mdb_env_set_maxdbs(s->env, 4)) ||
	    (rc = mdb_env_open(s->env, conf->path, flags, 0600))) {
		char what[96];

		snprintf(what, sizeof(what), "store: open %s", conf->path);
		rc = or_store_errno(rc, what, err);
		goto fail;
	}
	/* Free reader slots left by crashed processes. */
	mdb_reader_check(s->env, &dead);
	rc = store_init_dbs(s, err);
	if (rc < 0)
		goto fail;
	*out = s;
	return 0;
fail:
	mdb_env_close(s->env);
	free(s);
	return rc;
}

void
or_store_close(struct or_store *s)
{
	if (s == NULL)
		return;
	mdb_env_close(s->env);
	free(s->scratch);
	free(s->out);
	free(s);
}

uint64_t
or_store_mono_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

uint64_t
or_store_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

/* Sort key of a change: token order first (records and index rows are
 * then written in key order, so consecutive changes mostly land on the
 * page the cursor is already on), arrival order among equal tokens (a
 * later change of a token must see the earlier one). */
static int
apply_slot_cmp(const void *a, const void *b)
{
	const struct or_apply_slot *x = a, *y = b;
	int c;

	if (x->key != y->key)
		return x->key < y->key ? -1 : 1;
	c = memcmp(x->tok + 8, y->tok + 8, OR_TOKEN_LEN - 8);
	if (c != 0)
		return c;
	return x->idx < y->idx ? -1 : x->idx > y->idx;
}

/* The changes in token order, in the store's scratch (allocated once;
 * only the writer, serialised by LMDB's writer lock, uses it). */
static int
apply_sort(struct or_store *s, const struct or_change *ch, unsigned n)
{
	if (s->scratch == NULL) {
		s->scratch = malloc(OR_STORE_APPLY_MAX * sizeof(*s->scratch));
		s->out = malloc(OR_STORE_APPLY_MAX * sizeof(*s->out));
		if (s->scratch == NULL || s->out == NULL) {
			free(s->scratch);
			free(s->out);
			s->scratch = NULL;
			s->out = NULL;
			return -ENOMEM;
		}
	}
	for (unsigned i = 0; i < n; i++) {
		uint64_t k;

		memcpy(&k, ch[i].token.b, sizeof(k));
		s->scratch[i].key = be64toh(k);
		s->scratch[i].idx = i;
		s->scratch[i].tok = ch[i].token.b;
	}
	qsort(s->scratch, n, sizeof(*s->scratch), apply_slot_cmp);
	return 0;
}

/* apply_record's verdict on a key issued to a subject that is not opted
 * in (not an LMDB code: those are negative). */
#define APPLY_NOT_IN 1

/* One change's record, through the consent cursor. One B-tree search per
 * change: the put of a new record is tried first (the common case of a
 * first opt-in); if the token exists LMDB returns its record instead and
 * leaves the cursor on it. */
static int
apply_record(const struct or_node_policy *pol, MDB_cursor *cur,
	     const struct or_change *c, uint64_t seq, uint64_t t,
	     uint64_t cnt[2], struct or_apply_out *o)
{
	MDB_val k = { OR_TOKEN_LEN, (void *)c->token.b }, v;
	struct or_consent old, nw;
	uint8_t buf[OR_REC_VAL_LEN];
	int rc, have_old;

	if (c->action == OR_ACT_KEY) {
		/* Audited, not stored: the record stays as it is. */
		rc = mdb_cursor_get(cur, &k, &v, MDB_SET);
		if (rc == MDB_NOTFOUND)
			return APPLY_NOT_IN;
		if (rc != 0)
			return rc;
		if (or_rec_decode(&v, &old) < 0)
			return MDB_CORRUPTED;
		if (old.state != OR_STATE_IN)
			return APPLY_NOT_IN;
		o->prev_rec = o->rec = or_consent_rec(&old);
		o->node = old.node;
		o->flags = old.flags;
		o->idx_prev = 0;
		o->idx_self = 1;
		return 0;
	}
	if (c->action == OR_ACT_ERASE) {
		rc = mdb_cursor_get(cur, &k, &v, MDB_SET);
		if (rc != 0 && rc != MDB_NOTFOUND)
			return rc;
		have_old = rc == 0;
		if (have_old && or_rec_decode(&v, &old) < 0)
			return MDB_CORRUPTED;
		o->prev_rec = have_old ? or_consent_rec(&old) : 0;
		o->rec = 0;
		o->node = 0;
		o->flags = 0;
		o->idx_prev = have_old ? old.seq : 0;
		o->idx_self = 1;
		if (!have_old)
			return 0;
		cnt[old.state == OR_STATE_IN ? 0 : 1]--;
		return mdb_cursor_del(cur, 0);
	}
	or_consent_next(pol, c, NULL, seq, t, &nw);
	or_rec_encode(&nw, buf);
	v.mv_size = sizeof(buf);
	v.mv_data = buf;
	rc = mdb_cursor_put(cur, &k, &v, MDB_NOOVERWRITE);
	have_old = rc == MDB_KEYEXIST;
	if (rc != 0 && !have_old)
		return rc;
	o->prev_rec = 0;
	o->idx_prev = 0;
	o->idx_self = 0; /* the record names it */
	if (have_old) {
		/* v is the stored record; the cursor is on it. */
		if (or_rec_decode(&v, &old) < 0)
			return MDB_CORRUPTED;
		o->prev_rec = or_consent_rec(&old);
		o->idx_prev = old.seq;
		cnt[old.state == OR_STATE_IN ? 0 : 1]--;
		or_consent_next(pol, c, &old, seq, t, &nw);
		or_rec_encode(&nw, buf);
		v.mv_size = sizeof(buf);
		v.mv_data = buf;
		rc = mdb_cursor_put(cur, &k, &v, MDB_CURRENT);
		if (rc != 0)
			return rc;
	}
	cnt[nw.state == OR_STATE_IN ? 0 : 1]++;
	o->rec = or_consent_rec(&nw);
	o->node = nw.node;
	o->flags = nw.flags;
	return 0;
}

/* Everything of one group inside the write transaction: records in token
 * order, the audit trail in seq order (it is a chain), its token index in
 * token order. On error *bad is the change that failed. LMDB error code. */
static int
apply_all(struct or_store *s, MDB_txn *txn, const struct or_node_policy *pol,
	  const struct or_change *ch, unsigned n, uint64_t last, uint64_t t_now,
	  uint8_t head[OR_AUDIT_HASH_LEN], uint64_t cnt[2], unsigned *bad)
{
	MDB_cursor *cur = NULL, *acur = NULL;
	struct or_audit_entry e;
	unsigned k, i = 0;
	int rc;

	rc = mdb_cursor_open(txn, s->db_consent, &cur);
	if (rc != 0)
		goto out;
	for (k = 0; k < n; k++) {
		i = s->scratch[k].idx;
		rc = apply_record(pol, cur, &ch[i], last + 1 + i,
				  ch[i].time_ms ? ch[i].time_ms : t_now, cnt,
				  &s->out[i]);
		if (rc != 0)
			goto out;
	}
	mdb_cursor_close(cur);
	cur = NULL;

	if ((rc = mdb_cursor_open(txn, s->db_audit, &acur)) != 0 ||
	    (rc = mdb_cursor_open(txn, s->db_audit_tok, &cur)) != 0)
		goto out;
	memset(&e, 0, sizeof(e));
	for (i = 0; i < n; i++) {
		e.seq = last + 1 + i;
		e.time_ms = ch[i].time_ms ? ch[i].time_ms : t_now;
		e.token = ch[i].token;
		e.action = ch[i].action;
		e.method = ch[i].method;
		e.epoch = ch[i].epoch;
		e.flags = s->out[i].flags;
		e.node = s->out[i].node;
		e.notice_version = ch[i].notice_version;
		memcpy(e.prev_hash, head, OR_AUDIT_HASH_LEN);
		rc = or_audit_append(acur, &e);
		if (rc != 0)
			goto out;
		memcpy(head, e.hash, OR_AUDIT_HASH_LEN);
	}
	/* Index rows only for the events no record names any more: a first
	 * opt-in (the bulk of an import) writes none, so it dirties one
	 * random leaf (its record's) instead of two. */
	for (k = 0; k < n; k++) {
		i = s->scratch[k].idx;
		if (s->out[i].idx_prev != 0 &&
		    (rc = or_audit_index_prev(cur, &ch[i].token,
					      s->out[i].idx_prev)) != 0)
			goto out;
		if (s->out[i].idx_self &&
		    (rc = or_audit_index(cur, &ch[i].token, last + 1 + i)) != 0)
			goto out;
	}
out:
	*bad = i;
	if (acur != NULL)
		mdb_cursor_close(acur);
	if (cur != NULL)
		mdb_cursor_close(cur);
	return rc;
}

int
or_store_apply(struct or_store *s, const struct or_node_policy *pol,
	       const struct or_change *ch, unsigned n,
	       struct or_change_result *res, uint64_t *first_seq,
	       struct or_err *err)
{
	uint8_t head[OR_AUDIT_HASH_LEN];
	uint64_t last, cnt[2], t_now;
	MDB_txn *txn;
	unsigned bad;
	int rc;

	if (first_seq != NULL)
		*first_seq = 0;
	if (s->read_only) {
		or_err_set(err, "store: opened read-only");
		return -EROFS;
	}
	if (n > OR_STORE_APPLY_MAX) {
		or_err_set(err, "store: batch of %u changes exceeds %u", n,
			   OR_STORE_APPLY_MAX);
		return -E2BIG;
	}
	if (n == 0)
		return 0;
	rc = or_changes_check(pol, ch, n, err);
	if (rc < 0)
		return rc;
	t_now = or_store_now_ms();

	rc = mdb_txn_begin(s->env, NULL, 0, &txn);
	if (rc != 0)
		return or_store_errno(rc, "store: begin", err);
	/* From here on this thread is the only writer. */
	rc = apply_sort(s, ch, n);
	if (rc < 0) {
		or_err_set(err, "out of memory");
		goto abort;
	}
	if ((rc = or_audit_read_head(s, txn, &last, head)) < 0 ||
	    (rc = or_meta_get_u64(s, txn, OR_META_N_IN, &cnt[0])) < 0 ||
	    (rc = or_meta_get_u64(s, txn, OR_META_N_OUT, &cnt[1])) < 0) {
		or_err_set(err, "store: meta data or audit head corrupt");
		goto abort;
	}
	rc = apply_all(s, txn, pol, ch, n, last, t_now, head, cnt, &bad);
	if (rc == APPLY_NOT_IN) {
		or_err_set(err,
			   "change %u: a key is issued only to an opted-in subject",
			   bad);
		rc = -EINVAL;
		goto abort;
	}
	if (rc != 0) {
		char what[48];

		snprintf(what, sizeof(what), "store: change %u", bad);
		rc = or_store_errno(rc, what, err);
		goto abort;
	}
	if ((rc = or_meta_put_head(s, txn, last + n, head)) ||
	    (rc = or_meta_put_u64(s, txn, OR_META_N_IN, cnt[0])) ||
	    (rc = or_meta_put_u64(s, txn, OR_META_N_OUT, cnt[1]))) {
		rc = or_store_errno(rc, "store: write meta", err);
		goto abort;
	}
	if (res != NULL)
		for (unsigned i = 0; i < n; i++)
			res[i] = (struct or_change_result){
				.seq = last + 1 + i,
				.rec = s->out[i].rec,
				.prev_rec = s->out[i].prev_rec,
			};
	/* The commit fsyncs; only now may the changes be acknowledged. */
	rc = mdb_txn_commit(txn);
	if (rc != 0)
		return or_store_errno(rc, "store: commit", err);
	if (first_seq != NULL)
		*first_seq = last + 1;
	return 0;
abort:
	mdb_txn_abort(txn);
	return rc;
}
