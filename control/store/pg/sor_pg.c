/* SPDX-License-Identifier: BSD-3-Clause
 *
 * The "postgresql" backend of the system of record (sor.h; design:
 * docs/fleet.md sections 4 to 9). A fleet's PostgreSQL database holds
 * the records and the audit chain; this appliance keeps a local copy
 * (an LMDB store written only through or_store_follow) from which it
 * reads, snapshots and restarts.
 *
 * Two threads, each with its own connection:
 *  - the writer takes a submitted group, commits it (pg_writer.c), wakes
 *    the follower and waits until the copy holds the group (read your own
 *    writes; at most commit_timeout_ms), then reports the group done on
 *    commit_fd;
 *  - the follower LISTENs, tails the trail after the copy's position
 *    (pg_tail.c), applies each batch to the copy (fsync) and only then
 *    hands it to the sink, in seq order; it wakes on a NOTIFY, on the
 *    writer, or every report_ms, and reports its position in its
 *    appliance row.
 *
 * Shared state (mu): todo/done (the group handed over: event loop ->
 * writer -> event loop), applied (follower -> writer), wake, stop.
 * Everything else belongs to one thread. The local copy is an LMDB store:
 * read by any thread, written by the follower only.
 *
 * Not yet (docs/fleet.md section 15): settling a commit whose outcome was
 * lost (reported "unknown"), the full resync when the position is gone,
 * starting while PostgreSQL is unreachable, auth epoch rotation in a
 * fleet, --wait=fleet, the timeline guard.
 */
#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

#include "optroute/log.h"

#include "control/lib/pg/or_pg.h"
#include "control/store/pg/pg_resync.h"
#include "control/store/pg/pg_tail.h"
#include "control/store/pg/pg_writer.h"
#include "control/store/sor_priv.h"

#define SP_BATCH 4096              /* entries a tail batch */
#define SP_ROUND (16u * SP_BATCH)  /* entries a follower round */
#define SP_DEF_COMMIT_MS 10000
#define SP_DEF_REPORT_MS 1000
#define SP_DEF_SILENCE_MS 10000
/* Positions changed: every follower rereads them (payload empty). */
#define SP_POS_CHANNEL "optroute_pos"
/* pg_try_advisory_lock(OR_PG_LOCK_CLASS, SP_LOCK_APPLIANCE + id): one
 * daemon per appliance name; (OR_PG_LOCK_CLASS, SP_LOCK_REGISTER):
 * registrations one at a time. */
#define SP_LOCK_REGISTER 1
#define SP_LOCK_APPLIANCE 65536

struct sor_pg {
	struct or_sor base; /* first: the handle callers hold */
	/* The local copy: read by any thread, written by the follower,
	 * swapped by a full resync: every use holds copy_lock (the swap
	 * exclusively). */
	pthread_rwlock_t copy_lock;
	struct or_store *copy;
	struct or_store_conf copy_conf;
	char copy_path[4096];
	uint64_t resync_after; /* missed entries that call for a resync */
	struct or_node_policy pol;
	int has_pol;
	char *conninfo;
	char name[64];
	uint16_t id;
	struct or_pg_fleet_conf fleet;
	char policy_text[32];
	unsigned commit_ms, report_ms, silence_ms;

	pthread_mutex_t mu;
	pthread_cond_t cv;
	struct or_sor_group *todo;  /* submitted, not taken by the writer */
	struct or_sor_group *done;  /* done, not taken by the event loop */
	uint64_t applied;           /* the copy's position (follower) */
	uint64_t enforced;          /* the dataplane's ack (event loop) */
	struct or_sor_fleet fl;     /* positions as last read (follower) */
	uint64_t resyncs, catchups; /* (follower; read under mu) */
	uint64_t fl_read_ms;
	int wake;                   /* the writer asks for a tail now */
	int stop;
	int wake_fd;                /* eventfd: the follower's poll wakes */
	int started;
	pthread_t writer, follower;

