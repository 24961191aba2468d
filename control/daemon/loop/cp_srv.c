/* SPDX-License-Identifier: BSD-3-Clause
 *
 * The management event loop; see cp_srv.h: clients, requests, commits.
 * Listening socket and peer checks are in cp_listen.c; replies that wait
 * (for an ack, the dataplane's counters, an audit job) in cp_pend.c.
 */
#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include <systemd/sd-daemon.h>

#include "optroute/chan.h"

#include "control/daemon/cmd/cp_act.h"
#include "control/daemon/cmd/cp_job.h"
#include "control/daemon/cp_log.h"

#include "cp_client.h"
#include "cp_listen.h"
#include "cp_srv.h"
#include "cp_srv_priv.h"

/* Longest a group keeps collecting while clients still have input ready:
 * bounds what a steady stream of requests adds to a change's latency. */
#define CP_GROUP_MAX_US 10000

/* Malformed requests in a row (lines the parser refuses) after which a
 * connection is closed: a client that speaks the protocol makes one now
 * and then (a bug, a typo), a flood of garbage or bad JSON makes them all
 * the time. */
#define CP_MALFORMED_MAX 16

/* At max_clients a new connection takes the slot of one with no request
 * in progress (evicted) rather than being refused: one that has not sent a
 * well-formed request within CP_EVICT_NEW_MS of its accept (idle, stuck
 * mid-line, sending garbage: the slots an abuser would hold), else one that
 * has done nothing useful for CP_EVICT_IDLE_MS. A well-behaved client's
 * first line is read within a loop round (a commit at most, about 0.2 s),
 * so the grace keeps a burst of new connections from evicting each other
 * before they are read. */
#define CP_EVICT_NEW_MS 500
#define CP_EVICT_IDLE_MS 10000

/* Descriptors kept beyond max_clients (store, epoll, sockets, metrics);
 * out of descriptors anyway, accepting pauses this long. */
#define CP_FD_RESERVE 64
#define CP_ACCEPT_PAUSE_MS 100

/* epoll tags for the non-client descriptors. */
static char cp_tag_listen, cp_tag_signal, cp_tag_link, cp_tag_job;

/* ----------------------------------------------------------- commit -- */

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
static void
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

/* ---------------------------------------------------------- dispatch -- */

/* Sends a reply that is ready now, but not before the client's earlier
 * requests still in the group: one client's replies keep their order
 * (except "wait", dataplane-counter and audit-verification requests,
 * answered when done). */
static void
cp_reply_now(struct cp_srv *s, struct cp_client *cl, json_t *reply)
{
	if (cl->ncommit > 0)
		cp_commit(s);
	cp_send(s, cl, reply);
}

static void
cp_send_error(struct cp_srv *s, struct cp_client *cl, json_t *id,
	      enum or_mgmt_err e, const char *msg)
{
	json_t *r = cp_reply_new(id);

	cp_reply_error(s, r, e, msg);
	cp_reply_now(s, cl, r);
}

/* Closes a connection for a reason: counts it, answers with one error
 * line (no id: it answers no request) and closes once that is sent
 * (cp_sweep; at most line_timeout_ms later if the peer does not read). */
static void
cp_close_for(struct cp_srv *s, struct cp_client *cl, uint64_t *counter,
	     enum or_mgmt_err e, const char *msg)
{
	(*counter)++;
	cp_send_error(s, cl, NULL, e, msg);
	cl->closing = 1;
	cl->closing_ms = cp_now_ms();
	cl->partial_ms = 0;
	cp_client_update(s, cl);
}

/* A read-only client (readonly_gid) runs only the commands whose entry of
 * OR_MGMT_CMDS says RO, and sends none of the fields that change state
 * (OR_MGMT_F_RW: "clear"). 1 if the request was refused (answered, counted
 * and freed). */
