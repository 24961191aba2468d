#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
#
# Dataplane throughput on one worker lcore, no NIC:
#   RX  net_pcap, infinite_rx=1, a pcap of FRAMES realistic MSGs (90%
#       deliverable, 10% bounced; senders and recipients drawn from the
#       ENTRIES in the table)
#   TX  net_null (delivered), net_pcap's own TX drop (bounces)
# The table is filled first over the real update channel
# (optroute-chanctl random: BATCH upserts), and the fill is timed. Then
# dpdk-testpmd io forwarding on the same vdevs and core, for reference.
#
#   make bench-dataplane ENTRIES=N SECONDS=S    (FRAMES=F PAYLOAD=B optional)
#
# Last line: one JSON object
#   {"entries":..,"frame_bytes":..,"workers":1,"optroute_mpps":..,
#    "testpmd_io_mpps":..,"fill_seconds":..}
set -euo pipefail
cd "$(dirname "$0")/../.."
BUILD=${BUILD:-build}
BIN=$BUILD/bin
TOOLS=tests/tools
ENTRIES=${ENTRIES:-10000000}
# SECONDS is also bash's seconds-since-start counter: read at once, and 0
# (nothing passed) means the default.
SECONDS_RUN=${SECONDS:-0}
[ "$SECONDS_RUN" -gt 0 ] || SECONDS_RUN=10
FRAMES=${FRAMES:-65536}
PAYLOAD=${PAYLOAD:-64}
SEED=${SEED:-42}
T=$(mktemp -d /tmp/or-bench-dp.XXXXXX)
PREFIX=or_bench_dp_$$
PID=

cleanup() {
	if [ -n "$PID" ] && kill -0 "$PID" 2>/dev/null; then
		kill -KILL "$PID" 2>/dev/null || true
		wait "$PID" 2>/dev/null || true
	fi
	rm -rf "$T" "/var/run/dpdk/$PREFIX" "/var/run/dpdk/${PREFIX}_tp"
}
trap cleanup EXIT
trap 'exit 143' TERM
trap 'exit 130' INT

log() { echo "bench-dataplane: $*" >&2; }
now() { date +%s.%N; }

# Hugepages when there are enough free ones, else plain memory.
MBUFS=$((FRAMES + 8192))
MEM_MB=$(( (MBUFS * 2560) / 1048576 + 256 ))
free_pages=$(awk '/HugePages_Free/ {print $2}' /proc/meminfo)
page_kb=$(awk '/Hugepagesize/ {print $2}' /proc/meminfo)
if [ "${free_pages:-0}" -gt 0 ] && [ $((free_pages * page_kb / 1024)) -ge "$MEM_MB" ]; then
	EAL_MEM="--socket-mem $MEM_MB"
	log "hugepages: ${free_pages} free"
else
	EAL_MEM="--no-huge -m $MEM_MB"
	log "no (or too few) free hugepages: --no-huge -m $MEM_MB"
fi

APPL_MAC=02:00:00:00:01:01 APPL_IP=192.0.2.1
"$BIN/optroute-pcapgen" -o "$T/bench.pcap" -r "$ENTRIES:$SEED" -n "$FRAMES" \
	-b 10 -P "$PAYLOAD" -s 7 --dst-mac $APPL_MAC --dst-ip $APPL_IP
FRAME_BYTES=$((14 + 20 + 8 + 68 + PAYLOAD))
RXDEV="net_pcap0,rx_pcap=$T/bench.pcap,infinite_rx=1"
TXDEV="net_null0,no-rx=1"

# Rate of a counter over SECONDS_RUN: $1 = telemetry prefix, $2 = command,
# $3 = python expression on the reply r giving the counter.
rate() {
	python3 - "$TOOLS/optroute-telemetry.py" "$1" "$2" "$3" "$SECONDS_RUN" <<'EOF'
import json, subprocess, sys, time
tool, prefix, cmd, expr, secs = sys.argv[1:]
def read():
    out = subprocess.run([sys.executable, tool, "-p", prefix, cmd],
                         check=True, capture_output=True, text=True).stdout
    r = json.loads(out)[cmd.split(",")[0]]
    return time.monotonic(), eval(expr)
t0, c0 = read()
time.sleep(float(secs))
t1, c1 = read()
print(f"{(c1 - c0) / (t1 - t0) / 1e6:.3f}")
EOF
}