	/* writer thread */
	PGconn *wc;
	uint64_t group;
	int joined; /* schema checked, fleet row joined, id known */
	/* follower thread */
	PGconn *fc;
	struct or_pg_pos pos;
	struct or_change *fch;
	struct or_change_result *fres;
	uint64_t reported, reported_enf, last_report_ms;
};

static struct sor_pg *
sor_pg(struct or_sor *s)
{
	return (struct sor_pg *)s;
}

static uint64_t
sp_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

/* The writer's connection, with its time bounds (section 4). */
static int
sp_writer_connect(struct sor_pg *p, struct or_err *err)
{
	char sql[128];
	int rc;

	if (p->wc != NULL && PQstatus(p->wc) == CONNECTION_OK)
		return 0;
	PQfinish(p->wc);
	p->wc = NULL;
	rc = or_pg_connect(p->conninfo, "optroute-control", &p->wc, err);
	if (rc < 0)
		return rc;
	snprintf(sql, sizeof(sql),
		 "SET statement_timeout = %u; "
		 "SET idle_in_transaction_session_timeout = 5000",
		 p->commit_ms);
	rc = or_pg_exec(p->wc, sql, 0, NULL, "system of record: session", err, NULL);
	if (rc < 0) {
		PQfinish(p->wc);
		p->wc = NULL;
	}
	return rc;
}

/* This appliance's id (0 until registered; set by whichever thread
 * registers first, the same value for a name). */
static uint16_t
sp_id(struct sor_pg *p)
{
	uint16_t id;

	pthread_mutex_lock(&p->mu);
	id = p->id;
	pthread_mutex_unlock(&p->mu);
	return id;
}

/* Registers the appliance (its id) and, with lock, takes its session lock
 * on c (the follower's connection holds it). */
static int
sp_register(struct sor_pg *p, PGconn *c, int lock_it, struct or_err *err)
{
	static const char reg[] =
		"INSERT INTO optroute.appliance (id, name, started_at, version)"
		" SELECT coalesce(max(id), 0) + 1, $1, now(), $2"
		" FROM optroute.appliance"
		" ON CONFLICT (name) DO UPDATE SET started_at = now(),"
		" version = EXCLUDED.version RETURNING id";
	const char *pv[2] = { p->name, "optroute" };
	char lock[96];
	PGresult *r;
	int rc;

	snprintf(lock, sizeof(lock),
		 "BEGIN; SELECT pg_advisory_xact_lock(%d, %d)",
		 OR_PG_LOCK_CLASS, SP_LOCK_REGISTER);
	if ((rc = or_pg_exec(c, lock, 0, NULL, "system of record: register",
			  err, NULL)) < 0)
		return rc;
	r = PQexecParams(c, reg, 2, NULL, pv, NULL, NULL, 0);
	if (PQresultStatus(r) != PGRES_TUPLES_OK || PQntuples(r) != 1) {
		or_pg_err(err, c, r, "system of record: register");
		PQclear(r);
		PQclear(PQexec(c, "ROLLBACK"));
		return -EIO;
	}
	pthread_mutex_lock(&p->mu);
	p->id = (uint16_t)strtoul(PQgetvalue(r, 0, 0), NULL, 10);
	pthread_mutex_unlock(&p->mu);
	PQclear(r);
	if ((rc = or_pg_exec(c, "COMMIT", 0, NULL, "system of record: register",
			  err, NULL)) < 0 || !lock_it)
		return rc;
	snprintf(lock, sizeof(lock), "SELECT pg_try_advisory_lock(%d, %d)",
		 OR_PG_LOCK_CLASS, SP_LOCK_APPLIANCE + sp_id(p));
	r = PQexec(c, lock);
	rc = PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) == 1 &&
	     strcmp(PQgetvalue(r, 0, 0), "t") == 0;
	PQclear(r);
	if (!rc) {
		or_err_set(err, "appliance '%s' is already connected (another "
			   "optroute-control with the same appliance_name)",
			   p->name);
		return -EEXIST;
	}
	return 0;
}

