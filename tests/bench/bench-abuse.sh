#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
#
# Import rate of optroute-control with and without abuse of its management
# socket (make bench-abuse). Method: docs/control.md ("Limits and abuse").
#
# One daemon (default limits: max_clients 64, line_timeout_ms 5000,
# idle_timeout_ms 300000), no dataplane. First WARMUP_CHANGES opt-ins
# (not counted): an empty store takes the first changes several times
# faster than the next ones. Then RUNS pairs of windows, alternating
# (quiet then abused, then abused then quiet, ...) so that the store's
# growth weighs on both alike. A window imports CHANGES new numbers with
# IMPORT_CLIENTS optroutectl imports at once (chunks of CHUNK lines, four
# in flight each), as the durable figure of bench-control does. In an
# abused window tests/tools/optroute-mgmt-abuse.py runs from ABUSE_WARMUP_S
# before the import to its end: ABUSE_RATE new connections a second (idle,
# half lines, dripped lines, oversized lines, random bytes, bad JSON
# floods), a burst of 100 at once, and ABUSE_NOREAD clients that pipeline
# requests and never read.
#
#  quiet_changes_per_s   median of the quiet windows
#  abuse_changes_per_s   median of the abused windows
#  ratio                 median over the pairs of abused / quiet, each pair
#                        two adjacent windows (target >= 0.8): the store
#                        grows and the host's load drifts between pairs,
#                        much less within one
#  pair_ratios           each pair's ratio
#
# Progress on stderr; the last line is one JSON object, with the abuse
# the daemon saw (its counter deltas over the abused windows).
set -euo pipefail
cd "$(dirname "$0")/../.."
BUILD=${BUILD:-build}
BIN=$BUILD/bin
RUNS=${RUNS:-5}
. tests/bench/bench_import.sh # CHANGES, CHUNK, IMPORT_CLIENTS
WARMUP_CHANGES=${WARMUP_CHANGES:-300000}
ABUSE_RATE=${ABUSE_RATE:-50}
ABUSE_NOREAD=${ABUSE_NOREAD:-4}
ABUSE_WARMUP_S=${ABUSE_WARMUP_S:-1}
T=$(mktemp -d /tmp/or-bench-abuse.XXXXXX)
CP_PID=
AB_PID=

cleanup() {
	for p in $AB_PID $CP_PID; do
		kill -KILL "$p" 2>/dev/null || true
		wait "$p" 2>/dev/null || true
	done
	rm -rf "$T"
}
. deploy/dev/trap.sh
or_trap_exit cleanup
log() { echo "bench-abuse: $*" >&2; }

python3 -c 'import os; print(os.urandom(32).hex())' >"$T/key"
chmod 600 "$T/key"
cat >"$T/cp.ini" <<EOF
[control]
mgmt_socket = $T/cp.sock
channel_socket = $T/no-dataplane.sock
store_path = $T/store
key_file = $T/key
EOF
export OPTROUTE_CONTROL_SOCKET=$T/cp.sock
CTL="$BIN/optroutectl"
"$BIN/optroute-control" -c "$T/cp.ini" >>"$T/cp.log" 2>&1 &
CP_PID=$!
for _ in $(seq 200); do
	"$CTL" version >/dev/null 2>&1 && break
	sleep 0.05
done
"$CTL" version >/dev/null || { cat "$T/cp.log" >&2; exit 1; }