# ------------------------------------------------------------ optroute --
cat >"$T/dp.ini" <<EOF
[eal]
args = $EAL_MEM --no-pci --file-prefix=$PREFIX
[dataplane]
channel = $T/dp.sock
table_entries = $ENTRIES
mbufs = $MBUFS
pdump = no
[port client]
device = $RXDEV
workers = 1
ip = $APPL_IP
mac = $APPL_MAC
[port delivery]
device = $TXDEV
ip = 203.0.113.1
mac = 02:00:00:00:02:01
[nexthop 0]
port = delivery
mac = 02:00:00:00:02:05
ip = 203.0.113.5
EOF
"$BIN/optroute-dataplane" -c "$T/dp.ini" >"$T/dp.log" 2>&1 &
PID=$!
python3 "$TOOLS/optroute-telemetry.py" -w 60 -p "$PREFIX" /optroute/stats >/dev/null ||
	{ cat "$T/dp.log" >&2; exit 1; }

# Until the table is full, frames are dropped (sender not opted in); the
# worker runs meanwhile, on its own core.
t0=$(now)
timeout 1200 "$BIN/optroute-chanctl" -s "$T/dp.sock" -t 60000 -q random "$ENTRIES" "$SEED"
t1=$(now)
FILL=$(python3 -c "print(f'{$t1 - $t0:.2f}')")
log "filled $ENTRIES entries over the channel in ${FILL}s" \
	"($(python3 -c "print(f'{$ENTRIES / ($t1 - $t0) / 1e6:.2f}')") M entries/s)"
python3 "$TOOLS/optroute-telemetry.py" -p "$PREFIX" /optroute/table >&2

python3 "$TOOLS/optroute-telemetry.py" -p "$PREFIX" /optroute/clear >/dev/null
sleep 1 # warm-up
OR_MPPS=$(rate "$PREFIX" /optroute/stats 'r["rx"]')
python3 "$TOOLS/optroute-telemetry.py" -p "$PREFIX" /optroute/stats >"$T/stats.json"
kill -INT "$PID"
timeout 60 tail --pid="$PID" -f /dev/null
wait "$PID" || { cat "$T/dp.log" >&2; exit 1; }
PID=
python3 - "$T/stats.json" <<'EOF' >&2
import json, sys
s = json.load(open(sys.argv[1]))["/optroute/stats"]
d, b, x = s["delivered"], s["bounced"], s["dropped"]
print(f"optroute: rx {s['rx']} delivered {d} bounced {b} dropped {x} "
      f"(bounced {100 * b / max(1, d + b):.1f}%)")
if x > s["rx"] // 1000:
    sys.exit(f"unexpected drops: { {k: v for k, v in s.items() if k.startswith('drop_') and v} }")
EOF
log "optroute-dataplane: $OR_MPPS Mpps"

# ------------------------------------------------------------- testpmd --
dpdk-testpmd -l 0,1 $EAL_MEM --no-pci --file-prefix="${PREFIX}_tp" \
	--vdev="$RXDEV" --vdev="$TXDEV" -- --forward-mode=io --nb-cores=1 \
	--total-num-mbufs="$MBUFS" --stats-period=1000 -a </dev/null >"$T/tp.log" 2>&1 &
PID=$!
python3 "$TOOLS/optroute-telemetry.py" -w 60 -p "${PREFIX}_tp" /ethdev/stats,0 >/dev/null ||
	{ cat "$T/tp.log" >&2; exit 1; }
sleep 1
TP_MPPS=$(rate "${PREFIX}_tp" /ethdev/stats,0 'r["ipackets"]')
kill -INT "$PID"
timeout 30 tail --pid="$PID" -f /dev/null || kill -KILL "$PID"
wait "$PID" || true
PID=
log "dpdk-testpmd io: $TP_MPPS Mpps"

echo "{\"entries\":$ENTRIES,\"frame_bytes\":$FRAME_BYTES,\"workers\":1,\"optroute_mpps\":$OR_MPPS,\"testpmd_io_mpps\":$TP_MPPS,\"fill_seconds\":$FILL}"
