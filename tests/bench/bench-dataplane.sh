#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
#
# Dataplane throughput on one worker lcore, no NIC:
#   RX  net_pcap, infinite_rx=1, a pcap of FRAMES realistic MSGs (90%
#       deliverable, 10% bounced; senders and recipients drawn from the
#       ENTRIES in the table)
#   TX  net_null (delivered), net_pcap's own TX drop (bounces)
# The table is filled first over the real update channel
# (optroute-chanctl random: BATCH upserts), and the fill is timed.
# Protocol version 2 by default: every frame signed (pcapgen --auth-key),
# every tag verified and the bounce budget checked; beside it, the same
# build with `auth = no` on version-1 frames of the same mix (its own
# process and table), and for reference dpdk-testpmd io forwarding on the
# same vdevs and core, their windows alternating (windows() below).
# A looped pcap repeats its send times and tags, so the v2 process runs
# with `auth_time_checks = no` (no time window, no replay filter: those
# are measured on their own by `make bench-replay`), and with a budget too
# large to run out (checked on every MSG, never exhausted), so that both
# sides forward the same mix. AUTH=no skips the version-2 process.
#
#   make bench-dataplane ENTRIES=N SECONDS=S    (FRAMES=F PAYLOAD=B RUNS=R optional)
#
# PERF=FILE (optional) also records a perf profile of the worker's CPU
# (cpu-clock: works without a PMU, as in a VM) during the first window,
# and of the auth-off process's first window to FILE.off; read them with
# `perf report -i FILE --comm rte-worker-1` (other tasks may share the CPU). TESTPMD=no skips the reference run
# (for A/B runs of two optroute builds; its JSON then has no ratio).
#
# Each rate is the median of RUNS (3) windows of S seconds; "ratio" is the
# median of the RUNS ratios of a dataplane window to the testpmd window
# right after it.
#
# Last line: one JSON object
#   {"entries":..,"frame_bytes":..,"workers":1,"auth":"on",
#    "auth_time_checks":false,"optroute_mpps":..,"auth_off_mpps":..,
#    "auth_cost_ratio":..,"auth_cost_ratio_cpu":..,"testpmd_io_mpps":..,
#    "ratio":..,"fill_seconds":..,"runs":..}
# optroute_mpps is the version-2 process (auth on), auth_cost_ratio the
# median of its per-round ratios to the auth-off process, ratio the same
# against testpmd. With AUTH=no, optroute_mpps is the auth-off process.
# auth_cost_ratio_cpu is auth_cost_ratio from the worker threads' own CPU
# time a frame (/proc schedstat): on a host where other tasks take turns
# on the worker's CPU, it leaves their share out (null if unreadable).
set -euo pipefail
# shellcheck source=../integration/lib/common.sh
. "$(dirname "$0")/../integration/lib/common.sh"
or_trap_exit or_cleanup
TP_PID=
V1_PID=
OR_PIDVARS="TP_PID V1_PID DP_PID"
OR_RM=("/var/run/dpdk/${PREFIX}_tp" "/var/run/dpdk/${PREFIX}_v1")
AUTH=${AUTH:-yes}
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

# Hugepages when there are enough free ones (hugetlbfs mounted if it was
# not: deploy/dev/hugepages.sh), else plain memory.
MBUFS=$((FRAMES + 8192))
MEM_MB=$(( (MBUFS * 2560) / 1048576 + 256 ))
if huge_decide "$MEM_MB"; then
	EAL_MEM="--socket-mem $MEM_MB --huge-dir $HUGE_DIR"
else
	EAL_MEM="--no-huge -m $MEM_MB"
fi
or_log "EAL memory: $HUGE_WHY"

APPL_MAC=02:00:00:00:01:01 APPL_IP=192.0.2.1 # port client of or_ini_appliance
# The same mix in both versions; version 2 signed under a K_auth of epoch
# 0 made for this run.
KAUTH=$(python3 -c 'import os; print(os.urandom(16).hex())')
gen() { # gen OUT VERSION_OPTIONS...
	local out=$1
	shift
	"$BIN/optroute-pcapgen" -o "$out" -r "$ENTRIES:$SEED" -n "$FRAMES" \
		-b 10 -P "$PAYLOAD" -s 7 --dst-mac $APPL_MAC --dst-ip $APPL_IP "$@"
}
gen "$T/bench1.pcap" --v1
[ "$AUTH" = no ] || gen "$T/bench2.pcap" --auth-key "$KAUTH" --epoch 0
FRAME_BYTES=$((14 + 20 + 8 + 68 + PAYLOAD))
rxdev() { echo "net_pcap0,rx_pcap=$1,infinite_rx=1"; }
TXDEV="net_null0,no-rx=1"