/* The follower's connection: its session lock, LISTEN. */
static int
sp_follower_connect(struct sor_pg *p, struct or_err *err)
{
	int rc;

	if (p->fc != NULL && PQstatus(p->fc) == CONNECTION_OK)
		return 0;
	PQfinish(p->fc);
	p->fc = NULL;
	rc = or_pg_connect(p->conninfo, "optroute-control", &p->fc, err);
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

/* ---- follower ------------------------------------------------------ */

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
	rc = or_store_follow(p->copy, e, n, p->fres, &err);
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
		", enforced_seq = %" PRIu64 ", reported_at = now()"
		" WHERE id = %u;%s COMMIT";
	char q[sizeof(sql) + 96];
	uint64_t enf;
	int moved;

	pthread_mutex_lock(&p->mu);
	enf = p->enforced;
	pthread_mutex_unlock(&p->mu);
	moved = p->reported != p->pos.seq || p->reported_enf != enf;
	if (!moved && now - p->last_report_ms < p->report_ms)
		return 0;
	snprintf(q, sizeof(q), sql, p->pos.seq, enf, sp_id(p),
		 moved ? " NOTIFY " SP_POS_CHANNEL ";" : "");
	if (or_pg_exec(p->fc, q, 0, NULL, "fleet: report", err, NULL) < 0) {
		PQclear(PQexec(p->fc, "ROLLBACK"));
		return -EIO;
	}
	p->reported = p->pos.seq;
	p->reported_enf = enf;
	p->last_report_ms = now;
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
		" (SELECT head_seq FROM optroute.fleet WHERE id = 1)"
		" FROM optroute.appliance ORDER BY id");
	struct or_sor_fleet f = { .fleet = 1, .connected = 1 };
	uint16_t self = sp_id(p);
	int rows;

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
	}
	PQclear(r);
	pthread_mutex_lock(&p->mu);
	p->fl = f;
	p->fl_read_ms = now;
	pthread_mutex_unlock(&p->mu);
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

	pthread_mutex_lock(&p->mu);
	if (p->wake || p->stop) {
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
	or_store_close(p->copy);
	p->copy = NULL;
	rc = or_pg_resync_swap(p->copy_path, 1, err);
	if (rc == 0)
		rc = or_store_open(&p->copy_conf, &p->copy, err);
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
		if (or_store_stats(p->copy, &st, &err) == 0)
			recs = st.entries;
		pthread_rwlock_unlock(&p->copy_lock);
		limit = recs > 1000000 ? recs : 1000000;
	}
	return head - p->pos.seq > limit;
}

static void *
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

/* ---- writer -------------------------------------------------------- */

/* The schema checked (or brought up), the fleet row joined and this
 * appliance's id known, on the writer's connection: at open, or at the
 * first connection of an appliance that started on its local copy while
 * the system of record was unreachable. */
static int
sp_join(struct sor_pg *p, struct or_err *err)
{
	int rc;

	if (p->joined)
		return 0;
	if ((rc = or_pg_migrate(p->wc, err)) < 0 ||
	    (rc = or_pg_fleet_join(p->wc, &p->fleet, err)) < 0 ||
	    (rc = sp_register(p, p->wc, 0, err)) < 0)
		return rc;
	p->joined = 1;
	return 0;
}

/* The group's outcome from or_pg_write_group's code. */
static void
sp_outcome(struct sor_pg *p, struct or_sor_group *g, int rc)
{
	g->rc = rc;
	if (rc == 0) {
		g->outcome = OR_SOR_COMMITTED;
	} else if (rc == -ECONNABORTED) {
		g->outcome = OR_SOR_UNKNOWN;
	} else {
		g->outcome = OR_SOR_NOT_COMMITTED;
	}
	if (rc != 0 && rc != -EINVAL && p->wc != NULL &&
	    PQstatus(p->wc) != CONNECTION_OK) {
		PQfinish(p->wc);
		p->wc = NULL;
	}
}

