#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
#
# Control-plane benchmark (make bench-control). Method and results:
# docs/benchmarks/control-plane.md. Three figures:
#
#  durable_changes_per_s   opt-ins committed (fsync'ed) per second at the
#                          users' scale: SCALE_CHANGES new numbers imported
#                          by IMPORT_CLIENTS optroutectl imports at once
#                          (chunks of CHUNK lines), no dataplane, into the
#                          store filled with STORE_RECORDS random records.
#  durable_changes_per_s_empty  the same with CHANGES numbers into a fresh
#                          store (measured first).
#  lmdb_reference_per_s    what plain LMDB does with the same batches in
#                          the same run (build/bin/bench_lmdb_ref: one
#                          B-tree, one 16-byte key per change, a commit with
#                          fsync per group of the daemon's average size,
#                          into STORE_RECORDS random keys);
#                          store_vs_reference = durable / reference.
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
# up to RESYNC_ENTRIES (default STORE_RECORDS) with random tokens (token
# import, about 25 s for 10M), then up to STORE_RECORDS if that is more:
# one fill for both. STORE_RECORDS=1000000 for a quick run. The store and
# the reference environment (about 3 GB and 1.3 GB at 10M) live in a
# temporary directory removed at the end, also on failure; free space is
# checked first.
set -euo pipefail
cd "$(dirname "$0")/../.."
BUILD=${BUILD:-build}
BIN=$BUILD/bin
. tests/bench/bench_import.sh # CHANGES, CHUNK, IMPORT_CLIENTS
OPTOUTS=${OPTOUTS:-1000}
STORE_RECORDS=${STORE_RECORDS:-10000000}
SCALE_CHANGES=${SCALE_CHANGES:-200000}
RESYNC_ENTRIES=${RESYNC_ENTRIES:-$STORE_RECORDS}
PERF_OUT=${PERF_OUT:-}
TRAFFIC_TOKENS=${TRAFFIC_TOKENS:-4096}
FRAMES=${FRAMES:-4096}
NICE=${NICE:--10}
[ "$OPTOUTS" -le "$CHANGES" ] || { echo "OPTOUTS must be <= CHANGES" >&2; exit 2; }
T=$(mktemp -d /tmp/or-bench-cp.XXXXXX)
# Store: ~300 bytes a record at 10M (2.9 GB); reference: ~130 (half-full
# leaves, filled in ascending order); 1 GiB to spare.
FILL_MAX=$(( STORE_RECORDS > RESYNC_ENTRIES ? STORE_RECORDS : RESYNC_ENTRIES ))
NEED_B=$(( (FILL_MAX + CHANGES + SCALE_CHANGES) * 450 + (1 << 30) ))
AVAIL_B=$(df --output=avail -B1 "$T" | tail -1)
if [ "$AVAIL_B" -lt "$NEED_B" ]; then
	rmdir "$T"
	echo "bench-control: $((NEED_B >> 20)) MiB needed in $(dirname "$T") for a store of $FILL_MAX records and the reference, $((AVAIL_B >> 20)) MiB free" >&2
	exit 1
fi
PREFIX=or_bench_cp_$$
DP_PID=
CP_PID=

PERF_PID=
cleanup() {
	for p in $PERF_PID $CP_PID $DP_PID; do
		kill -KILL "$p" 2>/dev/null || true
		wait "$p" 2>/dev/null || true
	done
	rm -rf "$T" "/var/run/dpdk/$PREFIX"
}
. deploy/dev/trap.sh
or_trap_exit cleanup
log() { echo "bench-control: $*" >&2; }

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
auth = no
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
# Waits (one python process polling the socket, light on the CPUs the resync
# uses) until a full resync newer than the ones counted before the dataplane
# was started is acked and nothing is lagging; prints the dataplane reply.
resyncs() { "$CTL" -j dataplane | python3 -c 'import json,sys; print(json.load(sys.stdin)["resyncs"])'; }
wait_synced() { # $1 = timeout s, $2 = resyncs before
	python3 - "$T/cp.sock" "$1" "$2" <<'EOF' && return 0
import json, socket, sys, time
end = time.monotonic() + float(sys.argv[2])
s = socket.socket(socket.AF_UNIX); s.connect(sys.argv[1]); f = s.makefile("rb")
while time.monotonic() < end:
    s.sendall(b'{"v":1,"cmd":"dataplane"}\n')
    r = json.loads(f.readline())
    if (r["connected"] and not r["syncing"] and r["resyncs"] > int(sys.argv[3])
            and r["lag"] == 0):
        print(json.dumps(r))
        sys.exit(0)
    time.sleep(0.05)
sys.exit(1)
EOF
	log "dataplane did not sync"; cat "$T/cp.log" "$T/dp.log" >&2; exit 1
}
dp_counter() { # $1 = counter name
	"$CTL" -j stats | python3 -c '
import json, sys
print((json.load(sys.stdin)["dataplane"] or {}).get(sys.argv[1], 0))' "$1"
}