# windows: RUNS rounds; in each, one window of SECONDS_RUN seconds per
# process, in the order given (optroute auth on, optroute auth off,
# testpmd): they share the worker CPU and the ones not measured are
# stopped (SIGSTOP), so all see the same minutes of a host whose speed
# drifts. Each window starts 1 s after its process resumes. Arguments:
# NAME:PID:PREFIX:COMMAND:COUNTER per process. Prints per process
# "median min max" and then, per process after the first, the median of
# the per-round ratios of the first to it.
windows() {
	python3 - "$TOOLS/optroute-telemetry.py" "$SECONDS_RUN" "$RUNS" \
		"${PERF:-}" "$@" <<'EOF'
import json, os, signal, statistics, subprocess, sys, time
tool, secs, runs, perf = sys.argv[1:5]
procs = [a.split(":") for a in sys.argv[5:]]
secs, runs = float(secs), int(runs)
def read(prefix, cmd):
    out = subprocess.run([sys.executable, tool, "-p", prefix, cmd],
                         check=True, capture_output=True, text=True).stdout
    return time.monotonic(), json.loads(out)[cmd.split(",")[0]]
# Mpps of counter key over one window; for a dataplane (a /optroute
# command), also the worker's busy ns a frame and its load (share of busy
# cycles) over it. The worker is lcore 1 (or_ini_appliance's "workers = 1").
# The worker thread's own CPU time (schedstat: ns on a CPU), so that a
# window in which other tasks took the worker's CPU still measures the
# worker's cost a frame.
def worker_cpu_ns(pid):
    for tid in os.listdir(f"/proc/{pid}/task"):
        try:
            with open(f"/proc/{pid}/task/{tid}/comm") as f:
                if f.read().strip() != "rte-worker-1":
                    continue
            with open(f"/proc/{pid}/task/{tid}/schedstat") as f:
                return int(f.read().split()[0])
        except OSError:
            continue
    return None
def window(pid, prefix, cmd, key, alone, perf_file=None):
    if not alone:
        os.kill(pid, signal.SIGCONT)
    time.sleep(1)
    rec = None
    if perf_file:
        rec = subprocess.Popen(["perf", "record", "-q", "-e", "cpu-clock", "-C", "1",
                                "-o", perf_file, "--", "sleep", str(secs)],
                               stdout=sys.stderr, stderr=sys.stderr)
    c0 = worker_cpu_ns(pid)
    t0, r0 = read(prefix, cmd)
    time.sleep(secs)
    t1, r1 = read(prefix, cmd)
    c1 = worker_cpu_ns(pid)
    if rec:
        rec.wait()
    if not alone:
        os.kill(pid, signal.SIGSTOP)
    d = {k: r1[k] - r0[k] for k in r1 if isinstance(r1[k], int)}
    mpps = d[key] / (t1 - t0) / 1e6
    if not cmd.startswith("/optroute/"):
        return mpps, "", None
    busy, idle = d["busy_cycles"], d["idle_cycles"]
    cpu = None if c0 is None or c1 is None else (c1 - c0) / max(1, d[key])
    return mpps, (f" (worker busy {1e9 * busy / r1['tsc_hz'] / max(1, d[key]):.1f}"
                  f" ns a frame, load {100 * busy / max(1, busy + idle):.1f}%"
                  + ("" if cpu is None else f", cpu {cpu:.1f} ns a frame")
                  + ")"), cpu
alone = len(procs) == 1
rates = [[] for _ in procs]
cpus = [[] for _ in procs]
for i in range(runs):
    line = f"round {i + 1}:"
    for k, (name, pid, prefix, cmd, key) in enumerate(procs):
        # The first round's window of the first process to PERF, of
        # the second (auth off) to PERF.off: the same minutes, compared.
        pf = None
        if perf and i == 0 and k < 2 and cmd.startswith("/optroute/"):
            pf = perf if k == 0 else perf + ".off"
        mpps, busy, cpu = window(int(pid), prefix, cmd, key, alone, pf)
        rates[k].append(mpps)
        cpus[k].append(cpu)
        line += f" {name} {mpps:.3f} Mpps{busy};"
    for k in range(1, len(procs)):
        line += f" ratio to {procs[k][0]} {rates[0][-1] / rates[k][-1]:.3f};"
    if len(procs) > 1 and None not in (cpus[0][-1], cpus[1][-1]):
        line += f" cpu ratio {cpus[1][-1] / cpus[0][-1]:.3f};"
    print("bench-dataplane: " + line, file=sys.stderr)
for _, pid, _, _, _ in procs:
    os.kill(int(pid), signal.SIGCONT)
for v in rates:
    print(f"{statistics.median(v):.3f} {min(v):.3f} {max(v):.3f}")
for k in range(1, len(procs)):
    print(f"{statistics.median(a / b for a, b in zip(rates[0], rates[k])):.3f}")
# The same ratio of the two dataplanes from their worker threads' CPU time
# a frame (median, min, max), or "null".
cr = [b / a for a, b in zip(cpus[0], cpus[1]) if a and b] if len(procs) > 1 else []
print(f"{statistics.median(cr):.3f} {min(cr):.3f} {max(cr):.3f}" if cr else "null")
EOF
}

