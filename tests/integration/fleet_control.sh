#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
#
# Two optroute-control appliances on one PostgreSQL system of record
# (store = postgresql, docs/fleet.md), each with a dataplane on a null
# port: a change taken by either is committed once, in one chain, and
# reaches the other's local copy (status on the other appliance);
# --wait=fleet answers once both dataplanes enforce it, names a lagging
# appliance when one does not, and does not wait for a silent one;
# optroutectl fleet lists both; concurrent imports on both
# converge to the same records on both copies and in PostgreSQL; the
# chain verifies with entries of both writers; a follower killed with -9
# catches up from its position on restart; PostgreSQL stopped: changes are
# refused with a clear error while status answers from the local copy, an
# appliance restarted meanwhile starts on its copy, and changes go through
# again once it is back; a second daemon with the
# same appliance name and one with another master key are refused; no
# plain number reaches PostgreSQL's log. Keys of an epoch rotated on a1
# are issued only once every live appliance's dataplane holds it. fleet
# --forget refuses a live appliance, a stopped one still connected, this
# one and an unknown name, and removes a killed, silent one, which
# registers again when it starts.
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
OR_LOGS=("$T/a1.log" "$T/a2.log" "$T/a1-dp.log" "$T/a2-dp.log")
or_fail_extra() { pg_log_tail db; }

# until_ctl NAME PY ARG CMD...: NAME's `optroutectl -j CMD...` satisfies
# PY on r (sys.argv[2]: ARG) within 10 s.
until_ctl() {
	local name=$1 py=$2 arg=$3

	shift 3
	for _ in $(seq 1 100); do
		ctl "$name" -j "$@" | python3 -c "import json, sys
r = json.load(sys.stdin)
sys.exit(0 if $py else 1)" "$name" "$arg" 2>/dev/null && return 0
		sleep 0.1
	done
	return 1
}
# until_link NAME PY [ARG]: the same on `optroutectl -j dataplane`.
until_link() { until_ctl "$1" "$2" "${3:-}" dataplane; }

fleet_pg
or_key "$T/key2"

N1=+15550300001
N2=+15550300002
fleet_ini a1 >"$T/a1.ini"
fleet_ini a2 >"$T/a2.ini"
fleet_dp a1 DA_PID
fleet_dp a2 DB_PID
fleet_start a1 A_PID
fleet_start a2 B_PID
or_check "both appliances start on the system of record" \
	grep -q "store postgresql, appliance a2, local copy" "$T/a2.log"

# ---- a change on either reaches the other -----------------------------------
j=$(ctl a1 -j optin "$N1")
or_check "opt-in on a1" or_json "$j" 'assert r["ok"] and r["seq"] == 1, r'
# Read-your-writes on another appliance: no polling, the seq the commit
# answered is waited for.
j=$(ctl a2 -j status "$N1" --after-seq 1)
or_check "... a2's status --after-seq 1 answers from a copy that holds it" \
	or_json "$j" 'assert (r["state"], r["fleet"]) == ("in", "connected"), r
assert r["as_of_seq"] >= 1, r'
or_check "opt-out on a2" ctl_ok a2 optout "$N1"
or_check "... seen by a1's copy" until_state a1 "$N1" out
or_check "... one chain: seqs 1 and 2, written by appliances 1 and 2" \
	test "$(pg_sql db "SELECT string_agg(seq || ':' || get_byte(body, 38), ' ' ORDER BY seq)
		FROM optroute.audit")" = "1:1 2:2"

# ---- --wait=fleet and optroutectl fleet ----------------------------------------
out=$(ctl a1 optin +15550300010 --wait=fleet 2>&1)
rc=$?
or_check "--wait=fleet: enforced by both dataplanes ($(echo "$out" | tail -n 1))" \
	test $rc = 0 -a -n "$(echo "$out" | grep -Fx 'fleet: enforced by a1, a2')"
out=$(ctl a2 fleet)
or_check "optroutectl fleet lists both appliances, live, at the head" \
	test -n "$(echo "$out" | grep -E "^a1 +1 live +$(head_seq) +$(head_seq) +0 ")" \
	-a -n "$(echo "$out" | grep -E "^a2 +2 live .*\(this one\)$")"
or_stop DB_PID KILL || true
out=$(ctl a1 optout +15550300010 --wait=fleet 2>&1)
rc=$?
or_check "--wait=fleet with a2's dataplane gone: fleet_timeout naming a2 ($(echo "$out" | head -n 1))" \
	test $rc != 0 -a -n "$(echo "$out" | grep -F 'fleet_timeout: change committed' |
		grep -F 'not by a2 (at seq')"