# ------------------------------------------------------ durable changes --
start_cp
import_numbers "$CHANGES" 1555
DURABLE_EMPTY=$(python3 -c "print(round($CHANGES / ($t1 - $t0)))")
log "durable, fresh store: $CHANGES opt-ins in $(python3 -c "print(round($t1 - $t0, 2))") s = $DURABLE_EMPTY changes/s ($IMPORT_CLIENTS clients)"
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
	-b 10 -P 64 -s 7 --dst-mac $APPL_MAC --dst-ip $APPL_IP --v1 >/dev/null
# The worker (lcore 1) polls its CPU flat out; as in a deployment, where
# worker CPUs are kept for the workers, the control plane and this client
# run on the other CPUs (if there are any) so that they never preempt the
# worker, which would hold up the grace period the dataplane waits for.
cpus() { python3 -c 'import os, sys; print(",".join(str(c) for c in sorted(os.sched_getaffinity(0) - set(map(int, sys.argv[1:])))))' "$@"; }
ALL_CPUS=$(cpus)
HK=$(cpus 1)
PIN=
if [ -n "$HK" ]; then
	PIN="taskset -c $HK"
	taskset -a -p -c "$HK" "$CP_PID" >/dev/null
fi
r0=$(resyncs)
start_dp "$T/dp-fwd.ini"
wait_synced 120 "$r0" >/dev/null
# Where allowed (root, or CAP_SYS_NICE), both daemons run at nice NICE (as a
# deployment may set with systemd's Nice=), so that other load on a shared
# machine delays their wakeups less; NICE=0 measures without.
renice_all() { # $1 = nice, pids...
	local n=$1 t; shift
	for p in "$@"; do
		for t in /proc/"$p"/task/*; do
			renice -n "$n" -p "${t##*/}" >/dev/null 2>&1 || return 1
		done
	done
}
if [ "$NICE" != 0 ] && renice_all "$NICE" "$DP_PID" "$CP_PID"; then
	log "control plane and dataplane at nice $NICE"
else
	NICE=0
