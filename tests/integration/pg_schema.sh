#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
#
# The system of record's schema (docs/fleet.md section 3) on a throwaway
# PostgreSQL (lib/pg.sh): a fresh database gets every migration, a second
# run applies nothing, a changed migration and a newer schema are refused
# with the design's messages, two migrators at once serialize, the
# appliance role cannot rewrite the audit trail, and or_pg_connect refuses
# a password and explains a failed connection. Also: the harness's
# streaming standby receives the schema.
set -u
# shellcheck source=lib/common.sh
. "$(dirname "$0")/lib/common.sh"
# shellcheck source=lib/pg.sh
. "$OR_LIB/pg.sh"
or_trap_exit pg_or_cleanup
or_need_bins or_pgtool
TOOL=$BIN/or_pgtool
or_fail_extra() { pg_log_tail db; }

pg_start db || or_fail "no PostgreSQL server"
OWNER=$(pg_conninfo db optroute_owner)
APP=$(pg_conninfo db or_app)
# The lock class of control/lib/pg/or_pg.h.
LOCK_CLASS=$(sed -n 's/^#define OR_PG_LOCK_CLASS \([0-9]*\)$/\1/p' control/lib/pg/or_pg.h)
[ -n "$LOCK_CLASS" ] || or_fail "OR_PG_LOCK_CLASS not found in or_pg.h"

# The compiled list: "version name sha256" lines, versions 1..N.
"$TOOL" list >"$T/list" || or_fail "or_pgtool list"
N=$(wc -l <"$T/list")
or_check "the compiled migrations are numbered 1..$N" \
	test "$(cut -f1 "$T/list" | tr '\n' ' ')" = "$(seq -s ' ' 1 "$N") "

# recorded DB: schema_migrations as "version name sha256" lines.
recorded() {
	pg_sql db "SELECT version, name, encode(sha256, 'hex') FROM optroute.schema_migrations
		ORDER BY version" or_admin "${1:-optroute}" | tr '|' '\t'
}
# migrate CONNINFO: runs the tool; its stdout+stderr in $out, exit code in $rc.
migrate() {
	out=$("$TOOL" migrate "$1" 2>&1)
	rc=$?
}

# ---- a fresh database ---------------------------------------------------------
migrate "$APP"
or_check "the appliance role cannot create the schema; the error names migration 1" \
	test $rc = 1 -a -n "$(echo "$out" | grep -F 'migration 1 (fleet schema) could not be applied' |
		grep -F 'permission denied')"
or_check "... and left nothing behind" \
	test "$(pg_sql db "SELECT count(*) FROM pg_namespace WHERE nspname = 'optroute'")" = 0

migrate "$OWNER"
or_check "the owner role applies all $N migrations to a fresh database" \
	test $rc = 0 -a "$out" = "applied $N, schema version $N"
or_check "schema_migrations records each with the compiled sha256" \
	diff <(recorded) "$T/list"