or_check "... the change is committed all the same" test "$(state a2 +15550300010)" = out
# issuing KEY NAME: NAME's issuing epoch.
issuing() { ctl "$1" -j keys | python3 -c 'import json, sys; print(json.load(sys.stdin)["issuing"])'; }
out=$(ctl a1 fleet --forget a2 2>&1)
or_check "fleet --forget refuses a live appliance ($out)" \
	grep -q "conflict: a2 is live (reported" <<<"$out"
j=$(ctl a1 -j rotate)
or_check "a rotation on a1 with a2's dataplane gone is committed ($j)" \
	or_json "$j" 'assert r["current"] == 1 and r["enforced"] is True, r'
sleep 1
or_check "... but a1 issues epoch 0 while live a2 has not acked epoch 1" test "$(issuing a1)" = 0
# a2 stopped (SIGSTOP): silent, but its follower still holds its lock.
kill -STOP "$B_PID"
sleep 2 # past fleet_silence_ms
out=$(ctl a1 fleet --forget a2 2>&1)
or_check "fleet --forget refuses a silent appliance still connected ($out)" \
	grep -q "conflict: a2 is silent but still connected" <<<"$out"
kill -CONT "$B_PID"
or_stop B_PID KILL || true
sleep 2 # past fleet_silence_ms
for _ in $(seq 1 50); do [ "$(issuing a1)" = 1 ] && break; sleep 0.1; done
or_check "... and epoch 1 once a2 is silent (not waited for)" test "$(issuing a1)" = 1
out=$(ctl a1 optin +15550300011 --wait=fleet 2>&1)
rc=$?
or_check "--wait=fleet does not wait for a silent appliance ($(echo "$out" | tail -n 1))" \
	test $rc = 0 -a -n "$(echo "$out" | grep -F 'fleet: enforced by a1; lagging: a2')"
or_check "optroutectl fleet says a2 is silent" \
	grep -Eq "^a2 +2 silent " <<<"$(ctl a1 fleet)"
out=$(ctl a1 fleet --forget a1 2>&1)
or_check "fleet --forget refuses this appliance ($out)" \
	grep -q "conflict: a1 is this appliance" <<<"$out"
out=$(ctl a1 fleet --forget a9 2>&1)
or_check "... and an unknown name ($out)" grep -q "bad_request: no appliance named a9" <<<"$out"
out=$(ctl a1 fleet --forget a2 2>&1)
or_check "... and forgets the stopped, silent a2 ($out)" test "$out" = "appliance a2 forgotten"
or_check "... which the fleet lists no more" \
	test "$(pg_sql db "SELECT count(*) FROM optroute.appliance WHERE name = 'a2'")" = 0
listed=1
for _ in $(seq 1 50); do
	grep -Eq "^a2 " <<<"$(ctl a1 fleet)" || { listed=0; break; }
	sleep 0.1
done
or_check "... nor does optroutectl fleet" test $listed = 0
fleet_dp a2 DB_PID
fleet_start a2 B_PID
out=$(ctl a2 optin +15550300012 --wait=fleet 2>&1)
or_check "a2 back (registered again) with a fresh dataplane: --wait=fleet by both again" \
	grep -Fxq 'fleet: enforced by a1, a2' <<<"$out"

# ---- concurrent imports converge --------------------------------------------
python3 -c '
import sys
for j, f in enumerate(sys.argv[1:]):
    with open(f, "w") as o:
        for i in range(3000):
            o.write("+1555%d%06d\n" % (4 + j, i))' "$T/numbers.a" "$T/numbers.b"
ctl a1 import "$T/numbers.a" --optin >/dev/null &
ia=$!
ctl a2 import "$T/numbers.b" --optin --chunk 500 >/dev/null &
ib=$!
wait $ia; ra=$?
wait $ib; rb=$?
or_check "imports on both at once succeed" test $ra = 0 -a $rb = 0
or_check "a1 caught up with the head" until_caught_up a1
or_check "a2 caught up with the head" until_caught_up a2
pg_in=$(pg_sql db "SELECT count(*) FROM optroute.consent WHERE state = 1")
or_check "both copies and PostgreSQL hold the same records ($pg_in in)" \
	test "$(store a1 opted_in)" = "$pg_in" -a "$(store a2 opted_in)" = "$pg_in" \
	-a "$pg_in" = 6002 -a "$(store a1 entries)" = "$(store a2 entries)"
