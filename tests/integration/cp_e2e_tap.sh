#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
#
# Both daemons end to end with live kernel traffic: optroute-dataplane on
# two net_tap ports inside a network namespace this test creates
# (documentation addresses only, as in dp_tap.sh), optroute-control
# connected to it over the update channel. Numbers are opted in and out
# with optroutectl --wait, and right after each reply a real UDP message is
# sent: it must be delivered, bounced or dropped as the new state says
# (--wait means the dataplane already decides on it). Then both daemons
# are restarted in turn: the control plane's full resync on (re)connect
# must restore the dataplane's table.
#
#   kernel "client" 192.0.2.10 --- tap orc<pid> --- port client 192.0.2.1
#   kernel "node"  203.0.113.5 --- tap ord<pid> --- port delivery 203.0.113.1
set -euo pipefail
# shellcheck source=lib/common.sh
. "$(dirname "$0")/lib/common.sh"
or_trap_exit or_cleanup
or_tap_ns

{
	echo "; one file for both daemons"
	or_ini_eal
	or_ini_dataplane 100000 "idle_sleep_us = 200"
	or_ini_tap_appliance 203.0.113
	or_ini_control "node_policy = fixed 1" "wait_timeout_ms = 5000" \
		"channel_retry_ms = 100"
} >"$T/or.ini"
or_key "$T/key"
CTL="$BIN/optroutectl"

start_dp() {
	or_start_dp "$T/or.ini" "$NS"
	or_tap_peers 203.0.113
}

stop_dp() {
	or_stop DP_PID || or_fail "optroute-dataplane exited $?"
}

# One message from the client; prints delivered, bounced or dropped.
cat >"$T/send.py" <<'EOF'
import select, socket, sys
from orproto import BOUNCE, HDR, MSG, build
snd, rcp = bytes.fromhex(sys.argv[1]), bytes.fromhex(sys.argv[2])
mid = int(sys.argv[3])
client = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
client.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
client.bind(("192.0.2.10", 40000))
node = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
node.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
node.bind(("203.0.113.5", 7041))
msg = build(MSG, mid, snd, rcp, payload=b"ciphertext")
client.sendto(msg, ("192.0.2.1", 7040))
deadline = 1.5
r, _, _ = select.select([client, node], [], [], deadline)
if node in r:
    data, _ = node.recvfrom(2048)
    print("delivered" if data == msg else "delivered-corrupt")
elif client in r:
    data, _ = client.recvfrom(2048)
    ok = len(data) == 68 and data[3] == BOUNCE and HDR.unpack(data)[7] == mid
    print("bounced" if ok else "bounce-corrupt")
else:
    print("dropped")
EOF
MID=0
expect() { # expect SENDER_TOKEN RECIPIENT_TOKEN OUTCOME WHAT
	MID=$((MID + 1))
	got=$(in_ns timeout 10 python3 "$T/send.py" "$1" "$2" "$MID")
	[ "$got" = "$3" ] || or_fail "$4: $got, want $3"
	echo "ok: $4: $got"
}

start_dp
or_start_cp "$T/or.ini"
or_wait_synced 1
echo "ok: control plane connected and resynced"

S=$(or_change optin +15550700001)
R=$(or_change optin +15550700002)
U=$(or_token +15550700003)

expect "$S" "$R" delivered "both opted in"
expect "$S" "$U" bounced "recipient never opted in"
expect "$U" "$R" dropped "sender never opted in"

or_change optout +15550700002 >/dev/null
expect "$S" "$R" bounced "right after optout --wait"
or_change optin +15550700002 >/dev/null
expect "$S" "$R" delivered "right after optin --wait"
or_change erase +15550700002 >/dev/null
expect "$S" "$R" bounced "right after erase --wait"
or_change optin +15550700002 >/dev/null
expect "$S" "$R" delivered "opted in again after erase"
or_change optout +15550700001 >/dev/null
expect "$S" "$R" dropped "sender opted out"
or_change optin +15550700001 >/dev/null
expect "$S" "$R" delivered "sender back in"

# Many changes at once, then one message: the import's last chunk was
# acked, so every change before it is applied too.
for i in $(seq 1000 3999); do echo "+1555071$i"; done >"$T/import.txt"
"$CTL" import "$T/import.txt" --optin --wait >/dev/null
I1=$(or_token +15550711000)
I2=$(or_token +15550713999)
expect "$I1" "$I2" delivered "imported numbers"
expect "$I2" "$S" delivered "imported sender to opted-in recipient"

or_json "$("$CTL" -j table)" '
assert r["ok"] and r["entries"] == 3002, r        # S, R, 3000 imported
assert r["bytes"] > 0 and 0 < r["load"] <= 1, r'
echo "ok: table reports 3002 entries"
or_json "$("$CTL" -j dataplane)" '
assert r["connected"] and r["lag"] == 0 and r["acked_seq"] == r["committed_seq"] == 3008, r'
echo "ok: dataplane acked every change (lag 0)"
or_json "$("$CTL" -j stats)" '
d = r["dataplane"]
assert d["table.entries"] == 3002 and d["chan.connected"] == 1, d
assert d["delivered"] >= 1 and d["bounced"] >= 1, d'
echo "ok: stats include the dataplane counters"

# Control plane killed and restarted: it resyncs the running dataplane.
or_stop CP_PID KILL || true
expect "$S" "$R" delivered "dataplane keeps deciding without the control plane"
or_start_cp "$T/or.ini"
or_wait_synced 1
expect "$S" "$U" bounced "after control plane restart (resync)"
expect "$I1" "$R" delivered "imported entry kept after control plane restart"

# Dataplane restarted: the control plane reconnects and resyncs it.
stop_dp
if echo +15550713999 | "$CTL" -j optout - --wait >/dev/null 2>&1; then
	or_fail "--wait succeeded without a dataplane"
fi
echo "ok: --wait fails while the dataplane is down"
start_dp
or_wait_synced 2
expect "$S" "$R" delivered "after dataplane restart (resync from the store)"
expect "$I1" "$I2" bounced "change made while the dataplane was down"

stop_dp
or_stop CP_PID || or_fail "optroute-control exited $?"
if grep -rqa 1555070000 "$T/store" "$T/cp.log" "$T/dp.log"; then
	or_fail "a plain number in the store or a log"
fi
echo "cp_e2e_tap: ok"