tables=$(pg_sql db "SELECT string_agg(c.relname, ',' ORDER BY c.relname) FROM pg_class c
	JOIN pg_namespace n ON n.oid = c.relnamespace
	WHERE n.nspname = 'optroute' AND c.relkind IN ('r', 'i')")
or_check "the tables and indexes of docs/fleet.md section 3 exist ($tables)" \
	test "$tables" = "appliance,appliance_name_key,appliance_pkey,audit,audit_pkey,consent,consent_pkey,fleet,fleet_pkey,schema_migrations,schema_migrations_pkey"

before=$(pg_sql db "SELECT version, applied_at FROM optroute.schema_migrations ORDER BY version")
migrate "$OWNER"
or_check "a second run applies nothing" test $rc = 0 -a "$out" = "applied 0, schema version $N"
migrate "$APP"
or_check "the appliance role starts on a current schema" \
	test $rc = 0 -a "$out" = "applied 0, schema version $N"
or_check "... and schema_migrations is unchanged" \
	test "$before" = "$(pg_sql db "SELECT version, applied_at FROM optroute.schema_migrations ORDER BY version")"

# ---- the appliance role and the audit trail --------------------------------------
sql_app() { pg_sql db "$1" or_app 2>&1; }
or_check "the appliance role appends to the audit trail" \
	test -z "$(sql_app "INSERT INTO optroute.audit VALUES (1, '\\x$(printf '%032d' 0)',
		'\\x$(printf '%088d' 0)', '\\x00', '\\x01')")"
or_check "... and reads it" test "$(sql_app "SELECT count(*) FROM optroute.audit")" = 1
for stmt in "UPDATE optroute.audit SET hash = '\\x02'" "DELETE FROM optroute.audit" \
	"TRUNCATE optroute.audit"; do
	o=$(sql_app "$stmt")
	or_check "the appliance role is refused: ${stmt%% optroute*} on audit" \
		test -n "$(echo "$o" | grep -F 'permission denied for table audit')"
done
or_check "... and the entry is as written" \
	test "$(pg_sql db "SELECT seq, encode(hash, 'hex') FROM optroute.audit")" = "1|01"
o=$(sql_app "UPDATE optroute.consent SET seq = 0; DELETE FROM optroute.consent;
	UPDATE optroute.fleet SET head_seq = 0; UPDATE optroute.appliance SET last_group = 0")
or_check "the appliance role may write the records, the head and the positions" test -z "$o"
o=$(sql_app "DROP TABLE optroute.consent")
or_check "... but not change the schema" test -n "$(echo "$o" | grep -F 'must be owner')"

# ---- refusals: a changed migration, a newer schema ----------------------------
sha2=$(awk -F'\t' '$1 == 2 { print $3 }' "$T/list")
pg_sql db "UPDATE optroute.schema_migrations SET sha256 = sha256('edited'::bytea) WHERE version = 2"
migrate "$OWNER"
or_check "a changed migration is refused: $out" \
	test $rc = 1 -a -n "$(echo "$out" | grep -F 'migration 2 was changed after it was applied')"
pg_sql db "UPDATE optroute.schema_migrations SET sha256 = decode('$sha2', 'hex') WHERE version = 2"
migrate "$OWNER"
or_check "... and accepted once restored" test $rc = 0 -a "$out" = "applied 0, schema version $N"

pg_sql db "INSERT INTO optroute.schema_migrations (version, name, sha256)
	VALUES ($((N + 3)), 'from the future', sha256('x'::bytea))"
migrate "$APP"
or_check "a newer schema is refused: $out" \
	test $rc = 1 -a -n "$(echo "$out" |
		grep -F "schema version $((N + 3)) is newer than this optroute-control (1..$N); upgrade it")"
pg_sql db "DELETE FROM optroute.schema_migrations WHERE version = $((N + 3))"

# A database that lost migration 2's record (not its effects): re-applying
# the grants is harmless, and records it again.
pg_sql db "DELETE FROM optroute.schema_migrations WHERE version = 2"
migrate "$OWNER"
or_check "a missing migration alone is applied" test $rc = 0 -a "$out" = "applied 1, schema version $N"

# ---- two migrators at once --------------------------------------------------------
# A session holds the migration lock while both start, so both wait on it
# (pg_locks shows it) and then race for the fresh database.
pg_sql db "CREATE DATABASE optroute2 OWNER optroute_owner" or_admin postgres
OWNER2=$(pg_conninfo db optroute_owner optroute2)
pg_sql db "SELECT pg_advisory_lock($LOCK_CLASS, 0), pg_sleep(3)" or_admin optroute2 >/dev/null &
holder=$!
OR_PIDS+=("$holder")
sleep 0.5
"$TOOL" migrate "$OWNER2" >"$T/m1" 2>&1 &
m1=$!
"$TOOL" migrate "$OWNER2" >"$T/m2" 2>&1 &
m2=$!
OR_PIDS+=("$m1" "$m2")
waiting=0
for _ in $(seq 25); do
	waiting=$(pg_sql db "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory'
		AND classid = $LOCK_CLASS AND objid = 0 AND NOT granted" or_admin optroute2)
	[ "$waiting" = 2 ] && break
	sleep 0.1
done
or_check "both migrators wait for the migration lock" test "$waiting" = 2
wait "$m1"; rc1=$?
wait "$m2"; rc2=$?
wait "$holder"
a1=$(sed -n 's/^applied \([0-9]*\),.*/\1/p' "$T/m1")
a2=$(sed -n 's/^applied \([0-9]*\),.*/\1/p' "$T/m2")
or_check "both succeed ($(cat "$T/m1"); $(cat "$T/m2"))" test $rc1 = 0 -a $rc2 = 0
or_check "... and each migration was applied once (${a1:-?} + ${a2:-?} = $N)" \
	test "$((${a1:-99} + ${a2:-99}))" = "$N"
or_check "... and recorded once" diff <(recorded optroute2) "$T/list"

# ---- connecting -----------------------------------------------------------------
out=$("$TOOL" connect "$APP" 2>&1)
or_check "every session gets log_parameter_max_length_on_error = 0 ($out)" \
	test "$out" = "connected, log_parameter_max_length_on_error=0"
out=$("$TOOL" connect "$APP options='-c work_mem=8MB'" 2>&1)
or_check "... also with options of its own" \
	test "$out" = "connected, log_parameter_max_length_on_error=0"
SECRET=Sw0rdf1shTail
for ci in "$APP password=$SECRET" "postgresql://or_app:$SECRET@/optroute?host=$PG_HOST&port=$PG_PORT" \
	"$APP password=x $SECRET"; do
	out=$("$TOOL" connect "$ci" 2>&1); rc=$?
	or_check "refused without quoting the password: $out" \
		test $rc = 1 -a -n "$(echo "$out" | grep -E 'contains a password|is not a libpq connection string')" \
		-a -z "$(echo "$out" | grep -F "$SECRET")"
done
out=$("$TOOL" connect "host=$T/none port=5 user=or_app dbname=optroute" 2>&1); rc=$?
or_check "a failed connection says where and why: $out" \
	test $rc = 1 -a -n "$(echo "$out" | grep -F "cannot connect to the system of record: connection to server on socket \"$T/none/.s.PGSQL.5\" failed: No such file")"
out=$("$TOOL" connect "host=$T/none,$PG_HOST port=5,$PG_PORT user=or_app dbname=optroute" 2>&1)
or_check "a multi-host string skips a dead host" test $? = 0 -a "${out%%,*}" = connected

# ---- the harness's standby ----------------------------------------------------------
if pg_standby db sb1; then
	pg_sql db "INSERT INTO optroute.consent VALUES ('\\x$(printf '%032d' 7)', 1, 0, 0, 0, 1, 1, 1, 0, 2)"
	rep=
	for _ in $(seq 50); do
		rep=$(pg_sql sb1 "SELECT count(*) FROM optroute.consent" 2>/dev/null)
		[ "$rep" = 1 ] && break
		sleep 0.1
	done
	or_check "a streaming standby (pg_standby) receives the schema and a row" test "$rep" = 1
	or_check "... and it streams under its application_name" \
		test "$(pg_sql db "SELECT application_name, state FROM pg_stat_replication")" = "sb1|streaming"
	pg_sync db sb1
	st=
	for _ in $(seq 50); do
		st=$(pg_sql db "SELECT sync_state FROM pg_stat_replication")
		[ "$st" = sync ] && break
		sleep 0.1
	done
	or_check "pg_sync makes it a synchronous standby" test "$st" = sync
	or_check "... and commits go through" \
		test "$(timeout 10 "$PG_BINDIR/psql" -X -q -A -t -d "$PG_CONNINFO" </dev/null \
			-c "UPDATE optroute.consent SET seq = 3 RETURNING seq" 2>&1)" = 3
else
	or_bad "pg_standby failed"
fi

or_summary
