/* SPDX-License-Identifier: BSD-3-Clause
 *
 * The management event loop's connections (cp_srv.h): replies queued
 * and sent, each client's events, the sweep that closes clients that are
 * done, idle, stuck mid-line or not reading, and eviction at max_clients.
 * Event loop thread only.
 */
#include <errno.h>
#include <stdio.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>

#include "cp_srv_priv.h"

/* At max_clients a new connection takes the slot of one with no request
 * in progress (evicted) rather than being refused: one that has not sent a
 * well-formed request within CP_EVICT_NEW_MS of its accept (idle, stuck
 * mid-line, sending garbage: the slots an abuser would hold), else one that
 * has done nothing useful for CP_EVICT_IDLE_MS. A well-behaved client's
 * first line is usually read within a loop round, so the grace keeps a
 * burst of new connections from evicting each other before they are read.
 * But a loop round lasts as long as a group commit, which into a large
 * store on a busy disk can exceed the grace: a connection whose bytes wait
 * unread in its socket is the daemon's delay, not the client's, and is
 * never taken (bench-abuse saw importers evicted so, before this). */
#define CP_EVICT_NEW_MS 500
#define CP_EVICT_IDLE_MS 10000

json_t *
cp_reply_new(json_t *id)
{
	json_t *r = json_pack("{s:i}", "v", OR_MGMT_VERSION);

	/* A copy: the request's strings are wiped when it is freed. */
	if (id != NULL)
		json_object_set_new(r, "id", json_copy(id));
	json_object_set_new(r, "ok", json_true());
	return r;
}

/* Turns reply into an error reply; fields already set stay (a token, a
 * seq: what the client may need to know about a committed change). */
void
cp_reply_error(struct cp_srv *s, json_t *reply, enum or_mgmt_err e,
	       const char *msg)
{
	s->d->cnt.replies_error++;
	json_object_set_new(reply, "ok", json_false());
	json_object_set_new(reply, "error",
			    json_pack("{s:s,s:s}", "code", or_mgmt_err_code(e),
				      "message", msg));
}

void
cp_client_update(struct cp_srv *s, struct cp_client *cl)
{
	uint32_t ev = 0;

	if (cl->dead)
		return;
	if (!cl->eof && !cl->closing && cl->out_len - cl->out_off <
						CP_CLIENT_OUT_HIGH)
		ev |= EPOLLIN;
	if (cl->out_len > cl->out_off)
		ev |= EPOLLOUT;
	if (ev != cl->events) {
		struct epoll_event e = { .events = ev, .data.ptr = cl };

		epoll_ctl(s->ep, EPOLL_CTL_MOD, cl->fd, &e);
		cl->events = ev;
	}
}

void
cp_client_kill(struct cp_srv *s, struct cp_client *cl)
{
	if (cl->dead)
		return;
	epoll_ctl(s->ep, EPOLL_CTL_DEL, cl->fd, NULL);
	cl->dead = 1;
}

/* Queues the reply (stealing it) and writes what the socket takes. */
void
cp_send(struct cp_srv *s, struct cp_client *cl, json_t *reply)
{
	if (cl == NULL || cl->dead) {
		json_decref(reply);
		return;
	}
	if (cp_client_queue(cl, reply, cp_now_ms()) < 0 ||
	    cp_client_flush(cl) < 0) {
		cp_client_kill(s, cl);
		return;
	}
	cp_client_update(s, cl);
}

void
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
void
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
unsigned
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
/* 1 if the client's socket holds bytes the daemon has not read yet. */
static int
cp_unread(const struct cp_client *cl)
{
	int n = 0;

	return ioctl(cl->fd, FIONREAD, &n) == 0 && n > 0;
}

int
cp_evict(struct cp_srv *s, uint64_t now)
{
	struct cp_client *best = NULL;
	int best_rank = 3;

	for (struct cp_client *cl = s->clients; cl != NULL; cl = cl->next) {
		uint64_t age = cp_elapsed(now, cl->active_ms);
		int rank;

		if (cl->dead || cl->npend > 0 || cp_unread(cl))
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
