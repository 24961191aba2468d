/* SPDX-License-Identifier: BSD-3-Clause
 *
 * The "postgresql" backend's follower thread (docs/fleet.md section 5):
 * it LISTENs, tails the audit trail after the local copy's position,
 * applies each checked batch to the copy and then hands it to the sink,
 * reports this appliance's position and rereads everyone's, and resyncs
 * the copy from a snapshot when its position is gone or too far behind.
 */
#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "optroute/log.h"

#include "control/store/pg/pg_resync.h"
#include "control/store/pg/sor_pg_priv.h"

/* The follower's connection: its session lock, LISTEN. */
int
sp_follower_connect(struct sor_pg *p, struct or_err *err)
{
	int rc;

	if (p->fc != NULL && PQstatus(p->fc) == CONNECTION_OK)
		return 0;
	PQfinish(p->fc);
	p->fc = NULL;
	rc = sp_connect(p, "optroute-control follower", &p->fc, err);
	if (rc == 0)
		rc = sp_register(p, p->fc, 1, err);
	if (rc == 0)
		rc = or_pg_exec(p->fc, "LISTEN " OR_PG_HEAD_CHANNEL "; LISTEN "
			     SP_POS_CHANNEL, 0, NULL,
			     "system of record: listen", err, NULL);
	if (rc < 0) {
		PQfinish(p->fc);
		p->fc = NULL;
	}
	return rc;
}

static int
sp_is_auth(const struct or_audit_entry *e)
{
	return e->action == OR_ACT_ROTATE || e->action == OR_ACT_RETIRE;
}

/* A checked batch: into the copy (fsync), then to the sink. */
static int
sp_apply(void *arg, const struct or_audit_entry *e, unsigned n)
{
	struct sor_pg *p = arg;
	const struct or_sor_sink *k = &p->base.sink;
	struct or_err err = { "" };
	unsigned i = 0;
	int rc;

	pthread_rwlock_rdlock(&p->copy_lock);
	rc = or_copy_follow(p->copy, e, n, p->fres, &err);
	pthread_rwlock_unlock(&p->copy_lock);
	if (rc < 0) {
		or_log(OR_LOG_ERR, "fleet: local copy: %s", err.msg);
		return rc;
	}
	while (i < n) {
		unsigned j = i;

		if (sp_is_auth(&e[i])) {
			if (k->applied != NULL)
				k->applied(k->arg, e[i].seq, NULL, NULL, 1);
			if (k->auth_changed != NULL)
				k->auth_changed(k->arg);
			i++;
			continue;
		}
		for (; j < n && !sp_is_auth(&e[j]); j++)
			p->fch[j - i] = (struct or_change){
				.token = e[j].token,
				.action = e[j].action,
				.method = e[j].method,
				.epoch = e[j].epoch,
				.node = -1,
				.notice_version = e[j].notice_version,
				.time_ms = e[j].time_ms,
			};
		if (k->applied != NULL)
			k->applied(k->arg, e[i].seq, p->fch, p->fres + i, j - i);
		i = j;
	}
	pthread_mutex_lock(&p->mu);
	p->applied = e[n - 1].seq;
	pthread_cond_broadcast(&p->cv);
	pthread_mutex_unlock(&p->mu);
	return 0;
}

/* Reports the position in the appliance row (soft state: no synchronous
 * commit, and a notification so that the others reread positions) when
 * it moved, else at least every report_ms as a heartbeat. */
static int
sp_report(struct sor_pg *p, uint64_t now, struct or_err *err)
{
	static const char sql[] =
		"BEGIN; SET LOCAL synchronous_commit = off;"
		" UPDATE optroute.appliance SET applied_seq = %" PRIu64
		", enforced_seq = %" PRIu64 ", keys_acked_seq = %" PRIu64
		", reported_at = now() WHERE id = %u;%s COMMIT";
	char q[sizeof(sql) + 128];
	uint64_t enf, keys;
	int moved;

	pthread_mutex_lock(&p->mu);
	enf = p->enforced;
	keys = p->keys_acked;
	pthread_mutex_unlock(&p->mu);
	moved = p->reported != p->pos.seq || p->reported_enf != enf ||
		p->reported_keys != keys;
	if (!moved && now - p->last_report_ms < p->report_ms)
		return 0;
	snprintf(q, sizeof(q), sql, p->pos.seq, enf, keys, sp_id(p),
		 moved ? " NOTIFY " SP_POS_CHANNEL ";" : "");
	if (or_pg_exec(p->fc, q, 0, NULL, "fleet: report", err, NULL) < 0) {
		PQclear(PQexec(p->fc, "ROLLBACK"));
		return -EIO;
	}
	p->reported = p->pos.seq;
	p->reported_enf = enf;
	p->reported_keys = keys;
	p->last_report_ms = now;
	return 0;
}

/* A member's enforced position or liveness differs (what a --wait=fleet
 * decides on). */
