/* SPDX-License-Identifier: BSD-3-Clause
 *
 * The schema of the system of record (docs/fleet.md section 3), as the
 * migrations compiled into the program.
 *
 * A released migration is never edited: its sha256 is recorded where it was
 * applied, and or_pg_migrate refuses a database whose record differs. A
 * change of schema is a new migration at the end of the list.
 *
 * optroute.schema_migrations itself is created by or_pg_migrate before
 * migration 1 (it has to exist to be read), in that migration's
 * transaction.
 */
#include <string.h>

#include <sodium.h>

#include "or_pg.h"

static const struct or_pg_migration pg_migrations[] = {
	{
		.version = 1,
		.name = "fleet schema",
		.sql =
		"CREATE TABLE optroute.fleet (\n"
		"  id smallint PRIMARY KEY CHECK (id = 1),\n"
		"  fleet_id uuid NOT NULL,\n"
		"  head_seq bigint NOT NULL,\n"
		"  head_hash bytea NOT NULL CHECK (length(head_hash) = 32),\n"
		"  n_in bigint NOT NULL, n_out bigint NOT NULL,\n"
		"  auth_current smallint NOT NULL, auth_previous smallint,\n"
		"  auth_seq bigint NOT NULL,\n"
		"  key_check bytea NOT NULL CHECK (length(key_check) = 16),\n"
		"  node_policy text NOT NULL, key_epoch smallint NOT NULL);\n"
		"CREATE TABLE optroute.consent (\n"
		"  token bytea PRIMARY KEY CHECK (length(token) = 16),\n"
		"  state smallint NOT NULL, epoch smallint NOT NULL,\n"
		"  flags smallint NOT NULL, method smallint NOT NULL,\n"
		"  node integer NOT NULL, notice_version bigint NOT NULL,\n"
		"  granted_ms bigint NOT NULL, withdrawn_ms bigint NOT NULL,\n"
		"  seq bigint NOT NULL)\n"
		"  WITH (fillfactor = 90);\n"
		"CREATE TABLE optroute.audit (\n"
		"  seq bigint PRIMARY KEY,\n"
		"  token bytea NOT NULL,\n"
		"  body bytea NOT NULL CHECK (length(body) = 44),\n"
		"  prev_hash bytea NOT NULL, hash bytea NOT NULL);\n"
		"CREATE INDEX audit_token ON optroute.audit (token, seq);\n"
		"CREATE TABLE optroute.appliance (\n"
		"  id smallint PRIMARY KEY, name text UNIQUE NOT NULL,\n"
		"  applied_seq bigint, enforced_seq bigint, keys_acked_seq bigint,\n"
		"  last_group bigint NOT NULL DEFAULT 0, last_group_seq bigint,\n"
		"  reported_at timestamptz, started_at timestamptz, version text);\n",
	},
	{
		/* The appliances' rights (docs/operations.md, "PostgreSQL
		 * roles"): the trail can be appended to and read, never
		 * rewritten (no UPDATE, DELETE or TRUNCATE on audit). */
		.version = 2,
		.name = "appliance role",
		.sql =
		"GRANT USAGE ON SCHEMA optroute TO optroute_appliance;\n"
		"GRANT SELECT ON optroute.schema_migrations TO optroute_appliance;\n"
		"GRANT SELECT, INSERT, UPDATE ON optroute.fleet TO optroute_appliance;\n"
		"GRANT SELECT, INSERT, UPDATE, DELETE ON optroute.consent\n"
		"  TO optroute_appliance;\n"
		"GRANT SELECT, INSERT ON optroute.audit TO optroute_appliance;\n"
		"GRANT SELECT, INSERT, UPDATE ON optroute.appliance\n"
		"  TO optroute_appliance;\n",
	},
	{
		/* A subject's history in its consent row, which every change
		 * of the subject writes anyway, instead of the audit_token
		 * index: that index was a second random B-tree insert per
		 * change (docs/fleet.md section 3). An erased record stays
		 * as a tombstone (state 0) holding its history; the trail
		 * names its token already. */
		.version = 3,
		.name = "subject history in the consent row",
		.sql =
		"ALTER TABLE optroute.consent\n"
		"  ADD COLUMN audit_seqs bigint[] NOT NULL DEFAULT '{}',\n"
		"  ADD CONSTRAINT consent_state CHECK (state BETWEEN 0 AND 2);\n"
		"UPDATE optroute.consent c SET audit_seqs = a.seqs\n"
		"  FROM (SELECT token, array_agg(seq ORDER BY seq) AS seqs\n"
		"        FROM optroute.audit GROUP BY token) a\n"
		"  WHERE a.token = c.token;\n"
		"INSERT INTO optroute.consent (token, state, epoch, flags,\n"
		"  method, node, notice_version, granted_ms, withdrawn_ms, seq,\n"
		"  audit_seqs)\n"
		"  SELECT token, 0, 0, 0, 0, 0, 0, 0, 0, max(seq),\n"
		"         array_agg(seq ORDER BY seq) FROM optroute.audit a\n"
		"  WHERE NOT EXISTS (SELECT 1 FROM optroute.consent c\n"
		"                    WHERE c.token = a.token)\n"
		"  GROUP BY token;\n"
		"DROP INDEX optroute.audit_token;\n",
	},
	{
		/* fleet --forget NAME: an appliance removes a decommissioned
		 * one's row (docs/fleet.md section 8). The trail stays
		 * append-only. */
		.version = 4,
		.name = "forget an appliance",
		.sql =
		"GRANT DELETE ON optroute.appliance TO optroute_appliance;\n",
	},
};

const struct or_pg_migration *
or_pg_migrations(unsigned *n)
{
	*n = sizeof(pg_migrations) / sizeof(pg_migrations[0]);
	return pg_migrations;
}

void
or_pg_migration_sha256(const struct or_pg_migration *m, uint8_t out[32])
{
	crypto_hash_sha256(out, (const unsigned char *)m->sql, strlen(m->sql));
}
