#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
#
# Dataplane throughput on one worker lcore, no NIC:
#   RX  net_pcap, infinite_rx=1, a pcap of FRAMES realistic MSGs (90%
#       deliverable, 10% bounced; senders and recipients drawn from the
#       ENTRIES in the table)
#   TX  net_null (delivered), net_pcap's own TX drop (bounces)
# The table is filled first over the real update channel
# (optroute-chanctl random: BATCH upserts), and the fill is timed. For
# reference, dpdk-testpmd io forwarding on the same vdevs and core, its
# windows alternating with the dataplane's (windows() below).
#
#   make bench-dataplane ENTRIES=N SECONDS=S    (FRAMES=F PAYLOAD=B RUNS=R optional)
#
# PERF=FILE (optional) also records a perf profile of the worker's CPU
# (cpu-clock: works without a PMU, as in a VM) during the first window;
# read it with `perf report -i FILE`. TESTPMD=no skips the reference run
# (for A/B runs of two optroute builds; its JSON then has no ratio).
#
# Each rate is the median of RUNS (3) windows of S seconds; "ratio" is the
# median of the RUNS ratios of a dataplane window to the testpmd window
# right after it.
#
# Last line: one JSON object
#   {"entries":..,"frame_bytes":..,"workers":1,"optroute_mpps":..,
#    "testpmd_io_mpps":..,"ratio":..,"fill_seconds":..,"runs":..}
set -euo pipefail
# shellcheck source=../integration/lib/common.sh
. "$(dirname "$0")/../integration/lib/common.sh"
or_trap_exit or_cleanup
TP_PID=
OR_PIDVARS="TP_PID DP_PID"
OR_RM=("/var/run/dpdk/${PREFIX}_tp")
ENTRIES=${ENTRIES:-10000000}
# SECONDS is also bash's seconds-since-start counter: read at once, and 0
# (nothing passed) means the default.
SECONDS_RUN=${SECONDS:-0}
[ "$SECONDS_RUN" -gt 0 ] || SECONDS_RUN=10
FRAMES=${FRAMES:-65536}
RUNS=${RUNS:-3}
PAYLOAD=${PAYLOAD:-64}
SEED=${SEED:-42}
now() { date +%s.%N; }

# Hugepages when there are enough free ones, else plain memory.
MBUFS=$((FRAMES + 8192))
MEM_MB=$(( (MBUFS * 2560) / 1048576 + 256 ))
free_pages=$(awk '/HugePages_Free/ {print $2}' /proc/meminfo)
page_kb=$(awk '/Hugepagesize/ {print $2}' /proc/meminfo)
if [ "${free_pages:-0}" -gt 0 ] && [ $((free_pages * page_kb / 1024)) -ge "$MEM_MB" ]; then
	EAL_MEM="--socket-mem $MEM_MB"
	or_log "hugepages: ${free_pages} free"
else
	EAL_MEM="--no-huge -m $MEM_MB"
	or_log "no (or too few) free hugepages: --no-huge -m $MEM_MB"
fi

APPL_MAC=02:00:00:00:01:01 APPL_IP=192.0.2.1 # port client of or_ini_appliance
"$BIN/optroute-pcapgen" -o "$T/bench.pcap" -r "$ENTRIES:$SEED" -n "$FRAMES" \
	-b 10 -P "$PAYLOAD" -s 7 --dst-mac $APPL_MAC --dst-ip $APPL_IP
FRAME_BYTES=$((14 + 20 + 8 + 68 + PAYLOAD))
RXDEV="net_pcap0,rx_pcap=$T/bench.pcap,infinite_rx=1"
TXDEV="net_null0,no-rx=1"