/* Until the copy holds seq, or commit_ms passed. */
static void
sp_wait_applied(struct sor_pg *p, uint64_t seq)
{
	struct timespec until;
	uint64_t v = 1;

	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_sec += p->commit_ms / 1000;
	until.tv_nsec += (long)(p->commit_ms % 1000) * 1000000L;
	if (until.tv_nsec >= 1000000000L) {
		until.tv_sec++;
		until.tv_nsec -= 1000000000L;
	}
	pthread_mutex_lock(&p->mu);
	p->wake = 1;
	pthread_mutex_unlock(&p->mu);
	if (write(p->wake_fd, &v, sizeof(v)) < 0)
		v = 0;
	pthread_mutex_lock(&p->mu);
	while (p->applied < seq && !p->stop)
		if (pthread_cond_timedwait(&p->cv, &p->mu, &until) != 0)
			break;
	pthread_mutex_unlock(&p->mu);
}

static void *
sp_writer(void *arg)
{
	struct sor_pg *p = arg;

	for (;;) {
		struct or_sor_group *g;
		struct or_err err = { "" };
		uint16_t id;
		uint64_t one = 1;
		int rc;

		pthread_mutex_lock(&p->mu);
		while (p->todo == NULL && !p->stop)
			pthread_cond_wait(&p->cv, &p->mu);
		g = p->todo;
		p->todo = NULL;
		pthread_mutex_unlock(&p->mu);
		if (g == NULL)
			break;
		/* A connection found dead before the group was sent (the
		 * server restarted, or failed over to a standby) gets one
		 * new connection: through a multi-host conninfo, the new
		 * primary. */
		for (int tries = 0; tries < 2; tries++) {
			rc = sp_writer_connect(p, &err);
			if (rc < 0) {
				g->err = err;
				rc = -ENOTCONN;
				break;
			}
			rc = sp_join(p, &g->err);
			if (rc < 0) {
				/* a refusal (another master key, policy) */
				rc = rc == -EIO ? -ENOTCONN : -EPERM;
				break;
			}
			id = sp_id(p);
			rc = or_pg_write_group(p->wc, id, ++p->group,
					       p->has_pol ? &p->pol : NULL,
					       g->ch, g->n, g->res,
					       &g->first_seq, &g->err);
			if (rc != -ENOTCONN)
				break;
			PQfinish(p->wc);
			p->wc = NULL;
		}
		sp_outcome(p, g, rc);
		if (g->outcome == OR_SOR_COMMITTED)
			sp_wait_applied(p, g->first_seq + g->n - 1);
		pthread_mutex_lock(&p->mu);
		p->done = g;
		pthread_mutex_unlock(&p->mu);
		if (write(p->base.commit_fd, &one, sizeof(one)) < 0)
			or_log(OR_LOG_ERR, "fleet: commit_fd: %s",
			       strerror(errno));
	}
	return NULL;
}

/* ---- the interface -------------------------------------------------- */

static int
sp_check_conf(const struct or_sor_conf *c, struct or_err *err)
{
	size_t n;
	int rc = or_pg_conninfo_check(c->conninfo, err);

	if (rc < 0)
		return rc;
	n = c->appliance != NULL ? strlen(c->appliance) : 0;
	if (n == 0 || n > 63 ||
	    strspn(c->appliance, "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
				 "abcdefghijklmnopqrstuvwxyz0123456789._-") != n) {
		or_err_set(err, "appliance name must be 1 to 63 of "
			   "A-Z a-z 0-9 . _ -");
		return -EINVAL;
	}
	if (c->node_policy == NULL) {
		or_err_set(err, "a fleet needs a node policy");
		return -EINVAL;
	}
	return 0;
}

static void sor_pg_close(struct or_sor *s);