static int
sp_positions_moved(const struct or_sor_fleet *a, const struct or_sor_fleet *b)
{
	if (a->n != b->n || a->connected != b->connected)
		return 1;
	for (unsigned i = 0; i < a->n; i++)
		if (a->m[i].id != b->m[i].id ||
		    a->m[i].enforced != b->m[i].enforced ||
		    a->m[i].keys_acked != b->m[i].keys_acked ||
		    a->m[i].live != b->m[i].live)
			return 1;
	return 0;
}

/* Every appliance's position, and the head, into p->fl. */
static int
sp_read_positions(struct sor_pg *p, uint64_t now, struct or_err *err)
{
	PGresult *r = PQexec(p->fc,
		"SELECT id, name, coalesce(applied_seq, 0),"
		" coalesce(enforced_seq, 0), coalesce((extract(epoch FROM"
		" clock_timestamp() - reported_at) * 1000)::bigint, -1),"
		" (SELECT head_seq FROM optroute.fleet WHERE id = 1),"
		" coalesce(keys_acked_seq, 0)"
		" FROM optroute.appliance ORDER BY id");
	struct or_sor_fleet f = { .fleet = 1, .connected = 1 };
	uint16_t self = sp_id(p);
	uint64_t one = 1;
	int rows, moved;

	if (PQresultStatus(r) != PGRES_TUPLES_OK) {
		or_pg_err(err, p->fc, r, "fleet: positions");
		PQclear(r);
		return -EIO;
	}
	rows = PQntuples(r);
	for (int i = 0; i < rows && f.n < OR_SOR_FLEET_MAX; i++) {
		struct or_sor_member *m = &f.m[f.n++];
		long long silent = strtoll(PQgetvalue(r, i, 4), NULL, 10);

		m->id = (uint16_t)strtoul(PQgetvalue(r, i, 0), NULL, 10);
		snprintf(m->name, sizeof(m->name), "%s", PQgetvalue(r, i, 1));
		m->applied = strtoull(PQgetvalue(r, i, 2), NULL, 10);
		m->enforced = strtoull(PQgetvalue(r, i, 3), NULL, 10);
		m->silent_ms = silent < 0 ? UINT64_MAX : (uint64_t)silent;
		m->self = m->id == self;
		m->live = m->silent_ms < p->silence_ms;
		f.head = strtoull(PQgetvalue(r, i, 5), NULL, 10);
		m->keys_acked = strtoull(PQgetvalue(r, i, 6), NULL, 10);
	}
	PQclear(r);
	pthread_mutex_lock(&p->mu);
	moved = sp_positions_moved(&p->fl, &f);
	p->fl = f;
	p->fl_read_ms = now;
	pthread_mutex_unlock(&p->mu);
	/* The event loop answers a --wait=fleet now rather than at its next
	 * timer (commit_take() drains the descriptor). */
	if (moved && write(p->base.commit_fd, &one, sizeof(one)) < 0)
		or_log(OR_LOG_ERR, "fleet: commit_fd: %s", strerror(errno));
	return 0;
}

/* The follower has lost the system of record: the positions say so. */
static void
sp_positions_lost(struct sor_pg *p)
{
	pthread_mutex_lock(&p->mu);
	p->fl.connected = 0;
	pthread_mutex_unlock(&p->mu);
}

/* Sleeps until a notification, the writer's wake, stop, or report_ms. */
static void
sp_follower_wait(struct sor_pg *p)
{
	struct pollfd pf[2] = {
		{ .fd = p->wake_fd, .events = POLLIN },
		{ .fd = p->fc != NULL ? PQsocket(p->fc) : -1,
		  .events = POLLIN },
	};
	uint64_t v;
	PGnotify *nf;
	int queued = 0;

	/* A notification that came in during the last queries is in libpq's
	 * queue, not on the socket any more: poll would not see it. */
	if (p->fc != NULL)
		while ((nf = PQnotifies(p->fc)) != NULL) {
			PQfreemem(nf);
			queued = 1;
		}
	pthread_mutex_lock(&p->mu);
	if (p->wake || p->stop || queued) {
		p->wake = 0;
		pthread_mutex_unlock(&p->mu);
		return;
	}
	pthread_mutex_unlock(&p->mu);
	if (poll(pf, pf[1].fd >= 0 ? 2 : 1, (int)p->report_ms) > 0 &&
	    (pf[0].revents & POLLIN) &&
	    read(p->wake_fd, &v, sizeof(v)) < 0)
		v = 0;
	pthread_mutex_lock(&p->mu);
	p->wake = 0;
	pthread_mutex_unlock(&p->mu);
	if (p->fc != NULL && PQconsumeInput(p->fc) == 1)
		while ((nf = PQnotifies(p->fc)) != NULL)
			PQfreemem(nf); /* it only wakes: the tail reads */
}

/* The position is gone, or too far behind: a fresh copy from one
 * snapshot, swapped in; then the dataplane gets a full resync from it
 * (sink.replaced), so that an entry the record no longer has is swept. */