or_check "a number imported on a2 is in on a1" test "$(state a1 +15555000123)" = in
out=$(ctl a2 audit --verify 2>&1)
or_check "the chain of both writers verifies ($out)" grep -q "$(head_seq)" <<<"$out"

# ---- a follower killed with -9 catches up -------------------------------------
or_stop B_PID KILL || true
ctl a1 optin "$N2" >/dev/null
ctl a1 import "$T/numbers.a" --optout >/dev/null
fleet_start a2 B_PID
or_check "a2 restarted after kill -9 catches up" until_caught_up a2
or_check "... with what it missed" test "$(state a2 "$N2")" = in \
	-a "$(state a2 +15554000042)" = out
or_check "... its dataplane enforces the head, resumed or resynced" \
	until_link a2 'r["acked_seq"] == int(sys.argv[2]) and r["lag"] == 0 and
r["resumes"] + r["resyncs"] == 1' "$(head_seq)"
echo "   ($(ctl a2 -j dataplane | python3 -c 'import json, sys
r = json.load(sys.stdin)
print("resumed with %d changes" % r["resume_entries"] if r["resumes"] else "resynced")'))"

# ---- PostgreSQL down: no change without a commit; reads go on ----------------
pg_kill db
out=$(ctl a1 optin +15550300003 2>&1)
rc=$?
or_check "a change is refused while PostgreSQL is down ($out)" \
	test $rc != 0 -a -n "$(echo "$out" | grep -i "system of record")"
or_check "... status still answers from the local copy" test "$(state a1 "$N2")" = in
or_check "... and says so: fleet unreachable, as of the copy's seq" \
	until_ctl a1 'r["fleet"] == "unreachable" and r["as_of_seq"] >= 1' "" \
	status "$N2"
out=$(ctl a1 status "$N2" 2>&1 >/dev/null)
or_check "... optroutectl warns that the answer is the local copy's ($out)" \
	grep -q "warning: the system of record is unreachable: this is the local copy's answer, as of seq [0-9]" <<<"$out"
out=$(ctl a1 status "$N2" --after-seq 999999 2>&1)
or_check "... a status --after-seq beyond the copy times out, saying why ($out)" \
	grep -q "timeout: reads here hold changes up to seq [0-9]*, not 999999, after 3000 ms (the system of record is unreachable)" <<<"$out"
or_stop B_PID
fleet_start a2 B_PID
or_check "a2 restarted while it is down starts on its local copy" \
	grep -q "fleet: .*starting on the local copy" "$T/a2.log"
or_check "... and answers from it" test "$(state a2 "$N2")" = in
or_check "... its dataplane resumed from its mark, not resynced" \
	until_link a2 'r["resumes"] == 1 and r["resyncs"] == 0 and
r["resume_entries"] == 0 and r["lag"] == 0'
pg_run db || or_fail "PostgreSQL did not come back"
ok=0
for _ in $(seq 1 50); do
	ctl a1 optin +15550300003 >/dev/null 2>&1 && { ok=1; break; }
	sleep 0.2
done
or_check "changes go through again once it is back" test $ok = 1
or_check "... and reach a2 (its follower connected once it was back)" \
	until_state a2 +15550300003 in
or_check "a2 takes changes again" ctl_ok a2 optin +15550300004
or_check "the refused change was never committed" \
	test "$(pg_sql db "SELECT count(*) FROM optroute.audit a WHERE a.seq > 0
		AND a.token = (SELECT token FROM optroute.consent c WHERE c.seq = (SELECT head_seq FROM optroute.fleet))")" = 1

# ---- refused starts ---------------------------------------------------------
fleet_ini x "$T/key" a1 >"$T/x.ini"
out=$(timeout 30 "$BIN/optroute-control" -c "$T/x.ini" 2>&1)
or_check "a second daemon with the same appliance name is refused" \
	grep -q "appliance 'a1' is already connected" <<<"$out"
fleet_ini y "$T/key2" >"$T/y.ini"
out=$(timeout 30 "$BIN/optroute-control" -c "$T/y.ini" 2>&1)
or_check "an appliance with another master key is refused" \
	grep -q "master key differs from the fleet's" <<<"$out"

# ---- privacy ------------------------------------------------------------------
or_stop A_PID
or_stop B_PID
or_check "no plain number in PostgreSQL's log" \
	test -z "$(grep -E '5550300|555[45]0000' "${PG_DIRS[db]}/server.log")"

or_summary