static int
cp_readonly_refuse(struct cp_srv *s, struct cp_client *cl, struct cp_req *req,
		   const struct or_mgmt_cmd_info *info)
{
	char msg[CP_REQ_MSG_LEN];
	unsigned rw = req->fields & OR_MGMT_F_RW;

	if (info->readonly && rw == 0)
		return 0;
	if (!info->readonly)
		snprintf(msg, sizeof(msg),
			 "command %s is not permitted for read-only clients",
			 info->name);
	else
		snprintf(msg, sizeof(msg),
			 "field '%s' is not permitted for read-only clients",
			 or_mgmt_field_name(rw & -rw));
	s->d->cnt.readonly_refused++;
	cp_send_error(s, cl, req->id, OR_MGMT_E_PERMISSION_DENIED, msg);
	cp_req_free(req);
	return 1;
}

static void
cp_on_line(void *arg, struct cp_client *cl, char *line, size_t len)
{
	struct cp_srv *s = arg;
	struct cp_daemon *d = s->d;
	const struct or_mgmt_cmd_info *info;
	struct cp_act a = { .d = d };
	char msg[CP_REQ_MSG_LEN];
	enum cp_act_next next;
	enum or_mgmt_err e;
	struct cp_req req;
	enum or_mgmt_cmd cmd;
	struct cp_pend *p;
	uint64_t recv_us = cp_now_us();
	unsigned room;
	size_t i;
	int wait, rc;
	uint16_t dp_flags;

	/* Blank lines (keep-alives, CRLF leftovers) are not requests. */
	for (i = 0; i < len; i++)
		if (line[i] != ' ' && line[i] != '\t' && line[i] != '\r')
			break;
	if (i == len)
		return;
	d->cnt.requests++;
	e = cp_req_parse(line, len, &req, msg);
	if (e != OR_MGMT_OK) {
		d->cnt.malformed_requests++;
		cp_send_error(s, cl, req.id, e, msg);
		cp_req_free(&req);
		if (++cl->bad_run >= CP_MALFORMED_MAX && !cl->dead) {
			snprintf(msg, sizeof(msg),
				 "%d malformed requests in a row; closing",
				 CP_MALFORMED_MAX);
			cp_close_for(s, cl, &d->cnt.clients_malformed,
				     OR_MGMT_E_BAD_REQUEST, msg);
		}
		return;
	}
	cl->bad_run = 0;
	cl->served = 1;
	cl->active_ms = cp_now_ms();
	info = or_mgmt_cmd_info(req.cmd);
	if (cl->readonly && cp_readonly_refuse(s, cl, &req, info))
		return;
	room = cp_act_room(&req);
	/* Whatever does not complete at once waits in the pending list. */
	if (d->pending >= d->cfg->max_pending &&
	    info->done != OR_MGMT_DONE_NOW) {
		cp_send_error(s, cl, req.id, OR_MGMT_E_BUSY,
			      "too many requests in progress; retry later");
		cp_req_free(&req);
		return;
	}
	/* Room for this request's changes, and read-your-writes: a command
	 * that reads the store sees every change received before it. */
	if ((room > 0 && s->n + room > OR_STORE_APPLY_MAX) ||
	    (s->n > 0 && info->reads))
		cp_commit(s);

	a.reply = cp_reply_new(req.id);
	a.ch = s->ch + s->n;
	a.n_max = OR_STORE_APPLY_MAX - s->n;
	next = cp_act_run(&a, &req);
	cmd = req.cmd;
	wait = req.wait;
	dp_flags = req.clear ? OR_CHAN_STATS_F_CLEAR : 0;
	/* Wipes the subject and import lines (they may be plain numbers). */
	cp_req_free(&req);
	if (a.err != OR_MGMT_OK) {
		cp_reply_error(s, a.reply, a.err, a.msg);
		cp_reply_now(s, cl, a.reply);
		return;
	}
	switch (next) {
	case CP_NEXT_REPLY:
	case CP_NEXT_PEND: /* (cp_act_run never returns it) */
		cp_reply_now(s, cl, a.reply);
		return;
	case CP_NEXT_COMMIT:
		p = cp_pend_new(s, cl, a.reply, cmd, P_COMMIT);
		if (p == NULL)
			break;
		p->ch_first = s->n;
		p->ch_n = a.n;
		p->wait = wait;
		p->recv_us = recv_us;
		if (s->n == 0)
			s->group_us = recv_us;
		s->n += a.n;
		return;
	case CP_NEXT_JOB:
		p = cp_pend_new(s, cl, a.reply, cmd, P_JOB);
		if (p == NULL)
			break;
		/* A job running now began before this request: the next. */
		p->cookie = s->job_gen + 1;
		cp_job_kick(s);
		return;
	case CP_NEXT_DATAPLANE:
		p = cp_pend_new(s, cl, a.reply, cmd, P_DP);
		if (p == NULL)
			break;
		p->cookie = ++s->next_cookie;
		p->deadline_ms = cp_now_ms() + CP_DP_STATS_TIMEOUT_MS;
		rc = cp_link_request_stats(d->link, p->cookie, dp_flags);
		if (rc != 0)
			cp_pend_dp_stats(s, p, rc, NULL, 0);
		return;
	case CP_NEXT_KEYS:
		p = cp_pend_new(s, cl, a.reply, cmd, P_KEYS);
		if (p == NULL)
			break;
		p->seq = a.keys_seq;
		p->deadline_ms = cp_now_ms() + d->cfg->wait_timeout_ms;
		return;
	}
	cp_reply_error(s, a.reply, OR_MGMT_E_INTERNAL, "out of memory");
	cp_reply_now(s, cl, a.reply);
}

