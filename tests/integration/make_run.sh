#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
#
# `make run` (deploy/dev/run.sh and its demo, deploy/dev/demo.sh) and the
# README's "Try it", on a state directory and instance name of its own (so a
# developer's own `make run` is not disturbed):
#   1. run.sh comes up (both daemons, three namespaces, protocol version 2)
#      and its demo passes: keys issued sealed and opened, A's signed MSG
#      reaches the delivery node with A's and B's tokens and its payload,
#      A's next MSG (B opted out) comes back as a bounce whose tag A's
#      phone verified; the counters, read here too: delivered 1, bounced 1,
#      dropped 0, drop_bad_tag 0. Signing broken anywhere fails this step.
#   2. by hand, as README.md shows, with the demo's key files: a forged tag
#      is dropped (drop_bad_tag 1, no bounce); C opts in.
#   3. SIGINT to run.sh: it exits 0, both daemons are gone, and so are the
#      namespaces, the taps and the DPDK runtime directory;
#   4. a second run (no demo) on the same state directory keeps key and
#      opt-ins; SIGHUP to run.sh cleans up the same;
#   5. a daemon killed: run.sh says so, cleans up, exits 1;
#   6. `timeout -s TERM N make run`: SIGTERM to make, not to run.sh; once
#      timeout returns, no namespace, tap, daemon or DPDK directory is left.
# No plain number in the logs or the state directory. Bounded: every wait
# has a limit, run.sh runs under timeout, the trap removes everything. Never
# mounts anything (OPTROUTE_HUGE_MOUNT=no).
set -euo pipefail
# shellcheck source=lib/common.sh
. "$(dirname "$0")/lib/common.sh"
case $BUILD in /*) BIN=$BUILD/bin ;; *) BIN=$PWD/$BUILD/bin ;; esac
NAME=mr$(($$ % 1000000))
export OPTROUTE_DEV_DIR=$T/state OPTROUTE_DEV_NAME=$NAME OPTROUTE_HUGE_MOUNT=no
export OPTROUTE_CONTROL_SOCKET=$T/state/control.sock
CTL=$BIN/optroutectl
CLIENT=$BIN/optroute-client
PH=$T/state/phones
TO_PID='' DP_PID='' CP_PID=''
# The demo's numbers (deploy/dev/demo.sh), and one of this test's.
NUM_A=+15550100001
NUM_B=+15550100002
NUM_C=+15550100073
# What run.sh creates, in case it cannot remove it itself.
OR_NETNS=("$NAME-client" "$NAME-delivery" "$NAME-dataplane")
OR_RM=("/var/run/dpdk/$NAME")
OR_LOGS=("$T/run.log" "$T/run2.log" "$T/run3.log" "$T/make.log")

cleanup() {
	# run.sh first: on SIGTERM it stops its daemons and cleans up itself.
	[ -z "$TO_PID" ] || kill -TERM "$TO_PID" 2>/dev/null || true
	[ -z "$TO_PID" ] || timeout 30 tail --pid="$TO_PID" -f /dev/null || true
	or_cleanup
}
or_trap_exit cleanup

# ready_pids LOG: DP_PID and CP_PID from run.sh's ready line.
ready_pids() {
	read -r DP_PID CP_PID < <(sed -n 's/^\[run\] ready: optroute-dataplane pid \([0-9]*\), optroute-control pid \([0-9]*\)\.$/\1 \2/p' "$1")
	[ -n "$CP_PID" ] || or_fail "no pids in the ready line"
}

# wait_ready LOG PID: until LOG has run.sh's ready line (90 s: the demo
# runs first); or_fail if process PID exits first.
wait_ready() {
	for _ in $(seq 1 900); do
		grep -q '^\[run\] ready' "$1" && break
		kill -0 "$2" 2>/dev/null || or_fail "run.sh exited before ready: $(cat "$1")"
		sleep 0.1
	done
	grep -q '^\[run\] ready' "$1" || or_fail "run.sh not ready after 90 s"
	ready_pids "$1"
}

# start_run LOG: run.sh under timeout (which also gives it a default SIGINT
# disposition: a background job of a script would ignore SIGINT), until ready.
start_run() {
	BUILD=$BUILD timeout -k 10 180 deploy/dev/run.sh >"$1" 2>&1 &
	TO_PID=$!
	wait_ready "$1" "$TO_PID"
}

# gone LOG WHAT: nothing of the run is left: daemons, namespaces, taps, the
# DPDK runtime directory; run.sh said it stopped.
gone() {
	for p in $DP_PID $CP_PID; do
		! kill -0 "$p" 2>/dev/null || or_fail "$2: daemon $p still runs"
	done
	for ns in "$NAME-client" "$NAME-delivery" "$NAME-dataplane"; do
		! ns_exists "$ns" || or_fail "$2: namespace $ns left behind"
	done
	! ip -o link show | grep -q "$NAME-" || or_fail "$2: an interface $NAME-* left behind"
	[ ! -e "/var/run/dpdk/$NAME" ] || or_fail "$2: /var/run/dpdk/$NAME left behind"
	grep -q '^\[run\] stopped' "$1" || or_fail "$2: run.sh did not say stopped"
}

# stop_run LOG SIGNAL: SIGNAL to run.sh itself (not its group): it must stop
# the daemons and clean up by itself, and exit 0.
stop_run() {
	local sh_pid rc=0
	sh_pid=$(pgrep -P "$TO_PID" -f deploy/dev/run.sh) || or_fail "run.sh not found"
	kill "-$2" "$sh_pid"
	wait "$TO_PID" || rc=$?
	TO_PID=
	[ "$rc" = 0 ] || or_fail "run.sh exited $rc after SIG$2"
	gone "$1" "SIG$2"
	grep -q '^\[dataplane\] optroute: totals: ' "$1" || or_fail "no dataplane totals in the log"
	grep -q '^\[control\] .* stopped$' "$1" || or_fail "control plane did not log its stop"
}

token() { echo "$1" | "$CTL" status - | awk '$1 == "token" { print $2 }'; }
dp_stat() {
	python3 "$TOOLS/optroute-telemetry.py" -p "$NAME" /optroute/stats |
		python3 -c 'import json, sys; print(json.load(sys.stdin)["/optroute/stats"][sys.argv[1]])' "$1"
}

# 1. up, and the demo
start_run "$T/run.log"
echo "ok: run.sh ready (dataplane $DP_PID, control $CP_PID)"
[ "$(stat -c %a "$T/state/master.key")" = 600 ] || or_fail "master key is not mode 0600"
for ns in "$NAME-client" "$NAME-delivery" "$NAME-dataplane"; do
	ns_exists "$ns" || or_fail "namespace $ns missing"
done
[ "$(ns_links "$NAME-client")" = "$NAME-cli" ] || or_fail "tap $NAME-cli not in $NAME-client"
[ "$(ns_links "$NAME-delivery")" = "$NAME-dlv" ] || or_fail "tap $NAME-dlv not in $NAME-delivery"
grep -q '^auth = yes$' "$T/state/optroute.ini" || or_fail "make run without auth = yes"

grep -q '^\[demo\] ok: keys end to end' "$T/run.log" || or_fail "the demo failed"
A=$(token "$NUM_A")
B=$(token "$NUM_B")
[[ $A =~ ^[0-9a-f]{32}$ && $B =~ ^[0-9a-f]{32}$ ]] || or_fail "tokens '$A' '$B'"
for x in a b; do
	[ "$(stat -c %a "$PH/$x.key")" = 600 ] || or_fail "$x.key is not mode 0600"
done
grep -q "^token $A\$" "$PH/a.key" || or_fail "a.key is not A's"
grep -q "^\[demo\]     msg .* sender=$A recipient=$B from=198.51.100.1:7040 send_time=[0-9]* tag=[0-9a-f]\{16\} payload_len=5 payload=\"hello\"\$" \
	"$T/run.log" || or_fail "the delivery node's line"
grep -q '^\[demo\]     bounce .*reason=recipient_unavailable' "$T/run.log" ||
	or_fail "no verified bounce in the demo"
grep -q '^\[demo\]     summary: sent 1, bounced 1, .* forged 0' "$T/run.log" ||
	or_fail "the demo's bounce summary"
"$CTL" -j stats | python3 -c '
import json, sys
d = json.load(sys.stdin)["dataplane"]
assert (d["delivered"], d["bounced"], d["dropped"], d["drop_bad_tag"]) == (1, 1, 0, 0), d' ||
	or_fail "dataplane counters after the demo"
grep -q '^\[demo\]     dataplane: rx [0-9]*, delivered 1, bounced 1, dropped 0 (bad tag 0,' "$T/run.log" ||
	or_fail "the demo's counters line"
echo "$NUM_B" | "$CTL" status - | grep -q '^state  *out$' || or_fail "B not opted out by the demo"
echo "ok: demo: keys opened, signed MSG delivered, signed bounce verified, counters 1/1/0"

# 2. by hand (README.md "Try it"): a forged tag is dropped, silently
rc=0
ip netns exec "$NAME-client" timeout 20 "$CLIENT" send --to 192.0.2.1 \
	--key "$PH/a.key" --to-token "$(awk '$1 == "token" { print $2 }' "$PH/b.key")" \
	--payload hi --forge-tag --wait-ms 500 --expect none >"$T/forged.out" 2>&1 || rc=$?
[ "$rc" = 0 ] || or_fail "forged MSG: a reply came: $(cat "$T/forged.out")"
[ "$(dp_stat drop_bad_tag)" = 1 ] || or_fail "drop_bad_tag $(dp_stat drop_bad_tag), want 1"
[ "$(dp_stat bounced)" = 1 ] || or_fail "a forged MSG was bounced"
C=$(echo "$NUM_C" | "$CTL" -j optin - --wait | python3 -c 'import json, sys
r = json.load(sys.stdin); assert r["applied"] is True, r; print(r["token"])') ||
	or_fail "optin C"
echo "ok: by hand: a forged tag dropped (drop_bad_tag 1, no bounce); C opted in"

# 3. SIGINT
stop_run "$T/run.log" INT
echo "ok: SIGINT: run.sh exited 0, daemons, namespaces, taps and DPDK files gone"

# 4. state kept; SIGHUP
key=$(sha256sum <"$T/state/master.key")
OPTROUTE_DEV_DEMO=no start_run "$T/run2.log"
! grep -q '^\[demo\]' "$T/run2.log" || or_fail "OPTROUTE_DEV_DEMO=no ran the demo"
[ "$(sha256sum <"$T/state/master.key")" = "$key" ] || or_fail "master key replaced"
[ "$(token "$NUM_A")" = "$A" ] || or_fail "token of A changed"
echo "$NUM_B" | "$CTL" status - | grep -q '^state  *out$' || or_fail "B's opt-out lost"
echo "$NUM_C" | "$CTL" status - | grep -q '^applied  *yes$' || or_fail "C not in the new dataplane"
[ "$(token "$NUM_C")" = "$C" ] || or_fail "token of C changed"
stop_run "$T/run2.log" HUP
echo "ok: second run kept the key and the opt-ins; SIGHUP cleaned up"

# 5. a daemon dies: run.sh notices, cleans up, exits 1
OPTROUTE_DEV_DEMO=no start_run "$T/run3.log"
kill -KILL "$DP_PID"
rc=0
wait "$TO_PID" || rc=$?
TO_PID=
[ "$rc" = 1 ] || or_fail "run.sh exited $rc after its dataplane was killed, want 1"
grep -q '^\[run\] optroute-dataplane exited by itself' "$T/run3.log" ||
	or_fail "run.sh did not say the dataplane exited"
gone "$T/run3.log" "dataplane killed"
echo "ok: dataplane killed: run.sh said so, cleaned up, exited 1"

# 6. SIGTERM to make. Built first, so that the time goes to the run.
BUILD=$BUILD make NODEPS=1 all >"$T/build.log" 2>&1 || or_fail "make all: $(tail -n 20 "$T/build.log")"
BUILD=$BUILD OPTROUTE_DEV_DEMO=no timeout -s TERM 20 make NODEPS=1 run >"$T/make.log" 2>&1 &
TO_PID=$!
wait_ready "$T/make.log" "$TO_PID"
rc=0
wait "$TO_PID" || rc=$?
TO_PID=
[ "$rc" = 124 ] || or_fail "timeout make run: exit $rc, want 124 (timed out)"
gone "$T/make.log" "SIGTERM to make"
echo "ok: timeout -s TERM make run: clean when timeout returned"

if grep -rqa -e "${NUM_A#+}" -e "${NUM_B#+}" -e "${NUM_C#+}" "$T"/*.log "$T"/*.out "$T/state"; then
	or_fail "a plain number in a log or the state directory"
fi
echo "make_run: ok"