# windows: RUNS windows of SECONDS_RUN seconds of the dataplane's rx rate
# and, with testpmd, as many of testpmd's, alternating (optroute, testpmd,
# optroute, ...): the two processes share the worker CPU and the one not
# measured is stopped (SIGSTOP), so both see the same minutes of a host
# whose speed drifts. Each window starts 1 s after its process resumes.
# Prints "or_median or_min or_max" and, with testpmd, "tp_median tp_min
# tp_max ratio_median" (ratio: optroute over testpmd, per pair).
windows() {
	python3 - "$TOOLS/optroute-telemetry.py" "$SECONDS_RUN" "$RUNS" \
		"$PREFIX" "$DP_PID" "${PREFIX}_tp" "${TP_PID:-}" "${PERF:-}" <<'EOF'
import json, os, signal, statistics, subprocess, sys, time
tool, secs, runs, dp_prefix, dp_pid, tp_prefix, tp_pid, perf = sys.argv[1:]
secs, runs = float(secs), int(runs)
def read(prefix, cmd):
    out = subprocess.run([sys.executable, tool, "-p", prefix, cmd],
                         check=True, capture_output=True, text=True).stdout
    return time.monotonic(), json.loads(out)[cmd.split(",")[0]]
# Mpps of counter key over one window; with polls, also the worker's busy
# ns a frame and its load (share of busy cycles) over it. The worker is
# lcore 1 (or_ini_appliance's "workers = 1").
def window(pid, prefix, cmd, key, alone, perf_file=None, polls=False):
    if not alone:
        os.kill(pid, signal.SIGCONT)
    time.sleep(1)
    rec = None
    if perf_file:
        rec = subprocess.Popen(["perf", "record", "-q", "-e", "cpu-clock", "-C", "1",
                                "-o", perf_file, "--", "sleep", str(secs)],
                               stdout=sys.stderr, stderr=sys.stderr)
    t0, r0 = read(prefix, cmd)
    time.sleep(secs)
    t1, r1 = read(prefix, cmd)
    if rec:
        rec.wait()
    if not alone:
        os.kill(pid, signal.SIGSTOP)
    d = {k: r1[k] - r0[k] for k in r1 if isinstance(r1[k], int)}
    mpps = d[key] / (t1 - t0) / 1e6
    if not polls:
        return mpps, ""
    busy, idle = d["busy_cycles"], d["idle_cycles"]
    return mpps, (f" (worker busy {1e9 * busy / r1['tsc_hz'] / max(1, d[key]):.1f}"
                  f" ns a frame, load {100 * busy / max(1, busy + idle):.1f}%)")
dp = int(dp_pid)
tp = int(tp_pid) if tp_pid else None
o, t = [], []
for i in range(runs):
    mpps, busy = window(dp, dp_prefix, "/optroute/workers,1", "rx", tp is None,
                        perf if i == 0 else None, polls=True)
    o.append(mpps)
    line = f"window {i + 1}: optroute {o[-1]:.3f} Mpps{busy}"
    if tp is not None:
        t.append(window(tp, tp_prefix, "/ethdev/stats,0", "ipackets", False)[0])
        line += f", testpmd io {t[-1]:.3f} Mpps, ratio {o[-1] / t[-1]:.3f}"
    print("bench-dataplane: " + line, file=sys.stderr)
for pid in (dp, tp):
    if pid is not None:
        os.kill(pid, signal.SIGCONT)
f = lambda v: f"{statistics.median(v):.3f} {min(v):.3f} {max(v):.3f}"
print(f(o))
if t:
    print(f(t), f"{statistics.median(a / b for a, b in zip(o, t)):.3f}")
EOF
}

# ------------------------------------------------------------ optroute --
{
	printf '[eal]\nargs = %s --no-pci --file-prefix=%s\n' "$EAL_MEM" "$PREFIX"
	or_ini_dataplane "$ENTRIES" "mbufs = $MBUFS" "pdump = no"
	or_ini_appliance "$RXDEV" "$TXDEV" 203.0.113
	# The entries of optroute-chanctl random are all for node 0.
	printf '[nexthop 0]\nport = delivery\nmac = %s\nip = 203.0.113.5\n' "$OR_NODE_MAC"
} >"$T/dp.ini"
OR_DP_START_S=120 or_start_dp "$T/dp.ini"