/* ---------------------------------------------------------- clients -- */

static void
cp_on_client(struct cp_srv *s, struct cp_client *cl, uint32_t ev)
{
	int rc;

	if (ev & EPOLLOUT) {
		if (cp_client_flush(cl) < 0) {
			cp_client_kill(s, cl);
			return;
		}
	}
	/* Held lines go on (unless the output is still full). */
	if ((ev & (EPOLLIN | EPOLLHUP | EPOLLERR)) ||
	    (cl->held && !cp_client_out_full(cl))) {
		rc = cp_client_read(cl, cp_now_ms(), cp_on_line, s);
		if (rc == -EMSGSIZE) {
			char msg[96];

			snprintf(msg, sizeof(msg),
				 "request line longer than %d bytes; closing",
				 OR_MGMT_MAX_LINE);
			cp_close_for(s, cl, &s->d->cnt.lines_too_long,
				     OR_MGMT_E_LINE_TOO_LONG, msg);
		} else if (rc < 0 && rc != -ENOMEM) {
			cp_client_kill(s, cl);
			return;
		} else if (rc == 0 && cl->eof && (ev & (EPOLLHUP | EPOLLERR))) {
			/* Gone both ways: what it sent is handled (its
			 * changes still commit), replies cannot reach it,
			 * and a level-triggered HUP would spin the loop. */
			cp_client_kill(s, cl);
			return;
		}
	}
	cp_client_update(s, cl);
}

/* Closes clients that are done, idle, stuck mid-line or not reading their
 * replies; frees dead ones. */
