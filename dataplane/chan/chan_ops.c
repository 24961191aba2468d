/* SPDX-License-Identifier: BSD-3-Clause
 *
 * Applying the ops of one BATCH / RESYNC_DATA message to the table.
 *
 * An upsert that needs a cuckoo move in the live table gets -EAGAIN: the
 * slot the move vacates can be reused only after a grace period
 * (ctable.h). Calling ct_sync() for each such op would cost one grace
 * period per op, thousands per message under load. Instead the op is set
 * aside, the rest of the message is applied, then one ct_sync() lets every
 * deferred op advance by one hop; this repeats at most CHAN_DEFER_ROUNDS
 * times, so a message costs about as many grace periods as its longest
 * cuckoo path.
 *
 * Order per token is kept: once an op on a token is deferred, every later
 * op of the message on that token is deferred behind it. Ops on different
 * tokens commute, so their relative order does not matter.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "optroute/ctable.h"
#include "chan_priv.h"

struct chan_defer {
	uint32_t idx[OR_CHAN_MAX_OPS]; /* deferred op indexes, in order */
	uint32_t n;
	uint16_t set[CHAN_DEFER_SET];  /* open addressing: op index + 1 */
};

static uint32_t
chan_tok_hash(const struct or_token *t)
{
	uint32_t h;

	/* Tokens are keyed hashes already: any 4 bytes are uniform. */
	memcpy(&h, t->b, sizeof(h));
	return h & (CHAN_DEFER_SET - 1);
}

static int
chan_set_has(const struct chan_defer *d, const struct or_chan_op *ops,
	     const struct or_token *t)
{
	for (uint32_t i = chan_tok_hash(t); d->set[i] != 0;
	     i = (i + 1) & (CHAN_DEFER_SET - 1))
		if (or_token_eq(&ops[d->set[i] - 1].token, t))
			return 1;
	return 0;
}

static void
chan_defer_op(struct chan_defer *d, const struct or_chan_op *ops, uint32_t i)
{
	uint32_t h = chan_tok_hash(&ops[i].token);

	d->idx[d->n++] = i;
	/* At most OR_CHAN_MAX_OPS entries in a set twice that size: a free
	 * slot is always found. */
	while (d->set[h] != 0)
		h = (h + 1) & (CHAN_DEFER_SET - 1);
	d->set[h] = (uint16_t)(i + 1);
}

/* One op; -EAGAIN means "defer". */
static int
chan_apply_one(struct or_updater *u, const struct or_chan_op *o, int resync,
	       struct chan_op_result *r, uint32_t i)
{
	int rc;

	if (o->op == OR_CHAN_OP_UPSERT) {
		rc = resync ? ct_replace_upsert(u->t, &o->token, o->rec) :
			      ct_upsert(u->t, &o->token, o->rec);
		if (rc == -EAGAIN)
			return rc;
		r->upserts += rc == 0;
	} else {
		rc = ct_delete(u->t, &o->token);
		if (rc == -ENOENT) { /* already gone: not an error */
			r->missing++;
			rc = 0;
		} else {
			r->deletes += rc == 0;
		}
	}
	if (rc < 0)
		chan_op_failed(u, r, i, rc);
	return 0;
}

void
chan_op_failed(struct or_updater *u, struct chan_op_result *r, uint32_t i,
	       int rc)
{
	if (r->failed++ == 0 || i < r->first) {
		r->first = i;
		r->first_rc = rc;
	}
	if (rc == -ENOSPC)
		CHAN_INC(u, nospc);
}

/* Applies ops in order, deferring as described above. */
static void
chan_pass(struct or_updater *u, const struct or_chan_op *ops,
	  const uint32_t *idx, uint32_t n, int resync, struct chan_defer *out,
	  struct chan_op_result *r)
{
	out->n = 0;
	memset(out->set, 0, sizeof(out->set));
	for (uint32_t k = 0; k < n; k++) {
		uint32_t i = idx != NULL ? idx[k] : k;

		if ((out->n > 0 && chan_set_has(out, ops, &ops[i].token)) ||
		    chan_apply_one(u, &ops[i], resync, r, i) == -EAGAIN)
			chan_defer_op(out, ops, i);
	}
}

void
chan_apply_ops(struct or_updater *u, const struct or_chan_op *ops, uint32_t n,
	       int resync, struct chan_op_result *r)
{
	struct chan_defer *cur = u->defer[0], *next = u->defer[1], *tmp;
	unsigned round;

	memset(r, 0, sizeof(*r));
	chan_pass(u, ops, NULL, n, resync, cur, r);
	for (round = 0; cur->n > 0 && round < CHAN_DEFER_ROUNDS; round++) {
		/* One grace period lets every deferred op take its next hop. */
		ct_sync(u->t);
		CHAN_INC(u, syncs);
		chan_pass(u, ops, cur->idx, cur->n, resync, next, r);
		tmp = cur;
		cur = next;
		next = tmp;
	}
	for (uint32_t k = 0; k < cur->n; k++)
		chan_op_failed(u, r, cur->idx[k], -EAGAIN);
}

int
chan_defer_alloc(struct or_updater *u)
{
	for (int i = 0; i < 2; i++) {
		u->defer[i] = calloc(1, sizeof(struct chan_defer));
		if (u->defer[i] == NULL)
			return -ENOMEM;
	}
	return 0;
}

void
chan_defer_free(struct or_updater *u)
{
	for (int i = 0; i < 2; i++) {
		free(u->defer[i]);
		u->defer[i] = NULL;
	}
}
