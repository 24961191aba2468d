/* SPDX-License-Identifier: BSD-3-Clause
 *
 * The system of record (sor.h): picks the backend, then hands every call
 * to it (sor_priv.h).
 */
#include <errno.h>
#include <string.h>

#include "sor_priv.h"

static const struct or_sor_ops *const sor_backends[] = {
	&or_sor_lmdb_ops,
	&or_sor_pg_ops,
};

int
or_sor_open(const struct or_sor_conf *conf, struct or_sor **out,
	    struct or_err *err)
{
	const char *name = conf->backend != NULL ? conf->backend
						 : OR_SOR_BACKEND_LMDB;

	for (size_t i = 0; i < sizeof(sor_backends) / sizeof(sor_backends[0]);
	     i++)
		if (strcmp(sor_backends[i]->name, name) == 0)
			return sor_backends[i]->open(conf, out, err);
	or_err_set(err, "unknown store backend '%s'", name);
	return -EINVAL;
}

int
or_sor_start(struct or_sor *s)
{
	return s->ops->start != NULL ? s->ops->start(s) : 0;
}

void
or_sor_stop(struct or_sor *s)
{
	if (s != NULL && s->ops->stop != NULL)
		s->ops->stop(s);
}

void
or_sor_close(struct or_sor *s)
{
	if (s != NULL)
		s->ops->close(s);
}

int
or_sor_commit_submit(struct or_sor *s, struct or_sor_group *g)
{
	return s->ops->commit_submit(s, g);
}

int
or_sor_commit_fd(const struct or_sor *s)
{
	return s->commit_fd;
}

struct or_sor_group *
or_sor_commit_take(struct or_sor *s)
{
	return s->ops->commit_take(s);
}

int
or_sor_get(struct or_sor *s, const struct or_token *t, struct or_consent *out)
{
	return s->ops->get(s, t, out);
}

int
or_sor_snapshot(struct or_sor *s, struct or_store_entry *buf, unsigned cap,
		or_store_chunk_cb cb, void *arg, uint64_t *snap_seq,
		struct or_err *err)
{
	return s->ops->snapshot(s, buf, cap, cb, arg, snap_seq, err);
}

int
or_sor_hash_at(struct or_sor *s, uint64_t seq,
	       uint8_t hash[OR_AUDIT_HASH_LEN], struct or_err *err)
{
	return s->ops->hash_at(s, seq, hash, err);
}

int
or_sor_changes_since(struct or_sor *s, uint64_t seq,
		     const uint8_t hash[OR_AUDIT_HASH_LEN], uint64_t max,
		     struct or_store_entry *buf, unsigned cap,
		     or_store_chunk_cb cb, void *arg, uint64_t *snap_seq,
		     struct or_err *err)
{
	return s->ops->changes_since(s, seq, hash, max, buf, cap, cb, arg,
				     snap_seq, err);
}

int
or_sor_auth_get(struct or_sor *s, struct or_auth_state *st, struct or_err *err)
{
	return s->ops->auth_get(s, st, err);
}

int
or_sor_stats(struct or_sor *s, struct or_store_stats *st, struct or_err *err)
{
	return s->ops->stats(s, st, err);
}

int
or_sor_auth_rotate(struct or_sor *s, struct or_auth_state *st,
		   struct or_err *err)
{
	return s->ops->auth_change(s, 1, st, err);
}

int
or_sor_auth_retire(struct or_sor *s, struct or_auth_state *st,
		   struct or_err *err)
{
	return s->ops->auth_change(s, 0, st, err);
}

int
or_sor_audit_subject(struct or_sor *s, const struct or_token *t,
		     struct or_audit_entry **out, size_t *n, uint64_t *bad_seq,
		     struct or_err *err)
{
	return s->ops->audit_subject(s, t, out, n, bad_seq, err);
}

int
or_sor_audit_verify(struct or_sor *s, const volatile int *cancel,
		    uint64_t *bad_seq, uint64_t *n_checked, struct or_err *err)
{
	return s->ops->audit_verify(s, cancel, bad_seq, n_checked, err);
}

int
or_sor_audit_head(struct or_sor *s, uint64_t *seq,
		  uint8_t hash[OR_AUDIT_HASH_LEN], struct or_err *err)
{
	return s->ops->audit_head(s, seq, hash, err);
}

void
or_sor_enforced(struct or_sor *s, uint64_t seq, uint64_t keys_seq)
{
	if (s->ops->enforced != NULL)
		s->ops->enforced(s, seq, keys_seq);
}

int
or_sor_forget(struct or_sor *s, const char *name, struct or_err *err)
{
	if (s->ops->forget == NULL) {
		or_err_set(err, "not a fleet (store = lmdb): no appliance to "
			   "forget");
		return -EOPNOTSUPP;
	}
	return s->ops->forget(s, name, err);
}

int
or_sor_read_pos(struct or_sor *s, struct or_sor_read_pos *rp,
		struct or_err *err)
{
	uint8_t hash[OR_AUDIT_HASH_LEN];

	memset(rp, 0, sizeof(*rp));
	if (s->ops->read_pos == NULL) /* every commit is in the store */
		return s->ops->audit_head(s, &rp->seq, hash, err);
	return s->ops->read_pos(s, rp, err);
}

void
or_sor_fleet(struct or_sor *s, struct or_sor_fleet *f)
{
	memset(f, 0, sizeof(*f));
	if (s->ops->fleet != NULL)
		s->ops->fleet(s, f);
}