static void
cp_sweep(struct cp_srv *s, uint64_t now)
{
	const struct cp_cfg *cfg = s->d->cfg;
	struct cp_counters *cnt = &s->d->cnt;
	struct cp_client *cl, *next;

	s->more = 0;
	for (cl = s->clients; cl != NULL; cl = next) {
		int idle;

		next = cl->next;
		/* The peer took reply bytes: it is reading. */
		if (cl->sent_total != cl->sent_seen) {
			cl->sent_seen = cl->sent_total;
			cl->last_ms = now;
			cl->active_ms = now;
		}
		/* Held lines: the next share of a client that pipelines
		 * many, or the output drained without an EPOLLOUT (a reply
		 * sent at once took the last of it). */
		if (!cl->dead && cl->held && !cp_client_out_full(cl))
			cp_on_client(s, cl, 0);
		if (!cl->dead && cl->held && !cp_client_out_full(cl))
			s->more = 1;
		idle = cl->out_len == cl->out_off && cl->npend == 0;
		if (!cl->dead && (cl->eof || cl->closing) && idle)
			cp_client_kill(s, cl);
		/* Its error line is sent, or the peer does not read it. */
		if (!cl->dead && cl->closing &&
		    cp_elapsed(now, cl->closing_ms) >= cfg->line_timeout_ms)
			cp_client_kill(s, cl);
		/* A client that does not read its replies (its input paused
		 * once CP_CLIENT_OUT_HIGH is queued) is dropped after the idle
		 * timeout; no reply can reach it. (One being closed was
		 * counted for its reason already.) */
		if (!cl->dead && !cl->closing && cl->out_len > cl->out_off &&
		    cp_elapsed(now, cl->last_ms) >= cfg->idle_timeout_ms) {
			cnt->clients_timed_out++;
			cnt->clients_stalled++;
			cp_client_kill(s, cl);
		}
		/* Not while its input is paused (it does not read its
		 * replies): the idle timeout deals with that. */
		if (!cl->dead && !cl->closing && cl->partial_ms != 0 &&
		    (cl->events & EPOLLIN) &&
		    cp_elapsed(now, cl->partial_ms) >= cfg->line_timeout_ms) {
			cnt->clients_timed_out++;
			cp_close_for(s, cl, &cnt->line_timeouts,
				     OR_MGMT_E_IDLE_TIMEOUT,
				     "request line not finished in time; "
				     "closing");
		} else if (!cl->dead && !cl->closing && idle &&
			   cl->in_len == 0 &&
			   cp_elapsed(now, cl->last_ms) >= cfg->idle_timeout_ms) {
			cnt->clients_timed_out++;
			cp_close_for(s, cl, &cnt->idle_timeouts,
				     OR_MGMT_E_IDLE_TIMEOUT,
				     "connection idle; closing");
		}
		if (!cl->dead)
			continue;
		for (struct cp_pend *p = s->pends; p != NULL; p = p->next)
			if (p->cl == cl)
				p->cl = NULL;
		if (cl->next != NULL)
			cl->next->prev = cl->prev;
		if (cl->prev != NULL)
			cl->prev->next = cl->next;
		else
			s->clients = cl->next;
		s->d->clients--;
		cp_client_free(cl);
	}
}

/* Connections open and not closed yet (dead ones are freed at the end of
 * the loop round). */
static unsigned
cp_live_clients(const struct cp_srv *s)
{
	unsigned n = 0;

	for (const struct cp_client *cl = s->clients; cl != NULL;
	     cl = cl->next)
		n += !cl->dead;
	return n;
}

/* Makes room for a new connection at max_clients (see CP_EVICT_NEW_MS):
 * closes one being closed anyway, else the one idle the longest of those
 * that never sent a well-formed request, else of those idle for
 * CP_EVICT_IDLE_MS. A connection with a request in progress is never
 * taken. 1 if a slot was freed. */
static int
cp_evict(struct cp_srv *s, uint64_t now)
{
	struct cp_client *best = NULL;
	int best_rank = 3;

	for (struct cp_client *cl = s->clients; cl != NULL; cl = cl->next) {
		uint64_t age = cp_elapsed(now, cl->active_ms);
		int rank;

		if (cl->dead || cl->npend > 0)
			continue;
		if (cl->closing)
			rank = 0;
		else if (!cl->served && age >= CP_EVICT_NEW_MS)
			rank = 1;
		else if (age >= CP_EVICT_IDLE_MS)
			rank = 2;
		else
			continue;
		if (rank < best_rank ||
		    (rank == best_rank && cl->active_ms < best->active_ms)) {
			best = cl;
			best_rank = rank;
		}
	}
	if (best == NULL)
		return 0;
	if (best_rank > 0) {
		s->d->cnt.clients_evicted++;
		cp_send_error(s, best, NULL, OR_MGMT_E_TOO_MANY_CLIENTS,
			      "too many clients; closing this connection "
			      "(no request in progress) to make room");
	}
	cp_client_kill(s, best);
	return 1;
}

/* Out of descriptors: stop polling the listening socket for a moment (it
 * would stay readable and spin the loop); the connections wait in its
 * backlog. */
static void
cp_accept_pause(struct cp_srv *s, int on)
{
	struct epoll_event e = { .events = on ? 0 : EPOLLIN,
				 .data.ptr = &cp_tag_listen };

	if (epoll_ctl(s->ep, EPOLL_CTL_MOD, s->lfd, &e) == 0)
		s->accept_resume_ms = on ? cp_now_ms() + CP_ACCEPT_PAUSE_MS : 0;
}

