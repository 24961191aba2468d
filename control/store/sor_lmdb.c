/* SPDX-License-Identifier: BSD-3-Clause
 *
 * The "lmdb" backend of the system of record (sor.h): the local LMDB store
 * (store.h, audit.h) is the record. A group is committed in place, inside
 * or_sor_commit_submit(): one or_store_apply() (one write transaction, one
 * fsync), then the sink hears of the committed changes, and the group is
 * done (commit_take returns it at once; there is no commit_fd). Reads go
 * to the store as they are.
 */
#include <errno.h>
#include <stdlib.h>

#include "sor_priv.h"

struct sor_lmdb {
	struct or_sor base; /* first: the handle callers hold */
	struct or_store *st;
	struct or_node_policy pol;
	int has_pol;
	int owns_st;               /* opened here: closed by close */
	struct or_sor_group *done; /* event loop only */
};

static struct sor_lmdb *
sor_lmdb(struct or_sor *s)
{
	return (struct sor_lmdb *)s;
}

int
or_sor_lmdb_attach(struct or_store *st, const struct or_sor_conf *conf,
		   struct or_sor **out)
{
	struct sor_lmdb *l = calloc(1, sizeof(*l));

	if (l == NULL)
		return -ENOMEM;
	l->st = st;
	l->base.ops = &or_sor_lmdb_ops;
	l->base.sink = conf->sink;
	l->base.commit_fd = -1;
	if (conf->node_policy != NULL) {
		l->pol = *conf->node_policy;
		l->has_pol = 1;
	}
	*out = &l->base;
	return 0;
}

static int
sor_lmdb_open(const struct or_sor_conf *conf, struct or_sor **out,
	      struct or_err *err)
{
	struct or_store *st;
	int rc;

	rc = or_store_open(&conf->store, &st, err);
	if (rc < 0)
		return rc;
	rc = or_sor_lmdb_attach(st, conf, out);
	if (rc < 0) {
		or_err_set(err, "out of memory");
		or_store_close(st);
		return rc;
	}
	sor_lmdb(*out)->owns_st = 1;
	return 0;
}

static void
sor_lmdb_close(struct or_sor *s)
{
	struct sor_lmdb *l = sor_lmdb(s);

	if (l->owns_st)
		or_store_close(l->st);
	free(l);
}

static int
sor_lmdb_commit_submit(struct or_sor *s, struct or_sor_group *g)
{
	struct sor_lmdb *l = sor_lmdb(s);
	const struct or_sor_sink *k = &s->sink;

	if (l->done != NULL)
		return -EBUSY;
	g->err.msg[0] = '\0';
	g->first_seq = 0;
	g->rc = or_store_apply(l->st, l->has_pol ? &l->pol : NULL, g->ch, g->n,
			       g->res, &g->first_seq, &g->err);
	g->outcome = g->rc == 0 ? OR_SOR_COMMITTED : OR_SOR_NOT_COMMITTED;
	if (g->rc == 0 && g->n > 0 && k->applied != NULL)
		k->applied(k->arg, g->first_seq, g->ch, g->res, g->n);
	l->done = g;
	return 0;
}

static struct or_sor_group *
sor_lmdb_commit_take(struct or_sor *s)
{
	struct sor_lmdb *l = sor_lmdb(s);
	struct or_sor_group *g = l->done;

	l->done = NULL;
	return g;
}

static int
sor_lmdb_get(struct or_sor *s, const struct or_token *t,
	     struct or_consent *out)
{
	return or_store_get(sor_lmdb(s)->st, t, out);
}

static int
sor_lmdb_snapshot(struct or_sor *s, struct or_store_entry *buf, unsigned cap,
		  or_store_chunk_cb cb, void *arg, uint64_t *snap_seq,
		  struct or_err *err)
{
	return or_store_snapshot(sor_lmdb(s)->st, buf, cap, cb, arg, snap_seq,
				 err);
}

static int
sor_lmdb_hash_at(struct or_sor *s, uint64_t seq,
		 uint8_t hash[OR_AUDIT_HASH_LEN], struct or_err *err)
{
	return or_audit_hash_at(sor_lmdb(s)->st, seq, hash, err);
}

static int
sor_lmdb_changes_since(struct or_sor *s, uint64_t seq,
		       const uint8_t hash[OR_AUDIT_HASH_LEN], uint64_t max,
		       struct or_store_entry *buf, unsigned cap,
		       or_store_chunk_cb cb, void *arg, uint64_t *snap_seq,
		       struct or_err *err)
{
	return or_audit_changes_since(sor_lmdb(s)->st, seq, hash, max, buf,
				      cap, cb, arg, snap_seq, err);
}

static int
sor_lmdb_auth_get(struct or_sor *s, struct or_auth_state *st,
		  struct or_err *err)
{
	return or_store_auth_get(sor_lmdb(s)->st, st, err);
}

static int
sor_lmdb_stats(struct or_sor *s, struct or_store_stats *st,
	       struct or_err *err)
{
	return or_store_stats(sor_lmdb(s)->st, st, err);
}

/* One write transaction of its own (store.h); its seq changes no entry,
 * so the sink gets it without a change, then the new state. */
static int
sor_lmdb_auth_change(struct or_sor *s, int rotate, struct or_auth_state *st,
		     struct or_err *err)
{
	const struct or_sor_sink *k = &s->sink;
	int rc = rotate ? or_store_auth_rotate(sor_lmdb(s)->st, 0, st, err)
			: or_store_auth_retire(sor_lmdb(s)->st, 0, st, err);

	if (rc < 0)
		return rc;
	if (k->applied != NULL)
		k->applied(k->arg, st->seq, NULL, NULL, 1);
	if (k->auth_changed != NULL)
		k->auth_changed(k->arg);
	return 0;
}

static int
sor_lmdb_audit_subject(struct or_sor *s, const struct or_token *t,
		       struct or_audit_entry **out, size_t *n,
		       uint64_t *bad_seq, struct or_err *err)
{
	return or_audit_subject(sor_lmdb(s)->st, t, out, n, bad_seq, err);
}

static int
sor_lmdb_audit_verify(struct or_sor *s, const volatile int *cancel,
		      uint64_t *bad_seq, uint64_t *n_checked,
		      struct or_err *err)
{
	return or_audit_verify_cancel(sor_lmdb(s)->st, cancel, bad_seq,
				      n_checked, err);
}

static int
sor_lmdb_audit_head(struct or_sor *s, uint64_t *seq,
		    uint8_t hash[OR_AUDIT_HASH_LEN], struct or_err *err)
{
	return or_audit_head(sor_lmdb(s)->st, seq, hash, err);
}

const struct or_sor_ops or_sor_lmdb_ops = {
	.name = OR_SOR_BACKEND_LMDB,
	.open = sor_lmdb_open,
	.close = sor_lmdb_close,
	.commit_submit = sor_lmdb_commit_submit,
	.commit_take = sor_lmdb_commit_take,
	.get = sor_lmdb_get,
	.snapshot = sor_lmdb_snapshot,
	.hash_at = sor_lmdb_hash_at,
	.changes_since = sor_lmdb_changes_since,
	.auth_get = sor_lmdb_auth_get,
	.stats = sor_lmdb_stats,
	.auth_change = sor_lmdb_auth_change,
	.audit_subject = sor_lmdb_audit_subject,
	.audit_verify = sor_lmdb_audit_verify,
	.audit_head = sor_lmdb_audit_head,
};
