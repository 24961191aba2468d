/* SPDX-License-Identifier: BSD-3-Clause
 *
 * Group commit (cp_srv.h): the changes of the requests collected in one
 * group go to the system of record as ONE group (control/store/sor.h:
 * submit, then take; LMDB: one transaction, one fsync, done in place);
 * only then are those requests answered, or parked until the dataplane
 * acknowledges their seq (cp_pend.c). The store hands the committed
 * changes to the channel thread itself (its sink, cp_main.c). Event loop
 * thread only; the loop (loop/cp_srv.c) decides when a group is
 * committed.
 */
#include <errno.h>
#include <poll.h>
#include <string.h>

#include "control/daemon/cp_log.h"
#include "control/daemon/loop/cp_srv_priv.h"

#include "cp_act.h"

/* Committed: fills the replies of the group's requests and sends those
 * that do not wait. */
static void
cp_committed(struct cp_srv *s, struct cp_pend *p, uint64_t first)
{
	struct cp_daemon *d = s->d;

	cp_act_committed(d, p->cmd, p->reply, s->ch[s->flight_buf] + p->ch_first,
			 s->res[s->flight_buf] + p->ch_first, p->ch_n, first);
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

/* The figures of a group done now, submitted at t0 (cp_now_us). */
static void
cp_commit_count(struct cp_srv *s, const struct or_sor_group *g, uint64_t t0)
{
	struct cp_counters *c = &s->d->cnt;
	uint64_t dt;

	s->commit_done_us = cp_now_us();
	dt = s->commit_done_us - t0;
	if (g->outcome != OR_SOR_COMMITTED) {
		c->commit_failures++;
		return;
	}
	c->commits++;
	c->commit_changes += g->n;
	c->commit_us_total += dt;
	if (g->n > c->commit_max)
		c->commit_max = g->n;
	if (dt > c->commit_us_max)
		c->commit_us_max = dt;
	s->d->committed_seq = g->first_seq + g->n - 1;
}

/* A group the store did not take (unreachable, or one in flight). */
static void
cp_commit_refused(struct or_sor_group *g, int rc)
{
	g->outcome = OR_SOR_NOT_COMMITTED;
	g->rc = rc;
	or_err_set(&g->err, "the store did not take the changes (%s)",
		   strerror(-rc));
}

/* One request's changes alone (cp_commit_done: the group as a whole was
 * refused). A backend that completes later is waited for: the loop blocks
 * for each such request, which only a refused group costs. 0 with *seq,
 * or -errno with err. */
static int
cp_commit_alone(struct cp_srv *s, const struct cp_pend *p, uint64_t *seq,
		struct or_err *err)
{
	struct or_sor_group one = { .ch = s->ch[s->flight_buf] + p->ch_first,
				    .n = p->ch_n,
				    .res = s->res[s->flight_buf] + p->ch_first };
	uint64_t t0 = cp_now_us();
	int rc;

	rc = or_sor_commit_submit(s->d->sor, &one);
	if (rc < 0) {
		cp_commit_refused(&one, rc);
	} else {
		struct or_sor_group *g;
		int fd = or_sor_commit_fd(s->d->sor);

		while ((g = or_sor_commit_take(s->d->sor)) == NULL) {
			struct pollfd pf = { .fd = fd, .events = POLLIN };

			if (fd < 0 || poll(&pf, 1, 1000) < 0)
				return -EIO;
		}
		if (g != &one)
			return -EIO;
	}
	cp_commit_count(s, &one, t0);
	if (one.outcome != OR_SOR_COMMITTED) {
		*err = one.err;
		return one.rc < 0 ? one.rc : -EIO;
	}
	*seq = one.first_seq;
	return 0;
}

/* The group g is done: answers or parks its requests. If the store
 * refused the group as a whole (a bad change), each request is committed
 * on its own, so one bad request cannot fail the others. */
static void
cp_commit_done(struct cp_srv *s, struct or_sor_group *g)
{
	struct cp_pend *p, *next;
	int committed, several = 0, alone;

	s->inflight = 0;
	cp_commit_count(s, g, s->commit_t0);
	committed = g->outcome == OR_SOR_COMMITTED;
	if (!committed) {
		CP_ERR("commit of %u changes failed: %s", g->n, g->err.msg);
		for (p = s->pends; p != NULL; p = p->next)
			several += p->kind == P_COMMIT &&
				   p->group == s->flight_no;
	}
	alone = !committed && g->rc == -EINVAL && several > 1;
	for (p = s->pends; p != NULL; p = next) {
		struct or_err err = g->err;
		uint64_t seq;

		next = p->next;
		if (p->kind != P_COMMIT || p->group != s->flight_no)
			continue;
		if (p->cl != NULL)
			p->cl->ncommit--;
		if (committed) {
			p->commit_us = s->commit_done_us;
			cp_committed(s, p, g->first_seq + p->ch_first);
			continue;
		}
		if (alone && cp_commit_alone(s, p, &seq, &err) == 0) {
			p->commit_us = s->commit_done_us;
			cp_committed(s, p, seq);
			continue;
		}
		cp_act_not_committed(p->reply);
		/* Lost with the connection: it may be committed (docs/fleet.md
		 * section 4); the client asks status once the record is back. */
		cp_pend_error(s, p, g->outcome == OR_SOR_UNKNOWN
					    ? OR_MGMT_E_COMMIT_UNKNOWN
					    : OR_MGMT_E_STORE,
			      err.msg);
	}
}

void
cp_commit(struct cp_srv *s)
{
	struct or_sor_group *g = &s->group;
	int rc;

	if (s->n == 0 || s->inflight)
		return;
	*g = (struct or_sor_group){ .ch = s->ch[s->cur], .n = s->n,
				    .res = s->res[s->cur] };
	/* The next requests go to the other buffer, into the next group. */
	s->flight_buf = s->cur;
	s->flight_no = s->group_no;
	s->cur ^= 1;
	s->group_no++;
	s->n = 0;
	s->inflight = 1;
	s->commit_t0 = cp_now_us();
	rc = or_sor_commit_submit(s->d->sor, g);
	if (rc < 0) {
		cp_commit_refused(g, rc);
		cp_commit_done(s, g);
		return;
	}
	/* The LMDB backend is done already; another one reports through
	 * or_sor_commit_fd (cp_on_commit). */
	g = or_sor_commit_take(s->d->sor);
	if (g != NULL)
		cp_commit_done(s, g);
}

void
cp_on_commit(struct cp_srv *s)
{
	struct or_sor_group *g = or_sor_commit_take(s->d->sor);

	if (g != NULL)
		cp_commit_done(s, g);
}

/* Until the group in flight is done. The backend bounds a group's time
 * (PostgreSQL: its commit timeout), so this ends. */
static void
cp_commit_wait(struct cp_srv *s)
{
	int fd = or_sor_commit_fd(s->d->sor);

	while (s->inflight && fd >= 0) {
		struct pollfd pf = { .fd = fd, .events = POLLIN };

		if (poll(&pf, 1, 1000) > 0)
			cp_on_commit(s);
	}
}

void
cp_commit_room(struct cp_srv *s)
{
	cp_commit_wait(s);
	cp_commit(s);
}

void
cp_commit_flush(struct cp_srv *s)
{
	cp_commit_room(s);
	cp_commit_wait(s);
}
