/* SPDX-License-Identifier: BSD-3-Clause
 *
 * Group commit (cp_srv.h): the changes of the requests collected in one
 * group go to the store in ONE transaction; only then are those requests
 * answered, or parked until the dataplane acknowledges their seq
 * (cp_pend.c), and the changes handed to the channel thread (dplink/).
 * Event loop thread only. The loop (loop/cp_srv.c) decides when a group
 * is committed.
 */
#include <errno.h>

#include "control/daemon/cp_log.h"
#include "control/daemon/loop/cp_srv_priv.h"

#include "cp_act.h"

/* Committed: fills the replies of the group's requests and sends those
 * that do not wait. */
static void
cp_committed(struct cp_srv *s, struct cp_pend *p, uint64_t first)
{
	struct cp_daemon *d = s->d;

	cp_act_committed(d, p->cmd, p->reply, s->ch + p->ch_first,
			 s->res + p->ch_first, p->ch_n, first);
	p->seq = first + p->ch_n - 1;
	if (!p->wait) {
		cp_pend_done(s, p);
		return;
	}
	/* Timings of a wait request: request -> committed (fsync'ed). */
	json_object_set_new(p->reply, "commit_us",
			    json_integer((json_int_t)cp_elapsed(p->commit_us,
								p->recv_us)));
	d->cnt.waits++;
	p->kind = P_WAIT;
	p->deadline_ms = cp_now_ms() + d->cfg->wait_timeout_ms;
}

static int
cp_apply(struct cp_srv *s, unsigned first, unsigned n, uint64_t *seq,
	 struct or_err *err)
{
	struct cp_daemon *d = s->d;
	uint64_t t0 = cp_now_us(), dt;
	int rc;

	rc = or_store_apply(d->store, &d->cfg->node_policy, s->ch + first, n,
			    s->res + first, seq, err);
	s->commit_done_us = cp_now_us();
	dt = s->commit_done_us - t0;
	if (rc < 0) {
		d->cnt.commit_failures++;
		return rc;
	}
	d->cnt.commits++;
	d->cnt.commit_changes += n;
	d->cnt.commit_us_total += dt;
	if (n > d->cnt.commit_max)
		d->cnt.commit_max = n;
	if (dt > d->cnt.commit_us_max)
		d->cnt.commit_us_max = dt;
	d->committed_seq = *seq + n - 1;
	cp_link_enqueue(d->link, *seq, s->ch + first, s->res + first, n);
	return 0;
}

/* Applies the group in one transaction. If the store refuses the group
 * as a whole (a bad change), each request is applied on its own so one
 * bad request cannot fail the others. */
void
cp_commit(struct cp_srv *s)
{
	struct or_err err = { "" };
	struct cp_pend *p, *next;
	uint64_t first = 0;
	unsigned n = s->n;
	int rc, several = 0;

	if (n == 0)
		return;
	s->n = 0;
	rc = cp_apply(s, 0, n, &first, &err);
	if (rc < 0) {
		CP_ERR("commit of %u changes failed: %s", n, err.msg);
		for (p = s->pends; p != NULL; p = p->next)
			several += p->kind == P_COMMIT;
	}
	for (p = s->pends; p != NULL; p = next) {
		uint64_t seq;

		next = p->next;
		if (p->kind != P_COMMIT)
			continue;
		if (p->cl != NULL)
			p->cl->ncommit--;
		if (rc == 0) {
			p->commit_us = s->commit_done_us;
			cp_committed(s, p, first + p->ch_first);
			continue;
		}
		if (rc == -EINVAL && several > 1 &&
		    cp_apply(s, p->ch_first, p->ch_n, &seq, &err) == 0) {
			p->commit_us = s->commit_done_us;
			cp_committed(s, p, seq);
			continue;
		}
		cp_act_not_committed(p->reply);
		cp_pend_error(s, p, OR_MGMT_E_STORE, err.msg);
	}
}
