#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
#
# Fleet benchmark (make bench-fleet): two appliances (optroute-control with
# store = postgresql and a dataplane each) on one PostgreSQL on this
# machine, the system of record filled with STORE_RECORDS records first.
# Method: docs/fleet.md section 14; results: docs/benchmarks/fleet.md.
#
#  durable_changes_per_s   CHANGES opt-ins of new numbers, IMPORT_CLIENTS
#                          optroutectl imports at once, client j on
#                          appliance j, committed through PostgreSQL into
#                          the filled record (first request -> last reply);
#  pg_reference_per_s      the same number of new tokens upserted by plain
#                          PostgreSQL in batches of 16384 into a one-table
#                          schema of STORE_RECORDS rows on the same server,
#                          in the same run (build/bin/bench_pg_ref; its
#                          first pass, right after a CHECKPOINT, as the
#                          durable figure is taken); durable_ratio = durable
#                          / reference (target >= 0.5); and the same for a
#                          second pass in the same checkpoint cycle
#                          (_warm_);
#  propagation_p50_us/_p99_us  OPTOUTS sequential opt-outs on appliance a1
#                          with --wait=fleet while a2's dataplane forwards
#                          MSG traffic: the reply's round trip minus a1's
#                          own commit (commit_us), i.e. a1's commit -> a2's
#                          dataplane ack -> a2's report -> a1 reading it.
#                          An upper bound of the commit -> a2 enforcing
#                          (target p99 <= 50 ms);
#  catchup_changes_per_s   a2's control plane stopped (its dataplane goes on
#                          forwarding), CATCHUP changes made on a1, a2
#                          started: CATCHUP / (a2 started -> a2's copy at
#                          the head); catchup_enforced_s adds a2's
#                          dataplane acking the head (target >= 100 000/s).
# Also timed: the fill, the migration of the filled LMDB store into
# PostgreSQL (migrate_s) and each appliance's first full resync from it
# (resync_s). Progress on stderr, the last line one JSON object.
# STORE_RECORDS=1000000 CATCHUP=200000 for a quick run (about 4 min).
# PG_EXTRA: more postgresql.conf lines (';'-separated), PG_LOG: a file the
# server's log is copied to at the end (e.g. with PG_EXTRA=
# "log_min_duration_statement = 0" to see where a group's time goes).
set -euo pipefail
cd "$(dirname "$0")/../.."
BUILD=${BUILD:-build}
BIN=$BUILD/bin
CTL=$BIN/optroutectl
CHANGES=${CHANGES:-200000}
. tests/bench/bench_import.sh # CHUNK, IMPORT_CLIENTS, bench_import
STORE_RECORDS=${STORE_RECORDS:-10000000}
OPTOUTS=${OPTOUTS:-1000}
CATCHUP=${CATCHUP:-1000000}
TRAFFIC_TOKENS=${TRAFFIC_TOKENS:-4096}
FRAMES=${FRAMES:-4096}
[ "$OPTOUTS" -le "$CHANGES" ] || { echo "OPTOUTS must be <= CHANGES" >&2; exit 2; }
for b in optroute-control optroute-dataplane optroutectl optroute-store-migrate \
	optroute-pcapgen bench_pg_ref; do
	[ -x "$BIN/$b" ] || { echo "bench-fleet: missing $BIN/$b (make first)" >&2; exit 1; }
done
# shellcheck source=../integration/lib/pg.sh
. tests/integration/lib/pg.sh
T=$(mktemp -d /tmp/or-bench-fleet.XXXXXX)
# The LMDB store, two copies, the record (records and trail), the
# reference table: about 2 KB a record in all, and 2 GiB to spare.
NEED_B=$(( (STORE_RECORDS + CHANGES + CATCHUP) * 2000 + (2 << 30) ))
AVAIL_B=$(df --output=avail -B1 /tmp | tail -1)
if [ "$AVAIL_B" -lt "$NEED_B" ]; then
	rmdir "$T"
	echo "bench-fleet: $((NEED_B >> 20)) MiB needed in /tmp, $((AVAIL_B >> 20)) MiB free" >&2
	exit 1
