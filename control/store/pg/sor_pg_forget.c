/* SPDX-License-Identifier: BSD-3-Clause
 *
 * fleet --forget NAME (docs/fleet.md section 8): a decommissioned
 * appliance's row removed, so that it is listed no more. One transaction
 * on a connection of its own (an operator's rare command, as the auth
 * epochs): the row locked (FOR UPDATE, so that a registration of the same
 * name waits for the outcome), refused if it reported within
 * fleet_silence_ms, then the appliance's advisory lock tried: a running
 * appliance's follower holds it for its whole session, so taking it
 * proves nobody is connected under that id; then the row deleted. The
 * trail is not touched (it names no appliance); an appliance forgotten
 * by mistake registers again, under a new id, when it starts.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "optroute/log.h"

#include "control/store/pg/sor_pg_priv.h"

static int
sp_forget_tx(struct sor_pg *p, PGconn *c, const char *name, long *id,
	     struct or_err *err)
{
	char sql[96], key[24];
	const char *pv[1] = { name };
	PGresult *r = NULL;
	long long age;
	int rc;

	snprintf(sql, sizeof(sql), "SET LOCAL statement_timeout = %u",
		 p->commit_ms);
	rc = or_pg_exec(c, sql, 0, NULL, "system of record: forget", err,
			NULL);
	if (rc == 0)
		rc = or_pg_exec(c, "SELECT id, COALESCE((EXTRACT(EPOCH FROM"
				" now() - reported_at) * 1000)::bigint, -1)"
				" FROM optroute.appliance WHERE name = $1"
				" FOR UPDATE", 1, pv,
				"system of record: forget", err, &r);
	if (rc < 0)
		return rc;
	if (PQntuples(r) != 1) {
		PQclear(r);
		or_err_set(err, "no appliance named %s in the fleet", name);
		return -ENOENT;
	}
	*id = strtol(PQgetvalue(r, 0, 0), NULL, 10);
	age = strtoll(PQgetvalue(r, 0, 1), NULL, 10);
	PQclear(r);
	if (age >= 0 && (unsigned long long)age < p->silence_ms) {
		or_err_set(err, "%s is live (reported %lld ms ago): stop it, "
			   "then forget it once silent for %u ms", name, age,
			   p->silence_ms);
		return -EBUSY;
	}
	snprintf(sql, sizeof(sql), "SELECT pg_try_advisory_xact_lock(%d, %ld)",
		 OR_PG_LOCK_CLASS, (long)SP_LOCK_APPLIANCE + *id);
	rc = or_pg_exec(c, sql, 0, NULL, "system of record: forget", err, &r);
	if (rc < 0)
		return rc;
	if (strcmp(PQgetvalue(r, 0, 0), "t") != 0) {
		PQclear(r);
		or_err_set(err, "%s is silent but still connected (its "
			   "follower holds its lock): stop it first", name);
		return -EBUSY;
	}
	PQclear(r);
	snprintf(key, sizeof(key), "%ld", *id);
	pv[0] = key;
	return or_pg_exec(c, "DELETE FROM optroute.appliance WHERE id = $1", 1,
			  pv, "system of record: forget", err, NULL);
}

int
sor_pg_forget(struct or_sor *s, const char *name, struct or_err *err)
{
	struct sor_pg *p = sor_pg(s);
	long id = 0;
	PGconn *c;
	int rc;

	if (strcmp(name, p->name) == 0) {
		or_err_set(err, "%s is this appliance: forget it from another "
			   "one, once it is stopped", name);
		return -EBUSY;
	}
	rc = sp_connect(p, "optroute-control forget", &c, err);
	if (rc < 0)
		return rc;
	rc = or_pg_exec(c, "BEGIN", 0, NULL, "system of record: forget", err,
			NULL);
	if (rc == 0)
		rc = sp_forget_tx(p, c, name, &id, err);
	if (rc == 0)
		rc = or_pg_exec(c, "COMMIT", 0, NULL,
				"system of record: forget", err, NULL);
	PQfinish(c); /* a transaction left open is rolled back */
	if (rc == 0)
		or_log(OR_LOG_NOTICE, "fleet: appliance %s (id %ld) forgotten",
		       name, id);
	return rc;
}
