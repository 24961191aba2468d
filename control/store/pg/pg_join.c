/* SPDX-License-Identifier: BSD-3-Clause
 *
 * Joining the fleet row (pg_writer.h, docs/fleet.md section 3): created by
 * the first appliance, checked by every other against its master key's
 * fingerprint, node policy and key epoch.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <sodium.h>

#include "control/lib/pg/or_pg.h"
#include "control/store/pg/pg_writer.h"

int
or_pg_fleet_join(PGconn *c, const struct or_pg_fleet_conf *fc,
		 struct or_err *err)
{
	static const char ins[] =
		"INSERT INTO optroute.fleet (id, fleet_id, head_seq, head_hash,"
		" n_in, n_out, auth_current, auth_previous, auth_seq,"
		" key_check, node_policy, key_epoch) VALUES (1,"
		" gen_random_uuid(), 0, decode(repeat('00', 32), 'hex'), 0, 0,"
		" 0, NULL, 0, $1::bytea, $2, $3) ON CONFLICT (id) DO NOTHING";
	static const char sel[] =
		"SELECT encode(key_check, 'hex'), node_policy, key_epoch"
		" FROM optroute.fleet WHERE id = 1";
	char kc[2 * 16 + 3] = "\\x", ep[8], mine[2 * 16 + 1];
	const char *pv[3] = { kc, fc->node_policy, ep };
	PGresult *r;
	int rc;

	sodium_bin2hex(kc + 2, sizeof(kc) - 2, fc->key_check, 16);
	snprintf(ep, sizeof(ep), "%u", fc->key_epoch);
	rc = or_pg_exec(c, ins, 3, pv, "system of record: joining the fleet",
		     err, NULL);
	if (rc < 0)
		return rc;
	r = PQexec(c, sel);
	if (PQresultStatus(r) != PGRES_TUPLES_OK || PQntuples(r) != 1) {
		or_pg_err(err, c, r, "system of record: reading the fleet row");
		PQclear(r);
		return -EIO;
	}
	sodium_bin2hex(mine, sizeof(mine), fc->key_check, 16);
	if (strcmp(PQgetvalue(r, 0, 0), mine) != 0) {
		or_err_set(err, "the master key differs from the fleet's "
			   "(key check mismatch): every appliance needs the same key");
		rc = -EKEYREJECTED;
	} else if (strcmp(PQgetvalue(r, 0, 1), fc->node_policy) != 0) {
		or_err_set(err, "node_policy '%s' differs from the fleet's '%s'",
			   fc->node_policy, PQgetvalue(r, 0, 1));
		rc = -EINVAL;
	} else if (strcmp(PQgetvalue(r, 0, 2), ep) != 0) {
		or_err_set(err, "key_epoch %s differs from the fleet's %s", ep,
			   PQgetvalue(r, 0, 2));
		rc = -EINVAL;
	}
	PQclear(r);
	return rc;
}
