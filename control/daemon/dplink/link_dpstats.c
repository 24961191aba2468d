/* SPDX-License-Identifier: BSD-3-Clause
 *
 * The dataplane's counters for "stats" (cp_link.h): requests from the
 * event loop, answered by the channel thread with a STATS_REQUEST.
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>

#include "link_priv.h"

int
cp_link_request_stats(struct cp_link *p, uint64_t cookie, uint16_t flags)
{
	int rc = -EBUSY;

	pthread_mutex_lock(&p->mu);
	if (!p->accepting) {
		rc = -ENOTCONN;
	} else {
		for (unsigned i = 0; i < CP_LINK_REQS; i++) {
			if (p->reqs[i].state != REQ_FREE)
				continue;
			p->reqs[i].state = REQ_ASKED;
			p->reqs[i].cookie = cookie;
			p->reqs[i].flags = flags;
			rc = 0;
			break;
		}
	}
	pthread_mutex_unlock(&p->mu);
	if (rc == 0)
		cp_link_wake(p);
	return rc;
}

void
cp_link_take_stats(struct cp_link *p,
		   void (*cb)(void *arg, uint64_t cookie, int rc,
			      const struct or_chan_stat *st, unsigned n),
		   void *arg)
{
	pthread_mutex_lock(&p->mu);
	for (unsigned i = 0; i < CP_LINK_REQS; i++) {
		struct cp_link_req *r = &p->reqs[i];

		if (r->state != REQ_DONE)
			continue;
		cb(arg, r->cookie, r->rc, r->st, r->rc == 0 ? r->n : 0);
		r->state = REQ_FREE;
	}
	pthread_mutex_unlock(&p->mu);
}

void
cp_link_fail_reqs(struct cp_link *p, int rc)
{
	int any = 0;

	pthread_mutex_lock(&p->mu);
	for (unsigned i = 0; i < CP_LINK_REQS; i++)
		if (p->reqs[i].state == REQ_ASKED) {
			p->reqs[i].rc = rc;
			p->reqs[i].state = REQ_DONE;
			any = 1;
		}
	pthread_mutex_unlock(&p->mu);
	if (any)
		cp_link_notify(p);
}

/* Answers asked stats requests. 0 or -errno (connection lost). */
int
cp_link_serve_stats(struct cp_link *p)
{
	for (unsigned i = 0; i < CP_LINK_REQS; i++) {
		struct cp_link_req *r = &p->reqs[i];
		unsigned n = 0;
		int rc, asked;

		/* Only this thread moves a request on from ASKED. */
		pthread_mutex_lock(&p->mu);
		asked = r->state == REQ_ASKED;
		pthread_mutex_unlock(&p->mu);
		if (!asked)
			continue;
		if (r->st == NULL)
			r->st = calloc(CP_LINK_STATS_MAX, sizeof(*r->st));
		rc = r->st == NULL ? -ENOMEM
				   : or_chan_get_stats_flags(p->c, r->flags, r->st,
							     CP_LINK_STATS_MAX, &n,
							     CP_LINK_STATS_TIMEOUT_MS);
		pthread_mutex_lock(&p->mu);
		r->rc = rc;
		r->n = n;
		r->state = REQ_DONE;
		pthread_mutex_unlock(&p->mu);
		cp_link_notify(p);
		if (rc == -ECONNRESET || rc == -EPIPE)
			return rc;
	}
	return 0;
}