static int
sor_pg_open(const struct or_sor_conf *conf, struct or_sor **out,
	    struct or_err *err)
{
	struct sor_pg *p;
	struct or_store_stats st;
	int rc;

	if ((rc = sp_check_conf(conf, err)) < 0)
		return rc;
	p = calloc(1, sizeof(*p));
	if (p == NULL || (p->conninfo = strdup(conf->conninfo)) == NULL ||
	    (p->fch = calloc(SP_BATCH, sizeof(*p->fch))) == NULL ||
	    (p->fres = calloc(SP_BATCH, sizeof(*p->fres))) == NULL) {
		if (p != NULL) {
			free(p->conninfo);
			free(p->fch);
		}
		free(p);
		or_err_set(err, "out of memory");
		return -ENOMEM;
	}
	p->base.ops = &or_sor_pg_ops;
	p->base.sink = conf->sink;
	p->base.commit_fd = -1;
	p->wake_fd = -1;
	pthread_mutex_init(&p->mu, NULL);
	pthread_cond_init(&p->cv, NULL);
	pthread_rwlock_init(&p->copy_lock, NULL);
	p->copy_conf = conf->store;
	snprintf(p->copy_path, sizeof(p->copy_path), "%s", conf->store.path);
	p->copy_conf.path = p->copy_path;
	p->resync_after = conf->resync_after;
	snprintf(p->name, sizeof(p->name), "%s", conf->appliance);
	p->pol = *conf->node_policy;
	p->has_pol = 1;
	or_node_policy_format(&p->pol, p->policy_text, sizeof(p->policy_text));
	memcpy(p->fleet.key_check, conf->key_check, sizeof(conf->key_check));
	p->fleet.node_policy = p->policy_text;
	p->fleet.key_epoch = conf->key_epoch;
	p->commit_ms = conf->commit_timeout_ms ? conf->commit_timeout_ms
					       : SP_DEF_COMMIT_MS;
	p->report_ms = conf->report_ms ? conf->report_ms : SP_DEF_REPORT_MS;
	p->silence_ms = conf->silence_ms ? conf->silence_ms : SP_DEF_SILENCE_MS;
	*out = &p->base;

	p->base.commit_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	p->wake_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (p->base.commit_fd < 0 || p->wake_fd < 0) {
		rc = -errno;
		or_err_set(err, "eventfd: %s", strerror(errno));
		goto fail;
	}
	if (strlen(conf->store.path) >= sizeof(p->copy_path)) {
		or_err_set(err, "store_path too long");
		rc = -ENAMETOOLONG;
		goto fail;
	}
	/* A resync a crash interrupted is finished or dropped first. */
	if ((rc = or_pg_resync_swap(p->copy_path, 0, err)) < 0 ||
	    (rc = or_store_open(&p->copy_conf, &p->copy, err)) < 0 ||
	    (rc = or_store_stats(p->copy, &st, err)) < 0 ||
	    (rc = or_audit_head(p->copy, &p->pos.seq, p->pos.hash, err)) < 0)
		goto fail;
	p->applied = p->pos.seq;
	/* The schema, the fleet row and this appliance are checked or made
	 * at start; the follower's connection holds the appliance's lock
	 * from here on. A refusal stops the start. An unreachable record
	 * does not, if the local copy has a state to forward on (section 6):
	 * the threads connect when it is back. */
	rc = sp_writer_connect(p, err);
	if (rc == 0)
		rc = sp_join(p, err);
	if (rc == 0)
		rc = sp_follower_connect(p, err);
	if (rc == -ECONNREFUSED && p->pos.seq > 0) {
		or_log(OR_LOG_WARNING, "fleet: %s; starting on the local copy "
		       "(seq %" PRIu64 ", %" PRIu64 " records): changes are "
		       "refused until the system of record is back", err->msg,
		       p->pos.seq, st.entries);
		PQfinish(p->fc);
		p->fc = NULL;
		rc = 0;
	} else if (rc == -ECONNREFUSED) {
		char why[sizeof(err->msg)];

		snprintf(why, sizeof(why), "%s", err->msg);
		or_err_set(err, "%s; and the local copy %s has never been "
			   "synced: no state to forward on", why, p->copy_path);
	}
	if (rc < 0)
		goto fail;
	return 0;
fail:
	sor_pg_close(&p->base);
	*out = NULL;
	return rc;
}

