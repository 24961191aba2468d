/* SPDX-License-Identifier: BSD-3-Clause
 *
 * The management event loop's replies that wait (cp_srv_priv.h): the
 * pending list, the audit verification job and the channel thread's
 * events (dataplane counters, acks, timeouts).
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "control/daemon/loop/cp_srv_priv.h"

#include "cp_act.h"
#include "cp_fleet.h"

struct cp_pend *
cp_pend_new(struct cp_srv *s, struct cp_client *cl, json_t *reply,
	    enum or_mgmt_cmd cmd, enum cp_pend_kind kind)
{
	struct cp_pend *p = calloc(1, sizeof(*p));

	if (p == NULL)
		return NULL;
	p->cl = cl;
	p->reply = reply;
	p->cmd = cmd;
	p->kind = kind;
	/* Append: replies of one round keep arrival order. */
	if (s->pends == NULL) {
		s->pends = p;
		p->prev = p;
	} else {
		p->prev = s->pends->prev;
		s->pends->prev->next = p;
		s->pends->prev = p;
	}
	cl->npend++;
	cl->ncommit += kind == P_COMMIT;
	s->d->pending++;
	return p;
}

/* Sends the pending reply (if its client is still there) and frees it. */
void
cp_pend_done(struct cp_srv *s, struct cp_pend *p)
{
	if (p->next != NULL)
		p->next->prev = p->prev;
	else
		s->pends->prev = p->prev;
	if (p == s->pends)
		s->pends = p->next;
	else
		p->prev->next = p->next;
	if (p->cl != NULL)
		p->cl->npend--;
	s->d->pending--;
	cp_send(s, p->cl, p->reply);
	free(p);
}

void
cp_pend_error(struct cp_srv *s, struct cp_pend *p, enum or_mgmt_err e,
	      const char *msg)
{
	cp_reply_error(s, p->reply, e, msg);
	cp_pend_done(s, p);
}

void
cp_pend_dp_stats(struct cp_srv *s, struct cp_pend *p, int rc,
		 const struct or_chan_stat *st, unsigned n)
{
	char msg[CP_REQ_MSG_LEN];
	enum or_mgmt_err e = cp_act_dp_stats(s->d, p->cmd, p->reply, rc, st, n,
					     msg, sizeof(msg));

	if (e != OR_MGMT_OK)
		cp_pend_error(s, p, e, msg);
	else
		cp_pend_done(s, p);
}

/* Starts a verification if requests wait for one and none runs. */
void
cp_job_kick(struct cp_srv *s)
{
	struct cp_pend *p, *next;
	int rc, waiting = 0;

	for (p = s->pends; p != NULL; p = p->next)
		waiting |= p->kind == P_JOB;
	if (!waiting || cp_job_running(s->job))
		return;
	rc = cp_job_start(s->job);
	if (rc == 0) {
		s->job_gen++;
		return;
	}
	for (p = s->pends; p != NULL; p = next) {
		next = p->next;
		if (p->kind == P_JOB)
			cp_pend_error(s, p, OR_MGMT_E_INTERNAL,
				      "cannot start the audit verification");
	}
}

/* A verification finished: answers the requests that came before it
 * started, and starts the next for those that came since. */
void
cp_on_job(struct cp_srv *s)
{
	struct cp_job_result r;
	struct cp_pend *p, *next;
	char msg[CP_REQ_MSG_LEN + 300];
	enum or_mgmt_err e;

	if (cp_job_collect(s->job, &r) != 0)
		return;
	for (p = s->pends; p != NULL; p = next) {
		next = p->next;
		if (p->kind != P_JOB || p->cookie > s->job_gen)
			continue;
		e = cp_act_audit_verified(p->reply, &r, msg, sizeof(msg));
		if (e != OR_MGMT_OK)
			cp_pend_error(s, p, e, msg);
		else
			cp_pend_done(s, p);
	}
	cp_job_kick(s);
}

void
cp_on_dp_stats(void *arg, uint64_t cookie, int rc,
	       const struct or_chan_stat *st, unsigned n)
{
	struct cp_srv *s = arg;

	for (struct cp_pend *p = s->pends; p != NULL; p = p->next) {
		if (p->kind != P_DP || p->cookie != cookie)
			continue;
		cp_pend_dp_stats(s, p, rc, st, n);
		return;
	}
	/* Timed out already: nobody to tell. */
}

/* A --wait=fleet request whose own dataplane enforces its change: 1 if
 * every live appliance does too (the reply gets the fleet's list, and is
 * then sent as a local wait's), or when it timed out (answered here with
 * fleet_timeout, naming who lags); 0 to wait on. */
