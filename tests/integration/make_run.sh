#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
#
# `make run` (deploy/dev/run.sh) and the README's "Try it" walkthrough, on
# a state directory and instance name of its own (so a developer's own
# `make run` is not disturbed):
#   1. run.sh comes up (both daemons, three namespaces) and says ready;
#   2. two numbers opt in with optroutectl --wait; a message from one to the
#      other reaches the receiver in the delivery namespace, byte for byte;
#   3. the recipient opts out with --wait: the next message bounces and
#      nothing reaches the receiver;
#   4. SIGINT to run.sh: it exits 0, both daemons are gone, and so are the
#      namespaces, the taps and the DPDK runtime directory;
#   5. a second run on the same state directory keeps key and opt-ins.
# No plain number in the logs or the state directory. Bounded: every wait
# has a limit, run.sh runs under timeout, the trap removes everything.
set -euo pipefail
# shellcheck source=lib/common.sh
. "$(dirname "$0")/lib/common.sh"
BIN=$PWD/$BUILD/bin
NAME=mr$(($$ % 1000000))
export OPTROUTE_DEV_DIR=$T/state OPTROUTE_DEV_NAME=$NAME
export OPTROUTE_CONTROL_SOCKET=$T/state/control.sock
CTL=$BIN/optroutectl
CLIENT=$BIN/optroute-client
TO_PID='' DP_PID='' CP_PID=''
NUM_A=+15550100071
NUM_B=+15550100072
# What run.sh creates, in case it cannot remove it itself.
OR_NETNS=("$NAME-client" "$NAME-delivery" "$NAME-dataplane")
OR_RM=("/var/run/dpdk/$NAME")
OR_LOGS=("$T/run.log" "$T/run2.log")

cleanup() {
	# run.sh first: on SIGTERM it stops its daemons and cleans up itself.
	[ -z "$TO_PID" ] || kill -TERM "$TO_PID" 2>/dev/null || true
	[ -z "$TO_PID" ] || timeout 30 tail --pid="$TO_PID" -f /dev/null || true
	or_cleanup
}
or_trap_exit cleanup

# start_run LOG: run.sh under timeout (which also gives it a default SIGINT
# disposition: a background job of a script would ignore SIGINT), until ready.
start_run() {
	BUILD=$BUILD timeout -k 10 120 deploy/dev/run.sh >"$1" 2>&1 &
	TO_PID=$!
	for _ in $(seq 1 600); do
		grep -q '^\[run\] ready' "$1" && break
		kill -0 "$TO_PID" 2>/dev/null || or_fail "run.sh exited before ready: $(cat "$1")"
		sleep 0.1
	done
	grep -q '^\[run\] ready' "$1" || or_fail "run.sh not ready after 60 s"
	read -r DP_PID CP_PID < <(sed -n 's/^\[run\] ready: optroute-dataplane pid \([0-9]*\), optroute-control pid \([0-9]*\)\.$/\1 \2/p' "$1")
	[ -n "$CP_PID" ] || or_fail "no pids in the ready line"
}

# stop_run LOG: SIGINT to run.sh itself (not its group): it must stop the
# daemons and clean up by itself, and exit 0.
stop_run() {
	local sh_pid rc=0
	sh_pid=$(pgrep -P "$TO_PID" -f deploy/dev/run.sh) || or_fail "run.sh not found"
	kill -INT "$sh_pid"
	wait "$TO_PID" || rc=$?
	TO_PID=
	[ "$rc" = 0 ] || or_fail "run.sh exited $rc after SIGINT"
	for p in $DP_PID $CP_PID; do
		! kill -0 "$p" 2>/dev/null || or_fail "daemon $p still runs after run.sh exited"
	done
	for ns in "$NAME-client" "$NAME-delivery" "$NAME-dataplane"; do
		! ns_exists "$ns" || or_fail "namespace $ns left behind"
	done
	! ip -o link show | grep -q "$NAME-" || or_fail "an interface $NAME-* left behind"
	[ ! -e "/var/run/dpdk/$NAME" ] || or_fail "/var/run/dpdk/$NAME left behind"
	grep -q '^\[dataplane\] optroute: totals: ' "$1" || or_fail "no dataplane totals in the log"
	grep -q '^\[control\] .* stopped$' "$1" || or_fail "control plane did not log its stop"
	grep -q '^\[run\] stopped' "$1" || or_fail "run.sh did not say stopped"
}

token() { echo "$1" | "$CTL" status - | awk '$1 == "token" { print $2 }'; }