# ------------------------------------------------------------ optroute --
# dp_ini PREFIX SOCK AUTH PCAP: one dataplane's configuration. The budget
# is checked on every MSG but too large to run out (see the top).
dp_ini() {
	printf '[eal]\nargs = %s --no-pci --file-prefix=%s\n' "$EAL_MEM" "$1"
	printf '[dataplane]\nchannel = %s\ntable_entries = %s\nauth = %s\n' \
		"$2" "$ENTRIES" "$3"
	printf 'mbufs = %s\npdump = no\nauth_time_checks = no\n' "$MBUFS"
	printf 'budget_burst = 1000000\nbudget_refill_per_hour = 3600000\n'
	# The table is filled by BATCHes (no resync): decide from the first
	# ACK on, or every frame would be dropped as not_synced.
	printf 'start_rx_after_sync = ack\n'
	or_ini_appliance "$(rxdev "$4")" "$TXDEV" 203.0.113
	# The entries of optroute-chanctl random are all for node 0.
	printf '[nexthop 0]\nport = delivery\nmac = %s\nip = 203.0.113.5\n' "$OR_NODE_MAC"
}

# fill SOCK: the table over the channel; prints the seconds it took. Until
# it is full, frames are dropped (sender not opted in).
fill() {
	local t0 t1
	t0=$(now)
	timeout 1200 "$BIN/optroute-chanctl" -s "$1" -t 60000 -q random "$ENTRIES" "$SEED"
	t1=$(now)
	python3 -c "print(f'{$t1 - $t0:.2f}')"
}

# The auth-off process (version 1 frames); stopped while the other fills.
dp_ini "${PREFIX}_v1" "$T/dp1.sock" no "$T/bench1.pcap" >"$T/dp1.ini"
"$BIN/optroute-dataplane" -c "$T/dp1.ini" >>"$T/dp1.log" 2>&1 &
V1_PID=$!
OR_LOGS+=("$T/dp1.log")
or_wait_sock "$T/dp1.sock" "$V1_PID" 120 || or_fail "auth-off dataplane did not start"
FILL=$(fill "$T/dp1.sock")
or_log "auth off: filled $ENTRIES entries over the channel in ${FILL}s"
# (telemetry must be read before a SIGSTOP: a stopped process answers none)
python3 "$TOOLS/optroute-telemetry.py" -p "${PREFIX}_v1" /optroute/clear >/dev/null

if [ "$AUTH" != no ]; then
	kill -STOP "$V1_PID"
	dp_ini "$PREFIX" "$T/dp.sock" yes "$T/bench2.pcap" >"$T/dp.ini"
	OR_DP_START_S=120 or_start_dp "$T/dp.ini"
	FILL=$(fill "$T/dp.sock")
	or_log "auth on: filled $ENTRIES entries over the channel in ${FILL}s" \
		"($(python3 -c "print(f'{$ENTRIES / $FILL / 1e6:.2f}')") M entries/s)"
	timeout 60 "$BIN/optroute-chanctl" -s "$T/dp.sock" -q auth-keys 0 "$KAUTH"
	or_telemetry /optroute/table /optroute/auth >&2
	or_telemetry /optroute/clear >/dev/null
	SIDES=("optroute:$DP_PID:$PREFIX:/optroute/workers,1:rx"
		"optroute_auth_off:$V1_PID:${PREFIX}_v1:/optroute/workers,1:rx")
	kill -STOP "$DP_PID"
else
	SIDES=("optroute:$V1_PID:${PREFIX}_v1:/optroute/workers,1:rx")
fi

