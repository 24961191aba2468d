#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
#
# Control-plane benchmark (make bench-control). Method and results:
# docs/benchmarks.md ("Control plane"). Three figures:
#
#  durable_changes_per_s   opt-ins committed (fsync'ed) per second: CHANGES
#                          numbers imported into a fresh store with
#                          optroutectl import (chunks of CHUNK lines), no
#                          dataplane.
#  optout_enforced_p50_us  opt-out enforcement latency as the daemon reports
#  optout_enforced_p99_us  it in each "wait" reply ("enforce_us"): its store
#                          commit -> the dataplane's ACK read, the ACK being
#                          sent after the dataplane's grace period, i.e. once
#                          every worker decides on the new record. OPTOUTS
#                          sequential requests while the dataplane forwards
#                          MSG traffic (net_pcap infinite_rx). The client's
#                          whole round trip (request, commit with fsync, push,
#                          ack, reply) is printed too: optout_roundtrip_*.
#  resync_seconds          full resync of RESYNC_ENTRIES records to a freshly
#                          started dataplane, RESYNC_BEGIN sent -> RESYNC_END
#                          acked (resync_seconds_10m when RESYNC_ENTRIES is
#                          10M, else null).
#
# Progress on stderr; the last line is one JSON object. The store is filled
# up to RESYNC_ENTRIES with random tokens (token import, about 2 minutes for
# 10M); RESYNC_ENTRIES=1000000 for a quick run.
set -euo pipefail
cd "$(dirname "$0")/../.."
BUILD=${BUILD:-build}
BIN=$BUILD/bin
CHANGES=${CHANGES:-500000}
CHUNK=${CHUNK:-2048}
OPTOUTS=${OPTOUTS:-1000}
RESYNC_ENTRIES=${RESYNC_ENTRIES:-10000000}
TRAFFIC_TOKENS=${TRAFFIC_TOKENS:-4096}
FRAMES=${FRAMES:-4096}
[ "$OPTOUTS" -le "$CHANGES" ] || { echo "OPTOUTS must be <= CHANGES" >&2; exit 2; }
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
now() { date +%s.%N; }

python3 -c 'import os; print(os.urandom(32).hex())' >"$T/key"
chmod 600 "$T/key"
cat >"$T/cp.ini" <<EOF
[control]
mgmt_socket = $T/cp.sock
channel_socket = $T/dp.sock
store_path = $T/store
key_file = $T/key
channel_retry_ms = 50
wait_timeout_ms = 10000
EOF
# Two dataplane configurations on the same channel: one forwarding MSG
# traffic for the latency (the worker then passes a quiescent state every
# loop, as in production), one idle for the resync.
APPL_MAC=02:00:00:00:01:01 APPL_IP=192.0.2.1
MEM_MB=$(( 512 + RESYNC_ENTRIES / 8000 ))
dp_ini() { # $1 = file, $2 = client port device, $3 = extra lines
	cat >"$1" <<EOF
[eal]
args = --no-huge -m $MEM_MB --no-pci --file-prefix=$PREFIX --log-level=lib.eal:error
[dataplane]
channel = $T/dp.sock
table_entries = $RESYNC_ENTRIES
idle_sleep_us = 50
mbufs = $((FRAMES + 8192))
[port client]
device = $2
workers = 1
ip = $APPL_IP
mac = $APPL_MAC
$3
EOF
}
# An empty capture: the port exists, no traffic.
python3 -c 'import struct,sys; sys.stdout.buffer.write(struct.pack("<IHHiIII", 0xa1b2c3d4, 2, 4, 0, 0, 65535, 1))' >"$T/empty.pcap"
dp_ini "$T/dp-idle.ini" "net_pcap0,rx_pcap=$T/empty.pcap,tx_pcap=$T/out.pcap" ""
dp_ini "$T/dp-fwd.ini" "net_pcap0,rx_pcap=$T/traffic.pcap,infinite_rx=1" "
[port delivery]
device = net_null0,no-rx=1
ip = 203.0.113.1
mac = 02:00:00:00:02:01
[nexthop 0]
port = delivery
mac = 02:00:00:00:02:05
ip = 203.0.113.5"
export OPTROUTE_CONTROL_SOCKET=$T/cp.sock
CTL="$BIN/optroutectl"