static int
sor_pg_start(struct or_sor *s)
{
	struct sor_pg *p = sor_pg(s);

	if (pthread_create(&p->follower, NULL, sp_follower, p) != 0)
		return -EAGAIN;
	if (pthread_create(&p->writer, NULL, sp_writer, p) != 0) {
		pthread_mutex_lock(&p->mu);
		p->stop = 1;
		pthread_mutex_unlock(&p->mu);
		pthread_join(p->follower, NULL);
		return -EAGAIN;
	}
	p->started = 1;
	return 0;
}

static void
sor_pg_stop(struct or_sor *s)
{
	struct sor_pg *p = sor_pg(s);
	uint64_t v = 1;

	if (!p->started)
		return;
	pthread_mutex_lock(&p->mu);
	p->stop = 1;
	pthread_cond_broadcast(&p->cv);
	pthread_mutex_unlock(&p->mu);
	if (write(p->wake_fd, &v, sizeof(v)) < 0)
		v = 0;
	pthread_join(p->writer, NULL);
	pthread_join(p->follower, NULL);
	p->started = 0;
}

static void
sor_pg_close(struct or_sor *s)
{
	struct sor_pg *p = sor_pg(s);

	sor_pg_stop(s);
	PQfinish(p->wc);
	PQfinish(p->fc);
	or_store_close(p->copy);
	if (p->base.commit_fd >= 0)
		close(p->base.commit_fd);
	if (p->wake_fd >= 0)
		close(p->wake_fd);
	pthread_cond_destroy(&p->cv);
	pthread_mutex_destroy(&p->mu);
	pthread_rwlock_destroy(&p->copy_lock);
	free(p->conninfo);
	free(p->fch);
	free(p->fres);
	free(p);
}

static int
sor_pg_commit_submit(struct or_sor *s, struct or_sor_group *g)
{
	struct sor_pg *p = sor_pg(s);
	int rc = 0;

	pthread_mutex_lock(&p->mu);
	if (p->todo != NULL || p->done != NULL) {
		rc = -EBUSY;
	} else {
		g->err.msg[0] = '\0';
		g->first_seq = 0;
		g->outcome = 0;
		p->todo = g;
		pthread_cond_broadcast(&p->cv);
	}
	pthread_mutex_unlock(&p->mu);
	return rc;
}

static struct or_sor_group *
sor_pg_commit_take(struct or_sor *s)
{
	struct sor_pg *p = sor_pg(s);
	struct or_sor_group *g;
	uint64_t v;

	pthread_mutex_lock(&p->mu);
	g = p->done;
	p->done = NULL;
	pthread_mutex_unlock(&p->mu);
	if (g != NULL && read(s->commit_fd, &v, sizeof(v)) < 0)
		v = 0;
	return g;
}

static int
sor_pg_get(struct or_sor *s, const struct or_token *t, struct or_consent *out)
{
	struct sor_pg *p = sor_pg(s);
	int rc;

	pthread_rwlock_rdlock(&p->copy_lock);
	rc = or_store_get(p->copy, t, out);
	pthread_rwlock_unlock(&p->copy_lock);
	return rc;
}

static int
sor_pg_snapshot(struct or_sor *s, struct or_store_entry *buf, unsigned cap,
		or_store_chunk_cb cb, void *arg, uint64_t *snap_seq,
		struct or_err *err)
{
	struct sor_pg *p = sor_pg(s);
	int rc;

	pthread_rwlock_rdlock(&p->copy_lock);
	rc = or_store_snapshot(p->copy, buf, cap, cb, arg, snap_seq, err);
	pthread_rwlock_unlock(&p->copy_lock);
	return rc;
}