fi
PREFIX=or_bench_fl_$$
BOX_PID='' CP_a1='' CP_a2='' DP_a1='' DP_a2=''
cleanup() {
	for p in $BOX_PID $CP_a1 $CP_a2 $DP_a1 $DP_a2; do
		kill -KILL "$p" 2>/dev/null || true
		wait "$p" 2>/dev/null || true
	done
	[ -z "${PG_LOG:-}" ] || cp "$(pg_dir fl)/server.log" "$PG_LOG" 2>/dev/null || true
	pg_stop_all
	rm -rf "$T" /var/run/dpdk/"$PREFIX"_*
}
or_trap_exit cleanup
log() { echo "bench-fleet: $*" >&2; }
secs() { python3 -c "print(round($2 - $1, 2))"; }

python3 -c 'import os; print(os.urandom(32).hex())' >"$T/key"
chmod 600 "$T/key"

# ---- the server --------------------------------------------------------------
PG_SETTINGS=("shared_buffers = 4GB" "max_wal_size = 16GB" "checkpoint_timeout = 30min"
	"wal_compression = lz4" "synchronous_commit = on" "fsync = on" "full_page_writes = on")
IFS=';' read -r -a extra <<<"${PG_EXTRA:-}"
PG_SETTINGS+=("${extra[@]}")
pg_start fl "${PG_SETTINGS[@]}" >&2 || exit 1
pg_sql fl "CREATE DATABASE ref" or_admin postgres
pg_sql fl "CREATE EXTENSION pg_prewarm" or_admin

