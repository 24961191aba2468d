/* SPDX-License-Identifier: BSD-3-Clause
 *
 * The "postgresql" backend of the system of record: opening, the writer
 * thread and the sor.h interface. The threads, and which of them owns
 * what, are described once in sor_pg_priv.h; the follower is
 * sor_pg_follow.c, the audit chain's reads sor_pg_audit.c.
 *
 * Not yet (docs/fleet.md section 15): settling a commit whose outcome was
 * lost (reported "unknown"), auth epoch rotation in a fleet, the timeline
 * guard.
 */
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "optroute/log.h"

#include "control/store/pg/pg_resync.h"
#include "control/store/pg/sor_pg_priv.h"

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
	rc = sp_connect(p, "optroute-control writer", &p->wc, err);
	if (rc < 0)
		return rc;
	snprintf(sql, sizeof(sql),
		 "SET statement_timeout = %u; "
		 "SET idle_in_transaction_session_timeout = 5000",
		 p->commit_ms);
	rc = or_pg_exec(p->wc, sql, 0, NULL, "system of record: session", err, NULL);
	if (rc == 0) {
		PGresult *r = PQexec(p->wc, "SELECT pid, backend_start::text FROM"
				     " pg_stat_activity WHERE pid = pg_backend_pid()");

		rc = PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) == 1
			     ? 0
			     : -EIO;
		if (rc == 0) {
			snprintf(p->wpid, sizeof(p->wpid), "%s",
				 PQgetvalue(r, 0, 0));
			snprintf(p->wstart, sizeof(p->wstart), "%s",
				 PQgetvalue(r, 0, 1));
		} else {
			or_pg_err(err, p->wc, r, "system of record: session");
		}
		PQclear(r);
	}
	if (rc < 0) {
		PQfinish(p->wc);
		p->wc = NULL;
	}
	return rc;
}

/* This appliance's id (0 until registered; set by whichever thread
 * registers first, the same value for a name). */
uint16_t
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
int
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

/* On the writer's connection: 1 if this appliance's row says group g
 * committed with first seq s, 0 if not, -EIO. */
static int
sp_group_recorded(struct sor_pg *p, uint64_t g, uint64_t s,
		  struct or_err *err)
{
	char q[128];
	PGresult *r;
	int rc = -EIO;

	snprintf(q, sizeof(q), "SELECT last_group, coalesce(last_group_seq, 0)"
		 " FROM optroute.appliance WHERE id = %u", sp_id(p));
	r = PQexec(p->wc, q);
	if (PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) == 1)
		rc = strtoull(PQgetvalue(r, 0, 0), NULL, 10) == g &&
		     strtoull(PQgetvalue(r, 0, 1), NULL, 10) == s;
	else
		or_pg_err(err, p->wc, r, "system of record: settling");
	PQclear(r);
	return rc;
}

/* On the writer's connection: asks the backend (pid, start) to end, if it
 * is still there. 1 gone, 0 still there, -EIO. */
static int
sp_backend_gone(struct sor_pg *p, const char *pid, const char *start,
		struct or_err *err)
{
	const char *pv[2] = { pid, start };
	PGresult *r = PQexecParams(p->wc,
		"SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
		" WHERE pid = $1::int AND backend_start = $2::timestamptz",
		2, NULL, pv, NULL, NULL, 0);
	int rc = PQresultStatus(r) == PGRES_TUPLES_OK ? PQntuples(r) == 0
						     : -EIO;

	if (rc < 0)
		or_pg_err(err, p->wc, r, "system of record: settling");
	PQclear(r);
	return rc;
}

/* A group whose COMMIT lost its answer with the connection (section 4).
 * Its transaction also set this appliance's last_group and
 * last_group_seq, so a new connection tells: committed as soon as the row
 * says so; not committed only once the old backend is gone too (until
 * then its commit may still become visible: a synchronous-replication
 * wait, a partition). After a failover the old backend is on the old
 * server, and the new primary holds what survived. 1 committed, 0 not,
 * -ETIMEDOUT (not settled within commit_ms: still unknown). */
static int
sp_settle(struct sor_pg *p, uint64_t group, uint64_t first_seq,
	  struct or_err *err)
{
	uint64_t until = sp_now_ms() + p->commit_ms;
	char pid[sizeof(p->wpid)], start[sizeof(p->wstart)];