# Numbers of window w, client j: $T/n.w.j, all distinct.
# Window "warm" is the warm-up (numbers after every window's).
python3 - "$((2 * RUNS))" "$CHANGES" "$IMPORT_CLIENTS" "$T/n" "$WARMUP_CHANGES" <<'EOF'
import sys
w, n, k, base = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
warm = int(sys.argv[5])
for win in range(w):
    fs = [open("%s.%d.%d" % (base, win, j), "w") for j in range(k)]
    for i in range(n):
        fs[i * k // n].write("+1%010d\n" % (win * n + i))
fs = [open("%s.warm.%d" % (base, j), "w") for j in range(k)]
for i in range(warm):
    fs[i * k // warm].write("+1%010d\n" % (w * n + i))
EOF

# import WINDOW [N]: imports window WINDOW's N (CHANGES) numbers; prints
# changes per second.
import_window() {
	local t0 t1
	bench_import "$T/n.$1" || return 1
	python3 -c "print(round(${2:-$CHANGES} / ($t1 - $t0)))"
}
control() { "$CTL" -j stats | python3 -c 'import json,sys; print(json.dumps(json.load(sys.stdin)["control"]))'; }

if [ "$WARMUP_CHANGES" -gt 0 ]; then
	log "warm-up: $(import_window warm "$WARMUP_CHANGES") changes/s ($WARMUP_CHANGES, not counted)"
fi
quiet=() abused=()
control >"$T/c0.json"
win=0
for r in $(seq 1 "$RUNS"); do
	if [ $((r % 2)) = 1 ]; then order="quiet abuse"; else order="abuse quiet"; fi
	for mode in $order; do
		if [ "$mode" = quiet ]; then
			rate=$(import_window "$win")
			quiet+=("$rate")
		else
			control >"$T/a.before.json"
			python3 tests/tools/optroute-mgmt-abuse.py -s "$T/cp.sock" \
				--rate "$ABUSE_RATE" --seconds 100000 --burst 100 \
				--burst-at 0.5 --noread "$ABUSE_NOREAD" \
				>"$T/abuse.$win.json" &
			AB_PID=$!
			sleep "$ABUSE_WARMUP_S"
			rate=$(import_window "$win")
			kill -TERM "$AB_PID"
			wait "$AB_PID" || true
			AB_PID=
			abused+=("$rate")
			control >"$T/a.after.json"
			python3 - "$T/a.before.json" "$T/a.after.json" "$T/abuse.$win.json" \
				>>"$T/abuse-deltas.jsonl" <<'EOF'
import json, sys
b, a, ab = (json.load(open(f)) for f in sys.argv[1:4])
d = {k: a[k] - b[k] for k in ("clients", "clients_too_many", "clients_evicted",
     "line_timeouts", "idle_timeouts", "clients_stalled", "clients_malformed",
     "lines_too_long", "malformed_requests")}
d["abuser_opened"] = ab["opened"]
print(json.dumps(d))
EOF
		fi
		log "window $win ($mode): $rate changes/s"
		win=$((win + 1))
	done
done
kill -TERM "$CP_PID"; wait "$CP_PID" || true; CP_PID=

python3 - "${quiet[*]}" "${abused[*]}" "$T/abuse-deltas.jsonl" "$CHANGES" \
	"$IMPORT_CLIENTS" "$ABUSE_RATE" "$ABUSE_NOREAD" <<'EOF'
import json, statistics, sys
q = [int(x) for x in sys.argv[1].split()]
a = [int(x) for x in sys.argv[2].split()]
tot = {}
for l in open(sys.argv[3]):
    for k, v in json.loads(l).items():
        tot[k] = tot.get(k, 0) + v
mq, ma = statistics.median(q), statistics.median(a)
# Run r's windows are its quiet one and its abused one, adjacent in time.
pairs = [round(x / y, 3) for x, y in zip(a, q)]
print("bench-abuse: quiet %s, abused %s changes/s; pair ratios %s; abuse "
      "over the abused windows: %s" % (q, a, pairs, tot), file=sys.stderr)
print(json.dumps({"quiet_changes_per_s": round(mq), "abuse_changes_per_s": round(ma),
                  "ratio": statistics.median(pairs), "pair_ratios": pairs,
                  "target_ratio": 0.8,
                  "runs": len(q), "changes_per_window": int(sys.argv[4]),
                  "import_clients": int(sys.argv[5]),
                  "abuse_rate_per_s": float(sys.argv[6]),
                  "abuse_noread": int(sys.argv[7]),
                  "quiet_runs": q, "abuse_runs": a, "abuse": tot}))
EOF
