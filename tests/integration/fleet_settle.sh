#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
#
# A commit whose answer is lost with the connection is settled, not left
# "unknown" (docs/fleet.md section 4). The server is made to hold every
# COMMIT after its WAL flush (synchronous_standby_names names a standby
# that never comes), an opt-in is sent to the appliance, and the writer's
# backend is killed (-9) while it waits: the server restarts and recovers
# the transaction, which was durable; the writer only lost the answer. The
# appliance reconnects, reads its own row (the group and first seq its
# transaction recorded), and answers the opt-in as committed; its copy and
# PostgreSQL both hold it. Then the same with the backend terminated
# (pg_terminate_backend) instead: its transaction becomes visible while
# the backend itself lingers, its exit waiting for the standby too, so
# COMMIT gets no answer at all: after fleet_commit_timeout_ms the writer
# gives up on it, and the row settles it.
set -u
# shellcheck source=lib/common.sh
. "$(dirname "$0")/lib/common.sh"
# shellcheck source=lib/pg.sh
. "$OR_LIB/pg.sh"
# shellcheck source=lib/fleet.sh
. "$OR_LIB/fleet.sh"
OR_PIDVARS="OPTIN_PID A_PID"
OPTIN_PID=
or_trap_exit pg_or_cleanup
or_need_bins optroutectl optroute-control or_pgtool
OR_LOGS=("$T/a1.log")
or_fail_extra() { pg_log_tail db; }

fleet_pg
{
	fleet_ini a1
	# A COMMIT unanswered for 2 s is settled (the default is 10 s).
	echo "fleet_commit_timeout_ms = 2000"
} >"$T/a1.ini"
fleet_start a1 A_PID
or_check "an opt-in goes through" ctl_ok a1 optin +15550600001

hold() { # every COMMIT waits for a standby named $1 ('' : none)
	pg_sql db "ALTER SYSTEM SET synchronous_standby_names = '$1'" or_admin postgres &&
		pg_sql db "SELECT pg_reload_conf()" or_admin postgres >/dev/null
}
# lost NUMBER HOW: an opt-in of NUMBER whose COMMIT is held, its writer
# backend then ended HOW (kill: -9, the server restarts; terminate:
# pg_terminate_backend); commits released; the reply in $T/optin.json,
# optroutectl's exit code in RC.
lost() {
	local pid=
	hold never_there || or_fail "cannot hold commits"
	echo "$1" | ctl a1 -j optin - >"$T/optin.json" 2>&1 &
	OPTIN_PID=$!
	for _ in $(seq 1 100); do
		pid=$(pg_sql db "SELECT pid FROM pg_stat_activity WHERE wait_event = 'SyncRep'
			AND application_name = 'optroute-control writer'")
		[ -n "$pid" ] && break
		sleep 0.1
	done
	[ -n "$pid" ] || or_fail "the writer's COMMIT never waited"
	or_ok "the writer's COMMIT waits for the standby (backend $pid)"
	if [ "$2" = kill ]; then
		kill -KILL "$pid"
	else
		pg_sql db "SELECT pg_terminate_backend($pid)" >/dev/null
	fi
	if [ "$2" = kill ]; then
		# Released once the restarted server takes connections, so
		# that the follower can register again; settling needs no
		# commit.
		for _ in $(seq 1 100); do
			hold "" 2>/dev/null && break
			sleep 0.2
		done
	fi
	wait "$OPTIN_PID"
	RC=$?
	OPTIN_PID=
	hold "" || or_fail "cannot release commits"
}
settled() { # settled NUMBER SEQ COUNT: the checks after lost NUMBER
	or_check "the opt-in is answered as committed ($(cat "$T/optin.json"))" \
		test "$RC" = 0
	or_json "$(cat "$T/optin.json")" "assert r['ok'] and r['seq'] == $2, r" ||
		or_fail "reply: $(cat "$T/optin.json")"
	or_check "... the appliance says it settled it" \
		test "$(grep -c "was lost; settled: committed" "$T/a1.log")" = "$3"
	or_check "... PostgreSQL holds it" test "$(pg_sql db \
		"SELECT count(*) FROM optroute.consent WHERE state = 1")" = "$2"
	or_check "... and so does the appliance's copy" until_state a1 "$1" in
}
lost +15550600002 kill
settled +15550600002 2 1
lost +15550600003 terminate
settled +15550600003 3 2
or_check "changes go on" ctl_ok a1 optin +15550600004
or_check "... after them (seq 4)" test "$(pg_sql db "SELECT head_seq FROM optroute.fleet")" = 4
or_stop A_PID || or_fail "optroute-control exited $?"
echo "fleet_settle: all ok"