if [ "${TESTPMD:-yes}" != no ]; then
	# testpmd starts while the dataplanes are stopped, and waits stopped
	# for its first window.
	kill -STOP "$V1_PID"
	dpdk-testpmd -l 0,1 $EAL_MEM --no-pci --file-prefix="${PREFIX}_tp" \
		--vdev="$(rxdev "$T/bench1.pcap")" --vdev="$TXDEV" -- \
		--forward-mode=io --nb-cores=1 \
		--total-num-mbufs="$MBUFS" --stats-period=1000 -a </dev/null >"$T/tp.log" 2>&1 &
	# shellcheck disable=SC2034 # (killed through OR_PIDVARS)
	TP_PID=$!
	python3 "$TOOLS/optroute-telemetry.py" -w 60 -p "${PREFIX}_tp" /ethdev/stats,0 >/dev/null ||
		{ cat "$T/tp.log" >&2; exit 1; }
	kill -STOP "$TP_PID"
	SIDES+=("testpmd_io:$TP_PID:${PREFIX}_tp:/ethdev/stats,0:ipackets")
fi
windows "${SIDES[@]}" >"$T/windows.txt"
mapfile -t W <"$T/windows.txt"
[ "${#W[@]}" -ge 1 ] && [ -n "${W[0]}" ] || or_fail "no rate measured (telemetry failed?)"
read -r OR_MPPS OR_MIN OR_MAX <<<"${W[0]}"
[ -n "$TP_PID" ] && OR_STOP_S=30 or_stop TP_PID INT || true

# No unexpected drops: a version-2 frame refused (bad tag, ...) or a
# sender missing would show here.
check_stats() { # check_stats PREFIX NAME
	python3 "$TOOLS/optroute-telemetry.py" -p "$1" /optroute/stats >"$T/stats.json"
	python3 - "$T/stats.json" "$2" <<'EOF' >&2
import json, sys
s = json.load(open(sys.argv[1]))["/optroute/stats"]
d, b, x = s["delivered"], s["bounced"], s["dropped"]
print(f"{sys.argv[2]}: rx {s['rx']} delivered {d} bounced {b} over_budget "
      f"{s['over_budget']} dropped {x} (bounced {100 * b / max(1, d + b):.1f}%)")
if x > s["rx"] // 1000 or s["over_budget"]:
    sys.exit(f"unexpected drops: { {k: v for k, v in s.items() if k.startswith('drop_') and v} }")
EOF
}
check_stats "${PREFIX}_v1" optroute_auth_off
OR_STOP_S=60 or_stop V1_PID INT || or_fail "auth-off dataplane exited $?"
if [ "$AUTH" != no ]; then
	check_stats "$PREFIX" optroute
	OR_STOP_S=60 or_stop DP_PID INT || or_fail "optroute-dataplane exited $?"
fi
or_log "optroute-dataplane ($([ "$AUTH" = no ] && echo "auth off" || echo "auth on")):" \
	"$OR_MPPS Mpps (median of $RUNS windows of ${SECONDS_RUN}s; $OR_MIN-$OR_MAX)"

# The last line.
json="{\"entries\":$ENTRIES,\"frame_bytes\":$FRAME_BYTES,\"workers\":1"
if [ "$AUTH" != no ]; then
	read -r OFF_MPPS OFF_MIN OFF_MAX <<<"${W[1]}"
	n=${#SIDES[@]}
	AUTH_RATIO=${W[$n]}
	or_log "auth off: $OFF_MPPS Mpps ($OFF_MIN-$OFF_MAX); auth_cost_ratio $AUTH_RATIO" \
		"(on / off, median of the $RUNS rounds)"
	json+=",\"auth\":\"on\",\"auth_time_checks\":false,\"optroute_mpps\":$OR_MPPS"
	json+=",\"auth_off_mpps\":$OFF_MPPS,\"auth_cost_ratio\":$AUTH_RATIO"
	read -r CPU_RATIO CPU_MIN CPU_MAX <<<"${W[$((2 * n - 1))]}"
	or_log "auth_cost_ratio_cpu $CPU_RATIO (${CPU_MIN:-?}-${CPU_MAX:-?}: the same from the" \
		"worker threads' CPU time a frame, other tasks' share of the CPU left out)"
	json+=",\"auth_cost_ratio_cpu\":$CPU_RATIO"
else
	json+=",\"auth\":\"off\",\"optroute_mpps\":$OR_MPPS"
fi
if [ "${TESTPMD:-yes}" != no ]; then
	n=${#SIDES[@]}
	read -r TP_MPPS TP_MIN TP_MAX <<<"${W[$((n - 1))]}"
	RATIO=${W[$((2 * n - 2))]}
	or_log "dpdk-testpmd io: $TP_MPPS Mpps ($TP_MIN-$TP_MAX); ratio optroute / testpmd io: $RATIO"
	json+=",\"testpmd_io_mpps\":$TP_MPPS,\"ratio\":$RATIO"
fi
echo "$json,\"fill_seconds\":$FILL,\"runs\":$RUNS}"