start_cp() {
	"$BIN/optroute-control" -c "$T/cp.ini" >>"$T/cp.log" 2>&1 &
	CP_PID=$!
	for _ in $(seq 200); do
		"$CTL" version >/dev/null 2>&1 && return 0
		sleep 0.05
	done
	cat "$T/cp.log" >&2; exit 1
}
start_dp() { # $1 = ini
	"$BIN/optroute-dataplane" -c "$1" >>"$T/dp.log" 2>&1 &
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
dp_counter() { # $1 = counter name
	"$CTL" -j stats | python3 -c '
import json, sys
print((json.load(sys.stdin)["dataplane"] or {}).get(sys.argv[1], 0))' "$1"
}

# ------------------------------------------------------ durable changes --
start_cp
python3 -c "
for i in range($CHANGES): print('+1555%07d' % i)" >"$T/numbers.txt"
t0=$(now)
"$CTL" import "$T/numbers.txt" --optin --chunk "$CHUNK" >/dev/null
t1=$(now)
DURABLE=$(python3 -c "print(round($CHANGES / ($t1 - $t0)))")
log "durable: $CHANGES opt-ins in $(python3 -c "print(round($t1 - $t0, 2))") s = $DURABLE changes/s"
"$CTL" -j stats | python3 -c '
import json, sys
c = json.load(sys.stdin)["control"]
print("bench-control: %d commits, %.0f changes each (max %d), %.1f ms each (max %.1f)" % (
    c["commits"], c["commit_changes"] / max(1, c["commits"]), c["commit_max"],
    c["commit_us_total"] / max(1, c["commits"]) / 1e3, c["commit_us_max"] / 1e3))' >&2

# ------------------------------------------------- opt-out enforcement --
# Traffic between TRAFFIC_TOKENS opted-in tokens (imported as tokens, node
# 0), 10% of it to recipients not opted in (bounced).
python3 - "$TRAFFIC_TOKENS" >"$T/traffic.ent" <<'EOF'
import os, sys
for _ in range(int(sys.argv[1])):
    print(os.urandom(16).hex(), "in", 0)
EOF
cut -d' ' -f1 "$T/traffic.ent" >"$T/traffic.tok"
"$CTL" import "$T/traffic.tok" --optin --node 0 >/dev/null
"$BIN/optroute-pcapgen" -o "$T/traffic.pcap" -e "$T/traffic.ent" -n "$FRAMES" \
	-b 10 -P 64 -s 7 --dst-mac $APPL_MAC --dst-ip $APPL_IP >/dev/null
start_dp "$T/dp-fwd.ini"
wait_synced 120 >/dev/null
d0=$(dp_counter delivered)
sleep 1
d1=$(dp_counter delivered)
log "dataplane forwarding $(( (d1 - d0) / 1000 )) k MSG/s during the opt-outs"
[ "$d1" -gt "$d0" ] || { log "dataplane does not forward"; cat "$T/dp.log" >&2; exit 1; }
read -r P50 P99 RT50 RT99 < <(python3 - "$T/cp.sock" "$OPTOUTS" <<'EOF'
import json, socket, sys, time
s = socket.socket(socket.AF_UNIX); s.connect(sys.argv[1]); f = s.makefile("rb")
enf, com, rt = [], [], []
for i in range(int(sys.argv[2])):
    req = json.dumps({"v": 1, "id": i, "cmd": "optout", "number": "+1555%07d" % i,
                      "wait": True}).encode() + b"\n"
    t0 = time.perf_counter_ns()
    s.sendall(req)
    r = json.loads(f.readline())
    rt.append((time.perf_counter_ns() - t0) / 1000)
    assert r["ok"] and r["applied"] and r["previous"] == "in", r
    enf.append(r["enforce_us"]); com.append(r["commit_us"])
def pct(v, p):
    v = sorted(v)
    return round(v[min(len(v) - 1, len(v) * p // 100)])
print("enforce_us p50 %d p99 %d max %d; commit_us p50 %d p99 %d; "
      "round trip p50 %d p99 %d" % (pct(enf, 50), pct(enf, 99), max(enf),
      pct(com, 50), pct(com, 99), pct(rt, 50), pct(rt, 99)), file=sys.stderr)
print(pct(enf, 50), pct(enf, 99), pct(rt, 50), pct(rt, 99))
EOF
)
log "opt-out enforced (commit -> dataplane ack): p50 $P50 us, p99 $P99 us; round trip p50 $RT50 us, p99 $RT99 us ($OPTOUTS sequential, --wait)"
stop_dp

# --------------------------------------------------------------- resync --
# Fill the store up to RESYNC_ENTRIES records with random tokens: imports of
# 1700 tokens (< 64 KiB a line), enough in flight for full group commits.
have=$("$CTL" -j stats | python3 -c 'import json,sys; print(json.load(sys.stdin)["store"]["entries"])')
need=$((RESYNC_ENTRIES - have))
if [ "$need" -gt 0 ]; then
	log "filling the store with $need more records..."
	t0=$(now)
	python3 - "$T/cp.sock" "$need" <<'EOF'
import json, os, socket, sys
s = socket.socket(socket.AF_UNIX); s.connect(sys.argv[1]); f = s.makefile("rb")
left, inflight, CH, W = int(sys.argv[2]), 0, 1700, 20
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
	t1=$(now)
	log "filled in $(python3 -c "print(round($t1 - $t0, 1))") s"
fi
start_dp "$T/dp-idle.ini"
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
echo "{\"durable_changes_per_s\":$DURABLE,\"changes\":$CHANGES,\"optout_enforced_p50_us\":$P50,\"optout_enforced_p99_us\":$P99,\"optout_roundtrip_p50_us\":$RT50,\"optout_roundtrip_p99_us\":$RT99,\"optouts\":$OPTOUTS,\"resync_entries\":$RESYNC_N,\"resync_seconds\":$RESYNC_S,\"resync_seconds_10m\":$R10}"