# ---- fill: a single box's LMDB store, migrated -----------------------------------
# One policy for the box and the fleet: every record on node 0.
cat >"$T/box.ini" <<EOF
[control]
mgmt_socket = $T/box.sock
channel_socket = $T/none.sock
store_path = $T/box.store
key_file = $T/key
node_policy = fixed 0
EOF
ctl_wait_up() { # $1 = socket, $2 = pid: until it answers (60 s)
	for _ in $(seq 600); do
		"$CTL" -s "$1" version >/dev/null 2>&1 && return 0
		kill -0 "$2" 2>/dev/null || break
		sleep 0.1
	done
	log "a daemon on $1 did not start"; cat "$T"/*.log >&2; exit 1
}
"$BIN/optroute-control" -c "$T/box.ini" >>"$T/box.log" 2>&1 &
BOX_PID=$!
ctl_wait_up "$T/box.sock" "$BOX_PID"
t0=$(now)
python3 tests/bench/bench_fill.py "$T/box.sock" "$STORE_RECORDS"
FILL_S=$(secs "$t0" "$(now)")
# The traffic's tokens (all opted in, node 0; 10 % of the MSGs go to
# recipients that are not: bounced).
python3 - "$TRAFFIC_TOKENS" >"$T/traffic.ent" <<'EOF'
import os, sys
for _ in range(int(sys.argv[1])):
    print(os.urandom(16).hex(), "in", 0)
EOF
cut -d' ' -f1 "$T/traffic.ent" >"$T/traffic.tok"
"$CTL" -s "$T/box.sock" import "$T/traffic.tok" --optin >/dev/null
kill -TERM "$BOX_PID"; wait "$BOX_PID" || true; BOX_PID=
log "filled the box with $STORE_RECORDS records in $FILL_S s"
t0=$(now)
"$BIN/optroute-store-migrate" -c "$T/box.ini" --to "$(pg_conninfo fl optroute_owner)" >&2
MIGRATE_S=$(secs "$t0" "$(now)")
rm -rf "$T/box.store"
HEAD0=$(pg_sql fl "SELECT head_seq FROM optroute.fleet")
log "migrated into PostgreSQL in $MIGRATE_S s (head $HEAD0)"

# ---- two appliances -----------------------------------------------------------------
TABLE=$(( STORE_RECORDS + TRAFFIC_TOKENS + CHANGES + CATCHUP + 65536 ))
MEM_MB=$(( 512 + TABLE / 8000 ))
APPL_MAC=02:00:00:00:01:01 APPL_IP=192.0.2.1
python3 -c 'import struct,sys; sys.stdout.buffer.write(struct.pack("<IHHiIII", 0xa1b2c3d4, 2, 4, 0, 0, 65535, 1))' >"$T/empty.pcap"
"$BIN/optroute-pcapgen" -o "$T/traffic.pcap" -e "$T/traffic.ent" -n "$FRAMES" \
	-b 10 -P 64 -s 7 --dst-mac $APPL_MAC --dst-ip $APPL_IP --v1 >/dev/null
for a in a1 a2; do
	cat >"$T/$a.ini" <<EOF
[control]
mgmt_socket = $T/$a.sock
channel_socket = $T/$a-dp.sock
store_path = $T/$a.copy
key_file = $T/key
node_policy = fixed 0
store = postgresql
store_conninfo = $(pg_conninfo fl or_app)
appliance_name = $a
wait_timeout_ms = 20000
channel_retry_ms = 50
EOF
	for mode in idle fwd; do
		if [ $mode = idle ]; then
			dev="net_pcap0,rx_pcap=$T/empty.pcap,tx_pcap=$T/$a-out.pcap"
		else
			dev="net_pcap0,rx_pcap=$T/traffic.pcap,infinite_rx=1"
		fi
		cat >"$T/$a-dp-$mode.ini" <<EOF
[eal]
args = --no-huge -m $MEM_MB --no-pci --file-prefix=${PREFIX}_$a --log-level=lib.eal:error
[dataplane]
channel = $T/$a-dp.sock
table_entries = $TABLE
auth = no
idle_sleep_us = 50
mbufs = $((FRAMES + 8192))
[port client]
device = $dev
workers = 1
ip = $APPL_IP
mac = $APPL_MAC
[port delivery]
device = net_null0,no-rx=1
ip = 203.0.113.1
mac = 02:00:00:00:02:01
[nexthop 0]
port = delivery
mac = 02:00:00:00:02:05
ip = 203.0.113.5
EOF
	done
done
start_cp() { # $1 = appliance
	"$BIN/optroute-control" -c "$T/$1.ini" >>"$T/$1.log" 2>&1 &
	printf -v "CP_$1" '%s' "$!"
}
stop_cp() { # $1 = appliance
	local v=CP_$1
	kill -TERM "${!v}"
	wait "${!v}" || true
	printf -v "CP_$1" '%s' ""
}
start_dp() { # $1 = appliance, $2 = idle or fwd
	"$BIN/optroute-dataplane" -c "$T/$1-dp-$2.ini" >>"$T/$1-dp.log" 2>&1 &
	printf -v "DP_$1" '%s' "$!"
}
stop_dp() { # $1 = appliance
	local v=DP_$1
	kill -TERM "${!v}"
	timeout 60 tail --pid="${!v}" -f /dev/null || kill -KILL "${!v}"
	wait "${!v}" || true
	printf -v "DP_$1" '%s' ""
}
# until APPLIANCE SEQ WHAT TIMEOUT_S: polls APPLIANCE (every 20 ms, its
# socket once it answers) until its copy holds SEQ (WHAT = copy) or, as
# well, its dataplane is connected, synced and acked SEQ (WHAT = enforced);
# prints the seconds from the call to each ("COPY_S ENFORCED_S").
until_seq() {
	python3 - "$T/$1.sock" "$2" "$3" "$4" <<'EOF' || { log "$1 did not reach seq $2"; tail -n 30 "$T/$1.log" >&2; exit 1; }
import json, socket, sys, time
path, seq, what, limit = sys.argv[1], int(sys.argv[2]), sys.argv[3], float(sys.argv[4])
t0 = time.monotonic()
end = t0 + limit
s = None
while s is None and time.monotonic() < end:
    try:
        s = socket.socket(socket.AF_UNIX); s.connect(path)
    except OSError:
        s = None; time.sleep(0.02)
f = s.makefile("rb")
def ask(cmd):
    s.sendall(json.dumps({"v": 1, "cmd": cmd}).encode() + b"\n")
    return json.loads(f.readline())
up = time.monotonic() - t0
copy = None
trace = []  # (s since start, the copy's seq): where the time goes
def summary():
    # The first sample, the first move, and pauses of the copy longer
    # than 0.3 s (a fold, the follower waiting), on stderr.
    moved = [t for (t, q) in trace if q > trace[0][1]]
    stalls, last = [], trace[0]
    for t, q in trace[1:]:
        if q != last[1]:
            if t - last[0] > 0.3 and moved and last[0] >= moved[0]:
                stalls.append("%.1f-%.1f s" % (last[0], t))
            last = (t, q)
    print("%s: answering at %.2f s, copy moving at %.2f s, pauses: %s" %
          (path.rsplit("/", 1)[-1], up, moved[0] if moved else -1,
           ", ".join(stalls) or "none"), file=sys.stderr)
while time.monotonic() < end:
    q = ask("stats")["store"]["last_seq"]
    trace.append((time.monotonic() - t0, q))
    if copy is None and q >= seq:
        copy = time.monotonic() - t0
        if what == "copy":
            summary(); print(round(copy, 3), "null"); sys.exit(0)
    if copy is not None:
        d = ask("dataplane")
        if d["connected"] and not d["syncing"] and d["acked_seq"] >= seq and d["lag"] == 0:
            summary(); print(round(copy, 3), round(time.monotonic() - t0, 3)); sys.exit(0)
    time.sleep(0.02)
sys.exit(1)
EOF
}
head_seq() { pg_sql fl "SELECT head_seq FROM optroute.fleet"; }
# Each appliance's first full resync from the record, alone.
declare -A RESYNC
for a in a1 a2; do
	start_cp $a
	read -r RS _ < <(until_seq $a "$HEAD0" copy 1800)
	RESYNC[$a]=$RS
	log "$a: first full resync of $HEAD0 entries' records in $RS s"
done
for a in a1 a2; do
	start_dp $a idle
	read -r _ DS < <(until_seq $a "$HEAD0" enforced 1800)
	log "$a: dataplane synced in $DS s"
done

# ---- durable changes, and the reference ---------------------------------------------
# The record as bench_pg_ref leaves its table: read into shared buffers,
# then a CHECKPOINT (the first change of each page after one writes the
# page whole into the WAL: docs/fleet.md section 14).
pg_sql fl "SELECT sum(pg_prewarm(c.oid)) FROM pg_class c JOIN pg_namespace n
	ON n.oid = c.relnamespace WHERE n.nspname = 'optroute' AND c.relkind IN ('r', 'i')" >/dev/null
pg_sql fl "CHECKPOINT"
ctl_counters() { # $1 = appliance: commits, changes committed
	"$CTL" -s "$T/$1.sock" -j stats | python3 -c '
import json, sys
c = json.load(sys.stdin)["control"]
print(c["commits"], c["commit_changes"])'
}
read -r C1a N1a < <(ctl_counters a1)
read -r C2a N2a < <(ctl_counters a2)
IMPORT_SOCKETS="$T/a1.sock $T/a2.sock" import_numbers "$CHANGES" 1556
DURABLE=$(python3 -c "print(round($CHANGES / ($t1 - $t0)))")
read -r C1b N1b < <(ctl_counters a1)
read -r C2b N2b < <(ctl_counters a2)
NGROUPS=$(( C1b - C1a + C2b - C2a ))
GROUP_AVG=$(( (N1b - N1a + N2b - N2a) / (NGROUPS > 0 ? NGROUPS : 1) ))
log "durable: $CHANGES opt-ins in $(secs "$t0" "$t1") s = $DURABLE changes/s ($IMPORT_CLIENTS clients, one per appliance; $NGROUPS groups of $GROUP_AVG on average)"
# A second pass in the same checkpoint cycle, as bench_pg_ref's "warm" one.
IMPORT_SOCKETS="$T/a1.sock $T/a2.sock" import_numbers "$CHANGES" 1558
DURABLE_WARM=$(python3 -c "print(round($CHANGES / ($t1 - $t0)))")
log "durable, warm: $DURABLE_WARM changes/s"
REF_JSON=$("$BIN/bench_pg_ref" --conninfo "$(pg_conninfo fl or_admin ref)" \
	--rows "$STORE_RECORDS" --changes "$CHANGES" | tail -n 1)
read -r REF REF_WARM PG_JSON < <(python3 -c '
import json, sys
r = json.loads(sys.argv[1])
print(r["pg_reference_per_s"], r["pg_reference_warm_per_s"],
      json.dumps(r["pg_settings"], separators=(",", ":")))' "$REF_JSON")
pg_sql fl "DROP DATABASE ref" or_admin postgres
RATIO=$(python3 -c "print(round($DURABLE / $REF, 3))")
RATIO_WARM=$(python3 -c "print(round($DURABLE_WARM / $REF_WARM, 3))")
log "pg reference: $REF upserts/s after a checkpoint, $REF_WARM warm; durable / reference = $RATIO (target >= 0.5), warm $RATIO_WARM"

# ---- propagation, with traffic through a2 ---------------------------------------------
stop_dp a2
start_dp a2 fwd
read -r _ DS < <(until_seq a2 "$(head_seq)" enforced 1800)
dp_delivered() { "$CTL" -s "$T/a2.sock" -j stats | python3 -c '
import json, sys
print((json.load(sys.stdin)["dataplane"] or {}).get("delivered", 0))'; }
d0=$(dp_delivered); sleep 1; d1=$(dp_delivered)
log "a2's dataplane synced in $DS s, delivering $(( (d1 - d0) / 1000 )) k MSG/s"
[ "$d1" -gt "$d0" ] || { log "a2's dataplane does not forward"; exit 1; }
PROP_JSON=$(python3 tests/bench/bench_optouts.py "$T/a1.sock" "$OPTOUTS" fleet 1556)
read -r P50 P99 PMAX C50 < <(python3 -c '
import json, sys
r = json.loads(sys.argv[1])
print(r["after_commit_p50_us"], r["after_commit_p99_us"], r["after_commit_max_us"], r["commit_p50_us"])' "$PROP_JSON")
log "propagation (a1's commit -> both dataplanes enforce, as a1 learns it): p50 $P50 us, p99 $P99 us, max $PMAX us (target p99 <= 50 ms); a1's commit p50 $C50 us"

# ---- catch-up ---------------------------------------------------------------------------
stop_cp a2
IMPORT_SOCKETS="$T/a1.sock" import_numbers "$CATCHUP" 1557
H=$(head_seq)
log "a2 stopped; $CATCHUP changes made on a1 in $(secs "$t0" "$t1") s (head $H)"
# a1's own work on those changes done first (its copy's fold, PostgreSQL's
# dirty pages): appliances of a fleet have a machine each, and a2's
# catch-up is what is measured here, not a1's fold on the same disk.
fleet_quiet() { # $1 = appliance: its copy's log folded, within 300 s
	"$CTL" -s "$T/$1.sock" -j stats | python3 -c 'import json, sys
f = json.load(sys.stdin)["fleet"]
print(f["local_unfolded"], f["folds"], f["fold_last_ms"])'
}
t2=$(now)
for _ in $(seq 1 3000); do
	read -r UNF FOLDS FOLD_MS < <(fleet_quiet a1)
	[ "$UNF" = 0 ] && break
	sleep 0.1
done
pg_sql fl "CHECKPOINT"
log "a1 quiet after $(secs "$t2" "$(now)") s (its last fold: $FOLD_MS ms, $FOLDS folds; unfolded $UNF), then a CHECKPOINT"
start_cp a2
read -r COPY_S ENF_S < <(until_seq a2 "$H" enforced 1800)
# Full resyncs of the restarted a2 (a catch-up makes none).
R1=$("$CTL" -s "$T/a2.sock" -j stats | python3 -c 'import json,sys; print(json.load(sys.stdin)["fleet"]["resyncs"])')
# How a2's dataplane was brought to the store (docs/channel.md "Resuming").
DP_HOW=$("$CTL" -s "$T/a2.sock" -j dataplane | python3 -c 'import json, sys
r = json.load(sys.stdin)
print("resumed" if r["resumes"] else "resynced")')
CATCHUP_RATE=$(python3 -c "print(round($CATCHUP / $COPY_S))")
log "catch-up: a2's copy at the head $COPY_S s after its start ($CATCHUP_RATE changes/s), its dataplane acked it at $ENF_S s; full resyncs during it: $R1; a2's dataplane $DP_HOW"
[ "$R1" = 0 ] || log "WARNING: a2 resynced instead of catching up"
read -r UNF FOLDS FOLD_MS < <(fleet_quiet a2)
log "a2 after its catch-up: $FOLDS folds (the last $FOLD_MS ms), $UNF entries unfolded"

echo "{\"durable_changes_per_s\":$DURABLE,\"pg_reference_per_s\":$REF,\"durable_ratio\":$RATIO,\"durable_warm_changes_per_s\":$DURABLE_WARM,\"pg_reference_warm_per_s\":$REF_WARM,\"durable_warm_ratio\":$RATIO_WARM,\"propagation_p50_us\":$P50,\"propagation_p99_us\":$P99,\"propagation_max_us\":$PMAX,\"catchup_changes_per_s\":$CATCHUP_RATE,\"catchup_enforced_s\":$ENF_S,\"catchup_resyncs\":$R1,\"catchup_dataplane\":\"$DP_HOW\",\"store_records\":$STORE_RECORDS,\"changes\":$CHANGES,\"group_changes_avg\":$GROUP_AVG,\"catchup_changes\":$CATCHUP,\"optouts\":$OPTOUTS,\"appliances\":2,\"fill_s\":$FILL_S,\"migrate_s\":$MIGRATE_S,\"resync_s\":[${RESYNC[a1]},${RESYNC[a2]}],\"pg_settings\":$PG_JSON}"
