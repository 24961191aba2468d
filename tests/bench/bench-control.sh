#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
#
# Control-plane benchmark (make bench-control). Three figures:
#
#  durable_changes_per_s   opt-ins committed (fsync'ed) per second: CHANGES
#                          numbers imported with optroutectl import (chunks of
#                          2048 lines, 4 requests in flight), no dataplane.
#  optout_enforced_p50_us  latency of one opt-out with "wait": request sent
#  optout_enforced_p99_us  -> committed -> pushed -> applied by the dataplane
#                          after its grace period -> acked -> reply received;
#                          OPTOUTS sequential requests on one connection.
#  resync_seconds          full resync of RESYNC_ENTRIES records to a freshly
#                          started dataplane, RESYNC_BEGIN sent -> RESYNC_END
#                          acked (resync_seconds_10m when RESYNC_ENTRIES is
#                          10M, else null).
#
# The dataplane runs on net_pcap ports with an empty capture (no traffic),
# --no-huge. Progress on stderr; the last line is one JSON object.
# Filling the store to 10M records takes minutes (~8 min on a 2-core VM):
# RESYNC_ENTRIES=1000000 for a quick run.
set -euo pipefail
cd "$(dirname "$0")/../.."
BUILD=${BUILD:-build}
BIN=$BUILD/bin
TOOLS=tests/tools
CHANGES=${CHANGES:-500000}
OPTOUTS=${OPTOUTS:-1000}
RESYNC_ENTRIES=${RESYNC_ENTRIES:-10000000}
T=$(mktemp -d /tmp/or-bench-cp.XXXXXX)
PREFIX=or_bench_cp_$$
DP_PID=
CP_PID=

cleanup() {
	for p in $CP_PID $DP_PID; do
		kill -KILL "$p" 2>/dev/null || true
		wait "$p" 2>/dev/null || true
	done
	rm -rf "$T" "/var/run/dpdk/$PREFIX"
}
trap cleanup EXIT
log() { echo "bench-control: $*" >&2; }

python3 -c 'import os; print(os.urandom(32).hex())' >"$T/key"
chmod 600 "$T/key"
# An empty capture: the ports exist, no traffic.
python3 -c 'import struct,sys; sys.stdout.buffer.write(struct.pack("<IHHiIII", 0xa1b2c3d4, 2, 4, 0, 0, 65535, 1))' >"$T/empty.pcap"
MEM_MB=$(( 512 + RESYNC_ENTRIES / 8000 ))
cat >"$T/or.ini" <<EOF
[eal]
args = --no-huge -m $MEM_MB --no-pci --file-prefix=$PREFIX --log-level=lib.eal:error
[dataplane]
channel = $T/dp.sock
table_entries = $RESYNC_ENTRIES
idle_sleep_us = 50
[port client]
device = net_pcap0,rx_pcap=$T/empty.pcap,tx_pcap=$T/out.pcap
workers = 1
ip = 192.0.2.1
mac = 02:00:00:00:01:01
[control]
mgmt_socket = $T/cp.sock
store_path = $T/store
key_file = $T/key
channel_retry_ms = 50
wait_timeout_ms = 10000
EOF
export OPTROUTE_CONTROL_SOCKET=$T/cp.sock
CTL="$BIN/optroutectl"

start_cp() {
	"$BIN/optroute-control" -c "$T/or.ini" >>"$T/cp.log" 2>&1 &
	CP_PID=$!
	for _ in $(seq 200); do
		"$CTL" version >/dev/null 2>&1 && return 0
		sleep 0.05
	done
	cat "$T/cp.log" >&2; exit 1
}
start_dp() {
	"$BIN/optroute-dataplane" -c "$T/or.ini" >>"$T/dp.log" 2>&1 &
	DP_PID=$!
}
stop_dp() {
	kill -TERM "$DP_PID"
	timeout 60 tail --pid="$DP_PID" -f /dev/null || kill -KILL "$DP_PID"
	wait "$DP_PID" || true
	DP_PID=
}
# Prints the dataplane reply once connected, not syncing, lag 0.
wait_synced() { # $1 = timeout s
	local end=$((SECONDS + $1)) j
	while [ $SECONDS -lt $end ]; do
		j=$("$CTL" -j dataplane 2>/dev/null || true)
		if python3 -c '
import json, sys
r = json.loads(sys.argv[1])
sys.exit(0 if r["connected"] and not r["syncing"] and r["resyncs"] >= 1 and r["lag"] == 0 else 1)' "$j" 2>/dev/null; then
			echo "$j"; return 0
		fi
		sleep 0.05
	done
	log "dataplane did not sync"; cat "$T/cp.log" "$T/dp.log" >&2; exit 1
}