static int
cp_fleet_settled(struct cp_srv *s, struct cp_pend *p, uint64_t now)
{
	char who[512], msg[CP_REQ_MSG_LEN + 640];
	struct or_sor_fleet f;
	json_t *list;
	int done;

	or_sor_fleet(s->d->sor, &f);
	if (!f.fleet)
		return 1; /* one appliance: its own ack is the fleet's */
	list = cp_fleet_wait_json(&f, p->seq, &done);
	if (done) {
		json_object_set_new(p->reply, "fleet", list);
		return 1;
	}
	if (now < p->deadline_ms) {
		json_decref(list);
		return 0;
	}
	s->d->cnt.wait_timeouts++;
	cp_fleet_lagging_text(&f, p->seq, who, sizeof(who));
	json_object_set_new(p->reply, "fleet", list);
	json_object_set_new(p->reply, "committed", json_true());
	json_object_set_new(p->reply, "applied", json_true());
	snprintf(msg, sizeof(msg),
		 "change committed (seq %" PRIu64 ") and enforced here, but "
		 "not by %s within %u ms", p->seq, who,
		 s->d->cfg->wait_timeout_ms);
	cp_pend_error(s, p, OR_MGMT_E_FLEET_TIMEOUT, msg);
	/* Answered: the caller skips it. */
	return 0;
}

/* A status waiting for its after_seq: answered once reads hold it, the
 * wait timed out, or the store failed; else it waits on. */
static void
cp_seq_settle(struct cp_srv *s, struct cp_pend *p, uint64_t now)
{
	char msg[CP_REQ_MSG_LEN + 128];
	struct or_sor_read_pos rp;
	enum or_mgmt_err e;

	e = cp_act_read_pos(s->d, &rp, msg, sizeof(msg));
	if (e == OR_MGMT_OK && rp.seq >= p->seq)
		e = cp_act_status_fill(s->d, p->reply, &p->token, &rp, msg,
				       sizeof(msg));
	else if (e == OR_MGMT_OK && now < p->deadline_ms)
		return;
	else if (e == OR_MGMT_OK) {
		s->d->cnt.status_wait_timeouts++;
		json_object_set_new(p->reply, "as_of_seq",
				    json_integer((json_int_t)rp.seq));
		snprintf(msg, sizeof(msg),
			 "reads here hold changes up to seq %" PRIu64
			 ", not %" PRIu64 ", after %u ms%s",
			 rp.seq, p->seq, s->d->cfg->wait_timeout_ms,
			 rp.fleet && !rp.connected
				 ? " (the system of record is unreachable)"
				 : "");
		e = OR_MGMT_E_TIMEOUT;
	}
	if (e != OR_MGMT_OK)
		cp_pend_error(s, p, e, msg);
	else
		cp_pend_done(s, p);
}

/* Answers waits that are acked or timed out, and stats requests that
 * timed out. */
void
cp_check_pending(struct cp_srv *s, uint64_t now)
{
	struct cp_link_info pi;
	struct cp_pend *p, *next;
	char msg[CP_REQ_MSG_LEN + 128];

	cp_link_info(s->d->link, &pi);
	/* The fleet hears where this appliance's dataplane stands. */
	or_sor_enforced(s->d->sor, pi.acked_seq,
			pi.keys_acked ? pi.keys_acked_seq : 0);
	for (p = s->pends; p != NULL; p = next) {
		next = p->next;
		if (p->kind == P_WAIT && pi.acked_seq >= p->seq &&
		    p->wait == CP_WAIT_FLEET && !cp_fleet_settled(s, p, now))
			continue;
		if (p->kind == P_WAIT && pi.acked_seq >= p->seq) {
			uint64_t ack_us = cp_link_ack_time(s->d->link, p->seq);

			/* Committed -> the dataplane's ack read by the channel
			 * thread (now, if that is not known any more). */
			if (ack_us == 0)
				ack_us = cp_now_us();
			json_object_set_new(p->reply, "applied", json_true());
			json_object_set_new(
				p->reply, "enforce_us",
				json_integer((json_int_t)cp_elapsed(
					ack_us, p->commit_us)));
			cp_pend_done(s, p);
		} else if (p->kind == P_WAIT && now >= p->deadline_ms) {
			s->d->cnt.wait_timeouts++;
			json_object_set_new(p->reply, "committed", json_true());
			json_object_set_new(p->reply, "applied", json_false());
			if (!pi.connected) {
				snprintf(msg, sizeof(msg),
					 "change committed (seq %" PRIu64
					 ") but no dataplane is connected "
					 "to %s",
					 p->seq, s->d->cfg->chan_socket);
				cp_pend_error(s, p,
					      OR_MGMT_E_DATAPLANE_UNAVAILABLE,
					      msg);
			} else {
				snprintf(msg, sizeof(msg),
					 "change committed (seq %" PRIu64
					 ") but the dataplane did not "
					 "acknowledge it within %u ms",
					 p->seq, s->d->cfg->wait_timeout_ms);
				cp_pend_error(s, p, OR_MGMT_E_TIMEOUT, msg);
			}
		} else if (p->kind == P_DP && now >= p->deadline_ms) {
			cp_pend_dp_stats(s, p, -ETIMEDOUT, NULL, 0);
		} else if (p->kind == P_KEYS &&
			   cp_act_keys_settled(s->d, p->reply, p->seq,
					       now >= p->deadline_ms)) {
			cp_pend_done(s, p);
		} else if (p->kind == P_SEQ) {
			cp_seq_settle(s, p, now);
		}
	}
}