	memcpy(pid, p->wpid, sizeof(pid));
	memcpy(start, p->wstart, sizeof(start));
	/* The old connection is broken, or busy with the COMMIT. */
	PQfinish(p->wc);
	p->wc = NULL;
	for (;;) {
		int rc, stop;

		if (sp_writer_connect(p, err) == 0) {
			rc = sp_group_recorded(p, group, first_seq, err);
			if (rc == 1)
				return 1;
			if (rc == 0) {
				rc = sp_backend_gone(p, pid, start, err);
				/* gone: its commit is visible now or never */
				if (rc == 1 &&
				    (rc = sp_group_recorded(p, group,
							    first_seq, err)) >= 0)
					return rc;
			}
		}
		pthread_mutex_lock(&p->mu);
		stop = p->stop;
		pthread_mutex_unlock(&p->mu);
		if (stop || sp_now_ms() >= until)
			return -ETIMEDOUT;
		usleep(100000);
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
					       &g->first_seq, p->commit_ms,
					       &g->err);
			if (rc != -ENOTCONN)
				break;
			PQfinish(p->wc);
			p->wc = NULL;
		}
		if (rc == -ECONNABORTED) {
			struct or_err why = g->err;
			int s = sp_settle(p, p->group, g->first_seq, &why);

			if (s == 1) {
				or_log(OR_LOG_NOTICE, "fleet: the answer to "
				       "the commit of seq %" PRIu64 "-%" PRIu64
				       " was lost; settled: committed",
				       g->first_seq, g->first_seq + g->n - 1);
				g->err.msg[0] = '\0';
				rc = 0;
			} else if (s == 0) {
				or_log(OR_LOG_NOTICE, "fleet: the answer to "
				       "a commit was lost; settled: not "
				       "committed");
				or_err_set(&g->err, "system of record: the "
					   "connection broke at commit and "
					   "the changes were not committed");
				rc = -EIO;
			}
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
	    (rc = or_copy_open(&p->copy_conf, &p->copy, err)) < 0 ||
	    (rc = or_copy_stats(p->copy, &st, NULL, err)) < 0)
		goto fail;
	or_copy_position(p->copy, &p->pos.seq, p->pos.hash);
	p->applied = p->pos.seq;
	/* The schema, the fleet row and this appliance are checked or made
	 * at start; the follower's connection holds the appliance's lock
	 * from here on. A refusal stops the start. An unreachable record
	 * does not, if the local copy has a state to forward on (section 6):
	 * the threads connect when it is back. An old primary the timeline
	 * guard refused (-ESTALE) counts as unreachable (section 7). */
	rc = sp_writer_connect(p, err);
	if (rc == 0)
		rc = sp_join(p, err);
	if (rc == 0)
		rc = sp_follower_connect(p, err);
	if ((rc == -ECONNREFUSED || rc == -ESTALE) && p->pos.seq > 0) {
		or_log(OR_LOG_WARNING, "fleet: %s; starting on the local copy "
		       "(seq %" PRIu64 ", %" PRIu64 " records): changes are "
		       "refused until the system of record is back", err->msg,
		       p->pos.seq, st.entries);
		PQfinish(p->fc);
		p->fc = NULL;
		rc = 0;
	} else if (rc == -ECONNREFUSED || rc == -ESTALE) {
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

	if (or_copy_start(p->copy) < 0 ||
	    pthread_create(&p->follower, NULL, sp_follower, p) != 0)
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
	or_copy_close(p->copy);
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

	/* Drained first: a group done after this read signals again. */
	if (read(s->commit_fd, &v, sizeof(v)) < 0)
		v = 0;
	pthread_mutex_lock(&p->mu);
	g = p->done;
	p->done = NULL;
	pthread_mutex_unlock(&p->mu);
	return g;
}

static int
sor_pg_get(struct or_sor *s, const struct or_token *t, struct or_consent *out)
{
	struct sor_pg *p = sor_pg(s);
	int rc;

	pthread_rwlock_rdlock(&p->copy_lock);
	rc = or_copy_get(p->copy, t, out);
	pthread_rwlock_unlock(&p->copy_lock);
	return rc;
}

/* Reads come from the copy: its position, and whether the follower
 * reaches the system of record to move it on. */
static int
sor_pg_read_pos(struct or_sor *s, struct or_sor_read_pos *rp,
		struct or_err *err)
{
	struct sor_pg *p = sor_pg(s);
	uint8_t hash[OR_AUDIT_HASH_LEN];

	(void)err;
	pthread_rwlock_rdlock(&p->copy_lock);
	or_copy_position(p->copy, &rp->seq, hash);
	pthread_rwlock_unlock(&p->copy_lock);
	pthread_mutex_lock(&p->mu);
	rp->connected = p->fl.connected;
	pthread_mutex_unlock(&p->mu);
	rp->fleet = 1;
	return 0;
}