# ------------------------------------------------------ durable changes --
start_cp
python3 -c "
for i in range($CHANGES): print('+1555%07d' % i)" >"$T/numbers.txt"
t0=$(date +%s.%N)
"$CTL" import "$T/numbers.txt" --optin --chunk 2048 >/dev/null
t1=$(date +%s.%N)
DURABLE=$(python3 -c "print(round($CHANGES / ($t1 - $t0)))")
log "durable: $CHANGES opt-ins in $(python3 -c "print(round($t1 - $t0, 2))") s = $DURABLE changes/s"

# ------------------------------------------------- opt-out enforcement --
start_dp
wait_synced 60 >/dev/null
read -r P50 P99 < <(python3 - "$T/cp.sock" "$OPTOUTS" <<'EOF'
import json, socket, sys, time
s = socket.socket(socket.AF_UNIX); s.connect(sys.argv[1]); f = s.makefile("rb")
lat = []
for i in range(int(sys.argv[2])):
    req = json.dumps({"v": 1, "id": i, "cmd": "optout", "number": "+1555%07d" % i,
                      "wait": True}).encode() + b"\n"
    t0 = time.perf_counter_ns()
    s.sendall(req)
    r = json.loads(f.readline())
    lat.append((time.perf_counter_ns() - t0) / 1000)
    assert r["ok"] and r["applied"], r
lat.sort()
print(round(lat[len(lat) // 2]), round(lat[min(len(lat) - 1, len(lat) * 99 // 100)]))
EOF
)
log "opt-out enforced: p50 $P50 us, p99 $P99 us ($OPTOUTS sequential, --wait)"
stop_dp

# --------------------------------------------------------------- resync --
# Fill the store up to RESYNC_ENTRIES records with random tokens.
have=$("$CTL" -j stats | python3 -c 'import json,sys; print(json.load(sys.stdin)["store"]["entries"])')
need=$((RESYNC_ENTRIES - have))
if [ "$need" -gt 0 ]; then
	log "filling the store with $need more records..."
	t0=$(date +%s.%N)
	python3 - "$T/cp.sock" "$need" <<'EOF'
import json, os, socket, sys
s = socket.socket(socket.AF_UNIX); s.connect(sys.argv[1]); f = s.makefile("rb")
left, inflight, CH, W = int(sys.argv[2]), 0, 1700, 8   # 1700 tokens < 64 KiB
while left > 0 or inflight:
    while left > 0 and inflight < W:
        n = min(CH, left)
        raw = os.urandom(16 * n).hex()
        lines = [raw[32 * i:32 * i + 32] for i in range(n)]
        s.sendall(json.dumps({"v": 1, "cmd": "import", "action": "optin",
                              "lines": lines}).encode() + b"\n")
        left -= n; inflight += 1
    r = json.loads(f.readline()); inflight -= 1
    assert r["ok"], r
EOF
	t1=$(date +%s.%N)
	log "filled in $(python3 -c "print(round($t1 - $t0, 1))") s"
fi
start_dp
j=$(wait_synced 600)
read -r RESYNC_S RESYNC_N < <(python3 -c '
import json, sys
r = json.loads(sys.argv[1])
print(r["resync_ms"] / 1000, r["resync_entries"])' "$j")
log "resync: $RESYNC_N entries in $RESYNC_S s"
stop_dp
kill -TERM "$CP_PID"; wait "$CP_PID" || true; CP_PID=

R10=null
[ "$RESYNC_ENTRIES" = 10000000 ] && R10=$RESYNC_S
echo "{\"durable_changes_per_s\":$DURABLE,\"changes\":$CHANGES,\"optout_enforced_p50_us\":$P50,\"optout_enforced_p99_us\":$P99,\"optouts\":$OPTOUTS,\"resync_entries\":$RESYNC_N,\"resync_seconds\":$RESYNC_S,\"resync_seconds_10m\":$R10}"