fi
d0=$(dp_counter delivered)
sleep 1
d1=$(dp_counter delivered)
log "dataplane delivering $(( (d1 - d0) / 1000 )) k MSG/s before the opt-outs"
[ "$d1" -gt "$d0" ] || { log "dataplane does not forward"; cat "$T/dp.log" >&2; exit 1; }
j=$($PIN python3 tests/bench/bench_optouts.py "$T/cp.sock" "$OPTOUTS" true)
read -r P50 P99 RT50 RT99 < <(python3 -c '
import json, sys
r = json.loads(sys.argv[1])
print(r["enforce_p50_us"], r["enforce_p99_us"], r["roundtrip_p50_us"], r["roundtrip_p99_us"])' "$j")
log "opt-out enforced (commit -> dataplane ack): p50 $P50 us, p99 $P99 us; round trip p50 $RT50 us, p99 $RT99 us ($OPTOUTS sequential, --wait)"
stop_dp
[ -z "$HK" ] || taskset -a -p -c "$ALL_CPUS" "$CP_PID" >/dev/null
[ "$NICE" = 0 ] || renice_all 0 "$CP_PID"

# --------------------------------------------------------------- resync --
# Fill the store up to RESYNC_ENTRIES records (tests/bench/bench_fill.py).
store_entries() { "$CTL" -j stats | python3 -c 'import json,sys; print(json.load(sys.stdin)["store"]["entries"])'; }
fill_to() { # $1 = records
	local have need
	have=$(store_entries)
	need=$(($1 - have))
	[ "$need" -gt 0 ] || return 0
	log "filling the store with $need more records..."
	t0=$(now)
	python3 tests/bench/bench_fill.py "$T/cp.sock" "$need"
	t1=$(now)
	log "filled in $(python3 -c "print(round($t1 - $t0, 1))") s"
}
fill_to "$RESYNC_ENTRIES"
r0=$(resyncs)
start_dp "$T/dp-idle.ini"
j=$(wait_synced 600 "$r0")
read -r RESYNC_S RESYNC_N < <(python3 -c '
import json, sys
r = json.loads(sys.argv[1])
print(r["resync_ms"] / 1000, r["resync_entries"])' "$j")
log "resync: $RESYNC_N entries in $RESYNC_S s"
stop_dp

# ------------------------------------------ durable changes at scale --
# SCALE_CHANGES new numbers into the filled store, as in the fresh one.
# The daemon's counters give its group sizes (the reference's batch), its
# CPU time and the bytes it wrote (per change, next to the reference's).
fill_to "$STORE_RECORDS"
RECORDS=$(store_entries)
ctl_counters() {
	"$CTL" -j stats | python3 -c '
import json, sys
c = json.load(sys.stdin)["control"]
print(c["commits"], c["commit_changes"], c["commit_max"], c["commit_us_total"])'
}
proc_io() { # wchar, write_bytes, utime+stime (ticks), minor and major
	# page faults of the control plane
	python3 - "$CP_PID" <<'EOF'
import sys
p = sys.argv[1]
io = dict(l.split(": ") for l in open("/proc/%s/io" % p).read().split("\n") if l)
st = open("/proc/%s/stat" % p).read().rsplit(")", 1)[1].split()
print(io["wchar"], io["write_bytes"], int(st[11]) + int(st[12]), st[7], st[9])
EOF
}
read -r C0 N0 _ U0 < <(ctl_counters)
read -r W0 B0 K0 F0 M0 < <(proc_io)
if [ -n "$PERF_OUT" ]; then
	perf record -q -g -F 499 -p "$CP_PID" -o "$PERF_OUT" 2>/dev/null &
	PERF_PID=$!
	sleep 0.5
fi
import_numbers "$SCALE_CHANGES" 1556
if [ -n "$PERF_PID" ]; then
	kill -INT "$PERF_PID"; wait "$PERF_PID" || true; PERF_PID=
fi
read -r C1 N1 GMAX U1 < <(ctl_counters)
read -r W1 B1 K1 F1 M1 < <(proc_io)
DURABLE=$(python3 -c "print(round($SCALE_CHANGES / ($t1 - $t0)))")
NGROUPS=$((C1 - C0))
GROUP_AVG=$(( (N1 - N0 + NGROUPS / 2) / (NGROUPS > 0 ? NGROUPS : 1) ))
log "durable, $RECORDS records: $SCALE_CHANGES opt-ins in $(python3 -c "print(round($t1 - $t0, 2))") s = $DURABLE changes/s ($IMPORT_CLIENTS clients)"
python3 - "$NGROUPS" "$((N1 - N0))" "$((U1 - U0))" "$((W1 - W0))" "$((K1 - K0))" "$(getconf CLK_TCK)" "$(python3 -c "print($t1 - $t0)")" "$((F1 - F0))" "$((M1 - M0))" >&2 <<'EOF'
import sys
g, n, us, wchar, ticks, hz, wall, minflt, majflt = map(float, sys.argv[1:])
print("bench-control: %d commits, %.0f changes each, %.1f ms each; control plane "
      "CPU %.1f s of %.1f s; %.0f bytes written per change; page faults "
      "%.2f minor, %.3f major per change"
      % (g, n / max(1, g), us / max(1, g) / 1e3, ticks / hz, wall,
         wchar / max(1, n), minflt / max(1, n), majflt / max(1, n)))
EOF
kill -TERM "$CP_PID"; wait "$CP_PID" || true; CP_PID=
log "store: $(du -sh "$T/store" | cut -f1)"
if command -v mdb_stat >/dev/null; then # leaf pages and depth per B-tree
	for db in consent audit audit_tok; do
		mdb_stat -s "$db" "$T/store" | awk -v db="$db" '
			/Tree depth/ { d = $3 } /Leaf pages/ { l = $3 } /Entries/ { e = $2 }
			END { printf "bench-control: %s: %d entries, %d leaf pages, depth %d\n", db, e, l, d }' >&2
	done
fi

# ------------------------------------------------------ LMDB reference --
# The same batches as plain LMDB inserts into an environment of RECORDS
# random keys: one B-tree, one record per change, fsync per commit.
REF_JSON=$("$BIN/bench_lmdb_ref" -d "$T/ref" -n "$RECORDS" \
	-c "$SCALE_CHANGES" -b "$GROUP_AVG")
REF=$(python3 -c 'import json,sys; print(round(json.loads(sys.argv[1])["inserts_per_s"]))' "$REF_JSON")
RATIO=$(python3 -c "print(round($DURABLE / $REF, 3))")
log "lmdb reference: $REF inserts/s (batches of $GROUP_AVG); store / reference = $RATIO (target >= 0.6)"

R10=null
[ "$RESYNC_ENTRIES" = 10000000 ] && R10=$RESYNC_S
echo "{\"durable_changes_per_s\":$DURABLE,\"durable_changes_per_s_empty\":$DURABLE_EMPTY,\"store_records\":$RECORDS,\"scale_changes\":$SCALE_CHANGES,\"group_changes_avg\":$GROUP_AVG,\"group_changes_max\":$GMAX,\"lmdb_reference_per_s\":$REF,\"store_vs_reference\":$RATIO,\"changes\":$CHANGES,\"import_clients\":$IMPORT_CLIENTS,\"optout_enforced_p50_us\":$P50,\"optout_enforced_p99_us\":$P99,\"optout_roundtrip_p50_us\":$RT50,\"optout_roundtrip_p99_us\":$RT99,\"optouts\":$OPTOUTS,\"nice\":$NICE,\"resync_entries\":$RESYNC_N,\"resync_seconds\":$RESYNC_S,\"resync_seconds_10m\":$R10}"