static int
sor_pg_auth_get(struct or_sor *s, struct or_auth_state *st,
		struct or_err *err)
{
	struct sor_pg *p = sor_pg(s);
	int rc;

	pthread_rwlock_rdlock(&p->copy_lock);
	rc = or_store_auth_get(p->copy, st, err);
	pthread_rwlock_unlock(&p->copy_lock);
	return rc;
}

static int
sor_pg_stats(struct or_sor *s, struct or_store_stats *st, struct or_err *err)
{
	struct sor_pg *p = sor_pg(s);
	int rc;

	pthread_rwlock_rdlock(&p->copy_lock);
	rc = or_store_stats(p->copy, st, err);
	pthread_rwlock_unlock(&p->copy_lock);
	return rc;
}

static int
sor_pg_auth_change(struct or_sor *s, int rotate, struct or_auth_state *st,
		   struct or_err *err)
{
	(void)s;
	(void)rotate;
	(void)st;
	or_err_set(err, "auth epochs cannot be rotated or retired with "
		   "store = postgresql yet (docs/fleet.md section 15)");
	return -ENOTSUP;
}

/* A connection of the calling thread's own (audit jobs). */
static int
sp_job_connect(struct sor_pg *p, PGconn **c, struct or_err *err)
{
	return or_pg_connect(p->conninfo, "optroute-control audit", c, err);
}

struct sp_verify {
	const volatile int *cancel;
	uint64_t n;
};

static int
sp_verify_cb(void *arg, const struct or_audit_entry *e, unsigned n)
{
	struct sp_verify *v = arg;

	(void)e;
	v->n += n;
	return v->cancel != NULL && *v->cancel ? -ECANCELED : 0;
}

static int
sor_pg_audit_verify(struct or_sor *s, const volatile int *cancel,
		    uint64_t *bad_seq, uint64_t *n_checked, struct or_err *err)
{
	struct or_pg_pos pos = { 0 };
	struct sp_verify v = { cancel, 0 };
	PGconn *c;
	int rc = sp_job_connect(sor_pg(s), &c, err);

	if (rc < 0)
		return rc;
	rc = or_pg_tail(c, &pos, UINT64_MAX, SP_BATCH, sp_verify_cb, &v,
			bad_seq, err);
	PQfinish(c);
	if (rc == -ECANCELED)
		or_err_set(err, "cancelled");
	if (rc == -ESTALE)
		rc = -EBADMSG;
	if (rc < 0)
		return rc;
	*n_checked = v.n;
	return 0;
}

static int
sor_pg_audit_head(struct or_sor *s, uint64_t *seq,
		  uint8_t hash[OR_AUDIT_HASH_LEN], struct or_err *err)
{
	PGconn *c;
	PGresult *r;
	size_t n = 0;
	int rc = sp_job_connect(sor_pg(s), &c, err);

	if (rc < 0)
		return rc;
	r = PQexec(c, "SELECT head_seq, encode(head_hash, 'hex')"
		      " FROM optroute.fleet WHERE id = 1");
	if (PQresultStatus(r) != PGRES_TUPLES_OK || PQntuples(r) != 1 ||
	    sodium_hex2bin(hash, OR_AUDIT_HASH_LEN, PQgetvalue(r, 0, 1),
			   strlen(PQgetvalue(r, 0, 1)), NULL, &n, NULL) != 0 ||
	    n != OR_AUDIT_HASH_LEN) {
		or_pg_err(err, c, r, "system of record: the head");
		rc = -EIO;
	} else {
		*seq = strtoull(PQgetvalue(r, 0, 0), NULL, 10);
	}
	PQclear(r);
	PQfinish(c);
	return rc;
}

/* One subject's entries, each hash recomputed (the links to its
 * neighbours are audit_verify's). */