static void
cp_on_accept(struct cp_srv *s)
{
	struct cp_client *cl;
	uid_t uid;
	pid_t pid;
	int fd, ro;

	while ((fd = cp_listen_accept(s->d, s->lfd, &uid, &pid, &ro)) !=
	       -EAGAIN) {
		struct epoll_event e = { .events = EPOLLIN };

		if (fd == -EMFILE) {
			cp_accept_pause(s, 1);
			return;
		}
		if (fd < 0) {
			s->d->cnt.clients_refused++;
			continue;
		}
		if (s->d->clients >= s->d->cfg->max_clients &&
		    cp_live_clients(s) >= s->d->cfg->max_clients &&
		    !cp_evict(s, cp_now_ms())) {
			s->d->cnt.clients_refused++;
			s->d->cnt.clients_too_many++;
			cp_listen_refuse(fd, or_mgmt_err_code(
						     OR_MGMT_E_TOO_MANY_CLIENTS),
					 "too many clients; retry later");
			continue;
		}
		cl = cp_client_new(fd, uid, pid, cp_now_ms());
		if (cl == NULL) {
			close(fd);
			continue;
		}
		cl->readonly = ro;
		s->d->cnt.clients_readonly += ro;
		e.data.ptr = cl;
		if (epoll_ctl(s->ep, EPOLL_CTL_ADD, fd, &e) < 0) {
			cp_client_free(cl);
			continue;
		}
		cl->events = EPOLLIN;
		cl->next = s->clients;
		if (s->clients != NULL)
			s->clients->prev = cl;
		s->clients = cl;
		s->d->clients++;
		s->d->cnt.clients++;
	}
}

/* ------------------------------------------------------------- loop -- */

static int
cp_epoll_add(int ep, int fd, void *tag)
{
	struct epoll_event e = { .events = EPOLLIN, .data.ptr = tag };

	return epoll_ctl(ep, EPOLL_CTL_ADD, fd, &e) < 0 ? -errno : 0;
}

/* max_clients connections must not run the daemon out of descriptors:
 * raises the soft limit as far as the hard one allows. */
static void
cp_fd_limit(unsigned max_clients)
{
	rlim_t need = (rlim_t)max_clients + CP_FD_RESERVE;
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) < 0 || rl.rlim_cur >= need)
		return;
	rl.rlim_cur = rl.rlim_max < need ? rl.rlim_max : need;
	if (setrlimit(RLIMIT_NOFILE, &rl) < 0 || rl.rlim_cur < need)
		CP_WARN("max_clients %u needs %llu descriptors, the limit is "
			"%llu: connections beyond it wait",
			max_clients, (unsigned long long)need,
			(unsigned long long)rl.rlim_cur);
}

int
cp_srv_open(struct cp_daemon *d, struct cp_srv **out)
{
	struct cp_srv *s = calloc(1, sizeof(*s));
	sigset_t set;
	int rc;

	if (s == NULL)
		return -ENOMEM;
	s->d = d;
	s->ep = -1;
	s->sfd = -1;
	rc = cp_job_create(d->store, &s->job);
	if (rc < 0) {
		free(s);
		return rc;
	}
	cp_fd_limit(d->cfg->max_clients);
	s->lfd = cp_listen_open(d->cfg);
	if (s->lfd < 0) {
		rc = s->lfd;
		goto fail;
	}
	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	s->sfd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
	s->ep = epoll_create1(EPOLL_CLOEXEC);
	if (s->sfd < 0 || s->ep < 0) {
		rc = -errno;
		goto fail;
	}
	if ((rc = cp_epoll_add(s->ep, s->lfd, &cp_tag_listen)) < 0 ||
	    (rc = cp_epoll_add(s->ep, s->sfd, &cp_tag_signal)) < 0 ||
	    (rc = cp_epoll_add(s->ep, cp_link_notify_fd(d->link),
			       &cp_tag_link)) < 0 ||
	    (rc = cp_epoll_add(s->ep, cp_job_fd(s->job), &cp_tag_job)) < 0)
		goto fail;
	*out = s;
	return 0;
fail:
	CP_ERR("management socket %s: %s", d->cfg->mgmt_socket,
	       strerror(-rc));
	cp_srv_close(s);
	return rc;
}

