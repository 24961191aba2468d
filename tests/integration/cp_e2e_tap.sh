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
cd "$(dirname "$0")/../.."
BUILD=${BUILD:-build}
BIN=$BUILD/bin
TOOLS=tests/tools
T=$(mktemp -d /tmp/or-cp-e2e.XXXXXX)
ID=$$
NS=or_cp_e2e_$ID
PREFIX=or_cp_e2e_$ID
CIF=orc$ID
DIF=ord$ID
DP_PID=
CP_PID=

cleanup() {
	for p in $CP_PID $DP_PID; do
		kill -KILL "$p" 2>/dev/null || true
		wait "$p" 2>/dev/null || true
	done
	ip netns del "$NS" 2>/dev/null || true
	rm -rf "$T" "/var/run/dpdk/$PREFIX"
}
trap cleanup EXIT
# run-all.sh's timeout sends TERM: exit through the EXIT trap, so clean-up runs.
trap 'exit 143' TERM
trap 'exit 130' INT

if ! ip netns add "$NS" 2>"$T/netns.err"; then
	echo "cp_e2e_tap: cannot create a network namespace: $(cat "$T/netns.err")"
	exit 1
fi
in_ns() { ip netns exec "$NS" "$@"; }
in_ns ip link set lo up

cat >"$T/or.ini" <<EOF
; one file for both daemons
[eal]
args = --no-huge -m 256 --no-pci --file-prefix=$PREFIX
[dataplane]
channel = $T/dp.sock
table_entries = 100000
idle_sleep_us = 200
[port client]
device = net_tap0,iface=$CIF
workers = 1
ip = 192.0.2.1
mac = 02:00:00:00:01:01
[port delivery]
device = net_tap1,iface=$DIF
ip = 203.0.113.1
mac = 02:00:00:00:02:01
[nexthop 1]
port = delivery
mac = 02:00:00:00:02:05
ip = 203.0.113.5
udp_port = 7041
[control]
mgmt_socket = $T/cp.sock
store_path = $T/store
key_file = $T/key
node_policy = fixed 1
wait_timeout_ms = 5000
channel_retry_ms = 100
EOF
python3 -c 'import os; print(os.urandom(32).hex())' >"$T/key"
chmod 600 "$T/key"
export OPTROUTE_CONTROL_SOCKET=$T/cp.sock
CTL="$BIN/optroutectl"

start_dp() {
	# nsenter execs (ip netns exec forks): $! is the dataplane itself.
	nsenter --net="/var/run/netns/$NS" "$BIN/optroute-dataplane" -c "$T/or.ini" \
		>>"$T/dp.log" 2>&1 &
	DP_PID=$!
	python3 "$TOOLS/optroute-telemetry.py" -w 20 -p "$PREFIX" /optroute/stats \
		>/dev/null || { cat "$T/dp.log"; exit 1; }
	for _ in $(seq 1 50); do
		in_ns ip link show "$DIF" >/dev/null 2>&1 && break
		sleep 0.1
	done
	for spec in "$CIF 02:00:00:00:00:0a 192.0.2.10/24" \
		"$DIF 02:00:00:00:02:05 203.0.113.5/24"; do
		set -- $spec
		in_ns sysctl -qw "net.ipv6.conf.$1.disable_ipv6=1"
		in_ns ip link set "$1" address "$2"
		in_ns ip addr add "$3" dev "$1"
		in_ns ip link set "$1" up
	done
}

stop_dp() {
	kill -TERM "$DP_PID"
	timeout 20 tail --pid="$DP_PID" -f /dev/null
	wait "$DP_PID" || { echo "optroute-dataplane exited $?"; cat "$T/dp.log"; exit 1; }
	DP_PID=
}

start_cp() {
	"$BIN/optroute-control" -c "$T/or.ini" >>"$T/cp.log" 2>&1 &
	CP_PID=$!
}

# Waits until the control plane is connected and its last resync is acked.
wait_synced() { # $1 = resyncs wanted at least
	for _ in $(seq 1 100); do
		if "$CTL" -j dataplane 2>/dev/null | python3 -c '
import json, sys
r = json.load(sys.stdin)
sys.exit(0 if r["connected"] and not r["syncing"] and r["resyncs"] >= int(sys.argv[1]) and r["lag"] == 0 else 1)' "$1" 2>/dev/null; then
			return 0
		fi
		sleep 0.1
	done
	echo "control plane did not sync with the dataplane"
	cat "$T/cp.log" "$T/dp.log"
	exit 1
}

# One message from the client; prints delivered, bounced or dropped.
cat >"$T/send.py" <<'EOF'
import socket, struct, sys
snd, rcp = bytes.fromhex(sys.argv[1]), bytes.fromhex(sys.argv[2])
mid = int(sys.argv[3])
client = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
client.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
client.bind(("192.0.2.10", 40000))
node = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
node.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
node.bind(("203.0.113.5", 7041))
payload = b"ciphertext"
msg = struct.pack("!HBBBBBBQ16s16s16sHH", 0x4F52, 1, 1, 0, 0, 0, 0, mid,
                  snd, rcp, bytes(16), len(payload), 0) + payload
