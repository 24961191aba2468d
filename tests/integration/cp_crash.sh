#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
#
# Durability of optroute-control: kill -9 at random points during an import
# storm (opt-ins of new numbers and opt-outs of earlier ones, pipelined on
# several connections), restart, and check that
#  - every change the daemon acknowledged is in the store,
#  - every import request is all or nothing (one request is never split
#    over two transactions),
#  - the audit chain verifies and holds one entry per change.
# Rounds are bounded in number and time.
set -euo pipefail
# shellcheck source=lib/common.sh
. "$(dirname "$0")/lib/common.sh"
or_trap_exit or_cleanup
ROUNDS=${ROUNDS:-5}
STORM_PID=
OR_PIDVARS="STORM_PID $OR_PIDVARS"

or_key "$T/key"
or_ini_control "channel_socket = $T/no-dataplane.sock" >"$T/cp.ini"

cat >"$T/storm.py" <<'EOF'
# storm ROUND LOG: sends import requests until the daemon dies; logs each
#   request before sending ("sent") and each acknowledgement ("ack").
# verify LOG...: checks the store against every round's log.
import json, os, socket, sys, threading

SOCK = os.environ["OPTROUTE_CONTROL_SOCKET"]
CHUNK, WINDOW, CONNS, CHUNKS_PER_CONN = 100, 6, 3, 400

def numbers(rnd, conn, chunk):
    base = 15550000000 + rnd * 10**7 + conn * 10**6 + chunk * CHUNK
    return ["+%d" % (base + i) for i in range(CHUNK)]

def storm(rnd, logf):
    lock = threading.Lock()
    prev = []   # numbers acked as opted in by the previous round
    if rnd > 1:
        with open(logf.replace("round%d" % rnd, "round%d" % (rnd - 1))) as f:
            sent = {}
            for l in f:
                e = json.loads(l)
                if e["ev"] == "sent" and e["action"] == "optin":
                    sent[e["key"]] = e["lines"]
                elif e["ev"] == "ack" and e["key"] in sent:
                    prev.append(sent[e["key"]])
    log = open(logf, "w")
    def put(e):
        with lock:
            log.write(json.dumps(e) + "\n"); log.flush()
    def run(conn):
        s = socket.socket(socket.AF_UNIX); s.connect(SOCK)
        f = s.makefile("rb")
        inflight = 0
        try:
            for chunk in range(CHUNKS_PER_CONN):
                # every third request withdraws a chunk of the last round
                if chunk % 3 == 2 and prev:
                    with lock:
                        lines = prev.pop() if prev else None
                    action = "optout"
                else:
                    lines = None
                if lines is None:
                    lines, action = numbers(rnd, conn, chunk), "optin"
                key = "%d-%d-%d" % (rnd, conn, chunk)
                put({"ev": "sent", "key": key, "action": action, "lines": lines})
                s.sendall((json.dumps({"v": 1, "id": key, "cmd": "import",
                                       "action": action, "lines": lines}) + "\n").encode())
                inflight += 1
                while inflight >= WINDOW:
                    r = json.loads(f.readline())
                    inflight -= 1
                    assert r["ok"] and r["changes"] == CHUNK, r
                    put({"ev": "ack", "key": r["id"], "seq": r["seq"]})
            while inflight:
                r = json.loads(f.readline())
                inflight -= 1
                put({"ev": "ack", "key": r["id"], "seq": r["seq"]})
        except (OSError, ValueError):
            pass    # the daemon was killed
    ts = [threading.Thread(target=run, args=(c,)) for c in range(CONNS)]
    for t in ts: t.start()
    for t in ts: t.join()

def status_many(nums):
    s = socket.socket(socket.AF_UNIX); s.connect(SOCK)
    f = s.makefile("rb")
    out = {}
    for i in range(0, len(nums), 500):
        part = nums[i:i + 500]
        s.sendall(b"".join((json.dumps({"v": 1, "id": j, "cmd": "status", "number": n}) + "\n").encode()
                           for j, n in enumerate(part)))
        for _ in part:
            r = json.loads(f.readline())
            assert r["ok"], r
            out[part[r["id"]]] = r["state"]
    return out

def verify(logs):
    # Final expected state per number, replaying the rounds in order.
    reqs = []   # (key, action, lines, acked)
    for lf in logs:
        sent, acked = {}, set()
        for l in open(lf):
            e = json.loads(l)
            if e["ev"] == "sent":
                sent[e["key"]] = (e["action"], e["lines"])
            else:
                acked.add(e["key"])
        for k, (a, lines) in sent.items():
            reqs.append((k, a, lines, k in acked))
    allnums = sorted({n for _, _, lines, _ in reqs for n in lines})
    st = status_many(allnums)
    withdrawn = {tuple(lines) for _, a, lines, _ in reqs if a == "optout"}
    bad = 0
    n_acked = 0
    for k, a, lines, acked in reqs:
        states = {st[n] for n in lines}
        n_acked += acked
        # One request, one transaction: never partly applied.
        ok = len(states) == 1
        if ok and acked and a == "optout":
            ok = states == {"out"}
        elif ok and acked and tuple(lines) not in withdrawn:
            ok = states == {"in"}
        elif ok and acked:
            ok = states <= {"in", "out"}   # checked by its optout
        if not ok:
            bad += 1
            print("request", k, a, "acked" if acked else "unacked", "states", sorted(states))
    print("verified %d requests (%d acknowledged), %d numbers" % (len(reqs), n_acked, len(allnums)))
    sys.exit(1 if bad else 0)

if sys.argv[1] == "storm":
    storm(int(sys.argv[2]), sys.argv[3])
else:
    verify(sys.argv[2:])
EOF

logs=()
for r in $(seq 1 "$ROUNDS"); do
	or_start_cp "$T/cp.ini"
	python3 "$T/storm.py" storm "$r" "$T/round$r.log" &
	STORM_PID=$!
	# A random point in the storm: 0.2 .. 1.5 s.
	sleep "$(python3 -c 'import random; print(round(random.uniform(0.2, 1.5), 2))')"
	or_stop CP_PID KILL || true
	wait "$STORM_PID" || true; STORM_PID=
	logs+=("$T/round$r.log")
	acks=$(grep -c '"ack"' "$T/round$r.log" || true)
	sent=$(grep -c '"sent"' "$T/round$r.log" || true)
	echo "round $r: killed with $acks of $sent import requests acknowledged"

	or_start_cp "$T/cp.ini"
	python3 "$T/storm.py" verify "${logs[@]}"
	j=$("$BIN/optroutectl" -j audit --verify)
	s=$("$BIN/optroutectl" -j stats)
	python3 -c '
import json, sys
a, s = json.loads(sys.argv[1]), json.loads(sys.argv[2])
assert a["ok"] and a["verified"], a
assert a["entries"] == a["head_seq"] == s["store"]["last_seq"], (a, s["store"])
print("audit chain verified: %d entries" % a["entries"])' "$j" "$s"
	or_stop CP_PID || or_fail "optroute-control exited $?"
done
echo "cp_crash: ok"
