/* SPDX-License-Identifier: BSD-3-Clause
 *
 * The management event loop; see cp_srv.h: the loop itself, accepting
 * connections, and each request line's dispatch to its action. Listening
 * socket and peer checks are in cp_listen.c; the connections, replies,
 * sweep and eviction in cp_conn.c; the group commit in cmd/cp_commit.c;
 * replies that wait (for an ack, the dataplane's counters, an audit job)
 * in cmd/cp_pend.c.
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

/* Descriptors kept beyond max_clients (store, epoll, sockets, metrics);
 * out of descriptors anyway, accepting pauses this long. */
#define CP_FD_RESERVE 64
#define CP_ACCEPT_PAUSE_MS 100

/* epoll tags for the non-client descriptors. */
static char cp_tag_listen, cp_tag_signal, cp_tag_link, cp_tag_job,
	cp_tag_commit;

/* Sends a reply that is ready now, but not before the client's earlier
 * requests still in the group: one client's replies keep their order
 * (except "wait", dataplane-counter and audit-verification requests,
 * answered when done). */
static void
cp_reply_now(struct cp_srv *s, struct cp_client *cl, json_t *reply)
{
	if (cl->ncommit > 0)
		cp_commit_flush(s);
	cp_send(s, cl, reply);
}

void
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
void
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
 * (OR_MGMT_F_RW: "clear", "forget"). 1 if the request was refused
 * (answered, counted and freed). */
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

void
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
	/* Whatever may not complete at once waits in the pending list. */
	if (d->pending >= d->cfg->max_pending && cp_req_may_wait(&req)) {
		cp_send_error(s, cl, req.id, OR_MGMT_E_BUSY,
			      "too many requests in progress; retry later");
		cp_req_free(&req);
		return;
	}
	/* Room for this request's changes, and read-your-writes: a command
	 * that reads the store sees every change received before it. */
	if (info->reads && (s->n > 0 || s->inflight))
		cp_commit_flush(s);
	else if (room > 0 && s->n + room > OR_STORE_APPLY_MAX)
		cp_commit_room(s);

	a.reply = cp_reply_new(req.id);
	a.ch = s->ch[s->cur] + s->n;
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
		p->group = s->group_no;
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
	case CP_NEXT_SEQ:
		p = cp_pend_new(s, cl, a.reply, cmd, P_SEQ);
		if (p == NULL)
			break;
		d->cnt.status_waits++;
		p->token = a.token;
		p->seq = a.after_seq;
		p->deadline_ms = cp_now_ms() + d->cfg->wait_timeout_ms;
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
	rc = cp_job_create(d->sor, &s->job);
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
	/* A store that completes groups later says so on its descriptor
	 * (LMDB has none: cp_commit() finishes every group). */
	if (or_sor_commit_fd(d->sor) >= 0 &&
	    (rc = cp_epoll_add(s->ep, or_sor_commit_fd(d->sor),
			       &cp_tag_commit)) < 0)
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

		/* With a group open that could be handed over, or held lines
		 * to go on with, only look for input that is ready (while a
		 * group is in flight, the store's descriptor wakes the loop). */
		n = epoll_wait(s->ep, ev, 64,
			       (s->n > 0 && !s->inflight) || s->more ? 0
								     : timeout);
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
			} else if (tag == &cp_tag_commit) {
				cp_on_commit(s);
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
	cp_commit_flush(s);
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