static int
sor_pg_snapshot(struct or_sor *s, struct or_store_entry *buf, unsigned cap,
		or_store_chunk_cb cb, void *arg, uint64_t *snap_seq,
		struct or_err *err)
{
	struct sor_pg *p = sor_pg(s);
	int rc;

	pthread_rwlock_rdlock(&p->copy_lock);
	rc = or_copy_snapshot(p->copy, buf, cap, cb, arg, snap_seq, err);
	pthread_rwlock_unlock(&p->copy_lock);
	return rc;
}

static int
sor_pg_hash_at(struct or_sor *s, uint64_t seq,
	       uint8_t hash[OR_AUDIT_HASH_LEN], struct or_err *err)
{
	struct sor_pg *p = sor_pg(s);
	int rc;

	pthread_rwlock_rdlock(&p->copy_lock);
	rc = or_copy_hash_at(p->copy, seq, hash, err);
	pthread_rwlock_unlock(&p->copy_lock);
	return rc;
}

static int
sor_pg_changes_since(struct or_sor *s, uint64_t seq,
		     const uint8_t hash[OR_AUDIT_HASH_LEN], uint64_t max,
		     struct or_store_entry *buf, unsigned cap,
		     or_store_chunk_cb cb, void *arg, uint64_t *snap_seq,
		     struct or_err *err)
{
	struct sor_pg *p = sor_pg(s);
	int rc;

	pthread_rwlock_rdlock(&p->copy_lock);
	rc = or_copy_changes_since(p->copy, seq, hash, max, buf, cap, cb, arg,
				   snap_seq, err);
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
	rc = or_copy_auth_get(p->copy, st, err);
	pthread_rwlock_unlock(&p->copy_lock);
	return rc;
}

static int
sor_pg_stats(struct or_sor *s, struct or_store_stats *st, struct or_err *err)
{
	struct sor_pg *p = sor_pg(s);
	int rc;

	pthread_rwlock_rdlock(&p->copy_lock);
	rc = or_copy_stats(p->copy, st, NULL, err);
	pthread_rwlock_unlock(&p->copy_lock);
	return rc;
}

/* A rotation or retirement: one transaction of its own on a connection
 * of its own (rare, an operator's command), then waited for until this
 * appliance's copy holds it, so that the follower has handed the new key
 * set to the dataplane link (the sink's auth_changed) before the reply
 * waits for the dataplane's ack. Issuing keys of a new epoch waits for
 * the fleet's acks too (cp_act_keys.c). */
static int
sor_pg_auth_change(struct or_sor *s, int rotate, struct or_auth_state *st,
		   struct or_err *err)
{
	struct sor_pg *p = sor_pg(s);
	uint16_t id = sp_id(p);
	PGconn *c;
	int rc;

	if (id == 0) {
		or_err_set(err, "system of record: this appliance has not "
			   "joined the fleet yet (is PostgreSQL reachable?)");
		return -ENOTCONN;
	}
	rc = sp_connect(p, "optroute-control epochs", &c, err);
	if (rc < 0)
		return rc;
	rc = or_pg_write_auth(c, id, rotate ? OR_ACT_ROTATE : OR_ACT_RETIRE,
			      p->commit_ms, st, err);
	PQfinish(c);
	if (rc == 0)
		sp_wait_applied(p, st->seq);
	return rc;
}

static void
sor_pg_enforced(struct or_sor *s, uint64_t seq, uint64_t keys_seq)
{
	struct sor_pg *p = sor_pg(s);
	uint64_t v = 1;
	int moved;

	pthread_mutex_lock(&p->mu);
	moved = seq > p->enforced || keys_seq > p->keys_acked;
	if (moved) {
		if (seq > p->enforced)
			p->enforced = seq;
		if (keys_seq > p->keys_acked)
			p->keys_acked = keys_seq;
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
	f->timeline = p->guard_tl;
	f->stale_refusals = p->stale_refusals;
	pthread_mutex_unlock(&p->mu);
	pthread_rwlock_rdlock(&p->copy_lock);
	or_copy_fold_stats(p->copy, &f->copy);
	pthread_rwlock_unlock(&p->copy_lock);
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
	.read_pos = sor_pg_read_pos,
	.hash_at = sor_pg_hash_at,
	.changes_since = sor_pg_changes_since,
	.auth_get = sor_pg_auth_get,
	.stats = sor_pg_stats,
	.auth_change = sor_pg_auth_change,
	.audit_subject = sor_pg_audit_subject,
	.audit_verify = sor_pg_audit_verify,
	.audit_head = sor_pg_audit_head,
	.enforced = sor_pg_enforced,
	.fleet = sor_pg_fleet,
	.forget = sor_pg_forget,
};
