#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
#
# A PostgreSQL failover under a fleet (docs/fleet.md section 7): a primary
# with a synchronous standby, two appliances with a two-host connection
# string (target_session_attrs=read-write). Opt-ins run on a1 while the
# primary is killed (-9) and the standby promoted: the appliances reach
# the new primary by themselves; every opt-in that was acknowledged is
# there (read through a2, which follows the new primary); the chain
# verifies; changes go through again on both. Then the timeline guard
# (section 7): the old primary comes back read-write, unfenced, first in
# the connection string; a2, restarted, refuses it (counted, logged, no
# write reaches it) until it is stopped, then reaches the new primary.
set -u
# shellcheck source=lib/common.sh
. "$(dirname "$0")/lib/common.sh"
# shellcheck source=lib/pg.sh
. "$OR_LIB/pg.sh"
# shellcheck source=lib/fleet.sh
. "$OR_LIB/fleet.sh"
OR_PIDVARS="A_PID B_PID LOOP_PID"
or_trap_exit pg_or_cleanup
or_need_bins optroutectl optroute-control or_pgtool
OR_LOGS=("$T/a1.log" "$T/a2.log")
or_fail_extra() { pg_log_tail db; pg_log_tail sb1; }

pg_start db || or_fail "no PostgreSQL server"
"$BIN/or_pgtool" migrate "$(pg_conninfo db optroute_owner)" >/dev/null ||
	or_fail "migrations"
pg_standby db sb1 || or_fail "no standby"
pg_sync db sb1 || or_fail "synchronous replication"
APP="host=${PG_DIRS[db]},${PG_DIRS[sb1]} port=${PG_PORTS[db]},${PG_PORTS[sb1]}"
APP="$APP user=or_app dbname=optroute target_session_attrs=read-write connect_timeout=2"
or_key "$T/key"
fleet_ini a1 >"$T/a1.ini"
fleet_ini a2 >"$T/a2.ini"
fleet_start a1 A_PID
fleet_start a2 B_PID
or_check "synchronous replication is on" \
	test "$(pg_sql db "SELECT sync_state FROM pg_stat_replication")" = sync

# Opt-ins one after the other (bounded: 600, at most 40 s; each waits
# for the synchronous standby), until 40 are acknowledged after the
# promotion; the numbers acknowledged go to $T/acked (and to $T/after
# once $T/promoted exists), the others to $T/refused.
: >"$T/acked"
: >"$T/after"
(
	end=$((SECONDS + 40))
	for i in $(seq 0 599); do
		[ $SECONDS -lt $end ] || break
		[ "$(wc -l <"$T/after")" -lt 40 ] || break
		n=$(printf '+1555070%04d' "$i")
		if ctl a1 optin "$n" >/dev/null 2>>"$T/loop.err"; then
			echo "$n" >>"$T/acked"
			[ ! -e "$T/promoted" ] || echo "$n" >>"$T/after"
		else
			echo "$n" >>"$T/refused"
		fi
	done
) &
LOOP_PID=$!
for _ in $(seq 1 100); do
	[ "$(wc -l <"$T/acked")" -ge 60 ] && break
	sleep 0.1
done
pg_kill db
pg_promote sb1 || or_fail "promotion"
touch "$T/promoted"
wait "$LOOP_PID"
LOOP_PID=
acked=$(wc -l <"$T/acked")
after=$(wc -l <"$T/after")
refused=$(wc -l <"$T/refused" 2>/dev/null || echo 0)
or_check "opt-ins went on after the failover ($acked acknowledged, $after of them after the promotion; $refused refused)" \
	test "$after" -ge 40
or_check "the refusals said why ($(sort -u <(cut -d: -f2 "$T/loop.err" 2>/dev/null) | tr '\n' ' '))" \
	test "$refused" = 0 -o -n "$(grep -E 'store_error|commit_unknown' "$T/loop.err")"
head_new() { pg_sql sb1 "SELECT head_seq FROM optroute.fleet"; }
caught=0
for _ in $(seq 1 200); do
	[ "$(store a2 last_seq)" = "$(head_new)" ] && { caught=1; break; }
	sleep 0.1
done
or_check "a2 follows the new primary to its head" test $caught = 1
lost=""
while read -r n; do
	[ "$(state a2 "$n")" = in ] || lost="$lost ${n: -4}"
done <"$T/acked"
or_check "no acknowledged opt-in was lost${lost:+ (lost:$lost)}" test -z "$lost"
out=$(ctl a2 audit --verify 2>&1)
or_check "the chain verifies on the new primary" grep -q "head seq $(head_new)" <<<"$out"
or_check "a2 takes changes on the new primary" ctl_ok a2 optin +15550709999
or_check "... and a1 sees them" until_state a1 +15550709999 in


# ---- the timeline guard ------------------------------------------------------
# fleetv NAME FIELD: a figure of `optroutectl -j fleet` on appliance NAME.
fleetv() {
	ctl "$1" -j fleet | python3 -c '
import json, sys
print(json.load(sys.stdin)[sys.argv[1]])' "$2"
}
or_check "a2 recorded the new primary's timeline (2)" test "$(fleetv a2 timeline)" = 2
kill "$B_PID"
wait "$B_PID" 2>/dev/null
B_PID=
pg_run db || or_fail "the old primary did not start again"
old_head=$(pg_sql db "SELECT head_seq FROM optroute.fleet")
fleet_start a2 B_PID
refused=0
for _ in $(seq 1 100); do
	[ "$(fleetv a2 stale_primary_refusals)" -gt 0 ] && { refused=1; break; }
	sleep 0.1
done
or_check "a2, restarted with the old primary first in its list, refuses it" test $refused = 1
or_check "... and logs why" grep -q "stale primary: timeline 1 < 2" "$T/a2.log"
or_check "... and fleet shows the warning" grep -q "old primary refused" <(ctl a2 fleet)
refused_on() { ! ctl "$@" >/dev/null 2>&1; }
or_check "an opt-in on a2 is refused meanwhile" refused_on a2 optin +15550709998
or_check "nothing was written to the old primary" \
	test "$(pg_sql db "SELECT head_seq FROM optroute.fleet")" = "$old_head"
or_check "a1, on the new primary, commits meanwhile" ctl_ok a1 optin +15550709997
pg_stop db
back=0
for _ in $(seq 1 30); do
	ctl_ok a2 optin +15550709996 2>/dev/null && { back=1; break; }
	sleep 0.5
done
or_check "once the old primary is gone, a2 commits on the new one" test $back = 1
or_check "... and follows it (a1's opt-in)" until_state a2 +15550709997 in
or_check "... where the refused opt-in never landed" until_state a1 +15550709998 none

or_summary