static int
sor_pg_audit_subject(struct or_sor *s, const struct or_token *t,
		     struct or_audit_entry **out, size_t *n, uint64_t *bad_seq,
		     struct or_err *err)
{
	const char *pv[1] = { (const char *)t->b };
	int len = OR_TOKEN_LEN, fmt = 1, rows;
	struct or_audit_entry *e = NULL;
	PGresult *r;
	PGconn *c;
	int rc = sp_job_connect(sor_pg(s), &c, err);

	*out = NULL;
	*n = 0;
	if (rc < 0)
		return rc;
	r = PQexecParams(c, "SELECT prev_hash, body, hash FROM optroute.audit"
			    " WHERE token = $1 ORDER BY seq",
			 1, NULL, pv, &len, &fmt, 1);
	if (PQresultStatus(r) != PGRES_TUPLES_OK) {
		or_pg_err(err, c, r, "system of record: a subject's entries");
		rc = -EIO;
		goto out;
	}
	rows = PQntuples(r);
	e = calloc(rows ? (size_t)rows : 1, sizeof(*e));
	if (e == NULL) {
		or_err_set(err, "out of memory");
		rc = -ENOMEM;
		goto out;
	}
	for (int i = 0; i < rows; i++)
		if (PQgetlength(r, i, 0) != OR_AUDIT_HASH_LEN ||
		    PQgetlength(r, i, 1) != OR_AUDIT_BODY_LEN ||
		    PQgetlength(r, i, 2) != OR_AUDIT_HASH_LEN ||
		    or_audit_unseal((const uint8_t *)PQgetvalue(r, i, 0),
				    (const uint8_t *)PQgetvalue(r, i, 1),
				    (const uint8_t *)PQgetvalue(r, i, 2),
				    &e[i]) != 0) {
			if (bad_seq != NULL)
				*bad_seq = i > 0 ? e[i - 1].seq + 1 : 0;
			or_err_set(err, "audit: an entry of the subject fails "
				   "its hash (altered)");
			rc = -EBADMSG;
			goto out;
		}
	*out = e;
	*n = (size_t)rows;
	e = NULL;
out:
	free(e);
	PQclear(r);
	PQfinish(c);
	return rc;
}

static void
sor_pg_enforced(struct or_sor *s, uint64_t seq)
{
	struct sor_pg *p = sor_pg(s);
	uint64_t v = 1;
	int moved;

	pthread_mutex_lock(&p->mu);
	moved = seq > p->enforced;
	if (moved) {
		p->enforced = seq;
		p->wake = 1;
	}
	pthread_mutex_unlock(&p->mu);
	/* The follower reports it now (a --wait=fleet elsewhere waits). */
	if (moved && write(p->wake_fd, &v, sizeof(v)) < 0)
		v = 0;
}

static void
sor_pg_fleet(struct or_sor *s, struct or_sor_fleet *f)
{
	struct sor_pg *p = sor_pg(s);

	pthread_mutex_lock(&p->mu);
	*f = p->fl;
	f->age_ms = p->fl_read_ms ? sp_now_ms() - p->fl_read_ms : UINT64_MAX;
	f->resyncs = p->resyncs;
	pthread_mutex_unlock(&p->mu);
	f->fleet = 1;
}

const struct or_sor_ops or_sor_pg_ops = {
	.name = OR_SOR_BACKEND_PG,
	.open = sor_pg_open,
	.start = sor_pg_start,
	.stop = sor_pg_stop,
	.close = sor_pg_close,
	.commit_submit = sor_pg_commit_submit,
	.commit_take = sor_pg_commit_take,
	.get = sor_pg_get,
	.snapshot = sor_pg_snapshot,
	.auth_get = sor_pg_auth_get,
	.stats = sor_pg_stats,
	.auth_change = sor_pg_auth_change,
	.audit_subject = sor_pg_audit_subject,
	.audit_verify = sor_pg_audit_verify,
	.audit_head = sor_pg_audit_head,
	.enforced = sor_pg_enforced,
	.fleet = sor_pg_fleet,
};