client.sendto(msg, ("192.0.2.1", 7040))
import select
deadline = 1.5
r, _, _ = select.select([client, node], [], [], deadline)
if node in r:
    data, _ = node.recvfrom(2048)
    print("delivered" if data == msg else "delivered-corrupt")
elif client in r:
    data, _ = client.recvfrom(2048)
    ok = len(data) == 68 and data[3] == 2 and struct.unpack("!Q", data[8:16])[0] == mid
    print("bounced" if ok else "bounce-corrupt")
else:
    print("dropped")
EOF
MID=0
expect() { # expect SENDER_TOKEN RECIPIENT_TOKEN OUTCOME WHAT
	MID=$((MID + 1))
	got=$(in_ns timeout 10 python3 "$T/send.py" "$1" "$2" "$MID")
	if [ "$got" != "$3" ]; then
		echo "FAIL: $4: $got, want $3"
		cat "$T/cp.log"
		exit 1
	fi
	echo "ok: $4: $got"
}

# optin/optout with --wait; prints the token; checks "applied".
change() { # change optin|optout NUMBER
	local j
	j=$(echo "$2" | "$CTL" -j "$1" - --wait)
	python3 -c '
import json, sys
r = json.loads(sys.argv[1])
assert r["ok"] and r["applied"] is True, r
print(r["token"])' "$j"
}

start_dp
start_cp
wait_synced 1
echo "ok: control plane connected and resynced"

S=$(change optin +15550700001)
R=$(change optin +15550700002)
U=$("$CTL" -j status +15550700003 | python3 -c 'import json,sys; print(json.load(sys.stdin)["token"])')

expect "$S" "$R" delivered "both opted in"
expect "$S" "$U" bounced "recipient never opted in"
expect "$U" "$R" dropped "sender never opted in"

change optout +15550700002 >/dev/null
expect "$S" "$R" bounced "right after optout --wait"
change optin +15550700002 >/dev/null
expect "$S" "$R" delivered "right after optin --wait"
change erase +15550700002 >/dev/null
expect "$S" "$R" bounced "right after erase --wait"
change optin +15550700002 >/dev/null
expect "$S" "$R" delivered "opted in again after erase"
change optout +15550700001 >/dev/null
expect "$S" "$R" dropped "sender opted out"
change optin +15550700001 >/dev/null
expect "$S" "$R" delivered "sender back in"

# Many changes at once, then one message: the import's last chunk was
# acked, so every change before it is applied too.
for i in $(seq 1000 3999); do echo "+1555071$i"; done >"$T/import.txt"
"$CTL" import "$T/import.txt" --optin --wait >/dev/null
I1=$("$CTL" -j status +15550711000 | python3 -c 'import json,sys; print(json.load(sys.stdin)["token"])')
I2=$("$CTL" -j status +15550713999 | python3 -c 'import json,sys; print(json.load(sys.stdin)["token"])')
expect "$I1" "$I2" delivered "imported numbers"
expect "$I2" "$S" delivered "imported sender to opted-in recipient"

j=$("$CTL" -j table)
python3 -c '
import json, sys
r = json.loads(sys.argv[1])
assert r["ok"] and r["entries"] == 3002, r        # S, R, 3000 imported
assert r["bytes"] > 0 and 0 < r["load"] <= 1, r' "$j"
echo "ok: table reports 3002 entries"
j=$("$CTL" -j dataplane)
python3 -c '
import json, sys
r = json.loads(sys.argv[1])
assert r["connected"] and r["lag"] == 0 and r["acked_seq"] == r["committed_seq"] == 3008, r' "$j"
echo "ok: dataplane acked every change (lag 0)"
j=$("$CTL" -j stats)
python3 -c '
import json, sys
r = json.loads(sys.argv[1])
d = r["dataplane"]
assert d["table.entries"] == 3002 and d["chan.connected"] == 1, d
assert d["delivered"] >= 1 and d["bounced"] >= 1, d' "$j"
echo "ok: stats include the dataplane counters"

# Control plane killed and restarted: it resyncs the running dataplane.
kill -KILL "$CP_PID"; wait "$CP_PID" 2>/dev/null || true; CP_PID=
expect "$S" "$R" delivered "dataplane keeps deciding without the control plane"
start_cp
wait_synced 1
expect "$S" "$U" bounced "after control plane restart (resync)"
expect "$I1" "$R" delivered "imported entry kept after control plane restart"

# Dataplane restarted: the control plane reconnects and resyncs it.
stop_dp
change optout +15550713999 >/dev/null 2>&1 && { echo "FAIL: --wait succeeded without a dataplane"; exit 1; }
echo "ok: --wait fails while the dataplane is down"
start_dp
wait_synced 2
expect "$S" "$R" delivered "after dataplane restart (resync from the store)"
expect "$I1" "$I2" bounced "change made while the dataplane was down"

stop_dp
kill -TERM "$CP_PID"; wait "$CP_PID"; CP_PID=
if grep -rqa 1555070000 "$T/store" "$T/cp.log" "$T/dp.log"; then
	echo "FAIL: a plain number in the store or a log"; exit 1
fi
echo "cp_e2e_tap: ok"
