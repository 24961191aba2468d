/* SPDX-License-Identifier: BSD-3-Clause
 *
 * What one change does to a consent record (consent_next.h).
 */
#include <errno.h>
#include <string.h>

#include "control/store/consent_next.h"

static int
policy_valid(const struct or_node_policy *p)
{
	if (p == NULL)
		return 0;
	if (p->kind == OR_NODE_POLICY_HASH)
		return p->n_nodes >= 1 && p->n_nodes <= OR_NODE_MAX + 1u;
	return p->kind == OR_NODE_POLICY_FIXED;
}

int
or_changes_check(const struct or_node_policy *pol, const struct or_change *ch,
		 unsigned n, struct or_err *err)
{
	for (unsigned i = 0; i < n; i++) {
		const struct or_change *c = &ch[i];

		if (c->action < 1 || c->action > OR_ACT_CHANGE_MAX) {
			or_err_set(err, "change %u: unknown action %u", i,
				   c->action);
			return -EINVAL;
		}
		if (c->method < 1 || c->method > OR_METHOD_MAX) {
			or_err_set(err, "change %u: unknown method %u", i,
				   c->method);
			return -EINVAL;
		}
		if (c->action != OR_ACT_OPTIN && c->node != -1) {
			or_err_set(err, "change %u: only an opt-in sets a node",
				   i);
			return -EINVAL;
		}
		if (c->node < -1 || c->node > (int32_t)OR_NODE_MAX) {
			or_err_set(err, "change %u: node out of range 0..%u", i,
				   OR_NODE_MAX);
			return -EINVAL;
		}
		if (c->action == OR_ACT_OPTIN && c->node == -1 &&
		    !policy_valid(pol)) {
			or_err_set(err,
				   "change %u: opt-in without a node needs a valid node policy",
				   i);
			return -EINVAL;
		}
	}
	return 0;
}

void
or_consent_next(const struct or_node_policy *pol, const struct or_change *c,
		const struct or_consent *old, uint64_t seq, uint64_t t,
		struct or_consent *nw)
{
	if (old != NULL)
		*nw = *old;
	else
		memset(nw, 0, sizeof(*nw));
	nw->token = c->token;
	nw->epoch = c->epoch;
	nw->method = c->method;
	nw->notice_version = c->notice_version;
	nw->seq = seq;
	if (c->action == OR_ACT_OPTIN) {
		nw->state = OR_STATE_IN;
		nw->granted_ms = t;
		nw->withdrawn_ms = 0;
		if (c->node >= 0) {
			nw->node = (uint16_t)c->node;
			nw->flags |= OR_CFLAG_PINNED;
		} else if (!(nw->flags & OR_CFLAG_PINNED)) {
			nw->node = or_node_pick(pol, &c->token);
		}
	} else { /* OPTOUT: node and flags kept (0 for a new record) */
		nw->state = OR_STATE_OUT;
		nw->withdrawn_ms = t;
	}
}

int
or_consent_from_entry(const struct or_audit_entry *e,
		      const struct or_consent *old, struct or_consent *nw)
{
	struct or_change c = {
		.token = e->token,
		.action = e->action,
		.method = e->method,
		.epoch = e->epoch,
		.node = -1,
		.notice_version = e->notice_version,
		.time_ms = e->time_ms,
	};

	/* Where or_consent_next would ask the node policy, the entry says
	 * what it answered (a policy that always picks it); the flags after
	 * are the entry's too. */
	const struct or_node_policy as_written = {
		.kind = OR_NODE_POLICY_FIXED,
		.node = e->node,
	};

	switch (e->action) {
	case OR_ACT_OPTIN:
	case OR_ACT_OPTOUT:
		or_consent_next(&as_written, &c, old, e->seq, e->time_ms, nw);
		nw->node = e->node;
		nw->flags = e->flags;
		return 1;
	case OR_ACT_ERASE:
		return 0;
	case OR_ACT_KEY:
		/* Audited, not stored: the record stays as it was. */
		if (old == NULL || old->state != OR_STATE_IN)
			return -EBADMSG;
		*nw = *old;
		return 1;
	default:
		return -EBADMSG;
	}
}
