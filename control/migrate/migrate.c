/* SPDX-License-Identifier: BSD-3-Clause
 *
 * optroute-store-migrate: moves a single box's LMDB store into an empty
 * PostgreSQL system of record, the audit chain byte for byte
 * (docs/fleet.md section 10). Offline: optroute-control must be stopped.
 *
 *   optroute-store-migrate -c FILE [--to CONNINFO]
 *
 * FILE is the box's configuration: [control] store_path (the LMDB store,
 * opened read-only), key_file (for the fleet's key check only),
 * node_policy and key_epoch (the fleet's settings), and store_conninfo
 * unless --to gives the connection. In order: the store's whole chain is
 * verified (a store that does not verify is refused), the schema brought
 * to this version, the fleet row made (or checked: same key, policy and
 * epoch), then in ONE transaction, under the head row lock, with the
 * system of record still empty: every audit entry (its stored bytes,
 * each hash checked again), every record, the head and the counts. The
 * LMDB store is left as it was (the way back).
 *
 * Exit 0 with "migrated N audit entries and M records: head seq S hash H"
 * (H as optroutectl audit --verify prints it); 1 with the reason (nothing
 * committed); 2 usage.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "control/daemon/cp_cfg.h"
#include "control/lib/keys.h"
#include "control/lib/or_err.h"
#include "control/lib/pg/or_pg.h"
#include "control/store/audit.h"
#include "control/store/pg/pg_copy.h"
#include "control/store/pg/pg_writer.h"
#include "control/store/store.h"

#define MG_FLUSH (64u * 1024) /* rows staged before a COPY */

struct mg {
	PGconn *c;
	struct or_pg_rows rows;
	uint64_t n, last_seq;
	uint8_t head[OR_AUDIT_HASH_LEN];
	struct or_err err;
};

static int
mg_flush(struct mg *m, const char *table)
{
	int rc = or_pg_copy_in(m->c, table, &m->rows, &m->err);

	or_pg_rows_clear(&m->rows);
	return rc;
}

/* One audit entry: the bytes the store holds, sealed again to check. */
static int
mg_entry(void *arg, const struct or_audit_entry *e)
{
	struct mg *m = arg;
	struct or_audit_entry s = *e;
	uint8_t body[OR_AUDIT_BODY_LEN];

	or_audit_seal(&s, body);
	if (sodium_memcmp(s.hash, e->hash, OR_AUDIT_HASH_LEN) != 0 ||
	    e->seq != m->last_seq + 1 ||
	    memcmp(e->prev_hash, m->head, OR_AUDIT_HASH_LEN) != 0) {
		or_err_set(&m->err, "audit entry %" PRIu64 " changed while "
			   "migrating (is optroute-control stopped?)", e->seq);
		return -EBADMSG;
	}
	m->last_seq = e->seq;
	memcpy(m->head, e->hash, OR_AUDIT_HASH_LEN);
	if (or_pg_rows_reserve(&m->rows, 512) < 0)
		return -ENOMEM;
	or_pg_rows_u64(&m->rows, e->seq, '\t');
	or_pg_rows_bytea(&m->rows, e->token.b, OR_TOKEN_LEN, '\t');
	or_pg_rows_bytea(&m->rows, body, OR_AUDIT_BODY_LEN, '\t');
	or_pg_rows_bytea(&m->rows, e->prev_hash, OR_AUDIT_HASH_LEN, '\t');
	or_pg_rows_bytea(&m->rows, e->hash, OR_AUDIT_HASH_LEN, '\n');
	m->n++;
	return m->rows.len >= MG_FLUSH * 300 ? mg_flush(m, "optroute.audit")
					     : 0;
}

static int
mg_record(void *arg, const struct or_consent *c)
{
	struct mg *m = arg;
	const uint64_t v[9] = { c->state, c->epoch, c->flags,
				c->method, c->node, c->notice_version,
				c->granted_ms, c->withdrawn_ms, c->seq };

	if (or_pg_rows_reserve(&m->rows, 256) < 0)
		return -ENOMEM;
	or_pg_rows_bytea(&m->rows, c->token.b, OR_TOKEN_LEN, '\t');
	for (int i = 0; i < 9; i++)
		or_pg_rows_u64(&m->rows, v[i], i == 8 ? '\n' : '\t');
	m->n++;
	return m->rows.len >= MG_FLUSH * 100 ? mg_flush(m, "or_mg_rec") : 0;
}

/* The records are staged, then moved with each subject's history (its
 * entries' seqs; a tombstone for an erased subject), as migration 3 makes
 * them: one sort of the trail instead of a lookup per record. */