# Until the table is full, frames are dropped (sender not opted in); the
# worker runs meanwhile, on its own core.
t0=$(now)
timeout 1200 "$BIN/optroute-chanctl" -s "$T/dp.sock" -t 60000 -q random "$ENTRIES" "$SEED"
t1=$(now)
FILL=$(python3 -c "print(f'{$t1 - $t0:.2f}')")
or_log "filled $ENTRIES entries over the channel in ${FILL}s" \
	"($(python3 -c "print(f'{$ENTRIES / ($t1 - $t0) / 1e6:.2f}')") M entries/s)"
or_telemetry /optroute/table >&2

or_telemetry /optroute/clear >/dev/null
if [ "${TESTPMD:-yes}" != no ]; then
	# testpmd starts while the dataplane is stopped, and waits stopped
	# for its first window.
	kill -STOP "$DP_PID"
	dpdk-testpmd -l 0,1 $EAL_MEM --no-pci --file-prefix="${PREFIX}_tp" \
		--vdev="$RXDEV" --vdev="$TXDEV" -- --forward-mode=io --nb-cores=1 \
		--total-num-mbufs="$MBUFS" --stats-period=1000 -a </dev/null >"$T/tp.log" 2>&1 &
	# shellcheck disable=SC2034 # (killed through OR_PIDVARS)
	TP_PID=$!
	python3 "$TOOLS/optroute-telemetry.py" -w 60 -p "${PREFIX}_tp" /ethdev/stats,0 >/dev/null ||
		{ cat "$T/tp.log" >&2; exit 1; }
	kill -STOP "$TP_PID"
fi
{
	read -r OR_MPPS OR_MIN OR_MAX
	read -r TP_MPPS TP_MIN TP_MAX RATIO || true
} < <(windows)
[ -n "${OR_MPPS:-}" ] || or_fail "no rate measured (telemetry failed?)"
if [ -n "$TP_PID" ]; then
	OR_STOP_S=30 or_stop TP_PID INT || true
fi
or_telemetry /optroute/stats >"$T/stats.json"
OR_STOP_S=60 or_stop DP_PID INT || or_fail "optroute-dataplane exited $?"
python3 - "$T/stats.json" <<'EOF' >&2
import json, sys
s = json.load(open(sys.argv[1]))["/optroute/stats"]
d, b, x = s["delivered"], s["bounced"], s["dropped"]
print(f"optroute: rx {s['rx']} delivered {d} bounced {b} dropped {x} "
      f"(bounced {100 * b / max(1, d + b):.1f}%)")
if x > s["rx"] // 1000:
    sys.exit(f"unexpected drops: { {k: v for k, v in s.items() if k.startswith('drop_') and v} }")
EOF
or_log "optroute-dataplane: $OR_MPPS Mpps (median of $RUNS windows of ${SECONDS_RUN}s; $OR_MIN-$OR_MAX)"

# The last line: result_json [FIELDS] (FIELDS after optroute_mpps).
result_json() {
	echo "{\"entries\":$ENTRIES,\"frame_bytes\":$FRAME_BYTES,\"workers\":1,\"optroute_mpps\":$OR_MPPS${1:-},\"fill_seconds\":$FILL,\"runs\":$RUNS}"
}

if [ -z "${TP_MPPS:-}" ]; then
	result_json
	exit 0
fi
or_log "dpdk-testpmd io: $TP_MPPS Mpps (median of $RUNS windows; $TP_MIN-$TP_MAX)"
or_log "ratio optroute / testpmd io: $RATIO (median of the $RUNS pairs)"
result_json ",\"testpmd_io_mpps\":$TP_MPPS,\"ratio\":$RATIO"