int
cp_srv_run(struct cp_srv *s)
{
	struct epoll_event ev[64];
	uint64_t wd_us = 0, wd_next = 0;

	/* systemd's watchdog (WatchdogSec=): ping from the event loop, which
	 * wakes at least every 200 ms, at half the interval. */
	if (sd_watchdog_enabled(0, &wd_us) <= 0)
		wd_us = 0;
	while (!s->stop) {
		int n, input, timeout = s->pends != NULL ? 20 : 200;
		uint64_t now;

		/* With a group open, or held lines to go on with, only look
		 * for input that is ready. */
		n = epoll_wait(s->ep, ev, 64, s->n > 0 || s->more ? 0 : timeout);
		if (n < 0 && errno != EINTR) {
			CP_ERR("epoll_wait: %s", strerror(errno));
			return -errno;
		}
		/* Held lines (cp_sweep) are input ready too. */
		input = s->more;
		for (int i = 0; i < n; i++) {
			void *tag = ev[i].data.ptr;

			if (tag == &cp_tag_listen) {
				cp_on_accept(s);
			} else if (tag == &cp_tag_signal) {
				struct signalfd_siginfo si;

				if (read(s->sfd, &si, sizeof(si)) > 0)
					CP_NOTICE("signal %u: shutting down",
						  si.ssi_signo);
				s->stop = 1;
			} else if (tag == &cp_tag_job) {
				cp_on_job(s);
			} else if (tag == &cp_tag_link) {
				cp_link_notify_clear(s->d->link);
				cp_link_take_stats(s->d->link, cp_on_dp_stats,
						   s);
			} else {
				struct cp_client *cl = tag;

				cp_on_client(s, cl, ev[i].events);
				/* Only a client that speaks the protocol
				 * keeps the group open: connections that
				 * trickle bytes or garbage must not delay
				 * everyone's commit. */
				input |= (ev[i].events & EPOLLIN) != 0 &&
					 cl->served;
			}
		}
		/* Everything that is queued, across clients, in one
		 * transaction: the group is committed once no client has
		 * input ready any more (a client's requests may take several
		 * rounds to read), or when it is CP_GROUP_MAX_US old. A
		 * full group was committed when the next did not fit. */
		if (!input || s->stop ||
		    cp_elapsed(cp_now_us(), s->group_us) >= CP_GROUP_MAX_US)
			cp_commit(s);
		now = cp_now_ms();
		cp_check_pending(s, now);
		cp_sweep(s, now);
		if (s->accept_resume_ms != 0 && now >= s->accept_resume_ms)
			cp_accept_pause(s, 0);
		if (wd_us != 0 && cp_now_us() >= wd_next) {
			sd_notify(0, "WATCHDOG=1");
			wd_next = cp_now_us() + wd_us / 2;
		}
	}
	return 0;
}

void
cp_srv_close(struct cp_srv *s)
{
	if (s == NULL)
		return;
	/* Requests already read are committed and answered: their clients
	 * sent them before the shutdown. Waiting ones are answered now. */
	cp_commit(s);
	while (s->pends != NULL) {
		struct cp_pend *p = s->pends;

		if (p->kind == P_WAIT || p->kind == P_KEYS)
			json_object_set_new(p->reply, "committed", json_true());
		cp_pend_error(s, p, OR_MGMT_E_SHUTTING_DOWN,
			      "the control plane is shutting down");
	}
	for (struct cp_client *cl = s->clients; cl != NULL; cl = cl->next)
		cp_client_kill(s, cl);
	cp_sweep(s, cp_now_ms());
	if (s->lfd >= 0)
		cp_listen_close(s->d->cfg, s->lfd);
	if (s->sfd >= 0)
		close(s->sfd);
	if (s->ep >= 0)
		close(s->ep);
	/* Its requests were answered above; a running one is cancelled. */
	cp_job_destroy(s->job);
	free(s);
}