static const char mg_rec_sql[] =
	"CREATE TEMP TABLE or_mg_rec (token bytea, state smallint,"
	" epoch smallint, flags smallint, method smallint, node integer,"
	" notice_version bigint, granted_ms bigint, withdrawn_ms bigint,"
	" seq bigint) ON COMMIT DROP";

static const char mg_move_sql[] =
	"INSERT INTO optroute.consent (token, state, epoch, flags, method,"
	" node, notice_version, granted_ms, withdrawn_ms, seq, audit_seqs)"
	" SELECT coalesce(r.token, a.token), coalesce(r.state, 0),"
	" coalesce(r.epoch, 0), coalesce(r.flags, 0), coalesce(r.method, 0),"
	" coalesce(r.node, 0), coalesce(r.notice_version, 0),"
	" coalesce(r.granted_ms, 0), coalesce(r.withdrawn_ms, 0),"
	" coalesce(r.seq, a.last), coalesce(a.seqs, '{}')"
	" FROM or_mg_rec r FULL JOIN (SELECT token, max(seq) AS last,"
	" array_agg(seq ORDER BY seq) AS seqs FROM optroute.audit"
	" GROUP BY token) a ON a.token = r.token";

/* Everything inside the one transaction: m->n ends as the entries
 * copied, *records as the records. */
static int
mg_copy(struct mg *m, struct or_store *st, uint64_t *records)
{
	struct or_store_stats ss;
	struct or_auth_state au;
	uint8_t head[OR_AUDIT_HASH_LEN];
	uint64_t entries, head_seq;
	char p[7][72], hh[2 * OR_AUDIT_HASH_LEN + 3] = "\\x";
	const char *pv[7] = { p[0], hh, p[2], p[3], p[4], p[5], p[6] };
	PGresult *r = NULL;
	int rc;

	rc = or_pg_exec(m->c, "SELECT head_seq, (SELECT count(*) FROM"
			   " optroute.audit) FROM optroute.fleet WHERE id = 1"
			   " FOR UPDATE", 0, NULL, "system of record", &m->err, &r);
	if (rc < 0)
		return rc;
	if (PQntuples(r) != 1 || strcmp(PQgetvalue(r, 0, 0), "0") != 0 ||
	    strcmp(PQgetvalue(r, 0, 1), "0") != 0) {
		or_err_set(&m->err, "the system of record is not empty (head "
			   "seq %s): a store is migrated into a new one only",
			   PQntuples(r) == 1 ? PQgetvalue(r, 0, 0) : "?");
		PQclear(r);
		return -EEXIST;
	}
	PQclear(r);
	if ((rc = or_audit_foreach(st, 1, mg_entry, m, &m->err)) != 0 ||
	    (rc = mg_flush(m, "optroute.audit")) < 0)
		return rc < 0 ? rc : -EIO;
	if (or_audit_head(st, &head_seq, head, &m->err) < 0 ||
	    head_seq != m->last_seq ||
	    memcmp(head, m->head, OR_AUDIT_HASH_LEN) != 0) {
		or_err_set(&m->err, "the store's head is not its last entry");
		return -EBADMSG;
	}
	entries = m->n;
	m->n = 0;
	if ((rc = or_pg_exec(m->c, mg_rec_sql, 0, NULL, "system of record",
			      &m->err, NULL)) < 0)
		return rc;
	if ((rc = or_store_foreach(st, mg_record, m, &m->err)) != 0 ||
	    (rc = mg_flush(m, "or_mg_rec")) < 0 ||
	    (rc = or_pg_exec(m->c, mg_move_sql, 0, NULL, "system of record",
			      &m->err, NULL)) < 0)
		return rc < 0 ? rc : -EIO;
	if (or_store_stats(st, &ss, &m->err) < 0 ||
	    or_store_auth_get(st, &au, &m->err) < 0)
		return -EIO;
	sodium_bin2hex(hh + 2, sizeof(hh) - 2, m->head, OR_AUDIT_HASH_LEN);
	snprintf(p[0], sizeof(p[0]), "%" PRIu64, m->last_seq);
	snprintf(p[2], sizeof(p[2]), "%" PRIu64, ss.opted_in);
	snprintf(p[3], sizeof(p[3]), "%" PRIu64, ss.opted_out);
	snprintf(p[4], sizeof(p[4]), "%u", au.current);
	if (au.has_previous)
		snprintf(p[5], sizeof(p[5]), "%u", au.previous);
	else
		pv[5] = NULL;
	snprintf(p[6], sizeof(p[6]), "%" PRIu64, au.seq);
	rc = or_pg_exec(m->c, "UPDATE optroute.fleet SET head_seq = $1,"
			   " head_hash = $2::bytea, n_in = $3, n_out = $4,"
			   " auth_current = $5, auth_previous = $6,"
			   " auth_seq = $7 WHERE id = 1", 7, pv, "system of record", &m->err, NULL);
	*records = m->n;
	m->n = entries;
	return rc;
}