# send_msg N EXPECT RECV_MS WHAT: one message "hello" from A to B, sent by
# optroute-client --expect EXPECT in the client namespace (WHAT: the
# failure if it does not meet EXPECT) while the delivery node listens up to
# RECV_MS ms for one message; $T/sendN.json, $T/recvN.json. Returns the
# receiver's status: 0 if it got a message.
send_msg() {
	local recv
	ip netns exec "$NAME-delivery" timeout 20 "$CLIENT" recv -j --listen 198.51.100.5:7041 \
		--count 1 --timeout-ms "$3" >"$T/recv$1.json" &
	recv=$!
	for _ in $(seq 1 50); do grep -q listening "$T/recv$1.json" && break; sleep 0.1; done
	ip netns exec "$NAME-client" timeout 20 "$CLIENT" send -j --to 192.0.2.1 \
		--from-token "$A" --to-token "$B" --payload hello --expect "$2" >"$T/send$1.json" ||
		or_fail "$4: $(cat "$T/send$1.json")"
	wait "$recv"
}

# 1. up
start_run "$T/run.log"
echo "ok: run.sh ready (dataplane $DP_PID, control $CP_PID)"
[ "$(stat -c %a "$T/state/master.key")" = 600 ] || or_fail "master key is not mode 0600"
for ns in "$NAME-client" "$NAME-delivery" "$NAME-dataplane"; do
	ns_exists "$ns" || or_fail "namespace $ns missing"
done
[ "$(ns_links "$NAME-client")" = "$NAME-cli" ] || or_fail "tap $NAME-cli not in $NAME-client"
[ "$(ns_links "$NAME-delivery")" = "$NAME-dlv" ] || or_fail "tap $NAME-dlv not in $NAME-delivery"

# 2. opt in, deliver (the README's commands)
echo "$NUM_A" | "$CTL" optin - --wait | grep -q 'applied by the dataplane' || or_fail "optin A"
echo "$NUM_B" | "$CTL" optin - --wait | grep -q 'applied by the dataplane' || or_fail "optin B"
A=$(token "$NUM_A")
B=$(token "$NUM_B")
[[ $A =~ ^[0-9a-f]{32}$ && $B =~ ^[0-9a-f]{32}$ ]] || or_fail "tokens '$A' '$B'"

send_msg 1 none 10000 "send to an opted-in recipient" ||
	or_fail "the delivery node received nothing: $(cat "$T/recv1.json")"
python3 - "$T/recv1.json" "$A" "$B" <<'EOF' || or_fail "delivered message"
import json, sys
ev = [json.loads(l) for l in open(sys.argv[1])]
m = [e for e in ev if e["event"] == "msg"]
assert len(m) == 1, ev
m = m[0]
assert (m["sender"], m["recipient"], m["payload"], m["from"]) == \
    (sys.argv[2], sys.argv[3], "hello", "198.51.100.1:7040"), m
EOF
echo "ok: delivered from A to B through the dataplane"

# 3. opt out with --wait, bounce, nothing delivered
echo "$NUM_B" | "$CTL" optout - --wait | grep -q 'applied by the dataplane' || or_fail "optout B"
! send_msg 2 bounce 2000 "no bounce after optout --wait" ||
	or_fail "a message reached the node after the opt-out: $(cat "$T/recv2.json")"
grep -q '"event":"bounce".*"reason":"recipient_unavailable"' "$T/send2.json" || or_fail "bounce: $(cat "$T/send2.json")"
echo "ok: bounced after optout --wait, nothing delivered"

"$CTL" -j stats | python3 -c '
import json, sys
d = json.load(sys.stdin)["dataplane"]
assert d["delivered"] == 1 and d["bounced"] == 1 and d["dropped"] == 0, d' ||
	or_fail "dataplane counters"
echo "ok: counters: delivered 1, bounced 1, dropped 0"

# 4. SIGINT
stop_run "$T/run.log"
echo "ok: SIGINT: run.sh exited 0, daemons, namespaces, taps and DPDK files gone"

# 5. state kept
key=$(sha256sum <"$T/state/master.key")
start_run "$T/run2.log"
[ "$(sha256sum <"$T/state/master.key")" = "$key" ] || or_fail "master key replaced"
[ "$(token "$NUM_A")" = "$A" ] || or_fail "token of A changed"
echo "$NUM_B" | "$CTL" status - | grep -q '^state  *out$' || or_fail "B's opt-out lost"
echo "$NUM_A" | "$CTL" status - | grep -q '^applied  *yes$' || or_fail "A not in the new dataplane"
stop_run "$T/run2.log"
echo "ok: second run kept the key and the opt-ins"

if grep -rqa -e "${NUM_A#+}" -e "${NUM_B#+}" "$T"/*.log "$T/state"; then
	or_fail "a plain number in a log or the state directory"
fi
echo "make_run: ok"
