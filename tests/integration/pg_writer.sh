#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
#
# The PostgreSQL writer (control/store/pg/pg_writer.c, docs/fleet.md section
# 4) on a throwaway server (lib/pg.sh), as the appliance role: the same
# random groups into it and into an LMDB store give the same results,
# records and audit chain byte for byte; joins with another key or policy
# are refused; a writer id and its group are recorded and followers are
# notified; two writers at once make one chain; the follower's tail
# (pg_tail.c) rebuilds the same records and refuses a position that does
# not link (build/bin/or_pgwriter says each check). Then no token reached
# the server's log, and an entry altered on the server stops the tail.
set -u
# shellcheck source=lib/common.sh
. "$(dirname "$0")/lib/common.sh"
# shellcheck source=lib/pg.sh
. "$OR_LIB/pg.sh"
or_trap_exit pg_or_cleanup
or_need_bins or_pgtool or_pgwriter
or_fail_extra() { pg_log_tail db; }

pg_start db || or_fail "no PostgreSQL server"
"$BIN/or_pgtool" migrate "$(pg_conninfo db optroute_owner)" >/dev/null ||
	or_fail "migrations"

out=$("$BIN/or_pgwriter" check "$(pg_conninfo db or_app)" "$T/store" 2>&1)
rc=$?
echo "$out"
or_check "the writer matches the LMDB store, joins, notifies and serializes; the tail rebuilds the records" \
	test $rc = 0 -a -n "$(echo "$out" | grep -E '^or_pgwriter: ok, [0-9]+ changes in [0-9]+ groups$')"
heads=$(pg_sql db "SELECT head_seq = (SELECT max(seq) FROM optroute.audit)
	AND n_in + n_out = (SELECT count(*) FROM optroute.consent WHERE state <> 0)
	FROM optroute.fleet")
or_check "the fleet row's head and counts agree with the tables" test "$heads" = t

# Each subject's history (consent.audit_seqs, migration 3) lists exactly
# the seqs of its token's entries; an erased subject keeps a tombstone.
HISTORY_DIFF="SELECT count(*) FROM (SELECT token, array_agg(seq ORDER BY seq) AS s
	FROM optroute.audit GROUP BY token) a FULL JOIN optroute.consent c USING (token)
	WHERE a.s IS DISTINCT FROM c.audit_seqs"
HISTORIES="SELECT encode(token, 'hex'), state, seq, audit_seqs FROM optroute.consent ORDER BY token"
or_check "every subject's history is its entries' seqs" \
	test "$(pg_sql db "$HISTORY_DIFF")" = 0
tombs=$(pg_sql db "SELECT count(*) FROM optroute.consent WHERE state = 0")
or_check "erased subjects are tombstones ($tombs)" test "$tombs" -gt 0
pg_sql db "$HISTORIES" >"$T/histories"

# A database of schema version 2 with this history (the column and the
# tombstones gone, audit_token back, the later migrations' grants
# revoked) is brought to the current version with the same histories.
N=$("$BIN/or_pgtool" list | wc -l)
pg_sql db "ALTER TABLE optroute.consent DROP CONSTRAINT consent_state;
	DELETE FROM optroute.consent WHERE state = 0;
	ALTER TABLE optroute.consent DROP COLUMN audit_seqs;
	CREATE INDEX audit_token ON optroute.audit (token, seq);
	REVOKE DELETE ON optroute.appliance FROM optroute_appliance;
	DELETE FROM optroute.schema_migrations WHERE version >= 3" >/dev/null
out=$("$BIN/or_pgtool" migrate "$(pg_conninfo db optroute_owner)" 2>&1)
or_check "migration 3 upgrades a version 2 database ($out)" \
	test "$out" = "applied $((N - 2)), schema version $N"
or_check "... with every history and tombstone as the writer made them" \
	diff "$T/histories" <(pg_sql db "$HISTORIES")
or_check "... and without the audit_token index" \
	test "$(pg_sql db "SELECT count(*) FROM pg_indexes WHERE indexname = 'audit_token'")" = 0
or_check "the staging tables were temporary (none left in schema optroute)" \
	test "$(pg_sql db "SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
		WHERE n.nspname = 'optroute' AND c.relname LIKE 'or_stage%'")" = 0
or_check "the server's log holds no token (no DETAIL quoting a key)" \
	test -z "$(grep -E '[0-9a-f]{32}' "${PG_DIRS[db]}/server.log")"

# An entry rewritten by someone with the server's rights (as superuser:
# the appliance role cannot) is found by the tail, which names it.
APP=$(pg_conninfo db or_app)
out=$("$BIN/or_pgwriter" tail "$APP")
or_check "the tail reads the whole trail ($out)" \
	test "$out" = "tail: $(pg_sql db "SELECT head_seq FROM optroute.fleet") entries"
pg_sql db "UPDATE optroute.audit SET body = set_byte(body, 8, get_byte(body, 8) # 1)
	WHERE seq = 1234" or_admin >/dev/null
out=$("$BIN/or_pgwriter" tail "$APP")
or_check "an altered entry stops the tail at it ($out)" \
	test "$out" = "tail: broken at 1234: audit: entry 1234: hash mismatch (altered)"

or_summary