static void
usage(FILE *f)
{
	fprintf(f, "usage: optroute-store-migrate -c FILE [--to CONNINFO]\n"
		   "  moves FILE's [control] store_path (LMDB, optroute-control "
		   "stopped) into\n  an empty PostgreSQL system of record "
		   "(store_conninfo, or CONNINFO);\n  docs/fleet.md section 10\n");
}

int
main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "to", required_argument, NULL, 't' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	static struct cp_cfg cfg;
	const char *file = NULL, *to = NULL;
	char cerr[CP_CFG_ERR_LEN], policy[32], hex[2 * OR_AUDIT_HASH_LEN + 1];
	struct or_store_conf sc = { 0 };
	struct or_pg_fleet_conf fc = { 0 };
	struct or_store *st = NULL;
	struct or_keys *keys = NULL;
	struct mg m = { 0 };
	uint64_t bad = 0, checked = 0, records = 0;
	int o, rc;

	while ((o = getopt_long(argc, argv, "c:t:h", opts, NULL)) != -1) {
		if (o == 'c')
			file = optarg;
		else if (o == 't')
			to = optarg;
		else {
			usage(o == 'h' ? stdout : stderr);
			return o == 'h' ? 0 : 2;
		}
	}
	if (file == NULL || optind != argc) {
		usage(stderr);
		return 2;
	}
	cp_cfg_defaults(&cfg);
	if (cp_cfg_load(file, &cfg, cerr) < 0) {
		fprintf(stderr, "optroute-store-migrate: %s\n", cerr);
		return 2;
	}
	if (to == NULL && cfg.store_conninfo[0] == '\0') {
		fprintf(stderr, "optroute-store-migrate: no --to and no "
				"[control] store_conninfo in %s\n", file);
		return 2;
	}
	if (sodium_init() < 0 ||
	    (rc = or_keys_load(cfg.key_file, &keys, &m.err)) < 0)
		goto fail;
	or_keys_fleet_check(keys, fc.key_check);
	or_keys_free(keys);
	or_node_policy_format(&cfg.node_policy, policy, sizeof(policy));
	fc.node_policy = policy;
	fc.key_epoch = (uint8_t)cfg.key_epoch;
	sc.path = cfg.store_path;
	sc.read_only = 1;
	if ((rc = or_store_open(&sc, &st, &m.err)) < 0)
		goto fail;
	rc = or_audit_verify(st, &bad, &checked, &m.err);
	if (rc < 0) {
		fprintf(stderr, "optroute-store-migrate: the store's audit "
				"chain does not verify (%s): not migrated\n",
			m.err.msg);
		or_store_close(st);
		return 1;
	}
	if ((rc = or_pg_connect(to != NULL ? to : cfg.store_conninfo,
				"optroute-store-migrate", &m.c, &m.err)) < 0 ||
	    (rc = or_pg_migrate(m.c, &m.err)) < 0 ||
	    (rc = or_pg_fleet_join(m.c, &fc, &m.err)) < 0 ||
	    (rc = or_pg_exec(m.c, "BEGIN", 0, NULL, "system of record", &m.err, NULL)) < 0)
		goto fail;
	rc = mg_copy(&m, st, &records);
	if (rc == 0)
		rc = or_pg_exec(m.c, "COMMIT", 0, NULL, "system of record", &m.err, NULL);
	else
		PQclear(PQexec(m.c, "ROLLBACK"));
	if (rc < 0)
		goto fail;
	sodium_bin2hex(hex, sizeof(hex), m.head, OR_AUDIT_HASH_LEN);
	printf("migrated %" PRIu64 " audit entries and %" PRIu64
	       " records: head seq %" PRIu64 " hash %s\n",
	       m.n, records, m.last_seq, hex);
	or_pg_rows_free(&m.rows);
	PQfinish(m.c);
	or_store_close(st);
	return 0;
fail:
	fprintf(stderr, "optroute-store-migrate: %s (nothing committed)\n",
		m.err.msg);
	or_pg_rows_free(&m.rows);
	PQfinish(m.c);
	or_store_close(st);
	return 1;
}