static int
sp_resync(struct sor_pg *p, const char *why, struct or_err *err)
{
	const struct or_sor_sink *k = &p->base.sink;
	struct or_pg_pos pos;
	uint64_t records;
	int rc;

	or_log(OR_LOG_WARNING, "fleet: full resync (%s)", why);
	rc = or_pg_resync_build(p->fc, p->copy_path, p->copy_conf.map_size,
				&pos, &records, err);
	if (rc < 0)
		return rc;
	pthread_rwlock_wrlock(&p->copy_lock);
	or_copy_close(p->copy);
	p->copy = NULL;
	rc = or_pg_resync_swap(p->copy_path, 1, err);
	if (rc == 0)
		rc = or_copy_open(&p->copy_conf, &p->copy, err);
	if (rc == 0 && or_copy_start(p->copy) < 0) {
		or_err_set(err, "cannot start the copy's fold thread");
		rc = -EAGAIN;
	}
	pthread_rwlock_unlock(&p->copy_lock);
	if (rc < 0) {
		/* No copy to serve from: nothing is safe to go on with. */
		or_log(OR_LOG_ERR, "fleet: resync: %s; stopping", err->msg);
		abort();
	}
	p->pos = pos;
	pthread_mutex_lock(&p->mu);
	p->applied = pos.seq;
	p->resyncs++;
	pthread_cond_broadcast(&p->cv);
	pthread_mutex_unlock(&p->mu);
	or_log(OR_LOG_NOTICE, "fleet: full resync done: %" PRIu64
	       " records at seq %" PRIu64, records, pos.seq);
	if (k->replaced != NULL)
		k->replaced(k->arg);
	if (k->auth_changed != NULL)
		k->auth_changed(k->arg);
	return 0;
}

/* More missed entries than a resync is worth replaying (the fleet's head
 * as last read). */
static int
sp_too_far(struct sor_pg *p)
{
	uint64_t head, recs = 0, limit = p->resync_after;
	struct or_store_stats st;
	struct or_err err = { "" };

	pthread_mutex_lock(&p->mu);
	head = p->fl.head;
	pthread_mutex_unlock(&p->mu);
	if (head <= p->pos.seq)
		return 0;
	if (limit == 0) {
		pthread_rwlock_rdlock(&p->copy_lock);
		if (or_copy_stats(p->copy, &st, NULL, &err) == 0)
			recs = st.entries;
		pthread_rwlock_unlock(&p->copy_lock);
		limit = recs > 1000000 ? recs : 1000000;
	}
	return head - p->pos.seq > limit;
}

void *
sp_follower(void *arg)
{
	struct sor_pg *p = arg;
	uint64_t bad = 0;
	int broken = 0, down = 0, fresh = 1;

	for (;;) {
		struct or_err err = { "" };
		int rc;

		pthread_mutex_lock(&p->mu);
		rc = p->stop;
		pthread_mutex_unlock(&p->mu);
		if (rc)
			break;
		if (sp_follower_connect(p, &err) < 0) {
			sp_positions_lost(p);
			if (!down)
				or_log(OR_LOG_ERR, "fleet: follower: %s "
				       "(forwarding on the local copy, seq %"
				       PRIu64 ")", err.msg, p->pos.seq);
			down = 1;
			sp_follower_wait(p);
			continue;
		}
		if (down)
			or_log(OR_LOG_NOTICE, "fleet: follower connected; "
			       "catching up from %" PRIu64, p->pos.seq);
		fresh |= down;
		down = 0;
		/* On a new connection the head is read before the tail, so
		 * that one too far behind resyncs rather than replays. */
		if (fresh && sp_read_positions(p, sp_now_ms(), &err) < 0)
			goto io;
		fresh = 0;
		if (!broken && sp_too_far(p) &&
		    sp_resync(p, "too far behind the fleet's head", &err) < 0)
			goto io;
		rc = broken ? 0
			    : or_pg_tail(p->fc, &p->pos, SP_ROUND, SP_BATCH,
					 sp_apply, p, &bad, &err);
		if (rc == -ESTALE) {
			char why[sizeof(err.msg)];

			snprintf(why, sizeof(why), "%s", err.msg);
			if (sp_resync(p, why, &err) < 0)
				goto io;
			continue;
		}
		if (rc == -EAGAIN) {
			/* The copy's log is full: its fold catches up. */
			sp_follower_wait(p);
			continue;
		}
		if (rc < 0 && rc != -EIO) {
			/* An altered trail (or a copy that cannot be
			 * written): applying stops, forwarding goes on on the
			 * last state, an operator must look. */
			or_log(OR_LOG_ERR, "fleet: %s; not applying further "
			       "changes", err.msg);
			broken = 1;
			rc = 0;
		}
		if (rc >= 0 && (sp_report(p, sp_now_ms(), &err) < 0 ||
				sp_read_positions(p, sp_now_ms(), &err) < 0))
			rc = -EIO;
		if (rc >= 0) {
			if (rc < (int)SP_ROUND)
				sp_follower_wait(p);
			continue;
		}
io:
		or_log(OR_LOG_WARNING, "fleet: follower: %s", err.msg);
		sp_positions_lost(p);
		PQfinish(p->fc);
		p->fc = NULL;
		fresh = 1;
		sp_follower_wait(p); /* paces the retries */
	}
	return NULL;
}

