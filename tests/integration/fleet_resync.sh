#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
#
# A follower whose position is gone takes a full resync (docs/fleet.md
# section 5) and converges with no stale entry, in its local copy and in
# its dataplane's table:
#  1. too far behind: a2 away while a1 erases some of a2's records and
#     imports more than a2's fleet_resync_after;
#  2. history diverged: the system of record re-created (as after a
#     restore that lost everything a2 had applied), a2's position beyond
#     its head.
set -u
# shellcheck source=lib/common.sh
. "$(dirname "$0")/lib/common.sh"
# shellcheck source=lib/pg.sh
. "$OR_LIB/pg.sh"
# shellcheck source=lib/fleet.sh
. "$OR_LIB/fleet.sh"
OR_PIDVARS="A_PID B_PID DA_PID DB_PID"
or_trap_exit pg_or_cleanup
or_need_bins optroutectl optroute-control optroute-dataplane or_pgtool
OR_LOGS=("$T/a1.log" "$T/a2.log")
or_fail_extra() { pg_log_tail db; }

pg_start db || or_fail "no PostgreSQL server"
OWNER=$(pg_conninfo db optroute_owner)
"$BIN/or_pgtool" migrate "$OWNER" >/dev/null || or_fail "migrations"
APP=$(pg_conninfo db or_app)
or_key "$T/key"
fleet_ini a1 >"$T/a1.ini"
{ fleet_ini a2; echo "fleet_resync_after = 100"; } >"$T/a2.ini"
fleet_dp a2 DB_PID
fleet_start a1 A_PID
fleet_start a2 B_PID

# table NAME: entries of NAME's dataplane table.
table() {
	ctl "$1" -j table | python3 -c 'import json,sys; print(json.load(sys.stdin)["entries"])'
}
# converged NAME: its copy at the head, holding what PostgreSQL holds,
# and its dataplane's table as many entries (none stale).
converged() {
	local n
	until_caught_up "$1" || return 1
	n=$(pg_sql db "SELECT count(*) FROM optroute.consent WHERE state <> 0")
	[ "$(store "$1" entries)" = "$n" ] || return 1
	for _ in $(seq 1 100); do
		[ "$(table "$1")" = "$n" ] && return 0
		sleep 0.1
	done
	return 1
}

seq -f '+1555060%04g' 0 199 >"$T/first"
ctl a1 import "$T/first" --optin >/dev/null || or_fail "import"
or_check "a2 and its dataplane follow (200 records)" converged a2

# ---- 1. too far behind ------------------------------------------------------------
or_stop B_PID
for n in $(head -n 20 "$T/first"); do ctl a1 erase "$n" >/dev/null; done
seq -f '+1555061%04g' 0 299 >"$T/second"
ctl a1 import "$T/second" --optin >/dev/null || or_fail "import"
fleet_start a2 B_PID
or_check "a2, 320 changes behind (fleet_resync_after 100), takes a full resync" \
	until_caught_up a2
or_check "... says so in its log" grep -q "fleet: full resync (too far behind" "$T/a2.log"
or_check "... and converges: copy and dataplane table as PostgreSQL (480)" converged a2
or_check "... an erased record is gone from a2" test "$(state a2 "$(head -n 1 "$T/first")")" = none
or_check "fleet reports the resync" \
	test "$(ctl a2 -j fleet | python3 -c 'import json,sys; print(json.load(sys.stdin)["resyncs"])')" = 1

# ---- 2. history diverged ------------------------------------------------------------
or_stop A_PID
or_stop B_PID
pg_sql db "DROP SCHEMA optroute CASCADE" optroute_owner >/dev/null
"$BIN/or_pgtool" migrate "$OWNER" >/dev/null || or_fail "migrations again"
fleet_start a1 A_PID
or_check "a1 ahead of the re-created record resyncs to it" \
	grep -q "fleet: full resync (position gone" "$T/a1.log"
seq -f '+1555062%04g' 0 49 >"$T/third"
ctl a1 import "$T/third" --optin >/dev/null || or_fail "import"
fleet_start a2 B_PID
or_check "a2 converges on the new history (50 records, none stale)" converged a2
or_check "... a record of the old history is gone" \
	test "$(state a2 "$(tail -n 1 "$T/second")")" = none
or_check "... one of the new one is there" test "$(state a2 "$(tail -n 1 "$T/third")")" = in

or_summary
